/*
 * proto_sync.c - libwebsockets glue for the sync protocol: connection
 * lifecycle, fragment reassembly through sess_on_rx(), one lws_write per
 * WRITEABLE callback, and close with a reason after a protocol error.
 *
 * There is deliberately no lws_rx_flow_control(): in lws 4.1.6, turning rx
 * off from RECEIVE while input is buffered spins the loop forever
 * (warmcat/libwebsockets#2360). The session bounds what a client may have
 * in flight instead (sess.c, SESS_MAX_QUEUED).
 */
#include <string.h>

#include "log.h"
#include "wire.h"
#include "proto_sync.h"
#include "sess.h"

/*
 * After a protocol error the close waits for the end of the message being
 * received: closing while the client is still sending makes the kernel
 * reset the connection, and the client loses the error it has not read
 * yet. A client that keeps sending is cut off after LINGER_S seconds.
 */
#define LINGER_S 5
/* A connection must say hello within this time. */
#define HELLO_S 30

struct pss {
	struct sess *sess;
	struct lws *wsi;
	struct pss *next_wait;   /* in the loop's list while a login is checked */
	bool waiting;
	bool mid_msg;    /* part of a message has been received */
	bool lingering;  /* closing, waiting for the end of that message */
	bool greeted;    /* hello accepted: the hello timeout is off */
};

static struct proto_sync_loop *loop_of(struct lws *wsi)
{
	return lws_context_user(lws_get_context(wsi));
}

void proto_sync_wake(void *ctx)
{
	lws_cancel_service(ctx);
}

static void wait_add(struct proto_sync_loop *l, struct pss *pss)
{
	pss->next_wait = l->waiting;
	l->waiting = pss;
	pss->waiting = true;
}

static void wait_remove(struct proto_sync_loop *l, struct pss *pss)
{
	struct pss **p;

	for (p = &l->waiting; *p; p = &(*p)->next_wait) {
		if (*p == pss) {
			*p = pss->next_wait;
			break;
		}
	}
	pss->waiting = false;
}

/* Hands each finished password check to its session, if still open. */
static void on_checked(struct proto_sync_loop *l)
{
	struct pss *pss;
	uint64_t id, wid;
	void *arg;
	bool ok;

	while (l->worker && worker_done(l->worker, &id, &arg, &ok)) {
		for (pss = l->waiting; pss; pss = pss->next_wait)
			if (sess_login_pending(pss->sess, &wid) && wid == id)
				break;
		if (!pss) { /* the connection closed, or broke off, meanwhile */
			gate_login_abandon(srv_gate(l->srv), srv_db(l->srv), arg, ok);
			gate_attempt_free(arg);
			continue;
		}
		wait_remove(l, pss);
		sess_login_done(pss->sess, arg, ok);
		lws_callback_on_writable(pss->wsi);
	}
}

static int on_established(struct lws *wsi, struct pss *pss)
{
	struct srv *srv = loop_of(wsi)->srv;
	char peer[64];

	lws_get_peer_simple(wsi, peer, sizeof(peer));
	pss->wsi = wsi;
	pss->sess = sess_new(srv, peer, LWS_PRE);
	lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, HELLO_S);
	return pss->sess ? 0 : -1;
}

static int on_receive(struct lws *wsi, struct pss *pss, void *in, size_t len)
{
	bool final = lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi);

	if (!pss->mid_msg && !lws_frame_is_binary(wsi))
		sess_fail(pss->sess, WERR_MALFORMED, "messages must be binary WebSocket frames");
	pss->mid_msg = !final;
	sess_on_rx(pss->sess, in, len, final);
	if (!pss->waiting && sess_login_pending(pss->sess, &(uint64_t){ 0 }))
		wait_add(loop_of(wsi), pss);
	if (!pss->greeted && sess_ready(pss->sess)) {
		lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
		pss->greeted = true;
	}
	lws_callback_on_writable(wsi);
	return 0;
}

static int close_with_reason(struct lws *wsi, struct pss *pss)
{
	const char *why = sess_reason(pss->sess);
	size_t n = strlen(why);

	if (n > 120) /* a control frame holds 125 bytes; keep UTF-8 whole */
		for (n = 120; n > 0 && ((unsigned char)why[n] & 0xc0) == 0x80; n--)
			;
	lws_close_reason(wsi, n ? LWS_CLOSE_STATUS_POLICY_VIOLATION : LWS_CLOSE_STATUS_NORMAL,
			 (unsigned char *)why, n);
	return -1;
}

static int on_writeable(struct lws *wsi, struct pss *pss)
{
	unsigned char *p;
	size_t len;

	if (sess_closing(pss->sess) && pss->mid_msg) {
		if (!pss->lingering)
			lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LINGER_S);
		pss->lingering = true;
		return 0;
	}
	if (sess_closing(pss->sess))
		return close_with_reason(wsi, pss);
	p = sess_frame(pss->sess, &len);
	if (!p)
		return 0;
	if (lws_write(wsi, p, len, LWS_WRITE_BINARY) < (int)len)
		return -1;
	sess_frame_sent(pss->sess);
	lws_callback_on_writable(wsi);
	return 0;
}

static int callback_sync(struct lws *wsi, enum lws_callback_reasons reason,
			 void *user, void *in, size_t len)
{
	struct pss *pss = user;

	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED:
		return on_established(wsi, pss);
	case LWS_CALLBACK_RECEIVE:
		return pss->sess ? on_receive(wsi, pss, in, len) : -1;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return pss->sess ? on_writeable(wsi, pss) : -1;
	case LWS_CALLBACK_CLOSED:
		if (pss->waiting)
			wait_remove(loop_of(wsi), pss);
		sess_free(pss->sess);
		pss->sess = NULL;
		return 0;
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		on_checked(loop_of(wsi));
		return 0;
	default:
		return 0;
	}
}

const struct lws_protocols proto_sync_protocols[] = {
	{ PROTO_SYNC_NAME, callback_sync, sizeof(struct pss), 65536, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};
