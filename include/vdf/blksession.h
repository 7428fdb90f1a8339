/* SPDX-License-Identifier: MIT */
/*
 * Block session: how a block client (lib/client) and a block driver set up
 * their shared rings over the SEQPACKET socket vdfd brokered for them
 * (control command "open", grant message VDF_MSG_CLIENT).
 *
 *   client -> driver  HELLO, with VDF_BLKS_NFDS fds: the shared memfd, the
 *                     submission doorbell (eventfd the client writes, the
 *                     driver waits on) and the completion doorbell (eventfd
 *                     the driver writes, the client waits on)
 *   driver -> client  WELCOME: status (0 or a negative errno refusing the
 *                     session), the driver generation, the device geometry
 *
 * After that nothing more travels on the socket; its end (EOF) tells either
 * side that the other has gone. Requests and completions travel in the rings
 * (vdf/ring.h slots of vdf/blkproto.h descriptors).
 *
 * The memfd (region) holds, at offsets the HELLO states:
 *   sq    a ring of struct vdf_blk_req_wire (client produces)
 *   cq    a ring of struct vdf_blk_cpl_wire (driver produces)
 *   data  the data area requests point into; page-aligned, mapped by the
 *         driver for DMA (zero-copy)
 * The three ranges do not overlap and lie inside the region. The client
 * seals the memfd against shrinking and growing (F_SEAL_SHRINK |
 * F_SEAL_GROW) so the driver's mapping can never turn into SIGBUS; the
 * driver checks the seals and the size (vdf_blks_check_memfd).
 *
 * Wire format: little-endian; header magic "VDFS" (u32), version (u16), type
 * (u16), total length (u32), reserved (u32, zero); then a fixed body per type
 * (lib/ipc/blksession.c). Reserved fields and padding are zero.
 */
#ifndef VDF_BLKSESSION_H
#define VDF_BLKSESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "vdf/block.h"
#include "vdf/common.h"

#define VDF_BLKS_MAGIC	 0x53464456u /* "VDFS" as little-endian bytes */
#define VDF_BLKS_VERSION 1u
#define VDF_BLKS_MSG_MAX 192u

/* Largest region a driver accepts (rings + data area). */
#define VDF_BLKS_REGION_MAX ((1ull << 30) + (16ull << 20))
/* Ring capacities a session may use. */
#define VDF_BLKS_RING_MIN 1u
#define VDF_BLKS_RING_MAX 4096u
#define VDF_BLKS_PAGE	  4096u

enum vdf_blks_fd {
	VDF_BLKS_FD_MEM = 0,
	VDF_BLKS_FD_SQ_KICK = 1,
	VDF_BLKS_FD_CQ_KICK = 2,
};
#define VDF_BLKS_NFDS 3u

enum vdf_blks_msg_type {
	VDF_BLKS_HELLO = 1,
	VDF_BLKS_WELCOME = 2,
};

/* HELLO flags */
#define VDF_BLKS_HELLO_F_POLLED BIT(0) /* the client busy-polls completions */
#define VDF_BLKS_HELLO_F_KNOWN	(VDF_BLKS_HELLO_F_POLLED)

struct vdf_blks_hello {
	uint32_t flags;	      /* VDF_BLKS_HELLO_F_* */
	uint64_t region_size; /* bytes of the memfd */
	uint64_t sq_off;      /* submission ring (slots of struct vdf_blk_req_wire) */
	uint32_t sq_capacity;
	uint64_t cq_off; /* completion ring (slots of struct vdf_blk_cpl_wire) */
	uint32_t cq_capacity;
	uint64_t data_off; /* page-aligned */
	uint64_t data_size;
};

/* WELCOME flags (what the device and this session allow) */
#define VDF_BLKS_F_READ_ONLY	  BIT(0)
#define VDF_BLKS_F_VOLATILE_CACHE BIT(1)
#define VDF_BLKS_F_DISCARD	  BIT(2)
#define VDF_BLKS_F_WRITE_ZEROES	  BIT(3)
#define VDF_BLKS_F_DISCARD_ZEROES BIT(4)
#define VDF_BLKS_F_KNOWN	  (BIT(5) - 1)

#define VDF_BLKS_MODEL_LEN  41
#define VDF_BLKS_SERIAL_LEN 21

struct vdf_blks_welcome {
	int32_t status;	     /* 0, or a negative errno: the session is refused */
	uint32_t generation; /* the driver's generation (grant) */
	uint64_t num_blocks;
	uint32_t block_size;		/* power of two, 512..65536 */
	uint32_t max_transfer;		/* bytes per read/write request, a multiple of block_size */
	uint32_t max_in_flight;		/* requests the driver works on at once for this client */
	uint32_t flags;			/* VDF_BLKS_F_* */
	char model[VDF_BLKS_MODEL_LEN]; /* NUL-terminated */
	char serial[VDF_BLKS_SERIAL_LEN]; /* NUL-terminated */
};

/*
 * The standard layout for a client: sq and cq of queue_depth slots each,
 * then the data area at the next page boundary. Returns 0, or -EINVAL when
 * queue_depth is not a power of two in [VDF_BLKS_RING_MIN, VDF_BLKS_RING_MAX]
 * or data_size is 0, not page-aligned or makes the region exceed
 * VDF_BLKS_REGION_MAX.
 */
int vdf_blks_layout(uint32_t queue_depth, uint64_t data_size,
		    struct vdf_blks_hello *out) VDF_MUST_CHECK;

/* Check a HELLO's geometry (the rules above). Returns 0 or -EINVAL. */
int vdf_blks_hello_validate(const struct vdf_blks_hello *h) VDF_MUST_CHECK;

/* Check a WELCOME (a refusal needs only a valid status). Returns 0 or -EINVAL. */
int vdf_blks_welcome_validate(const struct vdf_blks_welcome *w) VDF_MUST_CHECK;

/* Welcome fields from a block device's info (status 0). */
void vdf_blks_welcome_from_info(const struct vdf_block_info *info, uint32_t generation,
				struct vdf_blks_welcome *w);
/* And back, for the client. */
void vdf_blks_welcome_to_info(const struct vdf_blks_welcome *w, struct vdf_block_info *info);

/*
 * Pure codecs (no I/O; the decoders are fuzzing entry points). encode returns
 * the message length or -EINVAL (the value does not validate) / -ENOSPC.
 * decode returns 0, -EBADMSG (magic, type, reserved, padding, a field that
 * does not validate), -EPROTONOSUPPORT (version), -EMSGSIZE (length).
 */
int vdf_blks_encode_hello(const struct vdf_blks_hello *h, void *buf, size_t len) VDF_MUST_CHECK;
int vdf_blks_decode_hello(const void *buf, size_t len, struct vdf_blks_hello *h) VDF_MUST_CHECK;
int vdf_blks_encode_welcome(const struct vdf_blks_welcome *w, void *buf, size_t len) VDF_MUST_CHECK;
int vdf_blks_decode_welcome(const void *buf, size_t len, struct vdf_blks_welcome *w) VDF_MUST_CHECK;

/* Socket I/O. send_hello: fds in enum vdf_blks_fd order, they stay the
 * caller's. recv_hello: flags 0 or MSG_DONTWAIT; on success fds[] are the
 * caller's; a HELLO without exactly VDF_BLKS_NFDS fds is refused (-EBADMSG,
 * every fd closed). recv_welcome waits up to timeout_ms (-ETIMEDOUT) and
 * refuses any fd. -EPIPE when the peer closed the socket. */
int vdf_blks_send_hello(int sock, const struct vdf_blks_hello *h,
			const int fds[VDF_BLKS_NFDS]) VDF_MUST_CHECK;
int vdf_blks_recv_hello(int sock, struct vdf_blks_hello *h, int fds[VDF_BLKS_NFDS],
			int flags) VDF_MUST_CHECK;
int vdf_blks_send_welcome(int sock, const struct vdf_blks_welcome *w) VDF_MUST_CHECK;
int vdf_blks_recv_welcome(int sock, struct vdf_blks_welcome *w, int timeout_ms) VDF_MUST_CHECK;

/*
 * Driver side: check that fd is a memfd sealed with at least F_SEAL_SHRINK
 * and F_SEAL_GROW whose size is exactly region_size. Returns 0, -EPERM
 * (seals missing), -EINVAL (size differs), or the errno of fcntl/fstat.
 */
int vdf_blks_check_memfd(int fd, uint64_t region_size) VDF_MUST_CHECK;

#endif
