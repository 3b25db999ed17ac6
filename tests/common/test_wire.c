/*
 * test_wire.c - the protocol codec (common/wire.c): every message type
 * encoded and decoded back; record states with and without tombstones;
 * the decoder's refusals, each with its enum wire_code (shape, types,
 * unknown messages, keys, tables and fields in strict and lenient mode,
 * invalid values and UTF-8, duplicates, missing keys, trailing bytes, size
 * and count limits, changes inconsistent with their version vector); and
 * a garbage loop of random bytes and mutated or truncated valid messages
 * that must never crash (run it under OP_SANITIZE=ON too).
 *
 * Malformed-but-MessagePack input is written with msgpack-c's packer.
 */
#include <criterion/criterion.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "rec.h"
#include "schema.h"
#include "tbl.h"
#include "wire.h"

#define REP_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define REP_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define ID_1 "11111111111111111111111111111111"
#define ID_2 "22222222222222222222222222222222"
#define TOKEN "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const struct wire_welcome WELCOME = {
	REP_B, 1, 42, "ann", "manager", "0123456789abcdef"
};

/* Field indexes of customer and contact (see tbl.c). */
#define C_NAME 0
#define C_EMAIL 6
#define C_CREDIT 9
#define C_SAT 10
#define C_NOTE 11

/* ---- helpers: packing ------------------------------------------------- */

struct pk {
	msgpack_sbuffer sb;
	msgpack_packer p;
};

static void pk_begin(struct pk *k)
{
	msgpack_sbuffer_init(&k->sb);
	msgpack_packer_init(&k->p, &k->sb, msgpack_sbuffer_write);
}

static void pk_end(struct pk *k)
{
	msgpack_sbuffer_destroy(&k->sb);
}

static void ps(msgpack_packer *p, const char *s)
{
	msgpack_pack_str(p, strlen(s));
	msgpack_pack_str_body(p, s, strlen(s));
}

static void psn(msgpack_packer *p, const char *s, size_t n)
{
	msgpack_pack_str(p, n);
	msgpack_pack_str_body(p, s, n);
}

/* A field value to pack: i int, d double, s string (n bytes, or strlen
 * when n is 0), n nil, b bool, a empty array. */
struct fv {
	const char *name;
	char kind;
	int64_t i;
	double d;
	const char *s;
	size_t n;
};

static void pk_fv(msgpack_packer *p, const struct fv *f)
{
	switch (f->kind) {
	case 'i': msgpack_pack_int64(p, f->i); break;
	case 'd': msgpack_pack_double(p, f->d); break;
	case 's': psn(p, f->s, f->n ? f->n : strlen(f->s)); break;
	case 'b': msgpack_pack_true(p); break;
	case 'a': msgpack_pack_array(p, 0); break;
	default: msgpack_pack_nil(p); break;
	}
}

/* A change as the client sends it, with knobs to break it. */
struct chg {
	const char *tbl, *id;
	uint64_t ctr, hlc;
	const char *vrep;  /* the one vv entry; NULL for an empty vv */
	uint64_t vctr;
	bool del;
	const struct fv *f;
	int nf;
	const char *omit;  /* key left out */
	const char *dup;   /* key written twice */
	const char *extra; /* unknown key added */
};

static const struct fv name_acme[] = { { "name", 's', 0, 0, "Acme", 0 } };

static struct chg chg_ok(void)
{
	struct chg c = { "customer", ID_1, 1, 100, REP_A, 1, false,
			 name_acme, 1, NULL, NULL, NULL };

	return c;
}

static void pk_chg_key(msgpack_packer *p, const struct chg *c, const char *k)
{
	int i;

	ps(p, k);
	if (!strcmp(k, "tbl")) {
		ps(p, c->tbl);
	} else if (!strcmp(k, "id")) {
		ps(p, c->id);
	} else if (!strcmp(k, "ctr")) {
		msgpack_pack_uint64(p, c->ctr);
	} else if (!strcmp(k, "hlc")) {
		msgpack_pack_uint64(p, c->hlc);
	} else if (!strcmp(k, "vv")) {
		msgpack_pack_map(p, c->vrep ? 1 : 0);
		if (c->vrep) {
			ps(p, c->vrep);
			msgpack_pack_uint64(p, c->vctr);
		}
	} else if (!strcmp(k, "del")) {
		if (c->del)
			msgpack_pack_true(p);
		else
			msgpack_pack_false(p);
	} else if (!strcmp(k, "f")) {
		msgpack_pack_map(p, (size_t)c->nf);
		for (i = 0; i < c->nf; i++) {
			ps(p, c->f[i].name);
			pk_fv(p, &c->f[i]);
		}
	} else {
		msgpack_pack_uint64(p, 1);
	}
}

static void pk_chg(msgpack_packer *p, const struct chg *c)
{
	static const char *const keys[] = { "tbl", "id", "ctr", "hlc", "vv", "del", "f" };
	size_t n = 7, i;

	n -= c->omit != NULL;
	n += c->dup != NULL;
	n += c->extra != NULL;
	msgpack_pack_map(p, n);
	for (i = 0; i < 7; i++)
		if (!c->omit || strcmp(c->omit, keys[i]))
			pk_chg_key(p, c, keys[i]);
	if (c->dup)
		pk_chg_key(p, c, c->dup);
	if (c->extra)
		pk_chg_key(p, c, c->extra);
}

static void pk_push(struct pk *k, const struct chg *c, size_t count)
{
	size_t i;

	pk_begin(k);
	msgpack_pack_map(&k->p, 3);
	ps(&k->p, "t");
	ps(&k->p, "push");
	ps(&k->p, "n");
	msgpack_pack_uint64(&k->p, 1);
	ps(&k->p, "changes");
	msgpack_pack_array(&k->p, count);
	for (i = 0; i < count; i++)
		pk_chg(&k->p, &c[i]);
}

/* A record state packed by hand: fields written by REP_A at (1, 100). */
static void pk_state(msgpack_packer *p, const char *tbl, const struct fv *f,
		     int nf)
{
	int i;

	msgpack_pack_map(p, 4);
	ps(p, "tbl");
	ps(p, tbl);
	ps(p, "id");
	ps(p, ID_1);
	ps(p, "vv");
	msgpack_pack_map(p, 1);
	ps(p, REP_A);
	msgpack_pack_uint64(p, 1);
	ps(p, "f");
	msgpack_pack_map(p, (size_t)nf);
	for (i = 0; i < nf; i++) {
		ps(p, f[i].name);
		msgpack_pack_array(p, 4);
		pk_fv(p, &f[i]);
		ps(p, REP_A);
		msgpack_pack_uint64(p, 1);
		msgpack_pack_uint64(p, 100);
	}
}

/* A batch message header for count states. */
static void pk_batch_head(struct pk *k, size_t count)
{
	pk_begin(k);
	msgpack_pack_map(&k->p, 4);
	ps(&k->p, "t");
	ps(&k->p, "batch");
	ps(&k->p, "cursor");
	msgpack_pack_uint64(&k->p, 7);
	ps(&k->p, "more");
	msgpack_pack_false(&k->p);
	ps(&k->p, "recs");
	msgpack_pack_array(&k->p, count);
}

/* ---- helpers: decoding ------------------------------------------------ */

static const struct tbl_desc *customer(void)
{
	return tbl_find("customer", 8);
}

static const struct tbl_desc *contact(void)
{
	return tbl_find("contact", 7);
}

/* Decodes buf as from REP_A and checks that it fails with code. */
static void expect_code_in(const void *buf, size_t n, bool strict, int code,
			   const char *what)
{
	struct wire_msg m;
	struct wire_err e;
	int rc = wire_decode(buf, n, REP_A, strict, &m, &e);

	cr_assert_neq(rc, OP_OK, "%s: decoded, expected code %d", what, code);
	cr_assert_eq(e.code, code, "%s: code %d (%s), expected %d", what, e.code,
		     e.msg, code);
	cr_assert_eq(rc, code == WERR_TOO_BIG ? OP_ETOOBIG : OP_EPROTO, "%s: rc %d", what, rc);
	cr_assert_neq(e.msg[0], '\0', "%s: no message", what);
	cr_assert_null(m.recs, "%s: records left after a failure", what);
	cr_assert_eq(m.nrecs, 0);
}

static void expect_code(struct pk *k, bool strict, int code, const char *what)
{
	expect_code_in(k->sb.data, k->sb.size, strict, code, what);
	pk_end(k);
}

/* Decodes k as from REP_A, asserting success; the caller releases m. */
static void expect_ok(struct pk *k, bool strict, struct wire_msg *m,
		      const char *what)
{
	struct wire_err e;
	int rc = wire_decode(k->sb.data, k->sb.size, REP_A, strict, m, &e);

	cr_assert_eq(rc, OP_OK, "%s: rc %d code %d: %s", what, rc, e.code, e.msg);
	pk_end(k);
}

/*
 * Decoding a push of the one change c fails with code, or - for a value
 * that fails validation, which refuses that change alone - succeeds with
 * the change marked invalid with code.
 */
static void expect_chg_code(const struct chg *c, bool strict, int code,
			    const char *what)
{
	struct wire_msg m;
	struct wire_err e;
	struct pk k;
	int rc;

	pk_push(&k, c, 1);
	rc = wire_decode(k.sb.data, k.sb.size, REP_A, strict, &m, &e);
	if (rc) {
		pk_end(&k);
		cr_assert_eq(e.code, code, "%s: code %d (%s), expected %d", what, e.code,
			     e.msg, code);
		cr_assert_null(m.recs, "%s: records left after a failure", what);
		return;
	}
	cr_assert_eq(code, WERR_INVALID, "%s: decoded, expected code %d", what, code);
	cr_assert_eq(m.nrecs, 1, "%s", what);
	cr_assert_not_null(m.invalid, "%s", what);
	cr_assert_eq(m.invalid[0].code, WERR_INVALID, "%s: change not marked invalid", what);
	cr_assert_neq(m.invalid[0].msg[0], '\0', "%s: no reason", what);
	wire_msg_release(&m);
	pk_end(&k);
}

/* A customer record with name, satisfaction and note set by REP_A. */
static struct rec *sample_rec(const char *id, uint64_t ctr)
{
	struct rec_dot d = { REP_A, ctr, 1000 + ctr };
	struct rec *r = rec_new(customer(), id);
	struct val v = VAL_INIT;

	cr_assert_not_null(r);
	cr_assert_eq(val_set_text(&v, "Acme \xc3\xa9tudes", 12), OP_OK);
	cr_assert_eq(rec_set(r, C_NAME, &v, &d), OP_OK);
	val_set_int(&v, 4);
	cr_assert_eq(rec_set(r, C_SAT, &v, &d), OP_OK);
	val_set_real(&v, 2500.25);
	cr_assert_eq(rec_set(r, C_CREDIT, &v, &d), OP_OK);
	val_release(&v);
	cr_assert_eq(vv_raise(r->vv, REP_B, 2), OP_OK);
	return r;
}

static void assert_same_state(const struct rec *a, const struct rec *b)
{
	struct buf ea = BUF_INIT, eb = BUF_INIT;

	cr_assert_eq(wire_enc_state(&ea, a), OP_OK);
	cr_assert_eq(wire_enc_state(&eb, b), OP_OK);
	cr_assert_eq(ea.len, eb.len);
	cr_assert_eq(memcmp(ea.p, eb.p, ea.len), 0);
	buf_release(&ea);
	buf_release(&eb);
}

/* ---- round trips ------------------------------------------------------ */

Test(wire, hello_round_trip)
{
	struct buf b = BUF_INIT;
	struct wire_msg m;
	struct wire_err e;

	cr_assert_eq(wire_enc_hello(&b, REP_B, "outpost/0.1 (test)", NULL), OP_OK);
	cr_assert_eq(wire_decode(b.p, b.len, REP_A, true, &m, &e), OP_OK, "%s", e.msg);
	cr_assert_eq(m.type, WIRE_HELLO);
	cr_assert_eq(m.proto, WIRE_PROTO);
	cr_assert_eq(m.schema, SCHEMA_VERSION);
	cr_assert_str_eq(m.replica, REP_B);
	cr_assert_str_eq(m.agent, "outpost/0.1 (test)");
	cr_assert_str_eq(m.token, "", "nil auth is no token");
	wire_msg_release(&m);
	buf_reset(&b);
	cr_assert_eq(wire_enc_hello(&b, REP_B, "x", TOKEN), OP_OK);
	cr_assert_eq(wire_decode(b.p, b.len, REP_A, true, &m, &e), OP_OK, "%s", e.msg);
	cr_assert_str_eq(m.token, TOKEN);
	wire_msg_release(&m);
	buf_release(&b);
}

Test(wire, login_token_logout_bye_round_trip)
{
	struct buf b = BUF_INIT;
	struct wire_msg m;
	struct wire_err e;

	cr_assert_eq(wire_enc_login(&b, "ann.smith-2", "p\xc3\xa4ss word", REP_B, "agent"), OP_OK);
	cr_assert_eq(wire_decode(b.p, b.len, NULL, true, &m, &e), OP_OK, "%s", e.msg);
	cr_assert_eq(m.type, WIRE_LOGIN);
	cr_assert_eq(m.proto, WIRE_PROTO);
	cr_assert_str_eq(m.user, "ann.smith-2");
	cr_assert_str_eq(m.password, "p\xc3\xa4ss word");
	cr_assert_str_eq(m.replica, REP_B);
	wire_msg_release(&m);
	cr_assert_eq(m.password[0], '\0', "the password is wiped on release");
	buf_reset(&b);
	cr_assert_eq(wire_enc_token(&b, TOKEN, "ann", "manager", 1234567), OP_OK);
	cr_assert_eq(wire_decode(b.p, b.len, NULL, true, &m, &e), OP_OK, "%s", e.msg);
	cr_assert_eq(m.type, WIRE_TOKEN);
	cr_assert_str_eq(m.token, TOKEN);
	cr_assert_str_eq(m.user, "ann");
	cr_assert_str_eq(m.role, "manager");
	cr_assert_eq(m.expires, 1234567);
	wire_msg_release(&m);
	buf_reset(&b);
	cr_assert_eq(wire_enc_logout(&b), OP_OK);
	cr_assert_eq(wire_decode(b.p, b.len, NULL, true, &m, &e), OP_OK, "%s", e.msg);
	cr_assert_eq(m.type, WIRE_LOGOUT);
	buf_reset(&b);
	cr_assert_eq(wire_enc_bye(&b), OP_OK);
	cr_assert_eq(wire_decode(b.p, b.len, NULL, true, &m, &e), OP_OK, "%s", e.msg);
	cr_assert_eq(m.type, WIRE_BYE);
	buf_release(&b);
}

/* A login whose user and password are given as raw msgpack strings. */
static void expect_login_code(const char *user, size_t un, const char *pw, size_t pn,
			      int code, const char *what)
{
	struct pk k;

	pk_begin(&k);
	msgpack_pack_map(&k.p, 6);
	ps(&k.p, "t");
	ps(&k.p, "login");
	ps(&k.p, "proto");
	msgpack_pack_uint64(&k.p, WIRE_PROTO);
	ps(&k.p, "user");
	msgpack_pack_str(&k.p, un);
	msgpack_pack_str_body(&k.p, user, un);
	ps(&k.p, "password");
	msgpack_pack_str(&k.p, pn);
	msgpack_pack_str_body(&k.p, pw, pn);
	ps(&k.p, "replica");
	ps(&k.p, REP_B);
	ps(&k.p, "agent");
	ps(&k.p, "x");
	expect_code(&k, true, code, what);
}

Test(wire, reject_bad_login_names_and_passwords)
{
	static const char long_pw[WIRE_PW_MAX + 1] = { [0 ... WIRE_PW_MAX - 1] = 'x' };

	expect_login_code("Ann", 3, "pw", 2, WERR_INVALID, "upper case name");
	expect_login_code("", 0, "pw", 2, WERR_INVALID, "empty name");
	expect_login_code("a b", 3, "pw", 2, WERR_INVALID, "space in name");
	expect_login_code(".ann", 4, "pw", 2, WERR_INVALID, "name starting with a dot");
	expect_login_code("abcdefghijabcdefghijabcdefghijabc", 33, "pw", 2, WERR_INVALID,
			  "33-character name");
	expect_login_code("ann", 3, "", 0, WERR_INVALID, "empty password");
	expect_login_code("ann", 3, "p\0w", 3, WERR_INVALID, "NUL in password");
	expect_login_code("ann", 3, long_pw, WIRE_PW_MAX + 1, WERR_INVALID, "password too long");
}

Test(wire, ack_with_refusals_round_trip)
{
	struct rec *r = sample_rec(ID_1, 3);
	struct buf b = BUF_INIT, st = BUF_INIT;
	struct wire_msg m;
	struct wire_err e;

	cr_assert_eq(wire_enc_ack(&b, 4, 10, 1, 0, 0, 2), OP_OK);
	cr_assert_eq(wire_enc_reject(&b, 9, WERR_DENIED, "not yours", r), OP_OK);
	cr_assert_eq(wire_enc_reject(&b, 10, WERR_INVALID, "bad e-mail", NULL), OP_OK);
	cr_assert_eq(wire_decode(b.p, b.len, NULL, true, &m, &e), OP_OK, "%s", e.msg);
	cr_assert_eq(m.type, WIRE_ACK);
	cr_assert_eq(m.nrejected, 2);
	cr_assert_eq(m.rejected[0].ctr, 9);
	cr_assert_eq(m.rejected[0].code, WERR_DENIED);
	cr_assert_str_eq(m.rejected[0].msg, "not yours");
	cr_assert_not_null(m.rejected[0].state);
	assert_same_state(m.rejected[0].state, r);
	cr_assert_eq(m.rejected[1].ctr, 10);
	cr_assert_null(m.rejected[1].state);
	wire_msg_release(&m);
	/* A refusal cut short after its state: the state is freed, not leaked. */
	buf_reset(&b);
	cr_assert_eq(wire_enc_ack(&b, 4, 10, 1, 0, 0, 1), OP_OK);
	cr_assert_eq(buf_add(&b, "\x85", 1), OP_OK);
	cr_assert_eq(wire_enc_state(&st, r), OP_OK);
	{
		struct buf tmp = BUF_INIT;

		cr_assert_eq(wire_enc_reject(&tmp, 9, 12, "x", r), OP_OK);
		cr_assert_eq(buf_add(&b, tmp.p + 1, tmp.len - 1), OP_OK);
		buf_release(&tmp);
	}
	cr_assert_eq(buf_add(&b, "\xa3" "ctr\x01", 5), OP_OK); /* "ctr" again */
	cr_assert_neq(wire_decode(b.p, b.len, NULL, true, &m, &e), OP_OK);
	cr_assert_eq(e.code, WERR_MALFORMED, "%s", e.msg);
	rec_free(r);
	buf_release(&b);
	buf_release(&st);
}

Test(wire, batch_with_gone_round_trip)
{
	struct wire_gone g[2] = { { customer(), ID_1 }, { contact(), ID_2 } };
	struct buf b = BUF_INIT;
	struct wire_msg m;
	struct wire_err e;

	cr_assert_eq(wire_enc_batch_head(&b, 12, false, g, 2, 0), OP_OK);
	cr_assert_eq(wire_decode(b.p, b.len, NULL, true, &m, &e), OP_OK, "%s", e.msg);
	cr_assert_eq(m.ngone, 2);
	cr_assert_eq(m.gone[0].t, customer());
	cr_assert_str_eq(m.gone[0].id, ID_1);
	cr_assert_eq(m.gone[1].t, contact());
	cr_assert_str_eq(m.gone[1].id, ID_2);
	wire_msg_release(&m);
	buf_release(&b);
}

Test(wire, invalid_value_refuses_one_change_only)
{
	static const struct fv good[] = { { "name", 's', 0, 0, "Good Co", 0 } };
	static const struct fv bad[] = { { "email", 's', 0, 0, "no-at-sign", 0 } };
	struct chg c[2] = {
		{ "customer", ID_1, 1, 1001, REP_A, 1, false, good, 1, NULL, NULL, NULL },
		{ "customer", ID_2, 2, 1002, REP_A, 2, false, bad, 1, NULL, NULL, NULL },
	};
	struct wire_msg m;
	struct wire_err e;
	struct pk k;

	pk_push(&k, c, 2);
	cr_assert_eq(wire_decode(k.sb.data, k.sb.size, REP_A, true, &m, &e), OP_OK, "%s", e.msg);
	cr_assert_eq(m.nrecs, 2);
	cr_assert_eq(m.invalid[0].code, 0);
	cr_assert_eq(m.invalid[1].code, WERR_INVALID);
	cr_assert(strstr(m.invalid[1].msg, "email"), "%s", m.invalid[1].msg);
	wire_msg_release(&m);
	pk_end(&k);
}

Test(wire, welcome_round_trip)
{
	struct buf b = BUF_INIT;
	struct wire_msg m;
	struct wire_err e;

	cr_assert_eq(wire_enc_welcome(&b, &WELCOME), OP_OK);
	cr_assert_eq(wire_decode(b.p, b.len, NULL, true, &m, &e), OP_OK, "%s", e.msg);
	cr_assert_eq(m.type, WIRE_WELCOME);
	cr_assert_eq(m.proto, WIRE_PROTO);
	cr_assert_eq(m.schema, SCHEMA_VERSION);
	cr_assert_eq(m.min_schema, 1);
	cr_assert_str_eq(m.replica, REP_B);
	cr_assert_eq(m.max_frame, WIRE_MAX_FRAME);
	cr_assert_eq(m.max_batch, WIRE_MAX_BATCH);
	wire_msg_release(&m);
	buf_release(&b);
}

Test(wire, push_round_trip)
{
	static const int fields[] = { C_NAME, C_SAT };
	struct buf b = BUF_INIT;
	struct rec *put = sample_rec(ID_1, 3), *del = rec_new(customer(), ID_2);
	struct rec_dot dput = { REP_A, 3, 1003 }, ddel = { REP_A, 4, 2000 };
	struct wire_msg m;
	struct wire_err e;
	const struct rec *r;
	int i;

	cr_assert_eq(vv_raise(del->vv, REP_A, 4), OP_OK);
	cr_assert_eq(wire_enc_push_head(&b, 17, 2), OP_OK);
	cr_assert_eq(wire_enc_change(&b, put, fields, 2, &dput, false), OP_OK);
	cr_assert_eq(wire_enc_change(&b, del, NULL, 0, &ddel, true), OP_OK);
	cr_assert_eq(wire_decode(b.p, b.len, REP_A, true, &m, &e), OP_OK, "%s", e.msg);
	cr_assert_eq(m.type, WIRE_PUSH);
	cr_assert_eq(m.n, 17);
	cr_assert_eq(m.nrecs, 2);
	/* The put: only the fields written, each with the change's dot. */
	r = m.recs[0];
	cr_assert_eq(r->t, customer());
	cr_assert_str_eq(r->id, ID_1);
	cr_assert_null(r->tomb);
	for (i = 0; i < r->t->nfields; i++)
		cr_assert_eq(r->f[i].set, i == C_NAME || i == C_SAT, "field %d", i);
	cr_assert_eq(r->f[C_NAME].v.t, VAL_TEXT);
	cr_assert_str_eq(r->f[C_NAME].v.s, "Acme \xc3\xa9tudes");
	cr_assert_eq(r->f[C_SAT].v.t, VAL_INT);
	cr_assert_eq(r->f[C_SAT].v.i, 4);
	cr_assert_str_eq(r->f[C_SAT].dot.rep, REP_A);
	cr_assert_eq(r->f[C_SAT].dot.ctr, 3);
	cr_assert_eq(r->f[C_SAT].dot.hlc, 1003);
	cr_assert_eq(vv_compare(r->vv, put->vv), VV_EQUAL);
	/* The delete: a tombstone holding the vector, no fields. */
	r = m.recs[1];
	cr_assert_str_eq(r->id, ID_2);
	cr_assert_not_null(r->tomb);
	cr_assert_eq(vv_compare(r->tomb, del->vv), VV_EQUAL);
	cr_assert_eq(r->ndels, 1);
	cr_assert_str_eq(r->dels[0].rep, REP_A);
	cr_assert_eq(r->dels[0].ctr, 4);
	cr_assert_eq(r->dels[0].hlc, 2000);
	cr_assert_not(rec_alive(r));
	wire_msg_release(&m);
	cr_assert_null(m.recs);
	rec_free(put);
	rec_free(del);
	buf_release(&b);
}

Test(wire, push_dot_comes_from_the_session)
{
	static const int fields[] = { C_NAME };
	struct buf b = BUF_INIT;
	struct rec *put = rec_new(customer(), ID_1);
	struct rec_dot d = { REP_B, 5, 1 };
	struct val v = VAL_INIT;
	struct wire_msg m;
	struct wire_err e;

	/* The change was written by B; decoded as from B it is fine... */
	cr_assert_eq(val_set_text(&v, "x", 1), OP_OK);
	cr_assert_eq(rec_set(put, C_NAME, &v, &d), OP_OK);
	cr_assert_eq(wire_enc_push_head(&b, 1, 1), OP_OK);
	cr_assert_eq(wire_enc_change(&b, put, fields, 1, &d, false), OP_OK);
	cr_assert_eq(wire_decode(b.p, b.len, REP_B, true, &m, &e), OP_OK, "%s", e.msg);
	cr_assert_str_eq(m.recs[0]->f[C_NAME].dot.rep, REP_B);
	wire_msg_release(&m);
	/* ...but from A its vector lacks A's counter. */
	cr_assert_eq(wire_decode(b.p, b.len, REP_A, true, &m, &e), OP_EPROTO);
	cr_assert_eq(e.code, WERR_INVALID);
	val_release(&v);
	rec_free(put);
	buf_release(&b);
}

Test(wire, empty_push_round_trip)
{
	struct buf b = BUF_INIT;
	struct wire_msg m;
	struct wire_err e;

	cr_assert_eq(wire_enc_push_head(&b, 0, 0), OP_OK);
	cr_assert_eq(wire_decode(b.p, b.len, REP_A, true, &m, &e), OP_OK, "%s", e.msg);
	cr_assert_eq(m.type, WIRE_PUSH);
	cr_assert_eq(m.nrecs, 0);
	wire_msg_release(&m);
	buf_release(&b);
}

Test(wire, ack_round_trip)
{
	struct buf b = BUF_INIT;
	struct wire_msg m;
	struct wire_err e;

	cr_assert_eq(wire_enc_ack(&b, 9, 120, 7, 2, UINT64_MAX, 0), OP_OK);
	cr_assert_eq(wire_decode(b.p, b.len, NULL, true, &m, &e), OP_OK, "%s", e.msg);
	cr_assert_eq(m.type, WIRE_ACK);
	cr_assert_eq(m.n, 9);
	cr_assert_eq(m.upto, 120);
	cr_assert_eq(m.applied, 7);
	cr_assert_eq(m.dup, 2);
	cr_assert_eq(m.conflicts, UINT64_MAX);
	wire_msg_release(&m);
	buf_release(&b);
}

Test(wire, pull_round_trip)
{
	struct buf b = BUF_INIT;
	struct wire_msg m;
	struct wire_err e;

	cr_assert_eq(wire_enc_pull(&b, 1234567890123ull, 500), OP_OK);
	cr_assert_eq(wire_decode(b.p, b.len, NULL, true, &m, &e), OP_OK, "%s", e.msg);
	cr_assert_eq(m.type, WIRE_PULL);
	cr_assert_eq(m.cursor, 1234567890123ull);
	cr_assert_eq(m.limit, 500);
	wire_msg_release(&m);
	buf_release(&b);
}

Test(wire, error_round_trip)
{
	struct buf b = BUF_INIT;
	struct wire_msg m;
	struct wire_err e;

	cr_assert_eq(wire_enc_error(&b, WERR_VERSION, "upgrade \xe2\x9c\x93"), OP_OK);
	cr_assert_eq(wire_decode(b.p, b.len, NULL, true, &m, &e), OP_OK, "%s", e.msg);
	cr_assert_eq(m.type, WIRE_ERROR);
	cr_assert_eq(m.code, WERR_VERSION);
	cr_assert_str_eq(m.msg, "upgrade \xe2\x9c\x93");
	wire_msg_release(&m);
	buf_release(&b);
}

Test(wire, batch_round_trip)
{
	struct buf b = BUF_INIT, s1 = BUF_INIT, s2 = BUF_INIT, re = BUF_INIT;
	struct rec *r1 = sample_rec(ID_1, 3), *r2 = sample_rec(ID_2, 5);
	struct rec_dot dd = { REP_B, 3, 9999 };
	struct wire_msg m;
	struct wire_err e;

	cr_assert_eq(rec_delete(r2, &dd), OP_OK);
	cr_assert_eq(wire_enc_state(&s1, r1), OP_OK);
	cr_assert_eq(wire_enc_state(&s2, r2), OP_OK);
	cr_assert_eq(wire_enc_batch_head(&b, 77, true, NULL, 0, 2), OP_OK);
	cr_assert_eq(buf_add(&b, s1.p, s1.len), OP_OK);
	cr_assert_eq(buf_add(&b, s2.p, s2.len), OP_OK);
	cr_assert_eq(wire_decode(b.p, b.len, NULL, true, &m, &e), OP_OK, "%s", e.msg);
	cr_assert_eq(m.type, WIRE_BATCH);
	cr_assert_eq(m.cursor, 77);
	cr_assert(m.more);
	cr_assert_eq(m.nrecs, 2);
	cr_assert_eq(wire_enc_state(&re, m.recs[0]), OP_OK);
	cr_assert_eq(re.len, s1.len);
	cr_assert_eq(memcmp(re.p, s1.p, s1.len), 0);
	buf_reset(&re);
	cr_assert_eq(wire_enc_state(&re, m.recs[1]), OP_OK);
	cr_assert_eq(re.len, s2.len);
	cr_assert_eq(memcmp(re.p, s2.p, s2.len), 0);
	cr_assert_not(rec_alive(m.recs[1]));
	wire_msg_release(&m);
	rec_free(r1);
	rec_free(r2);
	buf_release(&b);
	buf_release(&s1);
	buf_release(&s2);
	buf_release(&re);
}

Test(wire, empty_batch_round_trip)
{
	struct buf b = BUF_INIT;
	struct wire_msg m;
	struct wire_err e;

	cr_assert_eq(wire_enc_batch_head(&b, 0, false, NULL, 0, 0), OP_OK);
	cr_assert_eq(wire_decode(b.p, b.len, NULL, true, &m, &e), OP_OK, "%s", e.msg);
	cr_assert_eq(m.type, WIRE_BATCH);
	cr_assert_not(m.more);
	cr_assert_eq(m.nrecs, 0);
	wire_msg_release(&m);
	buf_release(&b);
}

Test(wire, state_round_trip_with_tombstone)
{
	struct buf b = BUF_INIT;
	struct rec *r = sample_rec(ID_1, 3), *d = NULL;
	struct rec_dot dd = { REP_B, 3, 5000 };
	struct wire_err e;
	int i;

	cr_assert_eq(rec_delete(r, &dd), OP_OK);
	cr_assert_eq(wire_enc_state(&b, r), OP_OK);
	cr_assert_eq(wire_decode_state(b.p, b.len, true, &d, &e), OP_OK, "%s", e.msg);
	cr_assert_not_null(d);
	cr_assert_str_eq(d->id, ID_1);
	cr_assert_not_null(d->tomb);
	cr_assert_eq(vv_compare(d->tomb, r->tomb), VV_EQUAL);
	cr_assert_eq(d->ndels, r->ndels);
	cr_assert_eq(d->ndels, 1);
	cr_assert_eq(rec_dot_cmp(&d->dels[0], &r->dels[0]), 0);
	cr_assert_eq(vv_compare(d->vv, r->vv), VV_EQUAL);
	for (i = 0; i < r->t->nfields; i++) {
		cr_assert_eq(d->f[i].set, r->f[i].set);
		cr_assert(val_equal(&d->f[i].v, &r->f[i].v), "field %d", i);
		if (r->f[i].set)
			cr_assert_eq(rec_dot_cmp(&d->f[i].dot, &r->f[i].dot), 0);
	}
	cr_assert_not(rec_alive(d));
	assert_same_state(r, d);
	rec_free(r);
	rec_free(d);
	buf_release(&b);
}

Test(wire, state_round_trip_plain_and_contact)
{
	struct buf b = BUF_INIT;
	const struct tbl_desc *t = tbl_find("contact", 7);
	struct rec *r = sample_rec(ID_1, 1), *c = rec_new(t, ID_2), *d;
	struct rec_dot dot = { REP_B, 1, 1 };
	struct val v = VAL_INIT;
	struct wire_err e;

	cr_assert_eq(wire_enc_state(&b, r), OP_OK);
	cr_assert_eq(wire_decode_state(b.p, b.len, true, &d, &e), OP_OK, "%s", e.msg);
	cr_assert_null(d->tomb);
	cr_assert(rec_alive(d));
	assert_same_state(r, d);
	rec_free(d);
	/* A contact with a nil field, a reference and a date. */
	cr_assert_eq(val_set_text(&v, ID_1, RID_LEN), OP_OK);
	cr_assert_eq(rec_set(c, tbl_field(t, "customer", 8), &v, &dot), OP_OK);
	cr_assert_eq(val_set_text(&v, "2024-02-29", 10), OP_OK);
	cr_assert_eq(rec_set(c, tbl_field(t, "birthday", 8), &v, &dot), OP_OK);
	val_release(&v);
	cr_assert_eq(rec_set(c, tbl_field(t, "title", 5), &v, &dot), OP_OK);
	buf_reset(&b);
	cr_assert_eq(wire_enc_state(&b, c), OP_OK);
	cr_assert_eq(wire_decode_state(b.p, b.len, true, &d, &e), OP_OK, "%s", e.msg);
	cr_assert(d->f[tbl_field(t, "title", 5)].set);
	cr_assert_eq(d->f[tbl_field(t, "title", 5)].v.t, VAL_NIL);
	assert_same_state(c, d);
	rec_free(d);
	/* Trailing bytes after a state. */
	cr_assert_eq(buf_addc(&b, 0), OP_OK);
	cr_assert_eq(wire_decode_state(b.p, b.len, true, &d, &e), OP_EPROTO);
	cr_assert_eq(e.code, WERR_MALFORMED);
	cr_assert_null(d);
	rec_free(r);
	rec_free(c);
	buf_release(&b);
}

/* ---- refusals: shape -------------------------------------------------- */

Test(wire, reject_not_a_map)
{
	static const unsigned char nil[] = { 0xc0 };
	static const unsigned char one[] = { 0x01 };
	static const unsigned char c1[] = { 0xc1 };
	struct pk k;

	pk_begin(&k);
	msgpack_pack_array(&k.p, 2);
	ps(&k.p, "t");
	ps(&k.p, "pull");
	expect_code(&k, true, WERR_MALFORMED, "array");
	pk_begin(&k);
	ps(&k.p, "pull");
	expect_code(&k, true, WERR_MALFORMED, "string");
	expect_code_in(nil, sizeof(nil), true, WERR_MALFORMED, "nil");
	expect_code_in(one, sizeof(one), true, WERR_MALFORMED, "int");
	expect_code_in(c1, sizeof(c1), true, WERR_MALFORMED, "0xc1");
	expect_code_in("", 0, true, WERR_MALFORMED, "no bytes");
}

Test(wire, reject_empty_map)
{
	static const unsigned char empty[] = { 0x80 };

	expect_code_in(empty, sizeof(empty), true, WERR_MALFORMED, "empty map");
	expect_code_in(empty, sizeof(empty), false, WERR_MALFORMED, "empty map lenient");
}

Test(wire, reject_first_key_not_t)
{
	struct pk k;

	pk_begin(&k);
	msgpack_pack_map(&k.p, 2);
	ps(&k.p, "cursor");
	msgpack_pack_uint64(&k.p, 1);
	ps(&k.p, "t");
	ps(&k.p, "pull");
	expect_code(&k, true, WERR_MALFORMED, "cursor first");
	pk_begin(&k);
	msgpack_pack_map(&k.p, 1);
	ps(&k.p, "type");
	ps(&k.p, "pull");
	expect_code(&k, true, WERR_MALFORMED, "key type");
}

Test(wire, reject_unknown_message_type)
{
	struct pk k;

	pk_begin(&k);
	msgpack_pack_map(&k.p, 1);
	ps(&k.p, "t");
	ps(&k.p, "bogus");
	expect_code(&k, true, WERR_UNKNOWN_MSG, "bogus");
	pk_begin(&k);
	msgpack_pack_map(&k.p, 1);
	ps(&k.p, "t");
	ps(&k.p, "pullpullpullpullpullpullpullpullpullpull");
	expect_code(&k, true, WERR_UNKNOWN_MSG, "long type");
	pk_begin(&k);
	msgpack_pack_map(&k.p, 1);
	ps(&k.p, "t");
	ps(&k.p, "");
	expect_code(&k, false, WERR_UNKNOWN_MSG, "empty type");
}

Test(wire, reject_unknown_key)
{
	struct pk k;

	pk_begin(&k);
	msgpack_pack_map(&k.p, 4);
	ps(&k.p, "t");
	ps(&k.p, "pull");
	ps(&k.p, "cursor");
	msgpack_pack_uint64(&k.p, 1);
	ps(&k.p, "limit");
	msgpack_pack_uint64(&k.p, 1);
	ps(&k.p, "bogus");
	msgpack_pack_uint64(&k.p, 1);
	expect_code(&k, true, WERR_UNKNOWN_FIELD, "bogus");
	/* A key of another message type. */
	pk_begin(&k);
	msgpack_pack_map(&k.p, 3);
	ps(&k.p, "t");
	ps(&k.p, "pull");
	ps(&k.p, "cursor");
	msgpack_pack_uint64(&k.p, 1);
	ps(&k.p, "upto");
	msgpack_pack_uint64(&k.p, 1);
	expect_code(&k, false, WERR_UNKNOWN_FIELD, "upto in pull");
	/* A key too long for any message. */
	pk_begin(&k);
	msgpack_pack_map(&k.p, 2);
	ps(&k.p, "t");
	ps(&k.p, "pull");
	ps(&k.p, "cursorcursorcursorcursorcursorcursor");
	msgpack_pack_uint64(&k.p, 1);
	expect_code(&k, true, WERR_UNKNOWN_FIELD, "long key");
}

Test(wire, reject_wrong_type_for_key)
{
	struct pk k;

	pk_begin(&k);
	msgpack_pack_map(&k.p, 2);
	ps(&k.p, "t");
	ps(&k.p, "pull");
	ps(&k.p, "cursor");
	ps(&k.p, "12");
	expect_code(&k, true, WERR_TYPE, "cursor string");
	pk_begin(&k);
	msgpack_pack_map(&k.p, 2);
	ps(&k.p, "t");
	ps(&k.p, "pull");
	ps(&k.p, "cursor");
	msgpack_pack_int64(&k.p, -1);
	expect_code(&k, true, WERR_TYPE, "cursor negative");
	pk_begin(&k);
	msgpack_pack_map(&k.p, 2);
	ps(&k.p, "t");
	ps(&k.p, "pull");
	ps(&k.p, "cursor");
	msgpack_pack_double(&k.p, 1.0);
	expect_code(&k, true, WERR_TYPE, "cursor float");
	pk_begin(&k);
	msgpack_pack_map(&k.p, 1);
	ps(&k.p, "t");
	msgpack_pack_uint64(&k.p, 5);
	expect_code(&k, true, WERR_TYPE, "t integer");
	pk_begin(&k);
	msgpack_pack_map(&k.p, 4);
	ps(&k.p, "t");
	ps(&k.p, "batch");
	ps(&k.p, "cursor");
	msgpack_pack_uint64(&k.p, 1);
	ps(&k.p, "more");
	msgpack_pack_uint64(&k.p, 1);
	ps(&k.p, "recs");
	msgpack_pack_array(&k.p, 0);
	expect_code(&k, true, WERR_TYPE, "more integer");
	pk_begin(&k);
	msgpack_pack_map(&k.p, 3);
	ps(&k.p, "t");
	ps(&k.p, "push");
	ps(&k.p, "n");
	msgpack_pack_uint64(&k.p, 1);
	ps(&k.p, "changes");
	msgpack_pack_map(&k.p, 0);
	expect_code(&k, true, WERR_TYPE, "changes map");
	pk_begin(&k);
	msgpack_pack_map(&k.p, 3);
	ps(&k.p, "t");
	ps(&k.p, "error");
	ps(&k.p, "code");
	msgpack_pack_uint64(&k.p, 1);
	ps(&k.p, "msg");
	msgpack_pack_nil(&k.p);
	expect_code(&k, true, WERR_TYPE, "msg nil");
}

Test(wire, reject_wrong_type_in_change)
{
	static const struct fv bool_name[] = { { "name", 'b', 0, 0, NULL, 0 } };
	static const struct fv arr_name[] = { { "name", 'a', 0, 0, NULL, 0 } };
	struct chg c = chg_ok();
	struct pk k;

	/* Key order within a change is free: ctr last is fine. */
	c.dup = "ctr";
	c.omit = "ctr";
	pk_push(&k, &c, 1);
	{
		struct wire_msg m;

		expect_ok(&k, true, &m, "ctr last");
		wire_msg_release(&m);
	}
	c = chg_ok();
	c.f = bool_name;
	expect_chg_code(&c, true, WERR_TYPE, "bool value");
	c.f = arr_name;
	expect_chg_code(&c, true, WERR_TYPE, "array value");
	/* A change that is not a map. */
	pk_begin(&k);
	msgpack_pack_map(&k.p, 3);
	ps(&k.p, "t");
	ps(&k.p, "push");
	ps(&k.p, "n");
	msgpack_pack_uint64(&k.p, 1);
	ps(&k.p, "changes");
	msgpack_pack_array(&k.p, 1);
	msgpack_pack_array(&k.p, 0);
	expect_code(&k, true, WERR_TYPE, "change array");
}

/* ---- refusals: tables, fields, values --------------------------------- */

Test(wire, unknown_table_strict_vs_lenient)
{
	struct chg c[2] = { chg_ok(), chg_ok() };
	struct wire_msg m;
	struct pk k;

	c[0].tbl = "widget";
	pk_push(&k, c, 2);
	expect_code(&k, true, WERR_UNKNOWN_TABLE, "push strict");
	pk_push(&k, c, 2);
	expect_ok(&k, false, &m, "push lenient");
	cr_assert_eq(m.nrecs, 1);
	cr_assert_str_eq(m.recs[0]->t->name, "customer");
	wire_msg_release(&m);
	/* A batch from a newer server. */
	pk_batch_head(&k, 2);
	pk_state(&k.p, "widget", name_acme, 1);
	pk_state(&k.p, "customer", name_acme, 1);
	expect_code(&k, true, WERR_UNKNOWN_TABLE, "batch strict");
	pk_batch_head(&k, 2);
	pk_state(&k.p, "widget", name_acme, 1);
	pk_state(&k.p, "customer", name_acme, 1);
	expect_ok(&k, false, &m, "batch lenient");
	cr_assert_eq(m.nrecs, 1);
	cr_assert_str_eq(m.recs[0]->f[C_NAME].v.s, "Acme");
	wire_msg_release(&m);
}

Test(wire, unknown_table_state_lenient_gives_no_record)
{
	struct wire_err e;
	struct rec *r = (struct rec *)1;
	struct pk k;

	pk_begin(&k);
	pk_state(&k.p, "widget", name_acme, 1);
	cr_assert_eq(wire_decode_state(k.sb.data, k.sb.size, false, &r, &e), OP_OK);
	cr_assert_null(r);
	cr_assert_eq(wire_decode_state(k.sb.data, k.sb.size, true, &r, &e), OP_EPROTO);
	cr_assert_eq(e.code, WERR_UNKNOWN_TABLE);
	cr_assert_null(r);
	pk_end(&k);
}

Test(wire, unknown_field_strict_vs_lenient)
{
	static const struct fv f[] = {
		{ "name", 's', 0, 0, "Acme", 0 },
		{ "fax", 's', 0, 0, "+1 555", 0 },
		{ "satisfaction", 'i', 3, 0, NULL, 0 },
	};
	struct chg c = chg_ok();
	struct wire_msg m;
	struct pk k;
	int i;

	pk_batch_head(&k, 1);
	pk_state(&k.p, "customer", f, 3);
	expect_code(&k, true, WERR_UNKNOWN_FIELD, "batch strict");
	pk_batch_head(&k, 1);
	pk_state(&k.p, "customer", f, 3);
	expect_ok(&k, false, &m, "batch lenient");
	cr_assert_eq(m.nrecs, 1);
	for (i = 0; i < m.recs[0]->t->nfields; i++)
		cr_assert_eq(m.recs[0]->f[i].set, i == C_NAME || i == C_SAT);
	cr_assert_eq(m.recs[0]->f[C_SAT].v.i, 3);
	wire_msg_release(&m);
	/* A change sent to the server. */
	c.f = f;
	c.nf = 3;
	expect_chg_code(&c, true, WERR_UNKNOWN_FIELD, "push strict");
}

Test(wire, unknown_key_in_change_or_state)
{
	struct chg c = chg_ok();
	struct pk k;

	c.extra = "colour";
	expect_chg_code(&c, true, WERR_UNKNOWN_FIELD, "extra key");
	c.extra = "tomb";
	expect_chg_code(&c, false, WERR_UNKNOWN_FIELD, "tomb in a change");
	/* "ctr" belongs to changes, not states. */
	pk_batch_head(&k, 1);
	msgpack_pack_map(&k.p, 5);
	ps(&k.p, "tbl");
	ps(&k.p, "customer");
	ps(&k.p, "id");
	ps(&k.p, ID_1);
	ps(&k.p, "vv");
	msgpack_pack_map(&k.p, 0);
	ps(&k.p, "f");
	msgpack_pack_map(&k.p, 0);
	ps(&k.p, "ctr");
	msgpack_pack_uint64(&k.p, 1);
	expect_code(&k, false, WERR_UNKNOWN_FIELD, "ctr in a state");
}

Test(wire, reject_invalid_values)
{
	static const struct fv sat9[] = { { "satisfaction", 'i', 9, 0, NULL, 0 } };
	static const struct fv sat0[] = { { "satisfaction", 'i', 0, 0, NULL, 0 } };
	static const struct fv email[] = { { "email", 's', 0, 0, "not-an-email", 0 } };
	static const struct fv credit[] = { { "credit", 'd', 0, -5.0, NULL, 0 } };
	static const struct fv noname[] = { { "name", 'n', 0, 0, NULL, 0 } };
	static const struct fv bday[] = {
		{ "customer", 's', 0, 0, ID_1, 0 },
		{ "name", 's', 0, 0, "Ann", 0 },
		{ "birthday", 's', 0, 0, "2023-02-29", 0 },
	};
	static const struct fv bday_ok[] = {
		{ "customer", 's', 0, 0, ID_1, 0 },
		{ "name", 's', 0, 0, "Ann", 0 },
		{ "birthday", 's', 0, 0, "2024-02-29", 0 },
	};
	static const struct fv badref[] = { { "customer", 's', 0, 0, "customer-one", 0 } };
	static char name201[202];
	struct fv longname[] = { { "name", 's', 0, 0, name201, 0 } };
	struct chg c = chg_ok();
	struct wire_msg m;
	struct pk k;

	memset(name201, 'x', 201);
	c.f = sat9;
	expect_chg_code(&c, true, WERR_INVALID, "satisfaction 9");
	/* A change is always checked, even by a lenient decoder. */
	expect_chg_code(&c, false, WERR_INVALID, "satisfaction 9 lenient");
	c.f = sat0;
	expect_chg_code(&c, true, WERR_INVALID, "satisfaction 0");
	c.f = email;
	expect_chg_code(&c, true, WERR_INVALID, "email");
	c.f = credit;
	expect_chg_code(&c, true, WERR_INVALID, "negative credit");
	c.f = noname;
	expect_chg_code(&c, true, WERR_INVALID, "required field cleared");
	c.f = longname;
	expect_chg_code(&c, true, WERR_INVALID, "name of 201 bytes");
	c.tbl = "contact";
	c.f = bday;
	c.nf = 3;
	expect_chg_code(&c, true, WERR_INVALID, "Feb 29 2023");
	c.f = bday_ok;
	pk_push(&k, &c, 1);
	expect_ok(&k, true, &m, "Feb 29 2024");
	wire_msg_release(&m);
	c.f = badref;
	c.nf = 1;
	expect_chg_code(&c, true, WERR_INVALID, "bad reference");
	/* States are checked in strict mode only. */
	pk_batch_head(&k, 1);
	pk_state(&k.p, "customer", sat9, 1);
	expect_code(&k, true, WERR_INVALID, "state satisfaction 9");
	pk_batch_head(&k, 1);
	pk_state(&k.p, "customer", sat9, 1);
	expect_ok(&k, false, &m, "state satisfaction 9 lenient");
	cr_assert_eq(m.recs[0]->f[C_SAT].v.i, 9);
	wire_msg_release(&m);
}

Test(wire, reject_invalid_ids)
{
	struct chg c = chg_ok();
	struct pk k;

	c.id = "1111111111111111111111111111111G";
	expect_chg_code(&c, true, WERR_INVALID, "id not hex");
	c.id = "111";
	expect_chg_code(&c, true, WERR_INVALID, "id short");
	c = chg_ok();
	c.vrep = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
	expect_chg_code(&c, true, WERR_INVALID, "vv replica upper case");
	pk_begin(&k);
	msgpack_pack_map(&k.p, 6);
	ps(&k.p, "t");
	ps(&k.p, "hello");
	ps(&k.p, "proto");
	msgpack_pack_uint64(&k.p, 1);
	ps(&k.p, "schema");
	msgpack_pack_uint64(&k.p, 1);
	ps(&k.p, "replica");
	ps(&k.p, "not-a-replica");
	ps(&k.p, "agent");
	ps(&k.p, "x");
	ps(&k.p, "auth");
	msgpack_pack_nil(&k.p);
	expect_code(&k, true, WERR_INVALID, "hello replica");
}

Test(wire, reject_auth)
{
	struct pk k;

	pk_begin(&k);
	msgpack_pack_map(&k.p, 6);
	ps(&k.p, "t");
	ps(&k.p, "hello");
	ps(&k.p, "proto");
	msgpack_pack_uint64(&k.p, 1);
	ps(&k.p, "schema");
	msgpack_pack_uint64(&k.p, 1);
	ps(&k.p, "replica");
	ps(&k.p, REP_B);
	ps(&k.p, "agent");
	ps(&k.p, "x");
	ps(&k.p, "auth");
	ps(&k.p, "secret");
	expect_code(&k, true, WERR_INVALID, "auth that is not a token");
}

Test(wire, reject_invalid_utf8)
{
	static const struct fv bad2[] = { { "name", 's', 0, 0, "Ac\xc3\x28me", 0 } };
	static const struct fv over[] = { { "name", 's', 0, 0, "\xc0\xaf", 0 } };
	static const struct fv surr[] = { { "name", 's', 0, 0, "\xed\xa0\x80", 0 } };
	static const struct fv nul[] = { { "name", 's', 0, 0, "a\0b", 3 } };
	static const struct fv cut[] = { { "name", 's', 0, 0, "ab\xe2\x82", 0 } };
	struct chg c = chg_ok();
	struct pk k;

	c.f = bad2;
	expect_chg_code(&c, true, WERR_INVALID, "bad continuation");
	c.f = over;
	expect_chg_code(&c, true, WERR_INVALID, "overlong");
	c.f = surr;
	expect_chg_code(&c, true, WERR_INVALID, "surrogate");
	c.f = nul;
	expect_chg_code(&c, true, WERR_INVALID, "NUL");
	c.f = cut;
	expect_chg_code(&c, true, WERR_INVALID, "cut sequence");
	/* States, even lenient ones. */
	pk_batch_head(&k, 1);
	pk_state(&k.p, "customer", bad2, 1);
	expect_code(&k, false, WERR_INVALID, "state lenient");
	/* Message text fields. */
	pk_begin(&k);
	msgpack_pack_map(&k.p, 3);
	ps(&k.p, "t");
	ps(&k.p, "error");
	ps(&k.p, "code");
	msgpack_pack_uint64(&k.p, 1);
	ps(&k.p, "msg");
	ps(&k.p, "bad \xff byte");
	expect_code(&k, true, WERR_INVALID, "error msg");
	pk_begin(&k);
	msgpack_pack_map(&k.p, 5);
	ps(&k.p, "t");
	ps(&k.p, "hello");
	ps(&k.p, "proto");
	msgpack_pack_uint64(&k.p, 1);
	ps(&k.p, "schema");
	msgpack_pack_uint64(&k.p, 1);
	ps(&k.p, "replica");
	ps(&k.p, REP_B);
	ps(&k.p, "agent");
	ps(&k.p, "\xf5\x80\x80\x80");
	expect_code(&k, true, WERR_INVALID, "hello agent");
}

/* ---- refusals: duplicates, missing keys, trailing bytes --------------- */

Test(wire, reject_duplicate_keys)
{
	static const struct fv twice[] = {
		{ "name", 's', 0, 0, "A", 0 }, { "name", 's', 0, 0, "B", 0 },
	};
	struct chg c = chg_ok();
	struct pk k;

	pk_begin(&k);
	msgpack_pack_map(&k.p, 3);
	ps(&k.p, "t");
	ps(&k.p, "pull");
	ps(&k.p, "cursor");
	msgpack_pack_uint64(&k.p, 1);
	ps(&k.p, "cursor");
	msgpack_pack_uint64(&k.p, 2);
	expect_code(&k, true, WERR_MALFORMED, "cursor twice");
	pk_begin(&k);
	msgpack_pack_map(&k.p, 2);
	ps(&k.p, "t");
	ps(&k.p, "pull");
	ps(&k.p, "t");
	ps(&k.p, "pull");
	expect_code(&k, true, WERR_UNKNOWN_FIELD, "t twice");
	c.dup = "tbl";
	expect_chg_code(&c, true, WERR_MALFORMED, "tbl twice");
	c.dup = "f";
	expect_chg_code(&c, true, WERR_MALFORMED, "f twice");
	c = chg_ok();
	c.f = twice;
	c.nf = 2;
	expect_chg_code(&c, true, WERR_MALFORMED, "field twice");
	/* The same replica twice in a vector. */
	pk_begin(&k);
	msgpack_pack_map(&k.p, 4);
	ps(&k.p, "tbl");
	ps(&k.p, "customer");
	ps(&k.p, "id");
	ps(&k.p, ID_1);
	ps(&k.p, "vv");
	msgpack_pack_map(&k.p, 2);
	ps(&k.p, REP_A);
	msgpack_pack_uint64(&k.p, 1);
	ps(&k.p, REP_A);
	msgpack_pack_uint64(&k.p, 2);
	ps(&k.p, "f");
	msgpack_pack_map(&k.p, 0);
	{
		struct wire_err e;
		struct rec *r;

		cr_assert_eq(wire_decode_state(k.sb.data, k.sb.size, true, &r, &e), OP_EPROTO);
		cr_assert_eq(e.code, WERR_INVALID, "%s", e.msg);
		cr_assert_null(r);
	}
	pk_end(&k);
}

Test(wire, reject_missing_required_keys)
{
	static const char *const keys[] = { "tbl", "id", "ctr", "hlc", "vv", "del", "f" };
	struct chg c = chg_ok();
	struct pk k;
	size_t i;

	pk_begin(&k);
	msgpack_pack_map(&k.p, 1);
	ps(&k.p, "t");
	ps(&k.p, "pull");
	expect_code(&k, true, WERR_MALFORMED, "pull without cursor");
	pk_begin(&k);
	msgpack_pack_map(&k.p, 2);
	ps(&k.p, "t");
	ps(&k.p, "pull");
	ps(&k.p, "cursor");
	msgpack_pack_uint64(&k.p, 0);
	{
		struct wire_msg m;

		expect_ok(&k, true, &m, "limit is optional");
		cr_assert_eq(m.limit, 0);
		wire_msg_release(&m);
	}
	pk_begin(&k);
	msgpack_pack_map(&k.p, 4);
	ps(&k.p, "t");
	ps(&k.p, "hello");
	ps(&k.p, "proto");
	msgpack_pack_uint64(&k.p, 1);
	ps(&k.p, "schema");
	msgpack_pack_uint64(&k.p, 1);
	ps(&k.p, "replica");
	ps(&k.p, REP_B);
	expect_code(&k, true, WERR_MALFORMED, "hello without agent");
	pk_begin(&k);
	msgpack_pack_map(&k.p, 2);
	ps(&k.p, "t");
	ps(&k.p, "push");
	ps(&k.p, "n");
	msgpack_pack_uint64(&k.p, 1);
	expect_code(&k, true, WERR_MALFORMED, "push without changes");
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		c.omit = keys[i];
		expect_chg_code(&c, true, WERR_MALFORMED, keys[i]);
	}
}

Test(wire, reject_trailing_bytes)
{
	struct buf b = BUF_INIT;

	cr_assert_eq(wire_enc_pull(&b, 1, 2), OP_OK);
	cr_assert_eq(buf_addc(&b, (char)0xc0), OP_OK);
	expect_code_in(b.p, b.len, true, WERR_MALFORMED, "pull + nil");
	buf_reset(&b);
	cr_assert_eq(wire_enc_pull(&b, 1, 2), OP_OK);
	cr_assert_eq(wire_enc_pull(&b, 1, 2), OP_OK);
	expect_code_in(b.p, b.len, true, WERR_MALFORMED, "two messages");
	buf_release(&b);
}

/* ---- refusals: limits ------------------------------------------------- */

/* A push of count changes, change i with a note of note[i] bytes. */
static void pk_push_notes(struct pk *k, const size_t *note, size_t count)
{
	static char text[10001];
	struct chg *c = calloc(count, sizeof(*c));
	struct fv *f = calloc(count * 2, sizeof(*f));
	size_t i;

	cr_assert(c && f);
	memset(text, 'n', sizeof(text) - 1);
	for (i = 0; i < count; i++) {
		c[i] = chg_ok();
		c[i].ctr = c[i].vctr = i + 1;
		f[2 * i] = name_acme[0];
		f[2 * i + 1].name = "note";
		f[2 * i + 1].kind = 's';
		f[2 * i + 1].s = text;
		f[2 * i + 1].n = note[i];
		c[i].f = &f[2 * i];
		c[i].nf = note[i] ? 2 : 1;
	}
	pk_push(k, c, count);
	free(c);
	free(f);
}

/* Moves the note sizes so the push grows by diff bytes, keeping every
 * note within 300..10000 bytes (one str16 header size, a valid length). */
static void spread(size_t *note, size_t n, long diff)
{
	size_t i = n;

	while (diff != 0 && i-- > 0) {
		long room = diff > 0 ? 10000 - (long)note[i] : (long)note[i] - 300;
		long step = labs(diff) < room ? labs(diff) : room;

		note[i] = diff > 0 ? note[i] + (size_t)step : note[i] - (size_t)step;
		diff += diff > 0 ? -step : step;
	}
	cr_assert_eq(diff, 0);
}

Test(wire, frame_size_limit)
{
	enum { N = 110 };
	size_t note[N];
	struct wire_msg m;
	struct pk k;
	size_t i, size = 0;
	int tries;

	/* Fill a push to exactly WIRE_MAX_FRAME bytes with notes. */
	for (i = 0; i < N; i++)
		note[i] = 9000;
	for (tries = 0; tries < 4; tries++) {
		pk_push_notes(&k, note, N);
		size = k.sb.size;
		if (size == WIRE_MAX_FRAME)
			break;
		pk_end(&k);
		spread(note, N, (long)WIRE_MAX_FRAME - (long)size);
	}
	cr_assert_eq(size, WIRE_MAX_FRAME);
	expect_ok(&k, true, &m, "exactly the limit");
	cr_assert_eq(m.nrecs, N);
	wire_msg_release(&m);
	/* One byte more is refused before anything is parsed. */
	spread(note, N, 1);
	pk_push_notes(&k, note, N);
	cr_assert_eq(k.sb.size, WIRE_MAX_FRAME + 1);
	expect_code(&k, true, WERR_TOO_BIG, "limit + 1");
}

Test(wire, frame_size_limit_on_garbage)
{
	char *big = calloc(1, WIRE_MAX_FRAME + 1);

	cr_assert_not_null(big);
	expect_code_in(big, WIRE_MAX_FRAME + 1, true, WERR_TOO_BIG, "zeros");
	expect_code_in(big, WIRE_MAX_FRAME + 1, false, WERR_TOO_BIG, "zeros lenient");
	free(big);
}

Test(wire, batch_count_limit)
{
	struct chg *c = calloc(WIRE_MAX_BATCH + 1, sizeof(*c));
	struct wire_msg m;
	struct pk k;
	size_t i;

	cr_assert_not_null(c);
	for (i = 0; i <= WIRE_MAX_BATCH; i++) {
		c[i] = chg_ok();
		c[i].ctr = c[i].vctr = i + 1;
	}
	pk_push(&k, c, WIRE_MAX_BATCH);
	expect_ok(&k, true, &m, "WIRE_MAX_BATCH changes");
	cr_assert_eq(m.nrecs, WIRE_MAX_BATCH);
	wire_msg_release(&m);
	pk_push(&k, c, WIRE_MAX_BATCH + 1);
	expect_code(&k, true, WERR_TOO_BIG, "WIRE_MAX_BATCH + 1 changes");
	free(c);
	pk_batch_head(&k, WIRE_MAX_BATCH + 1);
	for (i = 0; i <= WIRE_MAX_BATCH; i++)
		pk_state(&k.p, "customer", name_acme, 1);
	expect_code(&k, false, WERR_TOO_BIG, "WIRE_MAX_BATCH + 1 states");
}

Test(wire, hostile_counts_in_messages)
{
	/* {"t":"push","n":1,"changes": array32 of 2^32-1} in a few bytes. */
	static const unsigned char push[] = {
		0x83, 0xa1, 't', 0xa4, 'p', 'u', 's', 'h', 0xa1, 'n', 0x01,
		0xa7, 'c', 'h', 'a', 'n', 'g', 'e', 's', 0xdd, 0xff, 0xff, 0xff, 0xff,
		0xc0, 0xc0,
	};
	/* A map claiming 2^32-1 pairs. */
	static const unsigned char map[] = { 0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, 't', 0xa4, 'p', 'u' };

	expect_code_in(push, sizeof(push), true, WERR_MALFORMED, "changes count");
	expect_code_in(map, sizeof(map), true, WERR_MALFORMED, "map count");
}

Test(wire, vector_and_tombstone_limits)
{
	struct wire_err e;
	struct rec *r;
	char rep[VV_REPLEN + 1];
	struct pk k;
	int n, i;

	/* Version vectors hold at most 4096 replicas. */
	for (n = 4096; n <= 4097; n++) {
		pk_begin(&k);
		msgpack_pack_map(&k.p, 4);
		ps(&k.p, "tbl");
		ps(&k.p, "customer");
		ps(&k.p, "id");
		ps(&k.p, ID_1);
		ps(&k.p, "vv");
		msgpack_pack_map(&k.p, (size_t)n);
		for (i = 0; i < n; i++) {
			snprintf(rep, sizeof(rep), "%032x", (unsigned)i);
			ps(&k.p, rep);
			msgpack_pack_uint64(&k.p, 1);
		}
		ps(&k.p, "f");
		msgpack_pack_map(&k.p, 0);
		r = NULL;
		if (n == 4096) {
			cr_assert_eq(wire_decode_state(k.sb.data, k.sb.size, true, &r, &e), OP_OK,
				     "%s", e.msg);
			cr_assert_eq(vv_size(r->vv), 4096);
		} else {
			cr_assert_eq(wire_decode_state(k.sb.data, k.sb.size, true, &r, &e), OP_ETOOBIG);
			cr_assert_eq(e.code, WERR_TOO_BIG);
		}
		rec_free(r);
		pk_end(&k);
	}
	/* A tombstone lists at most 256 deletes. */
	for (n = 256; n <= 257; n++) {
		pk_begin(&k);
		msgpack_pack_map(&k.p, 5);
		ps(&k.p, "tbl");
		ps(&k.p, "customer");
		ps(&k.p, "id");
		ps(&k.p, ID_1);
		ps(&k.p, "vv");
		msgpack_pack_map(&k.p, 1);
		ps(&k.p, REP_A);
		msgpack_pack_uint64(&k.p, 1000);
		ps(&k.p, "f");
		msgpack_pack_map(&k.p, 0);
		ps(&k.p, "tomb");
		msgpack_pack_array(&k.p, 2);
		msgpack_pack_map(&k.p, 1);
		ps(&k.p, REP_A);
		msgpack_pack_uint64(&k.p, 1000);
		msgpack_pack_array(&k.p, (size_t)n);
		for (i = 0; i < n; i++) {
			msgpack_pack_array(&k.p, 3);
			ps(&k.p, REP_A);
			msgpack_pack_uint64(&k.p, (uint64_t)i + 1);
			msgpack_pack_uint64(&k.p, 5);
		}
		r = NULL;
		if (n == 256) {
			cr_assert_eq(wire_decode_state(k.sb.data, k.sb.size, true, &r, &e), OP_OK,
				     "%s", e.msg);
			cr_assert_eq(r->ndels, 256);
		} else {
			cr_assert_neq(wire_decode_state(k.sb.data, k.sb.size, true, &r, &e), OP_OK);
			cr_assert_null(r);
		}
		rec_free(r);
		pk_end(&k);
	}
}

Test(wire, text_limits_in_messages)
{
	static char agent[65];
	struct pk k;
	struct wire_msg m;

	memset(agent, 'a', 64);
	pk_begin(&k);
	msgpack_pack_map(&k.p, 5);
	ps(&k.p, "t");
	ps(&k.p, "hello");
	ps(&k.p, "proto");
	msgpack_pack_uint64(&k.p, 1);
	ps(&k.p, "schema");
	msgpack_pack_uint64(&k.p, 1);
	ps(&k.p, "replica");
	ps(&k.p, REP_B);
	ps(&k.p, "agent");
	psn(&k.p, agent, 63);
	expect_ok(&k, true, &m, "agent of 63 bytes");
	cr_assert_eq(strlen(m.agent), 63);
	wire_msg_release(&m);
	pk_begin(&k);
	msgpack_pack_map(&k.p, 5);
	ps(&k.p, "t");
	ps(&k.p, "hello");
	ps(&k.p, "proto");
	msgpack_pack_uint64(&k.p, 1);
	ps(&k.p, "schema");
	msgpack_pack_uint64(&k.p, 1);
	ps(&k.p, "replica");
	ps(&k.p, REP_B);
	ps(&k.p, "agent");
	psn(&k.p, agent, 64);
	expect_code(&k, true, WERR_TOO_BIG, "agent of 64 bytes");
}

Test(wire, deep_nesting_in_skipped_values)
{
	static const struct fv f[] = { { "name", 's', 0, 0, "Acme", 0 } };
	struct pk k;
	int i;

	/* An unknown field skipped by a lenient decoder, nested too deep. */
	pk_batch_head(&k, 1);
	msgpack_pack_map(&k.p, 4);
	ps(&k.p, "tbl");
	ps(&k.p, "customer");
	ps(&k.p, "id");
	ps(&k.p, ID_1);
	ps(&k.p, "vv");
	msgpack_pack_map(&k.p, 0);
	ps(&k.p, "f");
	msgpack_pack_map(&k.p, 2);
	ps(&k.p, f[0].name);
	msgpack_pack_array(&k.p, 4);
	ps(&k.p, "Acme");
	ps(&k.p, REP_A);
	msgpack_pack_uint64(&k.p, 1);
	msgpack_pack_uint64(&k.p, 1);
	ps(&k.p, "fax");
	for (i = 0; i < 5000; i++)
		msgpack_pack_array(&k.p, 1);
	msgpack_pack_nil(&k.p);
	expect_code(&k, false, WERR_MALFORMED, "deep unknown field");
}

/* ---- refusals: changes inconsistent with themselves ------------------- */

Test(wire, reject_change_vv_without_own_counter)
{
	struct chg c = chg_ok();

	c.ctr = 5;
	c.vctr = 4;
	expect_chg_code(&c, true, WERR_INVALID, "vv behind ctr");
	c.vctr = 6;
	expect_chg_code(&c, true, WERR_INVALID, "vv ahead of ctr");
	c.vrep = REP_B;
	c.vctr = 5;
	expect_chg_code(&c, true, WERR_INVALID, "vv of another replica");
	c.vrep = NULL;
	expect_chg_code(&c, true, WERR_INVALID, "empty vv");
	c = chg_ok();
	c.ctr = 0;
	c.vrep = NULL;
	expect_chg_code(&c, true, WERR_INVALID, "counter 0");
	c = chg_ok();
	c.vctr = 0;
	expect_chg_code(&c, true, WERR_INVALID, "zero vv entry");
}

Test(wire, reject_delete_with_fields)
{
	struct chg c = chg_ok();
	struct wire_msg m;
	struct pk k;

	c.del = true;
	expect_chg_code(&c, true, WERR_INVALID, "delete with a field");
	c.nf = 0;
	pk_push(&k, &c, 1);
	expect_ok(&k, true, &m, "delete");
	cr_assert_not_null(m.recs[0]->tomb);
	cr_assert_not(rec_alive(m.recs[0]));
	wire_msg_release(&m);
}

Test(wire, reject_put_without_fields)
{
	struct chg c = chg_ok();

	c.nf = 0;
	expect_chg_code(&c, true, WERR_INVALID, "put of nothing");
	expect_chg_code(&c, false, WERR_INVALID, "put of nothing lenient");
}

/*
 * A dead customer state whose tomb has tomb_n elements: the vector {A: 1}
 * then ndel deletes of del_n elements, each (A, del_ctr, 5). Decodes it
 * and expects code (0: success).
 */
static void expect_tomb(size_t tomb_n, size_t ndel, size_t del_n,
			uint64_t del_ctr, int code, const char *what)
{
	struct wire_err e;
	struct rec *r = NULL;
	struct pk k;
	size_t i;
	int rc;

	pk_begin(&k);
	msgpack_pack_map(&k.p, 5);
	ps(&k.p, "tbl");
	ps(&k.p, "customer");
	ps(&k.p, "id");
	ps(&k.p, ID_1);
	ps(&k.p, "vv");
	msgpack_pack_map(&k.p, 1);
	ps(&k.p, REP_A);
	msgpack_pack_uint64(&k.p, 1);
	ps(&k.p, "f");
	msgpack_pack_map(&k.p, 0);
	ps(&k.p, "tomb");
	msgpack_pack_array(&k.p, tomb_n);
	msgpack_pack_map(&k.p, 1);
	ps(&k.p, REP_A);
	msgpack_pack_uint64(&k.p, 1);
	msgpack_pack_array(&k.p, ndel);
	for (i = 0; i < ndel; i++) {
		msgpack_pack_array(&k.p, del_n);
		ps(&k.p, REP_A);
		msgpack_pack_uint64(&k.p, del_ctr);
		if (del_n > 2)
			msgpack_pack_uint64(&k.p, 5);
	}
	for (i = 2; i < tomb_n; i++)
		msgpack_pack_nil(&k.p);
	rc = wire_decode_state(k.sb.data, k.sb.size, true, &r, &e);
	if (code == 0) {
		cr_assert_eq(rc, OP_OK, "%s: %s", what, e.msg);
		cr_assert_not(rec_alive(r));
		cr_assert_eq(r->ndels, 1);
	} else {
		cr_assert_eq(rc, OP_EPROTO, "%s", what);
		cr_assert_eq(e.code, code, "%s: code %d: %s", what, e.code, e.msg);
		cr_assert_null(r);
	}
	rec_free(r);
	pk_end(&k);
}

Test(wire, reject_state_shapes)
{
	struct wire_err e;
	struct rec *r;
	struct pk k;

	/* A state field that is not [value, replica, counter, time]. */
	pk_begin(&k);
	msgpack_pack_map(&k.p, 4);
	ps(&k.p, "tbl");
	ps(&k.p, "customer");
	ps(&k.p, "id");
	ps(&k.p, ID_1);
	ps(&k.p, "vv");
	msgpack_pack_map(&k.p, 0);
	ps(&k.p, "f");
	msgpack_pack_map(&k.p, 1);
	ps(&k.p, "name");
	msgpack_pack_array(&k.p, 3);
	ps(&k.p, "Acme");
	ps(&k.p, REP_A);
	msgpack_pack_uint64(&k.p, 1);
	cr_assert_eq(wire_decode_state(k.sb.data, k.sb.size, true, &r, &e), OP_EPROTO);
	cr_assert_eq(e.code, WERR_MALFORMED);
	cr_assert_null(r);
	pk_end(&k);
	/* Tombstones: [vv, [[replica, counter, time], ...]] and nothing else. */
	expect_tomb(4, 1, 3, 1, WERR_MALFORMED, "tomb of 4 elements");
	expect_tomb(2, 0, 3, 1, WERR_INVALID, "tomb without deletes");
	expect_tomb(2, 1, 2, 1, WERR_MALFORMED, "delete of 2 elements");
	expect_tomb(2, 1, 3, 2, WERR_INVALID, "delete outside the vector");
	expect_tomb(2, 1, 3, 0, WERR_INVALID, "delete with counter 0");
	expect_tomb(2, 1, 3, 1, 0, "well-formed tomb");
	/* A state missing its vector. */
	pk_begin(&k);
	msgpack_pack_map(&k.p, 3);
	ps(&k.p, "tbl");
	ps(&k.p, "customer");
	ps(&k.p, "id");
	ps(&k.p, ID_1);
	ps(&k.p, "f");
	msgpack_pack_map(&k.p, 0);
	cr_assert_eq(wire_decode_state(k.sb.data, k.sb.size, true, &r, &e), OP_EPROTO);
	cr_assert_eq(e.code, WERR_MALFORMED);
	pk_end(&k);
}

/* ---- garbage ---------------------------------------------------------- */

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

/*
 * Decodes arbitrary bytes both ways: success or a proper error. On success
 * every record must re-encode and decode again (leniently: a state
 * decoded leniently need not pass validation).
 */
static int decode_any(const void *p, size_t n, bool strict)
{
	struct wire_msg m;
	struct wire_err e;
	struct buf b = BUF_INIT;
	struct rec *r;
	size_t i;
	int rc = wire_decode(p, n, REP_A, strict, &m, &e);

	if (rc) {
		cr_assert(rc == OP_EPROTO || rc == OP_ETOOBIG, "rc %d", rc);
		cr_assert(e.code >= WERR_MALFORMED && e.code <= WERR_AUTH, "code %d", e.code);
		cr_assert_null(m.recs);
		return rc;
	}
	cr_assert_leq(m.nrecs, WIRE_MAX_BATCH);
	for (i = 0; i < m.nrecs; i++) {
		cr_assert_not_null(m.recs[i]->t);
		buf_reset(&b);
		cr_assert_eq(wire_enc_state(&b, m.recs[i]), OP_OK);
		cr_assert_eq(wire_decode_state(b.p, b.len, false, &r, &e), OP_OK,
			     "re-decode: %s", e.msg);
		rec_free(r);
	}
	buf_release(&b);
	wire_msg_release(&m);
	return rc;
}

static void decode_state_any(const void *p, size_t n)
{
	struct wire_err e;
	struct rec *r = NULL;
	int rc = wire_decode_state(p, n, true, &r, &e);

	if (rc) {
		cr_assert_null(r);
		cr_assert(e.code >= WERR_MALFORMED && e.code <= WERR_AUTH, "code %d", e.code);
	}
	rec_free(r);
	rc = wire_decode_state(p, n, false, &r, &e);
	if (rc)
		cr_assert_null(r);
	rec_free(r);
}

enum { NCORPUS = 9 };

/* Valid messages of every type, and one record state (the last). */
static void build_corpus(struct buf c[NCORPUS])
{
	static const int fields[] = { C_NAME, C_SAT, C_CREDIT };
	struct rec *r = sample_rec(ID_1, 3), *t = sample_rec(ID_2, 4);
	struct rec_dot d = { REP_A, 3, 1003 }, dd = { REP_B, 3, 7000 };
	struct wire_gone gone[1] = { { contact(), ID_2 } };
	int i;

	for (i = 0; i < NCORPUS; i++)
		c[i] = (struct buf)BUF_INIT;
	cr_assert_eq(rec_delete(t, &dd), OP_OK);
	cr_assert_eq(wire_enc_hello(&c[0], REP_B, "agent", TOKEN), OP_OK);
	cr_assert_eq(wire_enc_welcome(&c[1], &WELCOME), OP_OK);
	cr_assert_eq(wire_enc_push_head(&c[2], 1, 2), OP_OK);
	cr_assert_eq(wire_enc_change(&c[2], r, fields, 3, &d, false), OP_OK);
	cr_assert_eq(vv_raise(t->vv, REP_A, 4), OP_OK);
	d.ctr = 4;
	cr_assert_eq(wire_enc_change(&c[2], t, NULL, 0, &d, true), OP_OK);
	cr_assert_eq(wire_enc_ack(&c[3], 1, 2, 3, 4, 5, 1), OP_OK);
	cr_assert_eq(wire_enc_reject(&c[3], 2, WERR_DENIED, "no", r), OP_OK);
	cr_assert_eq(wire_enc_pull(&c[4], 10, 20), OP_OK);
	cr_assert_eq(wire_enc_batch_head(&c[5], 3, true, gone, 1, 2), OP_OK);
	cr_assert_eq(wire_enc_state(&c[5], r), OP_OK);
	cr_assert_eq(wire_enc_state(&c[5], t), OP_OK);
	cr_assert_eq(wire_enc_error(&c[6], WERR_STATE, "not now"), OP_OK);
	cr_assert_eq(wire_enc_login(&c[7], "ann", "secret", REP_B, "agent"), OP_OK);
	cr_assert_eq(wire_enc_state(&c[8], t), OP_OK);
	rec_free(r);
	rec_free(t);
}

static void free_corpus(struct buf c[NCORPUS])
{
	int i;

	for (i = 0; i < NCORPUS; i++)
		buf_release(&c[i]);
}

Test(wire, corpus_decodes)
{
	struct buf c[NCORPUS];
	struct wire_err e;
	struct rec *r;
	int i;

	build_corpus(c);
	for (i = 0; i < NCORPUS - 1; i++) {
		cr_assert_eq(decode_any(c[i].p, c[i].len, true), OP_OK, "message %d", i);
		cr_assert_eq(decode_any(c[i].p, c[i].len, false), OP_OK, "message %d", i);
	}
	cr_assert_eq(wire_decode_state(c[i].p, c[i].len, true, &r, &e), OP_OK);
	rec_free(r);
	free_corpus(c);
}

Test(wire, garbage_truncations_fail)
{
	struct buf c[NCORPUS];
	size_t len;
	int i;

	build_corpus(c);
	for (i = 0; i < NCORPUS; i++) {
		for (len = 0; len < c[i].len; len++) {
			/* An exact-size copy, so ASan sees any overread. */
			char *p = malloc(len ? len : 1);
			struct wire_msg m;
			struct wire_err e;
			struct rec *r = NULL;

			cr_assert_not_null(p);
			memcpy(p, c[i].p, len);
			if (i < NCORPUS - 1) {
				cr_assert_neq(wire_decode(p, len, REP_A, true, &m, &e), OP_OK,
					      "message %d cut at %zu", i, len);
				cr_assert_neq(wire_decode(p, len, REP_A, false, &m, &e), OP_OK,
					      "message %d cut at %zu", i, len);
			} else {
				cr_assert_neq(wire_decode_state(p, len, false, &r, &e), OP_OK,
					      "state cut at %zu", len);
				cr_assert_null(r);
			}
			free(p);
		}
	}
	free_corpus(c);
}

Test(wire, garbage_mutations_never_crash)
{
	struct buf c[NCORPUS];
	uint64_t s = 0x0dd5eed5ull;
	int i, j, k, ok = 0, bad = 0;

	build_corpus(c);
	for (i = 0; i < NCORPUS; i++) {
		char *p = malloc(c[i].len);

		cr_assert_not_null(p);
		for (j = 0; j < 20000; j++) {
			size_t len = c[i].len;
			int nmut = 1 + (j % 8 == 0 ? (int)(rnd(&s) % 4) : 0);

			memcpy(p, c[i].p, len);
			for (k = 0; k < nmut; k++)
				p[rnd(&s) % len] = (char)rnd(&s);
			/* Now and then cut the mutated message short too. */
			if (j % 5 == 0)
				len = rnd(&s) % (len + 1);
			if (i < NCORPUS - 1) {
				if (decode_any(p, len, true) == OP_OK)
					ok++;
				else
					bad++;
				decode_any(p, len, false);
			} else {
				decode_state_any(p, len);
			}
		}
		free(p);
	}
	/* Some mutations only change a value: both outcomes happen. */
	cr_assert_gt(ok, 0);
	cr_assert_gt(bad, 0);
	free_corpus(c);
}

Test(wire, garbage_random_bytes_never_crash)
{
	static const unsigned char prefix[] = { 0xa1, 't' };
	static const char *const types[] = { "hello", "welcome", "push", "ack",
					     "pull", "batch", "error" };
	uint64_t s = 20240229;
	unsigned char buf[300];
	int i;

	for (i = 0; i < 100000; i++) {
		size_t len = rnd(&s) % sizeof(buf), j, at = 0;

		for (j = 0; j < len; j++)
			buf[j] = (unsigned char)rnd(&s);
		/* Most strings start like a message so the decoder goes deeper. */
		if (i % 4 != 0 && len > 16) {
			const char *t = types[rnd(&s) % 7];

			buf[at++] = (unsigned char)(0x81 + rnd(&s) % 6);
			memcpy(buf + at, prefix, 2);
			at += 2;
			buf[at++] = (unsigned char)(0xa0 | strlen(t));
			memcpy(buf + at, t, strlen(t));
		}
		decode_any(buf, len, true);
		decode_any(buf, len, false);
		decode_state_any(buf, len);
	}
}

Test(wire, key_with_nul_byte_is_rejected)
{
	struct pk k;

	pk_begin(&k);
	msgpack_pack_map(&k.p, 1);
	msgpack_pack_str(&k.p, 3);
	msgpack_pack_str_body(&k.p, "t\0x", 3);
	expect_code(&k, true, WERR_MALFORMED, "\"t\\0x\" as the type key");
}

Test(wire, push_without_a_sender_is_refused)
{
	struct buf b = BUF_INIT;
	struct wire_msg m;
	struct wire_err e;

	cr_assert_eq(wire_enc_push_head(&b, 1, 0), OP_OK);
	cr_assert_neq(wire_decode(b.p, b.len, NULL, true, &m, &e), OP_OK);
	cr_assert_eq(e.code, WERR_STATE);
	cr_assert_neq(wire_decode(b.p, b.len, "", true, &m, &e), OP_OK);
	cr_assert_eq(e.code, WERR_STATE);
	buf_release(&b);
}
