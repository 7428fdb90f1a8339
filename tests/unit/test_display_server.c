// SPDX-License-Identifier: MIT
/*
 * The display server (lib/class/display_server.c) on a real event loop,
 * driving a fake display: an in-memory screen, a current mode, a fixed mode
 * list and a vblank clock with a 2 ms period, each op able to fail on
 * request. The test plays the client on the other end of a socketpair with
 * the session codec (vdf/dispsession.h).
 *
 * What must hold: the WELCOME describes the display; SET_MODE refuses what
 * does not fit the client's buffer or what the display refuses and leaves the
 * mode alone; PRESENT copies exactly the client's picture; replies come one
 * per request, in order, also around a WAIT_VBLANK; one session at a time;
 * every bad grant, memfd, HELLO or request ends in a refusal or a closed
 * session that frees everything (no fd or mapping left behind) and lets the
 * next client in; the counters add up.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "vdf/dispserver.h"
#include "vdf/dispsession.h"
#include "vdf/event.h"
#include "vdf/fdmsg.h"
#include "vdf/log.h"

#include "fake_display.h"

#define MEMFD_NAME "vdf-disp-test"
#define BUF_SIZE   (640u * 480u * 4u) /* 300 pages: one 640x480 XRGB8888 picture */
#define SCREEN_MAX (1024u * 768u * 4u)
#define HELLO_MS   40u
#define GEN	   7u

#define MODES FAKE_DISPLAY_MODES

static const struct vdf_display_mode M640 = {640, 480, VDF_PIXEL_XRGB8888, 60};
static const struct vdf_display_mode M320 = {320, 240, VDF_PIXEL_XRGB8888, 0};
static const struct vdf_display_mode M1024 = {1024, 768, VDF_PIXEL_XRGB8888, 60};

struct fixture {
	struct fake_display d; /* the display the server drives */
	struct vdf_event_loop *loop;
	struct vdf_display_server *srv;
	int sock; /* the client's end */
	int memfd;
	uint8_t *buf;
	int fds_at_start;
	uint32_t tag;
};

static void quiet_log(int level, const char *component, const char *dev, const char *msg, void *ctx)
{
	(void)ctx;
	if (getenv("VDF_TEST_LOG"))
		fprintf(stderr, "<%d> %s %s: %s\n", level, component, dev ? dev : "-", msg);
}

static int count_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	if (!dir)
		return -1;
	while ((de = readdir(dir)))
		n += de->d_name[0] != '.';
	closedir(dir);
	return n - 1; /* the directory's own fd */
}

/* Mappings of the test's memfds in this process. */
static unsigned count_maps(void)
{
	FILE *fp = fopen("/proc/self/maps", "r");
	char line[512];
	unsigned n = 0;

	if (!fp)
		return 0;
	while (fgets(line, sizeof(line), fp))
		n += strstr(line, MEMFD_NAME) != NULL;
	fclose(fp);
	return n;
}

static int server_create(struct fixture *f)
{
	struct vdf_display_server_opts o = {
	    .ops = &fake_display_ops,
	    .arg = &f->d,
	    .generation = GEN,
	    .name = "FAKE-MON",
	    .width_mm = 300,
	    .height_mm = 200,
	    .hello_timeout_ms = HELLO_MS,
	};

	return vdf_display_server_create(f->loop, &o, &f->srv);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	vdf_log_set_sink(quiet_log, NULL);
	vdf_log_set_level(LOG_DEBUG);
	f->fds_at_start = count_fds();
	f->sock = f->memfd = -1;
	f->d.screen = calloc(1, SCREEN_MAX);
	f->d.period_ns = 2000000;
	if (!f->d.screen || vdf_event_loop_create(&f->loop) || server_create(f))
		return -1;
	*state = f;
	return 0;
}

static void client_close(struct fixture *f)
{
	if (f->buf)
		munmap(f->buf, BUF_SIZE);
	f->buf = NULL;
	if (f->memfd >= 0)
		close(f->memfd);
	if (f->sock >= 0)
		close(f->sock);
	f->memfd = f->sock = -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	vdf_display_server_destroy(f->srv);
	client_close(f);
	vdf_event_loop_destroy(f->loop);
	/* the server closed every fd and unmapped every buffer it took */
	assert_int_equal(count_fds(), f->fds_at_start);
	assert_int_equal(count_maps(), 0);
	free(f->d.screen);
	free(f);
	vdf_log_set_sink(NULL, NULL);
	vdf_log_set_level(LOG_INFO);
	return 0;
}

static void run(struct fixture *f, int ms)
{
	uint64_t end = vdf_now_ns() + (uint64_t)ms * 1000000ull;

	do
		assert_true(vdf_event_loop_run_once(f->loop, 1) >= 0);
	while (vdf_now_ns() < end);
}

static bool readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, 0) == 1;
}

/* Run the loop until the client has something to read (a message or EOF). */
static void pump(struct fixture *f, int ms)
{
	uint64_t end = vdf_now_ns() + (uint64_t)ms * 1000000ull;

	while (!readable(f->sock) && vdf_now_ns() < end)
		assert_true(vdf_event_loop_run_once(f->loop, 1) >= 0);
	assert_true(readable(f->sock));
}

/* The server closed its end: the client reads end of stream. */
static void assert_eof(struct fixture *f)
{
	uint8_t b[VDF_DISPS_MSG_MAX];

	pump(f, 500);
	assert_int_equal(recv(f->sock, b, sizeof(b), MSG_DONTWAIT), 0);
}

static int make_memfd(uint64_t size, int seals)
{
	int fd = memfd_create(MEMFD_NAME, MFD_CLOEXEC | MFD_ALLOW_SEALING);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	if (seals)
		assert_int_equal(fcntl(fd, F_ADD_SEALS, seals), 0);
	return fd;
}

/* A new client end; returns add_client's result. */
static int client_connect(struct fixture *f, const struct vdf_client_grant *cg)
{
	int sv[2];

	client_close(f);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	f->sock = sv[0];
	return vdf_display_server_add_client(f->srv, sv[1], cg);
}

static const struct vdf_client_grant GRANT = {.client_id = 42};

/* Connect and say HELLO with a sealed memfd of BUF_SIZE mapped at f->buf. */
static void client_open(struct fixture *f, struct vdf_disps_welcome *w)
{
	struct vdf_disps_hello h = {.buffer_size = BUF_SIZE};

	assert_int_equal(client_connect(f, &GRANT), 0);
	f->memfd = make_memfd(BUF_SIZE, F_SEAL_SHRINK | F_SEAL_GROW);
	f->buf = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, f->memfd, 0);
	assert_true(f->buf != MAP_FAILED);
	assert_int_equal(vdf_disps_send_hello(f->sock, &h, f->memfd), 0);
	pump(f, 500);
	assert_int_equal(vdf_disps_recv_welcome(f->sock, w, 0), 0);
	assert_int_equal(w->status, 0);
}

static uint32_t send_req(struct fixture *f, enum vdf_disps_op op, const struct vdf_display_mode *m)
{
	struct vdf_disps_request q = {.tag = ++f->tag, .op = op};

	if (m)
		q.mode = *m;
	assert_int_equal(vdf_disps_send_request(f->sock, &q), 0);
	return q.tag;
}

static void recv_rep(struct fixture *f, uint32_t tag, enum vdf_disps_op op,
		     struct vdf_disps_reply *r)
{
	pump(f, 1000);
	assert_int_equal(vdf_disps_recv_reply(f->sock, r, 0), 0);
	assert_int_equal(r->tag, tag);
	assert_int_equal(r->op, op);
}

static int call(struct fixture *f, enum vdf_disps_op op, const struct vdf_display_mode *m,
		struct vdf_disps_reply *r)
{
	recv_rep(f, send_req(f, op, m), op, r);
	return r->status;
}

static void assert_mode_equal(const struct vdf_display_mode *a, const struct vdf_display_mode *b)
{
	assert_int_equal(a->width, b->width);
	assert_int_equal(a->height, b->height);
	assert_int_equal(a->format, b->format);
	assert_int_equal(a->refresh_hz, b->refresh_hz);
}

static void fill(uint8_t *p, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 29 + i * 13 + (i >> 11));
}

static struct vdf_display_server_stats stats(struct fixture *f)
{
	struct vdf_display_server_stats st;

	vdf_display_server_get_stats(f->srv, &st);
	return st;
}

static void test_welcome(void **state)
{
	struct fixture *f = *state;
	struct vdf_disps_welcome w;

	client_open(f, &w);
	assert_int_equal(w.generation, GEN);
	assert_string_equal(w.name, "FAKE-MON");
	assert_int_equal(w.width_mm, 300);
	assert_int_equal(w.height_mm, 200);
	assert_int_equal(w.mode.width, 0); /* nothing shown yet */
	assert_int_equal(w.nmodes, VDF_ARRAY_SIZE(MODES));
	for (unsigned i = 0; i < w.nmodes; i++)
		assert_mode_equal(&w.modes[i], &MODES[i]);
	assert_int_equal(stats(f).sessions_accepted, 1);
	assert_int_equal(stats(f).sessions_refused, 0);
	assert_int_equal(count_maps(), 2); /* the client's mapping and the server's */

	/* the current mode comes with the WELCOME of the next session */
	f->d.mode = M640;
	client_close(f);
	run(f, 5);
	client_open(f, &w);
	assert_mode_equal(&w.mode, &M640);
	assert_int_equal(stats(f).sessions_accepted, 2);
}

static void test_set_mode(void **state)
{
	struct fixture *f = *state;
	struct vdf_disps_welcome w;
	struct vdf_disps_reply r;
	struct vdf_display_mode m = M320;

	client_open(f, &w);
	assert_int_equal(call(f, VDF_DISPS_SET_MODE, &M640, &r), 0);
	assert_mode_equal(&r.mode, &M640);
	assert_int_equal(r.stride, 640 * 4);
	assert_mode_equal(&f->d.mode, &M640);
	assert_int_equal(f->d.set_calls, 1);

	/* refresh 0: the driver's default */
	assert_int_equal(call(f, VDF_DISPS_SET_MODE, &m, &r), 0);
	assert_int_equal(r.mode.width, 320);
	assert_int_equal(r.mode.refresh_hz, 60);
	assert_int_equal(r.stride, 320 * 4);

	/* does not fit the client's buffer: never reaches the display */
	assert_int_equal(call(f, VDF_DISPS_SET_MODE, &M1024, &r), -ENOSPC);
	assert_int_equal(r.mode.width, 320);
	assert_int_equal(r.stride, 320 * 4);
	assert_int_equal(f->d.set_calls, 2);
	assert_int_equal(f->d.mode.width, 320);

	/* the display refuses: its errno, the mode unchanged */
	m = (struct vdf_display_mode){123, 45, VDF_PIXEL_XRGB8888, 0};
	assert_int_equal(call(f, VDF_DISPS_SET_MODE, &m, &r), -ENOTSUP);
	assert_int_equal(r.mode.width, 320);
	f->d.fail_set_mode = -EIO;
	assert_int_equal(call(f, VDF_DISPS_SET_MODE, &M640, &r), -EIO);
	assert_int_equal(r.mode.width, 320);
	assert_int_equal(r.stride, 320 * 4);
	f->d.fail_set_mode = 0;
	assert_int_equal(f->d.set_calls, 4);

	assert_int_equal(stats(f).mode_sets, 2);
	assert_int_equal(stats(f).refused, 3);
	assert_int_equal(stats(f).invalid, 0);
}

static void test_present(void **state)
{
	struct fixture *f = *state;
	const size_t frame = 320u * 240u * 4u;
	struct vdf_disps_welcome w;
	struct vdf_disps_reply r;
	struct vdf_heartbeat hb = {.tx_ios = 100, .tx_bytes = 1000, .errors = 10, .rx_ios = 5};

	client_open(f, &w);
	/* no mode: nothing to copy */
	assert_int_equal(call(f, VDF_DISPS_PRESENT, NULL, &r), -ENODATA);
	assert_int_equal(r.seq, 0);
	assert_int_equal(r.stride, 0);
	assert_int_equal(f->d.present_calls, 0);

	assert_int_equal(call(f, VDF_DISPS_SET_MODE, &M320, &r), 0);
	fill(f->buf, frame, 1);
	assert_int_equal(call(f, VDF_DISPS_PRESENT, NULL, &r), 0);
	assert_int_equal(r.seq, 1);
	assert_int_equal(f->d.last_stride, 320 * 4);
	assert_memory_equal(f->d.screen, f->buf, frame);
	fill(f->buf, frame, 2);
	assert_int_equal(call(f, VDF_DISPS_PRESENT, NULL, &r), 0);
	assert_int_equal(r.seq, 2);
	assert_memory_equal(f->d.screen, f->buf, frame);
	/* nothing past the picture was copied */
	assert_int_equal(f->d.screen[frame], 0);

	/* the display fails: its errno, seq does not count it */
	f->d.fail_present = -EIO;
	assert_int_equal(call(f, VDF_DISPS_PRESENT, NULL, &r), -EIO);
	assert_int_equal(r.seq, 2);
	f->d.fail_present = 0;

	/* a mode set behind the session's back, bigger than its buffer */
	f->d.mode = M1024;
	assert_int_equal(call(f, VDF_DISPS_PRESENT, NULL, &r), -ENOSPC);
	assert_int_equal(f->d.present_calls, 3);
	f->d.mode = M320;
	assert_int_equal(call(f, VDF_DISPS_PRESENT, NULL, &r), 0);
	assert_int_equal(r.seq, 3);

	assert_int_equal(stats(f).presents, 3);
	assert_int_equal(stats(f).bytes_presented, 3 * frame);
	assert_int_equal(stats(f).refused, 3);
	vdf_display_server_stats(f->srv, &hb);
	assert_int_equal(hb.tx_ios, 100 + 3);
	assert_int_equal(hb.tx_bytes, 1000 + 3 * frame);
	assert_int_equal(hb.errors, 10 + 3);
	assert_int_equal(hb.rx_ios, 5);
}

static void test_wait_vblank(void **state)
{
	struct fixture *f = *state;
	struct vdf_disps_welcome w;
	struct vdf_disps_reply r;
	uint32_t t1, t2, t3;
	uint64_t first, t0;

	client_open(f, &w);
	assert_int_equal(call(f, VDF_DISPS_WAIT_VBLANK, NULL, &r), -ENODATA);
	assert_int_equal(call(f, VDF_DISPS_SET_MODE, &M320, &r), 0);

	t0 = vdf_now_ns();
	assert_int_equal(call(f, VDF_DISPS_WAIT_VBLANK, NULL, &r), 0);
	assert_true(r.seq >= 1);
	assert_true(vdf_now_ns() - t0 >= 500000); /* it waited for a vblank */
	first = r.seq;

	/* requests behind a wait are answered after it, in order */
	fill(f->buf, 320u * 240u * 4u, 3);
	t1 = send_req(f, VDF_DISPS_WAIT_VBLANK, NULL);
	t2 = send_req(f, VDF_DISPS_PRESENT, NULL);
	t3 = send_req(f, VDF_DISPS_WAIT_VBLANK, NULL);
	recv_rep(f, t1, VDF_DISPS_WAIT_VBLANK, &r);
	assert_int_equal(r.status, 0);
	assert_true(r.seq > first);
	first = r.seq;
	recv_rep(f, t2, VDF_DISPS_PRESENT, &r);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.seq, 1);
	recv_rep(f, t3, VDF_DISPS_WAIT_VBLANK, &r);
	assert_true(r.seq > first);
	assert_memory_equal(f->d.screen, f->buf, 320u * 240u * 4u);

	/* the display's clock fails: its errno */
	f->d.fail_vblank = -EIO;
	assert_int_equal(call(f, VDF_DISPS_WAIT_VBLANK, NULL, &r), -EIO);
	f->d.fail_vblank = 0;
	assert_int_equal(stats(f).vblank_waits, 3);
	assert_int_equal(stats(f).refused, 2);
}

/* The fixture's client owns the display; a second one is refused. */
static void test_second_client_busy(void **state)
{
	struct fixture *f = *state;
	struct vdf_disps_welcome w;
	struct vdf_disps_reply r;
	uint8_t b[VDF_DISPS_MSG_MAX];
	int sv[2];

	client_open(f, &w);
	assert_int_equal(call(f, VDF_DISPS_SET_MODE, &M320, &r), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(vdf_display_server_add_client(f->srv, sv[1], &GRANT), -EBUSY);
	assert_int_equal(vdf_disps_recv_welcome(sv[0], &w, 1000), 0);
	assert_int_equal(w.status, -EBUSY);
	assert_int_equal(recv(sv[0], b, sizeof(b), MSG_DONTWAIT), 0);
	close(sv[0]);

	/* also while the first has not said HELLO yet */
	client_close(f);
	run(f, 5);
	assert_int_equal(client_connect(f, &GRANT), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(vdf_display_server_add_client(f->srv, sv[1], &GRANT), -EBUSY);
	close(sv[0]);
	client_close(f);
	run(f, 5);
	client_open(f, &w);
	assert_mode_equal(&w.mode, &f->d.mode);

	/* the owner keeps drawing */
	fill(f->buf, 320u * 240u * 4u, 4);
	assert_int_equal(call(f, VDF_DISPS_PRESENT, NULL, &r), 0);
	assert_memory_equal(f->d.screen, f->buf, 320u * 240u * 4u);
	assert_int_equal(stats(f).sessions_refused, 2);
	assert_int_equal(stats(f).sessions_accepted, 2);
}

/* add_client refuses at once: its return, a WELCOME with it, then EOF. */
static void refused_grant(struct fixture *f, const struct vdf_client_grant *cg, int want)
{
	struct vdf_disps_welcome w;

	assert_int_equal(client_connect(f, cg), want);
	assert_int_equal(vdf_disps_recv_welcome(f->sock, &w, 0), 0);
	assert_int_equal(w.status, want);
	assert_eof(f);
}

static void test_grant_refusals(void **state)
{
	struct fixture *f = *state;
	struct vdf_client_grant cg = {.client_id = 5, .flags = VDF_CLIENT_F_READ_ONLY};
	struct vdf_disps_welcome w;

	refused_grant(f, &cg, -EPERM); /* drawing is writing */
	cg = (struct vdf_client_grant){.client_id = 5, .unit = 1};
	refused_grant(f, &cg, -ENODEV);
	cg = (struct vdf_client_grant){.client_id = 5, .flags = 0x80};
	refused_grant(f, &cg, -EINVAL);
	refused_grant(f, NULL, -EINVAL);
	assert_int_equal(vdf_display_server_add_client(f->srv, -1, &GRANT), -EINVAL);
	assert_int_equal(stats(f).sessions_refused, 4);
	/* without a server the socket is still refused and closed */
	{
		int sv[2];

		assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
		assert_int_equal(vdf_display_server_add_client(NULL, sv[1], &GRANT), -EINVAL);
		assert_int_equal(vdf_disps_recv_welcome(sv[0], &w, 0), 0);
		assert_int_equal(w.status, -EINVAL);
		close(sv[0]);
	}
	/* none of it got in the way of a good client */
	client_open(f, &w);
	assert_int_equal(stats(f).sessions_accepted, 1);
}

/* HELLO with this memfd and size: a refusing WELCOME with want, then EOF. */
static void refused_memfd(struct fixture *f, int memfd, uint64_t size, int want)
{
	struct vdf_disps_hello h = {.buffer_size = size};
	struct vdf_disps_welcome w;

	assert_int_equal(client_connect(f, &GRANT), 0);
	assert_int_equal(vdf_disps_send_hello(f->sock, &h, memfd), 0);
	close(memfd);
	pump(f, 500);
	assert_int_equal(vdf_disps_recv_welcome(f->sock, &w, 0), 0);
	assert_int_equal(w.status, want);
	assert_eof(f);
}

static void test_memfd_refusals(void **state)
{
	struct fixture *f = *state;
	struct vdf_disps_welcome w;

	refused_memfd(f, make_memfd(BUF_SIZE, 0), BUF_SIZE, -EPERM);
	refused_memfd(f, make_memfd(BUF_SIZE, F_SEAL_SHRINK), BUF_SIZE, -EPERM);
	refused_memfd(f, make_memfd(BUF_SIZE, F_SEAL_GROW), BUF_SIZE, -EPERM);
	/* sealed, but not the size the HELLO says */
	refused_memfd(f, make_memfd(BUF_SIZE, F_SEAL_SHRINK | F_SEAL_GROW), 2 * BUF_SIZE, -EINVAL);
	refused_memfd(f, make_memfd(BUF_SIZE + VDF_DISPS_PAGE, F_SEAL_SHRINK | F_SEAL_GROW),
		      BUF_SIZE, -EINVAL);
	/* not a memfd at all */
	refused_memfd(f, eventfd(0, EFD_CLOEXEC), BUF_SIZE, -EPERM);
	assert_int_equal(stats(f).sessions_refused, 6);
	assert_int_equal(stats(f).sessions_accepted, 0);
	assert_int_equal(count_maps(), 0);
	client_open(f, &w);
}

/* A HELLO that is not one: the session is closed without a WELCOME. */
static void bad_hello(struct fixture *f, const void *msg, size_t len, int fd)
{
	uint64_t invalid = stats(f).invalid;

	assert_int_equal(client_connect(f, &GRANT), 0);
	assert_int_equal(vdf_fdmsg_send(f->sock, msg, len, &fd, fd >= 0 ? 1 : 0), 0);
	if (fd >= 0)
		close(fd);
	assert_eof(f);
	assert_int_equal(stats(f).invalid, invalid + 1);
}

static void test_bad_hello(void **state)
{
	struct fixture *f = *state;
	struct vdf_disps_hello h = {.buffer_size = BUF_SIZE};
	struct vdf_disps_request q = {.tag = 1, .op = VDF_DISPS_PRESENT};
	struct vdf_disps_welcome w;
	uint8_t msg[VDF_DISPS_MSG_MAX];
	const int seals = F_SEAL_SHRINK | F_SEAL_GROW;
	int len;

	len = vdf_disps_encode_hello(&h, msg, sizeof(msg));
	assert_true(len > 0);
	bad_hello(f, msg, (size_t)len, -1); /* no memfd */
	/* two fds */
	assert_int_equal(client_connect(f, &GRANT), 0);
	{
		int fds[2] = {make_memfd(BUF_SIZE, seals), make_memfd(BUF_SIZE, seals)};

		assert_int_equal(vdf_fdmsg_send(f->sock, msg, (size_t)len, fds, 2), 0);
		close(fds[0]);
		close(fds[1]);
		assert_eof(f);
	}
	msg[16] = 1; /* flags */
	bad_hello(f, msg, (size_t)len, make_memfd(BUF_SIZE, seals));
	msg[16] = 0;
	msg[20] = 1; /* reserved */
	bad_hello(f, msg, (size_t)len, make_memfd(BUF_SIZE, seals));
	msg[20] = 0;
	msg[16 + 8] = 1; /* buffer_size not a multiple of a page */
	bad_hello(f, msg, (size_t)len, make_memfd(BUF_SIZE, seals));
	msg[16 + 8] = 0;
	bad_hello(f, msg, (size_t)len - 1, make_memfd(BUF_SIZE, seals)); /* short */
	msg[0] ^= 0xff;							 /* magic */
	bad_hello(f, msg, (size_t)len, make_memfd(BUF_SIZE, seals));
	memset(msg, 0xa5, sizeof(msg));
	bad_hello(f, msg, sizeof(msg), make_memfd(BUF_SIZE, seals));
	/* a REQUEST instead */
	len = vdf_disps_encode_request(&q, msg, sizeof(msg));
	assert_true(len > 0);
	bad_hello(f, msg, (size_t)len, -1);
	assert_int_equal(stats(f).sessions_accepted, 0);
	assert_int_equal(count_maps(), 0);
	client_open(f, &w);
}

static void test_hello_timeout(void **state)
{
	struct fixture *f = *state;
	struct vdf_disps_welcome w;
	struct vdf_disps_reply r;
	uint64_t t0 = vdf_now_ns();

	assert_int_equal(client_connect(f, &GRANT), 0);
	pump(f, 1000);
	assert_true(vdf_now_ns() - t0 >= (HELLO_MS - 1) * 1000000ull);
	assert_int_equal(vdf_disps_recv_welcome(f->sock, &w, 0), 0);
	assert_int_equal(w.status, -ETIMEDOUT);
	assert_eof(f);
	assert_int_equal(stats(f).sessions_refused, 1);

	/* a session that said HELLO in time outlives the timeout */
	client_open(f, &w);
	run(f, (int)HELLO_MS * 2);
	assert_false(readable(f->sock));
	assert_int_equal(call(f, VDF_DISPS_SET_MODE, &M320, &r), 0);
	assert_int_equal(stats(f).sessions_refused, 1);
}

/* After the WELCOME: a bad message ends the session, counted as invalid. */
static void bad_request(struct fixture *f, const void *msg, size_t len, int fd)
{
	struct vdf_disps_welcome w;
	uint64_t invalid = stats(f).invalid;

	client_open(f, &w);
	assert_int_equal(vdf_fdmsg_send(f->sock, msg, len, &fd, fd >= 0 ? 1 : 0), 0);
	if (fd >= 0)
		close(fd);
	assert_eof(f);
	assert_int_equal(stats(f).invalid, invalid + 1);
}

static void test_garbage_after_hello(void **state)
{
	struct fixture *f = *state;
	struct vdf_disps_request q = {.tag = 1, .op = VDF_DISPS_PRESENT};
	struct vdf_disps_hello h = {.buffer_size = BUF_SIZE};
	struct vdf_disps_welcome w;
	struct vdf_disps_reply r;
	uint8_t msg[VDF_DISPS_MSG_MAX];
	int len;

	memset(msg, 0x5a, sizeof(msg));
	bad_request(f, msg, 40, -1);
	len = vdf_disps_encode_request(&q, msg, sizeof(msg));
	assert_true(len > 0);
	msg[16 + 4] = 9; /* unknown op */
	bad_request(f, msg, (size_t)len, -1);
	msg[16 + 4] = VDF_DISPS_PRESENT;
	msg[16 + 8] = 1; /* a mode on a PRESENT */
	bad_request(f, msg, (size_t)len, -1);
	msg[16 + 8] = 0;
	msg[16 + 6] = 1; /* reserved */
	bad_request(f, msg, (size_t)len, -1);
	msg[16 + 6] = 0;
	bad_request(f, msg, (size_t)len, eventfd(0, EFD_CLOEXEC)); /* an fd with it */
	bad_request(f, msg, (size_t)len + 1, -1);		   /* too long */
	/* a second HELLO */
	len = vdf_disps_encode_hello(&h, msg, sizeof(msg));
	assert_true(len > 0);
	bad_request(f, msg, (size_t)len, make_memfd(BUF_SIZE, F_SEAL_SHRINK | F_SEAL_GROW));
	assert_int_equal(stats(f).invalid, 7);
	assert_int_equal(stats(f).sessions_accepted, 7);

	/* and the display is free again */
	client_open(f, &w);
	assert_int_equal(call(f, VDF_DISPS_SET_MODE, &M320, &r), 0);
	assert_int_equal(count_maps(), 2);
}

static void test_client_close(void **state)
{
	struct fixture *f = *state;
	struct vdf_disps_welcome w;
	struct vdf_disps_reply r;

	client_open(f, &w);
	assert_int_equal(call(f, VDF_DISPS_SET_MODE, &M320, &r), 0);
	client_close(f);
	run(f, 5);
	assert_int_equal(count_maps(), 0); /* the server let go of the buffer */

	/* the display stays set; the next client finds it in its WELCOME */
	client_open(f, &w);
	assert_mode_equal(&w.mode, &f->d.mode);
	assert_int_equal(call(f, VDF_DISPS_PRESENT, NULL, &r), 0);
	assert_int_equal(r.seq, 1); /* counted per session */

	/* leaving with a vblank wait unanswered */
	(void)send_req(f, VDF_DISPS_WAIT_VBLANK, NULL);
	(void)send_req(f, VDF_DISPS_PRESENT, NULL);
	assert_true(vdf_event_loop_run_once(f->loop, 100) >= 1); /* the wait is taken */
	client_close(f);
	run(f, 10);
	assert_int_equal(count_maps(), 0);
	client_open(f, &w);
	assert_int_equal(call(f, VDF_DISPS_WAIT_VBLANK, NULL, &r), 0);
	assert_int_equal(stats(f).invalid, 0);
	assert_int_equal(stats(f).sessions_accepted, 3);
}

/*
 * A client that goes away before its HELLO (it died, or never received vdfd's
 * answer) is not a bad message: nothing is counted as invalid.
 */
static void test_close_before_hello_not_invalid(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(client_connect(f, &GRANT), 0);
	client_close(f);
	run(f, 10);
	assert_int_equal(stats(f).invalid, 0);
	assert_int_equal(stats(f).sessions_refused + stats(f).sessions_accepted, 0);
}

/*
 * A client that sends requests without reading the replies fills its socket
 * (about 280 replies with the default buffer): the server ends the session
 * then and counts it invalid, rather than block or queue without bound. The
 * replies sent before that arrive in order.
 */
static void test_pipelined_requests(void **state)
{
	struct fixture *f = *state;
	struct vdf_disps_welcome w;
	struct vdf_disps_reply r;
	uint32_t first;
	unsigned sent = 0, got = 0;
	bool reset = false;
	int rc;

	client_open(f, &w);
	assert_int_equal(call(f, VDF_DISPS_SET_MODE, &M320, &r), 0);
	first = f->tag + 1;
	for (; sent < 1000; sent++) {
		struct vdf_disps_request q = {.tag = ++f->tag, .op = VDF_DISPS_PRESENT};

		if (vdf_disps_send_request(f->sock, &q))
			break; /* the server has closed the session */
		assert_true(vdf_event_loop_run_once(f->loop, 0) >= 0);
	}
	for (;;) {
		rc = vdf_disps_recv_reply(f->sock, &r, 100);
		if (rc == -ECONNRESET && !reset) {
			reset = true; /* closed with requests unread: the replies follow */
			continue;
		}
		if (rc)
			break;
		assert_int_equal(r.tag, first + got);
		got++;
	}
	assert_true(got > 0 && got < sent);
	assert_int_equal(stats(f).invalid, 1);
}

static void test_destroy_active(void **state)
{
	struct fixture *f = *state;
	struct vdf_disps_welcome w;
	struct vdf_disps_reply r;

	client_open(f, &w);
	assert_int_equal(call(f, VDF_DISPS_SET_MODE, &M320, &r), 0);
	vdf_display_server_destroy(f->srv);
	f->srv = NULL;
	assert_int_equal(count_maps(), 1); /* only the client's own */
	assert_int_equal(recv(f->sock, &r, sizeof(r), MSG_DONTWAIT), 0);
	/* nothing of it is left on the loop */
	assert_int_equal(vdf_event_loop_run_once(f->loop, 5), 0);
	/* before the HELLO */
	assert_int_equal(server_create(f), 0);
	assert_int_equal(client_connect(f, &GRANT), 0);
	vdf_display_server_destroy(f->srv);
	f->srv = NULL;
	assert_int_equal(vdf_event_loop_run_once(f->loop, HELLO_MS * 2), 0);
	assert_int_equal(server_create(f), 0);
}

static void test_destroy_vblank_pending(void **state)
{
	struct fixture *f = *state;
	struct vdf_disps_welcome w;
	struct vdf_disps_reply r;
	uint8_t b[VDF_DISPS_MSG_MAX];

	f->d.period_ns = 500000000; /* 0.5 s: the wait is still pending below */
	client_open(f, &w);
	assert_int_equal(call(f, VDF_DISPS_SET_MODE, &M320, &r), 0);
	(void)send_req(f, VDF_DISPS_WAIT_VBLANK, NULL);
	(void)send_req(f, VDF_DISPS_PRESENT, NULL);
	assert_int_equal(vdf_event_loop_run_once(f->loop, 100), 1); /* the wait is taken */
	run(f, 5);
	assert_false(readable(f->sock)); /* neither is answered */
	vdf_display_server_destroy(f->srv);
	f->srv = NULL;
	/* closed with the PRESENT unread: the kernel reports a reset, not EOF */
	assert_int_equal(recv(f->sock, b, sizeof(b), MSG_DONTWAIT), -1);
	assert_int_equal(errno, ECONNRESET);
	/* the vblank timer went with it */
	assert_int_equal(vdf_event_loop_run_once(f->loop, 5), 0);
}

static int no_set_mode(void *arg, const struct vdf_display_mode *m, char *why, size_t whylen)
{
	(void)arg, (void)m, (void)why, (void)whylen;
	return -EIO;
}

static void test_create_invalid(void **state)
{
	struct fixture *f = *state;
	struct vdf_display_ops ops = fake_display_ops;
	struct vdf_display_server_opts o = {.ops = &ops, .arg = &f->d};
	struct vdf_display_server *srv = NULL, *good = NULL;
	struct vdf_display_server_stats st = {.presents = 9};
	struct vdf_heartbeat hb = {.errors = 3};

	assert_int_equal(vdf_display_server_create(NULL, &o, &srv), -EINVAL);
	assert_int_equal(vdf_display_server_create(f->loop, NULL, &srv), -EINVAL);
	assert_int_equal(vdf_display_server_create(f->loop, &o, NULL), -EINVAL);
	o.ops = NULL;
	assert_int_equal(vdf_display_server_create(f->loop, &o, &srv), -EINVAL);
	o.ops = &ops;
	for (int i = 0; i < 5; i++) {
		ops = fake_display_ops;
		switch (i) {
		case 0:
			ops.set_mode = NULL;
			break;
		case 1:
			ops.get_mode = NULL;
			break;
		case 2:
			ops.present = NULL;
			break;
		case 3:
			ops.vblank_clock = NULL;
			break;
		case 4:
			ops.modes = NULL;
			break;
		}
		assert_int_equal(vdf_display_server_create(f->loop, &o, &srv), -EINVAL);
	}
	assert_null(srv); /* untouched */

	/* a complete set is fine; hello_timeout_ms 0 takes the default */
	ops = fake_display_ops;
	ops.set_mode = no_set_mode;
	assert_int_equal(vdf_display_server_create(f->loop, &o, &good), 0);
	vdf_display_server_destroy(good);
	vdf_display_server_destroy(NULL);
	vdf_display_server_get_stats(NULL, &st);
	assert_int_equal(st.presents, 0);
	vdf_display_server_stats(NULL, &hb);
	vdf_display_server_stats(f->srv, NULL);
	assert_int_equal(hb.errors, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_welcome, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_set_mode, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_present, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wait_vblank, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_second_client_busy, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_grant_refusals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_memfd_refusals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_hello, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hello_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_garbage_after_hello, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_client_close, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_close_before_hello_not_invalid, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pipelined_requests, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_destroy_active, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_destroy_vblank_pending, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_create_invalid, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
