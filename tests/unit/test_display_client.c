// SPDX-License-Identifier: MIT
/*
 * Display client library (lib/client/display_client.c) against the real
 * control server (manager/ctl_server.h) brokering "open" and a fake display
 * driver: the real display server (lib/class/display_server.c) over a fake
 * display (an in-memory screen, a mode list, a 2 ms vblank clock), all on an
 * event loop in a second thread. The driver can be restarted (the server is
 * destroyed and created again with the next generation and a blank screen),
 * can drop the session (its end of the socket is shut down) and can be gone
 * (vdfd refuses "open").
 *
 * What must hold: the WELCOME reaches the caller; the picture drawn into the
 * client's buffer is what the display shows; a mode that cannot fit the
 * buffer is refused without a request; after a restart or a dropped session
 * the next call reconnects by itself, sets the mode again and shows the
 * picture again; a refusal of the session (-EBUSY) comes back from open, and
 * from the call whose reconnect it refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../manager/ctl_server.h"
#include "vdf/dispclient.h"
#include "vdf/dispserver.h"
#include "vdf/event.h"
#include "vdf/log.h"

#include "fake_display.h"

#define BUF_SIZE   (640u * 480u * 4u)
#define SCREEN_MAX (1024u * 768u * 4u)
#define FRAME320   (320u * 240u * 4u)

#define MODES FAKE_DISPLAY_MODES

static const struct vdf_display_mode M320 = {320, 240, VDF_PIXEL_XRGB8888, 60};
static const struct vdf_display_mode M1024 = {1024, 768, VDF_PIXEL_XRGB8888, 60};

struct fake {
	pthread_t thread;
	struct vdf_event_loop *loop;
	struct vdf_ctl_server *ctl;
	struct vdf_display_server *srv;
	int stop_fd, cmd_fd, done_fd;
	void (*cmd)(struct fake *);
	char path[64];

	/* driver (loop thread) */
	uint32_t generation;
	uint64_t next_client;
	int drv_sock;	/* the server's end of the newest session, -1 when none */
	bool no_driver; /* "open" is refused as when the driver is stopped */
	bool late;	/* the driver takes the session after the client's HELLO is in */
	unsigned opens;
	struct vdf_display_server_stats st; /* snapshot, see take_stats */

	struct fake_display d; /* the display */
};

static void quiet_log(int level, const char *component, const char *dev, const char *msg, void *ctx)
{
	(void)ctx;
	if (getenv("VDF_TEST_LOG"))
		fprintf(stderr, "<%d> %s %s: %s\n", level, component, dev ? dev : "-", msg);
}

static int driver_start(struct fake *f)
{
	struct vdf_display_server_opts o = {
	    .ops = &fake_display_ops,
	    .arg = &f->d,
	    .generation = f->generation,
	    .name = "FAKE-MON",
	    .width_mm = 300,
	    .height_mm = 200,
	    .hello_timeout_ms = 2000,
	};

	return vdf_display_server_create(f->loop, &o, &f->srv);
}

/* A session vdfd brokered that the driver has not taken yet (see late). */
struct late_session {
	struct fake *f;
	int sock;
	struct vdf_client_grant cg;
};

/* The HELLO is waiting on the driver's end: now the driver takes it, as when
 * the driver process reads vdfd's CLIENT message after the client got its
 * answer and sent its HELLO (vdfd does not wait for the driver). */
static void on_late(int fd, uint32_t events, void *arg)
{
	struct late_session *ls = arg;
	struct fake *f = ls->f;

	(void)events;
	(void)vdf_event_del_fd(f->loop, fd);
	f->drv_sock = vdf_display_server_add_client(f->srv, fd, &ls->cg) ? -1 : fd;
	free(ls);
}

/* vdfd's "open": a socketpair, one end to the driver, the other answered. */
static int on_open(void *ctx, const struct vdf_ctl_request *req, const struct vdf_ctl_peer *peer,
		   json_object *data, char *err, size_t errlen)
{
	struct fake *f = ctx;
	struct vdf_client_grant cg = {.client_id = ++f->next_client,
				      .flags = req->read_only ? VDF_CLIENT_F_READ_ONLY : 0,
				      .unit = req->unit};
	struct vdf_ctl_pending *p;
	json_object *d;
	int sv[2];

	(void)peer;
	(void)data;
	if (strcmp(req->dev, "fake0")) {
		snprintf(err, errlen, "no device '%s'", req->dev);
		return -ENODEV;
	}
	if (f->no_driver || !f->srv) {
		snprintf(err, errlen, "%s: the driver is stopped", req->dev);
		return -EIO;
	}
	f->opens++;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	if (f->late) {
		struct late_session *ls = calloc(1, sizeof(*ls));

		assert_non_null(ls);
		*ls = (struct late_session){.f = f, .sock = sv[0], .cg = cg};
		assert_int_equal(vdf_event_add_fd(f->loop, sv[0], 0, on_late, ls), 0);
	} else {
		/* the server owns sv[0] now, also when it refuses (WELCOME, then closed) */
		f->drv_sock = vdf_display_server_add_client(f->srv, sv[0], &cg) ? -1 : sv[0];
	}
	p = vdf_ctl_defer(f->ctl);
	assert_non_null(p);
	d = json_object_new_object();
	json_object_object_add(d, "generation", json_object_new_int64(f->generation));
	vdf_ctl_complete_fd(p, 0, d, NULL, sv[1]);
	json_object_put(d);
	return VDF_CTL_DEFERRED;
}

static void on_stop(int fd, uint32_t events, void *arg)
{
	uint64_t v;

	(void)events;
	(void)!read(fd, &v, sizeof(v));
	vdf_event_loop_stop(arg);
}

/* Run f->cmd on the loop thread, then tell the test thread. */
static void on_cmd(int fd, uint32_t events, void *arg)
{
	struct fake *f = arg;
	uint64_t v = 1;

	(void)events;
	(void)!read(fd, &v, sizeof(v));
	f->cmd(f);
	v = 1;
	(void)!write(f->done_fd, &v, sizeof(v));
}

static void *loop_main(void *arg)
{
	struct fake *f = arg;

	(void)vdf_event_loop_run(f->loop);
	return NULL;
}

/* Do fn on the loop thread and wait for it: the fake is only changed there. */
static void fake_do(struct fake *f, void (*fn)(struct fake *))
{
	uint64_t v = 1;

	f->cmd = fn;
	assert_int_equal(write(f->cmd_fd, &v, sizeof(v)), sizeof(v));
	assert_int_equal(read(f->done_fd, &v, sizeof(v)), sizeof(v));
}

static int setup(void **state)
{
	static const struct vdf_ctl_handlers h = {.open = on_open};
	struct vdf_ctl_server_opts o = {.handlers = &h, .group = ""};
	struct fake *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	vdf_log_set_sink(quiet_log, NULL);
	vdf_log_set_level(LOG_DEBUG);
	f->drv_sock = -1;
	f->generation = 1;
	f->d.screen = calloc(1, SCREEN_MAX);
	f->d.period_ns = 2000000;
	snprintf(f->path, sizeof(f->path), "/tmp/vdf-test-dispclient-%d.sock", getpid());
	o.path = f->path;
	o.ctx = f;
	if (!f->d.screen || vdf_event_loop_create(&f->loop) || driver_start(f) ||
	    vdf_ctl_server_start(f->loop, &o, &f->ctl))
		return -1;
	f->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	f->cmd_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	f->done_fd = eventfd(0, EFD_CLOEXEC);
	if (f->stop_fd < 0 || f->cmd_fd < 0 || f->done_fd < 0 ||
	    vdf_event_add_fd(f->loop, f->stop_fd, 0, on_stop, f->loop) ||
	    vdf_event_add_fd(f->loop, f->cmd_fd, 0, on_cmd, f) ||
	    pthread_create(&f->thread, NULL, loop_main, f))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fake *f = *state;
	uint64_t one = 1;

	(void)!write(f->stop_fd, &one, sizeof(one));
	pthread_join(f->thread, NULL);
	vdf_display_server_destroy(f->srv);
	vdf_ctl_server_stop(f->ctl);
	close(f->stop_fd);
	close(f->cmd_fd);
	close(f->done_fd);
	vdf_event_loop_destroy(f->loop);
	free(f->d.screen);
	free(f);
	vdf_log_set_sink(NULL, NULL);
	vdf_log_set_level(LOG_INFO);
	return 0;
}

/* The driver process dies and vdfd starts it again: a new server, a new
 * generation, a blank screen with no mode. */
static void driver_restart(struct fake *f)
{
	vdf_display_server_destroy(f->srv);
	f->srv = NULL;
	f->drv_sock = -1;
	f->generation++;
	f->d.mode = (struct vdf_display_mode){0};
	memset(f->d.screen, 0, SCREEN_MAX);
	assert_int_equal(driver_start(f), 0);
}

/* The same driver ends the session: it shuts its end down and, on the EOF,
 * the server frees the session (run here, so that it is done on return). */
static void driver_drop(struct fake *f)
{
	assert_true(f->drv_sock >= 0);
	assert_int_equal(shutdown(f->drv_sock, SHUT_RDWR), 0);
	for (int i = 0; i < 100 && fcntl(f->drv_sock, F_GETFD) >= 0; i++)
		assert_true(vdf_event_loop_run_once(f->loop, 10) >= 0);
	assert_true(fcntl(f->drv_sock, F_GETFD) < 0); /* the server closed it */
	f->drv_sock = -1;
}

static void driver_gone(struct fake *f)
{
	f->no_driver = true;
	driver_restart(f);
}

static void driver_back(struct fake *f)
{
	f->no_driver = false;
}

static void set_late(struct fake *f)
{
	f->late = true;
}

static void take_stats(struct fake *f)
{
	vdf_display_server_get_stats(f->srv, &f->st);
}

static void fail_set_mode(struct fake *f)
{
	f->d.fail_set_mode = -EIO;
}

static void no_fail(struct fake *f)
{
	f->d.fail_set_mode = 0;
}

static void nothing(struct fake *f)
{
	(void)f;
}

static int open_client(struct fake *f, struct vdf_display_client **c, char *err, size_t errlen)
{
	struct vdf_display_client_opts o = {
	    .sock_path = f->path, .dev = "fake0", .buffer_size = BUF_SIZE};

	*c = NULL;
	return vdf_display_client_open(&o, c, err, errlen);
}

static struct vdf_display_client *open_ok(struct fake *f)
{
	struct vdf_display_client *c;
	char err[256] = "";
	int rc = open_client(f, &c, err, sizeof(err));

	if (rc)
		fail_msg("open: %d %s", rc, err);
	return c;
}

static void fill(uint8_t *p, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 37 + i * 11 + (i >> 10));
}

/* Set 320x240 and present a picture; returns the fb. */
static struct vdf_fb draw(struct vdf_display_client *c, uint32_t seed)
{
	struct vdf_fb fb;
	uint64_t seq;

	assert_int_equal(vdf_display_client_set_mode(c, &M320, NULL, 0), 0);
	assert_int_equal(vdf_display_client_fb(c, &fb), 0);
	fill(fb.pixels, FRAME320, seed);
	assert_int_equal(vdf_display_client_present(c, &seq), 0);
	return fb;
}

static void test_open_info(void **state)
{
	struct fake *f = *state;
	struct vdf_display_client *c = open_ok(f);
	const struct vdf_disps_welcome *w = vdf_display_client_info(c);
	struct vdf_display_client_stats st;
	struct vdf_fb fb;
	uint64_t seq;

	assert_int_equal(w->status, 0);
	assert_int_equal(w->generation, 1);
	assert_string_equal(w->name, "FAKE-MON");
	assert_int_equal(w->width_mm, 300);
	assert_int_equal(w->height_mm, 200);
	assert_int_equal(w->mode.width, 0);
	assert_int_equal(w->nmodes, VDF_ARRAY_SIZE(MODES));
	for (unsigned i = 0; i < w->nmodes; i++)
		assert_memory_equal(&w->modes[i], &MODES[i], sizeof(MODES[i]));
	vdf_display_client_get_stats(c, &st);
	assert_int_equal(st.generation, 1);
	assert_int_equal(st.reconnects + st.presents + st.mode_sets, 0);
	/* nothing to draw into or wait for before a mode */
	assert_int_equal(vdf_display_client_fb(c, &fb), -ENODATA);
	assert_int_equal(vdf_display_client_wait_vblank(c, &seq), -ENODATA);
	assert_int_equal(vdf_display_client_present(c, &seq), -ENODATA);
	vdf_display_client_close(c);
	vdf_display_client_close(NULL);
}

static void test_draw_present(void **state)
{
	struct fake *f = *state;
	struct vdf_display_client *c = open_ok(f);
	struct vdf_display_client_stats st;
	struct vdf_fb fb;
	uint64_t seq = 0, v1 = 0, v2 = 0;

	assert_int_equal(vdf_display_client_set_mode(c, &M320, NULL, 0), 0);
	assert_int_equal(f->d.set_calls, 1);
	assert_int_equal(vdf_display_client_fb(c, &fb), 0);
	assert_non_null(fb.pixels);
	assert_int_equal(fb.width, 320);
	assert_int_equal(fb.height, 240);
	assert_int_equal(fb.stride, 320 * 4);
	assert_int_equal(fb.format, VDF_PIXEL_XRGB8888);
	fill(fb.pixels, FRAME320, 1);
	assert_int_equal(vdf_display_client_present(c, &seq), 0);
	assert_int_equal(seq, 1);
	assert_memory_equal(f->d.screen, fb.pixels, FRAME320);
	fill(fb.pixels, FRAME320, 2);
	assert_int_equal(vdf_display_client_present(c, &seq), 0);
	assert_int_equal(seq, 2);
	assert_memory_equal(f->d.screen, fb.pixels, FRAME320);
	assert_int_equal(vdf_display_client_present(c, NULL), 0);
	assert_int_equal(vdf_display_client_wait_vblank(c, &v1), 0);
	assert_int_equal(vdf_display_client_wait_vblank(c, &v2), 0);
	assert_true(v1 >= 1);
	assert_true(v2 > v1);
	vdf_display_client_get_stats(c, &st);
	assert_int_equal(st.presents, 3);
	assert_int_equal(st.mode_sets, 1);
	assert_int_equal(st.reconnects, 0);
	assert_int_equal(f->d.present_calls, 3);
	vdf_display_client_close(c);
}

static void test_set_mode_errors(void **state)
{
	struct fake *f = *state;
	struct vdf_display_client *c = open_ok(f);
	struct vdf_display_mode odd = {123, 45, VDF_PIXEL_XRGB8888, 0};
	struct vdf_display_server_stats before;
	struct vdf_fb fb;
	char err[256] = "";

	assert_int_equal(vdf_display_client_set_mode(c, &M320, err, sizeof(err)), 0);
	fake_do(f, take_stats);
	before = f->st;

	/* does not fit the buffer: refused here, the driver never asked */
	assert_int_equal(vdf_display_client_set_mode(c, &M1024, err, sizeof(err)), -ENOSPC);
	assert_non_null(strstr(err, "does not fit"));
	assert_int_equal(vdf_display_client_set_mode(c, &M1024, NULL, 0), -ENOSPC);
	fake_do(f, take_stats);
	assert_int_equal(f->st.refused, before.refused);
	assert_int_equal(f->st.mode_sets, before.mode_sets);
	assert_int_equal(f->d.set_calls, 1);

	/* the driver refuses: its errno, the old mode stays */
	err[0] = 0;
	assert_int_equal(vdf_display_client_set_mode(c, &odd, err, sizeof(err)), -ENOTSUP);
	assert_non_null(strstr(err, "refused"));
	fake_do(f, fail_set_mode);
	assert_int_equal(vdf_display_client_set_mode(c, &MODES[0], NULL, 0), -EIO);
	fake_do(f, no_fail);
	assert_int_equal(vdf_display_client_fb(c, &fb), 0);
	assert_int_equal(fb.width, 320);
	fake_do(f, take_stats);
	assert_int_equal(f->st.refused, before.refused + 2);
	{
		struct vdf_display_client_stats st;

		vdf_display_client_get_stats(c, &st);
		assert_int_equal(st.mode_sets, 1);
		assert_int_equal(st.reconnects, 0);
	}
	vdf_display_client_close(c);
}

/* After a reconnect: one more SET_MODE at the driver, the mode is the
 * client's, and the display shows the client's picture. */
static void assert_restored(struct fake *f, const struct vdf_fb *fb, unsigned set_calls)
{
	assert_int_equal(f->d.set_calls, set_calls + 1);
	assert_int_equal(f->d.mode.width, 320);
	assert_int_equal(f->d.mode.height, 240);
	assert_int_equal(f->d.mode.format, VDF_PIXEL_XRGB8888);
	assert_memory_equal(f->d.screen, fb->pixels, FRAME320);
}

static void test_driver_restart(void **state)
{
	struct fake *f = *state;
	struct vdf_display_client *c = open_ok(f);
	struct vdf_display_client_stats st;
	struct vdf_fb fb = draw(c, 3);
	unsigned set_calls = f->d.set_calls, presents = f->d.present_calls;
	uint64_t seq = 0;

	fake_do(f, driver_restart);
	assert_int_equal(f->d.mode.width, 0);
	assert_int_equal(vdf_display_client_present(c, &seq), 0);
	/* the reconnect presented the picture again, then the call presented */
	assert_int_equal(seq, 2);
	assert_int_equal(f->d.present_calls, presents + 2);
	assert_restored(f, &fb, set_calls);
	vdf_display_client_get_stats(c, &st);
	assert_int_equal(st.reconnects, 1);
	assert_int_equal(st.generation, 2);
	assert_int_equal(vdf_display_client_info(c)->generation, 2);

	/* and a vblank wait across another restart */
	set_calls = f->d.set_calls;
	fake_do(f, driver_restart);
	assert_int_equal(vdf_display_client_wait_vblank(c, &seq), 0);
	assert_true(seq >= 1);
	assert_restored(f, &fb, set_calls);
	vdf_display_client_get_stats(c, &st);
	assert_int_equal(st.reconnects, 2);
	assert_int_equal(st.generation, 3);
	vdf_display_client_close(c);
}

static void test_driver_drops_session(void **state)
{
	struct fake *f = *state;
	struct vdf_display_client *c = open_ok(f);
	struct vdf_display_client_stats st;
	struct vdf_fb fb = draw(c, 4);
	unsigned set_calls = f->d.set_calls, opens = f->opens;
	uint64_t seq = 0;

	fake_do(f, driver_drop);
	fill(fb.pixels, FRAME320, 5); /* a new picture: shown by the reconnect's present */
	assert_int_equal(vdf_display_client_present(c, &seq), 0);
	assert_int_equal(seq, 2);
	assert_restored(f, &fb, set_calls);
	assert_int_equal(f->opens, opens + 1);
	vdf_display_client_get_stats(c, &st);
	assert_int_equal(st.reconnects, 1);
	assert_int_equal(st.generation, 1); /* the same driver */
	assert_int_equal(st.presents, 2);
	vdf_display_client_close(c);
}

static void test_busy(void **state)
{
	struct fake *f = *state;
	struct vdf_display_client *a = open_ok(f), *b = NULL;
	struct vdf_fb fb = draw(a, 6);
	char err[256] = "";
	uint64_t seq;

	assert_int_equal(open_client(f, &b, err, sizeof(err)), -EBUSY);
	assert_null(b);
	assert_non_null(strstr(err, "refused"));
	/* the owner is not disturbed */
	assert_int_equal(vdf_display_client_present(a, &seq), 0);
	assert_int_equal(seq, 2);
	assert_memory_equal(f->d.screen, fb.pixels, FRAME320);
	vdf_display_client_close(a);
	fake_do(f, nothing); /* the server has seen a's end close */
	b = open_ok(f);
	vdf_display_client_close(b);
}

/* The driver takes the session after the HELLO arrived: the usual order. */
static void test_late_grant(void **state)
{
	struct fake *f = *state;
	struct vdf_display_client *c;
	uint64_t seq;

	fake_do(f, set_late);
	c = open_ok(f);
	(void)draw(c, 9);
	assert_int_equal(vdf_display_client_present(c, &seq), 0);
	assert_int_equal(seq, 2);
	vdf_display_client_close(c);
}

/*
 * The driver refuses (-EBUSY) a session whose HELLO has already arrived:
 * vdfd answers "open" without waiting for the driver (manager/instance.c,
 * broker), so the HELLO can be queued on the driver's end before the driver
 * reads the CLIENT message. It then sends WELCOME(-EBUSY) and closes with the
 * HELLO unread; Linux reports ECONNRESET on the client's next recv and the
 * WELCOME on the one after. The client must still report -EBUSY.
 */
static void test_busy_after_hello(void **state)
{
	struct fake *f = *state;
	struct vdf_display_client *a, *b = NULL;
	char err[256] = "";

	a = open_ok(f);
	fake_do(f, set_late);
	assert_int_equal(open_client(f, &b, err, sizeof(err)), -EBUSY);
	assert_null(b);
	vdf_display_client_close(a);
}

/* The driver restarts and someone else gets the display first: the call whose
 * reconnect is refused reports it; once the display is free it comes back. */
static void test_reconnect_refused(void **state)
{
	struct fake *f = *state;
	struct vdf_display_client *a = open_ok(f), *b;
	struct vdf_display_client_stats st;
	struct vdf_fb fb = draw(a, 7);
	unsigned set_calls;
	uint64_t seq = 0;

	fake_do(f, driver_restart);
	b = open_ok(f);
	assert_int_equal(vdf_display_client_present(a, &seq), -EBUSY);
	vdf_display_client_get_stats(a, &st);
	assert_int_equal(st.reconnects, 0);
	vdf_display_client_close(b);
	fake_do(f, nothing);
	set_calls = f->d.set_calls;
	assert_int_equal(vdf_display_client_present(a, &seq), 0);
	assert_restored(f, &fb, set_calls);
	vdf_display_client_get_stats(a, &st);
	assert_int_equal(st.reconnects, 1);
	assert_int_equal(st.generation, 2);
	vdf_display_client_close(a);
}

/* The driver is gone for good: the call fails with vdfd's answer; when it is
 * back the next call reconnects. */
static void test_driver_gone(void **state)
{
	struct fake *f = *state;
	struct vdf_display_client *c = open_ok(f);
	struct vdf_display_client_stats st;
	struct vdf_fb fb = draw(c, 8);
	unsigned set_calls;
	uint64_t seq = 0;

	fake_do(f, driver_gone);
	assert_int_equal(vdf_display_client_present(c, &seq), -EREMOTEIO);
	assert_int_equal(vdf_display_client_wait_vblank(c, &seq), -EREMOTEIO);
	fake_do(f, driver_back);
	set_calls = f->d.set_calls;
	assert_int_equal(vdf_display_client_present(c, &seq), 0);
	assert_restored(f, &fb, set_calls);
	vdf_display_client_get_stats(c, &st);
	assert_int_equal(st.reconnects, 1);
	vdf_display_client_close(c);
}

static void test_open_errors(void **state)
{
	struct fake *f = *state;
	struct vdf_display_client_opts o = {.sock_path = f->path, .dev = "nodev"};
	struct vdf_display_client *c = NULL;
	char err[256] = "";

	assert_int_equal(vdf_display_client_open(&o, &c, err, sizeof(err)), -EREMOTEIO);
	assert_non_null(strstr(err, "nodev"));
	o.dev = NULL;
	assert_int_equal(vdf_display_client_open(&o, &c, err, sizeof(err)), -EINVAL);
	o.dev = "fake0";
	o.buffer_size = VDF_DISPS_BUFFER_MAX + 1;
	assert_int_equal(vdf_display_client_open(&o, &c, err, sizeof(err)), -EINVAL);
	assert_int_equal(vdf_display_client_open(NULL, &c, err, sizeof(err)), -EINVAL);
	o.buffer_size = 0;
	o.sock_path = "/tmp/vdf-test-no-such.sock";
	assert_int_equal(vdf_display_client_open(&o, &c, err, sizeof(err)), -ENOENT);
	assert_null(c);
	fake_do(f, driver_gone);
	o.sock_path = f->path;
	assert_int_equal(vdf_display_client_open(&o, &c, err, sizeof(err)), -EREMOTEIO);
	fake_do(f, driver_back);
	/* a buffer size that is not whole pages is rounded up; the default fits 1920x1200 */
	o.buffer_size = 1000;
	assert_int_equal(vdf_display_client_open(&o, &c, err, sizeof(err)), 0);
	assert_int_equal(vdf_display_client_set_mode(c, &M320, NULL, 0), -ENOSPC);
	vdf_display_client_close(c);
	fake_do(f, nothing);
	o.buffer_size = 0;
	assert_int_equal(vdf_display_client_open(&o, &c, err, sizeof(err)), 0);
	assert_int_equal(vdf_display_client_set_mode(c, &M1024, NULL, 0), 0);
	vdf_display_client_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_open_info, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_draw_present, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_set_mode_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_driver_restart, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_driver_drops_session, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_busy, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_late_grant, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_busy_after_hello, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reconnect_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_driver_gone, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
