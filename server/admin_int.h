/*
 * admin_int.h - private to the administration commands (admin.h): admin.c
 * parses the command line, checks it against its table of subcommands and
 * opens the database; admin_user.c, admin_role.c and admin_device.c run
 * the subcommands; admin_out.c holds what they share (messages, the audit
 * row of a change, output built in memory and written at once).
 */
#ifndef OP_ADMIN_INT_H
#define OP_ADMIN_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "db.h"

/* The options, as bits of struct admin_args.given. */
enum admin_opt {
	AO_DB = 1u << 0,
	AO_ROLE = 1u << 1,
	AO_SUPERVISOR = 1u << 2,
	AO_FULL_NAME = 1u << 3,
	AO_JSON = 1u << 4,
	AO_USER = 1u << 5,
	AO_RECORD = 1u << 6,
	AO_LIMIT = 1u << 7,
	AO_NONE = 1u << 8,
	AO_HELP = 1u << 9,
	AO_REVOKE = 1u << 10,
};

#define ADMIN_POS_MAX 4       /* positional arguments kept (and counted) */
#define ADMIN_LIMIT_DEFAULT 100
#define ADMIN_LIMIT_MAX 100000

/* A checked command line; every string is borrowed from argv. */
struct admin_args {
	char what[32];                    /* "user add": names the command in messages */
	const char *pos[ADMIN_POS_MAX];   /* arguments after the subcommand */
	int npos;
	unsigned given;                   /* enum admin_opt bits */
	const char *db, *role, *supervisor, *full_name, *user, *record;
	unsigned limit;
	bool json, none, revoke;
};

/* A running subcommand: the database is open, the arguments are valid. */
struct admin {
	struct db *db;
	const struct admin_args *a;
};

/* Prints "outpostd WHAT: message" as one line on stderr; returns code. */
int admin_fail(const struct admin *ad, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* admin_fail(ad, 1, ...) for a failed storage call: "doing: why". */
int admin_db_fail(const struct admin *ad, int rc, const char *doing);

/* db_begin(); exit code 0, or 1 with a message. */
int admin_begin(struct admin *ad);
/*
 * Records a change: call after admin_begin() and the change itself (its
 * return code in rc). With rc OP_OK, appends the audit row (user "",
 * device "", addr "local", action, tbl, detail) and commits; otherwise,
 * or when that fails, rolls back. Returns the first failure.
 */
int admin_commit(struct admin *ad, int rc, const char *action, const char *tbl,
		 const char *detail);

/*
 * Output of a listing, built in memory so that a failure prints nothing
 * to stdout. The helpers do nothing once rc is set.
 */
struct admin_out {
	struct buf b;
	int rc;              /* first failure (OP_ENOMEM), sticky */
	bool json;           /* JSON rather than a text table */
	unsigned long count; /* rows so far, for the caller */
};

void admin_addf(struct admin_out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Appends s for a terminal (bad bytes as '?'), padded to width columns
 * and followed by two spaces; width 0 ends the line instead. */
void admin_col(struct admin_out *o, const char *s, int width);
/* JSON: a comma when one is due, then "key": (key may be NULL in an array)
 * and the value. */
void admin_jopen(struct admin_out *o, const char *key, char c);
void admin_jclose(struct admin_out *o, char c);
void admin_jstr(struct admin_out *o, const char *key, const char *v); /* NULL: null */
void admin_jnum(struct admin_out *o, const char *key, uint64_t v);
void admin_jbool(struct admin_out *o, const char *key, bool v);
/* Writes the output to stdout and releases it; returns the exit code. */
int admin_flush(const struct admin *ad, struct admin_out *o);

/* ms since the epoch as "YYYY-MM-DD HH:MM" in UTC; "-" for 0. */
void admin_time(char out[32], uint64_t ms);
/* Exit code 0 when the role (right) exists, else 1 with a message that
 * lists those there are. */
int admin_need_role(struct admin *ad, const char *role);
int admin_need_right(struct admin *ad, const char *right);

/* The subcommands; each returns the exit code (0, or 1 with a message). */
int admin_user_add(struct admin *ad);
int admin_user_list(struct admin *ad);
int admin_user_disable(struct admin *ad);
int admin_user_enable(struct admin *ad);
int admin_user_passwd(struct admin *ad);
int admin_user_set_role(struct admin *ad);
int admin_user_set_team(struct admin *ad);
int admin_role_list(struct admin *ad);
int admin_role_grant(struct admin *ad);
int admin_role_withdraw(struct admin *ad);
int admin_device_list(struct admin *ad);
int admin_device_revoke(struct admin *ad);
int admin_audit(struct admin *ad);

#endif
