// SPDX-License-Identifier: MIT
/*
 * vdf-nvme: the NVMe driver as a stand-alone program for development and
 * tests. It opens the device through VFIO itself (`--pci`); under the device
 * manager the same driver receives granted fds instead (`--grant-fd N`: the
 * grant socket, see vdf/grant.h), then locks itself down (vdf/sandbox.h)
 * before it touches the device.
 *
 *   vdf-nvme --pci 0000:00:04.0 identify
 *   vdf-nvme --grant-fd 3 serve      (under the manager: heartbeats until STOP)
 *   vdf-nvme --pci 0000:00:04.0 selftest [--mib 64] [--seed N]
 *   vdf-nvme --pci 0000:00:04.0 perf --rw randread --bs 4096 --qd 32 --seconds 5
 *   vdf-nvme --pci 0000:00:04.0 --lba 100 write < data   (whole blocks from stdin)
 *   vdf-nvme --pci 0000:00:04.0 --lba 100 --count 8 read > data
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../tools/blk/blk_tools.h"
#include "nvme_driver.h"
#include "vdf/blkserver.h"
#include "vdf/grant.h"
#include "vdf/irq.h"
#include "vdf/log.h"
#include "vdf/serve.h"
#include "vdf/sandbox.h"
#include "vdf/parse.h"

struct cli {
	const char *pci;
	int grant_fd; /* -1: stand-alone (--pci) */
	const char *cmd;
	struct nvme_opts nvme;
	unsigned nsid;
	struct blk_selftest_opts st;
	struct blk_perf_opts perf;
	int json;
	uint64_t lba;
	uint64_t count;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: vdf-nvme {--pci ADDR | --grant-fd N} [options] COMMAND\n"
		   "commands:\n"
		   "  identify            controller and namespace data\n"
		   "  selftest            data-integrity and error-path checks (prints PASS/FAIL)\n"
		   "  perf                latency/throughput at a queue depth\n"
		   "  write               write stdin (whole blocks) at --lba\n"
		   "  read                write --count blocks from --lba to stdout\n"
		   "  serve               (with --grant-fd) run until the manager says STOP or\n"
		   "                      closes the socket, sending heartbeats, answering\n"
		   "                      PING and CHECK (checksum of blocks read) and serving\n"
		   "                      block clients the manager brokers (shared rings)\n"
		   "options:\n"
		   "  --pci ADDR          PCI function bound to vfio-pci (e.g. 0000:00:04.0)\n"
		   "  --grant-fd N        take the device granted on socket fd N (the manager's\n"
		   "                      way) and run sandboxed\n"
		   "  --polled            poll for completions instead of using interrupts\n"
		   "  --queues N          I/O queue pairs (default: one per CPU)\n"
		   "  --depth N           entries per I/O queue (default 256)\n"
		   "  --nsid N            namespace to use (default: the first active one)\n"
		   "  --mib N             selftest: MiB written and verified (default 64)\n"
		   "  --seed N            selftest/perf: random seed (default: time)\n"
		   "  --rw PATTERN        perf: randread|randwrite|read|write (default randread)\n"
		   "  --bs BYTES          perf: bytes per I/O (default 4096)\n"
		   "  --qd N              perf/selftest: requests in flight (default 1 / 8)\n"
		   "  --seconds S         perf: run time (default 5)\n"
		   "  --span MIB          perf: part of the namespace used (default all)\n"
		   "  --json              perf: one JSON object instead of text\n"
		   "  --lba N             read/write: first block\n"
		   "  --count N           read: number of blocks\n"
		   "  -v, --verbose       debug logging\n");
}

static int parse_args(int argc, char **argv, struct cli *c)
{
	static const struct option opts[] = {
	    {"pci", required_argument, 0, 'p'},
	    {"polled", no_argument, 0, 'P'},
	    {"queues", required_argument, 0, 'q'},
	    {"depth", required_argument, 0, 'd'},
	    {"nsid", required_argument, 0, 'n'},
	    {"mib", required_argument, 0, 'm'},
	    {"seed", required_argument, 0, 's'},
	    {"rw", required_argument, 0, 'r'},
	    {"bs", required_argument, 0, 'b'},
	    {"qd", required_argument, 0, 'Q'},
	    {"seconds", required_argument, 0, 'S'},
	    {"span", required_argument, 0, 'a'},
	    {"json", no_argument, 0, 'j'},
	    {"verbose", no_argument, 0, 'v'},
	    {"lba", required_argument, 0, 'l'},
	    {"count", required_argument, 0, 'c'},
	    {"help", no_argument, 0, 'h'},
	    {"grant-fd", required_argument, 0, 'G'},
	    {0, 0, 0, 0},
	};
	uint64_t v = 0;
	int o, qd_set = 0;

	nvme_opts_default(&c->nvme);
	c->st.total_bytes = 64ull << 20;
	c->st.seed = (uint64_t)time(NULL);
	c->perf.pattern = BLK_PERF_RANDREAD;
	c->perf.block_bytes = 4096;
	c->perf.queue_depth = 1;
	c->perf.seconds = 5;
	while ((o = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		if (optarg && o != 'p' && o != 'r' && o != 'S' && vdf_parse_u64(optarg, &v)) {
			fprintf(stderr, "vdf-nvme: bad number '%s'\n", optarg);
			return -EINVAL;
		}
		switch (o) {
		case 'p':
			c->pci = optarg;
			break;
		case 'P':
			c->nvme.polled = true;
			break;
		case 'q':
			c->nvme.io_queues = (unsigned)v;
			break;
		case 'd':
			c->nvme.io_queue_depth = (unsigned)v;
			break;
		case 'n':
			c->nsid = (unsigned)v;
			break;
		case 'm':
			c->st.total_bytes = v << 20;
			break;
		case 's':
			c->st.seed = c->perf.seed = v;
			break;
		case 'r':
			if (blk_perf_parse_pattern(optarg, &c->perf.pattern)) {
				fprintf(stderr, "vdf-nvme: unknown pattern '%s'\n", optarg);
				return -EINVAL;
			}
			break;
		case 'b':
			c->perf.block_bytes = (uint32_t)v;
			break;
		case 'Q':
			c->perf.queue_depth = c->st.queue_depth = (unsigned)v;
			qd_set = 1;
			break;
		case 'S':
			c->perf.seconds = atof(optarg);
			break;
		case 'a':
			c->perf.span_bytes = v << 20;
			break;
		case 'j':
			c->json = 1;
			break;
		case 'l':
			c->lba = v;
			break;
		case 'c':
			c->count = v;
			break;
		case 'G':
			c->grant_fd = v <= 1024 ? (int)v : -1;
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
	if (!qd_set)
		c->st.queue_depth = 8;
	if (!c->perf.seed)
		c->perf.seed = c->st.seed;
	/* Exactly one way to get the device: --pci or --grant-fd. */
	if (optind != argc - 1 || (c->pci != NULL) == (c->grant_fd >= 0)) {
		usage(stderr);
		return -EINVAL;
	}
	c->cmd = argv[optind];
	return 0;
}

static void print_identify(struct nvme_ctrlr *c)
{
	printf("controller %s\n", c->name);
	printf("  model:       %s\n", c->model);
	printf("  serial:      %s\n", c->serial);
	printf("  firmware:    %s\n", c->firmware);
	printf("  version:     %u.%u\n", FIELD_GET(NVME_VS_MJR, c->vs),
	       FIELD_GET(NVME_VS_MNR, c->vs));
	printf("  max transfer: %u KiB\n", c->max_xfer / 1024);
	printf("  io queues:   %u x %u entries, %s\n", c->nioq, c->nioq ? c->ioq[0].depth : 0,
	       c->nvec ? vdf_irq_kind_name(c->irq_kind) : "polled");
	printf("  features:    %s%s%s\n", c->vwc ? "volatile-cache " : "",
	       (c->oncs & NVME_ONCS_DSM) ? "discard " : "",
	       (c->oncs & NVME_ONCS_WRITE_ZEROES) ? "write-zeroes" : "");
	for (unsigned i = 0; i < c->nns; i++) {
		struct nvme_ns *ns = &c->ns[i];
		uint64_t bytes = ns->num_blocks * ns->block_size;

		printf("namespace %u: %" PRIu64 " blocks x %u bytes = %" PRIu64 " MiB (%.2f GB)\n",
		       ns->nsid, ns->num_blocks, ns->block_size, bytes >> 20, (double)bytes / 1e9);
	}
}

static struct nvme_ns *pick_ns(struct nvme_ctrlr *c, unsigned nsid)
{
	for (unsigned i = 0; i < c->nns; i++)
		if (!nsid || c->ns[i].nsid == nsid)
			return &c->ns[i];
	return NULL;
}

/* Copy between stdin/stdout and the namespace in chunks of the max transfer. */
static int run_copy(struct cli *cli, struct nvme_ns *ns, struct vdf_dev *dev, int write)
{
	uint32_t bs = ns->block_size, chunk = ns->ctrlr->max_xfer / bs;
	uint64_t lba = cli->lba, left = cli->count;
	struct vdf_dma_buf *dma;
	int rc;

	rc = vdf_dma_alloc(dev, (size_t)chunk * bs, VDF_DMA_BIDIRECTIONAL, &dma);
	if (rc)
		return rc;
	while (write || left) {
		uint32_t n = write ? chunk : (uint32_t)VDF_MIN((uint64_t)chunk, left);
		size_t got;

		if (write) {
			got = fread(dma->va, 1, (size_t)n * bs, stdin);
			if (!got)
				break;
			if (got % bs) {
				fprintf(stderr,
					"vdf-nvme: input is not a whole number of %u-byte "
					"blocks\n",
					bs);
				rc = -EINVAL;
				break;
			}
			n = (uint32_t)(got / bs);
			rc = vdf_block_write(&ns->bdev, lba, n, dma->va, dma);
		} else {
			rc = vdf_block_read(&ns->bdev, lba, n, dma->va, dma);
			if (!rc && fwrite(dma->va, bs, n, stdout) != n)
				rc = -EIO;
			left -= n;
		}
		if (rc)
			break;
		lba += n;
	}
	if (!rc && write)
		rc = vdf_block_flush(&ns->bdev);
	vdf_dma_free(dma);
	return rc;
}

static int run_perf(struct cli *cli, struct nvme_ns *ns, struct vdf_dev *dev)
{
	static const char *const names[] = {"randread", "randwrite", "read", "write"};
	struct blk_perf_result r;
	int rc;

	rc = blk_perf_run(&ns->bdev, dev, &cli->perf, &r);
	if (rc) {
		fprintf(stderr, "vdf-nvme: perf: %s\n", strerror(-rc));
		return rc;
	}
	if (cli->json)
		printf("{\"pattern\":\"%s\",\"bs\":%u,\"qd\":%u,\"mode\":\"%s\",\"ios\":%" PRIu64
		       ",\"seconds\":%.3f,\"iops\":%.1f,\"mib_s\":%.2f,\"lat_mean_us\":%.1f,"
		       "\"lat_p50_us\":%.1f,\"lat_p99_us\":%.1f,\"errors\":%" PRIu64 "}\n",
		       names[cli->perf.pattern], cli->perf.block_bytes, cli->perf.queue_depth,
		       ns->bdev.polled ? "polled" : "interrupt", r.ios, r.seconds, r.iops, r.mib_s,
		       r.lat_mean_us, r.lat_p50_us, r.lat_p99_us, r.errors);
	else
		printf("%s bs=%u qd=%u (%s): %" PRIu64 " I/Os in %.2f s: %.0f IOPS, %.1f MiB/s, "
		       "latency mean %.1f us, p50 %.1f us, p99 %.1f us, %" PRIu64 " errors\n",
		       names[cli->perf.pattern], cli->perf.block_bytes, cli->perf.queue_depth,
		       ns->bdev.polled ? "polled" : "interrupts", r.ios, r.seconds, r.iops, r.mib_s,
		       r.lat_mean_us, r.lat_p50_us, r.lat_p99_us, r.errors);
	return r.errors ? -EIO : 0;
}

/* What the serve hooks work on. */
struct serve_ctx {
	struct nvme_ctrlr *c;
	struct vdf_blk_server *srv; /* NULL: no namespace, or it could not start */
};

/* Heartbeat counters: block I/O summed over the namespaces (client requests
 * included), plus client requests refused before reaching the device. */
static void serve_stats(void *arg, struct vdf_heartbeat *hb)
{
	struct serve_ctx *sc = arg;
	struct nvme_ctrlr *c = sc->c;

	for (unsigned i = 0; i < c->nns; i++) {
		const struct vdf_block_stats *st = &c->ns[i].bdev.stats;

		hb->rx_ios += st->reads;
		hb->rx_bytes += st->bytes_read;
		hb->tx_ios += st->writes + st->flushes + st->discards + st->write_zeroes;
		hb->tx_bytes += st->bytes_written;
		hb->errors += st->errors;
	}
	vdf_blk_server_stats(sc->srv, hb);
}

/* CHECK reads the first namespace. */
static int serve_check(void *arg, uint64_t lba, uint32_t nblocks, uint64_t *sum)
{
	struct serve_ctx *sc = arg;

	if (!sc->c->nns)
		return -ENODEV;
	return vdf_block_checksum(&sc->c->ns[0].bdev, sc->c->dev, lba, nblocks, sum);
}

/* A block client brokered by the manager: unit N is the N-th namespace. */
static int serve_client(void *arg, int fd, const struct vdf_client_grant *cg)
{
	struct serve_ctx *sc = arg;

	if (!sc->srv) {
		close(fd);
		return -ENODEV;
	}
	return vdf_blk_server_add_client(sc->srv, fd, cg);
}

/*
 * Under the manager: serve every namespace to block clients (the ring server,
 * requests under this instance's generation) until STOP. One client may map
 * at most a quarter of the DMA window, so a few always fit next to the
 * driver's own queues.
 */
static int run_serve(struct vdf_driver_ctx *ctx, int sock, const struct vdf_grant *g)
{
	struct serve_ctx sc = {.c = nvme_driver_ctrlr(ctx)};
	struct vdf_serve_hooks hooks = {
	    .stats = serve_stats, .check = serve_check, .client = serve_client, .arg = &sc};
	struct vdf_blk_server_opts o = {
	    .generation = g->generation,
	    .max_data_size = g->rights.dma_window / 4,
	};
	struct vdf_block_dev **bdevs = NULL;
	int rc;

	if (sc.c->nns) {
		bdevs = calloc(sc.c->nns, sizeof(*bdevs));
		if (!bdevs)
			return -ENOMEM;
		for (unsigned i = 0; i < sc.c->nns; i++)
			bdevs[i] = &sc.c->ns[i].bdev;
		rc = vdf_blk_server_create(bdevs, sc.c->nns, ctx->dev, ctx->loop, &o, &sc.srv);
		if (rc) /* CHECK and heartbeats still work; clients are refused */
			vdf_log(LOG_ERR, "nvme", sc.c->name, "block client server: %s",
				strerror(-rc));
	}
	rc = vdf_driver_serve(ctx, sock, g, &hooks);
	/* Before the controller goes: requests in flight finish first. */
	vdf_blk_server_destroy(sc.srv);
	free(bdevs);
	return rc;
}

int main(int argc, char **argv)
{
	struct vdf_event_loop *loop = NULL;
	struct vdf_driver_ctx ctx;
	struct vdf_dev *dev = NULL;
	struct nvme_ctrlr *c;
	struct nvme_ns *ns;
	struct cli cli = {.grant_fd = -1};
	struct vdf_grant grant;
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (parse_args(argc, argv, &cli))
		return 2;
	if (strcmp(cli.cmd, "identify") && strcmp(cli.cmd, "selftest") && strcmp(cli.cmd, "perf") &&
	    strcmp(cli.cmd, "read") && strcmp(cli.cmd, "write") &&
	    (strcmp(cli.cmd, "serve") || cli.grant_fd < 0)) {
		fprintf(stderr, "vdf-nvme: unknown command '%s'%s\n", cli.cmd,
			strcmp(cli.cmd, "serve") ? "" : " (serve needs --grant-fd)");
		return 2;
	}
	rc = vdf_event_loop_create(&loop);
	if (rc)
		goto out;
	if (cli.grant_fd >= 0) {
		/* Everything this process will ever hold arrives here; then lock down. */
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
	rc = vdf_driver_bind(&nvme_driver, dev, loop, &cli.nvme, &ctx);
	if (rc)
		goto out_close;
	c = nvme_driver_ctrlr(&ctx);
	ns = pick_ns(c, cli.nsid);
	if (!strcmp(cli.cmd, "identify")) {
		print_identify(c);
	} else if (!strcmp(cli.cmd, "serve")) {
		rc = run_serve(&ctx, cli.grant_fd, &grant);
	} else if (!ns) {
		fprintf(stderr, "vdf-nvme: no usable namespace%s\n",
			cli.nsid ? " with that ID" : "");
		rc = -ENOENT;
	} else if (!strcmp(cli.cmd, "selftest")) {
		print_identify(c);
		rc = blk_selftest(&ns->bdev, dev, &cli.st) ? -EIO : 0;
	} else if (!strcmp(cli.cmd, "read") || !strcmp(cli.cmd, "write")) {
		rc = run_copy(&cli, ns, dev, cli.cmd[0] == 'w');
	} else {
		rc = run_perf(&cli, ns, dev);
	}
	vdf_driver_unbind(&ctx);
out_close:
	vdf_dev_close(dev);
out_loop:
	vdf_event_loop_destroy(loop);
out:
	if (rc)
		fprintf(stderr, "vdf-nvme: %s: %s\n", cli.cmd, strerror(-rc));
	return rc ? 1 : 0;
}
