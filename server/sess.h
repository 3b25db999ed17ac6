/*
 * sess.h - one client connection's protocol state machine, fed complete
 * or fragmented WebSocket messages and producing reply frames; it knows
 * nothing of sockets, so tests drive it directly. States: waiting for
 * hello, then ready for any number of push and pull requests. Any
 * protocol error sends one "error" message and closes the connection;
 * nothing the bad message carried is written.
 */
#ifndef OP_SESS_H
#define OP_SESS_H

#include <stdbool.h>
#include <stddef.h>

#include "srv.h"

struct sess; /* opaque */

/*
 * New session on srv for peer (a printable address, copied). Frames are
 * allocated with `pre` spare bytes before the payload (LWS_PRE). Owned by
 * the caller: sess_free().
 */
struct sess *sess_new(struct srv *srv, const char *peer, size_t pre);
void sess_free(struct sess *s);

/*
 * Feeds received bytes; `final` marks the end of a message, which is then
 * handled. Returns false when the connection must close once the queued
 * frames are sent.
 */
bool sess_on_rx(struct sess *s, const void *buf, size_t len, bool final);
/* The frame to send next, or NULL: payload at *p (with `pre` bytes
 * writable before it), borrowed until sess_frame_sent(). */
unsigned char *sess_frame(struct sess *s, size_t *len);
void sess_frame_sent(struct sess *s);
/* True once the session wants to close and has nothing left to send. */
bool sess_closing(const struct sess *s);
/* Why it closed (an error message), or "". */
const char *sess_reason(const struct sess *s);
/* True once hello has been accepted. */
bool sess_ready(const struct sess *s);
/* True (with the job's id in *id) while a login waits for its password
 * check on the server's worker thread. */
bool sess_login_pending(const struct sess *s, uint64_t *id);
/*
 * Gives the session its finished login (the worker's job argument, which
 * it frees, and the check's result); queues the answer. Returns false:
 * the connection closes once it is sent.
 */
bool sess_login_done(struct sess *s, void *attempt, bool ok);
/* Refuses the connection: queues an error and moves to closing; returns
 * false. For transport-level faults the session cannot see (text frames). */
bool sess_fail(struct sess *s, int code, const char *msg);

#endif
