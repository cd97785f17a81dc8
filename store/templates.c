/* templates.c — the wording of every reply ever drafted: each template
 * version (its file and the partials it used, by content hash) is kept the
 * first time a draft uses it, so `drafts show` and `templates history` can
 * show exactly what a reply came from, long after the files changed.  See
 * the "template versions" block of store.h. */
#include "store/store-private.h"

#include <string.h>

#define VERSION_COLUMNS "kind, language, hash, text, partials, first_used_at, last_used_at, uses"

void
store_template_version_free(store_template_version_t *v)
{
	if (v == NULL)
		return;
	g_free(v->kind);
	g_free(v->language);
	g_free(v->hash);
	g_free(v->text);
	g_free(v->partials);
	g_free(v->first_used_at);
	g_free(v->last_used_at);
	g_free(v);
}

static store_template_version_t *
version_from_row(sqlite3_stmt *stmt)
{
	store_template_version_t *v = g_new0(store_template_version_t, 1);

	v->kind = store_column_dup(stmt, 0);
	v->language = store_column_dup(stmt, 1);
	v->hash = store_column_dup(stmt, 2);
	v->text = store_column_dup(stmt, 3);
	v->partials = store_column_dup(stmt, 4);
	v->first_used_at = store_column_dup(stmt, 5);
	v->last_used_at = store_column_dup(stmt, 6);
	v->uses = (guint)sqlite3_column_int(stmt, 7);
	return v;
}

gboolean
store_template_version_use(store_t *store, const char *kind, const char *language, const char *hash,
                           const char *text, const char *partials, GError **error)
{
	g_autoptr(store_stmt_t) stmt = NULL;
	g_autofree char *now = pi_now_iso8601();

	g_return_val_if_fail(kind != NULL && language != NULL && hash != NULL && text != NULL,
	                     FALSE);
	stmt = store_prepare(
	    store,
	    "INSERT INTO template_versions (kind, language, hash, text, partials,"
	    " first_used_at, last_used_at, uses) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, 1)"
	    " ON CONFLICT (kind, language, hash) DO UPDATE SET"
	    " last_used_at = excluded.last_used_at, uses = uses + 1",
	    error);
	if (stmt == NULL)
		return FALSE;
	store_bind_text(stmt, 1, kind);
	store_bind_text(stmt, 2, language);
	store_bind_text(stmt, 3, hash);
	store_bind_text(stmt, 4, text);
	store_bind_text(stmt, 5, partials ? partials : "{}");
	store_bind_text(stmt, 6, now);
	return store_step_done(store, stmt, "recording a template version", error);
}

/* HASH is a prefix of hex digits (so LIKE needs no escaping). */
static gboolean
valid_prefix(const char *hash)
{
	gsize n = strlen(hash);

	if (n < 6 || n > 64)
		return FALSE;
	for (gsize i = 0; i < n; i++) {
		if (!g_ascii_isxdigit(hash[i]))
			return FALSE;
	}
	return TRUE;
}

store_template_version_t *
store_template_version_get(store_t *store, const char *kind, const char *language, const char *hash,
                           GError **error)
{
	g_autoptr(store_stmt_t) stmt = NULL;
	g_autoptr(store_template_version_t) found = NULL;
	g_autofree char *prefix = NULL;
	int rc;

	if (hash == NULL || !valid_prefix(hash)) {
		g_set_error(error, STORE_ERROR, PI_ERROR_NOT_FOUND,
		            "\"%s\" is not a template version (6 to 64 hex digits)",
		            hash ? hash : "");
		return NULL;
	}
	stmt = store_prepare(store,
	                     "SELECT " VERSION_COLUMNS " FROM template_versions WHERE kind = ?1"
	                     " AND (?2 IS NULL OR language = ?2) AND hash LIKE ?3"
	                     " ORDER BY first_used_at DESC, rowid DESC LIMIT 2",
	                     error);
	if (stmt == NULL)
		return NULL;
	prefix = g_strconcat(hash, "%", NULL);
	store_bind_text(stmt, 1, kind);
	store_bind_text(stmt, 2, language);
	store_bind_text(stmt, 3, prefix);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (found != NULL) {
			g_set_error(error, STORE_ERROR, PI_ERROR_REFUSED,
			            "template version %s of %s is ambiguous: give more digits",
			            hash, kind);
			return NULL;
		}
		found = version_from_row(stmt);
	}
	if (rc != SQLITE_DONE) {
		store_set_error(store, error, "reading a template version");
		return NULL;
	}
	if (found == NULL)
		g_set_error(error, STORE_ERROR, PI_ERROR_NOT_FOUND,
		            "no version %s of template %s%s%s was ever used", hash,
		            language ? language : "", language ? "/" : "", kind);
	return g_steal_pointer(&found);
}

GPtrArray *
store_template_versions(store_t *store, const char *kind, const char *language, GError **error)
{
	g_autoptr(store_stmt_t) stmt = store_prepare(
	    store,
	    "SELECT " VERSION_COLUMNS " FROM template_versions WHERE kind = ?1"
	    " AND (?2 IS NULL OR language = ?2) ORDER BY first_used_at DESC, rowid DESC",
	    error);
	g_autoptr(GPtrArray) versions =
	    g_ptr_array_new_with_free_func((GDestroyNotify)store_template_version_free);

	if (stmt == NULL)
		return NULL;
	store_bind_text(stmt, 1, kind);
	store_bind_text(stmt, 2, language);
	if (!store_collect(store, stmt, versions, (store_row_fn)version_from_row, "listing template versions",
	                   error))
		return NULL;
	return g_steal_pointer(&versions);
}
