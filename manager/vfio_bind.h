/* SPDX-License-Identifier: MIT */
/*
 * Handing a PCI function to vfio-pci and giving it back to its kernel driver.
 *
 * Bind:   remember the current driver, write "vfio-pci" to driver_override,
 *         unbind the current driver, write the address to
 *         bus/pci/drivers_probe, then wait (bounded) until the driver link
 *         says vfio-pci and /dev/vfio/<group> exists. On failure the override
 *         is cleared and the previous driver is asked to take the device back.
 * Unbind: clear driver_override, unbind vfio-pci, and when there was a
 *         previous driver, reprobe (falling back to drivers/<prev>/bind) and
 *         wait until it has the device again. No previous driver: the device
 *         stays unbound.
 *
 * Every failure is logged with the device and the step ("vfio-bind
 * 0000:00:04.0: ..."); return codes:
 *   -EINVAL      malformed address or previous-driver name (addresses must be
 *                canonical, see vdf_pci_addr_valid: nothing that could walk
 *                out of sysfs reaches a path)
 *   -ENOENT      no such PCI device (or a sysfs file missing)
 *   -ENODEV      the device has no IOMMU group (IOMMU off?)
 *   -ENOPKG      the vfio-pci driver is not loaded
 *   -EBUSY       unbind: the device is held by a driver that is neither
 *                vfio-pci nor the previous one
 *   -ETIMEDOUT   the kernel did not finish within the timeout
 *   -ENAMETOOLONG prev_driver buffer too small
 *   other negative errnos from the sysfs writes (-EPERM without root, ...)
 *
 * Calling context: blocking (up to the timeout); the manager calls it before
 * starting a driver, not from a hot path. Needs root on a real system.
 */
#ifndef VDF_MANAGER_VFIO_BIND_H
#define VDF_MANAGER_VFIO_BIND_H

#include <stddef.h>

#include "vdf/common.h"

#define VDF_VFIO_BIND_TIMEOUT_MS 5000u
#define VDF_VFIO_DRIVER		 "vfio-pci"

struct vdf_vfio_bind_opts {
	const char *sysfs_root; /* NULL: "/sys" */
	const char *dev_root;	/* NULL: "/dev" (where vfio/<group> appears) */
	unsigned timeout_ms;	/* 0: VDF_VFIO_BIND_TIMEOUT_MS */
	/*
	 * Test seam, NULL in production: called after each successful sysfs
	 * write with the path written (relative to sysfs_root, e.g.
	 * "bus/pci/drivers_probe") and the bytes written. Unit tests use it to
	 * play the kernel's part on a fake sysfs tree.
	 */
	void (*after_write)(const char *rel_path, const char *value, void *arg);
	void *arg;
};

/*
 * Bind addr to vfio-pci. prev_driver (len bytes) receives the driver it was
 * bound to ("" for none, "vfio-pci" when it already was: then nothing is
 * written). Keep it for vdf_vfio_unbind.
 */
int vdf_vfio_bind(const char *sysfs_root, const char *addr, char *prev_driver,
		  size_t len) VDF_MUST_CHECK;

/* Give addr back: see above. prev_driver NULL or "" means none; "vfio-pci"
 * means it was on vfio-pci before VDF took it: nothing is changed. */
int vdf_vfio_unbind(const char *sysfs_root, const char *addr,
		    const char *prev_driver) VDF_MUST_CHECK;

/* The same with all options. opts may be NULL (defaults). */
int vdf_vfio_bind_ex(const struct vdf_vfio_bind_opts *opts, const char *addr, char *prev_driver,
		     size_t len) VDF_MUST_CHECK;
int vdf_vfio_unbind_ex(const struct vdf_vfio_bind_opts *opts, const char *addr,
		       const char *prev_driver) VDF_MUST_CHECK;

#endif
