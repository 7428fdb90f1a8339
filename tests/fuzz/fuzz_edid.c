// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: EDID parsing (lib/class/edid.c). The blob comes from the
 * device, so every byte is untrusted. Each input is parsed twice: as it is
 * (mostly rejected by the header or checksum), and with the header written
 * over it and the checksum fixed, so the fuzzer reaches the descriptor and
 * timing decoding without having to find a checksum. Either way the parser
 * must stay inside the buffer and return a well-formed result.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vdf/edid.h"
#include "vdf/hw/edid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct vdf_edid_info *info)
{
	if (info->nmodes > VDF_EDID_MODES_MAX)
		abort();
	if (info->vendor[3] != '\0')
		abort();
	for (unsigned i = 0; i < 3; i++)
		if (info->vendor[i] != '?' && (info->vendor[i] < 'A' || info->vendor[i] > 'Z'))
			abort();
	if (!memchr(info->name, '\0', sizeof(info->name)))
		abort();
	for (const char *c = info->name; *c; c++)
		if (*c < 0x20 || *c > 0x7e)
			abort();
	for (unsigned i = 0; i < info->nmodes; i++) {
		const struct vdf_edid_mode *m = &info->modes[i];

		if (!m->width || !m->height || !m->refresh_hz)
			abort();
		if (m->preferred && i != 0)
			abort();
		for (unsigned j = 0; j < i; j++)
			if (info->modes[j].width == m->width &&
			    info->modes[j].height == m->height &&
			    info->modes[j].refresh_hz == m->refresh_hz)
				abort();
	}
	if (info->has_preferred && (!info->preferred.pixel_clock_khz || !info->preferred.hactive ||
				    !info->preferred.vactive || !info->preferred.refresh_hz))
		abort();
	if (!info->has_preferred && info->nmodes && info->modes[0].preferred)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t header[EDID_HEADER_LEN] = {0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0};
	struct vdf_edid_info info;
	size_t len = size < EDID_BLOCK_SIZE ? EDID_BLOCK_SIZE : size;
	uint8_t *blob, sum = 0;
	int rc;

	/* As it is: libFuzzer's buffer is exactly size bytes long. */
	rc = vdf_edid_parse(data, size, &info);
	if (rc != 0 && rc != -EINVAL && rc != -EBADMSG)
		abort();
	if (!vdf_edid_strerror(rc))
		abort();
	if (rc == 0)
		check(&info);

	/* Made valid: header and checksum fixed, the rest as given. */
	blob = calloc(1, len);
	if (!blob)
		return 0;
	memcpy(blob, data, size);
	memcpy(blob + EDID_HEADER, header, sizeof(header));
	for (unsigned i = 0; i < EDID_CHECKSUM; i++)
		sum = (uint8_t)(sum + blob[i]);
	blob[EDID_CHECKSUM] = (uint8_t)(0x100 - sum);
	if (vdf_edid_parse(blob, len, &info) != 0)
		abort();
	check(&info);
	free(blob);
	return 0;
}
