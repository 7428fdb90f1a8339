/* SPDX-License-Identifier: MIT */
/*
 * One datagram plus file descriptors (SCM_RIGHTS) over a Unix SOCK_SEQPACKET
 * socket: the transport of the grant protocol (vdf/grant.h), the block
 * session (vdf/blksession.h) and fd-carrying control answers (vdf/ctl.h).
 */
#ifndef VDF_FDMSG_H
#define VDF_FDMSG_H

#include <stddef.h>
#include <stdint.h>

#include "vdf/common.h"

/* Most fds one message may carry; a message with more is refused whole. */
#define VDF_FDMSG_MAX_FDS 16u

/*
 * Send len bytes and nfds fds (<= VDF_FDMSG_MAX_FDS) as one datagram, never
 * raising SIGPIPE. The fds stay the caller's. Returns 0, -EPIPE when the peer
 * is gone, -EINVAL for too many fds, or the errno of sendmsg.
 */
int vdf_fdmsg_send(int sock, const void *buf, size_t len, const int *fds,
		   unsigned nfds) VDF_MUST_CHECK;

/*
 * Receive one datagram into buf (cap bytes) and every fd attached to it
 * (close-on-exec) into fds (room for VDF_FDMSG_MAX_FDS); *nfds gets their
 * count. flags: 0 or MSG_DONTWAIT. Returns the datagram's length, -EPIPE at
 * end of stream, -EMSGSIZE when the data or the fd list was truncated (the
 * fds that did arrive are closed; pass cap one byte larger than the largest
 * valid message to detect over-long ones), -EAGAIN, or the errno of recvmsg.
 */
int vdf_fdmsg_recv(int sock, void *buf, size_t cap, int *fds, unsigned *nfds,
		   int flags) VDF_MUST_CHECK;

/* Close fds[0..n) that are >= 0 and set them to -1. */
void vdf_fdmsg_close(int *fds, unsigned n);

/*
 * vdf_fdmsg_recv for a message that must carry exactly want fds (0..
 * VDF_FDMSG_MAX_FDS): any other count closes what arrived and gives -EBADMSG.
 * With timeout_ms >= 0 it first waits that long for a message (-ETIMEDOUT).
 */
int vdf_fdmsg_recv_n(int sock, void *buf, size_t cap, int *fds, unsigned want, int flags,
		     int timeout_ms) VDF_MUST_CHECK;

/*
 * The 16-byte header of the session protocols (vdf/blksession.h,
 * vdf/netsession.h), little-endian: magic (u32), version (u16), type (u16),
 * total length (u32), reserved (u32, zero).
 */
#define VDF_FDMSG_HDR_SIZE 16u

/* Write the header for a body of body_len bytes and zero the body. Returns the
 * total length, or -ENOSPC when len is short. */
int vdf_fdmsg_hdr_encode(uint32_t magic, uint16_t version, uint16_t type, size_t body_len,
			 void *buf, size_t len) VDF_MUST_CHECK;
/* Check that buf (len bytes) is exactly a message of type want with a body of
 * body_len bytes: 0, -EBADMSG (magic, reserved, type), -EPROTONOSUPPORT
 * (version), -EMSGSIZE (lengths). */
int vdf_fdmsg_hdr_decode(const void *buf, size_t len, uint32_t magic, uint16_t version,
			 uint16_t want, size_t body_len) VDF_MUST_CHECK;

#endif
