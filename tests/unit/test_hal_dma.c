// SPDX-License-Identifier: MIT
/*
 * DMA memory (lib/hal/dma.c) on the mock backend: buffers, caller mappings,
 * address translation, mapped-byte accounting, pools and scatter-gather lists.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vdf/dma.h"
#include "vdf/hal.h"
#include "vdf/log.h"
#include "vdf/mock.h"

static void quiet_log(int level, const char *component, const char *dev, const char *msg, void *ctx)
{
	(void)level;
	(void)component;
	(void)dev;
	(void)msg;
	(void)ctx;
}

static int group_setup(void **state)
{
	(void)state;
	vdf_log_set_sink(quiet_log, NULL);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	vdf_log_set_sink(NULL, NULL);
	return 0;
}

static int mock_setup(void **state)
{
	static const struct vdf_mock_config cfg = {
	    .id = {.vendor = 0x1b36, .device = 0x0010},
	    .bar_size = {0x1000},
	};
	struct vdf_mock *m;

	if (vdf_mock_create(&cfg, &m))
		return -1;
	*state = m;
	return 0;
}

static int mock_teardown(void **state)
{
	struct vdf_mock *m = *state;

	/* Every test gives back what it mapped. */
	assert_int_equal(vdf_dma_mapped_bytes(vdf_mock_dev(m)), 0);
	vdf_dev_close(vdf_mock_dev(m));
	return 0;
}

static int all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

static void test_alloc_rounding(void **state)
{
	static const struct {
		size_t req, got;
	} cases[] = {
	    {1, 4096}, {4095, 4096}, {4096, 4096}, {4097, 8192}, {3 * 4096 + 17, 4 * 4096},
	};
	struct vdf_mock *m = *state;
	struct vdf_dev *dev = vdf_mock_dev(m);

	for (unsigned i = 0; i < VDF_ARRAY_SIZE(cases); i++) {
		struct vdf_dma_buf *buf;

		assert_int_equal(vdf_dma_alloc(dev, cases[i].req, VDF_DMA_FROM_DEVICE, &buf), 0);
		assert_int_equal(buf->size, cases[i].got);
		assert_true(VDF_IS_ALIGNED((uintptr_t)buf->va, VDF_PAGE_SIZE));
		assert_true(VDF_IS_ALIGNED(buf->iova, VDF_PAGE_SIZE));
		assert_true(all_zero(buf->va, buf->size));
		assert_int_equal(buf->dir, VDF_DMA_FROM_DEVICE);
		assert_ptr_equal(buf->dev, dev);
		assert_int_equal(buf->owns_memory, 1);
		/* All of it is writable, and the device reaches all of it. */
		memset(buf->va, 0xee, buf->size);
		assert_ptr_equal(vdf_mock_dma_ptr(m, buf->iova, buf->size), buf->va);
		vdf_dma_free(buf);
	}
}

static void test_alloc_zeroed_after_reuse(void **state)
{
	struct vdf_dev *dev = vdf_mock_dev(*state);
	struct vdf_dma_buf *a, *b;

	/* Freed memory dirtied by a previous user never comes back unzeroed. */
	for (int round = 0; round < 4; round++) {
		assert_int_equal(vdf_dma_alloc(dev, 3 * 4096, VDF_DMA_BIDIRECTIONAL, &a), 0);
		assert_true(all_zero(a->va, a->size));
		memset(a->va, 0xff, a->size);
		assert_int_equal(vdf_dma_alloc(dev, 4096, VDF_DMA_BIDIRECTIONAL, &b), 0);
		assert_true(all_zero(b->va, b->size));
		vdf_dma_free(a);
		vdf_dma_free(b);
	}
}

static void test_alloc_rejects(void **state)
{
	struct vdf_dev *dev = vdf_mock_dev(*state);
	struct vdf_dma_buf *buf = NULL;

	assert_int_equal(vdf_dma_alloc(dev, 0, VDF_DMA_TO_DEVICE, &buf), -EINVAL);
	assert_null(buf);
	vdf_dma_free(NULL);
}

static void test_dma_iova(void **state)
{
	struct vdf_dev *dev = vdf_mock_dev(*state);
	struct vdf_dma_buf *buf;
	uint8_t *va;
	vdf_iova_t iova = 0x1234;

	assert_int_equal(vdf_dma_alloc(dev, 2 * 4096, VDF_DMA_BIDIRECTIONAL, &buf), 0);
	va = buf->va;
	assert_int_equal(vdf_dma_iova(buf, va, &iova), 0);
	assert_int_equal(iova, buf->iova);
	assert_int_equal(vdf_dma_iova(buf, va + 4100, &iova), 0);
	assert_int_equal(iova, buf->iova + 4100);
	assert_int_equal(vdf_dma_iova(buf, va + buf->size - 1, &iova), 0);
	assert_int_equal(iova, buf->iova + buf->size - 1);

	iova = 0x1234;
	assert_int_equal(vdf_dma_iova(buf, va + buf->size, &iova), -ERANGE);
	assert_int_equal(vdf_dma_iova(buf, (void *)((uintptr_t)va - 1), &iova), -ERANGE);
	assert_int_equal(vdf_dma_iova(buf, NULL, &iova), -ERANGE);
	assert_int_equal(vdf_dma_iova(buf, (void *)UINTPTR_MAX, &iova), -ERANGE);
	assert_int_equal(vdf_dma_iova(buf, &iova, &iova), -ERANGE);
	assert_int_equal(iova, 0x1234);
	vdf_dma_free(buf);
}

static void test_dma_map_caller_memory(void **state)
{
	struct vdf_mock *m = *state;
	struct vdf_dev *dev = vdf_mock_dev(m);
	uint8_t *mem = aligned_alloc(VDF_PAGE_SIZE, 4 * VDF_PAGE_SIZE);
	struct vdf_dma_buf *buf = NULL;
	vdf_iova_t iova;

	assert_non_null(mem);
	memset(mem, 0x3c, 4 * VDF_PAGE_SIZE);
	assert_int_equal(vdf_dma_map(dev, mem + 1, 4096, VDF_DMA_TO_DEVICE, &buf), -EINVAL);
	assert_int_equal(vdf_dma_map(dev, mem + 2048, 4096, VDF_DMA_TO_DEVICE, &buf), -EINVAL);
	assert_int_equal(vdf_dma_map(dev, mem, 100, VDF_DMA_TO_DEVICE, &buf), -EINVAL);
	assert_int_equal(vdf_dma_map(dev, mem, 4097, VDF_DMA_TO_DEVICE, &buf), -EINVAL);
	assert_int_equal(vdf_dma_map(dev, mem, 0, VDF_DMA_TO_DEVICE, &buf), -EINVAL);
	assert_null(buf);
	assert_int_equal(vdf_dma_mapped_bytes(dev), 0);

	assert_int_equal(vdf_dma_map(dev, mem + 4096, 2 * 4096, VDF_DMA_TO_DEVICE, &buf), 0);
	assert_ptr_equal(buf->va, mem + 4096);
	assert_int_equal(buf->size, 2 * 4096);
	assert_int_equal(buf->owns_memory, 0);
	assert_int_equal(vdf_dma_mapped_bytes(dev), 2 * 4096);
	/* Mapping leaves the contents alone. */
	assert_int_equal(mem[4096], 0x3c);
	assert_int_equal(vdf_dma_iova(buf, mem + 4096 + 8, &iova), 0);
	assert_int_equal(iova, buf->iova + 8);
	assert_int_equal(vdf_dma_iova(buf, mem, &iova), -ERANGE);
	/* Only the mapped pages are reachable by the device. */
	assert_non_null(vdf_mock_dma_ptr(m, buf->iova, buf->size));
	assert_null(vdf_mock_dma_ptr(m, buf->iova + buf->size, 1));

	vdf_dma_free(buf);
	assert_int_equal(vdf_dma_mapped_bytes(dev), 0);
	/* The caller's memory is still the caller's (not unmapped by free). */
	mem[4096] = 1;
	memset(mem, 0, 4 * VDF_PAGE_SIZE);
	free(mem);
}

static void test_mapped_bytes(void **state)
{
	struct vdf_mock *m = *state;
	struct vdf_dev *dev = vdf_mock_dev(m);
	struct vdf_mock_fault f = {.kind = VDF_MOCK_FAULT_DMA_MAP, .count = 1};
	struct vdf_dma_buf *a, *b, *c, *d = NULL;
	void *mem = aligned_alloc(VDF_PAGE_SIZE, 2 * VDF_PAGE_SIZE);

	assert_non_null(mem);
	assert_int_equal(vdf_dma_mapped_bytes(dev), 0);
	assert_int_equal(vdf_dma_alloc(dev, 1, VDF_DMA_TO_DEVICE, &a), 0);
	assert_int_equal(vdf_dma_mapped_bytes(dev), 4096);
	assert_int_equal(vdf_dma_alloc(dev, 3 * 4096, VDF_DMA_TO_DEVICE, &b), 0);
	assert_int_equal(vdf_dma_mapped_bytes(dev), 4 * 4096);
	assert_int_equal(vdf_dma_map(dev, mem, 2 * 4096, VDF_DMA_TO_DEVICE, &c), 0);
	assert_int_equal(vdf_dma_mapped_bytes(dev), 6 * 4096);

	/* A failed mapping changes nothing. */
	assert_int_equal(vdf_mock_inject(m, &f), 0);
	assert_int_equal(vdf_dma_alloc(dev, 4096, VDF_DMA_TO_DEVICE, &d), -EFAULT);
	assert_null(d);
	assert_int_equal(vdf_dma_mapped_bytes(dev), 6 * 4096);

	vdf_dma_free(b);
	assert_int_equal(vdf_dma_mapped_bytes(dev), 3 * 4096);
	vdf_dma_free(c);
	assert_int_equal(vdf_dma_mapped_bytes(dev), 4096);
	vdf_dma_free(a);
	assert_int_equal(vdf_dma_mapped_bytes(dev), 0);
	free(mem);
}

static void test_sync_calls(void **state)
{
	struct vdf_dev *dev = vdf_mock_dev(*state);
	struct vdf_dma_buf *buf;

	assert_int_equal(vdf_dma_alloc(dev, 4096, VDF_DMA_BIDIRECTIONAL, &buf), 0);
	((uint32_t *)buf->va)[0] = 0x11223344;
	vdf_dma_sync_for_device(buf, 0, 4);
	vdf_dma_sync_for_cpu(buf, 0, buf->size);
	assert_int_equal(((uint32_t *)buf->va)[0], 0x11223344);
	vdf_dma_free(buf);
}

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;

	return x < y ? -1 : x > y;
}

static void check_pool(struct vdf_mock *m, size_t obj_size, size_t align, unsigned count)
{
	struct vdf_dev *dev = vdf_mock_dev(m);
	struct vdf_dma_pool *pool;
	uintptr_t *vas = calloc(count, sizeof(*vas));
	void *va, *again;
	vdf_iova_t iova;

	assert_non_null(vas);
	assert_int_equal(vdf_dma_pool_create(dev, obj_size, align, count, &pool), 0);
	assert_int_equal(vdf_dma_pool_available(pool), count);
	assert_true(vdf_dma_mapped_bytes(dev) >= obj_size * count);
	assert_true(VDF_IS_ALIGNED(vdf_dma_mapped_bytes(dev), (size_t)VDF_PAGE_SIZE));

	for (unsigned i = 0; i < count; i++) {
		assert_int_equal(vdf_dma_pool_get(pool, &va, &iova), 0);
		assert_true(VDF_IS_ALIGNED((uintptr_t)va, align));
		assert_true(VDF_IS_ALIGNED(iova, align));
		/* The IOVA names the same memory as va (mock IOVAs are identity). */
		assert_ptr_equal(vdf_mock_dma_ptr(m, iova, obj_size), va);
		assert_true(all_zero(va, obj_size));
		memset(va, (int)(i + 1), obj_size);
		vas[i] = (uintptr_t)va;
		assert_int_equal(vdf_dma_pool_available(pool), count - i - 1);
	}
	assert_int_equal(vdf_dma_pool_get(pool, &va, &iova), -ENOMEM);

	/* Distinct objects that do not overlap, each still holding what was written. */
	for (unsigned i = 0; i < count; i++) {
		const uint8_t *p = (const uint8_t *)vas[i];

		assert_int_equal(p[0], (uint8_t)(i + 1));
		assert_int_equal(p[obj_size - 1], (uint8_t)(i + 1));
	}
	qsort(vas, count, sizeof(*vas), cmp_ptr);
	for (unsigned i = 1; i < count; i++)
		assert_true(vas[i] - vas[i - 1] >= obj_size);

	/* Put one back: it is the next one handed out. */
	vdf_dma_pool_put(pool, (void *)vas[count / 2]);
	assert_int_equal(vdf_dma_pool_available(pool), 1);
	assert_int_equal(vdf_dma_pool_get(pool, &again, &iova), 0);
	assert_ptr_equal(again, (void *)vas[count / 2]);
	assert_ptr_equal(vdf_mock_dma_ptr(m, iova, obj_size), again);
	assert_int_equal(vdf_dma_pool_get(pool, &va, &iova), -ENOMEM);

	for (unsigned i = 0; i < count; i++)
		vdf_dma_pool_put(pool, (void *)vas[i]);
	assert_int_equal(vdf_dma_pool_available(pool), count);
	vdf_dma_pool_destroy(pool);
	assert_int_equal(vdf_dma_mapped_bytes(dev), 0);
	free(vas);
}

static void test_pool_small_objects(void **state)
{
	check_pool(*state, 48, 64, 10);
}

static void test_pool_unaligned_size(void **state)
{
	check_pool(*state, 13, 4, 100);
}

static void test_pool_page_objects(void **state)
{
	check_pool(*state, 4096, 4096, 8);
}

static void test_pool_big_objects(void **state)
{
	check_pool(*state, 5000, 4096, 3);
}

static void test_pool_single(void **state)
{
	check_pool(*state, 64, 1, 1);
}

static void test_pool_rejects(void **state)
{
	struct vdf_mock *m = *state;
	struct vdf_dev *dev = vdf_mock_dev(m);
	struct vdf_mock_fault f = {.kind = VDF_MOCK_FAULT_DMA_MAP, .count = 1};
	struct vdf_dma_pool *pool = NULL;

	assert_int_equal(vdf_dma_pool_create(dev, 0, 64, 4, &pool), -EINVAL);
	assert_int_equal(vdf_dma_pool_create(dev, 64, 64, 0, &pool), -EINVAL);
	assert_int_equal(vdf_dma_pool_create(dev, 64, 0, 4, &pool), -EINVAL);
	assert_int_equal(vdf_dma_pool_create(dev, 64, 48, 4, &pool), -EINVAL);
	assert_int_equal(vdf_dma_pool_create(dev, 64, 2 * VDF_PAGE_SIZE, 4, &pool), -EINVAL);
	assert_null(pool);

	/* The backing mapping fails: nothing is left behind (LSan checks the rest). */
	assert_int_equal(vdf_mock_inject(m, &f), 0);
	assert_int_equal(vdf_dma_pool_create(dev, 64, 64, 4, &pool), -EFAULT);
	assert_null(pool);
	assert_int_equal(vdf_dma_mapped_bytes(dev), 0);
	vdf_dma_pool_destroy(NULL);
}

static void test_sgl_merge(void **state)
{
	struct vdf_sgl sgl;

	(void)state;
	assert_int_equal(vdf_sgl_init(&sgl, 4), 0);
	assert_int_equal(sgl.cap, 4);
	assert_int_equal(sgl.count, 0);

	assert_int_equal(vdf_sgl_add(&sgl, 0x10000, 0x1000), 0);
	assert_int_equal(vdf_sgl_add(&sgl, 0x11000, 0x800), 0);
	assert_int_equal(vdf_sgl_add(&sgl, 0x11800, 0x800), 0);
	assert_int_equal(sgl.count, 1);
	assert_int_equal(sgl.ents[0].iova, 0x10000);
	assert_int_equal(sgl.ents[0].len, 0x2000);
	assert_int_equal(sgl.total, 0x2000);

	/* A gap, then a range that ends where the previous starts: no merge. */
	assert_int_equal(vdf_sgl_add(&sgl, 0x20000, 0x100), 0);
	assert_int_equal(vdf_sgl_add(&sgl, 0x1ff00, 0x100), 0);
	assert_int_equal(sgl.count, 3);
	assert_int_equal(sgl.ents[1].iova, 0x20000);
	assert_int_equal(sgl.ents[2].iova, 0x1ff00);
	assert_int_equal(sgl.total, 0x2200);

	/* Entries merge up to the 32-bit length limit, never past it. */
	assert_int_equal(vdf_sgl_add(&sgl, 0x100000000ull, UINT32_MAX - 0xff), 0);
	assert_int_equal(sgl.count, 4);
	assert_int_equal(vdf_sgl_add(&sgl, 0x100000000ull + UINT32_MAX - 0xff, 0x80), 0);
	assert_int_equal(sgl.ents[3].len, UINT32_MAX - 0x7f);
	assert_int_equal(vdf_sgl_add(&sgl, 0x100000000ull + UINT32_MAX - 0x7f, 0x100), -ENOSPC);
	assert_int_equal(sgl.count, 4);

	vdf_sgl_fini(&sgl);
	assert_null(sgl.ents);
	assert_int_equal(sgl.count, 0);
}

static void test_sgl_full(void **state)
{
	struct vdf_sgl sgl;
	uint64_t total;

	(void)state;
	assert_int_equal(vdf_sgl_init(&sgl, 2), 0);
	assert_int_equal(vdf_sgl_add(&sgl, 0x1000, 0x200), 0);
	assert_int_equal(vdf_sgl_add(&sgl, 0x3000, 0x200), 0);
	total = sgl.total;
	assert_int_equal(vdf_sgl_add(&sgl, 0x5000, 0x200), -ENOSPC);
	assert_int_equal(sgl.count, 2);
	assert_int_equal(sgl.total, total);
	/* Full, but a contiguous range still merges into the last entry. */
	assert_int_equal(vdf_sgl_add(&sgl, 0x3200, 0x200), 0);
	assert_int_equal(sgl.count, 2);
	assert_int_equal(sgl.ents[1].len, 0x400);
	assert_int_equal(sgl.total, total + 0x200);

	vdf_sgl_reset(&sgl);
	assert_int_equal(sgl.count, 0);
	assert_int_equal(sgl.total, 0);
	assert_int_equal(sgl.cap, 2);
	/* After a reset, nothing merges with the stale entries. */
	assert_int_equal(vdf_sgl_add(&sgl, 0x3400, 0x100), 0);
	assert_int_equal(sgl.count, 1);
	assert_int_equal(sgl.ents[0].iova, 0x3400);
	assert_int_equal(sgl.ents[0].len, 0x100);
	vdf_sgl_fini(&sgl);
}

static void test_sgl_rejects(void **state)
{
	struct vdf_sgl sgl;

	(void)state;
	assert_int_equal(vdf_sgl_init(&sgl, 0), -EINVAL);
	assert_null(sgl.ents);
	vdf_sgl_fini(&sgl);

	assert_int_equal(vdf_sgl_init(&sgl, 1), 0);
	assert_int_equal(vdf_sgl_add(&sgl, 0x1000, 0), -EINVAL);
	assert_int_equal(sgl.count, 0);
	assert_int_equal(vdf_sgl_add(&sgl, 0x1000, 0x10), 0);
	assert_int_equal(vdf_sgl_add(&sgl, 0x1010, 0), -EINVAL);
	assert_int_equal(sgl.ents[0].len, 0x10);
	assert_int_equal(sgl.total, 0x10);
	vdf_sgl_fini(&sgl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_alloc_rounding, mock_setup, mock_teardown),
	    cmocka_unit_test_setup_teardown(test_alloc_zeroed_after_reuse, mock_setup,
					    mock_teardown),
	    cmocka_unit_test_setup_teardown(test_alloc_rejects, mock_setup, mock_teardown),
	    cmocka_unit_test_setup_teardown(test_dma_iova, mock_setup, mock_teardown),
	    cmocka_unit_test_setup_teardown(test_dma_map_caller_memory, mock_setup, mock_teardown),
	    cmocka_unit_test_setup_teardown(test_mapped_bytes, mock_setup, mock_teardown),
	    cmocka_unit_test_setup_teardown(test_sync_calls, mock_setup, mock_teardown),
	    cmocka_unit_test_setup_teardown(test_pool_small_objects, mock_setup, mock_teardown),
	    cmocka_unit_test_setup_teardown(test_pool_unaligned_size, mock_setup, mock_teardown),
	    cmocka_unit_test_setup_teardown(test_pool_page_objects, mock_setup, mock_teardown),
	    cmocka_unit_test_setup_teardown(test_pool_big_objects, mock_setup, mock_teardown),
	    cmocka_unit_test_setup_teardown(test_pool_single, mock_setup, mock_teardown),
	    cmocka_unit_test_setup_teardown(test_pool_rejects, mock_setup, mock_teardown),
	    cmocka_unit_test(test_sgl_merge),
	    cmocka_unit_test(test_sgl_full),
	    cmocka_unit_test(test_sgl_rejects),
	};

	return cmocka_run_group_tests_name("hal_dma", tests, group_setup, group_teardown);
}
