// SPDX-License-Identifier: MIT
/*
 * Life cycle of one ublk device (Documentation/block/ublk.rst, "Control
 * plane"):
 *   add:     ADD_DEV → SET_PARAMS → open /dev/ublkcN → queue threads (each
 *            fetches all its tags) → START_DEV (the driver waits for those
 *            fetches, then adds /dev/ublkbN and reads its partition table
 *            through the queues)
 *   recover: GET_DEV_INFO/GET_PARAMS (the backend must match) →
 *            START_USER_RECOVERY (retried until the dead server's
 *            /dev/ublkcN is released and the device quiesced) → open → queue
 *            threads → END_USER_RECOVERY (requeued I/O is reissued to us)
 *   remove:  STOP_DEV (the driver drains I/O through the queues, then aborts
 *            their fetches and the threads end) → join → close → DEL_DEV
 *
 * Devices are created with UBLK_F_USER_RECOVERY so that they outlive a
 * server killed with SIGKILL: /dev/ublkbN stays and I/O waits for a new
 * server. UBLK_F_USER_RECOVERY_REISSUE makes the driver requeue the requests
 * the dead server held instead of failing them: every request we serve is
 * idempotent (a READ, or a WRITE/DISCARD/WRITE_ZEROES of the same data at
 * the same place, or a FLUSH), so doing one twice is harmless, while failing
 * it would hand an I/O error to the filesystem or application above.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "ublk_srv.h"
#include "vdf/log.h"

#define CDEV_OPEN_TRIES	 50
#define RETRY_SLEEP_US	 100000
#define RECOVERY_WAIT_MS 30000u
#define ALIVE_GRACE_MS	 3000u

static void dev_reset(struct ublk_dev *d, const struct vdf_ublk_backend_ops *ops, void *bctx,
		      int wake_fd)
{
	memset(d, 0, sizeof(*d));
	d->cdev_fd = -1;
	d->ops = ops;
	d->bctx = bctx;
	d->wake_fd = wake_fd;
	snprintf(d->name, sizeof(d->name), "ublk");
}

static void dev_set_id(struct ublk_dev *d, uint32_t id)
{
	d->id = id;
	snprintf(d->name, sizeof(d->name), "ublk%u", id);
}

static int dev_backend_info(struct ublk_dev *d)
{
	int ret;

	d->ops->info(d->bctx, &d->binfo);
	ret = vdf_ublk_info_check(&d->binfo);
	if (ret)
		vdf_log(LOG_ERR, UBLK_COMP, d->name,
			"%s backend: size %llu / block size %u cannot be exported", d->ops->name,
			(unsigned long long)d->binfo.size, d->binfo.block_size);
	return ret;
}

/* The node appears with the device (devtmpfs); udev may still be busy with it. */
static int dev_open_cdev(struct ublk_dev *d)
{
	char path[32];
	int i, ret = -ENOENT;

	snprintf(path, sizeof(path), UBLK_CDEV_FMT, d->id);
	for (i = 0; i < CDEV_OPEN_TRIES; i++) {
		d->cdev_fd = open(path, O_RDWR | O_CLOEXEC);
		if (d->cdev_fd >= 0)
			return 0;
		ret = -errno;
		if (ret != -ENOENT && ret != -EBUSY)
			break;
		usleep(RETRY_SLEEP_US);
	}
	vdf_log(LOG_ERR, UBLK_COMP, d->name, "open %s: %s", path, strerror(-ret));
	return ret;
}

static int dev_start_queues(struct ublk_dev *d)
{
	unsigned q;
	int ret;

	d->queues = calloc(d->info.nr_hw_queues, sizeof(*d->queues));
	if (!d->queues)
		return -ENOMEM;
	d->nr_queues = d->info.nr_hw_queues;
	for (q = 0; q < d->nr_queues; q++) {
		ret = ublk_queue_start(d, q, &d->queues[q]);
		if (ret) {
			vdf_log(LOG_ERR, UBLK_COMP, d->name, "queue %u: %s", q, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

static void dev_stop_queues(struct ublk_dev *d)
{
	struct ublk_queue_stats st, sum = {0};
	unsigned q;

	for (q = 0; q < d->nr_queues; q++)
		ublk_queue_request_stop(d->queues[q]);
	for (q = 0; q < d->nr_queues; q++) {
		if (!d->queues[q])
			continue;
		memset(&st, 0, sizeof(st));
		if (ublk_queue_join(d->queues[q], &st))
			vdf_log(LOG_WARNING, UBLK_COMP, d->name, "queue %u ended with an error", q);
		sum.ios += st.ios;
		sum.errors += st.errors;
		sum.rejected += st.rejected;
		sum.bytes_read += st.bytes_read;
		sum.bytes_written += st.bytes_written;
	}
	if (d->nr_queues)
		vdf_log(LOG_INFO, UBLK_COMP, d->name,
			"served %llu requests (%llu MiB read, %llu MiB written), %llu errors, %llu "
			"refused",
			(unsigned long long)sum.ios, (unsigned long long)(sum.bytes_read >> 20),
			(unsigned long long)(sum.bytes_written >> 20),
			(unsigned long long)sum.errors, (unsigned long long)sum.rejected);
	free(d->queues);
	d->queues = NULL;
	d->nr_queues = 0;
}

bool ublk_dev_queue_ended(const struct ublk_dev *d)
{
	unsigned q;

	for (q = 0; q < d->nr_queues; q++)
		if (d->queues[q] && ublk_queue_ended(d->queues[q]))
			return true;
	return false;
}

int ublk_dev_remove(struct ublk_dev *d, struct ublk_ctrl *c)
{
	int ret = 0, r;

	if (d->started) {
		r = ublk_ctrl_stop_dev(c, d->id);
		if (r) {
			vdf_log(LOG_ERR, UBLK_COMP, d->name, "STOP_DEV: %s", strerror(-r));
			ret = r;
		}
		d->started = false;
	}
	dev_stop_queues(d);
	if (d->cdev_fd >= 0)
		close(d->cdev_fd);
	d->cdev_fd = -1;
	if (d->added) {
		r = ublk_ctrl_del_dev(c, d->id);
		if (r) {
			vdf_log(LOG_ERR, UBLK_COMP, d->name, "DEL_DEV: %s", strerror(-r));
			ret = ret ? ret : r;
		}
		d->added = false;
	}
	return ret;
}

/* Did the driver grant something we can serve? (It may clamp, never grow.) */
static int dev_check_granted(struct ublk_dev *d, const struct ublk_dev_opts *o)
{
	const struct ublksrv_ctrl_dev_info *info = &d->info;

	if (info->nr_hw_queues == 0 || info->nr_hw_queues > UBLK_MAX_NR_QUEUES ||
	    (o && info->nr_hw_queues > o->nr_queues) || info->queue_depth == 0 ||
	    info->queue_depth > UBLK_MAX_QUEUE_DEPTH || (o && info->queue_depth > o->depth) ||
	    info->max_io_buf_bytes < VDF_PAGE_SIZE || (o && info->max_io_buf_bytes > d->buf_size) ||
	    (d->binfo.max_io && info->max_io_buf_bytes > d->binfo.max_io)) {
		vdf_log(LOG_ERR, UBLK_COMP, d->name,
			"driver answered %u queues of depth %u, %u-byte buffers: unusable",
			info->nr_hw_queues, info->queue_depth, info->max_io_buf_bytes);
		return -EPROTO;
	}
	if (o && info->nr_hw_queues < o->nr_queues)
		vdf_log(LOG_NOTICE, UBLK_COMP, d->name, "driver granted %u queues (one per CPU)",
			info->nr_hw_queues);
	d->buf_size = VDF_ALIGN_DOWN(info->max_io_buf_bytes, d->binfo.block_size);
	return 0;
}

int ublk_dev_add(struct ublk_dev *d, struct ublk_ctrl *c, const struct vdf_ublk_backend_ops *ops,
		 void *bctx, const struct ublk_dev_opts *o, int wake_fd, ublk_abort_fn abort,
		 void *arg)
{
	struct ublksrv_ctrl_dev_info info;
	struct ublk_params p;
	int ret;

	dev_reset(d, ops, bctx, wake_fd);
	ret = dev_backend_info(d);
	if (ret)
		return ret;
	d->buf_size = vdf_ublk_buf_size(&d->binfo, o->max_io);

	memset(&info, 0, sizeof(info));
	info.nr_hw_queues = (uint16_t)o->nr_queues;
	info.queue_depth = (uint16_t)o->depth;
	info.max_io_buf_bytes = d->buf_size;
	info.dev_id = o->id < 0 ? UBLK_DEV_ID_AUTO : (uint32_t)o->id;
	info.flags = UBLK_F_USER_RECOVERY | UBLK_F_USER_RECOVERY_REISSUE | UBLK_F_CMD_IOCTL_ENCODE;
	ret = ublk_ctrl_add_dev(c, &info);
	if (ret) {
		vdf_log(LOG_ERR, UBLK_COMP, d->name, "ADD_DEV: %s", strerror(-ret));
		return ret;
	}
	d->info = info;
	d->added = true;
	dev_set_id(d, info.dev_id);
	ret = dev_check_granted(d, o);
	if (ret)
		goto out_remove;
	if (!(info.flags & UBLK_F_USER_RECOVERY))
		vdf_log(LOG_WARNING, UBLK_COMP, d->name,
			"driver has no user recovery: the device dies with this process");

	vdf_ublk_params_init(&p, &d->binfo, d->buf_size);
	ret = ublk_ctrl_set_params(c, d->id, &p);
	if (ret) {
		vdf_log(LOG_ERR, UBLK_COMP, d->name, "SET_PARAMS: %s", strerror(-ret));
		goto out_remove;
	}
	ret = dev_open_cdev(d);
	if (ret)
		goto out_remove;
	ret = dev_start_queues(d);
	if (ret)
		goto out_remove;
	ret = ublk_ctrl_start_dev(c, d->id, getpid(), abort, arg);
	if (ret) {
		vdf_log(LOG_ERR, UBLK_COMP, d->name, "START_DEV: %s", strerror(-ret));
		goto out_remove;
	}
	d->started = true;
	vdf_log(LOG_INFO, UBLK_COMP, d->name,
		"%s backend, %llu bytes, %u-byte blocks, %u queue(s) x %u tags, %u KiB max I/O "
		"(pid %d)",
		ops->name, (unsigned long long)d->binfo.size, d->binfo.block_size,
		d->info.nr_hw_queues, d->info.queue_depth, d->buf_size >> 10, (int)getpid());
	return 0;

out_remove:
	(void)ublk_dev_remove(d, c);
	return ret;
}

/* Is pid a process that is still running (not a zombie waiting to be reaped)? */
static bool pid_running(int pid)
{
	char path[32], buf[256], *p;
	FILE *f;
	bool running = false;

	if (pid <= 0 || (kill(pid, 0) < 0 && errno != EPERM))
		return false;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	/* "pid (comm) S ...": the state follows the last ')'. */
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) && p[1] == ' ')
		running = p[2] != 'Z' && p[2] != 'X';
	fclose(f);
	return running;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int ublk_dev_recover(struct ublk_dev *d, struct ublk_ctrl *c, uint32_t id,
		     const struct vdf_ublk_backend_ops *ops, void *bctx, int wake_fd,
		     ublk_abort_fn abort, void *arg)
{
	struct ublk_params p;
	uint64_t deadline, alive_since;
	bool said = false;
	int ret;

	dev_reset(d, ops, bctx, wake_fd);
	dev_set_id(d, id);
	ret = dev_backend_info(d);
	if (ret)
		return ret;
	ret = ublk_ctrl_get_info(c, id, &d->info);
	if (ret) {
		vdf_log(LOG_ERR, UBLK_COMP, d->name, "GET_DEV_INFO: %s", strerror(-ret));
		return ret;
	}
	if (!(d->info.flags & UBLK_F_USER_RECOVERY)) {
		vdf_log(LOG_ERR, UBLK_COMP, d->name, "was not created with user recovery");
		return -EINVAL;
	}
	memset(&p, 0, sizeof(p));
	p.len = UBLK_PARAMS_LEN_BASIC_DISCARD;
	ret = ublk_ctrl_get_params(c, id, &p);
	if (ret) {
		vdf_log(LOG_ERR, UBLK_COMP, d->name, "GET_PARAMS: %s", strerror(-ret));
		return ret;
	}
	if (vdf_ublk_params_match(&p, &d->binfo)) {
		vdf_log(LOG_ERR, UBLK_COMP, d->name,
			"device has %llu sectors, 2^%u-byte blocks; the %s backend %llu bytes in "
			"%u-byte blocks: not the same disk",
			(unsigned long long)p.basic.dev_sectors, p.basic.logical_bs_shift,
			ops->name, (unsigned long long)d->binfo.size, d->binfo.block_size);
		return -EINVAL;
	}
	ret = dev_check_granted(d, NULL);
	if (ret)
		return ret;

	deadline = now_ms() + RECOVERY_WAIT_MS;
	alive_since = 0;
	for (;;) {
		ret = ublk_ctrl_start_recovery(c, id);
		if (ret != -EBUSY)
			break;
		if (abort && abort(arg)) {
			ret = -ECANCELED;
			break;
		}
		/* A server that is still running (not one dying of a kill) is not
		 * ours to replace: say so instead of waiting for ever. */
		if (!pid_running(d->info.ublksrv_pid)) {
			alive_since = 0;
		} else if (!alive_since) {
			alive_since = now_ms();
		} else if (now_ms() - alive_since > ALIVE_GRACE_MS) {
			vdf_log(LOG_ERR, UBLK_COMP, d->name,
				"is served by pid %d, which is running", d->info.ublksrv_pid);
			break;
		}
		if (now_ms() > deadline) {
			vdf_log(LOG_ERR, UBLK_COMP, d->name,
				"still busy: is pid %d (its server) really gone?",
				d->info.ublksrv_pid);
			break;
		}
		if (!said)
			vdf_log(LOG_INFO, UBLK_COMP, d->name,
				"waiting for the driver to let go of the old server (pid %d)",
				d->info.ublksrv_pid);
		said = true;
		usleep(RETRY_SLEEP_US);
	}
	if (ret) {
		vdf_log(LOG_ERR, UBLK_COMP, d->name, "START_USER_RECOVERY: %s", strerror(-ret));
		return ret;
	}
	/* From here a failure leaves the device in recovery for another try:
	 * it is not ours to delete (added/started stay false until the end). */
	ret = dev_open_cdev(d);
	if (ret)
		goto out_release;
	ret = dev_start_queues(d);
	if (ret)
		goto out_release;
	ret = ublk_ctrl_end_recovery(c, id, getpid(), abort, arg);
	if (ret) {
		vdf_log(LOG_ERR, UBLK_COMP, d->name, "END_USER_RECOVERY: %s", strerror(-ret));
		goto out_release;
	}
	d->added = true;
	d->started = true;
	vdf_log(LOG_INFO, UBLK_COMP, d->name,
		"recovered: %s backend, %llu bytes, %u queue(s) x %u tags, %u KiB max I/O (pid %d)",
		ops->name, (unsigned long long)d->binfo.size, d->info.nr_hw_queues,
		d->info.queue_depth, d->buf_size >> 10, (int)getpid());
	return 0;

out_release:
	(void)ublk_dev_remove(d, c);
	return ret;
}
