/*
 * oc.h - the embeddable Outpost client: a local SQLite replica, the outbox
 * of local changes not yet acknowledged, and the sync (sync.h, conn.h).
 * Every local write is one transaction that updates the record and adds
 * its change to the outbox, so nothing typed is lost to a crash.
 *
 * A struct oc belongs to one thread.
 */
#ifndef OP_OC_H
#define OP_OC_H

#include <stdbool.h>
#include <stdint.h>

#include "db.h"
#include "rec.h"
#include "wire.h"

#define OC_URL_MAX 512

struct oc; /* opaque */

struct oc_status {
	char replica[RID_LEN + 1];
	char server[OC_URL_MAX];
	char ca[OC_URL_MAX];
	uint64_t pending;       /* changes in the outbox */
	uint64_t cursor;        /* server change-log position pulled up to */
	uint64_t last_sync_ms;  /* 0: never completed */
	uint64_t conflicts;     /* conflict records held */
	uint64_t rejected;      /* changes the server refused, kept */
	char last_error[OP_ERRLEN];
	bool logged_in;         /* a device token is held, not expired */
	bool token_expired;     /* the token held has expired */
	char user[WIRE_NAME_MAX + 1], role[WIRE_NAME_MAX + 1];
	uint64_t token_expires_ms;
};

/*
 * Opens the replica in directory home. With create, makes the directory
 * and a new replica if needed; without, fails with OP_ENOTFOUND when home
 * holds no replica. *out is owned by the caller: oc_close().
 */
int oc_open(const char *home, bool create, struct oc **out, char err[OP_ERRLEN]);
void oc_close(struct oc *c);
/* Borrowed. */
struct db *oc_db(struct oc *c);
const char *oc_replica(const struct oc *c);

/* Sets the server URL (wss://HOST:PORT) and CA file ("" for the system's). */
int oc_set_server(struct oc *c, const char *url, const char *ca, char err[OP_ERRLEN]);
int oc_status(struct oc *c, struct oc_status *st);

/*
 * Writes fields idx[0..nf) = vals[0..nf) of a record of t: a new one when
 * id is NULL (its id is written to new_id), else the live record id.
 * Values are checked against the table; references must name live records.
 */
int oc_put(struct oc *c, const struct tbl_desc *t, const char *id,
	   const int *idx, const struct val *vals, int nf,
	   char new_id[RID_LEN + 1], char err[OP_ERRLEN]);
/*
 * Deletes the live record id of t together with the live records that
 * refer to it (a customer's contacts), all in one transaction; *cascaded
 * (may be NULL) receives how many of those there were.
 */
int oc_delete(struct oc *c, const struct tbl_desc *t, const char *id,
	      size_t *cascaded, char err[OP_ERRLEN]);
/*
 * Reverses the conflict record key (id or prefix): for a field conflict,
 * writes the losing value back as a new edit; for an edit-vs-delete
 * conflict, deletes the record again. The conflict record itself stays as
 * history. A sentence saying what was done goes to done[OP_ERRLEN].
 */
int oc_reverse_conflict(struct oc *c, const char *key, char done[OP_ERRLEN],
			char err[OP_ERRLEN]);
/*
 * Loads the live record of t whose id is, or starts with, key (at least 4
 * hex digits). *out is owned by the caller (rec_free).
 */
int oc_get(struct oc *c, const struct tbl_desc *t, const char *key,
	   struct rec **out, char err[OP_ERRLEN]);

/*
 * Writes refused change ctr (from the rejected list) again as a new local
 * change, to be sent at the next sync (after a right was granted, for
 * instance), and takes it off the list. A refused edit of a record no
 * longer on the device is written as a new record; a refused delete needs
 * the record. A sentence saying what was done goes to done.
 */
int oc_retry_rejected(struct oc *c, uint64_t ctr, char done[OP_ERRLEN],
		      char err[OP_ERRLEN]);

/* The device token (hex) into token (may be NULL to test for one):
 * OP_OK, or OP_ENOTFOUND when not logged in. */
int oc_token(struct oc *c, char token[WIRE_TOKEN_HEX + 1]);
/* Forgets the device token (after a logout). OP_OK or OP_EIO. */
int oc_forget_token(struct oc *c);
/*
 * Readies the replica for user's login. When another user was logged in,
 * the login is for a new replica id (oc_login_replica), and the replica
 * starts afresh only when it succeeds (oc_store_login); refused while
 * that user's changes wait in the outbox.
 */
int oc_prepare_login(struct oc *c, const char *user, char err[OP_ERRLEN]);
/* The replica id a login is for (borrowed). */
const char *oc_login_replica(const struct oc *c);
/*
 * Stores the device token of a successful login, in one transaction with
 * starting afresh when it was another person's. OP_OK, OP_ESTATE (a
 * change was written meanwhile: nothing is stored) or OP_EIO.
 */
int oc_store_login(struct oc *c, const char *token, const char *user, const char *role,
		   uint64_t expires);

/*
 * The mark local saves give a record: 0, or during a re-pull after a
 * scope change the re-pull's mark, so that its final sweep (which drops
 * what the re-pull did not bring) keeps records written meanwhile.
 */
uint64_t oc_mark(struct oc *c);

/* Sync bookkeeping used by sync.c. */
int oc_next_dot(struct oc *c, struct rec_dot *d);
void oc_observe(struct oc *c, uint64_t hlc);
int oc_save_clock(struct oc *c);

#endif
