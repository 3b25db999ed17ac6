/*
 * db_int.h - private to the storage layer (common/db.c and the server's
 * server/users.c), not a public interface: lets another storage file keep
 * its own prepared statements in a connection's cache and share the
 * binding helpers. Nothing outside the storage layer includes sqlite3.h.
 */
#ifndef OP_DB_INT_H
#define OP_DB_INT_H

#include <sqlite3.h>
#include <stdint.h>

#include "db.h"

#define DB_EXT_SLOTS 48

/*
 * The statement for slot (0..DB_EXT_SLOTS), prepared from sql on first
 * use and kept until db_close(); NULL if it cannot be prepared. A slot
 * must always be used with the same sql.
 */
sqlite3_stmt *db_ext_stmt(struct db *db, int slot, const char *sql);

/* Resets s after use and returns rc. */
static inline int db_done(sqlite3_stmt *s, int rc)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc;
}

/* Runs a statement that returns no rows. */
static inline int db_step_done(sqlite3_stmt *s)
{
	return db_done(s, sqlite3_step(s) == SQLITE_DONE ? OP_OK : OP_EIO);
}

static inline int db_bind_text(sqlite3_stmt *s, int i, const char *v)
{
	return sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC) == SQLITE_OK ? 0 : -1;
}

static inline int db_bind_u64(sqlite3_stmt *s, int i, uint64_t v)
{
	return sqlite3_bind_int64(s, i, (sqlite3_int64)v) == SQLITE_OK ? 0 : -1;
}

#endif
