// SPDX-License-Identifier: MIT
/* The bochs-display model (mock_bochs.h). */
#include <errno.h>
#include <stdlib.h>

#include "mock_bochs.h"

struct mock_bochs {
	struct vdf_mock *mock;
	uint64_t vram;
	uint16_t dispi[DISPI_INDEX_COUNT];
	uint32_t byteorder;
};

static uint64_t dispi_read(struct vdf_mock *mk, unsigned bar, uint64_t off, unsigned len, void *ctx)
{
	struct mock_bochs *m = ctx;
	unsigned index = (unsigned)(off - BOCHS_MMIO_DISPI) / 2;

	(void)mk, (void)bar, (void)len;
	if (index == DISPI_INDEX_ID)
		return DISPI_ID5;
	if (index == DISPI_INDEX_VIDEO_MEM_64K)
		return m->vram / 65536u;
	return index < DISPI_INDEX_COUNT ? m->dispi[index] : 0xffffu;
}

static void dispi_write(struct vdf_mock *mk, unsigned bar, uint64_t off, unsigned len, uint64_t val,
			void *ctx)
{
	struct mock_bochs *m = ctx;
	unsigned index = (unsigned)(off - BOCHS_MMIO_DISPI) / 2;

	(void)mk, (void)bar, (void)len;
	if (index < DISPI_INDEX_COUNT)
		m->dispi[index] = (uint16_t)val;
}

static uint64_t qext_read(struct vdf_mock *mk, unsigned bar, uint64_t off, unsigned len, void *ctx)
{
	struct mock_bochs *m = ctx;

	(void)mk, (void)bar, (void)len;
	switch (off - BOCHS_MMIO_QEXT) {
	case QEXT_REG_SIZE:
		return 8;
	case QEXT_REG_BYTEORDER:
		return m->byteorder;
	default:
		return 0;
	}
}

static void qext_write(struct vdf_mock *mk, unsigned bar, uint64_t off, unsigned len, uint64_t val,
		       void *ctx)
{
	struct mock_bochs *m = ctx;

	(void)mk, (void)bar, (void)len;
	if (off - BOCHS_MMIO_QEXT == QEXT_REG_BYTEORDER &&
	    (val == QEXT_LITTLE_ENDIAN || val == QEXT_BIG_ENDIAN))
		m->byteorder = (uint32_t)val;
}

int mock_bochs_create(uint64_t vram, struct mock_bochs **out)
{
	struct vdf_mock_config cfg = {
	    .id = {.vendor = BOCHS_VENDOR_QEMU,
		   .device = BOCHS_DEV_DISPLAY,
		   .class_code = 0x03,
		   .subclass = 0x80},
	};
	struct mock_bochs *m = calloc(1, sizeof(*m));
	int rc;

	if (!m)
		return -ENOMEM;
	m->vram = vram;
	m->byteorder = QEXT_BIG_ENDIAN; /* so the driver has to set it */
	cfg.bar_size[BOCHS_BAR_VRAM] = vram;
	cfg.bar_size[BOCHS_BAR_MMIO] = BOCHS_MMIO_SIZE;
	rc = vdf_mock_create(&cfg, &m->mock);
	if (rc)
		goto fail;
	rc = vdf_mock_hook(m->mock, BOCHS_BAR_MMIO, BOCHS_MMIO_DISPI, 2u * DISPI_INDEX_COUNT,
			   dispi_read, dispi_write, m);
	if (!rc)
		rc = vdf_mock_hook(m->mock, BOCHS_BAR_MMIO, BOCHS_MMIO_QEXT, 8, qext_read,
				   qext_write, m);
	if (rc)
		goto fail;
	*out = m;
	return 0;
fail:
	mock_bochs_destroy(m);
	return rc;
}

void mock_bochs_destroy(struct mock_bochs *m)
{
	if (!m)
		return;
	if (m->mock)
		vdf_dev_close(vdf_mock_dev(m->mock));
	free(m);
}

struct vdf_dev *mock_bochs_dev(struct mock_bochs *m)
{
	return vdf_mock_dev(m->mock);
}

struct vdf_mock *mock_bochs_mock(struct mock_bochs *m)
{
	return m->mock;
}

uint16_t mock_bochs_dispi(struct mock_bochs *m, unsigned index)
{
	return index < DISPI_INDEX_COUNT ? m->dispi[index] : 0;
}

void mock_bochs_set_dispi(struct mock_bochs *m, unsigned index, uint16_t val)
{
	if (index < DISPI_INDEX_COUNT)
		m->dispi[index] = val;
}

uint32_t mock_bochs_byteorder(struct mock_bochs *m)
{
	return m->byteorder;
}

uint8_t *mock_bochs_edid(struct mock_bochs *m)
{
	return (uint8_t *)vdf_mock_bar(m->mock, BOCHS_BAR_MMIO) + BOCHS_MMIO_EDID;
}

uint8_t *mock_bochs_vram(struct mock_bochs *m)
{
	return vdf_mock_bar(m->mock, BOCHS_BAR_VRAM);
}
