/*
 * users.c - the server database's users, roles and rights, devices and
 * audit log (see users.h). Part of the storage layer beside common/db.c:
 * its statements live in the connection's extension slots (db_int.h),
 * each prepared once from the table below and bound by parameter. The
 * schema is schema/server/002_auth.sql. Foreign keys are not enforced by
 * SQLite here, so the names a row refers to are checked before writing.
 *
 * Listing callbacks run while their statement is stepping: they may call
 * other users_* functions, but not the same listing.
 */
#include <stdio.h>
#include <string.h>

#include "db_int.h"
#include "hlc.h"
#include "users.h"
#include "wire.h"

enum ustmt {
	U_ADD, U_GET, U_EACH, U_SET_PW, U_SET_DISABLED, U_SET_ROLE, U_SET_SUP,
	U_SUP_OF, U_TEAM, U_ROLE_EXISTS, U_RIGHT_EXISTS, U_ROLE_RIGHTS, U_GRANT,
	U_WITHDRAW, U_ROLES_EACH, U_RIGHTS_EACH, U_DEV_GET, U_DEV_BY_TOKEN,
	U_DEV_LOGIN, U_DEV_REVOKE, U_DEV_REVOKE_USER, U_DEV_SEEN, U_DEV_EACH, U_AUDIT_ADD,
	U_AUDIT_EACH, U_COUNT
};

#define USER_COLS "name, full_name, role, coalesce(supervisor, ''), disabled, " \
		  "created, pw"
#define DEV_COLS "replica, user, agent, created, expires, last_seen, revoked, " \
		 "last_addr"

static const char *const usql[U_COUNT] = {
	[U_ADD] = "INSERT INTO users(name, full_name, role, supervisor, pw, disabled, "
		  "created) VALUES (?1, ?2, ?3, nullif(?4, ''), ?5, ?6, ?7)",
	[U_GET] = "SELECT " USER_COLS " FROM users WHERE name = ?1",
	[U_EACH] = "SELECT " USER_COLS " FROM users ORDER BY name",
	[U_SET_PW] = "UPDATE users SET pw = ?2 WHERE name = ?1",
	[U_SET_DISABLED] = "UPDATE users SET disabled = ?2 WHERE name = ?1",
	[U_SET_ROLE] = "UPDATE users SET role = ?2 WHERE name = ?1",
	[U_SET_SUP] = "UPDATE users SET supervisor = nullif(?2, '') WHERE name = ?1",
	[U_SUP_OF] = "SELECT coalesce(supervisor, '') FROM users WHERE name = ?1",
	[U_TEAM] = "SELECT name FROM users WHERE supervisor = ?1 ORDER BY name",
	[U_ROLE_EXISTS] = "SELECT 1 FROM roles WHERE name = ?1",
	[U_RIGHT_EXISTS] = "SELECT 1 FROM rights WHERE name = ?1",
	[U_ROLE_RIGHTS] = "SELECT name FROM role_rights WHERE role = ?1 ORDER BY name",
	[U_GRANT] = "INSERT OR IGNORE INTO role_rights(role, name) VALUES (?1, ?2)",
	[U_WITHDRAW] = "DELETE FROM role_rights WHERE role = ?1 AND name = ?2",
	[U_ROLES_EACH] = "SELECT name, title FROM roles ORDER BY name",
	[U_RIGHTS_EACH] = "SELECT name, help FROM rights ORDER BY name",
	[U_DEV_GET] = "SELECT " DEV_COLS " FROM devices WHERE replica = ?1",
	[U_DEV_BY_TOKEN] = "SELECT " DEV_COLS " FROM devices "
			   "WHERE token = ?1 AND revoked = 0",
	[U_DEV_LOGIN] = "INSERT INTO devices(replica, user, token, agent, created, "
			"expires, revoked) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0) "
			"ON CONFLICT(replica) DO UPDATE SET user = excluded.user, "
			"token = excluded.token, agent = excluded.agent, "
			"created = excluded.created, expires = excluded.expires, "
			"revoked = 0",
	[U_DEV_REVOKE] = "UPDATE devices SET token = NULL, revoked = 1 WHERE replica = ?1",
	[U_DEV_REVOKE_USER] = "UPDATE devices SET token = NULL, revoked = 1 "
			      "WHERE user = ?1 AND revoked = 0",
	[U_DEV_SEEN] = "UPDATE devices SET last_seen = ?2, last_addr = ?3 "
		       "WHERE replica = ?1",
	[U_DEV_EACH] = "SELECT " DEV_COLS " FROM devices WHERE (?1 IS NULL OR user = ?1) "
		       "ORDER BY created DESC, replica",
	[U_AUDIT_ADD] = "INSERT INTO audit(at, user, device, addr, action, tbl, rec, "
			"detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[U_AUDIT_EACH] = "SELECT seq, at, user, device, addr, action, tbl, rec, detail "
			 "FROM audit WHERE (?1 IS NULL OR user = ?1) "
			 "AND (?2 IS NULL OR rec = ?2) ORDER BY seq DESC LIMIT ?3",
};

/* Longest supervisor chain followed when looking for a cycle. */
#define CHAIN_MAX 1000

static sqlite3_stmt *ust(struct db *db, enum ustmt id)
{
	return db_ext_stmt(db, (int)id, usql[id]);
}

/* ---- helpers ----------------------------------------------------------- */

/* Binds v, or NULL when v is NULL. */
static int bind_opt(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		return db_bind_text(s, i, v);
	return sqlite3_bind_null(s, i) == SQLITE_OK ? 0 : -1;
}

static int bind_blob(sqlite3_stmt *s, int i, const void *p, size_t n)
{
	return sqlite3_bind_blob(s, i, p, (int)n, SQLITE_STATIC) == SQLITE_OK ? 0 : -1;
}

/* Copies text column i into out[cap], cut at a character boundary. */
static void col_text(sqlite3_stmt *s, int i, char *out, size_t cap)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	size_t n = (size_t)sqlite3_column_bytes(s, i);

	if (!t)
		n = 0;
	if (n >= cap) {
		n = cap - 1;
		while (n > 0 && (t[n] & 0xc0) == 0x80)
			n--;
	}
	if (n)
		memcpy(out, t, n);
	out[n] = '\0';
}

static uint64_t col_u64(sqlite3_stmt *s, int i)
{
	return (uint64_t)sqlite3_column_int64(s, i);
}

/* Runs an UPDATE or DELETE; OP_ENOTFOUND when it touched no row. */
static int step_changed(sqlite3_stmt *s)
{
	int rc = db_step_done(s);

	if (!rc && sqlite3_changes(sqlite3_db_handle(s)) == 0)
		rc = OP_ENOTFOUND;
	return rc;
}

/* Steps s once: OP_OK with a row in hand (the caller finishes with
 * db_done), otherwise the statement is reset and OP_ENOTFOUND/OP_EIO. */
static int step_row(sqlite3_stmt *s)
{
	switch (sqlite3_step(s)) {
	case SQLITE_ROW:
		return OP_OK;
	case SQLITE_DONE:
		return db_done(s, OP_ENOTFOUND);
	default:
		return db_done(s, OP_EIO);
	}
}

/* True in *found when the one-parameter query of id has a row. */
static int exists(struct db *db, enum ustmt id, const char *key, bool *found)
{
	sqlite3_stmt *s = ust(db, id);
	int rc;

	*found = false;
	if (!s || db_bind_text(s, 1, key))
		return s ? db_done(s, OP_EIO) : OP_EIO;
	rc = step_row(s);
	if (rc == OP_ENOTFOUND)
		return OP_OK;
	if (rc)
		return rc;
	*found = true;
	return db_done(s, OP_OK);
}

/* A listing's callback, whichever its type, and its context. */
struct each {
	union {
		users_fn user;
		users_name_fn name;
		users_pair_fn pair;
		users_device_fn device;
		users_audit_fn audit;
	} fn;
	void *ctx;
};

typedef int (*row_fn)(sqlite3_stmt *s, const struct each *e);

/* Steps bound statement s to the end, handing each row to row; stops at
 * the first non-zero return, which is returned. */
static int each_row(sqlite3_stmt *s, row_fn row, const struct each *e)
{
	int rc = OP_OK, st = SQLITE_DONE;

	while (!rc && (st = sqlite3_step(s)) == SQLITE_ROW)
		rc = row(s, e);
	if (!rc && st != SQLITE_DONE)
		rc = OP_EIO;
	return db_done(s, rc);
}

static int row_name(sqlite3_stmt *s, const struct each *e)
{
	return e->fn.name(e->ctx, (const char *)sqlite3_column_text(s, 0));
}

static int row_pair(sqlite3_stmt *s, const struct each *e)
{
	return e->fn.pair(e->ctx, (const char *)sqlite3_column_text(s, 0),
			  (const char *)sqlite3_column_text(s, 1));
}

/* ---- names ------------------------------------------------------------- */

bool users_name_valid(const char *s)
{
	return s && wire_name_valid(s, strlen(s));
}

/* ---- users ------------------------------------------------------------- */

static void read_user(sqlite3_stmt *s, struct user *u)
{
	memset(u, 0, sizeof(*u));
	col_text(s, 0, u->name, sizeof(u->name));
	col_text(s, 1, u->full_name, sizeof(u->full_name));
	col_text(s, 2, u->role, sizeof(u->role));
	col_text(s, 3, u->supervisor, sizeof(u->supervisor));
	u->disabled = sqlite3_column_int(s, 4) != 0;
	u->created = col_u64(s, 5);
	col_text(s, 6, u->pw, sizeof(u->pw));
}

static int user_exists(struct db *db, const char *name, bool *found)
{
	sqlite3_stmt *s = ust(db, U_SUP_OF);
	int rc;

	*found = false;
	if (!s || db_bind_text(s, 1, name))
		return s ? db_done(s, OP_EIO) : OP_EIO;
	if ((rc = step_row(s)))
		return rc == OP_ENOTFOUND ? OP_OK : rc;
	*found = true;
	return db_done(s, OP_OK);
}

typedef int (*exists_fn)(struct db *db, const char *name, bool *found);

/* OP_OK when name exists (by fn), OP_EINVAL when not, or fn's failure. */
static int must_exist(struct db *db, exists_fn fn, const char *name)
{
	bool found;
	int rc = fn(db, name, &found);

	return rc ? rc : found ? OP_OK : OP_EINVAL;
}

/* OP_OK when role (and supervisor, unless "") exist, else OP_EINVAL. */
static int check_refs(struct db *db, const char *role, const char *sup)
{
	int rc = must_exist(db, users_role_exists, role);

	return rc || !sup[0] ? rc : must_exist(db, user_exists, sup);
}

static int insert_user(sqlite3_stmt *s, const struct user *u)
{
	int st;

	if (db_bind_text(s, 1, u->name) || db_bind_text(s, 2, u->full_name) ||
	    db_bind_text(s, 3, u->role) || db_bind_text(s, 4, u->supervisor) ||
	    db_bind_text(s, 5, u->pw) || db_bind_u64(s, 6, u->disabled) ||
	    db_bind_u64(s, 7, u->created ? u->created : hlc_wall_ms()))
		return db_done(s, OP_EIO);
	st = sqlite3_step(s);
	if (st == SQLITE_DONE)
		return db_done(s, OP_OK);
	return db_done(s, (st & 0xff) == SQLITE_CONSTRAINT ? OP_EEXIST : OP_EIO);
}

int users_add(struct db *db, const struct user *u)
{
	sqlite3_stmt *s;
	int rc;

	if (!users_name_valid(u->name))
		return OP_EINVAL;
	if ((rc = check_refs(db, u->role, u->supervisor)))
		return rc;
	if (!(s = ust(db, U_ADD)))
		return OP_EIO;
	return insert_user(s, u);
}

int users_get(struct db *db, const char *name, struct user *u)
{
	sqlite3_stmt *s = ust(db, U_GET);
	int rc;

	if (!s || db_bind_text(s, 1, name))
		return s ? db_done(s, OP_EIO) : OP_EIO;
	if ((rc = step_row(s)))
		return rc;
	read_user(s, u);
	return db_done(s, OP_OK);
}

static int row_user(sqlite3_stmt *s, const struct each *e)
{
	struct user u;
	int rc;

	read_user(s, &u);
	rc = e->fn.user(e->ctx, &u);
	memset(u.pw, 0, sizeof(u.pw));
	return rc;
}

int users_each(struct db *db, users_fn fn, void *ctx)
{
	sqlite3_stmt *s = ust(db, U_EACH);
	struct each e = { .fn.user = fn, .ctx = ctx };

	return s ? each_row(s, row_user, &e) : OP_EIO;
}

/* Runs the two-text-parameter update id on (a, b). */
static int update2(struct db *db, enum ustmt id, const char *a, const char *b)
{
	sqlite3_stmt *s = ust(db, id);

	if (!s || db_bind_text(s, 1, a) || db_bind_text(s, 2, b))
		return s ? db_done(s, OP_EIO) : OP_EIO;
	return step_changed(s);
}

int users_set_pw(struct db *db, const char *name, const char *pw_hash)
{
	return update2(db, U_SET_PW, name, pw_hash);
}

int users_set_disabled(struct db *db, const char *name, bool disabled)
{
	sqlite3_stmt *s = ust(db, U_SET_DISABLED);

	if (!s || db_bind_text(s, 1, name) || db_bind_u64(s, 2, disabled))
		return s ? db_done(s, OP_EIO) : OP_EIO;
	return step_changed(s);
}

int users_set_role(struct db *db, const char *name, const char *role)
{
	bool found;
	int rc;

	if ((rc = users_role_exists(db, role, &found)))
		return rc;
	if (!found)
		return OP_EINVAL;
	return update2(db, U_SET_ROLE, name, role);
}

/* The supervisor of name into out ("" for none). */
static int supervisor_of(struct db *db, const char *name, char out[USERS_NAME_MAX + 1])
{
	sqlite3_stmt *s = ust(db, U_SUP_OF);
	int rc;

	if (!s || db_bind_text(s, 1, name))
		return s ? db_done(s, OP_EIO) : OP_EIO;
	if ((rc = step_row(s)))
		return rc;
	col_text(s, 0, out, USERS_NAME_MAX + 1);
	return db_done(s, OP_OK);
}

/* OP_EINVAL when making sup the supervisor of name would close a loop:
 * name is sup, or is above sup in the chain (or the chain is too long). */
static int check_chain(struct db *db, const char *name, const char *sup)
{
	char cur[USERS_NAME_MAX + 1], up[USERS_NAME_MAX + 1];
	int i, rc;

	snprintf(cur, sizeof(cur), "%s", sup);
	for (i = 0; i < CHAIN_MAX; i++) {
		if (!strcmp(cur, name))
			return OP_EINVAL;
		if ((rc = supervisor_of(db, cur, up)))
			return rc == OP_ENOTFOUND ? OP_EINVAL : rc;
		if (!up[0])
			return OP_OK;
		memcpy(cur, up, sizeof(cur));
	}
	return OP_EINVAL;
}

int users_set_supervisor(struct db *db, const char *name, const char *supervisor)
{
	char have[USERS_NAME_MAX + 1];
	int rc;

	if ((rc = supervisor_of(db, name, have)))
		return rc;
	if (supervisor[0] && !users_name_valid(supervisor))
		return OP_EINVAL;
	if (supervisor[0] && (rc = check_chain(db, name, supervisor)))
		return rc;
	return update2(db, U_SET_SUP, name, supervisor);
}

/* The names statement id lists for key, one by one to fn. */
static int names_of(struct db *db, enum ustmt id, const char *key, users_name_fn fn,
		    void *ctx)
{
	sqlite3_stmt *s = ust(db, id);
	struct each e = { .fn.name = fn, .ctx = ctx };

	if (!s || db_bind_text(s, 1, key))
		return s ? db_done(s, OP_EIO) : OP_EIO;
	return each_row(s, row_name, &e);
}

int users_team(struct db *db, const char *sup, users_name_fn fn, void *ctx)
{
	return names_of(db, U_TEAM, sup, fn, ctx);
}

/* ---- roles and rights -------------------------------------------------- */

int users_role_exists(struct db *db, const char *role, bool *found)
{
	return exists(db, U_ROLE_EXISTS, role, found);
}

int users_right_exists(struct db *db, const char *right, bool *found)
{
	return exists(db, U_RIGHT_EXISTS, right, found);
}

int users_role_rights(struct db *db, const char *role, users_name_fn fn, void *ctx)
{
	return names_of(db, U_ROLE_RIGHTS, role, fn, ctx);
}

/* OP_OK when both role and right exist, else OP_EINVAL. */
static int check_pair(struct db *db, const char *role, const char *right)
{
	int rc = must_exist(db, users_role_exists, role);

	return rc ? rc : must_exist(db, users_right_exists, right);
}

/* Runs grant or withdraw (id) of right for role; no row touched is fine. */
static int role_change(struct db *db, enum ustmt id, const char *role,
		       const char *right)
{
	sqlite3_stmt *s;
	int rc;

	if ((rc = check_pair(db, role, right)))
		return rc;
	s = ust(db, id);
	if (!s || db_bind_text(s, 1, role) || db_bind_text(s, 2, right))
		return s ? db_done(s, OP_EIO) : OP_EIO;
	return db_step_done(s);
}

int users_grant(struct db *db, const char *role, const char *right)
{
	return role_change(db, U_GRANT, role, right);
}

int users_withdraw(struct db *db, const char *role, const char *right)
{
	return role_change(db, U_WITHDRAW, role, right);
}

static int pairs(struct db *db, enum ustmt id, users_pair_fn fn, void *ctx)
{
	sqlite3_stmt *s = ust(db, id);
	struct each e = { .fn.pair = fn, .ctx = ctx };

	return s ? each_row(s, row_pair, &e) : OP_EIO;
}

int users_roles_each(struct db *db, users_pair_fn fn, void *ctx)
{
	return pairs(db, U_ROLES_EACH, fn, ctx);
}

int users_rights_each(struct db *db, users_pair_fn fn, void *ctx)
{
	return pairs(db, U_RIGHTS_EACH, fn, ctx);
}

/* ---- devices ----------------------------------------------------------- */

static void read_device(sqlite3_stmt *s, struct device *d)
{
	memset(d, 0, sizeof(*d));
	col_text(s, 0, d->replica, sizeof(d->replica));
	col_text(s, 1, d->user, sizeof(d->user));
	col_text(s, 2, d->agent, sizeof(d->agent));
	d->created = col_u64(s, 3);
	d->expires = col_u64(s, 4);
	d->last_seen = col_u64(s, 5);
	d->revoked = sqlite3_column_int(s, 6) != 0;
	col_text(s, 7, d->last_addr, sizeof(d->last_addr));
}

/* Steps bound statement s for one device. */
static int one_device(sqlite3_stmt *s, struct device *d)
{
	int rc = step_row(s);

	if (rc)
		return rc;
	read_device(s, d);
	return db_done(s, OP_OK);
}

int users_device_get(struct db *db, const char *replica, struct device *d)
{
	sqlite3_stmt *s = ust(db, U_DEV_GET);

	if (!s || db_bind_text(s, 1, replica))
		return s ? db_done(s, OP_EIO) : OP_EIO;
	return one_device(s, d);
}

int users_device_by_token(struct db *db, const unsigned char h[AUTH_TOKEN_HASH],
			  struct device *d)
{
	sqlite3_stmt *s = ust(db, U_DEV_BY_TOKEN);

	if (!s || bind_blob(s, 1, h, AUTH_TOKEN_HASH))
		return s ? db_done(s, OP_EIO) : OP_EIO;
	return one_device(s, d);
}

int users_device_login(struct db *db, const struct device *d,
		       const unsigned char h[AUTH_TOKEN_HASH])
{
	sqlite3_stmt *s = ust(db, U_DEV_LOGIN);

	if (!s || db_bind_text(s, 1, d->replica) || db_bind_text(s, 2, d->user) ||
	    bind_blob(s, 3, h, AUTH_TOKEN_HASH) || db_bind_text(s, 4, d->agent) ||
	    db_bind_u64(s, 5, d->created) || db_bind_u64(s, 6, d->expires))
		return s ? db_done(s, OP_EIO) : OP_EIO;
	return db_step_done(s);
}

int users_device_revoke_user(struct db *db, const char *user, unsigned *n)
{
	sqlite3_stmt *s = ust(db, U_DEV_REVOKE_USER);
	int rc;

	*n = 0;
	if (!s || db_bind_text(s, 1, user))
		return s ? db_done(s, OP_EIO) : OP_EIO;
	rc = db_step_done(s);
	if (!rc)
		*n = (unsigned)sqlite3_changes(sqlite3_db_handle(s));
	return rc;
}

int users_device_revoke(struct db *db, const char *replica)
{
	sqlite3_stmt *s = ust(db, U_DEV_REVOKE);

	if (!s || db_bind_text(s, 1, replica))
		return s ? db_done(s, OP_EIO) : OP_EIO;
	return step_changed(s);
}

int users_device_seen(struct db *db, const char *replica, uint64_t at,
		      const char *addr)
{
	sqlite3_stmt *s = ust(db, U_DEV_SEEN);

	if (!s || db_bind_text(s, 1, replica) || db_bind_u64(s, 2, at) ||
	    db_bind_text(s, 3, addr))
		return s ? db_done(s, OP_EIO) : OP_EIO;
	return step_changed(s);
}

static int row_device(sqlite3_stmt *s, const struct each *e)
{
	struct device d;

	read_device(s, &d);
	return e->fn.device(e->ctx, &d);
}

int users_device_each(struct db *db, const char *user, users_device_fn fn, void *ctx)
{
	sqlite3_stmt *s = ust(db, U_DEV_EACH);
	struct each e = { .fn.device = fn, .ctx = ctx };

	if (!s || bind_opt(s, 1, user))
		return s ? db_done(s, OP_EIO) : OP_EIO;
	return each_row(s, row_device, &e);
}

/* ---- audit ------------------------------------------------------------- */

int users_audit_add(struct db *db, const struct audit *a)
{
	sqlite3_stmt *s = ust(db, U_AUDIT_ADD);

	if (!s || db_bind_u64(s, 1, a->at ? a->at : hlc_wall_ms()) ||
	    db_bind_text(s, 2, a->user) || db_bind_text(s, 3, a->device) ||
	    db_bind_text(s, 4, a->addr) || db_bind_text(s, 5, a->action) ||
	    db_bind_text(s, 6, a->tbl) || db_bind_text(s, 7, a->rec) ||
	    db_bind_text(s, 8, a->detail))
		return s ? db_done(s, OP_EIO) : OP_EIO;
	return db_step_done(s);
}

static int row_audit(sqlite3_stmt *s, const struct each *e)
{
	struct audit a;

	memset(&a, 0, sizeof(a));
	a.seq = col_u64(s, 0);
	a.at = col_u64(s, 1);
	col_text(s, 2, a.user, sizeof(a.user));
	col_text(s, 3, a.device, sizeof(a.device));
	col_text(s, 4, a.addr, sizeof(a.addr));
	col_text(s, 5, a.action, sizeof(a.action));
	col_text(s, 6, a.tbl, sizeof(a.tbl));
	col_text(s, 7, a.rec, sizeof(a.rec));
	col_text(s, 8, a.detail, sizeof(a.detail));
	return e->fn.audit(e->ctx, &a);
}

int users_audit_each(struct db *db, const char *user, const char *rec,
		     unsigned limit, users_audit_fn fn, void *ctx)
{
	sqlite3_stmt *s = ust(db, U_AUDIT_EACH);
	struct each e = { .fn.audit = fn, .ctx = ctx };

	if (!s || bind_opt(s, 1, user) || bind_opt(s, 2, rec) ||
	    db_bind_u64(s, 3, limit))
		return s ? db_done(s, OP_EIO) : OP_EIO;
	return each_row(s, row_audit, &e);
}
