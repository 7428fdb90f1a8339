/* SPDX-License-Identifier: MIT */
/* Number parsing for command lines (the tools and drivers' options). */
#ifndef VDF_PARSE_H
#define VDF_PARSE_H

#include <stdint.h>

#include "vdf/common.h"

/* A whole string as an unsigned number (decimal, 0x hex or 0 octal); no sign,
 * no trailing characters. Returns 0 or -EINVAL (also on overflow). */
int vdf_parse_u64(const char *s, uint64_t *out) VDF_MUST_CHECK;

/* A non-zero size with an optional binary suffix K, M or G (either case):
 * "64M" = 67108864. Returns 0 or -EINVAL (also on overflow). */
int vdf_parse_size(const char *s, uint64_t *out) VDF_MUST_CHECK;

#endif
