/* SPDX-License-Identifier: MIT */
/*
 * Exercisers for any VDF block device, shared by the driver binaries:
 * a data-integrity self-test and a latency/throughput measurement.
 */
#ifndef VDF_TOOLS_BLK_TOOLS_H
#define VDF_TOOLS_BLK_TOOLS_H

#include <stdint.h>

#include "vdf/block.h"
#include "vdf/hal.h"

struct blk_selftest_opts {
	uint64_t total_bytes; /* data written at random LBAs and read back */
	uint64_t seed;
	unsigned queue_depth;
};

/* Runs the checks, printing "PASS: name" / "FAIL: name" lines.
 * Returns the number of failed checks (0 = all passed). */
int blk_selftest(struct vdf_block_dev *bdev, struct vdf_dev *dev,
		 const struct blk_selftest_opts *o);

enum blk_perf_pattern {
	BLK_PERF_RANDREAD,
	BLK_PERF_RANDWRITE,
	BLK_PERF_SEQREAD,
	BLK_PERF_SEQWRITE
};

struct blk_perf_opts {
	enum blk_perf_pattern pattern;
	uint32_t block_bytes; /* bytes per I/O */
	unsigned queue_depth;
	double seconds;
	uint64_t span_bytes; /* region of the device used (0 = whole device) */
	uint64_t seed;
};

struct blk_perf_result {
	uint64_t ios;
	double seconds;
	double iops, mib_s;
	double lat_mean_us, lat_p50_us, lat_p99_us;
	uint64_t errors;
};

int blk_perf_run(struct vdf_block_dev *bdev, struct vdf_dev *dev, const struct blk_perf_opts *o,
		 struct blk_perf_result *res) VDF_MUST_CHECK;
int blk_perf_parse_pattern(const char *s, enum blk_perf_pattern *p) VDF_MUST_CHECK;

/* Small deterministic PRNG (xorshift64*). */
static inline uint64_t blk_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dull;
}

#endif
