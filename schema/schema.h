/*
 * schema.h - the SQL of the server database and the client replica, as
 * ordered forward migrations. Version N of a database is reached by running
 * migrations 1..N in order; the version is kept in PRAGMA user_version.
 */
#ifndef OP_SCHEMA_H
#define OP_SCHEMA_H

enum schema_kind { SCHEMA_SERVER, SCHEMA_CLIENT };

/*
 * Version of the synced table set (common/tbl.c), sent in the handshake as
 * "schema". It is not the database version: each kind of database has its
 * own count of migrations, kept in PRAGMA user_version.
 */
#define SCHEMA_VERSION 1

/* Number of migrations of a kind: the newest database version it knows. */
int schema_count(enum schema_kind kind);

/* SQL text of migration `version` (1-based) for `kind`, as an array of
 * statements-scripts to run in order, NULL-terminated; static storage. */
const char *const *schema_migration(enum schema_kind kind, int version);

#endif
