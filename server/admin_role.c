/*
 * admin_role.c - `outpostd role ...` (admin.h): the roles with the rights
 * each is granted and the list of rights, and granting or withdrawing a
 * right, with its audit row in the same transaction. The server reads
 * roles and rights on every request, so a change applies at once.
 */
#include <stdio.h>
#include <string.h>

#include "admin_int.h"
#include "users.h"

/* ---- list -------------------------------------------------------------- */

struct role_list {
	struct admin_out o;
	struct db *db;
	char rights[512];  /* the current role's rights, for the text form */
	size_t len;
};

static int json_right(void *ctx, const char *name)
{
	struct role_list *l = ctx;

	admin_jstr(&l->o, NULL, name);
	return l->o.rc;
}

static int text_right(void *ctx, const char *name)
{
	struct role_list *l = ctx;

	if (l->len < sizeof(l->rights))
		l->len += (size_t)snprintf(l->rights + l->len, sizeof(l->rights) - l->len,
					   "%s%s", l->len ? ", " : "", name);
	return 0;
}

static int json_role(struct role_list *l, const char *name, const char *title)
{
	int rc;

	admin_jopen(&l->o, NULL, '{');
	admin_jstr(&l->o, "name", name);
	admin_jstr(&l->o, "title", title);
	admin_jopen(&l->o, "rights", '[');
	rc = users_role_rights(l->db, name, json_right, l);
	admin_jclose(&l->o, ']');
	admin_jclose(&l->o, '}');
	return rc ? rc : l->o.rc;
}

static int text_role(struct role_list *l, const char *name, const char *title)
{
	int rc;

	l->rights[0] = '\0';
	l->len = 0;
	if ((rc = users_role_rights(l->db, name, text_right, l)))
		return rc;
	if (!l->o.count)
		admin_addf(&l->o, "%-12s  %-24s  %s\n", "ROLE", "TITLE", "RIGHTS");
	admin_col(&l->o, name, 12);
	admin_col(&l->o, title, 24);
	admin_col(&l->o, l->rights[0] ? l->rights : "-", 0);
	return l->o.rc;
}

static int list_role(void *ctx, const char *name, const char *title)
{
	struct role_list *l = ctx;
	int rc = l->o.json ? json_role(l, name, title) : text_role(l, name, title);

	l->o.count++;
	return rc;
}

static int list_right(void *ctx, const char *name, const char *help)
{
	struct role_list *l = ctx;

	if (l->o.json) {
		admin_jopen(&l->o, NULL, '{');
		admin_jstr(&l->o, "name", name);
		admin_jstr(&l->o, "help", help);
		admin_jclose(&l->o, '}');
	} else {
		admin_col(&l->o, name, 12);
		admin_col(&l->o, help, 0);
	}
	return l->o.rc;
}

int admin_role_list(struct admin *ad)
{
	struct role_list l;
	int rc;

	memset(&l, 0, sizeof(l));
	l.o.json = ad->a->json;
	l.db = ad->db;
	if (l.o.json) {
		admin_jopen(&l.o, NULL, '{');
		admin_jopen(&l.o, "roles", '[');
	}
	rc = users_roles_each(ad->db, list_role, &l);
	if (l.o.json) {
		admin_jclose(&l.o, ']');
		admin_jopen(&l.o, "rights", '[');
	} else {
		admin_addf(&l.o, "%s%-12s  %s\n", l.o.count ? "\n" : "", "RIGHT", "HELP");
	}
	if (!rc)
		rc = users_rights_each(ad->db, list_right, &l);
	if (l.o.json)
		admin_addf(&l.o, "]}\n");
	if (rc && !l.o.rc) {
		buf_release(&l.o.b);
		return admin_db_fail(ad, rc, "cannot read the roles");
	}
	return admin_flush(ad, &l.o);
}

/* ---- grant, withdraw --------------------------------------------------- */

struct has_right {
	const char *right;
	bool found;
};

static int match_right(void *ctx, const char *name)
{
	struct has_right *h = ctx;

	if (!strcmp(name, h->right))
		h->found = true;
	return 0;
}

/* Exit code 0 with *has set when role has right. */
static int role_has(struct admin *ad, const char *role, const char *right, bool *has)
{
	struct has_right h = { right, false };
	int rc = users_role_rights(ad->db, role, match_right, &h);

	if (rc)
		return admin_db_fail(ad, rc, "cannot read the rights");
	*has = h.found;
	return 0;
}

static int role_change(struct admin *ad, bool grant)
{
	const char *role = ad->a->pos[0], *right = ad->a->pos[1];
	char detail[128];
	bool has = false;
	int rc;

	if ((rc = admin_need_role(ad, role)) || (rc = admin_need_right(ad, right)) ||
	    (rc = role_has(ad, role, right, &has)))
		return rc;
	if (has == grant) {
		printf("outpostd: %s %s %s\n", role, grant ? "already has" : "does not have", right);
		return 0;
	}
	snprintf(detail, sizeof(detail), "%s: %s %s", role, grant ? "grant" : "withdraw", right);
	if ((rc = admin_begin(ad)))
		return rc;
	rc = admin_commit(ad, grant ? users_grant(ad->db, role, right)
				    : users_withdraw(ad->db, role, right),
			  grant ? "role-grant" : "role-withdraw", "role", detail);
	if (rc)
		return admin_db_fail(ad, rc, "cannot change the role");
	if (grant)
		printf("outpostd: granted %s to %s\n", right, role);
	else
		printf("outpostd: withdrew %s from %s\n", right, role);
	return 0;
}

int admin_role_grant(struct admin *ad)
{
	return role_change(ad, true);
}

int admin_role_withdraw(struct admin *ad)
{
	return role_change(ad, false);
}
