// SPDX-License-Identifier: MIT
/*
 * Block device self-test: random data at random LBAs read back identical,
 * flush, write-zeroes and discard read back as zeros, and bad requests
 * (past the end, misaligned or unmapped buffers) refused while the device
 * keeps serving.
 */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blk_tools.h"
#include "vdf/irq.h"

#define SLOT_BYTES (2u << 20) /* larger than typical MDTS, so requests get split */

struct st {
	struct vdf_block_dev *bdev;
	struct vdf_block_info info;
	int failed;
	unsigned inflight;
	int first_error;
};

static void check(struct st *s, int ok, const char *name, const char *fmt, ...) VDF_PRINTF(4, 5);

static void check(struct st *s, int ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("%s: %s", ok ? "PASS" : "FAIL", name);
	if (fmt && fmt[0]) {
		printf(" (");
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf(")");
	}
	printf("\n");
	fflush(stdout);
	if (!ok)
		s->failed++;
}

static void io_done(void *arg, int status)
{
	struct st *s = arg;

	s->inflight--;
	if (status && !s->first_error)
		s->first_error = status;
}

static void wait_idle(struct st *s)
{
	while (s->inflight) {
		if (vdf_block_poll(s->bdev) || s->bdev->polled || !s->bdev->loop)
			continue;
		if (vdf_event_loop_run_once(s->bdev->loop, 100) < 0)
			break;
	}
}

/* Fill with a pattern derived from (seed, lba): every block stamped with its LBA. */
static void fill_pattern(uint8_t *p, uint64_t lba, uint32_t nblocks, uint32_t bs, uint64_t seed)
{
	for (uint32_t b = 0; b < nblocks; b++) {
		uint64_t st = seed ^ ((lba + b) * 0x9e3779b97f4a7c15ull) ^ 1;
		uint64_t *w = (uint64_t *)(p + (size_t)b * bs);

		w[0] = lba + b;
		for (uint32_t i = 1; i < bs / 8; i++)
			w[i] = blk_rand(&st);
	}
}

static int is_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

struct planned_io {
	uint64_t lba;
	uint32_t nblocks;
	uint32_t buf_off;
};

static int submit_rw(struct st *s, enum vdf_block_op op, uint64_t lba, uint32_t n, void *buf,
		     struct vdf_dma_buf *dma)
{
	struct vdf_block_req req = {
	    .op = op, .lba = lba, .nblocks = n, .buf = buf, .dma = dma, .cb = io_done, .cb_arg = s};
	int rc = vdf_block_submit(s->bdev, &req);

	if (!rc)
		s->inflight++;
	return rc;
}

/* Write `total` bytes in random-length requests at random distinct slots,
 * `qd` at a time, then read everything back and compare. */
static void test_random_rw(struct st *s, struct vdf_dev *dev, const struct blk_selftest_opts *o)
{
	uint32_t bs = s->info.block_size, slot_blocks = SLOT_BYTES / bs;
	uint64_t nslots = s->info.num_blocks / slot_blocks, rng = o->seed, written = 0;
	unsigned qd = o->queue_depth ? o->queue_depth : 8, nplan = 0, mismatches = 0;
	size_t buf_stride = SLOT_BYTES + VDF_PAGE_SIZE;
	struct planned_io *plan = NULL;
	struct vdf_dma_buf *dma = NULL;
	uint8_t *expect = NULL;
	uint64_t *slots = NULL;
	int rc;

	if (nslots < 2 || o->total_bytes / (SLOT_BYTES / 2) > nslots) {
		check(s, 0, "random-write-read",
		      "device of %" PRIu64 " blocks too small for %" PRIu64 " bytes",
		      s->info.num_blocks, o->total_bytes);
		return;
	}
	slots = malloc(nslots * sizeof(*slots));
	plan = calloc(nslots, sizeof(*plan));
	expect = malloc(SLOT_BYTES);
	rc = vdf_dma_alloc(dev, buf_stride * qd, VDF_DMA_BIDIRECTIONAL, &dma);
	if (!slots || !plan || !expect || rc) {
		check(s, 0, "random-write-read", "allocating buffers: %s",
		      strerror(rc ? -rc : ENOMEM));
		goto out;
	}
	/* Random permutation of slots: requests never overlap. */
	for (uint64_t i = 0; i < nslots; i++)
		slots[i] = i;
	for (uint64_t i = nslots - 1; i > 0; i--) {
		uint64_t j = blk_rand(&rng) % (i + 1), t = slots[i];

		slots[i] = slots[j];
		slots[j] = t;
	}
	while (written < o->total_bytes && nplan < nslots) {
		struct planned_io *p = &plan[nplan];
		uint32_t n = 1 + (uint32_t)(blk_rand(&rng) % slot_blocks);

		p->nblocks = n;
		p->lba = slots[nplan] * slot_blocks + blk_rand(&rng) % (slot_blocks - n + 1);
		/* Page offsets exercise PRP1 offsets and PRP lists across pages. */
		p->buf_off = (uint32_t)(blk_rand(&rng) % 8) * 512;
		written += (uint64_t)n * bs;
		nplan++;
	}
	s->first_error = 0;
	for (unsigned i = 0; i < nplan; i++) {
		uint8_t *buf = (uint8_t *)dma->va + (i % qd) * buf_stride + plan[i].buf_off;

		fill_pattern(buf, plan[i].lba, plan[i].nblocks, bs, o->seed);
		rc = submit_rw(s, VDF_BLOCK_WRITE, plan[i].lba, plan[i].nblocks, buf, dma);
		if (rc) {
			s->first_error = rc;
			break;
		}
		if (s->inflight >= qd) /* buffers are reused round-robin: drain first */
			wait_idle(s);
	}
	wait_idle(s);
	if (s->first_error) {
		check(s, 0, "random-write-read", "write failed: %s", strerror(-s->first_error));
		goto out;
	}
	for (unsigned i = 0; i < nplan; i++) {
		uint8_t *buf = (uint8_t *)dma->va + plan[i].buf_off;
		size_t len = (size_t)plan[i].nblocks * bs;

		memset(buf, 0xa5, len);
		rc = vdf_block_read(s->bdev, plan[i].lba, plan[i].nblocks, buf, dma);
		if (rc) {
			check(s, 0, "random-write-read", "read at LBA %" PRIu64 ": %s", plan[i].lba,
			      strerror(-rc));
			goto out;
		}
		fill_pattern(expect, plan[i].lba, plan[i].nblocks, bs, o->seed);
		if (memcmp(buf, expect, len))
			mismatches++;
	}
	check(s, mismatches == 0, "random-write-read",
	      "%" PRIu64 " MiB in %u requests at random LBAs, seed %" PRIu64 ", %u mismatches",
	      written >> 20, nplan, o->seed, mismatches);
out:
	vdf_dma_free(dma);
	free(expect);
	free(plan);
	free(slots);
}

/* Write a pattern, run `op` over it, expect zeros back. */
static void test_zeroing(struct st *s, struct vdf_dev *dev, enum vdf_block_op op, const char *name,
			 int must_zero)
{
	uint32_t bs = s->info.block_size, n = 64;
	uint64_t lba = s->info.num_blocks - 4 * n;
	struct vdf_dma_buf *dma;
	struct vdf_block_req req = {.op = op, .lba = lba, .nblocks = n};
	int rc;

	rc = vdf_dma_alloc(dev, (size_t)n * bs, VDF_DMA_BIDIRECTIONAL, &dma);
	if (rc) {
		check(s, 0, name, "allocating: %s", strerror(-rc));
		return;
	}
	fill_pattern(dma->va, lba, n, bs, 42);
	rc = vdf_block_write(s->bdev, lba, n, dma->va, dma);
	if (!rc)
		rc = vdf_block_sync(s->bdev, &req);
	if (!rc) {
		memset(dma->va, 0xa5, (size_t)n * bs);
		rc = vdf_block_read(s->bdev, lba, n, dma->va, dma);
	}
	if (rc)
		check(s, 0, name, "%s", strerror(-rc));
	else if (must_zero)
		check(s, is_zero(dma->va, (size_t)n * bs), name, "%u blocks read back as zeros", n);
	else
		check(s, 1, name, "device does not promise zeros after %s", vdf_block_op_name(op));
	vdf_dma_free(dma);
}

static void test_bad_requests(struct st *s, struct vdf_dev *dev)
{
	uint32_t bs = s->info.block_size;
	struct vdf_dma_buf *dma;
	uint8_t *outside;
	int rc;

	rc = vdf_dma_alloc(dev, 4 * (size_t)bs, VDF_DMA_BIDIRECTIONAL, &dma);
	if (rc) {
		check(s, 0, "bad-requests", "allocating: %s", strerror(-rc));
		return;
	}
	rc = vdf_block_read(s->bdev, s->info.num_blocks - 1, 2, dma->va, dma);
	check(s, rc == -ERANGE, "read-past-end", "read of 2 blocks at the last LBA: %s",
	      strerror(-rc));
	rc = vdf_block_read(s->bdev, s->info.num_blocks, 1, dma->va, dma);
	check(s, rc == -ERANGE, "read-at-end", "read at LBA %" PRIu64 ": %s", s->info.num_blocks,
	      strerror(-rc));
	rc = vdf_block_write(s->bdev, UINT64_MAX - 1, 4, dma->va, dma);
	check(s, rc == -ERANGE, "lba-overflow", "write at LBA 2^64-2: %s", strerror(-rc));
	rc = vdf_block_read(s->bdev, 0, 1, (uint8_t *)dma->va + 1, dma);
	check(s, rc == -EINVAL, "misaligned-buffer", "read into buffer+1: %s", strerror(-rc));
	outside = malloc(bs);
	rc = vdf_block_read(s->bdev, 0, 1, outside, dma);
	check(s, rc == -EFAULT, "unmapped-buffer", "read into memory the device cannot reach: %s",
	      strerror(-rc));
	free(outside);
	/* The device keeps serving after all that. */
	fill_pattern(dma->va, 7, 1, bs, 99);
	rc = vdf_block_write(s->bdev, 7, 1, dma->va, dma);
	if (!rc) {
		memset(dma->va, 0, bs);
		rc = vdf_block_read(s->bdev, 7, 1, dma->va, dma);
	}
	if (!rc) {
		uint8_t *expect = malloc(bs);

		fill_pattern(expect, 7, 1, bs, 99);
		rc = memcmp(expect, dma->va, bs) ? -EIO : 0;
		free(expect);
	}
	check(s, rc == 0, "serves-after-errors", "%s", rc ? strerror(-rc) : "write+read ok");
	vdf_dma_free(dma);
}

static void test_interrupts(struct st *s, struct vdf_dev *dev)
{
	static const enum vdf_irq_kind kinds[] = {VDF_IRQ_MSIX, VDF_IRQ_MSI, VDF_IRQ_INTX};
	uint64_t total = 0;
	const char *kind = "none";

	if (s->bdev->polled) {
		check(s, 1, "interrupts", "polled mode: none expected");
		return;
	}
	for (unsigned k = 0; k < VDF_ARRAY_SIZE(kinds); k++) {
		unsigned n = vdf_irq_enabled_count(dev, kinds[k]);

		for (unsigned v = 0; v < n; v++)
			total += vdf_irq_stat(dev, kinds[k], v);
		if (n)
			kind = vdf_irq_kind_name(kinds[k]);
	}
	check(s, total > 0, "interrupts", "%" PRIu64 " %s interrupts delivered", total, kind);
}

int blk_selftest(struct vdf_block_dev *bdev, struct vdf_dev *dev, const struct blk_selftest_opts *o)
{
	struct st s = {.bdev = bdev};
	int rc;

	vdf_block_info(bdev, &s.info);
	check(&s, s.info.num_blocks > 0 && s.info.block_size >= 512, "info",
	      "%" PRIu64 " blocks of %u bytes, max transfer %u KiB", s.info.num_blocks,
	      s.info.block_size, s.info.max_transfer / 1024);
	test_random_rw(&s, dev, o);
	rc = vdf_block_flush(bdev);
	check(&s, rc == 0, "flush", "%s", rc ? strerror(-rc) : "ok");
	if (s.info.supports_write_zeroes)
		test_zeroing(&s, dev, VDF_BLOCK_WRITE_ZEROES, "write-zeroes", 1);
	if (s.info.supports_discard)
		test_zeroing(&s, dev, VDF_BLOCK_DISCARD, "discard", s.info.discard_zeroes);
	test_bad_requests(&s, dev);
	test_interrupts(&s, dev);
	printf("selftest: %d check(s) failed; stats: %" PRIu64 " reads, %" PRIu64
	       " writes, %" PRIu64 " errors\n",
	       s.failed, bdev->stats.reads, bdev->stats.writes, bdev->stats.errors);
	return s.failed;
}
