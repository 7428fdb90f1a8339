// SPDX-License-Identifier: MIT
/* e1000 bring-up ([SDM] 14), teardown, interrupts and the net class ops. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "e1000.h"
#include "vdf/irq.h"
#include "vdf/log.h"

void e1000_opts_default(struct e1000_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->rx_ring = 256;
	o->tx_ring = 256;
	o->rx_bufs = 512;
	o->tx_bufs = 256;
	o->irq = E1000_IRQ_AUTO;
	o->tx_timeout_ms = 2000;
	o->link_timeout_ms = 0;
	/* Moderate, latency-friendly defaults: at most ~20k interrupts/s. */
	o->coal.irq_min_interval_us = 50;
}

static int check_opts(const struct e1000_opts *o)
{
	if (o->rx_ring < 8 || o->rx_ring > 4096 || o->rx_ring % 8 || o->tx_ring < 8 ||
	    o->tx_ring > 4096 || o->tx_ring % 8 || o->rx_bufs < o->rx_ring || !o->tx_bufs)
		return -EINVAL;
	return 0;
}

static int coal_check(const struct vdf_net_coalesce *c)
{
	const uint64_t max_delay = (uint64_t)E1000_DELAY_MAX * E1000_DELAY_UNIT_NS / 1000u;
	const uint64_t max_itr = (uint64_t)E1000_DELAY_MAX * E1000_ITR_UNIT_NS / 1000u;

	if (c->irq_min_interval_us > max_itr || c->rx_delay_us > max_delay ||
	    c->rx_max_delay_us > max_delay || c->tx_delay_us > max_delay ||
	    c->tx_max_delay_us > max_delay)
		return -ERANGE;
	return 0;
}

/* Enable `want` vectors of a kind if the device (and grant) allows it. */
static int try_irq(struct e1000_dev *e, enum vdf_irq_kind kind, unsigned want)
{
	unsigned have = 0;
	int rc = vdf_irq_count(e->dev, kind, &have);

	if (rc || have < want)
		return rc ? rc : -ENOTSUP;
	rc = vdf_irq_enable(e->dev, kind, want);
	if (rc)
		return rc;
	e->irq_kind = kind;
	e->nvec = want;
	return 0;
}

static int setup_irqs(struct e1000_dev *e)
{
	int rc;

	switch (e->opts.irq) {
	case E1000_IRQ_POLL:
		return 0;
	case E1000_IRQ_INTX:
		return try_irq(e, VDF_IRQ_INTX, 1);
	case E1000_IRQ_MSI:
		return try_irq(e, VDF_IRQ_MSI, 1);
	case E1000_IRQ_MSIX:
		return e->model->has_msix ? try_irq(e, VDF_IRQ_MSIX, E1000E_NVEC) : -ENOTSUP;
	case E1000_IRQ_AUTO:
	default:
		break;
	}
	if (e->model->has_msix && !try_irq(e, VDF_IRQ_MSIX, E1000E_NVEC))
		return 0;
	if (!try_irq(e, VDF_IRQ_MSI, 1))
		return 0;
	rc = try_irq(e, VDF_IRQ_INTX, 1);
	if (rc)
		vdf_log(LOG_WARNING, "e1000", e->name, "no interrupts (%s): polling",
			strerror(-rc));
	return 0;
}

int e1000_init(struct e1000_dev *e, struct vdf_dev *dev, const struct e1000_opts *opts)
{
	struct vdf_region_info bi;
	struct vdf_pci_id id;
	uint32_t ctrl;
	int rc;

	memset(e, 0, sizeof(*e));
	e->dev = dev;
	e->name = vdf_dev_name(dev);
	e->opts = *opts;
	rc = check_opts(opts);
	if (!rc)
		rc = coal_check(&opts->coal);
	if (rc)
		return rc;
	rc = vdf_dev_pci_id(dev, &id);
	if (rc)
		return rc;
	e->model = id.vendor == E1000_VENDOR_INTEL ? e1000_model_find(id.device) : NULL;
	if (!e->model) {
		vdf_log(LOG_ERR, "e1000", e->name, "%04x:%04x is not a supported e1000 model",
			id.vendor, id.device);
		return -ENODEV;
	}
	rc = vdf_bar_info(dev, 0, &bi);
	if (rc)
		return rc;
	if (!(bi.flags & VDF_REGION_MMAP) || bi.size < E1000_BAR0_MIN_SIZE) {
		vdf_log(LOG_ERR, "e1000", e->name, "BAR0 is not a 128 KiB register BAR");
		return -ENODEV;
	}
	rc = vdf_bar_map(dev, 0, &e->bar);
	if (rc)
		return rc;
	e->ndev.ops = &e1000_net_ops;
	e->ndev.name = e->name;
	e->ndev.priv = e;
	if (e1000_rd_live(e, E1000_REG_STATUS, &ctrl))
		return -ENODEV;

	/* [SDM] 14.3-14.9: reset, DMA on, address, filters, link, rings, interrupts. */
	rc = e1000_reset(e);
	if (rc)
		goto out_fini;
	rc = vdf_dev_set_bus_master(dev, true);
	if (rc)
		goto out_fini;
	rc = e1000_read_mac(e);
	if (rc)
		goto out_fini;
	e1000_write_mac(e, e->mac);
	for (unsigned i = 1; i < E1000_RAR_ENTRIES; i++) {
		e1000_wr(e, E1000_REG_RAH(i), 0);
		e1000_wr(e, E1000_REG_RAL(i), 0);
	}
	memset(e->mta, 0, sizeof(e->mta));
	e1000_write_mta(e);
	for (unsigned i = 0; i < 128; i++)
		e1000_wr(e, E1000_REG_VFTA + 4 * i, 0);
	e->model->init_hw(e);
	/* [SDM] 14.3: link up by auto-negotiation, no forced speed, no flow control. */
	rc = e1000_rd_live(e, E1000_REG_CTRL, &ctrl);
	if (rc)
		goto out_fini;
	ctrl |= E1000_CTRL_SLU | E1000_CTRL_ASDE;
	ctrl &= ~(E1000_CTRL_LRST | E1000_CTRL_PHY_RST | E1000_CTRL_ILOS | E1000_CTRL_FRCSPD |
		  E1000_CTRL_FRCDPX | E1000_CTRL_VME | E1000_CTRL_RFCE | E1000_CTRL_TFCE);
	e1000_wr(e, E1000_REG_CTRL, ctrl);
	e1000_wr(e, E1000_REG_FCAL, 0);
	e1000_wr(e, E1000_REG_FCAH, 0);
	e1000_wr(e, E1000_REG_FCT, 0);
	e1000_wr(e, E1000_REG_FCTTV, 0);
	/* Counters start at zero for this driver instance. */
	rc = e1000_stats_update(e);
	if (rc)
		goto out_fini;
	memset(&e->ndev.stats, 0, sizeof(e->ndev.stats));

	rc = e1000_rings_alloc(e);
	if (rc)
		goto out_fini;
	e->ndev.tx_pool = e->tx_pool;
	e1000_write_coalesce(e, &opts->coal);
	e->started = true;
	rc = e1000_rx_start(e);
	if (rc)
		goto out_fini;
	e1000_tx_start(e);
	/* Vectors before causes are unmasked, so no interrupt is lost. */
	rc = setup_irqs(e);
	if (rc)
		goto out_fini;
	e->model->irq_enable(e);
	rc = e1000_link_update(e);
	if (rc)
		goto out_fini;
	if (!e->ndev.link.up && opts->link_timeout_ms) {
		rc = e1000_link_wait(e, opts->link_timeout_ms);
		if (rc == -ENODEV)
			goto out_fini;
		if (rc)
			vdf_log(LOG_WARNING, "e1000", e->name, "link still down after %u ms",
				opts->link_timeout_ms);
	}
	vdf_log(LOG_INFO, "e1000", e->name, "%s ready, %s, link %s", e->model->name,
		e->nvec ? vdf_irq_kind_name(e->irq_kind) : "polled",
		e->ndev.link.up ? "up" : "down");
	return 0;

out_fini:
	e1000_fini(e);
	return rc;
}

void e1000_fini(struct e1000_dev *e)
{
	if (!e->dev)
		return;
	if (e->bar.len && !e->gone) {
		e1000_wr(e, E1000_REG_IMC, E1000_ICR_ALL);
		e1000_wr(e, E1000_REG_RCTL, 0);
		e1000_wr(e, E1000_REG_TCTL, E1000_TCTL_PSP);
		e1000_flush(e);
	}
	if (e->nvec)
		if (vdf_irq_disable(e->dev, e->irq_kind))
			vdf_log(LOG_WARNING, "e1000", e->name, "could not disable interrupts");
	e->nvec = 0;
	/* Stop the device before its memory goes: reset, then no bus mastering. */
	if (e->bar.len && !e->gone && e->model)
		if (e1000_reset(e))
			vdf_log(LOG_WARNING, "e1000", e->name, "reset at teardown failed");
	if (vdf_dev_set_bus_master(e->dev, false))
		vdf_log(LOG_WARNING, "e1000", e->name, "could not turn bus mastering off");
	e1000_rx_stop(e);
	e1000_tx_stop(e);
	e->started = false;
	e1000_rings_free(e);
	e->dev = NULL;
}

static void handle_causes(struct e1000_dev *e, uint32_t icr)
{
	if ((icr & E1000_ICR_LSC) && e1000_link_update(e))
		return;
	if (icr & (E1000_ICR_TXDW | E1000_ICR_TXQE | E1000E_ICR_TXQ0))
		(void)e1000_tx_reap(e);
	if (icr & (E1000_ICR_RXT0 | E1000_ICR_RXO | E1000_ICR_RXDMT0 | E1000_ICR_RXSEQ |
		   E1000E_ICR_RXQ0)) {
		e1000_rx_refill(e);
		vdf_net_rx_notify(&e->ndev);
	}
}

int e1000_handle_irq(struct e1000_dev *e, unsigned vector)
{
	uint32_t icr;
	int rc;

	if (e->gone)
		return -ENODEV;
	e->irqs++;
	e->ndev.stats.irqs++;
	if (e->irq_kind == VDF_IRQ_MSIX && e->nvec) {
		/* EIAC cleared and masked the vector's cause: handle, then re-enable. */
		switch (vector) {
		case E1000E_VEC_RX:
			handle_causes(e, E1000E_ICR_RXQ0);
			e1000_wr(e, E1000_REG_IMS, E1000E_ICR_RXQ0);
			return 0;
		case E1000E_VEC_TX:
			handle_causes(e, E1000E_ICR_TXQ0);
			e1000_wr(e, E1000_REG_IMS, E1000E_ICR_TXQ0);
			return 0;
		case E1000E_VEC_OTHER:
			rc = e1000_rd_live(e, E1000_REG_ICR, &icr);
			if (rc)
				return rc;
			e1000_wr(e, E1000_REG_ICR, icr); /* write 1 to clear */
			handle_causes(e, icr & ~(E1000E_ICR_RXQ0 | E1000E_ICR_TXQ0));
			e1000_wr(e, E1000_REG_IMS, E1000E_ICR_OTHER | E1000_ICR_LSC);
			return 0;
		default:
			return -EINVAL;
		}
	}
	/* One vector: ICR names the causes and clears on read ([SDM] 13.4.17). */
	rc = e1000_rd_live(e, E1000_REG_ICR, &icr);
	if (rc)
		return rc;
	handle_causes(e, icr);
	if (e->irq_kind == VDF_IRQ_INTX && e->nvec)
		return vdf_irq_unmask(e->dev, VDF_IRQ_INTX, 0);
	return 0;
}

int e1000_poll(struct e1000_dev *e)
{
	int rc;

	if (e->gone)
		return -ENODEV;
	if (!e->started)
		return 0;
	rc = e1000_link_update(e);
	if (rc)
		return rc;
	(void)e1000_tx_reap(e);
	e1000_rx_refill(e);
	rc = e1000_tx_check_stuck(e);
	if (rc < 0)
		return rc;
	if (e->rx_next != e->rx_fill &&
	    (__atomic_load_n(&e->rxd[e->rx_next].status, __ATOMIC_ACQUIRE) & E1000_RXD_STAT_DD))
		vdf_net_rx_notify(&e->ndev);
	return 0;
}

/* --- net class ops --- */

static struct e1000_dev *to_e(struct vdf_net_dev *ndev)
{
	return ndev->priv;
}

static void net_info(struct vdf_net_dev *ndev, struct vdf_net_info *info)
{
	struct e1000_dev *e = to_e(ndev);

	memcpy(info->mac, e->mac, sizeof(info->mac));
	memcpy(info->perm_mac, e->perm_mac, sizeof(info->perm_mac));
	info->mtu = E1000_ETH_MTU;
	info->max_frame = e1000_max_frame(e);
	info->features = VDF_NET_F_TX_CSUM | VDF_NET_F_MULTICAST | VDF_NET_F_PROMISC |
			 VDF_NET_F_COALESCE | (e->model->rx_csum ? VDF_NET_F_RX_CSUM : 0);
	info->rx_ring = e->rx_count;
	info->tx_ring = e->tx_count;
	info->link = ndev->link;
	snprintf(info->model, sizeof(info->model), "%s", e->model->name);
}

static int net_tx_batch(struct vdf_net_dev *ndev, struct vdf_net_buf **bufs, unsigned n)
{
	return e1000_tx_batch(to_e(ndev), bufs, n);
}

static int net_rx_batch(struct vdf_net_dev *ndev, struct vdf_net_buf **out, unsigned max)
{
	return e1000_rx_batch(to_e(ndev), out, max);
}

static int net_poll(struct vdf_net_dev *ndev)
{
	return e1000_poll(to_e(ndev));
}

static int net_set_mac(struct vdf_net_dev *ndev, const uint8_t mac[VDF_NET_ETH_ALEN])
{
	struct e1000_dev *e = to_e(ndev);

	if (e->gone)
		return -ENODEV;
	e1000_write_mac(e, mac);
	return 0;
}

static int net_set_promisc(struct vdf_net_dev *ndev, bool on)
{
	struct e1000_dev *e = to_e(ndev);

	if (e->gone)
		return -ENODEV;
	e->promisc = on;
	e1000_write_rctl(e);
	return 0;
}

static int net_set_multicast(struct vdf_net_dev *ndev, const uint8_t (*macs)[VDF_NET_ETH_ALEN],
			     unsigned n, bool all)
{
	struct e1000_dev *e = to_e(ndev);

	if (e->gone)
		return -ENODEV;
	memset(e->mta, 0, sizeof(e->mta));
	for (unsigned i = 0; i < n; i++) {
		uint32_t h = e1000_mta_hash(macs[i]);

		e->mta[h >> 5] |= BIT(h & 31);
	}
	e->allmulti = all;
	e1000_write_mta(e);
	e1000_write_rctl(e);
	return 0;
}

static int net_set_coalesce(struct vdf_net_dev *ndev, const struct vdf_net_coalesce *c)
{
	struct e1000_dev *e = to_e(ndev);
	int rc = coal_check(c);

	if (rc)
		return rc;
	if (e->gone)
		return -ENODEV;
	e1000_write_coalesce(e, c);
	return 0;
}

static void net_get_coalesce(struct vdf_net_dev *ndev, struct vdf_net_coalesce *c)
{
	*c = to_e(ndev)->coal;
}

static int net_update_stats(struct vdf_net_dev *ndev)
{
	return e1000_stats_update(to_e(ndev));
}

const struct vdf_net_ops e1000_net_ops = {
    .info = net_info,
    .tx_batch = net_tx_batch,
    .rx_batch = net_rx_batch,
    .poll = net_poll,
    .set_mac = net_set_mac,
    .set_promisc = net_set_promisc,
    .set_multicast = net_set_multicast,
    .set_coalesce = net_set_coalesce,
    .get_coalesce = net_get_coalesce,
    .update_stats = net_update_stats,
};
