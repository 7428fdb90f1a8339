// SPDX-License-Identifier: MIT
/*
 * The mock backend (lib/hal/mock.c) and the HAL calls on top of it: MMIO
 * register files and hooks, the bounds checks of the MMIO accessors, config
 * space, BARs, reset, interrupts, and every fault-injection kind.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vdf/dma.h"
#include "vdf/event.h"
#include "vdf/hal.h"
#include "vdf/hw/pci.h"
#include "vdf/irq.h"
#include "vdf/log.h"
#include "vdf/mmio.h"
#include "vdf/mock.h"

#define BAR0_SIZE    0x4000u
#define IO_BAR	     2
#define IO_BAR_SIZE  0x20u
#define MSIX_VECTORS 4u

static void quiet_log(int level, const char *component, const char *dev, const char *msg, void *ctx)
{
	(void)level;
	(void)component;
	(void)dev;
	(void)msg;
	(void)ctx;
}

static int group_setup(void **state)
{
	(void)state;
	vdf_log_set_sink(quiet_log, NULL);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	vdf_log_set_sink(NULL, NULL);
	return 0;
}

static const struct vdf_mock_config base_config = {
    .id =
	{
	    .vendor = 0x1b36,
	    .device = 0x0010,
	    .subsys_vendor = 0x1af4,
	    .subsys_device = 0x1100,
	    .class_code = 0x01,
	    .subclass = 0x08,
	    .prog_if = 0x02,
	    .revision = 0x02,
	},
    .bar_size = {[0] = BAR0_SIZE, [IO_BAR] = IO_BAR_SIZE},
    .bar_is_io = {[IO_BAR] = 1},
    .irq_count =
	{
	    [VDF_IRQ_INTX] = 1,
	    [VDF_IRQ_MSI] = 1,
	    [VDF_IRQ_MSIX] = MSIX_VECTORS,
	    [VDF_IRQ_ERR] = 1,
	    [VDF_IRQ_REQ] = 1,
	},
    .has_reset = 1,
};

static int mock_setup(void **state)
{
	struct vdf_mock *m;

	if (vdf_mock_create(&base_config, &m))
		return -1;
	*state = m;
	return 0;
}

static int mock_teardown(void **state)
{
	vdf_dev_close(vdf_mock_dev(*state));
	return 0;
}

static struct vdf_mock_stats stats_of(struct vdf_mock *m)
{
	struct vdf_mock_stats st;

	vdf_mock_get_stats(m, &st);
	return st;
}

static void map_bar0(struct vdf_mock *m, struct vdf_mmio *mmio)
{
	assert_int_equal(vdf_bar_map(vdf_mock_dev(m), 0, mmio), 0);
}

static void test_identity(void **state)
{
	struct vdf_mock *m = *state;
	struct vdf_pci_id id;

	assert_string_equal(vdf_dev_name(vdf_mock_dev(m)), "mock");
	assert_int_equal(vdf_dev_pci_id(vdf_mock_dev(m), &id), 0);
	assert_int_equal(id.vendor, 0x1b36);
	assert_int_equal(id.device, 0x0010);
	assert_int_equal(id.subsys_vendor, 0x1af4);
	assert_int_equal(id.subsys_device, 0x1100);
	assert_int_equal(id.class_code, 0x01);
	assert_int_equal(id.subclass, 0x08);
	assert_int_equal(id.prog_if, 0x02);
	assert_int_equal(id.revision, 0x02);
}

static void test_cfg_access(void **state)
{
	struct vdf_mock *m = *state;
	struct vdf_dev *dev = vdf_mock_dev(m);
	uint32_t v32;
	uint16_t v16;
	uint8_t v8, buf[8];

	assert_int_equal(vdf_cfg_read16(dev, PCI_VENDOR_ID, &v16), 0);
	assert_int_equal(v16, 0x1b36);
	assert_int_equal(vdf_cfg_read8(dev, PCI_CLASS_DEVICE + 1, &v8), 0);
	assert_int_equal(v8, 0x01);
	assert_int_equal(vdf_cfg_write32(dev, 0x400, 0xdeadbeef), 0);
	assert_int_equal(vdf_cfg_read32(dev, 0x400, &v32), 0);
	assert_int_equal(v32, 0xdeadbeef);
	assert_int_equal(vdf_mock_cfg(m)[0x400], 0xef);
	assert_int_equal(vdf_cfg_write16(dev, 0x404, 0x1234), 0);
	assert_int_equal(vdf_cfg_read16(dev, 0x404, &v16), 0);
	assert_int_equal(v16, 0x1234);

	/* The last dword is reachable, anything past it is not. */
	assert_int_equal(vdf_cfg_read32(dev, PCI_CFG_SPACE_EXP_SIZE - 4, &v32), 0);
	assert_int_equal(vdf_cfg_read32(dev, PCI_CFG_SPACE_EXP_SIZE - 2, &v32), -ERANGE);
	assert_int_equal(vdf_cfg_read(dev, PCI_CFG_SPACE_EXP_SIZE + 4, buf, 1), -ERANGE);
	assert_int_equal(vdf_cfg_read(dev, UINT32_MAX, buf, sizeof(buf)), -ERANGE);
	assert_int_equal(vdf_cfg_write32(dev, PCI_CFG_SPACE_EXP_SIZE - 3, 0), -ERANGE);
}

static void test_bar_info(void **state)
{
	struct vdf_dev *dev = vdf_mock_dev(*state);
	struct vdf_region_info info;

	assert_int_equal(vdf_bar_info(dev, 0, &info), 0);
	assert_int_equal(info.size, BAR0_SIZE);
	assert_true(info.flags & VDF_REGION_MMAP);
	assert_false(info.flags & VDF_REGION_IO);
	assert_int_equal(vdf_bar_info(dev, IO_BAR, &info), 0);
	assert_int_equal(info.size, IO_BAR_SIZE);
	assert_true(info.flags & VDF_REGION_IO);
	assert_false(info.flags & VDF_REGION_MMAP);
	assert_int_equal(vdf_bar_info(dev, 4, &info), 0);
	assert_int_equal(info.size, 0);
	assert_int_equal(info.flags, 0);
	assert_int_equal(vdf_bar_info(dev, PCI_NUM_BARS, &info), -EINVAL);
}

static void test_mmio_register_file(void **state)
{
	struct vdf_mock *m = *state;
	uint8_t *mem = vdf_mock_bar(m, 0);
	struct vdf_mmio mmio;
	uint32_t v32;

	map_bar0(m, &mmio);
	assert_int_equal(mmio.len, BAR0_SIZE);
	assert_int_equal(mmio.faults, 0);
	assert_non_null(mem);

	vdf_mmio_write32(&mmio, 0x14, 0x00460001);
	assert_int_equal(vdf_mmio_read32(&mmio, 0x14), 0x00460001);
	memcpy(&v32, mem + 0x14, 4);
	assert_int_equal(v32, 0x00460001);

	vdf_mmio_write64(&mmio, 0x28, 0x1122334455667788ull);
	assert_int_equal(vdf_mmio_read64(&mmio, 0x28), 0x1122334455667788ull);
	assert_int_equal(vdf_mmio_read32(&mmio, 0x28), 0x55667788);
	assert_int_equal(vdf_mmio_read32(&mmio, 0x2c), 0x11223344);
	assert_int_equal(vdf_mmio_read16(&mmio, 0x2e), 0x1122);
	assert_int_equal(vdf_mmio_read8(&mmio, 0x2f), 0x11);

	/* The device model's side: writes to the backing memory are what the driver reads. */
	v32 = 0xcafef00d;
	memcpy(mem + BAR0_SIZE - 4, &v32, 4);
	assert_int_equal(vdf_mmio_read32(&mmio, BAR0_SIZE - 4), 0xcafef00d);
	assert_int_equal(vdf_mmio_read64(&mmio, BAR0_SIZE - 8) >> 32, 0xcafef00d);

	assert_int_equal(stats_of(m).mmio_writes, 2);
	assert_int_equal(stats_of(m).mmio_reads, 8);
	assert_int_equal(mmio.faults, 0);
}

struct hook_log {
	unsigned reads, writes;
	uint64_t last_off, last_val;
	unsigned last_len;
	unsigned bar;
	uint64_t value;
};

static uint64_t hook_read(struct vdf_mock *m, unsigned bar, uint64_t off, unsigned len, void *ctx)
{
	struct hook_log *h = ctx;

	(void)m;
	h->reads++;
	h->bar = bar;
	h->last_off = off;
	h->last_len = len;
	return h->value + off;
}

static void hook_write(struct vdf_mock *m, unsigned bar, uint64_t off, unsigned len, uint64_t val,
		       void *ctx)
{
	struct hook_log *h = ctx;

	(void)m;
	h->writes++;
	h->bar = bar;
	h->last_off = off;
	h->last_len = len;
	h->last_val = val;
}

static void test_mmio_hooks(void **state)
{
	struct vdf_mock *m = *state;
	uint8_t *mem = vdf_mock_bar(m, 0);
	struct hook_log rd = {.value = 0x1000}, wr = {0}, over = {.value = 0x9000};
	struct vdf_mmio mmio;
	uint32_t v32;

	map_bar0(m, &mmio);
	/* [0x100, 0x110): reads and writes hooked separately. */
	assert_int_equal(vdf_mock_hook(m, 0, 0x100, 0x10, hook_read, NULL, &rd), 0);
	assert_int_equal(vdf_mock_hook(m, 0, 0x100, 0x10, NULL, hook_write, &wr), 0);

	assert_int_equal(vdf_mmio_read32(&mmio, 0x104), 0x1104);
	assert_int_equal(rd.reads, 1);
	assert_int_equal(rd.bar, 0);
	assert_int_equal(rd.last_off, 0x104);
	assert_int_equal(rd.last_len, 4);
	assert_int_equal(vdf_mmio_read64(&mmio, 0x108), 0x1108);
	assert_int_equal(rd.last_len, 8);

	vdf_mmio_write32(&mmio, 0x10c, 0xabcd);
	assert_int_equal(wr.writes, 1);
	assert_int_equal(wr.last_off, 0x10c);
	assert_int_equal(wr.last_len, 4);
	assert_int_equal(wr.last_val, 0xabcd);
	/* A hooked write does not reach the backing memory. */
	memcpy(&v32, mem + 0x10c, 4);
	assert_int_equal(v32, 0);
	assert_int_equal(rd.reads, 2);

	/* Just outside the hooked range: plain memory. */
	vdf_mmio_write32(&mmio, 0x110, 7);
	assert_int_equal(vdf_mmio_read32(&mmio, 0x110), 7);
	vdf_mmio_write32(&mmio, 0xfc, 9);
	assert_int_equal(vdf_mmio_read32(&mmio, 0xfc), 9);
	assert_int_equal(rd.reads, 2);
	assert_int_equal(wr.writes, 1);

	/* A later hook over part of the range takes precedence there only. */
	assert_int_equal(vdf_mock_hook(m, 0, 0x108, 8, hook_read, NULL, &over), 0);
	assert_int_equal(vdf_mmio_read32(&mmio, 0x108), 0x9108);
	assert_int_equal(vdf_mmio_read32(&mmio, 0x100), 0x1100);
	assert_int_equal(over.reads, 1);
	/* The read-only hook leaves writes to the earlier write hook. */
	vdf_mmio_write32(&mmio, 0x108, 1);
	assert_int_equal(wr.writes, 2);

	/* The same hooks serve vdf_bar_read/write on a memory BAR. */
	assert_int_equal(vdf_bar_read(vdf_mock_dev(m), 0, 0x100, &v32, 4), 0);
	assert_int_equal(v32, 0x1100);
	assert_int_equal(vdf_bar_write(vdf_mock_dev(m), 0, 0x104, &v32, 4), 0);
	assert_int_equal(wr.writes, 3);
	assert_int_equal(wr.last_val, 0x1100);
}

static void test_mmio_hook_rejects(void **state)
{
	struct vdf_mock *m = *state;
	struct hook_log h = {0};
	unsigned n = 0;
	int rc;

	assert_int_equal(vdf_mock_hook(m, 0, BAR0_SIZE, 4, hook_read, NULL, &h), -EINVAL);
	assert_int_equal(vdf_mock_hook(m, 0, BAR0_SIZE - 4, 8, hook_read, NULL, &h), -EINVAL);
	assert_int_equal(vdf_mock_hook(m, 0, 8, UINT64_MAX, hook_read, NULL, &h), -EINVAL);
	assert_int_equal(vdf_mock_hook(m, 4, 0, 4, hook_read, NULL, &h), -EINVAL);
	assert_int_equal(vdf_mock_hook(m, PCI_NUM_BARS, 0, 4, hook_read, NULL, &h), -EINVAL);
	assert_int_equal(vdf_mock_hook(m, 0, BAR0_SIZE - 4, 4, hook_read, NULL, &h), 0);

	/* The hook table is finite: filling it gives -ENOSPC, not a crash. */
	do {
		rc = vdf_mock_hook(m, 0, 0, 4, hook_read, NULL, &h);
	} while (rc == 0 && ++n < 1000);
	assert_int_equal(rc, -ENOSPC);
	assert_true(n > 0);
}

/* Bad accesses read all ones, drop writes, count a fault and never reach the mock. */
static void test_mmio_bad_accesses(void **state)
{
	struct vdf_mock *m = *state;
	uint8_t *mem = vdf_mock_bar(m, 0);
	struct hook_log h = {0};
	struct vdf_mmio mmio;
	uint8_t before[BAR0_SIZE];
	unsigned long faults = 0;

	map_bar0(m, &mmio);
	assert_int_equal(vdf_mock_hook(m, 0, 0, BAR0_SIZE, hook_read, hook_write, &h), 0);
	memset(mem, 0xa5, BAR0_SIZE);
	memcpy(before, mem, BAR0_SIZE);

	assert_int_equal(vdf_mmio_read32(&mmio, BAR0_SIZE), UINT32_MAX);
	assert_int_equal(mmio.faults, ++faults);
	assert_int_equal(vdf_mmio_read32(&mmio, BAR0_SIZE - 2), UINT32_MAX);
	assert_int_equal(mmio.faults, ++faults);
	assert_int_equal(vdf_mmio_read64(&mmio, BAR0_SIZE - 4), UINT64_MAX);
	assert_int_equal(mmio.faults, ++faults);
	assert_int_equal(vdf_mmio_read64(&mmio, UINT64_MAX - 3), UINT64_MAX);
	assert_int_equal(mmio.faults, ++faults);
	assert_int_equal(vdf_mmio_read32(&mmio, 2), UINT32_MAX);
	assert_int_equal(mmio.faults, ++faults);
	assert_int_equal(vdf_mmio_read64(&mmio, 0x24), UINT64_MAX);
	assert_int_equal(mmio.faults, ++faults);
	assert_int_equal(vdf_mmio_read16(&mmio, 0x11), UINT16_MAX);
	assert_int_equal(mmio.faults, ++faults);
	assert_int_equal(vdf_mmio_read8(&mmio, BAR0_SIZE), UINT8_MAX);
	assert_int_equal(mmio.faults, ++faults);

	vdf_mmio_write32(&mmio, BAR0_SIZE, 0);
	vdf_mmio_write32(&mmio, BAR0_SIZE - 2, 0);
	vdf_mmio_write64(&mmio, BAR0_SIZE - 4, 0);
	vdf_mmio_write64(&mmio, UINT64_MAX - 7, 0);
	vdf_mmio_write32(&mmio, 1, 0);
	vdf_mmio_write64(&mmio, 0x34, 0);
	vdf_mmio_write16(&mmio, 0x3, 0);
	faults += 7;
	assert_int_equal(mmio.faults, faults);

	assert_int_equal(h.reads, 0);
	assert_int_equal(h.writes, 0);
	assert_int_equal(stats_of(m).mmio_reads, 0);
	assert_int_equal(stats_of(m).mmio_writes, 0);
	assert_memory_equal(mem, before, BAR0_SIZE);

	/* A zero-length window rejects everything. */
	{
		struct vdf_mmio empty = {.name = "empty"};

		assert_int_equal(vdf_mmio_read32(&empty, 0), UINT32_MAX);
		vdf_mmio_write32(&empty, 0, 1);
		assert_int_equal(empty.faults, 2);
	}
}

#define REG_STATUS   0x1c
#define STATUS_READY BIT(0)

/* What a driver's bounded wait looks like: poll a bit up to a deadline. */
static int wait_ready(struct vdf_mmio *mmio, uint64_t timeout_ms, unsigned *polls)
{
	uint64_t deadline = vdf_now_ns() + timeout_ms * 1000000ull;

	*polls = 0;
	do {
		uint32_t v;
		int rc = vdf_mmio_read32_live(mmio, REG_STATUS, &v);

		++*polls;
		if (rc)
			return rc;
		if (v & STATUS_READY)
			return 0;
	} while (vdf_now_ns() < deadline);
	return -ETIMEDOUT;
}

static void test_fault_reg_stuck(void **state)
{
	struct vdf_mock *m = *state;
	struct vdf_mock_fault f = {
	    .kind = VDF_MOCK_FAULT_REG_STUCK, .bar = 0, .off = REG_STATUS, .value = 0};
	uint32_t *mem = vdf_mock_bar(m, 0);
	struct vdf_mmio mmio;
	unsigned polls;

	map_bar0(m, &mmio);
	assert_int_equal(vdf_mock_inject(m, &f), 0);

	/* The device model sets READY, but the stuck register never shows it. */
	mem[REG_STATUS / 4] = STATUS_READY;
	assert_int_equal(vdf_mmio_read32(&mmio, REG_STATUS), 0);
	vdf_mmio_write32(&mmio, REG_STATUS, 0xffff0000);
	assert_int_equal(mem[REG_STATUS / 4], STATUS_READY);
	assert_int_equal(wait_ready(&mmio, 20, &polls), -ETIMEDOUT);
	assert_true(polls > 1);

	/* Neighbours are unaffected. */
	vdf_mmio_write32(&mmio, REG_STATUS + 4, 5);
	assert_int_equal(vdf_mmio_read32(&mmio, REG_STATUS + 4), 5);
	/* vdf_bar_write goes through the same register and is dropped too. */
	{
		uint32_t v = 0x77;

		assert_int_equal(vdf_bar_write(vdf_mock_dev(m), 0, REG_STATUS, &v, 4), 0);
		assert_int_equal(mem[REG_STATUS / 4], STATUS_READY);
	}

	vdf_mock_clear_faults(m);
	assert_int_equal(wait_ready(&mmio, 1000, &polls), 0);
	assert_int_equal(polls, 1);
}

static void test_fault_reg_stuck_value(void **state)
{
	struct vdf_mock *m = *state;
	struct vdf_mock_fault f = {
	    .kind = VDF_MOCK_FAULT_REG_STUCK, .bar = 0, .off = 0x40, .value = 0x12345678};
	struct vdf_mmio mmio;

	map_bar0(m, &mmio);
	assert_int_equal(vdf_mock_inject(m, &f), 0);
	vdf_mmio_write32(&mmio, 0x40, 0);
	assert_int_equal(vdf_mmio_read32(&mmio, 0x40), 0x12345678);
}

static void test_fault_all_ones(void **state)
{
	struct vdf_mock *m = *state;
	struct vdf_dev *dev = vdf_mock_dev(m);
	struct vdf_mock_fault f = {.kind = VDF_MOCK_FAULT_ALL_ONES};
	uint8_t *mem = vdf_mock_bar(m, 0);
	struct vdf_pci_id id;
	struct vdf_mmio mmio;
	uint64_t v64;
	uint32_t v32;
	uint16_t v16;
	uint8_t v8;

	map_bar0(m, &mmio);
	/* A healthy register that reads 0 is live. */
	assert_int_equal(vdf_mmio_read32_live(&mmio, 0x8, &v32), 0);
	assert_int_equal(v32, 0);

	assert_int_equal(vdf_mock_inject(m, &f), 0);
	assert_int_equal(vdf_mmio_read32(&mmio, 0x8), UINT32_MAX);
	assert_int_equal(vdf_mmio_read64(&mmio, 0x8), UINT64_MAX);
	assert_int_equal(vdf_mmio_read16(&mmio, 0x8), UINT16_MAX);
	assert_int_equal(vdf_mmio_read8(&mmio, 0x8), UINT8_MAX);
	assert_int_equal(vdf_mmio_read32_live(&mmio, 0x8, &v32), -ENODEV);
	assert_int_equal(vdf_mmio_read64_live(&mmio, 0x8, &v64), -ENODEV);
	assert_int_equal(vdf_mmio_read16_live(&mmio, 0x8, &v16), -ENODEV);
	assert_int_equal(vdf_mmio_read8_live(&mmio, 0x8, &v8), -ENODEV);
	assert_int_equal(mmio.faults, 0);

	vdf_mmio_write32(&mmio, 0x8, 0x42);
	assert_int_equal(mem[0x8], 0);

	assert_int_equal(vdf_cfg_read16(dev, PCI_VENDOR_ID, &v16), 0);
	assert_int_equal(v16, UINT16_MAX);
	assert_int_equal(vdf_cfg_read32(dev, 0x100, &v32), 0);
	assert_int_equal(v32, UINT32_MAX);
	assert_int_equal(vdf_dev_pci_id(dev, &id), -ENODEV);
	assert_int_equal(vdf_dev_set_bus_master(dev, true), -ENODEV);
	assert_int_equal(vdf_bar_read(dev, IO_BAR, 0, &v32, 4), 0);
	assert_int_equal(v32, UINT32_MAX);

	vdf_mock_clear_faults(m);
	assert_int_equal(vdf_mmio_read32_live(&mmio, 0x8, &v32), 0);
	assert_int_equal(v32, 0);
	assert_int_equal(vdf_dev_pci_id(dev, &id), 0);
	assert_int_equal(id.vendor, 0x1b36);
	/* Config writes while the device was gone were dropped. */
	assert_int_equal(vdf_cfg_read16(dev, PCI_COMMAND, &v16), 0);
	assert_int_equal(v16, 0);
}

static void test_fault_dma_map(void **state)
{
	struct vdf_mock *m = *state;
	struct vdf_dev *dev = vdf_mock_dev(m);
	struct vdf_mock_fault f = {.kind = VDF_MOCK_FAULT_DMA_MAP, .count = 2};
	struct vdf_dma_buf *buf = NULL;
	void *mem;

	assert_int_equal(vdf_mock_inject(m, &f), 0);
	assert_int_equal(vdf_dma_alloc(dev, 4096, VDF_DMA_BIDIRECTIONAL, &buf), -EFAULT);
	assert_null(buf);
	assert_int_equal(vdf_dma_alloc(dev, 100, VDF_DMA_TO_DEVICE, &buf), -EFAULT);
	assert_null(buf);
	assert_int_equal(vdf_dma_mapped_bytes(dev), 0);
	assert_int_equal(vdf_dma_alloc(dev, 100, VDF_DMA_TO_DEVICE, &buf), 0);
	assert_non_null(buf);
	assert_int_equal(vdf_dma_mapped_bytes(dev), 4096);
	vdf_dma_free(buf);

	/* Caller memory goes through the same map path. */
	mem = aligned_alloc(4096, 8192);
	assert_non_null(mem);
	f.count = 1;
	vdf_mock_clear_faults(m);
	assert_int_equal(vdf_mock_inject(m, &f), 0);
	assert_int_equal(vdf_dma_map(dev, mem, 8192, VDF_DMA_FROM_DEVICE, &buf), -EFAULT);
	assert_int_equal(vdf_dma_map(dev, mem, 8192, VDF_DMA_FROM_DEVICE, &buf), 0);
	assert_int_equal(vdf_dma_mapped_bytes(dev), 8192);
	vdf_dma_free(buf);
	assert_int_equal(vdf_dma_mapped_bytes(dev), 0);
	free(mem);
}

static void test_fault_dma_access(void **state)
{
	struct vdf_mock *m = *state;
	struct vdf_mock_fault f = {.kind = VDF_MOCK_FAULT_DMA_ACCESS, .count = 2};
	struct vdf_dma_buf *buf;

	assert_int_equal(vdf_dma_alloc(vdf_mock_dev(m), 8192, VDF_DMA_BIDIRECTIONAL, &buf), 0);
	assert_ptr_equal(vdf_mock_dma_ptr(m, buf->iova, 8192), buf->va);
	assert_int_equal(stats_of(m).dma_faults, 0);

	assert_int_equal(vdf_mock_inject(m, &f), 0);
	assert_null(vdf_mock_dma_ptr(m, buf->iova, 8));
	assert_null(vdf_mock_dma_ptr(m, buf->iova + 8, 8));
	assert_int_equal(stats_of(m).dma_faults, 2);
	/* The injected count is used up: DMA works again. */
	assert_ptr_equal(vdf_mock_dma_ptr(m, buf->iova + 16, 8), (uint8_t *)buf->va + 16);
	assert_int_equal(stats_of(m).dma_faults, 2);
	vdf_dma_free(buf);
}

static void test_dma_unmapped_iova(void **state)
{
	struct vdf_mock *m = *state;
	struct vdf_dma_buf *a, *b;
	vdf_iova_t gone;
	uint64_t faults;

	assert_int_equal(vdf_dma_alloc(vdf_mock_dev(m), 8192, VDF_DMA_BIDIRECTIONAL, &a), 0);
	assert_int_equal(vdf_dma_alloc(vdf_mock_dev(m), 4096, VDF_DMA_BIDIRECTIONAL, &b), 0);

	/* Inside: whole buffer, last byte, a zero-length access at the end. */
	assert_non_null(vdf_mock_dma_ptr(m, a->iova, a->size));
	assert_non_null(vdf_mock_dma_ptr(m, a->iova + a->size - 1, 1));
	assert_int_equal(stats_of(m).dma_faults, 0);

	/* Straddling the end, before the start, far away, NULL, wrapping. */
	assert_null(vdf_mock_dma_ptr(m, a->iova + a->size - 8, 16));
	assert_null(vdf_mock_dma_ptr(m, a->iova - 1, 2));
	assert_null(vdf_mock_dma_ptr(m, 0, 8));
	assert_null(vdf_mock_dma_ptr(m, a->iova, UINT64_MAX));
	assert_null(vdf_mock_dma_ptr(m, UINT64_MAX - 3, 8));
	faults = stats_of(m).dma_faults;
	assert_int_equal(faults, 5);

	/* After unmapping, the device can no longer reach the buffer. */
	gone = b->iova;
	vdf_dma_free(b);
	assert_null(vdf_mock_dma_ptr(m, gone, 8));
	assert_int_equal(stats_of(m).dma_faults, faults + 1);
	assert_non_null(vdf_mock_dma_ptr(m, a->iova, 8));
	vdf_dma_free(a);
}

static void test_irq_counts(void **state)
{
	struct vdf_dev *dev = vdf_mock_dev(*state);
	unsigned n;

	assert_int_equal(vdf_irq_count(dev, VDF_IRQ_MSIX, &n), 0);
	assert_int_equal(n, MSIX_VECTORS);
	assert_int_equal(vdf_irq_count(dev, VDF_IRQ_INTX, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(vdf_irq_count(dev, VDF_IRQ_KIND_COUNT, &n), -EINVAL);
	assert_int_equal(vdf_irq_enabled_count(dev, VDF_IRQ_MSIX), 0);
	assert_int_equal(vdf_irq_eventfd(dev, VDF_IRQ_MSIX, 0), -1);
}

static void test_irq_storm(void **state)
{
	struct vdf_mock *m = *state;
	struct vdf_dev *dev = vdf_mock_dev(m);
	struct vdf_mock_fault f = {
	    .kind = VDF_MOCK_FAULT_IRQ_STORM, .count = 1000, .irq_kind = VDF_IRQ_MSIX, .vector = 2};

	assert_int_equal(vdf_irq_enable(dev, VDF_IRQ_MSIX, MSIX_VECTORS), 0);
	assert_int_equal(vdf_irq_enabled_count(dev, VDF_IRQ_MSIX), MSIX_VECTORS);
	for (unsigned v = 0; v < MSIX_VECTORS; v++)
		assert_true(vdf_irq_eventfd(dev, VDF_IRQ_MSIX, v) >= 0);

	assert_int_equal(vdf_mock_inject(m, &f), 0);
	assert_int_equal(stats_of(m).irqs_raised, 1000);
	assert_int_equal(vdf_irq_ack(dev, VDF_IRQ_MSIX, 2), 1000);
	assert_int_equal(vdf_irq_ack(dev, VDF_IRQ_MSIX, 2), 0);
	assert_int_equal(vdf_irq_stat(dev, VDF_IRQ_MSIX, 2), 1000);
	for (unsigned v = 0; v < MSIX_VECTORS; v++) {
		if (v == 2)
			continue;
		assert_int_equal(vdf_irq_ack(dev, VDF_IRQ_MSIX, v), 0);
		assert_int_equal(vdf_irq_stat(dev, VDF_IRQ_MSIX, v), 0);
	}

	/* Counts accumulate across acks. */
	assert_int_equal(vdf_mock_raise_irq(m, VDF_IRQ_MSIX, 2), 0);
	assert_int_equal(vdf_irq_ack(dev, VDF_IRQ_MSIX, 2), 1);
	assert_int_equal(vdf_irq_stat(dev, VDF_IRQ_MSIX, 2), 1001);

	/* A storm on a vector that is not enabled fails like a single raise. */
	f.vector = MSIX_VECTORS;
	assert_int_equal(vdf_mock_inject(m, &f), -EINVAL);
	f.vector = 0;
	f.irq_kind = VDF_IRQ_MSI;
	assert_int_equal(vdf_mock_inject(m, &f), -EINVAL);
	assert_int_equal(stats_of(m).irqs_raised, 1001);

	/* Out-of-range queries are harmless. */
	assert_int_equal(vdf_irq_ack(dev, VDF_IRQ_MSIX, MSIX_VECTORS), 0);
	assert_int_equal(vdf_irq_stat(dev, VDF_IRQ_MSIX, MSIX_VECTORS), 0);
	assert_int_equal(vdf_irq_ack(dev, VDF_IRQ_KIND_COUNT, 0), 0);
	assert_int_equal(vdf_irq_disable(dev, VDF_IRQ_MSIX), 0);
	assert_int_equal(vdf_irq_enabled_count(dev, VDF_IRQ_MSIX), 0);
	assert_int_equal(vdf_irq_disable(dev, VDF_IRQ_MSIX), 0);
}

static void test_irq_masked_pending(void **state)
{
	struct vdf_mock *m = *state;
	struct vdf_dev *dev = vdf_mock_dev(m);

	assert_int_equal(vdf_irq_enable(dev, VDF_IRQ_MSIX, 2), 0);
	assert_int_equal(vdf_irq_mask(dev, VDF_IRQ_MSIX, 1), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(vdf_mock_raise_irq(m, VDF_IRQ_MSIX, 1), 0);
	assert_int_equal(vdf_irq_ack(dev, VDF_IRQ_MSIX, 1), 0);
	assert_int_equal(stats_of(m).irqs_raised, 0);

	/* The other vector is not masked. */
	assert_int_equal(vdf_mock_raise_irq(m, VDF_IRQ_MSIX, 0), 0);
	assert_int_equal(vdf_irq_ack(dev, VDF_IRQ_MSIX, 0), 1);

	/* Unmasking delivers the pending interrupt, once (a pending bit, not a count). */
	assert_int_equal(vdf_irq_unmask(dev, VDF_IRQ_MSIX, 1), 0);
	assert_int_equal(vdf_irq_ack(dev, VDF_IRQ_MSIX, 1), 1);
	assert_int_equal(vdf_irq_unmask(dev, VDF_IRQ_MSIX, 1), 0);
	assert_int_equal(vdf_irq_ack(dev, VDF_IRQ_MSIX, 1), 0);

	/* Unmasked again: raises are delivered immediately. */
	assert_int_equal(vdf_mock_raise_irq(m, VDF_IRQ_MSIX, 1), 0);
	assert_int_equal(vdf_irq_ack(dev, VDF_IRQ_MSIX, 1), 1);

	assert_int_equal(vdf_irq_mask(dev, VDF_IRQ_MSIX, 2), -EINVAL);
	assert_int_equal(vdf_irq_unmask(dev, VDF_IRQ_MSI, 0), -EINVAL);
	assert_int_equal(vdf_irq_mask(dev, VDF_IRQ_KIND_COUNT, 0), -EINVAL);
}

static void test_irq_raise_not_enabled(void **state)
{
	struct vdf_mock *m = *state;
	struct vdf_dev *dev = vdf_mock_dev(m);

	assert_int_equal(vdf_mock_raise_irq(m, VDF_IRQ_MSIX, 0), -EINVAL);
	assert_int_equal(vdf_irq_enable(dev, VDF_IRQ_MSIX, 1), 0);
	assert_int_equal(vdf_mock_raise_irq(m, VDF_IRQ_MSIX, 1), -EINVAL);
	assert_int_equal(vdf_mock_raise_irq(m, VDF_IRQ_MSI, 0), -EINVAL);
	assert_int_equal(vdf_mock_raise_irq(m, VDF_IRQ_KIND_COUNT, 0), -EINVAL);
	assert_int_equal(vdf_mock_raise_irq(m, (enum vdf_irq_kind) - 1, 0), -EINVAL);
	assert_int_equal(stats_of(m).irqs_raised, 0);
	assert_int_equal(vdf_mock_raise_irq(m, VDF_IRQ_MSIX, 0), 0);
	assert_int_equal(stats_of(m).irqs_raised, 1);
}

static void test_irq_enable_limits(void **state)
{
	struct vdf_dev *dev = vdf_mock_dev(*state);

	assert_int_equal(vdf_irq_enable(dev, VDF_IRQ_MSIX, MSIX_VECTORS + 1), -ERANGE);
	assert_int_equal(vdf_irq_enable(dev, VDF_IRQ_MSI, 2), -ERANGE);
	assert_int_equal(vdf_irq_enable(dev, VDF_IRQ_MSIX, 0), -EINVAL);
	assert_int_equal(vdf_irq_enable(dev, VDF_IRQ_MSIX, VDF_IRQ_MAX_VECTORS + 1), -EINVAL);
	assert_int_equal(vdf_irq_enable(dev, VDF_IRQ_KIND_COUNT, 1), -EINVAL);
	assert_int_equal(vdf_irq_enabled_count(dev, VDF_IRQ_MSIX), 0);
	assert_int_equal(vdf_irq_enabled_count(dev, VDF_IRQ_MSI), 0);
	assert_int_equal(vdf_irq_enable(dev, VDF_IRQ_MSIX, MSIX_VECTORS), 0);
}

static void test_irq_exclusive_kinds(void **state)
{
	struct vdf_mock *m = *state;
	struct vdf_dev *dev = vdf_mock_dev(m);

	assert_int_equal(vdf_irq_enable(dev, VDF_IRQ_INTX, 1), 0);
	assert_int_equal(vdf_irq_enable(dev, VDF_IRQ_ERR, 1), 0);
	assert_true(vdf_irq_eventfd(dev, VDF_IRQ_INTX, 0) >= 0);

	assert_int_equal(vdf_irq_enable(dev, VDF_IRQ_MSIX, 2), 0);
	assert_int_equal(vdf_irq_enabled_count(dev, VDF_IRQ_INTX), 0);
	assert_int_equal(vdf_irq_eventfd(dev, VDF_IRQ_INTX, 0), -1);
	assert_int_equal(vdf_mock_raise_irq(m, VDF_IRQ_INTX, 0), -EINVAL);
	/* Error reporting is not one of the exclusive kinds. */
	assert_int_equal(vdf_irq_enabled_count(dev, VDF_IRQ_ERR), 1);
	assert_int_equal(vdf_mock_raise_irq(m, VDF_IRQ_ERR, 0), 0);
	assert_int_equal(vdf_irq_ack(dev, VDF_IRQ_ERR, 0), 1);

	assert_int_equal(vdf_irq_enable(dev, VDF_IRQ_MSI, 1), 0);
	assert_int_equal(vdf_irq_enabled_count(dev, VDF_IRQ_MSIX), 0);
	assert_int_equal(vdf_irq_enabled_count(dev, VDF_IRQ_MSI), 1);

	/* Re-enabling a kind replaces its vectors (and resets their counts). */
	assert_int_equal(vdf_irq_enable(dev, VDF_IRQ_MSIX, 1), 0);
	assert_int_equal(vdf_mock_raise_irq(m, VDF_IRQ_MSIX, 0), 0);
	assert_int_equal(vdf_irq_ack(dev, VDF_IRQ_MSIX, 0), 1);
	assert_int_equal(vdf_irq_enable(dev, VDF_IRQ_MSIX, 3), 0);
	assert_int_equal(vdf_irq_stat(dev, VDF_IRQ_MSIX, 0), 0);
	assert_int_equal(vdf_mock_raise_irq(m, VDF_IRQ_MSIX, 2), 0);
	assert_int_equal(vdf_irq_ack(dev, VDF_IRQ_MSIX, 2), 1);
}

struct reset_ctx {
	unsigned calls;
	struct vdf_mock *m;
	int zeroed_before_cb;
};

static void on_reset(struct vdf_mock *m, void *arg)
{
	struct reset_ctx *rc = arg;
	uint8_t *mem = vdf_mock_bar(m, 0);
	uint32_t version = 0x00010400;

	rc->calls++;
	rc->m = m;
	rc->zeroed_before_cb = mem[0x40] == 0 && mem[BAR0_SIZE - 1] == 0;
	/* Model the reset value of a register. */
	memcpy(mem + 0x8, &version, 4);
}

static void test_reset(void **state)
{
	struct vdf_mock *m = *state;
	struct reset_ctx ctx = {0};
	uint8_t *mem = vdf_mock_bar(m, 0);
	struct vdf_mmio mmio;

	map_bar0(m, &mmio);
	memset(mem, 0x5a, BAR0_SIZE);
	vdf_mock_on_reset(m, on_reset, &ctx);
	assert_int_equal(vdf_dev_reset(vdf_mock_dev(m)), 0);
	assert_int_equal(ctx.calls, 1);
	assert_ptr_equal(ctx.m, m);
	assert_true(ctx.zeroed_before_cb);
	assert_int_equal(stats_of(m).resets, 1);
	assert_int_equal(vdf_mmio_read32(&mmio, 0x8), 0x00010400);
	assert_int_equal(vdf_mmio_read32(&mmio, 0x0), 0);
	for (unsigned i = 0x10; i < BAR0_SIZE; i++)
		if (mem[i])
			fail_msg("BAR0 byte 0x%x not cleared by reset", i);

	vdf_mock_on_reset(m, NULL, NULL);
	assert_int_equal(vdf_dev_reset(vdf_mock_dev(m)), 0);
	assert_int_equal(ctx.calls, 1);
	assert_int_equal(stats_of(m).resets, 2);
}

static void test_reset_unsupported(void **state)
{
	struct vdf_mock_config cfg = base_config;
	struct reset_ctx ctx = {0};
	struct vdf_mock *m;
	uint8_t *mem;

	(void)state;
	cfg.has_reset = 0;
	assert_int_equal(vdf_mock_create(&cfg, &m), 0);
	mem = vdf_mock_bar(m, 0);
	mem[0] = 0x77;
	vdf_mock_on_reset(m, on_reset, &ctx);
	assert_int_equal(vdf_dev_reset(vdf_mock_dev(m)), -ENOTSUP);
	assert_int_equal(ctx.calls, 0);
	assert_int_equal(mem[0], 0x77);
	assert_int_equal(stats_of(m).resets, 0);
	vdf_dev_close(vdf_mock_dev(m));
}

static void test_bus_master(void **state)
{
	struct vdf_mock *m = *state;
	struct vdf_dev *dev = vdf_mock_dev(m);
	uint16_t cmd;

	/* Other command bits are preserved. */
	assert_int_equal(vdf_cfg_write16(dev, PCI_COMMAND, PCI_COMMAND_INTX_DISABLE), 0);
	assert_int_equal(vdf_dev_set_bus_master(dev, true), 0);
	assert_int_equal(vdf_cfg_read16(dev, PCI_COMMAND, &cmd), 0);
	assert_true(cmd & PCI_COMMAND_MASTER);
	assert_int_equal(cmd & BIT(2), BIT(2));
	assert_true(cmd & PCI_COMMAND_MEMORY);
	assert_true(cmd & PCI_COMMAND_INTX_DISABLE);
	assert_int_equal(vdf_dev_set_bus_master(dev, true), 0);

	assert_int_equal(vdf_dev_set_bus_master(dev, false), 0);
	assert_int_equal(vdf_cfg_read16(dev, PCI_COMMAND, &cmd), 0);
	assert_false(cmd & PCI_COMMAND_MASTER);
	assert_true(cmd & PCI_COMMAND_MEMORY);
	assert_true(cmd & PCI_COMMAND_INTX_DISABLE);
	assert_int_equal(vdf_dev_set_bus_master(dev, false), 0);
	assert_int_equal(vdf_cfg_read16(dev, PCI_COMMAND, &cmd), 0);
	assert_false(cmd & PCI_COMMAND_MASTER);
}

static void test_io_bar(void **state)
{
	struct vdf_mock *m = *state;
	struct vdf_dev *dev = vdf_mock_dev(m);
	uint8_t *mem = vdf_mock_bar(m, IO_BAR);
	struct vdf_mmio mmio;
	uint32_t v32 = 0x89abcdef;
	uint16_t v16 = 0x4321;
	uint8_t v8 = 0x5a;
	uint64_t v64 = 0;

	assert_non_null(mem);
	assert_int_equal(vdf_bar_map(dev, IO_BAR, &mmio), -ENOTSUP);
	assert_int_equal(vdf_bar_map(dev, 4, &mmio), -ENOENT);
	assert_int_equal(vdf_bar_map(dev, PCI_NUM_BARS, &mmio), -EINVAL);

	assert_int_equal(vdf_bar_write(dev, IO_BAR, 0x0, &v32, 4), 0);
	assert_int_equal(vdf_bar_write(dev, IO_BAR, 0x4, &v16, 2), 0);
	assert_int_equal(vdf_bar_write(dev, IO_BAR, IO_BAR_SIZE - 1, &v8, 1), 0);
	assert_int_equal(mem[0], 0xef);
	assert_int_equal(mem[3], 0x89);
	assert_int_equal(mem[4], 0x21);
	assert_int_equal(mem[IO_BAR_SIZE - 1], 0x5a);
	v32 = v16 = v8 = 0;
	assert_int_equal(vdf_bar_read(dev, IO_BAR, 0x0, &v32, 4), 0);
	assert_int_equal(v32, 0x89abcdef);
	assert_int_equal(vdf_bar_read(dev, IO_BAR, 0x4, &v16, 2), 0);
	assert_int_equal(v16, 0x4321);
	assert_int_equal(vdf_bar_read(dev, IO_BAR, IO_BAR_SIZE - 1, &v8, 1), 0);
	assert_int_equal(v8, 0x5a);

	/* Only 1-, 2- and 4-byte accesses, inside the BAR, on an implemented BAR. */
	assert_int_equal(vdf_bar_read(dev, IO_BAR, 0, &v64, 8), -EINVAL);
	assert_int_equal(vdf_bar_read(dev, IO_BAR, 0, &v32, 3), -EINVAL);
	assert_int_equal(vdf_bar_read(dev, IO_BAR, 0, &v32, 0), -EINVAL);
	assert_int_equal(vdf_bar_read(dev, IO_BAR, IO_BAR_SIZE, &v8, 1), -ERANGE);
	assert_int_equal(vdf_bar_read(dev, IO_BAR, IO_BAR_SIZE - 2, &v32, 4), -EINVAL);
	assert_int_equal(vdf_bar_read(dev, IO_BAR, 1, &v32, 4), -EINVAL); /* misaligned */
	assert_int_equal(vdf_bar_write(dev, IO_BAR, UINT64_MAX, &v8, 1), -ERANGE);
	assert_int_equal(vdf_bar_read(dev, 4, 0, &v32, 4), -ENOENT);
	assert_int_equal(vdf_bar_read(dev, PCI_NUM_BARS, 0, &v32, 4), -EINVAL);
	assert_int_equal(vdf_bar_write(dev, PCI_NUM_BARS, 0, &v32, 4), -EINVAL);
	assert_int_equal(mem[IO_BAR_SIZE - 1], 0x5a);
}

static void test_close_null(void **state)
{
	(void)state;
	vdf_dev_close(NULL);
}

/* Closing a device with vectors enabled releases their eventfds (ASan/LSan check). */
static void test_close_with_irqs(void **state)
{
	struct vdf_mock *m;

	(void)state;
	assert_int_equal(vdf_mock_create(&base_config, &m), 0);
	assert_int_equal(vdf_irq_enable(vdf_mock_dev(m), VDF_IRQ_MSIX, MSIX_VECTORS), 0);
	assert_int_equal(vdf_irq_enable(vdf_mock_dev(m), VDF_IRQ_REQ, 1), 0);
	assert_int_equal(vdf_irq_mask(vdf_mock_dev(m), VDF_IRQ_MSIX, 0), 0);
	assert_int_equal(vdf_mock_raise_irq(m, VDF_IRQ_MSIX, 0), 0);
	vdf_dev_close(vdf_mock_dev(m));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_identity, mock_setup, mock_teardown),
	    cmocka_unit_test_setup_teardown(test_cfg_access, mock_setup, mock_teardown),
	    cmocka_unit_test_setup_teardown(test_bar_info, mock_setup, mock_teardown),
	    cmocka_unit_test_setup_teardown(test_mmio_register_file, mock_setup, mock_teardown),
	    cmocka_unit_test_setup_teardown(test_mmio_hooks, mock_setup, mock_teardown),
	    cmocka_unit_test_setup_teardown(test_mmio_hook_rejects, mock_setup, mock_teardown),
	    cmocka_unit_test_setup_teardown(test_mmio_bad_accesses, mock_setup, mock_teardown),
	    cmocka_unit_test_setup_teardown(test_fault_reg_stuck, mock_setup, mock_teardown),
	    cmocka_unit_test_setup_teardown(test_fault_reg_stuck_value, mock_setup, mock_teardown),
	    cmocka_unit_test_setup_teardown(test_fault_all_ones, mock_setup, mock_teardown),
	    cmocka_unit_test_setup_teardown(test_fault_dma_map, mock_setup, mock_teardown),
	    cmocka_unit_test_setup_teardown(test_fault_dma_access, mock_setup, mock_teardown),
	    cmocka_unit_test_setup_teardown(test_dma_unmapped_iova, mock_setup, mock_teardown),
	    cmocka_unit_test_setup_teardown(test_irq_counts, mock_setup, mock_teardown),
	    cmocka_unit_test_setup_teardown(test_irq_storm, mock_setup, mock_teardown),
	    cmocka_unit_test_setup_teardown(test_irq_masked_pending, mock_setup, mock_teardown),
	    cmocka_unit_test_setup_teardown(test_irq_raise_not_enabled, mock_setup, mock_teardown),
	    cmocka_unit_test_setup_teardown(test_irq_enable_limits, mock_setup, mock_teardown),
	    cmocka_unit_test_setup_teardown(test_irq_exclusive_kinds, mock_setup, mock_teardown),
	    cmocka_unit_test_setup_teardown(test_reset, mock_setup, mock_teardown),
	    cmocka_unit_test(test_reset_unsupported),
	    cmocka_unit_test_setup_teardown(test_bus_master, mock_setup, mock_teardown),
	    cmocka_unit_test_setup_teardown(test_io_bar, mock_setup, mock_teardown),
	    cmocka_unit_test(test_close_null),
	    cmocka_unit_test(test_close_with_irqs),
	};

	return cmocka_run_group_tests_name("hal_mock", tests, group_setup, group_teardown);
}
