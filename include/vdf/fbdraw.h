/* SPDX-License-Identifier: MIT */
/*
 * Software drawing into a framebuffer in memory: solid fills, rectangles,
 * text in a built-in 8x16 bitmap font and a test pattern. Display clients
 * draw with it into a page they got from a display driver, and the display
 * driver's self-test (vdf-bochs pattern) draws the test pattern that the VM
 * test then checks on a screenshot (tests/vm/lib/ppmcheck.py).
 *
 * Colours are given as 0xRRGGBB (8 bits per channel, bits 24..31 ignored)
 * and converted with vdf_pixel_pack() (vdf/display.h). Supported formats are
 * VDF_PIXEL_XRGB8888 and VDF_PIXEL_RGB565; every function refuses any other
 * format with -EINVAL. Pixels are stored as little-endian integers one byte
 * at a time, so neither the buffer nor the stride needs any alignment and
 * the host's byte order does not matter. XRGB8888 pixels are written with
 * the X byte zero.
 *
 * Coordinates are in pixels, (0, 0) at the top left. Everything is clipped to
 * the framebuffer: no input makes these functions touch a byte outside the
 * rectangle of `height` rows of `width * bytes-per-pixel` bytes, `stride`
 * bytes apart, that starts at `pixels` (the padding at the end of each row is
 * not touched either).
 *
 * Calling context: any thread; the functions keep no state. Concurrent calls
 * on overlapping pixels need the caller's own locking.
 */
#ifndef VDF_FBDRAW_H
#define VDF_FBDRAW_H

#include <stdint.h>

#include "vdf/common.h"
#include "vdf/display.h"

struct vdf_fb {
	void *pixels;	 /* pixel (0, 0); the caller owns the memory */
	uint32_t width;	 /* pixels per row */
	uint32_t height; /* rows */
	uint32_t stride; /* bytes from one row to the next, >= width * bytes per pixel */
	enum vdf_pixel_format format;
};

/*
 * Is fb usable? 0, or -EINVAL when fb or fb->pixels is NULL, width or height
 * is 0, the format is not XRGB8888 or RGB565, the stride is shorter than a
 * row of pixels, or the buffer would not fit in the address space.
 */
int vdf_fb_check(const struct vdf_fb *fb) VDF_MUST_CHECK;

/* Set every pixel to rgb (0xRRGGBB). 0 or -EINVAL (see vdf_fb_check). */
int vdf_fb_fill(const struct vdf_fb *fb, uint32_t rgb) VDF_MUST_CHECK;

/*
 * Fill the pixels x <= px < x + w, y <= py < y + h with rgb (0xRRGGBB). The
 * rectangle is clipped to the framebuffer: parts outside it, including
 * negative coordinates and sizes beyond INT_MAX from the origin, are not
 * drawn; a zero or negative width or height draws nothing. Returns 0 (also
 * when nothing was visible) or -EINVAL (see vdf_fb_check).
 */
int vdf_fb_fill_rect(const struct vdf_fb *fb, int x, int y, int w, int h,
		     uint32_t rgb) VDF_MUST_CHECK;

/*
 * Read the pixel at (x, y) back as 0xRRGGBB into *rgb. RGB565 channels are
 * widened to 8 bits by repeating their top bits (r5 -> r5 << 3 | r5 >> 2,
 * g6 -> g6 << 2 | g6 >> 4), so 0x00 and 0xFF come back exactly; the result
 * equals vdf_fb_rgb_quantize(format, what was drawn). Returns 0, -ERANGE if
 * (x, y) is outside the framebuffer, or -EINVAL (bad fb, rgb NULL).
 */
int vdf_fb_get_rgb(const struct vdf_fb *fb, uint32_t x, uint32_t y, uint32_t *rgb) VDF_MUST_CHECK;

/*
 * What drawing rgb (0xRRGGBB) and reading it back gives in format f: for
 * RGB565 the channels cut to 5/6/5 bits and widened again as in
 * vdf_fb_get_rgb; for any other format rgb & 0xFFFFFF unchanged. Checkers of
 * screenshots compare against this.
 */
uint32_t vdf_fb_rgb_quantize(enum vdf_pixel_format f, uint32_t rgb);

/*
 * The font: fixed cells of VDF_FONT_W x VDF_FONT_H pixels (8x16) for the
 * printable ASCII characters VDF_FONT_FIRST..VDF_FONT_LAST; every other byte
 * is drawn as a replacement glyph, a hollow box over rows 2..13 of the cell.
 * Capitals and digits occupy rows 3..11, descenders reach row 14, column 7
 * is always empty (the gap between characters).
 */
#define VDF_FONT_W     8
#define VDF_FONT_H     16
#define VDF_FONT_FIRST 0x20
#define VDF_FONT_LAST  0x7e

/* Text scales accepted by vdf_fb_text and vdf_fb_text_width. */
#define VDF_FB_SCALE_MAX 8
/* bg value of vdf_fb_text for "leave the background as it is". */
#define VDF_FB_TRANSPARENT (-1)

/*
 * The glyph of byte c: VDF_FONT_H bytes, one per row from the top, bit 7 the
 * leftmost column. Bytes outside VDF_FONT_FIRST..VDF_FONT_LAST get the
 * replacement glyph. Never NULL. Internal to the drawing code and its
 * tests (lib/class/font.c); clients draw with vdf_fb_text.
 */
const uint8_t *vdf_font_glyph(unsigned char c);

/*
 * Draw the NUL-terminated string s with its first cell's top left corner at
 * (x, y), each font pixel as a scale x scale square: a cell is
 * VDF_FONT_W * scale by VDF_FONT_H * scale pixels, and characters follow
 * each other without extra spacing. '\n' starts a new line at x,
 * VDF_FONT_H * scale pixels further down; every other byte takes one cell,
 * bytes outside 0x20..0x7e drawing the replacement glyph. Set font pixels
 * get fg (0xRRGGBB); the others get bg (0x00RRGGBB) or, when bg is
 * VDF_FB_TRANSPARENT, are left alone. '\n' draws nothing. Clipped like
 * vdf_fb_fill_rect; positions off the framebuffer are fine.
 *
 * Returns the width of the text in pixels, clipped or not (the same as
 * vdf_fb_text_width(s, scale)), or -EINVAL (bad fb, s NULL, scale outside
 * 1..VDF_FB_SCALE_MAX, bg neither VDF_FB_TRANSPARENT nor 0..0xFFFFFFFF) or
 * -EOVERFLOW (a line wider than INT_MAX pixels); on an error nothing is
 * drawn. Not VDF_MUST_CHECK: callers that only draw labels may ignore the
 * width.
 */
int vdf_fb_text(const struct vdf_fb *fb, int x, int y, unsigned scale, uint32_t fg, int64_t bg,
		const char *s);

/*
 * Width in pixels of the longest line of s ('\n' separates lines) at scale:
 * characters per line * VDF_FONT_W * scale. 0 for "". -EINVAL for s NULL or
 * scale outside 1..VDF_FB_SCALE_MAX, -EOVERFLOW above INT_MAX.
 */
int vdf_fb_text_width(const char *s, unsigned scale);

/*
 * The test pattern, for a framebuffer of W x H pixels (all divisions are
 * integer divisions rounding down, computed without overflow):
 *
 *   1. Colour bars: for y in [0, 2*H/3), bar i (0..7) covers x in
 *      [i*W/8, (i+1)*W/8), in the colours of vdf_fb_pattern_bars[]:
 *      white FFFFFF, yellow FFFF00, cyan 00FFFF, green 00FF00,
 *      magenta FF00FF, red FF0000, blue 0000FF, black 000000.
 *   2. Grey ramp: for y in [2*H/3, H), step k (0..15) covers x in
 *      [k*W/16, (k+1)*W/16), grey k*17 (0x11) in each channel: 000000,
 *      111111, ..., FFFFFF.
 *   3. Frame, drawn last over both: the pixels with x == 0, x == W-1,
 *      y == 0 or y == H-1 are white FFFFFF.
 *
 * Every pixel is covered. Sample points a checker may use (those of
 * tests/vm/lib/ppmcheck.py), each inside its area and off the frame when
 * W >= 64 and H >= 4: bar i at ((i*W/8 + (i+1)*W/8) / 2, H/3); grey step k
 * at ((k*W/16 + (k+1)*W/16) / 2, (2*H/3 + H-1) / 2); the frame at the four
 * corners, (W/2, 0) and (0, H/2).
 *
 * In XRGB8888 every pixel holds exactly the colour above. In RGB565 compare
 * with vdf_fb_rgb_quantize(VDF_PIXEL_RGB565, colour): the bar and frame
 * colours (channels 00 or FF) survive exactly; the greys come back
 * quantised (e.g. 111111 as 101010, 888888 as 8C8A8C), off by at most 4
 * per channel.
 */
#define VDF_FB_PATTERN_BARS  8
#define VDF_FB_PATTERN_STEPS 16

extern const uint32_t vdf_fb_pattern_bars[VDF_FB_PATTERN_BARS];

/* The boundaries of the pattern's areas for a W x H framebuffer. */
struct vdf_fb_pattern_geom {
	uint32_t bar_x[VDF_FB_PATTERN_BARS + 1];   /* bar i: bar_x[i] <= x < bar_x[i + 1] */
	uint32_t step_x[VDF_FB_PATTERN_STEPS + 1]; /* grey step k: step_x[k] <= x < step_x[k + 1] */
	uint32_t ramp_y;			   /* bars: y < ramp_y; grey ramp: y >= ramp_y */
};

/* Fill *g for a width x height framebuffer (any sizes, including 0). */
void vdf_fb_pattern_geometry(uint32_t width, uint32_t height, struct vdf_fb_pattern_geom *g);

/*
 * The colour (0xRRGGBB, before any quantisation) the test pattern gives the
 * pixel (x, y) of a width x height framebuffer; 0 outside it.
 */
uint32_t vdf_fb_pattern_rgb(uint32_t width, uint32_t height, uint32_t x, uint32_t y);

/* Draw the test pattern over the whole framebuffer. 0 or -EINVAL. */
int vdf_fb_test_pattern(const struct vdf_fb *fb) VDF_MUST_CHECK;

#endif
