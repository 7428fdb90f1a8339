// SPDX-License-Identifier: MIT
/*
 * vdf-nbd: serve one NBD export from a file or from memory.
 *
 *   vdf-nbd [--unix PATH | --tcp HOST:PORT] [--export NAME] [--read-only]
 *           [--max-conns N] (--file PATH | --memory SIZE | --vdf DEV [--socket PATH])
 *
 * TCP defaults to 127.0.0.1:10809. SIZE takes K/M/G suffixes (binary). --vdf
 * serves a VDF block device through the client library (vdf/client.h), so
 * the export survives driver restarts; --socket names vdfd's control socket.
 * Runs until SIGINT/SIGTERM.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "vdf/log.h"
#include "vdf/nbd.h"
#include "vdf/parse.h"

static struct vdf_nbd_server *g_srv;

static void on_signal(int sig)
{
	(void)sig;
	if (g_srv)
		vdf_nbd_server_stop(g_srv);
}

static void usage(FILE *f)
{
	fprintf(
	    f, "usage: vdf-nbd [--unix PATH | --tcp HOST:PORT (default 127.0.0.1:10809)]\n"
	       "               [--export NAME] [--read-only] [--max-conns N]\n"
	       "               (--file PATH | --memory SIZE[K|M|G] | --vdf DEV [--socket PATH])\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"unix", required_argument, NULL, 'u'},
	    {"tcp", required_argument, NULL, 't'},
	    {"export", required_argument, NULL, 'e'},
	    {"file", required_argument, NULL, 'f'},
	    {"memory", required_argument, NULL, 'm'},
	    {"vdf", required_argument, NULL, 'v'},
	    {"socket", required_argument, NULL, 's'},
	    {"read-only", no_argument, NULL, 'r'},
	    {"max-conns", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *unix_path = NULL, *tcp = NULL, *file = NULL, *vdf = NULL, *sock = NULL;
	struct vdf_nbd_export exp = {.name = "", .description = "VDF NBD export"};
	char host[256] = "127.0.0.1", *colon;
	const char *port = "10809";
	uint64_t mem_size = 0;
	unsigned max_conns = 16;
	void *ctx = NULL;
	struct sigaction sa;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "u:t:e:f:m:v:s:rc:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'u':
			unix_path = optarg;
			break;
		case 't':
			tcp = optarg;
			break;
		case 'e':
			exp.name = optarg;
			break;
		case 'f':
			file = optarg;
			break;
		case 'm':
			if (vdf_parse_size(optarg, &mem_size)) {
				fprintf(stderr, "vdf-nbd: bad size '%s'\n", optarg);
				return 2;
			}
			break;
		case 'v':
			vdf = optarg;
			break;
		case 's':
			sock = optarg;
			break;
		case 'r':
			exp.read_only = true;
			break;
		case 'c':
			max_conns = (unsigned)strtoul(optarg, NULL, 0);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || (unix_path && tcp) || !!file + !!mem_size + !!vdf != 1 ||
	    (sock && !vdf) || max_conns == 0 || strlen(exp.name) > NBD_MAX_STRING) {
		usage(stderr);
		return 2;
	}
	if (tcp) {
		colon = strrchr(tcp, ':');
		if (!colon || colon == tcp || (size_t)(colon - tcp) >= sizeof(host) || !colon[1]) {
			fprintf(stderr, "vdf-nbd: --tcp wants HOST:PORT\n");
			return 2;
		}
		memcpy(host, tcp, (size_t)(colon - tcp));
		host[colon - tcp] = '\0';
		/* [::1]:10809 */
		if (host[0] == '[' && host[strlen(host) - 1] == ']') {
			memmove(host, host + 1, strlen(host));
			host[strlen(host) - 1] = '\0';
		}
		port = colon + 1;
	}

	if (file) {
		ret = vdf_nbd_file_backend_create(file, exp.read_only, &ctx);
		exp.ops = &vdf_nbd_file_backend_ops;
	} else if (vdf) {
		ret = vdf_nbd_vdf_backend_create(vdf, sock, exp.read_only, &ctx);
		exp.ops = &vdf_nbd_vdf_backend_ops;
	} else {
		ret = vdf_nbd_mem_backend_create(mem_size, &ctx);
		exp.ops = &vdf_nbd_mem_backend_ops;
	}
	if (ret) {
		fprintf(stderr, "vdf-nbd: %s: %s\n",
			file  ? file
			: vdf ? vdf
			      : "memory",
			strerror(-ret));
		return 1;
	}
	exp.ctx = ctx;

	if (unix_path)
		ret = vdf_nbd_server_listen_unix(&exp, unix_path, max_conns, &g_srv);
	else
		ret = vdf_nbd_server_listen_tcp(&exp, host, port, max_conns, &g_srv);
	if (ret) {
		fprintf(stderr, "vdf-nbd: listen on %s: %s\n",
			unix_path ? unix_path
			: tcp	  ? tcp
				  : "127.0.0.1:10809",
			strerror(-ret));
		goto out_backend;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	vdf_log(LOG_INFO, "nbd", exp.name, "serving %llu bytes%s on %s%s%s",
		(unsigned long long)exp.ops->size(ctx), exp.read_only ? " read-only" : "",
		unix_path ? unix_path : host, unix_path ? "" : ":", unix_path ? "" : port);
	ret = vdf_nbd_server_run(g_srv);
	vdf_nbd_server_destroy(g_srv);
	g_srv = NULL;

out_backend:
	if (file)
		vdf_nbd_file_backend_destroy(ctx);
	else if (vdf)
		vdf_nbd_vdf_backend_destroy(ctx);
	else
		vdf_nbd_mem_backend_destroy(ctx);
	return ret ? 1 : 0;
}
