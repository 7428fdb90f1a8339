/* SPDX-License-Identifier: MIT */
/*
 * Network device class (the seeds' NetworkDevice): device info, batched
 * transmit and receive of Ethernet frames in DMA buffers, MAC address,
 * promiscuous mode, multicast list, link status with a change callback,
 * statistics (software and hardware counters) and interrupt coalescing.
 *
 * Buffers. Frames live in packet buffers (struct vdf_net_buf) carved from a
 * buffer pool (struct vdf_net_pool): one DMA mapping in the device's IOMMU
 * domain, cut into equal slots. A pool is either allocated for the device
 * (vdf_net_pool_create) or laid over memory the caller already has, e.g. a
 * memfd shared with a client (vdf_net_pool_create_on): then the device DMAs
 * straight into and out of the client's memory and a packet ring to that
 * client can pass buffer indexes instead of copying frames (zero-copy).
 * Each buffer is owned by exactly one party at a time:
 *   free (in its pool) -> caller (vdf_net_buf_get) -> driver (tx_batch queued
 *   it) -> free again when the device has sent it (the driver puts it back);
 *   free -> driver (posted to the RX ring) -> caller (rx_batch returned it)
 *   -> free again when the caller recycles it (vdf_net_recycle).
 * The pool checks every put: a buffer that is already free, or that is not
 * one of its slots, is refused and counted, never linked twice.
 *
 * Calling context: a network device is driven by one thread, the one running
 * its event loop; every call here, the callbacks and the driver's interrupt
 * handling run on that thread. Nothing here blocks: tx_batch queues what fits
 * and rx_batch returns what has arrived. A consumer that wants to sleep waits
 * on the event loop; the rx callback tells it that frames may be waiting.
 */
#ifndef VDF_NET_H
#define VDF_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "vdf/common.h"
#include "vdf/dma.h"

struct vdf_dev;
struct vdf_net_dev;
struct vdf_net_pool;

#define VDF_NET_ETH_ALEN      6u
#define VDF_NET_BATCH_MAX     64u /* frames per tx_batch/rx_batch call */
#define VDF_NET_MCAST_MAX     128u
#define VDF_NET_ETH_HLEN      14u
#define VDF_NET_ETH_MIN_FRAME 60u /* without FCS; shorter frames are padded by the device */

/* Buffer flags */
enum vdf_net_buf_flags {
	/* TX: the device computes the L4 checksum from csum_start to the end of
	 * the frame and stores it at csum_start + csum_offset (the field holds the
	 * pseudo-header sum, as with Linux's CHECKSUM_PARTIAL). */
	VDF_NET_TX_CSUM = BIT(0),
	/* RX: the device checked the IPv4 header / TCP-UDP checksum and it was right. */
	VDF_NET_RX_IP_CSUM_OK = BIT(1),
	VDF_NET_RX_L4_CSUM_OK = BIT(2),
	/* RX: the device checked a checksum and it was wrong (the frame is still delivered). */
	VDF_NET_RX_CSUM_BAD = BIT(3),
};

struct vdf_net_buf {
	void *data;	 /* CPU address of the frame's first byte */
	vdf_iova_t iova; /* device address of the same byte */
	uint32_t len;	 /* frame bytes (without FCS) */
	uint32_t cap;	 /* room in the buffer */
	uint32_t flags;	 /* enum vdf_net_buf_flags */
	uint16_t csum_start, csum_offset;
	uint32_t index; /* slot in its pool: what a shared ring would carry */
	struct vdf_net_pool *pool;
};

/*
 * Create a pool of `count` buffers of `buf_size` bytes (rounded up to 64)
 * in new DMA memory mapped for dev. Returns 0, -EINVAL or a DMA error.
 */
int vdf_net_pool_create(struct vdf_dev *dev, uint32_t buf_size, unsigned count,
			struct vdf_net_pool **out) VDF_MUST_CHECK;
/*
 * The same over caller memory [va, va + size) (page-aligned; e.g. a shared
 * memfd), which is mapped for dev here and stays the caller's. Buffers are
 * laid out from va in slots of buf_size (rounded up to 64) while they fit.
 */
int vdf_net_pool_create_on(struct vdf_dev *dev, void *va, size_t size, uint32_t buf_size,
			   struct vdf_net_pool **out) VDF_MUST_CHECK;
/* Unmap and free. Buffers still out are lost with it (logged). Accepts NULL. */
void vdf_net_pool_destroy(struct vdf_net_pool *pool);

/* Take a free buffer (len 0, flags 0), or NULL when none is left. */
struct vdf_net_buf *vdf_net_buf_get(struct vdf_net_pool *pool);
/* Give a buffer back to its pool. Returns 0, or -EINVAL for a buffer that is
 * already free or not from a pool (refused and counted in double_puts). */
int vdf_net_buf_put(struct vdf_net_buf *buf);
/* The buffer in slot `index`, whatever its state (NULL when out of range). */
struct vdf_net_buf *vdf_net_pool_buf(struct vdf_net_pool *pool, uint32_t index);

struct vdf_net_pool_stats {
	unsigned count;	      /* buffers in the pool */
	unsigned available;   /* free now */
	uint32_t buf_size;    /* bytes per buffer */
	uint64_t gets, puts;  /* successful takes and returns */
	uint64_t empty;	      /* vdf_net_buf_get found none */
	uint64_t double_puts; /* refused returns */
};
void vdf_net_pool_stats(const struct vdf_net_pool *pool, struct vdf_net_pool_stats *st);
/* The device the pool's memory is mapped for. */
struct vdf_dev *vdf_net_pool_dev(const struct vdf_net_pool *pool);

enum vdf_net_features {
	VDF_NET_F_RX_CSUM = BIT(0),   /* RX IPv4/TCP/UDP checksum verification */
	VDF_NET_F_TX_CSUM = BIT(1),   /* TX L4 checksum insertion (VDF_NET_TX_CSUM) */
	VDF_NET_F_MULTICAST = BIT(2), /* hardware multicast filter */
	VDF_NET_F_PROMISC = BIT(3),
	VDF_NET_F_COALESCE = BIT(4), /* interrupt moderation settings */
};

struct vdf_net_link {
	bool up;
	uint32_t speed_mbps; /* 0 when down */
	bool full_duplex;
};

struct vdf_net_info {
	uint8_t mac[VDF_NET_ETH_ALEN];	    /* current address */
	uint8_t perm_mac[VDF_NET_ETH_ALEN]; /* from the EEPROM */
	uint32_t mtu;			    /* payload bytes: frames up to mtu + 14 (+4 VLAN) */
	uint32_t max_frame;		    /* largest frame tx_batch takes, without FCS */
	uint32_t features;		    /* enum vdf_net_features */
	uint32_t rx_ring, tx_ring;	    /* descriptors per ring */
	struct vdf_net_link link;
	char model[48];
};

/* Interrupt moderation. Units are microseconds; 0 turns a timer off. */
struct vdf_net_coalesce {
	uint32_t irq_min_interval_us; /* least time between interrupts (e1000: ITR) */
	uint32_t rx_delay_us;	      /* after a frame, wait this long for more (RDTR) */
	uint32_t rx_max_delay_us;     /* ... but no longer than this after the first (RADV) */
	uint32_t tx_delay_us;	      /* TX completion delay (TIDV) */
	uint32_t tx_max_delay_us;     /* ... bounded by this (TADV) */
};

/* Counters the device keeps (read and accumulated: they never go back). */
struct vdf_net_hw_stats {
	uint64_t rx_good, tx_good;				 /* GPRC, GPTC */
	uint64_t rx_octets, tx_octets;				 /* GORC, GOTC */
	uint64_t rx_total, tx_total;				 /* TPR, TPT */
	uint64_t rx_broadcast, rx_multicast;			 /* BPRC, MPRC */
	uint64_t tx_broadcast, tx_multicast;			 /* BPTC, MPTC */
	uint64_t rx_crc_errors, rx_align_errors;		 /* CRCERRS, ALGNERRC */
	uint64_t rx_symbol_errors, rx_errors;			 /* SYMERRS, RXERRC */
	uint64_t rx_missed, rx_no_buffers;			 /* MPC, RNBC */
	uint64_t rx_undersize, rx_oversize;			 /* RUC, ROC */
	uint64_t rx_fragments, rx_jabber;			 /* RFC, RJC */
	uint64_t collisions, late_collisions, excess_collisions; /* COLC, LATECOL, ECOL */
	uint64_t tx_deferred;					 /* DC */
};

/* Counters the driver keeps. */
struct vdf_net_stats {
	uint64_t rx_packets, rx_bytes; /* delivered by rx_batch */
	uint64_t rx_errors;	       /* frames with device error bits (dropped) */
	uint64_t rx_length_errors;     /* bogus lengths, frames spanning buffers (dropped) */
	uint64_t rx_dropped;	       /* all RX frames dropped, for any reason */
	uint64_t rx_csum_bad;	       /* delivered with a bad checksum flag */
	uint64_t rx_no_buffer;	       /* ring refills that found the pool empty */
	uint64_t tx_packets, tx_bytes; /* completed by the device */
	uint64_t tx_errors;	       /* refused by tx_batch (bad length or buffer) */
	uint64_t tx_dropped;	       /* queued but lost (ring reset) */
	uint64_t tx_ring_full;	       /* tx_batch calls that stopped at a full ring */
	uint64_t tx_resets;	       /* stuck transmitter: ring reset */
	uint64_t link_changes;
	uint64_t irqs;
	struct vdf_net_hw_stats hw;
};

typedef void (*vdf_net_link_cb)(struct vdf_net_dev *ndev, const struct vdf_net_link *link,
				void *arg);
typedef void (*vdf_net_rx_cb)(struct vdf_net_dev *ndev, void *arg);

struct vdf_net_ops {
	void (*info)(struct vdf_net_dev *ndev, struct vdf_net_info *info);
	/* See vdf_net_tx_batch / vdf_net_rx_batch. */
	int (*tx_batch)(struct vdf_net_dev *ndev, struct vdf_net_buf **bufs, unsigned n);
	int (*rx_batch)(struct vdf_net_dev *ndev, struct vdf_net_buf **out, unsigned max);
	/* Reap TX completions, refill RX, check link and a stuck transmitter. */
	int (*poll)(struct vdf_net_dev *ndev);
	int (*set_mac)(struct vdf_net_dev *ndev, const uint8_t mac[VDF_NET_ETH_ALEN]);
	int (*set_promisc)(struct vdf_net_dev *ndev, bool on);
	int (*set_multicast)(struct vdf_net_dev *ndev, const uint8_t (*macs)[VDF_NET_ETH_ALEN],
			     unsigned n, bool all);
	int (*set_coalesce)(struct vdf_net_dev *ndev, const struct vdf_net_coalesce *c);
	void (*get_coalesce)(struct vdf_net_dev *ndev, struct vdf_net_coalesce *c);
	/* Fold the device's clear-on-read counters into stats.hw. */
	int (*update_stats)(struct vdf_net_dev *ndev);
};

struct vdf_net_dev {
	const struct vdf_net_ops *ops;
	const char *name;
	struct vdf_net_pool *tx_pool; /* where vdf_net_tx_alloc takes buffers */
	struct vdf_net_stats stats;
	struct vdf_net_link link; /* last known; updated by the driver */
	vdf_net_link_cb link_cb;
	void *link_cb_arg;
	vdf_net_rx_cb rx_cb;
	void *rx_cb_arg;
	void *priv;
};

void vdf_net_info(struct vdf_net_dev *ndev, struct vdf_net_info *info);

/*
 * Queue up to n (<= VDF_NET_BATCH_MAX) frames for transmission, in order.
 * Each buffer must come from a pool mapped for this device, hold 1..max_frame
 * bytes and, with VDF_NET_TX_CSUM, a checksum position inside the frame.
 * Returns how many were queued (their ownership moved to the driver, which
 * puts them back in their pool once sent), 0 when the ring is full, or a
 * negative errno when the first frame is refused: -EMSGSIZE (too long or
 * empty), -EFAULT (buffer not mapped for the device), -EINVAL (bad checksum
 * request), -ENODEV (device gone). A refused frame stays the caller's.
 */
int vdf_net_tx_batch(struct vdf_net_dev *ndev, struct vdf_net_buf **bufs,
		     unsigned n) VDF_MUST_CHECK;
/*
 * Take up to max (<= VDF_NET_BATCH_MAX) received frames. Returns how many
 * were stored in out[] (now the caller's: give each back with
 * vdf_net_recycle), 0 when none are waiting, or -ENODEV. Frames the device
 * marked bad, or with an impossible length, are dropped here and counted.
 */
int vdf_net_rx_batch(struct vdf_net_dev *ndev, struct vdf_net_buf **out,
		     unsigned max) VDF_MUST_CHECK;
/* Give received (or unused) buffers back to their pools. Returns how many
 * were refused (double or foreign returns); they are logged, not freed. */
unsigned vdf_net_recycle(struct vdf_net_dev *ndev, struct vdf_net_buf **bufs, unsigned n);
/* A buffer for a frame to send, from the device's TX pool (NULL if none). */
struct vdf_net_buf *vdf_net_tx_alloc(struct vdf_net_dev *ndev);

int vdf_net_poll(struct vdf_net_dev *ndev);
int vdf_net_set_mac(struct vdf_net_dev *ndev, const uint8_t mac[VDF_NET_ETH_ALEN]) VDF_MUST_CHECK;
int vdf_net_set_promisc(struct vdf_net_dev *ndev, bool on) VDF_MUST_CHECK;
/* Accept these multicast addresses (n <= VDF_NET_MCAST_MAX), or all multicast
 * when `all`; n = 0 and !all accepts none. -EINVAL for a unicast address. */
int vdf_net_set_multicast(struct vdf_net_dev *ndev, const uint8_t (*macs)[VDF_NET_ETH_ALEN],
			  unsigned n, bool all) VDF_MUST_CHECK;
int vdf_net_set_coalesce(struct vdf_net_dev *ndev, const struct vdf_net_coalesce *c) VDF_MUST_CHECK;
void vdf_net_get_coalesce(struct vdf_net_dev *ndev, struct vdf_net_coalesce *c);
/* Current counters (hardware ones refreshed first). */
int vdf_net_get_stats(struct vdf_net_dev *ndev, struct vdf_net_stats *st) VDF_MUST_CHECK;

void vdf_net_set_link_cb(struct vdf_net_dev *ndev, vdf_net_link_cb cb, void *arg);
void vdf_net_set_rx_cb(struct vdf_net_dev *ndev, vdf_net_rx_cb cb, void *arg);

/* For drivers: record a link state; calls the link callback when it changed. */
void vdf_net_link_update(struct vdf_net_dev *ndev, const struct vdf_net_link *link);
/* For drivers: tell the consumer frames may be waiting. */
void vdf_net_rx_notify(struct vdf_net_dev *ndev);

/* Helpers */
bool vdf_net_mac_valid(const uint8_t mac[VDF_NET_ETH_ALEN]); /* unicast, not all zeros */
static inline bool vdf_net_mac_is_multicast(const uint8_t mac[VDF_NET_ETH_ALEN])
{
	return mac[0] & 1u;
}
/* "52:54:00:12:34:56" (buf of at least 18 bytes) */
void vdf_net_mac_format(const uint8_t mac[VDF_NET_ETH_ALEN], char *buf);
/* Parse "52:54:00:12:34:56": 0 or -EINVAL. */
int vdf_net_mac_parse(const char *s, uint8_t mac[VDF_NET_ETH_ALEN]) VDF_MUST_CHECK;

#endif
