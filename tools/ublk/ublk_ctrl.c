// SPDX-License-Identifier: MIT
/*
 * The ublk control plane: commands to /dev/ublk-control as IORING_OP_URING_CMD
 * on a ring with 128-byte SQEs (struct ublksrv_ctrl_cmd is 32 bytes, more
 * than a 64-byte SQE has room for), ioctl-encoded opcodes
 * (Documentation/block/ublk.rst, "Control plane").
 *
 * One command at a time, from the main thread. The driver runs control
 * commands from io_uring's worker threads, so submitting never blocks; the
 * wait does, in 100 ms slices so an abort check (a signal, a failed queue)
 * can cancel a command that would otherwise wait for ever (START_DEV waits
 * for every tag of every queue to be fetched).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "ublk_srv.h"
#include "vdf/log.h"

#define CTRL_RING_ENTRIES 4
#define CTRL_SLICE_NS	  (100 * 1000 * 1000)
#define CTRL_CANCEL_MS	  5000u
/* Timeouts: commands that wait on our own queues or on the block layer get
 * long ones (the guest runs under emulation); the rest answer at once. */
#define CTRL_SHORT_MS  10000u
#define CTRL_LONG_MS   60000u
#define CTRL_CANCEL_UD UINT64_MAX

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

const char *ublk_ctrl_cmd_name(uint32_t cmd_op)
{
	switch (_IOC_NR(cmd_op)) {
	case UBLK_CMD_GET_DEV_INFO:
		return "GET_DEV_INFO";
	case UBLK_CMD_ADD_DEV:
		return "ADD_DEV";
	case UBLK_CMD_DEL_DEV:
		return "DEL_DEV";
	case UBLK_CMD_START_DEV:
		return "START_DEV";
	case UBLK_CMD_STOP_DEV:
		return "STOP_DEV";
	case UBLK_CMD_SET_PARAMS:
		return "SET_PARAMS";
	case UBLK_CMD_GET_PARAMS:
		return "GET_PARAMS";
	case UBLK_CMD_START_USER_RECOVERY:
		return "START_USER_RECOVERY";
	case UBLK_CMD_END_USER_RECOVERY:
		return "END_USER_RECOVERY";
	default:
		return "?";
	}
}

int ublk_ctrl_open(struct ublk_ctrl *c)
{
	int ret;

	memset(c, 0, sizeof(*c));
	c->fd = open(UBLK_CONTROL_PATH, O_RDWR | O_CLOEXEC);
	if (c->fd < 0) {
		ret = -errno;
		vdf_log(LOG_ERR, UBLK_COMP, "control", "open %s: %s%s", UBLK_CONTROL_PATH,
			strerror(-ret), ret == -ENOENT ? " (modprobe ublk_drv)" : "");
		return ret;
	}
	ret = io_uring_queue_init(CTRL_RING_ENTRIES, &c->ring, IORING_SETUP_SQE128);
	if (ret < 0) {
		vdf_log(LOG_ERR, UBLK_COMP, "control", "io_uring with 128-byte SQEs: %s",
			strerror(-ret));
		close(c->fd);
		c->fd = -1;
		return ret;
	}
	c->ring_ok = true;
	return 0;
}

void ublk_ctrl_close(struct ublk_ctrl *c)
{
	if (!c)
		return;
	if (c->ring_ok)
		io_uring_queue_exit(&c->ring);
	c->ring_ok = false;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/* Ask io_uring to cancel command ud (the driver sees it interrupted). */
static void ctrl_cancel(struct ublk_ctrl *c, uint64_t ud)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&c->ring);

	if (!sqe)
		return;
	io_uring_prep_cancel64(sqe, ud, 0);
	sqe->user_data = CTRL_CANCEL_UD;
	(void)io_uring_submit(&c->ring);
}

/* Wait for the completion of ud; see the file comment. */
static int ctrl_wait(struct ublk_ctrl *c, uint32_t cmd_op, uint64_t ud, unsigned timeout_ms,
		     ublk_abort_fn abort, void *arg, int *res)
{
	uint64_t deadline = now_ms() + timeout_ms, cancel_deadline = 0;
	int why = 0, ret;

	for (;;) {
		struct __kernel_timespec ts = {.tv_sec = 0, .tv_nsec = CTRL_SLICE_NS};
		struct io_uring_cqe *cqe;

		ret = io_uring_wait_cqe_timeout(&c->ring, &cqe, &ts);
		if (ret == 0) {
			uint64_t got = cqe->user_data;

			*res = cqe->res;
			io_uring_cqe_seen(&c->ring, cqe);
			/* Even after a cancel: what the command did is what counts. */
			if (got == ud)
				return 0;
			continue; /* a cancel's own completion */
		}
		if (ret != -ETIME && ret != -EINTR && ret != -EAGAIN) {
			c->broken = true;
			return ret;
		}
		if (!why && ((abort && abort(arg)) || now_ms() > deadline)) {
			why = now_ms() > deadline ? -ETIMEDOUT : -ECANCELED;
			vdf_log(LOG_WARNING, UBLK_COMP, "control", "%s %s: cancelling",
				ublk_ctrl_cmd_name(cmd_op),
				why == -ETIMEDOUT ? "timed out" : "aborted");
			ctrl_cancel(c, ud);
			cancel_deadline = now_ms() + CTRL_CANCEL_MS;
		} else if (why && now_ms() > cancel_deadline) {
			vdf_log(LOG_ERR, UBLK_COMP, "control", "%s did not come back from cancel",
				ublk_ctrl_cmd_name(cmd_op));
			c->broken = true;
			return why;
		}
	}
}

/*
 * One command, synchronously. buf/len: the command's in/out buffer (addr and
 * len of struct ublksrv_ctrl_cmd); data0: its inline argument.
 */
static int ctrl_cmd(struct ublk_ctrl *c, uint32_t cmd_op, uint32_t dev_id, uint64_t data0,
		    void *buf, uint16_t len, unsigned timeout_ms, ublk_abort_fn abort, void *arg)
{
	struct ublksrv_ctrl_cmd cmd;
	struct io_uring_sqe *sqe;
	uint64_t ud;
	int ret, res = 0;

	if (!c->ring_ok || c->broken)
		return -EIO;
	sqe = io_uring_get_sqe(&c->ring);
	if (!sqe)
		return -EBUSY;
	memset(sqe, 0, 2 * sizeof(*sqe)); /* SQE128 */
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = c->fd;
	sqe->cmd_op = cmd_op;
	ud = ++c->seq;
	sqe->user_data = ud;
	memset(&cmd, 0, sizeof(cmd));
	cmd.dev_id = dev_id;
	cmd.queue_id = UBLK_QUEUE_ID_NONE;
	cmd.addr = (uint64_t)(uintptr_t)buf;
	cmd.len = len;
	cmd.data[0] = data0;
	memcpy((uint8_t *)sqe + offsetof(struct io_uring_sqe, cmd), &cmd, sizeof(cmd));

	ret = io_uring_submit(&c->ring);
	if (ret < 0)
		return ret;
	if (ret != 1)
		return -EIO;
	ret = ctrl_wait(c, cmd_op, ud, timeout_ms, abort, arg, &res);
	if (ret)
		return ret;
	return res < 0 ? res : 0;
}

int ublk_ctrl_add_dev(struct ublk_ctrl *c, struct ublksrv_ctrl_dev_info *info)
{
	return ctrl_cmd(c, UBLK_U_CMD_ADD_DEV, info->dev_id, 0, info, sizeof(*info), CTRL_SHORT_MS,
			NULL, NULL);
}

int ublk_ctrl_del_dev(struct ublk_ctrl *c, uint32_t dev_id)
{
	/* Waits until every opener of /dev/ublkcN has closed it. */
	return ctrl_cmd(c, UBLK_U_CMD_DEL_DEV, dev_id, 0, NULL, 0, CTRL_LONG_MS, NULL, NULL);
}

int ublk_ctrl_get_info(struct ublk_ctrl *c, uint32_t dev_id, struct ublksrv_ctrl_dev_info *info)
{
	memset(info, 0, sizeof(*info));
	return ctrl_cmd(c, UBLK_U_CMD_GET_DEV_INFO, dev_id, 0, info, sizeof(*info), CTRL_SHORT_MS,
			NULL, NULL);
}

int ublk_ctrl_set_params(struct ublk_ctrl *c, uint32_t dev_id, const struct ublk_params *p)
{
	return ctrl_cmd(c, UBLK_U_CMD_SET_PARAMS, dev_id, 0, (void *)p, (uint16_t)p->len,
			CTRL_SHORT_MS, NULL, NULL);
}

int ublk_ctrl_get_params(struct ublk_ctrl *c, uint32_t dev_id, struct ublk_params *p)
{
	uint32_t len = p->len;

	memset(p, 0, sizeof(*p));
	p->len = len;
	return ctrl_cmd(c, UBLK_U_CMD_GET_PARAMS, dev_id, 0, p, (uint16_t)len, CTRL_SHORT_MS, NULL,
			NULL);
}

int ublk_ctrl_start_dev(struct ublk_ctrl *c, uint32_t dev_id, int pid, ublk_abort_fn abort,
			void *arg)
{
	return ctrl_cmd(c, UBLK_U_CMD_START_DEV, dev_id, (uint64_t)pid, NULL, 0, CTRL_LONG_MS,
			abort, arg);
}

int ublk_ctrl_stop_dev(struct ublk_ctrl *c, uint32_t dev_id)
{
	return ctrl_cmd(c, UBLK_U_CMD_STOP_DEV, dev_id, 0, NULL, 0, CTRL_LONG_MS, NULL, NULL);
}

int ublk_ctrl_start_recovery(struct ublk_ctrl *c, uint32_t dev_id)
{
	return ctrl_cmd(c, UBLK_U_CMD_START_USER_RECOVERY, dev_id, 0, NULL, 0, CTRL_SHORT_MS, NULL,
			NULL);
}

int ublk_ctrl_end_recovery(struct ublk_ctrl *c, uint32_t dev_id, int pid, ublk_abort_fn abort,
			   void *arg)
{
	return ctrl_cmd(c, UBLK_U_CMD_END_USER_RECOVERY, dev_id, (uint64_t)pid, NULL, 0,
			CTRL_LONG_MS, abort, arg);
}
