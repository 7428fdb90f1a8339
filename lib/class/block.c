// SPDX-License-Identifier: MIT
/* Block class: request validation and synchronous helpers. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "vdf/block.h"
#include "vdf/grant.h"
#include "vdf/log.h"

const char *vdf_block_op_name(enum vdf_block_op op)
{
	static const char *const names[] = {"read", "write", "flush", "discard", "write-zeroes"};
	return (unsigned)op < VDF_ARRAY_SIZE(names) ? names[op] : "?";
}

#define REJECT(err, ...)                                                   \
	do {                                                               \
		VDF_LOG_RL(LOG_WARNING, "block", bdev->name, __VA_ARGS__); \
		return err;                                                \
	} while (0)

int vdf_block_validate(struct vdf_block_dev *bdev, const struct vdf_block_info *info,
		       const struct vdf_block_req *req)
{
	uint64_t bytes;

	if (!req->cb)
		REJECT(-EINVAL, "%s without a completion callback", vdf_block_op_name(req->op));
	switch (req->op) {
	case VDF_BLOCK_FLUSH:
		return 0;
	case VDF_BLOCK_READ:
	case VDF_BLOCK_WRITE:
	case VDF_BLOCK_DISCARD:
	case VDF_BLOCK_WRITE_ZEROES:
		break;
	default:
		REJECT(-EINVAL, "unknown operation %d", (int)req->op);
	}
	if (req->op != VDF_BLOCK_READ && info->read_only)
		REJECT(-EROFS, "%s on a read-only device", vdf_block_op_name(req->op));
	if (req->op == VDF_BLOCK_DISCARD && !info->supports_discard)
		REJECT(-EOPNOTSUPP, "discard not supported by the device");
	if (req->op == VDF_BLOCK_WRITE_ZEROES && !info->supports_write_zeroes)
		REJECT(-EOPNOTSUPP, "write-zeroes not supported by the device");
	if (!req->nblocks)
		REJECT(-EINVAL, "%s of zero blocks", vdf_block_op_name(req->op));
	if (req->lba >= info->num_blocks || req->nblocks > info->num_blocks - req->lba)
		REJECT(-ERANGE,
		       "%s of %" PRIu32 " blocks at LBA %" PRIu64 " is past the end (%" PRIu64
		       " blocks)",
		       vdf_block_op_name(req->op), req->nblocks, req->lba, info->num_blocks);
	if (req->op != VDF_BLOCK_READ && req->op != VDF_BLOCK_WRITE)
		return 0;
	bytes = (uint64_t)req->nblocks * info->block_size;
	if (!req->buf || !req->dma)
		REJECT(-EINVAL, "%s without a buffer", vdf_block_op_name(req->op));
	if ((uintptr_t)req->buf & 3)
		REJECT(-EINVAL, "%s buffer %p is not 4-byte aligned", vdf_block_op_name(req->op),
		       req->buf);
	if ((uintptr_t)req->buf < (uintptr_t)req->dma->va ||
	    (uintptr_t)req->buf - (uintptr_t)req->dma->va > req->dma->size ||
	    bytes > req->dma->size - ((uintptr_t)req->buf - (uintptr_t)req->dma->va))
		REJECT(-EFAULT, "%s buffer of %" PRIu64 " bytes is outside its DMA mapping",
		       vdf_block_op_name(req->op), bytes);
	return 0;
}

int vdf_block_submit(struct vdf_block_dev *bdev, const struct vdf_block_req *req)
{
	return bdev->ops->submit(bdev, req);
}

int vdf_block_poll(struct vdf_block_dev *bdev)
{
	return bdev->ops->poll(bdev);
}

struct sync_wait {
	int done;
	int status;
};

static void sync_done(void *arg, int status)
{
	struct sync_wait *w = arg;

	w->status = status;
	w->done = 1;
}

int vdf_block_sync(struct vdf_block_dev *bdev, struct vdf_block_req *req)
{
	struct sync_wait w = {0};
	int rc;

	req->cb = sync_done;
	req->cb_arg = &w;
	rc = vdf_block_submit(bdev, req);
	if (rc)
		return rc;
	while (!w.done) {
		vdf_block_poll(bdev);
		if (w.done || bdev->polled || !bdev->loop)
			continue;
		/* Interrupt-driven: sleep until the vector fires (the driver's own
		 * timeout handling bounds the wait). */
		rc = vdf_event_loop_run_once(bdev->loop, 100);
		if (rc < 0)
			return rc;
	}
	return w.status;
}

static int sync_simple(struct vdf_block_dev *bdev, enum vdf_block_op op, uint64_t lba,
		       uint32_t nblocks, void *buf, struct vdf_dma_buf *dma)
{
	struct vdf_block_req req = {
	    .op = op, .lba = lba, .nblocks = nblocks, .buf = buf, .dma = dma};

	return vdf_block_sync(bdev, &req);
}

int vdf_block_read(struct vdf_block_dev *bdev, uint64_t lba, uint32_t nblocks, void *buf,
		   struct vdf_dma_buf *dma)
{
	return sync_simple(bdev, VDF_BLOCK_READ, lba, nblocks, buf, dma);
}

int vdf_block_write(struct vdf_block_dev *bdev, uint64_t lba, uint32_t nblocks, void *buf,
		    struct vdf_dma_buf *dma)
{
	return sync_simple(bdev, VDF_BLOCK_WRITE, lba, nblocks, buf, dma);
}

int vdf_block_flush(struct vdf_block_dev *bdev)
{
	return sync_simple(bdev, VDF_BLOCK_FLUSH, 0, 0, NULL, NULL);
}

int vdf_block_discard(struct vdf_block_dev *bdev, uint64_t lba, uint32_t nblocks)
{
	return sync_simple(bdev, VDF_BLOCK_DISCARD, lba, nblocks, NULL, NULL);
}

int vdf_block_write_zeroes(struct vdf_block_dev *bdev, uint64_t lba, uint32_t nblocks)
{
	return sync_simple(bdev, VDF_BLOCK_WRITE_ZEROES, lba, nblocks, NULL, NULL);
}

int vdf_block_checksum(struct vdf_block_dev *bdev, struct vdf_dev *dev, uint64_t lba,
		       uint32_t nblocks, uint64_t *checksum)
{
	struct vdf_block_info info;
	struct vdf_dma_buf *dma = NULL;
	uint64_t sum = VDF_GRANT_CHECKSUM_INIT;
	uint32_t chunk;
	int rc;

	vdf_block_info(bdev, &info);
	if (!info.block_size)
		return -ENODEV;
	chunk = VDF_MAX(info.max_transfer / info.block_size, 1u);
	rc = vdf_dma_alloc(dev, (size_t)chunk * info.block_size, VDF_DMA_FROM_DEVICE, &dma);
	while (!rc && nblocks) {
		uint32_t n = VDF_MIN(chunk, nblocks);

		rc = vdf_block_read(bdev, lba, n, dma->va, dma);
		if (!rc)
			sum = vdf_grant_checksum(sum, dma->va, (size_t)n * info.block_size);
		lba += n;
		nblocks -= n;
	}
	vdf_dma_free(dma);
	if (!rc)
		*checksum = sum;
	return rc;
}
