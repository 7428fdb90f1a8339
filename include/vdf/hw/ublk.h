/* SPDX-License-Identifier: MIT */
/*
 * ublk, the Linux user-space block device driver (ublk_drv): the parts of its
 * UAPI that the build machine's <linux/ublk_cmd.h> (linux-libc-dev 6.1) lacks,
 * plus layout asserts for everything VDF exchanges with the driver.
 *
 * Source: Linux include/uapi/linux/ublk_cmd.h as of v6.12 (ioctl-encoded
 * control and I/O opcodes, feature flags up to UBLK_F_USER_RECOVERY_FAIL_IO,
 * device states) and Documentation/block/ublk.rst, sections "Control plane"
 * (ADD_DEV, SET_PARAMS, START_DEV, STOP_DEV, DEL_DEV, GET_DEV_INFO,
 * START/END_USER_RECOVERY) and "Data plane" (descriptor array mmapped from
 * /dev/ublkcN, FETCH_REQ, COMMIT_AND_FETCH_REQ, per-tag buffers). The mmap
 * offset of a queue's descriptor array follows ublk_ch_mmap() in
 * drivers/block/ublk_drv.c (a stride of the largest possible array).
 *
 * Only definitions here: no code. The 6.1 header's names are used as they
 * are; anything newer is defined only if the system header does not.
 */
#ifndef VDF_HW_UBLK_H
#define VDF_HW_UBLK_H

#include <assert.h>
#include <errno.h> /* UBLK_IO_RES_ABORT is -ENODEV */
#include <stddef.h>
#include <stdint.h>
#include <linux/ioctl.h>
#include <linux/ublk_cmd.h>

/* Device nodes. */
#define UBLK_CONTROL_PATH "/dev/ublk-control"
#define UBLK_CDEV_FMT	  "/dev/ublkc%u" /* I/O command channel of device N */
#define UBLK_BDEV_FMT	  "/dev/ublkb%u" /* the block device */

/* ADD_DEV with dev_id = UBLK_DEV_ID_AUTO lets the driver pick the number. */
#define UBLK_DEV_ID_AUTO 0xffffffffu
/* Control commands name no queue. */
#define UBLK_QUEUE_ID_NONE 0xffffu

/* Control opcodes, ioctl-encoded (sent in sqe->cmd_op on /dev/ublk-control). */
#ifndef UBLK_U_CMD_ADD_DEV
#define UBLK_U_CMD_GET_QUEUE_AFFINITY \
	_IOR('u', UBLK_CMD_GET_QUEUE_AFFINITY, struct ublksrv_ctrl_cmd)
#define UBLK_U_CMD_GET_DEV_INFO _IOR('u', UBLK_CMD_GET_DEV_INFO, struct ublksrv_ctrl_cmd)
#define UBLK_U_CMD_ADD_DEV	_IOWR('u', UBLK_CMD_ADD_DEV, struct ublksrv_ctrl_cmd)
#define UBLK_U_CMD_DEL_DEV	_IOWR('u', UBLK_CMD_DEL_DEV, struct ublksrv_ctrl_cmd)
#define UBLK_U_CMD_START_DEV	_IOWR('u', UBLK_CMD_START_DEV, struct ublksrv_ctrl_cmd)
#define UBLK_U_CMD_STOP_DEV	_IOWR('u', UBLK_CMD_STOP_DEV, struct ublksrv_ctrl_cmd)
#define UBLK_U_CMD_SET_PARAMS	_IOWR('u', UBLK_CMD_SET_PARAMS, struct ublksrv_ctrl_cmd)
#define UBLK_U_CMD_GET_PARAMS	_IOR('u', UBLK_CMD_GET_PARAMS, struct ublksrv_ctrl_cmd)
#define UBLK_U_CMD_START_USER_RECOVERY \
	_IOWR('u', UBLK_CMD_START_USER_RECOVERY, struct ublksrv_ctrl_cmd)
#define UBLK_U_CMD_END_USER_RECOVERY _IOWR('u', UBLK_CMD_END_USER_RECOVERY, struct ublksrv_ctrl_cmd)
#endif

/* I/O opcodes, ioctl-encoded (sent in sqe->cmd_op on /dev/ublkcN). */
#ifndef UBLK_U_IO_FETCH_REQ
#define UBLK_U_IO_FETCH_REQ _IOWR('u', UBLK_IO_FETCH_REQ, struct ublksrv_io_cmd)
#define UBLK_U_IO_COMMIT_AND_FETCH_REQ \
	_IOWR('u', UBLK_IO_COMMIT_AND_FETCH_REQ, struct ublksrv_io_cmd)
#define UBLK_U_IO_NEED_GET_DATA _IOWR('u', UBLK_IO_NEED_GET_DATA, struct ublksrv_io_cmd)
#endif

/* Feature flags (ublksrv_ctrl_dev_info.flags) newer than 6.1. */
#ifndef UBLK_F_UNPRIVILEGED_DEV
#define UBLK_F_UNPRIVILEGED_DEV (1ULL << 5)
#endif
#ifndef UBLK_F_CMD_IOCTL_ENCODE
#define UBLK_F_CMD_IOCTL_ENCODE (1ULL << 6)
#endif
#ifndef UBLK_F_USER_COPY
#define UBLK_F_USER_COPY (1ULL << 7)
#endif
#ifndef UBLK_F_ZONED
#define UBLK_F_ZONED (1ULL << 8)
#endif
#ifndef UBLK_F_USER_RECOVERY_FAIL_IO
#define UBLK_F_USER_RECOVERY_FAIL_IO (1ULL << 9)
#endif

/* Device states (ublksrv_ctrl_dev_info.state). */
#ifndef UBLK_S_DEV_FAIL_IO
#define UBLK_S_DEV_FAIL_IO 3
#endif

/* Limits of the driver. */
#ifndef UBLK_MAX_NR_QUEUES
#define UBLK_MAX_NR_QUEUES 4096u /* 12-bit queue id */
#endif
/* The driver rounds max_io_buf_bytes down to a page; 6.12 caps a buffer at 32 MiB. */
#define UBLK_MAX_IO_BUF_BYTES (32u << 20)

/* ublksrv_io_desc.op_flags: op in bits 0-7, UBLK_IO_F_* flags above. */
#define UBLK_IO_OP_MASK	  0xffu
#define UBLK_SECTOR_SHIFT 9

/*
 * Descriptor array of queue q in the mmap of /dev/ublkcN: at offset
 * UBLKSRV_CMD_BUF_OFFSET + q * stride, where the stride is the size of the
 * largest array (UBLK_MAX_QUEUE_DEPTH descriptors) rounded up to a page, and
 * the length mapped must be exactly queue_depth descriptors rounded up to a
 * page. The mapping must be read-only (the driver refuses VM_WRITE).
 */
#define UBLK_DESC_ARRAY_STRIDE(page)                                                             \
	((((size_t)UBLK_MAX_QUEUE_DEPTH * sizeof(struct ublksrv_io_desc)) + (page)-1) / (page) * \
	 (page))
#define UBLK_DESC_ARRAY_SIZE(depth, page) \
	((((size_t)(depth) * sizeof(struct ublksrv_io_desc)) + (page)-1) / (page) * (page))

/* Length of struct ublk_params up to and including the discard block: what
 * VDF sets and reads (basic + discard), independent of newer kernels' tail. */
#define UBLK_PARAMS_LEN_BASIC_DISCARD \
	(offsetof(struct ublk_params, discard) + sizeof(struct ublk_param_discard))

/* Layouts shared with the driver. */
static_assert(sizeof(struct ublksrv_ctrl_cmd) == 32, "ublksrv_ctrl_cmd");
static_assert(offsetof(struct ublksrv_ctrl_cmd, addr) == 8, "ublksrv_ctrl_cmd.addr");
static_assert(offsetof(struct ublksrv_ctrl_cmd, data) == 16, "ublksrv_ctrl_cmd.data");
static_assert(sizeof(struct ublksrv_ctrl_dev_info) == 64, "ublksrv_ctrl_dev_info");
static_assert(offsetof(struct ublksrv_ctrl_dev_info, max_io_buf_bytes) == 8, "max_io_buf_bytes");
static_assert(offsetof(struct ublksrv_ctrl_dev_info, ublksrv_pid) == 16, "ublksrv_pid");
static_assert(offsetof(struct ublksrv_ctrl_dev_info, flags) == 24, "flags");
static_assert(sizeof(struct ublksrv_io_desc) == 24, "ublksrv_io_desc");
static_assert(offsetof(struct ublksrv_io_desc, start_sector) == 8, "start_sector");
static_assert(offsetof(struct ublksrv_io_desc, addr) == 16, "addr");
static_assert(sizeof(struct ublksrv_io_cmd) == 16, "ublksrv_io_cmd fits a 64-byte SQE");
static_assert(offsetof(struct ublksrv_io_cmd, addr) == 8, "ublksrv_io_cmd.addr");
static_assert(sizeof(struct ublk_param_basic) == 32, "ublk_param_basic");
static_assert(sizeof(struct ublk_param_discard) == 20, "ublk_param_discard");
static_assert(offsetof(struct ublk_params, basic) == 8, "ublk_params.basic");
static_assert(offsetof(struct ublk_params, discard) == 40, "ublk_params.discard");
static_assert(UBLK_PARAMS_LEN_BASIC_DISCARD == 60, "ublk_params basic+discard length");

#endif
