/* SPDX-License-Identifier: MIT */
/*
 * NBD export server: the wire protocol (lib/nbd/nbd_proto.c) and a server
 * serving one export from a small backend interface (lib/nbd/nbd_server.c).
 *
 * Reference: the NBD protocol specification, doc/proto.md of the upstream NBD
 * project (NetworkBlockDevice/nbd), sections "Handshake" (fixed newstyle
 * negotiation, option haggling), "Transmission" (request/simple reply) and
 * "Error values". All integers on the wire are big-endian.
 *
 * Scope: fixed newstyle handshake with NO_ZEROES; options EXPORT_NAME, ABORT,
 * LIST, INFO, GO (INFO_EXPORT and INFO_BLOCK_SIZE replies), everything else
 * NBD_REP_ERR_UNSUP; simple replies only; commands READ, WRITE (+FUA), FLUSH,
 * TRIM, WRITE_ZEROES (+NO_HOLE), DISC.
 */
#ifndef VDF_NBD_H
#define VDF_NBD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vdf/common.h"

/* --- Wire constants (proto.md) ------------------------------------------ */
#define NBD_MAGIC	       0x4e42444d41474943ull /* "NBDMAGIC" */
#define NBD_OPTS_MAGIC	       0x49484156454f5054ull /* "IHAVEOPT" */
#define NBD_REP_MAGIC	       0x0003e889045565a9ull /* option reply */
#define NBD_REQUEST_MAGIC      0x25609513u
#define NBD_SIMPLE_REPLY_MAGIC 0x67446698u

/* Handshake flags (server, 16 bit) and client flags (32 bit). */
#define NBD_FLAG_FIXED_NEWSTYLE	  BIT(0)
#define NBD_FLAG_NO_ZEROES	  BIT(1)
#define NBD_FLAG_C_FIXED_NEWSTYLE BIT(0)
#define NBD_FLAG_C_NO_ZEROES	  BIT(1)

/* Transmission flags (16 bit). */
#define NBD_FLAG_HAS_FLAGS	   BIT(0)
#define NBD_FLAG_READ_ONLY	   BIT(1)
#define NBD_FLAG_SEND_FLUSH	   BIT(2)
#define NBD_FLAG_SEND_FUA	   BIT(3)
#define NBD_FLAG_ROTATIONAL	   BIT(4)
#define NBD_FLAG_SEND_TRIM	   BIT(5)
#define NBD_FLAG_SEND_WRITE_ZEROES BIT(6)

/* Options. */
#define NBD_OPT_EXPORT_NAME	 1u
#define NBD_OPT_ABORT		 2u
#define NBD_OPT_LIST		 3u
#define NBD_OPT_STARTTLS	 5u
#define NBD_OPT_INFO		 6u
#define NBD_OPT_GO		 7u
#define NBD_OPT_STRUCTURED_REPLY 8u

/* Option reply types. */
#define NBD_REP_ACK		    1u
#define NBD_REP_SERVER		    2u
#define NBD_REP_INFO		    3u
#define NBD_REP_FLAG_ERROR	    BIT(31)
#define NBD_REP_ERR_UNSUP	    (NBD_REP_FLAG_ERROR | 1u)
#define NBD_REP_ERR_POLICY	    (NBD_REP_FLAG_ERROR | 2u)
#define NBD_REP_ERR_INVALID	    (NBD_REP_FLAG_ERROR | 3u)
#define NBD_REP_ERR_PLATFORM	    (NBD_REP_FLAG_ERROR | 4u)
#define NBD_REP_ERR_TLS_REQD	    (NBD_REP_FLAG_ERROR | 5u)
#define NBD_REP_ERR_UNKNOWN	    (NBD_REP_FLAG_ERROR | 6u)
#define NBD_REP_ERR_SHUTDOWN	    (NBD_REP_FLAG_ERROR | 7u)
#define NBD_REP_ERR_BLOCK_SIZE_REQD (NBD_REP_FLAG_ERROR | 8u)
#define NBD_REP_ERR_TOO_BIG	    (NBD_REP_FLAG_ERROR | 9u)

/* Information types (NBD_OPT_INFO/GO). */
#define NBD_INFO_EXPORT	     0u
#define NBD_INFO_NAME	     1u
#define NBD_INFO_DESCRIPTION 2u
#define NBD_INFO_BLOCK_SIZE  3u

/* Commands and command flags. */
#define NBD_CMD_READ	     0u
#define NBD_CMD_WRITE	     1u
#define NBD_CMD_DISC	     2u
#define NBD_CMD_FLUSH	     3u
#define NBD_CMD_TRIM	     4u
#define NBD_CMD_WRITE_ZEROES 6u
#define NBD_CMD_FLAG_FUA     BIT(0)
#define NBD_CMD_FLAG_NO_HOLE BIT(1)

/* Error values (proto.md "Error values"; same numbers as Linux errno). */
#define NBD_OK	      0u
#define NBD_EPERM     1u
#define NBD_EIO	      5u
#define NBD_ENOMEM    12u
#define NBD_EINVAL    22u
#define NBD_ENOSPC    28u
#define NBD_EOVERFLOW 75u
#define NBD_ENOTSUP   95u
#define NBD_ESHUTDOWN 108u

/* Fixed sizes of the messages. */
#define NBD_GREETING_SIZE     18u /* NBDMAGIC, IHAVEOPT, u16 handshake flags */
#define NBD_OPT_HDR_SIZE      16u /* IHAVEOPT, u32 option, u32 length */
#define NBD_REP_HDR_SIZE      20u /* magic, u32 option, u32 type, u32 length */
#define NBD_REQUEST_SIZE      28u
#define NBD_SIMPLE_REPLY_SIZE 16u
#define NBD_EXPORT_NAME_PAD   124u  /* zeroes after the EXPORT_NAME reply */
#define NBD_MAX_STRING	      4096u /* proto.md: strings MUST be <= 4096 bytes */

/* Limits of this server. */
#define VDF_NBD_MAX_OPT_LEN (NBD_MAX_STRING + 4 + 2 + 2 * 64) /* GO: name + 64 info requests */
#define VDF_NBD_MAX_PAYLOAD (32u << 20) /* max READ/WRITE length (and max block size) */
#define VDF_NBD_MAX_OPTIONS 64u		/* options per handshake before we hang up */

/* --- Parsed messages ---------------------------------------------------- */
struct vdf_nbd_opt_hdr {
	uint32_t option;
	uint32_t length;
};

/* NBD_OPT_INFO / NBD_OPT_GO data; name points into the parsed buffer. */
struct vdf_nbd_info_req {
	const char *name;
	uint32_t name_len;
	uint16_t n_info;
	bool want_block_size;
};

struct vdf_nbd_request {
	uint16_t flags;
	uint16_t type;
	uint64_t cookie;
	uint64_t offset;
	uint32_t length;
};

/* What to do with a checked request. */
enum vdf_nbd_verdict {
	VDF_NBD_SERVE = 0,   /* carry it out */
	VDF_NBD_REPLY_ERROR, /* reply with *err (a WRITE's payload is read and dropped first) */
	VDF_NBD_HANG_UP,     /* protocol violation: close the connection */
};

/* --- Pure codec (nbd_proto.c): no I/O, safe on any bytes ---------------- */
void vdf_nbd_put_be16(uint8_t *p, uint16_t v);
void vdf_nbd_put_be32(uint8_t *p, uint32_t v);
void vdf_nbd_put_be64(uint8_t *p, uint64_t v);
uint16_t vdf_nbd_get_be16(const uint8_t *p);
uint32_t vdf_nbd_get_be32(const uint8_t *p);
uint64_t vdf_nbd_get_be64(const uint8_t *p);

/* Server greeting: NBD_GREETING_SIZE bytes, FIXED_NEWSTYLE | NO_ZEROES. */
void vdf_nbd_encode_greeting(uint8_t out[NBD_GREETING_SIZE]);
/* Client flags. -EPROTO when the client sets a flag we did not offer or does
 * not set FIXED_NEWSTYLE (the spec says to close the connection then). */
int vdf_nbd_parse_client_flags(const uint8_t in[4], bool *no_zeroes) VDF_MUST_CHECK;
/* Option header: -EPROTO on bad magic; -E2BIG when length > max_len. The
 * header is filled in either way so the caller can reply. */
int vdf_nbd_parse_opt_hdr(const uint8_t in[NBD_OPT_HDR_SIZE], uint32_t max_len,
			  struct vdf_nbd_opt_hdr *out) VDF_MUST_CHECK;
/* INFO/GO option data: -EINVAL when the lengths inside do not add up to len
 * exactly, the name is over NBD_MAX_STRING or contains NUL. */
int vdf_nbd_parse_info_req(const uint8_t *data, uint32_t len,
			   struct vdf_nbd_info_req *out) VDF_MUST_CHECK;
/* Option reply header (NBD_REP_HDR_SIZE bytes). */
void vdf_nbd_encode_rep_hdr(uint8_t out[NBD_REP_HDR_SIZE], uint32_t option, uint32_t type,
			    uint32_t length);
/* NBD_INFO_EXPORT payload (12 bytes) and NBD_INFO_BLOCK_SIZE payload (14 bytes). */
#define NBD_INFO_EXPORT_SIZE	 12u
#define NBD_INFO_BLOCK_SIZE_SIZE 14u
void vdf_nbd_encode_info_export(uint8_t out[NBD_INFO_EXPORT_SIZE], uint64_t size, uint16_t tflags);
void vdf_nbd_encode_info_block_size(uint8_t out[NBD_INFO_BLOCK_SIZE_SIZE], uint32_t min,
				    uint32_t pref, uint32_t max);
/* Request: -EPROTO on bad magic. */
int vdf_nbd_parse_request(const uint8_t in[NBD_REQUEST_SIZE],
			  struct vdf_nbd_request *out) VDF_MUST_CHECK;
void vdf_nbd_encode_request(uint8_t out[NBD_REQUEST_SIZE], const struct vdf_nbd_request *req);
void vdf_nbd_encode_simple_reply(uint8_t out[NBD_SIMPLE_REPLY_SIZE], uint32_t error,
				 uint64_t cookie);
/*
 * Check a parsed request against the export (size, transmission flags, minimum
 * block size min_block, a power of two) and this server's limits. Returns the
 * verdict; for VDF_NBD_REPLY_ERROR *err is the NBD error: unknown command,
 * flag or a command the flags do not advertise, misalignment to min_block,
 * offset+length overflow or a READ/TRIM past the end → NBD_EINVAL; WRITE/WRITE_ZEROES past the end
 * → NBD_ENOSPC; writes on a read-only export → NBD_EPERM; a READ longer than VDF_NBD_MAX_PAYLOAD →
 * NBD_EOVERFLOW. A WRITE longer than VDF_NBD_MAX_PAYLOAD cannot be skipped cheaply and is
 * VDF_NBD_HANG_UP.
 */
enum vdf_nbd_verdict vdf_nbd_check_request(const struct vdf_nbd_request *req, uint64_t size,
					   uint16_t tflags, uint32_t min_block, uint32_t *err);
/* Negative errno (or 0) → NBD error value; anything unknown is NBD_EIO. */
uint32_t vdf_nbd_errno_to_nbd(int neg_errno);
const char *vdf_nbd_cmd_name(uint16_t type);
const char *vdf_nbd_opt_name(uint32_t option);

/* --- Backend ------------------------------------------------------------ */
/*
 * The storage behind an export. Every call returns 0 or a negative errno;
 * offsets and lengths are already checked against size. The server may call
 * these from several connection threads at once: a backend must be safe for
 * that (like a disk, overlapping writes from different clients may interleave).
 * write_zeroes with may_trim false must leave the range allocated (NO_HOLE);
 * it may return -EOPNOTSUPP and the server then writes zeroes instead.
 * flush, trim and write_zeroes may be NULL: the export then does not advertise
 * them (trim) or the server emulates them (write_zeroes by writes, flush as a
 * no-op only if the backend has no cache, i.e. flush NULL means "always stable").
 */
struct vdf_nbd_backend_ops {
	uint64_t (*size)(void *ctx);
	uint32_t (*block_size)(void *ctx); /* minimum block size (1 or the LBA size), power of 2 */
	int (*read)(void *ctx, uint64_t off, uint32_t len, void *buf);
	int (*write)(void *ctx, uint64_t off, uint32_t len, const void *buf, bool fua);
	int (*flush)(void *ctx);
	int (*trim)(void *ctx, uint64_t off, uint32_t len);
	int (*write_zeroes)(void *ctx, uint64_t off, uint32_t len, bool may_trim);
};

struct vdf_nbd_export {
	const char *name; /* "" is the default export */
	const char *description;
	const struct vdf_nbd_backend_ops *ops;
	void *ctx;
	bool read_only;
};

/* Transmission flags the server advertises for an export. */
uint16_t vdf_nbd_export_tflags(const struct vdf_nbd_export *exp);

/* Memory and file backends (nbd_server.c). */
int vdf_nbd_mem_backend_create(uint64_t size, void **ctx_out) VDF_MUST_CHECK;
void vdf_nbd_mem_backend_destroy(void *ctx);
extern const struct vdf_nbd_backend_ops vdf_nbd_mem_backend_ops;
/* The file (or block device) stays open until destroy; O_RDONLY if read_only. */
int vdf_nbd_file_backend_create(const char *path, bool read_only, void **ctx_out) VDF_MUST_CHECK;
void vdf_nbd_file_backend_destroy(void *ctx);
extern const struct vdf_nbd_backend_ops vdf_nbd_file_backend_ops;
/* A VDF block device through the client library (lib/nbd/nbd_vdf_backend.c):
 * dev as vdfd names it, socket the vdfd control socket (NULL: default). */
int vdf_nbd_vdf_backend_create(const char *dev, const char *socket, bool read_only,
			       void **ctx_out) VDF_MUST_CHECK;
void vdf_nbd_vdf_backend_destroy(void *ctx);
extern const struct vdf_nbd_backend_ops vdf_nbd_vdf_backend_ops;

/* --- Server (nbd_server.c) ---------------------------------------------- */
/* Byte stream of one connection: read/write all of len or fail. */
struct vdf_nbd_io {
	/* 0 on success, -errno on error, -ECONNRESET on EOF before len bytes. */
	int (*read)(void *ctx, void *buf, size_t len);
	int (*write)(void *ctx, const void *buf, size_t len);
	void *ctx;
};

/*
 * Serve one connection to completion (handshake, then transmission) over io,
 * blocking. Returns 0 when the client disconnected cleanly (ABORT, DISC),
 * -EPROTO on a protocol violation, or the I/O error. Never trusts the client;
 * memory use is bounded by VDF_NBD_MAX_PAYLOAD + VDF_NBD_MAX_OPT_LEN.
 */
int vdf_nbd_serve_conn(const struct vdf_nbd_export *exp, const struct vdf_nbd_io *io);
/* vdf_nbd_serve_conn over a connected socket fd (the fd stays the caller's). */
int vdf_nbd_serve_fd(const struct vdf_nbd_export *exp, int fd);

struct vdf_nbd_server;
/*
 * Listen on a unix socket path (unlinked first) or on TCP host:port; one
 * thread per connection, at most max_conns at once (further ones are refused
 * by closing them). The export must outlive the server.
 */
int vdf_nbd_server_listen_unix(const struct vdf_nbd_export *exp, const char *path,
			       unsigned max_conns, struct vdf_nbd_server **out) VDF_MUST_CHECK;
int vdf_nbd_server_listen_tcp(const struct vdf_nbd_export *exp, const char *host, const char *port,
			      unsigned max_conns, struct vdf_nbd_server **out) VDF_MUST_CHECK;
/* Accept and serve until vdf_nbd_server_stop (from a signal handler or thread). */
int vdf_nbd_server_run(struct vdf_nbd_server *srv);
void vdf_nbd_server_stop(struct vdf_nbd_server *srv);
/* Stop, wait for the connection threads, close the socket (unlink the path). */
void vdf_nbd_server_destroy(struct vdf_nbd_server *srv);

#endif
