// SPDX-License-Identifier: MIT
/*
 * vdf-tap: a Linux TAP interface bridged to a VDF network driver.
 *
 *   vdf-tap --vdf DEV [--socket PATH] [--name IFNAME] [--promisc] [--mac MAC]
 *           [--rx-frames N] [--tx-frames N] [--no-up]
 *
 * Opens a session with the net driver serving DEV through vdfd ("open"),
 * creates the TAP interface IFNAME (default vdfnet0, IFF_TAP | IFF_NO_PI) with
 * the NIC's MAC address and MTU, brings it up and forwards frames both ways
 * over the packet rings of vdf/netsession.h: frames the kernel sends on the
 * interface are read straight into TX frames of the shared area (the NIC
 * reads them from there), frames the NIC wrote into RX frames are written to
 * the interface. One thread, one epoll: the TAP fd, the client doorbell and
 * the session socket.
 *
 * When the session ends (the driver crashed or was restarted) the interface
 * stays up; vdf-tap opens a new session through vdfd, which waits for the
 * restarted driver, sends its settings (promiscuous mode, MAC) again in the
 * HELLO and carries on. Frames in flight at that moment are lost, as on a
 * wire; TCP retransmits them. Runs until SIGINT/SIGTERM; prints counters on
 * stderr at every reconnect and at the end.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <net/if_arp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vdf/ctl.h"
#include "vdf/net.h"
#include "vdf/netsession.h"
#include "vdf/parse.h"
#include "vdf/ring.h"

#define WELCOME_TIMEOUT_MS 10000
#define BATCH		   64u

struct opts {
	const char *dev;
	const char *sock_path;
	const char *ifname;
	bool promisc, up;
	bool set_mac;
	uint8_t mac[VDF_NET_ETH_ALEN];
	uint32_t rx_frames, tx_frames;
};

struct session {
	int sock, memfd, drv_kick, cli_kick;
	struct vdf_nets_hello h;
	struct vdf_nets_welcome w;
	uint8_t *region;
	struct vdf_ring ring[VDF_NETS_NRINGS];
	uint32_t *tx_free; /* TX frame slots the client owns */
	uint32_t ntx_free;
};

struct counters {
	uint64_t rx_frames, rx_bytes, tx_frames, tx_bytes;
	uint64_t tap_drops;  /* tap write failed */
	uint64_t bad_descs;  /* descriptors from the driver that did not check */
	uint64_t reconnects; /* sessions after the first */
};

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: vdf-tap --vdf DEV [--socket PATH] [--name IFNAME (vdfnet0)] [--promisc]\n"
	    "               [--mac MAC] [--rx-frames N (512)] [--tx-frames N (256)] [--no-up]\n");
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
	    {"vdf", required_argument, NULL, 'd'},
	    {"socket", required_argument, NULL, 's'},
	    {"name", required_argument, NULL, 'n'},
	    {"promisc", no_argument, NULL, 'p'},
	    {"mac", required_argument, NULL, 'm'},
	    {"rx-frames", required_argument, NULL, 'r'},
	    {"tx-frames", required_argument, NULL, 't'},
	    {"no-up", no_argument, NULL, 'U'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	uint64_t v;
	int c;

	*o = (struct opts){.ifname = "vdfnet0", .up = true, .rx_frames = 512, .tx_frames = 256};
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			o->dev = optarg;
			break;
		case 's':
			o->sock_path = optarg;
			break;
		case 'n':
			if (strlen(optarg) >= IFNAMSIZ)
				return -EINVAL;
			o->ifname = optarg;
			break;
		case 'p':
			o->promisc = true;
			break;
		case 'm':
			if (vdf_net_mac_parse(optarg, o->mac) || !vdf_net_mac_valid(o->mac))
				return -EINVAL;
			o->set_mac = true;
			break;
		case 'r':
		case 't':
			if (vdf_parse_u64(optarg, &v) || v < VDF_NETS_FRAMES_MIN ||
			    v > VDF_NETS_FRAMES_MAX || v % 2)
				return -EINVAL;
			*(c == 'r' ? &o->rx_frames : &o->tx_frames) = (uint32_t)v;
			break;
		case 'U':
			o->up = false;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -EINVAL;
		}
	}
	return o->dev && optind == argc ? 0 : -EINVAL;
}

/* ---- the TAP interface -------------------------------------------------- */

static int tap_open(const char *name)
{
	struct ifreq ifr = {0};
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	return fd;
}

/* MAC, MTU and (optionally) IFF_UP on the interface. */
static int tap_configure(const char *name, const uint8_t mac[6], uint32_t mtu, bool up)
{
	struct ifreq ifr = {0};
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = 0;

	if (s < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	memcpy(ifr.ifr_hwaddr.sa_data, mac, VDF_NET_ETH_ALEN);
	if (ioctl(s, SIOCSIFHWADDR, &ifr) < 0)
		rc = -errno;
	ifr.ifr_mtu = (int)mtu;
	if (!rc && ioctl(s, SIOCSIFMTU, &ifr) < 0)
		rc = -errno;
	if (!rc && up) {
		if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
			rc = -errno;
		ifr.ifr_flags |= IFF_UP;
		if (!rc && ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
			rc = -errno;
	}
	close(s);
	return rc;
}

/* ---- the session -------------------------------------------------------- */

static void session_close(struct session *s)
{
	if (s->region)
		munmap(s->region, s->h.region_size);
	s->region = NULL;
	for (int *fd = &s->sock; fd <= &s->cli_kick; fd++) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
	}
	free(s->tx_free);
	s->tx_free = NULL;
}

static uint8_t *frame(struct session *s, uint32_t slot)
{
	return s->region + vdf_nets_frame_off(&s->h, slot);
}

static void kick_driver(struct session *s)
{
	uint64_t one = 1;

	if (write(s->drv_kick, &one, sizeof(one)) < 0)
		perror("vdf-tap: doorbell");
}

/* Open a session through vdfd: region, rings, HELLO, WELCOME, all RX frames to fill. */
static int session_open(const struct opts *o, struct session *s)
{
	int fds[VDF_NETS_NFDS];
	uint32_t gen, first, cap;
	char err[256];
	int rc;

	*s = (struct session){.sock = -1, .memfd = -1, .drv_kick = -1, .cli_kick = -1};
	rc = vdf_ctl_open(o->sock_path, o->dev, false, 0, &s->sock, &gen, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "vdf-tap: open %s: %s\n", o->dev, err);
		return rc;
	}
	/* Rings with room for every frame: a returned frame always finds a slot. */
	cap = 64;
	while (cap < o->rx_frames || cap < o->tx_frames)
		cap *= 2;
	rc = vdf_nets_layout(cap, o->rx_frames, o->tx_frames, &s->h);
	if (rc)
		goto out;
	s->h.flags = (o->promisc ? VDF_NETS_HELLO_F_PROMISC : 0) |
		     (o->set_mac ? VDF_NETS_HELLO_F_SET_MAC : 0);
	if (o->set_mac)
		memcpy(s->h.mac, o->mac, sizeof(s->h.mac));
	s->memfd = memfd_create("vdf-tap", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (s->memfd < 0 || ftruncate(s->memfd, (off_t)s->h.region_size) ||
	    fcntl(s->memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)) {
		rc = -errno;
		goto out;
	}
	s->region = mmap(NULL, s->h.region_size, PROT_READ | PROT_WRITE, MAP_SHARED, s->memfd, 0);
	if (s->region == MAP_FAILED) {
		s->region = NULL;
		rc = -errno;
		goto out;
	}
	for (unsigned i = 0; i < VDF_NETS_NRINGS; i++) {
		uint32_t ss = vdf_nets_ring_slot_size(i);

		rc = vdf_ring_init(s->region + s->h.ring_off[i],
				   vdf_ring_layout_size(s->h.ring_cap[i], ss), s->h.ring_cap[i], ss,
				   &s->ring[i]);
		if (rc)
			goto out;
	}
	/* Every RX frame goes to the driver for receiving; TX frames are ours. */
	rc = vdf_ring_reserve(&s->ring[VDF_NETS_FILL], o->rx_frames, &first);
	if (rc != (int)o->rx_frames) {
		rc = -EINVAL;
		goto out;
	}
	for (uint32_t i = 0; i < o->rx_frames; i++) {
		struct vdf_nets_slot_wire d = {.slot = htole32(i)};

		memcpy(vdf_ring_slot(&s->ring[VDF_NETS_FILL], first + i), &d, sizeof(d));
	}
	(void)vdf_ring_commit(&s->ring[VDF_NETS_FILL], o->rx_frames);
	s->tx_free = calloc(o->tx_frames, sizeof(*s->tx_free));
	if (!s->tx_free) {
		rc = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < o->tx_frames; i++)
		s->tx_free[s->ntx_free++] = o->rx_frames + i;
	s->drv_kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	s->cli_kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->drv_kick < 0 || s->cli_kick < 0) {
		rc = -errno;
		goto out;
	}
	fds[VDF_NETS_FD_MEM] = s->memfd;
	fds[VDF_NETS_FD_DRV_KICK] = s->drv_kick;
	fds[VDF_NETS_FD_CLI_KICK] = s->cli_kick;
	rc = vdf_nets_send_hello(s->sock, &s->h, fds);
	if (!rc)
		rc = vdf_nets_recv_welcome(s->sock, &s->w, WELCOME_TIMEOUT_MS);
	if (!rc && s->w.status)
		rc = s->w.status;
	if (rc) {
		fprintf(stderr, "vdf-tap: session with %s: %s\n", o->dev, strerror(-rc));
		goto out;
	}
	close(s->memfd); /* the mapping keeps it */
	s->memfd = -1;
	return 0;

out:
	session_close(s);
	return rc;
}

/* ---- forwarding --------------------------------------------------------- */

/* Completions: TX frames back to us. */
static int take_completions(struct session *s, struct counters *c)
{
	struct vdf_ring *r = &s->ring[VDF_NETS_COMP];
	struct vdf_nets_slot_wire d;
	int n = 0, rc;

	while ((rc = vdf_ring_consume(r, &d)) == 0) {
		uint32_t slot;

		if (vdf_nets_check_comp(&s->h, &d, &slot) || s->ntx_free >= s->h.tx_frames) {
			c->bad_descs++;
			continue;
		}
		s->tx_free[s->ntx_free++] = slot;
		n++;
	}
	return rc == -EAGAIN ? n : rc;
}

/* Received frames to the TAP interface; each frame back to the fill ring
 * (which has room for every RX frame, so a returned frame always fits). */
static int take_rx(struct session *s, int tap, struct counters *c, bool *kick)
{
	struct vdf_ring *rx = &s->ring[VDF_NETS_RX], *fill = &s->ring[VDF_NETS_FILL];
	uint32_t first, slots[BATCH];
	int n, total = 0;

	while ((n = vdf_ring_peek(rx, BATCH, &first)) > 0) {
		uint32_t k = 0, ffirst;
		int room;

		for (int i = 0; i < n; i++) {
			struct vdf_nets_frame_wire d;
			uint32_t slot, len, flags;

			memcpy(&d, vdf_ring_slot(rx, first + (uint32_t)i), sizeof(d));
			if (vdf_nets_check_rx(&s->h, &d, &slot, &len, &flags)) {
				c->bad_descs++;
				continue;
			}
			if (write(tap, frame(s, slot), len) == (ssize_t)len) {
				c->rx_frames++;
				c->rx_bytes += len;
			} else {
				c->tap_drops++;
			}
			slots[k++] = slot;
		}
		vdf_ring_release(rx, (uint32_t)n);
		room = vdf_ring_reserve(fill, k, &ffirst);
		if (room < 0)
			return room;
		for (int i = 0; i < room; i++) {
			struct vdf_nets_slot_wire f = {.slot = htole32(slots[i])};

			memcpy(vdf_ring_slot(fill, ffirst + (uint32_t)i), &f, sizeof(f));
		}
		if (vdf_ring_commit(fill, (uint32_t)room))
			*kick = true;
		c->bad_descs += k - (uint32_t)room; /* a driver that sent a frame twice */
		total += n;
	}
	return n < 0 ? n : total;
}

/* Frames the kernel sends on the interface, into TX frames. */
static int take_tap(struct session *s, int tap, struct counters *c, bool *kick)
{
	struct vdf_ring *tx = &s->ring[VDF_NETS_TX];
	uint32_t produced = 0;
	int total = 0;

	while (s->ntx_free) {
		uint32_t slot = s->tx_free[s->ntx_free - 1], idx;
		struct vdf_nets_frame_wire d;
		ssize_t len;
		int got;

		len = read(tap, frame(s, slot), VDF_NETS_FRAME_SIZE);
		if (len < 0)
			break; /* EAGAIN: nothing more */
		if (len < (ssize_t)VDF_NET_ETH_HLEN || len > (ssize_t)s->w.max_frame)
			continue; /* runt or oversized: dropped */
		got = vdf_ring_reserve(tx, 1, &idx);
		if (got <= 0)
			return got < 0 ? got : total; /* cannot happen: ring >= frames */
		d = (struct vdf_nets_frame_wire){.slot = htole32(slot),
						 .len = htole16((uint16_t)len)};
		memcpy(vdf_ring_slot(tx, idx), &d, sizeof(d));
		s->ntx_free--;
		c->tx_frames++;
		c->tx_bytes += (uint64_t)len;
		if (++produced == BATCH) {
			if (vdf_ring_commit(tx, produced))
				*kick = true;
			produced = 0;
		}
		total++;
	}
	if (vdf_ring_commit(tx, produced))
		*kick = true;
	return total;
}

static void print_counters(const struct counters *c)
{
	fprintf(stderr,
		"vdf-tap: rx %" PRIu64 " frames %" PRIu64 " bytes, tx %" PRIu64 " frames %" PRIu64
		" bytes, tap drops %" PRIu64 ", bad descriptors %" PRIu64 ", reconnects %" PRIu64
		"\n",
		c->rx_frames, c->rx_bytes, c->tx_frames, c->tx_bytes, c->tap_drops, c->bad_descs,
		c->reconnects);
}

/*
 * Forward until the session ends (returns 0) or a signal (returns 1), or a
 * fatal error (negative).
 */
static int forward(struct session *s, int tap, struct counters *c)
{
	struct epoll_event ev[4];
	bool tap_watched = true;
	int ep, rc = 0;

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return -errno;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, tap,
		      &(struct epoll_event){.events = EPOLLIN, .data.u32 = 0}) ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, s->cli_kick,
		      &(struct epoll_event){.events = EPOLLIN, .data.u32 = 1}) ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, s->sock,
		      &(struct epoll_event){.events = EPOLLIN | EPOLLRDHUP, .data.u32 = 2})) {
		rc = -errno;
		goto out;
	}
	kick_driver(s); /* the fill ring is full of frames */
	while (!g_stop) {
		bool kick = false, busy;
		int a, b, t, n, w1, w2;
		uint64_t v;

		a = take_completions(s, c);
		b = take_rx(s, tap, c, &kick);
		t = take_tap(s, tap, c, &kick);
		if (kick)
			kick_driver(s);
		if (a < 0 || b < 0 || t < 0) {
			fprintf(stderr, "vdf-tap: corrupt ring: ending the session\n");
			break;
		}
		/* No TX frame free: stop reading the TAP until completions come. */
		if (tap_watched != (s->ntx_free > 0)) {
			tap_watched = s->ntx_free > 0;
			(void)epoll_ctl(ep, EPOLL_CTL_MOD, tap,
					&(struct epoll_event){.events = tap_watched ? EPOLLIN : 0,
							      .data.u32 = 0});
		}
		busy = a > 0 || b > 0 || t > 0;
		if (busy)
			continue;
		w1 = vdf_ring_prepare_wait(&s->ring[VDF_NETS_RX]);
		w2 = vdf_ring_prepare_wait(&s->ring[VDF_NETS_COMP]);
		if (w1 != 0 || w2 != 0) {
			vdf_ring_finish_wait(&s->ring[VDF_NETS_RX]);
			vdf_ring_finish_wait(&s->ring[VDF_NETS_COMP]);
			if (w1 < 0 || w2 < 0)
				break;
			continue;
		}
		/* Completions arrive at least every few ms: wait no longer while
		 * TX frames are out, so a full TX side recovers without a kick. */
		n = epoll_wait(ep, ev, 4, s->ntx_free < s->h.tx_frames ? 10 : 1000);
		vdf_ring_finish_wait(&s->ring[VDF_NETS_RX]);
		vdf_ring_finish_wait(&s->ring[VDF_NETS_COMP]);
		if (n < 0 && errno != EINTR) {
			rc = -errno;
			break;
		}
		for (int i = 0; i < n; i++) {
			if (ev[i].data.u32 == 1 && read(s->cli_kick, &v, sizeof(v)) < 0 &&
			    errno != EAGAIN)
				perror("vdf-tap: doorbell");
			if (ev[i].data.u32 == 2) /* EOF: the driver is gone */
				goto out;
		}
	}
	if (g_stop)
		rc = 1;
out:
	close(ep);
	return rc;
}

int main(int argc, char **argv)
{
	struct counters c = {0};
	struct session s;
	struct opts o;
	int tap, rc;
	unsigned backoff_ms = 100;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (parse_args(argc, argv, &o)) {
		usage(stderr);
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	tap = tap_open(o.ifname);
	if (tap < 0) {
		fprintf(stderr, "vdf-tap: /dev/net/tun %s: %s\n", o.ifname, strerror(-tap));
		return 1;
	}
	rc = session_open(&o, &s);
	if (rc) {
		close(tap);
		return 1;
	}
	rc = tap_configure(o.ifname, s.w.mac, s.w.mtu, o.up);
	if (rc) {
		fprintf(stderr, "vdf-tap: configuring %s: %s\n", o.ifname, strerror(-rc));
		session_close(&s);
		close(tap);
		return 1;
	}
	{
		char mac[18];

		vdf_net_mac_format(s.w.mac, mac);
		/* Scripts wait for this line. */
		printf("%s mac %s mtu %u link %s generation %u\n", o.ifname, mac, s.w.mtu,
		       (s.w.flags & VDF_NETS_F_LINK_UP) ? "up" : "down", s.w.generation);
	}
	for (;;) {
		rc = forward(&s, tap, &c);
		session_close(&s);
		if (rc)
			break;
		/* The session ended: the driver is restarting. The interface stays. */
		fprintf(stderr, "vdf-tap: session ended; reconnecting through vdfd\n");
		print_counters(&c);
		while (!g_stop && session_open(&o, &s)) {
			struct timespec ts = {.tv_sec = backoff_ms / 1000,
					      .tv_nsec = (long)(backoff_ms % 1000) * 1000000};

			nanosleep(&ts, NULL);
			backoff_ms = backoff_ms * 2 > 5000 ? 5000 : backoff_ms * 2;
		}
		if (g_stop)
			break;
		backoff_ms = 100;
		c.reconnects++;
		fprintf(stderr, "vdf-tap: reconnected, generation %u\n", s.w.generation);
	}
	print_counters(&c);
	close(tap);
	return rc < 0 ? 1 : 0;
}
