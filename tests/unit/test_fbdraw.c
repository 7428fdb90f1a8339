// SPDX-License-Identifier: MIT
/*
 * Software drawing (lib/class/fbdraw.c, lib/class/font.c): fills read back in
 * both formats, rectangles clipped at every edge, text against the font table
 * at several scales (opaque and transparent, newlines, the replacement glyph,
 * clipping), the test pattern against its specification, the font itself,
 * and argument errors.
 *
 * Every framebuffer sits between guard bands of sentinel bytes and has
 * padding bytes at the end of each row; each test checks that neither was
 * written. Expected pictures come from a per-pixel model written here from
 * the header's wording, independent of the implementation's clipping.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vdf/fbdraw.h"

#define GUARD	 256
#define SENTINEL 0xA5

static const enum vdf_pixel_format formats[] = {VDF_PIXEL_XRGB8888, VDF_PIXEL_RGB565};

/* A framebuffer in heap memory with guard bands and row padding. */
struct tfb {
	uint8_t *mem;
	size_t size;
	struct vdf_fb fb;
};

static void tfb_alloc(struct tfb *t, uint32_t w, uint32_t h, enum vdf_pixel_format f, uint32_t pad)
{
	uint32_t stride = w * vdf_pixel_bytes(f) + pad;

	t->size = 2 * GUARD + (size_t)stride * h;
	t->mem = malloc(t->size);
	assert_non_null(t->mem);
	memset(t->mem, SENTINEL, t->size);
	t->fb = (struct vdf_fb){
	    .pixels = t->mem + GUARD, .width = w, .height = h, .stride = stride, .format = f};
}

static void tfb_free(struct tfb *t)
{
	free(t->mem);
	t->mem = NULL;
}

/* The guard bands and each row's padding still hold the sentinel. */
static void assert_guards_intact(const struct tfb *t)
{
	size_t row = (size_t)t->fb.width * vdf_pixel_bytes(t->fb.format);

	for (size_t i = 0; i < GUARD; i++) {
		assert_int_equal(t->mem[i], SENTINEL);
		assert_int_equal(t->mem[t->size - 1 - i], SENTINEL);
	}
	for (uint32_t y = 0; y < t->fb.height; y++)
		for (size_t i = row; i < t->fb.stride; i++)
			assert_int_equal(t->mem[GUARD + (size_t)y * t->fb.stride + i], SENTINEL);
}

static uint32_t px_rgb(const struct vdf_fb *fb, uint32_t x, uint32_t y)
{
	uint32_t rgb = 0xDEADBEEF;

	assert_int_equal(vdf_fb_get_rgb(fb, x, y, &rgb), 0);
	return rgb;
}

/* ---- the model: what each pixel should read back as ---- */

struct model {
	uint32_t w, h;
	enum vdf_pixel_format f;
	uint32_t *px; /* 0xRRGGBB as vdf_fb_get_rgb returns it */
};

static void model_from_fb(struct model *m, const struct vdf_fb *fb)
{
	m->w = fb->width;
	m->h = fb->height;
	m->f = fb->format;
	m->px = calloc((size_t)m->w * m->h, sizeof(*m->px));
	assert_non_null(m->px);
	for (uint32_t y = 0; y < m->h; y++)
		for (uint32_t x = 0; x < m->w; x++)
			m->px[(size_t)y * m->w + x] = px_rgb(fb, x, y);
}

static void model_free(struct model *m)
{
	free(m->px);
	m->px = NULL;
}

static void model_set(struct model *m, int64_t x, int64_t y, uint32_t rgb)
{
	if (x >= 0 && y >= 0 && x < m->w && y < m->h)
		m->px[(size_t)y * m->w + (size_t)x] = vdf_fb_rgb_quantize(m->f, rgb);
}

static void model_rect(struct model *m, int x, int y, int w, int h, uint32_t rgb)
{
	for (int64_t py = 0; py < m->h; py++)
		for (int64_t px = 0; px < m->w; px++)
			if (px >= x && px < (int64_t)x + w && py >= y && py < (int64_t)y + h)
				model_set(m, px, py, rgb);
}

/* Text as the header describes it, one font pixel at a time. */
static void model_text(struct model *m, int x, int y, unsigned scale, uint32_t fg, int64_t bg,
		       const char *s)
{
	int64_t pen_x = x, pen_y = y;

	for (; *s; s++) {
		const uint8_t *g;

		if (*s == '\n') {
			pen_x = x;
			pen_y += VDF_FONT_H * (int64_t)scale;
			continue;
		}
		g = vdf_font_glyph((unsigned char)*s);
		for (int r = 0; r < VDF_FONT_H; r++)
			for (int c = 0; c < VDF_FONT_W; c++) {
				bool set = (g[r] >> (7 - c)) & 1;

				if (!set && bg == VDF_FB_TRANSPARENT)
					continue;
				for (unsigned dy = 0; dy < scale; dy++)
					for (unsigned dx = 0; dx < scale; dx++)
						model_set(m, pen_x + (int64_t)c * scale + dx,
							  pen_y + (int64_t)r * scale + dy,
							  set ? fg : (uint32_t)bg);
			}
		pen_x += VDF_FONT_W * (int64_t)scale;
	}
}

static void assert_fb_matches(const struct vdf_fb *fb, const struct model *m)
{
	for (uint32_t y = 0; y < m->h; y++)
		for (uint32_t x = 0; x < m->w; x++) {
			uint32_t got = px_rgb(fb, x, y), want = m->px[(size_t)y * m->w + x];

			if (got != want)
				fail_msg("%s %ux%u: pixel (%u,%u) is %06x, want %06x",
					 vdf_pixel_name(fb->format), m->w, m->h, x, y, got, want);
		}
}

/* ---- errors ---- */

static void assert_all_einval(const struct vdf_fb *fb)
{
	uint32_t rgb;

	assert_int_equal(vdf_fb_check(fb), -EINVAL);
	assert_int_equal(vdf_fb_fill(fb, 0xFFFFFF), -EINVAL);
	assert_int_equal(vdf_fb_fill_rect(fb, 0, 0, 4, 4, 0xFFFFFF), -EINVAL);
	assert_int_equal(vdf_fb_get_rgb(fb, 0, 0, &rgb), -EINVAL);
	assert_int_equal(vdf_fb_text(fb, 0, 0, 1, 0xFFFFFF, 0, "A"), -EINVAL);
	assert_int_equal(vdf_fb_test_pattern(fb), -EINVAL);
}

static void test_errors(void **state)
{
	static const enum vdf_pixel_format bad_formats[] = {VDF_PIXEL_NONE, VDF_PIXEL_RGB888,
							    VDF_PIXEL_XRGB1555, VDF_PIXEL_C8,
							    (enum vdf_pixel_format)99};
	struct tfb t;
	struct vdf_fb fb;
	uint32_t rgb;

	(void)state;
	tfb_alloc(&t, 16, 8, VDF_PIXEL_XRGB8888, 0);
	assert_int_equal(vdf_fb_check(&t.fb), 0);
	assert_all_einval(NULL);

	fb = t.fb;
	fb.pixels = NULL;
	assert_all_einval(&fb);
	fb = t.fb;
	fb.width = 0;
	assert_all_einval(&fb);
	fb = t.fb;
	fb.height = 0;
	assert_all_einval(&fb);
	fb = t.fb;
	fb.stride = 16 * 4 - 1;
	assert_all_einval(&fb);
	for (size_t i = 0; i < VDF_ARRAY_SIZE(bad_formats); i++) {
		fb = t.fb;
		fb.format = bad_formats[i];
		assert_all_einval(&fb);
	}
	/* Sizes whose last byte lies beyond any address space. */
	fb = t.fb;
	fb.width = UINT32_MAX;
	fb.stride = UINT32_MAX;
	assert_all_einval(&fb);
	fb = t.fb;
	fb.format = VDF_PIXEL_RGB565;
	fb.width = 1;
	fb.stride = UINT32_MAX;
	fb.height = UINT32_MAX;
	assert_all_einval(&fb);
	/* A stride of exactly one row is fine. */
	fb = t.fb;
	fb.stride = 16 * 4;
	assert_int_equal(vdf_fb_check(&fb), 0);

	/* Pixel addresses. */
	assert_int_equal(vdf_fb_get_rgb(&t.fb, 0, 0, NULL), -EINVAL);
	assert_int_equal(vdf_fb_get_rgb(&t.fb, 16, 0, &rgb), -ERANGE);
	assert_int_equal(vdf_fb_get_rgb(&t.fb, 0, 8, &rgb), -ERANGE);
	assert_int_equal(vdf_fb_get_rgb(&t.fb, UINT32_MAX, UINT32_MAX, &rgb), -ERANGE);
	assert_int_equal(vdf_fb_get_rgb(&t.fb, 15, 7, &rgb), 0);

	/* Text arguments. */
	assert_int_equal(vdf_fb_text(&t.fb, 0, 0, 0, 0xFFFFFF, 0, "A"), -EINVAL);
	assert_int_equal(vdf_fb_text(&t.fb, 0, 0, VDF_FB_SCALE_MAX + 1, 0xFFFFFF, 0, "A"), -EINVAL);
	assert_int_equal(vdf_fb_text(&t.fb, 0, 0, 1, 0xFFFFFF, 0, NULL), -EINVAL);
	assert_int_equal(vdf_fb_text(&t.fb, 0, 0, 1, 0xFFFFFF, -2, "A"), -EINVAL);
	assert_int_equal(vdf_fb_text(&t.fb, 0, 0, 1, 0xFFFFFF, INT64_MIN, "A"), -EINVAL);
	assert_int_equal(vdf_fb_text(&t.fb, 0, 0, 1, 0xFFFFFF, (int64_t)UINT32_MAX + 1, "A"),
			 -EINVAL);
	assert_int_equal(vdf_fb_text_width(NULL, 1), -EINVAL);
	assert_int_equal(vdf_fb_text_width("A", 0), -EINVAL);
	assert_int_equal(vdf_fb_text_width("A", VDF_FB_SCALE_MAX + 1), -EINVAL);
	/* Nothing above wrote a pixel. */
	for (size_t i = 0; i < t.size; i++)
		assert_int_equal(t.mem[i], SENTINEL);

	/* The extremes that are valid. */
	assert_int_equal(vdf_fb_text(&t.fb, 0, 0, VDF_FB_SCALE_MAX, 0xFFFFFF, UINT32_MAX, "A"),
			 VDF_FONT_W * VDF_FB_SCALE_MAX);
	assert_int_equal(px_rgb(&t.fb, 0, 0), 0xFFFFFF); /* bg, top byte ignored */
	assert_guards_intact(&t);
	tfb_free(&t);
}

/* ---- fills ---- */

static void test_fill_readback(void **state)
{
	static const uint32_t colours[] = {0x000000, 0xFFFFFF, 0xFF0000, 0x00FF00,
					   0x0000FF, 0x123456, 0x808080, 0xFFABCDEF};
	struct tfb t;

	(void)state;
	for (size_t fi = 0; fi < VDF_ARRAY_SIZE(formats); fi++) {
		/* Odd padding: rows start at unaligned addresses. */
		tfb_alloc(&t, 13, 7, formats[fi], 6);
		for (size_t ci = 0; ci < VDF_ARRAY_SIZE(colours); ci++) {
			uint32_t want = vdf_fb_rgb_quantize(formats[fi], colours[ci]);

			assert_int_equal(vdf_fb_fill(&t.fb, colours[ci]), 0);
			for (uint32_t y = 0; y < 7; y++)
				for (uint32_t x = 0; x < 13; x++)
					assert_int_equal(px_rgb(&t.fb, x, y), want);
			assert_guards_intact(&t);
		}
		tfb_free(&t);
	}

	/* The bytes in memory, and the values read back. */
	tfb_alloc(&t, 3, 2, VDF_PIXEL_XRGB8888, 1);
	assert_int_equal(vdf_fb_fill(&t.fb, 0x123456), 0);
	for (uint32_t y = 0; y < 2; y++) {
		const uint8_t *p = t.mem + GUARD + (size_t)y * t.fb.stride + 2 * 4;

		assert_int_equal(p[0], 0x56); /* B, G, R, X */
		assert_int_equal(p[1], 0x34);
		assert_int_equal(p[2], 0x12);
		assert_int_equal(p[3], 0x00);
	}
	assert_int_equal(px_rgb(&t.fb, 2, 1), 0x123456);
	assert_guards_intact(&t);
	tfb_free(&t);

	tfb_alloc(&t, 3, 2, VDF_PIXEL_RGB565, 1);
	assert_int_equal(vdf_fb_fill(&t.fb, 0x123456), 0);
	/* r 0x12 >> 3 = 2, g 0x34 >> 2 = 13, b 0x56 >> 3 = 10: 0x11AA */
	assert_int_equal(t.mem[GUARD + t.fb.stride + 4], 0xAA);
	assert_int_equal(t.mem[GUARD + t.fb.stride + 5], 0x11);
	/* Widened by repeating the top bits: 0x10, 0x34, 0x52. */
	assert_int_equal(px_rgb(&t.fb, 2, 1), 0x103452);
	assert_int_equal(vdf_fb_rgb_quantize(VDF_PIXEL_RGB565, 0x123456), 0x103452);
	/* Channels of all zeros or all ones survive exactly. */
	assert_int_equal(vdf_fb_rgb_quantize(VDF_PIXEL_RGB565, 0xFF00FF), 0xFF00FF);
	assert_int_equal(vdf_fb_rgb_quantize(VDF_PIXEL_RGB565, 0x00FFFF), 0x00FFFF);
	assert_int_equal(vdf_fb_rgb_quantize(VDF_PIXEL_XRGB8888, 0xAB123456), 0x123456);
	assert_guards_intact(&t);
	tfb_free(&t);
}

static void test_rect_clip(void **state)
{
	static const struct {
		int x, y, w, h;
	} rects[] = {
	    {2, 3, 5, 4},			  /* inside */
	    {-3, 2, 6, 4},			  /* across the left edge */
	    {17, 5, 10, 3},			  /* across the right edge */
	    {4, -5, 3, 8},			  /* across the top edge */
	    {6, 12, 4, 9},			  /* across the bottom edge */
	    {15, 11, 100, 100},			  /* the bottom right corner */
	    {-7, -9, 9, 11},			  /* the top left corner */
	    {0, 0, 1, 1},			  /* the first pixel */
	    {19, 14, 1, 1},			  /* the last pixel */
	    {-5, -5, 100, 100},			  /* all of it */
	    {-10, -10, 5, 5},			  /* outside: above left */
	    {20, 0, 5, 5},			  /* outside: just right */
	    {0, 15, 5, 5},			  /* outside: just below */
	    {-5, 0, 5, 15},			  /* outside: ends at x = 0 */
	    {0, -3, 3, 3},			  /* outside: ends at y = 0 */
	    {5, 5, -3, 4},			  /* negative width */
	    {5, 5, 3, -4},			  /* negative height */
	    {5, 5, 0, 4},			  /* empty */
	    {INT_MIN, INT_MIN, INT_MAX, INT_MAX}, /* ends at -1 */
	    {INT_MAX, INT_MAX, INT_MAX, INT_MAX}, /* far outside */
	    {INT_MIN, INT_MIN, INT_MIN, INT_MIN}, /* nonsense */
	    {-1, -1, INT_MAX, INT_MAX},		  /* all of it, overlong */
	    {3, 1, INT_MAX, 2},			  /* overlong to the right */
	    {1, 3, 2, INT_MAX},			  /* overlong downwards */
	};
	struct tfb t;
	struct model m;

	(void)state;
	for (size_t fi = 0; fi < VDF_ARRAY_SIZE(formats); fi++) {
		tfb_alloc(&t, 20, 15, formats[fi], 3);
		model_from_fb(&m, &t.fb);
		for (size_t i = 0; i < VDF_ARRAY_SIZE(rects); i++) {
			/* A different colour each time, pure channels and not. */
			uint32_t rgb = (uint32_t)(i * 0x3B2917u + 0x102030u) & 0xFFFFFF;

			assert_int_equal(vdf_fb_fill_rect(&t.fb, rects[i].x, rects[i].y, rects[i].w,
							  rects[i].h, rgb),
					 0);
			model_rect(&m, rects[i].x, rects[i].y, rects[i].w, rects[i].h, rgb);
			assert_fb_matches(&t.fb, &m);
			assert_guards_intact(&t);
		}
		model_free(&m);
		tfb_free(&t);
	}
}

/* ---- text ---- */

/* Draw s with vdf_fb_text and the model and compare the whole framebuffer. */
static void text_vs_model(struct tfb *t, int x, int y, unsigned scale, uint32_t fg, int64_t bg,
			  const char *s)
{
	struct model m;

	model_from_fb(&m, &t->fb);
	assert_int_equal(vdf_fb_text(&t->fb, x, y, scale, fg, bg, s), vdf_fb_text_width(s, scale));
	model_text(&m, x, y, scale, fg, bg, s);
	assert_fb_matches(&t->fb, &m);
	assert_guards_intact(t);
	model_free(&m);
}

static void test_text_glyph_scale(void **state)
{
	const uint8_t *g = vdf_font_glyph('A');
	struct tfb t;

	(void)state;
	for (size_t fi = 0; fi < VDF_ARRAY_SIZE(formats); fi++) {
		for (unsigned scale = 1; scale <= 2; scale++) {
			uint32_t bg = vdf_fb_rgb_quantize(formats[fi], 0x0000FF);
			uint32_t fg = vdf_fb_rgb_quantize(formats[fi], 0xFFFF00);
			uint32_t under = vdf_fb_rgb_quantize(formats[fi], 0x202020);
			int x0 = 5, y0 = 3;

			tfb_alloc(&t, 40, 40, formats[fi], 2);
			assert_int_equal(vdf_fb_fill(&t.fb, 0x202020), 0);
			assert_int_equal(vdf_fb_text(&t.fb, x0, y0, scale, 0xFFFF00, 0x0000FF, "A"),
					 VDF_FONT_W * (int)scale);
			/* Straight from the table: font pixel (c, r) is a scale x scale square. */
			for (uint32_t y = 0; y < 40; y++)
				for (uint32_t x = 0; x < 40; x++) {
					int c = ((int)x - x0) / (int)scale,
					    r = ((int)y - y0) / (int)scale;
					bool in = (int)x >= x0 && (int)y >= y0 && c < VDF_FONT_W &&
						  r < VDF_FONT_H;
					uint32_t want = !in		       ? under
							: (g[r] & (0x80 >> c)) ? fg
									       : bg;

					assert_int_equal(px_rgb(&t.fb, x, y), want);
				}
			assert_guards_intact(&t);
			/* And the model agrees, for a longer string. */
			text_vs_model(&t, 1, 2, scale, 0x00FF00, 0x400000, "Hi!");
			tfb_free(&t);
		}
	}
}

static void test_text_transparent(void **state)
{
	const uint8_t *g = vdf_font_glyph('W');
	struct tfb t;
	struct model before;

	(void)state;
	for (size_t fi = 0; fi < VDF_ARRAY_SIZE(formats); fi++) {
		tfb_alloc(&t, 64, 40, formats[fi], 0);
		/* A busy background, so "left alone" means something. */
		assert_int_equal(vdf_fb_test_pattern(&t.fb), 0);
		model_from_fb(&before, &t.fb);
		assert_int_equal(vdf_fb_text(&t.fb, 10, 7, 2, 0xFF0000, VDF_FB_TRANSPARENT, "W"),
				 16);
		for (uint32_t y = 0; y < 40; y++)
			for (uint32_t x = 0; x < 64; x++) {
				int c = ((int)x - 10) / 2, r = ((int)y - 7) / 2;
				bool in = x >= 10 && y >= 7 && c < VDF_FONT_W && r < VDF_FONT_H;
				uint32_t want = before.px[y * 64 + x];

				if (in && (g[r] & (0x80 >> c)))
					want = 0xFF0000;
				assert_int_equal(px_rgb(&t.fb, x, y), want);
			}
		assert_guards_intact(&t);
		/* Opaque over the same spot covers the whole cell. */
		text_vs_model(&t, 10, 7, 2, 0xFFFFFF, 0x000000, "W");
		for (uint32_t y = 7; y < 7 + 32; y++)
			for (uint32_t x = 10; x < 10 + 16; x++)
				assert_true(px_rgb(&t.fb, x, y) == 0 ||
					    px_rgb(&t.fb, x, y) == 0xFFFFFF);
		model_free(&before);
		tfb_free(&t);
	}
}

static void test_text_newline(void **state)
{
	const uint8_t *gc = vdf_font_glyph('C');
	struct tfb t;

	(void)state;
	assert_int_equal(vdf_fb_text_width("", 1), 0);
	assert_int_equal(vdf_fb_text_width("\n\n", 1), 0);
	assert_int_equal(vdf_fb_text_width("AB\nCDE", 1), 24);
	assert_int_equal(vdf_fb_text_width("ABC\n", 1), 24);
	assert_int_equal(vdf_fb_text_width("A\nBCDE\nF", 3), 4 * 8 * 3);
	assert_int_equal(vdf_fb_text_width("\x01\xff", 2), 32);

	for (size_t fi = 0; fi < VDF_ARRAY_SIZE(formats); fi++) {
		tfb_alloc(&t, 48, 48, formats[fi], 4);
		assert_int_equal(vdf_fb_fill(&t.fb, 0), 0);
		/* Newlines alone draw nothing. */
		assert_int_equal(vdf_fb_text(&t.fb, 0, 0, 1, 0xFFFFFF, 0x00FF00, "\n\n"), 0);
		assert_int_equal(vdf_fb_text(&t.fb, 0, 0, 1, 0xFFFFFF, 0x00FF00, ""), 0);
		for (uint32_t y = 0; y < 48; y++)
			for (uint32_t x = 0; x < 48; x++)
				assert_int_equal(px_rgb(&t.fb, x, y), 0);
		/* The second line starts at x again, one cell height down. */
		assert_int_equal(vdf_fb_text(&t.fb, 4, 2, 1, 0xFFFFFF, VDF_FB_TRANSPARENT, "AB\nC"),
				 16);
		for (int r = 0; r < VDF_FONT_H; r++)
			for (int c = 0; c < VDF_FONT_W; c++)
				assert_int_equal(px_rgb(&t.fb, 4 + c, 2 + 16 + r),
						 (gc[r] & (0x80 >> c)) ? 0xFFFFFF : 0);
		text_vs_model(&t, 3, 1, 1, 0xFFFF00, 0x0000FF, "x\n\nyz\n");
		text_vs_model(&t, 0, 0, 2, 0x00FFFF, VDF_FB_TRANSPARENT, "a\nb");
		tfb_free(&t);
	}
}

static void test_text_replacement(void **state)
{
	static const char *const odd[] = {"\x01", "\x1f", "\x7f", "\x80", "\xff", "\t", "\r"};
	const uint8_t *rep = vdf_font_glyph(0x01);
	struct tfb t;

	(void)state;
	/* Every byte outside 0x20..0x7e shares the replacement glyph. */
	for (unsigned b = 0; b < 256; b++)
		if (b < VDF_FONT_FIRST || b > VDF_FONT_LAST)
			assert_ptr_equal(vdf_font_glyph((unsigned char)b), rep);
	/* A hollow box over rows 2..13, columns 0..6. */
	for (int r = 0; r < VDF_FONT_H; r++) {
		uint8_t want = (r < 2 || r > 13) ? 0x00 : (r == 2 || r == 13) ? 0xFE : 0x82;

		assert_int_equal(rep[r], want);
	}
	/* Unlike any printable glyph. */
	for (unsigned c = VDF_FONT_FIRST; c <= VDF_FONT_LAST; c++)
		assert_memory_not_equal(vdf_font_glyph((unsigned char)c), rep, VDF_FONT_H);

	for (size_t fi = 0; fi < VDF_ARRAY_SIZE(formats); fi++) {
		tfb_alloc(&t, 24, 20, formats[fi], 0);
		for (size_t i = 0; i < VDF_ARRAY_SIZE(odd); i++) {
			assert_int_equal(vdf_fb_fill(&t.fb, 0), 0);
			assert_int_equal(vdf_fb_text(&t.fb, 3, 1, 1, 0xFFFFFF, 0, odd[i]), 8);
			for (int r = 0; r < VDF_FONT_H; r++)
				for (int c = 0; c < VDF_FONT_W; c++)
					assert_int_equal(px_rgb(&t.fb, 3 + c, 1 + r),
							 (rep[r] & (0x80 >> c)) ? 0xFFFFFF : 0);
		}
		/* Mixed with printable characters, each byte one cell. */
		text_vs_model(&t, 0, 2, 1, 0xFF00FF, 0x000000, "a\xc3\xa9");
		assert_guards_intact(&t);
		tfb_free(&t);
	}
}

static void test_text_clip(void **state)
{
	static const struct {
		int x, y;
		unsigned scale;
		bool opaque;
		const char *s;
	} cases[] = {
	    {30, 2, 1, true, "Hello"},		/* off the right edge */
	    {2, 15, 1, true, "gjpqy"},		/* off the bottom edge */
	    {33, 17, 3, false, "XY\nZ"},	/* the bottom right corner */
	    {-5, -7, 2, true, "Clip"},		/* off the top left */
	    {-20, 5, 1, false, "ABCDEFGH\nIJ"}, /* starts left of the edge */
	    {36, 20, 8, true, "@"},		/* one pixel visible */
	    {-100, -100, 8, true, "A"},		/* nothing visible */
	    {37, 0, 1, true, "A"},		/* just right of it */
	    {0, 21, 1, true, "A"},		/* just below it */
	    {5, -200, 8, true, "1\n2\n3\n4"},	/* lines scroll in from above */
	    {INT_MAX - 3, 0, 8, true, "AB"},	/* pen beyond INT_MAX */
	    {INT_MIN, INT_MIN, 8, true, "A\nB"},
	    {0, INT_MAX, 1, true, "A"},
	    {-3, INT_MAX - 20, 8, true, "AB\nCD"},
	};
	struct tfb t, big;
	const int margin = 300;

	(void)state;
	for (size_t fi = 0; fi < VDF_ARRAY_SIZE(formats); fi++) {
		tfb_alloc(&t, 37, 21, formats[fi], 5);
		tfb_alloc(&big, 37 + 2 * margin, 21 + 2 * margin, formats[fi], 0);
		for (size_t i = 0; i < VDF_ARRAY_SIZE(cases); i++) {
			int64_t bg = cases[i].opaque ? 0x0000FF : VDF_FB_TRANSPARENT;
			int64_t bx = (int64_t)cases[i].x + margin,
				by = (int64_t)cases[i].y + margin;

			assert_int_equal(vdf_fb_fill(&t.fb, 0x101010), 0);
			text_vs_model(&t, cases[i].x, cases[i].y, cases[i].scale, 0xFFFF00, bg,
				      cases[i].s);
			/* Clipping is cropping: the same text drawn into a larger
			 * framebuffer shows the same pixels in the same window. */
			if (bx > INT_MAX || by > INT_MAX || bx < INT_MIN || by < INT_MIN)
				continue;
			assert_int_equal(vdf_fb_fill(&big.fb, 0x101010), 0);
			assert_true(vdf_fb_text(&big.fb, (int)bx, (int)by, cases[i].scale, 0xFFFF00,
						bg, cases[i].s) >= 0);
			for (uint32_t y = 0; y < 21; y++)
				for (uint32_t x = 0; x < 37; x++)
					assert_int_equal(px_rgb(&t.fb, x, y),
							 px_rgb(&big.fb, x + margin, y + margin));
		}
		assert_guards_intact(&big);
		tfb_free(&big);
		tfb_free(&t);
	}
}

static void test_text_overflow(void **state)
{
	/* The shortest line wider than INT_MAX pixels at the largest scale. */
	size_t n = (size_t)INT_MAX / (VDF_FONT_W * VDF_FB_SCALE_MAX) + 1;
	char *s = malloc(n + 1);
	struct tfb t;

	(void)state;
	assert_non_null(s);
	memset(s, 'A', n);
	s[n] = '\0';
	assert_int_equal(vdf_fb_text_width(s, VDF_FB_SCALE_MAX), -EOVERFLOW);
	assert_int_equal(vdf_fb_text_width(s, 1), (int)(n * VDF_FONT_W));
	tfb_alloc(&t, 8, 8, VDF_PIXEL_RGB565, 0);
	assert_int_equal(vdf_fb_text(&t.fb, 0, 0, VDF_FB_SCALE_MAX, 0xFFFFFF, 0, s), -EOVERFLOW);
	for (size_t i = 0; i < t.size; i++)
		assert_int_equal(t.mem[i], SENTINEL);
	tfb_free(&t);
	free(s);
}

/* ---- the font ---- */

static void test_font_all_glyphs(void **state)
{
	enum { N = VDF_FONT_LAST - VDF_FONT_FIRST + 1 };
	uint8_t seen[N][VDF_FONT_H];
	char s[N + 1];
	struct tfb t;

	(void)state;
	for (int i = 0; i < N; i++)
		s[i] = (char)(VDF_FONT_FIRST + i);
	s[N] = '\0';
	tfb_alloc(&t, N * VDF_FONT_W, VDF_FONT_H, VDF_PIXEL_XRGB8888, 0);
	assert_int_equal(vdf_fb_fill(&t.fb, 0), 0);
	assert_int_equal(vdf_fb_text(&t.fb, 0, 0, 1, 0xFFFFFF, VDF_FB_TRANSPARENT, s),
			 N * VDF_FONT_W);
	assert_guards_intact(&t);
	/* Read every cell back off the screen. */
	for (int i = 0; i < N; i++) {
		unsigned set = 0;

		for (int r = 0; r < VDF_FONT_H; r++) {
			seen[i][r] = 0;
			for (int c = 0; c < VDF_FONT_W; c++) {
				uint32_t rgb =
				    px_rgb(&t.fb, (uint32_t)(i * VDF_FONT_W + c), (uint32_t)r);

				assert_true(rgb == 0 || rgb == 0xFFFFFF);
				if (rgb) {
					seen[i][r] |= (uint8_t)(0x80 >> c);
					set++;
				}
			}
		}
		assert_memory_equal(seen[i], vdf_font_glyph((unsigned char)s[i]), VDF_FONT_H);
		/* Only the space is blank. */
		if (s[i] == ' ')
			assert_int_equal(set, 0);
		else if (!set)
			fail_msg("glyph 0x%02x '%c' has no pixels", s[i], s[i]);
		/* The documented layout: rows 0..2 and 15 and column 7 empty. */
		assert_int_equal(seen[i][0] | seen[i][1] | seen[i][2] | seen[i][15], 0);
		for (int r = 0; r < VDF_FONT_H; r++)
			assert_int_equal(seen[i][r] & 0x01, 0);
	}
	/* No two glyphs alike. */
	for (int i = 0; i < N; i++)
		for (int j = i + 1; j < N; j++)
			if (!memcmp(seen[i], seen[j], VDF_FONT_H))
				fail_msg("glyphs '%c' and '%c' are identical", s[i], s[j]);
	tfb_free(&t);
}

/* ---- the test pattern ---- */

/* The pattern as the header specifies it, written out again here. */
static uint32_t spec_rgb(uint32_t w, uint32_t h, uint32_t x, uint32_t y)
{
	static const uint32_t bars[8] = {0xFFFFFF, 0xFFFF00, 0x00FFFF, 0x00FF00,
					 0xFF00FF, 0xFF0000, 0x0000FF, 0x000000};
	uint64_t W = w, H = h;

	if (x == 0 || y == 0 || x == w - 1 || y == h - 1)
		return 0xFFFFFF;
	if (y < 2 * H / 3) {
		for (uint64_t i = 0; i < 8; i++)
			if (x >= i * W / 8 && x < (i + 1) * W / 8)
				return bars[i];
	} else {
		for (uint64_t k = 0; k < 16; k++)
			if (x >= k * W / 16 && x < (k + 1) * W / 16)
				return (uint32_t)(k * 17 * 0x010101);
	}
	fail_msg("(%u,%u) of %ux%u is in no area", x, y, w, h);
	return 0;
}

static bool close_rgb(uint32_t a, uint32_t b, int tol)
{
	for (int sh = 0; sh <= 16; sh += 8)
		if (abs((int)((a >> sh) & 0xFF) - (int)((b >> sh) & 0xFF)) > tol)
			return false;
	return true;
}

static void test_pattern(void **state)
{
	static const struct {
		uint32_t w, h;
	} sizes[] = {{1023, 767}, {64, 64}, {1024, 768}, {800, 600}, {65, 4},
		     {1, 1},	  {2, 3},   {7, 5},	 {17, 9},    {3, 100}};
	struct tfb t;

	(void)state;
	assert_int_equal(vdf_fb_pattern_bars[0], 0xFFFFFF);
	assert_int_equal(vdf_fb_pattern_bars[7], 0x000000);
	for (size_t fi = 0; fi < VDF_ARRAY_SIZE(formats); fi++)
		for (size_t si = 0; si < VDF_ARRAY_SIZE(sizes); si++) {
			enum vdf_pixel_format f = formats[fi];
			uint32_t w = sizes[si].w, h = sizes[si].h;

			tfb_alloc(&t, w, h, f, 7);
			assert_int_equal(vdf_fb_test_pattern(&t.fb), 0);
			assert_guards_intact(&t);
			/* Every pixel, against the specification and the helper. */
			for (uint32_t y = 0; y < h; y++)
				for (uint32_t x = 0; x < w; x++) {
					uint32_t want = spec_rgb(w, h, x, y);

					assert_int_equal(vdf_fb_pattern_rgb(w, h, x, y), want);
					if (px_rgb(&t.fb, x, y) != vdf_fb_rgb_quantize(f, want))
						fail_msg("%s %ux%u (%u,%u): %06x, want %06x",
							 vdf_pixel_name(f), w, h, x, y,
							 px_rgb(&t.fb, x, y), want);
				}
			if (w < 64 || h < 4) {
				tfb_free(&t);
				continue;
			}
			/* The sample points of the header (and ppmcheck.py). */
			for (uint32_t i = 0; i < 8; i++) {
				uint32_t x = (i * w / 8 + (i + 1) * w / 8) / 2;

				/* Pure colours survive RGB565 exactly. */
				assert_int_equal(px_rgb(&t.fb, x, h / 3), vdf_fb_pattern_bars[i]);
			}
			for (uint32_t k = 0; k < 16; k++) {
				uint32_t x = (k * w / 16 + (k + 1) * w / 16) / 2;
				uint32_t y = (2 * h / 3 + h - 1) / 2, g = k * 17 * 0x010101;

				assert_int_equal(px_rgb(&t.fb, x, y), vdf_fb_rgb_quantize(f, g));
				assert_true(close_rgb(px_rgb(&t.fb, x, y), g, 4));
				if (f == VDF_PIXEL_XRGB8888)
					assert_int_equal(px_rgb(&t.fb, x, y), g);
			}
			assert_int_equal(px_rgb(&t.fb, 0, 0), 0xFFFFFF);
			assert_int_equal(px_rgb(&t.fb, w - 1, 0), 0xFFFFFF);
			assert_int_equal(px_rgb(&t.fb, 0, h - 1), 0xFFFFFF);
			assert_int_equal(px_rgb(&t.fb, w - 1, h - 1), 0xFFFFFF);
			assert_int_equal(px_rgb(&t.fb, w / 2, 0), 0xFFFFFF);
			assert_int_equal(px_rgb(&t.fb, 0, h / 2), 0xFFFFFF);
			tfb_free(&t);
		}
}

static void test_pattern_geometry(void **state)
{
	struct vdf_fb_pattern_geom g;

	(void)state;
	vdf_fb_pattern_geometry(1023, 767, &g);
	assert_int_equal(g.bar_x[0], 0);
	assert_int_equal(g.bar_x[1], 127);
	assert_int_equal(g.bar_x[4], 511);
	assert_int_equal(g.bar_x[8], 1023);
	assert_int_equal(g.step_x[1], 63);
	assert_int_equal(g.step_x[16], 1023);
	assert_int_equal(g.ramp_y, 511);
	/* No overflow at the largest sizes. */
	vdf_fb_pattern_geometry(UINT32_MAX, UINT32_MAX, &g);
	assert_int_equal(g.bar_x[8], UINT32_MAX);
	assert_int_equal(g.step_x[16], UINT32_MAX);
	assert_int_equal(g.ramp_y, UINT32_MAX / 3 * 2);
	assert_int_equal(vdf_fb_pattern_rgb(UINT32_MAX, UINT32_MAX, UINT32_MAX - 2, 5), 0x000000);
	assert_int_equal(vdf_fb_pattern_rgb(10, 10, 10, 0), 0);

	/* The header's claim: for W >= 64 and H >= 4 every sample point lies
	 * inside its own area and off the frame. */
	for (uint32_t w = 64; w <= 4096; w++) {
		vdf_fb_pattern_geometry(w, 64, &g);
		for (uint32_t i = 0; i < 8; i++) {
			uint32_t x = (i * w / 8 + (i + 1) * w / 8) / 2;

			assert_true(x > 0 && x < w - 1 && x >= g.bar_x[i] && x < g.bar_x[i + 1]);
		}
		for (uint32_t k = 0; k < 16; k++) {
			uint32_t x = (k * w / 16 + (k + 1) * w / 16) / 2;

			assert_true(x > 0 && x < w - 1 && x >= g.step_x[k] && x < g.step_x[k + 1]);
		}
	}
	for (uint32_t h = 4; h <= 4096; h++) {
		uint32_t yb = h / 3, yg;

		vdf_fb_pattern_geometry(64, h, &g);
		yg = (g.ramp_y + h - 1) / 2;
		assert_true(yb > 0 && yb < g.ramp_y);
		assert_true(yg >= g.ramp_y && yg < h - 1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_errors),	     cmocka_unit_test(test_fill_readback),
	    cmocka_unit_test(test_rect_clip),	     cmocka_unit_test(test_text_glyph_scale),
	    cmocka_unit_test(test_text_transparent), cmocka_unit_test(test_text_newline),
	    cmocka_unit_test(test_text_replacement), cmocka_unit_test(test_text_clip),
	    cmocka_unit_test(test_text_overflow),    cmocka_unit_test(test_font_all_glyphs),
	    cmocka_unit_test(test_pattern),	     cmocka_unit_test(test_pattern_geometry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
