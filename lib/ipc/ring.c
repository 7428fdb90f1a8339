// SPDX-License-Identifier: MIT
/*
 * SPSC shared-memory rings: see include/vdf/ring.h for the layout and the
 * concurrency contract, docs/RINGS.md for the protocol built on top.
 *
 * Shared words are accessed with the __atomic builtins on plain uint32_t
 * fields so the header stays a plain layout both processes agree on; 32-bit
 * aligned atomics are lock-free on every target we build for, which is what
 * makes them work across processes.
 */
#include <errno.h>
#include <string.h>

#include "vdf/ring.h"

static_assert(__atomic_always_lock_free(sizeof(uint32_t), 0), "cross-process atomics");

static bool ring_geometry_ok(uint32_t capacity, uint32_t slot_size)
{
	if (capacity == 0 || capacity > VDF_RING_CAPACITY_MAX || (capacity & (capacity - 1)))
		return false;
	if (slot_size < VDF_RING_SLOT_ALIGN || slot_size > VDF_RING_SLOT_MAX ||
	    slot_size % VDF_RING_SLOT_ALIGN)
		return false;
	return true;
}

size_t vdf_ring_layout_size(uint32_t capacity, uint32_t slot_size)
{
	if (!ring_geometry_ok(capacity, slot_size))
		return 0;
	return VDF_RING_HDR_SIZE + (size_t)capacity * slot_size;
}

static void ring_fill(struct vdf_ring *r, void *mem, uint32_t capacity, uint32_t slot_size,
		      uint32_t prod, uint32_t cons)
{
	memset(r, 0, sizeof(*r));
	r->hdr = mem;
	r->slots = (uint8_t *)mem + VDF_RING_HDR_SIZE;
	r->capacity = capacity;
	r->mask = capacity - 1;
	r->slot_size = slot_size;
	r->prod = prod;
	r->cons = cons;
}

int vdf_ring_init(void *mem, size_t len, uint32_t capacity, uint32_t slot_size, struct vdf_ring *r)
{
	size_t need = vdf_ring_layout_size(capacity, slot_size);
	struct vdf_ring_hdr *h = mem;

	if (!mem || !r || need == 0 || len < need || !VDF_IS_ALIGNED((uintptr_t)mem, 8))
		return -EINVAL;
	memset(mem, 0, need);
	h->magic = VDF_RING_MAGIC;
	h->version = VDF_RING_VERSION;
	h->capacity = capacity;
	h->slot_size = slot_size;
	h->slots_off = VDF_RING_HDR_SIZE;
	/*
	 * No fence needed: the peer maps the region only after it receives the
	 * memfd, and that hand-over (a syscall pair) orders these stores.
	 */
	ring_fill(r, mem, capacity, slot_size, 0, 0);
	return 0;
}

int vdf_ring_attach(void *mem, size_t len, struct vdf_ring *r)
{
	const struct vdf_ring_hdr *h = mem;
	uint32_t capacity, slot_size, prod, cons;
	uint64_t slots_off;
	size_t need;
	size_t i;

	if (!mem || !r || len < sizeof(*h) || !VDF_IS_ALIGNED((uintptr_t)mem, 8))
		return -EINVAL;
	/* Each field is read exactly once: the peer may be rewriting them. */
	if (__atomic_load_n(&h->magic, __ATOMIC_RELAXED) != VDF_RING_MAGIC ||
	    __atomic_load_n(&h->version, __ATOMIC_RELAXED) != VDF_RING_VERSION ||
	    __atomic_load_n(&h->reserved0, __ATOMIC_RELAXED) != 0)
		return -EINVAL;
	for (i = 0; i < sizeof(h->reserved1); i++)
		if (__atomic_load_n(&h->reserved1[i], __ATOMIC_RELAXED))
			return -EINVAL;
	capacity = __atomic_load_n(&h->capacity, __ATOMIC_RELAXED);
	slot_size = __atomic_load_n(&h->slot_size, __ATOMIC_RELAXED);
	slots_off = __atomic_load_n(&h->slots_off, __ATOMIC_RELAXED);
	need = vdf_ring_layout_size(capacity, slot_size);
	if (need == 0 || slots_off != VDF_RING_HDR_SIZE || need > len)
		return -EINVAL;
	prod = __atomic_load_n(&h->prod, __ATOMIC_ACQUIRE);
	cons = __atomic_load_n(&h->cons, __ATOMIC_ACQUIRE);
	if ((uint32_t)(prod - cons) > capacity)
		return -EIO;
	ring_fill(r, mem, capacity, slot_size, prod, cons);
	return 0;
}

/* ---- producer ---- */

/* Slots filled or reserved, from the producer's view, or -EIO. */
static int64_t ring_prod_inflight(struct vdf_ring *r)
{
	uint32_t cons, used;

	if (r->broken)
		return -EIO;
	/* Pairs with the consumer's store-release: its reads of the slots are done. */
	cons = __atomic_load_n(&r->hdr->cons, __ATOMIC_ACQUIRE);
	used = r->prod - cons;
	if (used > r->capacity) {
		r->broken = true;
		return -EIO;
	}
	return (int64_t)used + r->reserved;
}

int vdf_ring_free(struct vdf_ring *r)
{
	int64_t inflight = ring_prod_inflight(r);

	if (inflight < 0)
		return (int)inflight;
	return (int)(r->capacity - (uint32_t)inflight);
}

int vdf_ring_reserve(struct vdf_ring *r, uint32_t n, uint32_t *first)
{
	int64_t inflight = ring_prod_inflight(r);
	uint32_t avail;

	if (inflight < 0)
		return (int)inflight;
	/*
	 * A consumer that moved its index back could make used + reserved
	 * exceed the capacity; treat that as corruption rather than hand out
	 * slots the consumer may still be reading.
	 */
	if (inflight > r->capacity) {
		r->broken = true;
		return -EIO;
	}
	avail = r->capacity - (uint32_t)inflight;
	n = VDF_MIN(n, avail);
	*first = r->prod + r->reserved;
	r->reserved += n;
	return (int)n;
}

bool vdf_ring_commit(struct vdf_ring *r, uint32_t n)
{
	assert(n <= r->reserved);
	if (n == 0)
		return false;
	r->reserved -= n;
	r->prod += n;
	/* The slot contents become visible no later than the new index. */
	__atomic_store_n(&r->hdr->prod, r->prod, __ATOMIC_RELEASE);
	/*
	 * Store(prod) -> full fence -> load(flag), mirrored by the consumer's
	 * store(flag) -> full fence -> load(prod): one of the two loads sees the
	 * other side's store, so the consumer never sleeps on a non-empty ring
	 * without a kick.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&r->hdr->need_wakeup, __ATOMIC_RELAXED) == 0)
		return false;
	/* Clear it so that later batches don't kick again before the consumer runs. */
	return __atomic_exchange_n(&r->hdr->need_wakeup, 0, __ATOMIC_RELAXED) != 0;
}

int vdf_ring_produce(struct vdf_ring *r, const void *src)
{
	uint32_t idx;
	int n = vdf_ring_reserve(r, 1, &idx);

	if (n < 0)
		return n;
	if (n == 0)
		return -EAGAIN;
	memcpy(vdf_ring_slot(r, idx), src, r->slot_size);
	return vdf_ring_commit(r, 1) ? VDF_RING_KICK : 0;
}

/* ---- consumer ---- */

/* Filled slots from the consumer's view (peeked ones included), or -EIO. */
static int64_t ring_cons_filled(struct vdf_ring *r)
{
	uint32_t prod, used;

	if (r->broken)
		return -EIO;
	/* Pairs with the producer's store-release: slot contents are visible. */
	prod = __atomic_load_n(&r->hdr->prod, __ATOMIC_ACQUIRE);
	used = prod - r->cons;
	/* A producer index behind our peeked slots is corruption too. */
	if (used > r->capacity || used < r->peeked) {
		r->broken = true;
		return -EIO;
	}
	return used;
}

int vdf_ring_used(struct vdf_ring *r)
{
	return (int)ring_cons_filled(r);
}

int vdf_ring_peek(struct vdf_ring *r, uint32_t n, uint32_t *first)
{
	int64_t filled = ring_cons_filled(r);

	if (filled < 0)
		return (int)filled;
	n = VDF_MIN(n, (uint32_t)filled - r->peeked);
	*first = r->cons + r->peeked;
	r->peeked += n;
	return (int)n;
}

void vdf_ring_release(struct vdf_ring *r, uint32_t n)
{
	assert(n <= r->peeked);
	if (n == 0)
		return;
	r->peeked -= n;
	r->cons += n;
	/* Our reads of the slots complete before the producer may reuse them. */
	__atomic_store_n(&r->hdr->cons, r->cons, __ATOMIC_RELEASE);
}

int vdf_ring_consume(struct vdf_ring *r, void *dst)
{
	uint32_t idx;
	int n = vdf_ring_peek(r, 1, &idx);

	if (n < 0)
		return n;
	if (n == 0)
		return -EAGAIN;
	memcpy(dst, vdf_ring_slot(r, idx), r->slot_size);
	vdf_ring_release(r, 1);
	return 0;
}

int vdf_ring_prepare_wait(struct vdf_ring *r)
{
	int64_t filled;

	if (r->broken)
		return -EIO;
	__atomic_store_n(&r->hdr->need_wakeup, 1, __ATOMIC_RELAXED);
	/* See vdf_ring_commit: store(flag) -> full fence -> load(prod). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	filled = ring_cons_filled(r);
	if (filled < 0)
		return (int)filled;
	if (filled > r->peeked) {
		vdf_ring_finish_wait(r);
		return (int)(filled - r->peeked);
	}
	return 0;
}

void vdf_ring_finish_wait(struct vdf_ring *r)
{
	__atomic_store_n(&r->hdr->need_wakeup, 0, __ATOMIC_RELAXED);
}
