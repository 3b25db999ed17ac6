/*
 * auth.h - the server's credentials: password hashes (PBKDF2-HMAC-SHA256
 * from OpenSSL, salted, with the iteration count stored in the hash so
 * it can be raised later), device tokens (256 random bits, of which only
 * a SHA-256 is stored), constant-time comparison, and a rate limiter for
 * failed logins. No I/O and no SQL.
 */
#ifndef OP_AUTH_H
#define OP_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define AUTH_PW_MAX 256        /* longest password accepted, in bytes */
#define AUTH_HASH_TEXT 160     /* room for an encoded password hash + NUL */
#define AUTH_TOKEN_LEN 32      /* raw token bytes */
#define AUTH_TOKEN_HASH 32     /* stored digest of a token */
#define AUTH_PBKDF2_ITER 600000

/*
 * Hashes password pw (n bytes, 1..AUTH_PW_MAX) with a fresh 16-byte salt
 * into out as "pbkdf2-sha256$ITER$SALTHEX$HASHHEX". OP_OK, OP_EINVAL (bad
 * length) or OP_EIO (OpenSSL failed).
 */
int auth_pw_hash(const char *pw, size_t n, char out[AUTH_HASH_TEXT]);
/* True when pw matches the stored hash; compares in constant time. A
 * malformed stored hash never matches. */
bool auth_pw_check(const char *pw, size_t n, const char *stored);

/* Writes n bytes at p as 2 * n lowercase hex digits and a NUL to out. */
void auth_hex(const unsigned char *p, size_t n, char *out);
/* Decodes exactly 2 * n lowercase hex digits at s into out; false if any
 * is not one. */
bool auth_unhex(const char *s, unsigned char *out, size_t n);

/* Fills tok with AUTH_TOKEN_LEN random bytes. OP_OK or OP_EIO. */
int auth_token_new(unsigned char tok[AUTH_TOKEN_LEN]);
/* The digest stored for a token. */
void auth_token_digest(const unsigned char *tok, size_t n,
		       unsigned char out[AUTH_TOKEN_HASH]);

/*
 * Failed-login limiter: at most `max` failures per key (a user name or a
 * peer address) within `window_ms`; a key over the limit is refused
 * until its oldest counted failure leaves the window. Fixed memory: the
 * least recently failed key is forgotten when the table is full.
 */
struct auth_limit; /* opaque */

#define AUTH_LIMIT_KEYS 1024   /* keys remembered at once */
#define AUTH_LIMIT_MAX 32      /* largest useful max (larger is capped) */
#define AUTH_LIMIT_KEY 63      /* key bytes compared (longer keys are cut) */

/* New limiter; owned by the caller: auth_limit_free(). NULL when out of
 * memory. */
struct auth_limit *auth_limit_new(unsigned max, uint64_t window_ms);
void auth_limit_free(struct auth_limit *l);
/* 0 when key may try now, else the milliseconds until it may. */
uint64_t auth_limit_wait(struct auth_limit *l, const char *key, uint64_t now_ms);
/* Counts a failure of key at now_ms. */
void auth_limit_fail(struct auth_limit *l, const char *key, uint64_t now_ms);
/* Takes back key's most recent failure (one counted in advance). */
void auth_limit_forgive(struct auth_limit *l, const char *key);
/* Forgets key's failures (after a successful login). */
void auth_limit_clear(struct auth_limit *l, const char *key);

#endif
