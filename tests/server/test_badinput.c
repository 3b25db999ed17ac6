/*
 * test_badinput.c - bad input against a real outpostd over TLS on
 * 127.0.0.1. A small raw WebSocket client (libwebsockets, in this file)
 * sends one crafted message, optionally after a valid hello, and collects
 * the replies. For every kind of bad input the server must answer with one
 * "error" message carrying the expected code, close the connection with
 * status 1008, write nothing to its database, and go on serving others.
 *
 * Criterion runs each test in its own fork, in parallel: each test has its
 * own temporary directory and server. A watchdog process kills the server
 * if the test process dies (a crash or a Criterion timeout), so no
 * outpostd outlives its test.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <libwebsockets.h>
#include <msgpack.h>

#include "db.h"
#include "harness.h"
#include "wire.h"

#define REPLICA "fedcba9876543210fedcba9876543210"
#define PROTO_NAME "outpost-sync"
#define NET_TIMEOUT_S 10   /* longest wait for any network event */
#define MAX_MSGS 8         /* replies kept per connection */
#define FRAG (64 * 1024)   /* fragment size for large messages */
#define TICK_US (50 * LWS_US_PER_MS)

/* ---- one test's world: directory, server, watchdog ---------------------- */

struct world {
	char dir[256];
	struct h_server srv;
	pid_t dog;      /* watchdog process, or 0 */
	int dog_fd;     /* write end of its pipe */
};

/* Criterion forks every test, so this belongs to one test only. */
static struct world W;

/* Forks a process that kills the server unless the test disarms it. */
static void watchdog_arm(struct world *w)
{
	int fds[2], fd;
	char c;

	cr_assert_eq(pipe(fds), 0);
	fcntl(fds[1], F_SETFD, FD_CLOEXEC);
	w->dog = fork();
	cr_assert_geq(w->dog, 0);
	if (w->dog == 0) {
		for (fd = 3; fd < 1024; fd++)
			if (fd != fds[0])
				close(fd);
		if (read(fds[0], &c, 1) != 1)
			kill(w->srv.pid, SIGKILL);
		_exit(0);
	}
	close(fds[0]);
	w->dog_fd = fds[1];
}

static void watchdog_disarm(struct world *w)
{
	if (w->dog <= 0)
		return;
	if (write(w->dog_fd, "x", 1) != 1)
		kill(w->dog, SIGKILL);
	close(w->dog_fd);
	waitpid(w->dog, NULL, 0);
	w->dog = 0;
}

static void world_start(void)
{
	signal(SIGPIPE, SIG_IGN);
	lws_set_log_level(LLL_ERR, NULL);
	cr_assert_eq(h_tmpdir(W.dir), 0);
	cr_assert_eq(h_server_start(&W.srv, W.dir), 0, "outpostd did not start");
	watchdog_arm(&W);
}

/*
 * Stops the server (idempotent); it must exit cleanly. The watchdog stays
 * armed until the server is reaped, in case the stop hangs until
 * Criterion's timeout kills the test.
 */
static void world_stop(void)
{
	int st;

	if (W.srv.pid <= 0)
		return;
	st = h_server_stop(&W.srv, SIGTERM);
	watchdog_disarm(&W);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		  "outpostd did not stop cleanly (status %d)", st);
}

/* Suite .fini: runs after every test, passed or failed. */
static void world_end(void)
{
	if (W.srv.pid > 0)
		h_server_stop(&W.srv, SIGKILL);
	watchdog_disarm(&W);
	if (W.dir[0])
		h_rmtree(W.dir);
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

/* ---- the raw client ---------------------------------------------------- */

struct tx {
	struct tx *next;
	size_t len;
	int flags;
	unsigned char data[]; /* LWS_PRE headroom, then the payload */
};

struct rcl {
	struct lws_context *ctx;
	struct lws *wsi;
	lws_sorted_usec_list_t tick;
	struct tx *txh, *txt;
	struct buf rx;                /* reply being reassembled */
	struct buf msgs[MAX_MSGS];    /* complete replies */
	int nmsgs;
	bool owns_ctx;                /* lws context (and tick) are ours */
	bool established, conn_error, closed, peer_closed;
	int close_code;               /* from the server's close frame */
	char close_reason[128];
};

static void rcl_on_close_frame(struct rcl *c, const unsigned char *in, size_t len)
{
	size_t n = len > 2 ? len - 2 : 0;

	c->peer_closed = true;
	c->close_code = len >= 2 ? in[0] << 8 | in[1] : 0;
	if (n >= sizeof(c->close_reason))
		n = sizeof(c->close_reason) - 1;
	memcpy(c->close_reason, in + 2, n);
	c->close_reason[n] = '\0';
}

static int rcl_on_receive(struct rcl *c, struct lws *wsi, const void *in, size_t len)
{
	if (buf_add(&c->rx, in, len))
		return -1;
	if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
		return 0;
	if (c->nmsgs < MAX_MSGS) {
		c->msgs[c->nmsgs++] = c->rx;
		memset(&c->rx, 0, sizeof(c->rx));
	}
	buf_reset(&c->rx);
	return 0;
}

/* One lws_write per WRITEABLE, from a buffer used once (lws masks it). */
static int rcl_on_writeable(struct rcl *c, struct lws *wsi)
{
	struct tx *t = c->txh;
	int n;

	if (!t)
		return 0;
	c->txh = t->next;
	if (!c->txh)
		c->txt = NULL;
	n = lws_write(wsi, t->data + LWS_PRE, t->len, (enum lws_write_protocol)t->flags);
	free(t);
	if (n < 0)
		return -1;
	if (c->txh)
		lws_callback_on_writable(wsi);
	return 0;
}

static int rcl_callback(struct lws *wsi, enum lws_callback_reasons reason,
			void *user, void *in, size_t len)
{
	struct rcl *c = user;

	if (!c)
		return 0;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		c->conn_error = true;
		c->wsi = NULL;
		return 0;
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		c->established = true;
		if (c->txh)
			lws_callback_on_writable(wsi);
		return 0;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		return rcl_on_receive(c, wsi, in, len);
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		return rcl_on_writeable(c, wsi);
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		rcl_on_close_frame(c, in, len);
		return 0;
	case LWS_CALLBACK_CLIENT_CLOSED:
		c->closed = true;
		c->wsi = NULL;
		return 0;
	default:
		return 0;
	}
}

/* Keeps lws_service() returning, so that waits can time out. */
static void rcl_tick(lws_sorted_usec_list_t *sul)
{
	struct rcl *c = lws_container_of(sul, struct rcl, tick);

	lws_sul_schedule(c->ctx, 0, &c->tick, rcl_tick, TICK_US);
}

static bool gone(const struct rcl *c)
{
	return c->closed || c->conn_error;
}

static bool is_established(const struct rcl *c, int arg)
{
	(void)arg;
	return c->established || gone(c);
}

static bool is_sent(const struct rcl *c, int arg)
{
	(void)arg;
	return !c->txh || gone(c);
}

static bool has_msgs(const struct rcl *c, int n)
{
	return c->nmsgs >= n || gone(c);
}

static bool is_closed(const struct rcl *c, int arg)
{
	(void)arg;
	return gone(c);
}

/* Services the connection until done(c, arg) or NET_TIMEOUT_S passes. */
static bool rcl_run(struct rcl *c, bool (*done)(const struct rcl *, int), int arg)
{
	time_t end = time(NULL) + NET_TIMEOUT_S;

	while (!done(c, arg) && time(NULL) < end)
		if (lws_service(c->ctx, 0) < 0)
			break;
	return done(c, arg);
}

/* Connects on c->ctx to the world's server; waits for the handshake. */
static void rcl_connect(struct rcl *c)
{
	struct lws_client_connect_info ci;

	memset(&ci, 0, sizeof(ci));
	ci.context = c->ctx;
	ci.address = "127.0.0.1";
	ci.port = W.srv.port;
	ci.path = "/";
	ci.host = "localhost";
	ci.origin = "localhost";
	ci.protocol = PROTO_NAME;
	ci.ssl_connection = LCCSCF_USE_SSL;
	ci.userdata = c;
	ci.pwsi = &c->wsi;
	cr_assert_not_null(lws_client_connect_via_info(&ci));
	cr_assert(rcl_run(c, is_established, 0), "no WebSocket handshake in %d s", NET_TIMEOUT_S);
	cr_assert(c->established && !gone(c), "cannot connect to %s", W.srv.url);
}

/* A connection with its own context. */
static void rcl_open(struct rcl *c)
{
	static const struct lws_protocols protocols[] = {
		{ PROTO_NAME, rcl_callback, 0, 65536, 0, NULL, 0 },
		{ NULL, NULL, 0, 0, 0, NULL, 0 },
	};
	struct lws_context_creation_info info;

	memset(c, 0, sizeof(*c));
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT |
		       LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
	info.client_ssl_ca_filepath = W.srv.cert;
	c->ctx = lws_create_context(&info);
	cr_assert_not_null(c->ctx);
	c->owns_ctx = true;
	lws_sul_schedule(c->ctx, 0, &c->tick, rcl_tick, TICK_US);
	rcl_connect(c);
}

/*
 * A second connection on owner's context (two TLS client contexts in one
 * process leak OpenSSL state in lws 4.1). Close it before the owner.
 */
static void rcl_open_beside(struct rcl *c, const struct rcl *owner)
{
	memset(c, 0, sizeof(*c));
	c->ctx = owner->ctx;
	rcl_connect(c);
}

static void rcl_close(struct rcl *c)
{
	struct tx *t;
	int i;

	if (c->owns_ctx) {
		lws_sul_cancel(&c->tick);
		lws_context_destroy(c->ctx);
	} else if (c->wsi) {
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
	}
	while ((t = c->txh)) {
		c->txh = t->next;
		free(t);
	}
	buf_release(&c->rx);
	for (i = 0; i < c->nmsgs; i++)
		buf_release(&c->msgs[i]);
}

static void rcl_queue(struct rcl *c, const void *p, size_t len, int flags)
{
	struct tx *t = malloc(sizeof(*t) + LWS_PRE + len);

	cr_assert_not_null(t);
	t->next = NULL;
	t->len = len;
	t->flags = flags;
	memcpy(t->data + LWS_PRE, p, len);
	if (c->txt)
		c->txt->next = t;
	else
		c->txh = t;
	c->txt = t;
	if (c->wsi)
		lws_callback_on_writable(c->wsi);
}

/*
 * Queues p as one message, in fragments of frag bytes when frag > 0.
 * With fin false the message is left unfinished after its first
 * fragment; rcl_queue_rest() sends the others.
 */
static size_t rcl_queue_msg(struct rcl *c, const unsigned char *p, size_t len,
			    size_t frag, bool fin)
{
	size_t off = 0, n;

	if (!frag) {
		rcl_queue(c, p, len, LWS_WRITE_BINARY);
		return len;
	}
	do {
		n = len - off > frag ? frag : len - off;
		rcl_queue(c, p + off, n, (off ? LWS_WRITE_CONTINUATION : LWS_WRITE_BINARY) |
			  (off + n < len ? LWS_WRITE_NO_FIN : 0));
		off += n;
	} while (off < len && fin);
	return off;
}

static void rcl_queue_rest(struct rcl *c, const unsigned char *p, size_t len,
			   size_t off, size_t frag)
{
	size_t n;

	while (off < len) {
		n = len - off > frag ? frag : len - off;
		rcl_queue(c, p + off, n, LWS_WRITE_CONTINUATION |
			  (off + n < len ? LWS_WRITE_NO_FIN : 0));
		off += n;
	}
}

/* Decodes reply i (lenient, as a client would) into *m; release it. */
static void rcl_msg(const struct rcl *c, int i, struct wire_msg *m)
{
	struct wire_err e;

	cr_assert_lt(i, c->nmsgs);
	cr_assert_eq(wire_decode(c->msgs[i].p, c->msgs[i].len, NULL, false, m, &e), OP_OK,
		     "reply %d does not decode: %s", i, e.msg);
}

/* Sends a valid hello and expects a welcome. */
static void rcl_hello(struct rcl *c)
{
	struct buf b = BUF_INIT;
	struct wire_msg m;

	cr_assert_eq(wire_enc_hello(&b, REPLICA, "test_badinput/1"), OP_OK);
	rcl_queue(c, b.p, b.len, LWS_WRITE_BINARY);
	buf_release(&b);
	cr_assert(rcl_run(c, has_msgs, 1) && c->nmsgs == 1, "no reply to hello");
	rcl_msg(c, 0, &m);
	cr_assert_eq(m.type, WIRE_WELCOME, "hello got type %d: %s", m.type, m.msg);
	wire_msg_release(&m);
}

/* ---- message builders -------------------------------------------------- */

static int buf_write_cb(void *data, const char *p, size_t n)
{
	return buf_add(data, p, n) ? -1 : 0;
}

static void pk_init(msgpack_packer *pk, struct buf *b)
{
	msgpack_packer_init(pk, b, buf_write_cb);
}

static void pk_cstr(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str(pk, strlen(s));
	msgpack_pack_str_body(pk, s, strlen(s));
}

/* A valid hello's pairs after "t"; without proto, the caller writes that. */
static void pk_hello_body(msgpack_packer *pk, bool proto)
{
	if (proto) {
		pk_cstr(pk, "proto");
		msgpack_pack_uint64(pk, WIRE_PROTO);
	}
	pk_cstr(pk, "schema");
	msgpack_pack_uint64(pk, SCHEMA_VERSION);
	pk_cstr(pk, "replica");
	pk_cstr(pk, REPLICA);
	pk_cstr(pk, "agent");
	pk_cstr(pk, "test_badinput/1");
}

/* Text fields only: enough for every change these tests need. */
static const struct fld_desc widget_fields[] = {
	{ "name", FLD_TEXT, true, 200, 0, 0, NULL, "" },
};
static const struct tbl_desc widget_tbl = { "widget", widget_fields, 1, false, 0 };
static const struct tbl_desc bad_utf8_tbl = { "wid\xffget", widget_fields, 1, false, 0 };

static const struct fld_desc custx_fields[] = {
	{ "name", FLD_TEXT, true, 200, 0, 0, NULL, "" },
	{ "colour", FLD_TEXT, false, 200, 0, 0, NULL, "" },
};
static const struct tbl_desc custx_tbl = { "customer", custx_fields, 2, false, 0 };

/* Appends a change of table t by REPLICA with counter ctr setting
 * field=text pairs (NULL-terminated). */
static void chg(struct buf *b, const struct tbl_desc *t, uint64_t ctr, ...)
{
	int fields[TBL_MAX_FIELDS], nf = 0, i;
	char id[RID_LEN + 1];
	const char *name;
	struct rec_dot d;
	struct rec *r;
	va_list ap;

	cr_assert_eq(rid_new(id), OP_OK);
	r = rec_new(t, id);
	cr_assert_not_null(r);
	cr_assert_eq(vv_raise(r->vv, REPLICA, ctr), OP_OK);
	va_start(ap, ctr);
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
static void expect_refused(const void *payload, size_t len, bool hello, size_t frag,
			   int code)
{
	struct wire_msg m;
	struct rcl c;
	int first;

	world_start();
	rcl_open(&c);
	if (hello)
		rcl_hello(&c);
	first = c.nmsgs;
	rcl_queue_msg(&c, payload, len, frag, true);
	cr_assert(rcl_run(&c, is_closed, 0), "the server did not close within %d s", NET_TIMEOUT_S);
	cr_assert_eq(c.nmsgs, first + 1, "expected exactly one reply, got %d", c.nmsgs - first);
	rcl_msg(&c, first, &m);
	cr_assert_eq(m.type, WIRE_ERROR, "expected an error, got type %d", m.type);
	cr_assert_eq(m.code, (uint64_t)code, "expected error %d, got %llu: %s", code,
		     (unsigned long long)m.code, m.msg);
	cr_assert_neq(m.msg[0], '\0', "the error has no message");
	cr_assert(c.peer_closed, "the connection ended without a close frame from the server");
	cr_assert_eq(c.close_code, LWS_CLOSE_STATUS_POLICY_VIOLATION, "close code %d",
		     c.close_code);
	cr_assert(!strncmp(m.msg, c.close_reason, strlen(c.close_reason)),
		  "close reason \"%s\" is not the error's message \"%s\"", c.close_reason, m.msg);
	wire_msg_release(&m);
	rcl_close(&c);
	world_stop();
	cr_assert_eq(server_max_seq(), 0, "the refused input wrote to the database");
}

static void expect_refused_buf(struct buf *b, bool hello, int code)
{
	expect_refused(b->p, b->len, hello, 0, code);
	buf_release(b);
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
	rcl_open(&c);
	rcl_hello(&c);
	rcl_queue(&c, b.p, b.len, LWS_WRITE_BINARY);
	cr_assert(rcl_run(&c, has_msgs, 2) && c.nmsgs == 2, "no ack");
	rcl_msg(&c, 1, &m);
	cr_assert_eq(m.type, WIRE_ACK, "got type %d: %s", m.type, m.msg);
	cr_assert_eq(m.applied, 2);
	wire_msg_release(&m);
	cr_assert_not(gone(&c));
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

	cr_assert_eq(wire_enc_hello(&b, REPLICA, "test_badinput/1"), OP_OK);
	b.len -= 5;
	expect_refused_buf(&b, false, WERR_MALFORMED);
}

Test(badinput, not_a_map)
{
	struct buf b = BUF_INIT;
	msgpack_packer pk;

	pk_init(&pk, &b);
	msgpack_pack_array(&pk, 2);
	pk_cstr(&pk, "t");
	pk_cstr(&pk, "hello");
	expect_refused_buf(&b, false, WERR_MALFORMED);
}

Test(badinput, map_without_type)
{
	struct buf b = BUF_INIT;
	msgpack_packer pk;

	pk_init(&pk, &b);
	msgpack_pack_map(&pk, 4);
	pk_hello_body(&pk, true);
	expect_refused_buf(&b, false, WERR_MALFORMED);
}

Test(badinput, unknown_message_type)
{
	struct buf b = BUF_INIT;
	msgpack_packer pk;

	pk_init(&pk, &b);
	msgpack_pack_map(&pk, 1);
	pk_cstr(&pk, "t");
	pk_cstr(&pk, "launch");
	expect_refused_buf(&b, false, WERR_UNKNOWN_MSG);
}

Test(badinput, unknown_message_type_after_hello)
{
	struct buf b = BUF_INIT;
	msgpack_packer pk;

	pk_init(&pk, &b);
	msgpack_pack_map(&pk, 1);
	pk_cstr(&pk, "t");
	pk_cstr(&pk, "launch");
	expect_refused_buf(&b, true, WERR_UNKNOWN_MSG);
}

Test(badinput, proto_as_string)
{
	struct buf b = BUF_INIT;
	msgpack_packer pk;

	pk_init(&pk, &b);
	msgpack_pack_map(&pk, 5);
	pk_cstr(&pk, "t");
	pk_cstr(&pk, "hello");
	pk_cstr(&pk, "proto");
	pk_cstr(&pk, "1");
	pk_hello_body(&pk, false);
	expect_refused_buf(&b, false, WERR_TYPE);
}

Test(badinput, hello_with_unknown_key)
{
	struct buf b = BUF_INIT;
	msgpack_packer pk;

	pk_init(&pk, &b);
	msgpack_pack_map(&pk, 6);
	pk_cstr(&pk, "t");
	pk_cstr(&pk, "hello");
	pk_hello_body(&pk, true);
	pk_cstr(&pk, "colour");
	pk_cstr(&pk, "red");
	expect_refused_buf(&b, false, WERR_UNKNOWN_FIELD);
}

Test(badinput, bad_protocol_version)
{
	struct buf b = BUF_INIT;
	msgpack_packer pk;

	pk_init(&pk, &b);
	msgpack_pack_map(&pk, 5);
	pk_cstr(&pk, "t");
	pk_cstr(&pk, "hello");
	pk_cstr(&pk, "proto");
	msgpack_pack_uint64(&pk, WIRE_PROTO + 1);
	pk_hello_body(&pk, false);
	expect_refused_buf(&b, false, WERR_VERSION);
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

	cr_assert_eq(wire_enc_hello(&b, REPLICA, "test_badinput/1"), OP_OK);
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
 * integer field fails validation against the table. */
Test(badinput, push_wrong_value_type)
{
	struct buf b = BUF_INIT;

	push_two_good(&b, 3);
	chg(&b, tbl_find("customer", 8), 3, "name", "Summit Bakery",
	    "satisfaction", "five", NULL);
	expect_refused_buf(&b, true, WERR_INVALID);
}

Test(badinput, push_invalid_email)
{
	struct buf b = BUF_INIT;

	push_two_good(&b, 3);
	chg(&b, tbl_find("customer", 8), 3, "name", "Summit Bakery", "email", "nope", NULL);
	expect_refused_buf(&b, true, WERR_INVALID);
}

/* Decodes fine, refused while applying: the transaction must roll back. */
Test(badinput, push_create_without_required_field)
{
	struct buf b = BUF_INIT;

	push_two_good(&b, 3);
	chg(&b, tbl_find("customer", 8), 3, "region", "north", NULL);
	expect_refused_buf(&b, true, WERR_INVALID);
}

Test(badinput, push_to_conflict_table)
{
	struct buf b = BUF_INIT;

	push_two_good(&b, 3);
	chg(&b, tbl_find("conflict", 8), 3, "kind", "field", NULL);
	expect_refused_buf(&b, true, WERR_INVALID);
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
	struct wire_msg m;
	struct rcl c;

	cr_assert_not_null(big);
	world_start();
	rcl_open(&c);
	rcl_hello(&c);
	lws_rx_flow_control(c.wsi, 0);
	rcl_queue_msg(&c, big, len, FRAG, true);
	cr_assert(rcl_run(&c, is_sent, 0));
	cr_assert_not(gone(&c), "the server reset the connection while the client was sending");
	lws_rx_flow_control(c.wsi, 1);
	cr_assert(rcl_run(&c, is_closed, 0), "the server did not close within %d s", NET_TIMEOUT_S);
	cr_assert_eq(c.nmsgs, 2, "got %d replies", c.nmsgs);
	rcl_msg(&c, 1, &m);
	cr_assert_eq(m.type, WIRE_ERROR);
	cr_assert_eq(m.code, WERR_TOO_BIG, "got %llu: %s", (unsigned long long)m.code, m.msg);
	wire_msg_release(&m);
	cr_assert(c.peer_closed);
	cr_assert_eq(c.close_code, LWS_CLOSE_STATUS_POLICY_VIOLATION);
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
	rcl_open(&c);
	rcl_hello(&c);
	rcl_queue(&c, chunk, FRAG, LWS_WRITE_BINARY | LWS_WRITE_NO_FIN);
	start = time(NULL);
	end = start + 3 * NET_TIMEOUT_S;
	while (!gone(&c) && time(NULL) < end) {
		if (!c.txh)
			rcl_queue(&c, chunk, FRAG, LWS_WRITE_CONTINUATION | LWS_WRITE_NO_FIN);
		if (lws_service(c.ctx, 0) < 0)
			break;
	}
	cr_assert(gone(&c), "the server still reads an endless message after %d s",
		  3 * NET_TIMEOUT_S);
	cr_assert_leq(time(NULL) - start, NET_TIMEOUT_S, "cut off only after %ld s",
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
 * are rejected for garbage and for a push refused half-way through; then
 * a real client syncs. Then the first bad client is rejected, and a real
 * client syncs again.
 */
Test(badinput, keeps_serving_others, .timeout = 120)
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
	snprintf(home, sizeof(home), "%s/home", W.dir);

	/* slow: hello, then the first fragment of a too-big message. */
	rcl_open(&slow);
	rcl_hello(&slow);
	off = rcl_queue_msg(&slow, big, len, FRAG, false);
	cr_assert(rcl_run(&slow, is_sent, 0) && !gone(&slow));

	/* rude: garbage, rejected at once. */
	rcl_open_beside(&rude, &slow);
	rcl_queue(&rude, junk, sizeof(junk) - 1, LWS_WRITE_BINARY);
	cr_assert(rcl_run(&rude, is_closed, 0));
	cr_assert_eq(rude.nmsgs, 1);
	cr_assert(rude.peer_closed);
	rcl_msg(&rude, 0, &m);
	cr_assert_eq(m.code, WERR_MALFORMED);
	wire_msg_release(&m);
	rcl_close(&rude);

	/* rude again: a push the server refuses half-way through applying. */
	rcl_open_beside(&rude, &slow);
	rcl_hello(&rude);
	push_two_good(&b, 3);
	chg(&b, tbl_find("customer", 8), 3, "region", "north", NULL);
	rcl_queue(&rude, b.p, b.len, LWS_WRITE_BINARY);
	buf_release(&b);
	cr_assert(rcl_run(&rude, is_closed, 0));
	cr_assert_eq(rude.nmsgs, 2);
	rcl_msg(&rude, 1, &m);
	cr_assert_eq(m.code, WERR_INVALID);
	wire_msg_release(&m);
	rcl_close(&rude);

	/* A real client, while slow is still connected. */
	cr_assert_eq(h_outpost(home, out, sizeof(out), "init", "--server", W.srv.url,
			       "--ca", W.srv.cert, NULL), 0, "init failed: %s", out);
	outpost_add_and_sync(home, "Alpine Foods", id1);

	/* slow finishes its message and is rejected. */
	rcl_queue_rest(&slow, big, len, off, FRAG);
	cr_assert(rcl_run(&slow, is_closed, 0), "slow was not closed");
	cr_assert_eq(slow.nmsgs, 2, "slow got %d replies; close frame %d, code %d, unsent %d",
		     slow.nmsgs, slow.peer_closed, slow.close_code, slow.txh != NULL);
	rcl_msg(&slow, 1, &m);
	cr_assert_eq(m.type, WIRE_ERROR);
	cr_assert_eq(m.code, WERR_TOO_BIG, "got %llu: %s", (unsigned long long)m.code, m.msg);
	wire_msg_release(&m);
	rcl_close(&slow);

	/* And a real client afterwards. */
	outpost_add_and_sync(home, "Harbor Motors", id2);

	world_stop();
	cr_assert_eq(db_open(W.srv.db, SCHEMA_SERVER, &db, err), OP_OK, "%s", err);
	expect_customer(db, id1, "Alpine Foods");
	expect_customer(db, id2, "Harbor Motors");
	db_close(db);
	cr_assert_eq(server_max_seq(), 2);
	free(big);
}
