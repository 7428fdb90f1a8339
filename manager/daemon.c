// SPDX-License-Identifier: MIT
/* vdfd: startup, device attachment and the control handlers. See daemon.h. */
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_server.h"
#include "daemon.h"
#include "devtree.h"
#include "discovery.h"
#include "instance.h"
#include "manifest.h"
#include "policy.h"
#include "vfio_bind.h"
#include "vdf/log.h"

#define TICK_MS	      100
#define MAX_INSTANCES 256
#define NS_PER_MS     1000000ull

#define LOG(level, ...) vdf_log(level, "vdfd", NULL, __VA_ARGS__)

struct attached {
	struct vdf_instance *in;
	char prev_driver[32]; /* kernel driver before vfio-pci took the device */
	bool bound_by_us;     /* we moved it to vfio-pci: give it back on detach */
};

struct vdfd {
	struct vdfd_opts opts;
	char bindir[PATH_MAX];
	char manifest_dir[PATH_MAX + 16];
	struct vdf_event_loop *loop;
	struct vdf_manifest_set manifests;
	struct vdf_policy policy;
	struct vdf_devtree *tree;
	struct vdf_attached_list {
		struct attached items[MAX_INSTANCES];
		unsigned n;
	} att;
	unsigned next_id;
	uint64_t next_client_id; /* "open": the last client_id handed out */
	struct vdf_ctl_server *ctl;
	struct vdf_timer *tick;
};

struct vdf_event_loop *vdfd_loop(struct vdfd *d)
{
	return d->loop;
}

static struct attached *find_attached(struct vdfd *d, const char *addr)
{
	char norm[VDF_PCI_ADDR_LEN];

	if (vdf_pci_addr_normalize(addr, norm))
		return NULL;
	for (unsigned i = 0; i < d->att.n; i++)
		if (!strcmp(d->att.items[i].in->pci.addr, norm))
			return &d->att.items[i];
	return NULL;
}

/* Bind to vfio-pci (unless it already is) and start the manifest's driver. */
static int attach_device(struct vdfd *d, const struct vdf_pci_info *dev,
			 const struct vdf_manifest *m, char *err, size_t errlen)
{
	struct vdf_pci_info now = *dev;
	struct attached *a;
	struct vdf_devnode *node;
	char prev[32] = "";
	bool bound = false;
	int rc;

	if (d->att.n == MAX_INSTANCES) {
		snprintf(err, errlen, "too many driver instances");
		return -ENOSPC;
	}
	if (!vdf_iommu_present_at(d->opts.sysfs_root, dev->addr)) {
		snprintf(err, errlen, "%s has no IOMMU protection: vdfd grants no DMA without one",
			 dev->addr);
		return -EPERM;
	}
	if (strcmp(dev->driver, VDF_VFIO_DRIVER)) {
		if (d->opts.no_bind) {
			snprintf(err, errlen, "bound to '%s', and --no-bind is set",
				 dev->driver[0] ? dev->driver : "no driver");
			return -EBUSY;
		}
		rc = vdf_vfio_bind(d->opts.sysfs_root, dev->addr, prev, sizeof(prev));
		if (rc) {
			snprintf(err, errlen, "binding to vfio-pci: %s", strerror(-rc));
			return rc;
		}
		bound = true;
		rc = vdf_discover_one(d->opts.sysfs_root, dev->addr, &now);
		if (rc) {
			snprintf(err, errlen, "re-reading the device: %s", strerror(-rc));
			return rc;
		}
	}
	node = vdf_devtree_find_pci(d->tree, dev->addr);
	a = &d->att.items[d->att.n];
	memset(a, 0, sizeof(*a));
	snprintf(a->prev_driver, sizeof(a->prev_driver), "%s", prev);
	a->bound_by_us = bound;
	rc = vdf_instance_create(d->loop, d->next_id, &now, m, node, &a->in);
	if (rc) {
		snprintf(err, errlen, "%s", strerror(-rc));
		return rc;
	}
	d->next_id++;
	d->att.n++;
	rc = vdf_instance_start(a->in);
	if (rc) {
		/* Supervision retries it with backoff, like a crash. */
		snprintf(err, errlen, "%s", a->in->last_error);
		vdf_sup_on_started(&a->in->sup, vdf_now_ns());
		vdf_sup_on_exit(&a->in->sup, vdf_now_ns(), VDF_SUP_START_FAILED, rc);
		return rc;
	}
	return 0;
}

static void detach(struct vdfd *d, struct attached *a)
{
	char addr[VDF_PCI_ADDR_LEN];
	int rc;

	snprintf(addr, sizeof(addr), "%s", a->in->pci.addr);
	vdf_instance_destroy(a->in);
	if (a->bound_by_us) {
		rc = vdf_vfio_unbind(d->opts.sysfs_root, addr, a->prev_driver);
		if (rc)
			vdf_log(LOG_WARNING, "vdfd", addr, "giving the device back to '%s': %s",
				a->prev_driver, strerror(-rc));
	}
	*a = d->att.items[--d->att.n];
}

static void tick(struct vdf_timer *t, void *arg)
{
	struct vdfd *d = arg;
	uint64_t now = vdf_now_ns();

	(void)t;
	for (unsigned i = 0; i < d->att.n; i++) {
		struct attached *a = &d->att.items[i];

		if (a->in->restart_pending && a->in->sup.state == VDF_SUP_STOPPED &&
		    !a->in->alive) {
			a->in->restart_pending = false;
			if (vdf_instance_start(a->in))
				vdf_log(LOG_ERR, "vdfd", a->in->pci.addr, "restart: %s",
					a->in->last_error);
			continue;
		}
		vdf_instance_tick(a->in, now);
	}
}

/* --- control handlers --------------------------------------------------- */

static struct attached *need_attached(struct vdfd *d, const struct vdf_ctl_request *req, char *err,
				      size_t errlen)
{
	struct attached *a = find_attached(d, req->dev);

	if (!a)
		snprintf(err, errlen, "%s: no VDF driver is bound to it (see 'vdfctl explain %s')",
			 req->dev, req->dev);
	return a;
}

static void refresh_node(struct attached *a)
{
	struct vdf_instance *in = a->in;
	char buf[32];
	int rc;

	if (!in->node)
		return;

	snprintf(buf, sizeof(buf), "%" PRIu64, in->sup.restarts);
	rc = vdf_devnode_set_prop(in->node, "restarts", buf);
	snprintf(buf, sizeof(buf), "%d", in->alive ? (int)in->proc.pid : 0);
	rc = rc ? rc : vdf_devnode_set_prop(in->node, "pid", buf);
	snprintf(buf, sizeof(buf), "%u", in->generation);
	rc = rc ? rc : vdf_devnode_set_prop(in->node, "generation", buf);
	if (rc)
		vdf_log(LOG_WARNING, "vdfd", in->pci.addr, "device tree properties: %s",
			strerror(-rc));
}

static int h_list(void *ctx, const struct vdf_ctl_request *req, const struct vdf_ctl_peer *peer,
		  json_object *data, char *err, size_t errlen)
{
	struct vdfd *d = ctx;
	json_object *tree;

	(void)req;
	(void)peer;
	for (unsigned i = 0; i < d->att.n; i++)
		refresh_node(&d->att.items[i]);
	tree = vdf_devtree_to_json(d->tree);
	if (!tree) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	json_object_object_add(data, "tree", tree);
	return 0;
}

static json_object *instance_json(struct attached *a)
{
	struct vdf_instance *in = a->in;
	const struct vdf_sup_record *last = vdf_sup_last(&in->sup);
	struct vdf_heartbeat t;
	json_object *o = json_object_new_object(), *hist;
	unsigned kept = VDF_MIN(in->sup.nhist, (unsigned)VDF_SUP_HISTORY);

	vdf_instance_totals(in, &t);
	json_object_object_add(o, "dev", json_object_new_string(in->pci.addr));
	json_object_object_add(o, "driver", json_object_new_string(in->m->name));
	json_object_object_add(o, "state",
			       json_object_new_string(vdf_sup_state_name(in->sup.state)));
	json_object_object_add(o, "pid", json_object_new_int(in->alive ? (int)in->proc.pid : 0));
	json_object_object_add(o, "uid", json_object_new_int64(vdf_spawn_uid(in->id)));
	json_object_object_add(o, "generation", json_object_new_int64(in->generation));
	json_object_object_add(o, "restarts", json_object_new_int64((int64_t)in->sup.restarts));
	json_object_object_add(o, "crashes", json_object_new_int64((int64_t)in->sup.crashes));
	json_object_object_add(o, "irqs", json_object_new_int64((int64_t)t.irqs));
	json_object_object_add(o, "ios", json_object_new_int64((int64_t)(t.rx_ios + t.tx_ios)));
	json_object_object_add(o, "bytes",
			       json_object_new_int64((int64_t)(t.rx_bytes + t.tx_bytes)));
	json_object_object_add(o, "rx_ios", json_object_new_int64((int64_t)t.rx_ios));
	json_object_object_add(o, "rx_bytes", json_object_new_int64((int64_t)t.rx_bytes));
	json_object_object_add(o, "tx_ios", json_object_new_int64((int64_t)t.tx_ios));
	json_object_object_add(o, "tx_bytes", json_object_new_int64((int64_t)t.tx_bytes));
	json_object_object_add(o, "errors", json_object_new_int64((int64_t)t.errors));
	json_object_object_add(o, "drops", json_object_new_int64((int64_t)t.drops));
	json_object_object_add(o, "heartbeats", json_object_new_int64((int64_t)in->hb_count));
	json_object_object_add(o, "clients_opened",
			       json_object_new_int64((int64_t)in->clients_opened));
	json_object_object_add(o, "clients_waiting", json_object_new_int64(in->nopens));
	json_object_object_add(o, "last_recovery_ms",
			       json_object_new_double(last && last->recovered_ns
							  ? (double)last->recovered_ns / 1e6
							  : 0.0));
	json_object_object_add(o, "last_error", json_object_new_string(in->last_error));
	hist = json_object_new_array();
	for (unsigned i = 0; i < kept; i++) {
		const struct vdf_sup_record *r =
		    &in->sup.history[(in->sup.nhist - kept + i) % VDF_SUP_HISTORY];
		json_object *e = json_object_new_object();

		json_object_object_add(e, "reason",
				       json_object_new_string(vdf_sup_reason_name(r->reason)));
		json_object_object_add(e, "status", json_object_new_int(r->status));
		json_object_object_add(
		    e, "crash_ms_ago",
		    json_object_new_int64((int64_t)((vdf_now_ns() - r->crash_ns) / NS_PER_MS)));
		json_object_object_add(e, "recovery_ms",
				       json_object_new_double((double)r->recovered_ns / 1e6));
		json_object_array_add(hist, e);
	}
	json_object_object_add(o, "history", hist);
	return o;
}

static int h_info(void *ctx, const struct vdf_ctl_request *req, const struct vdf_ctl_peer *peer,
		  json_object *data, char *err, size_t errlen)
{
	struct vdfd *d = ctx;
	struct vdf_devnode *node = vdf_devtree_find(d->tree, req->dev);
	struct attached *a = find_attached(d, req->dev);

	(void)peer;
	if (!node)
		node = vdf_devtree_find_pci(d->tree, req->dev);
	if (!node) {
		snprintf(err, errlen, "%s: no such device", req->dev);
		return -ENOENT;
	}
	if (a)
		refresh_node(a);
	json_object_object_add(data, "device", vdf_devnode_to_json(node, false));
	if (a)
		json_object_object_add(data, "driver", instance_json(a));
	return 0;
}

/* Start the instance's driver now; answer "started" or why not. */
static int start_now(struct attached *a, json_object *data, char *err, size_t errlen)
{
	int rc = vdf_instance_start(a->in);

	if (rc) {
		snprintf(err, errlen, "%s", a->in->last_error);
		return rc;
	}
	json_object_object_add(data, "message", json_object_new_string("started"));
	return 0;
}

/* Ask the driver to stop; with restart, start it again once it is gone. */
static int stop_now(struct attached *a, bool restart, json_object *data, char *err, size_t errlen)
{
	int rc;

	a->in->restart_pending = restart;
	rc = vdf_instance_stop(a->in);
	if (rc) {
		snprintf(err, errlen, "stopping: %s", strerror(-rc));
		return rc;
	}
	json_object_object_add(data, "message",
			       json_object_new_string(restart ? "restarting" : "stopping"));
	return 0;
}

static int h_start(void *ctx, const struct vdf_ctl_request *req, const struct vdf_ctl_peer *peer,
		   json_object *data, char *err, size_t errlen)
{
	struct attached *a = need_attached(ctx, req, err, errlen);

	(void)peer;
	if (!a)
		return -ENOENT;
	if (a->in->alive) {
		snprintf(err, errlen, "%s is already running", a->in->m->name);
		return -EALREADY;
	}
	return start_now(a, data, err, errlen);
}

static int h_stop(void *ctx, const struct vdf_ctl_request *req, const struct vdf_ctl_peer *peer,
		  json_object *data, char *err, size_t errlen)
{
	struct attached *a = need_attached(ctx, req, err, errlen);

	(void)peer;
	if (!a)
		return -ENOENT;
	return stop_now(a, false, data, err, errlen);
}

static int h_restart(void *ctx, const struct vdf_ctl_request *req, const struct vdf_ctl_peer *peer,
		     json_object *data, char *err, size_t errlen)
{
	struct attached *a = need_attached(ctx, req, err, errlen);

	(void)peer;
	if (!a)
		return -ENOENT;
	/* A failed or stopped driver starts now; a running one is stopped first. */
	return a->in->alive ? stop_now(a, true, data, err, errlen)
			    : start_now(a, data, err, errlen);
}

static int h_bind(void *ctx, const struct vdf_ctl_request *req, const struct vdf_ctl_peer *peer,
		  json_object *data, char *err, size_t errlen)
{
	struct vdfd *d = ctx;
	const struct vdf_manifest *m = NULL;
	struct vdf_pci_info dev;
	int rc;

	(void)peer;
	if (find_attached(d, req->dev)) {
		snprintf(err, errlen, "%s already has a VDF driver", req->dev);
		return -EALREADY;
	}
	rc = vdf_discover_one(d->opts.sysfs_root, req->dev, &dev);
	if (rc) {
		snprintf(err, errlen, "%s: %s", req->dev, strerror(-rc));
		return rc;
	}
	rc = vdf_policy_decide(&d->policy, &d->manifests, &dev, &m, err, errlen);
	if (rc)
		return rc;
	if (!vdf_devtree_find_pci(d->tree, dev.addr) && vdf_devtree_add_pci(d->tree, &dev, NULL)) {
		snprintf(err, errlen, "cannot add %s to the device tree", dev.addr);
		return -ENOMEM;
	}
	rc = attach_device(d, &dev, m, err, errlen);
	if (rc && !find_attached(d, dev.addr))
		return rc;
	json_object_object_add(
	    data, "message",
	    json_object_new_string(rc ? "bound; start failed, retrying" : "bound"));
	return 0;
}

static int h_unbind(void *ctx, const struct vdf_ctl_request *req, const struct vdf_ctl_peer *peer,
		    json_object *data, char *err, size_t errlen)
{
	struct vdfd *d = ctx;
	struct attached *a = need_attached(d, req, err, errlen);

	(void)peer;
	if (!a)
		return -ENOENT;
	if (a->in->node) {
		(void)vdf_devnode_del_prop(a->in->node, "driver");
		if (vdf_devnode_set_state(a->in->node, "unbound"))
			vdf_log(LOG_WARNING, "vdfd", req->dev, "cannot record the state");
	}
	detach(d, a);
	json_object_object_add(data, "message", json_object_new_string("unbound"));
	return 0;
}

static int h_stats(void *ctx, const struct vdf_ctl_request *req, const struct vdf_ctl_peer *peer,
		   json_object *data, char *err, size_t errlen)
{
	struct vdfd *d = ctx;
	json_object *arr = json_object_new_array();

	(void)peer;
	for (unsigned i = 0; i < d->att.n; i++) {
		struct attached *a = &d->att.items[i];

		if (req->dev[0] && a != find_attached(d, req->dev))
			continue;
		json_object_array_add(arr, instance_json(a));
	}
	if (req->dev[0] && !json_object_array_length(arr)) {
		json_object_put(arr);
		snprintf(err, errlen, "%s: no VDF driver is bound to it", req->dev);
		return -ENOENT;
	}
	json_object_object_add(data, "drivers", arr);
	return 0;
}

static int h_explain(void *ctx, const struct vdf_ctl_request *req, const struct vdf_ctl_peer *peer,
		     json_object *data, char *err, size_t errlen)
{
	struct vdfd *d = ctx;
	const struct vdf_manifest *m;
	struct vdf_pci_info dev;
	json_object *lines = json_object_new_array();
	char why[4096], *save = NULL;
	int rc;

	(void)peer;
	rc = vdf_discover_one(d->opts.sysfs_root, req->dev, &dev);
	if (rc) {
		json_object_put(lines);
		snprintf(err, errlen, "%s: %s", req->dev, strerror(-rc));
		return rc;
	}
	(void)vdf_policy_decide(&d->policy, &d->manifests, &dev, &m, why, sizeof(why));
	for (char *l = strtok_r(why, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		json_object_array_add(lines, json_object_new_string(l));
	for (size_t i = 0; i < d->manifests.nerrors; i++) {
		char buf[600];

		snprintf(buf, sizeof(buf), "(manifest not loaded: %s)", d->manifests.errors[i]);
		json_object_array_add(lines, json_object_new_string(buf));
	}
	json_object_object_add(data, "dev", json_object_new_string(dev.addr));
	json_object_object_add(data, "lines", lines);
	return 0;
}

/* The driver's answer to a check: complete the deferred control request. */
static void check_done(void *arg, int status, uint64_t checksum, uint64_t lba, uint32_t count)
{
	struct vdf_ctl_pending *p = arg;
	json_object *data = json_object_new_object();
	char hex[24], err[96] = "";

	if (!status && data) {
		snprintf(hex, sizeof(hex), "%016" PRIx64, checksum);
		json_object_object_add(data, "checksum", json_object_new_string(hex));
		json_object_object_add(data, "lba", json_object_new_int64((int64_t)lba));
		json_object_object_add(data, "blocks", json_object_new_int64(count));
	} else if (status == -ETIMEDOUT) {
		snprintf(err, sizeof(err), "the driver did not answer within %d ms",
			 VDF_INSTANCE_CHECK_TIMEOUT_MS);
	} else if (status == -ECONNRESET) {
		snprintf(err, sizeof(err), "the driver went away before answering");
	}
	vdf_ctl_complete(p, data ? status : -ENOMEM, data, err);
	json_object_put(data);
}

/*
 * Ask the driver to read a range of its device and answer a checksum. The
 * answer comes later on the driver's socket: the request is deferred, so a
 * slow driver never holds up the daemon.
 */
static int h_check(void *ctx, const struct vdf_ctl_request *req, const struct vdf_ctl_peer *peer,
		   json_object *data, char *err, size_t errlen)
{
	struct vdfd *d = ctx;
	struct attached *a = need_attached(d, req, err, errlen);
	struct vdf_ctl_pending *p;
	int rc;

	(void)peer;
	(void)data;
	if (!a)
		return -ENOENT;
	p = vdf_ctl_defer(d->ctl);
	if (!p)
		return -ENOMEM;
	rc = vdf_instance_check(a->in, req->lba, req->count, check_done, p);
	if (rc) {
		snprintf(err, errlen, "%s is not serving (%s)", a->in->m->name,
			 vdf_sup_state_name(a->in->sup.state));
		vdf_ctl_complete(p, rc, NULL, err);
		return VDF_CTL_DEFERRED;
	}
	return VDF_CTL_DEFERRED;
}

/* An "open" on its way: the deferred answer and what goes into it. */
struct open_req {
	struct vdf_ctl_pending *p;
	struct vdf_instance *in;
	uint64_t client_id;
	bool read_only;
	uint32_t unit;
};

static bool open_wanted(void *arg)
{
	struct open_req *o = arg;

	return vdf_ctl_pending_connected(o->p);
}

/* The instance brokered the session (fd = the client's end) or gave up. */
static void open_done(void *arg, int status, int fd, uint32_t generation, const char *why)
{
	struct open_req *o = arg;
	json_object *data = NULL;

	if (!status) {
		data = json_object_new_object();
		if (!data) {
			status = -ENOMEM;
			why = "out of memory";
		}
	}
	if (data) {
		json_object_object_add(data, "generation", json_object_new_int64(generation));
		json_object_object_add(data, "driver", json_object_new_string(o->in->m->name));
		json_object_object_add(data, "instance", json_object_new_int64(o->in->id));
		json_object_object_add(data, "client_id",
				       json_object_new_int64((int64_t)o->client_id));
		json_object_object_add(data, "mode",
				       json_object_new_string(o->read_only ? "ro" : "rw"));
		json_object_object_add(data, "unit", json_object_new_int64(o->unit));
	}
	if (status)
		vdf_log(LOG_INFO, "vdfd", o->in->pci.addr, "open for client %llu failed: %s",
			(unsigned long long)o->client_id, why);
	/* The fd goes with a successful answer; complete_fd closes our copy
	 * either way (also when the answer is an error or the client left). */
	vdf_ctl_complete_fd(o->p, status, data, why, fd);
	json_object_put(data);
	free(o);
}

/* Refuse an open (it is always deferred: see h_open). */
static int open_refuse(struct vdf_ctl_pending *p, const struct vdf_ctl_request *req, int rc,
		       const char *err)
{
	vdf_log(LOG_INFO, "vdfd", NULL, "open %s failed: %s", req->dev, err);
	vdf_ctl_complete_fd(p, rc, NULL, err, -1);
	return VDF_CTL_DEFERRED;
}

/*
 * A session with the block driver of a device. Always deferred: when the
 * driver serves, the answer goes out before this returns; while it starts or
 * restarts, the instance keeps the open until the driver serves (or fails,
 * stops, or VDF_CTL_OPEN_WAIT_MS pass).
 */
static int h_open(void *ctx, const struct vdf_ctl_request *req, const struct vdf_ctl_peer *peer,
		  json_object *data, char *err, size_t errlen)
{
	struct vdfd *d = ctx;
	struct vdf_client_grant cg = {0};
	const struct vdf_manifest *m;
	struct vdf_ctl_pending *p;
	struct attached *a;
	struct open_req *o;
	int rc;

	(void)data;
	p = vdf_ctl_defer(d->ctl);
	if (!p)
		return -ENOMEM;
	a = find_attached(d, req->dev);
	if (!a) {
		snprintf(err, errlen, "%s: no VDF driver is bound to it (see 'vdfctl explain %s')",
			 req->dev, req->dev);
		return open_refuse(p, req, -ENODEV, err);
	}
	m = a->in->m;
	if (m->device_class != VDF_MANIFEST_CLASS_BLOCK &&
	    m->device_class != VDF_MANIFEST_CLASS_NET &&
	    m->device_class != VDF_MANIFEST_CLASS_DISPLAY) {
		snprintf(
		    err, errlen,
		    "%s: its driver %s is of class %s; only block, net and display drivers take "
		    "clients",
		    a->in->pci.addr, m->name, vdf_manifest_class_name(m->device_class));
		return open_refuse(p, req, -EOPNOTSUPP, err);
	}
	o = calloc(1, sizeof(*o));
	if (!o)
		return open_refuse(p, req, -ENOMEM, "out of memory");
	o->p = p;
	o->in = a->in;
	o->client_id = ++d->next_client_id;
	o->read_only = req->read_only;
	o->unit = req->unit;
	cg.client_id = o->client_id;
	cg.uid = (uint32_t)peer->uid;
	cg.flags = req->read_only ? VDF_CLIENT_F_READ_ONLY : 0;
	cg.unit = req->unit;
	cg.ops_per_sec = m->client_limits.ops_per_sec;
	cg.ops_burst = m->client_limits.ops_burst;
	cg.bytes_per_sec = m->client_limits.bytes_per_sec;
	cg.bytes_burst = m->client_limits.bytes_burst;
	rc = vdf_instance_open(a->in, &cg, VDF_CTL_OPEN_WAIT_MS, open_done, open_wanted, o, err,
			       errlen);
	if (rc) {
		free(o);
		return open_refuse(p, req, rc, err);
	}
	return VDF_CTL_DEFERRED;
}

static const struct vdf_ctl_handlers handlers = {
    .list = h_list,
    .info = h_info,
    .start = h_start,
    .stop = h_stop,
    .restart = h_restart,
    .bind = h_bind,
    .unbind = h_unbind,
    .stats = h_stats,
    .explain = h_explain,
    .check = h_check,
    .open = h_open,
};

/* --- startup ------------------------------------------------------------- */

static int resolve_dirs(struct vdfd *d)
{
	char exe[PATH_MAX];
	ssize_t n;

	if (d->opts.bindir) {
		snprintf(d->bindir, sizeof(d->bindir), "%s", d->opts.bindir);
	} else {
		n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		if (n < 0)
			return -errno;
		exe[n] = '\0';
		snprintf(d->bindir, sizeof(d->bindir), "%s", dirname(exe));
	}
	if (d->opts.manifest_dir)
		snprintf(d->manifest_dir, sizeof(d->manifest_dir), "%s", d->opts.manifest_dir);
	else
		snprintf(d->manifest_dir, sizeof(d->manifest_dir), "%s/../manifests", d->bindir);
	return 0;
}

static int load_config(struct vdfd *d)
{
	char err[VDF_MANIFEST_ERR_MAX];
	int rc;

	rc = vdf_manifest_load_dir(d->manifest_dir, d->bindir, &d->manifests);
	if (rc) {
		LOG(LOG_ERR, "loading manifests from %s: %s", d->manifest_dir, strerror(-rc));
		return rc;
	}
	for (size_t i = 0; i < d->manifests.nerrors; i++)
		LOG(LOG_ERR, "%s", d->manifests.errors[i]);
	LOG(LOG_INFO, "%zu driver manifest(s) from %s", d->manifests.count, d->manifest_dir);
	vdf_policy_init(&d->policy);
	if (d->opts.policy_path) {
		rc = vdf_policy_load(d->opts.policy_path, &d->policy, err, sizeof(err));
		if (rc) {
			LOG(LOG_ERR, "%s", err);
			return rc;
		}
	}
	return 0;
}

static void attach_all(struct vdfd *d, const struct vdf_pci_info *devs, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		const struct vdf_manifest *m = NULL;
		char why[2048];
		int rc;

		rc = vdf_policy_decide(&d->policy, &d->manifests, &devs[i], &m, why, sizeof(why));
		if (rc) {
			vdf_log(LOG_DEBUG, "vdfd", devs[i].addr, "not managed: %s",
				rc == -EPERM ? "refused by policy" : "no driver matches");
			continue;
		}
		rc = attach_device(d, &devs[i], m, why, sizeof(why));
		if (rc)
			vdf_log(LOG_ERR, "vdfd", devs[i].addr, "%s: %s", m->name, why);
	}
}

int vdfd_create(const struct vdfd_opts *o, struct vdfd **out)
{
	struct vdf_ctl_server_opts copts = {0};
	struct vdf_pci_info *devs = NULL;
	unsigned ndevs = 0;
	struct vdfd *d;
	int rc;

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->opts = *o;
	rc = resolve_dirs(d);
	if (rc)
		goto out_free;
	rc = vdf_event_loop_create(&d->loop);
	if (rc)
		goto out_free;
	rc = load_config(d);
	if (rc)
		goto out_destroy;
	if (!vdf_iommu_present_at(d->opts.sysfs_root, NULL)) {
		LOG(LOG_ERR, "no IOMMU: vdfd refuses to give drivers DMA without one "
			     "(boot with intel_iommu=on / amd_iommu=on)");
		rc = -ENODEV;
		goto out_destroy;
	}
	rc = vdf_devtree_create(NULL, &d->tree);
	if (rc)
		goto out_destroy;
	rc = vdf_discover_pci(d->opts.sysfs_root, &devs, &ndevs);
	if (rc) {
		LOG(LOG_ERR, "discovering PCI devices: %s", strerror(-rc));
		goto out_destroy;
	}
	rc = vdf_devtree_add_pci_list(d->tree, devs, ndevs);
	if (rc)
		goto out_devs;
	LOG(LOG_INFO, "%u PCI function(s) found", ndevs);
	copts.path = o->socket_path;
	copts.handlers = &handlers;
	copts.ctx = d;
	rc = vdf_ctl_server_start(d->loop, &copts, &d->ctl);
	if (rc) {
		LOG(LOG_ERR, "control socket %s: %s", o->socket_path ? o->socket_path : "(default)",
		    strerror(-rc));
		goto out_devs;
	}
	attach_all(d, devs, ndevs);
	vdf_discover_free(devs);
	rc = vdf_timer_start(d->loop, TICK_MS, TICK_MS, tick, d, &d->tick);
	if (rc)
		goto out_destroy;
	LOG(LOG_NOTICE, "ready: %u driver instance(s), control socket %s", d->att.n,
	    vdf_ctl_server_path(d->ctl));
	*out = d;
	return 0;

out_devs:
	vdf_discover_free(devs);
out_destroy:
	vdfd_destroy(d);
	return rc;
out_free:
	free(d);
	return rc;
}

void vdfd_destroy(struct vdfd *d)
{
	if (!d)
		return;
	vdf_timer_stop(d->tick);
	vdf_ctl_server_stop(d->ctl);
	while (d->att.n)
		detach(d, &d->att.items[d->att.n - 1]);
	vdf_devtree_destroy(d->tree);
	vdf_manifest_set_free(&d->manifests);
	vdf_event_loop_destroy(d->loop);
	free(d);
}
