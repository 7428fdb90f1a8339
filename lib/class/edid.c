// SPDX-License-Identifier: MIT
/*
 * EDID base block parsing; see vdf/edid.h. Every offset read is a constant
 * inside the first EDID_BLOCK_SIZE bytes, and len is checked against that
 * size before anything else, so no input can make the parser read further.
 */
#include <errno.h>
#include <string.h>

#include "vdf/edid.h"
#include "vdf/hw/edid.h"

static const uint8_t edid_header[EDID_HEADER_LEN] = {0x00, 0xff, 0xff, 0xff,
						     0xff, 0xff, 0xff, 0x00};

/* Established timings (3.8), in the order the bits are listed: byte, bit,
 * mode. The interlaced 1024x768 87 Hz mode is not listed. */
static const struct {
	uint8_t byte, bit;
	uint16_t width, height, refresh_hz;
} est_modes[] = {
    {EDID_EST_I, EDID_EST_I_720X400_70, 720, 400, 70},
    {EDID_EST_I, EDID_EST_I_720X400_88, 720, 400, 88},
    {EDID_EST_I, EDID_EST_I_640X480_60, 640, 480, 60},
    {EDID_EST_I, EDID_EST_I_640X480_67, 640, 480, 67},
    {EDID_EST_I, EDID_EST_I_640X480_72, 640, 480, 72},
    {EDID_EST_I, EDID_EST_I_640X480_75, 640, 480, 75},
    {EDID_EST_I, EDID_EST_I_800X600_56, 800, 600, 56},
    {EDID_EST_I, EDID_EST_I_800X600_60, 800, 600, 60},
    {EDID_EST_II, EDID_EST_II_800X600_72, 800, 600, 72},
    {EDID_EST_II, EDID_EST_II_800X600_75, 800, 600, 75},
    {EDID_EST_II, EDID_EST_II_832X624_75, 832, 624, 75},
    {EDID_EST_II, EDID_EST_II_1024X768_60, 1024, 768, 60},
    {EDID_EST_II, EDID_EST_II_1024X768_70, 1024, 768, 70},
    {EDID_EST_II, EDID_EST_II_1024X768_75, 1024, 768, 75},
    {EDID_EST_II, EDID_EST_II_1280X1024_75, 1280, 1024, 75},
    {EDID_EST_MFG, EDID_EST_MFG_1152X870_75, 1152, 870, 75},
};

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A 12-bit (or 10-, 6-bit) number: low bits in one byte, the rest in a field
 * of a shared byte. */
static uint16_t split(uint8_t lo, unsigned lo_bits, uint8_t hi_byte, unsigned hi_mask)
{
	return (uint16_t)(lo | FIELD_GET(hi_mask, hi_byte) << lo_bits);
}

static void add_mode(struct vdf_edid_info *info, unsigned w, unsigned h, unsigned hz, bool pref)
{
	struct vdf_edid_mode *m;

	if (!w || !h || !hz || w > UINT16_MAX || h > UINT16_MAX || hz > UINT16_MAX)
		return;
	for (unsigned i = 0; i < info->nmodes; i++) {
		m = &info->modes[i];
		if (m->width == w && m->height == h && m->refresh_hz == hz)
			return;
	}
	if (info->nmodes >= VDF_EDID_MODES_MAX)
		return;
	m = &info->modes[info->nmodes++];
	m->width = (uint16_t)w;
	m->height = (uint16_t)h;
	m->refresh_hz = (uint16_t)hz;
	m->preferred = pref;
}

static void parse_vendor(const uint8_t *e, char vendor[4])
{
	uint16_t id = (uint16_t)(e[EDID_MFG_ID] << 8 | e[EDID_MFG_ID + 1]);
	const unsigned letters[3] = {FIELD_GET(EDID_MFG_ID_LETTER1, id),
				     FIELD_GET(EDID_MFG_ID_LETTER2, id),
				     FIELD_GET(EDID_MFG_ID_LETTER3, id)};

	for (unsigned i = 0; i < 3; i++)
		vendor[i] = letters[i] >= EDID_MFG_LETTER_A && letters[i] <= EDID_MFG_LETTER_Z
				? (char)('A' + letters[i] - EDID_MFG_LETTER_A)
				: '?';
	vendor[3] = '\0';
}

/* A detailed timing descriptor (3.10.2). Returns 0, or -EINVAL for one that
 * describes no usable mode (zero size or totals, absurd refresh rate). */
static int parse_dtd(const uint8_t *d, struct vdf_edid_timing *t)
{
	uint32_t htotal, vtotal, total;
	uint64_t hz;

	memset(t, 0, sizeof(*t));
	t->pixel_clock_khz = (uint32_t)get16(d + EDID_DTD_PIXEL_CLOCK) * EDID_DTD_PIXEL_CLOCK_KHZ;
	t->hactive = split(d[EDID_DTD_HACTIVE_LO], 8, d[EDID_DTD_H_HI], EDID_DTD_HACTIVE_HI);
	t->hblank = split(d[EDID_DTD_HBLANK_LO], 8, d[EDID_DTD_H_HI], EDID_DTD_HBLANK_HI);
	t->vactive = split(d[EDID_DTD_VACTIVE_LO], 8, d[EDID_DTD_V_HI], EDID_DTD_VACTIVE_HI);
	t->vblank = split(d[EDID_DTD_VBLANK_LO], 8, d[EDID_DTD_V_HI], EDID_DTD_VBLANK_HI);
	t->hsync_offset =
	    split(d[EDID_DTD_HSYNC_OFFSET_LO], 8, d[EDID_DTD_SYNC_HI], EDID_DTD_HSYNC_OFFSET_HI);
	t->hsync_width =
	    split(d[EDID_DTD_HSYNC_WIDTH_LO], 8, d[EDID_DTD_SYNC_HI], EDID_DTD_HSYNC_WIDTH_HI);
	t->vsync_offset = split((uint8_t)FIELD_GET(EDID_DTD_VSYNC_OFFSET_LO, d[EDID_DTD_VSYNC_LO]),
				4, d[EDID_DTD_SYNC_HI], EDID_DTD_VSYNC_OFFSET_HI);
	t->vsync_width = split((uint8_t)FIELD_GET(EDID_DTD_VSYNC_WIDTH_LO, d[EDID_DTD_VSYNC_LO]), 4,
			       d[EDID_DTD_SYNC_HI], EDID_DTD_VSYNC_WIDTH_HI);
	t->width_mm =
	    split(d[EDID_DTD_HSIZE_MM_LO], 8, d[EDID_DTD_SIZE_MM_HI], EDID_DTD_HSIZE_MM_HI);
	t->height_mm =
	    split(d[EDID_DTD_VSIZE_MM_LO], 8, d[EDID_DTD_SIZE_MM_HI], EDID_DTD_VSIZE_MM_HI);
	t->interlaced = d[EDID_DTD_FLAGS] & EDID_DTD_FLAG_INTERLACED;

	/* Totals are at most 2 * 4095 each, so the product fits 32 bits; a zero
	 * total would divide by zero. */
	htotal = (uint32_t)t->hactive + t->hblank;
	vtotal = (uint32_t)t->vactive + t->vblank;
	if (!t->pixel_clock_khz || !t->hactive || !t->vactive || !htotal || !vtotal)
		return -EINVAL;
	total = htotal * vtotal;
	hz = ((uint64_t)t->pixel_clock_khz * 1000 + total / 2) / total;
	if (!hz || hz > UINT16_MAX)
		return -EINVAL;
	t->refresh_hz = (uint16_t)hz;
	return 0;
}

/* A standard timing (3.9), from the base block or an FAh descriptor. */
static void parse_std(struct vdf_edid_info *info, const uint8_t *s)
{
	unsigned w, h;

	if (s[0] == 0 || (s[0] == EDID_STD_UNUSED && s[1] == EDID_STD_UNUSED))
		return;
	w = (s[0] + EDID_STD_HACTIVE_OFFSET) * EDID_STD_HACTIVE_UNIT;
	switch (FIELD_GET(EDID_STD_ASPECT_MASK, s[1])) {
	case EDID_STD_ASPECT_16_10:
		/* 1:1 before EDID 1.3 */
		if (info->version < 1 ||
		    (info->version == 1 && info->revision < EDID_STD_ASPECT_16_10_SINCE))
			h = w;
		else
			h = w * 10 / 16;
		break;
	case EDID_STD_ASPECT_4_3:
		h = w * 3 / 4;
		break;
	case EDID_STD_ASPECT_5_4:
		h = w * 4 / 5;
		break;
	default: /* EDID_STD_ASPECT_16_9 */
		h = w * 9 / 16;
		break;
	}
	add_mode(info, w, h, FIELD_GET(EDID_STD_REFRESH_MASK, s[1]) + EDID_STD_REFRESH_OFFSET,
		 false);
}

/* The product name: 13 bytes, ended by a newline and padded with spaces. */
static void parse_name(const uint8_t *data, char name[14])
{
	size_t n = 0;

	while (n < EDID_DISP_DATA_LEN && data[n] != EDID_DISP_STR_END)
		n++;
	while (n > 0 && data[n - 1] == EDID_DISP_STR_PAD)
		n--;
	for (size_t i = 0; i < n; i++)
		name[i] = data[i] >= 0x20 && data[i] <= 0x7e ? (char)data[i] : '?';
	name[n] = '\0';
}

static bool is_dtd(const uint8_t *d)
{
	return get16(d + EDID_DTD_PIXEL_CLOCK) != 0;
}

int vdf_edid_parse(const void *buf, size_t len, struct vdf_edid_info *out)
{
	const uint8_t *e = buf;
	struct vdf_edid_timing t;
	bool have_name = false;
	uint8_t sum = 0;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (!buf || len < EDID_BLOCK_SIZE || memcmp(e + EDID_HEADER, edid_header, EDID_HEADER_LEN))
		return -EINVAL;
	for (unsigned i = 0; i < EDID_BLOCK_SIZE; i++)
		sum = (uint8_t)(sum + e[i]);
	if (sum)
		return -EBADMSG;

	parse_vendor(e, out->vendor);
	out->product = get16(e + EDID_PRODUCT_CODE);
	out->serial = get32(e + EDID_SERIAL);
	out->version = e[EDID_VERSION];
	out->revision = e[EDID_REVISION];
	out->extensions = e[EDID_EXTENSION_COUNT];

	/* Detailed timings first; only the first descriptor can be the
	 * preferred timing (3.10.1). */
	for (unsigned i = 0; i < EDID_DESC_COUNT; i++) {
		const uint8_t *d = e + EDID_DESC_OFFSET(i);

		if (!is_dtd(d) || parse_dtd(d, &t))
			continue;
		if (i == 0) {
			out->preferred = t;
			out->has_preferred = true;
		}
		if (!t.interlaced)
			add_mode(out, t.hactive, t.vactive, t.refresh_hz, i == 0);
	}

	for (unsigned i = 0; i < EDID_STD_TIMING_COUNT; i++)
		parse_std(out, e + EDID_STD_TIMINGS + i * EDID_STD_TIMING_SIZE);

	/* Display descriptors: the name and further standard timings. */
	for (unsigned i = 0; i < EDID_DESC_COUNT; i++) {
		const uint8_t *d = e + EDID_DESC_OFFSET(i);

		if (is_dtd(d))
			continue;
		if (d[EDID_DISP_TAG] == EDID_TAG_NAME && !have_name) {
			parse_name(d + EDID_DISP_DATA, out->name);
			have_name = true;
		} else if (d[EDID_DISP_TAG] == EDID_TAG_STD_TIMINGS) {
			for (unsigned j = 0; j < EDID_DISP_STD_TIMING_COUNT; j++)
				parse_std(out,
					  d + EDID_DISP_STD_TIMINGS + j * EDID_STD_TIMING_SIZE);
		}
	}

	for (unsigned i = 0; i < VDF_ARRAY_SIZE(est_modes); i++)
		if (e[est_modes[i].byte] & est_modes[i].bit)
			add_mode(out, est_modes[i].width, est_modes[i].height,
				 est_modes[i].refresh_hz, false);

	if (out->has_preferred && out->preferred.width_mm && out->preferred.height_mm) {
		out->width_mm = out->preferred.width_mm;
		out->height_mm = out->preferred.height_mm;
	} else if (e[EDID_MAX_HSIZE_CM] && e[EDID_MAX_VSIZE_CM]) {
		/* One of them zero means an aspect ratio, not a size (3.6.2). */
		out->width_mm = (uint16_t)(e[EDID_MAX_HSIZE_CM] * 10u);
		out->height_mm = (uint16_t)(e[EDID_MAX_VSIZE_CM] * 10u);
	}
	return 0;
}

const char *vdf_edid_strerror(int err)
{
	switch (err) {
	case 0:
		return "valid EDID";
	case -EINVAL:
		return "not an EDID (too short or bad header)";
	case -EBADMSG:
		return "EDID checksum mismatch";
	default:
		return "unknown EDID error";
	}
}
