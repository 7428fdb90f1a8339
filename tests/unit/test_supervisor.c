// SPDX-License-Identifier: MIT
/* The supervision state machine: backoff, crash window, hang detection, history. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../manager/supervisor.h"

#define MS 1000000ull
#define S  1000000000ull

static struct vdf_restart_policy policy(void)
{
	struct vdf_restart_policy p = {
	    .max_restarts = 3,
	    .window_s = 10,
	    .backoff_initial_ms = 100,
	    .backoff_max_ms = 400,
	    .heartbeat_ms = 1000,
	    .missed_heartbeats = 3,
	    .start_timeout_ms = 5000,
	};
	return p;
}

static void start_ready(struct vdf_supervisor *s, uint64_t now)
{
	vdf_sup_on_started(s, now);
	assert_int_equal(s->state, VDF_SUP_STARTING);
	vdf_sup_on_ready(s, now + MS);
	assert_int_equal(s->state, VDF_SUP_RUNNING);
}

static void test_normal_lifecycle(void **state)
{
	struct vdf_restart_policy p = policy();
	struct vdf_supervisor s;

	(void)state;
	vdf_sup_init(&s, &p);
	assert_int_equal(s.state, VDF_SUP_STOPPED);
	start_ready(&s, 0);
	vdf_sup_on_stop(&s, 10 * MS);
	assert_int_equal(s.state, VDF_SUP_STOPPING);
	vdf_sup_on_exit(&s, 20 * MS, VDF_SUP_EXITED, 0);
	assert_int_equal(s.state, VDF_SUP_STOPPED);
	assert_int_equal(s.crashes, 0);
	assert_null(vdf_sup_last(&s));
}

static void test_backoff_doubles_and_caps(void **state)
{
	struct vdf_restart_policy p = policy();
	struct vdf_supervisor s;
	uint64_t now = 0;
	/* Crashes spread out so the window never fills: 100, 200, 400, 400 ms. */
	const uint64_t expect[] = {100, 200, 400, 400};

	(void)state;
	p.max_restarts = 100;
	vdf_sup_init(&s, &p);
	start_ready(&s, now);
	for (unsigned i = 0; i < 4; i++) {
		now += 2 * S;
		vdf_sup_on_exit(&s, now, VDF_SUP_KILLED, 9);
		assert_int_equal(s.state, VDF_SUP_BACKOFF);
		assert_int_equal(s.next_start_ns - now, expect[i] * MS);
		assert_false(vdf_sup_should_start(&s, now + expect[i] * MS - 1));
		assert_true(vdf_sup_should_start(&s, now + expect[i] * MS));
		now += expect[i] * MS;
		start_ready(&s, now);
	}
	assert_int_equal(s.restarts, 4);
}

static void test_stable_run_resets_backoff(void **state)
{
	struct vdf_restart_policy p = policy();
	struct vdf_supervisor s;

	(void)state;
	vdf_sup_init(&s, &p);
	start_ready(&s, 0);
	vdf_sup_on_exit(&s, 1 * S, VDF_SUP_KILLED, 9);
	start_ready(&s, 2 * S);
	vdf_sup_on_exit(&s, 3 * S, VDF_SUP_KILLED, 9);
	assert_int_equal(s.next_start_ns - 3 * S, 200 * MS);
	start_ready(&s, 4 * S);
	/* Runs longer than the window: the next crash backs off from the start. */
	vdf_sup_on_exit(&s, 30 * S, VDF_SUP_KILLED, 9);
	assert_int_equal(s.next_start_ns - 30 * S, 100 * MS);
}

static void test_crash_loop_fails(void **state)
{
	struct vdf_restart_policy p = policy();
	struct vdf_supervisor s;
	uint64_t now = 0;

	(void)state;
	vdf_sup_init(&s, &p);
	/* A driver that dies at every start: 3 restarts are allowed, the 4th crash fails it. */
	for (unsigned i = 0; i < 4; i++) {
		vdf_sup_on_started(&s, now);
		now += 10 * MS;
		vdf_sup_on_exit(&s, now, VDF_SUP_EXITED, 1);
		if (i < 3) {
			assert_int_equal(s.state, VDF_SUP_BACKOFF);
			now = s.next_start_ns;
		}
	}
	assert_int_equal(s.state, VDF_SUP_FAILED);
	assert_false(vdf_sup_should_start(&s, now + 100 * S));
	assert_int_equal(vdf_sup_recent_crashes(&s, now), 4);
	assert_int_equal(vdf_sup_last(&s)->reason, VDF_SUP_EXITED);
	assert_int_equal(vdf_sup_last(&s)->recovered_ns, 0);
	/* A manual restart starts it again with a fresh backoff. */
	vdf_sup_on_started(&s, now + S);
	assert_int_equal(s.state, VDF_SUP_STARTING);
	assert_int_equal(s.backoff_ms, 100);
	/* Crashes age out of the window. */
	assert_int_equal(vdf_sup_recent_crashes(&s, now + 11 * S), 0);
}

static void test_hang_detection(void **state)
{
	struct vdf_restart_policy p = policy();
	struct vdf_supervisor s;

	(void)state;
	vdf_sup_init(&s, &p);
	vdf_sup_on_started(&s, 0);
	assert_false(vdf_sup_is_hung(&s, 5 * S));
	assert_true(vdf_sup_is_hung(&s, 5 * S + 1)); /* never became ready */
	vdf_sup_on_heartbeat(&s, S);		     /* the first heartbeat means ready */
	assert_int_equal(s.state, VDF_SUP_RUNNING);
	vdf_sup_on_heartbeat(&s, 2 * S);
	assert_false(vdf_sup_is_hung(&s, 5 * S));
	assert_true(vdf_sup_is_hung(&s, 5 * S + 1));
	vdf_sup_on_exit(&s, 6 * S, VDF_SUP_HUNG, 9);
	assert_int_equal(vdf_sup_last(&s)->reason, VDF_SUP_HUNG);
	assert_string_equal(vdf_sup_reason_name(VDF_SUP_HUNG), "hung");
	/* A clock reading taken before the last event (a caller's stale "now") is
	 * not a timeout. */
	vdf_sup_on_started(&s, 100 * S);
	assert_false(vdf_sup_is_hung(&s, 99 * S));
	vdf_sup_on_heartbeat(&s, 101 * S);
	assert_false(vdf_sup_is_hung(&s, 100 * S));
	/* No heartbeat period configured: never hung. */
	p.heartbeat_ms = 0;
	vdf_sup_init(&s, &p);
	start_ready(&s, 0);
	assert_false(vdf_sup_is_hung(&s, 1000 * S));
}

static void test_recovery_time_recorded(void **state)
{
	struct vdf_restart_policy p = policy();
	struct vdf_supervisor s;

	(void)state;
	vdf_sup_init(&s, &p);
	start_ready(&s, 0);
	vdf_sup_on_exit(&s, 5 * S, VDF_SUP_KILLED, 9);
	vdf_sup_on_started(&s, s.next_start_ns);
	vdf_sup_on_ready(&s, 5 * S + 250 * MS);
	assert_int_equal(vdf_sup_last(&s)->recovered_ns, 250 * MS);
	assert_int_equal(vdf_sup_last(&s)->status, 9);
	assert_int_equal(s.restarts, 1);
	assert_string_equal(vdf_sup_state_name(s.state), "running");
}

static void test_history_ring(void **state)
{
	struct vdf_restart_policy p = policy();
	struct vdf_supervisor s;
	uint64_t now = 0;

	(void)state;
	p.max_restarts = 1000;
	vdf_sup_init(&s, &p);
	for (unsigned i = 0; i < 3 * VDF_SUP_HISTORY; i++) {
		vdf_sup_on_started(&s, now);
		now += S;
		vdf_sup_on_exit(&s, now, VDF_SUP_EXITED, (int)i);
		now = s.next_start_ns;
	}
	assert_int_equal(s.crashes, 3 * VDF_SUP_HISTORY);
	assert_int_equal(vdf_sup_last(&s)->status, 3 * VDF_SUP_HISTORY - 1);
	assert_true(vdf_sup_recent_crashes(&s, now) <= VDF_SUP_HISTORY);
}

static void test_stop_while_backing_off(void **state)
{
	struct vdf_restart_policy p = policy();
	struct vdf_supervisor s;

	(void)state;
	vdf_sup_init(&s, &p);
	start_ready(&s, 0);
	vdf_sup_on_exit(&s, S, VDF_SUP_KILLED, 9);
	vdf_sup_on_stop(&s, S + MS);
	assert_int_equal(s.state, VDF_SUP_STOPPED);
	assert_false(vdf_sup_should_start(&s, 100 * S));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_normal_lifecycle),
	    cmocka_unit_test(test_backoff_doubles_and_caps),
	    cmocka_unit_test(test_stable_run_resets_backoff),
	    cmocka_unit_test(test_crash_loop_fails),
	    cmocka_unit_test(test_hang_detection),
	    cmocka_unit_test(test_recovery_time_recorded),
	    cmocka_unit_test(test_history_ring),
	    cmocka_unit_test(test_stop_while_backing_off),
	};

	return cmocka_run_group_tests_name("supervisor", tests, NULL, NULL);
}
