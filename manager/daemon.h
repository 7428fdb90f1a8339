/* SPDX-License-Identifier: MIT */
/*
 * The vdfd daemon's state: manifests, policy, device tree, driver instances
 * and the control server, all on one event loop.
 */
#ifndef VDF_MANAGER_DAEMON_H
#define VDF_MANAGER_DAEMON_H

#include <stdbool.h>

#include "vdf/common.h"
#include "vdf/event.h"

struct vdfd_opts {
	const char *manifest_dir; /* NULL: <bindir>/../manifests */
	const char *bindir;	  /* NULL: the directory of /proc/self/exe */
	const char *policy_path;  /* NULL: admit what a manifest matches */
	const char *socket_path;  /* NULL: VDF_CTL_DEFAULT_SOCKET */
	const char *sysfs_root;	  /* NULL: /sys */
	bool no_bind;		  /* do not rebind devices to vfio-pci */
};

struct vdfd;

/* Load manifests and policy, discover devices, start drivers, serve control. */
int vdfd_create(const struct vdfd_opts *o, struct vdfd **out) VDF_MUST_CHECK;
/* Stop every driver (revoking its device), give devices back, free. */
void vdfd_destroy(struct vdfd *d);
struct vdf_event_loop *vdfd_loop(struct vdfd *d);

#endif
