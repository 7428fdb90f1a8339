// SPDX-License-Identifier: MIT
/* The fake display of fake_display.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fake_display.h"

static int fake_set_mode(void *arg, const struct vdf_display_mode *m, char *why, size_t whylen)
{
	struct fake_display *d = arg;

	d->set_calls++;
	if (d->fail_set_mode) {
		snprintf(why, whylen, "told to fail");
		return d->fail_set_mode;
	}
	for (size_t i = 0; i < VDF_ARRAY_SIZE(FAKE_DISPLAY_MODES); i++) {
		const struct vdf_display_mode *o = &FAKE_DISPLAY_MODES[i];

		if (o->width == m->width && o->height == m->height && o->format == m->format &&
		    (!m->refresh_hz || m->refresh_hz == o->refresh_hz)) {
			d->mode = *o;
			d->epoch_ns = vdf_now_ns();
			return 0;
		}
	}
	snprintf(why, whylen, "not a mode of this display");
	return -ENOTSUP;
}

static void fake_get_mode(void *arg, struct vdf_display_mode *m)
{
	const struct fake_display *d = arg;

	*m = d->mode;
}

static int fake_present(void *arg, const void *pixels, uint32_t stride)
{
	struct fake_display *d = arg;

	d->present_calls++;
	if (d->fail_present)
		return d->fail_present;
	d->last_stride = stride;
	memcpy(d->screen, pixels, (size_t)stride * d->mode.height);
	return 0;
}

static int fake_vblank_clock(void *arg, uint64_t *period_ns, uint64_t *epoch_ns)
{
	const struct fake_display *d = arg;

	if (d->fail_vblank)
		return d->fail_vblank;
	if (!d->mode.width)
		return -ENODATA;
	*period_ns = d->period_ns;
	*epoch_ns = d->epoch_ns;
	return 0;
}

static unsigned fake_modes(void *arg, struct vdf_display_mode *out, unsigned max)
{
	unsigned n = 0;

	(void)arg;
	for (; n < max && n < VDF_ARRAY_SIZE(FAKE_DISPLAY_MODES); n++)
		out[n] = FAKE_DISPLAY_MODES[n];
	return n;
}

const struct vdf_display_ops fake_display_ops = {
    .set_mode = fake_set_mode,
    .get_mode = fake_get_mode,
    .present = fake_present,
    .vblank_clock = fake_vblank_clock,
    .modes = fake_modes,
};
