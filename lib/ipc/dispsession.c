// SPDX-License-Identifier: MIT
/*
 * Display session between a display client and a display driver; see
 * vdf/dispsession.h. Everything received is untrusted: the decoders check
 * magic, version, type, exact length, reserved fields, padding and every
 * value before a field is used. No C enum or signed integer travels on the
 * wire: op is a u16 followed by a reserved u16, status a u32 holding the
 * int32_t in two's complement, the pixel format a u32.
 */
#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include "vdf/dispsession.h"
#include "vdf/fdmsg.h"

struct wire_mode {
	uint32_t width;
	uint32_t height;
	uint32_t format; /* enum vdf_pixel_format */
	uint32_t refresh_hz;
};

struct wire_hello {
	uint32_t flags;
	uint32_t reserved;
	uint64_t buffer_size;
};

struct wire_welcome {
	uint32_t status; /* int32_t two's complement */
	uint32_t generation;
	uint8_t name[VDF_DISPS_NAME_MAX]; /* NUL-padded */
	uint32_t width_mm;
	uint32_t height_mm;
	struct wire_mode mode;
	uint32_t nmodes;
	uint32_t reserved;
	struct wire_mode modes[VDF_DISPS_MODES_MAX]; /* every slot; unused ones zero */
};

struct wire_request {
	uint32_t tag;
	uint16_t op; /* enum vdf_disps_op */
	uint16_t reserved;
	struct wire_mode mode;
};

struct wire_reply {
	uint32_t tag;
	uint16_t op; /* enum vdf_disps_op */
	uint16_t reserved;
	uint32_t status; /* int32_t two's complement */
	uint32_t stride;
	uint64_t seq;
	struct wire_mode mode;
};

static_assert(sizeof(struct wire_mode) == 16, "mode is 16 bytes");
static_assert(sizeof(struct wire_hello) == 16, "hello body is 16 bytes");
static_assert(offsetof(struct wire_hello, buffer_size) == 8, "buffer size at byte 8");
static_assert(sizeof(struct wire_welcome) == 568, "welcome body is 568 bytes");
static_assert(offsetof(struct wire_welcome, name) == 8, "name at byte 8");
static_assert(offsetof(struct wire_welcome, width_mm) == 24, "width_mm at byte 24");
static_assert(offsetof(struct wire_welcome, mode) == 32, "current mode at byte 32");
static_assert(offsetof(struct wire_welcome, nmodes) == 48, "nmodes at byte 48");
static_assert(offsetof(struct wire_welcome, reserved) == 52, "welcome reserved at byte 52");
static_assert(offsetof(struct wire_welcome, modes) == 56, "modes at byte 56");
static_assert(sizeof(struct wire_request) == 24, "request body is 24 bytes");
static_assert(offsetof(struct wire_request, op) == 4, "request op at byte 4");
static_assert(offsetof(struct wire_request, reserved) == 6, "request reserved at byte 6");
static_assert(offsetof(struct wire_request, mode) == 8, "request mode at byte 8");
static_assert(sizeof(struct wire_reply) == 40, "reply body is 40 bytes");
static_assert(offsetof(struct wire_reply, op) == 4, "reply op at byte 4");
static_assert(offsetof(struct wire_reply, reserved) == 6, "reply reserved at byte 6");
static_assert(offsetof(struct wire_reply, status) == 8, "reply status at byte 8");
static_assert(offsetof(struct wire_reply, stride) == 12, "reply stride at byte 12");
static_assert(offsetof(struct wire_reply, seq) == 16, "reply seq at byte 16");
static_assert(offsetof(struct wire_reply, mode) == 24, "reply mode at byte 24");
static_assert(VDF_FDMSG_HDR_SIZE + sizeof(struct wire_hello) <= VDF_DISPS_MSG_MAX,
	      "a hello fits VDF_DISPS_MSG_MAX");
static_assert(VDF_FDMSG_HDR_SIZE + sizeof(struct wire_welcome) <= VDF_DISPS_MSG_MAX,
	      "a welcome fits VDF_DISPS_MSG_MAX");
static_assert(VDF_FDMSG_HDR_SIZE + sizeof(struct wire_request) <= VDF_DISPS_MSG_MAX,
	      "a request fits VDF_DISPS_MSG_MAX");
static_assert(VDF_FDMSG_HDR_SIZE + sizeof(struct wire_reply) <= VDF_DISPS_MSG_MAX,
	      "a reply fits VDF_DISPS_MSG_MAX");

/* ---- validation --------------------------------------------------------- */

#define DIM_MAX	    65535u
#define REFRESH_MAX 1000u

static bool mode_zero(const struct vdf_display_mode *m)
{
	return !m->width && !m->height && m->format == VDF_PIXEL_NONE && !m->refresh_hz;
}

static bool status_ok(int32_t status)
{
	return status <= 0 && status >= -4095;
}

static bool op_known(enum vdf_disps_op op)
{
	return op == VDF_DISPS_SET_MODE || op == VDF_DISPS_PRESENT || op == VDF_DISPS_WAIT_VBLANK;
}

int vdf_disps_mode_validate(const struct vdf_display_mode *m)
{
	if (mode_zero(m))
		return 0;
	if (!m->width || m->width > DIM_MAX || !m->height || m->height > DIM_MAX)
		return -EINVAL;
	if (!vdf_pixel_bytes(m->format) || m->refresh_hz > REFRESH_MAX)
		return -EINVAL;
	return 0;
}

uint64_t vdf_disps_frame_bytes(const struct vdf_display_mode *m)
{
	/* A mode that does not validate has no picture (and could overflow). */
	if (vdf_disps_mode_validate(m))
		return 0;
	return (uint64_t)m->width * m->height * vdf_pixel_bytes(m->format);
}

int vdf_disps_hello_validate(const struct vdf_disps_hello *h)
{
	if (h->flags)
		return -EINVAL;
	if (!h->buffer_size || h->buffer_size > VDF_DISPS_BUFFER_MAX ||
	    h->buffer_size % VDF_DISPS_PAGE)
		return -EINVAL;
	return 0;
}

/* Printable ASCII up to a NUL inside the array. What follows the NUL is not
 * looked at: the encoder pads with NULs, the decoder checks the padding. */
static bool name_ok(const char name[VDF_DISPS_NAME_MAX])
{
	for (unsigned i = 0; i < VDF_DISPS_NAME_MAX; i++) {
		if (!name[i])
			return true;
		if (name[i] < 0x20 || name[i] > 0x7e)
			return false;
	}
	return false; /* no NUL */
}

static int welcome_refusal_validate(const struct vdf_disps_welcome *w)
{
	if (w->generation || w->width_mm || w->height_mm || w->nmodes || !mode_zero(&w->mode))
		return -EINVAL;
	for (unsigned i = 0; i < VDF_DISPS_NAME_MAX; i++)
		if (w->name[i])
			return -EINVAL;
	for (unsigned i = 0; i < VDF_DISPS_MODES_MAX; i++)
		if (!mode_zero(&w->modes[i]))
			return -EINVAL;
	return 0;
}

int vdf_disps_welcome_validate(const struct vdf_disps_welcome *w)
{
	if (!status_ok(w->status))
		return -EINVAL;
	if (w->status)
		return welcome_refusal_validate(w);
	if (!name_ok(w->name) || w->nmodes > VDF_DISPS_MODES_MAX ||
	    vdf_disps_mode_validate(&w->mode))
		return -EINVAL;
	for (unsigned i = 0; i < VDF_DISPS_MODES_MAX; i++) {
		if (i >= w->nmodes) {
			if (!mode_zero(&w->modes[i]))
				return -EINVAL;
		} else if (mode_zero(&w->modes[i]) || vdf_disps_mode_validate(&w->modes[i])) {
			return -EINVAL;
		}
	}
	return 0;
}

int vdf_disps_request_validate(const struct vdf_disps_request *r)
{
	if (!op_known(r->op))
		return -EINVAL;
	if (r->op == VDF_DISPS_SET_MODE)
		return mode_zero(&r->mode) || vdf_disps_mode_validate(&r->mode) ? -EINVAL : 0;
	return mode_zero(&r->mode) ? 0 : -EINVAL;
}

int vdf_disps_reply_validate(const struct vdf_disps_reply *r)
{
	if (!op_known(r->op) || !status_ok(r->status) || vdf_disps_mode_validate(&r->mode))
		return -EINVAL;
	if (mode_zero(&r->mode))
		return r->stride ? -EINVAL : 0;
	/* width <= 65535 and at most 4 bytes a pixel: no overflow */
	if (r->stride < r->mode.width * vdf_pixel_bytes(r->mode.format))
		return -EINVAL;
	return 0;
}

/* ---- codecs ------------------------------------------------------------- */

static size_t body_size(uint16_t type)
{
	switch (type) {
	case VDF_DISPS_HELLO:
		return sizeof(struct wire_hello);
	case VDF_DISPS_WELCOME:
		return sizeof(struct wire_welcome);
	case VDF_DISPS_REQUEST:
		return sizeof(struct wire_request);
	case VDF_DISPS_REPLY:
		return sizeof(struct wire_reply);
	default:
		return 0;
	}
}

/* Encode a body of type `type` that is already in wire order. */
static int encode_msg(uint16_t type, const void *body, void *buf, size_t len)
{
	int total = vdf_fdmsg_hdr_encode(VDF_DISPS_MAGIC, VDF_DISPS_VERSION, type, body_size(type),
					 buf, len);

	if (total > 0)
		memcpy((uint8_t *)buf + VDF_FDMSG_HDR_SIZE, body, body_size(type));
	return total;
}

/* Check the header and copy the body (still in wire order) out. */
static int decode_msg(const void *buf, size_t len, uint16_t want, void *body)
{
	int rc = vdf_fdmsg_hdr_decode(buf, len, VDF_DISPS_MAGIC, VDF_DISPS_VERSION, want,
				      body_size(want));

	if (rc)
		return rc;
	memcpy(body, (const uint8_t *)buf + VDF_FDMSG_HDR_SIZE, body_size(want));
	return 0;
}

static struct wire_mode mode_to_wire(const struct vdf_display_mode *m)
{
	struct wire_mode w = {
	    .width = htole32(m->width),
	    .height = htole32(m->height),
	    .format = htole32((uint32_t)m->format),
	    .refresh_hz = htole32(m->refresh_hz),
	};
	return w;
}

static struct vdf_display_mode mode_from_wire(const struct wire_mode *w)
{
	struct vdf_display_mode m = {
	    .width = le32toh(w->width),
	    .height = le32toh(w->height),
	    .format = (enum vdf_pixel_format)le32toh(w->format), /* validated by the caller */
	    .refresh_hz = le32toh(w->refresh_hz),
	};
	return m;
}

int vdf_disps_encode_hello(const struct vdf_disps_hello *h, void *buf, size_t len)
{
	struct wire_hello w = {
	    .flags = htole32(h->flags),
	    .buffer_size = htole64(h->buffer_size),
	};

	if (vdf_disps_hello_validate(h))
		return -EINVAL;
	return encode_msg(VDF_DISPS_HELLO, &w, buf, len);
}

int vdf_disps_decode_hello(const void *buf, size_t len, struct vdf_disps_hello *h)
{
	struct vdf_disps_hello out = {0};
	struct wire_hello w;
	int rc = decode_msg(buf, len, VDF_DISPS_HELLO, &w);

	if (rc)
		return rc;
	if (w.reserved)
		return -EBADMSG;
	out.flags = le32toh(w.flags);
	out.buffer_size = le64toh(w.buffer_size);
	if (vdf_disps_hello_validate(&out))
		return -EBADMSG;
	*h = out;
	return 0;
}

int vdf_disps_encode_welcome(const struct vdf_disps_welcome *w, void *buf, size_t len)
{
	struct wire_welcome ww = {
	    .status = htole32((uint32_t)w->status),
	    .generation = htole32(w->generation),
	    .width_mm = htole32(w->width_mm),
	    .height_mm = htole32(w->height_mm),
	    .mode = mode_to_wire(&w->mode),
	    .nmodes = htole32(w->nmodes),
	};

	if (vdf_disps_welcome_validate(w))
		return -EINVAL;
	/* Up to the NUL; the rest stays NUL (validated: there is a NUL). */
	memcpy(ww.name, w->name, strnlen(w->name, VDF_DISPS_NAME_MAX));
	for (unsigned i = 0; i < VDF_DISPS_MODES_MAX; i++)
		ww.modes[i] = mode_to_wire(&w->modes[i]);
	return encode_msg(VDF_DISPS_WELCOME, &ww, buf, len);
}

int vdf_disps_decode_welcome(const void *buf, size_t len, struct vdf_disps_welcome *w)
{
	struct vdf_disps_welcome out = {0};
	struct wire_welcome ww;
	const uint8_t *nul;
	int rc = decode_msg(buf, len, VDF_DISPS_WELCOME, &ww);

	if (rc)
		return rc;
	if (ww.reserved)
		return -EBADMSG;
	/* NUL padding after the name (a name without a NUL fails validation). */
	nul = memchr(ww.name, 0, sizeof(ww.name));
	if (nul) {
		for (const uint8_t *p = nul; p < ww.name + sizeof(ww.name); p++)
			if (*p)
				return -EBADMSG;
	}
	out.status = (int32_t)le32toh(ww.status);
	out.generation = le32toh(ww.generation);
	memcpy(out.name, ww.name, sizeof(out.name));
	out.width_mm = le32toh(ww.width_mm);
	out.height_mm = le32toh(ww.height_mm);
	out.mode = mode_from_wire(&ww.mode);
	out.nmodes = le32toh(ww.nmodes);
	for (unsigned i = 0; i < VDF_DISPS_MODES_MAX; i++)
		out.modes[i] = mode_from_wire(&ww.modes[i]);
	if (vdf_disps_welcome_validate(&out))
		return -EBADMSG;
	*w = out;
	return 0;
}

int vdf_disps_encode_request(const struct vdf_disps_request *r, void *buf, size_t len)
{
	struct wire_request w = {
	    .tag = htole32(r->tag),
	    .op = htole16((uint16_t)r->op),
	    .mode = mode_to_wire(&r->mode),
	};

	if (vdf_disps_request_validate(r))
		return -EINVAL;
	return encode_msg(VDF_DISPS_REQUEST, &w, buf, len);
}

int vdf_disps_decode_request(const void *buf, size_t len, struct vdf_disps_request *r)
{
	struct vdf_disps_request out = {0};
	struct wire_request w;
	int rc = decode_msg(buf, len, VDF_DISPS_REQUEST, &w);

	if (rc)
		return rc;
	if (w.reserved)
		return -EBADMSG;
	out.tag = le32toh(w.tag);
	out.op = (enum vdf_disps_op)le16toh(w.op);
	out.mode = mode_from_wire(&w.mode);
	if (vdf_disps_request_validate(&out))
		return -EBADMSG;
	*r = out;
	return 0;
}

int vdf_disps_encode_reply(const struct vdf_disps_reply *r, void *buf, size_t len)
{
	struct wire_reply w = {
	    .tag = htole32(r->tag),
	    .op = htole16((uint16_t)r->op),
	    .status = htole32((uint32_t)r->status),
	    .stride = htole32(r->stride),
	    .seq = htole64(r->seq),
	    .mode = mode_to_wire(&r->mode),
	};

	if (vdf_disps_reply_validate(r))
		return -EINVAL;
	return encode_msg(VDF_DISPS_REPLY, &w, buf, len);
}

int vdf_disps_decode_reply(const void *buf, size_t len, struct vdf_disps_reply *r)
{
	struct vdf_disps_reply out = {0};
	struct wire_reply w;
	int rc = decode_msg(buf, len, VDF_DISPS_REPLY, &w);

	if (rc)
		return rc;
	if (w.reserved)
		return -EBADMSG;
	out.tag = le32toh(w.tag);
	out.op = (enum vdf_disps_op)le16toh(w.op);
	out.status = (int32_t)le32toh(w.status);
	out.stride = le32toh(w.stride);
	out.seq = le64toh(w.seq);
	out.mode = mode_from_wire(&w.mode);
	if (vdf_disps_reply_validate(&out))
		return -EBADMSG;
	*r = out;
	return 0;
}

/* ---- socket I/O --------------------------------------------------------- */

/*
 * Receive one message with exactly `want` fds (into fds) into buf, which has
 * room for VDF_DISPS_MSG_MAX + 1 bytes: a spare byte, so that longer messages
 * show as truncated. Over-long messages and a wrong fd count are bad messages
 * (-EBADMSG, every fd that arrived closed); -EPIPE at end of stream.
 */
static int recv_msg(int sock, uint8_t buf[VDF_DISPS_MSG_MAX + 1], int *fds, unsigned want,
		    int flags, int timeout_ms)
{
	int len = vdf_fdmsg_recv_n(sock, buf, VDF_DISPS_MSG_MAX + 1, fds, want, flags, timeout_ms);

	return len == -EMSGSIZE ? -EBADMSG : len;
}

/* The header promises -EBADMSG for any bad message on the socket; the codes
 * of the decoders (-EMSGSIZE, -EPROTONOSUPPORT) are for the pure codecs. */
static int bad_msg(int rc)
{
	return rc ? -EBADMSG : 0;
}

int vdf_disps_send_hello(int sock, const struct vdf_disps_hello *h, int memfd)
{
	uint8_t buf[VDF_DISPS_MSG_MAX];
	int len = vdf_disps_encode_hello(h, buf, sizeof(buf));

	if (len < 0)
		return len;
	if (memfd < 0)
		return -EBADF;
	return vdf_fdmsg_send(sock, buf, (size_t)len, &memfd, 1);
}

int vdf_disps_recv_hello(int sock, struct vdf_disps_hello *h, int *memfd, int flags)
{
	uint8_t buf[VDF_DISPS_MSG_MAX + 1];
	struct vdf_disps_hello hello;
	int fd = -1;
	int len;

	len = recv_msg(sock, buf, &fd, 1, flags, -1);
	if (len < 0)
		return len;
	if (vdf_disps_decode_hello(buf, (size_t)len, &hello)) {
		vdf_fdmsg_close(&fd, 1);
		return -EBADMSG;
	}
	*h = hello;
	*memfd = fd; /* the caller's now */
	return 0;
}

int vdf_disps_send_welcome(int sock, const struct vdf_disps_welcome *w)
{
	uint8_t buf[VDF_DISPS_MSG_MAX];
	int len = vdf_disps_encode_welcome(w, buf, sizeof(buf));

	if (len < 0)
		return len;
	return vdf_fdmsg_send(sock, buf, (size_t)len, NULL, 0);
}

int vdf_disps_recv_welcome(int sock, struct vdf_disps_welcome *w, int timeout_ms)
{
	uint8_t buf[VDF_DISPS_MSG_MAX + 1];
	int len = recv_msg(sock, buf, NULL, 0, 0, timeout_ms);

	if (len < 0)
		return len;
	return bad_msg(vdf_disps_decode_welcome(buf, (size_t)len, w));
}

int vdf_disps_send_request(int sock, const struct vdf_disps_request *r)
{
	uint8_t buf[VDF_DISPS_MSG_MAX];
	int len = vdf_disps_encode_request(r, buf, sizeof(buf));

	if (len < 0)
		return len;
	return vdf_fdmsg_send(sock, buf, (size_t)len, NULL, 0);
}

int vdf_disps_recv_request(int sock, struct vdf_disps_request *r, int flags)
{
	uint8_t buf[VDF_DISPS_MSG_MAX + 1];
	int len = recv_msg(sock, buf, NULL, 0, flags, -1);

	if (len < 0)
		return len;
	return bad_msg(vdf_disps_decode_request(buf, (size_t)len, r));
}

int vdf_disps_send_reply(int sock, const struct vdf_disps_reply *r)
{
	uint8_t buf[VDF_DISPS_MSG_MAX];
	int len = vdf_disps_encode_reply(r, buf, sizeof(buf));

	if (len < 0)
		return len;
	return vdf_fdmsg_send(sock, buf, (size_t)len, NULL, 0);
}

int vdf_disps_recv_reply(int sock, struct vdf_disps_reply *r, int timeout_ms)
{
	uint8_t buf[VDF_DISPS_MSG_MAX + 1];
	int len = recv_msg(sock, buf, NULL, 0, 0, timeout_ms);

	if (len < 0)
		return len;
	return bad_msg(vdf_disps_decode_reply(buf, (size_t)len, r));
}
