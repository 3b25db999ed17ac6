/*
 * gate.h - who may connect: password logins that register a device and
 * issue its token, token checks for every session, logouts, and the
 * failed-login limits (per user and per peer address). The event loop's
 * context owns one gate (inside struct srv).
 */
#ifndef OP_GATE_H
#define OP_GATE_H

#include <stdint.h>

#include "auth.h"
#include "db.h"
#include "users.h"
#include "wire.h"

struct gate; /* opaque */

#define GATE_TOKEN_TTL_MS (90ull * 24 * 3600 * 1000) /* default: 90 days */
#define GATE_USER_FAILS 5      /* failed logins per user ... */
#define GATE_ADDR_FAILS 20     /* ... and per address ... */
#define GATE_FAIL_WINDOW_MS (15ull * 60 * 1000) /* ... within 15 minutes */

/* New gate; owned by the caller: gate_free(). NULL if out of memory. */
struct gate *gate_new(void);
void gate_free(struct gate *g);
void gate_set_token_ttl(struct gate *g, uint64_t ms);

struct gate_login {
	const char *user, *password, *replica, *agent, *addr;
	const char *server;  /* the server's own replica id: never a device */
};

struct gate_token {
	char token[WIRE_TOKEN_HEX + 1];
	char role[USERS_NAME_MAX + 1];
	uint64_t expires;
};

/*
 * A login between its quick checks and its password check, which is slow
 * (PBKDF2) and may run on another thread: it owns copies of everything.
 */
struct gate_attempt {
	char user[USERS_NAME_MAX + 1];
	char replica[RID_LEN + 1];
	char agent[64];
	char addr[64];
	char password[WIRE_PW_MAX + 1];
	char stored[AUTH_HASH_TEXT];  /* the user's hash, or one matching nothing */
	bool known;                   /* the user exists */
	uint64_t now;
};

/*
 * A login in three steps, so that the password check can leave the event
 * loop: begin (limits, the server's own id, the user's stored hash; may
 * refuse at once), check (thread-safe, no database), finish (counts a
 * failure, refuses a disabled account, registers the device and issues
 * the token; wipes the password). Returns as gate_login().
 */
int gate_login_begin(struct gate *g, struct db *db, const struct gate_login *l,
		     struct gate_attempt *a, struct wire_err *e);
/* True if the password matches (a worker_fn: takes a gate_attempt). */
bool gate_attempt_check(void *attempt);
int gate_login_finish(struct gate *g, struct db *db, struct gate_attempt *a, bool ok,
		      struct gate_token *t, struct wire_err *e);
/* Ends an attempt whose connection went away before its answer: a wrong
 * password stays counted, a right one is taken back; audited. */
void gate_login_abandon(struct gate *g, struct db *db, struct gate_attempt *a, bool ok);
/* Wipes and frees a heap-allocated attempt; accepts NULL. */
void gate_attempt_free(void *attempt);

/*
 * Checks a password login and registers l->replica as l->user's device
 * with a new token (the old one, if any, stops working). A replica
 * registered to another user, or the server's own id, is refused. Every attempt is audited.
 * OP_OK with *t filled, or OP_EDENIED/OP_EIO with *e (code WERR_AUTH or
 * WERR_SERVER) saying why, without telling which of user and password
 * was wrong.
 */
int gate_login(struct gate *g, struct db *db, const struct gate_login *l,
	       struct gate_token *t, struct wire_err *e);
/*
 * Checks a device token presented by replica: known, not revoked, not
 * expired, registered to that replica. Reads only (it runs for every
 * request). OP_OK with the device's user filled (whose account the
 * caller checks when it loads the user's rights: access_load() refuses a
 * disabled one), or OP_EDENIED/OP_EIO with *e.
 */
int gate_check(struct db *db, const char *token, const char *replica,
	       char user[USERS_NAME_MAX + 1], struct wire_err *e);
/* Revokes replica's token (a logout), audited. */
int gate_logout(struct db *db, const char *user, const char *replica,
		const char *addr);
/* Appends an audit row now; texts may be NULL ("") and are cut to fit. */
int gate_audit(struct db *db, const char *user, const char *replica,
	       const char *addr, const char *action, const char *tbl,
	       const char *rec, const char *detail);

#endif
