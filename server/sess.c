/*
 * sess.c - per-connection protocol handling (see sess.h). Called from the
 * event loop's callback for each received fragment; replies are queued
 * and the loop sends one per WRITEABLE callback.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "gate.h"
#include "log.h"
#include "schema.h"
#include "sess.h"
#include "hlc.h"
#include "secret.h"
#include "users.h"
#include "worker.h"

/* Oldest client schema this server still syncs with. */
#define MIN_CLIENT_SCHEMA 1
/* Most replies a client may leave unsent by pipelining requests. */
#define SESS_MAX_QUEUED 8
/* A receive buffer larger than this is freed after each message. */
#define RX_KEEP (64 * 1024)

enum sess_state { ST_HELLO, ST_LOGIN, ST_READY, ST_CLOSING };

struct frame {
	struct frame *next;
	size_t len;
	bool secret;     /* a token: wiped before it is freed */
	unsigned char data[];
};

struct sess {
	struct srv *srv;
	enum sess_state st;
	char peer[64];
	char replica[RID_LEN + 1];
	char token[WIRE_TOKEN_HEX + 1];  /* checked again on every request */
	bool wipe_rx;                    /* rx held a password */
	uint64_t login_id;               /* ST_LOGIN: the worker's job */
	struct access acc;               /* the user's rights, re-read per request */
	size_t pre;
	struct buf rx;          /* message being reassembled */
	bool rx_overflow;
	struct frame *head, *tail;
	size_t queued;
	char reason[OP_ERRLEN];
};

static void frame_free(const struct sess *s, struct frame *f)
{
	if (f->secret)
		secret_wipe(f->data, s->pre + f->len);
	free(f);
}

struct sess *sess_new(struct srv *srv, const char *peer, size_t pre)
{
	struct sess *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->srv = srv;
	s->pre = pre;
	snprintf(s->peer, sizeof(s->peer), "%s", peer ? peer : "?");
	return s;
}

void sess_free(struct sess *s)
{
	struct frame *f;

	if (!s)
		return;
	while ((f = s->head)) {
		s->head = f->next;
		frame_free(s, f);
	}
	buf_release(&s->rx);
	access_release(&s->acc);
	secret_wipe(s->token, sizeof(s->token));
	free(s);
}

/* Queues the encoded message in b. */
static int queue(struct sess *s, const struct buf *b)
{
	struct frame *f = malloc(sizeof(*f) + s->pre + b->len);

	if (!f)
		return OP_ENOMEM;
	f->next = NULL;
	f->len = b->len;
	f->secret = false;
	memcpy(f->data + s->pre, b->p, b->len);
	if (s->tail)
		s->tail->next = f;
	else
		s->head = f;
	s->tail = f;
	s->queued++;
	return OP_OK;
}

unsigned char *sess_frame(struct sess *s, size_t *len)
{
	if (!s->head)
		return NULL;
	*len = s->head->len;
	return s->head->data + s->pre;
}

void sess_frame_sent(struct sess *s)
{
	struct frame *f = s->head;

	if (!f)
		return;
	s->head = f->next;
	if (!s->head)
		s->tail = NULL;
	s->queued--;
	frame_free(s, f);
}

bool sess_closing(const struct sess *s)
{
	return s->st == ST_CLOSING && !s->head;
}

bool sess_ready(const struct sess *s)
{
	return s->st == ST_READY;
}

const char *sess_reason(const struct sess *s)
{
	return s->reason;
}

/* Sends an error and moves to closing. Returns false. */
bool sess_fail(struct sess *s, int code, const char *msg)
{
	struct buf b = BUF_INIT;

	utf8_clean(s->reason, sizeof(s->reason), msg, strlen(msg));
	log_warn("session %s (%s): error %d: %s", s->peer,
		 s->replica[0] ? s->replica : "no hello", code, s->reason);
	if (!wire_enc_error(&b, code, s->reason))
		queue(s, &b);
	buf_release(&b);
	s->st = ST_CLOSING;
	return false;
}

/*
 * Checks the session's token for replica and loads the user's rights;
 * done for hello and again for every request, so a revoked device, an
 * expired token, a disabled user or a withdrawn right stops at once.
 */
static bool authorize(struct sess *s, const char *replica)
{
	char user[USERS_NAME_MAX + 1];
	struct wire_err e;
	int rc;

	if (gate_check(srv_db(s->srv), s->token, replica, user, &e))
		return sess_fail(s, e.code, e.msg);
	rc = access_load(srv_db(s->srv), user, &s->acc);
	if (rc == OP_ENOTFOUND || rc == OP_EDENIED)
		return sess_fail(s, WERR_AUTH, "this account is disabled; ask an administrator");
	if (rc)
		return sess_fail(s, WERR_SERVER, "the server cannot read the user's rights");
	return true;
}

static bool on_hello(struct sess *s, const struct wire_msg *m)
{
	struct wire_welcome w;
	struct buf b = BUF_INIT;
	char msg[OP_ERRLEN], agent[sizeof(m->agent)];

	if (m->proto != WIRE_PROTO) {
		snprintf(msg, sizeof(msg), "protocol version %llu is not supported; this server speaks %d",
			 (unsigned long long)m->proto, WIRE_PROTO);
		return sess_fail(s, WERR_VERSION, msg);
	}
	if (m->schema < MIN_CLIENT_SCHEMA) {
		snprintf(msg, sizeof(msg), "client schema %llu is too old; upgrade the client to schema %d or later",
			 (unsigned long long)m->schema, MIN_CLIENT_SCHEMA);
		return sess_fail(s, WERR_VERSION, msg);
	}
	if (m->schema > SCHEMA_VERSION) {
		snprintf(msg, sizeof(msg), "client schema %llu is newer than this server's (%d); upgrade the server",
			 (unsigned long long)m->schema, SCHEMA_VERSION);
		return sess_fail(s, WERR_VERSION, msg);
	}
	memcpy(s->token, m->token, sizeof(s->token));
	if (!authorize(s, m->replica))
		return false;
	memcpy(s->replica, m->replica, RID_LEN + 1);
	users_device_seen(srv_db(s->srv), s->replica, hlc_wall_ms(), s->peer);
	w.server = srv_replica(s->srv);
	w.min_schema = MIN_CLIENT_SCHEMA;
	w.log_end = srv_log_end(s->srv);
	w.user = s->acc.user;
	w.role = s->acc.role;
	w.scope = s->acc.scope;
	if (wire_enc_welcome(&b, &w) || queue(s, &b)) {
		buf_release(&b);
		return sess_fail(s, WERR_SERVER, "out of memory");
	}
	buf_release(&b);
	utf8_clean(agent, sizeof(agent), m->agent, strlen(m->agent));
	log_info("session %s: %s on replica %s (%s) connected", s->peer, s->acc.user,
		 s->replica, agent);
	s->st = ST_READY;
	return true;
}

/* Answers a finished login: the token (then a normal close), or the
 * refusal. Returns false: one login per connection. */
static bool login_answer(struct sess *s, struct gate_attempt *a, bool ok)
{
	struct gate_token t;
	struct wire_err e;
	struct buf b = BUF_INIT;
	int rc;

	if (gate_login_finish(srv_gate(s->srv), srv_db(s->srv), a, ok, &t, &e))
		return sess_fail(s, e.code, e.msg);
	rc = wire_enc_token(&b, t.token, a->user, t.role, t.expires);
	if (!rc)
		rc = queue(s, &b);
	if (!rc)
		s->tail->secret = true;
	secret_wipe(b.p, b.len);
	buf_release(&b);
	secret_wipe(&t, sizeof(t));
	if (rc)
		return sess_fail(s, WERR_SERVER, "out of memory");
	s->st = ST_CLOSING;
	return false;
}

/*
 * A login: its quick checks here; the password check on the server's
 * worker thread when it has one (the session then waits in ST_LOGIN for
 * sess_login_done), else at once.
 */
static bool on_login(struct sess *s, const struct wire_msg *m)
{
	struct gate_login l = { m->user, m->password, m->replica, "", s->peer,
				srv_replica(s->srv) };
	struct worker *w = srv_worker(s->srv);
	char agent[sizeof(m->agent)];
	struct gate_attempt *a;
	struct wire_err e;
	bool ok;

	s->wipe_rx = true;
	if (m->proto != WIRE_PROTO)
		return sess_fail(s, WERR_VERSION, "this protocol version is not supported; upgrade the client");
	utf8_clean(agent, sizeof(agent), m->agent, strlen(m->agent));
	l.agent = agent;
	if (!(a = malloc(sizeof(*a))))
		return sess_fail(s, WERR_SERVER, "out of memory");
	if (gate_login_begin(srv_gate(s->srv), srv_db(s->srv), &l, a, &e)) {
		gate_attempt_free(a);
		return sess_fail(s, e.code, e.msg);
	}
	if (!w) {
		ok = login_answer(s, a, gate_attempt_check(a));
		gate_attempt_free(a);
		return ok;
	}
	s->login_id = srv_next_id(s->srv);
	if (worker_submit(w, s->login_id, gate_attempt_check, a)) {
		gate_attempt_free(a);
		return sess_fail(s, WERR_SERVER, "the server is busy with other logins; try again in a moment");
	}
	s->st = ST_LOGIN;
	return true;
}

bool sess_login_pending(const struct sess *s, uint64_t *id)
{
	if (s->st != ST_LOGIN)
		return false;
	*id = s->login_id;
	return true;
}

bool sess_login_done(struct sess *s, void *attempt, bool ok)
{
	bool r = s->st == ST_LOGIN ? login_answer(s, attempt, ok) : false;

	gate_attempt_free(attempt);
	return r;
}

static bool on_logout(struct sess *s)
{
	struct buf b = BUF_INIT;
	bool ok;

	if (gate_logout(srv_db(s->srv), s->acc.user, s->replica, s->peer))
		return sess_fail(s, WERR_SERVER, "the server could not revoke the token");
	log_info("session %s: %s logged out of replica %s", s->peer, s->acc.user, s->replica);
	ok = !wire_enc_bye(&b) && !queue(s, &b);
	buf_release(&b);
	s->st = ST_CLOSING;
	return ok ? false : sess_fail(s, WERR_SERVER, "out of memory");
}

static bool on_push(struct sess *s, const struct wire_msg *m)
{
	struct srv_actor who = { &s->acc, s->replica, s->peer };
	struct srv_push_result res;
	struct wire_err e;
	struct buf b = BUF_INIT;
	int rc;

	if (!authorize(s, s->replica))
		return false;
	if (srv_push(s->srv, &who, m->recs, m->invalid, m->nrecs, &res, &e))
		return sess_fail(s, e.code, e.msg);
	log_debug("session %s: push %llu: %zu changes, %llu applied, %llu dup, %llu conflicts, %zu refused",
		  s->peer, (unsigned long long)m->n, m->nrecs,
		  (unsigned long long)res.applied, (unsigned long long)res.dup,
		  (unsigned long long)res.conflicts, res.nrejected);
	rc = wire_enc_ack(&b, m->n, res.upto, res.applied, res.dup, res.conflicts,
			  res.nrejected);
	if (!rc)
		rc = buf_add(&b, res.rejects.p, res.rejects.len);
	if (!rc)
		rc = queue(s, &b);
	buf_release(&b);
	srv_push_release(&res);
	return rc ? sess_fail(s, WERR_SERVER, "out of memory") : true;
}

static bool on_pull(struct sess *s, const struct wire_msg *m)
{
	struct buf b = BUF_INIT;
	int rc;

	if (m->cursor > INT64_MAX)
		return sess_fail(s, WERR_INVALID, "the pull cursor is beyond the change log");
	if (!authorize(s, s->replica))
		return false;
	rc = srv_pull(s->srv, &s->acc, m->cursor, (unsigned)(m->limit > WIRE_MAX_BATCH ?
						  WIRE_MAX_BATCH : m->limit), &b);
	if (!rc)
		rc = queue(s, &b);
	buf_release(&b);
	if (rc)
		return sess_fail(s, WERR_SERVER, "the server could not read its change log");
	return true;
}

static bool on_message(struct sess *s, const void *buf, size_t len)
{
	struct wire_msg m;
	struct wire_err e;
	bool ok;

	if (s->queued >= SESS_MAX_QUEUED)
		return sess_fail(s, WERR_TOO_BIG, "too many requests awaiting replies; read the replies first");
	if (wire_decode(buf, len, s->replica, true, &m, &e))
		return sess_fail(s, e.code, e.msg);
	if (s->st == ST_LOGIN)
		ok = sess_fail(s, WERR_STATE, "wait for the answer to the login");
	else if (s->st == ST_HELLO && m.type == WIRE_LOGIN)
		ok = on_login(s, &m);
	else if (s->st == ST_HELLO && m.type != WIRE_HELLO)
		ok = sess_fail(s, WERR_STATE, "the first message must be hello (or login)");
	else if (m.type == WIRE_HELLO)
		ok = s->st == ST_HELLO ? on_hello(s, &m) :
			sess_fail(s, WERR_STATE, "hello was already received");
	else if (m.type == WIRE_PUSH)
		ok = on_push(s, &m);
	else if (m.type == WIRE_PULL)
		ok = on_pull(s, &m);
	else if (m.type == WIRE_LOGOUT)
		ok = on_logout(s);
	else
		ok = sess_fail(s, WERR_STATE, "the server does not accept this message type");
	wire_msg_release(&m);
	return ok;
}

bool sess_on_rx(struct sess *s, const void *buf, size_t len, bool final)
{
	bool ok;

	if (s->st == ST_CLOSING)
		return false;
	if (!s->rx_overflow && s->rx.len + len > WIRE_MAX_FRAME) {
		s->rx_overflow = true;
		buf_release(&s->rx);
	}
	if (s->rx_overflow) {
		char msg[OP_ERRLEN];

		snprintf(msg, sizeof(msg), "message exceeds the limit of %u bytes", WIRE_MAX_FRAME);
		return sess_fail(s, WERR_TOO_BIG, msg);
	}
	if (!final && buf_add(&s->rx, buf, len))
		return sess_fail(s, WERR_SERVER, "out of memory");
	if (!final)
		return true;
	if (s->rx.len == 0)
		return on_message(s, buf, len);
	if (buf_add(&s->rx, buf, len))
		return sess_fail(s, WERR_SERVER, "out of memory");
	ok = on_message(s, s->rx.p, s->rx.len);
	if (s->wipe_rx)
		secret_wipe(s->rx.p, s->rx.len);
	if (s->rx.cap > RX_KEEP)
		buf_release(&s->rx);
	else
		buf_reset(&s->rx);
	return ok;
}
