// SPDX-License-Identifier: MIT
/* PCI discovery from sysfs; see discovery.h. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "discovery.h"
#include "vdf/hw/pci.h"
#include "vdf/log.h"
#include "vdf/pci.h"

#define COMP "discovery"

/* Linux IORESOURCE_* bits in the third column of the "resource" file. */
#define IORESOURCE_IO  0x00000100ull
#define IORESOURCE_MEM 0x00000200ull

/* Text attributes are one short line; "resource" is 17 lines of ~57 bytes. */
#define TEXT_MAX     128
#define RESOURCE_MAX 4096

static bool is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static unsigned hex_val(char c)
{
	return c <= '9' ? (unsigned)(c - '0') : (unsigned)(c - 'a' + 10);
}

bool vdf_pci_addr_valid(const char *addr)
{
	size_t len, dom;

	if (!addr)
		return false;
	len = strnlen(addr, VDF_PCI_ADDR_LEN);
	if (len != 12 && len != 13)
		return false;
	dom = len - 8; /* ":bb:dd.f" */
	for (size_t i = 0; i < len; i++) {
		char c = addr[i];

		if (i == dom || i == dom + 3) {
			if (c != ':')
				return false;
		} else if (i == dom + 6) {
			if (c != '.')
				return false;
		} else if (!is_lower_hex(c)) {
			return false;
		}
	}
	if (hex_val(addr[dom + 4]) * 16 + hex_val(addr[dom + 5]) > 0x1f)
		return false;
	return addr[dom + 7] <= '7';
}

int vdf_pci_addr_normalize(const char *in, char out[VDF_PCI_ADDR_LEN])
{
	char buf[VDF_PCI_ADDR_LEN];
	size_t len;

	if (!in)
		return -EINVAL;
	len = strnlen(in, VDF_PCI_ADDR_LEN);
	if (len == 7) { /* "bb:dd.f": domain 0 */
		memcpy(buf, "0000:", 5);
		memcpy(buf + 5, in, 8);
	} else if (len == 12 || len == 13) {
		memcpy(buf, in, len + 1);
	} else {
		return -EINVAL;
	}
	for (char *p = buf; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (!vdf_pci_addr_valid(buf))
		return -EINVAL;
	memcpy(out, buf, strlen(buf) + 1);
	return 0;
}

/* Read at most cap-1 bytes of dirfd/name as a NUL-terminated string.
 * Returns the byte count or a negative errno. */
static ssize_t read_file_at(int dirfd, const char *name, void *buf, size_t cap)
{
	size_t got = 0;
	int fd;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	while (got < cap - 1) {
		ssize_t r = read(fd, (char *)buf + got, cap - 1 - got);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			close(fd);
			return r;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	((char *)buf)[got] = '\0';
	return (ssize_t)got;
}

/*
 * Parse "0x1b36\n" strictly: a 0x prefix, 1..16 hex digits, optional trailing
 * whitespace, and a value <= max. Returns 0 or -EBADMSG.
 */
static int parse_hex(const char *s, unsigned long long max, unsigned long long *out)
{
	unsigned long long v = 0;
	unsigned digits = 0;

	if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return -EBADMSG;
	s += 2;
	for (; isxdigit((unsigned char)*s); s++) {
		if (++digits > 16)
			return -EBADMSG;
		v = v << 4 | hex_val((char)tolower((unsigned char)*s));
	}
	while (*s == '\n' || *s == ' ' || *s == '\t')
		s++;
	if (!digits || *s || v > max)
		return -EBADMSG;
	*out = v;
	return 0;
}

/* Read a hex attribute ("vendor", "class", ...). -ENOENT, -EBADMSG, ... */
static int read_hex_attr(int dirfd, const char *name, unsigned long long max,
			 unsigned long long *out)
{
	char buf[TEXT_MAX];
	ssize_t n = read_file_at(dirfd, name, buf, sizeof(buf));

	if (n < 0)
		return (int)n;
	return parse_hex(buf, max, out);
}

static void warn_attr(const char *addr, const char *name, int rc)
{
	if (rc == -EBADMSG)
		vdf_log(LOG_WARNING, COMP, addr, "%s: garbled contents, ignored", name);
	else if (rc == -ENOENT)
		vdf_log(LOG_DEBUG, COMP, addr, "%s: missing", name);
	else
		vdf_log(LOG_WARNING, COMP, addr, "%s: %s", name, strerror(-rc));
}

/* Optional hex attribute: on failure warn and leave *field alone. */
static void opt_hex(int dirfd, const char *addr, const char *name, unsigned long long max,
		    unsigned long long *out)
{
	int rc = read_hex_attr(dirfd, name, max, out);

	if (rc)
		warn_attr(addr, name, rc);
}

/* The last path component of symlink dirfd/name into buf. */
static int read_link_base(int dirfd, const char *name, char *buf, size_t cap)
{
	char target[PATH_MAX];
	const char *base;
	ssize_t n;

	n = readlinkat(dirfd, name, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	while (n > 0 && target[n - 1] == '/')
		target[--n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (!*base || strlen(base) >= cap)
		return -EBADMSG;
	memcpy(buf, base, strlen(base) + 1);
	return 0;
}

static int parse_u64_token(const char **sp, unsigned long long *out)
{
	const char *s = *sp;
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	if (s[0] != '0' || s[1] != 'x')
		return -EBADMSG;
	errno = 0;
	*out = strtoull(s, &end, 16);
	if (errno || end == s + 2)
		return -EBADMSG;
	*sp = end;
	return 0;
}

/*
 * "resource": one line per resource, "0x<start> 0x<end> 0x<flags>"; lines
 * 0..5 are the BARs (the upper half of a 64-bit BAR reads as all zeros).
 */
static void read_bars(int dirfd, struct vdf_pci_info *info)
{
	char *buf = malloc(RESOURCE_MAX);
	const char *line;
	ssize_t n;

	if (!buf) {
		vdf_log(LOG_WARNING, COMP, info->addr, "resource: out of memory");
		return;
	}
	n = read_file_at(dirfd, "resource", buf, RESOURCE_MAX);
	if (n < 0) {
		warn_attr(info->addr, "resource", (int)n);
		goto out;
	}
	line = buf;
	for (unsigned bar = 0; bar < PCI_NUM_BARS && *line; bar++) {
		unsigned long long start, end, flags;
		const char *p = line;
		const char *eol = strchr(line, '\n');

		line = eol ? eol + 1 : line + strlen(line);
		if (parse_u64_token(&p, &start) || parse_u64_token(&p, &end) ||
		    parse_u64_token(&p, &flags) || (*p != '\n' && *p != '\0') || end < start) {
			vdf_log(LOG_WARNING, COMP, info->addr,
				"resource: BAR%u line garbled, ignored", bar);
			continue;
		}
		if (!(flags & (IORESOURCE_IO | IORESOURCE_MEM)) || (start == 0 && end == 0))
			continue;
		info->bar_kind[bar] = (flags & IORESOURCE_IO) ? VDF_BAR_IO : VDF_BAR_MEM;
		info->bar_size[bar] = end - start + 1;
	}
out:
	free(buf);
}

/*
 * Interrupts from config space: INTx from the interrupt pin, MSI and MSI-X
 * vector counts from the capability list (walked by the HAL's untrusted-input
 * walker). Without root only the first 64 bytes are readable: then only the
 * pin is known.
 */
static void read_irqs(int dirfd, struct vdf_pci_info *info)
{
	struct vdf_pci_caps caps;
	uint8_t *cfg = calloc(1, PCI_CFG_SPACE_EXP_SIZE + 1);
	ssize_t n;
	int off;

	if (!cfg) {
		vdf_log(LOG_WARNING, COMP, info->addr, "config: out of memory");
		return;
	}
	n = read_file_at(dirfd, "config", cfg, PCI_CFG_SPACE_EXP_SIZE + 1);
	if (n < 0) {
		warn_attr(info->addr, "config", (int)n);
		goto out;
	}
	if (n > PCI_INTERRUPT_PIN) {
		uint8_t pin = cfg[PCI_INTERRUPT_PIN];

		info->has_intx = pin >= 1 && pin <= 4;
	}
	if (n < PCI_CFG_SPACE_SIZE) {
		vdf_log(LOG_DEBUG, COMP, info->addr,
			"config: only %zd bytes readable (not root?): MSI/MSI-X unknown", n);
		goto out;
	}
	vdf_pci_parse_caps(
	    cfg, n >= PCI_CFG_SPACE_EXP_SIZE ? PCI_CFG_SPACE_EXP_SIZE : PCI_CFG_SPACE_SIZE, &caps);
	if (caps.std_error)
		vdf_log(LOG_WARNING, COMP, info->addr,
			"config: capability list %s; using the entries before that",
			caps.std_error == -ELOOP   ? "loops"
			: caps.std_error == -E2BIG ? "is too long"
						   : "has a bad pointer");
	off = vdf_pci_find_cap(&caps, PCI_CAP_ID_MSIX, 0);
	if (off >= 0) {
		uint16_t ctl =
		    (uint16_t)(cfg[off + PCI_MSIX_FLAGS] | cfg[off + PCI_MSIX_FLAGS + 1] << 8);

		info->msix_count = FIELD_GET(PCI_MSIX_FLAGS_QSIZE, ctl) + 1;
	}
	off = vdf_pci_find_cap(&caps, PCI_CAP_ID_MSI, 0);
	if (off >= 0) {
		uint16_t ctl =
		    (uint16_t)(cfg[off + PCI_MSI_FLAGS] | cfg[off + PCI_MSI_FLAGS + 1] << 8);
		unsigned log2 = FIELD_GET(PCI_MSI_FLAGS_QMASK, ctl);

		/* 6 and 7 are reserved encodings: the maximum, 32, is the safe reading */
		info->msi_count = 1u << VDF_MIN(log2, 5u);
	}
out:
	free(cfg);
}

static int discover_at(int devsfd, const char *addr, struct vdf_pci_info *info)
{
	unsigned long long v;
	char buf[TEXT_MAX];
	int dirfd, rc;

	memset(info, 0, sizeof(*info));
	info->iommu_group = -1;
	if (!vdf_pci_addr_valid(addr))
		return -EINVAL;
	dirfd = openat(devsfd, addr, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return errno == ENOTDIR ? -ENOENT : -errno;
	memcpy(info->addr, addr, strlen(addr) + 1);

	rc = read_hex_attr(dirfd, "vendor", 0xffff, &v);
	if (rc)
		goto out_bad_id;
	info->vendor = (uint16_t)v;
	rc = read_hex_attr(dirfd, "device", 0xffff, &v);
	if (rc)
		goto out_bad_id;
	info->device = (uint16_t)v;

	v = 0;
	opt_hex(dirfd, addr, "subsystem_vendor", 0xffff, &v);
	info->subsys_vendor = (uint16_t)v;
	v = 0;
	opt_hex(dirfd, addr, "subsystem_device", 0xffff, &v);
	info->subsys_device = (uint16_t)v;
	v = 0;
	opt_hex(dirfd, addr, "class", 0xffffff, &v);
	info->class_code = (uint8_t)(v >> 16);
	info->subclass = (uint8_t)(v >> 8);
	info->prog_if = (uint8_t)v;
	v = 0;
	opt_hex(dirfd, addr, "revision", 0xff, &v);
	info->revision = (uint8_t)v;

	read_bars(dirfd, info);

	rc = read_link_base(dirfd, "iommu_group", buf, sizeof(buf));
	if (rc == 0) {
		char *end;
		long g;

		errno = 0;
		g = strtol(buf, &end, 10);
		if (errno || *end || end == buf || g < 0 || g > INT_MAX)
			vdf_log(LOG_WARNING, COMP, addr, "iommu_group: garbled link, ignored");
		else
			info->iommu_group = (int)g;
	} else if (rc != -ENOENT) {
		warn_attr(addr, "iommu_group", rc);
	}

	rc = read_link_base(dirfd, "driver", info->driver, sizeof(info->driver));
	if (rc) {
		info->driver[0] = '\0';
		if (rc != -ENOENT)
			warn_attr(addr, "driver", rc);
	}

	read_irqs(dirfd, info);
	close(dirfd);
	return 0;

out_bad_id:
	vdf_log(LOG_WARNING, COMP, addr, "vendor/device ID unreadable (%s): skipped",
		rc == -EBADMSG ? "garbled" : strerror(-rc));
	close(dirfd);
	memset(info, 0, sizeof(*info));
	info->iommu_group = -1;
	return -EBADMSG;
}

static int open_devices_dir(const char *sysfs_root)
{
	char path[PATH_MAX];
	int fd, len;

	len = snprintf(path, sizeof(path), "%s/bus/pci/devices", sysfs_root ? sysfs_root : "/sys");
	if (len < 0 || (size_t)len >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return fd;
}

int vdf_discover_one(const char *sysfs_root, const char *addr, struct vdf_pci_info *info)
{
	int devsfd, rc;

	memset(info, 0, sizeof(*info));
	info->iommu_group = -1;
	if (!vdf_pci_addr_valid(addr))
		return -EINVAL;
	devsfd = open_devices_dir(sysfs_root);
	if (devsfd < 0)
		return devsfd;
	rc = discover_at(devsfd, addr, info);
	close(devsfd);
	return rc;
}

static int cmp_addr(const void *a, const void *b)
{
	const struct vdf_pci_info *x = a, *y = b;
	size_t lx = strlen(x->addr), ly = strlen(y->addr);

	/* a 5-digit domain sorts after every 4-digit one */
	if (lx != ly)
		return lx < ly ? -1 : 1;
	return strcmp(x->addr, y->addr);
}

int vdf_discover_pci(const char *sysfs_root, struct vdf_pci_info **out, unsigned *n)
{
	struct vdf_pci_info *list = NULL;
	unsigned count = 0, cap = 0;
	struct dirent *de;
	DIR *dir;
	int devsfd, rc = 0;

	*out = NULL;
	*n = 0;
	devsfd = open_devices_dir(sysfs_root);
	if (devsfd < 0) {
		vdf_log(LOG_ERR, COMP, NULL, "%s/bus/pci/devices: %s",
			sysfs_root ? sysfs_root : "/sys", strerror(-devsfd));
		return devsfd;
	}
	dir = fdopendir(devsfd);
	if (!dir) {
		rc = -errno;
		close(devsfd);
		return rc;
	}
	while ((de = readdir(dir))) {
		struct vdf_pci_info info;

		if (de->d_name[0] == '.')
			continue;
		if (!vdf_pci_addr_valid(de->d_name)) {
			vdf_log(LOG_DEBUG, COMP, NULL, "ignoring '%s': not a PCI address",
				de->d_name);
			continue;
		}
		if (discover_at(dirfd(dir), de->d_name, &info))
			continue;
		if (count == VDF_DISCOVER_MAX) {
			vdf_log(LOG_WARNING, COMP, NULL, "more than %u PCI functions: rest ignored",
				VDF_DISCOVER_MAX);
			break;
		}
		if (count == cap) {
			unsigned ncap = cap ? cap * 2 : 32;
			struct vdf_pci_info *nl = realloc(list, ncap * sizeof(*list));

			if (!nl) {
				rc = -ENOMEM;
				goto out_free;
			}
			list = nl;
			cap = ncap;
		}
		list[count++] = info;
	}
	closedir(dir);
	if (count)
		qsort(list, count, sizeof(*list), cmp_addr);
	*out = list;
	*n = count;
	return 0;

out_free:
	free(list);
	closedir(dir);
	return rc;
}

void vdf_discover_free(struct vdf_pci_info *list)
{
	free(list);
}

const char *vdf_pci_class_name(uint32_t class24)
{
	/* class, subclass, prog-if (0x100 = any) */
	static const struct {
		uint8_t cls, sub;
		uint16_t pi;
		const char *name;
	} names[] = {
	    {0x01, 0x00, 0x100, "SCSI controller"},
	    {0x01, 0x01, 0x100, "IDE controller"},
	    {0x01, 0x06, 0x100, "SATA controller"},
	    {0x01, 0x08, 0x02, "NVMe controller"},
	    {0x01, 0x08, 0x100, "NVM controller"},
	    {0x01, 0xff, 0x100, "storage controller"},
	    {0x02, 0x00, 0x100, "Ethernet controller"},
	    {0x02, 0xff, 0x100, "network controller"},
	    {0x03, 0x00, 0x100, "VGA display"},
	    {0x03, 0x80, 0x100, "display controller"},
	    {0x04, 0x01, 0x100, "audio device"},
	    {0x04, 0x03, 0x100, "HD audio"},
	    {0x06, 0x00, 0x100, "host bridge"},
	    {0x06, 0x01, 0x100, "ISA bridge"},
	    {0x06, 0x04, 0x100, "PCI bridge"},
	    {0x07, 0x00, 0x100, "serial controller"},
	    {0x07, 0x80, 0x100, "communication controller"},
	    {0x08, 0x06, 0x100, "IOMMU"},
	    {0x0c, 0x03, 0x00, "USB UHCI"},
	    {0x0c, 0x03, 0x10, "USB OHCI"},
	    {0x0c, 0x03, 0x20, "USB EHCI"},
	    {0x0c, 0x03, 0x30, "USB xHCI"},
	    {0x0c, 0x03, 0x100, "USB controller"},
	    {0x0c, 0x05, 0x100, "SMBus"},
	};
	static const char *const by_class[] = {
	    "unclassified", "storage",	  "network",	       "display",     "multimedia",
	    "memory",	    "bridge",	  "communication",     "system",      "input",
	    "docking",	    "processor",  "serial bus",	       "wireless",    "intelligent",
	    "satellite",    "encryption", "signal processing", "accelerator",
	};
	uint8_t cls = (uint8_t)(class24 >> 16), sub = (uint8_t)(class24 >> 8),
		pi = (uint8_t)class24;

	for (size_t i = 0; i < VDF_ARRAY_SIZE(names); i++)
		if (names[i].cls == cls && names[i].sub == sub &&
		    (names[i].pi == 0x100 || names[i].pi == pi))
			return names[i].name;
	if (cls < VDF_ARRAY_SIZE(by_class))
		return by_class[cls];
	return "unknown class";
}

const char *vdf_bar_kind_name(enum vdf_bar_kind kind)
{
	switch (kind) {
	case VDF_BAR_MEM:
		return "mem";
	case VDF_BAR_IO:
		return "io";
	default:
		return "none";
	}
}

/* json_object_object_add that reports failure (json-c returns -1 on ENOMEM). */
static int put(json_object *obj, const char *key, json_object *val)
{
	if (!val)
		return -ENOMEM;
	if (json_object_object_add(obj, key, val)) {
		json_object_put(val);
		return -ENOMEM;
	}
	return 0;
}

static json_object *hex_string(unsigned v, int width)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%0*x", width, v);
	return json_object_new_string(buf);
}

json_object *vdf_pci_info_to_json(const struct vdf_pci_info *p)
{
	json_object *o = json_object_new_object();
	json_object *bars;
	int rc = 0;

	if (!o)
		return NULL;
	rc |= put(o, "addr", json_object_new_string(p->addr));
	rc |= put(o, "vendor", hex_string(p->vendor, 4));
	rc |= put(o, "device", hex_string(p->device, 4));
	rc |= put(o, "subsystem_vendor", hex_string(p->subsys_vendor, 4));
	rc |= put(o, "subsystem_device", hex_string(p->subsys_device, 4));
	rc |= put(o, "class", hex_string(vdf_pci_class24(p), 6));
	rc |= put(o, "class_name", json_object_new_string(vdf_pci_class_name(vdf_pci_class24(p))));
	rc |= put(o, "revision", json_object_new_int(p->revision));
	bars = json_object_new_array();
	rc |= put(o, "bars", bars);
	for (unsigned i = 0; bars && i < PCI_NUM_BARS; i++) {
		json_object *b;

		if (p->bar_kind[i] == VDF_BAR_NONE)
			continue;
		b = json_object_new_object();
		if (!b || json_object_array_add(bars, b)) {
			json_object_put(b);
			rc = -ENOMEM;
			break;
		}
		rc |= put(b, "index", json_object_new_int((int)i));
		rc |= put(b, "kind", json_object_new_string(vdf_bar_kind_name(p->bar_kind[i])));
		rc |= put(b, "size", json_object_new_int64((int64_t)p->bar_size[i]));
	}
	rc |= put(o, "iommu_group", json_object_new_int(p->iommu_group));
	rc |= put(o, "kernel_driver", json_object_new_string(p->driver));
	rc |= put(o, "msix", json_object_new_int((int)p->msix_count));
	rc |= put(o, "msi", json_object_new_int((int)p->msi_count));
	rc |= put(o, "intx", json_object_new_boolean(p->has_intx));
	if (rc) {
		json_object_put(o);
		return NULL;
	}
	return o;
}
