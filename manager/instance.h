/* SPDX-License-Identifier: MIT */
/*
 * A driver instance: one manifest driving one device, as a supervised process.
 *
 * Starting an instance opens the device's VFIO fds in a fresh container (its
 * own IOMMU domain), spawns the driver in its sandbox, and sends it the grant.
 * The manager keeps its own handle on the same device so that, whatever the
 * driver does, it can revoke: bus mastering off, device reset, then the fds
 * closed, which drops the driver's DMA mappings with the container.
 *
 * Everything runs on the daemon's event loop thread.
 */
#ifndef VDF_MANAGER_INSTANCE_H
#define VDF_MANAGER_INSTANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "device.h"
#include "manifest.h"
#include "spawn.h"
#include "supervisor.h"
#include "vdf/event.h"
#include "vdf/grant.h"
#include "vdf/hal.h"

struct vdf_devnode;

/* How long a CHECK may take before it fails with -ETIMEDOUT. */
#define VDF_INSTANCE_CHECK_TIMEOUT_MS 10000

/* Answer to a CHECK request (see vdf_instance_check): status 0 or -errno. */
typedef void (*vdf_check_cb)(void *arg, int status, uint64_t checksum, uint64_t lba,
			     uint32_t nblocks);

/* Opens (vdf_instance_open) waiting for the driver at once, at most. */
#define VDF_INSTANCE_MAX_OPENS 64
/* Room for the reason an open fails. */
#define VDF_INSTANCE_WHY_MAX 256

/*
 * How an open ends (see vdf_instance_open): status 0 with fd = the client's
 * end of its session (now the callee's) and generation = the driver's
 * generation that received the other end; or a negative errno with fd -1 and
 * why = a readable reason. Runs on the loop thread; the instance is still
 * valid during the call, but the callback must not destroy it.
 */
typedef void (*vdf_open_cb)(void *arg, int status, int fd, uint32_t generation, const char *why);
/* Is the open still wanted (its requester still there)? Checked before a
 * waiting open is brokered, and from the tick. */
typedef bool (*vdf_open_wanted_fn)(void *arg);

struct vdf_open_wait {
	struct vdf_client_grant cg;
	uint32_t min_generation; /* only a driver of this generation or newer may get it */
	uint64_t deadline_ns;
	unsigned timeout_ms;
	vdf_open_cb cb;
	vdf_open_wanted_fn wanted;
	void *arg;
	struct vdf_open_wait *next;
};

struct vdf_instance {
	unsigned id; /* chooses the driver's uid */
	struct vdf_pci_info pci;
	const struct vdf_manifest *m;
	struct vdf_devnode *node; /* its device in the tree (state, driver props) */
	struct vdf_event_loop *loop;
	struct vdf_supervisor sup;
	uint32_t generation;

	/* While a process exists: */
	struct vdf_spawned proc;
	bool alive;
	int sock;	      /* manager end of the grant socket */
	struct vdf_dev *mdev; /* the manager's handle on the device, for revocation */
	bool killed_as_hung;
	uint64_t stop_deadline_ns; /* STOPPING: SIGKILL after this */
	char logline[512];
	size_t loglen;

	/* Counters from the latest heartbeat, and totals over past generations. */
	struct vdf_heartbeat hb;
	uint64_t hb_count;
	struct vdf_heartbeat prev; /* counters summed over past generations */
	uint64_t last_start_ns, last_ready_ns;
	char last_error[160];

	/* A CHECK waiting for its answer. */
	vdf_check_cb check_cb;
	void *check_arg;
	uint64_t check_cookie;
	uint64_t check_lba, check_deadline_ns;
	uint32_t check_nblocks;

	/* Stopping in order to start again (control "restart"): the daemon's
	 * tick starts it once the old process is gone. Opens keep waiting. */
	bool restart_pending;
	/* Client opens waiting for the driver to serve, oldest first. */
	struct vdf_open_wait *opens;
	unsigned nopens;
	uint64_t clients_opened; /* sessions brokered to this instance, every generation */
};

int vdf_instance_create(struct vdf_event_loop *loop, unsigned id, const struct vdf_pci_info *pci,
			const struct vdf_manifest *m, struct vdf_devnode *node,
			struct vdf_instance **out) VDF_MUST_CHECK;
/* Kill (if needed), revoke and free. Accepts NULL. */
void vdf_instance_destroy(struct vdf_instance *in);

/* Start a process now (from STOPPED, BACKOFF or FAILED). */
int vdf_instance_start(struct vdf_instance *in) VDF_MUST_CHECK;
/* Ask the driver to stop (STOP message; SIGKILL if it does not exit in time). */
int vdf_instance_stop(struct vdf_instance *in) VDF_MUST_CHECK;
/* Periodic work: hang detection, stop deadlines, restarts after backoff. */
void vdf_instance_tick(struct vdf_instance *in, uint64_t now);

/* Ask the running driver to read nblocks at lba of its device and answer a
 * checksum (FNV-1a 64 of the bytes). cb runs exactly once: from the socket
 * handler, or with -ETIMEDOUT from the tick, or -ECONNRESET if the driver
 * goes away. One check at a time (-EBUSY). */
int vdf_instance_check(struct vdf_instance *in, uint64_t lba, uint32_t nblocks, vdf_check_cb cb,
		       void *arg) VDF_MUST_CHECK;

/*
 * Broker a block client session with the driver: a SOCK_SEQPACKET socketpair,
 * one end sent to the driver in a CLIENT message carrying *cg, the other end
 * for cb.
 *
 * When the driver is serving (running, and it sent the first heartbeat of its
 * generation), that happens at once and cb runs before this returns. While
 * the driver is starting, restarting after a crash (backoff, or spawned but
 * not ready yet), or stopping in order to restart, the open waits and cb runs
 * once the instance serves -- never before the process that was there when
 * the open arrived, if it was on its way out, is gone and its device was
 * revoked and reset. A waiting open fails with -ENODEV when the instance ends
 * up failed, stopped or destroyed, with -ETIMEDOUT after timeout_ms (checked
 * from vdf_instance_tick), with -ECANCELED when wanted (may be NULL) says it
 * is no longer wanted.
 *
 * Returns 0 when cb has run or will run exactly once; otherwise a negative
 * errno with a reason in err, and cb never runs: -ENODEV (stopped, stopping,
 * failed), -EBUSY (VDF_INSTANCE_MAX_OPENS waiting), -ENOMEM, or a socket
 * error.
 */
int vdf_instance_open(struct vdf_instance *in, const struct vdf_client_grant *cg,
		      unsigned timeout_ms, vdf_open_cb cb, vdf_open_wanted_fn wanted, void *arg,
		      char *err, size_t errlen) VDF_MUST_CHECK;

/* Counters (struct vdf_heartbeat minus seq/cookie) including past generations. */
void vdf_instance_totals(const struct vdf_instance *in, struct vdf_heartbeat *t);

#endif
