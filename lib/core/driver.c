// SPDX-License-Identifier: MIT
/* Driver runtime: the life cycle of a driver bound to one device. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vdf/driver.h"
#include "vdf/irq.h"
#include "vdf/log.h"

const char *vdf_device_class_name(enum vdf_device_class c)
{
	static const char *const names[] = {"block", "net", "display", "usb-host", "input", "char"};
	return (unsigned)c < VDF_ARRAY_SIZE(names) ? names[c] : "?";
}

int vdf_match_pci(const struct vdf_match_id *m, const struct vdf_pci_id *id)
{
	uint32_t cls = (uint32_t)id->class_code << 16 | (uint32_t)id->subclass << 8 | id->prog_if;

	if (m->vendor != VDF_ANY_ID && m->vendor != id->vendor)
		return 0;
	if (m->device != VDF_ANY_ID && m->device != id->device)
		return 0;
	return (cls & m->class_mask) == (m->class_code & m->class_mask);
}

struct vdf_irq_route {
	struct vdf_driver_ctx *ctx;
	enum vdf_irq_kind kind;
	unsigned vector;
	int fd; /* the eventfd registered in the loop */
};

static void irq_fired(int fd, uint32_t events, void *arg)
{
	struct vdf_irq_route *r = arg;
	struct vdf_driver_ctx *ctx = r->ctx;
	/* The handler may re-route (freeing r): use copies afterwards. */
	enum vdf_irq_kind kind = r->kind;
	unsigned vector = r->vector;
	int rc;

	(void)fd;
	(void)events;
	if (!vdf_irq_ack(ctx->dev, kind, vector))
		return;
	ctx->irq_events++;
	rc = ctx->drv->ops->handle_interrupt(ctx, kind, vector);
	if (rc)
		VDF_LOG_RL(LOG_WARNING, ctx->drv->name, vdf_dev_name(ctx->dev),
			   "%s vector %u handler: %s", vdf_irq_kind_name(kind), vector,
			   strerror(-rc));
}

static void unroute_irqs(struct vdf_driver_ctx *ctx)
{
	for (unsigned i = 0; i < ctx->nroutes; i++) {
		(void)vdf_event_del_fd(ctx->loop, ctx->routes[i].fd);
	}
	free(ctx->routes);
	ctx->routes = NULL;
	ctx->nroutes = 0;
}

int vdf_driver_route_irqs(struct vdf_driver_ctx *ctx)
{
	unsigned total = 0;

	unroute_irqs(ctx);
	if (!ctx->drv->ops->handle_interrupt)
		return 0;
	for (int k = 0; k < VDF_IRQ_KIND_COUNT; k++)
		total += vdf_irq_enabled_count(ctx->dev, (enum vdf_irq_kind)k);
	if (!total)
		return 0;
	ctx->routes = calloc(total, sizeof(*ctx->routes));
	if (!ctx->routes)
		return -ENOMEM;
	for (int k = 0; k < VDF_IRQ_KIND_COUNT; k++) {
		unsigned n = vdf_irq_enabled_count(ctx->dev, (enum vdf_irq_kind)k);

		for (unsigned v = 0; v < n; v++) {
			struct vdf_irq_route *r = &ctx->routes[ctx->nroutes];
			int rc;

			r->ctx = ctx;
			r->kind = (enum vdf_irq_kind)k;
			r->vector = v;
			r->fd = vdf_irq_eventfd(ctx->dev, r->kind, v);
			rc = vdf_event_add_fd(ctx->loop, r->fd, 0, irq_fired, r);
			if (rc) {
				unroute_irqs(ctx);
				return rc;
			}
			ctx->nroutes++;
		}
	}
	return 0;
}

int vdf_driver_bind(const struct vdf_driver *drv, struct vdf_dev *dev, struct vdf_event_loop *loop,
		    const void *config, struct vdf_driver_ctx *ctx)
{
	const struct vdf_driver_ops *ops = drv->ops;
	struct vdf_pci_id id;
	int rc, matched = 0;

	memset(ctx, 0, sizeof(*ctx));
	ctx->drv = drv;
	ctx->dev = dev;
	ctx->loop = loop;
	ctx->config = config;
	rc = vdf_dev_pci_id(dev, &id);
	if (rc)
		goto out_unbound;
	for (unsigned i = 0; i < drv->nids && !matched; i++)
		matched = vdf_match_pci(&drv->ids[i], &id);
	if (!matched) {
		vdf_log(LOG_ERR, drv->name, vdf_dev_name(dev),
			"device %04x:%04x class %02x%02x%02x is not handled by this driver",
			id.vendor, id.device, id.class_code, id.subclass, id.prog_if);
		rc = -ENODEV;
		goto out_unbound;
	}
	if (ops->init) {
		rc = ops->init(ctx);
		if (rc)
			goto out_unbound;
	}
	if (ops->probe) {
		rc = ops->probe(ctx, &id);
		if (rc)
			goto out_shutdown;
	}
	rc = ops->attach(ctx);
	if (rc)
		goto out_shutdown;
	ctx->attached = 1;
	rc = vdf_driver_route_irqs(ctx);
	if (rc)
		goto out_detach;
	if (ops->start) {
		rc = ops->start(ctx);
		if (rc)
			goto out_unroute;
	}
	return 0;

out_unroute:
	unroute_irqs(ctx);
out_detach:
	ops->detach(ctx);
	ctx->attached = 0;
out_shutdown:
	if (ops->shutdown)
		ops->shutdown(ctx);
out_unbound:
	ctx->drv = NULL; /* so vdf_driver_unbind does nothing */
	return rc;
}

void vdf_driver_unbind(struct vdf_driver_ctx *ctx)
{
	if (!ctx->drv)
		return;
	unroute_irqs(ctx);
	if (ctx->attached)
		ctx->drv->ops->detach(ctx);
	ctx->attached = 0;
	if (ctx->drv->ops->shutdown)
		ctx->drv->ops->shutdown(ctx);
	ctx->drv = NULL;
}
