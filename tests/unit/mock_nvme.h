/* SPDX-License-Identifier: MIT */
/*
 * A behavioural model of an NVMe 1.4 controller on the mock backend, for unit
 * tests of drivers/nvme without hardware (NVM Express Base Specification 1.4c
 * sections 3.1, 4, 5 and 7.6; NVM Command Set for read, write, flush, write
 * zeroes and dataset management).
 *
 * The PCI function looks like QEMU's emulated controller: vendor 0x1b36,
 * device 0x0010, class 01/08/02, a 16 KiB BAR0, 65 MSI-X vectors (configurable)
 * and one INTx line. BAR0 is the register file of the mock backend with hooks:
 *
 * - CAP (MQES and TO configurable, DSTRD 0, CQR, CSS NVM, MPSMIN 0, MPSMAX 4),
 *   VS 1.4, CSTS and the admin queue registers live in plain BAR memory, so the
 *   backend's REG_STUCK and ALL_ONES faults apply to them as to any register.
 * - CC: EN 0->1 with a valid AQA/ASQ/ACQ sets CSTS.RDY (or, by ready mode, never
 *   does, or sets CSTS.CFS); EN 1->0 clears CSTS and deletes every queue; SHN
 *   sets CSTS.SHST to "complete" at once.
 * - An SQ tail doorbell write runs the queued commands synchronously, before the
 *   write returns, and posts their completions with the phase tag. A full CQ
 *   (one slot kept free) holds completions back until the host moves the CQ
 *   head doorbell. Each CQ that got entries raises its MSI-X vector (IEN/IV from
 *   Create I/O CQ; vector 0 for the admin CQ), or INTx when MSI-X is off.
 *
 * Device memory is reached only through vdf_mock_dma_ptr, so unmapped IOVAs
 * fail like an IOMMU fault. Queue rings are translated once, when the queue is
 * created (as a controller caching the translation would), so the backend's
 * DMA_ACCESS fault hits data transfers (PRPs, PRP lists, DSM ranges, identify
 * data) and never the rings themselves.
 *
 * Namespaces are held in memory (data only; metadata is not stored). Commands
 * that are not modelled complete with Invalid Command Opcode.
 *
 * Calling context: single-threaded; the model runs inside the MMIO accesses of
 * the code under test.
 */
#ifndef VDF_TESTS_MOCK_NVME_H
#define VDF_TESTS_MOCK_NVME_H

#include <stdbool.h>
#include <stdint.h>

#include "vdf/hal.h"
#include "vdf/hw/nvme.h"
#include "vdf/mock.h"

#define MOCK_NVME_VENDOR	0x1b36u
#define MOCK_NVME_DEVICE	0x0010u
#define MOCK_NVME_BAR0_SIZE	0x4000u
#define MOCK_NVME_MSIX_VECTORS	65u
#define MOCK_NVME_MAX_IO_QUEUES 64u /* qid 1..64 */
#define MOCK_NVME_MAX_NS	8u  /* configured namespaces are NSID 1..8 */

/* Identify Controller strings (space padded on the wire). */
#define MOCK_NVME_MODEL	   "VDF Mock NVMe Ctrl"
#define MOCK_NVME_SERIAL   "VDFMOCK0001"
#define MOCK_NVME_FIRMWARE "1.0"

/* The LBA format table every namespace reports; the index is the FLBAS format. */
enum mock_nvme_lbaf {
	MOCK_NVME_LBAF_512 = 0,	    /* 512-byte blocks, no metadata */
	MOCK_NVME_LBAF_4K = 1,	    /* 4096-byte blocks, no metadata */
	MOCK_NVME_LBAF_512_MD8 = 2, /* 512 + 8 metadata bytes */
	MOCK_NVME_LBAF_4K_MD64 = 3, /* 4096 + 64 metadata bytes */
	MOCK_NVME_LBAF_COUNT
};

/* What CC.EN = 1 does. */
enum mock_nvme_ready_mode {
	MOCK_NVME_READY_NORMAL, /* CSTS.RDY = 1 when the admin queue is valid */
	MOCK_NVME_READY_NEVER,	/* CSTS.RDY stays 0 */
	MOCK_NVME_READY_CFS,	/* CSTS.CFS = 1 instead of RDY */
};

struct mock_nvme_ns_config {
	uint64_t nsze; /* blocks; 0 = not active (Identify returns zeros) */
	enum mock_nvme_lbaf lbaf;
	bool dlfeat_unknown; /* DLFEAT: deallocated blocks read as "not reported" instead of 0 */
};

struct mock_nvme_config {
	uint16_t mqes;		/* CAP.MQES: entries per queue, 0-based (>= 1) */
	uint8_t to;		/* CAP.TO, 500 ms units */
	uint8_t mdts;		/* Identify MDTS (2^n 4 KiB pages; 0 = no limit) */
	uint16_t max_io_queues; /* Number of Queues always reports this many (QEMU does) */
	uint32_t nn;		/* Identify NN */
	unsigned msix_vectors;	/* 0: INTx only */
	uint16_t oncs;		/* Identify ONCS */
	bool vwc;		/* volatile write cache present */
	bool no_active_list;	/* Identify CNS 2 fails (as on NVMe 1.0 controllers) */
	enum mock_nvme_ready_mode ready;
	struct mock_nvme_ns_config ns[MOCK_NVME_MAX_NS]; /* ns[i] is NSID i + 1 */
};

/* MQES 1023, TO 1 (500 ms), MDTS 5 (128 KiB), 64 I/O queues, 65 vectors, ONCS
 * DSM + write zeroes, VWC, one namespace of 16384 512-byte blocks. */
void mock_nvme_config_default(struct mock_nvme_config *cfg);

struct mock_nvme;

/* Returns 0, -EINVAL (bad config) or -ENOMEM. */
int mock_nvme_create(const struct mock_nvme_config *cfg, struct mock_nvme **out) VDF_MUST_CHECK;
/* Closes the device too. The driver must be done with it. Accepts NULL. */
void mock_nvme_destroy(struct mock_nvme *m);
struct vdf_dev *mock_nvme_dev(struct mock_nvme *m);
struct vdf_mock *mock_nvme_mock(struct mock_nvme *m);

/* --- Test controls --- */

/*
 * The next `n` commands fetched from SQ `qid` (-1: any queue) with opcode
 * `opc` (-1: any) are consumed but never completed (a lost command).
 */
void mock_nvme_drop_next(struct mock_nvme *m, int qid, int opc, unsigned n);
/* Likewise, but they complete at once with this status and are not executed. */
void mock_nvme_fail_next(struct mock_nvme *m, int qid, int opc, unsigned n, uint8_t sct,
			 uint8_t sc);
/* Remove every drop/fail rule. */
void mock_nvme_clear_rules(struct mock_nvme *m);
/* Post a successful completion for `cid` to CQ `cqid` now, whatever is
 * outstanding (a controller bug). -EINVAL when the CQ does not exist. */
int mock_nvme_post_bogus(struct mock_nvme *m, uint16_t cqid, uint16_t cid) VDF_MUST_CHECK;
/* A hung controller: doorbells are recorded but nothing is fetched. Clearing it
 * runs what was queued meanwhile. */
void mock_nvme_set_stopped(struct mock_nvme *m, bool stopped);
/* Behaviour of the next CC.EN 0->1. */
void mock_nvme_set_ready_mode(struct mock_nvme *m, enum mock_nvme_ready_mode mode);
/* Raise or clear CSTS.CFS now; commands are not processed while it is set. */
void mock_nvme_set_cfs(struct mock_nvme *m, bool cfs);

/* Called for every command fetched, before drop/fail rules and execution; it may
 * call the controls above (a rule added here applies to this command). */
typedef void (*mock_nvme_cmd_fn)(struct mock_nvme *m, uint16_t qid, const struct nvme_cmd *cmd,
				 void *ctx);
void mock_nvme_on_command(struct mock_nvme *m, mock_nvme_cmd_fn fn, void *ctx);
/* Called for every CC write, before the model acts on it. */
typedef void (*mock_nvme_cc_fn)(struct mock_nvme *m, uint32_t old_cc, uint32_t new_cc, void *ctx);
void mock_nvme_on_cc_write(struct mock_nvme *m, mock_nvme_cc_fn fn, void *ctx);

/* --- Observation --- */

/* Commands fetched with this opcode from the admin queue or from I/O queues. */
uint64_t mock_nvme_count(const struct mock_nvme *m, bool admin, uint8_t opc);

struct mock_nvme_stats {
	uint64_t enables;	/* CC.EN 0->1 that made the controller ready */
	uint64_t enable_errors; /* CC.EN 0->1 with a bad configuration */
	uint64_t disables;	/* CC.EN 1->0 */
	uint64_t shutdowns;	/* CC.SHN notifications */
	uint64_t cmds;		/* fetched from any SQ */
	uint64_t cpls;		/* written into a CQ */
	uint64_t dropped;	/* by a drop rule */
	uint64_t injected;	/* completed by a fail rule */
	uint64_t bogus;		/* mock_nvme_post_bogus */
	uint64_t cq_full_waits; /* completions held back by a full CQ */
	uint64_t irqs;		/* interrupts raised */
	uint64_t bad_doorbells; /* writes to a missing queue or out of range */
	uint64_t xfer_errors;	/* data transfers that hit unmapped memory */
};

void mock_nvme_get_stats(const struct mock_nvme *m, struct mock_nvme_stats *st);

/* The model's view of queue pair `qid` (0 = admin). */
struct mock_nvme_queue_info {
	bool sq_exists, cq_exists;
	uint16_t sq_size, sq_head, sq_tail, cqid;
	uint16_t cq_size, cq_head, cq_tail, iv;
	bool ien;
	uint8_t phase;		 /* phase tag the next posted entry gets */
	unsigned pending;	 /* completions waiting for CQ space */
	uint64_t cq_head_writes; /* CQ head doorbell writes */
};

int mock_nvme_queue_info(const struct mock_nvme *m, uint16_t qid,
			 struct mock_nvme_queue_info *info) VDF_MUST_CHECK;

/* Backing store of a configured namespace (nsze * block size bytes), or NULL. */
uint8_t *mock_nvme_ns_data(struct mock_nvme *m, uint32_t nsid);
uint32_t mock_nvme_ns_block_size(const struct mock_nvme *m, uint32_t nsid);

#endif
