/* SPDX-License-Identifier: MIT */
/*
 * Display client: draw into a framebuffer of your own and show it on a VDF
 * display driver (the client side of vdf/dispsession.h).
 *
 *   vdf_display_client_open     session through vdfd ("open"); the buffer is a
 *                               sealed memfd this library creates and keeps
 *   vdf_display_client_set_mode mode for the display (and the buffer layout)
 *   vdf_display_client_fb       the buffer as a struct vdf_fb to draw into
 *   vdf_display_client_present  show it
 *   vdf_display_client_wait_vblank  pace drawing at the display's refresh
 *
 * Restarts: when the driver goes away (crash, kill, restart by vdfd) the
 * next call reconnects through vdfd (which waits for the restarted driver),
 * sends the same buffer and the mode set last, presents the picture again
 * and then carries on with the call: the mode and the picture come back by
 * themselves. Up to VDF_DISPLAY_CLIENT_RETRIES reconnects per call.
 *
 * Not thread-safe: one thread per client.
 */
#ifndef VDF_DISPCLIENT_H
#define VDF_DISPCLIENT_H

#include <stdint.h>

#include "vdf/common.h"
#include "vdf/dispsession.h"
#include "vdf/fbdraw.h"

#define VDF_DISPLAY_CLIENT_RETRIES    5u
#define VDF_DISPLAY_CLIENT_TIMEOUT_MS 10000

struct vdf_display_client;

struct vdf_display_client_opts {
	const char *sock_path; /* vdfd's control socket; NULL: the default */
	const char *dev;       /* the display's PCI address */
	uint64_t buffer_size;  /* 0: room for 1920x1200 XRGB8888 */
};

struct vdf_display_client_stats {
	uint64_t presents, reconnects, mode_sets;
	uint32_t generation; /* of the driver serving the session now */
};

/* Returns 0, or a negative errno with a message in err: the open's, or the
 * driver's refusal (-EBUSY: another client owns the display). */
int vdf_display_client_open(const struct vdf_display_client_opts *o,
			    struct vdf_display_client **out, char *err,
			    size_t errlen) VDF_MUST_CHECK;
void vdf_display_client_close(struct vdf_display_client *c);

/* The driver's WELCOME of the current session (name, size, modes). */
const struct vdf_disps_welcome *vdf_display_client_info(const struct vdf_display_client *c);

/* Set a mode. 0, or the driver's refusal (-EINVAL, -ENOTSUP, -ENOSPC, ...);
 * err (may be NULL) says which mode was refused. */
int vdf_display_client_set_mode(struct vdf_display_client *c, const struct vdf_display_mode *m,
				char *err, size_t errlen) VDF_MUST_CHECK;
/* The buffer in the current mode. -ENODATA before a mode is set. */
int vdf_display_client_fb(struct vdf_display_client *c, struct vdf_fb *fb) VDF_MUST_CHECK;
/* Show the buffer; *seq (may be NULL) = presents in this session. */
int vdf_display_client_present(struct vdf_display_client *c, uint64_t *seq) VDF_MUST_CHECK;
/* Wait for the next vblank; *seq (may be NULL) = its number. */
int vdf_display_client_wait_vblank(struct vdf_display_client *c, uint64_t *seq) VDF_MUST_CHECK;
void vdf_display_client_get_stats(const struct vdf_display_client *c,
				  struct vdf_display_client_stats *st);

#endif
