// SPDX-License-Identifier: MIT
/*
 * Device/manifest matching, scoring, capability checks and explanations.
 * The scoring table is in match.h and docs/MANIFESTS.md.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "match.h"

/* snprintf that appends at *off and never runs past len; *off keeps counting
 * what would have been written so callers can report the size needed. */
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

static unsigned popcount32(uint32_t x)
{
	return (unsigned)__builtin_popcount(x);
}

/* "vendor 0x1b36, device 0x0010, class 0x010802/0xffffff" */
static void describe_rule(const struct vdf_match_rule *r, char *buf, size_t len)
{
	size_t off = 0;
	const char *sep = "";

	buf[0] = '\0';
	if (r->bus == VDF_MATCH_BUS_DT) {
		appendf(buf, len, &off, "compatible \"%s\"", r->compatible);
		return;
	}
	if (r->bus == VDF_MATCH_BUS_USB) {
		appendf(buf, len, &off, "usb");
		sep = " ";
	}
	if (r->fields & VDF_MATCH_VENDOR) {
		appendf(buf, len, &off, "%svendor 0x%04x", sep, r->vendor);
		sep = ", ";
	}
	if (r->fields & VDF_MATCH_DEVICE) {
		appendf(buf, len, &off, "%s%s 0x%04x", sep,
			r->bus == VDF_MATCH_BUS_USB ? "product" : "device", r->device);
		sep = ", ";
	}
	if (r->fields & VDF_MATCH_SUBSYS_VENDOR) {
		appendf(buf, len, &off, "%ssubsys_vendor 0x%04x", sep, r->subsys_vendor);
		sep = ", ";
	}
	if (r->fields & VDF_MATCH_SUBSYS_DEVICE) {
		appendf(buf, len, &off, "%ssubsys_device 0x%04x", sep, r->subsys_device);
		sep = ", ";
	}
	if (r->fields & VDF_MATCH_CLASS)
		appendf(buf, len, &off, "%sclass 0x%06x/0x%06x", sep, r->class_code, r->class_mask);
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

int vdf_match_rule_score(const struct vdf_match_rule *r, const struct vdf_pci_info *dev, char *why,
			 size_t len)
{
	uint32_t cls = vdf_pci_class24(dev);
	int score = 0;

	if (r->bus == VDF_MATCH_BUS_USB) {
		set_why(why, len, "USB rule (not a USB device)");
		return 0;
	}
	if (r->bus == VDF_MATCH_BUS_DT) {
		set_why(why, len, "compatible \"%s\" rule (not a device-tree node)", r->compatible);
		return 0;
	}
	if ((r->fields & VDF_MATCH_VENDOR) && r->vendor != dev->vendor) {
		set_why(why, len, "vendor 0x%04x != 0x%04x", r->vendor, dev->vendor);
		return 0;
	}
	if ((r->fields & VDF_MATCH_DEVICE) && r->device != dev->device) {
		set_why(why, len, "device 0x%04x != 0x%04x", r->device, dev->device);
		return 0;
	}
	if ((r->fields & VDF_MATCH_SUBSYS_VENDOR) && r->subsys_vendor != dev->subsys_vendor) {
		set_why(why, len, "subsys_vendor 0x%04x != 0x%04x", r->subsys_vendor,
			dev->subsys_vendor);
		return 0;
	}
	if ((r->fields & VDF_MATCH_SUBSYS_DEVICE) && r->subsys_device != dev->subsys_device) {
		set_why(why, len, "subsys_device 0x%04x != 0x%04x", r->subsys_device,
			dev->subsys_device);
		return 0;
	}
	if ((r->fields & VDF_MATCH_CLASS) && (cls & r->class_mask) != r->class_code) {
		set_why(why, len, "class 0x%06x/0x%06x != 0x%06x", r->class_code, r->class_mask,
			cls);
		return 0;
	}
	if (!(r->fields & (VDF_MATCH_VENDOR | VDF_MATCH_SUBSYS_VENDOR | VDF_MATCH_CLASS))) {
		/* The parser never builds such a rule; don't let one match everything. */
		set_why(why, len, "empty rule");
		return 0;
	}

	if (r->fields & VDF_MATCH_VENDOR)
		score +=
		    (r->fields & VDF_MATCH_DEVICE) ? VDF_SCORE_VENDOR_DEVICE : VDF_SCORE_VENDOR;
	if (r->fields & VDF_MATCH_SUBSYS_VENDOR)
		score += VDF_SCORE_SUBSYS;
	if (r->fields & VDF_MATCH_SUBSYS_DEVICE)
		score += VDF_SCORE_SUBSYS;
	if (r->fields & VDF_MATCH_CLASS)
		score += VDF_SCORE_CLASS_BASE +
			 VDF_SCORE_CLASS_PER_BIT * (int)popcount32(r->class_mask & 0xffffff);
	score += r->bonus;
	if (score < 1)
		score = 1; /* a matching rule still matches, however low its bonus */
	if (why && len)
		describe_rule(r, why, len);
	return score;
}

int vdf_match_score(const struct vdf_manifest *m, const struct vdf_pci_info *dev,
		    struct vdf_match_explain *why)
{
	char reason[160], best_desc[160] = "";
	size_t off = 0;
	unsigned best_rule = 0;
	int best = 0;

	for (unsigned i = 0; i < m->nrules; i++) {
		int s = vdf_match_rule_score(&m->rules[i], dev, reason, sizeof(reason));

		if (s > best) {
			best = s;
			best_rule = i + 1;
			memcpy(best_desc, reason, sizeof(best_desc));
		}
	}
	if (!why)
		return best;

	why->score = best;
	why->rule = best_rule;
	why->caps_ok = false;
	if (best) {
		const struct vdf_match_rule *r = &m->rules[best_rule - 1];

		appendf(why->text, sizeof(why->text), &off, "%s: matched rule %u (%s), score %d",
			m->name, best_rule, best_desc, best);
		if (r->bonus)
			appendf(why->text, sizeof(why->text), &off, " (bonus %+d)", r->bonus);
		return best;
	}
	appendf(why->text, sizeof(why->text), &off, "%s: ", m->name);
	if (m->nrules == 1) {
		vdf_match_rule_score(&m->rules[0], dev, reason, sizeof(reason));
		appendf(why->text, sizeof(why->text), &off, "%s", reason);
		return 0;
	}
	appendf(why->text, sizeof(why->text), &off, "no rule matched");
	for (unsigned i = 0; i < m->nrules; i++) {
		vdf_match_rule_score(&m->rules[i], dev, reason, sizeof(reason));
		appendf(why->text, sizeof(why->text), &off, "%s rule %u: %s", i ? ";" : ":", i + 1,
			reason);
	}
	if (off >= sizeof(why->text))
		memcpy(why->text + sizeof(why->text) - 4, "...", 4);
	return 0;
}

int vdf_match_check_caps(const struct vdf_manifest *m, const struct vdf_pci_info *dev, char *why,
			 size_t len)
{
	const struct vdf_manifest_caps *c = &m->caps;
	char dummy[1];
	size_t off = 0;
	const char *sep = "";

	if (!why || !len) {
		why = dummy;
		len = sizeof(dummy);
	}
	why[0] = '\0';
	if (dev->iommu_group < 0) {
		appendf(why, len, &off, "the device has no IOMMU group (VDF needs an IOMMU)");
		sep = "; ";
	}
	for (unsigned b = 0; b < VDF_MANIFEST_MAX_BARS; b++) {
		bool mmio = c->bars & BIT(b), io = c->io_bars & BIT(b);
		enum vdf_bar_kind want = mmio ? VDF_BAR_MEM : VDF_BAR_IO;

		if (!mmio && !io)
			continue;
		if (dev->bar_kind[b] == VDF_BAR_NONE || !dev->bar_size[b]) {
			appendf(why, len, &off, "%sneeds BAR %u (%s), the device has no BAR %u",
				sep, b, mmio ? "MMIO" : "I/O", b);
			sep = "; ";
		} else if (dev->bar_kind[b] != want) {
			appendf(why, len, &off, "%sneeds BAR %u as %s, the device's BAR %u is %s",
				sep, b, mmio ? "MMIO" : "I/O", b, mmio ? "I/O" : "MMIO");
			sep = "; ";
		}
	}
	if (c->msix_min > dev->msix_count) {
		appendf(why, len, &off, "%sneeds at least %u MSI-X vector%s, the device has %u",
			sep, c->msix_min, c->msix_min == 1 ? "" : "s", dev->msix_count);
		sep = "; ";
	}
	if (c->msi_min > dev->msi_count) {
		appendf(why, len, &off, "%sneeds at least %u MSI vector%s, the device has %u", sep,
			c->msi_min, c->msi_min == 1 ? "" : "s", dev->msi_count);
		sep = "; ";
	}
	if (c->intx && !dev->has_intx) {
		appendf(why, len, &off, "%sneeds INTx, the device has none", sep);
		sep = "; ";
	}
	return off ? -EOPNOTSUPP : 0;
}

const struct vdf_manifest *vdf_match_best(const struct vdf_manifest_set *set,
					  const struct vdf_pci_info *dev,
					  struct vdf_match_explain *why, int *score)
{
	const struct vdf_manifest *best = NULL;
	int best_score = 0;

	for (size_t i = 0; set && i < set->count; i++) {
		const struct vdf_manifest *m = &set->items[i];
		struct vdf_match_explain local, *e = why ? &why[i] : &local;
		char caps[VDF_MATCH_EXPLAIN_MAX / 2];
		int s = vdf_match_score(m, dev, e);

		if (!s)
			continue;
		if (vdf_match_check_caps(m, dev, caps, sizeof(caps))) {
			size_t off = strlen(e->text);

			appendf(e->text, sizeof(e->text), &off, ", but refused: %s", caps);
			continue;
		}
		e->caps_ok = true;
		if (s > best_score || (s == best_score && strcmp(m->name, best->name) < 0)) {
			best = m;
			best_score = s;
		}
	}
	if (score)
		*score = best_score;
	return best;
}

size_t vdf_match_explain_text(const struct vdf_manifest_set *set, const struct vdf_pci_info *dev,
			      char *buf, size_t len)
{
	struct vdf_match_explain *why = NULL;
	const struct vdf_manifest *best;
	size_t off = 0, n = set ? set->count : 0;
	int score;

	if (buf && len)
		buf[0] = '\0';
	else
		len = 0;
	if (n) {
		why = calloc(n, sizeof(*why));
		if (!why) {
			appendf(buf, len, &off, "=> out of memory\n");
			return off;
		}
	}
	best = vdf_match_best(set, dev, why, &score);
	for (size_t i = 0; i < n; i++)
		appendf(buf, len, &off, "%s\n", why[i].text);
	if (best)
		appendf(buf, len, &off, "=> %s (score %d)\n", best->name, score);
	else if (!n)
		appendf(buf, len, &off, "=> no driver: no manifests are loaded\n");
	else
		appendf(buf, len, &off, "=> no driver: no manifest matches and fits the device\n");
	free(why);
	return off;
}
