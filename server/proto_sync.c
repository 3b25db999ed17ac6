/*
 * proto_sync.c - libwebsockets glue for the sync protocol: connection
 * lifecycle, fragment reassembly through sess_on_rx(), one lws_write per
 * WRITEABLE callback, and close with a reason after a protocol error.
 */
#include <string.h>

#include "log.h"
#include "proto_sync.h"
#include "sess.h"

struct pss {
	struct sess *sess;
};

static int on_established(struct lws *wsi, struct pss *pss)
{
	struct srv *srv = lws_context_user(lws_get_context(wsi));
	char peer[64];

	lws_get_peer_simple(wsi, peer, sizeof(peer));
	pss->sess = sess_new(srv, peer, LWS_PRE);
	return pss->sess ? 0 : -1;
}

static int on_receive(struct lws *wsi, struct pss *pss, void *in, size_t len)
{
	bool final = lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi);

	sess_on_rx(pss->sess, in, len, final);
	lws_callback_on_writable(wsi);
	return 0;
}

static int close_with_reason(struct lws *wsi, struct pss *pss)
{
	const char *why = sess_reason(pss->sess);
	size_t n = strlen(why);

	lws_close_reason(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION,
			 (unsigned char *)why, n > 120 ? 120 : n);
	return -1;
}

static int on_writeable(struct lws *wsi, struct pss *pss)
{
	unsigned char *p;
	size_t len;

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
		sess_free(pss->sess);
		pss->sess = NULL;
		return 0;
	default:
		return 0;
	}
}

const struct lws_protocols proto_sync_protocols[] = {
	{ PROTO_SYNC_NAME, callback_sync, sizeof(struct pss), 65536, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};
