// SPDX-License-Identifier: MIT
/*
 * Block ring server: the server, session setup (HELLO/WELCOME) and teardown.
 * The request path is in blk_server_io.c. See vdf/blkserver.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "blk_server_internal.h"
#include "vdf/fdmsg.h"
#include "vdf/log.h"
#include "session_watch.h"

#define NSEC_PER_MSEC 1000000ull

/* ---- deferred work ------------------------------------------------------ */

void blksrv_kick_work(struct vdf_blk_server *srv)
{
	uint64_t one = 1;

	if (srv->work_pending)
		return;
	srv->work_pending = true;
	if (write(srv->work_fd, &one, sizeof(one)) != (ssize_t)sizeof(one))
		vdf_log(LOG_ERR, BLKSRV_COMPONENT, NULL, "work eventfd: %s", strerror(errno));
}

static bool polled_work(const struct vdf_blk_server *srv)
{
	for (unsigned i = 0; i < srv->n_bdevs; i++)
		if (srv->bdev_in_flight[i] && srv->bdevs[i]->polled)
			return true;
	return false;
}

/*
 * Runs from the loop after completions (and session ends) asked for it:
 * polls polled devices with requests on them, commits each session's
 * completions as one batch (one doorbell at most), resumes its drain and
 * frees sessions the device is done with.
 */
static void on_work(int fd, uint32_t events, void *arg)
{
	struct vdf_blk_server *srv = arg;
	struct blk_session *s, *next;
	uint64_t v;
	bool again = false;

	(void)events;
	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		vdf_log(LOG_ERR, BLKSRV_COMPONENT, NULL, "work eventfd: %s", strerror(errno));
	/* Still pending while we run: what the callbacks below ask for is done
	 * in this pass, or by the kick at the end. */
	for (unsigned i = 0; i < srv->n_bdevs; i++)
		if (srv->bdev_in_flight[i] && srv->bdevs[i]->polled)
			vdf_block_poll(srv->bdevs[i]);
	for (s = srv->sessions; s; s = next) {
		next = s->next;
		if (s->state == BLK_SESS_ACTIVE && s->dirty) {
			s->dirty = false;
			blksrv_flush_cq(s);
			blksrv_drain(s);
		}
		if (s->state == BLK_SESS_DRAINING && !s->in_flight)
			blksrv_session_free(s);
	}
	srv->work_pending = false;
	for (s = srv->sessions; s && !again; s = s->next)
		again = (s->state == BLK_SESS_ACTIVE && s->dirty) ||
			(s->state == BLK_SESS_DRAINING && !s->in_flight);
	/* Polled devices: keep the loop spinning while they hold requests. */
	if (again || polled_work(srv))
		blksrv_kick_work(srv);
}

/* ---- session teardown --------------------------------------------------- */

static void unwatch(struct blk_session *s)
{
	struct vdf_event_loop *loop = s->srv ? s->srv->loop : NULL;

	if (s->sock_watched && loop)
		(void)vdf_event_del_fd(loop, s->sock);
	if (s->kick_watched && loop)
		(void)vdf_event_del_fd(loop, s->sq_kick);
	s->sock_watched = s->kick_watched = false;
	vdf_timer_stop(s->hello_timer);
	vdf_timer_stop(s->resume_timer);
	s->hello_timer = s->resume_timer = NULL;
}

void blksrv_session_close(struct blk_session *s, int level, const char *why)
{
	struct vdf_blk_server *srv = s->srv;

	if (s->state == BLK_SESS_DRAINING)
		return;
	if (s->state == BLK_SESS_ACTIVE) {
		vdf_log(level, BLKSRV_COMPONENT, s->name,
			"session ends (%s): %" PRIu64 " requests, %" PRIu64 " I/Os, %" PRIu64
			" bytes, %" PRIu64 " invalid, %" PRIu64 " device errors; %" PRIu32
			" still on the device",
			why, s->io.requests, s->io.ios, s->io.bytes, s->io.invalid,
			s->io.submit_errors + s->io.dev_errors, s->in_flight);
		if (srv)
			srv->st.sessions_closed++;
	} else {
		vdf_log(level, BLKSRV_COMPONENT, s->name, "session dropped: %s", why);
	}
	s->state = BLK_SESS_DRAINING;
	unwatch(s);
	/* Held descriptors never reached the device: forget them. */
	s->taken -= s->held_count;
	s->held_count = 0;
	s->cq_pending = 0;
	if (srv)
		blksrv_kick_work(srv);
}

void blksrv_session_free(struct blk_session *s)
{
	struct vdf_blk_server *srv = s->srv;

	assert(!s->in_flight);
	unwatch(s);
	if (srv) {
		for (struct blk_session **ps = &srv->sessions; *ps; ps = &(*ps)->next) {
			if (*ps == s) {
				*ps = s->next;
				break;
			}
		}
	}
	/* The device holds none of its requests: the data area may go. */
	vdf_dma_free(s->dma);
	if (s->region)
		munmap(s->region, s->region_size);
	if (s->sq_kick >= 0)
		close(s->sq_kick);
	if (s->cq_kick >= 0)
		close(s->cq_kick);
	/* Last: the client's EOF says nothing will touch its memory any more. */
	if (s->sock >= 0)
		close(s->sock);
	free(s->ios);
	free(s);
}

/* ---- session setup ------------------------------------------------------ */

/* Send a refusing WELCOME (best effort) and drop the session. */
static void refuse_session(struct blk_session *s, int status, const char *fmt, ...)
    VDF_PRINTF(3, 4);

static void refuse_session(struct blk_session *s, int status, const char *fmt, ...)
{
	struct vdf_blks_welcome w = {.status = status};
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	/* Best effort: the client may be gone already. */
	if (status < 0 && status >= -4095 && vdf_blks_send_welcome(s->sock, &w))
		vdf_log(LOG_DEBUG, BLKSRV_COMPONENT, s->name, "refusing WELCOME not sent");
	if (s->srv)
		s->srv->st.sessions_refused++;
	blksrv_session_close(s, LOG_WARNING, why);
}

static int attach_ring(struct blk_session *s, uint64_t off, uint32_t capacity, uint32_t slot_size,
		       struct vdf_ring *r, const char *what)
{
	size_t len = vdf_ring_layout_size(capacity, slot_size);
	int rc;

	rc = vdf_ring_attach((uint8_t *)s->region + off, len, r);
	if (!rc && (vdf_ring_capacity(r) != capacity || vdf_ring_slot_size(r) != slot_size))
		rc = -EINVAL;
	if (rc)
		vdf_log(LOG_WARNING, BLKSRV_COMPONENT, s->name,
			"%s ring header does not match the HELLO (%s)", what, strerror(-rc));
	return rc;
}

/* The request limits of this session, from the device and the grant. */
static int session_limits(struct blk_session *s, const struct vdf_blks_hello *h,
			  const struct vdf_block_info *info)
{
	struct vdf_blkproto_limits *lim = &s->lim;
	uint64_t mt;

	if (info->block_size < 512 || info->block_size > 65536 ||
	    (info->block_size & (info->block_size - 1)) || !info->num_blocks)
		return -ENODEV;
	/* A read or write never carries more than the data area, nor (with a byte
	 * rate) more than the byte burst: it could never be admitted. */
	mt = info->max_transfer ? info->max_transfer : UINT32_MAX;
	mt = VDF_MIN(mt, h->data_size);
	if (s->rl_on && s->rl.bytes.rate)
		mt = VDF_MIN(mt, s->rl.bytes.cap / 1000000000ull);
	mt = VDF_ALIGN_DOWN(mt, (uint64_t)info->block_size);
	if (mt < info->block_size)
		return -EINVAL;
	*lim = (struct vdf_blkproto_limits){
	    .num_blocks = info->num_blocks,
	    .block_size = info->block_size,
	    .max_transfer = (uint32_t)mt,
	    .data_size = h->data_size,
	    .read_only = s->read_only_grant || info->read_only,
	    .block_align = s->srv->opts.block_align,
	    .supports_discard = info->supports_discard,
	    .supports_write_zeroes = info->supports_write_zeroes,
	};
	return 0;
}

/*
 * Map and check what the HELLO describes. Takes the fds (closed here or by
 * blksrv_session_free). Returns 0 or the status for the refusing WELCOME.
 */
static int session_setup(struct blk_session *s, const struct vdf_blks_hello *h,
			 int fds[VDF_BLKS_NFDS], struct vdf_block_info *info)
{
	struct vdf_blk_server *srv = s->srv;
	const struct vdf_blk_server_opts *o = &srv->opts;
	int memfd = fds[VDF_BLKS_FD_MEM];
	void *va;
	int rc;

	s->sq_kick = fds[VDF_BLKS_FD_SQ_KICK];
	s->cq_kick = fds[VDF_BLKS_FD_CQ_KICK];
	fds[VDF_BLKS_FD_SQ_KICK] = fds[VDF_BLKS_FD_CQ_KICK] = -1; /* owned by the session */
	s->polled_client = h->flags & VDF_BLKS_HELLO_F_POLLED;
	if (o->max_data_size && h->data_size > o->max_data_size) {
		rc = -ENOSPC;
		goto out_close_memfd;
	}
	rc = vdf_blks_check_memfd(memfd, h->region_size);
	if (rc) {
		vdf_log(LOG_WARNING, BLKSRV_COMPONENT, s->name,
			"memfd refused (needs F_SEAL_SHRINK|F_SEAL_GROW, %" PRIu64 " bytes): %s",
			h->region_size, strerror(-rc));
		goto out_close_memfd;
	}
	va = mmap(NULL, h->region_size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (va == MAP_FAILED) {
		rc = -errno;
		goto out_close_memfd;
	}
	s->region = va;
	s->region_size = h->region_size;
	close(memfd); /* the mapping keeps the memory */
	memfd = -1;
	rc = attach_ring(s, h->sq_off, h->sq_capacity, sizeof(struct vdf_blk_req_wire), &s->sq,
			 "submission");
	if (rc)
		return -EINVAL;
	rc = attach_ring(s, h->cq_off, h->cq_capacity, sizeof(struct vdf_blk_cpl_wire), &s->cq,
			 "completion");
	if (rc)
		return -EINVAL;
	vdf_block_info(s->bdev, info);
	rc = session_limits(s, h, info);
	if (rc)
		return rc;
	s->max_in_flight = VDF_MIN(h->sq_capacity, h->cq_capacity);
	if (o->max_in_flight)
		s->max_in_flight = VDF_MIN(s->max_in_flight, o->max_in_flight);
	s->ios = calloc(s->max_in_flight, sizeof(*s->ios));
	if (!s->ios)
		return -ENOMEM;
	for (uint32_t i = 0; i < s->max_in_flight; i++) {
		s->ios[i].next_free = s->free_ios;
		s->free_ios = &s->ios[i];
	}
	/* The doorbells share their open file with the client: make sure no read
	 * or write of ours can block on something the client controls. */
	rc = vdf_set_nonblock(s->sq_kick);
	if (!rc)
		rc = vdf_set_nonblock(s->cq_kick);
	if (rc)
		return rc;
	rc = vdf_dma_map(srv->dev, (uint8_t *)s->region + h->data_off, h->data_size,
			 VDF_DMA_BIDIRECTIONAL, &s->dma);
	if (rc) {
		vdf_log(LOG_WARNING, BLKSRV_COMPONENT, s->name,
			"mapping the %" PRIu64 "-byte data area for DMA: %s", h->data_size,
			strerror(-rc));
		return rc;
	}
	s->data = s->dma->va;
	rc = vdf_event_add_fd(srv->loop, s->sq_kick, EPOLLIN, blksrv_on_doorbell, s);
	if (rc)
		return rc;
	s->kick_watched = true;
	return 0;

out_close_memfd:
	close(memfd);
	return rc;
}

static void on_hello(struct blk_session *s)
{
	int fds[VDF_BLKS_NFDS] = {-1, -1, -1};
	struct vdf_block_info info;
	struct vdf_blks_hello h;
	struct vdf_blks_welcome w;
	int rc;

	rc = vdf_blks_recv_hello(s->sock, &h, fds, MSG_DONTWAIT);
	if (rc == -EAGAIN)
		return;
	if (rc == -EPIPE) {
		blksrv_session_close(s, LOG_INFO, "the client left before HELLO");
		return;
	}
	if (rc) {
		refuse_session(s, rc, "bad HELLO: %s", strerror(-rc));
		return;
	}
	vdf_timer_stop(s->hello_timer);
	s->hello_timer = NULL;
	rc = session_setup(s, &h, fds, &info);
	if (rc) {
		refuse_session(s, rc, "HELLO refused: %s", strerror(-rc));
		return;
	}
	vdf_blks_welcome_from_info(&info, s->srv->opts.generation, &w);
	w.max_transfer = s->lim.max_transfer;
	w.max_in_flight = s->max_in_flight;
	if (s->lim.read_only)
		w.flags |= VDF_BLKS_F_READ_ONLY;
	rc = vdf_blks_send_welcome(s->sock, &w);
	if (rc) {
		blksrv_session_close(s, LOG_WARNING, "the client left before WELCOME");
		return;
	}
	s->state = BLK_SESS_ACTIVE;
	s->srv->st.sessions_accepted++;
	vdf_log(LOG_INFO, BLKSRV_COMPONENT, s->name,
		"session up (uid %" PRIu32 "): %" PRIu32 " requests in flight, %" PRIu64
		" KiB data area, max transfer %" PRIu32 " KiB%s%s%s",
		s->uid, s->max_in_flight, h.data_size >> 10, s->lim.max_transfer >> 10,
		s->lim.read_only ? ", read-only" : "", s->rl_on ? ", rate-limited" : "",
		s->polled_client ? ", polled client" : "");
	/* The client may have queued requests with its HELLO. */
	blksrv_drain(s);
}

/* The session socket: HELLO, then nothing but the end. */
static void on_sock(int fd, uint32_t events, void *arg)
{
	struct blk_session *s = arg;
	uint8_t buf[VDF_BLKS_MSG_MAX + 1];
	int fds[VDF_FDMSG_MAX_FDS];
	unsigned nfds = 0;
	int rc;

	if (s->state == BLK_SESS_HELLO) {
		on_hello(s);
		return;
	}
	rc = vdf_fdmsg_recv(fd, buf, sizeof(buf), fds, &nfds, MSG_DONTWAIT);
	vdf_fdmsg_close(fds, nfds);
	if (rc == -EAGAIN && !(events & (EPOLLHUP | EPOLLERR)))
		return;
	blksrv_session_close(s, LOG_INFO,
			     rc == -EPIPE || rc == -EAGAIN ? "the client closed the session"
			     : rc >= 0			   ? "message after HELLO"
							   : "socket error");
}

static void on_hello_timeout(struct vdf_timer *t, void *arg)
{
	struct blk_session *s = arg;

	vdf_timer_stop(t);
	s->hello_timer = NULL;
	if (s->state == BLK_SESS_HELLO)
		refuse_session(s, -ETIMEDOUT, "no HELLO within %" PRIu32 " ms",
			       s->srv->opts.hello_timeout_ms);
}

/* ---- server ------------------------------------------------------------- */

static unsigned session_count(const struct vdf_blk_server *srv)
{
	unsigned n = 0;

	for (const struct blk_session *s = srv->sessions; s; s = s->next)
		n++;
	return n;
}

/* Refuse before a session exists: WELCOME (best effort), close. */
static int refuse_sock(struct vdf_blk_server *srv, int sock, const struct vdf_client_grant *cg,
		       int rc)
{
	struct vdf_blks_welcome w = {.status = rc};

	if (vdf_blks_send_welcome(sock, &w)) /* best effort */
		vdf_log(LOG_DEBUG, BLKSRV_COMPONENT, NULL, "refusing WELCOME not sent");
	close(sock);
	if (srv)
		srv->st.sessions_refused++;
	vdf_log(LOG_WARNING, BLKSRV_COMPONENT, NULL,
		"client %" PRIu64 " (unit %" PRIu32 ") refused: %s", cg ? cg->client_id : 0,
		cg ? cg->unit : 0, strerror(-rc));
	return rc;
}

int vdf_blk_server_add_client(struct vdf_blk_server *srv, int sock,
			      const struct vdf_client_grant *cg)
{
	struct vdf_ratelimit_cfg rl = {0};
	struct blk_session *s;
	int rc;

	if (sock < 0)
		return -EINVAL;
	if (!srv || !cg || (cg->flags & ~(uint32_t)VDF_CLIENT_F_KNOWN))
		return refuse_sock(srv, sock, cg, -EINVAL);
	if (cg->unit >= srv->n_bdevs)
		return refuse_sock(srv, sock, cg, -ENODEV);
	if (session_count(srv) >= srv->opts.max_clients)
		return refuse_sock(srv, sock, cg, -EBUSY);
	s = calloc(1, sizeof(*s));
	if (!s)
		return refuse_sock(srv, sock, cg, -ENOMEM);
	s->srv = srv;
	s->sock = sock;
	s->sq_kick = s->cq_kick = -1;
	s->client_id = cg->client_id;
	s->uid = cg->uid;
	s->unit = cg->unit;
	s->bdev = srv->bdevs[cg->unit];
	s->read_only_grant = cg->flags & VDF_CLIENT_F_READ_ONLY;
	snprintf(s->name, sizeof(s->name), "%s client %" PRIu64,
		 s->bdev->name ? s->bdev->name : "?", cg->client_id);
	rl = (struct vdf_ratelimit_cfg){
	    .ops_per_sec = cg->ops_per_sec,
	    .ops_burst = cg->ops_burst,
	    .bytes_per_sec = cg->bytes_per_sec,
	    .bytes_burst = cg->bytes_burst,
	};
	s->rl_on = cg->ops_per_sec || cg->bytes_per_sec;
	rc = vdf_ratelimit_init(&s->rl, &rl, vdf_now_ns());
	if (!rc)
		rc = vdf_session_watch(srv->loop, sock, srv->opts.hello_timeout_ms, on_sock,
				       on_hello_timeout, s, &s->hello_timer);
	if (rc)
		goto out_free;
	s->sock_watched = true;
	s->next = srv->sessions;
	srv->sessions = s;
	vdf_log(LOG_DEBUG, BLKSRV_COMPONENT, s->name, "session from uid %" PRIu32 " (%s%s)",
		cg->uid, s->read_only_grant ? "read-only" : "read-write",
		s->rl_on ? ", rate-limited" : "");
	return 0;

out_free:
	free(s);
	return refuse_sock(srv, sock, cg, rc);
}

int vdf_blk_server_create(struct vdf_block_dev **bdevs, unsigned n_bdevs, struct vdf_dev *dev,
			  struct vdf_event_loop *loop, const struct vdf_blk_server_opts *opts,
			  struct vdf_blk_server **out)
{
	struct vdf_blk_server *srv;
	int rc;

	if (!bdevs || !n_bdevs || n_bdevs > VDF_CLIENT_UNIT_MAX + 1u || !dev || !loop || !out)
		return -EINVAL;
	for (unsigned i = 0; i < n_bdevs; i++)
		if (!bdevs[i] || !bdevs[i]->ops)
			return -EINVAL;
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	srv->work_fd = -1;
	if (opts)
		srv->opts = *opts;
	if (!srv->opts.max_clients)
		srv->opts.max_clients = VDF_BLK_SERVER_DEFAULT_MAX_CLIENTS;
	if (!srv->opts.hello_timeout_ms)
		srv->opts.hello_timeout_ms = VDF_BLK_SERVER_DEFAULT_HELLO_MS;
	if (!srv->opts.drain_timeout_ms)
		srv->opts.drain_timeout_ms = VDF_BLK_SERVER_DEFAULT_DRAIN_MS;
	srv->bdevs = calloc(n_bdevs, sizeof(*srv->bdevs));
	srv->bdev_in_flight = calloc(n_bdevs, sizeof(*srv->bdev_in_flight));
	if (!srv->bdevs || !srv->bdev_in_flight) {
		rc = -ENOMEM;
		goto out_free;
	}
	memcpy(srv->bdevs, bdevs, n_bdevs * sizeof(*bdevs));
	srv->n_bdevs = n_bdevs;
	srv->dev = dev;
	srv->loop = loop;
	srv->work_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (srv->work_fd < 0) {
		rc = -errno;
		goto out_free;
	}
	rc = vdf_event_add_fd(loop, srv->work_fd, EPOLLIN, on_work, srv);
	if (rc)
		goto out_close;
	*out = srv;
	return 0;

out_close:
	close(srv->work_fd);
out_free:
	free(srv->bdev_in_flight);
	free(srv->bdevs);
	free(srv);
	return rc;
}

static bool any_in_flight(const struct vdf_blk_server *srv)
{
	for (const struct blk_session *s = srv->sessions; s; s = s->next)
		if (s->in_flight)
			return true;
	return false;
}

void vdf_blk_server_destroy(struct vdf_blk_server *srv)
{
	struct blk_session *s, *next;
	uint64_t deadline;

	if (!srv)
		return;
	for (s = srv->sessions; s; s = s->next)
		blksrv_session_close(s, LOG_INFO, "the driver is stopping");
	deadline = vdf_now_ns() + (uint64_t)srv->opts.drain_timeout_ms * NSEC_PER_MSEC;
	while (any_in_flight(srv) && vdf_now_ns() < deadline) {
		for (unsigned i = 0; i < srv->n_bdevs; i++)
			if (srv->bdev_in_flight[i])
				vdf_block_poll(srv->bdevs[i]);
		if (any_in_flight(srv))
			(void)vdf_event_loop_run_once(srv->loop, 10);
	}
	for (s = srv->sessions; s; s = next) {
		next = s->next;
		if (!s->in_flight) {
			blksrv_session_free(s);
			continue;
		}
		/* The device may still write into the data area: keep it mapped
		 * until the last completion (io_done frees it then). */
		vdf_log(LOG_ERR, BLKSRV_COMPONENT, s->name,
			"%" PRIu32 " requests still on the device after %" PRIu32
			" ms: leaving the data area mapped",
			s->in_flight, srv->opts.drain_timeout_ms);
		s->srv = NULL;
	}
	(void)vdf_event_del_fd(srv->loop, srv->work_fd);
	close(srv->work_fd);
	free(srv->bdev_in_flight);
	free(srv->bdevs);
	free(srv);
}

void vdf_blk_server_stats(const struct vdf_blk_server *srv, struct vdf_heartbeat *hb)
{
	if (!srv || !hb)
		return;
	hb->errors += srv->st.io.invalid + srv->st.io.submit_errors;
}

void vdf_blk_server_get_stats(const struct vdf_blk_server *srv, struct vdf_blk_server_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!srv)
		return;
	*st = srv->st;
	for (const struct blk_session *s = srv->sessions; s; s = s->next) {
		st->sessions++;
		if (s->state == BLK_SESS_DRAINING)
			st->draining++;
	}
}

unsigned vdf_blk_server_sessions(const struct vdf_blk_server *srv, struct vdf_blk_session_info *out,
				 unsigned max)
{
	unsigned n = 0;

	if (!srv)
		return 0;
	for (const struct blk_session *s = srv->sessions; s; s = s->next, n++) {
		if (n >= max || !out)
			continue;
		out[n] = (struct vdf_blk_session_info){
		    .client_id = s->client_id,
		    .uid = s->uid,
		    .unit = s->unit,
		    .active = s->state == BLK_SESS_ACTIVE,
		    .draining = s->state == BLK_SESS_DRAINING,
		    .read_only = s->read_only_grant || s->lim.read_only,
		    .polled = s->polled_client,
		    .in_flight = s->in_flight,
		    .max_in_flight = s->max_in_flight,
		    .data_size = s->lim.data_size,
		    .io = s->io,
		};
	}
	return n;
}
