// SPDX-License-Identifier: MIT
/*
 * Data-area allocator of the block client: first fit over pages. The area is
 * small (a few MiB) and allocations are long-lived buffers an application
 * reuses, so a linear scan is enough.
 */
#include <errno.h>
#include <stdlib.h>

#include "client_internal.h"

int client_buf_init(struct vdf_client *c)
{
	c->n_pages = (uint32_t)(c->layout.data_size / VDF_BLKS_PAGE);
	c->buf_pages = calloc(c->n_pages, sizeof(*c->buf_pages));
	return c->buf_pages ? 0 : -ENOMEM;
}

void client_buf_fini(struct vdf_client *c)
{
	free(c->buf_pages);
	c->buf_pages = NULL;
}

bool client_buf_inside(const struct vdf_client *c, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	return p >= c->data && len <= c->layout.data_size &&
	       (size_t)(p - c->data) <= c->layout.data_size - len;
}

int vdf_client_buf_alloc(struct vdf_client *c, size_t len, void **buf)
{
	uint32_t need, run = 0;

	if (!len || len > c->layout.data_size)
		return -EINVAL;
	need = (uint32_t)VDF_DIV_ROUND_UP(len, VDF_BLKS_PAGE);
	for (uint32_t i = 0; i < c->n_pages;) {
		if (c->buf_pages[i]) { /* an allocation starts here: skip it */
			i += c->buf_pages[i];
			run = 0;
			continue;
		}
		if (++run == need) {
			uint32_t first = i + 1 - need;

			c->buf_pages[first] = need;
			*buf = c->data + (size_t)first * VDF_BLKS_PAGE;
			return 0;
		}
		i++;
	}
	return -ENOMEM;
}

void vdf_client_buf_free(struct vdf_client *c, void *buf)
{
	size_t off;

	if (!buf)
		return;
	off = (size_t)((uint8_t *)buf - c->data);
	if (!client_buf_inside(c, buf, 1) || off % VDF_BLKS_PAGE)
		return; /* not ours: ignore, like free() of a bad pointer would not */
	c->buf_pages[off / VDF_BLKS_PAGE] = 0;
}
