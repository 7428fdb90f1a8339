/* SPDX-License-Identifier: MIT */
/*
 * Block ring server: the driver side of the block service. A block driver
 * serves its block devices (struct vdf_block_dev) to clients that vdfd
 * brokered (vdf/serve.h: the `client` hook), each over its own pair of shared
 * rings (vdf/blksession.h, vdf/ring.h, vdf/blkproto.h).
 *
 * Per session, on the driver's event loop and never blocking it:
 *   setup     the client's HELLO is checked (geometry, sealed memfd of the
 *             stated size, ring headers matching the HELLO), the region is
 *             mapped MAP_SHARED and its data area mapped for the device's DMA
 *             (zero-copy); WELCOME answers with the geometry, or a negative
 *             status and the session is dropped.
 *   requests  on a submission doorbell (and after completions), descriptors
 *             are copied out of the submission ring, validated
 *             (vdf_blkproto_validate_req, then the generation: -ESTALE),
 *             admitted through the client's token buckets (a wait delays the
 *             queue in order, it never fails a request) and submitted with
 *             the buffer in the mapped data area. A refused request completes
 *             at once with its errno; the session keeps serving.
 *   completions  go into the completion ring in batches: one commit and at
 *             most one completion doorbell per batch (only when the client
 *             sleeps: need-wakeup). Before sleeping the server arms its own
 *             need-wakeup flag (vdf_ring_prepare_wait).
 *   teardown  on EOF, any message after HELLO, a corrupt ring or server
 *             destruction the session stops taking requests but keeps the data
 *             area mapped for DMA until every request the device holds has
 *             completed; then it unmaps and closes everything, last of all the
 *             socket (so the client's EOF means "no more DMA into the area").
 *
 * At most max_in_flight requests of a client are taken off its ring at once,
 * and never more than its completion ring has room for, so a completion always
 * finds a slot. A client that moves its indices or otherwise corrupts a ring
 * loses its session (logged); the driver carries on.
 *
 * Calling context: one thread, the one running loop (the block devices' loop).
 * Block devices must deliver completions on it (interrupts through the loop,
 * or polled devices, which the server polls while it has requests on them).
 */
#ifndef VDF_BLKSERVER_H
#define VDF_BLKSERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "vdf/block.h"
#include "vdf/common.h"
#include "vdf/event.h"
#include "vdf/grant.h"

#define VDF_BLK_SERVER_DEFAULT_MAX_CLIENTS 16u
#define VDF_BLK_SERVER_DEFAULT_HELLO_MS	   10000u
#define VDF_BLK_SERVER_DEFAULT_DRAIN_MS	   5000u

struct vdf_blk_server;

struct vdf_blk_server_opts {
	uint32_t generation;	   /* the driver's generation (grant); other ones get -ESTALE */
	unsigned max_clients;	   /* sessions at once, draining ones included; 0: 16 */
	uint32_t max_in_flight;	   /* per client; 0: its ring size (always capped by it) */
	uint64_t max_data_size;	   /* largest data area per client; 0: what the DMA window allows */
	uint32_t hello_timeout_ms; /* a session without HELLO by then is dropped; 0: 10 s */
	uint32_t drain_timeout_ms; /* destroy waits this long for requests in flight; 0: 5 s */
	/* Buffers block-aligned; false: 4-byte aligned, all that NVMe PRPs need. */
	bool block_align;
};

/* Request counters, kept per session and summed per server. */
struct vdf_blk_io_counters {
	uint64_t requests;	/* descriptors taken off submission rings */
	uint64_t completions;	/* completions produced (any status) */
	uint64_t ios;		/* completed by the device with status 0 */
	uint64_t bytes;		/* data moved by those (reads and writes) */
	uint64_t invalid;	/* refused by validation, generation (-ESTALE) or rate limit */
	uint64_t submit_errors; /* refused by the block device at submission */
	uint64_t dev_errors;	/* completed by the device with an error */
	uint64_t rl_waits;	/* times the rate limit held a client's queue back */
	uint64_t cq_full_waits; /* times its full completion ring did (client over its depth) */
	uint64_t doorbells;	/* submission doorbells read */
	uint64_t kicks;		/* completion doorbells written */
};

struct vdf_blk_server_stats {
	uint64_t sessions_accepted; /* WELCOME with status 0 sent */
	uint64_t sessions_refused;  /* refused at add_client or HELLO */
	uint64_t sessions_closed;   /* ended after being accepted */
	uint64_t ring_errors;	    /* sessions ended by a corrupt ring */
	uint32_t sessions;	    /* now, draining ones included */
	uint32_t draining;	    /* now: waiting for the device before unmapping */
	struct vdf_blk_io_counters io;
};

struct vdf_blk_session_info {
	uint64_t client_id;
	uint32_t uid;
	uint32_t unit;
	bool active; /* false: waiting for HELLO, or draining */
	bool draining;
	bool read_only;
	bool polled; /* the client busy-polls completions */
	uint32_t in_flight;
	uint32_t max_in_flight;
	uint64_t data_size;
	struct vdf_blk_io_counters io;
};

/*
 * Create a server for bdevs[0..n_bdevs) (client grant unit u picks bdevs[u]),
 * whose data areas are mapped for DMA on dev, running on loop. opts may be
 * NULL (defaults; generation 0). The bdevs array is copied; the devices, dev
 * and loop stay the caller's and must outlive the server.
 * Returns 0, -EINVAL (no bdevs, more than VDF_CLIENT_UNIT_MAX + 1, NULL
 * arguments), -ENOMEM, or the errno of eventfd / vdf_event_add_fd.
 */
int vdf_blk_server_create(struct vdf_block_dev **bdevs, unsigned n_bdevs, struct vdf_dev *dev,
			  struct vdf_event_loop *loop, const struct vdf_blk_server_opts *opts,
			  struct vdf_blk_server **out) VDF_MUST_CHECK;

/*
 * Take a brokered session: sock is the driver's end of the client's SEQPACKET
 * socket (ownership moves to the server, also on failure), cg the manager's
 * policy for it (read-only, unit, rate limits). The session is then set up on
 * the loop when the HELLO arrives. Returns 0, or -EINVAL (bad argument or
 * grant), -ENODEV (no such unit), -EBUSY (max_clients reached), -ENOMEM, or
 * the errno of registering the socket; on failure a refusing WELCOME is sent
 * if possible and sock is closed.
 */
int vdf_blk_server_add_client(struct vdf_blk_server *srv, int sock,
			      const struct vdf_client_grant *cg) VDF_MUST_CHECK;

/*
 * Add the server's share to a heartbeat: errors += requests refused before
 * any device saw them (invalid, stale, rate-limit refusals, submission
 * errors). Requests the devices executed are already in the block devices'
 * own stats (struct vdf_block_stats), which a driver reports anyway, so ios
 * and bytes are not added twice. Accepts NULL.
 */
void vdf_blk_server_stats(const struct vdf_blk_server *srv, struct vdf_heartbeat *hb);

/* All counters. */
void vdf_blk_server_get_stats(const struct vdf_blk_server *srv, struct vdf_blk_server_stats *st);

/* Fill up to max entries (newest session first); returns the number of sessions. */
unsigned vdf_blk_server_sessions(const struct vdf_blk_server *srv, struct vdf_blk_session_info *out,
				 unsigned max);

/*
 * End every session and free the server. Requests still on a device are
 * waited for (polling the devices and running loop) up to drain_timeout_ms;
 * a session whose requests outlive that is logged and left allocated and
 * mapped (the device may still write into its data area), to be freed when
 * its last completion arrives, e.g. from the controller shutdown that should
 * follow. Call before the devices are unbound. Accepts NULL.
 */
void vdf_blk_server_destroy(struct vdf_blk_server *srv);

#endif
