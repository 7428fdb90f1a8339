/* SPDX-License-Identifier: MIT */
/*
 * Matching devices to driver manifests, and explaining the result.
 *
 * Every rule of a manifest that accepts a device gets a specificity score;
 * the manifest's score is that of its best rule (0: no rule matched). The
 * most specific match wins:
 *
 *   vendor + device                      200
 *   vendor alone                          20
 *   subsys_vendor, subsys_device          50 each (so an exact subsystem match is 300)
 *   class under mask                      50 + 2 per mask bit (0xffffff: 98, 0xffff00: 82)
 *
 * plus the rule's "score" bonus (-1000..1000); a matching rule always scores
 * at least 1. Among manifests, the higher score wins and equal scores go to
 * the name that sorts first, so the choice never depends on file order.
 *
 * USB and device-tree rules are kept for later buses and never match a PCI
 * device. Nothing here has global state; all functions are thread-safe.
 */
#ifndef VDF_MANAGER_MATCH_H
#define VDF_MANAGER_MATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "device.h"
#include "manifest.h"

#define VDF_SCORE_VENDOR	20
#define VDF_SCORE_VENDOR_DEVICE 200
#define VDF_SCORE_SUBSYS	50
#define VDF_SCORE_CLASS_BASE	50
#define VDF_SCORE_CLASS_PER_BIT 2
#define VDF_MATCH_EXPLAIN_MAX	512

struct vdf_match_explain {
	int score;     /* 0: no rule matched */
	unsigned rule; /* 1-based index of the best rule; 0 if none */
	bool caps_ok;  /* vdf_match_best only: the device offers what the manifest asks */
	/* "nvme: matched rule 1 (class 0x010802/0xffffff), score 98" or
	 * "e1000: vendor 0x8086 != 0x1b36" */
	char text[VDF_MATCH_EXPLAIN_MAX];
};

/*
 * Score one rule against a device: > 0 if it matches, 0 if not. `why` (may be
 * NULL) receives the reason it does not match ("vendor 0x8086 != 0x1b36") or,
 * if it does, what it matched on ("class 0x010802/0xffffff").
 */
int vdf_match_rule_score(const struct vdf_match_rule *r, const struct vdf_pci_info *dev, char *why,
			 size_t len);

/* A manifest's score for a device (0 = no match); why may be NULL. */
int vdf_match_score(const struct vdf_manifest *m, const struct vdf_pci_info *dev,
		    struct vdf_match_explain *why);

/*
 * Does the device offer what the manifest asks: an IOMMU group, every BAR in
 * "bars" as MMIO and in "io_bars" as I/O, at least msix_min MSI-X and msi_min
 * MSI vectors, INTx if "intx"? Returns 0, or -EOPNOTSUPP with every shortfall
 * in why ("needs INTx, the device has none; ...").
 */
int vdf_match_check_caps(const struct vdf_manifest *m, const struct vdf_pci_info *dev, char *why,
			 size_t len);

/*
 * The manifest to drive `dev`: the best score among manifests whose
 * capability check passes (ties: the name that sorts first), or NULL.
 * `why` (may be NULL) is an array of set->count entries, filled in set order;
 * `score` (may be NULL) receives the winner's score (0 if none).
 */
const struct vdf_manifest *vdf_match_best(const struct vdf_manifest_set *set,
					  const struct vdf_pci_info *dev,
					  struct vdf_match_explain *why, int *score);

/*
 * Text for `vdfctl explain`: one line per manifest, then "=> nvme (score 98)"
 * or "=> no driver: ...". Returns the length it needed (like snprintf); the
 * text is cut (NUL-terminated) when len is too small.
 */
size_t vdf_match_explain_text(const struct vdf_manifest_set *set, const struct vdf_pci_info *dev,
			      char *buf, size_t len);

#endif
