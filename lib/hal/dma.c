// SPDX-License-Identifier: MIT
/* DMA buffers, pools and scatter-gather lists; see vdf/dma.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "dev_internal.h"
#include "vdf/dma.h"
#include "vdf/log.h"
#include "vdf/mmio.h"

static int dma_map_common(struct vdf_dev *dev, void *va, size_t size, enum vdf_dma_dir dir,
			  int owns, struct vdf_dma_buf **out)
{
	struct vdf_dma_buf *buf;
	uint64_t window = dev->rights.dma_window;
	int rc;

	/* The grant's DMA window caps what is mapped at once (RLIMIT_MEMLOCK is
	 * the kernel's cap behind it). */
	if (dev->dma_mapped > window || size > window - dev->dma_mapped) {
		VDF_LOG_RL(LOG_WARNING, "dma", dev->name,
			   "mapping %zu bytes refused: %zu of a %llu-byte DMA window in use", size,
			   dev->dma_mapped, (unsigned long long)window);
		return -ENOSPC;
	}
	buf = calloc(1, sizeof(*buf));
	if (!buf)
		return -ENOMEM;
	rc = dev->ops->dma_map(dev, va, size, &buf->iova);
	if (rc) {
		free(buf);
		return rc;
	}
	buf->va = va;
	buf->size = size;
	buf->dir = dir;
	buf->dev = dev;
	buf->owns_memory = owns;
	dev->dma_mapped += size;
	*out = buf;
	return 0;
}

int vdf_dma_alloc(struct vdf_dev *dev, size_t size, enum vdf_dma_dir dir, struct vdf_dma_buf **out)
{
	void *va;
	int rc;

	if (!size)
		return -EINVAL;
	size = VDF_ALIGN_UP(size, (size_t)VDF_PAGE_SIZE);
	va = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
		  -1, 0);
	if (va == MAP_FAILED)
		return -errno;
	rc = dma_map_common(dev, va, size, dir, 1, out);
	if (rc)
		munmap(va, size);
	return rc;
}

int vdf_dma_map(struct vdf_dev *dev, void *va, size_t size, enum vdf_dma_dir dir,
		struct vdf_dma_buf **out)
{
	if (!size || !VDF_IS_ALIGNED((uintptr_t)va, VDF_PAGE_SIZE) ||
	    !VDF_IS_ALIGNED(size, (size_t)VDF_PAGE_SIZE))
		return -EINVAL;
	return dma_map_common(dev, va, size, dir, 0, out);
}

void vdf_dma_free(struct vdf_dma_buf *buf)
{
	int rc;

	if (!buf)
		return;
	rc = buf->dev->ops->dma_unmap(buf->dev, buf->iova, buf->size);
	if (rc) {
		/* The device may still reach this memory: leak it rather than reuse it. */
		vdf_log(LOG_ERR, "dma", buf->dev->name, "unmap of %zu bytes failed (%d); leaking",
			buf->size, rc);
		free(buf);
		return;
	}
	buf->dev->dma_mapped -= buf->size;
	if (buf->owns_memory)
		munmap(buf->va, buf->size);
	free(buf);
}

int vdf_dma_iova(const struct vdf_dma_buf *buf, const void *va, vdf_iova_t *iova)
{
	uintptr_t p = (uintptr_t)va, base = (uintptr_t)buf->va;

	if (p < base || p - base >= buf->size)
		return -ERANGE;
	*iova = buf->iova + (p - base);
	return 0;
}

/* x86 DMA is cache-coherent: ordering is all that is needed. */
void vdf_dma_sync_for_device(struct vdf_dma_buf *buf, size_t off, size_t len)
{
	(void)buf;
	(void)off;
	(void)len;
	vdf_wmb();
}

void vdf_dma_sync_for_cpu(struct vdf_dma_buf *buf, size_t off, size_t len)
{
	(void)buf;
	(void)off;
	(void)len;
	vdf_rmb();
}

size_t vdf_dma_mapped_bytes(const struct vdf_dev *dev)
{
	return dev->dma_mapped;
}

struct vdf_dma_pool {
	struct vdf_dma_buf *buf;
	size_t stride;
	unsigned count, nfree;
	unsigned *free_stack;
};

int vdf_dma_pool_create(struct vdf_dev *dev, size_t obj_size, size_t align, unsigned count,
			struct vdf_dma_pool **out)
{
	struct vdf_dma_pool *pool;
	int rc;

	if (!obj_size || !count || !align || (align & (align - 1)) || align > VDF_PAGE_SIZE)
		return -EINVAL;
	pool = calloc(1, sizeof(*pool));
	if (!pool)
		return -ENOMEM;
	pool->stride = VDF_ALIGN_UP(obj_size, align);
	pool->count = count;
	pool->free_stack = malloc(count * sizeof(unsigned));
	if (!pool->free_stack) {
		rc = -ENOMEM;
		goto out_free_pool;
	}
	rc = vdf_dma_alloc(dev, pool->stride * count, VDF_DMA_BIDIRECTIONAL, &pool->buf);
	if (rc)
		goto out_free_stack;
	for (unsigned i = 0; i < count; i++)
		pool->free_stack[i] = count - 1 - i;
	pool->nfree = count;
	*out = pool;
	return 0;

out_free_stack:
	free(pool->free_stack);
out_free_pool:
	free(pool);
	return rc;
}

void vdf_dma_pool_destroy(struct vdf_dma_pool *pool)
{
	if (!pool)
		return;
	vdf_dma_free(pool->buf);
	free(pool->free_stack);
	free(pool);
}

int vdf_dma_pool_get(struct vdf_dma_pool *pool, void **va, vdf_iova_t *iova)
{
	unsigned idx;

	if (!pool->nfree)
		return -ENOMEM;
	idx = pool->free_stack[--pool->nfree];
	*va = (uint8_t *)pool->buf->va + (size_t)idx * pool->stride;
	*iova = pool->buf->iova + (uint64_t)idx * pool->stride;
	return 0;
}

void vdf_dma_pool_put(struct vdf_dma_pool *pool, void *va)
{
	size_t off = (size_t)((uint8_t *)va - (uint8_t *)pool->buf->va);

	assert(off < pool->stride * pool->count && off % pool->stride == 0);
	assert(pool->nfree < pool->count);
	pool->free_stack[pool->nfree++] = (unsigned)(off / pool->stride);
}

unsigned vdf_dma_pool_available(const struct vdf_dma_pool *pool)
{
	return pool->nfree;
}

int vdf_sgl_init(struct vdf_sgl *sgl, unsigned cap)
{
	memset(sgl, 0, sizeof(*sgl));
	if (!cap)
		return -EINVAL;
	sgl->ents = calloc(cap, sizeof(*sgl->ents));
	if (!sgl->ents)
		return -ENOMEM;
	sgl->cap = cap;
	return 0;
}

void vdf_sgl_fini(struct vdf_sgl *sgl)
{
	free(sgl->ents);
	memset(sgl, 0, sizeof(*sgl));
}

void vdf_sgl_reset(struct vdf_sgl *sgl)
{
	sgl->count = 0;
	sgl->total = 0;
}

int vdf_sgl_add(struct vdf_sgl *sgl, vdf_iova_t iova, uint32_t len)
{
	if (!len)
		return -EINVAL;
	if (sgl->count) {
		struct vdf_sg_entry *last = &sgl->ents[sgl->count - 1];

		if (last->iova + last->len == iova && (uint64_t)last->len + len <= UINT32_MAX) {
			last->len += len;
			sgl->total += len;
			return 0;
		}
	}
	if (sgl->count == sgl->cap)
		return -ENOSPC;
	sgl->ents[sgl->count].iova = iova;
	sgl->ents[sgl->count].len = len;
	sgl->count++;
	sgl->total += len;
	return 0;
}
