// SPDX-License-Identifier: MIT
/* Block device latency and throughput at a fixed queue depth. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "blk_tools.h"
#include "vdf/event.h"

struct perf_slot {
	struct perf_run *run;
	uint8_t *buf;
	uint64_t start_ns;
};

struct perf_run {
	struct vdf_block_dev *bdev;
	const struct blk_perf_opts *o;
	struct vdf_dma_buf *dma;
	uint64_t rng, seq_lba, span_units, end_ns;
	uint32_t blocks_per_io;
	uint64_t *lat;
	size_t nlat, cap;
	unsigned inflight;
	uint64_t errors;
	int stop;
};

int blk_perf_parse_pattern(const char *s, enum blk_perf_pattern *p)
{
	static const char *const names[] = {"randread", "randwrite", "read", "write"};

	for (unsigned i = 0; i < VDF_ARRAY_SIZE(names); i++) {
		if (!strcmp(s, names[i])) {
			*p = (enum blk_perf_pattern)i;
			return 0;
		}
	}
	return -EINVAL;
}

static int perf_submit(struct perf_slot *sl);

static void perf_done(void *arg, int status)
{
	struct perf_slot *sl = arg;
	struct perf_run *r = sl->run;
	uint64_t now = vdf_now_ns();

	r->inflight--;
	if (status)
		r->errors++;
	if (r->nlat == r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : 65536;
		uint64_t *n = realloc(r->lat, ncap * sizeof(*n));

		if (!n) {
			r->stop = 1;
			return;
		}
		r->lat = n;
		r->cap = ncap;
	}
	r->lat[r->nlat++] = now - sl->start_ns;
	if (!r->stop && now < r->end_ns && perf_submit(sl))
		r->stop = 1;
}

static int perf_submit(struct perf_slot *sl)
{
	struct perf_run *r = sl->run;
	enum blk_perf_pattern p = r->o->pattern;
	struct vdf_block_req req = {
	    .op = (p == BLK_PERF_RANDREAD || p == BLK_PERF_SEQREAD) ? VDF_BLOCK_READ
								    : VDF_BLOCK_WRITE,
	    .nblocks = r->blocks_per_io,
	    .buf = sl->buf,
	    .dma = r->dma,
	    .cb = perf_done,
	    .cb_arg = sl,
	};
	uint64_t unit;
	int rc;

	if (p == BLK_PERF_RANDREAD || p == BLK_PERF_RANDWRITE) {
		unit = blk_rand(&r->rng) % r->span_units;
	} else {
		unit = r->seq_lba++;
		if (r->seq_lba == r->span_units)
			r->seq_lba = 0;
	}
	req.lba = unit * r->blocks_per_io;
	sl->start_ns = vdf_now_ns();
	rc = vdf_block_submit(r->bdev, &req);
	if (!rc)
		r->inflight++;
	return rc;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int blk_perf_run(struct vdf_block_dev *bdev, struct vdf_dev *dev, const struct blk_perf_opts *o,
		 struct blk_perf_result *res)
{
	struct perf_run r = {.bdev = bdev, .o = o, .rng = o->seed ? o->seed : 1};
	struct vdf_block_info info;
	struct perf_slot *slots;
	uint64_t start, span;
	double sum = 0;
	int rc;

	vdf_block_info(bdev, &info);
	if (!o->queue_depth || !o->block_bytes || o->block_bytes % info.block_size)
		return -EINVAL;
	r.blocks_per_io = o->block_bytes / info.block_size;
	span = o->span_bytes ? VDF_MIN(o->span_bytes / info.block_size, info.num_blocks)
			     : info.num_blocks;
	r.span_units = span / r.blocks_per_io;
	if (!r.span_units)
		return -EINVAL;
	slots = calloc(o->queue_depth, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	rc = vdf_dma_alloc(dev, (size_t)o->block_bytes * o->queue_depth, VDF_DMA_BIDIRECTIONAL,
			   &r.dma);
	if (rc)
		goto out_free;
	for (unsigned i = 0; i < o->queue_depth; i++) {
		slots[i].run = &r;
		slots[i].buf = (uint8_t *)r.dma->va + (size_t)i * o->block_bytes;
		memset(slots[i].buf, (int)i, o->block_bytes);
	}
	start = vdf_now_ns();
	r.end_ns = start + (uint64_t)(o->seconds * 1e9);
	for (unsigned i = 0; i < o->queue_depth && !rc; i++)
		rc = perf_submit(&slots[i]);
	while (r.inflight) {
		if (vdf_block_poll(bdev) || bdev->polled || !bdev->loop)
			continue;
		if (vdf_event_loop_run_once(bdev->loop, 100) < 0)
			break;
	}
	memset(res, 0, sizeof(*res));
	res->seconds = (double)(vdf_now_ns() - start) / 1e9;
	res->ios = r.nlat;
	res->errors = r.errors;
	if (r.nlat) {
		qsort(r.lat, r.nlat, sizeof(*r.lat), cmp_u64);
		for (size_t i = 0; i < r.nlat; i++)
			sum += (double)r.lat[i];
		res->lat_mean_us = sum / (double)r.nlat / 1e3;
		res->lat_p50_us = (double)r.lat[r.nlat / 2] / 1e3;
		res->lat_p99_us = (double)r.lat[(r.nlat * 99) / 100] / 1e3;
		res->iops = (double)r.nlat / res->seconds;
		res->mib_s = res->iops * o->block_bytes / (1024.0 * 1024.0);
	}
	free(r.lat);
	vdf_dma_free(r.dma);
out_free:
	free(slots);
	return rc;
}
