/* SPDX-License-Identifier: MIT */
/*
 * Intel 8254x / 82574 Gigabit Ethernet controllers: register offsets, bits
 * and descriptor layouts. Spec definitions only.
 *
 * Sources:
 *   [SDM]   PCI/PCI-X Family of Gigabit Ethernet Controllers Software
 *           Developer's Manual (8254x), rev. 4.0: section 3 (receive and
 *           transmit descriptors), 5 (EEPROM), 13 (registers), 14 (init).
 *   [82574] Intel 82574 GbE Controller Family Datasheet, rev. 3.x: section 7
 *           (descriptors, interrupts, MSI-X), 10 (registers).
 * Where the 82574 differs from the 8254x the name carries E1000E_ / 82574.
 * QEMU models the 82540EM as device "e1000" (8086:100e) and the 82574L as
 * "e1000e" (8086:10d3).
 */
#ifndef VDF_HW_E1000_H
#define VDF_HW_E1000_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include "vdf/common.h"

#define E1000_VENDOR_INTEL  0x8086u
#define E1000_DEV_82540EM   0x100eu  /* QEMU "e1000" */
#define E1000_DEV_82574L    0x10d3u  /* QEMU "e1000e" */
#define E1000_BAR0_MIN_SIZE 0x20000u /* 128 KiB register space */
#define E1000E_MSIX_VECTORS 5u

/* --- General registers ([SDM] 13.4, [82574] 10.2.2) --- */
#define E1000_REG_CTRL	   0x0000u
#define E1000_REG_STATUS   0x0008u
#define E1000_REG_EECD	   0x0010u
#define E1000_REG_EERD	   0x0014u
#define E1000_REG_CTRL_EXT 0x0018u
#define E1000_REG_MDIC	   0x0020u
#define E1000_REG_FCAL	   0x0028u
#define E1000_REG_FCAH	   0x002cu
#define E1000_REG_FCT	   0x0030u
#define E1000_REG_VET	   0x0038u
#define E1000_REG_FCTTV	   0x0170u
#define E1000_REG_PBA	   0x1000u
#define E1000E_REG_GCR	   0x5b00u /* 82574 10.2.2.x: 3GIO control */

/* CTRL ([SDM] 13.4.1) */
#define E1000_CTRL_FD	   BIT(0) /* full duplex */
#define E1000_CTRL_GIO_MD  BIT(2) /* 82574: GIO master disable */
#define E1000_CTRL_LRST	   BIT(3) /* link reset (8254x) */
#define E1000_CTRL_ASDE	   BIT(5) /* auto-speed detection */
#define E1000_CTRL_SLU	   BIT(6) /* set link up */
#define E1000_CTRL_ILOS	   BIT(7) /* invert loss-of-signal */
#define E1000_CTRL_SPEED   GENMASK(9, 8)
#define E1000_CTRL_FRCSPD  BIT(11)
#define E1000_CTRL_FRCDPX  BIT(12)
#define E1000_CTRL_RST	   BIT(26) /* device reset, self-clearing */
#define E1000_CTRL_RFCE	   BIT(27)
#define E1000_CTRL_TFCE	   BIT(28)
#define E1000_CTRL_VME	   BIT(30)
#define E1000_CTRL_PHY_RST BIT(31)

/* STATUS ([SDM] 13.4.2) */
#define E1000_STATUS_FD	       BIT(0)
#define E1000_STATUS_LU	       BIT(1)
#define E1000_STATUS_TXOFF     BIT(4)
#define E1000_STATUS_SPEED     GENMASK(7, 6) /* 00 10, 01 100, 1x 1000 Mb/s */
#define E1000_STATUS_GIO_MSTEN BIT(19)	     /* 82574: GIO master enabled */

/* EECD ([SDM] 13.4.3) */
#define E1000_EECD_PRES	   BIT(8) /* EEPROM present */
#define E1000_EECD_AUTO_RD BIT(9) /* 82574: NVM auto-read done */

/* EERD ([SDM] 13.4.4): the 8254x layout */
#define E1000_EERD_START BIT(0)
#define E1000_EERD_DONE	 BIT(4)
#define E1000_EERD_ADDR	 GENMASK(15, 8)
#define E1000_EERD_DATA	 GENMASK(31, 16)
/* EERD on the 82574 ([82574] 10.2.2.6): DONE and ADDR moved */
#define E1000E_EERD_DONE BIT(1)
#define E1000E_EERD_ADDR GENMASK(15, 2)
/* EEPROM words ([SDM] 5.6): Ethernet address in words 0..2, low byte first */
#define E1000_EEPROM_MAC_WORD0 0u
#define E1000_EEPROM_WORDS     64u
/* Max EERD read time: a microwire read of one word takes well under 1 ms. */
#define E1000_EERD_TIMEOUT_US 10000u

/* CTRL_EXT ([SDM] 13.4.6, [82574] 10.2.2.3) */
#define E1000_CTRL_EXT_EE_RST	 BIT(13)
#define E1000_CTRL_EXT_SPD_BYPS	 BIT(15)
#define E1000E_CTRL_EXT_EIAME	 BIT(24) /* extended interrupt auto-mask enable */
#define E1000E_CTRL_EXT_IAME	 BIT(27) /* interrupt acknowledge auto-mask enable */
#define E1000E_CTRL_EXT_DRV_LOAD BIT(28) /* driver loaded (to firmware) */
#define E1000E_CTRL_EXT_PBA_CLR	 BIT(31) /* MSI-X PBA clear on IMS write */

/* GCR ([82574] 10.2.2.x): bit 22 must be set by software at initialization. */
#define E1000E_GCR_INIT_BIT22 BIT(22)

/* MDIC ([SDM] 13.4.7): PHY register access */
#define E1000_MDIC_DATA	      GENMASK(15, 0)
#define E1000_MDIC_REG	      GENMASK(20, 16)
#define E1000_MDIC_PHY	      GENMASK(25, 21)
#define E1000_MDIC_OP	      GENMASK(27, 26)
#define E1000_MDIC_OP_WRITE   1u
#define E1000_MDIC_OP_READ    2u
#define E1000_MDIC_READY      BIT(28)
#define E1000_MDIC_INT_EN     BIT(29)
#define E1000_MDIC_ERROR      BIT(30)
#define E1000_PHY_ADDR	      1u     /* the internal PHY */
#define E1000_MDIC_TIMEOUT_US 10000u /* an MDIO frame takes ~64 us at 2.5 MHz */

/* PHY registers (IEEE 802.3 clause 22, [SDM] 13.5) */
#define E1000_PHY_BMCR	 0x00u
#define E1000_PHY_BMSR	 0x01u
#define E1000_PHY_ID1	 0x02u
#define E1000_PHY_ID2	 0x03u
#define E1000_BMSR_LINK	 BIT(2)
#define E1000_BMSR_AN_OK BIT(5)

/* --- Interrupts ([SDM] 13.4.17-21, [82574] 10.2.4) --- */
#define E1000_REG_ICR	   0x00c0u
#define E1000_REG_ITR	   0x00c4u
#define E1000_REG_ICS	   0x00c8u
#define E1000_REG_IMS	   0x00d0u
#define E1000_REG_IMC	   0x00d8u
#define E1000E_REG_EIAC	   0x00dcu /* 82574: auto-clear of MSI-X causes */
#define E1000E_REG_IAM	   0x00e0u
#define E1000E_REG_IVAR	   0x00e4u
#define E1000E_REG_EITR(n) (0x00e8u + 4u * (n)) /* n < 5 */

/* ICR/ICS/IMS/IMC bits */
#define E1000_ICR_TXDW	   BIT(0) /* transmit descriptor written back */
#define E1000_ICR_TXQE	   BIT(1) /* transmit queue empty */
#define E1000_ICR_LSC	   BIT(2) /* link status change */
#define E1000_ICR_RXSEQ	   BIT(3)
#define E1000_ICR_RXDMT0   BIT(4) /* RX descriptors below minimum threshold */
#define E1000_ICR_RXO	   BIT(6) /* receiver overrun */
#define E1000_ICR_RXT0	   BIT(7) /* receiver timer */
#define E1000_ICR_MDAC	   BIT(9)
#define E1000_ICR_TXD_LOW  BIT(15)
#define E1000_ICR_SRPD	   BIT(16)
#define E1000E_ICR_RXQ0	   BIT(20) /* MSI-X causes ([82574] 10.2.4.1) */
#define E1000E_ICR_RXQ1	   BIT(21)
#define E1000E_ICR_TXQ0	   BIT(22)
#define E1000E_ICR_TXQ1	   BIT(23)
#define E1000E_ICR_OTHER   BIT(24)
#define E1000_ICR_ASSERTED BIT(31) /* 82574: INT_ASSERTED */
#define E1000_ICR_ALL	   0xffffffffu

/* ITR: interval in 256 ns units ([SDM] 13.4.18); RDTR/RADV/TIDV/TADV in 1.024 us units */
#define E1000_ITR_INTERVAL  GENMASK(15, 0)
#define E1000_ITR_UNIT_NS   256u
#define E1000_DELAY_UNIT_NS 1024u
#define E1000_DELAY_MAX	    0xffffu

/* IVAR ([82574] 10.2.4.9): vector (3 bits) + valid bit per cause */
#define E1000E_IVAR_RXQ0      GENMASK(3, 0)
#define E1000E_IVAR_RXQ1      GENMASK(7, 4)
#define E1000E_IVAR_TXQ0      GENMASK(11, 8)
#define E1000E_IVAR_TXQ1      GENMASK(15, 12)
#define E1000E_IVAR_OTHER     GENMASK(19, 16)
#define E1000E_IVAR_VALID     BIT(3)  /* inside a 4-bit entry */
#define E1000E_IVAR_TX_ALL_WB BIT(31) /* interrupt on every TX write-back */

/* --- Receive ([SDM] 13.4.22-33, 3.2) --- */
#define E1000_REG_RCTL	  0x0100u
#define E1000_REG_RDBAL	  0x2800u
#define E1000_REG_RDBAH	  0x2804u
#define E1000_REG_RDLEN	  0x2808u
#define E1000_REG_RDH	  0x2810u
#define E1000_REG_RDT	  0x2818u
#define E1000_REG_RDTR	  0x2820u
#define E1000_REG_RXDCTL  0x2828u
#define E1000_REG_RADV	  0x282cu
#define E1000_REG_RSRPD	  0x2c00u
#define E1000_REG_RXCSUM  0x5000u
#define E1000E_REG_RFCTL  0x5008u
#define E1000_REG_MTA	  0x5200u /* 128 x 32-bit multicast table */
#define E1000_MTA_REGS	  128u
#define E1000_REG_RAL(n)  (0x5400u + 8u * (n))
#define E1000_REG_RAH(n)  (0x5404u + 8u * (n))
#define E1000_RAR_ENTRIES 16u
#define E1000_REG_VFTA	  0x5600u

/* RCTL ([SDM] 13.4.22) */
#define E1000_RCTL_EN	      BIT(1)
#define E1000_RCTL_SBP	      BIT(2)
#define E1000_RCTL_UPE	      BIT(3) /* unicast promiscuous */
#define E1000_RCTL_MPE	      BIT(4) /* multicast promiscuous */
#define E1000_RCTL_LPE	      BIT(5) /* long packets */
#define E1000_RCTL_LBM	      GENMASK(7, 6)
#define E1000_RCTL_RDMTS      GENMASK(9, 8) /* 0: 1/2, 1: 1/4, 2: 1/8 of the ring */
#define E1000E_RCTL_DTYP      GENMASK(11, 10)
#define E1000_RCTL_MO	      GENMASK(13, 12) /* multicast offset: 0 = address bits 47:36 */
#define E1000_RCTL_BAM	      BIT(15)	      /* broadcast accept */
#define E1000_RCTL_BSIZE      GENMASK(17, 16) /* with BSEX 0: 0 2048, 1 1024, 2 512, 3 256 */
#define E1000_RCTL_VFE	      BIT(18)
#define E1000_RCTL_DPF	      BIT(22)
#define E1000_RCTL_BSEX	      BIT(25)
#define E1000_RCTL_SECRC      BIT(26) /* strip the Ethernet CRC */
#define E1000E_RCTL_FLXBUF    GENMASK(30, 27)
#define E1000_RCTL_BSIZE_2048 0u

/* RXCSUM ([SDM] 13.4.x) */
#define E1000_RXCSUM_PCSS   GENMASK(7, 0)
#define E1000_RXCSUM_IPOFLD BIT(8)
#define E1000_RXCSUM_TUOFLD BIT(9)

/* RFCTL ([82574] 10.2.5.x): EXSTEN selects extended RX descriptors; we keep legacy ones. */
#define E1000E_RFCTL_EXSTEN BIT(15)

/* Legacy receive descriptor ([SDM] 3.2.3) */
struct e1000_rx_desc {
	uint64_t addr;	 /* buffer IOVA, little-endian */
	uint16_t length; /* bytes written to the buffer */
	uint16_t csum;	 /* packet checksum */
	uint8_t status;
	uint8_t errors;
	uint16_t special;
};
static_assert(sizeof(struct e1000_rx_desc) == 16, "legacy RX descriptor is 16 bytes");
static_assert(offsetof(struct e1000_rx_desc, length) == 8, "RX length at 8");
static_assert(offsetof(struct e1000_rx_desc, status) == 12, "RX status at 12");
static_assert(offsetof(struct e1000_rx_desc, errors) == 13, "RX errors at 13");
static_assert(offsetof(struct e1000_rx_desc, special) == 14, "RX special at 14");

/* RX status ([SDM] 3.2.3.1) */
#define E1000_RXD_STAT_DD     BIT(0) /* descriptor done */
#define E1000_RXD_STAT_EOP    BIT(1) /* end of packet */
#define E1000_RXD_STAT_IXSM   BIT(2) /* ignore checksum indication */
#define E1000_RXD_STAT_VP     BIT(3)
#define E1000E_RXD_STAT_UDPCS BIT(4) /* 82574: UDP checksum calculated */
#define E1000_RXD_STAT_TCPCS  BIT(5) /* TCP (or UDP) checksum calculated */
#define E1000_RXD_STAT_IPCS   BIT(6) /* IPv4 header checksum calculated */
#define E1000_RXD_STAT_PIF    BIT(7)
/* RX errors ([SDM] 3.2.3.2) */
#define E1000_RXD_ERR_CE   BIT(0) /* CRC or alignment */
#define E1000_RXD_ERR_SE   BIT(1) /* symbol */
#define E1000_RXD_ERR_SEQ  BIT(2) /* sequence */
#define E1000_RXD_ERR_CXE  BIT(4) /* carrier extension */
#define E1000_RXD_ERR_TCPE BIT(5) /* TCP/UDP checksum wrong */
#define E1000_RXD_ERR_IPE  BIT(6) /* IPv4 checksum wrong */
#define E1000_RXD_ERR_RXE  BIT(7) /* RX data error */
/* Errors that make the frame unusable (checksum errors only mark it). */
#define E1000_RXD_ERR_FRAME                                                            \
	(E1000_RXD_ERR_CE | E1000_RXD_ERR_SE | E1000_RXD_ERR_SEQ | E1000_RXD_ERR_CXE | \
	 E1000_RXD_ERR_RXE)

/* --- Transmit ([SDM] 13.4.33-45, 3.3) --- */
#define E1000_REG_TCTL	 0x0400u
#define E1000_REG_TIPG	 0x0410u
#define E1000_REG_TDBAL	 0x3800u
#define E1000_REG_TDBAH	 0x3804u
#define E1000_REG_TDLEN	 0x3808u
#define E1000_REG_TDH	 0x3810u
#define E1000_REG_TDT	 0x3818u
#define E1000_REG_TIDV	 0x3820u
#define E1000_REG_TXDCTL 0x3828u
#define E1000_REG_TADV	 0x382cu
#define E1000E_REG_TARC0 0x3840u

/* TCTL ([SDM] 13.4.33) */
#define E1000_TCTL_EN	     BIT(1)
#define E1000_TCTL_PSP	     BIT(3)	     /* pad short packets */
#define E1000_TCTL_CT	     GENMASK(11, 4)  /* collision threshold: 0x0f recommended */
#define E1000_TCTL_COLD	     GENMASK(21, 12) /* collision distance: 0x40 full duplex */
#define E1000_TCTL_RTLC	     BIT(24)
#define E1000_TCT_CT_DEFAULT 0x0fu
#define E1000_TCT_COLD_FDX   0x40u
/* TIPG ([SDM] 13.4.34): copper values, [82574] 10.2.6.x recommends IPGT 8 */
#define E1000_TIPG_IPGT	    GENMASK(9, 0)
#define E1000_TIPG_IPGR1    GENMASK(19, 10)
#define E1000_TIPG_IPGR2    GENMASK(29, 20)
#define E1000_TIPG_COPPER   (10u | (8u << 10) | (6u << 20))
#define E1000E_TIPG_DEFAULT (8u | (8u << 10) | (6u << 20))
/* TARC0 ([82574] 10.2.6.x): bit 10 enables the queue's arbitration */
#define E1000E_TARC_ENABLE BIT(10)

/* Legacy transmit descriptor ([SDM] 3.3.3) */
struct e1000_tx_desc {
	uint64_t addr;	 /* buffer IOVA, little-endian */
	uint16_t length; /* bytes of this buffer */
	uint8_t cso;	 /* checksum offset */
	uint8_t cmd;
	uint8_t status;
	uint8_t css; /* checksum start */
	uint16_t special;
};
static_assert(sizeof(struct e1000_tx_desc) == 16, "legacy TX descriptor is 16 bytes");
static_assert(offsetof(struct e1000_tx_desc, cmd) == 11, "TX cmd at 11");
static_assert(offsetof(struct e1000_tx_desc, status) == 12, "TX status at 12");

/* TX command ([SDM] 3.3.3.1), legacy and data descriptors */
#define E1000_TXD_CMD_EOP  BIT(0) /* end of packet */
#define E1000_TXD_CMD_IFCS BIT(1) /* insert FCS */
#define E1000_TXD_CMD_IC   BIT(2) /* insert checksum (legacy) */
#define E1000_TXD_CMD_TSE  BIT(2) /* TCP segmentation (data descriptor) */
#define E1000_TXD_CMD_RS   BIT(3) /* report status: write back DD */
#define E1000_TXD_CMD_DEXT BIT(5) /* extended descriptor (context/data) */
#define E1000_TXD_CMD_VLE  BIT(6)
#define E1000_TXD_CMD_IDE  BIT(7) /* interrupt delay enable (TIDV/TADV) */
/* TX status ([SDM] 3.3.3.2) */
#define E1000_TXD_STAT_DD BIT(0)
#define E1000_TXD_STAT_EC BIT(1)
#define E1000_TXD_STAT_LC BIT(2)
#define E1000_TXD_STAT_TU BIT(3)

/* TCP/IP context descriptor ([SDM] 3.3.6) */
struct e1000_tx_ctx_desc {
	uint8_t ipcss, ipcso;
	uint16_t ipcse;
	uint8_t tucss, tucso; /* L4 checksum start / where to store it */
	uint16_t tucse;	      /* 0: to the end of the frame */
	uint32_t cmd_len;     /* PAYLEN 19:0, DTYP 23:20 (0), TUCMD 31:24 */
	uint8_t status, hdr_len;
	uint16_t mss;
};
static_assert(sizeof(struct e1000_tx_ctx_desc) == 16, "context descriptor is 16 bytes");
static_assert(offsetof(struct e1000_tx_ctx_desc, tucss) == 4, "TUCSS at 4");
static_assert(offsetof(struct e1000_tx_ctx_desc, cmd_len) == 8, "cmd_len at 8");

/* TCP/IP data descriptor ([SDM] 3.3.7) */
struct e1000_tx_data_desc {
	uint64_t addr;
	uint32_t lower; /* DTALEN 19:0, DTYP 23:20 (1), DCMD 31:24 */
	uint32_t upper; /* STA 3:0, POPTS 15:8, special 31:16 */
};
static_assert(sizeof(struct e1000_tx_data_desc) == 16, "data descriptor is 16 bytes");

#define E1000_TXD_LEN	     GENMASK(19, 0)
#define E1000_TXD_DTYP	     GENMASK(23, 20)
#define E1000_TXD_DTYP_CTX   0u
#define E1000_TXD_DTYP_DATA  1u
#define E1000_TXD_DCMD	     GENMASK(31, 24) /* same bits as the legacy cmd byte */
#define E1000_TXD_TUCMD_TCP  BIT(0)	     /* L4 is TCP (else UDP) */
#define E1000_TXD_TUCMD_IP   BIT(1)	     /* IPv4 (else IPv6) */
#define E1000_TXD_POPTS	     GENMASK(15, 8)
#define E1000_TXD_POPTS_IXSM BIT(0) /* insert IP checksum */
#define E1000_TXD_POPTS_TXSM BIT(1) /* insert TCP/UDP checksum */
#define E1000_TXD_UPPER_STA  GENMASK(3, 0)

/* --- Statistics ([SDM] 13.7): clear on read; 64-bit pairs clear on reading the high half --- */
#define E1000_REG_CRCERRS  0x4000u
#define E1000_REG_ALGNERRC 0x4004u
#define E1000_REG_SYMERRS  0x4008u
#define E1000_REG_RXERRC   0x400cu
#define E1000_REG_MPC	   0x4010u /* missed packets */
#define E1000_REG_SCC	   0x4014u
#define E1000_REG_ECOL	   0x4018u
#define E1000_REG_MCC	   0x401cu
#define E1000_REG_LATECOL  0x4020u
#define E1000_REG_COLC	   0x4028u
#define E1000_REG_DC	   0x4030u
#define E1000_REG_TNCRS	   0x4034u
#define E1000_REG_SEC	   0x4038u
#define E1000_REG_CEXTERR  0x403cu
#define E1000_REG_RLEC	   0x4040u
#define E1000_REG_XONRXC   0x4048u
#define E1000_REG_XONTXC   0x404cu
#define E1000_REG_XOFFRXC  0x4050u
#define E1000_REG_XOFFTXC  0x4054u
#define E1000_REG_FCRUC	   0x4058u
#define E1000_REG_PRC64	   0x405cu
#define E1000_REG_PRC1522  0x4070u
#define E1000_REG_GPRC	   0x4074u /* good packets received */
#define E1000_REG_BPRC	   0x4078u
#define E1000_REG_MPRC	   0x407cu
#define E1000_REG_GPTC	   0x4080u /* good packets transmitted */
#define E1000_REG_GORCL	   0x4088u
#define E1000_REG_GORCH	   0x408cu
#define E1000_REG_GOTCL	   0x4090u
#define E1000_REG_GOTCH	   0x4094u
#define E1000_REG_RNBC	   0x40a0u /* receive no buffers */
#define E1000_REG_RUC	   0x40a4u /* undersize */
#define E1000_REG_RFC	   0x40a8u /* fragments */
#define E1000_REG_ROC	   0x40acu /* oversize */
#define E1000_REG_RJC	   0x40b0u /* jabber */
#define E1000_REG_TORL	   0x40c0u
#define E1000_REG_TORH	   0x40c4u
#define E1000_REG_TOTL	   0x40c8u
#define E1000_REG_TOTH	   0x40ccu
#define E1000_REG_TPR	   0x40d0u /* total packets received */
#define E1000_REG_TPT	   0x40d4u /* total packets transmitted */
#define E1000_REG_PTC64	   0x40d8u
#define E1000_REG_PTC1522  0x40ecu
#define E1000_REG_MPTC	   0x40f0u
#define E1000_REG_BPTC	   0x40f4u
#define E1000_REG_TSCTC	   0x40f8u
#define E1000_STATS_FIRST  E1000_REG_CRCERRS
#define E1000_STATS_END	   0x4100u

/* Frame sizes (IEEE 802.3): without FCS. */
#define E1000_ETH_HLEN	    14u
#define E1000_ETH_MIN_FRAME 60u
#define E1000_ETH_MTU	    1500u
#define E1000_ETH_VLAN_HLEN 4u
#define E1000_RX_BUF_SIZE   2048u /* RCTL.BSIZE 2048 */

#endif
