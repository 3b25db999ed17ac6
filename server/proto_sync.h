/*
 * proto_sync.h - the libwebsockets protocol "outpost-sync": one callback
 * that hands each connection's frames to its struct sess. The server
 * context's user pointer must be the struct srv.
 */
#ifndef OP_PROTO_SYNC_H
#define OP_PROTO_SYNC_H

#include <libwebsockets.h>

#define PROTO_SYNC_NAME "outpost-sync"

/* The server's protocol list, terminated, for lws_context_creation_info. */
extern const struct lws_protocols proto_sync_protocols[];

#endif
