// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the display session decoders (lib/ipc/dispsession.c). A
 * driver decodes the HELLO and REQUESTs of a possibly hostile client, a
 * client the WELCOME and REPLYs of a possibly hostile driver. The first input
 * byte picks the decoder (low two bits: 0 hello, 1 welcome, 2 request,
 * 3 reply), the rest is the message. Decoding must never read outside the
 * buffer; whatever it accepts must validate and be canonical: encoding it
 * again gives the input bytes, and decoding those gives the same value.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vdf/dispsession.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool mode_eq(const struct vdf_display_mode *a, const struct vdf_display_mode *b)
{
	return a->width == b->width && a->height == b->height && a->format == b->format &&
	       a->refresh_hz == b->refresh_hz;
}

/* A decoded mode: valid, and its picture no larger than the largest mode's. */
static void check_mode(const struct vdf_display_mode *m)
{
	if (vdf_disps_mode_validate(m) || vdf_disps_frame_bytes(m) > 65535ull * 65535 * 4)
		abort();
	if (m->width && (!m->height || !vdf_pixel_bytes(m->format) || m->refresh_hz > 1000))
		abort();
}

/* The re-encoding of what was decoded must be the input itself. */
static void check_canonical(int n, const uint8_t *out, const uint8_t *in, size_t size)
{
	if (n < 0 || (size_t)n != size || size > VDF_DISPS_MSG_MAX || memcmp(out, in, size))
		abort();
}

static void roundtrip_hello(const uint8_t *in, size_t size)
{
	uint8_t out[VDF_DISPS_MSG_MAX];
	struct vdf_disps_hello h, again;

	if (vdf_disps_decode_hello(in, size, &h))
		return;
	if (vdf_disps_hello_validate(&h) || h.flags || !h.buffer_size ||
	    h.buffer_size > VDF_DISPS_BUFFER_MAX || h.buffer_size % VDF_DISPS_PAGE)
		abort();
	check_canonical(vdf_disps_encode_hello(&h, out, sizeof(out)), out, in, size);
	if (vdf_disps_decode_hello(out, size, &again) || again.flags != h.flags ||
	    again.buffer_size != h.buffer_size)
		abort();
}

static void roundtrip_welcome(const uint8_t *in, size_t size)
{
	uint8_t out[VDF_DISPS_MSG_MAX];
	struct vdf_disps_welcome w, again;

	if (vdf_disps_decode_welcome(in, size, &w))
		return;
	if (vdf_disps_welcome_validate(&w) || w.status > 0 || w.status < -4095 ||
	    w.nmodes > VDF_DISPS_MODES_MAX || !memchr(w.name, 0, sizeof(w.name)))
		abort();
	check_mode(&w.mode);
	for (unsigned i = 0; i < VDF_DISPS_MODES_MAX; i++) {
		check_mode(&w.modes[i]);
		if ((i < w.nmodes) != (w.modes[i].width != 0))
			abort();
	}
	check_canonical(vdf_disps_encode_welcome(&w, out, sizeof(out)), out, in, size);
	if (vdf_disps_decode_welcome(out, size, &again) || again.status != w.status ||
	    again.generation != w.generation || memcmp(again.name, w.name, sizeof(w.name)) ||
	    again.width_mm != w.width_mm || again.height_mm != w.height_mm ||
	    !mode_eq(&again.mode, &w.mode) || again.nmodes != w.nmodes)
		abort();
	for (unsigned i = 0; i < VDF_DISPS_MODES_MAX; i++)
		if (!mode_eq(&again.modes[i], &w.modes[i]))
			abort();
}

static void roundtrip_request(const uint8_t *in, size_t size)
{
	uint8_t out[VDF_DISPS_MSG_MAX];
	struct vdf_disps_request r, again;

	if (vdf_disps_decode_request(in, size, &r))
		return;
	if (vdf_disps_request_validate(&r))
		abort();
	check_mode(&r.mode);
	if ((r.op == VDF_DISPS_SET_MODE) != (r.mode.width != 0))
		abort();
	check_canonical(vdf_disps_encode_request(&r, out, sizeof(out)), out, in, size);
	if (vdf_disps_decode_request(out, size, &again) || again.tag != r.tag || again.op != r.op ||
	    !mode_eq(&again.mode, &r.mode))
		abort();
}

static void roundtrip_reply(const uint8_t *in, size_t size)
{
	uint8_t out[VDF_DISPS_MSG_MAX];
	struct vdf_disps_reply r, again;

	if (vdf_disps_decode_reply(in, size, &r))
		return;
	if (vdf_disps_reply_validate(&r) || r.status > 0 || r.status < -4095)
		abort();
	check_mode(&r.mode);
	if (r.mode.width ? r.stride < r.mode.width * vdf_pixel_bytes(r.mode.format) : r.stride)
		abort();
	check_canonical(vdf_disps_encode_reply(&r, out, sizeof(out)), out, in, size);
	if (vdf_disps_decode_reply(out, size, &again) || again.tag != r.tag || again.op != r.op ||
	    again.status != r.status || again.seq != r.seq || !mode_eq(&again.mode, &r.mode) ||
	    again.stride != r.stride)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf;
	size_t len;

	if (!size)
		return 0;
	/* An exact-size copy, so that any read past the message is caught. */
	len = size - 1;
	buf = malloc(len ? len : 1);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, len);
	switch (data[0] & 3) {
	case 0:
		roundtrip_hello(buf, len);
		break;
	case 1:
		roundtrip_welcome(buf, len);
		break;
	case 2:
		roundtrip_request(buf, len);
		break;
	default:
		roundtrip_reply(buf, len);
		break;
	}
	free(buf);
	return 0;
}
