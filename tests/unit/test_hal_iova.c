// SPDX-License-Identifier: MIT
/*
 * IOVA allocator (lib/hal/iova.c): first-fit over a sorted free list that
 * merges neighbours on free. Besides the hand-picked cases, a seeded random
 * sequence of allocs and frees is checked step by step against a page bitmap.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../lib/hal/iova.h"

#define PG     VDF_PAGE_SIZE
#define BASE   0x100000000ull /* like the VFIO backend: above 4 GiB */
#define NPAGES 64u

static int space_setup(void **state)
{
	struct vdf_iova_space *s = calloc(1, sizeof(*s));

	if (!s || vdf_iova_space_init(s, BASE, NPAGES * PG)) {
		free(s);
		return -1;
	}
	*state = s;
	return 0;
}

static int space_teardown(void **state)
{
	struct vdf_iova_space *s = *state;

	vdf_iova_space_fini(s);
	free(s);
	return 0;
}

/* The free list must be exactly these (start page, page count) ranges. */
static void expect_free(const struct vdf_iova_space *s, unsigned n, const unsigned (*r)[2])
{
	assert_int_equal(s->nfree, n);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(s->free[i].start, BASE + (uint64_t)r[i][0] * PG);
		assert_int_equal(s->free[i].len, (uint64_t)r[i][1] * PG);
	}
}

static vdf_iova_t page(unsigned p)
{
	return BASE + (uint64_t)p * PG;
}

static vdf_iova_t alloc_ok(struct vdf_iova_space *s, uint64_t len)
{
	vdf_iova_t iova = 0;

	assert_int_equal(vdf_iova_alloc(s, len, &iova), 0);
	return iova;
}

static void test_init_rejects(void **state)
{
	struct vdf_iova_space s;

	(void)state;
	assert_int_equal(vdf_iova_space_init(&s, BASE + 1, PG), -EINVAL);
	assert_int_equal(s.nfree, 0);
	vdf_iova_space_fini(&s);
	assert_int_equal(vdf_iova_space_init(&s, BASE, PG + 512), -EINVAL);
	vdf_iova_space_fini(&s);
	assert_int_equal(vdf_iova_space_init(&s, BASE, 0), -EINVAL);
	vdf_iova_space_fini(&s);
	assert_int_equal(vdf_iova_space_init(&s, 0, PG), 0);
	assert_int_equal(alloc_ok(&s, 1), 0);
	vdf_iova_space_fini(&s);
	assert_null(s.free);
	assert_int_equal(s.nfree, 0);
}

static void test_alloc_first_fit(void **state)
{
	struct vdf_iova_space *s = *state;
	vdf_iova_t iova;

	expect_free(s, 1, (const unsigned[][2]){{0, NPAGES}});
	/* Lengths are rounded up to whole pages. */
	assert_int_equal(alloc_ok(s, 1), page(0));
	assert_int_equal(alloc_ok(s, PG), page(1));
	assert_int_equal(alloc_ok(s, PG + 1), page(2));
	assert_int_equal(alloc_ok(s, 3 * PG - 1), page(4));
	expect_free(s, 1, (const unsigned[][2]){{7, NPAGES - 7}});

	/* A hole too small for the request is skipped, a fitting one is used. */
	assert_int_equal(vdf_iova_free(s, page(1), PG), 0);
	assert_int_equal(alloc_ok(s, 2 * PG), page(7));
	assert_int_equal(alloc_ok(s, PG), page(1));
	expect_free(s, 1, (const unsigned[][2]){{9, NPAGES - 9}});

	iova = 0xdead;
	assert_int_equal(vdf_iova_alloc(s, 0, &iova), -EINVAL);
	assert_int_equal(iova, 0xdead);
}

static void test_exhaustion(void **state)
{
	struct vdf_iova_space *s = *state;
	vdf_iova_t iova = 0xdead;

	assert_int_equal(vdf_iova_alloc(s, (NPAGES + 1) * PG, &iova), -ENOSPC);
	assert_int_equal(iova, 0xdead);
	for (unsigned i = 0; i < NPAGES; i++)
		assert_int_equal(alloc_ok(s, PG), page(i));
	assert_int_equal(s->nfree, 0);
	assert_int_equal(vdf_iova_alloc(s, 1, &iova), -ENOSPC);
	assert_int_equal(iova, 0xdead);

	/* Space given back is usable again; fragmented space is not combined. */
	assert_int_equal(vdf_iova_free(s, page(10), PG), 0);
	assert_int_equal(vdf_iova_free(s, page(20), PG), 0);
	assert_int_equal(vdf_iova_alloc(s, 2 * PG, &iova), -ENOSPC);
	assert_int_equal(alloc_ok(s, PG), page(10));
	assert_int_equal(alloc_ok(s, PG), page(20));
	assert_int_equal(vdf_iova_alloc(s, PG, &iova), -ENOSPC);
}

static void test_free_merges(void **state)
{
	struct vdf_iova_space *s = *state;

	for (unsigned i = 0; i < 8; i++)
		assert_int_equal(alloc_ok(s, PG), page(i));
	/* Isolated frees: separate ranges, kept sorted. */
	assert_int_equal(vdf_iova_free(s, page(5), PG), 0);
	assert_int_equal(vdf_iova_free(s, page(1), PG), 0);
	assert_int_equal(vdf_iova_free(s, page(3), PG), 0);
	expect_free(s, 4, (const unsigned[][2]){{1, 1}, {3, 1}, {5, 1}, {8, NPAGES - 8}});
	/* Merge with the left neighbour only. */
	assert_int_equal(vdf_iova_free(s, page(6), PG), 0);
	expect_free(s, 4, (const unsigned[][2]){{1, 1}, {3, 1}, {5, 2}, {8, NPAGES - 8}});
	/* Merge with the right neighbour only. */
	assert_int_equal(vdf_iova_free(s, page(0), PG), 0);
	expect_free(s, 4, (const unsigned[][2]){{0, 2}, {3, 1}, {5, 2}, {8, NPAGES - 8}});
	/* Merge with both sides. */
	assert_int_equal(vdf_iova_free(s, page(2), PG), 0);
	expect_free(s, 3, (const unsigned[][2]){{0, 4}, {5, 2}, {8, NPAGES - 8}});
	assert_int_equal(vdf_iova_free(s, page(7), 1), 0);
	expect_free(s, 2, (const unsigned[][2]){{0, 4}, {5, NPAGES - 5}});
	assert_int_equal(vdf_iova_free(s, page(4), PG), 0);
	expect_free(s, 1, (const unsigned[][2]){{0, NPAGES}});
}

static void test_free_multi_page(void **state)
{
	struct vdf_iova_space *s = *state;
	vdf_iova_t a, b, c;

	a = alloc_ok(s, 3 * PG);
	b = alloc_ok(s, 5 * PG);
	c = alloc_ok(s, 2 * PG);
	assert_int_equal(b, a + 3 * PG);
	assert_int_equal(vdf_iova_free(s, b, 5 * PG - 100), 0); /* rounded like alloc */
	expect_free(s, 2, (const unsigned[][2]){{3, 5}, {10, NPAGES - 10}});
	/* The 5-page hole fits exactly. */
	assert_int_equal(alloc_ok(s, 5 * PG), b);
	assert_int_equal(vdf_iova_free(s, a, 3 * PG), 0);
	assert_int_equal(vdf_iova_free(s, c, 2 * PG), 0);
	assert_int_equal(vdf_iova_free(s, b, 5 * PG), 0);
	expect_free(s, 1, (const unsigned[][2]){{0, NPAGES}});
}

static void test_double_free(void **state)
{
	struct vdf_iova_space *s = *state;
	vdf_iova_t a, b;

	a = alloc_ok(s, 2 * PG);
	b = alloc_ok(s, 2 * PG);
	assert_int_equal(vdf_iova_free(s, a, 2 * PG), 0);
	expect_free(s, 2, (const unsigned[][2]){{0, 2}, {4, NPAGES - 4}});

	/* Exactly the same range again, a part of it, and a range overlapping it. */
	assert_int_equal(vdf_iova_free(s, a, 2 * PG), -EINVAL);
	assert_int_equal(vdf_iova_free(s, a + PG, PG), -EINVAL);
	assert_int_equal(vdf_iova_free(s, a + PG, 2 * PG), -EINVAL);
	/* A range running into the free tail. */
	assert_int_equal(vdf_iova_free(s, b, 3 * PG), -EINVAL);
	/* Free space never handed out. */
	assert_int_equal(vdf_iova_free(s, page(40), PG), -EINVAL);
	/* A rejected free leaves the state alone. */
	expect_free(s, 2, (const unsigned[][2]){{0, 2}, {4, NPAGES - 4}});

	assert_int_equal(vdf_iova_free(s, b, 2 * PG), 0);
	assert_int_equal(vdf_iova_free(s, b, 2 * PG), -EINVAL);
	expect_free(s, 1, (const unsigned[][2]){{0, NPAGES}});
}

static void test_reserve_middle_splits(void **state)
{
	struct vdf_iova_space *s = *state;
	vdf_iova_t iova;

	assert_int_equal(vdf_iova_space_reserve(s, page(10), 4 * PG), 0);
	expect_free(s, 2, (const unsigned[][2]){{0, 10}, {14, NPAGES - 14}});
	/* First fit skips the 10-page hole for a request that does not fit it. */
	assert_int_equal(alloc_ok(s, 11 * PG), page(14));
	assert_int_equal(alloc_ok(s, 10 * PG), page(0));
	/* The reserved pages are never handed out. */
	while (vdf_iova_alloc(s, PG, &iova) == 0)
		assert_true(iova < page(10) || iova >= page(14));
	assert_int_equal(s->nfree, 0);
}

static void test_reserve_edges(void **state)
{
	struct vdf_iova_space *s = *state;

	/* Prefix, suffix, and space outside the allocator's range (no-op). */
	assert_int_equal(vdf_iova_space_reserve(s, page(0), 2 * PG), 0);
	expect_free(s, 1, (const unsigned[][2]){{2, NPAGES - 2}});
	assert_int_equal(vdf_iova_space_reserve(s, page(NPAGES - 3), 3 * PG), 0);
	expect_free(s, 1, (const unsigned[][2]){{2, NPAGES - 5}});
	assert_int_equal(vdf_iova_space_reserve(s, BASE - 16 * PG, 8 * PG), 0);
	assert_int_equal(vdf_iova_space_reserve(s, page(NPAGES + 4), PG), 0);
	expect_free(s, 1, (const unsigned[][2]){{2, NPAGES - 5}});
	/* Overlapping the start of the space from below. */
	assert_int_equal(vdf_iova_space_reserve(s, BASE - PG, 4 * PG), 0);
	expect_free(s, 1, (const unsigned[][2]){{3, NPAGES - 6}});
	/* Reserving already-reserved space changes nothing. */
	assert_int_equal(vdf_iova_space_reserve(s, page(0), 3 * PG), 0);
	expect_free(s, 1, (const unsigned[][2]){{3, NPAGES - 6}});
}

static void test_reserve_whole(void **state)
{
	struct vdf_iova_space *s = *state;
	vdf_iova_t iova;

	assert_int_equal(vdf_iova_space_reserve(s, page(0), NPAGES * PG), 0);
	assert_int_equal(s->nfree, 0);
	assert_int_equal(vdf_iova_alloc(s, PG, &iova), -ENOSPC);
}

static void test_reserve_across_ranges(void **state)
{
	struct vdf_iova_space *s = *state;

	/* Free list {0..1} {4..5} {8..9} {12..}: reserve 1..12 swallows two whole
	 * ranges and trims both neighbours. */
	for (unsigned i = 0; i < 12; i++)
		assert_int_equal(alloc_ok(s, PG), page(i));
	for (unsigned i = 0; i < 12; i += 4) {
		assert_int_equal(vdf_iova_free(s, page(i), PG), 0);
		assert_int_equal(vdf_iova_free(s, page(i + 1), PG), 0);
	}
	expect_free(s, 4, (const unsigned[][2]){{0, 2}, {4, 2}, {8, 2}, {12, NPAGES - 12}});
	assert_int_equal(vdf_iova_space_reserve(s, page(1), 12 * PG), 0);
	expect_free(s, 2, (const unsigned[][2]){{0, 1}, {13, NPAGES - 13}});
	/* Reserving the first of several ranges entirely. */
	assert_int_equal(vdf_iova_space_reserve(s, page(0), PG), 0);
	expect_free(s, 1, (const unsigned[][2]){{13, NPAGES - 13}});
}

/* The free list grows past its initial capacity without losing ranges. */
static void test_many_fragments(void **state)
{
	struct vdf_iova_space *s = *state;

	for (unsigned i = 0; i < NPAGES; i++)
		assert_int_equal(alloc_ok(s, PG), page(i));
	for (unsigned i = 0; i < NPAGES; i += 2)
		assert_int_equal(vdf_iova_free(s, page(i), PG), 0);
	assert_int_equal(s->nfree, NPAGES / 2);
	for (unsigned i = 0; i < NPAGES / 2; i++) {
		assert_int_equal(s->free[i].start, page(2 * i));
		assert_int_equal(s->free[i].len, PG);
	}
	for (unsigned i = 1; i < NPAGES; i += 2)
		assert_int_equal(vdf_iova_free(s, page(i), PG), 0);
	expect_free(s, 1, (const unsigned[][2]){{0, NPAGES}});
}

/* --- randomized sequence against a bitmap model ---------------------------- */

#define MODEL_PAGES 256u
#define MODEL_STEPS 20000u
#define MAX_LIVE    128u

struct live {
	unsigned page, npages;
};

struct model {
	struct vdf_iova_space s;
	bool used[MODEL_PAGES];
	struct live live[MAX_LIVE];
	unsigned nlive;
	uint64_t rng;
};

static uint64_t rnd(struct model *md)
{
	/* xorshift64: deterministic, good enough to shuffle operations */
	md->rng ^= md->rng << 13;
	md->rng ^= md->rng >> 7;
	md->rng ^= md->rng << 17;
	return md->rng;
}

/* The free list is sorted, fully merged and covers exactly the model's free pages. */
static void model_check(const struct model *md)
{
	const struct vdf_iova_space *s = &md->s;
	unsigned free_pages = 0, listed = 0;

	for (unsigned p = 0; p < MODEL_PAGES; p++)
		free_pages += !md->used[p];
	for (unsigned i = 0; i < s->nfree; i++) {
		const struct vdf_iova_range *r = &s->free[i];
		uint64_t first;

		assert_true(r->len > 0);
		assert_true(VDF_IS_ALIGNED(r->start, PG) && VDF_IS_ALIGNED(r->len, PG));
		assert_true(r->start >= BASE);
		first = (r->start - BASE) / PG;
		assert_true(first + r->len / PG <= MODEL_PAGES);
		if (i > 0)
			assert_true(s->free[i - 1].start + s->free[i - 1].len < r->start);
		for (uint64_t p = first; p < first + r->len / PG; p++)
			if (md->used[p])
				fail_msg("page %" PRIu64 " is both free and allocated", p);
		listed += (unsigned)(r->len / PG);
	}
	assert_int_equal(listed, free_pages);
}

/* First fit in the model: the lowest free run of at least n pages, or -1. */
static int model_first_fit(const struct model *md, unsigned n)
{
	unsigned run = 0;

	for (unsigned p = 0; p < MODEL_PAGES; p++) {
		if (md->used[p]) {
			run = 0;
			continue;
		}
		/* Free ranges are maximal runs, so the first run reaching n pages
		 * is the first range that fits, and the allocation is at its start. */
		if (++run == n)
			return (int)(p + 1 - n);
	}
	return -1;
}

static void model_alloc(struct model *md)
{
	unsigned n = 1 + (unsigned)(rnd(md) % 8);
	/* Unaligned byte lengths round up to n pages. */
	uint64_t len = (uint64_t)n * PG - (rnd(md) % PG);
	int want = model_first_fit(md, n);
	vdf_iova_t iova = 0;
	int rc;

	rc = vdf_iova_alloc(&md->s, len, &iova);
	if (want < 0) {
		assert_int_equal(rc, -ENOSPC);
		return;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(iova, page((unsigned)want));
	for (unsigned p = (unsigned)want; p < (unsigned)want + n; p++) {
		assert_false(md->used[p]);
		md->used[p] = true;
	}
	md->live[md->nlive++] = (struct live){(unsigned)want, n};
}

static void model_free(struct model *md)
{
	unsigned i = (unsigned)(rnd(md) % md->nlive);
	struct live l = md->live[i];

	assert_int_equal(vdf_iova_free(&md->s, page(l.page), (uint64_t)l.npages * PG), 0);
	for (unsigned p = l.page; p < l.page + l.npages; p++)
		md->used[p] = false;
	md->live[i] = md->live[--md->nlive];
	/* Now and then, free it again: always refused. */
	if (rnd(md) % 4 == 0)
		assert_int_equal(vdf_iova_free(&md->s, page(l.page), (uint64_t)l.npages * PG),
				 -EINVAL);
}

static void run_model(uint64_t seed)
{
	struct model *md = calloc(1, sizeof(*md));

	assert_non_null(md);
	md->rng = seed;
	assert_int_equal(vdf_iova_space_init(&md->s, BASE, MODEL_PAGES * PG), 0);
	for (unsigned step = 0; step < MODEL_STEPS; step++) {
		/* Bias towards allocation until the space is busy, then balance. */
		bool do_alloc = md->nlive == 0 || (md->nlive < MAX_LIVE && rnd(md) % 100 < 55);

		if (do_alloc)
			model_alloc(md);
		else
			model_free(md);
		model_check(md);
	}
	while (md->nlive)
		model_free(md);
	model_check(md);
	/* Everything is back, as one range. */
	assert_int_equal(md->s.nfree, 1);
	assert_int_equal(md->s.free[0].start, BASE);
	assert_int_equal(md->s.free[0].len, (uint64_t)MODEL_PAGES * PG);
	vdf_iova_space_fini(&md->s);
	free(md);
}

static void test_random_against_model(void **state)
{
	static const uint64_t seeds[] = {0x9e3779b97f4a7c15ull, 1, 0xdeadbeefcafef00dull, 42};

	(void)state;
	for (unsigned i = 0; i < VDF_ARRAY_SIZE(seeds); i++)
		run_model(seeds[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_init_rejects),
	    cmocka_unit_test_setup_teardown(test_alloc_first_fit, space_setup, space_teardown),
	    cmocka_unit_test_setup_teardown(test_exhaustion, space_setup, space_teardown),
	    cmocka_unit_test_setup_teardown(test_free_merges, space_setup, space_teardown),
	    cmocka_unit_test_setup_teardown(test_free_multi_page, space_setup, space_teardown),
	    cmocka_unit_test_setup_teardown(test_double_free, space_setup, space_teardown),
	    cmocka_unit_test_setup_teardown(test_reserve_middle_splits, space_setup,
					    space_teardown),
	    cmocka_unit_test_setup_teardown(test_reserve_edges, space_setup, space_teardown),
	    cmocka_unit_test_setup_teardown(test_reserve_whole, space_setup, space_teardown),
	    cmocka_unit_test_setup_teardown(test_reserve_across_ranges, space_setup,
					    space_teardown),
	    cmocka_unit_test_setup_teardown(test_many_fragments, space_setup, space_teardown),
	    cmocka_unit_test(test_random_against_model),
	};

	return cmocka_run_group_tests_name("hal_iova", tests, NULL, NULL);
}
