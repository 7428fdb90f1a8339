// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: PCI capability-list walking over arbitrary config space.
 * Config space comes from the device, so every byte is untrusted. The walk
 * must end, never read outside the image, and return offsets inside it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vdf/hw/pci.h"
#include "vdf/pci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Images are exactly 256 or 4096 bytes, heap-allocated at that size so
	 * ASan sees any read past the end. */
	size_t len = size > PCI_CFG_SPACE_SIZE ? PCI_CFG_SPACE_EXP_SIZE : PCI_CFG_SPACE_SIZE;
	uint8_t *cfg = calloc(1, len);
	struct vdf_pci_caps caps;

	if (!cfg)
		return 0;
	memcpy(cfg, data, size < len ? size : len);
	vdf_pci_parse_caps(cfg, len, &caps);
	if (caps.count > VDF_PCI_MAX_CAPS)
		abort();
	for (unsigned i = 0; i < caps.count; i++) {
		const struct vdf_pci_cap *c = &caps.caps[i];

		if (c->offset >= len || (!c->extended && c->offset < PCI_CAP_MIN_PTR) ||
		    (c->extended && c->offset < PCI_EXT_CAP_START))
			abort();
		if (vdf_pci_find_cap(&caps, c->id, c->extended) < 0)
			abort();
	}
	free(cfg);
	return 0;
}
