// SPDX-License-Identifier: MIT
/*
 * Discovery (manager/discovery.c), the device tree (manager/devtree.c) and
 * binding to vfio-pci (manager/vfio_bind.c), against the fake sysfs tree in
 * tests/unit/fixtures/sysfs:
 *
 *   0000:00:04.0  NVMe 1b36:0010, 64-bit BAR0 16 KiB, MSI-X 65, group 3, nvme
 *   0000:00:05.0  e1000 8086:100e, BAR0 MMIO + BAR1 I/O, no caps, group 4, unbound
 *   0000:00:06.0  xHCI 1b36:000d, MSI 8 + MSI-X 16, group 5, xhci_hcd
 *   0000:00:07.0  garbled optional files (subsystem, class, resource, 16-byte
 *                 config, iommu_group link to "notanumber"): kept with defaults
 *   0000:00:08.0  garbled vendor ID: left out
 *   0000:00:09.0  no vendor file: left out
 *   0000:00:0b.0  capability list that loops (MSI-X 4), pin 0, group 6
 *   not-a-device  not a PCI address: ignored
 *
 * vfio_bind runs on a copy in a temp dir. Its writes land in plain files, and
 * a hook (vdf_vfio_bind_opts.after_write) plays the kernel: driver/unbind
 * removes the driver link, drivers_probe binds per driver_override, and
 * vfio-pci binding creates <tmp>/dev/vfio/<group>.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../manager/devtree.h"
#include "../../manager/discovery.h"
#include "../../manager/vfio_bind.h"
#include "vdf/log.h"

static char fixture[PATH_MAX];

static void quiet_log(int level, const char *component, const char *dev, const char *msg, void *ctx)
{
	(void)level;
	(void)component;
	(void)dev;
	(void)msg;
	(void)ctx;
}

static bool is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The fixture: $VDF_FIXTURES, ./tests/unit/fixtures/sysfs, or found upwards
 * from the test binary (build/tests, build/san/tests). */
static int find_fixture(void)
{
	const char *env = getenv("VDF_FIXTURES");
	char exe[PATH_MAX];
	ssize_t n;

	if (env && is_dir(env)) {
		snprintf(fixture, sizeof(fixture), "%s", env);
		return 0;
	}
	if (is_dir("tests/unit/fixtures/sysfs") && realpath("tests/unit/fixtures/sysfs", fixture))
		return 0;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return -1;
	exe[n] = '\0';
	for (char *slash = strrchr(exe, '/'); slash; slash = strrchr(exe, '/')) {
		*slash = '\0';
		if (snprintf(fixture, sizeof(fixture), "%s/tests/unit/fixtures/sysfs", exe) <
			(int)sizeof(fixture) &&
		    is_dir(fixture))
			return 0;
	}
	return -1;
}

static int group_setup(void **state)
{
	(void)state;
	vdf_log_set_sink(quiet_log, NULL);
	if (find_fixture()) {
		fprintf(stderr, "test_discovery: fixture tests/unit/fixtures/sysfs not found\n");
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	vdf_log_set_sink(NULL, NULL);
	return 0;
}

static const struct vdf_pci_info *find_info(const struct vdf_pci_info *list, unsigned n,
					    const char *addr)
{
	for (unsigned i = 0; i < n; i++)
		if (!strcmp(list[i].addr, addr))
			return &list[i];
	return NULL;
}

/* --- addresses ------------------------------------------------------------ */

static void test_addr_valid(void **state)
{
	static const char *const good[] = {"0000:00:04.0", "0000:ff:1f.7", "abcd:12:00.3",
					   "10000:00:00.0"};
	static const char *const bad[] = {"",
					  "0000:00:04",
					  "0000:00:04.8",
					  "0000:00:20.0",
					  "0000:00:04.0 ",
					  "0000:00:04.0/",
					  "../../../etc/passwd",
					  "0000:00:04.0/../..",
					  "0000-00:04.0",
					  "0000:00:04:0",
					  "0000:0G:04.0",
					  "0000:00:04.0\n",
					  "00:04.0",
					  "ABCD:00:04.0",
					  "000000:00:04.0",
					  "0000:00:4.0"};
	char out[VDF_PCI_ADDR_LEN];

	(void)state;
	for (size_t i = 0; i < VDF_ARRAY_SIZE(good); i++)
		assert_true(vdf_pci_addr_valid(good[i]));
	for (size_t i = 0; i < VDF_ARRAY_SIZE(bad); i++)
		assert_false(vdf_pci_addr_valid(bad[i]));
	assert_false(vdf_pci_addr_valid(NULL));

	assert_int_equal(vdf_pci_addr_normalize("00:04.0", out), 0);
	assert_string_equal(out, "0000:00:04.0");
	assert_int_equal(vdf_pci_addr_normalize("0000:0A:1F.7", out), 0);
	assert_string_equal(out, "0000:0a:1f.7");
	assert_int_equal(vdf_pci_addr_normalize("0000:00:04.0", out), 0);
	assert_string_equal(out, "0000:00:04.0");
	assert_int_equal(vdf_pci_addr_normalize("00:04.9", out), -EINVAL);
	assert_int_equal(vdf_pci_addr_normalize("../04.0", out), -EINVAL);
	assert_int_equal(vdf_pci_addr_normalize("", out), -EINVAL);
	assert_int_equal(vdf_pci_addr_normalize(NULL, out), -EINVAL);
	assert_int_equal(vdf_pci_addr_normalize("0000:00:04.0.0000", out), -EINVAL);
}

/* --- discovery ------------------------------------------------------------ */

static void test_discover_fixture(void **state)
{
	struct vdf_pci_info *list;
	const struct vdf_pci_info *p;
	unsigned n;

	(void)state;
	assert_int_equal(vdf_discover_pci(fixture, &list, &n), 0);
	/* 08 (garbled vendor), 09 (no vendor) and not-a-device are left out */
	assert_int_equal(n, 5);
	assert_string_equal(list[0].addr, "0000:00:04.0");
	assert_string_equal(list[1].addr, "0000:00:05.0");
	assert_string_equal(list[2].addr, "0000:00:06.0");
	assert_string_equal(list[3].addr, "0000:00:07.0");
	assert_string_equal(list[4].addr, "0000:00:0b.0");
	assert_null(find_info(list, n, "0000:00:08.0"));
	assert_null(find_info(list, n, "0000:00:09.0"));

	p = &list[0]; /* NVMe */
	assert_int_equal(p->vendor, 0x1b36);
	assert_int_equal(p->device, 0x0010);
	assert_int_equal(p->subsys_vendor, 0x1af4);
	assert_int_equal(p->subsys_device, 0x1100);
	assert_int_equal(p->class_code, 0x01);
	assert_int_equal(p->subclass, 0x08);
	assert_int_equal(p->prog_if, 0x02);
	assert_int_equal(vdf_pci_class24(p), 0x010802);
	assert_int_equal(p->revision, 2);
	assert_int_equal(p->bar_kind[0], VDF_BAR_MEM);
	assert_int_equal(p->bar_size[0], 16384);
	for (int i = 1; i < 6; i++) {
		assert_int_equal(p->bar_kind[i], VDF_BAR_NONE);
		assert_int_equal(p->bar_size[i], 0);
	}
	assert_int_equal(p->iommu_group, 3);
	assert_string_equal(p->driver, "nvme");
	assert_int_equal(p->msix_count, 65);
	assert_int_equal(p->msi_count, 0);
	assert_true(p->has_intx);

	p = &list[1]; /* e1000 */
	assert_int_equal(p->vendor, 0x8086);
	assert_int_equal(p->device, 0x100e);
	assert_int_equal(vdf_pci_class24(p), 0x020000);
	assert_int_equal(p->bar_kind[0], VDF_BAR_MEM);
	assert_int_equal(p->bar_size[0], 128 * 1024);
	assert_int_equal(p->bar_kind[1], VDF_BAR_IO);
	assert_int_equal(p->bar_size[1], 64);
	assert_int_equal(p->iommu_group, 4);
	assert_string_equal(p->driver, "");
	assert_int_equal(p->msix_count, 0);
	assert_int_equal(p->msi_count, 0);
	assert_true(p->has_intx);

	p = &list[2]; /* xHCI */
	assert_int_equal(vdf_pci_class24(p), 0x0c0330);
	assert_string_equal(p->driver, "xhci_hcd");
	assert_int_equal(p->iommu_group, 5);
	assert_int_equal(p->msi_count, 8);
	assert_int_equal(p->msix_count, 16);

	p = &list[3]; /* garbled optional files */
	assert_int_equal(p->vendor, 0x1234);
	assert_int_equal(p->device, 0x1111);
	assert_int_equal(p->subsys_vendor, 0); /* 0x12345 is out of range */
	assert_int_equal(p->subsys_device, 0); /* "banana" */
	assert_int_equal(vdf_pci_class24(p), 0);
	assert_int_equal(p->revision, 0); /* missing */
	for (int i = 0; i < 6; i++)
		assert_int_equal(p->bar_kind[i], VDF_BAR_NONE);
	assert_int_equal(p->iommu_group, -1);
	assert_string_equal(p->driver, "");
	assert_false(p->has_intx); /* config too short to hold the pin */
	assert_int_equal(p->msix_count, 0);

	p = &list[4]; /* looping capability list */
	assert_int_equal(p->msix_count, 4);
	assert_int_equal(p->msi_count, 0);
	assert_false(p->has_intx);
	assert_int_equal(p->bar_kind[0], VDF_BAR_IO);
	assert_int_equal(p->bar_size[0], 32);
	assert_int_equal(p->bar_kind[1], VDF_BAR_MEM);
	assert_int_equal(p->bar_size[1], 4096);
	assert_int_equal(p->iommu_group, 6);

	vdf_discover_free(list);
	vdf_discover_free(NULL);
}

static void test_discover_one(void **state)
{
	struct vdf_pci_info info;

	(void)state;
	assert_int_equal(vdf_discover_one(fixture, "0000:00:06.0", &info), 0);
	assert_string_equal(info.addr, "0000:00:06.0");
	assert_int_equal(info.device, 0x000d);
	assert_int_equal(vdf_discover_one(fixture, "0000:00:08.0", &info), -EBADMSG);
	assert_int_equal(info.vendor, 0);
	assert_int_equal(info.iommu_group, -1);
	assert_int_equal(vdf_discover_one(fixture, "0000:00:09.0", &info), -EBADMSG);
	assert_int_equal(vdf_discover_one(fixture, "0000:00:1f.0", &info), -ENOENT);
	assert_int_equal(vdf_discover_one(fixture, "../../../../etc", &info), -EINVAL);
	assert_int_equal(vdf_discover_one(fixture, "0000:00:04.0/..", &info), -EINVAL);
	assert_int_equal(vdf_discover_one(fixture, "not-a-device", &info), -EINVAL);
	assert_int_equal(vdf_discover_one("/nonexistent-vdf-root", "0000:00:04.0", &info), -ENOENT);
}

static void test_discover_missing_root(void **state)
{
	struct vdf_pci_info *list = (void *)1;
	unsigned n = 99;

	(void)state;
	assert_int_equal(vdf_discover_pci("/nonexistent-vdf-root", &list, &n), -ENOENT);
	assert_null(list);
	assert_int_equal(n, 0);
}

static void test_discover_empty_bus(void **state)
{
	char tmpl[] = "/tmp/vdf-disc-XXXXXX", path[PATH_MAX];
	struct vdf_pci_info *list;
	unsigned n;

	(void)state;
	assert_non_null(mkdtemp(tmpl));
	snprintf(path, sizeof(path), "%s/bus", tmpl);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/bus/pci", tmpl);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/bus/pci/devices", tmpl);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(vdf_discover_pci(tmpl, &list, &n), 0);
	assert_int_equal(n, 0);
	assert_null(list);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/bus/pci", tmpl);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/bus", tmpl);
	rmdir(path);
	rmdir(tmpl);
}

static void test_class_names(void **state)
{
	(void)state;
	assert_string_equal(vdf_pci_class_name(0x010802), "NVMe controller");
	assert_string_equal(vdf_pci_class_name(0x0c0330), "USB xHCI");
	assert_string_equal(vdf_pci_class_name(0x020000), "Ethernet controller");
	assert_string_equal(vdf_pci_class_name(0x030000), "VGA display");
	assert_string_equal(vdf_pci_class_name(0x0b4000), "processor");
	assert_string_equal(vdf_pci_class_name(0xff0000), "unknown class");
	assert_string_equal(vdf_bar_kind_name(VDF_BAR_IO), "io");
	assert_string_equal(vdf_bar_kind_name(VDF_BAR_MEM), "mem");
	assert_string_equal(vdf_bar_kind_name(VDF_BAR_NONE), "none");
}

static void test_pci_info_json(void **state)
{
	struct vdf_pci_info info;
	json_object *o, *v, *bars, *b;

	(void)state;
	assert_int_equal(vdf_discover_one(fixture, "0000:00:05.0", &info), 0);
	o = vdf_pci_info_to_json(&info);
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "addr", &v));
	assert_string_equal(json_object_get_string(v), "0000:00:05.0");
	assert_true(json_object_object_get_ex(o, "vendor", &v));
	assert_string_equal(json_object_get_string(v), "8086");
	assert_true(json_object_object_get_ex(o, "device", &v));
	assert_string_equal(json_object_get_string(v), "100e");
	assert_true(json_object_object_get_ex(o, "class", &v));
	assert_string_equal(json_object_get_string(v), "020000");
	assert_true(json_object_object_get_ex(o, "class_name", &v));
	assert_string_equal(json_object_get_string(v), "Ethernet controller");
	assert_true(json_object_object_get_ex(o, "iommu_group", &v));
	assert_int_equal(json_object_get_int(v), 4);
	assert_true(json_object_object_get_ex(o, "kernel_driver", &v));
	assert_string_equal(json_object_get_string(v), "");
	assert_true(json_object_object_get_ex(o, "intx", &v));
	assert_true(json_object_get_boolean(v));
	assert_true(json_object_object_get_ex(o, "bars", &bars));
	assert_int_equal(json_object_array_length(bars), 2);
	b = json_object_array_get_idx(bars, 1);
	assert_true(json_object_object_get_ex(b, "index", &v));
	assert_int_equal(json_object_get_int(v), 1);
	assert_true(json_object_object_get_ex(b, "kind", &v));
	assert_string_equal(json_object_get_string(v), "io");
	assert_true(json_object_object_get_ex(b, "size", &v));
	assert_int_equal(json_object_get_int64(v), 64);
	json_object_put(o);
}

/* --- device tree ---------------------------------------------------------- */

struct release_log {
	int calls;
	void *last;
};

static struct release_log released;

static void on_release(struct vdf_devnode *node, void *data)
{
	(void)node;
	released.calls++;
	released.last = data;
}

static struct vdf_devtree *tree_from_fixture(void)
{
	struct vdf_pci_info *list;
	struct vdf_devtree *t;
	unsigned n;

	assert_int_equal(vdf_devtree_create(on_release, &t), 0);
	assert_int_equal(vdf_discover_pci(fixture, &list, &n), 0);
	assert_int_equal(vdf_devtree_add_pci_list(t, list, n), 0);
	vdf_discover_free(list);
	return t;
}

static void test_devtree_basic(void **state)
{
	struct vdf_devtree *t = tree_from_fixture();
	struct vdf_devnode *root = vdf_devtree_root(t), *pci = vdf_devtree_pci_bus(t), *n;
	char path[VDF_DEVTREE_PATH_MAX];

	(void)state;
	assert_int_equal(vdf_devtree_count(t), 2 + 5);
	assert_string_equal(vdf_devnode_name(root), "/");
	assert_null(vdf_devnode_parent(root));
	assert_ptr_equal(vdf_devnode_parent(pci), root);
	assert_int_equal(vdf_devnode_child_count(pci), 5);
	assert_ptr_equal(vdf_devtree_find(t, "/"), root);
	assert_ptr_equal(vdf_devtree_find(t, "/pci"), pci);

	n = vdf_devtree_find(t, "/pci/0000:00:04.0");
	assert_non_null(n);
	assert_ptr_equal(vdf_devtree_find(t, "0000:00:04.0"), n);
	assert_ptr_equal(vdf_devtree_find(t, "00:04.0"), n);
	assert_ptr_equal(vdf_devtree_find_pci(t, "0000:00:04.0"), n);
	assert_non_null(vdf_devnode_pci(n));
	assert_int_equal(vdf_devnode_pci(n)->msix_count, 65);
	assert_null(vdf_devnode_pci(pci));
	assert_int_equal(vdf_devnode_path(n, path, sizeof(path)), 0);
	assert_string_equal(path, "/pci/0000:00:04.0");
	assert_int_equal(vdf_devnode_path(root, path, sizeof(path)), 0);
	assert_string_equal(path, "/");
	assert_int_equal(vdf_devnode_path(n, path, 8), -ENAMETOOLONG);

	/* not there, or malformed */
	assert_null(vdf_devtree_find(t, "/pci/0000:00:08.0"));
	assert_null(vdf_devtree_find(t, "0000:00:1f.0"));
	assert_null(vdf_devtree_find(t, "/pci//0000:00:04.0"));
	assert_null(vdf_devtree_find(t, "/pci/"));
	assert_null(vdf_devtree_find(t, "/pci/0000:00:04.0/"));
	assert_null(vdf_devtree_find(t, "/pci/.."));
	assert_null(vdf_devtree_find(t, "pci"));
	assert_null(vdf_devtree_find(t, ""));
	assert_null(vdf_devtree_find(t, NULL));

	/* children sorted by name: 04, 05, 06, 07, 0b */
	n = vdf_devnode_first_child(pci);
	assert_string_equal(vdf_devnode_name(n), "0000:00:04.0");
	n = vdf_devnode_next_sibling(n);
	assert_string_equal(vdf_devnode_name(n), "0000:00:05.0");
	for (int i = 0; i < 3; i++)
		n = vdf_devnode_next_sibling(n);
	assert_string_equal(vdf_devnode_name(n), "0000:00:0b.0");
	assert_null(vdf_devnode_next_sibling(n));

	vdf_devtree_destroy(t);
	vdf_devtree_destroy(NULL);
}

static void test_devtree_children(void **state)
{
	struct vdf_devtree *t = tree_from_fixture();
	struct vdf_devnode *xhci = vdf_devtree_find(t, "0000:00:06.0"), *a, *b, *c, *again;
	int token1, token2;

	(void)state;
	released.calls = 0;
	/* a bus driver publishes USB devices behind the xHCI controller */
	assert_int_equal(vdf_devnode_add_child(xhci, "usb1-2", &b), 0);
	assert_int_equal(vdf_devnode_add_child(xhci, "usb1-1", &a), 0);
	assert_int_equal(vdf_devnode_add_child(a, "usb1-1:1.0", &c), 0);
	assert_int_equal(vdf_devtree_count(t), 7 + 3);
	assert_ptr_equal(vdf_devnode_first_child(xhci), a); /* sorted */
	assert_ptr_equal(vdf_devtree_find(t, "/pci/0000:00:06.0/usb1-1/usb1-1:1.0"), c);
	assert_ptr_equal(vdf_devnode_parent(c), a);
	assert_int_equal(vdf_devnode_add_child(xhci, "usb1-1", &again), -EEXIST);
	assert_ptr_equal(again, a);

	/* names are checked: they come from drivers */
	assert_int_equal(vdf_devnode_add_child(xhci, "", NULL), -EINVAL);
	assert_int_equal(vdf_devnode_add_child(xhci, "a/b", NULL), -EINVAL);
	assert_int_equal(vdf_devnode_add_child(xhci, "..", NULL), -EINVAL);
	assert_int_equal(vdf_devnode_add_child(xhci, ".", NULL), -EINVAL);
	assert_int_equal(vdf_devnode_add_child(xhci, "tab\there", NULL), -EINVAL);
	assert_int_equal(vdf_devnode_add_child(xhci, "quote\"", NULL), -EINVAL);
	assert_int_equal(vdf_devnode_add_child(xhci, NULL, NULL), -EINVAL);
	{
		char longname[VDF_DEVNODE_NAME_MAX + 2];

		memset(longname, 'x', sizeof(longname) - 1);
		longname[sizeof(longname) - 1] = '\0';
		assert_int_equal(vdf_devnode_add_child(xhci, longname, NULL), -EINVAL);
		longname[VDF_DEVNODE_NAME_MAX] = '\0';
		assert_int_equal(vdf_devnode_add_child(xhci, longname, NULL), 0);
	}

	/* removal takes the subtree and releases user data */
	vdf_devnode_set_data(a, &token1);
	vdf_devnode_set_data(c, &token2);
	assert_ptr_equal(vdf_devnode_data(a), &token1);
	assert_int_equal(vdf_devnode_remove(a), 0);
	assert_int_equal(released.calls, 2);
	assert_null(vdf_devtree_find(t, "/pci/0000:00:06.0/usb1-1"));
	assert_null(vdf_devtree_find(t, "/pci/0000:00:06.0/usb1-1/usb1-1:1.0"));
	assert_ptr_equal(vdf_devnode_first_child(xhci), b);

	assert_int_equal(vdf_devnode_remove(vdf_devtree_root(t)), -EPERM);
	assert_int_equal(vdf_devnode_remove(vdf_devtree_pci_bus(t)), -EPERM);

	/* a function going away (hot-unplug) */
	vdf_devnode_set_data(b, &token1);
	assert_int_equal(vdf_devnode_remove(xhci), 0);
	assert_null(vdf_devtree_find(t, "0000:00:06.0"));
	assert_int_equal(released.calls, 3);
	assert_int_equal(vdf_devtree_count(t), 6);

	/* destroy releases what is left */
	vdf_devnode_set_data(vdf_devtree_find(t, "0000:00:04.0"), &token2);
	vdf_devtree_destroy(t);
	assert_int_equal(released.calls, 4);
	assert_ptr_equal(released.last, &token2);
}

static void test_devtree_limits(void **state)
{
	struct vdf_devtree *t;
	struct vdf_devnode *n, *deep;
	char name[16];
	unsigned i;

	(void)state;
	assert_int_equal(vdf_devtree_create(NULL, &t), 0);
	/* depth */
	deep = vdf_devtree_pci_bus(t); /* depth 1 */
	for (i = 2; i <= VDF_DEVTREE_MAX_DEPTH; i++)
		assert_int_equal(vdf_devnode_add_child(deep, "d", &deep), 0);
	assert_int_equal(vdf_devnode_add_child(deep, "d", NULL), -ENOSPC);
	/* node count */
	n = vdf_devtree_root(t);
	for (i = vdf_devtree_count(t); i < VDF_DEVTREE_MAX_NODES; i++) {
		snprintf(name, sizeof(name), "n%u", i);
		assert_int_equal(vdf_devnode_add_child(n, name, NULL), 0);
	}
	assert_int_equal(vdf_devnode_add_child(n, "one-too-many", NULL), -ENOSPC);
	assert_int_equal(vdf_devtree_count(t), VDF_DEVTREE_MAX_NODES);
	vdf_devtree_destroy(t);
}

static void test_devtree_props(void **state)
{
	struct vdf_devtree *t = tree_from_fixture();
	struct vdf_devnode *n = vdf_devtree_find(t, "0000:00:04.0");
	const char *k, *v;
	char key[16], big[VDF_DEVNODE_VALUE_MAX + 2];

	(void)state;
	assert_string_equal(vdf_devnode_state(n), "");
	assert_int_equal(vdf_devnode_set_state(n, "running"), 0);
	assert_string_equal(vdf_devnode_state(n), "running");
	assert_int_equal(vdf_devnode_set_state(n, "bad\nstate"), -EINVAL);
	assert_string_equal(vdf_devnode_state(n), "running");

	assert_int_equal(vdf_devnode_set_prop(n, "driver", "nvme"), 0);
	assert_int_equal(vdf_devnode_set_prop(n, "restarts", "0"), 0);
	assert_int_equal(vdf_devnode_set_prop(n, "block", "vdf0: 64 MiB"), 0);
	assert_int_equal(vdf_devnode_set_prop(n, "restarts", "1"), 0); /* replace */
	assert_string_equal(vdf_devnode_prop(n, "restarts"), "1");
	assert_int_equal(vdf_devnode_prop_count(n), 3);
	/* sorted by key */
	assert_int_equal(vdf_devnode_prop_at(n, 0, &k, &v), 0);
	assert_string_equal(k, "block");
	assert_int_equal(vdf_devnode_prop_at(n, 2, &k, &v), 0);
	assert_string_equal(k, "restarts");
	assert_int_equal(vdf_devnode_prop_at(n, 3, &k, &v), -ENOENT);
	assert_null(vdf_devnode_prop(n, "missing"));
	assert_null(vdf_devnode_prop(n, NULL));
	assert_int_equal(vdf_devnode_del_prop(n, "block"), 0);
	assert_int_equal(vdf_devnode_del_prop(n, "block"), -ENOENT);
	assert_int_equal(vdf_devnode_prop_count(n), 2);

	/* checked keys and values */
	assert_int_equal(vdf_devnode_set_prop(n, "", "x"), -EINVAL);
	assert_int_equal(vdf_devnode_set_prop(n, "a b", "x"), -EINVAL);
	assert_int_equal(vdf_devnode_set_prop(n, "k", "\x1b[31mred"), -EINVAL);
	assert_int_equal(vdf_devnode_set_prop(n, "k", "caf\xc3\xa9"), -EINVAL);
	assert_int_equal(vdf_devnode_set_prop(n, "k", NULL), -EINVAL);
	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(vdf_devnode_set_prop(n, "k", big), -EINVAL);
	big[VDF_DEVNODE_VALUE_MAX] = '\0';
	assert_int_equal(vdf_devnode_set_prop(n, "k", big), 0);
	assert_int_equal(vdf_devnode_set_prop(n, "empty", ""), 0);

	/* bounded count */
	for (unsigned i = vdf_devnode_prop_count(n); i < VDF_DEVNODE_MAX_PROPS; i++) {
		snprintf(key, sizeof(key), "p%02u", i);
		assert_int_equal(vdf_devnode_set_prop(n, key, "v"), 0);
	}
	assert_int_equal(vdf_devnode_set_prop(n, "zz-extra", "v"), -ENOSPC);
	assert_int_equal(vdf_devnode_set_prop(n, "driver", "nvme2"), 0); /* replace still works */
	vdf_devtree_destroy(t);
}

struct walk_rec {
	char names[16][VDF_DEVNODE_NAME_MAX + 1];
	unsigned depth[16];
	unsigned n;
	unsigned stop_at;
};

static int record(struct vdf_devnode *node, unsigned depth, void *arg)
{
	struct walk_rec *r = arg;

	if (r->n < 16) {
		snprintf(r->names[r->n], sizeof(r->names[0]), "%s", vdf_devnode_name(node));
		r->depth[r->n] = depth;
	}
	r->n++;
	return r->stop_at && r->n == r->stop_at ? 42 : 0;
}

static void test_devtree_walk(void **state)
{
	struct vdf_devtree *t = tree_from_fixture();
	struct vdf_devnode *xhci = vdf_devtree_find(t, "0000:00:06.0");
	struct walk_rec r = {0};

	(void)state;
	assert_int_equal(vdf_devnode_add_child(xhci, "usb1-1", NULL), 0);
	assert_int_equal(vdf_devtree_walk(vdf_devtree_root(t), record, &r), 0);
	assert_int_equal(r.n, 8);
	assert_string_equal(r.names[0], "/");
	assert_int_equal(r.depth[0], 0);
	assert_string_equal(r.names[1], "pci");
	assert_int_equal(r.depth[1], 1);
	assert_string_equal(r.names[2], "0000:00:04.0");
	assert_string_equal(r.names[4], "0000:00:06.0");
	assert_string_equal(r.names[5], "usb1-1"); /* pre-order: child right after parent */
	assert_int_equal(r.depth[5], 3);
	assert_string_equal(r.names[7], "0000:00:0b.0");

	memset(&r, 0, sizeof(r));
	r.stop_at = 3;
	assert_int_equal(vdf_devtree_walk(vdf_devtree_root(t), record, &r), 42);
	assert_int_equal(r.n, 3);

	memset(&r, 0, sizeof(r));
	assert_int_equal(vdf_devtree_walk(xhci, record, &r), 0);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.depth[1], 1);
	vdf_devtree_destroy(t);
}

static void test_devtree_refresh_pci(void **state)
{
	struct vdf_devtree *t = tree_from_fixture();
	struct vdf_devnode *n = vdf_devtree_find(t, "0000:00:04.0"), *again;
	struct vdf_pci_info info = *vdf_devnode_pci(n), bad;

	(void)state;
	assert_int_equal(vdf_devnode_add_child(n, "ns1", NULL), 0);
	assert_int_equal(vdf_devnode_set_prop(n, "driver", "nvme"), 0);
	snprintf(info.driver, sizeof(info.driver), "vfio-pci");
	assert_int_equal(vdf_devtree_add_pci(t, &info, &again), 0);
	assert_ptr_equal(again, n);
	assert_string_equal(vdf_devnode_pci(n)->driver, "vfio-pci");
	assert_string_equal(vdf_devnode_prop(n, "driver"), "nvme");
	assert_int_equal(vdf_devnode_child_count(n), 1);
	assert_int_equal(vdf_devtree_count(t), 8);

	memset(&bad, 0, sizeof(bad));
	snprintf(bad.addr, sizeof(bad.addr), "../etc");
	assert_int_equal(vdf_devtree_add_pci(t, &bad, &again), -EINVAL);
	assert_null(again);
	vdf_devtree_destroy(t);
}

static json_object *jget(json_object *o, const char *key)
{
	json_object *v = NULL;

	assert_true(json_object_object_get_ex(o, key, &v));
	return v;
}

static void test_devtree_json(void **state)
{
	struct vdf_devtree *t = tree_from_fixture();
	struct vdf_devnode *xhci = vdf_devtree_find(t, "0000:00:06.0"), *usb;
	json_object *j, *re, *pci, *kids, *x, *u;
	const char *text;

	(void)state;
	assert_int_equal(vdf_devnode_add_child(xhci, "usb1-1", &usb), 0);
	assert_int_equal(vdf_devnode_set_prop(usb, "usb_class", "08/06/50"), 0);
	assert_int_equal(vdf_devnode_set_state(xhci, "running"), 0);
	assert_int_equal(vdf_devnode_set_prop(xhci, "driver", "xhci"), 0);

	j = vdf_devtree_to_json(t);
	assert_non_null(j);
	/* through text and back, as vdfctl sees it */
	text = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN);
	re = json_tokener_parse(text);
	assert_non_null(re);
	assert_string_equal(json_object_get_string(jget(re, "name")), "/");
	assert_string_equal(json_object_get_string(jget(re, "path")), "/");
	assert_null(json_object_object_get(re, "pci"));
	kids = jget(re, "children");
	assert_int_equal(json_object_array_length(kids), 1);
	pci = json_object_array_get_idx(kids, 0);
	assert_string_equal(json_object_get_string(jget(pci, "path")), "/pci");
	kids = jget(pci, "children");
	assert_int_equal(json_object_array_length(kids), 5);
	x = json_object_array_get_idx(kids, 2);
	assert_string_equal(json_object_get_string(jget(x, "name")), "0000:00:06.0");
	assert_string_equal(json_object_get_string(jget(x, "path")), "/pci/0000:00:06.0");
	assert_string_equal(json_object_get_string(jget(x, "state")), "running");
	assert_string_equal(json_object_get_string(jget(jget(x, "properties"), "driver")), "xhci");
	assert_string_equal(json_object_get_string(jget(jget(x, "pci"), "kernel_driver")),
			    "xhci_hcd");
	assert_int_equal(json_object_get_int(jget(jget(x, "pci"), "msix")), 16);
	u = json_object_array_get_idx(jget(x, "children"), 0);
	assert_string_equal(json_object_get_string(jget(u, "path")), "/pci/0000:00:06.0/usb1-1");
	assert_string_equal(json_object_get_string(jget(jget(u, "properties"), "usb_class")),
			    "08/06/50");
	assert_null(json_object_object_get(u, "pci"));
	assert_int_equal(json_object_array_length(jget(u, "children")), 0);
	json_object_put(re);
	json_object_put(j);

	/* one node, not recursive */
	j = vdf_devnode_to_json(xhci, false);
	assert_non_null(j);
	assert_null(json_object_object_get(j, "children"));
	assert_non_null(json_object_object_get(j, "pci"));
	json_object_put(j);
	vdf_devtree_destroy(t);
}

/* --- vfio_bind ------------------------------------------------------------ */

#define MAX_WRITES 16

/* The fake kernel behind a temp copy of the fixture. */
struct fake_kernel {
	char root[PATH_MAX]; /* <tmp>/sys */
	char dev[PATH_MAX];  /* <tmp>/dev */
	char tmp[PATH_MAX];
	const char *native;	    /* driver drivers_probe binds without an override */
	bool probe_does_nothing;    /* to exercise the explicit-bind fallback */
	bool vfio_makes_no_devnode; /* to exercise the devnode wait */
	char writes[MAX_WRITES][2][128];
	unsigned nwrites;
};

static void fk_path(const struct fake_kernel *k, char *buf, size_t len, const char *fmt, ...)
    VDF_PRINTF(4, 5);

static void fk_path(const struct fake_kernel *k, char *buf, size_t len, const char *fmt, ...)
{
	char rel[PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	assert_true(snprintf(buf, len, "%s/%s", k->root, rel) < (int)len);
}

static void fk_read(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, len - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
}

static void fk_bind(struct fake_kernel *k, const char *addr, const char *drv)
{
	char link[PATH_MAX], target[PATH_MAX], grp[PATH_MAX], node[PATH_MAX + 32];
	ssize_t n;

	fk_path(k, link, sizeof(link), "bus/pci/devices/%s/driver", addr);
	snprintf(target, sizeof(target), "../../drivers/%s", drv);
	assert_int_equal(symlink(target, link), 0);
	if (strcmp(drv, "vfio-pci") || k->vfio_makes_no_devnode)
		return;
	fk_path(k, link, sizeof(link), "bus/pci/devices/%s/iommu_group", addr);
	n = readlink(link, grp, sizeof(grp) - 1);
	assert_true(n > 0);
	grp[n] = '\0';
	snprintf(node, sizeof(node), "%s/vfio/%s", k->dev, strrchr(grp, '/') + 1);
	fclose(fopen(node, "w"));
}

static void fake_kernel_write(const char *rel, const char *value, void *arg)
{
	struct fake_kernel *k = arg;
	char path[PATH_MAX], addr[VDF_PCI_ADDR_LEN], ovr[64];
	int end = 0;

	assert_true(k->nwrites < MAX_WRITES);
	snprintf(k->writes[k->nwrites][0], sizeof(k->writes[0][0]), "%s", rel);
	snprintf(k->writes[k->nwrites][1], sizeof(k->writes[0][1]), "%s", value);
	k->nwrites++;

	/* %n is only reached when the whole pattern matched */
	if (sscanf(rel, "bus/pci/devices/%15[^/]/driver/unbind%n", addr, &end) == 1 && end &&
	    !rel[end]) {
		fk_path(k, path, sizeof(path), "bus/pci/devices/%s/driver", addr);
		assert_int_equal(unlink(path), 0);
	} else if (!strcmp(rel, "bus/pci/drivers_probe")) {
		if (k->probe_does_nothing)
			return;
		fk_path(k, path, sizeof(path), "bus/pci/devices/%s/driver", value);
		if (access(path, F_OK) == 0) /* already bound: the kernel does nothing */
			return;
		fk_path(k, path, sizeof(path), "bus/pci/devices/%s/driver_override", value);
		fk_read(path, ovr, sizeof(ovr));
		if (!strcmp(ovr, "vfio-pci"))
			fk_bind(k, value, "vfio-pci");
		else if (k->native)
			fk_bind(k, value, k->native);
	} else if (sscanf(rel, "bus/pci/drivers/%63[^/]/bind%n", ovr, &end) == 1 && end &&
		   !rel[end]) {
		fk_bind(k, value, ovr);
	}
}

static int fk_setup(void **state)
{
	struct fake_kernel *k = calloc(1, sizeof(*k));
	char cmd[3 * PATH_MAX];

	assert_non_null(k);
	snprintf(k->tmp, sizeof(k->tmp), "/tmp/vdf-bind-XXXXXX");
	assert_non_null(mkdtemp(k->tmp));
	assert_true(snprintf(k->root, sizeof(k->root), "%s/sys", k->tmp) < (int)sizeof(k->root));
	assert_true(snprintf(k->dev, sizeof(k->dev), "%s/dev", k->tmp) < (int)sizeof(k->dev));
	assert_true(snprintf(cmd, sizeof(cmd), "cp -a '%s' '%s' && mkdir -p '%s/vfio'", fixture,
			     k->root, k->dev) < (int)sizeof(cmd));
	assert_int_equal(system(cmd), 0);
	k->native = "nvme";
	*state = k;
	return 0;
}

static int fk_teardown(void **state)
{
	struct fake_kernel *k = *state;
	char cmd[PATH_MAX + 32];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", k->tmp);
	assert_int_equal(system(cmd), 0);
	free(k);
	return 0;
}

static struct vdf_vfio_bind_opts fk_opts(struct fake_kernel *k, unsigned timeout_ms)
{
	struct vdf_vfio_bind_opts o = {.sysfs_root = k->root,
				       .dev_root = k->dev,
				       .timeout_ms = timeout_ms,
				       .after_write = fake_kernel_write,
				       .arg = k};
	return o;
}

static void assert_write(const struct fake_kernel *k, unsigned i, const char *rel,
			 const char *value)
{
	assert_true(i < k->nwrites);
	assert_string_equal(k->writes[i][0], rel);
	assert_string_equal(k->writes[i][1], value);
}

static void assert_file(const struct fake_kernel *k, const char *rel, const char *want)
{
	char path[PATH_MAX], got[128];

	fk_path(k, path, sizeof(path), "%s", rel);
	fk_read(path, got, sizeof(got));
	assert_string_equal(got, want);
}

static void assert_driver(const struct fake_kernel *k, const char *addr, const char *want)
{
	struct vdf_pci_info info;

	assert_int_equal(vdf_discover_one(k->root, addr, &info), 0);
	assert_string_equal(info.driver, want);
}

static void test_bind_and_back(void **state)
{
	struct fake_kernel *k = *state;
	struct vdf_vfio_bind_opts o = fk_opts(k, 2000);
	char prev[32], node[PATH_MAX + 16];

	assert_int_equal(vdf_vfio_bind_ex(&o, "0000:00:04.0", prev, sizeof(prev)), 0);
	assert_string_equal(prev, "nvme");
	assert_int_equal(k->nwrites, 3);
	assert_write(k, 0, "bus/pci/devices/0000:00:04.0/driver_override", "vfio-pci");
	assert_write(k, 1, "bus/pci/devices/0000:00:04.0/driver/unbind", "0000:00:04.0");
	assert_write(k, 2, "bus/pci/drivers_probe", "0000:00:04.0");
	/* what reached the (plain) files */
	assert_file(k, "bus/pci/devices/0000:00:04.0/driver_override", "vfio-pci");
	assert_file(k, "bus/pci/drivers/nvme/unbind", "0000:00:04.0");
	assert_file(k, "bus/pci/drivers_probe", "0000:00:04.0");
	assert_driver(k, "0000:00:04.0", "vfio-pci");
	snprintf(node, sizeof(node), "%s/vfio/3", k->dev);
	assert_int_equal(access(node, F_OK), 0);

	k->nwrites = 0;
	assert_int_equal(vdf_vfio_unbind_ex(&o, "0000:00:04.0", prev), 0);
	assert_int_equal(k->nwrites, 3);
	assert_write(k, 0, "bus/pci/devices/0000:00:04.0/driver_override", "\n");
	assert_write(k, 1, "bus/pci/devices/0000:00:04.0/driver/unbind", "0000:00:04.0");
	assert_write(k, 2, "bus/pci/drivers_probe", "0000:00:04.0");
	assert_file(k, "bus/pci/drivers/vfio-pci/unbind", "0000:00:04.0");
	assert_file(k, "bus/pci/devices/0000:00:04.0/driver_override", "\n");
	assert_driver(k, "0000:00:04.0", "nvme");

	/* once more: bind is repeatable */
	k->nwrites = 0;
	assert_int_equal(vdf_vfio_bind_ex(&o, "0000:00:04.0", prev, sizeof(prev)), 0);
	assert_string_equal(prev, "nvme");
	assert_driver(k, "0000:00:04.0", "vfio-pci");
}

static void test_bind_unbound_device(void **state)
{
	struct fake_kernel *k = *state;
	struct vdf_vfio_bind_opts o = fk_opts(k, 2000);
	char prev[32] = "junk";

	k->native = NULL;
	assert_int_equal(vdf_vfio_bind_ex(&o, "0000:00:05.0", prev, sizeof(prev)), 0);
	assert_string_equal(prev, "");
	/* nothing to unbind from */
	assert_int_equal(k->nwrites, 2);
	assert_write(k, 0, "bus/pci/devices/0000:00:05.0/driver_override", "vfio-pci");
	assert_write(k, 1, "bus/pci/drivers_probe", "0000:00:05.0");
	assert_driver(k, "0000:00:05.0", "vfio-pci");

	/* back to no driver: no reprobe, so nothing else can grab it */
	k->nwrites = 0;
	assert_int_equal(vdf_vfio_unbind_ex(&o, "0000:00:05.0", prev), 0);
	assert_int_equal(k->nwrites, 2);
	assert_write(k, 0, "bus/pci/devices/0000:00:05.0/driver_override", "\n");
	assert_write(k, 1, "bus/pci/devices/0000:00:05.0/driver/unbind", "0000:00:05.0");
	assert_driver(k, "0000:00:05.0", "");
	/* NULL prev means the same */
	assert_int_equal(vdf_vfio_unbind_ex(&o, "0000:00:05.0", NULL), 0);
}

static void test_bind_already_vfio(void **state)
{
	struct fake_kernel *k = *state;
	struct vdf_vfio_bind_opts o = fk_opts(k, 2000);
	char prev[32];

	fk_bind(k, "0000:00:05.0", "vfio-pci");
	assert_int_equal(vdf_vfio_bind_ex(&o, "0000:00:05.0", prev, sizeof(prev)), 0);
	assert_string_equal(prev, "vfio-pci");
	assert_int_equal(k->nwrites, 0);
	/* it was on vfio-pci before: unbind leaves it there */
	assert_int_equal(vdf_vfio_unbind_ex(&o, "0000:00:05.0", prev), 0);
	assert_int_equal(k->nwrites, 0);
	assert_driver(k, "0000:00:05.0", "vfio-pci");
}

static void test_bind_timeout_rolls_back(void **state)
{
	struct fake_kernel *k = *state;
	struct vdf_vfio_bind_opts o = fk_opts(k, 50);
	char prev[32];

	/* vfio-pci binds but /dev/vfio/3 never shows up */
	k->vfio_makes_no_devnode = true;
	assert_int_equal(vdf_vfio_bind_ex(&o, "0000:00:04.0", prev, sizeof(prev)), -ETIMEDOUT);
	assert_string_equal(prev, "nvme");
	/* rollback: override cleared, vfio-pci let go, nvme reprobed */
	assert_true(k->nwrites >= 6);
	assert_write(k, 3, "bus/pci/devices/0000:00:04.0/driver_override", "\n");
	assert_write(k, 4, "bus/pci/devices/0000:00:04.0/driver/unbind", "0000:00:04.0");
	assert_write(k, 5, "bus/pci/drivers_probe", "0000:00:04.0");
	assert_driver(k, "0000:00:04.0", "nvme");
}

static void test_bind_no_kernel(void **state)
{
	struct fake_kernel *k = *state;
	struct vdf_vfio_bind_opts o = fk_opts(k, 50);
	char prev[32];

	/* nothing plays the kernel: the driver link never changes */
	o.after_write = NULL;
	assert_int_equal(vdf_vfio_bind_ex(&o, "0000:00:04.0", prev, sizeof(prev)), -ETIMEDOUT);
	/* the rollback's last word is clearing the override and reprobing */
	assert_file(k, "bus/pci/devices/0000:00:04.0/driver_override", "\n");
	assert_file(k, "bus/pci/drivers_probe", "0000:00:04.0");
}

static void test_unbind_fallback_bind(void **state)
{
	struct fake_kernel *k = *state;
	struct vdf_vfio_bind_opts o = fk_opts(k, 50);
	char prev[32];

	assert_int_equal(vdf_vfio_bind_ex(&o, "0000:00:04.0", prev, sizeof(prev)), 0);
	/* the reprobe binds nothing: drivers/nvme/bind is used */
	k->probe_does_nothing = true;
	k->nwrites = 0;
	assert_int_equal(vdf_vfio_unbind_ex(&o, "0000:00:04.0", "nvme"), 0);
	assert_int_equal(k->nwrites, 4);
	assert_write(k, 3, "bus/pci/drivers/nvme/bind", "0000:00:04.0");
	assert_driver(k, "0000:00:04.0", "nvme");
}

static void test_bind_errors(void **state)
{
	struct fake_kernel *k = *state;
	struct vdf_vfio_bind_opts o = fk_opts(k, 50);
	char prev[32], path[PATH_MAX], cmd[PATH_MAX + 32];

	/* strict addresses: nothing written, nothing read outside sysfs */
	assert_int_equal(vdf_vfio_bind_ex(&o, "../../../etc", prev, sizeof(prev)), -EINVAL);
	assert_int_equal(vdf_vfio_bind_ex(&o, "0000:00:04.0/../0000:00:05.0", prev, sizeof(prev)),
			 -EINVAL);
	assert_int_equal(vdf_vfio_bind_ex(&o, "00:04.0", prev, sizeof(prev)), -EINVAL);
	assert_int_equal(vdf_vfio_bind_ex(&o, NULL, prev, sizeof(prev)), -EINVAL);
	assert_int_equal(vdf_vfio_unbind_ex(&o, "../x", "nvme"), -EINVAL);
	assert_int_equal(vdf_vfio_unbind_ex(&o, "0000:00:04.0", "../../x"), -EINVAL);
	assert_int_equal(vdf_vfio_unbind_ex(&o, "0000:00:04.0", "nv me"), -EINVAL);
	assert_int_equal(vdf_vfio_bind_ex(&o, "0000:00:04.0", prev, 0), -EINVAL);
	assert_int_equal(k->nwrites, 0);

	assert_int_equal(vdf_vfio_bind_ex(&o, "0000:00:1f.0", prev, sizeof(prev)), -ENOENT);
	/* no IOMMU group (the link of 07 is garbled) */
	assert_int_equal(vdf_vfio_bind_ex(&o, "0000:00:07.0", prev, sizeof(prev)), -ENODEV);
	fk_path(k, path, sizeof(path), "bus/pci/devices/0000:00:07.0/iommu_group");
	assert_int_equal(unlink(path), 0);
	assert_int_equal(vdf_vfio_bind_ex(&o, "0000:00:07.0", prev, sizeof(prev)), -ENODEV);
	/* prev buffer too small for "xhci_hcd" */
	assert_int_equal(vdf_vfio_bind_ex(&o, "0000:00:06.0", prev, 4), -ENAMETOOLONG);
	assert_int_equal(k->nwrites, 0);

	/* held by another driver than the one to give it back to */
	assert_int_equal(vdf_vfio_unbind_ex(&o, "0000:00:06.0", "nvme"), -EBUSY);
	assert_driver(k, "0000:00:06.0", "xhci_hcd");
	/* already back with its driver: nothing to do */
	k->nwrites = 0;
	assert_int_equal(vdf_vfio_unbind_ex(&o, "0000:00:06.0", "xhci_hcd"), 0);
	assert_int_equal(k->nwrites, 1); /* just the override clear */

	/* vfio-pci not loaded */
	fk_path(k, path, sizeof(path), "bus/pci/drivers/vfio-pci");
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	assert_int_equal(system(cmd), 0);
	k->nwrites = 0;
	assert_int_equal(vdf_vfio_bind_ex(&o, "0000:00:04.0", prev, sizeof(prev)), -ENOPKG);
	assert_int_equal(k->nwrites, 0);
	assert_driver(k, "0000:00:04.0", "nvme");
}

static void test_bind_no_override_file(void **state)
{
	struct fake_kernel *k = *state;
	struct vdf_vfio_bind_opts o = fk_opts(k, 50);
	char prev[32], path[PATH_MAX];

	/* an old kernel without driver_override: fails before touching the driver */
	fk_path(k, path, sizeof(path), "bus/pci/devices/0000:00:04.0/driver_override");
	assert_int_equal(unlink(path), 0);
	assert_int_equal(vdf_vfio_bind_ex(&o, "0000:00:04.0", prev, sizeof(prev)), -ENOENT);
	assert_int_equal(k->nwrites, 0);
	assert_driver(k, "0000:00:04.0", "nvme");
	/* and no file was created in its place */
	assert_int_equal(access(path, F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_addr_valid),
	    cmocka_unit_test(test_discover_fixture),
	    cmocka_unit_test(test_discover_one),
	    cmocka_unit_test(test_discover_missing_root),
	    cmocka_unit_test(test_discover_empty_bus),
	    cmocka_unit_test(test_class_names),
	    cmocka_unit_test(test_pci_info_json),
	    cmocka_unit_test(test_devtree_basic),
	    cmocka_unit_test(test_devtree_children),
	    cmocka_unit_test(test_devtree_limits),
	    cmocka_unit_test(test_devtree_props),
	    cmocka_unit_test(test_devtree_walk),
	    cmocka_unit_test(test_devtree_refresh_pci),
	    cmocka_unit_test(test_devtree_json),
	    cmocka_unit_test_setup_teardown(test_bind_and_back, fk_setup, fk_teardown),
	    cmocka_unit_test_setup_teardown(test_bind_unbound_device, fk_setup, fk_teardown),
	    cmocka_unit_test_setup_teardown(test_bind_already_vfio, fk_setup, fk_teardown),
	    cmocka_unit_test_setup_teardown(test_bind_timeout_rolls_back, fk_setup, fk_teardown),
	    cmocka_unit_test_setup_teardown(test_bind_no_kernel, fk_setup, fk_teardown),
	    cmocka_unit_test_setup_teardown(test_unbind_fallback_bind, fk_setup, fk_teardown),
	    cmocka_unit_test_setup_teardown(test_bind_errors, fk_setup, fk_teardown),
	    cmocka_unit_test_setup_teardown(test_bind_no_override_file, fk_setup, fk_teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
