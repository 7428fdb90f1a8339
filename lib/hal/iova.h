/* SPDX-License-Identifier: MIT */
/*
 * IOVA space allocator for one IOMMU domain: page-granular first-fit over a
 * sorted list of free ranges, merging neighbours on free.
 */
#ifndef VDF_LIB_HAL_IOVA_H
#define VDF_LIB_HAL_IOVA_H

#include <stdint.h>

#include "vdf/common.h"

struct vdf_iova_range {
	uint64_t start, len;
};

struct vdf_iova_space {
	struct vdf_iova_range *free;
	unsigned nfree, cap;
	uint64_t base, limit; /* the whole space: [base, limit) */
};

int vdf_iova_space_init(struct vdf_iova_space *s, uint64_t start, uint64_t len) VDF_MUST_CHECK;
void vdf_iova_space_fini(struct vdf_iova_space *s);
/* Remove [start, start+len) from the free space (e.g. the MSI window). */
int vdf_iova_space_reserve(struct vdf_iova_space *s, uint64_t start, uint64_t len) VDF_MUST_CHECK;
int vdf_iova_alloc(struct vdf_iova_space *s, uint64_t len, vdf_iova_t *iova) VDF_MUST_CHECK;
int vdf_iova_free(struct vdf_iova_space *s, vdf_iova_t iova, uint64_t len) VDF_MUST_CHECK;

#endif
