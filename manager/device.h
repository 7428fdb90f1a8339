/* SPDX-License-Identifier: MIT */
/*
 * What the device manager knows about a PCI function, read from sysfs by
 * discovery and used by matching, grants and `vdfctl`.
 */
#ifndef VDF_MANAGER_DEVICE_H
#define VDF_MANAGER_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "vdf/common.h"

enum vdf_bar_kind { VDF_BAR_NONE, VDF_BAR_MEM, VDF_BAR_IO };

struct vdf_pci_info {
	char addr[16]; /* "0000:00:04.0" */
	uint16_t vendor, device;
	uint16_t subsys_vendor, subsys_device;
	uint8_t class_code, subclass, prog_if, revision;
	uint64_t bar_size[6];
	enum vdf_bar_kind bar_kind[6];
	int iommu_group;     /* -1 without an IOMMU */
	char driver[32];     /* bound kernel driver ("vfio-pci", "nvme", "" for none) */
	unsigned msix_count; /* 0 when absent */
	unsigned msi_count;
	bool has_intx;
};

/* 0xCCSSPP */
static inline uint32_t vdf_pci_class24(const struct vdf_pci_info *p)
{
	return (uint32_t)p->class_code << 16 | (uint32_t)p->subclass << 8 | p->prog_if;
}

#endif
