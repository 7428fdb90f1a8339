/* SPDX-License-Identifier: MIT */
/*
 * Block ring server internals, shared by blk_server.c (server, session setup
 * and teardown) and blk_server_io.c (the request and completion path). See
 * include/vdf/blkserver.h for what the server does.
 *
 * Session life: HELLO (waiting for the client's HELLO) -> ACTIVE (serving)
 * -> DRAINING (no new requests; waiting for the device to finish those it
 * holds) -> freed, always from the server's work handler (or destroy), never
 * from inside a callback that may still use the session afterwards.
 *
 * Request accounting in a session:
 *   taken       descriptors copied off the submission ring whose completion
 *               is not yet in the completion ring: held (waiting for the rate
 *               limit) + in flight on the device. Never above max_in_flight,
 *               nor above the completion ring's free slots, so every
 *               completion finds a slot.
 *   in_flight   submitted to the device, callback not yet run.
 *   cq_pending  completions written into reserved slots, not yet committed.
 */
#ifndef VDF_LIB_CLASS_BLK_SERVER_INTERNAL_H
#define VDF_LIB_CLASS_BLK_SERVER_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "vdf/blkproto.h"
#include "vdf/blkserver.h"
#include "vdf/blksession.h"
#include "vdf/ratelimit.h"
#include "vdf/ring.h"

#define BLKSRV_COMPONENT "blk-server"
/* Descriptors copied off a ring at once (and held back by a rate limit). */
#define BLKSRV_BATCH 32u
/* Descriptors one drain pass handles before yielding to the loop (fairness
 * between sessions, and against a client that refills its ring endlessly). */
#define BLKSRV_DRAIN_BUDGET 256u

enum blk_sess_state {
	BLK_SESS_HELLO,
	BLK_SESS_ACTIVE,
	BLK_SESS_DRAINING,
};

struct blk_session;

/* One request on the device: the completion callback's argument. */
struct blk_io {
	struct blk_session *s;
	struct blk_io *next_free;
	uint64_t id;
	uint32_t generation;
	enum vdf_block_op op;
	uint64_t buf_offset;
	uint32_t buf_len;
};

struct blk_session {
	struct vdf_blk_server *srv; /* NULL once orphaned by destroy */
	struct blk_session *next;
	enum blk_sess_state state;
	bool dirty; /* the work handler should commit and drain */
	char name[64];
	uint64_t client_id;
	uint32_t uid;
	uint32_t unit;
	bool read_only_grant;
	struct vdf_block_dev *bdev;
	int sock, sq_kick, cq_kick;
	bool sock_watched, kick_watched;
	struct vdf_timer *hello_timer, *resume_timer;
	/* set up by HELLO */
	bool polled_client;
	void *region;
	size_t region_size;
	uint8_t *data;
	struct vdf_dma_buf *dma;
	struct vdf_ring sq, cq;
	struct vdf_blkproto_limits lim;
	uint32_t max_in_flight;
	struct blk_io *ios, *free_ios;
	/* rate limit */
	bool rl_on;
	struct vdf_ratelimit rl;
	struct vdf_blk_req_wire held[BLKSRV_BATCH];
	unsigned held_head, held_count;
	/* accounting (see the top of this file) */
	uint32_t taken, in_flight, cq_pending;
	struct vdf_blk_io_counters io;
};

struct vdf_blk_server {
	struct vdf_block_dev **bdevs;
	uint32_t *bdev_in_flight; /* per bdev: polled ones are polled while nonzero */
	unsigned n_bdevs;
	struct vdf_dev *dev;
	struct vdf_event_loop *loop;
	struct vdf_blk_server_opts opts;
	int work_fd; /* eventfd: deferred commits, drains, frees and polling */
	bool work_pending;
	struct blk_session *sessions;
	struct vdf_blk_server_stats st;
};

/* Count v in both the session and (unless orphaned) the server. */
#define BLKSRV_COUNT(s, field, v)                     \
	do {                                          \
		(s)->io.field += (v);                 \
		if ((s)->srv)                         \
			(s)->srv->st.io.field += (v); \
	} while (0)

/* blk_server.c */
void blksrv_kick_work(struct vdf_blk_server *srv);
/* Stop taking requests and start draining; the work handler frees it. */
void blksrv_session_close(struct blk_session *s, int level, const char *why);
/* Unmap, close and free a session the device holds no request of. */
void blksrv_session_free(struct blk_session *s);

/* blk_server_io.c */
/* Take what the submission ring holds (within limits), then commit. */
void blksrv_drain(struct blk_session *s);
/* Commit the completions written so far; kick the client if it sleeps. */
void blksrv_flush_cq(struct blk_session *s);
void blksrv_on_doorbell(int fd, uint32_t events, void *arg);

#endif
