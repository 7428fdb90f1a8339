/* SPDX-License-Identifier: MIT */
/* The e1000 driver's public face: its vdf_driver and access to the device. */
#ifndef VDF_DRIVERS_E1000_DRIVER_H
#define VDF_DRIVERS_E1000_DRIVER_H

#include "e1000.h"
#include "vdf/driver.h"

extern const struct vdf_driver e1000_driver;

/* The device of a bound e1000 driver (config: struct e1000_opts or NULL). */
struct e1000_dev *e1000_driver_dev(struct vdf_driver_ctx *ctx);

#endif
