// SPDX-License-Identifier: MIT
/*
 * NVMe controller: bring-up per base spec 7.6.1, admin commands, namespaces,
 * timeouts, reset and shutdown (7.6.2).
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nvme.h"
#include "vdf/event.h"
#include "vdf/irq.h"
#include "vdf/log.h"

#define NVME_ADMIN_DEPTH   32u
#define NVME_MAX_IO_QUEUES 64u
#define NVME_POLL_SLEEP_NS 20000

#define LOG(level, c, ...) vdf_log(level, "nvme", (c)->name, __VA_ARGS__)

void nvme_opts_default(struct nvme_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->io_queue_depth = 256;
	o->admin_timeout_ms = 5000;
	o->io_timeout_ms = 30000;
}

static void poll_pause(void)
{
	struct timespec ts = {0, NVME_POLL_SLEEP_NS};

	nanosleep(&ts, NULL);
}

/* 64-bit registers as two 32-bit accesses, low half first (spec 3.1). */
static uint64_t reg_read64(struct nvme_ctrlr *c, uint32_t off)
{
	uint64_t lo = vdf_mmio_read32(&c->bar, off);
	uint64_t hi = vdf_mmio_read32(&c->bar, off + 4);

	return lo | hi << 32;
}

static void reg_write64(struct nvme_ctrlr *c, uint32_t off, uint64_t v)
{
	vdf_mmio_write32(&c->bar, off, (uint32_t)v);
	vdf_mmio_write32(&c->bar, off + 4, (uint32_t)(v >> 32));
}

int nvme_ctrlr_wait_ready(struct nvme_ctrlr *c, bool want)
{
	uint64_t deadline = vdf_now_ns() + (uint64_t)c->ready_timeout_ms * 1000000ull;
	uint32_t csts;

	for (;;) {
		if (vdf_mmio_read32_live(&c->bar, NVME_REG_CSTS, &csts)) {
			LOG(LOG_ERR, c, "CSTS reads all ones: device gone");
			c->failed = true;
			return -ENODEV;
		}
		if (want && (csts & NVME_CSTS_CFS)) {
			LOG(LOG_ERR, c, "controller fatal status (CSTS.CFS) while enabling");
			return -EIO;
		}
		if (!!(csts & NVME_CSTS_RDY) == want)
			return 0;
		if (vdf_now_ns() > deadline) {
			LOG(LOG_ERR, c, "CSTS.RDY did not become %d within CAP.TO (%u ms)", want,
			    c->ready_timeout_ms);
			return -ETIMEDOUT;
		}
		poll_pause();
	}
}

static int ctrlr_disable(struct nvme_ctrlr *c)
{
	uint32_t cc = vdf_mmio_read32(&c->bar, NVME_REG_CC);

	if (cc == 0xffffffffu)
		return -ENODEV;
	if (cc & NVME_CC_EN)
		vdf_mmio_write32(&c->bar, NVME_REG_CC, cc & ~NVME_CC_EN);
	return nvme_ctrlr_wait_ready(c, false);
}

static int ctrlr_enable(struct nvme_ctrlr *c)
{
	uint32_t cc;

	reg_write64(c, NVME_REG_ASQ, c->admin.sq_mem->iova);
	reg_write64(c, NVME_REG_ACQ, c->admin.cq_mem->iova);
	vdf_mmio_write32(&c->bar, NVME_REG_AQA,
			 FIELD_PREP(NVME_AQA_ASQS, c->admin.depth - 1u) |
			     FIELD_PREP(NVME_AQA_ACQS, c->admin.depth - 1u));
	cc = FIELD_PREP(NVME_CC_CSS, NVME_CC_CSS_NVM) |
	     FIELD_PREP(NVME_CC_MPS, (uint32_t)__builtin_ctz(c->page_size) - 12u) |
	     FIELD_PREP(NVME_CC_IOSQES, NVME_SQE_SIZE_LOG2) |
	     FIELD_PREP(NVME_CC_IOCQES, NVME_CQE_SIZE_LOG2) | NVME_CC_EN;
	vdf_mmio_write32(&c->bar, NVME_REG_CC, cc);
	return nvme_ctrlr_wait_ready(c, true);
}

struct admin_wait {
	bool done;
	int status;
	struct nvme_cpl cpl;
};

static void admin_done(void *arg, int status, const struct nvme_cpl *cpl)
{
	struct admin_wait *w = arg;

	w->status = status;
	if (cpl)
		w->cpl = *cpl;
	w->done = true;
}

static void ignore_cpl(void *arg, int status, const struct nvme_cpl *cpl)
{
	(void)arg;
	(void)status;
	(void)cpl;
}

/* Why a wait on the controller failed: gone, fatal, or just slow. */
static int ctrlr_diagnose(struct nvme_ctrlr *c)
{
	uint32_t csts;

	if (vdf_mmio_read32_live(&c->bar, NVME_REG_CSTS, &csts)) {
		c->failed = true;
		return -ENODEV;
	}
	if (csts & NVME_CSTS_CFS)
		return -EIO;
	return -ETIMEDOUT;
}

int nvme_ctrlr_admin_sync(struct nvme_ctrlr *c, struct nvme_cmd *cmd, struct nvme_cpl *cpl_out)
{
	uint64_t deadline = vdf_now_ns() + (uint64_t)c->opts.admin_timeout_ms * 1000000ull;
	struct admin_wait w = {0};
	uint8_t opc = (uint8_t)FIELD_GET(NVME_CMD_OPC, cmd->cdw0);
	int rc;

	rc =
	    nvme_qpair_submit(&c->admin, cmd, NULL, NULL, admin_done, &w, c->opts.admin_timeout_ms);
	if (rc)
		return rc;
	while (!w.done) {
		if (nvme_qpair_process_completions(&c->admin, 0))
			continue;
		if (vdf_now_ns() > deadline) {
			uint16_t cid = (uint16_t)FIELD_GET(NVME_CMD_CID, cmd->cdw0);

			/* A late completion must not write to this stack frame. */
			c->admin.trackers[cid].cb = ignore_cpl;
			rc = ctrlr_diagnose(c);
			LOG(LOG_ERR, c, "admin command 0x%02x: no completion within %u ms (%s)",
			    opc, c->opts.admin_timeout_ms, strerror(-rc));
			return rc;
		}
		poll_pause();
	}
	if (cpl_out)
		*cpl_out = w.cpl;
	if (w.status)
		LOG(LOG_ERR, c, "admin command 0x%02x failed: %s", opc,
		    nvme_status_string(w.cpl.status));
	return w.status;
}

static void abort_done(void *arg, int status, const struct nvme_cpl *cpl)
{
	struct nvme_ctrlr *c = arg;
	const char *what;

	if (!cpl) /* failed on the host side: reset, or the device is gone */
		what = strerror(-status);
	else if (status)
		what = nvme_status_string(cpl->status);
	else /* dw0 bit 0 set: the command was not aborted (spec 5.1) */
		what = (cpl->dw0 & 1) ? "did not abort the command" : "aborted the command";
	LOG(LOG_WARNING, c, "abort %s", what);
}

int nvme_ctrlr_abort(struct nvme_ctrlr *c, uint16_t sqid, uint16_t cid)
{
	struct nvme_cmd cmd = {0};

	cmd.cdw0 = NVME_ADMIN_ABORT;
	cmd.cdw10 = FIELD_PREP(NVME_ABORT_SQID, sqid) | FIELD_PREP(NVME_ABORT_CID, cid);
	return nvme_qpair_submit(&c->admin, &cmd, NULL, NULL, abort_done, c,
				 c->opts.admin_timeout_ms);
}

static void copy_id_string(char *dst, const char *src, size_t n)
{
	memcpy(dst, src, n);
	dst[n] = '\0';
	for (size_t i = n; i-- > 0 && (dst[i] == ' ' || dst[i] == '\0');)
		dst[i] = '\0';
	for (size_t i = 0; dst[i]; i++)
		if (dst[i] < 0x20 || dst[i] > 0x7e)
			dst[i] = '?';
}

static int identify(struct nvme_ctrlr *c, uint8_t cns, uint32_t nsid)
{
	struct nvme_cmd cmd = {0};

	memset(c->scratch->va, 0, 4096);
	cmd.cdw0 = NVME_ADMIN_IDENTIFY;
	cmd.nsid = nsid;
	cmd.prp1 = c->scratch->iova;
	cmd.cdw10 = cns;
	return nvme_ctrlr_admin_sync(c, &cmd, NULL);
}

static int identify_ctrlr(struct nvme_ctrlr *c)
{
	const struct nvme_id_ctrl *id = c->scratch->va;
	uint64_t min_page = 1ull << (12 + FIELD_GET(NVME_CAP_MPSMIN, c->cap));
	uint64_t xfer = 512ull * c->page_size; /* one PRP list page */
	int rc;

	rc = identify(c, NVME_ID_CNS_CTRL, 0);
	if (rc)
		return rc;
	vdf_dma_sync_for_cpu(c->scratch, 0, 4096);
	copy_id_string(c->model, id->mn, sizeof(id->mn));
	copy_id_string(c->serial, id->sn, sizeof(id->sn));
	copy_id_string(c->firmware, id->fr, sizeof(id->fr));
	c->nn = le32toh(id->nn);
	c->oncs = le16toh(id->oncs);
	c->vwc = id->vwc & NVME_VWC_PRESENT;
	if (id->mdts && id->mdts < 32)
		xfer = VDF_MIN(xfer, min_page << id->mdts);
	c->max_xfer = (uint32_t)xfer;
	LOG(LOG_INFO, c, "%s, serial %s, firmware %s, NVMe %u.%u, %u namespace(s), MDTS %u KiB",
	    c->model, c->serial, c->firmware, FIELD_GET(NVME_VS_MJR, c->vs),
	    FIELD_GET(NVME_VS_MNR, c->vs), c->nn, c->max_xfer / 1024);
	return 0;
}

static int set_num_queues(struct nvme_ctrlr *c, unsigned want, unsigned *got)
{
	struct nvme_cmd cmd = {0};
	struct nvme_cpl cpl;
	unsigned nsq, ncq;
	int rc;

	cmd.cdw0 = NVME_ADMIN_SET_FEATURES;
	cmd.cdw10 = NVME_FEAT_NUM_QUEUES;
	cmd.cdw11 = FIELD_PREP(NVME_FEAT_NSQ, want - 1u) | FIELD_PREP(NVME_FEAT_NCQ, want - 1u);
	rc = nvme_ctrlr_admin_sync(c, &cmd, &cpl);
	if (rc)
		return rc;
	nsq = FIELD_GET(NVME_FEAT_NSQ, cpl.dw0) + 1u;
	ncq = FIELD_GET(NVME_FEAT_NCQ, cpl.dw0) + 1u;
	*got = VDF_MIN(want, VDF_MIN(nsq, ncq));
	return 0;
}

static uint16_t queue_vector(struct nvme_ctrlr *c, unsigned qid)
{
	if (c->nvec <= 1)
		return 0;
	return (uint16_t)(1u + (qid - 1u) % (c->nvec - 1u));
}

static int create_io_queue(struct nvme_ctrlr *c, struct nvme_qpair *qp)
{
	struct nvme_cmd cmd = {0};
	int rc;

	cmd.cdw0 = NVME_ADMIN_CREATE_CQ;
	cmd.prp1 = qp->cq_mem->iova;
	cmd.cdw10 =
	    FIELD_PREP(NVME_QUEUE_QID, qp->qid) | FIELD_PREP(NVME_QUEUE_QSIZE, qp->depth - 1u);
	cmd.cdw11 = NVME_CQ_PC | (c->nvec ? NVME_CQ_IEN : 0) | FIELD_PREP(NVME_CQ_IV, qp->vector);
	rc = nvme_ctrlr_admin_sync(c, &cmd, NULL);
	if (rc)
		return rc;
	memset(&cmd, 0, sizeof(cmd));
	cmd.cdw0 = NVME_ADMIN_CREATE_SQ;
	cmd.prp1 = qp->sq_mem->iova;
	cmd.cdw10 =
	    FIELD_PREP(NVME_QUEUE_QID, qp->qid) | FIELD_PREP(NVME_QUEUE_QSIZE, qp->depth - 1u);
	cmd.cdw11 = NVME_SQ_PC | FIELD_PREP(NVME_SQ_CQID, qp->qid);
	return nvme_ctrlr_admin_sync(c, &cmd, NULL);
}

static int create_io_queues(struct nvme_ctrlr *c)
{
	unsigned got;
	int rc;

	rc = set_num_queues(c, c->nioq, &got);
	if (rc)
		return rc;
	if (got < c->nioq) {
		if (c->resets) /* queues already allocated: the controller must give them back */
			return -ENOSPC;
		/* Allocated before the controller said how many it grants: free the
		 * surplus, which nvme_ctrlr_fini (bounded by nioq) would not reach. */
		for (unsigned i = got; i < c->nioq; i++)
			nvme_qpair_free(&c->ioq[i]);
		c->nioq = got;
	}
	for (unsigned i = 0; i < c->nioq; i++) {
		rc = create_io_queue(c, &c->ioq[i]);
		if (rc)
			return rc;
	}
	return 0;
}

static int alloc_io_queues(struct nvme_ctrlr *c)
{
	unsigned depth = VDF_MIN(c->opts.io_queue_depth, (unsigned)c->mqes);
	int rc;

	c->ioq = calloc(c->nioq, sizeof(*c->ioq));
	if (!c->ioq)
		return -ENOMEM;
	for (unsigned i = 0; i < c->nioq; i++) {
		rc = nvme_qpair_alloc(c, (uint16_t)(i + 1), (uint16_t)depth, queue_vector(c, i + 1),
				      &c->ioq[i]);
		if (rc)
			return rc;
	}
	return 0;
}

static int ns_setup(struct nvme_ctrlr *c, uint32_t nsid, struct nvme_ns *ns)
{
	const struct nvme_id_ns *id = c->scratch->va;
	const struct nvme_lbaf *f;
	unsigned fmt;
	int rc;

	rc = identify(c, NVME_ID_CNS_NS, nsid);
	if (rc)
		return rc;
	vdf_dma_sync_for_cpu(c->scratch, 0, 4096);
	if (!id->nsze)
		return -ENOENT; /* inactive */
	fmt = FIELD_GET(NVME_NS_FLBAS_FMT, id->flbas);
	if (fmt > id->nlbaf || fmt >= VDF_ARRAY_SIZE(id->lbaf)) {
		LOG(LOG_ERR, c, "namespace %u: LBA format %u not in its table (%u formats)", nsid,
		    fmt, id->nlbaf + 1u);
		return -EINVAL;
	}
	f = &id->lbaf[fmt];
	if (f->lbads < 9 || f->lbads > 16) {
		LOG(LOG_ERR, c, "namespace %u: unsupported block size 2^%u", nsid, f->lbads);
		return -EOPNOTSUPP;
	}
	if (le16toh(f->ms)) {
		LOG(LOG_ERR, c,
		    "namespace %u: formatted with %u metadata bytes per block, "
		    "which this driver does not handle",
		    nsid, le16toh(f->ms));
		return -EOPNOTSUPP;
	}
	ns->ctrlr = c;
	ns->nsid = nsid;
	ns->num_blocks = le64toh(id->nsze);
	ns->block_size = 1u << f->lbads;
	ns->dealloc_reads_zeroes =
	    FIELD_GET(NVME_NS_DLFEAT_READ, id->dlfeat) == NVME_NS_DLFEAT_ZEROES;
	snprintf(ns->name, sizeof(ns->name), "%sn%u", c->name, nsid);
	nvme_ns_block_init(ns);
	LOG(LOG_INFO, c, "namespace %u: %" PRIu64 " blocks of %u bytes (%" PRIu64 " MiB)", nsid,
	    ns->num_blocks, ns->block_size, (ns->num_blocks * ns->block_size) >> 20);
	return 0;
}

static int scan_namespaces(struct nvme_ctrlr *c)
{
	uint32_t *ids;
	unsigned nids = 0;
	int rc;

	ids = calloc(NVME_ID_ACTIVE_LIST_MAX, sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	rc = identify(c, NVME_ID_CNS_NS_ACTIVE_LIST, 0);
	if (!rc) {
		const uint32_t *list = c->scratch->va;

		for (; nids < NVME_ID_ACTIVE_LIST_MAX && list[nids]; nids++)
			ids[nids] = le32toh(list[nids]);
	} else {
		/* NVMe 1.0 controllers lack the list: try 1..NN. */
		for (; nids < VDF_MIN(c->nn, NVME_ID_ACTIVE_LIST_MAX); nids++)
			ids[nids] = nids + 1;
	}
	c->ns = calloc(nids ? nids : 1, sizeof(*c->ns));
	if (!c->ns) {
		free(ids);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < nids; i++) {
		rc = ns_setup(c, ids[i], &c->ns[c->nns]);
		if (rc == -ENODEV || rc == -ETIMEDOUT) {
			free(ids);
			return rc;
		}
		if (!rc)
			c->nns++;
	}
	free(ids);
	return 0;
}

static int setup_interrupts(struct nvme_ctrlr *c, unsigned want_vectors)
{
	unsigned n = 0;
	int rc;

	c->nvec = 0;
	if (c->opts.polled)
		return 0;
	rc = vdf_irq_count(c->dev, VDF_IRQ_MSIX, &n);
	if (!rc && n) {
		c->irq_kind = VDF_IRQ_MSIX;
		c->nvec = VDF_MIN(n, want_vectors);
	} else {
		rc = vdf_irq_count(c->dev, VDF_IRQ_INTX, &n);
		if (rc || !n) {
			LOG(LOG_WARNING, c, "no MSI-X or INTx: polling for completions");
			return 0;
		}
		c->irq_kind = VDF_IRQ_INTX;
		c->nvec = 1;
	}
	rc = vdf_irq_enable(c->dev, c->irq_kind, c->nvec);
	if (rc) {
		LOG(LOG_ERR, c, "enabling %u %s vector(s): %s", c->nvec,
		    vdf_irq_kind_name(c->irq_kind), strerror(-rc));
		c->nvec = 0;
	}
	return rc;
}

static unsigned wanted_io_queues(const struct nvme_ctrlr *c)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned n = c->opts.io_queues ? c->opts.io_queues : (unsigned)(cpus > 0 ? cpus : 1);

	return VDF_MIN(n, NVME_MAX_IO_QUEUES);
}

int nvme_ctrlr_init(struct nvme_ctrlr *c, struct vdf_dev *dev, const struct nvme_opts *opts)
{
	uint32_t mps_min;
	int rc;

	memset(c, 0, sizeof(*c));
	c->dev = dev;
	c->name = vdf_dev_name(dev);
	c->opts = *opts;
	rc = vdf_bar_map(dev, 0, &c->bar);
	if (rc) {
		LOG(LOG_ERR, c, "mapping BAR0: %s", strerror(-rc));
		return rc;
	}
	/* 7.6.1 step 1: capabilities */
	c->cap = reg_read64(c, NVME_REG_CAP);
	c->vs = vdf_mmio_read32(&c->bar, NVME_REG_VS);
	if (c->cap == ~0ull || c->vs == 0xffffffffu) {
		LOG(LOG_ERR, c, "registers read all ones: device gone or not responding");
		return -ENODEV;
	}
	if (!(c->cap & NVME_CAP_CSS_NVM)) {
		LOG(LOG_ERR, c, "controller does not support the NVM command set");
		return -ENOTSUP;
	}
	c->db_stride = 4u << FIELD_GET(NVME_CAP_DSTRD, c->cap);
	c->mqes = (uint16_t)VDF_MIN(FIELD_GET(NVME_CAP_MQES, c->cap) + 1u, 65535u);
	c->ready_timeout_ms =
	    (uint32_t)VDF_MAX(FIELD_GET(NVME_CAP_TO, c->cap), 1u) * NVME_CAP_TO_UNIT_MS;
	mps_min = (uint32_t)FIELD_GET(NVME_CAP_MPSMIN, c->cap);
	if (mps_min > 0) {
		LOG(LOG_ERR, c, "controller cannot use 4 KiB pages (MPSMIN %u)", mps_min);
		return -ENOTSUP;
	}
	c->page_size = VDF_PAGE_SIZE;
	if (c->mqes < 2) {
		LOG(LOG_ERR, c, "CAP.MQES allows fewer than 2 queue entries");
		return -EINVAL;
	}
	/* Step 2: reset the controller (CC.EN = 0, wait for CSTS.RDY = 0). */
	rc = ctrlr_disable(c);
	if (rc)
		return rc;
	rc = vdf_dma_alloc(dev, 4096, VDF_DMA_FROM_DEVICE, &c->scratch);
	if (rc)
		return rc;
	/* Step 3: admin queue. */
	rc = nvme_qpair_alloc(c, 0, (uint16_t)VDF_MIN(NVME_ADMIN_DEPTH, (unsigned)c->mqes), 0,
			      &c->admin);
	if (rc)
		return rc;
	c->nioq = wanted_io_queues(c);
	/* MSI-X must be programmed before CC.EN or the vector never fires. */
	rc = setup_interrupts(c, c->nioq + 1u);
	if (rc)
		return rc;
	rc = vdf_dev_set_bus_master(dev, true);
	if (rc)
		return rc;
	/* Steps 4-5: configure and enable. */
	rc = ctrlr_enable(c);
	if (rc)
		return rc;
	rc = identify_ctrlr(c);
	if (rc)
		return rc;
	rc = alloc_io_queues(c);
	if (rc)
		return rc;
	rc = create_io_queues(c);
	if (rc) {
		LOG(LOG_ERR, c, "creating %u I/O queue pair(s): %s", c->nioq, strerror(-rc));
		return rc;
	}
	rc = scan_namespaces(c);
	if (rc)
		return rc;
	LOG(LOG_INFO, c, "ready: %u I/O queue(s) of %u entries, %s", c->nioq, c->ioq[0].depth,
	    c->nvec ? (c->irq_kind == VDF_IRQ_MSIX ? "MSI-X" : "INTx") : "polled");
	return 0;
}

static void ctrlr_shutdown(struct nvme_ctrlr *c)
{
	uint64_t deadline = vdf_now_ns() + (uint64_t)c->ready_timeout_ms * 1000000ull;
	uint32_t cc, csts;

	if (vdf_mmio_read32_live(&c->bar, NVME_REG_CSTS, &csts) || !(csts & NVME_CSTS_RDY))
		return;
	/* 7.6.2: normal shutdown notification, then wait for SHST = complete. */
	cc = vdf_mmio_read32(&c->bar, NVME_REG_CC);
	cc = (cc & ~NVME_CC_SHN) | FIELD_PREP(NVME_CC_SHN, NVME_CC_SHN_NORMAL);
	vdf_mmio_write32(&c->bar, NVME_REG_CC, cc);
	while (vdf_now_ns() < deadline) {
		if (vdf_mmio_read32_live(&c->bar, NVME_REG_CSTS, &csts))
			return;
		if (FIELD_GET(NVME_CSTS_SHST, csts) == NVME_CSTS_SHST_COMPLETE)
			break;
		poll_pause();
	}
	if (ctrlr_disable(c))
		LOG(LOG_WARNING, c, "controller did not disable after shutdown");
}

void nvme_ctrlr_fini(struct nvme_ctrlr *c)
{
	if (!c->dev)
		return;
	if (c->bar.len && !c->failed)
		ctrlr_shutdown(c);
	for (unsigned i = 0; i < c->nioq && c->ioq; i++) {
		if (c->ioq[i].ctrlr)
			nvme_qpair_fail_all(&c->ioq[i], -ECANCELED);
		nvme_qpair_free(&c->ioq[i]);
	}
	free(c->ioq);
	if (c->admin.ctrlr)
		nvme_qpair_fail_all(&c->admin, -ECANCELED);
	nvme_qpair_free(&c->admin);
	if (c->nvec && vdf_irq_disable(c->dev, c->irq_kind))
		LOG(LOG_WARNING, c, "disabling interrupts failed");
	if (c->bar.len && vdf_dev_set_bus_master(c->dev, false))
		LOG(LOG_WARNING, c, "clearing bus master failed");
	vdf_dma_free(c->scratch);
	free(c->ns);
	memset(c, 0, sizeof(*c));
}

int nvme_ctrlr_reset(struct nvme_ctrlr *c)
{
	int rc;

	if (c->failed)
		return -ENODEV;
	LOG(LOG_WARNING, c, "resetting controller");
	c->resetting = true;
	c->resets++;
	rc = ctrlr_disable(c);
	/* The controller has stopped: nothing in flight will complete now. */
	for (unsigned i = 0; i < c->nioq; i++) {
		nvme_qpair_fail_all(&c->ioq[i], -ECANCELED);
		nvme_qpair_reset(&c->ioq[i]);
	}
	nvme_qpair_fail_all(&c->admin, -ECANCELED);
	nvme_qpair_reset(&c->admin);
	c->resetting = false;
	if (!rc)
		rc = ctrlr_enable(c);
	if (!rc)
		rc = create_io_queues(c);
	if (rc) {
		LOG(LOG_ERR, c, "reset failed (%s): controller marked failed", strerror(-rc));
		c->failed = true;
		return rc;
	}
	LOG(LOG_INFO, c, "controller reset complete");
	return 0;
}

static bool qpair_check_timeouts(struct nvme_ctrlr *c, struct nvme_qpair *qp, uint64_t now)
{
	for (unsigned i = 0; i < qp->depth - 1u; i++) {
		struct nvme_tracker *tr = &qp->trackers[i];

		if (!tr->active || now < tr->deadline_ns)
			continue;
		qp->timeouts++;
		if (qp->qid == 0 || tr->abort_sent) {
			LOG(LOG_ERR, c, "queue %u cid %u opcode 0x%02x timed out%s", qp->qid,
			    tr->cid, tr->opc, tr->abort_sent ? " after abort" : "");
			return true;
		}
		LOG(LOG_WARNING, c,
		    "queue %u cid %u opcode 0x%02x timed out: aborting (sq tail %u head %u, cq "
		    "head "
		    "%u phase %u, entry status 0x%04x cid %u)",
		    qp->qid, tr->cid, tr->opc, qp->sq_tail, qp->sq_head, qp->cq_head, qp->phase,
		    qp->cq[qp->cq_head].status, qp->cq[qp->cq_head].cid);
		tr->abort_sent = true;
		tr->deadline_ns = now + (uint64_t)c->opts.io_timeout_ms * 1000000ull;
		if (nvme_ctrlr_abort(c, qp->qid, tr->cid))
			return true;
	}
	return false;
}

void nvme_ctrlr_check_timeouts(struct nvme_ctrlr *c)
{
	uint64_t now = vdf_now_ns();
	bool need_reset = false;
	uint32_t csts;

	if (c->failed)
		return;
	if (vdf_mmio_read32_live(&c->bar, NVME_REG_CSTS, &csts)) {
		LOG(LOG_ERR, c, "CSTS reads all ones: device gone, failing all commands");
		c->failed = true;
		for (unsigned i = 0; i < c->nioq; i++)
			nvme_qpair_fail_all(&c->ioq[i], -ENODEV);
		nvme_qpair_fail_all(&c->admin, -ENODEV);
		return;
	}
	if (csts & NVME_CSTS_CFS) {
		LOG(LOG_ERR, c, "controller fatal status (CSTS.CFS)");
		need_reset = true;
	}
	need_reset = need_reset || qpair_check_timeouts(c, &c->admin, now);
	for (unsigned i = 0; i < c->nioq && !need_reset; i++)
		need_reset = qpair_check_timeouts(c, &c->ioq[i], now);
	if (need_reset && nvme_ctrlr_reset(c))
		LOG(LOG_ERR, c, "controller unusable after reset");
}

int nvme_ctrlr_process_all(struct nvme_ctrlr *c)
{
	int n = nvme_qpair_process_completions(&c->admin, 0);

	for (unsigned i = 0; i < c->nioq; i++)
		n += nvme_qpair_process_completions(&c->ioq[i], 0);
	return n;
}

struct nvme_qpair *nvme_ctrlr_io_qpair(struct nvme_ctrlr *c)
{
	int cpu = sched_getcpu();

	return &c->ioq[(unsigned)(cpu < 0 ? 0 : cpu) % c->nioq];
}

uint64_t nvme_ctrlr_irq_total(struct nvme_ctrlr *c)
{
	uint64_t total = 0;

	for (unsigned v = 0; v < c->nvec; v++)
		total += vdf_irq_stat(c->dev, c->irq_kind, v);
	return total;
}
