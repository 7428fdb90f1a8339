// SPDX-License-Identifier: MIT
/*
 * vdf-ringbench: round-trip time of a request/completion pair through two
 * VDF rings in shared memory between two processes (the bare transport under
 * the block service), busy-polled and with eventfd doorbells.
 *
 *   vdf-ringbench [--mode polled|eventfd] [--count N] [--json]
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vdf/blkproto.h"
#include "vdf/event.h"
#include "vdf/ring.h"

#define RING_SLOTS 256u

struct side {
	struct vdf_ring sq, cq; /* submissions (client -> server), completions (back) */
	int sq_kick, cq_kick;	/* eventfds: wake the server, wake the client */
	int eventfd_mode;
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void kick(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) != sizeof(one))
		perror("vdf-ringbench: eventfd write");
}

/* Take one slot from r, sleeping on fd in eventfd mode. */
static int take(struct vdf_ring *r, int fd, int eventfd_mode, void *slot)
{
	for (;;) {
		int rc = vdf_ring_consume(r, slot);
		uint64_t v;

		if (rc != -EAGAIN)
			return rc;
		if (!eventfd_mode)
			continue;
		rc = vdf_ring_prepare_wait(r);
		if (rc < 0)
			return rc;
		if (rc == 0 && read(fd, &v, sizeof(v)) < 0 && errno != EINTR)
			return -errno;
		vdf_ring_finish_wait(r);
	}
}

static int put(struct vdf_ring *r, int fd, int eventfd_mode, const void *slot)
{
	int rc;

	while ((rc = vdf_ring_produce(r, slot)) == -EAGAIN)
		;
	if (rc == VDF_RING_KICK && eventfd_mode)
		kick(fd);
	return rc < 0 ? rc : 0;
}

/* The "driver": echo every request as a completion. */
static int serve(struct side *s, unsigned count)
{
	uint8_t req[sizeof(struct vdf_blk_req_wire)] = {0};
	uint8_t cpl[sizeof(struct vdf_blk_cpl_wire)] = {0};

	for (unsigned i = 0; i < count; i++) {
		int rc = take(&s->sq, s->sq_kick, s->eventfd_mode, req);

		if (rc)
			return rc;
		memcpy(cpl, req, sizeof(uint64_t)); /* the id */
		rc = put(&s->cq, s->cq_kick, s->eventfd_mode, cpl);
		if (rc)
			return rc;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"mode", required_argument, 0, 'm'},
					     {"count", required_argument, 0, 'c'},
					     {"json", no_argument, 0, 'j'},
					     {0, 0, 0, 0}};
	size_t sq_len = vdf_ring_layout_size(RING_SLOTS, sizeof(struct vdf_blk_req_wire));
	size_t cq_len = vdf_ring_layout_size(RING_SLOTS, sizeof(struct vdf_blk_cpl_wire));
	uint8_t req[sizeof(struct vdf_blk_req_wire)] = {0};
	uint8_t cpl[sizeof(struct vdf_blk_cpl_wire)];
	unsigned count = 100000;
	uint64_t *lat, sum = 0;
	struct side s = {0};
	int json = 0, o, status;
	uint8_t *mem;
	pid_t pid;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'm')
			s.eventfd_mode = !strcmp(optarg, "eventfd");
		else if (o == 'c')
			count = (unsigned)strtoul(optarg, NULL, 0);
		else if (o == 'j')
			json = 1;
		else
			return 2;
	}
	if (!count || !(lat = calloc(count, sizeof(*lat))))
		return 2;
	mem =
	    mmap(NULL, sq_len + cq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	s.sq_kick = eventfd(0, EFD_CLOEXEC);
	s.cq_kick = eventfd(0, EFD_CLOEXEC);
	if (mem == MAP_FAILED || s.sq_kick < 0 || s.cq_kick < 0 ||
	    vdf_ring_init(mem, sq_len, RING_SLOTS, sizeof(req), &s.sq) ||
	    vdf_ring_init(mem + sq_len, cq_len, RING_SLOTS, sizeof(cpl), &s.cq)) {
		perror("vdf-ringbench: setup");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		perror("vdf-ringbench: fork");
		return 1;
	}
	if (pid == 0) {
		/* The server attaches like a separate driver would. */
		struct side srv = s;

		if (vdf_ring_attach(mem, sq_len, &srv.sq) ||
		    vdf_ring_attach(mem + sq_len, cq_len, &srv.cq))
			_exit(3);
		_exit(serve(&srv, count) ? 4 : 0);
	}
	for (unsigned i = 0; i < count; i++) {
		uint64_t t0 = vdf_now_ns(), id = i;

		memcpy(req, &id, sizeof(id));
		if (put(&s.sq, s.sq_kick, s.eventfd_mode, req) ||
		    take(&s.cq, s.cq_kick, s.eventfd_mode, cpl) || memcmp(cpl, &id, sizeof(id))) {
			fprintf(stderr, "vdf-ringbench: round trip %u failed\n", i);
			kill(pid, SIGKILL);
			return 1;
		}
		lat[i] = vdf_now_ns() - t0;
		sum += lat[i];
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "vdf-ringbench: server failed\n");
		return 1;
	}
	qsort(lat, count, sizeof(*lat), cmp_u64);
	if (json)
		printf("{\"mode\":\"%s\",\"round_trips\":%u,\"mean_us\":%.2f,\"p50_us\":%.2f,"
		       "\"p99_us\":%.2f}\n",
		       s.eventfd_mode ? "eventfd" : "polled", count, (double)sum / count / 1e3,
		       (double)lat[count / 2] / 1e3, (double)lat[(uint64_t)count * 99 / 100] / 1e3);
	else
		printf("ring round trip (%s, 2 processes): %u round trips, mean %.2f us, p50 %.2f "
		       "us, p99 %.2f us\n",
		       s.eventfd_mode ? "eventfd" : "polled", count, (double)sum / count / 1e3,
		       (double)lat[count / 2] / 1e3, (double)lat[(uint64_t)count * 99 / 100] / 1e3);
	free(lat);
	return 0;
}
