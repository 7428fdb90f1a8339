/* SPDX-License-Identifier: MIT */
/*
 * The device tree: what the manager knows is there, and in what state.
 *
 *   /                          root
 *   /pci                       the PCI bus
 *   /pci/0000:00:04.0          a PCI function (from discovery)
 *   /pci/0000:00:05.0/usb1-1   a child a bus driver published (e.g. USB
 *                              devices behind an xHCI controller)
 *
 * Every node has a name (unique among its siblings), a parent, ordered
 * children, string key/value properties and a state string ("" until set).
 * PCI function nodes also carry the struct vdf_pci_info discovery read.
 * Children and properties are kept sorted by name so iteration and JSON
 * output are deterministic.
 *
 * Names and properties may come from bus drivers, which are untrusted
 * processes, so they are checked: names are 1..VDF_DEVNODE_NAME_MAX bytes of
 * [A-Za-z0-9._:@+-] and not "." or ".."; keys 1..VDF_DEVNODE_KEY_MAX bytes of
 * [A-Za-z0-9._-]; values and states printable ASCII up to
 * VDF_DEVNODE_VALUE_MAX bytes; at most VDF_DEVNODE_MAX_PROPS properties per
 * node, VDF_DEVTREE_MAX_NODES nodes per tree, VDF_DEVTREE_MAX_DEPTH levels.
 *
 * Calling context: not thread-safe; the manager uses it from its event loop.
 * A callback of vdf_devtree_walk must not add or remove nodes.
 */
#ifndef VDF_MANAGER_DEVTREE_H
#define VDF_MANAGER_DEVTREE_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "device.h"
#include "vdf/common.h"

#define VDF_DEVNODE_NAME_MAX  63
#define VDF_DEVNODE_KEY_MAX   63
#define VDF_DEVNODE_VALUE_MAX 255
#define VDF_DEVNODE_MAX_PROPS 64
#define VDF_DEVTREE_MAX_NODES 4096u
#define VDF_DEVTREE_MAX_DEPTH 7 /* levels below "/"; so every path fits PATH_MAX */
#define VDF_DEVTREE_PATH_MAX  ((VDF_DEVNODE_NAME_MAX + 1) * VDF_DEVTREE_MAX_DEPTH + 1)

struct vdf_devtree;
struct vdf_devnode;

/* Called for each node that has user data (vdf_devnode_set_data) when it is
 * removed or the tree destroyed, before the node is freed. */
typedef void (*vdf_devnode_release_fn)(struct vdf_devnode *node, void *data);

/* A tree holding "/" and an empty "/pci". release may be NULL. */
int vdf_devtree_create(vdf_devnode_release_fn release, struct vdf_devtree **out) VDF_MUST_CHECK;
/* Free every node (calling release for user data). Accepts NULL. */
void vdf_devtree_destroy(struct vdf_devtree *tree);

struct vdf_devnode *vdf_devtree_root(struct vdf_devtree *tree);
struct vdf_devnode *vdf_devtree_pci_bus(struct vdf_devtree *tree);
unsigned vdf_devtree_count(const struct vdf_devtree *tree);

/*
 * Add (or refresh) the node /pci/<info->addr> for a function. When the node
 * exists its PCI info is replaced and its properties, state, data and children
 * are kept. Returns 0, -EINVAL (bad address), -ENOSPC (tree full), -ENOMEM.
 * *out (may be NULL) gets the node.
 */
int vdf_devtree_add_pci(struct vdf_devtree *tree, const struct vdf_pci_info *info,
			struct vdf_devnode **out) VDF_MUST_CHECK;

/* Add every function of a discovery result (see vdf_devtree_add_pci). */
int vdf_devtree_add_pci_list(struct vdf_devtree *tree, const struct vdf_pci_info *list,
			     unsigned n) VDF_MUST_CHECK;

/*
 * Add a child named `name` under parent. Returns 0, -EINVAL (bad name),
 * -EEXIST (a sibling has that name; *out still gets it), -ENOSPC (tree full
 * or too deep), -ENOMEM.
 */
int vdf_devnode_add_child(struct vdf_devnode *parent, const char *name,
			  struct vdf_devnode **out) VDF_MUST_CHECK;

/* Remove a node and its whole subtree. The root and /pci cannot be removed
 * (-EPERM). The node pointer (and its descendants') is invalid afterwards. */
int vdf_devnode_remove(struct vdf_devnode *node) VDF_MUST_CHECK;

/*
 * Look a node up by path ("/", "/pci", "/pci/0000:00:04.0/usb1-1") or by a PCI
 * address as a person types it ("0000:00:04.0", "00:04.0"). NULL when absent
 * or malformed.
 */
struct vdf_devnode *vdf_devtree_find(struct vdf_devtree *tree, const char *spec);
/* The PCI function node for an address (any form vdf_pci_addr_normalize takes). */
struct vdf_devnode *vdf_devtree_find_pci(struct vdf_devtree *tree, const char *addr);

const char *vdf_devnode_name(const struct vdf_devnode *node);
struct vdf_devnode *vdf_devnode_parent(const struct vdf_devnode *node);
struct vdf_devnode *vdf_devnode_first_child(const struct vdf_devnode *node);
struct vdf_devnode *vdf_devnode_next_sibling(const struct vdf_devnode *node);
unsigned vdf_devnode_child_count(const struct vdf_devnode *node);
/* Full path into buf (VDF_DEVTREE_PATH_MAX always suffices). 0 or -ENAMETOOLONG. */
int vdf_devnode_path(const struct vdf_devnode *node, char *buf, size_t len) VDF_MUST_CHECK;

/* PCI info of a PCI function node, NULL for other nodes. */
const struct vdf_pci_info *vdf_devnode_pci(const struct vdf_devnode *node);

/* Properties. set: 0, -EINVAL (bad key/value), -ENOSPC (too many), -ENOMEM.
 * get: the value or NULL. del: 0 or -ENOENT. */
int vdf_devnode_set_prop(struct vdf_devnode *node, const char *key,
			 const char *value) VDF_MUST_CHECK;
const char *vdf_devnode_prop(const struct vdf_devnode *node, const char *key);
int vdf_devnode_del_prop(struct vdf_devnode *node, const char *key);
unsigned vdf_devnode_prop_count(const struct vdf_devnode *node);
/* The i-th property in key order; -ENOENT past the end. */
int vdf_devnode_prop_at(const struct vdf_devnode *node, unsigned i, const char **key,
			const char **value);

/* State string ("" until set). set: 0, -EINVAL, -ENOMEM. */
int vdf_devnode_set_state(struct vdf_devnode *node, const char *state) VDF_MUST_CHECK;
const char *vdf_devnode_state(const struct vdf_devnode *node);

/* Opaque user pointer (e.g. the manager's per-device record); see release. */
void vdf_devnode_set_data(struct vdf_devnode *node, void *data);
void *vdf_devnode_data(const struct vdf_devnode *node);

/*
 * Depth-first, pre-order walk of start's subtree (start included, depth 0).
 * Stops at the first callback returning non-zero and returns that value; 0
 * when every node was visited.
 */
typedef int (*vdf_devtree_walk_fn)(struct vdf_devnode *node, unsigned depth, void *arg);
int vdf_devtree_walk(struct vdf_devnode *start, vdf_devtree_walk_fn fn, void *arg);

/*
 * The node as JSON (docs/CONTROL.md, "node" object):
 *   {"name", "path", "state", "properties": {k: v}, "pci": {...} (PCI nodes),
 *    "children": [...] (only when recursive)}
 * Returns a new reference or NULL when out of memory.
 */
json_object *vdf_devnode_to_json(const struct vdf_devnode *node, bool recursive);
/* The whole tree from "/" (recursive). */
json_object *vdf_devtree_to_json(const struct vdf_devtree *tree);

#endif
