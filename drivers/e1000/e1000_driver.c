// SPDX-License-Identifier: MIT
/* The e1000 driver as a vdf_driver: life cycle, interrupts, a housekeeping timer. */
#include <errno.h>
#include <stdlib.h>

#include "e1000_driver.h"
#include "vdf/log.h"

/* Link, stuck transmitter, counters: often enough that a stuck ring is found
 * within tx_timeout_ms + this, and 32-bit counters never wrap between reads. */
#define HOUSEKEEPING_MS 100u
#define STATS_EVERY	10u /* ticks */

struct e1000_drv {
	struct e1000_dev e;
	struct vdf_timer *timer;
	unsigned ticks;
};

static struct e1000_drv *to_drv(struct vdf_driver_ctx *ctx)
{
	return ctx->priv;
}

static int e1000_drv_init(struct vdf_driver_ctx *ctx)
{
	ctx->priv = calloc(1, sizeof(struct e1000_drv));
	return ctx->priv ? 0 : -ENOMEM;
}

static int e1000_drv_probe(struct vdf_driver_ctx *ctx, const struct vdf_pci_id *id)
{
	(void)ctx;
	return e1000_model_find(id->device) ? 0 : -ENODEV;
}

static void housekeeping(struct vdf_timer *t, void *arg)
{
	struct e1000_drv *d = arg;

	(void)t;
	if (d->e.gone)
		return;
	if (e1000_poll(&d->e) == -ENODEV)
		return;
	if (++d->ticks % STATS_EVERY == 0)
		if (e1000_stats_update(&d->e))
			return;
}

static int e1000_drv_attach(struct vdf_driver_ctx *ctx)
{
	struct e1000_drv *d = to_drv(ctx);
	struct e1000_opts defaults;
	const struct e1000_opts *opts = ctx->config;
	int rc;

	if (!opts) {
		e1000_opts_default(&defaults);
		opts = &defaults;
	}
	rc = e1000_init(&d->e, ctx->dev, opts);
	if (rc)
		return rc;
	if (ctx->loop) {
		rc = vdf_timer_start(ctx->loop, HOUSEKEEPING_MS, HOUSEKEEPING_MS, housekeeping, d,
				     &d->timer);
		if (rc) {
			e1000_fini(&d->e);
			return rc;
		}
	}
	return 0;
}

static int e1000_drv_handle_interrupt(struct vdf_driver_ctx *ctx, enum vdf_irq_kind kind,
				      unsigned vector)
{
	struct e1000_drv *d = to_drv(ctx);

	if (kind != d->e.irq_kind)
		return -EINVAL;
	return e1000_handle_irq(&d->e, vector);
}

static void e1000_drv_detach(struct vdf_driver_ctx *ctx)
{
	struct e1000_drv *d = to_drv(ctx);

	vdf_timer_stop(d->timer);
	d->timer = NULL;
	e1000_fini(&d->e);
}

static void e1000_drv_shutdown(struct vdf_driver_ctx *ctx)
{
	free(ctx->priv);
	ctx->priv = NULL;
}

static const struct vdf_driver_ops e1000_drv_ops = {
    .init = e1000_drv_init,
    .probe = e1000_drv_probe,
    .attach = e1000_drv_attach,
    .handle_interrupt = e1000_drv_handle_interrupt,
    .detach = e1000_drv_detach,
    .shutdown = e1000_drv_shutdown,
};

static const struct vdf_match_id e1000_ids[] = {
    {E1000_VENDOR_INTEL, E1000_DEV_82540EM, 0, 0},
    {E1000_VENDOR_INTEL, E1000_DEV_82574L, 0, 0},
};

const struct vdf_driver e1000_driver = {
    .name = "e1000",
    .version = "0.1.0",
    .device_class = VDF_CLASS_NET,
    .ids = e1000_ids,
    .nids = VDF_ARRAY_SIZE(e1000_ids),
    .caps_required = VDF_CAP_MMIO | VDF_CAP_DMA | VDF_CAP_IRQ_INTX,
    .ops = &e1000_drv_ops,
};

struct e1000_dev *e1000_driver_dev(struct vdf_driver_ctx *ctx)
{
	return &to_drv(ctx)->e;
}
