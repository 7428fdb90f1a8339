// SPDX-License-Identifier: MIT
/*
 * Net session setup between a packet client and a net driver, and the ring
 * descriptor checks; see vdf/netsession.h. Everything received is untrusted:
 * the decoders check magic, version, type, exact length, reserved fields,
 * padding and every value before a field is used.
 */
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "vdf/fdmsg.h"
#include "vdf/netsession.h"
#include "vdf/ring.h"

struct wire_hello {
	uint32_t flags;
	uint32_t frame_size; /* VDF_NETS_FRAME_SIZE: room to grow */
	uint64_t region_size;
	uint64_t ring_off[VDF_NETS_NRINGS];
	uint32_t ring_cap[VDF_NETS_NRINGS];
	uint64_t frames_off;
	uint32_t rx_frames;
	uint32_t tx_frames;
	uint8_t mac[VDF_NET_ETH_ALEN];
	uint8_t pad[2];
};

struct wire_welcome {
	uint32_t status; /* int32_t two's complement */
	uint32_t generation;
	uint32_t mtu;
	uint32_t max_frame;
	uint32_t speed_mbps;
	uint32_t flags;
	uint8_t mac[VDF_NET_ETH_ALEN];
	uint8_t pad[2];
};

static_assert(sizeof(struct wire_hello) == 88, "hello body is 88 bytes");
static_assert(offsetof(struct wire_hello, ring_cap) == 48, "ring capacities at byte 48");
static_assert(offsetof(struct wire_hello, frames_off) == 64, "frames offset at byte 64");
static_assert(offsetof(struct wire_hello, mac) == 80, "mac at byte 80");
static_assert(sizeof(struct wire_welcome) == 32, "welcome body is 32 bytes");
static_assert(offsetof(struct wire_welcome, mac) == 24, "mac at byte 24");
static_assert(VDF_FDMSG_HDR_SIZE + sizeof(struct wire_hello) <= VDF_NETS_MSG_MAX,
	      "a hello fits VDF_NETS_MSG_MAX");

/* ---- geometry ----------------------------------------------------------- */

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

static bool frames_ok(uint32_t n)
{
	return n >= VDF_NETS_FRAMES_MIN && n <= VDF_NETS_FRAMES_MAX && !(n % 2);
}

static bool range_ok(uint64_t off, uint64_t len, uint64_t size)
{
	return len <= size && off <= size - len;
}

static bool disjoint(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a + alen <= b || b + blen <= a; /* both ranges checked by range_ok first */
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static bool mac_zero(const uint8_t mac[VDF_NET_ETH_ALEN])
{
	static const uint8_t zero[VDF_NET_ETH_ALEN];

	return !memcmp(mac, zero, sizeof(zero));
}

uint32_t vdf_nets_ring_slot_size(enum vdf_nets_ring_id id)
{
	return id == VDF_NETS_RX || id == VDF_NETS_TX ? sizeof(struct vdf_nets_frame_wire)
						      : sizeof(struct vdf_nets_slot_wire);
}

int vdf_nets_layout(uint32_t ring_cap, uint32_t rx_frames, uint32_t tx_frames,
		    struct vdf_nets_hello *out)
{
	struct vdf_nets_hello h = {0};
	uint64_t off = 0;

	if (!is_pow2(ring_cap) || ring_cap > VDF_NETS_RING_MAX || !frames_ok(rx_frames) ||
	    !frames_ok(tx_frames))
		return -EINVAL;
	for (unsigned i = 0; i < VDF_NETS_NRINGS; i++) {
		h.ring_off[i] = off;
		h.ring_cap[i] = ring_cap;
		off = align_up(off + vdf_ring_layout_size(ring_cap, vdf_nets_ring_slot_size(i)),
			       VDF_RING_CACHE_LINE);
	}
	h.frames_off = align_up(off, VDF_NETS_PAGE);
	h.rx_frames = rx_frames;
	h.tx_frames = tx_frames;
	h.region_size = h.frames_off + (uint64_t)(rx_frames + tx_frames) * VDF_NETS_FRAME_SIZE;
	if (vdf_nets_hello_validate(&h))
		return -EINVAL;
	*out = h;
	return 0;
}

int vdf_nets_hello_validate(const struct vdf_nets_hello *h)
{
	uint64_t len[VDF_NETS_NRINGS], frames_len;

	if (h->flags & ~VDF_NETS_HELLO_F_KNOWN)
		return -EINVAL;
	if (h->flags & VDF_NETS_HELLO_F_SET_MAC ? !vdf_net_mac_valid(h->mac) : !mac_zero(h->mac))
		return -EINVAL;
	if (!h->region_size || h->region_size > VDF_NETS_REGION_MAX ||
	    h->region_size % VDF_NETS_PAGE)
		return -EINVAL;
	if (!frames_ok(h->rx_frames) || !frames_ok(h->tx_frames) || h->frames_off % VDF_NETS_PAGE)
		return -EINVAL;
	frames_len = (uint64_t)(h->rx_frames + h->tx_frames) * VDF_NETS_FRAME_SIZE;
	if (!range_ok(h->frames_off, frames_len, h->region_size))
		return -EINVAL;
	for (unsigned i = 0; i < VDF_NETS_NRINGS; i++) {
		if (!is_pow2(h->ring_cap[i]) || h->ring_cap[i] > VDF_NETS_RING_MAX ||
		    h->ring_off[i] % VDF_RING_CACHE_LINE)
			return -EINVAL;
		len[i] = vdf_ring_layout_size(h->ring_cap[i], vdf_nets_ring_slot_size(i));
		if (!len[i] || !range_ok(h->ring_off[i], len[i], h->region_size) ||
		    !disjoint(h->ring_off[i], len[i], h->frames_off, frames_len))
			return -EINVAL;
		for (unsigned j = 0; j < i; j++)
			if (!disjoint(h->ring_off[i], len[i], h->ring_off[j], len[j]))
				return -EINVAL;
	}
	return 0;
}

int vdf_nets_welcome_validate(const struct vdf_nets_welcome *w)
{
	if (w->status > 0 || w->status < -4095)
		return -EINVAL;
	if (w->status)
		return 0;
	if (!vdf_net_mac_valid(w->mac))
		return -EINVAL;
	if (w->max_frame < VDF_NET_ETH_MIN_FRAME || w->max_frame > VDF_NETS_FRAME_SIZE)
		return -EINVAL;
	if (w->mtu < 68 || w->mtu > w->max_frame - VDF_NET_ETH_HLEN)
		return -EINVAL;
	if (w->flags & ~VDF_NETS_F_KNOWN)
		return -EINVAL;
	if (!(w->flags & VDF_NETS_F_LINK_UP) &&
	    (w->speed_mbps || (w->flags & VDF_NETS_F_FULL_DUPLEX)))
		return -EINVAL; /* a down link has no speed or duplex */
	if (w->speed_mbps > 400000)
		return -EINVAL;
	return 0;
}

/* ---- descriptors -------------------------------------------------------- */

int vdf_nets_check_fill(const struct vdf_nets_hello *h, const struct vdf_nets_slot_wire *d,
			uint32_t *slot)
{
	uint32_t s = le32toh(d->slot);

	if (d->reserved || s >= h->rx_frames)
		return -EINVAL;
	*slot = s;
	return 0;
}

int vdf_nets_check_tx(const struct vdf_nets_hello *h, const struct vdf_nets_frame_wire *d,
		      uint32_t max_len, uint32_t *slot, uint32_t *len)
{
	uint32_t s = le32toh(d->slot), l = le16toh(d->len);

	if (d->flags || s < h->rx_frames || s - h->rx_frames >= h->tx_frames)
		return -EINVAL;
	if (l < VDF_NET_ETH_HLEN || l > max_len || l > VDF_NETS_FRAME_SIZE)
		return -EINVAL;
	*slot = s;
	*len = l;
	return 0;
}

int vdf_nets_check_rx(const struct vdf_nets_hello *h, const struct vdf_nets_frame_wire *d,
		      uint32_t *slot, uint32_t *len, uint32_t *flags)
{
	uint32_t s = le32toh(d->slot), l = le16toh(d->len), f = le16toh(d->flags);

	if (s >= h->rx_frames || l < VDF_NET_ETH_HLEN || l > VDF_NETS_FRAME_SIZE ||
	    (f & ~(uint32_t)VDF_NETS_RX_FLAGS_KNOWN))
		return -EINVAL;
	*slot = s;
	*len = l;
	*flags = f;
	return 0;
}

int vdf_nets_check_comp(const struct vdf_nets_hello *h, const struct vdf_nets_slot_wire *d,
			uint32_t *slot)
{
	uint32_t s = le32toh(d->slot);

	if (d->reserved || s < h->rx_frames || s - h->rx_frames >= h->tx_frames)
		return -EINVAL;
	*slot = s;
	return 0;
}

/* ---- codecs ------------------------------------------------------------- */

static size_t body_size(uint16_t type)
{
	switch (type) {
	case VDF_NETS_HELLO:
		return sizeof(struct wire_hello);
	case VDF_NETS_WELCOME:
		return sizeof(struct wire_welcome);
	default:
		return 0;
	}
}

static int encode_hdr(uint16_t type, void *buf, size_t len)
{
	return vdf_fdmsg_hdr_encode(VDF_NETS_MAGIC, VDF_NETS_VERSION, type, body_size(type), buf,
				    len);
}

static int decode_hdr(const void *buf, size_t len, uint16_t want)
{
	return vdf_fdmsg_hdr_decode(buf, len, VDF_NETS_MAGIC, VDF_NETS_VERSION, want,
				    body_size(want));
}

int vdf_nets_encode_hello(const struct vdf_nets_hello *h, void *buf, size_t len)
{
	struct wire_hello w = {
	    .flags = htole32(h->flags),
	    .frame_size = htole32(VDF_NETS_FRAME_SIZE),
	    .region_size = htole64(h->region_size),
	    .frames_off = htole64(h->frames_off),
	    .rx_frames = htole32(h->rx_frames),
	    .tx_frames = htole32(h->tx_frames),
	};
	int total;

	if (vdf_nets_hello_validate(h))
		return -EINVAL;
	for (unsigned i = 0; i < VDF_NETS_NRINGS; i++) {
		w.ring_off[i] = htole64(h->ring_off[i]);
		w.ring_cap[i] = htole32(h->ring_cap[i]);
	}
	memcpy(w.mac, h->mac, sizeof(w.mac));
	total = encode_hdr(VDF_NETS_HELLO, buf, len);
	if (total > 0)
		memcpy((uint8_t *)buf + VDF_FDMSG_HDR_SIZE, &w, sizeof(w));
	return total;
}

int vdf_nets_decode_hello(const void *buf, size_t len, struct vdf_nets_hello *h)
{
	struct vdf_nets_hello out = {0};
	struct wire_hello w;
	int rc = decode_hdr(buf, len, VDF_NETS_HELLO);

	if (rc)
		return rc;
	memcpy(&w, (const uint8_t *)buf + VDF_FDMSG_HDR_SIZE, sizeof(w));
	if (w.pad[0] || w.pad[1] || le32toh(w.frame_size) != VDF_NETS_FRAME_SIZE)
		return -EBADMSG;
	out.flags = le32toh(w.flags);
	out.region_size = le64toh(w.region_size);
	for (unsigned i = 0; i < VDF_NETS_NRINGS; i++) {
		out.ring_off[i] = le64toh(w.ring_off[i]);
		out.ring_cap[i] = le32toh(w.ring_cap[i]);
	}
	out.frames_off = le64toh(w.frames_off);
	out.rx_frames = le32toh(w.rx_frames);
	out.tx_frames = le32toh(w.tx_frames);
	memcpy(out.mac, w.mac, sizeof(out.mac));
	if (vdf_nets_hello_validate(&out))
		return -EBADMSG;
	*h = out;
	return 0;
}

int vdf_nets_encode_welcome(const struct vdf_nets_welcome *w, void *buf, size_t len)
{
	struct wire_welcome ww = {.status = htole32((uint32_t)w->status)};
	int total;

	if (vdf_nets_welcome_validate(w))
		return -EINVAL;
	if (!w->status) { /* a refusal carries nothing else */
		ww.generation = htole32(w->generation);
		ww.mtu = htole32(w->mtu);
		ww.max_frame = htole32(w->max_frame);
		ww.speed_mbps = htole32(w->speed_mbps);
		ww.flags = htole32(w->flags);
		memcpy(ww.mac, w->mac, sizeof(ww.mac));
	}
	total = encode_hdr(VDF_NETS_WELCOME, buf, len);
	if (total > 0)
		memcpy((uint8_t *)buf + VDF_FDMSG_HDR_SIZE, &ww, sizeof(ww));
	return total;
}

int vdf_nets_decode_welcome(const void *buf, size_t len, struct vdf_nets_welcome *w)
{
	struct vdf_nets_welcome out = {0};
	struct wire_welcome ww;
	int rc = decode_hdr(buf, len, VDF_NETS_WELCOME);

	if (rc)
		return rc;
	memcpy(&ww, (const uint8_t *)buf + VDF_FDMSG_HDR_SIZE, sizeof(ww));
	out.status = (int32_t)le32toh(ww.status);
	if (out.status) {
		static const struct wire_welcome zero;

		ww.status = 0;
		if (memcmp(&ww, &zero, sizeof(ww)))
			return -EBADMSG;
	} else {
		if (ww.pad[0] || ww.pad[1])
			return -EBADMSG;
		out.generation = le32toh(ww.generation);
		out.mtu = le32toh(ww.mtu);
		out.max_frame = le32toh(ww.max_frame);
		out.speed_mbps = le32toh(ww.speed_mbps);
		out.flags = le32toh(ww.flags);
		memcpy(out.mac, ww.mac, sizeof(out.mac));
	}
	if (vdf_nets_welcome_validate(&out))
		return -EBADMSG;
	*w = out;
	return 0;
}

/* ---- socket I/O --------------------------------------------------------- */

int vdf_nets_send_hello(int sock, const struct vdf_nets_hello *h, const int fds[VDF_NETS_NFDS])
{
	uint8_t buf[VDF_NETS_MSG_MAX];
	int len = vdf_nets_encode_hello(h, buf, sizeof(buf));

	if (len < 0)
		return len;
	for (unsigned i = 0; i < VDF_NETS_NFDS; i++)
		if (fds[i] < 0)
			return -EBADF;
	return vdf_fdmsg_send(sock, buf, (size_t)len, fds, VDF_NETS_NFDS);
}

int vdf_nets_recv_hello(int sock, struct vdf_nets_hello *h, int fds[VDF_NETS_NFDS], int flags)
{
	uint8_t buf[VDF_NETS_MSG_MAX + 1]; /* a spare byte: longer messages show as MSG_TRUNC */
	struct vdf_nets_hello hello;
	int got[VDF_NETS_NFDS];
	int len, rc;

	len = vdf_fdmsg_recv_n(sock, buf, sizeof(buf), got, VDF_NETS_NFDS, flags, -1);
	if (len < 0)
		return len;
	rc = vdf_nets_decode_hello(buf, (size_t)len, &hello);
	if (rc) {
		vdf_fdmsg_close(got, VDF_NETS_NFDS);
		return rc;
	}
	*h = hello;
	memcpy(fds, got, sizeof(got));
	return 0;
}

int vdf_nets_send_welcome(int sock, const struct vdf_nets_welcome *w)
{
	uint8_t buf[VDF_NETS_MSG_MAX];
	int len = vdf_nets_encode_welcome(w, buf, sizeof(buf));

	if (len < 0)
		return len;
	return vdf_fdmsg_send(sock, buf, (size_t)len, NULL, 0);
}

int vdf_nets_recv_welcome(int sock, struct vdf_nets_welcome *w, int timeout_ms)
{
	uint8_t buf[VDF_NETS_MSG_MAX + 1];
	int len = vdf_fdmsg_recv_n(sock, buf, sizeof(buf), NULL, 0, 0, timeout_ms);

	if (len < 0)
		return len;
	return vdf_nets_decode_welcome(buf, (size_t)len, w);
}
