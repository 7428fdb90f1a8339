/* SPDX-License-Identifier: MIT */
/*
 * Display session: how a display client (lib/client/display_client.c,
 * tools/display) and a display driver talk over the SEQPACKET socket vdfd
 * brokered for them (control command "open", grant message VDF_MSG_CLIENT).
 * Display traffic is a few requests a frame, so requests and replies travel
 * on the socket itself; the pixels travel in shared memory.
 *
 *   client -> driver  HELLO, with one fd: the client's framebuffer memfd
 *   driver -> client  WELCOME: status (0, or a negative errno refusing the
 *                     session: -EBUSY when another client owns the display),
 *                     driver generation, display name and size, the current
 *                     mode and the supported modes
 *   client -> driver  REQUEST {tag, op, mode}
 *   driver -> client  REPLY {tag, op, status, seq, mode, stride}, one per
 *                     REQUEST, in order
 *
 * Ops:
 *   SET_MODE     set `mode` (refresh_hz 0: the driver's default). The reply's
 *                mode is what is now shown; on an error it is the unchanged
 *                current mode.
 *   PRESENT      copy the client's picture (the memfd from offset 0, rows of
 *                `stride` = width * bytes per pixel of the current mode) to
 *                the screen; seq = presents so far in this session.
 *   WAIT_VBLANK  answered at the next vblank of the current mode; seq = its
 *                number since the mode was set.
 * A REQUEST's mode is zero except for SET_MODE.
 *
 * One owner: a display has at most one session; a second HELLO is refused
 * with -EBUSY (the first client keeps drawing). The memfd is sealed against
 * shrinking and growing (checked with vdf_blks_check_memfd) and at most
 * VDF_DISPS_BUFFER_MAX bytes; a mode whose picture does not fit in it is
 * refused with -ENOSPC. When the driver restarts the client reconnects
 * through vdfd, sends the same memfd and its mode again, and presents: the
 * picture comes back.
 *
 * Wire format: little-endian; header magic "VDFV" (u32), version (u16), type
 * (u16), total length (u32), reserved (u32, zero) (vdf/fdmsg.h); then a
 * fixed body per type (lib/ipc/dispsession.c). Reserved fields and padding
 * are zero; strings are NUL-padded.
 */
#ifndef VDF_DISPSESSION_H
#define VDF_DISPSESSION_H

#include <stdint.h>

#include "vdf/common.h"
#include "vdf/display.h"

#define VDF_DISPS_MAGIC	     0x56464456u /* "VDFV" as little-endian bytes */
#define VDF_DISPS_VERSION    1u
#define VDF_DISPS_MSG_MAX    1024u
#define VDF_DISPS_MODES_MAX  32u
#define VDF_DISPS_NAME_MAX   16u /* bytes including the NUL */
#define VDF_DISPS_PAGE	     4096u
#define VDF_DISPS_BUFFER_MAX (64ull << 20)

enum vdf_disps_msg_type {
	VDF_DISPS_HELLO = 1,
	VDF_DISPS_WELCOME = 2,
	VDF_DISPS_REQUEST = 3,
	VDF_DISPS_REPLY = 4,
};

enum vdf_disps_op {
	VDF_DISPS_SET_MODE = 1,
	VDF_DISPS_PRESENT = 2,
	VDF_DISPS_WAIT_VBLANK = 3,
};

struct vdf_disps_hello {
	uint32_t flags;	      /* none defined: zero */
	uint64_t buffer_size; /* bytes of the memfd: a multiple of VDF_DISPS_PAGE, 1..MAX */
};

struct vdf_disps_welcome {
	int32_t status; /* 0, or a negative errno: the session is refused */
	uint32_t generation;
	char name[VDF_DISPS_NAME_MAX]; /* printable ASCII, NUL-terminated */
	uint32_t width_mm, height_mm;  /* 0 when unknown */
	struct vdf_display_mode mode;  /* current; width 0 = none */
	uint32_t nmodes;	       /* <= VDF_DISPS_MODES_MAX */
	struct vdf_display_mode modes[VDF_DISPS_MODES_MAX];
};

struct vdf_disps_request {
	uint32_t tag; /* echoed in the reply */
	enum vdf_disps_op op;
	struct vdf_display_mode mode; /* SET_MODE only; zero otherwise */
};

struct vdf_disps_reply {
	uint32_t tag;
	enum vdf_disps_op op;
	int32_t status; /* 0 or a negative errno */
	uint64_t seq;
	struct vdf_display_mode mode; /* current after the request */
	uint32_t stride;	      /* bytes per row of the client's picture; 0 without a mode */
};

/*
 * Validation (also done by the decoders): a mode is either all zero (none) or
 * width and height 1..65535, a known pixel format and refresh_hz 0..1000.
 * HELLO: flags zero, buffer_size as above. WELCOME: a refusal needs only a
 * valid status (-4095..-1) and the rest zero; otherwise name printable and
 * NUL-terminated, nmodes <= MAX, every listed mode valid and nonzero, unused
 * entries zero. REQUEST: a known op; the mode valid and nonzero for SET_MODE,
 * all zero otherwise. REPLY: a known op, status 0 or -4095..-1, the mode
 * valid, stride 0 with no mode, else at least width * bytes per pixel.
 * Each returns 0 or -EINVAL.
 */
int vdf_disps_mode_validate(const struct vdf_display_mode *m) VDF_MUST_CHECK;
int vdf_disps_hello_validate(const struct vdf_disps_hello *h) VDF_MUST_CHECK;
int vdf_disps_welcome_validate(const struct vdf_disps_welcome *w) VDF_MUST_CHECK;
int vdf_disps_request_validate(const struct vdf_disps_request *r) VDF_MUST_CHECK;
int vdf_disps_reply_validate(const struct vdf_disps_reply *r) VDF_MUST_CHECK;

/* The bytes a picture in mode m takes in the client's buffer (0 for no mode). */
uint64_t vdf_disps_frame_bytes(const struct vdf_display_mode *m);

/*
 * Pure codecs (no I/O; the decoders are fuzzing entry points). encode returns
 * the message length or -EINVAL (the value does not validate) / -ENOSPC.
 * decode returns 0, -EBADMSG (magic, type, reserved, padding, a field that
 * does not validate), -EPROTONOSUPPORT (version), -EMSGSIZE (length).
 */
int vdf_disps_encode_hello(const struct vdf_disps_hello *h, void *buf, size_t len) VDF_MUST_CHECK;
int vdf_disps_decode_hello(const void *buf, size_t len, struct vdf_disps_hello *h) VDF_MUST_CHECK;
int vdf_disps_encode_welcome(const struct vdf_disps_welcome *w, void *buf,
			     size_t len) VDF_MUST_CHECK;
int vdf_disps_decode_welcome(const void *buf, size_t len,
			     struct vdf_disps_welcome *w) VDF_MUST_CHECK;
int vdf_disps_encode_request(const struct vdf_disps_request *r, void *buf,
			     size_t len) VDF_MUST_CHECK;
int vdf_disps_decode_request(const void *buf, size_t len,
			     struct vdf_disps_request *r) VDF_MUST_CHECK;
int vdf_disps_encode_reply(const struct vdf_disps_reply *r, void *buf, size_t len) VDF_MUST_CHECK;
int vdf_disps_decode_reply(const void *buf, size_t len, struct vdf_disps_reply *r) VDF_MUST_CHECK;

/*
 * Socket I/O (vdf/fdmsg.h underneath, as vdf_nets_send_hello and friends):
 * send_* return 0 or a negative errno (-EPIPE: the peer is gone). recv_hello
 * takes exactly one fd (the memfd, returned in *memfd). recv_hello and
 * recv_request take flags 0 or MSG_DONTWAIT; recv_welcome and recv_reply with a
 * timeout_ms >= 0 wait at most that long (-ETIMEDOUT). A message of another
 * type, a bad one or one with fds where none belong gives -EBADMSG (fds that
 * arrived are closed); end of stream -EPIPE.
 */
int vdf_disps_send_hello(int sock, const struct vdf_disps_hello *h, int memfd) VDF_MUST_CHECK;
int vdf_disps_recv_hello(int sock, struct vdf_disps_hello *h, int *memfd, int flags) VDF_MUST_CHECK;
int vdf_disps_send_welcome(int sock, const struct vdf_disps_welcome *w) VDF_MUST_CHECK;
int vdf_disps_recv_welcome(int sock, struct vdf_disps_welcome *w, int timeout_ms) VDF_MUST_CHECK;
int vdf_disps_send_request(int sock, const struct vdf_disps_request *r) VDF_MUST_CHECK;
int vdf_disps_recv_request(int sock, struct vdf_disps_request *r, int flags) VDF_MUST_CHECK;
int vdf_disps_send_reply(int sock, const struct vdf_disps_reply *r) VDF_MUST_CHECK;
int vdf_disps_recv_reply(int sock, struct vdf_disps_reply *r, int timeout_ms) VDF_MUST_CHECK;

#endif
