/*
 * sync.h - one sync of a client replica with the server, as a state
 * machine over protocol messages: it knows nothing of sockets, so the
 * libwebsockets transport (conn.c) and in-process tests drive it alike.
 *
 *   hello -> welcome -> (push -> ack)* -> (pull -> batch)* -> done
 *
 * Pushes send the outbox in order; an ack removes what it covers, moving
 * refused changes to the rejected list and putting their records back as
 * the server has them. Pulls merge each batch, drop records that left the
 * user's scope, and advance the cursor in one transaction, so an
 * interrupted sync resumes where it stopped and never applies twice.
 */
#ifndef OP_SYNC_H
#define OP_SYNC_H

#include <stdint.h>

#include "buf.h"
#include "oc.h"

struct sync; /* opaque */

struct sync_stats {
	uint64_t pushed;     /* changes sent */
	uint64_t acked;      /* changes acknowledged */
	uint64_t dup;        /* of those, already on the server */
	uint64_t conflicts;  /* conflicts the server recorded for our pushes */
	uint64_t rejected;   /* changes the server refused (kept in the rejected list) */
	uint64_t pulled;     /* records received */
	uint64_t gone;       /* records dropped: no longer in the user's scope */
	uint64_t cursor;
	uint64_t pending;    /* outbox size at the start */
};

enum sync_rc { SYNC_CONTINUE = 0, SYNC_DONE = 1 };

/* New sync over client c (borrowed); free with sync_free(). */
struct sync *sync_new(struct oc *c);
void sync_free(struct sync *s);
/* Appends the first message (hello, with the device token) to out.
 * Fails with OP_EDENIED when the replica holds no token. */
int sync_start(struct sync *s, struct buf *out);
/* Instead of a sync: a login (login -> token) storing the device token. */
int sync_start_login(struct sync *s, const char *user, const char *password,
		     struct buf *out);
/* Instead of a sync: hello -> welcome -> logout -> bye, which revokes the
 * device token on the server and forgets it here. */
int sync_start_logout(struct sync *s, struct buf *out);
/*
 * Handles one complete message from the server, appending the reply (if
 * any) to out. Returns SYNC_CONTINUE, SYNC_DONE, or a negative error with
 * sync_error() saying why.
 */
int sync_on_message(struct sync *s, const void *msg, size_t len, struct buf *out);
const struct sync_stats *sync_stats(const struct sync *s);
const char *sync_error(const struct sync *s);
/* Records the outcome in the replica's status ("" for success). */
void sync_finish(struct sync *s, const char *error);

#endif
