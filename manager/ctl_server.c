// SPDX-License-Identifier: MIT
/* vdfd control socket server; see ctl_server.h. */
#include <assert.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl_server.h"
#include "vdf/fdmsg.h"
#include "vdf/log.h"

#define COMP	     "ctl"
#define BACKLOG	     16
#define ACCEPT_BATCH 32
#define RECV_BATCH   8
/* Socket send buffer so one maximal response fits a single message. */
#define SNDBUF_BYTES (2 * (VDF_CTL_HDR_SIZE + VDF_CTL_MAX_RESPONSE))

struct client {
	struct vdf_ctl_server *srv;
	int fd;
	struct vdf_ctl_peer peer;
	uint64_t last_ns;		 /* last request (or connect) */
	struct vdf_ctl_pending *pending; /* deferred answers still owed */
	bool send_failed;		 /* an answer completed inside a handler failed */
};

struct vdf_ctl_pending {
	struct client *client; /* NULL once the client is gone */
	struct vdf_ctl_pending *next;
};

struct vdf_ctl_server {
	struct vdf_event_loop *loop;
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t sock_dev;
	ino_t sock_ino;
	bool have_group;
	gid_t group;
	uid_t self_uid;
	struct vdf_ctl_handlers handlers;
	void *ctx;
	unsigned max_clients;
	unsigned nclients;
	struct client **clients;
	uint8_t *buf;		/* one request, VDF_CTL_HDR_SIZE + VDF_CTL_MAX_PAYLOAD */
	struct client *current; /* whose request a handler is running */
};

/*
 * Send one response frame, with fd attached when fd >= 0 (the fd stays the
 * caller's); 0 or a negative errno (the caller drops the client).
 */
static int send_response_fd(int sock, json_object *data, const char *error, int fd)
{
	void *frame;
	size_t len;
	int rc;

	rc = vdf_ctl_encode_response(data, error, &frame, &len);
	if (rc == -EMSGSIZE)
		rc = vdf_ctl_encode_response(NULL, "response too large for the control protocol",
					     &frame, &len);
	if (rc)
		return rc;
	/* The client socket is non-blocking (accept4): a client that does not
	 * read its answers gets -EAGAIN here and is dropped. */
	rc = vdf_fdmsg_send(sock, frame, len, &fd, fd >= 0 ? 1 : 0);
	free(frame);
	if (rc == -EMSGSIZE) /* socket buffer smaller than the frame */
		return send_response_fd(sock, NULL, "response too large for the socket buffer", -1);
	return rc;
}

static int send_response(int sock, json_object *data, const char *error)
{
	return send_response_fd(sock, data, error, -1);
}

/* Answer a connection that is refused, then close it. Whatever the peer sent
 * is read away first: closing with unread data would make the peer see
 * ECONNRESET before the answer. */
static void send_error_and_close(int fd, const char *error)
{
	char sink[64];

	(void)send_response(fd, NULL, error);
	for (int i = 0; i < RECV_BATCH; i++)
		if (recv(fd, sink, sizeof(sink), MSG_DONTWAIT | MSG_TRUNC) <= 0)
			break;
	close(fd);
}

static void client_drop(struct client *c)
{
	struct vdf_ctl_server *srv = c->srv;

	/* Answers still owed to it are dropped when they come. */
	for (struct vdf_ctl_pending *p = c->pending; p; p = p->next)
		p->client = NULL;

	for (unsigned i = 0; i < srv->max_clients; i++) {
		if (srv->clients[i] == c) {
			srv->clients[i] = NULL;
			srv->nclients--;
			break;
		}
	}
	(void)vdf_event_del_fd(srv->loop, c->fd);
	close(c->fd);
	free(c);
}

static vdf_ctl_handler_fn handler_for(const struct vdf_ctl_handlers *h, enum vdf_ctl_cmd cmd)
{
	switch (cmd) {
	case VDF_CTL_LIST:
		return h->list;
	case VDF_CTL_INFO:
		return h->info;
	case VDF_CTL_START:
		return h->start;
	case VDF_CTL_STOP:
		return h->stop;
	case VDF_CTL_RESTART:
		return h->restart;
	case VDF_CTL_BIND:
		return h->bind;
	case VDF_CTL_UNBIND:
		return h->unbind;
	case VDF_CTL_STATS:
		return h->stats;
	case VDF_CTL_LOG_LEVEL:
		return h->log_level;
	case VDF_CTL_EXPLAIN:
		return h->explain;
	case VDF_CTL_CHECK:
		return h->check;
	case VDF_CTL_OPEN:
		return h->open;
	default:
		return NULL;
	}
}

/* log-level when the daemon has no handler of its own. */
static int default_log_level(void *ctx, const struct vdf_ctl_request *req,
			     const struct vdf_ctl_peer *peer, json_object *data, char *err,
			     size_t errlen)
{
	json_object *s;

	(void)ctx;
	(void)err;
	(void)errlen;
	if (req->level >= 0) {
		vdf_log_set_level(req->level);
		vdf_log(LOG_NOTICE, COMP, NULL, "log level set to %s by uid %u (pid %d)",
			vdf_ctl_log_level_name(req->level), (unsigned)peer->uid, (int)peer->pid);
	}
	s = json_object_new_string(vdf_ctl_log_level_name(vdf_log_get_level()));
	if (!s || json_object_object_add(data, "level", s)) {
		json_object_put(s);
		return -ENOMEM;
	}
	return 0;
}

/* Run one decoded request and answer it. 0, or an errno from sending. */
static int dispatch(struct client *c, const struct vdf_ctl_request *req)
{
	struct vdf_ctl_server *srv = c->srv;
	vdf_ctl_handler_fn fn = handler_for(&srv->handlers, req->cmd);
	const char *name = vdf_ctl_cmd_name(req->cmd);
	char err[VDF_CTL_ERR_MAX] = "";
	json_object *data;
	int rc;

	vdf_log(LOG_DEBUG, COMP, NULL, "uid %u pid %d: %s%s%s", (unsigned)c->peer.uid,
		(int)c->peer.pid, name, req->dev[0] ? " " : "", req->dev);
	if (!fn && req->cmd == VDF_CTL_LOG_LEVEL)
		fn = default_log_level;
	if (!fn) {
		snprintf(err, sizeof(err), "'%s' is not supported by this vdfd", name);
		return send_response(c->fd, NULL, err);
	}
	data = json_object_new_object();
	if (!data)
		return send_response(c->fd, NULL, "out of memory");
	srv->current = c;
	rc = fn(srv->ctx, req, &c->peer, data, err, sizeof(err));
	srv->current = NULL;
	err[sizeof(err) - 1] = '\0';
	if (rc == VDF_CTL_DEFERRED) {
		/* Answered (or not) by vdf_ctl_complete, maybe already. */
		rc = c->send_failed ? -EPIPE : 0;
	} else if (rc < 0) {
		if (!err[0])
			snprintf(err, sizeof(err), "%s", strerror(-rc));
		vdf_log(LOG_INFO, COMP, NULL, "%s%s%s failed: %s", name, req->dev[0] ? " " : "",
			req->dev, err);
		rc = send_response(c->fd, NULL, err);
	} else {
		rc = send_response(c->fd, data, NULL);
	}
	json_object_put(data);
	return rc;
}

static void on_client(int fd, uint32_t events, void *arg)
{
	struct client *c = arg;
	struct vdf_ctl_server *srv = c->srv;
	struct vdf_ctl_request req;
	char err[VDF_CTL_ERR_MAX];

	(void)events; /* HUP/ERR show up as recv() returning 0 or failing */
	for (int i = 0; i < RECV_BATCH; i++) {
		struct iovec iov = {.iov_base = srv->buf,
				    .iov_len = VDF_CTL_HDR_SIZE + VDF_CTL_MAX_PAYLOAD};
		struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
		ssize_t n;
		int rc;

		n = recvmsg(fd, &msg, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			goto out_drop;
		}
		if (n == 0) /* orderly close */
			goto out_drop;
		c->last_ns = vdf_now_ns();
		if (msg.msg_flags & MSG_TRUNC) {
			snprintf(err, sizeof(err), "frame larger than the limit of %u bytes",
				 VDF_CTL_HDR_SIZE + VDF_CTL_MAX_PAYLOAD);
			rc = -EMSGSIZE;
		} else {
			rc = vdf_ctl_decode_request(srv->buf, (size_t)n, &req, err, sizeof(err));
		}
		if (rc) {
			VDF_LOG_RL(LOG_NOTICE, COMP, NULL, "bad request from uid %u pid %d: %s",
				   (unsigned)c->peer.uid, (int)c->peer.pid, err);
			if (send_response(fd, NULL, err))
				goto out_drop;
			/* After a framing error the peer is not speaking this protocol. */
			if (rc == -EPROTO || rc == -EPROTONOSUPPORT || rc == -EMSGSIZE)
				goto out_drop;
			continue;
		}
		if (dispatch(c, &req))
			goto out_drop;
	}
	return;

out_drop:
	client_drop(c);
}

struct vdf_ctl_pending *vdf_ctl_defer(struct vdf_ctl_server *srv)
{
	struct vdf_ctl_pending *p;

	assert(srv->current); /* only from inside a handler */
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->client = srv->current;
	p->next = srv->current->pending;
	srv->current->pending = p;
	return p;
}

void vdf_ctl_complete_fd(struct vdf_ctl_pending *p, int rc, json_object *data, const char *err,
			 int fd)
{
	struct client *c = p->client;

	if (c) {
		struct vdf_ctl_pending **pp = &c->pending;

		while (*pp != p)
			pp = &(*pp)->next;
		*pp = p->next;
		if (rc < 0)
			rc = send_response(c->fd, NULL, err && err[0] ? err : strerror(-rc));
		else
			rc = send_response_fd(c->fd, data, NULL, fd);
		/* Inside the client's own handler the caller is still using it:
		 * dispatch drops it on return instead. */
		if (rc && c->srv->current == c)
			c->send_failed = true;
		else if (rc)
			client_drop(c);
	}
	/* Sent (the client has its own copy now) or not: ours goes. */
	if (fd >= 0)
		close(fd);
	free(p);
}

void vdf_ctl_complete(struct vdf_ctl_pending *p, int rc, json_object *data, const char *err)
{
	vdf_ctl_complete_fd(p, rc, data, err, -1);
}

bool vdf_ctl_pending_connected(const struct vdf_ctl_pending *p)
{
	return p->client != NULL;
}

/* Kernels before 4.13 have no SO_PEERGROUPS: ask the user databases instead. */
static bool user_in_group(uid_t uid, gid_t group)
{
	struct passwd pw, *pwp = NULL;
	char pwbuf[1024];
	gid_t list[256];
	int n = (int)VDF_ARRAY_SIZE(list);

	if (getpwuid_r(uid, &pw, pwbuf, sizeof(pwbuf), &pwp) || !pwp)
		return false;
	if (getgrouplist(pw.pw_name, pw.pw_gid, list, &n) < 0)
		return false;
	for (int i = 0; i < n; i++)
		if (list[i] == group)
			return true;
	return false;
}

static bool peer_in_group(const struct vdf_ctl_server *srv, int fd, const struct ucred *cred)
{
	gid_t small[64], *gids = small;
	socklen_t len = sizeof(small);
	bool found = false;

	if (cred->gid == srv->group)
		return true;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, gids, &len) < 0) {
		if (errno == ENOPROTOOPT)
			return user_in_group(cred->uid, srv->group);
		if (errno != ERANGE)
			return false;
		/* len now says how much is needed */
		gids = malloc(len);
		if (!gids)
			return false;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, gids, &len) < 0)
			len = 0;
	}
	for (size_t i = 0; i < len / sizeof(gid_t); i++)
		if (gids[i] == srv->group)
			found = true;
	if (gids != small)
		free(gids);
	return found;
}

static bool authorized(const struct vdf_ctl_server *srv, int fd, const struct ucred *cred)
{
	if (cred->uid == 0 || cred->uid == srv->self_uid)
		return true;
	return srv->have_group && peer_in_group(srv, fd, cred);
}

/* Make room by dropping the longest idle client, if one has idled long enough. */
static bool evict_idle(struct vdf_ctl_server *srv)
{
	uint64_t now = vdf_now_ns();
	struct client *oldest = NULL;

	for (unsigned i = 0; i < srv->max_clients; i++) {
		struct client *c = srv->clients[i];

		if (c && (!oldest || c->last_ns < oldest->last_ns))
			oldest = c;
	}
	if (!oldest || now - oldest->last_ns < (uint64_t)VDF_CTL_IDLE_EVICT_MS * 1000000ull)
		return false;
	vdf_log(LOG_INFO, COMP, NULL, "dropping idle client pid %d to make room",
		(int)oldest->peer.pid);
	client_drop(oldest);
	return true;
}

static void add_client(struct vdf_ctl_server *srv, int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	char msg[128];
	struct client *c;
	unsigned slot;
	int sndbuf = SNDBUF_BYTES;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		vdf_log(LOG_WARNING, COMP, NULL, "SO_PEERCRED: %s", strerror(errno));
		close(fd);
		return;
	}
	if (!authorized(srv, fd, &cred)) {
		VDF_LOG_RL(LOG_NOTICE, COMP, NULL, "refused uid %u pid %d: not root or in group %s",
			   (unsigned)cred.uid, (int)cred.pid, srv->have_group ? "vdf" : "(none)");
		snprintf(msg, sizeof(msg),
			 "permission denied: uid %u is not root or a member of group vdf",
			 (unsigned)cred.uid);
		send_error_and_close(fd, msg);
		return;
	}
	if (srv->nclients == srv->max_clients && !evict_idle(srv)) {
		VDF_LOG_RL(LOG_NOTICE, COMP, NULL, "refused pid %d: %u clients connected",
			   (int)cred.pid, srv->max_clients);
		snprintf(msg, sizeof(msg), "too many clients (%u connected): try again later",
			 srv->max_clients);
		send_error_and_close(fd, msg);
		return;
	}
	for (slot = 0; slot < srv->max_clients && srv->clients[slot]; slot++)
		;
	c = calloc(1, sizeof(*c));
	if (!c) {
		send_error_and_close(fd, "out of memory");
		return;
	}
	c->srv = srv;
	c->fd = fd;
	c->peer.pid = cred.pid;
	c->peer.uid = cred.uid;
	c->peer.gid = cred.gid;
	c->last_ns = vdf_now_ns();
	/* Best effort: the kernel caps it at wmem_max; send_response copes. */
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	if (vdf_event_add_fd(srv->loop, fd, EPOLLIN, on_client, c)) {
		free(c);
		send_error_and_close(fd, "out of resources");
		return;
	}
	srv->clients[slot] = c;
	srv->nclients++;
}

static void on_accept(int fd, uint32_t events, void *arg)
{
	struct vdf_ctl_server *srv = arg;

	(void)events;
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (cfd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				VDF_LOG_RL(LOG_WARNING, COMP, NULL, "accept: %s", strerror(errno));
			return;
		}
		add_client(srv, cfd);
	}
}

/* Is something listening on the socket at path? */
static bool socket_alive(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, rc;

	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	/* EPROTOTYPE: a listener of another socket type is still a listener */
	rc = rc == 0 || errno == EPROTOTYPE || errno == EAGAIN;
	close(fd);
	return rc;
}

/* Clear the way for bind(): replace a stale socket, refuse anything else. */
static int prepare_path(const char *path)
{
	char dir[PATH_MAX];
	struct stat st;
	char *slash;

	memcpy(dir, path, strlen(path) + 1);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) && errno != EEXIST) {
			int rc = -errno;

			vdf_log(LOG_ERR, COMP, NULL, "creating %s: %s", dir, strerror(-rc));
			return rc;
		}
	}
	if (lstat(path, &st)) {
		if (errno == ENOENT)
			return 0;
		return -errno;
	}
	if (!S_ISSOCK(st.st_mode)) {
		vdf_log(LOG_ERR, COMP, NULL, "%s exists and is not a socket: not touching it",
			path);
		return -EEXIST;
	}
	if (socket_alive(path)) {
		vdf_log(LOG_ERR, COMP, NULL, "another server (vdfd?) is listening on %s", path);
		return -EADDRINUSE;
	}
	vdf_log(LOG_INFO, COMP, NULL, "removing stale socket %s", path);
	if (unlink(path) && errno != ENOENT)
		return -errno;
	return 0;
}

static void lookup_group(struct vdf_ctl_server *srv, const char *name)
{
	struct group gr, *grp = NULL;
	char buf[4096];

	if (!name[0])
		return;
	if (getgrnam_r(name, &gr, buf, sizeof(buf), &grp) || !grp) {
		vdf_log(LOG_INFO, COMP, NULL, "no group '%s': control socket is root-only", name);
		return;
	}
	srv->have_group = true;
	srv->group = grp->gr_gid;
}

int vdf_ctl_server_start(struct vdf_event_loop *loop, const struct vdf_ctl_server_opts *opts,
			 struct vdf_ctl_server **out)
{
	static const struct vdf_ctl_server_opts defaults;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct vdf_ctl_server *srv;
	const char *path;
	struct stat st;
	int rc;

	if (!opts)
		opts = &defaults;
	path = opts->path ? opts->path : VDF_CTL_DEFAULT_SOCKET;
	if (!path[0] || strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	srv->loop = loop;
	srv->fd = -1;
	memcpy(srv->path, path, strlen(path) + 1);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	srv->self_uid = geteuid();
	if (opts->handlers)
		srv->handlers = *opts->handlers;
	srv->ctx = opts->ctx;
	srv->max_clients = opts->max_clients ? opts->max_clients : VDF_CTL_MAX_CLIENTS;
	lookup_group(srv, opts->group ? opts->group : VDF_CTL_GROUP);

	rc = -ENOMEM;
	srv->clients = calloc(srv->max_clients, sizeof(*srv->clients));
	srv->buf = malloc(VDF_CTL_HDR_SIZE + VDF_CTL_MAX_PAYLOAD);
	if (!srv->clients || !srv->buf)
		goto out_free;

	rc = prepare_path(path);
	if (rc)
		goto out_free;
	srv->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (srv->fd < 0) {
		rc = -errno;
		goto out_free;
	}
	if (bind(srv->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		rc = -errno;
		vdf_log(LOG_ERR, COMP, NULL, "bind %s: %s", path, strerror(-rc));
		goto out_close;
	}
	/* Permissions are fixed before listen(): until then nobody can connect. */
	if (chmod(path, 0660)) {
		rc = -errno;
		goto out_unlink;
	}
	if (srv->have_group && chown(path, (uid_t)-1, srv->group))
		vdf_log(LOG_WARNING, COMP, NULL, "chgrp %s to group %u: %s", path,
			(unsigned)srv->group, strerror(errno));
	if (stat(path, &st) == 0) {
		srv->sock_dev = st.st_dev;
		srv->sock_ino = st.st_ino;
	}
	if (listen(srv->fd, BACKLOG)) {
		rc = -errno;
		goto out_unlink;
	}
	rc = vdf_event_add_fd(loop, srv->fd, EPOLLIN, on_accept, srv);
	if (rc)
		goto out_unlink;
	vdf_log(LOG_INFO, COMP, NULL, "listening on %s", path);
	*out = srv;
	return 0;

out_unlink:
	unlink(path);
out_close:
	close(srv->fd);
out_free:
	free(srv->buf);
	free(srv->clients);
	free(srv);
	return rc;
}

void vdf_ctl_server_stop(struct vdf_ctl_server *srv)
{
	struct stat st;

	if (!srv)
		return;
	for (unsigned i = 0; i < srv->max_clients; i++)
		if (srv->clients[i])
			client_drop(srv->clients[i]);
	(void)vdf_event_del_fd(srv->loop, srv->fd);
	close(srv->fd);
	/* Only remove the file if it is still the socket we created. */
	if (lstat(srv->path, &st) == 0 && st.st_dev == srv->sock_dev && st.st_ino == srv->sock_ino)
		unlink(srv->path);
	free(srv->buf);
	free(srv->clients);
	free(srv);
}

unsigned vdf_ctl_server_client_count(const struct vdf_ctl_server *srv)
{
	return srv->nclients;
}

const char *vdf_ctl_server_path(const struct vdf_ctl_server *srv)
{
	return srv->path;
}
