/* SPDX-License-Identifier: MIT */
/*
 * The vdfd control socket server: listens on a Unix SOCK_SEQPACKET socket,
 * checks each client's credentials, decodes requests (vdf/ctl.h) and
 * dispatches them to handlers the daemon supplies.
 *
 * Access: the socket file is mode 0660, group "vdf" when that group exists.
 * A connecting peer (SO_PEERCRED) is accepted when it is root, has the
 * daemon's own uid, or has group vdf as its primary or a supplementary group
 * (SO_PEERGROUPS). Anyone else gets one {"ok": false, "error": "permission
 * denied: ..."} answer and is disconnected without its request being read.
 *
 * Robustness: a malformed request gets an error answer; a framing error
 * (bad magic, version, length) also ends that connection; a client that
 * disconnects, or does not read its answers (the send would block), is
 * dropped. At most max_clients connections are kept; when full, the longest
 * idle one (idle >= VDF_CTL_IDLE_EVICT_MS) makes room, or the newcomer gets a
 * "too many clients" answer.
 *
 * Calling context: everything, handlers included, runs on the thread of the
 * event loop the server was started on. A handler must not block for long
 * (start an action and report "started" rather than waiting for it) and must
 * not stop the server.
 */
#ifndef VDF_MANAGER_CTL_SERVER_H
#define VDF_MANAGER_CTL_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "vdf/ctl.h"
#include "vdf/common.h"
#include "vdf/event.h"

#define VDF_CTL_MAX_CLIENTS   16u
#define VDF_CTL_IDLE_EVICT_MS 10000u
#define VDF_CTL_GROUP	      "vdf"
#define VDF_CTL_ERR_MAX	      256

struct vdf_ctl_server;

/* Who sent a request (from SO_PEERCRED at connect time). */
struct vdf_ctl_peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
};

/*
 * One command's handler. req has been validated (cmd and the arguments it
 * needs are there and well-formed; dev is NOT yet resolved to a device).
 * data is an empty JSON object owned by the server: add the answer's fields
 * to it (the shapes vdfctl renders are in docs/CONTROL.md).
 * Return 0 for {"ok": true, "data": data}, or a negative errno for
 * {"ok": false, "error": err} -- err (errlen = VDF_CTL_ERR_MAX bytes) is
 * filled by the handler, or strerror(-rc) is used when it is left empty.
 */
/*
 * A handler that cannot answer at once (it waits for a driver) takes a token
 * with vdf_ctl_defer during its call, returns VDF_CTL_DEFERRED, and answers
 * later with vdf_ctl_complete. If the client has gone by then, the answer is
 * dropped. A deferred answer may arrive after answers to later requests of
 * the same client; vdfctl waits for each answer before sending the next.
 */
#define VDF_CTL_DEFERRED 1

struct vdf_ctl_pending;

typedef int (*vdf_ctl_handler_fn)(void *ctx, const struct vdf_ctl_request *req,
				  const struct vdf_ctl_peer *peer, json_object *data, char *err,
				  size_t errlen);

/*
 * The daemon's handlers, one per command. NULL: the command answers
 * "'<cmd>' is not supported by this vdfd" -- except log_level, whose default
 * sets (req->level >= 0) and reports the process-wide vdf_log level:
 * data {"level": "<name>"}.
 */
struct vdf_ctl_handlers {
	vdf_ctl_handler_fn list;      /* data {"tree": <node>} */
	vdf_ctl_handler_fn info;      /* data {"device": <node>, ...} */
	vdf_ctl_handler_fn start;     /* data {"message": "..."} */
	vdf_ctl_handler_fn stop;      /* data {"message": "..."} */
	vdf_ctl_handler_fn restart;   /* data {"message": "..."} */
	vdf_ctl_handler_fn bind;      /* data {"message": "..."} */
	vdf_ctl_handler_fn unbind;    /* data {"message": "..."} */
	vdf_ctl_handler_fn stats;     /* data {"drivers": [{...}, ...]} */
	vdf_ctl_handler_fn log_level; /* data {"level": "<name>"} */
	vdf_ctl_handler_fn explain;   /* data {"dev": "...", "lines": ["...", ...]} */
	vdf_ctl_handler_fn check;     /* data {"checksum": "<16 hex digits>", "lba", "blocks"} */
	vdf_ctl_handler_fn open;      /* deferred; vdf_ctl_complete_fd with the session fd,
				       * data {"generation", "driver", "instance", "client_id",
				       * "mode"} */
};

struct vdf_ctl_server_opts {
	const char *path;			 /* NULL: VDF_CTL_DEFAULT_SOCKET */
	const char *group;			 /* NULL: VDF_CTL_GROUP; "" for none */
	unsigned max_clients;			 /* 0: VDF_CTL_MAX_CLIENTS */
	const struct vdf_ctl_handlers *handlers; /* copied; NULL: none */
	void *ctx;				 /* passed to every handler */
};

/*
 * Create the socket and start serving on loop. The parent directory is
 * created (0755) when missing. An existing socket at the path is replaced
 * when nothing listens on it (a stale one); -EADDRINUSE when something does;
 * -EEXIST when the path is not a socket. Other returns: -ENAMETOOLONG,
 * -ENOMEM, errnos of socket/bind/listen.
 */
int vdf_ctl_server_start(struct vdf_event_loop *loop, const struct vdf_ctl_server_opts *opts,
			 struct vdf_ctl_server **out) VDF_MUST_CHECK;

/* Disconnect every client, stop listening and remove the socket file (when it
 * is still ours). Accepts NULL. */
void vdf_ctl_server_stop(struct vdf_ctl_server *srv);

/* Only from inside a handler: a token for answering the current request later
 * (NULL when out of memory: answer at once then). */
struct vdf_ctl_pending *vdf_ctl_defer(struct vdf_ctl_server *srv);
/* Answer a deferred request: rc 0 sends {"ok": true, "data": data} (data stays
 * the caller's; NULL gives {}), a negative errno sends err (or strerror). Frees
 * the token. */
void vdf_ctl_complete(struct vdf_ctl_pending *p, int rc, json_object *data, const char *err);
/*
 * The same, and a successful answer carries fd (SCM_RIGHTS on the response
 * frame; -1: none). Takes fd: it is closed once sent, and also when it is not
 * sent (an error answer, the client gone, the send failed), so the peer of a
 * socket handed out this way sees its end close when nobody received it.
 */
void vdf_ctl_complete_fd(struct vdf_ctl_pending *p, int rc, json_object *data, const char *err,
			 int fd);
/* Is the client that a deferred request came from still connected? (Answers
 * to a client that left are dropped; work for it may be skipped.) */
bool vdf_ctl_pending_connected(const struct vdf_ctl_pending *p);

/* Connected (authorized) clients right now. */
unsigned vdf_ctl_server_client_count(const struct vdf_ctl_server *srv);
const char *vdf_ctl_server_path(const struct vdf_ctl_server *srv);

#endif
