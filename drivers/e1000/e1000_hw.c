// SPDX-License-Identifier: MIT
/*
 * e1000 shared core: register access, reset, EEPROM, PHY, MAC address, link,
 * receive filters, statistics and interrupt moderation. Section numbers refer
 * to the 8254x SDM ([SDM]) unless they name the 82574 datasheet.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "e1000.h"
#include "vdf/event.h"
#include "vdf/log.h"

#define RESET_TIMEOUT_US 100000u /* [SDM] 14.9: RST completes within 1 us + EEPROM load */
#define POLL_STEP_US	 10u

int e1000_rd_live(struct e1000_dev *e, uint32_t reg, uint32_t *val)
{
	int rc = vdf_mmio_read32_live(&e->bar, reg, val);

	if (rc && !e->gone) {
		e->gone = true;
		vdf_log(LOG_ERR, "e1000", e->name,
			"register 0x%05x reads all ones: device gone or dead", reg);
	}
	return rc;
}

void e1000_flush(struct e1000_dev *e)
{
	(void)e1000_rd(e, E1000_REG_STATUS);
}

/*
 * Wait until (reg & mask) == want, at most timeout_us. A register that reads
 * all ones means the device is gone: -ENODEV at once.
 */
static int wait_reg(struct e1000_dev *e, uint32_t reg, uint32_t mask, uint32_t want,
		    unsigned timeout_us, uint32_t *last)
{
	uint64_t deadline = vdf_now_ns() + (uint64_t)timeout_us * 1000u;
	uint32_t v;

	for (;;) {
		int rc = e1000_rd_live(e, reg, &v);

		if (rc)
			return rc;
		if ((v & mask) == want)
			break;
		if (vdf_now_ns() > deadline)
			return -ETIMEDOUT;
		usleep(POLL_STEP_US);
	}
	if (last)
		*last = v;
	return 0;
}

int e1000_reset(struct e1000_dev *e)
{
	uint32_t ctrl;
	int rc;

	/* Quiesce first ([SDM] 14.9): no interrupts, no DMA, then reset. */
	e1000_wr(e, E1000_REG_IMC, E1000_ICR_ALL);
	e1000_wr(e, E1000_REG_RCTL, 0);
	e1000_wr(e, E1000_REG_TCTL, E1000_TCTL_PSP);
	e1000_flush(e);
	usleep(1000); /* let pending DMA finish */
	rc = e1000_rd_live(e, E1000_REG_CTRL, &ctrl);
	if (rc)
		return rc;
	e1000_wr(e, E1000_REG_CTRL, ctrl | E1000_CTRL_RST);
	usleep(10); /* [SDM] 14.9: wait before accessing registers again */
	rc = wait_reg(e, E1000_REG_CTRL, E1000_CTRL_RST, 0, RESET_TIMEOUT_US, NULL);
	if (rc == -ETIMEDOUT)
		vdf_log(LOG_ERR, "e1000", e->name, "CTRL.RST did not clear in %u ms",
			RESET_TIMEOUT_US / 1000);
	if (rc)
		return rc;
	/* Reset re-enables nothing, but clear causes latched meanwhile. */
	e1000_wr(e, E1000_REG_IMC, E1000_ICR_ALL);
	(void)e1000_rd(e, E1000_REG_ICR);
	e->tx_ctx_valid = false;
	return 0;
}

int e1000_eeprom_read(struct e1000_dev *e, unsigned word, uint16_t *val)
{
	const struct e1000_model *m = e->model;
	uint32_t v;
	int rc;

	if (word >= E1000_EEPROM_WORDS)
		return -EINVAL;
	/* [SDM] 13.4.4 / [82574] 10.2.2.6: address + START, poll DONE, data in 31:16. */
	e1000_wr(e, E1000_REG_EERD, (uint32_t)FIELD_PREP(m->eerd_addr, word) | E1000_EERD_START);
	rc = wait_reg(e, E1000_REG_EERD, m->eerd_done, m->eerd_done, E1000_EERD_TIMEOUT_US, &v);
	e1000_wr(e, E1000_REG_EERD, 0);
	if (rc)
		return rc;
	*val = (uint16_t)FIELD_GET(E1000_EERD_DATA, v);
	return 0;
}

static int mdic_op(struct e1000_dev *e, unsigned op, unsigned reg, uint16_t data, uint16_t *out)
{
	uint32_t v;
	int rc;

	if (reg > 31)
		return -EINVAL;
	/* [SDM] 13.4.7: one MDI transaction, then poll READY; ERROR means no answer. */
	e1000_wr(e, E1000_REG_MDIC,
		 (uint32_t)(FIELD_PREP(E1000_MDIC_DATA, data) | FIELD_PREP(E1000_MDIC_REG, reg) |
			    FIELD_PREP(E1000_MDIC_PHY, E1000_PHY_ADDR) |
			    FIELD_PREP(E1000_MDIC_OP, op)));
	rc = wait_reg(e, E1000_REG_MDIC, E1000_MDIC_READY, E1000_MDIC_READY, E1000_MDIC_TIMEOUT_US,
		      &v);
	if (rc)
		return rc;
	if (v & E1000_MDIC_ERROR)
		return -EIO;
	if (out)
		*out = (uint16_t)FIELD_GET(E1000_MDIC_DATA, v);
	return 0;
}

int e1000_phy_read(struct e1000_dev *e, unsigned reg, uint16_t *val)
{
	return mdic_op(e, E1000_MDIC_OP_READ, reg, 0, val);
}

int e1000_phy_write(struct e1000_dev *e, unsigned reg, uint16_t val)
{
	return mdic_op(e, E1000_MDIC_OP_WRITE, reg, val, NULL);
}

int e1000_read_mac(struct e1000_dev *e)
{
	uint8_t mac[VDF_NET_ETH_ALEN];
	uint32_t ral, rah;
	int rc = 0;

	/* [SDM] 5.6.1: words 0-2, each low byte first. */
	for (unsigned i = 0; i < 3 && !rc; i++) {
		uint16_t w;

		rc = e1000_eeprom_read(e, E1000_EEPROM_MAC_WORD0 + i, &w);
		mac[2 * i] = (uint8_t)w;
		mac[2 * i + 1] = (uint8_t)(w >> 8);
	}
	if (rc == -ENODEV)
		return rc;
	if (!rc && vdf_net_mac_valid(mac)) {
		e->mac_from_eeprom = true;
		goto found;
	}
	vdf_log(LOG_WARNING, "e1000", e->name,
		"no valid address in the EEPROM (%s): using RAL0/RAH0",
		rc ? "EERD timed out" : "invalid");
	/* The device loads RAR0 from the EEPROM at reset ([SDM] 13.5.2). */
	rc = e1000_rd_live(e, E1000_REG_RAH(0), &rah);
	if (rc)
		return rc;
	ral = e1000_rd(e, E1000_REG_RAL(0));
	for (unsigned i = 0; i < 4; i++)
		mac[i] = (uint8_t)(ral >> (8 * i));
	mac[4] = (uint8_t)rah;
	mac[5] = (uint8_t)(rah >> 8);
	if (!vdf_net_mac_valid(mac)) {
		vdf_log(LOG_ERR, "e1000", e->name, "no valid Ethernet address in EEPROM or RAR0");
		return -EIO;
	}
	e->mac_from_eeprom = false;
found:
	memcpy(e->perm_mac, mac, sizeof(mac));
	memcpy(e->mac, mac, sizeof(mac));
	return 0;
}

void e1000_write_mac(struct e1000_dev *e, const uint8_t mac[VDF_NET_ETH_ALEN])
{
	uint32_t ral = (uint32_t)mac[0] | (uint32_t)mac[1] << 8 | (uint32_t)mac[2] << 16 |
		       (uint32_t)mac[3] << 24;
	uint32_t rah = (uint32_t)mac[4] | (uint32_t)mac[5] << 8;

	/* [SDM] 13.5.2: AV last, so the filter never matches a half-written address. */
	e1000_wr(e, E1000_REG_RAH(0), 0);
	e1000_wr(e, E1000_REG_RAL(0), ral);
	e1000_wr(e, E1000_REG_RAH(0), rah | BIT(31));
	memcpy(e->mac, mac, VDF_NET_ETH_ALEN);
}

int e1000_link_update(struct e1000_dev *e)
{
	struct vdf_net_link l = {0};
	uint32_t st;
	int rc = e1000_rd_live(e, E1000_REG_STATUS, &st);

	if (rc)
		return rc;
	l.up = st & E1000_STATUS_LU;
	if (l.up) {
		static const uint32_t speeds[4] = {10, 100, 1000, 1000};

		l.speed_mbps = speeds[FIELD_GET(E1000_STATUS_SPEED, st)];
		l.full_duplex = st & E1000_STATUS_FD;
	}
	vdf_net_link_update(&e->ndev, &l);
	return 0;
}

int e1000_link_wait(struct e1000_dev *e, unsigned ms)
{
	int rc = wait_reg(e, E1000_REG_STATUS, E1000_STATUS_LU, E1000_STATUS_LU, ms * 1000u, NULL);
	int lrc = rc == -ENODEV ? rc : e1000_link_update(e);

	return lrc ? lrc : rc;
}

uint32_t e1000_mta_hash(const uint8_t mac[VDF_NET_ETH_ALEN])
{
	return ((uint32_t)mac[4] >> 4 | (uint32_t)mac[5] << 4) & 0xfffu;
}

void e1000_write_rctl(struct e1000_dev *e)
{
	uint32_t rctl = E1000_RCTL_EN | E1000_RCTL_BAM | E1000_RCTL_SECRC |
			FIELD_PREP(E1000_RCTL_BSIZE, E1000_RCTL_BSIZE_2048) |
			FIELD_PREP(E1000_RCTL_RDMTS, 0) | FIELD_PREP(E1000_RCTL_MO, 0);

	if (e->promisc)
		rctl |= E1000_RCTL_UPE | E1000_RCTL_MPE;
	if (e->allmulti)
		rctl |= E1000_RCTL_MPE;
	e->rctl = rctl;
	e1000_wr(e, E1000_REG_RCTL, rctl);
}

void e1000_write_mta(struct e1000_dev *e)
{
	for (unsigned i = 0; i < E1000_MTA_REGS; i++)
		e1000_wr(e, E1000_REG_MTA + 4 * i, e->mta[i]);
}

/* One clear-on-read counter. */
static uint64_t cnt32(struct e1000_dev *e, uint32_t reg)
{
	return e1000_rd(e, reg);
}

/* A 64-bit counter pair: low first, the high read clears both ([SDM] 13.7). */
static uint64_t cnt64(struct e1000_dev *e, uint32_t lo)
{
	uint64_t l = e1000_rd(e, lo);

	return l | (uint64_t)e1000_rd(e, lo + 4) << 32;
}

int e1000_stats_update(struct e1000_dev *e)
{
	struct vdf_net_hw_stats *h = &e->ndev.stats.hw;
	uint32_t probe;

	if (e->gone || !e->bar.len)
		return -ENODEV;
	/* STATUS never reads all ones on a live device; counters may. */
	if (e1000_rd_live(e, E1000_REG_STATUS, &probe))
		return -ENODEV;
	h->rx_crc_errors += cnt32(e, E1000_REG_CRCERRS);
	h->rx_align_errors += cnt32(e, E1000_REG_ALGNERRC);
	h->rx_symbol_errors += cnt32(e, E1000_REG_SYMERRS);
	h->rx_errors += cnt32(e, E1000_REG_RXERRC);
	h->rx_missed += cnt32(e, E1000_REG_MPC);
	h->excess_collisions += cnt32(e, E1000_REG_ECOL);
	h->late_collisions += cnt32(e, E1000_REG_LATECOL);
	h->collisions += cnt32(e, E1000_REG_COLC);
	h->tx_deferred += cnt32(e, E1000_REG_DC);
	h->rx_good += cnt32(e, E1000_REG_GPRC);
	h->rx_broadcast += cnt32(e, E1000_REG_BPRC);
	h->rx_multicast += cnt32(e, E1000_REG_MPRC);
	h->tx_good += cnt32(e, E1000_REG_GPTC);
	h->rx_octets += cnt64(e, E1000_REG_GORCL);
	h->tx_octets += cnt64(e, E1000_REG_GOTCL);
	h->rx_no_buffers += cnt32(e, E1000_REG_RNBC);
	h->rx_undersize += cnt32(e, E1000_REG_RUC);
	h->rx_fragments += cnt32(e, E1000_REG_RFC);
	h->rx_oversize += cnt32(e, E1000_REG_ROC);
	h->rx_jabber += cnt32(e, E1000_REG_RJC);
	(void)cnt64(e, E1000_REG_TORL); /* total octets: kept in GORC/GOTC for good frames */
	(void)cnt64(e, E1000_REG_TOTL);
	h->rx_total += cnt32(e, E1000_REG_TPR);
	h->tx_total += cnt32(e, E1000_REG_TPT);
	h->tx_multicast += cnt32(e, E1000_REG_MPTC);
	h->tx_broadcast += cnt32(e, E1000_REG_BPTC);
	return 0;
}

/* Microseconds to device units, saturating at the 16-bit field. */
static uint32_t to_units(uint32_t us, uint32_t unit_ns)
{
	uint64_t u = ((uint64_t)us * 1000u + unit_ns - 1) / unit_ns;

	return (uint32_t)VDF_MIN(u, (uint64_t)E1000_DELAY_MAX);
}

void e1000_write_coalesce(struct e1000_dev *e, const struct vdf_net_coalesce *c)
{
	uint32_t itr = to_units(c->irq_min_interval_us, E1000_ITR_UNIT_NS);

	/* [SDM] 13.4.18 (ITR), 13.4.26/29 (RDTR/RADV), 13.4.41/45 (TIDV/TADV). RADV
	 * only counts while RDTR is non-zero; TIDV/TADV apply to descriptors with IDE. */
	e1000_wr(e, E1000_REG_ITR, itr);
	e1000_wr(e, E1000_REG_RDTR, to_units(c->rx_delay_us, E1000_DELAY_UNIT_NS));
	e1000_wr(e, E1000_REG_RADV, to_units(c->rx_max_delay_us, E1000_DELAY_UNIT_NS));
	e1000_wr(e, E1000_REG_TIDV, to_units(c->tx_delay_us, E1000_DELAY_UNIT_NS));
	e1000_wr(e, E1000_REG_TADV, to_units(c->tx_max_delay_us, E1000_DELAY_UNIT_NS));
	if (e->model->has_msix)
		for (unsigned v = 0; v < E1000E_MSIX_VECTORS; v++)
			e1000_wr(e, E1000E_REG_EITR(v), itr);
	e->coal = *c;
}
