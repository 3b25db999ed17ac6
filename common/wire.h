/*
 * wire.h - the sync protocol's messages, encoded as MessagePack maps (one
 * message per WebSocket message). docs/protocol.md is the specification;
 * this module is its implementation. It does no I/O: decode a complete
 * message from bytes, encode into a struct buf.
 *
 * Decoding type-checks every field, rejects unknown keys, tables and
 * fields, and enforces the WIRE_MAX_* limits before it allocates anything
 * sized by the input.
 */
#ifndef OP_WIRE_H
#define OP_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "rec.h"

#define WIRE_PROTO 2
#define WIRE_MAX_FRAME (1u << 20)  /* largest message either side accepts */
#define WIRE_MAX_BATCH 500         /* most changes or records per message */
#define WIRE_NAME_MAX 32           /* user and role names */
#define WIRE_PW_MAX 256            /* longest password, bytes */
#define WIRE_TOKEN_HEX 64          /* a device token: 64 lowercase hex digits */
#define WIRE_SCOPE_HEX 16          /* a scope signature */

/* Error codes carried by the "error" message (see docs/protocol.md). */
enum wire_code {
	WERR_MALFORMED = 1,  /* not a MessagePack map of the right shape */
	WERR_TYPE = 2,       /* a key holds a value of the wrong type */
	WERR_UNKNOWN_MSG = 3,
	WERR_UNKNOWN_TABLE = 4,
	WERR_UNKNOWN_FIELD = 5,
	WERR_TOO_BIG = 6,
	WERR_VERSION = 7,    /* protocol or schema not supported: upgrade */
	WERR_STATE = 8,      /* message not allowed at this point */
	WERR_INVALID = 9,    /* a value fails validation */
	WERR_SERVER = 10,    /* the server failed; retry later */
	WERR_AUTH = 11,      /* not logged in: no, unknown, expired or revoked token,
				wrong password, too many failed logins */
	WERR_DENIED = 12,    /* a change the user has no right to make */
};

enum wire_type {
	WIRE_HELLO = 1, WIRE_WELCOME, WIRE_PUSH, WIRE_ACK, WIRE_PULL,
	WIRE_BATCH, WIRE_ERROR, WIRE_LOGIN, WIRE_TOKEN, WIRE_LOGOUT, WIRE_BYE,
};

struct wire_err {
	int code;              /* enum wire_code */
	char msg[OP_ERRLEN];
};

/* One refused change of a push, in its ack: the record's current state
 * as the user may see it, or NULL (it does not exist or is out of scope). */
struct wire_reject {
	uint64_t ctr, code;
	char msg[OP_ERRLEN];
	struct rec *state;
};

/* A record that left the puller's scope: drop the local copy. */
struct wire_gone {
	const struct tbl_desc *t;
	char id[RID_LEN + 1];
};

struct wire_msg {
	enum wire_type type;
	/* hello / welcome */
	uint64_t proto, schema, min_schema;
	char replica[VV_REPLEN + 1];  /* hello: the client; welcome: server */
	char agent[64];
	uint64_t max_frame, max_batch;
	uint64_t log_end;             /* welcome: the change log's last seq */
	/* login / token / hello auth / welcome */
	char user[WIRE_NAME_MAX + 1];
	char role[WIRE_NAME_MAX + 1];
	char password[WIRE_PW_MAX + 1]; /* login: wipe after use */
	char token[WIRE_TOKEN_HEX + 1]; /* hello "auth" ("" for nil), token */
	char scope[WIRE_SCOPE_HEX + 1]; /* welcome */
	uint64_t expires;               /* token: ms since the epoch */
	/* push (changes as partial records) / batch (record states) */
	uint64_t n;
	struct rec **recs;
	size_t nrecs;
	/* push: invalid[i].code != 0 when change i holds a value that fails
	 * validation (it is decoded but must not be applied); NULL if none */
	struct wire_err *invalid;
	/* ack */
	uint64_t upto, applied, dup, conflicts;
	struct wire_reject *rejected;
	size_t nrejected;
	/* pull / batch */
	uint64_t cursor, limit;
	bool more;
	struct wire_gone *gone;
	size_t ngone;
	/* error */
	uint64_t code;
	char msg[OP_ERRLEN];
};

/*
 * Decodes one message. For a push, origin is the sending replica (the
 * session's, never taken from the change itself); a push decoded without
 * one is refused with WERR_STATE. With strict, unknown
 * tables and fields are errors; without (a client reading a newer
 * server), records of unknown tables are dropped and unknown fields of
 * record states skipped (changes are always checked strictly). A change
 * whose values fail validation does not fail the push: it is reported in
 * out->invalid, so the server can refuse that change alone. On success
 * *out owns its records: wire_msg_release() it (which also wipes a login's
 * password).
 * Returns OP_OK, or OP_EPROTO/OP_ETOOBIG/OP_ENOMEM with *e filled.
 */
int wire_decode(const void *buf, size_t len, const char *origin, bool strict,
		struct wire_msg *out, struct wire_err *e);
void wire_msg_release(struct wire_msg *m);

/*
 * Decodes one record state (the form stored in databases and sent in
 * batches). *out is a new record owned by the caller.
 */
int wire_decode_state(const void *buf, size_t len, bool strict,
		      struct rec **out, struct wire_err *e);

/* A user or role name: 1..WIRE_NAME_MAX of [a-z0-9._-], starting with a
 * letter or digit (s need not be NUL-terminated). */
bool wire_name_valid(const char *s, size_t n);

/* Decodes one change from origin as stored in an outbox; *out is a new
 * record owned by the caller. */
int wire_decode_change(const void *buf, size_t len, const char *origin,
		       struct rec **out, struct wire_err *e);

/* Encoders append to b and return OP_OK or OP_ENOMEM. */
/* token: the device token in hex, or NULL (sent as nil). */
int wire_enc_hello(struct buf *b, const char *replica, const char *agent,
		   const char *token);
struct wire_welcome {
	const char *server;       /* the server's replica id */
	uint64_t min_schema, log_end;
	const char *user, *role, *scope;
};
int wire_enc_welcome(struct buf *b, const struct wire_welcome *w);
int wire_enc_login(struct buf *b, const char *user, const char *password,
		   const char *replica, const char *agent);
int wire_enc_token(struct buf *b, const char *token, const char *user,
		   const char *role, uint64_t expires);
int wire_enc_logout(struct buf *b);
int wire_enc_bye(struct buf *b);
int wire_enc_state(struct buf *b, const struct rec *r);
/* One change: fields[0..nf) of r written with dot d (or a delete). */
int wire_enc_change(struct buf *b, const struct rec *r, const int *fields,
		    int nf, const struct rec_dot *d, bool del);
/* A push of count pre-encoded changes; append them after this header. */
int wire_enc_push_head(struct buf *b, uint64_t n, size_t count);
/* An ack with nrejected refusals; append each with wire_enc_reject(). */
int wire_enc_ack(struct buf *b, uint64_t n, uint64_t upto, uint64_t applied,
		 uint64_t dup, uint64_t conflicts, size_t nrejected);
/* One refusal: change ctr, code, reason, the record's state or NULL. */
int wire_enc_reject(struct buf *b, uint64_t ctr, int code, const char *msg,
		    const struct rec *state);
int wire_enc_pull(struct buf *b, uint64_t cursor, uint64_t limit);
/* A batch of count pre-encoded states, after ngone records that left the
 * puller's scope; append the states after this header. */
int wire_enc_batch_head(struct buf *b, uint64_t cursor, bool more,
			const struct wire_gone *gone, size_t ngone, size_t count);
int wire_enc_error(struct buf *b, int code, const char *msg);

#endif
