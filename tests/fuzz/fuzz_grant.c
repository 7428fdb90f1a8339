// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the grant protocol decoders (lib/ipc/grant.c), the
 * grant and every runtime message including CLIENT. A driver
 * decodes what the manager sends and the manager decodes what a possibly
 * hostile driver sends, so every byte is untrusted. Decoding must never read
 * outside the buffer, and whatever it accepts must be valid and canonical:
 * encoding the decoded value gives back exactly the input bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vdf/grant.h"
#include "vdf/hal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void roundtrip_grant(const uint8_t *in, size_t size)
{
	uint8_t out[VDF_GRANT_MSG_MAX];
	struct vdf_grant g;
	int len;

	if (vdf_grant_decode(in, size, &g))
		return;
	if (vdf_grant_validate(&g))
		abort();
	/* Decoded strings are terminated inside their fields. */
	if (!memchr(g.pci_addr, 0, sizeof(g.pci_addr)) || !memchr(g.driver, 0, sizeof(g.driver)))
		abort();
	len = vdf_grant_encode(&g, out, sizeof(out));
	if (len < 0 || (size_t)len != size || memcmp(out, in, size))
		abort();
}

static void roundtrip_msg(const uint8_t *in, size_t size)
{
	uint8_t out[VDF_GRANT_MSG_MAX];
	struct vdf_grant_msg m;
	int len;

	if (vdf_grant_msg_decode(in, size, &m))
		return;
	if (m.type == VDF_MSG_GRANT)
		abort(); /* grants only through vdf_grant_decode */
	len = vdf_grant_msg_encode(&m, out, sizeof(out));
	if (len < 0 || (size_t)len != size || memcmp(out, in, size))
		abort();
}

/* A valid grant, so mutations start deep inside the format. */
static size_t valid_grant(uint8_t *out, size_t cap)
{
	struct vdf_grant g;
	int len;

	memset(&g, 0, sizeof(g));
	memcpy(g.pci_addr, "0000:00:04.0", 12);
	memcpy(g.driver, "nvme", 4);
	g.rights.bars = 1;
	g.rights.dma_window = 1u << 20;
	g.rights.irq_kinds = 1u << VDF_IRQ_MSIX;
	g.rights.irq_max_vectors = 4;
	g.heartbeat_ms = 100;
	len = vdf_grant_encode(&g, out, cap);
	if (len < 0)
		abort();
	return (size_t)len;
}

/* A valid CLIENT message (the one runtime message with policy in it). */
static size_t valid_client(uint8_t *out, size_t cap)
{
	struct vdf_grant_msg m;
	int len;

	memset(&m, 0, sizeof(m));
	m.type = VDF_MSG_CLIENT;
	m.u.client.client_id = 1;
	m.u.client.uid = 1000;
	m.u.client.flags = VDF_CLIENT_F_READ_ONLY;
	m.u.client.unit = 1;
	m.u.client.ops_per_sec = 1000;
	m.u.client.ops_burst = 10;
	m.u.client.bytes_per_sec = 1u << 20;
	m.u.client.bytes_burst = 1u << 20;
	len = vdf_grant_msg_encode(&m, out, cap);
	if (len < 0)
		abort();
	return (size_t)len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf;
	size_t len = size;

	/* First byte odd: the rest is XORed over a valid message (same length
	 * as the rest, so truncations and extensions are covered too): a grant,
	 * or with bit 1 set too a CLIENT message. */
	if (size && (data[0] & 1)) {
		uint8_t base[VDF_GRANT_MSG_MAX];
		size_t blen = (data[0] & 2) ? valid_client(base, sizeof(base))
					    : valid_grant(base, sizeof(base));

		len = size - 1;
		buf = malloc(len ? len : 1);
		if (!buf)
			return 0;
		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)(data[1 + i] ^ (i < blen ? base[i] : 0));
	} else {
		/* An exact-size heap copy, so ASan sees any read past the end. */
		buf = malloc(size ? size : 1);
		if (!buf)
			return 0;
		memcpy(buf, data, size);
	}
	roundtrip_grant(buf, len);
	roundtrip_msg(buf, len);
	free(buf);
	return 0;
}
