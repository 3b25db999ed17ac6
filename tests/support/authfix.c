/*
 * authfix.c - authentication fixtures for tests (see authfix.h).
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "auth.h"
#include "authfix.h"
#include "hlc.h"
#include "users.h"

void af_user(struct db *db, const char *name, const char *role, const char *sup)
{
	struct user u;

	memset(&u, 0, sizeof(u));
	snprintf(u.name, sizeof(u.name), "%s", name);
	snprintf(u.role, sizeof(u.role), "%s", role);
	snprintf(u.supervisor, sizeof(u.supervisor), "%s", sup ? sup : "");
	snprintf(u.pw, sizeof(u.pw), "none");
	u.created = hlc_wall_ms();
	cr_assert_eq(users_add(db, &u), OP_OK, "users_add %s", name);
}

void af_device(struct db *db, const char *user, const char *replica,
	       char token[WIRE_TOKEN_HEX + 1])
{
	unsigned char tok[AUTH_TOKEN_LEN], dig[AUTH_TOKEN_HASH];
	struct device d;
	size_t i;

	memset(&d, 0, sizeof(d));
	snprintf(d.replica, sizeof(d.replica), "%s", replica);
	snprintf(d.user, sizeof(d.user), "%s", user);
	d.created = hlc_wall_ms();
	d.expires = d.created + 3600 * 1000;
	cr_assert_eq(auth_token_new(tok), OP_OK);
	auth_token_digest(tok, sizeof(tok), dig);
	cr_assert_eq(users_device_login(db, &d, dig), OP_OK, "device of %s", user);
	for (i = 0; i < sizeof(tok); i++)
		snprintf(token + 2 * i, 3, "%02x", tok[i]);
}

void af_login(struct db *srv_db, struct oc *c, const char *user)
{
	char token[WIRE_TOKEN_HEX + 1];

	af_device(srv_db, user, oc_replica(c), token);
	cr_assert_eq(db_meta_set_text(oc_db(c), "token", token), OP_OK);
	cr_assert_eq(db_meta_set_text(oc_db(c), "user", user), OP_OK);
}
