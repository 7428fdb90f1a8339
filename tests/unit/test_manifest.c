// SPDX-License-Identifier: MIT
/*
 * Manifest parser and loader (manager/manifest.c).
 *
 * Manifests decide what a driver is granted, so most cases here are bad
 * input: every refusal must name the file and the JSON path and say what is
 * wrong, and nothing may leak or read out of bounds (these tests also run
 * under ASan+UBSan). Each malformed input in the table is its own test case.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../manager/manifest.h"

#define ORIGIN "t.manifest"

/* The smallest valid manifest, to be wrapped as "{" HEAD ... "}". */
#define HEAD                                                                     \
	"\"name\":\"t\",\"version\":\"1\",\"class\":\"block\",\"binary\":\"b\"," \
	"\"match\":[{\"vendor\":\"0x1b36\"}]"

/*
 * A file of the source tree: found from __FILE__ ("<root>tests/unit/test_manifest.c",
 * relative when built from the root) or, when run from elsewhere, by walking
 * up from the test binary (build/tests/ or build/san/tests/).
 */
static char *src_path(const char *rel)
{
	const char *me = __FILE__, *tail = strstr(me, "tests/unit/test_manifest.c");
	char exe[4096], *p;
	ssize_t n;

	assert_non_null(tail);
	assert_true(asprintf(&p, "%.*s%s", (int)(tail - me), me, rel) > 0);
	if (access(p, R_OK) == 0)
		return p;
	free(p);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	assert_true(n > 0);
	exe[n] = '\0';
	for (int up = 0; up < 5; up++) {
		char *slash = strrchr(exe, '/');

		if (!slash)
			break;
		*slash = '\0';
		assert_true(asprintf(&p, "%s/%s", exe, rel) > 0);
		if (access(p, R_OK) == 0)
			return p;
		free(p);
	}
	fail_msg("cannot find %s in the source tree", rel);
	return NULL;
}

static int parse(const char *text, struct vdf_manifest *m, char *err, size_t errlen)
{
	return vdf_manifest_parse(text, strlen(text), ORIGIN, m, err, errlen);
}

static void assert_zeroed(const struct vdf_manifest *m)
{
	static const struct vdf_manifest zero;

	assert_memory_equal(m, &zero, sizeof(zero));
}

/* ---- good manifests ---- */

static const char full_text[] =
    "{\n"
    "  \"name\": \"e1000_x-2\", \"version\": \"2.0-rc1+git~3\", \"class\": \"net\",\n"
    "  \"binary\": \"/usr/lib/vdf/vdf-e1000\",\n"
    "  \"args\": [\"--pci={pci}\", \"-v\", \"\", \"{pci}:{pci}\"],\n"
    "  \"match\": [\n"
    "    {\"vendor\": \"0x8086\", \"device\": \"0x100E\", \"subsys_vendor\": 32902,\n"
    "     \"subsys_device\": \"0x001e\", \"score\": 5},\n"
    "    {\"class\": \"0x020000\", \"class_mask\": \"0xffff00\"},\n"
    "    {\"class\": 131072},\n"
    "    {\"usb\": {\"vendor\": \"0x0781\", \"product\": \"0x5567\"}},\n"
    "    {\"usb\": {\"class\": \"0x080650\", \"class_mask\": \"0xffffff\"}, \"score\": -3},\n"
    "    {\"compatible\": \"arm,pl011\"}\n"
    "  ],\n"
    "  \"capabilities\": {\"bars\": [0, 2], \"io_bars\": [1], \"dma_window\": 1048576,\n"
    "    \"irqs\": {\"msix\": 5, \"msix_min\": 0, \"msi\": 4, \"msi_min\": 2, \"intx\": true},\n"
    "    \"cfg_write\": true},\n"
    "  \"restart\": {\"max_restarts\": 3, \"window_s\": 30, \"backoff_initial_ms\": 50,\n"
    "    \"backoff_max_ms\": 800},\n"
    "  \"limits\": {\"memory_mb\": 128, \"fds\": 16, \"memlock_mb\": 2},\n"
    "  \"heartbeat_ms\": 250\n"
    "}\n";

static void test_parse_full(void **state)
{
	struct vdf_manifest m;
	char err[VDF_MANIFEST_ERR_MAX];
	const struct vdf_match_rule *r;

	(void)state;
	assert_int_equal(parse(full_text, &m, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_string_equal(m.name, "e1000_x-2");
	assert_string_equal(m.version, "2.0-rc1+git~3");
	assert_int_equal(m.device_class, VDF_MANIFEST_CLASS_NET);
	assert_int_equal(m.device_class, VDF_CLASS_NET);
	assert_string_equal(m.binary, "/usr/lib/vdf/vdf-e1000");
	assert_string_equal(m.binary_path, "/usr/lib/vdf/vdf-e1000");
	assert_string_equal(m.origin, ORIGIN);
	assert_int_equal(m.nargs, 4);
	assert_string_equal(m.args[0], "--pci={pci}");
	assert_string_equal(m.args[1], "-v");
	assert_string_equal(m.args[2], "");
	assert_string_equal(m.args[3], "{pci}:{pci}");

	assert_int_equal(m.nrules, 6);
	r = &m.rules[0];
	assert_int_equal(r->bus, VDF_MATCH_BUS_PCI);
	assert_int_equal(r->fields, VDF_MATCH_VENDOR | VDF_MATCH_DEVICE | VDF_MATCH_SUBSYS_VENDOR |
					VDF_MATCH_SUBSYS_DEVICE);
	assert_int_equal(r->vendor, 0x8086);
	assert_int_equal(r->device, 0x100e);
	assert_int_equal(r->subsys_vendor, 0x8086);
	assert_int_equal(r->subsys_device, 0x001e);
	assert_int_equal(r->bonus, 5);
	r = &m.rules[1];
	assert_int_equal(r->fields, VDF_MATCH_CLASS);
	assert_int_equal(r->class_code, 0x020000);
	assert_int_equal(r->class_mask, 0xffff00);
	assert_int_equal(r->bonus, 0);
	r = &m.rules[2];
	assert_int_equal(r->class_code, 0x020000);
	assert_int_equal(r->class_mask, 0xffffff); /* default: exact */
	r = &m.rules[3];
	assert_int_equal(r->bus, VDF_MATCH_BUS_USB);
	assert_int_equal(r->fields, VDF_MATCH_VENDOR | VDF_MATCH_DEVICE);
	assert_int_equal(r->vendor, 0x0781);
	assert_int_equal(r->device, 0x5567);
	r = &m.rules[4];
	assert_int_equal(r->bus, VDF_MATCH_BUS_USB);
	assert_int_equal(r->fields, VDF_MATCH_CLASS);
	assert_int_equal(r->class_code, 0x080650);
	assert_int_equal(r->bonus, -3);
	r = &m.rules[5];
	assert_int_equal(r->bus, VDF_MATCH_BUS_DT);
	assert_string_equal(r->compatible, "arm,pl011");

	assert_int_equal(m.caps.bars, BIT(0) | BIT(2));
	assert_int_equal(m.caps.io_bars, BIT(1));
	assert_int_equal(m.caps.dma_window, 1048576);
	assert_int_equal(m.caps.msix, 5);
	assert_int_equal(m.caps.msix_min, 0);
	assert_int_equal(m.caps.msi, 4);
	assert_int_equal(m.caps.msi_min, 2);
	assert_true(m.caps.intx);
	assert_true(m.caps.cfg_write);
	assert_int_equal(m.restart.max_restarts, 3);
	assert_int_equal(m.restart.window_s, 30);
	assert_int_equal(m.restart.backoff_initial_ms, 50);
	assert_int_equal(m.restart.backoff_max_ms, 800);
	assert_int_equal(m.limits.memory_mb, 128);
	assert_int_equal(m.limits.fds, 16);
	assert_int_equal(m.limits.memlock_mb, 2);
	assert_int_equal(m.heartbeat_ms, 250);
	vdf_manifest_free(&m);
	assert_zeroed(&m);
	vdf_manifest_free(&m); /* twice is harmless */
	vdf_manifest_free(NULL);
}

static void test_parse_defaults(void **state)
{
	struct vdf_manifest m;
	char err[VDF_MANIFEST_ERR_MAX];

	(void)state;
	assert_int_equal(parse("{" HEAD "}", &m, err, sizeof(err)), 0);
	assert_string_equal(m.name, "t");
	assert_int_equal(m.nargs, 0);
	assert_null(m.args);
	assert_int_equal(m.nrules, 1);
	assert_int_equal(m.rules[0].fields, VDF_MATCH_VENDOR);
	assert_int_equal(m.caps.bars, 0);
	assert_int_equal(m.caps.dma_window, 0);
	assert_int_equal(m.caps.msix, 0);
	assert_int_equal(m.caps.msix_min, 0);
	assert_false(m.caps.intx);
	assert_false(m.caps.cfg_write);
	assert_int_equal(m.restart.max_restarts, VDF_MANIFEST_DEF_MAX_RESTARTS);
	assert_int_equal(m.restart.window_s, VDF_MANIFEST_DEF_WINDOW_S);
	assert_int_equal(m.restart.backoff_initial_ms, VDF_MANIFEST_DEF_BACKOFF_MS);
	assert_int_equal(m.restart.backoff_max_ms, VDF_MANIFEST_DEF_BACKOFF_MAX);
	assert_int_equal(m.limits.memory_mb, VDF_MANIFEST_DEF_MEMORY_MB);
	assert_int_equal(m.limits.fds, VDF_MANIFEST_DEF_FDS);
	assert_int_equal(m.limits.memlock_mb, 0);
	assert_int_equal(m.client_limits.ops_per_sec, 0); /* clients: unlimited */
	assert_int_equal(m.client_limits.ops_burst, 0);
	assert_int_equal(m.client_limits.bytes_per_sec, 0);
	assert_int_equal(m.client_limits.bytes_burst, 0);
	assert_int_equal(m.heartbeat_ms, 0);
	assert_string_equal(m.origin, ORIGIN);
	vdf_manifest_free(&m);

	/* Derived defaults: memlock covers the DMA window (rounded up to MiB), the
	 * address-space limit leaves room for it, asking for MSI-X means >= 1. */
	assert_int_equal(parse("{" HEAD ",\"capabilities\":{\"dma_window\":\"3G\","
			       "\"irqs\":{\"msix\":8,\"msi\":2}}}",
			       &m, err, sizeof(err)),
			 0);
	assert_int_equal(m.caps.dma_window, 3ull << 30);
	assert_int_equal(m.limits.memlock_mb, 3072);
	assert_int_equal(m.limits.memory_mb, VDF_MANIFEST_DEF_MEMORY_MB + 3072);
	assert_int_equal(m.caps.msix_min, 1);
	assert_int_equal(m.caps.msi_min, 1);
	vdf_manifest_free(&m);

	assert_int_equal(
	    parse("{" HEAD ",\"capabilities\":{\"dma_window\":\"12K\"}}", &m, err, sizeof(err)), 0);
	assert_int_equal(m.limits.memlock_mb, 1);
	vdf_manifest_free(&m);

	/* Escapes and non-ASCII text are fine where text is free-form. */
	assert_int_equal(parse("{" HEAD ",\"args\":[\"caf\\u00e9 \xe2\x82\xac \\ud83d\\ude00\"]}",
			       &m, err, sizeof(err)),
			 0);
	assert_string_equal(m.args[0], "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	vdf_manifest_free(&m);
}

/* Per-client rate limits of a block driver (control "open"). */
static void test_client_limits(void **state)
{
	struct vdf_manifest m;
	char err[VDF_MANIFEST_ERR_MAX];

	(void)state;
	assert_int_equal(parse("{" HEAD ",\"client_limits\":{\"ops_per_sec\":20000,"
			       "\"ops_burst\":256,\"bytes_per_sec\":\"100M\","
			       "\"bytes_burst\":8388608}}",
			       &m, err, sizeof(err)),
			 0);
	assert_int_equal(m.client_limits.ops_per_sec, 20000);
	assert_int_equal(m.client_limits.ops_burst, 256);
	assert_int_equal(m.client_limits.bytes_per_sec, 100ull << 20);
	assert_int_equal(m.client_limits.bytes_burst, 8ull << 20);
	vdf_manifest_free(&m);

	/* One of the two limited, the other absent or 0: unlimited. */
	assert_int_equal(parse("{" HEAD ",\"client_limits\":{\"bytes_per_sec\":1,"
			       "\"bytes_burst\":\"1M\",\"ops_per_sec\":0}}",
			       &m, err, sizeof(err)),
			 0);
	assert_int_equal(m.client_limits.ops_per_sec, 0);
	assert_int_equal(m.client_limits.bytes_burst, VDF_MANIFEST_MIN_BYTES_BURST);
	vdf_manifest_free(&m);
	assert_int_equal(parse("{" HEAD ",\"client_limits\":{}}", &m, err, sizeof(err)), 0);
	assert_int_equal(m.client_limits.bytes_per_sec, 0);
	vdf_manifest_free(&m);
	/* The largest burst a token bucket holds. */
	assert_int_equal(parse("{" HEAD ",\"client_limits\":{\"ops_per_sec\":1,"
			       "\"ops_burst\":18446744073}}",
			       &m, err, sizeof(err)),
			 0);
	assert_int_equal(m.client_limits.ops_burst, VDF_MANIFEST_MAX_BURST);
	vdf_manifest_free(&m);
}

static void test_nvme_manifest(void **state)
{
	char *path = src_path("drivers/nvme/nvme.manifest");
	char err[VDF_MANIFEST_ERR_MAX];
	struct vdf_manifest m;
	char **argv;

	(void)state;
	assert_int_equal(vdf_manifest_load(path, "build/bin", &m, err, sizeof(err)), 0);
	assert_string_equal(m.name, "nvme");
	assert_int_equal(m.device_class, VDF_MANIFEST_CLASS_BLOCK);
	assert_string_equal(m.binary, "vdf-nvme");
	assert_string_equal(m.binary_path, "build/bin/vdf-nvme");
	assert_int_equal(m.nargs, 3);
	assert_string_equal(m.args[0], "--grant-fd");
	assert_string_equal(m.args[1], "3");
	assert_string_equal(m.args[2], "serve");
	assert_int_equal(m.nrules, 1);
	assert_int_equal(m.rules[0].fields, VDF_MATCH_CLASS);
	assert_int_equal(m.rules[0].class_code, 0x010802);
	assert_int_equal(m.rules[0].class_mask, 0xffffff);
	assert_int_equal(m.caps.bars, BIT(0));
	assert_int_equal(m.caps.io_bars, 0);
	/* The window's size is the driver's to tune; it must be there, page
	 * aligned, and covered by the memlock limit. */
	assert_true(m.caps.dma_window >= 4ull << 20);
	assert_int_equal(m.caps.dma_window % 4096, 0);
	assert_int_equal(m.caps.msix, 65);
	assert_true(m.caps.intx);
	assert_false(m.caps.cfg_write);
	assert_int_equal(m.restart.max_restarts, 5);
	assert_int_equal(m.restart.window_s, 60);
	assert_int_equal(m.restart.backoff_initial_ms, 100);
	assert_int_equal(m.restart.backoff_max_ms, 5000);
	assert_int_equal(m.limits.memlock_mb, VDF_DIV_ROUND_UP(m.caps.dma_window, 1ull << 20));
	assert_int_equal(m.heartbeat_ms, 1000);
	assert_string_equal(m.origin, path);

	assert_int_equal(vdf_manifest_build_argv(&m, "0000:00:04.0", &argv), 0);
	assert_string_equal(argv[0], "build/bin/vdf-nvme");
	assert_string_equal(argv[1], "--grant-fd");
	assert_string_equal(argv[3], "serve");
	assert_null(argv[4]);
	free(argv);
	vdf_manifest_free(&m);
	free(path);
}

static void test_rogue_manifest(void **state)
{
	char *path = src_path("tests/drivers/rogue.manifest");
	char err[VDF_MANIFEST_ERR_MAX];
	struct vdf_manifest m;

	(void)state;
	assert_int_equal(vdf_manifest_load(path, "/opt/vdf/bin", &m, err, sizeof(err)), 0);
	assert_string_equal(m.name, "rogue");
	assert_int_equal(m.device_class, VDF_MANIFEST_CLASS_TEST);
	assert_string_equal(m.binary_path, "/opt/vdf/bin/vdf-rogue");
	assert_int_equal(m.nargs, 2); /* vdf-rogue --grant-fd N [--other ADDR] */
	assert_string_equal(m.args[0], "--grant-fd");
	assert_string_equal(m.args[1], "3");
	assert_false(m.caps.intx); /* it checks that ungranted INTx is refused */
	assert_int_equal(m.caps.bars, BIT(0));
	assert_true(m.caps.dma_window > 0);
	assert_int_equal(m.rules[0].fields, VDF_MATCH_VENDOR | VDF_MATCH_DEVICE);
	assert_int_equal(m.rules[0].vendor, 0x1b36);
	assert_int_equal(m.rules[0].device, 0x0010);
	assert_true(m.rules[0].bonus < 0);
	vdf_manifest_free(&m);
	free(path);
}

static void test_build_argv(void **state)
{
	struct vdf_manifest m;
	char err[VDF_MANIFEST_ERR_MAX], **argv;

	(void)state;
	assert_int_equal(parse(full_text, &m, err, sizeof(err)), 0);
	assert_int_equal(vdf_manifest_build_argv(&m, "0000:00:04.0", &argv), 0);
	assert_string_equal(argv[0], "/usr/lib/vdf/vdf-e1000");
	assert_string_equal(argv[1], "--pci=0000:00:04.0");
	assert_string_equal(argv[2], "-v");
	assert_string_equal(argv[3], "");
	assert_string_equal(argv[4], "0000:00:04.0:0000:00:04.0");
	assert_null(argv[5]);
	free(argv);
	assert_int_equal(vdf_manifest_resolve(&m, "/elsewhere"), 0);
	assert_string_equal(m.binary_path, "/usr/lib/vdf/vdf-e1000"); /* absolute stays */
	vdf_manifest_free(&m);

	assert_int_equal(parse("{" HEAD "}", &m, err, sizeof(err)), 0);
	assert_int_equal(vdf_manifest_resolve(&m, "/x/bin"), 0);
	assert_string_equal(m.binary_path, "/x/bin/b");
	assert_int_equal(vdf_manifest_build_argv(&m, NULL, &argv), 0);
	assert_string_equal(argv[0], "/x/bin/b");
	assert_null(argv[1]);
	free(argv);
	vdf_manifest_free(&m);
}

static void test_parse_size(void **state)
{
	static const struct {
		const char *s;
		int rc;
		uint64_t v;
	} cases[] = {
	    {"0", 0, 0},
	    {"4096", 0, 4096},
	    {"64M", 0, 64ull << 20},
	    {"64m", 0, 64ull << 20},
	    {"4k", 0, 4096},
	    {"2G", 0, 2ull << 30},
	    {"18446744073709551615", 0, UINT64_MAX},
	    {"18446744073709551616", -ERANGE, 0},
	    {"17179869184G", -ERANGE, 0},
	    {"", -EINVAL, 0},
	    {"M", -EINVAL, 0},
	    {"-1", -EINVAL, 0},
	    {" 1", -EINVAL, 0},
	    {"1 ", -EINVAL, 0},
	    {"1MB", -EINVAL, 0},
	    {"1T", -EINVAL, 0},
	    {"0x10", -EINVAL, 0},
	};

	(void)state;
	for (size_t i = 0; i < VDF_ARRAY_SIZE(cases); i++) {
		uint64_t v = 12345;
		int rc = vdf_manifest_parse_size(cases[i].s, &v);

		if (rc != cases[i].rc || (!rc && v != cases[i].v))
			fail_msg("\"%s\": rc %d v %llu", cases[i].s, rc, (unsigned long long)v);
	}
}

/* ---- malformed manifests: one test case each ---- */

struct bad_case {
	const char *name;
	const char *text;
	size_t len; /* 0: strlen(text) */
	int rc;
	const char *want; /* substring of the message */
	bool exact;	  /* want is the whole message */
};

#define BAD(n, t, w)                       \
	{                                  \
		n, t, 0, -EINVAL, w, false \
	}
#define BAD_EXACT(n, t, w)                \
	{                                 \
		n, t, 0, -EINVAL, w, true \
	}

static const struct bad_case bad_cases[] = {
    /* Not JSON, or not strict JSON. */
    BAD_EXACT("empty", "", ORIGIN ": empty input (expected a JSON object)"),
    BAD_EXACT("whitespace", " \n\t", ORIGIN ": empty input (expected a JSON object)"),
    BAD_EXACT("truncated", "{\"name\": \"t\"",
	      ORIGIN ": line 1, column 13: expected ',' or '}', found end of input"),
    BAD("truncated in a string", "{\"name\": \"t", "line 1, column 10: string is not terminated"),
    BAD("truncated after a colon", "{\"name\":", "expected a value, found end of input"),
    BAD_EXACT("trailing comma", "{\"name\": \"t\",\n}",
	      ORIGIN ": line 2, column 1: expected a \"key\", found '}'"),
    BAD("trailing garbage", "{" HEAD "} x", "unexpected 'x' after the JSON value"),
    BAD("two values", "{" HEAD "}{}", "unexpected '{' after the JSON value"),
    BAD("single quotes", "{'name': 1}", "expected a \"key\", found '''"),
    BAD("NaN", "{\"heartbeat_ms\": NaN}", "heartbeat_ms: line 1, column 18: expected a value"),
    BAD("comment", "/* c */{}", "line 1, column 1: expected a value, found '/'"),
    BAD("leading zero", "{\"heartbeat_ms\": 010}", "numbers must not have leading zeros"),
    BAD("bad escape", "{\"name\": \"\\x41\"}", "invalid escape in a string"),
    BAD("raw tab in a string", "{\"name\": \"a\tb\"}",
	"control character 0x09 in a string (escape it)"),
    BAD("top level array", "[]", ORIGIN ": the top level must be a JSON object"),
    BAD("top level string", "\"x\"", ORIGIN ": the top level must be a JSON object"),
    {"NUL byte", "{\"name\": \"t\0\"}", 15, -EINVAL, "line 1, column 12: NUL byte in the input",
     false},
    BAD("invalid UTF-8", "{\"name\": \"\xff\"}", "line 1, column 11: invalid UTF-8"),
    BAD("overlong UTF-8", "{\"name\": \"\xc0\xaf\"}", "invalid UTF-8"),
    BAD("UTF-8 surrogate", "{\"name\": \"\xed\xa0\x80\"}", "invalid UTF-8"),
    BAD("truncated UTF-8", "{\"name\": \"\xe2\x82", "invalid UTF-8"),
    BAD("lone surrogate escape", "{\"name\": \"\\ud800x\"}",
	"high surrogate \\ud800 without a low one"),
    BAD("deeply nested", "{\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
	"x[0][0][0][0][0][0][0]: line 1, column 13: nested deeper than 8 levels"),
    BAD_EXACT("duplicate key", "{" HEAD ",\n\"name\": \"u\"}",
	      ORIGIN ": line 2, column 1: duplicate key \"name\""),
    BAD("duplicate key by escape", "{" HEAD ",\"n\\u0061me\": \"u\"}", "duplicate key \"name\""),
    BAD("duplicate nested key", "{" HEAD ",\"capabilities\":{\"irqs\":{\"msix\":1,\"msix\":64}}}",
	ORIGIN ": capabilities.irqs: line 1, column "),
    BAD("key with NUL", "{\"a\\u0000\": 1}", "a key must not contain \\u0000"),

    /* Valid JSON, wrong manifest. */
    BAD_EXACT("msix not a number", "{" HEAD ",\"capabilities\":{\"irqs\":{\"msix\":\"x\"}}}",
	      ORIGIN ": capabilities.irqs.msix: expected an integer 0..2048, got \"x\""),
    BAD_EXACT("msix negative", "{" HEAD ",\"capabilities\":{\"irqs\":{\"msix\":-1}}}",
	      ORIGIN ": capabilities.irqs.msix: expected an integer 0..2048, got -1"),
    BAD("msix too many", "{" HEAD ",\"capabilities\":{\"irqs\":{\"msix\":2049}}}",
	"capabilities.irqs.msix: expected an integer 0..2048, got 2049"),
    BAD("msix_min above msix", "{" HEAD ",\"capabilities\":{\"irqs\":{\"msix\":4,\"msix_min\":5}}}",
	"capabilities.irqs.msix_min: expected an integer 0..4, got 5"),
    BAD("msix a float", "{" HEAD ",\"capabilities\":{\"irqs\":{\"msix\":1.5}}}",
	"expected an integer 0..2048, got 1.5"),
    BAD("huge integer", "{" HEAD ",\"heartbeat_ms\":99999999999999999999}",
	"heartbeat_ms: expected an integer 0..600000, got "),
    BAD("intx not a bool", "{" HEAD ",\"capabilities\":{\"irqs\":{\"intx\":1}}}",
	"capabilities.irqs.intx: expected true or false, got 1"),
    BAD_EXACT("unknown key", "{" HEAD ",\"nmae\":\"x\"}",
	      ORIGIN ": nmae: unknown key (known keys here: name, version, class, binary, args, "
		     "match, capabilities, restart, limits, client_limits, heartbeat_ms)"),
    BAD("unknown nested key", "{" HEAD ",\"capabilities\":{\"irq\":{}}}",
	ORIGIN ": capabilities.irq: unknown key (known keys here: bars, io_bars, "),
    BAD_EXACT("missing match",
	      "{\"name\":\"t\",\"version\":\"1\",\"class\":\"block\",\"binary\":\"b\"}",
	      ORIGIN ": missing required key \"match\""),
    BAD("missing name", "{}", ORIGIN ": missing required key \"name\""),
    BAD("null name",
	"{\"name\":null,\"version\":\"1\",\"class\":\"block\",\"binary\":\"b\","
	"\"match\":[{\"vendor\":1}]}",
	"name: expected a string, got null"),
    BAD_EXACT("empty name",
	      "{\"name\":\"\",\"version\":\"1\",\"class\":\"block\",\"binary\":\"b\","
	      "\"match\":[{\"vendor\":1}]}",
	      ORIGIN ": name: must not be empty"),
    BAD("name with capitals",
	"{\"name\":\"NVMe\",\"version\":\"1\",\"class\":\"block\",\"binary\":\"b\","
	"\"match\":[{\"vendor\":1}]}",
	"name: may contain only a-z, 0-9, '_' and '-', got \"NVMe\""),
    BAD("name with a slash",
	"{\"name\":\"../x\",\"version\":\"1\",\"class\":\"block\",\"binary\":\"b\","
	"\"match\":[{\"vendor\":1}]}",
	"name: may contain only"),
    BAD("name too long",
	"{\"name\":\"abcdefghijklmnopqrstuvwxyz012345\",\"version\":\"1\",\"class\":\"block\","
	"\"binary\":\"b\",\"match\":[{\"vendor\":1}]}",
	"name: string is 32 bytes long, at most 31 are allowed"),
    BAD("name a number",
	"{\"name\":5,\"version\":\"1\",\"class\":\"block\",\"binary\":\"b\","
	"\"match\":[{\"vendor\":1}]}",
	"name: expected a string, got 5"),
    BAD("version with a space",
	"{\"name\":\"t\",\"version\":\"1 beta\",\"class\":\"block\",\"binary\":\"b\","
	"\"match\":[{\"vendor\":1}]}",
	"version: may contain only"),
    BAD("unknown class",
	"{\"name\":\"t\",\"version\":\"1\",\"class\":\"disk\",\"binary\":\"b\","
	"\"match\":[{\"vendor\":1}]}",
	"class: expected one of block, net, display, usb-host, input, char, test, got \"disk\""),
    BAD("empty binary",
	"{\"name\":\"t\",\"version\":\"1\",\"class\":\"block\",\"binary\":\"\","
	"\"match\":[{\"vendor\":1}]}",
	"binary: must not be empty"),
    BAD("binary a directory",
	"{\"name\":\"t\",\"version\":\"1\",\"class\":\"block\",\"binary\":\"bin/\","
	"\"match\":[{\"vendor\":1}]}",
	"binary: names a directory"),
    BAD("args not an array", "{" HEAD ",\"args\":\"--x\"}", "args: expected an array, got \"--x\""),
    BAD("args with a number", "{" HEAD ",\"args\":[\"a\",7]}", "args[1]: expected a string, got 7"),
    BAD("unknown placeholder", "{" HEAD ",\"args\":[\"{dev}\"]}",
	"args[0]: unknown placeholder at \"{dev}\" (only {pci} is defined)"),
    BAD("args control character", "{" HEAD ",\"args\":[\"a\\nb\"]}",
	"args[0]: contains a control character"),
    BAD("too many args",
	"{" HEAD ",\"args\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\",\"10\",\"11\","
	"\"12\",\"13\",\"14\",\"15\",\"16\",\"17\",\"18\",\"19\",\"20\",\"21\",\"22\",\"23\","
	"\"24\",\"25\",\"26\",\"27\",\"28\",\"29\",\"30\",\"31\",\"32\",\"33\"]}",
	"args: has 33 entries, at most 32 are allowed"),
    BAD("match empty",
	"{\"name\":\"t\",\"version\":\"1\",\"class\":\"block\",\"binary\":\"b\",\"match\":[]}",
	"match: needs at least one rule"),
    BAD("match not an array",
	"{\"name\":\"t\",\"version\":\"1\",\"class\":\"block\",\"binary\":\"b\",\"match\":{}}",
	"match: expected an array, got {}"),
    BAD("empty rule",
	"{\"name\":\"t\",\"version\":\"1\",\"class\":\"block\",\"binary\":\"b\",\"match\":[{}]}",
	"match[0]: a rule needs at least one of vendor, device"),
    BAD("rule with only a score",
	"{\"name\":\"t\",\"version\":\"1\",\"class\":\"block\",\"binary\":\"b\","
	"\"match\":[{\"vendor\":1},{\"score\":5}]}",
	"match[1]: a rule needs at least one of"),
    BAD("device without vendor",
	"{\"name\":\"t\",\"version\":\"1\",\"class\":\"block\",\"binary\":\"b\","
	"\"match\":[{\"device\":\"0x0010\"}]}",
	"match[0].device: needs \"vendor\" too"),
    BAD("subsys_device without subsys_vendor",
	"{\"name\":\"t\",\"version\":\"1\",\"class\":\"block\",\"binary\":\"b\","
	"\"match\":[{\"vendor\":1,\"subsys_device\":2}]}",
	"match[0].subsys_device: needs \"subsys_vendor\" too"),
    BAD_EXACT("vendor too large",
	      "{\"name\":\"t\",\"version\":\"1\",\"class\":\"block\",\"binary\":\"b\","
	      "\"match\":[{\"vendor\":\"0x1b360\"}]}",
	      ORIGIN ": match[0].vendor: expected a hex string \"0x0\"..\"0xffff\" or an integer, "
		     "got \"0x1b360\""),
    BAD("vendor without 0x",
	"{\"name\":\"t\",\"version\":\"1\",\"class\":\"block\",\"binary\":\"b\","
	"\"match\":[{\"vendor\":\"1b36\"}]}",
	"match[0].vendor: expected a hex string"),
    BAD("vendor negative",
	"{\"name\":\"t\",\"version\":\"1\",\"class\":\"block\",\"binary\":\"b\","
	"\"match\":[{\"vendor\":-1}]}",
	"match[0].vendor: expected a hex string"),
    BAD("vendor bad digit",
	"{\"name\":\"t\",\"version\":\"1\",\"class\":\"block\",\"binary\":\"b\","
	"\"match\":[{\"vendor\":\"0x1g36\"}]}",
	"match[0].vendor: expected a hex string"),
    BAD("class_mask without class",
	"{\"name\":\"t\",\"version\":\"1\",\"class\":\"block\",\"binary\":\"b\","
	"\"match\":[{\"vendor\":1,\"class_mask\":\"0xff0000\"}]}",
	"match[0].class_mask: needs \"class\" too"),
    BAD("class_mask zero",
	"{\"name\":\"t\",\"version\":\"1\",\"class\":\"block\",\"binary\":\"b\","
	"\"match\":[{\"class\":0,\"class_mask\":0}]}",
	"match[0].class_mask: must not be 0"),
    BAD("class outside its mask",
	"{\"name\":\"t\",\"version\":\"1\",\"class\":\"block\",\"binary\":\"b\","
	"\"match\":[{\"class\":\"0x010802\",\"class_mask\":\"0xffff00\"}]}",
	"match[0].class_mask: class 0x010802 has bits outside the mask 0xffff00"),
    BAD("class too large",
	"{\"name\":\"t\",\"version\":\"1\",\"class\":\"block\",\"binary\":\"b\","
	"\"match\":[{\"class\":\"0x1000000\"}]}",
	"match[0].class: expected a hex string \"0x0\"..\"0xffffff\""),
    BAD("score out of range",
	"{\"name\":\"t\",\"version\":\"1\",\"class\":\"block\",\"binary\":\"b\","
	"\"match\":[{\"vendor\":1,\"score\":5000}]}",
	"match[0].score: expected an integer -1000..1000, got 5000"),
    BAD("usb and compatible",
	"{\"name\":\"t\",\"version\":\"1\",\"class\":\"block\",\"binary\":\"b\","
	"\"match\":[{\"usb\":{\"vendor\":1},\"compatible\":\"x\"}]}",
	"match[0]: a rule is for one bus"),
    BAD("pci key in a usb rule",
	"{\"name\":\"t\",\"version\":\"1\",\"class\":\"block\",\"binary\":\"b\","
	"\"match\":[{\"usb\":{\"vendor\":1},\"vendor\":2}]}",
	"match[0].vendor: unknown key (known keys here: usb, score)"),
    BAD("usb rule with a device key",
	"{\"name\":\"t\",\"version\":\"1\",\"class\":\"block\",\"binary\":\"b\","
	"\"match\":[{\"usb\":{\"vendor\":1,\"device\":2}}]}",
	"match[0].usb.device: unknown key (known keys here: vendor, product, class, "
	"class_mask)"),
    BAD("empty usb rule",
	"{\"name\":\"t\",\"version\":\"1\",\"class\":\"block\",\"binary\":\"b\","
	"\"match\":[{\"usb\":{}}]}",
	"match[0].usb: a USB rule needs vendor, product or class"),
    BAD("bad compatible",
	"{\"name\":\"t\",\"version\":\"1\",\"class\":\"block\",\"binary\":\"b\","
	"\"match\":[{\"compatible\":\"a b\"}]}",
	"match[0].compatible: may contain only"),
    BAD_EXACT("BAR index too large", "{" HEAD ",\"capabilities\":{\"bars\":[6]}}",
	      ORIGIN ": capabilities.bars[0]: expected an integer 0..5, got 6"),
    BAD("BAR listed twice", "{" HEAD ",\"capabilities\":{\"bars\":[0,2,0]}}",
	"capabilities.bars[2]: BAR 0 is listed twice"),
    BAD("BAR both MMIO and I/O", "{" HEAD ",\"capabilities\":{\"bars\":[0],\"io_bars\":[1,0]}}",
	"capabilities.io_bars[1]: BAR 0 is already listed in capabilities.bars"),
    BAD("too many BARs", "{" HEAD ",\"capabilities\":{\"bars\":[0,1,2,3,4,5,0]}}",
	"capabilities.bars: has 7 entries, at most 6 are allowed"),
    BAD("bars not a list", "{" HEAD ",\"capabilities\":{\"bars\":0}}",
	"capabilities.bars: expected an array, got 0"),
    BAD("capabilities not an object", "{" HEAD ",\"capabilities\":[]}",
	"capabilities: expected an object, got []"),
    BAD("dma_window bad suffix", "{" HEAD ",\"capabilities\":{\"dma_window\":\"64X\"}}",
	"capabilities.dma_window: expected a size up to 64G (bytes, or a string like \"64M\"), "
	"got \"64X\""),
    BAD("dma_window absurd", "{" HEAD ",\"capabilities\":{\"dma_window\":\"65G\"}}",
	"capabilities.dma_window: expected a size up to 64G"),
    BAD("dma_window negative", "{" HEAD ",\"capabilities\":{\"dma_window\":-4096}}",
	"capabilities.dma_window: expected a size"),
    BAD("dma_window not page aligned", "{" HEAD ",\"capabilities\":{\"dma_window\":1000}}",
	"capabilities.dma_window: 1000 bytes is not a multiple of the page size (4096)"),
    BAD("restart window zero", "{" HEAD ",\"restart\":{\"window_s\":0}}",
	"restart.window_s: expected an integer 1..86400, got 0"),
    BAD("backoff max below initial",
	"{" HEAD ",\"restart\":{\"backoff_initial_ms\":500,\"backoff_max_ms\":100}}",
	"restart.backoff_max_ms: 100 is smaller than backoff_initial_ms (500)"),
    BAD("memlock below the DMA window",
	"{" HEAD ",\"capabilities\":{\"dma_window\":\"64M\"},\"limits\":{\"memlock_mb\":32}}",
	"limits.memlock_mb: 32 MiB is smaller than capabilities.dma_window (64 MiB)"),
    BAD("memory below the DMA window",
	"{" HEAD ",\"capabilities\":{\"dma_window\":\"64M\"},\"limits\":{\"memory_mb\":64}}",
	"limits.memory_mb: 64 MiB does not leave room for the DMA window (64 MiB)"),
    BAD("fds too few", "{" HEAD ",\"limits\":{\"fds\":2}}",
	"limits.fds: expected an integer 8..65536, got 2"),
    BAD("limits null", "{" HEAD ",\"limits\":null}", "limits: expected an object, got null"),
    BAD_EXACT("client ops rate without burst", "{" HEAD ",\"client_limits\":{\"ops_per_sec\":10}}",
	      ORIGIN ": client_limits.ops_burst: is required (and not 0) when ops_per_sec is set"),
    BAD("client ops burst 0", "{" HEAD ",\"client_limits\":{\"ops_per_sec\":10,\"ops_burst\":0}}",
	"client_limits.ops_burst: is required (and not 0) when ops_per_sec is set"),
    BAD("client bytes rate without burst",
	"{" HEAD ",\"client_limits\":{\"bytes_per_sec\":\"10M\"}}",
	"client_limits.bytes_burst: is required (and not 0) when bytes_per_sec is set"),
    BAD_EXACT("client bytes burst below 1M",
	      "{" HEAD ",\"client_limits\":{\"bytes_per_sec\":\"10M\",\"bytes_burst\":1048575}}",
	      ORIGIN ": client_limits.bytes_burst: 1048575 is below 1048576 bytes: a single "
		     "request could never pass"),
    BAD("client burst without rate", "{" HEAD ",\"client_limits\":{\"ops_burst\":5}}",
	"client_limits.ops_burst: has no effect without ops_per_sec (0 = unlimited)"),
    BAD("client burst too large",
	"{" HEAD ",\"client_limits\":{\"ops_per_sec\":1,\"ops_burst\":18446744074}}",
	"client_limits.ops_burst: 18446744074 is above the largest burst, 18446744073"),
    BAD("client limit negative", "{" HEAD ",\"client_limits\":{\"ops_per_sec\":-1}}",
	"client_limits.ops_per_sec: expected a non-negative integer, got -1"),
    BAD("client ops as a size", "{" HEAD ",\"client_limits\":{\"ops_per_sec\":\"1K\"}}",
	"client_limits.ops_per_sec: expected a non-negative integer, got \"1K\""),
    BAD("client bytes not a size", "{" HEAD ",\"client_limits\":{\"bytes_per_sec\":\"fast\"}}",
	"client_limits.bytes_per_sec: expected a non-negative integer or a size like \"1M\""),
    BAD("client limit a float", "{" HEAD ",\"client_limits\":{\"bytes_per_sec\":1.5}}",
	"client_limits.bytes_per_sec: expected a non-negative integer or a size"),
    BAD("client limit huge", "{" HEAD ",\"client_limits\":{\"ops_per_sec\":99999999999999999999}}",
	"client_limits.ops_per_sec: expected a non-negative integer"),
    BAD("client limits unknown key", "{" HEAD ",\"client_limits\":{\"iops\":5}}",
	"client_limits.iops: unknown key (known keys here: ops_per_sec, ops_burst, "
	"bytes_per_sec, bytes_burst)"),
    BAD("client limits not an object", "{" HEAD ",\"client_limits\":[]}",
	"client_limits: expected an object, got []"),
    BAD("client limits on a net driver",
	"{\"name\":\"t\",\"version\":\"1\",\"class\":\"net\",\"binary\":\"b\","
	"\"match\":[{\"vendor\":\"0x1b36\"}],\"client_limits\":{}}",
	"client_limits: only block drivers take clients (class is net)"),
    BAD("heartbeat too fast", "{" HEAD ",\"heartbeat_ms\":5}",
	"heartbeat_ms: expected 0 (off) or 10..600000, got 5"),
    BAD("heartbeat a string", "{" HEAD ",\"heartbeat_ms\":\"1s\"}",
	"heartbeat_ms: expected an integer 0..600000, got \"1s\""),
};

static void test_bad(void **state)
{
	const struct bad_case *c = *state;
	char err[VDF_MANIFEST_ERR_MAX];
	struct vdf_manifest m;
	int rc;

	memset(&m, 0x5a, sizeof(m)); /* parse must reset it */
	rc = vdf_manifest_parse(c->text, c->len ? c->len : strlen(c->text), ORIGIN, &m, err,
				sizeof(err));
	if (rc != c->rc)
		fail_msg("rc %d, want %d (%s)", rc, c->rc, err);
	if (c->exact ? strcmp(err, c->want) != 0 : strstr(err, c->want) == NULL)
		fail_msg("message\n  got:  %s\n  want: %s%s", err, c->exact ? "" : "...", c->want);
	if (strncmp(err, ORIGIN ": ", strlen(ORIGIN) + 2))
		fail_msg("message does not name the input: %s", err);
	assert_zeroed(&m);
}

static void test_too_big(void **state)
{
	size_t len = VDF_MANIFEST_MAX_BYTES + 1;
	char *text = malloc(len), err[VDF_MANIFEST_ERR_MAX];
	struct vdf_manifest m;

	(void)state;
	assert_non_null(text);
	/* Valid JSON, padded with whitespace past the limit. */
	memset(text, ' ', len);
	memcpy(text, "{" HEAD "}", strlen("{" HEAD "}"));
	assert_int_equal(vdf_manifest_parse(text, len, ORIGIN, &m, err, sizeof(err)), -E2BIG);
	assert_string_equal(err, ORIGIN ": input is 65537 bytes, more than the limit of 65536");
	assert_zeroed(&m);
	/* At the limit it is fine. */
	assert_int_equal(vdf_manifest_parse(text, len - 1, ORIGIN, &m, err, sizeof(err)), 0);
	vdf_manifest_free(&m);
	free(text);
}

static void test_many_keys(void **state)
{
	char *text = malloc(8192), err[VDF_MANIFEST_ERR_MAX];
	struct vdf_manifest m;
	size_t n = 0;

	(void)state;
	assert_non_null(text);
	n += (size_t)sprintf(text + n, "{\"x\":{");
	for (int i = 0; i < 200; i++)
		n += (size_t)sprintf(text + n, "%s\"k%d\":%d", i ? "," : "", i, i);
	n += (size_t)sprintf(text + n, "}}");
	assert_int_equal(vdf_manifest_parse(text, n, ORIGIN, &m, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "x: line 1, column "));
	assert_non_null(strstr(err, "more than 128 keys in one object"));
	free(text);
}

static void test_error_buffer_edges(void **state)
{
	char small[12];
	struct vdf_manifest m;

	(void)state;
	/* A short buffer gets a cut, terminated message. */
	memset(small, 'x', sizeof(small));
	assert_int_equal(parse("{", &m, small, sizeof(small)), -EINVAL);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_memory_equal(small, ORIGIN ": ", sizeof(small) - 1);
	/* No buffer at all is allowed. */
	assert_int_equal(parse("{", &m, NULL, 0), -EINVAL);
	assert_int_equal(vdf_manifest_parse(NULL, 0, NULL, &m, small, sizeof(small)), -EINVAL);
	assert_string_equal(small, "manifest: e"); /* default origin */
	/* Success clears a stale message. */
	assert_int_equal(parse("{" HEAD "}", &m, small, sizeof(small)), 0);
	assert_string_equal(small, "");
	vdf_manifest_free(&m);
}

/* ---- files and directories ---- */

static void write_file(const char *dir, const char *name, const char *text, mode_t mode)
{
	char *path;
	FILE *f;

	assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
	free(path);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static void rm_tree(const char *dir)
{
	assert_int_equal(nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS), 0);
}

static const char *manifest_named(const char *name, char *buf, size_t len)
{
	snprintf(buf, len,
		 "{\"name\":\"%s\",\"version\":\"1\",\"class\":\"test\",\"binary\":\"drv-%s\","
		 "\"match\":[{\"vendor\":1}]}",
		 name, name);
	return buf;
}

static void test_load_dir(void **state)
{
	char dir[] = "/tmp/vdf-test-manifest-XXXXXX", buf[512], *sub;
	struct vdf_manifest_set set;

	(void)state;
	assert_non_null(mkdtemp(dir));
	write_file(dir, "a.manifest", manifest_named("alpha", buf, sizeof(buf)), 0644);
	write_file(dir, "b.json", "{\"name\":\"beta\",\"bogus\":1}", 0644);
	write_file(dir, "c.manifest", manifest_named("alpha", buf, sizeof(buf)), 0644);
	write_file(dir, "d.manifest", manifest_named("delta", buf, sizeof(buf)), 0666);
	write_file(dir, "z.json", manifest_named("zeta", buf, sizeof(buf)), 0600);
	write_file(dir, "y.manifest", manifest_named("gamma", buf, sizeof(buf)), 0644);
	write_file(dir, "README", "not a manifest", 0644);
	write_file(dir, ".hidden.manifest", "{", 0644);
	write_file(dir, "x.manifest.bak", "{", 0644);
	assert_true(asprintf(&sub, "%s/e.manifest", dir) > 0);
	assert_int_equal(mkdir(sub, 0755), 0);

	assert_int_equal(vdf_manifest_load_dir(dir, "/opt/bin", &set), 0);
	assert_int_equal(set.count, 3);
	assert_string_equal(set.items[0].name, "alpha");
	assert_string_equal(set.items[1].name, "gamma");
	assert_string_equal(set.items[2].name, "zeta");
	assert_string_equal(set.items[2].binary_path, "/opt/bin/drv-zeta");
	assert_non_null(strstr(set.items[0].origin, "/a.manifest"));
	assert_ptr_equal(vdf_manifest_set_find(&set, "gamma"), &set.items[1]);
	assert_null(vdf_manifest_set_find(&set, "beta"));

	assert_int_equal(set.nerrors, 4);
	/* In file name order, each naming its file. */
	assert_non_null(strstr(set.errors[0], "/b.json: bogus: unknown key"));
	assert_non_null(strstr(set.errors[1], "/c.manifest: name: \"alpha\" is already used by "));
	assert_non_null(strstr(set.errors[1], "/a.manifest"));
	assert_non_null(strstr(set.errors[2], "/d.manifest: writable by everyone; refused"));
	assert_non_null(strstr(set.errors[3], "/e.manifest: not a regular file"));
	vdf_manifest_set_free(&set);
	assert_int_equal(set.count, 0);
	assert_null(set.items);
	vdf_manifest_set_free(&set);
	vdf_manifest_set_free(NULL);

	/* Without a bindir, binaries are found next to their manifest. */
	{
		struct vdf_manifest m;
		char err[VDF_MANIFEST_ERR_MAX], *path, *want;

		assert_true(asprintf(&path, "%s/y.manifest", dir) > 0);
		assert_true(asprintf(&want, "%s/drv-gamma", dir) > 0);
		assert_int_equal(vdf_manifest_load(path, NULL, &m, err, sizeof(err)), 0);
		assert_string_equal(m.binary_path, want);
		vdf_manifest_free(&m);
		free(want);
		free(path);
	}

	rm_tree(dir);
	free(sub);
}

static void test_load_errors(void **state)
{
	char err[VDF_MANIFEST_ERR_MAX], dir[] = "/tmp/vdf-test-manifest-XXXXXX", *big, *path;
	struct vdf_manifest_set set;
	struct vdf_manifest m;

	(void)state;
	assert_int_equal(vdf_manifest_load("/nonexistent/x.manifest", NULL, &m, err, sizeof(err)),
			 -ENOENT);
	assert_string_equal(err, "/nonexistent/x.manifest: cannot open: No such file or directory");
	assert_zeroed(&m);
	assert_int_equal(vdf_manifest_load_dir("/nonexistent", NULL, &set), -ENOENT);
	assert_int_equal(set.count, 0);

	/* Too big on disk: refused before parsing. */
	assert_non_null(mkdtemp(dir));
	big = malloc(VDF_MANIFEST_MAX_BYTES + 2);
	assert_non_null(big);
	memset(big, ' ', VDF_MANIFEST_MAX_BYTES + 1);
	big[VDF_MANIFEST_MAX_BYTES + 1] = '\0';
	write_file(dir, "big.manifest", big, 0644);
	assert_true(asprintf(&path, "%s/big.manifest", dir) > 0);
	assert_int_equal(vdf_manifest_load(path, NULL, &m, err, sizeof(err)), -E2BIG);
	assert_non_null(strstr(err, "big.manifest: 65537 bytes, more than the limit of 65536"));
	free(big);

	/* An empty directory is fine. */
	assert_int_equal(unlink(path), 0);
	free(path);
	assert_int_equal(vdf_manifest_load_dir(dir, NULL, &set), 0);
	assert_int_equal(set.count, 0);
	assert_int_equal(set.nerrors, 0);
	vdf_manifest_set_free(&set);
	rm_tree(dir);
}

static void test_set_add(void **state)
{
	struct vdf_manifest_set set = {0};
	struct vdf_manifest m;
	char err[VDF_MANIFEST_ERR_MAX], buf[512];
	static const char *const names[] = {"m", "c", "x", "a"};

	(void)state;
	for (size_t i = 0; i < VDF_ARRAY_SIZE(names); i++) {
		manifest_named(names[i], buf, sizeof(buf));
		assert_int_equal(parse(buf, &m, err, sizeof(err)), 0);
		assert_int_equal(vdf_manifest_set_add(&set, &m), 0);
		assert_zeroed(&m); /* ownership moved */
	}
	assert_int_equal(set.count, 4);
	assert_string_equal(set.items[0].name, "a");
	assert_string_equal(set.items[1].name, "c");
	assert_string_equal(set.items[2].name, "m");
	assert_string_equal(set.items[3].name, "x");

	manifest_named("c", buf, sizeof(buf));
	assert_int_equal(parse(buf, &m, err, sizeof(err)), 0);
	assert_int_equal(vdf_manifest_set_add(&set, &m), -EEXIST);
	assert_string_equal(m.name, "c"); /* still the caller's */
	vdf_manifest_free(&m);
	assert_int_equal(vdf_manifest_set_add_error(&set, "x: broken"), 0);
	assert_int_equal(set.nerrors, 1);
	vdf_manifest_set_free(&set);
}

static void test_class_names(void **state)
{
	(void)state;
	for (int c = 0; c < VDF_MANIFEST_CLASS_COUNT; c++)
		assert_int_equal(vdf_manifest_class_parse(vdf_manifest_class_name(c)), c);
	assert_string_equal(vdf_manifest_class_name(VDF_MANIFEST_CLASS_USB_HOST), "usb-host");
	assert_string_equal(vdf_manifest_class_name(VDF_MANIFEST_CLASS_COUNT), "?");
	assert_int_equal(vdf_manifest_class_parse("Block"), -EINVAL);
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
	    cmocka_unit_test(test_parse_full),	   cmocka_unit_test(test_parse_defaults),
	    cmocka_unit_test(test_client_limits),  cmocka_unit_test(test_nvme_manifest),
	    cmocka_unit_test(test_rogue_manifest), cmocka_unit_test(test_build_argv),
	    cmocka_unit_test(test_parse_size),	   cmocka_unit_test(test_too_big),
	    cmocka_unit_test(test_many_keys),	   cmocka_unit_test(test_error_buffer_edges),
	    cmocka_unit_test(test_load_dir),	   cmocka_unit_test(test_load_errors),
	    cmocka_unit_test(test_set_add),	   cmocka_unit_test(test_class_names),
	};
	size_t nfixed = VDF_ARRAY_SIZE(fixed), nbad = VDF_ARRAY_SIZE(bad_cases);
	struct CMUnitTest *tests = calloc(nfixed + nbad, sizeof(*tests));
	int rc;

	if (!tests)
		return 1;
	memcpy(tests, fixed, sizeof(fixed));
	for (size_t i = 0; i < nbad; i++) {
		tests[nfixed + i].name = bad_cases[i].name;
		tests[nfixed + i].test_func = test_bad;
		tests[nfixed + i].initial_state = (void *)&bad_cases[i];
	}
	rc = _cmocka_run_group_tests("manifest", tests, nfixed + nbad, NULL, NULL);
	free(tests);
	return rc;
}
