// SPDX-License-Identifier: MIT
/*
 * vdfd: the VDF device manager. Discovers PCI devices, decides with the policy
 * and the driver manifests which driver runs on which device, binds the device
 * to vfio-pci, starts the driver in its sandbox with a capability grant,
 * supervises it (crash -> revoke, reset, restart with backoff; too many ->
 * failed) and answers vdfctl on its control socket.
 *
 *   vdfd [--manifests DIR] [--bindir DIR] [--policy FILE] [--socket PATH]
 *        [--sysfs ROOT] [--log-level LEVEL] [--no-bind]
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "ctl_server.h"
#include "daemon.h"
#include "discovery.h"
#include "vdf/log.h"

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: vdfd [options]\n"
	    "  --manifests DIR   driver manifests (default: drivers/*/ next to the binary's tree,\n"
	    "                    or /etc/vdf/drivers)\n"
	    "  --bindir DIR      where manifest binaries are found (default: vdfd's own "
	    "directory)\n"
	    "  --policy FILE     which devices VDF may manage (default: all that a manifest "
	    "matches)\n"
	    "  --socket PATH     control socket (default " VDF_CTL_DEFAULT_SOCKET ")\n"
	    "  --sysfs ROOT      sysfs to discover from (default /sys)\n"
	    "  --log-level L     err, warning, notice, info (default), debug\n"
	    "  --no-bind         only manage devices already bound to vfio-pci\n");
}

static int parse_args(int argc, char **argv, struct vdfd_opts *o)
{
	static const struct option opts[] = {
	    {"manifests", required_argument, 0, 'm'},
	    {"bindir", required_argument, 0, 'b'},
	    {"policy", required_argument, 0, 'p'},
	    {"socket", required_argument, 0, 's'},
	    {"sysfs", required_argument, 0, 'y'},
	    {"log-level", required_argument, 0, 'l'},
	    {"no-bind", no_argument, 0, 'n'},
	    {"help", no_argument, 0, 'h'},
	    {0, 0, 0, 0},
	};
	int c, level;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			o->manifest_dir = optarg;
			break;
		case 'b':
			o->bindir = optarg;
			break;
		case 'p':
			o->policy_path = optarg;
			break;
		case 's':
			o->socket_path = optarg;
			break;
		case 'y':
			o->sysfs_root = optarg;
			break;
		case 'l':
			level = vdf_ctl_log_level_parse(optarg);
			if (level < 0) {
				fprintf(stderr, "vdfd: unknown log level '%s'\n", optarg);
				return -EINVAL;
			}
			vdf_log_set_level(level);
			break;
		case 'n':
			o->no_bind = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

static void on_signal(int fd, uint32_t events, void *arg)
{
	struct signalfd_siginfo si;

	(void)events;
	if (read(fd, &si, sizeof(si)) == sizeof(si)) {
		vdf_log(LOG_NOTICE, "vdfd", NULL, "signal %u: shutting down", si.ssi_signo);
		vdf_event_loop_stop(arg);
	}
}

int main(int argc, char **argv)
{
	struct vdfd_opts o = {0};
	struct vdfd *d = NULL;
	sigset_t mask;
	int sfd, rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (parse_args(argc, argv, &o))
		return 2;
	/* SIGPIPE: a vdfctl client that went away must not kill the daemon. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		perror("vdfd: signalfd");
		return 1;
	}
	rc = vdfd_create(&o, &d);
	if (rc) {
		fprintf(stderr, "vdfd: %s\n", strerror(-rc));
		close(sfd);
		return 1;
	}
	rc = vdf_event_add_fd(vdfd_loop(d), sfd, 0, on_signal, vdfd_loop(d));
	if (!rc)
		rc = vdf_event_loop_run(vdfd_loop(d));
	vdfd_destroy(d);
	close(sfd);
	return rc ? 1 : 0;
}
