/* SPDX-License-Identifier: MIT */
/*
 * EDID parsing for the display class. The blob comes from the device (the
 * bochs-display MMIO BAR, a monitor's DDC) and is untrusted: the parser reads
 * nothing past the length it is given, rejects blobs without the header or
 * with a bad checksum, and skips timings it cannot make sense of instead of
 * failing. Only the 128-byte base block is interpreted (EDID 1.4, older
 * revisions of version 1 as far as they agree); extension blocks are counted.
 * Constants: vdf/hw/edid.h.
 */
#ifndef VDF_EDID_H
#define VDF_EDID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vdf/common.h"

/* A progressive video mode the display accepts. */
struct vdf_edid_mode {
	uint16_t width, height, refresh_hz;
	bool preferred; /* the preferred detailed timing (only ever modes[0]) */
};

#define VDF_EDID_MODES_MAX 32

/* A detailed timing (pixels and lines; sync offset = front porch). For an
 * interlaced timing the vertical numbers count one field and refresh_hz is
 * the field rate. */
struct vdf_edid_timing {
	uint32_t pixel_clock_khz;
	uint16_t hactive, hblank, hsync_offset, hsync_width;
	uint16_t vactive, vblank, vsync_offset, vsync_width;
	uint16_t width_mm, height_mm; /* image size, 0 if not given */
	uint16_t refresh_hz;	      /* pixel clock / (htotal * vtotal), rounded */
	bool interlaced;
};

struct vdf_edid_info {
	char vendor[4];	  /* three letters A-Z ('?' for an invalid code), NUL */
	uint16_t product; /* manufacturer's product code */
	uint32_t serial;  /* 0 if not used */
	uint8_t version, revision;
	/* The display product name descriptor, cut at its newline, trailing
	 * spaces stripped, bytes other than printable ASCII replaced by '?';
	 * empty if there is none. */
	char name[14];
	/* From the preferred timing's image size if both are nonzero, else from
	 * the maximum image size (cm x 10) if both are nonzero, else 0. */
	uint16_t width_mm, height_mm;
	/*
	 * Progressive modes, at most VDF_EDID_MODES_MAX, each size and refresh
	 * once: detailed timings in descriptor order (the preferred one first),
	 * then standard timings (the 8 of the base block, then those of standard
	 * timing descriptors), then established timings. Interlaced timings and
	 * timings with a zero size are left out; modes past the limit are dropped.
	 */
	unsigned nmodes;
	struct vdf_edid_mode modes[VDF_EDID_MODES_MAX];
	unsigned extensions; /* extension blocks announced (not parsed) */
	/* The preferred timing: the first descriptor, if it is a usable
	 * detailed timing (nonzero pixel clock, active size and totals, a
	 * refresh rate of 1..65535 Hz). */
	struct vdf_edid_timing preferred;
	bool has_preferred;
};

/*
 * Parses the EDID in buf[0..len) into *out, which is cleared first (also on
 * failure). Never reads past len; pure computation, callable from any
 * context.
 * Returns 0; -EINVAL if buf or out is NULL, len < 128 or the header is wrong;
 * -EBADMSG if the base block checksum is wrong.
 */
int vdf_edid_parse(const void *buf, size_t len, struct vdf_edid_info *out) VDF_MUST_CHECK;

/* A short static message for a vdf_edid_parse() return code. */
const char *vdf_edid_strerror(int err);

#endif
