/*
 * worker.c - the background thread (see worker.h). Jobs live in a fixed
 * array of slots: free, queued, running or finished; a mutex guards the
 * array and a condition variable wakes the thread.
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

#include "err.h"
#include "worker.h"

enum slot_state { SLOT_FREE, SLOT_QUEUED, SLOT_RUNNING, SLOT_DONE };

struct slot {
	enum slot_state st;
	uint64_t id;
	uint64_t order;   /* submission order: jobs run first come, first served */
	worker_fn fn;
	void *arg;
	bool result;
};

struct worker {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	uint64_t next_order;
	struct slot slots[WORKER_MAX_JOBS];
	worker_wake_fn wake;
	void *ctx;
};

/* The oldest queued slot, or NULL. Called with the mutex held. */
static struct slot *next_job(struct worker *w)
{
	struct slot *best = NULL;
	int i;

	for (i = 0; i < WORKER_MAX_JOBS; i++)
		if (w->slots[i].st == SLOT_QUEUED &&
		    (!best || w->slots[i].order < best->order))
			best = &w->slots[i];
	return best;
}

static void *run(void *arg)
{
	struct worker *w = arg;
	struct slot *s;
	bool r;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->stop && !(s = next_job(w)))
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->stop)
			break;
		s->st = SLOT_RUNNING;
		pthread_mutex_unlock(&w->mu);
		r = s->fn(s->arg);
		pthread_mutex_lock(&w->mu);
		s->result = r;
		s->st = SLOT_DONE;
		pthread_mutex_unlock(&w->mu);
		w->wake(w->ctx);
		pthread_mutex_lock(&w->mu);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

struct worker *worker_new(worker_wake_fn wake, void *ctx)
{
	struct worker *w = calloc(1, sizeof(*w));
	sigset_t all, old;
	int rc;

	if (!w)
		return NULL;
	w->wake = wake;
	w->ctx = ctx;
	if (pthread_mutex_init(&w->mu, NULL))
		goto out_free;
	if (pthread_cond_init(&w->cv, NULL))
		goto out_mutex;
	/* Signals (SIGTERM) stay with the event loop's thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&w->thread, NULL, run, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc)
		goto out_cond;
	return w;
out_cond:
	pthread_cond_destroy(&w->cv);
out_mutex:
	pthread_mutex_destroy(&w->mu);
out_free:
	free(w);
	return NULL;
}

void worker_free(struct worker *w, worker_drop_fn drop)
{
	int i;

	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	for (i = 0; i < WORKER_MAX_JOBS; i++)
		if (w->slots[i].st != SLOT_FREE && drop)
			drop(w->slots[i].arg);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

int worker_submit(struct worker *w, uint64_t id, worker_fn fn, void *arg)
{
	int i, rc = OP_ETOOBIG;

	pthread_mutex_lock(&w->mu);
	for (i = 0; i < WORKER_MAX_JOBS; i++) {
		struct slot *s = &w->slots[i];

		if (s->st != SLOT_FREE)
			continue;
		s->st = SLOT_QUEUED;
		s->id = id;
		s->order = w->next_order++;
		s->fn = fn;
		s->arg = arg;
		pthread_cond_signal(&w->cv);
		rc = OP_OK;
		break;
	}
	pthread_mutex_unlock(&w->mu);
	return rc;
}

bool worker_done(struct worker *w, uint64_t *id, void **arg, bool *result)
{
	bool found = false;
	int i;

	pthread_mutex_lock(&w->mu);
	for (i = 0; i < WORKER_MAX_JOBS && !found; i++) {
		struct slot *s = &w->slots[i];

		if (s->st != SLOT_DONE)
			continue;
		*id = s->id;
		*arg = s->arg;
		*result = s->result;
		s->st = SLOT_FREE;
		found = true;
	}
	pthread_mutex_unlock(&w->mu);
	return found;
}
