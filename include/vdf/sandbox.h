/* SPDX-License-Identifier: MIT */
/*
 * Driver-side lockdown. A driver process calls vdf_sandbox_lockdown() once it
 * holds every fd it will ever need (its grant, vdf/grant.h) and before it
 * touches the device: from then on it can use what it has but acquire nothing.
 *
 * The manager side (empty mount and network namespaces, own uid, rlimits) is
 * manager/spawn.h; this is the seccomp half, which a driver installs on itself
 * because only the driver knows when its set-up (dynamic loading, argument
 * parsing, receiving fds) is over.
 */
#ifndef VDF_SANDBOX_H
#define VDF_SANDBOX_H

#include "vdf/common.h"

/*
 * Install the driver seccomp allowlist on every thread of the process
 * (no_new_privs is set first; the process is made non-dumpable).
 *
 * Allowed: I/O on fds already open (read/write/pread/pwrite/readv/writev,
 * recvmsg/sendmsg/recvfrom/sendto, close, fstat), VFIO ioctls (type ';') and
 * TCGETS/FIONBIO, mmap/mprotect without PROT_EXEC, munmap/mremap/madvise/brk,
 * epoll, eventfd, timerfd, poll, clocks and sleeps, futex, threads (clone with
 * CLONE_THREAD and no namespace flags), signals (kill/tgkill of this process
 * only), getpid/gettid/uid queries, sched_getaffinity/getcpu/sched_yield,
 * getrandom, prctl(PR_SET_NAME/PR_GET_*), reading rlimits, exit.
 *
 * Everything else fails with EPERM (a clear error, not a kill): open/openat/
 * openat2/creat and every other path-taking call, socket/socketpair/connect/
 * bind/listen/accept, execve/execveat, fork, ptrace, process_vm_*, mount,
 * set*id, unshare/setns, kill of other processes, memfd_create, io_uring,
 * bpf, perf_event_open, ... clone3 fails with ENOSYS so that libc falls back
 * to clone, whose flags can be checked.
 *
 * Not async-signal-safe; call it from one thread while no other thread is
 * in the middle of creating threads. Returns 0 or a negative errno (the
 * process is then not locked down: a driver must treat that as fatal).
 */
int vdf_sandbox_lockdown(void) VDF_MUST_CHECK;

#endif
