// SPDX-License-Identifier: MIT
/*
 * Matching, scoring, capability checks and explanations (manager/match.c),
 * and the device management policy (manager/policy.c).
 *
 * Devices are struct vdf_pci_info values as discovery would read them from
 * sysfs for QEMU's emulated hardware (IDs and interrupts from DESIGN.md).
 * Manifests are parsed from text, so every test also runs the real parser.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../manager/match.h"
#include "../../manager/policy.h"

/* QEMU nvme: 1b36:0010, class 010802, BAR0 16 KiB MMIO, MSI-X 65, INTx. */
static const struct vdf_pci_info nvme_dev = {
    .addr = "0000:00:04.0",
    .vendor = 0x1b36,
    .device = 0x0010,
    .subsys_vendor = 0x1af4,
    .subsys_device = 0x1100,
    .class_code = 0x01,
    .subclass = 0x08,
    .prog_if = 0x02,
    .bar_size = {16384},
    .bar_kind = {VDF_BAR_MEM},
    .iommu_group = 3,
    .driver = "vfio-pci",
    .msix_count = 65,
    .has_intx = true,
};

/* QEMU e1000: 8086:100e, class 020000, BAR0 MMIO, BAR1 I/O, INTx only. */
static const struct vdf_pci_info e1000_dev = {
    .addr = "0000:00:1f.3",
    .vendor = 0x8086,
    .device = 0x100e,
    .subsys_vendor = 0x1af4,
    .subsys_device = 0x1100,
    .class_code = 0x02,
    .subclass = 0x00,
    .prog_if = 0x00,
    .bar_size = {131072, 64},
    .bar_kind = {VDF_BAR_MEM, VDF_BAR_IO},
    .iommu_group = 5,
    .driver = "",
    .has_intx = true,
};

/* Parse a manifest named `name` with the given "match" array and extra keys. */
static void parse_into(struct vdf_manifest *m, const char *name, const char *cls, const char *match,
		       const char *extra)
{
	char text[2048], err[VDF_MANIFEST_ERR_MAX];

	snprintf(text, sizeof(text),
		 "{\"name\":\"%s\",\"version\":\"1\",\"class\":\"%s\",\"binary\":\"b\","
		 "\"match\":%s%s%s}",
		 name, cls, match, extra ? "," : "", extra ? extra : "");
	if (vdf_manifest_parse(text, strlen(text), name, m, err, sizeof(err)))
		fail_msg("%s", err);
}

static void add(struct vdf_manifest_set *set, const char *name, const char *match,
		const char *extra)
{
	struct vdf_manifest m;

	parse_into(&m, name, "block", match, extra);
	assert_int_equal(vdf_manifest_set_add(set, &m), 0);
}

static int score_of(const char *match, const struct vdf_pci_info *dev)
{
	struct vdf_manifest m;
	int s;

	parse_into(&m, "t", "block", match, NULL);
	s = vdf_match_score(&m, dev, NULL);
	vdf_manifest_free(&m);
	return s;
}

/* ---- scores ---- */

static void test_score_tiers(void **state)
{
	(void)state;
	assert_int_equal(score_of("[{\"vendor\":\"0x1b36\",\"device\":\"0x0010\","
				  "\"subsys_vendor\":\"0x1af4\",\"subsys_device\":\"0x1100\"}]",
				  &nvme_dev),
			 300);
	assert_int_equal(score_of("[{\"vendor\":\"0x1b36\",\"device\":\"0x0010\","
				  "\"subsys_vendor\":\"0x1af4\"}]",
				  &nvme_dev),
			 250);
	assert_int_equal(score_of("[{\"vendor\":\"0x1b36\",\"device\":\"0x0010\"}]", &nvme_dev),
			 200);
	assert_int_equal(score_of("[{\"class\":\"0x010802\"}]", &nvme_dev), 98);
	assert_int_equal(
	    score_of("[{\"class\":\"0x010800\",\"class_mask\":\"0xffff00\"}]", &nvme_dev), 82);
	assert_int_equal(
	    score_of("[{\"class\":\"0x010000\",\"class_mask\":\"0xff0000\"}]", &nvme_dev), 66);
	assert_int_equal(score_of("[{\"vendor\":\"0x1b36\"}]", &nvme_dev), 20);
	assert_int_equal(score_of("[{\"vendor\":\"0x1b36\",\"class\":\"0x010802\"}]", &nvme_dev),
			 118);
	/* Every criterion must hold. */
	assert_int_equal(score_of("[{\"vendor\":\"0x1b36\",\"device\":\"0x0011\"}]", &nvme_dev), 0);
	assert_int_equal(score_of("[{\"vendor\":\"0x1b36\",\"device\":\"0x0010\","
				  "\"subsys_vendor\":\"0x1af5\"}]",
				  &nvme_dev),
			 0);
	assert_int_equal(score_of("[{\"vendor\":\"0x1b36\",\"class\":\"0x020000\"}]", &nvme_dev),
			 0);
	assert_int_equal(score_of("[{\"class\":\"0x010802\"}]", &e1000_dev), 0);
	/* The best rule of a manifest counts. */
	assert_int_equal(score_of("[{\"class\":\"0x010802\"},{\"vendor\":\"0x1b36\","
				  "\"device\":\"0x0010\"},{\"vendor\":\"0x8086\"}]",
				  &nvme_dev),
			 200);
}

static void test_score_bonus(void **state)
{
	(void)state;
	assert_int_equal(score_of("[{\"class\":\"0x010802\",\"score\":150}]", &nvme_dev), 248);
	assert_int_equal(score_of("[{\"class\":\"0x010802\",\"score\":-8}]", &nvme_dev), 90);
	/* A matching rule never drops to "no match", however low its bonus. */
	assert_int_equal(score_of("[{\"class\":\"0x010802\",\"score\":-1000}]", &nvme_dev), 1);
	/* A bonus does not make a mismatch match. */
	assert_int_equal(score_of("[{\"class\":\"0x020000\",\"score\":1000}]", &nvme_dev), 0);
}

static void test_specific_beats_generic(void **state)
{
	struct vdf_manifest_set set = {0};
	const struct vdf_manifest *best;
	int score;

	(void)state;
	add(&set, "a_partial", "[{\"class\":\"0x010800\",\"class_mask\":\"0xffff00\"}]", NULL);
	add(&set, "b_class", "[{\"class\":\"0x010802\"}]", NULL);
	add(&set, "c_ids", "[{\"vendor\":\"0x1b36\",\"device\":\"0x0010\"}]", NULL);
	add(&set, "d_exact",
	    "[{\"vendor\":\"0x1b36\",\"device\":\"0x0010\",\"subsys_vendor\":\"0x1af4\","
	    "\"subsys_device\":\"0x1100\"}]",
	    NULL);
	add(&set, "e_other", "[{\"vendor\":\"0x8086\"}]", NULL);

	/* Take the winner away each time: the next most specific wins. */
	static const char *const order[] = {"d_exact", "c_ids", "b_class", "a_partial"};
	static const int scores[] = {300, 200, 98, 82};
	for (size_t i = 0; i < VDF_ARRAY_SIZE(order); i++) {
		best = vdf_match_best(&set, &nvme_dev, NULL, &score);
		assert_non_null(best);
		assert_string_equal(best->name, order[i]);
		assert_int_equal(score, scores[i]);
		/* Take it out of the running: make its only rule impossible. */
		struct vdf_match_rule *r = &set.items[best - set.items].rules[0];

		r->vendor = 0xfffe;
		r->fields |= VDF_MATCH_VENDOR;
	}
	best = vdf_match_best(&set, &nvme_dev, NULL, &score);
	assert_null(best);
	assert_int_equal(score, 0);
	vdf_manifest_set_free(&set);
}

static void test_bonus_reorders(void **state)
{
	struct vdf_manifest_set set = {0};
	const struct vdf_manifest *best;
	int score;

	(void)state;
	add(&set, "generic", "[{\"class\":\"0x010802\",\"score\":150}]", NULL);
	add(&set, "ids", "[{\"vendor\":\"0x1b36\",\"device\":\"0x0010\"}]", NULL);
	best = vdf_match_best(&set, &nvme_dev, NULL, &score);
	assert_string_equal(best->name, "generic");
	assert_int_equal(score, 248);
	vdf_manifest_set_free(&set);
}

static void test_ties_by_name(void **state)
{
	struct vdf_manifest m[3];
	struct vdf_manifest_set set;
	const struct vdf_manifest *best;
	int score;

	(void)state;
	parse_into(&m[0], "zulu", "block", "[{\"class\":\"0x010802\"}]", NULL);
	parse_into(&m[1], "alpha", "block", "[{\"class\":\"0x010802\"}]", NULL);
	parse_into(&m[2], "mike", "block", "[{\"class\":\"0x010802\"}]", NULL);
	/* A set in arbitrary order (not built by set_add): the answer is the same. */
	set.items = m;
	set.count = 3;
	set.errors = NULL;
	set.nerrors = 0;
	for (int rot = 0; rot < 3; rot++) {
		struct vdf_manifest t = m[0];

		best = vdf_match_best(&set, &nvme_dev, NULL, &score);
		assert_string_equal(best->name, "alpha");
		assert_int_equal(score, 98);
		m[0] = m[1];
		m[1] = m[2];
		m[2] = t;
	}
	for (int i = 0; i < 3; i++)
		vdf_manifest_free(&m[i]);
}

static void test_usb_and_dt_rules_never_match_pci(void **state)
{
	struct vdf_manifest m;
	struct vdf_match_explain why;

	(void)state;
	parse_into(&m, "later", "usb-host",
		   "[{\"usb\":{\"vendor\":\"0x1b36\",\"product\":\"0x0010\"}},"
		   "{\"usb\":{\"class\":\"0x010802\"}},{\"compatible\":\"qemu,nvme\"}]",
		   NULL);
	assert_int_equal(vdf_match_score(&m, &nvme_dev, &why), 0);
	assert_int_equal(why.rule, 0);
	assert_string_equal(why.text,
			    "later: no rule matched: rule 1: USB rule (not a USB device); rule 2: "
			    "USB rule (not a USB device); rule 3: compatible \"qemu,nvme\" rule "
			    "(not a device-tree node)");
	vdf_manifest_free(&m);
}

/* ---- explanations ---- */

static void test_explain_match(void **state)
{
	struct vdf_manifest m;
	struct vdf_match_explain why;

	(void)state;
	parse_into(&m, "nvme", "block", "[{\"class\":\"0x010802\",\"class_mask\":\"0xffffff\"}]",
		   NULL);
	assert_int_equal(vdf_match_score(&m, &nvme_dev, &why), 98);
	assert_int_equal(why.score, 98);
	assert_int_equal(why.rule, 1);
	assert_string_equal(why.text, "nvme: matched rule 1 (class 0x010802/0xffffff), score 98");
	vdf_manifest_free(&m);

	parse_into(&m, "multi", "block",
		   "[{\"vendor\":\"0x8086\"},{\"vendor\":\"0x1b36\",\"device\":\"0x0010\","
		   "\"subsys_vendor\":\"0x1af4\",\"subsys_device\":\"0x1100\",\"score\":-50},"
		   "{\"class\":\"0x010802\"}]",
		   NULL);
	assert_int_equal(vdf_match_score(&m, &nvme_dev, &why), 250);
	assert_int_equal(why.rule, 2);
	assert_string_equal(why.text,
			    "multi: matched rule 2 (vendor 0x1b36, device 0x0010, subsys_vendor "
			    "0x1af4, subsys_device 0x1100), score 250 (bonus -50)");
	vdf_manifest_free(&m);
}

static void test_explain_mismatch(void **state)
{
	struct vdf_manifest m;
	struct vdf_match_explain why;

	(void)state;
	parse_into(&m, "e1000", "net", "[{\"vendor\":\"0x8086\",\"device\":\"0x100e\"}]", NULL);
	assert_int_equal(vdf_match_score(&m, &nvme_dev, &why), 0);
	assert_int_equal(why.score, 0);
	assert_int_equal(why.rule, 0);
	assert_string_equal(why.text, "e1000: vendor 0x8086 != 0x1b36");
	vdf_manifest_free(&m);

	parse_into(
	    &m, "x", "block",
	    "[{\"vendor\":\"0x1b36\",\"device\":\"0x0011\"},"
	    "{\"vendor\":\"0x1b36\",\"device\":\"0x0010\",\"subsys_vendor\":\"0x8086\"},"
	    "{\"vendor\":\"0x1b36\",\"device\":\"0x0010\",\"subsys_vendor\":\"0x1af4\","
	    "\"subsys_device\":\"0x0001\"},"
	    "{\"class\":\"0x010800\",\"class_mask\":\"0xffff00\",\"vendor\":\"0x1b36\","
	    "\"device\":\"0x0010\",\"subsys_vendor\":\"0x1af4\",\"subsys_device\":\"0x1100\"}]",
	    NULL);
	assert_int_equal(vdf_match_score(&m, &e1000_dev, &why), 0);
	assert_string_equal(why.text,
			    "x: no rule matched: rule 1: vendor 0x1b36 != 0x8086; rule 2: "
			    "vendor 0x1b36 != 0x8086; rule 3: vendor 0x1b36 != 0x8086; "
			    "rule 4: vendor 0x1b36 != 0x8086");
	assert_int_equal(vdf_match_score(&m, &nvme_dev, &why), 382);
	vdf_manifest_free(&m);

	{
		char why2[96];

		parse_into(
		    &m, "y", "block",
		    "[{\"vendor\":\"0x1b36\",\"device\":\"0x0011\"},"
		    "{\"vendor\":\"0x1b36\",\"device\":\"0x0010\",\"subsys_vendor\":\"0x8086\"},"
		    "{\"vendor\":\"0x1b36\",\"device\":\"0x0010\",\"subsys_vendor\":\"0x1af4\","
		    "\"subsys_device\":\"0x0001\"},{\"class\":\"0x020000\"}]",
		    NULL);
		assert_int_equal(vdf_match_rule_score(&m.rules[0], &nvme_dev, why2, sizeof(why2)),
				 0);
		assert_string_equal(why2, "device 0x0011 != 0x0010");
		assert_int_equal(vdf_match_rule_score(&m.rules[1], &nvme_dev, why2, sizeof(why2)),
				 0);
		assert_string_equal(why2, "subsys_vendor 0x8086 != 0x1af4");
		assert_int_equal(vdf_match_rule_score(&m.rules[2], &nvme_dev, why2, sizeof(why2)),
				 0);
		assert_string_equal(why2, "subsys_device 0x0001 != 0x1100");
		assert_int_equal(vdf_match_rule_score(&m.rules[3], &nvme_dev, why2, sizeof(why2)),
				 0);
		assert_string_equal(why2, "class 0x020000/0xffffff != 0x010802");
		assert_int_equal(vdf_match_rule_score(&m.rules[3], &nvme_dev, NULL, 0), 0);
		vdf_manifest_free(&m);
	}
}

static void test_explain_long_is_cut(void **state)
{
	char match[8192];
	size_t n = 0;
	struct vdf_manifest m;
	struct vdf_match_explain why;

	(void)state;
	n += (size_t)snprintf(match + n, sizeof(match) - n, "[");
	for (int i = 0; i < VDF_MANIFEST_MAX_RULES; i++)
		n += (size_t)snprintf(match + n, sizeof(match) - n, "%s{\"vendor\":\"0x%04x\"}",
				      i ? "," : "", 0x8000 + i);
	snprintf(match + n, sizeof(match) - n, "]");
	{
		char text[9000], err[VDF_MANIFEST_ERR_MAX];

		snprintf(
		    text, sizeof(text),
		    "{\"name\":\"long\",\"version\":\"1\",\"class\":\"block\",\"binary\":\"b\","
		    "\"match\":%s}",
		    match);
		assert_int_equal(vdf_manifest_parse(text, strlen(text), "x", &m, err, sizeof(err)),
				 0);
	}
	assert_int_equal(vdf_match_score(&m, &nvme_dev, &why), 0);
	assert_int_equal(strlen(why.text), sizeof(why.text) - 1);
	assert_string_equal(why.text + sizeof(why.text) - 4, "...");
	vdf_manifest_free(&m);
}

/* ---- capabilities ---- */

static void test_caps_ok(void **state)
{
	struct vdf_manifest m;
	char why[256] = "stale";

	(void)state;
	parse_into(&m, "nvme", "block", "[{\"class\":\"0x010802\"}]",
		   "\"capabilities\":{\"bars\":[0],\"dma_window\":\"64M\","
		   "\"irqs\":{\"msix\":65,\"intx\":true}}");
	assert_int_equal(vdf_match_check_caps(&m, &nvme_dev, why, sizeof(why)), 0);
	assert_string_equal(why, "");
	assert_int_equal(vdf_match_check_caps(&m, &nvme_dev, NULL, 0), 0);
	vdf_manifest_free(&m);

	/* Asking for more vectors than the device has is fine: counts are upper
	 * bounds; msix_min is the floor. */
	parse_into(&m, "many", "block", "[{\"class\":\"0x010802\"}]",
		   "\"capabilities\":{\"irqs\":{\"msix\":2048,\"msix_min\":65}}");
	assert_int_equal(vdf_match_check_caps(&m, &nvme_dev, why, sizeof(why)), 0);
	vdf_manifest_free(&m);

	parse_into(&m, "e1000", "net", "[{\"vendor\":\"0x8086\"}]",
		   "\"capabilities\":{\"bars\":[0],\"io_bars\":[1],\"irqs\":{\"intx\":true,"
		   "\"msix\":4,\"msix_min\":0}}");
	assert_int_equal(vdf_match_check_caps(&m, &e1000_dev, why, sizeof(why)), 0);
	vdf_manifest_free(&m);
}

struct caps_case {
	const char *caps;
	const struct vdf_pci_info *dev;
	const char *want;
};

static void test_caps_refused(void **state)
{
	static const struct caps_case cases[] = {
	    {"\"capabilities\":{\"bars\":[2]}", &nvme_dev,
	     "needs BAR 2 (MMIO), the device has no BAR 2"},
	    {"\"capabilities\":{\"io_bars\":[0]}", &nvme_dev,
	     "needs BAR 0 as I/O, the device's BAR 0 is MMIO"},
	    {"\"capabilities\":{\"bars\":[1]}", &e1000_dev,
	     "needs BAR 1 as MMIO, the device's BAR 1 is I/O"},
	    {"\"capabilities\":{\"io_bars\":[5]}", &e1000_dev,
	     "needs BAR 5 (I/O), the device has no BAR 5"},
	    {"\"capabilities\":{\"irqs\":{\"msix\":5}}", &e1000_dev,
	     "needs at least 1 MSI-X vector, the device has 0"},
	    {"\"capabilities\":{\"irqs\":{\"msix\":128,\"msix_min\":66}}", &nvme_dev,
	     "needs at least 66 MSI-X vectors, the device has 65"},
	    {"\"capabilities\":{\"irqs\":{\"msi\":4}}", &nvme_dev,
	     "needs at least 1 MSI vector, the device has 0"},
	    {"\"capabilities\":{\"bars\":[0,3],\"irqs\":{\"msix\":1,\"intx\":true}}", &e1000_dev,
	     "needs BAR 3 (MMIO), the device has no BAR 3; needs at least 1 MSI-X vector, the "
	     "device has 0"},
	};
	struct vdf_manifest m;
	char why[256];

	(void)state;
	for (size_t i = 0; i < VDF_ARRAY_SIZE(cases); i++) {
		parse_into(&m, "t", "block", "[{\"vendor\":1}]", cases[i].caps);
		assert_int_equal(vdf_match_check_caps(&m, cases[i].dev, why, sizeof(why)),
				 -EOPNOTSUPP);
		if (strcmp(why, cases[i].want))
			fail_msg("case %zu:\n  got:  %s\n  want: %s", i, why, cases[i].want);
		vdf_manifest_free(&m);
	}

	/* No INTx, no IOMMU. */
	{
		struct vdf_pci_info d = nvme_dev;

		d.has_intx = false;
		d.iommu_group = -1;
		parse_into(&m, "t", "block", "[{\"vendor\":1}]",
			   "\"capabilities\":{\"irqs\":{\"intx\":true}}");
		assert_int_equal(vdf_match_check_caps(&m, &d, why, sizeof(why)), -EOPNOTSUPP);
		assert_string_equal(why,
				    "the device has no IOMMU group (VDF needs an IOMMU); needs "
				    "INTx, the device has none");
		/* A tiny buffer is cut, not overrun. */
		assert_int_equal(vdf_match_check_caps(&m, &d, why, 8), -EOPNOTSUPP);
		assert_string_equal(why, "the dev");
		vdf_manifest_free(&m);
	}
}

static void test_refused_manifest_loses(void **state)
{
	struct vdf_manifest_set set = {0};
	struct vdf_match_explain why[2];
	const struct vdf_manifest *best;
	int score;

	(void)state;
	/* The more specific manifest asks for MSI-X, which the e1000 lacks. */
	add(&set, "e1000_msix", "[{\"vendor\":\"0x8086\",\"device\":\"0x100e\"}]",
	    "\"capabilities\":{\"irqs\":{\"msix\":4}}");
	add(&set, "e1000_intx", "[{\"class\":\"0x020000\"}]",
	    "\"capabilities\":{\"bars\":[0],\"io_bars\":[1],\"irqs\":{\"intx\":true}}");
	best = vdf_match_best(&set, &e1000_dev, why, &score);
	assert_non_null(best);
	assert_string_equal(best->name, "e1000_intx");
	assert_int_equal(score, 98);
	assert_true(why[0].caps_ok);
	assert_string_equal(why[0].text, "e1000_intx: matched rule 1 (class 0x020000/0xffffff), "
					 "score 98");
	assert_false(why[1].caps_ok);
	assert_int_equal(why[1].score, 200);
	assert_string_equal(why[1].text,
			    "e1000_msix: matched rule 1 (vendor 0x8086, device 0x100e), score 200, "
			    "but refused: needs at least 1 MSI-X vector, the device has 0");
	vdf_manifest_set_free(&set);
}

/* ---- the real manifests ---- */

/*
 * A file of the source tree: found from __FILE__ ("<root>tests/unit/test_match.c",
 * relative when built from the root) or, when run from elsewhere, by walking
 * up from the test binary (build/tests/ or build/san/tests/).
 */
static char *src_path(const char *rel)
{
	const char *me = __FILE__, *tail = strstr(me, "tests/unit/test_match.c");
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

static void load_into(struct vdf_manifest_set *set, const char *rel)
{
	char *path = src_path(rel), err[VDF_MANIFEST_ERR_MAX];
	struct vdf_manifest m;

	if (vdf_manifest_load(path, "build/bin", &m, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(vdf_manifest_set_add(set, &m), 0);
	free(path);
}

static void test_nvme_beats_rogue(void **state)
{
	struct vdf_manifest_set set = {0};
	const struct vdf_manifest *best;
	char text[1024];
	int score;

	(void)state;
	load_into(&set, "drivers/nvme/nvme.manifest");
	load_into(&set, "tests/drivers/rogue.manifest");
	best = vdf_match_best(&set, &nvme_dev, NULL, &score);
	assert_string_equal(best->name, "nvme");
	assert_int_equal(score, 98);
	vdf_match_explain_text(&set, &nvme_dev, text, sizeof(text));
	assert_string_equal(text, "nvme: matched rule 1 (class 0x010802/0xffffff), score 98\n"
				  "rogue: matched rule 1 (vendor 0x1b36, device 0x0010), score 10 "
				  "(bonus -190)\n"
				  "=> nvme (score 98)\n");
	/* Neither drives an e1000. */
	assert_null(vdf_match_best(&set, &e1000_dev, NULL, &score));
	vdf_match_explain_text(&set, &e1000_dev, text, sizeof(text));
	assert_string_equal(text, "nvme: class 0x010802/0xffffff != 0x020000\n"
				  "rogue: vendor 0x1b36 != 0x8086\n"
				  "=> no driver: no manifest matches and fits the device\n");
	vdf_manifest_set_free(&set);

	/* Without the NVMe manifest the rogue driver gets the device. */
	load_into(&set, "tests/drivers/rogue.manifest");
	best = vdf_match_best(&set, &nvme_dev, NULL, &score);
	assert_string_equal(best->name, "rogue");
	assert_int_equal(score, 10);
	vdf_manifest_set_free(&set);
}

static void test_explain_text_edges(void **state)
{
	struct vdf_manifest_set set = {0};
	char text[64];
	size_t need;

	(void)state;
	need = vdf_match_explain_text(&set, &nvme_dev, text, sizeof(text));
	assert_string_equal(text, "=> no driver: no manifests are loaded\n");
	assert_int_equal(need, strlen(text));
	add(&set, "nvme", "[{\"class\":\"0x010802\"}]", NULL);
	need = vdf_match_explain_text(&set, &nvme_dev, text, 10);
	assert_string_equal(text, "nvme: mat");
	assert_true(need > 10);
	assert_int_equal(vdf_match_explain_text(&set, &nvme_dev, NULL, 0), need);
	vdf_manifest_set_free(&set);
}

/* ---- policy ---- */

static void policy_ok(const char *text, struct vdf_policy *p)
{
	char err[VDF_MANIFEST_ERR_MAX];

	if (vdf_policy_parse(text, strlen(text), "policy.json", p, err, sizeof(err)))
		fail_msg("%s", err);
}

static void test_policy_default(void **state)
{
	struct vdf_policy p;
	struct vdf_pci_info d = nvme_dev;
	char why[256];

	(void)state;
	policy_ok("{}", &p);
	assert_true(vdf_policy_admits(&p, &nvme_dev, why, sizeof(why)));
	assert_string_equal(why, "admitted (no allow list)");
	assert_true(vdf_policy_admits(&p, &e1000_dev, NULL, 0)); /* unbound */
	/* Bound to a kernel driver: left alone. */
	snprintf(d.driver, sizeof(d.driver), "nvme");
	assert_false(vdf_policy_admits(&p, &d, why, sizeof(why)));
	assert_string_equal(why, "bound to the kernel driver \"nvme\" (take_from_kernel is off and "
				 "no allow entry names the device)");
	for (int c = 0; c < VDF_MANIFEST_CLASS_COUNT; c++)
		assert_true(vdf_policy_manages_class(&p, c));

	vdf_policy_init(&p);
	assert_false(vdf_policy_admits(&p, &d, NULL, 0));
	policy_ok("{\"take_from_kernel\": true}", &p);
	assert_true(vdf_policy_admits(&p, &d, why, sizeof(why)));
}

static void test_policy_lists(void **state)
{
	struct vdf_policy p;
	struct vdf_pci_info d = nvme_dev;
	char why[256];

	(void)state;
	policy_ok("{\"allow\":{\"addresses\":[\"0000:00:0?.*\"],\"ids\":[\"8086:*\"]},"
		  "\"deny\":{\"addresses\":[\"0000:00:1F.*\"],\"ids\":[\"*:0011\"]}}",
		  &p);
	assert_int_equal(p.allow.naddrs, 1);
	assert_int_equal(p.allow.nids, 1);
	assert_string_equal(p.deny.addrs[0], "0000:00:1f.*"); /* lower-cased */

	assert_true(vdf_policy_admits(&p, &nvme_dev, why, sizeof(why)));
	assert_string_equal(why, "admitted (allow list: address pattern \"0000:00:0?.*\")");

	/* The e1000 is allowed by ID but its address is denied: deny wins. */
	assert_false(vdf_policy_admits(&p, &e1000_dev, why, sizeof(why)));
	assert_string_equal(why, "denied by address pattern \"0000:00:1f.*\"");

	/* Denied by ID even though its address is allowed. */
	d.device = 0x0011;
	assert_false(vdf_policy_admits(&p, &d, why, sizeof(why)));
	assert_string_equal(why, "denied by id *:0011");

	/* Neither list names it: the non-empty allow list refuses. */
	d = nvme_dev;
	snprintf(d.addr, sizeof(d.addr), "0000:01:00.0");
	assert_false(vdf_policy_admits(&p, &d, why, sizeof(why)));
	assert_string_equal(why, "not in the allow list");

	/* An allow entry naming a kernel-bound device is consent to take it. */
	snprintf(d.addr, sizeof(d.addr), "0000:00:05.0");
	snprintf(d.driver, sizeof(d.driver), "nvme");
	assert_true(vdf_policy_admits(&p, &d, why, sizeof(why)));

	/* Exact IDs and exact addresses. */
	policy_ok("{\"allow\":{\"ids\":[\"1B36:0010\"]},\"deny\":{\"addresses\":"
		  "[\"0000:00:05.0\"]}}",
		  &p);
	assert_true(vdf_policy_admits(&p, &nvme_dev, why, sizeof(why)));
	assert_string_equal(why, "admitted (allow list: id 1b36:0010)");
	assert_false(vdf_policy_admits(&p, &e1000_dev, why, sizeof(why)));
	assert_string_equal(why, "not in the allow list");
	d = nvme_dev;
	snprintf(d.addr, sizeof(d.addr), "0000:00:05.0");
	assert_false(vdf_policy_admits(&p, &d, why, sizeof(why)));
	assert_string_equal(why, "denied by address pattern \"0000:00:05.0\"");
}

static void test_policy_decide(void **state)
{
	struct vdf_manifest_set set = {0};
	const struct vdf_manifest *out;
	struct vdf_policy p;
	struct vdf_manifest m;
	char why[1024];

	(void)state;
	load_into(&set, "drivers/nvme/nvme.manifest");
	load_into(&set, "tests/drivers/rogue.manifest");
	parse_into(&m, "e1000", "net", "[{\"vendor\":\"0x8086\",\"device\":\"0x100e\"}]", NULL);
	assert_int_equal(vdf_manifest_set_add(&set, &m), 0);

	vdf_policy_init(&p);
	assert_int_equal(vdf_policy_decide(&p, &set, &nvme_dev, &out, why, sizeof(why)), 0);
	assert_non_null(out);
	assert_string_equal(out->name, "nvme");
	assert_string_equal(why, "policy: admitted (no allow list)\n"
				 "e1000: vendor 0x8086 != 0x1b36\n"
				 "nvme: matched rule 1 (class 0x010802/0xffffff), score 98\n"
				 "rogue: matched rule 1 (vendor 0x1b36, device 0x0010), score 10 "
				 "(bonus -190)\n"
				 "=> nvme (score 98)\n");

	/* Class filter: block is not managed, so the NVMe device is not. */
	policy_ok("{\"classes\":[\"net\",\"test\"]}", &p);
	assert_int_equal(vdf_policy_decide(&p, &set, &nvme_dev, &out, why, sizeof(why)), -EPERM);
	assert_null(out);
	assert_non_null(strstr(why, "=> not managed: nvme (score 98) is a \"block\" driver, a "
				    "class the policy does not manage\n"));
	assert_int_equal(vdf_policy_decide(&p, &set, &e1000_dev, &out, why, sizeof(why)), 0);
	assert_string_equal(out->name, "e1000");

	/* Denied: no matching is even attempted. */
	policy_ok("{\"deny\":{\"ids\":[\"1b36:*\"]}}", &p);
	assert_int_equal(vdf_policy_decide(&p, &set, &nvme_dev, &out, why, sizeof(why)), -EPERM);
	assert_string_equal(why, "policy: denied by id 1b36:*\n=> not managed\n");

	/* Admitted, but no manifest fits. */
	{
		struct vdf_pci_info d = nvme_dev;

		d.class_code = 0x03;
		d.vendor = 0x1234;
		vdf_policy_init(&p);
		assert_int_equal(vdf_policy_decide(&p, &set, &d, &out, why, sizeof(why)), -ENODEV);
		assert_null(out);
		assert_non_null(
		    strstr(why, "=> no driver: no manifest matches and fits the device\n"));
		assert_int_equal(vdf_policy_decide(&p, NULL, &d, &out, NULL, 0), -ENODEV);
	}
	vdf_manifest_set_free(&set);
}

struct policy_bad {
	const char *text;
	const char *want;
};

static void test_policy_errors(void **state)
{
	static const struct policy_bad cases[] = {
	    {"", "policy.json: empty input (expected a JSON object)"},
	    {"{\"allow\":[]}", "policy.json: allow: expected an object, got []"},
	    {"{\"alow\":{}}", "policy.json: alow: unknown key (known keys here: allow, deny, "
			      "classes, take_from_kernel)"},
	    {"{\"allow\":{\"address\":[]}}",
	     "policy.json: allow.address: unknown key (known keys here: addresses, ids)"},
	    {"{\"deny\":{\"addresses\":[\"0000:00:1f.*\",\"0000:00:1F.*\"]}}",
	     "policy.json: deny.addresses[1]: \"0000:00:1f.*\" is listed twice"},
	    {"{\"deny\":{\"addresses\":[\"00:1f.3\"]}}",
	     "policy.json: deny.addresses[0]: \"00:1f.3\" is not a PCI address like "
	     "\"0000:00:04.0\" (or a pattern with '*')"},
	    {"{\"deny\":{\"addresses\":[\"0000:00:1f.8\"]}}",
	     "policy.json: deny.addresses[0]: \"0000:00:1f.8\" is not a PCI address"},
	    {"{\"deny\":{\"addresses\":[\"/sys/*\"]}}",
	     "policy.json: deny.addresses[0]: \"/sys/*\": an address pattern may contain only "
	     "hex digits, ':', '.', '*' and '?'"},
	    {"{\"deny\":{\"addresses\":[\"\"]}}",
	     "policy.json: deny.addresses[0]: must not be empty"},
	    {"{\"allow\":{\"ids\":[\"1b36\"]}}",
	     "policy.json: allow.ids[0]: \"1b36\" is not a vendor:device ID like \"1b36:0010\" "
	     "(either half may be \"*\")"},
	    {"{\"allow\":{\"ids\":[\"1b36:10\"]}}",
	     "policy.json: allow.ids[0]: \"1b36:10\" is not"},
	    {"{\"allow\":{\"ids\":[\"1b36:0010:0\"]}}",
	     "policy.json: allow.ids[0]: \"1b36:0010:0\""},
	    {"{\"allow\":{\"ids\":[\"1b36:*\",\"1B36:*\"]}}",
	     "policy.json: allow.ids[1]: listed twice"},
	    {"{\"allow\":{\"ids\":[4390]}}",
	     "policy.json: allow.ids[0]: expected a string, got 4390"},
	    {"{\"classes\":[\"block\",\"disk\"]}",
	     "policy.json: classes[1]: expected one of block, net, display, usb-host, input, "
	     "char, test, got \"disk\""},
	    {"{\"classes\":[\"block\",\"block\"]}", "policy.json: classes[1]: \"block\" is listed "
						    "twice"},
	    {"{\"take_from_kernel\":\"yes\"}",
	     "policy.json: take_from_kernel: expected true or false, got \"yes\""},
	    {"{\"deny\":{},\"deny\":{}}", "policy.json: line 1, column 12: duplicate key \"deny\""},
	};
	char err[VDF_MANIFEST_ERR_MAX];
	struct vdf_policy p;

	(void)state;
	for (size_t i = 0; i < VDF_ARRAY_SIZE(cases); i++) {
		memset(&p, 0x5a, sizeof(p));
		assert_int_equal(vdf_policy_parse(cases[i].text, strlen(cases[i].text),
						  "policy.json", &p, err, sizeof(err)),
				 -EINVAL);
		if (!strstr(err, cases[i].want))
			fail_msg("case %zu:\n  got:  %s\n  want: ...%s", i, err, cases[i].want);
		/* A refused file leaves the default policy. */
		assert_int_equal(p.allow.naddrs + p.allow.nids + p.deny.naddrs + p.deny.nids, 0);
		assert_false(p.classes_set);
		assert_false(p.take_from_kernel);
	}

	/* Too many entries, and a file that is not there. */
	{
		char text[4096];
		size_t n = 0;

		n += (size_t)snprintf(text + n, sizeof(text) - n, "{\"deny\":{\"addresses\":[");
		for (int i = 0; i <= VDF_POLICY_MAX_ENTRIES; i++)
			n += (size_t)snprintf(text + n, sizeof(text) - n, "%s\"0000:%02x:00.0\"",
					      i ? "," : "", i);
		snprintf(text + n, sizeof(text) - n, "]}}");
		assert_int_equal(vdf_policy_parse(text, strlen(text), NULL, &p, err, sizeof(err)),
				 -EINVAL);
		assert_string_equal(err, "policy: deny.addresses: has 65 entries, at most 64 are "
					 "allowed");
	}
	assert_int_equal(vdf_policy_load("/nonexistent/policy.json", &p, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/policy.json: cannot open"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_score_tiers),
	    cmocka_unit_test(test_score_bonus),
	    cmocka_unit_test(test_specific_beats_generic),
	    cmocka_unit_test(test_bonus_reorders),
	    cmocka_unit_test(test_ties_by_name),
	    cmocka_unit_test(test_usb_and_dt_rules_never_match_pci),
	    cmocka_unit_test(test_explain_match),
	    cmocka_unit_test(test_explain_mismatch),
	    cmocka_unit_test(test_explain_long_is_cut),
	    cmocka_unit_test(test_caps_ok),
	    cmocka_unit_test(test_caps_refused),
	    cmocka_unit_test(test_refused_manifest_loses),
	    cmocka_unit_test(test_nvme_beats_rogue),
	    cmocka_unit_test(test_explain_text_edges),
	    cmocka_unit_test(test_policy_default),
	    cmocka_unit_test(test_policy_lists),
	    cmocka_unit_test(test_policy_decide),
	    cmocka_unit_test(test_policy_errors),
	};

	return cmocka_run_group_tests_name("match", tests, NULL, NULL);
}
