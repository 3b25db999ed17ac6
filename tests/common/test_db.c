/*
 * test_db.c - SQLite storage (common/db.c) on real files in a private
 * temporary directory: db_open creates the schema in WAL mode and refuses
 * a database newer than the build; data survives a reopen; records round
 * trip whole and feed the SQL views; db_rec_since pages in seq order;
 * the outbox adds, pages, acknowledges and counts; db_rec_resolve finds
 * unique id prefixes; metadata; transactions; db_rec_list order.
 *
 * The checks of the file itself (tables, journal mode, user_version) use
 * SQLite directly, beside the module under test.
 */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "db.h"
#include "harness.h"
#include "wire.h"

#define REP_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

/* The test's directory; each test runs in its own process. */
static char dir[256];

static void setup(void)
{
	cr_assert_eq(h_tmpdir(dir), 0);
}

static void teardown(void)
{
	h_rmtree(dir);
}

TestSuite(db, .init = setup, .fini = teardown);

/* ---- helpers ---------------------------------------------------------- */

static void path_of(char out[320], const char *name)
{
	snprintf(out, 320, "%s/%s", dir, name);
}

static struct db *open_db(const char *name, enum schema_kind kind)
{
	char path[320], err[OP_ERRLEN] = "";
	struct db *db = NULL;
	int rc;

	path_of(path, name);
	rc = db_open(path, kind, &db, err);
	cr_assert_eq(rc, OP_OK, "db_open %s: %d %s", path, rc, err);
	cr_assert_not_null(db);
	return db;
}

/* A record of table tbl whose label field holds label, written by REP_A. */
static struct rec *mk(const char *tbl, const char *id, const char *label,
		      uint64_t ctr)
{
	const struct tbl_desc *t = tbl_find(tbl, strlen(tbl));
	struct rec_dot d = { REP_A, ctr, 1000 + ctr };
	struct val v = VAL_INIT;
	struct rec *r = rec_new(t, id);

	cr_assert_not_null(r);
	cr_assert_eq(val_set_text(&v, label, strlen(label)), OP_OK);
	cr_assert_eq(rec_set(r, t->label, &v, &d), OP_OK);
	val_release(&v);
	return r;
}

/* Record ids: n as 32 hex digits after an optional prefix. */
static void id_of(char out[RID_LEN + 1], const char *prefix, unsigned n)
{
	size_t p = strlen(prefix);

	snprintf(out, RID_LEN + 1, "%s%0*x", prefix, (int)(RID_LEN - p), n);
}

static bool same_state(const struct rec *a, const struct rec *b)
{
	struct buf ea = BUF_INIT, eb = BUF_INIT;
	bool same;

	cr_assert_eq(wire_enc_state(&ea, a), OP_OK);
	cr_assert_eq(wire_enc_state(&eb, b), OP_OK);
	same = ea.len == eb.len && !memcmp(ea.p, eb.p, ea.len);
	buf_release(&ea);
	buf_release(&eb);
	return same;
}

/* One integer or text answer from SQL run on a separate connection. */
static sqlite3 *raw_open(const char *name)
{
	char path[320];
	sqlite3 *h = NULL;

	path_of(path, name);
	cr_assert_eq(sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	return h;
}

static int64_t raw_int(sqlite3 *h, const char *sql)
{
	sqlite3_stmt *s;
	int64_t v = -1;

	cr_assert_eq(sqlite3_prepare_v2(h, sql, -1, &s, NULL), SQLITE_OK, "%s", sql);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static void raw_text(sqlite3 *h, const char *sql, char *out, size_t cap)
{
	sqlite3_stmt *s;

	out[0] = '\0';
	cr_assert_eq(sqlite3_prepare_v2(h, sql, -1, &s, NULL), SQLITE_OK, "%s", sql);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
		snprintf(out, cap, "%s", (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
}

/* ---- open ------------------------------------------------------------- */

Test(db, open_creates_client_schema_in_wal_mode)
{
	struct db *db = open_db("client.db", SCHEMA_CLIENT);
	char path[320], mode[16];
	struct stat sb;
	sqlite3 *h;

	path_of(path, "client.db");
	cr_assert_eq(stat(path, &sb), 0);
	h = raw_open("client.db");
	raw_text(h, "PRAGMA journal_mode", mode, sizeof(mode));
	cr_assert_str_eq(mode, "wal");
	cr_assert_eq(raw_int(h, "PRAGMA user_version"), schema_count(SCHEMA_CLIENT));
	cr_assert_eq(raw_int(h, "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
			     "AND name IN ('meta', 'rec', 'outbox', 'rejected')"), 4);
	cr_assert_eq(raw_int(h, "SELECT count(*) FROM sqlite_master WHERE type = 'view' "
			     "AND name IN ('customer', 'contact')"), 2);
	cr_assert_eq(raw_int(h, "SELECT count(*) FROM rec"), 0);
	sqlite3_close(h);
	db_close(db);
}

Test(db, open_creates_server_schema)
{
	struct db *db = open_db("server.db", SCHEMA_SERVER);
	char mode[16];
	sqlite3 *h = raw_open("server.db");

	raw_text(h, "PRAGMA journal_mode", mode, sizeof(mode));
	cr_assert_str_eq(mode, "wal");
	cr_assert_eq(raw_int(h, "PRAGMA user_version"), schema_count(SCHEMA_SERVER));
	cr_assert_eq(raw_int(h, "SELECT count(*) FROM sqlite_master WHERE name = 'rec_seq'"), 1);
	cr_assert_eq(raw_int(h, "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
			     "AND name IN ('users', 'roles', 'rights', 'role_rights', "
			     "'devices', 'audit', 'gone')"), 7);
	cr_assert_eq(raw_int(h, "SELECT count(*) FROM role_rights WHERE role = 'executive'"), 1,
		     "an executive reads and writes nothing");
	cr_assert_eq(raw_int(h, "SELECT count(*) FROM sqlite_master WHERE name = 'outbox'"), 0);
	sqlite3_close(h);
	db_close(db);
}

Test(db, open_twice_and_close_null)
{
	struct db *a = open_db("x.db", SCHEMA_CLIENT);
	struct db *b = open_db("x.db", SCHEMA_CLIENT);
	uint64_t v = 0;

	cr_assert_eq(db_meta_set_u64(a, "k", 5), OP_OK);
	cr_assert_eq(db_meta_get_u64(b, "k", &v), OP_OK);
	cr_assert_eq(v, 5);
	db_close(a);
	db_close(b);
	db_close(NULL);
}

Test(db, open_bad_path_fails)
{
	char path[320], err[OP_ERRLEN] = "";
	struct db *db = (struct db *)1;

	path_of(path, "no/such/dir/x.db");
	cr_assert_eq(db_open(path, SCHEMA_CLIENT, &db, err), OP_EIO);
	cr_assert_null(db);
	cr_assert_neq(err[0], '\0');
}

Test(db, open_newer_database_fails_with_eversion)
{
	char path[320], err[OP_ERRLEN] = "";
	struct db *db = open_db("new.db", SCHEMA_CLIENT);
	sqlite3 *h;

	cr_assert_eq(db_meta_set_text(db, "replica", REP_A), OP_OK);
	db_close(db);
	h = raw_open("new.db");
	cr_assert_eq(sqlite3_exec(h, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	path_of(path, "new.db");
	db = (struct db *)1;
	cr_assert_eq(db_open(path, SCHEMA_CLIENT, &db, err), OP_EVERSION);
	cr_assert_null(db);
	cr_assert_neq(strstr(err, "99"), NULL, "%s", err);
	/* The file is left as it was. */
	h = raw_open("new.db");
	cr_assert_eq(raw_int(h, "PRAGMA user_version"), 99);
	cr_assert_eq(raw_int(h, "SELECT count(*) FROM meta"), 1);
	sqlite3_close(h);
}

Test(db, open_migrates_only_once)
{
	struct db *db = open_db("m.db", SCHEMA_SERVER);
	struct rec *r = mk("customer", "00000000000000000000000000000001", "Acme", 1);
	uint64_t n = 0;

	cr_assert_eq(db_rec_save(db, r, 1), OP_OK);
	db_close(db);
	/* Reopening must not run migration 1 again (it would fail or wipe). */
	db = open_db("m.db", SCHEMA_SERVER);
	cr_assert_eq(db_rec_count(db, r->t, &n), OP_OK);
	cr_assert_eq(n, 1);
	db_close(db);
	rec_free(r);
}

/* ---- persistence and records ------------------------------------------ */

Test(db, reopen_keeps_data)
{
	struct db *db = open_db("c.db", SCHEMA_CLIENT);
	struct rec *r = mk("customer", "0123456789abcdef0123456789abcdef", "Acme", 3), *l;
	char text[64];
	uint64_t v = 0;

	cr_assert_eq(db_meta_set_u64(db, "ctr", 42), OP_OK);
	cr_assert_eq(db_meta_set_text(db, "replica", REP_A), OP_OK);
	cr_assert_eq(db_rec_save(db, r, 0), OP_OK);
	cr_assert_eq(db_outbox_add(db, 3, r, "chg", 3), OP_OK);
	db_close(db);
	db = open_db("c.db", SCHEMA_CLIENT);
	cr_assert_eq(db_meta_get_u64(db, "ctr", &v), OP_OK);
	cr_assert_eq(v, 42);
	cr_assert_eq(db_meta_get_text(db, "replica", text, sizeof(text)), OP_OK);
	cr_assert_str_eq(text, REP_A);
	cr_assert_eq(db_rec_load(db, r->t, r->id, &l), OP_OK);
	cr_assert(same_state(r, l));
	cr_assert_eq(db_outbox_count(db, &v), OP_OK);
	cr_assert_eq(v, 1);
	rec_free(l);
	rec_free(r);
	db_close(db);
}

Test(db, record_round_trip)
{
	struct db *db = open_db("c.db", SCHEMA_CLIENT);
	struct rec *r = mk("customer", "0123456789abcdef0123456789abcdef", "Acme \"Q\"", 1);
	struct rec_dot d = { REP_A, 2, 1002 }, dd = { REP_A, 3, 1003 };
	struct val v = VAL_INIT;
	struct rec *l = NULL;
	char name[64];
	uint64_t n = 99;
	sqlite3 *h;

	val_set_int(&v, 4);
	cr_assert_eq(rec_set(r, 10, &v, &d), OP_OK);
	val_set_real(&v, 12.5);
	cr_assert_eq(rec_set(r, 9, &v, &d), OP_OK);
	cr_assert_eq(db_rec_load(db, r->t, r->id, &l), OP_ENOTFOUND);
	cr_assert_null(l);
	cr_assert_eq(db_rec_save(db, r, 0), OP_OK);
	cr_assert_eq(db_rec_load(db, r->t, r->id, &l), OP_OK);
	cr_assert(same_state(r, l));
	cr_assert_eq(l->t, r->t);
	cr_assert_str_eq(l->id, r->id);
	rec_free(l);
	/* Another table, another id: not found. */
	cr_assert_eq(db_rec_load(db, tbl_find("contact", 7), r->id, &l), OP_ENOTFOUND);
	cr_assert_eq(db_rec_load(db, r->t, "0123456789abcdef0123456789abcdee", &l), OP_ENOTFOUND);
	cr_assert_eq(db_rec_count(db, r->t, &n), OP_OK);
	cr_assert_eq(n, 1);
	/* The views read the JSON copy. */
	h = raw_open("c.db");
	raw_text(h, "SELECT name || '|' || satisfaction || '|' || credit FROM customer",
		 name, sizeof(name));
	cr_assert_str_eq(name, "Acme \"Q\"|4|12.5");
	/* Saving again replaces; a delete hides it from views and counts. */
	cr_assert_eq(rec_delete(r, &dd), OP_OK);
	cr_assert_eq(db_rec_save(db, r, 0), OP_OK);
	cr_assert_eq(db_rec_count(db, r->t, &n), OP_OK);
	cr_assert_eq(n, 0);
	cr_assert_eq(raw_int(h, "SELECT count(*) FROM customer"), 0);
	cr_assert_eq(raw_int(h, "SELECT count(*) FROM rec"), 1);
	cr_assert_eq(db_rec_load(db, r->t, r->id, &l), OP_OK);
	cr_assert_not(rec_alive(l));
	cr_assert(same_state(r, l));
	sqlite3_close(h);
	val_release(&v);
	rec_free(l);
	rec_free(r);
	db_close(db);
}

/* Collects the seqs and ids handed out by db_rec_since. */
struct since {
	int n;
	uint64_t seq[16];
	char id[16][RID_LEN + 1];
	int stop_after;
};

static int on_since(void *ctx, const void *blob, size_t n, uint64_t seq)
{
	struct since *s = ctx;
	struct wire_err e;
	struct rec *r;

	cr_assert_eq(wire_decode_state(blob, n, true, &r, &e), OP_OK, "%s", e.msg);
	cr_assert_lt(s->n, 16);
	s->seq[s->n] = seq;
	memcpy(s->id[s->n], r->id, RID_LEN + 1);
	s->n++;
	rec_free(r);
	return s->stop_after && s->n == s->stop_after ? OP_ESTATE : OP_OK;
}

Test(db, rec_since_order_and_limit)
{
	static const uint64_t seqs[] = { 5, 3, 1, 4, 2 };
	struct db *db = open_db("s.db", SCHEMA_SERVER);
	struct since s = { 0 };
	struct rec *r;
	char id[RID_LEN + 1];
	uint64_t max = 99;
	unsigned i;

	cr_assert_eq(db_max_seq(db, &max), OP_OK);
	cr_assert_eq(max, 0);
	for (i = 0; i < 5; i++) {
		/* The id says the seq, to check rows against blobs. */
		id_of(id, "", (unsigned)seqs[i]);
		r = mk("customer", id, "c", seqs[i]);
		cr_assert_eq(db_rec_save(db, r, seqs[i]), OP_OK);
		rec_free(r);
	}
	cr_assert_eq(db_max_seq(db, &max), OP_OK);
	cr_assert_eq(max, 5);
	cr_assert_eq(db_rec_since(db, 0, 100, on_since, &s), OP_OK);
	cr_assert_eq(s.n, 5);
	for (i = 0; i < 5; i++) {
		id_of(id, "", i + 1);
		cr_assert_eq(s.seq[i], i + 1);
		cr_assert_str_eq(s.id[i], id);
	}
	s = (struct since){ 0 };
	cr_assert_eq(db_rec_since(db, 2, 2, on_since, &s), OP_OK);
	cr_assert_eq(s.n, 2);
	cr_assert_eq(s.seq[0], 3);
	cr_assert_eq(s.seq[1], 4);
	s = (struct since){ 0 };
	cr_assert_eq(db_rec_since(db, 5, 100, on_since, &s), OP_OK);
	cr_assert_eq(s.n, 0);
	cr_assert_eq(db_rec_since(db, 0, 0, on_since, &s), OP_OK);
	cr_assert_eq(s.n, 0);
	/* A callback's error stops the walk and is returned. */
	s.stop_after = 2;
	cr_assert_eq(db_rec_since(db, 0, 100, on_since, &s), OP_ESTATE);
	cr_assert_eq(s.n, 2);
	/* A record saved again moves to its new seq: one entry per record. */
	id_of(id, "", 2);
	r = mk("customer", id, "c2", 6);
	cr_assert_eq(db_rec_save(db, r, 6), OP_OK);
	rec_free(r);
	s = (struct since){ 0 };
	cr_assert_eq(db_rec_since(db, 0, 100, on_since, &s), OP_OK);
	cr_assert_eq(s.n, 5);
	cr_assert_eq(s.seq[4], 6);
	cr_assert_str_eq(s.id[4], id);
	cr_assert_eq(s.seq[1], 3);
	/* The statement is reusable after all of the above. */
	s = (struct since){ 0 };
	cr_assert_eq(db_rec_since(db, 4, 1, on_since, &s), OP_OK);
	cr_assert_eq(s.n, 1);
	cr_assert_eq(s.seq[0], 5);
	db_close(db);
}

/* ---- outbox ----------------------------------------------------------- */

struct outbox_seen {
	int n;
	uint64_t ctr[16];
	char body[16][16];
	int stop_after;
};

static int on_outbox(void *ctx, const void *change, size_t n, uint64_t ctr)
{
	struct outbox_seen *o = ctx;

	cr_assert_lt(o->n, 16);
	cr_assert_lt(n, 16);
	o->ctr[o->n] = ctr;
	memcpy(o->body[o->n], change, n);
	o->body[o->n][n] = '\0';
	o->n++;
	return o->stop_after && o->n == o->stop_after ? OP_EIO : OP_OK;
}

Test(db, outbox_add_each_ack_count)
{
	struct db *db = open_db("c.db", SCHEMA_CLIENT);
	struct rec *r = mk("customer", "0123456789abcdef0123456789abcdef", "Acme", 1);
	struct outbox_seen o = { 0 };
	char body[16];
	uint64_t n = 99, i;

	cr_assert_eq(db_outbox_count(db, &n), OP_OK);
	cr_assert_eq(n, 0);
	/* Added out of order; handed out by counter. */
	for (i = 5; i >= 1; i--) {
		snprintf(body, sizeof(body), "change %u", (unsigned)i);
		cr_assert_eq(db_outbox_add(db, i, r, body, strlen(body)), OP_OK);
	}
	cr_assert_eq(db_outbox_count(db, &n), OP_OK);
	cr_assert_eq(n, 5);
	cr_assert_eq(db_outbox_each(db, 0, 100, on_outbox, &o), OP_OK);
	cr_assert_eq(o.n, 5);
	for (i = 0; i < 5; i++) {
		snprintf(body, sizeof(body), "change %u", (unsigned)i + 1);
		cr_assert_eq(o.ctr[i], i + 1);
		cr_assert_str_eq(o.body[i], body);
	}
	o = (struct outbox_seen){ 0 };
	cr_assert_eq(db_outbox_each(db, 2, 2, on_outbox, &o), OP_OK);
	cr_assert_eq(o.n, 2);
	cr_assert_eq(o.ctr[0], 3);
	cr_assert_eq(o.ctr[1], 4);
	/* A counter is added once. */
	cr_assert_neq(db_outbox_add(db, 3, r, "again", 5), OP_OK);
	/* Acknowledging drops everything up to the counter. */
	cr_assert_eq(db_outbox_ack(db, 3), OP_OK);
	cr_assert_eq(db_outbox_count(db, &n), OP_OK);
	cr_assert_eq(n, 2);
	o = (struct outbox_seen){ 0 };
	cr_assert_eq(db_outbox_each(db, 0, 100, on_outbox, &o), OP_OK);
	cr_assert_eq(o.n, 2);
	cr_assert_eq(o.ctr[0], 4);
	cr_assert_eq(o.ctr[1], 5);
	cr_assert_eq(db_outbox_ack(db, 3), OP_OK);
	cr_assert_eq(db_outbox_count(db, &n), OP_OK);
	cr_assert_eq(n, 2);
	/* A callback's error stops the walk. */
	o = (struct outbox_seen){ 0 };
	o.stop_after = 1;
	cr_assert_eq(db_outbox_each(db, 0, 100, on_outbox, &o), OP_EIO);
	cr_assert_eq(o.n, 1);
	cr_assert_eq(db_outbox_ack(db, UINT64_MAX >> 1), OP_OK);
	cr_assert_eq(db_outbox_count(db, &n), OP_OK);
	cr_assert_eq(n, 0);
	rec_free(r);
	db_close(db);
}

/* ---- resolve ---------------------------------------------------------- */

Test(db, resolve_prefixes)
{
	struct db *db = open_db("c.db", SCHEMA_CLIENT);
	const struct tbl_desc *cust = tbl_find("customer", 8);
	const struct tbl_desc *cont = tbl_find("contact", 7);
	static const char *const ids[] = {
		"abcd0000000000000000000000000001", "abcd1111111111111111111111111111",
		"ef010000000000000000000000000000",
	};
	struct rec_dot dd = { REP_A, 9, 9 };
	char out[RID_LEN + 1];
	struct rec *r;
	size_t i;

	for (i = 0; i < 3; i++) {
		r = mk("customer", ids[i], "c", i + 1);
		cr_assert_eq(db_rec_save(db, r, 0), OP_OK);
		rec_free(r);
	}
	/* A dead customer and a contact sharing the prefix. */
	r = mk("customer", "dead0000000000000000000000000000", "gone", 5);
	cr_assert_eq(rec_delete(r, &dd), OP_OK);
	cr_assert_eq(db_rec_save(db, r, 0), OP_OK);
	rec_free(r);
	r = mk("contact", "abcd2222222222222222222222222222", "Ann", 6);
	cr_assert_eq(db_rec_save(db, r, 0), OP_OK);
	rec_free(r);

	cr_assert_eq(db_rec_resolve(db, cust, "abcd", out), OP_EINVAL);
	cr_assert_eq(db_rec_resolve(db, cust, "abcd0", out), OP_OK);
	cr_assert_str_eq(out, ids[0]);
	cr_assert_eq(db_rec_resolve(db, cust, "abcd1", out), OP_OK);
	cr_assert_str_eq(out, ids[1]);
	cr_assert_eq(db_rec_resolve(db, cust, "ef01", out), OP_OK);
	cr_assert_str_eq(out, ids[2]);
	cr_assert_eq(db_rec_resolve(db, cust, ids[1], out), OP_OK);
	cr_assert_str_eq(out, ids[1]);
	cr_assert_eq(db_rec_resolve(db, cust, "1234", out), OP_ENOTFOUND);
	cr_assert_eq(db_rec_resolve(db, cust, "abcd2", out), OP_ENOTFOUND);
	cr_assert_eq(db_rec_resolve(db, cust, "dead", out), OP_ENOTFOUND);
	/* Too short, too long. */
	cr_assert_eq(db_rec_resolve(db, cust, "ef0", out), OP_ENOTFOUND);
	cr_assert_eq(db_rec_resolve(db, cust, "", out), OP_ENOTFOUND);
	cr_assert_eq(db_rec_resolve(db, cust, "ef0100000000000000000000000000000", out),
		     OP_ENOTFOUND);
	/* Tables are separate. */
	cr_assert_eq(db_rec_resolve(db, cont, "abcd", out), OP_OK);
	cr_assert_str_eq(out, "abcd2222222222222222222222222222");
	db_close(db);
}

/* ---- meta ------------------------------------------------------------- */

Test(db, meta_get_set)
{
	struct db *db = open_db("c.db", SCHEMA_CLIENT);
	char text[8];
	uint64_t v = 7;

	cr_assert_eq(db_meta_get_u64(db, "missing", &v), OP_ENOTFOUND);
	cr_assert_eq(v, 7);
	cr_assert_eq(db_meta_get_text(db, "missing", text, sizeof(text)), OP_ENOTFOUND);
	cr_assert_eq(db_meta_set_u64(db, "cursor", 10), OP_OK);
	cr_assert_eq(db_meta_get_u64(db, "cursor", &v), OP_OK);
	cr_assert_eq(v, 10);
	cr_assert_eq(db_meta_set_u64(db, "cursor", 11), OP_OK);
	cr_assert_eq(db_meta_get_u64(db, "cursor", &v), OP_OK);
	cr_assert_eq(v, 11);
	cr_assert_eq(db_meta_set_u64(db, "big", UINT64_MAX), OP_OK);
	cr_assert_eq(db_meta_get_u64(db, "big", &v), OP_OK);
	cr_assert_eq(v, UINT64_MAX);
	cr_assert_eq(db_meta_set_text(db, "name", "outpost"), OP_OK);
	cr_assert_eq(db_meta_get_text(db, "name", text, sizeof(text)), OP_OK);
	cr_assert_str_eq(text, "outpost");
	/* Eight bytes and the NUL do not fit in 8. */
	cr_assert_eq(db_meta_set_text(db, "name", "outposts"), OP_OK);
	cr_assert_eq(db_meta_get_text(db, "name", text, sizeof(text)), OP_ETOOBIG);
	cr_assert_eq(db_meta_del(db, "name"), OP_OK);
	cr_assert_eq(db_meta_get_text(db, "name", text, sizeof(text)), OP_ENOTFOUND);
	cr_assert_eq(db_meta_del(db, "name"), OP_OK);
	cr_assert_eq(db_meta_get_u64(db, "cursor", &v), OP_OK);
	cr_assert_eq(v, 11);
	db_close(db);
}

/* ---- transactions and listing ----------------------------------------- */

Test(db, transactions)
{
	struct db *db = open_db("c.db", SCHEMA_CLIENT);
	uint64_t v = 0;

	cr_assert_eq(db_rollback(db), OP_OK, "rollback outside a transaction");
	cr_assert_eq(db_begin(db), OP_OK);
	cr_assert_eq(db_meta_set_u64(db, "k", 1), OP_OK);
	cr_assert_eq(db_rollback(db), OP_OK);
	cr_assert_eq(db_meta_get_u64(db, "k", &v), OP_ENOTFOUND);
	cr_assert_eq(db_begin(db), OP_OK);
	cr_assert_eq(db_meta_set_u64(db, "k", 2), OP_OK);
	cr_assert_eq(db_commit(db), OP_OK);
	cr_assert_eq(db_meta_get_u64(db, "k", &v), OP_OK);
	cr_assert_eq(v, 2);
	db_close(db);
}

struct names {
	int n;
	char name[8][32];
};

static int on_rec(void *ctx, const struct rec *r)
{
	struct names *l = ctx;

	cr_assert_lt(l->n, 8);
	snprintf(l->name[l->n++], 32, "%s", r->f[r->t->label].v.s);
	return OP_OK;
}

Test(db, rec_list_by_label)
{
	static const char *const names[] = { "bravo", "Alpha", "charlie", "alpha2" };
	struct db *db = open_db("c.db", SCHEMA_CLIENT);
	const struct tbl_desc *cont = tbl_find("contact", 7);
	struct rec_dot d = { REP_A, 50, 50 };
	struct names l = { 0 };
	char id[RID_LEN + 1];
	struct val v = VAL_INIT;
	struct rec *r;
	unsigned i;

	for (i = 0; i < 4; i++) {
		id_of(id, "c", i);
		r = mk("customer", id, names[i], i + 1);
		cr_assert_eq(db_rec_save(db, r, 0), OP_OK);
		rec_free(r);
	}
	cr_assert_eq(db_rec_list(db, tbl_find("customer", 8), -1, NULL, on_rec, &l), OP_OK);
	cr_assert_eq(l.n, 4);
	cr_assert_str_eq(l.name[0], "Alpha");
	cr_assert_str_eq(l.name[1], "alpha2");
	cr_assert_str_eq(l.name[2], "bravo");
	cr_assert_str_eq(l.name[3], "charlie");
	/* Contacts of one customer only. */
	id_of(id, "c", 0);
	cr_assert_eq(val_set_text(&v, id, RID_LEN), OP_OK);
	for (i = 0; i < 3; i++) {
		char cid[RID_LEN + 1];

		id_of(cid, "e", i);
		r = mk("contact", cid, i == 1 ? "Zed" : "Ann", 10 + i);
		if (i < 2)
			cr_assert_eq(rec_set(r, 0, &v, &d), OP_OK);
		cr_assert_eq(db_rec_save(db, r, 0), OP_OK);
		rec_free(r);
	}
	l = (struct names){ 0 };
	cr_assert_eq(db_rec_list(db, cont, 0, id, on_rec, &l), OP_OK);
	cr_assert_eq(l.n, 2);
	cr_assert_str_eq(l.name[0], "Ann");
	cr_assert_str_eq(l.name[1], "Zed");
	val_release(&v);
	db_close(db);
}

/* ---- server scope and the eviction log --------------------------------- */

struct scoped_seen {
	int n;
	uint64_t seq[16];
	bool gone[16];
	char id[16][RID_LEN + 1];
};

static int on_scoped(void *ctx, const void *blob, size_t n, uint64_t seq,
		     const char *tbl, const char *id)
{
	struct scoped_seen *s = ctx;

	(void)n;
	(void)tbl;
	cr_assert_lt(s->n, 16);
	s->seq[s->n] = seq;
	s->gone[s->n] = blob == NULL;
	snprintf(s->id[s->n], RID_LEN + 1, "%s", id);
	s->n++;
	return 0;
}

Test(db, scoped_log_gives_in_scope_records_and_evictions)
{
	struct db *db = open_db("s.db", SCHEMA_SERVER);
	char a[RID_LEN + 1], b[RID_LEN + 1], owner[DB_OWNER_MAX + 1];
	struct rec *ra, *rb;
	struct scoped_seen s = { 0 };
	uint64_t end;

	id_of(a, "a", 1);
	id_of(b, "b", 2);
	ra = mk("customer", a, "Ann's", 1);
	rb = mk("customer", b, "Bob's", 2);
	cr_assert_eq(db_rec_save_scoped(db, ra, 1, "ann", NULL), OP_OK);
	cr_assert_eq(db_rec_save_scoped(db, rb, 2, "bob", NULL), OP_OK);
	cr_assert_eq(db_rec_owner(db, "customer", a, owner), OP_OK);
	cr_assert_str_eq(owner, "ann");
	cr_assert_eq(db_rec_owner(db, "customer", "ffffffffffffffffffffffffffffffff", owner),
		     OP_ENOTFOUND);
	/* ann sees hers; everyone (NULL) sees both. */
	cr_assert_eq(db_rec_since_scoped(db, 0, "[\"ann\"]", 100, on_scoped, &s), OP_OK);
	cr_assert_eq(s.n, 1);
	cr_assert_str_eq(s.id[0], a);
	memset(&s, 0, sizeof(s));
	cr_assert_eq(db_rec_since_scoped(db, 0, NULL, 100, on_scoped, &s), OP_OK);
	cr_assert_eq(s.n, 2);
	/* a moves to bob: ann gets an eviction, a team of both does not. */
	cr_assert_eq(db_gone_add(db, 3, "customer", a, "ann"), OP_OK);
	cr_assert_eq(db_rec_rescope(db, "customer", a, "bob", 4), OP_OK);
	cr_assert_eq(db_log_end(db, &end), OP_OK);
	cr_assert_eq(end, 4);
	memset(&s, 0, sizeof(s));
	cr_assert_eq(db_rec_since_scoped(db, 2, "[\"ann\"]", 100, on_scoped, &s), OP_OK);
	cr_assert_eq(s.n, 1);
	cr_assert(s.gone[0]);
	cr_assert_eq(s.seq[0], 3);
	cr_assert_str_eq(s.id[0], a);
	memset(&s, 0, sizeof(s));
	cr_assert_eq(db_rec_since_scoped(db, 2, "[\"ann\",\"bob\"]", 100, on_scoped, &s), OP_OK);
	cr_assert_eq(s.n, 1, "the record itself, no eviction: it stayed in scope");
	cr_assert_not(s.gone[0]);
	cr_assert_eq(s.seq[0], 4);
	/* The limit counts evictions too. */
	memset(&s, 0, sizeof(s));
	cr_assert_eq(db_rec_since_scoped(db, 0, "[\"ann\",\"bob\"]", 1, on_scoped, &s), OP_OK);
	cr_assert_eq(s.n, 1);
	rec_free(ra);
	rec_free(rb);
	db_close(db);
}

static int on_rejected(void *ctx, const struct db_rejected *r)
{
	int *n = ctx;

	cr_assert_str_eq(r->tbl, "customer");
	cr_assert_str_eq(r->reason, *n ? "second" : "first");
	cr_assert_eq(r->n, 3);
	(*n)++;
	return 0;
}

Test(db, rejected_add_list_dismiss)
{
	struct db *db = open_db("c.db", SCHEMA_CLIENT);
	struct db_rejected r = { 7, "customer", REP_A, "abc", 3, 12, "first", 1000 };
	uint64_t n = 9;
	bool found;
	int seen = 0;

	cr_assert_eq(db_rejected_add(db, &r), OP_OK);
	r.ctr = 9;
	r.reason = "second";
	cr_assert_eq(db_rejected_add(db, &r), OP_OK);
	cr_assert_eq(db_rejected_count(db, &n), OP_OK);
	cr_assert_eq(n, 2);
	cr_assert_eq(db_rejected_each(db, on_rejected, &seen), OP_OK);
	cr_assert_eq(seen, 2);
	cr_assert_eq(db_rejected_drop(db, 8, false, &found), OP_OK);
	cr_assert_not(found);
	cr_assert_eq(db_rejected_drop(db, 7, false, &found), OP_OK);
	cr_assert(found);
	cr_assert_eq(db_rejected_drop(db, 0, true, &found), OP_OK);
	cr_assert(found);
	cr_assert_eq(db_rejected_count(db, &n), OP_OK);
	cr_assert_eq(n, 0);
	db_close(db);
}

Test(db, sweep_keeps_marked_records_and_those_with_pending_changes)
{
	struct db *db = open_db("c.db", SCHEMA_CLIENT);
	char a[RID_LEN + 1], b[RID_LEN + 1], c[RID_LEN + 1];
	struct rec *ra, *rb, *rc;
	uint64_t dropped = 0, n = 0;

	id_of(a, "a", 1);
	id_of(b, "b", 2);
	id_of(c, "c", 3);
	ra = mk("customer", a, "marked", 1);
	rb = mk("customer", b, "unmarked, pending", 2);
	rc = mk("customer", c, "unmarked", 3);
	cr_assert_eq(db_rec_save(db, ra, 5), OP_OK);
	cr_assert_eq(db_rec_save(db, rb, 0), OP_OK);
	cr_assert_eq(db_rec_save(db, rc, 4), OP_OK);
	cr_assert_eq(db_outbox_add(db, 2, rb, "x", 1), OP_OK);
	cr_assert_eq(db_rec_sweep(db, 5, &dropped), OP_OK);
	cr_assert_eq(dropped, 1);
	cr_assert_eq(db_rec_count(db, tbl_find("customer", 8), &n), OP_OK);
	cr_assert_eq(n, 2);
	rec_free(ra);
	rec_free(rb);
	rec_free(rc);
	db_close(db);
}

/* A version 1 server database gains users and scope; the owners of the
 * records it holds are filled in from their data. */
Test(db, server_migration_2_backfills_scope)
{
	const char *const *v1 = schema_migration(SCHEMA_SERVER, 1);
	char *msg = NULL, path[320];
	struct db *db;
	sqlite3 *h;
	int i;

	path_of(path, "old.db");
	cr_assert_eq(sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
		     SQLITE_OK);
	for (i = 0; v1[i]; i++)
		cr_assert_eq(sqlite3_exec(h, v1[i], NULL, NULL, &msg), SQLITE_OK, "%s", msg);
	cr_assert_eq(sqlite3_exec(h,
		"INSERT INTO rec(tbl, id, seq, alive, state, data) VALUES "
		"('customer', 'c1', 1, 1, x'80', '{\"name\":\"A\",\"owner\":\"ann\"}'),"
		"('customer', 'c2', 2, 1, x'80', '{\"name\":\"B\"}'),"
		"('contact', 'k1', 3, 1, x'80', '{\"customer\":\"c1\",\"name\":\"K\"}'),"
		"('conflict', 'x1', 4, 1, x'80', '{\"tbl\":\"contact\",\"rec\":\"k1\"}')",
		NULL, NULL, &msg), SQLITE_OK, "%s", msg);
	sqlite3_close(h);
	db = open_db("old.db", SCHEMA_SERVER);
	db_close(db);
	h = raw_open("old.db");
	cr_assert_eq(raw_int(h, "PRAGMA user_version"), 2);
	cr_assert_eq(raw_int(h, "SELECT count(*) FROM rec WHERE owner = 'ann'"), 3,
		     "the customer, its contact and the contact's conflict record");
	cr_assert_eq(raw_int(h, "SELECT count(*) FROM rec WHERE id = 'c2' AND owner IS NULL"), 1);
	cr_assert_eq(raw_int(h, "SELECT count(*) FROM rec WHERE id = 'k1' AND parent = 'c1'"), 1);
	sqlite3_close(h);
}
