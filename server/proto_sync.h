/*
 * proto_sync.h - the libwebsockets protocol "outpost-sync": one callback
 * that hands each connection's frames to its struct sess, and hands
 * finished password checks from the worker thread back to their
 * sessions. The server context's user pointer must be a struct
 * proto_sync_loop.
 */
#ifndef OP_PROTO_SYNC_H
#define OP_PROTO_SYNC_H

#include <libwebsockets.h>

#include "srv.h"
#include "worker.h"

#define PROTO_SYNC_NAME "outpost-sync"

struct pss;

/* What the event loop holds: set srv (and worker, or NULL); zero the rest. */
struct proto_sync_loop {
	struct srv *srv;
	struct worker *worker;   /* password checks; wakes the loop when done */
	struct pss *waiting;     /* connections whose login is being checked */
};

/* A worker_wake_fn: ctx is the lws context. */
void proto_sync_wake(void *ctx);

/* The server's protocol list, terminated, for lws_context_creation_info. */
extern const struct lws_protocols proto_sync_protocols[];

#endif
