// SPDX-License-Identifier: MIT
/* Driver instances: start, watch, revoke, restart. See instance.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "devtree.h"
#include "instance.h"
#include "vdf/log.h"

#define STOP_GRACE_MS 5000ull
#define NS_PER_MS     1000000ull

#define LOG(level, in, ...) vdf_log(level, "vdfd", (in)->pci.addr, __VA_ARGS__)

static void set_node_state(struct vdf_instance *in)
{
	if (in->node && vdf_devnode_set_state(in->node, vdf_sup_state_name(in->sup.state)))
		LOG(LOG_WARNING, in, "cannot record state in the device tree");
}

static void policy_from_manifest(const struct vdf_manifest *m, struct vdf_restart_policy *p)
{
	vdf_restart_policy_default(p);
	p->max_restarts = m->restart.max_restarts;
	p->window_s = m->restart.window_s;
	p->backoff_initial_ms = m->restart.backoff_initial_ms;
	p->backoff_max_ms = m->restart.backoff_max_ms;
	p->heartbeat_ms = m->heartbeat_ms;
}

int vdf_instance_create(struct vdf_event_loop *loop, unsigned id, const struct vdf_pci_info *pci,
			const struct vdf_manifest *m, struct vdf_devnode *node,
			struct vdf_instance **out)
{
	struct vdf_restart_policy p;
	struct vdf_instance *in = calloc(1, sizeof(*in));

	if (!in)
		return -ENOMEM;
	in->id = id;
	in->pci = *pci;
	in->m = m;
	in->node = node;
	in->loop = loop;
	in->sock = -1;
	in->proc.pidfd = in->proc.log_fd = -1;
	policy_from_manifest(m, &p);
	vdf_sup_init(&in->sup, &p);
	if (node && (vdf_devnode_set_prop(node, "driver", m->name) ||
		     vdf_devnode_set_prop(node, "manifest", m->origin ? m->origin : m->name)))
		LOG(LOG_WARNING, in, "cannot record the driver in the device tree");
	set_node_state(in);
	*out = in;
	return 0;
}

static void rights_from_manifest(const struct vdf_manifest *m, struct vdf_rights *r)
{
	memset(r, 0, sizeof(*r));
	r->bars = m->caps.bars;
	r->io_bars = m->caps.io_bars;
	r->dma_window = m->caps.dma_window;
	if (m->caps.msix)
		r->irq_kinds |= BIT(VDF_IRQ_MSIX);
	if (m->caps.msi)
		r->irq_kinds |= BIT(VDF_IRQ_MSI);
	if (m->caps.intx)
		r->irq_kinds |= BIT(VDF_IRQ_INTX);
	r->irq_kinds |= BIT(VDF_IRQ_ERR) | BIT(VDF_IRQ_REQ);
	r->irq_max_vectors = VDF_MAX(VDF_MAX(m->caps.msix, m->caps.msi), 1u);
	if (m->caps.cfg_write)
		r->flags |= VDF_RIGHT_CFG_WRITE;
}

/* Stop the device doing anything, then let go of it (revocation). */
static void revoke_device(struct vdf_instance *in)
{
	int rc;

	if (!in->mdev)
		return;
	rc = vdf_dev_set_bus_master(in->mdev, false);
	if (rc)
		LOG(LOG_WARNING, in, "bus master off: %s", strerror(-rc));
	rc = vdf_dev_reset(in->mdev);
	if (rc && rc != -ENOTSUP)
		LOG(LOG_WARNING, in, "device reset: %s", strerror(-rc));
	/* Closing the last fds of the container drops every DMA mapping. */
	vdf_dev_close(in->mdev);
	in->mdev = NULL;
	LOG(LOG_INFO, in, "revoked: bus mastering off, device %s, DMA mappings dropped",
	    rc == -ENOTSUP ? "has no reset"
	    : rc	   ? "reset failed"
			   : "reset");
}

/* A line of the driver's stderr into our log, under the driver's name and
 * device (dropping the same prefix if the driver's own logger wrote it). */
static void flush_log(struct vdf_instance *in)
{
	char prefix[VDF_MANIFEST_NAME_MAX + 24];
	const char *line = in->logline;
	size_t plen;

	if (!in->loglen)
		return;
	in->logline[in->loglen] = '\0';
	plen = (size_t)snprintf(prefix, sizeof(prefix), "%s %s: ", in->m->name, in->pci.addr);
	if (!strncmp(line, prefix, plen))
		line += plen;
	VDF_LOG_RL(LOG_INFO, in->m->name, in->pci.addr, "%s", line);
	in->loglen = 0;
}

static void on_log(int fd, uint32_t events, void *arg)
{
	struct vdf_instance *in = arg;
	char buf[1024];
	ssize_t n = read(fd, buf, sizeof(buf));

	(void)events;
	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			flush_log(in);
			(void)vdf_event_del_fd(in->loop, fd);
		}
		return;
	}
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] == '\n' || in->loglen == sizeof(in->logline) - 1) {
			flush_log(in);
			if (buf[i] == '\n')
				continue;
		}
		in->logline[in->loglen++] = buf[i];
	}
}

/* Run the pending check's callback once. */
static void finish_check(struct vdf_instance *in, int status, uint64_t checksum)
{
	vdf_check_cb cb = in->check_cb;

	if (!cb)
		return;
	in->check_cb = NULL;
	cb(in->check_arg, status, checksum, in->check_lba, in->check_nblocks);
}

/* ---- client opens ------------------------------------------------------- */

/* Running, past its first heartbeat: the driver serves clients. */
static bool serving(const struct vdf_instance *in)
{
	return in->alive && in->sup.state == VDF_SUP_RUNNING && in->sock >= 0;
}

/*
 * Is the process on its way out although its exit was not handled yet? Killed
 * by us, exited (pidfd readable), or its end of the grant socket closed (it is
 * closing its fds). A client whose session just closed because the driver
 * died may ask again before the loop has seen the exit: that open must go to
 * the next generation, not to the dying process.
 */
static bool leaving(const struct vdf_instance *in)
{
	struct pollfd p[2] = {
	    {.fd = in->proc.pidfd, .events = POLLIN},
	    {.fd = in->sock, .events = POLLRDHUP},
	};

	if (in->killed_as_hung)
		return true;
	if (poll(p, 2, 0) <= 0)
		return false;
	return (p[0].revents & POLLIN) || (p[1].revents & (POLLRDHUP | POLLHUP | POLLERR));
}

/* One session: the driver gets one end with the CLIENT message, *client_fd the other. */
static int broker(struct vdf_instance *in, const struct vdf_client_grant *cg, int *client_fd)
{
	struct vdf_grant_msg msg = {.type = VDF_MSG_CLIENT};
	int sv[2], rc;

	*client_fd = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	msg.u.client = *cg;
	rc = vdf_grant_msg_send_fd(in->sock, &msg, sv[1]);
	close(sv[1]); /* the driver has its own copy now, or nobody does */
	if (rc) {
		close(sv[0]);
		return rc;
	}
	in->clients_opened++;
	LOG(LOG_INFO, in, "client %llu (uid %u, %s, unit %u) -> %s generation %u",
	    (unsigned long long)cg->client_id, cg->uid,
	    (cg->flags & VDF_CLIENT_F_READ_ONLY) ? "ro" : "rw", cg->unit, in->m->name,
	    in->generation);
	*client_fd = sv[0];
	return 0;
}

/* Did the send fail because the driver process is going away? */
static bool driver_gone_error(int rc)
{
	return rc == -EPIPE || rc == -ECONNRESET || rc == -ECONNREFUSED || rc == -ENOTCONN;
}

static void open_finish(struct vdf_instance *in, struct vdf_open_wait *w, int status, int fd,
			const char *why)
{
	w->cb(w->arg, status, fd, status ? 0 : in->generation, why);
	free(w);
}

/* Unlink and return the waiting open after *pp. */
static struct vdf_open_wait *open_unlink(struct vdf_instance *in, struct vdf_open_wait **pp)
{
	struct vdf_open_wait *w = *pp;

	*pp = w->next;
	w->next = NULL;
	in->nopens--;
	return w;
}

/* Why a waiting open can never be served now, or NULL while it may still be. */
static const char *open_refusal(const struct vdf_instance *in, char *buf, size_t len)
{
	switch (in->sup.state) {
	case VDF_SUP_FAILED:
		snprintf(buf, len, "%s driver failed (%s); 'vdfctl restart %s' tries again",
			 in->m->name, in->last_error[0] ? in->last_error : "too many crashes",
			 in->pci.addr);
		return buf;
	case VDF_SUP_STOPPED:
	case VDF_SUP_STOPPING:
		if (in->restart_pending)
			return NULL;
		snprintf(buf, len, "%s driver %s ('vdfctl start %s' starts it)", in->m->name,
			 in->sup.state == VDF_SUP_STOPPED ? "is stopped" : "is stopping",
			 in->pci.addr);
		return buf;
	default:
		return NULL;
	}
}

/*
 * Serve, fail or time out the waiting opens, as the instance's state now
 * allows. Called after every state change and from the tick.
 */
static void opens_update(struct vdf_instance *in, uint64_t now)
{
	struct vdf_open_wait **pp = &in->opens;
	char why[VDF_INSTANCE_WHY_MAX];

	while (*pp) {
		struct vdf_open_wait *w = *pp;
		const char *refusal = open_refusal(in, why, sizeof(why));
		int fd, rc;

		if (w->wanted && !w->wanted(w->arg)) {
			open_finish(in, open_unlink(in, pp), -ECANCELED, -1, "the client left");
			continue;
		}
		if (serving(in) && in->generation >= w->min_generation) {
			if (leaving(in)) {
				w->min_generation = in->generation + 1;
				pp = &w->next;
				continue;
			}
			rc = broker(in, &w->cg, &fd);
			if (rc && driver_gone_error(rc)) {
				w->min_generation = in->generation + 1;
				pp = &w->next;
				continue;
			}
			if (rc)
				snprintf(why, sizeof(why), "handing the session to %s: %s",
					 in->m->name, strerror(-rc));
			open_finish(in, open_unlink(in, pp), rc, fd, rc ? why : NULL);
			continue;
		}
		if (refusal) {
			open_finish(in, open_unlink(in, pp), -ENODEV, -1, refusal);
			continue;
		}
		if (now >= w->deadline_ns) {
			snprintf(why, sizeof(why), "%s driver did not become ready within %u ms",
				 in->m->name, w->timeout_ms);
			open_finish(in, open_unlink(in, pp), -ETIMEDOUT, -1, why);
			continue;
		}
		pp = &w->next;
	}
}

static void opens_fail_all(struct vdf_instance *in, int status, const char *why)
{
	while (in->opens)
		open_finish(in, open_unlink(in, &in->opens), status, -1, why);
}

int vdf_instance_open(struct vdf_instance *in, const struct vdf_client_grant *cg,
		      unsigned timeout_ms, vdf_open_cb cb, vdf_open_wanted_fn wanted, void *arg,
		      char *err, size_t errlen)
{
	struct vdf_open_wait *w, **tail;
	uint64_t now = vdf_now_ns();
	uint32_t min_gen;
	const char *refusal;
	char why[VDF_INSTANCE_WHY_MAX];
	int fd, rc;

	refusal = open_refusal(in, why, sizeof(why));
	if (refusal) {
		snprintf(err, errlen, "%s", refusal);
		return -ENODEV;
	}
	/* Starting: this process is the one to wait for. Anything else (backoff,
	 * stopping to restart, a process on its way out): the next one. */
	min_gen = in->generation + 1;
	if (in->alive && !leaving(in) &&
	    (in->sup.state == VDF_SUP_STARTING || in->sup.state == VDF_SUP_RUNNING))
		min_gen = in->generation;
	if (serving(in) && min_gen == in->generation) {
		rc = broker(in, cg, &fd);
		if (!rc) {
			cb(arg, 0, fd, in->generation, NULL);
			return 0;
		}
		if (!driver_gone_error(rc)) {
			snprintf(err, errlen, "handing the session to %s: %s", in->m->name,
				 strerror(-rc));
			return rc;
		}
		min_gen = in->generation + 1; /* it died under us: wait for the next one */
	}
	if (in->nopens >= VDF_INSTANCE_MAX_OPENS) {
		snprintf(err, errlen, "%u opens are already waiting for %s", in->nopens,
			 in->m->name);
		return -EBUSY;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	w->cg = *cg;
	w->min_generation = min_gen;
	w->deadline_ns = now + (uint64_t)timeout_ms * NS_PER_MS;
	w->timeout_ms = timeout_ms;
	w->cb = cb;
	w->wanted = wanted;
	w->arg = arg;
	for (tail = &in->opens; *tail; tail = &(*tail)->next)
		;
	*tail = w;
	in->nopens++;
	LOG(LOG_INFO, in, "client %llu waits for %s (%s)", (unsigned long long)cg->client_id,
	    in->m->name, vdf_sup_state_name(in->sup.state));
	return 0;
}

static void close_process(struct vdf_instance *in)
{
	if (in->sock >= 0) {
		(void)vdf_event_del_fd(in->loop, in->sock);
		close(in->sock);
		in->sock = -1;
	}
	if (in->proc.pidfd >= 0)
		(void)vdf_event_del_fd(in->loop, in->proc.pidfd);
	if (in->proc.log_fd >= 0) {
		on_log(in->proc.log_fd, EPOLLIN, in); /* whatever is left */
		(void)vdf_event_del_fd(in->loop, in->proc.log_fd);
	}
	flush_log(in);
	vdf_spawned_release(&in->proc);
	in->proc.pidfd = in->proc.log_fd = -1;
	in->alive = false;
	finish_check(in, -ECONNRESET, 0);
	vdf_heartbeat_add(&in->prev, &in->hb);
	memset(&in->hb, 0, sizeof(in->hb));
}

static void on_exit_event(int fd, uint32_t events, void *arg)
{
	struct vdf_instance *in = arg;
	enum vdf_sup_reason why;
	enum vdf_sup_state before = in->sup.state;
	int status = 0, code, rc;

	(void)fd;
	(void)events;
	rc = vdf_spawn_reap(&in->proc, false, &status);
	if (rc == -EAGAIN)
		return;
	if (WIFSIGNALED(status)) {
		why = in->killed_as_hung ? VDF_SUP_HUNG : VDF_SUP_KILLED;
		code = WTERMSIG(status);
		snprintf(in->last_error, sizeof(in->last_error), "killed by signal %d (%s)%s", code,
			 strsignal(code), in->killed_as_hung ? " after missing heartbeats" : "");
	} else {
		why = before == VDF_SUP_STARTING ? VDF_SUP_START_FAILED : VDF_SUP_EXITED;
		code = WEXITSTATUS(status);
		snprintf(in->last_error, sizeof(in->last_error), "exited with status %d", code);
	}
	close_process(in);
	revoke_device(in);
	vdf_sup_on_exit(&in->sup, vdf_now_ns(), why, code);
	if (before == VDF_SUP_STOPPING)
		LOG(LOG_INFO, in, "%s stopped", in->m->name);
	else if (in->sup.state == VDF_SUP_FAILED)
		LOG(LOG_ERR, in, "%s %s; %u crashes within %u s: device marked failed", in->m->name,
		    in->last_error, vdf_sup_recent_crashes(&in->sup, vdf_now_ns()),
		    in->sup.policy.window_s);
	else
		LOG(LOG_WARNING, in, "%s %s; restarting in %llu ms", in->m->name, in->last_error,
		    (unsigned long long)((in->sup.next_start_ns - vdf_now_ns()) / NS_PER_MS));
	set_node_state(in);
	opens_update(in, vdf_now_ns());
}

static void on_message(int fd, uint32_t events, void *arg)
{
	struct vdf_instance *in = arg;
	struct vdf_grant_msg msg;
	int rc;

	(void)events;
	for (;;) {
		rc = vdf_grant_msg_recv(fd, &msg, MSG_DONTWAIT);
		if (rc == -EAGAIN)
			return;
		/* The process is going (a reset: it died with messages of ours
		 * unread); its pidfd tells when. */
		if (rc == -EPIPE || rc == -ECONNRESET) {
			(void)vdf_event_del_fd(in->loop, fd);
			return;
		}
		if (rc) {
			VDF_LOG_RL(LOG_WARNING, "vdfd", in->pci.addr, "bad message from %s: %s",
				   in->m->name, strerror(-rc));
			continue;
		}
		if (msg.type == VDF_MSG_HEARTBEAT) {
			enum vdf_sup_state before = in->sup.state;
			uint64_t now = vdf_now_ns();

			in->hb = msg.u.hb;
			in->hb_count++;
			vdf_sup_on_heartbeat(&in->sup, now);
			if (before == VDF_SUP_STARTING && in->sup.state == VDF_SUP_RUNNING) {
				const struct vdf_sup_record *r = vdf_sup_last(&in->sup);

				in->last_ready_ns = now;
				if (r && r->recovered_ns && in->generation > 1)
					LOG(LOG_INFO, in,
					    "%s running again, %llu ms after the crash",
					    in->m->name,
					    (unsigned long long)(r->recovered_ns / NS_PER_MS));
				else
					LOG(LOG_INFO, in, "%s running (pid %d)", in->m->name,
					    (int)in->proc.pid);
				set_node_state(in);
				/* Serving now: opens waiting for it get their sessions. */
				opens_update(in, now);
			}
		} else if (msg.type == VDF_MSG_CHECK_RESULT && in->check_cb &&
			   msg.u.check.cookie == in->check_cookie) {
			finish_check(in, msg.u.check.status, msg.u.check.checksum);
		}
	}
}

static int start_process(struct vdf_instance *in, int *fds)
{
	struct vdf_spawn_opts o = {0};
	const struct vdf_manifest *m = in->m;
	struct vdf_grant g = {0};
	char **argv = NULL;
	int sv[2] = {-1, -1}, rc;
	uint64_t memlock =
	    m->limits.memlock_mb ? (uint64_t)m->limits.memlock_mb << 20 : m->caps.dma_window;

	rc = vdf_manifest_build_argv(m, in->pci.addr, &argv);
	if (rc)
		return rc;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		rc = -errno;
		goto out_argv;
	}
	o.path = m->binary_path;
	o.argv = argv;
	o.grant_fd = sv[1];
	o.uid = vdf_spawn_uid(in->id);
	o.gid = (gid_t)o.uid;
	o.mem_bytes = (uint64_t)m->limits.memory_mb << 20;
	o.memlock_bytes = memlock + VDF_SPAWN_MEMLOCK_SLACK;
	o.nofile = m->limits.fds;
	rc = vdf_spawn_driver(&o, &in->proc);
	close(sv[1]);
	sv[1] = -1;
	if (rc)
		goto out_sock;
	snprintf(g.pci_addr, sizeof(g.pci_addr), "%s", in->pci.addr);
	snprintf(g.driver, sizeof(g.driver), "%s", m->name);
	g.instance = in->id;
	g.generation = ++in->generation;
	rights_from_manifest(m, &g.rights);
	g.heartbeat_ms = m->heartbeat_ms;
	rc = vdf_grant_send(sv[0], &g, fds, VDF_GRANT_NFDS);
	if (rc) {
		LOG(LOG_ERR, in, "sending the grant to %s: %s", m->name, strerror(-rc));
		if (vdf_spawn_kill(&in->proc, SIGKILL) == 0) {
			int status;

			(void)vdf_spawn_reap(&in->proc, true, &status);
		}
		vdf_spawned_release(&in->proc);
		goto out_sock;
	}
	/* From now on a driver that does not read its socket makes our sends
	 * fail (-EAGAIN) instead of blocking the daemon. */
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0)
		LOG(LOG_WARNING, in, "grant socket O_NONBLOCK: %s", strerror(errno));
	in->sock = sv[0];
	in->alive = true;
	free(argv);
	return 0;

out_sock:
	if (sv[0] >= 0)
		close(sv[0]);
out_argv:
	free(argv);
	return rc;
}

int vdf_instance_start(struct vdf_instance *in)
{
	int fds[VDF_GRANT_NFDS] = {-1, -1, -1};
	uint64_t now = vdf_now_ns();
	int rc;

	if (in->alive)
		return -EALREADY;
	in->killed_as_hung = false;
	rc = vdf_spawn_open_vfio(in->pci.addr, fds);
	if (rc) {
		snprintf(in->last_error, sizeof(in->last_error), "opening VFIO: %s", strerror(-rc));
		return rc;
	}
	rc = start_process(in, fds);
	if (rc) {
		snprintf(in->last_error, sizeof(in->last_error), "starting %s: %s",
			 in->m->binary_path, strerror(-rc));
		for (unsigned i = 0; i < VDF_GRANT_NFDS; i++)
			close(fds[i]);
		return rc;
	}
	/* Our own handle on the same device, used only to revoke it. */
	rc = vdf_vfio_from_fds(in->pci.addr, fds[0], fds[1], fds[2], &in->mdev);
	if (rc)
		LOG(LOG_WARNING, in,
		    "no manager handle on the device (%s): cannot reset it on a crash",
		    strerror(-rc));
	if (in->proc.log_fd >= 0)
		(void)fcntl(in->proc.log_fd, F_SETFL, O_NONBLOCK);
	if (vdf_event_add_fd(in->loop, in->proc.pidfd, EPOLLIN, on_exit_event, in) ||
	    vdf_event_add_fd(in->loop, in->sock, EPOLLIN, on_message, in) ||
	    (in->proc.log_fd >= 0 &&
	     vdf_event_add_fd(in->loop, in->proc.log_fd, EPOLLIN, on_log, in)))
		LOG(LOG_ERR, in, "cannot watch %s: it will not be supervised", in->m->name);
	in->last_start_ns = now;
	vdf_sup_on_started(&in->sup, now);
	set_node_state(in);
	LOG(LOG_INFO, in, "started %s (pid %d, uid %u, generation %u)", in->m->name,
	    (int)in->proc.pid, vdf_spawn_uid(in->id), in->generation);
	return 0;
}

int vdf_instance_stop(struct vdf_instance *in)
{
	struct vdf_grant_msg msg = {.type = VDF_MSG_STOP};

	vdf_sup_on_stop(&in->sup, vdf_now_ns());
	set_node_state(in);
	opens_update(in, vdf_now_ns()); /* a plain stop ends the waiting opens */
	if (!in->alive)
		return 0;
	in->stop_deadline_ns = vdf_now_ns() + STOP_GRACE_MS * NS_PER_MS;
	msg.u.stop_reason = VDF_STOP_REQUESTED;
	if (in->sock >= 0 && vdf_grant_msg_send(in->sock, &msg))
		return vdf_spawn_kill(&in->proc, SIGKILL);
	return 0;
}

void vdf_instance_tick(struct vdf_instance *in, uint64_t now)
{
	if (in->check_cb && now > in->check_deadline_ns)
		finish_check(in, -ETIMEDOUT, 0);
	if (in->alive) {
		if (in->sup.state == VDF_SUP_STOPPING && now > in->stop_deadline_ns &&
		    !in->killed_as_hung) {
			LOG(LOG_WARNING, in, "%s did not stop: killing it", in->m->name);
			in->killed_as_hung = true;
			if (vdf_spawn_kill(&in->proc, SIGKILL))
				LOG(LOG_ERR, in, "kill failed");
		} else if (!in->killed_as_hung && vdf_sup_is_hung(&in->sup, now)) {
			LOG(LOG_ERR, in, "%s %s: killing it", in->m->name,
			    in->sup.state == VDF_SUP_STARTING ? "did not become ready"
							      : "stopped sending heartbeats");
			in->killed_as_hung = true;
			if (vdf_spawn_kill(&in->proc, SIGKILL))
				LOG(LOG_ERR, in, "kill failed");
		}
	} else if (vdf_sup_should_start(&in->sup, now)) {
		int rc = vdf_instance_start(in);

		if (rc) {
			/* Counts as a crash: backoff, and eventually failed. */
			LOG(LOG_ERR, in, "restart failed: %s", in->last_error);
			vdf_sup_on_started(&in->sup, now);
			vdf_sup_on_exit(&in->sup, now, VDF_SUP_START_FAILED, rc);
			set_node_state(in);
		}
	}
	/* Timeouts, clients that left, and whatever a restart command that
	 * could not start the driver left behind. */
	opens_update(in, now);
}

int vdf_instance_check(struct vdf_instance *in, uint64_t lba, uint32_t nblocks, vdf_check_cb cb,
		       void *arg)
{
	struct vdf_grant_msg msg = {.type = VDF_MSG_CHECK};
	int rc;

	if (!in->alive || in->sup.state != VDF_SUP_RUNNING)
		return -EAGAIN;
	if (in->check_cb)
		return -EBUSY;
	msg.u.check.cookie = ++in->check_cookie;
	msg.u.check.lba = lba;
	msg.u.check.nblocks = nblocks;
	rc = vdf_grant_msg_send(in->sock, &msg);
	if (rc)
		return rc;
	in->check_cb = cb;
	in->check_arg = arg;
	in->check_lba = lba;
	in->check_nblocks = nblocks;
	in->check_deadline_ns = vdf_now_ns() + VDF_INSTANCE_CHECK_TIMEOUT_MS * NS_PER_MS;
	return 0;
}

void vdf_instance_totals(const struct vdf_instance *in, struct vdf_heartbeat *t)
{
	*t = in->prev;
	vdf_heartbeat_add(t, &in->hb);
}

void vdf_instance_destroy(struct vdf_instance *in)
{
	char why[VDF_INSTANCE_WHY_MAX];

	if (!in)
		return;
	if (in->opens) {
		snprintf(why, sizeof(why), "%s driver was unbound from %s", in->m->name,
			 in->pci.addr);
		opens_fail_all(in, -ENODEV, why);
	}
	if (in->alive) {
		int status;

		if (vdf_spawn_kill(&in->proc, SIGKILL) == 0)
			(void)vdf_spawn_reap(&in->proc, true, &status);
		close_process(in);
	}
	revoke_device(in);
	free(in);
}
