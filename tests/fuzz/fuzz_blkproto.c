// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: what a block driver reads from a client (lib/ipc/ring.c,
 * lib/ipc/blkproto.c). Everything in the shared region is untrusted.
 *
 * Mode 0: the input is a request descriptor followed by device limits.
 *   Validation must never accept a request whose range passes the device or
 *   whose buffer leaves the data area, and what it accepts is canonical:
 *   encoding the decoded request gives back exactly the input bytes.
 * Mode 1: the input is a ring region (header + slots) followed by limits,
 *   or (mode 2) a compact description of a header with one field corrupted.
 *   Attach must refuse a header that doesn't fit; once attached, consuming
 *   every slot (ASan checks each access against the exact-size buffer) and
 *   validating the ones large enough to hold a request never crashes, and
 *   indices rewritten mid-way are caught as -EIO.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vdf/blkproto.h"
#include "vdf/ring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LIMITS_BYTES 24

static void take(void *dst, size_t n, const uint8_t **p, size_t *left)
{
	size_t k = n < *left ? n : *left;

	memset(dst, 0, n);
	memcpy(dst, *p, k);
	*p += k;
	*left -= k;
}

/* Limits from 24 input bytes; block_size always a power of two in [512, 64K]. */
static void limits_from(const uint8_t *p, struct vdf_blkproto_limits *lim)
{
	uint32_t shift, flags;

	memset(lim, 0, sizeof(*lim));
	memcpy(&lim->num_blocks, p, 8);
	memcpy(&lim->data_size, p + 8, 8);
	memcpy(&lim->max_transfer, p + 16, 4);
	shift = 9 + p[20] % 8;
	flags = p[21];
	lim->block_size = 1u << shift;
	lim->read_only = flags & 1;
	lim->block_align = flags & 2;
	lim->supports_discard = flags & 4;
	lim->supports_write_zeroes = flags & 8;
	/* Mostly small, realistic areas so that accepted requests are common. */
	if (flags & 16)
		lim->data_size %= 1u << 20;
	if (flags & 32)
		lim->num_blocks %= 4096;
}

static void check_req(const struct vdf_blk_req_wire *w, const struct vdf_blkproto_limits *lim)
{
	struct vdf_blk_req r;
	struct vdf_blk_req_wire back;
	bool rw;

	if (vdf_blkproto_validate_req(w, lim, &r))
		return;
	rw = r.op == VDF_BLOCK_READ || r.op == VDF_BLOCK_WRITE;
	if (r.op == VDF_BLOCK_FLUSH) {
		if (r.lba || r.nblocks || r.buf_offset || r.buf_len || r.fua)
			abort();
	} else {
		if (r.nblocks == 0 || r.lba > lim->num_blocks ||
		    r.nblocks > lim->num_blocks - r.lba)
			abort();
	}
	if (rw) {
		if ((uint64_t)r.nblocks * lim->block_size != r.buf_len)
			abort();
		if (r.buf_offset > lim->data_size || r.buf_len > lim->data_size - r.buf_offset)
			abort();
		if (r.buf_offset % (lim->block_align ? lim->block_size : 4))
			abort();
		if (lim->max_transfer && r.buf_len > lim->max_transfer)
			abort();
	} else if (r.buf_offset || r.buf_len) {
		abort();
	}
	if (r.op != VDF_BLOCK_READ && r.op != VDF_BLOCK_FLUSH && lim->read_only)
		abort();
	if ((r.op == VDF_BLOCK_DISCARD && !lim->supports_discard) ||
	    (r.op == VDF_BLOCK_WRITE_ZEROES && !lim->supports_write_zeroes))
		abort();
	vdf_blkproto_encode_req(&r, &back);
	if (memcmp(&back, w, sizeof(back)))
		abort();
}

static void fuzz_request(const uint8_t *p, size_t left)
{
	struct vdf_blk_req_wire w;
	struct vdf_blk_cpl_wire cw;
	struct vdf_blk_cpl c;
	uint8_t lb[LIMITS_BYTES];
	struct vdf_blkproto_limits lim;

	take(&w, sizeof(w), &p, &left);
	take(lb, sizeof(lb), &p, &left);
	limits_from(lb, &lim);
	check_req(&w, &lim);
	/* The same bytes as a completion. */
	memcpy(&cw, &w, sizeof(cw));
	if (vdf_blkproto_decode_cpl(&cw, &c) == 0 && (c.status > 0 || c.status < -4095))
		abort();
}

/* Attach to len bytes at mem (exact-size heap block) and drain the ring. */
static void exercise_ring(uint8_t *mem, size_t len, const struct vdf_blkproto_limits *lim,
			  uint32_t bump)
{
	struct vdf_ring r;
	uint8_t *slot;
	uint32_t i, first;
	int n;

	if (vdf_ring_attach(mem, len, &r))
		return;
	if (vdf_ring_layout_size(r.capacity, r.slot_size) > len)
		abort();
	slot = malloc(r.slot_size);
	if (!slot)
		return;
	for (i = 0; i <= r.capacity; i++) {
		n = vdf_ring_consume(&r, slot);
		if (n)
			break;
		if (r.slot_size >= sizeof(struct vdf_blk_req_wire))
			check_req((const struct vdf_blk_req_wire *)slot, lim);
	}
	/* The peer rewrites its index: either a sane distance or -EIO. */
	((struct vdf_ring_hdr *)mem)->prod += bump;
	n = vdf_ring_peek(&r, UINT32_MAX, &first);
	if (n > (int)r.capacity)
		abort();
	if (n > 0) {
		for (i = 0; i < (uint32_t)n; i++)
			memcpy(slot, vdf_ring_slot(&r, first + i), r.slot_size);
		vdf_ring_release(&r, (uint32_t)n);
	}
	(void)!vdf_ring_prepare_wait(&r);
	vdf_ring_finish_wait(&r);
	/* The producer side of the same region. */
	if (vdf_ring_attach(mem, len, &r) == 0) {
		memset(slot, 0, r.slot_size);
		while (vdf_ring_produce(&r, slot) >= 0)
			;
	}
	free(slot);
}

/* Raw bytes as the whole region. */
static void fuzz_ring_raw(const uint8_t *p, size_t left)
{
	struct vdf_blkproto_limits lim;
	uint8_t *mem;
	uint32_t bump;
	size_t len;

	if (left < LIMITS_BYTES + 4)
		return;
	limits_from(p + left - LIMITS_BYTES, &lim);
	memcpy(&bump, p + left - LIMITS_BYTES - 4, 4);
	len = left - LIMITS_BYTES - 4;
	/* Exact size so ASan flags any access past what "was mapped". */
	if (posix_memalign((void **)&mem, 64, len ? len : 1))
		return;
	memcpy(mem, p, len);
	exercise_ring(mem, len, &lim, bump);
	free(mem);
}

/*
 * A well-formed header from a few bytes, with at most one field corrupted,
 * and the rest of the input as slot contents: reaches the consume path that
 * raw bytes rarely do.
 */
static void fuzz_ring_shaped(const uint8_t *p, size_t left)
{
	struct {
		uint8_t cap_shift, slot_units, corrupt, len_delta;
		uint32_t prod, cons, value, bump;
	} in;
	uint8_t lb[LIMITS_BYTES];
	struct vdf_blkproto_limits lim;
	struct vdf_ring_hdr *h;
	uint32_t cap, slot_size;
	size_t len, body;
	uint8_t *mem;

	take(&in, sizeof(in), &p, &left);
	take(lb, sizeof(lb), &p, &left);
	limits_from(lb, &lim);
	cap = 1u << (in.cap_shift % 6);
	slot_size = 8u * (1 + in.slot_units % 8);
	len = vdf_ring_layout_size(cap, slot_size);
	if (in.len_delta & 0x80)
		/* too short for its header's claims (the header itself stays) */
		len = VDF_MAX(len - (in.len_delta & 0x7f), (size_t)VDF_RING_HDR_SIZE);
	if (posix_memalign((void **)&mem, 64, len))
		return;
	h = (struct vdf_ring_hdr *)mem;
	memset(mem, 0, VDF_RING_HDR_SIZE);
	h->magic = VDF_RING_MAGIC;
	h->version = VDF_RING_VERSION;
	h->capacity = cap;
	h->slot_size = slot_size;
	h->slots_off = VDF_RING_HDR_SIZE;
	h->prod = in.prod;
	h->cons = in.cons;
	if (in.corrupt & 1)
		h->prod = in.cons + in.value % (cap + 2); /* often a sane distance */
	switch (in.corrupt >> 1) {
	case 1:
		h->magic = in.value;
		break;
	case 2:
		h->version = (uint16_t)in.value;
		break;
	case 3:
		h->capacity = in.value;
		break;
	case 4:
		h->slot_size = in.value;
		break;
	case 5:
		h->slots_off = in.value;
		break;
	case 6:
		h->reserved1[in.value % sizeof(h->reserved1)] = (uint8_t)(in.value >> 8);
		break;
	}
	body = len - VDF_RING_HDR_SIZE;
	memset(mem + VDF_RING_HDR_SIZE, 0, body);
	memcpy(mem + VDF_RING_HDR_SIZE, p, body < left ? body : left);
	exercise_ring(mem, len, &lim, in.bump);
	free(mem);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 2)
		fuzz_ring_shaped(data + 1, size - 1);
	else if (data[0] & 1)
		fuzz_ring_raw(data + 1, size - 1);
	else
		fuzz_request(data + 1, size - 1);
	return 0;
}
