/* SPDX-License-Identifier: MIT */
/*
 * Logging. Libraries log through one process-wide callback at syslog levels;
 * the default writes "component dev: message" lines to stderr. Messages name
 * the component and device, e.g. "nvme 0000:00:04.0: controller ready".
 */
#ifndef VDF_LOG_H
#define VDF_LOG_H

#include <stdarg.h>
#include <syslog.h>

#include "vdf/common.h"

typedef void (*vdf_log_fn)(int level, const char *component, const char *dev, const char *msg,
			   void *ctx);

/* Replace the log sink (NULL restores the stderr default). Not thread-safe: call at start-up. */
void vdf_log_set_sink(vdf_log_fn fn, void *ctx);

/* Messages above this syslog level are dropped. Default LOG_INFO. */
void vdf_log_set_level(int level);
int vdf_log_get_level(void);

void vdf_log(int level, const char *component, const char *dev, const char *fmt, ...)
    VDF_PRINTF(4, 5);
void vdf_vlog(int level, const char *component, const char *dev, const char *fmt, va_list ap);

/*
 * Rate-limited logging for hot paths: at most `burst` messages per second per
 * call site; suppressed messages are counted and reported with the next one.
 */
struct vdf_log_ratelimit {
	long window_start_s;
	unsigned printed;
	unsigned suppressed;
};

void vdf_log_ratelimited(struct vdf_log_ratelimit *rl, unsigned burst, int level,
			 const char *component, const char *dev, const char *fmt, ...)
    VDF_PRINTF(6, 7);

#define VDF_LOG_RL(level, comp, dev, ...)                                         \
	do {                                                                      \
		static struct vdf_log_ratelimit vdf_rl_;                          \
		vdf_log_ratelimited(&vdf_rl_, 10, level, comp, dev, __VA_ARGS__); \
	} while (0)

#endif
