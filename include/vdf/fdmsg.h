/* SPDX-License-Identifier: MIT */
/*
 * One datagram plus file descriptors (SCM_RIGHTS) over a Unix SOCK_SEQPACKET
 * socket: the transport of the grant protocol (vdf/grant.h), the block
 * session (vdf/blksession.h) and fd-carrying control answers (vdf/ctl.h).
 */
#ifndef VDF_FDMSG_H
#define VDF_FDMSG_H

#include <stddef.h>

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

#endif
