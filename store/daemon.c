/* daemon.c — what `privacy-inbox run` keeps about itself for `status` and
 * for its alerts: a small key/value state (last successful poll, connection
 * state, last error, server counts, token expiry) and the alert incidents
 * (one row per incident: opened, notified, resolved, recovery notified).
 * See the "daemon state and alerts" block of store.h. */
#include "store/store-private.h"

gboolean
store_daemon_set(store_t *store, const char *key, const char *value, GError **error)
{
	g_autoptr(store_stmt_t) stmt =
	    store_prepare(store,
	                  "INSERT INTO daemon_state (key, value, updated_at) VALUES (?, ?, ?) "
	                  "ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
	                  " updated_at = excluded.updated_at",
	                  error);
	g_autofree char *now = pi_now_iso8601();

	if (stmt == NULL)
		return FALSE;
	store_bind_text(stmt, 1, key);
	store_bind_text(stmt, 2, value);
	store_bind_text(stmt, 3, now);
	return store_step_done(store, stmt, "saving daemon state", error);
}

gboolean
store_daemon_set_many(store_t *store, const char *const *pairs, GError **error)
{
	if (!store_begin(store, error))
		return FALSE;
	for (const char *const *p = pairs; p[0] != NULL; p += 2) {
		if (!store_daemon_set(store, p[0], p[1], error)) {
			store_rollback(store);
			return FALSE;
		}
	}
	return store_commit(store, error);
}

GHashTable *
store_daemon_state(store_t *store, GError **error)
{
	g_autoptr(store_stmt_t) stmt =
	    store_prepare(store, "SELECT key, value FROM daemon_state", error);
	g_autoptr(GHashTable) state =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	int rc;

	if (stmt == NULL)
		return NULL;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		g_hash_table_insert(state, store_column_dup(stmt, 0), store_column_dup(stmt, 1));
	if (rc != SQLITE_DONE) {
		store_set_error(store, error, "reading daemon state");
		return NULL;
	}
	return g_steal_pointer(&state);
}

/* ---- alerts --------------------------------------------------------------- */

void
store_alert_free(store_alert_t *alert)
{
	if (alert == NULL)
		return;
	g_free(alert->kind);
	g_free(alert->detail);
	g_free(alert->opened_at);
	g_free(alert->notified_at);
	g_free(alert->resolved_at);
	g_free(alert);
}

gint64
store_alert_open(store_t *store, const char *kind, const char *detail, gboolean *created_out,
                 GError **error)
{
	g_autoptr(store_stmt_t) find = NULL;
	g_autoptr(store_stmt_t) insert = NULL;
	g_autofree char *now = pi_now_iso8601();
	gint64 id = 0;
	int rc;

	if (created_out != NULL)
		*created_out = FALSE;
	find = store_prepare(store, "SELECT id FROM alerts WHERE kind = ? AND resolved_at IS NULL",
	                     error);
	if (find == NULL)
		return 0;
	store_bind_text(find, 1, kind);
	rc = sqlite3_step(find);
	if (rc == SQLITE_ROW)
		return sqlite3_column_int64(find, 0);
	if (rc != SQLITE_DONE) {
		store_set_error(store, error, "reading alerts");
		return 0;
	}
	insert = store_prepare(
	    store, "INSERT INTO alerts (kind, detail, opened_at) VALUES (?, ?, ?)", error);
	if (insert == NULL)
		return 0;
	store_bind_text(insert, 1, kind);
	store_bind_text(insert, 2, detail);
	store_bind_text(insert, 3, now);
	if (!store_step_done(store, insert, "opening an alert", error))
		return 0;
	id = sqlite3_last_insert_rowid(store->db);
	if (created_out != NULL)
		*created_out = TRUE;
	return id;
}

gboolean
store_alert_resolve(store_t *store, const char *kind, gboolean *resolved_out, GError **error)
{
	/* An incident nobody was told about needs no recovery notice either. */
	g_autoptr(store_stmt_t) stmt =
	    store_prepare(store,
	                  "UPDATE alerts SET resolved_at = ?1,"
	                  " recovery_notified_at = CASE WHEN notified_at IS NULL THEN ?1 END"
	                  " WHERE kind = ?2 AND resolved_at IS NULL",
	                  error);
	g_autofree char *now = pi_now_iso8601();

	if (resolved_out != NULL)
		*resolved_out = FALSE;
	if (stmt == NULL)
		return FALSE;
	store_bind_text(stmt, 1, now);
	store_bind_text(stmt, 2, kind);
	if (!store_step_done(store, stmt, "resolving an alert", error))
		return FALSE;
	if (resolved_out != NULL)
		*resolved_out = sqlite3_changes(store->db) > 0;
	return TRUE;
}

static GPtrArray *
alerts_where(store_t *store, const char *where, GError **error)
{
	g_autofree char *sql = g_strdup_printf(
	    "SELECT id, kind, detail, opened_at, notified_at, resolved_at FROM alerts WHERE %s"
	    " ORDER BY id",
	    where);
	g_autoptr(store_stmt_t) stmt = store_prepare(store, sql, error);
	g_autoptr(GPtrArray) alerts =
	    g_ptr_array_new_with_free_func((GDestroyNotify)store_alert_free);
	int rc;

	if (stmt == NULL)
		return NULL;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		store_alert_t *a = g_new0(store_alert_t, 1);

		a->id = sqlite3_column_int64(stmt, 0);
		a->kind = store_column_dup(stmt, 1);
		a->detail = store_column_dup(stmt, 2);
		a->opened_at = store_column_dup(stmt, 3);
		a->notified_at = store_column_dup(stmt, 4);
		a->resolved_at = store_column_dup(stmt, 5);
		g_ptr_array_add(alerts, a);
	}
	if (rc != SQLITE_DONE) {
		store_set_error(store, error, "reading alerts");
		return NULL;
	}
	return g_steal_pointer(&alerts);
}

GPtrArray *
store_alerts_open(store_t *store, GError **error)
{
	return alerts_where(store, "resolved_at IS NULL", error);
}

GPtrArray *
store_alerts_unnotified(store_t *store, GError **error)
{
	return alerts_where(store,
	                    "(notified_at IS NULL AND resolved_at IS NULL) OR"
	                    " (notified_at IS NOT NULL AND resolved_at IS NOT NULL"
	                    "  AND recovery_notified_at IS NULL)",
	                    error);
}

gboolean
store_alert_notified(store_t *store, gint64 id, gboolean recovery, GError **error)
{
	g_autoptr(store_stmt_t) stmt =
	    store_prepare(store,
	                  recovery ? "UPDATE alerts SET recovery_notified_at = ? WHERE id = ?"
	                           : "UPDATE alerts SET notified_at = ? WHERE id = ?",
	                  error);
	g_autofree char *now = pi_now_iso8601();

	if (stmt == NULL)
		return FALSE;
	store_bind_text(stmt, 1, now);
	sqlite3_bind_int64(stmt, 2, id);
	return store_step_done(store, stmt, "recording an alert notice", error);
}

/* ---- what status shows ------------------------------------------------------ */

gboolean
store_outbox_summary(store_t *store, guint *count_out, char **oldest_out, GError **error)
{
	g_autoptr(store_stmt_t) stmt =
	    store_prepare(store,
	                  "SELECT count(*), min(coalesce(approved_at, created_at)) FROM drafts"
	                  " WHERE state = 'approved' OR (state = 'failed' AND retry = 1)",
	                  error);

	*count_out = 0;
	*oldest_out = NULL;
	if (stmt == NULL)
		return FALSE;
	if (sqlite3_step(stmt) != SQLITE_ROW) {
		store_set_error(store, error, "reading the outbox");
		return FALSE;
	}
	*count_out = (guint)sqlite3_column_int64(stmt, 0);
	*oldest_out = store_column_dup(stmt, 1);
	return TRUE;
}

gint64
store_mailbox_message_count(store_t *store, const char *mailbox, GError **error)
{
	g_autoptr(store_stmt_t) stmt = store_prepare(
	    store, "SELECT count(*) FROM messages WHERE direction = 'in' AND mailbox = ?", error);

	if (stmt == NULL)
		return -1;
	store_bind_text(stmt, 1, mailbox);
	if (sqlite3_step(stmt) != SQLITE_ROW) {
		store_set_error(store, error, "counting messages");
		return -1;
	}
	return sqlite3_column_int64(stmt, 0);
}
