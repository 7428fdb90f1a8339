// SPDX-License-Identifier: MIT
/*
 * Device management policy: parsing the policy file and deciding whether VDF
 * manages a device. See policy.h for the decision order.
 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "match.h"
#include "policy.h"

void vdf_policy_init(struct vdf_policy *p)
{
	memset(p, 0, sizeof(*p));
}

static bool is_hex(char c)
{
	return isxdigit((unsigned char)c) != 0;
}

/* An address pattern: glob characters over lower-case hex, ':' and '.'; a
 * pattern without wildcards must be a full address "dddd:bb:dd.f". */
static int parse_addr(struct vdf_mjson *j, struct json_object *v, char *out)
{
	const char *s;
	bool wild = false;
	size_t n;
	int rc;

	rc = vdf_mjson_get_string(j, v, 1, VDF_POLICY_PATTERN_MAX, &s);
	if (rc)
		return rc;
	n = strlen(s);
	for (size_t i = 0; i < n; i++) {
		char c = (char)tolower((unsigned char)s[i]);

		if (c == '*' || c == '?')
			wild = true;
		else if (!is_hex(c) && c != ':' && c != '.')
			return vdf_mjson_fail(j,
					      "\"%s\": an address pattern may contain only hex "
					      "digits, ':', '.', '*' and '?'",
					      s);
		out[i] = c;
	}
	out[n] = '\0';
	if (!wild && !(n == 12 && is_hex(out[0]) && is_hex(out[1]) && is_hex(out[2]) &&
		       is_hex(out[3]) && out[4] == ':' && is_hex(out[5]) && is_hex(out[6]) &&
		       out[7] == ':' && is_hex(out[8]) && is_hex(out[9]) && out[10] == '.' &&
		       out[11] >= '0' && out[11] <= '7'))
		return vdf_mjson_fail(j,
				      "\"%s\" is not a PCI address like \"0000:00:04.0\" "
				      "(or a pattern with '*')",
				      s);
	return 0;
}

static int parse_id_half(const char *s, size_t n, uint16_t *val, bool *any)
{
	unsigned x = 0;

	if (n == 1 && s[0] == '*') {
		*any = true;
		*val = 0;
		return 0;
	}
	if (n != 4)
		return -EINVAL;
	for (size_t i = 0; i < 4; i++) {
		if (!is_hex(s[i]))
			return -EINVAL;
		x = x << 4 | (unsigned)(isdigit((unsigned char)s[i])
					    ? s[i] - '0'
					    : tolower((unsigned char)s[i]) - 'a' + 10);
	}
	*any = false;
	*val = (uint16_t)x;
	return 0;
}

static int parse_id(struct vdf_mjson *j, struct json_object *v, struct vdf_policy_id *id)
{
	const char *s, *colon;
	int rc;

	rc = vdf_mjson_get_string(j, v, 1, 16, &s);
	if (rc)
		return rc;
	colon = strchr(s, ':');
	if (!colon || parse_id_half(s, (size_t)(colon - s), &id->vendor, &id->any_vendor) ||
	    parse_id_half(colon + 1, strlen(colon + 1), &id->device, &id->any_device))
		return vdf_mjson_fail(j,
				      "\"%s\" is not a vendor:device ID like \"1b36:0010\" "
				      "(either half may be \"*\")",
				      s);
	return 0;
}

static bool id_equal(const struct vdf_policy_id *a, const struct vdf_policy_id *b)
{
	return a->any_vendor == b->any_vendor && a->any_device == b->any_device &&
	       (a->any_vendor || a->vendor == b->vendor) &&
	       (a->any_device || a->device == b->device);
}

static int parse_list(struct vdf_mjson *j, struct json_object *obj, struct vdf_policy_list *l)
{
	static const char *const keys[] = {"addresses", "ids", NULL};
	struct json_object *v;
	size_t n, saved;
	int rc;

	rc = vdf_mjson_expect_object(j, obj);
	if (!rc)
		rc = vdf_mjson_check_keys(j, obj, keys);
	if (rc)
		return rc;
	if (json_object_object_get_ex(obj, "addresses", &v)) {
		saved = vdf_mjson_push_key(j, "addresses");
		rc = vdf_mjson_expect_array(j, v, VDF_POLICY_MAX_ENTRIES, &n);
		if (rc)
			return rc;
		for (size_t i = 0; i < n; i++) {
			size_t s2 = vdf_mjson_push_index(j, i);

			rc = parse_addr(j, json_object_array_get_idx(v, i), l->addrs[l->naddrs]);
			if (rc)
				return rc;
			for (unsigned k = 0; k < l->naddrs; k++)
				if (!strcmp(l->addrs[k], l->addrs[l->naddrs]))
					return vdf_mjson_fail(j, "\"%s\" is listed twice",
							      l->addrs[k]);
			l->naddrs++;
			vdf_mjson_pop(j, s2);
		}
		vdf_mjson_pop(j, saved);
	}
	if (json_object_object_get_ex(obj, "ids", &v)) {
		saved = vdf_mjson_push_key(j, "ids");
		rc = vdf_mjson_expect_array(j, v, VDF_POLICY_MAX_ENTRIES, &n);
		if (rc)
			return rc;
		for (size_t i = 0; i < n; i++) {
			size_t s2 = vdf_mjson_push_index(j, i);

			rc = parse_id(j, json_object_array_get_idx(v, i), &l->ids[l->nids]);
			if (rc)
				return rc;
			for (unsigned k = 0; k < l->nids; k++)
				if (id_equal(&l->ids[k], &l->ids[l->nids]))
					return vdf_mjson_fail(j, "listed twice");
			l->nids++;
			vdf_mjson_pop(j, s2);
		}
		vdf_mjson_pop(j, saved);
	}
	return 0;
}

static int parse_classes(struct vdf_mjson *j, struct json_object *v, struct vdf_policy *p)
{
	size_t n;
	int rc;

	rc = vdf_mjson_expect_array(j, v, VDF_MANIFEST_CLASS_COUNT, &n);
	if (rc)
		return rc;
	p->classes_set = true;
	for (size_t i = 0; i < n; i++) {
		size_t saved = vdf_mjson_push_index(j, i);
		const char *s;
		int c;

		rc = vdf_mjson_get_string(j, json_object_array_get_idx(v, i), 1, 32, &s);
		if (rc)
			return rc;
		c = vdf_manifest_class_parse(s);
		if (c < 0)
			return vdf_mjson_fail(j,
					      "expected one of block, net, display, usb-host, "
					      "input, char, test, got \"%s\"",
					      s);
		if (p->classes & BIT(c))
			return vdf_mjson_fail(j, "\"%s\" is listed twice", s);
		p->classes |= BIT(c);
		vdf_mjson_pop(j, saved);
	}
	return 0;
}

static int parse_root(struct vdf_mjson *j, struct json_object *root, struct vdf_policy *p)
{
	static const char *const keys[] = {"allow", "deny", "classes", "take_from_kernel", NULL};
	struct json_object *v;
	int rc;

	rc = vdf_mjson_check_keys(j, root, keys);
	if (rc)
		return rc;
	VDF_MJSON_FIELD(j, root, "allow", v, parse_list(j, v, &p->allow));
	VDF_MJSON_FIELD(j, root, "deny", v, parse_list(j, v, &p->deny));
	VDF_MJSON_FIELD(j, root, "classes", v, parse_classes(j, v, p));
	VDF_MJSON_FIELD(j, root, "take_from_kernel", v,
			vdf_mjson_get_bool(j, v, &p->take_from_kernel));
	return 0;
}

int vdf_policy_parse(const char *text, size_t len, const char *origin, struct vdf_policy *p,
		     char *err, size_t errlen)
{
	struct json_object *root;
	struct vdf_mjson j;
	int rc;

	vdf_policy_init(p);
	vdf_mjson_init(&j, origin ? origin : "policy", err, errlen);
	rc = vdf_mjson_parse(&j, text, len, VDF_POLICY_MAX_BYTES, &root);
	if (rc)
		return rc;
	rc = parse_root(&j, root, p);
	json_object_put(root);
	if (rc)
		vdf_policy_init(p);
	return rc;
}

int vdf_policy_load(const char *path, struct vdf_policy *p, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	vdf_policy_init(p);
	rc = vdf_mjson_read_file(path, VDF_POLICY_MAX_BYTES, &text, &len, err, errlen);
	if (rc)
		return rc;
	rc = vdf_policy_parse(text, len, path, p, err, errlen);
	free(text);
	return rc;
}

static void set_why(char *why, size_t len, const char *fmt, ...) VDF_PRINTF(3, 4);

static void set_why(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!why || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
}

static void format_id(const struct vdf_policy_id *id, char *buf, size_t len)
{
	char v[8] = "*", d[8] = "*";

	if (!id->any_vendor)
		snprintf(v, sizeof(v), "%04x", id->vendor);
	if (!id->any_device)
		snprintf(d, sizeof(d), "%04x", id->device);
	snprintf(buf, len, "%s:%s", v, d);
}

/* The first entry of l naming dev, described into what; false if none. */
static bool list_names(const struct vdf_policy_list *l, const struct vdf_pci_info *dev, char *what,
		       size_t len)
{
	char addr[sizeof(dev->addr)];

	for (size_t i = 0; i < sizeof(addr); i++)
		addr[i] = (char)tolower((unsigned char)dev->addr[i]);
	addr[sizeof(addr) - 1] = '\0';
	for (unsigned i = 0; i < l->naddrs; i++) {
		if (!fnmatch(l->addrs[i], addr, 0)) {
			snprintf(what, len, "address pattern \"%s\"", l->addrs[i]);
			return true;
		}
	}
	for (unsigned i = 0; i < l->nids; i++) {
		const struct vdf_policy_id *id = &l->ids[i];

		if ((id->any_vendor || id->vendor == dev->vendor) &&
		    (id->any_device || id->device == dev->device)) {
			char buf[16];

			format_id(id, buf, sizeof(buf));
			snprintf(what, len, "id %s", buf);
			return true;
		}
	}
	return false;
}

bool vdf_policy_admits(const struct vdf_policy *p, const struct vdf_pci_info *dev, char *why,
		       size_t len)
{
	char what[64];
	bool named = false;

	if (list_names(&p->deny, dev, what, sizeof(what))) {
		set_why(why, len, "denied by %s", what);
		return false;
	}
	if (p->allow.naddrs || p->allow.nids) {
		named = list_names(&p->allow, dev, what, sizeof(what));
		if (!named) {
			set_why(why, len, "not in the allow list");
			return false;
		}
	}
	/* Never pull a device from under a kernel driver unless told to: it may
	 * be the disk the system runs from. */
	if (dev->driver[0] && strncmp(dev->driver, "vfio-pci", sizeof(dev->driver)) &&
	    !p->take_from_kernel && !named) {
		set_why(why, len,
			"bound to the kernel driver \"%.31s\" (take_from_kernel is off and no "
			"allow entry names the device)",
			dev->driver);
		return false;
	}
	if (named)
		set_why(why, len, "admitted (allow list: %s)", what);
	else
		set_why(why, len, "admitted (%s)",
			p->allow.naddrs || p->allow.nids ? "allow list" : "no allow list");
	return true;
}

bool vdf_policy_manages_class(const struct vdf_policy *p, enum vdf_manifest_class c)
{
	if ((unsigned)c >= VDF_MANIFEST_CLASS_COUNT)
		return false;
	return !p->classes_set || (p->classes & BIT(c));
}

static void appendf(char *buf, size_t len, size_t *off, const char *fmt, ...) VDF_PRINTF(4, 5);

static void appendf(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(*off < len ? buf + *off : NULL, *off < len ? len - *off : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		*off += (size_t)n;
}

int vdf_policy_decide(const struct vdf_policy *p, const struct vdf_manifest_set *set,
		      const struct vdf_pci_info *dev, const struct vdf_manifest **out, char *why,
		      size_t len)
{
	struct vdf_match_explain *ex = NULL;
	const struct vdf_manifest *best;
	char reason[192];
	size_t off = 0, n = set ? set->count : 0;
	int score, rc;

	*out = NULL;
	if (!why)
		len = 0;
	else if (len)
		why[0] = '\0';
	if (!vdf_policy_admits(p, dev, reason, sizeof(reason))) {
		appendf(why, len, &off, "policy: %s\n=> not managed\n", reason);
		return -EPERM;
	}
	appendf(why, len, &off, "policy: %s\n", reason);
	if (n) {
		ex = calloc(n, sizeof(*ex));
		if (!ex) {
			appendf(why, len, &off, "=> out of memory\n");
			return -ENOMEM;
		}
	}
	best = vdf_match_best(set, dev, ex, &score);
	for (size_t i = 0; i < n; i++)
		appendf(why, len, &off, "%s\n", ex[i].text);
	free(ex);
	if (!best) {
		appendf(why, len, &off, "=> no driver: %s\n",
			n ? "no manifest matches and fits the device" : "no manifests are loaded");
		return -ENODEV;
	}
	if (!vdf_policy_manages_class(p, best->device_class)) {
		appendf(why, len, &off,
			"=> not managed: %s (score %d) is a \"%s\" driver, a class "
			"the policy does not manage\n",
			best->name, score, vdf_manifest_class_name(best->device_class));
		rc = -EPERM;
	} else {
		appendf(why, len, &off, "=> %s (score %d)\n", best->name, score);
		*out = best;
		rc = 0;
	}
	return rc;
}
