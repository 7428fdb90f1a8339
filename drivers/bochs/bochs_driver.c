// SPDX-License-Identifier: MIT
/* The bochs-display driver as a vdf_driver: life cycle only (no interrupts). */
#include <errno.h>
#include <stdlib.h>

#include "bochs.h"
#include "vdf/driver.h"

static int bochs_drv_init(struct vdf_driver_ctx *ctx)
{
	ctx->priv = calloc(1, sizeof(struct bochs_dev));
	return ctx->priv ? 0 : -ENOMEM;
}

static int bochs_drv_attach(struct vdf_driver_ctx *ctx)
{
	return bochs_init(ctx->priv, ctx->dev);
}

static void bochs_drv_detach(struct vdf_driver_ctx *ctx)
{
	bochs_fini(ctx->priv);
}

static void bochs_drv_shutdown(struct vdf_driver_ctx *ctx)
{
	free(ctx->priv);
	ctx->priv = NULL;
}

static const struct vdf_driver_ops bochs_drv_ops = {
    .init = bochs_drv_init,
    .attach = bochs_drv_attach,
    .detach = bochs_drv_detach,
    .shutdown = bochs_drv_shutdown,
};

static const struct vdf_match_id bochs_ids[] = {
    {BOCHS_VENDOR_QEMU, BOCHS_DEV_DISPLAY, 0, 0},
};

const struct vdf_driver bochs_driver = {
    .name = "bochs",
    .version = "0.1.0",
    .device_class = VDF_CLASS_DISPLAY,
    .ids = bochs_ids,
    .nids = VDF_ARRAY_SIZE(bochs_ids),
    .caps_required = VDF_CAP_MMIO,
    .ops = &bochs_drv_ops,
};

struct bochs_dev *bochs_driver_dev(struct vdf_driver_ctx *ctx)
{
	return ctx->priv;
}
