// SPDX-License-Identifier: MIT
/*
 * Net ring server: one packet client per network device over the rings of
 * vdf/netsession.h. See vdf/netserver.h for what it does and guarantees.
 *
 * Frame ownership. own[slot] says who holds a frame now:
 *   OWN_CLIENT  the client (it may write it, hand it back in fill or tx)
 *   OWN_DRIVER  the server or the device: an RX frame in the client RX pool
 *               (free there = postable to the device), on the device's RX
 *               ring, or held for copying; a TX frame queued on the device or
 *               back in the TX pool waiting to be published as a completion
 * At setup every frame of both pools is taken out of its pool (the pools
 * start empty): a frame is only ever in a pool's free list while it is the
 * driver's, so the device can post or the server can collect nothing else.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vdf/blksession.h" /* vdf_blks_check_memfd */
#include "vdf/fdmsg.h"
#include "vdf/log.h"
#include "vdf/netserver.h"
#include "vdf/netsession.h"
#include "vdf/ring.h"
#include "session_watch.h"

#define NETSRV_COMPONENT "net-server"
#define NETSRV_TICK_MS	 2u
/* Passes over the rings per wakeup before yielding to the loop. */
#define NETSRV_PASSES 16u
#define NSEC_PER_MSEC 1000000ull

enum { OWN_CLIENT = 0, OWN_DRIVER = 1 };

struct net_session {
	struct vdf_net_server *srv;
	char name[64];
	uint64_t client_id;
	int sock, drv_kick, cli_kick;
	bool sock_watched, kick_watched, active;
	struct vdf_timer *hello_timer, *tick;
	struct vdf_nets_hello h;
	void *region;
	size_t region_size;
	struct vdf_ring ring[VDF_NETS_NRINGS];
	struct vdf_net_pool *rxp, *txp;
	bool zero_copy;
	bool rx_attached; /* the device's RX ring takes from rxp */
	uint8_t *own;	  /* per frame slot */
	uint32_t *fillq;  /* copy mode: fill frames held by the server */
	uint32_t nfill;
	uint32_t tx_out; /* TX frames the driver holds (device or pool) */
	uint32_t max_frame;
	bool in_service, again;
};

struct vdf_net_server {
	struct vdf_net_dev *ndev;
	struct vdf_dev *dev;
	struct vdf_event_loop *loop;
	struct vdf_net_server_opts opts;
	struct net_session *s;
	struct vdf_net_server_stats st;
};

static void session_close(struct net_session *s, int level, const char *why);

/* ---- helpers ------------------------------------------------------------ */

static uint8_t *frame_va(struct net_session *s, uint32_t slot)
{
	return (uint8_t *)s->region + vdf_nets_frame_off(&s->h, slot);
}

static void kick_client(struct net_session *s)
{
	uint64_t one = 1;

	if (write(s->cli_kick, &one, sizeof(one)) == (ssize_t)sizeof(one))
		s->srv->st.kicks++;
}

static void commit(struct net_session *s, enum vdf_nets_ring_id id, uint32_t n, bool *kick)
{
	if (n && vdf_ring_commit(&s->ring[id], n))
		*kick = true;
}

/* ---- the data path ------------------------------------------------------ */

/* Fill descriptors: RX frames the client gives back for receiving. */
static int take_fill(struct net_session *s)
{
	struct vdf_net_server_stats *st = &s->srv->st;
	struct vdf_ring *r = &s->ring[VDF_NETS_FILL];
	uint32_t first;
	int n = vdf_ring_peek(r, VDF_NET_BATCH_MAX, &first);

	if (n <= 0)
		return n;
	for (int i = 0; i < n; i++) {
		struct vdf_nets_slot_wire d;
		uint32_t slot;

		memcpy(&d, vdf_ring_slot(r, first + (uint32_t)i), sizeof(d));
		if (vdf_nets_check_fill(&s->h, &d, &slot)) {
			st->invalid++;
			continue;
		}
		if (s->own[slot] != OWN_CLIENT) {
			st->not_owned++;
			continue;
		}
		s->own[slot] = OWN_DRIVER;
		st->fills++;
		if (s->zero_copy)
			(void)vdf_net_buf_put(vdf_net_pool_buf(s->rxp, slot));
		else
			s->fillq[s->nfill++] = slot;
	}
	vdf_ring_release(r, (uint32_t)n);
	return n;
}

/* Received frames to the rx ring (zero-copy, or copied into fill frames). */
static int deliver_rx(struct net_session *s, bool *kick)
{
	struct vdf_net_server_stats *st = &s->srv->st;
	struct vdf_ring *r = &s->ring[VDF_NETS_RX];
	struct vdf_net_buf *bufs[VDF_NET_BATCH_MAX];
	uint32_t produced = 0, total = 0;
	int n;

	while ((n = vdf_net_rx_batch(s->srv->ndev, bufs, VDF_NET_BATCH_MAX)) > 0) {
		for (int i = 0; i < n; i++) {
			struct vdf_net_buf *b = bufs[i];
			bool ours = s->zero_copy && b->pool == s->rxp;
			struct vdf_nets_frame_wire d;
			uint32_t idx, slot;
			int got;

			bufs[i] = NULL;
			if (!ours && !s->nfill) {
				st->rx_no_fill++;
				(void)vdf_net_buf_put(b);
				continue;
			}
			if (b->len < VDF_NET_ETH_HLEN || b->len > VDF_NETS_FRAME_SIZE) {
				st->invalid++; /* the driver checks this already */
				(void)vdf_net_buf_put(b);
				continue;
			}
			got = vdf_ring_reserve(r, 1, &idx);
			if (got <= 0) {
				(void)vdf_net_buf_put(b);
				if (got < 0) {
					for (int j = i + 1; j < n; j++)
						(void)vdf_net_buf_put(bufs[j]);
					return got;
				}
				st->rx_ring_full++;
				continue;
			}
			if (ours) {
				slot = b->index;
			} else {
				slot = s->fillq[--s->nfill];
				memcpy(frame_va(s, slot), b->data, b->len);
				st->rx_copied++;
			}
			d = (struct vdf_nets_frame_wire){
			    .slot = htole32(slot),
			    .len = htole16((uint16_t)b->len),
			    .flags = htole16((uint16_t)(b->flags & VDF_NETS_RX_FLAGS_KNOWN)),
			};
			memcpy(vdf_ring_slot(r, idx), &d, sizeof(d));
			s->own[slot] = OWN_CLIENT;
			st->rx_frames++;
			st->rx_bytes += b->len;
			produced++;
			if (!ours)
				(void)vdf_net_buf_put(b);
			/* ours: the frame is the client's now, it stays out of the pool */
		}
		total += (uint32_t)n;
		if (produced >= 64) {
			commit(s, VDF_NETS_RX, produced, kick);
			produced = 0;
		}
	}
	commit(s, VDF_NETS_RX, produced, kick);
	return n < 0 ? n : (int)total;
}

/* Sent (or refused) TX frames back in the TX pool: publish them. */
static int collect_completions(struct net_session *s, bool *kick)
{
	struct vdf_ring *r = &s->ring[VDF_NETS_COMP];
	uint32_t produced = 0;
	int room = vdf_ring_free(r);

	if (room < 0)
		return room;
	while (room-- > 0 && s->tx_out) {
		struct vdf_net_buf *b = vdf_net_buf_get(s->txp);
		struct vdf_nets_slot_wire d;
		uint32_t idx, slot;

		if (!b)
			break;
		slot = s->h.rx_frames + b->index;
		if (vdf_ring_reserve(r, 1, &idx) != 1) { /* cannot happen: room counted */
			(void)vdf_net_buf_put(b);
			break;
		}
		d = (struct vdf_nets_slot_wire){.slot = htole32(slot)};
		memcpy(vdf_ring_slot(r, idx), &d, sizeof(d));
		s->own[slot] = OWN_CLIENT;
		s->tx_out--;
		produced++;
	}
	s->srv->st.completions += produced;
	commit(s, VDF_NETS_COMP, produced, kick);
	return (int)produced;
}

/* TX descriptors to the device, in order; stops at a full device ring. */
static int take_tx(struct net_session *s)
{
	struct vdf_net_server_stats *st = &s->srv->st;
	struct vdf_ring *r = &s->ring[VDF_NETS_TX];
	struct vdf_net_buf *bufs[VDF_NET_BATCH_MAX];
	uint32_t first, done = 0;
	int n = vdf_ring_peek(r, VDF_NET_BATCH_MAX, &first);

	if (n <= 0)
		return n;
	while (done < (uint32_t)n) {
		unsigned run = 0;
		int q;

		/* A run of valid descriptors; invalid ones are handled in place. */
		while (done + run < (uint32_t)n) {
			struct vdf_nets_frame_wire d;
			struct vdf_net_buf *b;
			uint32_t slot, len;

			memcpy(&d, vdf_ring_slot(r, first + done + run), sizeof(d));
			if (vdf_nets_check_tx(&s->h, &d, s->max_frame, &slot, &len)) {
				if (!run) {
					st->invalid++;
					done++;
					continue;
				}
				break;
			}
			if (s->own[slot] != OWN_CLIENT) {
				if (!run) {
					st->not_owned++;
					done++;
					continue;
				}
				break;
			}
			s->own[slot] = OWN_DRIVER; /* before the next descriptor names it again */
			b = vdf_net_pool_buf(s->txp, slot - s->h.rx_frames);
			b->len = len;
			b->flags = 0;
			b->csum_start = b->csum_offset = 0;
			bufs[run++] = b;
		}
		if (!run)
			continue;
		q = vdf_net_tx_batch(s->srv->ndev, bufs, run);
		/* Frames not taken are the client's again (read again below or next time). */
		for (unsigned i = q < 0 ? 1 : (unsigned)q; i < run; i++)
			s->own[s->h.rx_frames + bufs[i]->index] = OWN_CLIENT;
		if (q < 0) { /* the first frame is refused: it goes back to the client */
			VDF_LOG_RL(LOG_WARNING, NETSRV_COMPONENT, s->name,
				   "TX frame of %u bytes refused: %s", bufs[0]->len, strerror(-q));
			s->tx_out++;
			st->tx_refused++;
			(void)vdf_net_buf_put(bufs[0]); /* published by collect_completions */
			done++;
			continue;
		}
		for (int i = 0; i < q; i++) {
			s->tx_out++;
			st->tx_frames++;
			st->tx_bytes += bufs[i]->len;
		}
		done += (uint32_t)q;
		if ((unsigned)q < run)
			break; /* the device ring is full: the rest waits for the tick */
	}
	vdf_ring_release(r, done);
	vdf_ring_unpeek(r); /* what was peeked and not taken is read again next time */
	return (int)done;
}

/* Everything the rings and the device have for each other, then sleep safely. */
static void service(struct net_session *s)
{
	bool kick = false;

	if (!s->active)
		return;
	if (s->in_service) {
		s->again = true;
		return;
	}
	s->in_service = true;
	for (unsigned pass = 0; pass < NETSRV_PASSES; pass++) {
		int f, t, rx, c, w1, w2;

		s->again = false;
		f = take_fill(s);
		if (f > 0 && s->zero_copy)
			(void)vdf_net_poll(s->srv->ndev); /* post the new fill frames */
		t = take_tx(s);
		rx = deliver_rx(s, &kick);
		c = collect_completions(s, &kick);
		if (f < 0 || t < 0 || c < 0 || (rx < 0 && rx != -ENODEV)) {
			s->in_service = false;
			if (kick)
				kick_client(s);
			s->srv->st.ring_errors++;
			session_close(s, LOG_WARNING, "corrupt ring");
			return;
		}
		if (f > 0 || t > 0 || rx > 0 || c > 0 || s->again)
			continue;
		w1 = vdf_ring_prepare_wait(&s->ring[VDF_NETS_FILL]);
		w2 = vdf_ring_prepare_wait(&s->ring[VDF_NETS_TX]);
		if (w1 == 0 && w2 == 0)
			break;
		if (w1 > 0)
			vdf_ring_finish_wait(&s->ring[VDF_NETS_FILL]);
		if (w2 > 0)
			vdf_ring_finish_wait(&s->ring[VDF_NETS_TX]);
	}
	s->in_service = false;
	if (kick)
		kick_client(s);
}

static void on_doorbell(int fd, uint32_t events, void *arg)
{
	struct net_session *s = arg;
	uint64_t v;

	(void)events;
	if (read(fd, &v, sizeof(v)) == (ssize_t)sizeof(v))
		s->srv->st.doorbells++;
	vdf_ring_finish_wait(&s->ring[VDF_NETS_FILL]);
	vdf_ring_finish_wait(&s->ring[VDF_NETS_TX]);
	service(s);
}

static void on_tick(struct vdf_timer *t, void *arg)
{
	struct net_session *s = arg;

	(void)t;
	if (s->tx_out)
		(void)vdf_net_poll(s->srv->ndev); /* reap TX completions */
	service(s);
}

/* The device says frames may be waiting. */
static void on_rx(struct vdf_net_dev *ndev, void *arg)
{
	struct vdf_net_server *srv = arg;
	struct vdf_net_buf *bufs[VDF_NET_BATCH_MAX];
	int n;

	if (srv->s && srv->s->active) {
		service(srv->s);
		return;
	}
	while ((n = vdf_net_rx_batch(ndev, bufs, VDF_NET_BATCH_MAX)) > 0)
		vdf_net_recycle(ndev, bufs, (unsigned)n); /* no client: dropped */
}

/* ---- teardown ----------------------------------------------------------- */

/* Wait (polling the device) until every queued TX frame is back. */
static bool drain_tx(struct net_session *s)
{
	uint64_t deadline = vdf_now_ns() + (uint64_t)s->srv->opts.drain_timeout_ms * NSEC_PER_MSEC;

	while (s->tx_out) {
		struct vdf_net_buf *b;

		while (s->tx_out && (b = vdf_net_buf_get(s->txp))) {
			s->own[s->h.rx_frames + b->index] = OWN_CLIENT;
			s->tx_out--;
		}
		if (!s->tx_out || vdf_now_ns() >= deadline)
			break;
		if (vdf_net_poll(s->srv->ndev) == -ENODEV)
			break;
		usleep(1000);
	}
	return !s->tx_out;
}

static void session_free(struct net_session *s)
{
	struct vdf_net_server *srv = s->srv;
	bool unmap = true;

	if (s->hello_timer)
		vdf_timer_stop(s->hello_timer);
	if (s->tick)
		vdf_timer_stop(s->tick);
	if (s->sock_watched)
		(void)vdf_event_del_fd(srv->loop, s->sock);
	if (s->kick_watched)
		(void)vdf_event_del_fd(srv->loop, s->drv_kick);
	if (s->rx_attached) {
		/* Client frames on the device's RX ring go back to rxp. */
		if (srv->opts.attach_rx_pool(srv->opts.arg, NULL))
			vdf_log(LOG_ERR, NETSRV_COMPONENT, s->name,
				"the device's RX ring could not leave the client's frames");
		s->rx_attached = false;
	}
	if (s->txp && !drain_tx(s)) {
		vdf_log(LOG_ERR, NETSRV_COMPONENT, s->name,
			"%" PRIu32 " TX frames still on the device after %" PRIu32
			" ms: leaving the frame area mapped",
			s->tx_out, srv->opts.drain_timeout_ms);
		unmap = false;
	}
	if (unmap) {
		/* Back into their pools, so they are destroyed whole. */
		for (uint32_t i = 0; s->own && i < s->h.rx_frames; i++)
			if (s->rxp && (s->own[i] == OWN_CLIENT || !s->zero_copy))
				(void)vdf_net_buf_put(vdf_net_pool_buf(s->rxp, i));
		for (uint32_t i = 0; s->own && s->txp && i < s->h.tx_frames; i++)
			if (s->own[s->h.rx_frames + i] == OWN_CLIENT)
				(void)vdf_net_buf_put(vdf_net_pool_buf(s->txp, i));
		vdf_net_pool_destroy(s->rxp);
		vdf_net_pool_destroy(s->txp);
		if (s->region)
			munmap(s->region, s->region_size);
	}
	if (s->drv_kick >= 0)
		close(s->drv_kick);
	if (s->cli_kick >= 0)
		close(s->cli_kick);
	if (s->sock >= 0)
		close(s->sock); /* last: the client's EOF means no more DMA */
	free(s->fillq);
	free(s->own);
	if (srv->s == s)
		srv->s = NULL;
	free(s);
}

static void session_close(struct net_session *s, int level, const char *why)
{
	struct vdf_net_server *srv = s->srv;

	vdf_log(level, NETSRV_COMPONENT, s->name, "session ends: %s", why);
	if (s->active)
		srv->st.sessions_closed++;
	s->active = false;
	session_free(s);
}

/* ---- setup -------------------------------------------------------------- */

static void refuse_session(struct net_session *s, int status, const char *fmt, ...)
    VDF_PRINTF(3, 4);

static void refuse_session(struct net_session *s, int status, const char *fmt, ...)
{
	struct vdf_nets_welcome w = {.status = status};
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (status < 0 && status >= -4095 && vdf_nets_send_welcome(s->sock, &w))
		vdf_log(LOG_DEBUG, NETSRV_COMPONENT, s->name, "refusing WELCOME not sent");
	s->srv->st.sessions_refused++;
	session_close(s, LOG_WARNING, why);
}

/* Map and check what the HELLO describes; takes the fds. Returns 0 or the
 * status for the refusing WELCOME. */
static int session_setup(struct net_session *s, int fds[VDF_NETS_NFDS])
{
	struct vdf_net_server *srv = s->srv;
	const struct vdf_nets_hello *h = &s->h;
	uint32_t nframes = h->rx_frames + h->tx_frames;
	struct vdf_net_info info;
	int memfd = fds[VDF_NETS_FD_MEM];
	void *va;
	int rc;

	s->drv_kick = fds[VDF_NETS_FD_DRV_KICK];
	s->cli_kick = fds[VDF_NETS_FD_CLI_KICK];
	if (h->ring_cap[VDF_NETS_COMP] < h->tx_frames) {
		rc = -EINVAL; /* every TX frame must find a completion slot */
		goto out_close_memfd;
	}
	rc = vdf_blks_check_memfd(memfd, h->region_size);
	if (rc) {
		vdf_log(LOG_WARNING, NETSRV_COMPONENT, s->name,
			"memfd refused (needs F_SEAL_SHRINK|F_SEAL_GROW, %" PRIu64 " bytes): %s",
			h->region_size, strerror(-rc));
		goto out_close_memfd;
	}
	va = mmap(NULL, h->region_size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (va == MAP_FAILED) {
		rc = -errno;
		goto out_close_memfd;
	}
	close(memfd);
	s->region = va;
	s->region_size = h->region_size;
	for (unsigned i = 0; i < VDF_NETS_NRINGS; i++) {
		uint32_t ss = vdf_nets_ring_slot_size(i);

		rc = vdf_ring_attach((uint8_t *)va + h->ring_off[i],
				     vdf_ring_layout_size(h->ring_cap[i], ss), &s->ring[i]);
		if (!rc && (vdf_ring_capacity(&s->ring[i]) != h->ring_cap[i] ||
			    vdf_ring_slot_size(&s->ring[i]) != ss))
			rc = -EINVAL;
		if (rc)
			return -EINVAL;
	}
	s->own = calloc(nframes, 1); /* all OWN_CLIENT */
	s->fillq = calloc(h->rx_frames, sizeof(*s->fillq));
	if (!s->own || !s->fillq)
		return -ENOMEM;
	rc = vdf_set_nonblock(s->drv_kick);
	if (!rc)
		rc = vdf_set_nonblock(s->cli_kick);
	if (rc)
		return rc;
	rc = vdf_net_pool_create_on(srv->dev, frame_va(s, 0),
				    (size_t)h->rx_frames * VDF_NETS_FRAME_SIZE, VDF_NETS_FRAME_SIZE,
				    &s->rxp);
	if (!rc)
		rc = vdf_net_pool_create_on(srv->dev, frame_va(s, h->rx_frames),
					    (size_t)h->tx_frames * VDF_NETS_FRAME_SIZE,
					    VDF_NETS_FRAME_SIZE, &s->txp);
	if (rc) {
		vdf_log(LOG_WARNING, NETSRV_COMPONENT, s->name,
			"mapping %" PRIu32 " frames for DMA: %s", nframes, strerror(-rc));
		return rc;
	}
	/* The pools start empty: every frame is the client's. */
	for (uint32_t i = 0; i < h->rx_frames; i++)
		if (!vdf_net_buf_get(s->rxp))
			return -EIO;
	for (uint32_t i = 0; i < h->tx_frames; i++)
		if (!vdf_net_buf_get(s->txp))
			return -EIO;
	vdf_net_info(srv->ndev, &info);
	s->max_frame = VDF_MIN(info.max_frame, VDF_NETS_FRAME_SIZE);
	if (h->flags & VDF_NETS_HELLO_F_SET_MAC) {
		rc = vdf_net_set_mac(srv->ndev, h->mac);
		if (rc)
			return rc;
	}
	rc = vdf_net_set_promisc(srv->ndev, h->flags & VDF_NETS_HELLO_F_PROMISC);
	if (rc && rc != -EOPNOTSUPP)
		return rc;
	if (srv->opts.attach_rx_pool) {
		rc = srv->opts.attach_rx_pool(srv->opts.arg, s->rxp);
		if (rc) {
			vdf_log(LOG_WARNING, NETSRV_COMPONENT, s->name,
				"RX ring on the client's frames: %s; copying instead",
				strerror(-rc));
		} else {
			s->rx_attached = true;
			s->zero_copy = true;
		}
	}
	rc = vdf_event_add_fd(srv->loop, s->drv_kick, EPOLLIN, on_doorbell, s);
	if (rc)
		return rc;
	s->kick_watched = true;
	return vdf_timer_start(srv->loop, NETSRV_TICK_MS, NETSRV_TICK_MS, on_tick, s, &s->tick);

out_close_memfd:
	close(memfd);
	return rc;
}

static void on_hello(struct net_session *s)
{
	int fds[VDF_NETS_NFDS] = {-1, -1, -1};
	struct vdf_net_server *srv = s->srv;
	struct vdf_nets_welcome w = {0};
	struct vdf_net_info info;
	int rc;

	rc = vdf_nets_recv_hello(s->sock, &s->h, fds, MSG_DONTWAIT);
	if (rc == -EAGAIN)
		return;
	if (rc == -EPIPE) {
		session_close(s, LOG_INFO, "the client left before HELLO");
		return;
	}
	if (rc) {
		refuse_session(s, rc, "bad HELLO: %s", strerror(-rc));
		return;
	}
	vdf_timer_stop(s->hello_timer);
	s->hello_timer = NULL;
	rc = session_setup(s, fds);
	if (rc) {
		refuse_session(s, rc, "HELLO refused: %s", strerror(-rc));
		return;
	}
	vdf_net_info(srv->ndev, &info);
	w.generation = srv->opts.generation;
	memcpy(w.mac, info.mac, sizeof(w.mac));
	w.max_frame = s->max_frame;
	w.mtu = VDF_MIN(info.mtu, s->max_frame - VDF_NET_ETH_HLEN);
	if (info.link.up) {
		w.flags = VDF_NETS_F_LINK_UP | (info.link.full_duplex ? VDF_NETS_F_FULL_DUPLEX : 0);
		w.speed_mbps = info.link.speed_mbps;
	}
	rc = vdf_nets_send_welcome(s->sock, &w);
	if (rc) {
		session_close(s, LOG_WARNING, "the client left before WELCOME");
		return;
	}
	s->active = true;
	srv->st.sessions_accepted++;
	vdf_log(LOG_INFO, NETSRV_COMPONENT, s->name,
		"session up: %" PRIu32 " RX + %" PRIu32 " TX frames, rings %" PRIu32 "/%" PRIu32
		"/%" PRIu32 "/%" PRIu32 ", %s RX%s",
		s->h.rx_frames, s->h.tx_frames, s->h.ring_cap[0], s->h.ring_cap[1],
		s->h.ring_cap[2], s->h.ring_cap[3], s->zero_copy ? "zero-copy" : "copying",
		(s->h.flags & VDF_NETS_HELLO_F_PROMISC) ? ", promiscuous" : "");
	service(s);
}

static void on_sock(int fd, uint32_t events, void *arg)
{
	struct net_session *s = arg;
	uint8_t buf[VDF_NETS_MSG_MAX + 1];
	int fds[VDF_FDMSG_MAX_FDS];
	unsigned nfds = 0;
	int rc;

	if (!s->active) {
		on_hello(s);
		return;
	}
	rc = vdf_fdmsg_recv(fd, buf, sizeof(buf), fds, &nfds, MSG_DONTWAIT);
	vdf_fdmsg_close(fds, nfds);
	if (rc == -EAGAIN && !(events & (EPOLLHUP | EPOLLERR)))
		return;
	session_close(s, LOG_INFO,
		      rc == -EPIPE || rc == -EAGAIN ? "the client closed the session"
		      : rc >= 0			    ? "message after HELLO"
						    : "socket error");
}

static void on_hello_timeout(struct vdf_timer *t, void *arg)
{
	struct net_session *s = arg;

	vdf_timer_stop(t);
	s->hello_timer = NULL;
	if (!s->active)
		refuse_session(s, -ETIMEDOUT, "no HELLO within %" PRIu32 " ms",
			       s->srv->opts.hello_timeout_ms);
}

/* ---- server ------------------------------------------------------------- */

static int refuse_sock(struct vdf_net_server *srv, int sock, const struct vdf_client_grant *cg,
		       int rc)
{
	struct vdf_nets_welcome w = {.status = rc};

	if (vdf_nets_send_welcome(sock, &w))
		vdf_log(LOG_DEBUG, NETSRV_COMPONENT, NULL, "refusing WELCOME not sent");
	close(sock);
	if (srv)
		srv->st.sessions_refused++;
	vdf_log(LOG_WARNING, NETSRV_COMPONENT, NULL, "client %" PRIu64 " refused: %s",
		cg ? cg->client_id : 0, strerror(-rc));
	return rc;
}

int vdf_net_server_add_client(struct vdf_net_server *srv, int sock,
			      const struct vdf_client_grant *cg)
{
	struct net_session *s;
	int rc;

	if (sock < 0)
		return -EINVAL;
	if (!srv || !cg || (cg->flags & ~(uint32_t)VDF_CLIENT_F_KNOWN))
		return refuse_sock(srv, sock, cg, -EINVAL);
	if (cg->unit)
		return refuse_sock(srv, sock, cg, -ENODEV);
	if (srv->s)
		return refuse_sock(srv, sock, cg, -EBUSY);
	s = calloc(1, sizeof(*s));
	if (!s)
		return refuse_sock(srv, sock, cg, -ENOMEM);
	s->srv = srv;
	s->sock = sock;
	s->drv_kick = s->cli_kick = -1;
	s->client_id = cg->client_id;
	snprintf(s->name, sizeof(s->name), "%s client %" PRIu64,
		 srv->ndev->name ? srv->ndev->name : "?", cg->client_id);
	rc = vdf_session_watch(srv->loop, sock, srv->opts.hello_timeout_ms, on_sock,
			       on_hello_timeout, s, &s->hello_timer);
	if (rc)
		goto out_free;
	s->sock_watched = true;
	srv->s = s;
	return 0;

out_free:
	free(s);
	return refuse_sock(srv, sock, cg, rc);
}

int vdf_net_server_create(struct vdf_net_dev *ndev, struct vdf_dev *dev,
			  struct vdf_event_loop *loop, const struct vdf_net_server_opts *opts,
			  struct vdf_net_server **out)
{
	struct vdf_net_server *srv;

	if (!ndev || !ndev->ops || !dev || !loop || !out)
		return -EINVAL;
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	if (opts)
		srv->opts = *opts;
	if (!srv->opts.hello_timeout_ms)
		srv->opts.hello_timeout_ms = VDF_NET_SERVER_DEFAULT_HELLO_MS;
	if (!srv->opts.drain_timeout_ms)
		srv->opts.drain_timeout_ms = VDF_NET_SERVER_DEFAULT_DRAIN_MS;
	srv->ndev = ndev;
	srv->dev = dev;
	srv->loop = loop;
	vdf_net_set_rx_cb(ndev, on_rx, srv);
	*out = srv;
	return 0;
}

void vdf_net_server_destroy(struct vdf_net_server *srv)
{
	if (!srv)
		return;
	if (srv->s)
		session_close(srv->s, LOG_INFO, "the driver is stopping");
	vdf_net_set_rx_cb(srv->ndev, NULL, NULL);
	free(srv);
}

void vdf_net_server_stats(const struct vdf_net_server *srv, struct vdf_heartbeat *hb)
{
	if (!srv || !hb)
		return;
	hb->errors += srv->st.invalid + srv->st.not_owned + srv->st.tx_refused;
}

void vdf_net_server_get_stats(const struct vdf_net_server *srv, struct vdf_net_server_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!srv)
		return;
	*st = srv->st;
	st->sessions = srv->s ? 1 : 0;
	st->zero_copy = srv->s && srv->s->zero_copy;
}
