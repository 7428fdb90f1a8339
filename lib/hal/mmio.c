// SPDX-License-Identifier: MIT
/* Out-of-line slow path of the MMIO accessors. */
#include <inttypes.h>

#include "vdf/log.h"
#include "vdf/mmio.h"

void vdf_mmio_fault(struct vdf_mmio *m, uint64_t off, unsigned len, int write)
{
	m->faults++;
	VDF_LOG_RL(LOG_ERR, "mmio", m->name ? m->name : "",
		   "bad %u-byte %s at 0x%" PRIx64 " (window 0x%" PRIx64 " bytes)", len,
		   write ? "write" : "read", off, m->len);
}
