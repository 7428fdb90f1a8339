// SPDX-License-Identifier: MIT
/*
 * Block client: the shared region, sessions with the driver, and recovery
 * after a driver restart (see vdf/client.h for the contract).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "client_internal.h"
#include "vdf/ctl.h"
#include "vdf/event.h"
#include "vdf/log.h"

#define CLIENT_WELCOME_TIMEOUT_MS 10000
#define CLIENT_RETRY_PAUSE_MS	  100

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* ---- the shared region ---------------------------------------------------- */

static int region_create(struct vdf_client *c)
{
	int rc;

	rc = vdf_blks_layout(c->depth, c->opts.data_size, &c->layout);
	if (rc)
		return rc;
	c->memfd = memfd_create("vdf-client", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (c->memfd < 0)
		return -errno;
	if (ftruncate(c->memfd, (off_t)c->layout.region_size) ||
	    fcntl(c->memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL))
		return -errno;
	c->region =
	    mmap(NULL, c->layout.region_size, PROT_READ | PROT_WRITE, MAP_SHARED, c->memfd, 0);
	if (c->region == MAP_FAILED) {
		c->region = NULL;
		return -errno;
	}
	c->data = c->region + c->layout.data_off;
	return 0;
}

/* Fresh, empty rings for a new session. */
static int rings_init(struct vdf_client *c)
{
	const struct vdf_blks_hello *l = &c->layout;
	int rc;

	rc = vdf_ring_init(c->region + l->sq_off, l->region_size - l->sq_off, l->sq_capacity,
			   sizeof(struct vdf_blk_req_wire), &c->sq);
	if (!rc)
		rc = vdf_ring_init(c->region + l->cq_off, l->region_size - l->cq_off,
				   l->cq_capacity, sizeof(struct vdf_blk_cpl_wire), &c->cq);
	return rc;
}

/* ---- sessions ------------------------------------------------------------- */

static int epoll_watch(struct vdf_client *c, int fd)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};

	return epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

static void session_close(struct vdf_client *c)
{
	if (c->sock < 0)
		return;
	(void)epoll_ctl(c->epfd, EPOLL_CTL_DEL, c->sock, NULL);
	close_fd(&c->sock);
}

/*
 * One attempt: ask vdfd for a session (it waits while the driver restarts),
 * send HELLO on fresh rings, take the WELCOME. Returns 0, or a negative errno
 * with the reason in err.
 */
static int session_open(struct vdf_client *c, char *err, size_t errlen)
{
	const int fds[VDF_BLKS_NFDS] = {
	    [VDF_BLKS_FD_MEM] = c->memfd,
	    [VDF_BLKS_FD_SQ_KICK] = c->sq_kick,
	    [VDF_BLKS_FD_CQ_KICK] = c->cq_kick,
	};
	struct vdf_blks_welcome w;
	uint32_t gen = 0;
	int sock = -1, rc;

	err[0] = '\0';
	rc = vdf_ctl_open(c->opts.socket, c->dev, c->opts.read_only, 0, &sock, &gen, err, errlen);
	if (rc)
		return rc;
	rc = rings_init(c);
	if (!rc)
		rc = vdf_blks_send_hello(sock, &c->layout, fds);
	if (!rc)
		rc = vdf_blks_recv_welcome(sock, &w, CLIENT_WELCOME_TIMEOUT_MS);
	if (rc) {
		snprintf(err, errlen, "session setup with the driver: %s", strerror(-rc));
		goto fail;
	}
	if (w.status) {
		rc = w.status;
		snprintf(err, errlen, "the driver refused the session: %s", strerror(-rc));
		goto fail;
	}
	rc = epoll_watch(c, sock);
	if (rc)
		goto fail;
	/* Drain a doorbell the previous session may have left. */
	{
		uint64_t v;

		(void)!read(c->cq_kick, &v, sizeof(v));
	}
	c->sock = sock;
	c->first_commit = true;
	c->generation = w.generation;
	vdf_blks_welcome_to_info(&w, &c->info);
	if (c->opts.read_only)
		c->info.read_only = true;
	return 0;
fail:
	close_fd(&sock);
	return rc;
}

/* Errors that say vdfd or the driver is not there yet, worth retrying. */
static bool open_error_transient(int rc)
{
	return rc == -ENOENT || rc == -ECONNREFUSED || rc == -ETIMEDOUT || rc == -EPIPE ||
	       rc == -ECONNRESET || rc == -EAGAIN;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ---- requests in the rings ------------------------------------------------ */

void client_ring_put(struct vdf_client *c, uint32_t slot)
{
	struct client_slot *s = &c->slots[slot];
	struct vdf_blk_req r = {
	    .id = (s->seq << CLIENT_ID_SLOT_BITS) | slot,
	    .generation = c->generation,
	    .op = s->req.op,
	    .fua = s->req.fua,
	    .lba = s->req.lba,
	    .nblocks = s->req.nblocks,
	    .buf_offset = s->buf_offset,
	    .buf_len = s->buf_len,
	};
	uint32_t idx;
	int n = vdf_ring_reserve(&c->sq, 1, &idx);

	/* In-ring requests never exceed the capacity and the sq is ours alone:
	 * the reservation cannot fail. */
	assert(n == 1);
	(void)n;
	vdf_blkproto_encode_req(&r, vdf_ring_slot(&c->sq, idx));
	s->in_ring = true;
}

void client_ring_commit(struct vdf_client *c, uint32_t n)
{
	uint64_t one = 1;
	bool first = c->first_commit;

	if (!n)
		return;
	c->first_commit = false;
	/* The first batch of a session always rings: the driver may not have
	 * armed its doorbell yet. */
	if (vdf_ring_commit(&c->sq, n) || first) {
		c->stats.kicks++;
		(void)!write(c->sq_kick, &one, sizeof(one));
	}
}

void client_complete(struct vdf_client *c, uint32_t slot, int status)
{
	struct client_slot *s = &c->slots[slot];
	struct vdf_client_req req = s->req;

	s->busy = false;
	s->in_ring = false;
	c->free_slots[c->n_free++] = slot;
	c->stats.in_flight--;
	c->stats.completed++;
	if (status)
		c->stats.errors++;
	if (req.cb)
		req.cb(req.cb_arg, status);
}

/* Busy slots in submission order (for replay). */
static int cmp_seq(const void *a, const void *b, void *arg)
{
	const struct vdf_client *c = arg;
	uint64_t x = c->slots[*(const uint32_t *)a].seq, y = c->slots[*(const uint32_t *)b].seq;

	return x < y ? -1 : x > y;
}

static void fail_all(struct vdf_client *c, int status)
{
	for (uint32_t i = 0; i < c->depth; i++)
		if (c->slots[i].busy)
			client_complete(c, i, status);
}

int client_recover(struct vdf_client *c, const char *why)
{
	uint32_t old_gen = c->generation, order[VDF_CLIENT_MAX_QUEUE_DEPTH], n = 0, put = 0;
	uint64_t deadline = vdf_now_ns() + (uint64_t)c->opts.reconnect_timeout_ms * 1000000u;
	char err[256];
	int rc;

	if (c->gone)
		return -ENODEV;
	vdf_log(LOG_WARNING, "client", c->dev, "session with the driver lost (%s): reconnecting",
		why);
	session_close(c);
	for (;;) {
		rc = session_open(c, err, sizeof(err));
		if (!rc)
			break;
		if (!open_error_transient(rc) || vdf_now_ns() >= deadline) {
			vdf_log(LOG_ERR, "client", c->dev, "cannot reconnect: %s",
				err[0] ? err : strerror(-rc));
			c->gone = true;
			fail_all(c, -EIO);
			return -ENODEV;
		}
		sleep_ms(CLIENT_RETRY_PAUSE_MS);
	}
	c->stats.reconnects++;
	c->stats.generation = c->generation;
	vdf_log(LOG_INFO, "client", c->dev, "reconnected: driver generation %u -> %u", old_gen,
		c->generation);

	/*
	 * Requests without a completion are replayed, in submission order. The
	 * old session can no longer touch the region: a driver that died was
	 * revoked and reset before vdfd answered the new open (new generation),
	 * and a driver that ended the session itself (it found our ring
	 * corrupt) closes the socket only after its last DMA into the data area
	 * completed.
	 */
	for (uint32_t i = 0; i < c->depth; i++)
		if (c->slots[i].busy)
			order[n++] = i;
	qsort_r(order, n, sizeof(order[0]), cmp_seq, c);
	for (uint32_t k = 0; k < n; k++) {
		struct client_slot *s = &c->slots[order[k]];

		if (s->in_ring) {
			s->in_ring = false;
			vdf_blk_retry_new_recovery(&s->retry);
			if (vdf_blk_retry_decide(&s->retry, -ENOTCONN, true) != VDF_BLK_RETRY) {
				client_complete(c, order[k], -EIO);
				continue;
			}
			c->stats.replayed++;
		}
		client_ring_put(c, order[k]);
		put++;
	}
	client_ring_commit(c, put);
	return 0;
}

/* ---- open / close --------------------------------------------------------- */

static int opts_check(struct vdf_client_opts *o)
{
	if (!o->queue_depth)
		o->queue_depth = VDF_CLIENT_DEFAULT_QUEUE_DEPTH;
	if (!o->data_size)
		o->data_size = VDF_CLIENT_DEFAULT_DATA_SIZE;
	if (!o->reconnect_timeout_ms)
		o->reconnect_timeout_ms = VDF_CLIENT_DEFAULT_RECONNECT_MS;
	if (o->queue_depth > VDF_CLIENT_MAX_QUEUE_DEPTH ||
	    (o->queue_depth & (o->queue_depth - 1)) || o->data_size > VDF_CLIENT_MAX_DATA_SIZE ||
	    o->data_size % VDF_BLKS_PAGE)
		return -EINVAL;
	return 0;
}

int vdf_client_open(const char *dev, const struct vdf_client_opts *opts, struct vdf_client **out)
{
	struct vdf_client *c;
	char err[256];
	int rc;

	if (!dev || !dev[0] || strlen(dev) >= sizeof(c->dev))
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->memfd = c->sq_kick = c->cq_kick = c->epfd = c->sock = -1;
	strcpy(c->dev, dev);
	if (opts)
		c->opts = *opts;
	rc = opts_check(&c->opts);
	if (rc)
		goto fail;
	c->depth = c->opts.queue_depth;
	c->slots = calloc(c->depth, sizeof(*c->slots));
	c->free_slots = calloc(c->depth, sizeof(*c->free_slots));
	if (!c->slots || !c->free_slots) {
		rc = -ENOMEM;
		goto fail;
	}
	for (uint32_t i = 0; i < c->depth; i++)
		c->free_slots[c->n_free++] = c->depth - 1 - i;
	rc = region_create(c);
	if (rc)
		goto fail;
	rc = client_buf_init(c);
	if (rc)
		goto fail;
	c->sq_kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	c->cq_kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	c->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (c->sq_kick < 0 || c->cq_kick < 0 || c->epfd < 0) {
		rc = -errno;
		goto fail;
	}
	rc = epoll_watch(c, c->cq_kick);
	if (rc)
		goto fail;
	rc = session_open(c, err, sizeof(err));
	if (rc) {
		vdf_log(LOG_ERR, "client", dev, "open: %s", err[0] ? err : strerror(-rc));
		goto fail;
	}
	c->stats.generation = c->generation;
	*out = c;
	return 0;
fail:
	vdf_client_close(c);
	return rc;
}

void vdf_client_close(struct vdf_client *c)
{
	uint64_t deadline;

	if (!c)
		return;
	deadline = vdf_now_ns() + (uint64_t)c->opts.reconnect_timeout_ms * 1000000u;
	while (c->stats.in_flight && !c->gone && vdf_now_ns() < deadline)
		if (vdf_client_wait(c, 100) < 0)
			break;
	fail_all(c, -ECANCELED);
	session_close(c);
	close_fd(&c->epfd);
	close_fd(&c->sq_kick);
	close_fd(&c->cq_kick);
	client_buf_fini(c);
	if (c->region)
		munmap(c->region, c->layout.region_size);
	close_fd(&c->memfd);
	free(c->slots);
	free(c->free_slots);
	free(c);
}

void vdf_client_info(const struct vdf_client *c, struct vdf_block_info *info)
{
	*info = c->info;
}

void vdf_client_stats(const struct vdf_client *c, struct vdf_client_stats *st)
{
	*st = c->stats;
}

void *vdf_client_data(struct vdf_client *c, size_t *size)
{
	if (size)
		*size = c->layout.data_size;
	return c->data;
}

int vdf_client_fd(const struct vdf_client *c)
{
	return c->epfd;
}
