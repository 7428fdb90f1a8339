/* SPDX-License-Identifier: MIT */
/*
 * Block client internals shared by the files of lib/client (see vdf/client.h).
 *
 *   client.c      open/close, the shared region, sessions with the driver and
 *                 recovery after a driver restart
 *   client_io.c   submission, completion, waiting, synchronous helpers
 *   client_buf.c  the data-area allocator
 */
#ifndef VDF_CLIENT_INTERNAL_H
#define VDF_CLIENT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "vdf/blkproto.h"
#include "vdf/blksession.h"
#include "vdf/client.h"
#include "vdf/ring.h"

/* Wire ids: the slot number in the low bits, the submission sequence above. */
#define CLIENT_ID_SLOT_BITS 12u
static_assert((1u << CLIENT_ID_SLOT_BITS) >= VDF_CLIENT_MAX_QUEUE_DEPTH, "slot fits the id");

/* Polled mode: look at the session socket every this many empty polls. */
#define CLIENT_POLLED_SOCK_CHECK 256u

/* One request the application submitted and has not been told about yet. */
struct client_slot {
	bool busy;
	bool in_ring; /* submitted to the current session, no completion yet */
	uint64_t seq; /* submission order, for replay */
	struct vdf_client_req req;
	uint64_t buf_offset;
	uint32_t buf_len;
	struct vdf_blk_retry retry;
};

struct vdf_client {
	char dev[128];
	struct vdf_client_opts opts;

	/* shared region: rings + data area, in one sealed memfd */
	int memfd;
	uint8_t *region;
	struct vdf_blks_hello layout;
	uint8_t *data;
	int sq_kick; /* eventfd: we write, the driver waits */
	int cq_kick; /* eventfd: the driver writes, we wait */
	int epfd;    /* epoll over cq_kick and the session socket */

	/* the current session (sock < 0 between sessions) */
	int sock;
	struct vdf_ring sq, cq;
	uint32_t generation;
	bool first_commit; /* no batch committed in this session yet */
	struct vdf_block_info info;
	bool gone; /* the device is gone for good: everything fails */

	/* requests */
	uint32_t depth;
	struct client_slot *slots;
	uint32_t *free_slots; /* stack of free slot numbers */
	uint32_t n_free;
	uint64_t next_seq;
	unsigned empty_polls;

	/* data-area allocator: per page, 0 = free, else the run length at its start */
	uint32_t *buf_pages;
	uint32_t n_pages;

	struct vdf_client_stats stats;
};

/* client.c */
/* The session died (EOF, corrupt ring): reconnect and replay. Returns 0 or
 * -ENODEV when the device is gone for good (everything failed then). */
int client_recover(struct vdf_client *c, const char *why);
/* Push one slot's request into the current session's sq (not committed).
 * The ring has room: in-ring requests never exceed its capacity. */
void client_ring_put(struct vdf_client *c, uint32_t slot);
/* Commit n queued sq entries and ring the doorbell if the driver sleeps. */
void client_ring_commit(struct vdf_client *c, uint32_t n);
/* Complete a slot: free it and run its callback. */
void client_complete(struct vdf_client *c, uint32_t slot, int status);

/* client_buf.c */
int client_buf_init(struct vdf_client *c);
void client_buf_fini(struct vdf_client *c);
bool client_buf_inside(const struct vdf_client *c, const void *buf, size_t len);

#endif
