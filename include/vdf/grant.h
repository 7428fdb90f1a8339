/* SPDX-License-Identifier: MIT */
/*
 * Capability grants: how the device manager hands a driver process its device.
 *
 * The manager opens the VFIO container (one per driver instance: its own IOMMU
 * domain), the group and the device, and sends them to the driver over an
 * AF_UNIX SOCK_SEQPACKET socket (SCM_RIGHTS) with one GRANT message that lists
 * what the driver may do with them. The same socket then carries runtime
 * messages: HEARTBEAT (driver -> manager, with counters), PING (manager ->
 * driver: "send a heartbeat now"), STOP (manager -> driver), and CHECK /
 * CHECK_RESULT (the manager asks a block driver to read some blocks and answer
 * their checksum: proof that it serves I/O end to end).
 *
 * Wire format, all fields little-endian, every message one datagram:
 *   header  magic "VDFG" (u32), version (u16), type (u16), total length (u32),
 *           reserved (u32, zero)
 *   body    fixed per type (see lib/ipc/grant.c); strings are NUL-terminated
 *           and zero-padded; reserved fields are zero.
 * A grant carries exactly VDF_GRANT_NFDS fds, in the order of enum vdf_grant_fd.
 *
 * What enforces a grant: the fds themselves (a driver holds nothing else), the
 * IOMMU (the device reaches only what was mapped in its container) and
 * RLIMIT_MEMLOCK (the kernel's cap on pinned DMA memory) are the boundary.
 * struct vdf_rights in the HAL is a guard rail on top that turns a driver's
 * mistakes into clear -EACCES/-ENOSPC errors; a hostile driver can bypass the
 * HAL with raw ioctls on its own device, but not reach anything else.
 */
#ifndef VDF_GRANT_H
#define VDF_GRANT_H

#include <stdint.h>

#include "vdf/common.h"
#include "vdf/hal.h"

#define VDF_GRANT_MAGIC	  0x47464456u /* "VDFG" as little-endian bytes */
#define VDF_GRANT_VERSION 2u

/* fds attached to a grant, in this order */
enum vdf_grant_fd {
	VDF_GRANT_FD_CONTAINER = 0,
	VDF_GRANT_FD_GROUP = 1,
	VDF_GRANT_FD_DEVICE = 2,
};
#define VDF_GRANT_NFDS 3u

#define VDF_GRANT_PCI_ADDR_LEN 16 /* "0000:00:04.0" + NUL, zero-padded */
#define VDF_GRANT_NAME_LEN     32 /* [a-z0-9_-]{1,31} + NUL, zero-padded */
/* Largest DMA window a grant may carry (the IOVA space of the VFIO backend is 2^39). */
#define VDF_GRANT_DMA_WINDOW_MAX   (1ull << 38)
#define VDF_GRANT_HEARTBEAT_MIN_MS 10u
#define VDF_GRANT_HEARTBEAT_MAX_MS 600000u
/* No message on the wire is longer than this. */
#define VDF_GRANT_MSG_MAX 128u

enum vdf_rights_flags {
	VDF_RIGHT_CFG_WRITE = BIT(0), /* any config-space write (else only PCI COMMAND's
				       * bus-master / memory / I/O enable bits) */
};
#define VDF_RIGHTS_FLAGS_ALL VDF_RIGHT_CFG_WRITE

/* What a device handle may be used for. Stand-alone devices have every right. */
struct vdf_rights {
	uint32_t bars;		  /* memory BARs that may be mapped/accessed: BIT(n) = BAR n */
	uint32_t io_bars;	  /* I/O BARs that may be accessed with vdf_bar_read/write */
	uint64_t dma_window;	  /* most bytes mapped for DMA at once (0: no DMA) */
	uint32_t irq_kinds;	  /* BIT(enum vdf_irq_kind) that may be enabled */
	uint32_t irq_max_vectors; /* most vectors of one kind */
	uint32_t flags;		  /* enum vdf_rights_flags */
};

struct vdf_grant {
	char pci_addr[VDF_GRANT_PCI_ADDR_LEN];
	char driver[VDF_GRANT_NAME_LEN];
	uint32_t instance;   /* driver instance number (chooses its uid, names its logs) */
	uint32_t generation; /* bumped on every restart of the instance */
	struct vdf_rights rights;
	uint32_t heartbeat_ms; /* period of HEARTBEAT messages; 0 = none expected */
};

enum vdf_grant_msg_type {
	VDF_MSG_GRANT = 1,
	VDF_MSG_HEARTBEAT = 2,	  /* driver -> manager */
	VDF_MSG_PING = 3,	  /* manager -> driver: answer with a HEARTBEAT now */
	VDF_MSG_STOP = 4,	  /* manager -> driver: quiesce and exit */
	VDF_MSG_CHECK = 5,	  /* manager -> driver: read blocks, answer CHECK_RESULT */
	VDF_MSG_CHECK_RESULT = 6, /* driver -> manager */
	VDF_MSG_CLIENT = 7,	  /* manager -> driver, with one fd: a block client's session */
};

struct vdf_heartbeat {
	uint64_t seq;	 /* heartbeats sent so far by this driver */
	uint64_t cookie; /* the last PING's cookie when answering one, else 0 */
	uint64_t irqs;
	/* rx: data from the device (block reads, received frames); tx: data to
	 * it (writes, flushes, discards; sent frames). */
	uint64_t rx_ios, rx_bytes, tx_ios, tx_bytes;
	uint64_t errors; /* failed or refused requests, bad descriptors */
	uint64_t drops;	 /* frames lost: no buffer, ring reset, missed by the device */
};

/* Add the counters (irqs .. drops) of b to a; seq and cookie stay a's. */
void vdf_heartbeat_add(struct vdf_heartbeat *a, const struct vdf_heartbeat *b);

enum vdf_stop_reason {
	VDF_STOP_REQUESTED = 0, /* operator or manager shutdown */
	VDF_STOP_REVOKED = 1,	/* the device is being taken away (unplug, rebind) */
};

#define VDF_GRANT_CHECK_MAX_BLOCKS 65536u

/*
 * A data check. Request: read nblocks at lba of the driver's (first) block
 * device. Result: the same cookie/lba/nblocks, status 0 or a negative errno,
 * and the checksum of the bytes read (vdf_grant_checksum over all of them, in
 * order). In a request status and checksum are 0.
 */
struct vdf_check {
	uint64_t cookie; /* chosen by the manager, echoed in the result */
	uint64_t lba;
	uint32_t nblocks; /* 1..VDF_GRANT_CHECK_MAX_BLOCKS */
	int32_t status;
	uint64_t checksum;
};

/*
 * A client session the manager brokered (control command "open"): the message
 * carries one fd, the driver's end of a SEQPACKET socketpair whose other end
 * went to the client; the client then speaks vdf/blksession.h on it. The
 * manager's policy travels with it: read-only or not, which block device of
 * the driver (unit 0 = the first namespace), and the per-client rate limits
 * (0 = unlimited).
 */
#define VDF_CLIENT_F_READ_ONLY BIT(0)
#define VDF_CLIENT_F_KNOWN     (VDF_CLIENT_F_READ_ONLY)
#define VDF_CLIENT_UNIT_MAX    1023u

struct vdf_client_grant {
	uint64_t client_id; /* unique per manager run, for logs and stats */
	uint32_t uid;	    /* the client's uid (SO_PEERCRED at the control socket) */
	uint32_t flags;	    /* VDF_CLIENT_F_* */
	uint32_t unit;	    /* 0..VDF_CLIENT_UNIT_MAX */
	uint64_t ops_per_sec, ops_burst;
	uint64_t bytes_per_sec, bytes_burst;
};

/* FNV-1a (64-bit) over buf, continuing from state: start with
 * VDF_GRANT_CHECKSUM_INIT and feed the data in order, in any pieces. */
#define VDF_GRANT_CHECKSUM_INIT 0xcbf29ce484222325ull
uint64_t vdf_grant_checksum(uint64_t state, const void *buf, size_t len);

/* A runtime message (anything after the grant). */
struct vdf_grant_msg {
	enum vdf_grant_msg_type type;
	union {
		struct vdf_heartbeat hb;	/* VDF_MSG_HEARTBEAT */
		uint64_t ping_cookie;		/* VDF_MSG_PING */
		uint32_t stop_reason;		/* VDF_MSG_STOP: enum vdf_stop_reason */
		struct vdf_check check;		/* VDF_MSG_CHECK, VDF_MSG_CHECK_RESULT */
		struct vdf_client_grant client; /* VDF_MSG_CLIENT */
	} u;
};

/* Check a grant's fields: formats, ranges, flags. Returns 0 or -EINVAL. */
int vdf_grant_validate(const struct vdf_grant *g) VDF_MUST_CHECK;

/*
 * Encode a grant into buf (at least VDF_GRANT_MSG_MAX bytes). Returns the
 * message length, -EINVAL for a grant that does not validate, -ENOSPC for a
 * short buffer. Pure: no I/O.
 */
int vdf_grant_encode(const struct vdf_grant *g, void *buf, size_t len) VDF_MUST_CHECK;

/*
 * Decode and validate a GRANT message from untrusted bytes. Pure, for fuzzing.
 * Returns 0, -EBADMSG (bad magic, type, field or padding), -EPROTONOSUPPORT
 * (other version), -EMSGSIZE (lengths do not match).
 */
int vdf_grant_decode(const void *buf, size_t len, struct vdf_grant *g) VDF_MUST_CHECK;

/*
 * Send a grant and its fds (n == VDF_GRANT_NFDS, in enum vdf_grant_fd order) as
 * one message. The fds stay the caller's (the peer gets duplicates).
 * Returns 0 or a negative errno (-EPIPE when the peer is gone).
 */
int vdf_grant_send(int sock, const struct vdf_grant *g, const int *fds, unsigned n) VDF_MUST_CHECK;

/*
 * Receive one grant (blocking). On success fds[0..*n) hold the granted fds
 * (close-on-exec, now the caller's) and *n == VDF_GRANT_NFDS. Extra fds the
 * sender attached are closed (and logged). On any failure every received fd
 * is closed. Returns 0, -EPIPE (peer closed), -EMSGSIZE (truncated message or
 * fd list: MSG_TRUNC/MSG_CTRUNC), -EBADMSG (missing fds, bad content),
 * -ENOSPC (max < VDF_GRANT_NFDS), or a decode error.
 */
int vdf_grant_recv(int sock, struct vdf_grant *g, int *fds, unsigned *n,
		   unsigned max) VDF_MUST_CHECK;

/* Runtime messages: encode/decode are pure (decode refuses GRANT messages). */
int vdf_grant_msg_encode(const struct vdf_grant_msg *m, void *buf, size_t len) VDF_MUST_CHECK;
int vdf_grant_msg_decode(const void *buf, size_t len, struct vdf_grant_msg *m) VDF_MUST_CHECK;
/* Send one runtime message (never raises SIGPIPE: -EPIPE instead). */
int vdf_grant_msg_send(int sock, const struct vdf_grant_msg *m) VDF_MUST_CHECK;
/*
 * Receive one runtime message. flags: 0 to block, MSG_DONTWAIT to poll
 * (-EAGAIN when none is queued). -EPIPE when the peer closed the socket;
 * messages carrying fds are refused (fds closed, -EBADMSG).
 */
int vdf_grant_msg_recv(int sock, struct vdf_grant_msg *m, int flags) VDF_MUST_CHECK;
/*
 * The same with at most one fd attached (VDF_MSG_CLIENT carries exactly one,
 * every other type none). send: fd < 0 for none; the fd stays the caller's.
 * recv: *fd is the received fd (close-on-exec, now the caller's) or -1; a
 * message whose fd count does not match its type is refused (fds closed,
 * -EBADMSG).
 */
int vdf_grant_msg_send_fd(int sock, const struct vdf_grant_msg *m, int fd) VDF_MUST_CHECK;
int vdf_grant_msg_recv_fd(int sock, struct vdf_grant_msg *m, int *fd, int flags) VDF_MUST_CHECK;

/*
 * Build a device from a received grant: takes ownership of fds[0..n) (also on
 * failure; the entries are set to -1) and restricts the device to the grant's
 * rights. Returns 0, -EINVAL (n != VDF_GRANT_NFDS or a bad grant), or what
 * vdf_vfio_from_fds returns.
 */
int vdf_vfio_from_grant(const struct vdf_grant *g, int *fds, unsigned n,
			struct vdf_dev **out) VDF_MUST_CHECK;

/* Receive a grant on sock and build its device: the driver side in one call. */
int vdf_grant_accept(int sock, struct vdf_grant *g, struct vdf_dev **out) VDF_MUST_CHECK;

/* Rights of a device handle (stand-alone devices: all rights). */
void vdf_dev_rights(const struct vdf_dev *dev, struct vdf_rights *out);
/*
 * Narrow a device's rights to their intersection with r. Rights can only ever
 * be taken away from a handle, never added. Accesses already made (mapped
 * BARs, enabled vectors, DMA buffers) stay; later calls are checked.
 */
void vdf_dev_restrict(struct vdf_dev *dev, const struct vdf_rights *r);

/* Every right (what stand-alone devices get). */
void vdf_rights_all(struct vdf_rights *r);

#endif
