/* SPDX-License-Identifier: MIT */
/* The backend interface behind struct vdf_dev: VFIO and mock implement it. */
#ifndef VDF_LIB_HAL_DEV_INTERNAL_H
#define VDF_LIB_HAL_DEV_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "vdf/dma.h"
#include "vdf/grant.h"
#include "vdf/hal.h"
#include "vdf/mmio.h"

struct vdf_dev_ops {
	int (*cfg_read)(struct vdf_dev *dev, uint32_t off, void *buf, size_t len);
	int (*cfg_write)(struct vdf_dev *dev, uint32_t off, const void *buf, size_t len);
	int (*bar_info)(struct vdf_dev *dev, unsigned bar, struct vdf_region_info *info);
	int (*bar_map)(struct vdf_dev *dev, unsigned bar, struct vdf_mmio *mmio);
	int (*bar_rw)(struct vdf_dev *dev, unsigned bar, uint64_t off, void *buf, size_t len,
		      int write);
	/* Map [va, va+size) at an IOVA the backend chooses. */
	int (*dma_map)(struct vdf_dev *dev, void *va, size_t size, vdf_iova_t *iova);
	int (*dma_unmap)(struct vdf_dev *dev, vdf_iova_t iova, size_t size);
	int (*irq_count)(struct vdf_dev *dev, enum vdf_irq_kind kind, unsigned *count);
	/* Attach eventfds (fds[i] for vector i; -1 to detach) or, with n == 0, disable. */
	int (*irq_set)(struct vdf_dev *dev, enum vdf_irq_kind kind, const int *fds, unsigned n);
	int (*irq_mask)(struct vdf_dev *dev, enum vdf_irq_kind kind, unsigned vector, int mask);
	int (*reset)(struct vdf_dev *dev);
	void (*close)(struct vdf_dev *dev);
};

struct vdf_irq_state {
	int *fds;
	uint64_t *counts;
	unsigned n;
};

struct vdf_dev {
	const struct vdf_dev_ops *ops;
	char name[32];
	struct vdf_irq_state irqs[VDF_IRQ_KIND_COUNT];
	size_t dma_mapped;
	struct vdf_rights rights; /* what this handle may do (vdf/grant.h) */
	void *backend;		  /* backend-private state */
};

/* Called by backends once their ops and name are set. */
void vdf_dev_init_common(struct vdf_dev *dev, const struct vdf_dev_ops *ops, const char *name,
			 void *backend);
/* Common teardown (IRQ eventfds); called by vdf_dev_close before ops->close. */
void vdf_irq_release_all(struct vdf_dev *dev);

#endif
