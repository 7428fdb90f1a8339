// SPDX-License-Identifier: MIT
/* Process-wide log sink with syslog levels and per-call-site rate limiting. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "vdf/log.h"

static vdf_log_fn log_fn;
static void *log_ctx;
static int log_level = LOG_INFO;

static const char *level_name(int level)
{
	static const char *const names[] = {"emerg", "alert",  "crit", "error",
					    "warn",  "notice", "info", "debug"};
	if (level < 0 || level > LOG_DEBUG)
		return "?";
	return names[level];
}

void vdf_log_set_sink(vdf_log_fn fn, void *ctx)
{
	log_fn = fn;
	log_ctx = ctx;
}

void vdf_log_set_level(int level)
{
	log_level = level;
}

int vdf_log_get_level(void)
{
	return log_level;
}

void vdf_vlog(int level, const char *component, const char *dev, const char *fmt, va_list ap)
{
	char msg[512];

	if (level > log_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_fn) {
		log_fn(level, component, dev, msg, log_ctx);
		return;
	}
	if (dev && dev[0])
		fprintf(stderr, "%s %s: %s: %s\n", component, dev, level_name(level), msg);
	else
		fprintf(stderr, "%s: %s: %s\n", component, level_name(level), msg);
}

void vdf_log(int level, const char *component, const char *dev, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdf_vlog(level, component, dev, fmt, ap);
	va_end(ap);
}

void vdf_log_ratelimited(struct vdf_log_ratelimit *rl, unsigned burst, int level,
			 const char *component, const char *dev, const char *fmt, ...)
{
	struct timespec now;
	va_list ap;

	if (level > log_level)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec != rl->window_start_s) {
		if (rl->suppressed)
			vdf_log(level, component, dev, "%u messages suppressed", rl->suppressed);
		rl->window_start_s = now.tv_sec;
		rl->printed = 0;
		rl->suppressed = 0;
	}
	if (rl->printed >= burst) {
		rl->suppressed++;
		return;
	}
	rl->printed++;
	va_start(ap, fmt);
	vdf_vlog(level, component, dev, fmt, ap);
	va_end(ap);
}
