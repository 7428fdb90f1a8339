/* SPDX-License-Identifier: MIT */
/* The NVMe driver's public face: its vdf_driver and access to the controller. */
#ifndef VDF_DRIVERS_NVME_DRIVER_H
#define VDF_DRIVERS_NVME_DRIVER_H

#include "nvme.h"
#include "vdf/driver.h"

extern const struct vdf_driver nvme_driver;

/* The controller of a bound NVMe driver (config: struct nvme_opts or NULL). */
struct nvme_ctrlr *nvme_driver_ctrlr(struct vdf_driver_ctx *ctx);

#endif
