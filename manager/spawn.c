// SPDX-License-Identifier: MIT
/*
 * Driver processes in their sandbox, and the VFIO fds they are granted; see
 * spawn.h. The child side runs between fork and exec: it uses system calls
 * and plain string copies only (no stdio, no malloc), so it is safe in a
 * multi-threaded manager, and reports a failing step through the status pipe.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/vfio.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spawn.h"
#include "vdf/log.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

/* fds in the child after the shuffle: 0-3 for the driver, then two of ours
 * that close on exec. */
#define CHILD_FD_GRANT	    3
#define CHILD_FD_BINARY	    4
#define CHILD_FD_STATUS	    5
#define CHILD_FD_FIRST_FREE 6
#define CHILD_FD_STAGING    10 /* temporary copies while shuffling */

#define SPAWN_DEFAULT_NOFILE 64u

enum spawn_step {
	STEP_SESSION,
	STEP_OPEN_BINARY,
	STEP_OPEN_DEV_NULL,
	STEP_UNSHARE,
	STEP_MOUNT_PRIVATE,
	STEP_MOUNT_TMPFS,
	STEP_BIND_LIBS,
	STEP_REMOUNT_RO,
	STEP_PIVOT_ROOT,
	STEP_FDS,
	STEP_RLIMITS,
	STEP_SETGROUPS,
	STEP_SETGID,
	STEP_SETUID,
	STEP_NO_NEW_PRIVS,
	STEP_PDEATHSIG,
	STEP_EXEC,
	STEP_COUNT
};

static const char *const step_names[STEP_COUNT] = {
    [STEP_SESSION] = "setsid",
    [STEP_OPEN_BINARY] = "open binary",
    [STEP_OPEN_DEV_NULL] = "open /dev/null",
    [STEP_UNSHARE] = "unshare namespaces",
    [STEP_MOUNT_PRIVATE] = "make / private",
    [STEP_MOUNT_TMPFS] = "mount empty root",
    [STEP_BIND_LIBS] = "bind loader directories",
    [STEP_REMOUNT_RO] = "make root read-only",
    [STEP_PIVOT_ROOT] = "pivot_root",
    [STEP_FDS] = "arrange fds",
    [STEP_RLIMITS] = "set rlimits",
    [STEP_SETGROUPS] = "setgroups",
    [STEP_SETGID] = "setresgid",
    [STEP_SETUID] = "setresuid",
    [STEP_NO_NEW_PRIVS] = "no_new_privs",
    [STEP_PDEATHSIG] = "parent-death signal",
    [STEP_EXEC] = "exec",
};

struct spawn_report {
	int32_t step;
	int32_t err;
};

/* ---- child side (between fork and exec) --------------------------------- */

static void __attribute__((noreturn)) child_fail(int status_fd, enum spawn_step step, int err)
{
	struct spawn_report r = {.step = step, .err = err ? err : EIO};

	if (write(status_fd, &r, sizeof(r)) != sizeof(r)) {
		/* the parent will see EOF and an exit status of 127 */
	}
	_exit(127);
}

/* dst = VDF_SPAWN_ROOT + p, without stdio. */
static int root_path(char *dst, size_t cap, const char *p)
{
	size_t a = strlen(VDF_SPAWN_ROOT), b = strlen(p);

	if (a + b + 1 > cap)
		return -ENAMETOOLONG;
	memcpy(dst, VDF_SPAWN_ROOT, a);
	memcpy(dst + a, p, b + 1);
	return 0;
}

/* mkdir -p of every component of path below VDF_SPAWN_ROOT. */
static int make_dirs(char *path, int last_too)
{
	size_t start = strlen(VDF_SPAWN_ROOT) + 1, len = strlen(path);

	for (size_t i = start; i <= len; i++) {
		if (path[i] != '/' && !(i == len && last_too))
			continue;
		if (path[i] == '/')
			path[i] = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return -errno;
		if (i < len)
			path[i] = '/';
	}
	return 0;
}

static int bind_ro(const char *src, const char *dst, unsigned long extra)
{
	if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) < 0)
		return -errno;
	if (mount(NULL, dst, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | extra,
		  NULL) < 0)
		return -errno;
	return 0;
}

/* Recreate host path p in the new root: a symlink as the same symlink, a
 * directory as a read-only bind mount, a regular file likewise. */
static int mirror(const char *p)
{
	char dst[PATH_MAX], target[PATH_MAX];
	struct stat st;
	ssize_t n;
	int rc, fd;

	if (lstat(p, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	rc = root_path(dst, sizeof(dst), p);
	if (rc)
		return rc;
	if (S_ISLNK(st.st_mode)) {
		n = readlink(p, target, sizeof(target) - 1);
		if (n < 0)
			return -errno;
		target[n] = '\0';
		rc = make_dirs(dst, 0);
		if (rc)
			return rc;
		return symlink(target, dst) < 0 ? -errno : 0;
	}
	if (S_ISDIR(st.st_mode)) {
		rc = make_dirs(dst, 1);
		return rc ? rc : bind_ro(p, dst, 0);
	}
	if (S_ISREG(st.st_mode)) {
		rc = make_dirs(dst, 0);
		if (rc)
			return rc;
		fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0)
			return -errno;
		close(fd);
		return bind_ro(p, dst, MS_NOEXEC);
	}
	return 0;
}

/* An empty, read-only root holding only what ld.so needs, then pivot into it. */
static void build_root(int status_fd)
{
	/* Directories before the symlinks that may point into them. */
	static const char *const loader_paths[] = {
	    "/usr/lib", "/usr/lib64", "/usr/lib32", "/usr/libx32",	"/lib",
	    "/lib64",	"/lib32",     "/libx32",    "/etc/ld.so.cache",
	};
	int rc;

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		child_fail(status_fd, STEP_MOUNT_PRIVATE, errno);
	if (mount("vdf-driver-root", VDF_SPAWN_ROOT, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "size=256k,mode=0755") < 0)
		child_fail(status_fd, STEP_MOUNT_TMPFS, errno);
	for (size_t i = 0; i < VDF_ARRAY_SIZE(loader_paths); i++) {
		rc = mirror(loader_paths[i]);
		if (rc)
			child_fail(status_fd, STEP_BIND_LIBS, -rc);
	}
	if (mount(NULL, VDF_SPAWN_ROOT, NULL,
		  MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		child_fail(status_fd, STEP_REMOUNT_RO, errno);
	/* pivot_root(".", ".") stacks the old root on top of the new one; detaching
	 * it leaves the new root alone, with no directory to keep the old one in. */
	if (chdir(VDF_SPAWN_ROOT) < 0 || syscall(SYS_pivot_root, ".", ".") < 0 ||
	    umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		child_fail(status_fd, STEP_PIVOT_ROOT, errno);
}

static void reset_signals(void)
{
	struct sigaction sa;
	sigset_t none;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL); /* SIGKILL/SIGSTOP/glibc-internal refuse */
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
}

static int set_limit(int res, uint64_t v)
{
	struct rlimit rl = {.rlim_cur = (rlim_t)v, .rlim_max = (rlim_t)v};

	return setrlimit(res, &rl) < 0 ? -errno : 0;
}

static void __attribute__((noreturn))
child_main(const struct vdf_spawn_opts *o, int status_fd, int log_fd, pid_t parent)
{
	static char *const default_env[] = {(char *)"LANG=C", NULL};
	int bin_fd, null_fd, hi[5];

	reset_signals();
	umask(022);
	/* Own session: no controlling terminal, and kill(0, ...) reaches only it. */
	if (setsid() < 0)
		child_fail(status_fd, STEP_SESSION, errno);
	/* Opened while the host is still visible: exec goes through this fd. */
	bin_fd = open(o->path, O_PATH | O_CLOEXEC);
	if (bin_fd < 0)
		child_fail(status_fd, STEP_OPEN_BINARY, errno);
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null_fd < 0)
		child_fail(status_fd, STEP_OPEN_DEV_NULL, errno);
	if (!(o->flags & VDF_SPAWN_NO_NAMESPACES)) {
		if (unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS) < 0)
			child_fail(status_fd, STEP_UNSHARE, errno);
		build_root(status_fd);
	}

	/* Copy everything we keep above the targets, then place it: 0 /dev/null,
	 * 1+2 the log pipe, 3 the grant socket, 4 the binary and 5 the status pipe
	 * (both close on exec). Then close every other fd. */
	hi[0] = fcntl(status_fd, F_DUPFD_CLOEXEC, CHILD_FD_STAGING);
	hi[1] = fcntl(bin_fd, F_DUPFD_CLOEXEC, CHILD_FD_STAGING);
	hi[2] = fcntl(null_fd, F_DUPFD_CLOEXEC, CHILD_FD_STAGING);
	hi[3] = fcntl(log_fd, F_DUPFD_CLOEXEC, CHILD_FD_STAGING);
	hi[4] = o->grant_fd >= 0 ? fcntl(o->grant_fd, F_DUPFD_CLOEXEC, CHILD_FD_STAGING) : -2;
	for (int i = 0; i < 5; i++)
		if (hi[i] == -1)
			child_fail(status_fd, STEP_FDS, errno);
	if (dup3(hi[0], CHILD_FD_STATUS, O_CLOEXEC) < 0)
		child_fail(status_fd, STEP_FDS, errno);
	status_fd = CHILD_FD_STATUS;
	if (dup3(hi[1], CHILD_FD_BINARY, O_CLOEXEC) < 0 || dup2(hi[2], 0) < 0 ||
	    dup2(hi[3], 1) < 0 || dup2(hi[3], 2) < 0)
		child_fail(status_fd, STEP_FDS, errno);
	if (hi[4] >= 0 && dup2(hi[4], CHILD_FD_GRANT) < 0)
		child_fail(status_fd, STEP_FDS, errno);
	if (hi[4] < 0)
		close(CHILD_FD_GRANT); /* no grant: fd 3 stays closed */
	if (close_range(CHILD_FD_FIRST_FREE, ~0u, 0) < 0)
		child_fail(status_fd, STEP_FDS, errno);

	/* Limits first, while raising a hard limit is still allowed. */
	if (set_limit(RLIMIT_CORE, 0) ||
	    set_limit(RLIMIT_NOFILE, o->nofile ? o->nofile : SPAWN_DEFAULT_NOFILE) ||
	    set_limit(RLIMIT_MEMLOCK, o->memlock_bytes) ||
	    (o->mem_bytes && set_limit(RLIMIT_AS, o->mem_bytes)))
		child_fail(status_fd, STEP_RLIMITS, errno);
	if (setgroups(0, NULL) < 0)
		child_fail(status_fd, STEP_SETGROUPS, errno);
	if (setresgid(o->gid, o->gid, o->gid) < 0)
		child_fail(status_fd, STEP_SETGID, errno);
	if (setresuid(o->uid, o->uid, o->uid) < 0)
		child_fail(status_fd, STEP_SETUID, errno);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		child_fail(status_fd, STEP_NO_NEW_PRIVS, errno);
	/* After the uid change, which clears it. If the manager died already,
	 * there is nobody to supervise this driver: do not start it. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		child_fail(status_fd, STEP_PDEATHSIG, errno);
	if (getppid() != parent)
		_exit(127);
	syscall(SYS_execveat, CHILD_FD_BINARY, "", o->argv, o->envp ? o->envp : default_env,
		AT_EMPTY_PATH);
	child_fail(status_fd, STEP_EXEC, errno);
}

/* ---- parent side -------------------------------------------------------- */

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int vdf_spawn_driver(const struct vdf_spawn_opts *o, struct vdf_spawned *out)
{
	int status[2] = {-1, -1}, logp[2] = {-1, -1}, rc;
	struct spawn_report r;
	pid_t parent = getpid(), pid;
	ssize_t n;
	int pidfd;

	if (!o->path || !o->argv || !o->argv[0] || !o->uid || !o->gid)
		return -EINVAL;
	if (pipe2(status, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(logp, O_CLOEXEC) < 0) {
		rc = -errno;
		goto out_close;
	}
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		goto out_close;
	}
	if (pid == 0) {
		close(status[0]);
		close(logp[0]);
		child_main(o, status[1], logp[1], parent);
	}
	close_fd(&status[1]);
	close_fd(&logp[1]);
	do {
		n = read(status[0], &r, sizeof(r));
	} while (n < 0 && errno == EINTR);
	if (n != 0) {
		/* A report (or a broken one): the child did not exec. */
		rc = n == (ssize_t)sizeof(r) ? -r.err : -EIO;
		vdf_log(LOG_ERR, "spawn", NULL, "starting %s: %s failed: %s", o->path,
			n == (ssize_t)sizeof(r) && r.step >= 0 && r.step < STEP_COUNT
			    ? step_names[r.step]
			    : "?",
			strerror(-rc));
		(void)waitpid(pid, NULL, 0);
		goto out_close;
	}
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		rc = -errno;
		vdf_log(LOG_ERR, "spawn", NULL, "pidfd_open of %s (pid %d): %s", o->path, (int)pid,
			strerror(-rc));
		kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
		goto out_close;
	}
	close_fd(&status[0]);
	out->pid = pid;
	out->pidfd = pidfd;
	out->log_fd = logp[0];
	return 0;

out_close:
	close_fd(&status[0]);
	close_fd(&status[1]);
	close_fd(&logp[0]);
	close_fd(&logp[1]);
	return rc;
}

int vdf_spawn_kill(struct vdf_spawned *s, int sig)
{
	if (s->pidfd < 0)
		return -EBADF;
	if (syscall(SYS_pidfd_send_signal, s->pidfd, sig, NULL, 0) < 0)
		return -errno;
	return 0;
}

int vdf_spawn_reap(struct vdf_spawned *s, bool wait, int *status)
{
	siginfo_t si;

	if (s->pidfd < 0 || !s->pid)
		return -ECHILD;
	memset(&si, 0, sizeof(si));
	if (waitid((idtype_t)P_PIDFD, (id_t)s->pidfd, &si, WEXITED | (wait ? 0 : WNOHANG)) < 0)
		return -errno;
	if (si.si_pid == 0)
		return -EAGAIN;
	switch (si.si_code) {
	case CLD_EXITED:
		*status = (si.si_status & 0xff) << 8;
		break;
	case CLD_DUMPED:
		*status = (si.si_status & 0x7f) | 0x80;
		break;
	default: /* CLD_KILLED */
		*status = si.si_status & 0x7f;
		break;
	}
	s->pid = 0;
	return 0;
}

void vdf_spawned_release(struct vdf_spawned *s)
{
	if (!s)
		return;
	close_fd(&s->pidfd);
	close_fd(&s->log_fd);
}

/* ---- IOMMU and VFIO ----------------------------------------------------- */

static int pci_addr_plain(const char *a)
{
	return a && strlen(a) == 12 && strspn(a, "0123456789abcdef:.") == 12;
}

bool vdf_iommu_present_at(const char *sysfs_root, const char *pci_addr)
{
	char path[PATH_MAX], link[PATH_MAX], type[32] = "";
	const char *group;
	struct dirent *de;
	bool any = false;
	ssize_t n;
	DIR *d;
	FILE *f;

	if (!sysfs_root)
		sysfs_root = "/sys";
	snprintf(path, sizeof(path), "%s/kernel/iommu_groups", sysfs_root);
	d = opendir(path);
	if (!d)
		return false;
	while (!any && (de = readdir(d)))
		any = de->d_name[0] != '.';
	closedir(d);
	if (!any || !pci_addr)
		return any;
	if (!pci_addr_plain(pci_addr))
		return false;
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/iommu_group", sysfs_root, pci_addr);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return false;
	link[n] = '\0';
	group = strrchr(link, '/');
	group = group ? group + 1 : link;
	/* VFIO's no-IOMMU mode makes groups too; theirs have no domain ("unknown"). */
	if ((size_t)snprintf(path, sizeof(path), "%s/kernel/iommu_groups/%s/type", sysfs_root,
			     group) >= sizeof(path))
		return false;
	f = fopen(path, "re");
	if (!f)
		return true; /* kernels before 5.11 have no "type" */
	if (!fgets(type, sizeof(type), f))
		type[0] = '\0';
	fclose(f);
	return strncmp(type, "unknown", 7) != 0;
}

bool vdf_iommu_present(const char *pci_addr)
{
	return vdf_iommu_present_at("/sys", pci_addr);
}

int vdf_spawn_open_vfio(const char *pci_addr, int fds[VDF_GRANT_NFDS])
{
	struct vfio_group_status st = {.argsz = sizeof(st)};
	int container = -1, group = -1, device = -1, rc;
	char path[PATH_MAX], link[PATH_MAX];
	const char *gname;
	ssize_t n;

	if (!pci_addr_plain(pci_addr))
		return -EINVAL;
	if (!vdf_iommu_present(pci_addr)) {
		vdf_log(LOG_ERR, "spawn", pci_addr,
			"no IOMMU protects this device: refusing to "
			"grant it (DMA could reach any memory)");
		return -ENODEV;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", pci_addr);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = '\0';
	gname = strrchr(link, '/');
	gname = gname ? gname + 1 : link;

	container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (container < 0) {
		rc = -errno;
		vdf_log(LOG_ERR, "spawn", pci_addr, "open /dev/vfio/vfio: %s", strerror(-rc));
		return rc;
	}
	if (ioctl(container, VFIO_GET_API_VERSION) != VFIO_API_VERSION ||
	    ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) <= 0) {
		vdf_log(LOG_ERR, "spawn", pci_addr, "VFIO type1v2 IOMMU not supported");
		rc = -ENOTSUP;
		goto out_close;
	}
	if ((size_t)snprintf(path, sizeof(path), "/dev/vfio/%s", gname) >= sizeof(path)) {
		rc = -ENAMETOOLONG;
		goto out_close;
	}
	group = open(path, O_RDWR | O_CLOEXEC);
	if (group < 0) {
		rc = -errno;
		vdf_log(LOG_ERR, "spawn", pci_addr, "open %s: %s (bound to vfio-pci? in use?)",
			path, strerror(-rc));
		goto out_close;
	}
	if (ioctl(group, VFIO_GROUP_GET_STATUS, &st) < 0) {
		rc = -errno;
		goto out_close;
	}
	if (!(st.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		vdf_log(LOG_ERR, "spawn", pci_addr,
			"IOMMU group %s not viable: bind every device in it to vfio-pci", gname);
		rc = -EBUSY;
		goto out_close;
	}
	/* A container of its own: this driver's IOMMU domain and nobody else's. */
	if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) < 0 ||
	    ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0) {
		rc = -errno;
		vdf_log(LOG_ERR, "spawn", pci_addr, "attaching group %s to a new container: %s",
			gname, strerror(-rc));
		goto out_close;
	}
	device = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, pci_addr);
	if (device < 0) {
		rc = -errno;
		vdf_log(LOG_ERR, "spawn", pci_addr, "VFIO_GROUP_GET_DEVICE_FD: %s", strerror(-rc));
		goto out_close;
	}
	fds[VDF_GRANT_FD_CONTAINER] = container;
	fds[VDF_GRANT_FD_GROUP] = group;
	fds[VDF_GRANT_FD_DEVICE] = device;
	return 0;

out_close:
	close_fd(&group);
	close_fd(&container);
	return rc;
}
