// SPDX-License-Identifier: MIT
/* The e1000/e1000e model behind the driver's unit tests; see mock_e1000.h. */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mock_e1000.h"
#include "vdf/irq.h"

#define BAR_SIZE  E1000_BAR0_MIN_SIZE
#define RXQ_MAX	  256u
#define FRAME_MAX 16384u

struct rxq_entry {
	struct mock_e1000_rx rx;
	uint8_t data[FRAME_MAX];
};

struct mock_e1000 {
	struct vdf_mock *mock;
	uint8_t *bar;
	uint16_t device_id;
	uint16_t eeprom[E1000_EEPROM_WORDS];
	uint16_t rar0[3]; /* what a reset loads into RAR0 (the EEPROM at power-up) */
	bool tx_stopped;
	bool in_tx, in_rx;
	struct rxq_entry *rxq;
	unsigned rxq_head, rxq_count;
	uint8_t **tx_frames;
	uint16_t *tx_lens;
	unsigned ntx;
	uint8_t txbuf[FRAME_MAX];
	uint32_t txlen;
	struct mock_e1000_stats stats;
};

uint32_t mock_e1000_reg(struct mock_e1000 *m, uint32_t off)
{
	uint32_t v;

	memcpy(&v, m->bar + off, 4);
	return le32toh(v);
}

void mock_e1000_set_reg(struct mock_e1000 *m, uint32_t off, uint32_t val)
{
	val = htole32(val);
	memcpy(m->bar + off, &val, 4);
}

static void add_reg(struct mock_e1000 *m, uint32_t off, uint32_t n)
{
	mock_e1000_set_reg(m, off, mock_e1000_reg(m, off) + n);
}

static bool is_82574(const struct mock_e1000 *m)
{
	return m->device_id == E1000_DEV_82574L;
}

/* Raise the interrupt for pending, unmasked causes. */
static void update_irq(struct mock_e1000 *m)
{
	struct vdf_dev *dev = vdf_mock_dev(m->mock);
	uint32_t pend = mock_e1000_reg(m, E1000_REG_ICR) & mock_e1000_reg(m, E1000_REG_IMS);

	if (!pend)
		return;
	if (vdf_irq_enabled_count(dev, VDF_IRQ_MSIX)) {
		uint32_t ivar = mock_e1000_reg(m, E1000E_REG_IVAR);
		static const struct {
			uint32_t cause, field;
		} map[] = {{E1000E_ICR_RXQ0, E1000E_IVAR_RXQ0},
			   {E1000E_ICR_TXQ0, E1000E_IVAR_TXQ0},
			   {E1000E_ICR_OTHER, E1000E_IVAR_OTHER}};

		for (unsigned i = 0; i < 3; i++) {
			uint32_t ent = FIELD_GET(map[i].field, ivar);

			if ((pend & map[i].cause) && (ent & E1000E_IVAR_VALID)) {
				m->stats.irqs++;
				(void)vdf_mock_raise_irq(m->mock, VDF_IRQ_MSIX, ent & 7u);
			}
		}
		return;
	}
	if (vdf_irq_enabled_count(dev, VDF_IRQ_MSI)) {
		m->stats.irqs++;
		(void)vdf_mock_raise_irq(m->mock, VDF_IRQ_MSI, 0);
	} else if (vdf_irq_enabled_count(dev, VDF_IRQ_INTX)) {
		m->stats.irqs++;
		(void)vdf_mock_raise_irq(m->mock, VDF_IRQ_INTX, 0);
	}
}

static void set_cause(struct mock_e1000 *m, uint32_t cause)
{
	if (vdf_irq_enabled_count(vdf_mock_dev(m->mock), VDF_IRQ_MSIX))
		cause = (cause & E1000_ICR_TXDW ? E1000E_ICR_TXQ0 : 0) |
			(cause & E1000_ICR_RXT0 ? E1000E_ICR_RXQ0 : 0) |
			(cause & E1000_ICR_LSC ? E1000E_ICR_OTHER | E1000_ICR_LSC : 0);
	mock_e1000_set_reg(m, E1000_REG_ICR, mock_e1000_reg(m, E1000_REG_ICR) | cause);
	update_irq(m);
}

static void load_rar0(struct mock_e1000 *m)
{
	mock_e1000_set_reg(m, E1000_REG_RAL(0), (uint32_t)m->rar0[0] | (uint32_t)m->rar0[1] << 16);
	mock_e1000_set_reg(m, E1000_REG_RAH(0), (uint32_t)m->rar0[2] | BIT(31));
}

static void hw_reset(struct mock_e1000 *m)
{
	memset(m->bar, 0, BAR_SIZE);
	mock_e1000_set_reg(m, E1000_REG_CTRL, E1000_CTRL_SLU | E1000_CTRL_FD);
	mock_e1000_set_reg(m, E1000_REG_STATUS,
			   E1000_STATUS_LU | E1000_STATUS_FD | FIELD_PREP(E1000_STATUS_SPEED, 2));
	mock_e1000_set_reg(m, E1000_REG_EECD, E1000_EECD_PRES);
	if (is_82574(m))
		mock_e1000_set_reg(m, E1000E_REG_TARC0, E1000E_TARC_ENABLE | 3u);
	load_rar0(m);
	m->txlen = 0;
	m->stats.resets++;
}

/* --- TX: consume descriptors TDH..TDT ([SDM] 3.3) --- */

static void tx_run(struct mock_e1000 *m)
{
	uint64_t base = (uint64_t)mock_e1000_reg(m, E1000_REG_TDBAH) << 32 |
			(mock_e1000_reg(m, E1000_REG_TDBAL) & ~0xfu);
	uint32_t n = mock_e1000_reg(m, E1000_REG_TDLEN) / 16u;
	uint32_t cause = 0;

	if (m->tx_stopped || m->in_tx || !(mock_e1000_reg(m, E1000_REG_TCTL) & E1000_TCTL_EN) || !n)
		return;
	m->in_tx = true;
	while (mock_e1000_reg(m, E1000_REG_TDH) != mock_e1000_reg(m, E1000_REG_TDT)) {
		uint32_t tdh = mock_e1000_reg(m, E1000_REG_TDH);
		struct e1000_tx_desc *d;
		uint32_t lower, len = 0;
		uint8_t cmd;

		if (tdh >= n)
			break;
		d = vdf_mock_dma_ptr(m->mock, base + 16u * tdh, 16);
		if (!d) {
			m->stats.dma_errors++;
			break;
		}
		memcpy(&lower, (uint8_t *)d + 8, 4);
		lower = le32toh(lower);
		cmd = (uint8_t)(lower >> 24);
		if ((cmd & E1000_TXD_CMD_DEXT) && FIELD_GET(E1000_TXD_DTYP, lower) == 0) {
			/* context descriptor: nothing to send */
		} else {
			const void *src;

			len = (cmd & E1000_TXD_CMD_DEXT) ? FIELD_GET(E1000_TXD_LEN, lower)
							 : (lower & 0xffffu);
			src = vdf_mock_dma_ptr(m->mock, le64toh(d->addr), len);
			if (!src || m->txlen + len > FRAME_MAX) {
				m->stats.dma_errors++;
			} else {
				memcpy(m->txbuf + m->txlen, src, len);
				m->txlen += len;
			}
			if ((cmd & E1000_TXD_CMD_EOP) && m->ntx < MOCK_E1000_MAX_FRAMES) {
				m->tx_frames[m->ntx] = malloc(m->txlen ? m->txlen : 1);
				if (m->tx_frames[m->ntx]) {
					memcpy(m->tx_frames[m->ntx], m->txbuf, m->txlen);
					m->tx_lens[m->ntx] = (uint16_t)m->txlen;
					m->ntx++;
				}
				add_reg(m, E1000_REG_GPTC, 1);
				add_reg(m, E1000_REG_TPT, 1);
				add_reg(m, E1000_REG_GOTCL, m->txlen);
				m->txlen = 0;
			}
		}
		if (cmd & E1000_TXD_CMD_RS) {
			__atomic_store_n(&d->status, (uint8_t)(d->status | E1000_TXD_STAT_DD),
					 __ATOMIC_RELEASE);
			cause |= E1000_ICR_TXDW;
		}
		mock_e1000_set_reg(m, E1000_REG_TDH, tdh + 1 == n ? 0 : tdh + 1);
	}
	m->in_tx = false;
	if (cause)
		set_cause(m, cause | E1000_ICR_TXQE);
}

/* --- RX: fill descriptors RDH..RDT-1 from the queue ([SDM] 3.2) --- */

static void rx_run(struct mock_e1000 *m)
{
	uint64_t base = (uint64_t)mock_e1000_reg(m, E1000_REG_RDBAH) << 32 |
			(mock_e1000_reg(m, E1000_REG_RDBAL) & ~0xfu);
	uint32_t n = mock_e1000_reg(m, E1000_REG_RDLEN) / 16u;
	bool any = false;

	if (m->in_rx || !(mock_e1000_reg(m, E1000_REG_RCTL) & E1000_RCTL_EN) || !n)
		return;
	m->in_rx = true;
	while (m->rxq_count) {
		struct rxq_entry *q = &m->rxq[m->rxq_head];
		uint32_t rdh = mock_e1000_reg(m, E1000_REG_RDH);
		struct e1000_rx_desc *d;
		void *dst;

		if (rdh == mock_e1000_reg(m, E1000_REG_RDT) || rdh >= n) {
			add_reg(m, E1000_REG_RNBC, 1);
			add_reg(m, E1000_REG_MPC, 1);
			break;
		}
		d = vdf_mock_dma_ptr(m->mock, base + 16u * rdh, 16);
		dst = d ? vdf_mock_dma_ptr(m->mock, le64toh(d->addr),
					   VDF_MIN(q->rx.len, (uint16_t)E1000_RX_BUF_SIZE))
			: NULL;
		if (!dst) {
			m->stats.dma_errors++;
			break;
		}
		memcpy(dst, q->data, VDF_MIN(q->rx.len, (uint16_t)E1000_RX_BUF_SIZE));
		d->length = htole16(q->rx.bad_len ? q->rx.fake_len : q->rx.len);
		d->errors = q->rx.errors;
		d->csum = 0;
		__atomic_store_n(&d->status,
				 (uint8_t)(E1000_RXD_STAT_DD |
					   (q->rx.no_eop ? 0 : E1000_RXD_STAT_EOP) |
					   E1000_RXD_STAT_IXSM),
				 __ATOMIC_RELEASE);
		mock_e1000_set_reg(m, E1000_REG_RDH, rdh + 1 == n ? 0 : rdh + 1);
		add_reg(m, E1000_REG_GPRC, 1);
		add_reg(m, E1000_REG_TPR, 1);
		add_reg(m, E1000_REG_GORCL, q->rx.len);
		m->rxq_head = (m->rxq_head + 1) % RXQ_MAX;
		m->rxq_count--;
		any = true;
	}
	m->in_rx = false;
	if (any)
		set_cause(m, E1000_ICR_RXT0);
}

/* --- Register hooks --- */

static uint64_t bar_read(struct vdf_mock *vm, unsigned bar, uint64_t off, unsigned len, void *ctx)
{
	struct mock_e1000 *m = ctx;
	uint32_t v = mock_e1000_reg(m, (uint32_t)off & ~3u);

	(void)vm;
	(void)bar;
	(void)len;
	if (off == E1000_REG_ICR) {
		mock_e1000_set_reg(m, E1000_REG_ICR, 0); /* clear on read */
		return v;
	}
	/* Statistics clear on read; a 64-bit pair clears on the high half. */
	if (off >= E1000_STATS_FIRST && off < E1000_STATS_END) {
		bool low_of_pair = off == E1000_REG_GORCL || off == E1000_REG_GOTCL ||
				   off == E1000_REG_TORL || off == E1000_REG_TOTL;

		if (!low_of_pair) {
			mock_e1000_set_reg(m, (uint32_t)off, 0);
			if (off == E1000_REG_GORCH || off == E1000_REG_GOTCH ||
			    off == E1000_REG_TORH || off == E1000_REG_TOTH)
				mock_e1000_set_reg(m, (uint32_t)off - 4, 0);
		}
	}
	return v;
}

static void bar_write(struct vdf_mock *vm, unsigned bar, uint64_t off, unsigned len, uint64_t val,
		      void *ctx)
{
	struct mock_e1000 *m = ctx;
	uint32_t v = (uint32_t)val, a;

	(void)vm;
	(void)bar;
	(void)len;
	switch (off) {
	case E1000_REG_CTRL:
		if (v & E1000_CTRL_RST) {
			hw_reset(m);
			return;
		}
		mock_e1000_set_reg(m, E1000_REG_CTRL, v);
		return;
	case E1000_REG_STATUS:
		return; /* read-only */
	case E1000_REG_EERD:
		if (!(v & E1000_EERD_START)) {
			mock_e1000_set_reg(m, E1000_REG_EERD, 0);
			return;
		}
		m->stats.eerd_reads++;
		a = is_82574(m) ? FIELD_GET(E1000E_EERD_ADDR, v) : FIELD_GET(E1000_EERD_ADDR, v);
		mock_e1000_set_reg(m, E1000_REG_EERD,
				   (v & ~E1000_EERD_START) |
				       (is_82574(m) ? E1000E_EERD_DONE : E1000_EERD_DONE) |
				       (a < E1000_EEPROM_WORDS
					    ? (uint32_t)FIELD_PREP(E1000_EERD_DATA, m->eeprom[a])
					    : 0));
		return;
	case E1000_REG_MDIC:
		a = FIELD_GET(E1000_MDIC_REG, v);
		if (FIELD_GET(E1000_MDIC_PHY, v) != E1000_PHY_ADDR)
			v |= E1000_MDIC_ERROR;
		else if (FIELD_GET(E1000_MDIC_OP, v) == E1000_MDIC_OP_READ)
			v = (v & ~E1000_MDIC_DATA) |
			    (a == E1000_PHY_ID1	   ? 0x0141u
			     : a == E1000_PHY_BMSR ? (E1000_BMSR_LINK | E1000_BMSR_AN_OK)
						   : 0u);
		mock_e1000_set_reg(m, E1000_REG_MDIC, v | E1000_MDIC_READY);
		return;
	case E1000_REG_ICR: /* write 1 to clear */
		mock_e1000_set_reg(m, E1000_REG_ICR, mock_e1000_reg(m, E1000_REG_ICR) & ~v);
		return;
	case E1000_REG_ICS:
		set_cause(m, v);
		return;
	case E1000_REG_IMS:
		mock_e1000_set_reg(m, E1000_REG_IMS, mock_e1000_reg(m, E1000_REG_IMS) | v);
		update_irq(m);
		return;
	case E1000_REG_IMC:
		mock_e1000_set_reg(m, E1000_REG_IMS, mock_e1000_reg(m, E1000_REG_IMS) & ~v);
		return;
	case E1000_REG_TDT:
		m->stats.tdt_writes++;
		mock_e1000_set_reg(m, E1000_REG_TDT, v & 0xffffu);
		tx_run(m);
		return;
	case E1000_REG_TCTL:
		mock_e1000_set_reg(m, E1000_REG_TCTL, v);
		tx_run(m);
		return;
	case E1000_REG_RDT:
		m->stats.rdt_writes++;
		mock_e1000_set_reg(m, E1000_REG_RDT, v & 0xffffu);
		rx_run(m);
		return;
	case E1000_REG_RCTL:
		mock_e1000_set_reg(m, E1000_REG_RCTL, v);
		rx_run(m);
		return;
	default:
		mock_e1000_set_reg(m, (uint32_t)off & ~3u, v);
		return;
	}
}

int mock_e1000_create(uint16_t device_id, const uint8_t mac[6], struct mock_e1000 **out)
{
	struct vdf_mock_config cfg = {0};
	struct mock_e1000 *m;
	int rc;

	if (device_id != E1000_DEV_82540EM && device_id != E1000_DEV_82574L)
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->device_id = device_id;
	m->rxq = calloc(RXQ_MAX, sizeof(*m->rxq));
	m->tx_frames = calloc(MOCK_E1000_MAX_FRAMES, sizeof(*m->tx_frames));
	m->tx_lens = calloc(MOCK_E1000_MAX_FRAMES, sizeof(*m->tx_lens));
	if (!m->rxq || !m->tx_frames || !m->tx_lens) {
		rc = -ENOMEM;
		goto out_free;
	}
	cfg.id.vendor = E1000_VENDOR_INTEL;
	cfg.id.device = device_id;
	cfg.id.class_code = 0x02; /* network controller, Ethernet */
	cfg.bar_size[0] = BAR_SIZE;
	cfg.bar_size[1] = 0x40;
	cfg.bar_is_io[1] = 1;
	cfg.irq_count[VDF_IRQ_INTX] = 1;
	if (device_id == E1000_DEV_82574L) {
		cfg.irq_count[VDF_IRQ_MSI] = 1;
		cfg.irq_count[VDF_IRQ_MSIX] = E1000E_MSIX_VECTORS;
	}
	cfg.has_reset = device_id == E1000_DEV_82574L;
	rc = vdf_mock_create(&cfg, &m->mock);
	if (rc)
		goto out_free;
	m->bar = vdf_mock_bar(m->mock, 0);
	for (unsigned i = 0; i < 3; i++)
		m->eeprom[i] = m->rar0[i] = (uint16_t)(mac[2 * i] | mac[2 * i + 1] << 8);
	rc = vdf_mock_hook(m->mock, 0, 0, BAR_SIZE, bar_read, bar_write, m);
	if (rc) {
		vdf_dev_close(vdf_mock_dev(m->mock));
		goto out_free;
	}
	hw_reset(m);
	m->stats.resets = 0;
	*out = m;
	return 0;

out_free:
	free(m->rxq);
	free(m->tx_frames);
	free(m->tx_lens);
	free(m);
	return rc;
}

void mock_e1000_destroy(struct mock_e1000 *m)
{
	if (!m)
		return;
	vdf_dev_close(vdf_mock_dev(m->mock));
	for (unsigned i = 0; i < m->ntx; i++)
		free(m->tx_frames[i]);
	free(m->tx_frames);
	free(m->tx_lens);
	free(m->rxq);
	free(m);
}

struct vdf_dev *mock_e1000_dev(struct mock_e1000 *m)
{
	return vdf_mock_dev(m->mock);
}

struct vdf_mock *mock_e1000_mock(struct mock_e1000 *m)
{
	return m->mock;
}

void mock_e1000_set_eeprom(struct mock_e1000 *m, unsigned word, uint16_t val)
{
	if (word < E1000_EEPROM_WORDS)
		m->eeprom[word] = val;
}

void mock_e1000_set_tx_stopped(struct mock_e1000 *m, bool stopped)
{
	m->tx_stopped = stopped;
	if (!stopped)
		tx_run(m);
}

int mock_e1000_inject(struct mock_e1000 *m, const struct mock_e1000_rx *rx)
{
	struct rxq_entry *q;

	if (m->rxq_count == RXQ_MAX || rx->len > FRAME_MAX)
		return -ENOSPC;
	q = &m->rxq[(m->rxq_head + m->rxq_count) % RXQ_MAX];
	q->rx = *rx;
	memcpy(q->data, rx->data, rx->len);
	q->rx.data = q->data;
	m->rxq_count++;
	rx_run(m);
	return 0;
}

unsigned mock_e1000_rx_pending(const struct mock_e1000 *m)
{
	return m->rxq_count;
}

unsigned mock_e1000_tx_count(const struct mock_e1000 *m)
{
	return m->ntx;
}

const uint8_t *mock_e1000_tx_frame(const struct mock_e1000 *m, unsigned n, uint16_t *len)
{
	if (n >= m->ntx)
		return NULL;
	*len = m->tx_lens[n];
	return m->tx_frames[n];
}

void mock_e1000_get_stats(const struct mock_e1000 *m, struct mock_e1000_stats *st)
{
	*st = m->stats;
}
