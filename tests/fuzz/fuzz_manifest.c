// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the manifest and policy parsers over arbitrary bytes.
 * Manifests decide what a driver is granted, so the parser must refuse
 * anything odd with a message and never crash, hang or leak. When an input
 * parses, it goes on through everything that consumes a manifest: matching
 * and explaining against a fixed device (QEMU's NVMe), the capability check
 * and argv building; the invariants the manager relies on are checked here.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../manager/match.h"
#include "../../manager/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct vdf_pci_info nvme_dev = {
    .addr = "0000:00:04.0",
    .vendor = 0x1b36,
    .device = 0x0010,
    .subsys_vendor = 0x1af4,
    .subsys_device = 0x1100,
    .class_code = 0x01,
    .subclass = 0x08,
    .prog_if = 0x02,
    .bar_size = {16384, 0, 0, 0, 0, 0},
    .bar_kind = {VDF_BAR_MEM},
    .iommu_group = 3,
    .driver = "vfio-pci",
    .msix_count = 65,
    .has_intx = true,
};

static void check_manifest(struct vdf_manifest *m)
{
	struct vdf_manifest_set set = {0};
	struct vdf_match_explain why;
	char text[2048], caps[256], **argv;
	int score;

	if (!m->name[0] || !m->version[0] || !m->binary || !m->binary_path || !m->nrules ||
	    m->nrules > VDF_MANIFEST_MAX_RULES || m->nargs > VDF_MANIFEST_MAX_ARGS ||
	    m->caps.msix_min > m->caps.msix || m->caps.msi_min > m->caps.msi ||
	    (m->caps.bars & m->caps.io_bars) || m->caps.dma_window > VDF_MANIFEST_MAX_DMA ||
	    (uint64_t)m->limits.memlock_mb << 20 < m->caps.dma_window ||
	    m->restart.backoff_max_ms < m->restart.backoff_initial_ms)
		abort();
	score = vdf_match_score(m, &nvme_dev, &why);
	if (score < 0 || (score && !why.rule) || strlen(why.text) >= sizeof(why.text))
		abort();
	(void)vdf_match_check_caps(m, &nvme_dev, caps, sizeof(caps));
	if (vdf_manifest_build_argv(m, nvme_dev.addr, &argv) == 0) {
		if (strcmp(argv[0], m->binary_path) || argv[m->nargs + 1])
			abort();
		for (unsigned i = 1; i <= m->nargs; i++)
			if (strstr(argv[i], "{pci}"))
				abort();
		free(argv);
	}
	if (vdf_manifest_set_add(&set, m) == 0) {
		vdf_match_explain_text(&set, &nvme_dev, text, sizeof(text));
		vdf_match_explain_text(&set, &nvme_dev, text, 16); /* cut short */
	}
	vdf_manifest_set_free(&set);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[VDF_MANIFEST_ERR_MAX];
	struct vdf_manifest m;
	struct vdf_policy p;
	const struct vdf_manifest *out;
	char why[256];
	int rc;

	rc = vdf_manifest_parse((const char *)data, size, "fuzz.manifest", &m, err, sizeof(err));
	if (rc) {
		/* Every refusal says why, naming the input. */
		if (strncmp(err, "fuzz.manifest: ", 15) || strlen(err) >= sizeof(err))
			abort();
	} else {
		check_manifest(&m);
	}
	vdf_manifest_free(&m);

	/* The policy file goes through the same front end. */
	if (vdf_policy_parse((const char *)data, size, "fuzz.policy", &p, err, sizeof(err)) == 0) {
		(void)vdf_policy_admits(&p, &nvme_dev, why, sizeof(why));
		(void)vdf_policy_decide(&p, NULL, &nvme_dev, &out, why, sizeof(why));
	} else if (strncmp(err, "fuzz.policy: ", 13)) {
		abort();
	}
	return 0;
}
