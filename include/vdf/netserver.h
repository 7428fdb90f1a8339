/* SPDX-License-Identifier: MIT */
/*
 * Net ring server: the driver side of the packet service. A net driver
 * serves its network device (struct vdf_net_dev) to a packet client that
 * vdfd brokered (vdf/serve.h: the `client` hook), over the four shared rings
 * and the frame area of vdf/netsession.h.
 *
 * One session at a time per device: a second client is refused with -EBUSY
 * until the first one has gone (a TAP bridge is the one consumer of a NIC).
 *
 * Per session, on the driver's event loop:
 *   setup    the HELLO is checked (geometry, sealed memfd of the stated size,
 *            ring headers matching it), the region is mapped MAP_SHARED, and
 *            the RX and TX frame ranges become two buffer pools laid over the
 *            client's memory and mapped for the device's DMA
 *            (vdf_net_pool_create_on). Promiscuous mode and the MAC address
 *            the HELLO asks for are programmed; WELCOME answers with the
 *            generation, MAC, MTU, largest frame and link.
 *   RX       with the driver's attach_rx_pool hook, the device's RX ring is
 *            fed from the client's RX pool: a fill descriptor puts that frame
 *            back into the pool, the device DMAs a received frame straight
 *            into it and rx_batch hands it to the server, which publishes
 *            (slot, len, checksum flags) on the rx ring (zero-copy). Without
 *            the hook, received frames are copied into fill frames the server
 *            holds. A frame that finds the rx ring full, or (copy mode) no
 *            fill frame, is dropped and counted.
 *   TX       tx descriptors are validated (a TX frame the client owns, length
 *            14..max_frame, no flags) and the frames handed to tx_batch in
 *            batches; the device reads them from client memory (zero-copy).
 *            Sent frames return to the TX pool; the server takes them out and
 *            publishes them on the completion ring. A frame tx_batch refuses
 *            is completed at once and counted.
 *   checks   every descriptor is copied out of the ring and checked before
 *            use: slot in range and of the ring's direction, length, flags,
 *            and ownership: the driver keeps the owner of every frame and
 *            refuses (counts, skips) a slot the client does not own at that
 *            moment, so a hostile client can never make a frame the device
 *            holds appear twice.
 *   doorbells  the server writes the client doorbell after publishing only
 *            when the client asked for a wakeup (need-wakeup), and sets its own
 *            need-wakeup flags before it waits on the driver doorbell. A 2 ms
 *            timer collects TX completions (the class has no TX-done callback)
 *            and retries a TX ring that was full.
 *   teardown on EOF, any message after HELLO, a corrupt ring or destroy: the
 *            device's RX ring goes back to the driver's own pool (client frames
 *            it held return to the client pool), frames queued for TX are
 *            waited for (polling, up to drain_timeout_ms), the pools are
 *            unmapped, the region unmapped, the socket closed last.
 *
 * Calling context: one thread, the one running loop (the device's loop).
 */
#ifndef VDF_NETSERVER_H
#define VDF_NETSERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "vdf/common.h"
#include "vdf/event.h"
#include "vdf/grant.h"
#include "vdf/net.h"

#define VDF_NET_SERVER_DEFAULT_HELLO_MS 10000u
#define VDF_NET_SERVER_DEFAULT_DRAIN_MS 3000u /* beyond the e1000's 2 s stuck-TX reset */

struct vdf_net_server;

struct vdf_net_server_opts {
	uint32_t generation;	   /* the driver's generation (grant) */
	uint32_t hello_timeout_ms; /* 0: 10 s */
	uint32_t drain_timeout_ms; /* teardown waits this long for queued TX; 0: 3 s */
	/*
	 * Driver hook (may be NULL: RX then copies): make the device's RX ring
	 * take its buffers from pool (a client RX pool), or from the driver's
	 * own pool again when pool is NULL. Buffers the ring held go back to the
	 * pool they came from. Returns 0 or a negative errno.
	 */
	int (*attach_rx_pool)(void *arg, struct vdf_net_pool *pool);
	void *arg;
};

struct vdf_net_server_stats {
	uint64_t sessions_accepted, sessions_refused, sessions_closed;
	uint64_t ring_errors; /* sessions ended by a corrupt ring */
	uint64_t rx_frames;   /* published on rx rings */
	uint64_t rx_bytes;
	uint64_t rx_ring_full; /* dropped: the client's rx ring was full */
	uint64_t rx_no_fill;   /* dropped: no fill frame (copy mode) */
	uint64_t rx_copied;    /* frames copied (copy mode or a foreign buffer) */
	uint64_t tx_frames;    /* queued on the device */
	uint64_t tx_bytes;
	uint64_t tx_refused;  /* refused by tx_batch, completed at once */
	uint64_t completions; /* published on completion rings */
	uint64_t fills;	      /* fill descriptors taken */
	uint64_t invalid;     /* descriptors refused: range, length, flags */
	uint64_t not_owned;   /* descriptors naming a frame the client did not own */
	uint64_t doorbells;   /* driver doorbells read */
	uint64_t kicks;	      /* client doorbells written */
	uint32_t sessions;    /* now: 0 or 1 */
	bool zero_copy;	      /* the current session's RX is zero-copy */
};

/*
 * Create a server for ndev, whose client memory is mapped for DMA on dev,
 * running on loop. opts may be NULL. ndev, dev and loop stay the caller's.
 * The server takes ndev's rx callback for its lifetime: without a session it
 * drops what arrives (recycling the buffers). Returns 0, -EINVAL, -ENOMEM.
 */
int vdf_net_server_create(struct vdf_net_dev *ndev, struct vdf_dev *dev,
			  struct vdf_event_loop *loop, const struct vdf_net_server_opts *opts,
			  struct vdf_net_server **out) VDF_MUST_CHECK;

/*
 * Take a brokered session (sock: the driver's end; owned by the server from
 * now on, also on failure). Returns 0, or -EINVAL, -EBUSY (a session is
 * up), -ENODEV (unit other than 0), -ENOMEM; a refusing WELCOME is sent if
 * possible.
 */
int vdf_net_server_add_client(struct vdf_net_server *srv, int sock,
			      const struct vdf_client_grant *cg) VDF_MUST_CHECK;

/* Heartbeat share: errors += invalid + not_owned + tx_refused. Accepts NULL. */
void vdf_net_server_stats(const struct vdf_net_server *srv, struct vdf_heartbeat *hb);
void vdf_net_server_get_stats(const struct vdf_net_server *srv, struct vdf_net_server_stats *st);

/* End the session (draining as above) and free the server. Accepts NULL. */
void vdf_net_server_destroy(struct vdf_net_server *srv);

#endif
