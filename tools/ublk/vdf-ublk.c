// SPDX-License-Identifier: MIT
/*
 * vdf-ublk: export a block backend as /dev/ublkbN through the Linux ublk
 * driver (docs/UBLK.md).
 *
 *   vdf-ublk (--mem SIZE | --file PATH | --vdf DEV) [--block-size 512|4096]
 *            [--read-only] [--queues N] [--depth N] [--max-io SIZE] [--id N]
 *            [--socket PATH] [--foreground] [-v]
 *   vdf-ublk --recover ID (--mem SIZE | --file PATH | --vdf DEV) [--foreground]
 *
 * Prints "/dev/ublkbN" on stdout once the device is live; without
 * --foreground it then runs in the background (the printing parent exits).
 * SIGINT/SIGTERM stop and delete the device. A SIGKILL leaves the device in
 * place with its I/O waiting; `--recover ID` with the same backend takes it
 * over and the waiting I/O completes.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "ublk_srv.h"
#include "vdf/log.h"
#include "vdf/parse.h"

static volatile sig_atomic_t g_signal;
static int g_wake_fd = -1;

static void on_signal(int sig)
{
	int saved = errno;

	g_signal = sig;
	if (g_wake_fd >= 0)
		(void)eventfd_write(g_wake_fd, 1);
	errno = saved;
}

static bool should_abort(void *arg)
{
	const struct ublk_dev *d = arg;

	return g_signal != 0 || ublk_dev_queue_ended(d);
}

static void usage(FILE *f)
{
	fputs("usage: vdf-ublk (--mem SIZE[K|M|G] | --file PATH | --vdf DEV)\n"
	      "                [--block-size 512|4096] [--read-only] [--queues N] [--depth N]\n"
	      "                [--max-io SIZE] [--id N] [--foreground] [-v]\n"
	      "       vdf-ublk --recover ID (--mem SIZE | --file PATH | --vdf DEV) [--foreground]\n"
	      "Prints /dev/ublkbN once the device is live; SIGINT/SIGTERM remove it.\n"
	      "--vdf DEV [--socket PATH]: a device served by vdfd (e.g. 0000:00:04.0) through\n"
	      "the client library; PATH is vdfd's control socket (default: vdfd's default).\n",
	      f);
}

static int parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || *s == '-' || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/*
 * Go to the background before anything with threads, rings or mappings
 * exists (the driver ties a device's queues to the process that fetched
 * them). The parent waits on a pipe for the device line (or EOF on failure),
 * prints it and exits. Returns the write end of the pipe in the child.
 */
static int daemon_start(void)
{
	char line[64];
	size_t len = 0;
	ssize_t n;
	pid_t pid;
	int p[2], st;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		close(p[0]);
		(void)setsid();
		return p[1];
	}
	close(p[1]);
	while (len < sizeof(line) - 1) {
		n = read(p[0], line + len, sizeof(line) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (len > 0) {
		fwrite(line, 1, len, stdout);
		exit(fflush(stdout) == 0 ? 0 : 1);
	}
	/* The child failed and said why on stderr. */
	(void)waitpid(pid, &st, 0);
	exit(1);
}

/* Announce the device: on stdout, or to the waiting parent. */
static void announce(int ready_fd, uint32_t id)
{
	char line[64];
	int null;

	snprintf(line, sizeof(line), UBLK_BDEV_FMT "\n", id);
	if (ready_fd < 0) {
		fputs(line, stdout);
		fflush(stdout);
		return;
	}
	(void)!write(ready_fd, line, strlen(line));
	close(ready_fd);
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		close(null);
	}
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"mem", required_argument, NULL, 'm'},
	    {"file", required_argument, NULL, 'f'},
	    {"vdf", required_argument, NULL, 'V'},
	    {"socket", required_argument, NULL, 'S'},
	    {"block-size", required_argument, NULL, 'b'},
	    {"read-only", no_argument, NULL, 'r'},
	    {"queues", required_argument, NULL, 'q'},
	    {"depth", required_argument, NULL, 'd'},
	    {"max-io", required_argument, NULL, 'x'},
	    {"id", required_argument, NULL, 'i'},
	    {"recover", required_argument, NULL, 'R'},
	    {"foreground", no_argument, NULL, 'F'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct ublk_dev_opts o = {.id = -1, .nr_queues = 1, .depth = 64};
	const struct vdf_ublk_backend_ops *ops;
	const char *file = NULL, *vdf = NULL, *socket = NULL;
	uint64_t mem_size = 0, v64;
	unsigned long v, block_size = 512, recover_id = 0;
	bool read_only = false, foreground = false, recover = false;
	struct ublk_ctrl ctrl = {.fd = -1};
	struct ublk_dev dev = {.cdev_fd = -1};
	struct sigaction sa;
	void *bctx = NULL;
	int opt, ret, ready_fd = -1, status = 1;

	while ((opt = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'm':
			if (vdf_parse_size(optarg, &mem_size))
				goto bad_arg;
			break;
		case 'f':
			file = optarg;
			break;
		case 'V':
			vdf = optarg;
			break;
		case 'S':
			socket = optarg;
			break;
		case 'b':
			if (parse_uint(optarg, 512, 4096, &block_size) ||
			    (block_size != 512 && block_size != 4096))
				goto bad_arg;
			break;
		case 'r':
			read_only = true;
			break;
		case 'q':
			if (parse_uint(optarg, 1, UBLK_MAX_NR_QUEUES, &v))
				goto bad_arg;
			o.nr_queues = (unsigned)v;
			break;
		case 'd':
			if (parse_uint(optarg, 1, UBLK_MAX_QUEUE_DEPTH, &v))
				goto bad_arg;
			o.depth = (unsigned)v;
			break;
		case 'x':
			if (vdf_parse_size(optarg, &v64) || v64 < VDF_PAGE_SIZE ||
			    v64 > UBLK_MAX_IO_BUF_BYTES)
				goto bad_arg;
			o.max_io = (uint32_t)v64;
			break;
		case 'i':
			if (parse_uint(optarg, 0, UBLK_DEV_ID_AUTO - 1, &v))
				goto bad_arg;
			o.id = (int)v;
			break;
		case 'R':
			if (parse_uint(optarg, 0, UBLK_DEV_ID_AUTO - 1, &recover_id))
				goto bad_arg;
			recover = true;
			break;
		case 'F':
			foreground = true;
			break;
		case 'v':
			vdf_log_set_level(LOG_DEBUG);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || !!file + !!mem_size + !!vdf != 1 || (read_only && mem_size) ||
	    (socket && !vdf)) {
		usage(stderr);
		return 2;
	}

	if (!foreground) {
		ready_fd = daemon_start();
		if (ready_fd < 0) {
			fprintf(stderr, "vdf-ublk: fork: %s\n", strerror(-ready_fd));
			return 1;
		}
	}

	if (vdf) {
		/* The device's own block size: --block-size does not apply. */
		ret = ublk_vdf_backend_create(vdf, socket, read_only, &bctx);
		ops = &ublk_vdf_backend_ops;
	} else if (file) {
		ret = vdf_ublk_file_backend_create(file, (uint32_t)block_size, read_only, &bctx);
		ops = &vdf_ublk_file_backend_ops;
	} else {
		ret = vdf_ublk_mem_backend_create(mem_size, (uint32_t)block_size, &bctx);
		ops = &vdf_ublk_mem_backend_ops;
	}
	if (ret) {
		const char *what = vdf ? vdf : file;

		fprintf(stderr, "vdf-ublk: %s: %s\n", what ? what : "memory", strerror(-ret));
		return 1;
	}

	g_wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (g_wake_fd < 0) {
		fprintf(stderr, "vdf-ublk: eventfd: %s\n", strerror(errno));
		goto out_backend;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (!foreground)
		signal(SIGHUP, SIG_IGN);

	if (ublk_ctrl_open(&ctrl))
		goto out_wake;
	if (recover)
		ret = ublk_dev_recover(&dev, &ctrl, (uint32_t)recover_id, ops, bctx, g_wake_fd,
				       should_abort, &dev);
	else
		ret = ublk_dev_add(&dev, &ctrl, ops, bctx, &o, g_wake_fd, should_abort, &dev);
	if (ret)
		goto out_ctrl;
	announce(ready_fd, dev.id);
	ready_fd = -1;

	/* Serve until a signal, or until a queue ends (the device was stopped
	 * from outside, or a queue failed). */
	while (!g_signal && !ublk_dev_queue_ended(&dev)) {
		struct pollfd pfd = {.fd = g_wake_fd, .events = POLLIN};
		eventfd_t cnt;

		if (poll(&pfd, 1, -1) > 0)
			(void)eventfd_read(g_wake_fd, &cnt);
	}
	if (g_signal)
		vdf_log(LOG_INFO, UBLK_COMP, dev.name, "%s: removing the device",
			strsignal(g_signal));
	else
		vdf_log(LOG_WARNING, UBLK_COMP, dev.name, "a queue ended: removing the device");
	status = ublk_dev_remove(&dev, &ctrl) ? 1 : 0;

out_ctrl:
	ublk_ctrl_close(&ctrl);
out_wake:
	close(g_wake_fd);
	g_wake_fd = -1;
out_backend:
	ops->destroy(bctx);
	return status;

bad_arg:
	fprintf(stderr, "vdf-ublk: bad value '%s'\n", optarg);
	usage(stderr);
	return 2;
}
