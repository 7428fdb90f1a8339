// SPDX-License-Identifier: MIT
/* Backend-independent parts of struct vdf_dev: config helpers, BARs, reset. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dev_internal.h"
#include "vdf/hw/pci.h"
#include "vdf/irq.h"
#include "vdf/log.h"

void vdf_dev_init_common(struct vdf_dev *dev, const struct vdf_dev_ops *ops, const char *name,
			 void *backend)
{
	memset(dev, 0, sizeof(*dev));
	dev->ops = ops;
	dev->backend = backend;
	snprintf(dev->name, sizeof(dev->name), "%s", name);
	vdf_rights_all(&dev->rights);
}

void vdf_rights_all(struct vdf_rights *r)
{
	r->bars = GENMASK(PCI_NUM_BARS - 1, 0);
	r->io_bars = GENMASK(PCI_NUM_BARS - 1, 0);
	r->dma_window = UINT64_MAX;
	r->irq_kinds = GENMASK(VDF_IRQ_KIND_COUNT - 1, 0);
	r->irq_max_vectors = VDF_IRQ_MAX_VECTORS;
	r->flags = VDF_RIGHTS_FLAGS_ALL;
}

void vdf_dev_rights(const struct vdf_dev *dev, struct vdf_rights *out)
{
	*out = dev->rights;
}

void vdf_dev_restrict(struct vdf_dev *dev, const struct vdf_rights *r)
{
	dev->rights.bars &= r->bars;
	dev->rights.io_bars &= r->io_bars;
	dev->rights.dma_window = VDF_MIN(dev->rights.dma_window, r->dma_window);
	dev->rights.irq_kinds &= r->irq_kinds;
	dev->rights.irq_max_vectors = VDF_MIN(dev->rights.irq_max_vectors, r->irq_max_vectors);
	dev->rights.flags &= r->flags;
}

void vdf_dev_close(struct vdf_dev *dev)
{
	if (!dev)
		return;
	vdf_irq_release_all(dev);
	dev->ops->close(dev);
}

const char *vdf_dev_name(const struct vdf_dev *dev)
{
	return dev->name;
}

const char *vdf_irq_kind_name(enum vdf_irq_kind kind)
{
	static const char *const names[VDF_IRQ_KIND_COUNT] = {"INTx", "MSI", "MSI-X", "ERR", "REQ"};
	return (unsigned)kind < VDF_IRQ_KIND_COUNT ? names[kind] : "?";
}

int vdf_cfg_read(struct vdf_dev *dev, uint32_t off, void *buf, size_t len)
{
	return dev->ops->cfg_read(dev, off, buf, len);
}

/*
 * Without VDF_RIGHT_CFG_WRITE a driver may only flip the enable bits of PCI
 * COMMAND, and only those its other rights cover: bus mastering needs a DMA
 * window, memory/I-O decoding a granted BAR of that kind.
 */
static int cfg_write_allowed(struct vdf_dev *dev, uint32_t off, const void *buf, size_t len)
{
	const struct vdf_rights *r = &dev->rights;
	uint16_t cmd, want, changed, allowed = 0;
	int rc;

	if (r->flags & VDF_RIGHT_CFG_WRITE)
		return 0;
	if (off != PCI_COMMAND || len != 2)
		return -EACCES;
	rc = dev->ops->cfg_read(dev, PCI_COMMAND, &cmd, sizeof(cmd));
	if (rc)
		return rc;
	memcpy(&want, buf, sizeof(want));
	if (r->dma_window)
		allowed |= PCI_COMMAND_MASTER;
	if (r->bars)
		allowed |= PCI_COMMAND_MEMORY;
	if (r->io_bars)
		allowed |= PCI_COMMAND_IO;
	changed = cmd ^ want;
	return (changed & ~allowed) ? -EACCES : 0;
}

int vdf_cfg_write(struct vdf_dev *dev, uint32_t off, const void *buf, size_t len)
{
	int rc = cfg_write_allowed(dev, off, buf, len);

	if (rc) {
		VDF_LOG_RL(LOG_WARNING, "hal", dev->name,
			   "config write of %zu byte(s) at 0x%x refused: not granted", len, off);
		return rc;
	}
	return dev->ops->cfg_write(dev, off, buf, len);
}

/* PCI config space is little-endian; x86 is too, so the byte image is the value. */
int vdf_cfg_read8(struct vdf_dev *dev, uint32_t off, uint8_t *val)
{
	return vdf_cfg_read(dev, off, val, 1);
}

int vdf_cfg_read16(struct vdf_dev *dev, uint32_t off, uint16_t *val)
{
	return vdf_cfg_read(dev, off, val, 2);
}

int vdf_cfg_read32(struct vdf_dev *dev, uint32_t off, uint32_t *val)
{
	return vdf_cfg_read(dev, off, val, 4);
}

int vdf_cfg_write16(struct vdf_dev *dev, uint32_t off, uint16_t val)
{
	return vdf_cfg_write(dev, off, &val, 2);
}

int vdf_cfg_write32(struct vdf_dev *dev, uint32_t off, uint32_t val)
{
	return vdf_cfg_write(dev, off, &val, 4);
}

int vdf_dev_pci_id(struct vdf_dev *dev, struct vdf_pci_id *id)
{
	uint8_t hdr[0x30];
	int rc;

	rc = vdf_cfg_read(dev, 0, hdr, sizeof(hdr));
	if (rc)
		return rc;
	memset(id, 0, sizeof(*id));
	memcpy(&id->vendor, hdr + PCI_VENDOR_ID, 2);
	memcpy(&id->device, hdr + PCI_DEVICE_ID, 2);
	if (id->vendor == 0xffff)
		return -ENODEV;
	memcpy(&id->subsys_vendor, hdr + PCI_SUBSYSTEM_VENDOR_ID, 2);
	memcpy(&id->subsys_device, hdr + PCI_SUBSYSTEM_ID, 2);
	id->revision = hdr[PCI_REVISION_ID];
	id->prog_if = hdr[PCI_CLASS_PROG];
	id->subclass = hdr[PCI_CLASS_DEVICE];
	id->class_code = hdr[PCI_CLASS_DEVICE + 1];
	return 0;
}

int vdf_dev_set_bus_master(struct vdf_dev *dev, bool on)
{
	uint16_t cmd, want;
	int rc;

	rc = vdf_cfg_read16(dev, PCI_COMMAND, &cmd);
	if (rc)
		return rc;
	if (cmd == 0xffff)
		return -ENODEV;
	want = on ? (cmd | PCI_COMMAND_MASTER | PCI_COMMAND_MEMORY)
		  : (uint16_t)(cmd & ~PCI_COMMAND_MASTER);
	if (want == cmd)
		return 0;
	return vdf_cfg_write16(dev, PCI_COMMAND, want);
}

int vdf_dev_reset(struct vdf_dev *dev)
{
	return dev->ops->reset(dev);
}

int vdf_bar_info(struct vdf_dev *dev, unsigned bar, struct vdf_region_info *info)
{
	if (bar >= PCI_NUM_BARS)
		return -EINVAL;
	return dev->ops->bar_info(dev, bar, info);
}

int vdf_bar_map(struct vdf_dev *dev, unsigned bar, struct vdf_mmio *mmio)
{
	if (bar >= PCI_NUM_BARS)
		return -EINVAL;
	if (!(dev->rights.bars & BIT(bar))) {
		vdf_log(LOG_WARNING, "hal", dev->name, "mapping BAR%u refused: not granted", bar);
		return -EACCES;
	}
	return dev->ops->bar_map(dev, bar, mmio);
}

static int bar_rw(struct vdf_dev *dev, unsigned bar, uint64_t off, void *buf, size_t len, int write)
{
	if (bar >= PCI_NUM_BARS)
		return -EINVAL;
	if ((len != 1 && len != 2 && len != 4) || (off & (len - 1)))
		return -EINVAL;
	if (!((dev->rights.bars | dev->rights.io_bars) & BIT(bar))) {
		VDF_LOG_RL(LOG_WARNING, "hal", dev->name, "access to BAR%u refused: not granted",
			   bar);
		return -EACCES;
	}
	return dev->ops->bar_rw(dev, bar, off, buf, len, write);
}

int vdf_bar_read(struct vdf_dev *dev, unsigned bar, uint64_t off, void *buf, size_t len)
{
	return bar_rw(dev, bar, off, buf, len, 0);
}

int vdf_bar_write(struct vdf_dev *dev, unsigned bar, uint64_t off, const void *buf, size_t len)
{
	return bar_rw(dev, bar, off, (void *)buf, len, 1);
}
