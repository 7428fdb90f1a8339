/* SPDX-License-Identifier: MIT */
/*
 * Serving under the device manager: after a driver is bound on a granted
 * device, vdf_driver_serve runs its event loop and speaks the grant socket's
 * runtime protocol (vdf/grant.h): a first HEARTBEAT saying "up", one every
 * heartbeat period with the driver's counters, answers to PING and CHECK, and
 * a return on STOP or when the manager goes away.
 */
#ifndef VDF_SERVE_H
#define VDF_SERVE_H

#include <stdint.h>

#include "vdf/driver.h"
#include "vdf/grant.h"

/* What the driver's class contributes. Every hook may be NULL. */
struct vdf_serve_hooks {
	/* Add the class's counters (rx/tx ios and bytes, errors, drops) to a heartbeat. */
	void (*stats)(void *arg, struct vdf_heartbeat *hb);
	/* CHECK: read nblocks at lba and return the FNV-1a checksum of the data
	 * (vdf_grant_checksum). NULL: CHECK is answered with -EOPNOTSUPP. */
	int (*check)(void *arg, uint64_t lba, uint32_t nblocks, uint64_t *checksum);
	/* CLIENT: a brokered block client session. The hook owns fd from now on
	 * (also when it fails: it closes it). NULL: the fd is closed and the
	 * refusal logged, so the client sees its session end at once. */
	int (*client)(void *arg, int fd, const struct vdf_client_grant *cg);
	void *arg;
};

/*
 * Serve until STOP (returns 0) or until the manager's socket closes or fails
 * (returns 0 after a close, else the error). sock is the grant socket; g the
 * grant received on it. The heartbeat's irqs count comes from ctx.
 */
int vdf_driver_serve(struct vdf_driver_ctx *ctx, int sock, const struct vdf_grant *g,
		     const struct vdf_serve_hooks *hooks) VDF_MUST_CHECK;

#endif
