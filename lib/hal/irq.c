// SPDX-License-Identifier: MIT
/* Interrupt vectors as eventfds, on top of the backend's irq_set/irq_mask. */
#include <errno.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "dev_internal.h"
#include "vdf/irq.h"
#include "vdf/log.h"

static int kind_ok(enum vdf_irq_kind kind)
{
	return (unsigned)kind < VDF_IRQ_KIND_COUNT;
}

int vdf_irq_count(struct vdf_dev *dev, enum vdf_irq_kind kind, unsigned *count)
{
	if (!kind_ok(kind))
		return -EINVAL;
	return dev->ops->irq_count(dev, kind, count);
}

static void irq_state_free(struct vdf_irq_state *st)
{
	for (unsigned i = 0; i < st->n; i++)
		if (st->fds[i] >= 0)
			close(st->fds[i]);
	free(st->fds);
	free(st->counts);
	st->fds = NULL;
	st->counts = NULL;
	st->n = 0;
}

int vdf_irq_disable(struct vdf_dev *dev, enum vdf_irq_kind kind)
{
	struct vdf_irq_state *st;
	int rc;

	if (!kind_ok(kind))
		return -EINVAL;
	st = &dev->irqs[kind];
	if (!st->n)
		return 0;
	rc = dev->ops->irq_set(dev, kind, NULL, 0);
	irq_state_free(st);
	return rc;
}

static int exclusive_kind(enum vdf_irq_kind kind)
{
	return kind == VDF_IRQ_INTX || kind == VDF_IRQ_MSI || kind == VDF_IRQ_MSIX;
}

int vdf_irq_enable(struct vdf_dev *dev, enum vdf_irq_kind kind, unsigned count)
{
	struct vdf_irq_state *st;
	unsigned avail;
	int rc;

	if (!kind_ok(kind) || count == 0 || count > VDF_IRQ_MAX_VECTORS)
		return -EINVAL;
	if (!(dev->rights.irq_kinds & BIT(kind)) || count > dev->rights.irq_max_vectors) {
		vdf_log(LOG_WARNING, "irq", dev->name,
			"enabling %u %s vector(s) refused: not granted", count,
			vdf_irq_kind_name(kind));
		return -EACCES;
	}
	rc = vdf_irq_count(dev, kind, &avail);
	if (rc)
		return rc;
	if (count > avail)
		return -ERANGE;
	if (exclusive_kind(kind)) {
		for (int k = VDF_IRQ_INTX; k <= VDF_IRQ_MSIX; k++) {
			rc = vdf_irq_disable(dev, (enum vdf_irq_kind)k);
			if (rc)
				return rc;
		}
	} else {
		rc = vdf_irq_disable(dev, kind);
		if (rc)
			return rc;
	}
	st = &dev->irqs[kind];
	st->fds = malloc(count * sizeof(int));
	st->counts = calloc(count, sizeof(uint64_t));
	if (!st->fds || !st->counts) {
		rc = -ENOMEM;
		goto out_free;
	}
	for (st->n = 0; st->n < count; st->n++) {
		st->fds[st->n] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (st->fds[st->n] < 0) {
			rc = -errno;
			goto out_free;
		}
	}
	rc = dev->ops->irq_set(dev, kind, st->fds, count);
	if (rc) {
		vdf_log(LOG_ERR, "irq", dev->name, "enabling %u %s vector(s): %d", count,
			vdf_irq_kind_name(kind), rc);
		goto out_free;
	}
	return 0;

out_free:
	irq_state_free(st);
	return rc;
}

void vdf_irq_release_all(struct vdf_dev *dev)
{
	for (int k = 0; k < VDF_IRQ_KIND_COUNT; k++)
		if (vdf_irq_disable(dev, (enum vdf_irq_kind)k))
			vdf_log(LOG_WARNING, "irq", dev->name, "disabling %s failed",
				vdf_irq_kind_name((enum vdf_irq_kind)k));
}

int vdf_irq_eventfd(struct vdf_dev *dev, enum vdf_irq_kind kind, unsigned vector)
{
	if (!kind_ok(kind) || vector >= dev->irqs[kind].n)
		return -1;
	return dev->irqs[kind].fds[vector];
}

unsigned vdf_irq_enabled_count(struct vdf_dev *dev, enum vdf_irq_kind kind)
{
	return kind_ok(kind) ? dev->irqs[kind].n : 0;
}

static int irq_mask(struct vdf_dev *dev, enum vdf_irq_kind kind, unsigned vector, int mask)
{
	if (!kind_ok(kind) || vector >= dev->irqs[kind].n)
		return -EINVAL;
	return dev->ops->irq_mask(dev, kind, vector, mask);
}

int vdf_irq_mask(struct vdf_dev *dev, enum vdf_irq_kind kind, unsigned vector)
{
	return irq_mask(dev, kind, vector, 1);
}

int vdf_irq_unmask(struct vdf_dev *dev, enum vdf_irq_kind kind, unsigned vector)
{
	return irq_mask(dev, kind, vector, 0);
}

uint64_t vdf_irq_ack(struct vdf_dev *dev, enum vdf_irq_kind kind, unsigned vector)
{
	uint64_t v = 0;

	if (!kind_ok(kind) || vector >= dev->irqs[kind].n)
		return 0;
	if (read(dev->irqs[kind].fds[vector], &v, sizeof(v)) != sizeof(v))
		return 0;
	dev->irqs[kind].counts[vector] += v;
	return v;
}

uint64_t vdf_irq_stat(struct vdf_dev *dev, enum vdf_irq_kind kind, unsigned vector)
{
	if (!kind_ok(kind) || vector >= dev->irqs[kind].n)
		return 0;
	return dev->irqs[kind].counts[vector];
}
