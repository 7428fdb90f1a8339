/* SPDX-License-Identifier: MIT */
/*
 * Block service client library (libvdf-client): use a VDF block device from
 * an application, zero-copy.
 *
 * vdf_client_open asks vdfd (control command "open") for a connection to the
 * driver serving a device. The client creates one sealed memfd holding a
 * submission ring, a completion ring (vdf/ring.h) and a data area, and hands
 * it with two eventfd doorbells to the driver (vdf/blksession.h). The driver
 * maps the data area into its device's IOMMU domain, so the device reads and
 * writes client buffers directly: request buffers must lie in the data area
 * (vdf_client_buf_alloc, or any range of vdf_client_data).
 *
 * Crash transparency. Every request carries the driver generation it was
 * submitted under. When the driver dies (the session socket closes), the
 * next vdf_client_poll / vdf_client_wait reconnects through vdfd -- which
 * answers once the restarted driver is serving, after the old one's device
 * was reset, so no stale DMA can reach the data area any more -- re-creates
 * the rings in the same memfd and replays every request that has no
 * completion, in submission order, with the new generation. Retries are
 * bounded (vdf/blkproto.h: VDF_BLK_RETRY_*); past the bounds a request fails
 * with -EIO. A completed request is never replayed, so a write the
 * application saw acknowledged is never lost or re-ordered behind an older
 * one. As for any block device, two overlapping writes in flight at the same
 * time may land in either order.
 *
 * Threads: a client is used by one thread at a time. Open one client per
 * thread (each gets its own rings and its own queue in the driver).
 */
#ifndef VDF_CLIENT_H
#define VDF_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vdf/block.h"
#include "vdf/common.h"

#define VDF_CLIENT_DEFAULT_QUEUE_DEPTH	128u
#define VDF_CLIENT_MAX_QUEUE_DEPTH	4096u
#define VDF_CLIENT_DEFAULT_DATA_SIZE	(8u << 20)
#define VDF_CLIENT_MAX_DATA_SIZE	(1ull << 30)
#define VDF_CLIENT_DEFAULT_RECONNECT_MS 30000u

struct vdf_client;

struct vdf_client_opts {
	const char *socket;	       /* vdfd control socket; NULL: vdf_ctl_socket_path() */
	bool read_only;		       /* open read-only (writes fail with -EROFS) */
	bool polled;		       /* busy-poll completions instead of sleeping */
	uint32_t queue_depth;	       /* requests in flight; 0: default; power of two */
	size_t data_size;	       /* bytes of shared data area; 0: default */
	uint32_t reconnect_timeout_ms; /* wait for a restarted driver; 0: default */
};

/* Completion callback: status 0 or a negative errno. Runs inside
 * vdf_client_poll / vdf_client_wait on the caller's thread. */
typedef void (*vdf_client_cb)(void *arg, int status);

struct vdf_client_req {
	enum vdf_block_op op;
	uint64_t lba;
	uint32_t nblocks; /* 0 for FLUSH */
	void *buf;	  /* READ/WRITE: inside the data area, nblocks * block_size bytes */
	bool fua;	  /* WRITE, WRITE_ZEROES, DISCARD: force unit access */
	vdf_client_cb cb;
	void *cb_arg;
};

struct vdf_client_stats {
	uint64_t submitted, completed, errors;
	uint64_t kicks;	     /* eventfd doorbells rung towards the driver */
	uint64_t reconnects; /* driver restarts survived */
	uint64_t replayed;   /* requests submitted again after a restart */
	uint32_t generation; /* driver generation now */
	uint32_t in_flight;
};

/*
 * Connect to the driver serving dev (a vdfd device name, e.g. "0000:00:04.0").
 * opts may be NULL (defaults). Returns 0, or: -ENOENT/-ECONNREFUSED (vdfd not
 * running), -EREMOTEIO (vdfd refused: unknown device, no driver, failed
 * driver, not a block device; the reason is logged), -EACCES, -EINVAL (bad
 * opts), -ENOMEM, or the driver's refusal of the session.
 */
int vdf_client_open(const char *dev, const struct vdf_client_opts *opts,
		    struct vdf_client **out) VDF_MUST_CHECK;
/* Wait for requests in flight (up to the reconnect timeout), then close.
 * Accepts NULL. Callbacks of requests still in flight run with -ECANCELED. */
void vdf_client_close(struct vdf_client *c);

/* Geometry and features of the device as the driver reported them. */
void vdf_client_info(const struct vdf_client *c, struct vdf_block_info *info);
void vdf_client_stats(const struct vdf_client *c, struct vdf_client_stats *st);

/* The whole shared data area: requests may use any range of it. */
void *vdf_client_data(struct vdf_client *c, size_t *size);
/* A buffer of len bytes (rounded up to the block size) in the data area,
 * block-aligned; -ENOMEM when the area is exhausted. */
int vdf_client_buf_alloc(struct vdf_client *c, size_t len, void **buf) VDF_MUST_CHECK;
void vdf_client_buf_free(struct vdf_client *c, void *buf);

/*
 * Queue n requests and ring the doorbell at most once (batching). Requests
 * are checked here first (-EINVAL op/size/alignment, -EFAULT buffer outside
 * the data area, -ERANGE past the end, -EROFS on a read-only open): a bad one
 * stops the batch. Returns how many were queued (fewer than n when the queue
 * depth is reached), or a negative errno if none was. Each queued request's
 * callback runs exactly once.
 */
int vdf_client_submit_batch(struct vdf_client *c, const struct vdf_client_req *reqs,
			    unsigned n) VDF_MUST_CHECK;
/* One request: 0, -EAGAIN when the queue is full, or the errors above. */
int vdf_client_submit(struct vdf_client *c, const struct vdf_client_req *req) VDF_MUST_CHECK;

/*
 * Run the callbacks of completed requests without blocking; reconnects and
 * replays when the driver has died. Returns the number completed, or a
 * negative errno when the device is gone for good (-ENODEV: vdfd says the
 * driver failed; in-flight requests then completed with -EIO).
 */
int vdf_client_poll(struct vdf_client *c);
/*
 * Wait up to timeout_ms (-1: forever) until at least one request completes
 * (sleeping on the doorbell, or spinning in polled mode), then poll.
 * Returns the number completed (0 on timeout or nothing in flight) or as
 * vdf_client_poll.
 */
int vdf_client_wait(struct vdf_client *c, int timeout_ms);
/*
 * An fd that becomes readable when vdf_client_poll has work (a completion or
 * a dead driver): for applications with their own epoll loop.
 */
int vdf_client_fd(const struct vdf_client *c);

/* Synchronous helpers: submit one request and wait for it. buf may be
 * anywhere; if it is not inside the data area it is bounced through it. */
int vdf_client_read(struct vdf_client *c, uint64_t lba, uint32_t nblocks, void *buf) VDF_MUST_CHECK;
int vdf_client_write(struct vdf_client *c, uint64_t lba, uint32_t nblocks, const void *buf,
		     bool fua) VDF_MUST_CHECK;
int vdf_client_flush(struct vdf_client *c) VDF_MUST_CHECK;
int vdf_client_discard(struct vdf_client *c, uint64_t lba, uint32_t nblocks) VDF_MUST_CHECK;
int vdf_client_write_zeroes(struct vdf_client *c, uint64_t lba, uint32_t nblocks) VDF_MUST_CHECK;

#endif
