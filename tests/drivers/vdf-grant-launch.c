// SPDX-License-Identifier: MIT
/*
 * vdf-grant-launch: start one driver the way the device manager does, for
 * guest tests before vdfd exists and as a reference for it. It
 *   1. refuses devices without an IOMMU;
 *   2. opens the device's VFIO container (a new one: its own IOMMU domain),
 *      group and device (manager/spawn.c: vdf_spawn_open_vfio);
 *   3. starts the driver in its sandbox with one end of a socketpair at fd 3
 *      (vdf_spawn_driver: own uid 61000+instance, namespaces, empty root,
 *      rlimits with memlock = DMA window + slack);
 *   4. sends the grant (rights from the options) with the three fds;
 *   5. relays the driver's stdout/stderr, prints its heartbeats, optionally
 *      exercises PING and STOP (--serve-check), waits for it to exit;
 *   6. revokes the device: bus mastering off, reset, fds closed.
 *
 *   vdf-grant-launch --pci 0000:00:04.0 [options] -- DRIVER [ARGS...]
 *
 * Exit status: the driver's (0 if it exited 0 and every check passed), 1 for
 * failures, 2 for usage or set-up errors.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../manager/spawn.h"
#include "vdf/event.h"
#include "vdf/grant.h"
#include "vdf/hal.h"
#include "vdf/log.h"

#define LAUNCH_PING_COOKIE  0xc0ffee0ddull
#define LAUNCH_CHECK_COOKIE 0xc4ec4ull
#define LAUNCH_CHECK_BLOCKS 64u

struct launch {
	const char *pci;
	struct vdf_grant grant;
	uint64_t mem_bytes;
	unsigned timeout_s;
	int serve_check;
	char **argv; /* the driver's */
};

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: vdf-grant-launch --pci ADDR [options] -- DRIVER [ARGS...]\n"
	    "  --instance N      driver instance (uid/gid 61000+N; default 1)\n"
	    "  --driver NAME     driver name in the grant (default: from DRIVER)\n"
	    "  --bars MASK       memory BARs granted (default 0x1)\n"
	    "  --io-bars MASK    I/O BARs granted (default 0)\n"
	    "  --dma-window SIZE bytes, K/M/G suffix (default 64M)\n"
	    "  --irqs LIST       intx,msi,msix,err,req (default msix,req)\n"
	    "  --max-vectors N   per kind (default 16)\n"
	    "  --cfg-write       grant config-space writes\n"
	    "  --heartbeat-ms N  heartbeat period (default 0: none)\n"
	    "  --mem SIZE        RLIMIT_AS of the driver (default: unlimited)\n"
	    "  --timeout S       kill the driver after S seconds (default 120)\n"
	    "  --serve-check     expect a serving driver: first heartbeat, PING answered,\n"
	    "                    CHECK of blocks 0-63 answered, STOP obeyed (PASS/FAIL lines)\n");
}

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	uint64_t v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 'G':
		v <<= 10;
		/* fall through */
	case 'M':
		v <<= 10;
		/* fall through */
	case 'K':
		v <<= 10;
		end++;
		break;
	default:
		break;
	}
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_irqs(const char *s, uint32_t *kinds)
{
	static const char *const names[VDF_IRQ_KIND_COUNT] = {"intx", "msi", "msix", "err", "req"};
	char buf[128], *tok, *save = NULL;

	*kinds = 0;
	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int found = 0;

		for (unsigned k = 0; k < VDF_IRQ_KIND_COUNT; k++)
			if (!strcmp(tok, names[k])) {
				*kinds |= BIT(k);
				found = 1;
			}
		if (!found)
			return -EINVAL;
	}
	return 0;
}

/* A grant name from the binary: "vdf-nvme" -> "vdf-nvme" (already legal). */
static void name_from_path(const char *path, char *name, size_t cap)
{
	const char *base = strrchr(path, '/');
	size_t j = 0;

	base = base ? base + 1 : path;
	for (size_t i = 0; base[i] && j + 1 < cap; i++) {
		char c = base[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
			c = '_';
		name[j++] = c;
	}
	name[j] = '\0';
}

static int parse_args(int argc, char **argv, struct launch *l)
{
	static const struct option opts[] = {
	    {"pci", required_argument, 0, 'p'},
	    {"instance", required_argument, 0, 'i'},
	    {"driver", required_argument, 0, 'd'},
	    {"bars", required_argument, 0, 'b'},
	    {"io-bars", required_argument, 0, 'o'},
	    {"dma-window", required_argument, 0, 'w'},
	    {"irqs", required_argument, 0, 'q'},
	    {"max-vectors", required_argument, 0, 'v'},
	    {"cfg-write", no_argument, 0, 'c'},
	    {"heartbeat-ms", required_argument, 0, 'H'},
	    {"mem", required_argument, 0, 'm'},
	    {"timeout", required_argument, 0, 't'},
	    {"serve-check", no_argument, 0, 's'},
	    {"help", no_argument, 0, 'h'},
	    {0, 0, 0, 0},
	};
	struct vdf_grant *g = &l->grant;
	const char *driver = NULL;
	uint64_t v;
	int o;

	memset(g, 0, sizeof(*g));
	g->instance = 1;
	g->rights.bars = BIT(0);
	g->rights.dma_window = 64ull << 20;
	g->rights.irq_kinds = BIT(VDF_IRQ_MSIX) | BIT(VDF_IRQ_REQ);
	g->rights.irq_max_vectors = 16;
	l->timeout_s = 120;
	while ((o = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (o) {
		case 'p':
			l->pci = optarg;
			break;
		case 'd':
			driver = optarg;
			break;
		case 'c':
			g->rights.flags |= VDF_RIGHT_CFG_WRITE;
			break;
		case 's':
			l->serve_check = 1;
			break;
		case 'q':
			if (parse_irqs(optarg, &g->rights.irq_kinds))
				goto bad;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'i':
		case 'b':
		case 'o':
		case 'w':
		case 'v':
		case 'H':
		case 'm':
		case 't':
			if (parse_size(optarg, &v))
				goto bad;
			if (o == 'i')
				g->instance = (uint32_t)v;
			else if (o == 'b')
				g->rights.bars = (uint32_t)v;
			else if (o == 'o')
				g->rights.io_bars = (uint32_t)v;
			else if (o == 'w')
				g->rights.dma_window = v;
			else if (o == 'v')
				g->rights.irq_max_vectors = (uint32_t)v;
			else if (o == 'H')
				g->heartbeat_ms = (uint32_t)v;
			else if (o == 'm')
				l->mem_bytes = v;
			else
				l->timeout_s = (unsigned)v;
			break;
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (!l->pci || optind >= argc) {
		usage(stderr);
		return -EINVAL;
	}
	l->argv = &argv[optind];
	snprintf(g->pci_addr, sizeof(g->pci_addr), "%s", l->pci);
	if (driver)
		snprintf(g->driver, sizeof(g->driver), "%s", driver);
	else
		name_from_path(l->argv[0], g->driver, sizeof(g->driver));
	if (vdf_grant_validate(g)) {
		fprintf(stderr, "vdf-grant-launch: the grant does not validate (address, name, "
				"rights or heartbeat out of range)\n");
		return -EINVAL;
	}
	return 0;

bad:
	fprintf(stderr, "vdf-grant-launch: bad value '%s'\n", optarg);
	return -EINVAL;
}

static unsigned checks_failed;

static void check(int ok, const char *what)
{
	printf("%s: serve: %s\n", ok ? "PASS" : "FAIL", what);
	if (!ok)
		checks_failed++;
}

/* Copy what the driver wrote to our stdout; 0 at EOF. */
static int relay(int fd)
{
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n > 0) {
		fflush(stdout);
		if (write(STDOUT_FILENO, buf, (size_t)n) != n)
			return -EIO;
	}
	return n > 0 ? 1 : 0;
}

struct serve_state {
	int heartbeats;
	int pinged, ping_answered, check_answered, stop_sent;
};

static void send_stop(int sock, struct serve_state *ss)
{
	struct vdf_grant_msg stop = {.type = VDF_MSG_STOP};

	stop.u.stop_reason = VDF_STOP_REQUESTED;
	check(vdf_grant_msg_send(sock, &stop) == 0, "STOP sent");
	ss->stop_sent = 1;
}

static void on_message(struct launch *l, int sock, struct serve_state *ss)
{
	struct vdf_grant_msg m;
	int rc = vdf_grant_msg_recv(sock, &m, MSG_DONTWAIT);

	if (rc == -EAGAIN || rc == -EPIPE)
		return;
	if (rc) {
		printf("launch: bad message from the driver: %s\n", strerror(-rc));
		return;
	}
	if (m.type == VDF_MSG_CHECK_RESULT && l->serve_check && !ss->check_answered) {
		ss->check_answered = 1;
		printf("launch: check lba=%" PRIu64 " nblocks=%u: status %d checksum 0x%016" PRIx64
		       "\n",
		       m.u.check.lba, m.u.check.nblocks, m.u.check.status, m.u.check.checksum);
		check(m.u.check.cookie == LAUNCH_CHECK_COOKIE && m.u.check.status == 0,
		      "CHECK answered (blocks read through the sandboxed driver)");
		send_stop(sock, ss);
		return;
	}
	if (m.type != VDF_MSG_HEARTBEAT) {
		printf("launch: unexpected message type %d from the driver\n", m.type);
		return;
	}
	ss->heartbeats++;
	if (ss->heartbeats <= 3 || m.u.hb.cookie)
		printf("launch: heartbeat seq=%" PRIu64 " cookie=0x%" PRIx64 " irqs=%" PRIu64
		       " ios=%" PRIu64 " bytes=%" PRIu64 " errors=%" PRIu64 "\n",
		       m.u.hb.seq, m.u.hb.cookie, m.u.hb.irqs, m.u.hb.rx_ios + m.u.hb.tx_ios,
		       m.u.hb.rx_bytes + m.u.hb.tx_bytes, m.u.hb.errors);
	if (!l->serve_check)
		return;
	if (!ss->pinged) {
		struct vdf_grant_msg ping = {.type = VDF_MSG_PING};

		check(1, "driver up (first heartbeat)");
		ping.u.ping_cookie = LAUNCH_PING_COOKIE;
		rc = vdf_grant_msg_send(sock, &ping);
		check(rc == 0, "PING sent");
		ss->pinged = 1;
	} else if (!ss->ping_answered && m.u.hb.cookie == LAUNCH_PING_COOKIE) {
		struct vdf_grant_msg req = {.type = VDF_MSG_CHECK};

		ss->ping_answered = 1;
		check(1, "PING answered with a heartbeat carrying its cookie");
		req.u.check.cookie = LAUNCH_CHECK_COOKIE;
		req.u.check.lba = 0;
		req.u.check.nblocks = LAUNCH_CHECK_BLOCKS;
		rc = vdf_grant_msg_send(sock, &req);
		check(rc == 0, "CHECK sent");
		if (rc)
			send_stop(sock, ss);
	}
}

/* Revocation as the manager does it after a driver is gone. */
static void revoke_device(const char *pci, int fds[VDF_GRANT_NFDS])
{
	struct vdf_dev *dev;
	int rc;

	rc = vdf_vfio_from_fds(pci, fds[VDF_GRANT_FD_CONTAINER], fds[VDF_GRANT_FD_GROUP],
			       fds[VDF_GRANT_FD_DEVICE], &dev);
	fds[0] = fds[1] = fds[2] = -1; /* owned by dev, or closed */
	if (rc) {
		printf("launch: revoke: %s\n", strerror(-rc));
		return;
	}
	rc = vdf_dev_set_bus_master(dev, false);
	if (!rc)
		rc = vdf_dev_reset(dev);
	printf("launch: %s revoked (bus master off, reset: %s), fds closed\n", pci,
	       rc ? strerror(-rc) : "ok");
	vdf_dev_close(dev);
}

int main(int argc, char **argv)
{
	int fds[VDF_GRANT_NFDS] = {-1, -1, -1}, sv[2] = {-1, -1}, status = 0, rc;
	int log_open = 1, sock_open = 1;
	struct serve_state ss = {0};
	struct vdf_spawn_opts so;
	struct vdf_spawned s;
	struct launch l = {0};
	uint64_t deadline;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (parse_args(argc, argv, &l))
		return 2;
	if (!vdf_iommu_present(l.pci)) {
		fprintf(stderr,
			"vdf-grant-launch: %s: no IOMMU protects it: refusing to grant it\n",
			l.pci);
		return 2;
	}
	rc = vdf_spawn_open_vfio(l.pci, fds);
	if (rc) {
		fprintf(stderr, "vdf-grant-launch: opening %s: %s\n", l.pci, strerror(-rc));
		return 2;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		perror("vdf-grant-launch: socketpair");
		return 2;
	}
	memset(&so, 0, sizeof(so));
	so.path = l.argv[0];
	so.argv = l.argv;
	so.grant_fd = sv[1];
	so.uid = vdf_spawn_uid(l.grant.instance);
	so.gid = vdf_spawn_uid(l.grant.instance);
	so.mem_bytes = l.mem_bytes;
	so.memlock_bytes = l.grant.rights.dma_window + VDF_SPAWN_MEMLOCK_SLACK;
	so.nofile = 64;
	rc = vdf_spawn_driver(&so, &s);
	close(sv[1]);
	if (rc) {
		fprintf(stderr, "vdf-grant-launch: starting %s: %s\n", l.argv[0], strerror(-rc));
		return 2;
	}
	printf("launch: %s started as pid %d, uid %u, on %s (DMA window %" PRIu64
	       " bytes, memlock %" PRIu64 ")\n",
	       l.grant.driver, (int)s.pid, (unsigned)so.uid, l.pci, l.grant.rights.dma_window,
	       so.memlock_bytes);
	rc = vdf_grant_send(sv[0], &l.grant, fds, VDF_GRANT_NFDS);
	if (rc)
		printf("launch: sending the grant: %s\n", strerror(-rc));

	deadline = vdf_now_ns() + (uint64_t)l.timeout_s * 1000000000ull;
	for (;;) {
		struct pollfd p[3] = {
		    {.fd = log_open ? s.log_fd : -1, .events = POLLIN},
		    {.fd = sock_open ? sv[0] : -1, .events = POLLIN},
		    {.fd = s.pidfd, .events = POLLIN},
		};
		int64_t left = (int64_t)(deadline - vdf_now_ns()) / 1000000;

		if (left <= 0) {
			printf("launch: %s still running after %u s: killing it\n", l.grant.driver,
			       l.timeout_s);
			if (vdf_spawn_kill(&s, SIGKILL))
				printf("launch: kill failed\n");
			checks_failed++;
			break;
		}
		if (poll(p, 3, (int)VDF_MIN(left, 1000)) < 0 && errno != EINTR)
			break;
		if (p[0].revents && relay(s.log_fd) <= 0)
			log_open = 0;
		if (p[1].revents & POLLIN)
			on_message(&l, sv[0], &ss);
		else if (p[1].revents)
			sock_open = 0; /* the driver closed its end */
		if (p[2].revents)      /* exited: drain its output, then reap */
			break;
	}
	while (log_open && relay(s.log_fd) > 0)
		;
	while (vdf_grant_msg_recv(sv[0], &(struct vdf_grant_msg){0}, MSG_DONTWAIT) == 0)
		;
	rc = vdf_spawn_reap(&s, true, &status);
	if (rc)
		printf("launch: reaping: %s\n", strerror(-rc));
	else if (WIFEXITED(status))
		printf("launch: %s exited with status %d\n", l.grant.driver, WEXITSTATUS(status));
	else
		printf("launch: %s killed by signal %d\n", l.grant.driver, WTERMSIG(status));
	if (l.serve_check) {
		check(ss.stop_sent && !rc && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "driver exited cleanly after STOP");
	}
	vdf_spawned_release(&s);
	close(sv[0]);
	revoke_device(l.pci, fds);
	if (rc || !WIFEXITED(status) || WEXITSTATUS(status) || checks_failed)
		return 1;
	return 0;
}
