// SPDX-License-Identifier: MIT
/*
 * The vdfd control protocol (lib/ipc/ctl_proto.c, vdf/ctl.h) and server
 * (manager/ctl_server.c).
 *
 * Codec: round trips of every command, then every kind of malformed frame
 * (short, bad magic, other version, wrong flags, length mismatch, oversized,
 * empty, NUL bytes, bad JSON, trailing data, wrong types, unknown commands and
 * fields, bad arguments), each with its errno and a readable reason.
 *
 * Server: a real SOCK_SEQPACKET socket in a temp dir, served by an event loop
 * on a second thread, with a stub handler table. Clients are vdf_ctl_call or
 * raw sockets that send garbage, wrong versions, oversized frames, or hang up
 * mid-exchange; after each, a good client must still be served. The
 * permission test forks a child that drops to uid 65534 (root only).
 * "open" answers carry a file descriptor: the tests check that it arrives and
 * works, that vdf_ctl_call closes it, and that the server's copy is closed
 * in every case -- sent, refused, client gone before or during the answer.
 *
 * vdfd's side of "open" (manager/instance.c) is tested here too, on an
 * instance whose driver is a socketpair and whose supervision state is set by
 * hand: brokered at once while serving, refused when stopped or failed, kept
 * while the driver restarts and brokered only to the next generation, failed
 * on failure, stop, timeout, unbind, or when the client left.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>

#include "vdf/ctl.h"
#include "../../manager/ctl_server.h"
#include "../../manager/instance.h"
#include "vdf/event.h"
#include "vdf/log.h"

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

static int group_teardown(void **state)
{
	(void)state;
	vdf_log_set_sink(NULL, NULL);
	return 0;
}

/* A frame with any header fields: length is what the header claims. */
static size_t raw_frame(uint8_t *buf, const char *magic, uint16_t version, uint16_t flags,
			uint32_t length, const void *payload, size_t plen)
{
	struct vdf_ctl_hdr h = {.version = version, .flags = flags, .length = length};

	memcpy(h.magic, magic, 4);
	vdf_ctl_hdr_pack(&h, buf);
	memcpy(buf + VDF_CTL_HDR_SIZE, payload, plen);
	return VDF_CTL_HDR_SIZE + plen;
}

/* A well-framed request carrying an arbitrary payload. */
static size_t req_frame(uint8_t *buf, const char *payload)
{
	size_t n = strlen(payload);

	return raw_frame(buf, VDF_CTL_MAGIC, VDF_CTL_VERSION, 0, (uint32_t)n, payload, n);
}

static uint8_t frame_buf[VDF_CTL_HDR_SIZE + VDF_CTL_MAX_PAYLOAD + 64];
static char errbuf[256];

/* Decode a well-framed payload; check errno and that the reason contains `want`. */
static void expect_payload(const char *payload, int rc, const char *want)
{
	struct vdf_ctl_request req;
	size_t n = req_frame(frame_buf, payload);
	int got = vdf_ctl_decode_request(frame_buf, n, &req, errbuf, sizeof(errbuf));

	if (got != rc || (want && !strstr(errbuf, want)))
		fail_msg("payload %s: got %d '%s', want %d '%s'", payload, got, errbuf, rc,
			 want ? want : "");
}

/* --- names and small validators ------------------------------------------- */

static void test_names(void **state)
{
	(void)state;
	for (int i = 0; i < VDF_CTL_CMD_COUNT; i++)
		assert_int_equal(vdf_ctl_cmd_parse(vdf_ctl_cmd_name((enum vdf_ctl_cmd)i)), i);
	assert_string_equal(vdf_ctl_cmd_name(VDF_CTL_LOG_LEVEL), "log-level");
	assert_null(vdf_ctl_cmd_name(VDF_CTL_CMD_COUNT));
	assert_int_equal(vdf_ctl_cmd_parse("reboot"), -EINVAL);
	assert_int_equal(vdf_ctl_cmd_parse(""), -EINVAL);
	assert_int_equal(vdf_ctl_cmd_parse("LIST"), -EINVAL);

	assert_true(vdf_ctl_cmd_needs_dev(VDF_CTL_INFO));
	assert_true(vdf_ctl_cmd_needs_dev(VDF_CTL_EXPLAIN));
	assert_false(vdf_ctl_cmd_needs_dev(VDF_CTL_STATS));
	assert_true(vdf_ctl_cmd_takes_dev(VDF_CTL_STATS));
	assert_false(vdf_ctl_cmd_takes_dev(VDF_CTL_LIST));
	assert_false(vdf_ctl_cmd_takes_dev(VDF_CTL_LOG_LEVEL));

	assert_int_equal(vdf_ctl_log_level_parse("debug"), LOG_DEBUG);
	assert_int_equal(vdf_ctl_log_level_parse("err"), LOG_ERR);
	assert_int_equal(vdf_ctl_log_level_parse("error"), LOG_ERR);
	assert_int_equal(vdf_ctl_log_level_parse("warn"), LOG_WARNING);
	assert_int_equal(vdf_ctl_log_level_parse("3"), 3);
	assert_int_equal(vdf_ctl_log_level_parse("8"), -EINVAL);
	assert_int_equal(vdf_ctl_log_level_parse("Info"), -EINVAL);
	assert_int_equal(vdf_ctl_log_level_parse(NULL), -EINVAL);
	assert_string_equal(vdf_ctl_log_level_name(LOG_WARNING), "warning");
	assert_string_equal(vdf_ctl_log_level_name(9), "?");

	assert_true(vdf_ctl_dev_valid("0000:00:04.0"));
	assert_true(vdf_ctl_dev_valid("00:04.0"));
	assert_true(vdf_ctl_dev_valid("/pci/0000:00:06.0/usb1-1"));
	assert_true(vdf_ctl_dev_valid("a..b"));
	assert_false(vdf_ctl_dev_valid(""));
	assert_false(vdf_ctl_dev_valid(".."));
	assert_false(vdf_ctl_dev_valid("/pci/../etc"));
	assert_false(vdf_ctl_dev_valid("/pci/.."));
	assert_false(vdf_ctl_dev_valid("a b"));
	assert_false(vdf_ctl_dev_valid("dev\n"));
	assert_false(vdf_ctl_dev_valid(NULL));
}

static void test_header_pack(void **state)
{
	struct vdf_ctl_hdr h = {.magic = "VDFC",
				.version = 0x0201,
				.flags = 0x0403,
				.length = 0x08070605},
			   back;
	uint8_t b[VDF_CTL_HDR_SIZE];
	static const uint8_t want[VDF_CTL_HDR_SIZE] = {'V', 'D', 'F', 'C', 1, 2, 3, 4, 5, 6, 7, 8};

	(void)state;
	vdf_ctl_hdr_pack(&h, b);
	assert_memory_equal(b, want, sizeof(want)); /* little-endian on the wire */
	vdf_ctl_hdr_unpack(b, &back);
	assert_memory_equal(back.magic, "VDFC", 4);
	assert_int_equal(back.version, 0x0201);
	assert_int_equal(back.flags, 0x0403);
	assert_int_equal(back.length, 0x08070605);
}

/* --- requests ------------------------------------------------------------- */

static void test_request_round_trip(void **state)
{
	uint8_t buf[512];

	(void)state;
	for (int cmd = 0; cmd < VDF_CTL_CMD_COUNT; cmd++) {
		for (int variant = 0; variant < 2; variant++) {
			struct vdf_ctl_request in = {.cmd = (enum vdf_ctl_cmd)cmd, .level = -1},
					       out;
			size_t len;

			if (vdf_ctl_cmd_needs_dev(in.cmd) || (in.cmd == VDF_CTL_STATS && variant))
				snprintf(in.dev, sizeof(in.dev), "%s",
					 variant ? "/pci/0000:00:06.0/usb1-1" : "0000:00:04.0");
			if (in.cmd == VDF_CTL_LOG_LEVEL && variant)
				in.level = LOG_NOTICE;
			if (in.cmd == VDF_CTL_CHECK) {
				in.lba = variant ? 123456789012ull : 0;
				in.count = variant ? VDF_CTL_CHECK_MAX_BLOCKS : 1;
			}
			if (in.cmd == VDF_CTL_OPEN) {
				in.read_only = variant;
				in.unit = variant ? VDF_CLIENT_UNIT_MAX : 0;
			}
			assert_int_equal(vdf_ctl_encode_request(&in, buf, sizeof(buf), &len), 0);
			assert_int_equal(
			    vdf_ctl_decode_request(buf, len, &out, errbuf, sizeof(errbuf)), 0);
			assert_string_equal(errbuf, "");
			assert_int_equal(out.cmd, in.cmd);
			assert_string_equal(out.dev, in.dev);
			assert_int_equal(out.level, in.level);
			assert_int_equal(out.lba, in.lba);
			assert_int_equal(out.count, in.count);
			assert_int_equal(out.read_only, in.read_only);
			assert_int_equal(out.unit, in.unit);
		}
	}
}

/* open: mode and unit, their defaults, and refused on other commands. */
static void test_request_open_args(void **state)
{
	struct vdf_ctl_request req;
	uint8_t buf[512];
	size_t n;

	(void)state;
	expect_payload("{\"cmd\":\"open\"}", -EINVAL, "'open' needs 'dev'");
	expect_payload("{\"cmd\":\"open\",\"dev\":\"00:04.0\",\"mode\":\"wo\"}", -EINVAL,
		       "'mode' must be \"ro\" or \"rw\", got 'wo'");
	expect_payload("{\"cmd\":\"open\",\"dev\":\"00:04.0\",\"mode\":\"RO\"}", -EINVAL,
		       "'mode' must be");
	expect_payload("{\"cmd\":\"open\",\"dev\":\"00:04.0\",\"mode\":\"ro\\u0000\"}", -EINVAL,
		       "'mode' must be");
	expect_payload("{\"cmd\":\"open\",\"dev\":\"00:04.0\",\"mode\":\"rwx\"}", -EINVAL,
		       "'mode' must be");
	expect_payload("{\"cmd\":\"open\",\"dev\":\"00:04.0\",\"mode\":true}", -EINVAL,
		       "'mode' must be \"ro\" or \"rw\", got boolean");
	expect_payload("{\"cmd\":\"open\",\"dev\":\"00:04.0\",\"mode\":null}", -EINVAL, "got null");
	expect_payload("{\"cmd\":\"open\",\"dev\":\"00:04.0\",\"unit\":-1}", -EINVAL,
		       "'unit' must be an integer 0..1023");
	expect_payload("{\"cmd\":\"open\",\"dev\":\"00:04.0\",\"unit\":1024}", -EINVAL,
		       "'unit' must be an integer 0..1023");
	expect_payload("{\"cmd\":\"open\",\"dev\":\"00:04.0\",\"unit\":\"1\"}", -EINVAL,
		       "'unit' must be");
	expect_payload("{\"cmd\":\"open\",\"dev\":\"00:04.0\",\"unit\":1.0}", -EINVAL,
		       "'unit' must be");
	expect_payload("{\"cmd\":\"open\",\"dev\":\"00:04.0\",\"unit\":18446744073709551616}",
		       -EINVAL, "'unit' must be");
	expect_payload("{\"cmd\":\"open\",\"dev\":\"00:04.0\",\"ro\":true}", -EINVAL,
		       "unknown field 'ro'");
	expect_payload("{\"cmd\":\"open\",\"dev\":\"00:04.0\",\"lba\":0}", -EINVAL,
		       "'open' takes no 'lba'");
	expect_payload("{\"cmd\":\"check\",\"dev\":\"00:04.0\",\"mode\":\"ro\"}", -EINVAL,
		       "'check' takes no 'mode'");
	expect_payload("{\"cmd\":\"info\",\"dev\":\"00:04.0\",\"unit\":0}", -EINVAL,
		       "'info' takes no 'unit'");
	expect_payload("{\"cmd\":\"list\",\"mode\":\"rw\"}", -EINVAL, "'list' takes no 'mode'");

	/* defaults: read-write, unit 0 */
	n = req_frame(buf, "{\"cmd\":\"open\",\"dev\":\"0000:00:04.0\"}");
	assert_int_equal(vdf_ctl_decode_request(buf, n, &req, errbuf, sizeof(errbuf)), 0);
	assert_int_equal(req.cmd, VDF_CTL_OPEN);
	assert_false(req.read_only);
	assert_int_equal(req.unit, 0);
	n = req_frame(buf, "{\"unit\":1023,\"mode\":\"ro\",\"dev\":\"00:04.0\",\"cmd\":\"open\"}");
	assert_int_equal(vdf_ctl_decode_request(buf, n, &req, errbuf, sizeof(errbuf)), 0);
	assert_true(req.read_only);
	assert_int_equal(req.unit, 1023);
	n = req_frame(buf, "{\"cmd\":\"open\",\"dev\":\"00:04.0\",\"mode\":\"rw\",\"unit\":0}");
	assert_int_equal(vdf_ctl_decode_request(buf, n, &req, errbuf, sizeof(errbuf)), 0);
	assert_false(req.read_only);

	/* the wire form is explicit */
	req = (struct vdf_ctl_request){
	    .cmd = VDF_CTL_OPEN, .dev = "0000:00:04.0", .level = -1, .read_only = true, .unit = 2};
	assert_int_equal(vdf_ctl_encode_request(&req, buf, sizeof(buf), &n), 0);
	assert_int_equal(
	    n - VDF_CTL_HDR_SIZE,
	    strlen("{\"cmd\":\"open\",\"dev\":\"0000:00:04.0\",\"mode\":\"ro\",\"unit\":2}"));
	assert_memory_equal(
	    buf + VDF_CTL_HDR_SIZE,
	    "{\"cmd\":\"open\",\"dev\":\"0000:00:04.0\",\"mode\":\"ro\",\"unit\":2}",
	    n - VDF_CTL_HDR_SIZE);
	/* and the encoder refuses what the decoder would */
	req.unit = VDF_CLIENT_UNIT_MAX + 1;
	assert_int_equal(vdf_ctl_encode_request(&req, buf, sizeof(buf), &n), -EINVAL);
	req = (struct vdf_ctl_request){
	    .cmd = VDF_CTL_INFO, .dev = "0000:00:04.0", .level = -1, .read_only = true};
	assert_int_equal(vdf_ctl_encode_request(&req, buf, sizeof(buf), &n), -EINVAL);
	req.read_only = false;
	req.unit = 1;
	assert_int_equal(vdf_ctl_encode_request(&req, buf, sizeof(buf), &n), -EINVAL);
	req = (struct vdf_ctl_request){.cmd = VDF_CTL_OPEN, .level = -1};
	assert_int_equal(vdf_ctl_encode_request(&req, buf, sizeof(buf), &n), -EINVAL);
}

/* check: lba/count ranges, defaults, and refused on other commands. */
static void test_request_check_args(void **state)
{
	static const char *const bad[] = {
	    "{\"cmd\":\"check\",\"dev\":\"00:04.0\",\"count\":0}",
	    "{\"cmd\":\"check\",\"dev\":\"00:04.0\",\"count\":65537}",
	    "{\"cmd\":\"check\",\"dev\":\"00:04.0\",\"count\":\"8\"}",
	    "{\"cmd\":\"check\",\"dev\":\"00:04.0\",\"lba\":-1}",
	    "{\"cmd\":\"check\",\"dev\":\"00:04.0\",\"lba\":1.5}",
	    "{\"cmd\":\"check\"}",
	    "{\"cmd\":\"list\",\"lba\":1}",
	    "{\"cmd\":\"stats\",\"count\":1}",
	};
	struct vdf_ctl_request out;
	uint8_t buf[512];

	(void)state;
	for (unsigned i = 0; i < VDF_ARRAY_SIZE(bad); i++) {
		size_t n = strlen(bad[i]);
		struct vdf_ctl_hdr h = {.version = VDF_CTL_VERSION, .length = (uint32_t)n};

		memcpy(h.magic, VDF_CTL_MAGIC, 4);
		vdf_ctl_hdr_pack(&h, buf);
		memcpy(buf + VDF_CTL_HDR_SIZE, bad[i], n);
		assert_int_equal(
		    vdf_ctl_decode_request(buf, VDF_CTL_HDR_SIZE + n, &out, errbuf, sizeof(errbuf)),
		    -EINVAL);
		assert_true(errbuf[0] != '\0');
	}
	{
		const char *ok = "{\"cmd\":\"check\",\"dev\":\"00:04.0\"}";
		size_t n = strlen(ok);
		struct vdf_ctl_hdr h = {.version = VDF_CTL_VERSION, .length = (uint32_t)n};

		memcpy(h.magic, VDF_CTL_MAGIC, 4);
		vdf_ctl_hdr_pack(&h, buf);
		memcpy(buf + VDF_CTL_HDR_SIZE, ok, n);
		assert_int_equal(
		    vdf_ctl_decode_request(buf, VDF_CTL_HDR_SIZE + n, &out, errbuf, sizeof(errbuf)),
		    0);
		assert_int_equal(out.lba, 0);
		assert_int_equal(out.count, VDF_CTL_CHECK_DEFAULT_BLOCKS);
	}
}

static void test_request_wire_format(void **state)
{
	struct vdf_ctl_request in = {
	    .cmd = VDF_CTL_RESTART, .dev = "/pci/0000:00:04.0", .level = -1};
	uint8_t buf[512];
	size_t len;
	struct vdf_ctl_hdr h;

	(void)state;
	assert_int_equal(vdf_ctl_encode_request(&in, buf, sizeof(buf), &len), 0);
	vdf_ctl_hdr_unpack(buf, &h);
	assert_memory_equal(h.magic, "VDFC", 4);
	assert_int_equal(h.version, 1);
	assert_int_equal(h.flags, 0);
	assert_int_equal(h.length, len - VDF_CTL_HDR_SIZE);
	/* plain JSON, slashes not escaped */
	assert_int_equal(h.length, strlen("{\"cmd\":\"restart\",\"dev\":\"/pci/0000:00:04.0\"}"));
	assert_memory_equal(buf + VDF_CTL_HDR_SIZE,
			    "{\"cmd\":\"restart\",\"dev\":\"/pci/0000:00:04.0\"}", h.length);
}

static void test_encode_request_rejects(void **state)
{
	struct vdf_ctl_request r = {.cmd = VDF_CTL_LIST, .dev = "0000:00:04.0", .level = -1};
	uint8_t buf[512];
	size_t len;

	(void)state;
	assert_int_equal(vdf_ctl_encode_request(&r, buf, sizeof(buf), &len), -EINVAL);
	r.cmd = VDF_CTL_INFO;
	r.dev[0] = '\0';
	assert_int_equal(vdf_ctl_encode_request(&r, buf, sizeof(buf), &len), -EINVAL);
	snprintf(r.dev, sizeof(r.dev), "../../etc");
	assert_int_equal(vdf_ctl_encode_request(&r, buf, sizeof(buf), &len), -EINVAL);
	snprintf(r.dev, sizeof(r.dev), "0000:00:04.0");
	r.level = LOG_INFO;
	assert_int_equal(vdf_ctl_encode_request(&r, buf, sizeof(buf), &len), -EINVAL);
	r.cmd = VDF_CTL_LOG_LEVEL;
	r.dev[0] = '\0';
	r.level = 8;
	assert_int_equal(vdf_ctl_encode_request(&r, buf, sizeof(buf), &len), -EINVAL);
	r.cmd = VDF_CTL_CMD_COUNT;
	r.level = -1;
	assert_int_equal(vdf_ctl_encode_request(&r, buf, sizeof(buf), &len), -EINVAL);
	r.cmd = VDF_CTL_LIST;
	assert_int_equal(vdf_ctl_encode_request(&r, buf, 20, &len), -ENOBUFS);
	assert_int_equal(vdf_ctl_encode_request(&r, buf, 4, &len), -ENOBUFS);
}

static void expect_frame(const void *buf, size_t len, int rc, const char *want)
{
	struct vdf_ctl_request req;
	int got = vdf_ctl_decode_request(buf, len, &req, errbuf, sizeof(errbuf));

	if (got != rc || !strstr(errbuf, want))
		fail_msg("frame of %zu bytes: got %d '%s', want %d '%s'", len, got, errbuf, rc,
			 want);
	/* a failed decode leaves nothing half-filled */
	assert_int_equal(req.cmd, 0);
	assert_string_equal(req.dev, "");
	assert_int_equal(req.level, -1);
}

static void test_decode_framing(void **state)
{
	static const char list[] = "{\"cmd\":\"list\"}";
	const size_t ll = strlen(list);
	uint8_t *big;
	size_t n;

	(void)state;
	/* short */
	expect_frame(NULL, 0, -EPROTO, "truncated frame: 0 bytes");
	expect_frame("VDFC\1\0", 6, -EPROTO, "truncated frame: 6 bytes, the header alone is 12");
	n = req_frame(frame_buf, list);
	expect_frame(frame_buf, VDF_CTL_HDR_SIZE - 1, -EPROTO, "truncated frame");
	/* bad magic */
	n = raw_frame(frame_buf, "VDFX", 1, 0, (uint32_t)ll, list, ll);
	expect_frame(frame_buf, n, -EPROTO, "bad magic");
	n = raw_frame(frame_buf, "GET ", 1, 0, (uint32_t)ll, list, ll);
	expect_frame(frame_buf, n, -EPROTO, "bad magic");
	/* other versions */
	n = raw_frame(frame_buf, VDF_CTL_MAGIC, 2, 0, (uint32_t)ll, list, ll);
	expect_frame(frame_buf, n, -EPROTONOSUPPORT,
		     "protocol version 2 not supported (this vdfd speaks 1)");
	assert_string_equal(errbuf, "protocol version 2 not supported (this vdfd speaks 1)");
	n = raw_frame(frame_buf, VDF_CTL_MAGIC, 0, 0, (uint32_t)ll, list, ll);
	expect_frame(frame_buf, n, -EPROTONOSUPPORT, "protocol version 0 not supported");
	n = raw_frame(frame_buf, VDF_CTL_MAGIC, 0xffff, 0, (uint32_t)ll, list, ll);
	expect_frame(frame_buf, n, -EPROTONOSUPPORT, "protocol version 65535 not supported");
	/* flags */
	n = raw_frame(frame_buf, VDF_CTL_MAGIC, 1, VDF_CTL_F_RESPONSE, (uint32_t)ll, list, ll);
	expect_frame(frame_buf, n, -EPROTO, "frame is a response, expected a request");
	n = raw_frame(frame_buf, VDF_CTL_MAGIC, 1, 0x8000, (uint32_t)ll, list, ll);
	expect_frame(frame_buf, n, -EPROTO, "unknown flags 0x8000");
	/* length field against the frame */
	n = raw_frame(frame_buf, VDF_CTL_MAGIC, 1, 0, (uint32_t)ll + 1, list, ll);
	expect_frame(frame_buf, n, -EPROTO,
		     "truncated frame: header says 15 payload bytes, got 14");
	n = raw_frame(frame_buf, VDF_CTL_MAGIC, 1, 0, (uint32_t)ll - 1, list, ll);
	expect_frame(frame_buf, n, -EPROTO, "1 extra byte(s) after the 13-byte payload");
	n = raw_frame(frame_buf, VDF_CTL_MAGIC, 1, 0, 0xffffffffu, list, ll);
	expect_frame(frame_buf, n, -EMSGSIZE, "exceeds the limit of 65536");
	/* oversized, really */
	big = malloc(VDF_CTL_HDR_SIZE + VDF_CTL_MAX_PAYLOAD + 1);
	assert_non_null(big);
	memset(big + VDF_CTL_HDR_SIZE, ' ', VDF_CTL_MAX_PAYLOAD + 1);
	raw_frame(big, VDF_CTL_MAGIC, 1, 0, VDF_CTL_MAX_PAYLOAD + 1, "", 0);
	expect_frame(big, VDF_CTL_HDR_SIZE + VDF_CTL_MAX_PAYLOAD + 1, -EMSGSIZE,
		     "payload of 65537 bytes exceeds the limit of 65536");
	/* exactly the limit is framing-valid (then the JSON decides) */
	memcpy(big + VDF_CTL_HDR_SIZE, list, ll);
	raw_frame(big, VDF_CTL_MAGIC, 1, 0, VDF_CTL_MAX_PAYLOAD, "", 0);
	assert_int_equal(vdf_ctl_decode_request(big, VDF_CTL_HDR_SIZE + VDF_CTL_MAX_PAYLOAD,
						&(struct vdf_ctl_request){0}, errbuf,
						sizeof(errbuf)),
			 0);
	free(big);
}

static void test_decode_payload(void **state)
{
	char deep[64] = "";
	uint8_t *p;
	size_t n;

	(void)state;
	expect_payload("", -EBADMSG, "empty payload");
	n = req_frame(frame_buf, "{\"cmd\":\"list\"}");
	p = frame_buf + VDF_CTL_HDR_SIZE;
	p[3] = '\0'; /* NUL inside the payload */
	expect_frame(frame_buf, n, -EBADMSG, "payload contains a NUL byte");

	expect_payload("{", -EBADMSG, "incomplete JSON");
	expect_payload("{\"cmd\":", -EBADMSG, "incomplete JSON");
	expect_payload("{\"cmd\":}", -EBADMSG, "malformed JSON at byte 7");
	expect_payload("{'cmd':'list'}", -EBADMSG, "malformed JSON");
	expect_payload("{\"cmd\":\"list\",}", -EBADMSG, "malformed JSON");
	expect_payload("hello", -EBADMSG, "malformed JSON");
	/* strict json-c stops at what follows the value */
	expect_payload("{\"cmd\":\"list\"} x", -EBADMSG, "malformed JSON at byte 15");
	expect_payload("{\"cmd\":\"list\"}{}", -EBADMSG, "malformed JSON at byte 14");
	expect_payload("{\"cmd\":\"list\"} \n", 0, NULL);
	expect_payload("[\"list\"]", -EBADMSG, "payload must be a JSON object, got array");
	expect_payload("\"list\"", -EBADMSG, "payload must be a JSON object, got string");
	expect_payload("null", -EBADMSG, "payload must be a JSON object, got null");
	expect_payload("{\"cmd\":\"in\xff\xfe\"}", -EBADMSG, "malformed JSON");
	for (int i = 0; i < 20; i++)
		strcat(deep, "[");
	expect_payload(deep, -EBADMSG, "malformed JSON");
}

static void test_decode_fields(void **state)
{
	char longdev[VDF_CTL_DEV_MAX + 40];

	(void)state;
	expect_payload("{}", -EINVAL, "missing 'cmd'");
	expect_payload("{\"dev\":\"0000:00:04.0\"}", -EINVAL, "missing 'cmd'");
	expect_payload("{\"cmd\":1}", -EINVAL, "'cmd' must be a string, got int");
	expect_payload("{\"cmd\":null}", -EINVAL, "'cmd' must be a string, got null");
	expect_payload("{\"cmd\":[\"list\"]}", -EINVAL, "'cmd' must be a string, got array");
	expect_payload("{\"cmd\":{}}", -EINVAL, "'cmd' must be a string, got object");
	expect_payload("{\"cmd\":\"reboot\"}", -EINVAL, "unknown command 'reboot'");
	expect_payload("{\"cmd\":\"\"}", -EINVAL, "unknown command ''");
	expect_payload("{\"cmd\":\"list\\u0000x\"}", -EINVAL, "unknown command 'list'");
	/* untrusted text is echoed printable and short */
	expect_payload("{\"cmd\":\"\\u001b[2Jxx\"}", -EINVAL, "unknown command '?[2Jxx'");
	expect_payload("{\"cmd\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}", -EINVAL,
		       "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...'");
	expect_payload("{\"cmd\":\"list\",\"force\":true}", -EINVAL, "unknown field 'force'");
	expect_payload("{\"cmd\":\"list\",\"dev\":\"0000:00:04.0\"}", -EINVAL,
		       "'list' takes no 'dev'");
	expect_payload("{\"cmd\":\"info\"}", -EINVAL, "'info' needs 'dev'");
	expect_payload("{\"cmd\":\"restart\"}", -EINVAL, "'restart' needs 'dev'");
	expect_payload("{\"cmd\":\"info\",\"dev\":4}", -EINVAL, "'dev' must be a string, got int");
	expect_payload("{\"cmd\":\"info\",\"dev\":\"\"}", -EINVAL, "'dev' must be a device");
	expect_payload("{\"cmd\":\"info\",\"dev\":\"../../etc/passwd\"}", -EINVAL,
		       "'dev' must be a device address or path");
	expect_payload("{\"cmd\":\"info\",\"dev\":\"a b\"}", -EINVAL, "got 'a b'");
	expect_payload("{\"cmd\":\"info\",\"dev\":\"00:04.0\\u0000x\"}", -EINVAL, "'dev' must be");
	memset(longdev, 0, sizeof(longdev));
	strcpy(longdev, "{\"cmd\":\"info\",\"dev\":\"");
	memset(longdev + strlen(longdev), 'a', VDF_CTL_DEV_MAX);
	strcat(longdev, "\"}");
	expect_payload(longdev, -EINVAL, "'dev' is too long (at most 127 bytes)");
	expect_payload("{\"cmd\":\"log-level\",\"level\":7}", -EINVAL,
		       "'level' must be a string, got int");
	expect_payload("{\"cmd\":\"log-level\",\"level\":\"loud\"}", -EINVAL,
		       "unknown log level 'loud'");
	expect_payload("{\"cmd\":\"log-level\",\"level\":\"info\\u0000\"}", -EINVAL,
		       "unknown log level");
	expect_payload("{\"cmd\":\"info\",\"dev\":\"00:04.0\",\"level\":\"info\"}", -EINVAL,
		       "'info' takes no 'level'");
	expect_payload("{\"cmd\":\"log-level\",\"dev\":\"00:04.0\"}", -EINVAL,
		       "'log-level' takes no 'dev'");
	/* optional arguments */
	expect_payload("{\"cmd\":\"stats\"}", 0, NULL);
	expect_payload("{\"cmd\":\"stats\",\"dev\":\"00:04.0\"}", 0, NULL);
	expect_payload("{\"cmd\":\"log-level\"}", 0, NULL);
	expect_payload("{\"level\":\"debug\",\"cmd\":\"log-level\"}", 0, NULL);
	/* a NULL err buffer is fine */
	{
		struct vdf_ctl_request req;
		size_t n = req_frame(frame_buf, "{}");

		assert_int_equal(vdf_ctl_decode_request(frame_buf, n, &req, NULL, 0), -EINVAL);
	}
}

/* --- responses ------------------------------------------------------------ */

static void test_response_round_trip(void **state)
{
	json_object *data = json_object_new_object(), *resp, *v;
	void *buf;
	size_t len;

	(void)state;
	json_object_object_add(data, "message", json_object_new_string("restarted"));
	assert_int_equal(vdf_ctl_encode_response(data, NULL, &buf, &len), 0);
	assert_int_equal(json_object_put(data), 1); /* the caller's reference was kept */
	assert_int_equal(vdf_ctl_decode_response(buf, len, &resp, errbuf, sizeof(errbuf)), 0);
	assert_true(json_object_get_boolean(json_object_object_get(resp, "ok")));
	assert_true(json_object_object_get_ex(resp, "data", &v));
	assert_string_equal(json_object_get_string(json_object_object_get(v, "message")),
			    "restarted");
	json_object_put(resp);
	free(buf);

	assert_int_equal(vdf_ctl_encode_response(NULL, NULL, &buf, &len), 0);
	assert_int_equal(vdf_ctl_decode_response(buf, len, &resp, errbuf, sizeof(errbuf)), 0);
	assert_true(json_object_object_get_ex(resp, "data", &v));
	assert_int_equal(json_object_object_length(v), 0);
	json_object_put(resp);
	free(buf);

	assert_int_equal(vdf_ctl_encode_response(NULL, "no such device 'x'", &buf, &len), 0);
	assert_int_equal(vdf_ctl_decode_response(buf, len, &resp, errbuf, sizeof(errbuf)), 0);
	assert_false(json_object_get_boolean(json_object_object_get(resp, "ok")));
	assert_string_equal(json_object_get_string(json_object_object_get(resp, "error")),
			    "no such device 'x'");
	assert_null(json_object_object_get(resp, "data"));
	json_object_put(resp);
	/* a response is not a request */
	assert_int_equal(
	    vdf_ctl_decode_request(buf, len, &(struct vdf_ctl_request){0}, errbuf, sizeof(errbuf)),
	    -EPROTO);
	assert_string_equal(errbuf, "frame is a response, expected a request");
	free(buf);
}

static void test_response_too_large(void **state)
{
	json_object *data = json_object_new_object();
	char *s = malloc(VDF_CTL_MAX_RESPONSE);
	void *buf = (void *)1;
	size_t len = 1;

	(void)state;
	memset(s, 'x', VDF_CTL_MAX_RESPONSE - 1);
	s[VDF_CTL_MAX_RESPONSE - 1] = '\0';
	json_object_object_add(data, "blob", json_object_new_string(s));
	assert_int_equal(vdf_ctl_encode_response(data, NULL, &buf, &len), -EMSGSIZE);
	assert_null(buf);
	assert_int_equal(len, 0);
	json_object_put(data);
	free(s);
}

static void expect_bad_response(const char *payload, uint16_t version, uint16_t flags, int rc,
				const char *want)
{
	size_t n = raw_frame(frame_buf, VDF_CTL_MAGIC, version, flags, (uint32_t)strlen(payload),
			     payload, strlen(payload));
	json_object *resp = (void *)1;
	int got = vdf_ctl_decode_response(frame_buf, n, &resp, errbuf, sizeof(errbuf));

	if (got != rc || !strstr(errbuf, want))
		fail_msg("response %s: got %d '%s', want %d '%s'", payload, got, errbuf, rc, want);
	assert_null(resp);
}

static void test_response_malformed(void **state)
{
	const uint16_t R = VDF_CTL_F_RESPONSE;

	(void)state;
	expect_bad_response("{\"ok\":true}", 1, 0, -EPROTO,
			    "frame is a request, expected a response");
	expect_bad_response("{\"ok\":true}", 3, R, -EPROTONOSUPPORT,
			    "protocol version 3 not supported (this client speaks 1)");
	expect_bad_response("{}", 1, R, -EINVAL, "without a boolean 'ok'");
	expect_bad_response("{\"ok\":\"yes\"}", 1, R, -EINVAL, "without a boolean 'ok'");
	expect_bad_response("{\"ok\":false}", 1, R, -EINVAL, "without an 'error' string");
	expect_bad_response("{\"ok\":false,\"error\":5}", 1, R, -EINVAL, "without an 'error'");
	expect_bad_response("{\"ok\":true,\"data\":[]}", 1, R, -EINVAL,
			    "'data' must be an object, got array");
	expect_bad_response("{\"ok\":tru", 1, R, -EBADMSG, "JSON");
}

/* --- server --------------------------------------------------------------- */

struct stub {
	atomic_int calls;
	struct vdf_ctl_request last;
	struct vdf_ctl_peer peer;
	/* check: answered later, from a timer on the server's loop */
	struct vdf_event_loop *loop;
	struct vdf_ctl_server *srv;
	struct vdf_ctl_pending *pending;
	struct vdf_timer *timer;
	atomic_int completed;
	/* open: the other end of the last session handed out, the read end of
	 * a pipe whose write end went with a refusal, and a deferred answer */
	atomic_int open_peer;
	atomic_int refused_rd;
	struct vdf_ctl_pending *open_pending;
	struct vdf_timer *open_timer;
	atomic_int open_completed;
};

struct server_fixture {
	char dir[64];
	char path[128];
	struct vdf_event_loop *loop;
	struct vdf_ctl_server *srv;
	pthread_t thread;
	atomic_bool stop;
	bool running;
	struct stub stub;
};

static void stub_record(struct stub *s, const struct vdf_ctl_request *req,
			const struct vdf_ctl_peer *peer)
{
	s->last = *req;
	s->peer = *peer;
	atomic_fetch_add(&s->calls, 1);
}

static int stub_list(void *ctx, const struct vdf_ctl_request *req, const struct vdf_ctl_peer *peer,
		     json_object *data, char *err, size_t errlen)
{
	json_object *tree = json_object_new_object();

	(void)err;
	(void)errlen;
	stub_record(ctx, req, peer);
	json_object_object_add(tree, "name", json_object_new_string("/"));
	json_object_object_add(tree, "children", json_object_new_array());
	json_object_object_add(data, "tree", tree);
	return 0;
}

static int stub_info(void *ctx, const struct vdf_ctl_request *req, const struct vdf_ctl_peer *peer,
		     json_object *data, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	stub_record(ctx, req, peer);
	json_object_object_add(data, "dev", json_object_new_string(req->dev));
	json_object_object_add(data, "uid", json_object_new_int((int)peer->uid));
	json_object_object_add(data, "pid", json_object_new_int((int)peer->pid));
	return 0;
}

static int stub_start(void *ctx, const struct vdf_ctl_request *req, const struct vdf_ctl_peer *peer,
		      json_object *data, char *err, size_t errlen)
{
	(void)data;
	stub_record(ctx, req, peer);
	snprintf(err, errlen, "device %s is busy", req->dev);
	return -EBUSY;
}

static int stub_stop(void *ctx, const struct vdf_ctl_request *req, const struct vdf_ctl_peer *peer,
		     json_object *data, char *err, size_t errlen)
{
	(void)data;
	(void)err;
	(void)errlen;
	stub_record(ctx, req, peer);
	return -ENODEV; /* no message: strerror is used */
}

/* A response of nearly the maximal size, to check it gets through in one message. */
static int stub_stats(void *ctx, const struct vdf_ctl_request *req, const struct vdf_ctl_peer *peer,
		      json_object *data, char *err, size_t errlen)
{
	size_t n = VDF_CTL_MAX_RESPONSE - 64;
	char *s = malloc(n + 1);

	(void)err;
	(void)errlen;
	stub_record(ctx, req, peer);
	if (!s)
		return -ENOMEM;
	memset(s, 's', n);
	s[n] = '\0';
	json_object_object_add(data, "blob", json_object_new_string(s));
	free(s);
	return 0;
}

static void stub_check_later(struct vdf_timer *t, void *arg)
{
	struct stub *s = arg;
	json_object *data = json_object_new_object();

	(void)t;
	json_object_object_add(data, "checksum", json_object_new_string("00000000deadbeef"));
	if (s->last.lba == 1)
		vdf_ctl_complete(s->pending, -EIO, NULL, "the driver failed the read");
	else
		vdf_ctl_complete(s->pending, 0, data, NULL);
	json_object_put(data);
	s->pending = NULL;
	atomic_fetch_add(&s->completed, 1);
}

/* Deferred: the answer comes 50 ms later from a timer. */
static int stub_check(void *ctx, const struct vdf_ctl_request *req, const struct vdf_ctl_peer *peer,
		      json_object *data, char *err, size_t errlen)
{
	struct stub *s = ctx;

	(void)data;
	(void)err;
	(void)errlen;
	stub_record(s, req, peer);
	vdf_timer_stop(s->timer);
	s->pending = vdf_ctl_defer(s->srv);
	if (!s->pending)
		return -ENOMEM;
	if (vdf_timer_start(s->loop, 50, 0, stub_check_later, s, &s->timer))
		return -ENOMEM;
	return VDF_CTL_DEFERRED;
}

/* A session: one end stays in the stub (open_peer), the other is answered. */
static void stub_open_answer(struct stub *s, struct vdf_ctl_pending *p)
{
	json_object *data = json_object_new_object();
	int sp[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
	json_object_object_add(data, "generation", json_object_new_int(5));
	atomic_store(&s->open_peer, sp[0]);
	vdf_ctl_complete_fd(p, 0, data, NULL, sp[1]); /* takes sp[1] */
	json_object_put(data);
}

static void stub_open_later(struct vdf_timer *t, void *arg)
{
	struct stub *s = arg;

	(void)t;
	stub_open_answer(s, s->open_pending);
	s->open_pending = NULL;
	atomic_fetch_add(&s->open_completed, 1);
}

/*
 * open, by unit: 0 answers a session at once; 1 refuses, with an fd handed to
 * vdf_ctl_complete_fd anyway (it must close it); 2 answers a session 50 ms
 * later; 3 says yes without an fd; 4 sends an fd but no generation.
 */
static int stub_open(void *ctx, const struct vdf_ctl_request *req, const struct vdf_ctl_peer *peer,
		     json_object *data, char *err, size_t errlen)
{
	struct stub *s = ctx;
	struct vdf_ctl_pending *p;
	json_object *d;
	int pfd[2];

	(void)data;
	(void)err;
	(void)errlen;
	stub_record(s, req, peer);
	p = vdf_ctl_defer(s->srv);
	if (!p)
		return -ENOMEM;
	switch (req->unit) {
	case 0:
		stub_open_answer(s, p);
		break;
	case 1:
		assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
		atomic_store(&s->refused_rd, pfd[0]);
		vdf_ctl_complete_fd(p, -ENODEV, NULL, "no driver for unit 1", pfd[1]);
		break;
	case 2:
		s->open_pending = p;
		vdf_timer_stop(s->open_timer);
		if (vdf_timer_start(s->loop, 50, 0, stub_open_later, s, &s->open_timer))
			vdf_ctl_complete_fd(p, -ENOMEM, NULL, NULL, -1);
		break;
	case 3:
		d = json_object_new_object();
		json_object_object_add(d, "generation", json_object_new_int(5));
		vdf_ctl_complete_fd(p, 0, d, NULL, -1);
		json_object_put(d);
		break;
	default:
		assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
		close(pfd[0]);
		vdf_ctl_complete_fd(p, 0, NULL, NULL, pfd[1]);
		break;
	}
	return VDF_CTL_DEFERRED;
}

static const struct vdf_ctl_handlers stub_handlers = {
    .open = stub_open,
    .check = stub_check,
    .list = stub_list,
    .info = stub_info,
    .start = stub_start,
    .stop = stub_stop,
    .stats = stub_stats,
    /* restart, bind, unbind, explain: not supported; log_level: the default */
};

static void *server_thread(void *arg)
{
	struct server_fixture *f = arg;

	while (!atomic_load(&f->stop))
		(void)vdf_event_loop_run_once(f->loop, 10);
	return NULL;
}

static void server_resume(struct server_fixture *f)
{
	atomic_store(&f->stop, false);
	assert_int_equal(pthread_create(&f->thread, NULL, server_thread, f), 0);
	f->running = true;
}

/* Stop the loop thread: the main thread may then look at server state. */
static void server_pause(struct server_fixture *f)
{
	if (!f->running)
		return;
	atomic_store(&f->stop, true);
	pthread_join(f->thread, NULL);
	f->running = false;
}

static int server_start_opts(void **state, unsigned max_clients)
{
	struct server_fixture *f = calloc(1, sizeof(*f));
	struct vdf_ctl_server_opts o = {.handlers = &stub_handlers, .max_clients = max_clients};

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/vdf-ctl-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/run/vdfd.sock", f->dir); /* run/ is created */
	assert_int_equal(vdf_event_loop_create(&f->loop), 0);
	o.path = f->path;
	o.ctx = &f->stub;
	assert_int_equal(vdf_ctl_server_start(f->loop, &o, &f->srv), 0);
	f->stub.loop = f->loop;
	f->stub.srv = f->srv;
	server_resume(f);
	*state = f;
	return 0;
}

static int server_setup(void **state)
{
	return server_start_opts(state, 0);
}

static int server_setup_two(void **state)
{
	return server_start_opts(state, 2);
}

static int server_teardown(void **state)
{
	struct server_fixture *f = *state;
	char run[160];

	server_pause(f);
	vdf_ctl_server_stop(f->srv);
	/* the socket file is gone with the server */
	assert_int_equal(access(f->path, F_OK), -1);
	vdf_event_loop_destroy(f->loop);
	snprintf(run, sizeof(run), "%s/run", f->dir);
	rmdir(run);
	assert_int_equal(rmdir(f->dir), 0);
	free(f);
	return 0;
}

static int raw_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = 10};
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* Receive one response on a raw socket and return it decoded (NULL on EOF). */
static json_object *raw_response(int fd)
{
	static uint8_t buf[VDF_CTL_HDR_SIZE + VDF_CTL_MAX_RESPONSE];
	json_object *resp;
	ssize_t n = recv(fd, buf, sizeof(buf), 0);

	assert_true(n >= 0);
	if (n == 0)
		return NULL;
	assert_int_equal(vdf_ctl_decode_response(buf, (size_t)n, &resp, errbuf, sizeof(errbuf)), 0);
	return resp;
}

static const char *resp_error(json_object *resp)
{
	assert_false(json_object_get_boolean(json_object_object_get(resp, "ok")));
	return json_object_get_string(json_object_object_get(resp, "error"));
}

static void assert_eof(int fd)
{
	char c;

	assert_int_equal(recv(fd, &c, 1, 0), 0);
}

static void call_list_ok(struct server_fixture *f)
{
	struct vdf_ctl_request req = {.cmd = VDF_CTL_LIST, .level = -1};
	json_object *data;

	assert_int_equal(vdf_ctl_call(f->path, &req, &data, errbuf, sizeof(errbuf)), 0);
	assert_non_null(json_object_object_get(data, "tree"));
	json_object_put(data);
}

static void test_server_call(void **state)
{
	struct server_fixture *f = *state;
	struct vdf_ctl_request req = {.cmd = VDF_CTL_INFO, .dev = "0000:00:04.0", .level = -1};
	json_object *data;
	struct stat st;

	call_list_ok(f);
	assert_int_equal(vdf_ctl_call(f->path, &req, &data, errbuf, sizeof(errbuf)), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(data, "dev")),
			    "0000:00:04.0");
	/* the handler saw our credentials */
	assert_int_equal(json_object_get_int(json_object_object_get(data, "uid")), (int)getuid());
	assert_int_equal(json_object_get_int(json_object_object_get(data, "pid")), (int)getpid());
	json_object_put(data);
	assert_int_equal(atomic_load(&f->stub.calls), 2);

	/* the socket is 0660 */
	assert_int_equal(stat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0660);
	assert_string_equal(vdf_ctl_server_path(f->srv), f->path);
}

/* A handler that answers later: the client gets the answer; a client that
 * went away meanwhile costs nothing; the server keeps serving. */
static void test_server_deferred(void **state)
{
	struct server_fixture *f = *state;
	struct vdf_ctl_request req = {
	    .cmd = VDF_CTL_CHECK, .dev = "0000:00:04.0", .level = -1, .count = 8};
	uint8_t frame[512];
	json_object *data;
	size_t len;
	int fd;

	assert_int_equal(vdf_ctl_call(f->path, &req, &data, errbuf, sizeof(errbuf)), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(data, "checksum")),
			    "00000000deadbeef");
	json_object_put(data);
	req.lba = 1; /* the stub fails this one */
	assert_int_equal(vdf_ctl_call(f->path, &req, &data, errbuf, sizeof(errbuf)), -EREMOTEIO);
	assert_string_equal(errbuf, "the driver failed the read");
	/* A client that leaves before its answer. */
	req.lba = 0;
	fd = raw_connect(f->path);
	assert_int_equal(vdf_ctl_encode_request(&req, frame, sizeof(frame), &len), 0);
	assert_int_equal(send(fd, frame, len, 0), (ssize_t)len);
	while (atomic_load(&f->stub.calls) < 3)
		usleep(1000);
	close(fd);
	while (atomic_load(&f->stub.completed) < 3)
		usleep(1000);
	call_list_ok(f);
	server_pause(f);
	vdf_timer_stop(f->stub.timer);
	f->stub.timer = NULL;
	server_resume(f);
}

/* Has every copy of the other end of sock gone? (EOF, not just no data) */
static bool peer_closed(int sock)
{
	struct timeval tv = {.tv_sec = 5};
	char c;

	setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return recv(sock, &c, 1, 0) == 0;
}

/* Answers with an fd: it arrives, it works, and nobody else keeps a copy. */
static void test_server_open_fd(void **state)
{
	struct server_fixture *f = *state;
	struct vdf_ctl_request req = {.cmd = VDF_CTL_OPEN, .dev = "0000:00:04.0", .level = -1};
	json_object *data;
	uint32_t gen = 0;
	int fd = -2, peer;
	char c = 0;

	/* a session at once */
	assert_int_equal(vdf_ctl_call_fd(f->path, &req, &data, &fd, errbuf, sizeof(errbuf)), 0);
	assert_int_equal(json_object_get_int(json_object_object_get(data, "generation")), 5);
	json_object_put(data);
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	peer = atomic_load(&f->stub.open_peer);
	assert_int_equal(send(fd, "s", 1, 0), 1);
	assert_int_equal(recv(peer, &c, 1, 0), 1);
	assert_int_equal(c, 's');
	close(fd);
	assert_true(peer_closed(peer)); /* the server closed its copy after sending */
	close(peer);

	/* vdf_ctl_call takes no fd: it closes the one that comes */
	assert_int_equal(vdf_ctl_call(f->path, &req, &data, errbuf, sizeof(errbuf)), 0);
	json_object_put(data);
	peer = atomic_load(&f->stub.open_peer);
	assert_true(peer_closed(peer));
	close(peer);

	/* the convenience call */
	assert_int_equal(
	    vdf_ctl_open(f->path, "0000:00:04.0", true, 0, &fd, &gen, errbuf, sizeof(errbuf)), 0);
	assert_true(fd >= 0);
	assert_int_equal(gen, 5);
	assert_true(f->stub.last.read_only);
	close(fd);
	peer = atomic_load(&f->stub.open_peer);
	assert_true(peer_closed(peer));
	close(peer);

	/* deferred: the fd comes with the later answer */
	req.unit = 2;
	assert_int_equal(vdf_ctl_call_fd(f->path, &req, &data, &fd, errbuf, sizeof(errbuf)), 0);
	json_object_put(data);
	assert_true(fd >= 0);
	peer = atomic_load(&f->stub.open_peer);
	assert_int_equal(send(peer, "d", 1, 0), 1);
	assert_int_equal(recv(fd, &c, 1, 0), 1);
	assert_int_equal(c, 'd');
	close(fd);
	assert_true(peer_closed(peer));
	close(peer);
	server_pause(f);
	vdf_timer_stop(f->stub.open_timer);
	f->stub.open_timer = NULL;
	server_resume(f);
}

/* Refusals carry no fd (the server closes the one it was given), and a
 * yes without a session or a generation is a protocol error to vdf_ctl_open. */
static void test_server_open_refused(void **state)
{
	struct server_fixture *f = *state;
	struct vdf_ctl_request req = {
	    .cmd = VDF_CTL_OPEN, .dev = "0000:00:04.0", .level = -1, .unit = 1};
	json_object *data = (void *)1;
	uint32_t gen = 9;
	int fd = -2, rd;
	char c;

	assert_int_equal(vdf_ctl_call_fd(f->path, &req, &data, &fd, errbuf, sizeof(errbuf)),
			 -EREMOTEIO);
	assert_null(data);
	assert_int_equal(fd, -1);
	assert_string_equal(errbuf, "no driver for unit 1");
	rd = atomic_load(&f->stub.refused_rd);
	assert_int_equal(read(rd, &c, 1), 0); /* the write end went nowhere and is closed */
	close(rd);

	fd = -2;
	assert_int_equal(
	    vdf_ctl_open(f->path, "0000:00:04.0", false, 1, &fd, &gen, errbuf, sizeof(errbuf)),
	    -EREMOTEIO);
	assert_int_equal(fd, -1);
	assert_int_equal(gen, 0);
	assert_string_equal(errbuf, "no driver for unit 1");
	close(atomic_load(&f->stub.refused_rd));

	assert_int_equal(
	    vdf_ctl_open(f->path, "0000:00:04.0", false, 3, &fd, &gen, errbuf, sizeof(errbuf)),
	    -EPROTO);
	assert_int_equal(fd, -1);
	assert_non_null(strstr(errbuf, "no session"));
	assert_int_equal(
	    vdf_ctl_open(f->path, "0000:00:04.0", false, 4, &fd, &gen, errbuf, sizeof(errbuf)),
	    -EPROTO);
	assert_int_equal(fd, -1);
	assert_non_null(strstr(errbuf, "no valid generation"));

	/* refused before anything is sent */
	assert_int_equal(vdf_ctl_open(f->path, "../x", false, 0, &fd, &gen, errbuf, sizeof(errbuf)),
			 -EINVAL);
	assert_int_equal(vdf_ctl_open(f->path, "0000:00:04.0", false, VDF_CLIENT_UNIT_MAX + 1, &fd,
				      &gen, errbuf, sizeof(errbuf)),
			 -EINVAL);
	assert_int_equal(fd, -1);
	assert_int_equal(vdf_ctl_open("/nonexistent/vdfd.sock", "0000:00:04.0", false, 0, &fd, &gen,
				      errbuf, sizeof(errbuf)),
			 -ENOENT);
	assert_int_equal(atomic_load(&f->stub.calls), 4);
	call_list_ok(f);
}

/* A client that leaves before its fd answer, or cannot take it: the server
 * closes its copy, drops the client, and keeps serving. */
static void test_server_open_client_gone(void **state)
{
	struct server_fixture *f = *state;
	struct vdf_ctl_request req = {
	    .cmd = VDF_CTL_OPEN, .dev = "0000:00:04.0", .level = -1, .unit = 2};
	uint8_t frame[512];
	size_t len;
	int sock, peer;

	/* gone before a deferred answer */
	sock = raw_connect(f->path);
	assert_int_equal(vdf_ctl_encode_request(&req, frame, sizeof(frame), &len), 0);
	assert_int_equal(send(sock, frame, len, 0), (ssize_t)len);
	while (atomic_load(&f->stub.calls) < 1)
		usleep(1000);
	close(sock);
	while (atomic_load(&f->stub.open_completed) < 1)
		usleep(1000);
	peer = atomic_load(&f->stub.open_peer);
	assert_true(peer_closed(peer));
	close(peer);

	/* not reading any more when the handler answers at once: the send fails
	 * inside the handler, the client is dropped after it returns */
	req.unit = 0;
	server_pause(f);
	sock = raw_connect(f->path);
	assert_int_equal(vdf_ctl_encode_request(&req, frame, sizeof(frame), &len), 0);
	assert_int_equal(send(sock, frame, len, 0), (ssize_t)len);
	assert_int_equal(shutdown(sock, SHUT_RD), 0);
	server_resume(f);
	while (atomic_load(&f->stub.calls) < 2)
		usleep(1000);
	peer = atomic_load(&f->stub.open_peer);
	assert_true(peer_closed(peer));
	close(peer);
	for (int i = 0;; i++) { /* dropped although it did not hang up */
		unsigned count;

		server_pause(f);
		count = vdf_ctl_server_client_count(f->srv);
		server_resume(f);
		if (count == 0)
			break;
		if (i == 500)
			fail_msg("a client that cannot take its answer is still connected");
		usleep(10000);
	}
	close(sock);
	call_list_ok(f);
	server_pause(f);
	vdf_timer_stop(f->stub.open_timer);
	f->stub.open_timer = NULL;
	server_resume(f);
}

static void test_server_large_response(void **state)
{
	struct server_fixture *f = *state;
	struct vdf_ctl_request req = {.cmd = VDF_CTL_STATS, .level = -1};
	json_object *data;

	assert_int_equal(vdf_ctl_call(f->path, &req, &data, errbuf, sizeof(errbuf)), 0);
	assert_int_equal(json_object_get_string_len(json_object_object_get(data, "blob")),
			 VDF_CTL_MAX_RESPONSE - 64);
	json_object_put(data);
}

static void test_server_handler_errors(void **state)
{
	struct server_fixture *f = *state;
	struct vdf_ctl_request req = {.cmd = VDF_CTL_START, .dev = "0000:00:04.0", .level = -1};
	json_object *data = (void *)1;

	assert_int_equal(vdf_ctl_call(f->path, &req, &data, errbuf, sizeof(errbuf)), -EREMOTEIO);
	assert_null(data);
	assert_string_equal(errbuf, "device 0000:00:04.0 is busy");
	req.cmd = VDF_CTL_STOP;
	assert_int_equal(vdf_ctl_call(f->path, &req, &data, errbuf, sizeof(errbuf)), -EREMOTEIO);
	assert_string_equal(errbuf, strerror(ENODEV));
	req.cmd = VDF_CTL_EXPLAIN;
	assert_int_equal(vdf_ctl_call(f->path, &req, &data, errbuf, sizeof(errbuf)), -EREMOTEIO);
	assert_string_equal(errbuf, "'explain' is not supported by this vdfd");
	req.cmd = VDF_CTL_RESTART;
	assert_int_equal(vdf_ctl_call(f->path, &req, &data, errbuf, sizeof(errbuf)), -EREMOTEIO);
	assert_string_equal(errbuf, "'restart' is not supported by this vdfd");
	/* invalid requests are refused before they leave */
	req.cmd = VDF_CTL_INFO;
	req.dev[0] = '\0';
	assert_int_equal(vdf_ctl_call(f->path, &req, &data, errbuf, sizeof(errbuf)), -EINVAL);
	assert_non_null(strstr(errbuf, "invalid request"));
}

static void test_server_default_log_level(void **state)
{
	struct server_fixture *f = *state;
	struct vdf_ctl_request req = {.cmd = VDF_CTL_LOG_LEVEL, .level = -1};
	int saved = vdf_log_get_level();
	json_object *data;

	assert_int_equal(vdf_ctl_call(f->path, &req, &data, errbuf, sizeof(errbuf)), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(data, "level")),
			    vdf_ctl_log_level_name(saved));
	json_object_put(data);
	req.level = LOG_DEBUG;
	assert_int_equal(vdf_ctl_call(f->path, &req, &data, errbuf, sizeof(errbuf)), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(data, "level")), "debug");
	json_object_put(data);
	server_pause(f);
	assert_int_equal(vdf_log_get_level(), LOG_DEBUG);
	vdf_log_set_level(saved);
	server_resume(f);
}

static void test_server_garbage_then_good(void **state)
{
	struct server_fixture *f = *state;
	int fd = raw_connect(f->path);
	json_object *resp;

	assert_int_equal(send(fd, "hello, world\n", 13, 0), 13);
	resp = raw_response(fd);
	assert_non_null(resp);
	assert_string_equal(resp_error(resp), "bad magic: not a VDF control frame");
	json_object_put(resp);
	assert_eof(fd); /* dropped after a framing error */
	close(fd);
	call_list_ok(f);
	assert_int_equal(atomic_load(&f->stub.calls), 1);
}

static void test_server_bad_json_keeps_connection(void **state)
{
	struct server_fixture *f = *state;
	int fd = raw_connect(f->path);
	json_object *resp;
	size_t n;

	n = req_frame(frame_buf, "{\"cmd\":");
	assert_int_equal(send(fd, frame_buf, n, 0), (ssize_t)n);
	resp = raw_response(fd);
	assert_string_equal(resp_error(resp), "incomplete JSON: the payload ends inside a value");
	json_object_put(resp);

	n = req_frame(frame_buf, "{\"cmd\":\"halt\"}");
	assert_int_equal(send(fd, frame_buf, n, 0), (ssize_t)n);
	resp = raw_response(fd);
	assert_string_equal(resp_error(resp), "unknown command 'halt'");
	json_object_put(resp);

	/* the same connection still works */
	n = req_frame(frame_buf, "{\"cmd\":\"list\"}");
	assert_int_equal(send(fd, frame_buf, n, 0), (ssize_t)n);
	resp = raw_response(fd);
	assert_true(json_object_get_boolean(json_object_object_get(resp, "ok")));
	json_object_put(resp);
	close(fd);
	assert_int_equal(atomic_load(&f->stub.calls), 1);
}

static void test_server_version_mismatch(void **state)
{
	struct server_fixture *f = *state;
	int fd = raw_connect(f->path);
	const char *p = "{\"cmd\":\"list\"}";
	json_object *resp;
	size_t n;

	n = raw_frame(frame_buf, VDF_CTL_MAGIC, 2, 0, (uint32_t)strlen(p), p, strlen(p));
	assert_int_equal(send(fd, frame_buf, n, 0), (ssize_t)n);
	resp = raw_response(fd);
	assert_string_equal(resp_error(resp),
			    "protocol version 2 not supported (this vdfd speaks 1)");
	json_object_put(resp);
	assert_eof(fd);
	close(fd);
	call_list_ok(f);
}

static void test_server_oversized(void **state)
{
	struct server_fixture *f = *state;
	size_t n = VDF_CTL_HDR_SIZE + VDF_CTL_MAX_PAYLOAD + 40;
	uint8_t *big = calloc(1, n);
	int fd = raw_connect(f->path), sndbuf = 1 << 20;
	json_object *resp;

	assert_non_null(big);
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	memset(big + VDF_CTL_HDR_SIZE, ' ', n - VDF_CTL_HDR_SIZE);
	raw_frame(big, VDF_CTL_MAGIC, 1, 0, (uint32_t)(n - VDF_CTL_HDR_SIZE), "", 0);
	assert_int_equal(send(fd, big, n, 0), (ssize_t)n);
	resp = raw_response(fd);
	assert_non_null(strstr(resp_error(resp), "frame larger than the limit"));
	json_object_put(resp);
	assert_eof(fd);
	close(fd);
	free(big);
	call_list_ok(f);
}

static void test_server_hangups(void **state)
{
	struct server_fixture *f = *state;
	int fd;
	size_t n;

	/* connect and leave */
	close(raw_connect(f->path));
	/* send a request and leave without reading the answer */
	fd = raw_connect(f->path);
	n = req_frame(frame_buf, "{\"cmd\":\"list\"}");
	assert_int_equal(send(fd, frame_buf, n, 0), (ssize_t)n);
	close(fd);
	/* half a header, then leave */
	fd = raw_connect(f->path);
	assert_int_equal(send(fd, "VDFC\1", 5, 0), 5);
	close(fd);
	/* an empty message */
	fd = raw_connect(f->path);
	assert_int_equal(send(fd, "", 0, 0), 0);
	close(fd);

	call_list_ok(f);
	/* every connection is gone (give the loop a moment to see the last hang-up) */
	for (int i = 0; i < 500; i++) {
		unsigned count;

		server_pause(f);
		count = vdf_ctl_server_client_count(f->srv);
		server_resume(f);
		if (count == 0)
			return;
		usleep(10000);
	}
	fail_msg("clients still connected after they all hung up");
}

static void test_server_max_clients(void **state)
{
	struct server_fixture *f = *state;
	struct vdf_ctl_request req = {.cmd = VDF_CTL_LIST, .level = -1};
	int a = raw_connect(f->path), b = raw_connect(f->path), c;
	json_object *data = NULL, *resp;
	size_t n;

	/* make sure both are accepted before the third comes */
	n = req_frame(frame_buf, "{\"cmd\":\"list\"}");
	assert_int_equal(send(a, frame_buf, n, 0), (ssize_t)n);
	json_object_put(raw_response(a));
	assert_int_equal(send(b, frame_buf, n, 0), (ssize_t)n);
	json_object_put(raw_response(b));

	assert_int_equal(vdf_ctl_call(f->path, &req, &data, errbuf, sizeof(errbuf)), -EREMOTEIO);
	assert_string_equal(errbuf, "too many clients (2 connected): try again later");
	c = raw_connect(f->path);
	resp = raw_response(c);
	assert_non_null(strstr(resp_error(resp), "too many clients"));
	json_object_put(resp);
	close(c);

	close(a);
	for (int i = 0; i < 500; i++) {
		int rc = vdf_ctl_call(f->path, &req, &data, errbuf, sizeof(errbuf));

		if (rc == 0) {
			json_object_put(data);
			close(b);
			return;
		}
		usleep(10000);
	}
	fail_msg("a slot did not free up: %s", errbuf);
}

static void test_server_permission_denied(void **state)
{
	struct server_fixture *f = *state;
	int calls = atomic_load(&f->stub.calls), status;
	char run[160];
	pid_t pid;

	if (geteuid() != 0)
		skip();
	/* let uid 65534 reach the socket: the credential check is what is tested */
	snprintf(run, sizeof(run), "%s/run", f->dir);
	assert_int_equal(chmod(f->dir, 0755), 0);
	assert_int_equal(chmod(run, 0755), 0);
	assert_int_equal(chmod(f->path, 0666), 0);

	server_pause(f); /* fork with no other thread running */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct vdf_ctl_request req = {.cmd = VDF_CTL_LIST, .level = -1};
		json_object *data;
		int rc;

		if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
			_exit(10);
		rc = vdf_ctl_call(f->path, &req, &data, errbuf, sizeof(errbuf));
		if (rc != -EREMOTEIO)
			_exit(11);
		if (strcmp(errbuf, "permission denied: uid 65534 is not root or a member of "
				   "group vdf"))
			_exit(12);
		_exit(0);
	}
	server_resume(f);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(atomic_load(&f->stub.calls), calls); /* no handler ran */
	call_list_ok(f);
}

static void test_server_start_errors(void **state)
{
	struct server_fixture *f = *state;
	struct vdf_ctl_server_opts o = {.path = f->path};
	struct vdf_ctl_server *other;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char path[160];
	int fd;

	/* a live server owns the path */
	assert_int_equal(vdf_ctl_server_start(f->loop, &o, &other), -EADDRINUSE);
	call_list_ok(f); /* and was left alone */

	/* not a socket */
	snprintf(path, sizeof(path), "%s/file", f->dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	o.path = path;
	assert_int_equal(vdf_ctl_server_start(f->loop, &o, &other), -EEXIST);
	assert_int_equal(unlink(path), 0);

	/* a stale socket (nobody listening) is replaced */
	snprintf(path, sizeof(path), "%s/stale.sock", f->dir);
	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	assert_true(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	{
		struct vdf_ctl_request req = {.cmd = VDF_CTL_LIST, .level = -1};
		json_object *data;

		assert_int_equal(vdf_ctl_call(path, &req, &data, errbuf, sizeof(errbuf)),
				 -ECONNREFUSED);
		assert_non_null(strstr(errbuf, "vdfd not running"));
	}
	server_pause(f);
	assert_int_equal(vdf_ctl_server_start(f->loop, &o, &other), 0);
	vdf_ctl_server_stop(other);
	assert_int_equal(access(path, F_OK), -1);
	server_resume(f);

	/* too long for sun_path */
	memset(path, 'a', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	assert_int_equal(vdf_ctl_server_start(f->loop, &o, &other), -ENAMETOOLONG);
	vdf_ctl_server_stop(NULL);
}

/* --- open, vdfd's side: a driver instance brokers sessions ----------------- */

struct open_result {
	int calls;
	int status;
	int fd;
	uint32_t generation;
	char why[VDF_INSTANCE_WHY_MAX];
	bool unwanted;
};

static void open_result_cb(void *arg, int status, int fd, uint32_t generation, const char *why)
{
	struct open_result *r = arg;

	r->calls++;
	r->status = status;
	r->fd = fd;
	r->generation = generation;
	snprintf(r->why, sizeof(r->why), "%s", why ? why : "");
}

static bool open_result_wanted(void *arg)
{
	return !((struct open_result *)arg)->unwanted;
}

struct fake_driver {
	struct vdf_manifest m;
	struct vdf_instance *in;
	int drv; /* the driver's end of the grant socket */
};

/* A new process of the instance: a fresh grant socket, its generation, a state. */
static void fake_process(struct fake_driver *f, uint32_t generation, enum vdf_sup_state st)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv),
			 0);
	f->in->sock = sv[0];
	f->drv = sv[1];
	f->in->alive = true;
	f->in->generation = generation;
	f->in->sup.state = st;
	/* fresh, so the tick does not take it for hung */
	f->in->sup.state_since_ns = f->in->sup.last_heartbeat_ns = vdf_now_ns();
	f->in->killed_as_hung = false;
}

/* The process is gone (the instance's exit handling, reduced to the fds). */
static void fake_exit(struct fake_driver *f, enum vdf_sup_state st)
{
	if (f->in->sock >= 0)
		close(f->in->sock);
	if (f->drv >= 0)
		close(f->drv);
	f->in->sock = f->drv = -1;
	f->in->alive = false;
	f->in->sup.state = st;
	f->in->sup.next_start_ns = UINT64_MAX; /* backoff: the test starts the next one */
}

static void fake_setup(struct fake_driver *f, uint32_t generation, enum vdf_sup_state st)
{
	struct vdf_pci_info pci = {.addr = "0000:00:04.0", .iommu_group = -1};

	memset(f, 0, sizeof(*f));
	snprintf(f->m.name, sizeof(f->m.name), "nvme");
	f->m.device_class = VDF_MANIFEST_CLASS_BLOCK;
	assert_int_equal(vdf_instance_create(NULL, 3, &pci, &f->m, NULL, &f->in), 0);
	f->drv = -1;
	fake_process(f, generation, st);
}

static void fake_teardown(struct fake_driver *f)
{
	fake_exit(f, VDF_SUP_STOPPED);
	vdf_instance_destroy(f->in);
}

/* The driver side: one CLIENT with one fd, the other end of the result's fd. */
static void expect_client(struct fake_driver *f, const struct open_result *r, uint64_t client_id)
{
	struct vdf_grant_msg m;
	int fd = -1;
	char c = 0;

	assert_int_equal(vdf_grant_msg_recv_fd(f->drv, &m, &fd, MSG_DONTWAIT), 0);
	assert_int_equal(m.type, VDF_MSG_CLIENT);
	assert_int_equal(m.u.client.client_id, client_id);
	assert_true(fd >= 0);
	assert_int_equal(r->calls, 1);
	assert_int_equal(r->status, 0);
	assert_true(r->fd >= 0);
	assert_int_equal(send(r->fd, "c", 1, 0), 1);
	assert_int_equal(recv(fd, &c, 1, 0), 1);
	assert_int_equal(c, 'c');
	close(r->fd);
	close(fd);
}

static void expect_nothing_sent(struct fake_driver *f)
{
	struct vdf_grant_msg m;
	int fd;

	if (f->drv >= 0)
		assert_int_equal(vdf_grant_msg_recv_fd(f->drv, &m, &fd, MSG_DONTWAIT), -EAGAIN);
}

static int fake_open(struct fake_driver *f, uint64_t client_id, unsigned timeout_ms,
		     struct open_result *r)
{
	struct vdf_client_grant cg = {.client_id = client_id, .uid = 1000, .unit = 0};

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	return vdf_instance_open(f->in, &cg, timeout_ms, open_result_cb, open_result_wanted, r,
				 errbuf, sizeof(errbuf));
}

static void test_instance_open_serving(void **state)
{
	struct fake_driver f;
	struct open_result r;
	struct vdf_grant_msg m;
	struct vdf_client_grant cg = {.client_id = 9,
				      .uid = 1234,
				      .flags = VDF_CLIENT_F_READ_ONLY,
				      .unit = 2,
				      .ops_per_sec = 10,
				      .ops_burst = 1};
	int fd;

	(void)state;
	fake_setup(&f, 3, VDF_SUP_RUNNING);
	memset(&r, 0, sizeof(r));
	assert_int_equal(
	    vdf_instance_open(f.in, &cg, 1000, open_result_cb, NULL, &r, errbuf, sizeof(errbuf)),
	    0);
	assert_int_equal(r.calls, 1); /* at once */
	assert_int_equal(r.generation, 3);
	assert_int_equal(f.in->clients_opened, 1);
	assert_int_equal(f.in->nopens, 0);
	assert_int_equal(vdf_grant_msg_recv_fd(f.drv, &m, &fd, MSG_DONTWAIT), 0);
	assert_memory_equal(&m.u.client, &cg, sizeof(cg)); /* the policy travels with it */
	close(fd);
	assert_true(peer_closed(r.fd)); /* vdfd kept no copy of the driver's end */
	close(r.fd);

	/* starting: waits for this very process */
	f.in->sup.state = VDF_SUP_STARTING;
	assert_int_equal(fake_open(&f, 10, 1000, &r), 0);
	assert_int_equal(r.calls, 0);
	vdf_instance_tick(f.in, vdf_now_ns());
	assert_int_equal(r.calls, 0);
	expect_nothing_sent(&f);
	f.in->sup.state = VDF_SUP_RUNNING; /* its first heartbeat */
	vdf_instance_tick(f.in, vdf_now_ns());
	assert_int_equal(r.generation, 3);
	expect_client(&f, &r, 10);
	assert_int_equal(f.in->clients_opened, 2);
	fake_teardown(&f);
}

static void test_instance_open_refused(void **state)
{
	struct fake_driver f;
	struct open_result r;

	(void)state;
	fake_setup(&f, 1, VDF_SUP_RUNNING);
	fake_exit(&f, VDF_SUP_FAILED);
	snprintf(f.in->last_error, sizeof(f.in->last_error), "killed by signal 9 (Killed)");
	assert_int_equal(fake_open(&f, 1, 1000, &r), -ENODEV);
	assert_string_equal(errbuf, "nvme driver failed (killed by signal 9 (Killed)); 'vdfctl "
				    "restart 0000:00:04.0' tries again");
	f.in->sup.state = VDF_SUP_STOPPED;
	assert_int_equal(fake_open(&f, 2, 1000, &r), -ENODEV);
	assert_string_equal(errbuf,
			    "nvme driver is stopped ('vdfctl start 0000:00:04.0' starts it)");
	fake_process(&f, 1, VDF_SUP_STOPPING);
	assert_int_equal(fake_open(&f, 3, 1000, &r), -ENODEV);
	assert_non_null(strstr(errbuf, "is stopping"));
	assert_int_equal(r.calls, 0);
	expect_nothing_sent(&f);
	assert_int_equal(f.in->nopens, 0);
	fake_teardown(&f);
}

/*
 * The reconnect after a crash: the client asks again as soon as its session
 * closes. The open waits, and only the next generation gets it -- never the
 * process on its way out, and never before that process is gone.
 */
static void test_instance_open_across_restart(void **state)
{
	struct fake_driver f;
	struct open_result r, r2;
	uint64_t now;

	(void)state;
	fake_setup(&f, 4, VDF_SUP_RUNNING);
	/* The driver dies: its end of the grant socket closes before the
	 * daemon has handled the exit. */
	close(f.drv);
	f.drv = -1;
	assert_int_equal(fake_open(&f, 1, 30000, &r), 0);
	assert_int_equal(r.calls, 0);
	assert_int_equal(f.in->nopens, 1);
	assert_int_equal(f.in->clients_opened, 0);
	/* still "running" until the exit is handled: nothing goes to it */
	vdf_instance_tick(f.in, vdf_now_ns());
	assert_int_equal(r.calls, 0);
	/* exit handled (revoked, reset): backoff */
	fake_exit(&f, VDF_SUP_BACKOFF);
	assert_int_equal(fake_open(&f, 2, 30000, &r2), 0);
	vdf_instance_tick(f.in, vdf_now_ns());
	assert_int_equal(r.calls + r2.calls, 0);
	/* the next generation starts, and becomes ready */
	fake_process(&f, 5, VDF_SUP_STARTING);
	vdf_instance_tick(f.in, vdf_now_ns());
	assert_int_equal(r.calls + r2.calls, 0);
	expect_nothing_sent(&f);
	f.in->sup.state = VDF_SUP_RUNNING;
	now = vdf_now_ns();
	vdf_instance_tick(f.in, now);
	assert_int_equal(r.generation, 5);
	assert_int_equal(r2.generation, 5);
	expect_client(&f, &r, 1); /* in the order they came */
	expect_client(&f, &r2, 2);
	assert_int_equal(f.in->nopens, 0);
	assert_int_equal(f.in->clients_opened, 2);

	/* "vdfctl restart": stopping in order to start again keeps opens */
	f.in->restart_pending = true;
	f.in->sup.state = VDF_SUP_STOPPING;
	assert_int_equal(fake_open(&f, 3, 30000, &r), 0);
	fake_exit(&f, VDF_SUP_STOPPED);
	vdf_instance_tick(f.in, vdf_now_ns());
	assert_int_equal(r.calls, 0);
	f.in->restart_pending = false; /* the daemon's tick starts it */
	fake_process(&f, 6, VDF_SUP_RUNNING);
	vdf_instance_tick(f.in, vdf_now_ns());
	assert_int_equal(r.generation, 6);
	expect_client(&f, &r, 3);
	fake_teardown(&f);
}

static void test_instance_open_fails(void **state)
{
	struct fake_driver f;
	struct open_result r, r2;
	uint64_t now;

	(void)state;
	fake_setup(&f, 1, VDF_SUP_RUNNING);
	fake_exit(&f, VDF_SUP_BACKOFF);

	/* ends up failed */
	assert_int_equal(fake_open(&f, 1, 30000, &r), 0);
	f.in->sup.state = VDF_SUP_FAILED;
	vdf_instance_tick(f.in, vdf_now_ns());
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.status, -ENODEV);
	assert_int_equal(r.fd, -1);
	assert_non_null(strstr(r.why, "nvme driver failed"));

	/* stopped while waiting */
	f.in->sup.state = VDF_SUP_BACKOFF;
	f.in->sup.next_start_ns = UINT64_MAX;
	assert_int_equal(fake_open(&f, 2, 30000, &r), 0);
	f.in->sup.state = VDF_SUP_STOPPED;
	vdf_instance_tick(f.in, vdf_now_ns());
	assert_int_equal(r.status, -ENODEV);
	assert_non_null(strstr(r.why, "is stopped"));

	/* times out; the client that left is not waited for */
	f.in->sup.state = VDF_SUP_BACKOFF;
	f.in->sup.next_start_ns = UINT64_MAX;
	assert_int_equal(fake_open(&f, 3, 50, &r), 0);
	assert_int_equal(fake_open(&f, 4, 30000, &r2), 0);
	now = vdf_now_ns();
	vdf_instance_tick(f.in, now);
	assert_int_equal(r.calls + r2.calls, 0);
	r2.unwanted = true;
	vdf_instance_tick(f.in, now + 100 * 1000000ull);
	assert_int_equal(r.status, -ETIMEDOUT);
	assert_string_equal(r.why, "nvme driver did not become ready within 50 ms");
	assert_int_equal(r2.status, -ECANCELED);
	assert_int_equal(f.in->nopens, 0);
	/* nothing was brokered for the client that left once the driver is back */
	fake_process(&f, 2, VDF_SUP_RUNNING);
	vdf_instance_tick(f.in, vdf_now_ns());
	expect_nothing_sent(&f);
	assert_int_equal(f.in->clients_opened, 0);

	/* a bounded queue */
	fake_exit(&f, VDF_SUP_BACKOFF);
	{
		static struct open_result many[VDF_INSTANCE_MAX_OPENS];

		for (unsigned i = 0; i < VDF_INSTANCE_MAX_OPENS; i++)
			assert_int_equal(fake_open(&f, 10 + i, 30000, &many[i]), 0);
		assert_int_equal(fake_open(&f, 99, 30000, &r), -EBUSY);
		assert_non_null(strstr(errbuf, "opens are already waiting"));
		/* unbinding the device ends them all */
		fake_teardown(&f);
		for (unsigned i = 0; i < VDF_INSTANCE_MAX_OPENS; i++) {
			assert_int_equal(many[i].calls, 1);
			assert_int_equal(many[i].status, -ENODEV);
			assert_string_equal(many[i].why,
					    "nvme driver was unbound from 0000:00:04.0");
		}
	}
}

static void test_call_without_daemon(void **state)
{
	struct vdf_ctl_request req = {.cmd = VDF_CTL_LIST, .level = -1};
	json_object *data = (void *)1;
	char longpath[200];

	(void)state;
	assert_int_equal(
	    vdf_ctl_call("/nonexistent/vdfd.sock", &req, &data, errbuf, sizeof(errbuf)), -ENOENT);
	assert_null(data);
	assert_string_equal(errbuf, "cannot connect to vdfd: /nonexistent/vdfd.sock does not "
				    "exist (is vdfd running?)");
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = '\0';
	assert_int_equal(vdf_ctl_call(longpath, &req, &data, errbuf, sizeof(errbuf)),
			 -ENAMETOOLONG);

	setenv(VDF_CTL_SOCKET_ENV, "/tmp/elsewhere.sock", 1);
	assert_string_equal(vdf_ctl_socket_path(), "/tmp/elsewhere.sock");
	setenv(VDF_CTL_SOCKET_ENV, "", 1);
	assert_string_equal(vdf_ctl_socket_path(), VDF_CTL_DEFAULT_SOCKET);
	unsetenv(VDF_CTL_SOCKET_ENV);
	assert_string_equal(vdf_ctl_socket_path(), "/run/vdf/vdfd.sock");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_header_pack),
	    cmocka_unit_test(test_request_round_trip),
	    cmocka_unit_test(test_request_check_args),
	    cmocka_unit_test(test_request_open_args),
	    cmocka_unit_test(test_request_wire_format),
	    cmocka_unit_test(test_encode_request_rejects),
	    cmocka_unit_test(test_decode_framing),
	    cmocka_unit_test(test_decode_payload),
	    cmocka_unit_test(test_decode_fields),
	    cmocka_unit_test(test_response_round_trip),
	    cmocka_unit_test(test_response_too_large),
	    cmocka_unit_test(test_response_malformed),
	    cmocka_unit_test_setup_teardown(test_server_call, server_setup, server_teardown),
	    cmocka_unit_test_setup_teardown(test_server_deferred, server_setup, server_teardown),
	    cmocka_unit_test_setup_teardown(test_server_open_fd, server_setup, server_teardown),
	    cmocka_unit_test_setup_teardown(test_server_open_refused, server_setup,
					    server_teardown),
	    cmocka_unit_test_setup_teardown(test_server_open_client_gone, server_setup,
					    server_teardown),
	    cmocka_unit_test_setup_teardown(test_server_large_response, server_setup,
					    server_teardown),
	    cmocka_unit_test_setup_teardown(test_server_handler_errors, server_setup,
					    server_teardown),
	    cmocka_unit_test_setup_teardown(test_server_default_log_level, server_setup,
					    server_teardown),
	    cmocka_unit_test_setup_teardown(test_server_garbage_then_good, server_setup,
					    server_teardown),
	    cmocka_unit_test_setup_teardown(test_server_bad_json_keeps_connection, server_setup,
					    server_teardown),
	    cmocka_unit_test_setup_teardown(test_server_version_mismatch, server_setup,
					    server_teardown),
	    cmocka_unit_test_setup_teardown(test_server_oversized, server_setup, server_teardown),
	    cmocka_unit_test_setup_teardown(test_server_hangups, server_setup, server_teardown),
	    cmocka_unit_test_setup_teardown(test_server_max_clients, server_setup_two,
					    server_teardown),
	    cmocka_unit_test_setup_teardown(test_server_permission_denied, server_setup,
					    server_teardown),
	    cmocka_unit_test_setup_teardown(test_server_start_errors, server_setup,
					    server_teardown),
	    cmocka_unit_test(test_call_without_daemon),
	    cmocka_unit_test(test_instance_open_serving),
	    cmocka_unit_test(test_instance_open_refused),
	    cmocka_unit_test(test_instance_open_across_restart),
	    cmocka_unit_test(test_instance_open_fails),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
