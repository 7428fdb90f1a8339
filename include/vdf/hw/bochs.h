/* SPDX-License-Identifier: MIT */
/*
 * Bochs/QEMU "DISPI" display interface (VBE extensions of the Bochs VGA BIOS)
 * as QEMU's PCI `bochs-display` (1234:1111, class 03/80) exposes it.
 * Sources: the Bochs VBE interface description (vbe_display_api.txt: DISPI
 * index registers, ID values, ENABLE bits, limits) and QEMU's bochs-display
 * documentation of the PCI layout (docs/specs/standard-vga.rst: MMIO BAR with
 * the EDID blob, the DISPI registers and the QEMU extended registers).
 *
 * PCI layout:
 *   BAR0  linear framebuffer (VRAM), prefetchable memory, a power of two
 *         (QEMU default 16 MiB, 4..256 MiB)
 *   BAR2  MMIO, 4 KiB:
 *           0x000  EDID blob (read-only, up to 256 bytes; absent with edid=off)
 *           0x500  DISPI registers: 16 bits each at 0x500 + index * 2
 *           0x600  QEMU extended registers: 32 bits each
 */
#ifndef VDF_HW_BOCHS_H
#define VDF_HW_BOCHS_H

#include "vdf/common.h"

#define BOCHS_VENDOR_QEMU  0x1234u
#define BOCHS_DEV_DISPLAY  0x1111u
#define BOCHS_BAR_VRAM	   0u
#define BOCHS_BAR_MMIO	   2u
#define BOCHS_MMIO_SIZE	   0x1000u
#define BOCHS_MMIO_EDID	   0x000u
#define BOCHS_EDID_MAX	   256u
#define BOCHS_MMIO_DISPI   0x500u
#define BOCHS_MMIO_QEXT	   0x600u
#define BOCHS_DISPI_REG(i) (BOCHS_MMIO_DISPI + 2u * (i))

/* DISPI register indexes (16-bit registers) */
#define DISPI_INDEX_ID		  0x0u
#define DISPI_INDEX_XRES	  0x1u
#define DISPI_INDEX_YRES	  0x2u
#define DISPI_INDEX_BPP		  0x3u
#define DISPI_INDEX_ENABLE	  0x4u
#define DISPI_INDEX_BANK	  0x5u
#define DISPI_INDEX_VIRT_WIDTH	  0x6u
#define DISPI_INDEX_VIRT_HEIGHT	  0x7u
#define DISPI_INDEX_X_OFFSET	  0x8u
#define DISPI_INDEX_Y_OFFSET	  0x9u
#define DISPI_INDEX_VIDEO_MEM_64K 0xau /* VRAM size in 64 KiB units (read-only) */
#define DISPI_INDEX_COUNT	  0xbu

/* DISPI_INDEX_ID values: interface revisions; bochs-display reports ID5. */
#define DISPI_ID0     0xb0c0u
#define DISPI_ID4     0xb0c4u
#define DISPI_ID5     0xb0c5u
#define DISPI_ID_MASK 0xfff0u /* 0xb0cX */

/* DISPI_INDEX_ENABLE bits */
#define DISPI_ENABLED	  BIT(0)
#define DISPI_GETCAPS	  BIT(1) /* reads of XRES/YRES/BPP return the maxima */
#define DISPI_8BIT_DAC	  BIT(5)
#define DISPI_LFB_ENABLED BIT(6)
#define DISPI_NOCLEARMEM  BIT(7)

/* Limits of the interface (VBE_DISPI_MAX_*); QEMU's bochs-display shows a
 * mode only with width and height of at least 64 and 16 or 32 bits per pixel. */
#define DISPI_MAX_XRES 16000u
#define DISPI_MAX_YRES 12000u
#define DISPI_MAX_BPP  32u
#define BOCHS_MIN_RES  64u

/* QEMU extended registers (32-bit), at BOCHS_MMIO_QEXT + offset */
#define QEXT_REG_SIZE	   0x0u /* size of the extended register block */
#define QEXT_REG_BYTEORDER 0x4u
#define QEXT_LITTLE_ENDIAN 0x1e1e1e1eu
#define QEXT_BIG_ENDIAN	   0xbebebebeu

#endif
