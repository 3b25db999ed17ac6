/*
 * rec.h - the sync state of one record and the merge that resolves
 * concurrent edits.
 *
 * Every write carries a dot (replica, counter) and a hybrid-clock time.
 * The record's version vector holds every dot the replica has seen for
 * the record; a field's dot says which write set its value. Merging two
 * states field by field:
 *   - a write the other side has already seen is older: the other wins;
 *   - two writes neither side saw are concurrent: the larger (time,
 *     replica, counter) wins on every replica, and the loser is reported
 *     through the conflict callback so it can be kept;
 * A delete is a tombstone holding the version vector the deleter saw. A
 * record is alive if it has no tombstone or if some field was written by
 * a write the deleters had not seen (an edit concurrent with the delete
 * keeps the record; the callback reports each losing delete once, at the
 * merge where it starts to lose).
 *
 * A struct rec is a value owned by its creator: rec_new()/rec_free().
 */
#ifndef OP_REC_H
#define OP_REC_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "rid.h"
#include "tbl.h"
#include "val.h"
#include "vv.h"

struct rec_dot {
	char rep[VV_REPLEN + 1];
	uint64_t ctr;
	uint64_t hlc;
};

struct rec_field {
	bool set;          /* false: never written */
	struct val v;
	struct rec_dot dot;
};

struct rec {
	const struct tbl_desc *t;
	char id[RID_LEN + 1];
	struct vv *vv;           /* every write seen */
	struct vv *tomb;         /* union of the deleters' vectors, or NULL */
	struct rec_dot *dels;    /* every delete's dot, sorted by (replica, counter) */
	size_t ndels;
	struct rec_field f[TBL_MAX_FIELDS];
};

struct rec_conflict {
	const struct rec *r;            /* the merged record */
	int field;                      /* field index, or -1 for edit vs delete */
	const struct rec_field *winner; /* kept value (the surviving edit, for -1) */
	const struct rec_field *loser;  /* losing value; NULL for -1 */
	const struct rec_dot *del;      /* the losing delete, for -1 */
};

/* Return non-zero to abort the merge with that code. */
typedef int (*rec_conflict_fn)(void *ctx, const struct rec_conflict *c);

/* New empty record of table t with id (copied); NULL on allocation failure. */
struct rec *rec_new(const struct tbl_desc *t, const char *id);
/* A deep copy of src, owned by the caller (rec_free); NULL if out of memory. */
struct rec *rec_dup(const struct rec *src);
/* Accepts NULL. */
void rec_free(struct rec *r);

/* Local write of field i with dot d; copies v. OP_OK or OP_ENOMEM. */
int rec_set(struct rec *r, int i, const struct val *v, const struct rec_dot *d);
/* Local delete with dot d. OP_OK or OP_ENOMEM. */
int rec_delete(struct rec *r, const struct rec_dot *d);
/* Adds a delete dot to the tombstone's list (kept sorted, no repeats).
 * The caller maintains r->tomb. OP_OK or OP_ENOMEM. */
int rec_add_del(struct rec *r, const struct rec_dot *d);
bool rec_alive(const struct rec *r);

/*
 * Merges remote into local. cb (may be NULL) hears of each conflict that
 * this merge newly resolves. *changed (may be NULL) is set when local
 * changed. Returns OP_OK, OP_ENOMEM or the callback's code.
 */
int rec_merge(struct rec *local, const struct rec *remote,
	      rec_conflict_fn cb, void *ctx, bool *changed);

/* Orders dots by (hlc, replica, counter): <0, 0, >0. */
int rec_dot_cmp(const struct rec_dot *a, const struct rec_dot *b);

/*
 * Appends the record's current values as a JSON object. With with_all,
 * "id" and every field of the table appear (null when unset); without,
 * only the set fields.
 */
int rec_json(const struct rec *r, struct buf *b, bool with_all);

#endif
