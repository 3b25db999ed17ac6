/*
 * db.h - storage: the one module that talks to SQLite, for the server
 * database and the client replica alike. Records are stored whole (their
 * sync state, in the wire's encoding) with a JSON copy of their values for
 * the SQL views; the outbox and key/value metadata live beside them.
 * Every statement is prepared once per connection and bound by parameter.
 *
 * A struct db belongs to one thread (the event loop or the CLI).
 */
#ifndef OP_DB_H
#define OP_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "rec.h"
#include "schema.h"

struct db; /* opaque */

/*
 * Opens (creating if needed) the database at path, switches it to WAL
 * with full fsync on commit, and applies the forward migrations of kind.
 * *out is owned by the caller: db_close() it. Returns OP_OK, OP_EIO or
 * OP_EVERSION (the file is newer than this build) with err filled.
 */
int db_open(const char *path, enum schema_kind kind, struct db **out,
	    char err[OP_ERRLEN]);
/* Accepts NULL; finalizes statements and closes. */
void db_close(struct db *db);
/* The last SQLite error text (borrowed). */
const char *db_errmsg(struct db *db);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. Transactions do not nest. A failed
 * COMMIT rolls the transaction back. */
int db_begin(struct db *db);
int db_commit(struct db *db);
int db_rollback(struct db *db);

/* Metadata. A missing key gives OP_ENOTFOUND. */
int db_meta_get_u64(struct db *db, const char *key, uint64_t *v);
int db_meta_set_u64(struct db *db, const char *key, uint64_t v);
int db_meta_get_text(struct db *db, const char *key, char *buf, size_t cap);
int db_meta_set_text(struct db *db, const char *key, const char *v);
int db_meta_del(struct db *db, const char *key);

/* Loads a record; *out is owned by the caller. OP_ENOTFOUND if absent. */
int db_rec_load(struct db *db, const struct tbl_desc *t, const char *id,
		struct rec **out);
/* Stores r whole, with change-log position seq (0 on clients). */
int db_rec_save(struct db *db, const struct rec *r, uint64_t seq);
/* Highest seq in the change log (0 when empty). */
int db_max_seq(struct db *db, uint64_t *seq);
/* Drops a record from a replica outright (not a delete: it left the
 * user's scope, or the server refused its creation). */
int db_rec_drop(struct db *db, const char *tbl, const char *id);
/* The same, unless changes to the record wait in the outbox (a record that
 * left the user's scope: those changes will be refused and kept). */
int db_rec_evict(struct db *db, const char *tbl, const char *id);
int db_rec_drop_all(struct db *db);
/* Drops the records not stored with seq == mark and without changes in
 * the outbox (a replica whose scope changed, after pulling it afresh). */
int db_rec_sweep(struct db *db, uint64_t mark, uint64_t *dropped);

/* ---- server database only: scope and the eviction log ---- */

#define DB_OWNER_MAX 32
#define DB_TBL_MAX 31

/* Stores r with its scope: owner and parent (NULL for none). */
int db_rec_save_scoped(struct db *db, const struct rec *r, uint64_t seq,
		       const char *owner, const char *parent);
/* db_rec_load() and the stored owner ("" when none) in one read. */
int db_rec_load_owned(struct db *db, const struct tbl_desc *t, const char *id,
		      struct rec **out, char owner[DB_OWNER_MAX + 1]);
/* The stored owner of a record ("" when none). OP_ENOTFOUND if absent. */
int db_rec_owner(struct db *db, const char *tbl, const char *id,
		 char owner[DB_OWNER_MAX + 1]);
/* Moves a record to owner (NULL: none) at change-log position seq. */
int db_rec_rescope(struct db *db, const char *tbl, const char *id,
		   const char *owner, uint64_t seq);
typedef int (*db_ref_fn)(void *ctx, const char *tbl, const char *id);
/* Records whose parent is id (contacts of a customer, conflict records
 * of a record). */
int db_rec_children(struct db *db, const char *parent, db_ref_fn fn, void *ctx);
/* Notes that tbl/id left owner's scope at seq. */
int db_gone_add(struct db *db, uint64_t seq, const char *tbl, const char *id,
		const char *owner);
/* The change log's end: the highest seq of records and evictions. */
int db_log_end(struct db *db, uint64_t *seq);
/*
 * For a pull: the change log after cursor in seq order, at most limit
 * entries, as seen by a reader whose scope is owners (a JSON array of user
 * names; NULL: everything). An entry is a record state, or (blob NULL) a
 * record that left the scope.
 */
typedef int (*db_scoped_fn)(void *ctx, const void *blob, size_t n, uint64_t seq,
			    const char *tbl, const char *id);
int db_rec_since_scoped(struct db *db, uint64_t cursor, const char *owners,
			unsigned limit, db_scoped_fn fn, void *ctx);

/*
 * Callback for stored blobs (record states with their seq, outbox changes
 * with their counter): blob is borrowed for the call. A non-zero return
 * stops the scan and is returned by it.
 */
typedef int (*db_blob_fn)(void *ctx, const void *blob, size_t n, uint64_t pos);
/* States with seq > cursor in seq order, at most limit of them. */
int db_rec_since(struct db *db, uint64_t cursor, unsigned limit,
		 db_blob_fn fn, void *ctx);

/* Callback for records: r is borrowed for the call. */
typedef int (*db_rec_fn)(void *ctx, const struct rec *r);
/*
 * Live records of t ordered by their label field; with field >= 0, only
 * those whose field equals the text value.
 */
int db_rec_list(struct db *db, const struct tbl_desc *t, int field,
		const char *value, db_rec_fn fn, void *ctx);
/*
 * True in *found when a conflict record exists for record id, field (""
 * for a delete) and losing write (rep, ctr).
 */
int db_conflict_exists(struct db *db, const char *id, const char *field,
		       const char *rep, uint64_t ctr, bool *found);
/* Count of live records of t. */
int db_rec_count(struct db *db, const struct tbl_desc *t, uint64_t *n);
/*
 * Resolves an id or a unique prefix of one (at least 4 digits) among live
 * records of t into out. OP_ENOTFOUND, or OP_EINVAL when ambiguous.
 */
int db_rec_resolve(struct db *db, const struct tbl_desc *t, const char *prefix,
		   char out[RID_LEN + 1]);

/* Outbox of unacknowledged local changes, keyed by dot counter. */
int db_outbox_add(struct db *db, uint64_t ctr, const struct rec *r,
		  const void *change, size_t n);
/* Changes with counter > after in counter order, at most limit of them. */
int db_outbox_each(struct db *db, uint64_t after, unsigned limit,
		   db_blob_fn fn, void *ctx);
/* The change with counter ctr into change (reset first), with its record's
 * table and id. OP_ENOTFOUND if it is not in the outbox. */
int db_outbox_get(struct db *db, uint64_t ctr, struct buf *change,
		  char tbl[DB_TBL_MAX + 1], char id[RID_LEN + 1]);
/* Changes of one record with counter > after, in counter order. */
int db_outbox_of(struct db *db, const char *tbl, const char *id, uint64_t after,
		 db_blob_fn fn, void *ctx);
int db_outbox_drop(struct db *db, uint64_t ctr);

/* Changes the server refused, kept for the user (client replica). */
struct db_rejected {
	uint64_t ctr;
	const char *tbl, *id;
	const void *change;
	size_t n;
	uint64_t code;
	const char *reason;
	uint64_t at;          /* ms since the epoch */
};
int db_rejected_add(struct db *db, const struct db_rejected *r);
/* Fields of r are borrowed for the call. */
typedef int (*db_rejected_fn)(void *ctx, const struct db_rejected *r);
int db_rejected_each(struct db *db, db_rejected_fn fn, void *ctx);
/* Drops one (ctr) or all; *found says whether anything was dropped. */
int db_rejected_drop(struct db *db, uint64_t ctr, bool all, bool *found);
int db_rejected_count(struct db *db, uint64_t *n);

/* Drops every change with counter <= upto. */
int db_outbox_ack(struct db *db, uint64_t upto);
int db_outbox_count(struct db *db, uint64_t *n);

#endif
