// SPDX-License-Identifier: MIT
/*
 * NBD wire codec: encoding of server messages and parsing of client messages
 * (handshake options, transmission requests). Pure functions: no I/O, no
 * allocation; every input is treated as untrusted and every length is checked
 * before use. Section names refer to the NBD protocol specification
 * (doc/proto.md of the upstream NBD project).
 */
#include <errno.h>
#include <string.h>

#include "vdf/nbd.h"

void vdf_nbd_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void vdf_nbd_put_be32(uint8_t *p, uint32_t v)
{
	vdf_nbd_put_be16(p, (uint16_t)(v >> 16));
	vdf_nbd_put_be16(p + 2, (uint16_t)v);
}

void vdf_nbd_put_be64(uint8_t *p, uint64_t v)
{
	vdf_nbd_put_be32(p, (uint32_t)(v >> 32));
	vdf_nbd_put_be32(p + 4, (uint32_t)v);
}

uint16_t vdf_nbd_get_be16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

uint32_t vdf_nbd_get_be32(const uint8_t *p)
{
	return (uint32_t)vdf_nbd_get_be16(p) << 16 | vdf_nbd_get_be16(p + 2);
}

uint64_t vdf_nbd_get_be64(const uint8_t *p)
{
	return (uint64_t)vdf_nbd_get_be32(p) << 32 | vdf_nbd_get_be32(p + 4);
}

/* "Fixed newstyle negotiation": NBDMAGIC, IHAVEOPT, handshake flags. */
void vdf_nbd_encode_greeting(uint8_t out[NBD_GREETING_SIZE])
{
	vdf_nbd_put_be64(out, NBD_MAGIC);
	vdf_nbd_put_be64(out + 8, NBD_OPTS_MAGIC);
	vdf_nbd_put_be16(out + 16, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
}

/*
 * "Client flags": a client flag the server did not advertise means the client
 * will speak a protocol we do not; the spec has the server close then. We
 * insist on FIXED_NEWSTYLE: without it option errors cannot be reported.
 */
int vdf_nbd_parse_client_flags(const uint8_t in[4], bool *no_zeroes)
{
	uint32_t f = vdf_nbd_get_be32(in);

	*no_zeroes = false;
	if (f & ~(uint32_t)(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES))
		return -EPROTO;
	if (!(f & NBD_FLAG_C_FIXED_NEWSTYLE))
		return -EPROTO;
	*no_zeroes = (f & NBD_FLAG_C_NO_ZEROES) != 0;
	return 0;
}

int vdf_nbd_parse_opt_hdr(const uint8_t in[NBD_OPT_HDR_SIZE], uint32_t max_len,
			  struct vdf_nbd_opt_hdr *out)
{
	out->option = vdf_nbd_get_be32(in + 8);
	out->length = vdf_nbd_get_be32(in + 12);
	if (vdf_nbd_get_be64(in) != NBD_OPTS_MAGIC)
		return -EPROTO;
	if (out->length > max_len)
		return -E2BIG;
	return 0;
}

/*
 * NBD_OPT_INFO / NBD_OPT_GO data: u32 name length, name, u16 number of
 * information requests, that many u16 information types. The lengths must
 * account for every byte of the option exactly.
 */
int vdf_nbd_parse_info_req(const uint8_t *data, uint32_t len, struct vdf_nbd_info_req *out)
{
	uint32_t name_len, need, i;

	memset(out, 0, sizeof(*out));
	if (len < 4 + 2)
		return -EINVAL;
	name_len = vdf_nbd_get_be32(data);
	if (name_len > NBD_MAX_STRING || name_len > len - 6)
		return -EINVAL;
	if (memchr(data + 4, '\0', name_len))
		return -EINVAL;
	out->n_info = vdf_nbd_get_be16(data + 4 + name_len);
	need = 4 + name_len + 2 + 2 * (uint32_t)out->n_info; /* <= 4096 + 6 + 131070 */
	if (need != len) {
		out->n_info = 0;
		return -EINVAL;
	}
	out->name = (const char *)data + 4;
	out->name_len = name_len;
	for (i = 0; i < out->n_info; i++)
		if (vdf_nbd_get_be16(data + 4 + name_len + 2 + 2 * i) == NBD_INFO_BLOCK_SIZE)
			out->want_block_size = true;
	return 0;
}

void vdf_nbd_encode_rep_hdr(uint8_t out[NBD_REP_HDR_SIZE], uint32_t option, uint32_t type,
			    uint32_t length)
{
	vdf_nbd_put_be64(out, NBD_REP_MAGIC);
	vdf_nbd_put_be32(out + 8, option);
	vdf_nbd_put_be32(out + 12, type);
	vdf_nbd_put_be32(out + 16, length);
}

void vdf_nbd_encode_info_export(uint8_t out[NBD_INFO_EXPORT_SIZE], uint64_t size, uint16_t tflags)
{
	vdf_nbd_put_be16(out, NBD_INFO_EXPORT);
	vdf_nbd_put_be64(out + 2, size);
	vdf_nbd_put_be16(out + 10, tflags);
}

void vdf_nbd_encode_info_block_size(uint8_t out[NBD_INFO_BLOCK_SIZE_SIZE], uint32_t min,
				    uint32_t pref, uint32_t max)
{
	vdf_nbd_put_be16(out, NBD_INFO_BLOCK_SIZE);
	vdf_nbd_put_be32(out + 2, min);
	vdf_nbd_put_be32(out + 6, pref);
	vdf_nbd_put_be32(out + 10, max);
}

/* "Transmission": magic, u16 flags, u16 type, u64 cookie, u64 offset, u32 length. */
int vdf_nbd_parse_request(const uint8_t in[NBD_REQUEST_SIZE], struct vdf_nbd_request *out)
{
	out->flags = vdf_nbd_get_be16(in + 4);
	out->type = vdf_nbd_get_be16(in + 6);
	out->cookie = vdf_nbd_get_be64(in + 8);
	out->offset = vdf_nbd_get_be64(in + 16);
	out->length = vdf_nbd_get_be32(in + 24);
	if (vdf_nbd_get_be32(in) != NBD_REQUEST_MAGIC)
		return -EPROTO;
	return 0;
}

void vdf_nbd_encode_request(uint8_t out[NBD_REQUEST_SIZE], const struct vdf_nbd_request *req)
{
	vdf_nbd_put_be32(out, NBD_REQUEST_MAGIC);
	vdf_nbd_put_be16(out + 4, req->flags);
	vdf_nbd_put_be16(out + 6, req->type);
	vdf_nbd_put_be64(out + 8, req->cookie);
	vdf_nbd_put_be64(out + 16, req->offset);
	vdf_nbd_put_be32(out + 24, req->length);
}

void vdf_nbd_encode_simple_reply(uint8_t out[NBD_SIMPLE_REPLY_SIZE], uint32_t error,
				 uint64_t cookie)
{
	vdf_nbd_put_be32(out, NBD_SIMPLE_REPLY_MAGIC);
	vdf_nbd_put_be32(out + 4, error);
	vdf_nbd_put_be64(out + 8, cookie);
}

static enum vdf_nbd_verdict reply_err(uint32_t *err, uint32_t e)
{
	*err = e;
	return VDF_NBD_REPLY_ERROR;
}

enum vdf_nbd_verdict vdf_nbd_check_request(const struct vdf_nbd_request *req, uint64_t size,
					   uint16_t tflags, uint32_t min_block, uint32_t *err)
{
	uint16_t allowed = NBD_CMD_FLAG_FUA;
	bool is_write = false;
	uint64_t end;

	*err = NBD_OK;
	/* The payload of a WRITE follows the header whatever we think of it: one
	 * we cannot drain within our memory bound ends the connection. */
	if (req->type == NBD_CMD_WRITE && req->length > VDF_NBD_MAX_PAYLOAD)
		return VDF_NBD_HANG_UP;

	switch (req->type) {
	case NBD_CMD_DISC:
		return VDF_NBD_SERVE;
	case NBD_CMD_READ:
		break;
	case NBD_CMD_WRITE:
		is_write = true;
		break;
	case NBD_CMD_FLUSH:
		if (!(tflags & NBD_FLAG_SEND_FLUSH))
			return reply_err(err, NBD_EINVAL);
		/* "length and offset MUST be zero" for NBD_CMD_FLUSH. */
		if (req->offset != 0 || req->length != 0)
			return reply_err(err, NBD_EINVAL);
		break;
	case NBD_CMD_TRIM:
		if (!(tflags & NBD_FLAG_SEND_TRIM))
			return reply_err(err, NBD_EINVAL);
		is_write = true;
		break;
	case NBD_CMD_WRITE_ZEROES:
		if (!(tflags & NBD_FLAG_SEND_WRITE_ZEROES))
			return reply_err(err, NBD_EINVAL);
		allowed |= NBD_CMD_FLAG_NO_HOLE;
		is_write = true;
		break;
	default:
		return reply_err(err, NBD_EINVAL);
	}
	if (req->flags & ~allowed)
		return reply_err(err, NBD_EINVAL);
	if ((req->flags & NBD_CMD_FLAG_FUA) && !(tflags & NBD_FLAG_SEND_FUA))
		return reply_err(err, NBD_EINVAL);
	if (is_write && (tflags & NBD_FLAG_READ_ONLY))
		return reply_err(err, NBD_EPERM);
	if (req->type == NBD_CMD_FLUSH)
		return VDF_NBD_SERVE;
	if (min_block > 1 && (!VDF_IS_ALIGNED(req->offset, (uint64_t)min_block) ||
			      !VDF_IS_ALIGNED((uint64_t)req->length, (uint64_t)min_block)))
		return reply_err(err, NBD_EINVAL);
	if (req->type == NBD_CMD_READ && req->length > VDF_NBD_MAX_PAYLOAD)
		return reply_err(err, NBD_EOVERFLOW);
	if (__builtin_add_overflow(req->offset, (uint64_t)req->length, &end))
		return reply_err(err, NBD_EINVAL);
	/* "Beyond the end": ENOSPC for writes, EINVAL for the rest. */
	if (end > size)
		return reply_err(err,
				 (req->type == NBD_CMD_WRITE || req->type == NBD_CMD_WRITE_ZEROES)
				     ? NBD_ENOSPC
				     : NBD_EINVAL);
	return VDF_NBD_SERVE;
}

uint32_t vdf_nbd_errno_to_nbd(int neg_errno)
{
	switch (neg_errno) {
	case 0:
		return NBD_OK;
	case -EPERM:
	case -EROFS:
	case -EACCES:
		return NBD_EPERM;
	case -ENOMEM:
		return NBD_ENOMEM;
	case -EINVAL:
		return NBD_EINVAL;
	case -ENOSPC:
	case -EDQUOT:
	case -EFBIG:
		return NBD_ENOSPC;
	case -EOVERFLOW:
		return NBD_EOVERFLOW;
	case -ENOTSUP:
		return NBD_ENOTSUP;
	case -ESHUTDOWN:
		return NBD_ESHUTDOWN;
	default:
		return NBD_EIO;
	}
}

const char *vdf_nbd_cmd_name(uint16_t type)
{
	switch (type) {
	case NBD_CMD_READ:
		return "READ";
	case NBD_CMD_WRITE:
		return "WRITE";
	case NBD_CMD_DISC:
		return "DISC";
	case NBD_CMD_FLUSH:
		return "FLUSH";
	case NBD_CMD_TRIM:
		return "TRIM";
	case NBD_CMD_WRITE_ZEROES:
		return "WRITE_ZEROES";
	default:
		return "unknown";
	}
}

const char *vdf_nbd_opt_name(uint32_t option)
{
	switch (option) {
	case NBD_OPT_EXPORT_NAME:
		return "EXPORT_NAME";
	case NBD_OPT_ABORT:
		return "ABORT";
	case NBD_OPT_LIST:
		return "LIST";
	case NBD_OPT_STARTTLS:
		return "STARTTLS";
	case NBD_OPT_INFO:
		return "INFO";
	case NBD_OPT_GO:
		return "GO";
	case NBD_OPT_STRUCTURED_REPLY:
		return "STRUCTURED_REPLY";
	default:
		return "unknown";
	}
}
