// SPDX-License-Identifier: MIT
/*
 * The block class on an NVMe namespace: requests are validated, split into
 * commands that respect MDTS and the 16-bit block count, and completed once
 * every command has.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nvme.h"
#include "vdf/event.h"
#include "vdf/log.h"

#define TIMEOUT_CHECK_INTERVAL_NS 1000000000ull

struct nvme_io_req;

struct nvme_io_cmd {
	struct nvme_pending pend;
	struct nvme_io_req *req;
	vdf_iova_t iova;
	uint32_t len;
	uint64_t slba;
	uint32_t nblocks;
};

struct nvme_io_req {
	struct nvme_ns *ns;
	enum vdf_block_op op;
	vdf_block_cb cb;
	void *cb_arg;
	uint64_t bytes;
	unsigned outstanding;
	int status;
	unsigned ncmds;
	struct nvme_io_cmd cmds[];
};

static struct nvme_ns *to_ns(struct vdf_block_dev *bdev)
{
	return bdev->priv;
}

static void nvme_block_info(struct vdf_block_dev *bdev, struct vdf_block_info *info)
{
	struct nvme_ns *ns = to_ns(bdev);
	struct nvme_ctrlr *c = ns->ctrlr;

	memset(info, 0, sizeof(*info));
	info->num_blocks = ns->num_blocks;
	info->block_size = ns->block_size;
	info->max_transfer = c->max_xfer;
	info->queue_depth = c->nioq ? c->ioq[0].depth - 1u : 0;
	info->volatile_cache = c->vwc;
	info->supports_discard = c->oncs & NVME_ONCS_DSM;
	info->supports_write_zeroes = c->oncs & NVME_ONCS_WRITE_ZEROES;
	info->discard_zeroes = ns->dealloc_reads_zeroes;
	memcpy(info->model, c->model, sizeof(info->model));
	memcpy(info->serial, c->serial, sizeof(info->serial));
}

static void account(struct vdf_block_dev *bdev, const struct nvme_io_req *r)
{
	struct vdf_block_stats *st = &bdev->stats;

	if (r->status) {
		st->errors++;
		return;
	}
	switch (r->op) {
	case VDF_BLOCK_READ:
		st->reads++;
		st->bytes_read += r->bytes;
		break;
	case VDF_BLOCK_WRITE:
		st->writes++;
		st->bytes_written += r->bytes;
		break;
	case VDF_BLOCK_FLUSH:
		st->flushes++;
		break;
	case VDF_BLOCK_DISCARD:
		st->discards++;
		break;
	case VDF_BLOCK_WRITE_ZEROES:
		st->write_zeroes++;
		break;
	}
}

static void io_cmd_done(void *arg, int status, const struct nvme_cpl *cpl)
{
	struct nvme_io_cmd *ic = arg;
	struct nvme_io_req *r = ic->req;

	if (status && !r->status) {
		r->status = status;
		VDF_LOG_RL(LOG_ERR, "nvme", r->ns->name, "%s of %u blocks at LBA %llu: %s",
			   vdf_block_op_name(r->op), ic->nblocks, (unsigned long long)ic->slba,
			   cpl ? nvme_status_string(cpl->status) : strerror(-status));
	}
	if (--r->outstanding)
		return;
	account(&r->ns->bdev, r);
	r->cb(r->cb_arg, r->status);
	free(r);
}

static int setup_prps(struct nvme_tracker *tr, struct nvme_cmd *cmd, void *arg)
{
	struct nvme_io_cmd *ic = arg;
	uint32_t ps = ic->req->ns->ctrlr->page_size;
	uint64_t prp1, prp2;
	int rc;

	rc = nvme_prp_build(ic->iova, ic->len, ps, tr->page, tr->page_iova, ps / 8, &prp1, &prp2);
	if (rc)
		return rc;
	cmd->prp1 = htole64(prp1);
	cmd->prp2 = htole64(prp2);
	return 0;
}

static int setup_dsm_range(struct nvme_tracker *tr, struct nvme_cmd *cmd, void *arg)
{
	struct nvme_io_cmd *ic = arg;
	struct nvme_dsm_range *range = (struct nvme_dsm_range *)tr->page;

	range->cattr = 0;
	range->nlb = htole32(ic->nblocks);
	range->slba = htole64(ic->slba);
	cmd->prp1 = htole64(tr->page_iova);
	cmd->prp2 = 0;
	return 0;
}

static uint32_t blocks_per_cmd(const struct nvme_ns *ns, enum vdf_block_op op)
{
	switch (op) {
	case VDF_BLOCK_READ:
	case VDF_BLOCK_WRITE:
		return VDF_MIN(ns->ctrlr->max_xfer / ns->block_size, NVME_RW_MAX_BLOCKS);
	case VDF_BLOCK_WRITE_ZEROES:
		return NVME_RW_MAX_BLOCKS;
	default:
		return UINT32_MAX; /* flush: one command; discard: one 32-bit range */
	}
}

static void build_cmd(struct nvme_io_cmd *ic, const struct vdf_block_req *req)
{
	struct nvme_ns *ns = ic->req->ns;
	struct nvme_cmd *cmd = &ic->pend.cmd;

	memset(&ic->pend, 0, sizeof(ic->pend));
	cmd->nsid = htole32(ns->nsid);
	ic->pend.cb = io_cmd_done;
	ic->pend.cb_arg = ic;
	ic->pend.setup_arg = ic;
	switch (req->op) {
	case VDF_BLOCK_READ:
	case VDF_BLOCK_WRITE:
		cmd->cdw0 = req->op == VDF_BLOCK_READ ? NVME_CMD_READ : NVME_CMD_WRITE;
		cmd->cdw10 = htole32((uint32_t)ic->slba);
		cmd->cdw11 = htole32((uint32_t)(ic->slba >> 32));
		cmd->cdw12 = htole32(FIELD_PREP(NVME_RW_NLB, ic->nblocks - 1u) |
				     (req->op == VDF_BLOCK_WRITE && req->fua ? NVME_RW_FUA : 0));
		ic->pend.setup = setup_prps;
		break;
	case VDF_BLOCK_WRITE_ZEROES:
		cmd->cdw0 = NVME_CMD_WRITE_ZEROES;
		cmd->cdw10 = htole32((uint32_t)ic->slba);
		cmd->cdw11 = htole32((uint32_t)(ic->slba >> 32));
		cmd->cdw12 = htole32(FIELD_PREP(NVME_RW_NLB, ic->nblocks - 1u));
		break;
	case VDF_BLOCK_DISCARD:
		cmd->cdw0 = NVME_CMD_DSM;
		cmd->cdw10 = htole32(FIELD_PREP(NVME_DSM_NR, 0u));
		cmd->cdw11 = htole32(NVME_DSM_AD);
		ic->pend.setup = setup_dsm_range;
		break;
	case VDF_BLOCK_FLUSH:
		cmd->cdw0 = NVME_CMD_FLUSH;
		break;
	}
}

static int nvme_block_submit(struct vdf_block_dev *bdev, const struct vdf_block_req *req)
{
	struct nvme_ns *ns = to_ns(bdev);
	struct nvme_ctrlr *c = ns->ctrlr;
	struct vdf_block_info info;
	struct nvme_qpair *qp;
	struct nvme_io_req *r;
	uint32_t per_cmd;
	unsigned ncmds;
	vdf_iova_t iova = 0;
	int rc;

	if (c->failed)
		return -ENODEV;
	nvme_block_info(bdev, &info);
	rc = vdf_block_validate(bdev, &info, req);
	if (rc)
		return rc;
	per_cmd = blocks_per_cmd(ns, req->op);
	ncmds = req->op == VDF_BLOCK_FLUSH
		    ? 1
		    : (unsigned)VDF_DIV_ROUND_UP((uint64_t)req->nblocks, per_cmd);
	r = malloc(sizeof(*r) + ncmds * sizeof(r->cmds[0]));
	if (!r)
		return -ENOMEM;
	r->ns = ns;
	r->op = req->op;
	r->cb = req->cb;
	r->cb_arg = req->cb_arg;
	r->bytes = (uint64_t)req->nblocks * ns->block_size;
	r->status = 0;
	r->ncmds = ncmds;
	r->outstanding = ncmds;
	if (req->op == VDF_BLOCK_READ || req->op == VDF_BLOCK_WRITE)
		iova = req->dma->iova + ((uintptr_t)req->buf - (uintptr_t)req->dma->va);
	for (unsigned i = 0; i < ncmds; i++) {
		struct nvme_io_cmd *ic = &r->cmds[i];
		uint64_t done = (uint64_t)i * per_cmd;

		ic->req = r;
		ic->slba = req->lba + done;
		ic->nblocks = (uint32_t)VDF_MIN((uint64_t)per_cmd, req->nblocks - done);
		ic->iova = iova + done * ns->block_size;
		ic->len = ic->nblocks * ns->block_size;
		build_cmd(ic, req);
	}
	if (req->op == VDF_BLOCK_WRITE)
		vdf_dma_sync_for_device(req->dma, 0, req->dma->size);
	qp = nvme_ctrlr_io_qpair(c);
	for (unsigned i = 0; i < ncmds; i++) {
		rc = nvme_qpair_submit_or_queue(qp, &r->cmds[i].pend);
		if (!rc)
			continue;
		if (i == 0) {
			free(r);
			return rc;
		}
		/* Commands already in flight complete the request with this error. */
		r->status = rc;
		r->outstanding -= ncmds - i;
		break;
	}
	return 0;
}

static int nvme_block_poll(struct vdf_block_dev *bdev)
{
	struct nvme_ctrlr *c = to_ns(bdev)->ctrlr;
	int n;

	n = nvme_ctrlr_process_all(c);
	if ((++c->poll_count & 0xfff) == 0) {
		uint64_t now = vdf_now_ns();

		if (now - c->last_timeout_check > TIMEOUT_CHECK_INTERVAL_NS) {
			c->last_timeout_check = now;
			nvme_ctrlr_check_timeouts(c);
		}
	}
	return n;
}

const struct vdf_block_ops nvme_block_ops = {
    .info = nvme_block_info,
    .submit = nvme_block_submit,
    .poll = nvme_block_poll,
};

void nvme_ns_block_init(struct nvme_ns *ns)
{
	memset(&ns->bdev, 0, sizeof(ns->bdev));
	ns->bdev.ops = &nvme_block_ops;
	ns->bdev.name = ns->name;
	ns->bdev.priv = ns;
	ns->bdev.polled = ns->ctrlr->nvec == 0;
}
