/*
 * rawcl.c - the raw WebSocket client of the hostile-client tests (see
 * rawcl.h). One lws protocol callback fills struct rcl; the waits service
 * the context with a periodic timer so that they can time out.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "rawcl.h"

#define PROTO_NAME "outpost-sync"
#define TICK_US (50 * LWS_US_PER_MS)

struct rcl_tx {
	struct rcl_tx *next;
	size_t len;
	int flags;
	unsigned char data[]; /* LWS_PRE headroom, then the payload */
};

static void on_close_frame(struct rcl *c, const unsigned char *in, size_t len)
{
	size_t n = len > 2 ? len - 2 : 0;

	c->peer_closed = true;
	c->close_code = len >= 2 ? in[0] << 8 | in[1] : 0;
	if (n >= sizeof(c->close_reason))
		n = sizeof(c->close_reason) - 1;
	memcpy(c->close_reason, in + 2, n);
	c->close_reason[n] = '\0';
}

static int on_receive(struct rcl *c, struct lws *wsi, const void *in, size_t len)
{
	if (buf_add(&c->rx, in, len))
		return -1;
	if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
		return 0;
	if (c->nmsgs < RCL_MAX_MSGS) {
		c->msgs[c->nmsgs++] = c->rx;
		memset(&c->rx, 0, sizeof(c->rx));
	}
	buf_reset(&c->rx);
	return 0;
}

/* One lws_write per WRITEABLE, from a buffer used once (lws masks it). */
static int on_writeable(struct rcl *c, struct lws *wsi)
{
	struct rcl_tx *t = c->txh;
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

static int callback(struct lws *wsi, enum lws_callback_reasons reason,
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
		return on_receive(c, wsi, in, len);
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		return on_writeable(c, wsi);
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		on_close_frame(c, in, len);
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
static void tick(lws_sorted_usec_list_t *sul)
{
	struct rcl *c = lws_container_of(sul, struct rcl, tick);

	lws_sul_schedule(c->ctx, 0, &c->tick, tick, TICK_US);
}

/* ---- waiting ------------------------------------------------------------ */

bool rcl_gone(const struct rcl *c)
{
	return c->closed || c->conn_error;
}

static bool until_established(const struct rcl *c, int arg)
{
	(void)arg;
	return c->established || rcl_gone(c);
}

bool rcl_until_sent(const struct rcl *c, int arg)
{
	(void)arg;
	return !c->txh || rcl_gone(c);
}

bool rcl_until_msgs(const struct rcl *c, int n)
{
	return c->nmsgs >= n || rcl_gone(c);
}

bool rcl_until_closed(const struct rcl *c, int arg)
{
	(void)arg;
	return rcl_gone(c);
}

bool rcl_run(struct rcl *c, rcl_done_fn done, int arg)
{
	time_t end = time(NULL) + RCL_TIMEOUT_S;

	while (!done(c, arg) && time(NULL) < end)
		if (lws_service(c->ctx, 0) < 0)
			break;
	return done(c, arg);
}

/* ---- connections -------------------------------------------------------- */

static void connect_to(struct rcl *c)
{
	struct lws_client_connect_info ci;

	memset(&ci, 0, sizeof(ci));
	ci.context = c->ctx;
	ci.address = "127.0.0.1";
	ci.port = c->port;
	ci.path = "/";
	ci.host = "localhost";
	ci.origin = "localhost";
	ci.protocol = PROTO_NAME;
	ci.ssl_connection = LCCSCF_USE_SSL;
	ci.userdata = c;
	ci.pwsi = &c->wsi;
	cr_assert_not_null(lws_client_connect_via_info(&ci));
	cr_assert(rcl_run(c, until_established, 0), "no WebSocket handshake in %d s",
		  RCL_TIMEOUT_S);
	cr_assert(c->established && !rcl_gone(c), "cannot connect to 127.0.0.1:%d", c->port);
}

void rcl_open(struct rcl *c, int port, const char *ca)
{
	static const struct lws_protocols protocols[] = {
		{ PROTO_NAME, callback, 0, 65536, 0, NULL, 0 },
		{ NULL, NULL, 0, 0, 0, NULL, 0 },
	};
	struct lws_context_creation_info info;

	signal(SIGPIPE, SIG_IGN);
	lws_set_log_level(LLL_ERR, NULL);
	memset(c, 0, sizeof(*c));
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT |
		       LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
	info.client_ssl_ca_filepath = ca;
	c->ctx = lws_create_context(&info);
	cr_assert_not_null(c->ctx);
	c->owns_ctx = true;
	c->port = port;
	lws_sul_schedule(c->ctx, 0, &c->tick, tick, TICK_US);
	connect_to(c);
}

void rcl_open_beside(struct rcl *c, const struct rcl *owner)
{
	memset(c, 0, sizeof(*c));
	c->ctx = owner->ctx;
	c->port = owner->port;
	connect_to(c);
}

void rcl_close(struct rcl *c)
{
	struct rcl_tx *t;
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
	c->txt = NULL;
	buf_release(&c->rx);
	for (i = 0; i < c->nmsgs; i++)
		buf_release(&c->msgs[i]);
	c->nmsgs = 0;
}

/* ---- sending ------------------------------------------------------------ */

void rcl_queue(struct rcl *c, const void *p, size_t len, int flags)
{
	struct rcl_tx *t = malloc(sizeof(*t) + LWS_PRE + len);

	cr_assert_not_null(t);
	t->next = NULL;
	t->len = len;
	t->flags = flags;
	if (len)
		memcpy(t->data + LWS_PRE, p, len);
	if (c->txt)
		c->txt->next = t;
	else
		c->txh = t;
	c->txt = t;
	if (c->wsi)
		lws_callback_on_writable(c->wsi);
}

size_t rcl_queue_msg(struct rcl *c, const unsigned char *p, size_t len,
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

void rcl_queue_rest(struct rcl *c, const unsigned char *p, size_t len,
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

void rcl_send(struct rcl *c, const struct buf *b)
{
	rcl_queue(c, b->p, b->len, LWS_WRITE_BINARY);
}

/* ---- replies ------------------------------------------------------------ */

void rcl_msg(const struct rcl *c, int i, struct wire_msg *m)
{
	struct wire_err e;

	cr_assert_lt(i, c->nmsgs, "no reply %d (%d received)", i, c->nmsgs);
	cr_assert_eq(wire_decode(c->msgs[i].p, c->msgs[i].len, NULL, false, m, &e), OP_OK,
		     "reply %d does not decode: %s", i, e.msg);
}

void rcl_reply(struct rcl *c, struct wire_msg *m)
{
	cr_assert(rcl_run(c, rcl_until_msgs, c->nread + 1) && c->nmsgs > c->nread,
		  "no reply %d in %d s (connection %s, close %d \"%s\")", c->nread + 1,
		  RCL_TIMEOUT_S, rcl_gone(c) ? "ended" : "open", c->close_code,
		  c->close_reason);
	rcl_msg(c, c->nread++, m);
}

void rcl_request(struct rcl *c, const struct buf *b, struct wire_msg *m)
{
	rcl_send(c, b);
	rcl_reply(c, m);
}

void rcl_hello(struct rcl *c, const char *replica, const char *token,
	       struct wire_msg *welcome)
{
	struct buf b = BUF_INIT;
	struct wire_msg m;

	cr_assert_eq(wire_enc_hello(&b, replica, RCL_AGENT, token), OP_OK);
	rcl_request(c, &b, &m);
	buf_release(&b);
	cr_assert_eq(m.type, WIRE_WELCOME, "hello from %s got type %d: %llu %s", replica,
		     m.type, (unsigned long long)m.code, m.msg);
	if (welcome)
		*welcome = m;
	else
		wire_msg_release(&m);
}

int rcl_expect_error(struct rcl *c, int code, const char *fragment)
{
	struct wire_msg m;
	int first = c->nread, got;

	cr_assert(rcl_run(c, rcl_until_closed, 0), "the server did not close within %d s",
		  RCL_TIMEOUT_S);
	cr_assert_eq(c->nmsgs, first + 1, "expected exactly one more reply, got %d",
		     c->nmsgs - first);
	rcl_reply(c, &m);
	cr_assert_eq(m.type, WIRE_ERROR, "expected an error, got type %d", m.type);
	cr_assert(!code || m.code == (uint64_t)code, "expected error %d, got %llu: %s", code,
		  (unsigned long long)m.code, m.msg);
	cr_assert_neq(m.msg[0], '\0', "the error has no message");
	cr_assert(!fragment || strstr(m.msg, fragment),
		  "the error \"%s\" does not say \"%s\"", m.msg, fragment);
	cr_assert(c->peer_closed, "the connection ended without a close frame from the server");
	cr_assert_eq(c->close_code, LWS_CLOSE_STATUS_POLICY_VIOLATION, "close code %d",
		     c->close_code);
	cr_assert(!strncmp(m.msg, c->close_reason, strlen(c->close_reason)),
		  "close reason \"%s\" is not the error's message \"%s\"", c->close_reason,
		  m.msg);
	got = (int)m.code;
	wire_msg_release(&m);
	return got;
}

static int buf_write_cb(void *data, const char *p, size_t n)
{
	return buf_add(data, p, n) ? -1 : 0;
}

void rcl_packer(msgpack_packer *pk, struct buf *b)
{
	msgpack_packer_init(pk, b, buf_write_cb);
}

void rcl_pack_str(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str(pk, strlen(s));
	msgpack_pack_str_body(pk, s, strlen(s));
}
