// SPDX-License-Identifier: MIT
/*
 * The driver sandbox: the seccomp lockdown (lib/core/sandbox.c) in a forked
 * child, which must lose open/socket/exec/ptrace/fork/... with EPERM and keep
 * what a driver's event loop uses; and the manager's spawn (manager/spawn.c),
 * which re-executes this binary as a helper in the sandbox and checks from the
 * inside: uid, groups, no_new_privs, rlimits, fds, the empty read-only root,
 * the network namespace. Spawn tests need root (CI runs as root) and skip
 * otherwise or when namespaces are not available.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../manager/spawn.h"
#include "vdf/log.h"
#include "vdf/sandbox.h"

#define HELPER_ARG     "--spawn-helper"
#define HELPER_NOFILE  32u
#define HELPER_MEMLOCK (8ull << 20)
#define TEST_INSTANCE  900u

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

/* ---- checks run in a child: failures go to a pipe as text --------------- */

static int report_fd = -1;
static unsigned child_failures;

static void VDF_PRINTF(2, 3) check(int ok, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	int n;

	if (ok)
		return;
	child_failures++;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(msg) - 2)
		n = (int)sizeof(msg) - 2;
	msg[n++] = '\n';
	if (write(report_fd, msg, (size_t)n) < 0) {
		/* the exit status still says it failed */
	}
}

/* A call that must fail with EPERM. */
#define DENIED(expr)                                                                           \
	do {                                                                                   \
		errno = 0;                                                                     \
		long rc_ = (long)(expr);                                                       \
		check(rc_ == -1 && errno == EPERM, "%s: want EPERM, got %ld (%s)", #expr, rc_, \
		      strerror(errno));                                                        \
	} while (0)

/* A call that must not be stopped by the filter (it may still fail for its own reasons). */
#define ALLOWED(expr)                                                                           \
	do {                                                                                    \
		errno = 0;                                                                      \
		long rc_ = (long)(expr);                                                        \
		check(rc_ >= 0, "%s: want success, got %ld (%s)", #expr, rc_, strerror(errno)); \
	} while (0)

static void *thread_main(void *arg)
{
	*(int *)arg = 42;
	return NULL;
}

static void locked_down_checks(void)
{
	char *const argv[] = {(char *)"true", NULL};
	struct epoll_event ev = {.events = EPOLLIN}, out;
	struct itimerspec its = {.it_value = {.tv_nsec = 1000000}};
	int pipefd[2], sv[2], efd, ep, tfd, value = 0;
	struct timespec ts;
	uint64_t one = 1, got = 0;
	pthread_t th;
	struct stat st;
	char buf[16];
	void *p;

	/* Made before lockdown, like a driver's granted fds. */
	check(pipe2(pipefd, O_CLOEXEC) == 0, "pipe2");
	check(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");

	check(vdf_sandbox_lockdown() == 0, "vdf_sandbox_lockdown failed");

	/* Denied: acquiring anything new. */
	DENIED(open("/etc/passwd", O_RDONLY));
	DENIED(openat(AT_FDCWD, "/etc/passwd", O_RDONLY));
	DENIED(syscall(SYS_openat2, AT_FDCWD, "/etc/passwd", NULL, 0));
	DENIED(creat("/tmp/vdf-sandbox-test", 0600));
	DENIED(socket(AF_INET, SOCK_STREAM, 0));
	DENIED(socket(AF_UNIX, SOCK_STREAM, 0));
	DENIED(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	DENIED(execve("/bin/true", argv, NULL));
	DENIED(syscall(SYS_execveat, AT_FDCWD, "/bin/true", argv, NULL, 0));
	DENIED(ptrace(PTRACE_TRACEME, 0, NULL, NULL));
	DENIED(ptrace(PTRACE_ATTACH, getppid(), NULL, NULL));
	DENIED(kill(getppid(), 0));
	DENIED(kill(1, 0));
	DENIED(fork());
	DENIED(syscall(SYS_memfd_create, "x", 0));
	DENIED(syscall(SYS_io_uring_setup, 1, NULL));
	DENIED(syscall(SYS_bpf, 0, NULL, 0));
	DENIED(syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
	DENIED(mount("none", "/tmp", "tmpfs", 0, NULL));
	DENIED(unshare(CLONE_NEWNET));
	DENIED(setuid(0));
	DENIED(prctl(PR_SET_DUMPABLE, 1, 0, 0, 0));
	DENIED(mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) ==
		       MAP_FAILED
		   ? -1
		   : 0);
	DENIED(ioctl(0, TIOCSTI, "x"));
	DENIED(stat("/etc/passwd", &st));
	/* clone3 says ENOSYS so that libc falls back to clone, whose flags are checked. */
	errno = 0;
	check(syscall(SYS_clone3, NULL, 0) == -1 && errno == ENOSYS, "clone3: want ENOSYS, got %s",
	      strerror(errno));

	/* Allowed: what a driver does with what it has. */
	ALLOWED(write(pipefd[1], "ping", 4));
	ALLOWED(read(pipefd[0], buf, 4));
	check(memcmp(buf, "ping", 4) == 0, "pipe data");
	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ALLOWED(efd);
	ALLOWED(write(efd, &one, sizeof(one)));
	ep = epoll_create1(EPOLL_CLOEXEC);
	ALLOWED(ep);
	ev.data.fd = efd;
	ALLOWED(epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev));
	check(epoll_wait(ep, &out, 1, 1000) == 1 && out.data.fd == efd, "epoll_wait on eventfd");
	ALLOWED(read(efd, &got, sizeof(got)));
	check(got == 1, "eventfd count");
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	ALLOWED(tfd);
	ALLOWED(timerfd_settime(tfd, 0, &its, NULL));
	ALLOWED(read(tfd, &got, sizeof(got)));
	ALLOWED(clock_gettime(CLOCK_MONOTONIC, &ts));
	ALLOWED(nanosleep(&(struct timespec){.tv_nsec = 1000}, NULL));
	ALLOWED(getrandom(buf, sizeof(buf), 0));
	ALLOWED(fstat(efd, &st));
	ALLOWED(kill(getpid(), 0));
	ALLOWED(getpid());
	ALLOWED(prctl(PR_SET_NAME, "drv", 0, 0, 0));
	p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check(p != MAP_FAILED, "mmap read/write: %s", strerror(errno));
	ALLOWED(mprotect(p, 4096, PROT_READ));
	DENIED(mprotect(p, 4096, PROT_READ | PROT_EXEC));
	ALLOWED(munmap(p, 8192));
	p = malloc(1 << 20); /* brk or mmap inside malloc */
	check(p != NULL, "malloc");
	free(p);
	check(pthread_create(&th, NULL, thread_main, &value) == 0, "pthread_create");
	check(pthread_join(th, NULL) == 0 && value == 42, "thread ran");
	ALLOWED(sendmsg(sv[0],
			&(struct msghdr){.msg_iov = &(struct iovec){"hb", 2}, .msg_iovlen = 1}, 0));
	ALLOWED(recv(sv[1], buf, sizeof(buf), 0));
	/* VFIO ioctls pass the filter: on a non-VFIO fd the kernel answers ENOTTY. */
	errno = 0;
	check(ioctl(efd, 0x3b64 /* VFIO_GET_API_VERSION */) == -1 && errno == ENOTTY,
	      "VFIO ioctl number: want ENOTTY from the kernel, got %s", strerror(errno));
}

static void test_lockdown(void **state)
{
	char msg[4096];
	int fds[2], status;
	ssize_t n;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		report_fd = fds[1];
		locked_down_checks();
		_exit(child_failures ? 1 : 0);
	}
	close(fds[1]);
	n = read(fds[0], msg, sizeof(msg) - 1);
	close(fds[0]);
	msg[n > 0 ? n : 0] = '\0';
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (n > 0)
		print_message("%s", msg);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(n, 0);
}

/* ---- spawn -------------------------------------------------------------- */

/* Runs inside the sandbox (this binary re-executed by vdf_spawn_driver):
 * checks what the child sees and reports on fd 3. */
static void __attribute__((noreturn)) spawn_helper(void)
{
	uid_t want = vdf_spawn_uid(TEST_INSTANCE);
	struct if_nameindex *ifs;
	struct rlimit rl;
	char c;

	report_fd = 3;
	check(fcntl(3, F_GETFD) >= 0, "fd 3 (grant socket) missing");
	check(getuid() == want && geteuid() == want, "uid %u/%u", getuid(), geteuid());
	check(getgid() == want && getegid() == want, "gid %u/%u", getgid(), getegid());
	check(getgroups(0, NULL) == 0, "supplementary groups: %d", getgroups(0, NULL));
	check(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1, "no_new_privs not set");
	check(getrlimit(RLIMIT_CORE, &rl) == 0 && rl.rlim_cur == 0 && rl.rlim_max == 0,
	      "RLIMIT_CORE");
	check(getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur == HELPER_NOFILE, "RLIMIT_NOFILE");
	check(getrlimit(RLIMIT_MEMLOCK, &rl) == 0 && rl.rlim_cur == HELPER_MEMLOCK,
	      "RLIMIT_MEMLOCK");
	for (int fd = 4; fd < (int)HELPER_NOFILE; fd++)
		check(fcntl(fd, F_GETFD) < 0 && errno == EBADF, "fd %d leaked into the sandbox",
		      fd);
	check(read(0, &c, 1) == 0, "stdin is not /dev/null-like");
	/* The root holds the loader's directories and nothing else. */
	static const char *const absent[] = {"/etc/passwd", "/proc/self", "/dev/null", "/sys/bus",
					     "/bin/sh",	    "/usr/bin",	  "/home",     "/root"};
	for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++)
		check(access(absent[i], F_OK) < 0 && errno == ENOENT, "%s visible in the sandbox",
		      absent[i]);
	check(access("/usr/lib", F_OK) == 0, "/usr/lib missing (the loader needs it)");
	check(mkdir("/x", 0700) < 0 && (errno == EROFS || errno == EACCES), "root is writable");
	check(mkdir("/usr/lib/x", 0700) < 0 && (errno == EROFS || errno == EACCES),
	      "/usr/lib is writable");
	/* New network namespace: only a loopback interface. */
	ifs = if_nameindex();
	check(ifs != NULL, "if_nameindex: %s", strerror(errno));
	for (struct if_nameindex *i = ifs; i && i->if_name; i++)
		check(strcmp(i->if_name, "lo") == 0, "interface %s visible", i->if_name);
	if (ifs)
		if_freenameindex(ifs);
	check(getppid() != 1, "parent gone");
	fprintf(stderr, "helper: stderr reaches the log pipe\n");
	if (write(3, child_failures ? "FAIL\n" : "OK\n", child_failures ? 5 : 3) < 0)
		_exit(3);
	/* _exit: no LeakSanitizer pass at exit in ASan builds (it needs /proc). */
	_exit(child_failures ? 1 : 0);
}

static char self_path[PATH_MAX];

static int spawn_setup(void **state)
{
	ssize_t n;

	(void)state;
	if (geteuid() != 0)
		return 0;
	n = readlink("/proc/self/exe", self_path, sizeof(self_path) - 1);
	if (n < 0)
		return -1;
	self_path[n] = '\0';
	return 0;
}

static void require_root(void)
{
	if (geteuid() != 0) {
		print_message("not root: spawn test skipped\n");
		skip();
	}
}

static void base_opts(struct vdf_spawn_opts *o, char *const *argv)
{
	static char *const env[] = {(char *)"LANG=C", NULL};

	memset(o, 0, sizeof(*o));
	o->path = self_path;
	o->argv = argv;
	o->envp = env;
	o->grant_fd = -1;
	o->uid = vdf_spawn_uid(TEST_INSTANCE);
	o->gid = vdf_spawn_uid(TEST_INSTANCE);
	o->nofile = HELPER_NOFILE;
	o->memlock_bytes = HELPER_MEMLOCK;
}

static ssize_t read_all(int fd, char *buf, size_t cap)
{
	size_t len = 0;
	ssize_t n;

	while (len < cap - 1 && (n = read(fd, buf + len, cap - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	return (ssize_t)len;
}

static void test_spawn_sandboxed(void **state)
{
	char *const argv[] = {self_path, (char *)HELPER_ARG, NULL};
	char report[4096], log[4096];
	struct vdf_spawn_opts o;
	struct vdf_spawned s;
	int sv[2], status, rc;

	(void)state;
	require_root();
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	base_opts(&o, argv);
	o.grant_fd = sv[1];
	rc = vdf_spawn_driver(&o, &s);
	if (rc == -EPERM || rc == -EINVAL || rc == -ENOSYS) {
		print_message("namespaces unavailable (%s): spawn test skipped\n", strerror(-rc));
		close(sv[0]);
		close(sv[1]);
		skip();
	}
	assert_int_equal(rc, 0);
	close(sv[1]);
	assert_true(s.pid > 0 && s.pidfd >= 0 && s.log_fd >= 0);
	read_all(s.log_fd, log, sizeof(log));
	assert_int_equal(vdf_spawn_reap(&s, true, &status), 0);
	assert_int_equal(s.pid, 0);
	/* The helper wrote its verdict and closed: read everything queued. */
	report[0] = '\0';
	{
		size_t len = 0;
		ssize_t n;

		while ((n = recv(sv[0], report + len, sizeof(report) - 1 - len, MSG_DONTWAIT)) > 0)
			len += (size_t)n;
		report[len] = '\0';
	}
	close(sv[0]);
	vdf_spawned_release(&s);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		print_message("helper report:\n%s\nhelper log:\n%s\n", report, log);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_non_null(strstr(log, "helper: stderr reaches the log pipe"));
}

static void test_spawn_errors(void **state)
{
	char *const argv[] = {(char *)"x", NULL};
	char path[] = "/tmp/vdf-spawn-noexec-XXXXXX";
	struct vdf_spawn_opts o;
	struct vdf_spawned s;
	int fd, rc;

	(void)state;
	require_root();
	base_opts(&o, argv);
	o.uid = 0;
	assert_int_equal(vdf_spawn_driver(&o, &s), -EINVAL);
	base_opts(&o, argv);
	o.argv = NULL;
	assert_int_equal(vdf_spawn_driver(&o, &s), -EINVAL);

	/* Missing binary: the child says so before anything else. */
	base_opts(&o, argv);
	o.path = "/nonexistent/vdf-driver";
	assert_int_equal(vdf_spawn_driver(&o, &s), -ENOENT);

	/* Not executable by the driver's user: the exec step fails, reported as such. */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd,
			       "\x7f"
			       "ELF",
			       4),
			 4);
	close(fd);
	chmod(path, 0644);
	base_opts(&o, argv);
	o.path = path;
	rc = vdf_spawn_driver(&o, &s);
	unlink(path);
	if (rc == -EPERM) {
		print_message("namespaces unavailable: skipped\n");
		skip();
	}
	assert_int_equal(rc, -EACCES);
}

/* ---- IOMMU detection on a fake sysfs ------------------------------------ */

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_iommu_present(void **state)
{
	char root[] = "/tmp/vdf-sysfs-XXXXXX", p[PATH_MAX], q[PATH_MAX];

	(void)state;
	assert_non_null(mkdtemp(root));
	assert_false(vdf_iommu_present_at(root, NULL));
	snprintf(p, sizeof(p), "%s/kernel", root);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/kernel/iommu_groups", root);
	assert_int_equal(mkdir(p, 0755), 0);
	assert_false(vdf_iommu_present_at(root, NULL)); /* empty: no IOMMU */
	snprintf(p, sizeof(p), "%s/kernel/iommu_groups/3", root);
	assert_int_equal(mkdir(p, 0755), 0);
	assert_true(vdf_iommu_present_at(root, NULL));
	/* A device without a group is not protected. */
	snprintf(p, sizeof(p), "%s/bus", root);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/bus/pci", root);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/bus/pci/devices", root);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/bus/pci/devices/0000:00:04.0", root);
	assert_int_equal(mkdir(p, 0755), 0);
	assert_false(vdf_iommu_present_at(root, "0000:00:04.0"));
	snprintf(p, sizeof(p), "%s/bus/pci/devices/0000:00:04.0/iommu_group", root);
	assert_int_equal(symlink("../../../../kernel/iommu_groups/3", p), 0);
	assert_true(vdf_iommu_present_at(root, "0000:00:04.0")); /* no "type": old kernel */
	snprintf(q, sizeof(q), "%s/kernel/iommu_groups/3/type", root);
	write_file(q, "DMA-FQ\n");
	assert_true(vdf_iommu_present_at(root, "0000:00:04.0"));
	write_file(q, "unknown\n"); /* VFIO no-IOMMU group */
	assert_false(vdf_iommu_present_at(root, "0000:00:04.0"));
	assert_false(vdf_iommu_present_at(root, "../../../etc"));
	assert_false(vdf_iommu_present_at(root, "0000:00:05.0"));
	unlink(q);
	unlink(p);
	snprintf(p, sizeof(p), "rm -rf '%s'", root);
	assert_int_equal(system(p), 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lockdown),
	    cmocka_unit_test(test_spawn_sandboxed),
	    cmocka_unit_test(test_spawn_errors),
	    cmocka_unit_test(test_iommu_present),
	};

	if (argc == 2 && !strcmp(argv[1], HELPER_ARG))
		spawn_helper();
	if (spawn_setup(NULL))
		return 1;
	return cmocka_run_group_tests_name("sandbox", tests, group_setup, group_teardown);
}
