// SPDX-License-Identifier: MIT
/*
 * NVMe queue pairs (drivers/nvme/nvme_qpair.c) and status decoding
 * (nvme_status.c) against the controller model in mock_nvme.c: ring wrap and
 * the phase tag, a full queue, the CQ head doorbell, completions the driver
 * must not trust, error statuses, the software queue and failing everything.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../drivers/nvme/nvme.h"
#include "mock_nvme.h"
#include "vdf/dma.h"
#include "vdf/irq.h"
#include "vdf/log.h"

#define DEPTH	 4u /* three commands in flight */
#define NSZE	 16384u
#define BS	 512u
#define BUF_SIZE (256u * 1024u)

struct fixture {
	struct mock_nvme_config cfg;
	struct mock_nvme *m;
	struct vdf_dev *dev;
	struct nvme_opts opts;
	struct nvme_ctrlr c;
	struct nvme_qpair *qp;
	struct vdf_dma_buf *buf;
};

/* One completion callback's record. */
struct rec {
	unsigned calls;
	int status;
	bool had_cpl;
	struct nvme_cpl cpl;
	unsigned seq; /* order of completion */
};

static unsigned completion_seq;

static void test_log(int level, const char *component, const char *dev, const char *msg, void *ctx)
{
	(void)ctx;
	if (getenv("VDF_TEST_LOG"))
		fprintf(stderr, "<%d> %s %s: %s\n", level, component, dev, msg);
}

static int group_setup(void **state)
{
	(void)state;
	vdf_log_set_sink(test_log, NULL);
	vdf_log_set_level(LOG_DEBUG);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	vdf_log_set_sink(NULL, NULL);
	vdf_log_set_level(LOG_INFO);
	return 0;
}

/* Each block starts with its own LBA, so a read shows which block it got. */
static void label_disk(struct mock_nvme *m)
{
	uint8_t *disk = mock_nvme_ns_data(m, 1);

	for (uint64_t lba = 0; lba < NSZE; lba++)
		memcpy(disk + lba * BS, &lba, sizeof(lba));
}

static int fixture_up(void **state, bool polled)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	*state = f;
	mock_nvme_config_default(&f->cfg);
	f->cfg.ns[0].nsze = NSZE;
	nvme_opts_default(&f->opts);
	f->opts.io_queues = 1;
	f->opts.io_queue_depth = DEPTH;
	f->opts.admin_timeout_ms = 300;
	f->opts.io_timeout_ms = 300;
	f->opts.polled = polled;
	if (mock_nvme_create(&f->cfg, &f->m))
		return -1;
	f->dev = mock_nvme_dev(f->m);
	label_disk(f->m);
	if (nvme_ctrlr_init(&f->c, f->dev, &f->opts))
		return -1;
	if (vdf_dma_alloc(f->dev, BUF_SIZE, VDF_DMA_BIDIRECTIONAL, &f->buf))
		return -1;
	f->qp = &f->c.ioq[0];
	completion_seq = 0;
	return 0;
}

static int setup(void **state)
{
	return fixture_up(state, true);
}

static int setup_irq(void **state)
{
	return fixture_up(state, false);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	vdf_dma_free(f->buf);
	nvme_ctrlr_fini(&f->c);
	if (f->dev)
		assert_int_equal(vdf_dma_mapped_bytes(f->dev), 0);
	mock_nvme_destroy(f->m);
	free(f);
	return 0;
}

static void rec_cb(void *arg, int status, const struct nvme_cpl *cpl)
{
	struct rec *r = arg;

	r->calls++;
	r->status = status;
	r->had_cpl = cpl != NULL;
	if (cpl)
		r->cpl = *cpl;
	r->seq = completion_seq++;
}

static void read_cmd(struct fixture *f, struct nvme_cmd *cmd, uint64_t lba, unsigned slot)
{
	memset(cmd, 0, sizeof(*cmd));
	cmd->cdw0 = NVME_CMD_READ;
	cmd->nsid = 1;
	cmd->prp1 = f->buf->iova + (uint64_t)slot * BS;
	cmd->cdw10 = (uint32_t)lba;
	cmd->cdw11 = (uint32_t)(lba >> 32);
	cmd->cdw12 = 0; /* one block */
}

static int submit_read(struct fixture *f, uint64_t lba, unsigned slot, struct rec *r)
{
	struct nvme_cmd cmd;

	read_cmd(f, &cmd, lba, slot);
	return nvme_qpair_submit(f->qp, &cmd, NULL, NULL, rec_cb, r, 1000);
}

/* The LBA label a read left in buffer slot `slot`. */
static uint64_t slot_label(struct fixture *f, unsigned slot)
{
	uint64_t v;

	memcpy(&v, (uint8_t *)f->buf->va + (size_t)slot * BS, sizeof(v));
	return v;
}

static struct mock_nvme_queue_info qinfo(struct fixture *f, uint16_t qid)
{
	struct mock_nvme_queue_info qi;

	assert_int_equal(mock_nvme_queue_info(f->m, qid, &qi), 0);
	return qi;
}

/* --- Ring wrap and phase --- */

static void test_sequential_wrap(void **state)
{
	struct fixture *f = *state;
	struct rec r[100] = {0};
	uint64_t sub0 = f->qp->submitted, cpl0 = f->qp->completed;
	uint64_t writes0 = qinfo(f, 1).cq_head_writes;
	unsigned flips = 0;
	uint8_t phase = f->qp->phase;

	assert_int_equal(f->qp->depth, DEPTH);
	assert_int_equal(phase, 1);
	for (unsigned i = 0; i < 100; i++) {
		assert_int_equal(submit_read(f, 1000 + i, i % 8, &r[i]), 0);
		assert_int_equal(nvme_qpair_process_completions(f->qp, 0), 1);
		assert_int_equal(r[i].calls, 1);
		assert_int_equal(r[i].status, 0);
		assert_true(r[i].had_cpl);
		assert_int_equal(r[i].cpl.sqid, 1);
		assert_int_equal(slot_label(f, i % 8), 1000 + i);
		if (f->qp->phase != phase) {
			phase = f->qp->phase;
			flips++;
		}
		/* The CQ head doorbell follows the driver's head. */
		assert_int_equal(qinfo(f, 1).cq_head, f->qp->cq_head);
		assert_int_equal(qinfo(f, 1).sq_tail, f->qp->sq_tail);
	}
	/* 100 completions through a 4-entry ring: the phase flipped at every wrap. */
	assert_int_equal(flips, 100 / DEPTH);
	assert_int_equal(f->qp->submitted - sub0, 100);
	assert_int_equal(f->qp->completed - cpl0, 100);
	assert_int_equal(qinfo(f, 1).cq_head_writes - writes0, 100);
	assert_int_equal(f->qp->bogus_cpls, 0);
	assert_int_equal(nvme_qpair_process_completions(f->qp, 0), 0);
	for (unsigned i = 0; i < 100; i++)
		assert_int_equal(r[i].calls, 1);
}

static void test_burst_fills_queue(void **state)
{
	struct fixture *f = *state;
	struct rec r[40][DEPTH - 1];
	struct rec extra = {0};

	memset(r, 0, sizeof(r));
	for (unsigned round = 0; round < 40; round++) {
		uint16_t tail;

		for (unsigned k = 0; k < DEPTH - 1; k++)
			assert_int_equal(submit_read(f, round * 3 + k, k, &r[round][k]), 0);
		assert_int_equal(nvme_qpair_outstanding(f->qp), DEPTH - 1);
		/* Full: the next one is refused and never reaches the doorbell. */
		tail = qinfo(f, 1).sq_tail;
		assert_int_equal(submit_read(f, 0, 7, &extra), -EAGAIN);
		assert_int_equal(qinfo(f, 1).sq_tail, tail);
		if (round % 2) {
			/* Reap in two goes to exercise `max`. */
			assert_int_equal(nvme_qpair_process_completions(f->qp, 2), 2);
			assert_int_equal(nvme_qpair_process_completions(f->qp, 0), 1);
		} else {
			assert_int_equal(nvme_qpair_process_completions(f->qp, 0), DEPTH - 1);
		}
		assert_int_equal(nvme_qpair_outstanding(f->qp), 0);
		for (unsigned k = 0; k < DEPTH - 1; k++) {
			assert_int_equal(r[round][k].calls, 1);
			assert_int_equal(r[round][k].status, 0);
			assert_int_equal(slot_label(f, k), round * 3 + k);
		}
	}
	assert_int_equal(extra.calls, 0);
	assert_int_equal(f->qp->bogus_cpls, 0);
}

static void test_cids_unique_in_flight(void **state)
{
	struct fixture *f = *state;
	struct rec r[DEPTH - 1] = {0};
	uint16_t seen = 0;

	for (unsigned k = 0; k < DEPTH - 1; k++)
		assert_int_equal(submit_read(f, k, k, &r[k]), 0);
	assert_int_equal(nvme_qpair_process_completions(f->qp, 0), DEPTH - 1);
	for (unsigned k = 0; k < DEPTH - 1; k++) {
		assert_true(r[k].cpl.cid < DEPTH - 1);
		assert_false(seen & (1u << r[k].cpl.cid));
		seen |= (uint16_t)(1u << r[k].cpl.cid);
	}
}

static void test_cq_full_holds_completions(void **state)
{
	struct fixture *f = *state;
	struct rec r[DEPTH - 1] = {0}, after = {0};

	for (unsigned k = 0; k < DEPTH - 1; k++)
		assert_int_equal(submit_read(f, k, k, &r[k]), 0);
	/* Three entries fill a 4-entry CQ: one more must wait for the head to move. */
	assert_int_equal(mock_nvme_post_bogus(f->m, 1, 200), 0);
	assert_int_equal(qinfo(f, 1).pending, 1);
	assert_int_equal(nvme_qpair_process_completions(f->qp, 0), DEPTH - 1);
	/* The head doorbell let the held entry in; it is seen on the next pass. */
	assert_int_equal(qinfo(f, 1).pending, 0);
	assert_int_equal(f->qp->bogus_cpls, 0);
	assert_int_equal(nvme_qpair_process_completions(f->qp, 0), 1);
	assert_int_equal(f->qp->bogus_cpls, 1);
	for (unsigned k = 0; k < DEPTH - 1; k++)
		assert_int_equal(r[k].calls, 1);
	assert_int_equal(submit_read(f, 9, 0, &after), 0);
	assert_int_equal(nvme_qpair_process_completions(f->qp, 0), 1);
	assert_int_equal(after.calls, 1);
	assert_int_equal(slot_label(f, 0), 9);
}

/* --- Completions the driver must not trust --- */

static void test_bogus_cid(void **state)
{
	struct fixture *f = *state;
	struct rec r = {0}, live = {0};

	/* Out of range, the first CID past the trackers, and a free tracker's CID. */
	assert_int_equal(mock_nvme_post_bogus(f->m, 1, 200), 0);
	assert_int_equal(nvme_qpair_process_completions(f->qp, 0), 1);
	assert_int_equal(f->qp->bogus_cpls, 1);
	assert_int_equal(mock_nvme_post_bogus(f->m, 1, DEPTH - 1), 0);
	assert_int_equal(mock_nvme_post_bogus(f->m, 1, 0), 0);
	assert_int_equal(nvme_qpair_process_completions(f->qp, 0), 2);
	assert_int_equal(f->qp->bogus_cpls, 3);
	assert_int_equal(mock_nvme_post_bogus(f->m, 1, 0xffff), 0);

	/* A live command is still completed once, by its own entry. */
	mock_nvme_set_stopped(f->m, true);
	assert_int_equal(submit_read(f, 77, 1, &live), 0);
	assert_int_equal(nvme_qpair_process_completions(f->qp, 0), 1);
	assert_int_equal(f->qp->bogus_cpls, 4);
	assert_int_equal(live.calls, 0);
	mock_nvme_set_stopped(f->m, false);
	assert_int_equal(nvme_qpair_process_completions(f->qp, 0), 1);
	assert_int_equal(live.calls, 1);
	assert_int_equal(slot_label(f, 1), 77);

	assert_int_equal(submit_read(f, 5, 0, &r), 0);
	assert_int_equal(nvme_qpair_process_completions(f->qp, 0), 1);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.status, 0);
	assert_int_equal(f->qp->bogus_cpls, 4);
}

static void expect_failure(struct fixture *f, uint8_t sct, uint8_t sc, int err)
{
	struct rec r = {0};

	mock_nvme_fail_next(f->m, 1, -1, 1, sct, sc);
	assert_int_equal(submit_read(f, 0, 0, &r), 0);
	assert_int_equal(nvme_qpair_process_completions(f->qp, 0), 1);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.status, err);
	assert_true(r.had_cpl);
	assert_int_equal(FIELD_GET(NVME_CPL_SCT, r.cpl.status), sct);
	assert_int_equal(FIELD_GET(NVME_CPL_SC, r.cpl.status), sc);
}

static void test_error_status(void **state)
{
	struct fixture *f = *state;
	struct vdf_mock_stats ms0, ms1;
	struct nvme_cmd cmd;
	struct rec r = {0};
	void *outside;

	expect_failure(f, NVME_SCT_GENERIC, NVME_SC_LBA_RANGE, -ERANGE);
	expect_failure(f, NVME_SCT_MEDIA, NVME_SC_READ_ERROR, -EIO);
	expect_failure(f, NVME_SCT_CMD_SPECIFIC, NVME_SC_READ_ONLY, -EROFS);
	expect_failure(f, NVME_SCT_GENERIC, NVME_SC_ABORT_REQ, -ECANCELED);
	expect_failure(f, NVME_SCT_MEDIA, NVME_SC_ACCESS_DENIED, -EACCES);
	expect_failure(f, NVME_SCT_VENDOR, 0x42, -EIO);

	/* The model's own checks: past the end of the namespace. */
	assert_int_equal(submit_read(f, NSZE, 0, &r), 0);
	assert_int_equal(nvme_qpair_process_completions(f->qp, 0), 1);
	assert_int_equal(r.status, -ERANGE);
	assert_int_equal(FIELD_GET(NVME_CPL_SC, r.cpl.status), NVME_SC_LBA_RANGE);
	assert_string_equal(nvme_status_string(r.cpl.status), "LBA out of range");

	/* A namespace that does not exist. */
	read_cmd(f, &cmd, 0, 0);
	cmd.nsid = 7;
	assert_int_equal(nvme_qpair_submit(f->qp, &cmd, NULL, NULL, rec_cb, &r, 1000), 0);
	assert_int_equal(nvme_qpair_process_completions(f->qp, 0), 1);
	assert_int_equal(r.status, -EINVAL);
	assert_int_equal(FIELD_GET(NVME_CPL_SC, r.cpl.status), NVME_SC_INVALID_NS);

	/* Memory the device cannot reach: the IOMMU stops it, a transfer error. */
	outside = aligned_alloc(4096, 4096);
	assert_non_null(outside);
	vdf_mock_get_stats(mock_nvme_mock(f->m), &ms0);
	read_cmd(f, &cmd, 0, 0);
	cmd.prp1 = (uintptr_t)outside;
	assert_int_equal(nvme_qpair_submit(f->qp, &cmd, NULL, NULL, rec_cb, &r, 1000), 0);
	assert_int_equal(nvme_qpair_process_completions(f->qp, 0), 1);
	assert_int_equal(r.status, -EIO);
	assert_int_equal(FIELD_GET(NVME_CPL_SC, r.cpl.status), NVME_SC_DATA_TRANSFER_ERROR);
	vdf_mock_get_stats(mock_nvme_mock(f->m), &ms1);
	assert_int_equal(ms1.dma_faults - ms0.dma_faults, 1);
	free(outside);

	/* And the queue still works. */
	assert_int_equal(submit_read(f, 3, 0, &r), 0);
	assert_int_equal(nvme_qpair_process_completions(f->qp, 0), 1);
	assert_int_equal(r.status, 0);
	assert_int_equal(slot_label(f, 0), 3);
}

static uint16_t status_of(unsigned sct, unsigned sc)
{
	return (uint16_t)(FIELD_PREP(NVME_CPL_SCT, sct) | FIELD_PREP(NVME_CPL_SC, sc));
}

static void test_status_decoding(void **state)
{
	static const struct {
		uint8_t sct, sc;
		int err;
		const char *str;
	} cases[] = {
	    {NVME_SCT_GENERIC, NVME_SC_SUCCESS, 0, "success"},
	    {NVME_SCT_GENERIC, NVME_SC_INVALID_OPCODE, -EOPNOTSUPP, "invalid command opcode"},
	    {NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD, -EINVAL, "invalid field in command"},
	    {NVME_SCT_GENERIC, NVME_SC_DATA_TRANSFER_ERROR, -EIO, "data transfer error"},
	    {NVME_SCT_GENERIC, NVME_SC_INTERNAL, -EIO, "internal error"},
	    {NVME_SCT_GENERIC, NVME_SC_ABORT_REQ, -ECANCELED, "command abort requested"},
	    {NVME_SCT_GENERIC, NVME_SC_ABORT_SQ_DELETED, -ECANCELED,
	     "aborted: submission queue deleted"},
	    {NVME_SCT_GENERIC, NVME_SC_INVALID_NS, -EINVAL, "invalid namespace or format"},
	    {NVME_SCT_GENERIC, NVME_SC_PRP_OFFSET_INVALID, -EINVAL, "PRP offset invalid"},
	    {NVME_SCT_GENERIC, NVME_SC_OPERATION_DENIED, -EPERM, "operation denied"},
	    {NVME_SCT_GENERIC, NVME_SC_LBA_RANGE, -ERANGE, "LBA out of range"},
	    {NVME_SCT_GENERIC, NVME_SC_CAP_EXCEEDED, -ERANGE, "capacity exceeded"},
	    {NVME_SCT_GENERIC, NVME_SC_NS_NOT_READY, -EAGAIN, "namespace not ready"},
	    {NVME_SCT_GENERIC, 0x7e, -EIO, "unknown generic status"},
	    {NVME_SCT_CMD_SPECIFIC, NVME_SC_QID_INVALID, -EINVAL, "invalid queue identifier"},
	    {NVME_SCT_CMD_SPECIFIC, NVME_SC_QUEUE_SIZE, -EINVAL, "invalid queue size"},
	    {NVME_SCT_CMD_SPECIFIC, NVME_SC_READ_ONLY, -EROFS,
	     "attempted write to read-only range"},
	    {NVME_SCT_CMD_SPECIFIC, 0x7f, -EINVAL, "unknown command-specific status"},
	    {NVME_SCT_MEDIA, NVME_SC_WRITE_FAULT, -EIO, "write fault"},
	    {NVME_SCT_MEDIA, NVME_SC_READ_ERROR, -EIO, "unrecovered read error"},
	    {NVME_SCT_MEDIA, NVME_SC_ACCESS_DENIED, -EACCES, "access denied"},
	    {NVME_SCT_MEDIA, 0x7f, -EIO, "unknown media error"},
	    {NVME_SCT_PATH, 0x00, -EIO, "path error"},
	    {NVME_SCT_VENDOR, 0x05, -EIO, "vendor-specific status"},
	    {0x4, 0x00, -EIO, "reserved status code type"},
	};

	(void)state;
	for (unsigned i = 0; i < VDF_ARRAY_SIZE(cases); i++) {
		uint16_t st = status_of(cases[i].sct, cases[i].sc);
		/* The phase tag, More and Do Not Retry bits do not change the meaning. */
		uint16_t noisy = (uint16_t)(st | NVME_CPL_P | NVME_CPL_M | NVME_CPL_DNR |
					    FIELD_PREP(NVME_CPL_CRD, 2u));

		assert_int_equal(nvme_status_to_errno(st), cases[i].err);
		assert_string_equal(nvme_status_string(st), cases[i].str);
		assert_int_equal(nvme_status_to_errno(noisy), cases[i].err);
		assert_string_equal(nvme_status_string(noisy), cases[i].str);
	}
}

/* --- Software queue and failing everything --- */

static void pending_read(struct fixture *f, struct nvme_pending *p, uint64_t lba, unsigned slot,
			 struct rec *r)
{
	memset(p, 0, sizeof(*p));
	read_cmd(f, &p->cmd, lba, slot);
	p->cb = rec_cb;
	p->cb_arg = r;
}

static void test_submit_or_queue(void **state)
{
	struct fixture *f = *state;
	struct nvme_pending p[6];
	struct rec r[6] = {0};
	uint64_t sub0 = f->qp->submitted;

	mock_nvme_set_stopped(f->m, true);
	for (unsigned i = 0; i < 6; i++) {
		pending_read(f, &p[i], 500 + i, i, &r[i]);
		assert_int_equal(nvme_qpair_submit_or_queue(f->qp, &p[i]), 0);
	}
	assert_int_equal(nvme_qpair_outstanding(f->qp), DEPTH - 1);
	assert_int_equal(f->qp->submitted - sub0, DEPTH - 1);
	assert_ptr_equal(f->qp->pend_head, &p[3]);
	assert_ptr_equal(f->qp->pend_tail, &p[5]);
	assert_int_equal(qinfo(f, 1).sq_head, qinfo(f, 1).sq_tail - 3u);

	/* The controller wakes up: three complete, which lets the queued three in. */
	mock_nvme_set_stopped(f->m, false);
	assert_int_equal(nvme_qpair_process_completions(f->qp, 0), 3);
	assert_null(f->qp->pend_head);
	assert_null(f->qp->pend_tail);
	assert_int_equal(f->qp->submitted - sub0, 6);
	assert_int_equal(nvme_qpair_process_completions(f->qp, 0), 3);
	for (unsigned i = 0; i < 6; i++) {
		assert_int_equal(r[i].calls, 1);
		assert_int_equal(r[i].status, 0);
		assert_int_equal(r[i].seq, i); /* first in, first out */
		assert_int_equal(slot_label(f, i), 500 + i);
	}
	assert_int_equal(nvme_qpair_outstanding(f->qp), 0);
}

static void test_fail_all(void **state)
{
	struct fixture *f = *state;
	struct nvme_pending p[5];
	struct rec r[5] = {0}, after = {0};

	mock_nvme_set_stopped(f->m, true);
	for (unsigned i = 0; i < 5; i++) {
		pending_read(f, &p[i], i, i, &r[i]);
		assert_int_equal(nvme_qpair_submit_or_queue(f->qp, &p[i]), 0);
	}
	nvme_qpair_fail_all(f->qp, -ECANCELED);
	for (unsigned i = 0; i < 5; i++) {
		assert_int_equal(r[i].calls, 1);
		assert_int_equal(r[i].status, -ECANCELED);
		assert_false(r[i].had_cpl);
	}
	assert_int_equal(nvme_qpair_outstanding(f->qp), 0);
	assert_null(f->qp->pend_head);
	assert_null(f->qp->pend_tail);

	/* Late completions for the failed commands are recognised and dropped. */
	mock_nvme_set_stopped(f->m, false);
	assert_int_equal(nvme_qpair_process_completions(f->qp, 0), 3);
	assert_int_equal(f->qp->bogus_cpls, 3);
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(r[i].calls, 1);
	assert_int_equal(submit_read(f, 42, 0, &after), 0);
	assert_int_equal(nvme_qpair_process_completions(f->qp, 0), 1);
	assert_int_equal(after.calls, 1);
	assert_int_equal(slot_label(f, 0), 42);
}

static void test_submit_refused(void **state)
{
	struct fixture *f = *state;
	struct nvme_pending p;
	struct rec r = {0};
	uint16_t tail = qinfo(f, 1).sq_tail;

	f->c.failed = true;
	assert_int_equal(submit_read(f, 0, 0, &r), -ENODEV);
	pending_read(f, &p, 0, 0, &r);
	assert_int_equal(nvme_qpair_submit_or_queue(f->qp, &p), -ENODEV);
	assert_null(f->qp->pend_head);
	f->c.failed = false;
	f->c.resetting = true;
	assert_int_equal(submit_read(f, 0, 0, &r), -EBUSY);
	f->c.resetting = false;
	assert_int_equal(qinfo(f, 1).sq_tail, tail);
	assert_int_equal(nvme_qpair_outstanding(f->qp), 0);
	assert_int_equal(r.calls, 0);
}

static int setup_fails(struct nvme_tracker *tr, struct nvme_cmd *cmd, void *arg)
{
	(void)tr;
	(void)cmd;
	(void)arg;
	return -E2BIG;
}

/* Three pages read through a PRP list built in the tracker's page. */
static int setup_list(struct nvme_tracker *tr, struct nvme_cmd *cmd, void *arg)
{
	struct fixture *f = arg;
	uint64_t prp1, prp2;
	int rc;

	rc = nvme_prp_build(f->buf->iova + 8, 3 * 4096, 4096, tr->page, tr->page_iova, 512, &prp1,
			    &prp2);
	cmd->prp1 = prp1;
	cmd->prp2 = prp2;
	return rc;
}

static void test_setup_callback(void **state)
{
	struct fixture *f = *state;
	struct nvme_cmd cmd;
	struct rec r = {0};
	uint64_t sub0 = f->qp->submitted;
	uint16_t tail = qinfo(f, 1).sq_tail;
	uint8_t *disk = mock_nvme_ns_data(f->m, 1);

	read_cmd(f, &cmd, 0, 0);
	assert_int_equal(nvme_qpair_submit(f->qp, &cmd, setup_fails, NULL, rec_cb, &r, 1000),
			 -E2BIG);
	assert_int_equal(qinfo(f, 1).sq_tail, tail);
	assert_int_equal(f->qp->submitted, sub0);
	assert_int_equal(nvme_qpair_outstanding(f->qp), 0);

	/* 24 blocks from LBA 100 into a buffer 8 bytes into its first page. */
	read_cmd(f, &cmd, 100, 0);
	cmd.cdw12 = FIELD_PREP(NVME_RW_NLB, 24u - 1u);
	memset(f->buf->va, 0, 4 * 4096);
	assert_int_equal(nvme_qpair_submit(f->qp, &cmd, setup_list, f, rec_cb, &r, 1000), 0);
	assert_int_equal(nvme_qpair_process_completions(f->qp, 0), 1);
	assert_int_equal(r.status, 0);
	assert_memory_equal((uint8_t *)f->buf->va + 8, disk + 100 * BS, 3 * 4096);
}

static void test_interrupt_per_queue(void **state)
{
	struct fixture *f = *state;
	struct rec r = {0};
	uint16_t v = f->qp->vector;

	assert_int_equal(v, 1);
	assert_true(qinfo(f, 1).ien);
	(void)vdf_irq_ack(f->dev, VDF_IRQ_MSIX, v);
	(void)vdf_irq_ack(f->dev, VDF_IRQ_MSIX, 0);
	assert_int_equal(submit_read(f, 11, 0, &r), 0);
	/* The I/O CQ's vector fired, the admin one did not. */
	assert_int_equal(vdf_irq_ack(f->dev, VDF_IRQ_MSIX, v), 1);
	assert_int_equal(vdf_irq_ack(f->dev, VDF_IRQ_MSIX, 0), 0);
	assert_int_equal(nvme_qpair_process_completions(f->qp, 0), 1);
	assert_int_equal(r.calls, 1);
	assert_true(nvme_ctrlr_irq_total(&f->c) >= 1);
}

static void test_admin_queue_wrap(void **state)
{
	struct fixture *f = *state;
	struct nvme_cmd cmd;
	struct nvme_cpl cpl;
	unsigned flips = 0;
	uint8_t phase = f->c.admin.phase;

	/* 100 admin commands through the 32-entry admin queue. */
	for (unsigned i = 0; i < 100; i++) {
		memset(&cmd, 0, sizeof(cmd));
		cmd.cdw0 = NVME_ADMIN_GET_FEATURES;
		cmd.cdw10 = NVME_FEAT_NUM_QUEUES;
		assert_int_equal(nvme_ctrlr_admin_sync(&f->c, &cmd, &cpl), 0);
		assert_int_equal(cpl.dw0,
				 FIELD_PREP(NVME_FEAT_NSQ, 63u) | FIELD_PREP(NVME_FEAT_NCQ, 63u));
		if (f->c.admin.phase != phase) {
			phase = f->c.admin.phase;
			flips++;
		}
	}
	assert_true(flips >= 3);
	assert_int_equal(nvme_qpair_outstanding(&f->c.admin), 0);
	assert_int_equal(f->c.admin.bogus_cpls, 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_sequential_wrap),
	    T(test_burst_fills_queue),
	    T(test_cids_unique_in_flight),
	    T(test_cq_full_holds_completions),
	    T(test_bogus_cid),
	    T(test_error_status),
	    cmocka_unit_test(test_status_decoding),
	    T(test_submit_or_queue),
	    T(test_fail_all),
	    T(test_submit_refused),
	    T(test_setup_callback),
	    cmocka_unit_test_setup_teardown(test_interrupt_per_queue, setup_irq, teardown),
	    T(test_admin_queue_wrap),
	};

	return cmocka_run_group_tests_name("nvme_qpair", tests, group_setup, group_teardown);
}
