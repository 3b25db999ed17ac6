/*
 * rawcl.h - a raw WebSocket client for tests that play a hostile or
 * broken client against a real outpostd over TLS on 127.0.0.1. It sends
 * whatever bytes it is given (one message, optionally in fragments, or
 * left unfinished), collects the server's replies and its close frame,
 * and decodes replies with the lenient wire decoder, as a client would.
 *
 * It runs on its own libwebsockets context, serviced only inside the
 * calls below (no thread); every wait gives up after RCL_TIMEOUT_S.
 * Failures to connect or decode are Criterion assertions, so it is for
 * Criterion tests only.
 */
#ifndef OP_RAWCL_H
#define OP_RAWCL_H

#include <stdbool.h>
#include <stddef.h>

#include <libwebsockets.h>
#include <msgpack.h>

#include "buf.h"
#include "wire.h"

#define RCL_TIMEOUT_S 10   /* longest wait for any network event */
#define RCL_MAX_MSGS 16    /* replies kept per connection */
#define RCL_AGENT "outpost-tests/rawcl"

struct rcl_tx; /* a queued frame (private) */

struct rcl {
	struct lws_context *ctx;
	struct lws *wsi;              /* NULL once closed */
	int port;
	lws_sorted_usec_list_t tick;
	struct rcl_tx *txh, *txt;     /* frames not yet written */
	struct buf rx;                /* reply being reassembled */
	struct buf msgs[RCL_MAX_MSGS];/* complete replies */
	int nmsgs;
	int nread;                    /* replies taken by rcl_reply() */
	bool owns_ctx;                /* the lws context (and tick) are ours */
	bool established, conn_error, closed, peer_closed;
	int close_code;               /* from the server's close frame */
	char close_reason[128];
};

/*
 * Connects to 127.0.0.1:port, trusting the certificate file ca, on a new
 * context of its own; waits for the WebSocket handshake. Release with
 * rcl_close().
 */
void rcl_open(struct rcl *c, int port, const char *ca);
/*
 * A further connection on owner's context and port (two TLS client
 * contexts in one process leak OpenSSL state in lws 4.1). Close it
 * before the owner.
 */
void rcl_open_beside(struct rcl *c, const struct rcl *owner);
/* Drops the connection (and the context if it owns one) and frees
 * what c holds. */
void rcl_close(struct rcl *c);

/* Queues one frame with lws_write flags (LWS_WRITE_BINARY, ...). */
void rcl_queue(struct rcl *c, const void *p, size_t len, int flags);
/*
 * Queues p as one binary message, in fragments of frag bytes when
 * frag > 0. With fin false only the first fragment is queued and the
 * message is left unfinished: rcl_queue_rest() queues the others.
 * Returns the bytes queued.
 */
size_t rcl_queue_msg(struct rcl *c, const unsigned char *p, size_t len,
		     size_t frag, bool fin);
void rcl_queue_rest(struct rcl *c, const unsigned char *p, size_t len,
		    size_t off, size_t frag);
/* Queues the bytes of b as one binary message. */
void rcl_send(struct rcl *c, const struct buf *b);

/* Conditions for rcl_run(); arg is a count where one is needed. */
typedef bool (*rcl_done_fn)(const struct rcl *c, int arg);
bool rcl_gone(const struct rcl *c);                  /* closed or failed */
bool rcl_until_sent(const struct rcl *c, int arg);   /* all frames written */
bool rcl_until_msgs(const struct rcl *c, int n);     /* n replies in all */
bool rcl_until_closed(const struct rcl *c, int arg);
/* Services the connection until done(c, arg) or RCL_TIMEOUT_S passes;
 * returns done(c, arg). A connection that ends satisfies every
 * condition, so check what actually happened. */
bool rcl_run(struct rcl *c, rcl_done_fn done, int arg);

/* Decodes reply i into *m (OUT: release with wire_msg_release()). */
void rcl_msg(const struct rcl *c, int i, struct wire_msg *m);
/* Waits for the next reply not yet taken, and decodes it into *m. */
void rcl_reply(struct rcl *c, struct wire_msg *m);
/* Sends b and waits for its reply (decoded into *m, to release). */
void rcl_request(struct rcl *c, const struct buf *b, struct wire_msg *m);

/*
 * Sends a hello from replica with token (NULL: auth nil) and expects a
 * welcome; copies it into *welcome when that is not NULL (OUT: release
 * it).
 */
void rcl_hello(struct rcl *c, const char *replica, const char *token,
	       struct wire_msg *welcome);
/*
 * Expects the server to end the session: the next reply is the only one
 * left and is an error with code (0: any code), whose message contains
 * fragment (when not NULL); then a close frame with status 1008 whose
 * reason is the error's message (or its start). Returns the error's code.
 */
int rcl_expect_error(struct rcl *c, int code, const char *fragment);

/* For crafting messages by hand: a msgpack-c packer appending to b, and a
 * C string packed as a msgpack string. */
void rcl_packer(msgpack_packer *pk, struct buf *b);
void rcl_pack_str(msgpack_packer *pk, const char *s);

#endif
