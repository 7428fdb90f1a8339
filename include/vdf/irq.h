/* SPDX-License-Identifier: MIT */
/*
 * Interrupts as eventfds. VFIO signals an eventfd per vector; the event loop
 * (vdf/event.h) turns them into handle_interrupt calls.
 *
 * INTx is level-triggered and VFIO masks it when it fires: call vdf_irq_unmask
 * after the device's interrupt cause has been cleared.
 */
#ifndef VDF_IRQ_H
#define VDF_IRQ_H

#include <stdint.h>

#include "vdf/common.h"
#include "vdf/hal.h"

#define VDF_IRQ_MAX_VECTORS 2048

/* How many vectors of this kind the device offers (0 if none). */
int vdf_irq_count(struct vdf_dev *dev, enum vdf_irq_kind kind, unsigned *count) VDF_MUST_CHECK;

/*
 * Enable `count` vectors of one kind; eventfds are created by the HAL and stay
 * owned by it (read them with vdf_irq_eventfd). Only one of INTx/MSI/MSI-X is
 * active at a time: enabling one disables the others.
 */
int vdf_irq_enable(struct vdf_dev *dev, enum vdf_irq_kind kind, unsigned count) VDF_MUST_CHECK;
int vdf_irq_disable(struct vdf_dev *dev, enum vdf_irq_kind kind) VDF_MUST_CHECK;

/* Eventfd of an enabled vector, or -1. */
int vdf_irq_eventfd(struct vdf_dev *dev, enum vdf_irq_kind kind, unsigned vector);
/* Number of enabled vectors of this kind. */
unsigned vdf_irq_enabled_count(struct vdf_dev *dev, enum vdf_irq_kind kind);

int vdf_irq_mask(struct vdf_dev *dev, enum vdf_irq_kind kind, unsigned vector) VDF_MUST_CHECK;
int vdf_irq_unmask(struct vdf_dev *dev, enum vdf_irq_kind kind, unsigned vector) VDF_MUST_CHECK;

/* Consume a pending event on the vector's eventfd: returns the count (0 if none). */
uint64_t vdf_irq_ack(struct vdf_dev *dev, enum vdf_irq_kind kind, unsigned vector);

/* Interrupts seen per vector (incremented by vdf_irq_ack). */
uint64_t vdf_irq_stat(struct vdf_dev *dev, enum vdf_irq_kind kind, unsigned vector);

#endif
