// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the vdfd control protocol decoders.
 *
 * Every byte a control client sends reaches vdf_ctl_decode_request, and every
 * byte of an answer reaches vdf_ctl_decode_response in vdfctl. Both must
 * return a clear error or a valid result on any input, never crash, leak or
 * read outside the frame. The frame is copied to a heap buffer of exactly its
 * size so ASan sees any overread.
 *
 * Properties checked beyond "no crash":
 *  - a failed decode sets a non-empty reason and leaves the request zeroed;
 *  - a decoded request is valid (command in range, dev/level/lba/count/mode/
 *    unit as the command allows) and survives encode -> decode unchanged;
 *  - a decoded response has a boolean "ok" and an "error" string when false.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "vdf/ctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_request(const uint8_t *frame, size_t size)
{
	struct vdf_ctl_request req, again;
	uint8_t buf[1024];
	char err[256];
	size_t len;
	int rc;

	rc = vdf_ctl_decode_request(frame, size, &req, err, sizeof(err));
	if (rc) {
		if (rc > 0 || !err[0] || req.cmd != 0 || req.dev[0] || req.level != -1 ||
		    req.read_only || req.unit)
			abort();
		return;
	}
	if ((unsigned)req.cmd >= VDF_CTL_CMD_COUNT || err[0])
		abort();
	if (req.dev[0] ? !vdf_ctl_dev_valid(req.dev) || !vdf_ctl_cmd_takes_dev(req.cmd)
		       : vdf_ctl_cmd_needs_dev(req.cmd))
		abort();
	if (req.level < -1 || req.level > LOG_DEBUG ||
	    (req.level >= 0 && req.cmd != VDF_CTL_LOG_LEVEL))
		abort();
	if (req.unit > VDF_CLIENT_UNIT_MAX ||
	    ((req.read_only || req.unit) && req.cmd != VDF_CTL_OPEN))
		abort();
	if (vdf_ctl_encode_request(&req, buf, sizeof(buf), &len))
		abort();
	if (vdf_ctl_decode_request(buf, len, &again, err, sizeof(err)))
		abort();
	if (again.cmd != req.cmd || strcmp(again.dev, req.dev) || again.level != req.level ||
	    again.lba != req.lba || again.count != req.count || again.read_only != req.read_only ||
	    again.unit != req.unit)
		abort();
}

static void check_response(const uint8_t *frame, size_t size)
{
	json_object *resp, *ok, *e;
	char err[256];
	int rc;

	rc = vdf_ctl_decode_response(frame, size, &resp, err, sizeof(err));
	if (rc) {
		if (rc > 0 || !err[0] || resp)
			abort();
		return;
	}
	if (!json_object_object_get_ex(resp, "ok", &ok) ||
	    !json_object_is_type(ok, json_type_boolean))
		abort();
	if (!json_object_get_boolean(ok) && (!json_object_object_get_ex(resp, "error", &e) ||
					     !json_object_is_type(e, json_type_string)))
		abort();
	json_object_put(resp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *frame = malloc(size ? size : 1);

	if (!frame)
		return 0;
	memcpy(frame, data, size);
	check_request(frame, size);
	/* The same bytes as an answer: flip the response flag so the payload
	 * parser is reached on the same inputs. */
	if (size >= VDF_CTL_HDR_SIZE)
		frame[6] ^= VDF_CTL_F_RESPONSE;
	check_response(frame, size);
	free(frame);
	return 0;
}
