// SPDX-License-Identifier: MIT
/* The manager's device tree; see devtree.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devtree.h"
#include "discovery.h"

struct devprop {
	char *key;
	char *value;
};

struct vdf_devnode {
	struct vdf_devtree *tree;
	struct vdf_devnode *parent;
	struct vdf_devnode *first_child, *next, *prev; /* siblings sorted by name */
	unsigned nchildren;
	unsigned depth; /* 0 for "/" */
	char *name;
	char *state;
	struct devprop *props; /* sorted by key */
	unsigned nprops;
	bool is_pci;
	struct vdf_pci_info pci;
	void *data;
};

struct vdf_devtree {
	struct vdf_devnode *root;
	struct vdf_devnode *pci_bus;
	unsigned nnodes;
	vdf_devnode_release_fn release;
};

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == ':' || c == '@' || c == '+' || c == '-';
}

static bool key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

static bool valid_name(const char *s)
{
	size_t len;

	if (!s)
		return false;
	len = strnlen(s, VDF_DEVNODE_NAME_MAX + 1);
	if (len == 0 || len > VDF_DEVNODE_NAME_MAX || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!name_char(s[i]))
			return false;
	return true;
}

static bool valid_key(const char *s)
{
	size_t len;

	if (!s)
		return false;
	len = strnlen(s, VDF_DEVNODE_KEY_MAX + 1);
	if (len == 0 || len > VDF_DEVNODE_KEY_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!key_char(s[i]))
			return false;
	return true;
}

/* Printable ASCII, bounded: safe to show on a terminal and in JSON. */
static bool valid_value(const char *s)
{
	size_t len;

	if (!s)
		return false;
	len = strnlen(s, VDF_DEVNODE_VALUE_MAX + 1);
	if (len > VDF_DEVNODE_VALUE_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

static struct vdf_devnode *node_new(struct vdf_devtree *tree, const char *name)
{
	struct vdf_devnode *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->name = strdup(name);
	n->state = strdup("");
	if (!n->name || !n->state) {
		free(n->name);
		free(n->state);
		free(n);
		return NULL;
	}
	n->tree = tree;
	return n;
}

static void node_free_one(struct vdf_devnode *n)
{
	if (n->data && n->tree->release)
		n->tree->release(n, n->data);
	for (unsigned i = 0; i < n->nprops; i++) {
		free(n->props[i].key);
		free(n->props[i].value);
	}
	free(n->props);
	free(n->name);
	free(n->state);
	free(n);
}

/* Free a detached subtree, children first. */
static void subtree_free(struct vdf_devnode *n)
{
	struct vdf_devnode *c = n->first_child;

	while (c) {
		struct vdf_devnode *next = c->next;

		subtree_free(c);
		c = next;
	}
	n->tree->nnodes--;
	node_free_one(n);
}

static struct vdf_devnode *child_by_name(const struct vdf_devnode *parent, const char *name,
					 size_t len)
{
	for (struct vdf_devnode *c = parent->first_child; c; c = c->next)
		if (strlen(c->name) == len && !memcmp(c->name, name, len))
			return c;
	return NULL;
}

/* Link n under parent, keeping siblings sorted by name. */
static void link_child(struct vdf_devnode *parent, struct vdf_devnode *n)
{
	struct vdf_devnode *prev = NULL, *c = parent->first_child;

	while (c && strcmp(c->name, n->name) < 0) {
		prev = c;
		c = c->next;
	}
	n->parent = parent;
	n->depth = parent->depth + 1;
	n->prev = prev;
	n->next = c;
	if (c)
		c->prev = n;
	if (prev)
		prev->next = n;
	else
		parent->first_child = n;
	parent->nchildren++;
}

static void unlink_child(struct vdf_devnode *n)
{
	struct vdf_devnode *parent = n->parent;

	if (n->prev)
		n->prev->next = n->next;
	else
		parent->first_child = n->next;
	if (n->next)
		n->next->prev = n->prev;
	parent->nchildren--;
	n->parent = n->next = n->prev = NULL;
}

int vdf_devtree_create(vdf_devnode_release_fn release, struct vdf_devtree **out)
{
	struct vdf_devtree *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->release = release;
	t->root = node_new(t, "/");
	if (!t->root)
		goto out_free_tree;
	t->nnodes = 1;
	t->pci_bus = node_new(t, "pci");
	if (!t->pci_bus)
		goto out_free_root;
	t->nnodes++;
	link_child(t->root, t->pci_bus);
	*out = t;
	return 0;

out_free_root:
	node_free_one(t->root);
out_free_tree:
	free(t);
	return -ENOMEM;
}

void vdf_devtree_destroy(struct vdf_devtree *tree)
{
	if (!tree)
		return;
	subtree_free(tree->root);
	free(tree);
}

struct vdf_devnode *vdf_devtree_root(struct vdf_devtree *tree)
{
	return tree->root;
}

struct vdf_devnode *vdf_devtree_pci_bus(struct vdf_devtree *tree)
{
	return tree->pci_bus;
}

unsigned vdf_devtree_count(const struct vdf_devtree *tree)
{
	return tree->nnodes;
}

int vdf_devnode_add_child(struct vdf_devnode *parent, const char *name, struct vdf_devnode **out)
{
	struct vdf_devtree *tree = parent->tree;
	struct vdf_devnode *n;

	if (out)
		*out = NULL;
	if (!valid_name(name))
		return -EINVAL;
	n = child_by_name(parent, name, strlen(name));
	if (n) {
		if (out)
			*out = n;
		return -EEXIST;
	}
	if (tree->nnodes >= VDF_DEVTREE_MAX_NODES || parent->depth >= VDF_DEVTREE_MAX_DEPTH)
		return -ENOSPC;
	n = node_new(tree, name);
	if (!n)
		return -ENOMEM;
	link_child(parent, n);
	tree->nnodes++;
	if (out)
		*out = n;
	return 0;
}

int vdf_devnode_remove(struct vdf_devnode *node)
{
	if (!node->parent || node == node->tree->pci_bus)
		return -EPERM;
	unlink_child(node);
	subtree_free(node);
	return 0;
}

int vdf_devtree_add_pci(struct vdf_devtree *tree, const struct vdf_pci_info *info,
			struct vdf_devnode **out)
{
	struct vdf_devnode *n;
	int rc;

	if (out)
		*out = NULL;
	if (!vdf_pci_addr_valid(info->addr))
		return -EINVAL;
	rc = vdf_devnode_add_child(tree->pci_bus, info->addr, &n);
	if (rc && rc != -EEXIST)
		return rc;
	n->is_pci = true;
	n->pci = *info;
	if (out)
		*out = n;
	return 0;
}

int vdf_devtree_add_pci_list(struct vdf_devtree *tree, const struct vdf_pci_info *list, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		int rc = vdf_devtree_add_pci(tree, &list[i], NULL);

		if (rc)
			return rc;
	}
	return 0;
}

struct vdf_devnode *vdf_devtree_find_pci(struct vdf_devtree *tree, const char *addr)
{
	char canon[VDF_PCI_ADDR_LEN];

	if (vdf_pci_addr_normalize(addr, canon))
		return NULL;
	return child_by_name(tree->pci_bus, canon, strlen(canon));
}

struct vdf_devnode *vdf_devtree_find(struct vdf_devtree *tree, const char *spec)
{
	struct vdf_devnode *n = tree->root;
	const char *p;

	if (!spec)
		return NULL;
	if (spec[0] != '/')
		return vdf_devtree_find_pci(tree, spec);
	if (strnlen(spec, VDF_DEVTREE_PATH_MAX) >= VDF_DEVTREE_PATH_MAX)
		return NULL;
	if (!spec[1])
		return n;
	/* each round consumes "/name"; "//" and a trailing "/" give an empty name */
	for (p = spec; *p == '/' && n;) {
		const char *name = p + 1;
		const char *slash = strchr(name, '/');
		size_t len = slash ? (size_t)(slash - name) : strlen(name);

		if (len == 0)
			return NULL;
		n = child_by_name(n, name, len);
		p = name + len;
	}
	return n;
}

const char *vdf_devnode_name(const struct vdf_devnode *node)
{
	return node->name;
}

struct vdf_devnode *vdf_devnode_parent(const struct vdf_devnode *node)
{
	return node->parent;
}

struct vdf_devnode *vdf_devnode_first_child(const struct vdf_devnode *node)
{
	return node->first_child;
}

struct vdf_devnode *vdf_devnode_next_sibling(const struct vdf_devnode *node)
{
	return node->next;
}

unsigned vdf_devnode_child_count(const struct vdf_devnode *node)
{
	return node->nchildren;
}

int vdf_devnode_path(const struct vdf_devnode *node, char *buf, size_t len)
{
	const struct vdf_devnode *chain[VDF_DEVTREE_MAX_DEPTH + 1];
	unsigned depth = 0;
	size_t pos = 0;

	if (len < 2)
		return -ENAMETOOLONG;
	if (!node->parent) {
		memcpy(buf, "/", 2);
		return 0;
	}
	for (const struct vdf_devnode *n = node; n->parent; n = n->parent)
		chain[depth++] = n;
	while (depth--) {
		size_t nl = strlen(chain[depth]->name);

		if (pos + 1 + nl + 1 > len)
			return -ENAMETOOLONG;
		buf[pos++] = '/';
		memcpy(buf + pos, chain[depth]->name, nl);
		pos += nl;
	}
	buf[pos] = '\0';
	return 0;
}

const struct vdf_pci_info *vdf_devnode_pci(const struct vdf_devnode *node)
{
	return node->is_pci ? &node->pci : NULL;
}

/* Index of key, or -(insertion point) - 1. */
static int prop_find(const struct vdf_devnode *node, const char *key)
{
	int lo = 0, hi = (int)node->nprops;

	while (lo < hi) {
		int mid = (lo + hi) / 2;
		int c = strcmp(node->props[mid].key, key);

		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -lo - 1;
}

int vdf_devnode_set_prop(struct vdf_devnode *node, const char *key, const char *value)
{
	struct devprop *np;
	char *k, *v;
	int i;

	if (!valid_key(key) || !valid_value(value))
		return -EINVAL;
	v = strdup(value);
	if (!v)
		return -ENOMEM;
	i = prop_find(node, key);
	if (i >= 0) {
		free(node->props[i].value);
		node->props[i].value = v;
		return 0;
	}
	if (node->nprops >= VDF_DEVNODE_MAX_PROPS) {
		free(v);
		return -ENOSPC;
	}
	k = strdup(key);
	np = realloc(node->props, (node->nprops + 1) * sizeof(*np));
	if (!k || !np) {
		free(k);
		free(v);
		if (np)
			node->props = np;
		return -ENOMEM;
	}
	node->props = np;
	i = -i - 1;
	memmove(&np[i + 1], &np[i], (node->nprops - (unsigned)i) * sizeof(*np));
	np[i].key = k;
	np[i].value = v;
	node->nprops++;
	return 0;
}

const char *vdf_devnode_prop(const struct vdf_devnode *node, const char *key)
{
	int i;

	if (!key)
		return NULL;
	i = prop_find(node, key);
	return i >= 0 ? node->props[i].value : NULL;
}

int vdf_devnode_del_prop(struct vdf_devnode *node, const char *key)
{
	int i = key ? prop_find(node, key) : -1;

	if (i < 0)
		return -ENOENT;
	free(node->props[i].key);
	free(node->props[i].value);
	node->nprops--;
	memmove(&node->props[i], &node->props[i + 1],
		(node->nprops - (unsigned)i) * sizeof(*node->props));
	return 0;
}

unsigned vdf_devnode_prop_count(const struct vdf_devnode *node)
{
	return node->nprops;
}

int vdf_devnode_prop_at(const struct vdf_devnode *node, unsigned i, const char **key,
			const char **value)
{
	if (i >= node->nprops)
		return -ENOENT;
	*key = node->props[i].key;
	*value = node->props[i].value;
	return 0;
}

int vdf_devnode_set_state(struct vdf_devnode *node, const char *state)
{
	char *s;

	if (!valid_value(state))
		return -EINVAL;
	s = strdup(state);
	if (!s)
		return -ENOMEM;
	free(node->state);
	node->state = s;
	return 0;
}

const char *vdf_devnode_state(const struct vdf_devnode *node)
{
	return node->state;
}

void vdf_devnode_set_data(struct vdf_devnode *node, void *data)
{
	node->data = data;
}

void *vdf_devnode_data(const struct vdf_devnode *node)
{
	return node->data;
}

static int walk(struct vdf_devnode *n, unsigned depth, vdf_devtree_walk_fn fn, void *arg)
{
	int rc = fn(n, depth, arg);

	for (struct vdf_devnode *c = n->first_child; !rc && c; c = c->next)
		rc = walk(c, depth + 1, fn, arg);
	return rc;
}

int vdf_devtree_walk(struct vdf_devnode *start, vdf_devtree_walk_fn fn, void *arg)
{
	return walk(start, 0, fn, arg);
}

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

json_object *vdf_devnode_to_json(const struct vdf_devnode *node, bool recursive)
{
	char path[VDF_DEVTREE_PATH_MAX];
	json_object *o, *props, *children;
	int rc = 0;

	if (vdf_devnode_path(node, path, sizeof(path)))
		return NULL;
	o = json_object_new_object();
	if (!o)
		return NULL;
	rc |= put(o, "name", json_object_new_string(node->name));
	rc |= put(o, "path", json_object_new_string(path));
	rc |= put(o, "state", json_object_new_string(node->state));
	props = json_object_new_object();
	rc |= put(o, "properties", props);
	for (unsigned i = 0; props && i < node->nprops; i++)
		rc |= put(props, node->props[i].key, json_object_new_string(node->props[i].value));
	if (node->is_pci)
		rc |= put(o, "pci", vdf_pci_info_to_json(&node->pci));
	if (recursive) {
		children = json_object_new_array();
		rc |= put(o, "children", children);
		for (struct vdf_devnode *c = node->first_child; children && !rc && c; c = c->next) {
			json_object *cj = vdf_devnode_to_json(c, true);

			if (!cj || json_object_array_add(children, cj)) {
				json_object_put(cj);
				rc = -ENOMEM;
			}
		}
	}
	if (rc) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

json_object *vdf_devtree_to_json(const struct vdf_devtree *tree)
{
	return vdf_devnode_to_json(tree->root, true);
}
