/* SPDX-License-Identifier: MIT */
/*
 * Display class: the seeds' GraphicsDevice / DisplayDriver. A display driver
 * (drivers/bochs/) offers modes, sets one, exposes its framebuffer pages and
 * flips between them (present), and paces clients at the mode's refresh rate
 * (wait_vblank).
 *
 * Pixel formats name the bits of one pixel as a little-endian integer, as
 * DRM's fourcc codes do: XRGB8888 is a 32-bit word with blue in bits 0..7,
 * green 8..15, red 16..23 and bits 24..31 unused (bytes B, G, R, X in
 * memory); RGB565 a 16-bit word with blue in 0..4, green 5..10, red 11..15.
 */
#ifndef VDF_DISPLAY_H
#define VDF_DISPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vdf/common.h"

enum vdf_pixel_format {
	VDF_PIXEL_NONE = 0,
	VDF_PIXEL_XRGB8888 = 1,
	VDF_PIXEL_RGB565 = 2,
	VDF_PIXEL_RGB888 = 3,	/* 24-bit packed: B, G, R bytes */
	VDF_PIXEL_XRGB1555 = 4, /* 15-bit: blue 0..4, green 5..9, red 10..14 */
	VDF_PIXEL_C8 = 5,	/* 8-bit palette index */
};

struct vdf_display_mode {
	uint32_t width, height; /* pixels */
	enum vdf_pixel_format format;
	uint32_t refresh_hz; /* 0: the driver's default */
};

/* Bytes per pixel of a format; 0 for VDF_PIXEL_NONE or an unknown value. */
unsigned vdf_pixel_bytes(enum vdf_pixel_format f);
/* Bits per pixel as a VBE/DISPI BPP value (32, 16, 24, 15, 8); 0 if unknown. */
unsigned vdf_pixel_bpp(enum vdf_pixel_format f);
/* The format for a BPP value (32, 24, 16, 15, 8), or VDF_PIXEL_NONE. */
enum vdf_pixel_format vdf_pixel_from_bpp(unsigned bpp);
/* "XRGB8888", "RGB565", ...; "?" for an unknown value. */
const char *vdf_pixel_name(enum vdf_pixel_format f);
/* Parse a name (case-insensitive) or a BPP number ("32", "16"). Returns
 * VDF_PIXEL_NONE when the text names no format. */
enum vdf_pixel_format vdf_pixel_parse(const char *s);

/*
 * Parse "WIDTHxHEIGHT[xFORMAT][@HZ]": FORMAT a name or BPP as for
 * vdf_pixel_parse (default XRGB8888), HZ 1..1000 (default 0: the driver's).
 * Returns 0 or -EINVAL. The size itself is not checked against any device.
 */
int vdf_display_mode_parse(const char *s, struct vdf_display_mode *m) VDF_MUST_CHECK;
/* "1024x768 XRGB8888 @60Hz" into buf (always NUL-terminated). */
void vdf_display_mode_format(const struct vdf_display_mode *m, char *buf, size_t len);

/* Pack an 8-bit-per-channel colour into a pixel of format f (the low
 * vdf_pixel_bytes(f) bytes of the result, little-endian). */
uint32_t vdf_pixel_pack(enum vdf_pixel_format f, uint8_t r, uint8_t g, uint8_t b);

#endif
