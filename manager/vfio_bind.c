// SPDX-License-Identifier: MIT
/* Binding PCI functions to vfio-pci and back through sysfs; see vfio_bind.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "discovery.h"
#include "vdf/event.h"
#include "vdf/log.h"
#include "vfio_bind.h"

#define COMP		"vfio-bind"
#define POLL_MS		10
#define DRIVER_NAME_MAX 64

struct ctx {
	const struct vdf_vfio_bind_opts *o;
	const char *root;
	const char *dev_root;
	const char *addr;
	unsigned timeout_ms;
};

static void ctx_init(struct ctx *c, const struct vdf_vfio_bind_opts *o, const char *addr)
{
	static const struct vdf_vfio_bind_opts defaults;

	c->o = o ? o : &defaults;
	c->root = c->o->sysfs_root ? c->o->sysfs_root : "/sys";
	c->dev_root = c->o->dev_root ? c->o->dev_root : "/dev";
	c->addr = addr;
	c->timeout_ms = c->o->timeout_ms ? c->o->timeout_ms : VDF_VFIO_BIND_TIMEOUT_MS;
}

static int path_of(const struct ctx *c, char *buf, size_t len, const char *rel)
{
	int n = snprintf(buf, len, "%s/%s", c->root, rel);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* rel is "bus/pci/devices/<addr>/<what>" */
static int dev_rel(const struct ctx *c, char *buf, size_t len, const char *what)
{
	int n = snprintf(buf, len, "bus/pci/devices/%s%s%s", c->addr, what[0] ? "/" : "", what);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int sysfs_write(const struct ctx *c, const char *rel, const char *value)
{
	char path[PATH_MAX];
	size_t len = strlen(value);
	ssize_t w;
	int fd, rc;

	rc = path_of(c, path, sizeof(path), rel);
	if (rc)
		return rc;
	/* No O_CREAT: a missing attribute is an error, never a new file. */
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		rc = -errno;
		vdf_log(LOG_ERR, COMP, c->addr, "open %s: %s", path, strerror(-rc));
		return rc;
	}
	w = write(fd, value, len);
	rc = w < 0 ? -errno : (size_t)w != len ? -EIO : 0;
	if (close(fd) && !rc)
		rc = -errno;
	if (rc) {
		vdf_log(LOG_ERR, COMP, c->addr, "writing '%s' to %s: %s",
			value[0] == '\n' ? "\\n" : value, path, strerror(-rc));
		return rc;
	}
	if (c->o->after_write)
		c->o->after_write(rel, value, c->o->arg);
	return 0;
}

/* Basename of the device's driver link into buf; "" when unbound. */
static int current_driver(const struct ctx *c, char *buf, size_t len)
{
	char rel[PATH_MAX], path[PATH_MAX], target[PATH_MAX];
	const char *base;
	ssize_t n;
	int rc;

	buf[0] = '\0';
	rc = dev_rel(c, rel, sizeof(rel), "driver");
	if (!rc)
		rc = path_of(c, path, sizeof(path), rel);
	if (rc)
		return rc;
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return errno == ENOENT ? 0 : -errno;
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strlen(base) >= len)
		return -ENAMETOOLONG;
	memcpy(buf, base, strlen(base) + 1);
	return 0;
}

static int iommu_group_of(const struct ctx *c, int *group)
{
	char rel[PATH_MAX], path[PATH_MAX], target[PATH_MAX];
	const char *base;
	char *end;
	ssize_t n;
	long g;
	int rc;

	rc = dev_rel(c, rel, sizeof(rel), "iommu_group");
	if (!rc)
		rc = path_of(c, path, sizeof(path), rel);
	if (rc)
		return rc;
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return errno == ENOENT ? -ENODEV : -errno;
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	errno = 0;
	g = strtol(base, &end, 10);
	if (errno || end == base || *end || g < 0 || g > INT_MAX)
		return -EBADMSG;
	*group = (int)g;
	return 0;
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static bool valid_driver_name(const char *s)
{
	size_t len = strnlen(s, DRIVER_NAME_MAX);

	if (len == 0 || len >= DRIVER_NAME_MAX || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '.'))
			return false;
	}
	return true;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/*
 * Wait until the driver link names `want` ("" = unbound) and, when devnode is
 * not NULL, that node exists. 0 or -ETIMEDOUT; *now gets the last driver seen.
 */
static int wait_for(const struct ctx *c, unsigned timeout_ms, const char *want, const char *devnode,
		    char *now, size_t nowlen)
{
	uint64_t deadline = vdf_now_ns() + (uint64_t)timeout_ms * 1000000ull;

	for (;;) {
		int rc = current_driver(c, now, nowlen);

		if (rc)
			return rc;
		if (!strcmp(now, want) && (!devnode || exists(devnode)))
			return 0;
		if (vdf_now_ns() >= deadline)
			return -ETIMEDOUT;
		sleep_ms(POLL_MS);
	}
}

static int unbind_current(const struct ctx *c)
{
	char rel[PATH_MAX];
	int rc = dev_rel(c, rel, sizeof(rel), "driver/unbind");

	return rc ? rc : sysfs_write(c, rel, c->addr);
}

static int clear_override(const struct ctx *c)
{
	char rel[PATH_MAX];
	int rc = dev_rel(c, rel, sizeof(rel), "driver_override");

	/* An empty write never reaches the kernel; a lone newline clears it. */
	return rc ? rc : sysfs_write(c, rel, "\n");
}

/*
 * Ask `prev` to take the device back: reprobe, and if that lands elsewhere or
 * nowhere, bind prev explicitly. 0, -ETIMEDOUT, or a write error.
 */
static int give_back(const struct ctx *c, const char *prev)
{
	char now[DRIVER_NAME_MAX], rel[PATH_MAX];
	int rc;

	rc = sysfs_write(c, "bus/pci/drivers_probe", c->addr);
	if (rc && rc != -EINVAL && rc != -ENODEV) /* the kernel's "nothing matched" */
		return rc;
	/* Probing from drivers_probe is synchronous: a short wait tells whether
	 * it worked before trying the explicit bind. */
	rc = wait_for(c, VDF_MIN(c->timeout_ms, 1000u), prev, NULL, now, sizeof(now));
	if (rc != -ETIMEDOUT)
		return rc;
	if (now[0]) {
		vdf_log(LOG_WARNING, COMP, c->addr, "reprobe bound '%s', expected '%s'", now, prev);
		return -EBUSY;
	}
	snprintf(rel, sizeof(rel), "bus/pci/drivers/%s/bind", prev);
	rc = sysfs_write(c, rel, c->addr);
	if (rc)
		return rc;
	return wait_for(c, c->timeout_ms, prev, NULL, now, sizeof(now));
}

/* Undo a half-done bind: best effort, errors are logged by the steps. */
static void rollback(const struct ctx *c, const char *prev)
{
	char now[DRIVER_NAME_MAX];

	(void)clear_override(c);
	if (!current_driver(c, now, sizeof(now)) && !strcmp(now, VDF_VFIO_DRIVER))
		(void)unbind_current(c);
	if (prev[0] && give_back(c, prev))
		vdf_log(LOG_ERR, COMP, c->addr, "could not give the device back to '%s'", prev);
}

static int check_common(const struct ctx *c)
{
	char rel[PATH_MAX], path[PATH_MAX];
	int rc;

	if (!vdf_pci_addr_valid(c->addr)) {
		vdf_log(LOG_ERR, COMP, NULL, "'%.32s' is not a canonical PCI address",
			c->addr ? c->addr : "(null)");
		return -EINVAL;
	}
	rc = dev_rel(c, rel, sizeof(rel), "");
	if (!rc)
		rc = path_of(c, path, sizeof(path), rel);
	if (rc)
		return rc;
	if (!exists(path)) {
		vdf_log(LOG_ERR, COMP, c->addr, "no such PCI device (%s)", path);
		return -ENOENT;
	}
	return 0;
}

int vdf_vfio_bind_ex(const struct vdf_vfio_bind_opts *opts, const char *addr, char *prev_driver,
		     size_t len)
{
	char cur[DRIVER_NAME_MAX], rel[PATH_MAX], path[PATH_MAX], devnode[PATH_MAX];
	struct ctx c;
	int group = -1, rc;

	ctx_init(&c, opts, addr);
	if (!prev_driver || !len)
		return -EINVAL;
	prev_driver[0] = '\0';
	rc = check_common(&c);
	if (rc)
		return rc;

	rc = iommu_group_of(&c, &group);
	if (rc) {
		if (rc == -ENODEV)
			vdf_log(LOG_ERR, COMP, addr,
				"no IOMMU group: is the IOMMU enabled (intel_iommu=on)?");
		else
			vdf_log(LOG_ERR, COMP, addr, "reading iommu_group: %s", strerror(-rc));
		return rc == -EBADMSG ? -ENODEV : rc;
	}
	snprintf(devnode, sizeof(devnode), "%s/vfio/%d", c.dev_root, group);

	rc = path_of(&c, path, sizeof(path), "bus/pci/drivers/" VDF_VFIO_DRIVER);
	if (rc)
		return rc;
	if (!exists(path)) {
		vdf_log(LOG_ERR, COMP, addr,
			"the vfio-pci driver is not loaded (modprobe vfio-pci)");
		return -ENOPKG;
	}

	rc = current_driver(&c, cur, sizeof(cur));
	if (rc) {
		vdf_log(LOG_ERR, COMP, addr, "reading the driver link: %s", strerror(-rc));
		return rc;
	}
	if (strlen(cur) >= len)
		return -ENAMETOOLONG;
	memcpy(prev_driver, cur, strlen(cur) + 1);

	if (!strcmp(cur, VDF_VFIO_DRIVER)) {
		rc = wait_for(&c, c.timeout_ms, VDF_VFIO_DRIVER, devnode, cur, sizeof(cur));
		if (rc)
			vdf_log(LOG_ERR, COMP, addr, "bound to vfio-pci but %s is missing",
				devnode);
		return rc;
	}

	rc = dev_rel(&c, rel, sizeof(rel), "driver_override");
	if (!rc)
		rc = sysfs_write(&c, rel, VDF_VFIO_DRIVER);
	if (rc) {
		if (rc == -ENOENT)
			vdf_log(LOG_ERR, COMP, addr,
				"kernel has no driver_override (needs >= 3.16)");
		return rc;
	}
	if (cur[0]) {
		vdf_log(LOG_INFO, COMP, addr, "unbinding from kernel driver '%s'", cur);
		rc = unbind_current(&c);
		if (rc)
			goto out_rollback;
	}
	rc = sysfs_write(&c, "bus/pci/drivers_probe", addr);
	if (rc)
		goto out_rollback;
	rc = wait_for(&c, c.timeout_ms, VDF_VFIO_DRIVER, devnode, cur, sizeof(cur));
	if (rc) {
		if (rc == -ETIMEDOUT && strcmp(cur, VDF_VFIO_DRIVER))
			vdf_log(LOG_ERR, COMP, addr,
				"vfio-pci did not take the device within %u ms (driver now: '%s')",
				c.timeout_ms, cur[0] ? cur : "none");
		else if (rc == -ETIMEDOUT)
			vdf_log(LOG_ERR, COMP, addr, "%s did not appear within %u ms", devnode,
				c.timeout_ms);
		goto out_rollback;
	}
	vdf_log(LOG_INFO, COMP, addr, "bound to vfio-pci (IOMMU group %d, was '%s')", group,
		prev_driver[0] ? prev_driver : "unbound");
	return 0;

out_rollback:
	rollback(&c, prev_driver);
	return rc;
}

int vdf_vfio_unbind_ex(const struct vdf_vfio_bind_opts *opts, const char *addr,
		       const char *prev_driver)
{
	char cur[DRIVER_NAME_MAX];
	const char *prev = prev_driver ? prev_driver : "";
	struct ctx c;
	int rc;

	ctx_init(&c, opts, addr);
	rc = check_common(&c);
	if (rc)
		return rc;
	if (prev[0] && !valid_driver_name(prev)) {
		vdf_log(LOG_ERR, COMP, addr, "'%.32s' is not a driver name", prev);
		return -EINVAL;
	}
	if (!strcmp(prev, VDF_VFIO_DRIVER))
		return 0; /* it was on vfio-pci before us: leave it there */

	rc = clear_override(&c);
	if (rc)
		return rc;
	rc = current_driver(&c, cur, sizeof(cur));
	if (rc)
		return rc;
	if (!strcmp(cur, VDF_VFIO_DRIVER)) {
		rc = unbind_current(&c);
		if (rc)
			return rc;
	} else if (cur[0] && strcmp(cur, prev)) {
		vdf_log(LOG_WARNING, COMP, addr, "held by '%s', not vfio-pci: left alone", cur);
		return -EBUSY;
	} else if (cur[0]) {
		return 0; /* already back with prev */
	}
	if (!prev[0]) {
		vdf_log(LOG_INFO, COMP, addr, "released from vfio-pci (left unbound)");
		return 0;
	}
	rc = give_back(&c, prev);
	if (rc) {
		vdf_log(LOG_ERR, COMP, addr, "kernel driver '%s' did not take the device back: %s",
			prev, strerror(-rc));
		return rc;
	}
	vdf_log(LOG_INFO, COMP, addr, "given back to kernel driver '%s'", prev);
	return 0;
}

int vdf_vfio_bind(const char *sysfs_root, const char *addr, char *prev_driver, size_t len)
{
	struct vdf_vfio_bind_opts o = {.sysfs_root = sysfs_root};

	return vdf_vfio_bind_ex(&o, addr, prev_driver, len);
}

int vdf_vfio_unbind(const char *sysfs_root, const char *addr, const char *prev_driver)
{
	struct vdf_vfio_bind_opts o = {.sysfs_root = sysfs_root};

	return vdf_vfio_unbind_ex(&o, addr, prev_driver);
}
