/* SPDX-License-Identifier: MIT */
/*
 * PCI discovery from sysfs.
 *
 * Reads <sysfs_root>/bus/pci/devices/<addr>/ for every PCI function: IDs,
 * class, BARs (from the "resource" file), IOMMU group and bound kernel driver
 * (symlinks), and interrupt capabilities (MSI/MSI-X from the capability list
 * in "config", INTx from the interrupt pin).
 *
 * sysfs is trusted more than a device but files can still be missing (old
 * kernels, a device going away mid-scan) or unreadable (config space past 64
 * bytes needs root): every reader is bounded, a missing or garbled optional
 * file logs a warning and leaves its field at the default (0, -1 or ""), and
 * only a function whose vendor or device ID cannot be read is left out.
 *
 * Calling context: any thread; no global state besides logging.
 */
#ifndef VDF_MANAGER_DISCOVERY_H
#define VDF_MANAGER_DISCOVERY_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "device.h"
#include "vdf/common.h"

/* Upper bound on the functions one scan returns; more is logged and cut off. */
#define VDF_DISCOVER_MAX 4096u

/* sizeof(struct vdf_pci_info.addr): "dddd:bb:dd.f" with a 4 or 5 digit domain + NUL */
#define VDF_PCI_ADDR_LEN 16

/*
 * Is addr a canonical PCI address as sysfs spells it: "dddd:bb:dd.f" (domain of
 * 4 or 5 lowercase hex digits, device <= 0x1f, function <= 7)? This is the check
 * to use before putting an address into a path: it admits no '/', no "..".
 */
bool vdf_pci_addr_valid(const char *addr);

/*
 * Turn what a person types ("0000:00:04.0", "00:04.0", upper or lower case)
 * into the canonical form. Returns 0 or -EINVAL.
 */
int vdf_pci_addr_normalize(const char *in, char out[VDF_PCI_ADDR_LEN]) VDF_MUST_CHECK;

/*
 * Scan all PCI functions. sysfs_root NULL means "/sys". On success *out is an
 * array of *n entries sorted by address (NULL when *n is 0), freed with
 * vdf_discover_free. Returns 0, -ENOENT when <root>/bus/pci/devices does not
 * exist, -ENOMEM, or another negative errno from opening the directory.
 */
int vdf_discover_pci(const char *sysfs_root, struct vdf_pci_info **out, unsigned *n) VDF_MUST_CHECK;

/*
 * Read one function. Returns 0, -EINVAL for a malformed address, -ENOENT when
 * there is no such device, -EBADMSG when its vendor/device ID is unreadable
 * or garbled. On error *info is zeroed.
 */
int vdf_discover_one(const char *sysfs_root, const char *addr,
		     struct vdf_pci_info *info) VDF_MUST_CHECK;

/* Free the array from vdf_discover_pci. Accepts NULL. */
void vdf_discover_free(struct vdf_pci_info *list);

/* A short human name for a 24-bit class code ("NVMe controller", "USB xHCI",
 * "Ethernet", ...); never NULL ("unknown class" when not in the table). */
const char *vdf_pci_class_name(uint32_t class24);

/* "mem", "io" or "none". */
const char *vdf_bar_kind_name(enum vdf_bar_kind kind);

/*
 * The function as a JSON object (see docs/CONTROL.md, "pci" object): addr,
 * vendor, device, subsystem_vendor, subsystem_device, class, class_name,
 * revision, bars[], iommu_group, kernel_driver, msix, msi, intx.
 * Returns a new reference, or NULL when out of memory.
 */
json_object *vdf_pci_info_to_json(const struct vdf_pci_info *info);

#endif
