/* SPDX-License-Identifier: MIT */
/*
 * Net session: how a packet client (tools/tap/vdf-tap) and a net driver set
 * up their shared packet rings over the SEQPACKET socket vdfd brokered for
 * them (control command "open", grant message VDF_MSG_CLIENT). Modelled on
 * the block session (vdf/blksession.h), with the AF_XDP ring design.
 *
 *   client -> driver  HELLO, with VDF_NETS_NFDS fds: the shared memfd, the
 *                     driver doorbell (eventfd the client writes after filling
 *                     the fill or tx ring; the driver waits on it) and the
 *                     client doorbell (eventfd the driver writes after filling
 *                     the rx or completion ring; the client waits on it)
 *   driver -> client  WELCOME: status (0 or a negative errno refusing the
 *                     session), the driver generation, MAC, MTU, largest
 *                     frame, link state
 *
 * Nothing else travels on the socket; its end (EOF) tells either side that
 * the other has gone (the driver closes it last, after the device stopped
 * DMA into the frame area). A client that reconnects sends its settings
 * (promiscuous mode, MAC) again in its next HELLO.
 *
 * The memfd (region) holds four vdf/ring.h rings and the frame area:
 *   fill        client -> driver: empty RX frames (struct vdf_nets_slot_wire)
 *   rx          driver -> client: received frames (struct vdf_nets_frame_wire)
 *   tx          client -> driver: frames to send (struct vdf_nets_frame_wire)
 *   completion  driver -> client: sent TX frames back (struct vdf_nets_slot_wire)
 *   frames      rx_frames + tx_frames slots of VDF_NETS_FRAME_SIZE bytes,
 *               page-aligned, mapped by the driver for DMA: the NIC writes
 *               received frames into, and reads sent frames from, client
 *               memory (zero-copy)
 * Frame slots [0, rx_frames) are RX frames and only travel fill -> rx;
 * [rx_frames, rx_frames + tx_frames) are TX frames and only travel
 * tx -> completion. A frame belongs to exactly one side at a time; the
 * driver tracks ownership and refuses a slot the client does not own.
 * Ranges do not overlap and lie inside the region; the client seals the memfd
 * (F_SEAL_SHRINK | F_SEAL_GROW), checked with vdf_blks_check_memfd.
 *
 * Wire format: little-endian; header magic "VDFN" (u32), version (u16), type
 * (u16), total length (u32), reserved (u32, zero); a fixed body per type
 * (lib/ipc/netsession.c). Reserved fields and padding are zero.
 */
#ifndef VDF_NETSESSION_H
#define VDF_NETSESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "vdf/common.h"
#include "vdf/net.h"

#define VDF_NETS_MAGIC	 0x4e464456u /* "VDFN" as little-endian bytes */
#define VDF_NETS_VERSION 1u
#define VDF_NETS_MSG_MAX 160u

#define VDF_NETS_FRAME_SIZE 2048u /* bytes per frame slot */
#define VDF_NETS_FRAMES_MIN 2u	  /* per direction; an even count */
#define VDF_NETS_FRAMES_MAX 4096u /* per direction */
#define VDF_NETS_RING_MIN   1u
#define VDF_NETS_RING_MAX   4096u
#define VDF_NETS_PAGE	    4096u
#define VDF_NETS_REGION_MAX (64ull << 20)

enum vdf_nets_fd {
	VDF_NETS_FD_MEM = 0,
	VDF_NETS_FD_DRV_KICK = 1, /* client writes, driver waits */
	VDF_NETS_FD_CLI_KICK = 2, /* driver writes, client waits */
};
#define VDF_NETS_NFDS 3u

enum vdf_nets_msg_type {
	VDF_NETS_HELLO = 1,
	VDF_NETS_WELCOME = 2,
};

/* HELLO flags */
#define VDF_NETS_HELLO_F_PROMISC BIT(0) /* receive every frame on the wire */
#define VDF_NETS_HELLO_F_SET_MAC BIT(1) /* program `mac` as the station address */
#define VDF_NETS_HELLO_F_KNOWN	 (BIT(2) - 1)

enum vdf_nets_ring_id {
	VDF_NETS_FILL = 0,
	VDF_NETS_RX = 1,
	VDF_NETS_TX = 2,
	VDF_NETS_COMP = 3,
};
#define VDF_NETS_NRINGS 4u

struct vdf_nets_hello {
	uint32_t flags;			    /* VDF_NETS_HELLO_F_* */
	uint64_t region_size;		    /* bytes of the memfd, a multiple of VDF_NETS_PAGE */
	uint64_t ring_off[VDF_NETS_NRINGS]; /* enum vdf_nets_ring_id; cache-line aligned */
	uint32_t ring_cap[VDF_NETS_NRINGS]; /* powers of two, RING_MIN..RING_MAX */
	uint64_t frames_off;		    /* page-aligned */
	uint32_t rx_frames, tx_frames;	    /* even, FRAMES_MIN..FRAMES_MAX each */
	uint8_t mac[VDF_NET_ETH_ALEN];	    /* with F_SET_MAC a valid unicast address, else zero */
};

/* WELCOME flags */
#define VDF_NETS_F_LINK_UP     BIT(0)
#define VDF_NETS_F_FULL_DUPLEX BIT(1)
#define VDF_NETS_F_KNOWN       (BIT(2) - 1)

struct vdf_nets_welcome {
	int32_t status;	     /* 0, or a negative errno: the session is refused */
	uint32_t generation; /* the driver's generation (grant) */
	uint8_t mac[VDF_NET_ETH_ALEN];
	uint32_t mtu;	     /* 68..max_frame - 14 */
	uint32_t max_frame;  /* largest TX frame, without FCS: 60..VDF_NETS_FRAME_SIZE */
	uint32_t speed_mbps; /* 0 when the link is down */
	uint32_t flags;	     /* VDF_NETS_F_* */
};

/* Ring slots (little-endian). */
struct vdf_nets_slot_wire { /* fill and completion */
	uint32_t slot;
	uint32_t reserved; /* zero */
};
struct vdf_nets_frame_wire { /* rx and tx */
	uint32_t slot;
	uint16_t len;	/* frame bytes without FCS */
	uint16_t flags; /* tx: zero; rx: enum vdf_net_buf_flags RX bits */
};
static_assert(sizeof(struct vdf_nets_slot_wire) == 8, "fill/completion slot is 8 bytes");
static_assert(sizeof(struct vdf_nets_frame_wire) == 8, "rx/tx slot is 8 bytes");

#define VDF_NETS_RX_FLAGS_KNOWN \
	(VDF_NET_RX_IP_CSUM_OK | VDF_NET_RX_L4_CSUM_OK | VDF_NET_RX_CSUM_BAD)

/*
 * The standard client layout: four rings of ring_cap slots, then the frame
 * area at the next page boundary. Returns 0 or -EINVAL (what
 * vdf_nets_hello_validate refuses). flags and mac are left zero.
 */
int vdf_nets_layout(uint32_t ring_cap, uint32_t rx_frames, uint32_t tx_frames,
		    struct vdf_nets_hello *out) VDF_MUST_CHECK;

/* Slot size of ring id (8 for each). */
uint32_t vdf_nets_ring_slot_size(enum vdf_nets_ring_id id);

/* Check a HELLO (the rules above). Returns 0 or -EINVAL. */
int vdf_nets_hello_validate(const struct vdf_nets_hello *h) VDF_MUST_CHECK;
/* Check a WELCOME (a refusal needs only a valid status). Returns 0 or -EINVAL. */
int vdf_nets_welcome_validate(const struct vdf_nets_welcome *w) VDF_MUST_CHECK;

/* Byte offset of frame slot `slot` in the region (slot checked by the caller). */
static inline uint64_t vdf_nets_frame_off(const struct vdf_nets_hello *h, uint32_t slot)
{
	return h->frames_off + (uint64_t)slot * VDF_NETS_FRAME_SIZE;
}

/*
 * Descriptor checks, on copies of ring slots (the peer may rewrite the ring
 * at any time). Each returns 0 and the decoded values, or -EINVAL:
 *   fill   an RX frame slot, reserved zero                     (driver side)
 *   tx     a TX frame slot, VDF_NET_ETH_HLEN <= len <= max_len, flags zero
 *                                                              (driver side)
 *   rx     an RX frame slot, VDF_NET_ETH_HLEN <= len <= VDF_NETS_FRAME_SIZE,
 *          only known flags                                    (client side)
 *   comp   a TX frame slot, reserved zero                      (client side)
 * Ownership (whether the sender owned the frame) is the caller's to check.
 */
int vdf_nets_check_fill(const struct vdf_nets_hello *h, const struct vdf_nets_slot_wire *d,
			uint32_t *slot) VDF_MUST_CHECK;
int vdf_nets_check_tx(const struct vdf_nets_hello *h, const struct vdf_nets_frame_wire *d,
		      uint32_t max_len, uint32_t *slot, uint32_t *len) VDF_MUST_CHECK;
int vdf_nets_check_rx(const struct vdf_nets_hello *h, const struct vdf_nets_frame_wire *d,
		      uint32_t *slot, uint32_t *len, uint32_t *flags) VDF_MUST_CHECK;
int vdf_nets_check_comp(const struct vdf_nets_hello *h, const struct vdf_nets_slot_wire *d,
			uint32_t *slot) VDF_MUST_CHECK;

/*
 * Pure codecs (no I/O; the decoders are fuzzing entry points). encode returns
 * the message length or -EINVAL (the value does not validate) / -ENOSPC.
 * decode returns 0, -EBADMSG (magic, type, reserved, padding, a field that
 * does not validate), -EPROTONOSUPPORT (version), -EMSGSIZE (length).
 */
int vdf_nets_encode_hello(const struct vdf_nets_hello *h, void *buf, size_t len) VDF_MUST_CHECK;
int vdf_nets_decode_hello(const void *buf, size_t len, struct vdf_nets_hello *h) VDF_MUST_CHECK;
int vdf_nets_encode_welcome(const struct vdf_nets_welcome *w, void *buf, size_t len) VDF_MUST_CHECK;
int vdf_nets_decode_welcome(const void *buf, size_t len, struct vdf_nets_welcome *w) VDF_MUST_CHECK;

/* Socket I/O, as vdf_blks_send_hello and friends (vdf/blksession.h). */
int vdf_nets_send_hello(int sock, const struct vdf_nets_hello *h,
			const int fds[VDF_NETS_NFDS]) VDF_MUST_CHECK;
int vdf_nets_recv_hello(int sock, struct vdf_nets_hello *h, int fds[VDF_NETS_NFDS],
			int flags) VDF_MUST_CHECK;
int vdf_nets_send_welcome(int sock, const struct vdf_nets_welcome *w) VDF_MUST_CHECK;
int vdf_nets_recv_welcome(int sock, struct vdf_nets_welcome *w, int timeout_ms) VDF_MUST_CHECK;

#endif
