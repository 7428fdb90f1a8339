// SPDX-License-Identifier: MIT
/*
 * Grant protocol between the device manager and a driver process; see
 * vdf/grant.h. Every byte received is untrusted: decoding checks the magic,
 * version, type, exact lengths, string termination and padding, reserved
 * fields and value ranges before anything is used.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vdf/fdmsg.h"
#include "vdf/grant.h"
#include "vdf/hw/pci.h"
#include "vdf/irq.h"
#include "vdf/log.h"
#include "vdf/ratelimit.h"

struct wire_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t type;
	uint32_t length; /* whole message, header included */
	uint32_t reserved;
};

struct wire_grant {
	char pci_addr[VDF_GRANT_PCI_ADDR_LEN];
	char driver[VDF_GRANT_NAME_LEN];
	uint32_t instance;
	uint32_t generation;
	uint32_t bars;
	uint32_t io_bars;
	uint64_t dma_window;
	uint32_t irq_kinds;
	uint32_t irq_max_vectors;
	uint32_t flags;
	uint32_t heartbeat_ms;
	uint32_t nfds; /* fds attached: VDF_GRANT_NFDS */
	uint32_t reserved;
};

struct wire_heartbeat {
	uint64_t seq, cookie, irqs, rx_ios, rx_bytes, tx_ios, tx_bytes, errors, drops;
};

struct wire_ping {
	uint64_t cookie;
};

struct wire_stop {
	uint32_t reason;
	uint32_t reserved;
};

struct wire_check {
	uint64_t cookie;
	uint64_t lba;
	uint32_t nblocks;
	uint32_t status; /* int32_t two's complement */
	uint64_t checksum;
};

struct wire_client {
	uint64_t client_id;
	uint32_t uid;
	uint32_t flags;
	uint32_t unit;
	uint32_t reserved;
	uint64_t ops_per_sec, ops_burst;
	uint64_t bytes_per_sec, bytes_burst;
};

static_assert(sizeof(struct wire_hdr) == 16, "header is 16 bytes");
static_assert(offsetof(struct wire_hdr, length) == 8, "length at byte 8");
static_assert(sizeof(struct wire_grant) == 96, "grant body is 96 bytes");
static_assert(offsetof(struct wire_grant, driver) == 16, "driver name at byte 16");
static_assert(offsetof(struct wire_grant, instance) == 48, "instance at byte 48");
static_assert(offsetof(struct wire_grant, dma_window) == 64, "DMA window at byte 64");
static_assert(offsetof(struct wire_grant, nfds) == 88, "nfds at byte 88");
static_assert(sizeof(struct wire_heartbeat) == 72, "heartbeat body is 72 bytes");
static_assert(sizeof(struct wire_ping) == 8, "ping body is 8 bytes");
static_assert(sizeof(struct wire_stop) == 8, "stop body is 8 bytes");
static_assert(sizeof(struct wire_check) == 32, "check body is 32 bytes");
static_assert(sizeof(struct wire_client) == 56, "client body is 56 bytes");
static_assert(offsetof(struct wire_client, unit) == 16, "unit at byte 16");
static_assert(offsetof(struct wire_client, ops_per_sec) == 24, "limits at byte 24");
static_assert(sizeof(struct wire_hdr) + sizeof(struct wire_grant) <= VDF_GRANT_MSG_MAX,
	      "a grant fits VDF_GRANT_MSG_MAX");
static_assert(sizeof(struct wire_hdr) + sizeof(struct wire_heartbeat) <= VDF_GRANT_MSG_MAX,
	      "a heartbeat fits VDF_GRANT_MSG_MAX");

static size_t body_size(uint16_t type)
{
	switch (type) {
	case VDF_MSG_GRANT:
		return sizeof(struct wire_grant);
	case VDF_MSG_HEARTBEAT:
		return sizeof(struct wire_heartbeat);
	case VDF_MSG_PING:
		return sizeof(struct wire_ping);
	case VDF_MSG_STOP:
		return sizeof(struct wire_stop);
	case VDF_MSG_CHECK:
	case VDF_MSG_CHECK_RESULT:
		return sizeof(struct wire_check);
	case VDF_MSG_CLIENT:
		return sizeof(struct wire_client);
	default:
		return 0;
	}
}

/* ---- field checks ------------------------------------------------------- */

static int is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* "dddd:bb:dd.f" exactly as sysfs spells it (lower-case hex, device <= 0x1f,
 * function 0-7), NUL-terminated inside the field. */
static int pci_addr_ok(const char *s, size_t cap)
{
	static const char pattern[] = "xxxx:xx:xx.f";

	if (strnlen(s, cap) != sizeof(pattern) - 1)
		return 0;
	for (size_t i = 0; i < sizeof(pattern) - 1; i++) {
		char p = pattern[i];

		if (p == 'x' && !is_lower_hex(s[i]))
			return 0;
		if (p == 'f' && (s[i] < '0' || s[i] > '7'))
			return 0;
		if (p != 'x' && p != 'f' && s[i] != p)
			return 0;
	}
	return s[8] <= '1'; /* device number: 00-1f */
}

static int name_ok(const char *s, size_t cap)
{
	size_t len = strnlen(s, cap);

	if (len == 0 || len == cap)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
	}
	return 1;
}

/* Bytes after the terminating NUL must be zero: one encoding per grant, and
 * nothing smuggled in the padding. */
static int padding_zero(const char *s, size_t cap)
{
	for (size_t i = strnlen(s, cap); i < cap; i++)
		if (s[i])
			return 0;
	return 1;
}

int vdf_grant_validate(const struct vdf_grant *g)
{
	const struct vdf_rights *r = &g->rights;
	const uint32_t bar_mask = GENMASK(PCI_NUM_BARS - 1, 0);

	if (!pci_addr_ok(g->pci_addr, sizeof(g->pci_addr)) ||
	    !name_ok(g->driver, sizeof(g->driver)))
		return -EINVAL;
	if ((r->bars & ~bar_mask) || (r->io_bars & ~bar_mask) || (r->bars & r->io_bars))
		return -EINVAL;
	if (r->dma_window > VDF_GRANT_DMA_WINDOW_MAX ||
	    !VDF_IS_ALIGNED(r->dma_window, (uint64_t)VDF_PAGE_SIZE))
		return -EINVAL;
	if ((r->irq_kinds & ~GENMASK(VDF_IRQ_KIND_COUNT - 1, 0)) ||
	    r->irq_max_vectors > VDF_IRQ_MAX_VECTORS)
		return -EINVAL;
	if (r->flags & ~(uint32_t)VDF_RIGHTS_FLAGS_ALL)
		return -EINVAL;
	if (g->heartbeat_ms && (g->heartbeat_ms < VDF_GRANT_HEARTBEAT_MIN_MS ||
				g->heartbeat_ms > VDF_GRANT_HEARTBEAT_MAX_MS))
		return -EINVAL;
	return 0;
}

/* ---- encoding ----------------------------------------------------------- */

static void put_hdr(void *buf, uint16_t type)
{
	struct wire_hdr h = {
	    .magic = htole32(VDF_GRANT_MAGIC),
	    .version = htole16(VDF_GRANT_VERSION),
	    .type = htole16(type),
	    .length = htole32((uint32_t)(sizeof(h) + body_size(type))),
	};

	memcpy(buf, &h, sizeof(h));
}

/* Check the header of an untrusted message and return its type. */
static int check_hdr(const void *buf, size_t len, uint16_t *type)
{
	struct wire_hdr h;
	size_t body;

	if (len < sizeof(h))
		return -EMSGSIZE;
	memcpy(&h, buf, sizeof(h));
	if (le32toh(h.magic) != VDF_GRANT_MAGIC)
		return -EBADMSG;
	if (le16toh(h.version) != VDF_GRANT_VERSION)
		return -EPROTONOSUPPORT;
	if (h.reserved)
		return -EBADMSG;
	*type = le16toh(h.type);
	body = body_size(*type);
	if (!body)
		return -EBADMSG;
	if (le32toh(h.length) != len || len != sizeof(h) + body)
		return -EMSGSIZE;
	return 0;
}

int vdf_grant_encode(const struct vdf_grant *g, void *buf, size_t len)
{
	struct wire_grant w;
	size_t total = sizeof(struct wire_hdr) + sizeof(w);

	if (vdf_grant_validate(g))
		return -EINVAL;
	if (len < total)
		return -ENOSPC;
	memset(&w, 0, sizeof(w));
	/* Strings only, zero-padded (w is zeroed): the canonical form decode
	 * insists on. Validation proved both are terminated inside their field. */
	memcpy(w.pci_addr, g->pci_addr, strnlen(g->pci_addr, sizeof(w.pci_addr)));
	memcpy(w.driver, g->driver, strnlen(g->driver, sizeof(w.driver)));
	w.instance = htole32(g->instance);
	w.generation = htole32(g->generation);
	w.bars = htole32(g->rights.bars);
	w.io_bars = htole32(g->rights.io_bars);
	w.dma_window = htole64(g->rights.dma_window);
	w.irq_kinds = htole32(g->rights.irq_kinds);
	w.irq_max_vectors = htole32(g->rights.irq_max_vectors);
	w.flags = htole32(g->rights.flags);
	w.heartbeat_ms = htole32(g->heartbeat_ms);
	w.nfds = htole32(VDF_GRANT_NFDS);
	put_hdr(buf, VDF_MSG_GRANT);
	memcpy((uint8_t *)buf + sizeof(struct wire_hdr), &w, sizeof(w));
	return (int)total;
}

int vdf_grant_decode(const void *buf, size_t len, struct vdf_grant *g)
{
	struct wire_grant w;
	struct vdf_grant out;
	uint16_t type;
	int rc;

	rc = check_hdr(buf, len, &type);
	if (rc)
		return rc;
	if (type != VDF_MSG_GRANT)
		return -EBADMSG;
	memcpy(&w, (const uint8_t *)buf + sizeof(struct wire_hdr), sizeof(w));
	if (!padding_zero(w.pci_addr, sizeof(w.pci_addr)) ||
	    !padding_zero(w.driver, sizeof(w.driver)) || w.reserved ||
	    le32toh(w.nfds) != VDF_GRANT_NFDS)
		return -EBADMSG;
	memset(&out, 0, sizeof(out));
	memcpy(out.pci_addr, w.pci_addr, sizeof(out.pci_addr));
	memcpy(out.driver, w.driver, sizeof(out.driver));
	out.instance = le32toh(w.instance);
	out.generation = le32toh(w.generation);
	out.rights.bars = le32toh(w.bars);
	out.rights.io_bars = le32toh(w.io_bars);
	out.rights.dma_window = le64toh(w.dma_window);
	out.rights.irq_kinds = le32toh(w.irq_kinds);
	out.rights.irq_max_vectors = le32toh(w.irq_max_vectors);
	out.rights.flags = le32toh(w.flags);
	out.heartbeat_ms = le32toh(w.heartbeat_ms);
	if (vdf_grant_validate(&out))
		return -EBADMSG;
	*g = out;
	return 0;
}

uint64_t vdf_grant_checksum(uint64_t state, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	for (size_t i = 0; i < len; i++) {
		state ^= p[i];
		state *= 0x100000001b3ull; /* the 64-bit FNV prime */
	}
	return state;
}

static int check_ok(enum vdf_grant_msg_type type, const struct vdf_check *c)
{
	if (c->nblocks == 0 || c->nblocks > VDF_GRANT_CHECK_MAX_BLOCKS)
		return 0;
	if (type == VDF_MSG_CHECK)
		return c->status == 0 && c->checksum == 0;
	return c->status <= 0 && c->status >= -4095;
}

/* One rate limit: unlimited (rate 0), or a rate with a burst the token bucket
 * can hold. A burst without a rate means nothing and is
 * refused, so that each policy has one encoding. */
static int limit_ok(uint64_t rate, uint64_t burst)
{
	if (!rate)
		return burst == 0;
	return burst && burst <= VDF_RATELIMIT_BURST_MAX;
}

static int client_ok(const struct vdf_client_grant *c)
{
	return !(c->flags & ~(uint32_t)VDF_CLIENT_F_KNOWN) && c->unit <= VDF_CLIENT_UNIT_MAX &&
	       limit_ok(c->ops_per_sec, c->ops_burst) && limit_ok(c->bytes_per_sec, c->bytes_burst);
}

int vdf_grant_msg_encode(const struct vdf_grant_msg *m, void *buf, size_t len)
{
	uint8_t *body = (uint8_t *)buf + sizeof(struct wire_hdr);
	size_t bsize;

	switch (m->type) {
	case VDF_MSG_HEARTBEAT:
	case VDF_MSG_PING:
		break;
	case VDF_MSG_STOP:
		if (m->u.stop_reason > VDF_STOP_REVOKED)
			return -EINVAL;
		break;
	case VDF_MSG_CHECK:
	case VDF_MSG_CHECK_RESULT:
		if (!check_ok(m->type, &m->u.check))
			return -EINVAL;
		break;
	case VDF_MSG_CLIENT:
		if (!client_ok(&m->u.client))
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	bsize = body_size((uint16_t)m->type);
	if (len < sizeof(struct wire_hdr) + bsize)
		return -ENOSPC;
	put_hdr(buf, (uint16_t)m->type);
	if (m->type == VDF_MSG_HEARTBEAT) {
		struct wire_heartbeat w = {
		    .seq = htole64(m->u.hb.seq),
		    .cookie = htole64(m->u.hb.cookie),
		    .irqs = htole64(m->u.hb.irqs),
		    .rx_ios = htole64(m->u.hb.rx_ios),
		    .rx_bytes = htole64(m->u.hb.rx_bytes),
		    .tx_ios = htole64(m->u.hb.tx_ios),
		    .tx_bytes = htole64(m->u.hb.tx_bytes),
		    .errors = htole64(m->u.hb.errors),
		    .drops = htole64(m->u.hb.drops),
		};
		memcpy(body, &w, sizeof(w));
	} else if (m->type == VDF_MSG_PING) {
		struct wire_ping w = {.cookie = htole64(m->u.ping_cookie)};

		memcpy(body, &w, sizeof(w));
	} else if (m->type == VDF_MSG_CHECK || m->type == VDF_MSG_CHECK_RESULT) {
		struct wire_check w = {
		    .cookie = htole64(m->u.check.cookie),
		    .lba = htole64(m->u.check.lba),
		    .nblocks = htole32(m->u.check.nblocks),
		    .status = htole32((uint32_t)m->u.check.status),
		    .checksum = htole64(m->u.check.checksum),
		};
		memcpy(body, &w, sizeof(w));
	} else if (m->type == VDF_MSG_CLIENT) {
		const struct vdf_client_grant *c = &m->u.client;
		struct wire_client w = {
		    .client_id = htole64(c->client_id),
		    .uid = htole32(c->uid),
		    .flags = htole32(c->flags),
		    .unit = htole32(c->unit),
		    .ops_per_sec = htole64(c->ops_per_sec),
		    .ops_burst = htole64(c->ops_burst),
		    .bytes_per_sec = htole64(c->bytes_per_sec),
		    .bytes_burst = htole64(c->bytes_burst),
		};
		memcpy(body, &w, sizeof(w));
	} else {
		struct wire_stop w = {.reason = htole32(m->u.stop_reason)};

		memcpy(body, &w, sizeof(w));
	}
	return (int)(sizeof(struct wire_hdr) + bsize);
}

int vdf_grant_msg_decode(const void *buf, size_t len, struct vdf_grant_msg *m)
{
	const uint8_t *body = (const uint8_t *)buf + sizeof(struct wire_hdr);
	struct vdf_grant_msg out;
	uint16_t type;
	int rc;

	rc = check_hdr(buf, len, &type);
	if (rc)
		return rc;
	memset(&out, 0, sizeof(out));
	out.type = (enum vdf_grant_msg_type)type;
	switch (type) {
	case VDF_MSG_HEARTBEAT: {
		struct wire_heartbeat w;

		memcpy(&w, body, sizeof(w));
		out.u.hb.seq = le64toh(w.seq);
		out.u.hb.cookie = le64toh(w.cookie);
		out.u.hb.irqs = le64toh(w.irqs);
		out.u.hb.rx_ios = le64toh(w.rx_ios);
		out.u.hb.rx_bytes = le64toh(w.rx_bytes);
		out.u.hb.tx_ios = le64toh(w.tx_ios);
		out.u.hb.tx_bytes = le64toh(w.tx_bytes);
		out.u.hb.errors = le64toh(w.errors);
		out.u.hb.drops = le64toh(w.drops);
		break;
	}
	case VDF_MSG_PING: {
		struct wire_ping w;

		memcpy(&w, body, sizeof(w));
		out.u.ping_cookie = le64toh(w.cookie);
		break;
	}
	case VDF_MSG_STOP: {
		struct wire_stop w;

		memcpy(&w, body, sizeof(w));
		if (w.reserved || le32toh(w.reason) > VDF_STOP_REVOKED)
			return -EBADMSG;
		out.u.stop_reason = le32toh(w.reason);
		break;
	}
	case VDF_MSG_CHECK:
	case VDF_MSG_CHECK_RESULT: {
		struct wire_check w;

		memcpy(&w, body, sizeof(w));
		out.u.check.cookie = le64toh(w.cookie);
		out.u.check.lba = le64toh(w.lba);
		out.u.check.nblocks = le32toh(w.nblocks);
		out.u.check.status = (int32_t)le32toh(w.status);
		out.u.check.checksum = le64toh(w.checksum);
		if (!check_ok(out.type, &out.u.check))
			return -EBADMSG;
		break;
	}
	case VDF_MSG_CLIENT: {
		struct vdf_client_grant *c = &out.u.client;
		struct wire_client w;

		memcpy(&w, body, sizeof(w));
		if (w.reserved)
			return -EBADMSG;
		c->client_id = le64toh(w.client_id);
		c->uid = le32toh(w.uid);
		c->flags = le32toh(w.flags);
		c->unit = le32toh(w.unit);
		c->ops_per_sec = le64toh(w.ops_per_sec);
		c->ops_burst = le64toh(w.ops_burst);
		c->bytes_per_sec = le64toh(w.bytes_per_sec);
		c->bytes_burst = le64toh(w.bytes_burst);
		if (!client_ok(c))
			return -EBADMSG;
		break;
	}
	default: /* a GRANT outside vdf_grant_recv */
		return -EBADMSG;
	}
	*m = out;
	return 0;
}

/* ---- socket I/O --------------------------------------------------------- */

int vdf_grant_send(int sock, const struct vdf_grant *g, const int *fds, unsigned n)
{
	uint8_t buf[VDF_GRANT_MSG_MAX];
	int len;

	if (n != VDF_GRANT_NFDS)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++)
		if (fds[i] < 0)
			return -EBADF;
	len = vdf_grant_encode(g, buf, sizeof(buf));
	if (len < 0)
		return len;
	return vdf_fdmsg_send(sock, buf, (size_t)len, fds, n);
}

int vdf_grant_recv(int sock, struct vdf_grant *g, int *fds, unsigned *n, unsigned max)
{
	uint8_t buf[VDF_GRANT_MSG_MAX + 1]; /* one spare byte: longer messages show as MSG_TRUNC */
	int got[VDF_FDMSG_MAX_FDS];
	unsigned ngot;
	int len, rc;

	*n = 0;
	if (max < VDF_GRANT_NFDS)
		return -ENOSPC;
	len = vdf_fdmsg_recv(sock, buf, sizeof(buf), got, &ngot, 0);
	if (len < 0) {
		vdf_log(LOG_ERR, "grant", NULL, "receiving the grant: %s", strerror(-len));
		return len;
	}
	rc = vdf_grant_decode(buf, (size_t)len, g);
	if (rc) {
		vdf_log(LOG_ERR, "grant", NULL, "malformed grant (%d bytes): %s", len,
			strerror(-rc));
		goto out_close;
	}
	if (ngot < VDF_GRANT_NFDS) {
		vdf_log(LOG_ERR, "grant", g->pci_addr, "grant carries %u fd(s), want %u", ngot,
			VDF_GRANT_NFDS);
		rc = -EBADMSG;
		goto out_close;
	}
	if (ngot > VDF_GRANT_NFDS) {
		vdf_log(LOG_WARNING, "grant", g->pci_addr, "closing %u unexpected extra fd(s)",
			ngot - VDF_GRANT_NFDS);
		vdf_fdmsg_close(got + VDF_GRANT_NFDS, ngot - VDF_GRANT_NFDS);
	}
	memcpy(fds, got, sizeof(int) * VDF_GRANT_NFDS);
	*n = VDF_GRANT_NFDS;
	return 0;

out_close:
	vdf_fdmsg_close(got, ngot);
	return rc;
}

/* How many fds a runtime message of this type carries. */
static unsigned msg_nfds(enum vdf_grant_msg_type type)
{
	return type == VDF_MSG_CLIENT ? 1 : 0;
}

int vdf_grant_msg_send(int sock, const struct vdf_grant_msg *m)
{
	return vdf_grant_msg_send_fd(sock, m, -1);
}

int vdf_grant_msg_send_fd(int sock, const struct vdf_grant_msg *m, int fd)
{
	uint8_t buf[VDF_GRANT_MSG_MAX];
	int len;

	if ((fd >= 0 ? 1u : 0u) != msg_nfds(m->type))
		return -EINVAL;
	len = vdf_grant_msg_encode(m, buf, sizeof(buf));
	if (len < 0)
		return len;
	return vdf_fdmsg_send(sock, buf, (size_t)len, &fd, fd >= 0 ? 1 : 0);
}

int vdf_grant_msg_recv(int sock, struct vdf_grant_msg *m, int flags)
{
	int fd, rc;

	rc = vdf_grant_msg_recv_fd(sock, m, &fd, flags);
	if (!rc && fd >= 0) { /* a CLIENT: not for a caller that takes no fds */
		close(fd);
		return -EBADMSG;
	}
	return rc;
}

int vdf_grant_msg_recv_fd(int sock, struct vdf_grant_msg *m, int *fd, int flags)
{
	uint8_t buf[VDF_GRANT_MSG_MAX + 1];
	int fds[VDF_FDMSG_MAX_FDS];
	struct vdf_grant_msg out;
	unsigned nfds;
	int len, rc;

	*fd = -1;
	len = vdf_fdmsg_recv(sock, buf, sizeof(buf), fds, &nfds, flags);
	if (len < 0)
		return len;
	rc = vdf_grant_msg_decode(buf, (size_t)len, &out);
	if (!rc && nfds != msg_nfds(out.type))
		rc = -EBADMSG;
	if (rc) {
		vdf_fdmsg_close(fds, nfds);
		return rc;
	}
	if (nfds)
		*fd = fds[0];
	*m = out;
	return 0;
}

int vdf_vfio_from_grant(const struct vdf_grant *g, int *fds, unsigned n, struct vdf_dev **out)
{
	struct vdf_dev *dev;
	int rc;

	if (n != VDF_GRANT_NFDS || vdf_grant_validate(g)) {
		vdf_fdmsg_close(fds, n);
		return -EINVAL;
	}
	rc = vdf_vfio_from_fds(g->pci_addr, fds[VDF_GRANT_FD_CONTAINER], fds[VDF_GRANT_FD_GROUP],
			       fds[VDF_GRANT_FD_DEVICE], &dev);
	/* owned by the device now, or closed by vdf_vfio_from_fds on failure */
	fds[VDF_GRANT_FD_CONTAINER] = fds[VDF_GRANT_FD_GROUP] = fds[VDF_GRANT_FD_DEVICE] = -1;
	if (rc)
		return rc;
	vdf_dev_restrict(dev, &g->rights);
	*out = dev;
	return 0;
}

int vdf_grant_accept(int sock, struct vdf_grant *g, struct vdf_dev **out)
{
	int fds[VDF_GRANT_NFDS];
	unsigned n;
	int rc;

	rc = vdf_grant_recv(sock, g, fds, &n, VDF_GRANT_NFDS);
	if (rc)
		return rc;
	rc = vdf_vfio_from_grant(g, fds, n, out);
	if (rc)
		vdf_log(LOG_ERR, "grant", g->pci_addr, "building the device from its grant: %s",
			strerror(-rc));
	return rc;
}

void vdf_heartbeat_add(struct vdf_heartbeat *a, const struct vdf_heartbeat *b)
{
	a->irqs += b->irqs;
	a->rx_ios += b->rx_ios;
	a->rx_bytes += b->rx_bytes;
	a->tx_ios += b->tx_ios;
	a->tx_bytes += b->tx_bytes;
	a->errors += b->errors;
	a->drops += b->drops;
}
