/* SPDX-License-Identifier: MIT */
/*
 * ublk export: a block backend served as /dev/ublkbN through the Linux ublk
 * driver (docs/UBLK.md). This header holds the parts that do not need
 * io_uring (lib/ublk/): the backend interface the per-queue I/O loops call,
 * the memory and file backends, the check that turns a descriptor written by
 * the kernel into a request a backend may trust, and the device parameters
 * derived from a backend. The control plane and the queue loops (io_uring)
 * are in tools/ublk/.
 *
 * Backend model. The server runs one thread per hardware queue. Each thread
 * opens its own backend queue (queue_open, on that thread), hands it checked
 * requests (submit) and learns of completions through the done callback it
 * passed in. A synchronous backend calls done inside submit; an asynchronous
 * one returns from submit at once and calls done later from queue_poll, which
 * the loop runs whenever queue_fd becomes readable. Everything about one
 * queue happens on its thread, so a backend queue needs no locks; the
 * backend context (ctx) is shared by all queues.
 */
#ifndef VDF_UBLK_H
#define VDF_UBLK_H

#include <stdbool.h>
#include <stdint.h>

#include "vdf/common.h"
#include "vdf/hw/ublk.h"

enum vdf_ublk_op {
	VDF_UBLK_READ,
	VDF_UBLK_WRITE,
	VDF_UBLK_FLUSH,
	VDF_UBLK_DISCARD,
	VDF_UBLK_WRITE_ZEROES,
};

const char *vdf_ublk_op_name(enum vdf_ublk_op op);

/* One checked request (vdf_ublk_check_desc): offset and len are multiples of
 * the block size and lie inside the device; READ/WRITE fit the tag buffer. */
struct vdf_ublk_io {
	enum vdf_ublk_op op;
	uint16_t tag;
	bool fua;	 /* WRITE, DISCARD, WRITE_ZEROES: stable before completion */
	bool no_unmap;	 /* WRITE_ZEROES: keep the range allocated (no hole) */
	uint64_t offset; /* bytes */
	uint32_t len;	 /* bytes; 0 for FLUSH */
	void *buf;	 /* READ/WRITE: the tag's buffer, len bytes used */
};

struct vdf_ublk_backend_info {
	uint64_t size;	     /* bytes, a non-zero multiple of block_size */
	uint32_t block_size; /* logical block size: 512 or 4096 */
	uint32_t max_io;     /* largest READ/WRITE in bytes; 0: no limit of its own */
	bool volatile_cache; /* has a write cache: FLUSH and FUA mean something */
	bool discard;
	bool write_zeroes;
	bool read_only;
};

/* Completion of the request with this tag: status 0 or a negative errno. */
typedef void (*vdf_ublk_done_fn)(void *arg, uint16_t tag, int status);

struct vdf_ublk_queue_cfg {
	unsigned q_id;
	unsigned depth;	   /* tags are 0 .. depth-1 */
	uint32_t buf_size; /* bytes per tag buffer: the largest READ/WRITE */
	vdf_ublk_done_fn done;
	void *done_arg;
};

/*
 * A backend. Calls marked "queue" run on that queue's thread only.
 *   info        geometry and features; constant for the backend's life.
 *   queue_open  set up a queue (on its thread, before any other queue call);
 *               0 and *qctx, or a negative errno.
 *   queue_close undo queue_open (accepts NULL); no done() runs after it.
 *   queue_buf   optional: the buffer for tag, cfg.buf_size bytes, stable until
 *               queue_close. Backends whose I/O must use their own memory
 *               (a shared data area) provide it; without it the loop
 *               allocates page-aligned buffers itself.
 *   queue_fd    optional: an fd that becomes readable when queue_poll has
 *               completions to deliver; -1 or absent: done() runs only
 *               inside submit.
 *   queue_poll  deliver finished requests through done() without blocking
 *               (a reconnect may take a while); returns how many, or a
 *               negative errno when the backend is gone for good (every
 *               later request then fails with -EIO). The loop calls it when
 *               queue_fd is readable and, while requests are in the backend,
 *               after every pass before it sleeps: a backend may arm its
 *               wakeup here ("about to sleep"), as the VDF client does.
 *   submit      start a request. 0: accepted, done() runs exactly once for
 *               it (possibly before submit returns). -EAGAIN: no room now,
 *               the loop submits it again after a completion. Any other
 *               negative errno: refused, done() does not run and the request
 *               fails with that error.
 *   destroy     free the backend after every queue is closed (accepts NULL).
 */
struct vdf_ublk_backend_ops {
	const char *name;
	void (*info)(void *ctx, struct vdf_ublk_backend_info *info);
	int (*queue_open)(void *ctx, const struct vdf_ublk_queue_cfg *cfg, void **qctx);
	void (*queue_close)(void *qctx);
	void *(*queue_buf)(void *qctx, uint16_t tag);
	int (*queue_fd)(void *qctx);
	int (*queue_poll)(void *qctx);
	int (*submit)(void *qctx, const struct vdf_ublk_io *io);
	void (*destroy)(void *ctx);
};

/* --- Checks and parameters (lib/ublk/ublk_desc.c): pure, any input ------ */

/* 0 if info describes a device ublk can export (-EINVAL otherwise). */
int vdf_ublk_info_check(const struct vdf_ublk_backend_info *info) VDF_MUST_CHECK;

/*
 * The per-tag buffer size (= largest request) for a backend: want (0 means
 * the default VDF_UBLK_DEFAULT_MAX_IO) capped by the backend's max_io and
 * UBLK_MAX_IO_BUF_BYTES, rounded down to a page and to the block size, at
 * least one page.
 */
#define VDF_UBLK_DEFAULT_MAX_IO (512u << 10)
uint32_t vdf_ublk_buf_size(const struct vdf_ublk_backend_info *info, uint32_t want);

/*
 * Turn a descriptor the kernel wrote (copied out of the shared array first:
 * the kernel may rewrite it) into a request. Nothing in it is trusted: an
 * unknown op or one the backend does not have → -EOPNOTSUPP; a zero-length,
 * misaligned or oversized READ/WRITE/DISCARD/WRITE_ZEROES → -EINVAL; a range
 * past the end of the device → -EIO; a write-type op on a read-only backend
 * → -EROFS. Unknown flags are ignored (they are hints: FAILFAST, META).
 * On success io has op, fua, no_unmap, offset and len; tag and buf are the
 * caller's to fill.
 */
int vdf_ublk_check_desc(const struct ublksrv_io_desc *desc,
			const struct vdf_ublk_backend_info *info, uint32_t buf_size,
			struct vdf_ublk_io *io) VDF_MUST_CHECK;

/* The result to commit for a finished request: bytes for READ/WRITE, 0 for
 * the others, or the negative errno. */
int32_t vdf_ublk_io_result(const struct vdf_ublk_io *io, int status);

/*
 * Device parameters (basic, and discard when the backend discards or writes
 * zeroes) for SET_PARAMS: size, logical block size, physical 4 KiB or more,
 * max_sectors from buf_size, VOLATILE_CACHE|FUA when the backend has a cache,
 * READ_ONLY. p->len covers basic and discard only.
 */
void vdf_ublk_params_init(struct ublk_params *p, const struct vdf_ublk_backend_info *info,
			  uint32_t buf_size);
/* For recovery: -EINVAL when the device's parameters (GET_PARAMS) do not
 * match the backend's size and block size (the data would be wrong). */
int vdf_ublk_params_match(const struct ublk_params *p,
			  const struct vdf_ublk_backend_info *info) VDF_MUST_CHECK;

/* --- Backends (lib/ublk/ublk_backend.c) -------------------------------- */

/* In-process memory: an anonymous MAP_NORESERVE mapping (untouched pages
 * cost nothing and read as zeroes); completes inside submit; no cache, so no
 * FLUSH; DISCARD and WRITE_ZEROES give pages back. block_size 512 or 4096;
 * size is rounded down to it. */
int vdf_ublk_mem_backend_create(uint64_t size, uint32_t block_size, void **ctx) VDF_MUST_CHECK;
extern const struct vdf_ublk_backend_ops vdf_ublk_mem_backend_ops;

/* A regular file or a block device: pread/pwrite on the calling queue thread
 * (synchronous), FLUSH and FUA by fdatasync, DISCARD by punching a hole,
 * WRITE_ZEROES by fallocate (ZERO_RANGE with no_unmap) or written zeroes.
 * The size is the file's, rounded down to block_size (512 or 4096; a block
 * device's own logical block size wins when larger). */
int vdf_ublk_file_backend_create(const char *path, uint32_t block_size, bool read_only,
				 void **ctx) VDF_MUST_CHECK;
extern const struct vdf_ublk_backend_ops vdf_ublk_file_backend_ops;

#endif
