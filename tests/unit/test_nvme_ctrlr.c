// SPDX-License-Identifier: MIT
/*
 * NVMe controller bring-up and recovery (drivers/nvme/nvme_ctrlr.c) against the
 * controller model in mock_nvme.c: the init state machine of base spec 7.6.1
 * and each way it can fail, admin commands, namespaces, reset, shutdown, and
 * the timeout handler's abort -> reset escalation.
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
#include <time.h>

#include <cmocka.h>

#include "../../drivers/nvme/nvme.h"
#include "mock_nvme.h"
#include "vdf/block.h"
#include "vdf/dma.h"
#include "vdf/hw/pci.h"
#include "vdf/irq.h"
#include "vdf/log.h"

#define BUF_SIZE       (512u * 1024u)
#define STATUS_SC(st)  FIELD_GET(NVME_CPL_SC, (st))
#define STATUS_SCT(st) FIELD_GET(NVME_CPL_SCT, (st))

struct fixture {
	struct mock_nvme_config cfg;
	struct mock_nvme *m;
	struct vdf_dev *dev;
	struct nvme_opts opts;
	struct nvme_ctrlr c;
	struct vdf_dma_buf *buf;
};

/* The last log lines, so tests can check what the driver reported. */
#define LOG_KEEP 64u
static char log_lines[LOG_KEEP][256];
static unsigned log_next;

static void test_log(int level, const char *component, const char *dev, const char *msg, void *ctx)
{
	(void)ctx;
	snprintf(log_lines[log_next++ % LOG_KEEP], sizeof(log_lines[0]), "%s %s: %s", component,
		 dev, msg);
	if (getenv("VDF_TEST_LOG"))
		fprintf(stderr, "<%d> %s %s: %s\n", level, component, dev, msg);
}

static bool log_contains(const char *needle)
{
	for (unsigned i = 0; i < LOG_KEEP; i++)
		if (strstr(log_lines[i], needle))
			return true;
	return false;
}

static void log_forget(void)
{
	memset(log_lines, 0, sizeof(log_lines));
	log_next = 0;
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

/* Model defaults and small timeouts: CAP.TO = 1 (500 ms), admin/I/O 300 ms. */
static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	mock_nvme_config_default(&f->cfg);
	nvme_opts_default(&f->opts);
	f->opts.io_queues = 1;
	f->opts.io_queue_depth = 32;
	f->opts.admin_timeout_ms = 300;
	f->opts.io_timeout_ms = 300;
	f->opts.polled = true;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f->m)
		vdf_mock_clear_faults(mock_nvme_mock(f->m));
	nvme_ctrlr_fini(&f->c);
	vdf_dma_free(f->buf);
	mock_nvme_destroy(f->m);
	free(f);
	return 0;
}

/* Create the model from f->cfg (tests adjust it first). */
static void model_up(struct fixture *f)
{
	assert_int_equal(mock_nvme_create(&f->cfg, &f->m), 0);
	f->dev = mock_nvme_dev(f->m);
}

static int ctrlr_up(struct fixture *f)
{
	if (!f->m)
		model_up(f);
	return nvme_ctrlr_init(&f->c, f->dev, &f->opts);
}

static void buf_up(struct fixture *f)
{
	assert_int_equal(vdf_dma_alloc(f->dev, BUF_SIZE, VDF_DMA_BIDIRECTIONAL, &f->buf), 0);
}

/* Shut down and check nothing stays behind: DMA mappings, vectors, bus master. */
static void fini_and_check(struct fixture *f)
{
	uint16_t cmd;

	vdf_dma_free(f->buf);
	f->buf = NULL;
	nvme_ctrlr_fini(&f->c);
	assert_null(f->c.dev);
	assert_int_equal(vdf_dma_mapped_bytes(f->dev), 0);
	assert_int_equal(vdf_irq_enabled_count(f->dev, VDF_IRQ_MSIX), 0);
	assert_int_equal(vdf_irq_enabled_count(f->dev, VDF_IRQ_INTX), 0);
	memcpy(&cmd, vdf_mock_cfg(mock_nvme_mock(f->m)) + PCI_COMMAND, sizeof(cmd));
	assert_false(cmd & PCI_COMMAND_MASTER);
}

static struct mock_nvme_stats model_stats(struct fixture *f)
{
	struct mock_nvme_stats st;

	mock_nvme_get_stats(f->m, &st);
	return st;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static void fill(void *p, size_t len, uint8_t seed)
{
	uint8_t *b = p;

	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)(seed + i * 7u + (i >> 9));
}

/* Write a pattern through the block class and read it back. */
static void io_roundtrip(struct fixture *f, struct nvme_ns *ns, uint64_t lba, uint32_t nblocks,
			 uint8_t seed)
{
	size_t bytes = (size_t)nblocks * ns->block_size;
	uint8_t *wr = f->buf->va, *rd = (uint8_t *)f->buf->va + BUF_SIZE / 2;

	assert_true(bytes <= BUF_SIZE / 2);
	fill(wr, bytes, seed);
	memset(rd, 0, bytes);
	assert_int_equal(vdf_block_write(&ns->bdev, lba, nblocks, wr, f->buf), 0);
	assert_int_equal(vdf_block_read(&ns->bdev, lba, nblocks, rd, f->buf), 0);
	assert_memory_equal(wr, rd, bytes);
}

/* Records what the model saw at CC.EN 0 -> 1. */
struct enable_probe {
	unsigned enables;
	unsigned msix_at_enable;
	bool bus_master_at_enable;
	uint32_t cc;
};

static void probe_cc(struct mock_nvme *m, uint32_t old_cc, uint32_t new_cc, void *ctx)
{
	struct enable_probe *p = ctx;
	uint16_t cmd;

	if ((old_cc & NVME_CC_EN) || !(new_cc & NVME_CC_EN))
		return;
	p->enables++;
	p->cc = new_cc;
	p->msix_at_enable = vdf_irq_enabled_count(mock_nvme_dev(m), VDF_IRQ_MSIX);
	memcpy(&cmd, vdf_mock_cfg(mock_nvme_mock(m)) + PCI_COMMAND, sizeof(cmd));
	p->bus_master_at_enable = cmd & PCI_COMMAND_MASTER;
}

/* Keeps the commands the model fetched. */
struct cmd_log {
	unsigned n;
	struct {
		uint16_t qid;
		struct nvme_cmd cmd;
	} e[128];
};

static void log_cmd(struct mock_nvme *m, uint16_t qid, const struct nvme_cmd *cmd, void *ctx)
{
	struct cmd_log *l = ctx;

	(void)m;
	if (l->n < VDF_ARRAY_SIZE(l->e)) {
		l->e[l->n].qid = qid;
		l->e[l->n].cmd = *cmd;
		l->n++;
	}
}

static uint8_t cmd_opc(const struct nvme_cmd *cmd)
{
	return (uint8_t)FIELD_GET(NVME_CMD_OPC, cmd->cdw0);
}

static uint16_t cmd_cid(const struct nvme_cmd *cmd)
{
	return (uint16_t)FIELD_GET(NVME_CMD_CID, cmd->cdw0);
}

/* --- Bring-up --- */

static void test_init_success(void **state)
{
	struct fixture *f = *state;
	struct enable_probe probe = {0};
	struct mock_nvme_queue_info qi;
	struct vdf_block_info info;

	f->cfg.max_io_queues = 2; /* fewer than asked for */
	f->cfg.mdts = 5;
	f->opts.io_queues = 4;
	f->opts.polled = false;
	model_up(f);
	mock_nvme_on_cc_write(f->m, probe_cc, &probe);
	assert_int_equal(ctrlr_up(f), 0);

	assert_string_equal(f->c.model, MOCK_NVME_MODEL);
	assert_string_equal(f->c.serial, MOCK_NVME_SERIAL);
	assert_string_equal(f->c.firmware, MOCK_NVME_FIRMWARE);
	assert_int_equal(f->c.vs, 0x00010400);
	assert_int_equal(f->c.db_stride, 4);
	assert_int_equal(f->c.page_size, 4096);
	assert_int_equal(f->c.ready_timeout_ms, 500);
	assert_int_equal(f->c.mqes, 1024);
	assert_int_equal(f->c.nn, 1);
	assert_true(f->c.vwc);
	assert_int_equal(f->c.oncs, NVME_ONCS_DSM | NVME_ONCS_WRITE_ZEROES);
	/* MDTS 5 with 4 KiB minimum pages: 128 KiB per command. */
	assert_int_equal(f->c.max_xfer, 128 * 1024);
	assert_int_equal(f->c.nns, 1);
	assert_int_equal(f->c.ns[0].nsid, 1);
	assert_int_equal(f->c.ns[0].num_blocks, 16384);
	assert_int_equal(f->c.ns[0].block_size, 512);
	assert_true(f->c.ns[0].dealloc_reads_zeroes);

	/* Four queues asked, two granted: the driver uses two. */
	assert_int_equal(f->c.nioq, 2);
	assert_int_equal(f->c.ioq[0].depth, 32);
	/* MSI-X with one vector per asked-for queue plus admin, programmed before CC.EN. */
	assert_int_equal(f->c.irq_kind, VDF_IRQ_MSIX);
	assert_int_equal(f->c.nvec, 5);
	assert_int_equal(probe.enables, 1);
	assert_int_equal(probe.msix_at_enable, 5);
	assert_true(probe.bus_master_at_enable);
	assert_int_equal(FIELD_GET(NVME_CC_IOSQES, probe.cc), 6);
	assert_int_equal(FIELD_GET(NVME_CC_IOCQES, probe.cc), 4);
	assert_int_equal(FIELD_GET(NVME_CC_MPS, probe.cc), 0);
	assert_int_equal(FIELD_GET(NVME_CC_CSS, probe.cc), NVME_CC_CSS_NVM);

	/* The queues the model holds, each CQ on its own vector. */
	assert_int_equal(mock_nvme_queue_info(f->m, 0, &qi), 0);
	assert_true(qi.sq_exists && qi.cq_exists);
	assert_int_equal(qi.sq_size, 32);
	for (uint16_t q = 1; q <= 2; q++) {
		assert_int_equal(mock_nvme_queue_info(f->m, q, &qi), 0);
		assert_true(qi.sq_exists && qi.cq_exists);
		assert_int_equal(qi.sq_size, 32);
		assert_int_equal(qi.cq_size, 32);
		assert_int_equal(qi.cqid, q);
		assert_true(qi.ien);
		assert_int_equal(qi.iv, f->c.ioq[q - 1].vector);
		assert_int_equal(qi.iv, q);
	}
	assert_int_equal(mock_nvme_queue_info(f->m, 3, &qi), 0);
	assert_false(qi.sq_exists || qi.cq_exists);
	/* Identify controller, active namespace list, namespace 1. */
	assert_int_equal(mock_nvme_count(f->m, true, NVME_ADMIN_IDENTIFY), 3);
	assert_int_equal(mock_nvme_count(f->m, true, NVME_ADMIN_SET_FEATURES), 1);
	assert_int_equal(mock_nvme_count(f->m, true, NVME_ADMIN_CREATE_CQ), 2);
	assert_int_equal(mock_nvme_count(f->m, true, NVME_ADMIN_CREATE_SQ), 2);
	/* Admin completions interrupt on vector 0. */
	assert_true(vdf_irq_ack(f->dev, VDF_IRQ_MSIX, 0) > 0);

	vdf_block_info(&f->c.ns[0].bdev, &info);
	assert_int_equal(info.num_blocks, 16384);
	assert_int_equal(info.block_size, 512);
	assert_int_equal(info.max_transfer, 128 * 1024);
	assert_int_equal(info.queue_depth, 31);
	assert_string_equal(info.model, MOCK_NVME_MODEL);
	assert_false(f->c.ns[0].bdev.polled);

	fini_and_check(f);
	assert_int_equal(model_stats(f).shutdowns, 1);
	assert_int_equal(model_stats(f).disables, 1);
}

static void test_init_polled(void **state)
{
	struct fixture *f = *state;
	struct mock_nvme_queue_info qi;

	f->opts.io_queues = 2;
	assert_int_equal(ctrlr_up(f), 0);
	assert_int_equal(f->c.nvec, 0);
	assert_int_equal(vdf_irq_enabled_count(f->dev, VDF_IRQ_MSIX), 0);
	assert_int_equal(f->c.nioq, 2);
	assert_int_equal(mock_nvme_queue_info(f->m, 1, &qi), 0);
	assert_false(qi.ien);
	assert_true(f->c.ns[0].bdev.polled);
	assert_int_equal(model_stats(f).irqs, 0);
	buf_up(f);
	io_roundtrip(f, &f->c.ns[0], 0, 8, 1);
	fini_and_check(f);
}

static void test_init_intx_fallback(void **state)
{
	struct fixture *f = *state;
	struct mock_nvme_queue_info qi;

	f->cfg.msix_vectors = 0;
	f->opts.polled = false;
	assert_int_equal(ctrlr_up(f), 0);
	assert_int_equal(f->c.irq_kind, VDF_IRQ_INTX);
	assert_int_equal(f->c.nvec, 1);
	assert_int_equal(vdf_irq_enabled_count(f->dev, VDF_IRQ_INTX), 1);
	assert_int_equal(mock_nvme_queue_info(f->m, 1, &qi), 0);
	assert_true(qi.ien);
	assert_int_equal(qi.iv, 0);
	(void)vdf_irq_ack(f->dev, VDF_IRQ_INTX, 0);
	buf_up(f);
	io_roundtrip(f, &f->c.ns[0], 100, 4, 2);
	assert_true(vdf_irq_ack(f->dev, VDF_IRQ_INTX, 0) > 0);
	fini_and_check(f);
}

static void test_init_few_vectors(void **state)
{
	struct fixture *f = *state;
	struct mock_nvme_queue_info qi;

	/* Two MSI-X vectors for three I/O queues: admin on 0, all I/O CQs share 1. */
	f->cfg.msix_vectors = 2;
	f->opts.io_queues = 3;
	f->opts.polled = false;
	assert_int_equal(ctrlr_up(f), 0);
	assert_int_equal(f->c.nvec, 2);
	assert_int_equal(f->c.nioq, 3);
	for (uint16_t q = 1; q <= 3; q++) {
		assert_int_equal(mock_nvme_queue_info(f->m, q, &qi), 0);
		assert_true(qi.ien);
		assert_int_equal(qi.iv, 1);
	}
	fini_and_check(f);
}

static void test_init_tiny_queues(void **state)
{
	struct fixture *f = *state;

	/* CAP.MQES = 1: two entries per queue, one command in flight. */
	f->cfg.mqes = 1;
	assert_int_equal(ctrlr_up(f), 0);
	assert_int_equal(f->c.mqes, 2);
	assert_int_equal(f->c.admin.depth, 2);
	assert_int_equal(f->c.ioq[0].depth, 2);
	buf_up(f);
	for (unsigned i = 0; i < 10; i++)
		io_roundtrip(f, &f->c.ns[0], i * 300, 300, (uint8_t)i);
	fini_and_check(f);
}

static void test_init_never_ready(void **state)
{
	struct fixture *f = *state;

	f->cfg.ready = MOCK_NVME_READY_NEVER;
	assert_int_equal(ctrlr_up(f), -ETIMEDOUT);
	assert_false(f->c.failed);
	assert_int_equal(model_stats(f).enables, 0);
	fini_and_check(f);
}

static void test_init_fatal_status(void **state)
{
	struct fixture *f = *state;

	f->cfg.ready = MOCK_NVME_READY_CFS;
	assert_int_equal(ctrlr_up(f), -EIO);
	fini_and_check(f);
}

static void test_init_device_gone(void **state)
{
	struct fixture *f = *state;
	struct vdf_mock_fault gone = {.kind = VDF_MOCK_FAULT_ALL_ONES};

	model_up(f);
	assert_int_equal(vdf_mock_inject(mock_nvme_mock(f->m), &gone), 0);
	assert_int_equal(ctrlr_up(f), -ENODEV);
	assert_int_equal(model_stats(f).enables, 0);
	nvme_ctrlr_fini(&f->c);
	vdf_mock_clear_faults(mock_nvme_mock(f->m));
	assert_int_equal(vdf_dma_mapped_bytes(f->dev), 0);
}

static void test_init_stuck_ready(void **state)
{
	struct fixture *f = *state;
	struct vdf_mock_fault stuck = {.kind = VDF_MOCK_FAULT_REG_STUCK,
				       .bar = 0,
				       .off = NVME_REG_CSTS,
				       .value = NVME_CSTS_RDY};

	/* The disable step (7.6.1 step 2) waits for RDY = 0, which never comes. */
	model_up(f);
	assert_int_equal(vdf_mock_inject(mock_nvme_mock(f->m), &stuck), 0);
	assert_int_equal(ctrlr_up(f), -ETIMEDOUT);
	assert_int_equal(model_stats(f).enables, 0);
	vdf_mock_clear_faults(mock_nvme_mock(f->m));
	fini_and_check(f);
}

static void test_init_rejects_capabilities(void **state)
{
	struct fixture *f = *state;
	uint32_t cap_hi;
	struct vdf_mock_fault stuck = {.kind = VDF_MOCK_FAULT_REG_STUCK, .bar = 0};

	model_up(f);
	memcpy(&cap_hi, (uint8_t *)vdf_mock_bar(mock_nvme_mock(f->m), 0) + 4, sizeof(cap_hi));

	/* No NVM command set. */
	stuck.off = NVME_REG_CAP + 4;
	stuck.value = cap_hi & ~(uint32_t)(NVME_CAP_CSS_NVM >> 32);
	assert_int_equal(vdf_mock_inject(mock_nvme_mock(f->m), &stuck), 0);
	assert_int_equal(ctrlr_up(f), -ENOTSUP);
	nvme_ctrlr_fini(&f->c);
	vdf_mock_clear_faults(mock_nvme_mock(f->m));

	/* 4 KiB pages not allowed (MPSMIN = 1). */
	stuck.value = cap_hi | (uint32_t)(FIELD_PREP(NVME_CAP_MPSMIN, 1ull) >> 32);
	assert_int_equal(vdf_mock_inject(mock_nvme_mock(f->m), &stuck), 0);
	assert_int_equal(ctrlr_up(f), -ENOTSUP);
	nvme_ctrlr_fini(&f->c);
	vdf_mock_clear_faults(mock_nvme_mock(f->m));

	/* MQES = 0: one entry per queue cannot work. */
	stuck.off = NVME_REG_CAP;
	stuck.value = (uint32_t)(NVME_CAP_CQR | FIELD_PREP(NVME_CAP_TO, 1ull));
	assert_int_equal(vdf_mock_inject(mock_nvme_mock(f->m), &stuck), 0);
	assert_int_equal(ctrlr_up(f), -EINVAL);
	nvme_ctrlr_fini(&f->c);
	vdf_mock_clear_faults(mock_nvme_mock(f->m));

	assert_int_equal(model_stats(f).enables, 0);
	assert_int_equal(vdf_dma_mapped_bytes(f->dev), 0);
}

static void test_init_dma_map_fails_first(void **state)
{
	struct fixture *f = *state;
	struct vdf_mock_fault nomap = {.kind = VDF_MOCK_FAULT_DMA_MAP, .count = 1};

	model_up(f);
	assert_int_equal(vdf_mock_inject(mock_nvme_mock(f->m), &nomap), 0);
	assert_int_equal(ctrlr_up(f), -EFAULT);
	assert_int_equal(model_stats(f).enables, 0);
	fini_and_check(f);
}

/* Arm a DMA_MAP fault once the controller is identified: the I/O queues fail. */
static void fail_maps_after_identify(struct mock_nvme *m, uint16_t qid, const struct nvme_cmd *cmd,
				     void *ctx)
{
	struct vdf_mock_fault nomap = {.kind = VDF_MOCK_FAULT_DMA_MAP, .count = 1};

	(void)ctx;
	if (qid == 0 && cmd_opc(cmd) == NVME_ADMIN_IDENTIFY && cmd->cdw10 == NVME_ID_CNS_CTRL)
		assert_int_equal(vdf_mock_inject(mock_nvme_mock(m), &nomap), 0);
}

static void test_init_dma_map_fails_io_queues(void **state)
{
	struct fixture *f = *state;

	f->opts.io_queues = 2;
	f->opts.polled = false;
	model_up(f);
	mock_nvme_on_command(f->m, fail_maps_after_identify, NULL);
	assert_int_equal(ctrlr_up(f), -EFAULT);
	assert_int_equal(model_stats(f).enables, 1);
	assert_int_equal(mock_nvme_count(f->m, true, NVME_ADMIN_CREATE_CQ), 0);
	fini_and_check(f);
	/* It was enabled, so it was shut down properly. */
	assert_int_equal(model_stats(f).shutdowns, 1);
}

static void test_init_admin_timeout(void **state)
{
	struct fixture *f = *state;

	f->opts.admin_timeout_ms = 200;
	model_up(f);
	/* Identify Controller is lost. */
	mock_nvme_drop_next(f->m, 0, NVME_ADMIN_IDENTIFY, 1);
	assert_int_equal(ctrlr_up(f), -ETIMEDOUT);
	assert_int_equal(model_stats(f).dropped, 1);
	assert_int_equal(mock_nvme_count(f->m, true, NVME_ADMIN_IDENTIFY), 1);
	assert_int_equal(nvme_qpair_outstanding(&f->c.admin), 1);
	fini_and_check(f);
	assert_int_equal(model_stats(f).shutdowns, 1);
}

static void test_init_admin_error(void **state)
{
	struct fixture *f = *state;

	f->opts.io_queues = 2;
	model_up(f);
	/* Set Features fails: init fails with the decoded errno. */
	mock_nvme_fail_next(f->m, 0, NVME_ADMIN_SET_FEATURES, 1, NVME_SCT_GENERIC,
			    NVME_SC_INTERNAL);
	assert_int_equal(ctrlr_up(f), -EIO);
	fini_and_check(f);

	/* Likewise a refused Create I/O SQ, after its CQ was created. */
	mock_nvme_destroy(f->m);
	f->m = NULL;
	model_up(f);
	mock_nvme_fail_next(f->m, 0, NVME_ADMIN_CREATE_SQ, 1, NVME_SCT_CMD_SPECIFIC,
			    NVME_SC_QUEUE_SIZE);
	assert_int_equal(ctrlr_up(f), -EINVAL);
	fini_and_check(f);
}

static int admin(struct fixture *f, uint8_t opc, uint32_t nsid, uint64_t prp1, uint32_t cdw10,
		 uint32_t cdw11, struct nvme_cpl *cpl)
{
	struct nvme_cmd cmd = {
	    .cdw0 = opc, .nsid = nsid, .prp1 = prp1, .cdw10 = cdw10, .cdw11 = cdw11};

	memset(cpl, 0, sizeof(*cpl));
	return nvme_ctrlr_admin_sync(&f->c, &cmd, cpl);
}

static void assert_status(const struct nvme_cpl *cpl, unsigned sct, unsigned sc)
{
	assert_int_equal(STATUS_SCT(cpl->status), sct);
	assert_int_equal(STATUS_SC(cpl->status), sc);
}

static void test_admin_commands(void **state)
{
	struct fixture *f = *state;
	uint64_t ring;
	struct nvme_cpl cpl;

	f->cfg.max_io_queues = 2;
	assert_int_equal(ctrlr_up(f), 0);
	buf_up(f);
	ring = f->buf->iova;
#define QARGS(qid, entries) \
	(FIELD_PREP(NVME_QUEUE_QID, (qid)) | FIELD_PREP(NVME_QUEUE_QSIZE, (entries)-1u))

	/* Queue creation is validated: identifiers, sizes, vectors, the CQ. */
	assert_int_equal(admin(f, NVME_ADMIN_CREATE_CQ, 0, ring, QARGS(0, 16), NVME_CQ_PC, &cpl),
			 -EINVAL);
	assert_status(&cpl, NVME_SCT_CMD_SPECIFIC, NVME_SC_QID_INVALID);
	assert_string_equal(nvme_status_string(cpl.status), "invalid queue identifier");
	assert_int_equal(admin(f, NVME_ADMIN_CREATE_CQ, 0, ring, QARGS(3, 16), NVME_CQ_PC, &cpl),
			 -EINVAL);
	assert_status(&cpl, NVME_SCT_CMD_SPECIFIC, NVME_SC_QID_INVALID);
	assert_int_equal(admin(f, NVME_ADMIN_CREATE_CQ, 0, ring, QARGS(1, 16), NVME_CQ_PC, &cpl),
			 -EINVAL);
	assert_status(&cpl, NVME_SCT_CMD_SPECIFIC, NVME_SC_QID_INVALID);
	assert_int_equal(admin(f, NVME_ADMIN_CREATE_CQ, 0, ring, QARGS(2, 1025), NVME_CQ_PC, &cpl),
			 -EINVAL);
	assert_status(&cpl, NVME_SCT_CMD_SPECIFIC, NVME_SC_QUEUE_SIZE);
	assert_int_equal(admin(f, NVME_ADMIN_CREATE_CQ, 0, ring, QARGS(2, 1), NVME_CQ_PC, &cpl),
			 -EINVAL);
	assert_status(&cpl, NVME_SCT_CMD_SPECIFIC, NVME_SC_QUEUE_SIZE);
	assert_int_equal(admin(f, NVME_ADMIN_CREATE_CQ, 0, ring, QARGS(2, 16),
			       NVME_CQ_PC | NVME_CQ_IEN | FIELD_PREP(NVME_CQ_IV, 100u), &cpl),
			 -EINVAL);
	assert_status(&cpl, NVME_SCT_CMD_SPECIFIC, NVME_SC_INVALID_VECTOR);
	assert_int_equal(admin(f, NVME_ADMIN_CREATE_SQ, 0, ring, QARGS(2, 16),
			       NVME_SQ_PC | FIELD_PREP(NVME_SQ_CQID, 2u), &cpl),
			 -EINVAL);
	assert_status(&cpl, NVME_SCT_CMD_SPECIFIC, NVME_SC_CQ_INVALID);

	/* A valid pair, then deletions in the wrong and the right order. */
	assert_int_equal(admin(f, NVME_ADMIN_CREATE_CQ, 0, ring, QARGS(2, 16), NVME_CQ_PC, &cpl),
			 0);
	assert_int_equal(admin(f, NVME_ADMIN_CREATE_SQ, 0, ring + 4096, QARGS(2, 16),
			       NVME_SQ_PC | FIELD_PREP(NVME_SQ_CQID, 2u), &cpl),
			 0);
	assert_int_equal(admin(f, NVME_ADMIN_DELETE_CQ, 0, 0, 2, 0, &cpl), -EINVAL);
	assert_status(&cpl, NVME_SCT_CMD_SPECIFIC, NVME_SC_INVALID_QUEUE_DELETION);
	assert_int_equal(admin(f, NVME_ADMIN_DELETE_SQ, 0, 0, 2, 0, &cpl), 0);
	assert_int_equal(admin(f, NVME_ADMIN_DELETE_CQ, 0, 0, 2, 0, &cpl), 0);
	assert_int_equal(admin(f, NVME_ADMIN_DELETE_SQ, 0, 0, 2, 0, &cpl), -EINVAL);
	assert_status(&cpl, NVME_SCT_CMD_SPECIFIC, NVME_SC_QID_INVALID);

	/* Unknown opcode, unknown CNS, unknown namespace. */
	assert_int_equal(admin(f, 0x7f, 0, 0, 0, 0, &cpl), -EOPNOTSUPP);
	assert_status(&cpl, NVME_SCT_GENERIC, NVME_SC_INVALID_OPCODE);
	assert_int_equal(admin(f, NVME_ADMIN_IDENTIFY, 0, ring, 0x55, 0, &cpl), -EINVAL);
	assert_status(&cpl, NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD);
	assert_int_equal(admin(f, NVME_ADMIN_IDENTIFY, 99, ring, NVME_ID_CNS_NS, 0, &cpl), -EINVAL);
	assert_status(&cpl, NVME_SCT_GENERIC, NVME_SC_INVALID_NS);

	/* Number of queues: readable, but no longer settable with I/O queues present. */
	assert_int_equal(admin(f, NVME_ADMIN_GET_FEATURES, 0, 0, NVME_FEAT_NUM_QUEUES, 0, &cpl), 0);
	assert_int_equal(cpl.dw0, FIELD_PREP(NVME_FEAT_NSQ, 1u) | FIELD_PREP(NVME_FEAT_NCQ, 1u));
	assert_int_equal(admin(f, NVME_ADMIN_SET_FEATURES, 0, 0, NVME_FEAT_NUM_QUEUES, 0, &cpl),
			 -EIO);
	assert_status(&cpl, NVME_SCT_GENERIC, NVME_SC_CMD_SEQ_ERROR);

	/* Abort completes, reporting that it did not abort anything. */
	assert_int_equal(admin(f, NVME_ADMIN_ABORT, 0, 0, FIELD_PREP(NVME_ABORT_SQID, 1u), 0, &cpl),
			 0);
	assert_int_equal(cpl.dw0 & 1u, 1);
	assert_int_equal(nvme_ctrlr_abort(&f->c, 1, 5), 0);
	assert_int_equal(nvme_ctrlr_process_all(&f->c), 1);
#undef QARGS

	/* The driver's own queue still works. */
	io_roundtrip(f, &f->c.ns[0], 0, 16, 3);
	fini_and_check(f);
}

/* --- Namespaces --- */

static void namespace_config(struct fixture *f)
{
	f->cfg.nn = 4;
	f->cfg.ns[0] = (struct mock_nvme_ns_config){.nsze = 4096, .lbaf = MOCK_NVME_LBAF_512};
	f->cfg.ns[1] = (struct mock_nvme_ns_config){.nsze = 4096, .lbaf = MOCK_NVME_LBAF_512_MD8};
	f->cfg.ns[2] = (struct mock_nvme_ns_config){.nsze = 0};
	f->cfg.ns[3] = (struct mock_nvme_ns_config){
	    .nsze = 1024, .lbaf = MOCK_NVME_LBAF_4K, .dlfeat_unknown = true};
}

static void check_namespaces(struct fixture *f)
{
	/* NSID 2 has metadata and NSID 3 is inactive: both skipped. */
	assert_int_equal(f->c.nns, 2);
	assert_int_equal(f->c.ns[0].nsid, 1);
	assert_int_equal(f->c.ns[0].block_size, 512);
	assert_int_equal(f->c.ns[0].num_blocks, 4096);
	assert_true(f->c.ns[0].dealloc_reads_zeroes);
	assert_int_equal(f->c.ns[1].nsid, 4);
	assert_int_equal(f->c.ns[1].block_size, 4096);
	assert_int_equal(f->c.ns[1].num_blocks, 1024);
	assert_false(f->c.ns[1].dealloc_reads_zeroes);
	assert_ptr_equal(f->c.ns[1].bdev.priv, &f->c.ns[1]);
	assert_non_null(strstr(f->c.ns[1].name, "n4"));
}

static void test_namespaces_active_list(void **state)
{
	struct fixture *f = *state;

	namespace_config(f);
	assert_int_equal(ctrlr_up(f), 0);
	check_namespaces(f);
	/* Controller, list, and the three active namespaces. */
	assert_int_equal(mock_nvme_count(f->m, true, NVME_ADMIN_IDENTIFY), 5);
	buf_up(f);
	io_roundtrip(f, &f->c.ns[0], 10, 8, 4);
	io_roundtrip(f, &f->c.ns[1], 10, 8, 5);
	assert_int_equal(mock_nvme_ns_data(f->m, 4)[10 * 4096], ((uint8_t *)f->buf->va)[0]);
	fini_and_check(f);
}

static void test_namespaces_without_active_list(void **state)
{
	struct fixture *f = *state;

	/* An NVMe 1.0 controller: the driver tries NSIDs 1..NN and meets the inactive one. */
	namespace_config(f);
	f->cfg.no_active_list = true;
	assert_int_equal(ctrlr_up(f), 0);
	check_namespaces(f);
	assert_int_equal(mock_nvme_count(f->m, true, NVME_ADMIN_IDENTIFY), 6);
	fini_and_check(f);
}

static void test_namespaces_none(void **state)
{
	struct fixture *f = *state;

	f->cfg.nn = 2;
	f->cfg.ns[0].nsze = 0;
	assert_int_equal(ctrlr_up(f), 0);
	assert_int_equal(f->c.nns, 0);
	fini_and_check(f);
}

/* --- Reset and timeouts --- */

struct done {
	unsigned calls;
	int status;
};

static void done_cb(void *arg, int status)
{
	struct done *d = arg;

	d->calls++;
	d->status = status;
}

static int submit_read(struct fixture *f, uint64_t lba, struct done *d)
{
	struct vdf_block_req req = {
	    .op = VDF_BLOCK_READ,
	    .lba = lba,
	    .nblocks = 1,
	    .buf = f->buf->va,
	    .dma = f->buf,
	    .cb = done_cb,
	    .cb_arg = d,
	};

	return vdf_block_submit(&f->c.ns[0].bdev, &req);
}

static void test_reset(void **state)
{
	struct fixture *f = *state;
	struct mock_nvme_queue_info qi;
	uint8_t *keep;

	f->opts.io_queues = 2;
	assert_int_equal(ctrlr_up(f), 0);
	buf_up(f);
	io_roundtrip(f, &f->c.ns[0], 64, 32, 6);
	keep = malloc(32 * 512);
	assert_non_null(keep);
	memcpy(keep, f->buf->va, 32 * 512);

	assert_int_equal(nvme_ctrlr_reset(&f->c), 0);
	assert_int_equal(f->c.resets, 1);
	assert_false(f->c.failed);
	assert_false(f->c.resetting);
	assert_int_equal(model_stats(f).disables, 1);
	assert_int_equal(model_stats(f).enables, 2);
	/* Same queues again, each rebuilt from scratch. */
	assert_int_equal(mock_nvme_count(f->m, true, NVME_ADMIN_SET_FEATURES), 2);
	assert_int_equal(mock_nvme_count(f->m, true, NVME_ADMIN_CREATE_CQ), 4);
	assert_int_equal(mock_nvme_count(f->m, true, NVME_ADMIN_CREATE_SQ), 4);
	for (uint16_t q = 1; q <= 2; q++) {
		assert_int_equal(mock_nvme_queue_info(f->m, q, &qi), 0);
		assert_true(qi.sq_exists && qi.cq_exists);
		assert_int_equal(qi.sq_tail, 0);
		assert_int_equal(f->c.ioq[q - 1].sq_tail, 0);
		assert_int_equal(f->c.ioq[q - 1].phase, 1);
	}

	/* The data survived and I/O works. */
	memset(f->buf->va, 0, 32 * 512);
	assert_int_equal(vdf_block_read(&f->c.ns[0].bdev, 64, 32, f->buf->va, f->buf), 0);
	assert_memory_equal(f->buf->va, keep, 32 * 512);
	io_roundtrip(f, &f->c.ns[0], 200, 64, 7);
	free(keep);
	fini_and_check(f);
}

static void test_reset_cancels_in_flight(void **state)
{
	struct fixture *f = *state;
	struct done d = {0};

	assert_int_equal(ctrlr_up(f), 0);
	buf_up(f);
	mock_nvme_drop_next(f->m, 1, NVME_CMD_READ, 1);
	assert_int_equal(submit_read(f, 0, &d), 0);
	assert_int_equal(nvme_ctrlr_process_all(&f->c), 0);
	assert_int_equal(d.calls, 0);
	assert_int_equal(nvme_ctrlr_reset(&f->c), 0);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.status, -ECANCELED);
	assert_int_equal(nvme_qpair_outstanding(&f->c.ioq[0]), 0);
	assert_int_equal(f->c.ns[0].bdev.stats.errors, 1);
	io_roundtrip(f, &f->c.ns[0], 0, 8, 8);
	fini_and_check(f);
}

static void test_reset_fails(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(ctrlr_up(f), 0);
	buf_up(f);
	mock_nvme_set_ready_mode(f->m, MOCK_NVME_READY_NEVER);
	assert_int_equal(nvme_ctrlr_reset(&f->c), -ETIMEDOUT);
	assert_true(f->c.failed);
	assert_int_equal(vdf_block_read(&f->c.ns[0].bdev, 0, 1, f->buf->va, f->buf), -ENODEV);
	assert_int_equal(nvme_ctrlr_reset(&f->c), -ENODEV);
	fini_and_check(f);
}

static void test_timeout_abort_then_reset(void **state)
{
	struct fixture *f = *state;
	struct cmd_log *log = calloc(1, sizeof(*log));
	struct done d = {0};
	uint16_t read_cid = 0xffff;
	unsigned aborts = 0;

	assert_non_null(log);
	f->opts.io_timeout_ms = 100;
	assert_int_equal(ctrlr_up(f), 0);
	buf_up(f);
	mock_nvme_on_command(f->m, log_cmd, log);
	mock_nvme_drop_next(f->m, 1, NVME_CMD_READ, 1);
	assert_int_equal(submit_read(f, 5, &d), 0);

	/* First deadline: the command is aborted, not yet failed. */
	sleep_ms(120);
	nvme_ctrlr_check_timeouts(&f->c);
	assert_int_equal(mock_nvme_count(f->m, true, NVME_ADMIN_ABORT), 1);
	assert_int_equal(d.calls, 0);
	assert_int_equal(f->c.resets, 0);
	assert_int_equal(f->c.ioq[0].timeouts, 1);
	for (unsigned i = 0; i < log->n; i++) {
		if (log->e[i].qid == 1 && cmd_opc(&log->e[i].cmd) == NVME_CMD_READ)
			read_cid = cmd_cid(&log->e[i].cmd);
		if (log->e[i].qid == 0 && cmd_opc(&log->e[i].cmd) == NVME_ADMIN_ABORT) {
			aborts++;
			assert_int_equal(FIELD_GET(NVME_ABORT_SQID, log->e[i].cmd.cdw10), 1);
			assert_int_equal(FIELD_GET(NVME_ABORT_CID, log->e[i].cmd.cdw10), read_cid);
		}
	}
	assert_int_equal(aborts, 1);
	/* The abort's completion ("not aborted") is reaped like any other. */
	log_forget();
	assert_int_equal(nvme_ctrlr_process_all(&f->c), 1);
	assert_true(log_contains("abort did not abort the command"));

	/* Second deadline: the abort did not help, so the controller is reset. */
	sleep_ms(120);
	nvme_ctrlr_check_timeouts(&f->c);
	assert_int_equal(f->c.resets, 1);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.status, -ECANCELED);
	assert_int_equal(f->c.ioq[0].timeouts, 2);
	assert_int_equal(mock_nvme_count(f->m, true, NVME_ADMIN_ABORT), 1);
	assert_int_equal(model_stats(f).enables, 2);
	assert_false(f->c.failed);

	mock_nvme_on_command(f->m, NULL, NULL);
	io_roundtrip(f, &f->c.ns[0], 5, 1, 9);
	nvme_ctrlr_check_timeouts(&f->c);
	assert_int_equal(f->c.resets, 1);
	free(log);
	fini_and_check(f);
}

static void test_timeout_admin_resets(void **state)
{
	struct fixture *f = *state;

	f->opts.admin_timeout_ms = 100;
	assert_int_equal(ctrlr_up(f), 0);
	buf_up(f);
	/* An admin command that never completes: no abort for those, straight to reset. */
	mock_nvme_drop_next(f->m, 0, NVME_ADMIN_ABORT, 1);
	assert_int_equal(nvme_ctrlr_abort(&f->c, 1, 0), 0);
	sleep_ms(120);
	log_forget();
	nvme_ctrlr_check_timeouts(&f->c);
	assert_int_equal(f->c.resets, 1);
	/* The reset failed the abort on the host side, and the log says so. */
	assert_true(log_contains("abort Operation canceled"));
	assert_false(log_contains("abort success"));
	assert_int_equal(f->c.admin.timeouts, 1);
	assert_int_equal(nvme_qpair_outstanding(&f->c.admin), 0);
	io_roundtrip(f, &f->c.ns[0], 0, 8, 10);
	fini_and_check(f);
}

static void test_timeout_device_gone(void **state)
{
	struct fixture *f = *state;
	struct vdf_mock_fault gone = {.kind = VDF_MOCK_FAULT_ALL_ONES};
	struct done d = {0};

	f->opts.io_queues = 2;
	assert_int_equal(ctrlr_up(f), 0);
	buf_up(f);
	mock_nvme_drop_next(f->m, -1, NVME_CMD_READ, 1);
	assert_int_equal(submit_read(f, 0, &d), 0);
	assert_int_equal(vdf_mock_inject(mock_nvme_mock(f->m), &gone), 0);
	/* No deadline has to pass: CSTS reading all ones is enough. */
	nvme_ctrlr_check_timeouts(&f->c);
	assert_true(f->c.failed);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.status, -ENODEV);
	assert_int_equal(submit_read(f, 0, &d), -ENODEV);
	assert_int_equal(nvme_ctrlr_reset(&f->c), -ENODEV);
	assert_int_equal(f->c.resets, 0);
	/* Nothing more happens once failed. */
	nvme_ctrlr_check_timeouts(&f->c);
	assert_int_equal(d.calls, 1);
	vdf_dma_free(f->buf);
	f->buf = NULL;
	nvme_ctrlr_fini(&f->c);
	vdf_mock_clear_faults(mock_nvme_mock(f->m));
	assert_int_equal(vdf_dma_mapped_bytes(f->dev), 0);
	/* A gone device gets no shutdown notification. */
	assert_int_equal(model_stats(f).shutdowns, 0);
}

static void test_fatal_status_resets(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(ctrlr_up(f), 0);
	buf_up(f);
	mock_nvme_set_cfs(f->m, true);
	nvme_ctrlr_check_timeouts(&f->c);
	assert_int_equal(f->c.resets, 1);
	assert_false(f->c.failed);
	io_roundtrip(f, &f->c.ns[0], 0, 8, 11);
	fini_and_check(f);
}

static void test_fini_twice(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(ctrlr_up(f), 0);
	fini_and_check(f);
	nvme_ctrlr_fini(&f->c);
	assert_int_equal(model_stats(f).shutdowns, 1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_init_success),
	    T(test_init_polled),
	    T(test_init_intx_fallback),
	    T(test_init_few_vectors),
	    T(test_init_tiny_queues),
	    T(test_init_never_ready),
	    T(test_init_fatal_status),
	    T(test_init_device_gone),
	    T(test_init_stuck_ready),
	    T(test_init_rejects_capabilities),
	    T(test_init_dma_map_fails_first),
	    T(test_init_dma_map_fails_io_queues),
	    T(test_init_admin_timeout),
	    T(test_init_admin_error),
	    T(test_admin_commands),
	    T(test_namespaces_active_list),
	    T(test_namespaces_without_active_list),
	    T(test_namespaces_none),
	    T(test_reset),
	    T(test_reset_cancels_in_flight),
	    T(test_reset_fails),
	    T(test_timeout_abort_then_reset),
	    T(test_timeout_admin_resets),
	    T(test_timeout_device_gone),
	    T(test_fatal_status_resets),
	    T(test_fini_twice),
	};

	return cmocka_run_group_tests_name("nvme_ctrlr", tests, group_setup, group_teardown);
}
