/* SPDX-License-Identifier: MIT */
/*
 * vdf-ublk internals: the ublk control plane (ublk_ctrl.c), the per-queue I/O
 * threads (ublk_queue.c) and the device life cycle built from them
 * (ublk_dev.c). These need io_uring (liburing), which is why they live with
 * the tool rather than in libvdf; the io_uring-free pieces (backend
 * interface, descriptor checks, parameters, memory/file backends) are in
 * vdf/ublk.h.
 *
 * Threads: the control plane and the life cycle run on the main thread; each
 * queue runs on its own thread, which is the only one touching that queue's
 * ring, descriptors, buffers and backend queue (the driver also insists that
 * one task issues every command of a queue).
 */
#ifndef VDF_TOOLS_UBLK_SRV_H
#define VDF_TOOLS_UBLK_SRV_H

#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>

#include "vdf/ublk.h"

#define UBLK_COMP "ublk"

/* A long control command gives up (is cancelled) when this says so. */
typedef bool (*ublk_abort_fn)(void *arg);

/* --- Control plane (ublk_ctrl.c) ----------------------------------------- */

/* /dev/ublk-control and the SQE128 ring its commands travel on. */
struct ublk_ctrl {
	int fd;
	struct io_uring ring;
	bool ring_ok;
	bool broken; /* a command never came back: the ring is unusable */
	uint64_t seq;
};

/* Open /dev/ublk-control: -ENOENT when ublk_drv is not loaded. */
int ublk_ctrl_open(struct ublk_ctrl *c) VDF_MUST_CHECK;
void ublk_ctrl_close(struct ublk_ctrl *c);
const char *ublk_ctrl_cmd_name(uint32_t cmd_op);

/*
 * The commands. Each returns 0 or the driver's negative errno; the ones that
 * may wait long take an abort check (NULL: none) polled every 100 ms, and
 * every one has a timeout, after which (or on abort) it is cancelled and
 * -ETIMEDOUT (-ECANCELED) returned.
 *   add_dev       info in: nr_hw_queues, queue_depth, max_io_buf_bytes,
 *                 dev_id (UBLK_DEV_ID_AUTO), flags; out: what the driver
 *                 granted (dev_id, clamped queues, page-rounded buffer size).
 *   start_dev     waits in the driver until every queue fetched every tag,
 *                 then adds /dev/ublkbN (which already reads from the queues).
 *   stop_dev      removes /dev/ublkbN; in-flight I/O is served first, then the
 *                 driver ends every queue command with UBLK_IO_RES_ABORT.
 *   del_dev       removes /dev/ublkcN; waits until it is closed everywhere.
 *   start_recovery  after the old server died: -EBUSY until the driver has
 *                 quiesced the device and the old /dev/ublkcN is released.
 *   end_recovery  waits until every queue fetched every tag, then the device
 *                 is live again and requeued I/O is reissued.
 */
int ublk_ctrl_add_dev(struct ublk_ctrl *c, struct ublksrv_ctrl_dev_info *info) VDF_MUST_CHECK;
int ublk_ctrl_del_dev(struct ublk_ctrl *c, uint32_t dev_id) VDF_MUST_CHECK;
int ublk_ctrl_get_info(struct ublk_ctrl *c, uint32_t dev_id,
		       struct ublksrv_ctrl_dev_info *info) VDF_MUST_CHECK;
int ublk_ctrl_set_params(struct ublk_ctrl *c, uint32_t dev_id,
			 const struct ublk_params *p) VDF_MUST_CHECK;
/* p->len says how much to read (UBLK_PARAMS_LEN_BASIC_DISCARD). */
int ublk_ctrl_get_params(struct ublk_ctrl *c, uint32_t dev_id,
			 struct ublk_params *p) VDF_MUST_CHECK;
int ublk_ctrl_start_dev(struct ublk_ctrl *c, uint32_t dev_id, int pid, ublk_abort_fn abort,
			void *arg) VDF_MUST_CHECK;
int ublk_ctrl_stop_dev(struct ublk_ctrl *c, uint32_t dev_id) VDF_MUST_CHECK;
int ublk_ctrl_start_recovery(struct ublk_ctrl *c, uint32_t dev_id) VDF_MUST_CHECK;
int ublk_ctrl_end_recovery(struct ublk_ctrl *c, uint32_t dev_id, int pid, ublk_abort_fn abort,
			   void *arg) VDF_MUST_CHECK;

/* --- The VDF block service backend (backend_vdf.c) ---------------------- */

/* dev: a vdfd device name ("0000:00:04.0"); socket: vdfd's control socket
 * (NULL: the default). Opens one client to learn the geometry
 * (vdf_client_open's errors: vdfd not running, unknown device...); each
 * queue opens its own client on its thread. */
int ublk_vdf_backend_create(const char *dev, const char *socket, bool read_only,
			    void **ctx) VDF_MUST_CHECK;
extern const struct vdf_ublk_backend_ops ublk_vdf_backend_ops;

/* --- Device and queues (ublk_dev.c, ublk_queue.c) ------------------------ */

struct ublk_queue;

struct ublk_dev {
	uint32_t id;
	char name[24];			   /* "ublkN", for logs */
	int cdev_fd;			   /* /dev/ublkcN, shared by the queue threads */
	struct ublksrv_ctrl_dev_info info; /* as the driver granted it */
	const struct vdf_ublk_backend_ops *ops;
	void *bctx;
	struct vdf_ublk_backend_info binfo;
	uint32_t buf_size; /* per-tag buffer = largest request */
	int wake_fd;	   /* eventfd the main thread sleeps on */
	struct ublk_queue **queues;
	unsigned nr_queues;
	bool added, started;
};

struct ublk_dev_opts {
	int id;		    /* -1: the driver picks */
	unsigned nr_queues; /* 1.. */
	unsigned depth;	    /* 1..UBLK_MAX_QUEUE_DEPTH */
	uint32_t max_io;    /* bytes per request; 0: default */
};

/*
 * Create a device serving the backend: ADD_DEV (with USER_RECOVERY and
 * USER_RECOVERY_REISSUE), SET_PARAMS, the queue threads (each fetches all
 * of its tags), START_DEV. wake_fd is written when a queue thread ends. On
 * failure everything is undone (the device deleted) and d is empty.
 */
int ublk_dev_add(struct ublk_dev *d, struct ublk_ctrl *c, const struct vdf_ublk_backend_ops *ops,
		 void *bctx, const struct ublk_dev_opts *o, int wake_fd, ublk_abort_fn abort,
		 void *arg) VDF_MUST_CHECK;
/*
 * Take over device id whose server died: check that the backend matches the
 * device (size, block size), START_USER_RECOVERY (retried while the driver
 * says -EBUSY, up to 30 s), the queue threads, END_USER_RECOVERY. Queues,
 * depth and buffer size come from the device.
 */
int ublk_dev_recover(struct ublk_dev *d, struct ublk_ctrl *c, uint32_t id,
		     const struct vdf_ublk_backend_ops *ops, void *bctx, int wake_fd,
		     ublk_abort_fn abort, void *arg) VDF_MUST_CHECK;
/* STOP_DEV, end and join the queue threads, close /dev/ublkcN, DEL_DEV.
 * Returns the first error (the rest is still done). */
int ublk_dev_remove(struct ublk_dev *d, struct ublk_ctrl *c);
/* Has a queue thread ended (its device was stopped or it failed)? */
bool ublk_dev_queue_ended(const struct ublk_dev *d);

struct ublk_queue_stats {
	uint64_t ios, errors, rejected;
	uint64_t bytes_read, bytes_written;
};

/*
 * Start the thread for queue q_id of d: its ring, the descriptor array
 * mmapped from d->cdev_fd, the backend queue, the tag buffers, and FETCH_REQ
 * for every tag. Returns once all that is submitted (0) or failed.
 */
int ublk_queue_start(struct ublk_dev *d, unsigned q_id, struct ublk_queue **out) VDF_MUST_CHECK;
/* Ask the thread to leave once the backend holds no request (its remaining
 * fetches are cancelled when its ring closes). */
void ublk_queue_request_stop(struct ublk_queue *q);
bool ublk_queue_ended(const struct ublk_queue *q);
/* Join the thread and free the queue (accepts NULL); the thread's status. */
int ublk_queue_join(struct ublk_queue *q, struct ublk_queue_stats *st);

#endif
