/*
 * srv.h - the server's sync core, independent of the network: applies
 * pushed changes to the authoritative database with the conflict rules,
 * records conflicts, and serves pulls from the change log. One struct srv
 * per database, owned by the event loop (or a test).
 */
#ifndef OP_SRV_H
#define OP_SRV_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "db.h"
#include "rec.h"
#include "wire.h"

struct srv; /* opaque */

struct srv_push_result {
	uint64_t upto;      /* highest change counter in the push */
	uint64_t applied;   /* changes that changed the database */
	uint64_t dup;       /* changes already applied (resent) */
	uint64_t conflicts; /* conflict records created */
};

/*
 * Opens the database at path (creating and migrating it) and loads or
 * creates the server's replica id. *out is owned by the caller:
 * srv_close() it. Returns OP_OK or an error with err filled.
 */
int srv_open(const char *path, struct srv **out, char err[OP_ERRLEN]);
/* Accepts NULL. */
void srv_close(struct srv *s);
/* Borrowed. */
struct db *srv_db(struct srv *s);
const char *srv_replica(const struct srv *s);
/* The change log's last sequence number. */
uint64_t srv_log_end(const struct srv *s);

/*
 * Applies changes[0..n) from replica origin in one transaction: all or
 * nothing. On a refused change, nothing is written and *e says why.
 */
int srv_push(struct srv *s, const char *origin, struct rec *const *changes,
	     size_t n, struct srv_push_result *res, struct wire_err *e);
/*
 * Begins a write transaction and re-reads the change log's end (another
 * process, such as `outpostd demo`, may have written). OP_OK or OP_EIO.
 */
int srv_begin(struct srv *s);
/*
 * Appends a complete "batch" message to out with the records changed
 * after cursor (at most limit, and at most about half a frame of bytes).
 */
int srv_pull(struct srv *s, uint64_t cursor, unsigned limit, struct buf *out);
/*
 * Writes fields of a record as the server itself (demo data, imports):
 * r holds the new values in fields whose `set` is true; they receive the
 * server's dots. Runs inside the caller's transaction if one is open.
 */
int srv_write(struct srv *s, struct rec *r);

#endif
