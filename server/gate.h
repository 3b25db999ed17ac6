/*
 * gate.h - who may connect: password logins that register a device and
 * issue its token, token checks for every session, logouts, and the
 * failed-login limits (per user and per peer address). The event loop's
 * context owns one gate (inside struct srv).
 */
#ifndef OP_GATE_H
#define OP_GATE_H

#include <stdint.h>

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
 * expired, registered to that replica, its user enabled. Reads only (it
 * runs for every request). OP_OK with user filled, or OP_EDENIED/OP_EIO
 * with *e.
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
