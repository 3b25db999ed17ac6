/*
 * users.h - the server database's people and their rights: users, roles
 * and rights (as data an administrator can change), the supervisor ->
 * account manager team relation, registered devices with their token
 * digests, and the audit log. Part of the storage layer with db.c: every
 * statement is prepared and bound by parameter.
 *
 * Names of users, roles and rights: 1..USERS_NAME_MAX characters from
 * [a-z0-9._-], starting with a letter or digit. A user's name is also
 * what customers carry as their owner.
 */
#ifndef OP_USERS_H
#define OP_USERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "db.h"
#include "rid.h"

#define USERS_NAME_MAX 32

struct user {
	char name[USERS_NAME_MAX + 1];
	char full_name[201];
	char role[USERS_NAME_MAX + 1];
	char supervisor[USERS_NAME_MAX + 1]; /* "" for none */
	bool disabled;
	uint64_t created;                     /* ms since the epoch */
	char pw[AUTH_HASH_TEXT];              /* encoded hash (auth.h) */
};

struct device {
	char replica[RID_LEN + 1];           /* the client replica's id */
	char user[USERS_NAME_MAX + 1];
	char agent[64];
	uint64_t created, expires, last_seen; /* ms since the epoch */
	bool revoked;
	char last_addr[64];
};

struct audit {
	uint64_t seq, at;                     /* at: ms since the epoch */
	char user[USERS_NAME_MAX + 1];        /* "" when unknown */
	char device[RID_LEN + 1];             /* "" for the admin commands */
	char addr[64];                        /* peer address, "local" for the CLI */
	char action[24];                      /* create, edit, delete, transfer,
						 refused, login, login-failed, ... */
	char tbl[32];
	char rec[RID_LEN + 1];
	char detail[512];
};

bool users_name_valid(const char *s);

/* Users. Getters return OP_ENOTFOUND for an unknown name; add returns
 * OP_EEXIST when the name is taken and OP_EINVAL for an unknown role or
 * supervisor (or an invalid name). add takes u->created 0 as now. */
int users_add(struct db *db, const struct user *u);
int users_get(struct db *db, const char *name, struct user *u);
typedef int (*users_fn)(void *ctx, const struct user *u);
/* Every user in name order; a non-zero return from fn stops and is
 * returned. */
int users_each(struct db *db, users_fn fn, void *ctx);
int users_set_pw(struct db *db, const char *name, const char *pw_hash);
int users_set_disabled(struct db *db, const char *name, bool disabled);
int users_set_role(struct db *db, const char *name, const char *role);
/* supervisor "" removes the user from any team. OP_EINVAL if supervisor
 * is unknown, is the user, or would make a cycle. */
int users_set_supervisor(struct db *db, const char *name, const char *supervisor);

typedef int (*users_name_fn)(void *ctx, const char *name);
/* Names of the users whose supervisor is sup, in name order. */
int users_team(struct db *db, const char *sup, users_name_fn fn, void *ctx);

/* Roles and rights. */
int users_role_exists(struct db *db, const char *role, bool *found);
int users_right_exists(struct db *db, const char *right, bool *found);
/* Rights granted to role, in name order. */
int users_role_rights(struct db *db, const char *role, users_name_fn fn, void *ctx);
/* Grant/withdraw; OP_EINVAL for an unknown role or right. Granting twice
 * or withdrawing what was not granted is OP_OK. */
int users_grant(struct db *db, const char *role, const char *right);
int users_withdraw(struct db *db, const char *role, const char *right);
typedef int (*users_pair_fn)(void *ctx, const char *name, const char *text);
int users_roles_each(struct db *db, users_pair_fn fn, void *ctx);   /* name, title */
int users_rights_each(struct db *db, users_pair_fn fn, void *ctx);  /* name, help */

/* Devices. */
int users_device_get(struct db *db, const char *replica, struct device *d);
/* The device whose token has digest h; OP_ENOTFOUND if none (revoked
 * devices keep no digest). */
int users_device_by_token(struct db *db, const unsigned char h[AUTH_TOKEN_HASH],
			  struct device *d);
/* Registers replica for d->user (or renews it) with token digest h:
 * created/expires/agent from d, revoked cleared. */
int users_device_login(struct db *db, const struct device *d,
		       const unsigned char h[AUTH_TOKEN_HASH]);
/* Revokes every device of user still usable; *n says how many. */
int users_device_revoke_user(struct db *db, const char *user, unsigned *n);
/* Drops the token digest and marks revoked. OP_ENOTFOUND if unknown. */
int users_device_revoke(struct db *db, const char *replica);
int users_device_seen(struct db *db, const char *replica, uint64_t at,
		      const char *addr);
typedef int (*users_device_fn)(void *ctx, const struct device *d);
/* Devices of user (NULL: all), newest first. */
int users_device_each(struct db *db, const char *user, users_device_fn fn, void *ctx);

/* Audit log. add ignores a->seq (and takes a->at 0 as now). each: newest
 * first, at most limit rows, filtered by user and/or record id when not
 * NULL. */
int users_audit_add(struct db *db, const struct audit *a);
typedef int (*users_audit_fn)(void *ctx, const struct audit *a);
int users_audit_each(struct db *db, const char *user, const char *rec,
		     unsigned limit, users_audit_fn fn, void *ctx);

#endif
