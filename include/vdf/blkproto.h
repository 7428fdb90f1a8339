/* SPDX-License-Identifier: MIT */
/*
 * Block service protocol: the request and completion descriptors a block
 * client and a block driver exchange through two SPSC rings (vdf/ring.h):
 * the submission ring (client -> driver) carries struct vdf_blk_req_wire, the
 * completion ring (driver -> client) struct vdf_blk_cpl_wire. Data never
 * travels in the rings: a request names a byte range of the shared data area
 * (a memfd the driver maps for DMA) by offset and length.
 *
 * All descriptor fields are little-endian; reserved fields are zero.
 *
 * The driver trusts nothing a client writes: it copies a descriptor out of
 * the ring and runs vdf_blkproto_validate_req on the copy before acting on it.
 * A rejected request is completed with the returned errno; the driver keeps
 * serving the others.
 *
 * Crash transparency (issue 4): requests carry the client's tag (id) and the
 * driver generation the client submitted them under. After a driver restart
 * the client replays requests that have no completion, if the operation is
 * idempotent (vdf_blkproto_idempotent), within the bounds of struct
 * vdf_blk_retry.
 */
#ifndef VDF_BLKPROTO_H
#define VDF_BLKPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vdf/block.h"
#include "vdf/common.h"

/* Wire opcodes. 0 is invalid so that a zeroed slot is never a request. */
enum vdf_blkproto_op {
	VDF_BLKPROTO_OP_READ = 1,
	VDF_BLKPROTO_OP_WRITE = 2,
	VDF_BLKPROTO_OP_FLUSH = 3,
	VDF_BLKPROTO_OP_DISCARD = 4,
	VDF_BLKPROTO_OP_WRITE_ZEROES = 5,
};

/* Request flags. FUA is valid on the ops that modify data. */
#define VDF_BLKPROTO_F_FUA   BIT(0)
#define VDF_BLKPROTO_F_KNOWN (VDF_BLKPROTO_F_FUA)

/* Buffers must be aligned to at least this (the block class's rule). */
#define VDF_BLKPROTO_MIN_ALIGN 4u

/* Request descriptor, 48 bytes, little-endian. */
struct vdf_blk_req_wire {
	uint64_t id;	     /* client's tag, echoed in the completion */
	uint32_t generation; /* driver generation the client submitted under */
	uint8_t op;	     /* enum vdf_blkproto_op */
	uint8_t flags;	     /* VDF_BLKPROTO_F_* */
	uint16_t reserved0;
	uint64_t lba;
	uint32_t nblocks;
	uint32_t reserved1;
	uint64_t buf_offset; /* offset of the data in the shared data area */
	uint32_t buf_len;    /* bytes; nblocks * block_size for read/write, else 0 */
	uint32_t reserved2;
};

static_assert(sizeof(struct vdf_blk_req_wire) == 48, "request is 48 bytes");
static_assert(offsetof(struct vdf_blk_req_wire, generation) == 8, "generation at byte 8");
static_assert(offsetof(struct vdf_blk_req_wire, op) == 12, "op at byte 12");
static_assert(offsetof(struct vdf_blk_req_wire, flags) == 13, "flags at byte 13");
static_assert(offsetof(struct vdf_blk_req_wire, reserved0) == 14, "reserved at byte 14");
static_assert(offsetof(struct vdf_blk_req_wire, lba) == 16, "lba at byte 16");
static_assert(offsetof(struct vdf_blk_req_wire, nblocks) == 24, "nblocks at byte 24");
static_assert(offsetof(struct vdf_blk_req_wire, reserved1) == 28, "reserved at byte 28");
static_assert(offsetof(struct vdf_blk_req_wire, buf_offset) == 32, "buf_offset at byte 32");
static_assert(offsetof(struct vdf_blk_req_wire, buf_len) == 40, "buf_len at byte 40");
static_assert(offsetof(struct vdf_blk_req_wire, reserved2) == 44, "reserved at byte 44");

/* Completion descriptor, 16 bytes, little-endian. */
struct vdf_blk_cpl_wire {
	uint64_t id;
	uint32_t generation;
	int32_t status; /* 0 or a negative errno */
};

static_assert(sizeof(struct vdf_blk_cpl_wire) == 16, "completion is 16 bytes");
static_assert(offsetof(struct vdf_blk_cpl_wire, generation) == 8, "generation at byte 8");
static_assert(offsetof(struct vdf_blk_cpl_wire, status) == 12, "status at byte 12");

/* A request in host order, as the driver acts on it after validation. */
struct vdf_blk_req {
	uint64_t id;
	uint32_t generation;
	enum vdf_block_op op;
	bool fua;
	uint64_t lba;
	uint32_t nblocks;
	uint64_t buf_offset;
	uint32_t buf_len;
};

struct vdf_blk_cpl {
	uint64_t id;
	uint32_t generation;
	int32_t status;
};

/* What a driver knows about the device and about this client's open. */
struct vdf_blkproto_limits {
	uint64_t num_blocks;
	uint32_t block_size;   /* a power of two */
	uint32_t max_transfer; /* bytes one read/write may carry; 0 = no limit */
	uint64_t data_size;    /* bytes in the shared data area */
	bool read_only;	       /* the client opened read-only, or the device is */
	bool block_align;      /* buffers aligned to block_size, not just 4 bytes */
	bool supports_discard;
	bool supports_write_zeroes;
};

/* Convert between host order and the wire. Encoding never fails. */
void vdf_blkproto_encode_req(const struct vdf_blk_req *req, struct vdf_blk_req_wire *w);
void vdf_blkproto_encode_cpl(const struct vdf_blk_cpl *cpl, struct vdf_blk_cpl_wire *w);

/*
 * Client side: decode a completion from the (untrusted) ring. Returns 0, or
 * -EINVAL if the status is neither 0 nor a negative errno in [-4095, -1].
 * Matching id and generation against outstanding requests is the client's job.
 */
int vdf_blkproto_decode_cpl(const struct vdf_blk_cpl_wire *w,
			    struct vdf_blk_cpl *out) VDF_MUST_CHECK;

/*
 * Driver side: check an untrusted request and decode it into *out. w should
 * point to a private copy (each field is read once either way). On error
 * *out is left untouched. Checks, in this order:
 *   -EINVAL      reserved field nonzero, unknown flag
 *   -EOPNOTSUPP  unknown op, or discard/write-zeroes the device lacks
 *   -EINVAL      FUA on read or flush
 *   -EROFS       write, discard or write-zeroes on a read-only open
 *   -EINVAL      flush with a range or buffer; nblocks == 0 otherwise
 *   -ERANGE      lba + nblocks overflows or passes num_blocks
 *   -EMSGSIZE    read/write larger than max_transfer
 *   -EINVAL      buf_len != nblocks * block_size (read/write), a buffer on
 *                flush/discard/write-zeroes, or a misaligned buf_offset
 *   -EFAULT      buffer not inside the data area
 * A NULL lim, a zero or non-power-of-two block_size give -EINVAL.
 */
int vdf_blkproto_validate_req(const struct vdf_blk_req_wire *w,
			      const struct vdf_blkproto_limits *lim,
			      struct vdf_blk_req *out) VDF_MUST_CHECK;

/*
 * Whether a request may be replayed after a driver crash without knowing if
 * the first attempt reached the media. All five ops are: each one's effect
 * depends only on the request, never on the state it finds (read returns the
 * blocks; write and write-zeroes set them to fixed contents; discard makes
 * them unallocated; flush persists what was acknowledged), so doing it twice
 * leaves the same result as once. What the client must still ensure is order:
 * it does not acknowledge or replay a write past a newer overlapping one
 * (it keeps overlapping writes serialized).
 */
bool vdf_blkproto_idempotent(enum vdf_block_op op);

/* ---- client retry policy ---- */

#define VDF_BLK_RETRY_MAX	   10u /* retries of one request in its lifetime */
#define VDF_BLK_RETRY_RECOVERY_MAX 2u  /* retries of one request during one recovery */
#define VDF_BLK_RETRY_EIO_MAX	   5u  /* retries after -EIO from the device */

enum vdf_blk_retry_verdict {
	VDF_BLK_DONE,  /* status 0: complete the request successfully */
	VDF_BLK_RETRY, /* submit again (after recovery, if one is running) */
	VDF_BLK_FAIL,  /* complete the request with its status */
};

/* Per-request retry state, kept by the client next to the request. */
struct vdf_blk_retry {
	enum vdf_block_op op;
	uint32_t retries;	   /* all retries so far */
	uint32_t recovery_retries; /* retries in the current recovery */
	uint32_t eio_retries;
};

void vdf_blk_retry_init(struct vdf_blk_retry *st, enum vdf_block_op op);

/* A new driver recovery begins: the per-recovery budget starts again. */
void vdf_blk_retry_new_recovery(struct vdf_blk_retry *st);

/*
 * Decide what to do with a request that completed with status (or that was
 * lost: pass -ENOTCONN when the driver died with it in flight). in_recovery
 * says the failure happened while the client was reconnecting to a restarted
 * driver. Transient errors (-EIO, -ETIMEDOUT, -EAGAIN, -EINTR, -ENOTCONN,
 * -ECONNRESET, -EPIPE, -ESHUTDOWN, -ECANCELED, -ENODEV) are retried for
 * idempotent ops within the VDF_BLK_RETRY_* limits and counted in *st;
 * anything else (validation errors such as -EINVAL, -ERANGE, -EROFS) fails at
 * once, since a retry would get the same answer.
 */
enum vdf_blk_retry_verdict vdf_blk_retry_decide(struct vdf_blk_retry *st, int status,
						bool in_recovery);

#endif
