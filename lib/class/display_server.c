// SPDX-License-Identifier: MIT
/* The driver side of display sessions; see vdf/dispserver.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vdf/blksession.h"
#include "vdf/dispserver.h"
#include "vdf/dispsession.h"
#include "vdf/log.h"
#include "session_watch.h"

#define COMPONENT "display"

struct disp_session {
	struct vdf_display_server *srv;
	int sock;
	bool watched, active;
	uint64_t client_id;
	char name[64];
	struct vdf_timer *hello_timer, *vblank_timer;
	struct vdf_disps_request pending; /* the WAIT_VBLANK being waited for */
	uint64_t pending_seq;
	const uint8_t *buf; /* the client's picture, mapped read-only */
	uint64_t buf_size;
	uint64_t presents;
};

struct vdf_display_server {
	struct vdf_event_loop *loop;
	struct vdf_display_server_opts o;
	struct disp_session *s;
	struct vdf_display_server_stats st;
};

static void on_sock(int fd, uint32_t events, void *arg);

/* A WELCOME refusing the session; the client may be gone already. */
static void send_refusal(int sock, int status)
{
	struct vdf_disps_welcome w = {.status = status};

	if (vdf_disps_send_welcome(sock, &w))
		vdf_log(LOG_DEBUG, COMPONENT, NULL, "refusing WELCOME not sent");
}

static void session_close(struct disp_session *s, int level, const char *why)
{
	struct vdf_display_server *srv = s->srv;

	vdf_log(level, COMPONENT, s->name, "session closed: %s", why);
	vdf_timer_stop(s->hello_timer);
	vdf_timer_stop(s->vblank_timer);
	if (s->watched)
		(void)vdf_event_del_fd(srv->loop, s->sock);
	if (s->buf)
		munmap((void *)s->buf, s->buf_size);
	close(s->sock);
	if (srv->s == s)
		srv->s = NULL;
	free(s);
}

static uint32_t stride_of(const struct vdf_display_mode *m)
{
	return m->width ? m->width * vdf_pixel_bytes(m->format) : 0;
}

static void reply(struct disp_session *s, const struct vdf_disps_request *r, int status,
		  uint64_t seq)
{
	struct vdf_disps_reply a = {.tag = r->tag, .op = r->op, .status = status, .seq = seq};

	int rc;

	s->srv->o.ops->get_mode(s->srv->o.arg, &a.mode);
	a.stride = stride_of(&a.mode);
	if (status)
		s->srv->st.refused++;
	rc = vdf_disps_send_reply(s->sock, &a);
	if (rc == -EAGAIN) {
		/* the socket's buffer is full of replies the client never read */
		s->srv->st.invalid++;
		session_close(s, LOG_WARNING, "the client does not read its replies");
	} else if (rc) {
		session_close(s, LOG_INFO, "the client left before its reply");
	}
}

static void on_vblank(struct vdf_timer *t, void *arg)
{
	struct disp_session *s = arg;
	struct vdf_disps_request r = s->pending;

	vdf_timer_stop(t);
	s->vblank_timer = NULL;
	s->srv->st.vblank_waits++;
	/* answer, then listen again (requests after the wait were held back) */
	if (vdf_event_add_fd(s->srv->loop, s->sock, EPOLLIN, on_sock, s)) {
		session_close(s, LOG_ERR, "cannot watch the socket again");
		return;
	}
	s->watched = true;
	reply(s, &r, 0, s->pending_seq);
}

static void wait_vblank(struct disp_session *s, const struct vdf_disps_request *r)
{
	const struct vdf_display_ops *ops = s->srv->o.ops;
	uint64_t period, epoch, now = vdf_now_ns(), n, target, ms;
	int rc;

	rc = ops->vblank_clock(s->srv->o.arg, &period, &epoch);
	if (rc || !period) {
		reply(s, r, rc ? rc : -ENODATA, 0);
		return;
	}
	n = (now > epoch ? (now - epoch) / period : 0) + 1;
	target = epoch + n * period;
	ms = (target - now + 999999) / 1000000;
	s->pending = *r;
	s->pending_seq = n;
	/* hold further requests until this one is answered: replies stay in order */
	(void)vdf_event_del_fd(s->srv->loop, s->sock);
	s->watched = false;
	rc = vdf_timer_start(s->srv->loop, ms ? ms : 1, 0, on_vblank, s, &s->vblank_timer);
	if (rc)
		session_close(s, LOG_ERR, "cannot start the vblank timer");
}

static void handle(struct disp_session *s, const struct vdf_disps_request *r)
{
	struct vdf_display_server *srv = s->srv;
	const struct vdf_display_ops *ops = srv->o.ops;
	struct vdf_display_mode cur;
	char why[160] = "";
	int rc;

	switch (r->op) {
	case VDF_DISPS_SET_MODE:
		if (vdf_disps_frame_bytes(&r->mode) > s->buf_size) {
			vdf_log(LOG_WARNING, COMPONENT, s->name,
				"mode %ux%u refused: the picture needs %" PRIu64
				" bytes, the client's buffer has %" PRIu64,
				r->mode.width, r->mode.height, vdf_disps_frame_bytes(&r->mode),
				s->buf_size);
			reply(s, r, -ENOSPC, 0);
			return;
		}
		rc = ops->set_mode(srv->o.arg, &r->mode, why, sizeof(why));
		if (rc)
			vdf_log(LOG_WARNING, COMPONENT, s->name, "mode %ux%u refused: %s",
				r->mode.width, r->mode.height, why);
		else
			srv->st.mode_sets++;
		reply(s, r, rc, 0);
		return;
	case VDF_DISPS_PRESENT:
		ops->get_mode(srv->o.arg, &cur);
		if (!cur.width) {
			reply(s, r, -ENODATA, 0);
			return;
		}
		if (vdf_disps_frame_bytes(&cur) > s->buf_size) {
			/* a mode set by someone else, larger than this client's buffer */
			reply(s, r, -ENOSPC, 0);
			return;
		}
		rc = ops->present(srv->o.arg, s->buf, stride_of(&cur));
		if (!rc) {
			s->presents++;
			srv->st.presents++;
			srv->st.bytes_presented += vdf_disps_frame_bytes(&cur);
		}
		reply(s, r, rc, s->presents);
		return;
	case VDF_DISPS_WAIT_VBLANK:
		wait_vblank(s, r);
		return;
	}
	reply(s, r, -EINVAL, 0); /* not reached: decoding checked the op */
}

static void on_hello(struct disp_session *s)
{
	struct vdf_display_server *srv = s->srv;
	struct vdf_disps_welcome w = {0};
	struct vdf_disps_hello h;
	int memfd = -1, rc;
	void *map;

	rc = vdf_disps_recv_hello(s->sock, &h, &memfd, MSG_DONTWAIT);
	if (rc == -EAGAIN)
		return;
	if (rc == -EPIPE || rc == -ECONNRESET) {
		session_close(s, LOG_INFO, "the client left before HELLO");
		return;
	}
	if (rc) {
		srv->st.invalid++;
		session_close(s, LOG_WARNING, "bad HELLO");
		return;
	}
	rc = vdf_blks_check_memfd(memfd, h.buffer_size);
	if (rc) {
		close(memfd);
		send_refusal(s->sock, rc);
		srv->st.sessions_refused++;
		session_close(s, LOG_WARNING,
			      "the framebuffer memfd is not sealed or not its size");
		return;
	}
	map = mmap(NULL, h.buffer_size, PROT_READ, MAP_SHARED, memfd, 0);
	close(memfd);
	if (map == MAP_FAILED) {
		send_refusal(s->sock, -errno);
		srv->st.sessions_refused++;
		session_close(s, LOG_WARNING, "cannot map the client's framebuffer");
		return;
	}
	s->buf = map;
	s->buf_size = h.buffer_size;
	vdf_timer_stop(s->hello_timer);
	s->hello_timer = NULL;

	w.generation = srv->o.generation;
	snprintf(w.name, sizeof(w.name), "%s", srv->o.name ? srv->o.name : "");
	w.width_mm = srv->o.width_mm;
	w.height_mm = srv->o.height_mm;
	srv->o.ops->get_mode(srv->o.arg, &w.mode);
	w.nmodes = srv->o.ops->modes(srv->o.arg, w.modes, VDF_DISPS_MODES_MAX);
	rc = vdf_disps_send_welcome(s->sock, &w);
	if (rc) {
		session_close(s, LOG_WARNING, "the client left before WELCOME");
		return;
	}
	s->active = true;
	srv->st.sessions_accepted++;
	vdf_log(LOG_INFO, COMPONENT, s->name, "session up: %" PRIu64 " KiB framebuffer",
		s->buf_size >> 10);
}

static void on_sock(int fd, uint32_t events, void *arg)
{
	struct disp_session *s = arg;
	struct vdf_disps_request r;
	int rc;

	(void)fd, (void)events;
	if (!s->active) {
		on_hello(s);
		return;
	}
	rc = vdf_disps_recv_request(s->sock, &r, MSG_DONTWAIT);
	if (rc == -EAGAIN)
		return;
	if (rc) {
		if (rc != -EPIPE)
			s->srv->st.invalid++;
		session_close(s, rc == -EPIPE ? LOG_INFO : LOG_WARNING,
			      rc == -EPIPE ? "the client closed the session" : "bad request");
		return;
	}
	handle(s, &r);
}

static void on_hello_timeout(struct vdf_timer *t, void *arg)
{
	struct disp_session *s = arg;

	vdf_timer_stop(t);
	s->hello_timer = NULL;
	if (s->active)
		return;
	send_refusal(s->sock, -ETIMEDOUT);
	s->srv->st.sessions_refused++;
	session_close(s, LOG_WARNING, "no HELLO in time");
}

static int refuse_sock(struct vdf_display_server *srv, int sock, uint64_t client_id, int rc)
{
	send_refusal(sock, rc);
	close(sock);
	if (srv)
		srv->st.sessions_refused++;
	vdf_log(LOG_WARNING, COMPONENT, NULL, "client %" PRIu64 " refused: %s", client_id,
		strerror(-rc));
	return rc;
}

int vdf_display_server_add_client(struct vdf_display_server *srv, int sock,
				  const struct vdf_client_grant *cg)
{
	struct disp_session *s;
	int rc;

	if (sock < 0)
		return -EINVAL;
	if (!srv || !cg || (cg->flags & ~(uint32_t)VDF_CLIENT_F_KNOWN))
		return refuse_sock(srv, sock, cg ? cg->client_id : 0, -EINVAL);
	if (cg->unit)
		return refuse_sock(srv, sock, cg->client_id, -ENODEV);
	if (cg->flags & VDF_CLIENT_F_READ_ONLY)
		return refuse_sock(srv, sock, cg->client_id, -EPERM); /* drawing is writing */
	if (srv->s)
		return refuse_sock(srv, sock, cg->client_id, -EBUSY);
	s = calloc(1, sizeof(*s));
	if (!s)
		return refuse_sock(srv, sock, cg->client_id, -ENOMEM);
	s->srv = srv;
	s->sock = sock;
	s->client_id = cg->client_id;
	snprintf(s->name, sizeof(s->name), "client %" PRIu64, cg->client_id);
	rc = vdf_session_watch(srv->loop, sock, srv->o.hello_timeout_ms, on_sock, on_hello_timeout,
			       s, &s->hello_timer);
	if (rc)
		goto out_free;
	s->watched = true;
	srv->s = s;
	return 0;

out_free:
	free(s);
	return refuse_sock(srv, sock, cg->client_id, rc);
}

int vdf_display_server_create(struct vdf_event_loop *loop, const struct vdf_display_server_opts *o,
			      struct vdf_display_server **out)
{
	struct vdf_display_server *srv;
	const struct vdf_display_ops *ops = o ? o->ops : NULL;

	if (!loop || !ops || !ops->set_mode || !ops->get_mode || !ops->present ||
	    !ops->vblank_clock || !ops->modes || !out)
		return -EINVAL;
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	srv->loop = loop;
	srv->o = *o;
	if (!srv->o.hello_timeout_ms)
		srv->o.hello_timeout_ms = VDF_DISPLAY_SERVER_DEFAULT_HELLO_MS;
	*out = srv;
	return 0;
}

void vdf_display_server_destroy(struct vdf_display_server *srv)
{
	if (!srv)
		return;
	if (srv->s)
		session_close(srv->s, LOG_INFO, "the driver is stopping");
	free(srv);
}

void vdf_display_server_get_stats(const struct vdf_display_server *srv,
				  struct vdf_display_server_stats *st)
{
	*st = srv ? srv->st : (struct vdf_display_server_stats){0};
}

void vdf_display_server_stats(const struct vdf_display_server *srv, struct vdf_heartbeat *hb)
{
	if (!srv || !hb)
		return;
	hb->tx_ios += srv->st.presents;
	hb->tx_bytes += srv->st.bytes_presented;
	hb->errors += srv->st.refused + srv->st.invalid;
}
