/*
 * test_auth.c - server/auth.c: password hashes round trip, are salted,
 * reject wrong passwords and never match a malformed stored text; token
 * digests are SHA-256 and deterministic; the failed-login limiter counts
 * per key within its window, reports the wait, forgets on clear and
 * evicts the least recently failed key when its table is full. Times are
 * given to the limiter, so nothing here sleeps.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "auth.h"

/* PBKDF2 at 600000 iterations takes a while under the sanitizers. */
TestSuite(auth, .timeout = 300);

/* ---- passwords ---------------------------------------------------------- */

static void hash(const char *pw, char out[AUTH_HASH_TEXT])
{
	cr_assert_eq(auth_pw_hash(pw, strlen(pw), out), OP_OK);
}

Test(auth, pw_round_trip)
{
	char h[AUTH_HASH_TEXT];

	hash("correct horse", h);
	cr_assert(auth_pw_check("correct horse", 13, h));
	cr_assert_not(auth_pw_check("correct hors", 12, h));
	cr_assert_not(auth_pw_check("correct horsE", 13, h));
	cr_assert_not(auth_pw_check("correct horse ", 14, h));
	cr_assert_not(auth_pw_check("", 0, h));
}

Test(auth, pw_format)
{
	char h[AUTH_HASH_TEXT];
	const char *salt, *dollar;
	size_t i;

	hash("pw", h);
	cr_assert(!strncmp(h, "pbkdf2-sha256$600000$", 21), "%s", h);
	salt = h + 21;
	dollar = strchr(salt, '$');
	cr_assert_not_null(dollar);
	cr_assert_eq(dollar - salt, 32);
	cr_assert_eq(strlen(dollar + 1), 64);
	for (i = 21; h[i]; i++)
		cr_assert(strchr("0123456789abcdef$", h[i]), "byte %zu of %s", i, h);
}

Test(auth, pw_salted)
{
	char a[AUTH_HASH_TEXT], b[AUTH_HASH_TEXT];

	hash("same", a);
	hash("same", b);
	cr_assert_str_neq(a, b);
	cr_assert(auth_pw_check("same", 4, a));
	cr_assert(auth_pw_check("same", 4, b));
}

Test(auth, pw_lengths)
{
	char h[AUTH_HASH_TEXT], pw[AUTH_PW_MAX + 2];

	cr_assert_eq(auth_pw_hash("", 0, h), OP_EINVAL);
	memset(pw, 'x', sizeof(pw));
	cr_assert_eq(auth_pw_hash(pw, AUTH_PW_MAX + 1, h), OP_EINVAL);
	cr_assert_eq(auth_pw_hash(pw, AUTH_PW_MAX, h), OP_OK);
	cr_assert(auth_pw_check(pw, AUTH_PW_MAX, h));
	cr_assert_not(auth_pw_check(pw, AUTH_PW_MAX + 1, h));
	/* bytes after a NUL count: the length is what is hashed */
	cr_assert_eq(auth_pw_hash("a\0b", 3, h), OP_OK);
	cr_assert(auth_pw_check("a\0b", 3, h));
	cr_assert_not(auth_pw_check("a\0c", 3, h));
	cr_assert_not(auth_pw_check("a", 1, h));
}

/* A stored text for pw made with OpenSSL directly: iter iterations and
 * the salt bytes 0, 1, ..., 15. */
static void stored_with(const char *pw, int iter, char out[AUTH_HASH_TEXT])
{
	unsigned char salt[16], key[32];
	char hex[2 * 32 + 1];
	int i, n;

	for (i = 0; i < 16; i++)
		salt[i] = (unsigned char)i;
	cr_assert_eq(PKCS5_PBKDF2_HMAC(pw, (int)strlen(pw), salt, 16, iter, EVP_sha256(),
				       32, key), 1);
	n = snprintf(out, AUTH_HASH_TEXT, "pbkdf2-sha256$%d$", iter);
	for (i = 0; i < 16; i++)
		n += snprintf(out + n, AUTH_HASH_TEXT - (size_t)n, "%02x", salt[i]);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", key[i]);
	snprintf(out + n, AUTH_HASH_TEXT - (size_t)n, "$%s", hex);
}

Test(auth, pw_iterations_from_the_text)
{
	char h[AUTH_HASH_TEXT];
	char *iter;

	stored_with("password", 1000, h);
	cr_assert(auth_pw_check("password", 8, h), "%s", h);
	cr_assert_not(auth_pw_check("Password", 8, h));
	iter = strchr(h, '$') + 1;
	memcpy(iter, "1001", 4); /* same salt and hash, another count */
	cr_assert_not(auth_pw_check("password", 8, h));
}

Test(auth, pw_tampered_never_matches)
{
	char h[AUTH_HASH_TEXT];
	size_t n;

	stored_with("pw", 1000, h);
	cr_assert(auth_pw_check("pw", 2, h));
	n = strlen(h);
	h[n - 1] = h[n - 1] == '0' ? '1' : '0'; /* the hash */
	cr_assert_not(auth_pw_check("pw", 2, h));
	stored_with("pw", 1000, h);
	cr_assert_eq(h[18], '$');
	cr_assert_eq(h[19], '0');
	h[19] = '1'; /* the salt's first digit */
	cr_assert_not(auth_pw_check("pw", 2, h));
}

Test(auth, pw_malformed_never_matches)
{
	static const char *const bad[] = {
		"",
		"pbkdf2-sha256",
		"pbkdf2-sha256$",
		"pbkdf2-sha256$600000$",
		"pbkdf2-sha256$600000$$",
		"plain text password",
		"pw",
		"pbkdf2-sha1$600000$00112233445566778899aabbccddeeff$"
		"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
		"pbkdf2-sha256$0$00112233445566778899aabbccddeeff$"
		"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
		"pbkdf2-sha256$999$00112233445566778899aabbccddeeff$"
		"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
		"pbkdf2-sha256$010000$00112233445566778899aabbccddeeff$"
		"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
		"pbkdf2-sha256$10000001$00112233445566778899aabbccddeeff$"
		"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
		"pbkdf2-sha256$99999999999999999999$00112233445566778899aabbccddeeff$"
		"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
		"pbkdf2-sha256$-1000$00112233445566778899aabbccddeeff$"
		"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
		"pbkdf2-sha256$1000$00112233445566778899aabbccddeef$"
		"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
		"pbkdf2-sha256$1000$00112233445566778899AABBCCDDEEFF$"
		"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
		"pbkdf2-sha256$1000$00112233445566778899aabbccddeeff$"
		"00112233445566778899aabbccddeeff00112233445566778899aabbccddeef",
		"pbkdf2-sha256$1000$00112233445566778899aabbccddeeff$"
		"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff0",
		"pbkdf2-sha256$1000$00112233445566778899aabbccddeeff$"
		"00112233445566778899aabbccddeeff00112233445566778899aabbccddeefg",
		"pbkdf2-sha256$1000$00112233445566778899aabbccddeeff$"
		"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff$",
		" pbkdf2-sha256$1000$00112233445566778899aabbccddeeff$"
		"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_not(auth_pw_check("pw", 2, bad[i]), "matched: %s", bad[i]);
	cr_assert_not(auth_pw_check("pw", 2, NULL));
}

/* ---- tokens ------------------------------------------------------------- */

Test(auth, token_random)
{
	unsigned char a[AUTH_TOKEN_LEN], b[AUTH_TOKEN_LEN];

	cr_assert_eq(auth_token_new(a), OP_OK);
	cr_assert_eq(auth_token_new(b), OP_OK);
	cr_assert_neq(memcmp(a, b, sizeof(a)), 0);
}

Test(auth, token_digest)
{
	/* SHA-256("abc") */
	static const unsigned char abc[AUTH_TOKEN_HASH] = {
		0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
		0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
		0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
	};
	unsigned char tok[AUTH_TOKEN_LEN], d1[AUTH_TOKEN_HASH], d2[AUTH_TOKEN_HASH];

	auth_token_digest((const unsigned char *)"abc", 3, d1);
	cr_assert_eq(memcmp(d1, abc, sizeof(abc)), 0);
	cr_assert_eq(auth_token_new(tok), OP_OK);
	auth_token_digest(tok, sizeof(tok), d1);
	auth_token_digest(tok, sizeof(tok), d2);
	cr_assert_eq(memcmp(d1, d2, sizeof(d1)), 0);
	tok[0] ^= 1;
	auth_token_digest(tok, sizeof(tok), d2);
	cr_assert_neq(memcmp(d1, d2, sizeof(d1)), 0);
}

/* ---- limiter ------------------------------------------------------------ */

Test(auth, limit_counts_and_waits)
{
	struct auth_limit *l = auth_limit_new(3, 60000);

	cr_assert_not_null(l);
	cr_assert_eq(auth_limit_wait(l, "ann", 1000), 0);
	auth_limit_fail(l, "ann", 1000);
	auth_limit_fail(l, "ann", 2000);
	cr_assert_eq(auth_limit_wait(l, "ann", 2000), 0);
	auth_limit_fail(l, "ann", 5000);
	/* three failures: refused until the first (1000) leaves the window */
	cr_assert_eq(auth_limit_wait(l, "ann", 5000), 56000);
	cr_assert_eq(auth_limit_wait(l, "ann", 60999), 1);
	cr_assert_eq(auth_limit_wait(l, "ann", 61000), 0);
	/* two still count; one more failure refuses again until 2000 leaves */
	auth_limit_fail(l, "ann", 61000);
	cr_assert_eq(auth_limit_wait(l, "ann", 61000), 1000);
	cr_assert_eq(auth_limit_wait(l, "bob", 61000), 0, "keys are separate");
	auth_limit_free(l);
}

Test(auth, limit_window_expiry)
{
	struct auth_limit *l = auth_limit_new(2, 1000);

	auth_limit_fail(l, "10.0.0.1", 0);
	auth_limit_fail(l, "10.0.0.1", 10);
	cr_assert_eq(auth_limit_wait(l, "10.0.0.1", 10), 990);
	cr_assert_eq(auth_limit_wait(l, "10.0.0.1", 1010), 0);
	/* long after: both gone, two fresh failures needed again */
	auth_limit_fail(l, "10.0.0.1", 50000);
	cr_assert_eq(auth_limit_wait(l, "10.0.0.1", 50000), 0);
	auth_limit_fail(l, "10.0.0.1", 50001);
	cr_assert_eq(auth_limit_wait(l, "10.0.0.1", 50001), 999);
	auth_limit_free(l);
}

Test(auth, limit_keeps_newest_failures)
{
	struct auth_limit *l = auth_limit_new(2, 100);
	uint64_t t;

	/* a steady stream of failures stays refused, the wait measured from
	 * the older of the last two */
	for (t = 0; t < 1000; t += 10)
		auth_limit_fail(l, "ann", t);
	cr_assert_eq(auth_limit_wait(l, "ann", 990), 90);
	auth_limit_free(l);
}

Test(auth, limit_clock_backwards)
{
	struct auth_limit *l = auth_limit_new(1, 1000);

	auth_limit_fail(l, "ann", 5000);
	cr_assert_leq(auth_limit_wait(l, "ann", 4000), 1000);
	cr_assert_gt(auth_limit_wait(l, "ann", 4000), 0);
	auth_limit_free(l);
}

Test(auth, limit_clear)
{
	struct auth_limit *l = auth_limit_new(1, 60000);

	auth_limit_fail(l, "ann", 100);
	cr_assert_gt(auth_limit_wait(l, "ann", 100), 0);
	auth_limit_clear(l, "ann");
	cr_assert_eq(auth_limit_wait(l, "ann", 100), 0);
	auth_limit_clear(l, "nobody");
	auth_limit_free(l);
}

Test(auth, limit_max_capped)
{
	struct auth_limit *l = auth_limit_new(1000, 60000);
	unsigned i;

	for (i = 0; i < AUTH_LIMIT_MAX - 1; i++)
		auth_limit_fail(l, "ann", i);
	cr_assert_eq(auth_limit_wait(l, "ann", 100), 0);
	auth_limit_fail(l, "ann", 100);
	cr_assert_eq(auth_limit_wait(l, "ann", 100), 60000 - 100);
	auth_limit_free(l);
	l = auth_limit_new(0, 60000); /* 0 counts as 1 */
	auth_limit_fail(l, "ann", 0);
	cr_assert_eq(auth_limit_wait(l, "ann", 0), 60000);
	auth_limit_free(l);
}

Test(auth, limit_long_keys)
{
	struct auth_limit *l = auth_limit_new(1, 60000);
	char a[200], b[200];

	memset(a, 'a', sizeof(a) - 1);
	a[sizeof(a) - 1] = '\0';
	memcpy(b, a, sizeof(b));
	b[100] = 'b'; /* differs after the compared part: the same key */
	auth_limit_fail(l, a, 1);
	cr_assert_gt(auth_limit_wait(l, b, 1), 0);
	b[10] = 'b';
	cr_assert_eq(auth_limit_wait(l, b, 1), 0);
	auth_limit_free(l);
}

Test(auth, limit_evicts_least_recent)
{
	struct auth_limit *l = auth_limit_new(1, 1000000);
	char key[32];
	unsigned i;

	auth_limit_fail(l, "old", 1);
	auth_limit_fail(l, "recent", 5);
	for (i = 0; i < AUTH_LIMIT_KEYS - 2; i++) {
		snprintf(key, sizeof(key), "k%u", i);
		auth_limit_fail(l, key, 2);
	}
	/* the table is full: all remembered */
	cr_assert_gt(auth_limit_wait(l, "old", 10), 0);
	cr_assert_gt(auth_limit_wait(l, "recent", 10), 0);
	/* one more key evicts "old", the least recently failed */
	auth_limit_fail(l, "new", 10);
	cr_assert_eq(auth_limit_wait(l, "old", 10), 0);
	cr_assert_gt(auth_limit_wait(l, "recent", 10), 0);
	cr_assert_gt(auth_limit_wait(l, "new", 10), 0);
	/* then one of the k* keys (time 2) */
	auth_limit_fail(l, "newer", 11);
	cr_assert_gt(auth_limit_wait(l, "recent", 11), 0);
	cr_assert_gt(auth_limit_wait(l, "new", 11), 0);
	cr_assert_gt(auth_limit_wait(l, "newer", 11), 0);
	auth_limit_free(l);
}

Test(auth, limit_forgive_takes_back_one_failure)
{
	struct auth_limit *l = auth_limit_new(2, 60000);

	cr_assert_not_null(l);
	auth_limit_fail(l, "ann", 1000);
	auth_limit_fail(l, "ann", 1001);
	cr_assert_neq(auth_limit_wait(l, "ann", 1002), 0, "two failures reach the limit of 2");
	auth_limit_forgive(l, "ann");
	cr_assert_eq(auth_limit_wait(l, "ann", 1002), 0, "one taken back: under the limit");
	auth_limit_forgive(l, "ann");
	auth_limit_forgive(l, "ann");
	auth_limit_forgive(l, "nobody");
	auth_limit_fail(l, "ann", 1003);
	cr_assert_eq(auth_limit_wait(l, "ann", 1004), 0, "forgiving below zero is a no-op");
	auth_limit_free(l);
}
