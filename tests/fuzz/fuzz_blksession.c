// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the block session decoders (lib/ipc/blksession.c). A
 * driver decodes the HELLO of a possibly hostile client and a client decodes
 * the WELCOME of a possibly hostile driver, so every byte is untrusted.
 * Decoding must never read outside the buffer, and whatever it accepts must
 * be valid and canonical: encoding the decoded value gives back exactly the
 * input bytes. A decoded HELLO's rings and data area must lie inside the
 * region and not overlap (the driver maps them without further checks).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vdf/blkproto.h"
#include "vdf/blksession.h"
#include "vdf/ring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* [off, off + len) inside [0, size), computed without overflow. */
static int inside(uint64_t off, uint64_t len, uint64_t size)
{
	return len <= size && off <= size - len;
}

static int disjoint(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a + alen <= b || b + blen <= a; /* no overflow: both inside first */
}

static void roundtrip_hello(const uint8_t *in, size_t size)
{
	uint8_t out[VDF_BLKS_MSG_MAX];
	struct vdf_blks_hello h;
	uint64_t sq_len, cq_len;
	int len;

	if (vdf_blks_decode_hello(in, size, &h))
		return;
	if (vdf_blks_hello_validate(&h))
		abort();
	if (h.flags & ~VDF_BLKS_HELLO_F_KNOWN)
		abort();
	if (!h.region_size || h.region_size > VDF_BLKS_REGION_MAX || h.region_size % VDF_BLKS_PAGE)
		abort();
	sq_len = vdf_ring_layout_size(h.sq_capacity, sizeof(struct vdf_blk_req_wire));
	cq_len = vdf_ring_layout_size(h.cq_capacity, sizeof(struct vdf_blk_cpl_wire));
	if (!sq_len || !cq_len || !h.data_size)
		abort();
	if (h.sq_off % VDF_RING_CACHE_LINE || h.cq_off % VDF_RING_CACHE_LINE ||
	    h.data_off % VDF_BLKS_PAGE || h.data_size % VDF_BLKS_PAGE)
		abort();
	if (!inside(h.sq_off, sq_len, h.region_size) || !inside(h.cq_off, cq_len, h.region_size) ||
	    !inside(h.data_off, h.data_size, h.region_size))
		abort();
	if (!disjoint(h.sq_off, sq_len, h.cq_off, cq_len) ||
	    !disjoint(h.sq_off, sq_len, h.data_off, h.data_size) ||
	    !disjoint(h.cq_off, cq_len, h.data_off, h.data_size))
		abort();
	len = vdf_blks_encode_hello(&h, out, sizeof(out));
	if (len < 0 || (size_t)len != size || memcmp(out, in, size))
		abort();
}

static void roundtrip_welcome(const uint8_t *in, size_t size)
{
	uint8_t out[VDF_BLKS_MSG_MAX];
	struct vdf_blks_welcome w, again;
	struct vdf_block_info info;
	int len;

	if (vdf_blks_decode_welcome(in, size, &w))
		return;
	if (vdf_blks_welcome_validate(&w))
		abort();
	if (w.status > 0 || w.status < -4095)
		abort();
	/* Decoded strings are terminated inside their fields. */
	if (!memchr(w.model, 0, sizeof(w.model)) || !memchr(w.serial, 0, sizeof(w.serial)))
		abort();
	len = vdf_blks_encode_welcome(&w, out, sizeof(out));
	if (len < 0 || (size_t)len != size || memcmp(out, in, size))
		abort();
	if (w.status)
		return;
	/* An accepted welcome survives the trip through a block info. */
	vdf_blks_welcome_to_info(&w, &info);
	vdf_blks_welcome_from_info(&info, w.generation, &again);
	if (memcmp(&w, &again, sizeof(w)))
		abort();
}

/* Valid messages, so mutations start deep inside the format. */
static size_t valid_hello(uint8_t *out, size_t cap, unsigned variant)
{
	struct vdf_blks_hello h;
	int len;

	if (vdf_blks_layout(1u << (variant % 13), (uint64_t)(1 + variant % 5) * VDF_BLKS_PAGE, &h))
		abort();
	h.flags = variant & 1 ? VDF_BLKS_HELLO_F_POLLED : 0;
	len = vdf_blks_encode_hello(&h, out, cap);
	if (len < 0)
		abort();
	return (size_t)len;
}

static size_t valid_welcome(uint8_t *out, size_t cap, unsigned variant)
{
	struct vdf_blks_welcome w;
	int len;

	memset(&w, 0, sizeof(w));
	if (variant & 1) {
		w.status = -16; /* EBUSY */
	} else {
		w.generation = 3;
		w.num_blocks = 1u << 20;
		w.block_size = 512u << (variant % 8);
		w.max_transfer = w.block_size * 64;
		w.max_in_flight = 32;
		w.flags = VDF_BLKS_F_VOLATILE_CACHE | VDF_BLKS_F_DISCARD;
		memcpy(w.model, "VDF fuzz disk", 13);
		memcpy(w.serial, "0123456789", 10);
	}
	len = vdf_blks_encode_welcome(&w, out, cap);
	if (len < 0)
		abort();
	return (size_t)len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf;
	size_t len = size;

	/* First byte odd: the rest is XORed over a valid message (bit 1: a
	 * welcome, else a hello; the upper bits pick a variant). The result has
	 * the length of the rest, so truncations and extensions are covered. */
	if (size && (data[0] & 1)) {
		uint8_t base[VDF_BLKS_MSG_MAX];
		unsigned variant = data[0] >> 2;
		size_t blen = data[0] & 2 ? valid_welcome(base, sizeof(base), variant)
					  : valid_hello(base, sizeof(base), variant);

		len = size - 1;
		buf = malloc(len ? len : 1);
		if (!buf)
			return 0;
		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)(data[1 + i] ^ (i < blen ? base[i] : 0));
	} else {
		/* An exact-size heap copy, so ASan sees any read past the end. */
		buf = malloc(size ? size : 1);
		if (!buf)
			return 0;
		memcpy(buf, data, size);
	}
	roundtrip_hello(buf, len);
	roundtrip_welcome(buf, len);
	free(buf);
	return 0;
}
