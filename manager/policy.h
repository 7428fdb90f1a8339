/* SPDX-License-Identifier: MIT */
/*
 * Which devices VDF may manage. A policy file (JSON, docs/MANIFESTS.md) has
 * allow and deny lists by PCI address (glob patterns: "0000:00:1f.*") and by
 * vendor:device ("8086:*"), the driver classes VDF manages, and whether it may
 * take a device away from a kernel driver.
 *
 * Decision order (vdf_policy_decide):
 *   1. deny wins: a device any deny entry names is never managed;
 *   2. a non-empty allow list must name the device (an empty one admits all);
 *   3. a device bound to a kernel driver other than vfio-pci is left alone
 *      unless take_from_kernel is true or an allow entry names it;
 *   4. some manifest must match it and the device must offer what that
 *      manifest asks (manager/match.h);
 *   5. that manifest's class must be a managed class (all when unset).
 * The default policy (no file, or "{}") is: everything passes 1-3 except
 * devices held by kernel drivers, so VDF manages exactly the unclaimed
 * devices some manifest matches.
 */
#ifndef VDF_MANAGER_POLICY_H
#define VDF_MANAGER_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "device.h"
#include "manifest.h"

#define VDF_POLICY_MAX_ENTRIES 64
#define VDF_POLICY_PATTERN_MAX 31
#define VDF_POLICY_MAX_BYTES   (64u * 1024)

struct vdf_policy_id {
	uint16_t vendor, device;
	bool any_vendor, any_device; /* "*" */
};

struct vdf_policy_list {
	char addrs[VDF_POLICY_MAX_ENTRIES][VDF_POLICY_PATTERN_MAX + 1]; /* lower case globs */
	unsigned naddrs;
	struct vdf_policy_id ids[VDF_POLICY_MAX_ENTRIES];
	unsigned nids;
};

struct vdf_policy {
	struct vdf_policy_list allow, deny;
	uint32_t classes; /* bit per enum vdf_manifest_class; meaningful if classes_set */
	bool classes_set; /* false: every class is managed */
	bool take_from_kernel;
};

/* The default policy (see above). */
void vdf_policy_init(struct vdf_policy *p);

/*
 * Parse a policy file's text; same strictness and error format as manifests
 * ("<origin>: <json path>: <what>"). 0, -EINVAL, -E2BIG or -ENOMEM; on error
 * *p holds the default policy.
 */
int vdf_policy_parse(const char *text, size_t len, const char *origin, struct vdf_policy *p,
		     char *err, size_t errlen) VDF_MUST_CHECK;
/* Read and parse a file (regular, not writable by others). */
int vdf_policy_load(const char *path, struct vdf_policy *p, char *err,
		    size_t errlen) VDF_MUST_CHECK;

/*
 * Steps 1-3: may VDF manage this device at all? `why` (may be NULL) gets the
 * reason either way, e.g. "denied by address pattern \"0000:00:1f.*\"" or
 * "admitted (allow list: id 1b36:0010)".
 */
bool vdf_policy_admits(const struct vdf_policy *p, const struct vdf_pci_info *dev, char *why,
		       size_t len);

/* Step 5 alone: is this driver class managed? */
bool vdf_policy_manages_class(const struct vdf_policy *p, enum vdf_manifest_class c);

/*
 * The whole decision: returns 0 and the manifest to run in *out, -EPERM when
 * the policy refuses the device (steps 1-3, 5) or -ENODEV when no manifest
 * fits (step 4), with *out NULL. `why` (may be NULL) receives a multi-line
 * explanation for `vdfctl explain`: the policy verdict, one line per manifest
 * and the outcome. Pointers into `set` stay valid while the set is unchanged.
 */
int vdf_policy_decide(const struct vdf_policy *p, const struct vdf_manifest_set *set,
		      const struct vdf_pci_info *dev, const struct vdf_manifest **out, char *why,
		      size_t len);

#endif
