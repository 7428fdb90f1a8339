/* SPDX-License-Identifier: MIT */
/*
 * DMA memory: buffers mapped into the device's IOMMU domain, fixed-size pools
 * carved from one buffer, and scatter-gather lists.
 *
 * Each device (VFIO container) has its own IOVA space; the device can reach
 * only what is mapped here. Buffers are page-aligned, zeroed, pinned (they
 * count against RLIMIT_MEMLOCK) and coherent on x86: the sync calls order CPU
 * accesses against device accesses and are required by the API so code stays
 * right on non-coherent platforms.
 */
#ifndef VDF_DMA_H
#define VDF_DMA_H

#include <stddef.h>
#include <stdint.h>

#include "vdf/common.h"

struct vdf_dev;

enum vdf_dma_dir {
	VDF_DMA_TO_DEVICE = BIT(0),
	VDF_DMA_FROM_DEVICE = BIT(1),
	VDF_DMA_BIDIRECTIONAL = BIT(0) | BIT(1),
};

struct vdf_dma_buf {
	void *va;	 /* CPU address */
	vdf_iova_t iova; /* device address */
	size_t size;	 /* rounded up to whole pages */
	enum vdf_dma_dir dir;
	struct vdf_dev *dev;
	int owns_memory; /* 0 for vdf_dma_map of caller memory */
};

/* Allocate `size` bytes (rounded up to pages) and map them for the device. */
int vdf_dma_alloc(struct vdf_dev *dev, size_t size, enum vdf_dma_dir dir,
		  struct vdf_dma_buf **out) VDF_MUST_CHECK;
/* Map caller memory (page-aligned address and size), e.g. a shared memfd region. */
int vdf_dma_map(struct vdf_dev *dev, void *va, size_t size, enum vdf_dma_dir dir,
		struct vdf_dma_buf **out) VDF_MUST_CHECK;
/* Unmap (and free, for vdf_dma_alloc buffers). Accepts NULL. */
void vdf_dma_free(struct vdf_dma_buf *buf);

/* Translate a CPU address inside the buffer; returns 0 on success, -ERANGE outside. */
int vdf_dma_iova(const struct vdf_dma_buf *buf, const void *va, vdf_iova_t *iova) VDF_MUST_CHECK;

/* Make CPU writes visible to the device before it is told to read. */
void vdf_dma_sync_for_device(struct vdf_dma_buf *buf, size_t off, size_t len);
/* Make device writes visible to the CPU after the device said it is done. */
void vdf_dma_sync_for_cpu(struct vdf_dma_buf *buf, size_t off, size_t len);

/* Total bytes currently mapped for the device. */
size_t vdf_dma_mapped_bytes(const struct vdf_dev *dev);

/* A pool of equal-size, aligned DMA objects (queue entries, packet buffers, PRP lists). */
struct vdf_dma_pool;

int vdf_dma_pool_create(struct vdf_dev *dev, size_t obj_size, size_t align, unsigned count,
			struct vdf_dma_pool **out) VDF_MUST_CHECK;
void vdf_dma_pool_destroy(struct vdf_dma_pool *pool);
/* Returns 0 and the object, or -ENOMEM when the pool is empty. O(1). */
int vdf_dma_pool_get(struct vdf_dma_pool *pool, void **va, vdf_iova_t *iova) VDF_MUST_CHECK;
/* Return an object; va must have come from this pool. */
void vdf_dma_pool_put(struct vdf_dma_pool *pool, void *va);
unsigned vdf_dma_pool_available(const struct vdf_dma_pool *pool);

/* Scatter-gather list: device addresses and lengths. */
struct vdf_sg_entry {
	vdf_iova_t iova;
	uint32_t len;
};

struct vdf_sgl {
	struct vdf_sg_entry *ents;
	unsigned count, cap;
	uint64_t total;
};

int vdf_sgl_init(struct vdf_sgl *sgl, unsigned cap) VDF_MUST_CHECK;
void vdf_sgl_fini(struct vdf_sgl *sgl);
void vdf_sgl_reset(struct vdf_sgl *sgl);
/* Append a range; merges with the previous entry when contiguous. -ENOSPC when full. */
int vdf_sgl_add(struct vdf_sgl *sgl, vdf_iova_t iova, uint32_t len) VDF_MUST_CHECK;

#endif
