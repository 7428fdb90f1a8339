// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the block ring server's request path on arbitrary
 * submission-ring contents, against the NVMe driver on the controller model.
 *
 * fuzz-link: tests/unit/mock_nvme.c
 *
 * Once per process: the model (two namespaces, 512- and 4096-byte blocks),
 * the driver (polled: no interrupts, the server polls it) and a server. Per
 * input: a fresh session through the real HELLO/WELCOME (read-only or not,
 * unit 0 or 1, by the first byte), then the input's 48-byte chunks are written
 * into the submission ring as descriptors; the second byte says which of them
 * get the right generation (else most would only ever meet -ESTALE), and
 * whether the client then corrupts its producer index.
 *
 * Properties beyond "no crash, no leak, no overread":
 *  - without corruption every descriptor gets exactly one completion, with
 *    its id and a status the client's decoder accepts;
 *  - a write on a read-only session never changes the media;
 *  - when the client leaves, the session ends and nothing of it stays
 *    mapped for DMA.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../unit/mock_nvme.h"
#include "../../drivers/nvme/nvme.h"
#include "../../drivers/nvme/nvme_driver.h"
#include "vdf/blkproto.h"
#include "vdf/blkserver.h"
#include "vdf/blksession.h"
#include "vdf/log.h"
#include "vdf/ring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define GEN	  5u
#define DEPTH	  16u
#define DATA_SIZE (64u * 1024u)

struct env {
	struct mock_nvme *m;
	struct vdf_event_loop *loop;
	struct vdf_driver_ctx ctx;
	struct vdf_block_dev *bdevs[2];
	struct vdf_blk_server *srv;
	size_t mapped0;
};

static void quiet(int level, const char *c, const char *d, const char *msg, void *ctx)
{
	(void)level;
	(void)c;
	(void)d;
	(void)msg;
	(void)ctx;
}

static struct env *env_get(void)
{
	static struct env e;
	static int ready;
	struct mock_nvme_config cfg;
	struct vdf_blk_server_opts so = {.generation = GEN};
	struct nvme_opts o;
	struct nvme_ctrlr *c;

	if (ready)
		return &e;
	vdf_log_set_sink(quiet, NULL);
	mock_nvme_config_default(&cfg);
	cfg.nn = 2;
	cfg.ns[0] = (struct mock_nvme_ns_config){.nsze = 4096, .lbaf = MOCK_NVME_LBAF_512};
	cfg.ns[1] = (struct mock_nvme_ns_config){.nsze = 512, .lbaf = MOCK_NVME_LBAF_4K};
	nvme_opts_default(&o);
	o.io_queues = 1;
	o.io_queue_depth = 32;
	o.polled = true;
	if (mock_nvme_create(&cfg, &e.m) || vdf_event_loop_create(&e.loop) ||
	    vdf_driver_bind(&nvme_driver, mock_nvme_dev(e.m), e.loop, &o, &e.ctx))
		abort();
	c = nvme_driver_ctrlr(&e.ctx);
	e.bdevs[0] = &c->ns[0].bdev;
	e.bdevs[1] = &c->ns[1].bdev;
	e.mapped0 = vdf_dma_mapped_bytes(mock_nvme_dev(e.m));
	if (vdf_blk_server_create(e.bdevs, 2, mock_nvme_dev(e.m), e.loop, &so, &e.srv))
		abort();
	ready = 1;
	return &e;
}

static void run(struct env *e, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		(void)vdf_event_loop_run_once(e->loop, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct env *e = env_get();
	struct vdf_client_grant cg = {.client_id = 1};
	struct vdf_blks_welcome w;
	struct vdf_blks_hello h;
	struct vdf_ring sq, cq;
	uint8_t *region, *media, *before = NULL;
	size_t media_len;
	unsigned n, got = 0;
	uint32_t first;
	uint16_t gen_mask;
	bool corrupt, ro;
	int sv[2], fds[3];
	uint64_t one = 1;

	if (size < 3)
		return 0;
	ro = data[0] & 1;
	cg.unit = (data[0] >> 1) & 1;
	cg.flags = ro ? VDF_CLIENT_F_READ_ONLY : 0;
	corrupt = (data[1] & 0x80) && (data[2] & 1);
	gen_mask = (uint16_t)(data[1] | data[2] << 8);
	data += 3;
	size -= 3;
	n = (unsigned)VDF_MIN(size / sizeof(struct vdf_blk_req_wire), DEPTH);

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		abort();
	if (vdf_blk_server_add_client(e->srv, sv[1], &cg))
		abort();
	if (vdf_blks_layout(DEPTH, DATA_SIZE, &h))
		abort();
	fds[0] = memfd_create("fuzz", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	fds[1] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	fds[2] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (fds[0] < 0 || fds[1] < 0 || fds[2] < 0 || ftruncate(fds[0], (off_t)h.region_size))
		abort();
	region = mmap(NULL, h.region_size, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0], 0);
	if (region == MAP_FAILED ||
	    vdf_ring_init(region + h.sq_off, vdf_ring_layout_size(DEPTH, 48), DEPTH, 48, &sq) ||
	    vdf_ring_init(region + h.cq_off, vdf_ring_layout_size(DEPTH, 16), DEPTH, 16, &cq) ||
	    fcntl(fds[0], F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) ||
	    vdf_blks_send_hello(sv[0], &h, fds))
		abort();
	for (unsigned i = 0; i < 50; i++) {
		struct pollfd p = {.fd = sv[0], .events = POLLIN};

		if (poll(&p, 1, 0) == 1)
			break;
		run(e, 1);
	}
	if (vdf_blks_recv_welcome(sv[0], &w, 0) || w.status || w.generation != GEN)
		abort();
	media = mock_nvme_ns_data(e->m, cg.unit + 1);
	media_len = (size_t)w.num_blocks * w.block_size;
	if (ro) {
		before = malloc(media_len);
		if (!before)
			abort();
		memcpy(before, media, media_len);
	}
	memset(region + h.data_off, 0x3c, DATA_SIZE);

	if (vdf_ring_reserve(&sq, n, &first) != (int)n)
		abort();
	for (unsigned i = 0; i < n; i++) {
		struct vdf_blk_req_wire *d = vdf_ring_slot(&sq, first + i);

		memcpy(d, data + i * sizeof(*d), sizeof(*d));
		d->id = htole64(i);
		if (gen_mask & (1u << i))
			d->generation = htole32(GEN);
	}
	if (vdf_ring_commit(&sq, n) && write(fds[1], &one, sizeof(one)) != sizeof(one))
		abort();
	if (corrupt) {
		__atomic_store_n(&sq.hdr->prod, sq.hdr->prod + DEPTH + 1, __ATOMIC_RELEASE);
		if (write(fds[1], &one, sizeof(one)) != sizeof(one))
			abort();
	}
	for (unsigned iter = 0; iter < 200 && (corrupt || got < n); iter++) {
		struct vdf_blk_cpl_wire cw;
		struct vdf_blk_cpl cpl;

		run(e, 1);
		while (vdf_ring_consume(&cq, &cw) == 0) {
			if (vdf_blkproto_decode_cpl(&cw, &cpl) || cpl.id >= n)
				abort();
			got++;
		}
		if (corrupt && iter > 20)
			break;
	}
	if (!corrupt && got != n)
		abort();
	if (ro && memcmp(before, media, media_len))
		abort();
	free(before);

	/* The client leaves; the session drains and unmaps. */
	munmap(region, h.region_size);
	close(sv[0]);
	for (unsigned i = 0; i < 3; i++)
		close(fds[i]);
	for (unsigned i = 0; i < 100 && vdf_blk_server_sessions(e->srv, NULL, 0); i++)
		run(e, 1);
	if (vdf_blk_server_sessions(e->srv, NULL, 0) ||
	    vdf_dma_mapped_bytes(mock_nvme_dev(e->m)) != e->mapped0)
		abort();
	return 0;
}
