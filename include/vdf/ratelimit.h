/* SPDX-License-Identifier: MIT */
/*
 * Per-client rate limits (the seeds' RateLimits): two token buckets, one for
 * operations per second and one for bytes per second, each with a burst. A
 * request is admitted when both buckets hold enough tokens; it then takes
 * them. Otherwise the caller learns exactly how long to wait.
 *
 * Time is passed in (CLOCK_MONOTONIC nanoseconds in production) so that the
 * behaviour is deterministic and tests need no clock. Tokens are kept in
 * nano-tokens (tokens * 10^9), so refill is exact integer arithmetic: a
 * bucket of rate R tokens/s gains exactly R nano-tokens per nanosecond.
 *
 * Calling context: one bucket pair per client, used by the thread that serves
 * that client; no locking.
 */
#ifndef VDF_RATELIMIT_H
#define VDF_RATELIMIT_H

#include <stdint.h>

#include "vdf/common.h"

/* Bursts are capped so that burst * 10^9 fits in 64 bits. */
#define VDF_RATELIMIT_BURST_MAX (UINT64_MAX / 1000000000ull)

struct vdf_ratelimit_cfg {
	uint64_t ops_per_sec;	/* 0: no limit on operations */
	uint64_t ops_burst;	/* operations admitted at once from full */
	uint64_t bytes_per_sec; /* 0: no limit on bytes */
	uint64_t bytes_burst;	/* bytes admitted at once from full; >= max request */
};

struct vdf_ratelimit_bucket {
	uint64_t rate;	  /* tokens per second; 0 = unlimited */
	uint64_t cap;	  /* burst, in nano-tokens */
	uint64_t credit;  /* nano-tokens available */
	uint64_t last_ns; /* time of the last refill */
};

struct vdf_ratelimit {
	struct vdf_ratelimit_bucket ops;
	struct vdf_ratelimit_bucket bytes;
};

/*
 * Set up both buckets full at time now_ns. Returns 0, or -EINVAL if a limited
 * bucket has a burst of 0 or above VDF_RATELIMIT_BURST_MAX.
 */
int vdf_ratelimit_init(struct vdf_ratelimit *rl, const struct vdf_ratelimit_cfg *cfg,
		       uint64_t now_ns) VDF_MUST_CHECK;

/*
 * Admit one operation moving bytes bytes at time now_ns (non-decreasing; an
 * earlier time counts as no time passed). Returns 0 and takes the tokens, or
 * -EAGAIN and sets *wait_ns (if not NULL) to the exact time after which the
 * same request will be admitted if nothing else is; nothing is taken then.
 * Returns -EMSGSIZE if bytes exceeds the bytes burst: it could never pass.
 */
int vdf_ratelimit_admit(struct vdf_ratelimit *rl, uint64_t now_ns, uint64_t bytes,
			uint64_t *wait_ns) VDF_MUST_CHECK;

#endif
