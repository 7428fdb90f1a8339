// SPDX-License-Identifier: MIT
/* Datagrams with file descriptors over SEQPACKET sockets; see vdf/fdmsg.h. */
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vdf/fdmsg.h"

void vdf_fdmsg_close(int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

int vdf_fdmsg_send(int sock, const void *buf, size_t len, const int *fds, unsigned nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VDF_FDMSG_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;

	if (nfds > VDF_FDMSG_MAX_FDS)
		return -EINVAL;
	if (nfds) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	do {
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int vdf_fdmsg_recv(int sock, void *buf, size_t cap, int *fds, unsigned *nfds, int flags)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VDF_FDMSG_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {.iov_base = buf, .iov_len = cap};
	struct msghdr mh = {
	    .msg_iov = &iov,
	    .msg_iovlen = 1,
	    .msg_control = ctl.buf,
	    .msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *c;
	ssize_t n;

	*nfds = 0;
	do {
		n = recvmsg(sock, &mh, flags | MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		size_t cnt;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		cnt = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < cnt; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (*nfds < VDF_FDMSG_MAX_FDS)
				fds[(*nfds)++] = fd;
			else
				close(fd); /* cannot happen with ctl sized as it is */
		}
	}
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		vdf_fdmsg_close(fds, *nfds);
		*nfds = 0;
		return -EMSGSIZE;
	}
	if (n == 0 && *nfds == 0)
		return -EPIPE; /* end of stream: VDF protocols never send empty messages */
	return (int)n;
}

int vdf_fdmsg_recv_n(int sock, void *buf, size_t cap, int *fds, unsigned want, int flags,
		     int timeout_ms)
{
	int got[VDF_FDMSG_MAX_FDS];
	unsigned ngot;
	int len;

	if (timeout_ms >= 0) {
		struct pollfd pfd = {.fd = sock, .events = POLLIN};
		int rc;

		do {
			rc = poll(&pfd, 1, timeout_ms);
		} while (rc < 0 && errno == EINTR);
		if (rc < 0)
			return -errno;
		if (rc == 0)
			return -ETIMEDOUT;
		flags |= MSG_DONTWAIT;
	}
	len = vdf_fdmsg_recv(sock, buf, cap, got, &ngot, flags);
	if (len < 0)
		return len;
	if (ngot != want) {
		vdf_fdmsg_close(got, ngot);
		return -EBADMSG;
	}
	if (want)
		memcpy(fds, got, sizeof(int) * want);
	return len;
}

struct fdmsg_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t type;
	uint32_t length; /* whole message, header included */
	uint32_t reserved;
};

static_assert(sizeof(struct fdmsg_hdr) == VDF_FDMSG_HDR_SIZE, "header is 16 bytes");

int vdf_fdmsg_hdr_encode(uint32_t magic, uint16_t version, uint16_t type, size_t body_len,
			 void *buf, size_t len)
{
	size_t total = VDF_FDMSG_HDR_SIZE + body_len;
	struct fdmsg_hdr hdr = {
	    .magic = htole32(magic),
	    .version = htole16(version),
	    .type = htole16(type),
	    .length = htole32((uint32_t)total),
	};

	if (len < total)
		return -ENOSPC;
	memset(buf, 0, total);
	memcpy(buf, &hdr, sizeof(hdr));
	return (int)total;
}

int vdf_fdmsg_hdr_decode(const void *buf, size_t len, uint32_t magic, uint16_t version,
			 uint16_t want, size_t body_len)
{
	struct fdmsg_hdr hdr;

	if (len < sizeof(hdr))
		return -EMSGSIZE;
	memcpy(&hdr, buf, sizeof(hdr));
	if (le32toh(hdr.magic) != magic || hdr.reserved)
		return -EBADMSG;
	if (le16toh(hdr.version) != version)
		return -EPROTONOSUPPORT;
	if (le16toh(hdr.type) != want)
		return -EBADMSG;
	if (le32toh(hdr.length) != len || len != VDF_FDMSG_HDR_SIZE + body_len)
		return -EMSGSIZE;
	return 0;
}
