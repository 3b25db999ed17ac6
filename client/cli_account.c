/*
 * cli_account.c - the `outpost` commands about who is using the device
 * and what the server refused:
 *
 *   outpost login --user NAME     (password from stdin or a prompt)
 *   outpost logout
 *   outpost rejected [--json]
 *   outpost rejected dismiss N|--all
 *   outpost rejected retry N
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "conn.h"
#include "json.h"
#include "secret.h"
#include "wire.h"

/* Connects for a login or logout with the replica's server settings. */
static int run_conn(struct oc *oc, enum conn_mode mode, const char *user,
		    const char *pw, char err[OP_ERRLEN])
{
	struct conn_opts o = { mode, user, pw, NULL, NULL, 30, NULL, NULL };
	struct oc_status st;
	struct sync_stats ss;

	if (oc_status(oc, &st) || !st.server[0])
		return op_fail(err, OP_ESTATE, "no server is set; run: outpost init --server wss://HOST:PORT");
	o.url = st.server;
	o.ca = st.ca;
	return conn_sync(oc, &o, &ss, err);
}

int cmd_login(struct cli *c)
{
	char pw[WIRE_PW_MAX + 2], err[OP_ERRLEN], prompt[80], until[32];
	const char *user = NULL;
	struct oc_status st;
	struct oc *oc;
	int rc, n;

	if (c->argc >= 2 && !strcmp(c->argv[0], "--user"))
		user = c->argv[1];
	if (!user)
		return die("login: give --user NAME (the password is read from stdin or a prompt)");
	if ((rc = no_more_args(c, 2, "login")))
		return rc;
	if (!wire_name_valid(user, strlen(user)))
		return die("login: \"%s\" is not a user name (1 to %d of a-z, 0-9, '.', '_', '-', "
			   "starting with a letter or digit)",
			   user, WIRE_NAME_MAX);
	if ((rc = open_replica(c, &oc)))
		return rc;
	if (oc_prepare_login(oc, user, err)) {
		oc_close(oc);
		return die("login: %s", err);
	}
	snprintf(prompt, sizeof(prompt), "Password for %s: ", user);
	n = secret_read(prompt, 0, pw, sizeof(pw), err);
	if (n < 0) {
		oc_close(oc);
		return die("login: %s", err);
	}
	rc = run_conn(oc, CONN_LOGIN, user, pw, err);
	secret_wipe(pw, sizeof(pw));
	if (!rc && !oc_status(oc, &st)) {
		fmt_time(st.token_expires_ms, until, sizeof(until));
		printf("logged in as %s (%s) on replica %s; the token is valid until %s\n",
		       st.user, st.role, st.replica, until);
	}
	oc_close(oc);
	return rc ? die("login failed: %s", err) : 0;
}

int cmd_logout(struct cli *c)
{
	char err[OP_ERRLEN];
	struct oc_status st;
	struct oc *oc;
	int rc;

	if ((rc = no_more_args(c, 0, "logout")) || (rc = open_replica(c, &oc)))
		return rc;
	if (oc_status(oc, &st) || !st.logged_in) {
		oc_close(oc);
		return die("logout: not logged in");
	}
	rc = run_conn(oc, CONN_LOGOUT, NULL, NULL, err);
	if (rc == OP_EDENIED) { /* the server no longer takes the token anyway */
		rc = oc_forget_token(oc);
		if (!rc)
			printf("logged out (the server had already stopped accepting this token: %s)\n", err);
	} else if (rc) {
		oc_forget_token(oc);
		rc = die("logout: %s; the token was forgotten here but stays valid on the server "
			 "until it expires; an administrator can revoke it with: outpostd device revoke %s",
			 err, st.replica);
	} else {
		printf("logged out %s; this device's token is revoked\n", st.user);
	}
	if (!rc && st.pending)
		printf("%llu local change(s) stay in the outbox until the next login and sync\n",
		       (unsigned long long)st.pending);
	oc_close(oc);
	return rc ? 1 : 0;
}

struct rej_print {
	struct oc *oc;
	bool json;
	unsigned long count;
	struct buf b;
};

/* The refused change's values, "field=value, ..." or a JSON object. */
static void change_values(struct rej_print *p, const struct db_rejected *r, bool json)
{
	struct wire_err e;
	struct rec *ch = NULL;
	int i, k = 0;

	if (wire_decode_change(r->change, r->n, oc_replica(p->oc), &ch, &e)) {
		buf_adds(&p->b, json ? "null" : "(unreadable)");
		return;
	}
	buf_adds(&p->b, json ? "{" : "");
	for (i = 0; !ch->tomb && i < ch->t->nfields; i++) {
		if (!ch->f[i].set)
			continue;
		buf_adds(&p->b, k++ ? ", " : "");
		if (json) {
			json_str(&p->b, ch->t->fields[i].name, strlen(ch->t->fields[i].name));
			buf_addc(&p->b, ':');
			json_val(&p->b, &ch->f[i].v);
		} else {
			buf_addf(&p->b, "%s=", ch->t->fields[i].name);
			val_format(&ch->f[i].v, &p->b);
		}
	}
	if (ch->tomb && !json)
		buf_adds(&p->b, "delete");
	buf_adds(&p->b, json ? "}" : "");
	rec_free(ch);
}

static int print_rejected(void *ctx, const struct db_rejected *r)
{
	struct rej_print *p = ctx;
	char when[32];
	char clean[OP_ERRLEN];

	fmt_time(r->at, when, sizeof(when));
	buf_reset(&p->b);
	if (p->json) {
		buf_addf(&p->b, "%s{\"n\":%llu,\"tbl\":", p->count ? "," : "[",
			 (unsigned long long)r->ctr);
		json_str(&p->b, r->tbl, strlen(r->tbl));
		buf_adds(&p->b, ",\"id\":");
		json_str(&p->b, r->id, strlen(r->id));
		buf_addf(&p->b, ",\"code\":%llu,\"reason\":", (unsigned long long)r->code);
		json_str(&p->b, r->reason, strlen(r->reason));
		buf_addf(&p->b, ",\"at\":\"%s\",\"fields\":", when);
		change_values(p, r, true);
		buf_addc(&p->b, '}');
	} else {
		utf8_clean(clean, sizeof(clean), r->reason, strlen(r->reason));
		buf_addf(&p->b, "%llu  %s %s  %s\n    refused: %s\n    change:  ",
			 (unsigned long long)r->ctr, r->tbl, r->id, when, clean);
		change_values(p, r, false);
		buf_addc(&p->b, '\n');
	}
	fwrite(p->b.p, 1, p->b.len, stdout);
	p->count++;
	return 0;
}

/* The refused change's number in argv[1] into *n; 0 or 1 (printed). */
static int rejected_number(const struct cli *c, const char *verb, uint64_t *n)
{
	char *end;

	if (c->argc < 2)
		return die("rejected %s: give the number of a refused change%s", verb,
			   strcmp(verb, "dismiss") ? "" : ", or --all");
	*n = strtoull(c->argv[1], &end, 10);
	if (*end || !*n || c->argv[1][0] == '-')
		return die("rejected %s: \"%s\" is not the number of a refused change",
			   verb, c->argv[1]);
	return no_more_args(c, 2, verb);
}

static int rejected_retry(struct cli *c, struct oc *oc)
{
	char done[OP_ERRLEN], err[OP_ERRLEN];
	uint64_t n;

	if (rejected_number(c, "retry", &n))
		return 1;
	if (oc_retry_rejected(oc, n, done, err))
		return die("rejected retry: %s", err);
	printf("%s (sync to send it)\n", done);
	return 0;
}

static int rejected_dismiss(struct cli *c, struct oc *oc)
{
	bool all = c->argc >= 2 && !strcmp(c->argv[1], "--all"), found = false;
	uint64_t n = 0;

	if (all ? no_more_args(c, 2, "rejected dismiss") : rejected_number(c, "dismiss", &n))
		return 1;
	if (db_rejected_drop(oc_db(oc), n, all, &found))
		return die("rejected dismiss: cannot update the replica");
	if (!found && !all)
		return die("rejected dismiss: no refused change numbered %llu", (unsigned long long)n);
	printf("dismissed %s\n", all ? "every refused change" : c->argv[1]);
	return 0;
}

int cmd_rejected(struct cli *c)
{
	struct rej_print p = { NULL, c->json, 0, BUF_INIT };
	int rc;

	if (c->argc >= 1 && strcmp(c->argv[0], "dismiss") && strcmp(c->argv[0], "retry"))
		return die("rejected: unknown argument \"%s\"; use rejected [--json], "
			   "rejected dismiss N|--all or rejected retry N", c->argv[0]);
	if ((rc = open_replica(c, &p.oc)))
		return rc;
	if (c->argc >= 1) {
		rc = strcmp(c->argv[0], "retry") ? rejected_dismiss(c, p.oc) :
			rejected_retry(c, p.oc);
		oc_close(p.oc);
		return rc;
	}
	rc = db_rejected_each(oc_db(p.oc), print_rejected, &p);
	if (p.json)
		puts(p.count ? "]" : "[]");
	else if (!p.count)
		puts("no refused changes");
	buf_release(&p.b);
	oc_close(p.oc);
	return rc ? die("rejected: cannot read the replica") : 0;
}
