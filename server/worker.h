/*
 * worker.h - one background thread for slow, pure computations that must
 * not stall the event loop: password checks (PBKDF2 takes a fifth of a
 * second). A job is a function of one argument that touches no database
 * and no loop state; the loop submits it with an id, is woken by `wake`
 * (called on the worker thread: it must be thread-safe, like
 * lws_cancel_service) and takes finished jobs back with worker_done().
 * The queue is bounded: a full queue refuses new jobs, which also caps
 * how much password checking anyone can ask of the server.
 */
#ifndef OP_WORKER_H
#define OP_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#define WORKER_MAX_JOBS 32  /* jobs queued or finished and not yet taken */

struct worker; /* opaque */

typedef bool (*worker_fn)(void *arg);
typedef void (*worker_wake_fn)(void *ctx);
typedef void (*worker_drop_fn)(void *arg);

/* Starts the thread. Owned by the caller: worker_free(). NULL on failure. */
struct worker *worker_new(worker_wake_fn wake, void *ctx);
/*
 * Stops the thread (after the job in hand) and hands every job not taken
 * back to drop. Accepts NULL.
 */
void worker_free(struct worker *w, worker_drop_fn drop);
/* Queues fn(arg) under id; arg stays the caller's until worker_done()
 * gives it back. OP_OK, or OP_ETOOBIG when the queue is full. */
int worker_submit(struct worker *w, uint64_t id, worker_fn fn, void *arg);
/* Takes one finished job: true with *id, *arg and *result filled, or
 * false when none has finished. */
bool worker_done(struct worker *w, uint64_t *id, void **arg, bool *result);

#endif
