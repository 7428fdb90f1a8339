// SPDX-License-Identifier: MIT
/*
 * Block service descriptors (include/vdf/blkproto.h): wire conversion, the
 * driver's validation of untrusted requests, and the client's retry policy.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "vdf/blkproto.h"

void vdf_blkproto_encode_req(const struct vdf_blk_req *req, struct vdf_blk_req_wire *w)
{
	static const uint8_t wire_op[] = {
	    [VDF_BLOCK_READ] = VDF_BLKPROTO_OP_READ,
	    [VDF_BLOCK_WRITE] = VDF_BLKPROTO_OP_WRITE,
	    [VDF_BLOCK_FLUSH] = VDF_BLKPROTO_OP_FLUSH,
	    [VDF_BLOCK_DISCARD] = VDF_BLKPROTO_OP_DISCARD,
	    [VDF_BLOCK_WRITE_ZEROES] = VDF_BLKPROTO_OP_WRITE_ZEROES,
	};

	memset(w, 0, sizeof(*w));
	w->id = htole64(req->id);
	w->generation = htole32(req->generation);
	/* An op outside the enum encodes as 0, which every driver rejects. */
	w->op = (unsigned)req->op < VDF_ARRAY_SIZE(wire_op) ? wire_op[req->op] : 0;
	w->flags = req->fua ? VDF_BLKPROTO_F_FUA : 0;
	w->lba = htole64(req->lba);
	w->nblocks = htole32(req->nblocks);
	w->buf_offset = htole64(req->buf_offset);
	w->buf_len = htole32(req->buf_len);
}

void vdf_blkproto_encode_cpl(const struct vdf_blk_cpl *cpl, struct vdf_blk_cpl_wire *w)
{
	w->id = htole64(cpl->id);
	w->generation = htole32(cpl->generation);
	w->status = (int32_t)htole32((uint32_t)cpl->status);
}

int vdf_blkproto_decode_cpl(const struct vdf_blk_cpl_wire *w, struct vdf_blk_cpl *out)
{
	struct vdf_blk_cpl_wire c;
	int32_t status;

	memcpy(&c, w, sizeof(c));
	status = (int32_t)le32toh((uint32_t)c.status);
	if (status > 0 || status < -4095)
		return -EINVAL;
	out->id = le64toh(c.id);
	out->generation = le32toh(c.generation);
	out->status = status;
	return 0;
}

static bool limits_ok(const struct vdf_blkproto_limits *lim)
{
	return lim && lim->block_size && !(lim->block_size & (lim->block_size - 1));
}

int vdf_blkproto_validate_req(const struct vdf_blk_req_wire *w,
			      const struct vdf_blkproto_limits *lim, struct vdf_blk_req *out)
{
	struct vdf_blk_req_wire c;
	struct vdf_blk_req r = {0};
	uint64_t bytes, align;
	bool modifies;

	if (!w || !out || !limits_ok(lim))
		return -EINVAL;
	/* One read of the shared descriptor: what we check is what we use. */
	memcpy(&c, w, sizeof(c));
	r.id = le64toh(c.id);
	r.generation = le32toh(c.generation);
	r.lba = le64toh(c.lba);
	r.nblocks = le32toh(c.nblocks);
	r.buf_offset = le64toh(c.buf_offset);
	r.buf_len = le32toh(c.buf_len);
	r.fua = c.flags & VDF_BLKPROTO_F_FUA;

	if (c.reserved0 || c.reserved1 || c.reserved2 || (c.flags & ~VDF_BLKPROTO_F_KNOWN))
		return -EINVAL;
	switch (c.op) {
	case VDF_BLKPROTO_OP_READ:
		r.op = VDF_BLOCK_READ;
		break;
	case VDF_BLKPROTO_OP_WRITE:
		r.op = VDF_BLOCK_WRITE;
		break;
	case VDF_BLKPROTO_OP_FLUSH:
		r.op = VDF_BLOCK_FLUSH;
		break;
	case VDF_BLKPROTO_OP_DISCARD:
		if (!lim->supports_discard)
			return -EOPNOTSUPP;
		r.op = VDF_BLOCK_DISCARD;
		break;
	case VDF_BLKPROTO_OP_WRITE_ZEROES:
		if (!lim->supports_write_zeroes)
			return -EOPNOTSUPP;
		r.op = VDF_BLOCK_WRITE_ZEROES;
		break;
	default:
		return -EOPNOTSUPP;
	}
	modifies =
	    r.op == VDF_BLOCK_WRITE || r.op == VDF_BLOCK_DISCARD || r.op == VDF_BLOCK_WRITE_ZEROES;
	if (r.fua && !modifies)
		return -EINVAL;
	if (modifies && lim->read_only)
		return -EROFS;

	if (r.op == VDF_BLOCK_FLUSH) {
		if (r.lba || r.nblocks || r.buf_offset || r.buf_len)
			return -EINVAL;
		goto out;
	}
	if (r.nblocks == 0)
		return -EINVAL;
	if (r.lba > lim->num_blocks || r.nblocks > lim->num_blocks - r.lba)
		return -ERANGE;
	if (r.op != VDF_BLOCK_READ && r.op != VDF_BLOCK_WRITE) {
		if (r.buf_offset || r.buf_len)
			return -EINVAL;
		goto out;
	}

	/* u32 * u32 cannot overflow u64. */
	bytes = (uint64_t)r.nblocks * lim->block_size;
	if (lim->max_transfer && bytes > lim->max_transfer)
		return -EMSGSIZE;
	if (bytes != r.buf_len)
		return -EINVAL;
	align = lim->block_align ? lim->block_size : VDF_BLKPROTO_MIN_ALIGN;
	if (r.buf_offset % align)
		return -EINVAL;
	if (r.buf_offset > lim->data_size || r.buf_len > lim->data_size - r.buf_offset)
		return -EFAULT;
out:
	*out = r;
	return 0;
}

bool vdf_blkproto_idempotent(enum vdf_block_op op)
{
	switch (op) {
	case VDF_BLOCK_READ:
	case VDF_BLOCK_WRITE:
	case VDF_BLOCK_FLUSH:
	case VDF_BLOCK_DISCARD:
	case VDF_BLOCK_WRITE_ZEROES:
		return true;
	}
	return false;
}

void vdf_blk_retry_init(struct vdf_blk_retry *st, enum vdf_block_op op)
{
	memset(st, 0, sizeof(*st));
	st->op = op;
}

void vdf_blk_retry_new_recovery(struct vdf_blk_retry *st)
{
	st->recovery_retries = 0;
}

static bool status_transient(int status)
{
	switch (-status) {
	case EIO:
	case ETIMEDOUT:
	case EAGAIN:
	case EINTR:
	case ENOTCONN:
	case ECONNRESET:
	case EPIPE:
	case ESHUTDOWN:
	case ECANCELED:
	case ENODEV:
		return true;
	}
	return false;
}

enum vdf_blk_retry_verdict vdf_blk_retry_decide(struct vdf_blk_retry *st, int status,
						bool in_recovery)
{
	if (status == 0)
		return VDF_BLK_DONE;
	if (status > 0 || !status_transient(status) || !vdf_blkproto_idempotent(st->op))
		return VDF_BLK_FAIL;
	if (st->retries >= VDF_BLK_RETRY_MAX)
		return VDF_BLK_FAIL;
	if (in_recovery && st->recovery_retries >= VDF_BLK_RETRY_RECOVERY_MAX)
		return VDF_BLK_FAIL;
	if (status == -EIO && st->eio_retries >= VDF_BLK_RETRY_EIO_MAX)
		return VDF_BLK_FAIL;
	st->retries++;
	if (in_recovery)
		st->recovery_retries++;
	if (status == -EIO)
		st->eio_retries++;
	return VDF_BLK_RETRY;
}
