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

#include "bochs.h"
#include "vdf/driver.h"
#include "vdf/fbdraw.h"
#include "vdf/log.h"
#include "vdf/parse.h"

struct cli {
	const char *pci;
	bool json;
	const char *cmd;
	const char *arg;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: vdf-bochs --pci ADDR [--json] [-v] COMMAND [ARG]\n"
		   "commands:\n"
		   "  info                 DISPI ID, VRAM, EDID, current mode\n"
		   "  modes                supported modes, largest first\n"
		   "  set-mode MODE        WIDTHxHEIGHT[xFORMAT][@HZ], FORMAT XRGB8888 (32) or\n"
		   "                       RGB565 (16)\n"
		   "  pattern [MODE]       draw the test pattern (in MODE if given) and present it\n"
		   "  fill RRGGBB          fill the screen with one colour and present it\n"
		   "  flip N               present N times, each after wait_vblank (JSON timing)\n");
}

static int parse_args(int argc, char **argv, struct cli *c)
{
	static const struct option opts[] = {
	    {"pci", required_argument, 0, 'p'},
	    {"json", no_argument, 0, 'j'},
	    {"verbose", no_argument, 0, 'v'},
	    {"help", no_argument, 0, 'h'},
	    {0, 0, 0, 0},
	};
	int o;

	while ((o = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (o) {
		case 'p':
			c->pci = optarg;
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
	if (!c->pci || optind >= argc || argc - optind > 2) {
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
			printf(",\"vendor\":\"%s\",\"name\":\"%s\",\"width_mm\":%u,\"height_mm\":%u,"
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
		fprintf(stderr, "vdf-bochs: bad mode '%s' (want WIDTHxHEIGHT[xFORMAT][@HZ])\n", arg);
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
	struct vdf_driver_ctx ctx;
	struct vdf_dev *dev = NULL;
	struct cli cli = {0};
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (parse_args(argc, argv, &cli))
		return 2;
	rc = vdf_vfio_open_pci(cli.pci, &dev);
	if (rc) {
		fprintf(stderr, "vdf-bochs: %s: %s\n", cli.pci, strerror(-rc));
		return 1;
	}
	rc = vdf_driver_bind(&bochs_driver, dev, NULL, NULL, &ctx);
	if (rc) {
		fprintf(stderr, "vdf-bochs: %s: %s\n", cli.pci, strerror(-rc));
		vdf_dev_close(dev);
		return 1;
	}
	rc = run(bochs_driver_dev(&ctx), &cli);
	vdf_driver_unbind(&ctx);
	vdf_dev_close(dev);
	return rc ? 1 : 0;
}
