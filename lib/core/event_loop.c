// SPDX-License-Identifier: MIT
/* epoll-based event loop with timerfd timers; see vdf/event.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "vdf/event.h"

struct watch {
	int fd;
	vdf_fd_cb cb;
	void *arg;
	struct watch *next;
};

struct vdf_timer {
	struct vdf_event_loop *loop;
	int fd;
	vdf_timer_cb cb;
	void *arg;
};

struct vdf_event_loop {
	int epfd;
	int stop;
	struct watch *watches;
	struct watch *dead; /* removed during dispatch; freed after it */
	unsigned depth;	    /* nested run_once calls (a callback waiting synchronously) */
};

static void free_list(struct watch *w)
{
	while (w) {
		struct watch *next = w->next;

		free(w);
		w = next;
	}
}

uint64_t vdf_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int vdf_event_loop_create(struct vdf_event_loop **out)
{
	struct vdf_event_loop *loop = calloc(1, sizeof(*loop));

	if (!loop)
		return -ENOMEM;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		int rc = -errno;

		free(loop);
		return rc;
	}
	*out = loop;
	return 0;
}

void vdf_event_loop_destroy(struct vdf_event_loop *loop)
{
	if (!loop)
		return;
	free_list(loop->watches);
	free_list(loop->dead);
	close(loop->epfd);
	free(loop);
}

int vdf_event_add_fd(struct vdf_event_loop *loop, int fd, uint32_t events, vdf_fd_cb cb, void *arg)
{
	struct epoll_event ev = {.events = events ? events : EPOLLIN};
	struct watch *w;

	if (fd < 0 || !cb)
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->fd = fd;
	w->cb = cb;
	w->arg = arg;
	ev.data.ptr = w;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int rc = -errno;

		free(w);
		return rc;
	}
	w->next = loop->watches;
	loop->watches = w;
	return 0;
}

int vdf_event_del_fd(struct vdf_event_loop *loop, int fd)
{
	for (struct watch **pw = &loop->watches; *pw; pw = &(*pw)->next) {
		struct watch *w = *pw;

		if (w->fd != fd)
			continue;
		*pw = w->next;
		epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
		/* An event for it may still be in the batch being dispatched. */
		w->cb = NULL;
		w->next = loop->dead;
		loop->dead = w;
		return 0;
	}
	return -ENOENT;
}

static void timer_fired(int fd, uint32_t events, void *arg)
{
	struct vdf_timer *t = arg;
	uint64_t n;

	(void)events;
	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return;
	t->cb(t, t->arg);
}

static struct timespec ms_to_ts(uint64_t ms)
{
	struct timespec ts = {.tv_sec = (time_t)(ms / 1000),
			      .tv_nsec = (long)(ms % 1000) * 1000000};
	return ts;
}

int vdf_timer_start(struct vdf_event_loop *loop, uint64_t first_ms, uint64_t period_ms,
		    vdf_timer_cb cb, void *arg, struct vdf_timer **out)
{
	struct itimerspec its = {.it_value = ms_to_ts(first_ms ? first_ms : 1),
				 .it_interval = ms_to_ts(period_ms)};
	struct vdf_timer *t;
	int rc;

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->loop = loop;
	t->cb = cb;
	t->arg = arg;
	t->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (t->fd < 0) {
		rc = -errno;
		goto out_free;
	}
	if (timerfd_settime(t->fd, 0, &its, NULL) < 0) {
		rc = -errno;
		goto out_close;
	}
	rc = vdf_event_add_fd(loop, t->fd, EPOLLIN, timer_fired, t);
	if (rc)
		goto out_close;
	*out = t;
	return 0;

out_close:
	close(t->fd);
out_free:
	free(t);
	return rc;
}

void vdf_timer_stop(struct vdf_timer *t)
{
	if (!t)
		return;
	(void)vdf_event_del_fd(t->loop, t->fd);
	close(t->fd);
	free(t);
}

int vdf_event_loop_run_once(struct vdf_event_loop *loop, int timeout_ms)
{
	struct epoll_event evs[32];
	int n, ran = 0;

	n = epoll_wait(loop->epfd, evs, (int)VDF_ARRAY_SIZE(evs), timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	loop->depth++;
	for (int i = 0; i < n; i++) {
		struct watch *w = evs[i].data.ptr;

		if (w->cb) {
			w->cb(w->fd, evs[i].events, w->arg);
			ran++;
		}
	}
	/* A callback may run the loop nested (vdf_block_sync): watches removed
	 * there may still be in an outer call's event array, so they are freed
	 * only when the outermost dispatch is done. */
	if (--loop->depth == 0) {
		free_list(loop->dead);
		loop->dead = NULL;
	}
	return ran;
}

int vdf_event_loop_run(struct vdf_event_loop *loop)
{
	loop->stop = 0;
	while (!loop->stop) {
		int rc = vdf_event_loop_run_once(loop, -1);

		if (rc < 0)
			return rc;
	}
	return 0;
}

void vdf_event_loop_stop(struct vdf_event_loop *loop)
{
	loop->stop = 1;
}
