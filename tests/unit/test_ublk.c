// SPDX-License-Identifier: MIT
/*
 * ublk export, the parts without io_uring (lib/ublk/): every rule of the
 * descriptor check with boundary values and overflow attempts, backend
 * geometry checks, the per-tag buffer size, device parameters and their
 * recovery match, and the memory and file backends (write/read back, FUA,
 * FLUSH, DISCARD and WRITE_ZEROES reading back as zeroes, ranges past the end,
 * read-only).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "vdf/ublk.h"

#define DEV_SIZE  (1u << 20) /* 1 MiB: 2048 sectors */
#define DEV_SECTS (DEV_SIZE >> 9)
#define BUF_SIZE  (64u << 10) /* 128 sectors per READ/WRITE */
#define MAX_DISC  (UINT32_MAX >> 9)

static const struct vdf_ublk_backend_info info512 = {
    .size = DEV_SIZE,
    .block_size = 512,
    .discard = true,
    .write_zeroes = true,
};

static struct vdf_ublk_backend_info with_bs(uint32_t bs)
{
	struct vdf_ublk_backend_info i = info512;

	i.block_size = bs;
	return i;
}

static struct ublksrv_io_desc mkdesc(uint32_t op_flags, uint64_t start, uint32_t nr)
{
	struct ublksrv_io_desc d = {
	    .op_flags = op_flags,
	    .nr_sectors = nr,
	    .start_sector = start,
	    .addr = 0xdeadbeefcafef00dull, /* never used */
	};
	return d;
}

static int chk(uint32_t op_flags, uint64_t start, uint32_t nr,
	       const struct vdf_ublk_backend_info *info, uint32_t buf_size)
{
	struct ublksrv_io_desc d = mkdesc(op_flags, start, nr);
	struct vdf_ublk_io io;

	memset(&io, 0xa5, sizeof(io));
	return vdf_ublk_check_desc(&d, info, buf_size, &io);
}

/* Check and expect acceptance; the request is returned. */
static struct vdf_ublk_io accept(uint32_t op_flags, uint64_t start, uint32_t nr,
				 const struct vdf_ublk_backend_info *info, uint32_t buf_size)
{
	struct ublksrv_io_desc d = mkdesc(op_flags, start, nr);
	struct vdf_ublk_io io;

	memset(&io, 0xa5, sizeof(io));
	assert_int_equal(vdf_ublk_check_desc(&d, info, buf_size, &io), 0);
	/* tag and buf are the caller's: left zeroed */
	assert_int_equal(io.tag, 0);
	assert_null(io.buf);
	return io;
}

/* --- Descriptor check ---------------------------------------------------- */

static void test_desc_read_write(void **state)
{
	struct vdf_ublk_io io;

	(void)state;
	io = accept(UBLK_IO_OP_READ, 10, 8, &info512, BUF_SIZE);
	assert_int_equal(io.op, VDF_UBLK_READ);
	assert_int_equal(io.offset, 10 * 512);
	assert_int_equal(io.len, 8 * 512);
	assert_false(io.fua);
	assert_false(io.no_unmap);

	io = accept(UBLK_IO_OP_WRITE, 0, 1, &info512, BUF_SIZE);
	assert_int_equal(io.op, VDF_UBLK_WRITE);
	assert_int_equal(io.offset, 0);
	assert_int_equal(io.len, 512);
	assert_false(io.fua);

	io = accept(UBLK_IO_OP_DISCARD, 100, 1000, &info512, BUF_SIZE);
	assert_int_equal(io.op, VDF_UBLK_DISCARD);
	assert_int_equal(io.offset, 100 * 512);
	assert_int_equal(io.len, 1000 * 512);

	io = accept(UBLK_IO_OP_WRITE_ZEROES, 2047, 1, &info512, BUF_SIZE);
	assert_int_equal(io.op, VDF_UBLK_WRITE_ZEROES);
	assert_int_equal(io.offset, 2047 * 512);
	assert_int_equal(io.len, 512);
}

static void test_desc_last_sector(void **state)
{
	static const uint32_t ops[] = {UBLK_IO_OP_READ, UBLK_IO_OP_WRITE, UBLK_IO_OP_DISCARD,
				       UBLK_IO_OP_WRITE_ZEROES};
	struct vdf_ublk_backend_info i4k = with_bs(4096);
	struct vdf_ublk_io io;
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
		/* 512: the last sector, and one past it */
		io = accept(ops[k], DEV_SECTS - 1, 1, &info512, BUF_SIZE);
		assert_int_equal(io.offset, DEV_SIZE - 512);
		assert_int_equal(io.len, 512);
		assert_int_equal(chk(ops[k], DEV_SECTS, 1, &info512, BUF_SIZE), -EIO);
		assert_int_equal(chk(ops[k], DEV_SECTS - 1, 2, &info512, BUF_SIZE), -EIO);
		assert_int_equal(chk(ops[k], DEV_SECTS + 1, 1, &info512, BUF_SIZE), -EIO);
		/* ending exactly at the end */
		io = accept(ops[k], DEV_SECTS - 128, 128, &info512, BUF_SIZE);
		assert_int_equal(io.offset + io.len, DEV_SIZE);
		assert_int_equal(chk(ops[k], DEV_SECTS - 127, 128, &info512, BUF_SIZE), -EIO);

		/* 4096: the last block, and one past it */
		io = accept(ops[k], DEV_SECTS - 8, 8, &i4k, BUF_SIZE);
		assert_int_equal(io.offset, DEV_SIZE - 4096);
		assert_int_equal(io.len, 4096);
		assert_int_equal(chk(ops[k], DEV_SECTS, 8, &i4k, BUF_SIZE), -EIO);
		assert_int_equal(chk(ops[k], DEV_SECTS - 8, 16, &i4k, BUF_SIZE), -EIO);
	}
	/* the whole device in one DISCARD / WRITE_ZEROES */
	io = accept(UBLK_IO_OP_DISCARD, 0, DEV_SECTS, &info512, BUF_SIZE);
	assert_int_equal(io.len, DEV_SIZE);
	assert_int_equal(chk(UBLK_IO_OP_WRITE_ZEROES, 0, DEV_SECTS + 1, &info512, BUF_SIZE), -EIO);
}

static void test_desc_overflow(void **state)
{
	static const uint32_t ops[] = {UBLK_IO_OP_READ, UBLK_IO_OP_WRITE, UBLK_IO_OP_DISCARD,
				       UBLK_IO_OP_WRITE_ZEROES};
	struct vdf_ublk_backend_info big = info512, big4k;
	uint64_t big_sects;
	struct vdf_ublk_io io;
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
		/* start + nr wraps around u64 */
		assert_int_equal(chk(ops[k], UINT64_MAX, 1, &info512, BUF_SIZE), -EIO);
		assert_int_equal(chk(ops[k], UINT64_MAX - 7, 8, &info512, BUF_SIZE), -EIO);
		assert_int_equal(chk(ops[k], UINT64_MAX - 127, 128, &info512, BUF_SIZE), -EIO);
		assert_int_equal(chk(ops[k], UINT64_MAX - 7, 16, &info512, BUF_SIZE), -EIO);
		/* start << 9 wraps around u64 */
		assert_int_equal(chk(ops[k], 1ull << 55, 1, &info512, BUF_SIZE), -EIO);
		assert_int_equal(chk(ops[k], (1ull << 55) - 1, 1, &info512, BUF_SIZE), -EIO);
		assert_int_equal(chk(ops[k], 1ull << 63, 8, &info512, BUF_SIZE), -EIO);
	}
	/* the largest device there can be: sectors up to 2^55 - 1 */
	big.size = VDF_ALIGN_DOWN(UINT64_MAX, (uint64_t)512);
	big_sects = big.size >> 9;
	assert_int_equal(big_sects, (1ull << 55) - 1);
	io = accept(UBLK_IO_OP_READ, big_sects - 1, 1, &big, BUF_SIZE);
	assert_int_equal(io.offset, big.size - 512);
	assert_int_equal(chk(UBLK_IO_OP_READ, big_sects, 1, &big, BUF_SIZE), -EIO);
	assert_int_equal(chk(UBLK_IO_OP_READ, big_sects - 1, 2, &big, BUF_SIZE), -EIO);
	assert_int_equal(chk(UBLK_IO_OP_WRITE, UINT64_MAX, 1, &big, BUF_SIZE), -EIO);
	assert_int_equal(chk(UBLK_IO_OP_DISCARD, big_sects - 1, MAX_DISC, &big, BUF_SIZE), -EIO);
	io = accept(UBLK_IO_OP_DISCARD, big_sects - MAX_DISC, MAX_DISC, &big, BUF_SIZE);
	assert_int_equal(io.offset + io.len, big.size);

	big4k = big;
	big4k.block_size = 4096;
	big4k.size = VDF_ALIGN_DOWN(UINT64_MAX, (uint64_t)4096);
	big_sects = big4k.size >> 9;
	io = accept(UBLK_IO_OP_WRITE, big_sects - 8, 8, &big4k, BUF_SIZE);
	assert_int_equal(io.offset, big4k.size - 4096);
	assert_int_equal(chk(UBLK_IO_OP_WRITE, big_sects, 8, &big4k, BUF_SIZE), -EIO);
	assert_int_equal(chk(UBLK_IO_OP_WRITE, UINT64_MAX - 7, 8, &big4k, BUF_SIZE), -EIO);
}

static void test_desc_zero_length(void **state)
{
	static const uint32_t ops[] = {UBLK_IO_OP_READ, UBLK_IO_OP_WRITE, UBLK_IO_OP_DISCARD,
				       UBLK_IO_OP_WRITE_ZEROES};
	struct vdf_ublk_backend_info i4k = with_bs(4096);
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
		assert_int_equal(chk(ops[k], 0, 0, &info512, BUF_SIZE), -EINVAL);
		assert_int_equal(chk(ops[k], DEV_SECTS - 1, 0, &info512, BUF_SIZE), -EINVAL);
		assert_int_equal(chk(ops[k], 8, 0, &i4k, BUF_SIZE), -EINVAL);
		/* zero length is refused wherever it points, the end included */
		assert_int_equal(chk(ops[k], DEV_SECTS, 0, &info512, BUF_SIZE), -EINVAL);
		assert_int_equal(chk(ops[k], UINT64_MAX, 0, &info512, BUF_SIZE), -EINVAL);
	}
}

static void test_desc_max_io(void **state)
{
	struct vdf_ublk_backend_info i4k = with_bs(4096);
	struct vdf_ublk_backend_info big = info512;
	struct vdf_ublk_io io;

	(void)state;
	/* READ/WRITE are bound by the tag buffer */
	io = accept(UBLK_IO_OP_READ, 0, BUF_SIZE >> 9, &info512, BUF_SIZE);
	assert_int_equal(io.len, BUF_SIZE);
	accept(UBLK_IO_OP_WRITE, 0, BUF_SIZE >> 9, &info512, BUF_SIZE);
	assert_int_equal(chk(UBLK_IO_OP_READ, 0, (BUF_SIZE >> 9) + 1, &info512, BUF_SIZE), -EINVAL);
	assert_int_equal(chk(UBLK_IO_OP_WRITE, 0, (BUF_SIZE >> 9) + 1, &info512, BUF_SIZE),
			 -EINVAL);
	assert_int_equal(chk(UBLK_IO_OP_WRITE, 0, UINT32_MAX, &info512, BUF_SIZE), -EINVAL);
	assert_int_equal(chk(UBLK_IO_OP_READ, 0, 1u << 23, &info512, BUF_SIZE), -EINVAL);
	/* 4096: the largest whole-block count within the buffer */
	io = accept(UBLK_IO_OP_READ, 8, BUF_SIZE >> 9, &i4k, BUF_SIZE);
	assert_int_equal(io.len, BUF_SIZE);
	assert_int_equal(chk(UBLK_IO_OP_READ, 8, (BUF_SIZE >> 9) + 8, &i4k, BUF_SIZE), -EINVAL);
	/* a buffer size that is not a whole number of sectors: rounded down */
	accept(UBLK_IO_OP_READ, 0, 127, &info512, BUF_SIZE - 1);
	assert_int_equal(chk(UBLK_IO_OP_READ, 0, 128, &info512, BUF_SIZE - 1), -EINVAL);
	/* 4096 blocks and a 6 KiB buffer: one block fits, two do not */
	accept(UBLK_IO_OP_WRITE, 0, 8, &i4k, 6144);
	assert_int_equal(chk(UBLK_IO_OP_WRITE, 0, 16, &i4k, 6144), -EINVAL);
	/* no buffer: no READ/WRITE at all */
	assert_int_equal(chk(UBLK_IO_OP_READ, 0, 1, &info512, 0), -EINVAL);
	assert_int_equal(chk(UBLK_IO_OP_WRITE, 0, 1, &info512, 511), -EINVAL);
	/* the largest buffer there is */
	big.size = 1ull << 40;
	io = accept(UBLK_IO_OP_READ, 0, UINT32_MAX >> 9, &big, UINT32_MAX);
	assert_int_equal(io.len, (UINT32_MAX >> 9) << 9);
	assert_int_equal(chk(UBLK_IO_OP_READ, 0, (UINT32_MAX >> 9) + 1, &big, UINT32_MAX), -EINVAL);

	/* DISCARD/WRITE_ZEROES move no data: bound by the 32-bit byte length only */
	io = accept(UBLK_IO_OP_DISCARD, 0, MAX_DISC, &big, BUF_SIZE);
	assert_int_equal(io.len, (uint32_t)MAX_DISC << 9);
	io = accept(UBLK_IO_OP_WRITE_ZEROES, 0, MAX_DISC, &big, 0);
	assert_int_equal(io.len, (uint32_t)MAX_DISC << 9);
	assert_int_equal(chk(UBLK_IO_OP_DISCARD, 0, MAX_DISC + 1, &big, BUF_SIZE), -EINVAL);
	assert_int_equal(chk(UBLK_IO_OP_WRITE_ZEROES, 0, MAX_DISC + 1, &big, BUF_SIZE), -EINVAL);
	assert_int_equal(chk(UBLK_IO_OP_DISCARD, 0, UINT32_MAX, &big, BUF_SIZE), -EINVAL);
	big.block_size = 4096;
	io = accept(UBLK_IO_OP_DISCARD, 0, MAX_DISC & ~7u, &big, BUF_SIZE);
	assert_int_equal(io.len, (uint64_t)(MAX_DISC & ~7u) << 9);
	assert_int_equal(chk(UBLK_IO_OP_WRITE_ZEROES, 0, (MAX_DISC & ~7u) + 8, &big, BUF_SIZE),
			 -EINVAL);
}

static void test_desc_alignment(void **state)
{
	static const uint32_t ops[] = {UBLK_IO_OP_READ, UBLK_IO_OP_WRITE, UBLK_IO_OP_DISCARD,
				       UBLK_IO_OP_WRITE_ZEROES};
	struct vdf_ublk_backend_info i4k = with_bs(4096);
	uint32_t s;
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
		for (s = 1; s < 8; s++) {
			/* start or length not a whole number of 4 KiB blocks */
			assert_int_equal(chk(ops[k], s, 8, &i4k, BUF_SIZE), -EINVAL);
			assert_int_equal(chk(ops[k], 8 + s, 8, &i4k, BUF_SIZE), -EINVAL);
			assert_int_equal(chk(ops[k], 0, s, &i4k, BUF_SIZE), -EINVAL);
			assert_int_equal(chk(ops[k], 0, 8 + s, &i4k, BUF_SIZE), -EINVAL);
			assert_int_equal(chk(ops[k], DEV_SECTS - 8, s, &i4k, BUF_SIZE), -EINVAL);
			/* the same on a 512-byte device: fine */
			accept(ops[k], s, 8 + s, &info512, BUF_SIZE);
		}
		accept(ops[k], 8, 8, &i4k, BUF_SIZE);
		accept(ops[k], 16, 24, &i4k, BUF_SIZE);
	}
}

static void test_desc_ops(void **state)
{
	struct vdf_ublk_io io;
	uint32_t op;

	(void)state;
	/* Every op byte: the five known ones work, all others are refused. */
	for (op = 0; op <= UBLK_IO_OP_MASK; op++) {
		int ret = chk(op, 0, 8, &info512, BUF_SIZE);

		switch (op) {
		case UBLK_IO_OP_READ:
		case UBLK_IO_OP_WRITE:
		case UBLK_IO_OP_FLUSH:
		case UBLK_IO_OP_DISCARD:
		case UBLK_IO_OP_WRITE_ZEROES:
			assert_int_equal(ret, 0);
			break;
		default:
			assert_int_equal(ret, -EOPNOTSUPP);
			/* whatever else the descriptor says */
			assert_int_equal(chk(op, 0, 0, &info512, BUF_SIZE), -EOPNOTSUPP);
			assert_int_equal(chk(op, UINT64_MAX, UINT32_MAX, &info512, BUF_SIZE),
					 -EOPNOTSUPP);
			assert_int_equal(chk(op | UBLK_IO_F_FUA, 0, 8, &info512, BUF_SIZE),
					 -EOPNOTSUPP);
		}
	}
	assert_int_equal(chk(UBLK_IO_OP_WRITE_SAME, 0, 8, &info512, BUF_SIZE), -EOPNOTSUPP);
	/* the op is the low byte only: flag bits do not turn READ into something else */
	io = accept(UBLK_IO_OP_READ | 0x100, 0, 8, &info512, BUF_SIZE);
	assert_int_equal(io.op, VDF_UBLK_READ);
	io = accept(UBLK_IO_OP_WRITE | 0xffffff00u, 0, 8, &info512, BUF_SIZE);
	assert_int_equal(io.op, VDF_UBLK_WRITE);
}

static void test_desc_backend_lacks_op(void **state)
{
	struct vdf_ublk_backend_info i = info512;
	struct vdf_ublk_io io;

	(void)state;
	i.discard = false;
	assert_int_equal(chk(UBLK_IO_OP_DISCARD, 0, 8, &i, BUF_SIZE), -EOPNOTSUPP);
	/* unsupported wins over a bad range */
	assert_int_equal(chk(UBLK_IO_OP_DISCARD, UINT64_MAX, 0, &i, BUF_SIZE), -EOPNOTSUPP);
	io = accept(UBLK_IO_OP_WRITE_ZEROES, 0, 8, &i, BUF_SIZE);
	assert_int_equal(io.op, VDF_UBLK_WRITE_ZEROES);

	i = info512;
	i.write_zeroes = false;
	assert_int_equal(chk(UBLK_IO_OP_WRITE_ZEROES, 0, 8, &i, BUF_SIZE), -EOPNOTSUPP);
	assert_int_equal(chk(UBLK_IO_OP_WRITE_ZEROES | UBLK_IO_F_NOUNMAP, 0, 8, &i, BUF_SIZE),
			 -EOPNOTSUPP);
	io = accept(UBLK_IO_OP_DISCARD, 0, 8, &i, BUF_SIZE);
	assert_int_equal(io.op, VDF_UBLK_DISCARD);

	/* a read-only backend without them: still "not supported" */
	i.discard = false;
	i.read_only = true;
	assert_int_equal(chk(UBLK_IO_OP_DISCARD, 0, 8, &i, BUF_SIZE), -EOPNOTSUPP);
	assert_int_equal(chk(UBLK_IO_OP_WRITE_ZEROES, 0, 8, &i, BUF_SIZE), -EOPNOTSUPP);
}

static void test_desc_read_only(void **state)
{
	struct vdf_ublk_backend_info ro = info512;
	struct vdf_ublk_io io;

	(void)state;
	ro.read_only = true;
	assert_int_equal(chk(UBLK_IO_OP_WRITE, 0, 8, &ro, BUF_SIZE), -EROFS);
	assert_int_equal(chk(UBLK_IO_OP_WRITE | UBLK_IO_F_FUA, 0, 8, &ro, BUF_SIZE), -EROFS);
	assert_int_equal(chk(UBLK_IO_OP_DISCARD, 0, 8, &ro, BUF_SIZE), -EROFS);
	assert_int_equal(chk(UBLK_IO_OP_WRITE_ZEROES, 0, 8, &ro, BUF_SIZE), -EROFS);
	assert_int_equal(
	    chk(UBLK_IO_OP_WRITE_ZEROES | UBLK_IO_F_NOUNMAP, DEV_SECTS - 1, 1, &ro, BUF_SIZE),
	    -EROFS);
	/* a write stays refused whatever its range */
	assert_int_equal(chk(UBLK_IO_OP_WRITE, DEV_SECTS, 1, &ro, BUF_SIZE), -EROFS);
	assert_int_equal(chk(UBLK_IO_OP_WRITE, 0, 0, &ro, BUF_SIZE), -EROFS);
	/* reads and flushes are served */
	io = accept(UBLK_IO_OP_READ, DEV_SECTS - 1, 1, &ro, BUF_SIZE);
	assert_int_equal(io.op, VDF_UBLK_READ);
	io = accept(UBLK_IO_OP_FLUSH, 0, 0, &ro, BUF_SIZE);
	assert_int_equal(io.op, VDF_UBLK_FLUSH);
	/* reads of a read-only device keep the usual rules */
	assert_int_equal(chk(UBLK_IO_OP_READ, DEV_SECTS, 1, &ro, BUF_SIZE), -EIO);
	assert_int_equal(chk(UBLK_IO_OP_READ, 0, 0, &ro, BUF_SIZE), -EINVAL);
}

static void test_desc_flush(void **state)
{
	struct vdf_ublk_backend_info no_ops = info512, i4k = with_bs(4096);
	struct vdf_ublk_io io;

	(void)state;
	/* range, length and flags are ignored: FLUSH has none */
	io = accept(UBLK_IO_OP_FLUSH, 0, 0, &info512, BUF_SIZE);
	assert_int_equal(io.op, VDF_UBLK_FLUSH);
	assert_int_equal(io.offset, 0);
	assert_int_equal(io.len, 0);
	assert_false(io.fua);
	assert_false(io.no_unmap);
	io = accept(UBLK_IO_OP_FLUSH | UBLK_IO_F_FUA | UBLK_IO_F_NOUNMAP, UINT64_MAX, UINT32_MAX,
		    &info512, 0);
	assert_int_equal(io.offset, 0);
	assert_int_equal(io.len, 0);
	assert_false(io.fua);
	assert_false(io.no_unmap);
	io = accept(UBLK_IO_OP_FLUSH, 3, 5, &i4k, BUF_SIZE);
	assert_int_equal(io.len, 0);
	/* a backend without a cache is still flushed (a no-op for it) */
	no_ops.discard = no_ops.write_zeroes = false;
	accept(UBLK_IO_OP_FLUSH, 0, 0, &no_ops, BUF_SIZE);
}

static void test_desc_flags(void **state)
{
	static const uint32_t unknown[] = {
	    UBLK_IO_F_FAILFAST_DEV,
	    UBLK_IO_F_FAILFAST_TRANSPORT,
	    UBLK_IO_F_FAILFAST_DRIVER,
	    UBLK_IO_F_META,
	    UBLK_IO_F_SWAP,
	    1u << 12,
	    1u << 14,
	    1u << 31,
	    0xffffff00u & ~(UBLK_IO_F_FUA | UBLK_IO_F_NOUNMAP),
	};
	struct vdf_ublk_io io;
	size_t k;

	(void)state;
	/* FUA: kept for the write-type ops, dropped for READ */
	io = accept(UBLK_IO_OP_WRITE | UBLK_IO_F_FUA, 0, 8, &info512, BUF_SIZE);
	assert_true(io.fua);
	assert_false(io.no_unmap);
	io = accept(UBLK_IO_OP_DISCARD | UBLK_IO_F_FUA, 0, 8, &info512, BUF_SIZE);
	assert_true(io.fua);
	io = accept(UBLK_IO_OP_WRITE_ZEROES | UBLK_IO_F_FUA, 0, 8, &info512, BUF_SIZE);
	assert_true(io.fua);
	assert_false(io.no_unmap);
	io = accept(UBLK_IO_OP_READ | UBLK_IO_F_FUA, 0, 8, &info512, BUF_SIZE);
	assert_false(io.fua);

	/* NOUNMAP: WRITE_ZEROES only */
	io = accept(UBLK_IO_OP_WRITE_ZEROES | UBLK_IO_F_NOUNMAP, 0, 8, &info512, BUF_SIZE);
	assert_true(io.no_unmap);
	assert_false(io.fua);
	io = accept(UBLK_IO_OP_WRITE_ZEROES | UBLK_IO_F_NOUNMAP | UBLK_IO_F_FUA, 0, 8, &info512,
		    BUF_SIZE);
	assert_true(io.no_unmap);
	assert_true(io.fua);
	io = accept(UBLK_IO_OP_DISCARD | UBLK_IO_F_NOUNMAP, 0, 8, &info512, BUF_SIZE);
	assert_false(io.no_unmap);
	io = accept(UBLK_IO_OP_WRITE | UBLK_IO_F_NOUNMAP, 0, 8, &info512, BUF_SIZE);
	assert_false(io.no_unmap);
	io = accept(UBLK_IO_OP_READ | UBLK_IO_F_NOUNMAP, 0, 8, &info512, BUF_SIZE);
	assert_false(io.no_unmap);

	/* Other flags are hints: ignored, never refused, never turned into FUA/NOUNMAP. */
	for (k = 0; k < sizeof(unknown) / sizeof(unknown[0]); k++) {
		io = accept(UBLK_IO_OP_READ | unknown[k], 8, 8, &info512, BUF_SIZE);
		assert_int_equal(io.op, VDF_UBLK_READ);
		assert_int_equal(io.offset, 8 * 512);
		io = accept(UBLK_IO_OP_WRITE | unknown[k], 8, 8, &info512, BUF_SIZE);
		assert_int_equal(io.op, VDF_UBLK_WRITE);
		assert_false(io.fua);
		io = accept(UBLK_IO_OP_WRITE_ZEROES | unknown[k], 8, 8, &info512, BUF_SIZE);
		assert_false(io.fua);
		assert_false(io.no_unmap);
		/* and they do not rescue a bad request */
		assert_int_equal(
		    chk(UBLK_IO_OP_READ | unknown[k], DEV_SECTS, 1, &info512, BUF_SIZE), -EIO);
	}
}

static void test_desc_addr_ignored(void **state)
{
	struct ublksrv_io_desc d1 = mkdesc(UBLK_IO_OP_WRITE | UBLK_IO_F_FUA, 16, 8);
	struct ublksrv_io_desc d2 = d1;
	struct vdf_ublk_io a, b;

	(void)state;
	d1.addr = 0;
	d2.addr = UINT64_MAX;
	memset(&a, 0x11, sizeof(a));
	memset(&b, 0x77, sizeof(b));
	assert_int_equal(vdf_ublk_check_desc(&d1, &info512, BUF_SIZE, &a), 0);
	assert_int_equal(vdf_ublk_check_desc(&d2, &info512, BUF_SIZE, &b), 0);
	assert_int_equal(a.op, b.op);
	assert_int_equal(a.fua, b.fua);
	assert_int_equal(a.offset, b.offset);
	assert_int_equal(a.len, b.len);
	assert_null(a.buf);
	assert_null(b.buf);
}

static void test_io_result(void **state)
{
	struct vdf_ublk_io io;

	(void)state;
	io = accept(UBLK_IO_OP_READ, 0, 16, &info512, BUF_SIZE);
	assert_int_equal(vdf_ublk_io_result(&io, 0), 16 * 512);
	assert_int_equal(vdf_ublk_io_result(&io, -EIO), -EIO);
	io = accept(UBLK_IO_OP_WRITE, 0, BUF_SIZE >> 9, &info512, BUF_SIZE);
	assert_int_equal(vdf_ublk_io_result(&io, 0), BUF_SIZE);
	assert_int_equal(vdf_ublk_io_result(&io, -ENOSPC), -ENOSPC);
	io = accept(UBLK_IO_OP_FLUSH, 0, 0, &info512, BUF_SIZE);
	assert_int_equal(vdf_ublk_io_result(&io, 0), 0);
	io = accept(UBLK_IO_OP_DISCARD, 0, 2048, &info512, BUF_SIZE);
	assert_int_equal(vdf_ublk_io_result(&io, 0), 0);
	assert_int_equal(vdf_ublk_io_result(&io, -EOPNOTSUPP), -EOPNOTSUPP);
	io = accept(UBLK_IO_OP_WRITE_ZEROES, 0, 2048, &info512, BUF_SIZE);
	assert_int_equal(vdf_ublk_io_result(&io, 0), 0);
}

static void test_op_name(void **state)
{
	(void)state;
	assert_string_equal(vdf_ublk_op_name(VDF_UBLK_READ), "READ");
	assert_string_equal(vdf_ublk_op_name(VDF_UBLK_WRITE), "WRITE");
	assert_string_equal(vdf_ublk_op_name(VDF_UBLK_FLUSH), "FLUSH");
	assert_string_equal(vdf_ublk_op_name(VDF_UBLK_DISCARD), "DISCARD");
	assert_string_equal(vdf_ublk_op_name(VDF_UBLK_WRITE_ZEROES), "WRITE_ZEROES");
	assert_string_equal(vdf_ublk_op_name((enum vdf_ublk_op)77), "?");
}

/* --- Geometry, buffer size, parameters ---------------------------------- */

static void test_info_check(void **state)
{
	static const uint32_t bad_bs[] = {0,	1,    256,  511,  513,	 1024,
					  2048, 4095, 4097, 8192, 65536, UINT32_MAX};
	struct vdf_ublk_backend_info i = info512;
	size_t k;

	(void)state;
	assert_int_equal(vdf_ublk_info_check(&i), 0);
	i.block_size = 4096;
	assert_int_equal(vdf_ublk_info_check(&i), 0);
	for (k = 0; k < sizeof(bad_bs) / sizeof(bad_bs[0]); k++) {
		i.block_size = bad_bs[k];
		assert_int_equal(vdf_ublk_info_check(&i), -EINVAL);
	}

	/* size: at least one block, whole blocks */
	i = info512;
	i.size = 0;
	assert_int_equal(vdf_ublk_info_check(&i), -EINVAL);
	i.size = 511;
	assert_int_equal(vdf_ublk_info_check(&i), -EINVAL);
	i.size = 512;
	assert_int_equal(vdf_ublk_info_check(&i), 0);
	i.size = 513;
	assert_int_equal(vdf_ublk_info_check(&i), -EINVAL);
	i.size = VDF_ALIGN_DOWN(UINT64_MAX, (uint64_t)512);
	assert_int_equal(vdf_ublk_info_check(&i), 0);
	i.size = UINT64_MAX;
	assert_int_equal(vdf_ublk_info_check(&i), -EINVAL);
	i.block_size = 4096;
	i.size = 512;
	assert_int_equal(vdf_ublk_info_check(&i), -EINVAL);
	i.size = 4096 + 512;
	assert_int_equal(vdf_ublk_info_check(&i), -EINVAL);
	i.size = 4096;
	assert_int_equal(vdf_ublk_info_check(&i), 0);

	/* max_io: none, or at least a page */
	i = info512;
	i.max_io = 0;
	assert_int_equal(vdf_ublk_info_check(&i), 0);
	i.max_io = 512;
	assert_int_equal(vdf_ublk_info_check(&i), -EINVAL);
	i.max_io = VDF_PAGE_SIZE - 1;
	assert_int_equal(vdf_ublk_info_check(&i), -EINVAL);
	i.max_io = VDF_PAGE_SIZE;
	assert_int_equal(vdf_ublk_info_check(&i), 0);
	i.max_io = UINT32_MAX;
	assert_int_equal(vdf_ublk_info_check(&i), 0);
}

static void test_buf_size(void **state)
{
	struct vdf_ublk_backend_info i = info512;

	(void)state;
	assert_int_equal(vdf_ublk_buf_size(&i, 0), VDF_UBLK_DEFAULT_MAX_IO);
	assert_int_equal(vdf_ublk_buf_size(&i, 64 << 10), 64 << 10);
	assert_int_equal(vdf_ublk_buf_size(&i, 1 << 20), 1 << 20);
	/* the driver's cap */
	assert_int_equal(vdf_ublk_buf_size(&i, UBLK_MAX_IO_BUF_BYTES), UBLK_MAX_IO_BUF_BYTES);
	assert_int_equal(vdf_ublk_buf_size(&i, UBLK_MAX_IO_BUF_BYTES + 4096),
			 UBLK_MAX_IO_BUF_BYTES);
	assert_int_equal(vdf_ublk_buf_size(&i, UINT32_MAX), UBLK_MAX_IO_BUF_BYTES);
	/* rounded down to a page, at least one */
	assert_int_equal(vdf_ublk_buf_size(&i, 1), VDF_PAGE_SIZE);
	assert_int_equal(vdf_ublk_buf_size(&i, 512), VDF_PAGE_SIZE);
	assert_int_equal(vdf_ublk_buf_size(&i, VDF_PAGE_SIZE - 1), VDF_PAGE_SIZE);
	assert_int_equal(vdf_ublk_buf_size(&i, 3 * VDF_PAGE_SIZE - 1), 2 * VDF_PAGE_SIZE);
	/* the backend's own limit */
	i.max_io = 128 << 10;
	assert_int_equal(vdf_ublk_buf_size(&i, 0), 128 << 10);
	assert_int_equal(vdf_ublk_buf_size(&i, 1 << 20), 128 << 10);
	assert_int_equal(vdf_ublk_buf_size(&i, 64 << 10), 64 << 10);
	i.max_io = 10000;
	assert_int_equal(vdf_ublk_buf_size(&i, 0), 8192);
	i.max_io = VDF_PAGE_SIZE;
	assert_int_equal(vdf_ublk_buf_size(&i, 0), VDF_PAGE_SIZE);
	i.max_io = UINT32_MAX;
	assert_int_equal(vdf_ublk_buf_size(&i, 0), VDF_UBLK_DEFAULT_MAX_IO);
	assert_int_equal(vdf_ublk_buf_size(&i, UINT32_MAX), UBLK_MAX_IO_BUF_BYTES);
	/* the same for 4096-byte blocks: a page is a whole number of blocks */
	i = with_bs(4096);
	assert_int_equal(vdf_ublk_buf_size(&i, 6144), 4096);
	assert_int_equal(vdf_ublk_buf_size(&i, 0) % 4096, 0);
}

static void fill_garbage(struct ublk_params *p)
{
	memset(p, 0xa5, sizeof(*p));
}

static void test_params_512(void **state)
{
	struct vdf_ublk_backend_info i = info512;
	struct ublk_params p;

	(void)state;
	/* memory-like: no cache, discard and write-zeroes */
	fill_garbage(&p);
	vdf_ublk_params_init(&p, &i, BUF_SIZE);
	assert_int_equal(p.len, UBLK_PARAMS_LEN_BASIC_DISCARD);
	assert_int_equal(p.len, 60);
	assert_int_equal(p.types, UBLK_PARAM_TYPE_BASIC | UBLK_PARAM_TYPE_DISCARD);
	assert_int_equal(p.basic.attrs, 0);
	assert_int_equal(p.basic.logical_bs_shift, 9);
	assert_int_equal(p.basic.physical_bs_shift, 12);
	assert_int_equal(p.basic.io_min_shift, 12);
	assert_int_equal(p.basic.io_opt_shift, 12);
	assert_int_equal(p.basic.max_sectors, BUF_SIZE >> 9);
	assert_int_equal(p.basic.chunk_sectors, 0);
	assert_int_equal(p.basic.dev_sectors, DEV_SECTS);
	assert_int_equal(p.basic.virt_boundary_mask, 0);
	assert_int_equal(p.discard.discard_alignment, 0);
	assert_int_equal(p.discard.discard_granularity, 512);
	assert_int_equal(p.discard.max_discard_sectors, (1u << 30) >> 9);
	assert_int_equal(p.discard.max_write_zeroes_sectors, (1u << 30) >> 9);
	assert_int_equal(p.discard.max_discard_segments, 1);
	assert_int_equal(p.discard.reserved0, 0);

	/* a write cache: FLUSH and FUA */
	i.volatile_cache = true;
	vdf_ublk_params_init(&p, &i, VDF_UBLK_DEFAULT_MAX_IO);
	assert_int_equal(p.basic.attrs, UBLK_ATTR_VOLATILE_CACHE | UBLK_ATTR_FUA);
	assert_int_equal(p.basic.max_sectors, VDF_UBLK_DEFAULT_MAX_IO >> 9);

	/* discard only, write-zeroes only, neither */
	i = info512;
	i.write_zeroes = false;
	fill_garbage(&p);
	vdf_ublk_params_init(&p, &i, BUF_SIZE);
	assert_int_equal(p.types, UBLK_PARAM_TYPE_BASIC | UBLK_PARAM_TYPE_DISCARD);
	assert_int_equal(p.discard.max_discard_sectors, (1u << 30) >> 9);
	assert_int_equal(p.discard.max_write_zeroes_sectors, 0);
	assert_int_equal(p.discard.max_discard_segments, 1);
	assert_int_equal(p.discard.discard_granularity, 512);
	i = info512;
	i.discard = false;
	fill_garbage(&p);
	vdf_ublk_params_init(&p, &i, BUF_SIZE);
	assert_int_equal(p.types, UBLK_PARAM_TYPE_BASIC | UBLK_PARAM_TYPE_DISCARD);
	assert_int_equal(p.discard.max_discard_sectors, 0);
	assert_int_equal(p.discard.max_write_zeroes_sectors, (1u << 30) >> 9);
	assert_int_equal(p.discard.max_discard_segments, 1);
	assert_int_equal(p.discard.discard_granularity, 512);
	i.write_zeroes = false;
	fill_garbage(&p);
	vdf_ublk_params_init(&p, &i, BUF_SIZE);
	assert_int_equal(p.types, UBLK_PARAM_TYPE_BASIC);
	assert_int_equal(p.len, UBLK_PARAMS_LEN_BASIC_DISCARD);
	assert_int_equal(p.discard.max_discard_sectors, 0);
	assert_int_equal(p.discard.max_discard_segments, 0);
	assert_int_equal(p.discard.discard_granularity, 0);

	/* read-only: the attribute, and no discard parameters whatever the backend has */
	i = info512;
	i.read_only = true;
	i.volatile_cache = true;
	fill_garbage(&p);
	vdf_ublk_params_init(&p, &i, BUF_SIZE);
	assert_int_equal(p.types, UBLK_PARAM_TYPE_BASIC);
	assert_int_equal(p.basic.attrs,
			 UBLK_ATTR_READ_ONLY | UBLK_ATTR_VOLATILE_CACHE | UBLK_ATTR_FUA);
	assert_int_equal(p.discard.max_discard_sectors, 0);
	assert_int_equal(p.discard.max_write_zeroes_sectors, 0);
}

static void test_params_4096(void **state)
{
	struct vdf_ublk_backend_info i = with_bs(4096);
	struct ublk_params p;

	(void)state;
	i.size = 1ull << 40;
	fill_garbage(&p);
	vdf_ublk_params_init(&p, &i, UBLK_MAX_IO_BUF_BYTES);
	assert_int_equal(p.basic.logical_bs_shift, 12);
	assert_int_equal(p.basic.physical_bs_shift, 12);
	assert_int_equal(p.basic.io_min_shift, 12);
	assert_int_equal(p.basic.io_opt_shift, 12);
	assert_int_equal(p.basic.max_sectors, UBLK_MAX_IO_BUF_BYTES >> 9);
	assert_int_equal(p.basic.dev_sectors, (1ull << 40) >> 9);
	assert_int_equal(p.discard.discard_granularity, 4096);
	assert_int_equal(p.discard.max_discard_segments, 1);
	/* the 1 GiB limit is a whole number of 4 KiB blocks */
	assert_int_equal(p.discard.max_discard_sectors % 8, 0);
	assert_int_equal(p.discard.max_write_zeroes_sectors % 8, 0);

	/* the smallest buffer, the smallest device */
	i.size = 4096;
	vdf_ublk_params_init(&p, &i, VDF_PAGE_SIZE);
	assert_int_equal(p.basic.max_sectors, 8);
	assert_int_equal(p.basic.dev_sectors, 8);
	/* The parameters and the check agree on the largest request. */
	accept(UBLK_IO_OP_READ, 0, p.basic.max_sectors, &i, VDF_PAGE_SIZE);
	assert_int_equal(chk(UBLK_IO_OP_READ, 0, p.basic.max_sectors + 8, &i, VDF_PAGE_SIZE),
			 -EINVAL);
}

static void test_params_match(void **state)
{
	struct vdf_ublk_backend_info i = info512, other;
	struct ublk_params p;

	(void)state;
	vdf_ublk_params_init(&p, &i, BUF_SIZE);
	assert_int_equal(vdf_ublk_params_match(&p, &i), 0);
	/* what does not matter for the data: cache, discard, read-only, buffer */
	other = i;
	other.volatile_cache = true;
	other.discard = false;
	other.read_only = true;
	other.max_io = 8192;
	assert_int_equal(vdf_ublk_params_match(&p, &other), 0);
	/* size */
	other = i;
	other.size += 512;
	assert_int_equal(vdf_ublk_params_match(&p, &other), -EINVAL);
	other.size = i.size - 512;
	assert_int_equal(vdf_ublk_params_match(&p, &other), -EINVAL);
	/* block size */
	other = with_bs(4096);
	assert_int_equal(vdf_ublk_params_match(&p, &other), -EINVAL);
	vdf_ublk_params_init(&p, &other, BUF_SIZE);
	assert_int_equal(vdf_ublk_params_match(&p, &other), 0);
	assert_int_equal(vdf_ublk_params_match(&p, &i), -EINVAL);
	/* no basic parameters at all */
	vdf_ublk_params_init(&p, &i, BUF_SIZE);
	p.types = UBLK_PARAM_TYPE_DISCARD;
	assert_int_equal(vdf_ublk_params_match(&p, &i), -EINVAL);
	p.types = 0;
	assert_int_equal(vdf_ublk_params_match(&p, &i), -EINVAL);
}

/* --- Backends ------------------------------------------------------------ */

struct done_rec {
	int calls;
	uint16_t tag;
	int status;
};

static void on_done(void *arg, uint16_t tag, int status)
{
	struct done_rec *r = arg;

	r->calls++;
	r->tag = tag;
	r->status = status;
}

struct bk {
	const struct vdf_ublk_backend_ops *ops;
	void *ctx;
	void *q;
	struct vdf_ublk_backend_info info;
	struct done_rec rec;
	uint8_t *buf;
	char path[32];
};

static void bk_open_queue(struct bk *b)
{
	struct vdf_ublk_queue_cfg cfg = {
	    .q_id = 0,
	    .depth = 4,
	    .buf_size = BUF_SIZE,
	    .done = on_done,
	    .done_arg = &b->rec,
	};

	b->ops->info(b->ctx, &b->info);
	assert_int_equal(vdf_ublk_info_check(&b->info), 0);
	assert_int_equal(b->ops->queue_open(b->ctx, &cfg, &b->q), 0);
	assert_non_null(b->q);
	b->buf = malloc(BUF_SIZE);
	assert_non_null(b->buf);
}

static void bk_close(struct bk *b)
{
	b->ops->queue_close(b->q);
	b->ops->destroy(b->ctx);
	free(b->buf);
	if (b->path[0])
		unlink(b->path);
}

/*
 * A descriptor through the check and into the backend, the way a queue does
 * it: the check must accept, then the status the backend reports (the
 * submit's refusal or done's status) is returned.
 */
static int bk_do(struct bk *b, uint32_t op_flags, uint64_t start, uint32_t nr, uint16_t tag)
{
	struct ublksrv_io_desc d = mkdesc(op_flags, start, nr);
	struct vdf_ublk_io io;
	int ret;

	ret = vdf_ublk_check_desc(&d, &b->info, BUF_SIZE, &io);
	if (ret)
		return ret;
	io.tag = tag;
	io.buf = b->buf;
	memset(&b->rec, 0, sizeof(b->rec));
	ret = b->ops->submit(b->q, &io);
	if (ret) {
		assert_int_equal(b->rec.calls, 0); /* refused: no done() */
		return ret;
	}
	assert_int_equal(b->rec.calls, 1); /* synchronous: done() inside submit */
	assert_int_equal(b->rec.tag, tag);
	return b->rec.status;
}

/* A request straight to the backend, bypassing the check. */
static int bk_raw(struct bk *b, enum vdf_ublk_op op, uint64_t off, uint32_t len)
{
	struct vdf_ublk_io io = {.op = op, .tag = 3, .offset = off, .len = len, .buf = b->buf};
	int ret;

	memset(&b->rec, 0, sizeof(b->rec));
	ret = b->ops->submit(b->q, &io);
	if (ret) {
		assert_int_equal(b->rec.calls, 0);
		return ret;
	}
	assert_int_equal(b->rec.calls, 1);
	return b->rec.status;
}

static void pattern(uint8_t *p, size_t len, unsigned seed)
{
	size_t k;

	for (k = 0; k < len; k++)
		p[k] = (uint8_t)(seed * 131u + k * 7u + (k >> 9) + 1u);
}

static bool all_zero(const uint8_t *p, size_t len)
{
	size_t k;

	for (k = 0; k < len; k++)
		if (p[k])
			return false;
	return true;
}

/* Write sectors [start, start+nr) with a pattern and read them back. */
static void write_read_back(struct bk *b, uint64_t start, uint32_t nr, unsigned seed, bool fua)
{
	uint8_t *want = malloc((size_t)nr << 9);

	assert_non_null(want);
	pattern(want, (size_t)nr << 9, seed);
	memcpy(b->buf, want, (size_t)nr << 9);
	assert_int_equal(bk_do(b, UBLK_IO_OP_WRITE | (fua ? UBLK_IO_F_FUA : 0), start, nr, 1), 0);
	memset(b->buf, 0xee, BUF_SIZE);
	assert_int_equal(bk_do(b, UBLK_IO_OP_READ, start, nr, 2), 0);
	assert_memory_equal(b->buf, want, (size_t)nr << 9);
	free(want);
}

/* The whole device read back through the backend into out (size bytes). */
static void read_all(struct bk *b, uint8_t *out)
{
	uint64_t off;

	for (off = 0; off < b->info.size; off += BUF_SIZE) {
		uint32_t n = (uint32_t)VDF_MIN((uint64_t)BUF_SIZE, b->info.size - off);

		assert_int_equal(bk_do(b, UBLK_IO_OP_READ, off >> 9, n >> 9, 0), 0);
		memcpy(out + off, b->buf, n);
	}
}

/*
 * DISCARD / WRITE_ZEROES over a range that starts and ends inside pages
 * (sectors 5 .. 5+nr): the range reads back as zeroes, everything around it
 * keeps its data. zeroes_guaranteed is false for a file's DISCARD where the
 * file system cannot punch holes (discard is advisory there).
 */
static void zero_op_reads_zero(struct bk *b, uint32_t op_flags, uint32_t nr, bool zeroes_guaranteed)
{
	uint64_t size = b->info.size;
	uint64_t start = b->info.block_size == 4096 ? 8 : 5;
	uint64_t off;
	uint8_t *img = malloc(size), *before = malloc(size);

	assert_non_null(img);
	assert_non_null(before);
	/* fill the device */
	for (off = 0; off < size; off += BUF_SIZE) {
		pattern(b->buf, BUF_SIZE, (unsigned)(off >> 16) + 9);
		assert_int_equal(bk_do(b, UBLK_IO_OP_WRITE, off >> 9, BUF_SIZE >> 9, 0), 0);
	}
	read_all(b, before);
	assert_int_equal(bk_do(b, op_flags, start, nr, 5), 0);
	read_all(b, img);
	assert_memory_equal(img, before, start << 9);
	if (zeroes_guaranteed)
		assert_true(all_zero(img + (start << 9), (size_t)nr << 9));
	assert_memory_equal(img + ((start + nr) << 9), before + ((start + nr) << 9),
			    size - ((start + nr) << 9));
	free(img);
	free(before);
}

static void test_mem_create(void **state)
{
	struct vdf_ublk_backend_info info;
	void *ctx = (void *)1;

	(void)state;
	assert_int_equal(vdf_ublk_mem_backend_create(DEV_SIZE, 1024, &ctx), -EINVAL);
	assert_null(ctx);
	assert_int_equal(vdf_ublk_mem_backend_create(DEV_SIZE, 0, &ctx), -EINVAL);
	assert_int_equal(vdf_ublk_mem_backend_create(DEV_SIZE, 8192, &ctx), -EINVAL);
	assert_int_equal(vdf_ublk_mem_backend_create(0, 512, &ctx), -EINVAL);
	assert_int_equal(vdf_ublk_mem_backend_create(511, 512, &ctx), -EINVAL);
	assert_int_equal(vdf_ublk_mem_backend_create(4095, 4096, &ctx), -EINVAL);
	assert_null(ctx);
	assert_int_equal(vdf_ublk_mem_backend_create(UINT64_MAX, 4096, &ctx), -EINVAL);
	assert_null(ctx);

	/* rounded down to the block size */
	assert_int_equal(vdf_ublk_mem_backend_create(10000, 4096, &ctx), 0);
	vdf_ublk_mem_backend_ops.info(ctx, &info);
	assert_int_equal(info.size, 8192);
	assert_int_equal(info.block_size, 4096);
	vdf_ublk_mem_backend_ops.destroy(ctx);
	assert_int_equal(vdf_ublk_mem_backend_create(10000, 512, &ctx), 0);
	memset(&info, 0xa5, sizeof(info));
	vdf_ublk_mem_backend_ops.info(ctx, &info);
	assert_int_equal(info.size, 9728);
	assert_int_equal(info.block_size, 512);
	assert_int_equal(info.max_io, 0);
	assert_false(info.volatile_cache); /* memory: write-through, no FLUSH needed */
	assert_true(info.discard);
	assert_true(info.write_zeroes);
	assert_false(info.read_only);
	assert_int_equal(vdf_ublk_info_check(&info), 0);
	vdf_ublk_mem_backend_ops.destroy(ctx);
	/* NULLs are accepted */
	vdf_ublk_mem_backend_ops.destroy(NULL);
	vdf_ublk_mem_backend_ops.queue_close(NULL);
	assert_string_equal(vdf_ublk_mem_backend_ops.name, "mem");
	assert_null(vdf_ublk_mem_backend_ops.queue_buf);
	assert_null(vdf_ublk_mem_backend_ops.queue_fd);
}

static void mem_open(struct bk *b, uint32_t bs)
{
	memset(b, 0, sizeof(*b));
	b->ops = &vdf_ublk_mem_backend_ops;
	assert_int_equal(vdf_ublk_mem_backend_create(DEV_SIZE, bs, &b->ctx), 0);
	bk_open_queue(b);
}

static void test_mem_write_read(void **state)
{
	struct bk b;
	uint32_t bs;

	(void)state;
	for (bs = 512; bs <= 4096; bs *= 8) {
		uint32_t spb = bs >> 9;

		mem_open(&b, bs);
		/* untouched memory reads as zeroes */
		memset(b.buf, 0xee, BUF_SIZE);
		assert_int_equal(bk_do(&b, UBLK_IO_OP_READ, 0, BUF_SIZE >> 9, 0), 0);
		assert_true(all_zero(b.buf, BUF_SIZE));
		write_read_back(&b, 0, spb, 1, false);
		write_read_back(&b, spb, BUF_SIZE >> 9, 2, false);
		write_read_back(&b, DEV_SECTS - spb, spb, 3, false);
		write_read_back(&b, DEV_SECTS - (BUF_SIZE >> 9), BUF_SIZE >> 9, 4, false);
		/* FUA: the same, memory is always stable */
		write_read_back(&b, 3 * spb, 2 * spb, 5, true);
		/* FLUSH: nothing to do, succeeds */
		assert_int_equal(bk_do(&b, UBLK_IO_OP_FLUSH, 0, 0, 7), 0);
		bk_close(&b);
	}
}

static void test_mem_zeroing(void **state)
{
	struct bk b;

	(void)state;
	mem_open(&b, 512);
	/* sub-page, page-crossing, many pages */
	zero_op_reads_zero(&b, UBLK_IO_OP_DISCARD, 3, true);
	zero_op_reads_zero(&b, UBLK_IO_OP_DISCARD, 40, true);
	zero_op_reads_zero(&b, UBLK_IO_OP_WRITE_ZEROES, 1, true);
	zero_op_reads_zero(&b, UBLK_IO_OP_WRITE_ZEROES, 1000, true);
	zero_op_reads_zero(&b, UBLK_IO_OP_WRITE_ZEROES | UBLK_IO_F_NOUNMAP, 1000, true);
	zero_op_reads_zero(&b, UBLK_IO_OP_WRITE_ZEROES | UBLK_IO_F_NOUNMAP | UBLK_IO_F_FUA, 17,
			   true);
	zero_op_reads_zero(&b, UBLK_IO_OP_DISCARD | UBLK_IO_F_FUA, DEV_SECTS - 5, true);
	bk_close(&b);

	mem_open(&b, 4096);
	zero_op_reads_zero(&b, UBLK_IO_OP_DISCARD, 8, true);
	zero_op_reads_zero(&b, UBLK_IO_OP_WRITE_ZEROES, 64, true);
	zero_op_reads_zero(&b, UBLK_IO_OP_WRITE_ZEROES | UBLK_IO_F_NOUNMAP, 8, true);
	bk_close(&b);

	/* the whole device */
	mem_open(&b, 512);
	pattern(b.buf, BUF_SIZE, 3);
	assert_int_equal(bk_do(&b, UBLK_IO_OP_WRITE, DEV_SECTS - 128, 128, 0), 0);
	assert_int_equal(bk_do(&b, UBLK_IO_OP_DISCARD, 0, DEV_SECTS, 0), 0);
	assert_int_equal(bk_do(&b, UBLK_IO_OP_READ, DEV_SECTS - 128, 128, 0), 0);
	assert_true(all_zero(b.buf, BUF_SIZE));
	bk_close(&b);
}

/* Requests past the end of the device are refused by the backend itself. */
static void backend_refuses_out_of_range(struct bk *b)
{
	uint64_t size = b->info.size;
	enum vdf_ublk_op op;

	for (op = VDF_UBLK_READ; op <= VDF_UBLK_WRITE_ZEROES; op++) {
		if (op == VDF_UBLK_FLUSH)
			continue;
		assert_int_equal(bk_raw(b, op, size, 512), -EIO);
		assert_int_equal(bk_raw(b, op, size - 512, 1024), -EIO);
		assert_int_equal(bk_raw(b, op, size + 4096, 512), -EIO);
		assert_int_equal(bk_raw(b, op, UINT64_MAX - 511, 512), -EIO);
		assert_int_equal(bk_raw(b, op, UINT64_MAX, UINT32_MAX), -EIO);
		assert_int_equal(bk_raw(b, op, 512, UINT32_MAX), -EIO);
		/* up to the end is fine */
		assert_int_equal(bk_raw(b, op, size - 512, 512), 0);
	}
	/* FLUSH has no range */
	assert_int_equal(bk_raw(b, VDF_UBLK_FLUSH, UINT64_MAX, UINT32_MAX), 0);
	/* an op the backend does not know */
	assert_int_equal(bk_raw(b, (enum vdf_ublk_op)42, 0, 512), -EOPNOTSUPP);
	/* the check refuses the same as descriptors */
	assert_int_equal(bk_do(b, UBLK_IO_OP_READ, size >> 9, 1, 0), -EIO);
	assert_int_equal(bk_do(b, UBLK_IO_OP_WRITE, (size >> 9) - 1, 8, 0), -EIO);
}

static void test_mem_past_end(void **state)
{
	struct bk b;

	(void)state;
	mem_open(&b, 512);
	pattern(b.buf, BUF_SIZE, 1);
	backend_refuses_out_of_range(&b);
	bk_close(&b);
}

static void test_mem_queues_share_data(void **state)
{
	struct vdf_ublk_queue_cfg cfg = {.depth = 1, .buf_size = BUF_SIZE, .done = on_done};
	struct vdf_ublk_io io = {.op = VDF_UBLK_WRITE, .tag = 0, .offset = 4096, .len = 4096};
	struct done_rec r1 = {0}, r2 = {0};
	uint8_t wbuf[4096], rbuf[4096];
	void *ctx, *q1, *q2;

	(void)state;
	assert_int_equal(vdf_ublk_mem_backend_create(DEV_SIZE, 512, &ctx), 0);
	cfg.q_id = 0;
	cfg.done_arg = &r1;
	assert_int_equal(vdf_ublk_mem_backend_ops.queue_open(ctx, &cfg, &q1), 0);
	cfg.q_id = 1;
	cfg.done_arg = &r2;
	assert_int_equal(vdf_ublk_mem_backend_ops.queue_open(ctx, &cfg, &q2), 0);
	pattern(wbuf, sizeof(wbuf), 77);
	io.buf = wbuf;
	assert_int_equal(vdf_ublk_mem_backend_ops.submit(q1, &io), 0);
	io.op = VDF_UBLK_READ;
	io.buf = rbuf;
	io.tag = 9;
	assert_int_equal(vdf_ublk_mem_backend_ops.submit(q2, &io), 0);
	assert_memory_equal(rbuf, wbuf, sizeof(wbuf));
	/* each queue's completions go to its own callback argument */
	assert_int_equal(r1.calls, 1);
	assert_int_equal(r1.tag, 0);
	assert_int_equal(r2.calls, 1);
	assert_int_equal(r2.tag, 9);
	vdf_ublk_mem_backend_ops.queue_close(q1);
	vdf_ublk_mem_backend_ops.queue_close(q2);
	vdf_ublk_mem_backend_ops.destroy(ctx);
}

/* --- File backend -------------------------------------------------------- */

/*
 * The file backend's FLUSH and FUA are fdatasync calls. This definition takes
 * the place of the C library's in the test program: it counts them, and fails
 * them with fdatasync_errno when that is set.
 */
static int fdatasync_calls;
static int fdatasync_errno;

int fdatasync(int fd)
{
	fdatasync_calls++;
	if (fdatasync_errno) {
		errno = fdatasync_errno;
		return -1;
	}
	return (int)syscall(SYS_fdatasync, fd);
}

/* A temporary file of size bytes filled with a pattern; its path in path. */
static int make_file(char *path, size_t path_len, uint64_t size)
{
	uint8_t chunk[4096];
	uint64_t off;
	int fd;

	snprintf(path, path_len, "/tmp/vdf-ublk-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	for (off = 0; off < size; off += sizeof(chunk)) {
		size_t n = (size_t)VDF_MIN((uint64_t)sizeof(chunk), size - off);

		pattern(chunk, n, (unsigned)(off >> 12) + 100);
		assert_int_equal(pwrite(fd, chunk, n, (off_t)off), (ssize_t)n);
	}
	return fd;
}

static void file_open(struct bk *b, uint64_t size, uint32_t bs, bool ro)
{
	int fd;

	memset(b, 0, sizeof(*b));
	b->ops = &vdf_ublk_file_backend_ops;
	fd = make_file(b->path, sizeof(b->path), size);
	close(fd);
	assert_int_equal(vdf_ublk_file_backend_create(b->path, bs, ro, &b->ctx), 0);
	bk_open_queue(b);
}

/* Whether the file system under /tmp punches holes (discard zeroes there). */
static bool tmp_punches_holes(void)
{
	char path[32];
	int fd = make_file(path, sizeof(path), 8192);
	bool ok = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096) == 0;

	close(fd);
	unlink(path);
	return ok;
}

static void test_file_create(void **state)
{
	struct vdf_ublk_backend_info info;
	char path[32];
	void *ctx = (void *)1;
	int fd;

	(void)state;
	assert_int_equal(vdf_ublk_file_backend_create("/nonexistent/vdf-ublk", 512, false, &ctx),
			 -ENOENT);
	assert_null(ctx);
	/* neither a regular file nor a block device */
	assert_int_equal(vdf_ublk_file_backend_create("/dev/null", 512, false, &ctx), -EINVAL);
	assert_int_equal(vdf_ublk_file_backend_create("/tmp", 512, true, &ctx), -EINVAL);
	assert_null(ctx);

	fd = make_file(path, sizeof(path), 10000);
	/* block sizes other than 512 and 4096 */
	assert_int_equal(vdf_ublk_file_backend_create(path, 1024, false, &ctx), -EINVAL);
	assert_int_equal(vdf_ublk_file_backend_create(path, 0, false, &ctx), -EINVAL);
	assert_null(ctx);
	/* the size, rounded down to the block size */
	assert_int_equal(vdf_ublk_file_backend_create(path, 512, false, &ctx), 0);
	memset(&info, 0xa5, sizeof(info));
	vdf_ublk_file_backend_ops.info(ctx, &info);
	assert_int_equal(info.size, 9728);
	assert_int_equal(info.block_size, 512);
	assert_int_equal(info.max_io, 0);
	assert_true(info.volatile_cache); /* the page cache: FLUSH and FUA */
	assert_true(info.discard);
	assert_true(info.write_zeroes);
	assert_false(info.read_only);
	vdf_ublk_file_backend_ops.destroy(ctx);
	assert_int_equal(vdf_ublk_file_backend_create(path, 4096, true, &ctx), 0);
	vdf_ublk_file_backend_ops.info(ctx, &info);
	assert_int_equal(info.size, 8192);
	assert_int_equal(info.block_size, 4096);
	assert_true(info.read_only);
	vdf_ublk_file_backend_ops.destroy(ctx);

	/* smaller than one block, or empty */
	assert_int_equal(ftruncate(fd, 4095), 0);
	assert_int_equal(vdf_ublk_file_backend_create(path, 4096, false, &ctx), -EINVAL);
	assert_int_equal(vdf_ublk_file_backend_create(path, 512, false, &ctx), 0);
	vdf_ublk_file_backend_ops.info(ctx, &info);
	assert_int_equal(info.size, 3584);
	vdf_ublk_file_backend_ops.destroy(ctx);
	assert_int_equal(ftruncate(fd, 0), 0);
	assert_int_equal(vdf_ublk_file_backend_create(path, 512, false, &ctx), -EINVAL);
	assert_null(ctx);
	close(fd);

	/* read-write needs write permission; read-only does not */
	if (geteuid() != 0) {
		fd = make_file(path, sizeof(path), 4096);
		close(fd);
		assert_int_equal(chmod(path, 0400), 0);
		assert_int_equal(vdf_ublk_file_backend_create(path, 512, false, &ctx), -EACCES);
		assert_int_equal(vdf_ublk_file_backend_create(path, 512, true, &ctx), 0);
		vdf_ublk_file_backend_ops.destroy(ctx);
	}
	unlink(path);

	vdf_ublk_file_backend_ops.destroy(NULL);
	vdf_ublk_file_backend_ops.queue_close(NULL);
	assert_string_equal(vdf_ublk_file_backend_ops.name, "file");
}

static void test_file_write_read(void **state)
{
	struct bk b;
	uint32_t bs;

	(void)state;
	for (bs = 512; bs <= 4096; bs *= 8) {
		uint32_t spb = bs >> 9;
		uint8_t back[BUF_SIZE];
		int fd;

		file_open(&b, DEV_SIZE, bs, false);
		assert_int_equal(b.info.size, DEV_SIZE);
		write_read_back(&b, 0, spb, 1, false);
		write_read_back(&b, spb, BUF_SIZE >> 9, 2, false);
		write_read_back(&b, DEV_SECTS - spb, spb, 3, false);
		write_read_back(&b, DEV_SECTS - (BUF_SIZE >> 9), BUF_SIZE >> 9, 4, true);
		assert_int_equal(bk_do(&b, UBLK_IO_OP_FLUSH, 0, 0, 3), 0);
		assert_int_equal(bk_do(&b, UBLK_IO_OP_FLUSH | UBLK_IO_F_FUA, 77, 3, 3), 0);

		/* the data is in the file itself */
		fd = open(b.path, O_RDONLY);
		assert_true(fd >= 0);
		assert_int_equal(pread(fd, back, BUF_SIZE, DEV_SIZE - BUF_SIZE), BUF_SIZE);
		pattern(b.buf, BUF_SIZE, 4);
		assert_memory_equal(back, b.buf, BUF_SIZE);
		close(fd);
		bk_close(&b);
	}
}

static void test_file_flush_fua(void **state)
{
	struct bk b;

	(void)state;
	file_open(&b, DEV_SIZE, 512, false);
	pattern(b.buf, BUF_SIZE, 8);
	/* no FUA: no sync */
	fdatasync_calls = 0;
	assert_int_equal(bk_do(&b, UBLK_IO_OP_WRITE, 0, 8, 0), 0);
	assert_int_equal(bk_do(&b, UBLK_IO_OP_DISCARD, 8, 8, 0), 0);
	assert_int_equal(bk_do(&b, UBLK_IO_OP_WRITE_ZEROES, 16, 8, 0), 0);
	assert_int_equal(bk_do(&b, UBLK_IO_OP_READ, 0, 8, 0), 0);
	assert_int_equal(fdatasync_calls, 0);
	/* FLUSH: one sync, whatever its flags */
	assert_int_equal(bk_do(&b, UBLK_IO_OP_FLUSH, 0, 0, 0), 0);
	assert_int_equal(fdatasync_calls, 1);
	assert_int_equal(bk_do(&b, UBLK_IO_OP_FLUSH | UBLK_IO_F_FUA, 0, 0, 0), 0);
	assert_int_equal(fdatasync_calls, 2);
	/* FUA: one sync after the write-type op */
	fdatasync_calls = 0;
	assert_int_equal(bk_do(&b, UBLK_IO_OP_WRITE | UBLK_IO_F_FUA, 0, 8, 0), 0);
	assert_int_equal(fdatasync_calls, 1);
	assert_int_equal(bk_do(&b, UBLK_IO_OP_DISCARD | UBLK_IO_F_FUA, 8, 8, 0), 0);
	assert_int_equal(fdatasync_calls, 2);
	assert_int_equal(
	    bk_do(&b, UBLK_IO_OP_WRITE_ZEROES | UBLK_IO_F_FUA | UBLK_IO_F_NOUNMAP, 16, 8, 0), 0);
	assert_int_equal(fdatasync_calls, 3);
	/* a READ with FUA set: dropped by the check, no sync */
	assert_int_equal(bk_do(&b, UBLK_IO_OP_READ | UBLK_IO_F_FUA, 0, 8, 0), 0);
	assert_int_equal(fdatasync_calls, 3);

	/* a failing sync fails the request (through done) */
	fdatasync_errno = EIO;
	assert_int_equal(bk_do(&b, UBLK_IO_OP_FLUSH, 0, 0, 0), -EIO);
	assert_int_equal(bk_do(&b, UBLK_IO_OP_WRITE | UBLK_IO_F_FUA, 0, 8, 0), -EIO);
	assert_int_equal(bk_do(&b, UBLK_IO_OP_WRITE, 0, 8, 0), 0);
	fdatasync_errno = 0;
	/* the write itself happened */
	memset(b.buf, 0, BUF_SIZE);
	assert_int_equal(bk_do(&b, UBLK_IO_OP_READ, 0, 8, 0), 0);
	{
		uint8_t want[4096];

		pattern(want, sizeof(want), 8);
		assert_memory_equal(b.buf, want, sizeof(want));
	}
	bk_close(&b);
}

static void test_file_zeroing(void **state)
{
	bool holes = tmp_punches_holes();
	struct bk b;

	(void)state;
	file_open(&b, 256 << 10, 512, false);
	zero_op_reads_zero(&b, UBLK_IO_OP_DISCARD, 3, holes);
	zero_op_reads_zero(&b, UBLK_IO_OP_DISCARD, 40, holes);
	zero_op_reads_zero(&b, UBLK_IO_OP_DISCARD | UBLK_IO_F_FUA, 100, holes);
	zero_op_reads_zero(&b, UBLK_IO_OP_WRITE_ZEROES, 1, true);
	zero_op_reads_zero(&b, UBLK_IO_OP_WRITE_ZEROES, 300, true);
	zero_op_reads_zero(&b, UBLK_IO_OP_WRITE_ZEROES | UBLK_IO_F_NOUNMAP, 300, true);
	zero_op_reads_zero(&b, UBLK_IO_OP_WRITE_ZEROES | UBLK_IO_F_NOUNMAP | UBLK_IO_F_FUA, 7,
			   true);
	/* to the end of the file: the size does not change */
	zero_op_reads_zero(&b, UBLK_IO_OP_WRITE_ZEROES, (uint32_t)(b.info.size >> 9) - 5, true);
	zero_op_reads_zero(&b, UBLK_IO_OP_DISCARD, (uint32_t)(b.info.size >> 9) - 5, holes);
	{
		struct stat st;

		assert_int_equal(stat(b.path, &st), 0);
		assert_int_equal(st.st_size, 256 << 10);
	}
	bk_close(&b);

	file_open(&b, 256 << 10, 4096, false);
	zero_op_reads_zero(&b, UBLK_IO_OP_DISCARD, 8, holes);
	zero_op_reads_zero(&b, UBLK_IO_OP_WRITE_ZEROES, 64, true);
	zero_op_reads_zero(&b, UBLK_IO_OP_WRITE_ZEROES | UBLK_IO_F_NOUNMAP, 16, true);
	bk_close(&b);
}

static void test_file_past_end(void **state)
{
	struct bk b;
	struct stat st;

	(void)state;
	file_open(&b, DEV_SIZE, 512, false);
	pattern(b.buf, BUF_SIZE, 1);
	backend_refuses_out_of_range(&b);
	/* nothing was written past the end: the file did not grow */
	assert_int_equal(stat(b.path, &st), 0);
	assert_int_equal(st.st_size, DEV_SIZE);
	bk_close(&b);
}

static void test_file_read_only(void **state)
{
	uint8_t orig[BUF_SIZE];
	struct bk b;
	int fd;

	(void)state;
	file_open(&b, DEV_SIZE, 512, true);
	assert_true(b.info.read_only);
	fd = open(b.path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, orig, BUF_SIZE, 0), BUF_SIZE);

	/* the check refuses write-type descriptors ... */
	assert_int_equal(bk_do(&b, UBLK_IO_OP_WRITE, 0, 8, 0), -EROFS);
	assert_int_equal(bk_do(&b, UBLK_IO_OP_DISCARD, 0, 8, 0), -EROFS);
	assert_int_equal(bk_do(&b, UBLK_IO_OP_WRITE_ZEROES, 0, 8, 0), -EROFS);
	/* ... and so does the backend on its own */
	memset(b.buf, 0x5a, BUF_SIZE);
	assert_int_equal(bk_raw(&b, VDF_UBLK_WRITE, 0, 4096), -EROFS);
	assert_int_equal(bk_raw(&b, VDF_UBLK_DISCARD, 0, 4096), -EROFS);
	assert_int_equal(bk_raw(&b, VDF_UBLK_WRITE_ZEROES, 0, 4096), -EROFS);
	/* reads and flushes work */
	assert_int_equal(bk_do(&b, UBLK_IO_OP_READ, 0, BUF_SIZE >> 9, 0), 0);
	assert_memory_equal(b.buf, orig, BUF_SIZE);
	assert_int_equal(bk_do(&b, UBLK_IO_OP_FLUSH, 0, 0, 0), 0);
	/* the file is untouched */
	memset(b.buf, 0, BUF_SIZE);
	assert_int_equal(pread(fd, b.buf, BUF_SIZE, 0), BUF_SIZE);
	assert_memory_equal(b.buf, orig, BUF_SIZE);
	close(fd);
	bk_close(&b);
}

static void test_file_shrunk(void **state)
{
	struct bk b;

	(void)state;
	/* the file shrinks under the backend: the missing part reads as zeroes */
	file_open(&b, DEV_SIZE, 512, false);
	assert_int_equal(truncate(b.path, DEV_SIZE - 1536), 0);
	memset(b.buf, 0xee, BUF_SIZE);
	assert_int_equal(bk_do(&b, UBLK_IO_OP_READ, DEV_SECTS - 8, 8, 0), 0);
	assert_true(all_zero(b.buf + 4096 - 1536, 1536));
	assert_false(all_zero(b.buf, 4096 - 1536));
	bk_close(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_desc_read_write), cmocka_unit_test(test_desc_last_sector),
	    cmocka_unit_test(test_desc_overflow),   cmocka_unit_test(test_desc_zero_length),
	    cmocka_unit_test(test_desc_max_io),	    cmocka_unit_test(test_desc_alignment),
	    cmocka_unit_test(test_desc_ops),	    cmocka_unit_test(test_desc_backend_lacks_op),
	    cmocka_unit_test(test_desc_read_only),  cmocka_unit_test(test_desc_flush),
	    cmocka_unit_test(test_desc_flags),	    cmocka_unit_test(test_desc_addr_ignored),
	    cmocka_unit_test(test_io_result),	    cmocka_unit_test(test_op_name),
	    cmocka_unit_test(test_info_check),	    cmocka_unit_test(test_buf_size),
	    cmocka_unit_test(test_params_512),	    cmocka_unit_test(test_params_4096),
	    cmocka_unit_test(test_params_match),    cmocka_unit_test(test_mem_create),
	    cmocka_unit_test(test_mem_write_read),  cmocka_unit_test(test_mem_zeroing),
	    cmocka_unit_test(test_mem_past_end),    cmocka_unit_test(test_mem_queues_share_data),
	    cmocka_unit_test(test_file_create),	    cmocka_unit_test(test_file_write_read),
	    cmocka_unit_test(test_file_flush_fua),  cmocka_unit_test(test_file_zeroing),
	    cmocka_unit_test(test_file_past_end),   cmocka_unit_test(test_file_read_only),
	    cmocka_unit_test(test_file_shrunk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
