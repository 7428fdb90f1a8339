// SPDX-License-Identifier: MIT
/*
 * vdf-blk: use a VDF block device through the client library (vdf/client.h).
 *
 *   vdf-blk [options] DEV info
 *   vdf-blk [options] DEV read LBA COUNT        blocks to stdout
 *   vdf-blk [options] DEV write LBA COUNT       blocks from stdin
 *   vdf-blk [options] DEV checksum LBA COUNT    FNV-1a of the blocks (like vdfctl check)
 *   vdf-blk [options] DEV stamp SECONDS BLOCKS  crash-transparency workload
 *   vdf-blk [options] DEV bench SECONDS         4 KiB random reads, IOPS, latency
 *
 * options: --socket PATH, --ro, --polled, --qd N, --data-size BYTES;
 * bench: --span MIB (reads within the first MIB MiB; default the whole
 * device), --json (one JSON object with the keys of vdf-nvme --json perf).
 *
 * stamp: for SECONDS, keep --qd writes in flight to random blocks among the
 * first BLOCKS, each block stamped with its LBA, a sequence number and a
 * pattern derived from both; no two writes to one block are in flight at once.
 * Every few writes it reads back a block whose last write was acknowledged
 * and checks it. At the end it reads back every written block: each must hold
 * exactly its last acknowledged write. Run it while the driver is killed: the
 * client library reconnects and replays, the application sees no error.
 * SIGINT ends the write phase early (the final check still runs). Prints one
 * "stamp:" summary line; exits non-zero on any error or mismatch.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vdf/client.h"
#include "vdf/grant.h"
#include "vdf/log.h"
#include "vdf/parse.h"

struct opts {
	struct vdf_client_opts c;
	const char *dev;
	const char *cmd;
	char **args;
	int nargs;
	uint64_t span_mib; /* bench: 0 = whole device */
	bool json;	   /* bench: JSON output */
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vdf-blk [--socket PATH] [--ro] [--polled] [--qd N] [--data-size BYTES]\n"
		"               [--span MIB] [--json]\n"
		"               DEV (info | read LBA COUNT | write LBA COUNT |\n"
		"                    checksum LBA COUNT | stamp SECONDS BLOCKS | bench SECONDS)\n");
}

static int need_args(const struct opts *o, int n)
{
	if (o->nargs == n)
		return 0;
	usage(stderr);
	return -EINVAL;
}

static int cmd_info(struct vdf_client *c)
{
	struct vdf_block_info in;
	struct vdf_client_stats st;

	vdf_client_info(c, &in);
	vdf_client_stats(c, &st);
	printf("model: %s\nserial: %s\nblocks: %" PRIu64 "\nblock_size: %u\nmax_transfer: %u\n"
	       "queue_depth: %u\nread_only: %d\ndiscard: %d\nwrite_zeroes: %d\ngeneration: %u\n",
	       in.model, in.serial, in.num_blocks, in.block_size, in.max_transfer, in.queue_depth,
	       in.read_only, in.supports_discard, in.supports_write_zeroes, st.generation);
	return 0;
}

/* read / write / checksum: in chunks through a buffer of the data area. */
static int cmd_rw(struct vdf_client *c, const struct opts *o, int mode)
{
	struct vdf_block_info in;
	uint64_t lba, count, sum = VDF_GRANT_CHECKSUM_INIT;
	uint32_t chunk;
	void *buf;
	int rc;

	if (need_args(o, 2) || vdf_parse_u64(o->args[0], &lba) || vdf_parse_u64(o->args[1], &count))
		return -EINVAL;
	vdf_client_info(c, &in);
	chunk = in.max_transfer / in.block_size;
	rc = vdf_client_buf_alloc(c, (size_t)chunk * in.block_size, &buf);
	if (rc)
		return rc;
	while (count && !rc) {
		uint32_t n = (uint32_t)VDF_MIN(count, (uint64_t)chunk);
		size_t len = (size_t)n * in.block_size;

		if (mode == 'w') {
			if (fread(buf, 1, len, stdin) != len) {
				fprintf(stderr, "vdf-blk: short input\n");
				rc = -EIO;
				break;
			}
			rc = vdf_client_write(c, lba, n, buf, false);
		} else {
			rc = vdf_client_read(c, lba, n, buf);
			if (!rc && mode == 'r' && fwrite(buf, 1, len, stdout) != len)
				rc = -EIO;
			if (!rc && mode == 'c')
				sum = vdf_grant_checksum(sum, buf, len);
		}
		lba += n;
		count -= n;
	}
	if (!rc && mode == 'w')
		rc = vdf_client_flush(c);
	if (!rc && mode == 'c')
		printf("%016" PRIx64 "\n", sum);
	vdf_client_buf_free(c, buf);
	return rc;
}

/* ---- stamp -------------------------------------------------------------- */

struct stamp_hdr {
	uint64_t magic;
	uint64_t lba;
	uint64_t seq;
};

#define STAMP_MAGIC 0x504d415453464456ull /* "VDFSTAMP" */

struct stamp {
	struct vdf_client *c;
	uint32_t bs;
	uint64_t blocks;
	uint64_t *acked; /* per block: last acknowledged seq, 0 = never written */
	uint8_t *busy;	 /* per block: a write is in flight */
	uint8_t *bufs;	 /* qd buffers in the data area */
	struct stamp_io *ios;
	uint64_t seq, writes, reads, errors, mismatches;
	uint64_t rng;
};

struct stamp_io {
	struct stamp *st;
	uint8_t *buf;
	uint64_t lba, seq;
	bool is_read;
	bool busy;
};

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void stamp_fill(uint8_t *buf, uint32_t bs, uint64_t lba, uint64_t seq)
{
	struct stamp_hdr h = {.magic = STAMP_MAGIC, .lba = lba, .seq = seq};
	uint64_t x = lba * 0x9e3779b97f4a7c15ull ^ seq;

	memcpy(buf, &h, sizeof(h));
	for (uint32_t i = sizeof(h); i + 8 <= bs; i += 8) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		memcpy(buf + i, &x, 8);
	}
}

/* 0 when buf holds exactly block lba's write number seq. */
static int stamp_check(const uint8_t *buf, uint32_t bs, uint64_t lba, uint64_t seq,
		       uint8_t *scratch)
{
	stamp_fill(scratch, bs, lba, seq);
	return memcmp(buf, scratch, bs) ? -1 : 0;
}

static uint8_t *g_scratch;
static volatile sig_atomic_t g_stop;

static void on_sigint(int sig)
{
	(void)sig;
	g_stop = 1;
}

static void stamp_done(void *arg, int status)
{
	struct stamp_io *io = arg;
	struct stamp *st = io->st;

	io->busy = false;
	if (status) {
		fprintf(stderr, "vdf-blk: %s of block %" PRIu64 " failed: %s\n",
			io->is_read ? "read" : "write", io->lba, strerror(-status));
		st->errors++;
		if (!io->is_read)
			st->busy[io->lba] = 0;
		return;
	}
	if (io->is_read) {
		st->reads++;
		if (stamp_check(io->buf, st->bs, io->lba, io->seq, g_scratch)) {
			fprintf(stderr,
				"vdf-blk: block %" PRIu64 " does not hold write %" PRIu64 "\n",
				io->lba, io->seq);
			st->mismatches++;
		}
		return;
	}
	st->writes++;
	st->acked[io->lba] = io->seq;
	st->busy[io->lba] = 0;
}

static int stamp_issue(struct stamp *st, struct stamp_io *io)
{
	struct vdf_client_req req = {.nblocks = 1, .buf = io->buf, .cb = stamp_done, .cb_arg = io};
	uint64_t lba = rnd(&st->rng) % st->blocks;

	/* One read in eight: a block whose last write was acknowledged and
	 * that no write is in flight to. */
	if (rnd(&st->rng) % 8 == 0 && st->acked[lba] && !st->busy[lba]) {
		io->is_read = true;
		io->seq = st->acked[lba];
		req.op = VDF_BLOCK_READ;
	} else {
		if (st->busy[lba])
			return 0; /* try another block next time */
		io->is_read = false;
		io->seq = ++st->seq;
		st->busy[lba] = 1;
		stamp_fill(io->buf, st->bs, lba, io->seq);
		req.op = VDF_BLOCK_WRITE;
	}
	io->lba = lba;
	req.lba = lba;
	io->busy = true;
	return vdf_client_submit(st->c, &req);
}

static int cmd_stamp(struct vdf_client *c, const struct opts *o)
{
	struct vdf_block_info in;
	struct vdf_client_stats cs;
	struct stamp st = {.c = c, .rng = 0x2545f4914f6cdd1dull ^ (uint64_t)getpid()};
	uint64_t secs, end, verified = 0;
	uint32_t qd = o->c.queue_depth ? o->c.queue_depth : 8;
	int rc = 0;

	if (need_args(o, 2) || vdf_parse_u64(o->args[0], &secs) ||
	    vdf_parse_u64(o->args[1], &st.blocks) || !st.blocks)
		return -EINVAL;
	vdf_client_info(c, &in);
	st.bs = in.block_size;
	if (st.blocks > in.num_blocks)
		st.blocks = in.num_blocks;
	qd = VDF_MIN(qd, 64u);
	st.acked = calloc(st.blocks, sizeof(*st.acked));
	st.busy = calloc(st.blocks, 1);
	st.ios = calloc(qd, sizeof(*st.ios));
	g_scratch = malloc(st.bs);
	if (!st.acked || !st.busy || !st.ios || !g_scratch)
		return -ENOMEM;
	rc = vdf_client_buf_alloc(c, (size_t)qd * st.bs, (void **)&st.bufs);
	if (rc)
		return rc;
	for (uint32_t i = 0; i < qd; i++)
		st.ios[i] = (struct stamp_io){.st = &st, .buf = st.bufs + (size_t)i * st.bs};
	signal(SIGINT, on_sigint);
	end = vdf_now_ns() + secs * 1000000000ull;
	while (vdf_now_ns() < end && !g_stop && !st.errors && !st.mismatches) {
		for (uint32_t i = 0; i < qd; i++) {
			if (st.ios[i].busy)
				continue;
			rc = stamp_issue(&st, &st.ios[i]);
			if (rc) {
				fprintf(stderr, "vdf-blk: submit: %s\n", strerror(-rc));
				st.errors++;
				break;
			}
		}
		rc = vdf_client_wait(c, 1000);
		if (rc < 0) {
			fprintf(stderr, "vdf-blk: wait: %s\n", strerror(-rc));
			st.errors++;
		}
	}
	while (vdf_client_wait(c, 1000) > 0 || (vdf_client_stats(c, &cs), cs.in_flight))
		;
	/* Every block written must hold its last acknowledged write. */
	for (uint64_t lba = 0; lba < st.blocks && !st.errors; lba++) {
		if (!st.acked[lba])
			continue;
		rc = vdf_client_read(c, lba, 1, st.bufs);
		if (rc) {
			fprintf(stderr, "vdf-blk: final read of block %" PRIu64 ": %s\n", lba,
				strerror(-rc));
			st.errors++;
			break;
		}
		if (stamp_check(st.bufs, st.bs, lba, st.acked[lba], g_scratch)) {
			fprintf(stderr, "vdf-blk: block %" PRIu64 " lost write %" PRIu64 "\n", lba,
				st.acked[lba]);
			st.mismatches++;
		}
		verified++;
	}
	vdf_client_stats(c, &cs);
	printf("stamp: %" PRIu64 " writes acked, %" PRIu64 " reads checked, %" PRIu64
	       " blocks verified, %" PRIu64 " errors, %" PRIu64 " mismatches, %" PRIu64
	       " reconnects, %" PRIu64 " replayed, generation %u\n",
	       st.writes, st.reads, verified, st.errors, st.mismatches, cs.reconnects, cs.replayed,
	       cs.generation);
	vdf_client_buf_free(c, st.bufs);
	free(st.acked);
	free(st.busy);
	free(st.ios);
	free(g_scratch);
	return st.errors || st.mismatches ? -EIO : 0;
}

/* ---- bench -------------------------------------------------------------- */

/* Latency samples kept for the percentiles (16 MiB); the mean counts all. */
#define BENCH_MAX_SAMPLES (2u << 20)

struct bench {
	struct vdf_client *c;
	uint64_t blocks, done, rng;
	uint32_t nblk;
	int err;
	uint64_t *lat; /* ns, submit to completion callback */
	size_t nlat, cap;
	double lat_sum;
};

struct bench_io {
	struct bench *b;
	void *buf;
	uint64_t start_ns;
	bool busy;
};

static void bench_done(void *arg, int status)
{
	struct bench_io *io = arg;
	struct bench *b = io->b;
	uint64_t lat = vdf_now_ns() - io->start_ns;

	io->busy = false;
	b->done++;
	if (status && !b->err)
		b->err = status;
	b->lat_sum += (double)lat;
	if (b->nlat == b->cap && b->cap < BENCH_MAX_SAMPLES) {
		size_t ncap = b->cap ? VDF_MIN(b->cap * 2, (size_t)BENCH_MAX_SAMPLES) : 65536;
		uint64_t *n = realloc(b->lat, ncap * sizeof(*n));

		if (n) {
			b->lat = n;
			b->cap = ncap;
		}
	}
	if (b->nlat < b->cap)
		b->lat[b->nlat++] = lat;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmd_bench(struct vdf_client *c, const struct opts *o)
{
	struct vdf_block_info in;
	struct bench *b;
	struct vdf_client_stats cs;
	uint32_t qd = o->c.queue_depth ? o->c.queue_depth : 1;
	struct bench_io *ios;
	uint64_t secs, span, start, end, now = 0;
	double mean = 0, p50 = 0, p99 = 0, elapsed;
	uint8_t *bufs;
	int rc;

	if (need_args(o, 1) || vdf_parse_u64(o->args[0], &secs) || !secs)
		return -EINVAL;
	vdf_client_info(c, &in);
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	*b = (struct bench){.c = c, .rng = 88172645463325252ull};
	b->nblk = 4096 / in.block_size ? 4096 / in.block_size : 1;
	span = o->span_mib ? VDF_MIN((o->span_mib << 20) / in.block_size, in.num_blocks)
			   : in.num_blocks;
	b->blocks = span / b->nblk;
	ios = calloc(qd, sizeof(*ios));
	rc = !b->blocks ? -EINVAL : !ios ? -ENOMEM : 0;
	if (!rc)
		rc = vdf_client_buf_alloc(c, (size_t)qd * b->nblk * in.block_size, (void **)&bufs);
	if (rc) {
		free(ios);
		free(b);
		return rc;
	}
	for (uint32_t i = 0; i < qd; i++)
		ios[i] =
		    (struct bench_io){.b = b, .buf = bufs + (size_t)i * b->nblk * in.block_size};
	start = now = vdf_now_ns();
	end = start + secs * 1000000000ull;
	do {
		struct vdf_client_req reqs[64];
		struct bench_io *who[64];
		unsigned n = 0;

		for (uint32_t i = 0; i < qd && n < 64; i++) {
			if (ios[i].busy)
				continue;
			reqs[n] =
			    (struct vdf_client_req){.op = VDF_BLOCK_READ,
						    .lba = (rnd(&b->rng) % b->blocks) * b->nblk,
						    .nblocks = b->nblk,
						    .buf = ios[i].buf,
						    .cb = bench_done,
						    .cb_arg = &ios[i]};
			who[n++] = &ios[i];
		}
		now = vdf_now_ns();
		rc = vdf_client_submit_batch(c, reqs, n); /* one doorbell for the batch */
		for (int i = 0; i < rc; i++) {
			who[i]->busy = true;
			who[i]->start_ns = now;
		}
		if (rc < 0 && rc != -EAGAIN)
			break;
		rc = vdf_client_wait(c, 1000);
		if (rc < 0)
			break;
		now = vdf_now_ns();
	} while (now < end && !b->err);
	/* The requests still out at the end count, and their time. */
	end = vdf_now_ns() + 30 * 1000000000ull;
	while ((vdf_client_stats(c, &cs), cs.in_flight) && vdf_now_ns() < end &&
	       vdf_client_wait(c, 1000) >= 0)
		;
	vdf_client_stats(c, &cs);
	now = vdf_now_ns();
	if (cs.in_flight) {
		/* Their callbacks still point at b and ios: keep them. */
		fprintf(stderr, "vdf-blk: bench: %u requests never completed\n", cs.in_flight);
		return -ETIMEDOUT;
	}
	if (rc >= 0)
		rc = b->err;
	elapsed = (double)(now - start) / 1e9;
	if (b->done)
		mean = b->lat_sum / (double)b->done / 1e3;
	if (b->nlat) {
		qsort(b->lat, b->nlat, sizeof(*b->lat), cmp_u64);
		p50 = (double)b->lat[b->nlat / 2] / 1e3;
		p99 = (double)b->lat[(b->nlat * 99) / 100] / 1e3;
	}
	if (!rc && o->json)
		printf("{\"pattern\":\"randread\",\"bs\":4096,\"qd\":%u,\"mode\":\"%s\",\"ios\":"
		       "%" PRIu64
		       ",\"seconds\":%.3f,\"iops\":%.1f,\"lat_mean_us\":%.1f,\"lat_p50_us\":%.1f,"
		       "\"lat_p99_us\":%.1f,\"span_blocks\":%" PRIu64 ",\"errors\":0}\n",
		       qd, o->c.polled ? "polled" : "eventfd", b->done, elapsed,
		       (double)b->done / elapsed, mean, p50, p99, b->blocks * b->nblk);
	else if (!rc)
		printf("bench: qd %u %s %.0f IOPS (%" PRIu64 " reads of 4 KiB in %.2f s), "
		       "latency mean %.1f us, p50 %.1f us, p99 %.1f us\n",
		       qd, o->c.polled ? "polled" : "eventfd", (double)b->done / elapsed, b->done,
		       elapsed, mean, p50, p99);
	vdf_client_buf_free(c, bufs);
	free(b->lat);
	free(b);
	free(ios);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {{"socket", required_argument, NULL, 's'},
						 {"ro", no_argument, NULL, 'r'},
						 {"polled", no_argument, NULL, 'p'},
						 {"qd", required_argument, NULL, 'q'},
						 {"data-size", required_argument, NULL, 'd'},
						 {"span", required_argument, NULL, 'S'},
						 {"json", no_argument, NULL, 'j'},
						 {"help", no_argument, NULL, 'h'},
						 {NULL, 0, NULL, 0}};
	struct opts o = {0};
	struct vdf_client *c;
	uint64_t v;
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			o.c.socket = optarg;
			break;
		case 'r':
			o.c.read_only = true;
			break;
		case 'p':
			o.c.polled = true;
			break;
		case 'q':
			if (vdf_parse_u64(optarg, &v) || !v || v > VDF_CLIENT_MAX_QUEUE_DEPTH) {
				fprintf(stderr, "vdf-blk: bad --qd\n");
				return 2;
			}
			o.c.queue_depth = (uint32_t)v;
			break;
		case 'd':
			if (vdf_parse_u64(optarg, &v) || v > VDF_CLIENT_MAX_DATA_SIZE) {
				fprintf(stderr, "vdf-blk: bad --data-size\n");
				return 2;
			}
			o.c.data_size = v;
			break;
		case 'S':
			if (vdf_parse_u64(optarg, &v) || !v || v > (1ull << 40)) {
				fprintf(stderr, "vdf-blk: bad --span\n");
				return 2;
			}
			o.span_mib = v;
			break;
		case 'j':
			o.json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind < 2) {
		usage(stderr);
		return 2;
	}
	o.dev = argv[optind];
	o.cmd = argv[optind + 1];
	o.args = argv + optind + 2;
	o.nargs = argc - optind - 2;
	/* The ring needs a power of two; the workload keeps its own depth. */
	{
		struct vdf_client_opts co = o.c;
		uint32_t d = 1;

		while (d < co.queue_depth)
			d <<= 1;
		co.queue_depth = co.queue_depth ? VDF_MAX(d, 8u) : 0;
		rc = vdf_client_open(o.dev, &co, &c);
	}
	if (rc) {
		fprintf(stderr, "vdf-blk: cannot open %s: %s\n", o.dev, strerror(-rc));
		return 1;
	}
	if (!strcmp(o.cmd, "info"))
		rc = need_args(&o, 0) ? -EINVAL : cmd_info(c);
	else if (!strcmp(o.cmd, "read"))
		rc = cmd_rw(c, &o, 'r');
	else if (!strcmp(o.cmd, "write"))
		rc = cmd_rw(c, &o, 'w');
	else if (!strcmp(o.cmd, "checksum"))
		rc = cmd_rw(c, &o, 'c');
	else if (!strcmp(o.cmd, "stamp"))
		rc = cmd_stamp(c, &o);
	else if (!strcmp(o.cmd, "bench"))
		rc = cmd_bench(c, &o);
	else {
		usage(stderr);
		rc = -EINVAL;
	}
	if (rc)
		fprintf(stderr, "vdf-blk: %s: %s\n", o.cmd, strerror(-rc));
	vdf_client_close(c);
	return rc ? 1 : 0;
}
