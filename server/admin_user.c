/*
 * admin_user.c - `outpostd user ...` (admin.h): adding users with a
 * password read from the terminal or stdin, listing them, disabling and
 * enabling, new passwords, roles and teams. Each change is made with its
 * audit row in one transaction; a change that would change nothing says
 * so and succeeds without writing.
 */
#include <stdio.h>
#include <string.h>

#include "admin_int.h"
#include "hlc.h"
#include "secret.h"
#include "users.h"

/* Loads user name into u; exit code 0, or 1 with a message. */
static int load(struct admin *ad, const char *name, struct user *u)
{
	int rc = users_get(ad->db, name, u);

	if (rc == OP_ENOTFOUND)
		return admin_fail(ad, 1, "no user named %s", name);
	if (rc)
		return admin_db_fail(ad, rc, "cannot read the users");
	return 0;
}

/* Reads a password for name (asking twice on a terminal) and hashes it
 * into hash; exit code 0, or 1 with a message. */
static int read_password(struct admin *ad, const char *ask, const char *name,
			 char hash[AUTH_HASH_TEXT])
{
	char pw[AUTH_PW_MAX + 1], prompt[96], err[OP_ERRLEN];
	int n, rc;

	snprintf(prompt, sizeof(prompt), "%s %s: ", ask, name);
	if ((n = secret_read(prompt, 1, pw, sizeof(pw), err)) < 0)
		return admin_fail(ad, 1, "%s", err);
	rc = auth_pw_hash(pw, (size_t)n, hash);
	secret_wipe(pw, sizeof(pw));
	if (rc)
		return admin_fail(ad, 1, "cannot hash the password (OpenSSL failed)");
	return 0;
}

/* ---- add --------------------------------------------------------------- */

/* Exit code 0 when u may be added: a new name, a known role and
 * supervisor. */
static int check_new(struct admin *ad, const struct user *u)
{
	struct user other;
	int rc = users_get(ad->db, u->name, &other);

	if (rc == OP_OK)
		return admin_fail(ad, 1, "a user named %s already exists", u->name);
	if (rc != OP_ENOTFOUND)
		return admin_db_fail(ad, rc, "cannot read the users");
	if ((rc = admin_need_role(ad, u->role)))
		return rc;
	if (u->supervisor[0] && (rc = load(ad, u->supervisor, &other)))
		return rc;
	return 0;
}

static void fill_new(const struct admin_args *a, struct user *u)
{
	memset(u, 0, sizeof(*u));
	snprintf(u->name, sizeof(u->name), "%s", a->pos[0]);
	snprintf(u->role, sizeof(u->role), "%s", a->role);
	if (a->supervisor)
		snprintf(u->supervisor, sizeof(u->supervisor), "%s", a->supervisor);
	if (a->full_name)
		snprintf(u->full_name, sizeof(u->full_name), "%s", a->full_name);
	u->created = hlc_wall_ms();
}

int admin_user_add(struct admin *ad)
{
	struct user u;
	char detail[128];
	int rc;

	fill_new(ad->a, &u);
	if ((rc = check_new(ad, &u)) || (rc = read_password(ad, "Password for", u.name, u.pw)))
		return rc;
	snprintf(detail, sizeof(detail), "%s: role %s%s%s", u.name, u.role,
		 u.supervisor[0] ? ", supervisor " : "", u.supervisor);
	if ((rc = admin_begin(ad)))
		return rc;
	rc = admin_commit(ad, users_add(ad->db, &u), "user-add", "user", detail);
	if (rc == OP_EEXIST)
		return admin_fail(ad, 1, "a user named %s already exists", u.name);
	if (rc)
		return admin_db_fail(ad, rc, "cannot add the user");
	printf("outpostd: added user %s (%s)\n", u.name, u.role);
	return 0;
}

/* ---- list -------------------------------------------------------------- */

static int list_one(void *ctx, const struct user *u)
{
	struct admin_out *o = ctx;

	if (o->json) {
		admin_jopen(o, NULL, '{');
		admin_jstr(o, "name", u->name);
		admin_jstr(o, "full_name", u->full_name);
		admin_jstr(o, "role", u->role);
		admin_jstr(o, "supervisor", u->supervisor[0] ? u->supervisor : NULL);
		admin_jbool(o, "disabled", u->disabled);
		admin_jnum(o, "created", u->created);
		admin_jclose(o, '}');
	} else {
		if (!o->count)
			admin_addf(o, "%-16s  %-12s  %-16s  %-8s  %s\n", "NAME", "ROLE",
				   "SUPERVISOR", "DISABLED", "FULL NAME");
		admin_col(o, u->name, 16);
		admin_col(o, u->role, 12);
		admin_col(o, u->supervisor[0] ? u->supervisor : "-", 16);
		admin_col(o, u->disabled ? "yes" : "no", 8);
		admin_col(o, u->full_name, 0);
	}
	o->count++;
	return o->rc;
}

int admin_user_list(struct admin *ad)
{
	struct admin_out o = { BUF_INIT, 0, ad->a->json, 0 };
	int rc;

	if (o.json)
		admin_jopen(&o, NULL, '[');
	if ((rc = users_each(ad->db, list_one, &o)) && !o.rc) {
		buf_release(&o.b);
		return admin_db_fail(ad, rc, "cannot read the users");
	}
	if (o.json)
		admin_addf(&o, "]\n");
	else if (!o.count)
		admin_addf(&o, "no users\n");
	return admin_flush(ad, &o);
}

/* ---- disable, enable, passwd ------------------------------------------- */

static int set_disabled(struct admin *ad, bool disabled)
{
	const char *name = ad->a->pos[0], *verb = disabled ? "disabled" : "enabled";
	struct user u;
	char detail[64];
	int rc;

	if ((rc = load(ad, name, &u)))
		return rc;
	if (u.disabled == disabled) {
		printf("outpostd: %s is already %s\n", name, verb);
		return 0;
	}
	snprintf(detail, sizeof(detail), "%s: %s", name, verb);
	if ((rc = admin_begin(ad)))
		return rc;
	rc = admin_commit(ad, users_set_disabled(ad->db, name, disabled),
			  disabled ? "user-disable" : "user-enable", "user", detail);
	if (rc)
		return admin_db_fail(ad, rc, "cannot change the user");
	printf("outpostd: %s user %s\n", verb, name);
	return 0;
}

int admin_user_disable(struct admin *ad)
{
	return set_disabled(ad, true);
}

int admin_user_enable(struct admin *ad)
{
	return set_disabled(ad, false);
}

int admin_user_passwd(struct admin *ad)
{
	const char *name = ad->a->pos[0];
	char hash[AUTH_HASH_TEXT], detail[96];
	unsigned n = 0;
	struct user u;
	int rc;

	if ((rc = load(ad, name, &u)) ||
	    (rc = read_password(ad, "New password for", name, hash)))
		return rc;
	if ((rc = admin_begin(ad)))
		return rc;
	rc = users_set_pw(ad->db, name, hash);
	if (!rc && ad->a->revoke)
		rc = users_device_revoke_user(ad->db, name, &n);
	snprintf(detail, sizeof(detail), "%s: new password%s", name,
		 ad->a->revoke ? ", every device revoked" : "");
	rc = admin_commit(ad, rc, "user-passwd", "user", detail);
	if (rc)
		return admin_db_fail(ad, rc, "cannot change the password");
	if (ad->a->revoke)
		printf("outpostd: changed the password of %s and revoked %u device(s)\n", name, n);
	else
		printf("outpostd: changed the password of %s\n", name);
	return 0;
}

/* ---- set-role, set-team ------------------------------------------------ */

int admin_user_set_role(struct admin *ad)
{
	const char *name = ad->a->pos[0], *role = ad->a->pos[1];
	struct user u;
	char detail[128];
	int rc;

	if ((rc = load(ad, name, &u)) || (rc = admin_need_role(ad, role)))
		return rc;
	if (!strcmp(u.role, role)) {
		printf("outpostd: %s already has role %s\n", name, role);
		return 0;
	}
	snprintf(detail, sizeof(detail), "%s: role %s (was %s)", name, role, u.role);
	if ((rc = admin_begin(ad)))
		return rc;
	rc = admin_commit(ad, users_set_role(ad->db, name, role), "user-set-role", "user",
			  detail);
	if (rc)
		return admin_db_fail(ad, rc, "cannot change the role");
	printf("outpostd: %s now has role %s\n", name, role);
	return 0;
}

/* Exit code 0 when sup may become the supervisor of u. */
static int check_team(struct admin *ad, const struct user *u, const char *sup)
{
	struct user s;
	int rc;

	if (!strcmp(u->name, sup))
		return admin_fail(ad, 1, "%s cannot be in their own team", sup);
	return (rc = load(ad, sup, &s)) ? rc : 0;
}

/* Applies the team change of u to sup ("" for none) with its audit row. */
static int change_team(struct admin *ad, const struct user *u, const char *sup)
{
	char detail[128];
	int rc;

	snprintf(detail, sizeof(detail), "%s: team %s (was %s)", u->name,
		 sup[0] ? sup : "none", u->supervisor[0] ? u->supervisor : "none");
	if ((rc = admin_begin(ad)))
		return rc;
	rc = admin_commit(ad, users_set_supervisor(ad->db, u->name, sup), "user-set-team",
			  "user", detail);
	if (rc == OP_EINVAL)
		return admin_fail(ad, 1, "cannot put %s in the team of %s: %s is under %s, and teams cannot loop",
				  u->name, sup, sup, u->name);
	if (rc)
		return admin_db_fail(ad, rc, "cannot change the team");
	if (sup[0])
		printf("outpostd: %s is now in the team of %s\n", u->name, sup);
	else
		printf("outpostd: %s is no longer in the team of %s\n", u->name, u->supervisor);
	return 0;
}

int admin_user_set_team(struct admin *ad)
{
	const char *name = ad->a->pos[0], *sup = ad->a->none ? "" : ad->a->pos[1];
	struct user u;
	int rc;

	if ((rc = load(ad, name, &u)) || (sup[0] && (rc = check_team(ad, &u, sup))))
		return rc;
	if (!strcmp(u.supervisor, sup)) {
		if (sup[0])
			printf("outpostd: %s is already in the team of %s\n", name, sup);
		else
			printf("outpostd: %s is in no team\n", name);
		return 0;
	}
	return change_team(ad, &u, sup);
}
