// SPDX-License-Identifier: MIT
/*
 * The block class on an NVMe namespace (drivers/nvme/nvme_io.c) through the
 * vdf_block_* helpers, against the controller model in mock_nvme.c: data
 * round trips, splitting at MDTS and at the 16-bit block count, discard and
 * write zeroes, request validation, device-side errors, statistics, and the
 * whole driver bound with interrupts delivered through an event loop.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../drivers/nvme/nvme.h"
#include "../../drivers/nvme/nvme_driver.h"
#include "mock_nvme.h"
#include "vdf/block.h"
#include "vdf/dma.h"
#include "vdf/driver.h"
#include "vdf/event.h"
#include "vdf/hw/pci.h"
#include "vdf/irq.h"
#include "vdf/log.h"

#define BUF_SIZE   (4u * 1024u * 1024u)
#define HALF	   (BUF_SIZE / 2u)
#define NS1_BLOCKS 16384u
#define NS2_BLOCKS 2048u
#define MAX_XFER   (128u * 1024u) /* MDTS 5 */

/* What the model was asked to do, command by command. */
struct io_log {
	unsigned n;
	struct io_entry {
		uint16_t qid;
		uint8_t opc;
		uint32_t nsid;
		uint64_t slba;
		uint32_t nlb; /* 1-based */
		uint32_t cdw11, cdw12;
		struct nvme_dsm_range range0; /* DSM: the first range */
	} e[512];
	/* Turn the n-th (1-based) I/O command into a media error; 0 = never. */
	unsigned fail_nth;
	unsigned seen;
};

struct fixture {
	struct mock_nvme_config cfg;
	struct mock_nvme *m;
	struct vdf_dev *dev;
	struct nvme_opts opts;
	struct nvme_ctrlr c;
	struct vdf_block_dev *bdev;
	struct vdf_dma_buf *buf;
	uint8_t *wr, *rd; /* the two halves of buf */
	struct io_log log;
};

static void test_log(int level, const char *component, const char *dev, const char *msg, void *ctx)
{
	(void)ctx;
	if (getenv("VDF_TEST_LOG"))
		fprintf(stderr, "<%d> %s %s: %s\n", level, component, dev, msg);
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

static void log_io(struct mock_nvme *m, uint16_t qid, const struct nvme_cmd *cmd, void *ctx)
{
	struct io_log *l = ctx;
	struct io_entry *e;

	if (!qid)
		return;
	if (l->fail_nth && ++l->seen == l->fail_nth)
		mock_nvme_fail_next(m, qid, -1, 1, NVME_SCT_MEDIA, NVME_SC_WRITE_FAULT);
	if (l->n == VDF_ARRAY_SIZE(l->e))
		return;
	e = &l->e[l->n++];
	memset(e, 0, sizeof(*e));
	e->qid = qid;
	e->opc = (uint8_t)FIELD_GET(NVME_CMD_OPC, cmd->cdw0);
	e->nsid = cmd->nsid;
	e->slba = cmd->cdw10 | (uint64_t)cmd->cdw11 << 32;
	e->nlb = FIELD_GET(NVME_RW_NLB, cmd->cdw12) + 1u;
	e->cdw11 = cmd->cdw11;
	e->cdw12 = cmd->cdw12;
	if (e->opc == NVME_CMD_DSM) {
		/* Look at the range list as the device would. */
		const struct nvme_dsm_range *r =
		    vdf_mock_dma_ptr(mock_nvme_mock(m), cmd->prp1, sizeof(*r));

		if (r)
			e->range0 = *r;
	}
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
	f->opts.io_queue_depth = 32;
	f->opts.admin_timeout_ms = 300;
	f->opts.io_timeout_ms = 300;
	f->opts.polled = true;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f->m)
		vdf_mock_clear_faults(mock_nvme_mock(f->m));
	vdf_dma_free(f->buf);
	nvme_ctrlr_fini(&f->c);
	mock_nvme_destroy(f->m);
	free(f);
	return 0;
}

/* Model, controller, buffer and command log, from f->cfg and f->opts. */
static void up(struct fixture *f)
{
	assert_int_equal(mock_nvme_create(&f->cfg, &f->m), 0);
	f->dev = mock_nvme_dev(f->m);
	assert_int_equal(nvme_ctrlr_init(&f->c, f->dev, &f->opts), 0);
	assert_true(f->c.nns >= 1);
	f->bdev = &f->c.ns[0].bdev;
	assert_int_equal(vdf_dma_alloc(f->dev, BUF_SIZE, VDF_DMA_BIDIRECTIONAL, &f->buf), 0);
	f->wr = f->buf->va;
	f->rd = f->wr + HALF;
	mock_nvme_on_command(f->m, log_io, &f->log);
}

/* Tear down now and check nothing stays mapped. */
static void down(struct fixture *f)
{
	vdf_dma_free(f->buf);
	f->buf = NULL;
	nvme_ctrlr_fini(&f->c);
	assert_int_equal(vdf_dma_mapped_bytes(f->dev), 0);
}

static void fill(void *p, size_t len, uint32_t seed)
{
	uint32_t *w = p;

	for (size_t i = 0; i < len / 4; i++)
		w[i] = seed * 2654435761u + (uint32_t)i;
}

static bool all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

static uint64_t io_count(struct fixture *f, uint8_t opc)
{
	return mock_nvme_count(f->m, false, opc);
}

/* I/O commands of any kind that reached the model. */
static uint64_t io_total(struct fixture *f)
{
	uint64_t n = 0;

	for (unsigned opc = 0; opc < 256; opc++)
		n += mock_nvme_count(f->m, false, (uint8_t)opc);
	return n;
}

/* --- Data --- */

static void test_info(void **state)
{
	struct fixture *f = *state;
	struct vdf_block_info info;

	up(f);
	vdf_block_info(f->bdev, &info);
	assert_int_equal(info.num_blocks, NS1_BLOCKS);
	assert_int_equal(info.block_size, 512);
	assert_int_equal(info.max_transfer, MAX_XFER);
	assert_int_equal(info.queue_depth, 31);
	assert_false(info.read_only);
	assert_true(info.volatile_cache);
	assert_true(info.supports_discard);
	assert_true(info.supports_write_zeroes);
	assert_true(info.discard_zeroes);
	assert_string_equal(info.model, MOCK_NVME_MODEL);
	assert_string_equal(info.serial, MOCK_NVME_SERIAL);
	assert_true(f->bdev->polled);
	assert_non_null(f->bdev->name);

	vdf_block_info(&f->c.ns[1].bdev, &info);
	assert_int_equal(info.num_blocks, NS2_BLOCKS);
	assert_int_equal(info.block_size, 4096);
	down(f);
}

static void test_write_read_back(void **state)
{
	struct fixture *f = *state;

	up(f);
	fill(f->wr, 8 * 512, 1);
	assert_int_equal(vdf_block_write(f->bdev, 10, 8, f->wr, f->buf), 0);
	assert_memory_equal(mock_nvme_ns_data(f->m, 1) + 10 * 512, f->wr, 8 * 512);
	assert_int_equal(vdf_block_read(f->bdev, 10, 8, f->rd, f->buf), 0);
	assert_memory_equal(f->rd, f->wr, 8 * 512);
	assert_int_equal(io_count(f, NVME_CMD_WRITE), 1);
	assert_int_equal(io_count(f, NVME_CMD_READ), 1);
	assert_int_equal(f->log.e[0].slba, 10);
	assert_int_equal(f->log.e[0].nlb, 8);
	assert_int_equal(f->log.e[0].nsid, 1);

	/* The last block of the namespace, and a single block at LBA 0. */
	fill(f->wr, 512, 2);
	assert_int_equal(vdf_block_write(f->bdev, NS1_BLOCKS - 1, 1, f->wr, f->buf), 0);
	assert_int_equal(vdf_block_read(f->bdev, NS1_BLOCKS - 1, 1, f->rd, f->buf), 0);
	assert_memory_equal(f->rd, f->wr, 512);
	assert_int_equal(vdf_block_write(f->bdev, 0, 1, f->wr + 512, f->buf), 0);
	assert_int_equal(vdf_block_read(f->bdev, 0, 1, f->rd + 512, f->buf), 0);
	assert_memory_equal(f->rd + 512, f->wr + 512, 512);
	down(f);
}

static void test_split_at_mdts(void **state)
{
	struct fixture *f = *state;
	const uint32_t nblocks = 2048; /* 1 MiB = 8 commands of 128 KiB */

	up(f);
	fill(f->wr, nblocks * 512, 3);
	assert_int_equal(vdf_block_write(f->bdev, 1000, nblocks, f->wr, f->buf), 0);
	assert_int_equal(io_count(f, NVME_CMD_WRITE), 8);
	assert_int_equal(f->log.n, 8);
	for (unsigned i = 0; i < 8; i++) {
		assert_int_equal(f->log.e[i].opc, NVME_CMD_WRITE);
		assert_int_equal(f->log.e[i].slba, 1000 + i * 256);
		assert_int_equal(f->log.e[i].nlb, 256);
	}
	assert_int_equal(vdf_block_read(f->bdev, 1000, nblocks, f->rd, f->buf), 0);
	assert_int_equal(io_count(f, NVME_CMD_READ), 8);
	assert_memory_equal(f->rd, f->wr, nblocks * 512);

	/* An uneven count leaves a short last command. */
	f->log.n = 0;
	assert_int_equal(vdf_block_read(f->bdev, 1000, 300, f->rd, f->buf), 0);
	assert_int_equal(f->log.n, 2);
	assert_int_equal(f->log.e[0].nlb, 256);
	assert_int_equal(f->log.e[1].nlb, 44);
	assert_int_equal(f->log.e[1].slba, 1256);
	down(f);
}

static void test_split_unaligned_buffer(void **state)
{
	struct fixture *f = *state;
	const uint32_t nblocks = 1500;
	uint8_t *src;

	up(f);
	src = f->wr + 4; /* dword aligned, not page aligned: every PRP list has an offset */
	fill(src, nblocks * 512, 4);
	assert_int_equal(vdf_block_write(f->bdev, 7, nblocks, src, f->buf), 0);
	assert_int_equal(io_count(f, NVME_CMD_WRITE), 6);
	assert_memory_equal(mock_nvme_ns_data(f->m, 1) + 7 * 512, src, nblocks * 512);
	memset(f->rd, 0, nblocks * 512 + 512);
	assert_int_equal(vdf_block_read(f->bdev, 7, nblocks, f->rd + 508, f->buf), 0);
	assert_memory_equal(f->rd + 508, src, nblocks * 512);
	assert_true(all_zero(f->rd, 508));
	down(f);
}

static void test_split_small_queue(void **state)
{
	struct fixture *f = *state;
	const uint32_t nblocks = 4096; /* 16 commands through 3 free slots */

	f->opts.io_queue_depth = 4;
	up(f);
	fill(f->wr, nblocks * 512, 5);
	assert_int_equal(vdf_block_write(f->bdev, 0, nblocks, f->wr, f->buf), 0);
	assert_int_equal(io_count(f, NVME_CMD_WRITE), 16);
	assert_int_equal(vdf_block_read(f->bdev, 0, nblocks, f->rd, f->buf), 0);
	assert_int_equal(io_count(f, NVME_CMD_READ), 16);
	assert_memory_equal(f->rd, f->wr, nblocks * 512);
	assert_null(f->c.ioq[0].pend_head);
	assert_int_equal(nvme_qpair_outstanding(&f->c.ioq[0]), 0);
	down(f);
}

static void test_write_zeroes_split(void **state)
{
	struct fixture *f = *state;
	const uint64_t nsze = 70016;
	uint8_t *disk;

	f->cfg.ns[0].nsze = nsze;
	up(f);
	disk = mock_nvme_ns_data(f->m, 1);
	memset(disk, 0xee, nsze * 512);
	/* More blocks than one command can carry (16-bit NLB): two commands. */
	assert_int_equal(vdf_block_write_zeroes(f->bdev, 1, 70000), 0);
	assert_int_equal(io_count(f, NVME_CMD_WRITE_ZEROES), 2);
	assert_int_equal(f->log.e[0].slba, 1);
	assert_int_equal(f->log.e[0].nlb, 65536);
	assert_int_equal(f->log.e[1].slba, 65537);
	assert_int_equal(f->log.e[1].nlb, 70000 - 65536);
	assert_true(all_zero(disk + 512, 70000ull * 512));
	assert_int_equal(disk[511], 0xee);
	assert_int_equal(disk[70001ull * 512], 0xee);
	assert_int_equal(f->bdev->stats.write_zeroes, 1);
	down(f);
}

static void test_discard(void **state)
{
	struct fixture *f = *state;
	struct io_entry *e;

	up(f);
	fill(f->wr, 32 * 512, 6);
	assert_int_equal(vdf_block_write(f->bdev, 0, 32, f->wr, f->buf), 0);
	f->log.n = 0;
	assert_int_equal(vdf_block_discard(f->bdev, 8, 16), 0);
	assert_int_equal(io_count(f, NVME_CMD_DSM), 1);
	e = &f->log.e[0];
	assert_int_equal(e->opc, NVME_CMD_DSM);
	assert_true(e->cdw11 & NVME_DSM_AD);
	assert_int_equal(e->range0.slba, 8);
	assert_int_equal(e->range0.nlb, 16);
	assert_int_equal(vdf_block_read(f->bdev, 0, 32, f->rd, f->buf), 0);
	assert_memory_equal(f->rd, f->wr, 8 * 512);
	assert_true(all_zero(f->rd + 8 * 512, 16 * 512));
	assert_memory_equal(f->rd + 24 * 512, f->wr + 24 * 512, 8 * 512);
	assert_int_equal(f->bdev->stats.discards, 1);
	down(f);
}

static void test_flush_and_fua(void **state)
{
	struct fixture *f = *state;
	struct vdf_block_req req = {.op = VDF_BLOCK_WRITE, .lba = 3, .nblocks = 2, .fua = true};

	up(f);
	assert_int_equal(vdf_block_flush(f->bdev), 0);
	assert_int_equal(io_count(f, NVME_CMD_FLUSH), 1);
	assert_int_equal(f->log.e[0].nsid, 1);
	assert_int_equal(f->bdev->stats.flushes, 1);

	fill(f->wr, 1024, 7);
	req.buf = f->wr;
	req.dma = f->buf;
	assert_int_equal(vdf_block_sync(f->bdev, &req), 0);
	assert_true(f->log.e[1].cdw12 & NVME_RW_FUA);
	assert_int_equal(vdf_block_write(f->bdev, 3, 2, f->wr, f->buf), 0);
	assert_false(f->log.e[2].cdw12 & NVME_RW_FUA);
	down(f);
}

static void test_4k_namespace(void **state)
{
	struct fixture *f = *state;
	struct vdf_block_dev *b4k;

	up(f);
	b4k = &f->c.ns[1].bdev;
	fill(f->wr, 40 * 4096, 8);
	/* 40 blocks of 4 KiB: 32 per command at 128 KiB. */
	assert_int_equal(vdf_block_write(b4k, NS2_BLOCKS - 40, 40, f->wr, f->buf), 0);
	assert_int_equal(f->log.n, 2);
	assert_int_equal(f->log.e[0].nsid, 2);
	assert_int_equal(f->log.e[0].nlb, 32);
	assert_int_equal(f->log.e[1].nlb, 8);
	assert_int_equal(vdf_block_read(b4k, NS2_BLOCKS - 40, 40, f->rd, f->buf), 0);
	assert_memory_equal(f->rd, f->wr, 40 * 4096);
	assert_memory_equal(mock_nvme_ns_data(f->m, 2) + (NS2_BLOCKS - 40) * 4096ull, f->wr,
			    40 * 4096);
	/* The other namespace is untouched. */
	assert_true(all_zero(mock_nvme_ns_data(f->m, 1), NS1_BLOCKS * 512ull));
	assert_int_equal(vdf_block_read(b4k, NS2_BLOCKS, 1, f->rd, f->buf), -ERANGE);
	down(f);
}

/* --- Requests refused before they reach the device --- */

static void test_read_past_end(void **state)
{
	struct fixture *f = *state;
	uint64_t before;

	up(f);
	before = io_total(f);
	assert_int_equal(vdf_block_read(f->bdev, NS1_BLOCKS, 1, f->rd, f->buf), -ERANGE);
	assert_int_equal(vdf_block_read(f->bdev, NS1_BLOCKS - 4, 8, f->rd, f->buf), -ERANGE);
	assert_int_equal(vdf_block_read(f->bdev, UINT64_MAX, 1, f->rd, f->buf), -ERANGE);
	assert_int_equal(vdf_block_write(f->bdev, UINT64_MAX - 1, 4, f->wr, f->buf), -ERANGE);
	assert_int_equal(vdf_block_discard(f->bdev, NS1_BLOCKS - 1, 2), -ERANGE);
	assert_int_equal(vdf_block_write_zeroes(f->bdev, NS1_BLOCKS, 1), -ERANGE);
	assert_int_equal(io_total(f), before);
	assert_int_equal(f->bdev->stats.errors, 0);
	down(f);
}

static void test_bad_buffers(void **state)
{
	struct fixture *f = *state;
	struct vdf_dma_buf *other;
	uint64_t before;

	up(f);
	before = io_total(f);
	/* Not dword aligned. */
	assert_int_equal(vdf_block_read(f->bdev, 0, 1, f->rd + 2, f->buf), -EINVAL);
	assert_int_equal(vdf_block_write(f->bdev, 0, 1, f->wr + 1, f->buf), -EINVAL);
	/* Zero blocks, or no buffer at all. */
	assert_int_equal(vdf_block_read(f->bdev, 0, 0, f->rd, f->buf), -EINVAL);
	assert_int_equal(vdf_block_read(f->bdev, 0, 1, NULL, f->buf), -EINVAL);
	assert_int_equal(vdf_block_read(f->bdev, 0, 1, f->rd, NULL), -EINVAL);
	/* Running off the end of the mapping, or not inside it at all. */
	assert_int_equal(vdf_block_read(f->bdev, 0, 2, f->wr + BUF_SIZE - 512, f->buf), -EFAULT);
	assert_int_equal(vdf_block_read(f->bdev, 0, 1, f->wr + BUF_SIZE, f->buf), -EFAULT);
	assert_int_equal(vdf_dma_alloc(f->dev, 4096, VDF_DMA_BIDIRECTIONAL, &other), 0);
	assert_int_equal(vdf_block_write(f->bdev, 0, 1, other->va, f->buf), -EFAULT);
	assert_int_equal(vdf_block_write(f->bdev, 0, 1, f->wr, other), -EFAULT);
	vdf_dma_free(other);
	/* Exactly up to the end is fine. */
	assert_int_equal(vdf_block_read(f->bdev, 0, 2, f->wr + BUF_SIZE - 1024, f->buf), 0);
	assert_int_equal(io_total(f), before + 1);
	assert_int_equal(f->bdev->stats.errors, 0);
	down(f);
}

static void test_unsupported_ops(void **state)
{
	struct fixture *f = *state;
	struct vdf_block_info info;

	f->cfg.oncs = 0;
	f->cfg.vwc = false;
	f->cfg.ns[0].dlfeat_unknown = true;
	up(f);
	vdf_block_info(f->bdev, &info);
	assert_false(info.supports_discard);
	assert_false(info.supports_write_zeroes);
	assert_false(info.volatile_cache);
	assert_false(info.discard_zeroes);
	assert_int_equal(vdf_block_discard(f->bdev, 0, 8), -EOPNOTSUPP);
	assert_int_equal(vdf_block_write_zeroes(f->bdev, 0, 8), -EOPNOTSUPP);
	assert_int_equal(io_total(f), 0);
	/* Flush is always allowed. */
	assert_int_equal(vdf_block_flush(f->bdev), 0);
	down(f);
}

static void test_failed_controller(void **state)
{
	struct fixture *f = *state;

	up(f);
	f->c.failed = true;
	assert_int_equal(vdf_block_read(f->bdev, 0, 1, f->rd, f->buf), -ENODEV);
	assert_int_equal(vdf_block_flush(f->bdev), -ENODEV);
	f->c.failed = false;
	assert_int_equal(io_total(f), 0);
	down(f);
}

/* --- Errors from the device --- */

static void test_dma_access_fault(void **state)
{
	struct fixture *f = *state;
	struct vdf_mock_fault fault = {.kind = VDF_MOCK_FAULT_DMA_ACCESS, .count = 1};
	struct mock_nvme_stats st;

	up(f);
	fill(f->wr, 4096, 9);
	assert_int_equal(vdf_block_write(f->bdev, 100, 8, f->wr, f->buf), 0);

	/* The device cannot reach the buffer: data transfer error, reported as -EIO. */
	assert_int_equal(vdf_mock_inject(mock_nvme_mock(f->m), &fault), 0);
	assert_int_equal(vdf_block_read(f->bdev, 100, 8, f->rd, f->buf), -EIO);
	assert_int_equal(f->bdev->stats.errors, 1);
	mock_nvme_get_stats(f->m, &st);
	assert_int_equal(st.xfer_errors, 1);

	/* A write that fails the same way changes nothing on the medium. */
	fill(f->wr + 4096, 4096, 10);
	assert_int_equal(vdf_mock_inject(mock_nvme_mock(f->m), &fault), 0);
	assert_int_equal(vdf_block_write(f->bdev, 100, 8, f->wr + 4096, f->buf), -EIO);
	assert_memory_equal(mock_nvme_ns_data(f->m, 1) + 100 * 512, f->wr, 4096);
	assert_int_equal(f->bdev->stats.errors, 2);

	/* The driver keeps serving. */
	assert_int_equal(vdf_block_read(f->bdev, 100, 8, f->rd, f->buf), 0);
	assert_memory_equal(f->rd, f->wr, 4096);
	assert_false(f->c.failed);
	assert_int_equal(f->c.resets, 0);
	down(f);
}

static void test_error_in_split_request(void **state)
{
	struct fixture *f = *state;
	struct vdf_block_stats before;

	up(f);
	before = f->bdev->stats;
	/* The third of eight commands fails: the request fails once, as a whole. */
	f->log.fail_nth = 3;
	fill(f->wr, 2048 * 512, 11);
	assert_int_equal(vdf_block_write(f->bdev, 0, 2048, f->wr, f->buf), -EIO);
	assert_int_equal(io_count(f, NVME_CMD_WRITE), 8);
	assert_int_equal(f->bdev->stats.errors, before.errors + 1);
	assert_int_equal(f->bdev->stats.writes, before.writes);
	assert_int_equal(f->bdev->stats.bytes_written, before.bytes_written);
	assert_int_equal(nvme_qpair_outstanding(&f->c.ioq[0]), 0);
	f->log.fail_nth = 0;
	assert_int_equal(vdf_block_write(f->bdev, 0, 2048, f->wr, f->buf), 0);
	assert_int_equal(vdf_block_read(f->bdev, 0, 2048, f->rd, f->buf), 0);
	assert_memory_equal(f->rd, f->wr, 2048 * 512);
	down(f);
}

static void test_stats(void **state)
{
	struct fixture *f = *state;
	const struct vdf_block_stats *s;

	up(f);
	s = &f->bdev->stats;
	fill(f->wr, 64 * 512, 12);
	assert_int_equal(vdf_block_write(f->bdev, 0, 64, f->wr, f->buf), 0);
	assert_int_equal(vdf_block_write(f->bdev, 64, 1, f->wr, f->buf), 0);
	assert_int_equal(vdf_block_read(f->bdev, 0, 64, f->rd, f->buf), 0);
	assert_int_equal(vdf_block_read(f->bdev, 0, 600, f->rd, f->buf), 0);
	assert_int_equal(vdf_block_flush(f->bdev), 0);
	assert_int_equal(vdf_block_discard(f->bdev, 0, 4), 0);
	assert_int_equal(vdf_block_write_zeroes(f->bdev, 4, 4), 0);
	mock_nvme_fail_next(f->m, 1, NVME_CMD_READ, 1, NVME_SCT_MEDIA, NVME_SC_READ_ERROR);
	assert_int_equal(vdf_block_read(f->bdev, 0, 1, f->rd, f->buf), -EIO);
	/* Refused requests are not counted: they never started. */
	assert_int_equal(vdf_block_read(f->bdev, NS1_BLOCKS, 1, f->rd, f->buf), -ERANGE);

	assert_int_equal(s->writes, 2);
	assert_int_equal(s->bytes_written, 65 * 512);
	assert_int_equal(s->reads, 2);
	assert_int_equal(s->bytes_read, 664 * 512);
	assert_int_equal(s->flushes, 1);
	assert_int_equal(s->discards, 1);
	assert_int_equal(s->write_zeroes, 1);
	assert_int_equal(s->errors, 1);
	down(f);
}

/* --- Asynchronous requests --- */

struct done {
	unsigned calls;
	int status;
};

static void done_cb(void *arg, int status)
{
	struct done *d = arg;

	d->calls++;
	d->status = status;
}

static void test_many_async(void **state)
{
	struct fixture *f = *state;
	struct done d[100];
	unsigned finished = 0;

	memset(d, 0, sizeof(d));
	f->opts.io_queue_depth = 8;
	up(f);
	fill(f->wr, 100 * 8 * 512, 13);
	assert_int_equal(vdf_block_write(f->bdev, 0, 800, f->wr, f->buf), 0);
	/* 100 requests at once into 7 free slots: most wait in the software queue. */
	for (unsigned i = 0; i < 100; i++) {
		struct vdf_block_req req = {
		    .op = VDF_BLOCK_READ,
		    .lba = i * 8u,
		    .nblocks = 8,
		    .buf = f->rd + i * 8u * 512u,
		    .dma = f->buf,
		    .cb = done_cb,
		    .cb_arg = &d[i],
		};

		assert_int_equal(vdf_block_submit(f->bdev, &req), 0);
	}
	assert_non_null(f->c.ioq[0].pend_head);
	for (unsigned spins = 0; finished < 100 && spins < 10000; spins++) {
		finished = 0;
		vdf_block_poll(f->bdev);
		for (unsigned i = 0; i < 100; i++)
			finished += d[i].calls;
	}
	assert_int_equal(finished, 100);
	for (unsigned i = 0; i < 100; i++) {
		assert_int_equal(d[i].calls, 1);
		assert_int_equal(d[i].status, 0);
	}
	assert_memory_equal(f->rd, f->wr, 800 * 512);
	assert_int_equal(f->bdev->stats.reads, 100);
	down(f);
}

/* A polled synchronous request whose command is lost does not hang: the poll
 * loop's periodic timeout check aborts it, then resets the controller. */
static void test_lost_command_sync(void **state)
{
	struct fixture *f = *state;

	f->opts.io_timeout_ms = 100;
	up(f);
	mock_nvme_drop_next(f->m, 1, NVME_CMD_READ, 1);
	assert_int_equal(vdf_block_read(f->bdev, 0, 8, f->rd, f->buf), -ECANCELED);
	assert_int_equal(mock_nvme_count(f->m, true, NVME_ADMIN_ABORT), 1);
	assert_int_equal(f->c.resets, 1);
	assert_int_equal(f->bdev->stats.errors, 1);
	assert_int_equal(vdf_block_read(f->bdev, 0, 8, f->rd, f->buf), 0);
	down(f);
}

/* The driver bound through the runtime, completions delivered by MSI-X. */
static void test_interrupt_mode_bound(void **state)
{
	struct fixture *f = *state;
	struct vdf_event_loop *loop;
	struct vdf_driver_ctx ctx;
	struct nvme_ctrlr *c;
	struct vdf_block_dev *bdev;
	struct done d = {0};
	struct mock_nvme_stats st;
	struct vdf_block_req req;

	assert_int_equal(mock_nvme_create(&f->cfg, &f->m), 0);
	f->dev = mock_nvme_dev(f->m);
	assert_int_equal(vdf_event_loop_create(&loop), 0);
	f->opts.io_queues = 2;
	f->opts.polled = false;
	assert_int_equal(vdf_driver_bind(&nvme_driver, f->dev, loop, &f->opts, &ctx), 0);
	c = nvme_driver_ctrlr(&ctx);
	assert_int_equal(c->irq_kind, VDF_IRQ_MSIX);
	assert_int_equal(c->nvec, 3);
	assert_int_equal(c->nns, 2);
	bdev = &c->ns[0].bdev;
	assert_false(bdev->polled);
	assert_ptr_equal(bdev->loop, loop);
	assert_int_equal(vdf_dma_alloc(f->dev, BUF_SIZE, VDF_DMA_BIDIRECTIONAL, &f->buf), 0);
	f->wr = f->buf->va;
	f->rd = f->wr + HALF;

	fill(f->wr, 1024 * 512, 14);
	assert_int_equal(vdf_block_write(bdev, 50, 1024, f->wr, f->buf), 0);
	assert_int_equal(vdf_block_read(bdev, 50, 1024, f->rd, f->buf), 0);
	assert_memory_equal(f->rd, f->wr, 1024 * 512);

	/* Submit and only run the loop: the interrupt handler has to complete it. */
	while (vdf_event_loop_run_once(loop, 0) > 0)
		;
	memset(f->rd, 0, 8 * 512);
	req = (struct vdf_block_req){
	    .op = VDF_BLOCK_READ,
	    .lba = 50,
	    .nblocks = 8,
	    .buf = f->rd,
	    .dma = f->buf,
	    .cb = done_cb,
	    .cb_arg = &d,
	};
	assert_int_equal(vdf_block_submit(bdev, &req), 0);
	for (unsigned i = 0; i < 50 && !d.calls; i++)
		assert_true(vdf_event_loop_run_once(loop, 100) >= 0);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.status, 0);
	assert_memory_equal(f->rd, f->wr, 8 * 512);
	assert_true(ctx.irq_events > 0);
	assert_true(nvme_ctrlr_irq_total(c) > 0);
	mock_nvme_get_stats(f->m, &st);
	assert_true(st.irqs > 0);

	vdf_dma_free(f->buf);
	f->buf = NULL;
	vdf_driver_unbind(&ctx);
	vdf_event_loop_destroy(loop);
	assert_int_equal(vdf_dma_mapped_bytes(f->dev), 0);
	assert_int_equal(vdf_irq_enabled_count(f->dev, VDF_IRQ_MSIX), 0);
	mock_nvme_get_stats(f->m, &st);
	assert_int_equal(st.shutdowns, 1);
}

static void test_bind_rejects_other_devices(void **state)
{
	struct fixture *f = *state;
	struct vdf_event_loop *loop;
	struct vdf_driver_ctx ctx;
	uint8_t *cfg;

	assert_int_equal(mock_nvme_create(&f->cfg, &f->m), 0);
	f->dev = mock_nvme_dev(f->m);
	assert_int_equal(vdf_event_loop_create(&loop), 0);
	/* Not an NVMe class code: the match table says no. */
	cfg = vdf_mock_cfg(mock_nvme_mock(f->m));
	cfg[PCI_CLASS_PROG] = 0x01; /* 01/06/01 would be AHCI; 01/08/01 is not NVMe */
	assert_int_equal(vdf_driver_bind(&nvme_driver, f->dev, loop, &f->opts, &ctx), -ENODEV);
	cfg[PCI_CLASS_PROG] = 0x02;
	/* An NVMe controller that never becomes ready: attach fails and unwinds. */
	mock_nvme_set_ready_mode(f->m, MOCK_NVME_READY_CFS);
	assert_int_equal(vdf_driver_bind(&nvme_driver, f->dev, loop, &f->opts, &ctx), -EIO);
	assert_int_equal(vdf_dma_mapped_bytes(f->dev), 0);
	assert_int_equal(vdf_irq_enabled_count(f->dev, VDF_IRQ_MSIX), 0);
	vdf_event_loop_destroy(loop);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_info),
	    T(test_write_read_back),
	    T(test_split_at_mdts),
	    T(test_split_unaligned_buffer),
	    T(test_split_small_queue),
	    T(test_write_zeroes_split),
	    T(test_discard),
	    T(test_flush_and_fua),
	    T(test_4k_namespace),
	    T(test_read_past_end),
	    T(test_bad_buffers),
	    T(test_unsupported_ops),
	    T(test_failed_controller),
	    T(test_dma_access_fault),
	    T(test_error_in_split_request),
	    T(test_stats),
	    T(test_many_async),
	    T(test_lost_command_sync),
	    T(test_interrupt_mode_bound),
	    T(test_bind_rejects_other_devices),
	};

	return cmocka_run_group_tests_name("nvme_io", tests, group_setup, group_teardown);
}
