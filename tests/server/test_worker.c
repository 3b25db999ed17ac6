/*
 * test_worker.c - the background thread for password checks (worker.c):
 * jobs run off the caller's thread in submission order, each finished job
 * wakes the caller once and is taken back exactly once with its result,
 * a full queue refuses, and freeing hands back every job not taken.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include <criterion/criterion.h>

#include "err.h"
#include "worker.h"

struct job {
	int n;
	pthread_t ran_on;
	bool ran;
};

static atomic_int wakes;

static void on_wake(void *ctx)
{
	(void)ctx;
	atomic_fetch_add(&wakes, 1);
}

static bool even(void *arg)
{
	struct job *j = arg;

	j->ran_on = pthread_self();
	j->ran = true;
	return j->n % 2 == 0;
}

/* Blocks until released: keeps the worker busy. */
static atomic_int gate_open;

static bool held(void *arg)
{
	(void)arg;
	while (!atomic_load(&gate_open))
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	return true;
}

static int dropped;

static void drop(void *arg)
{
	(void)arg;
	dropped++;
}

/* Takes n finished jobs (waiting up to 10 s); returns how many came. */
static int take(struct worker *w, int n, uint64_t *ids, void **args, bool *res)
{
	int got = 0, tries;

	for (tries = 0; got < n && tries < 10000; tries++) {
		if (worker_done(w, &ids[got], &args[got], &res[got]))
			got++;
		else
			nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
	return got;
}

Test(worker, runs_jobs_off_thread_in_order)
{
	struct job jobs[5];
	uint64_t ids[5];
	void *args[5];
	bool res[5];
	struct worker *w = worker_new(on_wake, NULL);
	int i;

	cr_assert_not_null(w);
	atomic_store(&wakes, 0);
	for (i = 0; i < 5; i++) {
		jobs[i] = (struct job){ i, pthread_self(), false };
		cr_assert_eq(worker_submit(w, 100 + i, even, &jobs[i]), OP_OK);
	}
	cr_assert_eq(take(w, 5, ids, args, res), 5);
	for (i = 0; i < 5; i++) {
		struct job *j = args[i];

		cr_assert_eq(ids[i], 100 + (uint64_t)j->n, "the id comes back with its job");
		cr_assert_eq(res[i], j->n % 2 == 0);
		cr_assert(j->ran);
		cr_assert_not(pthread_equal(j->ran_on, pthread_self()), "a job ran on the caller's thread");
	}
	cr_assert_not(worker_done(w, &ids[0], &args[0], &res[0]), "a job was taken twice");
	worker_free(w, drop); /* joins the thread: every wake has happened */
	cr_assert_eq(atomic_load(&wakes), 5, "one wake per finished job");
}

Test(worker, a_full_queue_refuses_and_free_drops_the_rest)
{
	struct job j = { 0, 0, false };
	struct worker *w = worker_new(on_wake, NULL);
	int i, n = 0;

	cr_assert_not_null(w);
	atomic_store(&gate_open, 0);
	dropped = 0;
	for (i = 0; i < WORKER_MAX_JOBS; i++)
		n += worker_submit(w, (uint64_t)i, i ? even : held, &j) == OP_OK;
	cr_assert_eq(n, WORKER_MAX_JOBS);
	cr_assert_eq(worker_submit(w, 999, even, &j), OP_ETOOBIG, "a full queue takes more");
	atomic_store(&gate_open, 1);
	worker_free(w, drop);
	cr_assert_eq(dropped, WORKER_MAX_JOBS, "every job not taken is handed back");
}

Test(worker, free_null)
{
	worker_free(NULL, drop);
}
