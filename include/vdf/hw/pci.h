/* SPDX-License-Identifier: MIT */
/*
 * PCI configuration space: header type 0 offsets, command/status bits and the
 * capability structures VDF uses.
 * Source: PCI Local Bus Specification 3.0 (sections 6.1, 6.7, 6.8) and
 * PCI Express Base Specification 4.0 (section 7.6, extended capabilities).
 */
#ifndef VDF_HW_PCI_H
#define VDF_HW_PCI_H

#include "vdf/common.h"

#define PCI_CFG_SPACE_SIZE     256u
#define PCI_CFG_SPACE_EXP_SIZE 4096u

/* Type 0 header (PCI 3.0 6.1) */
#define PCI_VENDOR_ID		0x00
#define PCI_DEVICE_ID		0x02
#define PCI_COMMAND		0x04
#define PCI_STATUS		0x06
#define PCI_REVISION_ID		0x08
#define PCI_CLASS_PROG		0x09
#define PCI_CLASS_DEVICE	0x0a /* subclass at 0x0a, class at 0x0b */
#define PCI_HEADER_TYPE		0x0e
#define PCI_BAR0		0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID	0x2e
#define PCI_CAPABILITY_LIST	0x34
#define PCI_INTERRUPT_LINE	0x3c
#define PCI_INTERRUPT_PIN	0x3d

#define PCI_COMMAND_IO		 BIT(0)
#define PCI_COMMAND_MEMORY	 BIT(1)
#define PCI_COMMAND_MASTER	 BIT(2)
#define PCI_COMMAND_INTX_DISABLE BIT(10)

#define PCI_STATUS_CAP_LIST BIT(4)

/* Capability list entries: ID at +0, next pointer at +1 (PCI 3.0 6.7). */
#define PCI_CAP_ID	 0
#define PCI_CAP_NEXT	 1
#define PCI_CAP_PTR_MASK 0xfcu /* low two bits of a pointer are reserved */
#define PCI_CAP_MIN_PTR	 0x40u /* capabilities live after the header */

#define PCI_CAP_ID_PM	0x01
#define PCI_CAP_ID_MSI	0x05
#define PCI_CAP_ID_VNDR 0x09
#define PCI_CAP_ID_EXP	0x10
#define PCI_CAP_ID_MSIX 0x11

/* Extended capabilities start at 0x100: header = ID[15:0], version[19:16], next[31:20]. */
#define PCI_EXT_CAP_START     0x100u
#define PCI_EXT_CAP_ID_MASK   GENMASK(15, 0)
#define PCI_EXT_CAP_VER_MASK  GENMASK(19, 16)
#define PCI_EXT_CAP_NEXT_MASK GENMASK(31, 20)

#define PCI_EXT_CAP_ID_AER   0x0001
#define PCI_EXT_CAP_ID_DSN   0x0003
#define PCI_EXT_CAP_ID_SRIOV 0x0010

/* MSI capability (PCI 3.0 6.8.1) */
#define PCI_MSI_FLAGS	      2
#define PCI_MSI_FLAGS_ENABLE  BIT(0)
#define PCI_MSI_FLAGS_QMASK   GENMASK(3, 1) /* multiple message capable, log2 */
#define PCI_MSI_FLAGS_64BIT   BIT(7)
#define PCI_MSI_FLAGS_MASKBIT BIT(8)

/* MSI-X capability (PCI 3.0 6.8.2) */
#define PCI_MSIX_FLAGS	       2
#define PCI_MSIX_FLAGS_QSIZE   GENMASK(10, 0) /* table size - 1 */
#define PCI_MSIX_FLAGS_MASKALL BIT(14)
#define PCI_MSIX_FLAGS_ENABLE  BIT(15)
#define PCI_MSIX_TABLE	       4
#define PCI_MSIX_PBA	       8
#define PCI_MSIX_BIR_MASK      GENMASK(2, 0)
#define PCI_MSIX_OFFSET_MASK   GENMASK(31, 3)

/* Power management capability (PCI PM 1.2, 3.2) */
#define PCI_PM_CTRL	       4
#define PCI_PM_CTRL_STATE_MASK GENMASK(1, 0)

/* PCI Express capability (PCIe 4.0 7.5.3) */
#define PCI_EXP_FLAGS	   2
#define PCI_EXP_DEVCAP	   4
#define PCI_EXP_DEVCAP_FLR BIT(28)

#define PCI_NUM_BARS 6

#endif
