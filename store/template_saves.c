/* template_saves.c — template and partial files saved through the web
 * console: every save is kept (name, SHA-256, text, who, when), so the
 * console can show a file's history and the text of any earlier save.  The
 * versions drafts were made from are in templates.c. */
#include "store/store-private.h"

void
store_template_save_free(store_template_save_t *save)
{
	if (save == NULL)
		return;
	g_free(save->name);
	g_free(save->sha256);
	g_free(save->text);
	g_free(save->saved_by);
	g_free(save->saved_at);
	g_free(save);
}

gboolean
store_template_save_add(store_t *store, const char *name, const char *sha256, const char *text,
                        const char *saved_by, GError **error)
{
	g_autoptr(store_stmt_t) stmt = NULL;
	g_autofree char *now = pi_now_iso8601();

	stmt = store_prepare(store,
	                     "INSERT INTO template_saves (name, sha256, text, saved_by, saved_at)"
	                     " VALUES (?1, ?2, ?3, ?4, ?5)",
	                     error);
	if (stmt == NULL)
		return FALSE;
	store_bind_text(stmt, 1, name);
	store_bind_text(stmt, 2, sha256);
	store_bind_text(stmt, 3, text);
	store_bind_text(stmt, 4, saved_by);
	store_bind_text(stmt, 5, now);
	return store_step_done(store, stmt, "recording a template save", error);
}

static store_template_save_t *
save_from_row(sqlite3_stmt *stmt)
{
	store_template_save_t *s = g_new0(store_template_save_t, 1);

	s->id = sqlite3_column_int64(stmt, 0);
	s->name = store_column_dup(stmt, 1);
	s->sha256 = store_column_dup(stmt, 2);
	s->text = store_column_dup(stmt, 3);
	s->saved_by = store_column_dup(stmt, 4);
	s->saved_at = store_column_dup(stmt, 5);
	return s;
}

GPtrArray *
store_template_saves(store_t *store, const char *name, guint limit, gboolean with_text,
                     GError **error)
{
	g_autoptr(store_stmt_t) stmt = store_prepare(
	    store,
	    "SELECT id, name, sha256, CASE WHEN ?3 THEN text END, saved_by, saved_at"
	    " FROM template_saves WHERE name = ?1 ORDER BY id DESC LIMIT ?2",
	    error);
	g_autoptr(GPtrArray) saves =
	    g_ptr_array_new_with_free_func((GDestroyNotify)store_template_save_free);

	if (stmt == NULL)
		return NULL;
	store_bind_text(stmt, 1, name);
	sqlite3_bind_int64(stmt, 2, limit ? (gint64)limit : -1);
	sqlite3_bind_int(stmt, 3, with_text);
	if (!store_collect(store, stmt, saves, (store_row_fn)save_from_row, "listing template saves",
	                   error))
		return NULL;
	return g_steal_pointer(&saves);
}

store_template_save_t *
store_template_save_get(store_t *store, gint64 id, GError **error)
{
	g_autoptr(store_stmt_t) stmt = store_prepare(
	    store, "SELECT id, name, sha256, text, saved_by, saved_at FROM template_saves WHERE id = ?1",
	    error);
	int rc;

	if (stmt == NULL)
		return NULL;
	sqlite3_bind_int64(stmt, 1, id);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		return save_from_row(stmt);
	if (rc != SQLITE_DONE)
		store_set_error(store, error, "reading a template save");
	else
		g_set_error(error, STORE_ERROR, PI_ERROR_NOT_FOUND,
		            "no saved template %" G_GINT64_FORMAT, id);
	return NULL;
}
