/* SPDX-License-Identifier: MIT */
/*
 * NVMe driver internals: controller, queue pairs, namespaces.
 *
 * Layout of the driver:
 *   nvme_status.c  status codes to strings and errnos
 *   nvme_prp.c     PRP entries and lists for a transfer
 *   nvme_qpair.c   submission/completion queues, command tracking, timeouts
 *   nvme_ctrlr.c   controller bring-up (spec 7.6.1), admin commands, reset
 *   nvme_io.c      the block class on a namespace: splitting, validation
 *   nvme_driver.c  the vdf_driver glue (ops table, interrupts)
 *   main.c         the stand-alone binary vdf-nvme
 *
 * Threading: one thread drives a controller (its event loop thread).
 */
#ifndef VDF_DRIVERS_NVME_H
#define VDF_DRIVERS_NVME_H

#include <stdbool.h>
#include <stdint.h>

#include "vdf/block.h"
#include "vdf/dma.h"
#include "vdf/hal.h"
#include "vdf/hw/nvme.h"
#include "vdf/mmio.h"

struct nvme_ctrlr;
struct nvme_qpair;

/*
 * Completion callback: status is 0, a negative errno decoded from the NVMe
 * status, or a host-side error (-ETIMEDOUT, -ECANCELED when a reset failed the
 * command, -ENODEV when the device is gone). cpl is NULL for host-side errors.
 */
typedef void (*nvme_cpl_cb)(void *arg, int status, const struct nvme_cpl *cpl);

/* --- nvme_status.c --- */
const char *nvme_status_string(uint16_t status);
int nvme_status_to_errno(uint16_t status);

/* --- nvme_prp.c --- */
/*
 * Describe [iova, iova+len) with PRP1/PRP2, writing a PRP list into `list`
 * (at device address list_iova, room for list_cap entries) when the transfer
 * spans more than two pages. iova must be dword-aligned.
 * Returns 0, -EINVAL (misaligned, zero length) or -E2BIG (list too small).
 */
int nvme_prp_build(vdf_iova_t iova, uint32_t len, uint32_t page_size, uint64_t *list,
		   vdf_iova_t list_iova, unsigned list_cap, uint64_t *prp1,
		   uint64_t *prp2) VDF_MUST_CHECK;

/* --- nvme_qpair.c --- */
struct nvme_tracker {
	uint16_t cid;
	bool active;
	bool abort_sent;
	nvme_cpl_cb cb;
	void *cb_arg;
	uint64_t deadline_ns;
	uint64_t *page; /* one page of DMA memory: PRP list or DSM ranges */
	vdf_iova_t page_iova;
	uint8_t opc;
};

struct nvme_pending;

struct nvme_qpair {
	struct nvme_ctrlr *ctrlr;
	uint16_t qid;
	uint16_t depth;	 /* entries in each ring */
	uint16_t vector; /* interrupt vector of its CQ */
	struct vdf_dma_buf *sq_mem, *cq_mem, *page_mem;
	struct nvme_cmd *sq;
	volatile struct nvme_cpl *cq;
	uint16_t sq_tail, sq_head, cq_head;
	uint8_t phase;
	uint32_t sq_db, cq_db;	       /* doorbell offsets in BAR0 */
	struct nvme_tracker *trackers; /* depth - 1 of them: a full SQ keeps one slot free */
	uint16_t *free_cids;
	unsigned nfree;
	struct nvme_pending *pend_head, *pend_tail; /* waiting for a free tracker */
	uint64_t submitted, completed, bogus_cpls, timeouts;
};

int nvme_qpair_alloc(struct nvme_ctrlr *c, uint16_t qid, uint16_t depth, uint16_t vector,
		     struct nvme_qpair *qp) VDF_MUST_CHECK;
void nvme_qpair_free(struct nvme_qpair *qp);
/* Back to the empty state after a controller reset (rings zeroed, phase 1). */
void nvme_qpair_reset(struct nvme_qpair *qp);

/*
 * Submit a command; the CID is assigned here. `setup` (may be NULL) is called
 * with the tracker before the command is copied to the ring so it can build
 * PRP lists in the tracker's page; it returns 0 or an errno, which aborts the
 * submission. Returns -EAGAIN when no tracker is free.
 */
typedef int (*nvme_setup_fn)(struct nvme_tracker *tr, struct nvme_cmd *cmd, void *arg);
int nvme_qpair_submit(struct nvme_qpair *qp, struct nvme_cmd *cmd, nvme_setup_fn setup,
		      void *setup_arg, nvme_cpl_cb cb, void *cb_arg, uint32_t timeout_ms);
/* Reap completions; returns how many. Callbacks run from here. */
int nvme_qpair_process_completions(struct nvme_qpair *qp, unsigned max);
/* Fail every outstanding command with `status` (host-side errno). */
void nvme_qpair_fail_all(struct nvme_qpair *qp, int status);
/* Commands in flight. */
unsigned nvme_qpair_outstanding(const struct nvme_qpair *qp);

/* Commands waiting for a free tracker (block requests split into commands). */
struct nvme_pending {
	struct nvme_pending *next;
	struct nvme_cmd cmd;
	nvme_setup_fn setup;
	void *setup_arg;
	nvme_cpl_cb cb;
	void *cb_arg;
};
/* Submit now or queue (never -EAGAIN); `p` must live until its callback runs. */
int nvme_qpair_submit_or_queue(struct nvme_qpair *qp, struct nvme_pending *p) VDF_MUST_CHECK;

/* --- nvme_ctrlr.c --- */
struct nvme_ns {
	struct nvme_ctrlr *ctrlr;
	uint32_t nsid;
	uint64_t num_blocks;
	uint32_t block_size;
	uint16_t md_size;
	bool dealloc_reads_zeroes;
	struct vdf_block_dev bdev;
	char name[48];
};

struct nvme_opts {
	unsigned io_queues;	   /* 0 = one per online CPU */
	unsigned io_queue_depth;   /* entries per I/O queue (capped by CAP.MQES) */
	unsigned admin_timeout_ms; /* per admin command */
	unsigned io_timeout_ms;	   /* per I/O command before abort, then reset */
	bool polled;		   /* no interrupts: completions are polled */
};

void nvme_opts_default(struct nvme_opts *o);

struct nvme_ctrlr {
	struct vdf_dev *dev;
	const char *name;
	struct vdf_mmio bar;
	struct nvme_opts opts;
	uint64_t cap;
	uint32_t vs;
	uint32_t db_stride; /* bytes */
	uint32_t page_size; /* memory page size we configured (CC.MPS) */
	uint32_t ready_timeout_ms;
	uint32_t max_xfer; /* bytes per command */
	uint16_t mqes;	   /* max entries per queue (1-based) */
	uint32_t nn;
	uint16_t oncs;
	bool vwc;
	char model[41], serial[21], firmware[9];
	struct vdf_dma_buf *scratch; /* 4 KiB for identify data */
	struct nvme_qpair admin;
	struct nvme_qpair *ioq;
	unsigned nioq;
	struct nvme_ns *ns;
	unsigned nns;
	enum vdf_irq_kind irq_kind; /* MSI-X, or INTx when MSI-X is missing */
	unsigned nvec;		    /* 0 when polled */
	bool failed;		    /* device gone or beyond reset */
	bool resetting;		    /* submissions refused while set */
	uint64_t resets;
	uint64_t poll_count;
	uint64_t last_timeout_check; /* ns */
};

/*
 * Bring the controller up (spec 7.6.1): disable, admin queue, interrupts,
 * enable, identify, I/O queues, namespaces. Returns 0, -ENODEV (device gone),
 * -ETIMEDOUT (CAP.TO passed), -EIO (CSTS.CFS), or an admin command error.
 */
int nvme_ctrlr_init(struct nvme_ctrlr *c, struct vdf_dev *dev,
		    const struct nvme_opts *opts) VDF_MUST_CHECK;
/* Shut down (CC.SHN) and free everything. Accepts a partly initialized ctrlr. */
void nvme_ctrlr_fini(struct nvme_ctrlr *c);
/* Disable + re-enable the controller; in-flight commands fail with -ECANCELED. */
int nvme_ctrlr_reset(struct nvme_ctrlr *c) VDF_MUST_CHECK;

/* Wait for CSTS.RDY == want, bounded by CAP.TO. */
int nvme_ctrlr_wait_ready(struct nvme_ctrlr *c, bool want) VDF_MUST_CHECK;

/* Run an admin command to completion (polled, bounded by opts.admin_timeout_ms).
 * cpl_out (may be NULL) receives the completion entry. */
int nvme_ctrlr_admin_sync(struct nvme_ctrlr *c, struct nvme_cmd *cmd,
			  struct nvme_cpl *cpl_out) VDF_MUST_CHECK;
/* Abort a command (sqid, cid) asynchronously. */
int nvme_ctrlr_abort(struct nvme_ctrlr *c, uint16_t sqid, uint16_t cid) VDF_MUST_CHECK;
/* Called periodically: abort commands past their deadline, reset the
 * controller when aborts do not help. */
void nvme_ctrlr_check_timeouts(struct nvme_ctrlr *c);
/* Reap completions on every queue. */
int nvme_ctrlr_process_all(struct nvme_ctrlr *c);
/* The I/O queue for the calling thread's CPU. */
struct nvme_qpair *nvme_ctrlr_io_qpair(struct nvme_ctrlr *c);
/* Total interrupts taken per vector, summed. */
uint64_t nvme_ctrlr_irq_total(struct nvme_ctrlr *c);

/* --- nvme_io.c --- */
extern const struct vdf_block_ops nvme_block_ops;
void nvme_ns_block_init(struct nvme_ns *ns);

#endif
