/*
 * schema.c - the migration tables. Each version lists the SQL scripts that
 * take a database from version-1 to version; the scripts themselves are the
 * .sql files beside this one, embedded at build time.
 */
#include <stddef.h>

#include "schema.h"

extern const char sql_records[];
extern const char sql_server_001[];
extern const char sql_client_001[];
extern const char sql_server_002[];
extern const char sql_client_002[];

static const char *const server_v1[] = { sql_records, sql_server_001, NULL };
static const char *const client_v1[] = { sql_records, sql_client_001, NULL };
static const char *const server_v2[] = { sql_server_002, NULL };
static const char *const client_v2[] = { sql_client_002, NULL };

static const char *const *const server_migrations[] = { server_v1, server_v2 };
static const char *const *const client_migrations[] = { client_v1, client_v2 };

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

int schema_count(enum schema_kind kind)
{
	return kind == SCHEMA_SERVER ? COUNT(server_migrations) : COUNT(client_migrations);
}

const char *const *schema_migration(enum schema_kind kind, int version)
{
	if (version < 1 || version > schema_count(kind))
		return NULL;
	if (kind == SCHEMA_SERVER)
		return server_migrations[version - 1];
	return client_migrations[version - 1];
}
