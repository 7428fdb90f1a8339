// SPDX-License-Identifier: MIT
/* vdfd control protocol: framing, request/response codecs, client calls; see vdf/ctl.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "vdf/ctl.h"
#include "vdf/fdmsg.h"

/* Nesting accepted in a response (the device tree nests a few levels per node). */
#define RESPONSE_MAX_DEPTH 64
/* Longest piece of untrusted text echoed back in an error message. */
#define ECHO_MAX 32

static const char *const cmd_names[VDF_CTL_CMD_COUNT] = {
    [VDF_CTL_LIST] = "list",	   [VDF_CTL_INFO] = "info",	  [VDF_CTL_START] = "start",
    [VDF_CTL_STOP] = "stop",	   [VDF_CTL_RESTART] = "restart", [VDF_CTL_BIND] = "bind",
    [VDF_CTL_UNBIND] = "unbind",   [VDF_CTL_STATS] = "stats",	  [VDF_CTL_LOG_LEVEL] = "log-level",
    [VDF_CTL_EXPLAIN] = "explain", [VDF_CTL_CHECK] = "check",	  [VDF_CTL_OPEN] = "open",
};

static const char *const level_names[] = {"emerg",   "alert",  "crit", "err",
					  "warning", "notice", "info", "debug"};

static void seterr(char *err, size_t errlen, const char *fmt, ...) VDF_PRINTF(3, 4);

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Copy untrusted text for an error message: printable ASCII only, bounded. */
static const char *echo(const char *s, char buf[ECHO_MAX + 4])
{
	size_t i;

	for (i = 0; s[i] && i < ECHO_MAX; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\'') ? s[i] : '?';
	if (s[i]) {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

const char *vdf_ctl_cmd_name(enum vdf_ctl_cmd cmd)
{
	if ((unsigned)cmd >= VDF_CTL_CMD_COUNT)
		return NULL;
	return cmd_names[cmd];
}

int vdf_ctl_cmd_parse(const char *name)
{
	for (int i = 0; i < VDF_CTL_CMD_COUNT; i++)
		if (!strcmp(name, cmd_names[i]))
			return i;
	return -EINVAL;
}

bool vdf_ctl_cmd_needs_dev(enum vdf_ctl_cmd cmd)
{
	switch (cmd) {
	case VDF_CTL_INFO:
	case VDF_CTL_START:
	case VDF_CTL_STOP:
	case VDF_CTL_RESTART:
	case VDF_CTL_BIND:
	case VDF_CTL_UNBIND:
	case VDF_CTL_EXPLAIN:
	case VDF_CTL_CHECK:
	case VDF_CTL_OPEN:
		return true;
	default:
		return false;
	}
}

bool vdf_ctl_cmd_takes_dev(enum vdf_ctl_cmd cmd)
{
	return vdf_ctl_cmd_needs_dev(cmd) || cmd == VDF_CTL_STATS;
}

int vdf_ctl_log_level_parse(const char *name)
{
	if (!name)
		return -EINVAL;
	if (name[0] >= '0' && name[0] <= '7' && !name[1])
		return name[0] - '0';
	for (int i = 0; i < (int)VDF_ARRAY_SIZE(level_names); i++)
		if (!strcmp(name, level_names[i]))
			return i;
	if (!strcmp(name, "error"))
		return LOG_ERR;
	if (!strcmp(name, "warn"))
		return LOG_WARNING;
	return -EINVAL;
}

const char *vdf_ctl_log_level_name(int level)
{
	if (level < 0 || level >= (int)VDF_ARRAY_SIZE(level_names))
		return "?";
	return level_names[level];
}

static bool dev_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == ':' || c == '/' || c == '@' || c == '+' || c == '-';
}

bool vdf_ctl_dev_valid(const char *s)
{
	size_t len;

	if (!s)
		return false;
	len = strnlen(s, VDF_CTL_DEV_MAX);
	if (len == 0 || len >= VDF_CTL_DEV_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!dev_char(s[i]))
			return false;
		/* a ".." path component */
		if (s[i] == '.' && i + 1 < len && s[i + 1] == '.' && (i == 0 || s[i - 1] == '/') &&
		    (i + 2 == len || s[i + 2] == '/'))
			return false;
	}
	return true;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void vdf_ctl_hdr_pack(const struct vdf_ctl_hdr *h, uint8_t out[VDF_CTL_HDR_SIZE])
{
	memcpy(out, h->magic, 4);
	out[4] = (uint8_t)h->version;
	out[5] = (uint8_t)(h->version >> 8);
	out[6] = (uint8_t)h->flags;
	out[7] = (uint8_t)(h->flags >> 8);
	out[8] = (uint8_t)h->length;
	out[9] = (uint8_t)(h->length >> 8);
	out[10] = (uint8_t)(h->length >> 16);
	out[11] = (uint8_t)(h->length >> 24);
}

void vdf_ctl_hdr_unpack(const uint8_t in[VDF_CTL_HDR_SIZE], struct vdf_ctl_hdr *h)
{
	memcpy(h->magic, in, 4);
	h->version = get16(in + 4);
	h->flags = get16(in + 6);
	h->length = get32(in + 8);
}

static const char *json_type_name(json_object *o)
{
	return json_type_to_name(json_object_get_type(o));
}

/*
 * Check a frame's header and parse its payload into a JSON object.
 * `who` names this side for the version message ("vdfd", "client").
 */
static int decode_frame(const void *buf, size_t len, bool response, size_t max, int max_depth,
			const char *who, json_object **out, char *err, size_t errlen)
{
	const uint8_t *p = buf;
	const char *payload = (const char *)p + VDF_CTL_HDR_SIZE;
	struct json_tokener *tok;
	enum json_tokener_error jerr;
	char *copy;
	struct vdf_ctl_hdr h;
	json_object *obj;
	size_t plen, end;

	*out = NULL;
	if (!buf || len < VDF_CTL_HDR_SIZE) {
		seterr(err, errlen, "truncated frame: %zu bytes, the header alone is %u", len,
		       VDF_CTL_HDR_SIZE);
		return -EPROTO;
	}
	vdf_ctl_hdr_unpack(p, &h);
	if (memcmp(h.magic, VDF_CTL_MAGIC, 4)) {
		seterr(err, errlen, "bad magic: not a VDF control frame");
		return -EPROTO;
	}
	if (h.version != VDF_CTL_VERSION) {
		seterr(err, errlen, "protocol version %u not supported (this %s speaks %u)",
		       h.version, who, VDF_CTL_VERSION);
		return -EPROTONOSUPPORT;
	}
	if (!!(h.flags & VDF_CTL_F_RESPONSE) != response) {
		seterr(err, errlen, "frame is a %s, expected a %s",
		       response ? "request" : "response", response ? "response" : "request");
		return -EPROTO;
	}
	if (h.flags & ~VDF_CTL_F_RESPONSE) {
		seterr(err, errlen, "unknown flags 0x%04x", h.flags & ~VDF_CTL_F_RESPONSE);
		return -EPROTO;
	}
	if (h.length > max) {
		seterr(err, errlen, "payload of %u bytes exceeds the limit of %zu", h.length, max);
		return -EMSGSIZE;
	}
	plen = len - VDF_CTL_HDR_SIZE;
	if (h.length > plen) {
		seterr(err, errlen, "truncated frame: header says %u payload bytes, got %zu",
		       h.length, plen);
		return -EPROTO;
	}
	if (h.length < plen) {
		seterr(err, errlen, "%zu extra byte(s) after the %u-byte payload", plen - h.length,
		       h.length);
		return -EPROTO;
	}
	if (plen == 0) {
		seterr(err, errlen, "empty payload: expected a JSON object");
		return -EBADMSG;
	}
	if (memchr(payload, '\0', plen)) {
		seterr(err, errlen, "payload contains a NUL byte");
		return -EBADMSG;
	}

	/* json-c needs the terminating NUL in the input to know a bare value
	 * ("null", "12") has ended: parse a terminated copy. */
	copy = malloc(plen + 1);
	tok = json_tokener_new_ex(max_depth);
	if (!tok || !copy) {
		json_tokener_free(tok);
		free(copy);
		seterr(err, errlen, "out of memory");
		return -ENOMEM;
	}
	memcpy(copy, payload, plen);
	copy[plen] = '\0';
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, copy, (int)plen + 1);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	free(copy);
	if (!obj && jerr == json_tokener_success) {
		seterr(err, errlen, "payload must be a JSON object, got null");
		return -EBADMSG;
	}
	if (!obj) {
		if (jerr == json_tokener_continue || jerr == json_tokener_error_parse_eof)
			seterr(err, errlen, "incomplete JSON: the payload ends inside a value");
		else
			seterr(err, errlen, "malformed JSON at byte %zu: %s", end,
			       json_tokener_error_desc(jerr));
		return -EBADMSG;
	}
	for (; end < plen; end++) {
		char c = payload[end];

		if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
			seterr(err, errlen, "trailing data after the JSON value at byte %zu", end);
			json_object_put(obj);
			return -EBADMSG;
		}
	}
	if (!json_object_is_type(obj, json_type_object)) {
		seterr(err, errlen, "payload must be a JSON object, got %s", json_type_name(obj));
		json_object_put(obj);
		return -EBADMSG;
	}
	*out = obj;
	return 0;
}

/* The fields of a decoded request object. */
static int parse_request(json_object *obj, struct vdf_ctl_request *req, char *err, size_t errlen)
{
	json_object *jcmd = NULL, *jdev = NULL, *jlevel = NULL, *jlba = NULL, *jcount = NULL,
		    *jmode = NULL, *junit = NULL;
	bool has_cmd = false, has_dev = false, has_level = false, has_lba = false,
	     has_count = false, has_mode = false, has_unit = false;
	char e1[ECHO_MAX + 4];
	const char *cmdname;
	int cmd;

	json_object_object_foreach(obj, key, val)
	{
		/* val is NULL for a JSON null: presence is tracked apart */
		if (!strcmp(key, "cmd")) {
			jcmd = val;
			has_cmd = true;
		} else if (!strcmp(key, "dev")) {
			jdev = val;
			has_dev = true;
		} else if (!strcmp(key, "level")) {
			jlevel = val;
			has_level = true;
		} else if (!strcmp(key, "lba")) {
			jlba = val;
			has_lba = true;
		} else if (!strcmp(key, "count")) {
			jcount = val;
			has_count = true;
		} else if (!strcmp(key, "mode")) {
			jmode = val;
			has_mode = true;
		} else if (!strcmp(key, "unit")) {
			junit = val;
			has_unit = true;
		} else {
			seterr(err, errlen, "unknown field '%s'", echo(key, e1));
			return -EINVAL;
		}
	}
	if (!has_cmd) {
		seterr(err, errlen, "missing 'cmd'");
		return -EINVAL;
	}
	if (!json_object_is_type(jcmd, json_type_string)) {
		seterr(err, errlen, "'cmd' must be a string, got %s", json_type_name(jcmd));
		return -EINVAL;
	}
	cmdname = json_object_get_string(jcmd);
	cmd = strlen(cmdname) == (size_t)json_object_get_string_len(jcmd)
		  ? vdf_ctl_cmd_parse(cmdname)
		  : -EINVAL;
	if (cmd < 0) {
		seterr(err, errlen, "unknown command '%s'", echo(cmdname, e1));
		return -EINVAL;
	}
	req->cmd = (enum vdf_ctl_cmd)cmd;

	if (has_dev) {
		const char *dev;

		if (!vdf_ctl_cmd_takes_dev(req->cmd)) {
			seterr(err, errlen, "'%s' takes no 'dev'", cmdname);
			return -EINVAL;
		}
		if (!json_object_is_type(jdev, json_type_string)) {
			seterr(err, errlen, "'dev' must be a string, got %s", json_type_name(jdev));
			return -EINVAL;
		}
		dev = json_object_get_string(jdev);
		if (json_object_get_string_len(jdev) >= VDF_CTL_DEV_MAX) {
			seterr(err, errlen, "'dev' is too long (at most %d bytes)",
			       VDF_CTL_DEV_MAX - 1);
			return -EINVAL;
		}
		if (!vdf_ctl_dev_valid(dev) ||
		    strlen(dev) != (size_t)json_object_get_string_len(jdev)) {
			seterr(
			    err, errlen,
			    "'dev' must be a device address or path ([A-Za-z0-9._:/@+-], no '..'), "
			    "got '%s'",
			    echo(dev, e1));
			return -EINVAL;
		}
		memcpy(req->dev, dev, strlen(dev) + 1);
	} else if (vdf_ctl_cmd_needs_dev(req->cmd)) {
		seterr(err, errlen, "'%s' needs 'dev'", cmdname);
		return -EINVAL;
	}

	if (has_level) {
		if (req->cmd != VDF_CTL_LOG_LEVEL) {
			seterr(err, errlen, "'%s' takes no 'level'", cmdname);
			return -EINVAL;
		}
		if (!json_object_is_type(jlevel, json_type_string)) {
			seterr(err, errlen, "'level' must be a string, got %s",
			       json_type_name(jlevel));
			return -EINVAL;
		}
		req->level = vdf_ctl_log_level_parse(json_object_get_string(jlevel));
		if (strlen(json_object_get_string(jlevel)) !=
		    (size_t)json_object_get_string_len(jlevel))
			req->level = -EINVAL;
		if (req->level < 0) {
			seterr(err, errlen,
			       "unknown log level '%s' (emerg, alert, crit, err, warning, notice, "
			       "info, debug)",
			       echo(json_object_get_string(jlevel), e1));
			return -EINVAL;
		}
	}
	if ((has_lba || has_count) && req->cmd != VDF_CTL_CHECK) {
		seterr(err, errlen, "'%s' takes no '%s'", cmdname, has_lba ? "lba" : "count");
		return -EINVAL;
	}
	if (req->cmd == VDF_CTL_CHECK)
		req->count = VDF_CTL_CHECK_DEFAULT_BLOCKS;
	if (has_lba) {
		if (!json_object_is_type(jlba, json_type_int) || json_object_get_int64(jlba) < 0) {
			seterr(err, errlen, "'lba' must be a non-negative integer");
			return -EINVAL;
		}
		req->lba = (uint64_t)json_object_get_int64(jlba);
	}
	if (has_count) {
		int64_t n =
		    json_object_is_type(jcount, json_type_int) ? json_object_get_int64(jcount) : -1;

		if (n < 1 || n > VDF_CTL_CHECK_MAX_BLOCKS) {
			seterr(err, errlen, "'count' must be an integer 1..%u",
			       VDF_CTL_CHECK_MAX_BLOCKS);
			return -EINVAL;
		}
		req->count = (uint32_t)n;
	}
	if ((has_mode || has_unit) && req->cmd != VDF_CTL_OPEN) {
		seterr(err, errlen, "'%s' takes no '%s'", cmdname, has_mode ? "mode" : "unit");
		return -EINVAL;
	}
	if (has_mode) {
		const char *mode = json_object_is_type(jmode, json_type_string)
				       ? json_object_get_string(jmode)
				       : NULL;

		/* Exactly "ro" or "rw": strcmp also stops at an embedded NUL,
		 * so the length is compared too. */
		if (mode && json_object_get_string_len(jmode) == 2 && !strcmp(mode, "ro")) {
			req->read_only = true;
		} else if (!mode || json_object_get_string_len(jmode) != 2 || strcmp(mode, "rw")) {
			seterr(err, errlen, "'mode' must be \"ro\" or \"rw\", got %s%s%s",
			       mode ? "'" : "", mode ? echo(mode, e1) : json_type_name(jmode),
			       mode ? "'" : "");
			return -EINVAL;
		}
	}
	if (has_unit) {
		int64_t n =
		    json_object_is_type(junit, json_type_int) ? json_object_get_int64(junit) : -1;

		if (n < 0 || n > VDF_CLIENT_UNIT_MAX) {
			seterr(err, errlen, "'unit' must be an integer 0..%u", VDF_CLIENT_UNIT_MAX);
			return -EINVAL;
		}
		req->unit = (uint32_t)n;
	}
	return 0;
}

int vdf_ctl_decode_request(const void *buf, size_t len, struct vdf_ctl_request *req, char *err,
			   size_t errlen)
{
	json_object *obj;
	int rc;

	memset(req, 0, sizeof(*req));
	req->level = -1;
	seterr(err, errlen, "%s", "");
	rc = decode_frame(buf, len, false, VDF_CTL_MAX_PAYLOAD, VDF_CTL_MAX_DEPTH, "vdfd", &obj,
			  err, errlen);
	if (rc)
		return rc;
	rc = parse_request(obj, req, err, errlen);
	json_object_put(obj);
	if (rc) {
		memset(req, 0, sizeof(*req));
		req->level = -1;
	}
	return rc;
}

/* Frame a payload into buf. */
static int frame(uint16_t flags, const char *payload, size_t plen, uint8_t *buf, size_t cap,
		 size_t *len)
{
	struct vdf_ctl_hdr h = {
	    .version = VDF_CTL_VERSION, .flags = flags, .length = (uint32_t)plen};

	if (cap < VDF_CTL_HDR_SIZE || plen > cap - VDF_CTL_HDR_SIZE)
		return -ENOBUFS;
	memcpy(h.magic, VDF_CTL_MAGIC, 4);
	vdf_ctl_hdr_pack(&h, buf);
	memcpy(buf + VDF_CTL_HDR_SIZE, payload, plen);
	*len = VDF_CTL_HDR_SIZE + plen;
	return 0;
}

static int add_string(json_object *o, const char *key, const char *val)
{
	json_object *s = json_object_new_string(val);

	if (!s)
		return -ENOMEM;
	if (json_object_object_add(o, key, s)) {
		json_object_put(s);
		return -ENOMEM;
	}
	return 0;
}

int vdf_ctl_encode_request(const struct vdf_ctl_request *req, void *buf, size_t cap, size_t *len)
{
	const char *name = vdf_ctl_cmd_name(req->cmd);
	const char *payload;
	size_t plen;
	json_object *o;
	int rc;

	if (!name)
		return -EINVAL;
	if (req->dev[0] ? !vdf_ctl_cmd_takes_dev(req->cmd) || !vdf_ctl_dev_valid(req->dev)
			: vdf_ctl_cmd_needs_dev(req->cmd))
		return -EINVAL;
	if (req->level >= 0 && (req->cmd != VDF_CTL_LOG_LEVEL || req->level > LOG_DEBUG))
		return -EINVAL;
	o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	rc = add_string(o, "cmd", name);
	if (!rc && req->dev[0])
		rc = add_string(o, "dev", req->dev);
	if (!rc && req->level >= 0)
		rc = add_string(o, "level", vdf_ctl_log_level_name(req->level));
	if (!rc && req->cmd == VDF_CTL_CHECK) {
		if (!req->count || req->count > VDF_CTL_CHECK_MAX_BLOCKS || req->lba > INT64_MAX)
			rc = -EINVAL;
		else if (json_object_object_add(o, "lba",
						json_object_new_int64((int64_t)req->lba)) ||
			 json_object_object_add(o, "count", json_object_new_int64(req->count)))
			rc = -ENOMEM;
	}
	if (!rc && req->cmd != VDF_CTL_OPEN && (req->read_only || req->unit))
		rc = -EINVAL;
	if (!rc && req->cmd == VDF_CTL_OPEN) {
		if (req->unit > VDF_CLIENT_UNIT_MAX)
			rc = -EINVAL;
		else if (add_string(o, "mode", req->read_only ? "ro" : "rw") ||
			 json_object_object_add(o, "unit", json_object_new_int64(req->unit)))
			rc = -ENOMEM;
	}
	if (!rc) {
		payload = json_object_to_json_string_length(
		    o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &plen);
		rc = payload ? frame(0, payload, plen, buf, cap, len) : -ENOMEM;
	}
	json_object_put(o);
	return rc;
}

int vdf_ctl_encode_response(json_object *data, const char *error, void **out, size_t *len)
{
	json_object *o, *v;
	const char *payload;
	size_t plen;
	uint8_t *buf;
	int rc = -ENOMEM;

	*out = NULL;
	*len = 0;
	o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	v = json_object_new_boolean(!error);
	if (!v || json_object_object_add(o, "ok", v)) {
		json_object_put(v);
		goto out_put;
	}
	if (error) {
		if (add_string(o, "error", error))
			goto out_put;
	} else {
		v = data ? json_object_get(data) : json_object_new_object();
		if (!v || json_object_object_add(o, "data", v)) {
			json_object_put(v);
			goto out_put;
		}
	}
	payload = json_object_to_json_string_length(
	    o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &plen);
	if (!payload)
		goto out_put;
	if (plen > VDF_CTL_MAX_RESPONSE) {
		rc = -EMSGSIZE;
		goto out_put;
	}
	buf = malloc(VDF_CTL_HDR_SIZE + plen);
	if (!buf)
		goto out_put;
	rc = frame(VDF_CTL_F_RESPONSE, payload, plen, buf, VDF_CTL_HDR_SIZE + plen, len);
	if (rc) {
		free(buf);
		goto out_put;
	}
	*out = buf;
out_put:
	json_object_put(o);
	return rc;
}

int vdf_ctl_decode_response(const void *buf, size_t len, json_object **resp, char *err,
			    size_t errlen)
{
	json_object *obj, *ok, *v;
	int rc;

	*resp = NULL;
	seterr(err, errlen, "%s", "");
	rc = decode_frame(buf, len, true, VDF_CTL_MAX_RESPONSE, RESPONSE_MAX_DEPTH, "client", &obj,
			  err, errlen);
	if (rc)
		return rc;
	rc = -EINVAL;
	if (!json_object_object_get_ex(obj, "ok", &ok) ||
	    !json_object_is_type(ok, json_type_boolean)) {
		seterr(err, errlen, "response without a boolean 'ok'");
		goto out_put;
	}
	if (json_object_get_boolean(ok)) {
		if (json_object_object_get_ex(obj, "data", &v) &&
		    !json_object_is_type(v, json_type_object)) {
			seterr(err, errlen, "response 'data' must be an object, got %s",
			       json_type_name(v));
			goto out_put;
		}
	} else if (!json_object_object_get_ex(obj, "error", &v) ||
		   !json_object_is_type(v, json_type_string)) {
		seterr(err, errlen, "failed response without an 'error' string");
		goto out_put;
	}
	*resp = obj;
	return 0;

out_put:
	json_object_put(obj);
	return rc;
}

const char *vdf_ctl_socket_path(void)
{
	const char *p = getenv(VDF_CTL_SOCKET_ENV);

	return p && p[0] ? p : VDF_CTL_DEFAULT_SOCKET;
}

static int connect_to(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, rc;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		seterr(err, errlen, "socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		seterr(err, errlen, "socket: %s", strerror(-rc));
		return rc;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return fd;
	rc = -errno;
	close(fd);
	switch (rc) {
	case -ENOENT:
		seterr(err, errlen, "cannot connect to vdfd: %s does not exist (is vdfd running?)",
		       path);
		break;
	case -ECONNREFUSED:
		seterr(err, errlen,
		       "cannot connect to vdfd: nothing listens on %s (vdfd not running)", path);
		break;
	case -EACCES:
	case -EPERM:
		seterr(err, errlen,
		       "cannot connect to vdfd at %s: permission denied (needs root or group vdf)",
		       path);
		rc = -EACCES;
		break;
	case -EPROTOTYPE:
		seterr(err, errlen, "%s is not a vdfd control socket", path);
		break;
	default:
		seterr(err, errlen, "cannot connect to vdfd at %s: %s", path, strerror(-rc));
	}
	return rc;
}

/*
 * Receive the answer, with any fds attached. A daemon that refuses us
 * (permissions, too many clients) answers and closes; if our request was
 * still unread, the close reports ECONNRESET ahead of the answer, which is
 * queued behind it: one retry reads it.
 */
static int recv_answer(int sock, uint8_t *in, size_t cap, int *fds, unsigned *nfds)
{
	int n;

	for (int resets = 0;;) {
		n = vdf_fdmsg_recv(sock, in, cap, fds, nfds, 0);
		if (n == -ECONNRESET && !resets++)
			continue;
		return n;
	}
}

int vdf_ctl_call_fd(const char *sock_path, const struct vdf_ctl_request *req,
		    json_object **response, int *fd, char *err, size_t errlen)
{
	struct timeval tv = {.tv_sec = VDF_CTL_CALL_TIMEOUT_MS / 1000,
			     .tv_usec = (VDF_CTL_CALL_TIMEOUT_MS % 1000) * 1000};
	uint8_t out[VDF_CTL_HDR_SIZE + 2 * VDF_CTL_DEV_MAX + 96];
	size_t outlen, inlen = VDF_CTL_HDR_SIZE + VDF_CTL_MAX_RESPONSE;
	int fds[VDF_FDMSG_MAX_FDS];
	json_object *resp, *ok, *v;
	unsigned nfds = 0;
	uint8_t *in;
	int n, sock, rc;

	*response = NULL;
	*fd = -1;
	seterr(err, errlen, "%s", "");
	if (!sock_path)
		sock_path = vdf_ctl_socket_path();
	rc = vdf_ctl_encode_request(req, out, sizeof(out), &outlen);
	if (rc) {
		seterr(err, errlen, "invalid request: %s", strerror(-rc));
		return rc;
	}
	sock = connect_to(sock_path, err, errlen);
	if (sock < 0)
		return sock;
	(void)setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	in = malloc(inlen + 1);
	if (!in) {
		rc = -ENOMEM;
		seterr(err, errlen, "out of memory");
		goto out_close;
	}
	if (send(sock, out, outlen, MSG_NOSIGNAL) < 0) {
		rc = -errno;
		/* vdfd may have refused us and closed already: its answer is queued */
		if (rc != -EPIPE && rc != -ECONNRESET && rc != -ENOTCONN) {
			seterr(err, errlen, "sending to vdfd: %s", strerror(-rc));
			goto out_free;
		}
	}
	n = recv_answer(sock, in, inlen + 1, fds, &nfds);
	if (n == -EPIPE) {
		rc = -ECONNRESET;
		seterr(err, errlen, "vdfd closed the connection without answering");
		goto out_free;
	}
	if (n == -EMSGSIZE || (n > 0 && (size_t)n > inlen)) {
		vdf_fdmsg_close(fds, nfds);
		rc = -EMSGSIZE;
		seterr(err, errlen, "answer from vdfd larger than %zu bytes", inlen);
		goto out_free;
	}
	if (n < 0) {
		rc = (n == -EAGAIN || n == -EWOULDBLOCK) ? -ETIMEDOUT : n;
		seterr(err, errlen, "no answer from vdfd: %s", strerror(-rc));
		goto out_free;
	}
	if (nfds > 1) {
		rc = -EPROTO;
		seterr(err, errlen, "answer from vdfd carries %u file descriptors (at most 1)",
		       nfds);
		goto out_fds;
	}
	rc = vdf_ctl_decode_response(in, (size_t)n, &resp, err, errlen);
	if (rc)
		goto out_fds;
	ok = json_object_object_get(resp, "ok");
	if (!json_object_get_boolean(ok)) {
		v = json_object_object_get(resp, "error");
		seterr(err, errlen, "%s", json_object_get_string(v));
		rc = -EREMOTEIO;
	} else if (json_object_object_get_ex(resp, "data", &v)) {
		*response = json_object_get(v);
	} else {
		*response = json_object_new_object();
		if (!*response)
			rc = -ENOMEM;
	}
	json_object_put(resp);
	if (!rc && nfds) {
		*fd = fds[0];
		nfds = 0;
	}
out_fds:
	vdf_fdmsg_close(fds, nfds);
out_free:
	free(in);
out_close:
	close(sock);
	return rc;
}

int vdf_ctl_call(const char *sock_path, const struct vdf_ctl_request *req, json_object **response,
		 char *err, size_t errlen)
{
	int fd, rc;

	rc = vdf_ctl_call_fd(sock_path, req, response, &fd, err, errlen);
	if (fd >= 0)
		close(fd); /* nobody asked for one */
	return rc;
}

int vdf_ctl_open(const char *sock_path, const char *dev, bool read_only, uint32_t unit, int *fd,
		 uint32_t *generation, char *err, size_t errlen)
{
	struct vdf_ctl_request req = {.cmd = VDF_CTL_OPEN, .level = -1};
	json_object *data, *g;
	int64_t gen;
	int rc;

	*fd = -1;
	*generation = 0;
	if (!vdf_ctl_dev_valid(dev)) {
		seterr(err, errlen, "invalid device name");
		return -EINVAL;
	}
	if (unit > VDF_CLIENT_UNIT_MAX) {
		seterr(err, errlen, "unit %u out of range (0..%u)", unit, VDF_CLIENT_UNIT_MAX);
		return -EINVAL;
	}
	memcpy(req.dev, dev, strlen(dev) + 1);
	req.read_only = read_only;
	req.unit = unit;
	rc = vdf_ctl_call_fd(sock_path, &req, &data, fd, err, errlen);
	if (rc)
		return rc;
	gen = json_object_object_get_ex(data, "generation", &g) &&
		      json_object_is_type(g, json_type_int)
		  ? json_object_get_int64(g)
		  : -1;
	json_object_put(data);
	if (*fd < 0 || gen < 1 || gen > UINT32_MAX) {
		seterr(err, errlen, "vdfd accepted the open but sent %s",
		       *fd < 0 ? "no session" : "no valid generation");
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		return -EPROTO;
	}
	*generation = (uint32_t)gen;
	return 0;
}
