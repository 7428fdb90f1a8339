// SPDX-License-Identifier: MIT
/*
 * Block class (lib/class/block.c): vdf_block_validate, the request checks every
 * block driver runs before touching hardware, and the synchronous helpers on
 * top of a small in-memory fake block device.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vdf/block.h"
#include "vdf/dma.h"
#include "vdf/hal.h"
#include "vdf/log.h"
#include "vdf/mock.h"

#define BLOCK_SIZE 512u
#define NUM_BLOCKS 1000u
#define BUF_BYTES  (2 * VDF_PAGE_SIZE) /* 16 blocks */

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

struct env {
	struct vdf_mock *mock;
	struct vdf_dma_buf *dma, *other;
	struct vdf_block_dev bdev;
	struct vdf_block_info info;
};

static int env_setup(void **state)
{
	static const struct vdf_mock_config cfg = {.id = {.vendor = 0x1b36, .device = 0x0010}};
	struct env *e = calloc(1, sizeof(*e));

	if (!e)
		return -1;
	if (vdf_mock_create(&cfg, &e->mock))
		goto out_free;
	if (vdf_dma_alloc(vdf_mock_dev(e->mock), BUF_BYTES, VDF_DMA_BIDIRECTIONAL, &e->dma))
		goto out_close;
	if (vdf_dma_alloc(vdf_mock_dev(e->mock), BUF_BYTES, VDF_DMA_BIDIRECTIONAL, &e->other))
		goto out_free_dma;
	e->bdev.name = "blk0";
	e->info = (struct vdf_block_info){
	    .num_blocks = NUM_BLOCKS,
	    .block_size = BLOCK_SIZE,
	    .max_transfer = 128 * 1024,
	    .queue_depth = 32,
	    .supports_discard = true,
	    .supports_write_zeroes = true,
	};
	*state = e;
	return 0;

out_free_dma:
	vdf_dma_free(e->dma);
out_close:
	vdf_dev_close(vdf_mock_dev(e->mock));
out_free:
	free(e);
	return -1;
}

static int env_teardown(void **state)
{
	struct env *e = *state;

	vdf_dma_free(e->other);
	vdf_dma_free(e->dma);
	vdf_dev_close(vdf_mock_dev(e->mock));
	free(e);
	return 0;
}

static void done_cb(void *arg, int status)
{
	(void)arg;
	(void)status;
}

static struct vdf_block_req req_of(struct env *e, enum vdf_block_op op, uint64_t lba, uint32_t n)
{
	struct vdf_block_req r = {.op = op, .lba = lba, .nblocks = n, .cb = done_cb};

	if (op == VDF_BLOCK_READ || op == VDF_BLOCK_WRITE) {
		r.buf = e->dma->va;
		r.dma = e->dma;
	}
	return r;
}

static int validate(struct env *e, const struct vdf_block_req *r)
{
	return vdf_block_validate(&e->bdev, &e->info, r);
}

static void test_ok(void **state)
{
	struct env *e = *state;
	struct vdf_block_req r;

	r = req_of(e, VDF_BLOCK_READ, 0, 1);
	assert_int_equal(validate(e, &r), 0);
	r = req_of(e, VDF_BLOCK_WRITE, 10, 16); /* exactly fills the buffer */
	assert_int_equal(validate(e, &r), 0);
	r = req_of(e, VDF_BLOCK_READ, NUM_BLOCKS - 16, 16); /* ends on the last block */
	assert_int_equal(validate(e, &r), 0);
	r.fua = true;
	r.op = VDF_BLOCK_WRITE;
	assert_int_equal(validate(e, &r), 0);
	/* A buffer in the middle of its mapping, aligned to 4 bytes. */
	r = req_of(e, VDF_BLOCK_READ, 0, 2);
	r.buf = (uint8_t *)e->dma->va + BUF_BYTES - 2 * BLOCK_SIZE;
	assert_int_equal(validate(e, &r), 0);
	r.buf = (uint8_t *)e->dma->va + 4;
	assert_int_equal(validate(e, &r), 0);

	r = req_of(e, VDF_BLOCK_FLUSH, 0, 0);
	assert_int_equal(validate(e, &r), 0);
	/* Discard and write-zeroes carry no buffer and may be larger than one. */
	r = req_of(e, VDF_BLOCK_DISCARD, 0, NUM_BLOCKS);
	assert_int_equal(validate(e, &r), 0);
	r = req_of(e, VDF_BLOCK_WRITE_ZEROES, 500, 500);
	assert_int_equal(validate(e, &r), 0);
}

static void test_past_end(void **state)
{
	struct env *e = *state;
	struct vdf_block_req r;

	r = req_of(e, VDF_BLOCK_READ, NUM_BLOCKS, 1);
	assert_int_equal(validate(e, &r), -ERANGE);
	r = req_of(e, VDF_BLOCK_READ, NUM_BLOCKS - 1, 2);
	assert_int_equal(validate(e, &r), -ERANGE);
	r = req_of(e, VDF_BLOCK_WRITE, NUM_BLOCKS - 15, 16);
	assert_int_equal(validate(e, &r), -ERANGE);
	r = req_of(e, VDF_BLOCK_DISCARD, 1, NUM_BLOCKS);
	assert_int_equal(validate(e, &r), -ERANGE);
	r = req_of(e, VDF_BLOCK_WRITE_ZEROES, 2 * NUM_BLOCKS, 1);
	assert_int_equal(validate(e, &r), -ERANGE);
	/* An empty device accepts nothing. */
	e->info.num_blocks = 0;
	r = req_of(e, VDF_BLOCK_READ, 0, 1);
	assert_int_equal(validate(e, &r), -ERANGE);
}

static void test_lba_overflow(void **state)
{
	struct env *e = *state;
	struct vdf_block_req r;

	/* lba + nblocks wraps around to a small number. */
	e->info.num_blocks = UINT64_MAX;
	r = req_of(e, VDF_BLOCK_READ, UINT64_MAX - 3, 8);
	assert_int_equal(validate(e, &r), -ERANGE);
	r = req_of(e, VDF_BLOCK_READ, UINT64_MAX, 1);
	assert_int_equal(validate(e, &r), -ERANGE);
	r = req_of(e, VDF_BLOCK_DISCARD, UINT64_MAX - 1, UINT32_MAX);
	assert_int_equal(validate(e, &r), -ERANGE);
	/* The last block of the largest device is fine. */
	r = req_of(e, VDF_BLOCK_READ, UINT64_MAX - 1, 1);
	assert_int_equal(validate(e, &r), 0);

	e->info.num_blocks = NUM_BLOCKS;
	r = req_of(e, VDF_BLOCK_WRITE, UINT64_MAX - 3, 8);
	assert_int_equal(validate(e, &r), -ERANGE);
	r = req_of(e, VDF_BLOCK_WRITE_ZEROES, 10, UINT32_MAX);
	assert_int_equal(validate(e, &r), -ERANGE);
}

static void test_zero_blocks(void **state)
{
	static const enum vdf_block_op ops[] = {VDF_BLOCK_READ, VDF_BLOCK_WRITE, VDF_BLOCK_DISCARD,
						VDF_BLOCK_WRITE_ZEROES};
	struct env *e = *state;

	for (unsigned i = 0; i < VDF_ARRAY_SIZE(ops); i++) {
		struct vdf_block_req r = req_of(e, ops[i], 0, 0);

		assert_int_equal(validate(e, &r), -EINVAL);
	}
}

static void test_no_callback(void **state)
{
	static const enum vdf_block_op ops[] = {VDF_BLOCK_READ, VDF_BLOCK_WRITE, VDF_BLOCK_FLUSH,
						VDF_BLOCK_DISCARD, VDF_BLOCK_WRITE_ZEROES};
	struct env *e = *state;

	for (unsigned i = 0; i < VDF_ARRAY_SIZE(ops); i++) {
		struct vdf_block_req r = req_of(e, ops[i], 0, 1);

		r.cb = NULL;
		assert_int_equal(validate(e, &r), -EINVAL);
	}
}

static void test_unknown_op(void **state)
{
	struct env *e = *state;
	struct vdf_block_req r = req_of(e, VDF_BLOCK_READ, 0, 1);

	r.op = (enum vdf_block_op)42;
	assert_int_equal(validate(e, &r), -EINVAL);
	assert_string_equal(vdf_block_op_name(r.op), "?");
	assert_string_equal(vdf_block_op_name(VDF_BLOCK_WRITE_ZEROES), "write-zeroes");
}

static void test_misaligned_buffer(void **state)
{
	struct env *e = *state;
	struct vdf_block_req r = req_of(e, VDF_BLOCK_READ, 0, 1);

	for (unsigned off = 1; off < 4; off++) {
		r.buf = (uint8_t *)e->dma->va + off;
		assert_int_equal(validate(e, &r), -EINVAL);
	}
	r.op = VDF_BLOCK_WRITE;
	r.buf = (uint8_t *)e->dma->va + 6;
	assert_int_equal(validate(e, &r), -EINVAL);
}

static void test_missing_buffer(void **state)
{
	struct env *e = *state;
	struct vdf_block_req r = req_of(e, VDF_BLOCK_READ, 0, 1);

	r.buf = NULL;
	assert_int_equal(validate(e, &r), -EINVAL);
	r = req_of(e, VDF_BLOCK_WRITE, 0, 1);
	r.dma = NULL;
	assert_int_equal(validate(e, &r), -EINVAL);
}

static void test_buffer_outside_mapping(void **state)
{
	struct env *e = *state;
	struct vdf_block_req r;

	/* Runs off the end of its mapping by one block. */
	r = req_of(e, VDF_BLOCK_READ, 0, 17);
	assert_int_equal(validate(e, &r), -EFAULT);
	r = req_of(e, VDF_BLOCK_WRITE, 0, 2);
	r.buf = (uint8_t *)e->dma->va + BUF_BYTES - BLOCK_SIZE;
	assert_int_equal(validate(e, &r), -EFAULT);
	/* Starts at the end of the mapping. */
	r.buf = (uint8_t *)e->dma->va + BUF_BYTES;
	r.nblocks = 1;
	assert_int_equal(validate(e, &r), -EFAULT);
	/* Lies in another DMA buffer than the one named. */
	r = req_of(e, VDF_BLOCK_READ, 0, 1);
	r.buf = e->other->va;
	assert_int_equal(validate(e, &r), -EFAULT);
	/* Plain heap memory the device cannot reach. */
	{
		uint32_t *heap = malloc(BLOCK_SIZE);

		assert_non_null(heap);
		r.buf = heap;
		assert_int_equal(validate(e, &r), -EFAULT);
		free(heap);
	}
	/* A large block size makes even one block too big for the buffer. */
	e->info.block_size = 4 * VDF_PAGE_SIZE;
	r = req_of(e, VDF_BLOCK_READ, 0, 1);
	assert_int_equal(validate(e, &r), -EFAULT);
}

static void test_read_only(void **state)
{
	struct env *e = *state;
	struct vdf_block_req r;

	e->info.read_only = true;
	r = req_of(e, VDF_BLOCK_WRITE, 0, 1);
	assert_int_equal(validate(e, &r), -EROFS);
	r = req_of(e, VDF_BLOCK_DISCARD, 0, 1);
	assert_int_equal(validate(e, &r), -EROFS);
	r = req_of(e, VDF_BLOCK_WRITE_ZEROES, 0, 1);
	assert_int_equal(validate(e, &r), -EROFS);
	/* Reads and flushes are still fine. */
	r = req_of(e, VDF_BLOCK_READ, 0, 1);
	assert_int_equal(validate(e, &r), 0);
	r = req_of(e, VDF_BLOCK_FLUSH, 0, 0);
	assert_int_equal(validate(e, &r), 0);
}

static void test_unsupported_ops(void **state)
{
	struct env *e = *state;
	struct vdf_block_req r;

	e->info.supports_discard = false;
	r = req_of(e, VDF_BLOCK_DISCARD, 0, 1);
	assert_int_equal(validate(e, &r), -EOPNOTSUPP);
	r = req_of(e, VDF_BLOCK_WRITE_ZEROES, 0, 1);
	assert_int_equal(validate(e, &r), 0);

	e->info.supports_write_zeroes = false;
	r = req_of(e, VDF_BLOCK_WRITE_ZEROES, 0, 1);
	assert_int_equal(validate(e, &r), -EOPNOTSUPP);
	r = req_of(e, VDF_BLOCK_WRITE, 0, 1);
	assert_int_equal(validate(e, &r), 0);
}

/* --- synchronous helpers over a fake polled device -------------------------- */

struct fake_blk {
	struct env *env;
	uint8_t disk[64 * BLOCK_SIZE];
	struct vdf_block_req pending;
	bool busy;
	int inject_status;
	unsigned submits, polls;
};

static void fake_info(struct vdf_block_dev *bdev, struct vdf_block_info *info)
{
	struct fake_blk *f = bdev->priv;

	*info = f->env->info;
	info->num_blocks = sizeof(f->disk) / BLOCK_SIZE;
}

static int fake_submit(struct vdf_block_dev *bdev, const struct vdf_block_req *req)
{
	struct fake_blk *f = bdev->priv;
	struct vdf_block_info info;
	int rc;

	fake_info(bdev, &info);
	rc = vdf_block_validate(bdev, &info, req);
	if (rc)
		return rc;
	if (f->busy)
		return -EBUSY;
	f->submits++;
	f->pending = *req;
	f->busy = true;
	return 0;
}

static int fake_poll(struct vdf_block_dev *bdev)
{
	struct fake_blk *f = bdev->priv;
	struct vdf_block_req *r = &f->pending;
	size_t off = (size_t)r->lba * BLOCK_SIZE, len = (size_t)r->nblocks * BLOCK_SIZE;

	f->polls++;
	if (!f->busy)
		return 0;
	/* Complete on the second poll, so the caller has to keep polling. */
	if (f->polls % 2)
		return 0;
	f->busy = false;
	if (!f->inject_status) {
		if (r->op == VDF_BLOCK_READ)
			memcpy(r->buf, f->disk + off, len);
		else if (r->op == VDF_BLOCK_WRITE)
			memcpy(f->disk + off, r->buf, len);
		else if (r->op == VDF_BLOCK_WRITE_ZEROES || r->op == VDF_BLOCK_DISCARD)
			memset(f->disk + off, 0, len);
	}
	r->cb(r->cb_arg, f->inject_status);
	return 1;
}

static const struct vdf_block_ops fake_blk_ops = {
    .info = fake_info,
    .submit = fake_submit,
    .poll = fake_poll,
};

static void test_sync_helpers(void **state)
{
	struct env *e = *state;
	struct fake_blk *f = calloc(1, sizeof(*f));
	struct vdf_block_info info;
	uint8_t *buf = e->dma->va;

	assert_non_null(f);
	f->env = e;
	e->bdev.ops = &fake_blk_ops;
	e->bdev.priv = f;
	e->bdev.polled = true;

	vdf_block_info(&e->bdev, &info);
	assert_int_equal(info.num_blocks, 64);

	memset(buf, 0xab, 4 * BLOCK_SIZE);
	assert_int_equal(vdf_block_write(&e->bdev, 8, 4, buf, e->dma), 0);
	assert_int_equal(f->disk[8 * BLOCK_SIZE], 0xab);
	memset(buf, 0, 4 * BLOCK_SIZE);
	assert_int_equal(vdf_block_read(&e->bdev, 8, 4, buf, e->dma), 0);
	assert_int_equal(buf[0], 0xab);
	assert_int_equal(buf[4 * BLOCK_SIZE - 1], 0xab);
	assert_int_equal(vdf_block_flush(&e->bdev), 0);
	assert_int_equal(vdf_block_write_zeroes(&e->bdev, 9, 1), 0);
	assert_int_equal(f->disk[9 * BLOCK_SIZE], 0);
	assert_int_equal(f->disk[8 * BLOCK_SIZE], 0xab);
	assert_int_equal(vdf_block_discard(&e->bdev, 8, 1), 0);
	assert_int_equal(f->disk[8 * BLOCK_SIZE], 0);
	assert_int_equal(f->submits, 5);

	/* Validation failures come back from submit; nothing is queued. */
	assert_int_equal(vdf_block_read(&e->bdev, 64, 1, buf, e->dma), -ERANGE);
	assert_int_equal(vdf_block_read(&e->bdev, 0, 1, buf + 1, e->dma), -EINVAL);
	assert_int_equal(f->submits, 5);

	/* The completion status is what the sync call returns. */
	f->inject_status = -EIO;
	assert_int_equal(vdf_block_read(&e->bdev, 0, 1, buf, e->dma), -EIO);
	f->inject_status = 0;
	assert_int_equal(vdf_block_poll(&e->bdev), 0);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_ok, env_setup, env_teardown),
	    cmocka_unit_test_setup_teardown(test_past_end, env_setup, env_teardown),
	    cmocka_unit_test_setup_teardown(test_lba_overflow, env_setup, env_teardown),
	    cmocka_unit_test_setup_teardown(test_zero_blocks, env_setup, env_teardown),
	    cmocka_unit_test_setup_teardown(test_no_callback, env_setup, env_teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_op, env_setup, env_teardown),
	    cmocka_unit_test_setup_teardown(test_misaligned_buffer, env_setup, env_teardown),
	    cmocka_unit_test_setup_teardown(test_missing_buffer, env_setup, env_teardown),
	    cmocka_unit_test_setup_teardown(test_buffer_outside_mapping, env_setup, env_teardown),
	    cmocka_unit_test_setup_teardown(test_read_only, env_setup, env_teardown),
	    cmocka_unit_test_setup_teardown(test_unsupported_ops, env_setup, env_teardown),
	    cmocka_unit_test_setup_teardown(test_sync_helpers, env_setup, env_teardown),
	};

	return cmocka_run_group_tests_name("block_validate", tests, group_setup, group_teardown);
}
