// SPDX-License-Identifier: MIT
/*
 * Block client library (lib/client) against a fake vdfd and a fake driver
 * running on an event loop in a second thread: the real control server
 * brokers sessions ("open"), the fake driver speaks the real session protocol
 * and rings and serves from a RAM disk. It can be told to "crash" (drop the
 * session with requests unanswered and come back with a new generation), to
 * end a session without restarting, to send bogus completions, to fail
 * requests with -EIO, and to refuse the session.
 *
 * What must hold: data read back equals data written; each callback runs
 * exactly once; after a crash the client reconnects and replays exactly the
 * requests without completion, so no acknowledged write is lost; bounded
 * retries end in -EIO; bad requests fail before reaching the driver.
 */
#include <endian.h>
#include <errno.h>
#include <pthread.h>
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

#include "../../manager/ctl_server.h"
#include "vdf/blkproto.h"
#include "vdf/blksession.h"
#include "vdf/client.h"
#include "vdf/event.h"
#include "vdf/ring.h"

#define BS	 512u
#define NBLOCKS	 4096u
#define MAX_XFER (64u * 1024)

struct fake {
	pthread_t thread;
	struct vdf_event_loop *loop;
	struct vdf_ctl_server *srv;
	int stop_fd;
	char path[64];

	/* driver */
	uint8_t disk[NBLOCKS * BS];
	uint32_t generation;
	int sock, memfd, sq_kick, cq_kick;
	uint8_t *region;
	struct vdf_blks_hello hello;
	struct vdf_ring sq, cq;
	unsigned sessions;
	uint64_t served;

	/* behaviour, set by the test while the loop thread waits (see fake_call) */
	int crash_after; /* > 0: after taking this many more requests, crash */
	int drop_after;	 /* > 0: end the session (same generation) after this many */
	int eio_budget;	 /* fail this many requests with -EIO */
	bool bogus;	 /* send a completion for nothing before each real one */
	int refuse;	 /* WELCOME status for new sessions */
	bool hold;	 /* take requests but do not answer them */
	uint64_t writes_seen[NBLOCKS];
};

static struct fake *g;

static void session_end(struct fake *f, bool crash)
{
	if (f->sock < 0)
		return;
	(void)vdf_event_del_fd(f->loop, f->sock);
	if (f->sq_kick >= 0)
		(void)vdf_event_del_fd(f->loop, f->sq_kick);
	close(f->sock);
	if (f->sq_kick >= 0)
		close(f->sq_kick);
	if (f->cq_kick >= 0)
		close(f->cq_kick);
	if (f->memfd >= 0)
		close(f->memfd);
	if (f->region)
		munmap(f->region, f->hello.region_size);
	f->sock = f->sq_kick = f->cq_kick = f->memfd = -1;
	f->region = NULL;
	if (crash)
		f->generation++;
}

static void kick_cq(struct fake *f)
{
	uint64_t one = 1;

	(void)!write(f->cq_kick, &one, sizeof(one));
}

static void complete(struct fake *f, uint64_t id, uint32_t gen, int status)
{
	struct vdf_blk_cpl cpl = {.id = id, .generation = gen, .status = status};
	struct vdf_blk_cpl_wire w;
	uint32_t idx;

	vdf_blkproto_encode_cpl(&cpl, &w);
	assert_int_equal(vdf_ring_reserve(&f->cq, 1, &idx), 1);
	memcpy(vdf_ring_slot(&f->cq, idx), &w, sizeof(w));
	if (vdf_ring_commit(&f->cq, 1))
		kick_cq(f);
}

static int execute(struct fake *f, const struct vdf_blk_req *r)
{
	uint8_t *buf = f->region + f->hello.data_off + r->buf_offset;
	size_t off = (size_t)r->lba * BS, len = (size_t)r->nblocks * BS;

	switch (r->op) {
	case VDF_BLOCK_READ:
		memcpy(buf, f->disk + off, len);
		return 0;
	case VDF_BLOCK_WRITE:
		memcpy(f->disk + off, buf, len);
		f->writes_seen[r->lba]++;
		return 0;
	case VDF_BLOCK_WRITE_ZEROES:
	case VDF_BLOCK_DISCARD:
		memset(f->disk + off, 0, len);
		return 0;
	case VDF_BLOCK_FLUSH:
		return 0;
	}
	return -EINVAL;
}

static void on_sq(int fd, uint32_t events, void *arg)
{
	struct fake *f = arg;
	const struct vdf_blkproto_limits lim = {
	    .num_blocks = NBLOCKS,
	    .block_size = BS,
	    .max_transfer = MAX_XFER,
	    .data_size = f->hello.data_size,
	    .supports_discard = true,
	    .supports_write_zeroes = true,
	};
	uint64_t v;

	(void)events;
	(void)!read(fd, &v, sizeof(v));
	for (;;) {
		struct vdf_blk_req_wire w;
		struct vdf_blk_req r;
		int rc = vdf_ring_consume(&f->sq, &w);

		if (rc == -EAGAIN) {
			if (vdf_ring_prepare_wait(&f->sq) > 0)
				continue;
			return;
		}
		assert_int_equal(rc, 0);
		if (f->crash_after > 0 && --f->crash_after == 0) {
			session_end(f, true); /* dies with this one unanswered */
			return;
		}
		if (f->drop_after > 0 && --f->drop_after == 0) {
			session_end(f, false);
			return;
		}
		if (f->hold)
			continue;
		rc = vdf_blkproto_validate_req(&w, &lim, &r);
		if (!rc && r.generation != f->generation)
			rc = -ESTALE;
		if (!rc && f->eio_budget > 0) {
			f->eio_budget--;
			rc = -EIO;
		} else if (!rc) {
			rc = execute(f, &r);
		}
		if (f->bogus)
			complete(f, w.id ^ 0x5000, f->generation, 0);
		f->served++;
		complete(f, le64toh(w.id), f->generation, rc);
	}
}

static void on_session(int fd, uint32_t events, void *arg)
{
	struct fake *f = arg;
	struct vdf_blks_welcome wl = {0};
	int fds[VDF_BLKS_NFDS];
	int rc;

	(void)events;
	rc = vdf_blks_recv_hello(fd, &f->hello, fds, MSG_DONTWAIT);
	if (rc) {
		session_end(f, false); /* EOF or garbage: the client left */
		return;
	}
	f->memfd = fds[VDF_BLKS_FD_MEM];
	f->sq_kick = fds[VDF_BLKS_FD_SQ_KICK];
	f->cq_kick = fds[VDF_BLKS_FD_CQ_KICK];
	wl.status = f->refuse;
	if (!wl.status)
		wl.status = vdf_blks_check_memfd(f->memfd, f->hello.region_size);
	if (!wl.status) {
		f->region = mmap(NULL, f->hello.region_size, PROT_READ | PROT_WRITE, MAP_SHARED,
				 f->memfd, 0);
		assert_ptr_not_equal(f->region, MAP_FAILED);
		assert_int_equal(vdf_ring_attach(f->region + f->hello.sq_off,
						 f->hello.region_size - f->hello.sq_off, &f->sq),
				 0);
		assert_int_equal(vdf_ring_attach(f->region + f->hello.cq_off,
						 f->hello.region_size - f->hello.cq_off, &f->cq),
				 0);
		wl = (struct vdf_blks_welcome){
		    .generation = f->generation,
		    .num_blocks = NBLOCKS,
		    .block_size = BS,
		    .max_transfer = MAX_XFER,
		    .max_in_flight = 128,
		    .flags = VDF_BLKS_F_DISCARD | VDF_BLKS_F_WRITE_ZEROES,
		};
		strcpy(wl.model, "fake disk");
	}
	if (!wl.status) {
		/* armed before the WELCOME: the client's first commit kicks */
		assert_int_equal(vdf_ring_prepare_wait(&f->sq), 0);
		assert_int_equal(vdf_event_add_fd(f->loop, f->sq_kick, 0, on_sq, f), 0);
	}
	assert_int_equal(vdf_blks_send_welcome(fd, &wl), 0);
	if (wl.status) {
		session_end(f, false);
		return;
	}
	f->sessions++;
}

static int on_open(void *ctx, const struct vdf_ctl_request *req, const struct vdf_ctl_peer *peer,
		   json_object *data, char *err, size_t errlen)
{
	struct fake *f = ctx;
	struct vdf_ctl_pending *p;
	json_object *d;
	int sv[2];

	(void)peer;
	(void)data;
	if (strcmp(req->dev, "fake0")) {
		snprintf(err, errlen, "no device '%s'", req->dev);
		return -ENODEV;
	}
	session_end(f, false); /* one session at a time in this fake */
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	f->sock = sv[0];
	assert_int_equal(vdf_event_add_fd(f->loop, f->sock, 0, on_session, f), 0);
	p = vdf_ctl_defer(f->srv);
	assert_non_null(p);
	d = json_object_new_object();
	json_object_object_add(d, "generation", json_object_new_int64(f->generation));
	vdf_ctl_complete_fd(p, 0, d, NULL, sv[1]);
	json_object_put(d);
	return VDF_CTL_DEFERRED;
}

static void on_stop(int fd, uint32_t events, void *arg)
{
	uint64_t v;

	(void)events;
	(void)!read(fd, &v, sizeof(v));
	vdf_event_loop_stop(arg);
}

static void *loop_main(void *arg)
{
	struct fake *f = arg;

	(void)vdf_event_loop_run(f->loop);
	return NULL;
}

static int setup(void **state)
{
	static const struct vdf_ctl_handlers h = {.open = on_open};
	struct vdf_ctl_server_opts o = {.handlers = &h, .group = ""};
	struct fake *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->sock = f->memfd = f->sq_kick = f->cq_kick = -1;
	f->generation = 1;
	snprintf(f->path, sizeof(f->path), "/tmp/vdf-test-client-%d.sock", getpid());
	o.path = f->path;
	o.ctx = f;
	assert_int_equal(vdf_event_loop_create(&f->loop), 0);
	assert_int_equal(vdf_ctl_server_start(f->loop, &o, &f->srv), 0);
	f->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	assert_int_equal(vdf_event_add_fd(f->loop, f->stop_fd, 0, on_stop, f->loop), 0);
	assert_int_equal(pthread_create(&f->thread, NULL, loop_main, f), 0);
	g = f;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fake *f = *state;
	uint64_t one = 1;

	(void)!write(f->stop_fd, &one, sizeof(one));
	pthread_join(f->thread, NULL);
	session_end(f, false);
	vdf_ctl_server_stop(f->srv);
	close(f->stop_fd);
	vdf_event_loop_destroy(f->loop);
	free(f);
	return 0;
}

static struct vdf_client *open_client(struct fake *f, const struct vdf_client_opts *extra)
{
	struct vdf_client_opts o = {.socket = f->path,
				    .queue_depth = 32,
				    .data_size = 1u << 20,
				    .reconnect_timeout_ms = 5000};
	struct vdf_client *c = NULL;

	if (extra) {
		o.read_only = extra->read_only;
		o.polled = extra->polled;
	}
	assert_int_equal(vdf_client_open("fake0", &o, &c), 0);
	return c;
}

/* Behaviour changes are made between client calls: the loop thread only acts
 * when the client has sent something, so no lock is needed beyond this fence. */
static void fake_set(void (*fn)(struct fake *))
{
	fn(g);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static void fill(uint8_t *p, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 31 + i * 7 + (i >> 9));
}

static void test_open_info_rw(void **state)
{
	struct fake *f = *state;
	struct vdf_client *c = open_client(f, NULL);
	struct vdf_block_info in;
	uint8_t out[8 * BS], back[8 * BS];
	void *buf;

	vdf_client_info(c, &in);
	assert_int_equal(in.block_size, BS);
	assert_int_equal(in.num_blocks, NBLOCKS);
	assert_string_equal(in.model, "fake disk");
	/* buffer outside the data area: bounced */
	fill(out, sizeof(out), 1);
	assert_int_equal(vdf_client_write(c, 100, 8, out, false), 0);
	assert_int_equal(vdf_client_read(c, 100, 8, back), 0);
	assert_memory_equal(out, back, sizeof(out));
	assert_memory_equal(f->disk + 100 * BS, out, sizeof(out));
	/* zero-copy buffer in the data area */
	assert_int_equal(vdf_client_buf_alloc(c, 8 * BS, &buf), 0);
	fill(buf, 8 * BS, 2);
	assert_int_equal(vdf_client_write(c, 200, 8, buf, true), 0);
	memset(buf, 0, 8 * BS);
	assert_int_equal(vdf_client_read(c, 200, 8, buf), 0);
	fill(out, sizeof(out), 2);
	assert_memory_equal(buf, out, sizeof(out));
	assert_int_equal(vdf_client_flush(c), 0);
	assert_int_equal(vdf_client_write_zeroes(c, 200, 4), 0);
	assert_int_equal(vdf_client_discard(c, 204, 4), 0);
	assert_int_equal(vdf_client_read(c, 200, 8, back), 0);
	memset(out, 0, sizeof(out));
	assert_memory_equal(back, out, sizeof(out));
	/* larger than max_transfer: the sync helper splits it */
	{
		size_t len = 3 * MAX_XFER;
		uint8_t *big = malloc(len), *big2 = malloc(len);

		fill(big, len, 3);
		assert_int_equal(vdf_client_write(c, 1000, (uint32_t)(len / BS), big, false), 0);
		assert_int_equal(vdf_client_read(c, 1000, (uint32_t)(len / BS), big2), 0);
		assert_memory_equal(big, big2, len);
		free(big);
		free(big2);
	}
	vdf_client_buf_free(c, buf);
	vdf_client_close(c);
}

static void test_bad_requests(void **state)
{
	struct fake *f = *state;
	struct vdf_client *c = open_client(f, NULL);
	uint8_t local[BS];
	void *buf;
	struct vdf_client_req r = {.op = VDF_BLOCK_READ, .lba = 0, .nblocks = 1};
	uint64_t served = f->served;

	assert_int_equal(vdf_client_buf_alloc(c, 2 * MAX_XFER, &buf), 0);
	r.buf = local; /* async requests need the data area */
	assert_int_equal(vdf_client_submit(c, &r), -EFAULT);
	r.buf = (uint8_t *)buf + 1; /* misaligned */
	assert_int_equal(vdf_client_submit(c, &r), -EINVAL);
	r.buf = buf;
	r.lba = NBLOCKS; /* past the end */
	assert_int_equal(vdf_client_submit(c, &r), -ERANGE);
	r.lba = NBLOCKS - 1;
	r.nblocks = 2;
	assert_int_equal(vdf_client_submit(c, &r), -ERANGE);
	r.lba = 0;
	r.nblocks = 0;
	assert_int_equal(vdf_client_submit(c, &r), -EINVAL);
	r.nblocks = MAX_XFER / BS + 1;
	assert_int_equal(vdf_client_submit(c, &r), -EMSGSIZE);
	r.nblocks = 1;
	r.fua = true; /* FUA on a read */
	assert_int_equal(vdf_client_submit(c, &r), -EINVAL);
	r.fua = false;
	r.op = (enum vdf_block_op)99;
	assert_int_equal(vdf_client_submit(c, &r), -EINVAL);
	assert_int_equal(vdf_client_read(c, NBLOCKS, 1, local), -ERANGE);
	assert_int_equal(f->served, served); /* nothing reached the driver */
	/* the buffer allocator: exhaustion and reuse */
	{
		void *a, *b;
		size_t size;

		vdf_client_data(c, &size);
		assert_int_equal(vdf_client_buf_alloc(c, size, &a), -ENOMEM);
		assert_int_equal(vdf_client_buf_alloc(c, 4096, &a), 0);
		assert_int_equal(vdf_client_buf_alloc(c, 4096, &b), 0);
		assert_ptr_not_equal(a, b);
		vdf_client_buf_free(c, a);
		assert_int_equal(vdf_client_buf_alloc(c, 4096, &b), 0);
		assert_ptr_equal(a, b);
	}
	vdf_client_close(c);

	/* read-only open */
	{
		struct vdf_client_opts ro = {.read_only = true};

		c = open_client(f, &ro);
		fill(local, BS, 9);
		assert_int_equal(vdf_client_write(c, 0, 1, local, false), -EROFS);
		assert_int_equal(vdf_client_read(c, 0, 1, local), 0);
		vdf_client_close(c);
	}
}

static void set_refuse(struct fake *f)
{
	f->refuse = -EBUSY;
}

static void clear_refuse(struct fake *f)
{
	f->refuse = 0;
}

static void test_open_errors(void **state)
{
	struct fake *f = *state;
	struct vdf_client_opts o = {.socket = f->path};
	struct vdf_client *c = NULL;

	assert_int_equal(vdf_client_open("nodev", &o, &c), -EREMOTEIO);
	o.queue_depth = 3;
	assert_int_equal(vdf_client_open("fake0", &o, &c), -EINVAL);
	o.queue_depth = 0;
	o.data_size = 1000;
	assert_int_equal(vdf_client_open("fake0", &o, &c), -EINVAL);
	o.data_size = 0;
	o.socket = "/tmp/vdf-test-no-such.sock";
	assert_int_equal(vdf_client_open("fake0", &o, &c), -ENOENT);
	o.socket = f->path;
	fake_set(set_refuse);
	assert_int_equal(vdf_client_open("fake0", &o, &c), -EBUSY);
	fake_set(clear_refuse);
	assert_null(c);
}

struct tracker {
	unsigned calls;
	int status;
};

static void track(void *arg, int status)
{
	struct tracker *t = arg;

	t->calls++;
	t->status = status;
}

static void set_crash5(struct fake *f)
{
	f->crash_after = 5;
}

/* Crash with requests in flight: replayed under the new generation, every
 * callback once, every write on the disk. */
static void crash_run(struct fake *f, bool polled)
{
	struct vdf_client_opts po = {.polled = polled};
	struct vdf_client *c = open_client(f, &po);
	struct vdf_client_stats st;
	struct tracker t[16] = {0};
	struct vdf_client_req r[16];
	uint8_t *buf;
	uint32_t gen0 = f->generation;

	assert_int_equal(vdf_client_buf_alloc(c, 16 * BS, (void **)&buf), 0);
	for (int i = 0; i < 16; i++) {
		fill(buf + i * BS, BS, 100 + (uint32_t)i);
		r[i] = (struct vdf_client_req){.op = VDF_BLOCK_WRITE,
					       .lba = 300 + (uint64_t)i,
					       .nblocks = 1,
					       .buf = buf + i * BS,
					       .cb = track,
					       .cb_arg = &t[i]};
	}
	fake_set(set_crash5);
	assert_int_equal(vdf_client_submit_batch(c, r, 16), 16);
	for (int spins = 0; spins < 1000; spins++) {
		vdf_client_stats(c, &st);
		if (!st.in_flight)
			break;
		assert_true(vdf_client_wait(c, 100) >= 0);
	}
	vdf_client_stats(c, &st);
	assert_int_equal(st.in_flight, 0);
	assert_int_equal(st.reconnects, 1);
	assert_true(st.replayed >= 1);
	assert_int_equal(st.generation, gen0 + 1);
	for (int i = 0; i < 16; i++) {
		assert_int_equal(t[i].calls, 1);
		assert_int_equal(t[i].status, 0);
		assert_memory_equal(f->disk + (300 + i) * BS, buf + i * BS, BS);
	}
	vdf_client_buf_free(c, buf);
	vdf_client_close(c);
}

static void test_crash_replay(void **state)
{
	crash_run(*state, false);
}

static void set_crash1(struct fake *f)
{
	f->crash_after = 1;
}

/* A synchronous call waits without a timeout: the reconnect must arm the new
 * completion ring's doorbell, or the replayed request's completion would
 * never wake it. */
static void test_crash_during_sync_call(void **state)
{
	struct fake *f = *state;
	struct vdf_client *c = open_client(f, NULL);
	uint8_t o[BS], b[BS];

	fill(o, BS, 5);
	fake_set(set_crash1);
	assert_int_equal(vdf_client_write(c, 9, 1, o, false), 0);
	fake_set(set_crash1);
	assert_int_equal(vdf_client_read(c, 9, 1, b), 0);
	assert_memory_equal(o, b, BS);
	vdf_client_close(c);
}

static void test_crash_replay_polled(void **state)
{
	crash_run(*state, true);
}

static void set_drop3(struct fake *f)
{
	f->drop_after = 3;
}

/* The same driver ends the session (it would after finding the ring
 * corrupt, once its DMA is over): everything is replayed in a new session. */
static void test_session_drop_same_generation(void **state)
{
	struct fake *f = *state;
	struct vdf_client *c = open_client(f, NULL);
	struct tracker t[8] = {0};
	struct vdf_client_req r[8];
	struct vdf_client_stats st;
	uint8_t *buf;

	assert_int_equal(vdf_client_buf_alloc(c, 8 * BS, (void **)&buf), 0);
	for (int i = 0; i < 8; i++) {
		fill(f->disk + i * BS, BS, 50 + (uint32_t)i);
		r[i] = (struct vdf_client_req){.op = VDF_BLOCK_READ,
					       .lba = (uint64_t)i,
					       .nblocks = 1,
					       .buf = buf + i * BS,
					       .cb = track,
					       .cb_arg = &t[i]};
	}
	fake_set(set_drop3);
	assert_int_equal(vdf_client_submit_batch(c, r, 8), 8);
	do {
		assert_true(vdf_client_wait(c, 100) >= 0);
		vdf_client_stats(c, &st);
	} while (st.in_flight);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(t[i].calls, 1);
		assert_int_equal(t[i].status, 0);
		assert_memory_equal(buf + i * BS, f->disk + i * BS, BS);
	}
	assert_int_equal(st.reconnects, 1);
	assert_int_equal(st.generation, f->generation);
	vdf_client_close(c);
}

static void set_eio(struct fake *f)
{
	f->eio_budget = 3;
}

static void set_eio_many(struct fake *f)
{
	f->eio_budget = 100;
}

static void clear_eio(struct fake *f)
{
	f->eio_budget = 0;
}

/* -EIO is retried (5 times at most) and then reported. */
static void test_eio_retry_bounds(void **state)
{
	struct fake *f = *state;
	struct vdf_client *c = open_client(f, NULL);
	uint8_t b[BS];

	fake_set(set_eio);
	assert_int_equal(vdf_client_read(c, 1, 1, b), 0);
	fake_set(set_eio_many);
	assert_int_equal(vdf_client_read(c, 1, 1, b), -EIO);
	assert_int_equal(f->eio_budget, 100 - 1 - VDF_BLK_RETRY_EIO_MAX);
	fake_set(clear_eio);
	vdf_client_close(c);
}

static void set_bogus(struct fake *f)
{
	f->bogus = true;
}

static void clear_bogus(struct fake *f)
{
	f->bogus = false;
}

/* Completions for nothing are ignored; the real ones still count. */
static void test_bogus_completions(void **state)
{
	struct fake *f = *state;
	struct vdf_client *c = open_client(f, NULL);
	uint8_t b[BS], o[BS];

	fake_set(set_bogus);
	fill(o, BS, 77);
	assert_int_equal(vdf_client_write(c, 7, 1, o, false), 0);
	assert_int_equal(vdf_client_read(c, 7, 1, b), 0);
	assert_memory_equal(o, b, BS);
	fake_set(clear_bogus);
	vdf_client_close(c);
}

static void set_hold(struct fake *f)
{
	f->hold = true;
}

static void clear_hold(struct fake *f)
{
	f->hold = false;
}

/* The queue depth bounds requests in flight; close cancels what is left. */
static void test_queue_full_and_close(void **state)
{
	struct fake *f = *state;
	struct vdf_client_opts o = {.socket = f->path,
				    .queue_depth = 4,
				    .data_size = 1u << 20,
				    .reconnect_timeout_ms = 300};
	struct vdf_client *c;
	struct tracker t[5] = {0};
	uint8_t *buf;

	assert_int_equal(vdf_client_open("fake0", &o, &c), 0);
	assert_int_equal(vdf_client_buf_alloc(c, 5 * BS, (void **)&buf), 0);
	fake_set(set_hold);
	for (int i = 0; i < 5; i++) {
		struct vdf_client_req r = {.op = VDF_BLOCK_READ,
					   .lba = (uint64_t)i,
					   .nblocks = 1,
					   .buf = buf + i * BS,
					   .cb = track,
					   .cb_arg = &t[i]};

		assert_int_equal(vdf_client_submit(c, &r), i < 4 ? 0 : -EAGAIN);
	}
	assert_int_equal(vdf_client_wait(c, 50), 0); /* nothing comes back */
	vdf_client_close(c);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(t[i].calls, 1);
		assert_int_equal(t[i].status, -ECANCELED);
	}
	assert_int_equal(t[4].calls, 0);
	fake_set(clear_hold);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_open_info_rw, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_crash_replay, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_crash_replay_polled, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_crash_during_sync_call, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_session_drop_same_generation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_eio_retry_bounds, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bogus_completions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_queue_full_and_close, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
