/* SPDX-License-Identifier: MIT */
/*
 * Supervision state machine for one driver instance, kept free of processes
 * and clocks so it can be tested alone: the caller reports events with the
 * current monotonic time (ns) and acts on what the machine decides.
 *
 *   STOPPED --start--> STARTING --ready--> RUNNING
 *   STARTING/RUNNING --exit or hang--> BACKOFF --(backoff elapsed)--> STARTING
 *   more than max_restarts crashes within window_s --> FAILED (until a manual restart)
 *   RUNNING --stop--> STOPPING --exit--> STOPPED
 */
#ifndef VDF_MANAGER_SUPERVISOR_H
#define VDF_MANAGER_SUPERVISOR_H

#include <stdbool.h>
#include <stdint.h>

enum vdf_sup_state {
	VDF_SUP_STOPPED,
	VDF_SUP_STARTING,
	VDF_SUP_RUNNING,
	VDF_SUP_BACKOFF,
	VDF_SUP_STOPPING,
	VDF_SUP_FAILED,
};

enum vdf_sup_reason {
	VDF_SUP_EXITED,	     /* exited on its own (any status) */
	VDF_SUP_KILLED,	     /* died of a signal */
	VDF_SUP_HUNG,	     /* missed heartbeats: the manager killed it */
	VDF_SUP_START_FAILED /* never became ready */
};

struct vdf_restart_policy {
	unsigned max_restarts; /* crashes tolerated within window_s */
	unsigned window_s;
	unsigned backoff_initial_ms;
	unsigned backoff_max_ms;
	unsigned heartbeat_ms;	    /* 0: no hang detection */
	unsigned missed_heartbeats; /* hung after this many periods of silence */
	unsigned start_timeout_ms;  /* STARTING longer than this is a failed start */
};

void vdf_restart_policy_default(struct vdf_restart_policy *p);

#define VDF_SUP_HISTORY 16

struct vdf_sup_record {
	uint64_t crash_ns;
	enum vdf_sup_reason reason;
	int status;	       /* exit status or signal number */
	uint64_t recovered_ns; /* 0 until the next instance became ready */
};

struct vdf_supervisor {
	struct vdf_restart_policy policy;
	enum vdf_sup_state state;
	uint64_t state_since_ns;
	uint64_t next_start_ns; /* BACKOFF: when to start again */
	unsigned backoff_ms;	/* the next backoff to use */
	uint64_t last_heartbeat_ns;
	uint64_t restarts; /* instances started after a crash */
	uint64_t crashes;
	struct vdf_sup_record history[VDF_SUP_HISTORY]; /* ring, newest at (nhist - 1) */
	unsigned nhist;
	bool recovering; /* a crash happened and no instance is ready since */
};

void vdf_sup_init(struct vdf_supervisor *s, const struct vdf_restart_policy *p);
const char *vdf_sup_state_name(enum vdf_sup_state st);
const char *vdf_sup_reason_name(enum vdf_sup_reason r);

/* A process was spawned (from STOPPED, BACKOFF or FAILED via manual restart). */
void vdf_sup_on_started(struct vdf_supervisor *s, uint64_t now);
/* The driver reported ready (its first heartbeat). */
void vdf_sup_on_ready(struct vdf_supervisor *s, uint64_t now);
void vdf_sup_on_heartbeat(struct vdf_supervisor *s, uint64_t now);
/* An orderly stop was requested: the caller signals the driver. */
void vdf_sup_on_stop(struct vdf_supervisor *s, uint64_t now);
/* The process is gone. Moves to STOPPED (after a stop), BACKOFF or FAILED. */
void vdf_sup_on_exit(struct vdf_supervisor *s, uint64_t now, enum vdf_sup_reason why, int status);

/* Should the caller kill the process as hung (or as a failed start)? */
bool vdf_sup_is_hung(const struct vdf_supervisor *s, uint64_t now);
/* In BACKOFF, is it time to start again? */
bool vdf_sup_should_start(const struct vdf_supervisor *s, uint64_t now);
/* Crashes within the policy window ending at now. */
unsigned vdf_sup_recent_crashes(const struct vdf_supervisor *s, uint64_t now);
/* The newest record, or NULL. */
const struct vdf_sup_record *vdf_sup_last(const struct vdf_supervisor *s);

#endif
