// SPDX-License-Identifier: MIT
/*
 * Event loop (lib/core/event_loop.c) and the driver runtime on top of it
 * (lib/core/driver.c): fd watches, timers, removing watches while a batch is
 * being dispatched, and the bind/unbind life cycle of a small fake driver on
 * a mock device, including interrupt delivery to handle_interrupt.
 *
 * Waits are bounded loops with generous limits: nothing here asserts timing.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cmocka.h>

#include "vdf/driver.h"
#include "vdf/event.h"
#include "vdf/hal.h"
#include "vdf/irq.h"
#include "vdf/log.h"
#include "vdf/mock.h"

/* Upper bound for any wait in this file; tests normally finish in milliseconds. */
#define WAIT_LIMIT_NS (10ull * 1000000000ull)

static void quiet_log(int level, const char *component, const char *dev, const char *msg, void *ctx)
{
	(void)level;
	(void)component;
	(void)dev;
	(void)msg;
	(void)ctx;
}

static int group_setup(void **state)
{
	(void)state;
	vdf_log_set_sink(quiet_log, NULL);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	vdf_log_set_sink(NULL, NULL);
	return 0;
}

static int loop_setup(void **state)
{
	struct vdf_event_loop *loop;

	if (vdf_event_loop_create(&loop))
		return -1;
	*state = loop;
	return 0;
}

static int loop_teardown(void **state)
{
	vdf_event_loop_destroy(*state);
	return 0;
}

/* Dispatch until *counter reaches target; -ETIMEDOUT after WAIT_LIMIT_NS. */
static int run_until(struct vdf_event_loop *loop, const unsigned *counter, unsigned target)
{
	uint64_t deadline = vdf_now_ns() + WAIT_LIMIT_NS;

	while (*counter < target) {
		int rc = vdf_event_loop_run_once(loop, 10);

		if (rc < 0)
			return rc;
		if (vdf_now_ns() > deadline)
			return -ETIMEDOUT;
	}
	return 0;
}

static void signal_fd(int fd)
{
	uint64_t one = 1;

	assert_int_equal(write(fd, &one, sizeof(one)), sizeof(one));
}

static int new_eventfd(void)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

/* --- fd watches ------------------------------------------------------------ */

struct fd_hits {
	unsigned calls;
	int last_fd;
	uint32_t last_events;
	uint64_t drained;
};

static void count_cb(int fd, uint32_t events, void *arg)
{
	struct fd_hits *h = arg;
	uint64_t v;

	h->calls++;
	h->last_fd = fd;
	h->last_events = events;
	if (read(fd, &v, sizeof(v)) == sizeof(v))
		h->drained += v;
}

static void test_fd_callback(void **state)
{
	struct vdf_event_loop *loop = *state;
	struct fd_hits h = {0};
	int fd = new_eventfd();

	assert_int_equal(vdf_event_add_fd(loop, fd, 0, count_cb, &h), 0);
	assert_int_equal(vdf_event_loop_run_once(loop, 0), 0);
	assert_int_equal(h.calls, 0);

	signal_fd(fd);
	signal_fd(fd);
	assert_int_equal(run_until(loop, &h.calls, 1), 0);
	assert_int_equal(h.calls, 1);
	assert_int_equal(h.last_fd, fd);
	assert_true(h.last_events & EPOLLIN);
	assert_int_equal(h.drained, 2);
	/* Drained: nothing more to dispatch. */
	assert_int_equal(vdf_event_loop_run_once(loop, 0), 0);
	assert_int_equal(h.calls, 1);

	signal_fd(fd);
	assert_int_equal(run_until(loop, &h.calls, 2), 0);
	assert_int_equal(vdf_event_del_fd(loop, fd), 0);
	close(fd);
}

static void pipe_writable_cb(int fd, uint32_t events, void *arg)
{
	struct fd_hits *h = arg;

	h->calls++;
	h->last_fd = fd;
	h->last_events = events;
}

static void test_fd_other_events(void **state)
{
	struct vdf_event_loop *loop = *state;
	struct fd_hits h = {0};
	int p[2];

	assert_int_equal(pipe(p), 0);
	assert_int_equal(vdf_event_add_fd(loop, p[1], EPOLLOUT, pipe_writable_cb, &h), 0);
	assert_int_equal(run_until(loop, &h.calls, 1), 0);
	assert_int_equal(h.last_fd, p[1]);
	assert_true(h.last_events & EPOLLOUT);
	assert_int_equal(vdf_event_del_fd(loop, p[1]), 0);
	close(p[0]);
	close(p[1]);
}

static void test_fd_rejects(void **state)
{
	struct vdf_event_loop *loop = *state;
	struct fd_hits h = {0};
	int fd = new_eventfd(), closed = new_eventfd();

	close(closed);
	assert_int_equal(vdf_event_add_fd(loop, -1, 0, count_cb, &h), -EINVAL);
	assert_int_equal(vdf_event_add_fd(loop, fd, 0, NULL, &h), -EINVAL);
	assert_int_equal(vdf_event_add_fd(loop, closed, 0, count_cb, &h), -EBADF);
	assert_int_equal(vdf_event_add_fd(loop, fd, 0, count_cb, &h), 0);
	assert_int_equal(vdf_event_add_fd(loop, fd, 0, count_cb, &h), -EEXIST);
	assert_int_equal(vdf_event_del_fd(loop, fd + 100), -ENOENT);
	assert_int_equal(vdf_event_del_fd(loop, fd), 0);
	assert_int_equal(vdf_event_del_fd(loop, fd), -ENOENT);

	/* Deleted before dispatch: a pending event is not delivered. */
	assert_int_equal(vdf_event_add_fd(loop, fd, 0, count_cb, &h), 0);
	signal_fd(fd);
	assert_int_equal(vdf_event_del_fd(loop, fd), 0);
	assert_int_equal(vdf_event_loop_run_once(loop, 0), 0);
	assert_int_equal(h.calls, 0);
	close(fd);
}

/*
 * Two watches, both ready in the same batch. Whichever runs first removes the
 * other, closes its fd and frees its state: the other must not run (ASan sees
 * any use of the freed state).
 */
struct peer {
	struct vdf_event_loop *loop;
	int fd;
	struct peer **other; /* slot holding the other peer; NULL once freed */
	unsigned *calls;
};

static void peer_cb(int fd, uint32_t events, void *arg)
{
	struct peer *self = arg;
	struct peer *victim = *self->other;

	(void)fd;
	(void)events;
	++*self->calls;
	if (victim) {
		assert_int_equal(vdf_event_del_fd(self->loop, victim->fd), 0);
		close(victim->fd);
		*self->other = NULL;
		free(victim);
	}
}

static void test_del_peer_in_same_batch(void **state)
{
	struct vdf_event_loop *loop = *state;
	struct peer *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct peer *slot_a = a, *slot_b = b;
	unsigned calls = 0;

	assert_non_null(a);
	assert_non_null(b);
	*a = (struct peer){loop, new_eventfd(), &slot_b, &calls};
	*b = (struct peer){loop, new_eventfd(), &slot_a, &calls};
	assert_int_equal(vdf_event_add_fd(loop, a->fd, 0, peer_cb, a), 0);
	assert_int_equal(vdf_event_add_fd(loop, b->fd, 0, peer_cb, b), 0);
	signal_fd(a->fd);
	signal_fd(b->fd);

	assert_int_equal(run_until(loop, &calls, 1), 0);
	assert_int_equal(calls, 1);
	/* Exactly one survived; it stays watched and level-triggered. */
	assert_true((slot_a == NULL) != (slot_b == NULL));
	for (int i = 0; i < 3; i++)
		vdf_event_loop_run_once(loop, 0);
	assert_int_equal(calls, 4);

	{
		struct peer *left = slot_a ? slot_a : slot_b;

		assert_int_equal(vdf_event_del_fd(loop, left->fd), 0);
		close(left->fd);
		free(left);
	}
	assert_int_equal(vdf_event_loop_run_once(loop, 0), 0);
}

/* A callback that removes and frees itself. */
struct self_del {
	struct vdf_event_loop *loop;
	int fd;
	unsigned *calls;
};

static void self_del_cb(int fd, uint32_t events, void *arg)
{
	struct self_del *sd = arg;

	(void)events;
	++*sd->calls;
	assert_int_equal(vdf_event_del_fd(sd->loop, fd), 0);
	close(fd);
	free(sd);
}

static void test_del_self(void **state)
{
	struct vdf_event_loop *loop = *state;
	struct self_del *sd = calloc(1, sizeof(*sd));
	unsigned calls = 0;

	assert_non_null(sd);
	*sd = (struct self_del){loop, new_eventfd(), &calls};
	assert_int_equal(vdf_event_add_fd(loop, sd->fd, 0, self_del_cb, sd), 0);
	signal_fd(sd->fd);
	assert_int_equal(run_until(loop, &calls, 1), 0);
	assert_int_equal(vdf_event_loop_run_once(loop, 0), 0);
	assert_int_equal(calls, 1);
}

/*
 * Remove a ready watch, close its fd and watch a new fd in the same callback:
 * the new fd usually gets the same number. The stale event of the old watch
 * must not reach the new callback in this batch.
 */
struct swap_ctx {
	struct vdf_event_loop *loop;
	int victim_fd, new_fd;
	unsigned first_calls, victim_calls, new_calls;
	struct fd_hits new_hits;
};

static void swap_victim_cb(int fd, uint32_t events, void *arg)
{
	struct swap_ctx *c = arg;

	(void)fd;
	(void)events;
	c->victim_calls++;
}

static void swap_new_cb(int fd, uint32_t events, void *arg)
{
	struct swap_ctx *c = arg;

	c->new_calls++;
	count_cb(fd, events, &c->new_hits);
}

static void swap_first_cb(int fd, uint32_t events, void *arg)
{
	struct swap_ctx *c = arg;
	uint64_t v;

	(void)events;
	c->first_calls++;
	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return;
	if (c->new_fd >= 0 || c->victim_calls)
		return;
	assert_int_equal(vdf_event_del_fd(c->loop, c->victim_fd), 0);
	close(c->victim_fd);
	c->new_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_true(c->new_fd >= 0);
	assert_int_equal(vdf_event_add_fd(c->loop, c->new_fd, 0, swap_new_cb, c), 0);
}

static void test_replace_fd_in_batch(void **state)
{
	struct vdf_event_loop *loop = *state;
	struct swap_ctx c = {.loop = loop, .new_fd = -1};
	int first = new_eventfd();

	c.victim_fd = new_eventfd();
	assert_int_equal(vdf_event_add_fd(loop, c.victim_fd, 0, swap_victim_cb, &c), 0);
	assert_int_equal(vdf_event_add_fd(loop, first, 0, swap_first_cb, &c), 0);
	/* epoll reports ready fds in the order they became ready. */
	signal_fd(first);
	signal_fd(c.victim_fd);
	assert_int_equal(run_until(loop, &c.first_calls, 1), 0);
	if (c.new_fd < 0) {
		/* The victim ran first in the batch; that ordering proves nothing here. */
		skip();
	}
	/* The new fd was never signalled: its callback must not have run. */
	assert_int_equal(c.new_calls, 0);
	assert_int_equal(vdf_event_loop_run_once(loop, 0), 0);
	assert_int_equal(c.new_calls, 0);
	signal_fd(c.new_fd);
	assert_int_equal(run_until(loop, &c.new_calls, 1), 0);
	assert_int_equal(c.new_hits.drained, 1);
	assert_int_equal(vdf_event_del_fd(loop, c.new_fd), 0);
	assert_int_equal(vdf_event_del_fd(loop, first), 0);
	close(c.new_fd);
	close(first);
}

static void test_destroy_with_watches(void **state)
{
	struct vdf_event_loop *loop;
	struct fd_hits h = {0};
	int a = new_eventfd(), b = new_eventfd();

	(void)state;
	assert_int_equal(vdf_event_loop_create(&loop), 0);
	assert_int_equal(vdf_event_add_fd(loop, a, 0, count_cb, &h), 0);
	assert_int_equal(vdf_event_add_fd(loop, b, 0, count_cb, &h), 0);
	/* Removed but not yet reaped by a dispatch. */
	assert_int_equal(vdf_event_del_fd(loop, b), 0);
	vdf_event_loop_destroy(loop); /* LSan checks nothing is left */
	vdf_event_loop_destroy(NULL);
	close(a);
	close(b);
}

/* --- timers ---------------------------------------------------------------- */

struct timer_hits {
	unsigned calls;
	struct vdf_timer *self;
	struct vdf_timer **peer; /* stopped (and cleared) by this timer's callback */
	bool stop_self;
};

static void timer_cb(struct vdf_timer *t, void *arg)
{
	struct timer_hits *h = arg;

	h->calls++;
	assert_ptr_equal(t, h->self);
	if (h->peer && *h->peer) {
		vdf_timer_stop(*h->peer);
		*h->peer = NULL;
	}
	if (h->stop_self) {
		vdf_timer_stop(t);
		h->self = NULL;
	}
}

static void test_timer_oneshot(void **state)
{
	struct vdf_event_loop *loop = *state;
	struct timer_hits h = {0};

	assert_int_equal(vdf_timer_start(loop, 2, 0, timer_cb, &h, &h.self), 0);
	assert_int_equal(run_until(loop, &h.calls, 1), 0);
	assert_int_equal(h.calls, 1);
	/* A one-shot timer stays quiet afterwards. */
	for (int i = 0; i < 3; i++)
		vdf_event_loop_run_once(loop, 10);
	assert_int_equal(h.calls, 1);
	vdf_timer_stop(h.self);
	vdf_timer_stop(NULL);
}

static void test_timer_zero_delay(void **state)
{
	struct vdf_event_loop *loop = *state;
	struct timer_hits h = {0};

	/* first_ms 0 still fires (as soon as possible), once. */
	assert_int_equal(vdf_timer_start(loop, 0, 0, timer_cb, &h, &h.self), 0);
	assert_int_equal(run_until(loop, &h.calls, 1), 0);
	vdf_timer_stop(h.self);
}

static void test_timer_periodic(void **state)
{
	struct vdf_event_loop *loop = *state;
	struct timer_hits h = {0};
	unsigned seen;

	assert_int_equal(vdf_timer_start(loop, 1, 1, timer_cb, &h, &h.self), 0);
	assert_int_equal(run_until(loop, &h.calls, 5), 0);
	vdf_timer_stop(h.self);
	seen = h.calls;
	for (int i = 0; i < 3; i++)
		vdf_event_loop_run_once(loop, 10);
	assert_int_equal(h.calls, seen);
}

static void test_timer_stops_itself(void **state)
{
	struct vdf_event_loop *loop = *state;
	struct timer_hits h = {.stop_self = true};

	assert_int_equal(vdf_timer_start(loop, 1, 1, timer_cb, &h, &h.self), 0);
	assert_int_equal(run_until(loop, &h.calls, 1), 0);
	assert_null(h.self);
	for (int i = 0; i < 3; i++)
		vdf_event_loop_run_once(loop, 10);
	assert_int_equal(h.calls, 1);
}

/* Two periodic timers that stop each other: at most one callback runs. */
static void test_timers_stop_each_other(void **state)
{
	struct vdf_event_loop *loop = *state;
	struct vdf_timer *ta = NULL, *tb = NULL;
	struct timer_hits a = {.peer = &tb}, b = {.peer = &ta};
	unsigned total = 0;
	uint64_t deadline = vdf_now_ns() + WAIT_LIMIT_NS;

	assert_int_equal(vdf_timer_start(loop, 1, 1, timer_cb, &a, &ta), 0);
	assert_int_equal(vdf_timer_start(loop, 1, 1, timer_cb, &b, &tb), 0);
	a.self = ta;
	b.self = tb;
	/* Let both expire so they are likely dispatched in one batch. */
	usleep(20000);
	while (!a.calls && !b.calls && vdf_now_ns() < deadline)
		vdf_event_loop_run_once(loop, 10);
	total = a.calls + b.calls;
	assert_int_equal(total, 1);
	assert_true((ta == NULL) != (tb == NULL));
	/* The survivor keeps running. */
	{
		struct timer_hits *live = ta ? &a : &b;
		unsigned before = live->calls;

		assert_int_equal(run_until(loop, &live->calls, before + 2), 0);
		live->peer = NULL;
		vdf_timer_stop(ta ? ta : tb);
	}
}

static void stop_loop_cb(struct vdf_timer *t, void *arg)
{
	struct vdf_event_loop *loop = arg;

	(void)t;
	vdf_event_loop_stop(loop);
}

static void test_loop_run_stop(void **state)
{
	struct vdf_event_loop *loop = *state;
	struct vdf_timer *t;

	assert_int_equal(vdf_timer_start(loop, 1, 0, stop_loop_cb, loop, &t), 0);
	assert_int_equal(vdf_event_loop_run(loop), 0);
	vdf_timer_stop(t);
}

static void test_now_monotonic(void **state)
{
	uint64_t a = vdf_now_ns(), b;

	(void)state;
	usleep(1000);
	b = vdf_now_ns();
	assert_true(b > a);
}

/* --- driver runtime -------------------------------------------------------- */

enum fake_op { OP_NONE, OP_INIT, OP_PROBE, OP_ATTACH, OP_START };

struct fake {
	char log[64]; /* one letter per op: I P A S H D X */
	enum fake_op fail;
	unsigned msix; /* vectors attach enables */
	bool intx_err; /* attach enables INTx + ERR instead */
	int handler_rc;
	unsigned handled;
	enum vdf_irq_kind last_kind;
	unsigned last_vector;
	unsigned vec_hits[8];
	void *priv_seen;
	bool detach_saw_attached;
};

static struct fake fake;
static const int fake_config = 42;

static void fake_log(char c)
{
	size_t n = strlen(fake.log);

	assert_true(n + 1 < sizeof(fake.log));
	fake.log[n] = c;
}

static int fake_init(struct vdf_driver_ctx *ctx)
{
	fake_log('I');
	assert_ptr_equal(ctx->config, &fake_config);
	if (fake.fail == OP_INIT)
		return -ENOMEM;
	ctx->priv = &fake;
	return 0;
}

static int fake_probe(struct vdf_driver_ctx *ctx, const struct vdf_pci_id *id)
{
	fake_log('P');
	assert_ptr_equal(ctx->priv, &fake);
	assert_int_equal(id->vendor, 0x1b36);
	return fake.fail == OP_PROBE ? -ENODEV : 0;
}

static int fake_attach(struct vdf_driver_ctx *ctx)
{
	fake_log('A');
	if (fake.intx_err) {
		assert_int_equal(vdf_irq_enable(ctx->dev, VDF_IRQ_INTX, 1), 0);
		assert_int_equal(vdf_irq_enable(ctx->dev, VDF_IRQ_ERR, 1), 0);
	} else if (fake.msix) {
		assert_int_equal(vdf_irq_enable(ctx->dev, VDF_IRQ_MSIX, fake.msix), 0);
	}
	if (fake.fail == OP_ATTACH) {
		/* A well-behaved attach undoes its own partial work. */
		assert_int_equal(vdf_irq_disable(ctx->dev, VDF_IRQ_MSIX), 0);
		return -EIO;
	}
	return 0;
}

static int fake_start(struct vdf_driver_ctx *ctx)
{
	(void)ctx;
	fake_log('S');
	return fake.fail == OP_START ? -EBUSY : 0;
}

static int fake_handle_interrupt(struct vdf_driver_ctx *ctx, enum vdf_irq_kind kind,
				 unsigned vector)
{
	fake.priv_seen = ctx->priv;
	fake.handled++;
	fake.last_kind = kind;
	fake.last_vector = vector;
	if (vector < VDF_ARRAY_SIZE(fake.vec_hits))
		fake.vec_hits[vector]++;
	return fake.handler_rc;
}

static void fake_detach(struct vdf_driver_ctx *ctx)
{
	fake_log('D');
	fake.detach_saw_attached = ctx->attached;
	assert_int_equal(vdf_irq_disable(ctx->dev, VDF_IRQ_MSIX), 0);
	assert_int_equal(vdf_irq_disable(ctx->dev, VDF_IRQ_INTX), 0);
	assert_int_equal(vdf_irq_disable(ctx->dev, VDF_IRQ_ERR), 0);
}

static void fake_shutdown(struct vdf_driver_ctx *ctx)
{
	fake_log('X');
	ctx->priv = NULL;
}

static const struct vdf_driver_ops fake_ops = {
    .init = fake_init,
    .probe = fake_probe,
    .attach = fake_attach,
    .start = fake_start,
    .handle_interrupt = fake_handle_interrupt,
    .detach = fake_detach,
    .shutdown = fake_shutdown,
};

static const struct vdf_match_id fake_ids[] = {
    {.vendor = 0x8086, .device = 0x1234, .class_code = 0, .class_mask = 0},
    {.vendor = 0x1b36, .device = 0x0010, .class_code = 0x010802, .class_mask = 0xffffff},
};

static const struct vdf_driver fake_driver = {
    .name = "fake",
    .version = "1",
    .device_class = VDF_CLASS_BLOCK,
    .ids = fake_ids,
    .nids = VDF_ARRAY_SIZE(fake_ids),
    .caps_required = VDF_CAP_MMIO | VDF_CAP_IRQ_MSIX,
    .ops = &fake_ops,
};

struct bind_env {
	struct vdf_event_loop *loop;
	struct vdf_mock *mock;
	struct vdf_driver_ctx ctx;
	bool bound;
};

static int bind_setup(void **state)
{
	static const struct vdf_mock_config cfg = {
	    .id = {.vendor = 0x1b36,
		   .device = 0x0010,
		   .class_code = 0x01,
		   .subclass = 0x08,
		   .prog_if = 0x02},
	    .bar_size = {0x4000},
	    .irq_count = {[VDF_IRQ_INTX] = 1, [VDF_IRQ_MSIX] = 8, [VDF_IRQ_ERR] = 1},
	};
	struct bind_env *env = calloc(1, sizeof(*env));

	if (!env)
		return -1;
	if (vdf_event_loop_create(&env->loop) || vdf_mock_create(&cfg, &env->mock)) {
		vdf_event_loop_destroy(env->loop);
		free(env);
		return -1;
	}
	memset(&fake, 0, sizeof(fake));
	fake.msix = 3;
	*state = env;
	return 0;
}

static int bind_teardown(void **state)
{
	struct bind_env *env = *state;

	if (env->bound)
		vdf_driver_unbind(&env->ctx);
	vdf_dev_close(vdf_mock_dev(env->mock));
	vdf_event_loop_destroy(env->loop);
	free(env);
	return 0;
}

static int bind(struct bind_env *env, const struct vdf_driver *drv)
{
	int rc = vdf_driver_bind(drv, vdf_mock_dev(env->mock), env->loop, &fake_config, &env->ctx);

	env->bound = rc == 0;
	return rc;
}

static void test_bind_unbind(void **state)
{
	struct bind_env *env = *state;

	assert_int_equal(bind(env, &fake_driver), 0);
	assert_string_equal(fake.log, "IPAS");
	assert_ptr_equal(env->ctx.drv, &fake_driver);
	assert_ptr_equal(env->ctx.priv, &fake);
	assert_true(env->ctx.attached);
	assert_int_equal(env->ctx.nroutes, 3);
	assert_int_equal(env->ctx.irq_events, 0);

	vdf_driver_unbind(&env->ctx);
	assert_string_equal(fake.log, "IPASDX");
	assert_true(fake.detach_saw_attached);
	assert_null(env->ctx.drv);
	assert_null(env->ctx.priv);
	assert_false(env->ctx.attached);
	assert_int_equal(env->ctx.nroutes, 0);
	assert_null(env->ctx.routes);
	/* Unbinding twice is harmless; nothing is left in the loop. */
	vdf_driver_unbind(&env->ctx);
	assert_string_equal(fake.log, "IPASDX");
	assert_int_equal(vdf_event_loop_run_once(env->loop, 0), 0);
}

static void test_unbind_never_bound(void **state)
{
	struct vdf_driver_ctx ctx;

	(void)state;
	memset(&ctx, 0, sizeof(ctx));
	vdf_driver_unbind(&ctx);
	assert_null(ctx.drv);
}

static void test_bind_match_mismatch(void **state)
{
	static const struct vdf_match_id wrong_device[] = {
	    {.vendor = 0x1b36, .device = 0x0011, .class_mask = 0}};
	static const struct vdf_match_id wrong_vendor[] = {
	    {.vendor = 0x1b37, .device = VDF_ANY_ID, .class_mask = 0}};
	static const struct vdf_match_id wrong_class[] = {{.vendor = VDF_ANY_ID,
							   .device = VDF_ANY_ID,
							   .class_code = 0x020000,
							   .class_mask = 0xff0000}};
	static const struct vdf_match_id *const tables[] = {wrong_device, wrong_vendor,
							    wrong_class};
	struct bind_env *env = *state;

	for (unsigned i = 0; i < VDF_ARRAY_SIZE(tables); i++) {
		struct vdf_driver drv = fake_driver;

		drv.ids = tables[i];
		drv.nids = 1;
		assert_int_equal(bind(env, &drv), -ENODEV);
		assert_string_equal(fake.log, "");
		assert_int_equal(vdf_irq_enabled_count(vdf_mock_dev(env->mock), VDF_IRQ_MSIX), 0);
	}
	/* An empty match table matches nothing. */
	{
		struct vdf_driver drv = fake_driver;

		drv.nids = 0;
		assert_int_equal(bind(env, &drv), -ENODEV);
		assert_string_equal(fake.log, "");
	}
}

static void test_bind_by_class(void **state)
{
	static const struct vdf_match_id by_class[] = {{.vendor = VDF_ANY_ID,
							.device = VDF_ANY_ID,
							.class_code = 0x010800,
							.class_mask = 0xffff00}};
	struct bind_env *env = *state;
	struct vdf_driver drv = fake_driver;

	drv.ids = by_class;
	drv.nids = 1;
	assert_int_equal(bind(env, &drv), 0);
	assert_string_equal(fake.log, "IPAS");
	/* drv lives on this stack frame: unbind before it goes. */
	vdf_driver_unbind(&env->ctx);
	env->bound = false;
	assert_string_equal(fake.log, "IPASDX");
}

static void test_bind_device_gone(void **state)
{
	struct bind_env *env = *state;
	struct vdf_mock_fault f = {.kind = VDF_MOCK_FAULT_ALL_ONES};

	assert_int_equal(vdf_mock_inject(env->mock, &f), 0);
	assert_int_equal(bind(env, &fake_driver), -ENODEV);
	assert_string_equal(fake.log, "");
}

static void test_bind_init_fails(void **state)
{
	struct bind_env *env = *state;

	fake.fail = OP_INIT;
	assert_int_equal(bind(env, &fake_driver), -ENOMEM);
	/* Nothing to undo: init failed on its own. */
	assert_string_equal(fake.log, "I");
}

static void test_bind_probe_fails(void **state)
{
	struct bind_env *env = *state;

	fake.fail = OP_PROBE;
	assert_int_equal(bind(env, &fake_driver), -ENODEV);
	assert_string_equal(fake.log, "IPX");
}

static void test_bind_attach_fails(void **state)
{
	struct bind_env *env = *state;

	fake.fail = OP_ATTACH;
	assert_int_equal(bind(env, &fake_driver), -EIO);
	/* init is undone by shutdown; detach is not called for a failed attach. */
	assert_string_equal(fake.log, "IPAX");
	assert_false(env->ctx.attached);
	assert_int_equal(env->ctx.nroutes, 0);
}

static void test_bind_start_fails(void **state)
{
	struct bind_env *env = *state;

	fake.fail = OP_START;
	assert_int_equal(bind(env, &fake_driver), -EBUSY);
	assert_string_equal(fake.log, "IPASDX");
	assert_false(env->ctx.attached);
	assert_int_equal(env->ctx.nroutes, 0);
	assert_null(env->ctx.routes);
	/* No watch is left behind in the loop. */
	assert_int_equal(vdf_event_loop_run_once(env->loop, 0), 0);
	assert_int_equal(fake.handled, 0);
}

static void test_irq_dispatch(void **state)
{
	struct bind_env *env = *state;
	struct vdf_dev *dev = vdf_mock_dev(env->mock);

	assert_int_equal(bind(env, &fake_driver), 0);

	assert_int_equal(vdf_mock_raise_irq(env->mock, VDF_IRQ_MSIX, 1), 0);
	assert_int_equal(run_until(env->loop, &fake.handled, 1), 0);
	assert_int_equal(fake.last_kind, VDF_IRQ_MSIX);
	assert_int_equal(fake.last_vector, 1);
	assert_ptr_equal(fake.priv_seen, &fake);
	assert_int_equal(env->ctx.irq_events, 1);

	assert_int_equal(vdf_mock_raise_irq(env->mock, VDF_IRQ_MSIX, 0), 0);
	assert_int_equal(vdf_mock_raise_irq(env->mock, VDF_IRQ_MSIX, 2), 0);
	assert_int_equal(run_until(env->loop, &fake.handled, 3), 0);
	assert_int_equal(fake.vec_hits[0], 1);
	assert_int_equal(fake.vec_hits[1], 1);
	assert_int_equal(fake.vec_hits[2], 1);
	assert_int_equal(env->ctx.irq_events, 3);

	/* Interrupts raised before dispatch coalesce into one call; the HAL counts all. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(vdf_mock_raise_irq(env->mock, VDF_IRQ_MSIX, 1), 0);
	assert_int_equal(run_until(env->loop, &fake.handled, 4), 0);
	assert_int_equal(fake.vec_hits[1], 2);
	assert_int_equal(vdf_irq_stat(dev, VDF_IRQ_MSIX, 1), 4);
	assert_int_equal(env->ctx.irq_events, 4);

	/* Nothing spurious afterwards. */
	assert_int_equal(vdf_event_loop_run_once(env->loop, 0), 0);
	assert_int_equal(fake.handled, 4);
}

static void test_irq_masked_until_unmask(void **state)
{
	struct bind_env *env = *state;
	struct vdf_dev *dev = vdf_mock_dev(env->mock);

	assert_int_equal(bind(env, &fake_driver), 0);
	assert_int_equal(vdf_irq_mask(dev, VDF_IRQ_MSIX, 2), 0);
	assert_int_equal(vdf_mock_raise_irq(env->mock, VDF_IRQ_MSIX, 2), 0);
	for (int i = 0; i < 3; i++)
		vdf_event_loop_run_once(env->loop, 5);
	assert_int_equal(fake.handled, 0);
	assert_int_equal(vdf_irq_unmask(dev, VDF_IRQ_MSIX, 2), 0);
	assert_int_equal(run_until(env->loop, &fake.handled, 1), 0);
	assert_int_equal(fake.last_vector, 2);
	assert_int_equal(env->ctx.irq_events, 1);
}

static void test_irq_handler_error(void **state)
{
	struct bind_env *env = *state;

	fake.handler_rc = -EIO;
	assert_int_equal(bind(env, &fake_driver), 0);
	for (unsigned i = 1; i <= 3; i++) {
		assert_int_equal(vdf_mock_raise_irq(env->mock, VDF_IRQ_MSIX, 0), 0);
		assert_int_equal(run_until(env->loop, &fake.handled, i), 0);
	}
	/* Errors are logged; dispatch goes on. */
	assert_int_equal(env->ctx.irq_events, 3);
}

static void test_irq_other_kinds(void **state)
{
	struct bind_env *env = *state;

	fake.intx_err = true;
	assert_int_equal(bind(env, &fake_driver), 0);
	assert_int_equal(env->ctx.nroutes, 2);
	assert_int_equal(vdf_mock_raise_irq(env->mock, VDF_IRQ_ERR, 0), 0);
	assert_int_equal(run_until(env->loop, &fake.handled, 1), 0);
	assert_int_equal(fake.last_kind, VDF_IRQ_ERR);
	assert_int_equal(fake.last_vector, 0);
	assert_int_equal(vdf_mock_raise_irq(env->mock, VDF_IRQ_INTX, 0), 0);
	assert_int_equal(run_until(env->loop, &fake.handled, 2), 0);
	assert_int_equal(fake.last_kind, VDF_IRQ_INTX);
	assert_int_equal(env->ctx.irq_events, 2);
}

/* After the driver replaces its vectors (e.g. across a reset), re-routing
 * delivers the new ones. */
static void test_irq_reroute(void **state)
{
	struct bind_env *env = *state;
	struct vdf_dev *dev = vdf_mock_dev(env->mock);

	assert_int_equal(bind(env, &fake_driver), 0);
	assert_int_equal(vdf_irq_enable(dev, VDF_IRQ_MSIX, 5), 0);
	assert_int_equal(vdf_driver_route_irqs(&env->ctx), 0);
	assert_int_equal(env->ctx.nroutes, 5);
	assert_int_equal(vdf_mock_raise_irq(env->mock, VDF_IRQ_MSIX, 4), 0);
	assert_int_equal(run_until(env->loop, &fake.handled, 1), 0);
	assert_int_equal(fake.last_vector, 4);
	assert_int_equal(vdf_event_loop_run_once(env->loop, 0), 0);
}

static void test_no_interrupt_handler(void **state)
{
	struct bind_env *env = *state;
	struct vdf_driver_ops ops = fake_ops;
	struct vdf_driver drv = fake_driver;

	ops.handle_interrupt = NULL;
	drv.ops = &ops;
	assert_int_equal(bind(env, &drv), 0);
	assert_int_equal(env->ctx.nroutes, 0);
	assert_int_equal(vdf_mock_raise_irq(env->mock, VDF_IRQ_MSIX, 0), 0);
	assert_int_equal(vdf_event_loop_run_once(env->loop, 0), 0);
	assert_int_equal(env->ctx.irq_events, 0);
	vdf_driver_unbind(&env->ctx);
	env->bound = false;
}

static void test_match_pci(void **state)
{
	const struct vdf_pci_id id = {
	    .vendor = 0x8086, .device = 0x10d3, .class_code = 0x02, .subclass = 0x00};
	const struct vdf_match_id any = {VDF_ANY_ID, VDF_ANY_ID, 0, 0};
	const struct vdf_match_id net = {VDF_ANY_ID, VDF_ANY_ID, 0x020000, 0xffff00};
	const struct vdf_match_id nvme = {VDF_ANY_ID, VDF_ANY_ID, 0x010802, 0xffffff};
	const struct vdf_match_id exact = {0x8086, 0x10d3, 0, 0};
	const struct vdf_match_id other_dev = {0x8086, 0x10d4, 0, 0};

	(void)state;
	assert_true(vdf_match_pci(&any, &id));
	assert_true(vdf_match_pci(&net, &id));
	assert_false(vdf_match_pci(&nvme, &id));
	assert_true(vdf_match_pci(&exact, &id));
	assert_false(vdf_match_pci(&other_dev, &id));
	assert_string_equal(vdf_device_class_name(VDF_CLASS_BLOCK), "block");
	assert_string_equal(vdf_device_class_name((enum vdf_device_class)99), "?");
	assert_string_equal(vdf_irq_kind_name(VDF_IRQ_MSIX), "MSI-X");
	assert_string_equal(vdf_irq_kind_name(VDF_IRQ_KIND_COUNT), "?");
}

/* Regression tests for two bugs once in lib/core/driver.c. */

/* vdf_driver_unbind "accepts an unbound ctx", including one whose bind failed:
 * the failure path already ran shutdown (or never ran init), so unbind must not
 * call anything. Today a failed bind leaves ctx->drv set. */
static void test_unbind_after_failed_bind(void **state)
{
	static const struct vdf_match_id none[] = {{.vendor = 0x1234, .device = 0x5678}};
	struct bind_env *env = *state;
	struct vdf_driver drv = fake_driver;

	fake.fail = OP_ATTACH;
	assert_int_equal(bind(env, &fake_driver), -EIO);
	assert_string_equal(fake.log, "IPAX");
	vdf_driver_unbind(&env->ctx);
	assert_string_equal(fake.log, "IPAX");

	fake.log[0] = '\0';
	drv.ids = none;
	drv.nids = 1;
	assert_int_equal(bind(env, &drv), -ENODEV);
	vdf_driver_unbind(&env->ctx);
	assert_string_equal(fake.log, "");
}

/* A handler that re-routes (after resetting its vectors) and reports an error:
 * irq_fired logs r->kind/r->vector after the route array was freed. */
static struct vdf_driver_ctx *reroute_ctx;

static int reroute_handler(struct vdf_driver_ctx *ctx, enum vdf_irq_kind kind, unsigned vector)
{
	(void)kind;
	(void)vector;
	fake.handled++;
	assert_int_equal(vdf_driver_route_irqs(reroute_ctx = ctx), 0);
	return -EIO;
}

static void test_reroute_in_handler(void **state)
{
	struct bind_env *env = *state;
	static struct vdf_driver_ops ops;
	static struct vdf_driver drv;

	ops = fake_ops;
	ops.handle_interrupt = reroute_handler;
	drv = fake_driver;
	drv.ops = &ops;
	assert_int_equal(bind(env, &drv), 0);
	assert_int_equal(vdf_mock_raise_irq(env->mock, VDF_IRQ_MSIX, 1), 0);
	assert_int_equal(run_until(env->loop, &fake.handled, 1), 0);
	assert_int_equal(vdf_mock_raise_irq(env->mock, VDF_IRQ_MSIX, 1), 0);
	assert_int_equal(run_until(env->loop, &fake.handled, 2), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_fd_callback, loop_setup, loop_teardown),
	    cmocka_unit_test_setup_teardown(test_fd_other_events, loop_setup, loop_teardown),
	    cmocka_unit_test_setup_teardown(test_fd_rejects, loop_setup, loop_teardown),
	    cmocka_unit_test_setup_teardown(test_del_peer_in_same_batch, loop_setup, loop_teardown),
	    cmocka_unit_test_setup_teardown(test_del_self, loop_setup, loop_teardown),
	    cmocka_unit_test_setup_teardown(test_replace_fd_in_batch, loop_setup, loop_teardown),
	    cmocka_unit_test(test_destroy_with_watches),
	    cmocka_unit_test_setup_teardown(test_timer_oneshot, loop_setup, loop_teardown),
	    cmocka_unit_test_setup_teardown(test_timer_zero_delay, loop_setup, loop_teardown),
	    cmocka_unit_test_setup_teardown(test_timer_periodic, loop_setup, loop_teardown),
	    cmocka_unit_test_setup_teardown(test_timer_stops_itself, loop_setup, loop_teardown),
	    cmocka_unit_test_setup_teardown(test_timers_stop_each_other, loop_setup, loop_teardown),
	    cmocka_unit_test_setup_teardown(test_loop_run_stop, loop_setup, loop_teardown),
	    cmocka_unit_test(test_now_monotonic),
	    cmocka_unit_test_setup_teardown(test_bind_unbind, bind_setup, bind_teardown),
	    cmocka_unit_test(test_unbind_never_bound),
	    cmocka_unit_test_setup_teardown(test_bind_match_mismatch, bind_setup, bind_teardown),
	    cmocka_unit_test_setup_teardown(test_bind_by_class, bind_setup, bind_teardown),
	    cmocka_unit_test_setup_teardown(test_bind_device_gone, bind_setup, bind_teardown),
	    cmocka_unit_test_setup_teardown(test_bind_init_fails, bind_setup, bind_teardown),
	    cmocka_unit_test_setup_teardown(test_bind_probe_fails, bind_setup, bind_teardown),
	    cmocka_unit_test_setup_teardown(test_bind_attach_fails, bind_setup, bind_teardown),
	    cmocka_unit_test_setup_teardown(test_bind_start_fails, bind_setup, bind_teardown),
	    cmocka_unit_test_setup_teardown(test_irq_dispatch, bind_setup, bind_teardown),
	    cmocka_unit_test_setup_teardown(test_irq_masked_until_unmask, bind_setup,
					    bind_teardown),
	    cmocka_unit_test_setup_teardown(test_irq_handler_error, bind_setup, bind_teardown),
	    cmocka_unit_test_setup_teardown(test_irq_other_kinds, bind_setup, bind_teardown),
	    cmocka_unit_test_setup_teardown(test_irq_reroute, bind_setup, bind_teardown),
	    cmocka_unit_test_setup_teardown(test_no_interrupt_handler, bind_setup, bind_teardown),
	    cmocka_unit_test(test_match_pci),
	    cmocka_unit_test_setup_teardown(test_unbind_after_failed_bind, bind_setup,
					    bind_teardown),
	    cmocka_unit_test_setup_teardown(test_reroute_in_handler, bind_setup, bind_teardown),
	};

	return cmocka_run_group_tests_name("event_loop", tests, group_setup, group_teardown);
}
