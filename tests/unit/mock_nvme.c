// SPDX-License-Identifier: MIT
/*
 * The NVMe controller model behind the driver's unit tests; see mock_nvme.h.
 * Section numbers refer to the NVM Express Base Specification 1.4c.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mock_nvme.h"
#include "vdf/irq.h"

#define MQ_COUNT   (MOCK_NVME_MAX_IO_QUEUES + 1u) /* admin + I/O queue pairs */
#define DB_STRIDE  4u				  /* CAP.DSTRD = 0 */
#define MAX_RULES  16u
#define VS_1_4	   0x00010400u
#define CAP_MPSMAX 4u
#define ID_SIZE	   4096u
#define MIN_PAGE   4096u /* CAP.MPSMIN = 0 */
#define CPL_DNR	   NVME_CPL_DNR
#define NSID_ALL   0xffffffffu

/* Status field of a completion without the phase tag. */
#define ST(sct, sc)	((uint16_t)(FIELD_PREP(NVME_CPL_SCT, (sct)) | FIELD_PREP(NVME_CPL_SC, (sc))))
#define ST_ERR(sct, sc) ((uint16_t)(ST(sct, sc) | CPL_DNR))
#define ST_GENERIC(sc)	ST_ERR(NVME_SCT_GENERIC, sc)
#define ST_SPECIFIC(sc) ST_ERR(NVME_SCT_CMD_SPECIFIC, sc)

struct mq_sq {
	bool exists;
	struct nvme_cmd *ring;
	uint16_t size, head, tail, cqid;
};

struct mq_cq {
	bool exists;
	struct nvme_cpl *ring;
	uint16_t size, head, tail, iv;
	uint8_t phase;
	bool ien;
	bool need_irq;
	struct nvme_cpl *pend; /* FIFO of completions waiting for space */
	unsigned npend, pend_cap;
	uint64_t head_writes;
};

struct mq_rule {
	int qid, opc;
	unsigned count;
	bool drop;
	uint16_t status;
};

struct mock_nvme {
	struct vdf_mock *mock;
	uint8_t *bar;
	struct mock_nvme_config cfg;
	uint32_t cc_value; /* CC as last written (the BAR copy may be stuck by a fault) */
	enum mock_nvme_ready_mode ready_mode;
	bool stopped;
	bool running; /* inside run(): nested calls leave the work to it */
	struct mq_sq sq[MQ_COUNT];
	struct mq_cq cq[MQ_COUNT];
	uint8_t *disk[MOCK_NVME_MAX_NS];
	struct mq_rule rules[MAX_RULES];
	unsigned nrules;
	mock_nvme_cmd_fn cmd_fn;
	void *cmd_ctx;
	mock_nvme_cc_fn cc_fn;
	void *cc_ctx;
	uint64_t counts[2][256];
	struct mock_nvme_stats stats;
	uint8_t xbuf[ID_SIZE]; /* identify data on its way to the host */
};

static const struct nvme_lbaf lbaf_table[MOCK_NVME_LBAF_COUNT] = {
    [MOCK_NVME_LBAF_512] = {.ms = 0, .lbads = 9},
    [MOCK_NVME_LBAF_4K] = {.ms = 0, .lbads = 12},
    [MOCK_NVME_LBAF_512_MD8] = {.ms = 8, .lbads = 9},
    [MOCK_NVME_LBAF_4K_MD64] = {.ms = 64, .lbads = 12},
};

void mock_nvme_config_default(struct mock_nvme_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mqes = 1023;
	cfg->to = 1;
	cfg->mdts = 5;
	cfg->max_io_queues = MOCK_NVME_MAX_IO_QUEUES;
	cfg->nn = 1;
	cfg->msix_vectors = MOCK_NVME_MSIX_VECTORS;
	cfg->oncs = NVME_ONCS_DSM | NVME_ONCS_WRITE_ZEROES;
	cfg->vwc = true;
	cfg->ns[0].nsze = 16384;
	cfg->ns[0].lbaf = MOCK_NVME_LBAF_512;
}

/* --- Registers --- */

static uint32_t reg32(const struct mock_nvme *m, uint32_t off)
{
	uint32_t v;

	memcpy(&v, m->bar + off, sizeof(v));
	return le32toh(v);
}

static uint64_t reg64(const struct mock_nvme *m, uint32_t off)
{
	uint64_t v;

	memcpy(&v, m->bar + off, sizeof(v));
	return le64toh(v);
}

static void set_reg32(struct mock_nvme *m, uint32_t off, uint32_t v)
{
	v = htole32(v);
	memcpy(m->bar + off, &v, sizeof(v));
}

static void set_reg64(struct mock_nvme *m, uint32_t off, uint64_t v)
{
	v = htole64(v);
	memcpy(m->bar + off, &v, sizeof(v));
}

static bool ctrl_ready(const struct mock_nvme *m)
{
	uint32_t csts = reg32(m, NVME_REG_CSTS);

	return (csts & NVME_CSTS_RDY) && !(csts & NVME_CSTS_CFS);
}

static uint32_t page_size(const struct mock_nvme *m)
{
	return MIN_PAGE << FIELD_GET(NVME_CC_MPS, m->cc_value);
}

/* --- Queues --- */

static void cq_delete(struct mq_cq *cq)
{
	free(cq->pend);
	memset(cq, 0, sizeof(*cq));
}

static void delete_all_queues(struct mock_nvme *m)
{
	for (unsigned q = 0; q < MQ_COUNT; q++) {
		memset(&m->sq[q], 0, sizeof(m->sq[q]));
		cq_delete(&m->cq[q]);
	}
}

static bool cq_full(const struct mq_cq *cq)
{
	return (uint16_t)((cq->tail + 1u) % cq->size) == cq->head;
}

static void cq_write(struct mock_nvme *m, struct mq_cq *cq, const struct nvme_cpl *cpl)
{
	struct nvme_cpl *slot = &cq->ring[cq->tail];

	slot->dw0 = htole32(cpl->dw0);
	slot->dw1 = htole32(cpl->dw1);
	slot->sqhd = htole16(cpl->sqhd);
	slot->sqid = htole16(cpl->sqid);
	slot->cid = htole16(cpl->cid);
	/* The phase tag makes the entry valid: it goes last (4.6). */
	__atomic_store_n(&slot->status, htole16((uint16_t)(cpl->status | cq->phase)),
			 __ATOMIC_RELEASE);
	if (++cq->tail == cq->size) {
		cq->tail = 0;
		cq->phase ^= 1u;
	}
	cq->need_irq = true;
	m->stats.cpls++;
}

static void cq_post(struct mock_nvme *m, struct mq_cq *cq, const struct nvme_cpl *cpl)
{
	if (!cq->npend && !cq_full(cq)) {
		cq_write(m, cq, cpl);
		return;
	}
	/* No room: the controller keeps it until the host frees entries (7.4). */
	if (cq->npend == cq->pend_cap) {
		unsigned cap = cq->pend_cap ? 2u * cq->pend_cap : 16u;
		struct nvme_cpl *p = realloc(cq->pend, cap * sizeof(*p));

		if (!p)
			return; /* out of memory: the completion is lost, as on a broken device */
		cq->pend = p;
		cq->pend_cap = cap;
	}
	cq->pend[cq->npend++] = *cpl;
	m->stats.cq_full_waits++;
}

static void cq_flush_pending(struct mock_nvme *m, struct mq_cq *cq)
{
	unsigned done = 0;

	while (done < cq->npend && !cq_full(cq))
		cq_write(m, cq, &cq->pend[done++]);
	if (!done)
		return;
	memmove(cq->pend, cq->pend + done, (cq->npend - done) * sizeof(*cq->pend));
	cq->npend -= done;
}

static void raise_irqs(struct mock_nvme *m)
{
	struct vdf_dev *dev = vdf_mock_dev(m->mock);

	for (unsigned q = 0; q < MQ_COUNT; q++) {
		struct mq_cq *cq = &m->cq[q];
		int rc = -EINVAL;

		if (!cq->exists || !cq->need_irq)
			continue;
		cq->need_irq = false;
		if (!cq->ien)
			continue;
		if (vdf_irq_enabled_count(dev, VDF_IRQ_MSIX))
			rc = vdf_mock_raise_irq(m->mock, VDF_IRQ_MSIX, cq->iv);
		else if (vdf_irq_enabled_count(dev, VDF_IRQ_INTX))
			rc = vdf_mock_raise_irq(m->mock, VDF_IRQ_INTX, 0);
		if (!rc)
			m->stats.irqs++;
	}
}

static void post(struct mock_nvme *m, uint16_t sqid, uint16_t cid, uint32_t dw0, uint16_t status)
{
	struct mq_sq *sq = &m->sq[sqid];
	struct nvme_cpl cpl = {
	    .dw0 = dw0,
	    .sqhd = sq->head,
	    .sqid = sqid,
	    .cid = cid,
	    .status = status,
	};

	if (sq->exists && m->cq[sq->cqid].exists)
		cq_post(m, &m->cq[sq->cqid], &cpl);
}

/* --- Data transfers (4.3) --- */

static bool copy_seg(struct mock_nvme *m, uint64_t iova, uint8_t *buf, uint64_t len, bool to_host)
{
	uint8_t *p = vdf_mock_dma_ptr(m->mock, iova, len);

	if (!p)
		return false;
	if (to_host)
		memcpy(p, buf, len);
	else
		memcpy(buf, p, len);
	return true;
}

/*
 * Move `len` bytes between `buf` and the host memory PRP1/PRP2 describe: PRP1
 * with any dword offset, then PRP2 as the second page or as a PRP list, whose
 * last entry chains to the next list page when more entries follow. Returns a
 * completion status.
 */
static uint16_t prp_xfer(struct mock_nvme *m, uint64_t prp1, uint64_t prp2, void *buf, uint64_t len,
			 bool to_host)
{
	uint64_t ps = page_size(m), off, seg, list, pages_left;
	uint8_t *b = buf;
	unsigned list_pages = 0;

	if (!len)
		return 0;
	if (prp1 & 3u)
		return ST_GENERIC(NVME_SC_PRP_OFFSET_INVALID);
	seg = VDF_MIN(len, ps - (prp1 & (ps - 1u)));
	if (!copy_seg(m, prp1, b, seg, to_host))
		goto out_xfer_error;
	off = seg;
	if (off == len)
		return 0;
	if (len - off <= ps) {
		if (prp2 & (ps - 1u))
			return ST_GENERIC(NVME_SC_PRP_OFFSET_INVALID);
		if (!copy_seg(m, prp2, b + off, len - off, to_host))
			goto out_xfer_error;
		return 0;
	}
	list = prp2;
	while (off < len) {
		uint64_t slots, use;
		const uint64_t *ents;

		if ((list & 3u) || ++list_pages > len / ps + 2u)
			return ST_GENERIC(NVME_SC_PRP_OFFSET_INVALID);
		slots = (ps - (list & (ps - 1u))) / sizeof(uint64_t);
		pages_left = VDF_DIV_ROUND_UP(len - off, ps);
		use = pages_left <= slots ? pages_left : slots;
		ents = vdf_mock_dma_ptr(m->mock, list, use * sizeof(uint64_t));
		if (!ents)
			goto out_xfer_error;
		if (pages_left > slots)
			use--; /* the last slot points to the next list page */
		for (uint64_t i = 0; i < use; i++) {
			uint64_t e = le64toh(ents[i]);

			if (e & (ps - 1u))
				return ST_GENERIC(NVME_SC_PRP_OFFSET_INVALID);
			seg = VDF_MIN(ps, len - off);
			if (!copy_seg(m, e, b + off, seg, to_host))
				goto out_xfer_error;
			off += seg;
		}
		if (off < len)
			list = le64toh(ents[slots - 1]);
	}
	return 0;

out_xfer_error:
	m->stats.xfer_errors++;
	return ST(NVME_SCT_GENERIC, NVME_SC_DATA_TRANSFER_ERROR);
}

/* --- Admin commands (5) --- */

static void pad_copy(char *dst, const char *src, size_t n)
{
	size_t len = strlen(src);

	memset(dst, ' ', n);
	memcpy(dst, src, VDF_MIN(len, n));
}

static bool ns_active(const struct mock_nvme *m, uint32_t nsid)
{
	return nsid >= 1 && nsid <= m->cfg.nn && nsid <= MOCK_NVME_MAX_NS &&
	       m->cfg.ns[nsid - 1].nsze != 0;
}

static uint32_t ns_bsize(const struct mock_nvme *m, uint32_t nsid)
{
	return 1u << lbaf_table[m->cfg.ns[nsid - 1].lbaf].lbads;
}

static void fill_id_ctrl(struct mock_nvme *m)
{
	struct nvme_id_ctrl *id = (struct nvme_id_ctrl *)m->xbuf;

	id->vid = htole16(MOCK_NVME_VENDOR);
	id->ssvid = htole16(0x1af4);
	pad_copy(id->sn, MOCK_NVME_SERIAL, sizeof(id->sn));
	pad_copy(id->mn, MOCK_NVME_MODEL, sizeof(id->mn));
	pad_copy(id->fr, MOCK_NVME_FIRMWARE, sizeof(id->fr));
	id->rab = 6;
	id->mdts = m->cfg.mdts;
	id->cntlid = htole16(1);
	id->ver = htole32(VS_1_4);
	id->sqes = (NVME_SQE_SIZE_LOG2 << 4) | NVME_SQE_SIZE_LOG2;
	id->cqes = (NVME_CQE_SIZE_LOG2 << 4) | NVME_CQE_SIZE_LOG2;
	id->nn = htole32(m->cfg.nn);
	id->oncs = htole16(m->cfg.oncs);
	id->vwc = m->cfg.vwc ? NVME_VWC_PRESENT : 0;
}

static void fill_id_ns(struct mock_nvme *m, uint32_t nsid)
{
	struct nvme_id_ns *id = (struct nvme_id_ns *)m->xbuf;
	const struct mock_nvme_ns_config *ns = &m->cfg.ns[nsid - 1];

	id->nsze = id->ncap = id->nuse = htole64(ns->nsze);
	id->nlbaf = MOCK_NVME_LBAF_COUNT - 1u;
	id->flbas = (uint8_t)FIELD_PREP(NVME_NS_FLBAS_FMT, ns->lbaf);
	id->dlfeat = ns->dlfeat_unknown ? 0 : NVME_NS_DLFEAT_ZEROES;
	for (unsigned i = 0; i < MOCK_NVME_LBAF_COUNT; i++) {
		id->lbaf[i].ms = htole16(lbaf_table[i].ms);
		id->lbaf[i].lbads = lbaf_table[i].lbads;
	}
}

static uint16_t admin_identify(struct mock_nvme *m, const struct nvme_cmd *cmd)
{
	uint8_t cns = (uint8_t)le32toh(cmd->cdw10);
	uint32_t nsid = le32toh(cmd->nsid);

	memset(m->xbuf, 0, sizeof(m->xbuf));
	switch (cns) {
	case NVME_ID_CNS_CTRL:
		fill_id_ctrl(m);
		break;
	case NVME_ID_CNS_NS:
		if (nsid == 0 || nsid > m->cfg.nn)
			return ST_GENERIC(NVME_SC_INVALID_NS);
		if (ns_active(m, nsid))
			fill_id_ns(m, nsid); /* an inactive NSID reads as zeros (5.15.2.2) */
		break;
	case NVME_ID_CNS_NS_ACTIVE_LIST: {
		uint32_t *list = (uint32_t *)m->xbuf;
		unsigned n = 0;

		if (m->cfg.no_active_list)
			return ST_GENERIC(NVME_SC_INVALID_FIELD);
		if (nsid >= 0xfffffffeu)
			return ST_GENERIC(NVME_SC_INVALID_NS);
		for (uint32_t id = nsid + 1; id <= m->cfg.nn && n < NVME_ID_ACTIVE_LIST_MAX; id++)
			if (ns_active(m, id))
				list[n++] = htole32(id);
		break;
	}
	default:
		return ST_GENERIC(NVME_SC_INVALID_FIELD);
	}
	return prp_xfer(m, le64toh(cmd->prp1), le64toh(cmd->prp2), m->xbuf, ID_SIZE, true);
}

static bool io_queues_exist(const struct mock_nvme *m)
{
	for (unsigned q = 1; q < MQ_COUNT; q++)
		if (m->sq[q].exists || m->cq[q].exists)
			return true;
	return false;
}

static uint16_t admin_features(struct mock_nvme *m, const struct nvme_cmd *cmd, bool set,
			       uint32_t *dw0)
{
	uint8_t fid = (uint8_t)le32toh(cmd->cdw10);
	uint32_t cdw11 = le32toh(cmd->cdw11);
	uint32_t n = m->cfg.max_io_queues - 1u;

	switch (fid) {
	case NVME_FEAT_NUM_QUEUES:
		if (set) {
			if (FIELD_GET(NVME_FEAT_NSQ, cdw11) == 0xffffu ||
			    FIELD_GET(NVME_FEAT_NCQ, cdw11) == 0xffffu)
				return ST_GENERIC(NVME_SC_INVALID_FIELD);
			/* Only allowed before any I/O queue exists (5.21.1.7). */
			if (io_queues_exist(m))
				return ST_GENERIC(NVME_SC_CMD_SEQ_ERROR);
		}
		*dw0 = FIELD_PREP(NVME_FEAT_NSQ, n) | FIELD_PREP(NVME_FEAT_NCQ, n);
		return 0;
	case NVME_FEAT_VOLATILE_WC:
		if (!m->cfg.vwc)
			return ST_GENERIC(NVME_SC_INVALID_FIELD);
		*dw0 = set ? (cdw11 & 1u) : 1u;
		return 0;
	default:
		return ST_GENERIC(NVME_SC_INVALID_FIELD);
	}
}

static uint16_t check_new_qid(const struct mock_nvme *m, uint16_t qid, uint32_t qsize)
{
	if (qid == 0 || qid > m->cfg.max_io_queues || qid >= MQ_COUNT)
		return ST_SPECIFIC(NVME_SC_QID_INVALID);
	if (qsize < 2 || qsize > m->cfg.mqes + 1u)
		return ST_SPECIFIC(NVME_SC_QUEUE_SIZE);
	return 0;
}

static uint16_t admin_create_cq(struct mock_nvme *m, const struct nvme_cmd *cmd)
{
	uint32_t cdw10 = le32toh(cmd->cdw10), cdw11 = le32toh(cmd->cdw11);
	uint16_t qid = (uint16_t)FIELD_GET(NVME_QUEUE_QID, cdw10);
	uint32_t qsize = FIELD_GET(NVME_QUEUE_QSIZE, cdw10) + 1u;
	uint16_t iv = (uint16_t)FIELD_GET(NVME_CQ_IV, cdw11);
	uint64_t base = le64toh(cmd->prp1);
	struct mq_cq *cq;
	uint16_t st;
	void *ring;

	st = check_new_qid(m, qid, qsize);
	if (st)
		return st;
	cq = &m->cq[qid];
	if (cq->exists)
		return ST_SPECIFIC(NVME_SC_QID_INVALID);
	if (iv >= VDF_MAX(m->cfg.msix_vectors, 1u))
		return ST_SPECIFIC(NVME_SC_INVALID_VECTOR);
	/* CAP.CQR: only physically contiguous, page-aligned queues. */
	if (!(cdw11 & NVME_CQ_PC) || (base & (page_size(m) - 1u)) ||
	    FIELD_GET(NVME_CC_IOCQES, m->cc_value) != NVME_CQE_SIZE_LOG2)
		return ST_GENERIC(NVME_SC_INVALID_FIELD);
	ring = vdf_mock_dma_ptr(m->mock, base, (uint64_t)qsize << NVME_CQE_SIZE_LOG2);
	if (!ring)
		return ST(NVME_SCT_GENERIC, NVME_SC_DATA_TRANSFER_ERROR);
	memset(cq, 0, sizeof(*cq));
	cq->exists = true;
	cq->ring = ring;
	cq->size = (uint16_t)qsize;
	cq->phase = 1;
	cq->ien = cdw11 & NVME_CQ_IEN;
	cq->iv = iv;
	return 0;
}

static uint16_t admin_create_sq(struct mock_nvme *m, const struct nvme_cmd *cmd)
{
	uint32_t cdw10 = le32toh(cmd->cdw10), cdw11 = le32toh(cmd->cdw11);
	uint16_t qid = (uint16_t)FIELD_GET(NVME_QUEUE_QID, cdw10);
	uint32_t qsize = FIELD_GET(NVME_QUEUE_QSIZE, cdw10) + 1u;
	uint16_t cqid = (uint16_t)FIELD_GET(NVME_SQ_CQID, cdw11);
	uint64_t base = le64toh(cmd->prp1);
	struct mq_sq *sq;
	uint16_t st;
	void *ring;

	st = check_new_qid(m, qid, qsize);
	if (st)
		return st;
	sq = &m->sq[qid];
	if (sq->exists)
		return ST_SPECIFIC(NVME_SC_QID_INVALID);
	if (cqid == 0 || cqid >= MQ_COUNT || !m->cq[cqid].exists)
		return ST_SPECIFIC(NVME_SC_CQ_INVALID);
	if (!(cdw11 & NVME_SQ_PC) || (base & (page_size(m) - 1u)) ||
	    FIELD_GET(NVME_CC_IOSQES, m->cc_value) != NVME_SQE_SIZE_LOG2)
		return ST_GENERIC(NVME_SC_INVALID_FIELD);
	ring = vdf_mock_dma_ptr(m->mock, base, (uint64_t)qsize << NVME_SQE_SIZE_LOG2);
	if (!ring)
		return ST(NVME_SCT_GENERIC, NVME_SC_DATA_TRANSFER_ERROR);
	memset(sq, 0, sizeof(*sq));
	sq->exists = true;
	sq->ring = ring;
	sq->size = (uint16_t)qsize;
	sq->cqid = cqid;
	return 0;
}

static uint16_t admin_delete_sq(struct mock_nvme *m, const struct nvme_cmd *cmd)
{
	uint16_t qid = (uint16_t)FIELD_GET(NVME_QUEUE_QID, le32toh(cmd->cdw10));

	if (qid == 0 || qid >= MQ_COUNT || !m->sq[qid].exists)
		return ST_SPECIFIC(NVME_SC_QID_INVALID);
	memset(&m->sq[qid], 0, sizeof(m->sq[qid]));
	return 0;
}

static uint16_t admin_delete_cq(struct mock_nvme *m, const struct nvme_cmd *cmd)
{
	uint16_t qid = (uint16_t)FIELD_GET(NVME_QUEUE_QID, le32toh(cmd->cdw10));

	if (qid == 0 || qid >= MQ_COUNT || !m->cq[qid].exists)
		return ST_SPECIFIC(NVME_SC_QID_INVALID);
	for (unsigned q = 1; q < MQ_COUNT; q++)
		if (m->sq[q].exists && m->sq[q].cqid == qid)
			return ST_SPECIFIC(NVME_SC_INVALID_QUEUE_DELETION);
	cq_delete(&m->cq[qid]);
	return 0;
}

static uint16_t admin_exec(struct mock_nvme *m, const struct nvme_cmd *cmd, uint32_t *dw0)
{
	switch (FIELD_GET(NVME_CMD_OPC, le32toh(cmd->cdw0))) {
	case NVME_ADMIN_IDENTIFY:
		return admin_identify(m, cmd);
	case NVME_ADMIN_SET_FEATURES:
		return admin_features(m, cmd, true, dw0);
	case NVME_ADMIN_GET_FEATURES:
		return admin_features(m, cmd, false, dw0);
	case NVME_ADMIN_CREATE_CQ:
		return admin_create_cq(m, cmd);
	case NVME_ADMIN_CREATE_SQ:
		return admin_create_sq(m, cmd);
	case NVME_ADMIN_DELETE_SQ:
		return admin_delete_sq(m, cmd);
	case NVME_ADMIN_DELETE_CQ:
		return admin_delete_cq(m, cmd);
	case NVME_ADMIN_ABORT:
		*dw0 = 1; /* bit 0: the command was not aborted (5.1) */
		return 0;
	default:
		return ST_GENERIC(NVME_SC_INVALID_OPCODE);
	}
}

/* --- NVM commands --- */

static bool lba_range_ok(const struct mock_nvme *m, uint32_t nsid, uint64_t slba, uint64_t nlb)
{
	uint64_t nsze = m->cfg.ns[nsid - 1].nsze;

	return slba < nsze && nlb <= nsze - slba;
}

static uint16_t io_rw(struct mock_nvme *m, const struct nvme_cmd *cmd, uint32_t nsid, bool write)
{
	uint32_t bs = ns_bsize(m, nsid);
	uint64_t slba = le32toh(cmd->cdw10) | (uint64_t)le32toh(cmd->cdw11) << 32;
	uint64_t nlb = FIELD_GET(NVME_RW_NLB, le32toh(cmd->cdw12)) + 1u;
	uint64_t bytes = nlb * bs;
	uint8_t *disk, *tmp;
	uint16_t st;

	/* PSDT: only PRPs are supported (Identify SGLS = 0). */
	if (FIELD_GET(GENMASK(15, 14), le32toh(cmd->cdw0)))
		return ST_GENERIC(NVME_SC_INVALID_FIELD);
	if (!lba_range_ok(m, nsid, slba, nlb))
		return ST_GENERIC(NVME_SC_LBA_RANGE);
	if (m->cfg.mdts && bytes > ((uint64_t)MIN_PAGE << m->cfg.mdts))
		return ST_GENERIC(NVME_SC_INVALID_FIELD);
	disk = m->disk[nsid - 1] + slba * bs;
	if (!write)
		return prp_xfer(m, le64toh(cmd->prp1), le64toh(cmd->prp2), disk, bytes, true);
	/* Take all the data before touching the medium: a failed transfer writes nothing. */
	tmp = malloc(bytes);
	if (!tmp)
		return ST_GENERIC(NVME_SC_INTERNAL);
	st = prp_xfer(m, le64toh(cmd->prp1), le64toh(cmd->prp2), tmp, bytes, false);
	if (!st)
		memcpy(disk, tmp, bytes);
	free(tmp);
	return st;
}

static uint16_t io_write_zeroes(struct mock_nvme *m, const struct nvme_cmd *cmd, uint32_t nsid)
{
	uint32_t bs = ns_bsize(m, nsid);
	uint64_t slba = le32toh(cmd->cdw10) | (uint64_t)le32toh(cmd->cdw11) << 32;
	uint64_t nlb = FIELD_GET(NVME_RW_NLB, le32toh(cmd->cdw12)) + 1u;

	if (!lba_range_ok(m, nsid, slba, nlb))
		return ST_GENERIC(NVME_SC_LBA_RANGE);
	memset(m->disk[nsid - 1] + slba * bs, 0, nlb * bs);
	return 0;
}

static uint16_t io_dsm(struct mock_nvme *m, const struct nvme_cmd *cmd, uint32_t nsid)
{
	struct nvme_dsm_range ranges[NVME_DSM_MAX_RANGES];
	unsigned nr = FIELD_GET(NVME_DSM_NR, le32toh(cmd->cdw10)) + 1u;
	uint32_t bs = ns_bsize(m, nsid);
	uint16_t st;

	st = prp_xfer(m, le64toh(cmd->prp1), le64toh(cmd->prp2), ranges, nr * sizeof(ranges[0]),
		      false);
	if (st || !(le32toh(cmd->cdw11) & NVME_DSM_AD))
		return st;
	for (unsigned i = 0; i < nr; i++)
		if (!lba_range_ok(m, nsid, le64toh(ranges[i].slba), le32toh(ranges[i].nlb)))
			return ST_GENERIC(NVME_SC_LBA_RANGE);
	/* Deallocated blocks read back as zeros (DLFEAT). */
	for (unsigned i = 0; i < nr; i++)
		memset(m->disk[nsid - 1] + le64toh(ranges[i].slba) * bs, 0,
		       (uint64_t)le32toh(ranges[i].nlb) * bs);
	return 0;
}

static uint16_t io_exec(struct mock_nvme *m, const struct nvme_cmd *cmd)
{
	uint8_t opc = (uint8_t)FIELD_GET(NVME_CMD_OPC, le32toh(cmd->cdw0));
	uint32_t nsid = le32toh(cmd->nsid);

	if (opc == NVME_CMD_FLUSH && nsid == NSID_ALL)
		return 0;
	if (!ns_active(m, nsid))
		return ST_GENERIC(NVME_SC_INVALID_NS);
	switch (opc) {
	case NVME_CMD_FLUSH:
		return 0;
	case NVME_CMD_READ:
		return io_rw(m, cmd, nsid, false);
	case NVME_CMD_WRITE:
		return io_rw(m, cmd, nsid, true);
	case NVME_CMD_WRITE_ZEROES:
		return io_write_zeroes(m, cmd, nsid);
	case NVME_CMD_DSM:
		return io_dsm(m, cmd, nsid);
	default:
		return ST_GENERIC(NVME_SC_INVALID_OPCODE);
	}
}

/* --- Command processing --- */

static bool take_rule(struct mock_nvme *m, uint16_t qid, uint8_t opc, struct mq_rule *out)
{
	for (unsigned i = 0; i < m->nrules; i++) {
		struct mq_rule *r = &m->rules[i];

		if ((r->qid >= 0 && r->qid != qid) || (r->opc >= 0 && r->opc != opc))
			continue;
		*out = *r;
		if (--r->count == 0)
			m->rules[i] = m->rules[--m->nrules];
		return true;
	}
	return false;
}

static void execute(struct mock_nvme *m, uint16_t qid, const struct nvme_cmd *cmd)
{
	uint8_t opc = (uint8_t)FIELD_GET(NVME_CMD_OPC, le32toh(cmd->cdw0));
	uint16_t cid = (uint16_t)FIELD_GET(NVME_CMD_CID, le32toh(cmd->cdw0));
	struct mq_rule rule;
	uint32_t dw0 = 0;
	uint16_t st;

	m->stats.cmds++;
	m->counts[qid ? 1 : 0][opc]++;
	if (m->cmd_fn)
		m->cmd_fn(m, qid, cmd, m->cmd_ctx);
	if (take_rule(m, qid, opc, &rule)) {
		if (rule.drop) {
			m->stats.dropped++;
			return;
		}
		m->stats.injected++;
		st = rule.status;
	} else {
		st = qid ? io_exec(m, cmd) : admin_exec(m, cmd, &dw0);
	}
	post(m, qid, cid, dw0, st);
}

/* Fetch and execute everything the doorbells announced, then interrupt. */
static void run(struct mock_nvme *m)
{
	bool progress = true;

	if (m->running)
		return;
	m->running = true;
	while (progress) {
		progress = false;
		for (unsigned q = 0; q < MQ_COUNT; q++) {
			struct mq_sq *sq = &m->sq[q];

			while (sq->exists && sq->head != sq->tail && !m->stopped && ctrl_ready(m)) {
				struct nvme_cmd cmd = sq->ring[sq->head];

				if (++sq->head == sq->size)
					sq->head = 0;
				execute(m, (uint16_t)q, &cmd);
				progress = true;
			}
		}
	}
	m->running = false;
	raise_irqs(m);
}

/* --- Controller state (7.6) --- */

static void ctrl_enable(struct mock_nvme *m)
{
	uint32_t cc = m->cc_value, aqa = reg32(m, NVME_REG_AQA);
	uint64_t asq = reg64(m, NVME_REG_ASQ), acq = reg64(m, NVME_REG_ACQ);
	uint32_t asqs = FIELD_GET(NVME_AQA_ASQS, aqa) + 1u,
		 acqs = FIELD_GET(NVME_AQA_ACQS, aqa) + 1u;
	uint32_t ps;
	void *sq_ring = NULL, *cq_ring = NULL;

	if (m->ready_mode == MOCK_NVME_READY_NEVER)
		return;
	if (m->ready_mode == MOCK_NVME_READY_CFS) {
		set_reg32(m, NVME_REG_CSTS, reg32(m, NVME_REG_CSTS) | NVME_CSTS_CFS);
		return;
	}
	ps = page_size(m);
	if (FIELD_GET(NVME_CC_CSS, cc) == NVME_CC_CSS_NVM &&
	    FIELD_GET(NVME_CC_MPS, cc) <= CAP_MPSMAX && asqs >= 2 && acqs >= 2 && asq && acq &&
	    !(asq & (ps - 1u)) && !(acq & (ps - 1u))) {
		sq_ring = vdf_mock_dma_ptr(m->mock, asq, (uint64_t)asqs << NVME_SQE_SIZE_LOG2);
		cq_ring = vdf_mock_dma_ptr(m->mock, acq, (uint64_t)acqs << NVME_CQE_SIZE_LOG2);
	}
	if (!sq_ring || !cq_ring) {
		/* A configuration the controller cannot run with: report it fatal. */
		m->stats.enable_errors++;
		set_reg32(m, NVME_REG_CSTS, reg32(m, NVME_REG_CSTS) | NVME_CSTS_CFS);
		return;
	}
	delete_all_queues(m);
	m->sq[0] = (struct mq_sq){.exists = true, .ring = sq_ring, .size = (uint16_t)asqs};
	m->cq[0] = (struct mq_cq){
	    .exists = true, .ring = cq_ring, .size = (uint16_t)acqs, .phase = 1, .ien = true};
	set_reg32(m, NVME_REG_CSTS, NVME_CSTS_RDY);
	m->stats.enables++;
}

static void ctrl_disable(struct mock_nvme *m)
{
	/* Controller reset (7.3.2): queues gone, outstanding commands forgotten. */
	delete_all_queues(m);
	set_reg32(m, NVME_REG_CSTS, 0);
	m->stats.disables++;
}

static void cc_write(struct mock_nvme *m, uint32_t val)
{
	uint32_t old = m->cc_value;

	if (m->cc_fn)
		m->cc_fn(m, old, val, m->cc_ctx);
	m->cc_value = val;
	set_reg32(m, NVME_REG_CC, val);
	if (!(old & NVME_CC_EN) && (val & NVME_CC_EN))
		ctrl_enable(m);
	else if ((old & NVME_CC_EN) && !(val & NVME_CC_EN))
		ctrl_disable(m);
	if ((val & NVME_CC_EN) && FIELD_GET(NVME_CC_SHN, val) && !FIELD_GET(NVME_CC_SHN, old)) {
		uint32_t csts = reg32(m, NVME_REG_CSTS) & ~NVME_CSTS_SHST;

		/* Nothing to flush: shutdown processing completes at once (7.6.2). */
		set_reg32(m, NVME_REG_CSTS,
			  csts | FIELD_PREP(NVME_CSTS_SHST, NVME_CSTS_SHST_COMPLETE));
		m->stats.shutdowns++;
	}
}

static void reg_write(struct vdf_mock *mock, unsigned bar, uint64_t off, unsigned len, uint64_t val,
		      void *ctx)
{
	struct mock_nvme *m = ctx;

	(void)mock;
	(void)bar;
	if (off == NVME_REG_CC && len == 4) {
		cc_write(m, (uint32_t)val);
		return;
	}
	/* AQA, ASQ and ACQ are plain storage; CAP, VS, CSTS and the rest are read-only
	 * here (INTMS/INTMC do not apply with MSI-X). */
	if (off >= NVME_REG_AQA && off + len <= NVME_REG_ACQ + 8u) {
		uint64_t v = htole64(val);

		memcpy(m->bar + off, &v, len);
	}
}

static void doorbell_write(struct vdf_mock *mock, unsigned bar, uint64_t off, unsigned len,
			   uint64_t val, void *ctx)
{
	struct mock_nvme *m = ctx;
	uint64_t idx = (off - NVME_REG_DBS) / DB_STRIDE;
	uint16_t qid = (uint16_t)(idx / 2u);
	uint32_t v = (uint32_t)val;

	(void)mock;
	(void)bar;
	if (len != 4 || off % DB_STRIDE || qid >= MQ_COUNT || !ctrl_ready(m)) {
		m->stats.bad_doorbells++;
		return;
	}
	if (idx % 2u == 0) {
		struct mq_sq *sq = &m->sq[qid];

		if (!sq->exists || v >= sq->size) {
			m->stats.bad_doorbells++;
			return;
		}
		sq->tail = (uint16_t)v;
	} else {
		struct mq_cq *cq = &m->cq[qid];
		unsigned used, moved;

		if (!cq->exists || v >= cq->size) {
			m->stats.bad_doorbells++;
			return;
		}
		/* The head may only move over entries the controller has posted. */
		used = (cq->tail + cq->size - cq->head) % cq->size;
		moved = (v + cq->size - cq->head) % cq->size;
		cq->head_writes++;
		if (moved > used) {
			m->stats.bad_doorbells++;
			return;
		}
		cq->head = (uint16_t)v;
		cq_flush_pending(m, cq);
	}
	run(m);
}

static void write_identity_regs(struct mock_nvme *m)
{
	uint64_t cap = FIELD_PREP(NVME_CAP_MQES, (uint64_t)m->cfg.mqes) | NVME_CAP_CQR |
		       FIELD_PREP(NVME_CAP_TO, (uint64_t)m->cfg.to) |
		       FIELD_PREP(NVME_CAP_DSTRD, 0ull) | NVME_CAP_CSS_NVM |
		       FIELD_PREP(NVME_CAP_MPSMIN, 0ull) | FIELD_PREP(NVME_CAP_MPSMAX, CAP_MPSMAX);

	set_reg64(m, NVME_REG_CAP, cap);
	set_reg32(m, NVME_REG_VS, VS_1_4);
}

/* Function-level reset through the backend: back to power-on state. */
static void on_flr(struct vdf_mock *mock, void *ctx)
{
	struct mock_nvme *m = ctx;

	(void)mock;
	delete_all_queues(m);
	m->cc_value = 0;
	memset(m->bar, 0, NVME_REG_DBS);
	write_identity_regs(m);
}

/* --- Life cycle --- */

int mock_nvme_create(const struct mock_nvme_config *cfg, struct mock_nvme **out)
{
	struct vdf_mock_config mc = {
	    .id =
		{
		    .vendor = MOCK_NVME_VENDOR,
		    .device = MOCK_NVME_DEVICE,
		    .subsys_vendor = 0x1af4,
		    .subsys_device = 0x1100,
		    .class_code = 0x01,
		    .subclass = 0x08,
		    .prog_if = 0x02,
		    .revision = 0x02,
		},
	    .bar_size = {[0] = MOCK_NVME_BAR0_SIZE},
	    .irq_count = {[VDF_IRQ_INTX] = 1, [VDF_IRQ_MSIX] = cfg->msix_vectors},
	    .has_reset = 1,
	};
	struct mock_nvme *m;
	int rc;

	if (cfg->mqes < 1 || cfg->max_io_queues < 1 ||
	    cfg->max_io_queues > MOCK_NVME_MAX_IO_QUEUES || cfg->msix_vectors > VDF_IRQ_MAX_VECTORS)
		return -EINVAL;
	for (unsigned i = 0; i < MOCK_NVME_MAX_NS; i++)
		if (cfg->ns[i].lbaf >= MOCK_NVME_LBAF_COUNT)
			return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->cfg = *cfg;
	m->ready_mode = cfg->ready;
	for (unsigned i = 0; i < MOCK_NVME_MAX_NS; i++) {
		uint64_t bytes = cfg->ns[i].nsze << lbaf_table[cfg->ns[i].lbaf].lbads;

		if (!cfg->ns[i].nsze)
			continue;
		m->disk[i] = calloc(1, bytes);
		if (!m->disk[i]) {
			rc = -ENOMEM;
			goto out_free;
		}
	}
	rc = vdf_mock_create(&mc, &m->mock);
	if (rc)
		goto out_free;
	m->bar = vdf_mock_bar(m->mock, 0);
	rc = vdf_mock_hook(m->mock, 0, 0, NVME_REG_DBS, NULL, reg_write, m);
	if (!rc)
		rc = vdf_mock_hook(m->mock, 0, NVME_REG_DBS, MQ_COUNT * 2u * DB_STRIDE, NULL,
				   doorbell_write, m);
	if (rc)
		goto out_close;
	vdf_mock_on_reset(m->mock, on_flr, m);
	write_identity_regs(m);
	*out = m;
	return 0;

out_close:
	vdf_dev_close(vdf_mock_dev(m->mock));
out_free:
	for (unsigned i = 0; i < MOCK_NVME_MAX_NS; i++)
		free(m->disk[i]);
	free(m);
	return rc;
}

void mock_nvme_destroy(struct mock_nvme *m)
{
	if (!m)
		return;
	vdf_dev_close(vdf_mock_dev(m->mock));
	delete_all_queues(m);
	for (unsigned i = 0; i < MOCK_NVME_MAX_NS; i++)
		free(m->disk[i]);
	free(m);
}

struct vdf_dev *mock_nvme_dev(struct mock_nvme *m)
{
	return vdf_mock_dev(m->mock);
}

struct vdf_mock *mock_nvme_mock(struct mock_nvme *m)
{
	return m->mock;
}

/* --- Controls --- */

static void add_rule(struct mock_nvme *m, int qid, int opc, unsigned n, bool drop, uint16_t st)
{
	if (!n || m->nrules == MAX_RULES)
		return;
	m->rules[m->nrules++] = (struct mq_rule){qid, opc, n, drop, st};
}

void mock_nvme_drop_next(struct mock_nvme *m, int qid, int opc, unsigned n)
{
	add_rule(m, qid, opc, n, true, 0);
}

void mock_nvme_fail_next(struct mock_nvme *m, int qid, int opc, unsigned n, uint8_t sct, uint8_t sc)
{
	add_rule(m, qid, opc, n, false, ST(sct, sc));
}

void mock_nvme_clear_rules(struct mock_nvme *m)
{
	m->nrules = 0;
}

int mock_nvme_post_bogus(struct mock_nvme *m, uint16_t cqid, uint16_t cid)
{
	struct nvme_cpl cpl = {.sqid = cqid, .cid = cid};

	if (cqid >= MQ_COUNT || !m->cq[cqid].exists)
		return -EINVAL;
	if (m->sq[cqid].exists)
		cpl.sqhd = m->sq[cqid].head;
	m->stats.bogus++;
	cq_post(m, &m->cq[cqid], &cpl);
	raise_irqs(m);
	return 0;
}

void mock_nvme_set_stopped(struct mock_nvme *m, bool stopped)
{
	m->stopped = stopped;
	if (!stopped)
		run(m);
}

void mock_nvme_set_ready_mode(struct mock_nvme *m, enum mock_nvme_ready_mode mode)
{
	m->ready_mode = mode;
}

void mock_nvme_set_cfs(struct mock_nvme *m, bool cfs)
{
	uint32_t csts = reg32(m, NVME_REG_CSTS);

	set_reg32(m, NVME_REG_CSTS, cfs ? csts | NVME_CSTS_CFS : csts & ~NVME_CSTS_CFS);
	if (!cfs)
		run(m);
}

void mock_nvme_on_command(struct mock_nvme *m, mock_nvme_cmd_fn fn, void *ctx)
{
	m->cmd_fn = fn;
	m->cmd_ctx = ctx;
}

void mock_nvme_on_cc_write(struct mock_nvme *m, mock_nvme_cc_fn fn, void *ctx)
{
	m->cc_fn = fn;
	m->cc_ctx = ctx;
}

/* --- Observation --- */

uint64_t mock_nvme_count(const struct mock_nvme *m, bool admin, uint8_t opc)
{
	return m->counts[admin ? 0 : 1][opc];
}

void mock_nvme_get_stats(const struct mock_nvme *m, struct mock_nvme_stats *st)
{
	*st = m->stats;
}

int mock_nvme_queue_info(const struct mock_nvme *m, uint16_t qid, struct mock_nvme_queue_info *info)
{
	const struct mq_sq *sq;
	const struct mq_cq *cq;

	if (qid >= MQ_COUNT)
		return -EINVAL;
	sq = &m->sq[qid];
	cq = &m->cq[qid];
	*info = (struct mock_nvme_queue_info){
	    .sq_exists = sq->exists,
	    .cq_exists = cq->exists,
	    .sq_size = sq->size,
	    .sq_head = sq->head,
	    .sq_tail = sq->tail,
	    .cqid = sq->cqid,
	    .cq_size = cq->size,
	    .cq_head = cq->head,
	    .cq_tail = cq->tail,
	    .iv = cq->iv,
	    .ien = cq->ien,
	    .phase = cq->phase,
	    .pending = cq->npend,
	    .cq_head_writes = cq->head_writes,
	};
	return 0;
}

uint8_t *mock_nvme_ns_data(struct mock_nvme *m, uint32_t nsid)
{
	if (nsid < 1 || nsid > MOCK_NVME_MAX_NS)
		return NULL;
	return m->disk[nsid - 1];
}

uint32_t mock_nvme_ns_block_size(const struct mock_nvme *m, uint32_t nsid)
{
	if (nsid < 1 || nsid > MOCK_NVME_MAX_NS)
		return 0;
	return ns_bsize(m, nsid);
}
