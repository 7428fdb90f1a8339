// SPDX-License-Identifier: MIT
/* The display client (vdf/dispclient.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vdf/ctl.h"
#include "vdf/dispclient.h"
#include "vdf/log.h"

#define COMPONENT "display-client"

struct vdf_display_client {
	char *sock_path, *dev;
	int sock, memfd;
	uint8_t *buf;
	uint64_t buf_size;
	struct vdf_disps_welcome w;
	struct vdf_display_mode want; /* the last mode set: restored on reconnect */
	struct vdf_display_mode mode; /* shown, per the driver's last reply */
	uint32_t stride;
	uint32_t next_tag;
	bool presented; /* something was presented: present again on reconnect */
	struct vdf_display_client_stats st;
};

static void disconnect(struct vdf_display_client *c)
{
	if (c->sock >= 0)
		close(c->sock);
	c->sock = -1;
}

/* vdfd open + HELLO + WELCOME. */
static int connect_session(struct vdf_display_client *c, char *err, size_t errlen)
{
	struct vdf_disps_hello h = {.buffer_size = c->buf_size};
	uint32_t gen;
	int rc;

	rc = vdf_ctl_open(c->sock_path, c->dev, false, 0, &c->sock, &gen, err, errlen);
	if (rc)
		return rc;
	rc = vdf_disps_send_hello(c->sock, &h, c->memfd);
	/* A driver refusing at once (-EBUSY) sends its WELCOME and closes before
	 * the HELLO arrives: the refusal is still there to read. */
	if (!rc || rc == -EPIPE)
		rc = vdf_disps_recv_welcome(c->sock, &c->w, VDF_DISPLAY_CLIENT_TIMEOUT_MS);
	/* Closed with our HELLO unread, the socket reports the reset first and
	 * then still holds the refusal. */
	if (rc == -ECONNRESET)
		rc = vdf_disps_recv_welcome(c->sock, &c->w, VDF_DISPLAY_CLIENT_TIMEOUT_MS);
	if (!rc && c->w.status)
		rc = c->w.status;
	if (rc) {
		snprintf(err, errlen, "%s: the display driver %s the session: %s", c->dev,
			 rc == c->w.status ? "refused" : "did not set up", strerror(-rc));
		disconnect(c);
		return rc;
	}
	c->mode = c->w.mode;
	c->stride = c->mode.width * vdf_pixel_bytes(c->mode.format);
	c->st.generation = c->w.generation;
	return 0;
}

/* One request and its reply on the current session. */
static int call_once(struct vdf_display_client *c, enum vdf_disps_op op,
		     const struct vdf_display_mode *m, struct vdf_disps_reply *r)
{
	struct vdf_disps_request q = {.tag = ++c->next_tag, .op = op};
	int rc;

	if (c->sock < 0)
		return -EPIPE;
	if (m)
		q.mode = *m;
	rc = vdf_disps_send_request(c->sock, &q);
	if (!rc)
		rc = vdf_disps_recv_reply(c->sock, r, VDF_DISPLAY_CLIENT_TIMEOUT_MS);
	if (!rc && (r->tag != q.tag || r->op != op))
		rc = -EBADMSG; /* replies come in order: anything else is a broken session */
	if (rc)
		return rc;
	c->mode = r->mode;
	c->stride = r->stride;
	return 0;
}

/* A new session after the old one ended, with the mode and picture back. */
static int reconnect(struct vdf_display_client *c)
{
	struct vdf_disps_reply r;
	char err[256];
	int rc;

	disconnect(c);
	rc = connect_session(c, err, sizeof(err));
	if (rc) {
		vdf_log(LOG_WARNING, COMPONENT, c->dev, "reconnect: %s", err);
		return rc;
	}
	c->st.reconnects++;
	vdf_log(LOG_INFO, COMPONENT, c->dev, "reconnected, generation %u", c->w.generation);
	if (c->want.width) {
		rc = call_once(c, VDF_DISPS_SET_MODE, &c->want, &r);
		if (!rc && r.status)
			rc = r.status;
		if (rc)
			return rc;
	}
	if (c->presented && c->mode.width) {
		rc = call_once(c, VDF_DISPS_PRESENT, NULL, &r);
		if (!rc && r.status)
			rc = r.status;
	}
	return rc;
}

static bool session_lost(int rc)
{
	return rc == -EPIPE || rc == -ECONNRESET || rc == -EBADMSG || rc == -ETIMEDOUT;
}

/* A request, reconnecting (and retrying it) when the session is lost. */
static int call(struct vdf_display_client *c, enum vdf_disps_op op,
		const struct vdf_display_mode *m, struct vdf_disps_reply *r)
{
	int rc = call_once(c, op, m, r);

	for (unsigned i = 0; session_lost(rc) && i < VDF_DISPLAY_CLIENT_RETRIES; i++) {
		rc = reconnect(c);
		if (!rc)
			rc = call_once(c, op, m, r);
	}
	return rc ? rc : r->status;
}

int vdf_display_client_open(const struct vdf_display_client_opts *o,
			    struct vdf_display_client **out, char *err, size_t errlen)
{
	struct vdf_display_client *c;
	int rc;

	if (!o || !o->dev || !out || o->buffer_size > VDF_DISPS_BUFFER_MAX) {
		snprintf(err, errlen, "bad arguments");
		return -EINVAL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->sock = c->memfd = -1;
	c->buf_size = o->buffer_size ? o->buffer_size : 1920ull * 1200 * 4;
	c->buf_size = (c->buf_size + VDF_DISPS_PAGE - 1) / VDF_DISPS_PAGE * VDF_DISPS_PAGE;
	c->dev = strdup(o->dev);
	c->sock_path = o->sock_path ? strdup(o->sock_path) : NULL;
	if (!c->dev || (o->sock_path && !c->sock_path)) {
		rc = -ENOMEM;
		goto fail;
	}
	c->memfd = memfd_create("vdf-display", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (c->memfd < 0 || ftruncate(c->memfd, (off_t)c->buf_size) ||
	    fcntl(c->memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)) {
		rc = -errno;
		snprintf(err, errlen, "framebuffer memfd: %s", strerror(-rc));
		goto fail;
	}
	c->buf = mmap(NULL, c->buf_size, PROT_READ | PROT_WRITE, MAP_SHARED, c->memfd, 0);
	if (c->buf == MAP_FAILED) {
		c->buf = NULL;
		rc = -errno;
		snprintf(err, errlen, "framebuffer mapping: %s", strerror(-rc));
		goto fail;
	}
	rc = connect_session(c, err, errlen);
	if (rc)
		goto fail;
	*out = c;
	return 0;
fail:
	vdf_display_client_close(c);
	return rc;
}

void vdf_display_client_close(struct vdf_display_client *c)
{
	if (!c)
		return;
	disconnect(c);
	if (c->buf)
		munmap(c->buf, c->buf_size);
	if (c->memfd >= 0)
		close(c->memfd);
	free(c->dev);
	free(c->sock_path);
	free(c);
}

const struct vdf_disps_welcome *vdf_display_client_info(const struct vdf_display_client *c)
{
	return &c->w;
}

int vdf_display_client_set_mode(struct vdf_display_client *c, const struct vdf_display_mode *m,
				char *err, size_t errlen)
{
	struct vdf_disps_reply r;
	char s[64];
	int rc;

	if (vdf_disps_frame_bytes(m) > c->buf_size) {
		vdf_display_mode_format(m, s, sizeof(s));
		if (err)
			snprintf(err, errlen, "mode %s does not fit the %llu KiB buffer", s,
				 (unsigned long long)(c->buf_size >> 10));
		return -ENOSPC;
	}
	rc = call(c, VDF_DISPS_SET_MODE, m, &r);
	if (rc) {
		vdf_display_mode_format(m, s, sizeof(s));
		if (err)
			snprintf(err, errlen, "mode %s refused: %s", s, strerror(-rc));
		return rc;
	}
	c->want = *m;
	c->st.mode_sets++;
	return 0;
}

int vdf_display_client_fb(struct vdf_display_client *c, struct vdf_fb *fb)
{
	if (!c->mode.width)
		return -ENODATA;
	*fb = (struct vdf_fb){.pixels = c->buf,
			      .width = c->mode.width,
			      .height = c->mode.height,
			      .stride = c->stride,
			      .format = c->mode.format};
	return 0;
}

int vdf_display_client_present(struct vdf_display_client *c, uint64_t *seq)
{
	struct vdf_disps_reply r;
	int rc = call(c, VDF_DISPS_PRESENT, NULL, &r);

	if (rc)
		return rc;
	c->presented = true;
	c->st.presents++;
	if (seq)
		*seq = r.seq;
	return 0;
}

int vdf_display_client_wait_vblank(struct vdf_display_client *c, uint64_t *seq)
{
	struct vdf_disps_reply r;
	int rc = call(c, VDF_DISPS_WAIT_VBLANK, NULL, &r);

	if (!rc && seq)
		*seq = r.seq;
	return rc;
}

void vdf_display_client_get_stats(const struct vdf_display_client *c,
				  struct vdf_display_client_stats *st)
{
	*st = c->st;
}
