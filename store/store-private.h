/* store-private.h — what the store's files share; not for other modules. */
#pragma once

#include "store/store.h"

struct store {
	sqlite3 *db;
	char *spool;     /* absolute spool folder */
	gboolean in_transaction;
};

/* Set *error from the database's last error, graded (BUSY → temporary). */
void store_set_error(store_t *store, GError **error, const char *what);

/* Prepare SQL; NULL with *error set on failure.  Caller finalizes
 * (g_autoptr(sqlite3_stmt)). */
sqlite3_stmt *store_prepare(store_t *store, const char *sql, GError **error);

/* Run a statement that returns no rows (SQLITE_DONE), then reset it. */
gboolean store_step_done(store_t *store, sqlite3_stmt *stmt, const char *what, GError **error);

/* Bind a string or NULL. */
void store_bind_text(sqlite3_stmt *stmt, int index, const char *text);

/* A column as a new string (NULL stays NULL). */
char *store_column_dup(sqlite3_stmt *stmt, int column);

/* A JSON array text ("[\"a\",\"b\"]") as a NULL-terminated string vector, and back. */
char **store_json_to_strv(const char *json);
char *store_strv_to_json(const char *const *strv);
