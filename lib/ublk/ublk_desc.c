// SPDX-License-Identifier: MIT
/*
 * ublk descriptors and device parameters: the pure part of the ublk export.
 *
 * The kernel writes one struct ublksrv_io_desc per tag into an array the
 * server maps read-only; the server copies it out and checks it here before a
 * backend sees anything. The kernel is trusted not to be hostile, but a
 * mismatch (a newer kernel with an op we do not know, a parameter we got
 * wrong) must fail one request, not corrupt memory or the backend.
 */
#include <errno.h>
#include <string.h>

#include "vdf/ublk.h"

/* Largest DISCARD/WRITE_ZEROES the device advertises: 1 GiB. */
#define VDF_UBLK_MAX_DISCARD_SECTORS ((1u << 30) >> UBLK_SECTOR_SHIFT)

const char *vdf_ublk_op_name(enum vdf_ublk_op op)
{
	switch (op) {
	case VDF_UBLK_READ:
		return "READ";
	case VDF_UBLK_WRITE:
		return "WRITE";
	case VDF_UBLK_FLUSH:
		return "FLUSH";
	case VDF_UBLK_DISCARD:
		return "DISCARD";
	case VDF_UBLK_WRITE_ZEROES:
		return "WRITE_ZEROES";
	}
	return "?";
}

static unsigned ilog2_u32(uint32_t v)
{
	return 31u - (unsigned)__builtin_clz(v);
}

int vdf_ublk_info_check(const struct vdf_ublk_backend_info *info)
{
	if (info->block_size != 512 && info->block_size != 4096)
		return -EINVAL;
	if (info->size < info->block_size || !VDF_IS_ALIGNED(info->size, info->block_size))
		return -EINVAL;
	/* A backend that cannot take one page per request is not worth exporting. */
	if (info->max_io && info->max_io < VDF_PAGE_SIZE)
		return -EINVAL;
	return 0;
}

uint32_t vdf_ublk_buf_size(const struct vdf_ublk_backend_info *info, uint32_t want)
{
	uint32_t v = want ? want : VDF_UBLK_DEFAULT_MAX_IO;

	if (info->max_io && info->max_io < v)
		v = info->max_io;
	if (v > UBLK_MAX_IO_BUF_BYTES)
		v = UBLK_MAX_IO_BUF_BYTES;
	/* A page is a multiple of both block sizes. */
	v = VDF_ALIGN_DOWN(v, VDF_PAGE_SIZE);
	return v ? v : VDF_PAGE_SIZE;
}

int vdf_ublk_check_desc(const struct ublksrv_io_desc *desc,
			const struct vdf_ublk_backend_info *info, uint32_t buf_size,
			struct vdf_ublk_io *io)
{
	uint32_t op = desc->op_flags & UBLK_IO_OP_MASK;
	uint32_t flags = desc->op_flags & ~UBLK_IO_OP_MASK;
	uint64_t start = desc->start_sector, nr = desc->nr_sectors;
	uint64_t dev_sectors = info->size >> UBLK_SECTOR_SHIFT;
	uint64_t bs_sectors = info->block_size >> UBLK_SECTOR_SHIFT;
	uint64_t max_sectors;

	memset(io, 0, sizeof(*io));
	if (!bs_sectors)
		return -EINVAL; /* a geometry vdf_ublk_info_check refuses */
	switch (op) {
	case UBLK_IO_OP_READ:
		io->op = VDF_UBLK_READ;
		max_sectors = buf_size >> UBLK_SECTOR_SHIFT;
		break;
	case UBLK_IO_OP_WRITE:
		io->op = VDF_UBLK_WRITE;
		max_sectors = buf_size >> UBLK_SECTOR_SHIFT;
		break;
	case UBLK_IO_OP_FLUSH:
		/* No data and no range: whatever the other fields say is ignored. */
		io->op = VDF_UBLK_FLUSH;
		return 0;
	case UBLK_IO_OP_DISCARD:
		if (!info->discard)
			return -EOPNOTSUPP;
		io->op = VDF_UBLK_DISCARD;
		max_sectors = UINT32_MAX >> UBLK_SECTOR_SHIFT; /* len is 32-bit bytes */
		break;
	case UBLK_IO_OP_WRITE_ZEROES:
		if (!info->write_zeroes)
			return -EOPNOTSUPP;
		io->op = VDF_UBLK_WRITE_ZEROES;
		max_sectors = UINT32_MAX >> UBLK_SECTOR_SHIFT;
		break;
	default: /* WRITE_SAME, zone ops, anything newer */
		return -EOPNOTSUPP;
	}
	if (io->op != VDF_UBLK_READ && info->read_only)
		return -EROFS;
	if (nr == 0 || nr > max_sectors)
		return -EINVAL;
	if (start % bs_sectors || nr % bs_sectors)
		return -EINVAL;
	if (start > dev_sectors || nr > dev_sectors - start)
		return -EIO;
	io->fua = (flags & UBLK_IO_F_FUA) && io->op != VDF_UBLK_READ;
	io->no_unmap = (flags & UBLK_IO_F_NOUNMAP) && io->op == VDF_UBLK_WRITE_ZEROES;
	io->offset = start << UBLK_SECTOR_SHIFT;
	io->len = (uint32_t)(nr << UBLK_SECTOR_SHIFT);
	return 0;
}

int32_t vdf_ublk_io_result(const struct vdf_ublk_io *io, int status)
{
	if (status < 0)
		return status;
	/* The driver completes READ/WRITE by the byte count; a short count would
	 * make it retry the rest, zero for a READ is an error. */
	if (io->op == VDF_UBLK_READ || io->op == VDF_UBLK_WRITE)
		return (int32_t)io->len;
	return 0;
}

void vdf_ublk_params_init(struct ublk_params *p, const struct vdf_ublk_backend_info *info,
			  uint32_t buf_size)
{
	unsigned lbs_shift = ilog2_u32(info->block_size);
	unsigned pbs_shift = VDF_MAX(lbs_shift, 12u);

	memset(p, 0, sizeof(*p));
	p->len = UBLK_PARAMS_LEN_BASIC_DISCARD;
	p->types = UBLK_PARAM_TYPE_BASIC;
	p->basic.logical_bs_shift = (uint8_t)lbs_shift;
	p->basic.physical_bs_shift = (uint8_t)pbs_shift;
	p->basic.io_min_shift = (uint8_t)pbs_shift;
	p->basic.io_opt_shift = (uint8_t)pbs_shift;
	p->basic.max_sectors = buf_size >> UBLK_SECTOR_SHIFT;
	p->basic.dev_sectors = info->size >> UBLK_SECTOR_SHIFT;
	if (info->volatile_cache)
		p->basic.attrs |= UBLK_ATTR_VOLATILE_CACHE | UBLK_ATTR_FUA;
	if (info->read_only)
		p->basic.attrs |= UBLK_ATTR_READ_ONLY;
	if ((info->discard || info->write_zeroes) && !info->read_only) {
		p->types |= UBLK_PARAM_TYPE_DISCARD;
		/* The driver wants a non-zero granularity and one segment. */
		p->discard.discard_granularity = info->block_size;
		p->discard.max_discard_segments = 1;
		if (info->discard)
			p->discard.max_discard_sectors = VDF_UBLK_MAX_DISCARD_SECTORS;
		if (info->write_zeroes)
			p->discard.max_write_zeroes_sectors = VDF_UBLK_MAX_DISCARD_SECTORS;
	}
}

int vdf_ublk_params_match(const struct ublk_params *p, const struct vdf_ublk_backend_info *info)
{
	if (!(p->types & UBLK_PARAM_TYPE_BASIC))
		return -EINVAL;
	if (p->basic.dev_sectors != info->size >> UBLK_SECTOR_SHIFT)
		return -EINVAL;
	if (p->basic.logical_bs_shift != ilog2_u32(info->block_size))
		return -EINVAL;
	return 0;
}
