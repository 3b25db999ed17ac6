/*
 * test_sess.c - unit tests of the per-connection state machine (sess.c)
 * on a real server database but without sockets: frames go in through
 * sess_on_rx(), replies come out of sess_frame() and are decoded with the
 * lenient wire decoder. Each test has its own temporary directory, since
 * Criterion runs tests in parallel forks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>
#include <msgpack.h>

#include "access.h"
#include "auth.h"
#include "authfix.h"
#include "demo.h"
#include "harness.h"
#include "users.h"
#include "log.h"
#include "rawcl.h"
#include "sess.h"
#include "srv.h"
#include "hlc.h"
#include "wire.h"

#define REPLICA "0123456789abcdef0123456789abcdef"
#define PRE 16

/* One test's world: a temporary directory, a server core, a session, and
 * a user "tester" (an administrator) whose device REPLICA holds token. */
struct fix {
	char dir[256];
	struct srv *srv;
	struct sess *s;
	char token[WIRE_TOKEN_HEX + 1];
	struct access acc;
};

/* Criterion forks every test, so this belongs to one test only. */
static struct fix F;

static struct fix *fix_open(void)
{
	struct fix *f = &F;
	char path[320], err[OP_ERRLEN];

	log_set_level(LOG_ERROR);
	cr_assert_eq(h_tmpdir(f->dir), 0);
	snprintf(path, sizeof(path), "%s/server.db", f->dir);
	cr_assert_eq(srv_open(path, &f->srv, err), OP_OK, "srv_open: %s", err);
	af_user(srv_db(f->srv), "tester", "admin", NULL);
	af_device(srv_db(f->srv), "tester", REPLICA, f->token);
	cr_assert_eq(access_load(srv_db(f->srv), "tester", &f->acc), OP_OK);
	f->s = sess_new(f->srv, "test", PRE);
	cr_assert_not_null(f->s);
	return f;
}

/* Runs after every test, passed or failed. */
static void fix_close(void)
{
	access_release(&F.acc);
	sess_free(F.s);
	srv_close(F.srv);
	if (F.dir[0])
		h_rmtree(F.dir);
}

TestSuite(sess, .fini = fix_close, .timeout = 60);

static uint64_t max_seq(struct fix *f)
{
	uint64_t seq = 0;

	cr_assert_eq(db_max_seq(srv_db(f->srv), &seq), OP_OK);
	return seq;
}

/* ---- frames in and out ------------------------------------------------- */

/* Feeds b as one message in nparts fragments; returns sess_on_rx's last answer. */
static bool feed(struct sess *s, const struct buf *b, size_t nparts)
{
	size_t off = 0, step = nparts > 1 ? b->len / nparts : b->len;
	bool ok = true;

	while (nparts > 1 && off + step < b->len && ok) {
		ok = sess_on_rx(s, b->p + off, step, false);
		off += step;
	}
	if (!ok)
		return false;
	return sess_on_rx(s, b->p + off, b->len - off, true);
}

/* Takes the next queued reply and decodes it into *m (release it). */
static void reply(struct sess *s, struct wire_msg *m)
{
	struct wire_err e;
	unsigned char *p;
	size_t len = 0;

	p = sess_frame(s, &len);
	cr_assert_not_null(p, "no reply was queued");
	cr_assert_eq(wire_decode(p, len, NULL, false, m, &e), OP_OK,
		     "the reply does not decode: %s", e.msg);
	sess_frame_sent(s);
}

/* Expects exactly one queued reply, an error with code, and a closing session. */
static void expect_error(struct sess *s, int code)
{
	struct wire_msg m;
	size_t len;

	reply(s, &m);
	cr_assert_eq(m.type, WIRE_ERROR, "expected an error, got message type %d", m.type);
	cr_assert_eq(m.code, (uint64_t)code, "expected error code %d, got %llu (%s)",
		     code, (unsigned long long)m.code, m.msg);
	cr_assert_neq(m.msg[0], '\0', "the error carries no message");
	wire_msg_release(&m);
	cr_assert_null(sess_frame(s, &len), "more than one reply after an error");
	cr_assert(sess_closing(s));
	cr_assert_neq(sess_reason(s)[0], '\0');
}

static void expect_no_reply(struct sess *s)
{
	size_t len;

	cr_assert_null(sess_frame(s, &len));
	cr_assert_not(sess_closing(s));
}

/* ---- messages ---------------------------------------------------------- */

static void enc_hello(struct buf *b)
{
	cr_assert_eq(wire_enc_hello(b, REPLICA, "test_sess/1", F.token), OP_OK);
}

/* A hello with the given protocol and schema versions. */
static void enc_hello_versions(struct buf *b, uint64_t proto, uint64_t schema)
{
	msgpack_packer pk;

	rcl_packer(&pk, b);
	msgpack_pack_map(&pk, 5);
	rcl_pack_str(&pk, "t");
	rcl_pack_str(&pk, "hello");
	rcl_pack_str(&pk, "proto");
	msgpack_pack_uint64(&pk, proto);
	rcl_pack_str(&pk, "schema");
	msgpack_pack_uint64(&pk, schema);
	rcl_pack_str(&pk, "replica");
	rcl_pack_str(&pk, REPLICA);
	rcl_pack_str(&pk, "agent");
	rcl_pack_str(&pk, "test_sess/1");
}

/* A change record of table tname by REPLICA with counter ctr. */
static struct rec *chg_new(const char *tname, const char *id, uint64_t ctr)
{
	struct rec *r = rec_new(tbl_find(tname, strlen(tname)), id);

	cr_assert_not_null(r);
	cr_assert_eq(vv_raise(r->vv, REPLICA, ctr), OP_OK);
	return r;
}

static void chg_text(struct rec *r, const char *field, const char *text)
{
	int i = tbl_field(r->t, field, strlen(field));

	cr_assert_geq(i, 0);
	cr_assert_eq(val_set_text(&r->f[i].v, text, strlen(text)), OP_OK);
	r->f[i].set = true;
}

/* Appends r's set fields as one change with counter ctr, and frees r. */
static void chg_enc(struct buf *b, struct rec *r, uint64_t ctr)
{
	struct rec_dot d;
	int fields[TBL_MAX_FIELDS], nf = 0, i;

	memcpy(d.rep, REPLICA, VV_REPLEN + 1);
	d.ctr = ctr;
	d.hlc = 1000 + ctr;
	for (i = 0; i < r->t->nfields; i++)
		if (r->f[i].set)
			fields[nf++] = i;
	cr_assert_eq(wire_enc_change(b, r, fields, nf, &d, false), OP_OK);
	rec_free(r);
}

/* Appends a new customer named name with id and counter ctr. */
static void chg_customer(struct buf *b, const char *id, uint64_t ctr, const char *name)
{
	struct rec *r = chg_new("customer", id, ctr);

	chg_text(r, "name", name);
	chg_enc(b, r, ctr);
}

static void new_id(char id[RID_LEN + 1])
{
	cr_assert_eq(rid_new(id), OP_OK);
}

static bool rec_exists(struct fix *f, const char *tname, const char *id)
{
	struct rec *r = NULL;
	int rc = db_rec_load(srv_db(f->srv), tbl_find(tname, strlen(tname)), id, &r);

	rec_free(r);
	cr_assert(rc == OP_OK || rc == OP_ENOTFOUND, "db_rec_load failed: %d", rc);
	return rc == OP_OK;
}

/* Sends a hello and checks the welcome. */
static void say_hello(struct fix *f)
{
	struct buf b = BUF_INIT;
	struct wire_msg m;

	enc_hello(&b);
	cr_assert(feed(f->s, &b, 1));
	buf_release(&b);
	reply(f->s, &m);
	cr_assert_eq(m.type, WIRE_WELCOME);
	cr_assert_eq(m.proto, WIRE_PROTO);
	cr_assert_str_eq(m.replica, srv_replica(f->srv));
	cr_assert_eq(m.max_frame, WIRE_MAX_FRAME);
	wire_msg_release(&m);
	expect_no_reply(f->s);
}

/* Sends a push of two new customers (counters ctr, ctr + 1). */
static bool push_two(struct fix *f, const char *id1, const char *id2, uint64_t ctr)
{
	struct buf b = BUF_INIT;
	bool ok;

	cr_assert_eq(wire_enc_push_head(&b, 7, 2), OP_OK);
	chg_customer(&b, id1, ctr, "Alpine Foods");
	chg_customer(&b, id2, ctr + 1, "Harbor Motors");
	ok = feed(f->s, &b, 1);
	buf_release(&b);
	return ok;
}

/* Expects an ack whose only refusal is of change ctr with code. */
static void expect_refusal(struct sess *s, uint64_t applied, uint64_t ctr, int code,
			   const char *why)
{
	struct wire_msg m;

	reply(s, &m);
	cr_assert_eq(m.type, WIRE_ACK, "expected an ack, got type %d (%s)", m.type, m.msg);
	cr_assert_eq(m.applied, applied, "applied %llu", (unsigned long long)m.applied);
	cr_assert_eq(m.nrejected, 1);
	cr_assert_eq(m.rejected[0].ctr, ctr);
	cr_assert_eq(m.rejected[0].code, (uint64_t)code, "code %llu: %s",
		     (unsigned long long)m.rejected[0].code, m.rejected[0].msg);
	cr_assert(strstr(m.rejected[0].msg, why), "reason: %s", m.rejected[0].msg);
	cr_assert_null(m.rejected[0].state, "a refused create has no state");
	wire_msg_release(&m);
	expect_no_reply(s);
}

static void expect_ack(struct sess *s, uint64_t n, uint64_t upto, uint64_t applied,
		       uint64_t dup)
{
	struct wire_msg m;

	reply(s, &m);
	cr_assert_eq(m.type, WIRE_ACK, "expected an ack, got type %d (%s)", m.type, m.msg);
	cr_assert_eq(m.n, n);
	cr_assert_eq(m.upto, upto);
	cr_assert_eq(m.applied, applied, "applied %llu", (unsigned long long)m.applied);
	cr_assert_eq(m.dup, dup, "dup %llu", (unsigned long long)m.dup);
	cr_assert_eq(m.conflicts, 0);
	wire_msg_release(&m);
}

/* ---- handshake --------------------------------------------------------- */

Test(sess, hello_gets_welcome)
{
	struct fix *f;

	f = fix_open();
	say_hello(f);
}

Test(sess, hello_in_fragments_gets_welcome)
{
	struct buf b = BUF_INIT;
	struct wire_msg m;
	struct fix *f;

	f = fix_open();
	enc_hello(&b);
	cr_assert(feed(f->s, &b, 4));
	reply(f->s, &m);
	cr_assert_eq(m.type, WIRE_WELCOME);
	wire_msg_release(&m);
	buf_release(&b);
	/* A byte at a time, as a second session. */
	sess_free(f->s);
	f->s = sess_new(f->srv, "test", PRE);
	enc_hello(&b);
	cr_assert(feed(f->s, &b, b.len));
	reply(f->s, &m);
	cr_assert_eq(m.type, WIRE_WELCOME);
	wire_msg_release(&m);
	buf_release(&b);
}

Test(sess, bad_protocol_version)
{
	struct buf b = BUF_INIT;
	struct fix *f;

	f = fix_open();
	enc_hello_versions(&b, WIRE_PROTO + 1, SCHEMA_VERSION);
	cr_assert_not(feed(f->s, &b, 1));
	expect_error(f->s, WERR_VERSION);
	buf_release(&b);
}

Test(sess, too_old_schema)
{
	struct buf b = BUF_INIT;
	struct fix *f;

	f = fix_open();
	enc_hello_versions(&b, WIRE_PROTO, 0);
	cr_assert_not(feed(f->s, &b, 1));
	expect_error(f->s, WERR_VERSION);
	buf_release(&b);
}

Test(sess, second_hello_refused)
{
	struct buf b = BUF_INIT;
	struct fix *f;

	f = fix_open();
	say_hello(f);
	enc_hello(&b);
	cr_assert_not(feed(f->s, &b, 1));
	expect_error(f->s, WERR_STATE);
	buf_release(&b);
}

Test(sess, empty_push_before_hello_refused)
{
	struct buf b = BUF_INIT;
	struct fix *f;

	f = fix_open();
	cr_assert_eq(wire_enc_push_head(&b, 1, 0), OP_OK);
	cr_assert_not(feed(f->s, &b, 1));
	expect_error(f->s, WERR_STATE);
	buf_release(&b);
}

Test(sess, push_before_hello_refused)
{
	char id[RID_LEN + 1];
	struct buf b = BUF_INIT;
	struct fix *f;

	f = fix_open();
	new_id(id);
	cr_assert_eq(wire_enc_push_head(&b, 1, 1), OP_OK);
	chg_customer(&b, id, 1, "Alpine Foods");
	cr_assert_not(feed(f->s, &b, 1));
	expect_error(f->s, WERR_STATE);
	cr_assert_eq(max_seq(f), 0);
	cr_assert_not(rec_exists(f, "customer", id));
	buf_release(&b);
}

Test(sess, pull_before_hello_refused)
{
	struct buf b = BUF_INIT;
	struct fix *f;

	f = fix_open();
	cr_assert_eq(wire_enc_pull(&b, 0, 10), OP_OK);
	cr_assert_not(feed(f->s, &b, 1));
	expect_error(f->s, WERR_STATE);
	buf_release(&b);
}

Test(sess, input_after_error_is_ignored)
{
	struct buf b = BUF_INIT;
	size_t len;
	struct fix *f;

	f = fix_open();
	cr_assert_not(sess_on_rx(f->s, "\xc1", 1, true));
	expect_error(f->s, WERR_MALFORMED);
	enc_hello(&b);
	cr_assert_not(feed(f->s, &b, 1));
	cr_assert_null(sess_frame(f->s, &len));
	cr_assert(sess_closing(f->s));
	buf_release(&b);
}

/* ---- push -------------------------------------------------------------- */

Test(sess, push_acks_and_resend_is_dup)
{
	char id1[RID_LEN + 1], id2[RID_LEN + 1];
	uint64_t seq;
	struct fix *f;

	f = fix_open();
	new_id(id1);
	new_id(id2);
	say_hello(f);
	cr_assert(push_two(f, id1, id2, 1));
	expect_ack(f->s, 7, 2, 2, 0);
	seq = max_seq(f);
	cr_assert_eq(seq, 2);
	cr_assert(rec_exists(f, "customer", id1));
	cr_assert(rec_exists(f, "customer", id2));
	/* The same push again (a client that lost the ack). */
	cr_assert(push_two(f, id1, id2, 1));
	expect_ack(f->s, 7, 2, 0, 2);
	cr_assert_eq(max_seq(f), seq, "a resent push wrote new rows");
	expect_no_reply(f->s);
}

Test(sess, push_in_fragments)
{
	char id1[RID_LEN + 1], id2[RID_LEN + 1];
	struct buf b = BUF_INIT;
	struct fix *f;

	f = fix_open();
	new_id(id1);
	new_id(id2);
	say_hello(f);
	cr_assert_eq(wire_enc_push_head(&b, 3, 2), OP_OK);
	chg_customer(&b, id1, 1, "Alpine Foods");
	chg_customer(&b, id2, 2, "Harbor Motors");
	cr_assert(feed(f->s, &b, 5));
	expect_ack(f->s, 3, 2, 2, 0);
	cr_assert(rec_exists(f, "customer", id2));
	buf_release(&b);
}

Test(sess, push_to_conflict_table_refused)
{
	char id[RID_LEN + 1];
	struct buf b = BUF_INIT;
	struct rec *r;
	struct fix *f;

	f = fix_open();
	new_id(id);
	say_hello(f);
	r = chg_new("conflict", id, 1);
	chg_text(r, "kind", "field");
	cr_assert_eq(wire_enc_push_head(&b, 1, 1), OP_OK);
	chg_enc(&b, r, 1);
	cr_assert(feed(f->s, &b, 1));
	expect_refusal(f->s, 0, 1, WERR_DENIED, "server only");
	cr_assert_eq(max_seq(f), 0);
	cr_assert_not(rec_exists(f, "conflict", id));
	buf_release(&b);
}

Test(sess, create_without_required_field_refused)
{
	char id[RID_LEN + 1];
	struct buf b = BUF_INIT;
	struct rec *r;
	struct fix *f;

	f = fix_open();
	new_id(id);
	say_hello(f);
	r = chg_new("customer", id, 1);
	chg_text(r, "region", "north");
	cr_assert_eq(wire_enc_push_head(&b, 1, 1), OP_OK);
	chg_enc(&b, r, 1);
	cr_assert(feed(f->s, &b, 1));
	expect_refusal(f->s, 0, 1, WERR_INVALID, "lacks required field name");
	cr_assert_eq(max_seq(f), 0);
	cr_assert_not(rec_exists(f, "customer", id));
	buf_release(&b);
}

/*
 * Two good changes and a third that the server refuses: the good two are
 * applied, the third alone is refused, and pushing the good two again
 * from a fresh session changes nothing.
 */
Test(sess, bad_third_change_is_refused_alone)
{
	char id1[RID_LEN + 1], id2[RID_LEN + 1], id3[RID_LEN + 1];
	struct buf b = BUF_INIT;
	struct rec *r;
	struct fix *f;

	f = fix_open();
	new_id(id1);
	new_id(id2);
	new_id(id3);
	say_hello(f);
	cr_assert_eq(wire_enc_push_head(&b, 1, 3), OP_OK);
	chg_customer(&b, id1, 1, "Alpine Foods");
	chg_customer(&b, id2, 2, "Harbor Motors");
	r = chg_new("customer", id3, 3);
	chg_text(r, "region", "north");  /* a create without "name" */
	chg_enc(&b, r, 3);
	cr_assert(feed(f->s, &b, 1));
	expect_refusal(f->s, 2, 3, WERR_INVALID, "lacks required field");
	cr_assert_eq(max_seq(f), 2);
	cr_assert(rec_exists(f, "customer", id1));
	cr_assert(rec_exists(f, "customer", id2));
	cr_assert_not(rec_exists(f, "customer", id3));
	buf_release(&b);

	sess_free(f->s);
	f->s = sess_new(f->srv, "test", PRE);
	say_hello(f);
	cr_assert(push_two(f, id1, id2, 1));
	expect_ack(f->s, 7, 2, 0, 2);
	cr_assert_eq(max_seq(f), 2);
}

/* The same, with a third change that fails validation while decoding. */
Test(sess, invalid_third_value_is_refused_alone)
{
	char id1[RID_LEN + 1], id2[RID_LEN + 1], id3[RID_LEN + 1];
	struct buf b = BUF_INIT;
	struct rec *r;
	struct fix *f;

	f = fix_open();
	new_id(id1);
	new_id(id2);
	new_id(id3);
	say_hello(f);
	cr_assert_eq(wire_enc_push_head(&b, 1, 3), OP_OK);
	chg_customer(&b, id1, 1, "Alpine Foods");
	chg_customer(&b, id2, 2, "Harbor Motors");
	r = chg_new("customer", id3, 3);
	chg_text(r, "name", "Summit Bakery");
	chg_text(r, "email", "nope");
	chg_enc(&b, r, 3);
	cr_assert(feed(f->s, &b, 1));
	expect_refusal(f->s, 2, 3, WERR_INVALID, "email");
	cr_assert_eq(max_seq(f), 2);
	cr_assert(rec_exists(f, "customer", id1));
	cr_assert(rec_exists(f, "customer", id2));
	cr_assert_not(rec_exists(f, "customer", id3));
	buf_release(&b);
}

/* A refusal in a later push leaves the earlier push and its other change alone. */
Test(sess, refusal_keeps_earlier_push)
{
	char id1[RID_LEN + 1], id2[RID_LEN + 1], id3[RID_LEN + 1];
	struct buf b = BUF_INIT;
	struct rec *r;
	struct fix *f;

	f = fix_open();
	new_id(id1);
	new_id(id2);
	new_id(id3);
	say_hello(f);
	cr_assert(push_two(f, id1, id2, 1));
	expect_ack(f->s, 7, 2, 2, 0);
	cr_assert_eq(wire_enc_push_head(&b, 8, 2), OP_OK);
	chg_customer(&b, id3, 3, "Summit Bakery");
	r = chg_new("conflict", id3, 4);
	chg_text(r, "kind", "field");
	chg_enc(&b, r, 4);
	cr_assert(feed(f->s, &b, 1));
	buf_release(&b);
	expect_refusal(f->s, 1, 4, WERR_DENIED, "server only");
	cr_assert_eq(max_seq(f), 3);
	cr_assert(rec_exists(f, "customer", id1));
	cr_assert(rec_exists(f, "customer", id3));
}

/* ---- pull -------------------------------------------------------------- */

static int cmp_id(const void *a, const void *b)
{
	return strcmp(a, b);
}

Test(sess, pull_pages_through_everything_once, .timeout = 60)
{
	enum { CAP = 2000 };
	char (*ids)[RID_LEN + 1] = calloc(CAP, sizeof(*ids));
	uint64_t cursor = 0, total, customers = 0;
	size_t nids = 0, i, pages = 0;
	struct buf b = BUF_INIT;
	struct wire_msg m;
	struct fix *f;

	cr_assert_not_null(ids);
	f = fix_open();
	cr_assert_eq(demo_seed(f->srv, 300, 1), OP_OK);
	total = max_seq(f);
	cr_assert_geq(total, 600);
	cr_assert_lt(total, CAP);
	say_hello(f);
	do {
		buf_reset(&b);
		cr_assert_eq(wire_enc_pull(&b, cursor, 100), OP_OK);
		cr_assert(feed(f->s, &b, 1));
		reply(f->s, &m);
		cr_assert_eq(m.type, WIRE_BATCH, "expected a batch, got %d (%s)", m.type, m.msg);
		cr_assert_leq(m.nrecs, 100);
		cr_assert(m.nrecs > 0 || !m.more);
		cr_assert(m.nrecs == 0 || m.cursor > cursor, "the cursor did not advance");
		for (i = 0; i < m.nrecs; i++) {
			cr_assert_lt(nids, CAP);
			memcpy(ids[nids++], m.recs[i]->id, RID_LEN + 1);
			customers += !strcmp(m.recs[i]->t->name, "customer");
		}
		cursor = m.cursor;
		pages++;
		cr_assert(m.more || nids == total, "more=false after %zu of %llu records",
			  nids, (unsigned long long)total);
		wire_msg_release(&m);
	} while (m.more);
	cr_assert_eq(nids, total);
	cr_assert_eq(customers, 300);
	cr_assert_eq(pages, (total + 99) / 100);
	cr_assert_eq(cursor, total);
	qsort(ids, nids, sizeof(*ids), cmp_id);
	for (i = 1; i < nids; i++)
		cr_assert_str_neq(ids[i - 1], ids[i], "record %s seen twice", ids[i]);

	/* Pulling from the final cursor: nothing, and the cursor stays. */
	buf_reset(&b);
	cr_assert_eq(wire_enc_pull(&b, cursor, 100), OP_OK);
	cr_assert(feed(f->s, &b, 1));
	reply(f->s, &m);
	cr_assert_eq(m.type, WIRE_BATCH);
	cr_assert_eq(m.nrecs, 0);
	cr_assert_not(m.more);
	cr_assert_eq(m.cursor, cursor);
	wire_msg_release(&m);
	buf_release(&b);
	free(ids);
}

/* ---- limits ------------------------------------------------------------ */

Test(sess, oversized_message_in_fragments_refused)
{
	enum { CHUNK = 64 * 1024 };
	unsigned char *chunk = calloc(1, CHUNK);
	size_t sent = 0;
	bool ok = true;
	struct fix *f;

	cr_assert_not_null(chunk);
	f = fix_open();
	say_hello(f);
	while (ok && sent <= WIRE_MAX_FRAME) {
		ok = sess_on_rx(f->s, chunk, CHUNK, false);
		sent += CHUNK;
	}
	cr_assert_not(ok);
	cr_assert_gt(sent, WIRE_MAX_FRAME, "refused after only %zu bytes", sent);
	expect_error(f->s, WERR_TOO_BIG);
	cr_assert_not(sess_on_rx(f->s, chunk, CHUNK, true));
	cr_assert_eq(max_seq(f), 0);
	free(chunk);
}

Test(sess, oversized_single_message_refused)
{
	unsigned char *big = calloc(1, WIRE_MAX_FRAME + 1);
	struct fix *f;

	cr_assert_not_null(big);
	f = fix_open();
	cr_assert_not(sess_on_rx(f->s, big, WIRE_MAX_FRAME + 1, true));
	expect_error(f->s, WERR_TOO_BIG);
	free(big);
}

/* A message of exactly the limit is not refused for its size. */
Test(sess, message_at_the_limit_is_not_too_big)
{
	unsigned char *big = calloc(1, WIRE_MAX_FRAME);
	struct fix *f;

	cr_assert_not_null(big);
	f = fix_open();
	cr_assert(sess_on_rx(f->s, big, WIRE_MAX_FRAME / 2, false));
	cr_assert_not(sess_on_rx(f->s, big, WIRE_MAX_FRAME / 2, true));
	expect_error(f->s, WERR_MALFORMED);
	free(big);
}

/* ---- error messages stay readable -------------------------------------- */

/* Sends a one-change push to a table named tname; expects an error with
 * code that the client can decode (valid UTF-8 text). */
static void push_to_named_table(const char *tname, const char *fname, int code)
{
	const struct fld_desc fields[] = {
		{ fname, FLD_TEXT, false, 200, 0, 0, NULL, "" },
	};
	const struct tbl_desc t = { tname, fields, 1, false, 0, -1, -1, -1 };
	char id[RID_LEN + 1];
	struct buf b = BUF_INIT;
	struct rec *r;
	struct fix *f;

	f = fix_open();
	new_id(id);
	say_hello(f);
	r = rec_new(&t, id);
	cr_assert_not_null(r);
	cr_assert_eq(vv_raise(r->vv, REPLICA, 1), OP_OK);
	chg_text(r, fname, "x");
	cr_assert_eq(wire_enc_push_head(&b, 1, 1), OP_OK);
	chg_enc(&b, r, 1);
	cr_assert_not(feed(f->s, &b, 1));
	expect_error(f->s, code);
	buf_release(&b);
}

Test(sess, unknown_table_with_invalid_utf8_name)
{
	push_to_named_table("\xff\xfe", "name", WERR_UNKNOWN_TABLE);
}

Test(sess, unknown_table_with_long_multibyte_name)
{
	push_to_named_table("x\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
			    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
			    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
			    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
			    "name", WERR_UNKNOWN_TABLE);
}

Test(sess, unknown_field_with_invalid_utf8_name)
{
	push_to_named_table("customer", "na\xffme", WERR_UNKNOWN_FIELD);
}

/* ---- versions, cursors, repeated delete conflicts ------------------------ */

Test(sess, too_new_schema)
{
	struct buf b = BUF_INIT;
	struct fix *f;

	f = fix_open();
	enc_hello_versions(&b, WIRE_PROTO, SCHEMA_VERSION + 1);
	cr_assert_not(feed(f->s, &b, 1));
	expect_error(f->s, WERR_VERSION);
	buf_release(&b);
}

Test(sess, pull_cursor_beyond_the_log_refused)
{
	struct buf b = BUF_INIT;
	struct fix *f;

	f = fix_open();
	say_hello(f);
	cr_assert_eq(wire_enc_pull(&b, (uint64_t)INT64_MAX + 1, 100), OP_OK);
	cr_assert_not(feed(f->s, &b, 1));
	expect_error(f->s, WERR_INVALID);
	buf_release(&b);
}

/* A change by replica rep (32 hex digits made of c) with counter 1 that
 * had seen `seen` (replica letters, each at counter 1). */
static struct rec *chg_by(const char *id, char c, const char *seen, const char *field,
			  const char *text, bool del)
{
	const struct tbl_desc *t = tbl_find("customer", 8);
	struct rec *r = rec_new(t, id);
	struct rec_dot d;
	char rep[RID_LEN + 1];
	const char *p;

	cr_assert_not_null(r);
	for (p = seen; *p; p++) {
		memset(rep, *p, RID_LEN);
		rep[RID_LEN] = '\0';
		cr_assert_eq(vv_raise(r->vv, rep, 1), OP_OK);
	}
	memset(d.rep, c, RID_LEN);
	d.rep[RID_LEN] = '\0';
	d.ctr = 1;
	d.hlc = (uint64_t)c << 20;
	if (del) {
		cr_assert_eq(rec_delete(r, &d), OP_OK);
	} else {
		struct val v = VAL_INIT;

		cr_assert_eq(val_set_text(&v, text, strlen(text)), OP_OK);
		cr_assert_eq(rec_set(r, tbl_field(t, field, strlen(field)), &v, &d), OP_OK);
		val_release(&v);
	}
	return r;
}

static uint64_t apply_by(struct fix *f, char c, struct rec *r)
{
	struct srv_push_result res;
	struct wire_err e;
	char origin[RID_LEN + 1];
	struct srv_actor who = { &f->acc, origin, "test" };

	memset(origin, c, RID_LEN);
	origin[RID_LEN] = '\0';
	cr_assert_eq(srv_push(f->srv, &who, &r, NULL, 1, &res, &e), OP_OK, "%s", e.msg);
	cr_assert_eq(res.nrejected, 0);
	srv_push_release(&res);
	rec_free(r);
	return res.conflicts;
}

Test(sess, a_delete_that_loses_twice_is_recorded_once)
{
	struct fix *f = fix_open();
	char id[RID_LEN + 1];
	uint64_t n = 0;

	new_id(id);
	apply_by(f, 'a', chg_by(id, 'a', "", "name", "Alpine Foods", false));
	apply_by(f, 'b', chg_by(id, 'b', "a", NULL, NULL, true));
	/* c had not seen b's delete: the record comes back, b's delete lost. */
	cr_assert_eq(apply_by(f, 'c', chg_by(id, 'c', "a", "phone", "123", false)), 1);
	/* d saw everything and deletes again: dead, no conflict. */
	cr_assert_eq(apply_by(f, 'd', chg_by(id, 'd', "abc", NULL, NULL, true)), 0);
	/* e had seen only the create: revives it; only d's delete is new. */
	cr_assert_eq(apply_by(f, 'e', chg_by(id, 'e', "a", "note", "visit", false)), 1);
	cr_assert_eq(db_rec_count(srv_db(f->srv), tbl_find("conflict", 8), &n), OP_OK);
	cr_assert_eq(n, 2);
}

Test(sess, pipelining_past_the_cap_is_refused)
{
	struct buf b = BUF_INIT;
	struct fix *f;
	int i;

	f = fix_open();
	say_hello(f);
	cr_assert_eq(wire_enc_pull(&b, 0, 10), OP_OK);
	for (i = 0; i < 8; i++)
		cr_assert(feed(f->s, &b, 1), "pull %d refused", i);
	/* Eight replies wait unread: the ninth request is one too many. */
	cr_assert_not(feed(f->s, &b, 1));
	for (i = 0; i < 8; i++) {
		struct wire_msg m;

		reply(f->s, &m);
		cr_assert_eq(m.type, WIRE_BATCH);
		wire_msg_release(&m);
	}
	expect_error(f->s, WERR_TOO_BIG);
	buf_release(&b);
}

static bool has_bytes(const struct buf *b, const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i + n <= b->len; i++)
		if (!memcmp(b->p + i, s, n))
			return true;
	return false;
}

Test(sess, a_clock_far_in_the_future_is_refused)
{
	struct fix *f = fix_open();
	char id[RID_LEN + 1];
	struct rec *r;
	struct srv_push_result res;
	struct wire_err e;
	struct rec_dot d = { REPLICA, 1, (hlc_wall_ms() + 400ull * 86400 * 1000) << 16 };
	struct val v = VAL_INIT;

	new_id(id);
	r = rec_new(tbl_find("customer", 8), id);
	cr_assert_eq(val_set_text(&v, "Future Ltd", 10), OP_OK);
	cr_assert_eq(rec_set(r, 0, &v, &d), OP_OK);
	struct srv_actor who = { &f->acc, REPLICA, "test" };

	cr_assert_eq(srv_push(f->srv, &who, &r, NULL, 1, &res, &e), OP_OK, "%s", e.msg);
	cr_assert_eq(res.nrejected, 1);
	cr_assert(has_bytes(&res.rejects, "clock"), "the reason names the clock");
	srv_push_release(&res);
	cr_assert_eq(max_seq(f), 0);
	val_release(&v);
	rec_free(r);
}

/* ---- authentication and scope ------------------------------------------ */

Test(sess, hello_without_token_is_refused)
{
	struct fix *f = fix_open();
	struct buf b = BUF_INIT;

	cr_assert_eq(wire_enc_hello(&b, REPLICA, "x", NULL), OP_OK);
	cr_assert_not(feed(f->s, &b, 1));
	expect_error(f->s, WERR_AUTH);
	cr_assert(strstr(sess_reason(f->s), "not logged in"), "%s", sess_reason(f->s));
	buf_release(&b);
}

Test(sess, token_of_another_device_is_refused)
{
	struct fix *f = fix_open();
	struct buf b = BUF_INIT;

	cr_assert_eq(wire_enc_hello(&b, "fedcba9876543210fedcba9876543210", "x", f->token), OP_OK);
	cr_assert_not(feed(f->s, &b, 1));
	expect_error(f->s, WERR_AUTH);
	cr_assert(strstr(sess_reason(f->s), "another device"), "%s", sess_reason(f->s));
	buf_release(&b);
}

Test(sess, login_then_hello_then_logout)
{
	struct fix *f = fix_open();
	const char *rep2 = "fedcba9876543210fedcba9876543210";
	struct buf b = BUF_INIT;
	struct wire_msg m;
	struct user u = { 0 };

	snprintf(u.name, sizeof(u.name), "ann");
	snprintf(u.role, sizeof(u.role), "manager");
	cr_assert_eq(auth_pw_hash("s3cret", 6, u.pw), OP_OK);
	cr_assert_eq(users_add(srv_db(f->srv), &u), OP_OK);
	cr_assert_eq(wire_enc_login(&b, "ann", "s3cret", rep2, "x"), OP_OK);
	cr_assert_not(feed(f->s, &b, 1), "one login per connection");
	reply(f->s, &m);
	cr_assert_eq(m.type, WIRE_TOKEN, "%s", m.msg);
	cr_assert_str_eq(m.role, "manager");
	cr_assert_gt(m.expires, hlc_wall_ms());
	cr_assert(sess_closing(f->s));
	cr_assert_str_eq(sess_reason(f->s), "", "a normal close");
	buf_reset(&b);
	sess_free(f->s);
	f->s = sess_new(f->srv, "test", PRE);
	cr_assert_eq(wire_enc_hello(&b, rep2, "x", m.token), OP_OK);
	wire_msg_release(&m);
	cr_assert(feed(f->s, &b, 1));
	reply(f->s, &m);
	cr_assert_eq(m.type, WIRE_WELCOME, "%s", m.msg);
	cr_assert_str_eq(m.user, "ann");
	cr_assert_str_eq(m.role, "manager");
	wire_msg_release(&m);
	buf_reset(&b);
	cr_assert_eq(wire_enc_logout(&b), OP_OK);
	cr_assert_not(feed(f->s, &b, 1));
	reply(f->s, &m);
	cr_assert_eq(m.type, WIRE_BYE);
	cr_assert(sess_closing(f->s));
	buf_release(&b);
	/* The token no longer opens a session. */
	{
		struct device d;

		cr_assert_eq(users_device_get(srv_db(f->srv), rep2, &d), OP_OK);
		cr_assert(d.revoked);
	}
}

Test(sess, wrong_password_is_refused)
{
	struct fix *f = fix_open();
	struct buf b = BUF_INIT;
	struct user u = { 0 };

	snprintf(u.name, sizeof(u.name), "ann");
	snprintf(u.role, sizeof(u.role), "manager");
	cr_assert_eq(auth_pw_hash("s3cret", 6, u.pw), OP_OK);
	cr_assert_eq(users_add(srv_db(f->srv), &u), OP_OK);
	cr_assert_eq(wire_enc_login(&b, "ann", "guess", REPLICA, "x"), OP_OK);
	cr_assert_not(feed(f->s, &b, 1));
	expect_error(f->s, WERR_AUTH);
	cr_assert(strstr(sess_reason(f->s), "wrong user name or password"), "%s", sess_reason(f->s));
	buf_release(&b);
}

Test(sess, revoked_mid_session_stops_the_next_push)
{
	struct fix *f = fix_open();
	char id1[RID_LEN + 1], id2[RID_LEN + 1];

	new_id(id1);
	new_id(id2);
	say_hello(f);
	cr_assert_eq(users_device_revoke(srv_db(f->srv), REPLICA), OP_OK);
	cr_assert_not(push_two(f, id1, id2, 1));
	expect_error(f->s, WERR_AUTH);
	cr_assert_eq(max_seq(f), 0);
}

/* A customer of t's owner, written by the server. */
static void own_customer(struct fix *f, const char *id, const char *owner)
{
	struct rec *r = rec_new(tbl_find("customer", 8), id);
	struct val v = VAL_INIT;

	cr_assert_eq(val_set_text(&v, "Owned Co", 8), OP_OK);
	cr_assert_eq(val_copy(&r->f[0].v, &v), OP_OK);
	r->f[0].set = true;
	cr_assert_eq(val_set_text(&r->f[8].v, owner, strlen(owner)), OP_OK);
	r->f[8].set = true;
	cr_assert_eq(srv_write(f->srv, r), OP_OK);
	val_release(&v);
	rec_free(r);
}

/* Pulls everything as acc; returns the number of records and of evictions. */
static void pull_all(struct fix *f, const struct access *acc, uint64_t cursor,
		     size_t *nrecs, size_t *ngone)
{
	struct buf b = BUF_INIT;
	struct wire_msg m;
	struct wire_err e;

	cr_assert_eq(srv_pull(f->srv, acc, cursor, 500, &b), OP_OK);
	cr_assert_eq(wire_decode(b.p, b.len, NULL, true, &m, &e), OP_OK, "%s", e.msg);
	*nrecs = m.nrecs;
	*ngone = m.ngone;
	wire_msg_release(&m);
	buf_release(&b);
}

Test(sess, pull_is_scoped_and_a_transfer_evicts)
{
	struct fix *f = fix_open();
	struct access ann = { 0 };
	char id1[RID_LEN + 1], id2[RID_LEN + 1];
	size_t n, g;
	uint64_t end;

	af_user(srv_db(f->srv), "ann", "manager", NULL);
	af_user(srv_db(f->srv), "bob", "manager", NULL);
	cr_assert_eq(access_load(srv_db(f->srv), "ann", &ann), OP_OK);
	new_id(id1);
	new_id(id2);
	own_customer(f, id1, "ann");
	own_customer(f, id2, "bob");
	pull_all(f, &ann, 0, &n, &g);
	cr_assert_eq(n, 1, "ann receives her customer only");
	cr_assert_eq(g, 0);
	end = srv_log_end(f->srv);
	own_customer(f, id1, "bob"); /* transferred */
	pull_all(f, &ann, end, &n, &g);
	cr_assert_eq(n, 0);
	cr_assert_eq(g, 1, "ann's device is told to drop it");
	pull_all(f, &f->acc, end, &n, &g);
	cr_assert_eq(n, 1, "an administrator sees the transfer");
	cr_assert_eq(g, 0, "and is never told to drop anything");
	access_release(&ann);
}

static void no_wake(void *ctx)
{
	(void)ctx;
}

/* Logins whose password checks are still running count against the
 * failed-login limit: a burst of parallel guesses gets no more tries than
 * guesses one after another. */
Test(sess, logins_in_flight_count_against_the_limit)
{
	struct fix *f = fix_open();
	struct worker *w = worker_new(no_wake, NULL);
	struct sess *s[GATE_USER_FAILS];
	struct buf b = BUF_INIT;
	struct user u = { 0 };
	int i, answered = 0;

	cr_assert_not_null(w);
	srv_set_worker(f->srv, w);
	snprintf(u.name, sizeof(u.name), "ann");
	snprintf(u.role, sizeof(u.role), "manager");
	cr_assert_eq(auth_pw_hash("s3cret", 6, u.pw), OP_OK);
	cr_assert_eq(users_add(srv_db(f->srv), &u), OP_OK);
	cr_assert_eq(wire_enc_login(&b, "ann", "guess", REPLICA, "x"), OP_OK);
	for (i = 0; i < GATE_USER_FAILS; i++) {
		uint64_t id;

		s[i] = sess_new(f->srv, "burst", PRE);
		cr_assert(feed(s[i], &b, 1), "login %d refused at once", i);
		cr_assert(sess_login_pending(s[i], &id), "login %d is not being checked", i);
	}
	/* The next one is refused before any check has finished. */
	cr_assert_not(feed(f->s, &b, 1));
	expect_error(f->s, WERR_AUTH);
	cr_assert(strstr(sess_reason(f->s), "too many failed logins"), "%s", sess_reason(f->s));
	while (answered < GATE_USER_FAILS) {
		uint64_t id, want;
		void *arg;
		bool ok;

		if (!worker_done(w, &id, &arg, &ok)) {
			nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
			continue;
		}
		cr_assert_not(ok);
		for (i = 0; i < GATE_USER_FAILS; i++)
			if (s[i] && sess_login_pending(s[i], &want) && want == id)
				break;
		cr_assert_lt(i, GATE_USER_FAILS, "a finished check has no session");
		cr_assert_not(sess_login_done(s[i], arg, ok));
		expect_error(s[i], WERR_AUTH);
		sess_free(s[i]);
		s[i] = NULL;
		answered++;
	}
	srv_set_worker(f->srv, NULL);
	worker_free(w, gate_attempt_free);
	buf_release(&b);
}
