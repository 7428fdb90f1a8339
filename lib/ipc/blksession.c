// SPDX-License-Identifier: MIT
/*
 * Block session setup between a block client and a driver; see
 * vdf/blksession.h. Everything received is untrusted: the decoders check
 * magic, version, type, exact length, reserved fields, padding and every
 * value before a field is used.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "vdf/blkproto.h"
#include "vdf/blksession.h"
#include "vdf/fdmsg.h"
#include "vdf/ring.h"

struct wire_hello {
	uint32_t flags;
	uint32_t sq_capacity;
	uint64_t region_size;
	uint64_t sq_off;
	uint64_t cq_off;
	uint32_t cq_capacity;
	uint32_t reserved;
	uint64_t data_off;
	uint64_t data_size;
};

#define WIRE_MODEL_LEN	48u
#define WIRE_SERIAL_LEN 24u

struct wire_welcome {
	uint32_t status; /* int32_t two's complement */
	uint32_t generation;
	uint64_t num_blocks;
	uint32_t block_size;
	uint32_t max_transfer;
	uint32_t max_in_flight;
	uint32_t flags;
	char model[WIRE_MODEL_LEN];
	char serial[WIRE_SERIAL_LEN];
};

static_assert(sizeof(struct wire_hello) == 56, "hello body is 56 bytes");
static_assert(offsetof(struct wire_hello, cq_capacity) == 32, "cq capacity at byte 32");
static_assert(offsetof(struct wire_hello, data_off) == 40, "data offset at byte 40");
static_assert(sizeof(struct wire_welcome) == 104, "welcome body is 104 bytes");
static_assert(offsetof(struct wire_welcome, model) == 32, "model at byte 32");
static_assert(offsetof(struct wire_welcome, serial) == 80, "serial at byte 80");
static_assert(VDF_FDMSG_HDR_SIZE + sizeof(struct wire_welcome) <= VDF_BLKS_MSG_MAX,
	      "a welcome fits VDF_BLKS_MSG_MAX");
static_assert(VDF_BLKS_MODEL_LEN <= WIRE_MODEL_LEN && VDF_BLKS_SERIAL_LEN <= WIRE_SERIAL_LEN,
	      "strings fit their wire fields");

/* ---- geometry ----------------------------------------------------------- */

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

static bool capacity_ok(uint32_t cap)
{
	return is_pow2(cap) && cap >= VDF_BLKS_RING_MIN && cap <= VDF_BLKS_RING_MAX;
}

/* [off, off + len) inside [0, size) without overflow. */
static bool range_ok(uint64_t off, uint64_t len, uint64_t size)
{
	return len <= size && off <= size - len;
}

static bool disjoint(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a + alen <= b || b + blen <= a; /* both ranges checked by range_ok first */
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

int vdf_blks_layout(uint32_t queue_depth, uint64_t data_size, struct vdf_blks_hello *out)
{
	struct vdf_blks_hello h = {0};
	size_t sq_len, cq_len;

	if (!capacity_ok(queue_depth) || !data_size || data_size % VDF_BLKS_PAGE ||
	    data_size > VDF_BLKS_REGION_MAX)
		return -EINVAL;
	sq_len = vdf_ring_layout_size(queue_depth, sizeof(struct vdf_blk_req_wire));
	cq_len = vdf_ring_layout_size(queue_depth, sizeof(struct vdf_blk_cpl_wire));
	h.sq_off = 0;
	h.sq_capacity = queue_depth;
	h.cq_off = align_up(sq_len, VDF_RING_CACHE_LINE);
	h.cq_capacity = queue_depth;
	h.data_off = align_up(h.cq_off + cq_len, VDF_BLKS_PAGE);
	h.data_size = data_size;
	if (h.data_off > VDF_BLKS_REGION_MAX - data_size)
		return -EINVAL;
	h.region_size = h.data_off + data_size;
	*out = h;
	return 0;
}

int vdf_blks_hello_validate(const struct vdf_blks_hello *h)
{
	size_t sq_len, cq_len;

	if (h->flags & ~VDF_BLKS_HELLO_F_KNOWN)
		return -EINVAL;
	if (!h->region_size || h->region_size > VDF_BLKS_REGION_MAX ||
	    h->region_size % VDF_BLKS_PAGE)
		return -EINVAL;
	if (!capacity_ok(h->sq_capacity) || !capacity_ok(h->cq_capacity))
		return -EINVAL;
	if (h->sq_off % VDF_RING_CACHE_LINE || h->cq_off % VDF_RING_CACHE_LINE)
		return -EINVAL;
	if (!h->data_size || h->data_off % VDF_BLKS_PAGE || h->data_size % VDF_BLKS_PAGE)
		return -EINVAL;
	sq_len = vdf_ring_layout_size(h->sq_capacity, sizeof(struct vdf_blk_req_wire));
	cq_len = vdf_ring_layout_size(h->cq_capacity, sizeof(struct vdf_blk_cpl_wire));
	if (!sq_len || !cq_len)
		return -EINVAL;
	if (!range_ok(h->sq_off, sq_len, h->region_size) ||
	    !range_ok(h->cq_off, cq_len, h->region_size) ||
	    !range_ok(h->data_off, h->data_size, h->region_size))
		return -EINVAL;
	if (!disjoint(h->sq_off, sq_len, h->cq_off, cq_len) ||
	    !disjoint(h->sq_off, sq_len, h->data_off, h->data_size) ||
	    !disjoint(h->cq_off, cq_len, h->data_off, h->data_size))
		return -EINVAL;
	return 0;
}

/* NUL-terminated inside cap bytes and zero after the NUL. */
static bool str_ok(const char *s, size_t cap)
{
	size_t len = strnlen(s, cap);

	if (len == cap)
		return false;
	for (size_t i = len; i < cap; i++)
		if (s[i])
			return false;
	return true;
}

int vdf_blks_welcome_validate(const struct vdf_blks_welcome *w)
{
	if (w->status > 0 || w->status < -4095)
		return -EINVAL;
	if (w->status)
		return 0;
	if (!is_pow2(w->block_size) || w->block_size < 512 || w->block_size > 65536)
		return -EINVAL;
	if (!w->num_blocks || w->num_blocks > UINT64_MAX / w->block_size)
		return -EINVAL;
	if (w->max_transfer < w->block_size || w->max_transfer % w->block_size)
		return -EINVAL;
	if (!w->max_in_flight || w->max_in_flight > VDF_BLKS_RING_MAX)
		return -EINVAL;
	if (w->flags & ~VDF_BLKS_F_KNOWN)
		return -EINVAL;
	if (!str_ok(w->model, sizeof(w->model)) || !str_ok(w->serial, sizeof(w->serial)))
		return -EINVAL;
	return 0;
}

/* Copy src (a field of srccap bytes) into a field of cap bytes,
 * NUL-terminated and zero-padded. */
static void copy_str(char *dst, size_t cap, const char *src, size_t srccap)
{
	size_t len = strnlen(src, cap - 1 < srccap ? cap - 1 : srccap);

	memset(dst, 0, cap);
	memcpy(dst, src, len);
}

void vdf_blks_welcome_from_info(const struct vdf_block_info *info, uint32_t generation,
				struct vdf_blks_welcome *w)
{
	memset(w, 0, sizeof(*w));
	w->generation = generation;
	w->num_blocks = info->num_blocks;
	w->block_size = info->block_size;
	w->max_transfer = info->max_transfer;
	w->max_in_flight = info->queue_depth;
	if (info->read_only)
		w->flags |= VDF_BLKS_F_READ_ONLY;
	if (info->volatile_cache)
		w->flags |= VDF_BLKS_F_VOLATILE_CACHE;
	if (info->supports_discard)
		w->flags |= VDF_BLKS_F_DISCARD;
	if (info->supports_write_zeroes)
		w->flags |= VDF_BLKS_F_WRITE_ZEROES;
	if (info->discard_zeroes)
		w->flags |= VDF_BLKS_F_DISCARD_ZEROES;
	copy_str(w->model, sizeof(w->model), info->model, sizeof(info->model));
	copy_str(w->serial, sizeof(w->serial), info->serial, sizeof(info->serial));
}

void vdf_blks_welcome_to_info(const struct vdf_blks_welcome *w, struct vdf_block_info *info)
{
	memset(info, 0, sizeof(*info));
	info->num_blocks = w->num_blocks;
	info->block_size = w->block_size;
	info->max_transfer = w->max_transfer;
	info->queue_depth = w->max_in_flight;
	info->read_only = w->flags & VDF_BLKS_F_READ_ONLY;
	info->volatile_cache = w->flags & VDF_BLKS_F_VOLATILE_CACHE;
	info->supports_discard = w->flags & VDF_BLKS_F_DISCARD;
	info->supports_write_zeroes = w->flags & VDF_BLKS_F_WRITE_ZEROES;
	info->discard_zeroes = w->flags & VDF_BLKS_F_DISCARD_ZEROES;
	copy_str(info->model, sizeof(info->model), w->model, sizeof(w->model));
	copy_str(info->serial, sizeof(info->serial), w->serial, sizeof(w->serial));
}

/* ---- codecs ------------------------------------------------------------- */

static size_t body_size(uint16_t type)
{
	switch (type) {
	case VDF_BLKS_HELLO:
		return sizeof(struct wire_hello);
	case VDF_BLKS_WELCOME:
		return sizeof(struct wire_welcome);
	default:
		return 0;
	}
}

static int encode_hdr(uint16_t type, void *buf, size_t len)
{
	return vdf_fdmsg_hdr_encode(VDF_BLKS_MAGIC, VDF_BLKS_VERSION, type, body_size(type), buf,
				    len);
}

static int decode_hdr(const void *buf, size_t len, uint16_t want)
{
	return vdf_fdmsg_hdr_decode(buf, len, VDF_BLKS_MAGIC, VDF_BLKS_VERSION, want,
				    body_size(want));
}

int vdf_blks_encode_hello(const struct vdf_blks_hello *h, void *buf, size_t len)
{
	struct wire_hello w = {
	    .flags = htole32(h->flags),
	    .sq_capacity = htole32(h->sq_capacity),
	    .region_size = htole64(h->region_size),
	    .sq_off = htole64(h->sq_off),
	    .cq_off = htole64(h->cq_off),
	    .cq_capacity = htole32(h->cq_capacity),
	    .data_off = htole64(h->data_off),
	    .data_size = htole64(h->data_size),
	};
	int total;

	if (vdf_blks_hello_validate(h))
		return -EINVAL;
	total = encode_hdr(VDF_BLKS_HELLO, buf, len);
	if (total > 0)
		memcpy((uint8_t *)buf + VDF_FDMSG_HDR_SIZE, &w, sizeof(w));
	return total;
}

int vdf_blks_decode_hello(const void *buf, size_t len, struct vdf_blks_hello *h)
{
	struct vdf_blks_hello out;
	struct wire_hello w;
	int rc = decode_hdr(buf, len, VDF_BLKS_HELLO);

	if (rc)
		return rc;
	memcpy(&w, (const uint8_t *)buf + VDF_FDMSG_HDR_SIZE, sizeof(w));
	if (w.reserved)
		return -EBADMSG;
	out = (struct vdf_blks_hello){
	    .flags = le32toh(w.flags),
	    .region_size = le64toh(w.region_size),
	    .sq_off = le64toh(w.sq_off),
	    .sq_capacity = le32toh(w.sq_capacity),
	    .cq_off = le64toh(w.cq_off),
	    .cq_capacity = le32toh(w.cq_capacity),
	    .data_off = le64toh(w.data_off),
	    .data_size = le64toh(w.data_size),
	};
	if (vdf_blks_hello_validate(&out))
		return -EBADMSG;
	*h = out;
	return 0;
}

int vdf_blks_encode_welcome(const struct vdf_blks_welcome *w, void *buf, size_t len)
{
	struct wire_welcome ww = {
	    .status = htole32((uint32_t)w->status),
	    .generation = htole32(w->generation),
	    .num_blocks = htole64(w->num_blocks),
	    .block_size = htole32(w->block_size),
	    .max_transfer = htole32(w->max_transfer),
	    .max_in_flight = htole32(w->max_in_flight),
	    .flags = htole32(w->flags),
	};
	int total;

	if (vdf_blks_welcome_validate(w))
		return -EINVAL;
	if (w->status) /* a refusal carries nothing else */
		ww = (struct wire_welcome){.status = htole32((uint32_t)w->status)};
	else {
		copy_str(ww.model, sizeof(ww.model), w->model, sizeof(w->model));
		copy_str(ww.serial, sizeof(ww.serial), w->serial, sizeof(w->serial));
	}
	total = encode_hdr(VDF_BLKS_WELCOME, buf, len);
	if (total > 0)
		memcpy((uint8_t *)buf + VDF_FDMSG_HDR_SIZE, &ww, sizeof(ww));
	return total;
}

int vdf_blks_decode_welcome(const void *buf, size_t len, struct vdf_blks_welcome *w)
{
	struct vdf_blks_welcome out = {0};
	struct wire_welcome ww;
	int rc = decode_hdr(buf, len, VDF_BLKS_WELCOME);

	if (rc)
		return rc;
	memcpy(&ww, (const uint8_t *)buf + VDF_FDMSG_HDR_SIZE, sizeof(ww));
	out.status = (int32_t)le32toh(ww.status);
	if (out.status) {
		static const struct wire_welcome zero;

		ww.status = 0;
		if (memcmp(&ww, &zero, sizeof(ww)))
			return -EBADMSG; /* a refusal carries nothing else */
	} else {
		if (!str_ok(ww.model, sizeof(ww.model)) || !str_ok(ww.serial, sizeof(ww.serial)) ||
		    strnlen(ww.model, sizeof(ww.model)) >= sizeof(out.model) ||
		    strnlen(ww.serial, sizeof(ww.serial)) >= sizeof(out.serial))
			return -EBADMSG;
		out.generation = le32toh(ww.generation);
		out.num_blocks = le64toh(ww.num_blocks);
		out.block_size = le32toh(ww.block_size);
		out.max_transfer = le32toh(ww.max_transfer);
		out.max_in_flight = le32toh(ww.max_in_flight);
		out.flags = le32toh(ww.flags);
		copy_str(out.model, sizeof(out.model), ww.model, sizeof(ww.model));
		copy_str(out.serial, sizeof(out.serial), ww.serial, sizeof(ww.serial));
	}
	if (vdf_blks_welcome_validate(&out))
		return -EBADMSG;
	*w = out;
	return 0;
}

/* ---- socket I/O --------------------------------------------------------- */

int vdf_blks_send_hello(int sock, const struct vdf_blks_hello *h, const int fds[VDF_BLKS_NFDS])
{
	uint8_t buf[VDF_BLKS_MSG_MAX];
	int len = vdf_blks_encode_hello(h, buf, sizeof(buf));

	if (len < 0)
		return len;
	for (unsigned i = 0; i < VDF_BLKS_NFDS; i++)
		if (fds[i] < 0)
			return -EBADF;
	return vdf_fdmsg_send(sock, buf, (size_t)len, fds, VDF_BLKS_NFDS);
}

int vdf_blks_recv_hello(int sock, struct vdf_blks_hello *h, int fds[VDF_BLKS_NFDS], int flags)
{
	uint8_t buf[VDF_BLKS_MSG_MAX + 1]; /* a spare byte: longer messages show as MSG_TRUNC */
	struct vdf_blks_hello hello;
	int got[VDF_BLKS_NFDS];
	int len, rc;

	len = vdf_fdmsg_recv_n(sock, buf, sizeof(buf), got, VDF_BLKS_NFDS, flags, -1);
	if (len < 0)
		return len;
	rc = vdf_blks_decode_hello(buf, (size_t)len, &hello);
	if (rc) {
		vdf_fdmsg_close(got, VDF_BLKS_NFDS);
		return rc;
	}
	*h = hello;
	memcpy(fds, got, sizeof(got));
	return 0;
}

int vdf_blks_send_welcome(int sock, const struct vdf_blks_welcome *w)
{
	uint8_t buf[VDF_BLKS_MSG_MAX];
	int len = vdf_blks_encode_welcome(w, buf, sizeof(buf));

	if (len < 0)
		return len;
	return vdf_fdmsg_send(sock, buf, (size_t)len, NULL, 0);
}

int vdf_blks_recv_welcome(int sock, struct vdf_blks_welcome *w, int timeout_ms)
{
	uint8_t buf[VDF_BLKS_MSG_MAX + 1];
	int len = vdf_fdmsg_recv_n(sock, buf, sizeof(buf), NULL, 0, 0, timeout_ms);

	if (len < 0)
		return len;
	return vdf_blks_decode_welcome(buf, (size_t)len, w);
}

int vdf_blks_check_memfd(int fd, uint64_t region_size)
{
	const int need = F_SEAL_SHRINK | F_SEAL_GROW;
	struct stat st;
	int seals;

	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0)
		return errno == EINVAL ? -EPERM : -errno; /* EINVAL: not a sealable file */
	if ((seals & need) != need)
		return -EPERM;
	if (fstat(fd, &st))
		return -errno;
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != region_size)
		return -EINVAL;
	return 0;
}
