// SPDX-License-Identifier: MIT
/* NVMe completion status codes (base spec 4.6.1.2) to strings and errnos. */
#include <errno.h>

#include "nvme.h"

struct status_name {
	uint8_t sct, sc;
	const char *name;
};

static const struct status_name status_names[] = {
    {NVME_SCT_GENERIC, NVME_SC_SUCCESS, "success"},
    {NVME_SCT_GENERIC, NVME_SC_INVALID_OPCODE, "invalid command opcode"},
    {NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD, "invalid field in command"},
    {NVME_SCT_GENERIC, NVME_SC_CID_CONFLICT, "command ID conflict"},
    {NVME_SCT_GENERIC, NVME_SC_DATA_TRANSFER_ERROR, "data transfer error"},
    {NVME_SCT_GENERIC, NVME_SC_POWER_LOSS, "aborted due to power loss"},
    {NVME_SCT_GENERIC, NVME_SC_INTERNAL, "internal error"},
    {NVME_SCT_GENERIC, NVME_SC_ABORT_REQ, "command abort requested"},
    {NVME_SCT_GENERIC, NVME_SC_ABORT_SQ_DELETED, "aborted: submission queue deleted"},
    {NVME_SCT_GENERIC, NVME_SC_FUSED_FAIL, "aborted: failed fused command"},
    {NVME_SCT_GENERIC, NVME_SC_FUSED_MISSING, "aborted: missing fused command"},
    {NVME_SCT_GENERIC, NVME_SC_INVALID_NS, "invalid namespace or format"},
    {NVME_SCT_GENERIC, NVME_SC_CMD_SEQ_ERROR, "command sequence error"},
    {NVME_SCT_GENERIC, NVME_SC_PRP_OFFSET_INVALID, "PRP offset invalid"},
    {NVME_SCT_GENERIC, NVME_SC_OPERATION_DENIED, "operation denied"},
    {NVME_SCT_GENERIC, NVME_SC_LBA_RANGE, "LBA out of range"},
    {NVME_SCT_GENERIC, NVME_SC_CAP_EXCEEDED, "capacity exceeded"},
    {NVME_SCT_GENERIC, NVME_SC_NS_NOT_READY, "namespace not ready"},
    {NVME_SCT_CMD_SPECIFIC, NVME_SC_CQ_INVALID, "completion queue invalid"},
    {NVME_SCT_CMD_SPECIFIC, NVME_SC_QID_INVALID, "invalid queue identifier"},
    {NVME_SCT_CMD_SPECIFIC, NVME_SC_QUEUE_SIZE, "invalid queue size"},
    {NVME_SCT_CMD_SPECIFIC, NVME_SC_ABORT_LIMIT, "abort command limit exceeded"},
    {NVME_SCT_CMD_SPECIFIC, NVME_SC_ASYNC_LIMIT, "asynchronous event request limit exceeded"},
    {NVME_SCT_CMD_SPECIFIC, NVME_SC_INVALID_VECTOR, "invalid interrupt vector"},
    {NVME_SCT_CMD_SPECIFIC, NVME_SC_INVALID_LOG_PAGE, "invalid log page"},
    {NVME_SCT_CMD_SPECIFIC, NVME_SC_INVALID_FORMAT, "invalid format"},
    {NVME_SCT_CMD_SPECIFIC, NVME_SC_INVALID_QUEUE_DELETION, "invalid queue deletion"},
    {NVME_SCT_CMD_SPECIFIC, NVME_SC_CONFLICTING_ATTRS, "conflicting attributes"},
    {NVME_SCT_CMD_SPECIFIC, NVME_SC_READ_ONLY, "attempted write to read-only range"},
    {NVME_SCT_MEDIA, NVME_SC_WRITE_FAULT, "write fault"},
    {NVME_SCT_MEDIA, NVME_SC_READ_ERROR, "unrecovered read error"},
    {NVME_SCT_MEDIA, NVME_SC_GUARD_CHECK, "end-to-end guard check error"},
    {NVME_SCT_MEDIA, NVME_SC_APPTAG_CHECK, "end-to-end application tag check error"},
    {NVME_SCT_MEDIA, NVME_SC_REFTAG_CHECK, "end-to-end reference tag check error"},
    {NVME_SCT_MEDIA, NVME_SC_COMPARE_FAILED, "compare failure"},
    {NVME_SCT_MEDIA, NVME_SC_ACCESS_DENIED, "access denied"},
    {NVME_SCT_MEDIA, NVME_SC_UNWRITTEN_BLOCK, "deallocated or unwritten logical block"},
};

const char *nvme_status_string(uint16_t status)
{
	unsigned sct = FIELD_GET(NVME_CPL_SCT, status), sc = FIELD_GET(NVME_CPL_SC, status);

	for (unsigned i = 0; i < VDF_ARRAY_SIZE(status_names); i++)
		if (status_names[i].sct == sct && status_names[i].sc == sc)
			return status_names[i].name;
	switch (sct) {
	case NVME_SCT_GENERIC:
		return "unknown generic status";
	case NVME_SCT_CMD_SPECIFIC:
		return "unknown command-specific status";
	case NVME_SCT_MEDIA:
		return "unknown media error";
	case NVME_SCT_PATH:
		return "path error";
	case NVME_SCT_VENDOR:
		return "vendor-specific status";
	default:
		return "reserved status code type";
	}
}

int nvme_status_to_errno(uint16_t status)
{
	unsigned sct = FIELD_GET(NVME_CPL_SCT, status), sc = FIELD_GET(NVME_CPL_SC, status);

	if (sct == NVME_SCT_GENERIC) {
		switch (sc) {
		case NVME_SC_SUCCESS:
			return 0;
		case NVME_SC_INVALID_OPCODE:
			return -EOPNOTSUPP;
		case NVME_SC_INVALID_FIELD:
		case NVME_SC_PRP_OFFSET_INVALID:
		case NVME_SC_INVALID_NS:
			return -EINVAL;
		case NVME_SC_LBA_RANGE:
		case NVME_SC_CAP_EXCEEDED:
			return -ERANGE;
		case NVME_SC_NS_NOT_READY:
			return -EAGAIN;
		case NVME_SC_ABORT_REQ:
		case NVME_SC_ABORT_SQ_DELETED:
			return -ECANCELED;
		case NVME_SC_OPERATION_DENIED:
			return -EPERM;
		default:
			return -EIO;
		}
	}
	if (sct == NVME_SCT_CMD_SPECIFIC && sc == NVME_SC_READ_ONLY)
		return -EROFS;
	if (sct == NVME_SCT_MEDIA && sc == NVME_SC_ACCESS_DENIED)
		return -EACCES;
	if (sct == NVME_SCT_CMD_SPECIFIC)
		return -EINVAL;
	return -EIO;
}
