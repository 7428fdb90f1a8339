/* SPDX-License-Identifier: MIT */
/*
 * Display server: the driver side of display sessions (vdf/dispsession.h).
 * A display driver creates one with its operations; vdf_driver_serve hands it
 * the client sockets vdfd brokers (vdf_display_server_add_client). One
 * session at a time owns the display; another is refused with -EBUSY.
 *
 * The server maps the client's sealed memfd read-only and answers requests
 * in order: SET_MODE (refused with -ENOSPC when the picture would not fit the
 * client's buffer), PRESENT (the driver copies the picture to the screen),
 * WAIT_VBLANK (answered by a timer at the next vblank; requests after it wait
 * for that answer). A bad message ends the session. All callbacks run on the
 * driver's event loop thread.
 */
#ifndef VDF_DISPSERVER_H
#define VDF_DISPSERVER_H

#include <stdint.h>

#include "vdf/common.h"
#include "vdf/display.h"
#include "vdf/event.h"
#include "vdf/grant.h"

struct vdf_display_server;

/* What the driver does for the server. Every op returns 0 or a negative errno. */
struct vdf_display_ops {
	/* Set a mode; on failure the current one stays and why says what is wrong. */
	int (*set_mode)(void *arg, const struct vdf_display_mode *m, char *why, size_t whylen);
	/* The mode shown (width 0: none). */
	void (*get_mode)(void *arg, struct vdf_display_mode *m);
	/* Copy a picture in the current mode (rows of `stride` bytes) to the screen. */
	int (*present)(void *arg, const void *pixels, uint32_t stride);
	/* The vblank clock of the current mode: period and the time of vblank 0
	 * (CLOCK_MONOTONIC ns). -ENODATA without a mode. */
	int (*vblank_clock)(void *arg, uint64_t *period_ns, uint64_t *epoch_ns);
	/* Supported modes, at most max; returns the count. */
	unsigned (*modes)(void *arg, struct vdf_display_mode *out, unsigned max);
};

struct vdf_display_server_opts {
	const struct vdf_display_ops *ops;
	void *arg;
	uint32_t generation; /* the driver's, sent in WELCOME */
	const char *name;    /* the display's (EDID monitor name), may be NULL */
	uint32_t width_mm, height_mm;
	uint32_t hello_timeout_ms; /* 0: VDF_DISPLAY_SERVER_DEFAULT_HELLO_MS */
};

#define VDF_DISPLAY_SERVER_DEFAULT_HELLO_MS 5000u

struct vdf_display_server_stats {
	uint64_t sessions_accepted, sessions_refused;
	uint64_t mode_sets, presents, vblank_waits;
	uint64_t bytes_presented;
	uint64_t refused; /* requests answered with an error */
	uint64_t invalid; /* bad messages (each ended its session) */
};

int vdf_display_server_create(struct vdf_event_loop *loop, const struct vdf_display_server_opts *o,
			      struct vdf_display_server **out) VDF_MUST_CHECK;
/* Ends the session (if any) and frees the server. Accepts NULL. */
void vdf_display_server_destroy(struct vdf_display_server *srv);
/* A brokered client socket; the server owns sock from now on (also on error,
 * when it is closed after a refusing WELCOME). */
int vdf_display_server_add_client(struct vdf_display_server *srv, int sock,
				  const struct vdf_client_grant *cg) VDF_MUST_CHECK;
void vdf_display_server_get_stats(const struct vdf_display_server *srv,
				  struct vdf_display_server_stats *st);
/* Heartbeat share: tx_ios += presents, tx_bytes += bytes presented,
 * errors += refused + invalid. */
void vdf_display_server_stats(const struct vdf_display_server *srv, struct vdf_heartbeat *hb);

#endif
