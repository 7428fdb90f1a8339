// SPDX-License-Identifier: MIT
/*
 * PCI capability walker (lib/hal/pci_caps.c) on hand-built config-space images.
 *
 * Config space comes from the device and is untrusted, so most cases here are
 * malformed lists: every walk must terminate, keep what it could read and say
 * why it stopped in std_error/ext_error. Images of exactly the size passed are
 * allocated on the heap so that ASan catches a walker reading past the end.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vdf/hal.h"
#include "vdf/hw/pci.h"
#include "vdf/log.h"
#include "vdf/mock.h"
#include "vdf/pci.h"

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

/* A zeroed image of `len` bytes with the capability list enabled and empty. */
static uint8_t *image_new(size_t len)
{
	uint8_t *cfg = calloc(1, len);

	assert_non_null(cfg);
	cfg[PCI_VENDOR_ID] = 0x36;
	cfg[PCI_VENDOR_ID + 1] = 0x1b;
	cfg[PCI_STATUS] = (uint8_t)PCI_STATUS_CAP_LIST;
	return cfg;
}

static void std_cap(uint8_t *cfg, unsigned off, uint8_t id, uint8_t next)
{
	cfg[off + PCI_CAP_ID] = id;
	cfg[off + PCI_CAP_NEXT] = next;
}

static void ext_cap(uint8_t *cfg, unsigned off, uint16_t id, uint8_t ver, unsigned next)
{
	uint32_t hdr = FIELD_PREP(PCI_EXT_CAP_ID_MASK, id) | FIELD_PREP(PCI_EXT_CAP_VER_MASK, ver) |
		       FIELD_PREP(PCI_EXT_CAP_NEXT_MASK, next);

	cfg[off] = (uint8_t)hdr;
	cfg[off + 1] = (uint8_t)(hdr >> 8);
	cfg[off + 2] = (uint8_t)(hdr >> 16);
	cfg[off + 3] = (uint8_t)(hdr >> 24);
}

static void assert_cap(const struct vdf_pci_caps *caps, unsigned i, uint16_t id, uint16_t off,
		       int extended)
{
	assert_true(i < caps->count);
	assert_int_equal(caps->caps[i].id, id);
	assert_int_equal(caps->caps[i].offset, off);
	assert_int_equal(caps->caps[i].extended, extended);
}

/* PM -> MSI -> PCIe -> MSI-X, then extended AER -> DSN. */
static void build_well_formed(uint8_t *cfg)
{
	cfg[PCI_CAPABILITY_LIST] = 0x40;
	std_cap(cfg, 0x40, PCI_CAP_ID_PM, 0x50);
	std_cap(cfg, 0x50, PCI_CAP_ID_MSI, 0x70);
	std_cap(cfg, 0x70, PCI_CAP_ID_EXP, 0xb0);
	std_cap(cfg, 0xb0, PCI_CAP_ID_MSIX, 0x00);
	ext_cap(cfg, 0x100, PCI_EXT_CAP_ID_AER, 2, 0x148);
	ext_cap(cfg, 0x148, PCI_EXT_CAP_ID_DSN, 1, 0);
}

static void test_well_formed(void **state)
{
	uint8_t *cfg = image_new(PCI_CFG_SPACE_EXP_SIZE);
	struct vdf_pci_caps caps;

	(void)state;
	build_well_formed(cfg);
	vdf_pci_parse_caps(cfg, PCI_CFG_SPACE_EXP_SIZE, &caps);

	assert_int_equal(caps.std_error, 0);
	assert_int_equal(caps.ext_error, 0);
	assert_int_equal(caps.count, 6);
	assert_cap(&caps, 0, PCI_CAP_ID_PM, 0x40, 0);
	assert_cap(&caps, 1, PCI_CAP_ID_MSI, 0x50, 0);
	assert_cap(&caps, 2, PCI_CAP_ID_EXP, 0x70, 0);
	assert_cap(&caps, 3, PCI_CAP_ID_MSIX, 0xb0, 0);
	assert_cap(&caps, 4, PCI_EXT_CAP_ID_AER, 0x100, 1);
	assert_int_equal(caps.caps[4].version, 2);
	assert_cap(&caps, 5, PCI_EXT_CAP_ID_DSN, 0x148, 1);
	assert_int_equal(caps.caps[5].version, 1);

	assert_int_equal(vdf_pci_find_cap(&caps, PCI_CAP_ID_MSIX, 0), 0xb0);
	assert_int_equal(vdf_pci_find_cap(&caps, PCI_CAP_ID_EXP, 0), 0x70);
	assert_int_equal(vdf_pci_find_cap(&caps, PCI_EXT_CAP_ID_DSN, 1), 0x148);
	/* AER and PM share ID 1: the extended flag tells them apart. */
	assert_int_equal(vdf_pci_find_cap(&caps, PCI_EXT_CAP_ID_AER, 1), 0x100);
	assert_int_equal(vdf_pci_find_cap(&caps, PCI_CAP_ID_PM, 0), 0x40);
	assert_int_equal(vdf_pci_find_cap(&caps, PCI_CAP_ID_MSI, 1), -ENOENT);
	assert_int_equal(vdf_pci_find_cap(&caps, PCI_CAP_ID_VNDR, 0), -ENOENT);
	assert_int_equal(vdf_pci_find_cap(&caps, PCI_EXT_CAP_ID_SRIOV, 1), -ENOENT);

	assert_string_equal(vdf_pci_cap_name(PCI_CAP_ID_MSIX, 0), "MSI-X");
	assert_string_equal(vdf_pci_cap_name(PCI_EXT_CAP_ID_AER, 1), "AER");
	assert_string_equal(vdf_pci_cap_name(PCI_CAP_ID_PM, 0), "power management");
	assert_non_null(vdf_pci_cap_name(0x77, 0));
	assert_non_null(vdf_pci_cap_name(0x777, 1));
	free(cfg);
}

static void test_find_cap_first_match(void **state)
{
	uint8_t *cfg = image_new(PCI_CFG_SPACE_SIZE);
	struct vdf_pci_caps caps;

	(void)state;
	cfg[PCI_CAPABILITY_LIST] = 0x40;
	std_cap(cfg, 0x40, PCI_CAP_ID_VNDR, 0x60);
	std_cap(cfg, 0x60, PCI_CAP_ID_VNDR, 0x00);
	vdf_pci_parse_caps(cfg, PCI_CFG_SPACE_SIZE, &caps);
	assert_int_equal(caps.count, 2);
	assert_int_equal(vdf_pci_find_cap(&caps, PCI_CAP_ID_VNDR, 0), 0x40);
	free(cfg);
}

static void test_std_self_loop(void **state)
{
	uint8_t *cfg = image_new(PCI_CFG_SPACE_EXP_SIZE);
	struct vdf_pci_caps caps;

	(void)state;
	cfg[PCI_CAPABILITY_LIST] = 0x40;
	std_cap(cfg, 0x40, PCI_CAP_ID_PM, 0x40);
	ext_cap(cfg, 0x100, PCI_EXT_CAP_ID_AER, 1, 0);
	vdf_pci_parse_caps(cfg, PCI_CFG_SPACE_EXP_SIZE, &caps);
	assert_int_equal(caps.std_error, -ELOOP);
	assert_int_equal(caps.count, 2);
	assert_cap(&caps, 0, PCI_CAP_ID_PM, 0x40, 0);
	/* A broken standard list does not stop the extended walk. */
	assert_int_equal(caps.ext_error, 0);
	assert_cap(&caps, 1, PCI_EXT_CAP_ID_AER, 0x100, 1);
	free(cfg);
}

static void test_std_two_cycle(void **state)
{
	uint8_t *cfg = image_new(PCI_CFG_SPACE_EXP_SIZE);
	struct vdf_pci_caps caps;

	(void)state;
	cfg[PCI_CAPABILITY_LIST] = 0x40;
	std_cap(cfg, 0x40, PCI_CAP_ID_PM, 0x50);
	std_cap(cfg, 0x50, PCI_CAP_ID_MSI, 0x40);
	vdf_pci_parse_caps(cfg, PCI_CFG_SPACE_EXP_SIZE, &caps);
	assert_int_equal(caps.std_error, -ELOOP);
	assert_int_equal(caps.ext_error, 0);
	assert_int_equal(caps.count, 2);
	assert_cap(&caps, 0, PCI_CAP_ID_PM, 0x40, 0);
	assert_cap(&caps, 1, PCI_CAP_ID_MSI, 0x50, 0);
	free(cfg);
}

/* A loop whose members differ only in the reserved low pointer bits. */
static void test_std_loop_via_reserved_bits(void **state)
{
	uint8_t *cfg = image_new(PCI_CFG_SPACE_SIZE);
	struct vdf_pci_caps caps;

	(void)state;
	cfg[PCI_CAPABILITY_LIST] = 0x40;
	std_cap(cfg, 0x40, PCI_CAP_ID_PM, 0x43);
	vdf_pci_parse_caps(cfg, PCI_CFG_SPACE_SIZE, &caps);
	assert_int_equal(caps.std_error, -ELOOP);
	assert_int_equal(caps.count, 1);
	free(cfg);
}

static void test_std_pointer_into_header(void **state)
{
	uint8_t *cfg = image_new(PCI_CFG_SPACE_EXP_SIZE);
	struct vdf_pci_caps caps;

	(void)state;
	/* The head pointer itself points into the header. */
	cfg[PCI_CAPABILITY_LIST] = 0x10;
	vdf_pci_parse_caps(cfg, PCI_CFG_SPACE_EXP_SIZE, &caps);
	assert_int_equal(caps.std_error, -EINVAL);
	assert_int_equal(caps.count, 0);

	/* A next pointer into the header, just below the first legal offset. */
	cfg[PCI_CAPABILITY_LIST] = 0x40;
	std_cap(cfg, 0x40, PCI_CAP_ID_PM, 0x3c);
	vdf_pci_parse_caps(cfg, PCI_CFG_SPACE_EXP_SIZE, &caps);
	assert_int_equal(caps.std_error, -EINVAL);
	assert_int_equal(caps.count, 1);
	assert_cap(&caps, 0, PCI_CAP_ID_PM, 0x40, 0);

	/* Pointing at the capability-pointer register itself. */
	std_cap(cfg, 0x40, PCI_CAP_ID_PM, PCI_CAPABILITY_LIST);
	vdf_pci_parse_caps(cfg, PCI_CFG_SPACE_EXP_SIZE, &caps);
	assert_int_equal(caps.std_error, -EINVAL);
	assert_int_equal(caps.count, 1);
	free(cfg);
}

/*
 * 0xff has its reserved low bits set: it is masked to 0xfc, the last dword,
 * whose 2-byte entry still fits. The image is exactly 256 bytes, so ASan
 * reports any read past the end.
 */
static void test_std_pointer_at_end(void **state)
{
	uint8_t *cfg = image_new(PCI_CFG_SPACE_SIZE);
	struct vdf_pci_caps caps;

	(void)state;
	cfg[PCI_CAPABILITY_LIST] = 0x40;
	std_cap(cfg, 0x40, PCI_CAP_ID_PM, 0xff);
	std_cap(cfg, 0xfc, PCI_CAP_ID_VNDR, 0x00);
	vdf_pci_parse_caps(cfg, PCI_CFG_SPACE_SIZE, &caps);
	assert_int_equal(caps.std_error, 0);
	assert_int_equal(caps.count, 2);
	assert_cap(&caps, 1, PCI_CAP_ID_VNDR, 0xfc, 0);

	/* The last entry pointing at 0xff again is a loop, not a read past the end. */
	std_cap(cfg, 0xfc, PCI_CAP_ID_VNDR, 0xff);
	vdf_pci_parse_caps(cfg, PCI_CFG_SPACE_SIZE, &caps);
	assert_int_equal(caps.std_error, -ELOOP);
	assert_int_equal(caps.count, 2);
	free(cfg);
}

static void test_std_cap_list_clear(void **state)
{
	uint8_t *cfg = image_new(PCI_CFG_SPACE_EXP_SIZE);
	struct vdf_pci_caps caps;

	(void)state;
	build_well_formed(cfg);
	cfg[PCI_STATUS] = 0;
	vdf_pci_parse_caps(cfg, PCI_CFG_SPACE_EXP_SIZE, &caps);
	assert_int_equal(caps.std_error, 0);
	assert_int_equal(caps.ext_error, 0);
	/* Only the extended list (not governed by the status bit) is found. */
	assert_int_equal(caps.count, 2);
	assert_int_equal(vdf_pci_find_cap(&caps, PCI_CAP_ID_PM, 0), -ENOENT);
	assert_int_equal(vdf_pci_find_cap(&caps, PCI_EXT_CAP_ID_AER, 1), 0x100);
	free(cfg);
}

static void test_std_empty_list(void **state)
{
	uint8_t *cfg = image_new(PCI_CFG_SPACE_EXP_SIZE);
	struct vdf_pci_caps caps;

	(void)state;
	/* CAP_LIST set but a null head pointer: an empty list, not an error. */
	vdf_pci_parse_caps(cfg, PCI_CFG_SPACE_EXP_SIZE, &caps);
	assert_int_equal(caps.std_error, 0);
	assert_int_equal(caps.ext_error, 0);
	assert_int_equal(caps.count, 0);
	free(cfg);
}

/* An entry whose ID reads 0xff is what a vanished device returns. */
static void test_std_id_all_ones(void **state)
{
	uint8_t *cfg = image_new(PCI_CFG_SPACE_SIZE);
	struct vdf_pci_caps caps;

	(void)state;
	cfg[PCI_CAPABILITY_LIST] = 0x40;
	std_cap(cfg, 0x40, PCI_CAP_ID_PM, 0x50);
	std_cap(cfg, 0x50, 0xff, 0x00);
	vdf_pci_parse_caps(cfg, PCI_CFG_SPACE_SIZE, &caps);
	assert_int_equal(caps.std_error, -EINVAL);
	assert_int_equal(caps.count, 1);
	free(cfg);
}

static void test_all_ones_image(void **state)
{
	uint8_t *cfg = malloc(PCI_CFG_SPACE_EXP_SIZE);
	struct vdf_pci_caps caps;

	(void)state;
	assert_non_null(cfg);
	memset(cfg, 0xff, PCI_CFG_SPACE_EXP_SIZE);
	vdf_pci_parse_caps(cfg, PCI_CFG_SPACE_EXP_SIZE, &caps);
	assert_int_equal(caps.count, 0);
	assert_int_equal(caps.std_error, -EINVAL);
	/* An all-ones extended header means "no extended space". */
	assert_int_equal(caps.ext_error, 0);
	free(cfg);
}

static struct vdf_mock *mock_with_caps(void)
{
	struct vdf_mock_config mc = {
	    .id = {.vendor = 0x1b36, .device = 0x0010, .class_code = 0x01},
	    .bar_size = {0x1000},
	};
	struct vdf_mock *m;

	assert_int_equal(vdf_mock_create(&mc, &m), 0);
	return m;
}

static void test_read_caps_mock(void **state)
{
	struct vdf_mock *m = mock_with_caps();
	uint8_t *cfg = vdf_mock_cfg(m);
	struct vdf_pci_caps caps;

	(void)state;
	cfg[PCI_STATUS] = (uint8_t)PCI_STATUS_CAP_LIST;
	build_well_formed(cfg);
	assert_int_equal(vdf_pci_read_caps(vdf_mock_dev(m), &caps), 0);
	assert_int_equal(caps.std_error, 0);
	assert_int_equal(caps.ext_error, 0);
	assert_int_equal(caps.count, 6);
	assert_int_equal(vdf_pci_find_cap(&caps, PCI_CAP_ID_MSIX, 0), 0xb0);
	assert_int_equal(vdf_pci_find_cap(&caps, PCI_EXT_CAP_ID_DSN, 1), 0x148);
	vdf_dev_close(vdf_mock_dev(m));
}

static void test_read_caps_device_gone(void **state)
{
	struct vdf_mock *m = mock_with_caps();
	struct vdf_mock_fault f = {.kind = VDF_MOCK_FAULT_ALL_ONES};
	struct vdf_pci_caps caps;

	(void)state;
	build_well_formed(vdf_mock_cfg(m));
	assert_int_equal(vdf_mock_inject(m, &f), 0);
	assert_int_equal(vdf_pci_read_caps(vdf_mock_dev(m), &caps), -ENODEV);

	vdf_mock_clear_faults(m);
	assert_int_equal(vdf_pci_read_caps(vdf_mock_dev(m), &caps), 0);
	vdf_dev_close(vdf_mock_dev(m));
}

static void test_ext_self_loop(void **state)
{
	uint8_t *cfg = image_new(PCI_CFG_SPACE_EXP_SIZE);
	struct vdf_pci_caps caps;

	(void)state;
	ext_cap(cfg, 0x100, PCI_EXT_CAP_ID_AER, 1, 0x100);
	vdf_pci_parse_caps(cfg, PCI_CFG_SPACE_EXP_SIZE, &caps);
	assert_int_equal(caps.std_error, 0);
	assert_int_equal(caps.ext_error, -ELOOP);
	assert_int_equal(caps.count, 1);
	free(cfg);
}

static void test_ext_loop(void **state)
{
	uint8_t *cfg = image_new(PCI_CFG_SPACE_EXP_SIZE);
	struct vdf_pci_caps caps;

	(void)state;
	cfg[PCI_CAPABILITY_LIST] = 0x40;
	std_cap(cfg, 0x40, PCI_CAP_ID_EXP, 0x00);
	ext_cap(cfg, 0x100, PCI_EXT_CAP_ID_AER, 1, 0x200);
	ext_cap(cfg, 0x200, PCI_EXT_CAP_ID_DSN, 1, 0x300);
	ext_cap(cfg, 0x300, PCI_EXT_CAP_ID_SRIOV, 1, 0x200);
	vdf_pci_parse_caps(cfg, PCI_CFG_SPACE_EXP_SIZE, &caps);
	assert_int_equal(caps.std_error, 0);
	assert_int_equal(caps.ext_error, -ELOOP);
	assert_int_equal(caps.count, 4);
	assert_cap(&caps, 0, PCI_CAP_ID_EXP, 0x40, 0);
	assert_cap(&caps, 3, PCI_EXT_CAP_ID_SRIOV, 0x300, 1);
	free(cfg);
}

static void test_ext_pointer_below_0x100(void **state)
{
	static const unsigned bad[] = {0x040, 0x0fc, 0x004};
	uint8_t *cfg = image_new(PCI_CFG_SPACE_EXP_SIZE);
	struct vdf_pci_caps caps;

	(void)state;
	for (unsigned i = 0; i < VDF_ARRAY_SIZE(bad); i++) {
		ext_cap(cfg, 0x100, PCI_EXT_CAP_ID_AER, 1, bad[i]);
		vdf_pci_parse_caps(cfg, PCI_CFG_SPACE_EXP_SIZE, &caps);
		assert_int_equal(caps.ext_error, -EINVAL);
		assert_int_equal(caps.count, 1);
	}
	free(cfg);
}

static void test_ext_header_all_ones_mid_list(void **state)
{
	uint8_t *cfg = image_new(PCI_CFG_SPACE_EXP_SIZE);
	struct vdf_pci_caps caps;

	(void)state;
	ext_cap(cfg, 0x100, PCI_EXT_CAP_ID_AER, 1, 0x180);
	memset(cfg + 0x180, 0xff, 4);
	vdf_pci_parse_caps(cfg, PCI_CFG_SPACE_EXP_SIZE, &caps);
	assert_int_equal(caps.ext_error, -EINVAL);
	assert_int_equal(caps.count, 1);
	free(cfg);
}

static void test_ext_absent(void **state)
{
	uint8_t *cfg = image_new(PCI_CFG_SPACE_EXP_SIZE);
	struct vdf_pci_caps caps;

	(void)state;
	cfg[PCI_CAPABILITY_LIST] = 0x40;
	std_cap(cfg, 0x40, PCI_CAP_ID_EXP, 0x00);
	/* A zero header at 0x100 means there are no extended capabilities, even if
	 * something that looks like one sits further up. */
	ext_cap(cfg, 0x200, PCI_EXT_CAP_ID_AER, 1, 0);
	vdf_pci_parse_caps(cfg, PCI_CFG_SPACE_EXP_SIZE, &caps);
	assert_int_equal(caps.ext_error, 0);
	assert_int_equal(caps.count, 1);
	free(cfg);
}

/* Reserved low bits are masked for standard pointers... */
static void test_std_misaligned_masked(void **state)
{
	uint8_t *cfg = image_new(PCI_CFG_SPACE_SIZE);
	struct vdf_pci_caps caps;

	(void)state;
	cfg[PCI_CAPABILITY_LIST] = 0x43;
	std_cap(cfg, 0x40, PCI_CAP_ID_PM, 0x51);
	std_cap(cfg, 0x50, PCI_CAP_ID_MSI, 0x62);
	std_cap(cfg, 0x60, PCI_CAP_ID_MSIX, 0x00);
	vdf_pci_parse_caps(cfg, PCI_CFG_SPACE_SIZE, &caps);
	assert_int_equal(caps.std_error, 0);
	assert_int_equal(caps.count, 3);
	assert_cap(&caps, 0, PCI_CAP_ID_PM, 0x40, 0);
	assert_cap(&caps, 1, PCI_CAP_ID_MSI, 0x50, 0);
	assert_cap(&caps, 2, PCI_CAP_ID_MSIX, 0x60, 0);
	free(cfg);
}

/* ...but a misaligned extended pointer is rejected. */
static void test_ext_misaligned_rejected(void **state)
{
	static const unsigned bad[] = {0x142, 0x201, 0xffd, 0xfff};
	uint8_t *cfg = image_new(PCI_CFG_SPACE_EXP_SIZE);
	struct vdf_pci_caps caps;

	(void)state;
	for (unsigned i = 0; i < VDF_ARRAY_SIZE(bad); i++) {
		memset(cfg + 0x100, 0, PCI_CFG_SPACE_EXP_SIZE - 0x100);
		ext_cap(cfg, 0x100, PCI_EXT_CAP_ID_AER, 1, bad[i]);
		ext_cap(cfg, bad[i] & ~3u, PCI_EXT_CAP_ID_DSN, 1, 0);
		vdf_pci_parse_caps(cfg, PCI_CFG_SPACE_EXP_SIZE, &caps);
		assert_int_equal(caps.ext_error, -EINVAL);
		assert_int_equal(caps.count, 1);
	}
	free(cfg);
}

/* The last dword of extended space is a legal capability; ASan guards the end. */
static void test_ext_last_dword(void **state)
{
	uint8_t *cfg = image_new(PCI_CFG_SPACE_EXP_SIZE);
	struct vdf_pci_caps caps;

	(void)state;
	ext_cap(cfg, 0x100, PCI_EXT_CAP_ID_AER, 1, 0xffc);
	ext_cap(cfg, 0xffc, PCI_EXT_CAP_ID_DSN, 1, 0);
	vdf_pci_parse_caps(cfg, PCI_CFG_SPACE_EXP_SIZE, &caps);
	assert_int_equal(caps.ext_error, 0);
	assert_int_equal(caps.count, 2);
	assert_cap(&caps, 1, PCI_EXT_CAP_ID_DSN, 0xffc, 1);
	free(cfg);
}

/*
 * More capabilities than struct vdf_pci_caps holds: the walk ends with -E2BIG
 * and the first VDF_PCI_MAX_CAPS are kept in list order.
 */
static void test_max_caps(void **state)
{
	uint8_t *cfg = image_new(PCI_CFG_SPACE_EXP_SIZE);
	struct vdf_pci_caps caps;
	unsigned nstd = 0, next;

	(void)state;
	/* 48 standard entries fill every dword from 0x40 to 0xfc. */
	cfg[PCI_CAPABILITY_LIST] = 0x40;
	for (unsigned off = 0x40; off < PCI_CFG_SPACE_SIZE; off += 4, nstd++)
		std_cap(cfg, off, PCI_CAP_ID_VNDR,
			(uint8_t)(off + 4 < PCI_CFG_SPACE_SIZE ? off + 4 : 0));
	assert_int_equal(nstd, 48);
	/* 100 extended entries, 8 bytes apart. */
	for (unsigned i = 0; i < 100; i++) {
		unsigned off = 0x100 + i * 8;

		next = i + 1 < 100 ? off + 8 : 0;
		ext_cap(cfg, off, (uint16_t)(0x100 + i), 1, next);
	}
	vdf_pci_parse_caps(cfg, PCI_CFG_SPACE_EXP_SIZE, &caps);
	assert_int_equal(caps.count, VDF_PCI_MAX_CAPS);
	assert_int_equal(caps.std_error, 0);
	assert_int_equal(caps.ext_error, -E2BIG);
	for (unsigned i = 0; i < nstd; i++)
		assert_cap(&caps, i, PCI_CAP_ID_VNDR, (uint16_t)(0x40 + 4 * i), 0);
	for (unsigned i = nstd; i < VDF_PCI_MAX_CAPS; i++)
		assert_cap(&caps, i, (uint16_t)(0x100 + i - nstd),
			   (uint16_t)(0x100 + (i - nstd) * 8), 1);
	free(cfg);
}

/* The longest possible extended chain (every dword of 0x100..0xffc) ends
 * once the table is full. */
static void test_ext_longest_chain(void **state)
{
	uint8_t *cfg = image_new(PCI_CFG_SPACE_EXP_SIZE);
	struct vdf_pci_caps caps;

	(void)state;
	for (unsigned off = 0x100; off < PCI_CFG_SPACE_EXP_SIZE; off += 4)
		ext_cap(cfg, off, 0x42, 1, off + 4 < PCI_CFG_SPACE_EXP_SIZE ? off + 4 : 0x100);
	vdf_pci_parse_caps(cfg, PCI_CFG_SPACE_EXP_SIZE, &caps);
	assert_int_equal(caps.ext_error, -E2BIG);
	assert_int_equal(caps.count, VDF_PCI_MAX_CAPS);
	assert_int_equal(caps.caps[VDF_PCI_MAX_CAPS - 1].offset,
			 0x100 + 4 * (VDF_PCI_MAX_CAPS - 1));
	free(cfg);
}

/* A conventional PCI function: 256 bytes, no extended space to walk. */
static void test_conventional_image(void **state)
{
	uint8_t *cfg = image_new(PCI_CFG_SPACE_SIZE);
	struct vdf_pci_caps caps;

	(void)state;
	cfg[PCI_CAPABILITY_LIST] = 0x40;
	std_cap(cfg, 0x40, PCI_CAP_ID_PM, 0x50);
	std_cap(cfg, 0x50, PCI_CAP_ID_MSI, 0x00);
	vdf_pci_parse_caps(cfg, PCI_CFG_SPACE_SIZE, &caps);
	assert_int_equal(caps.std_error, 0);
	assert_int_equal(caps.ext_error, 0);
	assert_int_equal(caps.count, 2);
	assert_int_equal(vdf_pci_find_cap(&caps, PCI_EXT_CAP_ID_AER, 1), -ENOENT);
	free(cfg);
}

static void test_short_image(void **state)
{
	uint8_t *cfg = image_new(64);
	struct vdf_pci_caps caps;

	(void)state;
	memset(&caps, 0x5a, sizeof(caps));
	vdf_pci_parse_caps(cfg, 64, &caps);
	assert_int_equal(caps.std_error, -EINVAL);
	assert_int_equal(caps.ext_error, 0);
	assert_int_equal(caps.count, 0);
	free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_well_formed),
	    cmocka_unit_test(test_find_cap_first_match),
	    cmocka_unit_test(test_std_self_loop),
	    cmocka_unit_test(test_std_two_cycle),
	    cmocka_unit_test(test_std_loop_via_reserved_bits),
	    cmocka_unit_test(test_std_pointer_into_header),
	    cmocka_unit_test(test_std_pointer_at_end),
	    cmocka_unit_test(test_std_cap_list_clear),
	    cmocka_unit_test(test_std_empty_list),
	    cmocka_unit_test(test_std_id_all_ones),
	    cmocka_unit_test(test_all_ones_image),
	    cmocka_unit_test(test_read_caps_mock),
	    cmocka_unit_test(test_read_caps_device_gone),
	    cmocka_unit_test(test_ext_self_loop),
	    cmocka_unit_test(test_ext_loop),
	    cmocka_unit_test(test_ext_pointer_below_0x100),
	    cmocka_unit_test(test_ext_header_all_ones_mid_list),
	    cmocka_unit_test(test_ext_absent),
	    cmocka_unit_test(test_std_misaligned_masked),
	    cmocka_unit_test(test_ext_misaligned_rejected),
	    cmocka_unit_test(test_ext_last_dword),
	    cmocka_unit_test(test_max_caps),
	    cmocka_unit_test(test_ext_longest_chain),
	    cmocka_unit_test(test_conventional_image),
	    cmocka_unit_test(test_short_image),
	};

	return cmocka_run_group_tests_name("hal_pci_caps", tests, group_setup, group_teardown);
}
