/* messages.c — the mailbox checkpoint, pending server updates, messages
 * and their attachments. */
#include "store/store-private.h"

gboolean
store_mailbox_get(store_t *store, const char *mailbox, guint32 *uidvalidity_out,
                  guint32 *last_uid_out, GError **error)
{
	g_autoptr(store_stmt_t) stmt =
	    store_prepare(store, "SELECT uidvalidity, last_uid FROM mailboxes WHERE name = ?", error);
	int rc;

	*uidvalidity_out = 0;
	*last_uid_out = 0;
	if (stmt == NULL)
		return FALSE;
	store_bind_text(stmt, 1, mailbox);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		*uidvalidity_out = (guint32)sqlite3_column_int64(stmt, 0);
		*last_uid_out = (guint32)sqlite3_column_int64(stmt, 1);
	} else if (rc != SQLITE_DONE) {
		store_set_error(store, error, "reading the mailbox checkpoint");
		return FALSE;
	}
	return TRUE;
}

gboolean
store_mailbox_set(store_t *store, const char *mailbox, guint32 uidvalidity, guint32 last_uid,
                  GError **error)
{
	g_autoptr(store_stmt_t) stmt = store_prepare(
	    store,
	    "INSERT INTO mailboxes (name, uidvalidity, last_uid, updated_at) VALUES (?, ?, ?, ?) "
	    "ON CONFLICT (name) DO UPDATE SET uidvalidity = excluded.uidvalidity,"
	    " last_uid = excluded.last_uid, updated_at = excluded.updated_at",
	    error);
	g_autofree char *now = pi_now_iso8601();

	if (stmt == NULL)
		return FALSE;
	store_bind_text(stmt, 1, mailbox);
	sqlite3_bind_int64(stmt, 2, uidvalidity);
	sqlite3_bind_int64(stmt, 3, last_uid);
	store_bind_text(stmt, 4, now);
	return store_step_done(store, stmt, "saving the mailbox checkpoint", error);
}

GArray *
store_server_pending(store_t *store, const char *mailbox, guint32 uidvalidity, GError **error)
{
	g_autoptr(store_stmt_t) stmt = store_prepare(
	    store,
	    "SELECT uid FROM server_pending WHERE mailbox = ? AND uidvalidity = ? ORDER BY uid",
	    error);
	g_autoptr(GArray) uids = g_array_new(FALSE, FALSE, sizeof(guint32));
	int rc;

	if (stmt == NULL)
		return NULL;
	store_bind_text(stmt, 1, mailbox);
	sqlite3_bind_int64(stmt, 2, uidvalidity);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		guint32 uid = (guint32)sqlite3_column_int64(stmt, 0);
		g_array_append_val(uids, uid);
	}
	if (rc != SQLITE_DONE) {
		store_set_error(store, error, "reading pending server updates");
		return NULL;
	}
	return g_steal_pointer(&uids);
}

gboolean
store_server_pending_add(store_t *store, const char *mailbox, guint32 uidvalidity, guint32 uid,
                         GError **error)
{
	g_autoptr(store_stmt_t) stmt = store_prepare(
	    store,
	    "INSERT OR IGNORE INTO server_pending (mailbox, uidvalidity, uid) VALUES (?, ?, ?)",
	    error);

	if (stmt == NULL)
		return FALSE;
	store_bind_text(stmt, 1, mailbox);
	sqlite3_bind_int64(stmt, 2, uidvalidity);
	sqlite3_bind_int64(stmt, 3, uid);
	return store_step_done(store, stmt, "recording a pending server update", error);
}

gboolean
store_server_pending_done(store_t *store, const char *mailbox, guint32 uidvalidity,
                          const guint32 *uids, guint n, GError **error)
{
	g_autoptr(store_stmt_t) stmt = store_prepare(
	    store, "DELETE FROM server_pending WHERE mailbox = ? AND uidvalidity = ? AND uid = ?",
	    error);

	if (stmt == NULL || !store_begin(store, error))
		return FALSE;
	store_bind_text(stmt, 1, mailbox);
	sqlite3_bind_int64(stmt, 2, uidvalidity);
	for (guint i = 0; i < n; i++) {
		sqlite3_bind_int64(stmt, 3, uids[i]);
		if (!store_step_done(store, stmt, "clearing a pending server update", error)) {
			store_rollback(store);
			return FALSE;
		}
	}
	return store_commit(store, error);
}

gboolean
store_server_pending_drop_other(store_t *store, const char *mailbox, guint32 uidvalidity,
                                GError **error)
{
	g_autoptr(store_stmt_t) stmt = store_prepare(
	    store, "DELETE FROM server_pending WHERE mailbox = ? AND uidvalidity != ?", error);

	if (stmt == NULL)
		return FALSE;
	store_bind_text(stmt, 1, mailbox);
	sqlite3_bind_int64(stmt, 2, uidvalidity);
	return store_step_done(store, stmt, "dropping stale server updates", error);
}

/* Run STMT expecting at most one row with an integer in column 0. */
static gint64
single_id(store_t *store, sqlite3_stmt *stmt, const char *what, GError **error)
{
	int rc = sqlite3_step(stmt);
	gint64 id = 0;

	if (rc == SQLITE_ROW)
		id = sqlite3_column_int64(stmt, 0);
	else if (rc != SQLITE_DONE) {
		store_set_error(store, error, what);
		id = -1;
	}
	sqlite3_reset(stmt);
	return id;
}

gint64
store_message_find_duplicate(store_t *store, const char *mailbox, guint32 uidvalidity,
                             guint32 uid, const char *message_id, const char *sha256,
                             GError **error)
{
	gint64 id = 0;

	if (mailbox != NULL) {
		g_autoptr(store_stmt_t) stmt = store_prepare(
		    store,
		    "SELECT id FROM messages WHERE mailbox = ? AND uidvalidity = ? AND uid = ?",
		    error);
		if (stmt == NULL)
			return -1;
		store_bind_text(stmt, 1, mailbox);
		sqlite3_bind_int64(stmt, 2, uidvalidity);
		sqlite3_bind_int64(stmt, 3, uid);
		if ((id = single_id(store, stmt, "looking up a UID", error)) != 0)
			return id;
	}
	if (message_id != NULL) {
		g_autoptr(store_stmt_t) stmt = store_prepare(
		    store, "SELECT id FROM messages WHERE message_id = ? AND direction = 'in' LIMIT 1",
		    error);
		if (stmt == NULL)
			return -1;
		store_bind_text(stmt, 1, message_id);
		return single_id(store, stmt, "looking up a Message-ID", error);
	}
	if (sha256 != NULL) {
		g_autoptr(store_stmt_t) stmt = store_prepare(
		    store,
		    "SELECT id FROM messages WHERE sha256 = ? AND message_id IS NULL"
		    " AND direction = 'in' LIMIT 1",
		    error);
		if (stmt == NULL)
			return -1;
		store_bind_text(stmt, 1, sha256);
		return single_id(store, stmt, "looking up a message hash", error);
	}
	return 0;
}

gint64
store_message_insert(store_t *store, const store_message_t *m, GError **error)
{
	g_autoptr(store_stmt_t) stmt = store_prepare(
	    store,
	    "INSERT INTO messages (direction, message_id, sha256, raw_path, size, mailbox,"
	    " uidvalidity, uid, internal_date, received_at, from_address, from_name, subject,"
	    " date, in_reply_to, refs, language, request_types, is_auto, auto_reason, problem,"
	    " body_text, ticket_id)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	    error);
	g_autofree char *now = pi_now_iso8601();
	g_autofree char *refs = store_strv_to_json(m->references);
	g_autofree char *types = store_strv_to_json(m->request_types);

	if (stmt == NULL)
		return 0;
	store_bind_text(stmt, 1, m->direction ? m->direction : "in");
	store_bind_text(stmt, 2, m->message_id);
	store_bind_text(stmt, 3, m->sha256);
	store_bind_text(stmt, 4, m->raw_path);
	sqlite3_bind_int64(stmt, 5, (sqlite3_int64)m->size);
	store_bind_text(stmt, 6, m->mailbox);
	if (m->mailbox != NULL) {
		sqlite3_bind_int64(stmt, 7, m->uidvalidity);
		sqlite3_bind_int64(stmt, 8, m->uid);
	}
	store_bind_text(stmt, 9, m->internal_date);
	store_bind_text(stmt, 10, now);
	store_bind_text(stmt, 11, m->from_address);
	store_bind_text(stmt, 12, m->from_name);
	store_bind_text(stmt, 13, m->subject);
	store_bind_text(stmt, 14, m->date);
	store_bind_text(stmt, 15, m->in_reply_to);
	store_bind_text(stmt, 16, refs);
	store_bind_text(stmt, 17, m->language);
	store_bind_text(stmt, 18, types);
	sqlite3_bind_int(stmt, 19, m->is_auto ? 1 : 0);
	store_bind_text(stmt, 20, m->auto_reason);
	store_bind_text(stmt, 21, m->problem);
	store_bind_text(stmt, 22, m->text);
	if (m->ticket_id > 0)
		sqlite3_bind_int64(stmt, 23, m->ticket_id);
	if (!store_step_done(store, stmt, "recording a message", error))
		return 0;
	return sqlite3_last_insert_rowid(store->db);
}

gint64
store_ticket_by_message_id(store_t *store, const char *message_id, GError **error)
{
	g_autoptr(store_stmt_t) stmt = NULL;
	gint64 id;

	if (message_id == NULL)
		return 0;
	/* Our own replies carry their Message-ID in the draft from the first
	 * send attempt, so a reply to a reply still finds its ticket. */
	stmt = store_prepare(store,
	                     "SELECT ticket_id FROM messages WHERE message_id = ?1"
	                     " AND ticket_id IS NOT NULL"
	                     " UNION ALL SELECT ticket_id FROM drafts WHERE message_id = ?1 LIMIT 1",
	                     error);
	if (stmt == NULL)
		return -1;
	store_bind_text(stmt, 1, message_id);
	id = single_id(store, stmt, "looking up a conversation", error);
	return id;
}

gint64
store_attachment_insert(store_t *store, const store_attachment_t *a, GError **error)
{
	g_autoptr(store_stmt_t) stmt = store_prepare(
	    store,
	    "INSERT INTO attachments (message_row, ticket_id, filename, declared_type,"
	    " content_type, size, sha256, kind, reason, spool_path)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	    error);

	if (stmt == NULL)
		return 0;
	sqlite3_bind_int64(stmt, 1, a->message_row);
	if (a->ticket_id > 0)
		sqlite3_bind_int64(stmt, 2, a->ticket_id);
	store_bind_text(stmt, 3, a->filename);
	store_bind_text(stmt, 4, a->declared_type);
	store_bind_text(stmt, 5, a->content_type);
	sqlite3_bind_int64(stmt, 6, (sqlite3_int64)a->size);
	store_bind_text(stmt, 7, a->sha256);
	store_bind_text(stmt, 8, a->kind);
	store_bind_text(stmt, 9, a->reason);
	store_bind_text(stmt, 10, a->spool_path);
	if (!store_step_done(store, stmt, "recording an attachment", error))
		return 0;
	return sqlite3_last_insert_rowid(store->db);
}
