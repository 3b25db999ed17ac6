/*
 * gate.c - logins, token checks and logouts (see gate.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "gate.h"
#include "hlc.h"
#include "log.h"
#include "secret.h"

struct gate {
	struct auth_limit *by_user, *by_addr;
	uint64_t ttl_ms;
};

struct gate *gate_new(void)
{
	struct gate *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->ttl_ms = GATE_TOKEN_TTL_MS;
	g->by_user = auth_limit_new(GATE_USER_FAILS, GATE_FAIL_WINDOW_MS);
	g->by_addr = auth_limit_new(GATE_ADDR_FAILS, GATE_FAIL_WINDOW_MS);
	if (!g->by_user || !g->by_addr) {
		gate_free(g);
		return NULL;
	}
	return g;
}

void gate_free(struct gate *g)
{
	if (!g)
		return;
	auth_limit_free(g->by_user);
	auth_limit_free(g->by_addr);
	free(g);
}

void gate_set_token_ttl(struct gate *g, uint64_t ms)
{
	g->ttl_ms = ms;
}

static int refuse(struct wire_err *e, int code, const char *msg)
{
	e->code = code;
	snprintf(e->msg, sizeof(e->msg), "%s", msg);
	return code == WERR_SERVER ? OP_EIO : OP_EDENIED;
}

int gate_audit(struct db *db, const char *user, const char *replica,
	       const char *addr, const char *action, const char *tbl,
	       const char *rec, const char *detail)
{
	struct audit a;

	memset(&a, 0, sizeof(a));
	a.at = hlc_wall_ms();
	snprintf(a.user, sizeof(a.user), "%s", user ? user : "");
	snprintf(a.device, sizeof(a.device), "%s", replica ? replica : "");
	snprintf(a.addr, sizeof(a.addr), "%s", addr ? addr : "");
	snprintf(a.action, sizeof(a.action), "%s", action);
	snprintf(a.tbl, sizeof(a.tbl), "%s", tbl ? tbl : "");
	snprintf(a.rec, sizeof(a.rec), "%s", rec ? rec : "");
	snprintf(a.detail, sizeof(a.detail), "%s", detail ? detail : "");
	return users_audit_add(db, &a);
}

/* Refuses while the user or the address is over its failure limit. */
static int check_limits(struct gate *g, struct db *db, const struct gate_login *l,
			uint64_t now, struct wire_err *e)
{
	uint64_t wu = auth_limit_wait(g->by_user, l->user, now);
	uint64_t wa = auth_limit_wait(g->by_addr, l->addr, now);
	uint64_t w = wu > wa ? wu : wa;
	char msg[OP_ERRLEN];

	if (!w)
		return OP_OK;
	snprintf(msg, sizeof(msg), "too many failed logins; try again in %llu minute(s)",
		 (unsigned long long)(w + 59999) / 60000);
	gate_audit(db, l->user, l->replica, l->addr, "login-refused", "", "",
		   wu ? "too many failed logins for the user" :
			"too many failed logins from the address");
	return refuse(e, WERR_AUTH, msg);
}

/* A stored hash that matches no password, as costly to check as a real
 * one: an unknown user takes as long as a wrong password. */
#define NO_USER_HASH "pbkdf2-sha256$600000$00000000000000000000000000000000$" \
	"0000000000000000000000000000000000000000000000000000000000000000"

bool gate_attempt_check(void *attempt)
{
	const struct gate_attempt *a = attempt;
	bool ok = auth_pw_check(a->password, strlen(a->password), a->stored);

	return ok && a->known;
}

void gate_attempt_free(void *attempt)
{
	if (attempt)
		secret_wipe(attempt, sizeof(struct gate_attempt));
	free(attempt);
}

/* A wrong password (already counted against user and address when the
 * attempt began) is audited and refused. */
static int wrong_password(struct db *db, const struct gate_attempt *a, struct wire_err *e)
{
	gate_audit(db, a->user, a->replica, a->addr, "login-failed", "", "",
		   "wrong user name or password");
	return refuse(e, WERR_AUTH, "wrong user name or password");
}

/* Registers the device and issues its token, inside one transaction. */
static int issue(struct gate *g, struct db *db, const struct gate_login *l,
		 const struct user *u, uint64_t now, struct gate_token *t,
		 struct wire_err *e)
{
	unsigned char tok[AUTH_TOKEN_LEN], dig[AUTH_TOKEN_HASH];
	struct device d;
	int rc;

	if (db_begin(db))
		return refuse(e, WERR_SERVER, "the database is busy");
	rc = users_device_get(db, l->replica, &d);
	if (!rc && strcmp(d.user, u->name)) {
		db_rollback(db);
		gate_audit(db, l->user, l->replica, l->addr, "login-failed", "device",
			   l->replica, "device registered to another user");
		return refuse(e, WERR_AUTH, "this device is registered to another user; "
			      "start a new replica (outpost init) to log in as someone else");
	}
	memset(&d, 0, sizeof(d));
	snprintf(d.replica, sizeof(d.replica), "%s", l->replica);
	snprintf(d.user, sizeof(d.user), "%s", u->name);
	snprintf(d.agent, sizeof(d.agent), "%s", l->agent);
	d.created = now;
	d.expires = now + g->ttl_ms;
	if (auth_token_new(tok)) {
		db_rollback(db);
		return refuse(e, WERR_SERVER, "the server cannot make a token");
	}
	auth_token_digest(tok, sizeof(tok), dig);
	if ((rc = users_device_login(db, &d, dig)) ||
	    (rc = gate_audit(db, u->name, l->replica, l->addr, "login", "device",
			     l->replica, l->agent)) ||
	    (rc = db_commit(db))) {
		db_rollback(db);
		return refuse(e, WERR_SERVER, "the server cannot register the device");
	}
	auth_hex(tok, sizeof(tok), t->token);
	snprintf(t->role, sizeof(t->role), "%s", u->role);
	t->expires = d.expires;
	return OP_OK;
}

int gate_login_begin(struct gate *g, struct db *db, const struct gate_login *l,
		     struct gate_attempt *a, struct wire_err *e)
{
	struct user u;
	int rc;

	memset(a, 0, sizeof(*a));
	a->now = hlc_wall_ms();
	if ((rc = check_limits(g, db, l, a->now, e)))
		return rc;
	if (l->server && !strcmp(l->replica, l->server)) {
		gate_audit(db, l->user, l->replica, l->addr, "login-failed", "device",
			   l->replica, "the server's own replica id");
		return refuse(e, WERR_AUTH, "this replica id is the server's; a device needs its own");
	}
	rc = users_get(db, l->user, &u);
	if (rc && rc != OP_ENOTFOUND)
		return refuse(e, WERR_SERVER, "the server cannot read its users");
	a->known = rc == OP_OK;
	/* Counted as a failure now, taken back if it succeeds: attempts in
	 * flight at once count against the limits too. */
	auth_limit_fail(g->by_user, l->user, a->now);
	auth_limit_fail(g->by_addr, l->addr, a->now);
	snprintf(a->stored, sizeof(a->stored), "%s", a->known ? u.pw : NO_USER_HASH);
	secret_wipe(u.pw, sizeof(u.pw));
	snprintf(a->user, sizeof(a->user), "%s", l->user);
	snprintf(a->replica, sizeof(a->replica), "%s", l->replica);
	snprintf(a->agent, sizeof(a->agent), "%s", l->agent);
	snprintf(a->addr, sizeof(a->addr), "%s", l->addr);
	snprintf(a->password, sizeof(a->password), "%s", l->password);
	return OP_OK;
}

int gate_login_finish(struct gate *g, struct db *db, struct gate_attempt *a, bool ok,
		      struct gate_token *t, struct wire_err *e)
{
	struct gate_login l = { a->user, "", a->replica, a->agent, a->addr, NULL };
	struct user u;
	int rc;

	secret_wipe(a->password, sizeof(a->password));
	if (!ok)
		return wrong_password(db, a, e);
	/* Read again: the account may have changed during the check (a new
	 * password, or another account of that name). */
	rc = users_get(db, a->user, &u);
	if (rc == OP_ENOTFOUND || (!rc && strcmp(u.pw, a->stored))) {
		secret_wipe(u.pw, sizeof(u.pw));
		return wrong_password(db, a, e);
	}
	secret_wipe(u.pw, sizeof(u.pw));
	if (rc)
		return refuse(e, WERR_SERVER, "the server cannot read its users");
	/* The right password: not a failure after all. */
	auth_limit_forgive(g->by_user, a->user);
	auth_limit_forgive(g->by_addr, a->addr);
	if (u.disabled) {
		gate_audit(db, a->user, a->replica, a->addr, "login-failed", "", "",
			   "account disabled");
		return refuse(e, WERR_AUTH, "this account is disabled; ask an administrator");
	}
	auth_limit_clear(g->by_user, a->user);
	rc = issue(g, db, &l, &u, a->now, t, e);
	if (!rc)
		log_info("login: %s on device %s from %s", u.name, a->replica, a->addr);
	return rc;
}

void gate_login_abandon(struct gate *g, struct db *db, struct gate_attempt *a, bool ok)
{
	secret_wipe(a->password, sizeof(a->password));
	if (ok) {
		auth_limit_forgive(g->by_user, a->user);
		auth_limit_forgive(g->by_addr, a->addr);
	}
	gate_audit(db, a->user, a->replica, a->addr, "login-failed", "", "",
		   ok ? "abandoned by the client" : "wrong user name or password (abandoned)");
}

int gate_login(struct gate *g, struct db *db, const struct gate_login *l,
	       struct gate_token *t, struct wire_err *e)
{
	struct gate_attempt a;
	int rc = gate_login_begin(g, db, l, &a, e);

	if (!rc)
		rc = gate_login_finish(g, db, &a, gate_attempt_check(&a), t, e);
	secret_wipe(&a, sizeof(a));
	return rc;
}

int gate_check(struct db *db, const char *token, const char *replica,
	       char user[USERS_NAME_MAX + 1], struct wire_err *e)
{
	unsigned char tok[AUTH_TOKEN_LEN], dig[AUTH_TOKEN_HASH];
	struct device d;
	int rc;

	if (!token[0])
		return refuse(e, WERR_AUTH, "not logged in: run outpost login --user NAME");
	if (strlen(token) != 2 * AUTH_TOKEN_LEN || !auth_unhex(token, tok, sizeof(tok)))
		return refuse(e, WERR_AUTH, "the token is malformed; log in again");
	auth_token_digest(tok, sizeof(tok), dig);
	rc = users_device_by_token(db, dig, &d);
	if (rc == OP_ENOTFOUND)
		return refuse(e, WERR_AUTH, "the token is unknown or was revoked; log in again");
	if (rc)
		return refuse(e, WERR_SERVER, "the server cannot read its devices");
	if (strcmp(d.replica, replica))
		return refuse(e, WERR_AUTH, "the token belongs to another device");
	if (d.revoked)
		return refuse(e, WERR_AUTH, "this device was revoked; log in again");
	if (d.expires <= hlc_wall_ms())
		return refuse(e, WERR_AUTH, "the token has expired; log in again");
	snprintf(user, USERS_NAME_MAX + 1, "%s", d.user);
	return OP_OK;
}

int gate_logout(struct db *db, const char *user, const char *replica,
		const char *addr)
{
	int rc;

	if (db_begin(db))
		return OP_EIO;
	if ((rc = users_device_revoke(db, replica)) ||
	    (rc = gate_audit(db, user, replica, addr, "logout", "device", replica, "")) ||
	    (rc = db_commit(db)))
		db_rollback(db);
	return rc;
}
