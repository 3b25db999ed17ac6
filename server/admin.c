/*
 * admin.c - outpostd's administration commands (see admin.h): parses the
 * command line against a table of subcommands, checks every argument
 * before anything is opened (bad usage: one line on stderr, exit 2,
 * nothing written), opens the server database (which applies its
 * migrations) and runs the subcommand from admin_user.c, admin_role.c or
 * admin_device.c. Called from server/main.c before the server's own
 * option parsing.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "admin_int.h"
#include "rid.h"
#include "users.h"
#include "val.h"

#define FULL_NAME_MAX 200

/*
 * A subcommand. args lists its positional arguments by kind: 'u' a user
 * name, 's' a supervisor's user name, 'r' a role, 'R' a right, 'd' a
 * device id or prefix. With AO_NONE allowed, --none replaces the last.
 */
struct subcmd {
	const char *cmd, *sub;
	const char *args;
	unsigned allowed, required;
	const char *usage;
	int (*run)(struct admin *ad);
};

static const struct subcmd subcmds[] = {
	{ "user", "add", "u", AO_ROLE | AO_SUPERVISOR | AO_FULL_NAME, AO_ROLE,
	  "user add NAME --role ROLE [--supervisor NAME] [--full-name TEXT] --db PATH",
	  admin_user_add },
	{ "user", "list", "", AO_JSON, 0, "user list [--json] --db PATH", admin_user_list },
	{ "user", "disable", "u", 0, 0, "user disable NAME --db PATH", admin_user_disable },
	{ "user", "enable", "u", 0, 0, "user enable NAME --db PATH", admin_user_enable },
	{ "user", "passwd", "u", AO_REVOKE, 0, "user passwd NAME [--revoke-devices] --db PATH",
	  admin_user_passwd },
	{ "user", "set-role", "ur", 0, 0, "user set-role NAME ROLE --db PATH",
	  admin_user_set_role },
	{ "user", "set-team", "us", AO_NONE, 0,
	  "user set-team NAME SUPERVISOR|--none --db PATH", admin_user_set_team },
	{ "role", "list", "", AO_JSON, 0, "role list [--json] --db PATH", admin_role_list },
	{ "role", "grant", "rR", 0, 0, "role grant ROLE RIGHT --db PATH", admin_role_grant },
	{ "role", "withdraw", "rR", 0, 0, "role withdraw ROLE RIGHT --db PATH",
	  admin_role_withdraw },
	{ "role", "revoke", "rR", 0, 0, "role revoke ROLE RIGHT --db PATH",
	  admin_role_withdraw },
	{ "device", "list", "", AO_USER | AO_JSON, 0,
	  "device list [--user NAME] [--json] --db PATH", admin_device_list },
	{ "device", "revoke", "d", 0, 0, "device revoke REPLICA --db PATH",
	  admin_device_revoke },
	{ "audit", NULL, "", AO_USER | AO_RECORD | AO_LIMIT | AO_JSON, 0,
	  "audit --db PATH [--user NAME] [--record ID] [--limit N] [--json]", admin_audit },
};

#define NSUBCMDS (sizeof(subcmds) / sizeof(subcmds[0]))

static const struct optdef {
	const char *name;
	unsigned bit;
	bool value;
} optdefs[] = {
	{ "--db", AO_DB, true },
	{ "--role", AO_ROLE, true },
	{ "--supervisor", AO_SUPERVISOR, true },
	{ "--full-name", AO_FULL_NAME, true },
	{ "--json", AO_JSON, false },
	{ "--user", AO_USER, true },
	{ "--record", AO_RECORD, true },
	{ "--limit", AO_LIMIT, true },
	{ "--none", AO_NONE, false },
	{ "--revoke-devices", AO_REVOKE, false },
	{ "--help", AO_HELP, false },
	{ "-h", AO_HELP, false },
};

#define NOPTDEFS (sizeof(optdefs) / sizeof(optdefs[0]))

bool admin_is_command(const char *cmd)
{
	size_t i;

	for (i = 0; cmd && i < NSUBCMDS; i++)
		if (!strcmp(cmd, subcmds[i].cmd))
			return true;
	return false;
}

static void usage(FILE *f)
{
	size_t i;

	for (i = 0; i < NSUBCMDS; i++)
		fprintf(f, "%s outpostd %s\n", i ? "      " : "usage:", subcmds[i].usage);
}

/* ---- parsing ----------------------------------------------------------- */

/* The command line while it is parsed; err holds the first problem. */
struct parse {
	struct admin_args *a;
	const char *sub;
	const char *limit;  /* --limit as given */
	char err[OP_ERRLEN];
};

static int bad(struct parse *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int bad(struct parse *p, const char *fmt, ...)
{
	va_list ap;

	if (!p->err[0]) {
		va_start(ap, fmt);
		vsnprintf(p->err, sizeof(p->err), fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* s made safe to quote in a message. */
static const char *shown(const char *s, char out[96])
{
	utf8_clean(out, 96, s, strlen(s));
	return out;
}

static const struct optdef *find_opt(const char *name)
{
	size_t i;

	for (i = 0; i < NOPTDEFS; i++)
		if (!strcmp(name, optdefs[i].name))
			return &optdefs[i];
	return NULL;
}

static void set_opt(struct parse *p, unsigned bit, const char *v)
{
	struct admin_args *a = p->a;

	switch (bit) {
	case AO_DB: a->db = v; break;
	case AO_ROLE: a->role = v; break;
	case AO_SUPERVISOR: a->supervisor = v; break;
	case AO_FULL_NAME: a->full_name = v; break;
	case AO_USER: a->user = v; break;
	case AO_RECORD: a->record = v; break;
	case AO_LIMIT: p->limit = v; break;
	case AO_JSON: a->json = true; break;
	case AO_NONE: a->none = true; break;
	case AO_REVOKE: a->revoke = true; break;
	default: break;
	}
}

/* Takes the option at argv[*i] (and its value); 0 or -1. */
static int take_opt(struct parse *p, int argc, char **argv, int *i)
{
	char q[96];
	const struct optdef *d = find_opt(argv[*i]);
	const char *v = NULL;

	if (!d)
		return bad(p, "unknown option %s", shown(argv[*i], q));
	if (p->a->given & d->bit)
		return bad(p, "%s is given twice", d->name);
	if (d->value) {
		if (*i + 1 >= argc || !strncmp(argv[*i + 1], "--", 2))
			return bad(p, "%s needs a value", d->name);
		v = argv[++*i];
	}
	p->a->given |= d->bit;
	set_opt(p, d->bit, v);
	return 0;
}

/* Splits argv[2..] into options and positional arguments; the first
 * positional is the subcommand unless cmd is "audit". */
static int split(struct parse *p, int argc, char **argv)
{
	bool want_sub = strcmp(argv[1], "audit") != 0;
	int i;

	for (i = 2; i < argc; i++) {
		if (argv[i][0] == '-' && argv[i][1]) {
			if (take_opt(p, argc, argv, &i))
				return -1;
		} else if (want_sub && !p->sub) {
			p->sub = argv[i];
		} else if (p->a->npos < ADMIN_POS_MAX) {
			p->a->pos[p->a->npos++] = argv[i];
		} else {
			return bad(p, "too many arguments");
		}
	}
	return 0;
}

/* ---- checking ---------------------------------------------------------- */

static const struct subcmd *find_sub(const char *cmd, const char *sub)
{
	size_t i;

	for (i = 0; i < NSUBCMDS; i++)
		if (!strcmp(cmd, subcmds[i].cmd) &&
		    (!subcmds[i].sub || (sub && !strcmp(sub, subcmds[i].sub))))
			return &subcmds[i];
	return NULL;
}

/* "add, list, ..." for cmd. */
static void sub_names(const char *cmd, char *out, size_t cap)
{
	size_t i, n = 0;

	out[0] = '\0';
	for (i = 0; i < NSUBCMDS && n < cap; i++)
		if (!strcmp(cmd, subcmds[i].cmd))
			n += (size_t)snprintf(out + n, cap - n, "%s%s", n ? ", " : "",
					      subcmds[i].sub);
}

static const char *opt_name(unsigned bit)
{
	size_t i;

	for (i = 0; i < NOPTDEFS; i++)
		if (optdefs[i].bit == bit)
			return optdefs[i].name;
	return "?";
}

/* Options given that c does not take. */
static int check_allowed(struct parse *p, const struct subcmd *c)
{
	unsigned extra = p->a->given & ~(c->allowed | AO_DB | AO_HELP);
	unsigned bit;

	for (bit = 1; extra; bit <<= 1)
		if (extra & bit)
			return bad(p, "unknown option %s; usage: outpostd %s",
				   opt_name(bit), c->usage);
	return 0;
}

static int check_count(struct parse *p, const struct subcmd *c)
{
	int want = (int)strlen(c->args);
	unsigned missing = c->required & ~p->a->given;
	char q[96];

	if (p->a->none)
		want--; /* --none stands for the last argument */
	if (p->a->npos > want)
		return bad(p, "unexpected argument \"%s\"; usage: outpostd %s",
			   shown(p->a->pos[want], q), c->usage);
	if (p->a->npos < want)
		return bad(p, "missing argument; usage: outpostd %s", c->usage);
	if (missing)
		return bad(p, "%s is required; usage: outpostd %s",
			   opt_name(missing & -missing), c->usage);
	if (!p->a->db)
		return bad(p, "--db is required; usage: outpostd %s", c->usage);
	return 0;
}

static int check_name(struct parse *p, const char *what, const char *s)
{
	char q[96];

	if (users_name_valid(s))
		return 0;
	return bad(p, "invalid %s \"%s\": use 1 to %d of a-z 0-9 . _ -, starting with a letter or digit",
		   what, shown(s, q), USERS_NAME_MAX);
}

static int check_replica(struct parse *p, const char *s)
{
	size_t i, n = strlen(s);
	char q[96];

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			break;
	if (i == n && n >= 4 && n <= RID_LEN)
		return 0;
	return bad(p, "invalid device \"%s\": give its replica id, or at least 4 of its first hex digits",
		   shown(s, q));
}

static int check_positional(struct parse *p, const struct subcmd *c)
{
	static const char *const what[] = { "user name", "supervisor name", "role name",
					    "right name" };
	int i;

	for (i = 0; i < p->a->npos; i++) {
		const char *k = strchr("usrR", c->args[i]);

		if (c->args[i] == 'd' && check_replica(p, p->a->pos[i]))
			return -1;
		if (k && check_name(p, what[k - "usrR"], p->a->pos[i]))
			return -1;
	}
	return 0;
}

/* No control characters (C0, DEL, C1) in valid UTF-8 text. */
static bool printable(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i;

	for (i = 0; u[i]; i++)
		if (u[i] < 0x20 || u[i] == 0x7f || (u[i] == 0xc2 && u[i + 1] >= 0x80 &&
						     u[i + 1] < 0xa0))
			return false;
	return utf8_valid(s, i);
}

static int check_limit(struct parse *p, const char *v)
{
	char *end;
	unsigned long n = strtoul(v, &end, 10);

	if (v[0] >= '0' && v[0] <= '9' && !*end && n >= 1 && n <= ADMIN_LIMIT_MAX) {
		p->a->limit = (unsigned)n;
		return 0;
	}
	return bad(p, "--limit must be a number from 1 to %d", ADMIN_LIMIT_MAX);
}

static int check_values(struct parse *p)
{
	struct admin_args *a = p->a;
	char q[96];

	if (a->role && check_name(p, "role name", a->role))
		return -1;
	if (a->supervisor && check_name(p, "supervisor name", a->supervisor))
		return -1;
	if (a->user && check_name(p, "user name", a->user))
		return -1;
	if (a->record && !rid_valid(a->record, strlen(a->record)))
		return bad(p, "invalid record id \"%s\": give all 32 hex digits",
			   shown(a->record, q));
	if (a->full_name && (strlen(a->full_name) > FULL_NAME_MAX || !printable(a->full_name)))
		return bad(p, "--full-name must be UTF-8 text of at most %d bytes without control characters",
			   FULL_NAME_MAX);
	a->limit = ADMIN_LIMIT_DEFAULT;
	return p->limit ? check_limit(p, p->limit) : 0;
}

/* ---- running ----------------------------------------------------------- */

/* Finds the subcommand of cmd and names it in a->what; 0 or -1. */
static int resolve(struct parse *p, const char *cmd, const struct subcmd **out)
{
	char names[128], q[96];

	snprintf(p->a->what, sizeof(p->a->what), "%s", cmd);
	if (!strcmp(cmd, "audit")) {
		*out = find_sub(cmd, NULL);
		return 0;
	}
	sub_names(cmd, names, sizeof(names));
	if (!p->sub)
		return bad(p, "missing subcommand (%s)", names);
	if (!(*out = find_sub(cmd, p->sub)))
		return bad(p, "unknown subcommand \"%s\" (%s)", shown(p->sub, q), names);
	snprintf(p->a->what, sizeof(p->a->what), "%s %s", cmd, p->sub);
	return 0;
}

/*
 * Parses and checks argv into a and *c. Returns 2 after printing a usage
 * error; 0 with *c NULL after printing the help; 0 with *c set to run.
 */
static int parse_args(int argc, char **argv, struct admin_args *a,
		      const struct subcmd **c)
{
	struct parse p;

	memset(&p, 0, sizeof(p));
	p.a = a;
	*c = NULL;
	if (!split(&p, argc, argv) && (a->given & AO_HELP)) {
		usage(stdout);
		return 0;
	}
	if (!resolve(&p, argv[1], c) && !p.err[0] &&
	    !check_allowed(&p, *c) && !check_count(&p, *c) && !check_positional(&p, *c))
		check_values(&p);
	if (!p.err[0])
		return 0;
	*c = NULL;
	fprintf(stderr, "outpostd %s: %s\n", a->what, p.err);
	return 2;
}

int admin_main(int argc, char **argv)
{
	struct admin_args a;
	struct admin ad = { NULL, &a };
	const struct subcmd *c;
	char err[OP_ERRLEN];
	int code;

	if (argc < 2 || !admin_is_command(argv[1])) {
		usage(stderr);
		return 2;
	}
	memset(&a, 0, sizeof(a));
	if ((code = parse_args(argc, argv, &a, &c)) || !c)
		return code;
	if (db_open(a.db, SCHEMA_SERVER, &ad.db, err)) {
		fprintf(stderr, "outpostd %s: %s\n", a.what, err);
		return 1;
	}
	code = c->run(&ad);
	db_close(ad.db);
	return code;
}
