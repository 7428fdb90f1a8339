// SPDX-License-Identifier: MIT
/*
 * Software drawing into framebuffers (vdf/fbdraw.h): fills, rectangles, text
 * in the font of font.c and the test pattern.
 *
 * Every drawing operation ends in fill_span() on a rectangle already clipped
 * to the framebuffer, so the bounds are checked in one place. Clipping is
 * done in 64-bit signed arithmetic, in which no int coordinate plus an int
 * size (or a text pen position) can overflow; byte offsets are 64-bit too and
 * vdf_fb_check() has made sure the largest one fits in a size_t.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "vdf/fbdraw.h"

const uint32_t vdf_fb_pattern_bars[VDF_FB_PATTERN_BARS] = {
    0xFFFFFF, /* white */
    0xFFFF00, /* yellow */
    0x00FFFF, /* cyan */
    0x00FF00, /* green */
    0xFF00FF, /* magenta */
    0xFF0000, /* red */
    0x0000FF, /* blue */
    0x000000, /* black */
};

#define RGB_WHITE 0xFFFFFFu

static bool format_supported(enum vdf_pixel_format f)
{
	return f == VDF_PIXEL_XRGB8888 || f == VDF_PIXEL_RGB565;
}

int vdf_fb_check(const struct vdf_fb *fb)
{
	uint64_t row, last;

	if (!fb || !fb->pixels || !fb->width || !fb->height || !format_supported(fb->format))
		return -EINVAL;
	row = (uint64_t)fb->width * vdf_pixel_bytes(fb->format);
	if (fb->stride < row)
		return -EINVAL;
	/* One past the last byte drawn must be addressable as an offset. */
	if (__builtin_mul_overflow((uint64_t)fb->stride, (uint64_t)(fb->height - 1), &last) ||
	    __builtin_add_overflow(last, row, &last) || last > SIZE_MAX || last > PTRDIFF_MAX)
		return -EINVAL;
	return 0;
}

/* A colour 0xRRGGBB as a pixel of format f (bits 24..31 of rgb ignored). */
static uint32_t rgb_pack(enum vdf_pixel_format f, uint32_t rgb)
{
	return vdf_pixel_pack(f, (uint8_t)(rgb >> 16), (uint8_t)(rgb >> 8), (uint8_t)rgb);
}

/* An RGB565 pixel widened back to 0xRRGGBB by repeating the top bits. */
static uint32_t rgb565_expand(uint32_t v)
{
	uint32_t r = (v >> 11) & 0x1f, g = (v >> 5) & 0x3f, b = v & 0x1f;

	r = r << 3 | r >> 2;
	g = g << 2 | g >> 4;
	b = b << 3 | b >> 2;
	return r << 16 | g << 8 | b;
}

uint32_t vdf_fb_rgb_quantize(enum vdf_pixel_format f, uint32_t rgb)
{
	if (f == VDF_PIXEL_RGB565)
		return rgb565_expand(rgb_pack(f, rgb));
	return rgb & 0xFFFFFF;
}

static uint8_t *pixel_at(const struct vdf_fb *fb, uint32_t x, uint32_t y)
{
	uint64_t off = (uint64_t)y * fb->stride + (uint64_t)x * vdf_pixel_bytes(fb->format);

	return (uint8_t *)fb->pixels + (size_t)off;
}

/*
 * Set the pixels x0 <= x < x1, y0 <= y < y1 to the packed value px. The
 * caller has clipped: x1 <= width, y1 <= height. Stores are byte by byte
 * (little-endian whatever the host), which needs no alignment; compilers
 * merge them into one store per pixel.
 */
static void fill_span(const struct vdf_fb *fb, uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1,
		      uint32_t px)
{
	uint8_t b0 = (uint8_t)px, b1 = (uint8_t)(px >> 8), b2 = (uint8_t)(px >> 16),
		b3 = (uint8_t)(px >> 24);
	uint32_t n;

	if (x0 >= x1 || y0 >= y1)
		return;
	assert(x1 <= fb->width && y1 <= fb->height);
	n = x1 - x0;
	for (uint32_t y = y0; y < y1; y++) {
		uint8_t *p = pixel_at(fb, x0, y);

		if (fb->format == VDF_PIXEL_XRGB8888) {
			for (uint32_t i = 0; i < n; i++, p += 4) {
				p[0] = b0;
				p[1] = b1;
				p[2] = b2;
				p[3] = b3;
			}
		} else {
			for (uint32_t i = 0; i < n; i++, p += 2) {
				p[0] = b0;
				p[1] = b1;
			}
		}
	}
}

/* Clip the rectangle at (x, y) of w x h to fb and fill it with px. */
static void fill_clipped(const struct vdf_fb *fb, int64_t x, int64_t y, int64_t w, int64_t h,
			 uint32_t px)
{
	int64_t x0, y0, x1, y1;

	if (w <= 0 || h <= 0)
		return;
	x0 = VDF_MAX(x, 0);
	y0 = VDF_MAX(y, 0);
	x1 = VDF_MIN(x + w, (int64_t)fb->width);
	y1 = VDF_MIN(y + h, (int64_t)fb->height);
	if (x0 >= x1 || y0 >= y1)
		return;
	fill_span(fb, (uint32_t)x0, (uint32_t)y0, (uint32_t)x1, (uint32_t)y1, px);
}

int vdf_fb_fill(const struct vdf_fb *fb, uint32_t rgb)
{
	int rc = vdf_fb_check(fb);

	if (rc)
		return rc;
	fill_span(fb, 0, 0, fb->width, fb->height, rgb_pack(fb->format, rgb));
	return 0;
}

int vdf_fb_fill_rect(const struct vdf_fb *fb, int x, int y, int w, int h, uint32_t rgb)
{
	int rc = vdf_fb_check(fb);

	if (rc)
		return rc;
	fill_clipped(fb, x, y, w, h, rgb_pack(fb->format, rgb));
	return 0;
}

int vdf_fb_get_rgb(const struct vdf_fb *fb, uint32_t x, uint32_t y, uint32_t *rgb)
{
	const uint8_t *p;
	int rc = vdf_fb_check(fb);

	if (rc)
		return rc;
	if (!rgb)
		return -EINVAL;
	if (x >= fb->width || y >= fb->height)
		return -ERANGE;
	p = pixel_at(fb, x, y);
	if (fb->format == VDF_PIXEL_XRGB8888)
		*rgb = (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
	else
		*rgb = rgb565_expand((uint32_t)p[1] << 8 | p[0]);
	return 0;
}

/* ---- text ---- */

int vdf_fb_text_width(const char *s, unsigned scale)
{
	uint64_t line = 0, longest = 0, w;

	if (!s || scale < 1 || scale > VDF_FB_SCALE_MAX)
		return -EINVAL;
	for (; *s; s++) {
		if (*s == '\n') {
			line = 0;
			continue;
		}
		line++;
		longest = VDF_MAX(longest, line);
		/* Stop counting before the product below could overflow. */
		if (longest > INT_MAX)
			return -EOVERFLOW;
	}
	w = longest * VDF_FONT_W * scale;
	return w > INT_MAX ? -EOVERFLOW : (int)w;
}

/*
 * Draw one glyph with its cell's top left at (x, y). Each row is drawn as
 * runs of equal bits, one rectangle per run: set bits in fg, clear bits in bg
 * unless transparent.
 */
static void draw_glyph(const struct vdf_fb *fb, int64_t x, int64_t y, unsigned scale,
		       const uint8_t *glyph, uint32_t fg, bool opaque, uint32_t bg)
{
	for (int r = 0; r < VDF_FONT_H; r++) {
		int64_t py = y + (int64_t)r * scale;
		int c = 0;

		if (py >= fb->height)
			break;
		if (py + scale <= 0)
			continue;
		while (c < VDF_FONT_W) {
			bool set = glyph[r] & (0x80 >> c);
			int start = c;

			while (c < VDF_FONT_W && (bool)(glyph[r] & (0x80 >> c)) == set)
				c++;
			if (set || opaque)
				fill_clipped(fb, x + (int64_t)start * scale, py,
					     (int64_t)(c - start) * scale, scale, set ? fg : bg);
		}
	}
}

int vdf_fb_text(const struct vdf_fb *fb, int x, int y, unsigned scale, uint32_t fg, int64_t bg,
		const char *s)
{
	int64_t pen_x = x, pen_y = y, cell_w, cell_h;
	uint32_t fg_px, bg_px = 0;
	bool opaque = bg != VDF_FB_TRANSPARENT;
	int width, rc;

	rc = vdf_fb_check(fb);
	if (rc)
		return rc;
	if (bg < VDF_FB_TRANSPARENT || bg > (int64_t)UINT32_MAX)
		return -EINVAL;
	/* Also checks s and scale, before anything is drawn. */
	width = vdf_fb_text_width(s, scale);
	if (width < 0)
		return width;
	fg_px = rgb_pack(fb->format, fg);
	if (opaque)
		bg_px = rgb_pack(fb->format, (uint32_t)bg);
	cell_w = (int64_t)VDF_FONT_W * scale;
	cell_h = (int64_t)VDF_FONT_H * scale;
	/* Lines only go down: once below the framebuffer, nothing more shows. */
	for (; *s && pen_y < fb->height; s++) {
		if (*s == '\n') {
			pen_x = x;
			pen_y += cell_h;
			continue;
		}
		if (pen_x < fb->width && pen_x + cell_w > 0 && pen_y + cell_h > 0)
			draw_glyph(fb, pen_x, pen_y, scale, vdf_font_glyph((unsigned char)*s),
				   fg_px, opaque, bg_px);
		pen_x += cell_w;
	}
	return width;
}

/* ---- test pattern ---- */

void vdf_fb_pattern_geometry(uint32_t width, uint32_t height, struct vdf_fb_pattern_geom *g)
{
	for (unsigned i = 0; i <= VDF_FB_PATTERN_BARS; i++)
		g->bar_x[i] = (uint32_t)((uint64_t)i * width / VDF_FB_PATTERN_BARS);
	for (unsigned k = 0; k <= VDF_FB_PATTERN_STEPS; k++)
		g->step_x[k] = (uint32_t)((uint64_t)k * width / VDF_FB_PATTERN_STEPS);
	g->ramp_y = (uint32_t)(2 * (uint64_t)height / 3);
}

static uint32_t grey(unsigned k)
{
	uint32_t v = k * 0x11;

	return v << 16 | v << 8 | v;
}

uint32_t vdf_fb_pattern_rgb(uint32_t width, uint32_t height, uint32_t x, uint32_t y)
{
	struct vdf_fb_pattern_geom g;

	if (x >= width || y >= height)
		return 0;
	if (x == 0 || y == 0 || x == width - 1 || y == height - 1)
		return RGB_WHITE;
	vdf_fb_pattern_geometry(width, height, &g);
	if (y < g.ramp_y) {
		for (unsigned i = 0; i < VDF_FB_PATTERN_BARS; i++)
			if (x < g.bar_x[i + 1])
				return vdf_fb_pattern_bars[i];
	} else {
		for (unsigned k = 0; k < VDF_FB_PATTERN_STEPS; k++)
			if (x < g.step_x[k + 1])
				return grey(k);
	}
	return 0; /* not reached: the last boundary is the width */
}

int vdf_fb_test_pattern(const struct vdf_fb *fb)
{
	struct vdf_fb_pattern_geom g;
	uint32_t w, h, white;
	int rc = vdf_fb_check(fb);

	if (rc)
		return rc;
	w = fb->width;
	h = fb->height;
	vdf_fb_pattern_geometry(w, h, &g);
	for (unsigned i = 0; i < VDF_FB_PATTERN_BARS; i++)
		fill_span(fb, g.bar_x[i], 0, g.bar_x[i + 1], g.ramp_y,
			  rgb_pack(fb->format, vdf_fb_pattern_bars[i]));
	for (unsigned k = 0; k < VDF_FB_PATTERN_STEPS; k++)
		fill_span(fb, g.step_x[k], g.ramp_y, g.step_x[k + 1], h,
			  rgb_pack(fb->format, grey(k)));
	white = rgb_pack(fb->format, RGB_WHITE);
	fill_span(fb, 0, 0, w, 1, white);
	fill_span(fb, 0, h - 1, w, h, white);
	fill_span(fb, 0, 0, 1, h, white);
	fill_span(fb, w - 1, 0, w, h, white);
	return 0;
}
