// SPDX-License-Identifier: MIT
/*
 * Descriptor rings ([SDM] 3.2 receive, 3.3 transmit, 14.4-14.5 init): legacy
 * descriptors, one frame per RX buffer (RCTL.BSIZE 2048, no long packets),
 * one descriptor per TX frame (plus a context descriptor when the checksum
 * offload position changes).
 *
 * Ring indexes: RX descriptors rx_next..rx_fill-1 hold posted buffers; one
 * slot stays empty so RDT == RDH always means "no buffers". TX descriptors
 * tx_clean..tx_tail-1 belong to the device until it writes DD back (RS is set
 * on every descriptor).
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "e1000.h"
#include "vdf/event.h"
#include "vdf/log.h"

static unsigned ring_next(unsigned i, unsigned count)
{
	return i + 1 == count ? 0 : i + 1;
}

uint32_t e1000_max_frame(const struct e1000_dev *e)
{
	(void)e;
	return E1000_ETH_MTU + E1000_ETH_HLEN + E1000_ETH_VLAN_HLEN;
}

int e1000_rings_alloc(struct e1000_dev *e)
{
	size_t rx_bytes = (size_t)e->opts.rx_ring * sizeof(struct e1000_rx_desc);
	size_t tx_bytes = (size_t)e->opts.tx_ring * sizeof(struct e1000_tx_desc);
	int rc;

	e->rx_count = e->opts.rx_ring;
	e->tx_count = e->opts.tx_ring;
	e->rx_bufs = calloc(e->rx_count, sizeof(*e->rx_bufs));
	e->tx_bufs = calloc(e->tx_count, sizeof(*e->tx_bufs));
	if (!e->rx_bufs || !e->tx_bufs)
		return -ENOMEM;
	/* Both rings in one mapping; RDBAL/TDBAL need 16-byte alignment, the
	 * TX ring starts on a 128-byte boundary as RDLEN is a multiple of 128. */
	rc = vdf_dma_alloc(e->dev, rx_bytes + tx_bytes, VDF_DMA_BIDIRECTIONAL, &e->ring_mem);
	if (rc)
		return rc;
	e->rxd = e->ring_mem->va;
	e->txd = (struct e1000_tx_desc *)((uint8_t *)e->ring_mem->va + rx_bytes);
	e->rxd_iova = e->ring_mem->iova;
	e->txd_iova = e->ring_mem->iova + rx_bytes;
	rc = vdf_net_pool_create(e->dev, E1000_RX_BUF_SIZE, e->opts.rx_bufs, &e->rx_pool);
	if (rc)
		return rc;
	return vdf_net_pool_create(e->dev, E1000_RX_BUF_SIZE, e->opts.tx_bufs, &e->tx_pool);
}

void e1000_rings_free(struct e1000_dev *e)
{
	vdf_net_pool_destroy(e->tx_pool);
	vdf_net_pool_destroy(e->rx_pool);
	vdf_dma_free(e->ring_mem);
	free(e->tx_bufs);
	free(e->rx_bufs);
	e->tx_pool = e->rx_pool = NULL;
	e->ring_mem = NULL;
	e->rxd = NULL;
	e->txd = NULL;
	e->rx_bufs = e->tx_bufs = NULL;
}

/* --- Receive --- */

/*
 * Post free pool buffers. RDT is written in batches of a quarter ring (at most
 * 32), or at once with `force`: fewer MMIO writes, and QEMU's e1000 model,
 * which on every RDT write delivers the frames it queued while the ring was
 * empty and drops those that do not fit, is handed room for a batch at a time.
 */
unsigned e1000_rx_refill_tail(struct e1000_dev *e, bool force)
{
	unsigned n = 0, batch = VDF_MIN(32u, e->rx_count / 4);

	while (ring_next(e->rx_fill, e->rx_count) != e->rx_next) {
		struct vdf_net_buf *b = vdf_net_buf_get(e->rx_pool);
		struct e1000_rx_desc *d = &e->rxd[e->rx_fill];

		if (!b) {
			/* The consumer holds every buffer: the device will count
			 * RNBC/MPC until some come back. */
			e->ndev.stats.rx_no_buffer++;
			break;
		}
		d->addr = htole64(b->iova);
		d->length = 0;
		d->csum = 0;
		d->errors = 0;
		d->special = 0;
		__atomic_store_n(&d->status, 0, __ATOMIC_RELAXED);
		e->rx_bufs[e->rx_fill] = b;
		e->rx_fill = ring_next(e->rx_fill, e->rx_count);
		n++;
	}
	if (e->rx_fill != e->rx_tail_hw &&
	    (force || (e->rx_fill + e->rx_count - e->rx_tail_hw) % e->rx_count >= batch)) {
		vdf_dma_sync_for_device(e->ring_mem, 0, (size_t)e->rx_count * sizeof(*e->rxd));
		e1000_wr(e, E1000_REG_RDT, e->rx_fill); /* the write orders the descriptors first */
		e->rx_tail_hw = e->rx_fill;
	}
	return n;
}

unsigned e1000_rx_refill(struct e1000_dev *e)
{
	return e1000_rx_refill_tail(e, true);
}

int e1000_rx_start(struct e1000_dev *e)
{
	memset(e->rxd, 0, (size_t)e->rx_count * sizeof(*e->rxd));
	e->rx_next = e->rx_fill = e->rx_tail_hw = 0;
	e->rx_in_frame = false;
	/* [SDM] 14.4: ring registers, then RCTL. */
	e1000_wr(e, E1000_REG_RDBAL, (uint32_t)e->rxd_iova);
	e1000_wr(e, E1000_REG_RDBAH, (uint32_t)(e->rxd_iova >> 32));
	e1000_wr(e, E1000_REG_RDLEN, e->rx_count * (uint32_t)sizeof(struct e1000_rx_desc));
	e1000_wr(e, E1000_REG_RDH, 0);
	e1000_wr(e, E1000_REG_RDT, 0);
	e1000_wr(e, E1000_REG_RXCSUM,
		 e->model->rx_csum ? (E1000_RXCSUM_IPOFLD | E1000_RXCSUM_TUOFLD) : 0);
	e1000_write_rctl(e);
	if (!e1000_rx_refill(e))
		return -ENOMEM;
	return 0;
}

void e1000_rx_stop(struct e1000_dev *e)
{
	if (!e->rxd)
		return;
	if (!e->gone && e->bar.len)
		e1000_wr(e, E1000_REG_RCTL, 0);
	for (unsigned i = e->rx_next; i != e->rx_fill; i = ring_next(i, e->rx_count)) {
		(void)vdf_net_buf_put(e->rx_bufs[i]);
		e->rx_bufs[i] = NULL;
	}
	e->rx_next = e->rx_fill = e->rx_tail_hw = 0;
}

/* Decide what a completed descriptor holds: 0 deliver, else why it is dropped. */
static int rx_classify(struct e1000_dev *e, uint8_t status, uint8_t errors, uint16_t len,
		       const struct vdf_net_buf *b)
{
	struct vdf_net_stats *st = &e->ndev.stats;

	if (e->rx_in_frame) { /* the rest of a frame that did not fit one buffer */
		if (status & E1000_RXD_STAT_EOP)
			e->rx_in_frame = false;
		return -EMSGSIZE;
	}
	if (!(status & E1000_RXD_STAT_EOP)) {
		e->rx_in_frame = true;
		st->rx_length_errors++;
		st->rx_dropped++;
		VDF_LOG_RL(LOG_WARNING, "e1000", e->name,
			   "RX frame spans buffers (%u bytes in the first): dropped", len);
		return -EMSGSIZE;
	}
	if (errors & E1000_RXD_ERR_FRAME) {
		st->rx_errors++;
		st->rx_dropped++;
		VDF_LOG_RL(LOG_WARNING, "e1000", e->name, "RX error 0x%02x: frame dropped", errors);
		return -EIO;
	}
	if (len < VDF_NET_ETH_HLEN || len > b->cap || len > E1000_RX_BUF_SIZE) {
		st->rx_length_errors++;
		st->rx_dropped++;
		VDF_LOG_RL(LOG_WARNING, "e1000", e->name,
			   "RX descriptor with length %u (buffer %u): dropped", len, b->cap);
		return -EMSGSIZE;
	}
	return 0;
}

static uint32_t rx_csum_flags(const struct e1000_dev *e, uint8_t status, uint8_t errors)
{
	uint32_t f = 0;

	if (!e->model->rx_csum || (status & E1000_RXD_STAT_IXSM))
		return 0;
	if (status & E1000_RXD_STAT_IPCS)
		f |= (errors & E1000_RXD_ERR_IPE) ? VDF_NET_RX_CSUM_BAD : VDF_NET_RX_IP_CSUM_OK;
	if (status & (E1000_RXD_STAT_TCPCS | E1000E_RXD_STAT_UDPCS))
		f |= (errors & E1000_RXD_ERR_TCPE) ? VDF_NET_RX_CSUM_BAD : VDF_NET_RX_L4_CSUM_OK;
	return f;
}

int e1000_rx_batch(struct e1000_dev *e, struct vdf_net_buf **out, unsigned max)
{
	struct vdf_net_stats *st = &e->ndev.stats;
	unsigned n = 0;

	if (e->gone)
		return -ENODEV;
	if (!e->started)
		return -EAGAIN;
	while (n < max && e->rx_next != e->rx_fill) {
		struct e1000_rx_desc *d = &e->rxd[e->rx_next];
		uint8_t status = __atomic_load_n(&d->status, __ATOMIC_ACQUIRE);
		struct vdf_net_buf *b;
		uint8_t errors;
		uint16_t len;

		if (!(status & E1000_RXD_STAT_DD))
			break;
		/* DD read first: the rest of the descriptor is complete after it. */
		vdf_dma_sync_for_cpu(e->ring_mem, 0, (size_t)e->rx_count * sizeof(*e->rxd));
		len = le16toh(d->length);
		errors = d->errors;
		b = e->rx_bufs[e->rx_next];
		e->rx_bufs[e->rx_next] = NULL;
		e->rx_next = ring_next(e->rx_next, e->rx_count);
		if (rx_classify(e, status, errors, len, b)) {
			(void)vdf_net_buf_put(b);
			continue;
		}
		b->len = len;
		b->flags = rx_csum_flags(e, status, errors);
		if (b->flags & VDF_NET_RX_CSUM_BAD)
			st->rx_csum_bad++;
		st->rx_packets++;
		st->rx_bytes += len;
		out[n++] = b;
	}
	e1000_rx_refill_tail(e, false);
	return (int)n;
}

/* --- Transmit --- */

unsigned e1000_tx_pending(const struct e1000_dev *e)
{
	return (e->tx_tail + e->tx_count - e->tx_clean) % e->tx_count;
}

static unsigned tx_free(const struct e1000_dev *e)
{
	return e->tx_count - 1 - e1000_tx_pending(e);
}

void e1000_tx_start(struct e1000_dev *e)
{
	memset(e->txd, 0, (size_t)e->tx_count * sizeof(*e->txd));
	e->tx_clean = e->tx_tail = 0;
	e->tx_ctx_valid = false;
	/* [SDM] 14.5: ring registers, TIPG, then TCTL. */
	e1000_wr(e, E1000_REG_TDBAL, (uint32_t)e->txd_iova);
	e1000_wr(e, E1000_REG_TDBAH, (uint32_t)(e->txd_iova >> 32));
	e1000_wr(e, E1000_REG_TDLEN, e->tx_count * (uint32_t)sizeof(struct e1000_tx_desc));
	e1000_wr(e, E1000_REG_TDH, 0);
	e1000_wr(e, E1000_REG_TDT, 0);
	e1000_wr(e, E1000_REG_TIPG, e->model->tipg);
	e1000_wr(e, E1000_REG_TCTL,
		 E1000_TCTL_EN | E1000_TCTL_PSP | E1000_TCTL_RTLC |
		     (uint32_t)FIELD_PREP(E1000_TCTL_CT, E1000_TCT_CT_DEFAULT) |
		     (uint32_t)FIELD_PREP(E1000_TCTL_COLD, E1000_TCT_COLD_FDX));
	e->tx_progress_ns = vdf_now_ns();
	e->tx_last_tdh = 0;
}

void e1000_tx_stop(struct e1000_dev *e)
{
	if (!e->txd)
		return;
	if (!e->gone && e->bar.len)
		e1000_wr(e, E1000_REG_TCTL, E1000_TCTL_PSP);
	(void)e1000_tx_reap(e);
	for (unsigned i = e->tx_clean; i != e->tx_tail; i = ring_next(i, e->tx_count)) {
		if (e->tx_bufs[i]) {
			e->ndev.stats.tx_dropped++;
			(void)vdf_net_buf_put(e->tx_bufs[i]);
			e->tx_bufs[i] = NULL;
		}
	}
	e->tx_clean = e->tx_tail = 0;
}

unsigned e1000_tx_reap(struct e1000_dev *e)
{
	struct vdf_net_stats *st = &e->ndev.stats;
	unsigned n = 0, descs = 0;

	while (e->tx_clean != e->tx_tail) {
		struct e1000_tx_desc *d = &e->txd[e->tx_clean];
		struct vdf_net_buf *b;

		if (!(__atomic_load_n(&d->status, __ATOMIC_ACQUIRE) & E1000_TXD_STAT_DD))
			break;
		b = e->tx_bufs[e->tx_clean];
		e->tx_bufs[e->tx_clean] = NULL;
		if (b) {
			st->tx_packets++;
			st->tx_bytes += b->len;
			(void)vdf_net_buf_put(b);
			n++;
		}
		e->tx_clean = ring_next(e->tx_clean, e->tx_count);
		descs++;
	}
	if (descs) {
		e->tx_progress_ns = vdf_now_ns();
		e->tx_last_tdh = e->tx_clean;
	}
	return n;
}

static int tx_check(struct e1000_dev *e, const struct vdf_net_buf *b)
{
	if (!b || !b->pool || vdf_net_pool_dev(b->pool) != e->dev)
		return -EFAULT;
	if (!b->len || b->len > e1000_max_frame(e) || b->len > b->cap)
		return -EMSGSIZE;
	if (b->flags & VDF_NET_TX_CSUM) {
		unsigned pos = (unsigned)b->csum_start + b->csum_offset;

		/* TUCSS/TUCSO are 8-bit offsets; the field must be inside the frame. */
		if (b->csum_start < VDF_NET_ETH_HLEN || pos > 255 || pos + 2 > b->len)
			return -EINVAL;
	}
	return 0;
}

static uint8_t tx_cmd(const struct e1000_dev *e)
{
	uint8_t cmd = E1000_TXD_CMD_EOP | E1000_TXD_CMD_IFCS | E1000_TXD_CMD_RS;

	if (e->coal.tx_delay_us || e->coal.tx_max_delay_us)
		cmd |= E1000_TXD_CMD_IDE;
	return cmd;
}

/* Queue a context descriptor ([SDM] 3.3.6) for an L4 checksum at css/cso. */
static void tx_put_ctx(struct e1000_dev *e, uint8_t css, uint8_t cso)
{
	struct e1000_tx_ctx_desc *c = (struct e1000_tx_ctx_desc *)&e->txd[e->tx_tail];

	memset(c, 0, sizeof(*c));
	c->tucss = css;
	c->tucso = cso;
	c->tucse = 0;
	c->cmd_len =
	    htole32((uint32_t)FIELD_PREP(E1000_TXD_DTYP, E1000_TXD_DTYP_CTX) |
		    (uint32_t)FIELD_PREP(E1000_TXD_DCMD, E1000_TXD_CMD_DEXT | E1000_TXD_CMD_RS));
	e->tx_bufs[e->tx_tail] = NULL;
	e->tx_tail = ring_next(e->tx_tail, e->tx_count);
	e->tx_ctx_valid = true;
	e->tx_ctx_css = css;
	e->tx_ctx_cso = cso;
}

static void tx_put_frame(struct e1000_dev *e, struct vdf_net_buf *b)
{
	struct e1000_tx_desc *d = &e->txd[e->tx_tail];

	if (b->flags & VDF_NET_TX_CSUM) {
		struct e1000_tx_data_desc *dd = (struct e1000_tx_data_desc *)d;

		dd->addr = htole64(b->iova);
		dd->lower =
		    htole32((uint32_t)FIELD_PREP(E1000_TXD_LEN, b->len) |
			    (uint32_t)FIELD_PREP(E1000_TXD_DTYP, E1000_TXD_DTYP_DATA) |
			    (uint32_t)FIELD_PREP(E1000_TXD_DCMD, tx_cmd(e) | E1000_TXD_CMD_DEXT));
		dd->upper = htole32((uint32_t)FIELD_PREP(E1000_TXD_POPTS, E1000_TXD_POPTS_TXSM));
	} else {
		d->addr = htole64(b->iova);
		d->length = htole16((uint16_t)b->len);
		d->cso = 0;
		d->cmd = tx_cmd(e);
		d->status = 0;
		d->css = 0;
		d->special = 0;
	}
	e->tx_bufs[e->tx_tail] = b;
	e->tx_tail = ring_next(e->tx_tail, e->tx_count);
}

int e1000_tx_batch(struct e1000_dev *e, struct vdf_net_buf **bufs, unsigned n)
{
	struct vdf_net_stats *st = &e->ndev.stats;
	bool was_idle;
	unsigned queued = 0;
	int rc = 0;

	if (e->gone)
		return -ENODEV;
	if (!e->started)
		return -EAGAIN;
	(void)e1000_tx_reap(e);
	was_idle = e1000_tx_pending(e) == 0;
	for (; queued < n; queued++) {
		struct vdf_net_buf *b = bufs[queued];
		bool need_ctx;

		rc = tx_check(e, b);
		if (rc) {
			st->tx_errors++;
			VDF_LOG_RL(LOG_WARNING, "e1000", e->name,
				   "TX frame refused: %s (%u bytes, largest %u)",
				   rc == -EMSGSIZE ? "bad length"
				   : rc == -EFAULT ? "buffer not mapped for this device"
						   : "bad checksum offsets",
				   b ? b->len : 0, e1000_max_frame(e));
			break;
		}
		need_ctx = (b->flags & VDF_NET_TX_CSUM) &&
			   (!e->tx_ctx_valid || e->tx_ctx_css != b->csum_start ||
			    e->tx_ctx_cso != b->csum_start + b->csum_offset);
		if (tx_free(e) < 1u + need_ctx) {
			st->tx_ring_full++;
			break;
		}
		if (need_ctx)
			tx_put_ctx(e, (uint8_t)b->csum_start,
				   (uint8_t)(b->csum_start + b->csum_offset));
		tx_put_frame(e, b);
	}
	if (queued) {
		if (was_idle) {
			e->tx_progress_ns = vdf_now_ns();
			e->tx_last_tdh = e->tx_clean;
		}
		vdf_dma_sync_for_device(e->ring_mem, (size_t)e->rx_count * sizeof(*e->rxd),
					(size_t)e->tx_count * sizeof(*e->txd));
		e1000_wr(e, E1000_REG_TDT, e->tx_tail); /* orders the descriptors first */
		return (int)queued;
	}
	return rc;
}

int e1000_tx_check_stuck(struct e1000_dev *e)
{
	uint64_t now = vdf_now_ns();
	uint32_t tdh;
	int rc;

	if (!e->started || !e1000_tx_pending(e) ||
	    now - e->tx_progress_ns < (uint64_t)e->opts.tx_timeout_ms * 1000000u)
		return 0;
	rc = e1000_rd_live(e, E1000_REG_TDH, &tdh);
	if (rc)
		return rc;
	if (tdh != e->tx_last_tdh && tdh < e->tx_count) {
		/* Fetching, if not writing back yet: give it another period. */
		e->tx_last_tdh = tdh;
		e->tx_progress_ns = now;
		return 0;
	}
	vdf_log(LOG_WARNING, "e1000", e->name,
		"transmitter stuck: TDH %u, TDT %u, %u descriptors queued for %u ms: "
		"resetting the TX ring",
		tdh, e->tx_tail, e1000_tx_pending(e), e->opts.tx_timeout_ms);
	e1000_tx_stop(e);
	e1000_tx_start(e);
	e->ndev.stats.tx_resets++;
	return 1;
}
