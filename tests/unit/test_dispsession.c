// SPDX-License-Identifier: MIT
/*
 * Display session (lib/ipc/dispsession.c): every validation rule of
 * vdf/dispsession.h with one failing case each, frame sizes, strict decoding
 * of all four messages (magic, version, type, length, reserved, padding,
 * values), and the messages over a SEQPACKET socketpair: the memfd of a
 * HELLO, fds where none belong (refused, none leaked), timeouts and EOF.
 */
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "vdf/dispsession.h"
#include "vdf/fdmsg.h"

#define HDR_SIZE     16
#define HELLO_SIZE   (HDR_SIZE + 16)
#define WELCOME_SIZE (HDR_SIZE + 568)
#define REQUEST_SIZE (HDR_SIZE + 24)
#define REPLY_SIZE   (HDR_SIZE + 40)

#define OFF_HELLO_RESERVED   (HDR_SIZE + 4)
#define OFF_HELLO_SIZE	     (HDR_SIZE + 8)
#define OFF_WELCOME_NAME     (HDR_SIZE + 8)
#define OFF_WELCOME_NMODES   (HDR_SIZE + 48)
#define OFF_WELCOME_RESERVED (HDR_SIZE + 52)
#define OFF_WELCOME_MODES    (HDR_SIZE + 56)
#define OFF_REQUEST_OP	     (HDR_SIZE + 4)
#define OFF_REQUEST_RESERVED (HDR_SIZE + 6)
#define OFF_REPLY_RESERVED   (HDR_SIZE + 6)
#define OFF_REPLY_STRIDE     (HDR_SIZE + 12)

static const struct vdf_display_mode mode_xga = {1024, 768, VDF_PIXEL_XRGB8888, 60};
static const struct vdf_display_mode mode_svga = {800, 600, VDF_PIXEL_RGB565, 0};

static struct vdf_disps_hello std_hello(void)
{
	struct vdf_disps_hello h = {.buffer_size = 4u << 20};

	return h;
}

static struct vdf_disps_welcome std_welcome(void)
{
	struct vdf_disps_welcome w = {
	    .generation = 3,
	    .name = "bochs-display",
	    .width_mm = 300,
	    .height_mm = 225,
	    .mode = mode_xga,
	    .nmodes = 3,
	    .modes = {mode_xga, mode_svga, {640, 480, VDF_PIXEL_C8, 75}},
	};
	return w;
}

static struct vdf_disps_request std_request(void)
{
	struct vdf_disps_request r = {.tag = 42, .op = VDF_DISPS_SET_MODE, .mode = mode_svga};

	return r;
}

static struct vdf_disps_reply std_reply(void)
{
	struct vdf_disps_reply r = {
	    .tag = 42,
	    .op = VDF_DISPS_PRESENT,
	    .status = 0,
	    .seq = 0x123456789abcull,
	    .mode = mode_xga,
	    .stride = 4096,
	};
	return r;
}

/* Field by field: the structs with u64 members have padding. */
static void assert_mode_equal(const struct vdf_display_mode *a, const struct vdf_display_mode *b)
{
	assert_int_equal(a->width, b->width);
	assert_int_equal(a->height, b->height);
	assert_int_equal(a->format, b->format);
	assert_int_equal(a->refresh_hz, b->refresh_hz);
}

static void assert_hello_equal(const struct vdf_disps_hello *a, const struct vdf_disps_hello *b)
{
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(a->buffer_size, b->buffer_size);
}

static void assert_welcome_equal(const struct vdf_disps_welcome *a,
				 const struct vdf_disps_welcome *b)
{
	assert_int_equal(a->status, b->status);
	assert_int_equal(a->generation, b->generation);
	assert_memory_equal(a->name, b->name, VDF_DISPS_NAME_MAX);
	assert_int_equal(a->width_mm, b->width_mm);
	assert_int_equal(a->height_mm, b->height_mm);
	assert_mode_equal(&a->mode, &b->mode);
	assert_int_equal(a->nmodes, b->nmodes);
	for (unsigned i = 0; i < VDF_DISPS_MODES_MAX; i++)
		assert_mode_equal(&a->modes[i], &b->modes[i]);
}

static void assert_request_equal(const struct vdf_disps_request *a,
				 const struct vdf_disps_request *b)
{
	assert_int_equal(a->tag, b->tag);
	assert_int_equal(a->op, b->op);
	assert_mode_equal(&a->mode, &b->mode);
}

static void assert_reply_equal(const struct vdf_disps_reply *a, const struct vdf_disps_reply *b)
{
	assert_int_equal(a->tag, b->tag);
	assert_int_equal(a->op, b->op);
	assert_int_equal(a->status, b->status);
	assert_int_equal(a->seq, b->seq);
	assert_mode_equal(&a->mode, &b->mode);
	assert_int_equal(a->stride, b->stride);
}

/* Decoders with the output hidden, so one helper can try them all. */
static int dec_hello(const void *buf, size_t len)
{
	struct vdf_disps_hello h;

	return vdf_disps_decode_hello(buf, len, &h);
}

static int dec_welcome(const void *buf, size_t len)
{
	struct vdf_disps_welcome w;

	return vdf_disps_decode_welcome(buf, len, &w);
}

static int dec_request(const void *buf, size_t len)
{
	struct vdf_disps_request r;

	return vdf_disps_decode_request(buf, len, &r);
}

static int dec_reply(const void *buf, size_t len)
{
	struct vdf_disps_reply r;

	return vdf_disps_decode_reply(buf, len, &r);
}

/* Overwrite a little-endian u32 of an encoded message. */
static void put32(uint8_t *m, size_t off, uint32_t v)
{
	v = htole32(v);
	memcpy(m + off, &v, sizeof(v));
}

/*
 * The header checks every decoder shares, on a valid message msg of len
 * bytes: every truncation and an extension (-EMSGSIZE), magic, type and
 * reserved (-EBADMSG), version (-EPROTONOSUPPORT), and a header length that
 * disagrees with the datagram (-EMSGSIZE).
 */
static void check_header(int (*dec)(const void *, size_t), const uint8_t *msg, int len,
			 uint16_t type)
{
	uint8_t m[VDF_DISPS_MSG_MAX + 1];

	assert_true(len > HDR_SIZE && len <= (int)VDF_DISPS_MSG_MAX);
	assert_int_equal(dec(msg, (size_t)len), 0);
	for (int l = 0; l < len; l++)
		assert_int_equal(dec(msg, (size_t)l), -EMSGSIZE);
	memcpy(m, msg, (size_t)len);
	m[len] = 0;
	assert_int_equal(dec(m, (size_t)len + 1), -EMSGSIZE);
	put32(m, 8, (uint32_t)len + 1); /* header length agrees, the body size does not */
	assert_int_equal(dec(m, (size_t)len + 1), -EMSGSIZE);
	memcpy(m, msg, (size_t)len);
	m[8] ^= 4; /* header length */
	assert_int_equal(dec(m, (size_t)len), -EMSGSIZE);
	memcpy(m, msg, (size_t)len);
	m[3] ^= 0x80; /* magic */
	assert_int_equal(dec(m, (size_t)len), -EBADMSG);
	memcpy(m, msg, (size_t)len);
	memcpy(m, "VDFN", 4); /* the net session's magic */
	assert_int_equal(dec(m, (size_t)len), -EBADMSG);
	memcpy(m, msg, (size_t)len);
	m[4] = 2; /* version */
	assert_int_equal(dec(m, (size_t)len), -EPROTONOSUPPORT);
	memcpy(m, msg, (size_t)len);
	m[5] = 1; /* version 257 */
	assert_int_equal(dec(m, (size_t)len), -EPROTONOSUPPORT);
	for (uint16_t t = 0; t <= 5; t++) {
		if (t == type)
			continue;
		memcpy(m, msg, (size_t)len);
		m[6] = (uint8_t)t; /* type */
		assert_int_equal(dec(m, (size_t)len), -EBADMSG);
	}
	for (int i = 12; i < 16; i++) {
		memcpy(m, msg, (size_t)len);
		m[i] = 1; /* header reserved */
		assert_int_equal(dec(m, (size_t)len), -EBADMSG);
	}
}

/* ---- rules -------------------------------------------------------------- */

static void test_frame_bytes(void **state)
{
	struct vdf_display_mode m = {0};

	(void)state;
	assert_int_equal(vdf_disps_frame_bytes(&mode_xga), 3145728);
	assert_int_equal(vdf_disps_frame_bytes(&mode_svga), 960000);
	assert_int_equal(vdf_disps_frame_bytes(&m), 0);
	m = (struct vdf_display_mode){65535, 65535, VDF_PIXEL_XRGB8888, 0};
	assert_int_equal(vdf_disps_frame_bytes(&m), 65535ull * 65535 * 4);
	m = (struct vdf_display_mode){640, 480, VDF_PIXEL_RGB888, 0};
	assert_int_equal(vdf_disps_frame_bytes(&m), 640 * 480 * 3);
	m.format = (enum vdf_pixel_format)77; /* not a mode: no picture */
	assert_int_equal(vdf_disps_frame_bytes(&m), 0);
}

static void test_mode_rules(void **state)
{
	struct vdf_display_mode m = {0}, b;

	(void)state;
	assert_int_equal(vdf_disps_mode_validate(&m), 0); /* none */
	assert_int_equal(vdf_disps_mode_validate(&mode_xga), 0);
	assert_int_equal(vdf_disps_mode_validate(&mode_svga), 0);
	m = (struct vdf_display_mode){65535, 1, VDF_PIXEL_XRGB1555, 1000};
	assert_int_equal(vdf_disps_mode_validate(&m), 0);
	b = mode_xga;
	b.width = 0;
	assert_int_equal(vdf_disps_mode_validate(&b), -EINVAL);
	b = mode_xga;
	b.width = 65536;
	assert_int_equal(vdf_disps_mode_validate(&b), -EINVAL);
	b = mode_xga;
	b.height = 0;
	assert_int_equal(vdf_disps_mode_validate(&b), -EINVAL);
	b = mode_xga;
	b.height = 65536;
	assert_int_equal(vdf_disps_mode_validate(&b), -EINVAL);
	b = mode_xga;
	b.format = VDF_PIXEL_NONE;
	assert_int_equal(vdf_disps_mode_validate(&b), -EINVAL);
	b = mode_xga;
	b.format = (enum vdf_pixel_format)6; /* unknown format */
	assert_int_equal(vdf_disps_mode_validate(&b), -EINVAL);
	b = mode_xga;
	b.refresh_hz = 1001;
	assert_int_equal(vdf_disps_mode_validate(&b), -EINVAL);
	b = (struct vdf_display_mode){.refresh_hz = 60}; /* not all zero */
	assert_int_equal(vdf_disps_mode_validate(&b), -EINVAL);
}

static void test_hello_rules(void **state)
{
	struct vdf_disps_hello h = std_hello(), b;

	(void)state;
	assert_int_equal(vdf_disps_hello_validate(&h), 0);
	b = h;
	b.buffer_size = VDF_DISPS_PAGE;
	assert_int_equal(vdf_disps_hello_validate(&b), 0);
	b.buffer_size = VDF_DISPS_BUFFER_MAX;
	assert_int_equal(vdf_disps_hello_validate(&b), 0);
	b = h;
	b.flags = 1;
	assert_int_equal(vdf_disps_hello_validate(&b), -EINVAL);
	b = h;
	b.buffer_size = 0;
	assert_int_equal(vdf_disps_hello_validate(&b), -EINVAL);
	b = h;
	b.buffer_size = 3145728 + 100; /* not a page multiple */
	assert_int_equal(vdf_disps_hello_validate(&b), -EINVAL);
	b = h;
	b.buffer_size = VDF_DISPS_BUFFER_MAX + VDF_DISPS_PAGE;
	assert_int_equal(vdf_disps_hello_validate(&b), -EINVAL);
}

static void test_welcome_rules(void **state)
{
	struct vdf_disps_welcome w = std_welcome(), b;

	(void)state;
	assert_int_equal(vdf_disps_welcome_validate(&w), 0);
	b = w;
	b.mode = (struct vdf_display_mode){0}; /* no current mode */
	b.width_mm = b.height_mm = 0;	       /* size unknown */
	b.name[0] = '\0';
	assert_int_equal(vdf_disps_welcome_validate(&b), 0);
	b = w;
	b.nmodes = VDF_DISPS_MODES_MAX;
	for (unsigned i = 0; i < VDF_DISPS_MODES_MAX; i++)
		b.modes[i] = (struct vdf_display_mode){640 + i, 480, VDF_PIXEL_RGB565, 0};
	assert_int_equal(vdf_disps_welcome_validate(&b), 0);

	b = w;
	b.status = 1;
	assert_int_equal(vdf_disps_welcome_validate(&b), -EINVAL);
	b = (struct vdf_disps_welcome){.status = -4096};
	assert_int_equal(vdf_disps_welcome_validate(&b), -EINVAL);
	b = w;
	memset(b.name, 'a', sizeof(b.name)); /* no NUL */
	assert_int_equal(vdf_disps_welcome_validate(&b), -EINVAL);
	b = w;
	b.name[2] = '\t'; /* not printable */
	assert_int_equal(vdf_disps_welcome_validate(&b), -EINVAL);
	b.name[2] = 0x7f;
	assert_int_equal(vdf_disps_welcome_validate(&b), -EINVAL);
	b.name[2] = (char)0xe9;
	assert_int_equal(vdf_disps_welcome_validate(&b), -EINVAL);
	b = w;
	b.nmodes = VDF_DISPS_MODES_MAX + 1;
	assert_int_equal(vdf_disps_welcome_validate(&b), -EINVAL);
	b = w;
	b.modes[VDF_DISPS_MODES_MAX - 1] = mode_svga; /* an unused slot */
	assert_int_equal(vdf_disps_welcome_validate(&b), -EINVAL);
	b = w;
	b.modes[3].refresh_hz = 1; /* the first unused slot, not all zero */
	assert_int_equal(vdf_disps_welcome_validate(&b), -EINVAL);
	b = w;
	b.nmodes = 4; /* a listed mode that is zero */
	assert_int_equal(vdf_disps_welcome_validate(&b), -EINVAL);
	b = w;
	b.modes[1].width = 70000; /* a listed mode that does not validate */
	assert_int_equal(vdf_disps_welcome_validate(&b), -EINVAL);
	b = w;
	b.mode.format = (enum vdf_pixel_format)9; /* the current mode */
	assert_int_equal(vdf_disps_welcome_validate(&b), -EINVAL);

	/* A refusal carries a status and nothing else. */
	b = (struct vdf_disps_welcome){.status = -EBUSY};
	assert_int_equal(vdf_disps_welcome_validate(&b), 0);
	b.status = -4095;
	assert_int_equal(vdf_disps_welcome_validate(&b), 0);
	b = (struct vdf_disps_welcome){.status = -EBUSY, .generation = 1};
	assert_int_equal(vdf_disps_welcome_validate(&b), -EINVAL);
	b = (struct vdf_disps_welcome){.status = -EBUSY, .name = "x"};
	assert_int_equal(vdf_disps_welcome_validate(&b), -EINVAL);
	b = (struct vdf_disps_welcome){.status = -EBUSY};
	b.name[VDF_DISPS_NAME_MAX - 1] = 'x';
	assert_int_equal(vdf_disps_welcome_validate(&b), -EINVAL);
	b = (struct vdf_disps_welcome){.status = -EBUSY, .width_mm = 1};
	assert_int_equal(vdf_disps_welcome_validate(&b), -EINVAL);
	b = (struct vdf_disps_welcome){.status = -EBUSY, .height_mm = 1};
	assert_int_equal(vdf_disps_welcome_validate(&b), -EINVAL);
	b = (struct vdf_disps_welcome){.status = -EBUSY, .mode = mode_xga};
	assert_int_equal(vdf_disps_welcome_validate(&b), -EINVAL);
	b = (struct vdf_disps_welcome){.status = -EBUSY, .nmodes = 1};
	assert_int_equal(vdf_disps_welcome_validate(&b), -EINVAL);
	b = (struct vdf_disps_welcome){.status = -EBUSY};
	b.modes[VDF_DISPS_MODES_MAX - 1] = mode_xga;
	assert_int_equal(vdf_disps_welcome_validate(&b), -EINVAL);
}

static void test_request_rules(void **state)
{
	struct vdf_disps_request r = std_request(), b;

	(void)state;
	assert_int_equal(vdf_disps_request_validate(&r), 0);
	b = (struct vdf_disps_request){.tag = UINT32_MAX, .op = VDF_DISPS_PRESENT};
	assert_int_equal(vdf_disps_request_validate(&b), 0);
	b.op = VDF_DISPS_WAIT_VBLANK;
	assert_int_equal(vdf_disps_request_validate(&b), 0);

	b = r;
	b.op = (enum vdf_disps_op)0; /* unknown op */
	assert_int_equal(vdf_disps_request_validate(&b), -EINVAL);
	b.op = (enum vdf_disps_op)4;
	assert_int_equal(vdf_disps_request_validate(&b), -EINVAL);
	b = r;
	b.mode = (struct vdf_display_mode){0}; /* SET_MODE without a mode */
	assert_int_equal(vdf_disps_request_validate(&b), -EINVAL);
	b = r;
	b.mode.refresh_hz = 2000; /* SET_MODE with a bad mode */
	assert_int_equal(vdf_disps_request_validate(&b), -EINVAL);
	b = r;
	b.op = VDF_DISPS_PRESENT; /* a mode with PRESENT */
	assert_int_equal(vdf_disps_request_validate(&b), -EINVAL);
	b = (struct vdf_disps_request){.op = VDF_DISPS_WAIT_VBLANK};
	b.mode.height = 1;
	assert_int_equal(vdf_disps_request_validate(&b), -EINVAL);
}

static void test_reply_rules(void **state)
{
	struct vdf_disps_reply r = std_reply(), b;

	(void)state;
	assert_int_equal(vdf_disps_reply_validate(&r), 0);
	b = r;
	b.stride = 1024 * 4; /* exactly width * bytes per pixel */
	assert_int_equal(vdf_disps_reply_validate(&b), 0);
	b = (struct vdf_disps_reply){.op = VDF_DISPS_SET_MODE, .status = -ENOSPC};
	assert_int_equal(vdf_disps_reply_validate(&b), 0); /* no mode, stride 0 */
	b.status = -4095;
	assert_int_equal(vdf_disps_reply_validate(&b), 0);

	b = r;
	b.op = (enum vdf_disps_op)0x100; /* unknown op */
	assert_int_equal(vdf_disps_reply_validate(&b), -EINVAL);
	b = r;
	b.status = 1;
	assert_int_equal(vdf_disps_reply_validate(&b), -EINVAL);
	b.status = -4096;
	assert_int_equal(vdf_disps_reply_validate(&b), -EINVAL);
	b.status = INT32_MIN;
	assert_int_equal(vdf_disps_reply_validate(&b), -EINVAL);
	b = r;
	b.mode.width = 0; /* a bad mode */
	assert_int_equal(vdf_disps_reply_validate(&b), -EINVAL);
	b = r;
	b.stride = 1024 * 4 - 1; /* stride too small */
	assert_int_equal(vdf_disps_reply_validate(&b), -EINVAL);
	b = r;
	b.mode = mode_svga;
	b.stride = 1599;
	assert_int_equal(vdf_disps_reply_validate(&b), -EINVAL);
	b.stride = 1600;
	assert_int_equal(vdf_disps_reply_validate(&b), 0);
	b = r;
	b.mode = (struct vdf_display_mode){0}; /* a stride without a mode */
	assert_int_equal(vdf_disps_reply_validate(&b), -EINVAL);
}

/* ---- codecs ------------------------------------------------------------- */

static void test_hello_codec(void **state)
{
	uint8_t buf[VDF_DISPS_MSG_MAX], m[VDF_DISPS_MSG_MAX];
	struct vdf_disps_hello h = std_hello(), out;
	int len;

	(void)state;
	len = vdf_disps_encode_hello(&h, buf, sizeof(buf));
	assert_int_equal(len, HELLO_SIZE);
	assert_memory_equal(buf, "VDFV\x01\x00\x01\x00\x20\x00\x00\x00\x00\x00\x00\x00", HDR_SIZE);
	assert_int_equal(vdf_disps_decode_hello(buf, (size_t)len, &out), 0);
	assert_hello_equal(&h, &out);
	assert_int_equal(vdf_disps_encode_hello(&h, buf, HELLO_SIZE - 1), -ENOSPC);
	check_header(dec_hello, buf, len, VDF_DISPS_HELLO);
	for (int i = 0; i < 4; i++) {
		memcpy(m, buf, (size_t)len);
		m[OFF_HELLO_RESERVED + i] = 1;
		assert_int_equal(vdf_disps_decode_hello(m, (size_t)len, &out), -EBADMSG);
	}
	memcpy(m, buf, (size_t)len);
	m[HDR_SIZE] = 1; /* flags */
	assert_int_equal(vdf_disps_decode_hello(m, (size_t)len, &out), -EBADMSG);
	memcpy(m, buf, (size_t)len);
	m[OFF_HELLO_SIZE] = 1; /* not a page multiple */
	assert_int_equal(vdf_disps_decode_hello(m, (size_t)len, &out), -EBADMSG);
	memcpy(m, buf, (size_t)len);
	m[OFF_HELLO_SIZE + 7] = 1; /* far too big */
	assert_int_equal(vdf_disps_decode_hello(m, (size_t)len, &out), -EBADMSG);
	h.buffer_size = 0;
	assert_int_equal(vdf_disps_encode_hello(&h, buf, sizeof(buf)), -EINVAL);
}

static void test_welcome_codec(void **state)
{
	uint8_t buf[VDF_DISPS_MSG_MAX], m[VDF_DISPS_MSG_MAX];
	struct vdf_disps_welcome w = std_welcome(), b, out;
	int len;

	(void)state;
	len = vdf_disps_encode_welcome(&w, buf, sizeof(buf));
	assert_int_equal(len, WELCOME_SIZE);
	assert_int_equal(vdf_disps_decode_welcome(buf, (size_t)len, &out), 0);
	assert_welcome_equal(&w, &out);
	assert_int_equal(vdf_disps_encode_welcome(&w, buf, WELCOME_SIZE - 1), -ENOSPC);
	check_header(dec_welcome, buf, len, VDF_DISPS_WELCOME);
	for (int i = 0; i < 4; i++) {
		memcpy(m, buf, (size_t)len);
		m[OFF_WELCOME_RESERVED + i] = 1;
		assert_int_equal(vdf_disps_decode_welcome(m, (size_t)len, &out), -EBADMSG);
	}
	memcpy(m, buf, (size_t)len);
	m[OFF_WELCOME_NAME + VDF_DISPS_NAME_MAX - 1] = 'x'; /* NUL padding */
	assert_int_equal(vdf_disps_decode_welcome(m, (size_t)len, &out), -EBADMSG);
	memcpy(m, buf, (size_t)len);
	memset(m + OFF_WELCOME_NAME, 'x', VDF_DISPS_NAME_MAX); /* no NUL */
	assert_int_equal(vdf_disps_decode_welcome(m, (size_t)len, &out), -EBADMSG);
	memcpy(m, buf, (size_t)len);
	m[OFF_WELCOME_NAME] = 0x01; /* not printable */
	assert_int_equal(vdf_disps_decode_welcome(m, (size_t)len, &out), -EBADMSG);
	memcpy(m, buf, (size_t)len);
	put32(m, OFF_WELCOME_NMODES, VDF_DISPS_MODES_MAX + 1);
	assert_int_equal(vdf_disps_decode_welcome(m, (size_t)len, &out), -EBADMSG);
	memcpy(m, buf, (size_t)len);
	put32(m, OFF_WELCOME_MODES + 31 * 16 + 12, 60); /* last slot, unused */
	assert_int_equal(vdf_disps_decode_welcome(m, (size_t)len, &out), -EBADMSG);
	memcpy(m, buf, (size_t)len);
	put32(m, OFF_WELCOME_MODES + 8, 0xffffffffu); /* format of modes[0] */
	assert_int_equal(vdf_disps_decode_welcome(m, (size_t)len, &out), -EBADMSG);

	/* Garbage after the NUL of a name is not sent: the name is padded. */
	b = w;
	memcpy(b.name, "qxl\0garbage!", 12);
	len = vdf_disps_encode_welcome(&b, m, sizeof(m));
	assert_int_equal(len, WELCOME_SIZE);
	assert_memory_equal(m + OFF_WELCOME_NAME, "qxl\0\0\0\0\0\0\0\0\0\0\0\0\0",
			    VDF_DISPS_NAME_MAX);
	assert_int_equal(vdf_disps_decode_welcome(m, (size_t)len, &out), 0);
	assert_string_equal(out.name, "qxl");

	/* A refusal: the status in two's complement and nothing else. */
	b = (struct vdf_disps_welcome){.status = -EBUSY};
	len = vdf_disps_encode_welcome(&b, buf, sizeof(buf));
	assert_int_equal(len, WELCOME_SIZE);
	assert_memory_equal(buf + HDR_SIZE, "\xf0\xff\xff\xff", 4);
	assert_int_equal(vdf_disps_decode_welcome(buf, (size_t)len, &out), 0);
	assert_welcome_equal(&b, &out);
	memcpy(m, buf, (size_t)len);
	m[HDR_SIZE + 4] = 1; /* generation */
	assert_int_equal(vdf_disps_decode_welcome(m, (size_t)len, &out), -EBADMSG);
	memcpy(m, buf, (size_t)len);
	m[OFF_WELCOME_MODES + 5] = 1;
	assert_int_equal(vdf_disps_decode_welcome(m, (size_t)len, &out), -EBADMSG);
	memcpy(m, buf, (size_t)len);
	put32(m, HDR_SIZE, 1); /* status 1 */
	assert_int_equal(vdf_disps_decode_welcome(m, (size_t)len, &out), -EBADMSG);

	b = w;
	b.nmodes = 40;
	assert_int_equal(vdf_disps_encode_welcome(&b, buf, sizeof(buf)), -EINVAL);
}

static void test_request_codec(void **state)
{
	uint8_t buf[VDF_DISPS_MSG_MAX], m[VDF_DISPS_MSG_MAX];
	struct vdf_disps_request r = std_request(), b, out;
	int len;

	(void)state;
	len = vdf_disps_encode_request(&r, buf, sizeof(buf));
	assert_int_equal(len, REQUEST_SIZE);
	assert_int_equal(vdf_disps_decode_request(buf, (size_t)len, &out), 0);
	assert_request_equal(&r, &out);
	b = (struct vdf_disps_request){.tag = 7, .op = VDF_DISPS_WAIT_VBLANK};
	len = vdf_disps_encode_request(&b, m, sizeof(m));
	assert_int_equal(len, REQUEST_SIZE);
	assert_int_equal(vdf_disps_decode_request(m, (size_t)len, &out), 0);
	assert_request_equal(&b, &out);
	len = vdf_disps_encode_request(&r, buf, sizeof(buf));
	assert_int_equal(vdf_disps_encode_request(&r, buf, REQUEST_SIZE - 1), -ENOSPC);
	check_header(dec_request, buf, len, VDF_DISPS_REQUEST);
	for (int i = 0; i < 2; i++) {
		memcpy(m, buf, (size_t)len);
		m[OFF_REQUEST_RESERVED + i] = 1;
		assert_int_equal(vdf_disps_decode_request(m, (size_t)len, &out), -EBADMSG);
	}
	memcpy(m, buf, (size_t)len);
	m[OFF_REQUEST_OP] = 9; /* unknown op */
	assert_int_equal(vdf_disps_decode_request(m, (size_t)len, &out), -EBADMSG);
	memcpy(m, buf, (size_t)len);
	m[OFF_REQUEST_OP] = VDF_DISPS_PRESENT; /* PRESENT with a mode */
	assert_int_equal(vdf_disps_decode_request(m, (size_t)len, &out), -EBADMSG);
	memcpy(m, buf, (size_t)len);
	put32(m, HDR_SIZE + 8 + 8, 0); /* SET_MODE to format NONE */
	assert_int_equal(vdf_disps_decode_request(m, (size_t)len, &out), -EBADMSG);
	b = r;
	b.op = (enum vdf_disps_op)0x10003; /* would alias WAIT_VBLANK in a u16 */
	assert_int_equal(vdf_disps_encode_request(&b, buf, sizeof(buf)), -EINVAL);
}

static void test_reply_codec(void **state)
{
	uint8_t buf[VDF_DISPS_MSG_MAX], m[VDF_DISPS_MSG_MAX];
	struct vdf_disps_reply r = std_reply(), b, out;
	int len;

	(void)state;
	len = vdf_disps_encode_reply(&r, buf, sizeof(buf));
	assert_int_equal(len, REPLY_SIZE);
	assert_int_equal(vdf_disps_decode_reply(buf, (size_t)len, &out), 0);
	assert_reply_equal(&r, &out);
	b = (struct vdf_disps_reply){.tag = 1, .op = VDF_DISPS_SET_MODE, .status = -ENOSPC};
	len = vdf_disps_encode_reply(&b, m, sizeof(m));
	assert_int_equal(len, REPLY_SIZE);
	assert_int_equal(vdf_disps_decode_reply(m, (size_t)len, &out), 0);
	assert_reply_equal(&b, &out);
	len = vdf_disps_encode_reply(&r, buf, sizeof(buf));
	assert_int_equal(vdf_disps_encode_reply(&r, buf, REPLY_SIZE - 1), -ENOSPC);
	check_header(dec_reply, buf, len, VDF_DISPS_REPLY);
	for (int i = 0; i < 2; i++) {
		memcpy(m, buf, (size_t)len);
		m[OFF_REPLY_RESERVED + i] = 1;
		assert_int_equal(vdf_disps_decode_reply(m, (size_t)len, &out), -EBADMSG);
	}
	memcpy(m, buf, (size_t)len);
	put32(m, OFF_REPLY_STRIDE, 4095); /* stride too small */
	assert_int_equal(vdf_disps_decode_reply(m, (size_t)len, &out), -EBADMSG);
	memcpy(m, buf, (size_t)len);
	put32(m, HDR_SIZE + 8, 0x80000000u); /* status INT32_MIN */
	assert_int_equal(vdf_disps_decode_reply(m, (size_t)len, &out), -EBADMSG);
	b = r;
	b.stride = 0;
	assert_int_equal(vdf_disps_encode_reply(&b, buf, sizeof(buf)), -EINVAL);
}

/* ---- socket ------------------------------------------------------------- */

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static int make_memfd(uint64_t size)
{
	int fd = memfd_create("disps-test", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	return fd;
}

static void test_socket_roundtrip(void **state)
{
	struct vdf_disps_hello h = std_hello(), hin;
	struct vdf_disps_welcome w = std_welcome(), win;
	struct vdf_disps_request rq[3] = {
	    std_request(),
	    {.tag = 43, .op = VDF_DISPS_PRESENT},
	    {.tag = 44, .op = VDF_DISPS_WAIT_VBLANK},
	};
	struct vdf_disps_reply rp = std_reply(), rpin;
	struct vdf_disps_request rqin;
	char text[16] = {0};
	int sv[2], memfd, got = -1;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	memfd = make_memfd(h.buffer_size);
	assert_int_equal(vdf_disps_send_hello(sv[0], &h, memfd), 0);
	assert_int_equal(vdf_disps_recv_hello(sv[1], &hin, &got, 0), 0);
	assert_hello_equal(&h, &hin);
	assert_true(got >= 0 && got != memfd);
	/* The same file: written through one fd, read through the other. */
	assert_int_equal(pwrite(memfd, "pixels", 6, 4096), 6);
	assert_int_equal(pread(got, text, 6, 4096), 6);
	assert_string_equal(text, "pixels");
	assert_int_equal(pwrite(got, "back", 4, 0), 4);
	assert_int_equal(pread(memfd, text, 4, 0), 4);
	assert_memory_equal(text, "back", 4);
	close(got);

	assert_int_equal(vdf_disps_send_welcome(sv[1], &w), 0);
	assert_int_equal(vdf_disps_recv_welcome(sv[0], &win, 1000), 0);
	assert_welcome_equal(&w, &win);
	w = (struct vdf_disps_welcome){.status = -EBUSY};
	assert_int_equal(vdf_disps_send_welcome(sv[1], &w), 0);
	assert_int_equal(vdf_disps_recv_welcome(sv[0], &win, -1), 0);
	assert_welcome_equal(&w, &win);

	/* Requests in order, then their replies in order. */
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(vdf_disps_send_request(sv[0], &rq[i]), 0);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(vdf_disps_recv_request(sv[1], &rqin, i ? MSG_DONTWAIT : 0), 0);
		assert_request_equal(&rq[i], &rqin);
		rp.tag = rq[i].tag;
		rp.op = rq[i].op;
		rp.seq = i;
		assert_int_equal(vdf_disps_send_reply(sv[1], &rp), 0);
	}
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(vdf_disps_recv_reply(sv[0], &rpin, i ? -1 : 1000), 0);
		rp.tag = rq[i].tag;
		rp.op = rq[i].op;
		rp.seq = i;
		assert_reply_equal(&rp, &rpin);
	}
	assert_int_equal(vdf_disps_recv_request(sv[1], &rqin, MSG_DONTWAIT), -EAGAIN);

	/* Invalid values are not sent. */
	rp.stride = 1;
	assert_int_equal(vdf_disps_send_reply(sv[1], &rp), -EINVAL);
	rq[0].mode.width = 0;
	assert_int_equal(vdf_disps_send_request(sv[0], &rq[0]), -EINVAL);
	assert_int_equal(vdf_disps_send_hello(sv[0], &h, -1), -EBADF);
	close(memfd);
	close(sv[0]);
	close(sv[1]);
}

static void test_socket_bad(void **state)
{
	uint8_t buf[VDF_DISPS_MSG_MAX + 8];
	struct vdf_disps_hello h = std_hello(), hin;
	struct vdf_disps_welcome w = std_welcome(), win;
	struct vdf_disps_request rq = std_request(), rqin;
	struct vdf_disps_reply rp = std_reply(), rpin;
	int sv[2], memfd, two[2], got = -1, before, len;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	memfd = make_memfd(h.buffer_size);
	before = count_fds();

	/* fds where none belong: refused and closed. */
	len = vdf_disps_encode_request(&rq, buf, sizeof(buf));
	assert_int_equal(vdf_fdmsg_send(sv[0], buf, (size_t)len, &memfd, 1), 0);
	assert_int_equal(vdf_disps_recv_request(sv[1], &rqin, 0), -EBADMSG);
	assert_int_equal(count_fds(), before);
	len = vdf_disps_encode_reply(&rp, buf, sizeof(buf));
	two[0] = two[1] = memfd;
	assert_int_equal(vdf_fdmsg_send(sv[1], buf, (size_t)len, two, 2), 0);
	assert_int_equal(vdf_disps_recv_reply(sv[0], &rpin, 1000), -EBADMSG);
	assert_int_equal(count_fds(), before);
	len = vdf_disps_encode_welcome(&w, buf, sizeof(buf));
	assert_int_equal(vdf_fdmsg_send(sv[1], buf, (size_t)len, &memfd, 1), 0);
	assert_int_equal(vdf_disps_recv_welcome(sv[0], &win, -1), -EBADMSG);
	assert_int_equal(count_fds(), before);

	/* A HELLO needs exactly one fd. */
	len = vdf_disps_encode_hello(&h, buf, sizeof(buf));
	assert_int_equal(vdf_fdmsg_send(sv[0], buf, (size_t)len, NULL, 0), 0);
	assert_int_equal(vdf_disps_recv_hello(sv[1], &hin, &got, 0), -EBADMSG);
	assert_int_equal(got, -1);
	assert_int_equal(vdf_fdmsg_send(sv[0], buf, (size_t)len, two, 2), 0);
	assert_int_equal(vdf_disps_recv_hello(sv[1], &hin, &got, 0), -EBADMSG);
	assert_int_equal(got, -1);
	assert_int_equal(count_fds(), before);
	/* A bad HELLO with its one fd: refused, the fd closed. */
	buf[OFF_HELLO_RESERVED] = 1;
	assert_int_equal(vdf_fdmsg_send(sv[0], buf, (size_t)len, &memfd, 1), 0);
	assert_int_equal(vdf_disps_recv_hello(sv[1], &hin, &got, 0), -EBADMSG);
	assert_int_equal(got, -1);
	assert_int_equal(count_fds(), before);
	/* A request where a HELLO belongs, with an fd. */
	len = vdf_disps_encode_request(&rq, buf, sizeof(buf));
	assert_int_equal(vdf_fdmsg_send(sv[0], buf, (size_t)len, &memfd, 1), 0);
	assert_int_equal(vdf_disps_recv_hello(sv[1], &hin, &got, MSG_DONTWAIT), -EBADMSG);
	assert_int_equal(count_fds(), before);

	/* Another type, another version, an over-long datagram: -EBADMSG. */
	len = vdf_disps_encode_reply(&rp, buf, sizeof(buf));
	assert_int_equal(vdf_fdmsg_send(sv[1], buf, (size_t)len, NULL, 0), 0);
	assert_int_equal(vdf_disps_recv_welcome(sv[0], &win, 1000), -EBADMSG);
	len = vdf_disps_encode_reply(&rp, buf, sizeof(buf));
	buf[4] = 2;
	assert_int_equal(vdf_fdmsg_send(sv[1], buf, (size_t)len, NULL, 0), 0);
	assert_int_equal(vdf_disps_recv_reply(sv[0], &rpin, 1000), -EBADMSG);
	memset(buf, 0, sizeof(buf));
	len = vdf_disps_encode_request(&rq, buf, sizeof(buf));
	assert_int_equal(vdf_fdmsg_send(sv[0], buf, VDF_DISPS_MSG_MAX + 1, NULL, 0), 0);
	assert_int_equal(vdf_disps_recv_request(sv[1], &rqin, 0), -EBADMSG);
	assert_int_equal(vdf_fdmsg_send(sv[0], buf, sizeof(buf), NULL, 0), 0); /* truncated */
	assert_int_equal(vdf_disps_recv_request(sv[1], &rqin, 0), -EBADMSG);
	len = vdf_disps_encode_request(&rq, buf, sizeof(buf));
	assert_int_equal(vdf_fdmsg_send(sv[0], buf, (size_t)len + 1, NULL, 0), 0);
	assert_int_equal(vdf_disps_recv_request(sv[1], &rqin, 0), -EBADMSG);
	assert_int_equal(count_fds(), before);

	/* Nothing sent: timeouts; the peer gone: EOF and EPIPE. */
	assert_int_equal(vdf_disps_recv_reply(sv[0], &rpin, 10), -ETIMEDOUT);
	assert_int_equal(vdf_disps_recv_welcome(sv[0], &win, 0), -ETIMEDOUT);
	close(sv[1]);
	assert_int_equal(vdf_disps_recv_reply(sv[0], &rpin, 1000), -EPIPE);
	assert_int_equal(vdf_disps_recv_reply(sv[0], &rpin, -1), -EPIPE);
	assert_int_equal(vdf_disps_send_request(sv[0], &rq), -EPIPE);
	close(sv[0]);
	close(memfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_frame_bytes),	     cmocka_unit_test(test_mode_rules),
	    cmocka_unit_test(test_hello_rules),	     cmocka_unit_test(test_welcome_rules),
	    cmocka_unit_test(test_request_rules),    cmocka_unit_test(test_reply_rules),
	    cmocka_unit_test(test_hello_codec),	     cmocka_unit_test(test_welcome_codec),
	    cmocka_unit_test(test_request_codec),    cmocka_unit_test(test_reply_codec),
	    cmocka_unit_test(test_socket_roundtrip), cmocka_unit_test(test_socket_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
