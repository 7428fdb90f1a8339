// SPDX-License-Identifier: MIT
/*
 * vdf-display: the demo display client. Draws the test pattern of
 * vdf/fbdraw.h with a panel of text over its colour bars: VDF's drivers and
 * their states from vdfd ("stats"), the display and the session, a frame
 * counter; redrawn and presented every interval, paced by wait_vblank.
 *
 *   vdf-display --vdf DEV [--socket PATH] [--mode 1024x768[xRGB565]]
 *               [--interval-ms N (1000)] [--frames N (0: until SIGINT/SIGTERM)]
 *
 * When the display driver restarts, the client library reconnects and puts
 * the mode and picture back; the next frame shows the new generation. Prints
 * one line per frame on stdout: "frame N generation G reconnects R".
 *
 * The panel stays clear of the pattern's sample points (bar centres at H/3,
 * the grey ramp, the frame) so a screenshot can be checked against the
 * pattern while the text changes.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vdf/ctl.h"
#include "vdf/dispclient.h"
#include "vdf/fbdraw.h"
#include "vdf/parse.h"

#define PANEL_BG  0x101820u
#define PANEL_FG  0xe0e0e0u
#define TITLE_FG  0xffd040u
#define STATE_OK  0x60e060u
#define STATE_BAD 0xff6060u
#define LINE_H	  (VDF_FONT_H + 4)
#define MAX_ROWS  12

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

struct opts {
	const char *dev, *sock_path;
	struct vdf_display_mode mode;
	uint64_t interval_ms, frames;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: vdf-display --vdf DEV [--socket PATH] [--mode WxH[xFORMAT]]\n"
		   "                   [--interval-ms N (1000)] [--frames N (0: forever)]\n");
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
	    {"vdf", required_argument, NULL, 'd'},
	    {"socket", required_argument, NULL, 's'},
	    {"mode", required_argument, NULL, 'm'},
	    {"interval-ms", required_argument, NULL, 'i'},
	    {"frames", required_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	*o = (struct opts){.interval_ms = 1000};
	if (vdf_display_mode_parse("1024x768", &o->mode))
		return -EINVAL;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			o->dev = optarg;
			break;
		case 's':
			o->sock_path = optarg;
			break;
		case 'm':
			if (vdf_display_mode_parse(optarg, &o->mode)) {
				fprintf(stderr, "vdf-display: bad --mode '%s'\n", optarg);
				return -EINVAL;
			}
			break;
		case 'i':
			if (vdf_parse_u64(optarg, &o->interval_ms) || !o->interval_ms ||
			    o->interval_ms > 60000) {
				fprintf(stderr, "vdf-display: --interval-ms: want 1..60000\n");
				return -EINVAL;
			}
			break;
		case 'n':
			if (vdf_parse_u64(optarg, &o->frames)) {
				fprintf(stderr, "vdf-display: --frames: want a count\n");
				return -EINVAL;
			}
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (!o->dev || optind != argc) {
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

static const char *str_of(json_object *o, const char *key)
{
	json_object *v = json_object_object_get(o, key);

	return v ? json_object_get_string(v) : "-";
}

/* The drivers table from vdfd's "stats" into the panel, one row each. */
static int draw_drivers(const struct vdf_fb *fb, const struct opts *o, int x, int y, int maxy)
{
	struct vdf_ctl_request req = {.cmd = VDF_CTL_STATS, .level = -1};
	json_object *resp = NULL, *list;
	char line[300], err[256];
	int rc;

	rc = vdf_ctl_call(o->sock_path, &req, &resp, err, sizeof(err));
	if (rc) {
		snprintf(line, sizeof(line), "vdfd: %s", err);
		vdf_fb_text(fb, x, y, 1, STATE_BAD, PANEL_BG, line);
		return y + LINE_H;
	}
	snprintf(line, sizeof(line), "%-14s %-8s %-10s %4s %8s %10s", "DEVICE", "DRIVER", "STATE",
		 "GEN", "RESTARTS", "I/Os");
	vdf_fb_text(fb, x, y, 1, TITLE_FG, PANEL_BG, line);
	y += LINE_H;
	list = json_object_object_get(resp, "drivers");
	for (size_t i = 0; list && i < json_object_array_length(list) && y + LINE_H <= maxy; i++) {
		json_object *d = json_object_array_get_idx(list, i);
		const char *state = str_of(d, "state");

		snprintf(line, sizeof(line), "%-14.14s %-8.8s %-10.10s %4s %8s %10s",
			 str_of(d, "dev"), str_of(d, "driver"), state, str_of(d, "generation"),
			 str_of(d, "restarts"), str_of(d, "ios"));
		vdf_fb_text(fb, x, y, 1, strcmp(state, "running") ? STATE_BAD : STATE_OK, PANEL_BG,
			    line);
		y += LINE_H;
	}
	json_object_put(resp);
	return y;
}

static int draw(struct vdf_display_client *c, const struct opts *o, uint64_t frame)
{
	const struct vdf_disps_welcome *w = vdf_display_client_info(c);
	struct vdf_display_client_stats st;
	struct vdf_fb fb;
	char line[160], ts[32];
	time_t now = time(NULL);
	int rc, x0, y0, x1, y1, y;

	rc = vdf_display_client_fb(c, &fb);
	if (!rc)
		rc = vdf_fb_test_pattern(&fb);
	if (rc)
		return rc;
	vdf_display_client_get_stats(c, &st);
	/* the panel: between the bar centres (H/3) and the grey ramp (2H/3) */
	x0 = 16;
	x1 = (int)fb.width - 16;
	y0 = (int)fb.height / 3 + 12;
	y1 = 2 * (int)fb.height / 3 - 8;
	rc = vdf_fb_fill_rect(&fb, x0, y0, x1 - x0, y1 - y0, PANEL_BG);
	if (rc)
		return rc;
	y = y0 + 6;
	vdf_fb_text(&fb, x0 + 8, y, 2, TITLE_FG, PANEL_BG, "VDF - Veridian Driver Framework");
	y += 2 * LINE_H;
	strftime(ts, sizeof(ts), "%H:%M:%S", localtime(&now));
	snprintf(line, sizeof(line), "display %s \"%s\" %ux%u %s @%uHz  driver generation %u",
		 o->dev, w->name, fb.width, fb.height, vdf_pixel_name(fb.format),
		 o->mode.refresh_hz ? o->mode.refresh_hz : 60, st.generation);
	vdf_fb_text(&fb, x0 + 8, y, 1, PANEL_FG, PANEL_BG, line);
	y += LINE_H;
	snprintf(line, sizeof(line), "frame %" PRIu64 "  reconnects %" PRIu64 "  %s", frame,
		 st.reconnects, ts);
	vdf_fb_text(&fb, x0 + 8, y, 1, PANEL_FG, PANEL_BG, line);
	y += LINE_H + 6;
	draw_drivers(&fb, o, x0 + 8, y, y1 - 4);
	return 0;
}

int main(int argc, char **argv)
{
	struct vdf_display_client *c = NULL;
	struct vdf_display_client_opts co = {0};
	struct vdf_display_client_stats st;
	struct opts o;
	char err[256];
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (parse_opts(argc, argv, &o))
		return 2;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	co.dev = o.dev;
	co.sock_path = o.sock_path;
	co.buffer_size = vdf_disps_frame_bytes(&o.mode);
	rc = vdf_display_client_open(&co, &c, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "vdf-display: %s\n", err);
		return 1;
	}
	rc = vdf_display_client_set_mode(c, &o.mode, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "vdf-display: %s\n", err);
		goto out;
	}
	for (uint64_t frame = 1; !g_stop && (!o.frames || frame <= o.frames); frame++) {
		uint64_t vblanks = 0, t_end;
		uint64_t seq = 0;

		rc = draw(c, &o, frame);
		if (!rc)
			rc = vdf_display_client_present(c, NULL);
		if (rc) {
			fprintf(stderr, "vdf-display: frame %" PRIu64 ": %s\n", frame,
				strerror(-rc));
			break;
		}
		vdf_display_client_get_stats(c, &st);
		printf("frame %" PRIu64 " generation %u reconnects %" PRIu64 "\n", frame,
		       st.generation, st.reconnects);
		if (o.frames && frame == o.frames)
			break;
		/* sleep an interval in vblanks: the display's clock paces us */
		t_end = (o.interval_ms * (o.mode.refresh_hz ? o.mode.refresh_hz : 60) + 999) / 1000;
		while (!g_stop && vblanks < t_end) {
			rc = vdf_display_client_wait_vblank(c, &seq);
			if (rc)
				break;
			vblanks++;
		}
		if (rc) {
			fprintf(stderr, "vdf-display: wait_vblank: %s\n", strerror(-rc));
			break;
		}
	}
out:
	vdf_display_client_close(c);
	return rc ? 1 : 0;
}
