// SPDX-License-Identifier: MIT
/*
 * The e1000 driver (drivers/e1000) against the register-file model in
 * mock_e1000.c: bring-up on both models, ring wrap in both directions, RX
 * buffer recycling, bad RX descriptors, oversized TX, all-ones registers, a
 * stuck transmitter, statistics across clear-on-read, filters, interrupts.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../drivers/e1000/e1000.h"
#include "mock_e1000.h"
#include "vdf/irq.h"
#include "vdf/log.h"
#include "vdf/net.h"

static const uint8_t MAC[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

struct fixture {
	struct mock_e1000 *m;
	struct e1000_opts opts;
	struct e1000_dev e;
	bool up;
};

static void quiet_log(int level, const char *component, const char *dev, const char *msg, void *ctx)
{
	(void)ctx;
	if (getenv("VDF_TEST_LOG"))
		fprintf(stderr, "<%d> %s %s: %s\n", level, component, dev, msg);
}

static int group_setup(void **state)
{
	(void)state;
	vdf_log_set_sink(quiet_log, NULL);
	vdf_log_set_level(LOG_DEBUG);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	vdf_log_set_sink(NULL, NULL);
	vdf_log_set_level(LOG_INFO);
	return 0;
}

static int setup_model(void **state, uint16_t device)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || mock_e1000_create(device, MAC, &f->m))
		return -1;
	e1000_opts_default(&f->opts);
	f->opts.rx_ring = 16;
	f->opts.tx_ring = 16;
	f->opts.rx_bufs = 32;
	f->opts.tx_bufs = 32;
	f->opts.irq = E1000_IRQ_POLL;
	f->opts.tx_timeout_ms = 50;
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_model(state, E1000_DEV_82540EM);
}

static int setup_e(void **state)
{
	return setup_model(state, E1000_DEV_82574L);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	vdf_mock_clear_faults(mock_e1000_mock(f->m));
	if (f->up)
		e1000_fini(&f->e);
	mock_e1000_destroy(f->m);
	free(f);
	return 0;
}

static void bring_up(struct fixture *f)
{
	assert_int_equal(e1000_init(&f->e, mock_e1000_dev(f->m), &f->opts), 0);
	f->up = true;
}

static void fill(uint8_t *p, uint32_t len, uint32_t seed)
{
	memset(p, 0xff, 6);
	memcpy(p + 6, MAC, 6);
	p[12] = 0x88;
	p[13] = 0xb5;
	for (uint32_t i = 14; i < len; i++)
		p[i] = (uint8_t)(seed * 7 + i);
}

static struct vdf_net_buf *tx_frame(struct fixture *f, uint32_t len, uint32_t seed)
{
	struct vdf_net_buf *b = vdf_net_tx_alloc(&f->e.ndev);

	assert_non_null(b);
	fill(b->data, len, seed);
	b->len = len;
	return b;
}

static void inject(struct fixture *f, uint32_t len, uint32_t seed)
{
	uint8_t frame[2048];
	struct mock_e1000_rx rx = {.data = frame, .len = (uint16_t)len};

	fill(frame, len, seed);
	assert_int_equal(mock_e1000_inject(f->m, &rx), 0);
}

static void test_bringup_82540(void **state)
{
	struct fixture *f = *state;
	struct vdf_net_info info;
	uint32_t rctl;

	bring_up(f);
	vdf_net_info(&f->e.ndev, &info);
	assert_memory_equal(info.mac, MAC, 6);
	assert_true(f->e.mac_from_eeprom);
	assert_true(info.link.up);
	assert_int_equal(info.link.speed_mbps, 1000);
	assert_true(info.link.full_duplex);
	assert_string_equal(info.model, "82540EM (e1000)");
	rctl = mock_e1000_reg(f->m, E1000_REG_RCTL);
	assert_true(rctl & E1000_RCTL_EN);
	assert_true(rctl & E1000_RCTL_SECRC);
	assert_true(rctl & E1000_RCTL_BAM);
	assert_true(mock_e1000_reg(f->m, E1000_REG_TCTL) & E1000_TCTL_EN);
	assert_int_equal(mock_e1000_reg(f->m, E1000_REG_RDLEN), 16 * 16);
	/* one slot stays empty: 15 buffers posted */
	assert_int_equal(mock_e1000_reg(f->m, E1000_REG_RDT), 15);
	assert_int_equal(mock_e1000_reg(f->m, E1000_REG_RAH(0)) & BIT(31), BIT(31));
	uint16_t id1;
	assert_int_equal(e1000_phy_read(&f->e, E1000_PHY_ID1, &id1), 0);
	assert_int_equal(id1, 0x0141);
}

static void test_bringup_82574(void **state)
{
	struct fixture *f = *state;
	struct vdf_net_info info;

	f->opts.irq = E1000_IRQ_AUTO;
	bring_up(f);
	vdf_net_info(&f->e.ndev, &info);
	assert_memory_equal(info.mac, MAC, 6); /* through the 82574's EERD layout */
	assert_true(info.features & VDF_NET_F_RX_CSUM);
	assert_int_equal(f->e.irq_kind, VDF_IRQ_MSIX);
	assert_int_equal(f->e.nvec, 3);
	assert_true(mock_e1000_reg(f->m, E1000_REG_CTRL_EXT) & E1000E_CTRL_EXT_DRV_LOAD);
	assert_true(mock_e1000_reg(f->m, E1000E_REG_IVAR) & E1000E_IVAR_VALID);
	assert_true(mock_e1000_reg(f->m, E1000_REG_IMS) & E1000E_ICR_RXQ0);
}

static void test_mac_fallback_ral(void **state)
{
	struct fixture *f = *state;

	/* EEPROM word 0 now makes a multicast address: invalid, RAR0 is used. */
	mock_e1000_set_eeprom(f->m, 0, 0x0001);
	bring_up(f);
	assert_false(f->e.mac_from_eeprom);
	assert_memory_equal(f->e.mac, MAC, 6);
}

static void test_tx_wrap(void **state)
{
	struct fixture *f = *state;
	struct vdf_net_pool_stats ps;
	unsigned sent = 0;

	bring_up(f);
	/* 100 frames through a 16-entry ring, 8 per batch. */
	while (sent < 100) {
		struct vdf_net_buf *bufs[8];
		int q;

		for (unsigned i = 0; i < 8; i++)
			bufs[i] = tx_frame(f, 60 + (sent + i) % 1400, sent + i);
		q = vdf_net_tx_batch(&f->e.ndev, bufs, 8);
		assert_true(q > 0);
		vdf_net_recycle(&f->e.ndev, bufs + q, 8 - (unsigned)q);
		sent += (unsigned)q;
	}
	(void)e1000_tx_reap(&f->e);
	assert_int_equal(mock_e1000_tx_count(f->m), sent);
	for (unsigned i = 0; i < sent; i++) {
		uint16_t len;
		const uint8_t *p = mock_e1000_tx_frame(f->m, i, &len);
		uint8_t want[2048];

		assert_non_null(p);
		assert_int_equal(len, 60 + i % 1400);
		fill(want, len, i);
		assert_memory_equal(p, want, len);
	}
	assert_int_equal(f->e.ndev.stats.tx_packets, sent);
	vdf_net_pool_stats(f->e.tx_pool, &ps);
	assert_int_equal(ps.available, ps.count); /* every buffer came back */
	assert_int_equal(ps.double_puts, 0);
	assert_int_equal(e1000_tx_pending(&f->e), 0);
}

static void test_tx_ring_full(void **state)
{
	struct fixture *f = *state;
	struct vdf_net_buf *bufs[20];
	int q;

	bring_up(f);
	mock_e1000_set_tx_stopped(f->m, true);
	for (unsigned i = 0; i < 20; i++)
		bufs[i] = tx_frame(f, 100, i);
	q = vdf_net_tx_batch(&f->e.ndev, bufs, 20);
	assert_int_equal(q, 15); /* 16-entry ring, one slot free */
	assert_int_equal(vdf_net_tx_batch(&f->e.ndev, bufs + 15, 5), 0);
	assert_int_equal(f->e.ndev.stats.tx_ring_full, 2);
	vdf_net_recycle(&f->e.ndev, bufs + 15, 5);
	mock_e1000_set_tx_stopped(f->m, false);
	(void)e1000_tx_reap(&f->e);
	assert_int_equal(mock_e1000_tx_count(f->m), 15);
}

static void test_rx_wrap_and_recycle(void **state)
{
	struct fixture *f = *state;
	struct vdf_net_pool_stats ps;
	unsigned got = 0, seed = 0;

	bring_up(f);
	/* 100 frames through a 16-entry ring, a few at a time. */
	while (got < 100) {
		struct vdf_net_buf *out[VDF_NET_BATCH_MAX];
		int n;

		for (unsigned i = 0; i < 5 && seed < 100; i++, seed++)
			inject(f, 60 + seed * 13 % 1454, seed);
		n = vdf_net_rx_batch(&f->e.ndev, out, VDF_NET_BATCH_MAX);
		assert_true(n >= 0);
		for (int i = 0; i < n; i++, got++) {
			uint8_t want[2048];
			uint32_t len = 60 + got * 13 % 1454;

			assert_int_equal(out[i]->len, len);
			fill(want, len, got);
			assert_memory_equal(out[i]->data, want, len);
		}
		assert_int_equal(vdf_net_recycle(&f->e.ndev, out, (unsigned)n), 0);
		if (!n)
			assert_int_equal(e1000_poll(&f->e), 0);
	}
	assert_int_equal(f->e.ndev.stats.rx_packets, 100);
	assert_int_equal(mock_e1000_rx_pending(f->m), 0);
	/* Only the posted buffers are out; nothing leaked. */
	vdf_net_pool_stats(f->e.rx_pool, &ps);
	assert_int_equal(ps.count - ps.available, 15);
	assert_int_equal(ps.double_puts, 0);
}

static void test_rx_double_recycle_refused(void **state)
{
	struct fixture *f = *state;
	struct vdf_net_buf *out[4];
	struct vdf_net_pool_stats ps;
	struct vdf_net_buf copy;

	bring_up(f);
	inject(f, 100, 1);
	assert_int_equal(vdf_net_rx_batch(&f->e.ndev, out, 4), 1);
	assert_int_equal(vdf_net_recycle(&f->e.ndev, out, 1), 0);
	assert_int_equal(vdf_net_recycle(&f->e.ndev, out, 1), 1); /* twice: refused */
	copy = *out[0];						  /* not a pool slot */
	assert_int_equal(vdf_net_buf_put(&copy), -EINVAL);
	vdf_net_pool_stats(f->e.rx_pool, &ps);
	assert_int_equal(ps.double_puts, 2);
	assert_int_equal(ps.count - ps.available, 15);
}

static void test_rx_pool_exhausted(void **state)
{
	struct fixture *f = *state;
	struct vdf_net_buf *held[64];
	struct vdf_net_pool_stats ps;
	uint8_t frame[60] = {0};
	unsigned nheld = 0;

	bring_up(f);
	/* The consumer holds every buffer: the ring drains, the device counts
	 * missed frames, and everything resumes when buffers come back. */
	for (unsigned round = 0; round < 4; round++) {
		int n;

		for (unsigned i = 0; i < 15; i++)
			if (mock_e1000_inject(f->m,
					      &(struct mock_e1000_rx){.data = frame, .len = 60}))
				break;
		n = vdf_net_rx_batch(&f->e.ndev, held + nheld, VDF_NET_BATCH_MAX - nheld);
		assert_true(n >= 0);
		nheld += (unsigned)n;
	}
	vdf_net_pool_stats(f->e.rx_pool, &ps);
	assert_int_equal(ps.available, 0); /* the consumer and the ring hold the whole pool */
	assert_true(nheld >= 32 - 15);
	assert_true(f->e.ndev.stats.rx_no_buffer > 0);
	assert_true(mock_e1000_rx_pending(f->m) > 0);
	assert_int_equal(vdf_net_recycle(&f->e.ndev, held, nheld), 0);
	assert_int_equal(e1000_poll(&f->e), 0); /* refill: the model delivers the rest */
	assert_true(e1000_stats_update(&f->e) == 0);
	assert_true(f->e.ndev.stats.hw.rx_no_buffers > 0);
}

static void test_rx_bad_descriptors(void **state)
{
	struct fixture *f = *state;
	struct vdf_net_buf *out[8];
	uint8_t frame[128];
	struct vdf_net_pool_stats ps;

	bring_up(f);
	fill(frame, sizeof(frame), 9);
	/* CRC error, a length beyond the buffer, a zero length, a frame without
	 * EOP followed by its tail: all dropped; then a good one gets through. */
	assert_int_equal(
	    mock_e1000_inject(
		f->m,
		&(struct mock_e1000_rx){.data = frame, .len = 128, .errors = E1000_RXD_ERR_CE}),
	    0);
	assert_int_equal(mock_e1000_inject(f->m, &(struct mock_e1000_rx){.data = frame,
									 .len = 128,
									 .bad_len = true,
									 .fake_len = 4000}),
			 0);
	assert_int_equal(
	    mock_e1000_inject(
		f->m,
		&(struct mock_e1000_rx){.data = frame, .len = 128, .bad_len = true, .fake_len = 0}),
	    0);
	assert_int_equal(
	    mock_e1000_inject(f->m,
			      &(struct mock_e1000_rx){.data = frame, .len = 128, .no_eop = true}),
	    0);
	assert_int_equal(mock_e1000_inject(f->m, &(struct mock_e1000_rx){.data = frame, .len = 64}),
			 0);
	inject(f, 128, 9);
	assert_int_equal(vdf_net_rx_batch(&f->e.ndev, out, 8), 1);
	assert_int_equal(out[0]->len, 128);
	assert_memory_equal(out[0]->data, frame, 128);
	assert_int_equal(f->e.ndev.stats.rx_errors, 1);
	assert_int_equal(f->e.ndev.stats.rx_length_errors, 3);
	assert_int_equal(f->e.ndev.stats.rx_dropped, 4);
	assert_int_equal(vdf_net_recycle(&f->e.ndev, out, 1), 0);
	vdf_net_pool_stats(f->e.rx_pool, &ps);
	assert_int_equal(ps.count - ps.available, 15); /* dropped buffers came back */
}

static void test_tx_oversized_refused(void **state)
{
	struct fixture *f = *state;
	struct vdf_net_buf *b, *bufs[2];

	bring_up(f);
	b = tx_frame(f, 100, 0);
	b->len = 1519; /* 1500 + 14 + 4 is the largest */
	assert_int_equal(vdf_net_tx_batch(&f->e.ndev, &b, 1), -EMSGSIZE);
	b->len = 0;
	assert_int_equal(vdf_net_tx_batch(&f->e.ndev, &b, 1), -EMSGSIZE);
	assert_int_equal(f->e.ndev.stats.tx_errors, 2);
	assert_int_equal(mock_e1000_tx_count(f->m), 0);
	/* A good frame before a bad one: the good one goes, the count says so. */
	bufs[0] = tx_frame(f, 1518, 1);
	b->len = 5000;
	bufs[1] = b;
	assert_int_equal(vdf_net_tx_batch(&f->e.ndev, bufs, 2), 1);
	assert_int_equal(vdf_net_buf_put(b), 0); /* the refused one is still ours */
	(void)e1000_tx_reap(&f->e);
	assert_int_equal(mock_e1000_tx_count(f->m), 1);
}

static void test_tx_csum_context(void **state)
{
	struct fixture *f = *state;
	struct vdf_net_buf *b[2];
	uint32_t tail;

	bring_up(f);
	b[0] = tx_frame(f, 100, 0);
	b[1] = tx_frame(f, 100, 1);
	for (unsigned i = 0; i < 2; i++) {
		b[i]->flags = VDF_NET_TX_CSUM;
		b[i]->csum_start = 34;
		b[i]->csum_offset = 16;
	}
	assert_int_equal(vdf_net_tx_batch(&f->e.ndev, b, 2), 2);
	tail = mock_e1000_reg(f->m, E1000_REG_TDT);
	assert_int_equal(tail, 3); /* one context descriptor for both frames */
	{
		const struct e1000_tx_ctx_desc *c = (const void *)&f->e.txd[0];

		assert_int_equal(c->tucss, 34);
		assert_int_equal(c->tucso, 50);
	}
	(void)e1000_tx_reap(&f->e);
	assert_int_equal(mock_e1000_tx_count(f->m), 2);
	/* A checksum field past the frame is refused. */
	b[0] = tx_frame(f, 40, 2);
	b[0]->flags = VDF_NET_TX_CSUM;
	b[0]->csum_start = 34;
	b[0]->csum_offset = 16;
	assert_int_equal(vdf_net_tx_batch(&f->e.ndev, b, 1), -EINVAL);
	assert_int_equal(vdf_net_buf_put(b[0]), 0);
}

static void test_all_ones_init(void **state)
{
	struct fixture *f = *state;
	struct vdf_mock_fault fault = {.kind = VDF_MOCK_FAULT_ALL_ONES};

	assert_int_equal(vdf_mock_inject(mock_e1000_mock(f->m), &fault), 0);
	assert_int_equal(e1000_init(&f->e, mock_e1000_dev(f->m), &f->opts), -ENODEV);
}

static void test_all_ones_running(void **state)
{
	struct fixture *f = *state;
	struct vdf_mock_fault fault = {.kind = VDF_MOCK_FAULT_ALL_ONES};
	struct vdf_net_buf *b, *out[4];
	struct vdf_net_stats st;

	bring_up(f);
	b = tx_frame(f, 100, 0);
	assert_int_equal(vdf_mock_inject(mock_e1000_mock(f->m), &fault), 0);
	assert_int_equal(e1000_poll(&f->e), -ENODEV);
	assert_true(f->e.gone);
	assert_int_equal(vdf_net_tx_batch(&f->e.ndev, &b, 1), -ENODEV);
	assert_int_equal(vdf_net_rx_batch(&f->e.ndev, out, 4), -ENODEV);
	assert_int_equal(vdf_net_get_stats(&f->e.ndev, &st), -ENODEV);
	assert_int_equal(e1000_handle_irq(&f->e, 0), -ENODEV);
	assert_int_equal(vdf_net_buf_put(b), 0);
	/* teardown works without touching the device */
}

static void test_reset_timeout(void **state)
{
	struct fixture *f = *state;
	struct vdf_mock_fault fault = {.kind = VDF_MOCK_FAULT_REG_STUCK,
				       .bar = 0,
				       .off = E1000_REG_CTRL,
				       .value = E1000_CTRL_RST};

	assert_int_equal(vdf_mock_inject(mock_e1000_mock(f->m), &fault), 0);
	assert_int_equal(e1000_init(&f->e, mock_e1000_dev(f->m), &f->opts), -ETIMEDOUT);
}

static void test_eerd_timeout_uses_rar(void **state)
{
	struct fixture *f = *state;
	struct vdf_mock_fault fault = {
	    .kind = VDF_MOCK_FAULT_REG_STUCK, .bar = 0, .off = E1000_REG_EERD, .value = 0};

	/* EERD never says DONE: the address comes from RAR0. */
	assert_int_equal(vdf_mock_inject(mock_e1000_mock(f->m), &fault), 0);
	bring_up(f);
	assert_false(f->e.mac_from_eeprom);
	assert_memory_equal(f->e.mac, MAC, 6);
}

static void test_stuck_tx_reset(void **state)
{
	struct fixture *f = *state;
	struct vdf_net_buf *bufs[4];
	struct vdf_net_pool_stats ps;

	bring_up(f);
	mock_e1000_set_tx_stopped(f->m, true);
	for (unsigned i = 0; i < 4; i++)
		bufs[i] = tx_frame(f, 200, i);
	assert_int_equal(vdf_net_tx_batch(&f->e.ndev, bufs, 4), 4);
	assert_int_equal(e1000_poll(&f->e), 0);
	assert_int_equal(f->e.ndev.stats.tx_resets, 0);
	usleep(80 * 1000); /* > tx_timeout_ms */
	assert_int_equal(e1000_poll(&f->e), 0);
	assert_int_equal(f->e.ndev.stats.tx_resets, 1);
	assert_int_equal(f->e.ndev.stats.tx_dropped, 4);
	assert_int_equal(e1000_tx_pending(&f->e), 0);
	vdf_net_pool_stats(f->e.tx_pool, &ps);
	assert_int_equal(ps.available, ps.count);
	/* The transmitter works again after the ring reset. */
	mock_e1000_set_tx_stopped(f->m, false);
	bufs[0] = tx_frame(f, 200, 9);
	assert_int_equal(vdf_net_tx_batch(&f->e.ndev, bufs, 1), 1);
	(void)e1000_tx_reap(&f->e);
	assert_int_equal(f->e.ndev.stats.tx_packets, 1);
	assert_int_equal(mock_e1000_tx_count(f->m), 1);
}

static void test_stats_accumulate(void **state)
{
	struct fixture *f = *state;
	struct vdf_net_stats st;

	bring_up(f);
	mock_e1000_set_reg(f->m, E1000_REG_GPRC, 5);
	mock_e1000_set_reg(f->m, E1000_REG_CRCERRS, 2);
	mock_e1000_set_reg(f->m, E1000_REG_GORCL, 0xfffffff0u);
	mock_e1000_set_reg(f->m, E1000_REG_GORCH, 1);
	assert_int_equal(vdf_net_get_stats(&f->e.ndev, &st), 0);
	assert_int_equal(st.hw.rx_good, 5);
	assert_int_equal(st.hw.rx_crc_errors, 2);
	assert_int_equal(st.hw.rx_octets, 0x1fffffff0ull);
	/* Cleared on read: a second read adds only what is new. */
	assert_int_equal(mock_e1000_reg(f->m, E1000_REG_GPRC), 0);
	assert_int_equal(mock_e1000_reg(f->m, E1000_REG_GORCL), 0);
	mock_e1000_set_reg(f->m, E1000_REG_GPRC, 7);
	mock_e1000_set_reg(f->m, E1000_REG_GORCL, 0x10);
	assert_int_equal(vdf_net_get_stats(&f->e.ndev, &st), 0);
	assert_int_equal(st.hw.rx_good, 12);
	assert_int_equal(st.hw.rx_crc_errors, 2);
	assert_int_equal(st.hw.rx_octets, 0x200000000ull);
}

static void test_filters(void **state)
{
	struct fixture *f = *state;
	static const uint8_t mc[2][6] = {{0x01, 0x00, 0x5e, 0x00, 0x00, 0x01},
					 {0x33, 0x33, 0x00, 0x00, 0x00, 0x01}};
	static const uint8_t newmac[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
	uint32_t h;

	bring_up(f);
	assert_int_equal(vdf_net_set_multicast(&f->e.ndev, mc, 2, false), 0);
	h = e1000_mta_hash(mc[0]);
	assert_int_equal(h, 0x010);
	assert_true(mock_e1000_reg(f->m, E1000_REG_MTA + 4 * (h >> 5)) & BIT(h & 31));
	assert_false(mock_e1000_reg(f->m, E1000_REG_RCTL) & E1000_RCTL_MPE);
	assert_int_equal(vdf_net_set_multicast(&f->e.ndev, mc, 0, true), 0);
	assert_true(mock_e1000_reg(f->m, E1000_REG_RCTL) & E1000_RCTL_MPE);
	assert_int_equal(vdf_net_set_multicast(&f->e.ndev, (const uint8_t(*)[6]) & MAC, 1, false),
			 -EINVAL); /* unicast is not a multicast address */
	assert_int_equal(vdf_net_set_promisc(&f->e.ndev, true), 0);
	assert_true(mock_e1000_reg(f->m, E1000_REG_RCTL) & E1000_RCTL_UPE);
	assert_int_equal(vdf_net_set_promisc(&f->e.ndev, false), 0);
	assert_false(mock_e1000_reg(f->m, E1000_REG_RCTL) & E1000_RCTL_UPE);
	assert_int_equal(vdf_net_set_mac(&f->e.ndev, newmac), 0);
	assert_int_equal(mock_e1000_reg(f->m, E1000_REG_RAL(0)), 0x33221102u);
	assert_int_equal(mock_e1000_reg(f->m, E1000_REG_RAH(0)), 0x5544u | BIT(31));
	assert_int_equal(vdf_net_set_mac(&f->e.ndev, mc[0]), -EINVAL);
}

static void test_coalesce(void **state)
{
	struct fixture *f = *state;
	struct vdf_net_coalesce c = {.irq_min_interval_us = 100,
				     .rx_delay_us = 10,
				     .rx_max_delay_us = 100,
				     .tx_delay_us = 20,
				     .tx_max_delay_us = 200};
	struct vdf_net_coalesce got;

	bring_up(f);
	assert_int_equal(vdf_net_set_coalesce(&f->e.ndev, &c), 0);
	assert_int_equal(mock_e1000_reg(f->m, E1000_REG_ITR), 391); /* 100 us / 256 ns */
	assert_int_equal(mock_e1000_reg(f->m, E1000_REG_RDTR), 10); /* 1.024 us units */
	assert_int_equal(mock_e1000_reg(f->m, E1000_REG_RADV), 98);
	assert_int_equal(mock_e1000_reg(f->m, E1000_REG_TADV), 196);
	vdf_net_get_coalesce(&f->e.ndev, &got);
	assert_memory_equal(&got, &c, sizeof(c));
	c.rx_max_delay_us = 1000000;
	assert_int_equal(vdf_net_set_coalesce(&f->e.ndev, &c), -ERANGE);
}

static int link_calls;
static void on_link(struct vdf_net_dev *ndev, const struct vdf_net_link *l, void *arg)
{
	(void)ndev;
	(void)arg;
	link_calls += l->up ? 1 : 100;
}

static int rx_calls;
static void on_rx(struct vdf_net_dev *ndev, void *arg)
{
	(void)ndev;
	(void)arg;
	rx_calls++;
}

static void test_intx_interrupts_and_link(void **state)
{
	struct fixture *f = *state;
	struct vdf_dev *dev = mock_e1000_dev(f->m);
	struct vdf_net_buf *out[4];

	f->opts.irq = E1000_IRQ_INTX;
	bring_up(f);
	assert_int_equal(f->e.irq_kind, VDF_IRQ_INTX);
	link_calls = rx_calls = 0;
	vdf_net_set_link_cb(&f->e.ndev, on_link, NULL);
	vdf_net_set_rx_cb(&f->e.ndev, on_rx, NULL);
	(void)vdf_irq_ack(dev, VDF_IRQ_INTX, 0);
	inject(f, 100, 1);
	assert_true(vdf_irq_ack(dev, VDF_IRQ_INTX, 0) >= 1);
	assert_int_equal(vdf_irq_mask(dev, VDF_IRQ_INTX, 0), 0); /* as VFIO does */
	assert_int_equal(e1000_handle_irq(&f->e, 0), 0);
	assert_int_equal(rx_calls, 1);
	assert_int_equal(mock_e1000_reg(f->m, E1000_REG_ICR), 0); /* read cleared it */
	assert_int_equal(vdf_net_rx_batch(&f->e.ndev, out, 4), 1);
	assert_int_equal(vdf_net_recycle(&f->e.ndev, out, 1), 0);
	/* Link down: LSC interrupt, callback, then up again. */
	mock_e1000_set_reg(f->m, E1000_REG_STATUS, 0);
	mock_e1000_set_reg(f->m, E1000_REG_ICS, 0);
	assert_int_equal(vdf_mock_raise_irq(mock_e1000_mock(f->m), VDF_IRQ_INTX, 0), 0);
	mock_e1000_set_reg(f->m, E1000_REG_ICR, E1000_ICR_LSC);
	assert_int_equal(e1000_handle_irq(&f->e, 0), 0);
	assert_int_equal(link_calls, 100);
	assert_false(f->e.ndev.link.up);
	mock_e1000_set_reg(f->m, E1000_REG_STATUS,
			   E1000_STATUS_LU | E1000_STATUS_FD | FIELD_PREP(E1000_STATUS_SPEED, 1));
	assert_int_equal(e1000_poll(&f->e), 0);
	assert_int_equal(link_calls, 101);
	assert_int_equal(f->e.ndev.link.speed_mbps, 100);
	assert_int_equal(f->e.ndev.stats.link_changes, 3); /* bring-up, down, up */
}

static void test_msix_vectors(void **state)
{
	struct fixture *f = *state;
	struct vdf_dev *dev = mock_e1000_dev(f->m);
	struct vdf_net_buf *b;

	f->opts.irq = E1000_IRQ_MSIX;
	bring_up(f);
	rx_calls = 0;
	vdf_net_set_rx_cb(&f->e.ndev, on_rx, NULL);
	inject(f, 100, 1);
	assert_true(vdf_irq_ack(dev, VDF_IRQ_MSIX, E1000E_VEC_RX) >= 1);
	assert_int_equal(e1000_handle_irq(&f->e, E1000E_VEC_RX), 0);
	assert_int_equal(rx_calls, 1);
	b = tx_frame(f, 100, 2);
	assert_int_equal(vdf_net_tx_batch(&f->e.ndev, &b, 1), 1);
	assert_true(vdf_irq_ack(dev, VDF_IRQ_MSIX, E1000E_VEC_TX) >= 1);
	assert_int_equal(e1000_handle_irq(&f->e, E1000E_VEC_TX), 0);
	assert_int_equal(f->e.ndev.stats.tx_packets, 1);
	assert_int_equal(e1000_handle_irq(&f->e, 7), -EINVAL);
}

static void test_bad_opts(void **state)
{
	struct fixture *f = *state;

	f->opts.rx_ring = 12; /* not a multiple of 8 */
	assert_int_equal(e1000_init(&f->e, mock_e1000_dev(f->m), &f->opts), -EINVAL);
	f->opts.rx_ring = 16;
	f->opts.rx_bufs = 8; /* fewer buffers than descriptors */
	assert_int_equal(e1000_init(&f->e, mock_e1000_dev(f->m), &f->opts), -EINVAL);
}

static void test_dma_map_failure(void **state)
{
	struct fixture *f = *state;
	struct vdf_mock_fault fault = {.kind = VDF_MOCK_FAULT_DMA_MAP, .count = 2};

	assert_int_equal(vdf_mock_inject(mock_e1000_mock(f->m), &fault), 0);
	assert_int_equal(e1000_init(&f->e, mock_e1000_dev(f->m), &f->opts), -EFAULT);
	/* and a clean bring-up afterwards */
	vdf_mock_clear_faults(mock_e1000_mock(f->m));
	bring_up(f);
}

static void test_mac_helpers(void **state)
{
	uint8_t mac[6];
	char s[18];

	(void)state;
	assert_int_equal(vdf_net_mac_parse("52:54:00:AB:cd:01", mac), 0);
	vdf_net_mac_format(mac, s);
	assert_string_equal(s, "52:54:00:ab:cd:01");
	assert_int_equal(vdf_net_mac_parse("52:54:00:ab:cd", mac), -EINVAL);
	assert_int_equal(vdf_net_mac_parse("52:54:00:ab:cd:01:", mac), -EINVAL);
	assert_int_equal(vdf_net_mac_parse("5g:54:00:ab:cd:01", mac), -EINVAL);
	assert_true(vdf_net_mac_valid(MAC));
	memset(mac, 0, 6);
	assert_false(vdf_net_mac_valid(mac));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_bringup_82540, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bringup_82574, setup_e, teardown),
	    cmocka_unit_test_setup_teardown(test_mac_fallback_ral, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_eerd_timeout_uses_rar, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tx_wrap, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tx_ring_full, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rx_wrap_and_recycle, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rx_wrap_and_recycle, setup_e, teardown),
	    cmocka_unit_test_setup_teardown(test_rx_double_recycle_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rx_pool_exhausted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rx_bad_descriptors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tx_oversized_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tx_csum_context, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_all_ones_init, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_all_ones_running, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reset_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stuck_tx_reset, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stats_accumulate, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_filters, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_coalesce, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_intx_interrupts_and_link, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_msix_vectors, setup_e, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_opts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dma_map_failure, setup, teardown),
	    cmocka_unit_test(test_mac_helpers),
	};

	return cmocka_run_group_tests_name("e1000", tests, group_setup, group_teardown);
}
