// SPDX-License-Identifier: MIT
/* Supervision state machine; see supervisor.h. */
#include <string.h>

#include "supervisor.h"
#include "vdf/common.h"

#define NS_PER_MS 1000000ull
#define NS_PER_S  1000000000ull

void vdf_restart_policy_default(struct vdf_restart_policy *p)
{
	p->max_restarts = 5;
	p->window_s = 60;
	p->backoff_initial_ms = 100;
	p->backoff_max_ms = 5000;
	p->heartbeat_ms = 1000;
	p->missed_heartbeats = 3;
	p->start_timeout_ms = 30000;
}

void vdf_sup_init(struct vdf_supervisor *s, const struct vdf_restart_policy *p)
{
	memset(s, 0, sizeof(*s));
	s->policy = *p;
	if (!s->policy.missed_heartbeats)
		s->policy.missed_heartbeats = 3;
	s->backoff_ms = p->backoff_initial_ms;
	s->state = VDF_SUP_STOPPED;
}

const char *vdf_sup_state_name(enum vdf_sup_state st)
{
	static const char *const names[] = {"stopped", "starting", "running",
					    "backoff", "stopping", "failed"};
	return (unsigned)st < VDF_ARRAY_SIZE(names) ? names[st] : "?";
}

const char *vdf_sup_reason_name(enum vdf_sup_reason r)
{
	static const char *const names[] = {"exited", "killed", "hung", "start failed"};
	return (unsigned)r < VDF_ARRAY_SIZE(names) ? names[r] : "?";
}

static void set_state(struct vdf_supervisor *s, enum vdf_sup_state st, uint64_t now)
{
	s->state = st;
	s->state_since_ns = now;
}

void vdf_sup_on_started(struct vdf_supervisor *s, uint64_t now)
{
	if (s->state == VDF_SUP_FAILED) /* a manual restart gives a fresh budget */
		s->backoff_ms = s->policy.backoff_initial_ms;
	if (s->recovering)
		s->restarts++;
	s->last_heartbeat_ns = now;
	set_state(s, VDF_SUP_STARTING, now);
}

void vdf_sup_on_ready(struct vdf_supervisor *s, uint64_t now)
{
	if (s->state != VDF_SUP_STARTING)
		return;
	if (s->recovering && s->nhist) {
		struct vdf_sup_record *r = &s->history[(s->nhist - 1) % VDF_SUP_HISTORY];

		r->recovered_ns = now - r->crash_ns;
	}
	s->recovering = false;
	s->last_heartbeat_ns = now;
	set_state(s, VDF_SUP_RUNNING, now);
}

void vdf_sup_on_heartbeat(struct vdf_supervisor *s, uint64_t now)
{
	if (s->state == VDF_SUP_STARTING)
		vdf_sup_on_ready(s, now);
	s->last_heartbeat_ns = now;
}

void vdf_sup_on_stop(struct vdf_supervisor *s, uint64_t now)
{
	if (s->state == VDF_SUP_STARTING || s->state == VDF_SUP_RUNNING)
		set_state(s, VDF_SUP_STOPPING, now);
	else if (s->state == VDF_SUP_BACKOFF || s->state == VDF_SUP_FAILED)
		set_state(s, VDF_SUP_STOPPED, now);
}

unsigned vdf_sup_recent_crashes(const struct vdf_supervisor *s, uint64_t now)
{
	uint64_t window = (uint64_t)s->policy.window_s * NS_PER_S;
	unsigned n = 0, kept = VDF_MIN(s->nhist, (unsigned)VDF_SUP_HISTORY);

	for (unsigned i = 0; i < kept; i++) {
		const struct vdf_sup_record *r = &s->history[(s->nhist - 1 - i) % VDF_SUP_HISTORY];

		if (now - r->crash_ns <= window)
			n++;
	}
	return n;
}

void vdf_sup_on_exit(struct vdf_supervisor *s, uint64_t now, enum vdf_sup_reason why, int status)
{
	struct vdf_sup_record *r;

	if (s->state == VDF_SUP_STOPPING || s->state == VDF_SUP_STOPPED) {
		set_state(s, VDF_SUP_STOPPED, now);
		return;
	}
	/* A driver that ran stably for a whole window starts its backoff afresh. */
	if (s->state == VDF_SUP_RUNNING &&
	    now - s->state_since_ns > (uint64_t)s->policy.window_s * NS_PER_S)
		s->backoff_ms = s->policy.backoff_initial_ms;
	r = &s->history[s->nhist % VDF_SUP_HISTORY];
	s->nhist++;
	r->crash_ns = now;
	r->reason = why;
	r->status = status;
	r->recovered_ns = 0;
	s->crashes++;
	s->recovering = true;
	if (vdf_sup_recent_crashes(s, now) > s->policy.max_restarts) {
		set_state(s, VDF_SUP_FAILED, now);
		return;
	}
	s->next_start_ns = now + (uint64_t)s->backoff_ms * NS_PER_MS;
	s->backoff_ms = VDF_MIN(s->backoff_ms * 2, s->policy.backoff_max_ms);
	set_state(s, VDF_SUP_BACKOFF, now);
}

bool vdf_sup_is_hung(const struct vdf_supervisor *s, uint64_t now)
{
	/* A caller's clock reading older than the last event is not a timeout. */
	if (now < s->state_since_ns || now < s->last_heartbeat_ns)
		return false;
	if (s->state == VDF_SUP_STARTING)
		return s->policy.start_timeout_ms &&
		       now - s->state_since_ns > (uint64_t)s->policy.start_timeout_ms * NS_PER_MS;
	if (s->state != VDF_SUP_RUNNING || !s->policy.heartbeat_ms)
		return false;
	return now - s->last_heartbeat_ns >
	       (uint64_t)s->policy.heartbeat_ms * s->policy.missed_heartbeats * NS_PER_MS;
}

bool vdf_sup_should_start(const struct vdf_supervisor *s, uint64_t now)
{
	return s->state == VDF_SUP_BACKOFF && now >= s->next_start_ns;
}

const struct vdf_sup_record *vdf_sup_last(const struct vdf_supervisor *s)
{
	return s->nhist ? &s->history[(s->nhist - 1) % VDF_SUP_HISTORY] : NULL;
}
