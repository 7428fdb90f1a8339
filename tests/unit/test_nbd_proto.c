// SPDX-License-Identifier: MIT
/*
 * NBD export: the codec (lib/nbd/nbd_proto.c) and the connection loop
 * (lib/nbd/nbd_server.c).
 *
 * Codec: every parser on good input and on each kind of malformed input (bad
 * magic, unknown client flags, overlong option, inconsistent INFO/GO lengths,
 * NUL in names, unknown command or flag, offset overflow, past the end,
 * oversized payload, misalignment, read-only), plus errno mapping.
 *
 * Connection: vdf_nbd_serve_conn over a scripted byte stream (input bytes
 * prepared by the test, output collected) with the memory backend and a
 * fault-injecting backend wrapped around it; then the listener over a real
 * unix socket.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>

#include "vdf/log.h"
#include "vdf/nbd.h"

static void quiet_log(int level, const char *component, const char *dev, const char *msg, void *ctx)
{
	(void)level;
	(void)component;
	(void)dev;
	(void)msg;
	(void)ctx;
}

static int group_setup(void **state)
{
	(void)state;
	vdf_log_set_sink(quiet_log, NULL);
	return 0;
}

/* ---- codec -------------------------------------------------------------- */

static void test_be_roundtrip(void **state)
{
	uint8_t b[8];

	(void)state;
	vdf_nbd_put_be16(b, 0x1234);
	assert_int_equal(b[0], 0x12);
	assert_int_equal(vdf_nbd_get_be16(b), 0x1234);
	vdf_nbd_put_be32(b, 0xdeadbeef);
	assert_int_equal(b[0], 0xde);
	assert_int_equal(vdf_nbd_get_be32(b), 0xdeadbeef);
	vdf_nbd_put_be64(b, 0x0102030405060708ull);
	assert_int_equal(b[7], 8);
	assert_true(vdf_nbd_get_be64(b) == 0x0102030405060708ull);
}

static void test_greeting(void **state)
{
	uint8_t g[NBD_GREETING_SIZE];

	(void)state;
	vdf_nbd_encode_greeting(g);
	assert_memory_equal(g, "NBDMAGICIHAVEOPT", 16);
	assert_int_equal(vdf_nbd_get_be16(g + 16), NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
}

static void test_client_flags(void **state)
{
	uint8_t f[4];
	bool nz;

	(void)state;
	vdf_nbd_put_be32(f, 1);
	assert_int_equal(vdf_nbd_parse_client_flags(f, &nz), 0);
	assert_false(nz);
	vdf_nbd_put_be32(f, 3);
	assert_int_equal(vdf_nbd_parse_client_flags(f, &nz), 0);
	assert_true(nz);
	vdf_nbd_put_be32(f, 0); /* old newstyle client */
	assert_int_equal(vdf_nbd_parse_client_flags(f, &nz), -EPROTO);
	vdf_nbd_put_be32(f, 1 | 4); /* flag we never offered */
	assert_int_equal(vdf_nbd_parse_client_flags(f, &nz), -EPROTO);
	vdf_nbd_put_be32(f, 0x80000003u);
	assert_int_equal(vdf_nbd_parse_client_flags(f, &nz), -EPROTO);
}

static void put_opt_hdr(uint8_t *p, uint32_t opt, uint32_t len)
{
	vdf_nbd_put_be64(p, NBD_OPTS_MAGIC);
	vdf_nbd_put_be32(p + 8, opt);
	vdf_nbd_put_be32(p + 12, len);
}

static void test_opt_hdr(void **state)
{
	struct vdf_nbd_opt_hdr oh;
	uint8_t h[NBD_OPT_HDR_SIZE];

	(void)state;
	put_opt_hdr(h, NBD_OPT_GO, 10);
	assert_int_equal(vdf_nbd_parse_opt_hdr(h, 100, &oh), 0);
	assert_int_equal(oh.option, NBD_OPT_GO);
	assert_int_equal(oh.length, 10);
	put_opt_hdr(h, NBD_OPT_GO, 101);
	assert_int_equal(vdf_nbd_parse_opt_hdr(h, 100, &oh), -E2BIG);
	assert_int_equal(oh.length, 101);
	put_opt_hdr(h, NBD_OPT_GO, 0xffffffffu);
	assert_int_equal(vdf_nbd_parse_opt_hdr(h, VDF_NBD_MAX_OPT_LEN, &oh), -E2BIG);
	h[0] ^= 1;
	assert_int_equal(vdf_nbd_parse_opt_hdr(h, 100, &oh), -EPROTO);
}

/* INFO/GO data: name, then the info types. */
static uint32_t make_info(uint8_t *p, const char *name, uint32_t name_len, uint16_t n,
			  const uint16_t *types)
{
	uint32_t i;

	vdf_nbd_put_be32(p, name_len);
	memcpy(p + 4, name, name_len);
	vdf_nbd_put_be16(p + 4 + name_len, n);
	for (i = 0; i < n; i++)
		vdf_nbd_put_be16(p + 6 + name_len + 2 * i, types[i]);
	return 6 + name_len + 2 * n;
}

static void test_info_req(void **state)
{
	static uint8_t buf[8192];
	struct vdf_nbd_info_req r;
	uint16_t types[2] = {NBD_INFO_NAME, NBD_INFO_BLOCK_SIZE};
	uint32_t len;

	(void)state;
	len = make_info(buf, "disk", 4, 2, types);
	assert_int_equal(vdf_nbd_parse_info_req(buf, len, &r), 0);
	assert_int_equal(r.name_len, 4);
	assert_memory_equal(r.name, "disk", 4);
	assert_int_equal(r.n_info, 2);
	assert_true(r.want_block_size);

	len = make_info(buf, "", 0, 0, NULL);
	assert_int_equal(vdf_nbd_parse_info_req(buf, len, &r), 0);
	assert_false(r.want_block_size);

	/* short: fewer than 6 bytes */
	assert_int_equal(vdf_nbd_parse_info_req(buf, 5, &r), -EINVAL);
	assert_int_equal(vdf_nbd_parse_info_req(buf, 0, &r), -EINVAL);
	/* trailing byte, and a missing one */
	len = make_info(buf, "disk", 4, 1, types);
	assert_int_equal(vdf_nbd_parse_info_req(buf, len + 1, &r), -EINVAL);
	assert_int_equal(vdf_nbd_parse_info_req(buf, len - 1, &r), -EINVAL);
	/* name length beyond the option */
	vdf_nbd_put_be32(buf, 0xfffffff0u);
	assert_int_equal(vdf_nbd_parse_info_req(buf, len, &r), -EINVAL);
	/* NUL in the name */
	len = make_info(buf, "di\0k", 4, 0, NULL);
	assert_int_equal(vdf_nbd_parse_info_req(buf, len, &r), -EINVAL);
	/* name over 4096 bytes */
	memset(buf + 4, 'a', 4097);
	vdf_nbd_put_be32(buf, 4097);
	vdf_nbd_put_be16(buf + 4 + 4097, 0);
	assert_int_equal(vdf_nbd_parse_info_req(buf, 4097 + 6, &r), -EINVAL);
	/* n_info claims more than present */
	len = make_info(buf, "x", 1, 0, NULL);
	vdf_nbd_put_be16(buf + 5, 0xffff);
	assert_int_equal(vdf_nbd_parse_info_req(buf, len, &r), -EINVAL);
}

static void test_request_codec(void **state)
{
	struct vdf_nbd_request in = {.flags = NBD_CMD_FLAG_FUA,
				     .type = NBD_CMD_WRITE,
				     .cookie = 0x1122334455667788ull,
				     .offset = 4096,
				     .length = 512},
			       out;
	uint8_t b[NBD_REQUEST_SIZE], r[NBD_SIMPLE_REPLY_SIZE];

	(void)state;
	vdf_nbd_encode_request(b, &in);
	assert_int_equal(vdf_nbd_parse_request(b, &out), 0);
	assert_int_equal(out.flags, in.flags);
	assert_int_equal(out.type, in.type);
	assert_true(out.cookie == in.cookie);
	assert_int_equal(out.offset, in.offset);
	assert_int_equal(out.length, in.length);
	b[3] ^= 0x10;
	assert_int_equal(vdf_nbd_parse_request(b, &out), -EPROTO);

	vdf_nbd_encode_simple_reply(r, NBD_EIO, 42);
	assert_int_equal(vdf_nbd_get_be32(r), NBD_SIMPLE_REPLY_MAGIC);
	assert_int_equal(vdf_nbd_get_be32(r + 4), NBD_EIO);
	assert_int_equal(vdf_nbd_get_be64(r + 8), 42);
}

#define SZ (1u << 20)
#define TF_ALL                                                                               \
	(NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH | NBD_FLAG_SEND_FUA | NBD_FLAG_SEND_TRIM | \
	 NBD_FLAG_SEND_WRITE_ZEROES)

static enum vdf_nbd_verdict chk(uint16_t type, uint16_t flags, uint64_t off, uint32_t len,
				uint16_t tflags, uint32_t min_block, uint32_t *err)
{
	struct vdf_nbd_request r = {
	    .type = type, .flags = flags, .offset = off, .length = len, .cookie = 1};

	return vdf_nbd_check_request(&r, SZ, tflags, min_block, err);
}

static void test_check_request(void **state)
{
	uint32_t err;

	(void)state;
	/* good ones */
	assert_int_equal(chk(NBD_CMD_READ, 0, 0, SZ, TF_ALL, 1, &err), VDF_NBD_SERVE);
	assert_int_equal(chk(NBD_CMD_WRITE, NBD_CMD_FLAG_FUA, SZ - 1, 1, TF_ALL, 1, &err),
			 VDF_NBD_SERVE);
	assert_int_equal(chk(NBD_CMD_WRITE_ZEROES, NBD_CMD_FLAG_NO_HOLE, 0, SZ, TF_ALL, 1, &err),
			 VDF_NBD_SERVE);
	assert_int_equal(chk(NBD_CMD_TRIM, 0, 512, 512, TF_ALL, 512, &err), VDF_NBD_SERVE);
	assert_int_equal(chk(NBD_CMD_FLUSH, 0, 0, 0, TF_ALL, 1, &err), VDF_NBD_SERVE);
	assert_int_equal(chk(NBD_CMD_DISC, 0xffff, ~0ull, ~0u, 0, 1, &err), VDF_NBD_SERVE);
	assert_int_equal(chk(NBD_CMD_READ, 0, SZ, 0, TF_ALL, 1, &err), VDF_NBD_SERVE);

	/* past the end / overflow */
	assert_int_equal(chk(NBD_CMD_READ, 0, SZ, 1, TF_ALL, 1, &err), VDF_NBD_REPLY_ERROR);
	assert_int_equal(err, NBD_EINVAL);
	assert_int_equal(chk(NBD_CMD_TRIM, 0, SZ - 1, 2, TF_ALL, 1, &err), VDF_NBD_REPLY_ERROR);
	assert_int_equal(err, NBD_EINVAL);
	assert_int_equal(chk(NBD_CMD_WRITE, 0, SZ - 1, 2, TF_ALL, 1, &err), VDF_NBD_REPLY_ERROR);
	assert_int_equal(err, NBD_ENOSPC);
	assert_int_equal(chk(NBD_CMD_WRITE_ZEROES, 0, SZ, 1, TF_ALL, 1, &err), VDF_NBD_REPLY_ERROR);
	assert_int_equal(err, NBD_ENOSPC);
	assert_int_equal(chk(NBD_CMD_READ, 0, ~0ull - 10, 512, TF_ALL, 1, &err),
			 VDF_NBD_REPLY_ERROR);
	assert_int_equal(err, NBD_EINVAL);
	assert_int_equal(chk(NBD_CMD_WRITE, 0, ~0ull, 1, TF_ALL, 1, &err), VDF_NBD_REPLY_ERROR);
	assert_int_equal(err, NBD_EINVAL);

	/* unknown command, unknown flag, flag on the wrong command */
	assert_int_equal(chk(5, 0, 0, 1, TF_ALL, 1, &err), VDF_NBD_REPLY_ERROR);
	assert_int_equal(err, NBD_EINVAL);
	assert_int_equal(chk(0xffff, 0, 0, 1, TF_ALL, 1, &err), VDF_NBD_REPLY_ERROR);
	assert_int_equal(err, NBD_EINVAL);
	assert_int_equal(chk(NBD_CMD_READ, 0x80, 0, 1, TF_ALL, 1, &err), VDF_NBD_REPLY_ERROR);
	assert_int_equal(err, NBD_EINVAL);
	assert_int_equal(chk(NBD_CMD_WRITE, NBD_CMD_FLAG_NO_HOLE, 0, 1, TF_ALL, 1, &err),
			 VDF_NBD_REPLY_ERROR);
	assert_int_equal(err, NBD_EINVAL);

	/* commands and flags the export does not advertise */
	assert_int_equal(chk(NBD_CMD_TRIM, 0, 0, 1, NBD_FLAG_HAS_FLAGS, 1, &err),
			 VDF_NBD_REPLY_ERROR);
	assert_int_equal(err, NBD_EINVAL);
	assert_int_equal(chk(NBD_CMD_FLUSH, 0, 0, 0, NBD_FLAG_HAS_FLAGS, 1, &err),
			 VDF_NBD_REPLY_ERROR);
	assert_int_equal(chk(NBD_CMD_WRITE_ZEROES, 0, 0, 1, NBD_FLAG_HAS_FLAGS, 1, &err),
			 VDF_NBD_REPLY_ERROR);
	assert_int_equal(chk(NBD_CMD_WRITE, NBD_CMD_FLAG_FUA, 0, 1, NBD_FLAG_HAS_FLAGS, 1, &err),
			 VDF_NBD_REPLY_ERROR);
	assert_int_equal(err, NBD_EINVAL);
	/* FLUSH with an offset or a length */
	assert_int_equal(chk(NBD_CMD_FLUSH, 0, 1, 0, TF_ALL, 1, &err), VDF_NBD_REPLY_ERROR);
	assert_int_equal(chk(NBD_CMD_FLUSH, 0, 0, 1, TF_ALL, 1, &err), VDF_NBD_REPLY_ERROR);

	/* read-only */
	assert_int_equal(chk(NBD_CMD_WRITE, 0, 0, 1, TF_ALL | NBD_FLAG_READ_ONLY, 1, &err),
			 VDF_NBD_REPLY_ERROR);
	assert_int_equal(err, NBD_EPERM);
	assert_int_equal(chk(NBD_CMD_TRIM, 0, 0, 1, TF_ALL | NBD_FLAG_READ_ONLY, 1, &err),
			 VDF_NBD_REPLY_ERROR);
	assert_int_equal(err, NBD_EPERM);
	assert_int_equal(chk(NBD_CMD_READ, 0, 0, 1, TF_ALL | NBD_FLAG_READ_ONLY, 1, &err),
			 VDF_NBD_SERVE);

	/* alignment to the minimum block size */
	assert_int_equal(chk(NBD_CMD_READ, 0, 256, 512, TF_ALL, 512, &err), VDF_NBD_REPLY_ERROR);
	assert_int_equal(err, NBD_EINVAL);
	assert_int_equal(chk(NBD_CMD_READ, 0, 512, 256, TF_ALL, 512, &err), VDF_NBD_REPLY_ERROR);

	/* oversized: READ gets EOVERFLOW, WRITE hangs up, TRIM/ZEROES are fine */
	assert_int_equal(chk(NBD_CMD_READ, 0, 0, VDF_NBD_MAX_PAYLOAD + 1, TF_ALL, 1, &err),
			 VDF_NBD_REPLY_ERROR);
	assert_int_equal(err, NBD_EOVERFLOW);
	assert_int_equal(chk(NBD_CMD_WRITE, 0, 0, VDF_NBD_MAX_PAYLOAD + 1, TF_ALL, 1, &err),
			 VDF_NBD_HANG_UP);
	assert_int_equal(chk(NBD_CMD_WRITE, 0, 0, ~0u, TF_ALL | NBD_FLAG_READ_ONLY, 1, &err),
			 VDF_NBD_HANG_UP);
	assert_int_equal(chk(NBD_CMD_WRITE, 0, 0, VDF_NBD_MAX_PAYLOAD, TF_ALL, 1, &err),
			 VDF_NBD_REPLY_ERROR); /* fits the limit, but past the 1 MiB end */
	assert_int_equal(err, NBD_ENOSPC);
}

static void test_errno_map(void **state)
{
	(void)state;
	assert_int_equal(vdf_nbd_errno_to_nbd(0), NBD_OK);
	assert_int_equal(vdf_nbd_errno_to_nbd(-EIO), NBD_EIO);
	assert_int_equal(vdf_nbd_errno_to_nbd(-EPERM), NBD_EPERM);
	assert_int_equal(vdf_nbd_errno_to_nbd(-EROFS), NBD_EPERM);
	assert_int_equal(vdf_nbd_errno_to_nbd(-ENOMEM), NBD_ENOMEM);
	assert_int_equal(vdf_nbd_errno_to_nbd(-EINVAL), NBD_EINVAL);
	assert_int_equal(vdf_nbd_errno_to_nbd(-ENOSPC), NBD_ENOSPC);
	assert_int_equal(vdf_nbd_errno_to_nbd(-EOVERFLOW), NBD_EOVERFLOW);
	assert_int_equal(vdf_nbd_errno_to_nbd(-ESHUTDOWN), NBD_ESHUTDOWN);
	assert_int_equal(vdf_nbd_errno_to_nbd(-ETIMEDOUT), NBD_EIO);
	assert_string_equal(vdf_nbd_cmd_name(NBD_CMD_WRITE_ZEROES), "WRITE_ZEROES");
	assert_string_equal(vdf_nbd_opt_name(NBD_OPT_GO), "GO");
	assert_string_equal(vdf_nbd_opt_name(99), "unknown");
}

/* ---- connection over a scripted stream -------------------------------- */

struct script {
	uint8_t in[1 << 16];
	size_t in_len, in_pos;
	uint8_t *out;
	size_t out_len, out_cap, out_pos;
};

static int script_read(void *ctx, void *buf, size_t len)
{
	struct script *s = ctx;

	if (len > s->in_len - s->in_pos)
		return -ECONNRESET;
	memcpy(buf, s->in + s->in_pos, len);
	s->in_pos += len;
	return 0;
}

static int script_write(void *ctx, const void *buf, size_t len)
{
	struct script *s = ctx;

	if (s->out_len + len > s->out_cap) {
		s->out_cap = (s->out_len + len) * 2;
		s->out = realloc(s->out, s->out_cap);
		assert_non_null(s->out);
	}
	memcpy(s->out + s->out_len, buf, len);
	s->out_len += len;
	return 0;
}

static void in_bytes(struct script *s, const void *p, size_t len)
{
	assert_true(s->in_len + len <= sizeof(s->in));
	if (len == 0)
		return;
	memcpy(s->in + s->in_len, p, len);
	s->in_len += len;
}

static void in_be32(struct script *s, uint32_t v)
{
	uint8_t b[4];

	vdf_nbd_put_be32(b, v);
	in_bytes(s, b, 4);
}

static void in_opt(struct script *s, uint32_t opt, const void *data, uint32_t len)
{
	uint8_t h[NBD_OPT_HDR_SIZE];

	put_opt_hdr(h, opt, len);
	in_bytes(s, h, sizeof(h));
	in_bytes(s, data, len);
}

static void in_go(struct script *s, uint32_t opt, const char *name)
{
	uint8_t buf[64];
	uint16_t t = NBD_INFO_BLOCK_SIZE;

	in_opt(s, opt, buf, make_info(buf, name, (uint32_t)strlen(name), 1, &t));
}

static void in_req(struct script *s, uint16_t type, uint16_t flags, uint64_t cookie, uint64_t off,
		   uint32_t len)
{
	struct vdf_nbd_request r = {
	    .type = type, .flags = flags, .cookie = cookie, .offset = off, .length = len};
	uint8_t b[NBD_REQUEST_SIZE];

	vdf_nbd_encode_request(b, &r);
	in_bytes(s, b, sizeof(b));
}

static const uint8_t *out_take(struct script *s, size_t len)
{
	const uint8_t *p;

	assert_true(s->out_pos + len <= s->out_len);
	p = s->out + s->out_pos;
	s->out_pos += len;
	return p;
}

/* Expect an option reply; returns its data. */
static const uint8_t *out_rep(struct script *s, uint32_t opt, uint32_t type, uint32_t *len)
{
	const uint8_t *h = out_take(s, NBD_REP_HDR_SIZE);

	assert_true(vdf_nbd_get_be64(h) == NBD_REP_MAGIC);
	assert_int_equal(vdf_nbd_get_be32(h + 8), opt);
	assert_int_equal(vdf_nbd_get_be32(h + 12), type);
	*len = vdf_nbd_get_be32(h + 16);
	return out_take(s, *len);
}

static void out_simple(struct script *s, uint32_t err, uint64_t cookie)
{
	const uint8_t *r = out_take(s, NBD_SIMPLE_REPLY_SIZE);

	assert_int_equal(vdf_nbd_get_be32(r), NBD_SIMPLE_REPLY_MAGIC);
	assert_int_equal(vdf_nbd_get_be32(r + 4), err);
	assert_int_equal(vdf_nbd_get_be64(r + 8), cookie);
}

/* Fault injection: a backend wrapping the memory one, failing on demand. */
static int fail_next = 0;
static void *mem_ctx;

static uint64_t f_size(void *c)
{
	return vdf_nbd_mem_backend_ops.size(c);
}
static int f_read(void *c, uint64_t o, uint32_t l, void *b)
{
	return fail_next ? fail_next : vdf_nbd_mem_backend_ops.read(c, o, l, b);
}
static int f_write(void *c, uint64_t o, uint32_t l, const void *b, bool fua)
{
	return fail_next ? fail_next : vdf_nbd_mem_backend_ops.write(c, o, l, b, fua);
}
static int f_flush(void *c)
{
	(void)c;
	return fail_next;
}

static const struct vdf_nbd_backend_ops faulty_ops = {
    .size = f_size, .read = f_read, .write = f_write, .flush = f_flush,
    /* no trim, no write_zeroes: exercised as "not advertised" and "emulated" */
};

struct session {
	struct script s;
	struct vdf_nbd_export exp;
	struct vdf_nbd_io io;
};

static int sess_setup(void **state)
{
	struct session *x = calloc(1, sizeof(*x));

	assert_non_null(x);
	assert_int_equal(vdf_nbd_mem_backend_create(SZ, &mem_ctx), 0);
	x->exp = (struct vdf_nbd_export){
	    .name = "disk", .description = "test", .ops = &vdf_nbd_mem_backend_ops, .ctx = mem_ctx};
	x->io = (struct vdf_nbd_io){.read = script_read, .write = script_write, .ctx = &x->s};
	fail_next = 0;
	*state = x;
	return 0;
}

static int sess_teardown(void **state)
{
	struct session *x = *state;

	vdf_nbd_mem_backend_destroy(mem_ctx);
	free(x->s.out);
	free(x);
	return 0;
}

static void expect_greeting(struct script *s)
{
	const uint8_t *g = out_take(s, NBD_GREETING_SIZE);

	assert_memory_equal(g, "NBDMAGICIHAVEOPT", 16);
}

static void expect_go_ok(struct script *s, uint32_t opt, uint16_t tflags)
{
	const uint8_t *d;
	uint32_t len;

	d = out_rep(s, opt, NBD_REP_INFO, &len);
	assert_int_equal(len, NBD_INFO_EXPORT_SIZE);
	assert_int_equal(vdf_nbd_get_be16(d), NBD_INFO_EXPORT);
	assert_true(vdf_nbd_get_be64(d + 2) == SZ);
	assert_int_equal(vdf_nbd_get_be16(d + 10), tflags);
	d = out_rep(s, opt, NBD_REP_INFO, &len);
	assert_int_equal(len, NBD_INFO_BLOCK_SIZE_SIZE);
	assert_int_equal(vdf_nbd_get_be16(d), NBD_INFO_BLOCK_SIZE);
	assert_int_equal(vdf_nbd_get_be32(d + 10), VDF_NBD_MAX_PAYLOAD);
	out_rep(s, opt, NBD_REP_ACK, &len);
	assert_int_equal(len, 0);
}

static void test_session_io(void **state)
{
	struct session *x = *state;
	struct script *s = &x->s;
	uint8_t data[4096];
	const uint8_t *r;
	uint32_t len;

	memset(data, 0x5a, sizeof(data));
	in_be32(s, NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES);
	in_opt(s, NBD_OPT_STRUCTURED_REPLY, NULL, 0); /* unsupported */
	in_opt(s, NBD_OPT_LIST, NULL, 0);
	in_opt(s, NBD_OPT_LIST, "x", 1); /* LIST takes no data */
	in_go(s, NBD_OPT_INFO, "nope");
	in_go(s, NBD_OPT_INFO, "disk");
	in_go(s, NBD_OPT_GO, "");
	in_req(s, NBD_CMD_WRITE, NBD_CMD_FLAG_FUA, 1, 100, sizeof(data));
	in_bytes(s, data, sizeof(data));
	in_req(s, NBD_CMD_READ, 0, 2, 100, sizeof(data));
	in_req(s, NBD_CMD_WRITE_ZEROES, NBD_CMD_FLAG_NO_HOLE, 3, 200, 100);
	in_req(s, NBD_CMD_READ, 0, 4, 200, 100);
	in_req(s, NBD_CMD_TRIM, 0, 5, 0, 4096);
	in_req(s, NBD_CMD_FLUSH, 0, 6, 0, 0);
	in_req(s, NBD_CMD_READ, 0, 7, SZ, 1);	   /* past the end */
	in_req(s, NBD_CMD_WRITE, 0, 8, SZ - 1, 2); /* past the end, payload dropped */
	in_bytes(s, "ab", 2);
	in_req(s, 9, 0, 9, 0, 0);	      /* unknown command */
	in_req(s, NBD_CMD_READ, 0, 10, 0, 0); /* zero length */
	in_req(s, NBD_CMD_DISC, 0, 11, 0, 0);

	assert_int_equal(vdf_nbd_serve_conn(&x->exp, &x->io), 0);
	assert_int_equal(s->in_pos, s->in_len);

	expect_greeting(s);
	out_rep(s, NBD_OPT_STRUCTURED_REPLY, NBD_REP_ERR_UNSUP, &len);
	r = out_rep(s, NBD_OPT_LIST, NBD_REP_SERVER, &len);
	assert_int_equal(vdf_nbd_get_be32(r), 4);
	assert_memory_equal(r + 4, "disktest", 8);
	out_rep(s, NBD_OPT_LIST, NBD_REP_ACK, &len);
	out_rep(s, NBD_OPT_LIST, NBD_REP_ERR_INVALID, &len);
	out_rep(s, NBD_OPT_INFO, NBD_REP_ERR_UNKNOWN, &len);
	expect_go_ok(s, NBD_OPT_INFO, vdf_nbd_export_tflags(&x->exp));
	expect_go_ok(s, NBD_OPT_GO, vdf_nbd_export_tflags(&x->exp));

	out_simple(s, 0, 1);
	out_simple(s, 0, 2);
	assert_memory_equal(out_take(s, sizeof(data)), data, sizeof(data));
	out_simple(s, 0, 3);
	out_simple(s, 0, 4);
	r = out_take(s, 100);
	for (len = 0; len < 100; len++)
		assert_int_equal(r[len], 0);
	out_simple(s, 0, 5);
	out_simple(s, 0, 6);
	out_simple(s, NBD_EINVAL, 7);
	out_simple(s, NBD_ENOSPC, 8);
	out_simple(s, NBD_EINVAL, 9);
	out_simple(s, 0, 10);
	assert_int_equal(s->out_pos, s->out_len); /* nothing for DISC */
}

static void test_session_export_name(void **state)
{
	struct session *x = *state;
	struct script *s = &x->s;
	const uint8_t *r;

	/* Without NO_ZEROES: size, flags and 124 zero bytes. */
	in_be32(s, NBD_FLAG_C_FIXED_NEWSTYLE);
	in_opt(s, NBD_OPT_EXPORT_NAME, "disk", 4);
	in_req(s, NBD_CMD_DISC, 0, 1, 0, 0);
	assert_int_equal(vdf_nbd_serve_conn(&x->exp, &x->io), 0);
	expect_greeting(s);
	r = out_take(s, 10 + NBD_EXPORT_NAME_PAD);
	assert_true(vdf_nbd_get_be64(r) == SZ);
	assert_int_equal(vdf_nbd_get_be16(r + 8), vdf_nbd_export_tflags(&x->exp));
	assert_int_equal(r[10 + NBD_EXPORT_NAME_PAD - 1], 0);
	assert_int_equal(s->out_pos, s->out_len);
}

static void test_session_export_name_unknown(void **state)
{
	struct session *x = *state;

	in_be32(&x->s, NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES);
	in_opt(&x->s, NBD_OPT_EXPORT_NAME, "other", 5);
	assert_int_equal(vdf_nbd_serve_conn(&x->exp, &x->io), -EPROTO);
	assert_int_equal(x->s.out_len, NBD_GREETING_SIZE); /* no reply: just closed */
}

static void test_session_abort(void **state)
{
	struct session *x = *state;
	uint32_t len;

	in_be32(&x->s, NBD_FLAG_C_FIXED_NEWSTYLE);
	in_opt(&x->s, NBD_OPT_ABORT, NULL, 0);
	assert_int_equal(vdf_nbd_serve_conn(&x->exp, &x->io), 0);
	expect_greeting(&x->s);
	out_rep(&x->s, NBD_OPT_ABORT, NBD_REP_ACK, &len);
}

static void test_session_bad_flags(void **state)
{
	struct session *x = *state;

	in_be32(&x->s, 0xffffffffu);
	assert_int_equal(vdf_nbd_serve_conn(&x->exp, &x->io), -EPROTO);
}

static void test_session_bad_opt_magic(void **state)
{
	struct session *x = *state;
	uint8_t junk[NBD_OPT_HDR_SIZE] = "IHAVEOPX";

	in_be32(&x->s, NBD_FLAG_C_FIXED_NEWSTYLE);
	in_bytes(&x->s, junk, sizeof(junk));
	assert_int_equal(vdf_nbd_serve_conn(&x->exp, &x->io), -EPROTO);
}

static void test_session_short_reads(void **state)
{
	struct session *x = *state;
	uint8_t h[NBD_OPT_HDR_SIZE];

	/* EOF inside the flags, the option header, the option data, a request
	 * and a WRITE payload: every one ends the connection with -ECONNRESET. */
	in_bytes(&x->s, "\0\0", 2);
	assert_int_equal(vdf_nbd_serve_conn(&x->exp, &x->io), -ECONNRESET);

	x->s.in_len = x->s.in_pos = x->s.out_len = 0;
	in_be32(&x->s, 1);
	put_opt_hdr(h, NBD_OPT_GO, 0);
	in_bytes(&x->s, h, 10);
	assert_int_equal(vdf_nbd_serve_conn(&x->exp, &x->io), -ECONNRESET);

	x->s.in_len = x->s.in_pos = x->s.out_len = 0;
	in_be32(&x->s, 1);
	put_opt_hdr(h, NBD_OPT_GO, 100);
	in_bytes(&x->s, h, sizeof(h));
	in_bytes(&x->s, "abc", 3);
	assert_int_equal(vdf_nbd_serve_conn(&x->exp, &x->io), -ECONNRESET);

	x->s.in_len = x->s.in_pos = x->s.out_len = 0;
	in_be32(&x->s, 3);
	in_go(&x->s, NBD_OPT_GO, "disk");
	in_req(&x->s, NBD_CMD_WRITE, 0, 1, 0, 512);
	in_bytes(&x->s, "abc", 3);
	assert_int_equal(vdf_nbd_serve_conn(&x->exp, &x->io), -ECONNRESET);

	x->s.in_len = x->s.in_pos = x->s.out_len = 0;
	in_be32(&x->s, 3);
	in_go(&x->s, NBD_OPT_GO, "disk");
	in_bytes(&x->s, "\x25\x60\x95\x13", 4);
	assert_int_equal(vdf_nbd_serve_conn(&x->exp, &x->io), -ECONNRESET);
}

static void test_session_overlong_option(void **state)
{
	struct session *x = *state;
	static uint8_t big[VDF_NBD_MAX_OPT_LEN + 1];
	uint8_t h[NBD_OPT_HDR_SIZE];
	uint32_t len;

	/* Over our limit but drainable: NBD_REP_ERR_TOO_BIG, then go on. */
	in_be32(&x->s, 1);
	in_opt(&x->s, NBD_OPT_GO, big, sizeof(big));
	in_opt(&x->s, NBD_OPT_ABORT, NULL, 0);
	assert_int_equal(vdf_nbd_serve_conn(&x->exp, &x->io), 0);
	expect_greeting(&x->s);
	out_rep(&x->s, NBD_OPT_GO, NBD_REP_ERR_TOO_BIG, &len);
	out_rep(&x->s, NBD_OPT_ABORT, NBD_REP_ACK, &len);

	/* Gigabytes: hang up at once without reading them. */
	x->s.in_len = x->s.in_pos = x->s.out_len = x->s.out_pos = 0;
	in_be32(&x->s, 1);
	put_opt_hdr(h, NBD_OPT_GO, 0xfffffff0u);
	in_bytes(&x->s, h, sizeof(h));
	assert_int_equal(vdf_nbd_serve_conn(&x->exp, &x->io), -EPROTO);
	/* An overlong EXPORT_NAME cannot be answered: hang up. */
	x->s.in_len = x->s.in_pos = x->s.out_len = 0;
	in_be32(&x->s, 1);
	put_opt_hdr(h, NBD_OPT_EXPORT_NAME, VDF_NBD_MAX_OPT_LEN + 1);
	in_bytes(&x->s, h, sizeof(h));
	assert_int_equal(vdf_nbd_serve_conn(&x->exp, &x->io), -EPROTO);
}

static void test_session_too_many_options(void **state)
{
	struct session *x = *state;
	unsigned i;

	in_be32(&x->s, 1);
	for (i = 0; i <= VDF_NBD_MAX_OPTIONS; i++)
		in_opt(&x->s, 77, NULL, 0);
	assert_int_equal(vdf_nbd_serve_conn(&x->exp, &x->io), -EPROTO);
}

static void test_session_bad_request_magic(void **state)
{
	struct session *x = *state;
	uint8_t junk[NBD_REQUEST_SIZE] = {0};

	in_be32(&x->s, 3);
	in_go(&x->s, NBD_OPT_GO, "disk");
	in_bytes(&x->s, junk, sizeof(junk));
	assert_int_equal(vdf_nbd_serve_conn(&x->exp, &x->io), -EPROTO);
}

static void test_session_oversized_write(void **state)
{
	struct session *x = *state;

	in_be32(&x->s, 3);
	in_go(&x->s, NBD_OPT_GO, "disk");
	in_req(&x->s, NBD_CMD_WRITE, 0, 1, 0, VDF_NBD_MAX_PAYLOAD + 1);
	assert_int_equal(vdf_nbd_serve_conn(&x->exp, &x->io), -EPROTO);
}

static void test_session_read_only(void **state)
{
	struct session *x = *state;
	uint32_t len;

	x->exp.read_only = true;
	in_be32(&x->s, 3);
	in_go(&x->s, NBD_OPT_GO, "disk");
	in_req(&x->s, NBD_CMD_WRITE, 0, 1, 0, 3);
	in_bytes(&x->s, "abc", 3);
	in_req(&x->s, NBD_CMD_WRITE_ZEROES, 0, 2, 0, 3);
	in_req(&x->s, NBD_CMD_READ, 0, 3, 0, 3);
	in_req(&x->s, NBD_CMD_DISC, 0, 4, 0, 0);
	assert_int_equal(vdf_nbd_serve_conn(&x->exp, &x->io), 0);
	expect_greeting(&x->s);
	expect_go_ok(&x->s, NBD_OPT_GO, vdf_nbd_export_tflags(&x->exp));
	assert_true(vdf_nbd_export_tflags(&x->exp) & NBD_FLAG_READ_ONLY);
	out_simple(&x->s, NBD_EPERM, 1);
	out_simple(&x->s, NBD_EPERM, 2);
	out_simple(&x->s, 0, 3);
	out_take(&x->s, 3);
	(void)len;
}

static void test_session_backend_errors(void **state)
{
	struct session *x = *state;

	x->exp.ops = &faulty_ops;
	assert_false(vdf_nbd_export_tflags(&x->exp) & NBD_FLAG_SEND_TRIM);
	in_be32(&x->s, 3);
	in_go(&x->s, NBD_OPT_GO, "disk");
	in_req(&x->s, NBD_CMD_WRITE_ZEROES, 0, 1, 10, 3 << 20 >> 2); /* emulated by writes */
	in_req(&x->s, NBD_CMD_TRIM, 0, 2, 0, 512);		     /* not advertised */
	in_req(&x->s, NBD_CMD_READ, 0, 3, 0, 16);
	in_req(&x->s, NBD_CMD_WRITE, 0, 4, 0, 2);
	in_bytes(&x->s, "hi", 2);
	in_req(&x->s, NBD_CMD_FLUSH, 0, 5, 0, 0);
	in_req(&x->s, NBD_CMD_WRITE_ZEROES, 0, 6, 0, 8);
	assert_int_equal(vdf_nbd_serve_conn(&x->exp, &x->io), -ECONNRESET);
	/* Rerun the transmission part with faults injected. */
	expect_greeting(&x->s);
	expect_go_ok(&x->s, NBD_OPT_GO, vdf_nbd_export_tflags(&x->exp));
	out_simple(&x->s, 0, 1);
	out_simple(&x->s, NBD_EINVAL, 2);
	out_simple(&x->s, 0, 3);
	out_take(&x->s, 16);
	out_simple(&x->s, 0, 4);
	out_simple(&x->s, 0, 5);
	out_simple(&x->s, 0, 6);

	x->s.in_len = x->s.in_pos = x->s.out_len = x->s.out_pos = 0;
	in_be32(&x->s, 3);
	in_go(&x->s, NBD_OPT_GO, "disk");
	in_req(&x->s, NBD_CMD_READ, 0, 1, 0, 16);
	in_req(&x->s, NBD_CMD_WRITE, 0, 2, 0, 2);
	in_bytes(&x->s, "hi", 2);
	in_req(&x->s, NBD_CMD_FLUSH, 0, 3, 0, 0);
	in_req(&x->s, NBD_CMD_WRITE, NBD_CMD_FLAG_FUA, 4, 0, 2);
	in_bytes(&x->s, "hi", 2);
	in_req(&x->s, NBD_CMD_DISC, 0, 5, 0, 0);
	fail_next = -EIO;
	assert_int_equal(vdf_nbd_serve_conn(&x->exp, &x->io), 0);
	expect_greeting(&x->s);
	expect_go_ok(&x->s, NBD_OPT_GO, vdf_nbd_export_tflags(&x->exp));
	out_simple(&x->s, NBD_EIO, 1); /* no data after an error */
	out_simple(&x->s, NBD_EIO, 2);
	out_simple(&x->s, NBD_EIO, 3);
	out_simple(&x->s, NBD_EIO, 4);
	assert_int_equal(x->s.out_pos, x->s.out_len);

	x->s.in_len = x->s.in_pos = x->s.out_len = x->s.out_pos = 0;
	in_be32(&x->s, 3);
	in_go(&x->s, NBD_OPT_GO, "disk");
	in_req(&x->s, NBD_CMD_WRITE, 0, 1, 0, 2);
	in_bytes(&x->s, "hi", 2);
	in_req(&x->s, NBD_CMD_READ, 0, 2, 0, 2);
	fail_next = -ESHUTDOWN;
	assert_int_equal(vdf_nbd_serve_conn(&x->exp, &x->io), -ECONNRESET);
	expect_greeting(&x->s);
	expect_go_ok(&x->s, NBD_OPT_GO, vdf_nbd_export_tflags(&x->exp));
	out_simple(&x->s, NBD_ESHUTDOWN, 1);
	out_simple(&x->s, NBD_ESHUTDOWN, 2);
}

/* ---- file backend and the listener over a real unix socket ------------- */

static void test_file_backend(void **state)
{
	char path[] = "/tmp/vdf-nbd-test-XXXXXX";
	uint8_t buf[8];
	void *ctx;
	int fd;

	(void)state;
	assert_int_equal(vdf_nbd_file_backend_create("/nonexistent/x", false, &ctx), -ENOENT);
	assert_null(ctx);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(vdf_nbd_file_backend_create(path, false, &ctx), -EINVAL); /* empty */
	assert_int_equal(ftruncate(fd, 65536), 0);
	assert_int_equal(vdf_nbd_file_backend_create(path, false, &ctx), 0);
	assert_true(vdf_nbd_file_backend_ops.size(ctx) == 65536);
	assert_int_equal(vdf_nbd_file_backend_ops.write(ctx, 100, 8, "abcdefgh", true), 0);
	assert_int_equal(vdf_nbd_file_backend_ops.read(ctx, 100, 8, buf), 0);
	assert_memory_equal(buf, "abcdefgh", 8);
	assert_int_equal(vdf_nbd_file_backend_ops.write_zeroes(ctx, 102, 2, false), 0);
	assert_int_equal(vdf_nbd_file_backend_ops.trim(ctx, 104, 2), 0);
	assert_int_equal(vdf_nbd_file_backend_ops.read(ctx, 100, 8, buf), 0);
	assert_memory_equal(buf, "ab\0\0\0\0gh", 8);
	assert_int_equal(vdf_nbd_file_backend_ops.flush(ctx), 0);
	vdf_nbd_file_backend_destroy(ctx);
	vdf_nbd_file_backend_destroy(NULL);
	close(fd);
	unlink(path);
	assert_int_equal(vdf_nbd_mem_backend_create(0, &ctx), -EINVAL);
	vdf_nbd_mem_backend_destroy(NULL);
}

static void *run_server(void *arg)
{
	vdf_nbd_server_run(arg);
	return NULL;
}

static void test_server_unix(void **state)
{
	struct session *x = *state;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct vdf_nbd_server *srv;
	uint8_t buf[256], g[NBD_GREETING_SIZE];
	pthread_t th;
	int fd, i;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "/tmp/vdf-nbd-test-%d.sock", getpid());
	assert_int_equal(vdf_nbd_server_listen_unix(&x->exp, sa.sun_path, 0, &srv), -EINVAL);
	assert_int_equal(vdf_nbd_server_listen_unix(&x->exp, sa.sun_path, 4, &srv), 0);
	assert_int_equal(pthread_create(&th, NULL, run_server, srv), 0);

	/* A client that says EXPORT_NAME, writes, reads back and disconnects. */
	for (i = 0; i < 2; i++) {
		struct script s = {0};
		size_t off = 0;
		ssize_t n;

		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		assert_true(fd >= 0);
		assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
		assert_int_equal(recv(fd, g, sizeof(g), MSG_WAITALL), sizeof(g));
		in_be32(&s, 3);
		in_opt(&s, NBD_OPT_EXPORT_NAME, "disk", 4);
		in_req(&s, NBD_CMD_WRITE, 0, 7, 10, 4);
		in_bytes(&s, "wxyz", 4);
		in_req(&s, NBD_CMD_READ, 0, 8, 10, 4);
		assert_int_equal(send(fd, s.in, s.in_len, 0), (ssize_t)s.in_len);
		while (off < 10 + 16 + 16 + 4) {
			n = recv(fd, buf + off, sizeof(buf) - off, 0);
			assert_true(n > 0);
			off += (size_t)n;
		}
		assert_memory_equal(buf + 10 + 32, "wxyz", 4);
		close(fd);
	}
	vdf_nbd_server_stop(srv);
	pthread_join(th, NULL);
	vdf_nbd_server_destroy(srv);
	assert_int_equal(access(sa.sun_path, F_OK), -1);
	assert_int_equal(vdf_nbd_server_listen_tcp(&x->exp, "127.0.0.1", "0", 2, &srv), 0);
	vdf_nbd_server_destroy(srv);
}

#define SESS(t) cmocka_unit_test_setup_teardown(t, sess_setup, sess_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_be_roundtrip),
	    cmocka_unit_test(test_greeting),
	    cmocka_unit_test(test_client_flags),
	    cmocka_unit_test(test_opt_hdr),
	    cmocka_unit_test(test_info_req),
	    cmocka_unit_test(test_request_codec),
	    cmocka_unit_test(test_check_request),
	    cmocka_unit_test(test_errno_map),
	    SESS(test_session_io),
	    SESS(test_session_export_name),
	    SESS(test_session_export_name_unknown),
	    SESS(test_session_abort),
	    SESS(test_session_bad_flags),
	    SESS(test_session_bad_opt_magic),
	    SESS(test_session_short_reads),
	    SESS(test_session_overlong_option),
	    SESS(test_session_too_many_options),
	    SESS(test_session_bad_request_magic),
	    SESS(test_session_oversized_write),
	    SESS(test_session_read_only),
	    SESS(test_session_backend_errors),
	    cmocka_unit_test(test_file_backend),
	    SESS(test_server_unix),
	};

	return cmocka_run_group_tests_name("nbd", tests, group_setup, NULL);
}
