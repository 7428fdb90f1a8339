/* SPDX-License-Identifier: MIT */
/*
 * NVMe controller registers, commands, completions and data structures.
 * Source: NVM Express Base Specification 1.4c (sections 3.1 controller
 * registers, 4.2/4.6 submission and completion entries, 4.3 PRPs, 5 admin
 * commands, 7.6 initialization) and the NVM Command Set (read, write, flush,
 * write zeroes, dataset management).
 *
 * All multi-byte fields in queue entries and data structures are little-endian.
 */
#ifndef VDF_HW_NVME_H
#define VDF_HW_NVME_H

#include <stdint.h>

#include "vdf/common.h"

/* 3.1 Controller registers (offsets in BAR0) */
#define NVME_REG_CAP   0x00   /* Controller Capabilities, 64-bit */
#define NVME_REG_VS    0x08   /* Version */
#define NVME_REG_INTMS 0x0c   /* Interrupt Mask Set (INTx/MSI only) */
#define NVME_REG_INTMC 0x10   /* Interrupt Mask Clear */
#define NVME_REG_CC    0x14   /* Controller Configuration */
#define NVME_REG_CSTS  0x1c   /* Controller Status */
#define NVME_REG_NSSR  0x20   /* NVM Subsystem Reset */
#define NVME_REG_AQA   0x24   /* Admin Queue Attributes */
#define NVME_REG_ASQ   0x28   /* Admin SQ Base Address, 64-bit */
#define NVME_REG_ACQ   0x30   /* Admin CQ Base Address, 64-bit */
#define NVME_REG_DBS   0x1000 /* first doorbell */

/* CAP */
#define NVME_CAP_MQES	    GENMASK64(15, 0)  /* max queue entries, 0-based */
#define NVME_CAP_CQR	    BIT64(16)	      /* contiguous queues required */
#define NVME_CAP_TO	    GENMASK64(31, 24) /* ready timeout, 500 ms units */
#define NVME_CAP_DSTRD	    GENMASK64(35, 32) /* doorbell stride: 4 << DSTRD bytes */
#define NVME_CAP_CSS_NVM    BIT64(37)
#define NVME_CAP_MPSMIN	    GENMASK64(51, 48) /* min page size 2^(12+MPSMIN) */
#define NVME_CAP_MPSMAX	    GENMASK64(55, 52)
#define NVME_CAP_TO_UNIT_MS 500u

/* VS */
#define NVME_VS_MJR GENMASK(31, 16)
#define NVME_VS_MNR GENMASK(15, 8)

/* CC */
#define NVME_CC_EN	   BIT(0)
#define NVME_CC_CSS	   GENMASK(6, 4)
#define NVME_CC_CSS_NVM	   0u
#define NVME_CC_MPS	   GENMASK(10, 7) /* page size 2^(12+MPS) */
#define NVME_CC_AMS	   GENMASK(13, 11)
#define NVME_CC_SHN	   GENMASK(15, 14)
#define NVME_CC_SHN_NORMAL 1u
#define NVME_CC_IOSQES	   GENMASK(19, 16) /* log2 of SQ entry size */
#define NVME_CC_IOCQES	   GENMASK(23, 20) /* log2 of CQ entry size */

/* CSTS */
#define NVME_CSTS_RDY		BIT(0)
#define NVME_CSTS_CFS		BIT(1) /* controller fatal status */
#define NVME_CSTS_SHST		GENMASK(3, 2)
#define NVME_CSTS_SHST_COMPLETE 2u
#define NVME_CSTS_NSSRO		BIT(4)

/* AQA: sizes are 0-based */
#define NVME_AQA_ASQS	     GENMASK(11, 0)
#define NVME_AQA_ACQS	     GENMASK(27, 16)
#define NVME_ADMIN_QUEUE_MAX 4096u

/* Doorbell of queue y: SQ tail at 2y, CQ head at 2y+1, in units of the stride. */
#define NVME_SQ_TDBL(qid, stride) (NVME_REG_DBS + (2u * (qid)) * (stride))
#define NVME_CQ_HDBL(qid, stride) (NVME_REG_DBS + (2u * (qid) + 1u) * (stride))

/* 4.2 Submission queue entry (64 bytes) */
struct nvme_cmd {
	uint32_t cdw0; /* OPC[7:0], FUSE[9:8], PSDT[15:14], CID[31:16] */
	uint32_t nsid;
	uint32_t cdw2;
	uint32_t cdw3;
	uint64_t mptr;
	uint64_t prp1;
	uint64_t prp2;
	uint32_t cdw10;
	uint32_t cdw11;
	uint32_t cdw12;
	uint32_t cdw13;
	uint32_t cdw14;
	uint32_t cdw15;
};

#define NVME_CMD_OPC GENMASK(7, 0)
#define NVME_CMD_CID GENMASK(31, 16)

/* 4.6 Completion queue entry (16 bytes) */
struct nvme_cpl {
	uint32_t dw0;
	uint32_t dw1;
	uint16_t sqhd;
	uint16_t sqid;
	uint16_t cid;
	uint16_t status; /* P[0], SC[8:1], SCT[11:9], CRD[13:12], M[14], DNR[15] */
};

#define NVME_CPL_P   BIT(0)
#define NVME_CPL_SC  GENMASK(8, 1)
#define NVME_CPL_SCT GENMASK(11, 9)
#define NVME_CPL_CRD GENMASK(13, 12)
#define NVME_CPL_M   BIT(14)
#define NVME_CPL_DNR BIT(15)

#define NVME_SQE_SIZE_LOG2 6u
#define NVME_CQE_SIZE_LOG2 4u

/* Status code types (4.6.1.2) */
#define NVME_SCT_GENERIC      0x0
#define NVME_SCT_CMD_SPECIFIC 0x1
#define NVME_SCT_MEDIA	      0x2
#define NVME_SCT_PATH	      0x3
#define NVME_SCT_VENDOR	      0x7

/* Generic command status (4.6.1.2.1) */
#define NVME_SC_SUCCESS		    0x00
#define NVME_SC_INVALID_OPCODE	    0x01
#define NVME_SC_INVALID_FIELD	    0x02
#define NVME_SC_CID_CONFLICT	    0x03
#define NVME_SC_DATA_TRANSFER_ERROR 0x04
#define NVME_SC_POWER_LOSS	    0x05
#define NVME_SC_INTERNAL	    0x06
#define NVME_SC_ABORT_REQ	    0x07
#define NVME_SC_ABORT_SQ_DELETED    0x08
#define NVME_SC_FUSED_FAIL	    0x09
#define NVME_SC_FUSED_MISSING	    0x0a
#define NVME_SC_INVALID_NS	    0x0b
#define NVME_SC_CMD_SEQ_ERROR	    0x0c
#define NVME_SC_PRP_OFFSET_INVALID  0x13
#define NVME_SC_OPERATION_DENIED    0x15
#define NVME_SC_LBA_RANGE	    0x80
#define NVME_SC_CAP_EXCEEDED	    0x81
#define NVME_SC_NS_NOT_READY	    0x82

/* Command specific status (4.6.1.2.2) */
#define NVME_SC_CQ_INVALID	       0x00
#define NVME_SC_QID_INVALID	       0x01
#define NVME_SC_QUEUE_SIZE	       0x02
#define NVME_SC_ABORT_LIMIT	       0x03
#define NVME_SC_ASYNC_LIMIT	       0x05
#define NVME_SC_INVALID_VECTOR	       0x08
#define NVME_SC_INVALID_LOG_PAGE       0x09
#define NVME_SC_INVALID_FORMAT	       0x0a
#define NVME_SC_INVALID_QUEUE_DELETION 0x0c
#define NVME_SC_CONFLICTING_ATTRS      0x80
#define NVME_SC_READ_ONLY	       0x82

/* Media and data integrity errors (4.6.1.2.3) */
#define NVME_SC_WRITE_FAULT	0x80
#define NVME_SC_READ_ERROR	0x81
#define NVME_SC_GUARD_CHECK	0x82
#define NVME_SC_APPTAG_CHECK	0x83
#define NVME_SC_REFTAG_CHECK	0x84
#define NVME_SC_COMPARE_FAILED	0x85
#define NVME_SC_ACCESS_DENIED	0x86
#define NVME_SC_UNWRITTEN_BLOCK 0x87

/* Admin command opcodes (5) */
#define NVME_ADMIN_DELETE_SQ	0x00
#define NVME_ADMIN_CREATE_SQ	0x01
#define NVME_ADMIN_GET_LOG_PAGE 0x02
#define NVME_ADMIN_DELETE_CQ	0x04
#define NVME_ADMIN_CREATE_CQ	0x05
#define NVME_ADMIN_IDENTIFY	0x06
#define NVME_ADMIN_ABORT	0x08
#define NVME_ADMIN_SET_FEATURES 0x09
#define NVME_ADMIN_GET_FEATURES 0x0a

/* NVM command set opcodes */
#define NVME_CMD_FLUSH	      0x00
#define NVME_CMD_WRITE	      0x01
#define NVME_CMD_READ	      0x02
#define NVME_CMD_WRITE_ZEROES 0x08
#define NVME_CMD_DSM	      0x09

/* Create I/O CQ / SQ (5.4, 5.5) */
#define NVME_QUEUE_QID	 GENMASK(15, 0)
#define NVME_QUEUE_QSIZE GENMASK(31, 16) /* 0-based */
#define NVME_CQ_PC	 BIT(0)
#define NVME_CQ_IEN	 BIT(1)
#define NVME_CQ_IV	 GENMASK(31, 16)
#define NVME_SQ_PC	 BIT(0)
#define NVME_SQ_CQID	 GENMASK(31, 16)

/* Abort (5.1): cdw10 SQID[15:0], CID[31:16] */
#define NVME_ABORT_SQID GENMASK(15, 0)
#define NVME_ABORT_CID	GENMASK(31, 16)

/* Identify (5.15): CNS in cdw10[7:0] */
#define NVME_ID_CNS_NS		   0x00
#define NVME_ID_CNS_CTRL	   0x01
#define NVME_ID_CNS_NS_ACTIVE_LIST 0x02
#define NVME_ID_ACTIVE_LIST_MAX	   1024u

/* Features (5.21) */
#define NVME_FEAT_VOLATILE_WC 0x06
#define NVME_FEAT_NUM_QUEUES  0x07
#define NVME_FEAT_NSQ	      GENMASK(15, 0) /* 0-based */
#define NVME_FEAT_NCQ	      GENMASK(31, 16)

/* Read / Write / Write Zeroes: cdw10-11 SLBA, cdw12 */
#define NVME_RW_NLB	   GENMASK(15, 0) /* 0-based */
#define NVME_RW_DEAC	   BIT(25)	  /* write zeroes: deallocate */
#define NVME_RW_FUA	   BIT(30)
#define NVME_RW_MAX_BLOCKS 65536u

/* Dataset Management: cdw10 NR[7:0] 0-based, cdw11 AD (deallocate) bit 2 */
#define NVME_DSM_NR	    GENMASK(7, 0)
#define NVME_DSM_AD	    BIT(2)
#define NVME_DSM_MAX_RANGES 256u

struct nvme_dsm_range {
	uint32_t cattr;
	uint32_t nlb; /* 1-based */
	uint64_t slba;
};

/* 5.15.2.1 Identify Controller data structure (4096 bytes) */
struct nvme_id_ctrl {
	uint16_t vid;
	uint16_t ssvid;
	char sn[20];
	char mn[40];
	char fr[8];
	uint8_t rab;
	uint8_t ieee[3];
	uint8_t cmic;
	uint8_t mdts; /* max transfer 2^MDTS * min page size; 0 = no limit */
	uint16_t cntlid;
	uint32_t ver;
	uint8_t rsvd84[428];
	uint8_t sqes;
	uint8_t cqes;
	uint16_t maxcmd;
	uint32_t nn;
	uint16_t oncs;
	uint16_t fuses;
	uint8_t fna;
	uint8_t vwc;
	uint16_t awun;
	uint16_t awupf;
	uint8_t nvscc;
	uint8_t nwpc;
	uint16_t acwu;
	uint16_t rsvd534;
	uint32_t sgls;
	uint8_t rsvd540[3556];
};

#define NVME_ONCS_DSM	       BIT(2)
#define NVME_ONCS_WRITE_ZEROES BIT(3)
#define NVME_VWC_PRESENT       BIT(0)

/* 5.15.2.2 Identify Namespace data structure (4096 bytes) */
struct nvme_lbaf {
	uint16_t ms;   /* metadata bytes per block */
	uint8_t lbads; /* log2 of the data size */
	uint8_t rp;
};

struct nvme_id_ns {
	uint64_t nsze;
	uint64_t ncap;
	uint64_t nuse;
	uint8_t nsfeat;
	uint8_t nlbaf; /* 0-based count of formats */
	uint8_t flbas; /* format in use: [3:0], metadata at end of data: bit 4 */
	uint8_t mc;
	uint8_t dpc;
	uint8_t dps;
	uint8_t nmic;
	uint8_t rescap;
	uint8_t fpi;
	uint8_t dlfeat;
	uint8_t rsvd34[94];
	struct nvme_lbaf lbaf[16];
	uint8_t rsvd192[3904];
};

#define NVME_NS_FLBAS_FMT     GENMASK(3, 0)
#define NVME_NS_DLFEAT_READ   GENMASK(2, 0) /* what deallocated blocks read as */
#define NVME_NS_DLFEAT_ZEROES 1u

static_assert(sizeof(struct nvme_cmd) == 64, "SQ entry is 64 bytes");
static_assert(offsetof(struct nvme_cmd, prp1) == 24, "PRP1 at byte 24");
static_assert(offsetof(struct nvme_cmd, cdw10) == 40, "CDW10 at byte 40");
static_assert(sizeof(struct nvme_cpl) == 16, "CQ entry is 16 bytes");
static_assert(offsetof(struct nvme_cpl, status) == 14, "status at byte 14");
static_assert(sizeof(struct nvme_dsm_range) == 16, "DSM range is 16 bytes");
static_assert(sizeof(struct nvme_id_ctrl) == 4096, "identify controller is 4 KiB");
static_assert(offsetof(struct nvme_id_ctrl, mdts) == 77, "MDTS at byte 77");
static_assert(offsetof(struct nvme_id_ctrl, sqes) == 512, "SQES at byte 512");
static_assert(offsetof(struct nvme_id_ctrl, nn) == 516, "NN at byte 516");
static_assert(offsetof(struct nvme_id_ctrl, oncs) == 520, "ONCS at byte 520");
static_assert(offsetof(struct nvme_id_ctrl, vwc) == 525, "VWC at byte 525");
static_assert(offsetof(struct nvme_id_ctrl, sgls) == 536, "SGLS at byte 536");
static_assert(sizeof(struct nvme_id_ns) == 4096, "identify namespace is 4 KiB");
static_assert(offsetof(struct nvme_id_ns, nlbaf) == 25, "NLBAF at byte 25");
static_assert(offsetof(struct nvme_id_ns, dlfeat) == 33, "DLFEAT at byte 33");
static_assert(offsetof(struct nvme_id_ns, lbaf) == 128, "LBAF table at byte 128");

#endif
