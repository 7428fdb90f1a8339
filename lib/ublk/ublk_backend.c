// SPDX-License-Identifier: MIT
/*
 * Memory and file backends for the ublk export. Both are synchronous: submit
 * does the work on the calling queue thread and calls done() before it
 * returns, so they need neither queue_fd nor queue_poll. The backend context
 * is shared by every queue thread (pread/pwrite and memcpy on disjoint or
 * overlapping ranges are as safe as a disk: overlapping writes in flight at
 * once may land in either order); a queue context holds only its callback.
 *
 * Requests arrive checked (vdf_ublk_check_desc), but each backend bounds its
 * own memory and file accesses again: a bug in the loop must not turn into a
 * write outside the mapping.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vdf/ublk.h"

/* What a synchronous backend keeps per queue. */
struct sync_queue {
	void *backend;
	vdf_ublk_done_fn done;
	void *done_arg;
};

static int sync_queue_open(void *ctx, const struct vdf_ublk_queue_cfg *cfg, void **qctx)
{
	struct sync_queue *q = calloc(1, sizeof(*q));

	*qctx = NULL;
	if (!q)
		return -ENOMEM;
	q->backend = ctx;
	q->done = cfg->done;
	q->done_arg = cfg->done_arg;
	*qctx = q;
	return 0;
}

static void sync_queue_close(void *qctx)
{
	free(qctx);
}

static bool range_ok(uint64_t size, const struct vdf_ublk_io *io)
{
	return io->op == VDF_UBLK_FLUSH || (io->offset <= size && io->len <= size - io->offset);
}

/* ---- Memory ---------------------------------------------------------------- */

struct mem_backend {
	uint8_t *data;
	uint64_t size;
	uint32_t block_size;
};

int vdf_ublk_mem_backend_create(uint64_t size, uint32_t block_size, void **ctx)
{
	struct mem_backend *m;

	*ctx = NULL;
	if (block_size != 512 && block_size != 4096)
		return -EINVAL;
	size = VDF_ALIGN_DOWN(size, (uint64_t)block_size);
	if (size == 0 || size > SIZE_MAX / 2)
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->data = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m->data == MAP_FAILED) {
		free(m);
		return -ENOMEM;
	}
	m->size = size;
	m->block_size = block_size;
	*ctx = m;
	return 0;
}

static void mem_destroy(void *ctx)
{
	struct mem_backend *m = ctx;

	if (!m)
		return;
	munmap(m->data, m->size);
	free(m);
}

static void mem_info(void *ctx, struct vdf_ublk_backend_info *info)
{
	struct mem_backend *m = ctx;

	memset(info, 0, sizeof(*info));
	info->size = m->size;
	info->block_size = m->block_size;
	info->discard = true;
	info->write_zeroes = true;
}

/* Zero a range; whole pages go back to the kernel (they read as zeroes). */
static void mem_zero(struct mem_backend *m, uint64_t off, uint32_t len, bool keep)
{
	uint64_t end = off + len;
	uint64_t a = VDF_ALIGN_UP(off, (uint64_t)VDF_PAGE_SIZE);
	uint64_t b = VDF_ALIGN_DOWN(end, (uint64_t)VDF_PAGE_SIZE);

	if (keep || a >= b || madvise(m->data + a, b - a, MADV_DONTNEED) != 0) {
		memset(m->data + off, 0, len);
		return;
	}
	memset(m->data + off, 0, a - off);
	memset(m->data + b, 0, end - b);
}

static int mem_submit(void *qctx, const struct vdf_ublk_io *io)
{
	struct sync_queue *q = qctx;
	struct mem_backend *m = q->backend;

	if (!range_ok(m->size, io))
		return -EIO;
	switch (io->op) {
	case VDF_UBLK_READ:
		memcpy(io->buf, m->data + io->offset, io->len);
		break;
	case VDF_UBLK_WRITE:
		memcpy(m->data + io->offset, io->buf, io->len);
		break;
	case VDF_UBLK_FLUSH:
		break;
	case VDF_UBLK_DISCARD:
	case VDF_UBLK_WRITE_ZEROES:
		mem_zero(m, io->offset, io->len, io->no_unmap);
		break;
	default:
		return -EOPNOTSUPP;
	}
	q->done(q->done_arg, io->tag, 0);
	return 0;
}

const struct vdf_ublk_backend_ops vdf_ublk_mem_backend_ops = {
    .name = "mem",
    .info = mem_info,
    .queue_open = sync_queue_open,
    .queue_close = sync_queue_close,
    .submit = mem_submit,
    .destroy = mem_destroy,
};

/* ---- File or block device ---------------------------------------------------- */

struct file_backend {
	int fd;
	uint64_t size;
	uint32_t block_size;
	bool is_blockdev;
	bool read_only;
};

int vdf_ublk_file_backend_create(const char *path, uint32_t block_size, bool read_only, void **ctx)
{
	struct file_backend *f;
	struct stat st;
	int ret, lbs;

	*ctx = NULL;
	if (block_size != 512 && block_size != 4096)
		return -EINVAL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->read_only = read_only;
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
		if (ioctl(f->fd, BLKGETSIZE64, &f->size) < 0 || ioctl(f->fd, BLKSSZGET, &lbs) < 0) {
			ret = -errno;
			goto out_close;
		}
		/* A disk with larger sectors than asked for dictates the block size. */
		if (lbs != 512 && lbs != 4096) {
			ret = -EINVAL;
			goto out_close;
		}
		block_size = VDF_MAX(block_size, (uint32_t)lbs);
		f->is_blockdev = true;
	} else if (S_ISREG(st.st_mode)) {
		f->size = (uint64_t)st.st_size;
	} else {
		ret = -EINVAL;
		goto out_close;
	}
	f->block_size = block_size;
	f->size = VDF_ALIGN_DOWN(f->size, (uint64_t)block_size);
	if (f->size == 0) {
		ret = -EINVAL;
		goto out_close;
	}
	*ctx = f;
	return 0;

out_close:
	close(f->fd);
out_free:
	free(f);
	return ret;
}

static void file_destroy(void *ctx)
{
	struct file_backend *f = ctx;

	if (!f)
		return;
	close(f->fd);
	free(f);
}

static void file_info(void *ctx, struct vdf_ublk_backend_info *info)
{
	struct file_backend *f = ctx;

	memset(info, 0, sizeof(*info));
	info->size = f->size;
	info->block_size = f->block_size;
	info->volatile_cache = true; /* the page cache, or the disk's own */
	info->discard = true;
	info->write_zeroes = true;
	info->read_only = f->read_only;
}

static int file_read(struct file_backend *f, uint64_t off, uint32_t len, uint8_t *buf)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(f->fd, buf + done, len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0) { /* the file shrank under us: the rest reads as zeroes */
			memset(buf + done, 0, len - done);
			break;
		}
		done += (size_t)n;
	}
	return 0;
}

static int file_write(struct file_backend *f, uint64_t off, uint32_t len, const uint8_t *buf)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pwrite(f->fd, buf + done, len - done, (off_t)(off + done));

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

static int file_write_zero_buf(struct file_backend *f, uint64_t off, uint32_t len)
{
	static const uint8_t zero[65536];
	uint32_t done = 0;
	int ret;

	while (done < len) {
		uint32_t n = VDF_MIN(len - done, (uint32_t)sizeof(zero));

		ret = file_write(f, off + done, n, zero);
		if (ret)
			return ret;
		done += n;
	}
	return 0;
}

/* Discard is advisory: a backend that cannot punch holes does nothing. */
static int file_discard(struct file_backend *f, uint64_t off, uint32_t len)
{
	uint64_t range[2] = {off, len};

	if (f->is_blockdev)
		(void)ioctl(f->fd, BLKDISCARD, range);
	else
		(void)fallocate(f->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
				(off_t)len);
	return 0;
}

static int file_write_zeroes(struct file_backend *f, uint64_t off, uint32_t len, bool no_unmap)
{
	uint64_t range[2] = {off, len};

	if (f->is_blockdev) {
		if (ioctl(f->fd, BLKZEROOUT, range) == 0)
			return 0;
		return file_write_zero_buf(f, off, len);
	}
	if (no_unmap) {
		if (fallocate(f->fd, FALLOC_FL_ZERO_RANGE, (off_t)off, (off_t)len) == 0)
			return 0;
		/* tmpfs has no ZERO_RANGE: a hole filled in again is the same. */
		if (fallocate(f->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
			      (off_t)len) == 0 &&
		    fallocate(f->fd, FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) == 0)
			return 0;
	} else if (fallocate(f->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
			     (off_t)len) == 0) {
		return 0;
	}
	return file_write_zero_buf(f, off, len);
}

static int file_flush(struct file_backend *f)
{
	return fdatasync(f->fd) < 0 ? -errno : 0;
}

static int file_submit(void *qctx, const struct vdf_ublk_io *io)
{
	struct sync_queue *q = qctx;
	struct file_backend *f = q->backend;
	int ret;

	if (!range_ok(f->size, io))
		return -EIO;
	if (f->read_only && io->op != VDF_UBLK_READ && io->op != VDF_UBLK_FLUSH)
		return -EROFS;
	switch (io->op) {
	case VDF_UBLK_READ:
		ret = file_read(f, io->offset, io->len, io->buf);
		break;
	case VDF_UBLK_WRITE:
		ret = file_write(f, io->offset, io->len, io->buf);
		break;
	case VDF_UBLK_FLUSH:
		ret = file_flush(f);
		break;
	case VDF_UBLK_DISCARD:
		ret = file_discard(f, io->offset, io->len);
		break;
	case VDF_UBLK_WRITE_ZEROES:
		ret = file_write_zeroes(f, io->offset, io->len, io->no_unmap);
		break;
	default:
		return -EOPNOTSUPP;
	}
	if (ret == 0 && io->fua && io->op != VDF_UBLK_FLUSH)
		ret = file_flush(f);
	q->done(q->done_arg, io->tag, ret);
	return 0;
}

const struct vdf_ublk_backend_ops vdf_ublk_file_backend_ops = {
    .name = "file",
    .info = file_info,
    .queue_open = sync_queue_open,
    .queue_close = sync_queue_close,
    .submit = file_submit,
    .destroy = file_destroy,
};
