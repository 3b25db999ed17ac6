/*
 * authfix.c - authentication fixtures for tests (see authfix.h): the
 * harness's user and device helpers, asserting success.
 */
#include <criterion/criterion.h>

#include "authfix.h"
#include "harness.h"

void af_user(struct db *db, const char *name, const char *role, const char *sup)
{
	cr_assert_eq(h_user_db(db, name, role, sup, NULL), 0, "cannot add user %s", name);
}

void af_device(struct db *db, const char *user, const char *replica,
	       char token[WIRE_TOKEN_HEX + 1])
{
	cr_assert_eq(h_device_db(db, user, replica, 3600 * 1000, token), 0,
		     "cannot register a device of %s", user);
}

void af_login(struct db *srv_db, struct oc *c, const char *user)
{
	char token[WIRE_TOKEN_HEX + 1];

	af_device(srv_db, user, oc_replica(c), token);
	cr_assert_eq(db_meta_set_text(oc_db(c), "token", token), OP_OK);
	cr_assert_eq(db_meta_set_text(oc_db(c), "user", user), OP_OK);
}
