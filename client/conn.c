/*
 * conn.c - the libwebsockets client transport for a sync. One context and
 * one connection per sync; the state lives in struct conn, reached from
 * the connection's user pointer. Sends happen only from WRITEABLE, one
 * lws_write each, into a fresh buffer (lws masks client frames in place).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libwebsockets.h>

#include "conn.h"
#include "secret.h"
#include "wire.h"

#define PROTO_NAME "outpost-sync"
#define TICK_US (500 * LWS_US_PER_MS)

struct conn {
	struct sync *sync;
	const struct conn_opts *o;
	struct lws_context *ctx;
	struct lws *wsi;
	lws_sorted_usec_list_t tick;
	unsigned char *tx;      /* LWS_PRE + payload, or NULL */
	size_t txlen;
	struct buf rx;
	time_t last_traffic;
	bool finished;
	int rc;
	char err[OP_ERRLEN];
};

int conn_parse_url(const char *url, char host[256], int *port, char path[256],
		   bool *tls, char err[OP_ERRLEN])
{
	const char *h, *slash, *colon, *end;
	long n;
	char *e;

	*tls = !strncmp(url, "wss://", 6);
	if (!*tls && strncmp(url, "ws://", 5))
		return op_fail(err, OP_EINVAL, "the server URL must start with wss://");
	h = url + (*tls ? 6 : 5);
	slash = strchr(h, '/');
	end = slash ? slash : h + strlen(h);
	colon = memchr(h, ':', (size_t)(end - h));
	if ((colon ? colon : end) == h || (size_t)((colon ? colon : end) - h) >= 256)
		return op_fail(err, OP_EINVAL, "the server URL has no host");
	memcpy(host, h, (size_t)((colon ? colon : end) - h));
	host[(colon ? colon : end) - h] = '\0';
	*port = *tls ? 443 : 80;
	if (colon) {
		n = strtol(colon + 1, &e, 10);
		if (e != end || n < 1 || n > 65535)
			return op_fail(err, OP_EINVAL, "the port in the server URL is not a number from 1 to 65535");
		*port = (int)n;
	}
	snprintf(path, 256, "%s", slash ? slash : "/");
	return OP_OK;
}

/* Frees the frame being sent, wiped first: it may hold a password. */
static void tx_free(struct conn *c)
{
	if (c->tx)
		secret_wipe(c->tx, LWS_PRE + c->txlen);
	free(c->tx);
	c->tx = NULL;
}

static void conn_fail(struct conn *c, int rc, const char *msg)
{
	if (!c->rc) {
		c->rc = rc;
		snprintf(c->err, sizeof(c->err), "%s", msg);
	}
	c->finished = true;
}

/* Takes the frame in b for sending. */
static int conn_queue(struct conn *c, struct buf *b)
{
	tx_free(c);
	c->tx = malloc(LWS_PRE + b->len);
	if (!c->tx)
		return OP_ENOMEM;
	memcpy(c->tx + LWS_PRE, b->p, b->len);
	c->txlen = b->len;
	secret_wipe(b->p, b->len);
	buf_reset(b);
	lws_callback_on_writable(c->wsi);
	return OP_OK;
}

static int on_message(struct conn *c, const void *msg, size_t len)
{
	struct buf out = BUF_INIT;
	int rc = sync_on_message(c->sync, msg, len, &out);

	if (rc < 0)
		conn_fail(c, rc, sync_error(c->sync));
	else if (out.len && conn_queue(c, &out))
		conn_fail(c, OP_ENOMEM, "out of memory");
	else if (rc == SYNC_DONE)
		c->finished = true;
	buf_release(&out);
	return c->finished ? -1 : 0;
}

static int on_receive(struct conn *c, struct lws *wsi, const void *in, size_t len)
{
	bool final = lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi);
	int rc;

	c->last_traffic = time(NULL);
	if (!lws_frame_is_binary(wsi)) {
		conn_fail(c, OP_EPROTO, "the server sent a text frame; Outpost speaks binary MessagePack");
		return -1;
	}
	if (c->rx.len + len > WIRE_MAX_FRAME) {
		conn_fail(c, OP_ETOOBIG, "the server sent a message larger than the limit");
		return -1;
	}
	if (!final || c->rx.len) {
		if (buf_add(&c->rx, in, len)) {
			conn_fail(c, OP_ENOMEM, "out of memory");
			return -1;
		}
		if (!final)
			return 0;
		rc = on_message(c, c->rx.p, c->rx.len);
		buf_reset(&c->rx);
		return rc;
	}
	return on_message(c, in, len);
}

static int on_writeable(struct conn *c, struct lws *wsi)
{
	int n;

	if (!c->tx)
		return 0;
	n = lws_write(wsi, c->tx + LWS_PRE, c->txlen, LWS_WRITE_BINARY);
	tx_free(c);
	if (n < (int)c->txlen) {
		conn_fail(c, OP_EIO, "the connection failed while sending");
		return -1;
	}
	c->last_traffic = time(NULL);
	return 0;
}

static int on_established(struct conn *c)
{
	struct buf out = BUF_INIT;
	int rc = c->o->mode == CONN_LOGIN ?
		sync_start_login(c->sync, c->o->user, c->o->password, &out) :
		c->o->mode == CONN_LOGOUT ? sync_start_logout(c->sync, &out) :
		sync_start(c->sync, &out);

	if (rc < 0 || conn_queue(c, &out))
		conn_fail(c, rc < 0 ? rc : OP_ENOMEM, sync_error(c->sync));
	buf_release(&out);
	return c->finished ? -1 : 0;
}

static int callback_client(struct lws *wsi, enum lws_callback_reasons reason,
			   void *user, void *in, size_t len)
{
	struct conn *c = user;
	char msg[OP_ERRLEN];

	(void)len;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		snprintf(msg, sizeof(msg), "cannot connect to %s: %s", c->o->url,
			 in ? (const char *)in : "connection failed");
		conn_fail(c, OP_EIO, msg);
		c->wsi = NULL;
		return 0;
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		return on_established(c);
	case LWS_CALLBACK_CLIENT_RECEIVE:
		return on_receive(c, wsi, in, len);
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		return on_writeable(c, wsi);
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (!c->finished)
			conn_fail(c, OP_EIO, "the server closed the connection before the sync finished");
		c->wsi = NULL;
		return 0;
	default:
		return 0;
	}
}

static void on_tick(lws_sorted_usec_list_t *sul)
{
	struct conn *c = lws_container_of(sul, struct conn, tick);

	if (c->o->progress)
		c->o->progress(c->o->ctx, sync_stats(c->sync));
	if (time(NULL) - c->last_traffic > c->o->timeout_s) {
		conn_fail(c, OP_EIO, "the server did not answer in time");
		if (c->wsi)
			lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
		return;
	}
	lws_sul_schedule(c->ctx, 0, &c->tick, on_tick, TICK_US);
}

static struct lws_context *make_context(const struct conn_opts *o)
{
	static const struct lws_protocols protocols[] = {
		{ PROTO_NAME, callback_client, 0, 65536, 0, NULL, 0 },
		{ NULL, NULL, 0, 0, 0, NULL, 0 },
	};
	struct lws_context_creation_info info;

	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	if (o->ca && o->ca[0]) {
		info.client_ssl_ca_filepath = o->ca;
		info.options |= LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
	}
	return lws_create_context(&info);
}

static int conn_connect(struct conn *c, char *err)
{
	struct lws_client_connect_info ci;
	char host[256], path[256];
	int port, rc;
	bool tls;

	if ((rc = conn_parse_url(c->o->url, host, &port, path, &tls, err)))
		return rc;
	memset(&ci, 0, sizeof(ci));
	ci.context = c->ctx;
	ci.address = host;
	ci.port = port;
	ci.path = path;
	ci.host = host;
	ci.origin = host;
	ci.protocol = PROTO_NAME;
	ci.ssl_connection = tls ? LCCSCF_USE_SSL : 0;
	ci.userdata = c;
	ci.pwsi = &c->wsi;
	if (!lws_client_connect_via_info(&ci))
		return op_fail(err, OP_EIO, "cannot connect to %s", c->o->url);
	return OP_OK;
}

int conn_sync(struct oc *oc, const struct conn_opts *o, struct sync_stats *st,
	      char err[OP_ERRLEN])
{
	struct conn c;
	int rc;

	memset(&c, 0, sizeof(c));
	c.o = o;
	c.last_traffic = time(NULL);
	lws_set_log_level(0, NULL);
	if (!(c.sync = sync_new(oc)))
		return op_fail(err, OP_ENOMEM, "out of memory");
	if (!(c.ctx = make_context(o))) {
		sync_free(c.sync);
		return op_fail(err, OP_EIO, "cannot set up TLS (is the CA file %s readable?)",
			       o->ca && o->ca[0] ? o->ca : "of the system");
	}
	rc = conn_connect(&c, c.err);
	if (!rc) {
		lws_sul_schedule(c.ctx, 0, &c.tick, on_tick, TICK_US);
		while (!c.finished && lws_service(c.ctx, 0) >= 0)
			;
		rc = c.rc;
		if (!rc && !c.finished)
			rc = op_fail(c.err, OP_EIO, "the network loop failed");
	}
	*st = *sync_stats(c.sync);
	sync_finish(c.sync, rc ? c.err : "");
	if (rc)
		op_fail(err, rc, "%s", c.err);
	lws_sul_cancel(&c.tick);
	lws_context_destroy(c.ctx);
	tx_free(&c);
	buf_release(&c.rx);
	sync_free(c.sync);
	return rc;
}
