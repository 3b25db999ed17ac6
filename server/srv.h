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

#include "access.h"
#include "buf.h"
#include "db.h"
#include "gate.h"
#include "worker.h"
#include "rec.h"
#include "wire.h"

struct srv; /* opaque */

/* Who sends a push: the user's rights, their device and address. */
struct srv_actor {
	const struct access *acc;
	const char *replica;
	const char *addr;
};

struct srv_push_result {
	uint64_t upto;      /* highest change counter handled */
	uint64_t applied;   /* changes that changed the database */
	uint64_t dup;       /* changes already applied (resent) */
	uint64_t conflicts; /* conflict records created */
	size_t nrejected;   /* changes refused ... */
	struct buf rejects; /* ... each encoded by wire_enc_reject() */
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
/* The change log's last sequence number, read afresh from the database. */
uint64_t srv_log_end(struct srv *s);

/* The login gate (borrowed). */
struct gate *srv_gate(struct srv *s);
/* The worker thread for password checks, or NULL (checks run at once):
 * set by the event loop's owner, borrowed. */
void srv_set_worker(struct srv *s, struct worker *w);
struct worker *srv_worker(struct srv *s);
/* A new id, unique within this struct srv (login jobs). */
uint64_t srv_next_id(struct srv *s);

/*
 * Applies changes[0..n) from who in one transaction. Each change is
 * checked on its own (invalid[i], when invalid is not NULL, carries a
 * validation failure found while decoding; then the clock, the version
 * vector, and who's rights): a refused change is reported in res and
 * audited, the others are applied and audited. Handling stops early when
 * the refusals fill half a frame; res->upto then covers what was handled.
 * On an error (the database failed) nothing is written and *e says why.
 * res->rejects is owned by the caller: srv_push_release().
 */
int srv_push(struct srv *s, const struct srv_actor *who, struct rec *const *changes,
	     const struct wire_err *invalid, size_t n, struct srv_push_result *res,
	     struct wire_err *e);
void srv_push_release(struct srv_push_result *res);
/*
 * Begins a write transaction and re-reads the change log's end (another
 * process, such as `outpostd demo`, may have written). OP_OK or OP_EIO.
 */
int srv_begin(struct srv *s);
/*
 * Appends a complete "batch" message to out with the records in acc's
 * read scope changed after cursor, and those that left the scope (at most
 * limit entries, and at most about half a frame of bytes).
 */
int srv_pull(struct srv *s, const struct access *acc, uint64_t cursor,
	     unsigned limit, struct buf *out);
/*
 * Writes fields of a record as the server itself (demo data, imports):
 * r holds the new values in fields whose `set` is true; they receive the
 * server's dots. Runs inside the caller's transaction if one is open.
 * Moving a customer to another owner moves what hangs off it too.
 */
int srv_write(struct srv *s, struct rec *r);

#endif
