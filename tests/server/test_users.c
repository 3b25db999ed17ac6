/*
 * test_users.c - server/users.c on a real server database in a private
 * temporary directory: user names; adding users with clear errors for a
 * taken name, an unknown role or supervisor; the setters on unknown
 * users; supervisor chains that would loop are refused; teams; granting
 * and withdrawing rights; devices registered by login, found by token
 * digest, seen, revoked (the digest is dropped) and listed newest first;
 * the audit log newest first with its filters and limit.
 *
 * The check that a revoked token's digest is gone from the file uses
 * SQLite directly, beside the module under test.
 */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "users.h"

#define REP_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define REP_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define REP_C "cccccccccccccccccccccccccccccccc"
#define REC_1 "11111111111111111111111111111111"
#define REC_2 "22222222222222222222222222222222"

static char dir[256];
static char path[320];
static struct db *db;

static void setup(void)
{
	char err[OP_ERRLEN] = "";

	cr_assert_eq(h_tmpdir(dir), 0);
	snprintf(path, sizeof(path), "%s/server.db", dir);
	cr_assert_eq(db_open(path, SCHEMA_SERVER, &db, err), OP_OK, "%s", err);
}

static void teardown(void)
{
	db_close(db);
	h_rmtree(dir);
}

TestSuite(users, .init = setup, .fini = teardown);

/* ---- helpers ------------------------------------------------------------ */

static struct user mk(const char *name, const char *role, const char *sup)
{
	struct user u;

	memset(&u, 0, sizeof(u));
	snprintf(u.name, sizeof(u.name), "%s", name);
	snprintf(u.role, sizeof(u.role), "%s", role);
	snprintf(u.supervisor, sizeof(u.supervisor), "%s", sup);
	snprintf(u.full_name, sizeof(u.full_name), "Full %s", name);
	snprintf(u.pw, sizeof(u.pw), "pbkdf2-sha256$1000$x$y");
	u.created = 1700000000000ull;
	return u;
}

static void add(const char *name, const char *role, const char *sup)
{
	struct user u = mk(name, role, sup);

	cr_assert_eq(users_add(db, &u), OP_OK, "add %s", name);
}

/* Collected names, joined by spaces. */
struct names {
	char s[512];
	int stop_after; /* return 1 after this many; 0: never */
	int n;
};

static int collect(void *ctx, const char *name)
{
	struct names *c = ctx;
	size_t len = strlen(c->s);

	snprintf(c->s + len, sizeof(c->s) - len, "%s%s", len ? " " : "", name);
	c->n++;
	return c->stop_after && c->n >= c->stop_after ? 1 : 0;
}

static int collect_user(void *ctx, const struct user *u)
{
	return collect(ctx, u->name);
}

static const char *team(const char *sup)
{
	static struct names c;

	memset(&c, 0, sizeof(c));
	cr_assert_eq(users_team(db, sup, collect, &c), OP_OK);
	return c.s;
}

static const char *rights(const char *role)
{
	static struct names c;

	memset(&c, 0, sizeof(c));
	cr_assert_eq(users_role_rights(db, role, collect, &c), OP_OK);
	return c.s;
}

/* ---- names -------------------------------------------------------------- */

Test(users, name_valid)
{
	static const char *const good[] = { "ann", "a", "0", "ann.b", "ann_b", "ann-b",
					    "9lives", "abcdefghijklmnopqrstuvwxyz012345" };
	static const char *const bad[] = { "", "Ann", "ann!", ".ann", "-ann", "_ann",
					   "ann b", "anné", "abcdefghijklmnopqrstuvwxyz0123456",
					   "ann\n" };
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		cr_assert(users_name_valid(good[i]), "%s", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_not(users_name_valid(bad[i]), "%s", bad[i]);
	cr_assert_not(users_name_valid(NULL));
}

/* ---- users -------------------------------------------------------------- */

Test(users, add_and_get)
{
	struct user u;

	add("sue", "supervisor", "");
	add("ann", "manager", "sue");
	cr_assert_eq(users_get(db, "ann", &u), OP_OK);
	cr_assert_str_eq(u.name, "ann");
	cr_assert_str_eq(u.full_name, "Full ann");
	cr_assert_str_eq(u.role, "manager");
	cr_assert_str_eq(u.supervisor, "sue");
	cr_assert_str_eq(u.pw, "pbkdf2-sha256$1000$x$y");
	cr_assert_not(u.disabled);
	cr_assert_eq(u.created, 1700000000000ull);
	cr_assert_eq(users_get(db, "sue", &u), OP_OK);
	cr_assert_str_eq(u.supervisor, "");
	cr_assert_eq(users_get(db, "nobody", &u), OP_ENOTFOUND);
}

Test(users, add_errors)
{
	struct user u;

	add("ann", "manager", "");
	u = mk("ann", "executive", "");
	cr_assert_eq(users_add(db, &u), OP_EEXIST);
	u = mk("bob", "king", "");
	cr_assert_eq(users_add(db, &u), OP_EINVAL);
	u = mk("bob", "manager", "nobody");
	cr_assert_eq(users_add(db, &u), OP_EINVAL);
	u = mk("bob", "manager", "bob");
	cr_assert_eq(users_add(db, &u), OP_EINVAL);
	u = mk("Bob!", "manager", "");
	cr_assert_eq(users_add(db, &u), OP_EINVAL);
	cr_assert_eq(users_get(db, "bob", &u), OP_ENOTFOUND);
	cr_assert_eq(users_get(db, "ann", &u), OP_OK);
	cr_assert_str_eq(u.role, "manager", "the taken name kept its user");
}

Test(users, add_created_defaults_to_now)
{
	struct user u = mk("ann", "manager", "");

	u.created = 0;
	cr_assert_eq(users_add(db, &u), OP_OK);
	cr_assert_eq(users_get(db, "ann", &u), OP_OK);
	cr_assert_gt(u.created, 1700000000000ull);
}

Test(users, each_in_name_order)
{
	struct names c;

	add("carl", "manager", "");
	add("ann", "manager", "");
	add("bob", "executive", "");
	memset(&c, 0, sizeof(c));
	cr_assert_eq(users_each(db, collect_user, &c), OP_OK);
	cr_assert_str_eq(c.s, "ann bob carl");
	memset(&c, 0, sizeof(c));
	c.stop_after = 2;
	cr_assert_eq(users_each(db, collect_user, &c), 1, "the callback's value");
	cr_assert_str_eq(c.s, "ann bob");
	/* the statement was reset: it runs again */
	memset(&c, 0, sizeof(c));
	cr_assert_eq(users_each(db, collect_user, &c), OP_OK);
	cr_assert_eq(c.n, 3);
}

Test(users, setters)
{
	struct user u;

	add("ann", "manager", "");
	cr_assert_eq(users_set_pw(db, "ann", "pbkdf2-sha256$2000$a$b"), OP_OK);
	cr_assert_eq(users_set_disabled(db, "ann", true), OP_OK);
	cr_assert_eq(users_set_role(db, "ann", "executive"), OP_OK);
	cr_assert_eq(users_get(db, "ann", &u), OP_OK);
	cr_assert_str_eq(u.pw, "pbkdf2-sha256$2000$a$b");
	cr_assert(u.disabled);
	cr_assert_str_eq(u.role, "executive");
	cr_assert_eq(users_set_disabled(db, "ann", false), OP_OK);
	cr_assert_eq(users_get(db, "ann", &u), OP_OK);
	cr_assert_not(u.disabled);

	cr_assert_eq(users_set_role(db, "ann", "king"), OP_EINVAL);
	cr_assert_eq(users_set_pw(db, "nobody", "x"), OP_ENOTFOUND);
	cr_assert_eq(users_set_disabled(db, "nobody", true), OP_ENOTFOUND);
	cr_assert_eq(users_set_role(db, "nobody", "manager"), OP_ENOTFOUND);
	cr_assert_eq(users_set_supervisor(db, "nobody", ""), OP_ENOTFOUND);
	cr_assert_eq(users_set_supervisor(db, "nobody", "ann"), OP_ENOTFOUND);
}

Test(users, supervisor_and_teams)
{
	struct user u;

	add("sue", "supervisor", "");
	add("tom", "supervisor", "");
	add("ann", "manager", "sue");
	add("bob", "manager", "");
	add("cat", "manager", "");
	cr_assert_eq(users_set_supervisor(db, "cat", "sue"), OP_OK);
	cr_assert_eq(users_set_supervisor(db, "bob", "sue"), OP_OK);
	cr_assert_str_eq(team("sue"), "ann bob cat");
	cr_assert_str_eq(team("tom"), "");
	cr_assert_eq(users_set_supervisor(db, "bob", "tom"), OP_OK);
	cr_assert_str_eq(team("sue"), "ann cat");
	cr_assert_str_eq(team("tom"), "bob");
	cr_assert_eq(users_set_supervisor(db, "bob", ""), OP_OK);
	cr_assert_eq(users_get(db, "bob", &u), OP_OK);
	cr_assert_str_eq(u.supervisor, "");
	cr_assert_str_eq(team("tom"), "");
	cr_assert_eq(users_set_supervisor(db, "bob", "nobody"), OP_EINVAL);
	cr_assert_eq(users_set_supervisor(db, "bob", "Bad!"), OP_EINVAL);
}

Test(users, supervisor_cycles_refused)
{
	struct user u;

	add("a", "supervisor", "");
	add("b", "supervisor", "a");
	add("c", "supervisor", "b");
	add("d", "manager", "c");
	cr_assert_eq(users_set_supervisor(db, "a", "a"), OP_EINVAL, "self");
	cr_assert_eq(users_set_supervisor(db, "a", "b"), OP_EINVAL, "two-step loop");
	cr_assert_eq(users_set_supervisor(db, "a", "d"), OP_EINVAL, "four-step loop");
	cr_assert_eq(users_set_supervisor(db, "b", "d"), OP_EINVAL);
	cr_assert_eq(users_get(db, "a", &u), OP_OK);
	cr_assert_str_eq(u.supervisor, "", "nothing changed");
	/* moving within the chain without a loop is fine */
	cr_assert_eq(users_set_supervisor(db, "d", "a"), OP_OK);
	cr_assert_eq(users_set_supervisor(db, "c", "a"), OP_OK);
	cr_assert_eq(users_set_supervisor(db, "b", "c"), OP_OK);
	cr_assert_eq(users_set_supervisor(db, "c", "b"), OP_EINVAL);
}

/* ---- roles and rights --------------------------------------------------- */

static int count_pair(void *ctx, const char *name, const char *text)
{
	int *n = ctx;

	cr_assert_not_null(name);
	cr_assert_not_null(text);
	cr_assert_gt(strlen(text), 0);
	(*n)++;
	return 0;
}

Test(users, roles_and_rights)
{
	bool found;
	int n = 0;

	cr_assert_eq(users_roles_each(db, count_pair, &n), OP_OK);
	cr_assert_eq(n, 4);
	n = 0;
	cr_assert_eq(users_rights_each(db, count_pair, &n), OP_OK);
	cr_assert_eq(n, 8);
	cr_assert_eq(users_role_exists(db, "manager", &found), OP_OK);
	cr_assert(found);
	cr_assert_eq(users_role_exists(db, "king", &found), OP_OK);
	cr_assert_not(found);
	cr_assert_eq(users_right_exists(db, "read.team", &found), OP_OK);
	cr_assert(found);
	cr_assert_eq(users_right_exists(db, "fly", &found), OP_OK);
	cr_assert_not(found);
	cr_assert_str_eq(rights("manager"), "delete read.own write.own");
	cr_assert_str_eq(rights("king"), "");
}

Test(users, grant_and_withdraw)
{
	cr_assert_eq(users_grant(db, "manager", "read.team"), OP_OK);
	cr_assert_str_eq(rights("manager"), "delete read.own read.team write.own");
	cr_assert_eq(users_grant(db, "manager", "read.team"), OP_OK, "twice is fine");
	cr_assert_str_eq(rights("manager"), "delete read.own read.team write.own");
	cr_assert_eq(users_withdraw(db, "manager", "delete"), OP_OK);
	cr_assert_eq(users_withdraw(db, "manager", "delete"), OP_OK, "twice is fine");
	cr_assert_str_eq(rights("manager"), "read.own read.team write.own");
	cr_assert_eq(users_grant(db, "king", "delete"), OP_EINVAL);
	cr_assert_eq(users_grant(db, "manager", "fly"), OP_EINVAL);
	cr_assert_eq(users_withdraw(db, "king", "delete"), OP_EINVAL);
	cr_assert_eq(users_withdraw(db, "manager", "fly"), OP_EINVAL);
	cr_assert_str_eq(rights("manager"), "read.own read.team write.own");
}

/* ---- devices ------------------------------------------------------------ */

static struct device dev(const char *replica, const char *user, uint64_t created)
{
	struct device d;

	memset(&d, 0, sizeof(d));
	snprintf(d.replica, sizeof(d.replica), "%s", replica);
	snprintf(d.user, sizeof(d.user), "%s", user);
	snprintf(d.agent, sizeof(d.agent), "outpost/0.1 %s", replica);
	d.created = created;
	d.expires = created + 1000000;
	return d;
}

static void login(const char *replica, const char *user, uint64_t created,
		  unsigned char h[AUTH_TOKEN_HASH])
{
	unsigned char tok[AUTH_TOKEN_LEN];
	struct device d = dev(replica, user, created);

	cr_assert_eq(auth_token_new(tok), OP_OK);
	auth_token_digest(tok, sizeof(tok), h);
	cr_assert_eq(users_device_login(db, &d, h), OP_OK);
}

/* Count of devices rows with a non-NULL token, read with SQLite itself. */
static int tokens_in_file(void)
{
	sqlite3 *h;
	sqlite3_stmt *s;
	int n = -1;

	cr_assert_eq(sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(h, "SELECT count(*) FROM devices WHERE token IS NOT NULL",
					-1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(h);
	return n;
}

Test(users, device_login_token_revoke)
{
	unsigned char ha[AUTH_TOKEN_HASH], hb[AUTH_TOKEN_HASH], other[AUTH_TOKEN_HASH];
	struct device d;

	add("ann", "manager", "");
	login(REP_A, "ann", 1000, ha);
	login(REP_B, "ann", 2000, hb);
	cr_assert_eq(users_device_by_token(db, ha, &d), OP_OK);
	cr_assert_str_eq(d.replica, REP_A);
	cr_assert_str_eq(d.user, "ann");
	cr_assert_str_eq(d.agent, "outpost/0.1 " REP_A);
	cr_assert_eq(d.created, 1000);
	cr_assert_eq(d.expires, 1001000);
	cr_assert_not(d.revoked);
	cr_assert_eq(d.last_seen, 0);
	memset(other, 7, sizeof(other));
	cr_assert_eq(users_device_by_token(db, other, &d), OP_ENOTFOUND);

	cr_assert_eq(users_device_seen(db, REP_A, 5000, "10.1.2.3"), OP_OK);
	cr_assert_eq(users_device_get(db, REP_A, &d), OP_OK);
	cr_assert_eq(d.last_seen, 5000);
	cr_assert_str_eq(d.last_addr, "10.1.2.3");
	cr_assert_eq(users_device_seen(db, REP_C, 5000, "x"), OP_ENOTFOUND);

	cr_assert_eq(tokens_in_file(), 2);
	cr_assert_eq(users_device_revoke(db, REP_A), OP_OK);
	cr_assert_eq(tokens_in_file(), 1, "the revoked digest is gone");
	cr_assert_eq(users_device_by_token(db, ha, &d), OP_ENOTFOUND);
	cr_assert_eq(users_device_get(db, REP_A, &d), OP_OK);
	cr_assert(d.revoked);
	cr_assert_eq(d.last_seen, 5000, "kept");
	cr_assert_eq(users_device_by_token(db, hb, &d), OP_OK, "other devices unaffected");
	cr_assert_eq(users_device_revoke(db, REP_C), OP_ENOTFOUND);
	cr_assert_eq(users_device_get(db, REP_C, &d), OP_ENOTFOUND);

	/* a new login renews the replica: not revoked, only the new token */
	login(REP_A, "ann", 3000, ha);
	cr_assert_eq(users_device_by_token(db, ha, &d), OP_OK);
	cr_assert_str_eq(d.replica, REP_A);
	cr_assert_not(d.revoked);
	cr_assert_eq(d.created, 3000);
	cr_assert_eq(d.last_seen, 5000);
	cr_assert_eq(tokens_in_file(), 2);
}

static int collect_device(void *ctx, const struct device *d)
{
	return collect(ctx, d->replica);
}

Test(users, device_each_newest_first)
{
	unsigned char h[AUTH_TOKEN_HASH];
	struct names c;

	add("ann", "manager", "");
	add("bob", "manager", "");
	login(REP_B, "ann", 2000, h);
	login(REP_A, "bob", 3000, h);
	login(REP_C, "ann", 1000, h);
	memset(&c, 0, sizeof(c));
	cr_assert_eq(users_device_each(db, NULL, collect_device, &c), OP_OK);
	cr_assert_str_eq(c.s, REP_A " " REP_B " " REP_C);
	memset(&c, 0, sizeof(c));
	cr_assert_eq(users_device_each(db, "ann", collect_device, &c), OP_OK);
	cr_assert_str_eq(c.s, REP_B " " REP_C);
	memset(&c, 0, sizeof(c));
	cr_assert_eq(users_device_each(db, "nobody", collect_device, &c), OP_OK);
	cr_assert_str_eq(c.s, "");
}

/* ---- audit -------------------------------------------------------------- */

static void audit(const char *user, const char *action, const char *rec, uint64_t at)
{
	struct audit a;

	memset(&a, 0, sizeof(a));
	a.seq = 999; /* ignored */
	a.at = at;
	snprintf(a.user, sizeof(a.user), "%s", user);
	snprintf(a.device, sizeof(a.device), "%s", REP_A);
	snprintf(a.addr, sizeof(a.addr), "127.0.0.1");
	snprintf(a.action, sizeof(a.action), "%s", action);
	snprintf(a.tbl, sizeof(a.tbl), "%s", rec[0] ? "customer" : "");
	snprintf(a.rec, sizeof(a.rec), "%s", rec);
	snprintf(a.detail, sizeof(a.detail), "%s by %s", action, user);
	cr_assert_eq(users_audit_add(db, &a), OP_OK);
}

static int collect_audit(void *ctx, const struct audit *a)
{
	char one[64];

	snprintf(one, sizeof(one), "%llu:%s", (unsigned long long)a->seq, a->action);
	return collect(ctx, one);
}

static const char *audit_list(const char *user, const char *rec, unsigned limit)
{
	static struct names c;

	memset(&c, 0, sizeof(c));
	cr_assert_eq(users_audit_each(db, user, rec, limit, collect_audit, &c), OP_OK);
	return c.s;
}

Test(users, audit_filters_and_limit)
{
	audit("ann", "login", "", 100);
	audit("ann", "create", REC_1, 200);
	audit("bob", "edit", REC_1, 300);
	audit("ann", "edit", REC_2, 400);
	audit("", "login-failed", "", 500);
	cr_assert_str_eq(audit_list(NULL, NULL, 100),
			 "5:login-failed 4:edit 3:edit 2:create 1:login");
	cr_assert_str_eq(audit_list(NULL, NULL, 2), "5:login-failed 4:edit");
	cr_assert_str_eq(audit_list("ann", NULL, 100), "4:edit 2:create 1:login");
	cr_assert_str_eq(audit_list("ann", NULL, 1), "4:edit");
	cr_assert_str_eq(audit_list(NULL, REC_1, 100), "3:edit 2:create");
	cr_assert_str_eq(audit_list("ann", REC_1, 100), "2:create");
	cr_assert_str_eq(audit_list("", NULL, 100), "5:login-failed");
	cr_assert_str_eq(audit_list("carl", NULL, 100), "");
	cr_assert_str_eq(audit_list(NULL, NULL, 0), "");
}

static int keep_audit(void *ctx, const struct audit *a)
{
	*(struct audit *)ctx = *a;
	return 0;
}

Test(users, audit_fields)
{
	struct audit got;

	audit("bob", "edit", REC_1, 300);
	memset(&got, 0, sizeof(got));
	cr_assert_eq(users_audit_each(db, "bob", NULL, 1, keep_audit, &got), OP_OK);
	cr_assert_eq(got.seq, 1);
	cr_assert_eq(got.at, 300);
	cr_assert_str_eq(got.user, "bob");
	cr_assert_str_eq(got.device, REP_A);
	cr_assert_str_eq(got.addr, "127.0.0.1");
	cr_assert_str_eq(got.action, "edit");
	cr_assert_str_eq(got.tbl, "customer");
	cr_assert_str_eq(got.rec, REC_1);
	cr_assert_str_eq(got.detail, "edit by bob");
}
