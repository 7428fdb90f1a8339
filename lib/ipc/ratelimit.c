// SPDX-License-Identifier: MIT
/*
 * Token buckets for per-client rate limits (include/vdf/ratelimit.h).
 */
#include <errno.h>
#include <string.h>

#include "vdf/ratelimit.h"

#define NANO 1000000000ull

/* ceil(n / d) without the overflow of (n + d - 1) / d for large d. */
static uint64_t div_up(uint64_t n, uint64_t d)
{
	return n / d + (n % d != 0);
}

static int bucket_init(struct vdf_ratelimit_bucket *b, uint64_t rate, uint64_t burst,
		       uint64_t now_ns)
{
	memset(b, 0, sizeof(*b));
	b->last_ns = now_ns;
	if (rate == 0)
		return 0;
	if (burst == 0 || burst > VDF_RATELIMIT_BURST_MAX)
		return -EINVAL;
	b->rate = rate;
	b->cap = burst * NANO;
	b->credit = b->cap;
	return 0;
}

int vdf_ratelimit_init(struct vdf_ratelimit *rl, const struct vdf_ratelimit_cfg *cfg,
		       uint64_t now_ns)
{
	int ret;

	ret = bucket_init(&rl->ops, cfg->ops_per_sec, cfg->ops_burst, now_ns);
	if (ret)
		return ret;
	return bucket_init(&rl->bytes, cfg->bytes_per_sec, cfg->bytes_burst, now_ns);
}

static void bucket_refill(struct vdf_ratelimit_bucket *b, uint64_t now_ns)
{
	uint64_t elapsed, room;

	if (now_ns <= b->last_ns)
		return;
	elapsed = now_ns - b->last_ns;
	b->last_ns = now_ns;
	room = b->cap - b->credit;
	/* elapsed * rate may overflow; compare by division first. */
	if (elapsed >= div_up(room, b->rate))
		b->credit = b->cap;
	else
		b->credit += elapsed * b->rate; /* < room, no overflow */
}

/* Nanoseconds until b holds cost nano-tokens (0 if it does already). */
static uint64_t bucket_wait(const struct vdf_ratelimit_bucket *b, uint64_t cost)
{
	if (b->credit >= cost)
		return 0;
	return div_up(cost - b->credit, b->rate);
}

int vdf_ratelimit_admit(struct vdf_ratelimit *rl, uint64_t now_ns, uint64_t bytes,
			uint64_t *wait_ns)
{
	uint64_t wait = 0, byte_cost = 0;

	if (rl->bytes.rate) {
		if (bytes > rl->bytes.cap / NANO)
			return -EMSGSIZE;
		byte_cost = bytes * NANO;
		bucket_refill(&rl->bytes, now_ns);
		wait = bucket_wait(&rl->bytes, byte_cost);
	}
	if (rl->ops.rate) {
		bucket_refill(&rl->ops, now_ns);
		wait = VDF_MAX(wait, bucket_wait(&rl->ops, NANO));
	}
	if (wait) {
		if (wait_ns)
			*wait_ns = wait;
		return -EAGAIN;
	}
	if (rl->bytes.rate)
		rl->bytes.credit -= byte_cost;
	if (rl->ops.rate)
		rl->ops.credit -= NANO;
	return 0;
}
