// SPDX-License-Identifier: MIT
/*
 * Per-client rate limits (lib/ipc/ratelimit.c): bursts from a full bucket,
 * refill over time, exact waits (admitted at now + wait, refused one
 * nanosecond earlier), both buckets together, unlimited buckets, time going
 * backwards, and configuration errors.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "vdf/ratelimit.h"

#define SEC 1000000000ull
#define T0  (5 * SEC) /* an arbitrary start time */

static void test_config_errors(void **state)
{
	struct vdf_ratelimit rl;
	struct vdf_ratelimit_cfg cfg = {.ops_per_sec = 10, .ops_burst = 0};

	(void)state;
	assert_int_equal(vdf_ratelimit_init(&rl, &cfg, T0), -EINVAL);
	cfg.ops_burst = VDF_RATELIMIT_BURST_MAX + 1;
	assert_int_equal(vdf_ratelimit_init(&rl, &cfg, T0), -EINVAL);
	cfg.ops_burst = VDF_RATELIMIT_BURST_MAX;
	assert_int_equal(vdf_ratelimit_init(&rl, &cfg, T0), 0);
	cfg.bytes_per_sec = 1;
	cfg.bytes_burst = 0;
	assert_int_equal(vdf_ratelimit_init(&rl, &cfg, T0), -EINVAL);
}

static void test_unlimited(void **state)
{
	struct vdf_ratelimit rl;
	struct vdf_ratelimit_cfg cfg = {0};
	uint64_t wait = 0;
	int i;

	(void)state;
	assert_int_equal(vdf_ratelimit_init(&rl, &cfg, T0), 0);
	for (i = 0; i < 100000; i++)
		assert_int_equal(vdf_ratelimit_admit(&rl, T0, UINT64_MAX, &wait), 0);
}

static void test_ops_burst_and_refill(void **state)
{
	struct vdf_ratelimit rl;
	struct vdf_ratelimit_cfg cfg = {.ops_per_sec = 1000, .ops_burst = 10};
	uint64_t wait = 0;
	int i;

	(void)state;
	assert_int_equal(vdf_ratelimit_init(&rl, &cfg, T0), 0);
	/* A full bucket admits the burst at once, then refuses. */
	for (i = 0; i < 10; i++)
		assert_int_equal(vdf_ratelimit_admit(&rl, T0, 4096, &wait), 0);
	assert_int_equal(vdf_ratelimit_admit(&rl, T0, 4096, &wait), -EAGAIN);
	/* 1000 ops/s: one token per millisecond, exactly. */
	assert_int_equal(wait, SEC / 1000);
	assert_int_equal(vdf_ratelimit_admit(&rl, T0 + wait - 1, 0, &wait), -EAGAIN);
	assert_int_equal(wait, 1);
	assert_int_equal(vdf_ratelimit_admit(&rl, T0 + SEC / 1000, 0, &wait), 0);
	assert_int_equal(vdf_ratelimit_admit(&rl, T0 + SEC / 1000, 0, &wait), -EAGAIN);
	assert_int_equal(wait, SEC / 1000);
	/* A long pause refills to the burst, not beyond. */
	for (i = 0; i < 10; i++)
		assert_int_equal(vdf_ratelimit_admit(&rl, T0 + 3600 * SEC, 0, NULL), 0);
	assert_int_equal(vdf_ratelimit_admit(&rl, T0 + 3600 * SEC, 0, NULL), -EAGAIN);
}

static void test_steady_rate(void **state)
{
	struct vdf_ratelimit rl;
	struct vdf_ratelimit_cfg cfg = {.ops_per_sec = 3, .ops_burst = 2};
	uint64_t now = T0, wait, admitted = 0;

	(void)state;
	assert_int_equal(vdf_ratelimit_init(&rl, &cfg, now), 0);
	/*
	 * Always retry exactly when told: 3 ops/s over 10 s plus the two initial
	 * tokens. (With a burst of 1, the nano-tokens a rounded-up wait earns
	 * beyond the cap would be lost and the count would come out at 30.)
	 */
	while (now <= T0 + 10 * SEC) {
		if (vdf_ratelimit_admit(&rl, now, 0, &wait) == 0) {
			admitted++;
			continue;
		}
		assert_true(wait > 0 && wait <= SEC / 3 + 1);
		now += wait;
	}
	assert_int_equal(admitted, 2 + 30);
}

static void test_bytes_exact_wait(void **state)
{
	struct vdf_ratelimit rl;
	struct vdf_ratelimit_cfg cfg = {.bytes_per_sec = 1000000, .bytes_burst = 65536};
	uint64_t wait = 0;

	(void)state;
	assert_int_equal(vdf_ratelimit_init(&rl, &cfg, T0), 0);
	assert_int_equal(vdf_ratelimit_admit(&rl, T0, 65536, &wait), 0);
	assert_int_equal(vdf_ratelimit_admit(&rl, T0, 1, &wait), -EAGAIN);
	/* 1 MB/s: one byte per microsecond. */
	assert_int_equal(wait, 1000);
	assert_int_equal(vdf_ratelimit_admit(&rl, T0, 4096, &wait), -EAGAIN);
	assert_int_equal(wait, 4096 * 1000ull);
	assert_int_equal(vdf_ratelimit_admit(&rl, T0 + wait - 1, 4096, &wait), -EAGAIN);
	assert_int_equal(wait, 1);
	assert_int_equal(vdf_ratelimit_admit(&rl, T0 + 4096 * 1000ull, 4096, &wait), 0);
	/* Larger than the burst: can never pass. */
	assert_int_equal(vdf_ratelimit_admit(&rl, T0 + 3600 * SEC, 65537, &wait), -EMSGSIZE);
	/* Zero-byte ops (flush) pass without byte tokens. */
	assert_int_equal(vdf_ratelimit_admit(&rl, T0 + 4096 * 1000ull, 0, &wait), 0);
}

static void test_fractional_rate(void **state)
{
	struct vdf_ratelimit rl;
	struct vdf_ratelimit_cfg cfg = {.bytes_per_sec = 3, .bytes_burst = 10};
	uint64_t wait = 0;

	(void)state;
	assert_int_equal(vdf_ratelimit_init(&rl, &cfg, T0), 0);
	assert_int_equal(vdf_ratelimit_admit(&rl, T0, 10, &wait), 0);
	/* One byte takes 1/3 s: the wait rounds up, and then it really passes. */
	assert_int_equal(vdf_ratelimit_admit(&rl, T0, 1, &wait), -EAGAIN);
	assert_int_equal(wait, 333333334);
	assert_int_equal(vdf_ratelimit_admit(&rl, T0 + 333333333, 1, &wait), -EAGAIN);
	assert_int_equal(wait, 1);
	assert_int_equal(vdf_ratelimit_admit(&rl, T0 + 333333334, 1, &wait), 0);
}

static void test_both_buckets(void **state)
{
	struct vdf_ratelimit rl;
	struct vdf_ratelimit_cfg cfg = {
	    .ops_per_sec = 100, .ops_burst = 2, .bytes_per_sec = 1000, .bytes_burst = 1000};
	uint64_t wait = 0;

	(void)state;
	assert_int_equal(vdf_ratelimit_init(&rl, &cfg, T0), 0);
	assert_int_equal(vdf_ratelimit_admit(&rl, T0, 900, &wait), 0);
	/* Ops left, bytes short by 800: the byte bucket sets the wait. */
	assert_int_equal(vdf_ratelimit_admit(&rl, T0, 900, &wait), -EAGAIN);
	assert_int_equal(wait, 800 * SEC / 1000);
	/* Refused requests take nothing: a small one still passes. */
	assert_int_equal(vdf_ratelimit_admit(&rl, T0, 100, &wait), 0);
	/* Now ops are out (10 ms per op) and bytes are out (1 ms per byte). */
	assert_int_equal(vdf_ratelimit_admit(&rl, T0, 1, &wait), -EAGAIN);
	assert_int_equal(wait, SEC / 100);
	assert_int_equal(vdf_ratelimit_admit(&rl, T0, 20, &wait), -EAGAIN);
	assert_int_equal(wait, 20 * SEC / 1000);
	assert_int_equal(vdf_ratelimit_admit(&rl, T0 + 20 * SEC / 1000, 20, &wait), 0);
}

static void test_time_backwards(void **state)
{
	struct vdf_ratelimit rl;
	struct vdf_ratelimit_cfg cfg = {.ops_per_sec = 1, .ops_burst = 1};
	uint64_t wait = 0;

	(void)state;
	assert_int_equal(vdf_ratelimit_init(&rl, &cfg, T0), 0);
	assert_int_equal(vdf_ratelimit_admit(&rl, T0, 0, &wait), 0);
	/* An earlier time counts as no time passed and earns nothing. */
	assert_int_equal(vdf_ratelimit_admit(&rl, T0 - SEC, 0, &wait), -EAGAIN);
	assert_int_equal(wait, SEC);
	assert_int_equal(vdf_ratelimit_admit(&rl, 0, 0, &wait), -EAGAIN);
	assert_int_equal(vdf_ratelimit_admit(&rl, T0 + SEC, 0, &wait), 0);
	/* Very long gaps and huge rates don't overflow. */
	cfg.ops_per_sec = UINT64_MAX;
	cfg.ops_burst = VDF_RATELIMIT_BURST_MAX;
	assert_int_equal(vdf_ratelimit_init(&rl, &cfg, 0), 0);
	assert_int_equal(vdf_ratelimit_admit(&rl, 1, 0, &wait), 0);
	assert_int_equal(vdf_ratelimit_admit(&rl, 2, 0, &wait), 0);
	assert_int_equal(vdf_ratelimit_admit(&rl, UINT64_MAX, 0, &wait), 0);
	cfg.ops_per_sec = 1;
	cfg.ops_burst = 1;
	assert_int_equal(vdf_ratelimit_init(&rl, &cfg, 0), 0);
	assert_int_equal(vdf_ratelimit_admit(&rl, 0, 0, &wait), 0);
	assert_int_equal(vdf_ratelimit_admit(&rl, UINT64_MAX, 0, &wait), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_config_errors),	 cmocka_unit_test(test_unlimited),
	    cmocka_unit_test(test_ops_burst_and_refill), cmocka_unit_test(test_steady_rate),
	    cmocka_unit_test(test_bytes_exact_wait),	 cmocka_unit_test(test_fractional_rate),
	    cmocka_unit_test(test_both_buckets),	 cmocka_unit_test(test_time_backwards),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
