/*
 * access.h - what a user may do: the rights their role holds and the
 * owners whose records fall in their read and write scope (their own, the
 * team they supervise, or everyone). Loaded from the database for every
 * request, so a change an administrator makes applies at once.
 *
 * Scope follows ownership: a customer belongs to its owner; contacts and
 * conflict records belong to the owner of the record they hang off.
 */
#ifndef OP_ACCESS_H
#define OP_ACCESS_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "db.h"
#include "users.h"
#include "wire.h"

enum access_right {
	AR_READ_OWN = 1 << 0, AR_READ_TEAM = 1 << 1, AR_READ_ALL = 1 << 2,
	AR_WRITE_OWN = 1 << 3, AR_WRITE_TEAM = 1 << 4, AR_WRITE_ALL = 1 << 5,
	AR_DELETE = 1 << 6, AR_TRANSFER = 1 << 7,
};

#define ACCESS_MAX_TEAM 10000

struct access {
	char user[USERS_NAME_MAX + 1];
	char role[USERS_NAME_MAX + 1];
	unsigned rights;                 /* enum access_right bits */
	char (*team)[USERS_NAME_MAX + 1]; /* the users one supervises, sorted */
	size_t nteam;
	char scope[WIRE_SCOPE_HEX + 1];  /* digest of the read scope */
	struct buf read_json;            /* read scope's owners: a JSON array, NUL-terminated */
};

/*
 * Loads user's rights and team into *a (released first if it held
 * something; zero-initialise before the first use). OP_ENOTFOUND for an
 * unknown user, OP_EDENIED for a disabled one, OP_EIO, OP_ENOMEM.
 * access_release() frees what it holds.
 */
int access_load(struct db *db, const char *user, struct access *a);
void access_release(struct access *a);

bool access_has(const struct access *a, unsigned right);
/* True if the whole database is in the read scope. */
bool access_reads_all(const struct access *a);
/* Whether records owned by owner (NULL: no owner) are in scope. */
bool access_may_read(const struct access *a, const char *owner);
bool access_may_write(const struct access *a, const char *owner);

#endif
