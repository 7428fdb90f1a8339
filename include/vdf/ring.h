/* SPDX-License-Identifier: MIT */
/*
 * Single-producer/single-consumer rings of fixed-size slots in shared memory.
 *
 * A ring lives in a region two processes map (a memfd): the block client and
 * the block driver. The region holds no pointers, only sizes and the offset
 * of the slot array from the start of the ring, so each side may map it at any
 * address. Layout (docs/RINGS.md):
 *
 *   offset   0  cache line 0: magic "VDFR", version, capacity, slot size,
 *                slots offset; written once by the creator (vdf_ring_init)
 *   offset  64  cache line 1: producer index (written by the producer only)
 *   offset 128  cache line 2: consumer index and the need-wakeup flag
 *                (written by the consumer; the producer clears the flag)
 *   offset 192  capacity slots of slot_size bytes
 *
 * The header is in host byte order: both sides run on the same machine.
 * What travels in the slots (struct vdf_blk_req_wire, ...) defines its own
 * byte order.
 *
 * Indices are free-running 32-bit counters: they are never reduced modulo the
 * capacity, only the slot number (index & (capacity - 1)) is. Because the
 * capacity is a power of two no larger than 2^31, the difference prod - cons
 * in unsigned 32-bit arithmetic is the number of filled slots even when the
 * counters wrap past UINT32_MAX.
 *
 * Concurrency contract. Exactly one thread of one process produces into a
 * ring and exactly one thread (usually of the other process) consumes from it;
 * each owns its struct vdf_ring. The only shared state is the region.
 *   Producer: write the slot contents, then store-release the producer index.
 *   Consumer: load-acquire the producer index, read the slots below it, then
 *             store-release the consumer index.
 *   Producer: load-acquire the consumer index before reusing a slot.
 * The release/acquire pairs make the slot writes visible before the index
 * that publishes them, and the consumer's reads complete before the producer
 * may overwrite the slot. Plain (non-atomic) accesses to a slot are only made
 * by the side that currently owns it.
 *
 * Doorbells. A consumer that runs out of work and wants to sleep on an
 * eventfd calls vdf_ring_prepare_wait: it sets the need-wakeup flag, issues a
 * full fence and re-checks the ring; only if the ring is still empty may it
 * block. vdf_ring_commit on the producer side stores the producer index,
 * issues a full fence and reads the flag: if it is set it clears it and tells
 * the caller to kick the eventfd. The two full fences (store then load on each
 * side) guarantee that at least one side sees the other's store, so a wakeup
 * is never lost; a busy-polling consumer never sets the flag and the producer
 * never makes a syscall. Producers batch: N slots, one commit, at most one
 * kick.
 *
 * Trust. The peer may be buggy or hostile and can write anything into the
 * region at any time. vdf_ring_attach validates the header and copies the
 * geometry into the private struct vdf_ring; it is never read again. Each side
 * keeps its own index privately and reads the peer's index only to compute a
 * distance: a distance larger than the capacity is corruption and every call
 * returns -EIO from then on. Slot contents may change while being read: copy
 * a slot out of the ring before validating it (vdf_ring_consume does).
 */
#ifndef VDF_RING_H
#define VDF_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vdf/common.h"

#define VDF_RING_MAGIC	 0x52464456u /* "VDFR" as little-endian bytes */
#define VDF_RING_VERSION 1u

#define VDF_RING_CACHE_LINE   64u
#define VDF_RING_HDR_SIZE     (3 * VDF_RING_CACHE_LINE)
#define VDF_RING_CAPACITY_MAX (1u << 20)
#define VDF_RING_SLOT_ALIGN   8u /* slot sizes are multiples of this */
#define VDF_RING_SLOT_MAX     4096u

/* Returned (positive) by vdf_ring_produce: the consumer sleeps, kick it. */
#define VDF_RING_KICK 1

/* The header at the start of the shared region (host byte order). */
struct vdf_ring_hdr {
	/* cache line 0: constant after vdf_ring_init */
	uint32_t magic;
	uint16_t version;
	uint16_t reserved0; /* zero */
	uint32_t capacity;  /* slots, a power of two */
	uint32_t slot_size; /* bytes, a multiple of VDF_RING_SLOT_ALIGN */
	uint64_t slots_off; /* == VDF_RING_HDR_SIZE */
	uint8_t reserved1[40];
	/* cache line 1: producer */
	uint32_t prod;
	uint8_t pad1[60];
	/* cache line 2: consumer */
	uint32_t cons;
	uint32_t need_wakeup; /* nonzero: the consumer sleeps or is about to */
	uint8_t pad2[56];
};

static_assert(sizeof(struct vdf_ring_hdr) == VDF_RING_HDR_SIZE, "ring header is 3 cache lines");
static_assert(offsetof(struct vdf_ring_hdr, capacity) == 8, "capacity at byte 8");
static_assert(offsetof(struct vdf_ring_hdr, slot_size) == 12, "slot size at byte 12");
static_assert(offsetof(struct vdf_ring_hdr, slots_off) == 16, "slots offset at byte 16");
static_assert(offsetof(struct vdf_ring_hdr, prod) == 64, "producer index on cache line 1");
static_assert(offsetof(struct vdf_ring_hdr, cons) == 128, "consumer index on cache line 2");
static_assert(offsetof(struct vdf_ring_hdr, need_wakeup) == 132, "wakeup flag next to cons");

/*
 * One side's private view of a ring. Filled by vdf_ring_init or
 * vdf_ring_attach; read only through the functions below.
 */
struct vdf_ring {
	struct vdf_ring_hdr *hdr;
	uint8_t *slots;
	uint32_t capacity;
	uint32_t mask;
	uint32_t slot_size;
	uint32_t prod;	   /* producer side: own index (committed) */
	uint32_t cons;	   /* consumer side: own index (released) */
	uint32_t reserved; /* producer side: slots reserved, not committed */
	uint32_t peeked;   /* consumer side: slots peeked, not released */
	bool broken;	   /* the peer corrupted the indices: -EIO forever */
};

/*
 * Bytes of shared memory a ring of capacity slots of slot_size bytes needs
 * (header plus slots). Returns 0 if the geometry is invalid: capacity not a
 * power of two in [1, VDF_RING_CAPACITY_MAX], or slot_size not a multiple of
 * VDF_RING_SLOT_ALIGN in [8, VDF_RING_SLOT_MAX].
 */
size_t vdf_ring_layout_size(uint32_t capacity, uint32_t slot_size);

/*
 * Creator: format len bytes at mem (8-byte aligned, e.g. a fresh mmap of a
 * memfd) as an empty ring and fill r. The slots are zeroed.
 * Returns 0, or -EINVAL for a bad geometry, a misaligned mem or a len smaller
 * than vdf_ring_layout_size.
 */
int vdf_ring_init(void *mem, size_t len, uint32_t capacity, uint32_t slot_size,
		  struct vdf_ring *r) VDF_MUST_CHECK;

/*
 * The other side: validate the header the peer wrote at mem (len bytes
 * mapped) and fill r. The current indices are picked up, so a restarted
 * process can re-attach to a ring with entries in flight.
 * Returns 0; -EINVAL for a bad magic, version, reserved field, geometry or a
 * ring that does not fit in len; -EIO if prod - cons exceeds the capacity.
 */
int vdf_ring_attach(void *mem, size_t len, struct vdf_ring *r) VDF_MUST_CHECK;

/* The slot for free-running index idx (any index; reduced by the mask). */
static inline void *vdf_ring_slot(const struct vdf_ring *r, uint32_t idx)
{
	return r->slots + (size_t)(idx & r->mask) * r->slot_size;
}

static inline uint32_t vdf_ring_capacity(const struct vdf_ring *r)
{
	return r->capacity;
}

static inline uint32_t vdf_ring_slot_size(const struct vdf_ring *r)
{
	return r->slot_size;
}

/* ---- producer side ---- */

/*
 * Free slots as the producer sees them (not counting reserved ones).
 * Returns the count or -EIO if the consumer index is corrupt.
 */
int vdf_ring_free(struct vdf_ring *r) VDF_MUST_CHECK;

/*
 * Reserve up to n slots after those already reserved. On return *first is
 * the index of the first one; fill vdf_ring_slot(r, *first + i) for i below
 * the returned count, then publish them with vdf_ring_commit.
 * Returns the number reserved (0 when full), or -EIO.
 */
int vdf_ring_reserve(struct vdf_ring *r, uint32_t n, uint32_t *first) VDF_MUST_CHECK;

/*
 * Publish the first n reserved slots (store-release of the producer index).
 * n must not exceed the reserved count (asserted). Returns true if the
 * consumer asked for a wakeup: the caller should kick its eventfd. The flag is
 * cleared, so one batch costs at most one kick.
 */
bool vdf_ring_commit(struct vdf_ring *r, uint32_t n);

/*
 * Copy one slot_size-byte slot from src into the ring and commit it.
 * Returns 0, VDF_RING_KICK (committed; kick the consumer), -EAGAIN when full,
 * or -EIO.
 */
int vdf_ring_produce(struct vdf_ring *r, const void *src) VDF_MUST_CHECK;

/* ---- consumer side ---- */

/*
 * Filled slots as the consumer sees them (including peeked ones).
 * Returns the count or -EIO if the producer index is corrupt.
 */
int vdf_ring_used(struct vdf_ring *r) VDF_MUST_CHECK;

/*
 * Make up to n filled slots after those already peeked available to read
 * (load-acquire of the producer index). *first is the index of the first;
 * read vdf_ring_slot(r, *first + i) for i below the returned count, then
 * hand them back with vdf_ring_release.
 * Returns the number available (0 when empty), or -EIO.
 */
int vdf_ring_peek(struct vdf_ring *r, uint32_t n, uint32_t *first) VDF_MUST_CHECK;

/*
 * Return the first n peeked slots to the producer (store-release of the
 * consumer index). n must not exceed the peeked count (asserted).
 */
void vdf_ring_release(struct vdf_ring *r, uint32_t n);

/*
 * Forget the slots peeked and not released: the next vdf_ring_peek returns
 * them again (a consumer that could act on only part of what it peeked).
 */
static inline void vdf_ring_unpeek(struct vdf_ring *r)
{
	r->peeked = 0;
}

/*
 * Copy one slot out of the ring into dst (slot_size bytes) and release it.
 * Returns 0, -EAGAIN when empty, or -EIO.
 */
int vdf_ring_consume(struct vdf_ring *r, void *dst) VDF_MUST_CHECK;

/*
 * Consumer, before blocking on its doorbell: set the need-wakeup flag and
 * re-check the ring. Returns 0 if the ring is still empty (block now; the
 * producer will kick), a positive count of filled slots if work arrived
 * meanwhile (the flag is cleared again: do not block), or -EIO.
 */
int vdf_ring_prepare_wait(struct vdf_ring *r) VDF_MUST_CHECK;

/* Consumer, after waking up: clear the need-wakeup flag (busy-poll again). */
void vdf_ring_finish_wait(struct vdf_ring *r);

#endif
