// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the ublk descriptor check (lib/ublk/ublk_desc.c). The
 * kernel writes descriptors into memory the server maps; nothing in them is
 * trusted.
 *
 * The input is a descriptor (24 bytes, raw) followed by a device geometry.
 * Geometries that vdf_ublk_info_check refuses are not exported (the server
 * stops before any queue runs), so only accepted ones reach the check, with
 * the tag buffer size either from vdf_ublk_buf_size (as the server does) or
 * raw. The check must never accept a range past the device, a READ/WRITE
 * larger than the tag buffer, a misaligned or empty range, an op the backend
 * lacks or a write on a read-only device; its verdict must agree with an
 * independent model of the rules (128-bit arithmetic, no overflow), and a
 * refusal must give an errno one of the broken rules calls for. On small
 * devices an accepted request also goes to the memory backend, which must
 * take it (ASan watches every byte it touches).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vdf/ublk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MEM_MAX (1u << 20)

static uint8_t io_buf[MEM_MAX];

static void take(void *dst, size_t n, const uint8_t **p, size_t *left)
{
	size_t k = n < *left ? n : *left;

	memset(dst, 0, n);
	memcpy(dst, *p, k);
	*p += k;
	*left -= k;
}

struct geom {
	uint64_t size;
	uint32_t max_io;
	uint32_t want; /* requested buffer size, or the raw one */
	uint8_t bs_sel;
	uint8_t flags;
};

enum {
	G_VOLATILE = 1,
	G_DISCARD = 2,
	G_WZ = 4,
	G_RO = 8,
	G_RAW_BUF = 16,	   /* the buffer size as given, not through vdf_ublk_buf_size */
	G_SMALL = 32,	   /* size mod 1 MiB: devices the memory backend can hold */
	G_NEAR_DESC = 64,  /* the descriptor's start is taken relative to the end */
	G_ALIGN_SIZE = 128 /* the size rounded to the block size (else used as is) */
};

static void done_cb(void *arg, uint16_t tag, int status)
{
	int *calls = arg;

	(void)tag;
	if (status != 0)
		abort();
	(*calls)++;
}

/* The memory backend takes whatever the check accepted, in full. */
static void run_mem(const struct vdf_ublk_backend_info *info, uint32_t buf_size,
		    struct vdf_ublk_io *io)
{
	struct vdf_ublk_backend_info mi;
	struct vdf_ublk_queue_cfg cfg = {.depth = 1, .buf_size = buf_size, .done = done_cb};
	void *ctx, *q;
	int calls = 0;

	if (vdf_ublk_mem_backend_create(info->size, info->block_size, &ctx))
		abort();
	vdf_ublk_mem_backend_ops.info(ctx, &mi);
	if (mi.size != info->size || mi.block_size != info->block_size)
		abort();
	cfg.done_arg = &calls;
	if (vdf_ublk_mem_backend_ops.queue_open(ctx, &cfg, &q))
		abort();
	io->tag = 0;
	io->buf = io_buf;
	if (vdf_ublk_mem_backend_ops.submit(q, io) != 0 || calls != 1)
		abort();
	vdf_ublk_mem_backend_ops.queue_close(q);
	vdf_ublk_mem_backend_ops.destroy(ctx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ublksrv_io_desc desc, copy;
	struct vdf_ublk_backend_info info;
	struct vdf_ublk_io io;
	struct geom g;
	const uint8_t *p = data;
	size_t left = size;
	uint32_t op, flags, buf_size;
	unsigned __int128 start, nr, end, dev_sects, bs_sects;
	bool known, lacks, write_type, rw;
	bool bad_op, bad_ro, bad_len, bad_range;
	int ret;

	take(&desc, sizeof(desc), &p, &left);
	take(&g.size, 8, &p, &left);
	take(&g.max_io, 4, &p, &left);
	take(&g.want, 4, &p, &left);
	take(&g.bs_sel, 1, &p, &left);
	take(&g.flags, 1, &p, &left);

	memset(&info, 0, sizeof(info));
	info.block_size = g.bs_sel & 1 ? 4096 : 512;
	if (g.bs_sel & 2) /* anything else: info_check must refuse it */
		info.block_size = (uint32_t)g.bs_sel << (g.bs_sel & 15);
	info.size = g.size;
	if (g.flags & G_SMALL)
		info.size %= MEM_MAX + 1;
	if ((g.flags & G_ALIGN_SIZE) && info.block_size)
		info.size -= info.size % info.block_size;
	info.max_io = g.max_io;
	info.volatile_cache = g.flags & G_VOLATILE;
	info.discard = g.flags & G_DISCARD;
	info.write_zeroes = g.flags & G_WZ;
	info.read_only = g.flags & G_RO;

	ret = vdf_ublk_info_check(&info);
	if (ret) {
		if (ret != -EINVAL)
			abort();
		/* refused for a reason */
		if ((info.block_size == 512 || info.block_size == 4096) &&
		    info.size >= info.block_size && info.size % info.block_size == 0 &&
		    (info.max_io == 0 || info.max_io >= VDF_PAGE_SIZE))
			abort();
		return 0;
	}
	if (info.block_size != 512 && info.block_size != 4096)
		abort();
	if (info.size < info.block_size || info.size % info.block_size)
		abort();

	if (g.flags & G_RAW_BUF) {
		buf_size = g.want;
	} else {
		buf_size = vdf_ublk_buf_size(&info, g.want);
		if (buf_size < VDF_PAGE_SIZE || buf_size % VDF_PAGE_SIZE ||
		    buf_size > UBLK_MAX_IO_BUF_BYTES || (info.max_io && buf_size > info.max_io))
			abort();
	}

	/* Device parameters of this geometry describe it, and match it back. */
	{
		struct ublk_params prm;

		vdf_ublk_params_init(&prm, &info, buf_size);
		if (prm.basic.dev_sectors != info.size >> 9 ||
		    (1u << prm.basic.logical_bs_shift) != info.block_size ||
		    prm.basic.max_sectors != buf_size >> 9 ||
		    prm.len != UBLK_PARAMS_LEN_BASIC_DISCARD)
			abort();
		if (vdf_ublk_params_match(&prm, &info) != 0)
			abort();
		if (info.read_only && (prm.types & UBLK_PARAM_TYPE_DISCARD))
			abort();
	}

	if (g.flags & G_NEAR_DESC) /* the last few sectors, and just past them */
		desc.start_sector =
		    (info.size >> 9) - (desc.start_sector % 64) + (desc.start_sector >> 6) % 16;

	copy = desc;
	memset(&io, 0x5a, sizeof(io));
	ret = vdf_ublk_check_desc(&desc, &info, buf_size, &io);
	if (memcmp(&copy, &desc, sizeof(desc)))
		abort(); /* the descriptor is only read */

	/* The model. */
	op = desc.op_flags & 0xff;
	flags = desc.op_flags >> 8;
	known = op == UBLK_IO_OP_READ || op == UBLK_IO_OP_WRITE || op == UBLK_IO_OP_FLUSH ||
		op == UBLK_IO_OP_DISCARD || op == UBLK_IO_OP_WRITE_ZEROES;
	lacks = (op == UBLK_IO_OP_DISCARD && !info.discard) ||
		(op == UBLK_IO_OP_WRITE_ZEROES && !info.write_zeroes);
	write_type =
	    op == UBLK_IO_OP_WRITE || op == UBLK_IO_OP_DISCARD || op == UBLK_IO_OP_WRITE_ZEROES;
	rw = op == UBLK_IO_OP_READ || op == UBLK_IO_OP_WRITE;
	start = desc.start_sector;
	nr = desc.nr_sectors;
	end = start + nr;
	dev_sects = info.size / 512;
	bs_sects = info.block_size / 512;
	bad_op = !known || lacks;
	bad_ro = write_type && info.read_only;
	bad_len = nr == 0 || start % bs_sects || nr % bs_sects || (rw && nr * 512 > buf_size) ||
		  nr * 512 > UINT32_MAX;
	bad_range = end > dev_sects;

	if (op == UBLK_IO_OP_FLUSH) {
		/* FLUSH: always taken, no range, no flags */
		if (ret != 0 || io.op != VDF_UBLK_FLUSH || io.offset || io.len || io.fua ||
		    io.no_unmap)
			abort();
		goto accepted;
	}
	if (ret == 0) {
		if (bad_op || bad_ro || bad_len || bad_range)
			abort();
	} else {
		/* refused: for a reason that holds, with its errno */
		if (!((ret == -EOPNOTSUPP && bad_op) || (ret == -EROFS && bad_ro && !bad_op) ||
		      (ret == -EINVAL && bad_len && !bad_op) ||
		      (ret == -EIO && bad_range && !bad_op)))
			abort();
		if (!bad_op && !bad_ro && !bad_len && !bad_range)
			abort();
		return 0;
	}

	/* Accepted: what the request says is exactly what the descriptor said. */
	switch (op) {
	case UBLK_IO_OP_READ:
		if (io.op != VDF_UBLK_READ || io.fua)
			abort();
		break;
	case UBLK_IO_OP_WRITE:
		if (io.op != VDF_UBLK_WRITE)
			abort();
		break;
	case UBLK_IO_OP_DISCARD:
		if (io.op != VDF_UBLK_DISCARD)
			abort();
		break;
	case UBLK_IO_OP_WRITE_ZEROES:
		if (io.op != VDF_UBLK_WRITE_ZEROES)
			abort();
		break;
	default:
		abort();
	}
	if (io.offset != start * 512 || io.len != nr * 512)
		abort();
	if (io.offset > info.size || io.len > info.size - io.offset || io.len == 0 ||
	    io.offset % info.block_size || io.len % info.block_size)
		abort();
	if (rw && io.len > buf_size)
		abort();
	if (io.fua != (op != UBLK_IO_OP_READ && (flags & (UBLK_IO_F_FUA >> 8))))
		abort();
	if (io.no_unmap != (op == UBLK_IO_OP_WRITE_ZEROES && (flags & (UBLK_IO_F_NOUNMAP >> 8))))
		abort();

accepted:
	if (io.tag != 0 || io.buf != NULL)
		abort();
	if (vdf_ublk_io_result(&io, 0) != (rw ? (int32_t)io.len : 0) ||
	    vdf_ublk_io_result(&io, -EIO) != -EIO)
		abort();
	if ((g.flags & G_SMALL) && info.size <= MEM_MAX && (!rw || io.len <= MEM_MAX))
		run_mem(&info, buf_size, &io);
	return 0;
}
