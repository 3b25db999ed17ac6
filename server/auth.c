/*
 * auth.c - password hashes, device tokens and the failed-login limiter
 * (see auth.h). OpenSSL does the cryptography: PKCS5_PBKDF2_HMAC with
 * SHA-256, RAND_bytes, EVP_Digest and CRYPTO_memcmp. The limiter is a
 * fixed table owned by its caller (the server's struct srv); nothing here
 * keeps state between calls.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "auth.h"

#define PW_PREFIX "pbkdf2-sha256$"
#define PW_SALT 16
#define PW_HASH 32
#define PW_ITER_MIN 1000
#define PW_ITER_MAX 10000000

/* ---- password hashes --------------------------------------------------- */

void auth_hex(const unsigned char *p, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1; /* we write lowercase only, so only lowercase is ours */
}

bool auth_unhex(const char *s, unsigned char *out, size_t n)
{
	size_t i;
	int hi, lo;

	for (i = 0; i < n; i++) {
		hi = hex_digit(s[2 * i]);
		lo = hi < 0 ? -1 : hex_digit(s[2 * i + 1]);
		if (lo < 0)
			return false;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return true;
}

static int derive(const char *pw, size_t n, const unsigned char *salt,
		  unsigned long iter, unsigned char out[PW_HASH])
{
	if (PKCS5_PBKDF2_HMAC(pw, (int)n, salt, PW_SALT, (int)iter, EVP_sha256(),
			      PW_HASH, out) != 1)
		return OP_EIO;
	return OP_OK;
}

int auth_pw_hash(const char *pw, size_t n, char out[AUTH_HASH_TEXT])
{
	unsigned char salt[PW_SALT], hash[PW_HASH];
	char salt_hex[2 * PW_SALT + 1], hash_hex[2 * PW_HASH + 1];
	int rc;

	out[0] = '\0';
	if (!pw || n < 1 || n > AUTH_PW_MAX)
		return OP_EINVAL;
	if (RAND_bytes(salt, sizeof(salt)) != 1)
		return OP_EIO;
	if ((rc = derive(pw, n, salt, AUTH_PBKDF2_ITER, hash)))
		goto out_wipe;
	auth_hex(salt, sizeof(salt), salt_hex);
	auth_hex(hash, sizeof(hash), hash_hex);
	snprintf(out, AUTH_HASH_TEXT, PW_PREFIX "%d$%s$%s", AUTH_PBKDF2_ITER,
		 salt_hex, hash_hex);
out_wipe:
	OPENSSL_cleanse(hash, sizeof(hash));
	return rc;
}

/* The iteration count at *s: decimal without a leading zero, within
 * PW_ITER_MIN..PW_ITER_MAX, followed by '$'. Advances *s past the '$'. */
static bool parse_iter(const char **s, unsigned long *iter)
{
	const char *p = *s;
	unsigned long v = 0;
	size_t digits = 0;

	if (*p == '0')
		return false;
	for (; *p >= '0' && *p <= '9' && digits < 9; p++, digits++)
		v = v * 10 + (unsigned long)(*p - '0');
	if (!digits || *p != '$' || v < PW_ITER_MIN || v > PW_ITER_MAX)
		return false;
	*s = p + 1;
	*iter = v;
	return true;
}

/* Splits a stored hash into its parts; false when it is not exactly
 * PREFIX ITER $ 32 hex $ 64 hex. */
static bool parse_stored(const char *s, unsigned long *iter,
			 unsigned char salt[PW_SALT], unsigned char hash[PW_HASH])
{
	size_t plen = strlen(PW_PREFIX);

	if (!s || strncmp(s, PW_PREFIX, plen))
		return false;
	s += plen;
	if (!parse_iter(&s, iter))
		return false;
	if (strlen(s) != 2 * PW_SALT + 1 + 2 * PW_HASH || s[2 * PW_SALT] != '$')
		return false;
	return auth_unhex(s, salt, PW_SALT) &&
	       auth_unhex(s + 2 * PW_SALT + 1, hash, PW_HASH);
}

bool auth_pw_check(const char *pw, size_t n, const char *stored)
{
	unsigned char salt[PW_SALT], want[PW_HASH], got[PW_HASH];
	unsigned long iter;
	bool ok = false;

	if (!pw || n < 1 || n > AUTH_PW_MAX || !parse_stored(stored, &iter, salt, want))
		return false;
	if (derive(pw, n, salt, iter, got) == OP_OK)
		ok = CRYPTO_memcmp(got, want, PW_HASH) == 0;
	OPENSSL_cleanse(got, sizeof(got));
	return ok;
}

/* ---- device tokens ----------------------------------------------------- */

int auth_token_new(unsigned char tok[AUTH_TOKEN_LEN])
{
	return RAND_bytes(tok, AUTH_TOKEN_LEN) == 1 ? OP_OK : OP_EIO;
}

void auth_token_digest(const unsigned char *tok, size_t n,
		       unsigned char out[AUTH_TOKEN_HASH])
{
	unsigned int len = 0;

	if (EVP_Digest(tok, n, out, &len, EVP_sha256(), NULL) == 1 &&
	    len == AUTH_TOKEN_HASH)
		return;
	/* Never a predictable digest that could match a stored one. */
	if (RAND_bytes(out, AUTH_TOKEN_HASH) != 1)
		memset(out, 0, AUTH_TOKEN_HASH);
}

/* ---- failed-login limiter ---------------------------------------------- */

struct limit_key {
	char key[AUTH_LIMIT_KEY + 1];
	bool used;
	uint64_t last;                 /* the latest failure, for eviction */
	uint64_t at[AUTH_LIMIT_MAX];   /* ring of failure times */
	unsigned head, count;          /* oldest slot, failures held */
};

struct auth_limit {
	unsigned max;
	uint64_t window;
	struct limit_key k[AUTH_LIMIT_KEYS];
};

struct auth_limit *auth_limit_new(unsigned max, uint64_t window_ms)
{
	struct auth_limit *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->max = max < 1 ? 1 : max > AUTH_LIMIT_MAX ? AUTH_LIMIT_MAX : max;
	l->window = window_ms;
	return l;
}

void auth_limit_free(struct auth_limit *l)
{
	free(l);
}

static struct limit_key *find(struct auth_limit *l, const char *key)
{
	unsigned i;

	for (i = 0; i < AUTH_LIMIT_KEYS; i++)
		if (l->k[i].used && !strncmp(l->k[i].key, key, AUTH_LIMIT_KEY))
			return &l->k[i];
	return NULL;
}

/* True while a failure at t still counts at now (a clock that went back
 * counts it too). */
static bool in_window(const struct auth_limit *l, uint64_t t, uint64_t now)
{
	return now < t || now - t < l->window;
}

/* Drops the failures of e that left the window. */
static void expire(const struct auth_limit *l, struct limit_key *e, uint64_t now)
{
	while (e->count && !in_window(l, e->at[e->head], now)) {
		e->head = (e->head + 1) % AUTH_LIMIT_MAX;
		e->count--;
	}
	if (!e->count)
		e->used = false;
}

uint64_t auth_limit_wait(struct auth_limit *l, const char *key, uint64_t now_ms)
{
	struct limit_key *e = find(l, key);
	uint64_t oldest;

	if (!e)
		return 0;
	expire(l, e, now_ms);
	if (e->count < l->max)
		return 0;
	oldest = e->at[e->head];
	if (now_ms < oldest)
		return l->window;
	return oldest + l->window - now_ms;
}

/* Whether entry a is a better one to forget than b: a key under its
 * limit before one over it (so failing on many junk keys cannot clear a
 * locked key), then the least recently failed. */
static bool forget_first(const struct auth_limit *l, const struct limit_key *a,
			 const struct limit_key *b)
{
	bool a_over = a->count >= l->max, b_over = b->count >= l->max;

	if (a_over != b_over)
		return !a_over;
	return a->last < b->last;
}

/* A free entry, or the one best forgotten, emptied for key. */
static struct limit_key *take(struct auth_limit *l, const char *key)
{
	struct limit_key *e = &l->k[0];
	unsigned i;

	for (i = 0; i < AUTH_LIMIT_KEYS; i++) {
		if (!l->k[i].used) {
			e = &l->k[i];
			break;
		}
		if (forget_first(l, &l->k[i], e))
			e = &l->k[i];
	}
	memset(e, 0, sizeof(*e));
	snprintf(e->key, sizeof(e->key), "%s", key);
	e->used = true;
	return e;
}

void auth_limit_fail(struct auth_limit *l, const char *key, uint64_t now_ms)
{
	struct limit_key *e = find(l, key);

	if (e)
		expire(l, e, now_ms);
	if (!e || !e->used)
		e = take(l, key);
	if (e->count == l->max) { /* keep the newest max failures */
		e->head = (e->head + 1) % AUTH_LIMIT_MAX;
		e->count--;
	}
	e->at[(e->head + e->count) % AUTH_LIMIT_MAX] = now_ms;
	e->count++;
	e->last = now_ms;
}

void auth_limit_forgive(struct auth_limit *l, const char *key)
{
	struct limit_key *e = find(l, key);

	if (e && e->count && !--e->count)
		e->used = false;
}

void auth_limit_clear(struct auth_limit *l, const char *key)
{
	struct limit_key *e = find(l, key);

	if (e)
		e->used = false;
}
