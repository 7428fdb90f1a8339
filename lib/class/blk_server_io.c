// SPDX-License-Identifier: MIT
/*
 * Block ring server, the I/O path: submission ring -> validation -> rate
 * limit -> block device -> completion ring. See vdf/blkserver.h and
 * blk_server_internal.h for the accounting rules.
 *
 * Nothing here frees a session: a failing ring only moves it to DRAINING
 * (blksrv_session_close); the work handler in blk_server.c frees it once the
 * device holds none of its requests.
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "blk_server_internal.h"
#include "vdf/log.h"

#define NSEC_PER_MSEC 1000000ull

static void kick_cq(struct blk_session *s)
{
	uint64_t one = 1;

	/* Non-blocking (set at setup): a client that saturated its own eventfd
	 * gets no kick rather than a hung driver. */
	if (write(s->cq_kick, &one, sizeof(one)) == (ssize_t)sizeof(one))
		BLKSRV_COUNT(s, kicks, 1);
}

void blksrv_flush_cq(struct blk_session *s)
{
	if (!s->cq_pending || s->state != BLK_SESS_ACTIVE)
		return;
	if (vdf_ring_commit(&s->cq, s->cq_pending))
		kick_cq(s);
	s->cq_pending = 0;
}

static void ring_broken(struct blk_session *s, const char *ring)
{
	char why[96];

	if (s->srv)
		s->srv->st.ring_errors++;
	snprintf(why, sizeof(why), "the client corrupted its %s ring", ring);
	blksrv_session_close(s, LOG_ERR, why);
}

/* A completion status the client's decoder accepts (0 or -4095..-1). */
static int32_t wire_status(int status)
{
	return status > 0 || status < -4095 ? -EIO : status;
}

/*
 * Write one completion into a reserved slot (committed later, in a batch).
 * The slot was set aside when the request was taken; not finding one means
 * the client moved its consumer index backwards.
 */
static void cq_put(struct blk_session *s, uint64_t id, uint32_t generation, int status)
{
	struct vdf_blk_cpl cpl = {
	    .id = id, .generation = generation, .status = wire_status(status)};
	uint32_t idx;
	int n;

	s->taken--;
	n = vdf_ring_reserve(&s->cq, 1, &idx);
	if (n != 1) {
		ring_broken(s, "completion");
		return;
	}
	vdf_blkproto_encode_cpl(&cpl, vdf_ring_slot(&s->cq, idx));
	s->cq_pending++;
	BLKSRV_COUNT(s, completions, 1);
}

/* Complete a descriptor that will not reach the device. */
static void refuse(struct blk_session *s, const struct vdf_blk_req_wire *w, int err)
{
	uint64_t id = le64toh(w->id);

	VDF_LOG_RL(LOG_WARNING, BLKSRV_COMPONENT, s->name,
		   "request %" PRIu64 " (op %u, lba %" PRIu64 ", %" PRIu32 " blocks) refused: %s",
		   id, w->op, le64toh(w->lba), le32toh(w->nblocks), strerror(-err));
	cq_put(s, id, le32toh(w->generation), err);
}

static void io_put(struct blk_session *s, struct blk_io *io)
{
	io->next_free = s->free_ios;
	s->free_ios = io;
}

static void io_done(void *arg, int status)
{
	struct blk_io *io = arg;
	struct blk_session *s = io->s;
	struct vdf_blk_server *srv = s->srv;

	s->in_flight--;
	if (srv)
		srv->bdev_in_flight[s->unit]--;
	if (status) {
		BLKSRV_COUNT(s, dev_errors, 1);
		VDF_LOG_RL(LOG_WARNING, BLKSRV_COMPONENT, s->name,
			   "request %" PRIu64 ": %s of %" PRIu32 " bytes failed: %s", io->id,
			   vdf_block_op_name(io->op), io->buf_len, strerror(-status));
	} else {
		BLKSRV_COUNT(s, ios, 1);
		BLKSRV_COUNT(s, bytes, io->buf_len);
	}
	if (s->state == BLK_SESS_ACTIVE) {
		/* The device's writes into the data area before the completion
		 * that tells the client to look at them. */
		if (io->op == VDF_BLOCK_READ && !status)
			vdf_dma_sync_for_cpu(s->dma, io->buf_offset, io->buf_len);
		cq_put(s, io->id, io->generation, status);
	} else {
		s->taken--; /* nobody to tell */
	}
	io_put(s, io);
	if (!srv) {
		/* Orphaned by destroy: the device is done with the data area now. */
		if (!s->in_flight)
			blksrv_session_free(s);
		return;
	}
	s->dirty = true;
	blksrv_kick_work(srv);
}

static void on_resume_timer(struct vdf_timer *t, void *arg)
{
	struct blk_session *s = arg;

	vdf_timer_stop(t);
	s->resume_timer = NULL;
	blksrv_drain(s);
}

/* Pause the session's queue for wait_ns. Returns false if no timer could be
 * set (the caller must then not rely on it to resume). */
static bool pause_for(struct blk_session *s, uint64_t wait_ns)
{
	uint64_t ms = VDF_MAX((wait_ns + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC, 1ull);
	int rc;

	if (s->resume_timer)
		return true;
	rc = vdf_timer_start(s->srv->loop, ms, 0, on_resume_timer, s, &s->resume_timer);
	if (rc) {
		s->resume_timer = NULL;
		VDF_LOG_RL(LOG_ERR, BLKSRV_COMPONENT, s->name, "timer: %s", strerror(-rc));
		return false;
	}
	return true;
}

/*
 * Act on one descriptor (a private copy). Returns true when it is done with
 * (submitted, or completed with an error), false when the rate limit holds it
 * back: the caller keeps it, in order, for when the timer fires.
 */
static bool handle(struct blk_session *s, const struct vdf_blk_req_wire *w)
{
	struct vdf_blk_server *srv = s->srv;
	struct vdf_block_req br;
	struct vdf_blk_req req;
	struct blk_io *io;
	uint64_t wait_ns = 0;
	int rc;

	rc = vdf_blkproto_validate_req(w, &s->lim, &req);
	if (!rc && req.generation != srv->opts.generation)
		rc = -ESTALE;
	if (!rc && s->rl_on) {
		rc = vdf_ratelimit_admit(&s->rl, vdf_now_ns(), req.buf_len, &wait_ns);
		if (rc == -EAGAIN && pause_for(s, wait_ns)) {
			BLKSRV_COUNT(s, rl_waits, 1);
			return false;
		}
	}
	if (rc) {
		BLKSRV_COUNT(s, invalid, 1);
		refuse(s, w, rc);
		return true;
	}
	io = s->free_ios;
	if (!io) { /* cannot happen: taken <= max_in_flight == number of contexts */
		BLKSRV_COUNT(s, submit_errors, 1);
		refuse(s, w, -EBUSY);
		return true;
	}
	s->free_ios = io->next_free;
	*io = (struct blk_io){
	    .s = s,
	    .id = req.id,
	    .generation = req.generation,
	    .op = req.op,
	    .buf_offset = req.buf_offset,
	    .buf_len = req.buf_len,
	};
	br = (struct vdf_block_req){
	    .op = req.op,
	    .lba = req.lba,
	    .nblocks = req.nblocks,
	    .fua = req.fua,
	    .cb = io_done,
	    .cb_arg = io,
	};
	if (req.op == VDF_BLOCK_READ || req.op == VDF_BLOCK_WRITE) {
		br.buf = s->data + req.buf_offset;
		br.dma = s->dma;
	}
	/* Counted before submitting: a device may complete synchronously. */
	s->in_flight++;
	srv->bdev_in_flight[s->unit]++;
	rc = vdf_block_submit(s->bdev, &br);
	if (rc) {
		s->in_flight--;
		srv->bdev_in_flight[s->unit]--;
		io_put(s, io);
		BLKSRV_COUNT(s, submit_errors, 1);
		refuse(s, w, rc);
	} else if (s->bdev->polled) {
		blksrv_kick_work(srv); /* nothing else will poll it */
	}
	return true;
}

/* Work through the held descriptors; true when none is left. */
static bool drain_held(struct blk_session *s)
{
	while (s->held_count) {
		if (!handle(s, &s->held[s->held_head]))
			return false;
		s->held_head++;
		s->held_count--;
		if (s->state != BLK_SESS_ACTIVE)
			return false;
	}
	s->held_head = 0;
	return true;
}

/* Descriptors that may be taken now, or -EIO. */
static int room(struct blk_session *s)
{
	int free_slots = vdf_ring_free(&s->cq);
	int64_t r;

	if (free_slots < 0)
		return free_slots;
	r = VDF_MIN((int64_t)free_slots, (int64_t)s->max_in_flight) - (int64_t)s->taken;
	return r > 0 ? (int)VDF_MIN(r, (int64_t)BLKSRV_BATCH) : 0;
}

void blksrv_drain(struct blk_session *s)
{
	struct vdf_blk_req_wire batch[BLKSRV_BATCH];
	unsigned budget = BLKSRV_DRAIN_BUDGET;
	uint32_t first;
	int n, i;

	if (s->state != BLK_SESS_ACTIVE)
		return;
	/* Awake now: the client's commits need not kick us until we sleep again. */
	vdf_ring_finish_wait(&s->sq);
	while (s->state == BLK_SESS_ACTIVE) {
		if (s->resume_timer || !drain_held(s))
			break; /* the timer resumes */
		if (!budget) {
			/* Let the loop run the others; the work handler resumes. */
			s->dirty = true;
			blksrv_kick_work(s->srv);
			break;
		}
		n = room(s);
		if (n < 0) {
			ring_broken(s, "completion");
			break;
		}
		if (n == 0 && s->taken)
			break; /* their completions resume us */
		if (n == 0) {
			/*
			 * The completion ring is full of entries the client has
			 * not consumed yet. If nothing waits either, sleep as
			 * usual. If requests wait, the client has more out than
			 * its completion ring holds; nothing tells us when it
			 * consumes, so look again shortly.
			 */
			n = vdf_ring_prepare_wait(&s->sq);
			if (n < 0) {
				ring_broken(s, "submission");
			} else if (n > 0 && pause_for(s, NSEC_PER_MSEC)) {
				BLKSRV_COUNT(s, cq_full_waits, 1);
			}
			break;
		}
		n = vdf_ring_peek(&s->sq, (uint32_t)VDF_MIN((unsigned)n, budget), &first);
		if (n == 0) {
			/* Empty: ask for a doorbell before sleeping. If work raced
			 * in meanwhile, take it instead (the flag is clear again). */
			n = vdf_ring_prepare_wait(&s->sq);
			if (n == 0)
				break;
			if (n > 0)
				continue;
		}
		if (n < 0) {
			ring_broken(s, "submission");
			break;
		}
		/* Copy first: the client may rewrite slots at any time. */
		for (i = 0; i < n; i++)
			memcpy(&batch[i], vdf_ring_slot(&s->sq, first + (uint32_t)i),
			       sizeof(batch[i]));
		vdf_ring_release(&s->sq, (uint32_t)n);
		s->taken += (uint32_t)n;
		budget -= (unsigned)n;
		BLKSRV_COUNT(s, requests, (uint64_t)n);
		for (i = 0; i < n && s->state == BLK_SESS_ACTIVE; i++) {
			if (handle(s, &batch[i]))
				continue;
			/* Held back by the rate limit: keep it and the rest, in order. */
			s->held_head = 0;
			s->held_count = (unsigned)(n - i);
			memcpy(s->held, &batch[i], sizeof(batch[0]) * s->held_count);
			break;
		}
	}
	blksrv_flush_cq(s);
}

void blksrv_on_doorbell(int fd, uint32_t events, void *arg)
{
	struct blk_session *s = arg;
	uint64_t v;

	(void)events;
	/* Non-blocking; a failed read only means there was nothing to reset. */
	if (read(fd, &v, sizeof(v)) == (ssize_t)sizeof(v))
		BLKSRV_COUNT(s, doorbells, 1);
	blksrv_drain(s);
}
