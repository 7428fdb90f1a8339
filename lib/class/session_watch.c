// SPDX-License-Identifier: MIT
/* Common setup of client sessions in lib/class; see session_watch.h. */
#include <errno.h>
#include <fcntl.h>
#include <sys/epoll.h>

#include "session_watch.h"

int vdf_set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0))
		return -errno;
	return 0;
}

int vdf_session_watch(struct vdf_event_loop *loop, int sock, uint32_t hello_ms, vdf_fd_cb on_sock,
		      vdf_timer_cb on_timeout, void *arg, struct vdf_timer **hello_timer)
{
	int rc = vdf_set_nonblock(sock);

	if (rc)
		return rc;
	rc = vdf_event_add_fd(loop, sock, EPOLLIN, on_sock, arg);
	if (rc)
		return rc;
	rc = vdf_timer_start(loop, hello_ms, 0, on_timeout, arg, hello_timer);
	if (rc)
		(void)vdf_event_del_fd(loop, sock);
	return rc;
}
