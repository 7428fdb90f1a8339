// SPDX-License-Identifier: MIT
/*
 * Driver manifests: strict JSON front end, manifest schema, loading files and
 * directories. See manifest.h for the contract and docs/MANIFESTS.md for the
 * format.
 *
 * Parsing has two passes. The first (jscan_*) is our own validator: it takes
 * only RFC 8259 JSON in UTF-8 and refuses what json-c would quietly accept
 * (single quotes, NaN, raw control characters in strings) or quietly resolve
 * (a repeated key: json-c keeps the last one, so "bars" could be widened by a
 * second entry nobody reviews). It also enforces the nesting limit and gives
 * line/column positions. The second pass is json-c, which builds the tree the
 * schema code walks.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "manifest.h"

static const char *const class_names[VDF_MANIFEST_CLASS_COUNT] = {
    [VDF_MANIFEST_CLASS_BLOCK] = "block",     [VDF_MANIFEST_CLASS_NET] = "net",
    [VDF_MANIFEST_CLASS_DISPLAY] = "display", [VDF_MANIFEST_CLASS_USB_HOST] = "usb-host",
    [VDF_MANIFEST_CLASS_INPUT] = "input",     [VDF_MANIFEST_CLASS_CHAR] = "char",
    [VDF_MANIFEST_CLASS_TEST] = "test",
};

const char *vdf_manifest_class_name(enum vdf_manifest_class c)
{
	if ((unsigned)c >= VDF_MANIFEST_CLASS_COUNT)
		return "?";
	return class_names[c];
}

int vdf_manifest_class_parse(const char *name)
{
	for (unsigned i = 0; i < VDF_MANIFEST_CLASS_COUNT; i++)
		if (!strcmp(name, class_names[i]))
			return (int)i;
	return -EINVAL;
}

/* ---- error context and JSON paths ---- */

void vdf_mjson_init(struct vdf_mjson *j, const char *origin, char *err, size_t errlen)
{
	memset(j, 0, sizeof(*j));
	j->origin = origin ? origin : "manifest";
	j->err = err;
	j->errlen = errlen;
	if (err && errlen)
		err[0] = '\0';
}

int vdf_mjson_fail(struct vdf_mjson *j, const char *fmt, ...)
{
	char msg[VDF_MANIFEST_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!j->err || !j->errlen)
		return -EINVAL;
	if (j->plen)
		snprintf(j->err, j->errlen, "%s: %s: %s", j->origin, j->path, msg);
	else
		snprintf(j->err, j->errlen, "%s: %s", j->origin, msg);
	return -EINVAL;
}

/* Append to the path, cutting at the buffer's end; control bytes become '?'. */
static void path_append(struct vdf_mjson *j, const char *s)
{
	for (; *s && j->plen + 1 < sizeof(j->path); s++) {
		unsigned char c = (unsigned char)*s;

		j->path[j->plen++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	j->path[j->plen] = '\0';
}

size_t vdf_mjson_push_key(struct vdf_mjson *j, const char *key)
{
	size_t saved = j->plen;

	if (j->plen)
		path_append(j, ".");
	path_append(j, key);
	return saved;
}

size_t vdf_mjson_push_index(struct vdf_mjson *j, size_t i)
{
	size_t saved = j->plen;
	char buf[32];

	snprintf(buf, sizeof(buf), "[%zu]", i);
	path_append(j, buf);
	return saved;
}

void vdf_mjson_pop(struct vdf_mjson *j, size_t saved)
{
	if (saved < sizeof(j->path)) {
		j->plen = saved;
		j->path[saved] = '\0';
	}
}

/* ---- pass 1: strict validator ---- */

#define JSCAN_MAX_KEYS 128 /* per object */

struct jscan_key {
	size_t off, len; /* decoded bytes in the arena */
};

struct jscan {
	struct vdf_mjson *j;
	const unsigned char *s;
	size_t len, pos;
	unsigned depth;
	char *arena; /* decoded keys of the open objects */
	size_t alen;
	struct jscan_key *keys; /* keys of the open objects, innermost last */
	size_t nkeys;
};

static int jscan_fail_at(struct jscan *sc, size_t pos, const char *fmt, ...) VDF_PRINTF(3, 4);

static int jscan_fail_at(struct jscan *sc, size_t pos, const char *fmt, ...)
{
	unsigned line = 1, col = 1;
	char msg[256];
	va_list ap;

	for (size_t i = 0; i < pos && i < sc->len; i++) {
		if (sc->s[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return vdf_mjson_fail(sc->j, "line %u, column %u: %s", line, col, msg);
}

/* What is at pos, for messages: 'x', byte 0x01 or "end of input". */
static const char *jscan_what(const struct jscan *sc, size_t pos, char *buf, size_t len)
{
	if (pos >= sc->len)
		return "end of input";
	if (sc->s[pos] >= 0x21 && sc->s[pos] < 0x7f)
		snprintf(buf, len, "'%c'", sc->s[pos]);
	else
		snprintf(buf, len, "byte 0x%02x", sc->s[pos]);
	return buf;
}

static int jscan_unexpected(struct jscan *sc, const char *expected)
{
	char buf[16];

	return jscan_fail_at(sc, sc->pos, "expected %s, found %s", expected,
			     jscan_what(sc, sc->pos, buf, sizeof(buf)));
}

static void jscan_ws(struct jscan *sc)
{
	while (sc->pos < sc->len && (sc->s[sc->pos] == ' ' || sc->s[sc->pos] == '\t' ||
				     sc->s[sc->pos] == '\n' || sc->s[sc->pos] == '\r'))
		sc->pos++;
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Four hex digits at pos; -1 if not. */
static long jscan_hex4(const struct jscan *sc, size_t pos)
{
	long v = 0;

	if (pos > sc->len || sc->len - pos < 4)
		return -1;
	for (size_t i = 0; i < 4; i++) {
		int h = hexval(sc->s[pos + i]);

		if (h < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

static void jscan_put(struct jscan *sc, char *out, size_t *n, unsigned char c)
{
	/* Decoded text is never longer than its source, and the arena holds the
	 * whole input, so this cannot overflow; the check is belt and braces. */
	if (out && sc->alen + *n < sc->len + 1)
		out[(*n)] = (char)c;
	(*n)++;
}

static void jscan_put_utf8(struct jscan *sc, char *out, size_t *n, unsigned long cp)
{
	if (cp < 0x80) {
		jscan_put(sc, out, n, (unsigned char)cp);
	} else if (cp < 0x800) {
		jscan_put(sc, out, n, (unsigned char)(0xc0 | cp >> 6));
		jscan_put(sc, out, n, (unsigned char)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		jscan_put(sc, out, n, (unsigned char)(0xe0 | cp >> 12));
		jscan_put(sc, out, n, (unsigned char)(0x80 | ((cp >> 6) & 0x3f)));
		jscan_put(sc, out, n, (unsigned char)(0x80 | (cp & 0x3f)));
	} else {
		jscan_put(sc, out, n, (unsigned char)(0xf0 | cp >> 18));
		jscan_put(sc, out, n, (unsigned char)(0x80 | ((cp >> 12) & 0x3f)));
		jscan_put(sc, out, n, (unsigned char)(0x80 | ((cp >> 6) & 0x3f)));
		jscan_put(sc, out, n, (unsigned char)(0x80 | (cp & 0x3f)));
	}
}

/* Length of the valid UTF-8 sequence at pos (2..4), or 0 if invalid. */
static size_t jscan_utf8_len(const struct jscan *sc, size_t pos)
{
	const unsigned char *p = sc->s + pos;
	size_t avail = sc->len - pos, n;
	unsigned char lo = 0x80, hi = 0xbf;

	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		if (p[0] == 0xe0)
			lo = 0xa0; /* overlong */
		else if (p[0] == 0xed)
			hi = 0x9f; /* UTF-16 surrogates */
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		if (p[0] == 0xf0)
			lo = 0x90; /* overlong */
		else if (p[0] == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	} else {
		return 0;
	}
	if (avail < n || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/*
 * A string starting at the opening quote. With `out`, the decoded bytes go
 * there and their count to *outlen.
 */
static int jscan_string(struct jscan *sc, char *out, size_t *outlen)
{
	size_t n = 0, start = sc->pos;

	sc->pos++; /* opening quote */
	for (;;) {
		unsigned char c;

		if (sc->pos >= sc->len)
			return jscan_fail_at(sc, start, "string is not terminated");
		c = sc->s[sc->pos];
		if (c == '"') {
			sc->pos++;
			break;
		}
		if (c < 0x20)
			return jscan_fail_at(sc, sc->pos,
					     "control character 0x%02x in a string (escape it)", c);
		if (c >= 0x80) {
			size_t l = jscan_utf8_len(sc, sc->pos);

			if (!l)
				return jscan_fail_at(sc, sc->pos, "invalid UTF-8");
			for (size_t i = 0; i < l; i++)
				jscan_put(sc, out, &n, sc->s[sc->pos + i]);
			sc->pos += l;
			continue;
		}
		if (c != '\\') {
			jscan_put(sc, out, &n, c);
			sc->pos++;
			continue;
		}
		if (sc->pos + 1 >= sc->len)
			return jscan_fail_at(sc, start, "string is not terminated");
		c = sc->s[sc->pos + 1];
		switch (c) {
		case '"':
		case '\\':
		case '/':
			jscan_put(sc, out, &n, c);
			break;
		case 'b':
			jscan_put(sc, out, &n, '\b');
			break;
		case 'f':
			jscan_put(sc, out, &n, '\f');
			break;
		case 'n':
			jscan_put(sc, out, &n, '\n');
			break;
		case 'r':
			jscan_put(sc, out, &n, '\r');
			break;
		case 't':
			jscan_put(sc, out, &n, '\t');
			break;
		case 'u': {
			long cp = jscan_hex4(sc, sc->pos + 2);

			if (cp < 0)
				return jscan_fail_at(sc, sc->pos, "\\u needs four hex digits");
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return jscan_fail_at(sc, sc->pos, "lone low surrogate \\u%04lx",
						     cp);
			if (cp >= 0xd800 && cp <= 0xdbff) {
				long lo = -1;

				if (sc->pos + 7 < sc->len && sc->s[sc->pos + 6] == '\\' &&
				    sc->s[sc->pos + 7] == 'u')
					lo = jscan_hex4(sc, sc->pos + 8);
				if (lo < 0xdc00 || lo > 0xdfff)
					return jscan_fail_at(
					    sc, sc->pos,
					    "high surrogate \\u%04lx without a low one", cp);
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				sc->pos += 6;
			}
			jscan_put_utf8(sc, out, &n, (unsigned long)cp);
			sc->pos += 4;
			break;
		}
		default:
			return jscan_fail_at(sc, sc->pos, "invalid escape in a string");
		}
		sc->pos += 2;
	}
	if (outlen)
		*outlen = n;
	return 0;
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int jscan_number(struct jscan *sc)
{
	size_t start = sc->pos;

	if (sc->s[sc->pos] == '-')
		sc->pos++;
	if (sc->pos >= sc->len || !is_digit(sc->s[sc->pos]))
		return jscan_fail_at(sc, start, "malformed number");
	if (sc->s[sc->pos] == '0') {
		sc->pos++;
		if (sc->pos < sc->len && is_digit(sc->s[sc->pos]))
			return jscan_fail_at(sc, start, "numbers must not have leading zeros");
	} else {
		while (sc->pos < sc->len && is_digit(sc->s[sc->pos]))
			sc->pos++;
	}
	if (sc->pos < sc->len && sc->s[sc->pos] == '.') {
		sc->pos++;
		if (sc->pos >= sc->len || !is_digit(sc->s[sc->pos]))
			return jscan_fail_at(sc, start, "malformed number");
		while (sc->pos < sc->len && is_digit(sc->s[sc->pos]))
			sc->pos++;
	}
	if (sc->pos < sc->len && (sc->s[sc->pos] == 'e' || sc->s[sc->pos] == 'E')) {
		sc->pos++;
		if (sc->pos < sc->len && (sc->s[sc->pos] == '+' || sc->s[sc->pos] == '-'))
			sc->pos++;
		if (sc->pos >= sc->len || !is_digit(sc->s[sc->pos]))
			return jscan_fail_at(sc, start, "malformed number");
		while (sc->pos < sc->len && is_digit(sc->s[sc->pos]))
			sc->pos++;
	}
	return 0;
}

static int jscan_literal(struct jscan *sc, const char *word)
{
	size_t n = strlen(word);

	if (sc->len - sc->pos < n || memcmp(sc->s + sc->pos, word, n))
		return jscan_unexpected(sc, "a value");
	sc->pos += n;
	return 0;
}

static int jscan_value(struct jscan *sc);

static int jscan_object(struct jscan *sc)
{
	size_t key0 = sc->nkeys, arena0 = sc->alen;
	int rc = 0;

	sc->pos++; /* '{' */
	jscan_ws(sc);
	if (sc->pos < sc->len && sc->s[sc->pos] == '}') {
		sc->pos++;
		return 0;
	}
	for (;;) {
		size_t key_pos, klen = 0, saved;
		char *key;

		jscan_ws(sc);
		if (sc->pos >= sc->len || sc->s[sc->pos] != '"') {
			rc = jscan_unexpected(sc, "a \"key\"");
			break;
		}
		key_pos = sc->pos;
		key = sc->arena + sc->alen;
		rc = jscan_string(sc, key, &klen);
		if (rc)
			break;
		if (memchr(key, '\0', klen)) {
			rc = jscan_fail_at(sc, key_pos, "a key must not contain \\u0000");
			break;
		}
		for (size_t i = key0; i < sc->nkeys; i++) {
			if (sc->keys[i].len == klen &&
			    !memcmp(sc->arena + sc->keys[i].off, key, klen)) {
				key[klen] = '\0';
				rc = jscan_fail_at(sc, key_pos, "duplicate key \"%s\"", key);
				break;
			}
		}
		if (rc)
			break;
		if (sc->nkeys - key0 >= JSCAN_MAX_KEYS) {
			rc = jscan_fail_at(sc, key_pos, "more than %d keys in one object",
					   JSCAN_MAX_KEYS);
			break;
		}
		sc->keys[sc->nkeys].off = sc->alen;
		sc->keys[sc->nkeys].len = klen;
		sc->nkeys++;
		sc->alen += klen + 1;
		key[klen] = '\0';

		jscan_ws(sc);
		if (sc->pos >= sc->len || sc->s[sc->pos] != ':') {
			rc = jscan_unexpected(sc, "':' after a key");
			break;
		}
		sc->pos++;
		saved = vdf_mjson_push_key(sc->j, key);
		rc = jscan_value(sc);
		if (rc)
			break;
		vdf_mjson_pop(sc->j, saved);
		jscan_ws(sc);
		if (sc->pos < sc->len && sc->s[sc->pos] == ',') {
			sc->pos++;
			continue;
		}
		if (sc->pos < sc->len && sc->s[sc->pos] == '}') {
			sc->pos++;
			break;
		}
		rc = jscan_unexpected(sc, "',' or '}'");
		break;
	}
	/* On error the path stays where it failed; it is only used for the message. */
	sc->nkeys = key0;
	sc->alen = arena0;
	return rc;
}

static int jscan_array(struct jscan *sc)
{
	int rc;

	sc->pos++; /* '[' */
	jscan_ws(sc);
	if (sc->pos < sc->len && sc->s[sc->pos] == ']') {
		sc->pos++;
		return 0;
	}
	for (size_t i = 0;; i++) {
		size_t saved = vdf_mjson_push_index(sc->j, i);

		rc = jscan_value(sc);
		if (rc)
			return rc;
		vdf_mjson_pop(sc->j, saved);
		jscan_ws(sc);
		if (sc->pos < sc->len && sc->s[sc->pos] == ',') {
			sc->pos++;
			continue;
		}
		if (sc->pos < sc->len && sc->s[sc->pos] == ']') {
			sc->pos++;
			return 0;
		}
		return jscan_unexpected(sc, "',' or ']'");
	}
}

static int jscan_value(struct jscan *sc)
{
	int rc;

	jscan_ws(sc);
	if (sc->pos >= sc->len)
		return jscan_unexpected(sc, "a value");
	switch (sc->s[sc->pos]) {
	case '{':
	case '[':
		if (sc->depth >= VDF_MANIFEST_MAX_DEPTH)
			return jscan_fail_at(sc, sc->pos, "nested deeper than %d levels",
					     VDF_MANIFEST_MAX_DEPTH);
		sc->depth++;
		rc = sc->s[sc->pos] == '{' ? jscan_object(sc) : jscan_array(sc);
		sc->depth--;
		return rc;
	case '"':
		return jscan_string(sc, NULL, NULL);
	case 't':
		return jscan_literal(sc, "true");
	case 'f':
		return jscan_literal(sc, "false");
	case 'n':
		return jscan_literal(sc, "null");
	default:
		if (sc->s[sc->pos] == '-' || is_digit(sc->s[sc->pos]))
			return jscan_number(sc);
		return jscan_unexpected(sc, "a value");
	}
}

static int jscan_run(struct vdf_mjson *j, const char *text, size_t len)
{
	struct jscan sc = {.j = j, .s = (const unsigned char *)text, .len = len};
	const char *nul;
	int rc;

	nul = memchr(text, '\0', len);
	if (nul)
		return jscan_fail_at(&sc, (size_t)(nul - text), "NUL byte in the input");
	jscan_ws(&sc);
	if (sc.pos == len)
		return vdf_mjson_fail(j, "empty input (expected a JSON object)");
	sc.arena = malloc(len + 1);
	sc.keys = calloc((size_t)VDF_MANIFEST_MAX_DEPTH * JSCAN_MAX_KEYS, sizeof(*sc.keys));
	if (!sc.arena || !sc.keys) {
		rc = -ENOMEM;
		vdf_mjson_fail(j, "out of memory");
		goto out;
	}
	rc = jscan_value(&sc);
	if (rc)
		goto out;
	jscan_ws(&sc);
	if (sc.pos != len) {
		char buf[16];

		rc = jscan_fail_at(&sc, sc.pos, "unexpected %s after the JSON value",
				   jscan_what(&sc, sc.pos, buf, sizeof(buf)));
	}
out:
	free(sc.keys);
	free(sc.arena);
	return rc;
}

int vdf_mjson_parse(struct vdf_mjson *j, const char *text, size_t len, size_t max_bytes,
		    struct json_object **root)
{
	struct json_tokener *tok;
	struct json_object *obj;
	int rc;

	*root = NULL;
	if (!text && len)
		return vdf_mjson_fail(j, "no input");
	if (len > max_bytes || len > INT32_MAX) {
		vdf_mjson_fail(j, "input is %zu bytes, more than the limit of %zu", len, max_bytes);
		return -E2BIG;
	}
	if (!len)
		return vdf_mjson_fail(j, "empty input (expected a JSON object)");
	rc = jscan_run(j, text, len);
	if (rc)
		return rc;

	/* The input is valid JSON now; json-c builds the tree. */
	tok = json_tokener_new_ex(VDF_MANIFEST_MAX_DEPTH + 2);
	if (!tok) {
		vdf_mjson_fail(j, "out of memory");
		return -ENOMEM;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, text, (int)len);
	if (!obj || json_tokener_get_error(tok) != json_tokener_success) {
		rc = vdf_mjson_fail(j, "JSON parser: %s",
				    json_tokener_error_desc(json_tokener_get_error(tok)));
		json_object_put(obj);
		json_tokener_free(tok);
		return rc;
	}
	json_tokener_free(tok);
	if (!json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		return vdf_mjson_fail(j, "the top level must be a JSON object");
	}
	*root = obj;
	return 0;
}

/* ---- typed getters ---- */

/* A short rendering of a value for messages: "x" (with quotes), 12, {"a":1}... */
static const char *render(struct json_object *v, char *buf, size_t len)
{
	const char *s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
							      JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t n;

	if (!s)
		s = "?";
	n = strlen(s);
	if (n < len) {
		memcpy(buf, s, n + 1);
		return buf;
	}
	n = len - 4;
	while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--; /* don't cut a UTF-8 sequence */
	memcpy(buf, s, n);
	memcpy(buf + n, "...", 4);
	return buf;
}

#define RENDER_MAX 48

int vdf_mjson_check_keys(struct vdf_mjson *j, struct json_object *obj, const char *const *known)
{
	json_object_object_foreach(obj, key, val)
	{
		char list[256];
		size_t n = 0;
		bool ok = false;

		(void)val;
		for (const char *const *k = known; *k; k++)
			if (!strcmp(*k, key))
				ok = true;
		if (ok)
			continue;
		list[0] = '\0';
		for (const char *const *k = known; *k && n < sizeof(list); k++)
			n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s",
					      k == known ? "" : ", ", *k);
		vdf_mjson_push_key(j, key);
		return vdf_mjson_fail(j, "unknown key (known keys here: %s)", list);
	}
	return 0;
}

int vdf_mjson_expect_object(struct vdf_mjson *j, struct json_object *v)
{
	char buf[RENDER_MAX];

	if (!json_object_is_type(v, json_type_object))
		return vdf_mjson_fail(j, "expected an object, got %s", render(v, buf, sizeof(buf)));
	return 0;
}

int vdf_mjson_expect_array(struct vdf_mjson *j, struct json_object *v, size_t max, size_t *n)
{
	char buf[RENDER_MAX];

	if (!json_object_is_type(v, json_type_array))
		return vdf_mjson_fail(j, "expected an array, got %s", render(v, buf, sizeof(buf)));
	*n = json_object_array_length(v);
	if (*n > max)
		return vdf_mjson_fail(j, "has %zu entries, at most %zu are allowed", *n, max);
	return 0;
}

int vdf_mjson_get_int(struct vdf_mjson *j, struct json_object *v, int64_t min, int64_t max,
		      int64_t *out)
{
	char buf[RENDER_MAX];
	int64_t x;

	if (!json_object_is_type(v, json_type_int))
		goto bad;
	/* json-c saturates values beyond int64 (and stores 2^63.. as uint64):
	 * both end up outside any range used here. */
	x = json_object_get_int64(v);
	if (x < min || x > max || x == INT64_MAX)
		goto bad;
	*out = x;
	return 0;
bad:
	return vdf_mjson_fail(j, "expected an integer %" PRId64 "..%" PRId64 ", got %s", min, max,
			      render(v, buf, sizeof(buf)));
}

int vdf_mjson_get_bool(struct vdf_mjson *j, struct json_object *v, bool *out)
{
	char buf[RENDER_MAX];

	if (!json_object_is_type(v, json_type_boolean))
		return vdf_mjson_fail(j, "expected true or false, got %s",
				      render(v, buf, sizeof(buf)));
	*out = json_object_get_boolean(v);
	return 0;
}

int vdf_mjson_get_string(struct vdf_mjson *j, struct json_object *v, size_t min, size_t max,
			 const char **out)
{
	char buf[RENDER_MAX];
	const char *s;
	size_t n;

	if (!json_object_is_type(v, json_type_string))
		return vdf_mjson_fail(j, "expected a string, got %s", render(v, buf, sizeof(buf)));
	s = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if (strlen(s) != n)
		return vdf_mjson_fail(j, "string contains a NUL character");
	if (n < min)
		return vdf_mjson_fail(j, "must not be empty");
	if (n > max)
		return vdf_mjson_fail(j, "string is %zu bytes long, at most %zu are allowed", n,
				      max);
	*out = s;
	return 0;
}

int vdf_mjson_get_hex(struct vdf_mjson *j, struct json_object *v, uint64_t max, uint64_t *out)
{
	char buf[RENDER_MAX];
	uint64_t x = 0;

	if (json_object_is_type(v, json_type_int)) {
		int64_t i = json_object_get_int64(v);

		if (i < 0 || i == INT64_MAX || (uint64_t)i > max)
			goto bad;
		*out = (uint64_t)i;
		return 0;
	}
	if (json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);
		size_t n = (size_t)json_object_get_string_len(v);

		if (n < 3 || n > 18 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
			goto bad;
		for (size_t i = 2; i < n; i++) {
			int h = hexval((unsigned char)s[i]);

			if (h < 0)
				goto bad;
			x = x << 4 | (unsigned)h;
		}
		if (x > max)
			goto bad;
		*out = x;
		return 0;
	}
bad:
	return vdf_mjson_fail(
	    j, "expected a hex string \"0x0\"..\"0x%" PRIx64 "\" or an integer, got %s", max,
	    render(v, buf, sizeof(buf)));
}

/* ---- the manifest schema ---- */

/* Look up an optional key; *v is set (possibly to NULL for JSON null). */
static bool has(struct json_object *obj, const char *key, struct json_object **v)
{
	return json_object_object_get_ex(obj, key, v);
}

static int get_u32(struct vdf_mjson *j, struct json_object *obj, const char *key, int64_t min,
		   int64_t max, unsigned *out)
{
	struct json_object *v;
	size_t saved;
	int64_t x;
	int rc;

	if (!has(obj, key, &v))
		return 0;
	saved = vdf_mjson_push_key(j, key);
	rc = vdf_mjson_get_int(j, v, min, max, &x);
	if (rc)
		return rc;
	vdf_mjson_pop(j, saved);
	*out = (unsigned)x;
	return 0;
}

int vdf_manifest_parse_size(const char *s, uint64_t *out)
{
	uint64_t x = 0, mul = 1;
	size_t i = 0;

	if (!is_digit((unsigned char)s[0]))
		return -EINVAL;
	for (; is_digit((unsigned char)s[i]); i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (x > (UINT64_MAX - d) / 10)
			return -ERANGE;
		x = x * 10 + d;
	}
	switch (s[i]) {
	case '\0':
		break;
	case 'k':
	case 'K':
		mul = 1ull << 10;
		break;
	case 'm':
	case 'M':
		mul = 1ull << 20;
		break;
	case 'g':
	case 'G':
		mul = 1ull << 30;
		break;
	default:
		return -EINVAL;
	}
	if (s[i] && s[i + 1])
		return -EINVAL;
	if (x > UINT64_MAX / mul)
		return -ERANGE;
	*out = x * mul;
	return 0;
}

static int parse_dma_window(struct vdf_mjson *j, struct json_object *v, uint64_t *out)
{
	char buf[RENDER_MAX];
	uint64_t x;

	if (json_object_is_type(v, json_type_int)) {
		int64_t i = json_object_get_int64(v);

		if (i < 0 || i == INT64_MAX)
			goto bad;
		x = (uint64_t)i;
	} else if (json_object_is_type(v, json_type_string)) {
		if (vdf_manifest_parse_size(json_object_get_string(v), &x))
			goto bad;
	} else {
		goto bad;
	}
	if (x > VDF_MANIFEST_MAX_DMA)
		goto bad;
	if (!VDF_IS_ALIGNED(x, VDF_PAGE_SIZE))
		return vdf_mjson_fail(j,
				      "%" PRIu64 " bytes is not a multiple of the page size (%u)",
				      x, VDF_PAGE_SIZE);
	*out = x;
	return 0;
bad:
	return vdf_mjson_fail(j,
			      "expected a size up to 64G (bytes, or a string like \"64M\"), got %s",
			      render(v, buf, sizeof(buf)));
}

/* "bars" / "io_bars": a list of distinct BAR indexes 0..5, as a bit mask. */
static int parse_bar_list(struct vdf_mjson *j, struct json_object *v, uint8_t taken,
			  const char *other, uint8_t *mask)
{
	size_t n;
	int rc;

	rc = vdf_mjson_expect_array(j, v, VDF_MANIFEST_MAX_BARS, &n);
	if (rc)
		return rc;
	*mask = 0;
	for (size_t i = 0; i < n; i++) {
		size_t saved = vdf_mjson_push_index(j, i);
		int64_t bar;

		rc = vdf_mjson_get_int(j, json_object_array_get_idx(v, i), 0,
				       VDF_MANIFEST_MAX_BARS - 1, &bar);
		if (rc)
			return rc;
		if (*mask & BIT(bar))
			return vdf_mjson_fail(j, "BAR %" PRId64 " is listed twice", bar);
		if (taken & BIT(bar))
			return vdf_mjson_fail(j, "BAR %" PRId64 " is already listed in %s", bar,
					      other);
		*mask |= (uint8_t)BIT(bar);
		vdf_mjson_pop(j, saved);
	}
	return 0;
}

static int parse_irqs(struct vdf_mjson *j, struct json_object *obj, struct vdf_manifest_caps *c)
{
	static const char *const keys[] = {"msix", "msix_min", "msi", "msi_min", "intx", NULL};
	struct json_object *v;
	int rc;

	rc = vdf_mjson_expect_object(j, obj);
	if (!rc)
		rc = vdf_mjson_check_keys(j, obj, keys);
	if (!rc)
		rc = get_u32(j, obj, "msix", 0, VDF_MANIFEST_MAX_MSIX, &c->msix);
	if (!rc)
		rc = get_u32(j, obj, "msi", 0, VDF_MANIFEST_MAX_MSI, &c->msi);
	if (rc)
		return rc;
	/* Asking for a kind means the device must offer at least one vector of
	 * it, unless the manifest lowers the minimum to 0 (optional). */
	c->msix_min = c->msix ? 1 : 0;
	c->msi_min = c->msi ? 1 : 0;
	rc = get_u32(j, obj, "msix_min", 0, c->msix, &c->msix_min);
	if (!rc)
		rc = get_u32(j, obj, "msi_min", 0, c->msi, &c->msi_min);
	if (rc)
		return rc;
	if (has(obj, "intx", &v)) {
		size_t saved = vdf_mjson_push_key(j, "intx");

		rc = vdf_mjson_get_bool(j, v, &c->intx);
		if (rc)
			return rc;
		vdf_mjson_pop(j, saved);
	}
	return 0;
}

static int parse_caps(struct vdf_mjson *j, struct json_object *obj, struct vdf_manifest_caps *c)
{
	static const char *const keys[] = {"bars", "io_bars",	"dma_window",
					   "irqs", "cfg_write", NULL};
	struct json_object *v;
	int rc;

	rc = vdf_mjson_expect_object(j, obj);
	if (!rc)
		rc = vdf_mjson_check_keys(j, obj, keys);
	if (rc)
		return rc;
	VDF_MJSON_FIELD(j, obj, "bars", v, parse_bar_list(j, v, 0, "", &c->bars));
	VDF_MJSON_FIELD(j, obj, "io_bars", v,
			parse_bar_list(j, v, c->bars, "capabilities.bars", &c->io_bars));
	VDF_MJSON_FIELD(j, obj, "dma_window", v, parse_dma_window(j, v, &c->dma_window));
	VDF_MJSON_FIELD(j, obj, "irqs", v, parse_irqs(j, v, c));
	VDF_MJSON_FIELD(j, obj, "cfg_write", v, vdf_mjson_get_bool(j, v, &c->cfg_write));
	return 0;
}

static int parse_restart(struct vdf_mjson *j, struct json_object *obj,
			 struct vdf_manifest_restart *r)
{
	static const char *const keys[] = {"max_restarts", "window_s", "backoff_initial_ms",
					   "backoff_max_ms", NULL};
	int rc;

	rc = vdf_mjson_expect_object(j, obj);
	if (!rc)
		rc = vdf_mjson_check_keys(j, obj, keys);
	if (!rc)
		rc = get_u32(j, obj, "max_restarts", 0, 1000, &r->max_restarts);
	if (!rc)
		rc = get_u32(j, obj, "window_s", 1, 86400, &r->window_s);
	if (!rc)
		rc = get_u32(j, obj, "backoff_initial_ms", 1, 3600000, &r->backoff_initial_ms);
	if (!rc)
		rc = get_u32(j, obj, "backoff_max_ms", 1, 3600000, &r->backoff_max_ms);
	if (rc)
		return rc;
	if (r->backoff_max_ms < r->backoff_initial_ms) {
		vdf_mjson_push_key(j, "backoff_max_ms");
		return vdf_mjson_fail(j, "%u is smaller than backoff_initial_ms (%u)",
				      r->backoff_max_ms, r->backoff_initial_ms);
	}
	return 0;
}

static int parse_limits(struct vdf_mjson *j, struct json_object *root, uint64_t dma_window,
			struct vdf_manifest_limits *l)
{
	static const char *const keys[] = {"memory_mb", "fds", "memlock_mb", NULL};
	unsigned dma_mb = (unsigned)VDF_DIV_ROUND_UP(dma_window, 1ull << 20);
	struct json_object *obj;
	int rc;

	/* Not given: derived from the DMA window below. */
	l->memory_mb = UINT32_MAX;
	l->fds = VDF_MANIFEST_DEF_FDS;
	l->memlock_mb = UINT32_MAX;
	vdf_mjson_push_key(j, "limits");
	if (has(root, "limits", &obj)) {
		rc = vdf_mjson_expect_object(j, obj);
		if (!rc)
			rc = vdf_mjson_check_keys(j, obj, keys);
		if (!rc)
			rc = get_u32(j, obj, "memory_mb", 16, 65536, &l->memory_mb);
		if (!rc)
			rc = get_u32(j, obj, "fds", 8, 65536, &l->fds);
		if (!rc)
			rc = get_u32(j, obj, "memlock_mb", 0, 65536, &l->memlock_mb);
		if (rc)
			return rc;
	}
	/* The driver pins its whole DMA window (VFIO_IOMMU_MAP_DMA counts against
	 * RLIMIT_MEMLOCK) and maps it into its address space. */
	if (l->memlock_mb == UINT32_MAX) {
		l->memlock_mb = dma_mb;
	} else if (l->memlock_mb < dma_mb) {
		vdf_mjson_push_key(j, "memlock_mb");
		return vdf_mjson_fail(j, "%u MiB is smaller than capabilities.dma_window (%u MiB)",
				      l->memlock_mb, dma_mb);
	}
	if (l->memory_mb == UINT32_MAX) {
		l->memory_mb = VDF_MANIFEST_DEF_MEMORY_MB + dma_mb;
	} else if (l->memory_mb <= dma_mb) {
		vdf_mjson_push_key(j, "memory_mb");
		return vdf_mjson_fail(j, "%u MiB does not leave room for the DMA window (%u MiB)",
				      l->memory_mb, dma_mb);
	}
	vdf_mjson_pop(j, 0);
	return 0;
}

/* A u64 of client_limits: an integer, or for byte counts also a size string. */
static int get_limit(struct vdf_mjson *j, struct json_object *v, bool size, uint64_t *out)
{
	char buf[RENDER_MAX];
	int64_t i;

	if (json_object_is_type(v, json_type_int)) {
		i = json_object_get_int64(v);
		if (i < 0 || i == INT64_MAX) /* INT64_MAX: json-c saturated */
			goto bad;
		*out = (uint64_t)i;
		return 0;
	}
	if (size && json_object_is_type(v, json_type_string) &&
	    !vdf_manifest_parse_size(json_object_get_string(v), out))
		return 0;
bad:
	return vdf_mjson_fail(j, "expected %s, got %s",
			      size ? "a non-negative integer or a size like \"1M\""
				   : "a non-negative integer",
			      render(v, buf, sizeof(buf)));
}

/* One limit's rate and burst: 0 = unlimited; a rate needs a burst. */
static int check_limit(struct vdf_mjson *j, const char *rate_key, uint64_t rate,
		       const char *burst_key, uint64_t burst, uint64_t min_burst)
{
	size_t saved;

	if (!rate && burst) {
		vdf_mjson_push_key(j, burst_key);
		return vdf_mjson_fail(j, "has no effect without %s (0 = unlimited)", rate_key);
	}
	if (!rate)
		return 0;
	saved = vdf_mjson_push_key(j, burst_key);
	if (!burst)
		return vdf_mjson_fail(j, "is required (and not 0) when %s is set", rate_key);
	if (burst < min_burst)
		return vdf_mjson_fail(
		    j, "%" PRIu64 " is below %" PRIu64 " bytes: a single request could never pass",
		    burst, min_burst);
	if (burst > VDF_MANIFEST_MAX_BURST)
		return vdf_mjson_fail(j, "%" PRIu64 " is above the largest burst, %llu", burst,
				      (unsigned long long)VDF_MANIFEST_MAX_BURST);
	vdf_mjson_pop(j, saved);
	return 0;
}

static int parse_client_limits(struct vdf_mjson *j, struct json_object *obj,
			       enum vdf_manifest_class cls, struct vdf_manifest_client_limits *l)
{
	static const char *const keys[] = {"ops_per_sec", "ops_burst", "bytes_per_sec",
					   "bytes_burst", NULL};
	struct json_object *v;
	int rc;

	rc = vdf_mjson_expect_object(j, obj);
	if (!rc)
		rc = vdf_mjson_check_keys(j, obj, keys);
	if (rc)
		return rc;
	if (cls != VDF_MANIFEST_CLASS_BLOCK)
		return vdf_mjson_fail(j, "only block drivers take clients (class is %s)",
				      vdf_manifest_class_name(cls));
	VDF_MJSON_FIELD(j, obj, "ops_per_sec", v, get_limit(j, v, false, &l->ops_per_sec));
	VDF_MJSON_FIELD(j, obj, "ops_burst", v, get_limit(j, v, false, &l->ops_burst));
	VDF_MJSON_FIELD(j, obj, "bytes_per_sec", v, get_limit(j, v, true, &l->bytes_per_sec));
	VDF_MJSON_FIELD(j, obj, "bytes_burst", v, get_limit(j, v, true, &l->bytes_burst));
	rc = check_limit(j, "ops_per_sec", l->ops_per_sec, "ops_burst", l->ops_burst, 1);
	if (!rc)
		rc = check_limit(j, "bytes_per_sec", l->bytes_per_sec, "bytes_burst",
				 l->bytes_burst, VDF_MANIFEST_MIN_BYTES_BURST);
	return rc;
}

static bool name_ok(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || is_digit((unsigned char)*s) || *s == '_' ||
		      *s == '-'))
			return false;
	return true;
}

/* ASCII only, whatever the locale. */
static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool version_ok(const char *s)
{
	for (; *s; s++)
		if (!(is_alnum(*s) || strchr(".+_~-", *s)))
			return false;
	return true;
}

static bool compatible_ok(const char *s)
{
	for (; *s; s++)
		if (!(is_alnum(*s) || strchr(",._+-", *s)))
			return false;
	return true;
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* An optional hex field of a rule. */
static int rule_hex(struct vdf_mjson *j, struct json_object *obj, const char *key, uint64_t max,
		    uint32_t bit, struct vdf_match_rule *r, uint64_t *out)
{
	struct json_object *v;
	size_t saved;
	int rc;

	if (!has(obj, key, &v))
		return 0;
	saved = vdf_mjson_push_key(j, key);
	rc = vdf_mjson_get_hex(j, v, max, out);
	if (rc)
		return rc;
	vdf_mjson_pop(j, saved);
	r->fields |= bit;
	return 0;
}

/* Fields shared by PCI and USB rules: vendor/device(product)/class/class_mask. */
static int rule_ids(struct vdf_mjson *j, struct json_object *obj, const char *device_key,
		    struct vdf_match_rule *r)
{
	uint64_t x = 0, mask = 0xffffff;
	struct json_object *v;
	int rc;

	rc = rule_hex(j, obj, "vendor", 0xffff, VDF_MATCH_VENDOR, r, &x);
	if (rc)
		return rc;
	r->vendor = (uint16_t)x;
	rc = rule_hex(j, obj, device_key, 0xffff, VDF_MATCH_DEVICE, r, &x);
	if (rc)
		return rc;
	r->device = (uint16_t)x;
	if ((r->fields & VDF_MATCH_DEVICE) && !(r->fields & VDF_MATCH_VENDOR)) {
		vdf_mjson_push_key(j, device_key);
		return vdf_mjson_fail(j, "needs \"vendor\" too (IDs are per vendor)");
	}
	rc = rule_hex(j, obj, "class", 0xffffff, VDF_MATCH_CLASS, r, &x);
	if (rc)
		return rc;
	r->class_code = (uint32_t)x;
	if (has(obj, "class_mask", &v)) {
		size_t saved = vdf_mjson_push_key(j, "class_mask");

		if (!(r->fields & VDF_MATCH_CLASS))
			return vdf_mjson_fail(j, "needs \"class\" too");
		rc = vdf_mjson_get_hex(j, v, 0xffffff, &mask);
		if (rc)
			return rc;
		if (!mask)
			return vdf_mjson_fail(j, "must not be 0 (it would match any class)");
		if (r->class_code & ~mask)
			return vdf_mjson_fail(j,
					      "class 0x%06x has bits outside the mask 0x%06" PRIx64,
					      r->class_code, mask);
		vdf_mjson_pop(j, saved);
	}
	r->class_mask = (r->fields & VDF_MATCH_CLASS) ? (uint32_t)mask : 0;
	return 0;
}

static int parse_rule(struct vdf_mjson *j, struct json_object *obj, struct vdf_match_rule *r)
{
	static const char *const pci_keys[] = {"vendor",	"device", "subsys_vendor",
					       "subsys_device", "class",  "class_mask",
					       "score",		NULL};
	static const char *const usb_keys[] = {"usb", "score", NULL};
	static const char *const usb_inner[] = {"vendor", "product", "class", "class_mask", NULL};
	static const char *const dt_keys[] = {"compatible", "score", NULL};
	struct json_object *v, *usb = NULL, *compat = NULL;
	bool is_usb, is_dt;
	int64_t bonus;
	size_t saved;
	uint64_t x = 0;
	int rc;

	rc = vdf_mjson_expect_object(j, obj);
	if (rc)
		return rc;
	is_usb = has(obj, "usb", &usb);
	is_dt = has(obj, "compatible", &compat);
	if (is_usb && is_dt)
		return vdf_mjson_fail(j, "a rule is for one bus: \"usb\" and \"compatible\" "
					 "cannot be combined");
	if (is_usb) {
		r->bus = VDF_MATCH_BUS_USB;
		rc = vdf_mjson_check_keys(j, obj, usb_keys);
		if (rc)
			return rc;
		saved = vdf_mjson_push_key(j, "usb");
		rc = vdf_mjson_expect_object(j, usb);
		if (!rc)
			rc = vdf_mjson_check_keys(j, usb, usb_inner);
		if (!rc)
			rc = rule_ids(j, usb, "product", r);
		if (rc)
			return rc;
		if (!r->fields)
			return vdf_mjson_fail(j, "a USB rule needs vendor, product or class");
		vdf_mjson_pop(j, saved);
	} else if (is_dt) {
		const char *s;

		r->bus = VDF_MATCH_BUS_DT;
		rc = vdf_mjson_check_keys(j, obj, dt_keys);
		if (rc)
			return rc;
		saved = vdf_mjson_push_key(j, "compatible");
		rc = vdf_mjson_get_string(j, compat, 1, VDF_MANIFEST_COMPAT_MAX, &s);
		if (rc)
			return rc;
		if (!compatible_ok(s))
			return vdf_mjson_fail(j, "may contain only letters, digits and ,._+-");
		snprintf(r->compatible, sizeof(r->compatible), "%s", s);
		vdf_mjson_pop(j, saved);
	} else {
		r->bus = VDF_MATCH_BUS_PCI;
		rc = vdf_mjson_check_keys(j, obj, pci_keys);
		if (!rc)
			rc = rule_ids(j, obj, "device", r);
		if (!rc)
			rc = rule_hex(j, obj, "subsys_vendor", 0xffff, VDF_MATCH_SUBSYS_VENDOR, r,
				      &x);
		if (rc)
			return rc;
		r->subsys_vendor = (uint16_t)x;
		rc = rule_hex(j, obj, "subsys_device", 0xffff, VDF_MATCH_SUBSYS_DEVICE, r, &x);
		if (rc)
			return rc;
		r->subsys_device = (uint16_t)x;
		if ((r->fields & VDF_MATCH_SUBSYS_DEVICE) &&
		    !(r->fields & VDF_MATCH_SUBSYS_VENDOR)) {
			vdf_mjson_push_key(j, "subsys_device");
			return vdf_mjson_fail(j, "needs \"subsys_vendor\" too");
		}
		if (!r->fields)
			return vdf_mjson_fail(j, "a rule needs at least one of vendor, device, "
						 "subsys_vendor, subsys_device, class");
	}
	if (has(obj, "score", &v)) {
		saved = vdf_mjson_push_key(j, "score");
		rc = vdf_mjson_get_int(j, v, VDF_MATCH_BONUS_MIN, VDF_MATCH_BONUS_MAX, &bonus);
		if (rc)
			return rc;
		r->bonus = (int)bonus;
		vdf_mjson_pop(j, saved);
	}
	return 0;
}

static int parse_match(struct vdf_mjson *j, struct json_object *v, struct vdf_manifest *m)
{
	size_t n;
	int rc;

	rc = vdf_mjson_expect_array(j, v, VDF_MANIFEST_MAX_RULES, &n);
	if (rc)
		return rc;
	if (!n)
		return vdf_mjson_fail(j, "needs at least one rule");
	m->rules = calloc(n, sizeof(*m->rules));
	if (!m->rules) {
		vdf_mjson_fail(j, "out of memory");
		return -ENOMEM;
	}
	m->nrules = (unsigned)n;
	for (size_t i = 0; i < n; i++) {
		size_t saved = vdf_mjson_push_index(j, i);

		rc = parse_rule(j, json_object_array_get_idx(v, i), &m->rules[i]);
		if (rc)
			return rc;
		vdf_mjson_pop(j, saved);
	}
	return 0;
}

static int parse_args(struct vdf_mjson *j, struct json_object *v, struct vdf_manifest *m)
{
	size_t n;
	int rc;

	rc = vdf_mjson_expect_array(j, v, VDF_MANIFEST_MAX_ARGS, &n);
	if (rc)
		return rc;
	if (!n)
		return 0;
	m->args = calloc(n, sizeof(*m->args));
	if (!m->args) {
		vdf_mjson_fail(j, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		size_t saved = vdf_mjson_push_index(j, i);
		const char *s, *p;

		rc = vdf_mjson_get_string(j, json_object_array_get_idx(v, i), 0,
					  VDF_MANIFEST_ARG_MAX, &s);
		if (rc)
			return rc;
		if (!printable(s))
			return vdf_mjson_fail(j, "contains a control character");
		for (p = strchr(s, '{'); p; p = strchr(p + 1, '{'))
			if (strncmp(p, "{pci}", 5))
				return vdf_mjson_fail(j,
						      "unknown placeholder at \"%.12s\" (only "
						      "{pci} is defined)",
						      p);
		m->args[i] = strdup(s);
		if (!m->args[i]) {
			vdf_mjson_fail(j, "out of memory");
			return -ENOMEM;
		}
		m->nargs++;
		vdf_mjson_pop(j, saved);
	}
	return 0;
}

static int parse_root(struct vdf_mjson *j, struct json_object *root, struct vdf_manifest *m)
{
	static const char *const keys[] = {"name",   "version",	      "class",	      "binary",
					   "args",   "match",	      "capabilities", "restart",
					   "limits", "client_limits", "heartbeat_ms", NULL};
	static const char *const required[] = {"name", "version", "class", "binary", "match", NULL};
	struct json_object *v;
	const char *s;
	size_t saved;
	int rc, cls;

	rc = vdf_mjson_check_keys(j, root, keys);
	if (rc)
		return rc;
	for (const char *const *k = required; *k; k++)
		if (!has(root, *k, &v))
			return vdf_mjson_fail(j, "missing required key \"%s\"", *k);

	has(root, "name", &v);
	saved = vdf_mjson_push_key(j, "name");
	rc = vdf_mjson_get_string(j, v, 1, VDF_MANIFEST_NAME_MAX, &s);
	if (rc)
		return rc;
	if (!name_ok(s))
		return vdf_mjson_fail(j, "may contain only a-z, 0-9, '_' and '-', got \"%s\"", s);
	snprintf(m->name, sizeof(m->name), "%s", s);
	vdf_mjson_pop(j, saved);

	has(root, "version", &v);
	saved = vdf_mjson_push_key(j, "version");
	rc = vdf_mjson_get_string(j, v, 1, VDF_MANIFEST_VERSION_MAX, &s);
	if (rc)
		return rc;
	if (!version_ok(s))
		return vdf_mjson_fail(j, "may contain only letters, digits and .+_~-");
	snprintf(m->version, sizeof(m->version), "%s", s);
	vdf_mjson_pop(j, saved);

	has(root, "class", &v);
	saved = vdf_mjson_push_key(j, "class");
	rc = vdf_mjson_get_string(j, v, 1, 32, &s);
	if (rc)
		return rc;
	cls = vdf_manifest_class_parse(s);
	if (cls < 0)
		return vdf_mjson_fail(j,
				      "expected one of block, net, display, usb-host, input, "
				      "char, test, got \"%s\"",
				      s);
	m->device_class = (enum vdf_manifest_class)cls;
	vdf_mjson_pop(j, saved);

	has(root, "binary", &v);
	saved = vdf_mjson_push_key(j, "binary");
	rc = vdf_mjson_get_string(j, v, 1, VDF_MANIFEST_BINARY_MAX, &s);
	if (rc)
		return rc;
	if (!printable(s))
		return vdf_mjson_fail(j, "contains a control character");
	if (s[strlen(s) - 1] == '/')
		return vdf_mjson_fail(j, "names a directory, not a program");
	m->binary = strdup(s);
	m->binary_path = strdup(s);
	if (!m->binary || !m->binary_path) {
		vdf_mjson_fail(j, "out of memory");
		return -ENOMEM;
	}
	vdf_mjson_pop(j, saved);

	VDF_MJSON_FIELD(j, root, "args", v, parse_args(j, v, m));

	has(root, "match", &v);
	saved = vdf_mjson_push_key(j, "match");
	rc = parse_match(j, v, m);
	if (rc)
		return rc;
	vdf_mjson_pop(j, saved);

	VDF_MJSON_FIELD(j, root, "capabilities", v, parse_caps(j, v, &m->caps));

	m->restart.max_restarts = VDF_MANIFEST_DEF_MAX_RESTARTS;
	m->restart.window_s = VDF_MANIFEST_DEF_WINDOW_S;
	m->restart.backoff_initial_ms = VDF_MANIFEST_DEF_BACKOFF_MS;
	m->restart.backoff_max_ms = VDF_MANIFEST_DEF_BACKOFF_MAX;
	VDF_MJSON_FIELD(j, root, "restart", v, parse_restart(j, v, &m->restart));

	rc = parse_limits(j, root, m->caps.dma_window, &m->limits);
	if (rc)
		return rc;

	VDF_MJSON_FIELD(j, root, "client_limits", v,
			parse_client_limits(j, v, m->device_class, &m->client_limits));

	rc = get_u32(j, root, "heartbeat_ms", 0, 600000, &m->heartbeat_ms);
	if (rc)
		return rc;
	if (m->heartbeat_ms && m->heartbeat_ms < 10) {
		vdf_mjson_push_key(j, "heartbeat_ms");
		return vdf_mjson_fail(j, "expected 0 (off) or 10..600000, got %u", m->heartbeat_ms);
	}
	return 0;
}

int vdf_manifest_parse(const char *text, size_t len, const char *origin, struct vdf_manifest *m,
		       char *err, size_t errlen)
{
	struct json_object *root;
	struct vdf_mjson j;
	int rc;

	memset(m, 0, sizeof(*m));
	vdf_mjson_init(&j, origin, err, errlen);
	rc = vdf_mjson_parse(&j, text, len, VDF_MANIFEST_MAX_BYTES, &root);
	if (rc)
		return rc;
	rc = parse_root(&j, root, m);
	json_object_put(root);
	if (!rc) {
		m->origin = strdup(j.origin);
		if (!m->origin)
			rc = -ENOMEM;
	}
	if (rc) {
		vdf_manifest_free(m);
		return rc;
	}
	return 0;
}

void vdf_manifest_free(struct vdf_manifest *m)
{
	if (!m)
		return;
	for (unsigned i = 0; i < m->nargs; i++)
		free(m->args[i]);
	free(m->args);
	free(m->rules);
	free(m->binary);
	free(m->binary_path);
	free(m->origin);
	memset(m, 0, sizeof(*m));
}

int vdf_manifest_resolve(struct vdf_manifest *m, const char *bindir)
{
	char *path;

	if (!m->binary)
		return -EINVAL;
	if (m->binary[0] == '/' || !bindir)
		path = strdup(m->binary);
	else if (asprintf(&path, "%s/%s", bindir, m->binary) < 0)
		path = NULL;
	if (!path)
		return -ENOMEM;
	if (strlen(path) >= 4096) {
		free(path);
		return -ENAMETOOLONG;
	}
	free(m->binary_path);
	m->binary_path = path;
	return 0;
}

/* Length of s with every "{pci}" replaced by pci (written to out if not NULL). */
static size_t expand_arg(const char *s, const char *pci, char *out)
{
	size_t n = 0, plen = strlen(pci);

	while (*s) {
		if (!strncmp(s, "{pci}", 5)) {
			if (out)
				memcpy(out + n, pci, plen);
			n += plen;
			s += 5;
			continue;
		}
		if (out)
			out[n] = *s;
		n++;
		s++;
	}
	if (out)
		out[n] = '\0';
	return n + 1;
}

int vdf_manifest_build_argv(const struct vdf_manifest *m, const char *pci_addr, char ***argvp)
{
	const char *bin = m->binary_path ? m->binary_path : m->binary;
	size_t size, nptr = (size_t)m->nargs + 2;
	char **argv, *p;

	*argvp = NULL;
	if (!bin)
		return -EINVAL;
	if (!pci_addr)
		pci_addr = "";
	size = nptr * sizeof(char *) + strlen(bin) + 1;
	for (unsigned i = 0; i < m->nargs; i++)
		size += expand_arg(m->args[i], pci_addr, NULL);
	argv = malloc(size);
	if (!argv)
		return -ENOMEM;
	p = (char *)(argv + nptr);
	argv[0] = p;
	memcpy(p, bin, strlen(bin) + 1); /* the program path is taken literally */
	p += strlen(bin) + 1;
	for (unsigned i = 0; i < m->nargs; i++) {
		argv[i + 1] = p;
		p += expand_arg(m->args[i], pci_addr, p);
	}
	argv[nptr - 1] = NULL;
	*argvp = argv;
	return 0;
}

static int errmsg(char *err, size_t errlen, int rc, const char *fmt, ...) VDF_PRINTF(4, 5);

static int errmsg(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* Read a whole small regular file. */
int vdf_mjson_read_file(const char *path, size_t max, char **textp, size_t *lenp, char *err,
			size_t errlen)
{
	size_t len = 0;
	struct stat st;
	char *text;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		rc = -errno;
		return errmsg(err, errlen, rc, "%s: cannot open: %s", path, strerror(-rc));
	}
	if (fstat(fd, &st)) {
		rc = -errno;
		errmsg(err, errlen, rc, "%s: cannot stat: %s", path, strerror(-rc));
		goto out_close;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = errmsg(err, errlen, -EINVAL, "%s: not a regular file", path);
		goto out_close;
	}
	/* A manifest decides what a driver is granted: anyone who can edit it
	 * could grant themselves hardware. */
	if (st.st_mode & S_IWOTH) {
		rc = errmsg(err, errlen, -EPERM, "%s: writable by everyone; refused", path);
		goto out_close;
	}
	if ((uint64_t)st.st_size > max) {
		rc = errmsg(err, errlen, -E2BIG, "%s: %lld bytes, more than the limit of %zu", path,
			    (long long)st.st_size, max);
		goto out_close;
	}
	text = malloc(max + 1);
	if (!text) {
		rc = errmsg(err, errlen, -ENOMEM, "%s: out of memory", path);
		goto out_close;
	}
	/* Read up to max + 1 bytes: the file may have grown since fstat. */
	while (len <= max) {
		ssize_t n = read(fd, text + len, max + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			errmsg(err, errlen, rc, "%s: read: %s", path, strerror(-rc));
			goto out_free;
		}
		if (!n)
			break;
		len += (size_t)n;
	}
	if (len > max) {
		rc = errmsg(err, errlen, -E2BIG, "%s: more than the limit of %zu bytes", path, max);
		goto out_free;
	}
	close(fd);
	*textp = text;
	*lenp = len;
	return 0;

out_free:
	free(text);
out_close:
	close(fd);
	return rc;
}

int vdf_manifest_load(const char *path, const char *bindir, struct vdf_manifest *m, char *err,
		      size_t errlen)
{
	char *text = NULL, *dir = NULL;
	size_t len = 0;
	int rc;

	memset(m, 0, sizeof(*m));
	rc = vdf_mjson_read_file(path, VDF_MANIFEST_MAX_BYTES, &text, &len, err, errlen);
	if (rc)
		return rc;
	rc = vdf_manifest_parse(text, len, path, m, err, errlen);
	free(text);
	if (rc)
		return rc;
	if (!bindir) {
		const char *slash = strrchr(path, '/');

		dir = slash ? strndup(path, (size_t)(slash - path + (slash == path))) : strdup(".");
		if (!dir) {
			rc = -ENOMEM;
			goto out_free;
		}
		bindir = dir;
	}
	rc = vdf_manifest_resolve(m, bindir);
	free(dir);
	if (rc)
		goto out_free;
	return 0;

out_free:
	errmsg(err, errlen, rc, "%s: binary: %s", path, strerror(-rc));
	vdf_manifest_free(m);
	return rc;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool wanted_file(const char *name)
{
	size_t n = strlen(name);

	if (name[0] == '.')
		return false;
	return (n > 9 && !strcmp(name + n - 9, ".manifest")) ||
	       (n > 5 && !strcmp(name + n - 5, ".json"));
}

int vdf_manifest_set_add_error(struct vdf_manifest_set *set, const char *msg)
{
	char **errors = realloc(set->errors, (set->nerrors + 1) * sizeof(*errors));

	if (!errors)
		return -ENOMEM;
	set->errors = errors;
	errors[set->nerrors] = strdup(msg);
	if (!errors[set->nerrors])
		return -ENOMEM;
	set->nerrors++;
	return 0;
}

const struct vdf_manifest *vdf_manifest_set_find(const struct vdf_manifest_set *set,
						 const char *name)
{
	for (size_t i = 0; set && i < set->count; i++)
		if (!strcmp(set->items[i].name, name))
			return &set->items[i];
	return NULL;
}

int vdf_manifest_set_add(struct vdf_manifest_set *set, struct vdf_manifest *m)
{
	struct vdf_manifest *items;
	size_t pos = 0;

	if (vdf_manifest_set_find(set, m->name))
		return -EEXIST;
	items = realloc(set->items, (set->count + 1) * sizeof(*items));
	if (!items)
		return -ENOMEM;
	set->items = items;
	while (pos < set->count && strcmp(items[pos].name, m->name) < 0)
		pos++;
	memmove(&items[pos + 1], &items[pos], (set->count - pos) * sizeof(*items));
	items[pos] = *m;
	set->count++;
	memset(m, 0, sizeof(*m)); /* owned by the set */
	return 0;
}

void vdf_manifest_set_free(struct vdf_manifest_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->count; i++)
		vdf_manifest_free(&set->items[i]);
	free(set->items);
	for (size_t i = 0; i < set->nerrors; i++)
		free(set->errors[i]);
	free(set->errors);
	memset(set, 0, sizeof(*set));
}

int vdf_manifest_load_dir(const char *dir, const char *bindir, struct vdf_manifest_set *set)
{
	char **names = NULL, err[VDF_MANIFEST_ERR_MAX];
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int rc = 0;

	memset(set, 0, sizeof(*set));
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((errno = 0, de = readdir(d))) {
		if (!wanted_file(de->d_name))
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			char **nn = realloc(names, ncap * sizeof(*nn));

			if (!nn) {
				rc = -ENOMEM;
				goto out_names;
			}
			names = nn;
			cap = ncap;
		}
		names[n] = strdup(de->d_name);
		if (!names[n]) {
			rc = -ENOMEM;
			goto out_names;
		}
		n++;
	}
	if (errno) {
		rc = -errno;
		goto out_names;
	}
	if (n)
		qsort(names, n, sizeof(*names), name_cmp);

	for (size_t i = 0; i < n; i++) {
		struct vdf_manifest m;
		char *path;

		if (asprintf(&path, "%s/%s", dir, names[i]) < 0) {
			rc = -ENOMEM;
			goto out_names;
		}
		rc = vdf_manifest_load(path, bindir, &m, err, sizeof(err));
		if (!rc) {
			const struct vdf_manifest *prev = vdf_manifest_set_find(set, m.name);

			if (prev) {
				snprintf(err, sizeof(err), "%s: name: \"%s\" is already used by %s",
					 path, m.name, prev->origin);
				rc = -EEXIST;
			} else {
				rc = vdf_manifest_set_add(set, &m);
			}
			vdf_manifest_free(&m);
		}
		free(path);
		if (rc == -ENOMEM)
			goto out_names;
		if (rc && vdf_manifest_set_add_error(set, err)) {
			rc = -ENOMEM;
			goto out_names;
		}
		rc = 0;
	}

out_names:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	if (rc)
		vdf_manifest_set_free(set);
	return rc;
}
