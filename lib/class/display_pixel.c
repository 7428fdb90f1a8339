// SPDX-License-Identifier: MIT
/* Pixel formats and mode strings of the display class (vdf/display.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "vdf/display.h"
#include "vdf/parse.h"

static const struct {
	enum vdf_pixel_format f;
	const char *name;
	unsigned bpp, bytes;
} formats[] = {
    {VDF_PIXEL_XRGB8888, "XRGB8888", 32, 4},
    {VDF_PIXEL_RGB565, "RGB565", 16, 2},
    {VDF_PIXEL_RGB888, "RGB888", 24, 3},
    {VDF_PIXEL_XRGB1555, "XRGB1555", 15, 2},
    {VDF_PIXEL_C8, "C8", 8, 1},
};

unsigned vdf_pixel_bytes(enum vdf_pixel_format f)
{
	for (size_t i = 0; i < VDF_ARRAY_SIZE(formats); i++)
		if (formats[i].f == f)
			return formats[i].bytes;
	return 0;
}

unsigned vdf_pixel_bpp(enum vdf_pixel_format f)
{
	for (size_t i = 0; i < VDF_ARRAY_SIZE(formats); i++)
		if (formats[i].f == f)
			return formats[i].bpp;
	return 0;
}

enum vdf_pixel_format vdf_pixel_from_bpp(unsigned bpp)
{
	for (size_t i = 0; i < VDF_ARRAY_SIZE(formats); i++)
		if (formats[i].bpp == bpp)
			return formats[i].f;
	return VDF_PIXEL_NONE;
}

const char *vdf_pixel_name(enum vdf_pixel_format f)
{
	for (size_t i = 0; i < VDF_ARRAY_SIZE(formats); i++)
		if (formats[i].f == f)
			return formats[i].name;
	return "?";
}

enum vdf_pixel_format vdf_pixel_parse(const char *s)
{
	uint64_t bpp;

	for (size_t i = 0; i < VDF_ARRAY_SIZE(formats); i++)
		if (!strcasecmp(s, formats[i].name))
			return formats[i].f;
	if (!vdf_parse_u64(s, &bpp) && bpp <= 32)
		return vdf_pixel_from_bpp((unsigned)bpp);
	return VDF_PIXEL_NONE;
}

uint32_t vdf_pixel_pack(enum vdf_pixel_format f, uint8_t r, uint8_t g, uint8_t b)
{
	switch (f) {
	case VDF_PIXEL_XRGB8888:
	case VDF_PIXEL_RGB888:
		return (uint32_t)r << 16 | (uint32_t)g << 8 | b;
	case VDF_PIXEL_RGB565:
		return (uint32_t)(r >> 3) << 11 | (uint32_t)(g >> 2) << 5 | (b >> 3);
	case VDF_PIXEL_XRGB1555:
		return (uint32_t)(r >> 3) << 10 | (uint32_t)(g >> 3) << 5 | (b >> 3);
	case VDF_PIXEL_C8: /* 3-3-2 */
		return (uint32_t)(r & 0xe0) | (uint32_t)(g & 0xe0) >> 3 | (b >> 6);
	default:
		return 0;
	}
}

/* A decimal number of at most 5 digits at *p; advances *p. */
static int take_uint(const char **p, uint32_t *out)
{
	uint32_t v = 0;
	int digits = 0;

	while (**p >= '0' && **p <= '9') {
		if (++digits > 5)
			return -EINVAL;
		v = v * 10 + (uint32_t)(**p - '0');
		(*p)++;
	}
	if (!digits)
		return -EINVAL;
	*out = v;
	return 0;
}

int vdf_display_mode_parse(const char *s, struct vdf_display_mode *m)
{
	struct vdf_display_mode r = {.format = VDF_PIXEL_XRGB8888};
	const char *p = s;
	char fmt[16];
	size_t n;

	if (!s || take_uint(&p, &r.width) || (*p != 'x' && *p != 'X'))
		return -EINVAL;
	p++;
	if (take_uint(&p, &r.height))
		return -EINVAL;
	if (*p == 'x' || *p == 'X') {
		p++;
		n = strcspn(p, "@");
		if (!n || n >= sizeof(fmt))
			return -EINVAL;
		memcpy(fmt, p, n);
		fmt[n] = '\0';
		r.format = vdf_pixel_parse(fmt);
		if (r.format == VDF_PIXEL_NONE)
			return -EINVAL;
		p += n;
	}
	if (*p == '@') {
		p++;
		if (take_uint(&p, &r.refresh_hz) || !r.refresh_hz || r.refresh_hz > 1000)
			return -EINVAL;
	}
	if (*p)
		return -EINVAL;
	*m = r;
	return 0;
}

void vdf_display_mode_format(const struct vdf_display_mode *m, char *buf, size_t len)
{
	if (!len)
		return;
	if (m->refresh_hz)
		snprintf(buf, len, "%ux%u %s @%uHz", m->width, m->height, vdf_pixel_name(m->format),
			 m->refresh_hz);
	else
		snprintf(buf, len, "%ux%u %s", m->width, m->height, vdf_pixel_name(m->format));
}
