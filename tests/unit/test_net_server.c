// SPDX-License-Identifier: MIT
/*
 * The net ring server (lib/class/net_server.c) serving the e1000 driver on
 * the register-file model (mock_e1000.c) to a client in this process: the
 * HELLO/WELCOME exchange over a socketpair with a sealed memfd, zero-copy RX
 * (the model DMAs into the client's frames), copy-mode RX without the driver
 * hook, TX from client frames with completions, every kind of bad descriptor
 * (range, direction, length, flags, frames the client does not own), drops
 * when the rx ring is full, one session at a time, an unsealed memfd, and
 * teardown that hands the RX ring back to the driver's own pool so the next
 * session (a reconnecting client) works.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../drivers/e1000/e1000.h"
#include "mock_e1000.h"
#include "vdf/event.h"
#include "vdf/log.h"
#include "vdf/netserver.h"
#include "vdf/netsession.h"
#include "vdf/ring.h"

static const uint8_t MAC[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

struct client {
	int sock, memfd, drv_kick, cli_kick;
	struct vdf_nets_hello h;
	struct vdf_nets_welcome w;
	uint8_t *region;
	struct vdf_ring ring[VDF_NETS_NRINGS];
};

struct fixture {
	struct mock_e1000 *m;
	struct e1000_opts opts;
	struct e1000_dev e;
	struct vdf_event_loop *loop;
	struct vdf_net_server *srv;
	struct vdf_net_pool *own_rx_pool;
	struct client c;
};

static void quiet_log(int level, const char *component, const char *dev, const char *msg, void *ctx)
{
	(void)ctx;
	if (getenv("VDF_TEST_LOG"))
		fprintf(stderr, "<%d> %s %s: %s\n", level, component, dev, msg);
}

/* The same hook as drivers/e1000/main.c's. */
static int attach_rx_pool(void *arg, struct vdf_net_pool *pool)
{
	struct fixture *f = arg;
	int rc;

	if (pool && !f->own_rx_pool)
		f->own_rx_pool = f->e.rx_pool;
	e1000_rx_stop(&f->e);
	f->e.rx_pool = pool ? pool : f->own_rx_pool;
	if (!pool)
		f->own_rx_pool = NULL;
	rc = e1000_rx_start(&f->e);
	return rc == -ENOMEM && pool ? 0 : rc;
}

static int setup_mode(void **state, bool zero_copy)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct vdf_net_server_opts o = {.generation = 4, .drain_timeout_ms = 200};

	vdf_log_set_sink(quiet_log, NULL);
	vdf_log_set_level(LOG_DEBUG);
	if (!f || mock_e1000_create(E1000_DEV_82540EM, MAC, &f->m))
		return -1;
	e1000_opts_default(&f->opts);
	f->opts.rx_ring = 16;
	f->opts.tx_ring = 16;
	f->opts.rx_bufs = 32;
	f->opts.tx_bufs = 32;
	f->opts.irq = E1000_IRQ_POLL;
	f->opts.tx_timeout_ms = 50;
	if (e1000_init(&f->e, mock_e1000_dev(f->m), &f->opts))
		return -1;
	if (vdf_event_loop_create(&f->loop))
		return -1;
	if (zero_copy) {
		o.attach_rx_pool = attach_rx_pool;
		o.arg = f;
	}
	if (vdf_net_server_create(&f->e.ndev, mock_e1000_dev(f->m), f->loop, &o, &f->srv))
		return -1;
	f->c.sock = f->c.memfd = f->c.drv_kick = f->c.cli_kick = -1;
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_mode(state, true);
}

static int setup_copy(void **state)
{
	return setup_mode(state, false);
}

static void client_close(struct client *c)
{
	if (c->region)
		munmap(c->region, c->h.region_size);
	c->region = NULL;
	for (int *fd = &c->sock; fd <= &c->cli_kick; fd++) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
	}
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	vdf_net_server_destroy(f->srv);
	client_close(&f->c);
	vdf_event_loop_destroy(f->loop);
	e1000_fini(&f->e);
	mock_e1000_destroy(f->m);
	free(f);
	vdf_log_set_sink(NULL, NULL);
	vdf_log_set_level(LOG_INFO);
	return 0;
}

static void run(struct fixture *f, int ms)
{
	uint64_t end = vdf_now_ns() + (uint64_t)ms * 1000000ull;

	do {
		if (e1000_poll(&f->e)) /* the interrupts the polled model does not raise */
			break;
		(void)vdf_event_loop_run_once(f->loop, 1);
	} while (vdf_now_ns() < end);
}

/* Build the client's region and open a session; returns the server's add_client result. */
static int client_open(struct fixture *f, struct vdf_nets_hello *h, bool seal)
{
	struct client *c = &f->c;
	int sv[2], fds[VDF_NETS_NFDS], rc;

	c->h = *h;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	c->sock = sv[0];
	c->memfd = memfd_create("vdf-net-test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	assert_true(c->memfd >= 0);
	assert_int_equal(ftruncate(c->memfd, (off_t)h->region_size), 0);
	if (seal)
		assert_int_equal(fcntl(c->memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW), 0);
	c->region = mmap(NULL, h->region_size, PROT_READ | PROT_WRITE, MAP_SHARED, c->memfd, 0);
	assert_true(c->region != MAP_FAILED);
	for (unsigned i = 0; i < VDF_NETS_NRINGS; i++) {
		uint32_t ss = vdf_nets_ring_slot_size(i);

		assert_int_equal(vdf_ring_init(c->region + h->ring_off[i],
					       vdf_ring_layout_size(h->ring_cap[i], ss),
					       h->ring_cap[i], ss, &c->ring[i]),
				 0);
	}
	c->drv_kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	c->cli_kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	fds[VDF_NETS_FD_MEM] = c->memfd;
	fds[VDF_NETS_FD_DRV_KICK] = c->drv_kick;
	fds[VDF_NETS_FD_CLI_KICK] = c->cli_kick;
	rc = vdf_net_server_add_client(f->srv, sv[1], &(struct vdf_client_grant){.client_id = 9});
	if (rc)
		return rc;
	assert_int_equal(vdf_nets_send_hello(c->sock, h, fds), 0);
	run(f, 5);
	return vdf_nets_recv_welcome(c->sock, &c->w, 1000);
}

static struct vdf_nets_hello layout(uint32_t cap, uint32_t rx, uint32_t tx)
{
	struct vdf_nets_hello h;

	assert_int_equal(vdf_nets_layout(cap, rx, tx, &h), 0);
	return h;
}

static void kick(struct client *c)
{
	uint64_t one = 1;

	assert_int_equal(write(c->drv_kick, &one, sizeof(one)), sizeof(one));
}

static void put_fill(struct client *c, uint32_t slot)
{
	struct vdf_nets_slot_wire d = {.slot = htole32(slot)};

	assert_true(vdf_ring_produce(&c->ring[VDF_NETS_FILL], &d) >= 0);
}

static void put_tx(struct client *c, uint32_t slot, uint16_t len, uint16_t flags)
{
	struct vdf_nets_frame_wire d = {
	    .slot = htole32(slot), .len = htole16(len), .flags = htole16(flags)};

	assert_true(vdf_ring_produce(&c->ring[VDF_NETS_TX], &d) >= 0);
}

static uint8_t *frame(struct client *c, uint32_t slot)
{
	return c->region + vdf_nets_frame_off(&c->h, slot);
}

static void pattern(uint8_t *p, uint32_t len, uint32_t seed)
{
	memset(p, 0xff, 6);
	memcpy(p + 6, MAC, 6);
	p[12] = 0x88;
	p[13] = 0xb5;
	for (uint32_t i = 14; i < len; i++)
		p[i] = (uint8_t)(seed * 13 + i);
}

static void inject(struct fixture *f, uint32_t len, uint32_t seed)
{
	uint8_t buf[2048];

	pattern(buf, len, seed);
	assert_int_equal(
	    mock_e1000_inject(f->m, &(struct mock_e1000_rx){.data = buf, .len = (uint16_t)len}), 0);
}

/* Take what the rx ring holds: check each frame against its seed. */
static unsigned drain_rx(struct client *c, uint32_t *seed, uint32_t len, uint32_t *slots)
{
	struct vdf_nets_frame_wire d;
	unsigned n = 0;

	while (vdf_ring_consume(&c->ring[VDF_NETS_RX], &d) == 0) {
		uint32_t slot, l, fl;
		uint8_t want[2048];

		assert_int_equal(vdf_nets_check_rx(&c->h, &d, &slot, &l, &fl), 0);
		assert_int_equal(l, len);
		pattern(want, len, (*seed)++);
		assert_memory_equal(frame(c, slot), want, len);
		if (slots)
			slots[n] = slot;
		n++;
	}
	return n;
}

static void test_welcome(void **state)
{
	struct fixture *f = *state;
	struct vdf_nets_hello h = layout(64, 32, 32);
	struct vdf_net_server_stats st;

	assert_int_equal(client_open(f, &h, true), 0);
	assert_int_equal(f->c.w.status, 0);
	assert_int_equal(f->c.w.generation, 4);
	assert_memory_equal(f->c.w.mac, MAC, 6);
	assert_int_equal(f->c.w.mtu, 1500);
	assert_int_equal(f->c.w.max_frame, 1518); /* room for a VLAN tag */
	assert_true(f->c.w.flags & VDF_NETS_F_LINK_UP);
	vdf_net_server_get_stats(f->srv, &st);
	assert_int_equal(st.sessions, 1);
	assert_true(st.zero_copy);
	assert_ptr_not_equal(f->e.rx_pool, f->own_rx_pool); /* the client's pool now */
}

static void test_rx_zero_copy(void **state)
{
	struct fixture *f = *state;
	struct vdf_nets_hello h = layout(64, 32, 32);
	struct vdf_net_server_stats st;
	uint32_t seed = 0, slots[64];
	unsigned got = 0;

	assert_int_equal(client_open(f, &h, true), 0);
	for (uint32_t i = 0; i < 8; i++)
		put_fill(&f->c, i);
	kick(&f->c);
	run(f, 5);
	for (uint32_t i = 0; i < 20; i++) /* more than the fill frames: the rest waits */
		inject(f, 100 + i % 3 * 0, i);
	run(f, 5);
	got = drain_rx(&f->c, &seed, 100, slots);
	assert_int_equal(got, 8);
	for (unsigned i = 0; i < got; i++)
		assert_true(slots[i] < 8); /* received into the frames the client gave */
	/* The client gives them back: the waiting frames arrive. */
	for (unsigned i = 0; i < got; i++)
		put_fill(&f->c, slots[i]);
	for (uint32_t i = 8; i < 32; i++)
		put_fill(&f->c, i);
	kick(&f->c);
	run(f, 10);
	got = drain_rx(&f->c, &seed, 100, NULL);
	assert_int_equal(got, 12);
	vdf_net_server_get_stats(f->srv, &st);
	assert_int_equal(st.rx_frames, 20);
	assert_int_equal(st.rx_copied, 0);
	assert_int_equal(st.fills, 40);
	assert_int_equal(st.invalid + st.not_owned, 0);
}

static void test_rx_copy_mode(void **state)
{
	struct fixture *f = *state;
	struct vdf_nets_hello h = layout(64, 32, 32);
	struct vdf_net_server_stats st;
	uint32_t seed = 0;

	assert_int_equal(client_open(f, &h, true), 0);
	vdf_net_server_get_stats(f->srv, &st);
	assert_false(st.zero_copy);
	for (uint32_t i = 0; i < 4; i++)
		put_fill(&f->c, i);
	kick(&f->c);
	run(f, 5);
	for (uint32_t i = 0; i < 6; i++)
		inject(f, 200, i);
	run(f, 5);
	assert_int_equal(drain_rx(&f->c, &seed, 200, NULL), 4);
	vdf_net_server_get_stats(f->srv, &st);
	assert_int_equal(st.rx_copied, 4);
	assert_int_equal(st.rx_no_fill, 2);
}

static void test_rx_ring_full(void **state)
{
	struct fixture *f = *state;
	struct vdf_nets_hello h = layout(64, 32, 32);
	struct vdf_net_server_stats st;
	uint32_t seed = 0;

	h.ring_cap[VDF_NETS_RX] = 4; /* fits in the space laid out for 64 */
	assert_int_equal(client_open(f, &h, true), 0);
	for (uint32_t i = 0; i < 16; i++)
		put_fill(&f->c, i);
	kick(&f->c);
	run(f, 5);
	for (uint32_t i = 0; i < 10; i++)
		inject(f, 64, i);
	run(f, 5);
	assert_int_equal(drain_rx(&f->c, &seed, 64, NULL), 4);
	vdf_net_server_get_stats(f->srv, &st);
	assert_int_equal(st.rx_ring_full, 6);
	assert_int_equal(st.rx_frames, 4);
}

static void test_tx(void **state)
{
	struct fixture *f = *state;
	struct vdf_nets_hello h = layout(64, 32, 32);
	struct vdf_net_server_stats st;
	struct vdf_nets_slot_wire d;
	unsigned comps = 0;

	assert_int_equal(client_open(f, &h, true), 0);
	for (uint32_t i = 0; i < 24; i++) { /* more than the device's ring of 16 */
		pattern(frame(&f->c, 32 + i), 60 + i, i);
		put_tx(&f->c, 32 + i, (uint16_t)(60 + i), 0);
	}
	kick(&f->c);
	run(f, 30);
	assert_int_equal(mock_e1000_tx_count(f->m), 24);
	for (unsigned i = 0; i < 24; i++) {
		uint16_t len;
		const uint8_t *p = mock_e1000_tx_frame(f->m, i, &len);
		uint8_t want[2048];

		pattern(want, 60 + i, i);
		assert_non_null(p);
		assert_int_equal(len, 60 + i);
		assert_memory_equal(p, want, len);
	}
	while (vdf_ring_consume(&f->c.ring[VDF_NETS_COMP], &d) == 0) {
		uint32_t slot;

		assert_int_equal(vdf_nets_check_comp(&f->c.h, &d, &slot), 0);
		comps++;
	}
	assert_int_equal(comps, 24);
	vdf_net_server_get_stats(f->srv, &st);
	assert_int_equal(st.tx_frames, 24);
	assert_int_equal(st.completions, 24);
}

static void test_bad_descriptors(void **state)
{
	struct fixture *f = *state;
	struct vdf_nets_hello h = layout(64, 32, 32);
	struct vdf_net_server_stats st;
	struct vdf_nets_slot_wire d;
	uint32_t seed = 0;

	assert_int_equal(client_open(f, &h, true), 0);
	put_fill(&f->c, 32);  /* a TX frame in the fill ring */
	put_fill(&f->c, 999); /* out of range */
	put_fill(&f->c, 1);
	put_fill(&f->c, 1); /* twice: the driver owns it now */
	{
		struct vdf_nets_slot_wire bad = {.slot = htole32(2), .reserved = 1};

		assert_true(vdf_ring_produce(&f->c.ring[VDF_NETS_FILL], &bad) >= 0);
	}
	pattern(frame(&f->c, 40), 100, 0);
	put_tx(&f->c, 5, 100, 0);    /* an RX frame */
	put_tx(&f->c, 40, 13, 0);    /* too short */
	put_tx(&f->c, 40, 1519, 0);  /* longer than max_frame */
	put_tx(&f->c, 40, 100, 1);   /* flags */
	put_tx(&f->c, 1000, 100, 0); /* out of range */
	put_tx(&f->c, 40, 100, 0);   /* good */
	put_tx(&f->c, 40, 100, 0);   /* already the driver's */
	kick(&f->c);
	run(f, 20);
	vdf_net_server_get_stats(f->srv, &st);
	assert_int_equal(st.invalid, 8);
	assert_true(st.not_owned >= 1);
	assert_int_equal(st.fills, 1);
	assert_int_equal(mock_e1000_tx_count(f->m), 1);
	assert_int_equal(vdf_ring_consume(&f->c.ring[VDF_NETS_COMP], &d), 0);
	assert_int_equal(le32toh(d.slot), 40);
	/* The one good fill frame still receives. */
	inject(f, 80, 0);
	run(f, 5);
	assert_int_equal(drain_rx(&f->c, &seed, 80, NULL), 1);
	/* A corrupt ring index ends the session; the driver carries on. */
	f->c.ring[VDF_NETS_TX].hdr->prod += 1000;
	kick(&f->c);
	run(f, 5);
	vdf_net_server_get_stats(f->srv, &st);
	assert_int_equal(st.ring_errors, 1);
	assert_int_equal(st.sessions, 0);
	assert_null(f->own_rx_pool); /* the RX ring is the driver's again */
}

static void test_one_session_and_reconnect(void **state)
{
	struct fixture *f = *state;
	struct vdf_nets_hello h = layout(64, 32, 32);
	struct vdf_net_server_stats st;
	uint32_t seed = 0;
	int sv[2];
	struct vdf_nets_welcome w;

	assert_int_equal(client_open(f, &h, true), 0);
	for (uint32_t i = 0; i < 8; i++)
		put_fill(&f->c, i);
	kick(&f->c);
	run(f, 5);
	/* A second client is refused. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(
	    vdf_net_server_add_client(f->srv, sv[1], &(struct vdf_client_grant){.client_id = 10}),
	    -EBUSY);
	assert_int_equal(vdf_nets_recv_welcome(sv[0], &w, 1000), 0);
	assert_int_equal(w.status, -EBUSY);
	close(sv[0]);
	/* The client goes (EOF): frames the device held go back, the ring is the driver's. */
	client_close(&f->c);
	run(f, 5);
	vdf_net_server_get_stats(f->srv, &st);
	assert_int_equal(st.sessions, 0);
	assert_int_equal(st.sessions_closed, 1);
	assert_null(f->own_rx_pool);
	/* Without a client, received frames are dropped, not stuck. */
	inject(f, 64, 0);
	run(f, 5);
	assert_int_equal(mock_e1000_rx_pending(f->m), 0);
	/* Reconnect, with promiscuous mode and a new MAC in the HELLO. */
	h.flags = VDF_NETS_HELLO_F_PROMISC | VDF_NETS_HELLO_F_SET_MAC;
	memcpy(h.mac, "\x02\x00\x00\x00\x00\x07", 6);
	assert_int_equal(client_open(f, &h, true), 0);
	assert_int_equal(f->c.w.status, 0);
	assert_memory_equal(f->c.w.mac, "\x02\x00\x00\x00\x00\x07", 6);
	assert_true(mock_e1000_reg(f->m, E1000_REG_RCTL) & E1000_RCTL_UPE);
	for (uint32_t i = 0; i < 4; i++)
		put_fill(&f->c, i);
	kick(&f->c);
	run(f, 5);
	inject(f, 70, 0);
	run(f, 5);
	assert_int_equal(drain_rx(&f->c, &seed, 70, NULL), 1);
}

static void test_refusals(void **state)
{
	struct fixture *f = *state;
	struct vdf_nets_hello h = layout(64, 32, 32);
	struct vdf_net_server_stats st;
	int sv[2];

	assert_int_equal(client_open(f, &h, false), 0); /* not sealed */
	assert_int_equal(f->c.w.status, -EPERM);
	client_close(&f->c);
	run(f, 2);
	h = layout(16, 32, 32); /* completion ring smaller than the TX frames */
	assert_int_equal(client_open(f, &h, true), 0);
	assert_int_equal(f->c.w.status, -EINVAL);
	client_close(&f->c);
	run(f, 2);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(
	    vdf_net_server_add_client(f->srv, sv[1], &(struct vdf_client_grant){.unit = 1}),
	    -ENODEV);
	close(sv[0]);
	vdf_net_server_get_stats(f->srv, &st);
	assert_int_equal(st.sessions_refused, 3);
	assert_int_equal(st.sessions, 0);
	assert_int_equal(vdf_net_server_add_client(NULL, -1, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_welcome, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rx_zero_copy, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rx_copy_mode, setup_copy, teardown),
	    cmocka_unit_test_setup_teardown(test_rx_ring_full, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tx, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_descriptors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_one_session_and_reconnect, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
