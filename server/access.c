/*
 * access.c - rights and scope of a user (see access.h).
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "json.h"

static const struct { const char *name; unsigned bit; } right_bits[] = {
	{ "read.own", AR_READ_OWN }, { "read.team", AR_READ_TEAM },
	{ "read.all", AR_READ_ALL }, { "write.own", AR_WRITE_OWN },
	{ "write.team", AR_WRITE_TEAM }, { "write.all", AR_WRITE_ALL },
	{ "delete", AR_DELETE }, { "transfer", AR_TRANSFER },
};

static int add_right(void *ctx, const char *name)
{
	struct access *a = ctx;
	size_t i;

	for (i = 0; i < sizeof(right_bits) / sizeof(right_bits[0]); i++)
		if (!strcmp(name, right_bits[i].name))
			a->rights |= right_bits[i].bit;
	return OP_OK; /* a right this build does not know grants nothing */
}

static int add_member(void *ctx, const char *name)
{
	struct access *a = ctx;
	void *p;

	if (a->nteam == ACCESS_MAX_TEAM)
		return OP_ETOOBIG;
	if (!(p = realloc(a->team, (a->nteam + 1) * sizeof(*a->team))))
		return OP_ENOMEM;
	a->team = p;
	snprintf(a->team[a->nteam++], sizeof(a->team[0]), "%s", name);
	return OP_OK;
}

/* The read scope's owners, as JSON (for the pull) and as a digest (so a
 * device can tell that its scope changed). Team names come sorted. */
static int scope_digest(struct access *a)
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	size_t i;
	int rc = 0;

	buf_reset(&a->read_json);
	rc |= buf_add(&a->read_json, "[", 1);
	if (a->rights & (AR_READ_OWN | AR_READ_TEAM))
		rc |= json_str(&a->read_json, a->user, strlen(a->user));
	for (i = 0; (a->rights & AR_READ_TEAM) && i < a->nteam; i++) {
		rc |= buf_add(&a->read_json, ",", 1);
		rc |= json_str(&a->read_json, a->team[i], strlen(a->team[i]));
	}
	rc |= buf_add(&a->read_json, "]", 1);
	if (rc)
		return OP_ENOMEM;
	if (access_reads_all(a)) {
		if (!EVP_Digest("*", 1, md, &mdlen, EVP_sha256(), NULL))
			return OP_EIO;
	} else if (!EVP_Digest(a->read_json.p, a->read_json.len, md, &mdlen,
			       EVP_sha256(), NULL)) {
		return OP_EIO;
	}
	for (i = 0; i < WIRE_SCOPE_HEX / 2; i++)
		snprintf(a->scope + 2 * i, 3, "%02x", md[i]);
	return buf_addc(&a->read_json, '\0'); /* a C string for the query */
}

int access_load(struct db *db, const char *user, struct access *a)
{
	struct user u;
	int rc;

	access_release(a);
	if ((rc = users_get(db, user, &u)))
		return rc;
	if (u.disabled)
		return OP_EDENIED;
	snprintf(a->user, sizeof(a->user), "%s", u.name);
	snprintf(a->role, sizeof(a->role), "%s", u.role);
	if ((rc = users_role_rights(db, u.role, add_right, a)) ||
	    (rc = users_team(db, u.name, add_member, a)) ||
	    (rc = scope_digest(a)))
		access_release(a);
	return rc;
}

void access_release(struct access *a)
{
	free(a->team);
	buf_release(&a->read_json);
	memset(a, 0, sizeof(*a));
}

bool access_has(const struct access *a, unsigned right)
{
	return (a->rights & right) == right;
}

bool access_reads_all(const struct access *a)
{
	return a->rights & AR_READ_ALL;
}

static int cmp_name(const void *k, const void *e)
{
	return strcmp(k, e);
}

static bool in_scope(const struct access *a, const char *owner, unsigned all,
		     unsigned team, unsigned own)
{
	if (a->rights & all)
		return true;
	if (!owner)
		return false;
	if ((a->rights & (own | team)) && !strcmp(owner, a->user))
		return true;
	return (a->rights & team) && a->nteam &&
	       bsearch(owner, a->team, a->nteam, sizeof(a->team[0]), cmp_name);
}

bool access_may_read(const struct access *a, const char *owner)
{
	return in_scope(a, owner, AR_READ_ALL, AR_READ_TEAM, AR_READ_OWN);
}

bool access_may_write(const struct access *a, const char *owner)
{
	return in_scope(a, owner, AR_WRITE_ALL, AR_WRITE_TEAM, AR_WRITE_OWN);
}
