/*
 * test_badinput.c - bad input against a real outpostd over TLS on
 * 127.0.0.1, from the raw WebSocket client of tests/support/rawcl.c,
 * which sends one crafted message, optionally after a valid hello (with
 * the token of a device registered straight into the server database),
 * and collects the replies. For every kind of bad input the server must
 * answer with one "error" message carrying the expected code, close the
 * connection with status 1008, write nothing to its database, and go on
 * serving others. A change whose values fail validation or that the user
 * may not make is refused alone, in the push's ack: the others of the
 * push are applied and the session goes on.
 *
 * Criterion runs each test in its own fork, in parallel: each test has its
 * own temporary directory and server (struct h_world), whose watchdog
 * kills the server if the test process dies, so no outpostd outlives its
 * test.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include <criterion/criterion.h>
#include <libwebsockets.h>
#include <msgpack.h>

#include "db.h"
#include "harness.h"
#include "rawcl.h"
#include "wire.h"

#define REPLICA "fedcba9876543210fedcba9876543210"
#define AGENT "test_badinput/1"
#define FRAG (64 * 1024)   /* fragment size for large messages */

/* ---- one test's world: directory, server, watchdog ---------------------- */

/* Criterion forks every test, so this belongs to one test only. */
static struct h_world W;
static char token[H_TOKEN_HEX + 1]; /* REPLICA's device token */

/* A server whose database knows REPLICA as a device of an administrator
 * (who may write any record, owned or not), with a known token. Tests
 * that need the token to build their message start the world first; a
 * second call does nothing. */
static void world_start(void)
{
	if (W.srv.pid > 0)
		return;
	cr_assert_eq(h_world_init(&W), 0);
	cr_assert_eq(h_user_add(W.srv.db, "tester", "admin", NULL, NULL), 0);
	cr_assert_eq(h_device_add(W.srv.db, "tester", REPLICA, 3600 * 1000, token), 0);
	cr_assert_eq(h_world_serve(&W, NULL), 0, "outpostd did not start");
}

/* Stops the server (idempotent); it must exit cleanly. */
static void world_stop(void)
{
	int st = h_world_stop(&W);

	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		  "outpostd did not stop cleanly (status %d)", st);
}

/* Suite .fini: runs after every test, passed or failed. */
static void world_end(void)
{
	h_world_end(&W);
}

/* Highest change-log position in the stopped server's database. */
static uint64_t server_max_seq(void)
{
	char err[OP_ERRLEN];
	struct db *db;
	uint64_t seq = 0;

	cr_assert_eq(db_open(W.srv.db, SCHEMA_SERVER, &db, err), OP_OK, "%s", err);
	cr_assert_eq(db_max_seq(db, &seq), OP_OK);
	db_close(db);
	return seq;
}

/* A connection to the world's server. */
static void rcl_open_w(struct rcl *c)
{
	rcl_open(c, W.srv.port, W.srv.cert);
}

/* Sends a valid hello and expects a welcome. */
static void hello(struct rcl *c)
{
	rcl_hello(c, REPLICA, token, NULL);
}

/* ---- message builders -------------------------------------------------- */

/* A valid hello's pairs after "t" (5 of them with proto, 4 without: the
 * caller writes that one). */
static void pk_hello_body(msgpack_packer *pk, bool proto)
{
	if (proto) {
		rcl_pack_str(pk, "proto");
		msgpack_pack_uint64(pk, WIRE_PROTO);
	}
	rcl_pack_str(pk, "schema");
	msgpack_pack_uint64(pk, SCHEMA_VERSION);
	rcl_pack_str(pk, "replica");
	rcl_pack_str(pk, REPLICA);
	rcl_pack_str(pk, "agent");
	rcl_pack_str(pk, AGENT);
	rcl_pack_str(pk, "auth");
	rcl_pack_str(pk, token);
}

/* Text fields only: enough for every change these tests need. */
static const struct fld_desc widget_fields[] = {
	{ "name", FLD_TEXT, true, 200, 0, 0, NULL, "" },
};
static const struct tbl_desc widget_tbl = { "widget", widget_fields, 1, false, 0,
					    .owner = -1, .parent = -1, .parent_tbl = -1 };
static const struct tbl_desc bad_utf8_tbl = { "wid\xffget", widget_fields, 1, false, 0,
					      .owner = -1, .parent = -1, .parent_tbl = -1 };

static const struct fld_desc custx_fields[] = {
	{ "name", FLD_TEXT, true, 200, 0, 0, NULL, "" },
	{ "colour", FLD_TEXT, false, 200, 0, 0, NULL, "" },
};
static const struct tbl_desc custx_tbl = { "customer", custx_fields, 2, false, 0,
					   .owner = -1, .parent = -1, .parent_tbl = -1 };

/* Appends a change of table t by REPLICA with counter ctr setting
 * field=text pairs (NULL-terminated); its record id goes into id when
 * that is not NULL. */
static void chg_id(struct buf *b, const struct tbl_desc *t, uint64_t ctr,
		   char id[RID_LEN + 1], ...)
{
	int fields[TBL_MAX_FIELDS], nf = 0, i;
	char rid[RID_LEN + 1];
	const char *name;
	struct rec_dot d;
	struct rec *r;
	va_list ap;

	cr_assert_eq(rid_new(rid), OP_OK);
	if (id)
		memcpy(id, rid, sizeof(rid));
	r = rec_new(t, rid);
	cr_assert_not_null(r);
	cr_assert_eq(vv_raise(r->vv, REPLICA, ctr), OP_OK);
	va_start(ap, id);
	while ((name = va_arg(ap, const char *))) {
		const char *text = va_arg(ap, const char *);

		i = tbl_field(t, name, strlen(name));
		cr_assert_geq(i, 0);
		cr_assert_eq(val_set_text(&r->f[i].v, text, strlen(text)), OP_OK);
		fields[nf++] = i;
	}
	va_end(ap);
	memcpy(d.rep, REPLICA, VV_REPLEN + 1);
	d.ctr = ctr;
	d.hlc = 1000 + ctr;
	cr_assert_eq(wire_enc_change(b, r, fields, nf, &d, false), OP_OK);
	rec_free(r);
}

#define chg(b, t, ctr, ...) chg_id(b, t, ctr, NULL, __VA_ARGS__)

/* Starts a push of count changes; the first two (appended here) are good. */
static void push_two_good(struct buf *b, size_t count)
{
	const struct tbl_desc *cust = tbl_find("customer", 8);

	cr_assert_eq(wire_enc_push_head(b, 1, count), OP_OK);
	chg(b, cust, 1, "name", "Alpine Foods", NULL);
	chg(b, cust, 2, "name", "Harbor Motors", NULL);
}

/* ---- the checks -------------------------------------------------------- */

/*
 * Sends payload (after a hello when hello is set; in fragments of frag
 * bytes when frag > 0) and expects one error with code, the server
 * closing with 1008, and an unchanged database.
 */
static void expect_refused(const void *payload, size_t len, bool hello_first,
			   size_t frag, int code)
{
	struct rcl c;

	world_start();
	rcl_open_w(&c);
	if (hello_first)
		hello(&c);
	rcl_queue_msg(&c, payload, len, frag, true);
	rcl_expect_error(&c, code, NULL);
	rcl_close(&c);
	world_stop();
	cr_assert_eq(server_max_seq(), 0, "the refused input wrote to the database");
}

static void expect_refused_buf(struct buf *b, bool hello_first, int code)
{
	expect_refused(b->p, b->len, hello_first, 0, code);
	buf_release(b);
}

/*
 * b is a push of two good changes and a third (counter 3, record id3)
 * that the server must refuse alone with code: the ack applies two and
 * carries one refusal, the session stays open, and the third record is
 * not stored.
 */
static void expect_third_refused(struct buf *b, const struct tbl_desc *t,
				 const char *id3, int code)
{
	char err[OP_ERRLEN];
	struct wire_msg m;
	struct rec *r = NULL;
	struct db *db;
	struct rcl c;

	world_start();
	rcl_open_w(&c);
	hello(&c);
	rcl_request(&c, b, &m);
	buf_release(b);
	cr_assert_eq(m.type, WIRE_ACK, "got type %d: %llu %s", m.type,
		     (unsigned long long)m.code, m.msg);
	cr_assert_eq(m.applied, 2);
	cr_assert_eq(m.upto, 3);
	cr_assert_eq(m.nrejected, 1);
	cr_assert_eq(m.rejected[0].ctr, 3);
	cr_assert_eq(m.rejected[0].code, (uint64_t)code, "refused with %llu: %s",
		     (unsigned long long)m.rejected[0].code, m.rejected[0].msg);
	cr_assert_neq(m.rejected[0].msg[0], '\0');
	cr_assert_null(m.rejected[0].state, "a record that does not exist has a state");
	wire_msg_release(&m);
	cr_assert_not(rcl_gone(&c), "the server closed the session over one refused change");
	rcl_close(&c);
	world_stop();
	cr_assert_eq(server_max_seq(), 2);
	cr_assert_eq(db_open(W.srv.db, SCHEMA_SERVER, &db, err), OP_OK, "%s", err);
	cr_assert_eq(db_rec_load(db, t, id3, &r), OP_ENOTFOUND, "the refused change was stored");
	db_close(db);
}

TestSuite(badinput, .fini = world_end, .timeout = 60);

/* Positive control: a good push is stored, so the zero checks mean something. */
Test(badinput, good_push_is_stored)
{
	struct buf b = BUF_INIT;
	struct wire_msg m;
	struct rcl c;

	push_two_good(&b, 2);
	world_start();
	rcl_open_w(&c);
	hello(&c);
	rcl_request(&c, &b, &m);
	cr_assert_eq(m.type, WIRE_ACK, "got type %d: %s", m.type, m.msg);
	cr_assert_eq(m.applied, 2);
	cr_assert_eq(m.nrejected, 0);
	wire_msg_release(&m);
	cr_assert_not(rcl_gone(&c));
	rcl_close(&c);
	buf_release(&b);
	world_stop();
	cr_assert_eq(server_max_seq(), 2);
}

Test(badinput, garbage)
{
	static const char junk[] = "\xc1\xc1GET / HTTP/1.1\r\nHost: x\r\n\r\n";

	expect_refused(junk, sizeof(junk) - 1, false, 0, WERR_MALFORMED);
}

Test(badinput, empty_message)
{
	expect_refused("", 0, false, 0, WERR_MALFORMED);
}

Test(badinput, truncated_msgpack)
{
	struct buf b = BUF_INIT;

	cr_assert_eq(wire_enc_hello(&b, REPLICA, AGENT, NULL), OP_OK);
	b.len -= 5;
	expect_refused_buf(&b, false, WERR_MALFORMED);
}

Test(badinput, not_a_map)
{
	struct buf b = BUF_INIT;
	msgpack_packer pk;

	rcl_packer(&pk, &b);
	msgpack_pack_array(&pk, 2);
	rcl_pack_str(&pk, "t");
	rcl_pack_str(&pk, "hello");
	expect_refused_buf(&b, false, WERR_MALFORMED);
}

Test(badinput, map_without_type)
{
	struct buf b = BUF_INIT;
	msgpack_packer pk;

	world_start();
	rcl_packer(&pk, &b);
	msgpack_pack_map(&pk, 5);
	pk_hello_body(&pk, true);
	expect_refused_buf(&b, false, WERR_MALFORMED);
}

Test(badinput, unknown_message_type)
{
	struct buf b = BUF_INIT;
	msgpack_packer pk;

	rcl_packer(&pk, &b);
	msgpack_pack_map(&pk, 1);
	rcl_pack_str(&pk, "t");
	rcl_pack_str(&pk, "launch");
	expect_refused_buf(&b, false, WERR_UNKNOWN_MSG);
}

Test(badinput, unknown_message_type_after_hello)
{
	struct buf b = BUF_INIT;
	msgpack_packer pk;

	rcl_packer(&pk, &b);
	msgpack_pack_map(&pk, 1);
	rcl_pack_str(&pk, "t");
	rcl_pack_str(&pk, "launch");
	expect_refused_buf(&b, true, WERR_UNKNOWN_MSG);
}

/* A valid token does not get a malformed hello through. */
Test(badinput, proto_as_string)
{
	struct buf b = BUF_INIT;
	msgpack_packer pk;

	world_start();
	rcl_packer(&pk, &b);
	msgpack_pack_map(&pk, 6);
	rcl_pack_str(&pk, "t");
	rcl_pack_str(&pk, "hello");
	rcl_pack_str(&pk, "proto");
	rcl_pack_str(&pk, "1");
	pk_hello_body(&pk, false);
	expect_refused_buf(&b, false, WERR_TYPE);
}

Test(badinput, hello_with_unknown_key)
{
	struct buf b = BUF_INIT;
	msgpack_packer pk;

	world_start();
	rcl_packer(&pk, &b);
	msgpack_pack_map(&pk, 7);
	rcl_pack_str(&pk, "t");
	rcl_pack_str(&pk, "hello");
	pk_hello_body(&pk, true);
	rcl_pack_str(&pk, "colour");
	rcl_pack_str(&pk, "red");
	expect_refused_buf(&b, false, WERR_UNKNOWN_FIELD);
}

Test(badinput, bad_protocol_version)
{
	struct buf b = BUF_INIT;
	msgpack_packer pk;

	world_start();
	rcl_packer(&pk, &b);
	msgpack_pack_map(&pk, 6);
	rcl_pack_str(&pk, "t");
	rcl_pack_str(&pk, "hello");
	rcl_pack_str(&pk, "proto");
	msgpack_pack_uint64(&pk, WIRE_PROTO + 1);
	pk_hello_body(&pk, false);
	expect_refused_buf(&b, false, WERR_VERSION);
}

/* Everything else is checked before the token: without one, a well-formed
 * hello is refused for the missing login. */
Test(badinput, hello_without_token)
{
	struct buf b = BUF_INIT;

	cr_assert_eq(wire_enc_hello(&b, REPLICA, AGENT, NULL), OP_OK);
	expect_refused_buf(&b, false, WERR_AUTH);
}

Test(badinput, push_before_hello)
{
	struct buf b = BUF_INIT;

	push_two_good(&b, 2);
	expect_refused_buf(&b, false, WERR_STATE);
}

Test(badinput, second_hello)
{
	struct buf b = BUF_INIT;

	world_start();
	cr_assert_eq(wire_enc_hello(&b, REPLICA, AGENT, token), OP_OK);
	expect_refused_buf(&b, true, WERR_STATE);
}

Test(badinput, push_unknown_table)
{
	struct buf b = BUF_INIT;

	push_two_good(&b, 3);
	chg(&b, &widget_tbl, 3, "name", "Sprocket", NULL);
	expect_refused_buf(&b, true, WERR_UNKNOWN_TABLE);
}

/* The error quotes the name; it must still be valid UTF-8 for the client. */
Test(badinput, push_unknown_table_not_utf8)
{
	struct buf b = BUF_INIT;

	push_two_good(&b, 3);
	chg(&b, &bad_utf8_tbl, 3, "name", "Sprocket", NULL);
	expect_refused_buf(&b, true, WERR_UNKNOWN_TABLE);
}

Test(badinput, push_unknown_field)
{
	struct buf b = BUF_INIT;

	push_two_good(&b, 3);
	chg(&b, &custx_tbl, 3, "name", "Summit Bakery", "colour", "red", NULL);
	expect_refused_buf(&b, true, WERR_UNKNOWN_FIELD);
}

/* Values travel as nil, integer, float or string; a string for an
 * integer field fails validation against the table: that change alone
 * is refused. */
Test(badinput, push_wrong_value_type)
{
	const struct tbl_desc *cust = tbl_find("customer", 8);
	struct buf b = BUF_INIT;
	char id[RID_LEN + 1];

	push_two_good(&b, 3);
	chg_id(&b, cust, 3, id, "name", "Summit Bakery", "satisfaction", "five", NULL);
	expect_third_refused(&b, cust, id, WERR_INVALID);
}

Test(badinput, push_invalid_email)
{
	const struct tbl_desc *cust = tbl_find("customer", 8);
	struct buf b = BUF_INIT;
	char id[RID_LEN + 1];

	push_two_good(&b, 3);
	chg_id(&b, cust, 3, id, "name", "Summit Bakery", "email", "nope", NULL);
	expect_third_refused(&b, cust, id, WERR_INVALID);
}

/* Decodes fine, refused while applying: only that change. */
Test(badinput, push_create_without_required_field)
{
	const struct tbl_desc *cust = tbl_find("customer", 8);
	struct buf b = BUF_INIT;
	char id[RID_LEN + 1];

	push_two_good(&b, 3);
	chg_id(&b, cust, 3, id, "region", "north", NULL);
	expect_third_refused(&b, cust, id, WERR_INVALID);
}

/* Conflict records are the server's to write, even for an administrator. */
Test(badinput, push_to_conflict_table)
{
	const struct tbl_desc *conflict = tbl_find("conflict", 8);
	struct buf b = BUF_INIT;
	char id[RID_LEN + 1];

	push_two_good(&b, 3);
	chg_id(&b, conflict, 3, id, "kind", "field", NULL);
	expect_third_refused(&b, conflict, id, WERR_DENIED);
}

Test(badinput, oversized_message_in_fragments)
{
	size_t len = WIRE_MAX_FRAME + FRAG;
	unsigned char *big = calloc(1, len);

	cr_assert_not_null(big);
	expect_refused(big, len, true, FRAG, WERR_TOO_BIG);
	free(big);
}

Test(badinput, oversized_single_frame)
{
	size_t len = WIRE_MAX_FRAME + 1;
	unsigned char *big = calloc(1, len);

	cr_assert_not_null(big);
	expect_refused(big, len, false, 0, WERR_TOO_BIG);
	free(big);
}

/*
 * A client still sending when the server refuses its message: the client
 * reads nothing until it has sent all of it (4 MiB), as a slow or busy
 * client would. The error and the close must still reach it, so the
 * server must not reset the connection under it.
 */
Test(badinput, oversized_message_read_after_sending)
{
	size_t len = 4 * WIRE_MAX_FRAME;
	unsigned char *big = calloc(1, len);
	struct rcl c;

	cr_assert_not_null(big);
	world_start();
	rcl_open_w(&c);
	hello(&c);
	lws_rx_flow_control(c.wsi, 0);
	rcl_queue_msg(&c, big, len, FRAG, true);
	cr_assert(rcl_run(&c, rcl_until_sent, 0));
	cr_assert_not(rcl_gone(&c), "the server reset the connection while the client was sending");
	lws_rx_flow_control(c.wsi, 1);
	rcl_expect_error(&c, WERR_TOO_BIG, NULL);
	rcl_close(&c);
	free(big);
	world_stop();
	cr_assert_eq(server_max_seq(), 0);
}

/*
 * A client that never ends its message gets the error and is cut off a
 * few seconds later (the server lingers for the end of the message, but
 * not for ever).
 */
Test(badinput, endless_message_is_cut_off)
{
	unsigned char *chunk = calloc(1, FRAG);
	time_t start, end;
	struct wire_msg m;
	struct rcl c;

	cr_assert_not_null(chunk);
	world_start();
	rcl_open_w(&c);
	hello(&c);
	rcl_queue(&c, chunk, FRAG, LWS_WRITE_BINARY | LWS_WRITE_NO_FIN);
	start = time(NULL);
	end = start + 3 * RCL_TIMEOUT_S;
	while (!rcl_gone(&c) && time(NULL) < end) {
		if (!c.txh)
			rcl_queue(&c, chunk, FRAG, LWS_WRITE_CONTINUATION | LWS_WRITE_NO_FIN);
		if (lws_service(c.ctx, 0) < 0)
			break;
	}
	cr_assert(rcl_gone(&c), "the server still reads an endless message after %d s",
		  3 * RCL_TIMEOUT_S);
	cr_assert_leq(time(NULL) - start, RCL_TIMEOUT_S, "cut off only after %ld s",
		      (long)(time(NULL) - start));
	cr_assert_eq(c.nmsgs, 2, "got %d replies", c.nmsgs);
	rcl_msg(&c, 1, &m);
	cr_assert_eq(m.code, WERR_TOO_BIG);
	wire_msg_release(&m);
	rcl_close(&c);
	free(chunk);
	world_stop();
	cr_assert_eq(server_max_seq(), 0);
}

/* ---- the server keeps serving ------------------------------------------ */

/* Adds a customer through the real CLI and syncs; returns its id. */
static void outpost_add_and_sync(const char *home, const char *name, char id[RID_LEN + 1])
{
	char out[4096];

	cr_assert_eq(h_outpost(home, out, sizeof(out), "customer", "add", "--name", name,
			       NULL), 0, "customer add failed: %s", out);
	cr_assert_geq(strlen(out), RID_LEN, "customer add printed \"%s\"", out);
	memcpy(id, out, RID_LEN);
	id[RID_LEN] = '\0';
	cr_assert_eq(h_outpost(home, out, sizeof(out), "sync", NULL), 0,
		     "sync failed (see %s): %s", W.srv.log, out);
}

static void expect_customer(struct db *db, const char *id, const char *name)
{
	const struct tbl_desc *t = tbl_find("customer", 8);
	struct rec *r = NULL;

	cr_assert_eq(db_rec_load(db, t, id, &r), OP_OK, "customer %s is not on the server", id);
	cr_assert_eq(r->f[0].v.t, VAL_TEXT);
	cr_assert_eq(r->f[0].v.n, strlen(name));
	cr_assert(!memcmp(r->f[0].v.s, name, r->f[0].v.n));
	rec_free(r);
}

/*
 * One bad client sits in the middle of an oversized message while others
 * are rejected for garbage and for a push refused for a bad field, and a
 * third has one change of its push refused; then a real client (logged
 * in with a password) syncs. Then the first bad client is rejected, and
 * the real client syncs again.
 */
Test(badinput, keeps_serving_others)
{
	static const char junk[] = "\xc1 not msgpack";
	size_t len = WIRE_MAX_FRAME + FRAG, off;
	unsigned char *big = calloc(1, len);
	char home[320], out[4096], id1[RID_LEN + 1], id2[RID_LEN + 1], err[OP_ERRLEN];
	struct buf b = BUF_INIT;
	struct wire_msg m;
	struct rcl slow, rude;
	struct db *db;

	cr_assert_not_null(big);
	world_start();
	cr_assert_eq(h_user_add(W.srv.db, "clerk", "manager", NULL, "pw-clerk"), 0);
	snprintf(home, sizeof(home), "%s/home", W.dir);

	/* slow: hello, then the first fragment of a too-big message. */
	rcl_open_w(&slow);
	hello(&slow);
	off = rcl_queue_msg(&slow, big, len, FRAG, false);
	cr_assert(rcl_run(&slow, rcl_until_sent, 0) && !rcl_gone(&slow));

	/* rude: garbage, rejected at once. */
	rcl_open_beside(&rude, &slow);
	rcl_queue(&rude, junk, sizeof(junk) - 1, LWS_WRITE_BINARY);
	rcl_expect_error(&rude, WERR_MALFORMED, NULL);
	rcl_close(&rude);

	/* rude again: a push refused whole for its third change's bad field. */
	rcl_open_beside(&rude, &slow);
	hello(&rude);
	push_two_good(&b, 3);
	chg(&b, &custx_tbl, 3, "name", "Summit Bakery", "colour", "red", NULL);
	rcl_send(&rude, &b);
	buf_release(&b);
	rcl_expect_error(&rude, WERR_UNKNOWN_FIELD, NULL);
	rcl_close(&rude);

	/* rude once more: one change of three refused, the session goes on
	 * until it sends garbage. */
	rcl_open_beside(&rude, &slow);
	hello(&rude);
	push_two_good(&b, 3);
	chg(&b, tbl_find("customer", 8), 3, "region", "north", NULL);
	rcl_request(&rude, &b, &m);
	buf_release(&b);
	cr_assert_eq(m.type, WIRE_ACK, "got type %d: %s", m.type, m.msg);
	cr_assert_eq(m.applied, 2);
	cr_assert_eq(m.nrejected, 1);
	cr_assert_eq(m.rejected[0].code, WERR_INVALID);
	wire_msg_release(&m);
	rcl_queue(&rude, junk, sizeof(junk) - 1, LWS_WRITE_BINARY);
	rcl_expect_error(&rude, WERR_MALFORMED, NULL);
	rcl_close(&rude);

	/* A real client, while slow is still connected. */
	cr_assert_eq(h_outpost(home, out, sizeof(out), "init", "--server", W.srv.url,
			       "--ca", W.srv.cert, NULL), 0, "init failed: %s", out);
	cr_assert_eq(h_login(home, "clerk", "pw-clerk"), 0, "login failed (see %s)", W.srv.log);
	outpost_add_and_sync(home, "Alpine Foods", id1);

	/* slow finishes its message and is rejected. */
	rcl_queue_rest(&slow, big, len, off, FRAG);
	rcl_expect_error(&slow, WERR_TOO_BIG, NULL);
	rcl_close(&slow);

	/* And a real client afterwards. */
	outpost_add_and_sync(home, "Harbor Motors", id2);

	world_stop();
	cr_assert_eq(db_open(W.srv.db, SCHEMA_SERVER, &db, err), OP_OK, "%s", err);
	expect_customer(db, id1, "Alpine Foods");
	expect_customer(db, id2, "Harbor Motors");
	db_close(db);
	cr_assert_eq(server_max_seq(), 4); /* rude's two good changes and the client's */
	free(big);
}
