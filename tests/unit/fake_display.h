/* SPDX-License-Identifier: MIT */
/*
 * A fake display for tests of the display server and client: the operations
 * of vdf/dispserver.h over an in-memory screen, a fixed list of modes, a
 * vblank clock of period_ns, and calls that can be told to fail.
 */
#ifndef VDF_TESTS_FAKE_DISPLAY_H
#define VDF_TESTS_FAKE_DISPLAY_H

#include <stdint.h>

#include "vdf/dispserver.h"

/* The modes the fake offers (and the only ones it sets). */
static const struct vdf_display_mode FAKE_DISPLAY_MODES[] = {
    {640, 480, VDF_PIXEL_XRGB8888, 60},
    {320, 240, VDF_PIXEL_XRGB8888, 60},
    {800, 600, VDF_PIXEL_RGB565, 60},
    {1024, 768, VDF_PIXEL_XRGB8888, 60},
};

struct fake_display {
	uint8_t *screen; /* the test's, room for the largest mode */
	struct vdf_display_mode mode;
	uint64_t period_ns, epoch_ns;
	int fail_set_mode, fail_present, fail_vblank; /* nonzero: calls return these */
	unsigned set_calls, present_calls;
	uint32_t last_stride;
};

/* The ops; their arg is a struct fake_display. */
extern const struct vdf_display_ops fake_display_ops;

#endif
