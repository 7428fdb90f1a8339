// SPDX-License-Identifier: MIT
/*
 * SPSC shared-memory rings (lib/ipc/ring.c): geometry and header validation
 * on attach (the header comes from an untrusted peer), corrupt indices,
 * full/empty, batches, wrap-around of the free-running indices past
 * UINT32_MAX, the need-wakeup flag protocol, and two threads pushing
 * sequence-numbered slots through a small ring (busy-poll and eventfd).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "vdf/ring.h"

#define CAP  8u
#define SLOT 16u

struct env {
	void *mem;
	size_t len;
	struct vdf_ring prod; /* creator, producer side */
	struct vdf_ring cons; /* attached, consumer side */
};

static void *map_shared(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	assert_true(p != MAP_FAILED);
	return p;
}

static int env_setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	e->len = vdf_ring_layout_size(CAP, SLOT);
	e->mem = map_shared(e->len);
	assert_int_equal(vdf_ring_init(e->mem, e->len, CAP, SLOT, &e->prod), 0);
	assert_int_equal(vdf_ring_attach(e->mem, e->len, &e->cons), 0);
	*state = e;
	return 0;
}

static int env_teardown(void **state)
{
	struct env *e = *state;

	munmap(e->mem, e->len);
	free(e);
	return 0;
}

static struct vdf_ring_hdr *hdr(struct env *e)
{
	return e->mem;
}

static void fill(uint8_t *slot, uint64_t seq)
{
	memset(slot, 0, SLOT);
	memcpy(slot, &seq, sizeof(seq));
}

static uint64_t seq_of(const uint8_t *slot)
{
	uint64_t seq;

	memcpy(&seq, slot, sizeof(seq));
	return seq;
}

static void test_layout_size(void **state)
{
	(void)state;
	assert_int_equal(vdf_ring_layout_size(8, 16), VDF_RING_HDR_SIZE + 128);
	assert_int_equal(vdf_ring_layout_size(1, 8), VDF_RING_HDR_SIZE + 8);
	assert_int_equal(vdf_ring_layout_size(VDF_RING_CAPACITY_MAX, VDF_RING_SLOT_MAX),
			 VDF_RING_HDR_SIZE + (size_t)VDF_RING_CAPACITY_MAX * VDF_RING_SLOT_MAX);
	assert_int_equal(vdf_ring_layout_size(0, 16), 0);
	assert_int_equal(vdf_ring_layout_size(12, 16), 0);
	assert_int_equal(vdf_ring_layout_size(VDF_RING_CAPACITY_MAX * 2, 16), 0);
	assert_int_equal(vdf_ring_layout_size(1u << 31, 16), 0);
	assert_int_equal(vdf_ring_layout_size(8, 0), 0);
	assert_int_equal(vdf_ring_layout_size(8, 12), 0);
	assert_int_equal(vdf_ring_layout_size(8, VDF_RING_SLOT_MAX + 8), 0);
}

static void test_init_rejects(void **state)
{
	size_t len = vdf_ring_layout_size(CAP, SLOT);
	uint8_t *mem = map_shared(len + 64);
	struct vdf_ring r;

	(void)state;
	assert_int_equal(vdf_ring_init(NULL, len, CAP, SLOT, &r), -EINVAL);
	assert_int_equal(vdf_ring_init(mem, len, CAP, SLOT, NULL), -EINVAL);
	assert_int_equal(vdf_ring_init(mem, len - 1, CAP, SLOT, &r), -EINVAL);
	assert_int_equal(vdf_ring_init(mem, len, 6, SLOT, &r), -EINVAL);
	assert_int_equal(vdf_ring_init(mem, len, CAP, 10, &r), -EINVAL);
	assert_int_equal(vdf_ring_init(mem + 4, len, CAP, SLOT, &r), -EINVAL);
	assert_int_equal(vdf_ring_init(mem, len, CAP, SLOT, &r), 0);
	assert_int_equal(vdf_ring_capacity(&r), CAP);
	assert_int_equal(vdf_ring_slot_size(&r), SLOT);
	assert_int_equal(vdf_ring_free(&r), CAP);
	assert_int_equal(vdf_ring_used(&r), 0);
	munmap(mem, len + 64);
}

/* Corrupt one thing in a good header; attach must say -EINVAL. */
static void test_attach_rejects_bad_header(void **state)
{
	struct env *e = *state;
	struct vdf_ring_hdr good = *hdr(e);
	struct vdf_ring r;

	assert_int_equal(vdf_ring_attach(NULL, e->len, &r), -EINVAL);
	assert_int_equal(vdf_ring_attach(e->mem, e->len, NULL), -EINVAL);
	assert_int_equal(vdf_ring_attach(e->mem, sizeof(good) - 1, &r), -EINVAL);
	assert_int_equal(vdf_ring_attach(e->mem, e->len - 1, &r), -EINVAL);
	assert_int_equal(vdf_ring_attach((uint8_t *)e->mem + 4, e->len - 4, &r), -EINVAL);

#define CORRUPT(stmt)                                                           \
	do {                                                                    \
		*hdr(e) = good;                                                 \
		stmt;                                                           \
		assert_int_equal(vdf_ring_attach(e->mem, e->len, &r), -EINVAL); \
	} while (0)
	CORRUPT(hdr(e)->magic ^= 1);
	CORRUPT(hdr(e)->version = VDF_RING_VERSION + 1);
	CORRUPT(hdr(e)->reserved0 = 1);
	CORRUPT(hdr(e)->reserved1[39] = 1);
	CORRUPT(hdr(e)->capacity = 0);
	CORRUPT(hdr(e)->capacity = 6);
	CORRUPT(hdr(e)->capacity = 1u << 31);
	CORRUPT(hdr(e)->capacity = CAP * 2); /* valid geometry, but not in len */
	CORRUPT(hdr(e)->slot_size = 0);
	CORRUPT(hdr(e)->slot_size = SLOT + 4);
	CORRUPT(hdr(e)->slot_size = SLOT * 2);
	CORRUPT(hdr(e)->slot_size = UINT32_MAX);
	CORRUPT(hdr(e)->slots_off = 0);
	CORRUPT(hdr(e)->slots_off = VDF_RING_HDR_SIZE + 64);
	CORRUPT(hdr(e)->slots_off = UINT64_MAX);
#undef CORRUPT
	*hdr(e) = good;
	/* A smaller ring than the mapping is fine. */
	hdr(e)->capacity = CAP / 2;
	assert_int_equal(vdf_ring_attach(e->mem, e->len, &r), 0);
	assert_int_equal(vdf_ring_capacity(&r), CAP / 2);
}

static void test_attach_rejects_bad_indices(void **state)
{
	struct env *e = *state;
	struct vdf_ring r;

	hdr(e)->prod = CAP + 1;
	assert_int_equal(vdf_ring_attach(e->mem, e->len, &r), -EIO);
	hdr(e)->prod = 0;
	hdr(e)->cons = 1; /* consumer ahead of producer */
	assert_int_equal(vdf_ring_attach(e->mem, e->len, &r), -EIO);
	hdr(e)->prod = 5;
	hdr(e)->cons = 5 - CAP; /* exactly full, across the wrap */
	assert_int_equal(vdf_ring_attach(e->mem, e->len, &r), 0);
	assert_int_equal(vdf_ring_used(&r), CAP);
}

static void test_full_empty(void **state)
{
	struct env *e = *state;
	uint8_t buf[SLOT];
	uint64_t i;

	assert_int_equal(vdf_ring_consume(&e->cons, buf), -EAGAIN);
	for (i = 0; i < CAP; i++) {
		fill(buf, i);
		assert_int_equal(vdf_ring_produce(&e->prod, buf), 0);
		assert_int_equal(vdf_ring_free(&e->prod), CAP - i - 1);
		assert_int_equal(vdf_ring_used(&e->cons), i + 1);
	}
	fill(buf, 99);
	assert_int_equal(vdf_ring_produce(&e->prod, buf), -EAGAIN);
	for (i = 0; i < CAP; i++) {
		assert_int_equal(vdf_ring_consume(&e->cons, buf), 0);
		assert_int_equal(seq_of(buf), i);
	}
	assert_int_equal(vdf_ring_consume(&e->cons, buf), -EAGAIN);
	assert_int_equal(vdf_ring_free(&e->prod), CAP);
}

static void test_batches(void **state)
{
	struct env *e = *state;
	uint32_t first, first2, i;

	/* Reserve in two steps, commit part, then the rest. */
	assert_int_equal(vdf_ring_reserve(&e->prod, 5, &first), 5);
	assert_int_equal(first, 0);
	assert_int_equal(vdf_ring_reserve(&e->prod, 5, &first2), 3); /* only 3 left */
	assert_int_equal(first2, 5);
	assert_int_equal(vdf_ring_free(&e->prod), 0);
	assert_int_equal(vdf_ring_reserve(&e->prod, 1, &first2), 0);
	for (i = 0; i < CAP; i++)
		fill(vdf_ring_slot(&e->prod, first + i), 100 + i);
	/* Nothing is visible before commit. */
	assert_int_equal(vdf_ring_used(&e->cons), 0);
	assert_false(vdf_ring_commit(&e->prod, 3));
	assert_int_equal(vdf_ring_used(&e->cons), 3);
	assert_false(vdf_ring_commit(&e->prod, 5));
	assert_int_equal(vdf_ring_used(&e->cons), CAP);

	/* Peek in two steps, release part; the producer sees only released space. */
	assert_int_equal(vdf_ring_peek(&e->cons, 2, &first), 2);
	assert_int_equal(first, 0);
	assert_int_equal(vdf_ring_peek(&e->cons, 100, &first2), CAP - 2);
	assert_int_equal(first2, 2);
	assert_int_equal(vdf_ring_peek(&e->cons, 1, &first2), 0);
	for (i = 0; i < CAP; i++)
		assert_int_equal(seq_of(vdf_ring_slot(&e->cons, first + i)), 100 + i);
	vdf_ring_release(&e->cons, 4);
	assert_int_equal(vdf_ring_free(&e->prod), 4);
	assert_int_equal(vdf_ring_used(&e->cons), 4);
	/* Unpeek: the 4 peeked, unreleased slots come back with the next peek. */
	vdf_ring_unpeek(&e->cons);
	assert_int_equal(vdf_ring_peek(&e->cons, 100, &first2), 4);
	assert_int_equal(first2, 4);
	assert_int_equal(seq_of(vdf_ring_slot(&e->cons, first2)), 104);
	vdf_ring_release(&e->cons, 4);
	assert_int_equal(vdf_ring_free(&e->prod), CAP);
	assert_int_equal(vdf_ring_used(&e->cons), 0);
	/* Committing or releasing nothing is a no-op. */
	assert_false(vdf_ring_commit(&e->prod, 0));
	vdf_ring_release(&e->cons, 0);
}

/* Free-running indices crossing UINT32_MAX, slot numbers wrapping too. */
static void test_wraparound(void **state)
{
	struct env *e = *state;
	uint8_t buf[SLOT];
	uint64_t next_in = 0, next_out = 0;
	int round, k, ret;

	hdr(e)->prod = hdr(e)->cons = UINT32_MAX - 5;
	assert_int_equal(vdf_ring_attach(e->mem, e->len, &e->prod), 0);
	assert_int_equal(vdf_ring_attach(e->mem, e->len, &e->cons), 0);
	for (round = 0; round < 20; round++) {
		for (k = 0; k < 1 + round % 5; k++) {
			fill(buf, next_in);
			ret = vdf_ring_produce(&e->prod, buf);
			if (ret == -EAGAIN)
				break;
			assert_int_equal(ret, 0);
			next_in++;
		}
		for (k = 0; k < 1 + round % 3; k++) {
			ret = vdf_ring_consume(&e->cons, buf);
			if (ret == -EAGAIN)
				break;
			assert_int_equal(ret, 0);
			assert_int_equal(seq_of(buf), next_out);
			next_out++;
		}
		assert_int_equal(vdf_ring_used(&e->cons), next_in - next_out);
		assert_int_equal(vdf_ring_free(&e->prod), CAP - (next_in - next_out));
	}
	while (vdf_ring_consume(&e->cons, buf) == 0)
		assert_int_equal(seq_of(buf), next_out++);
	assert_int_equal(next_in, next_out);
	assert_true(next_in > 10);
	/* The counters really wrapped. */
	assert_true(hdr(e)->prod < 100);
	assert_int_equal(hdr(e)->prod, (uint32_t)(UINT32_MAX - 5 + next_in));
}

static void test_corrupt_indices_at_runtime(void **state)
{
	struct env *e = *state;
	uint8_t buf[SLOT] = {0};
	uint32_t first;

	assert_int_equal(vdf_ring_produce(&e->prod, buf), 0);
	/* Hostile producer claims more than the capacity. */
	hdr(e)->prod = 1 + CAP;
	assert_int_equal(vdf_ring_used(&e->cons), -EIO);
	/* Once broken, always broken, even if the index is put back. */
	hdr(e)->prod = 1;
	assert_int_equal(vdf_ring_consume(&e->cons, buf), -EIO);
	assert_int_equal(vdf_ring_peek(&e->cons, 1, &first), -EIO);
	assert_int_equal(vdf_ring_prepare_wait(&e->cons), -EIO);

	/* Hostile consumer jumps ahead of the producer. */
	hdr(e)->cons = 2;
	assert_int_equal(vdf_ring_free(&e->prod), -EIO);
	hdr(e)->cons = 1;
	assert_int_equal(vdf_ring_reserve(&e->prod, 1, &first), -EIO);
	assert_int_equal(vdf_ring_produce(&e->prod, buf), -EIO);
}

static void test_corrupt_producer_moves_back(void **state)
{
	struct env *e = *state;
	uint8_t buf[SLOT] = {0};
	uint32_t first;

	assert_int_equal(vdf_ring_produce(&e->prod, buf), 0);
	assert_int_equal(vdf_ring_produce(&e->prod, buf), 0);
	assert_int_equal(vdf_ring_peek(&e->cons, 2, &first), 2);
	hdr(e)->prod = 1; /* below what we already peeked */
	assert_int_equal(vdf_ring_used(&e->cons), -EIO);
}

static void test_corrupt_consumer_moves_back(void **state)
{
	struct env *e = *state;
	uint32_t first;

	/* A consumer index moved back within the window while slots are reserved. */
	assert_int_equal(vdf_ring_reserve(&e->prod, CAP, &first), CAP);
	assert_false(vdf_ring_commit(&e->prod, 4));
	hdr(e)->cons = (uint32_t)-4; /* used = 8, plus 4 reserved > capacity */
	assert_int_equal(vdf_ring_reserve(&e->prod, 1, &first), -EIO);
}

static void test_wakeup_protocol(void **state)
{
	struct env *e = *state;
	uint8_t buf[SLOT] = {0};
	uint32_t first;

	/* Busy-polling consumer: never a kick. */
	assert_int_equal(vdf_ring_produce(&e->prod, buf), 0);
	assert_int_equal(vdf_ring_consume(&e->cons, buf), 0);

	/* Consumer goes to sleep on an empty ring: flag set, may block. */
	assert_int_equal(vdf_ring_prepare_wait(&e->cons), 0);
	assert_int_not_equal(hdr(e)->need_wakeup, 0);
	/* A batch of three: one kick, at the commit; the flag is consumed. */
	assert_int_equal(vdf_ring_reserve(&e->prod, 3, &first), 3);
	assert_true(vdf_ring_commit(&e->prod, 3));
	assert_int_equal(hdr(e)->need_wakeup, 0);
	assert_int_equal(vdf_ring_produce(&e->prod, buf), 0); /* no second kick */
	vdf_ring_finish_wait(&e->cons);

	/* Work arrived before we blocked: prepare_wait says so and clears the flag. */
	assert_int_equal(vdf_ring_prepare_wait(&e->cons), 4);
	assert_int_equal(hdr(e)->need_wakeup, 0);
	/* Drain; a single produce reports the kick as VDF_RING_KICK. */
	while (vdf_ring_consume(&e->cons, buf) == 0)
		;
	assert_int_equal(vdf_ring_prepare_wait(&e->cons), 0);
	assert_int_equal(vdf_ring_produce(&e->prod, buf), VDF_RING_KICK);
	assert_int_equal(vdf_ring_produce(&e->prod, buf), 0);
	vdf_ring_finish_wait(&e->cons);
	assert_int_equal(vdf_ring_produce(&e->prod, buf), 0);
}

/* ---- two threads ---- */

struct stress {
	struct vdf_ring prod, cons;
	uint64_t count;
	int efd;	/* doorbell, or -1 to busy-poll */
	uint64_t kicks; /* eventfd writes the producer made */
	uint64_t waits; /* prepare_wait calls */
	uint64_t sleeps;
	bool failed;
};

static void *stress_producer(void *arg)
{
	struct stress *s = arg;
	uint64_t seq = 0, one = 1;
	uint32_t first, i;
	int n;

	while (seq < s->count) {
		n = vdf_ring_reserve(&s->prod, 1 + (uint32_t)(seq % 7), &first);
		if (n < 0) {
			s->failed = true;
			return NULL;
		}
		if (n == 0) {
			sched_yield();
			continue;
		}
		for (i = 0; i < (uint32_t)n && seq < s->count; i++, seq++) {
			uint64_t *slot = vdf_ring_slot(&s->prod, first + i);

			slot[0] = seq;
			slot[1] = ~seq;
		}
		/* Commit the filled ones; the rest stay reserved for the next round. */
		if (vdf_ring_commit(&s->prod, i) && s->efd >= 0) {
			s->kicks++;
			if (write(s->efd, &one, sizeof(one)) != sizeof(one))
				s->failed = true;
		}
	}
	return NULL;
}

static void *stress_consumer(void *arg)
{
	struct stress *s = arg;
	uint64_t expect = 0, val;
	uint32_t first, i;
	int n, spins = 0;

	while (expect < s->count) {
		n = vdf_ring_peek(&s->cons, 1 + (uint32_t)(expect % 5), &first);
		if (n < 0)
			goto fail;
		if (n == 0) {
			if (s->efd < 0 || ++spins < 64) {
				sched_yield();
				continue;
			}
			spins = 0;
			s->waits++;
			n = vdf_ring_prepare_wait(&s->cons);
			if (n < 0)
				goto fail;
			if (n == 0) {
				struct pollfd pfd = {.fd = s->efd, .events = POLLIN};

				s->sleeps++;
				/* A lost wakeup shows up as this timeout. */
				if (poll(&pfd, 1, 2000) != 1 ||
				    read(s->efd, &val, sizeof(val)) != sizeof(val))
					goto fail;
			}
			vdf_ring_finish_wait(&s->cons);
			continue;
		}
		for (i = 0; i < (uint32_t)n; i++, expect++) {
			const uint64_t *slot = vdf_ring_slot(&s->cons, first + i);

			if (slot[0] != expect || slot[1] != ~expect)
				goto fail;
		}
		vdf_ring_release(&s->cons, (uint32_t)n);
	}
	return NULL;
fail:
	s->failed = true;
	return NULL;
}

static void run_stress(uint64_t count, uint32_t capacity, bool doorbell, uint32_t start)
{
	size_t len = vdf_ring_layout_size(capacity, 16);
	void *mem = map_shared(len);
	struct stress s = {.count = count, .efd = -1};
	pthread_t pt, ct;

	assert_int_equal(vdf_ring_init(mem, len, capacity, 16, &s.prod), 0);
	((struct vdf_ring_hdr *)mem)->prod = ((struct vdf_ring_hdr *)mem)->cons = start;
	assert_int_equal(vdf_ring_attach(mem, len, &s.prod), 0);
	assert_int_equal(vdf_ring_attach(mem, len, &s.cons), 0);
	if (doorbell) {
		s.efd = eventfd(0, EFD_CLOEXEC);
		assert_true(s.efd >= 0);
	}
	assert_int_equal(pthread_create(&ct, NULL, stress_consumer, &s), 0);
	assert_int_equal(pthread_create(&pt, NULL, stress_producer, &s), 0);
	pthread_join(pt, NULL);
	if (s.failed && doorbell) {
		uint64_t one = 1; /* unblock a consumer waiting forever */

		assert_true(write(s.efd, &one, sizeof(one)) == sizeof(one));
	}
	pthread_join(ct, NULL);
	assert_false(s.failed);
	assert_int_equal(vdf_ring_used(&s.cons), 0);
	assert_int_equal((uint32_t)(((struct vdf_ring_hdr *)mem)->prod - start), (uint32_t)count);
	if (doorbell) {
		/* Kicks only when the consumer set the flag, at most once each time. */
		assert_true(s.kicks <= s.waits);
		assert_true(s.sleeps > 0);
		close(s.efd);
	}
	munmap(mem, len);
}

static void test_stress_busy_poll(void **state)
{
	(void)state;
	run_stress(5000000, 64, false, UINT32_MAX - 1000);
}

static void test_stress_doorbell(void **state)
{
	(void)state;
	run_stress(200000, 16, true, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_layout_size),
	    cmocka_unit_test(test_init_rejects),
	    cmocka_unit_test_setup_teardown(test_attach_rejects_bad_header, env_setup,
					    env_teardown),
	    cmocka_unit_test_setup_teardown(test_attach_rejects_bad_indices, env_setup,
					    env_teardown),
	    cmocka_unit_test_setup_teardown(test_full_empty, env_setup, env_teardown),
	    cmocka_unit_test_setup_teardown(test_batches, env_setup, env_teardown),
	    cmocka_unit_test_setup_teardown(test_wraparound, env_setup, env_teardown),
	    cmocka_unit_test_setup_teardown(test_corrupt_indices_at_runtime, env_setup,
					    env_teardown),
	    cmocka_unit_test_setup_teardown(test_corrupt_producer_moves_back, env_setup,
					    env_teardown),
	    cmocka_unit_test_setup_teardown(test_corrupt_consumer_moves_back, env_setup,
					    env_teardown),
	    cmocka_unit_test_setup_teardown(test_wakeup_protocol, env_setup, env_teardown),
	    cmocka_unit_test(test_stress_busy_poll),
	    cmocka_unit_test(test_stress_doorbell),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
