/*
 * admin.h - outpostd's administration commands for the central office,
 * run beside (or without) a live server on the same database file:
 *
 *   outpostd user add NAME --role ROLE [--supervisor NAME] [--full-name TEXT] --db PATH
 *   outpostd user list [--json] --db PATH
 *   outpostd user disable|enable NAME --db PATH
 *   outpostd user passwd NAME [--revoke-devices] --db PATH
 *   outpostd user set-role NAME ROLE --db PATH
 *   outpostd user set-team NAME SUPERVISOR|--none --db PATH
 *   outpostd role list [--json] --db PATH
 *   outpostd role grant|withdraw ROLE RIGHT --db PATH
 *   outpostd device list [--user NAME] [--json] --db PATH
 *   outpostd device revoke REPLICA --db PATH
 *   outpostd audit --db PATH [--user NAME] [--record ID] [--limit N] [--json]
 *
 * Passwords are read from stdin or a terminal prompt, never from argv.
 * Every change an administration command makes is written to the audit
 * log (device "", address "local").
 */
#ifndef OP_ADMIN_H
#define OP_ADMIN_H

#include <stdbool.h>

/* True if cmd (argv[1]) is one of the commands above. */
bool admin_is_command(const char *cmd);
/* Runs argv[1..] (argv[1] is the command); returns the exit code:
 * 0 success, 1 failure, 2 bad usage. Prints one clear line on error. */
int admin_main(int argc, char **argv);

#endif
