/* SPDX-License-Identifier: MIT */
/*
 * Mock backend: a PCI function made of plain memory, for unit tests of driver
 * logic (the seeds' MockHardware + ErrorInjection). It is never the proof that
 * a driver works; the guest tests are.
 *
 * - Config space is a 4 KiB image the test fills in (vdf_mock_cfg).
 * - Each memory BAR is a register file in memory; a test may hook a range of
 *   it with read/write callbacks to model device behaviour.
 * - IOVAs are identity-mapped (iova == CPU address) but only mapped buffers are
 *   reachable: the device model reaches memory through vdf_mock_dma_ptr, which
 *   fails (and counts an IOMMU fault) for anything unmapped.
 * - Interrupts are raised by the test (vdf_mock_raise_irq) on the eventfds the
 *   HAL created, honouring masks.
 * - Faults are injected with vdf_mock_inject.
 */
#ifndef VDF_MOCK_H
#define VDF_MOCK_H

#include <stdint.h>

#include "vdf/hal.h"

struct vdf_mock;

struct vdf_mock_config {
	struct vdf_pci_id id;
	uint64_t bar_size[6]; /* 0 = not implemented */
	int bar_is_io[6];     /* I/O BAR: accessed with vdf_bar_read/write only */
	unsigned irq_count[VDF_IRQ_KIND_COUNT];
	int has_reset;
};

typedef uint64_t (*vdf_mock_read_fn)(struct vdf_mock *m, unsigned bar, uint64_t off, unsigned len,
				     void *ctx);
typedef void (*vdf_mock_write_fn)(struct vdf_mock *m, unsigned bar, uint64_t off, unsigned len,
				  uint64_t val, void *ctx);
typedef void (*vdf_mock_reset_fn)(struct vdf_mock *m, void *ctx);

/* Create a mock device; vdf_dev_close(vdf_mock_dev(m)) destroys it. */
int vdf_mock_create(const struct vdf_mock_config *cfg, struct vdf_mock **out) VDF_MUST_CHECK;
struct vdf_dev *vdf_mock_dev(struct vdf_mock *m);

/* The 4 KiB config-space image; the header is pre-filled from cfg->id. */
uint8_t *vdf_mock_cfg(struct vdf_mock *m);
/* Backing memory of a BAR's register file (what unhooked accesses read/write). */
void *vdf_mock_bar(struct vdf_mock *m, unsigned bar);

/* Route accesses to [off, off+len) of a BAR through callbacks (either may be NULL
 * to fall back to plain memory for that direction). Later hooks take precedence. */
int vdf_mock_hook(struct vdf_mock *m, unsigned bar, uint64_t off, uint64_t len, vdf_mock_read_fn rd,
		  vdf_mock_write_fn wr, void *ctx) VDF_MUST_CHECK;
void vdf_mock_on_reset(struct vdf_mock *m, vdf_mock_reset_fn fn, void *ctx);

/* Device side of DMA: pointer to len bytes at iova if all of it is mapped,
 * else NULL (and an IOMMU fault is counted). */
void *vdf_mock_dma_ptr(struct vdf_mock *m, vdf_iova_t iova, uint64_t len);

/* Raise an interrupt. Masked vectors stay pending until unmasked. Returns
 * -EINVAL for a vector that is not enabled. */
int vdf_mock_raise_irq(struct vdf_mock *m, enum vdf_irq_kind kind, unsigned vector);

enum vdf_mock_fault_kind {
	/* Reads of one register return `value` and writes to it are dropped:
	 * the register never reaches the state a driver waits for. */
	VDF_MOCK_FAULT_REG_STUCK,
	/* Device gone: every MMIO and config read returns all ones. */
	VDF_MOCK_FAULT_ALL_ONES,
	/* The next `count` DMA map calls fail with -EFAULT. */
	VDF_MOCK_FAULT_DMA_MAP,
	/* Device-side DMA fails: vdf_mock_dma_ptr returns NULL for `count` calls. */
	VDF_MOCK_FAULT_DMA_ACCESS,
	/* Raise `count` interrupts on vector `vector` at once. */
	VDF_MOCK_FAULT_IRQ_STORM,
};

struct vdf_mock_fault {
	enum vdf_mock_fault_kind kind;
	unsigned bar;
	uint64_t off;
	uint64_t value;
	unsigned count;
	enum vdf_irq_kind irq_kind;
	unsigned vector;
};

int vdf_mock_inject(struct vdf_mock *m, const struct vdf_mock_fault *f) VDF_MUST_CHECK;
void vdf_mock_clear_faults(struct vdf_mock *m);

struct vdf_mock_stats {
	uint64_t mmio_reads, mmio_writes;
	uint64_t dma_faults; /* device accesses to unmapped IOVAs */
	uint64_t resets;
	uint64_t irqs_raised;
};

void vdf_mock_get_stats(struct vdf_mock *m, struct vdf_mock_stats *st);

#endif
