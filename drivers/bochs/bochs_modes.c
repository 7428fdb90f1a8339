// SPDX-License-Identifier: MIT
/* bochs-display: which modes the device can show, and the supported list. */
#include <errno.h>
#include <stdio.h>

#include "bochs.h"

/* Sizes offered besides the EDID's. */
static const struct {
	uint16_t w, h;
} common_sizes[] = {
    {640, 480},	 {800, 600},   {1024, 768},  {1280, 720},  {1280, 800},	 {1280, 1024}, {1440, 900},
    {1600, 900}, {1600, 1200}, {1920, 1080}, {1920, 1200}, {2560, 1440}, {2560, 1600}, {3840, 2160},
};

/* The formats bochs-display shows (QEMU: 16 and 32 bits per pixel). */
static const enum vdf_pixel_format shown_formats[] = {VDF_PIXEL_XRGB8888, VDF_PIXEL_RGB565};

static bool format_shown(enum vdf_pixel_format f)
{
	for (size_t i = 0; i < VDF_ARRAY_SIZE(shown_formats); i++)
		if (shown_formats[i] == f)
			return true;
	return false;
}

int bochs_mode_check(const struct bochs_dev *b, const struct vdf_display_mode *m, char *why,
		     size_t whylen)
{
	uint64_t bytes;

	if (!m->width || !m->height) {
		if (why)
			snprintf(why, whylen, "zero size %ux%u", m->width, m->height);
		return -EINVAL;
	}
	if (m->width < BOCHS_MIN_RES || m->height < BOCHS_MIN_RES || m->width > DISPI_MAX_XRES ||
	    m->height > DISPI_MAX_YRES) {
		if (why)
			snprintf(why, whylen, "%ux%u is outside %ux%u..%ux%u", m->width, m->height,
				 BOCHS_MIN_RES, BOCHS_MIN_RES, DISPI_MAX_XRES, DISPI_MAX_YRES);
		return -EINVAL;
	}
	if (!format_shown(m->format)) {
		if (why)
			snprintf(why, whylen,
				 "pixel format %s (%u bpp) is not supported (XRGB8888, "
				 "RGB565)",
				 vdf_pixel_name(m->format), vdf_pixel_bpp(m->format));
		return -ENOTSUP;
	}
	if (m->refresh_hz > 1000) {
		if (why)
			snprintf(why, whylen, "refresh rate %u Hz is above 1000", m->refresh_hz);
		return -EINVAL;
	}
	bytes = (uint64_t)m->width * m->height * vdf_pixel_bytes(m->format);
	if (bytes > b->vram_size) {
		if (why)
			snprintf(why, whylen, "%ux%u %s needs %llu KiB, VRAM has %llu KiB",
				 m->width, m->height, vdf_pixel_name(m->format),
				 (unsigned long long)(bytes >> 10),
				 (unsigned long long)(b->vram_size >> 10));
		return -ENOSPC;
	}
	return 0;
}

static bool listed(const struct vdf_display_mode *out, unsigned n, uint32_t w, uint32_t h,
		   enum vdf_pixel_format f)
{
	for (unsigned i = 0; i < n; i++)
		if (out[i].width == w && out[i].height == h && out[i].format == f)
			return true;
	return false;
}

static void add(const struct bochs_dev *b, struct vdf_display_mode *out, unsigned *n, unsigned max,
		uint32_t w, uint32_t h, uint32_t hz)
{
	for (size_t i = 0; i < VDF_ARRAY_SIZE(shown_formats); i++) {
		struct vdf_display_mode m = {w, h, shown_formats[i], hz ? hz : BOCHS_REFRESH_HZ};

		if (*n < max && !listed(out, *n, w, h, m.format) &&
		    !bochs_mode_check(b, &m, NULL, 0))
			out[(*n)++] = m;
	}
}

unsigned bochs_modes(const struct bochs_dev *b, struct vdf_display_mode *out, unsigned max)
{
	unsigned n = 0;

	if (b->has_edid)
		for (unsigned i = 0; i < b->edid.nmodes; i++)
			add(b, out, &n, max, b->edid.modes[i].width, b->edid.modes[i].height,
			    b->edid.modes[i].refresh_hz);
	for (size_t i = 0; i < VDF_ARRAY_SIZE(common_sizes); i++)
		add(b, out, &n, max, common_sizes[i].w, common_sizes[i].h, 0);
	/* largest first, XRGB8888 before RGB565 at equal size (insertion sort: few modes) */
	for (unsigned i = 1; i < n; i++) {
		struct vdf_display_mode m = out[i];
		uint64_t px = (uint64_t)m.width * m.height;
		unsigned j = i;

		while (j > 0) {
			uint64_t pj = (uint64_t)out[j - 1].width * out[j - 1].height;

			if (pj > px || (pj == px && out[j - 1].format <= m.format))
				break;
			out[j] = out[j - 1];
			j--;
		}
		out[j] = m;
	}
	return n;
}
