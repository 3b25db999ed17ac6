/*
 * cli.h - private to the `outpost` command-line program: what its source
 * files (cli.c, cli_account.c) share. Not part of the client library.
 */
#ifndef OP_CLI_H
#define OP_CLI_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "oc.h"

struct cli {
	char home[PATH_MAX];
	int argc;
	char **argv;      /* the arguments after the command words */
	bool json;
};

/* Prints "outpost: <message>" to stderr; returns the exit code 1. */
int die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Fails (exit code 1, message printed) if argv[from..] is not empty. */
int no_more_args(const struct cli *c, int from, const char *cmd);
/* Opens the replica of c->home; 0, or 1 with the message printed. */
int open_replica(const struct cli *c, struct oc **oc);
/* ms since the epoch as "YYYY-MM-DDTHH:MM:SSZ". */
void fmt_time(uint64_t ms, char *out, size_t cap);

/* cli_account.c */
int cmd_login(struct cli *c);
int cmd_logout(struct cli *c);
int cmd_rejected(struct cli *c);

#endif
