// SPDX-License-Identifier: MIT
/*
 * nvme_prp_build (drivers/nvme/nvme_prp.c): how a transfer is described with
 * PRP1, PRP2 and a PRP list (NVMe base spec 4.3), including the limits of one
 * list page and the argument checks.
 */
#include <endian.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../drivers/nvme/nvme.h"

#define PS	  4096u
#define LIST_CAP  512u /* one 4 KiB page of 8-byte entries */
#define LIST_IOVA 0x7000000ull
#define POISON	  0xa5a5a5a5a5a5a5a5ull

/* A list page with one guard entry past the end, to catch overruns. */
struct list_page {
	uint64_t e[LIST_CAP + 1];
};

static void poison(struct list_page *l)
{
	for (unsigned i = 0; i < VDF_ARRAY_SIZE(l->e); i++)
		l->e[i] = POISON;
}

static int build(vdf_iova_t iova, uint32_t len, struct list_page *l, unsigned cap, uint64_t *prp1,
		 uint64_t *prp2)
{
	return nvme_prp_build(iova, len, PS, l->e, LIST_IOVA, cap, prp1, prp2);
}

static void test_single_page(void **state)
{
	struct list_page l;
	uint64_t prp1, prp2;

	(void)state;
	poison(&l);
	assert_int_equal(build(0x100000, 512, &l, LIST_CAP, &prp1, &prp2), 0);
	assert_int_equal(prp1, 0x100000);
	assert_int_equal(prp2, 0);
	/* Inside one page, away from its start, up to its last byte. */
	assert_int_equal(build(0x100204, PS - 0x204, &l, LIST_CAP, &prp1, &prp2), 0);
	assert_int_equal(prp1, 0x100204);
	assert_int_equal(prp2, 0);
	assert_int_equal(l.e[0], POISON);
}

static void test_exact_page(void **state)
{
	struct list_page l;
	uint64_t prp1, prp2;

	(void)state;
	poison(&l);
	assert_int_equal(build(0x200000, PS, &l, LIST_CAP, &prp1, &prp2), 0);
	assert_int_equal(prp1, 0x200000);
	assert_int_equal(prp2, 0);
	assert_int_equal(l.e[0], POISON);
}

static void test_cross_one_boundary(void **state)
{
	struct list_page l;
	uint64_t prp1, prp2;

	(void)state;
	poison(&l);
	/* Half a page in the first page, the rest in the next: PRP2 is that page. */
	assert_int_equal(build(0x300800, PS, &l, LIST_CAP, &prp1, &prp2), 0);
	assert_int_equal(prp1, 0x300800);
	assert_int_equal(prp2, 0x301000);
	/* Two whole pages need no list either. */
	assert_int_equal(build(0x300000, 2 * PS, &l, LIST_CAP, &prp1, &prp2), 0);
	assert_int_equal(prp1, 0x300000);
	assert_int_equal(prp2, 0x301000);
	/* Eight bytes over the boundary. */
	assert_int_equal(build(0x300ffc, 8, &l, LIST_CAP, &prp1, &prp2), 0);
	assert_int_equal(prp2, 0x301000);
	assert_int_equal(l.e[0], POISON);
}

static void test_offset_multiple_pages(void **state)
{
	struct list_page l;
	uint64_t prp1, prp2;

	(void)state;
	poison(&l);
	/* 0xe00 bytes in the first page, then 0x2200 bytes over three more pages. */
	assert_int_equal(build(0x400200, 3 * PS, &l, LIST_CAP, &prp1, &prp2), 0);
	assert_int_equal(prp1, 0x400200);
	assert_int_equal(prp2, LIST_IOVA);
	assert_int_equal(le64toh(l.e[0]), 0x401000);
	assert_int_equal(le64toh(l.e[1]), 0x402000);
	assert_int_equal(le64toh(l.e[2]), 0x403000);
	assert_int_equal(l.e[3], POISON);

	/* Three whole pages from a page boundary: PRP1 plus a list of two. */
	poison(&l);
	assert_int_equal(build(0x500000, 3 * PS, &l, LIST_CAP, &prp1, &prp2), 0);
	assert_int_equal(prp1, 0x500000);
	assert_int_equal(prp2, LIST_IOVA);
	assert_int_equal(le64toh(l.e[0]), 0x501000);
	assert_int_equal(le64toh(l.e[1]), 0x502000);
	assert_int_equal(l.e[2], POISON);
}

static void test_full_list(void **state)
{
	struct list_page *l = malloc(sizeof(*l));
	uint64_t prp1, prp2;

	(void)state;
	assert_non_null(l);
	poison(l);
	/* One page for PRP1 and exactly 512 list entries: the most one list page holds. */
	assert_int_equal(build(0x1000000, PS + LIST_CAP * PS, l, LIST_CAP, &prp1, &prp2), 0);
	assert_int_equal(prp1, 0x1000000);
	assert_int_equal(prp2, LIST_IOVA);
	for (unsigned i = 0; i < LIST_CAP; i++)
		assert_int_equal(le64toh(l->e[i]), 0x1001000ull + (uint64_t)i * PS);
	assert_int_equal(l->e[LIST_CAP], POISON);

	/* The same with a page offset: the last entry covers the tail. */
	poison(l);
	assert_int_equal(build(0x1000010, PS - 0x10 + LIST_CAP * PS, l, LIST_CAP, &prp1, &prp2), 0);
	assert_int_equal(le64toh(l->e[LIST_CAP - 1]), 0x1001000ull + (LIST_CAP - 1ull) * PS);
	assert_int_equal(l->e[LIST_CAP], POISON);
	free(l);
}

static void test_list_too_long(void **state)
{
	struct list_page *l = malloc(sizeof(*l));
	uint64_t prp1, prp2;

	(void)state;
	assert_non_null(l);
	poison(l);
	/* 513 list entries would need a chained list, which the driver never builds. */
	assert_int_equal(build(0x1000000, PS + (LIST_CAP + 1) * PS, l, LIST_CAP, &prp1, &prp2),
			 -E2BIG);
	/* One byte too many is already one entry too many. */
	assert_int_equal(build(0x1000000, PS + LIST_CAP * PS + 1, l, LIST_CAP, &prp1, &prp2),
			 -E2BIG);
	/* A larger list_cap does not lift the one-page limit. */
	assert_int_equal(nvme_prp_build(0x1000000, PS + (LIST_CAP + 1) * PS, PS, l->e, LIST_IOVA,
					LIST_CAP + 1, &prp1, &prp2),
			 -E2BIG);
	for (unsigned i = 0; i < VDF_ARRAY_SIZE(l->e); i++)
		assert_int_equal(l->e[i], POISON);
	free(l);
}

static void test_list_cap_too_small(void **state)
{
	struct list_page l;
	uint64_t prp1, prp2;

	(void)state;
	poison(&l);
	/* Four list entries needed, room for three. */
	assert_int_equal(build(0x600000, 5 * PS, &l, 3, &prp1, &prp2), -E2BIG);
	assert_int_equal(l.e[0], POISON);
	/* Room for exactly four. */
	assert_int_equal(build(0x600000, 5 * PS, &l, 4, &prp1, &prp2), 0);
	assert_int_equal(le64toh(l.e[3]), 0x604000);
	assert_int_equal(l.e[4], POISON);
	/* No list at all is fine while none is needed. */
	assert_int_equal(nvme_prp_build(0x600000, 2 * PS, PS, NULL, 0, 0, &prp1, &prp2), 0);
	assert_int_equal(prp2, 0x601000);
	assert_int_equal(nvme_prp_build(0x600000, 3 * PS, PS, NULL, 0, 0, &prp1, &prp2), -E2BIG);
}

static void test_bad_arguments(void **state)
{
	struct list_page l;
	uint64_t prp1, prp2;

	(void)state;
	/* PRP entries carry a dword-aligned offset: bits 1:0 must be clear. */
	assert_int_equal(build(0x700001, 512, &l, LIST_CAP, &prp1, &prp2), -EINVAL);
	assert_int_equal(build(0x700002, 512, &l, LIST_CAP, &prp1, &prp2), -EINVAL);
	assert_int_equal(build(0x700003, 3 * PS, &l, LIST_CAP, &prp1, &prp2), -EINVAL);
	/* Dword aligned is enough. */
	assert_int_equal(build(0x700004, 512, &l, LIST_CAP, &prp1, &prp2), 0);
	assert_int_equal(prp1, 0x700004);
	/* Nothing to transfer. */
	assert_int_equal(build(0x700000, 0, &l, LIST_CAP, &prp1, &prp2), -EINVAL);
	/* Page sizes that are not a power of two. */
	assert_int_equal(nvme_prp_build(0x700000, 512, 0, l.e, LIST_IOVA, LIST_CAP, &prp1, &prp2),
			 -EINVAL);
	assert_int_equal(
	    nvme_prp_build(0x700000, 512, 3000, l.e, LIST_IOVA, LIST_CAP, &prp1, &prp2), -EINVAL);
	/* A list is needed but there is none, or its address is misaligned. */
	assert_int_equal(
	    nvme_prp_build(0x700000, 3 * PS, PS, NULL, LIST_IOVA, LIST_CAP, &prp1, &prp2), -EINVAL);
	assert_int_equal(
	    nvme_prp_build(0x700000, 3 * PS, PS, l.e, LIST_IOVA + 2, LIST_CAP, &prp1, &prp2),
	    -EINVAL);
}

static void test_other_page_size(void **state)
{
	struct list_page l;
	uint64_t prp1, prp2;

	(void)state;
	poison(&l);
	/* 64 KiB memory pages (CC.MPS = 4): boundaries move accordingly. */
	assert_int_equal(
	    nvme_prp_build(0x10000, 0x10000, 0x10000, l.e, LIST_IOVA, LIST_CAP, &prp1, &prp2), 0);
	assert_int_equal(prp2, 0);
	assert_int_equal(
	    nvme_prp_build(0x18000, 0x28000, 0x10000, l.e, LIST_IOVA, LIST_CAP, &prp1, &prp2), 0);
	assert_int_equal(prp1, 0x18000);
	assert_int_equal(prp2, LIST_IOVA);
	assert_int_equal(le64toh(l.e[0]), 0x20000);
	assert_int_equal(le64toh(l.e[1]), 0x30000);
	assert_int_equal(l.e[2], POISON);
}

/*
 * Walk a PRP description the way a controller does and check it covers exactly
 * [iova, iova + len), in order, with every entry after the first page-aligned.
 */
static void check_covers(vdf_iova_t iova, uint32_t len, uint64_t prp1, uint64_t prp2,
			 const uint64_t *list)
{
	uint64_t expect = iova, left = len, seg;

	assert_int_equal(prp1, iova);
	seg = VDF_MIN(left, PS - (prp1 & (PS - 1)));
	expect += seg;
	left -= seg;
	if (!left) {
		assert_int_equal(prp2, 0);
		return;
	}
	if (left <= PS) {
		assert_int_equal(prp2, expect);
		assert_int_equal(prp2 & (PS - 1), 0);
		return;
	}
	assert_int_equal(prp2, LIST_IOVA);
	for (unsigned i = 0; left; i++) {
		uint64_t e = le64toh(list[i]);

		assert_true(i < LIST_CAP);
		assert_int_equal(e & (PS - 1), 0);
		assert_int_equal(e, expect);
		seg = VDF_MIN(left, (uint64_t)PS);
		expect += seg;
		left -= seg;
	}
}

static void test_random_transfers(void **state)
{
	struct list_page *l = malloc(sizeof(*l));
	uint64_t seed = 0x9e3779b97f4a7c15ull;

	(void)state;
	assert_non_null(l);
	for (unsigned n = 0; n < 20000; n++) {
		uint64_t prp1, prp2, need;
		vdf_iova_t iova;
		uint32_t len;
		int rc;

		/* xorshift: a fixed sequence, so failures reproduce. */
		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		iova = 0x40000000ull + ((seed & 0xffffffull) & ~3ull);
		len = (uint32_t)((seed >> 24) % (PS * (LIST_CAP + 2))) + 1;
		poison(l);
		rc = build(iova, len, l, LIST_CAP, &prp1, &prp2);
		need = (iova + len - 1) / PS - iova / PS; /* pages after the first */
		if (need > LIST_CAP) {
			assert_int_equal(rc, -E2BIG);
			continue;
		}
		assert_int_equal(rc, 0);
		check_covers(iova, len, prp1, prp2, l->e);
		if (need >= 2)
			assert_int_equal(l->e[need], POISON);
	}
	free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_single_page),	       cmocka_unit_test(test_exact_page),
	    cmocka_unit_test(test_cross_one_boundary), cmocka_unit_test(test_offset_multiple_pages),
	    cmocka_unit_test(test_full_list),	       cmocka_unit_test(test_list_too_long),
	    cmocka_unit_test(test_list_cap_too_small), cmocka_unit_test(test_bad_arguments),
	    cmocka_unit_test(test_other_page_size),    cmocka_unit_test(test_random_transfers),
	};

	return cmocka_run_group_tests_name("nvme_prp", tests, NULL, NULL);
}
