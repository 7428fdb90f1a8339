// SPDX-License-Identifier: MIT
/* Mock backend; see vdf/mock.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dev_internal.h"
#include "vdf/hw/pci.h"
#include "vdf/irq.h"
#include "vdf/mock.h"

#define MOCK_MAX_HOOKS	64
#define MOCK_MAX_FAULTS 16
#define MOCK_MAX_MAPS	4096

struct mock_hook {
	unsigned bar;
	uint64_t off, len;
	vdf_mock_read_fn rd;
	vdf_mock_write_fn wr;
	void *ctx;
};

struct mock_map {
	uintptr_t start;
	size_t len;
};

struct mock_bar {
	struct vdf_mock *mock;
	unsigned idx;
	uint8_t *mem;
};

struct vdf_mock {
	struct vdf_dev dev;
	struct vdf_mock_config cfg;
	uint8_t cfg_space[PCI_CFG_SPACE_EXP_SIZE];
	struct mock_bar bars[PCI_NUM_BARS];
	struct mock_hook hooks[MOCK_MAX_HOOKS];
	unsigned nhooks;
	struct vdf_mock_fault faults[MOCK_MAX_FAULTS];
	unsigned nfaults;
	struct mock_map maps[MOCK_MAX_MAPS];
	unsigned nmaps;
	uint8_t *masked[VDF_IRQ_KIND_COUNT];
	uint8_t *pending[VDF_IRQ_KIND_COUNT];
	vdf_mock_reset_fn reset_fn;
	void *reset_ctx;
	struct vdf_mock_stats stats;
};

static struct vdf_mock *to_mock(struct vdf_dev *dev)
{
	return dev->backend;
}

static struct vdf_mock_fault *find_fault(struct vdf_mock *m, enum vdf_mock_fault_kind kind)
{
	for (unsigned i = 0; i < m->nfaults; i++)
		if (m->faults[i].kind == kind)
			return &m->faults[i];
	return NULL;
}

/* Use up one failure of a counted fault kind (DMA_MAP, DMA_ACCESS). Every
 * injection counts, also one made after an earlier one of its kind ran out. */
static int take_counted(struct vdf_mock *m, enum vdf_mock_fault_kind kind)
{
	for (unsigned i = 0; i < m->nfaults; i++) {
		struct vdf_mock_fault *f = &m->faults[i];

		if (f->kind == kind && f->count) {
			f->count--;
			return 1;
		}
	}
	return 0;
}

static struct vdf_mock_fault *find_stuck(struct vdf_mock *m, unsigned bar, uint64_t off)
{
	for (unsigned i = 0; i < m->nfaults; i++) {
		struct vdf_mock_fault *f = &m->faults[i];

		if (f->kind == VDF_MOCK_FAULT_REG_STUCK && f->bar == bar && f->off == off)
			return f;
	}
	return NULL;
}

static struct mock_hook *find_hook(struct vdf_mock *m, unsigned bar, uint64_t off, int write)
{
	for (unsigned i = m->nhooks; i-- > 0;) {
		struct mock_hook *h = &m->hooks[i];

		if (h->bar == bar && off >= h->off && off - h->off < h->len &&
		    (write ? h->wr != NULL : h->rd != NULL))
			return h;
	}
	return NULL;
}

static uint64_t mem_load(const uint8_t *p, unsigned len)
{
	uint64_t v = 0;

	memcpy(&v, p, len);
	return v;
}

static uint64_t mock_mmio_read(struct vdf_mmio *mmio, uint64_t off, unsigned len)
{
	struct mock_bar *b = mmio->hook_ctx;
	struct vdf_mock *m = b->mock;
	struct vdf_mock_fault *f;
	struct mock_hook *h;

	m->stats.mmio_reads++;
	if (find_fault(m, VDF_MOCK_FAULT_ALL_ONES))
		return ~0ull;
	f = find_stuck(m, b->idx, off);
	if (f)
		return f->value;
	h = find_hook(m, b->idx, off, 0);
	if (h)
		return h->rd(m, b->idx, off, len, h->ctx);
	return mem_load(b->mem + off, len);
}

static void mock_mmio_write(struct vdf_mmio *mmio, uint64_t off, unsigned len, uint64_t val)
{
	struct mock_bar *b = mmio->hook_ctx;
	struct vdf_mock *m = b->mock;
	struct mock_hook *h;

	m->stats.mmio_writes++;
	if (find_fault(m, VDF_MOCK_FAULT_ALL_ONES) || find_stuck(m, b->idx, off))
		return;
	h = find_hook(m, b->idx, off, 1);
	if (h) {
		h->wr(m, b->idx, off, len, val, h->ctx);
		return;
	}
	memcpy(b->mem + off, &val, len);
}

static const struct vdf_mmio_hooks mock_mmio_hooks = {
    .read = mock_mmio_read,
    .write = mock_mmio_write,
};

static int mock_cfg_read(struct vdf_dev *dev, uint32_t off, void *buf, size_t len)
{
	struct vdf_mock *m = to_mock(dev);

	if (off > sizeof(m->cfg_space) || len > sizeof(m->cfg_space) - off)
		return -ERANGE;
	if (find_fault(m, VDF_MOCK_FAULT_ALL_ONES))
		memset(buf, 0xff, len);
	else
		memcpy(buf, m->cfg_space + off, len);
	return 0;
}

static int mock_cfg_write(struct vdf_dev *dev, uint32_t off, const void *buf, size_t len)
{
	struct vdf_mock *m = to_mock(dev);

	if (off > sizeof(m->cfg_space) || len > sizeof(m->cfg_space) - off)
		return -ERANGE;
	if (!find_fault(m, VDF_MOCK_FAULT_ALL_ONES))
		memcpy(m->cfg_space + off, buf, len);
	return 0;
}

static int mock_bar_info(struct vdf_dev *dev, unsigned bar, struct vdf_region_info *info)
{
	struct vdf_mock *m = to_mock(dev);

	info->size = m->cfg.bar_size[bar];
	info->flags = 0;
	if (info->size)
		info->flags = VDF_REGION_READ | VDF_REGION_WRITE |
			      (m->cfg.bar_is_io[bar] ? VDF_REGION_IO : VDF_REGION_MMAP);
	return 0;
}

static int mock_bar_map(struct vdf_dev *dev, unsigned bar, struct vdf_mmio *mmio)
{
	struct vdf_mock *m = to_mock(dev);

	if (!m->cfg.bar_size[bar])
		return -ENOENT;
	if (m->cfg.bar_is_io[bar])
		return -ENOTSUP;
	memset(mmio, 0, sizeof(*mmio));
	mmio->base = m->bars[bar].mem;
	mmio->len = m->cfg.bar_size[bar];
	mmio->hooks = &mock_mmio_hooks;
	mmio->hook_ctx = &m->bars[bar];
	mmio->name = dev->name;
	return 0;
}

static int mock_bar_rw(struct vdf_dev *dev, unsigned bar, uint64_t off, void *buf, size_t len,
		       int write)
{
	struct vdf_mock *m = to_mock(dev);
	struct vdf_mmio mmio;
	uint64_t v = 0;

	if (!m->cfg.bar_size[bar])
		return -ENOENT;
	if (off > m->cfg.bar_size[bar] || len > m->cfg.bar_size[bar] - off)
		return -ERANGE;
	mmio.hook_ctx = &m->bars[bar];
	if (write) {
		memcpy(&v, buf, len);
		mock_mmio_write(&mmio, off, (unsigned)len, v);
	} else {
		v = mock_mmio_read(&mmio, off, (unsigned)len);
		memcpy(buf, &v, len);
	}
	return 0;
}

static int mock_dma_map(struct vdf_dev *dev, void *va, size_t size, vdf_iova_t *iova)
{
	struct vdf_mock *m = to_mock(dev);

	if (take_counted(m, VDF_MOCK_FAULT_DMA_MAP))
		return -EFAULT;
	if (m->nmaps == MOCK_MAX_MAPS)
		return -ENOSPC;
	m->maps[m->nmaps].start = (uintptr_t)va;
	m->maps[m->nmaps].len = size;
	m->nmaps++;
	*iova = (uintptr_t)va;
	return 0;
}

static int mock_dma_unmap(struct vdf_dev *dev, vdf_iova_t iova, size_t size)
{
	struct vdf_mock *m = to_mock(dev);

	for (unsigned i = 0; i < m->nmaps; i++) {
		if (m->maps[i].start == iova && m->maps[i].len == size) {
			m->maps[i] = m->maps[--m->nmaps];
			return 0;
		}
	}
	return -ENOENT;
}

void *vdf_mock_dma_ptr(struct vdf_mock *m, vdf_iova_t iova, uint64_t len)
{
	if (take_counted(m, VDF_MOCK_FAULT_DMA_ACCESS)) {
		m->stats.dma_faults++;
		return NULL;
	}
	for (unsigned i = 0; i < m->nmaps; i++) {
		struct mock_map *mp = &m->maps[i];

		if (iova >= mp->start && iova - mp->start <= mp->len &&
		    len <= mp->len - (iova - mp->start))
			return (void *)(uintptr_t)iova;
	}
	m->stats.dma_faults++;
	return NULL;
}

static int mock_irq_count(struct vdf_dev *dev, enum vdf_irq_kind kind, unsigned *count)
{
	*count = to_mock(dev)->cfg.irq_count[kind];
	return 0;
}

static int mock_irq_set(struct vdf_dev *dev, enum vdf_irq_kind kind, const int *fds, unsigned n)
{
	struct vdf_mock *m = to_mock(dev);

	(void)fds;
	free(m->masked[kind]);
	free(m->pending[kind]);
	m->masked[kind] = NULL;
	m->pending[kind] = NULL;
	if (!n)
		return 0;
	m->masked[kind] = calloc(n, 1);
	m->pending[kind] = calloc(n, 1);
	if (!m->masked[kind] || !m->pending[kind])
		return -ENOMEM;
	return 0;
}

static int signal_eventfd(struct vdf_mock *m, enum vdf_irq_kind kind, unsigned vector)
{
	uint64_t one = 1;
	int fd = vdf_irq_eventfd(&m->dev, kind, vector);

	if (fd < 0)
		return -EINVAL;
	m->stats.irqs_raised++;
	return write(fd, &one, sizeof(one)) == sizeof(one) ? 0 : -errno;
}

static int mock_irq_mask(struct vdf_dev *dev, enum vdf_irq_kind kind, unsigned vector, int mask)
{
	struct vdf_mock *m = to_mock(dev);

	m->masked[kind][vector] = (uint8_t)mask;
	if (!mask && m->pending[kind][vector]) {
		m->pending[kind][vector] = 0;
		return signal_eventfd(m, kind, vector);
	}
	return 0;
}

int vdf_mock_raise_irq(struct vdf_mock *m, enum vdf_irq_kind kind, unsigned vector)
{
	if ((unsigned)kind >= VDF_IRQ_KIND_COUNT || vector >= vdf_irq_enabled_count(&m->dev, kind))
		return -EINVAL;
	if (m->masked[kind][vector]) {
		m->pending[kind][vector] = 1;
		return 0;
	}
	return signal_eventfd(m, kind, vector);
}

static int mock_reset(struct vdf_dev *dev)
{
	struct vdf_mock *m = to_mock(dev);

	if (!m->cfg.has_reset)
		return -ENOTSUP;
	m->stats.resets++;
	for (unsigned i = 0; i < PCI_NUM_BARS; i++)
		if (m->bars[i].mem)
			memset(m->bars[i].mem, 0, m->cfg.bar_size[i]);
	if (m->reset_fn)
		m->reset_fn(m, m->reset_ctx);
	return 0;
}

static void mock_close(struct vdf_dev *dev)
{
	struct vdf_mock *m = to_mock(dev);

	for (unsigned i = 0; i < PCI_NUM_BARS; i++)
		free(m->bars[i].mem);
	for (unsigned k = 0; k < VDF_IRQ_KIND_COUNT; k++) {
		free(m->masked[k]);
		free(m->pending[k]);
	}
	free(m);
}

static const struct vdf_dev_ops mock_ops = {
    .cfg_read = mock_cfg_read,
    .cfg_write = mock_cfg_write,
    .bar_info = mock_bar_info,
    .bar_map = mock_bar_map,
    .bar_rw = mock_bar_rw,
    .dma_map = mock_dma_map,
    .dma_unmap = mock_dma_unmap,
    .irq_count = mock_irq_count,
    .irq_set = mock_irq_set,
    .irq_mask = mock_irq_mask,
    .reset = mock_reset,
    .close = mock_close,
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

int vdf_mock_create(const struct vdf_mock_config *cfg, struct vdf_mock **out)
{
	struct vdf_mock *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	vdf_dev_init_common(&m->dev, &mock_ops, "mock", m);
	m->cfg = *cfg;
	for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
		m->bars[i].mock = m;
		m->bars[i].idx = i;
		if (!cfg->bar_size[i])
			continue;
		m->bars[i].mem = calloc(1, cfg->bar_size[i]);
		if (!m->bars[i].mem) {
			mock_close(&m->dev);
			return -ENOMEM;
		}
	}
	put16(m->cfg_space + PCI_VENDOR_ID, cfg->id.vendor);
	put16(m->cfg_space + PCI_DEVICE_ID, cfg->id.device);
	put16(m->cfg_space + PCI_SUBSYSTEM_VENDOR_ID, cfg->id.subsys_vendor);
	put16(m->cfg_space + PCI_SUBSYSTEM_ID, cfg->id.subsys_device);
	m->cfg_space[PCI_REVISION_ID] = cfg->id.revision;
	m->cfg_space[PCI_CLASS_PROG] = cfg->id.prog_if;
	m->cfg_space[PCI_CLASS_DEVICE] = cfg->id.subclass;
	m->cfg_space[PCI_CLASS_DEVICE + 1] = cfg->id.class_code;
	*out = m;
	return 0;
}

struct vdf_dev *vdf_mock_dev(struct vdf_mock *m)
{
	return &m->dev;
}

uint8_t *vdf_mock_cfg(struct vdf_mock *m)
{
	return m->cfg_space;
}

void *vdf_mock_bar(struct vdf_mock *m, unsigned bar)
{
	return bar < PCI_NUM_BARS ? m->bars[bar].mem : NULL;
}

int vdf_mock_hook(struct vdf_mock *m, unsigned bar, uint64_t off, uint64_t len, vdf_mock_read_fn rd,
		  vdf_mock_write_fn wr, void *ctx)
{
	if (bar >= PCI_NUM_BARS || !m->cfg.bar_size[bar] || off > m->cfg.bar_size[bar] ||
	    len > m->cfg.bar_size[bar] - off)
		return -EINVAL;
	if (m->nhooks == MOCK_MAX_HOOKS)
		return -ENOSPC;
	m->hooks[m->nhooks++] = (struct mock_hook){bar, off, len, rd, wr, ctx};
	return 0;
}

void vdf_mock_on_reset(struct vdf_mock *m, vdf_mock_reset_fn fn, void *ctx)
{
	m->reset_fn = fn;
	m->reset_ctx = ctx;
}

int vdf_mock_inject(struct vdf_mock *m, const struct vdf_mock_fault *f)
{
	if (f->kind == VDF_MOCK_FAULT_IRQ_STORM) {
		for (unsigned i = 0; i < f->count; i++) {
			int rc = vdf_mock_raise_irq(m, f->irq_kind, f->vector);

			if (rc)
				return rc;
		}
		return 0;
	}
	if (m->nfaults == MOCK_MAX_FAULTS)
		return -ENOSPC;
	m->faults[m->nfaults++] = *f;
	return 0;
}

void vdf_mock_clear_faults(struct vdf_mock *m)
{
	m->nfaults = 0;
}

void vdf_mock_get_stats(struct vdf_mock *m, struct vdf_mock_stats *st)
{
	*st = m->stats;
}
