// SPDX-License-Identifier: MIT
/*
 * Block client I/O: submission, completion, waiting, synchronous helpers
 * (see vdf/client.h).
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client_internal.h"
#include "vdf/event.h"
#include "vdf/log.h"

/* The checks the driver will make, done here first so a bad request fails at
 * once with a clear errno instead of a round trip. */
static int req_check(const struct vdf_client *c, const struct vdf_client_req *r,
		     uint64_t *buf_offset, uint32_t *buf_len)
{
	const struct vdf_block_info *in = &c->info;
	bool data_op = r->op == VDF_BLOCK_READ || r->op == VDF_BLOCK_WRITE;

	*buf_offset = 0;
	*buf_len = 0;
	switch (r->op) {
	case VDF_BLOCK_READ:
	case VDF_BLOCK_WRITE:
		break;
	case VDF_BLOCK_FLUSH:
		return r->nblocks || r->buf || r->fua ? -EINVAL : 0;
	case VDF_BLOCK_DISCARD:
		if (!in->supports_discard)
			return -EOPNOTSUPP;
		break;
	case VDF_BLOCK_WRITE_ZEROES:
		if (!in->supports_write_zeroes)
			return -EOPNOTSUPP;
		break;
	default:
		return -EINVAL;
	}
	if (r->op != VDF_BLOCK_READ && in->read_only)
		return -EROFS;
	if (r->op == VDF_BLOCK_READ && r->fua)
		return -EINVAL;
	if (!r->nblocks)
		return -EINVAL;
	if (r->lba >= in->num_blocks || r->nblocks > in->num_blocks - r->lba)
		return -ERANGE;
	if (!data_op)
		return r->buf ? -EINVAL : 0;
	if ((uint64_t)r->nblocks * in->block_size > in->max_transfer)
		return -EMSGSIZE;
	*buf_len = r->nblocks * in->block_size;
	if (!client_buf_inside(c, r->buf, *buf_len))
		return -EFAULT;
	*buf_offset = (uint64_t)((const uint8_t *)r->buf - c->data);
	if (*buf_offset % VDF_BLKPROTO_MIN_ALIGN)
		return -EINVAL;
	return 0;
}

int vdf_client_submit_batch(struct vdf_client *c, const struct vdf_client_req *reqs, unsigned n)
{
	unsigned done = 0;
	uint32_t put = 0;
	int rc = 0;

	if (c->gone)
		return -ENODEV;
	for (; done < n; done++) {
		uint64_t off;
		uint32_t len, slot;
		struct client_slot *s;

		rc = req_check(c, &reqs[done], &off, &len);
		if (rc)
			break;
		if (!c->n_free) {
			rc = -EAGAIN;
			break;
		}
		slot = c->free_slots[--c->n_free];
		s = &c->slots[slot];
		*s = (struct client_slot){
		    .busy = true,
		    .seq = c->next_seq++,
		    .req = reqs[done],
		    .buf_offset = off,
		    .buf_len = len,
		};
		vdf_blk_retry_init(&s->retry, s->req.op);
		c->stats.submitted++;
		c->stats.in_flight++;
		if (c->sock >= 0) { /* else queued: it goes out after the reconnect */
			client_ring_put(c, slot);
			put++;
		}
	}
	client_ring_commit(c, put);
	return done ? (int)done : rc;
}

int vdf_client_submit(struct vdf_client *c, const struct vdf_client_req *req)
{
	int rc = vdf_client_submit_batch(c, req, 1);

	return rc == 1 ? 0 : rc;
}

/* Is the session still there? 0, or the reason it is not. */
static int session_check(struct vdf_client *c)
{
	char b;
	ssize_t n = recv(c->sock, &b, 1, MSG_DONTWAIT);

	if (n == 0)
		return -EPIPE; /* the driver is gone */
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	VDF_LOG_RL(LOG_WARNING, "client", c->dev, "unexpected message from the driver: ignored");
	return 0;
}

/* One completion from the ring; returns 1 if it finished a request, 0 if it
 * was retried or ignored. */
static int handle_cpl(struct vdf_client *c, const struct vdf_blk_cpl_wire *w)
{
	struct vdf_blk_cpl cpl;
	uint32_t slot;
	struct client_slot *s;

	if (vdf_blkproto_decode_cpl(w, &cpl))
		goto bogus;
	slot = (uint32_t)(cpl.id & ((1u << CLIENT_ID_SLOT_BITS) - 1));
	if (slot >= c->depth)
		goto bogus;
	s = &c->slots[slot];
	if (!s->busy || !s->in_ring || s->seq != cpl.id >> CLIENT_ID_SLOT_BITS ||
	    cpl.generation != c->generation)
		goto bogus;
	s->in_ring = false;
	switch (vdf_blk_retry_decide(&s->retry, cpl.status, false)) {
	case VDF_BLK_DONE:
	case VDF_BLK_FAIL:
		client_complete(c, slot, cpl.status);
		return 1;
	case VDF_BLK_RETRY:
		client_ring_put(c, slot);
		client_ring_commit(c, 1);
		return 0;
	}
	return 0;
bogus:
	/* A driver bug: nothing outstanding matches. Ignoring it is safe; the
	 * real completion, if any, still counts. */
	VDF_LOG_RL(LOG_WARNING, "client", c->dev,
		   "completion for no outstanding request (id %llu, generation %u): ignored",
		   (unsigned long long)cpl.id, cpl.generation);
	return 0;
}

/* Consume every completion in the ring. Returns the count finished or -EIO
 * (corrupt ring). */
static int drain_cq(struct vdf_client *c)
{
	int done = 0;

	for (;;) {
		uint32_t first;
		int n = vdf_ring_peek(&c->cq, 64, &first);

		if (n <= 0)
			return n < 0 ? n : done;
		for (int i = 0; i < n; i++) {
			struct vdf_blk_cpl_wire w;

			memcpy(&w, vdf_ring_slot(&c->cq, first + (uint32_t)i), sizeof(w));
			done += handle_cpl(c, &w);
		}
		vdf_ring_release(&c->cq, (uint32_t)n);
	}
}

/* Is the session lost? Polled clients look only every few empty polls. */
static bool session_lost(struct vdf_client *c, int done)
{
	if (c->opts.polled && (done || ++c->empty_polls % CLIENT_POLLED_SOCK_CHECK))
		return false;
	return session_check(c) != 0;
}

int vdf_client_poll(struct vdf_client *c)
{
	const char *lost = NULL;
	int done = 0, rc;

	if (c->gone)
		return -ENODEV;
	if (c->sock < 0)
		lost = "not connected";
	else if (!c->opts.polled) {
		uint64_t v;

		(void)!read(c->cq_kick, &v, sizeof(v));
	}
	for (;;) {
		if (lost) {
			/* Reconnect and replay, then go round again: the new
			 * completion ring must be drained and armed too. */
			rc = client_recover(c, lost);
			if (rc)
				return rc;
			lost = NULL;
		}
		rc = drain_cq(c);
		if (rc < 0) {
			lost = "corrupt completion ring";
			continue;
		}
		done += rc;
		if (!c->opts.polled) {
			/* Arm the doorbell before the caller sleeps; work that
			 * raced in is drained now. */
			rc = vdf_ring_prepare_wait(&c->cq);
			if (rc > 0)
				continue;
			if (rc < 0) {
				lost = "corrupt completion ring";
				continue;
			}
		}
		if (session_lost(c, done)) {
			lost = "the driver closed the session";
			continue;
		}
		return done;
	}
}

int vdf_client_wait(struct vdf_client *c, int timeout_ms)
{
	uint64_t deadline =
	    timeout_ms < 0 ? UINT64_MAX : vdf_now_ns() + (uint64_t)timeout_ms * 1000000u;

	for (;;) {
		int n = vdf_client_poll(c);

		if (n != 0 || !c->stats.in_flight)
			return n;
		if (c->opts.polled) {
			if (vdf_now_ns() >= deadline)
				return 0;
			continue;
		}
		{
			struct epoll_event ev[2];
			uint64_t now = vdf_now_ns();
			int ms = -1;

			if (deadline != UINT64_MAX) {
				if (now >= deadline)
					return 0;
				ms = (int)VDF_DIV_ROUND_UP(deadline - now, 1000000u);
			}
			if (epoll_wait(c->epfd, ev, 2, ms) < 0 && errno != EINTR)
				return -errno;
		}
	}
}

/* ---- synchronous helpers -------------------------------------------------- */

struct sync_done {
	bool done;
	int status;
};

static void sync_cb(void *arg, int status)
{
	struct sync_done *d = arg;

	d->done = true;
	d->status = status;
}

static int run_sync(struct vdf_client *c, const struct vdf_client_req *r)
{
	struct sync_done d = {0};
	struct vdf_client_req req = *r;
	int rc;

	req.cb = sync_cb;
	req.cb_arg = &d;
	while ((rc = vdf_client_submit(c, &req)) == -EAGAIN) /* queue full: make room */
		if ((rc = vdf_client_wait(c, -1)) < 0)
			return rc;
	if (rc)
		return rc;
	while (!d.done)
		if ((rc = vdf_client_wait(c, -1)) < 0 && !d.done)
			return rc;
	return d.status;
}

/* One read or write through the data area: directly when buf lies in it,
 * else through a bounce buffer. */
static int sync_rw_one(struct vdf_client *c, enum vdf_block_op op, uint64_t lba, uint32_t nblocks,
		       uint8_t *buf, bool fua)
{
	size_t len = (size_t)nblocks * c->info.block_size;
	struct vdf_client_req req = {
	    .op = op, .lba = lba, .nblocks = nblocks, .buf = buf, .fua = fua};
	void *bounce = NULL;
	int rc;

	if (!client_buf_inside(c, buf, len)) {
		rc = vdf_client_buf_alloc(c, len, &bounce);
		if (rc)
			return rc;
		if (op == VDF_BLOCK_WRITE)
			memcpy(bounce, buf, len);
		req.buf = bounce;
	}
	rc = run_sync(c, &req);
	if (bounce) {
		if (!rc && op == VDF_BLOCK_READ)
			memcpy(buf, bounce, len);
		vdf_client_buf_free(c, bounce);
	}
	return rc;
}

/* Any length: split into requests the driver takes (max_transfer) and that
 * fit a bounce buffer (a quarter of the data area). */
static int sync_rw(struct vdf_client *c, enum vdf_block_op op, uint64_t lba, uint32_t nblocks,
		   void *buf, bool fua)
{
	uint32_t bs = c->info.block_size;
	uint64_t chunk = VDF_MIN((uint64_t)c->info.max_transfer, c->layout.data_size / 4) / bs;
	uint8_t *p = buf;

	if (!nblocks)
		return -EINVAL;
	if (!chunk)
		chunk = 1;
	while (nblocks) {
		uint32_t n = (uint32_t)VDF_MIN((uint64_t)nblocks, chunk);
		int rc = sync_rw_one(c, op, lba, n, p, fua);

		if (rc)
			return rc;
		lba += n;
		nblocks -= n;
		p += (size_t)n * bs;
	}
	return 0;
}

int vdf_client_read(struct vdf_client *c, uint64_t lba, uint32_t nblocks, void *buf)
{
	return sync_rw(c, VDF_BLOCK_READ, lba, nblocks, buf, false);
}

int vdf_client_write(struct vdf_client *c, uint64_t lba, uint32_t nblocks, const void *buf,
		     bool fua)
{
	return sync_rw(c, VDF_BLOCK_WRITE, lba, nblocks, (void *)buf, fua);
}

int vdf_client_flush(struct vdf_client *c)
{
	struct vdf_client_req req = {.op = VDF_BLOCK_FLUSH};

	return run_sync(c, &req);
}

int vdf_client_discard(struct vdf_client *c, uint64_t lba, uint32_t nblocks)
{
	struct vdf_client_req req = {.op = VDF_BLOCK_DISCARD, .lba = lba, .nblocks = nblocks};

	return run_sync(c, &req);
}

int vdf_client_write_zeroes(struct vdf_client *c, uint64_t lba, uint32_t nblocks)
{
	struct vdf_client_req req = {.op = VDF_BLOCK_WRITE_ZEROES, .lba = lba, .nblocks = nblocks};

	return run_sync(c, &req);
}
