// SPDX-License-Identifier: MIT
/*
 * VFIO backend: a PCI function bound to vfio-pci, in a container (IOMMU
 * domain) of its own. Follows include/uapi/linux/vfio.h (type1v2 IOMMU).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dev_internal.h"
#include "iova.h"
#include "vdf/hw/pci.h"
#include "vdf/log.h"

/* IOVAs handed out from 4 GiB up to 2^39 (the emulated VT-d's default width),
 * clear of the x86 MSI window at 0xfee00000. */
#define VFIO_IOVA_BASE	0x100000000ull
#define VFIO_IOVA_LIMIT (1ull << 39)

#define VFIO_NUM_REGIONS (VFIO_PCI_CONFIG_REGION_INDEX + 1)

struct vfio_region {
	uint64_t offset, size;
	uint32_t flags;
	void *map;
};

struct vfio_dev {
	struct vdf_dev dev;
	int container_fd, group_fd, device_fd;
	uint32_t device_flags;
	struct vfio_region regions[VFIO_NUM_REGIONS];
	struct vdf_iova_space iova;
};

static struct vfio_dev *to_vfio(struct vdf_dev *dev)
{
	return dev->backend;
}

static int vfio_region_rw(struct vfio_dev *v, unsigned idx, uint64_t off, void *buf, size_t len,
			  int write)
{
	struct vfio_region *r = &v->regions[idx];
	ssize_t n;

	if (off > r->size || len > r->size - off)
		return -ERANGE;
	if (write)
		n = pwrite(v->device_fd, buf, len, (off_t)(r->offset + off));
	else
		n = pread(v->device_fd, buf, len, (off_t)(r->offset + off));
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

static int vfio_cfg_read(struct vdf_dev *dev, uint32_t off, void *buf, size_t len)
{
	return vfio_region_rw(to_vfio(dev), VFIO_PCI_CONFIG_REGION_INDEX, off, buf, len, 0);
}

static int vfio_cfg_write(struct vdf_dev *dev, uint32_t off, const void *buf, size_t len)
{
	return vfio_region_rw(to_vfio(dev), VFIO_PCI_CONFIG_REGION_INDEX, off, (void *)buf, len, 1);
}

static int vfio_bar_info(struct vdf_dev *dev, unsigned bar, struct vdf_region_info *info)
{
	struct vfio_region *r = &to_vfio(dev)->regions[bar];

	info->size = r->size;
	info->flags = 0;
	if (r->flags & VFIO_REGION_INFO_FLAG_READ)
		info->flags |= VDF_REGION_READ;
	if (r->flags & VFIO_REGION_INFO_FLAG_WRITE)
		info->flags |= VDF_REGION_WRITE;
	if (r->flags & VFIO_REGION_INFO_FLAG_MMAP)
		info->flags |= VDF_REGION_MMAP;
	else if (r->size)
		info->flags |= VDF_REGION_IO;
	return 0;
}

static int vfio_bar_map(struct vdf_dev *dev, unsigned bar, struct vdf_mmio *mmio)
{
	struct vfio_dev *v = to_vfio(dev);
	struct vfio_region *r = &v->regions[bar];

	if (!r->size)
		return -ENOENT;
	if (!(r->flags & VFIO_REGION_INFO_FLAG_MMAP))
		return -ENOTSUP;
	if (!r->map) {
		void *p = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_SHARED, v->device_fd,
			       (off_t)r->offset);
		if (p == MAP_FAILED) {
			int err = -errno;

			vdf_log(LOG_ERR, "vfio", dev->name,
				"mmap of BAR%u (0x%" PRIx64 " bytes): %s", bar, r->size,
				strerror(-err));
			return err;
		}
		r->map = p;
	}
	memset(mmio, 0, sizeof(*mmio));
	mmio->base = r->map;
	mmio->len = r->size;
	mmio->name = dev->name;
	return 0;
}

static int vfio_bar_rw(struct vdf_dev *dev, unsigned bar, uint64_t off, void *buf, size_t len,
		       int write)
{
	return vfio_region_rw(to_vfio(dev), bar, off, buf, len, write);
}

static int vfio_dma_map(struct vdf_dev *dev, void *va, size_t size, vdf_iova_t *iova)
{
	struct vfio_dev *v = to_vfio(dev);
	struct vfio_iommu_type1_dma_map map = {
	    .argsz = sizeof(map),
	    .flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
	    .vaddr = (uintptr_t)va,
	    .size = size,
	};
	int rc;

	rc = vdf_iova_alloc(&v->iova, size, iova);
	if (rc)
		return rc;
	map.iova = *iova;
	if (ioctl(v->container_fd, VFIO_IOMMU_MAP_DMA, &map) < 0) {
		rc = -errno;
		vdf_log(LOG_ERR, "vfio", dev->name, "VFIO_IOMMU_MAP_DMA of %zu bytes: %s%s", size,
			strerror(-rc), rc == -ENOMEM ? " (RLIMIT_MEMLOCK too low?)" : "");
		if (vdf_iova_free(&v->iova, *iova, size))
			vdf_log(LOG_ERR, "vfio", dev->name, "IOVA allocator inconsistent");
		return rc;
	}
	return 0;
}

static int vfio_dma_unmap(struct vdf_dev *dev, vdf_iova_t iova, size_t size)
{
	struct vfio_dev *v = to_vfio(dev);
	struct vfio_iommu_type1_dma_unmap unmap = {
	    .argsz = sizeof(unmap),
	    .iova = iova,
	    .size = size,
	};

	if (ioctl(v->container_fd, VFIO_IOMMU_UNMAP_DMA, &unmap) < 0)
		return -errno;
	return vdf_iova_free(&v->iova, iova, size);
}

static const unsigned irq_index[VDF_IRQ_KIND_COUNT] = {
    [VDF_IRQ_INTX] = VFIO_PCI_INTX_IRQ_INDEX, [VDF_IRQ_MSI] = VFIO_PCI_MSI_IRQ_INDEX,
    [VDF_IRQ_MSIX] = VFIO_PCI_MSIX_IRQ_INDEX, [VDF_IRQ_ERR] = VFIO_PCI_ERR_IRQ_INDEX,
    [VDF_IRQ_REQ] = VFIO_PCI_REQ_IRQ_INDEX,
};

static int vfio_irq_count(struct vdf_dev *dev, enum vdf_irq_kind kind, unsigned *count)
{
	struct vfio_irq_info info = {.argsz = sizeof(info), .index = irq_index[kind]};

	if (ioctl(to_vfio(dev)->device_fd, VFIO_DEVICE_GET_IRQ_INFO, &info) < 0)
		return -errno;
	*count = info.count;
	return 0;
}

static int vfio_irq_set(struct vdf_dev *dev, enum vdf_irq_kind kind, const int *fds, unsigned n)
{
	size_t sz = sizeof(struct vfio_irq_set) + n * sizeof(int32_t);
	struct vfio_irq_set *set = calloc(1, sz);
	int rc = 0;

	if (!set)
		return -ENOMEM;
	set->argsz = (uint32_t)sz;
	set->index = irq_index[kind];
	set->start = 0;
	set->count = n;
	set->flags =
	    VFIO_IRQ_SET_ACTION_TRIGGER | (n ? VFIO_IRQ_SET_DATA_EVENTFD : VFIO_IRQ_SET_DATA_NONE);
	for (unsigned i = 0; i < n; i++)
		memcpy(set->data + i * sizeof(int32_t), &fds[i], sizeof(int32_t));
	if (ioctl(to_vfio(dev)->device_fd, VFIO_DEVICE_SET_IRQS, set) < 0)
		rc = -errno;
	free(set);
	return rc;
}

static int vfio_irq_mask(struct vdf_dev *dev, enum vdf_irq_kind kind, unsigned vector, int mask)
{
	struct vfio_irq_set set = {
	    .argsz = sizeof(set),
	    .flags = VFIO_IRQ_SET_DATA_NONE |
		     (mask ? VFIO_IRQ_SET_ACTION_MASK : VFIO_IRQ_SET_ACTION_UNMASK),
	    .index = irq_index[kind],
	    .start = vector,
	    .count = 1,
	};

	if (ioctl(to_vfio(dev)->device_fd, VFIO_DEVICE_SET_IRQS, &set) < 0)
		return -errno;
	return 0;
}

static int vfio_reset(struct vdf_dev *dev)
{
	struct vfio_dev *v = to_vfio(dev);

	if (!(v->device_flags & VFIO_DEVICE_FLAGS_RESET))
		return -ENOTSUP;
	if (ioctl(v->device_fd, VFIO_DEVICE_RESET) < 0)
		return -errno;
	return 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void vfio_close(struct vdf_dev *dev)
{
	struct vfio_dev *v = to_vfio(dev);

	for (unsigned i = 0; i < VFIO_NUM_REGIONS; i++)
		if (v->regions[i].map)
			munmap(v->regions[i].map, v->regions[i].size);
	close_fd(&v->device_fd);
	close_fd(&v->group_fd);
	close_fd(&v->container_fd);
	vdf_iova_space_fini(&v->iova);
	free(v);
}

static const struct vdf_dev_ops vfio_ops = {
    .cfg_read = vfio_cfg_read,
    .cfg_write = vfio_cfg_write,
    .bar_info = vfio_bar_info,
    .bar_map = vfio_bar_map,
    .bar_rw = vfio_bar_rw,
    .dma_map = vfio_dma_map,
    .dma_unmap = vfio_dma_unmap,
    .irq_count = vfio_irq_count,
    .irq_set = vfio_irq_set,
    .irq_mask = vfio_irq_mask,
    .reset = vfio_reset,
    .close = vfio_close,
};

static int vfio_query_regions(struct vfio_dev *v)
{
	struct vfio_device_info info = {.argsz = sizeof(info)};

	if (ioctl(v->device_fd, VFIO_DEVICE_GET_INFO, &info) < 0)
		return -errno;
	if (!(info.flags & VFIO_DEVICE_FLAGS_PCI))
		return -ENOTSUP;
	v->device_flags = info.flags;
	for (unsigned i = 0; i < VFIO_NUM_REGIONS && i < info.num_regions; i++) {
		struct vfio_region_info ri = {.argsz = sizeof(ri), .index = i};

		if (ioctl(v->device_fd, VFIO_DEVICE_GET_REGION_INFO, &ri) < 0) {
			if (errno == EINVAL) /* index not implemented (e.g. no VGA region) */
				continue;
			return -errno;
		}
		v->regions[i].offset = ri.offset;
		v->regions[i].size = ri.size;
		v->regions[i].flags = ri.flags;
	}
	if (!v->regions[VFIO_PCI_CONFIG_REGION_INDEX].size)
		return -EIO;
	return 0;
}

int vdf_vfio_from_fds(const char *pci_addr, int container_fd, int group_fd, int device_fd,
		      struct vdf_dev **out)
{
	struct vfio_dev *v;
	int rc;

	v = calloc(1, sizeof(*v));
	if (!v) {
		close_fd(&container_fd);
		close_fd(&group_fd);
		close_fd(&device_fd);
		return -ENOMEM;
	}
	vdf_dev_init_common(&v->dev, &vfio_ops, pci_addr, v);
	v->container_fd = container_fd;
	v->group_fd = group_fd;
	v->device_fd = device_fd;
	rc = vdf_iova_space_init(&v->iova, VFIO_IOVA_BASE, VFIO_IOVA_LIMIT - VFIO_IOVA_BASE);
	if (rc)
		goto out_close;
	rc = vfio_query_regions(v);
	if (rc) {
		vdf_log(LOG_ERR, "vfio", pci_addr, "querying device regions: %s", strerror(-rc));
		goto out_close;
	}
	*out = &v->dev;
	return 0;

out_close:
	vfio_close(&v->dev);
	return rc;
}

static int vfio_group_of(const char *pci_addr, int *group)
{
	char path[PATH_MAX], link[PATH_MAX];
	const char *base;
	ssize_t n;

	/* Reject anything that is not a plain PCI address before building paths. */
	if (strlen(pci_addr) != 12 || strspn(pci_addr, "0123456789abcdefABCDEF:.") != 12)
		return -EINVAL;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", pci_addr);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return errno == ENOENT ? -ENOENT : -errno;
	link[n] = '\0';
	base = strrchr(link, '/');
	*group = atoi(base ? base + 1 : link);
	return 0;
}

int vdf_vfio_open_pci(const char *pci_addr, struct vdf_dev **out)
{
	struct vfio_group_status status = {.argsz = sizeof(status)};
	int container = -1, group = -1, device = -1, group_no, rc;
	char path[64];

	rc = vfio_group_of(pci_addr, &group_no);
	if (rc) {
		vdf_log(LOG_ERR, "vfio", pci_addr, "no IOMMU group (%s): is the IOMMU on?",
			strerror(-rc));
		return rc;
	}
	container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (container < 0) {
		rc = -errno;
		vdf_log(LOG_ERR, "vfio", pci_addr, "open /dev/vfio/vfio: %s", strerror(-rc));
		return rc;
	}
	if (ioctl(container, VFIO_GET_API_VERSION) != VFIO_API_VERSION ||
	    !ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU)) {
		vdf_log(LOG_ERR, "vfio", pci_addr, "VFIO type1v2 IOMMU not supported");
		rc = -ENOTSUP;
		goto out_close;
	}
	snprintf(path, sizeof(path), "/dev/vfio/%d", group_no);
	group = open(path, O_RDWR | O_CLOEXEC);
	if (group < 0) {
		rc = -errno;
		vdf_log(LOG_ERR, "vfio", pci_addr, "open %s: %s (bound to vfio-pci?)", path,
			strerror(-rc));
		goto out_close;
	}
	if (ioctl(group, VFIO_GROUP_GET_STATUS, &status) < 0) {
		rc = -errno;
		goto out_close;
	}
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		vdf_log(LOG_ERR, "vfio", pci_addr,
			"IOMMU group %d not viable: bind every device in it to vfio-pci", group_no);
		rc = -EBUSY;
		goto out_close;
	}
	if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) < 0 ||
	    ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0) {
		rc = -errno;
		vdf_log(LOG_ERR, "vfio", pci_addr, "attaching group %d to a container: %s",
			group_no, strerror(-rc));
		goto out_close;
	}
	device = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, pci_addr);
	if (device < 0) {
		rc = -errno;
		vdf_log(LOG_ERR, "vfio", pci_addr, "VFIO_GROUP_GET_DEVICE_FD: %s", strerror(-rc));
		goto out_close;
	}
	return vdf_vfio_from_fds(pci_addr, container, group, device, out);

out_close:
	close_fd(&group);
	close_fd(&container);
	return rc;
}
