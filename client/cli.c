/*
 * cli.c - `outpost`, the command-line client. Every table that clients may
 * write gets the same verbs (add, edit, delete, list, show) with one
 * --FIELD option per field of its description in common/tbl.c.
 *
 *   outpost [--home DIR] init --server wss://HOST:PORT [--ca FILE]
 *   outpost [--home DIR] login --user NAME | logout
 *   outpost [--home DIR] TABLE add|edit|delete|list|show ...
 *   outpost [--home DIR] sync|status|conflicts|rejected [--json]
 *
 * The login, logout and rejected commands are in cli_account.c.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "conn.h"
#include "hlc.h"
#include "json.h"
#include "oc.h"
#include "out.h"

#define VERSION "0.1.0"

int die(const char *fmt, ...)
{
	va_list ap;

	fputs("outpost: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static void usage(FILE *f)
{
	int i;

	fputs("usage: outpost [--home DIR] COMMAND [ARGS]\n\n"
	      "  init --server wss://HOST:PORT [--ca FILE]   set up this device's replica\n"
	      "  login --user NAME    log in (password from stdin or a prompt); once per device\n"
	      "  logout               revoke this device's token on the server and forget it\n", f);
	for (i = 0; tbl_at(i); i++) {
		const struct tbl_desc *t = tbl_at(i);

		if (t->server_only)
			continue;
		fprintf(f, "  %s add --%s VALUE [--FIELD VALUE ...]   prints the new id\n",
			t->name, t->fields[t->label].name);
		fprintf(f, "  %s edit ID --FIELD VALUE ...  |  %s delete ID\n", t->name, t->name);
		fprintf(f, "  %s list [--json]%s  |  %s show ID [--json]\n", t->name,
			strcmp(t->name, "contact") ? "" : " [--customer ID]", t->name);
		fprintf(f, "      fields:");
		for (int k = 0; k < t->nfields; k++)
			fprintf(f, " %s", t->fields[k].name);
		fputc('\n', f);
	}
	fputs("  sync [--json]        push local changes, then pull the server's\n"
	      "  status [--json]      pending changes, last sync, cursor\n"
	      "  conflicts [--json]   values that lost a conflict, kept for review\n"
	      "  conflicts reverse ID put the losing value back (or delete again)\n"
	      "  rejected [--json]    changes the server refused, with the reason\n"
	      "  rejected dismiss N|--all   forget refused changes once dealt with\n"
	      "  rejected retry N     write a refused change again (after a right was granted)\n\n"
	      "The replica lives in --home DIR, else $OUTPOST_HOME, else ~/.outpost.\n", f);
}

/* ---- options ----------------------------------------------------------- */

/* Removes --json from argv, noting it. */
static void take_json(struct cli *c)
{
	int i, j = 0;

	for (i = 0; i < c->argc; i++) {
		if (!strcmp(c->argv[i], "--json"))
			c->json = true;
		else
			c->argv[j++] = c->argv[i];
	}
	c->argc = j;
}

int no_more_args(const struct cli *c, int from, const char *cmd)
{
	if (from < c->argc)
		return die("%s: unexpected argument \"%s\"", cmd, c->argv[from]);
	return 0;
}

int open_replica(const struct cli *c, struct oc **oc)
{
	char err[OP_ERRLEN];

	if (oc_open(c->home, false, oc, err))
		return die("%s", err);
	return 0;
}

/* ---- init -------------------------------------------------------------- */

static int cmd_init(struct cli *c)
{
	const char *server = NULL, *ca = "";
	char err[OP_ERRLEN], ca_abs[PATH_MAX], host[256], path[256];
	struct oc *oc;
	int i, port, rc;
	bool tls;

	for (i = 0; i < c->argc; i++) {
		const char *v = i + 1 < c->argc ? c->argv[i + 1] : NULL;

		if (!strcmp(c->argv[i], "--server") && v)
			server = c->argv[++i];
		else if (!strcmp(c->argv[i], "--ca") && v)
			ca = c->argv[++i];
		else
			return die("init: unknown or incomplete option \"%s\"; use --server URL [--ca FILE]",
				   c->argv[i]);
	}
	if (!server)
		return die("init: --server wss://HOST:PORT is required");
	if (conn_parse_url(server, host, &port, path, &tls, err))
		return die("init: %s", err);
	if (!tls)
		fprintf(stderr, "outpost: warning: %s is not encrypted; use it only with a "
			"development server\n", server);
	if (ca[0] && !realpath(ca, ca_abs))
		return die("init: cannot read the CA file %s", ca);
	if (oc_open(c->home, true, &oc, err))
		return die("%s", err);
	rc = oc_set_server(oc, server, ca[0] ? ca_abs : "", err);
	if (!rc)
		printf("initialized replica %s in %s for %s\n", oc_replica(oc), c->home, server);
	oc_close(oc);
	return rc ? die("init: %s", err) : 0;
}

/* ---- records ----------------------------------------------------------- */

/* Parses --FIELD VALUE pairs from argv[from..] into idx/vals. */
static int parse_fields(const struct cli *c, const struct tbl_desc *t, int from,
			int *idx, struct val *vals, int *nf)
{
	char err[OP_ERRLEN];
	int i, k;

	*nf = 0;
	for (i = from; i < c->argc; i += 2) {
		const char *a = c->argv[i];

		if (strncmp(a, "--", 2) || (k = tbl_field(t, a + 2, strlen(a + 2))) < 0)
			return die("%s: unknown option \"%s\"; the fields are listed by outpost --help",
				   t->name, a);
		if (i + 1 >= c->argc || (!strncmp(c->argv[i + 1], "--", 2) &&
					  tbl_field(t, c->argv[i + 1] + 2, strlen(c->argv[i + 1] + 2)) >= 0))
			return die("%s: %s needs a value", t->name, a);
		for (int j = 0; j < *nf; j++)
			if (idx[j] == k)
				return die("%s: %s is given twice", t->name, a);
		if (t->fields[k].type != FLD_REF &&
		    tbl_parse(&t->fields[k], c->argv[i + 1], &vals[*nf], err))
			return die("%s: %s", t->name, err);
		if (t->fields[k].type == FLD_REF &&
		    val_set_text(&vals[*nf], c->argv[i + 1], strlen(c->argv[i + 1])))
			return die("out of memory");
		idx[(*nf)++] = k;
	}
	return 0;
}

/* A new record of a table with an owner belongs to the logged-in user
 * unless --owner says otherwise. */
static int default_owner(struct oc *oc, const struct tbl_desc *t, int *idx,
			 struct val *vals, int *nf)
{
	struct oc_status st;
	int i;

	if (t->owner < 0 || oc_status(oc, &st) || !st.user[0])
		return 0;
	for (i = 0; i < *nf; i++)
		if (idx[i] == t->owner)
			return 0;
	if (val_set_text(&vals[*nf], st.user, strlen(st.user)))
		return die("out of memory");
	idx[(*nf)++] = t->owner;
	return 0;
}

static int rec_write(struct cli *c, const struct tbl_desc *t, const char *id)
{
	struct val vals[TBL_MAX_FIELDS];
	int idx[TBL_MAX_FIELDS], nf = 0, i, rc;
	char err[OP_ERRLEN], new_id[RID_LEN + 1];
	struct oc *oc;

	memset(vals, 0, sizeof(vals));
	if ((rc = open_replica(c, &oc)))
		return rc;
	rc = parse_fields(c, t, id ? 1 : 0, idx, vals, &nf);
	if (!rc && !id)
		rc = default_owner(oc, t, idx, vals, &nf);
	if (!rc && oc_put(oc, t, id, idx, vals, nf, new_id, err))
		rc = die("%s %s: %s", t->name, id ? "edit" : "add", err);
	if (!rc && id)
		printf("%s %s updated\n", t->name, new_id);
	else if (!rc)
		printf("%s\n", new_id);
	for (i = 0; i < TBL_MAX_FIELDS; i++)
		val_release(&vals[i]);
	oc_close(oc);
	return rc;
}

typedef int (*rec_action)(struct cli *c, struct oc *oc, const struct rec *r);

/* Runs fn on the record named by the one argument of `TABLE VERB ID`. */
static int with_record(struct cli *c, const struct tbl_desc *t, const char *verb,
		       rec_action fn)
{
	char err[OP_ERRLEN];
	struct rec *r = NULL;
	struct oc *oc;
	int rc;

	if (c->argc < 1)
		return die("%s %s: give the id of the %s", t->name, verb, t->name);
	if ((rc = no_more_args(c, 1, verb)) || (rc = open_replica(c, &oc)))
		return rc;
	if (oc_get(oc, t, c->argv[0], &r, err))
		rc = die("%s %s: %s", t->name, verb, err);
	else
		rc = fn(c, oc, r);
	rec_free(r);
	oc_close(oc);
	return rc;
}

static int do_delete(struct cli *c, struct oc *oc, const struct rec *r)
{
	char err[OP_ERRLEN];
	size_t n;

	(void)c;
	if (oc_delete(oc, r->t, r->id, &n, err))
		return die("%s delete: %s", r->t->name, err);
	if (n)
		printf("%s %s deleted, with %zu record%s that belonged to it\n", r->t->name,
		       r->id, n, n == 1 ? "" : "s");
	else
		printf("%s %s deleted\n", r->t->name, r->id);
	return 0;
}

static int do_show(struct cli *c, struct oc *oc, const struct rec *r)
{
	(void)oc;
	out_show(stdout, c->json, r);
	return 0;
}

/* `list`, with an optional --REFFIELD ID filter (contact list --customer). */
static int rec_list(struct cli *c, const struct tbl_desc *t)
{
	char err[OP_ERRLEN];
	struct rec *ref = NULL;
	struct out out;
	struct oc *oc;
	int rc, field = -1;

	if (c->argc >= 1) {
		const char *a = c->argv[0];

		field = strncmp(a, "--", 2) ? -1 : tbl_field(t, a + 2, strlen(a + 2));
		if (field < 0 || t->fields[field].type != FLD_REF || c->argc < 2)
			return die("%s list: unknown or incomplete option \"%s\"", t->name, a);
		if ((rc = no_more_args(c, 2, "list")))
			return rc;
	}
	if ((rc = open_replica(c, &oc)))
		return rc;
	if (field >= 0 && oc_get(oc, tbl_find(t->fields[field].ref, strlen(t->fields[field].ref)),
				 c->argv[1], &ref, err)) {
		oc_close(oc);
		return die("%s list: %s", t->name, err);
	}
	out_begin(&out, stdout, c->json, t);
	rc = db_rec_list(oc_db(oc), t, field, ref ? ref->id : NULL, out_rec, &out);
	out_end(&out);
	rec_free(ref);
	oc_close(oc);
	return rc ? die("%s list: cannot read the replica", t->name) : 0;
}

static int cmd_table(struct cli *c, const struct tbl_desc *t, const char *verb)
{
	if (!strcmp(verb, "add"))
		return rec_write(c, t, NULL);
	if (!strcmp(verb, "edit")) {
		if (c->argc < 1 || !strncmp(c->argv[0], "--", 2))
			return die("%s edit: give the id of the %s first", t->name, t->name);
		return rec_write(c, t, c->argv[0]);
	}
	if (!strcmp(verb, "delete"))
		return with_record(c, t, verb, do_delete);
	if (!strcmp(verb, "list"))
		return rec_list(c, t);
	if (!strcmp(verb, "show"))
		return with_record(c, t, verb, do_show);
	return die("%s: unknown command \"%s\"; use add, edit, delete, list or show", t->name, verb);
}

/* ---- sync, status, conflicts ------------------------------------------- */

struct progress {
	bool tty;
	uint64_t start_ms;
	bool shown;
};

static void show_progress(void *ctx, const struct sync_stats *st)
{
	struct progress *p = ctx;

	if (!p->tty || hlc_wall_ms() - p->start_ms < 1000)
		return;
	fprintf(stderr, "\rsyncing: pushed %llu/%llu changes, pulled %llu records   ",
		(unsigned long long)st->acked, (unsigned long long)st->pending,
		(unsigned long long)st->pulled);
	p->shown = true;
}

static void print_sync(const struct sync_stats *st, const char *server, double secs,
		       bool json)
{
	if (json) {
		printf("{\"server\":");
		struct buf b = BUF_INIT;
		json_str(&b, server, strlen(server));
		printf("%s,\"pushed\":%llu,\"acknowledged\":%llu,\"duplicates\":%llu,"
		       "\"conflicts\":%llu,\"rejected\":%llu,\"pulled\":%llu,\"dropped\":%llu,"
		       "\"cursor\":%llu,\"seconds\":%.3f}\n",
		       b.p, (unsigned long long)st->pushed, (unsigned long long)st->acked,
		       (unsigned long long)st->dup, (unsigned long long)st->conflicts,
		       (unsigned long long)st->rejected, (unsigned long long)st->pulled,
		       (unsigned long long)st->gone, (unsigned long long)st->cursor, secs);
		buf_release(&b);
		return;
	}
	printf("pushed %llu change%s (%llu already on the server, %llu new conflict%s); "
	       "pulled %llu record%s; cursor %llu; up to date (%.1f s)\n",
	       (unsigned long long)st->acked, st->acked == 1 ? "" : "s",
	       (unsigned long long)st->dup, (unsigned long long)st->conflicts,
	       st->conflicts == 1 ? "" : "s", (unsigned long long)st->pulled,
	       st->pulled == 1 ? "" : "s", (unsigned long long)st->cursor, secs);
	if (st->gone)
		printf("dropped %llu record%s no longer in your scope\n",
		       (unsigned long long)st->gone, st->gone == 1 ? "" : "s");
	if (st->rejected)
		printf("the server refused %llu change%s; see outpost rejected\n",
		       (unsigned long long)st->rejected, st->rejected == 1 ? "" : "s");
}

static int cmd_sync(struct cli *c)
{
	struct progress p = { isatty(2), hlc_wall_ms(), false };
	struct conn_opts o = { CONN_SYNC, NULL, NULL, NULL, NULL, 30, show_progress, &p };
	struct oc_status status;
	struct sync_stats st;
	char err[OP_ERRLEN];
	struct oc *oc;
	int rc;

	if ((rc = no_more_args(c, 0, "sync")) || (rc = open_replica(c, &oc)))
		return rc;
	if (oc_status(oc, &status) || !status.server[0]) {
		oc_close(oc);
		return die("sync: no server is set; run: outpost init --server wss://HOST:PORT");
	}
	o.url = status.server;
	o.ca = status.ca;
	memset(&st, 0, sizeof(st));
	if (status.token_expired)
		rc = op_fail(err, OP_EDENIED, "the token has expired; log in again: outpost login --user %s",
			     status.user);
	else if (!status.logged_in)
		rc = op_fail(err, OP_EDENIED, "not logged in: run outpost login --user NAME");
	else
		rc = conn_sync(oc, &o, &st, err);
	if (p.shown)
		fputs("\r\033[K", stderr);
	if (rc) {
		uint64_t left = 0;

		db_outbox_count(oc_db(oc), &left);
		rc = die("sync failed: %s (%llu local change%s kept%s)", err,
			 (unsigned long long)left, left == 1 ? " is" : "s are",
			 rc == OP_EIO ? "; run outpost sync again" : "");
	} else
		print_sync(&st, status.server, (double)(hlc_wall_ms() - p.start_ms) / 1000.0,
			   c->json);
	oc_close(oc);
	return rc;
}

void fmt_time(uint64_t ms, char *out, size_t cap)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void print_status_json(const struct oc_status *s)
{
	struct buf b = BUF_INIT;
	char when[32];

	buf_adds(&b, "{\"replica\":");
	json_str(&b, s->replica, strlen(s->replica));
	buf_adds(&b, ",\"server\":");
	json_str(&b, s->server, strlen(s->server));
	buf_adds(&b, ",\"user\":");
	if (s->user[0])
		json_str(&b, s->user, strlen(s->user));
	else
		buf_adds(&b, "null");
	buf_adds(&b, ",\"role\":");
	if (s->role[0])
		json_str(&b, s->role, strlen(s->role));
	else
		buf_adds(&b, "null");
	buf_addf(&b, ",\"logged_in\":%s,\"pending\":%llu,\"cursor\":%llu,\"conflicts\":%llu,"
		 "\"rejected\":%llu,\"last_sync\":", s->logged_in ? "true" : "false",
		 (unsigned long long)s->pending, (unsigned long long)s->cursor,
		 (unsigned long long)s->conflicts, (unsigned long long)s->rejected);
	if (s->last_sync_ms) {
		fmt_time(s->last_sync_ms, when, sizeof(when));
		json_str(&b, when, strlen(when));
	} else {
		buf_adds(&b, "null");
	}
	buf_adds(&b, ",\"token_expires\":");
	if (s->logged_in && s->token_expires_ms) {
		fmt_time(s->token_expires_ms, when, sizeof(when));
		json_str(&b, when, strlen(when));
	} else {
		buf_adds(&b, "null");
	}
	buf_adds(&b, ",\"last_error\":");
	if (s->last_error[0])
		json_str(&b, s->last_error, strlen(s->last_error));
	else
		buf_adds(&b, "null");
	printf("%s}\n", b.p);
	buf_release(&b);
}

static int cmd_status(struct cli *c)
{
	struct oc_status s;
	struct oc *oc;
	char when[32] = "never";
	int rc;

	if ((rc = no_more_args(c, 0, "status")) || (rc = open_replica(c, &oc)))
		return rc;
	rc = oc_status(oc, &s);
	oc_close(oc);
	if (rc)
		return die("status: cannot read the replica");
	if (c->json) {
		print_status_json(&s);
		return 0;
	}
	if (s.last_sync_ms)
		fmt_time(s.last_sync_ms, when, sizeof(when));
	printf("replica:    %s\nserver:     %s\nuser:       %s%s%s%s\n"
	       "pending:    %llu change%s waiting to be pushed\n"
	       "last sync:  %s\ncursor:     %llu\nconflicts:  %llu\nrejected:   %llu%s\n",
	       s.replica, s.server[0] ? s.server : "(none)",
	       s.user[0] ? s.user : "(not logged in)", s.role[0] ? " (" : "", s.role,
	       s.role[0] ? (s.logged_in ? ")" : "; logged out)") : "",
	       (unsigned long long)s.pending,
	       s.pending == 1 ? "" : "s", when, (unsigned long long)s.cursor,
	       (unsigned long long)s.conflicts, (unsigned long long)s.rejected,
	       s.rejected ? " change(s) refused by the server; see outpost rejected" : "");
	if (s.last_error[0])
		printf("last error: %s\n", s.last_error);
	return 0;
}

static int cmd_reverse(struct cli *c)
{
	char err[OP_ERRLEN], done[OP_ERRLEN];
	struct oc *oc;
	int rc;

	if (c->argc < 2)
		return die("conflicts reverse: give the id of the conflict");
	if ((rc = no_more_args(c, 2, "conflicts reverse")) || (rc = open_replica(c, &oc)))
		return rc;
	if (oc_reverse_conflict(oc, c->argv[1], done, err))
		rc = die("conflicts reverse: %s", err);
	else
		printf("%s (sync to share it)\n", done);
	oc_close(oc);
	return rc;
}

static int cmd_conflicts(struct cli *c)
{
	const struct tbl_desc *t = tbl_find("conflict", 8);
	struct out out;
	struct oc *oc;
	int rc;

	if (c->argc >= 1 && !strcmp(c->argv[0], "reverse"))
		return cmd_reverse(c);
	if ((rc = no_more_args(c, 0, "conflicts")) || (rc = open_replica(c, &oc)))
		return rc;
	out_begin(&out, stdout, c->json, t);
	rc = db_rec_list(oc_db(oc), t, -1, NULL, out_rec, &out);
	out_end(&out);
	oc_close(oc);
	return rc ? die("conflicts: cannot read the replica") : 0;
}

/* ---- main -------------------------------------------------------------- */

/* Finds --home DIR anywhere, removes it, and settles the home directory. */
static int take_home(int *argc, char **argv, char *home)
{
	const char *dir = NULL, *env = getenv("OUTPOST_HOME"), *h = getenv("HOME");
	int i, j = 1;

	for (i = 1; i < *argc; i++) {
		if (!strcmp(argv[i], "--home")) {
			if (i + 1 >= *argc)
				return die("--home needs a directory");
			dir = argv[++i];
		} else {
			argv[j++] = argv[i];
		}
	}
	*argc = j;
	if (!dir && env && env[0])
		dir = env;
	if (dir) {
		if (strlen(dir) >= PATH_MAX - 32)
			return die("the home directory path is too long");
		snprintf(home, PATH_MAX, "%s", dir);
		return 0;
	}
	if (!h || !h[0])
		return die("set --home DIR or OUTPOST_HOME: there is no $HOME");
	if (snprintf(home, PATH_MAX, "%s/.outpost", h) >= PATH_MAX - 32)
		return die("the home directory path is too long");
	return 0;
}

static int dispatch(struct cli *c, const char *cmd)
{
	const struct tbl_desc *t = tbl_find(cmd, strlen(cmd));

	if (!strcmp(cmd, "init"))
		return cmd_init(c);
	if (!strcmp(cmd, "sync"))
		return cmd_sync(c);
	if (!strcmp(cmd, "status"))
		return cmd_status(c);
	if (!strcmp(cmd, "conflicts"))
		return cmd_conflicts(c);
	if (!strcmp(cmd, "login"))
		return cmd_login(c);
	if (!strcmp(cmd, "logout"))
		return cmd_logout(c);
	if (!strcmp(cmd, "rejected"))
		return cmd_rejected(c);
	if (t && !t->server_only) {
		if (c->argc < 1)
			return die("%s: give a command: add, edit, delete, list or show", cmd);
		c->argc--;
		return cmd_table(c, t, *c->argv++);
	}
	return die("unknown command \"%s\"; see outpost --help", cmd);
}

int main(int argc, char **argv)
{
	struct cli c;

	memset(&c, 0, sizeof(c));
	umask(077); /* the replica holds the device token: this user's only */
	if (take_home(&argc, argv, c.home))
		return 2;
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("outpost %s\n", VERSION);
		return 0;
	}
	c.argc = argc - 2;
	c.argv = argv + 2;
	take_json(&c);
	return dispatch(&c, argv[1]);
}
