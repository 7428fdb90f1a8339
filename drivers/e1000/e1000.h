/* SPDX-License-Identifier: MIT */
/*
 * e1000/e1000e driver internals: Intel 8254x (QEMU "e1000", 82540EM) and
 * 82574L (QEMU "e1000e") with legacy descriptors.
 *
 * Layout of the driver:
 *   e1000_hw.c      register access, reset, EEPROM (EERD), PHY (MDIC), MAC
 *                   address, link, receive filters, statistics, coalescing
 *   e1000_model.c   what differs per model: EERD layout, 82574 extras
 *                   (CTRL_EXT, GCR, TARC, RFCTL), interrupt setup (INTx/MSI
 *                   on both, MSI-X with IVAR on the 82574)
 *   e1000_rxtx.c    RX/TX descriptor rings, buffer pools, batching, TX
 *                   completion reaping, RX refill, stuck-transmitter reset
 *   e1000_net.c     bring-up/teardown, the net class ops, interrupt handling
 *   e1000_driver.c  the vdf_driver glue (ops table, interrupts, timer)
 *   main.c          the stand-alone binary vdf-e1000
 *
 * Threading: one thread drives a device (its event loop thread).
 */
#ifndef VDF_DRIVERS_E1000_H
#define VDF_DRIVERS_E1000_H

#include <stdbool.h>
#include <stdint.h>

#include "vdf/dma.h"
#include "vdf/hal.h"
#include "vdf/hw/e1000.h"
#include "vdf/mmio.h"
#include "vdf/net.h"

struct e1000_dev;

enum e1000_irq_mode {
	E1000_IRQ_AUTO, /* MSI-X if the model has it, else MSI, else INTx */
	E1000_IRQ_POLL, /* none: the caller polls */
	E1000_IRQ_INTX,
	E1000_IRQ_MSI,
	E1000_IRQ_MSIX,
};

/* MSI-X vectors on the 82574 (IVAR). */
enum { E1000E_VEC_RX = 0, E1000E_VEC_TX = 1, E1000E_VEC_OTHER = 2, E1000E_NVEC = 3 };

struct e1000_opts {
	unsigned rx_ring, tx_ring; /* descriptors: multiple of 8, 8..4096 */
	unsigned rx_bufs; /* RX pool buffers (> rx_ring: some may be out with the consumer) */
	unsigned tx_bufs; /* TX pool buffers */
	enum e1000_irq_mode irq;
	unsigned tx_timeout_ms;	  /* TDH not moving this long with work queued: ring reset */
	unsigned link_timeout_ms; /* wait this long for link up at bring-up (0: don't) */
	struct vdf_net_coalesce coal;
};

void e1000_opts_default(struct e1000_opts *o);

struct e1000_model {
	const char *name;
	uint16_t device_id;
	uint32_t eerd_done; /* EERD DONE bit */
	uint32_t eerd_addr; /* EERD address field */
	uint32_t tipg;	    /* TIPG value */
	bool has_msix;	    /* 82574: MSI-X with IVAR */
	bool rx_csum;	    /* verifies checksums into legacy descriptors */
	/* After reset, before rings: model-specific registers. */
	void (*init_hw)(struct e1000_dev *e);
	/* After vectors are enabled: route causes (IVAR) and enable them (IMS). */
	void (*irq_enable)(struct e1000_dev *e);
};

/* Look up a supported model by PCI device ID (NULL if not supported). */
const struct e1000_model *e1000_model_find(uint16_t device_id);
extern const struct e1000_model e1000_model_82540em, e1000_model_82574l;

struct e1000_dev {
	struct vdf_dev *dev;
	const char *name;
	struct vdf_mmio bar;
	const struct e1000_model *model;
	struct e1000_opts opts;
	struct vdf_net_dev ndev;
	uint8_t mac[VDF_NET_ETH_ALEN], perm_mac[VDF_NET_ETH_ALEN];
	bool mac_from_eeprom;
	bool gone;    /* all ones read: device removed or dead */
	bool started; /* rings and registers set up */

	/* Descriptor rings (one DMA buffer holds both). */
	struct vdf_dma_buf *ring_mem;
	struct e1000_rx_desc *rxd;
	struct e1000_tx_desc *txd;
	vdf_iova_t rxd_iova, txd_iova;
	unsigned rx_count, tx_count;
	unsigned rx_next;    /* next descriptor to examine */
	unsigned rx_fill;    /* next descriptor to post a buffer at */
	unsigned rx_tail_hw; /* last value written to RDT */
	unsigned tx_clean;   /* oldest descriptor not yet reaped */
	unsigned tx_tail;    /* next free descriptor (= TDT) */
	struct vdf_net_buf **rx_bufs, **tx_bufs;
	struct vdf_net_pool *rx_pool, *tx_pool;
	bool rx_in_frame;  /* inside a frame spanning buffers: drop until EOP */
	bool tx_ctx_valid; /* last context descriptor still applies */
	uint8_t tx_ctx_css, tx_ctx_cso;

	/* Stuck transmitter detection. */
	uint64_t tx_progress_ns;
	uint32_t tx_last_tdh;

	/* Receive filters. */
	uint32_t rctl;
	bool promisc, allmulti;
	uint32_t mta[E1000_MTA_REGS];
	struct vdf_net_coalesce coal;

	/* Interrupts: kind and count of enabled vectors (0: polled). */
	enum vdf_irq_kind irq_kind;
	unsigned nvec;
	uint64_t irqs;
};

/* --- e1000_hw.c --- */
static inline uint32_t e1000_rd(struct e1000_dev *e, uint32_t reg)
{
	return vdf_mmio_read32(&e->bar, reg);
}
static inline void e1000_wr(struct e1000_dev *e, uint32_t reg, uint32_t val)
{
	vdf_mmio_write32(&e->bar, reg, val);
}
/* Read a register that is never all ones when the device is alive: -ENODEV otherwise
 * (and the device is marked gone). */
int e1000_rd_live(struct e1000_dev *e, uint32_t reg, uint32_t *val) VDF_MUST_CHECK;
/* Flush posted writes (read STATUS). */
void e1000_flush(struct e1000_dev *e);

/* Software reset ([SDM] 14.9): CTRL.RST, bounded wait for it to clear, interrupts off. */
int e1000_reset(struct e1000_dev *e) VDF_MUST_CHECK;
/* One EEPROM word through EERD, bounded by E1000_EERD_TIMEOUT_US. */
int e1000_eeprom_read(struct e1000_dev *e, unsigned word, uint16_t *val) VDF_MUST_CHECK;
/* PHY register through MDIC, bounded by E1000_MDIC_TIMEOUT_US; -EIO on MDIC.E. */
int e1000_phy_read(struct e1000_dev *e, unsigned reg, uint16_t *val) VDF_MUST_CHECK;
int e1000_phy_write(struct e1000_dev *e, unsigned reg, uint16_t val) VDF_MUST_CHECK;
/* Permanent address from the EEPROM, else from RAL0/RAH0. -EIO if neither is valid. */
int e1000_read_mac(struct e1000_dev *e) VDF_MUST_CHECK;
/* Program RAL0/RAH0 (address valid). */
void e1000_write_mac(struct e1000_dev *e, const uint8_t mac[VDF_NET_ETH_ALEN]);
/* Read STATUS into ndev.link (callback on change). -ENODEV if gone. */
int e1000_link_update(struct e1000_dev *e) VDF_MUST_CHECK;
/* Wait up to ms for link up. 0 (up), -ETIMEDOUT, -ENODEV. */
int e1000_link_wait(struct e1000_dev *e, unsigned ms) VDF_MUST_CHECK;
/* Multicast table hash for RCTL.MO = 0 ([SDM] 13.5.1): address bits 47:36. */
uint32_t e1000_mta_hash(const uint8_t mac[VDF_NET_ETH_ALEN]);
/* RCTL from the filter state (EN, BAM, SECRC, 2 KiB buffers, UPE/MPE). */
void e1000_write_rctl(struct e1000_dev *e);
void e1000_write_mta(struct e1000_dev *e);
/* Fold the clear-on-read counters into ndev.stats.hw. */
int e1000_stats_update(struct e1000_dev *e) VDF_MUST_CHECK;
/* Write ITR/RDTR/RADV/TIDV/TADV (and EITR on the 82574). */
void e1000_write_coalesce(struct e1000_dev *e, const struct vdf_net_coalesce *c);

/* --- e1000_rxtx.c --- */
int e1000_rings_alloc(struct e1000_dev *e) VDF_MUST_CHECK;
void e1000_rings_free(struct e1000_dev *e);
/* Program the rings into the device and post RX buffers; enables RX and TX. */
int e1000_rx_start(struct e1000_dev *e) VDF_MUST_CHECK;
void e1000_tx_start(struct e1000_dev *e);
/* Disable and drop what the rings hold (buffers back to their pools). */
void e1000_rx_stop(struct e1000_dev *e);
void e1000_tx_stop(struct e1000_dev *e);
/* Post free pool buffers to the RX ring and write RDT; returns how many posted. */
unsigned e1000_rx_refill(struct e1000_dev *e);
/* The same, writing RDT only once a batch is posted unless `force`. */
unsigned e1000_rx_refill_tail(struct e1000_dev *e, bool force);
int e1000_rx_batch(struct e1000_dev *e, struct vdf_net_buf **out, unsigned max);
int e1000_tx_batch(struct e1000_dev *e, struct vdf_net_buf **bufs, unsigned n);
/* Reap sent frames; returns how many. */
unsigned e1000_tx_reap(struct e1000_dev *e);
/* Descriptors the transmitter still owns. */
unsigned e1000_tx_pending(const struct e1000_dev *e);
/* Reset the TX ring if TDH has not moved for opts.tx_timeout_ms with work
 * queued. Returns 1 if it reset, 0 if not, -ENODEV. */
int e1000_tx_check_stuck(struct e1000_dev *e) VDF_MUST_CHECK;
/* Largest frame tx_batch takes (without FCS). */
uint32_t e1000_max_frame(const struct e1000_dev *e);

/* --- e1000_net.c --- */
/*
 * Bring the device up: map BAR0, reset, MAC address, filters, rings, pools,
 * interrupts (vectors enabled on dev; the caller routes them), link.
 * Returns 0, -ENODEV (not an e1000 / all ones), -ETIMEDOUT (reset did not
 * finish), -EIO (no valid MAC), or an allocation error.
 */
int e1000_init(struct e1000_dev *e, struct vdf_dev *dev,
	       const struct e1000_opts *opts) VDF_MUST_CHECK;
/* Quiesce (RX/TX off, interrupts masked, reset, bus master off) and free. Accepts a
 * partly initialized device. Buffers the consumer still holds must be recycled first. */
void e1000_fini(struct e1000_dev *e);
/* Interrupt on `vector` of the enabled kind: read causes, reap, refill, link. */
int e1000_handle_irq(struct e1000_dev *e, unsigned vector) VDF_MUST_CHECK;
/* Everything an interrupt would do, without one (polled mode, timer). */
int e1000_poll(struct e1000_dev *e) VDF_MUST_CHECK;
extern const struct vdf_net_ops e1000_net_ops;

#endif
