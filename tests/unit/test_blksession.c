// SPDX-License-Identifier: MIT
/*
 * Block session setup (lib/ipc/blksession.c): the standard region layout,
 * every rule a HELLO's geometry must follow (including offsets that would
 * overflow), strict decoding of malformed HELLO/WELCOME messages, welcome <->
 * block info conversion, the messages over a SOCK_SEQPACKET socketpair with
 * real fds (wrong fd counts refused without leaking any), timeouts and peer
 * loss, and the driver's memfd seal/size check.
 */
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "vdf/blkproto.h"
#include "vdf/blksession.h"
#include "vdf/fdmsg.h"
#include "vdf/ring.h"

/* Wire offsets (see the static asserts in lib/ipc/blksession.c). */
#define HDR_SIZE     16
#define OFF_MAGIC    0
#define OFF_VERSION  4
#define OFF_TYPE     6
#define OFF_LENGTH   8
#define OFF_RESERVED 12

#define H_FLAGS	    (HDR_SIZE + 0)
#define H_SQ_CAP    (HDR_SIZE + 4)
#define H_REGION    (HDR_SIZE + 8)
#define H_SQ_OFF    (HDR_SIZE + 16)
#define H_CQ_OFF    (HDR_SIZE + 24)
#define H_CQ_CAP    (HDR_SIZE + 32)
#define H_RESERVED  (HDR_SIZE + 36)
#define H_DATA_OFF  (HDR_SIZE + 40)
#define H_DATA_SIZE (HDR_SIZE + 48)
#define HELLO_LEN   (HDR_SIZE + 56)

#define W_STATUS     (HDR_SIZE + 0)
#define W_GENERATION (HDR_SIZE + 4)
#define W_NUM_BLOCKS (HDR_SIZE + 8)
#define W_BLOCK_SIZE (HDR_SIZE + 16)
#define W_MAX_XFER   (HDR_SIZE + 20)
#define W_MAX_INFL   (HDR_SIZE + 24)
#define W_FLAGS	     (HDR_SIZE + 28)
#define W_MODEL	     (HDR_SIZE + 32)
#define W_MODEL_LEN  48
#define W_SERIAL     (HDR_SIZE + 80)
#define W_SERIAL_LEN 24
#define WELCOME_LEN  (HDR_SIZE + 104)

#define PAGE	VDF_BLKS_PAGE
#define SQ_SLOT ((uint32_t)sizeof(struct vdf_blk_req_wire))
#define CQ_SLOT ((uint32_t)sizeof(struct vdf_blk_cpl_wire))

/* ---- helpers ------------------------------------------------------------ */

static void put16(uint8_t *buf, size_t off, uint16_t v)
{
	v = htole16(v);
	memcpy(buf + off, &v, 2);
}

static void put32(uint8_t *buf, size_t off, uint32_t v)
{
	v = htole32(v);
	memcpy(buf + off, &v, 4);
}

static void put64(uint8_t *buf, size_t off, uint64_t v)
{
	v = htole64(v);
	memcpy(buf + off, &v, 8);
}

static uint32_t get32(const uint8_t *buf, size_t off)
{
	uint32_t v;

	memcpy(&v, buf + off, 4);
	return le32toh(v);
}

static uint64_t get64(const uint8_t *buf, size_t off)
{
	uint64_t v;

	memcpy(&v, buf + off, 8);
	return le64toh(v);
}

static uint64_t sq_len(uint32_t cap)
{
	return vdf_ring_layout_size(cap, SQ_SLOT);
}

static uint64_t cq_len(uint32_t cap)
{
	return vdf_ring_layout_size(cap, CQ_SLOT);
}

static bool ranges_disjoint(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a + alen <= b || b + blen <= a;
}

/* The layout for depth 1 and one data page: sq at 0 (240 bytes), cq at 256
 * (208 bytes), data at 4096, region 8192. */
static struct vdf_blks_hello base_hello(void)
{
	struct vdf_blks_hello h;

	assert_int_equal(vdf_blks_layout(1, PAGE, &h), 0);
	assert_int_equal(h.sq_off, 0);
	assert_int_equal(h.cq_off, 256);
	assert_int_equal(h.data_off, PAGE);
	assert_int_equal(h.region_size, 2 * PAGE);
	return h;
}

static void assert_hello_equal(const struct vdf_blks_hello *a, const struct vdf_blks_hello *b)
{
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(a->region_size, b->region_size);
	assert_int_equal(a->sq_off, b->sq_off);
	assert_int_equal(a->sq_capacity, b->sq_capacity);
	assert_int_equal(a->cq_off, b->cq_off);
	assert_int_equal(a->cq_capacity, b->cq_capacity);
	assert_int_equal(a->data_off, b->data_off);
	assert_int_equal(a->data_size, b->data_size);
}

static void sample_welcome(struct vdf_blks_welcome *w)
{
	memset(w, 0, sizeof(*w));
	w->generation = 9;
	w->num_blocks = 2097152;
	w->block_size = 512;
	w->max_transfer = 128 * 1024;
	w->max_in_flight = 64;
	w->flags = VDF_BLKS_F_VOLATILE_CACHE | VDF_BLKS_F_DISCARD;
	strcpy(w->model, "QEMU NVMe Ctrl");
	strcpy(w->serial, "deadbeef");
}

static void assert_welcome_equal(const struct vdf_blks_welcome *a, const struct vdf_blks_welcome *b)
{
	assert_int_equal(a->status, b->status);
	assert_int_equal(a->generation, b->generation);
	assert_int_equal(a->num_blocks, b->num_blocks);
	assert_int_equal(a->block_size, b->block_size);
	assert_int_equal(a->max_transfer, b->max_transfer);
	assert_int_equal(a->max_in_flight, b->max_in_flight);
	assert_int_equal(a->flags, b->flags);
	assert_memory_equal(a->model, b->model, sizeof(a->model));
	assert_memory_equal(a->serial, b->serial, sizeof(a->serial));
}

static void encode_base_hello(uint8_t *buf)
{
	struct vdf_blks_hello h = base_hello();

	assert_int_equal(vdf_blks_encode_hello(&h, buf, VDF_BLKS_MSG_MAX), HELLO_LEN);
}

static void encode_sample_welcome(uint8_t *buf)
{
	struct vdf_blks_welcome w;

	sample_welcome(&w);
	assert_int_equal(vdf_blks_encode_welcome(&w, buf, VDF_BLKS_MSG_MAX), WELCOME_LEN);
}

/* Decode a HELLO and check that a rejection leaves *out untouched. */
static int decode_hello(const uint8_t *buf, size_t len)
{
	struct vdf_blks_hello out, canary;
	int ret;

	memset(&out, 0xa5, sizeof(out));
	canary = out;
	ret = vdf_blks_decode_hello(buf, len, &out);
	if (ret)
		assert_memory_equal(&out, &canary, sizeof(out));
	return ret;
}

static int decode_welcome(const uint8_t *buf, size_t len)
{
	struct vdf_blks_welcome out, canary;
	int ret;

	memset(&out, 0xa5, sizeof(out));
	canary = out;
	ret = vdf_blks_decode_welcome(buf, len, &out);
	if (ret)
		assert_memory_equal(&out, &canary, sizeof(out));
	return ret;
}

static void socketpair_seq(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
}

/* Open file descriptors of this process. */
static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own fd */
}

/* A memfd of size bytes, sealed against shrinking and growing when seal. */
static int make_memfd(uint64_t size, bool seal)
{
	int fd = memfd_create("blks-test", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	if (seal)
		assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW), 0);
	return fd;
}

static int make_eventfd(void)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	assert_true(fd >= 0);
	return fd;
}

/* The three session fds: memfd, sq doorbell, cq doorbell. */
static void make_session_fds(int fds[VDF_BLKS_NFDS], uint64_t region_size)
{
	fds[VDF_BLKS_FD_MEM] = make_memfd(region_size, true);
	fds[VDF_BLKS_FD_SQ_KICK] = make_eventfd();
	fds[VDF_BLKS_FD_CQ_KICK] = make_eventfd();
}

static void close_fds(int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (fds[i] >= 0)
			assert_int_equal(close(fds[i]), 0);
		fds[i] = -1;
	}
}

/* ---- layout ------------------------------------------------------------- */

static void check_layout(const struct vdf_blks_hello *h, uint32_t depth, uint64_t data_size)
{
	assert_int_equal(h->flags, 0);
	assert_int_equal(h->sq_capacity, depth);
	assert_int_equal(h->cq_capacity, depth);
	assert_int_equal(h->data_size, data_size);
	assert_int_equal(h->sq_off % VDF_RING_CACHE_LINE, 0);
	assert_int_equal(h->cq_off % VDF_RING_CACHE_LINE, 0);
	assert_int_equal(h->data_off % PAGE, 0);
	assert_int_equal(h->region_size % PAGE, 0);
	assert_true(h->region_size <= VDF_BLKS_REGION_MAX);
	/* Inside the region. */
	assert_true(h->sq_off + sq_len(depth) <= h->region_size);
	assert_true(h->cq_off + cq_len(depth) <= h->region_size);
	assert_int_equal(h->data_off + h->data_size, h->region_size);
	/* Disjoint, in order sq, cq, data. */
	assert_true(ranges_disjoint(h->sq_off, sq_len(depth), h->cq_off, cq_len(depth)));
	assert_true(ranges_disjoint(h->sq_off, sq_len(depth), h->data_off, h->data_size));
	assert_true(ranges_disjoint(h->cq_off, cq_len(depth), h->data_off, h->data_size));
	assert_true(h->sq_off + sq_len(depth) <= h->cq_off);
	assert_true(h->cq_off + cq_len(depth) <= h->data_off);
	/* Compact: data at the first page after cq. */
	assert_true(h->data_off < h->cq_off + cq_len(depth) + PAGE);
	assert_int_equal(vdf_blks_hello_validate(h), 0);
}

static void test_layout_valid(void **state)
{
	struct vdf_blks_hello h;

	(void)state;
	for (uint32_t depth = 1; depth <= VDF_BLKS_RING_MAX; depth <<= 1) {
		static const uint64_t sizes[] = {PAGE, 16 * PAGE, 1u << 20, 64u << 20};

		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			memset(&h, 0xa5, sizeof(h));
			assert_int_equal(vdf_blks_layout(depth, sizes[i], &h), 0);
			check_layout(&h, depth, sizes[i]);
		}
	}
	/* Known values at the extremes. */
	assert_int_equal(vdf_blks_layout(4096, PAGE, &h), 0);
	assert_int_equal(h.sq_off, 0);
	assert_int_equal(h.cq_off, VDF_RING_HDR_SIZE + 4096ull * SQ_SLOT);
	assert_int_equal(h.data_off, 65 * PAGE);
	assert_int_equal(h.region_size, 66 * PAGE);
	(void)base_hello();

	/* The largest data area that fits. */
	assert_int_equal(vdf_blks_layout(1, VDF_BLKS_REGION_MAX - PAGE, &h), 0);
	assert_int_equal(h.region_size, VDF_BLKS_REGION_MAX);
	check_layout(&h, 1, VDF_BLKS_REGION_MAX - PAGE);
	assert_int_equal(vdf_blks_layout(4096, VDF_BLKS_REGION_MAX - 65 * PAGE, &h), 0);
	assert_int_equal(h.region_size, VDF_BLKS_REGION_MAX);
	check_layout(&h, 4096, VDF_BLKS_REGION_MAX - 65 * PAGE);
}

static void test_layout_invalid(void **state)
{
	static const uint32_t bad_depths[] = {0,    3,	  5,	6,	  100,
					      4095, 4097, 8192, 1u << 31, UINT32_MAX};
	static const uint64_t bad_sizes[] = {
	    0,
	    1,
	    PAGE - 1,
	    PAGE + 1,
	    PAGE + 512,
	    VDF_BLKS_REGION_MAX, /* no room left for the rings */
	    VDF_BLKS_REGION_MAX + PAGE,
	    1ull << 40,
	    UINT64_MAX - (PAGE - 1), /* page-aligned, would overflow */
	    UINT64_MAX,
	};
	struct vdf_blks_hello h, canary;

	(void)state;
	memset(&h, 0x5a, sizeof(h));
	canary = h;
	for (size_t i = 0; i < sizeof(bad_depths) / sizeof(bad_depths[0]); i++)
		assert_int_equal(vdf_blks_layout(bad_depths[i], PAGE, &h), -EINVAL);
	for (size_t i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
		assert_int_equal(vdf_blks_layout(1, bad_sizes[i], &h), -EINVAL);
		assert_int_equal(vdf_blks_layout(4096, bad_sizes[i], &h), -EINVAL);
	}
	/* One page too many for the rings in front of it. */
	assert_int_equal(vdf_blks_layout(4096, VDF_BLKS_REGION_MAX - 64 * PAGE, &h), -EINVAL);
	/* Nothing written on failure. */
	assert_memory_equal(&h, &canary, sizeof(h));
}

/* ---- hello validation --------------------------------------------------- */

#define EXPECT_HELLO_INVALID(field, value)                               \
	do {                                                             \
		struct vdf_blks_hello _h = base_hello();                 \
		_h.field = (value);                                      \
		assert_int_equal(vdf_blks_hello_validate(&_h), -EINVAL); \
	} while (0)

static void test_hello_validate_fields(void **state)
{
	struct vdf_blks_hello h = base_hello();

	(void)state;
	assert_int_equal(vdf_blks_hello_validate(&h), 0);
	h.flags = VDF_BLKS_HELLO_F_POLLED;
	assert_int_equal(vdf_blks_hello_validate(&h), 0);

	/* Unknown flags. */
	EXPECT_HELLO_INVALID(flags, BIT(1));
	EXPECT_HELLO_INVALID(flags, BIT(31));
	EXPECT_HELLO_INVALID(flags, ~0u);

	/* Region size: 0, not page-aligned, too large. */
	EXPECT_HELLO_INVALID(region_size, 0);
	EXPECT_HELLO_INVALID(region_size, 2 * PAGE + 1);
	EXPECT_HELLO_INVALID(region_size, 2 * PAGE - 512);
	EXPECT_HELLO_INVALID(region_size, VDF_BLKS_REGION_MAX + PAGE);
	EXPECT_HELLO_INVALID(region_size, UINT64_MAX - (PAGE - 1));
	EXPECT_HELLO_INVALID(region_size, UINT64_MAX);
	/* The largest region is fine. */
	h = base_hello();
	h.region_size = VDF_BLKS_REGION_MAX;
	assert_int_equal(vdf_blks_hello_validate(&h), 0);

	/* Capacities: not a power of two, out of range. */
	EXPECT_HELLO_INVALID(sq_capacity, 0);
	EXPECT_HELLO_INVALID(sq_capacity, 3);
	EXPECT_HELLO_INVALID(sq_capacity, 8192);
	EXPECT_HELLO_INVALID(sq_capacity, 1u << 31);
	EXPECT_HELLO_INVALID(sq_capacity, UINT32_MAX);
	EXPECT_HELLO_INVALID(cq_capacity, 0);
	EXPECT_HELLO_INVALID(cq_capacity, 3);
	EXPECT_HELLO_INVALID(cq_capacity, 8192);
	EXPECT_HELLO_INVALID(cq_capacity, 1u << 31);
	EXPECT_HELLO_INVALID(cq_capacity, UINT32_MAX);

	/* Ring offsets not on a cache line. */
	EXPECT_HELLO_INVALID(sq_off, 8);
	EXPECT_HELLO_INVALID(sq_off, 32);
	EXPECT_HELLO_INVALID(cq_off, 256 + 8);
	EXPECT_HELLO_INVALID(cq_off, 256 + 32);
	EXPECT_HELLO_INVALID(cq_off, 1);

	/* Data area: empty, not page-aligned. */
	EXPECT_HELLO_INVALID(data_size, 0);
	EXPECT_HELLO_INVALID(data_size, 512);
	EXPECT_HELLO_INVALID(data_size, PAGE - 1);
	EXPECT_HELLO_INVALID(data_off, PAGE + 64);
	EXPECT_HELLO_INVALID(data_off, PAGE + 512);
}

static void test_hello_validate_overlap(void **state)
{
	struct vdf_blks_hello h;

	(void)state;
	/* sq [0, 240) and cq [192, 400) overlap. */
	h = base_hello();
	h.cq_off = 192;
	assert_int_equal(vdf_blks_hello_validate(&h), -EINVAL);
	/* cq below sq, overlapping: cq [0, 208), sq [128, 368). */
	h = base_hello();
	h.cq_off = 0;
	h.sq_off = 128;
	assert_int_equal(vdf_blks_hello_validate(&h), -EINVAL);
	/* Same offset. */
	h = base_hello();
	h.cq_off = 0;
	assert_int_equal(vdf_blks_hello_validate(&h), -EINVAL);

	/* sq and data overlap, cq elsewhere: sq at 0, data [0, 4096), cq at 8192. */
	h = base_hello();
	h.region_size = 3 * PAGE;
	h.data_off = 0;
	h.cq_off = 2 * PAGE;
	assert_int_equal(vdf_blks_hello_validate(&h), -EINVAL);
	/* cq and data overlap, sq elsewhere. */
	h = base_hello();
	h.region_size = 3 * PAGE;
	h.data_off = 0;
	h.sq_off = 2 * PAGE;
	assert_int_equal(vdf_blks_hello_validate(&h), -EINVAL);
	/* A ring straddling the start of the data area: sq [8128, 8368), data
	 * [8192, 12288). */
	h = base_hello();
	h.region_size = 3 * PAGE;
	h.sq_off = 2 * PAGE - 64;
	h.data_off = 2 * PAGE;
	assert_int_equal(vdf_blks_hello_validate(&h), -EINVAL);
	/* Data larger than everything, covering the rings. */
	h = base_hello();
	h.data_off = 0;
	h.data_size = 2 * PAGE;
	assert_int_equal(vdf_blks_hello_validate(&h), -EINVAL);

	/* Touching ranges are fine: data [0, 4096), sq [4096, 4336), cq right after
	 * it at [4352, 4560). */
	h = base_hello();
	h.data_off = 0;
	h.sq_off = PAGE;
	h.cq_off = PAGE + 256;
	assert_int_equal(vdf_blks_hello_validate(&h), 0);
	/* cq first, sq right after its end (208 -> 256), data after both. */
	h = base_hello();
	h.cq_off = 0;
	h.sq_off = 256;
	assert_int_equal(vdf_blks_hello_validate(&h), 0);
	/* Both rings at the region's end, after the data area: data [4096, 8192),
	 * cq [11776, 11984), sq [12032, 12272). */
	h = base_hello();
	h.region_size = 3 * PAGE;
	h.sq_off = 3 * PAGE - 256; /* [12032, 12272) */
	h.cq_off = 3 * PAGE - 256 - 256;
	assert_int_equal(vdf_blks_hello_validate(&h), 0);
	/* Different capacities for sq and cq are allowed. */
	h = base_hello();
	h.sq_capacity = 4;
	h.cq_capacity = 16;
	h.cq_off = PAGE;
	h.data_off = 2 * PAGE;
	h.region_size = 3 * PAGE;
	assert_int_equal(vdf_blks_hello_validate(&h), 0);
}

/* The rings after the data area, so that a ring moved past the region's end
 * overlaps nothing: data [0, 4096), sq [4096, 4336), cq [4352, 4560), region
 * 8192. */
static struct vdf_blks_hello data_first_hello(void)
{
	struct vdf_blks_hello h = base_hello();

	h.data_off = 0;
	h.sq_off = PAGE;
	h.cq_off = PAGE + 256;
	assert_int_equal(vdf_blks_hello_validate(&h), 0);
	return h;
}

#define EXPECT_DF_HELLO_INVALID(field, value)                            \
	do {                                                             \
		struct vdf_blks_hello _h = data_first_hello();           \
		_h.field = (value);                                      \
		assert_int_equal(vdf_blks_hello_validate(&_h), -EINVAL); \
	} while (0)

static void test_hello_validate_bounds(void **state)
{
	struct vdf_blks_hello h;

	(void)state;
	/* Rings past the region's end (overlapping nothing). */
	EXPECT_DF_HELLO_INVALID(sq_off, 2 * PAGE - 192);
	EXPECT_DF_HELLO_INVALID(sq_off, 2 * PAGE - 64);
	EXPECT_DF_HELLO_INVALID(sq_off, 2 * PAGE);
	EXPECT_DF_HELLO_INVALID(sq_off, 1ull << 40);
	EXPECT_DF_HELLO_INVALID(cq_off, 2 * PAGE - 192);
	EXPECT_DF_HELLO_INVALID(cq_off, 2 * PAGE - 64);
	EXPECT_DF_HELLO_INVALID(cq_off, 2 * PAGE);
	/* Near the end is fine: sq [7936, 8176). */
	h = data_first_hello();
	h.sq_off = 2 * PAGE - 256;
	assert_int_equal(vdf_blks_hello_validate(&h), 0);
	/* A ring ending exactly at the region's end (4 slots: 384 bytes) is
	 * fine, one cache line further is not. */
	h = data_first_hello();
	h.sq_capacity = 4;
	h.sq_off = 2 * PAGE - 384;
	assert_int_equal(vdf_blks_hello_validate(&h), 0);
	h.sq_off += 64;
	assert_int_equal(vdf_blks_hello_validate(&h), -EINVAL);
	/* The data area past the end. */
	EXPECT_HELLO_INVALID(data_off, 2 * PAGE);
	EXPECT_HELLO_INVALID(data_off, 8 * PAGE);
	EXPECT_HELLO_INVALID(data_size, 2 * PAGE);
	EXPECT_HELLO_INVALID(data_size, VDF_BLKS_REGION_MAX);
	EXPECT_DF_HELLO_INVALID(data_size, 3 * PAGE);
	/* A ring larger than the whole region (4096 slots of 48 bytes). */
	EXPECT_HELLO_INVALID(sq_capacity, 4096);
	EXPECT_HELLO_INVALID(cq_capacity, 4096);

	/* Offsets that wrap around 2^64 when the length is added. */
	EXPECT_HELLO_INVALID(data_off, UINT64_MAX - (PAGE - 1));
	EXPECT_HELLO_INVALID(data_off, UINT64_MAX - (2 * PAGE - 1));
	EXPECT_HELLO_INVALID(data_off, 1ull << 63);
	EXPECT_DF_HELLO_INVALID(sq_off, UINT64_MAX - 63);
	EXPECT_DF_HELLO_INVALID(sq_off, UINT64_MAX - 191);
	EXPECT_DF_HELLO_INVALID(sq_off, UINT64_MAX - 255);
	EXPECT_DF_HELLO_INVALID(cq_off, UINT64_MAX - 63);
	EXPECT_DF_HELLO_INVALID(cq_off, UINT64_MAX - 255);
	EXPECT_DF_HELLO_INVALID(data_off, UINT64_MAX - (PAGE - 1));
	EXPECT_DF_HELLO_INVALID(data_size, UINT64_MAX - (PAGE - 1));
	h = base_hello();
	h.data_off = PAGE;
	h.data_size = UINT64_MAX - (PAGE - 1); /* PAGE + size wraps to 0 */
	assert_int_equal(vdf_blks_hello_validate(&h), -EINVAL);
	/* A wrapped range would look disjoint from everything. */
	h = data_first_hello();
	h.data_off = UINT64_MAX - (PAGE - 1);
	h.data_size = 2 * PAGE;
	assert_int_equal(vdf_blks_hello_validate(&h), -EINVAL);
}

/* ---- hello codec -------------------------------------------------------- */

static void test_hello_roundtrip(void **state)
{
	uint8_t buf[VDF_BLKS_MSG_MAX], again[VDF_BLKS_MSG_MAX];
	struct vdf_blks_hello h, d;

	(void)state;
	for (uint32_t depth = 1; depth <= VDF_BLKS_RING_MAX; depth <<= 1) {
		assert_int_equal(vdf_blks_layout(depth, 1u << 20, &h), 0);
		h.flags = depth & 2 ? VDF_BLKS_HELLO_F_POLLED : 0;
		assert_int_equal(vdf_blks_encode_hello(&h, buf, sizeof(buf)), HELLO_LEN);
		memset(&d, 0xa5, sizeof(d));
		assert_int_equal(vdf_blks_decode_hello(buf, HELLO_LEN, &d), 0);
		assert_hello_equal(&h, &d);
		/* Canonical: encoding what was decoded gives the same bytes. */
		assert_int_equal(vdf_blks_encode_hello(&d, again, sizeof(again)), HELLO_LEN);
		assert_memory_equal(buf, again, HELLO_LEN);
	}

	/* The wire layout, little-endian. */
	h = base_hello();
	h.flags = VDF_BLKS_HELLO_F_POLLED;
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(vdf_blks_encode_hello(&h, buf, HELLO_LEN), HELLO_LEN);
	assert_memory_equal(buf + OFF_MAGIC, "VDFS", 4);
	assert_int_equal(buf[OFF_VERSION], VDF_BLKS_VERSION);
	assert_int_equal(buf[OFF_VERSION + 1], 0);
	assert_int_equal(buf[OFF_TYPE], VDF_BLKS_HELLO);
	assert_int_equal(buf[OFF_TYPE + 1], 0);
	assert_int_equal(get32(buf, OFF_LENGTH), HELLO_LEN);
	assert_int_equal(get32(buf, OFF_RESERVED), 0);
	assert_int_equal(get32(buf, H_FLAGS), VDF_BLKS_HELLO_F_POLLED);
	assert_int_equal(get32(buf, H_SQ_CAP), 1);
	assert_int_equal(get64(buf, H_REGION), 2 * PAGE);
	assert_int_equal(get64(buf, H_SQ_OFF), 0);
	assert_int_equal(get64(buf, H_CQ_OFF), 256);
	assert_int_equal(get32(buf, H_CQ_CAP), 1);
	assert_int_equal(get32(buf, H_RESERVED), 0);
	assert_int_equal(get64(buf, H_DATA_OFF), PAGE);
	assert_int_equal(get64(buf, H_DATA_SIZE), PAGE);
	/* Nothing written past the message. */
	assert_int_equal(buf[HELLO_LEN], 0xee);
}

static void test_hello_encode_rejects(void **state)
{
	uint8_t buf[VDF_BLKS_MSG_MAX];
	struct vdf_blks_hello h = base_hello();

	(void)state;
	assert_int_equal(vdf_blks_encode_hello(&h, buf, HELLO_LEN - 1), -ENOSPC);
	assert_int_equal(vdf_blks_encode_hello(&h, buf, 0), -ENOSPC);
	h.sq_capacity = 3;
	assert_int_equal(vdf_blks_encode_hello(&h, buf, sizeof(buf)), -EINVAL);
	h = base_hello();
	h.flags = BIT(7);
	assert_int_equal(vdf_blks_encode_hello(&h, buf, sizeof(buf)), -EINVAL);
	h = base_hello();
	h.data_off = UINT64_MAX - (PAGE - 1);
	assert_int_equal(vdf_blks_encode_hello(&h, buf, sizeof(buf)), -EINVAL);
}

static void test_hello_decode_header(void **state)
{
	uint8_t buf[VDF_BLKS_MSG_MAX + 8];

	(void)state;
	encode_base_hello(buf);
	assert_int_equal(decode_hello(buf, HELLO_LEN), 0);

	/* Short buffers, down to nothing, as exact-size heap copies so that
	 * ASan sees any read past the end. */
	for (size_t len = 0; len <= HELLO_LEN; len++) {
		uint8_t *copy = malloc(len ? len : 1);

		assert_non_null(copy);
		memcpy(copy, buf, len);
		assert_int_equal(decode_hello(copy, len), len == HELLO_LEN ? 0 : -EMSGSIZE);
		free(copy);
	}
	assert_int_equal(decode_hello(buf, 0), -EMSGSIZE);
	assert_int_equal(decode_hello(buf, HDR_SIZE - 1), -EMSGSIZE);
	assert_int_equal(decode_hello(buf, HDR_SIZE), -EMSGSIZE);
	assert_int_equal(decode_hello(buf, HELLO_LEN - 1), -EMSGSIZE);
	/* Trailing bytes. */
	memset(buf + HELLO_LEN, 0, 8);
	assert_int_equal(decode_hello(buf, HELLO_LEN + 1), -EMSGSIZE);
	assert_int_equal(decode_hello(buf, HELLO_LEN + 8), -EMSGSIZE);

	/* Bad magic, every byte. */
	for (size_t i = 0; i < 4; i++) {
		encode_base_hello(buf);
		buf[OFF_MAGIC + i] ^= 0x20;
		assert_int_equal(decode_hello(buf, HELLO_LEN), -EBADMSG);
	}
	encode_base_hello(buf);
	put32(buf, OFF_MAGIC, 0);
	assert_int_equal(decode_hello(buf, HELLO_LEN), -EBADMSG);

	/* Other versions. */
	static const uint16_t versions[] = {0, 2, 0x100, 0xffff};
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		encode_base_hello(buf);
		put16(buf, OFF_VERSION, versions[i]);
		assert_int_equal(decode_hello(buf, HELLO_LEN), -EPROTONOSUPPORT);
	}

	/* A later version with a longer message: the version is reported, not
	 * the length. */
	encode_base_hello(buf);
	put16(buf, OFF_VERSION, VDF_BLKS_VERSION + 1);
	put32(buf, OFF_LENGTH, HELLO_LEN + 8);
	memset(buf + HELLO_LEN, 0, 8);
	assert_int_equal(decode_hello(buf, HELLO_LEN + 8), -EPROTONOSUPPORT);

	/* Wrong type: a welcome, unknown types. */
	static const uint16_t types[] = {0, VDF_BLKS_WELCOME, 3, 0x101, 0xffff};
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		encode_base_hello(buf);
		put16(buf, OFF_TYPE, types[i]);
		assert_int_equal(decode_hello(buf, HELLO_LEN), -EBADMSG);
	}
	/* A whole welcome given to the hello decoder. */
	encode_sample_welcome(buf);
	assert_int_equal(decode_hello(buf, WELCOME_LEN), -EBADMSG);

	/* Length field disagreeing with the buffer. */
	static const uint32_t lengths[] = {0,		HDR_SIZE,  HELLO_LEN - 1, HELLO_LEN + 1,
					   WELCOME_LEN, UINT32_MAX};
	for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
		encode_base_hello(buf);
		put32(buf, OFF_LENGTH, lengths[i]);
		assert_int_equal(decode_hello(buf, HELLO_LEN), -EMSGSIZE);
	}
	/* A consistent length field but a longer body. */
	encode_base_hello(buf);
	put32(buf, OFF_LENGTH, HELLO_LEN + 8);
	memset(buf + HELLO_LEN, 0, 8);
	assert_int_equal(decode_hello(buf, HELLO_LEN + 8), -EMSGSIZE);

	/* Reserved header field, every byte. */
	for (size_t i = 0; i < 4; i++) {
		encode_base_hello(buf);
		buf[OFF_RESERVED + i] = 1;
		assert_int_equal(decode_hello(buf, HELLO_LEN), -EBADMSG);
	}
	/* Reserved body field. */
	for (size_t i = 0; i < 4; i++) {
		encode_base_hello(buf);
		buf[H_RESERVED + i] = 0x80;
		assert_int_equal(decode_hello(buf, HELLO_LEN), -EBADMSG);
	}
}

static void test_hello_decode_values(void **state)
{
	uint8_t buf[VDF_BLKS_MSG_MAX];

	(void)state;
#define EXPECT_WIRE_HELLO_BAD(put, off, value)                            \
	do {                                                              \
		encode_base_hello(buf);                                   \
		put(buf, off, value);                                     \
		assert_int_equal(decode_hello(buf, HELLO_LEN), -EBADMSG); \
	} while (0)
	EXPECT_WIRE_HELLO_BAD(put32, H_FLAGS, 2);
	EXPECT_WIRE_HELLO_BAD(put32, H_FLAGS, 0x80000000u);
	EXPECT_WIRE_HELLO_BAD(put64, H_REGION, 0);
	EXPECT_WIRE_HELLO_BAD(put64, H_REGION, 2 * PAGE + 1);
	EXPECT_WIRE_HELLO_BAD(put64, H_REGION, VDF_BLKS_REGION_MAX + PAGE);
	EXPECT_WIRE_HELLO_BAD(put32, H_SQ_CAP, 0);
	EXPECT_WIRE_HELLO_BAD(put32, H_SQ_CAP, 3);
	EXPECT_WIRE_HELLO_BAD(put32, H_SQ_CAP, 8192);
	EXPECT_WIRE_HELLO_BAD(put32, H_CQ_CAP, 0);
	EXPECT_WIRE_HELLO_BAD(put32, H_CQ_CAP, 3);
	EXPECT_WIRE_HELLO_BAD(put32, H_CQ_CAP, 8192);
	EXPECT_WIRE_HELLO_BAD(put64, H_SQ_OFF, 8);
	EXPECT_WIRE_HELLO_BAD(put64, H_CQ_OFF, 264);
	EXPECT_WIRE_HELLO_BAD(put64, H_CQ_OFF, 192); /* overlaps sq */
	EXPECT_WIRE_HELLO_BAD(put64, H_DATA_OFF, 0); /* overlaps both rings */
	EXPECT_WIRE_HELLO_BAD(put64, H_DATA_OFF, PAGE + 64);
	EXPECT_WIRE_HELLO_BAD(put64, H_DATA_OFF, 2 * PAGE);
	EXPECT_WIRE_HELLO_BAD(put64, H_DATA_OFF, UINT64_MAX - (PAGE - 1));
	EXPECT_WIRE_HELLO_BAD(put64, H_DATA_SIZE, 0);
	EXPECT_WIRE_HELLO_BAD(put64, H_DATA_SIZE, 100);
	EXPECT_WIRE_HELLO_BAD(put64, H_DATA_SIZE, 2 * PAGE);
	EXPECT_WIRE_HELLO_BAD(put64, H_DATA_SIZE, UINT64_MAX - (PAGE - 1));
	EXPECT_WIRE_HELLO_BAD(put64, H_SQ_OFF, UINT64_MAX - 63);
	EXPECT_WIRE_HELLO_BAD(put64, H_CQ_OFF, UINT64_MAX - 63);
#undef EXPECT_WIRE_HELLO_BAD

	/* A flag it knows decodes. */
	encode_base_hello(buf);
	put32(buf, H_FLAGS, VDF_BLKS_HELLO_F_POLLED);
	assert_int_equal(decode_hello(buf, HELLO_LEN), 0);
}

/* ---- welcome codec ------------------------------------------------------ */

static void test_welcome_roundtrip(void **state)
{
	uint8_t buf[VDF_BLKS_MSG_MAX], again[VDF_BLKS_MSG_MAX];
	struct vdf_blks_welcome w, d;

	(void)state;
	sample_welcome(&w);
	assert_int_equal(vdf_blks_welcome_validate(&w), 0);
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(vdf_blks_encode_welcome(&w, buf, WELCOME_LEN), WELCOME_LEN);
	memset(&d, 0xa5, sizeof(d));
	assert_int_equal(vdf_blks_decode_welcome(buf, WELCOME_LEN, &d), 0);
	assert_welcome_equal(&w, &d);
	assert_int_equal(vdf_blks_encode_welcome(&d, again, sizeof(again)), WELCOME_LEN);
	assert_memory_equal(buf, again, WELCOME_LEN);

	/* Wire layout. */
	assert_memory_equal(buf, "VDFS", 4);
	assert_int_equal(buf[OFF_TYPE], VDF_BLKS_WELCOME);
	assert_int_equal(get32(buf, OFF_LENGTH), WELCOME_LEN);
	assert_int_equal(get32(buf, W_STATUS), 0);
	assert_int_equal(get32(buf, W_GENERATION), 9);
	assert_int_equal(get64(buf, W_NUM_BLOCKS), 2097152);
	assert_int_equal(get32(buf, W_BLOCK_SIZE), 512);
	assert_int_equal(get32(buf, W_MAX_XFER), 128 * 1024);
	assert_int_equal(get32(buf, W_MAX_INFL), 64);
	assert_int_equal(get32(buf, W_FLAGS), VDF_BLKS_F_VOLATILE_CACHE | VDF_BLKS_F_DISCARD);
	assert_string_equal((const char *)buf + W_MODEL, "QEMU NVMe Ctrl");
	assert_string_equal((const char *)buf + W_SERIAL, "deadbeef");
	for (size_t i = strlen("QEMU NVMe Ctrl"); i < W_MODEL_LEN; i++)
		assert_int_equal(buf[W_MODEL + i], 0);
	for (size_t i = strlen("deadbeef"); i < W_SERIAL_LEN; i++)
		assert_int_equal(buf[W_SERIAL + i], 0);
	assert_int_equal(buf[WELCOME_LEN], 0xee);

	/* Extremes: longest strings, every flag, largest values. */
	sample_welcome(&w);
	memset(w.model, 'M', VDF_BLKS_MODEL_LEN - 1);
	memset(w.serial, 'S', VDF_BLKS_SERIAL_LEN - 1);
	w.flags = VDF_BLKS_F_KNOWN;
	w.block_size = 65536;
	w.max_transfer = 65536u * 1024;
	w.num_blocks = UINT64_MAX / 65536;
	w.max_in_flight = VDF_BLKS_RING_MAX;
	w.generation = UINT32_MAX;
	assert_int_equal(vdf_blks_encode_welcome(&w, buf, sizeof(buf)), WELCOME_LEN);
	assert_int_equal(vdf_blks_decode_welcome(buf, WELCOME_LEN, &d), 0);
	assert_welcome_equal(&w, &d);
	/* Empty strings. */
	sample_welcome(&w);
	memset(w.model, 0, sizeof(w.model));
	memset(w.serial, 0, sizeof(w.serial));
	assert_int_equal(vdf_blks_encode_welcome(&w, buf, sizeof(buf)), WELCOME_LEN);
	assert_int_equal(vdf_blks_decode_welcome(buf, WELCOME_LEN, &d), 0);
	assert_welcome_equal(&w, &d);
	/* Every power-of-two block size. */
	for (uint32_t bs = 512; bs <= 65536; bs <<= 1) {
		sample_welcome(&w);
		w.block_size = bs;
		w.max_transfer = bs * 3;
		assert_int_equal(vdf_blks_encode_welcome(&w, buf, sizeof(buf)), WELCOME_LEN);
		assert_int_equal(vdf_blks_decode_welcome(buf, WELCOME_LEN, &d), 0);
		assert_welcome_equal(&w, &d);
	}
}

static void test_welcome_refusal(void **state)
{
	uint8_t buf[VDF_BLKS_MSG_MAX], again[VDF_BLKS_MSG_MAX];
	struct vdf_blks_welcome w, d, zero;
	static const int32_t statuses[] = {-EBUSY, -EACCES, -ENOMEM, -1, -4095};

	(void)state;
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		/* Only the status travels, whatever else the struct holds. */
		sample_welcome(&w);
		w.status = statuses[i];
		w.block_size = 3000; /* not checked for a refusal */
		assert_int_equal(vdf_blks_welcome_validate(&w), 0);
		assert_int_equal(vdf_blks_encode_welcome(&w, buf, sizeof(buf)), WELCOME_LEN);
		assert_int_equal((int32_t)get32(buf, W_STATUS), statuses[i]);
		for (size_t b = W_GENERATION; b < WELCOME_LEN; b++)
			assert_int_equal(buf[b], 0);
		memset(&d, 0xa5, sizeof(d));
		assert_int_equal(vdf_blks_decode_welcome(buf, WELCOME_LEN, &d), 0);
		memset(&zero, 0, sizeof(zero));
		zero.status = statuses[i];
		assert_welcome_equal(&d, &zero);
		assert_int_equal(vdf_blks_encode_welcome(&d, again, sizeof(again)), WELCOME_LEN);
		assert_memory_equal(buf, again, WELCOME_LEN);
	}

	/* Statuses that are not a negative errno. */
	sample_welcome(&w);
	w.status = 1;
	assert_int_equal(vdf_blks_welcome_validate(&w), -EINVAL);
	assert_int_equal(vdf_blks_encode_welcome(&w, buf, sizeof(buf)), -EINVAL);
	w.status = -4096;
	assert_int_equal(vdf_blks_welcome_validate(&w), -EINVAL);
	w.status = INT32_MIN;
	assert_int_equal(vdf_blks_welcome_validate(&w), -EINVAL);
	w.status = INT32_MAX;
	assert_int_equal(vdf_blks_welcome_validate(&w), -EINVAL);

	static const uint32_t wire_bad[] = {1, 0x7fffffffu, 0x80000000u, (uint32_t)-4096};
	for (size_t i = 0; i < sizeof(wire_bad) / sizeof(wire_bad[0]); i++) {
		memset(buf, 0, sizeof(buf));
		w.status = -EBUSY;
		assert_int_equal(vdf_blks_encode_welcome(&w, buf, sizeof(buf)), WELCOME_LEN);
		put32(buf, W_STATUS, wire_bad[i]);
		assert_int_equal(decode_welcome(buf, WELCOME_LEN), -EBADMSG);
	}

	/* A refusal with anything else nonzero, byte by byte. */
	for (size_t b = W_GENERATION; b < WELCOME_LEN; b++) {
		sample_welcome(&w);
		w.status = -EBUSY;
		assert_int_equal(vdf_blks_encode_welcome(&w, buf, sizeof(buf)), WELCOME_LEN);
		assert_int_equal(decode_welcome(buf, WELCOME_LEN), 0);
		buf[b] = 1;
		assert_int_equal(decode_welcome(buf, WELCOME_LEN), -EBADMSG);
	}
}

static void test_welcome_decode_header(void **state)
{
	uint8_t buf[VDF_BLKS_MSG_MAX + 8];

	(void)state;
	encode_sample_welcome(buf);
	assert_int_equal(decode_welcome(buf, WELCOME_LEN), 0);
	for (size_t len = 0; len <= WELCOME_LEN; len++) {
		uint8_t *copy = malloc(len ? len : 1);

		assert_non_null(copy);
		memcpy(copy, buf, len);
		assert_int_equal(decode_welcome(copy, len), len == WELCOME_LEN ? 0 : -EMSGSIZE);
		free(copy);
	}
	memset(buf + WELCOME_LEN, 0, 8);
	assert_int_equal(decode_welcome(buf, WELCOME_LEN + 1), -EMSGSIZE);

	encode_sample_welcome(buf);
	buf[OFF_MAGIC + 3] = 'X';
	assert_int_equal(decode_welcome(buf, WELCOME_LEN), -EBADMSG);

	encode_sample_welcome(buf);
	put16(buf, OFF_VERSION, 2);
	assert_int_equal(decode_welcome(buf, WELCOME_LEN), -EPROTONOSUPPORT);
	put16(buf, OFF_VERSION, 0);
	assert_int_equal(decode_welcome(buf, WELCOME_LEN), -EPROTONOSUPPORT);

	encode_sample_welcome(buf);
	put16(buf, OFF_TYPE, VDF_BLKS_HELLO);
	assert_int_equal(decode_welcome(buf, WELCOME_LEN), -EBADMSG);
	put16(buf, OFF_TYPE, 0);
	assert_int_equal(decode_welcome(buf, WELCOME_LEN), -EBADMSG);
	/* A hello given to the welcome decoder. */
	encode_base_hello(buf);
	assert_int_equal(decode_welcome(buf, HELLO_LEN), -EBADMSG);

	encode_sample_welcome(buf);
	put32(buf, OFF_LENGTH, WELCOME_LEN - 1);
	assert_int_equal(decode_welcome(buf, WELCOME_LEN), -EMSGSIZE);
	put32(buf, OFF_LENGTH, HELLO_LEN);
	assert_int_equal(decode_welcome(buf, WELCOME_LEN), -EMSGSIZE);

	for (size_t i = 0; i < 4; i++) {
		encode_sample_welcome(buf);
		buf[OFF_RESERVED + i] = 0xff;
		assert_int_equal(decode_welcome(buf, WELCOME_LEN), -EBADMSG);
	}
}

static void test_welcome_decode_strings(void **state)
{
	uint8_t buf[VDF_BLKS_MSG_MAX];
	struct vdf_blks_welcome d;

	(void)state;
	/* No NUL anywhere in the wire field. */
	encode_sample_welcome(buf);
	memset(buf + W_MODEL, 'A', W_MODEL_LEN);
	assert_int_equal(decode_welcome(buf, WELCOME_LEN), -EBADMSG);
	encode_sample_welcome(buf);
	memset(buf + W_SERIAL, 'A', W_SERIAL_LEN);
	assert_int_equal(decode_welcome(buf, WELCOME_LEN), -EBADMSG);

	/* Garbage after the NUL. */
	encode_sample_welcome(buf);
	buf[W_MODEL + W_MODEL_LEN - 1] = 'x';
	assert_int_equal(decode_welcome(buf, WELCOME_LEN), -EBADMSG);
	encode_sample_welcome(buf);
	buf[W_MODEL + strlen("QEMU NVMe Ctrl") + 1] = 'x';
	assert_int_equal(decode_welcome(buf, WELCOME_LEN), -EBADMSG);
	encode_sample_welcome(buf);
	buf[W_SERIAL + W_SERIAL_LEN - 1] = 1;
	assert_int_equal(decode_welcome(buf, WELCOME_LEN), -EBADMSG);
	encode_sample_welcome(buf);
	memset(buf + W_SERIAL, 0, W_SERIAL_LEN);
	buf[W_SERIAL + 5] = 's'; /* empty string, then garbage */
	assert_int_equal(decode_welcome(buf, WELCOME_LEN), -EBADMSG);

	/* Terminated inside the wire field but too long for the struct. */
	for (size_t len = VDF_BLKS_MODEL_LEN - 1; len < W_MODEL_LEN; len++) {
		encode_sample_welcome(buf);
		memset(buf + W_MODEL, 0, W_MODEL_LEN);
		memset(buf + W_MODEL, 'm', len);
		if (len < VDF_BLKS_MODEL_LEN) {
			assert_int_equal(vdf_blks_decode_welcome(buf, WELCOME_LEN, &d), 0);
			assert_int_equal(strlen(d.model), len);
		} else {
			assert_int_equal(decode_welcome(buf, WELCOME_LEN), -EBADMSG);
		}
	}
	for (size_t len = VDF_BLKS_SERIAL_LEN - 1; len < W_SERIAL_LEN; len++) {
		encode_sample_welcome(buf);
		memset(buf + W_SERIAL, 0, W_SERIAL_LEN);
		memset(buf + W_SERIAL, 's', len);
		if (len < VDF_BLKS_SERIAL_LEN) {
			assert_int_equal(vdf_blks_decode_welcome(buf, WELCOME_LEN, &d), 0);
			assert_int_equal(strlen(d.serial), len);
		} else {
			assert_int_equal(decode_welcome(buf, WELCOME_LEN), -EBADMSG);
		}
	}

	/* The encoder refuses unterminated or dirty strings in the struct. */
	struct vdf_blks_welcome w;
	sample_welcome(&w);
	memset(w.model, 'M', sizeof(w.model));
	assert_int_equal(vdf_blks_encode_welcome(&w, buf, sizeof(buf)), -EINVAL);
	sample_welcome(&w);
	w.serial[sizeof(w.serial) - 1] = 'z';
	assert_int_equal(vdf_blks_encode_welcome(&w, buf, sizeof(buf)), -EINVAL);
	sample_welcome(&w);
	assert_int_equal(vdf_blks_encode_welcome(&w, buf, WELCOME_LEN - 1), -ENOSPC);
}

static void test_welcome_decode_values(void **state)
{
	uint8_t buf[VDF_BLKS_MSG_MAX];
	struct vdf_blks_welcome w;

	(void)state;
#define EXPECT_WIRE_WELCOME_BAD(put, off, value)                              \
	do {                                                                  \
		encode_sample_welcome(buf);                                   \
		put(buf, off, value);                                         \
		assert_int_equal(decode_welcome(buf, WELCOME_LEN), -EBADMSG); \
	} while (0)
	/* Block sizes: zero, too small, not a power of two, too large. */
	EXPECT_WIRE_WELCOME_BAD(put32, W_BLOCK_SIZE, 0);
	EXPECT_WIRE_WELCOME_BAD(put32, W_BLOCK_SIZE, 256);
	EXPECT_WIRE_WELCOME_BAD(put32, W_BLOCK_SIZE, 3000);
	EXPECT_WIRE_WELCOME_BAD(put32, W_BLOCK_SIZE, 131072);
	EXPECT_WIRE_WELCOME_BAD(put32, W_BLOCK_SIZE, 1);
	EXPECT_WIRE_WELCOME_BAD(put32, W_BLOCK_SIZE, 0x80000000u);
	/* max_transfer not a multiple of the block size, or below it. */
	EXPECT_WIRE_WELCOME_BAD(put32, W_MAX_XFER, 0);
	EXPECT_WIRE_WELCOME_BAD(put32, W_MAX_XFER, 256);
	EXPECT_WIRE_WELCOME_BAD(put32, W_MAX_XFER, 4096 + 100);
	EXPECT_WIRE_WELCOME_BAD(put32, W_MAX_XFER, UINT32_MAX);
	/* Geometry. */
	EXPECT_WIRE_WELCOME_BAD(put64, W_NUM_BLOCKS, 0);
	EXPECT_WIRE_WELCOME_BAD(put64, W_NUM_BLOCKS, UINT64_MAX / 512 + 1);
	EXPECT_WIRE_WELCOME_BAD(put64, W_NUM_BLOCKS, UINT64_MAX);
	EXPECT_WIRE_WELCOME_BAD(put32, W_MAX_INFL, 0);
	EXPECT_WIRE_WELCOME_BAD(put32, W_MAX_INFL, VDF_BLKS_RING_MAX + 1);
	EXPECT_WIRE_WELCOME_BAD(put32, W_FLAGS, BIT(5));
	EXPECT_WIRE_WELCOME_BAD(put32, W_FLAGS, UINT32_MAX);
#undef EXPECT_WIRE_WELCOME_BAD

	/* A max_transfer that is a multiple but for the wrong block size. */
	encode_sample_welcome(buf);
	put32(buf, W_BLOCK_SIZE, 4096);
	put32(buf, W_MAX_XFER, 4096 + 512);
	assert_int_equal(decode_welcome(buf, WELCOME_LEN), -EBADMSG);
	put32(buf, W_MAX_XFER, 2 * 4096);
	assert_int_equal(decode_welcome(buf, WELCOME_LEN), 0);
	/* The largest num_blocks for the block size. */
	put64(buf, W_NUM_BLOCKS, UINT64_MAX / 4096);
	assert_int_equal(decode_welcome(buf, WELCOME_LEN), 0);
	put64(buf, W_NUM_BLOCKS, UINT64_MAX / 4096 + 1);
	assert_int_equal(decode_welcome(buf, WELCOME_LEN), -EBADMSG);

	/* The encoder refuses the same values. */
	static const uint32_t bad_bs[] = {0, 256, 3000, 131072};
	for (size_t i = 0; i < sizeof(bad_bs) / sizeof(bad_bs[0]); i++) {
		sample_welcome(&w);
		w.block_size = bad_bs[i];
		w.max_transfer = bad_bs[i] ? bad_bs[i] * 4 : 4096;
		assert_int_equal(vdf_blks_welcome_validate(&w), -EINVAL);
		assert_int_equal(vdf_blks_encode_welcome(&w, buf, sizeof(buf)), -EINVAL);
	}
	sample_welcome(&w);
	w.max_transfer = 4096 + 100;
	assert_int_equal(vdf_blks_encode_welcome(&w, buf, sizeof(buf)), -EINVAL);
	sample_welcome(&w);
	w.max_in_flight = 0;
	assert_int_equal(vdf_blks_encode_welcome(&w, buf, sizeof(buf)), -EINVAL);
	sample_welcome(&w);
	w.flags = BIT(6);
	assert_int_equal(vdf_blks_encode_welcome(&w, buf, sizeof(buf)), -EINVAL);
}

/* ---- welcome <-> block info --------------------------------------------- */

static void test_welcome_info(void **state)
{
	uint8_t buf[VDF_BLKS_MSG_MAX];
	struct vdf_block_info info, back;
	struct vdf_blks_welcome w, d;

	(void)state;
	memset(&info, 0, sizeof(info));
	info.num_blocks = 1ull << 33;
	info.block_size = 4096;
	info.max_transfer = 1u << 20;
	info.queue_depth = 128;
	info.read_only = true;
	info.volatile_cache = true;
	info.supports_discard = true;
	info.supports_write_zeroes = true;
	info.discard_zeroes = true;
	strcpy(info.model, "VDF test disk");
	strcpy(info.serial, "SN-0001");

	memset(&w, 0xa5, sizeof(w));
	vdf_blks_welcome_from_info(&info, 42, &w);
	assert_int_equal(w.status, 0);
	assert_int_equal(w.generation, 42);
	assert_int_equal(w.num_blocks, 1ull << 33);
	assert_int_equal(w.block_size, 4096);
	assert_int_equal(w.max_transfer, 1u << 20);
	assert_int_equal(w.max_in_flight, 128);
	assert_int_equal(w.flags, VDF_BLKS_F_KNOWN);
	assert_string_equal(w.model, "VDF test disk");
	assert_string_equal(w.serial, "SN-0001");
	assert_int_equal(vdf_blks_welcome_validate(&w), 0);

	/* Through the wire and back into an info. */
	assert_int_equal(vdf_blks_encode_welcome(&w, buf, sizeof(buf)), WELCOME_LEN);
	assert_int_equal(vdf_blks_decode_welcome(buf, WELCOME_LEN, &d), 0);
	memset(&back, 0xa5, sizeof(back));
	vdf_blks_welcome_to_info(&d, &back);
	assert_int_equal(back.num_blocks, info.num_blocks);
	assert_int_equal(back.block_size, info.block_size);
	assert_int_equal(back.max_transfer, info.max_transfer);
	assert_int_equal(back.queue_depth, info.queue_depth);
	assert_true(back.read_only);
	assert_true(back.volatile_cache);
	assert_true(back.supports_discard);
	assert_true(back.supports_write_zeroes);
	assert_true(back.discard_zeroes);
	assert_memory_equal(back.model, info.model, sizeof(info.model));
	assert_memory_equal(back.serial, info.serial, sizeof(info.serial));

	/* Each flag on its own. */
	struct {
		bool *field;
		uint32_t flag;
	} flags[] = {
	    {&info.read_only, VDF_BLKS_F_READ_ONLY},
	    {&info.volatile_cache, VDF_BLKS_F_VOLATILE_CACHE},
	    {&info.supports_discard, VDF_BLKS_F_DISCARD},
	    {&info.supports_write_zeroes, VDF_BLKS_F_WRITE_ZEROES},
	    {&info.discard_zeroes, VDF_BLKS_F_DISCARD_ZEROES},
	};
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		info.read_only = info.volatile_cache = info.supports_discard = false;
		info.supports_write_zeroes = info.discard_zeroes = false;
		*flags[i].field = true;
		vdf_blks_welcome_from_info(&info, 1, &w);
		assert_int_equal(w.flags, flags[i].flag);
		vdf_blks_welcome_to_info(&w, &back);
		assert_int_equal(back.read_only, info.read_only);
		assert_int_equal(back.volatile_cache, info.volatile_cache);
		assert_int_equal(back.supports_discard, info.supports_discard);
		assert_int_equal(back.supports_write_zeroes, info.supports_write_zeroes);
		assert_int_equal(back.discard_zeroes, info.discard_zeroes);
	}

	/* Strings filling their info fields without a NUL are cut to fit and
	 * zero-padded; the welcome still validates. */
	memset(info.model, 'M', sizeof(info.model));
	memset(info.serial, 'S', sizeof(info.serial));
	memset(&w, 0xa5, sizeof(w));
	vdf_blks_welcome_from_info(&info, 1, &w);
	assert_int_equal(strlen(w.model), VDF_BLKS_MODEL_LEN - 1);
	assert_int_equal(strlen(w.serial), VDF_BLKS_SERIAL_LEN - 1);
	assert_int_equal(vdf_blks_welcome_validate(&w), 0);
	vdf_blks_welcome_to_info(&w, &back);
	assert_int_equal(strlen(back.model), sizeof(back.model) - 1);
	assert_int_equal(strlen(back.serial), sizeof(back.serial) - 1);

	/* Garbage after the NUL in the info does not leak into the welcome. */
	memset(info.model, 'x', sizeof(info.model));
	strcpy(info.model, "ab");
	vdf_blks_welcome_from_info(&info, 1, &w);
	for (size_t i = 2; i < sizeof(w.model); i++)
		assert_int_equal(w.model[i], 0);
	assert_int_equal(vdf_blks_welcome_validate(&w), 0);
}

/* ---- socket I/O --------------------------------------------------------- */

static void test_socket_hello(void **state)
{
	struct vdf_blks_hello h, d;
	int sv[2], fds[VDF_BLKS_NFDS], got[VDF_BLKS_NFDS];
	int before;
	uint64_t one = 1, v;

	(void)state;
	before = count_fds();
	socketpair_seq(sv);
	assert_int_equal(vdf_blks_layout(8, 16 * PAGE, &h), 0);
	h.flags = VDF_BLKS_HELLO_F_POLLED;
	make_session_fds(fds, h.region_size);

	assert_int_equal(vdf_blks_send_hello(sv[0], &h, fds), 0);
	memset(&d, 0, sizeof(d));
	assert_int_equal(vdf_blks_recv_hello(sv[1], &d, got, 0), 0);
	assert_hello_equal(&h, &d);
	for (unsigned i = 0; i < VDF_BLKS_NFDS; i++) {
		assert_true(got[i] >= 0);
		assert_true(fcntl(got[i], F_GETFD) & FD_CLOEXEC);
		for (unsigned j = 0; j < VDF_BLKS_NFDS; j++)
			assert_int_not_equal(got[i], fds[j]);
	}
	/* The memfd arrived sealed and of the right size. */
	assert_int_equal(vdf_blks_check_memfd(got[VDF_BLKS_FD_MEM], h.region_size), 0);
	/* The doorbells are the same eventfds, in order. */
	assert_int_equal(write(fds[VDF_BLKS_FD_SQ_KICK], &one, 8), 8);
	assert_int_equal(read(got[VDF_BLKS_FD_SQ_KICK], &v, 8), 8);
	assert_int_equal(v, 1);
	assert_int_equal(read(got[VDF_BLKS_FD_CQ_KICK], &v, 8), -1);
	assert_int_equal(errno, EAGAIN);
	one = 5;
	assert_int_equal(write(got[VDF_BLKS_FD_CQ_KICK], &one, 8), 8);
	assert_int_equal(read(fds[VDF_BLKS_FD_CQ_KICK], &v, 8), 8);
	assert_int_equal(v, 5);

	/* Nothing more queued. */
	assert_int_equal(vdf_blks_recv_hello(sv[1], &d, got + 0, MSG_DONTWAIT), -EAGAIN);

	close_fds(got, VDF_BLKS_NFDS);
	close_fds(fds, VDF_BLKS_NFDS);
	close_fds(sv, 2);
	assert_int_equal(count_fds(), before);
}

static void test_socket_hello_send_rejects(void **state)
{
	struct vdf_blks_hello h = base_hello();
	struct vdf_blks_hello bad = base_hello();
	int sv[2], fds[VDF_BLKS_NFDS], got[VDF_BLKS_NFDS];

	(void)state;
	socketpair_seq(sv);
	make_session_fds(fds, h.region_size);
	bad.sq_capacity = 3;
	assert_int_equal(vdf_blks_send_hello(sv[0], &bad, fds), -EINVAL);
	for (unsigned i = 0; i < VDF_BLKS_NFDS; i++) {
		int saved = fds[i];

		fds[i] = -1;
		assert_int_equal(vdf_blks_send_hello(sv[0], &h, fds), -EBADF);
		fds[i] = saved;
	}
	/* Nothing was sent. */
	assert_int_equal(vdf_blks_recv_hello(sv[1], &h, got, MSG_DONTWAIT), -EAGAIN);
	/* The caller's fds are still open. */
	for (unsigned i = 0; i < VDF_BLKS_NFDS; i++)
		assert_true(fcntl(fds[i], F_GETFD) >= 0);
	close_fds(fds, VDF_BLKS_NFDS);
	close_fds(sv, 2);
}

/* Send a valid hello (or other bytes) with n fds; check recv_hello refuses
 * it with want, that no fd it received stays open and that fds[] is left
 * alone. A message that does not decode leaves *h alone too (one that does,
 * with the wrong fd count, may have filled it: the header promises nothing). */
static void check_recv_hello_refused(const uint8_t *msg, size_t len, unsigned n, int want)
{
	struct vdf_blks_hello h, canary;
	int sv[2], fds[VDF_FDMSG_MAX_FDS], got[VDF_BLKS_NFDS];
	int before;

	assert_true(n <= VDF_FDMSG_MAX_FDS);
	socketpair_seq(sv);
	before = count_fds();
	for (unsigned i = 0; i < n; i++)
		fds[i] = i == 0 ? make_memfd(2 * PAGE, true) : make_eventfd();
	assert_int_equal(vdf_fdmsg_send(sv[0], msg, len, fds, n), 0);
	close_fds(fds, n);
	assert_int_equal(count_fds(), before);

	memset(&h, 0xa5, sizeof(h));
	canary = h;
	for (unsigned i = 0; i < VDF_BLKS_NFDS; i++)
		got[i] = -2;
	assert_int_equal(vdf_blks_recv_hello(sv[1], &h, got, 0), want);
	/* In flight fds were installed by recvmsg, then closed again. */
	assert_int_equal(count_fds(), before);
	if (vdf_blks_decode_hello(msg, len, &canary))
		assert_memory_equal(&h, &canary, sizeof(h));
	for (unsigned i = 0; i < VDF_BLKS_NFDS; i++)
		assert_int_equal(got[i], -2);
	close_fds(sv, 2);
}

static void test_socket_hello_wrong_fds(void **state)
{
	uint8_t buf[VDF_BLKS_MSG_MAX + 16];

	(void)state;
	encode_base_hello(buf);
	check_recv_hello_refused(buf, HELLO_LEN, 0, -EBADMSG);
	check_recv_hello_refused(buf, HELLO_LEN, 1, -EBADMSG);
	check_recv_hello_refused(buf, HELLO_LEN, 2, -EBADMSG);
	check_recv_hello_refused(buf, HELLO_LEN, 4, -EBADMSG);
	check_recv_hello_refused(buf, HELLO_LEN, 8, -EBADMSG);
	check_recv_hello_refused(buf, HELLO_LEN, VDF_FDMSG_MAX_FDS, -EBADMSG);
}

/* More fds than vdf_fdmsg_recv has room for (sent with a raw sendmsg, as
 * vdf_fdmsg_send refuses them): the control data is truncated, the message
 * refused, and none of the fds stays open. */
static void test_socket_hello_too_many_fds(void **state)
{
	enum { N = VDF_FDMSG_MAX_FDS + 4 };
	union {
		char buf[CMSG_SPACE(sizeof(int) * N)];
		struct cmsghdr align;
	} ctl;
	uint8_t buf[VDF_BLKS_MSG_MAX];
	struct iovec iov = {.iov_base = buf, .iov_len = HELLO_LEN};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	struct vdf_blks_hello h;
	struct cmsghdr *c;
	int sv[2], fds[N], got[VDF_BLKS_NFDS];
	int before;

	(void)state;
	encode_base_hello(buf);
	socketpair_seq(sv);
	before = count_fds();
	for (unsigned i = 0; i < N; i++)
		fds[i] = make_eventfd();
	memset(&ctl, 0, sizeof(ctl));
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof(ctl.buf);
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * N);
	memcpy(CMSG_DATA(c), fds, sizeof(fds));
	assert_int_equal(sendmsg(sv[0], &mh, 0), HELLO_LEN);
	close_fds(fds, N);
	assert_int_equal(count_fds(), before);
	assert_int_equal(vdf_blks_recv_hello(sv[1], &h, got, 0), -EMSGSIZE);
	assert_int_equal(count_fds(), before);
	close_fds(sv, 2);
}

static void test_socket_hello_bad_message(void **state)
{
	uint8_t buf[VDF_BLKS_MSG_MAX + 16];

	(void)state;
	/* Three fds, but the message does not decode. */
	encode_base_hello(buf);
	buf[OFF_MAGIC] = 'X';
	check_recv_hello_refused(buf, HELLO_LEN, 3, -EBADMSG);
	encode_base_hello(buf);
	put16(buf, OFF_VERSION, 7);
	check_recv_hello_refused(buf, HELLO_LEN, 3, -EPROTONOSUPPORT);
	encode_base_hello(buf);
	put32(buf, H_SQ_CAP, 3);
	check_recv_hello_refused(buf, HELLO_LEN, 3, -EBADMSG);
	encode_base_hello(buf);
	check_recv_hello_refused(buf, HELLO_LEN - 1, 3, -EMSGSIZE);
	/* A welcome, and a welcome with 4 fds. */
	encode_sample_welcome(buf);
	check_recv_hello_refused(buf, WELCOME_LEN, 3, -EBADMSG);
	check_recv_hello_refused(buf, WELCOME_LEN, 4, -EBADMSG);
	/* Longer than any valid message: truncated on receipt. */
	memset(buf, 0, sizeof(buf));
	encode_base_hello(buf);
	check_recv_hello_refused(buf, VDF_BLKS_MSG_MAX + 16, 3, -EMSGSIZE);
}

static void test_socket_welcome(void **state)
{
	struct vdf_blks_welcome w, d;
	int sv[2];

	(void)state;
	socketpair_seq(sv);
	sample_welcome(&w);
	assert_int_equal(vdf_blks_send_welcome(sv[1], &w), 0);
	memset(&d, 0xa5, sizeof(d));
	assert_int_equal(vdf_blks_recv_welcome(sv[0], &d, 1000), 0);
	assert_welcome_equal(&w, &d);

	/* A refusal. */
	memset(&w, 0, sizeof(w));
	w.status = -EBUSY;
	assert_int_equal(vdf_blks_send_welcome(sv[1], &w), 0);
	assert_int_equal(vdf_blks_recv_welcome(sv[0], &d, 1000), 0);
	assert_int_equal(d.status, -EBUSY);

	/* An invalid welcome is not sent. */
	sample_welcome(&w);
	w.block_size = 3000;
	assert_int_equal(vdf_blks_send_welcome(sv[1], &w), -EINVAL);
	assert_int_equal(vdf_blks_recv_welcome(sv[0], &d, 0), -ETIMEDOUT);

	/* A hello where a welcome is expected. */
	uint8_t buf[VDF_BLKS_MSG_MAX];
	encode_base_hello(buf);
	assert_int_equal(vdf_fdmsg_send(sv[1], buf, HELLO_LEN, NULL, 0), 0);
	assert_int_equal(vdf_blks_recv_welcome(sv[0], &d, 1000), -EBADMSG);
	close_fds(sv, 2);
}

static void test_socket_welcome_timeout(void **state)
{
	struct vdf_blks_welcome d, canary;
	struct timespec t0, t1;
	int sv[2];
	long ms;

	(void)state;
	socketpair_seq(sv);
	memset(&d, 0xa5, sizeof(d));
	canary = d;
	assert_int_equal(vdf_blks_recv_welcome(sv[0], &d, 0), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(vdf_blks_recv_welcome(sv[0], &d, 100), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(ms >= 90);
	assert_true(ms < 5000);
	assert_memory_equal(&d, &canary, sizeof(d));
	close_fds(sv, 2);
}

static void test_socket_peer_closed(void **state)
{
	struct vdf_blks_welcome w;
	struct vdf_blks_hello h = base_hello();
	int sv[2], fds[VDF_BLKS_NFDS], got[VDF_BLKS_NFDS];

	(void)state;
	/* The driver went away before welcoming. */
	socketpair_seq(sv);
	assert_int_equal(close(sv[1]), 0);
	assert_int_equal(vdf_blks_recv_welcome(sv[0], &w, 1000), -EPIPE);
	assert_int_equal(vdf_blks_recv_welcome(sv[0], &w, -1), -EPIPE);
	/* Sending to a closed peer does not raise SIGPIPE. */
	make_session_fds(fds, h.region_size);
	assert_int_equal(vdf_blks_send_hello(sv[0], &h, fds), -EPIPE);
	sample_welcome(&w);
	assert_int_equal(vdf_blks_send_welcome(sv[0], &w), -EPIPE);
	close_fds(fds, VDF_BLKS_NFDS);
	assert_int_equal(close(sv[0]), 0);

	/* The client went away before saying hello. */
	socketpair_seq(sv);
	assert_int_equal(close(sv[0]), 0);
	assert_int_equal(vdf_blks_recv_hello(sv[1], &h, got, 0), -EPIPE);
	assert_int_equal(vdf_blks_recv_hello(sv[1], &h, got, MSG_DONTWAIT), -EPIPE);
	assert_int_equal(close(sv[1]), 0);
}

static void test_socket_welcome_with_fd(void **state)
{
	uint8_t buf[VDF_BLKS_MSG_MAX];
	struct vdf_blks_welcome d, canary;
	int sv[2], fds[4], before;

	(void)state;
	socketpair_seq(sv);
	before = count_fds();
	encode_sample_welcome(buf);
	for (unsigned n = 1; n <= 4; n++) {
		for (unsigned i = 0; i < n; i++)
			fds[i] = make_eventfd();
		assert_int_equal(vdf_fdmsg_send(sv[1], buf, WELCOME_LEN, fds, n), 0);
		close_fds(fds, n);
		memset(&d, 0xa5, sizeof(d));
		canary = d;
		assert_int_equal(vdf_blks_recv_welcome(sv[0], &d, 1000), -EBADMSG);
		assert_memory_equal(&d, &canary, sizeof(d));
		assert_int_equal(count_fds(), before);
	}
	/* A refusal with an fd, too. */
	memset(buf, 0, sizeof(buf));
	struct vdf_blks_welcome r = {.status = -EIO};
	assert_int_equal(vdf_blks_encode_welcome(&r, buf, sizeof(buf)), WELCOME_LEN);
	fds[0] = make_memfd(PAGE, false);
	assert_int_equal(vdf_fdmsg_send(sv[1], buf, WELCOME_LEN, fds, 1), 0);
	close_fds(fds, 1);
	assert_int_equal(vdf_blks_recv_welcome(sv[0], &d, 1000), -EBADMSG);
	assert_int_equal(count_fds(), before);
	/* Longer than any valid message. */
	uint8_t big[VDF_BLKS_MSG_MAX + 8] = {0};
	encode_sample_welcome(big);
	assert_int_equal(vdf_fdmsg_send(sv[1], big, sizeof(big), NULL, 0), 0);
	assert_int_equal(vdf_blks_recv_welcome(sv[0], &d, 1000), -EMSGSIZE);
	close_fds(sv, 2);
}

/* ---- memfd check -------------------------------------------------------- */

static void test_check_memfd(void **state)
{
	int fd, p[2];
	char path[] = "/tmp/vdf-blks-XXXXXX";

	(void)state;
	/* Good. */
	fd = make_memfd(2 * PAGE, true);
	assert_int_equal(vdf_blks_check_memfd(fd, 2 * PAGE), 0);
	/* Sealed, but not the size the hello states. */
	assert_int_equal(vdf_blks_check_memfd(fd, PAGE), -EINVAL);
	assert_int_equal(vdf_blks_check_memfd(fd, 3 * PAGE), -EINVAL);
	assert_int_equal(vdf_blks_check_memfd(fd, 0), -EINVAL);
	assert_int_equal(vdf_blks_check_memfd(fd, UINT64_MAX), -EINVAL);
	assert_int_equal(close(fd), 0);

	/* More seals than needed are fine. */
	fd = make_memfd(PAGE, true);
	assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL), 0);
	assert_int_equal(vdf_blks_check_memfd(fd, PAGE), 0);
	assert_int_equal(close(fd), 0);

	/* Unsealed, or only half sealed. */
	fd = make_memfd(PAGE, false);
	assert_int_equal(vdf_blks_check_memfd(fd, PAGE), -EPERM);
	assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK), 0);
	assert_int_equal(vdf_blks_check_memfd(fd, PAGE), -EPERM);
	assert_int_equal(close(fd), 0);
	fd = make_memfd(PAGE, false);
	assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_GROW), 0);
	assert_int_equal(vdf_blks_check_memfd(fd, PAGE), -EPERM);
	assert_int_equal(close(fd), 0);
	/* Sealing disallowed from the start (only F_SEAL_SEAL). */
	fd = memfd_create("blks-nosealing", MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, PAGE), 0);
	assert_int_equal(vdf_blks_check_memfd(fd, PAGE), -EPERM);
	assert_int_equal(close(fd), 0);

	/* Not a memfd: a pipe, an eventfd, a regular file, a socket. */
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(vdf_blks_check_memfd(p[0], 0), -EPERM);
	assert_int_equal(vdf_blks_check_memfd(p[1], PAGE), -EPERM);
	close_fds(p, 2);
	fd = make_eventfd();
	assert_int_equal(vdf_blks_check_memfd(fd, 0), -EPERM);
	assert_int_equal(close(fd), 0);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(ftruncate(fd, PAGE), 0);
	assert_int_equal(vdf_blks_check_memfd(fd, PAGE), -EPERM);
	assert_int_equal(close(fd), 0);
	socketpair_seq(p);
	assert_int_equal(vdf_blks_check_memfd(p[0], 0), -EPERM);
	close_fds(p, 2);

	/* A closed fd. */
	assert_int_equal(vdf_blks_check_memfd(fd, PAGE), -EBADF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_layout_valid),
	    cmocka_unit_test(test_layout_invalid),
	    cmocka_unit_test(test_hello_validate_fields),
	    cmocka_unit_test(test_hello_validate_overlap),
	    cmocka_unit_test(test_hello_validate_bounds),
	    cmocka_unit_test(test_hello_roundtrip),
	    cmocka_unit_test(test_hello_encode_rejects),
	    cmocka_unit_test(test_hello_decode_header),
	    cmocka_unit_test(test_hello_decode_values),
	    cmocka_unit_test(test_welcome_roundtrip),
	    cmocka_unit_test(test_welcome_refusal),
	    cmocka_unit_test(test_welcome_decode_header),
	    cmocka_unit_test(test_welcome_decode_strings),
	    cmocka_unit_test(test_welcome_decode_values),
	    cmocka_unit_test(test_welcome_info),
	    cmocka_unit_test(test_socket_hello),
	    cmocka_unit_test(test_socket_hello_send_rejects),
	    cmocka_unit_test(test_socket_hello_wrong_fds),
	    cmocka_unit_test(test_socket_hello_too_many_fds),
	    cmocka_unit_test(test_socket_hello_bad_message),
	    cmocka_unit_test(test_socket_welcome),
	    cmocka_unit_test(test_socket_welcome_timeout),
	    cmocka_unit_test(test_socket_peer_closed),
	    cmocka_unit_test(test_socket_welcome_with_fd),
	    cmocka_unit_test(test_check_memfd),
	};

	return cmocka_run_group_tests_name("blksession", tests, NULL, NULL);
}
