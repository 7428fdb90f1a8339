// SPDX-License-Identifier: MIT
/*
 * vdf-netperf: raw-frame packet rate on any Linux interface, the same way for
 * vdfnet0 (VDF driver + vdf-tap) and for an interface of the kernel's own
 * driver, so `make bench` compares the two with one tool.
 *
 *   vdf-netperf tx IFACE --dst MAC [--size BYTES] [--batch N] [--seconds S]
 *                  [--count FRAMES]
 *   vdf-netperf rx IFACE [--batch N] [--seconds S]
 *
 * Frames use the local experimental EtherType 0x88b5, so nothing else on the
 * wire is counted and no stack answers them. tx sends BYTES-byte frames
 * (without FCS, 60..1514) to MAC through an AF_PACKET socket, N per
 * sendmmsg(2), for S seconds or until FRAMES were sent; rx counts the frames of that EtherType with
 * recvmmsg(2), N at a time, for S seconds from its first frame or until 5 s
 * pass without one. Both print one JSON object on stdout:
 *   tx: {"frames":..,"dropped":..,"seconds":..,"pps":..}   dropped = ENOBUFS
 *   rx: {"frames":..,"bytes":..,"seconds":..,"pps":..}      first to last frame
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vdf/net.h"
#include "vdf/parse.h"

#define ETH_P_VDF_BENCH 0x88b5
#define BATCH_MAX	64u
#define FRAME_MIN	60u
#define FRAME_MAX	1514u
#define RX_IDLE_MS	5000

struct opts {
	bool tx;
	const char *ifname;
	uint8_t dst[VDF_NET_ETH_ALEN];
	bool have_dst;
	uint32_t size, batch;
	uint64_t count; /* tx: stop after this many frames; 0 = no limit */
	double seconds;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(void)
{
	fprintf(stderr, "usage: vdf-netperf tx IFACE --dst MAC [--size BYTES (60)] [--batch N (1)]"
			" [--seconds S (10)] [--count FRAMES]\n"
			"       vdf-netperf rx IFACE [--batch N (1)] [--seconds S (10)]\n");
	exit(2);
}

static uint32_t parse_u32(const char *what, const char *s, uint32_t lo, uint32_t hi)
{
	uint64_t v;

	if (vdf_parse_u64(s, &v) || v < lo || v > hi) {
		fprintf(stderr, "vdf-netperf: %s: want %u..%u, got '%s'\n", what, lo, hi, s);
		exit(2);
	}
	return (uint32_t)v;
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
	    {"dst", required_argument, NULL, 'd'},
	    {"size", required_argument, NULL, 's'},
	    {"batch", required_argument, NULL, 'b'},
	    {"seconds", required_argument, NULL, 't'},
	    {"count", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	*o = (struct opts){.size = FRAME_MIN, .batch = 1, .seconds = 10};
	if (argc < 3)
		usage();
	if (!strcmp(argv[1], "tx"))
		o->tx = true;
	else if (strcmp(argv[1], "rx"))
		usage();
	o->ifname = argv[2];
	optind = 3;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (vdf_net_mac_parse(optarg, o->dst)) {
				fprintf(stderr, "vdf-netperf: --dst: not a MAC address: '%s'\n",
					optarg);
				exit(2);
			}
			o->have_dst = true;
			break;
		case 's':
			o->size = parse_u32("--size", optarg, FRAME_MIN, FRAME_MAX);
			break;
		case 'b':
			o->batch = parse_u32("--batch", optarg, 1, BATCH_MAX);
			break;
		case 'c':
			o->count = parse_u32("--count", optarg, 1, UINT32_MAX);
			break;
		case 't':
			o->seconds = parse_u32("--seconds", optarg, 1, 3600);
			break;
		default:
			usage();
		}
	}
	if (optind != argc || (o->tx && !o->have_dst))
		usage();
}

/* An AF_PACKET socket bound to IFNAME for our EtherType; its MAC in `mac`. */
static int open_socket(const char *ifname, uint8_t mac[VDF_NET_ETH_ALEN], int *ifindex)
{
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_VDF_BENCH)};
	struct ifreq ifr = {0};
	int fd;

	if (strlen(ifname) >= IFNAMSIZ) {
		fprintf(stderr, "vdf-netperf: interface name too long: %s\n", ifname);
		return -1;
	}
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_VDF_BENCH));
	if (fd < 0) {
		perror("vdf-netperf: socket(AF_PACKET)");
		return -1;
	}
	strcpy(ifr.ifr_name, ifname);
	if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0) {
		fprintf(stderr, "vdf-netperf: %s: %s\n", ifname, strerror(errno));
		goto fail;
	}
	*ifindex = ifr.ifr_ifindex;
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		fprintf(stderr, "vdf-netperf: %s: no MAC address: %s\n", ifname, strerror(errno));
		goto fail;
	}
	memcpy(mac, ifr.ifr_hwaddr.sa_data, VDF_NET_ETH_ALEN);
	sll.sll_ifindex = *ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		fprintf(stderr, "vdf-netperf: bind %s: %s\n", ifname, strerror(errno));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

static int run_tx(const struct opts *o, int fd, const uint8_t src[VDF_NET_ETH_ALEN])
{
	static uint8_t frame[BATCH_MAX][FRAME_MAX];
	struct mmsghdr msg[BATCH_MAX];
	struct iovec iov[BATCH_MAX];
	uint64_t sent = 0, dropped = 0, seq = 0;
	double t0, t1, end;

	memset(msg, 0, sizeof(msg));
	for (uint32_t i = 0; i < o->batch; i++) {
		memcpy(frame[i], o->dst, VDF_NET_ETH_ALEN);
		memcpy(frame[i] + 6, src, VDF_NET_ETH_ALEN);
		frame[i][12] = ETH_P_VDF_BENCH >> 8;
		frame[i][13] = ETH_P_VDF_BENCH & 0xff;
		memset(frame[i] + 14, 0xa5, o->size - 14);
		iov[i] = (struct iovec){.iov_base = frame[i], .iov_len = o->size};
		msg[i].msg_hdr.msg_iov = &iov[i];
		msg[i].msg_hdr.msg_iovlen = 1;
	}
	t0 = now_s();
	end = t0 + o->seconds;
	for (;;) {
		uint32_t want = o->batch;
		int n;

		t1 = now_s();
		if (t1 >= end || (o->count && sent >= o->count))
			break;
		if (o->count && o->count - sent < want)
			want = (uint32_t)(o->count - sent);
		for (uint32_t i = 0; i < want; i++, seq++)
			memcpy(frame[i] + 14, &seq, sizeof(seq)); /* a sequence number per frame */
		n = sendmmsg(fd, msg, want, 0);
		if (n < 0) {
			if (errno == ENOBUFS || errno == EAGAIN) {
				/* the qdisc or the device queue was full: the frame is gone */
				dropped++;
				continue;
			}
			if (errno == EINTR)
				continue;
			perror("vdf-netperf: sendmmsg");
			return 1;
		}
		sent += (uint64_t)n;
	}
	printf("{\"frames\": %llu, \"dropped\": %llu, \"seconds\": %.3f, \"pps\": %.1f}\n",
	       (unsigned long long)sent, (unsigned long long)dropped, t1 - t0,
	       (double)sent / (t1 - t0));
	return 0;
}

static int run_rx(const struct opts *o, int fd)
{
	static uint8_t frame[BATCH_MAX][FRAME_MAX];
	struct mmsghdr msg[BATCH_MAX];
	struct iovec iov[BATCH_MAX];
	uint64_t frames = 0, bytes = 0;
	double first = 0, last = 0, end = 0;

	for (uint32_t i = 0; i < o->batch; i++)
		iov[i] = (struct iovec){.iov_base = frame[i], .iov_len = sizeof(frame[i])};
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int n;

		for (uint32_t i = 0; i < o->batch; i++)
			msg[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
		n = recvmmsg(fd, msg, o->batch, MSG_DONTWAIT, NULL);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			perror("vdf-netperf: recvmmsg");
			return 1;
		}
		if (n > 0) {
			last = now_s();
			if (!frames) {
				first = last;
				end = first + o->seconds;
			}
			for (int i = 0; i < n; i++)
				bytes +=
				    msg[i].msg_len; /* only our EtherType reaches this socket */
			frames += (uint64_t)n;
			if (last >= end)
				break;
			continue;
		}
		n = poll(&p, 1, RX_IDLE_MS);
		if (n == 0)
			break; /* silence: the sender stopped */
		if (frames && now_s() >= end)
			break;
	}
	if (frames < 2) {
		fprintf(stderr, "vdf-netperf: rx %s: %llu frames received\n", o->ifname,
			(unsigned long long)frames);
		printf("{\"frames\": %llu, \"bytes\": %llu, \"seconds\": 0, \"pps\": 0}\n",
		       (unsigned long long)frames, (unsigned long long)bytes);
		return 1;
	}
	printf("{\"frames\": %llu, \"bytes\": %llu, \"seconds\": %.3f, \"pps\": %.1f}\n",
	       (unsigned long long)frames, (unsigned long long)bytes, last - first,
	       (double)(frames - 1) / (last - first));
	return 0;
}

int main(int argc, char **argv)
{
	uint8_t mac[VDF_NET_ETH_ALEN];
	struct opts o;
	int fd, ifindex, rc;

	parse_opts(argc, argv, &o);
	fd = open_socket(o.ifname, mac, &ifindex);
	if (fd < 0)
		return 1;
	rc = o.tx ? run_tx(&o, fd, mac) : run_rx(&o, fd);
	close(fd);
	return rc;
}
