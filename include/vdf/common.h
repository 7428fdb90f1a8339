/* SPDX-License-Identifier: MIT */
/*
 * Small helpers shared by every part of VDF: bit and field macros, attributes,
 * the IOVA type and error conventions.
 *
 * Conventions: functions return 0 or a negative errno; constructors take an
 * out-parameter; fallible functions are marked VDF_MUST_CHECK.
 */
#ifndef VDF_COMMON_H
#define VDF_COMMON_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#define VDF_MUST_CHECK	 __attribute__((warn_unused_result))
#define VDF_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define VDF_UNUSED	 __attribute__((unused))
#define VDF_LIKELY(x)	 __builtin_expect(!!(x), 1)
#define VDF_UNLIKELY(x)	 __builtin_expect(!!(x), 0)

#define VDF_ARRAY_SIZE(a)      (sizeof(a) / sizeof((a)[0]))
#define VDF_MIN(a, b)	       ((a) < (b) ? (a) : (b))
#define VDF_MAX(a, b)	       ((a) > (b) ? (a) : (b))
#define VDF_DIV_ROUND_UP(n, d) (((n) + (d)-1) / (d))
#define VDF_ALIGN_UP(x, a)     (((x) + ((a)-1)) & ~((__typeof__(x))(a)-1))
#define VDF_ALIGN_DOWN(x, a)   ((x) & ~((__typeof__(x))(a)-1))
#define VDF_IS_ALIGNED(x, a)   (((x) & ((__typeof__(x))(a)-1)) == 0)

#define VDF_CONTAINER_OF(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

/* Bits and fields (in the style of Linux's FIELD_GET/FIELD_PREP). */
#define BIT(n)		      (1u << (n))
#define BIT64(n)	      (1ull << (n))
#define GENMASK(h, l)	      ((~0u << (l)) & (~0u >> (31 - (h))))
#define GENMASK64(h, l)	      ((~0ull << (l)) & (~0ull >> (63 - (h))))
#define VDF_FIELD_SHIFT(mask) ((unsigned)__builtin_ctzll(mask))
#define FIELD_GET(mask, reg)  (((reg) & (mask)) >> VDF_FIELD_SHIFT(mask))
#define FIELD_PREP(mask, val) ((((__typeof__(mask))(val)) << VDF_FIELD_SHIFT(mask)) & (mask))

/*
 * A device address: what the device puts on the bus, translated by the IOMMU.
 * Kept as an integer type distinct from pointers; never cast one into the other.
 */
typedef uint64_t vdf_iova_t;

#define VDF_PAGE_SIZE 4096u

#endif
