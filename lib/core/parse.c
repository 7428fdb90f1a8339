// SPDX-License-Identifier: MIT
/* Number parsing for command lines; see vdf/parse.h. */
#include <errno.h>
#include <stdlib.h>

#include "vdf/parse.h"

static int parse_prefix(const char *s, unsigned long long *v, char **end)
{
	errno = 0;
	*v = strtoull(s, end, 0);
	return errno || *end == s || *s == '-' || *s == '+' || *s == ' ' ? -EINVAL : 0;
}

int vdf_parse_u64(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (parse_prefix(s, &v, &end) || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

int vdf_parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned shift = 0;
	char *end;

	if (parse_prefix(s, &v, &end))
		return -EINVAL;
	switch (*end) {
	case 'k':
	case 'K':
		shift = 10;
		end++;
		break;
	case 'm':
	case 'M':
		shift = 20;
		end++;
		break;
	case 'g':
	case 'G':
		shift = 30;
		end++;
		break;
	default:
		break;
	}
	if (*end || v == 0 || v > (~0ull >> shift))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}
