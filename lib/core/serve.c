// SPDX-License-Identifier: MIT
/* The driver side of the manager's runtime protocol; see vdf/serve.h. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vdf/log.h"
#include "vdf/serve.h"

struct serve {
	struct vdf_driver_ctx *ctx;
	const struct vdf_serve_hooks *hooks;
	int sock;
	uint64_t seq;
	int rc;
};

static const char *dev_name(const struct serve *sv)
{
	return vdf_dev_name(sv->ctx->dev);
}

static void stop(struct serve *sv, int rc)
{
	sv->rc = rc;
	vdf_event_loop_stop(sv->ctx->loop);
}

static int send_heartbeat(struct serve *sv, uint64_t cookie)
{
	struct vdf_grant_msg m = {.type = VDF_MSG_HEARTBEAT};

	m.u.hb.seq = ++sv->seq;
	m.u.hb.cookie = cookie;
	m.u.hb.irqs = sv->ctx->irq_events;
	if (sv->hooks && sv->hooks->stats)
		sv->hooks->stats(sv->hooks->arg, &m.u.hb);
	return vdf_grant_msg_send(sv->sock, &m);
}

static void answer_check(struct serve *sv, const struct vdf_check *req)
{
	struct vdf_grant_msg m = {.type = VDF_MSG_CHECK_RESULT};
	uint64_t sum = 0;
	int rc = -EOPNOTSUPP;

	if (sv->hooks && sv->hooks->check)
		rc = sv->hooks->check(sv->hooks->arg, req->lba, req->nblocks, &sum);
	m.u.check = *req;
	m.u.check.status = rc;
	m.u.check.checksum = rc ? 0 : sum;
	rc = vdf_grant_msg_send(sv->sock, &m);
	if (rc)
		stop(sv, rc);
}

/* A brokered client session: the class's hook takes the fd, or nobody does
 * and closing it tells the client at once. */
static void take_client(struct serve *sv, int fd, const struct vdf_client_grant *cg)
{
	int rc;

	if (!sv->hooks || !sv->hooks->client) {
		close(fd);
		VDF_LOG_RL(LOG_WARNING, sv->ctx->drv->name, dev_name(sv),
			   "client %llu (uid %u): this driver serves no block clients; "
			   "closed the session",
			   (unsigned long long)cg->client_id, cg->uid);
		return;
	}
	rc = sv->hooks->client(sv->hooks->arg, fd, cg);
	if (rc)
		VDF_LOG_RL(LOG_WARNING, sv->ctx->drv->name, dev_name(sv),
			   "client %llu (uid %u) refused: %s", (unsigned long long)cg->client_id,
			   cg->uid, strerror(-rc));
}

static void on_tick(struct vdf_timer *t, void *arg)
{
	struct serve *sv = arg;
	int rc = send_heartbeat(sv, 0);

	(void)t;
	if (rc) /* the manager is gone */
		stop(sv, rc == -EPIPE ? 0 : rc);
}

static void on_message(int fd, uint32_t events, void *arg)
{
	struct serve *sv = arg;
	struct vdf_grant_msg m;
	int rc, cfd;

	(void)fd;
	(void)events;
	while ((rc = vdf_grant_msg_recv_fd(sv->sock, &m, &cfd, MSG_DONTWAIT)) != -EAGAIN) {
		if (rc == -EPIPE) {
			vdf_log(LOG_INFO, sv->ctx->drv->name, dev_name(sv),
				"the manager closed the socket: stopping");
			stop(sv, 0);
			return;
		}
		if (rc) {
			VDF_LOG_RL(LOG_WARNING, sv->ctx->drv->name, dev_name(sv),
				   "bad message from the manager: %s", strerror(-rc));
			continue;
		}
		switch (m.type) {
		case VDF_MSG_PING:
			rc = send_heartbeat(sv, m.u.ping_cookie);
			if (rc) {
				stop(sv, rc);
				return;
			}
			break;
		case VDF_MSG_CHECK:
			answer_check(sv, &m.u.check);
			break;
		case VDF_MSG_CLIENT:
			take_client(sv, cfd, &m.u.client);
			break;
		case VDF_MSG_STOP:
			vdf_log(LOG_INFO, sv->ctx->drv->name, dev_name(sv),
				"STOP from the manager (reason %u)", m.u.stop_reason);
			stop(sv, 0);
			return;
		default:
			VDF_LOG_RL(LOG_WARNING, sv->ctx->drv->name, dev_name(sv),
				   "unexpected message type %d from the manager", (int)m.type);
			break;
		}
	}
}

int vdf_driver_serve(struct vdf_driver_ctx *ctx, int sock, const struct vdf_grant *g,
		     const struct vdf_serve_hooks *hooks)
{
	struct serve sv = {.ctx = ctx, .hooks = hooks, .sock = sock};
	struct vdf_timer *t = NULL;
	int rc;

	rc = vdf_event_add_fd(ctx->loop, sock, 0, on_message, &sv);
	if (rc)
		return rc;
	if (g->heartbeat_ms) {
		rc = vdf_timer_start(ctx->loop, g->heartbeat_ms, g->heartbeat_ms, on_tick, &sv, &t);
		if (rc)
			goto out_del;
	}
	/* The first heartbeat says "up and serving". */
	rc = send_heartbeat(&sv, 0);
	if (!rc)
		rc = vdf_event_loop_run(ctx->loop);
	if (!rc)
		rc = sv.rc;
	vdf_timer_stop(t);
out_del:
	(void)vdf_event_del_fd(ctx->loop, sock);
	return rc;
}
