// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the net session decoders and descriptor checks
 * (lib/ipc/netsession.c). A driver decodes the HELLO of a possibly hostile
 * client, a client the WELCOME of a possibly hostile driver, and each side
 * checks ring descriptors the other wrote. Decoding must never read outside
 * the buffer; whatever it accepts must be valid and canonical (encoding it
 * again gives the input bytes); an accepted HELLO's rings and frame area lie
 * inside the region without overlapping; an accepted descriptor names a frame
 * of the right direction inside the frame area with a sane length.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vdf/netsession.h"
#include "vdf/ring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int inside(uint64_t off, uint64_t len, uint64_t size)
{
	return len <= size && off <= size - len;
}

static void check_descriptors(const struct vdf_nets_hello *h, const uint8_t *in, size_t size)
{
	/* Every 8-byte window of the input as each kind of descriptor. */
	for (size_t i = 0; i + 8 <= size && i < 64; i += 8) {
		struct vdf_nets_slot_wire s;
		struct vdf_nets_frame_wire f;
		uint32_t slot, len, flags;

		memcpy(&s, in + i, sizeof(s));
		memcpy(&f, in + i, sizeof(f));
		if (!vdf_nets_check_fill(h, &s, &slot) && slot >= h->rx_frames)
			abort();
		if (!vdf_nets_check_comp(h, &s, &slot) &&
		    (slot < h->rx_frames || slot >= h->rx_frames + h->tx_frames))
			abort();
		if (!vdf_nets_check_tx(h, &f, 1514, &slot, &len) &&
		    (slot < h->rx_frames || slot >= h->rx_frames + h->tx_frames || len < 14 ||
		     len > 1514))
			abort();
		if (!vdf_nets_check_rx(h, &f, &slot, &len, &flags) &&
		    (slot >= h->rx_frames || len < 14 || len > VDF_NETS_FRAME_SIZE ||
		     (flags & ~(uint32_t)VDF_NETS_RX_FLAGS_KNOWN)))
			abort();
		if (!vdf_nets_check_rx(h, &f, &slot, &len, &flags) &&
		    !inside(vdf_nets_frame_off(h, slot), len, h->region_size))
			abort();
	}
}

static void roundtrip_hello(const uint8_t *in, size_t size)
{
	uint8_t out[VDF_NETS_MSG_MAX];
	struct vdf_nets_hello h;
	uint64_t len[VDF_NETS_NRINGS], flen;
	int n;

	if (vdf_nets_decode_hello(in, size, &h))
		return;
	if (vdf_nets_hello_validate(&h))
		abort();
	flen = (uint64_t)(h.rx_frames + h.tx_frames) * VDF_NETS_FRAME_SIZE;
	if (!inside(h.frames_off, flen, h.region_size) || h.frames_off % VDF_NETS_PAGE)
		abort();
	for (unsigned i = 0; i < VDF_NETS_NRINGS; i++) {
		len[i] = vdf_ring_layout_size(h.ring_cap[i], vdf_nets_ring_slot_size(i));
		if (!len[i] || !inside(h.ring_off[i], len[i], h.region_size))
			abort();
		if (!(h.ring_off[i] + len[i] <= h.frames_off ||
		      h.frames_off + flen <= h.ring_off[i]))
			abort();
		for (unsigned j = 0; j < i; j++)
			if (!(h.ring_off[i] + len[i] <= h.ring_off[j] ||
			      h.ring_off[j] + len[j] <= h.ring_off[i]))
				abort();
	}
	n = vdf_nets_encode_hello(&h, out, sizeof(out));
	if (n < 0 || (size_t)n != size || memcmp(out, in, size))
		abort();
	check_descriptors(&h, in, size);
}

static void roundtrip_welcome(const uint8_t *in, size_t size)
{
	uint8_t out[VDF_NETS_MSG_MAX];
	struct vdf_nets_welcome w;
	int n;

	if (vdf_nets_decode_welcome(in, size, &w))
		return;
	if (vdf_nets_welcome_validate(&w) || w.status > 0 || w.status < -4095)
		abort();
	if (!w.status && (w.max_frame > VDF_NETS_FRAME_SIZE || w.mtu + 14 > w.max_frame))
		abort();
	n = vdf_nets_encode_welcome(&w, out, sizeof(out));
	if (n < 0 || (size_t)n != size || memcmp(out, in, size))
		abort();
}

static size_t valid_hello(uint8_t *out, size_t cap, unsigned variant)
{
	struct vdf_nets_hello h;
	int len;

	if (vdf_nets_layout(1u << (variant % 12), 2u << (variant % 11), 2u << (variant % 7), &h))
		abort();
	if (variant & 1) {
		h.flags = VDF_NETS_HELLO_F_SET_MAC | VDF_NETS_HELLO_F_PROMISC;
		memcpy(h.mac, "\x02\x11\x22\x33\x44\x55", 6);
	}
	len = vdf_nets_encode_hello(&h, out, cap);
	if (len < 0)
		abort();
	return (size_t)len;
}

static size_t valid_welcome(uint8_t *out, size_t cap, unsigned variant)
{
	struct vdf_nets_welcome w = {0};
	int len;

	if (variant & 1) {
		w.status = -16;
	} else {
		w.generation = 3;
		memcpy(w.mac, "\x52\x54\x00\x12\x34\x56", 6);
		w.mtu = 1500;
		w.max_frame = 1514;
		w.speed_mbps = variant & 2 ? 1000 : 0;
		w.flags = variant & 2 ? VDF_NETS_F_LINK_UP | VDF_NETS_F_FULL_DUPLEX : 0;
	}
	len = vdf_nets_encode_welcome(&w, out, cap);
	if (len < 0)
		abort();
	return (size_t)len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf;
	size_t len = size;

	/* First byte odd: the rest is XORed over a valid message (bit 1: a
	 * welcome, else a hello; upper bits pick a variant). */
	if (size && (data[0] & 1)) {
		uint8_t base[VDF_NETS_MSG_MAX];
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
