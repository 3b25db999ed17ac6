/*
 * authfix.h - test fixtures for authentication: users and registered
 * devices with known tokens, written straight into a server database (no
 * password hashing, no network), and a client replica given its token.
 */
#ifndef OP_AUTHFIX_H
#define OP_AUTHFIX_H

#include "db.h"
#include "oc.h"
#include "wire.h"

/* Adds user name with role (and supervisor, NULL for none); the user
 * cannot log in with a password. Asserts success. */
void af_user(struct db *db, const char *name, const char *role, const char *sup);
/* Registers replica as user's device with a fresh token, valid for an
 * hour, into token (hex). Asserts success. */
void af_device(struct db *db, const char *user, const char *replica,
	       char token[WIRE_TOKEN_HEX + 1]);
/* Registers the replica of c for user and stores the token in c, as a
 * login would. Asserts success. */
void af_login(struct db *srv_db, struct oc *c, const char *user);

#endif
