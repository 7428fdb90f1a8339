// SPDX-License-Identifier: MIT
/* Physical Region Page entries and lists (NVMe base spec 4.3). */
#include <endian.h>
#include <errno.h>

#include "nvme.h"

int nvme_prp_build(vdf_iova_t iova, uint32_t len, uint32_t page_size, uint64_t *list,
		   vdf_iova_t list_iova, unsigned list_cap, uint64_t *prp1, uint64_t *prp2)
{
	uint64_t first, remaining, next;
	unsigned entries;

	/* PRP entries carry a page offset whose two low bits must be zero. */
	if (!len || (iova & 3) || !page_size || (page_size & (page_size - 1)))
		return -EINVAL;
	*prp1 = iova;
	*prp2 = 0;
	first = page_size - (iova & (page_size - 1));
	if (len <= first)
		return 0;
	remaining = len - first;
	next = VDF_ALIGN_DOWN(iova, (uint64_t)page_size) + page_size;
	if (remaining <= page_size) {
		*prp2 = next;
		return 0;
	}
	entries = (unsigned)VDF_DIV_ROUND_UP(remaining, page_size);
	/* One list page, no chaining: callers cap transfers at page_size/8 pages. */
	if (entries > list_cap || entries > page_size / sizeof(uint64_t))
		return -E2BIG;
	if (!list || (list_iova & 3))
		return -EINVAL;
	for (unsigned i = 0; i < entries; i++)
		list[i] = htole64(next + (uint64_t)i * page_size);
	*prp2 = list_iova;
	return 0;
}
