/*
 * wire.c - encoding (msgpack-c packer into a struct buf) and strict
 * decoding (the bounded reader in mp.c) of the sync protocol's messages.
 * Every message is a map whose first key is "t", the message type.
 */
#include <msgpack.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mp.h"
#include "schema.h"
#include "secret.h"
#include "wire.h"

#define WIRE_MAX_VV 4096 /* replicas in one version vector */
#define WIRE_MAX_DELS 256 /* deletes in one tombstone */

/* ---- encoding ---------------------------------------------------------- */

static int buf_write_cb(void *data, const char *p, size_t n)
{
	return buf_add(data, p, n) ? -1 : 0;
}

static void pk_init(msgpack_packer *pk, struct buf *b)
{
	msgpack_packer_init(pk, b, buf_write_cb);
}

static int pk_strn(msgpack_packer *pk, const char *s, size_t n)
{
	if (msgpack_pack_str(pk, n))
		return OP_ENOMEM;
	return msgpack_pack_str_body(pk, s, n) ? OP_ENOMEM : OP_OK;
}

static int pk_str(msgpack_packer *pk, const char *s)
{
	return pk_strn(pk, s, strlen(s));
}

static int pk_kv_u64(msgpack_packer *pk, const char *k, uint64_t v)
{
	if (pk_str(pk, k))
		return OP_ENOMEM;
	return msgpack_pack_uint64(pk, v) ? OP_ENOMEM : OP_OK;
}

static int pk_kv_str(msgpack_packer *pk, const char *k, const char *v)
{
	return pk_str(pk, k) || pk_str(pk, v) ? OP_ENOMEM : OP_OK;
}

/* Starts a message map of npairs (the "t" pair included). */
static int pk_head(msgpack_packer *pk, size_t npairs, const char *type)
{
	if (msgpack_pack_map(pk, npairs))
		return OP_ENOMEM;
	return pk_kv_str(pk, "t", type);
}

static int pk_val(msgpack_packer *pk, const struct val *v)
{
	switch (v->t) {
	case VAL_INT:
		return msgpack_pack_int64(pk, v->i) ? OP_ENOMEM : OP_OK;
	case VAL_REAL:
		return msgpack_pack_double(pk, v->r) ? OP_ENOMEM : OP_OK;
	case VAL_TEXT:
		return pk_strn(pk, v->s, v->n);
	default:
		return msgpack_pack_nil(pk) ? OP_ENOMEM : OP_OK;
	}
}

static int pk_vv(msgpack_packer *pk, const struct vv *v)
{
	const char *rep;
	uint64_t ctr;
	size_t i;

	if (msgpack_pack_map(pk, vv_size(v)))
		return OP_ENOMEM;
	for (i = 0; i < vv_size(v); i++) {
		vv_at(v, i, &rep, &ctr);
		if (pk_strn(pk, rep, VV_REPLEN) || msgpack_pack_uint64(pk, ctr))
			return OP_ENOMEM;
	}
	return OP_OK;
}

/* [value, replica, counter, time] */
static int pk_dot_val(msgpack_packer *pk, const struct val *v,
		      const struct rec_dot *d)
{
	if (msgpack_pack_array(pk, 4) || pk_val(pk, v) ||
	    pk_strn(pk, d->rep, VV_REPLEN) || msgpack_pack_uint64(pk, d->ctr) ||
	    msgpack_pack_uint64(pk, d->hlc))
		return OP_ENOMEM;
	return OP_OK;
}

int wire_enc_hello(struct buf *b, const char *replica, const char *agent,
		   const char *token)
{
	msgpack_packer pk;

	pk_init(&pk, b);
	if (pk_head(&pk, 6, "hello") || pk_kv_u64(&pk, "proto", WIRE_PROTO) ||
	    pk_kv_u64(&pk, "schema", SCHEMA_VERSION) ||
	    pk_kv_str(&pk, "replica", replica) || pk_kv_str(&pk, "agent", agent) ||
	    pk_str(&pk, "auth") || (token ? pk_str(&pk, token) : msgpack_pack_nil(&pk)))
		return OP_ENOMEM;
	return OP_OK;
}

int wire_enc_welcome(struct buf *b, const struct wire_welcome *w)
{
	msgpack_packer pk;

	pk_init(&pk, b);
	if (pk_head(&pk, 11, "welcome") || pk_kv_u64(&pk, "proto", WIRE_PROTO) ||
	    pk_kv_u64(&pk, "log_end", w->log_end) ||
	    pk_kv_u64(&pk, "schema", SCHEMA_VERSION) ||
	    pk_kv_u64(&pk, "min_schema", w->min_schema) ||
	    pk_kv_str(&pk, "server", w->server) ||
	    pk_kv_u64(&pk, "max_frame", WIRE_MAX_FRAME) ||
	    pk_kv_u64(&pk, "max_batch", WIRE_MAX_BATCH) ||
	    pk_kv_str(&pk, "user", w->user) || pk_kv_str(&pk, "role", w->role) ||
	    pk_kv_str(&pk, "scope", w->scope))
		return OP_ENOMEM;
	return OP_OK;
}

int wire_enc_login(struct buf *b, const char *user, const char *password,
		   const char *replica, const char *agent)
{
	msgpack_packer pk;

	pk_init(&pk, b);
	if (pk_head(&pk, 6, "login") || pk_kv_u64(&pk, "proto", WIRE_PROTO) ||
	    pk_kv_str(&pk, "user", user) || pk_kv_str(&pk, "password", password) ||
	    pk_kv_str(&pk, "replica", replica) || pk_kv_str(&pk, "agent", agent))
		return OP_ENOMEM;
	return OP_OK;
}

int wire_enc_token(struct buf *b, const char *token, const char *user,
		   const char *role, uint64_t expires)
{
	msgpack_packer pk;

	pk_init(&pk, b);
	if (pk_head(&pk, 5, "token") || pk_kv_str(&pk, "token", token) ||
	    pk_kv_str(&pk, "user", user) || pk_kv_str(&pk, "role", role) ||
	    pk_kv_u64(&pk, "expires", expires))
		return OP_ENOMEM;
	return OP_OK;
}

int wire_enc_logout(struct buf *b)
{
	msgpack_packer pk;

	pk_init(&pk, b);
	return pk_head(&pk, 1, "logout");
}

int wire_enc_bye(struct buf *b)
{
	msgpack_packer pk;

	pk_init(&pk, b);
	return pk_head(&pk, 1, "bye");
}

static size_t count_set(const struct rec *r)
{
	size_t n = 0;
	int i;

	for (i = 0; i < r->t->nfields; i++)
		n += r->f[i].set;
	return n;
}

int wire_enc_state(struct buf *b, const struct rec *r)
{
	msgpack_packer pk;
	int i;

	pk_init(&pk, b);
	if (msgpack_pack_map(&pk, r->tomb ? 5 : 4) || pk_kv_str(&pk, "tbl", r->t->name) ||
	    pk_kv_str(&pk, "id", r->id) || pk_str(&pk, "vv") || pk_vv(&pk, r->vv) ||
	    pk_str(&pk, "f") || msgpack_pack_map(&pk, count_set(r)))
		return OP_ENOMEM;
	for (i = 0; i < r->t->nfields; i++) {
		if (!r->f[i].set)
			continue;
		if (pk_str(&pk, r->t->fields[i].name) ||
		    pk_dot_val(&pk, &r->f[i].v, &r->f[i].dot))
			return OP_ENOMEM;
	}
	if (!r->tomb)
		return OP_OK;
	if (pk_str(&pk, "tomb") || msgpack_pack_array(&pk, 2) ||
	    pk_vv(&pk, r->tomb) || msgpack_pack_array(&pk, r->ndels))
		return OP_ENOMEM;
	for (size_t k = 0; k < r->ndels; k++)
		if (msgpack_pack_array(&pk, 3) ||
		    pk_strn(&pk, r->dels[k].rep, VV_REPLEN) ||
		    msgpack_pack_uint64(&pk, r->dels[k].ctr) ||
		    msgpack_pack_uint64(&pk, r->dels[k].hlc))
			return OP_ENOMEM;
	return OP_OK;
}

int wire_enc_change(struct buf *b, const struct rec *r, const int *fields,
		    int nf, const struct rec_dot *d, bool del)
{
	msgpack_packer pk;
	int i;

	pk_init(&pk, b);
	if (msgpack_pack_map(&pk, 7) || pk_kv_str(&pk, "tbl", r->t->name) ||
	    pk_kv_str(&pk, "id", r->id) || pk_kv_u64(&pk, "ctr", d->ctr) ||
	    pk_kv_u64(&pk, "hlc", d->hlc) || pk_str(&pk, "vv") ||
	    pk_vv(&pk, r->vv) || pk_str(&pk, "del") ||
	    (del ? msgpack_pack_true(&pk) : msgpack_pack_false(&pk)) ||
	    pk_str(&pk, "f") || msgpack_pack_map(&pk, del ? 0 : (size_t)nf))
		return OP_ENOMEM;
	for (i = 0; !del && i < nf; i++)
		if (pk_str(&pk, r->t->fields[fields[i]].name) ||
		    pk_val(&pk, &r->f[fields[i]].v))
			return OP_ENOMEM;
	return OP_OK;
}

int wire_enc_push_head(struct buf *b, uint64_t n, size_t count)
{
	msgpack_packer pk;

	pk_init(&pk, b);
	if (pk_head(&pk, 3, "push") || pk_kv_u64(&pk, "n", n) ||
	    pk_str(&pk, "changes") || msgpack_pack_array(&pk, count))
		return OP_ENOMEM;
	return OP_OK;
}

int wire_enc_ack(struct buf *b, uint64_t n, uint64_t upto, uint64_t applied,
		 uint64_t dup, uint64_t conflicts, size_t nrejected)
{
	msgpack_packer pk;

	pk_init(&pk, b);
	if (pk_head(&pk, 7, "ack") || pk_kv_u64(&pk, "n", n) ||
	    pk_kv_u64(&pk, "upto", upto) || pk_kv_u64(&pk, "applied", applied) ||
	    pk_kv_u64(&pk, "dup", dup) || pk_kv_u64(&pk, "conflicts", conflicts) ||
	    pk_str(&pk, "rejected") || msgpack_pack_array(&pk, nrejected))
		return OP_ENOMEM;
	return OP_OK;
}

int wire_enc_reject(struct buf *b, uint64_t ctr, int code, const char *msg,
		    const struct rec *state)
{
	msgpack_packer pk;

	pk_init(&pk, b);
	if (msgpack_pack_map(&pk, 4) || pk_kv_u64(&pk, "ctr", ctr) ||
	    pk_kv_u64(&pk, "code", (uint64_t)code) || pk_kv_str(&pk, "msg", msg) ||
	    pk_str(&pk, "state"))
		return OP_ENOMEM;
	if (!state)
		return msgpack_pack_nil(&pk) ? OP_ENOMEM : OP_OK;
	return wire_enc_state(b, state);
}

int wire_enc_pull(struct buf *b, uint64_t cursor, uint64_t limit)
{
	msgpack_packer pk;

	pk_init(&pk, b);
	if (pk_head(&pk, 3, "pull") || pk_kv_u64(&pk, "cursor", cursor) ||
	    pk_kv_u64(&pk, "limit", limit))
		return OP_ENOMEM;
	return OP_OK;
}

int wire_enc_batch_head(struct buf *b, uint64_t cursor, bool more,
			const struct wire_gone *gone, size_t ngone, size_t count)
{
	msgpack_packer pk;
	size_t i;

	pk_init(&pk, b);
	if (pk_head(&pk, 5, "batch") || pk_kv_u64(&pk, "cursor", cursor) ||
	    pk_str(&pk, "more") ||
	    (more ? msgpack_pack_true(&pk) : msgpack_pack_false(&pk)) ||
	    pk_str(&pk, "gone") || msgpack_pack_array(&pk, ngone))
		return OP_ENOMEM;
	for (i = 0; i < ngone; i++)
		if (msgpack_pack_array(&pk, 2) || pk_str(&pk, gone[i].t->name) ||
		    pk_strn(&pk, gone[i].id, RID_LEN))
			return OP_ENOMEM;
	if (pk_str(&pk, "recs") || msgpack_pack_array(&pk, count))
		return OP_ENOMEM;
	return OP_OK;
}

int wire_enc_error(struct buf *b, int code, const char *msg)
{
	msgpack_packer pk;

	pk_init(&pk, b);
	if (pk_head(&pk, 3, "error") || pk_kv_u64(&pk, "code", (uint64_t)code) ||
	    pk_kv_str(&pk, "msg", msg))
		return OP_ENOMEM;
	return OP_OK;
}

/* ---- decoding ---------------------------------------------------------- */

static int fail(struct wire_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct wire_err *e, int code, const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	if (code == WERR_TOO_BIG)
		return OP_ETOOBIG;
	return OP_EPROTO;
}

/* Maps a reader error on key k to a protocol error. */
static int bad(struct wire_err *e, int rc, const char *k, const char *want)
{
	if (rc == MP_ETYPE)
		return fail(e, WERR_TYPE, "\"%s\" must be %s", k, want);
	if (rc == MP_EDEPTH)
		return fail(e, WERR_MALFORMED, "\"%s\" is nested too deeply", k);
	return fail(e, WERR_MALFORMED, "message is truncated or not MessagePack (at \"%s\")", k);
}

static int rd_u64(struct mp *m, const char *k, uint64_t *u, struct wire_err *e)
{
	int rc = mp_u64(m, u);

	return rc ? bad(e, rc, k, "a non-negative integer") : OP_OK;
}

static int rd_bool(struct mp *m, const char *k, bool *b, struct wire_err *e)
{
	int rc = mp_bool(m, b);

	return rc ? bad(e, rc, k, "a boolean") : OP_OK;
}

static int rd_text(struct mp *m, const char *k, char *dst, size_t cap,
		   struct wire_err *e)
{
	const char *s;
	size_t n;
	int rc = mp_str(m, &s, &n);

	if (rc)
		return bad(e, rc, k, "a string");
	if (n >= cap)
		return fail(e, WERR_TOO_BIG, "\"%s\" is longer than %zu bytes", k, cap - 1);
	if (!utf8_valid(s, n))
		return fail(e, WERR_INVALID, "\"%s\" is not valid UTF-8", k);
	memcpy(dst, s, n);
	dst[n] = '\0';
	return OP_OK;
}

/*
 * Reads a string that valid() accepts (so at most max bytes) into dst,
 * NUL-terminated; otherwise error 9 saying `"k" must be RULE`.
 */
static int rd_valid(struct mp *m, const char *k, char *dst, size_t max,
		    bool (*valid)(const char *s, size_t n), const char *rule,
		    struct wire_err *e)
{
	const char *s;
	size_t n;
	int rc = mp_str(m, &s, &n);

	if (rc)
		return bad(e, rc, k, "a string");
	if (n > max || !valid(s, n))
		return fail(e, WERR_INVALID, "\"%s\" must be %s", k, rule);
	memcpy(dst, s, n);
	dst[n] = '\0';
	return OP_OK;
}

static int rd_id(struct mp *m, const char *k, char dst[RID_LEN + 1],
		 struct wire_err *e)
{
	return rd_valid(m, k, dst, RID_LEN, rid_valid, "32 lowercase hex digits", e);
}

static int rd_vv(struct mp *m, const char *k, struct vv *v, struct wire_err *e)
{
	char rep[RID_LEN + 1];
	uint64_t ctr;
	uint32_t n, i;
	int rc = mp_map(m, &n);

	if (rc)
		return bad(e, rc, k, "a map of replica to counter");
	if (n > WIRE_MAX_VV)
		return fail(e, WERR_TOO_BIG, "\"%s\" has more than %d replicas", k, WIRE_MAX_VV);
	for (i = 0; i < n; i++) {
		if ((rc = rd_id(m, k, rep, e)) || (rc = rd_u64(m, k, &ctr, e)))
			return rc;
		if (ctr == 0 || vv_get(v, rep))
			return fail(e, WERR_INVALID, "\"%s\" has a zero or repeated entry", k);
		if (vv_raise(v, rep, ctr))
			return fail(e, WERR_SERVER, "out of memory");
	}
	return OP_OK;
}

static int rd_val(struct mp *m, const char *k, struct val *v, struct wire_err *e)
{
	const char *s;
	size_t n;
	int rc;

	switch (mp_peek(m)) {
	case MP_NIL:
		val_release(v);
		return mp_nil(m) ? bad(e, MP_ETRUNC, k, "") : OP_OK;
	case MP_UINT:
	case MP_NINT:
		v->t = VAL_INT;
		rc = mp_i64(m, &v->i);
		return rc ? bad(e, rc, k, "an integer within 64 bits") : OP_OK;
	case MP_FLOAT:
		v->t = VAL_REAL;
		rc = mp_f64(m, &v->r);
		return rc ? bad(e, rc, k, "a float") : OP_OK;
	case MP_STR:
		if ((rc = mp_str(m, &s, &n)))
			return bad(e, rc, k, "a string");
		if (!utf8_valid(s, n))
			return fail(e, WERR_INVALID, "\"%s\" is not valid UTF-8 text", k);
		return val_set_text(v, s, n) ? fail(e, WERR_SERVER, "out of memory") : OP_OK;
	case MP_BAD:
		return bad(e, MP_ETRUNC, k, "");
	default:
		return fail(e, WERR_TYPE, "\"%s\" must be nil, an integer, a float or a string", k);
	}
}

/* Reads a map key into a short NUL-terminated buffer. */
static int rd_key(struct mp *m, char key[32], struct wire_err *e)
{
	const char *s;
	size_t n;
	int rc = mp_str(m, &s, &n);

	if (rc)
		return bad(e, rc, "key", "a string");
	if (memchr(s, '\0', n))
		return fail(e, WERR_MALFORMED, "a key contains a NUL byte");
	if (n >= 32) {
		n = 31;
		memcpy(key, s, n);
		key[n] = '\0';
		return fail(e, WERR_UNKNOWN_FIELD, "unknown key \"%s...\"", key);
	}
	memcpy(key, s, n);
	key[n] = '\0';
	return OP_OK;
}

/* Bit set of keys seen, to reject duplicates and find missing ones. */
static int seen(unsigned *mask, int bit, const char *k, struct wire_err *e)
{
	if (*mask & (1u << bit))
		return fail(e, WERR_MALFORMED, "key \"%s\" appears twice", k);
	*mask |= 1u << bit;
	return OP_OK;
}

/* ---- records ----------------------------------------------------------- */

struct fdecode {
	const struct tbl_desc *t;
	bool strict;
	bool state;         /* values are [value, replica, counter, time] */
	const struct rec_dot *dot; /* change: the change's dot */
	struct wire_err *inv;      /* change: where an invalid value is noted */
};

static int rd_dot(struct mp *m, const char *k, struct rec_dot *d,
		  struct wire_err *e)
{
	int rc;

	if ((rc = rd_id(m, k, d->rep, e)) || (rc = rd_u64(m, k, &d->ctr, e)) ||
	    (rc = rd_u64(m, k, &d->hlc, e)))
		return rc;
	return OP_OK;
}

static int rd_field(struct mp *m, struct rec *r, int i, const struct fdecode *fd,
		    struct wire_err *e)
{
	const char *k = r->t->fields[i].name;
	uint32_t n;
	int rc;

	if (fd->state) {
		if ((rc = mp_array(m, &n)))
			return bad(e, rc, k, "an array [value, replica, counter, time]");
		if (n != 4)
			return fail(e, WERR_MALFORMED, "\"%s\" must have 4 elements", k);
	}
	if ((rc = rd_val(m, k, &r->f[i].v, e)))
		return rc;
	if (fd->state)
		rc = rd_dot(m, k, &r->f[i].dot, e);
	else
		r->f[i].dot = *fd->dot;
	if (rc)
		return rc;
	if (fd->strict) {
		char why[OP_ERRLEN];

		if (tbl_check(&r->t->fields[i], &r->f[i].v, why)) {
			if (!fd->inv)
				return fail(e, WERR_INVALID, "%s.%s: %s", r->t->name, k, why);
			if (!fd->inv->code)
				fail(fd->inv, WERR_INVALID, "%s.%s: %s", r->t->name, k, why);
		}
	}
	r->f[i].set = true;
	return OP_OK;
}

static int rd_fields(struct mp *m, struct rec *r, const struct fdecode *fd,
		     struct wire_err *e)
{
	const char *s;
	size_t n;
	uint32_t cnt, j;
	int rc, i;

	if ((rc = mp_map(m, &cnt)))
		return bad(e, rc, "f", "a map of field to value");
	for (j = 0; j < cnt; j++) {
		if ((rc = mp_str(m, &s, &n)))
			return bad(e, rc, "f", "a map with string keys");
		i = tbl_field(r->t, s, n);
		if (i < 0 && fd->strict)
			return fail(e, WERR_UNKNOWN_FIELD, "table %s has no field \"%.*s\"",
				    r->t->name, (int)(n > 64 ? 64 : n), s);
		if (i < 0) {
			if ((rc = mp_skip(m)))
				return bad(e, rc, "f", "a value");
			continue;
		}
		if (r->f[i].set)
			return fail(e, WERR_MALFORMED, "field \"%s\" appears twice", r->t->fields[i].name);
		if ((rc = rd_field(m, r, i, fd, e)))
			return rc;
	}
	return OP_OK;
}

static int rd_table(struct mp *m, const struct tbl_desc **t, bool strict,
		    struct wire_err *e)
{
	const char *s;
	size_t n;
	int rc = mp_str(m, &s, &n);

	if (rc)
		return bad(e, rc, "tbl", "a string");
	*t = tbl_find(s, n);
	if (!*t && strict)
		return fail(e, WERR_UNKNOWN_TABLE, "unknown table \"%.*s\"",
			    (int)(n > 64 ? 64 : n), s);
	return OP_OK;
}

/* One delete dot: [replica, counter, time]. */
static int rd_del(struct mp *m, struct rec *r, struct wire_err *e)
{
	struct rec_dot d;
	uint32_t n;
	int rc;

	if ((rc = mp_array(m, &n)))
		return bad(e, rc, "tomb", "an array of [replica, counter, time]");
	if (n != 3)
		return fail(e, WERR_MALFORMED, "a delete in \"tomb\" must have 3 elements");
	if ((rc = rd_dot(m, "tomb", &d, e)))
		return rc;
	if (d.ctr == 0 || !vv_contains(r->tomb, d.rep, d.ctr))
		return fail(e, WERR_INVALID, "a delete in \"tomb\" is outside its vector");
	return rec_add_del(r, &d) ? fail(e, WERR_SERVER, "out of memory") : OP_OK;
}

/* [vv, [[replica, counter, time], ...]] */
static int rd_tomb(struct mp *m, struct rec *r, struct wire_err *e)
{
	uint32_t n, i;
	int rc;

	if (mp_peek(m) == MP_NIL)
		return mp_nil(m) ? bad(e, MP_ETRUNC, "tomb", "") : OP_OK;
	if ((rc = mp_array(m, &n)))
		return bad(e, rc, "tomb", "an array [vv, deletes]");
	if (n != 2)
		return fail(e, WERR_MALFORMED, "\"tomb\" must have 2 elements");
	if (!(r->tomb = vv_new()))
		return fail(e, WERR_SERVER, "out of memory");
	if ((rc = rd_vv(m, "tomb", r->tomb, e)))
		return rc;
	if ((rc = mp_array(m, &n)))
		return bad(e, rc, "tomb", "an array of deletes");
	if (n == 0 || n > WIRE_MAX_DELS)
		return fail(e, WERR_INVALID, "\"tomb\" must hold 1 to %d deletes", WIRE_MAX_DELS);
	for (i = 0; i < n; i++)
		if ((rc = rd_del(m, r, e)))
			return rc;
	return OP_OK;
}

/* Keys of a record state or a change, in one table. */
enum rkey { RK_TBL, RK_ID, RK_VV, RK_F, RK_TOMB, RK_CTR, RK_HLC, RK_DEL, RK_N };
static const char *const rkeys[RK_N] = {
	"tbl", "id", "vv", "f", "tomb", "ctr", "hlc", "del"
};

struct rparts {
	unsigned mask;
	const struct tbl_desc *t;
	char id[RID_LEN + 1];
	struct mp vv, f, tomb;
	uint64_t ctr, hlc;
	bool del;
};

/* First pass over a record map: scalars read, sub-objects remembered. */
static int rd_rparts(struct mp *m, bool state, bool strict, struct rparts *p,
		     struct wire_err *e)
{
	char key[32];
	uint32_t n, j;
	int rc, k;

	if ((rc = mp_map(m, &n)))
		return bad(e, rc, state ? "recs" : "changes", "maps");
	for (j = 0; j < n; j++) {
		if ((rc = rd_key(m, key, e)))
			return rc;
		for (k = 0; k < RK_N && strcmp(key, rkeys[k]); k++)
			;
		if (k == RK_N || (state && k >= RK_CTR) || (!state && k == RK_TOMB))
			return fail(e, WERR_UNKNOWN_FIELD, "unknown key \"%s\" in a %s", key,
				    state ? "record" : "change");
		if ((rc = seen(&p->mask, k, key, e)))
			return rc;
		switch (k) {
		case RK_TBL: rc = rd_table(m, &p->t, strict, e); break;
		case RK_ID: rc = rd_id(m, key, p->id, e); break;
		case RK_CTR: rc = rd_u64(m, key, &p->ctr, e); break;
		case RK_HLC: rc = rd_u64(m, key, &p->hlc, e); break;
		case RK_DEL: rc = rd_bool(m, key, &p->del, e); break;
		default:
			*(k == RK_VV ? &p->vv : k == RK_F ? &p->f : &p->tomb) = *m;
			rc = mp_skip(m);
			if (rc)
				rc = bad(e, rc, key, "a valid object");
		}
		if (rc)
			return rc;
	}
	return OP_OK;
}

static unsigned need_mask(bool state)
{
	unsigned m = 1u << RK_TBL | 1u << RK_ID | 1u << RK_VV | 1u << RK_F;

	return state ? m : m | 1u << RK_CTR | 1u << RK_HLC | 1u << RK_DEL;
}

/* Checks a change against its origin and turns it into a partial state. */
static int change_finish(struct rec *r, struct rparts *p, const char *origin,
			 struct wire_err *inv, struct wire_err *e)
{
	struct rec_dot d;
	struct fdecode fd = { r->t, true, false, &d, inv };
	uint32_t n;
	int rc;

	if (p->ctr == 0 || vv_get(r->vv, origin) != p->ctr)
		return fail(e, WERR_INVALID, "change %s: vv must hold the change's own counter", r->id);
	memcpy(d.rep, origin, VV_REPLEN + 1);
	d.ctr = p->ctr;
	d.hlc = p->hlc;
	if (!p->del) {
		if ((rc = rd_fields(&p->f, r, &fd, e)))
			return rc;
		for (n = 0; n < (uint32_t)r->t->nfields && !r->f[n].set; n++)
			;
		return n == (uint32_t)r->t->nfields ?
			fail(e, WERR_INVALID, "change %s writes no field", r->id) : OP_OK;
	}
	if ((rc = mp_map(&p->f, &n)) || n)
		return fail(e, WERR_INVALID, "change %s: a delete carries no fields", r->id);
	if (!(r->tomb = vv_dup(r->vv)) || rec_add_del(r, &d))
		return fail(e, WERR_SERVER, "out of memory");
	return OP_OK;
}

/* Decodes a record state (origin NULL) or a change from origin, noting an
 * invalid value of a change in *inv. */
static int rd_record(struct mp *m, const char *origin, bool strict,
		     struct rec **out, struct wire_err *inv, struct wire_err *e)
{
	struct rparts p = { 0 };
	struct fdecode fd = { NULL, strict, true, NULL, NULL };
	bool state = origin == NULL;
	struct rec *r;
	int rc;

	*out = NULL;
	if ((rc = rd_rparts(m, state, strict, &p, e)))
		return rc;
	if ((p.mask & need_mask(state)) != need_mask(state))
		return fail(e, WERR_MALFORMED, "a %s lacks a required key",
			    state ? "record" : "change");
	if (!p.t)
		return OP_OK; /* lenient: a table this build does not know */
	if (!(r = rec_new(p.t, p.id)))
		return fail(e, WERR_SERVER, "out of memory");
	fd.t = p.t;
	if ((rc = rd_vv(&p.vv, "vv", r->vv, e)))
		goto out_free;
	if (state) {
		if ((rc = rd_fields(&p.f, r, &fd, e)))
			goto out_free;
		if ((p.mask & 1u << RK_TOMB) && (rc = rd_tomb(&p.tomb, r, e)))
			goto out_free;
	} else if ((rc = change_finish(r, &p, origin, inv, e))) {
		goto out_free;
	}
	*out = r;
	return OP_OK;
out_free:
	rec_free(r);
	return rc;
}

static int rd_records(struct mp *m, const char *k, const char *origin,
		      bool strict, struct wire_msg *out, struct wire_err *e)
{
	uint32_t n, i;
	int rc = mp_array(m, &n);

	if (rc)
		return bad(e, rc, k, "an array");
	if (n > WIRE_MAX_BATCH)
		return fail(e, WERR_TOO_BIG, "\"%s\" holds %u items; the limit is %d",
			    k, n, WIRE_MAX_BATCH);
	out->recs = calloc(n ? n : 1, sizeof(*out->recs));
	if (origin)
		out->invalid = calloc(n ? n : 1, sizeof(*out->invalid));
	if (!out->recs || (origin && !out->invalid))
		return fail(e, WERR_SERVER, "out of memory");
	for (i = 0; i < n; i++) {
		struct rec *r;

		if ((rc = rd_record(m, origin, strict, &r,
				    origin ? &out->invalid[out->nrecs] : NULL, e)))
			return rc;
		if (r)
			out->recs[out->nrecs++] = r;
	}
	return OP_OK;
}

/* ---- messages ---------------------------------------------------------- */

struct mdesc {
	const char *name;
	enum wire_type type;
	const char *const *keys; /* after "t" */
	unsigned required;       /* bit i: keys[i] must be present */
};

static const char *const k_hello[] = { "proto", "schema", "replica", "agent", "auth", NULL };
static const char *const k_welcome[] = { "proto", "schema", "min_schema", "server",
					 "max_frame", "max_batch", "log_end", "user",
					 "role", "scope", NULL };
static const char *const k_push[] = { "n", "changes", NULL };
static const char *const k_ack[] = { "n", "upto", "applied", "dup", "conflicts",
				     "rejected", NULL };
static const char *const k_pull[] = { "cursor", "limit", NULL };
static const char *const k_batch[] = { "cursor", "more", "recs", "gone", NULL };
static const char *const k_error[] = { "code", "msg", NULL };
static const char *const k_login[] = { "proto", "user", "password", "replica", "agent", NULL };
static const char *const k_token[] = { "token", "user", "role", "expires", NULL };
static const char *const k_none[] = { NULL };

static const struct mdesc mdescs[] = {
	{ "hello", WIRE_HELLO, k_hello, 0x0f }, /* no "auth": not logged in */
	{ "welcome", WIRE_WELCOME, k_welcome, 0x3ff },
	{ "push", WIRE_PUSH, k_push, 0x3 },
	{ "ack", WIRE_ACK, k_ack, 0x3 },
	{ "pull", WIRE_PULL, k_pull, 0x1 },
	{ "batch", WIRE_BATCH, k_batch, 0x7 },
	{ "error", WIRE_ERROR, k_error, 0x3 },
	{ "login", WIRE_LOGIN, k_login, 0x1f },
	{ "token", WIRE_TOKEN, k_token, 0xf },
	{ "logout", WIRE_LOGOUT, k_none, 0 },
	{ "bye", WIRE_BYE, k_none, 0 },
};

/* Exactly n lowercase hex digits. */
static bool hex_valid(const char *s, size_t len, size_t n)
{
	size_t i;

	for (i = 0; i < len && ((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')); i++)
		;
	return len == n && i == len;
}

static bool token_valid(const char *s, size_t n)
{
	return hex_valid(s, n, WIRE_TOKEN_HEX);
}

static bool scope_valid(const char *s, size_t n)
{
	return hex_valid(s, n, WIRE_SCOPE_HEX);
}

/* hello's "auth": a device token, or nil when not logged in. */
static int rd_auth(struct mp *m, char tok[WIRE_TOKEN_HEX + 1], struct wire_err *e)
{
	if (mp_peek(m) != MP_NIL)
		return rd_valid(m, "auth", tok, WIRE_TOKEN_HEX, token_valid,
				"64 lowercase hex digits", e);
	tok[0] = '\0';
	return mp_nil(m) ? bad(e, MP_ETRUNC, "auth", "") : OP_OK;
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

#define NAME_RULE "1 to 32 of a-z, 0-9, '.', '_' and '-', starting with a letter or digit"

bool wire_name_valid(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > WIRE_NAME_MAX || s[0] == '.' || s[0] == '_' || s[0] == '-')
		return false;
	for (i = 0; i < n; i++)
		if (!name_char(s[i]))
			return false;
	return true;
}


static int rd_password(struct mp *m, char dst[WIRE_PW_MAX + 1], struct wire_err *e)
{
	const char *s;
	size_t n;
	int rc = mp_str(m, &s, &n);

	if (rc)
		return bad(e, rc, "password", "a string");
	if (n == 0 || n > WIRE_PW_MAX || memchr(s, '\0', n))
		return fail(e, WERR_INVALID, "\"password\" must be 1 to %d bytes without NUL",
			    WIRE_PW_MAX);
	memcpy(dst, s, n);
	dst[n] = '\0';
	return OP_OK;
}

/* One refusal in an ack: {ctr, code, msg, state}. */
static int rd_reject(struct mp *m, bool strict, struct wire_reject *r,
		     struct wire_err *e)
{
	static const char *const keys[] = { "ctr", "code", "msg", "state" };
	unsigned mask = 0;
	char key[32];
	uint32_t n, j;
	int rc, k;

	if ((rc = mp_map(m, &n)))
		return bad(e, rc, "rejected", "maps");
	for (j = 0; j < n; j++) {
		if ((rc = rd_key(m, key, e)))
			return rc;
		for (k = 0; k < 4 && strcmp(key, keys[k]); k++)
			;
		if (k == 4)
			return fail(e, WERR_UNKNOWN_FIELD, "unknown key \"%s\" in a refusal", key);
		if ((rc = seen(&mask, k, key, e)))
			return rc;
		if (k == 0)
			rc = rd_u64(m, key, &r->ctr, e);
		else if (k == 1)
			rc = rd_u64(m, key, &r->code, e);
		else if (k == 2)
			rc = rd_text(m, key, r->msg, sizeof(r->msg), e);
		else if (mp_peek(m) == MP_NIL)
			rc = mp_nil(m) ? bad(e, MP_ETRUNC, key, "") : OP_OK;
		else
			rc = rd_record(m, NULL, strict, &r->state, NULL, e);
		if (rc)
			return rc;
	}
	return mask == 0xf ? OP_OK : fail(e, WERR_MALFORMED, "a refusal lacks a required key");
}

static int rd_rejects(struct mp *m, bool strict, struct wire_msg *out,
		      struct wire_err *e)
{
	uint32_t n, i;
	int rc = mp_array(m, &n);

	if (rc)
		return bad(e, rc, "rejected", "an array");
	if (n > WIRE_MAX_BATCH)
		return fail(e, WERR_TOO_BIG, "\"rejected\" holds more than %d items", WIRE_MAX_BATCH);
	/* One spare entry: a refusal that fails midway is freed from there. */
	if (!(out->rejected = calloc(n + 1, sizeof(*out->rejected))))
		return fail(e, WERR_SERVER, "out of memory");
	for (i = 0; i < n; i++, out->nrejected++)
		if ((rc = rd_reject(m, strict, &out->rejected[i], e)))
			return rc;
	return OP_OK;
}

/* Records that left the scope: [[tbl, id], ...]. */
static int rd_gones(struct mp *m, bool strict, struct wire_msg *out,
		    struct wire_err *e)
{
	uint32_t n, i, two;
	int rc = mp_array(m, &n);

	if (rc)
		return bad(e, rc, "gone", "an array");
	if (n > WIRE_MAX_BATCH)
		return fail(e, WERR_TOO_BIG, "\"gone\" holds more than %d items", WIRE_MAX_BATCH);
	if (!(out->gone = calloc(n ? n : 1, sizeof(*out->gone))))
		return fail(e, WERR_SERVER, "out of memory");
	for (i = 0; i < n; i++) {
		struct wire_gone *g = &out->gone[out->ngone];

		if ((rc = mp_array(m, &two)))
			return bad(e, rc, "gone", "an array of [table, id]");
		if (two != 2)
			return fail(e, WERR_MALFORMED, "an entry of \"gone\" must have 2 elements");
		if ((rc = rd_table(m, &g->t, strict, e)) || (rc = rd_id(m, "gone", g->id, e)))
			return rc;
		if (g->t)
			out->ngone++; /* lenient: a table this build does not know */
	}
	return OP_OK;
}

/* Reads the value of key `k` of message type d into out. */
static int rd_msg_key(struct mp *m, const struct mdesc *d, const char *k,
		      const char *origin, bool strict, struct wire_msg *out,
		      struct wire_err *e)
{
	if (!strcmp(k, "proto")) return rd_u64(m, k, &out->proto, e);
	if (!strcmp(k, "schema")) return rd_u64(m, k, &out->schema, e);
	if (!strcmp(k, "min_schema")) return rd_u64(m, k, &out->min_schema, e);
	if (!strcmp(k, "replica") || !strcmp(k, "server")) return rd_id(m, k, out->replica, e);
	if (!strcmp(k, "agent")) return rd_text(m, k, out->agent, sizeof(out->agent), e);
	if (!strcmp(k, "auth")) return rd_auth(m, out->token, e);
	if (!strcmp(k, "token")) return rd_valid(m, k, out->token, WIRE_TOKEN_HEX, token_valid,
						 "64 lowercase hex digits", e);
	if (!strcmp(k, "scope")) return rd_valid(m, k, out->scope, WIRE_SCOPE_HEX, scope_valid,
						 "16 lowercase hex digits", e);
	if (!strcmp(k, "user"))
		return rd_valid(m, k, out->user, WIRE_NAME_MAX, wire_name_valid, NAME_RULE, e);
	if (!strcmp(k, "role"))
		return rd_valid(m, k, out->role, WIRE_NAME_MAX, wire_name_valid, NAME_RULE, e);
	if (!strcmp(k, "password")) return rd_password(m, out->password, e);
	if (!strcmp(k, "expires")) return rd_u64(m, k, &out->expires, e);
	if (!strcmp(k, "rejected")) return rd_rejects(m, strict, out, e);
	if (!strcmp(k, "gone")) return rd_gones(m, strict, out, e);
	if (!strcmp(k, "max_frame")) return rd_u64(m, k, &out->max_frame, e);
	if (!strcmp(k, "max_batch")) return rd_u64(m, k, &out->max_batch, e);
	if (!strcmp(k, "n")) return rd_u64(m, k, &out->n, e);
	if (!strcmp(k, "upto")) return rd_u64(m, k, &out->upto, e);
	if (!strcmp(k, "applied")) return rd_u64(m, k, &out->applied, e);
	if (!strcmp(k, "dup")) return rd_u64(m, k, &out->dup, e);
	if (!strcmp(k, "conflicts")) return rd_u64(m, k, &out->conflicts, e);
	if (!strcmp(k, "cursor")) return rd_u64(m, k, &out->cursor, e);
	if (!strcmp(k, "log_end")) return rd_u64(m, k, &out->log_end, e);
	if (!strcmp(k, "limit")) return rd_u64(m, k, &out->limit, e);
	if (!strcmp(k, "more")) return rd_bool(m, k, &out->more, e);
	if (!strcmp(k, "code")) return rd_u64(m, k, &out->code, e);
	if (!strcmp(k, "msg")) return rd_text(m, k, out->msg, sizeof(out->msg), e);
	if (!strcmp(k, "changes")) {
		/* Changes take their replica from the sender: none is known
		 * before hello. */
		if (!origin || !origin[0])
			return fail(e, WERR_STATE, "a push needs the sender's replica: send hello first");
		return rd_records(m, k, origin, strict, out, e);
	}
	if (!strcmp(k, "recs"))
		return rd_records(m, k, NULL, strict, out, e);
	return fail(e, WERR_UNKNOWN_FIELD, "unknown key \"%s\" in %s", k, d->name);
}

static int rd_type(struct mp *m, const struct mdesc **d, struct wire_err *e)
{
	char key[32], type[32];
	size_t i;
	int rc;

	if ((rc = rd_key(m, key, e)))
		return rc;
	if (strcmp(key, "t"))
		return fail(e, WERR_MALFORMED, "the first key of a message must be \"t\"");
	if (mp_peek(m) != MP_STR)
		return bad(e, mp_peek(m) == MP_BAD ? MP_ETRUNC : MP_ETYPE, "t", "a string");
	if ((rc = rd_key(m, type, e)))
		return fail(e, WERR_UNKNOWN_MSG, "unknown message type");
	for (i = 0; i < sizeof(mdescs) / sizeof(mdescs[0]); i++) {
		if (!strcmp(type, mdescs[i].name)) {
			*d = &mdescs[i];
			return OP_OK;
		}
	}
	return fail(e, WERR_UNKNOWN_MSG, "unknown message type \"%s\"", type);
}

static int rd_msg(struct mp *m, const char *origin, bool strict,
		  struct wire_msg *out, struct wire_err *e)
{
	const struct mdesc *d = NULL;
	unsigned mask = 0;
	char key[32];
	uint32_t n, j;
	int rc, k;

	if ((rc = mp_map(m, &n)) || n == 0)
		return fail(e, WERR_MALFORMED, "a message must be a non-empty MessagePack map");
	if ((rc = rd_type(m, &d, e)))
		return rc;
	out->type = d->type;
	for (j = 1; j < n; j++) {
		if ((rc = rd_key(m, key, e)))
			return rc;
		for (k = 0; d->keys[k] && strcmp(d->keys[k], key); k++)
			;
		if (!d->keys[k])
			return fail(e, WERR_UNKNOWN_FIELD, "unknown key \"%s\" in %s", key, d->name);
		if ((rc = seen(&mask, k, key, e)) ||
		    (rc = rd_msg_key(m, d, key, origin, strict, out, e)))
			return rc;
	}
	if ((mask & d->required) != d->required)
		return fail(e, WERR_MALFORMED, "%s lacks a required key", d->name);
	if (!mp_done(m))
		return fail(e, WERR_MALFORMED, "trailing bytes after the message");
	return OP_OK;
}

int wire_decode(const void *buf, size_t len, const char *origin, bool strict,
		struct wire_msg *out, struct wire_err *e)
{
	struct mp m;
	int rc;

	memset(out, 0, sizeof(*out));
	e->code = 0;
	e->msg[0] = '\0';
	if (len > WIRE_MAX_FRAME)
		return fail(e, WERR_TOO_BIG, "message of %zu bytes exceeds the limit of %u",
			    len, WIRE_MAX_FRAME);
	mp_init(&m, buf, len);
	rc = rd_msg(&m, origin, strict, out, e);
	if (rc)
		wire_msg_release(out);
	return rc;
}

void wire_msg_release(struct wire_msg *m)
{
	size_t i;

	for (i = 0; i < m->nrecs; i++)
		rec_free(m->recs[i]);
	free(m->recs);
	free(m->invalid);
	for (i = 0; i < m->nrejected; i++)
		rec_free(m->rejected[i].state);
	if (m->rejected)
		rec_free(m->rejected[m->nrejected].state); /* one that failed */
	free(m->rejected);
	free(m->gone);
	secret_wipe(m->password, sizeof(m->password));
	m->recs = NULL;
	m->invalid = NULL;
	m->rejected = NULL;
	m->gone = NULL;
	m->nrecs = m->nrejected = m->ngone = 0;
}

/* One record state or change on its own (storage, the outbox). */
static int decode_one(const void *buf, size_t len, const char *origin, bool strict,
		      struct rec **out, struct wire_err *e)
{
	struct mp m;
	int rc;

	*out = NULL;
	mp_init(&m, buf, len);
	rc = rd_record(&m, origin, strict, out, NULL, e);
	if (!rc && !*out && origin) /* a state of an unknown table is skipped */
		rc = fail(e, WERR_UNKNOWN_TABLE, "a change of an unknown table");
	if (!rc && !mp_done(&m)) {
		rec_free(*out);
		*out = NULL;
		return fail(e, WERR_MALFORMED, "trailing bytes after the record");
	}
	return rc;
}

int wire_decode_change(const void *buf, size_t len, const char *origin,
		       struct rec **out, struct wire_err *e)
{
	return decode_one(buf, len, origin, true, out, e);
}

int wire_decode_state(const void *buf, size_t len, bool strict,
		      struct rec **out, struct wire_err *e)
{
	return decode_one(buf, len, NULL, strict, out, e);
}

