// SPDX-License-Identifier: MIT
/*
 * --vdf DEV: a VDF block device (served by its driver under vdfd) as the
 * backend, through the client library (vdf/client.h).
 *
 * One client per ublk queue thread: each has its own rings, its own queue in
 * the driver and its own shared data area. The tag buffers are slices of
 * that data area (queue_buf), so the device DMAs straight into the memory
 * the ublk driver copies request data from and to: no copy in between.
 * Asynchronous: submit queues a request, the client's fd wakes the ublk loop
 * and queue_poll runs the client's callbacks, which report to the loop.
 *
 * A driver restart is the client's business: it reconnects and replays what
 * was in flight, so the ublk device only sees slow requests (queue_poll may
 * block while the client reconnects). If the device is gone for good,
 * queue_poll fails and the loop fails every request with -EIO.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "ublk_srv.h"
#include "vdf/client.h"
#include "vdf/log.h"

struct vdf_backend {
	char dev[64];
	char socket[108]; /* vdfd's control socket; "": the default */
	bool read_only;
	struct vdf_block_info info;
};

struct vdf_bqueue;

/* The callback argument of one tag's request. */
struct vdf_btag {
	struct vdf_bqueue *q;
	uint16_t tag;
};

struct vdf_bqueue {
	struct vdf_backend *b;
	struct vdf_client *c;
	uint8_t *data;
	uint32_t buf_size;
	vdf_ublk_done_fn done;
	void *done_arg;
	struct vdf_btag *tags;
};

static uint32_t pow2_at_least(uint32_t v)
{
	uint32_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

/* Client options for this backend's sessions. */
static struct vdf_client_opts vdf_opts(const struct vdf_backend *b)
{
	struct vdf_client_opts o = {.read_only = b->read_only};

	o.socket = b->socket[0] ? b->socket : NULL;
	return o;
}

int ublk_vdf_backend_create(const char *dev, const char *socket, bool read_only, void **ctx)
{
	struct vdf_client_opts opts;
	struct vdf_backend *b;
	struct vdf_client *c;
	int ret;

	*ctx = NULL;
	if (strlen(dev) >= sizeof(b->dev) || (socket && strlen(socket) >= sizeof(b->socket)))
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	snprintf(b->dev, sizeof(b->dev), "%s", dev);
	snprintf(b->socket, sizeof(b->socket), "%s", socket ? socket : "");
	b->read_only = read_only;
	opts = vdf_opts(b);
	/* A first session only to learn the geometry; each queue opens its own. */
	ret = vdf_client_open(dev, &opts, &c);
	if (ret) {
		free(b);
		return ret;
	}
	vdf_client_info(c, &b->info);
	vdf_client_close(c);
	if (read_only)
		b->info.read_only = true;
	*ctx = b;
	return 0;
}

static void vdf_destroy(void *ctx)
{
	free(ctx);
}

static void vdf_info(void *ctx, struct vdf_ublk_backend_info *info)
{
	struct vdf_backend *b = ctx;

	memset(info, 0, sizeof(*info));
	info->size = b->info.num_blocks * b->info.block_size;
	info->block_size = b->info.block_size;
	info->max_io = b->info.max_transfer;
	info->volatile_cache = b->info.volatile_cache;
	info->discard = b->info.supports_discard;
	info->write_zeroes = b->info.supports_write_zeroes;
	info->read_only = b->info.read_only;
}

static void vdf_queue_close(void *qctx)
{
	struct vdf_bqueue *q = qctx;

	if (!q)
		return;
	/* Waits for what is in flight; the callbacks still reach the loop. */
	vdf_client_close(q->c);
	free(q->tags);
	free(q);
}

static int vdf_queue_open(void *ctx, const struct vdf_ublk_queue_cfg *cfg, void **qctx)
{
	struct vdf_backend *b = ctx;
	struct vdf_client_opts opts = vdf_opts(b);
	struct vdf_block_info info;
	uint64_t need = (uint64_t)cfg->depth * cfg->buf_size;
	struct vdf_bqueue *q;
	size_t size;
	unsigned tag;
	int ret;

	*qctx = NULL;
	need = VDF_ALIGN_UP(need, (uint64_t)VDF_PAGE_SIZE);
	if (need > VDF_CLIENT_MAX_DATA_SIZE || cfg->depth > VDF_CLIENT_MAX_QUEUE_DEPTH) {
		vdf_log(LOG_ERR, UBLK_COMP, b->dev,
			"%u tags of %u KiB do not fit a data area: lower --depth or --max-io",
			cfg->depth, cfg->buf_size >> 10);
		return -E2BIG;
	}
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->b = b;
	q->buf_size = cfg->buf_size;
	q->done = cfg->done;
	q->done_arg = cfg->done_arg;
	q->tags = calloc(cfg->depth, sizeof(*q->tags));
	if (!q->tags) {
		ret = -ENOMEM;
		goto out_free;
	}
	for (tag = 0; tag < cfg->depth; tag++)
		q->tags[tag] = (struct vdf_btag){.q = q, .tag = (uint16_t)tag};

	opts.queue_depth = pow2_at_least(cfg->depth);
	opts.data_size = need;
	ret = vdf_client_open(b->dev, &opts, &q->c);
	if (ret) {
		vdf_log(LOG_ERR, UBLK_COMP, b->dev, "queue %u: client open: %s", cfg->q_id,
			strerror(-ret));
		goto out_free;
	}
	/* The geometry the device was created with must still hold. */
	vdf_client_info(q->c, &info);
	if (info.num_blocks != b->info.num_blocks || info.block_size != b->info.block_size) {
		ret = -ESTALE;
		goto out_close;
	}
	q->data = vdf_client_data(q->c, &size);
	if (!q->data || size < need) {
		ret = -ENOMEM;
		goto out_close;
	}
	*qctx = q;
	return 0;

out_close:
	vdf_client_close(q->c);
out_free:
	free(q->tags);
	free(q);
	return ret;
}

static void *vdf_queue_buf(void *qctx, uint16_t tag)
{
	struct vdf_bqueue *q = qctx;

	return q->data + (size_t)tag * q->buf_size;
}

static int vdf_queue_fd(void *qctx)
{
	return vdf_client_fd(((struct vdf_bqueue *)qctx)->c);
}

static int vdf_queue_poll(void *qctx)
{
	return vdf_client_poll(((struct vdf_bqueue *)qctx)->c);
}

static void vdf_on_done(void *arg, int status)
{
	struct vdf_btag *t = arg;

	t->q->done(t->q->done_arg, t->tag, status);
}

static int vdf_submit(void *qctx, const struct vdf_ublk_io *io)
{
	struct vdf_bqueue *q = qctx;
	uint32_t bs = q->b->info.block_size;
	struct vdf_client_req req = {
	    .lba = io->offset / bs,
	    .nblocks = io->len / bs,
	    .fua = io->fua,
	    .cb = vdf_on_done,
	    .cb_arg = &q->tags[io->tag],
	};

	switch (io->op) {
	case VDF_UBLK_READ:
		req.op = VDF_BLOCK_READ;
		req.buf = io->buf;
		req.fua = false;
		break;
	case VDF_UBLK_WRITE:
		req.op = VDF_BLOCK_WRITE;
		req.buf = io->buf;
		break;
	case VDF_UBLK_FLUSH:
		req.op = VDF_BLOCK_FLUSH;
		req.fua = false;
		break;
	case VDF_UBLK_DISCARD:
		req.op = VDF_BLOCK_DISCARD;
		break;
	case VDF_UBLK_WRITE_ZEROES:
		req.op = VDF_BLOCK_WRITE_ZEROES;
		break;
	default:
		return -EOPNOTSUPP;
	}
	/* 0, -EAGAIN (queue full: the loop retries) or the client's check. */
	return vdf_client_submit(q->c, &req);
}

const struct vdf_ublk_backend_ops ublk_vdf_backend_ops = {
    .name = "vdf",
    .info = vdf_info,
    .queue_open = vdf_queue_open,
    .queue_close = vdf_queue_close,
    .queue_buf = vdf_queue_buf,
    .queue_fd = vdf_queue_fd,
    .queue_poll = vdf_queue_poll,
    .submit = vdf_submit,
    .destroy = vdf_destroy,
};
