/* SPDX-License-Identifier: MIT */
/*
 * What the client-session servers of lib/class (blk_server, net_server,
 * display_server) do alike when a brokered client socket arrives: make it
 * non-blocking, watch it on the driver's event loop and start the timer that
 * refuses a client whose HELLO does not come. Private to lib/class.
 */
#ifndef VDF_LIB_CLASS_SESSION_WATCH_H
#define VDF_LIB_CLASS_SESSION_WATCH_H

#include <stdint.h>

#include "vdf/common.h"
#include "vdf/event.h"

/* O_NONBLOCK on fd. 0 or a negative errno. */
int vdf_set_nonblock(int fd) VDF_MUST_CHECK;

/*
 * Make sock non-blocking, watch it for EPOLLIN (on_sock) and start a one-shot
 * timer of hello_ms (on_timeout, *hello_timer). On success both are set up;
 * on failure neither is and sock is left open (the caller refuses it).
 */
int vdf_session_watch(struct vdf_event_loop *loop, int sock, uint32_t hello_ms, vdf_fd_cb on_sock,
		      vdf_timer_cb on_timeout, void *arg,
		      struct vdf_timer **hello_timer) VDF_MUST_CHECK;

#endif
