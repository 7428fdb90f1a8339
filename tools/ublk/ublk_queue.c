// SPDX-License-Identifier: MIT
/*
 * One ublk hardware queue (Documentation/block/ublk.rst, "Data plane"): a
 * thread with its own io_uring, the queue's descriptor array mmapped
 * read-only from /dev/ublkcN, a buffer per tag, and a backend queue.
 *
 * Each tag cycles through
 *   IN_KERNEL   FETCH_REQ or COMMIT_AND_FETCH_REQ is pending: the driver owns
 *               the tag; its CQE (res 0) means a request is in the descriptor
 *   OWNED       the loop copied and checked the descriptor
 *   IN_BACKEND  submitted; the backend calls done() exactly once
 *   DEFERRED    the backend said -EAGAIN: submitted again after a completion
 *   TO_COMMIT   result known, no SQE was free: committed on the next pass
 * and back to IN_KERNEL with COMMIT_AND_FETCH_REQ, which carries the result
 * and fetches the next request for the tag in one command. A CQE with
 * UBLK_IO_RES_ABORT (or any error) ends a tag (DEAD): the driver does that
 * to every pending command when the device is stopped. The loop leaves when
 * every tag is dead, or when asked to stop and the backend holds nothing.
 *
 * user_data of a command CQE is ours (kind + tag), but a tag is checked
 * against the depth and its state before use all the same; the descriptor
 * is copied out of shared memory once and only the copy is checked and used
 * (vdf_ublk_check_desc). Its addr field is never used: the buffer is the one
 * this loop gave the driver for the tag.
 *
 * The ring holds depth + 2 SQEs: one command per tag at most, plus the two
 * polls (the stop eventfd and the backend's fd). The CQ is twice that, so it
 * cannot overflow.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <syslog.h>
#include <unistd.h>

#include "ublk_srv.h"
#include "vdf/log.h"

enum tag_state {
	TAG_IN_KERNEL,
	TAG_OWNED,
	TAG_IN_BACKEND,
	TAG_DEFERRED,
	TAG_TO_COMMIT,
	TAG_DEAD,
};

/* user_data: kind in bits 16..23, tag in bits 0..15. */
enum ud_kind {
	UD_CMD = 1,
	UD_STOP = 2,
	UD_BACKEND = 3,
};
#define UD_TAG_MASK 0xffffu

struct ublk_tag {
	uint8_t state;
	int32_t result;
	void *buf;
	struct vdf_ublk_io io;
};

struct ublk_queue {
	struct ublk_dev *dev;
	unsigned q_id;
	unsigned depth;
	char name[40]; /* "ublkN q<id>" */

	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool setup_done;
	int setup_ret;
	atomic_bool ended;
	int status;

	int stop_fd;
	struct io_uring ring;
	bool ring_ok;
	const struct ublksrv_io_desc *descs;
	size_t descs_len;
	uint8_t *own_bufs;
	size_t own_bufs_len;
	void *bq;
	int bq_fd;
	struct ublk_tag *tags;

	/* FIFO of DEFERRED tags. */
	uint16_t *defer;
	unsigned defer_head, defer_n;

	unsigned in_kernel, in_backend, nr_dead, nr_to_commit;
	bool stopping, backend_failed, backend_ready, backend_armed;
	struct ublk_queue_stats stats;
};

static uint64_t ud_make(enum ud_kind kind, uint16_t tag)
{
	return ((uint64_t)kind << 16) | tag;
}

static struct io_uring_sqe *queue_get_sqe(struct ublk_queue *q)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&q->ring);

	if (!sqe) {
		/* Not expected (the SQ has room for everything); make room. */
		(void)io_uring_submit(&q->ring);
		sqe = io_uring_get_sqe(&q->ring);
	}
	return sqe;
}

static void prep_io_cmd(struct ublk_queue *q, struct io_uring_sqe *sqe, uint32_t cmd_op,
			uint16_t tag, int32_t result)
{
	struct ublksrv_io_cmd cmd = {
	    .q_id = (uint16_t)q->q_id,
	    .tag = tag,
	    .result = result,
	    .addr = (uint64_t)(uintptr_t)q->tags[tag].buf,
	};

	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = q->dev->cdev_fd;
	sqe->cmd_op = cmd_op;
	sqe->user_data = ud_make(UD_CMD, tag);
	memcpy((uint8_t *)sqe + offsetof(struct io_uring_sqe, cmd), &cmd, sizeof(cmd));
}

/* Give a tag back to the driver with its result and fetch the next request. */
static void queue_commit(struct ublk_queue *q, uint16_t tag)
{
	struct ublk_tag *t = &q->tags[tag];
	struct io_uring_sqe *sqe = queue_get_sqe(q);

	if (!sqe) {
		if (t->state != TAG_TO_COMMIT)
			q->nr_to_commit++;
		t->state = TAG_TO_COMMIT;
		return;
	}
	if (t->state == TAG_TO_COMMIT)
		q->nr_to_commit--;
	prep_io_cmd(q, sqe, UBLK_U_IO_COMMIT_AND_FETCH_REQ, tag, t->result);
	t->state = TAG_IN_KERNEL;
	q->in_kernel++;
}

/* The request of an OWNED/IN_BACKEND/DEFERRED tag is over: commit it. */
static void queue_finish(struct ublk_queue *q, uint16_t tag, int status)
{
	struct ublk_tag *t = &q->tags[tag];

	t->result = vdf_ublk_io_result(&t->io, status);
	q->stats.ios++;
	if (status < 0) {
		q->stats.errors++;
		VDF_LOG_RL(LOG_WARNING, UBLK_COMP, q->name, "tag %u: %s %llu+%u: %s", tag,
			   vdf_ublk_op_name(t->io.op), (unsigned long long)t->io.offset, t->io.len,
			   strerror(-status));
	} else if (t->io.op == VDF_UBLK_READ) {
		q->stats.bytes_read += t->io.len;
	} else if (t->io.op == VDF_UBLK_WRITE) {
		q->stats.bytes_written += t->io.len;
	}
	queue_commit(q, tag);
}

/* Backend completion (vdf_ublk_done_fn); runs on this thread only. */
static void queue_done(void *arg, uint16_t tag, int status)
{
	struct ublk_queue *q = arg;

	if (tag >= q->depth || q->tags[tag].state != TAG_IN_BACKEND) {
		VDF_LOG_RL(LOG_ERR, UBLK_COMP, q->name,
			   "backend completed tag %u, which it does not hold: ignored", tag);
		return;
	}
	q->in_backend--;
	queue_finish(q, tag, status);
}

static void queue_defer(struct ublk_queue *q, uint16_t tag)
{
	q->tags[tag].state = TAG_DEFERRED;
	q->defer[(q->defer_head + q->defer_n) % q->depth] = tag;
	q->defer_n++;
}

/* Hand an OWNED tag's request to the backend. */
static void queue_submit(struct ublk_queue *q, uint16_t tag)
{
	struct ublk_tag *t = &q->tags[tag];
	int ret;

	if (q->backend_failed) {
		queue_finish(q, tag, -EIO);
		return;
	}
	t->state = TAG_IN_BACKEND;
	q->in_backend++;
	ret = q->dev->ops->submit(q->bq, &t->io);
	if (ret == 0)
		return; /* done() has run or will run */
	q->in_backend--;
	if (ret == -EAGAIN && q->in_backend > 0) {
		queue_defer(q, tag);
		return;
	}
	/* -EAGAIN with nothing in flight would wait for ever. */
	t->state = TAG_OWNED;
	queue_finish(q, tag, ret == -EAGAIN ? -EIO : ret);
}

/* A FETCH/COMMIT_AND_FETCH completed with a request for tag. */
static void queue_handle_request(struct ublk_queue *q, uint16_t tag)
{
	struct ublk_tag *t = &q->tags[tag];
	struct ublksrv_io_desc desc;
	int ret;

	/* One snapshot of the shared descriptor; only the copy is looked at. */
	memcpy(&desc, (const void *)&q->descs[tag], sizeof(desc));
	t->state = TAG_OWNED;
	ret = vdf_ublk_check_desc(&desc, &q->dev->binfo, q->dev->buf_size, &t->io);
	t->io.tag = tag;
	t->io.buf = t->buf;
	if (ret) {
		q->stats.rejected++;
		VDF_LOG_RL(LOG_WARNING, UBLK_COMP, q->name,
			   "tag %u: refused op_flags 0x%x start %llu sectors %u: %s", tag,
			   desc.op_flags, (unsigned long long)desc.start_sector, desc.nr_sectors,
			   strerror(-ret));
		queue_finish(q, tag, ret);
		return;
	}
	queue_submit(q, tag);
}

static void queue_handle_cmd_cqe(struct ublk_queue *q, uint16_t tag, int res)
{
	struct ublk_tag *t;

	if (tag >= q->depth || q->tags[tag].state != TAG_IN_KERNEL) {
		VDF_LOG_RL(LOG_ERR, UBLK_COMP, q->name,
			   "completion for tag %u not pending: ignored", tag);
		return;
	}
	t = &q->tags[tag];
	q->in_kernel--;
	if (res == UBLK_IO_RES_OK) {
		if (q->stopping) {
			/* Leaving: fail it rather than start backend work. */
			t->state = TAG_OWNED;
			memset(&t->io, 0, sizeof(t->io));
			queue_finish(q, tag, -EIO);
			return;
		}
		queue_handle_request(q, tag);
		return;
	}
	/* ABORT: the device is going away. Anything else (NEED_GET_DATA, which
	 * we never asked for, or an error) ends the tag as well. */
	if (res != UBLK_IO_RES_ABORT)
		VDF_LOG_RL(LOG_ERR, UBLK_COMP, q->name, "tag %u: command failed: %s", tag,
			   res < 0 ? strerror(-res) : "unexpected result");
	t->state = TAG_DEAD;
	q->nr_dead++;
}

static int queue_arm_poll(struct ublk_queue *q, int fd, enum ud_kind kind)
{
	struct io_uring_sqe *sqe = queue_get_sqe(q);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_poll_add(sqe, fd, POLLIN);
	sqe->user_data = ud_make(kind, 0);
	return 0;
}

/* The backend is gone: everything it holds and everything after fails. */
static void queue_backend_failed(struct ublk_queue *q, int err)
{
	unsigned tag;

	vdf_log(LOG_ERR, UBLK_COMP, q->name, "backend failed (%s): failing all I/O",
		strerror(-err));
	q->backend_failed = true;
	for (tag = 0; tag < q->depth; tag++) {
		uint8_t st = q->tags[tag].state;

		if (st == TAG_IN_BACKEND || st == TAG_DEFERRED) {
			if (st == TAG_IN_BACKEND)
				q->in_backend--;
			q->tags[tag].state = TAG_OWNED;
			queue_finish(q, (uint16_t)tag, -EIO);
		}
	}
	q->defer_n = 0;
}

/*
 * Deliver the backend's completions. Called when its fd fired and also after
 * every pass that left requests in the backend, before the loop sleeps: a
 * backend may arm its wakeup only inside queue_poll (the VDF client sets its
 * ring's need-wakeup flag there), so a request submitted after the last poll
 * would otherwise never wake us.
 */
static void queue_backend_poll(struct ublk_queue *q)
{
	int ret;

	q->backend_ready = false;
	if (q->backend_failed)
		return;
	ret = q->dev->ops->queue_poll(q->bq);
	if (ret < 0) {
		queue_backend_failed(q, ret);
		return;
	}
	if (!q->backend_armed) {
		if (queue_arm_poll(q, q->bq_fd, UD_BACKEND)) {
			queue_backend_failed(q, -EBUSY);
			return;
		}
		q->backend_armed = true;
	}
}

static void queue_retry_deferred(struct ublk_queue *q)
{
	unsigned n = q->defer_n;

	/* Each one goes back in the FIFO if the backend is still full. */
	while (n-- > 0 && q->defer_n > 0) {
		uint16_t tag = q->defer[q->defer_head];
		int ret;

		q->defer_head = (q->defer_head + 1) % q->depth;
		q->defer_n--;
		q->tags[tag].state = TAG_IN_BACKEND;
		q->in_backend++;
		ret = q->dev->ops->submit(q->bq, &q->tags[tag].io);
		if (ret == 0)
			continue;
		q->in_backend--;
		if (ret == -EAGAIN && q->in_backend > 0) {
			queue_defer(q, tag);
			break;
		}
		q->tags[tag].state = TAG_OWNED;
		queue_finish(q, tag, ret == -EAGAIN ? -EIO : ret);
	}
}

static void queue_retry_commits(struct ublk_queue *q)
{
	unsigned tag;

	for (tag = 0; tag < q->depth && q->nr_to_commit > 0; tag++)
		if (q->tags[tag].state == TAG_TO_COMMIT)
			queue_commit(q, (uint16_t)tag);
}

static bool queue_done_serving(const struct ublk_queue *q)
{
	if (q->nr_dead == q->depth)
		return true;
	return q->stopping && q->in_backend == 0 && q->defer_n == 0 && q->nr_to_commit == 0;
}

static int queue_loop(struct ublk_queue *q)
{
	while (!queue_done_serving(q)) {
		struct io_uring_cqe *cqe;
		unsigned head, seen = 0;
		int ret;

		ret = io_uring_submit_and_wait(&q->ring, 1);
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY) {
			vdf_log(LOG_ERR, UBLK_COMP, q->name, "io_uring_enter: %s", strerror(-ret));
			return ret;
		}
		io_uring_for_each_cqe(&q->ring, head, cqe)
		{
			uint64_t ud = cqe->user_data;

			seen++;
			switch ((enum ud_kind)(ud >> 16)) {
			case UD_CMD:
				queue_handle_cmd_cqe(q, (uint16_t)(ud & UD_TAG_MASK), cqe->res);
				break;
			case UD_STOP:
				q->stopping = true;
				break;
			case UD_BACKEND:
				q->backend_armed = false;
				q->backend_ready = true;
				break;
			default:
				VDF_LOG_RL(LOG_ERR, UBLK_COMP, q->name, "unknown completion 0x%llx",
					   (unsigned long long)ud);
				break;
			}
		}
		io_uring_cq_advance(&q->ring, seen);
		/* Completions may free room for deferred requests, which then
		 * need a poll of their own before we sleep. */
		if (q->bq_fd >= 0 && (q->backend_ready || q->in_backend))
			queue_backend_poll(q);
		if (q->defer_n)
			queue_retry_deferred(q);
		if (q->bq_fd >= 0 && q->in_backend)
			queue_backend_poll(q);
		if (q->nr_to_commit)
			queue_retry_commits(q);
	}
	/* Commits queued on the last pass still go to the driver. */
	(void)io_uring_submit(&q->ring);
	return 0;
}

static int queue_setup(struct ublk_queue *q)
{
	struct ublk_dev *d = q->dev;
	struct vdf_ublk_queue_cfg cfg = {
	    .q_id = q->q_id,
	    .depth = q->depth,
	    .buf_size = d->buf_size,
	    .done = queue_done,
	    .done_arg = q,
	};
	long page = sysconf(_SC_PAGESIZE);
	off_t off;
	unsigned tag;
	void *p;
	int ret;

	ret = io_uring_queue_init(q->depth + 2, &q->ring, 0);
	if (ret < 0) {
		vdf_log(LOG_ERR, UBLK_COMP, q->name, "io_uring: %s", strerror(-ret));
		return ret;
	}
	q->ring_ok = true;

	q->descs_len = UBLK_DESC_ARRAY_SIZE(q->depth, (size_t)page);
	off = (off_t)(UBLKSRV_CMD_BUF_OFFSET + q->q_id * UBLK_DESC_ARRAY_STRIDE((size_t)page));
	p = mmap(NULL, q->descs_len, PROT_READ, MAP_SHARED, d->cdev_fd, off);
	if (p == MAP_FAILED) {
		ret = -errno;
		vdf_log(LOG_ERR, UBLK_COMP, q->name, "mmap descriptors: %s", strerror(-ret));
		return ret;
	}
	q->descs = p;

	ret = d->ops->queue_open(d->bctx, &cfg, &q->bq);
	if (ret) {
		vdf_log(LOG_ERR, UBLK_COMP, q->name, "%s backend queue: %s", d->ops->name,
			strerror(-ret));
		return ret;
	}
	if (d->ops->queue_buf) {
		for (tag = 0; tag < q->depth; tag++) {
			q->tags[tag].buf = d->ops->queue_buf(q->bq, (uint16_t)tag);
			if (!q->tags[tag].buf)
				return -ENOMEM;
		}
	} else {
		/* Untouched pages cost nothing: depth * 512 KiB is only address space. */
		q->own_bufs_len = (size_t)q->depth * d->buf_size;
		p = mmap(NULL, q->own_bufs_len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED) {
			q->own_bufs_len = 0;
			return -ENOMEM;
		}
		q->own_bufs = p;
		for (tag = 0; tag < q->depth; tag++)
			q->tags[tag].buf = q->own_bufs + (size_t)tag * d->buf_size;
	}
	q->bq_fd = d->ops->queue_fd ? d->ops->queue_fd(q->bq) : -1;
	if (q->bq_fd >= 0 && !d->ops->queue_poll)
		return -EINVAL;

	ret = queue_arm_poll(q, q->stop_fd, UD_STOP);
	if (!ret && q->bq_fd >= 0) {
		ret = queue_arm_poll(q, q->bq_fd, UD_BACKEND);
		q->backend_armed = true;
	}
	if (ret)
		return ret;
	for (tag = 0; tag < q->depth; tag++) {
		struct io_uring_sqe *sqe = queue_get_sqe(q);

		if (!sqe)
			return -EBUSY;
		prep_io_cmd(q, sqe, UBLK_U_IO_FETCH_REQ, (uint16_t)tag, 0);
		q->tags[tag].state = TAG_IN_KERNEL;
		q->in_kernel++;
	}
	ret = io_uring_submit(&q->ring);
	if (ret < 0) {
		vdf_log(LOG_ERR, UBLK_COMP, q->name, "submitting FETCH_REQ: %s", strerror(-ret));
		return ret;
	}
	return 0;
}

static void queue_teardown(struct ublk_queue *q)
{
	/* The backend first: closing may still complete requests (into the ring). */
	if (q->bq)
		q->dev->ops->queue_close(q->bq);
	q->bq = NULL;
	if (q->own_bufs)
		munmap(q->own_bufs, q->own_bufs_len);
	q->own_bufs = NULL;
	if (q->descs)
		munmap((void *)q->descs, q->descs_len);
	q->descs = NULL;
	/* Closing the ring cancels the fetches still pending in the driver. */
	if (q->ring_ok)
		io_uring_queue_exit(&q->ring);
	q->ring_ok = false;
}

static void *queue_thread(void *arg)
{
	struct ublk_queue *q = arg;
	int ret;

	ret = queue_setup(q);
	pthread_mutex_lock(&q->lock);
	q->setup_ret = ret;
	q->setup_done = true;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
	if (ret == 0) {
		ret = queue_loop(q);
		vdf_log(LOG_DEBUG, UBLK_COMP, q->name, "%llu requests, %llu errors, %llu refused",
			(unsigned long long)q->stats.ios, (unsigned long long)q->stats.errors,
			(unsigned long long)q->stats.rejected);
	}
	queue_teardown(q);
	q->status = ret;
	atomic_store(&q->ended, true);
	if (q->setup_ret == 0) /* else ublk_queue_start reports it */
		(void)eventfd_write(q->dev->wake_fd, 1);
	return NULL;
}

static void queue_free(struct ublk_queue *q)
{
	if (q->stop_fd >= 0)
		close(q->stop_fd);
	pthread_cond_destroy(&q->cond);
	pthread_mutex_destroy(&q->lock);
	free(q->defer);
	free(q->tags);
	free(q);
}

int ublk_queue_start(struct ublk_dev *d, unsigned q_id, struct ublk_queue **out)
{
	struct ublk_queue *q;
	sigset_t all, old;
	int ret;

	*out = NULL;
	if (d->info.queue_depth == 0 || d->info.queue_depth > UBLK_MAX_QUEUE_DEPTH)
		return -EINVAL;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->dev = d;
	q->q_id = q_id;
	q->depth = d->info.queue_depth;
	q->bq_fd = -1;
	snprintf(q->name, sizeof(q->name), "%s q%u", d->name, q_id);
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cond, NULL);
	q->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	q->tags = calloc(q->depth, sizeof(*q->tags));
	q->defer = calloc(q->depth, sizeof(*q->defer));
	if (q->stop_fd < 0 || !q->tags || !q->defer) {
		ret = q->stop_fd < 0 ? -errno : -ENOMEM;
		goto out_free;
	}

	/* The thread handles no signals: SIGINT/SIGTERM are the main thread's. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	ret = -pthread_create(&q->thread, NULL, queue_thread, q);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret)
		goto out_free;

	pthread_mutex_lock(&q->lock);
	while (!q->setup_done)
		pthread_cond_wait(&q->cond, &q->lock);
	ret = q->setup_ret;
	pthread_mutex_unlock(&q->lock);
	if (ret) {
		pthread_join(q->thread, NULL);
		goto out_free;
	}
	*out = q;
	return 0;

out_free:
	queue_free(q);
	return ret;
}

void ublk_queue_request_stop(struct ublk_queue *q)
{
	if (q)
		(void)eventfd_write(q->stop_fd, 1);
}

bool ublk_queue_ended(const struct ublk_queue *q)
{
	return atomic_load(&q->ended);
}

int ublk_queue_join(struct ublk_queue *q, struct ublk_queue_stats *st)
{
	int ret;

	if (!q)
		return 0;
	pthread_join(q->thread, NULL);
	ret = q->status;
	if (st)
		*st = q->stats;
	queue_free(q);
	return ret;
}
