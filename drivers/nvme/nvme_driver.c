// SPDX-License-Identifier: MIT
/* The NVMe driver as a vdf_driver: life cycle and interrupt routing. */
#include <errno.h>
#include <stdlib.h>

#include "nvme.h"
#include "nvme_driver.h"
#include "vdf/irq.h"
#include "vdf/log.h"

#define TIMEOUT_CHECK_MS 1000

struct nvme_drv {
	struct nvme_ctrlr ctrlr;
	struct vdf_timer *timer;
};

static struct nvme_drv *to_drv(struct vdf_driver_ctx *ctx)
{
	return ctx->priv;
}

static int nvme_drv_init(struct vdf_driver_ctx *ctx)
{
	ctx->priv = calloc(1, sizeof(struct nvme_drv));
	return ctx->priv ? 0 : -ENOMEM;
}

static int nvme_drv_probe(struct vdf_driver_ctx *ctx, const struct vdf_pci_id *id)
{
	struct vdf_region_info bar0;
	int rc;

	(void)id;
	rc = vdf_bar_info(ctx->dev, 0, &bar0);
	if (rc)
		return rc;
	/* Registers plus at least the admin doorbells. */
	if (!(bar0.flags & VDF_REGION_MMAP) || bar0.size < NVME_REG_DBS + 8) {
		vdf_log(LOG_ERR, "nvme", vdf_dev_name(ctx->dev),
			"BAR0 is not an NVMe register BAR");
		return -ENODEV;
	}
	return 0;
}

static void timeout_tick(struct vdf_timer *t, void *arg)
{
	(void)t;
	nvme_ctrlr_check_timeouts(arg);
}

static int nvme_drv_attach(struct vdf_driver_ctx *ctx)
{
	struct nvme_drv *d = to_drv(ctx);
	struct nvme_opts defaults;
	const struct nvme_opts *opts = ctx->config;
	int rc;

	if (!opts) {
		nvme_opts_default(&defaults);
		opts = &defaults;
	}
	rc = nvme_ctrlr_init(&d->ctrlr, ctx->dev, opts);
	if (rc)
		goto out_fini;
	for (unsigned i = 0; i < d->ctrlr.nns; i++)
		d->ctrlr.ns[i].bdev.loop = ctx->loop;
	if (ctx->loop) {
		rc = vdf_timer_start(ctx->loop, TIMEOUT_CHECK_MS, TIMEOUT_CHECK_MS, timeout_tick,
				     &d->ctrlr, &d->timer);
		if (rc)
			goto out_fini;
	}
	return 0;

out_fini:
	nvme_ctrlr_fini(&d->ctrlr);
	return rc;
}

static int nvme_drv_handle_interrupt(struct vdf_driver_ctx *ctx, enum vdf_irq_kind kind,
				     unsigned vector)
{
	struct nvme_ctrlr *c = &to_drv(ctx)->ctrlr;

	if (kind == VDF_IRQ_INTX) {
		/* One shared line: reap everything, then let it fire again. */
		nvme_ctrlr_process_all(c);
		return vdf_irq_unmask(ctx->dev, VDF_IRQ_INTX, 0);
	}
	if (kind != VDF_IRQ_MSIX)
		return -EINVAL;
	if (vector == 0)
		nvme_qpair_process_completions(&c->admin, 0);
	for (unsigned i = 0; i < c->nioq; i++)
		if (c->ioq[i].vector == vector)
			nvme_qpair_process_completions(&c->ioq[i], 0);
	return 0;
}

static void nvme_drv_detach(struct vdf_driver_ctx *ctx)
{
	struct nvme_drv *d = to_drv(ctx);

	vdf_timer_stop(d->timer);
	d->timer = NULL;
	nvme_ctrlr_fini(&d->ctrlr);
}

static void nvme_drv_shutdown(struct vdf_driver_ctx *ctx)
{
	free(ctx->priv);
	ctx->priv = NULL;
}

static const struct vdf_driver_ops nvme_drv_ops = {
    .init = nvme_drv_init,
    .probe = nvme_drv_probe,
    .attach = nvme_drv_attach,
    .handle_interrupt = nvme_drv_handle_interrupt,
    .detach = nvme_drv_detach,
    .shutdown = nvme_drv_shutdown,
};

/* Any NVM Express controller: class 01 (mass storage), 08 (NVM), 02 (NVMe). */
static const struct vdf_match_id nvme_ids[] = {
    {VDF_ANY_ID, VDF_ANY_ID, 0x010802, 0xffffff},
};

const struct vdf_driver nvme_driver = {
    .name = "nvme",
    .version = "0.1.0",
    .device_class = VDF_CLASS_BLOCK,
    .ids = nvme_ids,
    .nids = VDF_ARRAY_SIZE(nvme_ids),
    .caps_required = VDF_CAP_MMIO | VDF_CAP_DMA | VDF_CAP_IRQ_MSIX | VDF_CAP_IRQ_INTX,
    .ops = &nvme_drv_ops,
};

struct nvme_ctrlr *nvme_driver_ctrlr(struct vdf_driver_ctx *ctx)
{
	return &to_drv(ctx)->ctrlr;
}
