// SPDX-License-Identifier: MIT
/* First-fit IOVA allocator; see iova.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "iova.h"

static int grow(struct vdf_iova_space *s)
{
	unsigned ncap = s->cap ? s->cap * 2 : 16;
	struct vdf_iova_range *n = realloc(s->free, ncap * sizeof(*n));

	if (!n)
		return -ENOMEM;
	s->free = n;
	s->cap = ncap;
	return 0;
}

static int insert_at(struct vdf_iova_space *s, unsigned i, uint64_t start, uint64_t len)
{
	int rc;

	if (s->nfree == s->cap) {
		rc = grow(s);
		if (rc)
			return rc;
	}
	memmove(&s->free[i + 1], &s->free[i], (s->nfree - i) * sizeof(s->free[0]));
	s->free[i].start = start;
	s->free[i].len = len;
	s->nfree++;
	return 0;
}

static void remove_at(struct vdf_iova_space *s, unsigned i)
{
	memmove(&s->free[i], &s->free[i + 1], (s->nfree - i - 1) * sizeof(s->free[0]));
	s->nfree--;
}

/* A page-aligned length that does not wrap when rounded or added to start. */
static int range_ok(uint64_t start, uint64_t len)
{
	return len && len <= UINT64_MAX - (VDF_PAGE_SIZE - 1) &&
	       start <= UINT64_MAX - VDF_ALIGN_UP(len, (uint64_t)VDF_PAGE_SIZE);
}

int vdf_iova_space_init(struct vdf_iova_space *s, uint64_t start, uint64_t len)
{
	memset(s, 0, sizeof(*s));
	if (!VDF_IS_ALIGNED(start, VDF_PAGE_SIZE) || !VDF_IS_ALIGNED(len, VDF_PAGE_SIZE) ||
	    !range_ok(start, len))
		return -EINVAL;
	s->base = start;
	s->limit = start + len;
	return insert_at(s, 0, start, len);
}

void vdf_iova_space_fini(struct vdf_iova_space *s)
{
	free(s->free);
	memset(s, 0, sizeof(*s));
}

int vdf_iova_space_reserve(struct vdf_iova_space *s, uint64_t start, uint64_t len)
{
	uint64_t end;

	if (!range_ok(start, len))
		return -EINVAL;
	/* Whole pages: round the start down and the end up. */
	end = VDF_ALIGN_UP(start + len, (uint64_t)VDF_PAGE_SIZE);
	start = VDF_ALIGN_DOWN(start, (uint64_t)VDF_PAGE_SIZE);

	for (unsigned i = 0; i < s->nfree; i++) {
		struct vdf_iova_range *r = &s->free[i];
		uint64_t rend = r->start + r->len;

		if (end <= r->start || start >= rend)
			continue;
		if (start <= r->start && end >= rend) {
			remove_at(s, i);
			i--;
		} else if (start <= r->start) {
			r->len = rend - end;
			r->start = end;
		} else if (end >= rend) {
			r->len = start - r->start;
		} else {
			r->len = start - r->start;
			return insert_at(s, i + 1, end, rend - end);
		}
	}
	return 0;
}

int vdf_iova_alloc(struct vdf_iova_space *s, uint64_t len, vdf_iova_t *iova)
{
	if (!range_ok(0, len))
		return -EINVAL;
	len = VDF_ALIGN_UP(len, (uint64_t)VDF_PAGE_SIZE);
	for (unsigned i = 0; i < s->nfree; i++) {
		struct vdf_iova_range *r = &s->free[i];

		if (r->len < len)
			continue;
		*iova = r->start;
		r->start += len;
		r->len -= len;
		if (!r->len)
			remove_at(s, i);
		return 0;
	}
	return -ENOSPC;
}

int vdf_iova_free(struct vdf_iova_space *s, vdf_iova_t iova, uint64_t len)
{
	unsigned i;

	if (!range_ok(iova, len) || !VDF_IS_ALIGNED(iova, VDF_PAGE_SIZE))
		return -EINVAL;
	len = VDF_ALIGN_UP(len, (uint64_t)VDF_PAGE_SIZE);
	if (iova < s->base || iova + len > s->limit)
		return -EINVAL;
	for (i = 0; i < s->nfree && s->free[i].start < iova; i++)
		;
	/* Refuse overlaps with free space: a double free is a caller bug. */
	if (i > 0 && s->free[i - 1].start + s->free[i - 1].len > iova)
		return -EINVAL;
	if (i < s->nfree && iova + len > s->free[i].start)
		return -EINVAL;
	if (i > 0 && s->free[i - 1].start + s->free[i - 1].len == iova) {
		s->free[i - 1].len += len;
		if (i < s->nfree && s->free[i - 1].start + s->free[i - 1].len == s->free[i].start) {
			s->free[i - 1].len += s->free[i].len;
			remove_at(s, i);
		}
		return 0;
	}
	if (i < s->nfree && iova + len == s->free[i].start) {
		s->free[i].start = iova;
		s->free[i].len += len;
		return 0;
	}
	return insert_at(s, i, iova, len);
}
