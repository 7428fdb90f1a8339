/* SPDX-License-Identifier: MIT */
/*
 * PCI capability lists. Config space comes from the device and is untrusted:
 * the walkers stop at loops, pointers into the header or past the end, and a
 * bounded number of entries, and report -ELOOP / -EINVAL instead of spinning.
 */
#ifndef VDF_PCI_H
#define VDF_PCI_H

#include <stddef.h>
#include <stdint.h>

#include "vdf/common.h"

struct vdf_dev;

struct vdf_pci_cap {
	uint16_t id;
	uint16_t offset;
	uint8_t version; /* extended capabilities only */
	uint8_t extended;
};

#define VDF_PCI_MAX_CAPS 64

struct vdf_pci_caps {
	struct vdf_pci_cap caps[VDF_PCI_MAX_CAPS];
	unsigned count;
	int std_error; /* 0, or why the standard list walk stopped early
			* (-ELOOP, -EINVAL, -E2BIG when more than VDF_PCI_MAX_CAPS) */
	int ext_error; /* same for the extended list */
};

/*
 * Walk both capability lists of a config-space image of `len` bytes (256 or
 * 4096). Never fails as a whole: what could be read is in `caps`, and a
 * malformed list is reported in std_error/ext_error.
 */
void vdf_pci_parse_caps(const uint8_t *cfg, size_t len, struct vdf_pci_caps *caps);

/* Read config space through the HAL and parse it. */
int vdf_pci_read_caps(struct vdf_dev *dev, struct vdf_pci_caps *caps) VDF_MUST_CHECK;

/* Offset of the first capability with this ID; -ENOENT if absent. */
int vdf_pci_find_cap(const struct vdf_pci_caps *caps, uint16_t id, int extended);

const char *vdf_pci_cap_name(uint16_t id, int extended);

#endif
