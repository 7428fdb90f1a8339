// SPDX-License-Identifier: MIT
/*
 * EDID parsing (lib/class/edid.c): a full EDID 1.4 base block built field by
 * field and checked field by field, a blob shaped like QEMU's default one,
 * and the failure paths: short buffers (exact-size heap copies, so ASan sees
 * any over-read), bad header, bad checksum, unusable detailed timings, odd
 * names, unused standard timings, more modes than fit, extension blocks.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vdf/edid.h"
#include "vdf/hw/edid.h"

/* --- A small EDID builder ------------------------------------------------ */

struct dtd {
	uint32_t clock_khz; /* multiple of 10 */
	uint16_t hactive, hblank, hso, hsw;
	uint16_t vactive, vblank, vso, vsw;
	uint16_t width_mm, height_mm;
	uint8_t flags;
};

/* 1024x768@60 (65 MHz, 1344 x 806 total). */
static const struct dtd dtd_1024 = {65000, 1024, 320, 24, 136, 768, 38, 3, 6, 312, 234, 0x18};
/* 800x600@60 (40 MHz, 1056 x 628 total). */
static const struct dtd dtd_800 = {40000, 800, 256, 40, 128, 600, 28, 1, 4, 0, 0, 0x1e};

/* An empty EDID 1.4 base block: header, version, all standard timings unused. */
static void edid_init(uint8_t *e)
{
	memset(e, 0, EDID_BLOCK_SIZE);
	memset(e + 1, 0xff, 6);
	e[EDID_VERSION] = 1;
	e[EDID_REVISION] = 4;
	memset(e + EDID_STD_TIMINGS, EDID_STD_UNUSED, EDID_STD_TIMING_COUNT * EDID_STD_TIMING_SIZE);
}

static void edid_vendor(uint8_t *e, const char *v)
{
	uint16_t id = (uint16_t)((v[0] - 'A' + 1) << 10 | (v[1] - 'A' + 1) << 5 | (v[2] - 'A' + 1));

	e[EDID_MFG_ID] = (uint8_t)(id >> 8);
	e[EDID_MFG_ID + 1] = (uint8_t)id;
}

static void edid_dtd(uint8_t *e, unsigned slot, const struct dtd *t)
{
	uint8_t *d = e + EDID_DESC_OFFSET(slot);
	unsigned clk = t->clock_khz / 10;

	d[0] = (uint8_t)clk;
	d[1] = (uint8_t)(clk >> 8);
	d[2] = (uint8_t)t->hactive;
	d[3] = (uint8_t)t->hblank;
	d[4] = (uint8_t)((t->hactive >> 8) << 4 | (t->hblank >> 8));
	d[5] = (uint8_t)t->vactive;
	d[6] = (uint8_t)t->vblank;
	d[7] = (uint8_t)((t->vactive >> 8) << 4 | (t->vblank >> 8));
	d[8] = (uint8_t)t->hso;
	d[9] = (uint8_t)t->hsw;
	d[10] = (uint8_t)((t->vso & 0xf) << 4 | (t->vsw & 0xf));
	d[11] =
	    (uint8_t)((t->hso >> 8) << 6 | (t->hsw >> 8) << 4 | (t->vso >> 4) << 2 | (t->vsw >> 4));
	d[12] = (uint8_t)t->width_mm;
	d[13] = (uint8_t)t->height_mm;
	d[14] = (uint8_t)((t->width_mm >> 8) << 4 | (t->height_mm >> 8));
	d[15] = d[16] = 0;
	d[17] = t->flags;
}

/* A display descriptor with 13 raw data bytes. */
static void edid_desc(uint8_t *e, unsigned slot, uint8_t tag, const uint8_t data[13])
{
	uint8_t *d = e + EDID_DESC_OFFSET(slot);

	memset(d, 0, EDID_DESC_SIZE);
	d[EDID_DISP_TAG] = tag;
	memcpy(d + EDID_DISP_DATA, data, EDID_DISP_DATA_LEN);
}

/* A descriptor from a 13-character string literal, taken as it is. */
static void edid_raw13(uint8_t *e, unsigned slot, uint8_t tag, const char *s)
{
	assert_int_equal(strlen(s), EDID_DISP_DATA_LEN);
	edid_desc(e, slot, tag, (const uint8_t *)s);
}

/* A string descriptor the way the spec wants it: text, newline, spaces. */
static void edid_string(uint8_t *e, unsigned slot, uint8_t tag, const char *s)
{
	uint8_t data[13];
	size_t n = strlen(s);

	assert_true(n <= 13);
	memset(data, ' ', sizeof(data));
	memcpy(data, s, n);
	if (n < 13)
		data[n] = '\n';
	edid_desc(e, slot, tag, data);
}

static uint8_t std_b1(unsigned width)
{
	return (uint8_t)(width / 8 - 31);
}

static uint8_t std_b2(unsigned aspect, unsigned hz)
{
	return (uint8_t)(aspect << 6 | (hz - 60));
}

static void edid_std(uint8_t *e, unsigned idx, unsigned width, unsigned aspect, unsigned hz)
{
	e[EDID_STD_TIMINGS + 2 * idx] = std_b1(width);
	e[EDID_STD_TIMINGS + 2 * idx + 1] = std_b2(aspect, hz);
}

static void edid_checksum(uint8_t *e)
{
	uint8_t sum = 0;

	for (unsigned i = 0; i < EDID_CHECKSUM; i++)
		sum = (uint8_t)(sum + e[i]);
	e[EDID_CHECKSUM] = (uint8_t)(0x100 - sum);
}

/* The main test blob: every field the parser reports set to something. */
static void edid_full(uint8_t *e)
{
	static const uint8_t range[13] = {50,  75,  30,	 80,  17,  0,  '\n',
					  ' ', ' ', ' ', ' ', ' ', ' '};

	edid_init(e);
	edid_vendor(e, "VDF");
	e[EDID_PRODUCT_CODE] = 0xcd, e[EDID_PRODUCT_CODE + 1] = 0xab;
	e[EDID_SERIAL] = 0x78, e[EDID_SERIAL + 1] = 0x56;
	e[EDID_SERIAL + 2] = 0x34, e[EDID_SERIAL + 3] = 0x12;
	e[EDID_MFG_WEEK] = 12, e[EDID_MFG_YEAR] = 2024 - EDID_MFG_YEAR_BASE;
	e[EDID_VIDEO_INPUT] = EDID_VIDEO_INPUT_DIGITAL;
	e[EDID_MAX_HSIZE_CM] = 30, e[EDID_MAX_VSIZE_CM] = 23;
	e[EDID_FEATURES] = EDID_FEATURE_PREFERRED;
	e[EDID_EST_I] = EDID_EST_I_640X480_60 | EDID_EST_I_800X600_60;
	/* 1024x768@60 repeats the preferred timing; 87 Hz is interlaced. */
	e[EDID_EST_II] = EDID_EST_II_1024X768_60 | EDID_EST_II_1024X768_87I;
	e[EDID_EST_MFG] = EDID_EST_MFG_1152X870_75;
	edid_std(e, 0, 1280, EDID_STD_ASPECT_5_4, 75);
	edid_std(e, 1, 1920, EDID_STD_ASPECT_16_9, 60);
	edid_dtd(e, 0, &dtd_1024);
	edid_dtd(e, 1, &dtd_800);
	edid_string(e, 2, EDID_TAG_NAME, "VDF Test");
	edid_desc(e, 3, EDID_TAG_RANGE_LIMITS, range);
	edid_checksum(e);
}

/* Parses a heap copy of exactly len bytes, so ASan catches any over-read. */
static int parse_exact(const uint8_t *e, size_t len, struct vdf_edid_info *info)
{
	uint8_t *copy = malloc(len ? len : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, e, len);
	rc = vdf_edid_parse(copy, len, info);
	free(copy);
	return rc;
}

static void assert_mode(const struct vdf_edid_mode *m, unsigned w, unsigned h, unsigned hz,
			bool pref)
{
	assert_int_equal(m->width, w);
	assert_int_equal(m->height, h);
	assert_int_equal(m->refresh_hz, hz);
	assert_int_equal(m->preferred, pref);
}

/* --- Tests ---------------------------------------------------------------- */

static void test_full_block(void **state)
{
	uint8_t e[EDID_BLOCK_SIZE];
	struct vdf_edid_info info;
	const struct vdf_edid_timing *p = &info.preferred;

	(void)state;
	edid_full(e);
	assert_int_equal(parse_exact(e, sizeof(e), &info), 0);
	assert_string_equal(info.vendor, "VDF");
	assert_int_equal(info.product, 0xabcd);
	assert_int_equal(info.serial, 0x12345678);
	assert_int_equal(info.version, 1);
	assert_int_equal(info.revision, 4);
	assert_string_equal(info.name, "VDF Test");
	/* The preferred timing's size wins over the 30 x 23 cm maximum. */
	assert_int_equal(info.width_mm, 312);
	assert_int_equal(info.height_mm, 234);
	assert_int_equal(info.extensions, 0);

	assert_true(info.has_preferred);
	assert_int_equal(p->pixel_clock_khz, 65000);
	assert_int_equal(p->hactive, 1024);
	assert_int_equal(p->hblank, 320);
	assert_int_equal(p->hsync_offset, 24);
	assert_int_equal(p->hsync_width, 136);
	assert_int_equal(p->vactive, 768);
	assert_int_equal(p->vblank, 38);
	assert_int_equal(p->vsync_offset, 3);
	assert_int_equal(p->vsync_width, 6);
	assert_int_equal(p->width_mm, 312);
	assert_int_equal(p->height_mm, 234);
	assert_int_equal(p->refresh_hz, 60); /* 65e6 / (1344 * 806) = 60.004 */
	assert_false(p->interlaced);

	/* Detailed, standard, established; 800x600@60 and 1024x768@60 only
	 * once, the interlaced 1024x768 not at all. */
	assert_int_equal(info.nmodes, 6);
	assert_mode(&info.modes[0], 1024, 768, 60, true);
	assert_mode(&info.modes[1], 800, 600, 60, false);
	assert_mode(&info.modes[2], 1280, 1024, 75, false);
	assert_mode(&info.modes[3], 1920, 1080, 60, false);
	assert_mode(&info.modes[4], 640, 480, 60, false);
	assert_mode(&info.modes[5], 1152, 870, 75, false);
}

static void test_timing_high_bits(void **state)
{
	/* Every split field at its maximum: 12-bit sizes, 10-bit horizontal
	 * sync, 6-bit vertical sync. */
	static const struct dtd big = {655350, 4095, 4095, 1023, 1023, 4095,
				       4095,   63,   63,   4095, 4095, 0};
	uint8_t e[EDID_BLOCK_SIZE];
	struct vdf_edid_info info;
	const struct vdf_edid_timing *p = &info.preferred;

	(void)state;
	edid_init(e);
	edid_dtd(e, 0, &big);
	edid_checksum(e);
	assert_int_equal(parse_exact(e, sizeof(e), &info), 0);
	assert_true(info.has_preferred);
	assert_int_equal(p->pixel_clock_khz, 655350);
	assert_int_equal(p->hactive, 4095);
	assert_int_equal(p->hblank, 4095);
	assert_int_equal(p->hsync_offset, 1023);
	assert_int_equal(p->hsync_width, 1023);
	assert_int_equal(p->vactive, 4095);
	assert_int_equal(p->vblank, 4095);
	assert_int_equal(p->vsync_offset, 63);
	assert_int_equal(p->vsync_width, 63);
	assert_int_equal(p->width_mm, 4095);
	assert_int_equal(p->height_mm, 4095);
	/* 655.35e6 / 8190^2 = 9.77 */
	assert_int_equal(p->refresh_hz, 10);
	assert_int_equal(info.nmodes, 1);
	assert_mode(&info.modes[0], 4095, 4095, 10, true);
	assert_int_equal(info.width_mm, 4095);
}

static void test_short_buffer(void **state)
{
	uint8_t e[EDID_BLOCK_SIZE];
	struct vdf_edid_info info;

	(void)state;
	edid_full(e);
	for (size_t len = 0; len < EDID_BLOCK_SIZE; len++) {
		memset(&info, 0x5a, sizeof(info));
		assert_int_equal(parse_exact(e, len, &info), -EINVAL);
		/* Cleared on failure too. */
		assert_int_equal(info.nmodes, 0);
		assert_string_equal(info.name, "");
	}
	assert_int_equal(vdf_edid_parse(NULL, EDID_BLOCK_SIZE, &info), -EINVAL);
	assert_int_equal(vdf_edid_parse(e, sizeof(e), NULL), -EINVAL);
	assert_int_equal(parse_exact(e, sizeof(e), &info), 0);
}

static void test_bad_header(void **state)
{
	uint8_t e[EDID_BLOCK_SIZE];
	struct vdf_edid_info info;

	(void)state;
	for (unsigned i = 0; i < EDID_HEADER_LEN; i++) {
		edid_full(e);
		e[i] ^= 0x01;
		edid_checksum(e); /* the header, not the checksum, is wrong */
		assert_int_equal(parse_exact(e, sizeof(e), &info), -EINVAL);
	}
	/* An all-ones read (device gone) is no EDID either. */
	memset(e, 0xff, sizeof(e));
	assert_int_equal(parse_exact(e, sizeof(e), &info), -EINVAL);
}

static void test_bad_checksum(void **state)
{
	uint8_t e[EDID_BLOCK_SIZE];
	struct vdf_edid_info info;

	(void)state;
	edid_full(e);
	e[EDID_CHECKSUM]++;
	assert_int_equal(parse_exact(e, sizeof(e), &info), -EBADMSG);
	assert_int_equal(info.nmodes, 0);
	assert_false(info.has_preferred);
	/* Any byte counts, the name as well as the checksum itself. */
	edid_full(e);
	e[EDID_DESC_OFFSET(2) + EDID_DISP_DATA] = 'W';
	assert_int_equal(parse_exact(e, sizeof(e), &info), -EBADMSG);
	edid_checksum(e);
	assert_int_equal(parse_exact(e, sizeof(e), &info), 0);
	assert_string_equal(info.name, "WDF Test");
}

static void test_unusable_timings(void **state)
{
	/* Nonzero pixel clock (so a DTD) but zero totals. */
	static const struct dtd zero_h = {65000, 0, 0, 0, 0, 768, 38, 3, 6, 300, 200, 0};
	static const struct dtd zero_v = {65000, 1024, 320, 24, 136, 0, 0, 3, 6, 300, 200, 0};
	/* 655.35 MHz over 2 x 2 pixels: a refresh rate past 16 bits. */
	static const struct dtd too_fast = {655350, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0};
	/* 10 kHz over 8190 x 8190: rounds to 0 Hz. */
	static const struct dtd too_slow = {10, 4095, 4095, 0, 0, 4095, 4095, 0, 0, 0, 0, 0};
	uint8_t e[EDID_BLOCK_SIZE];
	struct vdf_edid_info info;

	(void)state;
	edid_init(e);
	e[EDID_MAX_HSIZE_CM] = 52, e[EDID_MAX_VSIZE_CM] = 29;
	edid_dtd(e, 0, &zero_h);
	edid_dtd(e, 1, &zero_v);
	edid_dtd(e, 2, &too_fast);
	edid_dtd(e, 3, &too_slow);
	edid_checksum(e);
	assert_int_equal(parse_exact(e, sizeof(e), &info), 0);
	assert_false(info.has_preferred);
	assert_int_equal(info.nmodes, 0);
	/* No preferred timing: the size comes from the maximum image size. */
	assert_int_equal(info.width_mm, 520);
	assert_int_equal(info.height_mm, 290);

	/* A bad first slot takes the preferred mark with it; later detailed
	 * timings still count. */
	edid_dtd(e, 1, &dtd_800);
	edid_checksum(e);
	assert_int_equal(parse_exact(e, sizeof(e), &info), 0);
	assert_false(info.has_preferred);
	assert_int_equal(info.nmodes, 1);
	assert_mode(&info.modes[0], 800, 600, 60, false);
}

static void test_interlaced_timing(void **state)
{
	/* 1920x1080i: 540 lines per field, 74.25 MHz, 2200 x 562.5 total. */
	static const struct dtd il = {74250, 1920, 280, 88, 44, 540, 22, 2, 5, 0, 0, 0x9e};
	uint8_t e[EDID_BLOCK_SIZE];
	struct vdf_edid_info info;

	(void)state;
	edid_init(e);
	edid_dtd(e, 0, &il);
	/* One of the two sizes zero: an aspect ratio, not a size. */
	e[EDID_MAX_HSIZE_CM] = 79, e[EDID_MAX_VSIZE_CM] = 0;
	edid_checksum(e);
	assert_int_equal(parse_exact(e, sizeof(e), &info), 0);
	assert_true(info.has_preferred);
	assert_true(info.preferred.interlaced);
	assert_int_equal(info.preferred.vactive, 540);
	assert_int_equal(info.preferred.refresh_hz, 60); /* field rate */
	assert_int_equal(info.nmodes, 0);
	assert_int_equal(info.width_mm, 0);
	assert_int_equal(info.height_mm, 0);
}

static void test_name_without_newline(void **state)
{
	uint8_t e[EDID_BLOCK_SIZE];
	struct vdf_edid_info info;

	(void)state;
	edid_init(e);
	edid_raw13(e, 1, EDID_TAG_NAME, "ABCDEFGHIJKLM");
	edid_checksum(e);
	assert_int_equal(parse_exact(e, sizeof(e), &info), 0);
	assert_string_equal(info.name, "ABCDEFGHIJKLM");
	assert_int_equal(info.name[13], '\0');

	/* Spaces and no newline: the padding goes, inner spaces stay. */
	edid_raw13(e, 1, EDID_TAG_NAME, "A B          ");
	edid_checksum(e);
	assert_int_equal(parse_exact(e, sizeof(e), &info), 0);
	assert_string_equal(info.name, "A B");

	/* Only spaces, or a newline first: empty. */
	edid_raw13(e, 1, EDID_TAG_NAME, "             ");
	edid_checksum(e);
	assert_int_equal(parse_exact(e, sizeof(e), &info), 0);
	assert_string_equal(info.name, "");
	edid_raw13(e, 1, EDID_TAG_NAME, "\nHidden text ");
	edid_checksum(e);
	assert_int_equal(parse_exact(e, sizeof(e), &info), 0);
	assert_string_equal(info.name, "");

	/* Spaces before the newline go too; the first name descriptor counts. */
	edid_string(e, 1, EDID_TAG_NAME, "Panel  ");
	edid_string(e, 2, EDID_TAG_NAME, "Second");
	edid_string(e, 3, EDID_TAG_TEXT, "Not a name");
	edid_checksum(e);
	assert_int_equal(parse_exact(e, sizeof(e), &info), 0);
	assert_string_equal(info.name, "Panel");
}

static void test_name_unprintable(void **state)
{
	static const uint8_t raw[13] = {'A', 0x01, 'B',	 0x7f, 0xff, 0x00, 'C',
					'~', ' ',  '\t', '\n', 'x',  'y'};
	uint8_t e[EDID_BLOCK_SIZE];
	struct vdf_edid_info info;

	(void)state;
	edid_init(e);
	edid_desc(e, 0, EDID_TAG_NAME, raw);
	edid_checksum(e);
	assert_int_equal(parse_exact(e, sizeof(e), &info), 0);
	/* Cut at the newline; the tab is not a trailing space. */
	assert_string_equal(info.name, "A?B???C~ ?");
	assert_false(info.has_preferred);
}

static void test_vendor_letters(void **state)
{
	uint8_t e[EDID_BLOCK_SIZE];
	struct vdf_edid_info info;

	(void)state;
	edid_init(e);
	edid_vendor(e, "AZQ");
	edid_checksum(e);
	assert_int_equal(parse_exact(e, sizeof(e), &info), 0);
	assert_string_equal(info.vendor, "AZQ");
	/* 0 and 27..31 are no letters. */
	e[EDID_MFG_ID] = 0x00, e[EDID_MFG_ID + 1] = 0x1b;
	edid_checksum(e);
	assert_int_equal(parse_exact(e, sizeof(e), &info), 0);
	assert_string_equal(info.vendor, "???");
	/* The reserved top bit does not leak into the first letter. */
	edid_vendor(e, "RHT");
	e[EDID_MFG_ID] |= 0x80;
	edid_checksum(e);
	assert_int_equal(parse_exact(e, sizeof(e), &info), 0);
	assert_string_equal(info.vendor, "RHT");
}

static void test_std_timings_unused(void **state)
{
	uint8_t e[EDID_BLOCK_SIZE];
	struct vdf_edid_info info;

	(void)state;
	edid_full(e);
	memset(e + EDID_STD_TIMINGS, EDID_STD_UNUSED, EDID_STD_TIMING_COUNT * EDID_STD_TIMING_SIZE);
	edid_checksum(e);
	assert_int_equal(parse_exact(e, sizeof(e), &info), 0);
	assert_int_equal(info.nmodes, 4);
	assert_mode(&info.modes[0], 1024, 768, 60, true);
	assert_mode(&info.modes[1], 800, 600, 60, false);
	assert_mode(&info.modes[2], 640, 480, 60, false);
	assert_mode(&info.modes[3], 1152, 870, 75, false);

	/* A first byte of 0 is reserved: skipped whatever follows. 01h with
	 * another second byte is a real (256 pixel wide) timing. */
	edid_init(e);
	e[EDID_STD_TIMINGS] = 0x00, e[EDID_STD_TIMINGS + 1] = 0x40;
	e[EDID_STD_TIMINGS + 2] = 0x01, e[EDID_STD_TIMINGS + 3] = 0x40;
	edid_checksum(e);
	assert_int_equal(parse_exact(e, sizeof(e), &info), 0);
	assert_int_equal(info.nmodes, 1);
	assert_mode(&info.modes[0], 256, 192, 60, false);
}

static void test_std_aspect_ratios(void **state)
{
	uint8_t e[EDID_BLOCK_SIZE];
	struct vdf_edid_info info;

	(void)state;
	edid_init(e);
	edid_std(e, 0, 1680, EDID_STD_ASPECT_16_10, 60);
	edid_std(e, 1, 1024, EDID_STD_ASPECT_4_3, 85);
	edid_std(e, 2, 1280, EDID_STD_ASPECT_5_4, 60);
	edid_std(e, 3, 1600, EDID_STD_ASPECT_16_9, 123);
	edid_std(e, 4, 1680, EDID_STD_ASPECT_16_10, 60); /* a duplicate */
	edid_checksum(e);
	assert_int_equal(parse_exact(e, sizeof(e), &info), 0);
	assert_int_equal(info.nmodes, 4);
	assert_mode(&info.modes[0], 1680, 1050, 60, false);
	assert_mode(&info.modes[1], 1024, 768, 85, false);
	assert_mode(&info.modes[2], 1280, 1024, 60, false);
	assert_mode(&info.modes[3], 1600, 900, 123, false);

	/* Before EDID 1.3, 00b meant 1:1. */
	e[EDID_REVISION] = 2;
	edid_checksum(e);
	assert_int_equal(parse_exact(e, sizeof(e), &info), 0);
	assert_mode(&info.modes[0], 1680, 1680, 60, false);
	assert_int_equal(info.revision, 2);
}

static void test_modes_capped(void **state)
{
	/* 1 detailed + 8 standard + 3 x 6 in FAh descriptors + 15 established
	 * (one repeats the detailed timing) = 42 distinct modes, more than fit. */
	struct {
		struct vdf_edid_info info;
		uint8_t canary[64];
	} out;
	uint8_t e[EDID_BLOCK_SIZE];
	uint8_t data[13];
	unsigned hz = 60;

	(void)state;
	edid_init(e);
	edid_dtd(e, 0, &dtd_1024);
	for (unsigned i = 0; i < EDID_STD_TIMING_COUNT; i++)
		edid_std(e, i, 1920, EDID_STD_ASPECT_16_9, hz++);
	for (unsigned slot = 1; slot < EDID_DESC_COUNT; slot++) {
		for (unsigned j = 0; j < 6; j++) {
			data[2 * j] = std_b1(1600);
			data[2 * j + 1] = std_b2(EDID_STD_ASPECT_16_10, hz++);
		}
		data[12] = '\n';
		edid_desc(e, slot, EDID_TAG_STD_TIMINGS, data);
	}
	e[EDID_EST_I] = 0xff, e[EDID_EST_II] = 0xff, e[EDID_EST_MFG] = 0xff;
	edid_checksum(e);
	memset(out.canary, 0xa5, sizeof(out.canary));
	assert_int_equal(parse_exact(e, sizeof(e), &out.info), 0);
	assert_int_equal(out.info.nmodes, VDF_EDID_MODES_MAX);
	for (unsigned i = 0; i < sizeof(out.canary); i++)
		assert_int_equal(out.canary[i], 0xa5);
	/* First come, first kept: the preferred mode, the base block's standard
	 * timings, the descriptors' in order, then established timings until
	 * the array is full. */
	assert_mode(&out.info.modes[0], 1024, 768, 60, true);
	for (unsigned i = 0; i < 8; i++)
		assert_mode(&out.info.modes[1 + i], 1920, 1080, 60 + i, false);
	for (unsigned i = 0; i < 18; i++)
		assert_mode(&out.info.modes[9 + i], 1600, 1000, 68 + i, false);
	assert_mode(&out.info.modes[27], 720, 400, 70, false);
	assert_mode(&out.info.modes[28], 720, 400, 88, false);
	assert_mode(&out.info.modes[29], 640, 480, 60, false);
	assert_mode(&out.info.modes[30], 640, 480, 67, false);
	assert_mode(&out.info.modes[31], 640, 480, 72, false);
}

static void test_extension_block(void **state)
{
	uint8_t e[2 * EDID_BLOCK_SIZE];
	struct vdf_edid_info info;

	(void)state;
	edid_full(e);
	e[EDID_EXTENSION_COUNT] = 1;
	edid_checksum(e);
	/* A CTA-861-looking extension with a bad checksum: not interpreted. */
	memset(e + EDID_BLOCK_SIZE, 0x77, EDID_BLOCK_SIZE);
	e[EDID_BLOCK_SIZE] = 0x02, e[EDID_BLOCK_SIZE + 1] = 0x03;
	assert_int_equal(parse_exact(e, sizeof(e), &info), 0);
	assert_int_equal(info.extensions, 1);
	assert_string_equal(info.name, "VDF Test");
	assert_int_equal(info.nmodes, 6);
	assert_true(info.has_preferred);
	/* Announced but not passed in: still counted, still fine. */
	assert_int_equal(parse_exact(e, EDID_BLOCK_SIZE, &info), 0);
	assert_int_equal(info.extensions, 1);
	assert_int_equal(parse_exact(e, EDID_BLOCK_SIZE + 5, &info), 0);
}

/*
 * What QEMU generates for a display with default settings: vendor RHT,
 * name "QEMU Monitor", a preferred 1280x800 timing at 100 dpi (325 x 203 mm),
 * a range limits and a serial number descriptor, and a 256-byte blob with an
 * extension block. Built here from those facts, with a reduced-blanking
 * timing (71 MHz, 1440 x 823 total) of our own choosing.
 */
static void test_qemu_default_shape(void **state)
{
	static const struct dtd pref = {71000, 1280, 160, 48, 32, 800, 23, 3, 6, 325, 203, 0x1a};
	static const uint8_t range[13] = {50,  125, 30,	 160, 30,  0,  '\n',
					  ' ', ' ', ' ', ' ', ' ', ' '};
	uint8_t e[2 * EDID_BLOCK_SIZE];
	struct vdf_edid_info info;

	(void)state;
	memset(e, 0, sizeof(e));
	edid_init(e);
	edid_vendor(e, "RHT");
	e[EDID_PRODUCT_CODE] = 0x34, e[EDID_PRODUCT_CODE + 1] = 0x12;
	e[EDID_MFG_WEEK] = 42, e[EDID_MFG_YEAR] = 2014 - EDID_MFG_YEAR_BASE;
	e[EDID_VIDEO_INPUT] = EDID_VIDEO_INPUT_DIGITAL;
	e[EDID_MAX_HSIZE_CM] = 33, e[EDID_MAX_VSIZE_CM] = 20;
	e[EDID_FEATURES] = EDID_FEATURE_PREFERRED | EDID_FEATURE_SRGB;
	e[EDID_EST_I] = EDID_EST_I_640X480_60 | EDID_EST_I_800X600_60;
	e[EDID_EST_II] = EDID_EST_II_1024X768_60;
	edid_std(e, 0, 1280, EDID_STD_ASPECT_16_10, 60);
	edid_std(e, 1, 1280, EDID_STD_ASPECT_5_4, 60);
	edid_dtd(e, 0, &pref);
	edid_string(e, 1, EDID_TAG_NAME, "QEMU Monitor");
	edid_desc(e, 2, EDID_TAG_RANGE_LIMITS, range);
	edid_string(e, 3, EDID_TAG_SERIAL, "0");
	e[EDID_EXTENSION_COUNT] = 1;
	edid_checksum(e);
	e[EDID_BLOCK_SIZE] = 0x02, e[EDID_BLOCK_SIZE + 1] = 0x03;

	assert_int_equal(parse_exact(e, sizeof(e), &info), 0);
	assert_string_equal(info.vendor, "RHT");
	assert_string_equal(info.name, "QEMU Monitor");
	assert_int_equal(info.product, 0x1234);
	assert_int_equal(info.serial, 0);
	assert_int_equal(info.version, 1);
	assert_int_equal(info.revision, 4);
	assert_int_equal(info.extensions, 1);
	assert_int_equal(info.width_mm, 325);
	assert_int_equal(info.height_mm, 203);
	assert_true(info.has_preferred);
	assert_int_equal(info.preferred.pixel_clock_khz, 71000);
	assert_int_equal(info.preferred.refresh_hz, 60); /* 71e6 / (1440 * 823) = 59.9 */
	assert_int_equal(info.nmodes, 5);
	/* 1280x800@60 once: as the preferred timing, not again as a standard one. */
	assert_mode(&info.modes[0], 1280, 800, 60, true);
	assert_mode(&info.modes[1], 1280, 1024, 60, false);
	assert_mode(&info.modes[2], 640, 480, 60, false);
	assert_mode(&info.modes[3], 800, 600, 60, false);
	assert_mode(&info.modes[4], 1024, 768, 60, false);
}

static void test_strerror(void **state)
{
	(void)state;
	assert_string_equal(vdf_edid_strerror(0), "valid EDID");
	assert_non_null(strstr(vdf_edid_strerror(-EINVAL), "header"));
	assert_non_null(strstr(vdf_edid_strerror(-EBADMSG), "checksum"));
	assert_string_equal(vdf_edid_strerror(-ENOMEM), "unknown EDID error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full_block),	       cmocka_unit_test(test_timing_high_bits),
	    cmocka_unit_test(test_short_buffer),       cmocka_unit_test(test_bad_header),
	    cmocka_unit_test(test_bad_checksum),       cmocka_unit_test(test_unusable_timings),
	    cmocka_unit_test(test_interlaced_timing),  cmocka_unit_test(test_name_without_newline),
	    cmocka_unit_test(test_name_unprintable),   cmocka_unit_test(test_vendor_letters),
	    cmocka_unit_test(test_std_timings_unused), cmocka_unit_test(test_std_aspect_ratios),
	    cmocka_unit_test(test_modes_capped),       cmocka_unit_test(test_extension_block),
	    cmocka_unit_test(test_qemu_default_shape), cmocka_unit_test(test_strerror),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
