// SPDX-License-Identifier: MIT
/*
 * NVMe queue pairs: submission ring, completion ring with phase tag (base
 * spec 4.6, 7.2), command IDs, per-command timeouts and a software queue for
 * commands that find the ring full.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nvme.h"
#include "vdf/event.h"
#include "vdf/log.h"

int nvme_qpair_alloc(struct nvme_ctrlr *c, uint16_t qid, uint16_t depth, uint16_t vector,
		     struct nvme_qpair *qp)
{
	unsigned ntr;
	int rc;

	memset(qp, 0, sizeof(*qp));
	if (depth < 2)
		return -EINVAL;
	qp->ctrlr = c;
	qp->qid = qid;
	qp->depth = depth;
	qp->vector = vector;
	qp->sq_db = NVME_SQ_TDBL(qid, c->db_stride);
	qp->cq_db = NVME_CQ_HDBL(qid, c->db_stride);
	ntr = depth - 1u;
	rc = vdf_dma_alloc(c->dev, (size_t)depth << NVME_SQE_SIZE_LOG2, VDF_DMA_TO_DEVICE,
			   &qp->sq_mem);
	if (rc)
		goto out_free;
	rc = vdf_dma_alloc(c->dev, (size_t)depth << NVME_CQE_SIZE_LOG2, VDF_DMA_FROM_DEVICE,
			   &qp->cq_mem);
	if (rc)
		goto out_free;
	rc = vdf_dma_alloc(c->dev, (size_t)ntr * c->page_size, VDF_DMA_TO_DEVICE, &qp->page_mem);
	if (rc)
		goto out_free;
	qp->trackers = calloc(ntr, sizeof(*qp->trackers));
	qp->free_cids = calloc(ntr, sizeof(*qp->free_cids));
	if (!qp->trackers || !qp->free_cids) {
		rc = -ENOMEM;
		goto out_free;
	}
	qp->sq = qp->sq_mem->va;
	qp->cq = qp->cq_mem->va;
	for (unsigned i = 0; i < ntr; i++) {
		struct nvme_tracker *tr = &qp->trackers[i];

		tr->cid = (uint16_t)i;
		tr->page = (uint64_t *)((uint8_t *)qp->page_mem->va + (size_t)i * c->page_size);
		tr->page_iova = qp->page_mem->iova + (uint64_t)i * c->page_size;
	}
	nvme_qpair_reset(qp);
	return 0;

out_free:
	nvme_qpair_free(qp);
	return rc;
}

void nvme_qpair_free(struct nvme_qpair *qp)
{
	if (!qp->ctrlr)
		return;
	vdf_dma_free(qp->page_mem);
	vdf_dma_free(qp->cq_mem);
	vdf_dma_free(qp->sq_mem);
	free(qp->trackers);
	free(qp->free_cids);
	memset(qp, 0, sizeof(*qp));
}

void nvme_qpair_reset(struct nvme_qpair *qp)
{
	unsigned ntr = qp->depth - 1u;

	memset(qp->sq_mem->va, 0, qp->sq_mem->size);
	memset(qp->cq_mem->va, 0, qp->cq_mem->size);
	qp->sq_tail = qp->sq_head = qp->cq_head = 0;
	qp->phase = 1;
	qp->nfree = 0;
	/* Hand out low CIDs first (stack order). */
	for (unsigned i = ntr; i-- > 0;) {
		qp->trackers[i].active = false;
		qp->free_cids[qp->nfree++] = (uint16_t)i;
	}
}

unsigned nvme_qpair_outstanding(const struct nvme_qpair *qp)
{
	return (qp->depth - 1u) - qp->nfree;
}

int nvme_qpair_submit(struct nvme_qpair *qp, struct nvme_cmd *cmd, nvme_setup_fn setup,
		      void *setup_arg, nvme_cpl_cb cb, void *cb_arg, uint32_t timeout_ms)
{
	struct nvme_ctrlr *c = qp->ctrlr;
	struct nvme_tracker *tr;
	int rc;

	if (c->failed)
		return -ENODEV;
	if (c->resetting)
		return -EBUSY;
	if (!qp->nfree)
		return -EAGAIN;
	tr = &qp->trackers[qp->free_cids[qp->nfree - 1]];
	cmd->cdw0 = (cmd->cdw0 & ~NVME_CMD_CID) | FIELD_PREP(NVME_CMD_CID, tr->cid);
	if (setup) {
		rc = setup(tr, cmd, setup_arg);
		if (rc)
			return rc;
	}
	qp->nfree--;
	tr->active = true;
	tr->abort_sent = false;
	tr->cb = cb;
	tr->cb_arg = cb_arg;
	tr->opc = (uint8_t)FIELD_GET(NVME_CMD_OPC, cmd->cdw0);
	tr->deadline_ns = vdf_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	qp->sq[qp->sq_tail] = *cmd;
	if (++qp->sq_tail == qp->depth)
		qp->sq_tail = 0;
	/* The entry (and any PRP list) must be visible before the doorbell. */
	vdf_wmb();
	vdf_mmio_write32(&c->bar, qp->sq_db, qp->sq_tail);
	qp->submitted++;
	return 0;
}

static void qpair_drain_pending(struct nvme_qpair *qp)
{
	while (qp->pend_head && qp->nfree) {
		struct nvme_pending *p = qp->pend_head;
		int rc;

		qp->pend_head = p->next;
		if (!qp->pend_head)
			qp->pend_tail = NULL;
		rc = nvme_qpair_submit(qp, &p->cmd, p->setup, p->setup_arg, p->cb, p->cb_arg,
				       qp->ctrlr->opts.io_timeout_ms);
		if (rc)
			p->cb(p->cb_arg, rc, NULL);
	}
}

int nvme_qpair_submit_or_queue(struct nvme_qpair *qp, struct nvme_pending *p)
{
	int rc = -EAGAIN;

	if (!qp->pend_head)
		rc = nvme_qpair_submit(qp, &p->cmd, p->setup, p->setup_arg, p->cb, p->cb_arg,
				       qp->ctrlr->opts.io_timeout_ms);
	if (rc != -EAGAIN)
		return rc;
	p->next = NULL;
	if (qp->pend_tail)
		qp->pend_tail->next = p;
	else
		qp->pend_head = p;
	qp->pend_tail = p;
	return 0;
}

static void complete_tracker(struct nvme_qpair *qp, struct nvme_tracker *tr, int status,
			     const struct nvme_cpl *cpl)
{
	nvme_cpl_cb cb = tr->cb;
	void *arg = tr->cb_arg;

	tr->active = false;
	qp->free_cids[qp->nfree++] = tr->cid;
	qp->completed++;
	cb(arg, status, cpl);
}

int nvme_qpair_process_completions(struct nvme_qpair *qp, unsigned max)
{
	struct nvme_ctrlr *c = qp->ctrlr;
	unsigned n = 0;

	while (n < max || !max) {
		volatile struct nvme_cpl *vc = &qp->cq[qp->cq_head];
		uint16_t status = le16toh(vc->status);
		struct nvme_tracker *tr;
		struct nvme_cpl cpl;
		uint16_t cid, sqhd;

		if ((status & NVME_CPL_P) != qp->phase)
			break;
		/* Read the rest of the entry only after seeing the phase flip. */
		vdf_rmb();
		cpl.dw0 = le32toh(vc->dw0);
		cpl.dw1 = le32toh(vc->dw1);
		cpl.sqhd = sqhd = le16toh(vc->sqhd);
		cpl.sqid = le16toh(vc->sqid);
		cpl.cid = cid = le16toh(vc->cid);
		cpl.status = status;
		if (++qp->cq_head == qp->depth) {
			qp->cq_head = 0;
			qp->phase ^= 1;
		}
		n++;
		if (sqhd < qp->depth)
			qp->sq_head = sqhd;
		if (cid >= qp->depth - 1u || !qp->trackers[cid].active) {
			qp->bogus_cpls++;
			VDF_LOG_RL(LOG_ERR, "nvme", c->name,
				   "queue %u: completion for unknown command ID %u (status 0x%x) "
				   "ignored",
				   qp->qid, cid, status);
			continue;
		}
		tr = &qp->trackers[cid];
		if (FIELD_GET(NVME_CPL_SC, status) || FIELD_GET(NVME_CPL_SCT, status))
			VDF_LOG_RL(LOG_DEBUG, "nvme", c->name, "queue %u cid %u opcode 0x%x: %s",
				   qp->qid, cid, tr->opc, nvme_status_string(status));
		complete_tracker(qp, tr, nvme_status_to_errno(status), &cpl);
	}
	if (n) {
		vdf_mmio_write32(&c->bar, qp->cq_db, qp->cq_head);
		qpair_drain_pending(qp);
	}
	return (int)n;
}

void nvme_qpair_fail_all(struct nvme_qpair *qp, int status)
{
	for (unsigned i = 0; i < qp->depth - 1u; i++)
		if (qp->trackers[i].active)
			complete_tracker(qp, &qp->trackers[i], status, NULL);
	while (qp->pend_head) {
		struct nvme_pending *p = qp->pend_head;

		qp->pend_head = p->next;
		p->cb(p->cb_arg, status, NULL);
	}
	qp->pend_tail = NULL;
}
