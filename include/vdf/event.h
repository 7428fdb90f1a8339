/* SPDX-License-Identifier: MIT */
/*
 * Event loop: epoll over file descriptors (interrupt eventfds, sockets) and
 * timers. One loop per driver thread; callbacks run on that thread.
 */
#ifndef VDF_EVENT_H
#define VDF_EVENT_H

#include <stdint.h>

#include "vdf/common.h"

struct vdf_event_loop;
struct vdf_timer;

/* Called with the epoll events that fired (EPOLLIN, ...). */
typedef void (*vdf_fd_cb)(int fd, uint32_t events, void *arg);
typedef void (*vdf_timer_cb)(struct vdf_timer *t, void *arg);

int vdf_event_loop_create(struct vdf_event_loop **out) VDF_MUST_CHECK;
void vdf_event_loop_destroy(struct vdf_event_loop *loop);

/* Watch fd for EPOLLIN (or the given events); the fd stays the caller's. */
int vdf_event_add_fd(struct vdf_event_loop *loop, int fd, uint32_t events, vdf_fd_cb cb,
		     void *arg) VDF_MUST_CHECK;
int vdf_event_del_fd(struct vdf_event_loop *loop, int fd);

/* A timer that fires after first_ms and then every period_ms (0 = once). */
int vdf_timer_start(struct vdf_event_loop *loop, uint64_t first_ms, uint64_t period_ms,
		    vdf_timer_cb cb, void *arg, struct vdf_timer **out) VDF_MUST_CHECK;
void vdf_timer_stop(struct vdf_timer *t);

/* Wait up to timeout_ms (-1 = forever) and dispatch what fired. Returns the
 * number of callbacks run, or a negative errno. */
int vdf_event_loop_run_once(struct vdf_event_loop *loop, int timeout_ms);
/* Run until vdf_event_loop_stop. */
int vdf_event_loop_run(struct vdf_event_loop *loop);
void vdf_event_loop_stop(struct vdf_event_loop *loop);

/* Monotonic clock in nanoseconds. */
uint64_t vdf_now_ns(void);

#endif
