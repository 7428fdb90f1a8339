// SPDX-License-Identifier: MIT
/*
 * vdf-bochs: the bochs-display driver as a stand-alone program for development
 * and tests. It opens the device through VFIO itself (`--pci`).
 *
 *   vdf-bochs --pci 0000:00:0a.0 info [--json]      device, VRAM, EDID, mode
 *   vdf-bochs --pci ADDR modes                       supported modes
 *   vdf-bochs --pci ADDR set-mode 1024x768[xRGB565][@60]
 *   vdf-bochs --pci ADDR pattern [MODE]              test pattern (vdf/fbdraw.h),
 *                                                    drawn into the back page, presented
 *   vdf-bochs --pci ADDR fill RRGGBB                 one colour, presented
 *   vdf-bochs --pci ADDR flip N                      N presents, each after a
 *                                                    wait_vblank; JSON timing
 *
 *   vdf-bochs --grant-fd 3 serve                     under the manager: display
 *                                                    clients (vdf/dispserver.h)
 *
 * The mode and the picture stay on the device when the program exits. An
 * invalid mode is refused with the reason and exit status 1; the mode on
 * screen stays.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bochs.h"
#include "vdf/dispserver.h"
#include "vdf/driver.h"
#include "vdf/event.h"
#include "vdf/fbdraw.h"
#include "vdf/grant.h"
#include "vdf/log.h"
#include "vdf/parse.h"
#include "vdf/sandbox.h"
#include "vdf/serve.h"

struct cli {
	const char *pci;
	int grant_fd;
	bool json;
	const char *cmd;
	const char *arg;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vdf-bochs {--pci ADDR | --grant-fd N} [--json] [-v] COMMAND [ARG]\n"
		"commands:\n"
		"  info                 DISPI ID, VRAM, EDID, current mode\n"
		"  modes                supported modes, largest first\n"
		"  set-mode MODE        WIDTHxHEIGHT[xFORMAT][@HZ], FORMAT XRGB8888 (32) or\n"
		"                       RGB565 (16)\n"
		"  pattern [MODE]       draw the test pattern (in MODE if given) and present it\n"
		"  fill RRGGBB          fill the screen with one colour and present it\n"
		"  flip N               present N times, each after wait_vblank (JSON timing)\n"
		"  serve                (with --grant-fd) run under the manager until STOP\n");
}

static int parse_args(int argc, char **argv, struct cli *c)
{
	static const struct option opts[] = {
	    {"pci", required_argument, 0, 'p'}, {"grant-fd", required_argument, 0, 'G'},
	    {"json", no_argument, 0, 'j'},	{"verbose", no_argument, 0, 'v'},
	    {"help", no_argument, 0, 'h'},	{0, 0, 0, 0},
	};
	uint64_t v;
	int o;

	while ((o = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (o) {
		case 'p':
			c->pci = optarg;
			break;
		case 'G':
			if (vdf_parse_u64(optarg, &v) || v > 1024) {
				fprintf(stderr, "vdf-bochs: bad --grant-fd '%s'\n", optarg);
				return -EINVAL;
			}
			c->grant_fd = (int)v;
			break;
		case 'j':
			c->json = true;
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
	if ((!c->pci) == (c->grant_fd < 0) || optind >= argc || argc - optind > 2) {
		usage(stderr);
		return -EINVAL;
	}
	c->cmd = argv[optind];
	c->arg = optind + 1 < argc ? argv[optind + 1] : NULL;
	return 0;
}

static void print_info(const struct bochs_dev *b, bool json)
{
	char mode[64] = "none";

	if (b->mode.width)
		vdf_display_mode_format(&b->mode, mode, sizeof(mode));
	if (json) {
		printf("{\"dispi_id\":%u,\"vram_bytes\":%" PRIu64 ",\"edid\":%s", b->dispi_id,
		       b->vram_size, b->has_edid ? "true" : "false");
		if (b->has_edid)
			printf(
			    ",\"vendor\":\"%s\",\"name\":\"%s\",\"width_mm\":%u,\"height_mm\":%u,"
			    "\"edid_modes\":%u",
			    b->edid.vendor, b->edid.name, b->edid.width_mm, b->edid.height_mm,
			    b->edid.nmodes);
		printf(",\"width\":%u,\"height\":%u,\"format\":\"%s\",\"refresh_hz\":%u,"
		       "\"pages\":%u,\"front\":%u}\n",
		       b->mode.width, b->mode.height,
		       b->mode.width ? vdf_pixel_name(b->mode.format) : "", b->mode.refresh_hz,
		       b->pages, b->front);
		return;
	}
	printf("bochs-display %s: DISPI 0x%04x, %" PRIu64 " KiB VRAM\n", b->name, b->dispi_id,
	       b->vram_size >> 10);
	if (b->has_edid)
		printf("display: %s \"%s\", %ux%u mm, EDID %u.%u with %u modes\n", b->edid.vendor,
		       b->edid.name, b->edid.width_mm, b->edid.height_mm, b->edid.version,
		       b->edid.revision, b->edid.nmodes);
	else
		printf("display: no EDID\n");
	printf("mode: %s, %u page(s), showing page %u\n", mode, b->pages, b->front);
}

static int set_mode_arg(struct bochs_dev *b, const char *arg)
{
	struct vdf_display_mode m;
	char why[160];
	int rc;

	if (vdf_display_mode_parse(arg, &m)) {
		fprintf(stderr, "vdf-bochs: bad mode '%s' (want WIDTHxHEIGHT[xFORMAT][@HZ])\n",
			arg);
		return -EINVAL;
	}
	rc = bochs_set_mode(b, &m, why, sizeof(why));
	if (rc)
		fprintf(stderr, "vdf-bochs: mode %s refused: %s (%s)\n", arg, why, strerror(-rc));
	return rc;
}

static int back_fb(struct bochs_dev *b, struct vdf_fb *fb)
{
	if (!b->mode.width) {
		fprintf(stderr, "vdf-bochs: no mode set (use set-mode or pattern MODE)\n");
		return -ENODATA;
	}
	*fb = (struct vdf_fb){.pixels = bochs_page(b, bochs_back(b)),
			      .width = b->mode.width,
			      .height = b->mode.height,
			      .stride = b->stride,
			      .format = b->mode.format};
	return 0;
}

static int run_flip(struct bochs_dev *b, const char *arg)
{
	uint64_t n, seq0 = 0, seq = 0, t0, t1;
	int rc;

	if (!arg || vdf_parse_u64(arg, &n) || !n || n > 100000) {
		fprintf(stderr, "vdf-bochs: flip: want a count 1..100000\n");
		return -EINVAL;
	}
	if (!b->mode.width) {
		fprintf(stderr, "vdf-bochs: no mode set\n");
		return -ENODATA;
	}
	rc = bochs_wait_vblank(b, &seq0);
	t0 = vdf_now_ns();
	for (uint64_t i = 0; !rc && i < n; i++) {
		rc = bochs_wait_vblank(b, &seq);
		if (!rc)
			rc = bochs_present(b);
	}
	t1 = vdf_now_ns();
	if (rc)
		return rc;
	printf("{\"presents\":%" PRIu64 ",\"vblanks\":%" PRIu64 ",\"seconds\":%.3f,"
	       "\"refresh_hz\":%u,\"front\":%u}\n",
	       n, seq - seq0, (double)(t1 - t0) / 1e9, b->mode.refresh_hz, b->front);
	return 0;
}

/* ---- under the manager: display clients ------------------------------ */

static int op_set_mode(void *arg, const struct vdf_display_mode *m, char *why, size_t whylen)
{
	return bochs_set_mode(arg, m, why, whylen);
}

static void op_get_mode(void *arg, struct vdf_display_mode *m)
{
	const struct bochs_dev *b = arg;

	*m = b->mode;
}

/* The client's picture into the back page, then flip. */
static int op_present(void *arg, const void *pixels, uint32_t stride)
{
	struct bochs_dev *b = arg;
	uint8_t *dst = bochs_page(b, bochs_back(b));
	uint32_t row = b->mode.width * vdf_pixel_bytes(b->mode.format);

	if (!dst)
		return -ENODATA;
	for (uint32_t y = 0; y < b->mode.height; y++)
		memcpy(dst + (size_t)y * b->stride, (const uint8_t *)pixels + (size_t)y * stride,
		       row);
	return bochs_present(b);
}

static int op_vblank_clock(void *arg, uint64_t *period_ns, uint64_t *epoch_ns)
{
	const struct bochs_dev *b = arg;

	if (!b->mode.width)
		return -ENODATA;
	*period_ns = b->period_ns;
	*epoch_ns = b->epoch_ns;
	return 0;
}

static unsigned op_modes(void *arg, struct vdf_display_mode *out, unsigned max)
{
	return bochs_modes(arg, out, max);
}

static const struct vdf_display_ops display_ops = {
    .set_mode = op_set_mode,
    .get_mode = op_get_mode,
    .present = op_present,
    .vblank_clock = op_vblank_clock,
    .modes = op_modes,
};

static void serve_stats(void *arg, struct vdf_heartbeat *hb)
{
	vdf_display_server_stats(arg, hb);
}

static int serve_client(void *arg, int fd, const struct vdf_client_grant *cg)
{
	if (!arg) {
		close(fd);
		return -ENODEV;
	}
	return vdf_display_server_add_client(arg, fd, cg);
}

static int run_serve(struct vdf_driver_ctx *ctx, int sock, const struct vdf_grant *g)
{
	struct bochs_dev *b = bochs_driver_dev(ctx);
	struct vdf_display_server_opts o = {
	    .ops = &display_ops,
	    .arg = b,
	    .generation = g->generation,
	    .name = b->has_edid ? b->edid.name : NULL,
	    .width_mm = b->has_edid ? b->edid.width_mm : 0,
	    .height_mm = b->has_edid ? b->edid.height_mm : 0,
	};
	struct vdf_display_server *srv = NULL;
	struct vdf_serve_hooks hooks = {.stats = serve_stats, .client = serve_client};
	int rc;

	rc = vdf_display_server_create(ctx->loop, &o, &srv);
	if (rc) /* heartbeats still work; clients are refused */
		vdf_log(LOG_ERR, "bochs", b->name, "display server: %s", strerror(-rc));
	hooks.arg = srv;
	rc = vdf_driver_serve(ctx, sock, g, &hooks);
	vdf_display_server_destroy(srv);
	return rc;
}

static int run(struct bochs_dev *b, const struct cli *c)
{
	struct vdf_display_mode modes[BOCHS_MODES_MAX];
	struct vdf_fb fb;
	uint64_t rgb;
	int rc;

	if (!strcmp(c->cmd, "info")) {
		print_info(b, c->json);
		return 0;
	}
	if (!strcmp(c->cmd, "modes")) {
		unsigned n = bochs_modes(b, modes, BOCHS_MODES_MAX);

		for (unsigned i = 0; i < n; i++) {
			char s[64];

			vdf_display_mode_format(&modes[i], s, sizeof(s));
			printf("%s\n", s);
		}
		return 0;
	}
	if (!strcmp(c->cmd, "set-mode")) {
		if (!c->arg) {
			fprintf(stderr, "vdf-bochs: set-mode needs a MODE\n");
			return -EINVAL;
		}
		return set_mode_arg(b, c->arg);
	}
	if (!strcmp(c->cmd, "pattern") || !strcmp(c->cmd, "fill")) {
		bool fill = !strcmp(c->cmd, "fill");

		if (fill) {
			char *end = NULL;

			rgb = c->arg ? strtoull(c->arg, &end, 16) : 0;
			if (!c->arg || *end || strlen(c->arg) != 6 ||
			    strspn(c->arg, "0123456789abcdefABCDEF") != 6) {
				fprintf(stderr, "vdf-bochs: fill needs a colour RRGGBB\n");
				return -EINVAL;
			}
		} else if (c->arg) {
			rc = set_mode_arg(b, c->arg);
			if (rc)
				return rc;
		}
		rc = back_fb(b, &fb);
		if (rc)
			return rc;
		rc = fill ? vdf_fb_fill(&fb, (uint32_t)rgb) : vdf_fb_test_pattern(&fb);
		if (rc)
			return rc;
		return bochs_present(b);
	}
	if (!strcmp(c->cmd, "flip"))
		return run_flip(b, c->arg);
	fprintf(stderr, "vdf-bochs: unknown command '%s'\n", c->cmd);
	return -EINVAL;
}

int main(int argc, char **argv)
{
	struct vdf_event_loop *loop = NULL;
	struct vdf_driver_ctx ctx;
	struct vdf_dev *dev = NULL;
	struct cli cli = {.grant_fd = -1};
	struct vdf_grant grant;
	const char *what;
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (parse_args(argc, argv, &cli))
		return 2;
	if (!strcmp(cli.cmd, "serve") != (cli.grant_fd >= 0)) {
		fprintf(stderr,
			"vdf-bochs: serve goes with --grant-fd, the other commands with --pci\n");
		return 2;
	}
	what = cli.pci ? cli.pci : "granted device";
	rc = vdf_event_loop_create(&loop);
	if (rc)
		goto out;
	if (cli.grant_fd >= 0) {
		rc = vdf_grant_accept(cli.grant_fd, &grant, &dev);
		if (!rc)
			rc = vdf_sandbox_lockdown();
	} else {
		rc = vdf_vfio_open_pci(cli.pci, &dev);
	}
	if (rc)
		goto out_close;
	rc = vdf_driver_bind(&bochs_driver, dev, loop, NULL, &ctx);
	if (rc)
		goto out_close;
	if (cli.grant_fd >= 0)
		rc = run_serve(&ctx, cli.grant_fd, &grant);
	else
		rc = run(bochs_driver_dev(&ctx), &cli);
	vdf_driver_unbind(&ctx);
out_close:
	vdf_dev_close(dev);
	vdf_event_loop_destroy(loop);
out:
	if (rc && rc != -EINVAL && rc != -ENODATA)
		fprintf(stderr, "vdf-bochs: %s: %s\n", what, strerror(-rc));
	return rc ? 1 : 0;
}
