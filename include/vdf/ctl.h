/* SPDX-License-Identifier: MIT */
/*
 * The vdfd control protocol (docs/CONTROL.md has the full description).
 *
 * Transport: a Unix SOCK_SEQPACKET socket. The kernel keeps message
 * boundaries, so one message is one frame, delivered whole or not at all:
 * there is no partial-frame state to keep per client, and a client cannot
 * stall the daemon with half a frame.
 *
 * Frame: a 12-byte header, then a UTF-8 JSON payload (no NUL bytes).
 *   0  magic    "VDFC"
 *   4  version  u16 little-endian, 1
 *   6  flags    u16 little-endian; bit 0 = response; other bits must be 0
 *   8  length   u32 little-endian, payload bytes; must equal frame size - 12
 * Requests carry at most VDF_CTL_MAX_PAYLOAD payload bytes, responses at most
 * VDF_CTL_MAX_RESPONSE.
 *
 * Request payload: {"cmd": "<command>", "dev": "<device>", "level": "<level>"}
 *   "dev" is required by info, start, stop, restart, bind, unbind, explain,
 *   check and open; optional for stats; not accepted by list and log-level.
 *   "level" is only for log-level, optional (absent = query). "lba" and
 *   "count" only for check; "mode" ("ro" or "rw", default "rw") and "unit"
 *   (0..VDF_CLIENT_UNIT_MAX, default 0) only for open. Unknown fields are
 *   rejected: the version number, not silent ignoring, is how the protocol
 *   grows.
 * Response payload: {"ok": true, "data": {...}} or {"ok": false, "error": "..."}
 *   An answer to "open" that succeeds carries one file descriptor (SCM_RIGHTS
 *   on the response frame): the client's end of its session with the driver.
 *   No other answer carries any.
 *
 * Everything here is pure (no I/O) except vdf_ctl_call, vdf_ctl_call_fd and
 * vdf_ctl_open, the client side (the server is manager/ctl_server.h).
 */
#ifndef VDF_CTL_H
#define VDF_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "vdf/common.h"
#include "vdf/grant.h" /* VDF_CLIENT_UNIT_MAX */

#define VDF_CTL_MAGIC	     "VDFC"
#define VDF_CTL_VERSION	     1
#define VDF_CTL_HDR_SIZE     12u
#define VDF_CTL_F_RESPONSE   BIT(0)
#define VDF_CTL_MAX_PAYLOAD  (64u * 1024u)
#define VDF_CTL_MAX_RESPONSE (256u * 1024u)
/* "dev": 1..127 bytes of [A-Za-z0-9._:/@+-], no ".." component */
#define VDF_CTL_DEV_MAX 128
/* Nesting accepted in a request payload (requests are flat objects). */
#define VDF_CTL_MAX_DEPTH 8

#define VDF_CTL_DEFAULT_SOCKET "/run/vdf/vdfd.sock"
#define VDF_CTL_SOCKET_ENV     "VDF_SOCKET"
/* How long vdf_ctl_call waits for the answer. */
#define VDF_CTL_CALL_TIMEOUT_MS 60000
/* How long vdfd keeps an "open" waiting for a starting or restarting driver
 * before it answers -ETIMEDOUT. Well inside the call timeout, so the client
 * always gets vdfd's answer rather than a timeout of its own. */
#define VDF_CTL_OPEN_WAIT_MS 30000
static_assert(VDF_CTL_OPEN_WAIT_MS + 10000 <= VDF_CTL_CALL_TIMEOUT_MS,
	      "an open that waits its longest is answered before vdf_ctl_call gives up");

enum vdf_ctl_cmd {
	VDF_CTL_LIST,
	VDF_CTL_INFO,
	VDF_CTL_START,
	VDF_CTL_STOP,
	VDF_CTL_RESTART,
	VDF_CTL_BIND,
	VDF_CTL_UNBIND,
	VDF_CTL_STATS,
	VDF_CTL_LOG_LEVEL,
	VDF_CTL_EXPLAIN,
	VDF_CTL_CHECK, /* read blocks through the driver, answer a checksum */
	VDF_CTL_OPEN,  /* a session with a block, net or display driver: answered with an fd */
	VDF_CTL_CMD_COUNT
};

struct vdf_ctl_request {
	enum vdf_ctl_cmd cmd;
	char dev[VDF_CTL_DEV_MAX]; /* "" when absent */
	int level;		   /* log-level: syslog level, -1 = query */
	uint64_t lba;		   /* check: first block (default 0) */
	uint32_t count;		   /* check: blocks, 1..VDF_CTL_CHECK_MAX_BLOCKS (default 8) */
	bool read_only;		   /* open: "mode": "ro" (default false: "rw") */
	uint32_t unit;		   /* open: 0..VDF_CLIENT_UNIT_MAX (default 0) */
};

#define VDF_CTL_CHECK_MAX_BLOCKS     65536u
#define VDF_CTL_CHECK_DEFAULT_BLOCKS 8u

/* The frame header, in host order. */
struct vdf_ctl_hdr {
	char magic[4];
	uint16_t version;
	uint16_t flags;
	uint32_t length;
};

/* "list", "info", ..., "log-level", "explain"; NULL for out of range. */
const char *vdf_ctl_cmd_name(enum vdf_ctl_cmd cmd);
/* The command for a name, or -EINVAL. */
int vdf_ctl_cmd_parse(const char *name);
/* Does the command need / accept a "dev"? */
bool vdf_ctl_cmd_needs_dev(enum vdf_ctl_cmd cmd);
bool vdf_ctl_cmd_takes_dev(enum vdf_ctl_cmd cmd);

/* Syslog level for "emerg", "alert", "crit", "err"/"error", "warning"/"warn",
 * "notice", "info", "debug" (or "0".."7"); -EINVAL otherwise. */
int vdf_ctl_log_level_parse(const char *name);
/* Canonical name of a syslog level ("err", "warning", ...); "?" out of range. */
const char *vdf_ctl_log_level_name(int level);

/* Is s an acceptable "dev" value (see VDF_CTL_DEV_MAX)? */
bool vdf_ctl_dev_valid(const char *s);

/* Header to/from its 12 wire bytes. unpack never fails: validation is the caller's. */
void vdf_ctl_hdr_pack(const struct vdf_ctl_hdr *h, uint8_t out[VDF_CTL_HDR_SIZE]);
void vdf_ctl_hdr_unpack(const uint8_t in[VDF_CTL_HDR_SIZE], struct vdf_ctl_hdr *h);

/*
 * Decode and validate one request frame of len bytes. Pure: no I/O, no global
 * state, safe on any input (this is the fuzzing entry point).
 * Returns 0 with *req filled, or a negative errno with a one-line reason in
 * err (always NUL-terminated when errlen > 0):
 *   -EPROTO           framing: short frame, bad magic, flags, length mismatch
 *   -EPROTONOSUPPORT  version other than VDF_CTL_VERSION
 *   -EMSGSIZE         payload longer than VDF_CTL_MAX_PAYLOAD
 *   -EBADMSG          payload is not well-formed JSON / not an object / NUL bytes
 *   -EINVAL           well-formed but wrong: types, unknown command or field,
 *                     missing or malformed arguments
 *   -ENOMEM
 * The server answers all of them; after a framing error (the first three) it
 * also drops the connection.
 */
int vdf_ctl_decode_request(const void *buf, size_t len, struct vdf_ctl_request *req, char *err,
			   size_t errlen) VDF_MUST_CHECK;

/*
 * Encode a request frame into buf (cap bytes); *len gets its size. The request
 * is validated like the decoder would (-EINVAL); -ENOBUFS when cap is short.
 */
int vdf_ctl_encode_request(const struct vdf_ctl_request *req, void *buf, size_t cap,
			   size_t *len) VDF_MUST_CHECK;

/*
 * Encode a response frame into a new malloc'd buffer (*out, *len; free()).
 * error NULL: {"ok": true, "data": data} (data NULL gives {}; the caller keeps
 * its reference). error set: {"ok": false, "error": error} (data ignored).
 * -EMSGSIZE when the payload would exceed VDF_CTL_MAX_RESPONSE, -ENOMEM.
 */
int vdf_ctl_encode_response(json_object *data, const char *error, void **out,
			    size_t *len) VDF_MUST_CHECK;

/*
 * Decode a response frame (client side; the daemon's bytes are checked as
 * carefully as a request). Returns 0 and *resp = the whole payload object
 * (a new reference; "ok" is a boolean, "error" a string when ok is false,
 * "data" an object when ok is true), or a negative errno as for requests.
 */
int vdf_ctl_decode_response(const void *buf, size_t len, json_object **resp, char *err,
			    size_t errlen) VDF_MUST_CHECK;

/* $VDF_SOCKET when set and non-empty, else VDF_CTL_DEFAULT_SOCKET. */
const char *vdf_ctl_socket_path(void);

/*
 * One request/response exchange with vdfd at sock_path (NULL: see
 * vdf_ctl_socket_path). Blocking, up to VDF_CTL_CALL_TIMEOUT_MS.
 * Returns 0 with *response = the response's "data" object (new reference, put
 * it with json_object_put) when vdfd answered ok; otherwise *response is NULL,
 * err says why, and the return is:
 *   -EREMOTEIO     vdfd answered {"ok": false}: err is its "error" text
 *   -ENOENT        no socket at the path ("is vdfd running?")
 *   -ECONNREFUSED  a stale socket: vdfd is not running
 *   -EACCES        not allowed to connect (root or group vdf)
 *   -ETIMEDOUT     no answer in time
 *   -EPROTO, -EPROTONOSUPPORT, -EBADMSG, -EMSGSIZE: a bad answer
 */
int vdf_ctl_call(const char *sock_path, const struct vdf_ctl_request *req, json_object **response,
		 char *err, size_t errlen) VDF_MUST_CHECK;

/*
 * vdf_ctl_call for answers that may carry a file descriptor: *fd is the fd
 * that came with the answer (close-on-exec, now the caller's) or -1. It is
 * only ever set on a 0 return; an answer that carries more than one fd is
 * refused (-EPROTO, all closed), and an fd on a failed answer is closed.
 * vdf_ctl_call itself closes any fd that arrives.
 */
int vdf_ctl_call_fd(const char *sock_path, const struct vdf_ctl_request *req,
		    json_object **response, int *fd, char *err, size_t errlen) VDF_MUST_CHECK;

/*
 * Ask vdfd (at sock_path; NULL: vdf_ctl_socket_path) for a session with the
 * block, net or display driver serving dev: the "open" command. Blocks until
 * vdfd answers; while the driver is starting or restarting after a crash vdfd
 * waits for it (at most VDF_CTL_OPEN_WAIT_MS), and it answers only once the
 * old driver process is gone and its device was reset.
 * Returns 0 with *fd = the client's end of the session (a SOCK_SEQPACKET
 * socket, close-on-exec, the caller's) and *generation = the driver's
 * generation it belongs to. Otherwise *fd = -1, err says why, and:
 *   -EREMOTEIO   vdfd refused (no such device, no driver bound, a class that
 *                takes no clients, driver stopped or failed, timed out): err
 *                is its text
 *   -EINVAL      dev is not a valid device name, unit > VDF_CLIENT_UNIT_MAX
 *   -EPROTO      vdfd said yes without a session fd or a generation
 *   and the errors of vdf_ctl_call (-ENOENT, -ECONNREFUSED, -EACCES, ...).
 * Calling context: any thread; no state is kept between calls.
 */
int vdf_ctl_open(const char *sock_path, const char *dev, bool read_only, uint32_t unit, int *fd,
		 uint32_t *generation, char *err, size_t errlen) VDF_MUST_CHECK;

#endif
