/* SPDX-License-Identifier: MIT */
/*
 * Starting a driver process in its sandbox (the manager's half; the driver's
 * half is vdf/sandbox.h), and opening what it is granted.
 *
 * The child, before it runs the driver binary:
 *   - opens the binary (O_PATH) and /dev/null while it still sees the host;
 *   - gets its own session and new mount, network, IPC and UTS namespaces;
 *   - pivots into an empty read-only tmpfs that holds only read-only bind
 *     mounts of what the dynamic loader needs (/usr/lib, /usr/lib64, their
 *     /lib, /lib64 symlinks or directories, /etc/ld.so.cache): no /dev, /proc,
 *     /sys, /etc, /home, no binaries. Drivers stay ordinary dynamically linked
 *     programs (also under ASan); a driver that opens nothing after start-up
 *     (it cannot: its seccomp filter forbids open) needs nothing else;
 *   - keeps fds 0 (/dev/null), 1 and 2 (the log pipe) and 3 (the grant socket)
 *     and closes every other one;
 *   - drops to its own uid/gid with no supplementary groups, sets
 *     no_new_privs, parent-death signal SIGKILL, and rlimits (address space,
 *     fds, memlock = DMA window + slack, no core dumps);
 *   - execveat()s the binary through the fd opened first.
 * A failure of any step is reported to the parent through a close-on-exec
 * status pipe as "step: errno", so "exec: Permission denied" is an error of
 * vdf_spawn_driver, not a silent exit status 127.
 */
#ifndef VDF_MANAGER_SPAWN_H
#define VDF_MANAGER_SPAWN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "vdf/common.h"
#include "vdf/grant.h"

/* Each driver instance runs as its own user: VDF_SPAWN_UID_BASE + instance. */
#define VDF_SPAWN_UID_BASE 61000u
/* RLIMIT_MEMLOCK = DMA window + this: the HAL's own few pages, plus rounding. */
#define VDF_SPAWN_MEMLOCK_SLACK (4ull << 20)
/* Where the child's empty root is built (inside its own mount namespace). */
#define VDF_SPAWN_ROOT "/tmp"

enum vdf_spawn_flags {
	/* Debugging only: no namespaces, no pivot (the driver sees the host's
	 * files, still as its own uid with rlimits). */
	VDF_SPAWN_NO_NAMESPACES = BIT(0),
};

struct vdf_spawn_opts {
	const char *path;	/* driver binary */
	char *const *argv;	/* argv[0] first, NULL-terminated */
	char *const *envp;	/* NULL: {"LANG=C", NULL} */
	int grant_fd;		/* becomes fd 3 in the child; -1: none */
	uid_t uid;		/* non-zero: drivers never run as root */
	gid_t gid;		/* non-zero */
	uint64_t mem_bytes;	/* RLIMIT_AS; 0: unlimited */
	uint64_t memlock_bytes; /* RLIMIT_MEMLOCK: DMA window + VDF_SPAWN_MEMLOCK_SLACK */
	unsigned nofile;	/* RLIMIT_NOFILE; 0: 64 */
	unsigned flags;		/* enum vdf_spawn_flags */
};

struct vdf_spawned {
	pid_t pid;
	int pidfd;  /* readable when the child has exited (poll/epoll) */
	int log_fd; /* read end of the child's stdout+stderr; EOF when it is gone */
};

/*
 * Start a driver process as described above. Needs root (CAP_SYS_ADMIN for the
 * namespaces, CAP_SETUID/SETGID). On success *out holds the child; the caller
 * owns its fds (vdf_spawned_release) and must reap it (vdf_spawn_reap).
 * Returns 0, -EINVAL (bad options, uid/gid 0), or the errno of the step that
 * failed in the child (logged with the step's name), after reaping it.
 */
int vdf_spawn_driver(const struct vdf_spawn_opts *o, struct vdf_spawned *out) VDF_MUST_CHECK;

/* Send a signal through the pidfd (no PID-reuse race). */
int vdf_spawn_kill(struct vdf_spawned *s, int sig) VDF_MUST_CHECK;

/*
 * Reap the child: *status in waitpid() form (WIFEXITED, ...). With wait false,
 * -EAGAIN while it still runs. Returns 0 once reaped (then pid is 0). Not
 * VDF_MUST_CHECK: after a SIGKILL, waiting and ignoring the result is the norm.
 */
int vdf_spawn_reap(struct vdf_spawned *s, bool wait, int *status);

/* Close the pidfd and log fd. Neither kills nor reaps. Accepts NULL. */
void vdf_spawned_release(struct vdf_spawned *s);

/* uid (and gid) of a driver instance. */
static inline uid_t vdf_spawn_uid(unsigned instance)
{
	return (uid_t)(VDF_SPAWN_UID_BASE + instance);
}

/*
 * Is there an IOMMU protecting this device (pci_addr NULL: any IOMMU at all)?
 * True when sysfs lists IOMMU groups, the device has one, and that group is a
 * real one (not VFIO's no-IOMMU fake group). The manager grants no DMA
 * without it. vdf_iommu_present_at takes the sysfs root (tests: a fake tree).
 */
bool vdf_iommu_present(const char *pci_addr);
bool vdf_iommu_present_at(const char *sysfs_root, const char *pci_addr);

/*
 * Open what a driver of pci_addr is granted, the way the manager does: a new
 * VFIO container (its own IOMMU domain, type1v2), the device's group attached
 * to it, the device fd. fds[] in enum vdf_grant_fd order, close-on-exec.
 * Refuses without an IOMMU (-ENODEV). Returns 0 or a negative errno (-ENOENT:
 * not bound to vfio-pci, -EBUSY: group not viable, ...), logged.
 */
int vdf_spawn_open_vfio(const char *pci_addr, int fds[VDF_GRANT_NFDS]) VDF_MUST_CHECK;

#endif
