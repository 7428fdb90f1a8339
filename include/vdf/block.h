/* SPDX-License-Identifier: MIT */
/*
 * Block device class (the seeds' BlockDevice): info, read_blocks,
 * write_blocks, flush, discard, write_zeroes. Requests are asynchronous with a
 * completion callback; vdf_block_sync runs one to completion.
 *
 * Data buffers must lie in DMA memory mapped for the device (vdf_dma_alloc or
 * vdf_dma_map) and be at least 4-byte aligned; the request names the buffer
 * it lives in so the driver can translate and check it.
 *
 * Calling context: a block device is driven by one thread, the one running its
 * event loop; callbacks run on that thread from poll or the interrupt handler.
 */
#ifndef VDF_BLOCK_H
#define VDF_BLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "vdf/common.h"
#include "vdf/dma.h"
#include "vdf/event.h"

enum vdf_block_op {
	VDF_BLOCK_READ,
	VDF_BLOCK_WRITE,
	VDF_BLOCK_FLUSH,
	VDF_BLOCK_DISCARD,
	VDF_BLOCK_WRITE_ZEROES,
};

const char *vdf_block_op_name(enum vdf_block_op op);

struct vdf_block_info {
	uint64_t num_blocks;
	uint32_t block_size;   /* bytes per logical block */
	uint32_t max_transfer; /* bytes one request may carry (larger ones are split) */
	uint32_t queue_depth;  /* requests in flight per queue */
	bool read_only;
	bool volatile_cache; /* flush is meaningful */
	bool supports_discard;
	bool supports_write_zeroes;
	bool discard_zeroes; /* discarded blocks read back as zeros */
	char model[41];
	char serial[21];
};

/* status: 0 or a negative errno (-EIO for media errors, -ETIMEDOUT, ...). */
typedef void (*vdf_block_cb)(void *arg, int status);

struct vdf_block_req {
	enum vdf_block_op op;
	uint64_t lba;
	uint32_t nblocks;
	void *buf;		 /* READ/WRITE only */
	struct vdf_dma_buf *dma; /* the mapped buffer that contains buf */
	bool fua;		 /* WRITE: force unit access */
	vdf_block_cb cb;
	void *cb_arg;
};

struct vdf_block_dev;

struct vdf_block_ops {
	void (*info)(struct vdf_block_dev *bdev, struct vdf_block_info *info);
	/* Validate and queue. 0 means the callback will run exactly once. */
	int (*submit)(struct vdf_block_dev *bdev, const struct vdf_block_req *req);
	/* Process completions without waiting; returns how many completed. */
	int (*poll)(struct vdf_block_dev *bdev);
};

struct vdf_block_stats {
	uint64_t reads, writes, flushes, discards, write_zeroes;
	uint64_t bytes_read, bytes_written;
	uint64_t errors;
};

struct vdf_block_dev {
	const struct vdf_block_ops *ops;
	const char *name;
	struct vdf_event_loop *loop; /* where its interrupts are delivered */
	bool polled;		     /* vdf_block_sync spins on poll instead of sleeping */
	struct vdf_block_stats stats;
	void *priv;
};

static inline void vdf_block_info(struct vdf_block_dev *bdev, struct vdf_block_info *info)
{
	bdev->ops->info(bdev, info);
}

int vdf_block_submit(struct vdf_block_dev *bdev, const struct vdf_block_req *req) VDF_MUST_CHECK;
int vdf_block_poll(struct vdf_block_dev *bdev);

/* Submit and wait for completion: returns the request's status. */
int vdf_block_sync(struct vdf_block_dev *bdev, struct vdf_block_req *req) VDF_MUST_CHECK;

/* Synchronous helpers in the seeds' shape. */
int vdf_block_read(struct vdf_block_dev *bdev, uint64_t lba, uint32_t nblocks, void *buf,
		   struct vdf_dma_buf *dma) VDF_MUST_CHECK;
int vdf_block_write(struct vdf_block_dev *bdev, uint64_t lba, uint32_t nblocks, void *buf,
		    struct vdf_dma_buf *dma) VDF_MUST_CHECK;
int vdf_block_flush(struct vdf_block_dev *bdev) VDF_MUST_CHECK;
int vdf_block_discard(struct vdf_block_dev *bdev, uint64_t lba, uint32_t nblocks) VDF_MUST_CHECK;
int vdf_block_write_zeroes(struct vdf_block_dev *bdev, uint64_t lba,
			   uint32_t nblocks) VDF_MUST_CHECK;

/* Read nblocks at lba (through a bounce buffer mapped for dev) and return the
 * FNV-1a checksum of the data (the grant protocol's CHECK). */
int vdf_block_checksum(struct vdf_block_dev *bdev, struct vdf_dev *dev, uint64_t lba,
		       uint32_t nblocks, uint64_t *checksum) VDF_MUST_CHECK;

/*
 * Common request checks for drivers: range inside the device, buffer inside
 * its DMA mapping and aligned, op supported. Returns 0 or -ERANGE / -EINVAL /
 * -EFAULT / -EOPNOTSUPP / -EROFS, logging why (rate-limited).
 */
int vdf_block_validate(struct vdf_block_dev *bdev, const struct vdf_block_info *info,
		       const struct vdf_block_req *req) VDF_MUST_CHECK;

#endif
