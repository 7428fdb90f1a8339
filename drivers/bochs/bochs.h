/* SPDX-License-Identifier: MIT */
/*
 * bochs-display driver internals: QEMU's PCI `bochs-display` (1234:1111),
 * programmed through the DISPI registers of its MMIO BAR (vdf/hw/bochs.h).
 *
 * Layout of the driver:
 *   bochs_hw.c      bring-up (BARs, DISPI ID, VRAM size, byte order, EDID),
 *                   mode set with read-back, page flip, vblank pacing
 *   bochs_modes.c   mode validation against the device and VRAM, the list of
 *                   supported modes
 *   bochs_driver.c  the vdf_driver glue
 *   main.c          the stand-alone binary vdf-bochs
 *
 * The device has no interrupts and no vblank: wait_vblank sleeps to the next
 * period of the mode's refresh rate, counted from the mode set. Double
 * buffering: VIRT_HEIGHT holds `pages` screens one under the other and
 * Y_OFFSET selects the one shown; drawing goes to the page not shown
 * (bochs_back) and bochs_present flips. A mode whose two pages do not fit in
 * VRAM gets one page (present then has nothing to flip).
 *
 * Threading: one thread drives a device.
 */
#ifndef VDF_DRIVERS_BOCHS_H
#define VDF_DRIVERS_BOCHS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vdf/display.h"
#include "vdf/driver.h"
#include "vdf/edid.h"
#include "vdf/hal.h"
#include "vdf/hw/bochs.h"
#include "vdf/mmio.h"

#define BOCHS_PAGES_MAX	 2u
#define BOCHS_REFRESH_HZ 60u /* without EDID, or for a mode EDID does not list */
#define BOCHS_MODES_MAX	 64u

struct bochs_dev {
	struct vdf_dev *dev;
	char name[64];
	struct vdf_mmio vram; /* BAR0 */
	struct vdf_mmio regs; /* BAR2 */
	uint64_t vram_size;   /* usable bytes: the smaller of BAR0 and DISPI's count */
	uint16_t dispi_id;
	bool has_edid, has_qext;
	struct vdf_edid_info edid;
	uint8_t edid_raw[BOCHS_EDID_MAX];

	/* current mode; width 0 = none set by us */
	struct vdf_display_mode mode;
	uint32_t stride; /* bytes per row */
	unsigned pages;	 /* 1 or 2 */
	unsigned front;	 /* page shown */
	uint64_t period_ns, epoch_ns, vblanks;
	uint64_t presents, mode_sets;
	bool gone; /* the device read all ones */
};

/* Map the BARs, check the DISPI ID, learn VRAM size, select a little-endian
 * framebuffer, read EDID. Adopts a mode the device already shows (a restart
 * finds the previous instance's picture). 0, -ENODEV (not a bochs display or
 * gone), or a HAL error. */
int bochs_init(struct bochs_dev *b, struct vdf_dev *dev) VDF_MUST_CHECK;
void bochs_fini(struct bochs_dev *b);

/*
 * Check a mode against the device: width/height BOCHS_MIN_RES..DISPI_MAX_*,
 * a format the device shows (XRGB8888, RGB565), one page within VRAM.
 * refresh_hz 0 means the default. Returns 0, -EINVAL (size), -ENOTSUP
 * (format) or -ENOSPC (VRAM), with the reason in why (may be NULL).
 */
int bochs_mode_check(const struct bochs_dev *b, const struct vdf_display_mode *m, char *why,
		     size_t whylen) VDF_MUST_CHECK;
/* Supported modes (common sizes and the EDID's, each in both formats) that
 * fit VRAM, largest first; returns the count (at most max). */
unsigned bochs_modes(const struct bochs_dev *b, struct vdf_display_mode *out, unsigned max);

/* Set a mode (checked first; the current mode stays on any error). The new
 * mode's pages are cleared to black. 0 or -errno; why as bochs_mode_check. */
int bochs_set_mode(struct bochs_dev *b, const struct vdf_display_mode *m, char *why,
		   size_t whylen) VDF_MUST_CHECK;
/* Framebuffer of a page (NULL without a mode or for a bad page). */
void *bochs_page(struct bochs_dev *b, unsigned page);
/* The page to draw into: the one not shown (the shown one with one page). */
unsigned bochs_back(const struct bochs_dev *b);
/* Show the back page. 0, -ENODATA (no mode), -ENODEV. */
int bochs_present(struct bochs_dev *b) VDF_MUST_CHECK;
/* Sleep until the next vblank of the mode's refresh rate; *seq = its number
 * since the mode set. 0 or -ENODATA (no mode). */
int bochs_wait_vblank(struct bochs_dev *b, uint64_t *seq) VDF_MUST_CHECK;

extern const struct vdf_driver bochs_driver;
struct bochs_dev *bochs_driver_dev(struct vdf_driver_ctx *ctx);

#endif
