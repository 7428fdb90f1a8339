// SPDX-License-Identifier: MIT
/*
 * vdf-e1000: the e1000/e1000e driver as a stand-alone program for development
 * and tests. It opens the device through VFIO itself (`--pci`); under the
 * device manager it receives granted fds instead (`--grant-fd N`), then locks
 * itself down (vdf/sandbox.h) before it touches the device.
 *
 *   vdf-e1000 --pci 0000:00:18.0 info
 *   vdf-e1000 --pci 0000:00:18.0 txtest 1000 1514      (JSON counts on stdout)
 *   vdf-e1000 --pci 0000:00:18.0 rxtest 1000 10
 *   vdf-e1000 --grant-fd 3 serve                        (under the manager; packet
 *                                                        clients: vdf/netserver.h)
 *
 * Test frames: EtherType 0x88b5 (IEEE 802 local experimental), payload "VDFT",
 * a 32-bit big-endian sequence number, then bytes (seq + i) & 0xff.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "e1000_driver.h"
#include "vdf/event.h"
#include "vdf/grant.h"
#include "vdf/irq.h"
#include "vdf/log.h"
#include "vdf/net.h"
#include "vdf/netserver.h"
#include "vdf/parse.h"
#include "vdf/sandbox.h"
#include "vdf/serve.h"

#define TEST_ETHERTYPE 0x88b5u
#define TEST_HDR       (VDF_NET_ETH_HLEN + 8u) /* Ethernet + magic + seq */

struct cli {
	const char *pci;
	int grant_fd;
	const char *cmd;
	uint64_t arg1, arg2;
	struct e1000_opts opts;
	uint8_t dst[VDF_NET_ETH_ALEN];
	unsigned batch;
	unsigned pace_us;
	bool promisc;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vdf-e1000 {--pci ADDR | --grant-fd N} [options] COMMAND [ARGS]\n"
		"commands:\n"
		"  info                   model, MAC address, link, interrupts (JSON with --json)\n"
		"  txtest COUNT SIZE      send COUNT test frames of SIZE bytes (60..1518);\n"
		"                         prints JSON counts\n"
		"  rxtest COUNT SECONDS   receive test frames until COUNT arrived or SECONDS\n"
		"                         passed; checks their payload; prints JSON counts\n"
		"  serve                  (with --grant-fd) run under the manager until STOP\n"
		"options:\n"
		"  --pci ADDR             PCI function bound to vfio-pci\n"
		"  --grant-fd N           take the device granted on socket fd N, sandboxed\n"
		"  --irq MODE             auto|msix|msi|intx|poll (default auto)\n"
		"  --dst MAC              txtest destination (default ff:ff:ff:ff:ff:ff)\n"
		"  --batch N              txtest frames per tx_batch, 1..64 (default 32)\n"
		"  --pace-us N            txtest: pause N us after each batch (default 0), so a\n"
		"                         slower receiver's ring does not overflow\n"
		"  --ring N               descriptors per ring (default 256)\n"
		"  --itr-us N             least time between interrupts (default 50)\n"
		"  --promisc              receive every frame\n"
		"  --link-wait MS         wait for link up at start (default 3000)\n"
		"  -v, --verbose          debug logging\n");
}

static int parse_irq(const char *s, enum e1000_irq_mode *m)
{
	static const char *const names[] = {"auto", "poll", "intx", "msi", "msix"};

	for (unsigned i = 0; i < VDF_ARRAY_SIZE(names); i++)
		if (!strcmp(s, names[i])) {
			*m = (enum e1000_irq_mode)i;
			return 0;
		}
	return -EINVAL;
}

static int parse_args(int argc, char **argv, struct cli *c)
{
	static const struct option opts[] = {
	    {"pci", required_argument, 0, 'p'},
	    {"grant-fd", required_argument, 0, 'G'},
	    {"irq", required_argument, 0, 'i'},
	    {"dst", required_argument, 0, 'd'},
	    {"batch", required_argument, 0, 'b'},
	    {"ring", required_argument, 0, 'r'},
	    {"itr-us", required_argument, 0, 'I'},
	    {"promisc", no_argument, 0, 'P'},
	    {"link-wait", required_argument, 0, 'L'},
	    {"verbose", no_argument, 0, 'v'},
	    {"pace-us", required_argument, 0, 'S'},
	    {"help", no_argument, 0, 'h'},
	    {0, 0, 0, 0},
	};
	uint64_t v = 0;
	int o;

	e1000_opts_default(&c->opts);
	c->opts.link_timeout_ms = 3000;
	memset(c->dst, 0xff, sizeof(c->dst));
	c->batch = 32;
	while ((o = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		if (optarg && strchr("GbrILS", o) && vdf_parse_u64(optarg, &v)) {
			fprintf(stderr, "vdf-e1000: bad number '%s'\n", optarg);
			return -EINVAL;
		}
		switch (o) {
		case 'p':
			c->pci = optarg;
			break;
		case 'G':
			c->grant_fd = v <= 1024 ? (int)v : -1;
			break;
		case 'i':
			if (parse_irq(optarg, &c->opts.irq)) {
				fprintf(stderr, "vdf-e1000: unknown --irq '%s'\n", optarg);
				return -EINVAL;
			}
			break;
		case 'd':
			if (vdf_net_mac_parse(optarg, c->dst)) {
				fprintf(stderr, "vdf-e1000: bad MAC '%s'\n", optarg);
				return -EINVAL;
			}
			break;
		case 'b':
			if (!v || v > VDF_NET_BATCH_MAX) {
				fprintf(stderr, "vdf-e1000: --batch must be 1..64\n");
				return -EINVAL;
			}
			c->batch = (unsigned)v;
			break;
		case 'r':
			c->opts.rx_ring = c->opts.tx_ring = (unsigned)v;
			c->opts.rx_bufs = 2 * (unsigned)v;
			c->opts.tx_bufs = (unsigned)v;
			break;
		case 'I':
			c->opts.coal.irq_min_interval_us = (uint32_t)v;
			break;
		case 'P':
			c->promisc = true;
			break;
		case 'S':
			c->pace_us = (unsigned)v;
			break;
		case 'L':
			c->opts.link_timeout_ms = (unsigned)v;
			break;
		case 'v':
			vdf_log_set_level(LOG_DEBUG);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind >= argc || (c->pci != NULL) == (c->grant_fd >= 0)) {
		usage(stderr);
		return -EINVAL;
	}
	c->cmd = argv[optind++];
	if (!strcmp(c->cmd, "txtest") || !strcmp(c->cmd, "rxtest")) {
		if (argc - optind != 2 || vdf_parse_u64(argv[optind], &c->arg1) ||
		    vdf_parse_u64(argv[optind + 1], &c->arg2)) {
			fprintf(stderr, "vdf-e1000: %s needs two numbers\n", c->cmd);
			return -EINVAL;
		}
	} else if (optind != argc) {
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

static double now_s(void)
{
	return (double)vdf_now_ns() / 1e9;
}

static void print_info(struct e1000_dev *e)
{
	struct vdf_net_info info;
	char mac[18], perm[18];

	vdf_net_info(&e->ndev, &info);
	vdf_net_mac_format(info.mac, mac);
	vdf_net_mac_format(info.perm_mac, perm);
	printf("{\"model\":\"%s\",\"mac\":\"%s\",\"perm_mac\":\"%s\",\"mac_source\":\"%s\","
	       "\"link\":\"%s\",\"speed_mbps\":%u,\"full_duplex\":%s,\"mtu\":%u,"
	       "\"irq\":\"%s\",\"vectors\":%u,\"rx_ring\":%u,\"tx_ring\":%u,"
	       "\"rx_csum\":%s,\"tx_csum\":%s}\n",
	       info.model, mac, perm, e->mac_from_eeprom ? "eeprom" : "ral",
	       info.link.up ? "up" : "down", info.link.speed_mbps,
	       info.link.full_duplex ? "true" : "false", info.mtu,
	       e->nvec ? vdf_irq_kind_name(e->irq_kind) : "polled", e->nvec, info.rx_ring,
	       info.tx_ring, (info.features & VDF_NET_F_RX_CSUM) ? "true" : "false",
	       (info.features & VDF_NET_F_TX_CSUM) ? "true" : "false");
}

static void fill_frame(struct vdf_net_buf *b, const uint8_t dst[6], const uint8_t src[6],
		       uint32_t seq, uint32_t size)
{
	uint8_t *p = b->data;

	memcpy(p, dst, 6);
	memcpy(p + 6, src, 6);
	p[12] = (uint8_t)(TEST_ETHERTYPE >> 8);
	p[13] = (uint8_t)TEST_ETHERTYPE;
	memcpy(p + 14, "VDFT", 4);
	p[18] = (uint8_t)(seq >> 24);
	p[19] = (uint8_t)(seq >> 16);
	p[20] = (uint8_t)(seq >> 8);
	p[21] = (uint8_t)seq;
	for (uint32_t i = TEST_HDR; i < size; i++)
		p[i] = (uint8_t)(seq + i);
	b->len = size;
}

/* Wait for something to happen (an interrupt, or a short timeout when polled). */
static int wait_event(struct vdf_driver_ctx *ctx, int ms)
{
	(void)vdf_event_loop_run_once(ctx->loop, ms);
	return e1000_poll(e1000_driver_dev(ctx));
}

static int run_txtest(struct vdf_driver_ctx *ctx, struct cli *cli)
{
	struct e1000_dev *e = e1000_driver_dev(ctx);
	uint64_t count = cli->arg1, sent = 0, refused = 0;
	uint32_t size = (uint32_t)cli->arg2;
	struct vdf_net_stats st;
	double t0 = now_s(), deadline = t0 + 30 + (double)count / 1000;
	int rc = 0;

	if (size < TEST_HDR) {
		fprintf(stderr, "vdf-e1000: txtest: SIZE must be at least %u\n", TEST_HDR);
		return -EINVAL;
	}
	while (sent < count && now_s() < deadline) {
		struct vdf_net_buf *bufs[VDF_NET_BATCH_MAX];
		unsigned n = 0;
		int q;

		while (n < cli->batch && sent + n < count) {
			struct vdf_net_buf *b = vdf_net_tx_alloc(&e->ndev);

			if (!b)
				break;
			if (size > b->cap) { /* still hand it over: the driver must refuse it */
				b->len = size;
			} else {
				fill_frame(b, cli->dst, e->mac, (uint32_t)(sent + n), size);
			}
			bufs[n++] = b;
		}
		q = n ? vdf_net_tx_batch(&e->ndev, bufs, n) : 0;
		if (q < 0) {
			vdf_net_recycle(&e->ndev, bufs, n);
			fprintf(stderr, "vdf-e1000: txtest: frame of %u bytes refused: %s\n", size,
				strerror(-q));
			rc = q;
			refused++;
			break;
		}
		vdf_net_recycle(&e->ndev, bufs + q, n - (unsigned)q); /* not queued: ours */
		sent += (uint64_t)q;
		if (cli->pace_us && q > 0) {
			double until = now_s() + cli->pace_us / 1e6;

			while (now_s() < until)
				if (wait_event(ctx, 1) == -ENODEV)
					break;
		}
		if (((unsigned)q < n || !n) && wait_event(ctx, 5) == -ENODEV) {
			rc = -ENODEV; /* ring or pool full: let completions come */
			break;
		}
	}
	/* Every queued frame completes (or the stuck-TX reset drops it). */
	while (e1000_tx_pending(e) && now_s() < deadline)
		if (wait_event(ctx, 5) == -ENODEV)
			break;
	(void)e1000_tx_reap(e);
	if (vdf_net_get_stats(&e->ndev, &st) && !rc)
		rc = -ENODEV;
	printf("{\"sent\":%" PRIu64 ",\"completed\":%" PRIu64 ",\"bytes\":%" PRIu64
	       ",\"refused\":%" PRIu64 ",\"tx_errors\":%" PRIu64 ",\"tx_dropped\":%" PRIu64
	       ",\"tx_resets\":%" PRIu64 ",\"hw_tx_good\":%" PRIu64 ",\"irqs\":%" PRIu64
	       ",\"seconds\":%.3f}\n",
	       sent, st.tx_packets, st.tx_bytes, refused, st.tx_errors, st.tx_dropped, st.tx_resets,
	       st.hw.tx_good, st.irqs, now_s() - t0);
	if (!rc && st.tx_packets != count)
		rc = -EIO;
	return rc;
}

/* Is this one of our test frames, and is its payload intact? 1 good, 0 not ours, -1 bad. */
static int check_frame(const struct vdf_net_buf *b, uint32_t *seq)
{
	const uint8_t *p = b->data;

	if (b->len < TEST_HDR || p[12] != (uint8_t)(TEST_ETHERTYPE >> 8) ||
	    p[13] != (uint8_t)TEST_ETHERTYPE)
		return 0;
	if (memcmp(p + 14, "VDFT", 4))
		return -1;
	*seq = (uint32_t)p[18] << 24 | (uint32_t)p[19] << 16 | (uint32_t)p[20] << 8 | p[21];
	for (uint32_t i = TEST_HDR; i < b->len; i++)
		if (p[i] != (uint8_t)(*seq + i) && i >= VDF_NET_ETH_MIN_FRAME)
			return -1;
	for (uint32_t i = TEST_HDR; i < b->len && i < VDF_NET_ETH_MIN_FRAME; i++)
		if (p[i] != (uint8_t)(*seq + i) && p[i] != 0) /* padding of short frames */
			return -1;
	return 1;
}

static int run_rxtest(struct vdf_driver_ctx *ctx, struct cli *cli)
{
	struct e1000_dev *e = e1000_driver_dev(ctx);
	uint64_t want = cli->arg1, good = 0, bad = 0, other = 0, bytes = 0, dup = 0;
	double t0 = now_s(), deadline = t0 + (double)cli->arg2;
	uint8_t *seen = calloc(want ? want : 1, 1);
	struct vdf_net_pool_stats ps;
	struct vdf_net_stats st;
	int rc = 0;

	if (!seen)
		return -ENOMEM;
	/* Tell the caller we are receiving (scripts wait for this line). */
	fprintf(stderr, "vdf-e1000: rxtest: ready\n");
	while (good < want && now_s() < deadline) {
		struct vdf_net_buf *bufs[VDF_NET_BATCH_MAX];
		int n = vdf_net_rx_batch(&e->ndev, bufs, VDF_NET_BATCH_MAX);

		if (n < 0) {
			rc = n;
			break;
		}
		for (int i = 0; i < n; i++) {
			uint32_t seq = 0;
			int r = check_frame(bufs[i], &seq);

			if (r == 0) {
				other++;
			} else if (r < 0) {
				bad++;
			} else if (seq < want && seen[seq]) {
				dup++;
			} else {
				if (seq < want)
					seen[seq] = 1;
				good++;
				bytes += bufs[i]->len;
			}
		}
		if (vdf_net_recycle(&e->ndev, bufs, (unsigned)n))
			rc = -EINVAL;
		if (!n && wait_event(ctx, 20) == -ENODEV) {
			rc = -ENODEV;
			break;
		}
	}
	free(seen);
	if (vdf_net_get_stats(&e->ndev, &st) && !rc)
		rc = -ENODEV;
	vdf_net_pool_stats(e->rx_pool, &ps);
	printf("{\"received\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"bad_payload\":%" PRIu64
	       ",\"duplicates\":%" PRIu64 ",\"other\":%" PRIu64 ",\"rx_packets\":%" PRIu64
	       ",\"rx_errors\":%" PRIu64 ",\"rx_dropped\":%" PRIu64 ",\"hw_rx_good\":%" PRIu64
	       ",\"hw_rx_missed\":%" PRIu64 ",\"hw_rx_no_buffers\":%" PRIu64
	       ",\"pool_double_puts\":%" PRIu64 ",\"irqs\":%" PRIu64 ",\"seconds\":%.3f}\n",
	       good, bytes, bad, dup, other, st.rx_packets, st.rx_errors, st.rx_dropped,
	       st.hw.rx_good, st.hw.rx_missed, st.hw.rx_no_buffers, ps.double_puts, st.irqs,
	       now_s() - t0);
	if (!rc && (good < want || bad))
		rc = -EIO;
	return rc;
}

/* Under the manager: the device and the packet client server (TAP bridge). */
struct serve_ctx {
	struct e1000_dev *e;
	struct vdf_net_pool *own_rx_pool; /* the driver's, while a client's is attached */
	struct vdf_net_server *srv;
};

static void serve_stats(void *arg, struct vdf_heartbeat *hb)
{
	struct serve_ctx *sc = arg;
	struct vdf_net_stats st;

	if (vdf_net_get_stats(&sc->e->ndev, &st))
		hb->errors++;
	hb->rx_ios += st.rx_packets;
	hb->rx_bytes += st.rx_bytes;
	hb->tx_ios += st.tx_packets;
	hb->tx_bytes += st.tx_bytes;
	hb->errors += st.rx_errors + st.rx_length_errors + st.tx_errors + st.tx_resets;
	hb->drops += st.rx_dropped + st.tx_dropped + st.hw.rx_missed;
	vdf_net_server_stats(sc->srv, hb);
}

static int serve_client(void *arg, int fd, const struct vdf_client_grant *cg)
{
	struct serve_ctx *sc = arg;

	if (!sc->srv) {
		close(fd);
		return -ENODEV;
	}
	return vdf_net_server_add_client(sc->srv, fd, cg);
}

/*
 * The server's attach_rx_pool hook: point the RX ring at the client's frames
 * (zero-copy RX) or back at the driver's own pool (pool NULL). Buffers the
 * ring holds go back to their own pool on the way (e1000_rx_stop).
 */
static int serve_attach_rx_pool(void *arg, struct vdf_net_pool *pool)
{
	struct serve_ctx *sc = arg;
	struct e1000_dev *e = sc->e;
	int rc;

	if (e->gone)
		return -ENODEV;
	if (pool && !sc->own_rx_pool)
		sc->own_rx_pool = e->rx_pool;
	e1000_rx_stop(e);
	e->rx_pool = pool ? pool : sc->own_rx_pool;
	if (!pool)
		sc->own_rx_pool = NULL;
	rc = e1000_rx_start(e);
	/* A client pool starts empty: its frames arrive through the fill ring. */
	return rc == -ENOMEM && pool ? 0 : rc;
}

static int run_serve(struct vdf_driver_ctx *ctx, int sock, const struct vdf_grant *g)
{
	struct serve_ctx sc = {.e = e1000_driver_dev(ctx)};
	struct vdf_serve_hooks hooks = {.stats = serve_stats, .client = serve_client, .arg = &sc};
	struct vdf_net_server_opts o = {
	    .generation = g->generation,
	    .attach_rx_pool = serve_attach_rx_pool,
	    .arg = &sc,
	};
	int rc;

	rc = vdf_net_server_create(&sc.e->ndev, ctx->dev, ctx->loop, &o, &sc.srv);
	if (rc) /* heartbeats still work; clients are refused */
		vdf_log(LOG_ERR, "e1000", sc.e->name, "packet client server: %s", strerror(-rc));
	rc = vdf_driver_serve(ctx, sock, g, &hooks);
	/* Before the device goes: the client's frames leave the rings first. */
	vdf_net_server_destroy(sc.srv);
	return rc;
}

int main(int argc, char **argv)
{
	struct vdf_event_loop *loop = NULL;
	struct vdf_driver_ctx ctx;
	struct vdf_dev *dev = NULL;
	struct cli cli = {.grant_fd = -1};
	struct vdf_grant grant;
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (parse_args(argc, argv, &cli))
		return 2;
	if (strcmp(cli.cmd, "info") && strcmp(cli.cmd, "txtest") && strcmp(cli.cmd, "rxtest") &&
	    (strcmp(cli.cmd, "serve") || cli.grant_fd < 0)) {
		fprintf(stderr, "vdf-e1000: unknown command '%s'%s\n", cli.cmd,
			strcmp(cli.cmd, "serve") ? "" : " (serve needs --grant-fd)");
		return 2;
	}
	rc = vdf_event_loop_create(&loop);
	if (rc)
		goto out;
	if (cli.grant_fd >= 0) {
		rc = vdf_grant_accept(cli.grant_fd, &grant, &dev);
		if (rc)
			goto out_loop;
		rc = vdf_sandbox_lockdown();
		if (rc)
			goto out_close;
	} else {
		rc = vdf_vfio_open_pci(cli.pci, &dev);
		if (rc)
			goto out_loop;
	}
	rc = vdf_driver_bind(&e1000_driver, dev, loop, &cli.opts, &ctx);
	if (rc)
		goto out_close;
	if (cli.promisc)
		rc = vdf_net_set_promisc(&e1000_driver_dev(&ctx)->ndev, true);
	if (rc) {
		/* nothing */
	} else if (!strcmp(cli.cmd, "info")) {
		print_info(e1000_driver_dev(&ctx));
	} else if (!strcmp(cli.cmd, "txtest")) {
		rc = run_txtest(&ctx, &cli);
	} else if (!strcmp(cli.cmd, "rxtest")) {
		rc = run_rxtest(&ctx, &cli);
	} else {
		rc = run_serve(&ctx, cli.grant_fd, &grant);
	}
	vdf_driver_unbind(&ctx);
out_close:
	vdf_dev_close(dev);
out_loop:
	vdf_event_loop_destroy(loop);
out:
	if (rc)
		fprintf(stderr, "vdf-e1000: %s: %s\n", cli.cmd, strerror(-rc));
	return rc ? 1 : 0;
}
