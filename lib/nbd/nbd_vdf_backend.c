// SPDX-License-Identifier: MIT
/*
 * NBD backend on the VDF block service: an export served by a VDF block
 * driver through the client library (vdf/client.h), so it inherits the
 * client's crash transparency: a driver restart is a pause, not an error.
 *
 * The NBD server calls the backend from one thread per connection; a client
 * is used by one thread at a time, so calls are serialized by a mutex (the
 * server handles a connection's requests in order anyway).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "vdf/client.h"
#include "vdf/nbd.h"

struct vdf_backend {
	pthread_mutex_t lock;
	struct vdf_client *client;
	struct vdf_block_info info;
};

int vdf_nbd_vdf_backend_create(const char *dev, const char *socket, bool read_only, void **ctx_out)
{
	struct vdf_client_opts o = {.socket = socket, .read_only = read_only};
	struct vdf_backend *b = calloc(1, sizeof(*b));
	int rc;

	if (!b)
		return -ENOMEM;
	rc = vdf_client_open(dev, &o, &b->client);
	if (rc) {
		free(b);
		return rc;
	}
	vdf_client_info(b->client, &b->info);
	pthread_mutex_init(&b->lock, NULL);
	*ctx_out = b;
	return 0;
}

void vdf_nbd_vdf_backend_destroy(void *ctx)
{
	struct vdf_backend *b = ctx;

	if (!b)
		return;
	vdf_client_close(b->client);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

static uint64_t vb_size(void *ctx)
{
	struct vdf_backend *b = ctx;

	return b->info.num_blocks * b->info.block_size;
}

static uint32_t vb_block_size(void *ctx)
{
	return ((struct vdf_backend *)ctx)->info.block_size;
}

/* Byte range → blocks; the server has checked alignment to block_size. */
static int vb_blocks(const struct vdf_backend *b, uint64_t off, uint32_t len, uint64_t *lba,
		     uint32_t *n)
{
	uint32_t bs = b->info.block_size;

	if (off % bs || len % bs)
		return -EINVAL;
	*lba = off / bs;
	*n = len / bs;
	return 0;
}

enum vb_op { VB_READ, VB_WRITE, VB_WRITE_FUA, VB_TRIM, VB_ZEROES };

static int vb_do(void *ctx, enum vb_op op, uint64_t off, uint32_t len, void *buf)
{
	struct vdf_backend *b = ctx;
	uint64_t lba;
	uint32_t n;
	int rc = vb_blocks(b, off, len, &lba, &n);

	if (rc || !n)
		return rc;
	pthread_mutex_lock(&b->lock);
	switch (op) {
	case VB_READ:
		rc = vdf_client_read(b->client, lba, n, buf);
		break;
	case VB_WRITE:
	case VB_WRITE_FUA:
		rc = vdf_client_write(b->client, lba, n, buf, op == VB_WRITE_FUA);
		break;
	case VB_TRIM:
		rc = vdf_client_discard(b->client, lba, n);
		break;
	case VB_ZEROES:
		rc = vdf_client_write_zeroes(b->client, lba, n);
		break;
	}
	pthread_mutex_unlock(&b->lock);
	return rc;
}

static int vb_read(void *ctx, uint64_t off, uint32_t len, void *buf)
{
	return vb_do(ctx, VB_READ, off, len, buf);
}

static int vb_write(void *ctx, uint64_t off, uint32_t len, const void *buf, bool fua)
{
	return vb_do(ctx, fua ? VB_WRITE_FUA : VB_WRITE, off, len, (void *)buf);
}

static int vb_flush(void *ctx)
{
	struct vdf_backend *b = ctx;
	int rc;

	pthread_mutex_lock(&b->lock);
	rc = vdf_client_flush(b->client);
	pthread_mutex_unlock(&b->lock);
	return rc;
}

static int vb_trim(void *ctx, uint64_t off, uint32_t len)
{
	struct vdf_backend *b = ctx;

	return b->info.supports_discard ? vb_do(ctx, VB_TRIM, off, len, NULL) : 0;
}

/* Write zeroes on NVMe leaves the blocks allocated unless deallocation is
 * asked for, so NO_HOLE (may_trim false) is honoured either way. */
static int vb_write_zeroes(void *ctx, uint64_t off, uint32_t len, bool may_trim)
{
	struct vdf_backend *b = ctx;

	(void)may_trim;
	if (!b->info.supports_write_zeroes)
		return -EOPNOTSUPP; /* the server falls back to writing zeroes */
	return vb_do(ctx, VB_ZEROES, off, len, NULL);
}

const struct vdf_nbd_backend_ops vdf_nbd_vdf_backend_ops = {
    .size = vb_size,
    .block_size = vb_block_size,
    .read = vb_read,
    .write = vb_write,
    .flush = vb_flush,
    .trim = vb_trim,
    .write_zeroes = vb_write_zeroes,
};
