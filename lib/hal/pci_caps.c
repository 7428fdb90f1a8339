// SPDX-License-Identifier: MIT
/* Capability-list walking over untrusted config space; see vdf/pci.h. */
#include <errno.h>
#include <string.h>

#include "vdf/hal.h"
#include "vdf/hw/pci.h"
#include "vdf/pci.h"

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int add_cap(struct vdf_pci_caps *caps, uint16_t id, uint16_t off, uint8_t ver, int ext)
{
	struct vdf_pci_cap *c;

	if (caps->count >= VDF_PCI_MAX_CAPS)
		return -E2BIG;
	c = &caps->caps[caps->count++];
	c->id = id;
	c->offset = off;
	c->version = ver;
	c->extended = (uint8_t)ext;
	return 0;
}

/* Standard list: pointers are dword-aligned, in [0x40, 0xff]; each visited once. */
static int walk_std(const uint8_t *cfg, struct vdf_pci_caps *caps)
{
	uint8_t seen[PCI_CFG_SPACE_SIZE / 4] = {0};
	unsigned ptr;

	if (!(get16(cfg + PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	ptr = cfg[PCI_CAPABILITY_LIST] & PCI_CAP_PTR_MASK;
	while (ptr) {
		if (ptr < PCI_CAP_MIN_PTR) /* masked, so ptr + 2 always fits */
			return -EINVAL;
		if (seen[ptr / 4]++)
			return -ELOOP;
		if (cfg[ptr + PCI_CAP_ID] == 0xff) /* reads of a missing device */
			return -EINVAL;
		if (add_cap(caps, cfg[ptr + PCI_CAP_ID], (uint16_t)ptr, 0, 0))
			return -E2BIG;
		ptr = cfg[ptr + PCI_CAP_NEXT] & PCI_CAP_PTR_MASK;
	}
	return 0;
}

/* Extended list: starts at 0x100, pointers dword-aligned in [0x100, 0xffc]. */
static int walk_ext(const uint8_t *cfg, size_t len, struct vdf_pci_caps *caps)
{
	uint8_t seen[PCI_CFG_SPACE_EXP_SIZE / 4] = {0};
	unsigned ptr = PCI_EXT_CAP_START;
	uint32_t hdr;

	if (len < PCI_CFG_SPACE_EXP_SIZE)
		return 0;
	hdr = get32(cfg + ptr);
	if (hdr == 0 || hdr == 0xffffffff) /* no extended capabilities / conventional PCI */
		return 0;
	while (ptr) {
		if (ptr < PCI_EXT_CAP_START || ptr + 4 > PCI_CFG_SPACE_EXP_SIZE || (ptr & 3))
			return -EINVAL;
		if (seen[ptr / 4]++)
			return -ELOOP;
		hdr = get32(cfg + ptr);
		if (hdr == 0xffffffff)
			return -EINVAL;
		if (add_cap(caps, (uint16_t)FIELD_GET(PCI_EXT_CAP_ID_MASK, hdr), (uint16_t)ptr,
			    (uint8_t)FIELD_GET(PCI_EXT_CAP_VER_MASK, hdr), 1))
			return -E2BIG;
		ptr = FIELD_GET(PCI_EXT_CAP_NEXT_MASK, hdr);
	}
	return 0;
}

void vdf_pci_parse_caps(const uint8_t *cfg, size_t len, struct vdf_pci_caps *caps)
{
	memset(caps, 0, sizeof(*caps));
	if (len < PCI_CFG_SPACE_SIZE) {
		caps->std_error = -EINVAL;
		return;
	}
	caps->std_error = walk_std(cfg, caps);
	caps->ext_error = walk_ext(cfg, len, caps);
}

int vdf_pci_read_caps(struct vdf_dev *dev, struct vdf_pci_caps *caps)
{
	static uint8_t zero_ext[PCI_CFG_SPACE_EXP_SIZE - PCI_CFG_SPACE_SIZE];
	uint8_t cfg[PCI_CFG_SPACE_EXP_SIZE];
	size_t len = sizeof(cfg);
	int rc;

	rc = vdf_cfg_read(dev, 0, cfg, PCI_CFG_SPACE_SIZE);
	if (rc)
		return rc;
	/* Conventional PCI devices (or a short region) have no extended space. */
	if (vdf_cfg_read(dev, PCI_CFG_SPACE_SIZE, cfg + PCI_CFG_SPACE_SIZE,
			 sizeof(cfg) - PCI_CFG_SPACE_SIZE))
		memcpy(cfg + PCI_CFG_SPACE_SIZE, zero_ext, sizeof(zero_ext));
	if (get16(cfg + PCI_VENDOR_ID) == 0xffff)
		return -ENODEV;
	vdf_pci_parse_caps(cfg, len, caps);
	return 0;
}

int vdf_pci_find_cap(const struct vdf_pci_caps *caps, uint16_t id, int extended)
{
	for (unsigned i = 0; i < caps->count; i++)
		if (caps->caps[i].id == id && caps->caps[i].extended == !!extended)
			return caps->caps[i].offset;
	return -ENOENT;
}

const char *vdf_pci_cap_name(uint16_t id, int extended)
{
	if (extended) {
		switch (id) {
		case PCI_EXT_CAP_ID_AER:
			return "AER";
		case PCI_EXT_CAP_ID_DSN:
			return "serial number";
		case PCI_EXT_CAP_ID_SRIOV:
			return "SR-IOV";
		default:
			return "extended";
		}
	}
	switch (id) {
	case PCI_CAP_ID_PM:
		return "power management";
	case PCI_CAP_ID_MSI:
		return "MSI";
	case PCI_CAP_ID_VNDR:
		return "vendor";
	case PCI_CAP_ID_EXP:
		return "PCI Express";
	case PCI_CAP_ID_MSIX:
		return "MSI-X";
	default:
		return "other";
	}
}
