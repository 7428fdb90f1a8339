// SPDX-License-Identifier: MIT
/*
 * The bochs-display driver (drivers/bochs) against the model in mock_bochs.c:
 * bring-up (ID, VRAM, byte order, EDID), mode validation, mode set with
 * read-back and restore, page flips, adopting a mode left on screen, the mode
 * list, vblank sequence numbers, a device that reads all ones.
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

#include "../../drivers/bochs/bochs.h"
#include "mock_bochs.h"
#include "vdf/log.h"

#define VRAM (16u << 20)

struct fixture {
	struct mock_bochs *m;
	struct bochs_dev b;
};

static void quiet_log(int level, const char *component, const char *dev, const char *msg, void *ctx)
{
	(void)ctx;
	if (getenv("VDF_TEST_LOG"))
		fprintf(stderr, "<%d> %s %s: %s\n", level, component, dev, msg);
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

/* A minimal EDID 1.4 base block: a 1024x768@60 preferred timing (65 MHz,
 * 1344 x 806 total), 300x230 mm, monitor name "VDF Panel". */
static void put_edid(uint8_t *e)
{
	static const char name[] = "VDF Panel\n   ";
	uint8_t *d = e + 54, *n = e + 72, sum = 0;

	memset(e, 0, 128);
	memset(e + 1, 0xff, 6);
	e[8] = 0x58, e[9] = 0x86;     /* "VDF" */
	e[18] = 1, e[19] = 4;	      /* version 1.4 */
	e[21] = 30, e[22] = 23;	      /* cm */
	for (int i = 38; i < 54; i++) /* no standard timings */
		e[i] = 1;
	d[0] = 6500 & 0xff, d[1] = 6500 >> 8;  /* pixel clock, 10 kHz units */
	d[2] = 1024 & 0xff, d[3] = 320 & 0xff; /* hactive, hblank low */
	d[4] = (1024 >> 8) << 4 | 320 >> 8;
	d[5] = 768 & 0xff, d[6] = 38; /* vactive, vblank low */
	d[7] = (768 >> 8) << 4;
	d[8] = 24, d[9] = 136, d[10] = 3 << 4 | 6;
	d[12] = 300 & 0xff, d[13] = 230 & 0xff, d[14] = (300 >> 8) << 4 | 230 >> 8;
	n[3] = 0xfc;
	memcpy(n + 5, name, 13);
	for (int i = 0; i < 127; i++)
		sum = (uint8_t)(sum + e[i]);
	e[127] = (uint8_t)(0x100 - sum);
}

static int setup_edid(void **state, bool edid)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(mock_bochs_create(VRAM, &f->m), 0);
	if (edid)
		put_edid(mock_bochs_edid(f->m));
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_edid(state, true);
}

static int setup_no_edid(void **state)
{
	return setup_edid(state, false);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	bochs_fini(&f->b);
	mock_bochs_destroy(f->m);
	free(f);
	return 0;
}

static void up(struct fixture *f)
{
	assert_int_equal(bochs_init(&f->b, mock_bochs_dev(f->m)), 0);
}

static struct vdf_display_mode mode(uint32_t w, uint32_t h, enum vdf_pixel_format fmt)
{
	return (struct vdf_display_mode){.width = w, .height = h, .format = fmt};
}

static void test_init(void **state)
{
	struct fixture *f = *state;

	up(f);
	assert_int_equal(f->b.dispi_id, DISPI_ID5);
	assert_int_equal(f->b.vram_size, VRAM);
	assert_true(f->b.has_qext);
	assert_int_equal(mock_bochs_byteorder(f->m), QEXT_LITTLE_ENDIAN);
	assert_true(f->b.has_edid);
	assert_string_equal(f->b.edid.name, "VDF Panel");
	assert_string_equal(f->b.edid.vendor, "VDF");
	assert_int_equal(f->b.edid.width_mm, 300);
	assert_int_equal(f->b.mode.width, 0); /* the device showed nothing */
}

static void test_init_no_edid(void **state)
{
	struct fixture *f = *state;
	struct vdf_display_mode m = mode(1024, 768, VDF_PIXEL_XRGB8888);

	up(f);
	assert_false(f->b.has_edid);
	assert_int_equal(bochs_set_mode(&f->b, &m, NULL, 0), 0);
	assert_int_equal(f->b.mode.refresh_hz, BOCHS_REFRESH_HZ);
}

static void test_init_not_dispi(void **state)
{
	struct fixture *f = *state;
	struct vdf_mock_fault stuck = {.kind = VDF_MOCK_FAULT_REG_STUCK,
				       .bar = BOCHS_BAR_MMIO,
				       .off = BOCHS_DISPI_REG(DISPI_INDEX_ID),
				       .value = 0x1234};
	struct vdf_mock_fault gone = {.kind = VDF_MOCK_FAULT_ALL_ONES};

	assert_int_equal(vdf_mock_inject(mock_bochs_mock(f->m), &stuck), 0);
	assert_int_equal(bochs_init(&f->b, mock_bochs_dev(f->m)), -ENODEV);
	vdf_mock_clear_faults(mock_bochs_mock(f->m));
	assert_int_equal(vdf_mock_inject(mock_bochs_mock(f->m), &gone), 0);
	assert_int_equal(bochs_init(&f->b, mock_bochs_dev(f->m)), -ENODEV);
}

static void test_mode_check(void **state)
{
	struct fixture *f = *state;
	struct vdf_display_mode m;
	char why[160];

	up(f);
	m = mode(1024, 768, VDF_PIXEL_XRGB8888);
	assert_int_equal(bochs_mode_check(&f->b, &m, why, sizeof(why)), 0);
	m = mode(0, 768, VDF_PIXEL_XRGB8888);
	assert_int_equal(bochs_mode_check(&f->b, &m, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "zero size"));
	m = mode(63, 768, VDF_PIXEL_XRGB8888);
	assert_int_equal(bochs_mode_check(&f->b, &m, why, sizeof(why)), -EINVAL);
	m = mode(16001, 64, VDF_PIXEL_RGB565);
	assert_int_equal(bochs_mode_check(&f->b, &m, why, sizeof(why)), -EINVAL);
	m = mode(1024, 768, VDF_PIXEL_RGB888);
	assert_int_equal(bochs_mode_check(&f->b, &m, why, sizeof(why)), -ENOTSUP);
	assert_non_null(strstr(why, "not supported"));
	m = mode(1024, 768, VDF_PIXEL_C8);
	assert_int_equal(bochs_mode_check(&f->b, &m, why, sizeof(why)), -ENOTSUP);
	m = mode(1024, 768, VDF_PIXEL_NONE);
	assert_int_equal(bochs_mode_check(&f->b, &m, why, sizeof(why)), -ENOTSUP);
	m = mode(4096, 4096, VDF_PIXEL_XRGB8888); /* 64 MiB */
	assert_int_equal(bochs_mode_check(&f->b, &m, why, sizeof(why)), -ENOSPC);
	assert_non_null(strstr(why, "VRAM"));
	m = mode(1024, 768, VDF_PIXEL_XRGB8888);
	m.refresh_hz = 5000;
	assert_int_equal(bochs_mode_check(&f->b, &m, NULL, 0), -EINVAL);
}

static void test_set_mode(void **state)
{
	struct fixture *f = *state;
	struct vdf_display_mode m = mode(1024, 768, VDF_PIXEL_XRGB8888);
	uint8_t *vram = mock_bochs_vram(f->m);

	up(f);
	memset(vram, 0x5a, 2u * 1024 * 768 * 4);
	assert_int_equal(bochs_set_mode(&f->b, &m, NULL, 0), 0);
	assert_int_equal(mock_bochs_dispi(f->m, DISPI_INDEX_XRES), 1024);
	assert_int_equal(mock_bochs_dispi(f->m, DISPI_INDEX_YRES), 768);
	assert_int_equal(mock_bochs_dispi(f->m, DISPI_INDEX_BPP), 32);
	assert_int_equal(mock_bochs_dispi(f->m, DISPI_INDEX_VIRT_WIDTH), 1024);
	assert_int_equal(mock_bochs_dispi(f->m, DISPI_INDEX_VIRT_HEIGHT), 2 * 768);
	assert_int_equal(mock_bochs_dispi(f->m, DISPI_INDEX_Y_OFFSET), 0);
	assert_true(mock_bochs_dispi(f->m, DISPI_INDEX_ENABLE) & DISPI_ENABLED);
	assert_true(mock_bochs_dispi(f->m, DISPI_INDEX_ENABLE) & DISPI_LFB_ENABLED);
	assert_int_equal(f->b.pages, 2);
	assert_int_equal(f->b.stride, 4096);
	assert_int_equal(f->b.mode.refresh_hz, 60); /* from the EDID's timing */
	/* both pages cleared */
	assert_int_equal(vram[0], 0);
	assert_int_equal(vram[2u * 1024 * 768 * 4 - 1], 0);

	/* too big for two pages: one */
	m = mode(1920, 1200, VDF_PIXEL_XRGB8888);
	assert_int_equal(bochs_set_mode(&f->b, &m, NULL, 0), 0);
	assert_int_equal(f->b.pages, 1);
	assert_int_equal(mock_bochs_dispi(f->m, DISPI_INDEX_VIRT_HEIGHT), 1200);
	assert_int_equal(bochs_back(&f->b), 0);
}

static void test_invalid_mode_keeps_current(void **state)
{
	struct fixture *f = *state;
	struct vdf_display_mode m = mode(800, 600, VDF_PIXEL_RGB565);
	struct vdf_display_mode bad[] = {
	    mode(4096, 4096, VDF_PIXEL_XRGB8888),
	    mode(0, 0, VDF_PIXEL_XRGB8888),
	    mode(1024, 768, VDF_PIXEL_RGB888),
	};
	char why[160];

	up(f);
	assert_int_equal(bochs_set_mode(&f->b, &m, NULL, 0), 0);
	for (size_t i = 0; i < VDF_ARRAY_SIZE(bad); i++) {
		assert_true(bochs_set_mode(&f->b, &bad[i], why, sizeof(why)) < 0);
		assert_true(why[0] != '\0');
		assert_int_equal(f->b.mode.width, 800);
		assert_int_equal(f->b.mode.format, VDF_PIXEL_RGB565);
		assert_int_equal(mock_bochs_dispi(f->m, DISPI_INDEX_XRES), 800);
		assert_int_equal(mock_bochs_dispi(f->m, DISPI_INDEX_BPP), 16);
	}
	assert_int_equal(f->b.mode_sets, 1);
}

static void test_readback_fails_restores(void **state)
{
	struct fixture *f = *state;
	struct vdf_display_mode m = mode(800, 600, VDF_PIXEL_RGB565);
	struct vdf_display_mode m2 = mode(1024, 768, VDF_PIXEL_XRGB8888);
	struct vdf_mock_fault stuck = {.kind = VDF_MOCK_FAULT_REG_STUCK,
				       .bar = BOCHS_BAR_MMIO,
				       .off = BOCHS_DISPI_REG(DISPI_INDEX_XRES),
				       .value = 800};
	char why[160];

	up(f);
	assert_int_equal(bochs_set_mode(&f->b, &m, NULL, 0), 0);
	assert_int_equal(vdf_mock_inject(mock_bochs_mock(f->m), &stuck), 0);
	assert_int_equal(bochs_set_mode(&f->b, &m2, why, sizeof(why)), -EIO);
	assert_non_null(strstr(why, "read-back"));
	/* back to 800x600 RGB565 */
	assert_int_equal(f->b.mode.width, 800);
	assert_int_equal(f->b.mode.format, VDF_PIXEL_RGB565);
	assert_int_equal(mock_bochs_dispi(f->m, DISPI_INDEX_BPP), 16);
	assert_true(mock_bochs_dispi(f->m, DISPI_INDEX_ENABLE) & DISPI_ENABLED);
}

static void test_present_flips(void **state)
{
	struct fixture *f = *state;
	struct vdf_display_mode m = mode(640, 480, VDF_PIXEL_XRGB8888);
	uint8_t *p0, *p1;

	up(f);
	assert_int_equal(bochs_present(&f->b), -ENODATA);
	assert_null(bochs_page(&f->b, 0));
	assert_int_equal(bochs_set_mode(&f->b, &m, NULL, 0), 0);
	p0 = bochs_page(&f->b, 0);
	p1 = bochs_page(&f->b, 1);
	assert_ptr_equal(p0, mock_bochs_vram(f->m));
	assert_ptr_equal(p1, p0 + 640u * 480 * 4);
	assert_null(bochs_page(&f->b, 2));
	assert_int_equal(bochs_back(&f->b), 1);
	assert_int_equal(bochs_present(&f->b), 0);
	assert_int_equal(mock_bochs_dispi(f->m, DISPI_INDEX_Y_OFFSET), 480);
	assert_int_equal(f->b.front, 1);
	assert_int_equal(bochs_back(&f->b), 0);
	assert_int_equal(bochs_present(&f->b), 0);
	assert_int_equal(mock_bochs_dispi(f->m, DISPI_INDEX_Y_OFFSET), 0);
	assert_int_equal(f->b.presents, 2);
}

static void test_gone(void **state)
{
	struct fixture *f = *state;
	struct vdf_display_mode m = mode(640, 480, VDF_PIXEL_XRGB8888);
	struct vdf_mock_fault gone = {.kind = VDF_MOCK_FAULT_ALL_ONES};

	up(f);
	assert_int_equal(bochs_set_mode(&f->b, &m, NULL, 0), 0);
	assert_int_equal(vdf_mock_inject(mock_bochs_mock(f->m), &gone), 0);
	assert_int_equal(bochs_present(&f->b), -ENODEV);
	assert_true(f->b.gone);
	assert_int_equal(bochs_set_mode(&f->b, &m, NULL, 0), -ENODEV);
}

static void test_adopt_mode(void **state)
{
	struct fixture *f = *state;

	/* what an earlier instance left: 800x600 RGB565, two pages, page 1 shown */
	mock_bochs_set_dispi(f->m, DISPI_INDEX_XRES, 800);
	mock_bochs_set_dispi(f->m, DISPI_INDEX_YRES, 600);
	mock_bochs_set_dispi(f->m, DISPI_INDEX_BPP, 16);
	mock_bochs_set_dispi(f->m, DISPI_INDEX_VIRT_WIDTH, 800);
	mock_bochs_set_dispi(f->m, DISPI_INDEX_VIRT_HEIGHT, 1200);
	mock_bochs_set_dispi(f->m, DISPI_INDEX_Y_OFFSET, 600);
	mock_bochs_set_dispi(f->m, DISPI_INDEX_ENABLE, DISPI_ENABLED | DISPI_LFB_ENABLED);
	up(f);
	assert_int_equal(f->b.mode.width, 800);
	assert_int_equal(f->b.mode.height, 600);
	assert_int_equal(f->b.mode.format, VDF_PIXEL_RGB565);
	assert_int_equal(f->b.pages, 2);
	assert_int_equal(f->b.front, 1);
	assert_int_equal(f->b.stride, 1600);
}

static void test_adopt_refuses_foreign(void **state)
{
	struct fixture *f = *state;

	/* 24 bpp: not a mode this driver sets */
	mock_bochs_set_dispi(f->m, DISPI_INDEX_XRES, 800);
	mock_bochs_set_dispi(f->m, DISPI_INDEX_YRES, 600);
	mock_bochs_set_dispi(f->m, DISPI_INDEX_BPP, 24);
	mock_bochs_set_dispi(f->m, DISPI_INDEX_VIRT_WIDTH, 800);
	mock_bochs_set_dispi(f->m, DISPI_INDEX_VIRT_HEIGHT, 600);
	mock_bochs_set_dispi(f->m, DISPI_INDEX_ENABLE, DISPI_ENABLED);
	up(f);
	assert_int_equal(f->b.mode.width, 0);
}

static void test_modes(void **state)
{
	struct fixture *f = *state;
	struct vdf_display_mode list[BOCHS_MODES_MAX];
	unsigned n;
	bool seen_1024_32 = false, seen_1024_16 = false;

	up(f);
	n = bochs_modes(&f->b, list, BOCHS_MODES_MAX);
	assert_true(n > 4);
	for (unsigned i = 0; i < n; i++) {
		uint64_t bytes =
		    (uint64_t)list[i].width * list[i].height * vdf_pixel_bytes(list[i].format);

		assert_true(bytes <= VRAM);
		assert_int_equal(bochs_mode_check(&f->b, &list[i], NULL, 0), 0);
		if (i)
			assert_true((uint64_t)list[i - 1].width * list[i - 1].height >=
				    (uint64_t)list[i].width * list[i].height);
		if (list[i].width == 1024 && list[i].height == 768)
			*(list[i].format == VDF_PIXEL_XRGB8888 ? &seen_1024_32 : &seen_1024_16) =
			    true;
		for (unsigned j = 0; j < i; j++)
			assert_false(list[j].width == list[i].width &&
				     list[j].height == list[i].height &&
				     list[j].format == list[i].format);
	}
	assert_true(seen_1024_32);
	assert_true(seen_1024_16);
	/* capped */
	assert_int_equal(bochs_modes(&f->b, list, 3), 3);
}

static void test_vblank_sequence(void **state)
{
	struct fixture *f = *state;
	struct vdf_display_mode m = mode(640, 480, VDF_PIXEL_XRGB8888);
	uint64_t a = 0, b = 0;

	up(f);
	assert_int_equal(bochs_wait_vblank(&f->b, &a), -ENODATA);
	m.refresh_hz = 1000; /* keep the test short */
	assert_int_equal(bochs_set_mode(&f->b, &m, NULL, 0), 0);
	assert_int_equal(bochs_wait_vblank(&f->b, &a), 0);
	assert_int_equal(bochs_wait_vblank(&f->b, &b), 0);
	assert_true(a >= 1);
	assert_true(b > a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_init, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_init_no_edid, setup_no_edid, teardown),
	    cmocka_unit_test_setup_teardown(test_init_not_dispi, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mode_check, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_set_mode, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_invalid_mode_keeps_current, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_readback_fails_restores, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_present_flips, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_gone, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_adopt_mode, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_adopt_refuses_foreign, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_modes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_vblank_sequence, setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
