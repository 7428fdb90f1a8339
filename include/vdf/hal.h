/* SPDX-License-Identifier: MIT */
/*
 * Hardware abstraction layer: one PCI function as a driver sees it.
 *
 * A struct vdf_dev is backed by VFIO (the real device, in its own IOMMU domain)
 * or by the mock backend (a register file in memory, for unit tests). Drivers
 * use the same calls on both. Acquiring a device (opening VFIO nodes, or taking
 * fds granted by the device manager) is kept apart from using it.
 *
 * Calling context: a vdf_dev is used by one thread at a time unless a call says
 * otherwise; MMIO accessors may be used from any thread.
 */
#ifndef VDF_HAL_H
#define VDF_HAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vdf/common.h"
#include "vdf/mmio.h"

struct vdf_dev;

enum vdf_region_flags {
	VDF_REGION_READ = BIT(0),
	VDF_REGION_WRITE = BIT(1),
	VDF_REGION_MMAP = BIT(2), /* can be mapped (memory BARs) */
	VDF_REGION_IO = BIT(3),	  /* an I/O-port BAR: use vdf_bar_read/write */
};

struct vdf_region_info {
	uint64_t size; /* 0 when the BAR is not implemented */
	uint32_t flags;
};

enum vdf_irq_kind {
	VDF_IRQ_INTX = 0,
	VDF_IRQ_MSI = 1,
	VDF_IRQ_MSIX = 2,
	VDF_IRQ_ERR = 3, /* device error reporting */
	VDF_IRQ_REQ = 4, /* "please release the device" (hot-unplug request) */
	VDF_IRQ_KIND_COUNT
};

const char *vdf_irq_kind_name(enum vdf_irq_kind kind);

/* Identity of the PCI function (from config space). */
struct vdf_pci_id {
	uint16_t vendor, device;
	uint16_t subsys_vendor, subsys_device;
	uint8_t class_code, subclass, prog_if, revision;
};

/* Stand-alone acquisition: open the VFIO nodes for a PCI address ("0000:00:04.0").
 * Creates a container (IOMMU domain) of its own. Needs root or access to /dev/vfio.
 * Returns 0, -ENOENT (no such device / not bound to vfio-pci), -EBUSY, -EPERM, ... */
int vdf_vfio_open_pci(const char *pci_addr, struct vdf_dev **out) VDF_MUST_CHECK;

/* Granted acquisition: take ownership of fds passed by the device manager (the
 * container already has the group attached and its IOMMU set). group_fd may be -1.
 * Ownership of the fds moves to the device, also on failure. */
int vdf_vfio_from_fds(const char *pci_addr, int container_fd, int group_fd, int device_fd,
		      struct vdf_dev **out) VDF_MUST_CHECK;

/* Release the device: disables IRQs, unmaps BARs, closes fds (which drops every
 * DMA mapping in its IOMMU domain). Free DMA buffers (vdf_dma_free) before this.
 * Accepts NULL. */
void vdf_dev_close(struct vdf_dev *dev);

/* "0000:00:04.0" for VFIO devices, "mock" for mock devices. */
const char *vdf_dev_name(const struct vdf_dev *dev);
int vdf_dev_pci_id(struct vdf_dev *dev, struct vdf_pci_id *id) VDF_MUST_CHECK;

/* Configuration space. Bounded by the region size; partial accesses fail with -EIO. */
int vdf_cfg_read(struct vdf_dev *dev, uint32_t off, void *buf, size_t len) VDF_MUST_CHECK;
int vdf_cfg_write(struct vdf_dev *dev, uint32_t off, const void *buf, size_t len) VDF_MUST_CHECK;
int vdf_cfg_read8(struct vdf_dev *dev, uint32_t off, uint8_t *val) VDF_MUST_CHECK;
int vdf_cfg_read16(struct vdf_dev *dev, uint32_t off, uint16_t *val) VDF_MUST_CHECK;
int vdf_cfg_read32(struct vdf_dev *dev, uint32_t off, uint32_t *val) VDF_MUST_CHECK;
int vdf_cfg_write16(struct vdf_dev *dev, uint32_t off, uint16_t val) VDF_MUST_CHECK;
int vdf_cfg_write32(struct vdf_dev *dev, uint32_t off, uint32_t val) VDF_MUST_CHECK;

/* Turn PCI bus mastering (DMA) on or off. vfio-pci leaves it off. */
int vdf_dev_set_bus_master(struct vdf_dev *dev, bool on) VDF_MUST_CHECK;

/* Function-level (or VFIO-chosen) reset. -ENOTSUP when the device has none. */
int vdf_dev_reset(struct vdf_dev *dev) VDF_MUST_CHECK;

/* BARs */
int vdf_bar_info(struct vdf_dev *dev, unsigned bar, struct vdf_region_info *info) VDF_MUST_CHECK;

/* Map a memory BAR into an MMIO window. The mapping lives until vdf_dev_close.
 * -ENOTSUP for I/O BARs, -ENOENT for unimplemented BARs. */
int vdf_bar_map(struct vdf_dev *dev, unsigned bar, struct vdf_mmio *mmio) VDF_MUST_CHECK;

/* Access an I/O (or any) BAR through the device fd: len is 1, 2 or 4. */
int vdf_bar_read(struct vdf_dev *dev, unsigned bar, uint64_t off, void *buf,
		 size_t len) VDF_MUST_CHECK;
int vdf_bar_write(struct vdf_dev *dev, unsigned bar, uint64_t off, const void *buf,
		  size_t len) VDF_MUST_CHECK;

#endif
