// SPDX-License-Identifier: MIT
/*
 * Block service descriptors (lib/ipc/blkproto.c): every reason the driver
 * rejects an untrusted request, boundary values and overflow attempts, no side
 * effects on rejection, the little-endian wire layout, completion decoding,
 * idempotence, and the client's retry decisions.
 */
#include <endian.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vdf/blkproto.h"

#define BS	  512u
#define NBLK	  1000u
#define DATA_SIZE (64u * 1024)
#define MAX_XFER  (32u * 1024)

static const struct vdf_blkproto_limits base_lim = {
    .num_blocks = NBLK,
    .block_size = BS,
    .max_transfer = MAX_XFER,
    .data_size = DATA_SIZE,
    .supports_discard = true,
    .supports_write_zeroes = true,
};

static struct vdf_blk_req_wire wire(uint8_t op, uint64_t lba, uint32_t nblocks, uint64_t buf_offset,
				    uint32_t buf_len)
{
	struct vdf_blk_req_wire w = {
	    .id = htole64(0x1122334455667788ull),
	    .generation = htole32(7),
	    .op = op,
	    .lba = htole64(lba),
	    .nblocks = htole32(nblocks),
	    .buf_offset = htole64(buf_offset),
	    .buf_len = htole32(buf_len),
	};
	return w;
}

static struct vdf_blk_req_wire rd(uint64_t lba, uint32_t nblocks, uint64_t off)
{
	return wire(VDF_BLKPROTO_OP_READ, lba, nblocks, off, nblocks * BS);
}

/* Validate and check that a rejection leaves *out untouched. */
static int check(struct vdf_blk_req_wire w, const struct vdf_blkproto_limits *lim)
{
	struct vdf_blk_req out, canary;
	int ret;

	memset(&out, 0xa5, sizeof(out));
	canary = out;
	ret = vdf_blkproto_validate_req(&w, lim, &out);
	if (ret)
		assert_memory_equal(&out, &canary, sizeof(out));
	return ret;
}

static void test_valid_requests(void **state)
{
	struct vdf_blk_req_wire w;
	struct vdf_blk_req r;

	(void)state;
	w = rd(10, 8, 4096);
	assert_int_equal(vdf_blkproto_validate_req(&w, &base_lim, &r), 0);
	assert_int_equal(r.id, 0x1122334455667788ull);
	assert_int_equal(r.generation, 7);
	assert_int_equal(r.op, VDF_BLOCK_READ);
	assert_false(r.fua);
	assert_int_equal(r.lba, 10);
	assert_int_equal(r.nblocks, 8);
	assert_int_equal(r.buf_offset, 4096);
	assert_int_equal(r.buf_len, 8 * BS);

	w = wire(VDF_BLKPROTO_OP_WRITE, 0, 1, 4, BS);
	w.flags = VDF_BLKPROTO_F_FUA;
	assert_int_equal(vdf_blkproto_validate_req(&w, &base_lim, &r), 0);
	assert_int_equal(r.op, VDF_BLOCK_WRITE);
	assert_true(r.fua);

	w = wire(VDF_BLKPROTO_OP_FLUSH, 0, 0, 0, 0);
	assert_int_equal(vdf_blkproto_validate_req(&w, &base_lim, &r), 0);
	assert_int_equal(r.op, VDF_BLOCK_FLUSH);

	w = wire(VDF_BLKPROTO_OP_DISCARD, 0, NBLK, 0, 0);
	w.flags = VDF_BLKPROTO_F_FUA;
	assert_int_equal(vdf_blkproto_validate_req(&w, &base_lim, &r), 0);
	assert_int_equal(r.op, VDF_BLOCK_DISCARD);

	/* Discard and write-zeroes are not bound by max_transfer: no data moves. */
	w = wire(VDF_BLKPROTO_OP_WRITE_ZEROES, NBLK - 1, 1, 0, 0);
	assert_int_equal(vdf_blkproto_validate_req(&w, &base_lim, &r), 0);
	assert_int_equal(r.op, VDF_BLOCK_WRITE_ZEROES);
}

static void test_bad_args(void **state)
{
	struct vdf_blkproto_limits lim = base_lim;
	struct vdf_blk_req_wire w = rd(0, 1, 0);
	struct vdf_blk_req r;

	(void)state;
	assert_int_equal(vdf_blkproto_validate_req(NULL, &lim, &r), -EINVAL);
	assert_int_equal(vdf_blkproto_validate_req(&w, NULL, &r), -EINVAL);
	assert_int_equal(vdf_blkproto_validate_req(&w, &lim, NULL), -EINVAL);
	lim.block_size = 0;
	assert_int_equal(check(w, &lim), -EINVAL);
	lim.block_size = 520;
	assert_int_equal(check(w, &lim), -EINVAL);
}

static void test_reserved_and_flags(void **state)
{
	struct vdf_blk_req_wire w;

	(void)state;
	w = rd(0, 1, 0);
	w.reserved0 = htole16(1);
	assert_int_equal(check(w, &base_lim), -EINVAL);
	w = rd(0, 1, 0);
	w.reserved1 = htole32(0x80000000u);
	assert_int_equal(check(w, &base_lim), -EINVAL);
	w = rd(0, 1, 0);
	w.reserved2 = htole32(1);
	assert_int_equal(check(w, &base_lim), -EINVAL);
	w = rd(0, 1, 0);
	w.flags = 0x02;
	assert_int_equal(check(w, &base_lim), -EINVAL);
	w = rd(0, 1, 0);
	w.flags = 0x80;
	assert_int_equal(check(w, &base_lim), -EINVAL);
	/* FUA makes no sense on read or flush. */
	w = rd(0, 1, 0);
	w.flags = VDF_BLKPROTO_F_FUA;
	assert_int_equal(check(w, &base_lim), -EINVAL);
	w = wire(VDF_BLKPROTO_OP_FLUSH, 0, 0, 0, 0);
	w.flags = VDF_BLKPROTO_F_FUA;
	assert_int_equal(check(w, &base_lim), -EINVAL);
}

static void test_ops(void **state)
{
	struct vdf_blkproto_limits lim = base_lim;
	unsigned op;

	(void)state;
	assert_int_equal(check(wire(0, 0, 1, 0, BS), &lim), -EOPNOTSUPP);
	for (op = 6; op < 256; op++)
		assert_int_equal(check(wire((uint8_t)op, 0, 1, 0, BS), &lim), -EOPNOTSUPP);
	lim.supports_discard = false;
	assert_int_equal(check(wire(VDF_BLKPROTO_OP_DISCARD, 0, 1, 0, 0), &lim), -EOPNOTSUPP);
	lim.supports_write_zeroes = false;
	assert_int_equal(check(wire(VDF_BLKPROTO_OP_WRITE_ZEROES, 0, 1, 0, 0), &lim), -EOPNOTSUPP);
}

static void test_read_only(void **state)
{
	struct vdf_blkproto_limits lim = base_lim;
	struct vdf_blk_req_wire w;

	(void)state;
	lim.read_only = true;
	assert_int_equal(check(wire(VDF_BLKPROTO_OP_WRITE, 0, 1, 0, BS), &lim), -EROFS);
	assert_int_equal(check(wire(VDF_BLKPROTO_OP_DISCARD, 0, 1, 0, 0), &lim), -EROFS);
	assert_int_equal(check(wire(VDF_BLKPROTO_OP_WRITE_ZEROES, 0, 1, 0, 0), &lim), -EROFS);
	w = wire(VDF_BLKPROTO_OP_WRITE, 0, 1, 0, BS);
	w.flags = VDF_BLKPROTO_F_FUA;
	assert_int_equal(check(w, &lim), -EROFS);
	/* Reading and flushing stay allowed. */
	assert_int_equal(check(rd(0, 1, 0), &lim), 0);
	assert_int_equal(check(wire(VDF_BLKPROTO_OP_FLUSH, 0, 0, 0, 0), &lim), 0);
}

static void test_flush_shape(void **state)
{
	(void)state;
	assert_int_equal(check(wire(VDF_BLKPROTO_OP_FLUSH, 1, 0, 0, 0), &base_lim), -EINVAL);
	assert_int_equal(check(wire(VDF_BLKPROTO_OP_FLUSH, 0, 1, 0, 0), &base_lim), -EINVAL);
	assert_int_equal(check(wire(VDF_BLKPROTO_OP_FLUSH, 0, 0, 4, 0), &base_lim), -EINVAL);
	assert_int_equal(check(wire(VDF_BLKPROTO_OP_FLUSH, 0, 0, 0, 4), &base_lim), -EINVAL);
}

static void test_zero_blocks(void **state)
{
	(void)state;
	assert_int_equal(check(wire(VDF_BLKPROTO_OP_READ, 0, 0, 0, 0), &base_lim), -EINVAL);
	assert_int_equal(check(wire(VDF_BLKPROTO_OP_WRITE, 0, 0, 0, 0), &base_lim), -EINVAL);
	assert_int_equal(check(wire(VDF_BLKPROTO_OP_DISCARD, 0, 0, 0, 0), &base_lim), -EINVAL);
	assert_int_equal(check(wire(VDF_BLKPROTO_OP_WRITE_ZEROES, 0, 0, 0, 0), &base_lim), -EINVAL);
}

static void test_lba_range(void **state)
{
	struct vdf_blkproto_limits lim = base_lim;

	(void)state;
	/* Boundaries: last block fine, one past it not. */
	assert_int_equal(check(rd(NBLK - 1, 1, 0), &lim), 0);
	assert_int_equal(check(rd(NBLK - 8, 8, 0), &lim), 0);
	assert_int_equal(check(rd(NBLK, 1, 0), &lim), -ERANGE);
	assert_int_equal(check(rd(NBLK - 7, 8, 0), &lim), -ERANGE);
	/* lba + nblocks wrapping around 2^64 must not pass. */
	assert_int_equal(check(rd(UINT64_MAX, 1, 0), &lim), -ERANGE);
	assert_int_equal(check(rd(UINT64_MAX - 3, 8, 0), &lim), -ERANGE);
	assert_int_equal(
	    check(wire(VDF_BLKPROTO_OP_DISCARD, UINT64_MAX - 10, UINT32_MAX, 0, 0), &lim), -ERANGE);
	/* A device as large as 2^64 blocks: the end is still exact. */
	lim.num_blocks = UINT64_MAX;
	assert_int_equal(check(rd(UINT64_MAX - 1, 1, 0), &lim), 0);
	assert_int_equal(check(rd(UINT64_MAX - 1, 2, 0), &lim), -ERANGE);
	assert_int_equal(check(wire(VDF_BLKPROTO_OP_DISCARD, 1, UINT32_MAX, 0, 0), &lim), 0);
}

static void test_max_transfer(void **state)
{
	struct vdf_blkproto_limits lim = base_lim;

	(void)state;
	assert_int_equal(check(rd(0, MAX_XFER / BS, 0), &lim), 0);
	assert_int_equal(check(rd(0, MAX_XFER / BS + 1, 0), &lim), -EMSGSIZE);
	assert_int_equal(
	    check(wire(VDF_BLKPROTO_OP_WRITE, 0, MAX_XFER / BS + 1, 0, MAX_XFER + BS), &lim),
	    -EMSGSIZE);
	/* nblocks * block_size above 2^32 can't sneak past through buf_len (u32). */
	lim.max_transfer = 0;
	lim.num_blocks = UINT64_MAX;
	assert_int_equal(check(wire(VDF_BLKPROTO_OP_READ, 0, 1u << 23, 0, 0), &lim), -EINVAL);
	assert_int_equal(check(wire(VDF_BLKPROTO_OP_READ, 0, UINT32_MAX, 0, 0xfffffe00u), &lim),
			 -EINVAL);
}

static void test_buf_len(void **state)
{
	(void)state;
	assert_int_equal(check(wire(VDF_BLKPROTO_OP_READ, 0, 2, 0, BS), &base_lim), -EINVAL);
	assert_int_equal(check(wire(VDF_BLKPROTO_OP_READ, 0, 2, 0, 2 * BS + 1), &base_lim),
			 -EINVAL);
	assert_int_equal(check(wire(VDF_BLKPROTO_OP_WRITE, 0, 1, 0, 0), &base_lim), -EINVAL);
	/* No buffer on discard / write-zeroes. */
	assert_int_equal(check(wire(VDF_BLKPROTO_OP_DISCARD, 0, 1, 0, BS), &base_lim), -EINVAL);
	assert_int_equal(check(wire(VDF_BLKPROTO_OP_DISCARD, 0, 1, 8, 0), &base_lim), -EINVAL);
	assert_int_equal(check(wire(VDF_BLKPROTO_OP_WRITE_ZEROES, 0, 1, 0, BS), &base_lim),
			 -EINVAL);
}

static void test_alignment(void **state)
{
	struct vdf_blkproto_limits lim = base_lim;

	(void)state;
	assert_int_equal(check(rd(0, 1, 4), &lim), 0);
	assert_int_equal(check(rd(0, 1, 1), &lim), -EINVAL);
	assert_int_equal(check(rd(0, 1, 2), &lim), -EINVAL);
	assert_int_equal(check(rd(0, 1, 4094), &lim), -EINVAL);
	lim.block_align = true;
	assert_int_equal(check(rd(0, 1, 4), &lim), -EINVAL);
	assert_int_equal(check(rd(0, 1, BS + 4), &lim), -EINVAL);
	assert_int_equal(check(rd(0, 1, BS), &lim), 0);
	/* Alignment is checked before the bounds: a misaligned far offset is -EINVAL. */
	assert_int_equal(check(rd(0, 1, UINT64_MAX), &lim), -EINVAL);
}

static void test_buffer_bounds(void **state)
{
	struct vdf_blkproto_limits lim = base_lim;

	(void)state;
	/* Last fitting buffer, then one byte over. */
	assert_int_equal(check(rd(0, 1, DATA_SIZE - BS), &lim), 0);
	assert_int_equal(check(rd(0, 8, DATA_SIZE - 8 * BS), &lim), 0);
	assert_int_equal(check(rd(0, 1, DATA_SIZE - BS + 4), &lim), -EFAULT);
	assert_int_equal(check(rd(0, 1, DATA_SIZE), &lim), -EFAULT);
	assert_int_equal(check(rd(0, 1, DATA_SIZE + 4096), &lim), -EFAULT);
	/* offset + len wrapping around 2^64. */
	assert_int_equal(check(rd(0, 1, UINT64_MAX - 3), &lim), -EFAULT);
	assert_int_equal(check(rd(0, 8, VDF_ALIGN_DOWN(UINT64_MAX - 100, 4)), &lim), -EFAULT);
	/* No data area at all. */
	lim.data_size = 0;
	assert_int_equal(check(rd(0, 1, 0), &lim), -EFAULT);
	/* Huge data area: still exact at the top. */
	lim.data_size = UINT64_MAX;
	assert_int_equal(check(rd(0, 1, VDF_ALIGN_DOWN(UINT64_MAX - BS, 4)), &lim), 0);
	assert_int_equal(check(rd(0, 1, VDF_ALIGN_DOWN(UINT64_MAX - BS + 4, 4)), &lim), -EFAULT);
}

/* The byte layout on the wire, independent of the host's byte order. */
static void test_wire_layout(void **state)
{
	static const uint8_t expect_req[48] = {
	    0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, /* id */
	    0x44, 0x33, 0x22, 0x11,			    /* generation */
	    0x02, 0x01, 0x00, 0x00,			    /* op, flags, reserved */
	    0x10, 0x0f, 0x0e, 0x0d, 0x0c, 0x0b, 0x0a, 0x09, /* lba */
	    0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* nblocks, reserved */
	    0x00, 0x10, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, /* buf_offset */
	    0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* buf_len, reserved */
	};
	static const uint8_t expect_cpl[16] = {
	    0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, /* id */
	    0x44, 0x33, 0x22, 0x11,			    /* generation */
	    0xfb, 0xff, 0xff, 0xff,			    /* status -5 */
	};
	const struct vdf_blk_req req = {
	    .id = 0x0102030405060708ull,
	    .generation = 0x11223344u,
	    .op = VDF_BLOCK_WRITE,
	    .fua = true,
	    .lba = 0x090a0b0c0d0e0f10ull,
	    .nblocks = 4,
	    .buf_offset = 0x100001000ull,
	    .buf_len = 4 * BS,
	};
	struct vdf_blkproto_limits lim = base_lim;
	struct vdf_blk_req_wire w;
	struct vdf_blk_cpl_wire cw;
	struct vdf_blk_cpl cpl = {.id = req.id, .generation = req.generation, .status = -EIO};
	struct vdf_blk_cpl back;
	struct vdf_blk_req r;

	(void)state;
	vdf_blkproto_encode_req(&req, &w);
	assert_memory_equal(&w, expect_req, sizeof(expect_req));
	lim.num_blocks = UINT64_MAX;
	lim.data_size = 1ull << 40;
	assert_int_equal(vdf_blkproto_validate_req(&w, &lim, &r), 0);
	assert_int_equal(r.id, req.id);
	assert_int_equal(r.generation, req.generation);
	assert_int_equal(r.op, req.op);
	assert_true(r.fua);
	assert_int_equal(r.lba, req.lba);
	assert_int_equal(r.nblocks, req.nblocks);
	assert_int_equal(r.buf_offset, req.buf_offset);
	assert_int_equal(r.buf_len, req.buf_len);

	vdf_blkproto_encode_cpl(&cpl, &cw);
	assert_memory_equal(&cw, expect_cpl, sizeof(expect_cpl));
	assert_int_equal(vdf_blkproto_decode_cpl(&cw, &back), 0);
	assert_int_equal(back.id, cpl.id);
	assert_int_equal(back.generation, cpl.generation);
	assert_int_equal(back.status, -EIO);
}

static void test_encode_all_ops(void **state)
{
	static const enum vdf_block_op ops[] = {VDF_BLOCK_READ, VDF_BLOCK_WRITE, VDF_BLOCK_FLUSH,
						VDF_BLOCK_DISCARD, VDF_BLOCK_WRITE_ZEROES};
	struct vdf_blk_req_wire w;
	struct vdf_blk_req req = {0}, r;
	size_t i;

	(void)state;
	for (i = 0; i < VDF_ARRAY_SIZE(ops); i++) {
		req.op = ops[i];
		req.nblocks = ops[i] == VDF_BLOCK_FLUSH ? 0 : 1;
		req.buf_len = ops[i] == VDF_BLOCK_READ || ops[i] == VDF_BLOCK_WRITE ? BS : 0;
		vdf_blkproto_encode_req(&req, &w);
		assert_int_equal(vdf_blkproto_validate_req(&w, &base_lim, &r), 0);
		assert_int_equal(r.op, ops[i]);
	}
	/* An op outside the enum encodes to something every driver refuses. */
	req.op = (enum vdf_block_op)42;
	vdf_blkproto_encode_req(&req, &w);
	assert_int_equal(w.op, 0);
	assert_int_equal(check(w, &base_lim), -EOPNOTSUPP);
}

static void test_decode_cpl(void **state)
{
	struct vdf_blk_cpl_wire w = {0};
	struct vdf_blk_cpl c;
	const int32_t good[] = {0, -1, -EIO, -4095};
	const int32_t bad[] = {1, 4095, -4096, INT32_MIN, INT32_MAX};
	size_t i;

	(void)state;
	for (i = 0; i < VDF_ARRAY_SIZE(good); i++) {
		w.status = (int32_t)htole32((uint32_t)good[i]);
		assert_int_equal(vdf_blkproto_decode_cpl(&w, &c), 0);
		assert_int_equal(c.status, good[i]);
	}
	for (i = 0; i < VDF_ARRAY_SIZE(bad); i++) {
		w.status = (int32_t)htole32((uint32_t)bad[i]);
		assert_int_equal(vdf_blkproto_decode_cpl(&w, &c), -EINVAL);
	}
}

static void test_idempotent(void **state)
{
	(void)state;
	assert_true(vdf_blkproto_idempotent(VDF_BLOCK_READ));
	assert_true(vdf_blkproto_idempotent(VDF_BLOCK_WRITE));
	assert_true(vdf_blkproto_idempotent(VDF_BLOCK_FLUSH));
	assert_true(vdf_blkproto_idempotent(VDF_BLOCK_DISCARD));
	assert_true(vdf_blkproto_idempotent(VDF_BLOCK_WRITE_ZEROES));
	assert_false(vdf_blkproto_idempotent((enum vdf_block_op)42));
}

static void test_retry_total_limit(void **state)
{
	struct vdf_blk_retry st;
	unsigned i;

	(void)state;
	vdf_blk_retry_init(&st, VDF_BLOCK_WRITE);
	assert_int_equal(vdf_blk_retry_decide(&st, 0, false), VDF_BLK_DONE);
	for (i = 0; i < VDF_BLK_RETRY_MAX; i++)
		assert_int_equal(vdf_blk_retry_decide(&st, -ETIMEDOUT, false), VDF_BLK_RETRY);
	assert_int_equal(vdf_blk_retry_decide(&st, -ETIMEDOUT, false), VDF_BLK_FAIL);
	assert_int_equal(vdf_blk_retry_decide(&st, -ENOTCONN, true), VDF_BLK_FAIL);
	/* Success is success whatever the budget. */
	assert_int_equal(vdf_blk_retry_decide(&st, 0, false), VDF_BLK_DONE);
	assert_int_equal(st.retries, VDF_BLK_RETRY_MAX);
}

static void test_retry_eio_limit(void **state)
{
	struct vdf_blk_retry st;
	unsigned i;

	(void)state;
	vdf_blk_retry_init(&st, VDF_BLOCK_READ);
	for (i = 0; i < VDF_BLK_RETRY_EIO_MAX; i++)
		assert_int_equal(vdf_blk_retry_decide(&st, -EIO, false), VDF_BLK_RETRY);
	assert_int_equal(vdf_blk_retry_decide(&st, -EIO, false), VDF_BLK_FAIL);
	/* Other transient errors still have budget left. */
	assert_int_equal(vdf_blk_retry_decide(&st, -EAGAIN, false), VDF_BLK_RETRY);
	assert_int_equal(st.eio_retries, VDF_BLK_RETRY_EIO_MAX);
	assert_int_equal(st.retries, VDF_BLK_RETRY_EIO_MAX + 1);
}

static void test_retry_recovery_limit(void **state)
{
	struct vdf_blk_retry st;

	(void)state;
	vdf_blk_retry_init(&st, VDF_BLOCK_FLUSH);
	assert_int_equal(vdf_blk_retry_decide(&st, -ENOTCONN, true), VDF_BLK_RETRY);
	assert_int_equal(vdf_blk_retry_decide(&st, -ECONNRESET, true), VDF_BLK_RETRY);
	assert_int_equal(vdf_blk_retry_decide(&st, -ENOTCONN, true), VDF_BLK_FAIL);
	/* Outside recovery the per-recovery budget does not apply. */
	assert_int_equal(vdf_blk_retry_decide(&st, -ETIMEDOUT, false), VDF_BLK_RETRY);
	/* A new recovery brings a fresh per-recovery budget, within the total. */
	vdf_blk_retry_new_recovery(&st);
	assert_int_equal(vdf_blk_retry_decide(&st, -ECANCELED, true), VDF_BLK_RETRY);
	assert_int_equal(vdf_blk_retry_decide(&st, -EPIPE, true), VDF_BLK_RETRY);
	assert_int_equal(vdf_blk_retry_decide(&st, -EPIPE, true), VDF_BLK_FAIL);
	assert_int_equal(st.retries, 5);
}

static void test_retry_permanent_errors(void **state)
{
	const int permanent[] = {-EINVAL,   -ERANGE, -EROFS,  -EFAULT, -EOPNOTSUPP,
				 -EMSGSIZE, -EACCES, -ENOSPC, -ENOMEM, 5};
	struct vdf_blk_retry st;
	size_t i;

	(void)state;
	vdf_blk_retry_init(&st, VDF_BLOCK_WRITE);
	for (i = 0; i < VDF_ARRAY_SIZE(permanent); i++)
		assert_int_equal(vdf_blk_retry_decide(&st, permanent[i], false), VDF_BLK_FAIL);
	assert_int_equal(st.retries, 0);
	/* A non-idempotent (unknown) op is never replayed. */
	vdf_blk_retry_init(&st, (enum vdf_block_op)42);
	assert_int_equal(vdf_blk_retry_decide(&st, -ENOTCONN, true), VDF_BLK_FAIL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid_requests),
	    cmocka_unit_test(test_bad_args),
	    cmocka_unit_test(test_reserved_and_flags),
	    cmocka_unit_test(test_ops),
	    cmocka_unit_test(test_read_only),
	    cmocka_unit_test(test_flush_shape),
	    cmocka_unit_test(test_zero_blocks),
	    cmocka_unit_test(test_lba_range),
	    cmocka_unit_test(test_max_transfer),
	    cmocka_unit_test(test_buf_len),
	    cmocka_unit_test(test_alignment),
	    cmocka_unit_test(test_buffer_bounds),
	    cmocka_unit_test(test_wire_layout),
	    cmocka_unit_test(test_encode_all_ops),
	    cmocka_unit_test(test_decode_cpl),
	    cmocka_unit_test(test_idempotent),
	    cmocka_unit_test(test_retry_total_limit),
	    cmocka_unit_test(test_retry_eio_limit),
	    cmocka_unit_test(test_retry_recovery_limit),
	    cmocka_unit_test(test_retry_permanent_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
