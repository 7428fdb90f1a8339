// SPDX-License-Identifier: MIT
/*
 * Driver seccomp allowlist (libseccomp); see vdf/sandbox.h for what it allows
 * and why. The default action is EPERM for anything not listed, so a denied
 * call shows up as a plain error in the driver's log instead of a kill.
 */
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <termios.h>
#include <unistd.h>

#include "vdf/log.h"
#include "vdf/sandbox.h"

/* VFIO ioctls are _IO(';', nr): 0x3b00 | nr (include/uapi/linux/vfio.h). */
#define SANDBOX_VFIO_IOCTL_TYPE 0x3b00ull
#define SANDBOX_IOCTL_NR_MASK	0xffull

/* Namespace flags a thread-creating clone must not carry. */
#define SANDBOX_CLONE_NS_FLAGS                                                                     \
	(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | \
	 CLONE_NEWCGROUP)

/* Allowed whatever their arguments: they act only on what the process has. */
static const int allowed_syscalls[] = {
    /* I/O on fds already open */
    SCMP_SYS(read),
    SCMP_SYS(write),
    SCMP_SYS(pread64),
    SCMP_SYS(pwrite64),
    SCMP_SYS(readv),
    SCMP_SYS(writev),
    SCMP_SYS(preadv),
    SCMP_SYS(pwritev),
    SCMP_SYS(preadv2),
    SCMP_SYS(pwritev2),
    SCMP_SYS(lseek),
    SCMP_SYS(close),
    SCMP_SYS(close_range),
    SCMP_SYS(dup),
    SCMP_SYS(dup2),
    SCMP_SYS(dup3),
    SCMP_SYS(fstat),
    SCMP_SYS(fsync),
    SCMP_SYS(fdatasync),
    SCMP_SYS(ftruncate),
    /* the grant socket and other sockets received */
    SCMP_SYS(recvmsg),
    SCMP_SYS(sendmsg),
    SCMP_SYS(recvfrom),
    SCMP_SYS(sendto),
    SCMP_SYS(shutdown),
    SCMP_SYS(getsockopt),
    /* event loop */
    SCMP_SYS(epoll_create),
    SCMP_SYS(epoll_create1),
    SCMP_SYS(epoll_ctl),
    SCMP_SYS(epoll_wait),
    SCMP_SYS(epoll_pwait),
    SCMP_SYS(epoll_pwait2),
    SCMP_SYS(eventfd),
    SCMP_SYS(eventfd2),
    SCMP_SYS(timerfd_create),
    SCMP_SYS(timerfd_settime),
    SCMP_SYS(timerfd_gettime),
    SCMP_SYS(poll),
    SCMP_SYS(ppoll),
    SCMP_SYS(select),
    SCMP_SYS(pselect6),
    /* memory */
    SCMP_SYS(munmap),
    SCMP_SYS(mremap),
    SCMP_SYS(madvise),
    SCMP_SYS(brk),
    SCMP_SYS(mlock),
    SCMP_SYS(munlock),
    /* time */
    SCMP_SYS(clock_gettime),
    SCMP_SYS(clock_getres),
    SCMP_SYS(gettimeofday),
    SCMP_SYS(time),
    SCMP_SYS(nanosleep),
    SCMP_SYS(clock_nanosleep),
    /* threads and synchronisation */
    SCMP_SYS(futex),
    SCMP_SYS(set_robust_list),
    SCMP_SYS(rseq),
    SCMP_SYS(set_tid_address),
    SCMP_SYS(sched_yield),
    SCMP_SYS(sched_getaffinity),
    SCMP_SYS(getcpu),
    /* signals (delivery to other processes is restricted below) */
    SCMP_SYS(rt_sigaction),
    SCMP_SYS(rt_sigprocmask),
    SCMP_SYS(rt_sigreturn),
    SCMP_SYS(rt_sigpending),
    SCMP_SYS(rt_sigtimedwait),
    SCMP_SYS(rt_sigsuspend),
    SCMP_SYS(sigaltstack),
    SCMP_SYS(restart_syscall),
    /* identity and accounting queries */
    SCMP_SYS(getpid),
    SCMP_SYS(gettid),
    SCMP_SYS(getppid),
    SCMP_SYS(getuid),
    SCMP_SYS(geteuid),
    SCMP_SYS(getgid),
    SCMP_SYS(getegid),
    SCMP_SYS(getresuid),
    SCMP_SYS(getresgid),
    SCMP_SYS(getgroups),
    SCMP_SYS(uname),
    SCMP_SYS(sysinfo),
    SCMP_SYS(getrusage),
    SCMP_SYS(times),
    SCMP_SYS(getrlimit),
    SCMP_SYS(getrandom),
    SCMP_SYS(exit),
    SCMP_SYS(exit_group),
};

/* prctl options a driver may use: naming threads and reading its own state. */
static const int allowed_prctl[] = {
    PR_SET_NAME, PR_GET_NAME, PR_GET_DUMPABLE, PR_GET_SECCOMP, PR_GET_NO_NEW_PRIVS,
};

/* F_GET_SEALS: a block client's memfd must be sealed against shrinking before
 * the driver maps it (vdf_blks_check_memfd). Reading seals changes nothing;
 * F_ADD_SEALS stays denied. */
static const int allowed_fcntl[] = {
    F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_DUPFD_CLOEXEC, F_GET_SEALS,
};

static const unsigned long allowed_ioctl[] = {
    TCGETS, /* isatty() from stdio */
    FIONBIO,
};

/* libseccomp's SCMP_Ax() macros leave datum_b unset, which clang's
 * -Wmissing-field-initializers rejects: spell every field out. */
static struct scmp_arg_cmp arg_eq(unsigned arg, uint64_t v)
{
	return (struct scmp_arg_cmp){.arg = arg, .op = SCMP_CMP_EQ, .datum_a = v, .datum_b = 0};
}

static struct scmp_arg_cmp arg_masked(unsigned arg, uint64_t mask, uint64_t v)
{
	return (struct scmp_arg_cmp){
	    .arg = arg, .op = SCMP_CMP_MASKED_EQ, .datum_a = mask, .datum_b = v};
}

static int add_rules(scmp_filter_ctx ctx)
{
	const uint64_t self = (uint64_t)getpid();
	int rc;

#define ADD(call, ...)                                                         \
	do {                                                                   \
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, call, __VA_ARGS__); \
		if (rc)                                                        \
			return rc;                                             \
	} while (0)

	for (size_t i = 0; i < VDF_ARRAY_SIZE(allowed_syscalls); i++)
		ADD(allowed_syscalls[i], 0);
	/* No new executable memory: code is whatever was loaded before lockdown. */
	ADD(SCMP_SYS(mmap), 1, arg_masked(2, PROT_EXEC, 0));
	ADD(SCMP_SYS(mprotect), 1, arg_masked(2, PROT_EXEC, 0));
	/* fstat() in glibc is fstatat(fd, "", st, AT_EMPTY_PATH). A non-empty path
	 * with AT_EMPTY_PATH still stats a path: in the driver's empty mount
	 * namespace that reveals nothing. */
	ADD(SCMP_SYS(newfstatat), 1, arg_masked(3, AT_EMPTY_PATH, AT_EMPTY_PATH));
	ADD(SCMP_SYS(statx), 1, arg_masked(2, AT_EMPTY_PATH, AT_EMPTY_PATH));
	/* Threads, never processes or namespaces. */
	ADD(SCMP_SYS(clone), 1, arg_masked(0, CLONE_THREAD | SANDBOX_CLONE_NS_FLAGS, CLONE_THREAD));
	/* Signals to this process only (abort/raise use tgkill). */
	ADD(SCMP_SYS(kill), 1, arg_eq(0, self));
	ADD(SCMP_SYS(tgkill), 1, arg_eq(0, self));
	/* Reading its own limits; never setting them. */
	ADD(SCMP_SYS(prlimit64), 2, arg_eq(0, 0), arg_eq(2, 0));
	/* Device control: VFIO ioctls on the fds it was granted. The upper bits
	 * of the request must be zero (VFIO ioctls carry no size or direction). */
	ADD(SCMP_SYS(ioctl), 1, arg_masked(1, ~SANDBOX_IOCTL_NR_MASK, SANDBOX_VFIO_IOCTL_TYPE));
	for (size_t i = 0; i < VDF_ARRAY_SIZE(allowed_ioctl); i++)
		ADD(SCMP_SYS(ioctl), 1, arg_eq(1, allowed_ioctl[i]));
	for (size_t i = 0; i < VDF_ARRAY_SIZE(allowed_prctl); i++)
		ADD(SCMP_SYS(prctl), 1, arg_eq(0, (uint64_t)allowed_prctl[i]));
	for (size_t i = 0; i < VDF_ARRAY_SIZE(allowed_fcntl); i++)
		ADD(SCMP_SYS(fcntl), 1, arg_eq(1, (uint64_t)allowed_fcntl[i]));
#undef ADD
	/* glibc tries clone3 first and falls back to clone on ENOSYS; clone3's
	 * flags live in memory seccomp cannot read. */
	return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
}

int vdf_sandbox_lockdown(void)
{
	scmp_filter_ctx ctx;
	int rc;

	/* Nothing may ptrace it or read its memory through /proc, even its own uid. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		rc = -errno;
		vdf_log(LOG_ERR, "sandbox", NULL, "prctl: %s", strerror(-rc));
		return rc;
	}
	ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	if (!ctx) {
		vdf_log(LOG_ERR, "sandbox", NULL, "seccomp_init failed");
		return -ENOMEM;
	}
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (rc)
		goto out_release;
	rc = add_rules(ctx);
	if (rc)
		goto out_release;
	rc = seccomp_load(ctx);

out_release:
	seccomp_release(ctx);
	if (rc)
		vdf_log(LOG_ERR, "sandbox", NULL, "installing the seccomp filter: %s",
			strerror(-rc));
	else
		vdf_log(LOG_DEBUG, "sandbox", NULL,
			"locked down (seccomp allowlist, no_new_privs)");
	return rc;
}
