// SPDX-License-Identifier: MIT
/*
 * Net session setup (lib/ipc/netsession.c): the standard layout, the HELLO
 * geometry rules (overlaps, alignment, overflowing offsets, frame counts),
 * MAC and flag rules, strict decoding (magic, version, type, length,
 * reserved, padding, frame size), WELCOME rules, the descriptor checks for
 * all four rings, and the messages over a SEQPACKET socketpair with real fds.
 */
#include <endian.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "vdf/fdmsg.h"
#include "vdf/netsession.h"
#include "vdf/ring.h"

#define HDR_SIZE	16
#define HELLO_SIZE	(HDR_SIZE + 88)
#define WELCOME_SIZE	(HDR_SIZE + 32)
#define OFF_FRAME_SIZE	(HDR_SIZE + 4)
#define OFF_HELLO_PAD	(HDR_SIZE + 86)
#define OFF_WELCOME_PAD (HDR_SIZE + 30)

static struct vdf_nets_hello std_hello(void)
{
	struct vdf_nets_hello h;

	assert_int_equal(vdf_nets_layout(256, 128, 64, &h), 0);
	return h;
}

static struct vdf_nets_welcome std_welcome(void)
{
	struct vdf_nets_welcome w = {
	    .generation = 7,
	    .mac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56},
	    .mtu = 1500,
	    .max_frame = 1514,
	    .speed_mbps = 1000,
	    .flags = VDF_NETS_F_LINK_UP | VDF_NETS_F_FULL_DUPLEX,
	};
	return w;
}

static void test_layout(void **state)
{
	struct vdf_nets_hello h;

	(void)state;
	h = std_hello();
	assert_int_equal(vdf_nets_hello_validate(&h), 0);
	assert_int_equal(h.frames_off % VDF_NETS_PAGE, 0);
	assert_int_equal(h.region_size, h.frames_off + 192ull * VDF_NETS_FRAME_SIZE);
	for (unsigned i = 0; i < VDF_NETS_NRINGS; i++)
		assert_int_equal(h.ring_cap[i], 256);
	assert_int_equal(vdf_nets_layout(3, 128, 64, &h), -EINVAL);
	assert_int_equal(vdf_nets_layout(8192, 128, 64, &h), -EINVAL);
	assert_int_equal(vdf_nets_layout(256, 127, 64, &h), -EINVAL);
	assert_int_equal(vdf_nets_layout(256, 0, 64, &h), -EINVAL);
	assert_int_equal(vdf_nets_layout(256, 128, 8192, &h), -EINVAL);
	assert_int_equal(vdf_nets_layout(1, 2, 2, &h), 0);
	assert_int_equal(vdf_nets_layout(4096, 4096, 4096, &h), 0);
}

static void test_hello_rules(void **state)
{
	struct vdf_nets_hello h, b;

	(void)state;
	h = std_hello();
	b = h;
	b.flags = 1u << 7;
	assert_int_equal(vdf_nets_hello_validate(&b), -EINVAL);
	b = h;
	b.mac[0] = 2; /* a MAC without F_SET_MAC */
	assert_int_equal(vdf_nets_hello_validate(&b), -EINVAL);
	b.flags = VDF_NETS_HELLO_F_SET_MAC;
	assert_int_equal(vdf_nets_hello_validate(&b), 0);
	b.mac[0] = 1; /* multicast */
	assert_int_equal(vdf_nets_hello_validate(&b), -EINVAL);
	b = h;
	b.flags = VDF_NETS_HELLO_F_SET_MAC; /* all zeros */
	assert_int_equal(vdf_nets_hello_validate(&b), -EINVAL);
	b = h;
	b.region_size += 1;
	assert_int_equal(vdf_nets_hello_validate(&b), -EINVAL);
	b = h;
	b.region_size -= VDF_NETS_PAGE; /* frames no longer fit */
	assert_int_equal(vdf_nets_hello_validate(&b), -EINVAL);
	b = h;
	b.region_size = VDF_NETS_REGION_MAX + VDF_NETS_PAGE;
	assert_int_equal(vdf_nets_hello_validate(&b), -EINVAL);
	b = h;
	b.ring_off[VDF_NETS_TX] = b.ring_off[VDF_NETS_RX]; /* overlap */
	assert_int_equal(vdf_nets_hello_validate(&b), -EINVAL);
	b = h;
	b.ring_off[VDF_NETS_COMP] = b.frames_off; /* in the frame area */
	assert_int_equal(vdf_nets_hello_validate(&b), -EINVAL);
	b = h;
	b.ring_off[VDF_NETS_FILL] += 8; /* misaligned */
	assert_int_equal(vdf_nets_hello_validate(&b), -EINVAL);
	b = h;
	b.ring_off[VDF_NETS_FILL] = UINT64_MAX - 63; /* overflow */
	assert_int_equal(vdf_nets_hello_validate(&b), -EINVAL);
	b = h;
	b.frames_off = UINT64_MAX & ~(uint64_t)(VDF_NETS_PAGE - 1);
	assert_int_equal(vdf_nets_hello_validate(&b), -EINVAL);
	b = h;
	b.frames_off += 2048; /* not page-aligned */
	assert_int_equal(vdf_nets_hello_validate(&b), -EINVAL);
	b = h;
	b.ring_cap[VDF_NETS_RX] = 0;
	assert_int_equal(vdf_nets_hello_validate(&b), -EINVAL);
	b = h;
	b.ring_cap[VDF_NETS_RX] = 48;
	assert_int_equal(vdf_nets_hello_validate(&b), -EINVAL);
	b = h;
	b.tx_frames = 63;
	assert_int_equal(vdf_nets_hello_validate(&b), -EINVAL);
	b = h;
	b.rx_frames = 0;
	assert_int_equal(vdf_nets_hello_validate(&b), -EINVAL);
}

static void test_hello_codec(void **state)
{
	uint8_t buf[VDF_NETS_MSG_MAX], m[VDF_NETS_MSG_MAX];
	struct vdf_nets_hello h, out;
	int len;

	(void)state;
	h = std_hello();
	h.flags = VDF_NETS_HELLO_F_PROMISC | VDF_NETS_HELLO_F_SET_MAC;
	memcpy(h.mac, "\x02\x00\x00\x00\x00\x09", 6);
	len = vdf_nets_encode_hello(&h, buf, sizeof(buf));
	assert_int_equal(len, HELLO_SIZE);
	assert_int_equal(vdf_nets_decode_hello(buf, (size_t)len, &out), 0);
	assert_memory_equal(&h, &out, sizeof(h));
	assert_int_equal(vdf_nets_encode_hello(&h, buf, HELLO_SIZE - 1), -ENOSPC);
	/* Every truncation and an extension. */
	for (int l = 0; l < len; l++)
		assert_int_equal(vdf_nets_decode_hello(buf, (size_t)l, &out), -EMSGSIZE);
	memcpy(m, buf, (size_t)len);
	m[len] = 0;
	assert_int_equal(vdf_nets_decode_hello(m, (size_t)len + 1, &out), -EMSGSIZE);
	memcpy(m, buf, (size_t)len);
	m[0] ^= 1; /* magic */
	assert_int_equal(vdf_nets_decode_hello(m, (size_t)len, &out), -EBADMSG);
	memcpy(m, buf, (size_t)len);
	m[4] = 2; /* version */
	assert_int_equal(vdf_nets_decode_hello(m, (size_t)len, &out), -EPROTONOSUPPORT);
	memcpy(m, buf, (size_t)len);
	m[6] = VDF_NETS_WELCOME; /* type */
	assert_int_equal(vdf_nets_decode_hello(m, (size_t)len, &out), -EBADMSG);
	memcpy(m, buf, (size_t)len);
	m[12] = 1; /* header reserved */
	assert_int_equal(vdf_nets_decode_hello(m, (size_t)len, &out), -EBADMSG);
	memcpy(m, buf, (size_t)len);
	m[OFF_HELLO_PAD] = 1;
	assert_int_equal(vdf_nets_decode_hello(m, (size_t)len, &out), -EBADMSG);
	memcpy(m, buf, (size_t)len);
	m[OFF_FRAME_SIZE + 1] = 0x10; /* frame size 4096 */
	assert_int_equal(vdf_nets_decode_hello(m, (size_t)len, &out), -EBADMSG);
	/* A welcome is not a hello. */
	{
		struct vdf_nets_welcome w = std_welcome();

		len = vdf_nets_encode_welcome(&w, m, sizeof(m));
		assert_int_equal(len, WELCOME_SIZE);
		assert_int_equal(vdf_nets_decode_hello(m, (size_t)len, &out), -EBADMSG);
	}
	h.flags = 1u << 9;
	assert_int_equal(vdf_nets_encode_hello(&h, buf, sizeof(buf)), -EINVAL);
}

static void test_welcome(void **state)
{
	uint8_t buf[VDF_NETS_MSG_MAX], m[VDF_NETS_MSG_MAX];
	struct vdf_nets_welcome w, b, out;
	int len;

	(void)state;
	w = std_welcome();
	len = vdf_nets_encode_welcome(&w, buf, sizeof(buf));
	assert_int_equal(len, WELCOME_SIZE);
	assert_int_equal(vdf_nets_decode_welcome(buf, (size_t)len, &out), 0);
	assert_memory_equal(&w, &out, sizeof(w));
	memcpy(m, buf, (size_t)len);
	m[OFF_WELCOME_PAD] = 1;
	assert_int_equal(vdf_nets_decode_welcome(m, (size_t)len, &out), -EBADMSG);
	/* A refusal carries nothing else. */
	b = (struct vdf_nets_welcome){.status = -EBUSY};
	len = vdf_nets_encode_welcome(&b, buf, sizeof(buf));
	assert_int_equal(vdf_nets_decode_welcome(buf, (size_t)len, &out), 0);
	assert_int_equal(out.status, -EBUSY);
	buf[HDR_SIZE + 4] = 1;
	assert_int_equal(vdf_nets_decode_welcome(buf, (size_t)len, &out), -EBADMSG);
	/* Rules. */
	b = w;
	b.status = 1;
	assert_int_equal(vdf_nets_welcome_validate(&b), -EINVAL);
	b = w;
	b.mac[0] = 1;
	assert_int_equal(vdf_nets_welcome_validate(&b), -EINVAL);
	b = w;
	b.max_frame = 4000;
	assert_int_equal(vdf_nets_welcome_validate(&b), -EINVAL);
	b = w;
	b.mtu = 1501;
	assert_int_equal(vdf_nets_welcome_validate(&b), -EINVAL);
	b = w;
	b.mtu = 10;
	assert_int_equal(vdf_nets_welcome_validate(&b), -EINVAL);
	b = w;
	b.flags = 0; /* down with a speed */
	assert_int_equal(vdf_nets_welcome_validate(&b), -EINVAL);
	b.speed_mbps = 0;
	assert_int_equal(vdf_nets_welcome_validate(&b), 0);
	b.flags = 1u << 5;
	assert_int_equal(vdf_nets_welcome_validate(&b), -EINVAL);
}

static void test_descriptors(void **state)
{
	struct vdf_nets_hello h = std_hello(); /* RX slots 0..127, TX 128..191 */
	struct vdf_nets_slot_wire s = {0};
	struct vdf_nets_frame_wire f = {0};
	uint32_t slot, len, flags;

	(void)state;
	s.slot = htole32(127);
	assert_int_equal(vdf_nets_check_fill(&h, &s, &slot), 0);
	assert_int_equal(slot, 127);
	s.slot = htole32(128);
	assert_int_equal(vdf_nets_check_fill(&h, &s, &slot), -EINVAL);
	s.slot = htole32(0);
	s.reserved = 1;
	assert_int_equal(vdf_nets_check_fill(&h, &s, &slot), -EINVAL);
	s = (struct vdf_nets_slot_wire){.slot = htole32(191)};
	assert_int_equal(vdf_nets_check_comp(&h, &s, &slot), 0);
	s.slot = htole32(192);
	assert_int_equal(vdf_nets_check_comp(&h, &s, &slot), -EINVAL);
	s.slot = htole32(5);
	assert_int_equal(vdf_nets_check_comp(&h, &s, &slot), -EINVAL);
	s.slot = htole32(UINT32_MAX);
	assert_int_equal(vdf_nets_check_comp(&h, &s, &slot), -EINVAL);

	f = (struct vdf_nets_frame_wire){.slot = htole32(128), .len = htole16(1514)};
	assert_int_equal(vdf_nets_check_tx(&h, &f, 1514, &slot, &len), 0);
	assert_int_equal(len, 1514);
	assert_int_equal(vdf_nets_check_tx(&h, &f, 1000, &slot, &len), -EINVAL);
	f.len = htole16(13);
	assert_int_equal(vdf_nets_check_tx(&h, &f, 1514, &slot, &len), -EINVAL);
	f.len = htole16(14);
	assert_int_equal(vdf_nets_check_tx(&h, &f, 1514, &slot, &len), 0);
	f.len = htole16(4000);
	assert_int_equal(vdf_nets_check_tx(&h, &f, 65535, &slot, &len), -EINVAL);
	f.len = htole16(60);
	f.flags = htole16(1);
	assert_int_equal(vdf_nets_check_tx(&h, &f, 1514, &slot, &len), -EINVAL);
	f.flags = 0;
	f.slot = htole32(127); /* an RX frame */
	assert_int_equal(vdf_nets_check_tx(&h, &f, 1514, &slot, &len), -EINVAL);
	f.slot = htole32(192);
	assert_int_equal(vdf_nets_check_tx(&h, &f, 1514, &slot, &len), -EINVAL);

	f = (struct vdf_nets_frame_wire){
	    .slot = htole32(3), .len = htole16(2048), .flags = htole16(VDF_NET_RX_L4_CSUM_OK)};
	assert_int_equal(vdf_nets_check_rx(&h, &f, &slot, &len, &flags), 0);
	assert_int_equal(flags, VDF_NET_RX_L4_CSUM_OK);
	f.flags = htole16(VDF_NET_TX_CSUM);
	assert_int_equal(vdf_nets_check_rx(&h, &f, &slot, &len, &flags), -EINVAL);
	f.flags = 0;
	f.len = htole16(2049);
	assert_int_equal(vdf_nets_check_rx(&h, &f, &slot, &len, &flags), -EINVAL);
	f.len = htole16(60);
	f.slot = htole32(128);
	assert_int_equal(vdf_nets_check_rx(&h, &f, &slot, &len, &flags), -EINVAL);
}

static void test_socket(void **state)
{
	struct vdf_nets_hello h = std_hello(), hin;
	struct vdf_nets_welcome w = std_welcome(), win;
	int sv[2], fds[VDF_NETS_NFDS], got[VDF_NETS_NFDS];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	for (unsigned i = 0; i < VDF_NETS_NFDS; i++) {
		fds[i] = eventfd(0, EFD_CLOEXEC);
		assert_true(fds[i] >= 0);
	}
	assert_int_equal(vdf_nets_send_hello(sv[0], &h, fds), 0);
	assert_int_equal(vdf_nets_recv_hello(sv[1], &hin, got, 0), 0);
	assert_memory_equal(&h, &hin, sizeof(h));
	for (unsigned i = 0; i < VDF_NETS_NFDS; i++) {
		assert_true(got[i] >= 0);
		close(got[i]);
	}
	/* A HELLO with too few fds is refused. */
	{
		uint8_t buf[VDF_NETS_MSG_MAX];
		int len = vdf_nets_encode_hello(&h, buf, sizeof(buf));

		assert_true(len > 0);
		assert_int_equal(vdf_fdmsg_send(sv[0], buf, (size_t)len, fds, 2), 0);
		assert_int_equal(vdf_nets_recv_hello(sv[1], &hin, got, 0), -EBADMSG);
	}
	assert_int_equal(vdf_nets_recv_welcome(sv[0], &win, 10), -ETIMEDOUT);
	assert_int_equal(vdf_nets_send_welcome(sv[1], &w), 0);
	assert_int_equal(vdf_nets_recv_welcome(sv[0], &win, 1000), 0);
	assert_memory_equal(&w, &win, sizeof(w));
	close(sv[1]);
	assert_int_equal(vdf_nets_recv_welcome(sv[0], &win, 1000), -EPIPE);
	close(sv[0]);
	for (unsigned i = 0; i < VDF_NETS_NFDS; i++)
		close(fds[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_layout),	cmocka_unit_test(test_hello_rules),
	    cmocka_unit_test(test_hello_codec), cmocka_unit_test(test_welcome),
	    cmocka_unit_test(test_descriptors), cmocka_unit_test(test_socket),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
