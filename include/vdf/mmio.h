/* SPDX-License-Identifier: MIT */
/*
 * MMIO windows: bounds-checked, volatile register access with barriers.
 *
 * A window is either a mapped BAR (plain volatile loads/stores) or, for the mock
 * backend, a set of hooks that a test controls. Out-of-bounds or misaligned
 * accesses never touch memory: reads return all ones, writes are dropped, and
 * the window's `faults` counter goes up (and it is logged, rate-limited).
 *
 * A read of all ones from a live register means the device is gone (surprise
 * removal, or a reset that failed): use the *_live readers, which return -ENODEV
 * for it, wherever a register can never legitimately read as all ones.
 */
#ifndef VDF_MMIO_H
#define VDF_MMIO_H

#include <errno.h>
#include <stdint.h>

#include "vdf/common.h"

struct vdf_mmio;

struct vdf_mmio_hooks {
	/* len is 1, 2, 4 or 8; off is aligned to len and inside the window */
	uint64_t (*read)(struct vdf_mmio *m, uint64_t off, unsigned len);
	void (*write)(struct vdf_mmio *m, uint64_t off, unsigned len, uint64_t val);
};

struct vdf_mmio {
	volatile uint8_t *base;
	uint64_t len;
	const struct vdf_mmio_hooks *hooks; /* NULL for real hardware */
	void *hook_ctx;
	unsigned long faults; /* out-of-bounds or misaligned accesses */
	const char *name;     /* for log messages */
};

void vdf_mmio_fault(struct vdf_mmio *m, uint64_t off, unsigned len, int write);

/* Full barrier between CPU memory accesses and device accesses. */
static inline void vdf_mb(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}
/* Order prior writes to DMA memory before a following doorbell write. */
static inline void vdf_wmb(void)
{
	__atomic_thread_fence(__ATOMIC_RELEASE);
}
/* Order a read of a DMA'd flag before reads of the data it guards. */
static inline void vdf_rmb(void)
{
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
}

static inline int vdf_mmio_ok(struct vdf_mmio *m, uint64_t off, unsigned len, int write)
{
	if (VDF_UNLIKELY(off > m->len || len > m->len - off || (off & (len - 1)) != 0)) {
		vdf_mmio_fault(m, off, len, write);
		return 0;
	}
	return 1;
}

#define VDF_MMIO_ACCESSORS(bits)                                                           \
	static inline uint##bits##_t vdf_mmio_read##bits(struct vdf_mmio *m, uint64_t off) \
	{                                                                                  \
		if (!vdf_mmio_ok(m, off, bits / 8, 0))                                     \
			return (uint##bits##_t) ~0ull;                                     \
		if (VDF_UNLIKELY(m->hooks != NULL))                                        \
			return (uint##bits##_t)m->hooks->read(m, off, bits / 8);           \
		uint##bits##_t v = *(volatile uint##bits##_t *)(m->base + off);            \
		vdf_rmb();                                                                 \
		return v;                                                                  \
	}                                                                                  \
	static inline void vdf_mmio_write##bits(struct vdf_mmio *m, uint64_t off,          \
						uint##bits##_t val)                        \
	{                                                                                  \
		if (!vdf_mmio_ok(m, off, bits / 8, 1))                                     \
			return;                                                            \
		vdf_wmb();                                                                 \
		if (VDF_UNLIKELY(m->hooks != NULL)) {                                      \
			m->hooks->write(m, off, bits / 8, val);                            \
			return;                                                            \
		}                                                                          \
		*(volatile uint##bits##_t *)(m->base + off) = val;                         \
	}                                                                                  \
	/* Like read, but -ENODEV when the register reads all ones (device gone). */       \
	static inline int vdf_mmio_read##bits##_live(struct vdf_mmio *m, uint64_t off,     \
						     uint##bits##_t *val)                  \
	{                                                                                  \
		*val = vdf_mmio_read##bits(m, off);                                        \
		return *val == (uint##bits##_t) ~0ull ? -ENODEV : 0;                       \
	}

VDF_MMIO_ACCESSORS(8)
VDF_MMIO_ACCESSORS(16)
VDF_MMIO_ACCESSORS(32)
VDF_MMIO_ACCESSORS(64)

#undef VDF_MMIO_ACCESSORS

#endif
