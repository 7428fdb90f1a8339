// SPDX-License-Identifier: MIT
/* bochs-display: bring-up, mode set, page flip and vblank pacing. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bochs.h"
#include "vdf/event.h"
#include "vdf/log.h"

static uint16_t dispi_rd(struct bochs_dev *b, unsigned index)
{
	return vdf_mmio_read16(&b->regs, BOCHS_DISPI_REG(index));
}

static void dispi_wr(struct bochs_dev *b, unsigned index, uint16_t val)
{
	vdf_mmio_write16(&b->regs, BOCHS_DISPI_REG(index), val);
}

/* The ID register never reads all ones on a live device. */
static int check_alive(struct bochs_dev *b)
{
	if (b->gone)
		return -ENODEV;
	if (dispi_rd(b, DISPI_INDEX_ID) == 0xffffu) {
		b->gone = true;
		vdf_log(LOG_ERR, "bochs", b->name, "DISPI ID reads all ones: device gone");
		return -ENODEV;
	}
	return 0;
}

static void read_edid(struct bochs_dev *b)
{
	size_t len = 128;
	int rc;

	for (size_t i = 0; i < BOCHS_EDID_MAX; i++)
		b->edid_raw[i] = vdf_mmio_read8(&b->regs, BOCHS_MMIO_EDID + i);
	rc = vdf_edid_parse(b->edid_raw, BOCHS_EDID_MAX, &b->edid);
	if (rc) {
		vdf_log(LOG_INFO, "bochs", b->name, "no usable EDID: %s", vdf_edid_strerror(rc));
		return;
	}
	if (b->edid.extensions)
		len = 256;
	b->has_edid = true;
	vdf_log(LOG_INFO, "bochs", b->name, "EDID %u.%u (%zu bytes): %s \"%s\", %ux%u mm, %u modes",
		b->edid.version, b->edid.revision, len, b->edid.vendor, b->edid.name,
		b->edid.width_mm, b->edid.height_mm, b->edid.nmodes);
}

static uint32_t refresh_for(const struct bochs_dev *b, uint32_t w, uint32_t h)
{
	if (b->has_edid)
		for (unsigned i = 0; i < b->edid.nmodes; i++)
			if (b->edid.modes[i].width == w && b->edid.modes[i].height == h &&
			    b->edid.modes[i].refresh_hz)
				return b->edid.modes[i].refresh_hz;
	return BOCHS_REFRESH_HZ;
}

static void set_timing(struct bochs_dev *b)
{
	b->period_ns = 1000000000ull / b->mode.refresh_hz;
	b->epoch_ns = vdf_now_ns();
	b->vblanks = 0;
}

/* A mode the device shows already (set by an earlier instance of the driver). */
static void adopt_mode(struct bochs_dev *b)
{
	struct vdf_display_mode m = {0};
	uint16_t en = dispi_rd(b, DISPI_INDEX_ENABLE);
	uint32_t vw, vh, yoff;

	if (!(en & DISPI_ENABLED))
		return;
	m.width = dispi_rd(b, DISPI_INDEX_XRES);
	m.height = dispi_rd(b, DISPI_INDEX_YRES);
	m.format = vdf_pixel_from_bpp(dispi_rd(b, DISPI_INDEX_BPP));
	vw = dispi_rd(b, DISPI_INDEX_VIRT_WIDTH);
	vh = dispi_rd(b, DISPI_INDEX_VIRT_HEIGHT);
	yoff = dispi_rd(b, DISPI_INDEX_Y_OFFSET);
	m.refresh_hz = refresh_for(b, m.width, m.height);
	if (bochs_mode_check(b, &m, NULL, 0) || vw != m.width || vh < m.height ||
	    dispi_rd(b, DISPI_INDEX_X_OFFSET) != 0)
		return; /* not one of ours: set_mode will replace it */
	b->mode = m;
	b->stride = m.width * vdf_pixel_bytes(m.format);
	b->pages = vh / m.height >= BOCHS_PAGES_MAX &&
			   (uint64_t)b->stride * m.height * BOCHS_PAGES_MAX <= b->vram_size
		       ? BOCHS_PAGES_MAX
		       : 1;
	b->front = yoff == m.height && b->pages > 1 ? 1 : 0;
	set_timing(b);
	vdf_log(LOG_INFO, "bochs", b->name, "kept the mode on screen: %ux%u %s, page %u of %u",
		m.width, m.height, vdf_pixel_name(m.format), b->front, b->pages);
}

int bochs_init(struct bochs_dev *b, struct vdf_dev *dev)
{
	uint16_t mem64k;
	int rc;

	memset(b, 0, sizeof(*b));
	b->dev = dev;
	snprintf(b->name, sizeof(b->name), "%s", vdf_dev_name(dev));
	rc = vdf_bar_map(dev, BOCHS_BAR_MMIO, &b->regs);
	if (rc) {
		vdf_log(LOG_ERR, "bochs", b->name, "MMIO BAR%u: %s", BOCHS_BAR_MMIO, strerror(-rc));
		return rc;
	}
	if (b->regs.len < BOCHS_MMIO_SIZE) {
		vdf_log(LOG_ERR, "bochs", b->name, "MMIO BAR is %llu bytes, want %u",
			(unsigned long long)b->regs.len, BOCHS_MMIO_SIZE);
		return -ENODEV;
	}
	rc = vdf_bar_map(dev, BOCHS_BAR_VRAM, &b->vram);
	if (rc) {
		vdf_log(LOG_ERR, "bochs", b->name, "VRAM BAR%u: %s", BOCHS_BAR_VRAM, strerror(-rc));
		return rc;
	}
	b->dispi_id = dispi_rd(b, DISPI_INDEX_ID);
	if (b->dispi_id == 0xffffu) {
		vdf_log(LOG_ERR, "bochs", b->name, "DISPI ID reads all ones: device gone");
		return -ENODEV;
	}
	if ((b->dispi_id & DISPI_ID_MASK) != DISPI_ID0 || b->dispi_id < DISPI_ID4) {
		vdf_log(LOG_ERR, "bochs", b->name, "DISPI ID 0x%04x: not a DISPI 4/5 interface",
			b->dispi_id);
		return -ENODEV;
	}
	mem64k = dispi_rd(b, DISPI_INDEX_VIDEO_MEM_64K);
	b->vram_size = b->vram.len;
	if (mem64k && (uint64_t)mem64k * 65536u < b->vram_size)
		b->vram_size = (uint64_t)mem64k * 65536u;
	if (b->vram_size < (uint64_t)BOCHS_MIN_RES * BOCHS_MIN_RES * 2) {
		vdf_log(LOG_ERR, "bochs", b->name, "VRAM of %llu bytes is too small",
			(unsigned long long)b->vram_size);
		return -ENODEV;
	}
	/* QEMU extended registers: pixels in the CPU's (little-endian) order. */
	if (vdf_mmio_read32(&b->regs, BOCHS_MMIO_QEXT + QEXT_REG_SIZE) >= QEXT_REG_BYTEORDER + 4) {
		vdf_mmio_write32(&b->regs, BOCHS_MMIO_QEXT + QEXT_REG_BYTEORDER,
				 QEXT_LITTLE_ENDIAN);
		b->has_qext = vdf_mmio_read32(&b->regs, BOCHS_MMIO_QEXT + QEXT_REG_BYTEORDER) ==
			      QEXT_LITTLE_ENDIAN;
		if (!b->has_qext)
			vdf_log(LOG_WARNING, "bochs", b->name,
				"framebuffer byte order register did not take little-endian");
	}
	read_edid(b);
	adopt_mode(b);
	vdf_log(LOG_INFO, "bochs", b->name, "DISPI 0x%04x, %llu KiB VRAM", b->dispi_id,
		(unsigned long long)(b->vram_size >> 10));
	return 0;
}

void bochs_fini(struct bochs_dev *b)
{
	/* The mode and the picture stay on screen for whoever comes next. */
	(void)b;
}

int bochs_set_mode(struct bochs_dev *b, const struct vdf_display_mode *req, char *why,
		   size_t whylen)
{
	struct vdf_display_mode m = *req;
	uint32_t stride;
	unsigned pages;
	int rc;

	rc = check_alive(b);
	if (rc) {
		if (why)
			snprintf(why, whylen, "device gone");
		return rc;
	}
	if (!m.refresh_hz)
		m.refresh_hz = refresh_for(b, m.width, m.height);
	rc = bochs_mode_check(b, &m, why, whylen);
	if (rc)
		return rc;
	stride = m.width * vdf_pixel_bytes(m.format);
	pages = (uint64_t)stride * m.height * BOCHS_PAGES_MAX <= b->vram_size ? BOCHS_PAGES_MAX : 1;

	/* DISPI: disable, program, enable with the linear framebuffer (the bank
	 * window is VGA's, unused here). NOCLEARMEM: we clear our pages below. */
	dispi_wr(b, DISPI_INDEX_ENABLE, 0);
	dispi_wr(b, DISPI_INDEX_XRES, (uint16_t)m.width);
	dispi_wr(b, DISPI_INDEX_YRES, (uint16_t)m.height);
	dispi_wr(b, DISPI_INDEX_BPP, (uint16_t)vdf_pixel_bpp(m.format));
	dispi_wr(b, DISPI_INDEX_BANK, 0);
	dispi_wr(b, DISPI_INDEX_VIRT_WIDTH, (uint16_t)m.width);
	dispi_wr(b, DISPI_INDEX_VIRT_HEIGHT, (uint16_t)(m.height * pages));
	dispi_wr(b, DISPI_INDEX_X_OFFSET, 0);
	dispi_wr(b, DISPI_INDEX_Y_OFFSET, 0);
	memset((void *)b->vram.base, 0, (size_t)stride * m.height * pages);
	dispi_wr(b, DISPI_INDEX_ENABLE, DISPI_ENABLED | DISPI_LFB_ENABLED | DISPI_NOCLEARMEM);

	if (dispi_rd(b, DISPI_INDEX_XRES) != m.width || dispi_rd(b, DISPI_INDEX_YRES) != m.height ||
	    dispi_rd(b, DISPI_INDEX_BPP) != vdf_pixel_bpp(m.format) ||
	    dispi_rd(b, DISPI_INDEX_VIRT_HEIGHT) != m.height * pages ||
	    !(dispi_rd(b, DISPI_INDEX_ENABLE) & DISPI_ENABLED)) {
		if (why)
			snprintf(why, whylen,
				 "the device did not take the mode (read-back differs)");
		vdf_log(LOG_ERR, "bochs", b->name, "mode %ux%u %s: read-back differs", m.width,
			m.height, vdf_pixel_name(m.format));
		/* back to what was shown, if anything */
		if (b->mode.width) {
			struct vdf_display_mode old = b->mode;

			b->mode.width = 0;
			if (bochs_set_mode(b, &old, NULL, 0))
				vdf_log(LOG_ERR, "bochs", b->name,
					"could not restore the previous mode either");
		}
		return check_alive(b) ? -ENODEV : -EIO;
	}
	b->mode = m;
	b->stride = stride;
	b->pages = pages;
	b->front = 0;
	b->mode_sets++;
	set_timing(b);
	vdf_log(LOG_INFO, "bochs", b->name, "mode %ux%u %s @%u Hz, %u page(s)", m.width, m.height,
		vdf_pixel_name(m.format), m.refresh_hz, pages);
	return 0;
}

void *bochs_page(struct bochs_dev *b, unsigned page)
{
	if (!b->mode.width || page >= b->pages)
		return NULL;
	return (uint8_t *)b->vram.base + (size_t)page * b->stride * b->mode.height;
}

unsigned bochs_back(const struct bochs_dev *b)
{
	return b->pages > 1 ? 1u - b->front : b->front;
}

int bochs_present(struct bochs_dev *b)
{
	unsigned back = bochs_back(b);
	int rc;

	if (!b->mode.width)
		return -ENODATA;
	rc = check_alive(b);
	if (rc)
		return rc;
	vdf_wmb(); /* the page's pixels before the flip */
	dispi_wr(b, DISPI_INDEX_Y_OFFSET, (uint16_t)(back * b->mode.height));
	b->front = back;
	b->presents++;
	return 0;
}

int bochs_wait_vblank(struct bochs_dev *b, uint64_t *seq)
{
	uint64_t now, n, target;
	struct timespec ts;

	if (!b->mode.width)
		return -ENODATA;
	now = vdf_now_ns();
	n = (now - b->epoch_ns) / b->period_ns + 1;
	target = b->epoch_ns + n * b->period_ns;
	ts.tv_sec = (time_t)(target / 1000000000ull);
	ts.tv_nsec = (long)(target % 1000000000ull);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
	b->vblanks = n;
	if (seq)
		*seq = n;
	return 0;
}
