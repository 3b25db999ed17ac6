/*
 * test_hostile.c - hostile clients against a real outpostd over TLS on
 * 127.0.0.1: missing, forged, stolen, expired and revoked credentials,
 * disabled accounts, writes outside the sender's rights or scope, forged
 * version vectors and replica ids, replayed pushes, floods of failed
 * logins, and malformed or oversized messages from a logged-in session.
 *
 * Every case checks three things: the server refuses with a clear error
 * (its code and a fragment of its message; a whole message refused ends
 * the session with close status 1008, a change refused alone is reported
 * in the push's ack), nothing the hostile client sent is written (the
 * server database is read after the server stops: the change log's end,
 * the seeded records byte for byte, the records the client tried to
 * make), and an honest user of the real `outpost` CLI, logged in with a
 * password beforehand, syncs while it happens and has all its records on
 * the server afterwards.
 *
 * The world of each test (tests run in parallel forks, each with its own
 * directory and server): users sam and tom (supervisors), ann and bob
 * (managers in sam's team), carl (manager in tom's team), vera
 * (executive) and dora (manager, the honest user); passwords "pw-NAME"
 * for ann, bob and dora; devices with known tokens for ann, bob, carl and
 * vera, registered straight into the database (a login is made only where
 * it is the point); and three records written by the server: ann's
 * customer, carl's customer and a contact of carl's customer.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include <criterion/criterion.h>
#include <sqlite3.h>
#include <msgpack.h>

#include "auth.h"
#include "db.h"
#include "harness.h"
#include "hlc.h"
#include "rawcl.h"
#include "srv.h"
#include "users.h"
#include "wire.h"

#define REP_ANN  "a0000000000000000000000000000001"
#define REP_BOB  "b0000000000000000000000000000002"
#define REP_CARL "c0000000000000000000000000000003"
#define REP_VERA "e0000000000000000000000000000004"
#define REP_NEW  "d0000000000000000000000000000005" /* registered by no one */
#define REP_ODD  "f0000000000000000000000000000006" /* no device yet */
#define REP_OLD  "c0000000000000000000000000000007" /* no device yet */
#define REP_SAM  "50000000000000000000000000000008"
#define HOUR_MS (3600 * 1000)
#define NHONEST 3  /* customers the honest user adds */

enum seed { ANN_CUST, CARL_CUST, CARL_CONTACT, NSEED };

struct fixture {
	struct h_world w;
	char tok_ann[H_TOKEN_HEX + 1], tok_bob[H_TOKEN_HEX + 1];
	char tok_carl[H_TOKEN_HEX + 1], tok_vera[H_TOKEN_HEX + 1];
	char server[RID_LEN + 1];         /* the server's replica id */
	char seed[NSEED][RID_LEN + 1];
	uint64_t seed_ctr[NSEED];         /* the server's counter in each seed's vv */
	struct buf seed_state[NSEED];     /* each seed as stored */
	uint64_t seq0;                    /* the change log's end after seeding */
	char home[320];                   /* the honest user's replica */
	char honest[NHONEST][RID_LEN + 1];
	pid_t sync_pid;                   /* its background sync, or 0 */
	struct rcl c;                     /* the hostile client's first connection */
	bool c_open;
};

/* Criterion forks every test, so this belongs to one test only. */
static struct fixture F;

/* ---- building blocks ------------------------------------------------------ */

static const struct tbl_desc *table(const char *name)
{
	const struct tbl_desc *t = tbl_find(name, strlen(name));

	cr_assert_not_null(t, "no table %s", name);
	return t;
}

static void set_text(struct rec *r, const char *field, const char *text)
{
	int i = tbl_field(r->t, field, strlen(field));

	cr_assert_geq(i, 0, "%s has no field %s", r->t->name, field);
	cr_assert_eq(val_set_text(&r->f[i].v, text, strlen(text)), OP_OK);
	r->f[i].set = true;
}

/* Writes a record as the server does (demo data): field, text pairs. */
static void seed_rec(struct srv *s, const char *tbl, char id[RID_LEN + 1], ...)
{
	const char *field;
	struct rec *r;
	va_list ap;

	cr_assert_eq(rid_new(id), OP_OK);
	r = rec_new(table(tbl), id);
	cr_assert_not_null(r);
	va_start(ap, id);
	while ((field = va_arg(ap, const char *)))
		set_text(r, field, va_arg(ap, const char *));
	va_end(ap);
	cr_assert_eq(srv_write(s, r), OP_OK);
	rec_free(r);
}

/* The seeds, written before the server starts, and what they look like. */
static void seed_all(void)
{
	char err[OP_ERRLEN];
	struct rec *r;
	struct srv *s;
	int i;

	cr_assert_eq(srv_open(F.w.srv.db, &s, err), OP_OK, "%s", err);
	cr_assert_eq(srv_begin(s), OP_OK);
	seed_rec(s, "customer", F.seed[ANN_CUST], "name", "Ann Foods", "owner", "ann", NULL);
	seed_rec(s, "customer", F.seed[CARL_CUST], "name", "Carl Metals", "owner", "carl",
		 "email", "sales@carl.example", NULL);
	seed_rec(s, "contact", F.seed[CARL_CONTACT], "customer", F.seed[CARL_CUST],
		 "name", "Cora Carlsen", NULL);
	cr_assert_eq(db_commit(srv_db(s)), OP_OK);
	memcpy(F.server, srv_replica(s), RID_LEN + 1);
	for (i = 0; i < NSEED; i++) {
		const char *tbl = i == CARL_CONTACT ? "contact" : "customer";

		cr_assert_eq(db_rec_load(srv_db(s), table(tbl), F.seed[i], &r), OP_OK);
		F.seed_ctr[i] = vv_get(r->vv, F.server);
		cr_assert_eq(wire_enc_state(&F.seed_state[i], r), OP_OK);
		rec_free(r);
	}
	cr_assert_eq(db_max_seq(srv_db(s), &F.seq0), OP_OK);
	srv_close(s);
}

static void add_people(void)
{
	const char *db = F.w.srv.db;

	cr_assert_eq(h_user_add(db, "sam", "supervisor", NULL, NULL), 0);
	cr_assert_eq(h_user_add(db, "tom", "supervisor", NULL, NULL), 0);
	cr_assert_eq(h_user_add(db, "ann", "manager", "sam", "pw-ann"), 0);
	cr_assert_eq(h_user_add(db, "bob", "manager", "sam", "pw-bob"), 0);
	cr_assert_eq(h_user_add(db, "carl", "manager", "tom", NULL), 0);
	cr_assert_eq(h_user_add(db, "vera", "executive", NULL, NULL), 0);
	cr_assert_eq(h_user_add(db, "dora", "manager", "tom", "pw-dora"), 0);
	cr_assert_eq(h_device_add(db, "ann", REP_ANN, HOUR_MS, F.tok_ann), 0);
	cr_assert_eq(h_device_add(db, "bob", REP_BOB, HOUR_MS, F.tok_bob), 0);
	cr_assert_eq(h_device_add(db, "carl", REP_CARL, HOUR_MS, F.tok_carl), 0);
	cr_assert_eq(h_device_add(db, "vera", REP_VERA, HOUR_MS, F.tok_vera), 0);
}

/* The honest user: a real client, logged in, with records not yet
 * synced; its sync starts now and runs beside the hostile client. */
static void honest_begin(void)
{
	char out[4096], name[32];
	int i;

	snprintf(F.home, sizeof(F.home), "%s/dora", F.w.dir);
	cr_assert_eq(h_outpost(F.home, out, sizeof(out), "init", "--server", F.w.srv.url,
			       "--ca", F.w.srv.cert, NULL), 0, "init failed: %s", out);
	cr_assert_eq(h_login(F.home, "dora", "pw-dora"), 0, "dora cannot log in (see %s)",
		     F.w.srv.log);
	for (i = 0; i < NHONEST - 1; i++) {
		snprintf(name, sizeof(name), "Honest %d", i + 1);
		cr_assert_eq(h_outpost(F.home, out, sizeof(out), "customer", "add", "--name",
				       name, NULL), 0, "customer add failed: %s", out);
		cr_assert_geq(strlen(out), RID_LEN, "customer add printed \"%s\"", out);
		memcpy(F.honest[i], out, RID_LEN);
		F.honest[i][RID_LEN] = '\0';
	}
	F.sync_pid = h_outpost_start(F.home, "sync", NULL);
	cr_assert_gt(F.sync_pid, 0);
}

/* Starts the world: people, seeds, the server (with extra options args),
 * the honest user, and a first connection for the hostile client. */
static void fx_start(const char *const *args)
{
	cr_assert_eq(h_world_init(&F.w), 0);
	add_people();
	seed_all();
	cr_assert_eq(h_world_serve(&F.w, args), 0, "outpostd did not start");
	honest_begin();
	rcl_open(&F.c, F.w.srv.port, F.w.srv.cert);
	F.c_open = true;
}

/* Suite .fini: runs after every test, passed or failed. */
static void fx_end(void)
{
	int i;

	if (F.c_open)
		rcl_close(&F.c);
	if (F.sync_pid > 0) { /* a failed test left it running */
		kill(F.sync_pid, SIGKILL);
		h_outpost_wait(F.sync_pid);
	}
	for (i = 0; i < NSEED; i++)
		buf_release(&F.seed_state[i]);
	h_world_end(&F.w);
}

TestSuite(hostile, .fini = fx_end, .timeout = 90);

/* ---- the server database, read after the server stops (or where said) ---- */

static struct db *sdb_open(void)
{
	char err[OP_ERRLEN];
	struct db *db;

	cr_assert_eq(db_open(F.w.srv.db, SCHEMA_SERVER, &db, err), OP_OK, "%s", err);
	return db;
}

static uint64_t max_seq(struct db *db)
{
	uint64_t seq = 0;

	cr_assert_eq(db_max_seq(db, &seq), OP_OK);
	return seq;
}

struct find_seq {
	const char *id;
	uint64_t seq;
};

static int match_seq(void *ctx, const void *blob, size_t n, uint64_t pos)
{
	struct find_seq *f = ctx;
	struct wire_err e;
	struct rec *r;

	cr_assert_eq(wire_decode_state(blob, n, true, &r, &e), OP_OK, "%s", e.msg);
	if (!strcmp(r->id, f->id))
		f->seq = pos;
	rec_free(r);
	return 0;
}

/* Where record id stands in the change log (0: nowhere), read from the
 * running server's database. */
static uint64_t live_rec_seq(const char *id)
{
	struct find_seq f = { id, 0 };
	struct db *db = sdb_open();

	cr_assert_eq(db_rec_since(db, 0, 100000, match_seq, &f), OP_OK);
	db_close(db);
	return f.seq;
}

static bool rec_exists(struct db *db, const char *tbl, const char *id)
{
	struct rec *r = NULL;
	int rc = db_rec_load(db, table(tbl), id, &r);

	cr_assert(rc == OP_OK || rc == OP_ENOTFOUND, "loading %s %s: %d", tbl, id, rc);
	rec_free(r);
	return rc == OP_OK;
}

/* Field of a record as text ("" when unset). */
static void rec_text(struct db *db, const char *tbl, const char *id, const char *field,
		     char *out, size_t cap)
{
	struct rec *r = NULL;
	int i;

	cr_assert_eq(db_rec_load(db, table(tbl), id, &r), OP_OK, "%s %s is not stored", tbl, id);
	i = tbl_field(r->t, field, strlen(field));
	cr_assert_geq(i, 0);
	if (r->f[i].set && r->f[i].v.t == VAL_TEXT)
		snprintf(out, cap, "%.*s", (int)r->f[i].v.n, r->f[i].v.s);
	else
		snprintf(out, cap, "%s", "");
	rec_free(r);
}

static void expect_text(struct db *db, const char *tbl, const char *id, const char *field,
			const char *want)
{
	char got[512];

	rec_text(db, tbl, id, field, got, sizeof(got));
	cr_assert_str_eq(got, want, "%s %s: %s is \"%s\", not \"%s\"", tbl, id, field, got,
			 want);
}

/* Seed i is stored exactly as it was seeded. */
static void expect_seed_unchanged(struct db *db, int i)
{
	const char *tbl = i == CARL_CONTACT ? "contact" : "customer";
	struct buf b = BUF_INIT;
	struct rec *r = NULL;

	cr_assert_eq(db_rec_load(db, table(tbl), F.seed[i], &r), OP_OK);
	cr_assert_eq(wire_enc_state(&b, r), OP_OK);
	cr_assert(b.len == F.seed_state[i].len && !memcmp(b.p, F.seed_state[i].p, b.len),
		  "seeded %s %s was changed", tbl, F.seed[i]);
	buf_release(&b);
	rec_free(r);
}

struct audit_count {
	const char *action;
	int n;
};

static int count_action(void *ctx, const struct audit *a)
{
	struct audit_count *c = ctx;

	c->n += !strcmp(a->action, c->action);
	return 0;
}

/* Audit rows of user (NULL: anyone) with action. */
static int audit_count(struct db *db, const char *user, const char *action)
{
	struct audit_count c = { action, 0 };

	cr_assert_eq(users_audit_each(db, user, NULL, 100000, count_action, &c), OP_OK);
	return c.n;
}

/* Waits for the honest user's background sync, which must succeed. */
static void honest_settle(void)
{
	int st;

	if (F.sync_pid <= 0)
		return;
	st = h_outpost_wait(F.sync_pid);
	F.sync_pid = 0;
	cr_assert_eq(st, 0, "the honest client's sync failed meanwhile (see %s)", F.w.srv.log);
}

/*
 * Ends the test: the honest user's background sync must have succeeded;
 * it adds one more customer and syncs again; the server stops cleanly.
 * Then the server holds the honest user's records, the seeds not in
 * `changed` (bit i: seed i) are untouched, and the change log grew by the
 * honest records plus extra (what the test's changes legitimately
 * wrote). Returns the stopped server's database for further checks
 * (db_close() it).
 */
static struct db *fx_finish(uint64_t extra, unsigned changed)
{
	char out[4096], name[32];
	struct db *db;
	int i, st;

	if (F.c_open)
		rcl_close(&F.c);
	F.c_open = false;
	honest_settle();
	cr_assert_eq(h_outpost(F.home, out, sizeof(out), "customer", "add", "--name",
			       "Honest 3", NULL), 0, "customer add failed: %s", out);
	cr_assert_geq(strlen(out), RID_LEN, "customer add printed \"%s\"", out);
	memcpy(F.honest[NHONEST - 1], out, RID_LEN);
	F.honest[NHONEST - 1][RID_LEN] = '\0';
	cr_assert_eq(h_outpost(F.home, out, sizeof(out), "sync", NULL), 0,
		     "the honest client's sync failed afterwards (see %s): %s", F.w.srv.log, out);
	st = h_world_stop(&F.w);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		  "outpostd did not stop cleanly (status %d)", st);
	db = sdb_open();
	for (i = 0; i < NHONEST; i++) {
		snprintf(name, sizeof(name), "Honest %d", i + 1);
		expect_text(db, "customer", F.honest[i], "name", name);
		expect_text(db, "customer", F.honest[i], "owner", "dora");
	}
	for (i = 0; i < NSEED; i++)
		if (!(changed & 1u << i))
			expect_seed_unchanged(db, i);
	cr_assert_eq(max_seq(db), F.seq0 + NHONEST + extra,
		     "the change log ends at %llu, not %llu", (unsigned long long)max_seq(db),
		     (unsigned long long)(F.seq0 + NHONEST + extra));
	return db;
}

/* fx_finish() when there is nothing more to check. */
static void fx_finish_close(uint64_t extra, unsigned changed)
{
	db_close(fx_finish(extra, changed));
}

/* ---- messages ------------------------------------------------------------- */

/* Starts a hello from ann's replica of 5 + extra pairs: all but "auth". */
static void pk_hello_start(msgpack_packer *pk, struct buf *b, uint32_t extra)
{
	rcl_packer(pk, b);
	msgpack_pack_map(pk, 5 + extra);
	rcl_pack_str(pk, "t");
	rcl_pack_str(pk, "hello");
	rcl_pack_str(pk, "proto");
	msgpack_pack_uint64(pk, WIRE_PROTO);
	rcl_pack_str(pk, "schema");
	msgpack_pack_uint64(pk, SCHEMA_VERSION);
	rcl_pack_str(pk, "replica");
	rcl_pack_str(pk, REP_ANN);
	rcl_pack_str(pk, "agent");
	rcl_pack_str(pk, RCL_AGENT);
}

/* A change as a hostile client makes it. */
struct change {
	const char *tbl;
	const char *id;          /* the record, or NULL for a new one */
	uint64_t ctr;            /* the sender's counter */
	bool del;
	bool saw;                /* the sender saw the seed it changes as seeded, */
	uint64_t forge;          /* plus this many server writes that never were */
	const char *seen;        /* another replica whose writes the change claims */
	uint64_t seen_ctr;       /* to have seen, up to this counter */
	uint64_t ahead_ms;       /* stamped this far in the future */
	const char *kv[12];      /* field, text, ..., NULL */
	char *out_id;            /* the new record's id (RID_LEN + 1), or NULL */
};

/* Appends ch, made by origin now, to b. */
static void add_change(struct buf *b, const char *origin, const struct change *ch)
{
	int fields[TBL_MAX_FIELDS], nf = 0, i;
	char id[RID_LEN + 1];
	struct rec_dot d;
	struct rec *r;

	if (ch->id)
		snprintf(id, sizeof(id), "%s", ch->id);
	else
		cr_assert_eq(rid_new(id), OP_OK);
	if (ch->out_id)
		memcpy(ch->out_id, id, sizeof(id));
	r = rec_new(table(ch->tbl), id);
	cr_assert_not_null(r);
	cr_assert_eq(vv_raise(r->vv, origin, ch->ctr), OP_OK);
	for (i = 0; ch->saw && i < NSEED && strcmp(id, F.seed[i]); i++)
		;
	cr_assert(!ch->saw || i < NSEED, "change %llu is not of a seed",
		  (unsigned long long)ch->ctr);
	if (ch->saw)
		cr_assert_eq(vv_raise(r->vv, F.server, F.seed_ctr[i] + ch->forge), OP_OK);
	if (ch->seen)
		cr_assert_eq(vv_raise(r->vv, ch->seen, ch->seen_ctr), OP_OK);
	for (i = 0; ch->kv[i]; i += 2) {
		set_text(r, ch->kv[i], ch->kv[i + 1]);
		fields[nf++] = tbl_field(r->t, ch->kv[i], strlen(ch->kv[i]));
	}
	memcpy(d.rep, origin, VV_REPLEN + 1);
	d.ctr = ch->ctr;
	d.hlc = (hlc_wall_ms() + ch->ahead_ms) << HLC_LOGICAL_BITS;
	cr_assert_eq(wire_enc_change(b, r, fields, nf, &d, ch->del), OP_OK);
	rec_free(r);
}

/* A push number n of changes ch[0..count) from origin into b (reset). */
static void make_push(struct buf *b, const char *origin, uint64_t n,
		      const struct change *ch, size_t count)
{
	size_t i;

	buf_reset(b);
	cr_assert_eq(wire_enc_push_head(b, n, count), OP_OK);
	for (i = 0; i < count; i++)
		add_change(b, origin, &ch[i]);
}

/* Pushes and expects an ack with applied changes and nrejected refusals
 * (*m: release it). */
static void push_expect_ack(struct rcl *c, const char *origin, const struct change *ch,
			    size_t count, uint64_t applied, size_t nrejected,
			    struct wire_msg *m)
{
	struct buf b = BUF_INIT;

	make_push(&b, origin, 1, ch, count);
	rcl_request(c, &b, m);
	buf_release(&b);
	cr_assert_eq(m->type, WIRE_ACK, "the push got type %d: %llu %s", m->type,
		     (unsigned long long)m->code, m->msg);
	cr_assert_eq(m->applied, applied, "%llu applied, not %llu",
		     (unsigned long long)m->applied, (unsigned long long)applied);
	cr_assert_eq(m->nrejected, nrejected, "%zu refused, not %zu", m->nrejected, nrejected);
	cr_assert_eq(m->upto, ch[count - 1].ctr);
	cr_assert_not(rcl_gone(c), "the server ended the session over refused changes");
}

/* Refusal i of ack m is of change ctr with code and a message holding
 * fragment; with_state says whether the record's state comes along. */
static void expect_reject(const struct wire_msg *m, size_t i, uint64_t ctr, int code,
			  const char *fragment, bool with_state)
{
	const struct wire_reject *r;

	cr_assert_lt(i, m->nrejected);
	r = &m->rejected[i];
	cr_assert_eq(r->ctr, ctr, "refusal %zu is of change %llu, not %llu", i,
		     (unsigned long long)r->ctr, (unsigned long long)ctr);
	cr_assert_eq(r->code, (uint64_t)code, "change %llu refused with %llu (%s), not %d",
		     (unsigned long long)ctr, (unsigned long long)r->code, r->msg, code);
	cr_assert(strstr(r->msg, fragment), "change %llu: \"%s\" does not say \"%s\"",
		  (unsigned long long)ctr, r->msg, fragment);
	if (with_state)
		cr_assert_not_null(r->state, "change %llu: no state of the record",
				   (unsigned long long)ctr);
	else
		cr_assert_null(r->state, "change %llu: the refusal shows a record",
			       (unsigned long long)ctr);
}

/* Sends a hello from replica with token (NULL: nil). */
static void send_hello(struct rcl *c, const char *replica, const char *token)
{
	struct buf b = BUF_INIT;

	cr_assert_eq(wire_enc_hello(&b, replica, RCL_AGENT, token), OP_OK);
	rcl_send(c, &b);
	buf_release(&b);
}

/* A hello refused with code and fragment, on a new connection. */
static void hello_refused(const char *replica, const char *token, int code,
			  const char *fragment)
{
	struct rcl c;

	rcl_open_beside(&c, &F.c);
	send_hello(&c, replica, token);
	rcl_expect_error(&c, code, fragment);
	rcl_close(&c);
}

/* A hello welcomed as user's, on a new connection. */
static void hello_welcomed(const char *replica, const char *token, const char *user)
{
	struct wire_msg m;
	struct rcl c;

	rcl_open_beside(&c, &F.c);
	rcl_hello(&c, replica, token, &m);
	cr_assert_str_eq(m.user, user, "%s's token welcomed %s", user, m.user);
	wire_msg_release(&m);
	rcl_close(&c);
}

/* A login on c; the reply (a token or an error) into *m (release it). */
static void login(struct rcl *c, const char *user, const char *pw, const char *replica,
		  struct wire_msg *m)
{
	struct buf b = BUF_INIT;

	cr_assert_eq(wire_enc_login(&b, user, pw, replica, RCL_AGENT), OP_OK);
	rcl_request(c, &b, m);
	buf_release(&b);
}

/* A login on a new connection that must be refused with fragment. */
static void login_refused(const char *user, const char *pw, const char *replica,
			  const char *fragment)
{
	struct buf b = BUF_INIT;
	struct rcl c;

	rcl_open_beside(&c, &F.c);
	cr_assert_eq(wire_enc_login(&b, user, pw, replica, RCL_AGENT), OP_OK);
	rcl_send(&c, &b);
	buf_release(&b);
	rcl_expect_error(&c, WERR_AUTH, fragment);
	rcl_close(&c);
}

/* Sends raw bytes on a new connection (after a hello as ann when
 * hello_first) and expects the session to end with code. */
static void raw_refused(const void *p, size_t len, bool hello_first, int code)
{
	struct rcl c;

	rcl_open_beside(&c, &F.c);
	if (hello_first)
		rcl_hello(&c, REP_ANN, F.tok_ann, NULL);
	rcl_queue_msg(&c, p, len, 0, true);
	rcl_expect_error(&c, code, NULL);
	rcl_close(&c);
}

static void raw_refused_buf(struct buf *b, bool hello_first, int code)
{
	raw_refused(b->p, b->len, hello_first, code);
	buf_release(b);
}

/* A customer of ann's, new, good. */
#define ANN_NEW(ctr_, name_, out_) \
	{ .tbl = "customer", .ctr = (ctr_), .kv = { "name", (name_), "owner", "ann", NULL }, \
	  .out_id = (out_) }

/* ---- credentials at hello --------------------------------------------------- */

/* No token: nil, or no "auth" key at all. */
Test(hostile, hello_without_token)
{
	struct buf b = BUF_INIT;
	msgpack_packer pk;

	fx_start(NULL);
	send_hello(&F.c, REP_ANN, NULL);
	rcl_expect_error(&F.c, WERR_AUTH, "not logged in");

	pk_hello_start(&pk, &b, 0);
	raw_refused(b.p, b.len, false, WERR_AUTH);
	buf_release(&b);
	fx_finish_close(0, 0);
}

/* A random token, and ann's with its last digit changed. */
Test(hostile, hello_with_wrong_token)
{
	unsigned char raw[AUTH_TOKEN_LEN];
	char tok[H_TOKEN_HEX + 1];
	size_t i;

	fx_start(NULL);
	cr_assert_eq(auth_token_new(raw), OP_OK);
	for (i = 0; i < sizeof(raw); i++)
		snprintf(tok + 2 * i, 3, "%02x", raw[i]);
	send_hello(&F.c, REP_ANN, tok);
	rcl_expect_error(&F.c, WERR_AUTH, "unknown");

	snprintf(tok, sizeof(tok), "%s", F.tok_ann);
	tok[H_TOKEN_HEX - 1] = tok[H_TOKEN_HEX - 1] == '0' ? '1' : '0';
	hello_refused(REP_ANN, tok, WERR_AUTH, "unknown");
	fx_finish_close(0, 0);
}

/* Tokens of the wrong shape fail decoding (9) or the check (11); one of
 * the wrong type fails decoding (2). */
Test(hostile, hello_with_malformed_token)
{
	char shapes[6][H_TOKEN_HEX + 8];
	struct buf b = BUF_INIT;
	msgpack_packer pk;
	int i, j, code;

	fx_start(NULL);
	snprintf(shapes[0], sizeof(shapes[0]), "%.*s", H_TOKEN_HEX - 1, F.tok_ann);
	snprintf(shapes[1], sizeof(shapes[1]), "%s0", F.tok_ann);
	snprintf(shapes[2], sizeof(shapes[2]), "%s", F.tok_ann);
	for (j = 0; shapes[2][j]; j++)
		if (shapes[2][j] >= 'a' && shapes[2][j] <= 'f')
			shapes[2][j] = (char)(shapes[2][j] - 'a' + 'A');
	memset(shapes[3], 'g', H_TOKEN_HEX);
	shapes[3][H_TOKEN_HEX] = '\0';
	snprintf(shapes[4], sizeof(shapes[4]), "%s", "");
	snprintf(shapes[5], sizeof(shapes[5]), "%.*s %s", H_TOKEN_HEX / 2, F.tok_ann,
		 "'; DROP TABLE devices; --");
	cr_assert_neq(strcmp(shapes[2], F.tok_ann), 0, "the token has no letter to raise");
	for (i = 0; i < 6; i++) {
		struct rcl c;

		rcl_open_beside(&c, &F.c);
		send_hello(&c, REP_ANN, shapes[i]);
		code = rcl_expect_error(&c, 0, NULL);
		cr_assert(code == WERR_INVALID || code == WERR_AUTH,
			  "token \"%s\" refused with %d", shapes[i], code);
		rcl_close(&c);
	}

	pk_hello_start(&pk, &b, 1);
	rcl_pack_str(&pk, "auth");
	msgpack_pack_uint64(&pk, 12345);
	raw_refused_buf(&b, false, WERR_TYPE);
	fx_finish_close(0, 0);
}

/*
 * Expiry. A login's token lasts --token-ttl seconds (here 120, not the
 * default 90 days). A device whose token is past its expiry is refused at
 * hello. A token that expires during a session (its expiry moved into the
 * past in the database, so that nothing races a clock) stops the next
 * push, which is not applied, and is refused at hello afterwards.
 */
/* Moves the expiry of replica's token into the past, as time would. */
static void expire_device(const char *db_path, const char *replica)
{
	sqlite3 *h;
	sqlite3_stmt *st;

	cr_assert_eq(sqlite3_open_v2(db_path, &h, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	sqlite3_busy_timeout(h, 5000);
	cr_assert_eq(sqlite3_prepare_v2(h, "UPDATE devices SET expires = 1 WHERE replica = ?1",
					-1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, replica, -1, SQLITE_STATIC);
	cr_assert_eq(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	cr_assert_eq(sqlite3_changes(h), 1);
	sqlite3_close(h);
}

Test(hostile, expired_token)
{
	static const char *const args[] = { "--token-ttl", "120", NULL };
	char tok[H_TOKEN_HEX + 1], early[RID_LEN + 1], late[RID_LEN + 1];
	struct change ch1[] = { ANN_NEW(1, "Ann Early", early) };
	struct change ch2[] = { ANN_NEW(2, "Ann Late", late) };
	struct buf b = BUF_INIT;
	struct wire_msg m;
	uint64_t t0;
	struct rcl c;
	struct db *db;

	fx_start(args);
	t0 = hlc_wall_ms();
	login(&F.c, "ann", "pw-ann", REP_NEW, &m);
	cr_assert_eq(m.type, WIRE_TOKEN, "login got type %d: %s", m.type, m.msg);
	cr_assert(m.expires >= t0 + 120000 && m.expires <= hlc_wall_ms() + 120000,
		  "the token expires %lld ms after the login, not 120 s",
		  (long long)(m.expires - t0));
	wire_msg_release(&m);

	cr_assert_eq(h_device_add(F.w.srv.db, "carl", REP_OLD, -1000, tok), 0);
	hello_refused(REP_OLD, tok, WERR_AUTH, "expired");

	rcl_open_beside(&c, &F.c);
	cr_assert_eq(h_device_add(F.w.srv.db, "ann", REP_ODD, 3600 * 1000, tok), 0);
	rcl_hello(&c, REP_ODD, tok, NULL);
	push_expect_ack(&c, REP_ODD, ch1, 1, 1, 0, &m);
	wire_msg_release(&m);
	expire_device(F.w.srv.db, REP_ODD);
	make_push(&b, REP_ODD, 2, ch2, 1);
	rcl_send(&c, &b);
	buf_release(&b);
	rcl_expect_error(&c, WERR_AUTH, "expired");
	rcl_close(&c);
	hello_refused(REP_ODD, tok, WERR_AUTH, "expired");

	db = fx_finish(1, 0);
	expect_text(db, "customer", early, "name", "Ann Early");
	cr_assert_not(rec_exists(db, "customer", late), "a push with an expired token was applied");
	db_close(db);
}

/*
 * Revoked tokens: one revoked with the administration command is refused
 * at hello; one revoked while its session is open stops the very next
 * push and pull, which are not applied.
 */
Test(hostile, revoked_token)
{
	char out[1024], first[RID_LEN + 1], second[RID_LEN + 1];
	struct change ch1[] = { ANN_NEW(1, "Ann Before", first) };
	struct change ch2[] = { ANN_NEW(2, "Ann After", second) };
	struct buf b = BUF_INIT;
	struct wire_msg m;
	struct rcl c;
	struct db *db;

	fx_start(NULL);
	cr_assert_eq(h_admin(F.w.srv.db, out, sizeof(out), "device", "revoke", REP_BOB, NULL), 0,
		     "device revoke: %s", out);
	send_hello(&F.c, REP_BOB, F.tok_bob);
	rcl_expect_error(&F.c, WERR_AUTH, "revoked");

	rcl_open_beside(&c, &F.c);
	rcl_hello(&c, REP_ANN, F.tok_ann, NULL);
	push_expect_ack(&c, REP_ANN, ch1, 1, 1, 0, &m);
	wire_msg_release(&m);
	cr_assert_eq(h_admin(F.w.srv.db, out, sizeof(out), "device", "revoke", REP_ANN, NULL), 0,
		     "device revoke: %s", out);
	make_push(&b, REP_ANN, 2, ch2, 1);
	rcl_send(&c, &b);
	buf_release(&b);
	rcl_expect_error(&c, WERR_AUTH, "revoked");
	rcl_close(&c);

	/* A pull on a session whose token was revoked since its hello. */
	rcl_open_beside(&c, &F.c);
	rcl_hello(&c, REP_CARL, F.tok_carl, NULL);
	cr_assert_eq(h_admin(F.w.srv.db, out, sizeof(out), "device", "revoke", REP_CARL, NULL),
		     0, "device revoke: %s", out);
	cr_assert_eq(wire_enc_pull(&b, 0, 100), OP_OK);
	rcl_send(&c, &b);
	buf_release(&b);
	rcl_expect_error(&c, WERR_AUTH, "revoked");
	rcl_close(&c);

	db = fx_finish(1, 0);
	expect_text(db, "customer", first, "name", "Ann Before");
	cr_assert_not(rec_exists(db, "customer", second), "a push with a revoked token was applied");
	db_close(db);
}

/* A logout revokes the token: the same token is refused afterwards. */
Test(hostile, token_reused_after_logout)
{
	struct buf b = BUF_INIT;
	struct wire_msg m;

	fx_start(NULL);
	rcl_hello(&F.c, REP_ANN, F.tok_ann, NULL);
	cr_assert_eq(wire_enc_logout(&b), OP_OK);
	rcl_request(&F.c, &b, &m);
	buf_release(&b);
	cr_assert_eq(m.type, WIRE_BYE, "logout got type %d: %s", m.type, m.msg);
	wire_msg_release(&m);
	cr_assert(rcl_run(&F.c, rcl_until_closed, 0));
	hello_refused(REP_ANN, F.tok_ann, WERR_AUTH, "revoked");
	fx_finish_close(0, 0);
}

/* A valid token presented by another replica: another user's device,
 * another device of the same user, a replica nobody registered. */
Test(hostile, token_of_another_device)
{
	fx_start(NULL);
	send_hello(&F.c, REP_BOB, F.tok_ann);
	rcl_expect_error(&F.c, WERR_AUTH, "another device");
	hello_refused(REP_ANN, F.tok_bob, WERR_AUTH, "another device");
	hello_refused(REP_NEW, F.tok_ann, WERR_AUTH, "another device");
	hello_refused(F.server, F.tok_vera, WERR_AUTH, "another device");
	fx_finish_close(0, 0);
}

/* A disabled user is refused at hello, at the next push of a session
 * opened before the account was disabled, and at a login with the right
 * password. */
Test(hostile, disabled_user)
{
	char out[1024], id[RID_LEN + 1];
	struct change ch[] = { ANN_NEW(1, "Ann Disabled", id) };
	struct buf b = BUF_INIT;
	struct rcl c;
	struct db *db;

	fx_start(NULL);
	cr_assert_eq(h_admin(F.w.srv.db, out, sizeof(out), "user", "disable", "carl", NULL), 0,
		     "user disable: %s", out);
	send_hello(&F.c, REP_CARL, F.tok_carl);
	rcl_expect_error(&F.c, WERR_AUTH, "disabled");

	rcl_open_beside(&c, &F.c);
	rcl_hello(&c, REP_ANN, F.tok_ann, NULL);
	cr_assert_eq(h_admin(F.w.srv.db, out, sizeof(out), "user", "disable", "ann", NULL), 0,
		     "user disable: %s", out);
	make_push(&b, REP_ANN, 1, ch, 1);
	rcl_send(&c, &b);
	buf_release(&b);
	rcl_expect_error(&c, WERR_AUTH, "disabled");
	rcl_close(&c);
	login_refused("ann", "pw-ann", REP_ANN, "disabled");

	db = fx_finish(0, 0);
	cr_assert_not(rec_exists(db, "customer", id), "a disabled user's push was applied");
	cr_assert_eq(audit_count(db, "ann", "login"), 0);
	db_close(db);
}

/* ---- rights and scope -------------------------------------------------------- */

/*
 * A manager writes to another team's customer: an edit, a delete, a new
 * contact under it, an edit of its contact. Every change is refused
 * without showing the record; nothing changes; each refusal is audited.
 * A pull does not show the other team's records either.
 */
Test(hostile, manager_outside_scope)
{
	char contact[RID_LEN + 1];
	struct change ch[] = {
		{ .tbl = "customer", .id = F.seed[CARL_CUST], .ctr = 1, .saw = true,
		  .kv = { "name", "Hijacked", NULL } },
		{ .tbl = "customer", .id = F.seed[CARL_CUST], .ctr = 2, .del = true, .saw = true },
		{ .tbl = "contact", .ctr = 3, .out_id = contact,
		  .kv = { "customer", F.seed[CARL_CUST], "name", "Mole", NULL } },
		{ .tbl = "contact", .id = F.seed[CARL_CONTACT], .ctr = 4, .saw = true,
		  .kv = { "email", "ann@evil.example", NULL } },
	};
	struct buf b = BUF_INIT;
	struct wire_msg m;
	struct db *db;
	size_t i;

	fx_start(NULL);
	rcl_hello(&F.c, REP_ANN, F.tok_ann, NULL);
	push_expect_ack(&F.c, REP_ANN, ch, 4, 0, 4, &m);
	expect_reject(&m, 0, 1, WERR_DENIED, "not in your scope", false);
	expect_reject(&m, 1, 2, WERR_DENIED, "not in your scope", false);
	expect_reject(&m, 2, 3, WERR_DENIED, "would belong to carl", false);
	expect_reject(&m, 3, 4, WERR_DENIED, "not in your scope", false);
	wire_msg_release(&m);

	cr_assert_eq(wire_enc_pull(&b, 0, 500), OP_OK);
	rcl_request(&F.c, &b, &m);
	buf_release(&b);
	cr_assert_eq(m.type, WIRE_BATCH, "pull got type %d: %s", m.type, m.msg);
	cr_assert_eq(m.nrecs, 1, "ann pulled %zu records", m.nrecs);
	for (i = 0; i < m.nrecs; i++)
		cr_assert_str_eq(m.recs[i]->id, F.seed[ANN_CUST], "ann pulled %s %s",
				 m.recs[i]->t->name, m.recs[i]->id);
	wire_msg_release(&m);

	db = fx_finish(0, 0);
	cr_assert_not(rec_exists(db, "contact", contact));
	cr_assert_eq(audit_count(db, "ann", "refused"), 4);
	cr_assert_eq(audit_count(db, "ann", "edit") + audit_count(db, "ann", "create") +
		     audit_count(db, "ann", "delete"), 0);
	db_close(db);
}

/*
 * A manager gives records to others: a new customer for bob, one with no
 * owner, a contact under a customer that does not exist (so no owner),
 * her own customer handed to bob (she may not write for bob) or to no
 * one, and her own new contact moved under carl's customer. A supervisor
 * whose role lost the transfer right hands ann's customer to bob, both in
 * his team: refused for the missing right.
 */
Test(hostile, assigning_owners)
{
	char for_bob[RID_LEN + 1], unowned[RID_LEN + 1], orphan[RID_LEN + 1];
	char nowhere[RID_LEN + 1], contact[RID_LEN + 1], tok[H_TOKEN_HEX + 1];
	char out[1024], owner[64];
	struct change ch[] = {
		{ .tbl = "customer", .ctr = 1, .out_id = for_bob,
		  .kv = { "name", "Bob's Gift", "owner", "bob", NULL } },
		{ .tbl = "customer", .ctr = 2, .out_id = unowned,
		  .kv = { "name", "Nobody's", NULL } },
		{ .tbl = "contact", .ctr = 3, .out_id = orphan,
		  .kv = { "customer", nowhere, "name", "Orphan", NULL } },
		{ .tbl = "customer", .id = F.seed[ANN_CUST], .ctr = 4, .saw = true,
		  .kv = { "owner", "bob", NULL } },
		{ .tbl = "customer", .id = F.seed[ANN_CUST], .ctr = 5, .saw = true,
		  .kv = { "owner", "", NULL } },
		{ .tbl = "contact", .ctr = 6, .out_id = contact,
		  .kv = { "customer", F.seed[ANN_CUST], "name", "Ann's Contact", NULL } },
		{ .tbl = "contact", .id = contact, .ctr = 7, .seen = REP_ANN, .seen_ctr = 6,
		  .kv = { "customer", F.seed[CARL_CUST], NULL } },
	};
	struct rcl c;
	struct wire_msg m;
	struct db *db;
	int i;

	cr_assert_eq(rid_new(nowhere), OP_OK);
	fx_start(NULL);
	rcl_hello(&F.c, REP_ANN, F.tok_ann, NULL);
	push_expect_ack(&F.c, REP_ANN, ch, 7, 1, 6, &m);
	expect_reject(&m, 0, 1, WERR_DENIED, "would belong to bob", false);
	expect_reject(&m, 1, 2, WERR_DENIED, "no owner", false);
	expect_reject(&m, 2, 3, WERR_DENIED, "no owner", false);
	expect_reject(&m, 3, 4, WERR_DENIED, "would belong to bob", true);
	expect_reject(&m, 4, 5, WERR_DENIED, "no owner", true);
	expect_reject(&m, 5, 7, WERR_DENIED, "would belong to carl", true);
	i = tbl_field(m.rejected[3].state->t, "owner", 5);
	snprintf(owner, sizeof(owner), "%.*s", (int)m.rejected[3].state->f[i].v.n,
		 m.rejected[3].state->f[i].v.s);
	cr_assert_str_eq(owner, "ann", "the refusal shows the owner as %s", owner);
	wire_msg_release(&m);

	cr_assert_eq(h_device_add(F.w.srv.db, "sam", REP_SAM, HOUR_MS, tok), 0);
	cr_assert_eq(h_admin(F.w.srv.db, out, sizeof(out), "role", "withdraw", "supervisor",
			     "transfer", NULL), 0, "role withdraw: %s", out);
	rcl_open_beside(&c, &F.c);
	rcl_hello(&c, REP_SAM, tok, NULL);
	push_expect_ack(&c, REP_SAM, &ch[3], 1, 0, 1, &m);
	expect_reject(&m, 0, 4, WERR_DENIED, "transfer right", true);
	wire_msg_release(&m);
	rcl_close(&c);

	db = fx_finish(1, 0);
	cr_assert_not(rec_exists(db, "customer", for_bob));
	cr_assert_not(rec_exists(db, "customer", unowned));
	cr_assert_not(rec_exists(db, "contact", orphan));
	expect_text(db, "contact", contact, "customer", F.seed[ANN_CUST]);
	cr_assert_eq(audit_count(db, "ann", "refused"), 6);
	cr_assert_eq(audit_count(db, "sam", "refused"), 1);
	db_close(db);
}

/* An executive reads everything and writes nothing: a create, an edit,
 * a delete, a new contact, a delete of a contact. */
Test(hostile, executive_writes_nothing)
{
	char own[RID_LEN + 1], contact[RID_LEN + 1];
	struct change ch[] = {
		{ .tbl = "customer", .ctr = 1, .out_id = own,
		  .kv = { "name", "Vera's", "owner", "vera", NULL } },
		{ .tbl = "customer", .id = F.seed[ANN_CUST], .ctr = 2, .saw = true,
		  .kv = { "name", "Vera Was Here", NULL } },
		{ .tbl = "customer", .id = F.seed[CARL_CUST], .ctr = 3, .del = true, .saw = true },
		{ .tbl = "contact", .ctr = 4, .out_id = contact,
		  .kv = { "customer", F.seed[ANN_CUST], "name", "Plant", NULL } },
		{ .tbl = "contact", .id = F.seed[CARL_CONTACT], .ctr = 5, .del = true, .saw = true },
	};
	struct wire_msg m;
	struct db *db;
	size_t i;

	fx_start(NULL);
	rcl_hello(&F.c, REP_VERA, F.tok_vera, NULL);
	push_expect_ack(&F.c, REP_VERA, ch, 5, 0, 5, &m);
	expect_reject(&m, 0, 1, WERR_DENIED, "may not change records", false);
	expect_reject(&m, 1, 2, WERR_DENIED, "may read but not change", true);
	expect_reject(&m, 2, 3, WERR_DENIED, "may read but not change", true);
	expect_reject(&m, 3, 4, WERR_DENIED, "may not change records", false);
	expect_reject(&m, 4, 5, WERR_DENIED, "may read but not change", true);
	for (i = 0; i < m.nrejected; i++)
		cr_assert_eq(m.rejected[i].code, WERR_DENIED);
	wire_msg_release(&m);

	db = fx_finish(0, 0);
	cr_assert_not(rec_exists(db, "customer", own));
	cr_assert_not(rec_exists(db, "contact", contact));
	cr_assert_eq(audit_count(db, "vera", "refused"), 5);
	db_close(db);
}

/*
 * One push mixing good and bad changes: the good ones are applied, each
 * bad one is refused alone with its own reason and counter, including
 * invalid values (code 9) among changes the user may make.
 */
Test(hostile, mixed_push)
{
	char good1[RID_LEN + 1], mail[RID_LEN + 1], contact[RID_LEN + 1], bobs[RID_LEN + 1];
	char bday[RID_LEN + 1];
	struct change ch[7];
	struct wire_msg m;
	struct db *db;

	fx_start(NULL);
	ch[0] = (struct change)ANN_NEW(1, "Ann Fresh", good1);
	ch[1] = (struct change){ .tbl = "customer", .id = F.seed[CARL_CUST], .ctr = 2,
				 .saw = true, .kv = { "name", "Hijacked", NULL } };
	ch[2] = (struct change){ .tbl = "customer", .ctr = 3, .out_id = mail,
				 .kv = { "name", "Ann Mail", "owner", "ann", "email",
					 "not-an-email", NULL } };
	ch[3] = (struct change){ .tbl = "contact", .ctr = 4, .out_id = contact,
				 .kv = { "customer", F.seed[ANN_CUST], "name", "Anna Contact",
					 NULL } };
	ch[4] = (struct change){ .tbl = "customer", .ctr = 5, .out_id = bobs,
				 .kv = { "name", "For Bob", "owner", "bob", NULL } };
	ch[5] = (struct change){ .tbl = "customer", .id = F.seed[ANN_CUST], .ctr = 6,
				 .saw = true, .kv = { "phone", "+1 555 0100", NULL } };
	ch[6] = (struct change){ .tbl = "contact", .ctr = 7, .out_id = bday,
				 .kv = { "customer", F.seed[ANN_CUST], "name", "Feb Thirty",
					 "birthday", "2023-02-30", NULL } };
	rcl_hello(&F.c, REP_ANN, F.tok_ann, NULL);
	push_expect_ack(&F.c, REP_ANN, ch, 7, 3, 4, &m);
	expect_reject(&m, 0, 2, WERR_DENIED, "not in your scope", false);
	expect_reject(&m, 1, 3, WERR_INVALID, "email", false);
	expect_reject(&m, 2, 5, WERR_DENIED, "would belong to bob", false);
	expect_reject(&m, 3, 7, WERR_INVALID, "birthday", false);
	wire_msg_release(&m);

	db = fx_finish(3, 1u << ANN_CUST);
	expect_text(db, "customer", good1, "name", "Ann Fresh");
	expect_text(db, "contact", contact, "name", "Anna Contact");
	expect_text(db, "customer", F.seed[ANN_CUST], "phone", "+1 555 0100");
	expect_text(db, "customer", F.seed[ANN_CUST], "name", "Ann Foods");
	cr_assert_not(rec_exists(db, "customer", mail));
	cr_assert_not(rec_exists(db, "customer", bobs));
	cr_assert_not(rec_exists(db, "contact", bday));
	cr_assert_eq(audit_count(db, "ann", "refused"), 4);
	cr_assert_eq(audit_count(db, "ann", "create"), 2);
	cr_assert_eq(audit_count(db, "ann", "edit"), 1);
	db_close(db);
}

/*
 * Version vectors claiming writes the server never had: the server's own
 * counter raised, another device's counter, a replica nobody knows, on
 * an edit, a create and a delete. All refused as forged; the same edit
 * with an honest vector is applied. A clock two years ahead (which would
 * win every tie) is refused too.
 */
Test(hostile, forged_version_vectors)
{
	char fresh[RID_LEN + 1], future[RID_LEN + 1];
	struct change ch[6];
	struct wire_msg m;
	struct db *db;
	size_t i;

	fx_start(NULL);
	ch[0] = (struct change){ .tbl = "customer", .id = F.seed[ANN_CUST], .ctr = 1,
				 .saw = true, .forge = 5, .kv = { "name", "Forged 1", NULL } };
	ch[1] = (struct change){ .tbl = "customer", .ctr = 2, .out_id = fresh,
				 .seen = REP_BOB, .seen_ctr = 3,
				 .kv = { "name", "Forged 2", "owner", "ann", NULL } };
	ch[2] = (struct change){ .tbl = "customer", .id = F.seed[ANN_CUST], .ctr = 3,
				 .seen = REP_ODD, .seen_ctr = 1,
				 .kv = { "name", "Forged 3", NULL } };
	ch[3] = (struct change){ .tbl = "customer", .id = F.seed[ANN_CUST], .ctr = 4,
				 .del = true, .saw = true, .forge = 100 };
	ch[4] = (struct change){ .tbl = "customer", .id = F.seed[ANN_CUST], .ctr = 5,
				 .saw = true, .kv = { "name", "Ann Foods Ltd", NULL } };
	ch[5] = (struct change)ANN_NEW(6, "Ann Tomorrow", future);
	ch[5].ahead_ms = 2 * 366ull * 24 * 3600 * 1000;
	rcl_hello(&F.c, REP_ANN, F.tok_ann, NULL);
	push_expect_ack(&F.c, REP_ANN, ch, 6, 1, 5, &m);
	for (i = 0; i < 4; i++)
		expect_reject(&m, i, i + 1, WERR_INVALID, "forged version vector", i != 1);
	expect_reject(&m, 4, 6, WERR_INVALID, "future", false);
	wire_msg_release(&m);

	db = fx_finish(1, 1u << ANN_CUST);
	expect_text(db, "customer", F.seed[ANN_CUST], "name", "Ann Foods Ltd");
	cr_assert_not(rec_exists(db, "customer", fresh));
	cr_assert_not(rec_exists(db, "customer", future));
	db_close(db);
}

/*
 * Replica ids that belong to someone else: ann logs in on a new replica;
 * her token presented as bob's device is refused; bob, with his right
 * password, cannot take over ann's replicas; bob's own device keeps
 * working.
 */
Test(hostile, forged_replica_id)
{
	char tok[H_TOKEN_HEX + 1];
	struct wire_msg m;
	struct device d;
	struct db *db;

	fx_start(NULL);
	login(&F.c, "ann", "pw-ann", REP_NEW, &m);
	cr_assert_eq(m.type, WIRE_TOKEN, "ann's login got type %d: %s", m.type, m.msg);
	memcpy(tok, m.token, sizeof(tok));
	wire_msg_release(&m);
	hello_refused(REP_BOB, tok, WERR_AUTH, "another device");
	login_refused("bob", "pw-bob", REP_NEW, "registered to another user");
	login_refused("bob", "pw-bob", REP_ANN, "registered to another user");
	hello_welcomed(REP_NEW, tok, "ann");
	hello_refused(REP_NEW, F.tok_bob, WERR_AUTH, "another device");
	hello_welcomed(REP_BOB, F.tok_bob, "bob");

	db = fx_finish(0, 0);
	cr_assert_eq(users_device_get(db, REP_NEW, &d), OP_OK);
	cr_assert_str_eq(d.user, "ann");
	cr_assert_eq(users_device_get(db, REP_ANN, &d), OP_OK);
	cr_assert_str_eq(d.user, "ann");
	cr_assert_eq(users_device_get(db, REP_BOB, &d), OP_OK);
	cr_assert_str_eq(d.user, "bob");
	cr_assert_eq(audit_count(db, "bob", "login-failed"), 2);
	db_close(db);
}

/*
 * A client may not register the server's own replica id (sent in every
 * welcome) as its device: its changes would carry dots of the server's
 * replica, claiming server counters not issued yet, so later server
 * writes (conflict records, transfers, demo data) with those counters
 * would look already seen to every replica. The login is refused.
 */
Test(hostile, server_replica_id_as_device)
{
	struct change ch[] = {
		{ .tbl = "customer", .id = F.seed[ANN_CUST], .ctr = 1000, .saw = true,
		  .kv = { "name", "Ann Foods (by the server?)", NULL } },
	};
	struct wire_msg m;
	struct rcl c;

	fx_start(NULL);
	login(&F.c, "ann", "pw-ann", F.server, &m);
	if (m.type == WIRE_TOKEN) {
		char tok[H_TOKEN_HEX + 1];

		memcpy(tok, m.token, sizeof(tok));
		wire_msg_release(&m);
		rcl_open_beside(&c, &F.c);
		rcl_hello(&c, F.server, tok, NULL);
		push_expect_ack(&c, F.server, ch, 1, 1, 0, &m);
		wire_msg_release(&m);
		rcl_close(&c);
		cr_assert_fail("ann registered the server's replica id %s as her device and "
			       "pushed a change with the server's counter 1000", F.server);
	}
	cr_assert_eq(m.type, WIRE_ERROR, "login got type %d", m.type);
	cr_assert(m.code == WERR_AUTH || m.code == WERR_INVALID, "login refused with %llu: %s",
		  (unsigned long long)m.code, m.msg);
	wire_msg_release(&m);
	fx_finish_close(0, 0);
}

/* The same push sent again, on the same session and on a new one: all
 * duplicates, nothing written twice (the records keep their places in
 * the change log, and its end counts the first push only). */
Test(hostile, replayed_push)
{
	char id[RID_LEN + 1];
	struct change ch[2];
	struct buf b = BUF_INIT;
	struct wire_msg m;
	uint64_t seq[2];
	struct rcl c;
	struct db *db;
	int round;

	fx_start(NULL);
	ch[0] = (struct change)ANN_NEW(1, "Replay Co", id);
	ch[1] = (struct change){ .tbl = "customer", .id = F.seed[ANN_CUST], .ctr = 2,
				 .saw = true,
				 .kv = { "name", "Ann Foods Replayed", NULL } };
	rcl_hello(&F.c, REP_ANN, F.tok_ann, NULL);
	push_expect_ack(&F.c, REP_ANN, ch, 2, 2, 0, &m);
	wire_msg_release(&m);
	ch[0].out_id = NULL; /* the replay sends the very same ids */
	ch[0].id = id;
	seq[0] = live_rec_seq(id);
	seq[1] = live_rec_seq(F.seed[ANN_CUST]);
	cr_assert(seq[0] && seq[1]);
	rcl_open_beside(&c, &F.c);
	rcl_hello(&c, REP_ANN, F.tok_ann, NULL);
	for (round = 0; round < 3; round++) {
		struct rcl *on = round == 1 ? &c : &F.c;

		make_push(&b, REP_ANN, 7 + (uint64_t)round, ch, 2);
		rcl_request(on, &b, &m);
		cr_assert_eq(m.type, WIRE_ACK, "replay %d got type %d: %s", round, m.type, m.msg);
		cr_assert_eq(m.applied, 0, "replay %d applied %llu", round,
			     (unsigned long long)m.applied);
		cr_assert_eq(m.dup, 2, "replay %d: %llu duplicates", round,
			     (unsigned long long)m.dup);
		cr_assert_eq(m.nrejected, 0);
		cr_assert_eq(m.upto, 2);
		wire_msg_release(&m);
	}
	buf_release(&b);
	rcl_close(&c);
	cr_assert_eq(live_rec_seq(id), seq[0], "a replay moved the record in the change log");
	cr_assert_eq(live_rec_seq(F.seed[ANN_CUST]), seq[1],
		     "a replay moved the record in the change log");

	db = fx_finish(2, 1u << ANN_CUST);
	expect_text(db, "customer", id, "name", "Replay Co");
	expect_text(db, "customer", F.seed[ANN_CUST], "name", "Ann Foods Replayed");
	cr_assert_eq(audit_count(db, "ann", "create") + audit_count(db, "ann", "edit"), 2);
	db_close(db);
}

/*
 * Rights withdrawn during a session apply to its next push: ann made an
 * executive, then her role's rights restored but write.own withdrawn
 * from managers. Both pushes are refused change by change (12). (The
 * honest user is a manager too: her sync is let finish first, and the
 * right is granted back before she syncs again.)
 */
Test(hostile, rights_withdrawn_mid_session)
{
	char out[1024], id1[RID_LEN + 1], id2[RID_LEN + 1], id3[RID_LEN + 1];
	struct change ch1[] = { ANN_NEW(1, "Ann Allowed", id1) };
	struct change ch2[] = { ANN_NEW(2, "Ann As Executive", id2) };
	struct change ch3[] = { ANN_NEW(3, "Ann Without Write", id3) };
	struct wire_msg m;
	struct db *db;

	fx_start(NULL);
	rcl_hello(&F.c, REP_ANN, F.tok_ann, NULL);
	push_expect_ack(&F.c, REP_ANN, ch1, 1, 1, 0, &m);
	wire_msg_release(&m);
	cr_assert_eq(h_admin(F.w.srv.db, out, sizeof(out), "user", "set-role", "ann",
			     "executive", NULL), 0, "set-role: %s", out);
	push_expect_ack(&F.c, REP_ANN, ch2, 1, 0, 1, &m);
	expect_reject(&m, 0, 2, WERR_DENIED, "may not change records", false);
	wire_msg_release(&m);
	cr_assert_eq(h_admin(F.w.srv.db, out, sizeof(out), "user", "set-role", "ann",
			     "manager", NULL), 0, "set-role: %s", out);
	honest_settle();
	cr_assert_eq(h_admin(F.w.srv.db, out, sizeof(out), "role", "withdraw", "manager",
			     "write.own", NULL), 0, "role withdraw: %s", out);
	push_expect_ack(&F.c, REP_ANN, ch3, 1, 0, 1, &m);
	expect_reject(&m, 0, 3, WERR_DENIED, "may not change records", false);
	wire_msg_release(&m);
	cr_assert_eq(h_admin(F.w.srv.db, out, sizeof(out), "role", "grant", "manager",
			     "write.own", NULL), 0, "role grant: %s", out);

	db = fx_finish(1, 0);
	expect_text(db, "customer", id1, "name", "Ann Allowed");
	cr_assert_not(rec_exists(db, "customer", id2));
	cr_assert_not(rec_exists(db, "customer", id3));
	db_close(db);
}

/* ---- floods of failed logins -------------------------------------------------- */

/*
 * Six wrong passwords for ann: the first five are checked and refused,
 * the sixth is refused for the limit, and so is a seventh with the right
 * password. Another user from the same address still logs in; the honest
 * user, logged in beforehand, still syncs; the failures are audited.
 */
Test(hostile, login_flood_per_user)
{
	char pw[32];
	struct wire_msg m;
	struct db *db;
	int i;

	fx_start(NULL);
	for (i = 1; i <= 5; i++) {
		snprintf(pw, sizeof(pw), "guess-%d", i);
		login_refused("ann", pw, REP_ANN, "wrong user name or password");
	}
	login_refused("ann", "guess-6", REP_ANN, "too many failed logins");
	login_refused("ann", "pw-ann", REP_ANN, "too many failed logins");
	login(&F.c, "bob", "pw-bob", REP_BOB, &m);
	cr_assert_eq(m.type, WIRE_TOKEN, "bob's login got type %d: %s", m.type, m.msg);
	wire_msg_release(&m);

	db = fx_finish(0, 0);
	cr_assert_geq(audit_count(db, "ann", "login-failed"), 5);
	cr_assert_eq(audit_count(db, "ann", "login"), 0);
	db_close(db);
}

/*
 * Twenty failed logins from one address, each for a different user (16
 * who exist, 4 who do not): then even a right password from that address
 * is refused. The honest user's session, on a token, is not affected.
 */
Test(hostile, login_flood_per_address)
{
	char user[32];
	struct db *db;
	int i;

	fx_start(NULL);
	for (i = 1; i <= 16; i++) {
		snprintf(user, sizeof(user), "agent-%d", i);
		cr_assert_eq(h_user_add(F.w.srv.db, user, "manager", NULL, NULL), 0);
	}
	for (i = 1; i <= 20; i++) {
		if (i <= 16)
			snprintf(user, sizeof(user), "agent-%d", i);
		else
			snprintf(user, sizeof(user), "intruder-%d", i);
		login_refused(user, "letmein", REP_NEW, "wrong user name or password");
	}
	login_refused("bob", "pw-bob", REP_BOB, "too many failed logins");
	login_refused("intruder-21", "letmein", REP_NEW, "too many failed logins");

	db = fx_finish(0, 0);
	cr_assert_geq(audit_count(db, NULL, "login-failed"), 20);
	cr_assert_eq(audit_count(db, "bob", "login"), 0);
	db_close(db);
}

/*
 * Every refused login leaves an audit row: wrong passwords as
 * login-failed, the attempts past the failed-login limit as login-refused,
 * so a flood past the limit leaves a trace.
 */
Test(hostile, limited_logins_are_audited)
{
	char pw[32];
	struct db *db;
	int i, n;

	fx_start(NULL);
	for (i = 1; i <= 7; i++) {
		snprintf(pw, sizeof(pw), "guess-%d", i);
		login_refused("ann", pw, REP_ANN, i <= 5 ? "wrong user name or password" :
			      "too many failed logins");
	}
	db = fx_finish(0, 0);
	n = audit_count(db, "ann", "login-failed");
	cr_assert_eq(n, 5, "%d wrong passwords audited", n);
	n = audit_count(db, "ann", "login-refused");
	db_close(db);
	cr_assert_eq(n, 2, "%d logins past the limit audited", n);
}

/* ---- malformed input from a logged-in session ------------------------------------ */

/* After a valid hello: a message one byte over the limit (one exactly at
 * the limit is read, and refused as garbage), garbage, a text frame, a
 * push of too many changes, a pull from beyond the change log. */
Test(hostile, bad_frames_after_hello)
{
	static const char junk[] = "\xc1\x00garbage\xff";
	size_t len = WIRE_MAX_FRAME + 1;
	unsigned char *big = calloc(1, len);
	struct change *many = calloc(WIRE_MAX_BATCH + 1, sizeof(*many));
	struct buf b = BUF_INIT;
	struct rcl c;
	size_t i;

	cr_assert_not_null(big);
	cr_assert_not_null(many);
	fx_start(NULL);
	rcl_hello(&F.c, REP_ANN, F.tok_ann, NULL);
	rcl_queue_msg(&F.c, big, len, 0, true);
	rcl_expect_error(&F.c, WERR_TOO_BIG, NULL);
	raw_refused(big, len - 1, true, WERR_MALFORMED);
	raw_refused(junk, sizeof(junk) - 1, true, WERR_MALFORMED);
	rcl_open_beside(&c, &F.c);
	rcl_hello(&c, REP_ANN, F.tok_ann, NULL);
	rcl_queue(&c, "{\"t\":\"pull\"}", 12, LWS_WRITE_TEXT);
	rcl_expect_error(&c, WERR_MALFORMED, "binary");
	rcl_close(&c);
	for (i = 0; i <= WIRE_MAX_BATCH; i++)
		many[i] = (struct change){ .tbl = "customer", .ctr = i + 1,
					   .kv = { "name", "Many", "owner", "ann", NULL } };
	make_push(&b, REP_ANN, 1, many, WIRE_MAX_BATCH + 1);
	cr_assert_lt(b.len, WIRE_MAX_FRAME);
	raw_refused_buf(&b, true, WERR_TOO_BIG);
	cr_assert_eq(wire_enc_pull(&b, UINT64_MAX, 10), OP_OK);
	raw_refused_buf(&b, true, WERR_INVALID);
	free(many);
	free(big);
	fx_finish_close(0, 0);
}

/* Logins of the wrong shape, and a login after hello. */
Test(hostile, malformed_logins)
{
	char longpw[WIRE_PW_MAX + 2];
	struct buf b = BUF_INIT;
	msgpack_packer pk;
	struct db *db;

	fx_start(NULL);
	memset(longpw, 'x', sizeof(longpw) - 1);
	longpw[sizeof(longpw) - 1] = '\0';

	rcl_packer(&pk, &b);
	msgpack_pack_map(&pk, 6);
	rcl_pack_str(&pk, "t");
	rcl_pack_str(&pk, "login");
	rcl_pack_str(&pk, "proto");
	rcl_pack_str(&pk, "2");
	rcl_pack_str(&pk, "user");
	rcl_pack_str(&pk, "ann");
	rcl_pack_str(&pk, "password");
	rcl_pack_str(&pk, "pw");
	rcl_pack_str(&pk, "replica");
	rcl_pack_str(&pk, REP_ANN);
	rcl_pack_str(&pk, "agent");
	rcl_pack_str(&pk, RCL_AGENT);
	raw_refused_buf(&b, false, WERR_TYPE);

	rcl_packer(&pk, &b);
	msgpack_pack_map(&pk, 6);
	rcl_pack_str(&pk, "t");
	rcl_pack_str(&pk, "login");
	rcl_pack_str(&pk, "proto");
	msgpack_pack_uint64(&pk, WIRE_PROTO);
	rcl_pack_str(&pk, "user");
	msgpack_pack_array(&pk, 1);
	rcl_pack_str(&pk, "ann");
	rcl_pack_str(&pk, "password");
	rcl_pack_str(&pk, "pw");
	rcl_pack_str(&pk, "replica");
	rcl_pack_str(&pk, REP_ANN);
	rcl_pack_str(&pk, "agent");
	rcl_pack_str(&pk, RCL_AGENT);
	raw_refused_buf(&b, false, WERR_TYPE);

	cr_assert_eq(wire_enc_login(&b, "ann", "pw", REP_ANN, RCL_AGENT), OP_OK);
	b.p[0]++; /* one more pair in the map ... */
	rcl_packer(&pk, &b);
	rcl_pack_str(&pk, "otp"); /* ... an unknown key */
	rcl_pack_str(&pk, "123456");
	raw_refused_buf(&b, false, WERR_UNKNOWN_FIELD);

	cr_assert_eq(wire_enc_login(&b, "Ann", "pw", REP_ANN, RCL_AGENT), OP_OK);
	raw_refused_buf(&b, false, WERR_INVALID);
	cr_assert_eq(wire_enc_login(&b, "ann", longpw, REP_ANN, RCL_AGENT), OP_OK);
	raw_refused_buf(&b, false, WERR_INVALID);

	rcl_hello(&F.c, REP_ANN, F.tok_ann, NULL);
	cr_assert_eq(wire_enc_login(&b, "ann", "pw", REP_ANN, RCL_AGENT), OP_OK);
	rcl_send(&F.c, &b);
	buf_release(&b);
	rcl_expect_error(&F.c, WERR_STATE, NULL);

	db = fx_finish(0, 0);
	cr_assert_eq(audit_count(db, "ann", "login-failed"), 0,
		     "a malformed login reached the password check");
	db_close(db);
}
