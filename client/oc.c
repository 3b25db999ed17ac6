/*
 * oc.c - the client replica (see oc.h). Metadata keys: "replica" (this
 * replica's id), "server" and "ca" (where to sync), "ctr" (last dot
 * counter issued), "hlc" (clock), "cursor", "last_sync", "last_error";
 * after a login "token", "user", "role", "expires"; from the server
 * "scope" (sync.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hlc.h"
#include "oc.h"
#include "secret.h"
#include "wire.h"

/* What a replica forgets when another person logs in on the device. */
static const char *const reset_keys[] = {
	"ctr", "cursor", "cursor_schema", "last_sync", "last_error", "token",
	"user", "role", "expires", "scope", "rescope", "last_mark",
};

struct oc {
	struct db *db;
	char replica[RID_LEN + 1];
	char login_replica[RID_LEN + 1]; /* another person's login under way */
	struct hlc clock;
};

static int make_home(const char *home, char *err)
{
	if (mkdir(home, 0700) == 0 || errno == EEXIST)
		return OP_OK;
	return op_fail(err, OP_EIO, "cannot create %s: %s", home, strerror(errno));
}

static int load_identity(struct oc *c, bool create, char *err)
{
	int rc = db_meta_get_text(c->db, "replica", c->replica, sizeof(c->replica));

	if (rc == OP_ENOTFOUND && create) {
		if (rid_new(c->replica) || db_meta_set_text(c->db, "replica", c->replica))
			return op_fail(err, OP_EIO, "cannot store the replica id");
		rc = OP_OK;
	}
	if (rc)
		return op_fail(err, rc, "cannot read the replica id");
	rc = db_meta_get_u64(c->db, "hlc", &c->clock.last);
	return rc == OP_ENOTFOUND ? OP_OK : rc;
}

int oc_open(const char *home, bool create, struct oc **out, char err[OP_ERRLEN])
{
	char path[4096];
	struct stat sb;
	struct oc *c;
	int rc;

	*out = NULL;
	if ((size_t)snprintf(path, sizeof(path), "%s/replica.db", home) >= sizeof(path))
		return op_fail(err, OP_EINVAL, "the home directory path is too long");
	if (!create && stat(path, &sb) != 0)
		return op_fail(err, OP_ENOTFOUND,
			       "no Outpost replica in %s; run: outpost init --server wss://HOST:PORT", home);
	if (create && (rc = make_home(home, err)))
		return rc;
	if (!(c = calloc(1, sizeof(*c))))
		return op_fail(err, OP_ENOMEM, "out of memory");
	if ((rc = db_open(path, SCHEMA_CLIENT, &c->db, err)) ||
	    (rc = load_identity(c, create, err))) {
		oc_close(c);
		return rc;
	}
	*out = c;
	return OP_OK;
}

void oc_close(struct oc *c)
{
	if (!c)
		return;
	db_close(c->db);
	free(c);
}

struct db *oc_db(struct oc *c)
{
	return c->db;
}

const char *oc_replica(const struct oc *c)
{
	return c->replica;
}

int oc_set_server(struct oc *c, const char *url, const char *ca, char err[OP_ERRLEN])
{
	if (strlen(url) >= OC_URL_MAX || strlen(ca) >= OC_URL_MAX)
		return op_fail(err, OP_EINVAL, "the server URL or CA path is too long");
	if ((strncmp(url, "wss://", 6) || strlen(url) < 7) &&
	    (strncmp(url, "ws://", 5) || strlen(url) < 6))
		return op_fail(err, OP_EINVAL, "the server must be a wss:// URL, like wss://127.0.0.1:8443");
	if (db_meta_set_text(c->db, "server", url) || db_meta_set_text(c->db, "ca", ca))
		return op_fail(err, OP_EIO, "cannot store the server: %s", db_errmsg(c->db));
	return OP_OK;
}

int oc_status(struct oc *c, struct oc_status *st)
{
	const struct tbl_desc *t = tbl_find("conflict", 8);
	bool has_token;

	memset(st, 0, sizeof(*st));
	memcpy(st->replica, c->replica, sizeof(st->replica));
	db_meta_get_text(c->db, "server", st->server, sizeof(st->server));
	db_meta_get_text(c->db, "ca", st->ca, sizeof(st->ca));
	db_meta_get_u64(c->db, "cursor", &st->cursor);
	db_meta_get_u64(c->db, "last_sync", &st->last_sync_ms);
	db_meta_get_text(c->db, "last_error", st->last_error, sizeof(st->last_error));
	db_meta_get_text(c->db, "user", st->user, sizeof(st->user));
	db_meta_get_text(c->db, "role", st->role, sizeof(st->role));
	db_meta_get_u64(c->db, "expires", &st->token_expires_ms);
	has_token = oc_token(c, NULL) == OP_OK;
	st->token_expired = has_token && st->token_expires_ms &&
			    st->token_expires_ms <= hlc_wall_ms();
	st->logged_in = has_token && !st->token_expired;
	if (db_outbox_count(c->db, &st->pending) || db_rec_count(c->db, t, &st->conflicts) ||
	    db_rejected_count(c->db, &st->rejected))
		return OP_EIO;
	return OP_OK;
}

uint64_t oc_mark(struct oc *c)
{
	uint64_t mark = 0;

	db_meta_get_u64(c->db, "rescope", &mark);
	return mark;
}

int oc_forget_token(struct oc *c)
{
	return db_meta_del(c->db, "token");
}

int oc_token(struct oc *c, char token[WIRE_TOKEN_HEX + 1])
{
	char tok[WIRE_TOKEN_HEX + 1];
	int rc = db_meta_get_text(c->db, "token", tok, sizeof(tok));

	if (rc == OP_OK && strlen(tok) != WIRE_TOKEN_HEX)
		rc = OP_ENOTFOUND;
	if (rc == OP_OK && token)
		memcpy(token, tok, sizeof(tok));
	secret_wipe(tok, sizeof(tok));
	return rc;
}

int oc_prepare_login(struct oc *c, const char *user, char err[OP_ERRLEN])
{
	char was[WIRE_NAME_MAX + 1] = "";
	uint64_t pending = 0;

	c->login_replica[0] = '\0';
	db_meta_get_text(c->db, "user", was, sizeof(was));
	if (!was[0] || !strcmp(was, user))
		return OP_OK;
	if (db_outbox_count(c->db, &pending))
		return op_fail(err, OP_EIO, "cannot read the outbox: %s", db_errmsg(c->db));
	if (pending)
		return op_fail(err, OP_ESTATE, "%llu change(s) by %s wait in the outbox; log in as %s "
			       "and sync them first", (unsigned long long)pending, was, was);
	/* Another person on this device: the login is for a new replica id;
	 * the replica changes only once the server accepts it. */
	if (rid_new(c->login_replica))
		return op_fail(err, OP_EIO, "cannot make a replica id");
	return OP_OK;
}

const char *oc_login_replica(const struct oc *c)
{
	return c->login_replica[0] ? c->login_replica : c->replica;
}

/* A new replica for another person: none of the last user's records.
 * Refused (OP_ESTATE) if a change was written since the login began. */
static int reset_replica(struct oc *c)
{
	uint64_t pending = 0;
	int rc = db_outbox_count(c->db, &pending);

	if (!rc && pending)
		return OP_ESTATE;
	if (!rc)
		rc = db_rec_drop_all(c->db);

	if (!rc)
		rc = db_rejected_drop(c->db, 0, true, &(bool){ false });
	for (size_t i = 0; !rc && i < sizeof(reset_keys) / sizeof(reset_keys[0]); i++)
		rc = db_meta_del(c->db, reset_keys[i]);
	if (!rc)
		rc = db_meta_set_text(c->db, "replica", c->login_replica);
	return rc;
}

int oc_store_login(struct oc *c, const char *token, const char *user, const char *role,
		   uint64_t expires)
{
	int rc;

	if (db_begin(c->db))
		return OP_EIO;
	rc = c->login_replica[0] ? reset_replica(c) : OP_OK;
	if (!rc)
		rc = db_meta_set_text(c->db, "token", token);
	if (!rc)
		rc = db_meta_set_text(c->db, "user", user);
	if (!rc)
		rc = db_meta_set_text(c->db, "role", role);
	if (!rc)
		rc = db_meta_set_u64(c->db, "expires", expires);
	if (!rc)
		rc = db_commit(c->db);
	if (rc) {
		db_rollback(c->db);
		return rc;
	}
	if (c->login_replica[0])
		memcpy(c->replica, c->login_replica, sizeof(c->replica));
	c->login_replica[0] = '\0';
	return OP_OK;
}

int oc_next_dot(struct oc *c, struct rec_dot *d)
{
	uint64_t ctr = 0;
	int rc = db_meta_get_u64(c->db, "ctr", &ctr);

	if (rc && rc != OP_ENOTFOUND)
		return rc;
	memcpy(d->rep, c->replica, RID_LEN + 1);
	d->ctr = ctr + 1;
	d->hlc = hlc_now(&c->clock, hlc_wall_ms());
	if ((rc = db_meta_set_u64(c->db, "ctr", d->ctr)))
		return rc;
	return oc_save_clock(c);
}

void oc_observe(struct oc *c, uint64_t hlc)
{
	hlc_observe(&c->clock, hlc);
}

int oc_save_clock(struct oc *c)
{
	return db_meta_set_u64(c->db, "hlc", c->clock.last);
}

int oc_get(struct oc *c, const struct tbl_desc *t, const char *key,
	   struct rec **out, char err[OP_ERRLEN])
{
	char id[RID_LEN + 1];
	int rc;

	*out = NULL;
	if (strlen(key) < 4)
		return op_fail(err, OP_ENOTFOUND, "give at least 4 digits of the %s id, not \"%s\"",
			       t->name, key);
	rc = db_rec_resolve(c->db, t, key, id);
	if (rc == OP_EINVAL)
		return op_fail(err, rc, "%s id \"%s\" is ambiguous; give more digits", t->name, key);
	if (rc == OP_ENOTFOUND)
		return op_fail(err, rc, "no %s with id \"%s\"", t->name, key);
	if (rc)
		return op_fail(err, rc, "cannot read %ss: %s", t->name, db_errmsg(c->db));
	rc = db_rec_load(c->db, t, id, out);
	if (rc == OP_EPROTO)
		return op_fail(err, rc, "the stored %s %s cannot be decoded (damaged, or written by another version)",
			       t->name, id);
	if (rc)
		return op_fail(err, rc, "cannot read %s %s: %s", t->name, id, db_errmsg(c->db));
	return OP_OK;
}

/* References must name live records; a prefix is replaced by the full id. */
static int check_refs(struct oc *c, const struct tbl_desc *t, const int *idx,
		      struct val *vals, int nf, char *err)
{
	struct rec *ref;
	int i, rc;

	for (i = 0; i < nf; i++) {
		const struct fld_desc *f = &t->fields[idx[i]];

		if (f->type != FLD_REF || vals[i].t != VAL_TEXT)
			continue;
		if ((rc = oc_get(c, tbl_find(f->ref, strlen(f->ref)), vals[i].s, &ref, err)))
			return rc;
		rc = val_set_text(&vals[i], ref->id, RID_LEN);
		rec_free(ref);
		if (rc)
			return op_fail(err, OP_ENOMEM, "out of memory");
	}
	return OP_OK;
}

static int check_values(const struct tbl_desc *t, const int *idx, struct val *vals,
			int nf, bool create, char *err)
{
	bool given[TBL_MAX_FIELDS] = { false };
	int i, rc;

	for (i = 0; i < nf; i++) {
		if ((rc = tbl_check(&t->fields[idx[i]], &vals[i], err)))
			return rc;
		given[idx[i]] = true;
	}
	for (i = 0; create && i < t->nfields; i++)
		if (t->fields[i].required && !given[i])
			return op_fail(err, OP_EINVAL, "a new %s needs --%s", t->name, t->fields[i].name);
	if (nf == 0)
		return op_fail(err, OP_EINVAL, "nothing to change: give at least one --FIELD VALUE");
	return OP_OK;
}

/* Stores r and its change (fields idx, or a delete) in one transaction. */
/* Stores r and its change (fields idx, or a delete) in the open transaction. */
static int stage_change(struct oc *c, struct rec *r, const int *idx, int nf,
			const struct rec_dot *d, bool del, char *err)
{
	struct buf change = BUF_INIT;
	int rc;

	rc = wire_enc_change(&change, r, idx, nf, d, del);
	if (!rc)
		rc = db_rec_save(c->db, r, oc_mark(c));
	if (!rc)
		rc = db_outbox_add(c->db, d->ctr, r, change.p, change.len);
	buf_release(&change);
	if (rc)
		op_fail(err, OP_EIO, "cannot save the change: %s", db_errmsg(c->db));
	return rc;
}

/* Commits the open transaction after staged changes (rc from staging). */
static int commit_staged(struct oc *c, int rc, char *err)
{
	if (!rc && (rc = db_commit(c->db)))
		op_fail(err, OP_EIO, "cannot save the change: %s", db_errmsg(c->db));
	if (rc)
		db_rollback(c->db);
	return rc;
}

static int commit_change(struct oc *c, struct rec *r, const int *idx, int nf,
			 const struct rec_dot *d, bool del, char *err)
{
	return commit_staged(c, stage_change(c, r, idx, nf, d, del, err), err);
}

static int put_locked(struct oc *c, const struct tbl_desc *t, const char *id,
		      const int *idx, struct val *vals, int nf, char *new_id, char *err)
{
	struct rec *r = NULL;
	struct rec_dot d;
	int i, rc;

	if ((rc = check_refs(c, t, idx, vals, nf, err)) ||
	    (rc = check_values(t, idx, vals, nf, id == NULL, err)))
		return rc;
	if (id) {
		if ((rc = oc_get(c, t, id, &r, err)))
			return rc;
	} else if (rid_new(new_id) || !(r = rec_new(t, new_id))) {
		return op_fail(err, OP_ENOMEM, "cannot create a record id");
	}
	if ((rc = oc_next_dot(c, &d))) {
		op_fail(err, rc, "cannot write: %s", db_errmsg(c->db));
		goto out_free;
	}
	for (i = 0; i < nf && !rc; i++)
		rc = rec_set(r, idx[i], &vals[i], &d);
	if (!rc)
		rc = commit_change(c, r, idx, nf, &d, false, err);
	else
		op_fail(err, rc, "out of memory");
	if (!rc && id && new_id)
		memcpy(new_id, r->id, RID_LEN + 1);
out_free:
	rec_free(r);
	return rc;
}

/* Field indexes must be in range and distinct. */
static int check_idx(const struct tbl_desc *t, const int *idx, int nf, char *err)
{
	int i, k;

	if (nf < 0 || nf > t->nfields)
		return op_fail(err, OP_EINVAL, "too many fields");
	for (i = 0; i < nf; i++) {
		if (idx[i] < 0 || idx[i] >= t->nfields)
			return op_fail(err, OP_EINVAL, "field index %d is out of range", idx[i]);
		for (k = 0; k < i; k++)
			if (idx[k] == idx[i])
				return op_fail(err, OP_EINVAL, "%s is given twice", t->fields[idx[i]].name);
	}
	return OP_OK;
}

int oc_put(struct oc *c, const struct tbl_desc *t, const char *id,
	   const int *idx, const struct val *vals, int nf,
	   char new_id[RID_LEN + 1], char err[OP_ERRLEN])
{
	struct val copy[TBL_MAX_FIELDS];
	int i, rc;

	if (t->server_only)
		return op_fail(err, OP_EINVAL, "%s records are written by the server only", t->name);
	if ((rc = check_idx(t, idx, nf, err)))
		return rc;
	memset(copy, 0, sizeof(copy));
	for (i = 0; i < nf && !rc; i++)
		if (val_copy(&copy[i], &vals[i]))
			rc = op_fail(err, OP_ENOMEM, "out of memory");
	if (rc)
		goto out_release;
	if (db_begin(c->db)) {
		rc = op_fail(err, OP_EIO, "the replica is busy: %s", db_errmsg(c->db));
	} else {
		rc = put_locked(c, t, id, idx, copy, nf, new_id, err);
		db_rollback(c->db); /* no-op after a commit */
	}
out_release:
	for (i = 0; i < nf; i++)
		val_release(&copy[i]);
	return rc;
}

/* Deletes one loaded live record in the open transaction. */
static int stage_delete(struct oc *c, struct rec *r, char *err)
{
	struct rec_dot d;
	int rc;

	if ((rc = oc_next_dot(c, &d)))
		return op_fail(err, rc, "cannot write: %s", db_errmsg(c->db));
	if ((rc = rec_delete(r, &d)))
		return op_fail(err, rc, "out of memory");
	return stage_change(c, r, NULL, 0, &d, true, err);
}

/* Ids collected from a listing, to be changed after it ends. */
struct id_list {
	const struct tbl_desc *t;
	char (*id)[RID_LEN + 1];
	size_t n, cap;
};

static int collect_id(void *ctx, const struct rec *r)
{
	struct id_list *l = ctx;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		char (*p)[RID_LEN + 1] = realloc(l->id, cap * sizeof(*p));

		if (!p)
			return OP_ENOMEM;
		l->id = p;
		l->cap = cap;
	}
	memcpy(l->id[l->n++], r->id, RID_LEN + 1);
	return OP_OK;
}

/* Deletes every record of l (loaded afresh) in the open transaction. */
static int delete_ids(struct oc *c, const struct id_list *l, char *err)
{
	struct rec *r;
	size_t j;
	int rc = OP_OK;

	for (j = 0; j < l->n && !rc; j++) {
		if ((rc = db_rec_load(c->db, l->t, l->id[j], &r)))
			return op_fail(err, rc, "cannot read %s %s", l->t->name, l->id[j]);
		rc = stage_delete(c, r, err);
		rec_free(r);
	}
	return rc;
}

/* Deletes the live records that refer to r (a customer's contacts). */
static int delete_dependents(struct oc *c, const struct rec *r, size_t *n, char *err)
{
	int i, k, rc = OP_OK;

	*n = 0;
	for (i = 0; tbl_at(i) && !rc; i++) {
		struct id_list l = { tbl_at(i), NULL, 0, 0 };

		for (k = 0; k < l.t->nfields && !rc; k++) {
			if (l.t->fields[k].type != FLD_REF || strcmp(l.t->fields[k].ref, r->t->name))
				continue;
			l.n = 0;
			if ((rc = db_rec_list(c->db, l.t, k, r->id, collect_id, &l)))
				op_fail(err, rc, "cannot read the records of %s %s", r->t->name, r->id);
			else
				rc = delete_ids(c, &l, err);
			*n += l.n;
		}
		free(l.id);
	}
	return rc;
}

int oc_delete(struct oc *c, const struct tbl_desc *t, const char *id,
	      size_t *cascaded, char err[OP_ERRLEN])
{
	struct rec *r = NULL;
	size_t n = 0;
	int rc;

	if (t->server_only)
		return op_fail(err, OP_EINVAL, "%s records are written by the server only", t->name);
	if (db_begin(c->db))
		return op_fail(err, OP_EIO, "the replica is busy: %s", db_errmsg(c->db));
	rc = oc_get(c, t, id, &r, err);
	if (!rc)
		rc = delete_dependents(c, r, &n, err);
	if (!rc)
		rc = stage_delete(c, r, err);
	rc = commit_staged(c, rc, err);
	rec_free(r);
	if (cascaded)
		*cascaded = rc ? 0 : n;
	return rc;
}

/* The text of field name of r ("" when unset). */
static const char *text_of(const struct rec *r, const char *name)
{
	const struct val *v = &r->f[tbl_field(r->t, name, strlen(name))].v;

	return v->t == VAL_TEXT ? v->s : "";
}

int oc_reverse_conflict(struct oc *c, const char *key, char done[OP_ERRLEN],
			char err[OP_ERRLEN])
{
	const struct tbl_desc *t;
	struct rec *k = NULL;
	struct val v = VAL_INIT;
	int rc, idx;

	if ((rc = oc_get(c, tbl_find("conflict", 8), key, &k, err)))
		return rc;
	t = tbl_find(text_of(k, "tbl"), strlen(text_of(k, "tbl")));
	if (!t) {
		rc = op_fail(err, OP_EINVAL, "conflict %s is about an unknown table", k->id);
	} else if (!strcmp(text_of(k, "kind"), "delete")) {
		if (!(rc = oc_delete(c, t, text_of(k, "rec"), NULL, err)))
			snprintf(done, OP_ERRLEN, "%s %s deleted again", t->name, text_of(k, "rec"));
	} else if ((idx = tbl_field(t, text_of(k, "field"), strlen(text_of(k, "field")))) < 0) {
		rc = op_fail(err, OP_EINVAL, "conflict %s is about an unknown field", k->id);
	} else if (!(rc = tbl_parse(&t->fields[idx], text_of(k, "loser"), &v, err)) &&
		   !(rc = oc_put(c, t, text_of(k, "rec"), &idx, &v, 1, NULL, err))) {
		snprintf(done, OP_ERRLEN, "%s %s: %s set back to \"%.80s\"", t->name,
			 text_of(k, "rec"), t->fields[idx].name, text_of(k, "loser"));
	}
	val_release(&v);
	rec_free(k);
	return rc;
}

/* ---- retrying a refused change ----------------------------------------- */

struct find_rejected {
	uint64_t ctr;
	const char *origin;
	struct rec *change;
	int rc;
};

static int match_rejected(void *ctx, const struct db_rejected *r)
{
	struct find_rejected *f = ctx;
	struct wire_err e;

	if (r->ctr != f->ctr)
		return 0;
	f->rc = wire_decode_change(r->change, r->n, f->origin, &f->change, &e) ?
		OP_EPROTO : OP_OK;
	return 1;
}

/* Writes the values of refused change ch again, as a new local change. */
static int rewrite(struct oc *c, const struct rec *ch, char done[OP_ERRLEN],
		   char err[OP_ERRLEN])
{
	struct rec *cur = NULL;
	int idx[TBL_MAX_FIELDS], nf = 0, i, rc;
	struct val vals[TBL_MAX_FIELDS];
	char id[RID_LEN + 1];
	bool here = oc_get(c, ch->t, ch->id, &cur, err) == OP_OK;

	rec_free(cur);
	if (ch->tomb) {
		if (!here)
			return op_fail(err, OP_ENOTFOUND, "%s %s is no longer on this device",
				       ch->t->name, ch->id);
		if ((rc = oc_delete(c, ch->t, ch->id, NULL, err)))
			return rc;
		snprintf(done, OP_ERRLEN, "deleted %s %s again", ch->t->name, ch->id);
		return OP_OK;
	}
	for (i = 0; i < ch->t->nfields; i++)
		if (ch->f[i].set) {
			idx[nf] = i;
			vals[nf++] = ch->f[i].v; /* borrowed: oc_put copies */
		}
	if ((rc = oc_put(c, ch->t, here ? ch->id : NULL, idx, vals, nf, id, err)))
		return rc;
	snprintf(done, OP_ERRLEN, here ? "wrote the values to %s %s again" :
		 "%s %s is no longer here: wrote the values as a new %s %s",
		 ch->t->name, ch->id, ch->t->name, id);
	return OP_OK;
}

int oc_retry_rejected(struct oc *c, uint64_t ctr, char done[OP_ERRLEN],
		      char err[OP_ERRLEN])
{
	struct find_rejected f = { ctr, c->replica, NULL, OP_ENOTFOUND };
	bool found;
	int rc;

	if (db_rejected_each(c->db, match_rejected, &f) < 0)
		return op_fail(err, OP_EIO, "cannot read the replica: %s", db_errmsg(c->db));
	if (f.rc == OP_ENOTFOUND)
		return op_fail(err, OP_ENOTFOUND, "no refused change numbered %llu",
			       (unsigned long long)ctr);
	if (f.rc)
		return op_fail(err, f.rc, "refused change %llu cannot be read",
			       (unsigned long long)ctr);
	/* Written first, forgotten after: a crash between leaves it listed. */
	rc = rewrite(c, f.change, done, err);
	if (!rc && db_rejected_drop(c->db, ctr, false, &found))
		rc = op_fail(err, OP_EIO, "cannot update the replica: %s", db_errmsg(c->db));
	rec_free(f.change);
	return rc;
}
