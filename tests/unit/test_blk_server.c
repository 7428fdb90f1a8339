// SPDX-License-Identifier: MIT
/*
 * The block ring server (lib/class/blk_server*.c) against the NVMe driver on
 * the controller model (mock_nvme.c), bound with an event loop. The tests play
 * the client by hand: a sealed memfd laid out with vdf_blks_layout, rings made
 * with vdf_ring_init, eventfd doorbells, a HELLO over a SEQPACKET socketpair,
 * then descriptors written straight into the rings. Covered: the handshake
 * and its refusals, data round trips through the shared data area, every
 * per-request refusal and that later requests still work, doorbell batching,
 * rate limits, limits on requests in flight, draining before unmapping when the
 * peer leaves or the server stops, and corrupt rings ending only that session.
 */
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../drivers/nvme/nvme.h"
#include "../../drivers/nvme/nvme_driver.h"
#include "mock_nvme.h"
#include "vdf/blkproto.h"
#include "vdf/blkserver.h"
#include "vdf/blksession.h"
#include "vdf/driver.h"
#include "vdf/event.h"
#include "vdf/fdmsg.h"
#include "vdf/grant.h"
#include "vdf/log.h"
#include "vdf/ring.h"

#define GEN	   7u
#define NS1_BLOCKS 16384u
#define NS2_BLOCKS 2048u
#define MAX_XFER   (128u * 1024u) /* MDTS 5 */
#define DEPTH	   32u
#define DATA_SIZE  (1u << 20)

struct fixture {
	struct mock_nvme_config cfg;
	struct mock_nvme *m;
	struct vdf_dev *dev;
	struct vdf_event_loop *loop;
	struct nvme_opts opts;
	struct vdf_driver_ctx ctx;
	bool bound;
	struct nvme_ctrlr *c;
	struct vdf_block_dev *bdevs[MOCK_NVME_MAX_NS];
	unsigned nbdevs;
	struct vdf_blk_server_opts sopts;
	struct vdf_blk_server *srv;
	size_t mapped0; /* DMA bytes mapped by the driver alone */
	int fds0;	/* open fds before the test */
};

struct client {
	int sock, memfd, sqk, cqk;
	struct vdf_blks_hello h;
	uint8_t *region;
	struct vdf_ring sq, cq;
	uint8_t *data;
	struct vdf_blks_welcome w;
	uint64_t next_id;
};

static void test_log(int level, const char *component, const char *dev, const char *msg, void *ctx)
{
	(void)ctx;
	if (getenv("VDF_TEST_LOG"))
		fprintf(stderr, "<%d> %s %s: %s\n", level, component, dev ? dev : "-", msg);
}

static int group_setup(void **state)
{
	(void)state;
	vdf_log_set_sink(test_log, NULL);
	vdf_log_set_level(LOG_DEBUG);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	vdf_log_set_sink(NULL, NULL);
	vdf_log_set_level(LOG_INFO);
	return 0;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the DIR's own fd */
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	mock_nvme_config_default(&f->cfg);
	f->cfg.nn = 2;
	f->cfg.ns[0] = (struct mock_nvme_ns_config){.nsze = NS1_BLOCKS, .lbaf = MOCK_NVME_LBAF_512};
	f->cfg.ns[1] = (struct mock_nvme_ns_config){.nsze = NS2_BLOCKS, .lbaf = MOCK_NVME_LBAF_4K};
	nvme_opts_default(&f->opts);
	f->opts.io_queues = 1;
	f->opts.io_queue_depth = 64;
	f->opts.admin_timeout_ms = 300;
	f->opts.io_timeout_ms = 10000; /* the tests hold commands back on purpose */
	f->opts.polled = false;
	f->sopts.generation = GEN;
	f->fds0 = count_fds();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	vdf_blk_server_destroy(f->srv);
	if (f->bound) {
		assert_int_equal(vdf_dma_mapped_bytes(f->dev), f->mapped0);
		vdf_driver_unbind(&f->ctx);
	}
	vdf_event_loop_destroy(f->loop);
	mock_nvme_destroy(f->m);
	/* Every session's memfd mapping, eventfd and socket was released. */
	assert_int_equal(count_fds(), f->fds0);
	free(f);
	return 0;
}

/* Model, driver (MSI-X through the loop, or polled) and server from f->cfg,
 * f->opts and f->sopts. */
static void up(struct fixture *f)
{
	assert_int_equal(mock_nvme_create(&f->cfg, &f->m), 0);
	f->dev = mock_nvme_dev(f->m);
	assert_int_equal(vdf_event_loop_create(&f->loop), 0);
	assert_int_equal(vdf_driver_bind(&nvme_driver, f->dev, f->loop, &f->opts, &f->ctx), 0);
	f->bound = true;
	f->c = nvme_driver_ctrlr(&f->ctx);
	f->nbdevs = f->c->nns;
	for (unsigned i = 0; i < f->nbdevs; i++)
		f->bdevs[i] = &f->c->ns[i].bdev;
	f->mapped0 = vdf_dma_mapped_bytes(f->dev);
	assert_int_equal(
	    vdf_blk_server_create(f->bdevs, f->nbdevs, f->dev, f->loop, &f->sopts, &f->srv), 0);
}

static void run(struct fixture *f, unsigned iterations)
{
	for (unsigned i = 0; i < iterations; i++)
		assert_true(vdf_event_loop_run_once(f->loop, 1) >= 0);
}

static struct vdf_client_grant grant(uint32_t unit, uint32_t flags)
{
	static uint64_t next_id = 100;

	return (struct vdf_client_grant){
	    .client_id = next_id++, .uid = 1000, .unit = unit, .flags = flags};
}

static struct vdf_blk_session_info session0(struct fixture *f, unsigned *count)
{
	struct vdf_blk_session_info si[4];
	unsigned n = vdf_blk_server_sessions(f->srv, si, 4);

	if (count)
		*count = n;
	if (!n)
		memset(&si[0], 0, sizeof(si[0]));
	return si[0];
}

static unsigned nsessions(struct fixture *f)
{
	return vdf_blk_server_sessions(f->srv, NULL, 0);
}

/* Connect (add_client must return expect) and build the region; no HELLO yet. */
static void client_prepare_hello(struct fixture *f, struct client *c,
				 const struct vdf_client_grant *cg, const struct vdf_blks_hello *h,
				 int expect)
{
	int sv[2];

	memset(c, 0, sizeof(*c));
	c->next_id = 1;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	c->sock = sv[0];
	assert_int_equal(vdf_blk_server_add_client(f->srv, sv[1], cg), expect);
	c->h = *h;
	c->memfd = memfd_create("blk-client", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	assert_true(c->memfd >= 0);
	assert_int_equal(ftruncate(c->memfd, (off_t)h->region_size), 0);
	c->region = mmap(NULL, h->region_size, PROT_READ | PROT_WRITE, MAP_SHARED, c->memfd, 0);
	assert_true(c->region != MAP_FAILED);
	assert_int_equal(
	    vdf_ring_init(c->region + h->sq_off,
			  vdf_ring_layout_size(h->sq_capacity, sizeof(struct vdf_blk_req_wire)),
			  h->sq_capacity, sizeof(struct vdf_blk_req_wire), &c->sq),
	    0);
	assert_int_equal(
	    vdf_ring_init(c->region + h->cq_off,
			  vdf_ring_layout_size(h->cq_capacity, sizeof(struct vdf_blk_cpl_wire)),
			  h->cq_capacity, sizeof(struct vdf_blk_cpl_wire), &c->cq),
	    0);
	c->data = c->region + h->data_off;
	c->sqk = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	c->cqk = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_true(c->sqk >= 0 && c->cqk >= 0);
}

static void client_prepare_expect(struct fixture *f, struct client *c,
				  const struct vdf_client_grant *cg, uint32_t depth,
				  uint64_t data_size, int expect)
{
	struct vdf_blks_hello h;

	assert_int_equal(vdf_blks_layout(depth, data_size, &h), 0);
	client_prepare_hello(f, c, cg, &h, expect);
}

static void client_prepare(struct fixture *f, struct client *c, const struct vdf_client_grant *cg,
			   uint32_t depth, uint64_t data_size)
{
	client_prepare_expect(f, c, cg, depth, data_size, 0);
}

static void client_seal(struct client *c)
{
	assert_int_equal(fcntl(c->memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW), 0);
}

/* Run the loop until the socket has something (or EOF) for the client. */
static bool wait_readable(struct fixture *f, struct client *c, unsigned iterations)
{
	struct pollfd pfd = {.fd = c->sock, .events = POLLIN};

	for (unsigned i = 0; i < iterations; i++) {
		if (poll(&pfd, 1, 0) == 1)
			return true;
		run(f, 1);
	}
	return poll(&pfd, 1, 0) == 1;
}

/* The WELCOME's status, or the receive error. */
static int wait_welcome(struct fixture *f, struct client *c)
{
	int rc;

	assert_true(wait_readable(f, c, 200));
	rc = vdf_blks_recv_welcome(c->sock, &c->w, 0);
	return rc ? rc : c->w.status;
}

static int client_hello(struct fixture *f, struct client *c)
{
	int fds[VDF_BLKS_NFDS] = {c->memfd, c->sqk, c->cqk};

	assert_int_equal(vdf_blks_send_hello(c->sock, &c->h, fds), 0);
	return wait_welcome(f, c);
}

static void client_open(struct fixture *f, struct client *c, const struct vdf_client_grant *cg,
			uint32_t depth, uint64_t data_size)
{
	client_prepare(f, c, cg, depth, data_size);
	client_seal(c);
	assert_int_equal(client_hello(f, c), 0);
}

static void client_close(struct client *c)
{
	if (c->region && c->region != MAP_FAILED)
		munmap(c->region, c->h.region_size);
	c->region = NULL;
	for (int *fd = &c->sock; fd <= &c->cqk; fd++) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
	}
}

/* The server closed our session: EOF on the socket. */
static void assert_session_ended(struct fixture *f, struct client *c)
{
	struct vdf_blks_welcome w;

	assert_true(wait_readable(f, c, 200));
	assert_int_equal(vdf_blks_recv_welcome(c->sock, &w, 0), -EPIPE);
}

static struct vdf_blk_req_wire mkreq(struct client *c, enum vdf_block_op op, uint64_t lba,
				     uint32_t nblocks, uint64_t off)
{
	struct vdf_blk_req r = {
	    .id = c->next_id++,
	    .generation = c->w.generation,
	    .op = op,
	    .lba = lba,
	    .nblocks = nblocks,
	};
	struct vdf_blk_req_wire w;

	if (op == VDF_BLOCK_READ || op == VDF_BLOCK_WRITE) {
		r.buf_offset = off;
		r.buf_len = nblocks * c->w.block_size;
	}
	vdf_blkproto_encode_req(&r, &w);
	return w;
}

/* Produce descriptors with one commit; ring the doorbell if the server sleeps. */
static void submit_n(struct client *c, const struct vdf_blk_req_wire *w, unsigned n)
{
	uint32_t first;
	uint64_t one = 1;

	assert_int_equal(vdf_ring_reserve(&c->sq, n, &first), (int)n);
	for (unsigned i = 0; i < n; i++)
		memcpy(vdf_ring_slot(&c->sq, first + i), &w[i], sizeof(w[i]));
	if (vdf_ring_commit(&c->sq, n))
		assert_int_equal(write(c->sqk, &one, sizeof(one)), sizeof(one));
}

static unsigned wait_cpls(struct fixture *f, struct client *c, struct vdf_blk_cpl *out, unsigned n,
			  unsigned iterations)
{
	unsigned got = 0;

	for (unsigned i = 0; got < n && i < iterations; i++) {
		struct vdf_blk_cpl_wire w;

		while (got < n && vdf_ring_consume(&c->cq, &w) == 0) {
			assert_int_equal(vdf_blkproto_decode_cpl(&w, &out[got]), 0);
			got++;
		}
		if (got < n)
			run(f, 1);
	}
	return got;
}

/* Submit one descriptor and return its completion status. */
static int do_req(struct fixture *f, struct client *c, const struct vdf_blk_req_wire *w)
{
	struct vdf_blk_cpl cpl;

	submit_n(c, w, 1);
	assert_int_equal(wait_cpls(f, c, &cpl, 1, 500), 1);
	assert_int_equal(cpl.id, le64toh(w->id));
	assert_int_equal(cpl.generation, le32toh(w->generation));
	return cpl.status;
}

static int do_op(struct fixture *f, struct client *c, enum vdf_block_op op, uint64_t lba,
		 uint32_t nblocks, uint64_t off)
{
	struct vdf_blk_req_wire w = mkreq(c, op, lba, nblocks, off);

	return do_req(f, c, &w);
}

static void fill(void *p, size_t len, uint32_t seed)
{
	uint32_t *w = p;

	for (size_t i = 0; i < len / 4; i++)
		w[i] = seed * 2654435761u + (uint32_t)i;
}

/* ---- handshake ---------------------------------------------------------- */

static void test_welcome(void **state)
{
	struct fixture *f = *state;
	struct vdf_client_grant cg = grant(0, 0);
	struct vdf_blk_session_info si;
	struct vdf_blk_server_stats st;
	struct client c;
	unsigned n;

	up(f);
	client_open(f, &c, &cg, DEPTH, DATA_SIZE);
	assert_int_equal(c.w.generation, GEN);
	assert_int_equal(c.w.num_blocks, NS1_BLOCKS);
	assert_int_equal(c.w.block_size, 512);
	assert_int_equal(c.w.max_transfer, MAX_XFER);
	assert_int_equal(c.w.max_in_flight, DEPTH);
	assert_int_equal(c.w.flags, VDF_BLKS_F_VOLATILE_CACHE | VDF_BLKS_F_DISCARD |
					VDF_BLKS_F_WRITE_ZEROES | VDF_BLKS_F_DISCARD_ZEROES);
	assert_string_equal(c.w.model, MOCK_NVME_MODEL);
	assert_string_equal(c.w.serial, MOCK_NVME_SERIAL);
	/* The data area (only) is mapped for the device. */
	assert_int_equal(vdf_dma_mapped_bytes(f->dev), f->mapped0 + DATA_SIZE);
	si = session0(f, &n);
	assert_int_equal(n, 1);
	assert_true(si.active);
	assert_int_equal(si.client_id, cg.client_id);
	assert_int_equal(si.max_in_flight, DEPTH);
	assert_int_equal(si.data_size, DATA_SIZE);
	assert_false(si.polled);
	vdf_blk_server_get_stats(f->srv, &st);
	assert_int_equal(st.sessions_accepted, 1);
	assert_int_equal(st.sessions, 1);

	/* The second namespace is unit 1, read-only on request. */
	{
		struct vdf_client_grant cg2 = grant(1, VDF_CLIENT_F_READ_ONLY);
		struct client c2;

		client_open(f, &c2, &cg2, 8, 64 * 1024);
		assert_int_equal(c2.w.num_blocks, NS2_BLOCKS);
		assert_int_equal(c2.w.block_size, 4096);
		assert_true(c2.w.flags & VDF_BLKS_F_READ_ONLY);
		assert_int_equal(c2.w.max_in_flight, 8);
		assert_int_equal(c2.w.max_transfer, 64 * 1024); /* the data area's size */
		client_close(&c2);
	}
	client_close(&c);
	run(f, 20);
	assert_int_equal(nsessions(f), 0);
	assert_int_equal(vdf_dma_mapped_bytes(f->dev), f->mapped0);
	vdf_blk_server_get_stats(f->srv, &st);
	assert_int_equal(st.sessions_closed, 2);
}

static void expect_refusal(struct fixture *f, struct client *c, int status)
{
	assert_int_equal(wait_welcome(f, c), status);
	assert_session_ended(f, c);
	run(f, 5);
	assert_int_equal(nsessions(f), 0);
	assert_int_equal(vdf_dma_mapped_bytes(f->dev), f->mapped0);
	client_close(c);
}

static void test_bad_hello(void **state)
{
	struct fixture *f = *state;
	struct vdf_client_grant cg = grant(0, 0);
	uint8_t buf[VDF_BLKS_MSG_MAX];
	struct vdf_blk_server_stats st;
	struct vdf_blks_hello h;
	struct client c;
	uint64_t zero = 0;
	int len;

	up(f);
	/* Not sealed: the client could shrink it under the driver's mapping. */
	client_prepare(f, &c, &cg, DEPTH, DATA_SIZE);
	assert_int_equal(client_hello(f, &c), -EPERM);
	assert_session_ended(f, &c);
	client_close(&c);

	/* Sealed, but not the size the HELLO states. */
	client_prepare(f, &c, &cg, DEPTH, DATA_SIZE);
	assert_int_equal(ftruncate(c.memfd, (off_t)c.h.region_size + 4096), 0);
	client_seal(&c);
	assert_int_equal(client_hello(f, &c), -EINVAL);
	assert_session_ended(f, &c);
	client_close(&c);

	/* Overlapping ranges (the encoder refuses them: patch the bytes). */
	client_prepare(f, &c, &cg, DEPTH, DATA_SIZE);
	client_seal(&c);
	len = vdf_blks_encode_hello(&c.h, buf, sizeof(buf));
	assert_true(len > 0);
	memcpy(buf + 16 + 24, &zero, sizeof(zero)); /* cq_off = sq_off = 0 */
	{
		int fds[3] = {c.memfd, c.sqk, c.cqk};

		assert_int_equal(vdf_fdmsg_send(c.sock, buf, (size_t)len, fds, 3), 0);
	}
	expect_refusal(f, &c, -EBADMSG);

	/* Two fds instead of three. */
	client_prepare(f, &c, &cg, DEPTH, DATA_SIZE);
	client_seal(&c);
	len = vdf_blks_encode_hello(&c.h, buf, sizeof(buf));
	{
		int fds[2] = {c.memfd, c.sqk};

		assert_int_equal(vdf_fdmsg_send(c.sock, buf, (size_t)len, fds, 2), 0);
	}
	expect_refusal(f, &c, -EBADMSG);

	/* No fds at all, and something that is not a HELLO. */
	client_prepare(f, &c, &cg, DEPTH, DATA_SIZE);
	assert_int_equal(vdf_fdmsg_send(c.sock, "HELLO?", 6, NULL, 0), 0);
	expect_refusal(f, &c, -EBADMSG);

	/* A submission ring whose header disagrees with the HELLO. */
	client_prepare(f, &c, &cg, DEPTH, DATA_SIZE);
	assert_int_equal(vdf_ring_init(c.region + c.h.sq_off, 4096, DEPTH / 2,
				       sizeof(struct vdf_blk_req_wire), &c.sq),
			 0);
	client_seal(&c);
	assert_int_equal(client_hello(f, &c), -EINVAL);
	assert_session_ended(f, &c);
	client_close(&c);

	/* A completion ring that is no ring at all. */
	client_prepare(f, &c, &cg, DEPTH, DATA_SIZE);
	memset(c.region + c.h.cq_off, 0xa5, 64);
	client_seal(&c);
	assert_int_equal(client_hello(f, &c), -EINVAL);
	assert_session_ended(f, &c);
	client_close(&c);

	/* A client that never says HELLO... is handled by test_hello_timeout;
	 * one that leaves before it just goes. */
	client_prepare(f, &c, &cg, DEPTH, DATA_SIZE);
	client_close(&c);
	run(f, 5);
	assert_int_equal(nsessions(f), 0);

	vdf_blk_server_get_stats(f->srv, &st);
	assert_int_equal(st.sessions_refused, 7);
	assert_int_equal(st.sessions_accepted, 0);
	assert_int_equal(vdf_dma_mapped_bytes(f->dev), f->mapped0);

	/* The server is none the worse. */
	client_open(f, &c, &cg, DEPTH, DATA_SIZE);
	assert_int_equal(do_op(f, &c, VDF_BLOCK_FLUSH, 0, 0, 0), 0);
	client_close(&c);
	(void)h;
}

static void test_refused_at_add(void **state)
{
	struct fixture *f = *state;
	struct vdf_client_grant cg;
	struct client c[3];

	f->sopts.max_clients = 2;
	up(f);
	/* No such unit. */
	cg = grant(5, 0);
	client_prepare_expect(f, &c[0], &cg, DEPTH, DATA_SIZE, -ENODEV);
	expect_refusal(f, &c[0], -ENODEV);
	/* Unknown grant flags. */
	cg = grant(0, 0x80);
	client_prepare_expect(f, &c[0], &cg, DEPTH, DATA_SIZE, -EINVAL);
	expect_refusal(f, &c[0], -EINVAL);
	/* Sessions are limited. */
	cg = grant(0, 0);
	client_open(f, &c[0], &cg, DEPTH, DATA_SIZE);
	client_open(f, &c[1], &cg, DEPTH, DATA_SIZE);
	client_prepare_hello(f, &c[2], &cg, &c[0].h, -EBUSY);
	assert_int_equal(wait_welcome(f, &c[2]), -EBUSY);
	client_close(&c[2]);
	/* Both sessions serve at once. */
	fill(c[0].data, 4096, 1);
	fill(c[1].data, 4096, 2);
	assert_int_equal(do_op(f, &c[0], VDF_BLOCK_WRITE, 0, 8, 0), 0);
	assert_int_equal(do_op(f, &c[1], VDF_BLOCK_WRITE, 8, 8, 0), 0);
	assert_int_equal(do_op(f, &c[1], VDF_BLOCK_READ, 0, 8, 8192), 0);
	assert_memory_equal(c[1].data + 8192, c[0].data, 4096);
	client_close(&c[0]);
	client_close(&c[1]);
	run(f, 10);
	assert_int_equal(nsessions(f), 0);
	/* Bad arguments: sock is closed even so. */
	assert_int_equal(vdf_blk_server_add_client(f->srv, -1, &cg), -EINVAL);
	assert_int_equal(vdf_blk_server_add_client(NULL, eventfd(0, EFD_CLOEXEC), &cg), -EINVAL);
	assert_int_equal(vdf_blk_server_add_client(f->srv, eventfd(0, EFD_CLOEXEC), NULL), -EINVAL);
}

static void test_limits_at_hello(void **state)
{
	struct fixture *f = *state;
	struct vdf_client_grant cg = grant(0, 0);
	struct vdf_rights r;
	struct client c;

	f->sopts.max_data_size = DATA_SIZE;
	f->sopts.max_in_flight = 4;
	up(f);
	/* A data area above the server's per-client cap. */
	client_prepare(f, &c, &cg, DEPTH, 2 * DATA_SIZE);
	client_seal(&c);
	assert_int_equal(client_hello(f, &c), -ENOSPC);
	assert_session_ended(f, &c);
	client_close(&c);
	/* max_in_flight caps what the WELCOME offers. */
	client_open(f, &c, &cg, DEPTH, DATA_SIZE);
	assert_int_equal(c.w.max_in_flight, 4);
	client_close(&c);
	run(f, 5);
	/* The grant's DMA window is full: refused, nothing left mapped. */
	vdf_dev_rights(f->dev, &r);
	r.dma_window = vdf_dma_mapped_bytes(f->dev) + 4096;
	vdf_dev_restrict(f->dev, &r);
	client_prepare(f, &c, &cg, DEPTH, DATA_SIZE);
	client_seal(&c);
	assert_int_equal(client_hello(f, &c), -ENOSPC);
	assert_session_ended(f, &c);
	client_close(&c);
	run(f, 5);
	assert_int_equal(nsessions(f), 0);
}

static void test_hello_timeout(void **state)
{
	struct fixture *f = *state;
	struct vdf_client_grant cg = grant(0, 0);
	struct client c;

	f->sopts.hello_timeout_ms = 30;
	up(f);
	client_prepare(f, &c, &cg, DEPTH, DATA_SIZE);
	for (unsigned i = 0; i < 100 && !wait_readable(f, &c, 1); i++)
		assert_true(vdf_event_loop_run_once(f->loop, 10) >= 0);
	assert_int_equal(wait_welcome(f, &c), -ETIMEDOUT);
	assert_session_ended(f, &c);
	client_close(&c);
	run(f, 5);
	assert_int_equal(nsessions(f), 0);
}

/* ---- I/O ---------------------------------------------------------------- */

static void test_write_read_flush(void **state)
{
	struct fixture *f = *state;
	struct vdf_client_grant cg = grant(0, 0);
	struct vdf_blk_session_info si;
	struct vdf_blk_server_stats st;
	const uint8_t *media;
	struct client c;

	up(f);
	client_open(f, &c, &cg, DEPTH, DATA_SIZE);
	/* Zero-copy: the device reads the client's data area directly. */
	fill(c.data, 64 * 1024, 3);
	assert_int_equal(do_op(f, &c, VDF_BLOCK_WRITE, 100, 128, 0), 0);
	media = mock_nvme_ns_data(f->m, 1);
	assert_memory_equal(media + 100 * 512, c.data, 64 * 1024);
	/* ... and writes into it, at any 4-byte aligned offset. */
	memset(c.data + 65536, 0, 65536 + 8);
	assert_int_equal(do_op(f, &c, VDF_BLOCK_READ, 100, 128, 65536 + 4), 0);
	assert_memory_equal(c.data + 65536 + 4, c.data, 64 * 1024);
	/* A whole max transfer, at the end of the data area. */
	fill(c.data + DATA_SIZE - MAX_XFER, MAX_XFER, 4);
	assert_int_equal(do_op(f, &c, VDF_BLOCK_WRITE, NS1_BLOCKS - 256, 256, DATA_SIZE - MAX_XFER),
			 0);
	assert_memory_equal(media + (NS1_BLOCKS - 256) * 512, c.data + DATA_SIZE - MAX_XFER,
			    MAX_XFER);
	assert_int_equal(do_op(f, &c, VDF_BLOCK_FLUSH, 0, 0, 0), 0);
	/* FUA writes, write-zeroes and discard. */
	{
		struct vdf_blk_req_wire w = mkreq(&c, VDF_BLOCK_WRITE, 300, 8, 0);

		w.flags = VDF_BLKPROTO_F_FUA;
		assert_int_equal(do_req(f, &c, &w), 0);
	}
	assert_int_equal(do_op(f, &c, VDF_BLOCK_WRITE_ZEROES, 100, 8, 0), 0);
	assert_int_equal(do_op(f, &c, VDF_BLOCK_READ, 100, 16, 0), 0);
	for (unsigned i = 0; i < 8 * 512; i++)
		assert_int_equal(c.data[i], 0);
	assert_memory_equal(c.data + 4096, c.data + 65536 + 4 + 4096, 4096);
	assert_int_equal(do_op(f, &c, VDF_BLOCK_DISCARD, 200, 64, 0), 0);

	si = session0(f, NULL);
	assert_int_equal(si.io.requests, 8);
	assert_int_equal(si.io.completions, 8);
	assert_int_equal(si.io.ios, 8);
	assert_int_equal(si.io.bytes, 2 * 65536 + MAX_XFER + 4096 + 8192);
	assert_int_equal(si.io.invalid + si.io.dev_errors + si.io.submit_errors, 0);
	assert_int_equal(si.in_flight, 0);
	vdf_blk_server_get_stats(f->srv, &st);
	assert_int_equal(st.io.ios, 8);
	client_close(&c);
}

/* Many requests, one doorbell each way per batch. */
static void test_batching(void **state)
{
	struct fixture *f = *state;
	struct vdf_client_grant cg = grant(0, 0);
	struct vdf_blk_req_wire w[DEPTH];
	struct vdf_blk_cpl cpl[DEPTH];
	struct vdf_blk_session_info si;
	bool seen[DEPTH + 1] = {false};
	struct client c;
	uint64_t v = 0;

	up(f);
	client_open(f, &c, &cg, DEPTH, DATA_SIZE);
	for (unsigned i = 0; i < DEPTH; i++)
		w[i] = mkreq(&c, i % 2 ? VDF_BLOCK_READ : VDF_BLOCK_WRITE, i * 8, 8, i * 4096);
	/* The client sleeps on its completion doorbell. */
	assert_int_equal(vdf_ring_prepare_wait(&c.cq), 0);
	submit_n(&c, w, DEPTH);
	assert_int_equal(wait_cpls(f, &c, cpl, DEPTH, 500), DEPTH);
	for (unsigned i = 0; i < DEPTH; i++) {
		assert_int_equal(cpl[i].status, 0);
		assert_true(cpl[i].id >= 1 && cpl[i].id <= DEPTH && !seen[cpl[i].id]);
		seen[cpl[i].id] = true;
	}
	/* One kick for the whole lot (the client did not re-arm), one doorbell. */
	assert_int_equal(read(c.cqk, &v, sizeof(v)), sizeof(v));
	assert_int_equal(v, 1);
	si = session0(f, NULL);
	assert_int_equal(si.io.kicks, 1);
	assert_int_equal(si.io.doorbells, 1);
	/* Once the server sleeps, a client commit kicks it again (need-wakeup). */
	assert_int_equal(do_op(f, &c, VDF_BLOCK_FLUSH, 0, 0, 0), 0);
	si = session0(f, NULL);
	assert_int_equal(si.io.doorbells, 2);
	assert_int_equal(si.io.kicks, 1); /* the client polled, it asked for none */
	client_close(&c);
}

static void test_polled_client(void **state)
{
	struct fixture *f = *state;
	struct vdf_client_grant cg = grant(0, 0);
	struct vdf_blk_req_wire w[8];
	struct vdf_blk_cpl cpl[8];
	struct vdf_blk_session_info si;
	struct vdf_blks_hello h;
	struct client c;
	uint64_t v;

	up(f);
	assert_int_equal(vdf_blks_layout(16, DATA_SIZE, &h), 0);
	h.flags = VDF_BLKS_HELLO_F_POLLED;
	client_prepare_hello(f, &c, &cg, &h, 0);
	client_seal(&c);
	assert_int_equal(client_hello(f, &c), 0);
	for (unsigned i = 0; i < 8; i++)
		w[i] = mkreq(&c, VDF_BLOCK_READ, i, 1, i * 512);
	submit_n(&c, w, 8);
	assert_int_equal(wait_cpls(f, &c, cpl, 8, 500), 8);
	/* A busy-polling client never asks for a kick: no syscall towards it. */
	assert_int_equal(read(c.cqk, &v, sizeof(v)), -1);
	si = session0(f, NULL);
	assert_true(si.polled);
	assert_int_equal(si.io.kicks, 0);
	client_close(&c);
}

/* A polled device (no interrupts): the server polls it while it holds requests. */
static void test_polled_device(void **state)
{
	struct fixture *f = *state;
	struct vdf_client_grant cg = grant(0, 0);
	struct client c;

	f->opts.polled = true;
	up(f);
	assert_true(f->bdevs[0]->polled);
	client_open(f, &c, &cg, DEPTH, DATA_SIZE);
	fill(c.data, 8192, 9);
	assert_int_equal(do_op(f, &c, VDF_BLOCK_WRITE, 10, 16, 0), 0);
	assert_int_equal(do_op(f, &c, VDF_BLOCK_READ, 10, 16, 8192), 0);
	assert_memory_equal(c.data, c.data + 8192, 8192);
	client_close(&c);
}

struct bad_case {
	const char *what;
	int err;
};

static void test_malformed_requests(void **state)
{
	struct fixture *f = *state;
	struct vdf_client_grant cg = grant(0, 0), cg_ro = grant(0, VDF_CLIENT_F_READ_ONLY);
	struct vdf_blk_session_info si;
	struct vdf_heartbeat hb = {0};
	struct client c, ro;
	struct vdf_blk_req_wire w;
	unsigned bad = 0;

	up(f);
	client_open(f, &c, &cg, DEPTH, DATA_SIZE);
#define BAD(mod, e)                                     \
	do {                                            \
		w = mkreq(&c, VDF_BLOCK_READ, 0, 8, 0); \
		mod;                                    \
		assert_int_equal(do_req(f, &c, &w), e); \
		bad++;                                  \
	} while (0)
	BAD(w.reserved0 = 1, -EINVAL);
	BAD(w.reserved1 = htole32(1), -EINVAL);
	BAD(w.reserved2 = htole32(1), -EINVAL);
	BAD(w.flags = 0x80, -EINVAL);
	BAD(w.op = 0, -EOPNOTSUPP);
	BAD(w.op = 9, -EOPNOTSUPP);
	BAD(w.flags = VDF_BLKPROTO_F_FUA, -EINVAL);		 /* FUA on a read */
	BAD(w.lba = htole64(NS1_BLOCKS - 4), -ERANGE);		 /* past the end */
	BAD(w.lba = htole64(UINT64_MAX - 2), -ERANGE);		 /* wraps */
	BAD(w.nblocks = 0; w.buf_len = 0, -EINVAL);		 /* nothing */
	BAD(w.buf_offset = htole64(DATA_SIZE - 2048), -EFAULT);	 /* runs out of the area */
	BAD(w.buf_offset = htole64(UINT64_MAX - 1), -EINVAL);	 /* misaligned, wraps */
	BAD(w.buf_offset = htole64(UINT64_MAX - 4095), -EFAULT); /* wraps */
	BAD(w.buf_offset = htole64(2), -EINVAL);		 /* not 4-byte aligned */
	BAD(w.buf_len = htole32(4095), -EINVAL);		 /* not nblocks * 512 */
	BAD(w.nblocks = htole32(512); w.buf_len = htole32(262144), -EMSGSIZE);
	BAD(w.generation = htole32(GEN + 1), -ESTALE); /* an older driver's */
	BAD(w.op = VDF_BLKPROTO_OP_FLUSH; w.buf_len = 0; w.nblocks = 0;
	    w.lba = htole64(1), -EINVAL);
#undef BAD
	/* Refused requests never reached the device; the session goes on. */
	fill(c.data, 4096, 11);
	assert_int_equal(do_op(f, &c, VDF_BLOCK_WRITE, 40, 8, 0), 0);
	assert_int_equal(do_op(f, &c, VDF_BLOCK_READ, 40, 8, 4096), 0);
	assert_memory_equal(c.data, c.data + 4096, 4096);
	si = session0(f, NULL);
	assert_int_equal(si.io.invalid, bad);
	assert_int_equal(si.io.ios, 2);
	assert_int_equal(si.io.completions, bad + 2);

	/* A read-only session: writes, discard and write-zeroes get -EROFS. */
	client_open(f, &ro, &cg_ro, DEPTH, DATA_SIZE);
	assert_true(ro.w.flags & VDF_BLKS_F_READ_ONLY);
	assert_int_equal(do_op(f, &ro, VDF_BLOCK_WRITE, 40, 8, 0), -EROFS);
	assert_int_equal(do_op(f, &ro, VDF_BLOCK_WRITE_ZEROES, 40, 8, 0), -EROFS);
	assert_int_equal(do_op(f, &ro, VDF_BLOCK_DISCARD, 40, 8, 0), -EROFS);
	assert_int_equal(do_op(f, &ro, VDF_BLOCK_READ, 40, 8, 0), 0);
	assert_memory_equal(ro.data, c.data, 4096);
	assert_int_equal(do_op(f, &ro, VDF_BLOCK_FLUSH, 0, 0, 0), 0);

	/* The heartbeat counts what never reached the device. */
	vdf_blk_server_stats(f->srv, &hb);
	assert_int_equal(hb.errors, bad + 3);
	client_close(&ro);
	client_close(&c);
}

/* A media error completes the request with the device's errno. */
static void test_device_error(void **state)
{
	struct fixture *f = *state;
	struct vdf_client_grant cg = grant(0, 0);
	struct vdf_blk_session_info si;
	struct client c;

	up(f);
	client_open(f, &c, &cg, DEPTH, DATA_SIZE);
	mock_nvme_fail_next(f->m, -1, NVME_CMD_READ, 1, NVME_SCT_MEDIA, NVME_SC_READ_ERROR);
	assert_int_equal(do_op(f, &c, VDF_BLOCK_READ, 0, 8, 0), -EIO);
	assert_int_equal(do_op(f, &c, VDF_BLOCK_READ, 0, 8, 0), 0);
	si = session0(f, NULL);
	assert_int_equal(si.io.dev_errors, 1);
	assert_int_equal(si.io.ios, 1);
	client_close(&c);
}

static void test_rate_limit(void **state)
{
	struct fixture *f = *state;
	struct vdf_client_grant cg = grant(0, 0);
	struct vdf_blk_req_wire w[5];
	struct vdf_blk_cpl cpl[5];
	struct vdf_blk_session_info si;
	struct client c;
	uint64_t t0, elapsed;

	cg.ops_per_sec = 20; /* one every 50 ms */
	cg.ops_burst = 1;
	up(f);
	client_open(f, &c, &cg, DEPTH, DATA_SIZE);
	for (unsigned i = 0; i < 5; i++)
		w[i] = mkreq(&c, VDF_BLOCK_READ, i * 8, 8, i * 4096);
	t0 = vdf_now_ns();
	submit_n(&c, w, 5);
	assert_int_equal(wait_cpls(f, &c, cpl, 5, 2000), 5);
	elapsed = vdf_now_ns() - t0;
	/* Delayed, in order, never failed. */
	for (unsigned i = 0; i < 5; i++) {
		assert_int_equal(cpl[i].status, 0);
		assert_int_equal(cpl[i].id, i + 1);
	}
	assert_true(elapsed >= 180000000ull);
	si = session0(f, NULL);
	assert_true(si.io.rl_waits >= 4);
	assert_int_equal(si.io.invalid, 0);
	client_close(&c);

	/* A byte rate caps the max transfer at the burst, so every request fits. */
	cg = grant(0, 0);
	cg.bytes_per_sec = 1 << 20;
	cg.bytes_burst = 8192 + 100;
	client_open(f, &c, &cg, DEPTH, DATA_SIZE);
	assert_int_equal(c.w.max_transfer, 8192);
	assert_int_equal(do_op(f, &c, VDF_BLOCK_READ, 0, 16, 0), 0);
	assert_int_equal(do_op(f, &c, VDF_BLOCK_READ, 0, 32, 0), -EMSGSIZE);
	client_close(&c);
}

static void test_max_in_flight(void **state)
{
	struct fixture *f = *state;
	struct vdf_client_grant cg = grant(0, 0);
	struct vdf_blk_req_wire w[12];
	struct vdf_blk_cpl cpl[12];
	struct vdf_blk_session_info si;
	struct client c;

	f->sopts.max_in_flight = 4;
	up(f);
	client_open(f, &c, &cg, 16, DATA_SIZE);
	mock_nvme_set_stopped(f->m, true);
	for (unsigned i = 0; i < 12; i++)
		w[i] = mkreq(&c, VDF_BLOCK_READ, i, 1, i * 512);
	submit_n(&c, w, 12);
	run(f, 10);
	si = session0(f, NULL);
	assert_int_equal(si.in_flight, 4);
	assert_int_equal(si.io.requests, 4);
	assert_int_equal(vdf_ring_free(&c.sq), 8); /* the other 8 wait in the ring */
	mock_nvme_set_stopped(f->m, false);
	assert_int_equal(wait_cpls(f, &c, cpl, 12, 500), 12);
	for (unsigned i = 0; i < 12; i++)
		assert_int_equal(cpl[i].status, 0);
	client_close(&c);
}

/* A client with more requests out than its completion ring holds is served
 * at a polling pace, never overflowing the ring. */
static void test_cq_smaller_than_sq(void **state)
{
	struct fixture *f = *state;
	struct vdf_client_grant cg = grant(0, 0);
	struct vdf_blk_req_wire w[8];
	struct vdf_blk_cpl cpl[8];
	struct vdf_blks_hello h;
	struct client c;

	up(f);
	assert_int_equal(vdf_blks_layout(8, DATA_SIZE, &h), 0);
	h.cq_capacity = 2;
	client_prepare_hello(f, &c, &cg, &h, 0);
	client_seal(&c);
	assert_int_equal(client_hello(f, &c), 0);
	assert_int_equal(c.w.max_in_flight, 2);
	for (unsigned i = 0; i < 8; i++)
		w[i] = mkreq(&c, VDF_BLOCK_READ, i, 1, i * 512);
	submit_n(&c, w, 8);
	run(f, 20);
	assert_int_equal(vdf_ring_used(&c.cq), 2);
	assert_int_equal(session0(f, NULL).io.requests, 2);
	/* Consuming lets the rest through, without any doorbell. */
	for (unsigned i = 0; i < 8; i++) {
		assert_int_equal(wait_cpls(f, &c, &cpl[i], 1, 500), 1);
		assert_int_equal(cpl[i].status, 0);
		assert_true(vdf_ring_used(&c.cq) <= 2);
	}
	assert_true(session0(f, NULL).io.cq_full_waits >= 1);
	client_close(&c);
}

/* ---- teardown ----------------------------------------------------------- */

/* The client goes with requests on the device: the data area stays mapped
 * until they completed, then everything goes. */
static void test_peer_close_drains(void **state)
{
	struct fixture *f = *state;
	struct vdf_client_grant cg = grant(0, 0);
	struct vdf_blk_req_wire w[4];
	struct vdf_blk_session_info si;
	struct vdf_blk_server_stats st;
	struct mock_nvme_stats ms;
	struct client c;
	unsigned n;

	up(f);
	client_open(f, &c, &cg, DEPTH, DATA_SIZE);
	mock_nvme_set_stopped(f->m, true);
	for (unsigned i = 0; i < 4; i++)
		w[i] = mkreq(&c, VDF_BLOCK_READ, i * 64, 64, i * 32768);
	submit_n(&c, w, 4);
	run(f, 10);
	assert_int_equal(session0(f, NULL).in_flight, 4);
	/* The peer goes: our mapping of the region and the socket stay. */
	munmap(c.region, c.h.region_size);
	c.region = NULL;
	close(c.memfd);
	c.memfd = -1;
	shutdown(c.sock, SHUT_RDWR);
	run(f, 20);
	si = session0(f, &n);
	assert_int_equal(n, 1);
	assert_true(si.draining);
	assert_int_equal(si.in_flight, 4);
	assert_int_equal(vdf_dma_mapped_bytes(f->dev), f->mapped0 + DATA_SIZE);
	vdf_blk_server_get_stats(f->srv, &st);
	assert_int_equal(st.draining, 1);
	/* The device finishes (its DMA must still land in mapped memory). */
	mock_nvme_set_stopped(f->m, false);
	run(f, 20);
	assert_int_equal(nsessions(f), 0);
	assert_int_equal(vdf_dma_mapped_bytes(f->dev), f->mapped0);
	mock_nvme_get_stats(f->m, &ms);
	assert_int_equal(ms.xfer_errors, 0);
	client_close(&c);
}

/* Destroy with requests in flight: they finish first (polling/loop). */
static void test_destroy_in_flight(void **state)
{
	struct fixture *f = *state;
	struct vdf_client_grant cg = grant(0, 0);
	struct vdf_blk_req_wire w[4];
	struct mock_nvme_stats ms;
	struct client c;

	up(f);
	client_open(f, &c, &cg, DEPTH, DATA_SIZE);
	for (unsigned i = 0; i < 4; i++)
		w[i] = mkreq(&c, VDF_BLOCK_WRITE, i * 8, 8, i * 4096);
	submit_n(&c, w, 4);
	/* Not run: the doorbell is unread, nothing taken yet. Take them now. */
	run(f, 1);
	vdf_blk_server_destroy(f->srv);
	f->srv = NULL;
	assert_int_equal(vdf_dma_mapped_bytes(f->dev), f->mapped0);
	mock_nvme_get_stats(f->m, &ms);
	assert_int_equal(ms.xfer_errors, 0);
	/* The client sees its session end. */
	{
		struct vdf_blks_welcome wel;

		assert_int_equal(vdf_blks_recv_welcome(c.sock, &wel, 100), -EPIPE);
	}
	client_close(&c);
}

/* Destroy while the device holds requests past the drain timeout: the data
 * area stays mapped until the device lets go. */
static void test_destroy_orphans(void **state)
{
	struct fixture *f = *state;
	struct vdf_client_grant cg = grant(0, 0);
	struct vdf_blk_req_wire w[2];
	struct mock_nvme_stats ms;
	struct client c;

	f->sopts.drain_timeout_ms = 50;
	up(f);
	client_open(f, &c, &cg, DEPTH, DATA_SIZE);
	mock_nvme_set_stopped(f->m, true);
	w[0] = mkreq(&c, VDF_BLOCK_READ, 0, 8, 0);
	w[1] = mkreq(&c, VDF_BLOCK_WRITE, 8, 8, 4096);
	submit_n(&c, w, 2);
	run(f, 5);
	assert_int_equal(session0(f, NULL).in_flight, 2);
	vdf_blk_server_destroy(f->srv);
	f->srv = NULL;
	assert_int_equal(vdf_dma_mapped_bytes(f->dev), f->mapped0 + DATA_SIZE);
	mock_nvme_set_stopped(f->m, false);
	run(f, 10);
	assert_int_equal(vdf_dma_mapped_bytes(f->dev), f->mapped0);
	mock_nvme_get_stats(f->m, &ms);
	assert_int_equal(ms.xfer_errors, 0);
	client_close(&c);
}

static void test_second_hello(void **state)
{
	struct fixture *f = *state;
	struct vdf_client_grant cg = grant(0, 0);
	int fds[VDF_BLKS_NFDS];
	struct client c;

	up(f);
	client_open(f, &c, &cg, DEPTH, DATA_SIZE);
	fds[0] = c.memfd;
	fds[1] = c.sqk;
	fds[2] = c.cqk;
	assert_int_equal(vdf_blks_send_hello(c.sock, &c.h, fds), 0);
	assert_session_ended(f, &c);
	assert_int_equal(nsessions(f), 0);
	assert_int_equal(vdf_dma_mapped_bytes(f->dev), f->mapped0);
	client_close(&c);

	/* Any other datagram, too. */
	client_open(f, &c, &cg, DEPTH, DATA_SIZE);
	assert_int_equal(vdf_fdmsg_send(c.sock, "x", 1, NULL, 0), 0);
	assert_session_ended(f, &c);
	client_close(&c);
}

static void test_ring_corruption(void **state)
{
	struct fixture *f = *state;
	struct vdf_client_grant cg = grant(0, 0);
	struct vdf_blk_server_stats st;
	struct vdf_blk_req_wire w;
	struct client c;
	uint64_t one = 1;

	up(f);
	/* A producer index far beyond the consumer's. */
	client_open(f, &c, &cg, DEPTH, DATA_SIZE);
	__atomic_store_n(&c.sq.hdr->prod, c.sq.hdr->cons + DEPTH + 5, __ATOMIC_RELEASE);
	assert_int_equal(write(c.sqk, &one, sizeof(one)), sizeof(one));
	assert_session_ended(f, &c);
	client_close(&c);

	/* A completion ring whose consumer ran ahead of the producer. */
	client_open(f, &c, &cg, DEPTH, DATA_SIZE);
	__atomic_store_n(&c.cq.hdr->cons, 1000u, __ATOMIC_RELEASE);
	w = mkreq(&c, VDF_BLOCK_READ, 0, 1, 0);
	submit_n(&c, &w, 1);
	assert_session_ended(f, &c);
	client_close(&c);

	/* The same after the request went to the device: the completion has
	 * nowhere to go, the session drains and ends. */
	client_open(f, &c, &cg, DEPTH, DATA_SIZE);
	mock_nvme_set_stopped(f->m, true);
	w = mkreq(&c, VDF_BLOCK_READ, 0, 1, 0);
	submit_n(&c, &w, 1);
	run(f, 5);
	__atomic_store_n(&c.cq.hdr->cons, 77u, __ATOMIC_RELEASE);
	mock_nvme_set_stopped(f->m, false);
	assert_session_ended(f, &c);
	client_close(&c);

	run(f, 5);
	vdf_blk_server_get_stats(f->srv, &st);
	assert_int_equal(st.ring_errors, 3);
	assert_int_equal(st.sessions, 0);
	assert_int_equal(vdf_dma_mapped_bytes(f->dev), f->mapped0);
	/* Others carry on. */
	client_open(f, &c, &cg, DEPTH, DATA_SIZE);
	assert_int_equal(do_op(f, &c, VDF_BLOCK_READ, 0, 8, 0), 0);
	client_close(&c);
}

static void test_create_args(void **state)
{
	struct fixture *f = *state;
	struct vdf_blk_server *srv = NULL;

	up(f);
	assert_int_equal(vdf_blk_server_create(NULL, 1, f->dev, f->loop, NULL, &srv), -EINVAL);
	assert_int_equal(vdf_blk_server_create(f->bdevs, 0, f->dev, f->loop, NULL, &srv), -EINVAL);
	assert_int_equal(vdf_blk_server_create(f->bdevs, 1, NULL, f->loop, NULL, &srv), -EINVAL);
	assert_int_equal(vdf_blk_server_create(f->bdevs, 1, f->dev, NULL, NULL, &srv), -EINVAL);
	assert_int_equal(vdf_blk_server_create(f->bdevs, 1, f->dev, f->loop, NULL, &srv), 0);
	vdf_blk_server_destroy(srv);
	vdf_blk_server_destroy(NULL);
	vdf_blk_server_stats(NULL, NULL);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_welcome),	       T(test_bad_hello),
	    T(test_refused_at_add),    T(test_limits_at_hello),
	    T(test_hello_timeout),     T(test_write_read_flush),
	    T(test_batching),	       T(test_polled_client),
	    T(test_polled_device),     T(test_malformed_requests),
	    T(test_device_error),      T(test_rate_limit),
	    T(test_max_in_flight),     T(test_cq_smaller_than_sq),
	    T(test_peer_close_drains), T(test_destroy_in_flight),
	    T(test_destroy_orphans),   T(test_second_hello),
	    T(test_ring_corruption),   T(test_create_args),
	};

	return cmocka_run_group_tests_name("blk_server", tests, group_setup, group_teardown);
}
