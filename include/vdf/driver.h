/* SPDX-License-Identifier: MIT */
/*
 * The driver interface (the seeds' Driver trait, in C): metadata plus an ops
 * table that the runtime calls in this order:
 *
 *   init -> probe -> attach -> start -> { handle_interrupt | hotplug |
 *   suspend/resume }* -> detach -> shutdown
 *
 * A driver never acquires hardware itself: the runtime hands it a struct
 * vdf_dev (opened stand-alone for development, or built from fds the device
 * manager granted) and an event loop.
 */
#ifndef VDF_DRIVER_H
#define VDF_DRIVER_H

#include <stdint.h>

#include "vdf/common.h"
#include "vdf/event.h"
#include "vdf/hal.h"

enum vdf_device_class {
	VDF_CLASS_BLOCK,
	VDF_CLASS_NET,
	VDF_CLASS_DISPLAY,
	VDF_CLASS_USB_HOST,
	VDF_CLASS_INPUT,
	VDF_CLASS_CHAR,
};

const char *vdf_device_class_name(enum vdf_device_class c);

#define VDF_ANY_ID 0xffffu

/* A PCI match rule: IDs (VDF_ANY_ID = any) and class code (0xCCSSPP) under a mask. */
struct vdf_match_id {
	uint16_t vendor, device;
	uint32_t class_code, class_mask;
};

/* Hardware a driver needs granted. */
enum vdf_capability {
	VDF_CAP_MMIO = BIT(0),
	VDF_CAP_IOPORT = BIT(1),
	VDF_CAP_DMA = BIT(2),
	VDF_CAP_IRQ_INTX = BIT(3),
	VDF_CAP_IRQ_MSI = BIT(4),
	VDF_CAP_IRQ_MSIX = BIT(5),
	VDF_CAP_CFG_WRITE = BIT(6),
};

enum vdf_power_state { VDF_POWER_D0, VDF_POWER_D1, VDF_POWER_D2, VDF_POWER_D3HOT };

enum vdf_hotplug_kind {
	VDF_HOTPLUG_ADDED,
	VDF_HOTPLUG_REMOVED,
	VDF_HOTPLUG_REMOVE_REQUEST, /* the device is going: release it */
};

struct vdf_hotplug_event {
	enum vdf_hotplug_kind kind;
};

struct vdf_driver_ctx;
struct vdf_irq_route;

struct vdf_driver_ops {
	/* Allocate driver state into ctx->priv. No hardware access. */
	int (*init)(struct vdf_driver_ctx *ctx);
	/* 0 if the driver supports this function, -ENODEV if not. */
	int (*probe)(struct vdf_driver_ctx *ctx, const struct vdf_pci_id *id);
	/* Bring the device up: map BARs, reset, set up queues and interrupts. */
	int (*attach)(struct vdf_driver_ctx *ctx);
	/* Begin serving (e.g. publish the device class interface). */
	int (*start)(struct vdf_driver_ctx *ctx);
	int (*handle_interrupt)(struct vdf_driver_ctx *ctx, enum vdf_irq_kind kind,
				unsigned vector);
	int (*hotplug)(struct vdf_driver_ctx *ctx, const struct vdf_hotplug_event *ev);
	int (*suspend)(struct vdf_driver_ctx *ctx);
	int (*resume)(struct vdf_driver_ctx *ctx);
	/* Quiesce the device (stop DMA, disable IRQs) and free what attach set up. */
	void (*detach)(struct vdf_driver_ctx *ctx);
	/* Free what init allocated. */
	void (*shutdown)(struct vdf_driver_ctx *ctx);
};

struct vdf_driver {
	const char *name;
	const char *version;
	enum vdf_device_class device_class;
	const struct vdf_match_id *ids;
	unsigned nids;
	uint32_t caps_required; /* enum vdf_capability bits */
	const struct vdf_driver_ops *ops;
};

struct vdf_driver_ctx {
	const struct vdf_driver *drv;
	const void *config; /* driver-specific settings from whoever binds it */
	struct vdf_dev *dev;
	struct vdf_event_loop *loop;
	void *priv;
	uint64_t irq_events; /* interrupts dispatched to handle_interrupt */
	int attached;
	struct vdf_irq_route *routes; /* runtime-private: eventfd -> vector */
	unsigned nroutes;
};

/* Does a match rule accept this function? */
int vdf_match_pci(const struct vdf_match_id *m, const struct vdf_pci_id *id);

/*
 * Bring a driver up on a device: init, probe (against the device's IDs and
 * the driver's match table), attach, start; then route every enabled interrupt
 * vector's eventfd in `loop` to handle_interrupt. On failure everything done
 * is undone. The ctx is the caller's; dev and loop stay the caller's. config
 * (may be NULL) is handed to the driver as ctx->config.
 */
int vdf_driver_bind(const struct vdf_driver *drv, struct vdf_dev *dev, struct vdf_event_loop *loop,
		    const void *config, struct vdf_driver_ctx *ctx) VDF_MUST_CHECK;
/* Re-route interrupts after the driver changed its vectors (e.g. a reset). */
int vdf_driver_route_irqs(struct vdf_driver_ctx *ctx) VDF_MUST_CHECK;
/* detach + shutdown, in reverse of bind. Accepts an unbound ctx. */
void vdf_driver_unbind(struct vdf_driver_ctx *ctx);

#endif
