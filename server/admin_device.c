/*
 * admin_device.c - `outpostd device ...` and `outpostd audit` (admin.h):
 * the registered devices and revoking one (by id or unique prefix), and
 * the audit log newest first. Times print as UTC minutes in the text
 * form and as ms since the epoch in JSON.
 */
#include <stdio.h>
#include <string.h>

#include "admin_int.h"
#include "users.h"

/* ---- device list ------------------------------------------------------- */

static void device_json(struct admin_out *o, const struct device *d)
{
	admin_jopen(o, NULL, '{');
	admin_jstr(o, "replica", d->replica);
	admin_jstr(o, "user", d->user);
	admin_jstr(o, "agent", d->agent);
	admin_jnum(o, "created", d->created);
	admin_jnum(o, "expires", d->expires);
	admin_jnum(o, "last_seen", d->last_seen);
	admin_jbool(o, "revoked", d->revoked);
	admin_jstr(o, "last_addr", d->last_addr);
	admin_jclose(o, '}');
}

static void device_text(struct admin_out *o, const struct device *d)
{
	char created[32], expires[32], seen[32];

	if (!o->count)
		admin_addf(o, "%-32s  %-16s  %-16s  %-16s  %-16s  %-7s  %-20s  %s\n", "REPLICA",
			   "USER", "CREATED", "EXPIRES", "LAST SEEN", "REVOKED", "LAST ADDR",
			   "AGENT");
	admin_time(created, d->created);
	admin_time(expires, d->expires);
	admin_time(seen, d->last_seen);
	admin_col(o, d->replica, 32);
	admin_col(o, d->user, 16);
	admin_col(o, created, 16);
	admin_col(o, expires, 16);
	admin_col(o, seen, 16);
	admin_col(o, d->revoked ? "yes" : "no", 7);
	admin_col(o, d->last_addr[0] ? d->last_addr : "-", 20);
	admin_col(o, d->agent[0] ? d->agent : "-", 0);
}

static int list_device(void *ctx, const struct device *d)
{
	struct admin_out *o = ctx;

	if (o->json)
		device_json(o, d);
	else
		device_text(o, d);
	o->count++;
	return o->rc;
}

/* Exit code 0 when user name exists. */
static int need_user(struct admin *ad, const char *name)
{
	struct user u;
	int rc = users_get(ad->db, name, &u);

	if (rc == OP_ENOTFOUND)
		return admin_fail(ad, 1, "no user named %s", name);
	return rc ? admin_db_fail(ad, rc, "cannot read the users") : 0;
}

int admin_device_list(struct admin *ad)
{
	struct admin_out o = { BUF_INIT, 0, ad->a->json, 0 };
	int rc;

	if (ad->a->user && (rc = need_user(ad, ad->a->user)))
		return rc;
	if (o.json)
		admin_jopen(&o, NULL, '[');
	if ((rc = users_device_each(ad->db, ad->a->user, list_device, &o)) && !o.rc) {
		buf_release(&o.b);
		return admin_db_fail(ad, rc, "cannot read the devices");
	}
	if (o.json)
		admin_addf(&o, "]\n");
	else if (!o.count)
		admin_addf(&o, "no devices\n");
	return admin_flush(ad, &o);
}

/* ---- device revoke ----------------------------------------------------- */

struct match {
	const char *prefix;
	size_t n;
	unsigned count;
	struct device first;
};

static int match_device(void *ctx, const struct device *d)
{
	struct match *m = ctx;

	if (!strncmp(d->replica, m->prefix, m->n) && m->count++ == 0)
		m->first = *d;
	return 0;
}

/* Finds the one device whose id starts with prefix; exit code. */
static int resolve(struct admin *ad, const char *prefix, struct device *d)
{
	struct match m;
	int rc;

	memset(&m, 0, sizeof(m));
	m.prefix = prefix;
	m.n = strlen(prefix);
	if ((rc = users_device_each(ad->db, NULL, match_device, &m)))
		return admin_db_fail(ad, rc, "cannot read the devices");
	if (m.count == 0)
		return admin_fail(ad, 1, "no device %s", prefix);
	if (m.count > 1)
		return admin_fail(ad, 1, "%s matches %u devices; give more of its digits",
				  prefix, m.count);
	*d = m.first;
	return 0;
}

int admin_device_revoke(struct admin *ad)
{
	struct device d;
	char detail[128];
	int rc;

	if ((rc = resolve(ad, ad->a->pos[0], &d)))
		return rc;
	if (d.revoked) {
		printf("outpostd: device %s (user %s) is already revoked\n", d.replica, d.user);
		return 0;
	}
	snprintf(detail, sizeof(detail), "%s: device of %s", d.replica, d.user);
	if ((rc = admin_begin(ad)))
		return rc;
	rc = admin_commit(ad, users_device_revoke(ad->db, d.replica), "device-revoke",
			  "device", detail);
	if (rc)
		return admin_db_fail(ad, rc, "cannot revoke the device");
	printf("outpostd: revoked device %s (user %s)\n", d.replica, d.user);
	return 0;
}

/* ---- audit ------------------------------------------------------------- */

static void audit_json(struct admin_out *o, const struct audit *a)
{
	admin_jopen(o, NULL, '{');
	admin_jnum(o, "seq", a->seq);
	admin_jnum(o, "at", a->at);
	admin_jstr(o, "user", a->user);
	admin_jstr(o, "device", a->device);
	admin_jstr(o, "addr", a->addr);
	admin_jstr(o, "action", a->action);
	admin_jstr(o, "tbl", a->tbl);
	admin_jstr(o, "rec", a->rec);
	admin_jstr(o, "detail", a->detail);
	admin_jclose(o, '}');
}

static void audit_text(struct admin_out *o, const struct audit *a)
{
	char at[32], device[9];

	if (!o->count)
		admin_addf(o, "%-8s  %-16s  %-16s  %-8s  %-16s  %-14s  %-8s  %-32s  %s\n", "SEQ",
			   "TIME (UTC)", "USER", "DEVICE", "ADDR", "ACTION", "TABLE", "RECORD",
			   "DETAIL");
	admin_time(at, a->at);
	snprintf(device, sizeof(device), "%s", a->device[0] ? a->device : "-");
	admin_addf(o, "%-8llu  ", (unsigned long long)a->seq);
	admin_col(o, at, 16);
	admin_col(o, a->user[0] ? a->user : "-", 16);
	admin_col(o, device, 8);
	admin_col(o, a->addr[0] ? a->addr : "-", 16);
	admin_col(o, a->action, 14);
	admin_col(o, a->tbl[0] ? a->tbl : "-", 8);
	admin_col(o, a->rec[0] ? a->rec : "-", 32);
	admin_col(o, a->detail, 0);
}

static int list_audit(void *ctx, const struct audit *a)
{
	struct admin_out *o = ctx;

	if (o->json)
		audit_json(o, a);
	else
		audit_text(o, a);
	o->count++;
	return o->rc;
}

int admin_audit(struct admin *ad)
{
	const struct admin_args *a = ad->a;
	struct admin_out o = { BUF_INIT, 0, a->json, 0 };
	int rc;

	if (o.json)
		admin_jopen(&o, NULL, '[');
	rc = users_audit_each(ad->db, a->user, a->record, a->limit, list_audit, &o);
	if (rc && !o.rc) {
		buf_release(&o.b);
		return admin_db_fail(ad, rc, "cannot read the audit log");
	}
	if (o.json)
		admin_addf(&o, "]\n");
	else if (!o.count)
		admin_addf(&o, "no audit entries\n");
	return admin_flush(ad, &o);
}
