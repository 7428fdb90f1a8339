// SPDX-License-Identifier: MIT
/*
 * NBD export server: one blocking loop per connection (handshake, then
 * transmission), one thread per connection, an accept loop in the caller's
 * thread. Blocking per-connection loops keep the protocol logic a straight
 * line that is easy to audit and to fuzz (vdf_nbd_serve_conn runs over any
 * byte stream); requests of one connection are served in order, which the
 * protocol allows (replies may come in any order, so in order is fine).
 *
 * Memory per connection is bounded: one option buffer (VDF_NBD_MAX_OPT_LEN)
 * during the handshake and one data buffer grown up to VDF_NBD_MAX_PAYLOAD
 * plus a reply header during transmission.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "vdf/log.h"
#include "vdf/nbd.h"

#define COMP "nbd"

/* ---- Backends ----------------------------------------------------------- */

struct mem_backend {
	uint8_t *data;
	uint64_t size;
};

int vdf_nbd_mem_backend_create(uint64_t size, void **ctx_out)
{
	struct mem_backend *m;

	*ctx_out = NULL;
	if (size == 0 || size > SIZE_MAX / 2)
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	/* Anonymous mapping: untouched pages cost nothing and read as zeroes. */
	m->data = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m->data == MAP_FAILED) {
		free(m);
		return -ENOMEM;
	}
	m->size = size;
	*ctx_out = m;
	return 0;
}

void vdf_nbd_mem_backend_destroy(void *ctx)
{
	struct mem_backend *m = ctx;

	if (!m)
		return;
	munmap(m->data, m->size);
	free(m);
}

static uint64_t mem_size(void *ctx)
{
	return ((struct mem_backend *)ctx)->size;
}

static uint32_t mem_block_size(void *ctx)
{
	(void)ctx;
	return 1;
}

static int mem_read(void *ctx, uint64_t off, uint32_t len, void *buf)
{
	struct mem_backend *m = ctx;

	if (off > m->size || len > m->size - off)
		return -EINVAL;
	memcpy(buf, m->data + off, len);
	return 0;
}

static int mem_write(void *ctx, uint64_t off, uint32_t len, const void *buf, bool fua)
{
	struct mem_backend *m = ctx;

	(void)fua;
	if (off > m->size || len > m->size - off)
		return -ENOSPC;
	memcpy(m->data + off, buf, len);
	return 0;
}

static int mem_write_zeroes(void *ctx, uint64_t off, uint32_t len, bool may_trim)
{
	struct mem_backend *m = ctx;

	(void)may_trim;
	if (off > m->size || len > m->size - off)
		return -ENOSPC;
	memset(m->data + off, 0, len);
	return 0;
}

static int mem_trim(void *ctx, uint64_t off, uint32_t len)
{
	return mem_write_zeroes(ctx, off, len, true);
}

const struct vdf_nbd_backend_ops vdf_nbd_mem_backend_ops = {
    .size = mem_size,
    .block_size = mem_block_size,
    .read = mem_read,
    .write = mem_write,
    .flush = NULL, /* memory is as stable as it gets */
    .trim = mem_trim,
    .write_zeroes = mem_write_zeroes,
};

struct file_backend {
	int fd;
	uint64_t size;
	bool is_blockdev;
};

int vdf_nbd_file_backend_create(const char *path, bool read_only, void **ctx_out)
{
	struct file_backend *f;
	struct stat st;
	int ret;

	*ctx_out = NULL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->fd = open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (f->fd < 0) {
		ret = -errno;
		goto out_free;
	}
	if (fstat(f->fd, &st) < 0) {
		ret = -errno;
		goto out_close;
	}
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(f->fd, BLKGETSIZE64, &f->size) < 0) {
			ret = -errno;
			goto out_close;
		}
		f->is_blockdev = true;
	} else if (S_ISREG(st.st_mode)) {
		f->size = (uint64_t)st.st_size;
	} else {
		ret = -EINVAL;
		goto out_close;
	}
	if (f->size == 0) {
		ret = -EINVAL;
		goto out_close;
	}
	*ctx_out = f;
	return 0;

out_close:
	close(f->fd);
out_free:
	free(f);
	return ret;
}

void vdf_nbd_file_backend_destroy(void *ctx)
{
	struct file_backend *f = ctx;

	if (!f)
		return;
	close(f->fd);
	free(f);
}

static uint64_t file_size(void *ctx)
{
	return ((struct file_backend *)ctx)->size;
}

static uint32_t file_block_size(void *ctx)
{
	(void)ctx;
	return 1;
}

static int file_read(void *ctx, uint64_t off, uint32_t len, void *buf)
{
	struct file_backend *f = ctx;
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(f->fd, (uint8_t *)buf + done, len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0) /* file shrank under us: the rest reads as zeroes */
			memset((uint8_t *)buf + done, 0, len - done), n = (ssize_t)(len - done);
		done += (size_t)n;
	}
	return 0;
}

static int file_flush(void *ctx)
{
	struct file_backend *f = ctx;

	return fdatasync(f->fd) < 0 ? -errno : 0;
}

static int file_pwrite_all(struct file_backend *f, uint64_t off, uint32_t len, const void *buf)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n =
		    pwrite(f->fd, (const uint8_t *)buf + done, len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		done += (size_t)n;
	}
	return 0;
}

static int file_write(void *ctx, uint64_t off, uint32_t len, const void *buf, bool fua)
{
	int ret = file_pwrite_all(ctx, off, len, buf);

	if (ret == 0 && fua)
		ret = file_flush(ctx);
	return ret;
}

static int file_trim(void *ctx, uint64_t off, uint32_t len)
{
	struct file_backend *f = ctx;

	if (len == 0 || f->is_blockdev)
		return 0; /* trim is advisory (proto.md): doing nothing is correct */
	if (fallocate(f->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, len) < 0 &&
	    errno != EOPNOTSUPP)
		return -errno;
	return 0;
}

static int file_write_zeroes(void *ctx, uint64_t off, uint32_t len, bool may_trim)
{
	struct file_backend *f = ctx;
	static const uint8_t zero[65536];
	int mode = may_trim ? FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE : FALLOC_FL_ZERO_RANGE;
	uint32_t done = 0;
	int ret;

	if (len == 0)
		return 0;
	if (!f->is_blockdev && fallocate(f->fd, mode, (off_t)off, len) == 0)
		return 0;
	/* No fallocate support here: write the zeroes. */
	while (done < len) {
		uint32_t n = VDF_MIN(len - done, (uint32_t)sizeof(zero));

		ret = file_pwrite_all(f, off + done, n, zero);
		if (ret)
			return ret;
		done += n;
	}
	return 0;
}

const struct vdf_nbd_backend_ops vdf_nbd_file_backend_ops = {
    .size = file_size,
    .block_size = file_block_size,
    .read = file_read,
    .write = file_write,
    .flush = file_flush,
    .trim = file_trim,
    .write_zeroes = file_write_zeroes,
};

/* ---- One connection ----------------------------------------------------- */

uint16_t vdf_nbd_export_tflags(const struct vdf_nbd_export *exp)
{
	uint16_t f = NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH | NBD_FLAG_SEND_FUA |
		     NBD_FLAG_SEND_WRITE_ZEROES;

	if (exp->ops->trim)
		f |= NBD_FLAG_SEND_TRIM;
	if (exp->read_only)
		f |= NBD_FLAG_READ_ONLY;
	return f;
}

struct conn {
	const struct vdf_nbd_export *exp;
	const struct vdf_nbd_io *io;
	bool no_zeroes;
	uint64_t size;
	uint16_t tflags;
	uint32_t min_block;
	uint8_t *buf; /* grown on demand up to NBD_SIMPLE_REPLY_SIZE + VDF_NBD_MAX_PAYLOAD */
	size_t buf_cap;
};

static int conn_read(struct conn *c, void *buf, size_t len)
{
	return len ? c->io->read(c->io->ctx, buf, len) : 0;
}

static int conn_write(struct conn *c, const void *buf, size_t len)
{
	return len ? c->io->write(c->io->ctx, buf, len) : 0;
}

static int conn_reserve(struct conn *c, size_t len)
{
	uint8_t *nb;

	if (len <= c->buf_cap)
		return 0;
	nb = realloc(c->buf, len);
	if (!nb)
		return -ENOMEM;
	c->buf = nb;
	c->buf_cap = len;
	return 0;
}

static int send_rep(struct conn *c, uint32_t option, uint32_t type, const void *data, uint32_t len)
{
	uint8_t hdr[NBD_REP_HDR_SIZE];
	int ret;

	vdf_nbd_encode_rep_hdr(hdr, option, type, len);
	ret = conn_write(c, hdr, sizeof(hdr));
	if (ret)
		return ret;
	return conn_write(c, data, len);
}

static int send_rep_err(struct conn *c, uint32_t option, uint32_t type, const char *msg)
{
	return send_rep(c, option, type, msg, (uint32_t)strlen(msg));
}

/* The empty name selects the default (our only) export. */
static bool name_matches(const struct vdf_nbd_export *exp, const char *name, uint32_t len)
{
	size_t elen = strlen(exp->name);

	return len == 0 || (len == elen && memcmp(name, exp->name, len) == 0);
}

static int handle_list(struct conn *c, uint32_t len)
{
	const char *desc = c->exp->description ? c->exp->description : "";
	uint32_t nlen = (uint32_t)strnlen(c->exp->name, NBD_MAX_STRING);
	uint32_t dlen = (uint32_t)strnlen(desc, NBD_MAX_STRING);
	uint8_t data[4 + 2 * NBD_MAX_STRING];
	int ret;

	if (len != 0)
		return send_rep_err(c, NBD_OPT_LIST, NBD_REP_ERR_INVALID, "LIST takes no data");
	vdf_nbd_put_be32(data, nlen);
	memcpy(data + 4, c->exp->name, nlen);
	memcpy(data + 4 + nlen, desc, dlen);
	ret = send_rep(c, NBD_OPT_LIST, NBD_REP_SERVER, data, 4 + nlen + dlen);
	if (ret)
		return ret;
	return send_rep(c, NBD_OPT_LIST, NBD_REP_ACK, NULL, 0);
}

/* NBD_OPT_INFO / NBD_OPT_GO. Returns 1 when GO succeeded (enter transmission). */
static int handle_info_go(struct conn *c, uint32_t option, const uint8_t *data, uint32_t len)
{
	struct vdf_nbd_info_req req;
	uint8_t info[NBD_INFO_BLOCK_SIZE_SIZE];
	int ret;

	if (vdf_nbd_parse_info_req(data, len, &req))
		return send_rep_err(c, option, NBD_REP_ERR_INVALID, "malformed INFO/GO request");
	if (!name_matches(c->exp, req.name, req.name_len))
		return send_rep_err(c, option, NBD_REP_ERR_UNKNOWN, "unknown export");
	vdf_nbd_encode_info_export(info, c->size, c->tflags);
	ret = send_rep(c, option, NBD_REP_INFO, info, NBD_INFO_EXPORT_SIZE);
	if (ret)
		return ret;
	/* The server may send block sizes unasked (proto.md, NBD_INFO_BLOCK_SIZE). */
	vdf_nbd_encode_info_block_size(info, c->min_block, VDF_MAX(c->min_block, 4096u),
				       VDF_NBD_MAX_PAYLOAD);
	ret = send_rep(c, option, NBD_REP_INFO, info, NBD_INFO_BLOCK_SIZE_SIZE);
	if (ret)
		return ret;
	ret = send_rep(c, option, NBD_REP_ACK, NULL, 0);
	if (ret)
		return ret;
	return option == NBD_OPT_GO ? 1 : 0;
}

/* NBD_OPT_EXPORT_NAME: no error reply exists; an unknown name closes. */
static int handle_export_name(struct conn *c, const uint8_t *data, uint32_t len)
{
	uint8_t rep[10 + NBD_EXPORT_NAME_PAD];

	if (len > NBD_MAX_STRING || !name_matches(c->exp, (const char *)data, len))
		return -EPROTO;
	memset(rep, 0, sizeof(rep));
	vdf_nbd_put_be64(rep, c->size);
	vdf_nbd_put_be16(rep + 8, c->tflags);
	return conn_write(c, rep, c->no_zeroes ? 10 : sizeof(rep));
}

/* Drop len bytes of input through a small buffer. */
static int drain(struct conn *c, uint64_t len)
{
	uint8_t tmp[4096];
	int ret;

	while (len) {
		size_t n = (size_t)VDF_MIN(len, (uint64_t)sizeof(tmp));

		ret = conn_read(c, tmp, n);
		if (ret)
			return ret;
		len -= n;
	}
	return 0;
}

/* Options that overflow VDF_NBD_MAX_OPT_LEN are drained up to this, else we hang up. */
#define DRAIN_MAX (1u << 20)

/* Returns 1 to enter transmission, 0 on a clean ABORT, -errno otherwise. */
static int handshake(struct conn *c)
{
	uint8_t greet[NBD_GREETING_SIZE], flags[4], hdr[NBD_OPT_HDR_SIZE];
	struct vdf_nbd_opt_hdr oh;
	uint8_t *data = c->buf;
	unsigned n;
	int ret;

	vdf_nbd_encode_greeting(greet);
	ret = conn_write(c, greet, sizeof(greet));
	if (ret)
		return ret;
	ret = conn_read(c, flags, sizeof(flags));
	if (ret)
		return ret;
	if (vdf_nbd_parse_client_flags(flags, &c->no_zeroes))
		return -EPROTO;

	for (n = 0; n < VDF_NBD_MAX_OPTIONS; n++) {
		ret = conn_read(c, hdr, sizeof(hdr));
		if (ret)
			return ret;
		ret = vdf_nbd_parse_opt_hdr(hdr, VDF_NBD_MAX_OPT_LEN, &oh);
		if (ret == -EPROTO)
			return ret;
		if (ret == -E2BIG) {
			if (oh.length > DRAIN_MAX || oh.option == NBD_OPT_EXPORT_NAME)
				return -EPROTO;
			ret = drain(c, oh.length);
			if (ret == 0)
				ret = send_rep_err(c, oh.option, NBD_REP_ERR_TOO_BIG,
						   "option too long");
			if (ret)
				return ret;
			continue;
		}
		ret = conn_read(c, data, oh.length);
		if (ret)
			return ret;
		switch (oh.option) {
		case NBD_OPT_EXPORT_NAME:
			ret = handle_export_name(c, data, oh.length);
			return ret ? ret : 1;
		case NBD_OPT_ABORT:
			/* The client may not wait for the ACK: ignore a failure to send it. */
			(void)send_rep(c, NBD_OPT_ABORT, NBD_REP_ACK, NULL, 0);
			return 0;
		case NBD_OPT_LIST:
			ret = handle_list(c, oh.length);
			break;
		case NBD_OPT_INFO:
		case NBD_OPT_GO:
			ret = handle_info_go(c, oh.option, data, oh.length);
			if (ret == 1)
				return 1;
			break;
		default:
			ret = send_rep_err(c, oh.option, NBD_REP_ERR_UNSUP, "option not supported");
			break;
		}
		if (ret)
			return ret;
	}
	vdf_log(LOG_WARNING, COMP, c->exp->name, "more than %u options: closing",
		VDF_NBD_MAX_OPTIONS);
	return -EPROTO;
}

static int send_simple(struct conn *c, uint32_t err, uint64_t cookie)
{
	uint8_t rep[NBD_SIMPLE_REPLY_SIZE];

	vdf_nbd_encode_simple_reply(rep, err, cookie);
	return conn_write(c, rep, sizeof(rep));
}

/* WRITE_ZEROES for a backend without one: plain writes of a zero buffer. */
static int emulate_write_zeroes(struct conn *c, uint64_t off, uint32_t len)
{
	uint32_t chunk = VDF_MIN(len, 1u << 20), done = 0;
	int ret;

	ret = conn_reserve(c, NBD_SIMPLE_REPLY_SIZE + (size_t)chunk);
	if (ret)
		return ret;
	memset(c->buf + NBD_SIMPLE_REPLY_SIZE, 0, chunk);
	while (done < len) {
		uint32_t n = VDF_MIN(len - done, chunk);

		ret = c->exp->ops->write(c->exp->ctx, off + done, n, c->buf + NBD_SIMPLE_REPLY_SIZE,
					 false);
		if (ret)
			return ret;
		done += n;
	}
	return 0;
}

static int do_request(struct conn *c, const struct vdf_nbd_request *r)
{
	const struct vdf_nbd_backend_ops *ops = c->exp->ops;
	void *ctx = c->exp->ctx;
	bool fua = r->flags & NBD_CMD_FLAG_FUA;
	uint8_t *payload;
	int ret;

	switch (r->type) {
	case NBD_CMD_READ:
		/* Header and data in one buffer: one write, one segment on the wire. */
		ret = conn_reserve(c, NBD_SIMPLE_REPLY_SIZE + (size_t)r->length);
		if (ret)
			return send_simple(c, NBD_ENOMEM, r->cookie);
		payload = c->buf + NBD_SIMPLE_REPLY_SIZE;
		ret = r->length ? ops->read(ctx, r->offset, r->length, payload) : 0;
		if (ret)
			return send_simple(c, vdf_nbd_errno_to_nbd(ret), r->cookie);
		vdf_nbd_encode_simple_reply(c->buf, NBD_OK, r->cookie);
		return conn_write(c, c->buf, NBD_SIMPLE_REPLY_SIZE + (size_t)r->length);
	case NBD_CMD_WRITE:
		ret = conn_reserve(c, NBD_SIMPLE_REPLY_SIZE + (size_t)r->length);
		if (ret) /* payload still on the wire: drain it to stay in sync */
			return drain(c, r->length) ?: send_simple(c, NBD_ENOMEM, r->cookie);
		payload = c->buf + NBD_SIMPLE_REPLY_SIZE;
		ret = conn_read(c, payload, r->length);
		if (ret)
			return ret;
		ret = r->length ? ops->write(ctx, r->offset, r->length, payload, fua) : 0;
		break;
	case NBD_CMD_FLUSH:
		ret = ops->flush ? ops->flush(ctx) : 0;
		break;
	case NBD_CMD_TRIM:
		ret = r->length ? ops->trim(ctx, r->offset, r->length) : 0;
		if (ret == 0 && fua && ops->flush)
			ret = ops->flush(ctx);
		break;
	case NBD_CMD_WRITE_ZEROES:
		if (r->length == 0)
			ret = 0;
		else {
			ret = -EOPNOTSUPP;
			if (ops->write_zeroes) /* may still lack it: then emulate */
				ret = ops->write_zeroes(ctx, r->offset, r->length,
							!(r->flags & NBD_CMD_FLAG_NO_HOLE));
			if (ret == -EOPNOTSUPP)
				ret = emulate_write_zeroes(c, r->offset, r->length);
		}
		if (ret == 0 && fua && ops->flush)
			ret = ops->flush(ctx);
		break;
	default: /* vdf_nbd_check_request let nothing else through */
		ret = -EINVAL;
		break;
	}
	if (ret)
		VDF_LOG_RL(LOG_WARNING, COMP, c->exp->name, "%s off %llu len %u: %s",
			   vdf_nbd_cmd_name(r->type), (unsigned long long)r->offset, r->length,
			   strerror(-ret));
	return send_simple(c, vdf_nbd_errno_to_nbd(ret), r->cookie);
}

static int transmission(struct conn *c)
{
	uint8_t hdr[NBD_REQUEST_SIZE];
	struct vdf_nbd_request r;
	uint32_t err;
	int ret;

	for (;;) {
		ret = conn_read(c, hdr, sizeof(hdr));
		if (ret)
			return ret;
		if (vdf_nbd_parse_request(hdr, &r)) {
			vdf_log(LOG_WARNING, COMP, c->exp->name, "bad request magic: closing");
			return -EPROTO;
		}
		switch (vdf_nbd_check_request(&r, c->size, c->tflags, c->min_block, &err)) {
		case VDF_NBD_HANG_UP:
			vdf_log(LOG_WARNING, COMP, c->exp->name,
				"%s of %u bytes exceeds %u: closing", vdf_nbd_cmd_name(r.type),
				r.length, VDF_NBD_MAX_PAYLOAD);
			return -EPROTO;
		case VDF_NBD_REPLY_ERROR:
			if (r.type == NBD_CMD_WRITE) {
				ret = drain(c, r.length);
				if (ret)
					return ret;
			}
			ret = send_simple(c, err, r.cookie);
			break;
		case VDF_NBD_SERVE:
		default:
			if (r.type == NBD_CMD_DISC)
				return 0;
			ret = do_request(c, &r);
			break;
		}
		if (ret)
			return ret;
	}
}

int vdf_nbd_serve_conn(const struct vdf_nbd_export *exp, const struct vdf_nbd_io *io)
{
	struct conn c = {.exp = exp, .io = io};
	int ret;

	c.size = exp->ops->size(exp->ctx);
	c.tflags = vdf_nbd_export_tflags(exp);
	c.min_block = exp->ops->block_size ? exp->ops->block_size(exp->ctx) : 1;
	if (c.min_block == 0 || (c.min_block & (c.min_block - 1)) || c.min_block > 65536)
		c.min_block = 1;
	ret = conn_reserve(&c, VDF_MAX((size_t)VDF_NBD_MAX_OPT_LEN, (size_t)4096));
	if (ret)
		return ret;
	ret = handshake(&c);
	if (ret == 1)
		ret = transmission(&c);
	free(c.buf);
	return ret;
}

static int fd_read(void *ctx, void *buf, size_t len)
{
	int fd = *(int *)ctx;
	size_t done = 0;

	while (done < len) {
		ssize_t n = recv(fd, (uint8_t *)buf + done, len - done, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		done += (size_t)n;
	}
	return 0;
}

static int fd_write(void *ctx, const void *buf, size_t len)
{
	int fd = *(int *)ctx;
	size_t done = 0;

	while (done < len) {
		ssize_t n = send(fd, (const uint8_t *)buf + done, len - done, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += (size_t)n;
	}
	return 0;
}

int vdf_nbd_serve_fd(const struct vdf_nbd_export *exp, int fd)
{
	struct vdf_nbd_io io = {.read = fd_read, .write = fd_write, .ctx = &fd};

	return vdf_nbd_serve_conn(exp, &io);
}

/* ---- Listener ----------------------------------------------------------- */

struct vdf_nbd_server {
	const struct vdf_nbd_export *exp;
	int lfd;
	int stop_pipe[2];
	char *unix_path;
	unsigned max_conns;
	pthread_mutex_t lock;
	pthread_cond_t idle;
	unsigned n_conns;
	int *conn_fds; /* max_conns slots, -1 when free; shut down on destroy */
	atomic_bool stopping;
};

struct conn_thread {
	struct vdf_nbd_server *srv;
	unsigned slot;
	int fd;
};

static void *conn_main(void *arg)
{
	struct conn_thread *t = arg;
	struct vdf_nbd_server *srv = t->srv;
	int ret;

	ret = vdf_nbd_serve_fd(srv->exp, t->fd);
	if (ret && ret != -ECONNRESET)
		vdf_log(LOG_INFO, COMP, srv->exp->name, "connection ended: %s", strerror(-ret));
	pthread_mutex_lock(&srv->lock);
	srv->conn_fds[t->slot] = -1;
	close(t->fd);
	srv->n_conns--;
	pthread_cond_broadcast(&srv->idle);
	pthread_mutex_unlock(&srv->lock);
	free(t);
	return NULL;
}

static int server_alloc(const struct vdf_nbd_export *exp, unsigned max_conns,
			struct vdf_nbd_server **out)
{
	struct vdf_nbd_server *srv;
	unsigned i;

	*out = NULL;
	if (!exp || !exp->ops || !exp->ops->size || !exp->ops->read || !exp->ops->write ||
	    !exp->name || max_conns == 0)
		return -EINVAL;
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	srv->conn_fds = calloc(max_conns, sizeof(int));
	if (!srv->conn_fds) {
		free(srv);
		return -ENOMEM;
	}
	for (i = 0; i < max_conns; i++)
		srv->conn_fds[i] = -1;
	if (pipe2(srv->stop_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		int ret = -errno;

		free(srv->conn_fds);
		free(srv);
		return ret;
	}
	srv->exp = exp;
	srv->lfd = -1;
	srv->max_conns = max_conns;
	pthread_mutex_init(&srv->lock, NULL);
	pthread_cond_init(&srv->idle, NULL);
	*out = srv;
	return 0;
}

int vdf_nbd_server_listen_unix(const struct vdf_nbd_export *exp, const char *path,
			       unsigned max_conns, struct vdf_nbd_server **out)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct vdf_nbd_server *srv;
	int ret;

	if (!path || strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	ret = server_alloc(exp, max_conns, &srv);
	if (ret)
		return ret;
	strcpy(sa.sun_path, path);
	srv->unix_path = strdup(path);
	if (!srv->unix_path) {
		ret = -ENOMEM;
		goto out_destroy;
	}
	srv->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (srv->lfd < 0) {
		ret = -errno;
		goto out_destroy;
	}
	unlink(path);
	if (bind(srv->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(srv->lfd, 16) < 0) {
		ret = -errno;
		goto out_destroy;
	}
	*out = srv;
	return 0;

out_destroy:
	free(srv->unix_path);
	srv->unix_path = NULL; /* nothing bound: do not unlink */
	vdf_nbd_server_destroy(srv);
	return ret;
}

int vdf_nbd_server_listen_tcp(const struct vdf_nbd_export *exp, const char *host, const char *port,
			      unsigned max_conns, struct vdf_nbd_server **out)
{
	struct addrinfo hints = {
	    .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
	struct addrinfo *res = NULL, *ai;
	struct vdf_nbd_server *srv;
	int ret, one = 1;

	ret = server_alloc(exp, max_conns, &srv);
	if (ret)
		return ret;
	ret = getaddrinfo(host, port, &hints, &res);
	if (ret) {
		ret = -EADDRNOTAVAIL;
		goto out_destroy;
	}
	ret = -EADDRNOTAVAIL;
	for (ai = res; ai; ai = ai->ai_next) {
		srv->lfd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (srv->lfd < 0) {
			ret = -errno;
			continue;
		}
		setsockopt(srv->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(srv->lfd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(srv->lfd, 16) == 0)
			break;
		ret = -errno;
		close(srv->lfd);
		srv->lfd = -1;
	}
	freeaddrinfo(res);
	if (srv->lfd < 0)
		goto out_destroy;
	*out = srv;
	return 0;

out_destroy:
	vdf_nbd_server_destroy(srv);
	return ret;
}

int vdf_nbd_server_run(struct vdf_nbd_server *srv)
{
	while (!atomic_load(&srv->stopping)) {
		struct pollfd pfd[2] = {{.fd = srv->lfd, .events = POLLIN},
					{.fd = srv->stop_pipe[0], .events = POLLIN}};
		struct conn_thread *t;
		pthread_attr_t attr;
		pthread_t tid;
		unsigned slot;
		int fd, one = 1;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (pfd[1].revents || atomic_load(&srv->stopping))
			break;
		if (!(pfd[0].revents & POLLIN))
			continue;
		fd = accept4(srv->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue; /* ECONNABORTED, EMFILE, ...: keep serving the others */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
			   sizeof(one)); /* fails on unix: fine */

		pthread_mutex_lock(&srv->lock);
		for (slot = 0; slot < srv->max_conns && srv->conn_fds[slot] >= 0; slot++)
			;
		if (slot == srv->max_conns) {
			pthread_mutex_unlock(&srv->lock);
			VDF_LOG_RL(LOG_WARNING, COMP, srv->exp->name,
				   "%u connections already: refusing one", srv->max_conns);
			close(fd);
			continue;
		}
		t = malloc(sizeof(*t));
		if (!t) {
			pthread_mutex_unlock(&srv->lock);
			close(fd);
			continue;
		}
		*t = (struct conn_thread){.srv = srv, .slot = slot, .fd = fd};
		srv->conn_fds[slot] = fd;
		srv->n_conns++;
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&tid, &attr, conn_main, t) != 0) {
			srv->conn_fds[slot] = -1;
			srv->n_conns--;
			close(fd);
			free(t);
		}
		pthread_attr_destroy(&attr);
		pthread_mutex_unlock(&srv->lock);
	}
	return 0;
}

void vdf_nbd_server_stop(struct vdf_nbd_server *srv)
{
	ssize_t n;

	atomic_store(&srv->stopping, true);
	n = write(srv->stop_pipe[1], "x", 1); /* async-signal-safe */
	(void)n;
}

void vdf_nbd_server_destroy(struct vdf_nbd_server *srv)
{
	unsigned i;

	if (!srv)
		return;
	vdf_nbd_server_stop(srv);
	pthread_mutex_lock(&srv->lock);
	/* Unblock the connection threads; each closes its own fd. */
	for (i = 0; i < srv->max_conns; i++)
		if (srv->conn_fds[i] >= 0)
			shutdown(srv->conn_fds[i], SHUT_RDWR);
	while (srv->n_conns)
		pthread_cond_wait(&srv->idle, &srv->lock);
	pthread_mutex_unlock(&srv->lock);
	if (srv->lfd >= 0)
		close(srv->lfd);
	if (srv->unix_path)
		unlink(srv->unix_path);
	free(srv->unix_path);
	close(srv->stop_pipe[0]);
	close(srv->stop_pipe[1]);
	pthread_cond_destroy(&srv->idle);
	pthread_mutex_destroy(&srv->lock);
	free(srv->conn_fds);
	free(srv);
}
