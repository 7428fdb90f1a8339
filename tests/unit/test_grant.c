// SPDX-License-Identifier: MIT
/*
 * The grant protocol (lib/ipc/grant.c) and the rights it puts on a device
 * handle (lib/hal): encoding, strict decoding of malformed messages, fd
 * passing over a SOCK_SEQPACKET socketpair with memfds standing in for VFIO
 * fds, extra/missing/truncated fds, runtime messages, CLIENT messages with
 * their one session fd (and every wrong fd count), and -EACCES/-ENOSPC from
 * the HAL on a mock device restricted to a grant.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "vdf/dma.h"
#include "vdf/grant.h"
#include "vdf/hal.h"
#include "vdf/hw/pci.h"
#include "vdf/irq.h"
#include "vdf/log.h"
#include "vdf/mock.h"

/* Wire offsets (see the static asserts in lib/ipc/grant.c). */
#define HDR_SIZE      16
#define OFF_VERSION   4
#define OFF_TYPE      6
#define OFF_LENGTH    8
#define OFF_RESERVED  12
#define OFF_PCI	      (HDR_SIZE + 0)
#define OFF_DRIVER    (HDR_SIZE + 16)
#define OFF_BARS      (HDR_SIZE + 56)
#define OFF_IO_BARS   (HDR_SIZE + 60)
#define OFF_DMA	      (HDR_SIZE + 64)
#define OFF_IRQ_KINDS (HDR_SIZE + 72)
#define OFF_IRQ_MAX   (HDR_SIZE + 76)
#define OFF_FLAGS     (HDR_SIZE + 80)
#define OFF_HEARTBEAT (HDR_SIZE + 84)
#define OFF_NFDS      (HDR_SIZE + 88)
#define OFF_BODY_RSVD (HDR_SIZE + 92)
#define GRANT_LEN     (HDR_SIZE + 96)

static void quiet_log(int level, const char *component, const char *dev, const char *msg, void *ctx)
{
	(void)level;
	(void)component;
	(void)dev;
	(void)msg;
	(void)ctx;
}

static int group_setup(void **state)
{
	(void)state;
	vdf_log_set_sink(quiet_log, NULL);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	vdf_log_set_sink(NULL, NULL);
	return 0;
}

static void sample_grant(struct vdf_grant *g)
{
	memset(g, 0, sizeof(*g));
	strcpy(g->pci_addr, "0000:00:04.0");
	strcpy(g->driver, "nvme");
	g->instance = 7;
	g->generation = 3;
	g->rights.bars = BIT(0);
	g->rights.io_bars = BIT(2);
	g->rights.dma_window = 64ull << 20;
	g->rights.irq_kinds = BIT(VDF_IRQ_MSIX) | BIT(VDF_IRQ_REQ);
	g->rights.irq_max_vectors = 65;
	g->rights.flags = 0;
	g->heartbeat_ms = 1000;
}

static void assert_rights_equal(const struct vdf_rights *a, const struct vdf_rights *b)
{
	assert_int_equal(a->bars, b->bars);
	assert_int_equal(a->io_bars, b->io_bars);
	assert_int_equal(a->dma_window, b->dma_window);
	assert_int_equal(a->irq_kinds, b->irq_kinds);
	assert_int_equal(a->irq_max_vectors, b->irq_max_vectors);
	assert_int_equal(a->flags, b->flags);
}

static void encode_sample(uint8_t *buf)
{
	struct vdf_grant g;

	sample_grant(&g);
	assert_int_equal(vdf_grant_encode(&g, buf, VDF_GRANT_MSG_MAX), GRANT_LEN);
}

static void put32(uint8_t *buf, size_t off, uint32_t v)
{
	memcpy(buf + off, &v, 4); /* x86: little-endian like the wire */
}

static void put64(uint8_t *buf, size_t off, uint64_t v)
{
	memcpy(buf + off, &v, 8);
}

static void socketpair_seq(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
}

static int make_memfd(const char *name)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

static ino_t inode_of(int fd)
{
	struct stat st;

	assert_int_equal(fstat(fd, &st), 0);
	return st.st_ino;
}

/* A pipe whose write end is handed to the code under test: once every copy of
 * it is closed, the read end sees EOF. That is how a test sees that received
 * fds were closed and not leaked. */
struct probe {
	int rd, wr;
};

static void probe_open(struct probe *p)
{
	int fds[2];

	assert_int_equal(pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
	p->rd = fds[0];
	p->wr = fds[1];
}

/* Drop our copy of the write end, then: 1 if every other copy is gone. */
static int probe_all_closed(struct probe *p)
{
	char c;
	ssize_t n;

	if (p->wr >= 0)
		close(p->wr);
	p->wr = -1;
	n = read(p->rd, &c, 1);
	close(p->rd);
	p->rd = -1;
	return n == 0;
}

/* Send raw bytes with an arbitrary number of fds attached. */
static void send_raw(int sock, const void *buf, size_t len, const int *fds, unsigned n)
{
	char ctl[CMSG_SPACE(sizeof(int) * 32)];
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

	assert_true(n <= 32);
	if (n) {
		struct cmsghdr *c;

		memset(ctl, 0, sizeof(ctl));
		mh.msg_control = ctl;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * n);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	}
	assert_int_equal(sendmsg(sock, &mh, 0), (ssize_t)len);
}

/* ---- encode / decode ---------------------------------------------------- */

static void test_roundtrip(void **state)
{
	uint8_t buf[VDF_GRANT_MSG_MAX], again[VDF_GRANT_MSG_MAX];
	struct vdf_grant g, d;

	(void)state;
	sample_grant(&g);
	assert_int_equal(vdf_grant_encode(&g, buf, sizeof(buf)), GRANT_LEN);
	assert_int_equal(vdf_grant_decode(buf, GRANT_LEN, &d), 0);
	assert_string_equal(d.pci_addr, "0000:00:04.0");
	assert_string_equal(d.driver, "nvme");
	assert_int_equal(d.instance, 7);
	assert_int_equal(d.generation, 3);
	assert_int_equal(d.rights.bars, BIT(0));
	assert_int_equal(d.rights.io_bars, BIT(2));
	assert_int_equal(d.rights.dma_window, 64ull << 20);
	assert_int_equal(d.rights.irq_kinds, BIT(VDF_IRQ_MSIX) | BIT(VDF_IRQ_REQ));
	assert_int_equal(d.rights.irq_max_vectors, 65);
	assert_int_equal(d.rights.flags, 0);
	assert_int_equal(d.heartbeat_ms, 1000);
	/* The encoding is canonical: decode -> encode gives the same bytes. */
	assert_int_equal(vdf_grant_encode(&d, again, sizeof(again)), GRANT_LEN);
	assert_memory_equal(buf, again, GRANT_LEN);
	/* Fixed header: magic "VDFG", version, type GRANT, length. */
	assert_memory_equal(buf, "VDFG", 4);
	assert_int_equal(buf[OFF_VERSION], VDF_GRANT_VERSION);
	assert_int_equal(buf[OFF_TYPE], VDF_MSG_GRANT);
	assert_int_equal(buf[OFF_LENGTH], GRANT_LEN);
}

static void test_encode_rejects(void **state)
{
	uint8_t buf[VDF_GRANT_MSG_MAX];
	struct vdf_grant g;

	(void)state;
	sample_grant(&g);
	assert_int_equal(vdf_grant_encode(&g, buf, GRANT_LEN - 1), -ENOSPC);
	strcpy(g.driver, "Bad Name");
	assert_int_equal(vdf_grant_encode(&g, buf, sizeof(buf)), -EINVAL);
	sample_grant(&g);
	g.rights.dma_window = 4097;
	assert_int_equal(vdf_grant_validate(&g), -EINVAL);
	assert_int_equal(vdf_grant_encode(&g, buf, sizeof(buf)), -EINVAL);
}

static void test_decode_header(void **state)
{
	uint8_t buf[VDF_GRANT_MSG_MAX + 8];
	struct vdf_grant g;

	(void)state;
	encode_sample(buf);
	buf[0] ^= 0xff;
	assert_int_equal(vdf_grant_decode(buf, GRANT_LEN, &g), -EBADMSG);

	encode_sample(buf);
	buf[OFF_VERSION] = VDF_GRANT_VERSION + 1;
	assert_int_equal(vdf_grant_decode(buf, GRANT_LEN, &g), -EPROTONOSUPPORT);

	encode_sample(buf);
	put32(buf, OFF_LENGTH, GRANT_LEN + 4);
	assert_int_equal(vdf_grant_decode(buf, GRANT_LEN, &g), -EMSGSIZE);

	encode_sample(buf);
	put32(buf, OFF_RESERVED, 1);
	assert_int_equal(vdf_grant_decode(buf, GRANT_LEN, &g), -EBADMSG);

	/* Too short for a header, short body, trailing bytes. */
	encode_sample(buf);
	assert_int_equal(vdf_grant_decode(buf, 0, &g), -EMSGSIZE);
	assert_int_equal(vdf_grant_decode(buf, HDR_SIZE - 1, &g), -EMSGSIZE);
	assert_int_equal(vdf_grant_decode(buf, GRANT_LEN - 1, &g), -EMSGSIZE);
	assert_int_equal(vdf_grant_decode(buf, GRANT_LEN + 1, &g), -EMSGSIZE);

	/* A heartbeat is not a grant; an unknown type is nothing. */
	encode_sample(buf);
	buf[OFF_TYPE] = VDF_MSG_HEARTBEAT;
	assert_true(vdf_grant_decode(buf, GRANT_LEN, &g) < 0);
	buf[OFF_TYPE] = 99;
	assert_int_equal(vdf_grant_decode(buf, GRANT_LEN, &g), -EBADMSG);
}

static void test_decode_strings(void **state)
{
	uint8_t buf[VDF_GRANT_MSG_MAX];
	struct vdf_grant g;

	(void)state;
	/* Unterminated PCI address and driver name. */
	encode_sample(buf);
	memset(buf + OFF_PCI, 'a', 16);
	assert_int_equal(vdf_grant_decode(buf, GRANT_LEN, &g), -EBADMSG);
	encode_sample(buf);
	memset(buf + OFF_DRIVER, 'a', 32);
	assert_int_equal(vdf_grant_decode(buf, GRANT_LEN, &g), -EBADMSG);
	/* Bytes hidden after the terminator. */
	encode_sample(buf);
	buf[OFF_PCI + 14] = 'x';
	assert_int_equal(vdf_grant_decode(buf, GRANT_LEN, &g), -EBADMSG);
	encode_sample(buf);
	buf[OFF_DRIVER + 31] = 1;
	assert_int_equal(vdf_grant_decode(buf, GRANT_LEN, &g), -EBADMSG);
	/* Not an address: path characters, upper case, device 0x20, function 8. */
	static const char *const bad_addrs[] = {"../../../etc",	 "0000:00:04.0/", "0000:00:04",
						"0000:00:04.00", "0000:00:0G.0",  "0000:00:0A.0",
						"0000:00:20.0",	 "0000:00:04.8",  "0000-00:04.0"};
	for (size_t i = 0; i < sizeof(bad_addrs) / sizeof(bad_addrs[0]); i++) {
		encode_sample(buf);
		memset(buf + OFF_PCI, 0, 16);
		memcpy(buf + OFF_PCI, bad_addrs[i], strnlen(bad_addrs[i], 15));
		assert_int_equal(vdf_grant_decode(buf, GRANT_LEN, &g), -EBADMSG);
	}
	/* Driver names: empty, spaces, slashes. */
	static const char *const bad_names[] = {"", "a b", "../x", "NVMe", "x\n"};
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		encode_sample(buf);
		memset(buf + OFF_DRIVER, 0, 32);
		memcpy(buf + OFF_DRIVER, bad_names[i], strlen(bad_names[i]));
		assert_int_equal(vdf_grant_decode(buf, GRANT_LEN, &g), -EBADMSG);
	}
	/* Longest legal name, and the highest device/function. */
	encode_sample(buf);
	memset(buf + OFF_DRIVER, 'z', 31);
	memcpy(buf + OFF_PCI, "ffff:ff:1f.7", 12);
	assert_int_equal(vdf_grant_decode(buf, GRANT_LEN, &g), 0);
	assert_int_equal(strlen(g.driver), 31);
	assert_string_equal(g.pci_addr, "ffff:ff:1f.7");
}

static void test_decode_values(void **state)
{
	uint8_t buf[VDF_GRANT_MSG_MAX];
	struct vdf_grant g;
	const struct {
		size_t off;
		uint64_t val;
		int wide;
	} bad[] = {
	    {OFF_BARS, BIT(6), 0},
	    {OFF_IO_BARS, BIT(0), 0}, /* BAR0 both memory and I/O */
	    {OFF_IO_BARS, 0x80000000u, 0},
	    {OFF_DMA, 1ull << 40, 1},
	    {OFF_DMA, UINT64_MAX, 1},
	    {OFF_DMA, 4096 + 1, 1},
	    {OFF_IRQ_KINDS, BIT(VDF_IRQ_KIND_COUNT), 0},
	    {OFF_IRQ_MAX, VDF_IRQ_MAX_VECTORS + 1, 0},
	    {OFF_IRQ_MAX, UINT32_MAX, 0},
	    {OFF_FLAGS, BIT(1), 0},
	    {OFF_HEARTBEAT, 5, 0},
	    {OFF_HEARTBEAT, 1000000000u, 0},
	    {OFF_NFDS, 2, 0},
	    {OFF_NFDS, 300, 0},
	    {OFF_BODY_RSVD, 1, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		encode_sample(buf);
		if (bad[i].wide)
			put64(buf, bad[i].off, bad[i].val);
		else
			put32(buf, bad[i].off, (uint32_t)bad[i].val);
		assert_int_equal(vdf_grant_decode(buf, GRANT_LEN, &g), -EBADMSG);
	}
	/* Edges that are fine: no DMA, no heartbeat, the largest window. */
	encode_sample(buf);
	put64(buf, OFF_DMA, 0);
	put32(buf, OFF_HEARTBEAT, 0);
	assert_int_equal(vdf_grant_decode(buf, GRANT_LEN, &g), 0);
	put64(buf, OFF_DMA, VDF_GRANT_DMA_WINDOW_MAX);
	put32(buf, OFF_IRQ_MAX, VDF_IRQ_MAX_VECTORS);
	assert_int_equal(vdf_grant_decode(buf, GRANT_LEN, &g), 0);
	assert_int_equal(g.rights.dma_window, VDF_GRANT_DMA_WINDOW_MAX);
}

/* ---- over a socket ------------------------------------------------------ */

static void test_send_recv(void **state)
{
	int sv[2], mine[3], got[4] = {-1, -1, -1, -1};
	struct vdf_grant g, r;
	unsigned n = 0;

	(void)state;
	socketpair_seq(sv);
	mine[VDF_GRANT_FD_CONTAINER] = make_memfd("container");
	mine[VDF_GRANT_FD_GROUP] = make_memfd("group");
	mine[VDF_GRANT_FD_DEVICE] = make_memfd("device");
	sample_grant(&g);
	assert_int_equal(vdf_grant_send(sv[0], &g, mine, 3), 0);
	assert_int_equal(vdf_grant_recv(sv[1], &r, got, &n, 4), 0);
	assert_int_equal(n, VDF_GRANT_NFDS);
	assert_string_equal(r.pci_addr, g.pci_addr);
	assert_string_equal(r.driver, g.driver);
	assert_int_equal(r.instance, g.instance);
	assert_int_equal(r.generation, g.generation);
	assert_rights_equal(&r.rights, &g.rights);
	assert_int_equal(r.heartbeat_ms, g.heartbeat_ms);
	for (int i = 0; i < 3; i++) {
		/* Same files, in the fixed order, close-on-exec. */
		assert_true(got[i] >= 0 && got[i] != mine[i]);
		assert_int_equal(inode_of(got[i]), inode_of(mine[i]));
		assert_true(fcntl(got[i], F_GETFD) & FD_CLOEXEC);
		close(got[i]);
		close(mine[i]);
	}
	assert_int_equal(got[3], -1);
	/* Wrong fd counts are refused before anything is sent. */
	assert_int_equal(vdf_grant_send(sv[0], &g, mine, 2), -EINVAL);
	mine[1] = -1;
	assert_int_equal(vdf_grant_send(sv[0], &g, mine, 3), -EBADF);
	close(sv[0]);
	close(sv[1]);
}

static void test_recv_extra_fds_closed(void **state)
{
	uint8_t buf[VDF_GRANT_MSG_MAX];
	struct probe p1, p2;
	int sv[2], fds[5], got[3];
	struct vdf_grant r;
	unsigned n;

	(void)state;
	socketpair_seq(sv);
	encode_sample(buf);
	fds[0] = make_memfd("c");
	fds[1] = make_memfd("g");
	fds[2] = make_memfd("d");
	probe_open(&p1);
	probe_open(&p2);
	fds[3] = p1.wr;
	fds[4] = p2.wr;
	send_raw(sv[0], buf, GRANT_LEN, fds, 5);
	assert_int_equal(vdf_grant_recv(sv[1], &r, got, &n, 3), 0);
	assert_int_equal(n, 3);
	assert_true(probe_all_closed(&p1));
	assert_true(probe_all_closed(&p2));
	for (int i = 0; i < 3; i++) {
		close(got[i]);
		close(fds[i]);
	}
	close(sv[0]);
	close(sv[1]);
}

static void test_recv_missing_fds(void **state)
{
	uint8_t buf[VDF_GRANT_MSG_MAX];
	struct probe p1, p2;
	int sv[2], fds[2], got[3];
	struct vdf_grant r;
	unsigned n = 99;

	(void)state;
	socketpair_seq(sv);
	encode_sample(buf);
	probe_open(&p1);
	probe_open(&p2);
	fds[0] = p1.wr;
	fds[1] = p2.wr;
	send_raw(sv[0], buf, GRANT_LEN, fds, 2);
	assert_int_equal(vdf_grant_recv(sv[1], &r, got, &n, 3), -EBADMSG);
	assert_int_equal(n, 0);
	assert_true(probe_all_closed(&p1));
	assert_true(probe_all_closed(&p2));
	/* No fds at all. */
	send_raw(sv[0], buf, GRANT_LEN, NULL, 0);
	assert_int_equal(vdf_grant_recv(sv[1], &r, got, &n, 3), -EBADMSG);
	close(sv[0]);
	close(sv[1]);
}

static void test_recv_bad_message_closes_fds(void **state)
{
	uint8_t buf[VDF_GRANT_MSG_MAX];
	struct probe p[3];
	int sv[2], fds[3], got[3];
	struct vdf_grant r;
	unsigned n;

	(void)state;
	socketpair_seq(sv);
	encode_sample(buf);
	buf[OFF_VERSION] = 9;
	for (int i = 0; i < 3; i++) {
		probe_open(&p[i]);
		fds[i] = p[i].wr;
	}
	send_raw(sv[0], buf, GRANT_LEN, fds, 3);
	assert_int_equal(vdf_grant_recv(sv[1], &r, got, &n, 3), -EPROTONOSUPPORT);
	for (int i = 0; i < 3; i++)
		assert_true(probe_all_closed(&p[i]));
	close(sv[0]);
	close(sv[1]);
}

static void test_recv_truncated(void **state)
{
	uint8_t big[VDF_GRANT_MSG_MAX * 2];
	struct probe p[20];
	int sv[2], fds[20], got[3];
	struct vdf_grant r;
	unsigned n;

	(void)state;
	socketpair_seq(sv);
	/* Data longer than any message: MSG_TRUNC. */
	memset(big, 0, sizeof(big));
	encode_sample(big);
	probe_open(&p[0]);
	fds[0] = p[0].wr;
	send_raw(sv[0], big, sizeof(big), fds, 1);
	assert_int_equal(vdf_grant_recv(sv[1], &r, got, &n, 3), -EMSGSIZE);
	assert_true(probe_all_closed(&p[0]));
	/* More fds than the control buffer holds: MSG_CTRUNC. Those that did
	 * arrive are closed, the kernel drops the rest. */
	for (int i = 0; i < 20; i++) {
		probe_open(&p[i]);
		fds[i] = p[i].wr;
	}
	send_raw(sv[0], big, GRANT_LEN, fds, 20);
	assert_int_equal(vdf_grant_recv(sv[1], &r, got, &n, 3), -EMSGSIZE);
	for (int i = 0; i < 20; i++)
		assert_true(probe_all_closed(&p[i]));
	close(sv[0]);
	close(sv[1]);
}

static void test_recv_eof_and_space(void **state)
{
	int sv[2], got[3];
	struct vdf_grant r;
	unsigned n;

	(void)state;
	socketpair_seq(sv);
	assert_int_equal(vdf_grant_recv(sv[1], &r, got, &n, 2), -ENOSPC);
	close(sv[0]);
	assert_int_equal(vdf_grant_recv(sv[1], &r, got, &n, 3), -EPIPE);
	close(sv[1]);
}

/* ---- runtime messages --------------------------------------------------- */

static void test_runtime_messages(void **state)
{
	struct vdf_grant_msg m = {.type = VDF_MSG_HEARTBEAT}, r;
	uint8_t buf[VDF_GRANT_MSG_MAX];
	struct probe p;
	int sv[2], len;

	(void)state;
	socketpair_seq(sv);
	assert_int_equal(vdf_grant_msg_recv(sv[1], &r, MSG_DONTWAIT), -EAGAIN);

	m.u.hb = (struct vdf_heartbeat){.seq = 5,
					.cookie = 42,
					.irqs = 1000,
					.rx_ios = 77,
					.rx_bytes = 1ull << 40,
					.tx_ios = 3,
					.tx_bytes = 12288,
					.errors = 2,
					.drops = 9};
	assert_int_equal(vdf_grant_msg_send(sv[0], &m), 0);
	assert_int_equal(vdf_grant_msg_recv(sv[1], &r, 0), 0);
	assert_int_equal(r.type, VDF_MSG_HEARTBEAT);
	assert_memory_equal(&r.u.hb, &m.u.hb, sizeof(m.u.hb));

	m.type = VDF_MSG_PING;
	m.u.ping_cookie = 0x1122334455667788ull;
	assert_int_equal(vdf_grant_msg_send(sv[1], &m), 0);
	assert_int_equal(vdf_grant_msg_recv(sv[0], &r, 0), 0);
	assert_int_equal(r.type, VDF_MSG_PING);
	assert_int_equal(r.u.ping_cookie, 0x1122334455667788ull);

	m.type = VDF_MSG_STOP;
	m.u.stop_reason = VDF_STOP_REVOKED;
	assert_int_equal(vdf_grant_msg_send(sv[1], &m), 0);
	assert_int_equal(vdf_grant_msg_recv(sv[0], &r, 0), 0);
	assert_int_equal(r.type, VDF_MSG_STOP);
	assert_int_equal(r.u.stop_reason, VDF_STOP_REVOKED);

	/* Bad content: unknown stop reason, a GRANT, fds attached. */
	m.u.stop_reason = 7;
	assert_int_equal(vdf_grant_msg_encode(&m, buf, sizeof(buf)), -EINVAL);
	m.type = VDF_MSG_GRANT;
	assert_int_equal(vdf_grant_msg_encode(&m, buf, sizeof(buf)), -EINVAL);
	m.type = VDF_MSG_STOP;
	m.u.stop_reason = 0;
	len = vdf_grant_msg_encode(&m, buf, sizeof(buf));
	assert_int_equal(len, HDR_SIZE + 8);
	put32(buf, HDR_SIZE, 7);
	assert_int_equal(vdf_grant_msg_decode(buf, (size_t)len, &r), -EBADMSG);
	put32(buf, HDR_SIZE, 0);
	put32(buf, HDR_SIZE + 4, 1); /* reserved */
	assert_int_equal(vdf_grant_msg_decode(buf, (size_t)len, &r), -EBADMSG);
	encode_sample(buf);
	send_raw(sv[0], buf, GRANT_LEN, NULL, 0);
	assert_int_equal(vdf_grant_msg_recv(sv[1], &r, 0), -EBADMSG);
	len = vdf_grant_msg_encode(&m, buf, sizeof(buf));
	probe_open(&p);
	send_raw(sv[0], buf, (size_t)len, &p.wr, 1);
	assert_int_equal(vdf_grant_msg_recv(sv[1], &r, 0), -EBADMSG);
	assert_true(probe_all_closed(&p));
	assert_int_equal(vdf_grant_msg_encode(&m, buf, HDR_SIZE + 7), -ENOSPC);

	/* Peer gone: EPIPE both ways, and no SIGPIPE. */
	close(sv[0]);
	assert_int_equal(vdf_grant_msg_recv(sv[1], &r, 0), -EPIPE);
	assert_int_equal(vdf_grant_msg_send(sv[1], &m), -EPIPE);
	close(sv[1]);
}

static void test_check_messages(void **state)
{
	struct vdf_grant_msg m = {.type = VDF_MSG_CHECK}, r;
	uint8_t buf[VDF_GRANT_MSG_MAX];
	int len;

	(void)state;
	m.u.check = (struct vdf_check){.cookie = 9, .lba = 1ull << 33, .nblocks = 64};
	len = vdf_grant_msg_encode(&m, buf, sizeof(buf));
	assert_int_equal(len, HDR_SIZE + 32);
	assert_int_equal(vdf_grant_msg_decode(buf, (size_t)len, &r), 0);
	assert_int_equal(r.type, VDF_MSG_CHECK);
	assert_int_equal(r.u.check.cookie, 9);
	assert_int_equal(r.u.check.lba, 1ull << 33);
	assert_int_equal(r.u.check.nblocks, 64);
	/* Results carry a negative errno and a checksum. */
	m.type = VDF_MSG_CHECK_RESULT;
	m.u.check.status = -EIO;
	len = vdf_grant_msg_encode(&m, buf, sizeof(buf));
	assert_int_equal(vdf_grant_msg_decode(buf, (size_t)len, &r), 0);
	assert_int_equal(r.u.check.status, -EIO);
	m.u.check.status = 0;
	m.u.check.checksum = 0x1234;
	len = vdf_grant_msg_encode(&m, buf, sizeof(buf));
	assert_int_equal(vdf_grant_msg_decode(buf, (size_t)len, &r), 0);
	assert_int_equal(r.u.check.checksum, 0x1234);
	/* Out of range: no blocks, too many, positive status, a request with a result. */
	m.u.check.nblocks = 0;
	assert_int_equal(vdf_grant_msg_encode(&m, buf, sizeof(buf)), -EINVAL);
	m.u.check.nblocks = VDF_GRANT_CHECK_MAX_BLOCKS + 1;
	assert_int_equal(vdf_grant_msg_encode(&m, buf, sizeof(buf)), -EINVAL);
	m.u.check.nblocks = 1;
	m.u.check.status = 5;
	assert_int_equal(vdf_grant_msg_encode(&m, buf, sizeof(buf)), -EINVAL);
	m.type = VDF_MSG_CHECK;
	m.u.check.status = 0;
	assert_int_equal(vdf_grant_msg_encode(&m, buf, sizeof(buf)), -EINVAL);
	m.u.check.checksum = 0;
	len = vdf_grant_msg_encode(&m, buf, sizeof(buf));
	put32(buf, HDR_SIZE + 16, 0); /* nblocks 0 on the wire */
	assert_int_equal(vdf_grant_msg_decode(buf, (size_t)len, &r), -EBADMSG);
}

/* ---- CLIENT: a brokered block session, with exactly one fd -------------- */

#define CLIENT_LEN (HDR_SIZE + 56)

static void sample_client(struct vdf_grant_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->type = VDF_MSG_CLIENT;
	m->u.client = (struct vdf_client_grant){
	    .client_id = 0x0102030405060708ull,
	    .uid = 1000,
	    .flags = VDF_CLIENT_F_READ_ONLY,
	    .unit = 3,
	    .ops_per_sec = 5000,
	    .ops_burst = 64,
	    .bytes_per_sec = 100ull << 20,
	    .bytes_burst = 4ull << 20,
	};
}

static void test_client_codec(void **state)
{
	struct vdf_grant_msg m, r;
	uint8_t buf[VDF_GRANT_MSG_MAX], again[VDF_GRANT_MSG_MAX];
	int len;

	(void)state;
	sample_client(&m);
	len = vdf_grant_msg_encode(&m, buf, sizeof(buf));
	assert_int_equal(len, CLIENT_LEN);
	assert_int_equal(buf[OFF_TYPE], VDF_MSG_CLIENT);
	assert_int_equal(vdf_grant_msg_decode(buf, (size_t)len, &r), 0);
	assert_int_equal(r.type, VDF_MSG_CLIENT);
	assert_memory_equal(&r.u.client, &m.u.client, sizeof(m.u.client));
	/* canonical: encoding the decoded message gives the same bytes */
	assert_int_equal(vdf_grant_msg_encode(&r, again, sizeof(again)), len);
	assert_memory_equal(again, buf, (size_t)len);
	/* wire layout: client_id, uid, flags, unit, reserved, then the limits */
	{
		uint64_t id, bb;
		uint32_t unit;

		memcpy(&id, buf + HDR_SIZE, 8);
		memcpy(&unit, buf + HDR_SIZE + 16, 4);
		memcpy(&bb, buf + HDR_SIZE + 48, 8);
		assert_int_equal(id, 0x0102030405060708ull);
		assert_int_equal(unit, 3);
		assert_int_equal(bb, 4ull << 20);
	}
	/* unlimited: all limits 0 */
	m.u.client.ops_per_sec = m.u.client.ops_burst = 0;
	m.u.client.bytes_per_sec = m.u.client.bytes_burst = 0;
	m.u.client.flags = 0;
	m.u.client.unit = VDF_CLIENT_UNIT_MAX;
	len = vdf_grant_msg_encode(&m, buf, sizeof(buf));
	assert_int_equal(vdf_grant_msg_decode(buf, (size_t)len, &r), 0);
	assert_memory_equal(&r.u.client, &m.u.client, sizeof(m.u.client));
	assert_int_equal(vdf_grant_msg_encode(&m, buf, CLIENT_LEN - 1), -ENOSPC);
}

static void test_client_strict(void **state)
{
	struct vdf_grant_msg m, r;
	uint8_t buf[VDF_GRANT_MSG_MAX];
	int len;

	(void)state;
	/* The encoder refuses what the decoder would. */
	sample_client(&m);
	m.u.client.flags = 2;
	assert_int_equal(vdf_grant_msg_encode(&m, buf, sizeof(buf)), -EINVAL);
	sample_client(&m);
	m.u.client.unit = VDF_CLIENT_UNIT_MAX + 1;
	assert_int_equal(vdf_grant_msg_encode(&m, buf, sizeof(buf)), -EINVAL);
	sample_client(&m);
	m.u.client.ops_burst = 0;
	assert_int_equal(vdf_grant_msg_encode(&m, buf, sizeof(buf)), -EINVAL);
	sample_client(&m);
	m.u.client.bytes_burst = 0;
	assert_int_equal(vdf_grant_msg_encode(&m, buf, sizeof(buf)), -EINVAL);
	sample_client(&m);
	m.u.client.ops_per_sec = 0; /* a burst without a rate */
	assert_int_equal(vdf_grant_msg_encode(&m, buf, sizeof(buf)), -EINVAL);
	sample_client(&m);
	m.u.client.bytes_burst = UINT64_MAX / 1000000000ull + 1; /* beyond a token bucket */
	assert_int_equal(vdf_grant_msg_encode(&m, buf, sizeof(buf)), -EINVAL);

	/* The decoder, byte by byte. */
	sample_client(&m);
	len = vdf_grant_msg_encode(&m, buf, sizeof(buf));
	assert_int_equal(len, CLIENT_LEN);
	put32(buf, HDR_SIZE + 12, 0x80000000u); /* unknown flag */
	assert_int_equal(vdf_grant_msg_decode(buf, (size_t)len, &r), -EBADMSG);
	put32(buf, HDR_SIZE + 12, VDF_CLIENT_F_READ_ONLY);
	put32(buf, HDR_SIZE + 16, VDF_CLIENT_UNIT_MAX + 1);
	assert_int_equal(vdf_grant_msg_decode(buf, (size_t)len, &r), -EBADMSG);
	put32(buf, HDR_SIZE + 16, VDF_CLIENT_UNIT_MAX);
	assert_int_equal(vdf_grant_msg_decode(buf, (size_t)len, &r), 0);
	put32(buf, HDR_SIZE + 20, 1); /* reserved */
	assert_int_equal(vdf_grant_msg_decode(buf, (size_t)len, &r), -EBADMSG);
	put32(buf, HDR_SIZE + 20, 0);
	put64(buf, HDR_SIZE + 32, 0); /* ops rate without a burst */
	assert_int_equal(vdf_grant_msg_decode(buf, (size_t)len, &r), -EBADMSG);
	put64(buf, HDR_SIZE + 32, 64);
	put64(buf, HDR_SIZE + 48, 0); /* bytes rate without a burst */
	assert_int_equal(vdf_grant_msg_decode(buf, (size_t)len, &r), -EBADMSG);
	put64(buf, HDR_SIZE + 40, 0); /* no rate either: unlimited, fine */
	assert_int_equal(vdf_grant_msg_decode(buf, (size_t)len, &r), 0);
	assert_int_equal(r.u.client.bytes_per_sec, 0);
	/* Lengths: one byte short or long, and a length field that lies. */
	len = vdf_grant_msg_encode(&m, buf, sizeof(buf));
	assert_int_equal(vdf_grant_msg_decode(buf, (size_t)len - 1, &r), -EMSGSIZE);
	assert_int_equal(vdf_grant_msg_decode(buf, (size_t)len + 1, &r), -EMSGSIZE);
	put32(buf, OFF_LENGTH, CLIENT_LEN + 8);
	assert_int_equal(vdf_grant_msg_decode(buf, (size_t)len, &r), -EMSGSIZE);
}

/* A CLIENT carries its session fd across a real socket; the fd works. */
static void test_client_fd_roundtrip(void **state)
{
	struct vdf_grant_msg m, r;
	int sv[2], pair[2], got = 99;
	char c = 0;

	(void)state;
	socketpair_seq(sv);
	socketpair_seq(pair); /* pair[1] travels, as the driver's end of a session */
	sample_client(&m);
	assert_int_equal(vdf_grant_msg_recv_fd(sv[1], &r, &got, MSG_DONTWAIT), -EAGAIN);
	assert_int_equal(got, -1);
	assert_int_equal(vdf_grant_msg_send_fd(sv[0], &m, pair[1]), 0);
	close(pair[1]); /* the sender's copy stays the sender's */
	assert_int_equal(vdf_grant_msg_recv_fd(sv[1], &r, &got, 0), 0);
	assert_true(got >= 0);
	assert_int_equal(r.type, VDF_MSG_CLIENT);
	assert_memory_equal(&r.u.client, &m.u.client, sizeof(m.u.client));
	assert_true(fcntl(got, F_GETFD) & FD_CLOEXEC);
	/* the received end talks to the other end of the pair */
	assert_int_equal(write(got, "x", 1), 1);
	assert_int_equal(read(pair[0], &c, 1), 1);
	assert_int_equal(c, 'x');
	close(got);
	assert_int_equal(read(pair[0], &c, 1), 0); /* and nobody else holds it */
	close(pair[0]);

	/* Other messages travel without fds through the same calls. */
	m.type = VDF_MSG_PING;
	m.u.ping_cookie = 7;
	assert_int_equal(vdf_grant_msg_send_fd(sv[0], &m, -1), 0);
	assert_int_equal(vdf_grant_msg_recv_fd(sv[1], &r, &got, 0), 0);
	assert_int_equal(r.type, VDF_MSG_PING);
	assert_int_equal(got, -1);

	/* The sender refuses a CLIENT without an fd, and an fd on anything else. */
	sample_client(&m);
	assert_int_equal(vdf_grant_msg_send_fd(sv[0], &m, -1), -EINVAL);
	assert_int_equal(vdf_grant_msg_send(sv[0], &m), -EINVAL);
	m.type = VDF_MSG_PING;
	assert_int_equal(vdf_grant_msg_send_fd(sv[0], &m, sv[0]), -EINVAL);
	assert_int_equal(vdf_grant_msg_recv_fd(sv[1], &r, &got, MSG_DONTWAIT), -EAGAIN);
	close(sv[0]);
	assert_int_equal(vdf_grant_msg_recv_fd(sv[1], &r, &got, 0), -EPIPE);
	close(sv[1]);
}

/* Received fd counts that do not match the type: refused, every fd closed. */
static void test_client_fd_mismatch(void **state)
{
	struct vdf_grant_msg m, r;
	uint8_t buf[VDF_GRANT_MSG_MAX];
	struct probe p[2];
	int sv[2], fds[2], got, len;

	(void)state;
	socketpair_seq(sv);
	sample_client(&m);
	len = vdf_grant_msg_encode(&m, buf, sizeof(buf));

	/* CLIENT without its fd */
	send_raw(sv[0], buf, (size_t)len, NULL, 0);
	got = 99;
	assert_int_equal(vdf_grant_msg_recv_fd(sv[1], &r, &got, 0), -EBADMSG);
	assert_int_equal(got, -1);

	/* CLIENT with two fds */
	probe_open(&p[0]);
	probe_open(&p[1]);
	fds[0] = p[0].wr;
	fds[1] = p[1].wr;
	send_raw(sv[0], buf, (size_t)len, fds, 2);
	assert_int_equal(vdf_grant_msg_recv_fd(sv[1], &r, &got, 0), -EBADMSG);
	assert_int_equal(got, -1);
	assert_true(probe_all_closed(&p[0]));
	assert_true(probe_all_closed(&p[1]));

	/* CLIENT with its fd, but a bad body: the fd is closed too */
	put32(buf, HDR_SIZE + 12, 0x10);
	probe_open(&p[0]);
	send_raw(sv[0], buf, (size_t)len, &p[0].wr, 1);
	assert_int_equal(vdf_grant_msg_recv_fd(sv[1], &r, &got, 0), -EBADMSG);
	assert_int_equal(got, -1);
	assert_true(probe_all_closed(&p[0]));

	/* An fd on a message that carries none (a heartbeat from a driver) */
	m.type = VDF_MSG_HEARTBEAT;
	memset(&m.u, 0, sizeof(m.u));
	len = vdf_grant_msg_encode(&m, buf, sizeof(buf));
	probe_open(&p[0]);
	send_raw(sv[0], buf, (size_t)len, &p[0].wr, 1);
	assert_int_equal(vdf_grant_msg_recv_fd(sv[1], &r, &got, 0), -EBADMSG);
	assert_int_equal(got, -1);
	assert_true(probe_all_closed(&p[0]));

	/* A good CLIENT to the fd-less receive: refused, its fd closed. */
	sample_client(&m);
	probe_open(&p[0]);
	assert_int_equal(vdf_grant_msg_send_fd(sv[0], &m, p[0].wr), 0);
	assert_int_equal(vdf_grant_msg_recv(sv[1], &r, 0), -EBADMSG);
	assert_true(probe_all_closed(&p[0]));

	/* After all that the socket still works. */
	m.type = VDF_MSG_PING;
	m.u.ping_cookie = 1;
	assert_int_equal(vdf_grant_msg_send(sv[0], &m), 0);
	assert_int_equal(vdf_grant_msg_recv_fd(sv[1], &r, &got, 0), 0);
	assert_int_equal(r.u.ping_cookie, 1);
	close(sv[0]);
	close(sv[1]);
}

static void test_checksum(void **state)
{
	uint64_t h;

	(void)state;
	/* FNV-1a 64 reference values. */
	assert_int_equal(vdf_grant_checksum(VDF_GRANT_CHECKSUM_INIT, "", 0), 0xcbf29ce484222325ull);
	assert_int_equal(vdf_grant_checksum(VDF_GRANT_CHECKSUM_INIT, "a", 1),
			 0xaf63dc4c8601ec8cull);
	assert_int_equal(vdf_grant_checksum(VDF_GRANT_CHECKSUM_INIT, "foobar", 6),
			 0x85944171f73967e8ull);
	/* In pieces: the same. */
	h = vdf_grant_checksum(VDF_GRANT_CHECKSUM_INIT, "foo", 3);
	assert_int_equal(vdf_grant_checksum(h, "bar", 3), 0x85944171f73967e8ull);
}

/* ---- building a device from a grant ------------------------------------- */

static void test_from_grant_bad_fds(void **state)
{
	struct vdf_dev *dev = NULL;
	struct probe p[3];
	struct vdf_grant g;
	int fds[3];

	(void)state;
	sample_grant(&g);
	/* Wrong count: everything handed over is closed. */
	for (int i = 0; i < 2; i++) {
		probe_open(&p[i]);
		fds[i] = dup(p[i].wr);
	}
	assert_int_equal(vdf_vfio_from_grant(&g, fds, 2, &dev), -EINVAL);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(fds[i], -1);
		assert_true(probe_all_closed(&p[i]));
	}
	/* Not VFIO fds: the device cannot be built, and the fds are closed. */
	for (int i = 0; i < 3; i++) {
		probe_open(&p[i]);
		fds[i] = dup(p[i].wr);
	}
	assert_true(vdf_vfio_from_grant(&g, fds, 3, &dev) < 0);
	assert_null(dev);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(fds[i], -1);
		assert_true(probe_all_closed(&p[i]));
	}
}

/* ---- rights in the HAL -------------------------------------------------- */

#define RIGHTS_BAR0_SIZE 0x4000u
#define RIGHTS_IO_BAR	 2
#define RIGHTS_CMB_BAR	 4

static const struct vdf_mock_config rights_config = {
    .id =
	{.vendor = 0x1b36, .device = 0x0010, .class_code = 0x01, .subclass = 0x08, .prog_if = 0x02},
    .bar_size = {[0] = RIGHTS_BAR0_SIZE, [RIGHTS_IO_BAR] = 0x20, [RIGHTS_CMB_BAR] = 0x1000},
    .bar_is_io = {[RIGHTS_IO_BAR] = 1},
    .irq_count = {[VDF_IRQ_INTX] = 1,
		  [VDF_IRQ_MSI] = 1,
		  [VDF_IRQ_MSIX] = 8,
		  [VDF_IRQ_ERR] = 1,
		  [VDF_IRQ_REQ] = 1},
    .has_reset = 1,
};

static struct vdf_dev *restricted_dev(struct vdf_mock **mp, const struct vdf_rights *r)
{
	struct vdf_mock *m;

	assert_int_equal(vdf_mock_create(&rights_config, &m), 0);
	if (r)
		vdf_dev_restrict(vdf_mock_dev(m), r);
	*mp = m;
	return vdf_mock_dev(m);
}

static const struct vdf_rights nvme_like = {
    .bars = BIT(0),
    .io_bars = 0,
    .dma_window = 3 * 4096,
    .irq_kinds = BIT(VDF_IRQ_MSIX) | BIT(VDF_IRQ_REQ),
    .irq_max_vectors = 4,
    .flags = 0,
};

static void test_rights_standalone(void **state)
{
	struct vdf_rights r, all;
	struct vdf_mock *m;
	struct vdf_dev *dev = restricted_dev(&m, NULL);

	(void)state;
	vdf_dev_rights(dev, &r);
	vdf_rights_all(&all);
	assert_rights_equal(&r, &all);
	/* Restricting to everything changes nothing; rights never grow back. */
	vdf_dev_restrict(dev, &all);
	vdf_dev_rights(dev, &r);
	assert_rights_equal(&r, &all);
	vdf_dev_restrict(dev, &nvme_like);
	vdf_dev_restrict(dev, &all);
	vdf_dev_rights(dev, &r);
	assert_rights_equal(&r, &nvme_like);
	vdf_dev_close(dev);
}

static void test_rights_bars(void **state)
{
	struct vdf_mock *m;
	struct vdf_dev *dev = restricted_dev(&m, &nvme_like);
	struct vdf_region_info info;
	struct vdf_mmio mmio;
	uint32_t v = 0;

	(void)state;
	assert_int_equal(vdf_bar_map(dev, 0, &mmio), 0);
	assert_int_equal(vdf_bar_read(dev, 0, 0, &v, 4), 0);
	assert_int_equal(vdf_bar_map(dev, RIGHTS_CMB_BAR, &mmio), -EACCES);
	assert_int_equal(vdf_bar_read(dev, RIGHTS_CMB_BAR, 0, &v, 4), -EACCES);
	assert_int_equal(vdf_bar_write(dev, RIGHTS_IO_BAR, 0, &v, 4), -EACCES);
	assert_int_equal(vdf_bar_read(dev, RIGHTS_IO_BAR, 0, &v, 4), -EACCES);
	/* Looking is allowed: BAR info says what exists. */
	assert_int_equal(vdf_bar_info(dev, RIGHTS_CMB_BAR, &info), 0);
	assert_int_equal(info.size, 0x1000);
	vdf_dev_close(dev);

	/* I/O BARs granted as such can be accessed, not mapped. */
	struct vdf_rights io = nvme_like;
	io.io_bars = BIT(RIGHTS_IO_BAR);
	dev = restricted_dev(&m, &io);
	assert_int_equal(vdf_bar_write(dev, RIGHTS_IO_BAR, 0, &v, 4), 0);
	assert_int_equal(vdf_bar_map(dev, RIGHTS_IO_BAR, &mmio), -EACCES);
	vdf_dev_close(dev);
}

static void test_rights_dma_window(void **state)
{
	struct vdf_dma_buf *a = NULL, *b = NULL, *c = NULL;
	struct vdf_mock *m;
	struct vdf_dev *dev = restricted_dev(&m, &nvme_like);
	static uint8_t page[4096] __attribute__((aligned(4096)));

	(void)state;
	assert_int_equal(vdf_dma_alloc(dev, 4 * 4096, VDF_DMA_BIDIRECTIONAL, &a), -ENOSPC);
	assert_int_equal(vdf_dma_alloc(dev, 2 * 4096, VDF_DMA_BIDIRECTIONAL, &a), 0);
	assert_int_equal(vdf_dma_alloc(dev, 4096, VDF_DMA_BIDIRECTIONAL, &b), 0);
	assert_int_equal(vdf_dma_alloc(dev, 1, VDF_DMA_BIDIRECTIONAL, &c), -ENOSPC);
	assert_int_equal(vdf_dma_map(dev, page, sizeof(page), VDF_DMA_TO_DEVICE, &c), -ENOSPC);
	assert_int_equal(vdf_dma_mapped_bytes(dev), 3 * 4096);
	/* Freeing gives the window back. */
	vdf_dma_free(b);
	assert_int_equal(vdf_dma_map(dev, page, sizeof(page), VDF_DMA_TO_DEVICE, &c), 0);
	vdf_dma_free(c);
	vdf_dma_free(a);
	/* Narrowing below what is mapped: nothing more until it is freed. */
	assert_int_equal(vdf_dma_alloc(dev, 3 * 4096, VDF_DMA_BIDIRECTIONAL, &a), 0);
	struct vdf_rights small = nvme_like;
	small.dma_window = 4096;
	vdf_dev_restrict(dev, &small);
	assert_int_equal(vdf_dma_alloc(dev, 4096, VDF_DMA_BIDIRECTIONAL, &b), -ENOSPC);
	vdf_dma_free(a);
	assert_int_equal(vdf_dma_alloc(dev, 4096, VDF_DMA_BIDIRECTIONAL, &b), 0);
	vdf_dma_free(b);
	vdf_dev_close(dev);
}

static void test_rights_irqs(void **state)
{
	struct vdf_mock *m;
	struct vdf_dev *dev = restricted_dev(&m, &nvme_like);

	(void)state;
	assert_int_equal(vdf_irq_enable(dev, VDF_IRQ_MSIX, 5), -EACCES);
	assert_int_equal(vdf_irq_enable(dev, VDF_IRQ_MSIX, 4), 0);
	assert_int_equal(vdf_irq_enabled_count(dev, VDF_IRQ_MSIX), 4);
	/* A refused kind leaves the enabled one alone. */
	assert_int_equal(vdf_irq_enable(dev, VDF_IRQ_INTX, 1), -EACCES);
	assert_int_equal(vdf_irq_enable(dev, VDF_IRQ_MSI, 1), -EACCES);
	assert_int_equal(vdf_irq_enabled_count(dev, VDF_IRQ_MSIX), 4);
	assert_int_equal(vdf_irq_enable(dev, VDF_IRQ_REQ, 1), 0);
	assert_int_equal(vdf_irq_enable(dev, VDF_IRQ_ERR, 1), -EACCES);
	vdf_dev_close(dev);
}

static void test_rights_config(void **state)
{
	struct vdf_mock *m;
	struct vdf_dev *dev = restricted_dev(&m, &nvme_like);
	uint16_t cmd;

	(void)state;
	/* Bus mastering (and memory decoding) may be switched. */
	assert_int_equal(vdf_dev_set_bus_master(dev, true), 0);
	assert_int_equal(vdf_cfg_read16(dev, PCI_COMMAND, &cmd), 0);
	assert_true(cmd & PCI_COMMAND_MASTER);
	assert_int_equal(vdf_dev_set_bus_master(dev, false), 0);
	/* Nothing else: other COMMAND bits, other registers, wider writes. */
	assert_int_equal(vdf_cfg_write16(dev, PCI_COMMAND, cmd | PCI_COMMAND_INTX_DISABLE),
			 -EACCES);
	assert_int_equal(vdf_cfg_write16(dev, PCI_COMMAND, cmd | PCI_COMMAND_IO), -EACCES);
	assert_int_equal(vdf_cfg_write32(dev, PCI_COMMAND, cmd), -EACCES);
	assert_int_equal(vdf_cfg_write32(dev, PCI_BAR0, 0xffffffffu), -EACCES);
	assert_int_equal(vdf_cfg_write16(dev, 0x400, 1), -EACCES);
	/* Reading is fine. */
	assert_int_equal(vdf_cfg_read16(dev, PCI_VENDOR_ID, &cmd), 0);
	assert_int_equal(cmd, 0x1b36);
	vdf_dev_close(dev);

	/* No DMA window: no bus mastering either. */
	struct vdf_rights nodma = nvme_like;
	nodma.dma_window = 0;
	dev = restricted_dev(&m, &nodma);
	assert_int_equal(vdf_dev_set_bus_master(dev, true), -EACCES);
	vdf_dev_close(dev);

	/* With the flag, any write. */
	struct vdf_rights cfg = nvme_like;
	cfg.flags = VDF_RIGHT_CFG_WRITE;
	dev = restricted_dev(&m, &cfg);
	assert_int_equal(vdf_cfg_write16(dev, 0x400, 1), 0);
	vdf_dev_close(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip),
	    cmocka_unit_test(test_encode_rejects),
	    cmocka_unit_test(test_decode_header),
	    cmocka_unit_test(test_decode_strings),
	    cmocka_unit_test(test_decode_values),
	    cmocka_unit_test(test_send_recv),
	    cmocka_unit_test(test_recv_extra_fds_closed),
	    cmocka_unit_test(test_recv_missing_fds),
	    cmocka_unit_test(test_recv_bad_message_closes_fds),
	    cmocka_unit_test(test_recv_truncated),
	    cmocka_unit_test(test_recv_eof_and_space),
	    cmocka_unit_test(test_runtime_messages),
	    cmocka_unit_test(test_check_messages),
	    cmocka_unit_test(test_client_codec),
	    cmocka_unit_test(test_client_strict),
	    cmocka_unit_test(test_client_fd_roundtrip),
	    cmocka_unit_test(test_client_fd_mismatch),
	    cmocka_unit_test(test_checksum),
	    cmocka_unit_test(test_from_grant_bad_fds),
	    cmocka_unit_test(test_rights_standalone),
	    cmocka_unit_test(test_rights_bars),
	    cmocka_unit_test(test_rights_dma_window),
	    cmocka_unit_test(test_rights_irqs),
	    cmocka_unit_test(test_rights_config),
	};

	return cmocka_run_group_tests_name("grant", tests, group_setup, group_teardown);
}
