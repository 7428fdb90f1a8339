// SPDX-License-Identifier: MIT
/* Network class: packet buffer pools and the calls drivers implement; see vdf/net.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vdf/hal.h"
#include "vdf/log.h"
#include "vdf/net.h"

#define POOL_ALIGN 64u

struct vdf_net_pool {
	struct vdf_dev *dev;
	struct vdf_dma_buf *dma;
	uint32_t stride;
	unsigned count, nfree;
	struct vdf_net_buf *bufs;
	uint8_t *is_free;
	unsigned *free_stack;
	uint64_t gets, puts, empty, double_puts;
};

static int pool_init(struct vdf_net_pool *p, struct vdf_dev *dev, uint32_t stride, unsigned count)
{
	p->dev = dev;
	p->stride = stride;
	p->count = count;
	p->bufs = calloc(count, sizeof(*p->bufs));
	p->is_free = calloc(count, 1);
	p->free_stack = calloc(count, sizeof(*p->free_stack));
	if (!p->bufs || !p->is_free || !p->free_stack)
		return -ENOMEM;
	for (unsigned i = 0; i < count; i++) {
		struct vdf_net_buf *b = &p->bufs[i];

		b->data = (uint8_t *)p->dma->va + (size_t)i * stride;
		b->iova = p->dma->iova + (uint64_t)i * stride;
		b->cap = stride;
		b->index = i;
		b->pool = p;
		p->is_free[i] = 1;
		p->free_stack[i] = count - 1 - i; /* slot 0 is handed out first */
	}
	p->nfree = count;
	return 0;
}

static void pool_free_meta(struct vdf_net_pool *p)
{
	free(p->bufs);
	free(p->is_free);
	free(p->free_stack);
	free(p);
}

int vdf_net_pool_create(struct vdf_dev *dev, uint32_t buf_size, unsigned count,
			struct vdf_net_pool **out)
{
	struct vdf_net_pool *p;
	uint32_t stride;
	int rc;

	if (!buf_size || !count || buf_size > (1u << 20) || count > (1u << 20))
		return -EINVAL;
	stride = VDF_ALIGN_UP(buf_size, POOL_ALIGN);
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	rc = vdf_dma_alloc(dev, (size_t)stride * count, VDF_DMA_BIDIRECTIONAL, &p->dma);
	if (rc)
		goto out_free;
	rc = pool_init(p, dev, stride, count);
	if (rc)
		goto out_dma;
	*out = p;
	return 0;

out_dma:
	vdf_dma_free(p->dma);
out_free:
	pool_free_meta(p);
	return rc;
}

int vdf_net_pool_create_on(struct vdf_dev *dev, void *va, size_t size, uint32_t buf_size,
			   struct vdf_net_pool **out)
{
	struct vdf_net_pool *p;
	uint32_t stride;
	size_t count;
	int rc;

	if (!buf_size || buf_size > (1u << 20) || !va)
		return -EINVAL;
	stride = VDF_ALIGN_UP(buf_size, POOL_ALIGN);
	count = size / stride;
	if (!count || count > (1u << 20))
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	rc = vdf_dma_map(dev, va, size, VDF_DMA_BIDIRECTIONAL, &p->dma);
	if (rc)
		goto out_free;
	rc = pool_init(p, dev, stride, (unsigned)count);
	if (rc)
		goto out_dma;
	*out = p;
	return 0;

out_dma:
	vdf_dma_free(p->dma);
out_free:
	pool_free_meta(p);
	return rc;
}

void vdf_net_pool_destroy(struct vdf_net_pool *p)
{
	if (!p)
		return;
	if (p->nfree != p->count)
		vdf_log(LOG_WARNING, "net", vdf_dev_name(p->dev),
			"buffer pool destroyed with %u of %u buffers still out",
			p->count - p->nfree, p->count);
	vdf_dma_free(p->dma);
	pool_free_meta(p);
}

struct vdf_net_buf *vdf_net_buf_get(struct vdf_net_pool *p)
{
	struct vdf_net_buf *b;
	unsigned idx;

	if (!p->nfree) {
		p->empty++;
		return NULL;
	}
	idx = p->free_stack[--p->nfree];
	p->is_free[idx] = 0;
	p->gets++;
	b = &p->bufs[idx];
	b->len = 0;
	b->flags = 0;
	b->csum_start = b->csum_offset = 0;
	return b;
}

int vdf_net_buf_put(struct vdf_net_buf *b)
{
	struct vdf_net_pool *p;

	if (!b || !b->pool)
		return -EINVAL;
	p = b->pool;
	/* The index must name this very slot: a corrupted or copied buf is refused. */
	if (b->index >= p->count || &p->bufs[b->index] != b || p->is_free[b->index] ||
	    p->nfree >= p->count) {
		p->double_puts++;
		VDF_LOG_RL(LOG_ERR, "net", vdf_dev_name(p->dev),
			   "buffer %u returned twice or not from this pool: refused", b->index);
		return -EINVAL;
	}
	p->is_free[b->index] = 1;
	p->free_stack[p->nfree++] = b->index;
	p->puts++;
	return 0;
}

struct vdf_net_buf *vdf_net_pool_buf(struct vdf_net_pool *p, uint32_t index)
{
	return index < p->count ? &p->bufs[index] : NULL;
}

void vdf_net_pool_stats(const struct vdf_net_pool *p, struct vdf_net_pool_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->count = p->count;
	st->available = p->nfree;
	st->buf_size = p->stride;
	st->gets = p->gets;
	st->puts = p->puts;
	st->empty = p->empty;
	st->double_puts = p->double_puts;
}

struct vdf_dev *vdf_net_pool_dev(const struct vdf_net_pool *p)
{
	return p->dev;
}

/* --- The class calls --- */

void vdf_net_info(struct vdf_net_dev *ndev, struct vdf_net_info *info)
{
	memset(info, 0, sizeof(*info));
	ndev->ops->info(ndev, info);
}

int vdf_net_tx_batch(struct vdf_net_dev *ndev, struct vdf_net_buf **bufs, unsigned n)
{
	if (n > VDF_NET_BATCH_MAX || (n && !bufs))
		return -EINVAL;
	if (!n)
		return 0;
	return ndev->ops->tx_batch(ndev, bufs, n);
}

int vdf_net_rx_batch(struct vdf_net_dev *ndev, struct vdf_net_buf **out, unsigned max)
{
	if (max > VDF_NET_BATCH_MAX || (max && !out))
		return -EINVAL;
	if (!max)
		return 0;
	return ndev->ops->rx_batch(ndev, out, max);
}

unsigned vdf_net_recycle(struct vdf_net_dev *ndev, struct vdf_net_buf **bufs, unsigned n)
{
	unsigned refused = 0;

	(void)ndev;
	for (unsigned i = 0; i < n; i++)
		if (vdf_net_buf_put(bufs[i]))
			refused++;
	return refused;
}

struct vdf_net_buf *vdf_net_tx_alloc(struct vdf_net_dev *ndev)
{
	return ndev->tx_pool ? vdf_net_buf_get(ndev->tx_pool) : NULL;
}

int vdf_net_poll(struct vdf_net_dev *ndev)
{
	return ndev->ops->poll ? ndev->ops->poll(ndev) : 0;
}

int vdf_net_set_mac(struct vdf_net_dev *ndev, const uint8_t mac[VDF_NET_ETH_ALEN])
{
	if (!vdf_net_mac_valid(mac))
		return -EINVAL;
	return ndev->ops->set_mac ? ndev->ops->set_mac(ndev, mac) : -EOPNOTSUPP;
}

int vdf_net_set_promisc(struct vdf_net_dev *ndev, bool on)
{
	return ndev->ops->set_promisc ? ndev->ops->set_promisc(ndev, on) : -EOPNOTSUPP;
}

int vdf_net_set_multicast(struct vdf_net_dev *ndev, const uint8_t (*macs)[VDF_NET_ETH_ALEN],
			  unsigned n, bool all)
{
	if (n > VDF_NET_MCAST_MAX || (n && !macs))
		return -EINVAL;
	for (unsigned i = 0; i < n; i++)
		if (!vdf_net_mac_is_multicast(macs[i]))
			return -EINVAL;
	return ndev->ops->set_multicast ? ndev->ops->set_multicast(ndev, macs, n, all)
					: -EOPNOTSUPP;
}

int vdf_net_set_coalesce(struct vdf_net_dev *ndev, const struct vdf_net_coalesce *c)
{
	return ndev->ops->set_coalesce ? ndev->ops->set_coalesce(ndev, c) : -EOPNOTSUPP;
}

void vdf_net_get_coalesce(struct vdf_net_dev *ndev, struct vdf_net_coalesce *c)
{
	memset(c, 0, sizeof(*c));
	if (ndev->ops->get_coalesce)
		ndev->ops->get_coalesce(ndev, c);
}

int vdf_net_get_stats(struct vdf_net_dev *ndev, struct vdf_net_stats *st)
{
	int rc = ndev->ops->update_stats ? ndev->ops->update_stats(ndev) : 0;

	*st = ndev->stats;
	return rc;
}

void vdf_net_set_link_cb(struct vdf_net_dev *ndev, vdf_net_link_cb cb, void *arg)
{
	ndev->link_cb = cb;
	ndev->link_cb_arg = arg;
}

void vdf_net_set_rx_cb(struct vdf_net_dev *ndev, vdf_net_rx_cb cb, void *arg)
{
	ndev->rx_cb = cb;
	ndev->rx_cb_arg = arg;
}

void vdf_net_link_update(struct vdf_net_dev *ndev, const struct vdf_net_link *link)
{
	if (ndev->link.up == link->up && ndev->link.speed_mbps == link->speed_mbps &&
	    ndev->link.full_duplex == link->full_duplex)
		return;
	ndev->link = *link;
	ndev->stats.link_changes++;
	if (link->up)
		vdf_log(LOG_INFO, "net", ndev->name, "link up, %u Mb/s %s duplex", link->speed_mbps,
			link->full_duplex ? "full" : "half");
	else
		vdf_log(LOG_INFO, "net", ndev->name, "link down");
	if (ndev->link_cb)
		ndev->link_cb(ndev, link, ndev->link_cb_arg);
}

void vdf_net_rx_notify(struct vdf_net_dev *ndev)
{
	if (ndev->rx_cb)
		ndev->rx_cb(ndev, ndev->rx_cb_arg);
}

bool vdf_net_mac_valid(const uint8_t mac[VDF_NET_ETH_ALEN])
{
	static const uint8_t zero[VDF_NET_ETH_ALEN];

	return !vdf_net_mac_is_multicast(mac) && memcmp(mac, zero, VDF_NET_ETH_ALEN) != 0;
}

void vdf_net_mac_format(const uint8_t mac[VDF_NET_ETH_ALEN], char *buf)
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int vdf_net_mac_parse(const char *s, uint8_t mac[VDF_NET_ETH_ALEN])
{
	for (unsigned i = 0; i < VDF_NET_ETH_ALEN; i++) {
		int hi = hexval(s[0]), lo = hi < 0 ? -1 : hexval(s[1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
		s += 2;
		if (i + 1 < VDF_NET_ETH_ALEN && *s++ != ':')
			return -EINVAL;
	}
	return *s ? -EINVAL : 0;
}
