/* tickets.c — tickets, their references and their history. */
#include "store/store-private.h"

#define TICKET_COLUMNS                                                                         \
	"id, ref, state, request_types, requester_address, requester_name, language,"          \
	" triage_reason, created_at, updated_at, received_at, due_at, legal_due_at,"           \
	" paused_since, paused_seconds, extended_until, disclosure_method, stop_ground,"       \
	" document_type, fee_status, linked_ticket_id, attention"

void
store_ticket_free(store_ticket_t *t)
{
	if (t == NULL)
		return;
	g_free(t->ref);
	g_free(t->state);
	g_strfreev(t->request_types);
	g_free(t->requester_address);
	g_free(t->requester_name);
	g_free(t->language);
	g_free(t->triage_reason);
	g_free(t->created_at);
	g_free(t->updated_at);
	g_free(t->received_at);
	g_free(t->due_at);
	g_free(t->legal_due_at);
	g_free(t->paused_since);
	g_free(t->extended_until);
	g_free(t->disclosure_method);
	g_free(t->stop_ground);
	g_free(t->document_type);
	g_free(t->fee_status);
	g_free(t->attention);
	g_free(t);
}

static store_ticket_t *
ticket_from_row(sqlite3_stmt *stmt)
{
	store_ticket_t *t = g_new0(store_ticket_t, 1);
	g_autofree char *types = store_column_dup(stmt, 3);

	t->id = sqlite3_column_int64(stmt, 0);
	t->ref = store_column_dup(stmt, 1);
	t->state = store_column_dup(stmt, 2);
	t->request_types = store_json_to_strv(types);
	t->requester_address = store_column_dup(stmt, 4);
	t->requester_name = store_column_dup(stmt, 5);
	t->language = store_column_dup(stmt, 6);
	t->triage_reason = store_column_dup(stmt, 7);
	t->created_at = store_column_dup(stmt, 8);
	t->updated_at = store_column_dup(stmt, 9);
	t->received_at = store_column_dup(stmt, 10);
	t->due_at = store_column_dup(stmt, 11);
	t->legal_due_at = store_column_dup(stmt, 12);
	t->paused_since = store_column_dup(stmt, 13);
	t->paused_seconds = sqlite3_column_int64(stmt, 14);
	t->extended_until = store_column_dup(stmt, 15);
	t->disclosure_method = store_column_dup(stmt, 16);
	t->stop_ground = store_column_dup(stmt, 17);
	t->document_type = store_column_dup(stmt, 18);
	t->fee_status = store_column_dup(stmt, 19);
	t->linked_ticket_id = sqlite3_column_int64(stmt, 20);
	t->attention = store_column_dup(stmt, 21);
	return t;
}

/* Next PRV-YYYY-NNNNNN for YEAR (inside the caller's transaction). */
static char *
next_ref(store_t *store, int year, GError **error)
{
	g_autoptr(store_stmt_t) stmt = store_prepare(
	    store,
	    "INSERT INTO ticket_counters (year, last) VALUES (?, 1)"
	    " ON CONFLICT (year) DO UPDATE SET last = last + 1 RETURNING last",
	    error);
	gint64 n;

	if (stmt == NULL)
		return NULL;
	sqlite3_bind_int(stmt, 1, year);
	if (sqlite3_step(stmt) != SQLITE_ROW) {
		store_set_error(store, error, "allocating a ticket reference");
		return NULL;
	}
	n = sqlite3_column_int64(stmt, 0);
	if (n > 999999) {
		g_set_error(error, STORE_ERROR, PI_ERROR_FATAL,
		            "ticket references for %d are exhausted (999999)", year);
		return NULL;
	}
	return g_strdup_printf("PRV-%04d-%06" G_GINT64_FORMAT, year, n);
}

gboolean
store_ticket_open(store_t *store, store_ticket_t *t, GError **error)
{
	g_autoptr(store_stmt_t) stmt = NULL;
	g_autofree char *types = store_strv_to_json((const char *const *)t->request_types);
	g_autofree char *now = pi_now_iso8601();
	g_autoptr(GDateTime) created = NULL;

	if (t->created_at == NULL)
		t->created_at = g_strdup(now);
	created = g_date_time_new_from_iso8601(t->created_at, NULL);
	g_free(t->ref);
	t->ref = next_ref(store, created ? g_date_time_get_year(created) : 1970, error);
	if (t->ref == NULL)
		return FALSE;
	stmt = store_prepare(store,
	                     "INSERT INTO tickets (ref, state, request_types, requester_address,"
	                     " requester_name, language, triage_reason, created_at, updated_at,"
	                     " received_at, due_at, legal_due_at, paused_since, disclosure_method,"
	                     " stop_ground, fee_status, linked_ticket_id, attention)"
	                     " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	                     error);
	if (stmt == NULL)
		return FALSE;
	store_bind_text(stmt, 1, t->ref);
	store_bind_text(stmt, 2, t->state);
	store_bind_text(stmt, 3, types);
	store_bind_text(stmt, 4, t->requester_address);
	store_bind_text(stmt, 5, t->requester_name);
	store_bind_text(stmt, 6, t->language ? t->language : "ja");
	store_bind_text(stmt, 7, t->triage_reason);
	store_bind_text(stmt, 8, t->created_at);
	store_bind_text(stmt, 9, now);
	store_bind_text(stmt, 10, t->received_at ? t->received_at : t->created_at);
	store_bind_text(stmt, 11, t->due_at);
	store_bind_text(stmt, 12, t->legal_due_at);
	store_bind_text(stmt, 13, t->paused_since);
	store_bind_text(stmt, 14, t->disclosure_method);
	store_bind_text(stmt, 15, t->stop_ground);
	store_bind_text(stmt, 16, t->fee_status);
	if (t->linked_ticket_id > 0)
		sqlite3_bind_int64(stmt, 17, t->linked_ticket_id);
	store_bind_text(stmt, 18, t->attention);
	if (!store_step_done(store, stmt, "opening a ticket", error))
		return FALSE;
	t->id = sqlite3_last_insert_rowid(store->db);
	return store_ticket_event(store, t->id, "privacy-inbox", "opened", t->state, error);
}

static store_ticket_t *
get_one(store_t *store, const char *sql, const char *key, gint64 id, GError **error)
{
	g_autoptr(store_stmt_t) stmt = store_prepare(store, sql, error);
	int rc;

	if (stmt == NULL)
		return NULL;
	if (key != NULL)
		store_bind_text(stmt, 1, key);
	else
		sqlite3_bind_int64(stmt, 1, id);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		return ticket_from_row(stmt);
	if (rc == SQLITE_DONE) {
		if (key != NULL)
			g_set_error(error, STORE_ERROR, PI_ERROR_NOT_FOUND, "no ticket %s", key);
		else
			g_set_error(error, STORE_ERROR, PI_ERROR_NOT_FOUND,
			            "no ticket with id %" G_GINT64_FORMAT, id);
	} else
		store_set_error(store, error, "reading a ticket");
	return NULL;
}

store_ticket_t *
store_ticket_get(store_t *store, const char *ref, GError **error)
{
	return get_one(store, "SELECT " TICKET_COLUMNS " FROM tickets WHERE ref = ?", ref, 0,
	               error);
}

store_ticket_t *
store_ticket_get_by_id(store_t *store, gint64 id, GError **error)
{
	return get_one(store, "SELECT " TICKET_COLUMNS " FROM tickets WHERE id = ?", NULL, id,
	               error);
}

GPtrArray *
store_ticket_list(store_t *store, const char *state, GError **error)
{
	g_autoptr(store_stmt_t) stmt = store_prepare(
	    store,
	    "SELECT " TICKET_COLUMNS " FROM tickets WHERE ?1 IS NULL OR state = ?1 ORDER BY id",
	    error);
	g_autoptr(GPtrArray) tickets = g_ptr_array_new_with_free_func((GDestroyNotify)store_ticket_free);

	if (stmt == NULL)
		return NULL;
	store_bind_text(stmt, 1, state);
	if (!store_collect(store, stmt, tickets, (store_row_fn)ticket_from_row, "listing tickets",
	                   error))
		return NULL;
	return g_steal_pointer(&tickets);
}

gboolean
store_ticket_event(store_t *store, gint64 ticket_id, const char *actor, const char *kind,
                   const char *detail, GError **error)
{
	g_autoptr(store_stmt_t) stmt = store_prepare(
	    store, "INSERT INTO ticket_events (ticket_id, at, actor, kind, detail) VALUES (?, ?, ?, ?, ?)",
	    error);
	g_autofree char *now = pi_now_iso8601();

	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_int64(stmt, 1, ticket_id);
	store_bind_text(stmt, 2, now);
	store_bind_text(stmt, 3, actor);
	store_bind_text(stmt, 4, kind);
	store_bind_text(stmt, 5, detail);
	return store_step_done(store, stmt, "recording a ticket event", error);
}

gboolean
store_ticket_set_state(store_t *store, gint64 ticket_id, const char *state, const char *actor,
                       const char *detail, GError **error)
{
	g_autoptr(store_stmt_t) stmt = store_prepare(
	    store, "UPDATE tickets SET state = ?, updated_at = ? WHERE id = ? AND state != ?1",
	    error);
	g_autofree char *now = pi_now_iso8601();
	g_autofree char *what = NULL;
	/* The state and its history row belong together: one transaction
	 * (the caller's, or our own). */
	gboolean own = !store->in_transaction;

	if (stmt == NULL || (own && !store_begin(store, error)))
		return FALSE;
	store_bind_text(stmt, 1, state);
	store_bind_text(stmt, 2, now);
	sqlite3_bind_int64(stmt, 3, ticket_id);
	if (!store_step_done(store, stmt, "changing a ticket's state", error))
		goto fail;
	if (sqlite3_changes(store->db) > 0) {
		what = detail ? g_strdup_printf("%s: %s", state, detail) : g_strdup(state);
		if (!store_ticket_event(store, ticket_id, actor, "state", what, error))
			goto fail;
	}
	return own ? store_commit(store, error) : TRUE;
fail:
	if (own)
		store_rollback(store);
	return FALSE;
}

gboolean
store_ticket_save_clock(store_t *store, gint64 id, const store_ticket_t *t, GError **error)
{
	g_autoptr(store_stmt_t) stmt = store_prepare(
	    store,
	    "UPDATE tickets SET received_at = ?2, due_at = ?3, legal_due_at = ?4, paused_since = ?5,"
	    " paused_seconds = ?6, extended_until = ?7, updated_at = ?8 WHERE id = ?1",
	    error);
	g_autofree char *now = pi_now_iso8601();

	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_int64(stmt, 1, id);
	store_bind_text(stmt, 2, t->received_at);
	store_bind_text(stmt, 3, t->due_at);
	store_bind_text(stmt, 4, t->legal_due_at);
	store_bind_text(stmt, 5, t->paused_since);
	sqlite3_bind_int64(stmt, 6, t->paused_seconds);
	store_bind_text(stmt, 7, t->extended_until);
	store_bind_text(stmt, 8, now);
	return store_step_done(store, stmt, "saving a ticket's clock", error);
}

gboolean
store_ticket_set_field(store_t *store, gint64 id, const char *field, const char *value,
                       GError **error)
{
	static const char *const fields[] = {"disclosure_method", "stop_ground", "document_type",
	                                     "fee_status", "attention", NULL};
	g_autoptr(store_stmt_t) stmt = NULL;
	g_autofree char *sql = NULL;
	g_autofree char *now = pi_now_iso8601();

	/* The column name comes from this list only, never from the caller's text. */
	g_return_val_if_fail(g_strv_contains(fields, field), FALSE);
	sql = g_strdup_printf("UPDATE tickets SET %s = ?2, updated_at = ?3 WHERE id = ?1", field);
	stmt = store_prepare(store, sql, error);
	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_int64(stmt, 1, id);
	store_bind_text(stmt, 2, value);
	store_bind_text(stmt, 3, now);
	return store_step_done(store, stmt, "updating a ticket", error);
}

gboolean
store_ticket_set_types(store_t *store, gint64 id, const char *const *types, GError **error)
{
	g_autoptr(store_stmt_t) stmt = store_prepare(
	    store, "UPDATE tickets SET request_types = ?2, updated_at = ?3 WHERE id = ?1", error);
	g_autofree char *json = store_strv_to_json(types);
	g_autofree char *now = pi_now_iso8601();

	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_int64(stmt, 1, id);
	store_bind_text(stmt, 2, json);
	store_bind_text(stmt, 3, now);
	return store_step_done(store, stmt, "setting a ticket's types", error);
}

GPtrArray *
store_ticket_list_due(store_t *store, const char *before, GError **error)
{
	g_autoptr(store_stmt_t) stmt = store_prepare(
	    store,
	    "SELECT " TICKET_COLUMNS " FROM tickets WHERE due_at IS NOT NULL AND due_at <= ?1"
	    " AND paused_since IS NULL AND state NOT IN ('answered', 'closed', 'rejected')"
	    " ORDER BY due_at, id",
	    error);
	g_autoptr(GPtrArray) tickets = g_ptr_array_new_with_free_func((GDestroyNotify)store_ticket_free);

	if (stmt == NULL)
		return NULL;
	store_bind_text(stmt, 1, before);
	if (!store_collect(store, stmt, tickets, (store_row_fn)ticket_from_row, "listing due tickets",
	                   error))
		return NULL;
	return g_steal_pointer(&tickets);
}

gboolean
store_ticket_thread(store_t *store, gint64 id, char **in_reply_to_out, char ***references_out,
                    GError **error)
{
	g_autoptr(store_stmt_t) stmt = store_prepare(
	    store,
	    "SELECT message_id, refs FROM messages WHERE ticket_id = ? AND direction = 'in'"
	    " AND message_id IS NOT NULL ORDER BY id DESC LIMIT 1",
	    error);
	int rc;

	*in_reply_to_out = NULL;
	*references_out = NULL;
	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_int64(stmt, 1, id);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		g_autofree char *refs = store_column_dup(stmt, 1);
		g_auto(GStrv) theirs = store_json_to_strv(refs);
		GPtrArray *all = g_ptr_array_new();

		*in_reply_to_out = store_column_dup(stmt, 0);
		for (char **r = theirs; *r; r++)
			g_ptr_array_add(all, g_strdup(*r));
		g_ptr_array_add(all, g_strdup(*in_reply_to_out));
		g_ptr_array_add(all, NULL);
		*references_out = (char **)g_ptr_array_free(all, FALSE);
	} else if (rc != SQLITE_DONE) {
		store_set_error(store, error, "reading a ticket's conversation");
		return FALSE;
	} else
		*references_out = g_new0(char *, 1);
	return TRUE;
}

gint64
store_ticket_id_documents(store_t *store, gint64 id)
{
	g_autoptr(store_stmt_t) stmt = store_prepare(
	    store, "SELECT count(*) FROM attachments WHERE ticket_id = ? AND kind = 'id_document'",
	    NULL);

	if (stmt == NULL)
		return 0;
	sqlite3_bind_int64(stmt, 1, id);
	return sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
}

gint64
store_auto_replies_since(store_t *store, const char *address, const char *since, GError **error)
{
	g_autoptr(store_stmt_t) stmt = store_prepare(
	    store,
	    "SELECT count(*) FROM drafts WHERE to_address = ?1 COLLATE NOCASE AND created_at >= ?2"
	    " AND auto_submitted = 1 AND kind IN ('ack', 'id_missing')",
	    error);

	if (stmt == NULL)
		return -1;
	store_bind_text(stmt, 1, address);
	store_bind_text(stmt, 2, since);
	if (sqlite3_step(stmt) != SQLITE_ROW) {
		store_set_error(store, error, "counting automatic replies");
		return -1;
	}
	return sqlite3_column_int64(stmt, 0);
}

/* ---- JSON -------------------------------------------------------------- */

static void
add_strv(JsonBuilder *b, const char *member, char **values)
{
	json_builder_set_member_name(b, member);
	json_builder_begin_array(b);
	for (char **v = values; v && *v; v++)
		json_builder_add_string_value(b, *v);
	json_builder_end_array(b);
}

/* Add the rows of STMT as an array of objects, one member per column
 * (integers as integers, NULL as null, the rest as strings). */
static gboolean
add_rows(store_t *store, JsonBuilder *b, const char *member, sqlite3_stmt *stmt,
         GError **error)
{
	int rc;

	json_builder_set_member_name(b, member);
	json_builder_begin_array(b);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		json_builder_begin_object(b);
		for (int c = 0; c < sqlite3_column_count(stmt); c++) {
			const char *name = sqlite3_column_name(stmt, c);
			json_builder_set_member_name(b, name);
			switch (sqlite3_column_type(stmt, c)) {
			case SQLITE_INTEGER:
				json_builder_add_int_value(b, sqlite3_column_int64(stmt, c));
				break;
			case SQLITE_NULL:
				json_builder_add_null_value(b);
				break;
			default:
				json_builder_add_string_value(b,
				                              (const char *)sqlite3_column_text(stmt, c));
			}
		}
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	if (rc != SQLITE_DONE) {
		store_set_error(store, error, "reading ticket details");
		return FALSE;
	}
	return TRUE;
}

JsonNode *
store_ticket_to_json(store_t *store, const store_ticket_t *t, gboolean full, GError **error)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	static const struct {
		const char *member, *sql;
	} parts[] = {
		{"messages",
		 "SELECT id, direction, message_id, from_address, from_name, subject, date,"
		 " internal_date, received_at, is_auto, auto_reason, problem, raw_path, size,"
		 " body_text AS text FROM messages WHERE ticket_id = ? ORDER BY id"},
		{"attachments",
		 "SELECT id, message_row, filename, content_type, declared_type, size, sha256, kind,"
		 " reason, spool_path IS NOT NULL AS stored FROM attachments WHERE ticket_id = ?"
		 " ORDER BY id"},
		{"drafts",
		 "SELECT id, kind, language, state, subject, created_at, approved_by, sent_at,"
		 " last_error FROM drafts WHERE ticket_id = ? ORDER BY id"},
		{"events",
		 "SELECT at, actor, kind, detail FROM ticket_events WHERE ticket_id = ? ORDER BY id"},
	};
	guint id_documents = 0;

	json_builder_begin_object(b);
	pi_json_add_string(b, "ref", t->ref);
	pi_json_add_string(b, "state", t->state);
	add_strv(b, "request_types", t->request_types);
	pi_json_add_string(b, "requester", t->requester_address);
	pi_json_add_string(b, "requester_name", t->requester_name);
	pi_json_add_string(b, "language", t->language);
	pi_json_add_string(b, "triage_reason", t->triage_reason);
	pi_json_add_string(b, "created_at", t->created_at);
	pi_json_add_string(b, "updated_at", t->updated_at);
	pi_json_add_string(b, "received_at", t->received_at);
	pi_json_add_string(b, "due_at", t->due_at);
	pi_json_add_string(b, "legal_due_at", t->legal_due_at);
	json_builder_set_member_name(b, "paused");
	json_builder_add_boolean_value(b, t->paused_since != NULL);
	pi_json_add_string(b, "extended_until", t->extended_until);
	pi_json_add_string(b, "disclosure_method", t->disclosure_method);
	pi_json_add_string(b, "stop_ground", t->stop_ground);
	pi_json_add_string(b, "document_type", t->document_type);
	pi_json_add_string(b, "fee_status", t->fee_status);
	pi_json_add_string(b, "attention", t->attention);
	if (t->linked_ticket_id > 0) {
		json_builder_set_member_name(b, "linked_ticket_id");
		json_builder_add_int_value(b, t->linked_ticket_id);
	}
	id_documents = (guint)store_ticket_id_documents(store, t->id);
	json_builder_set_member_name(b, "id_documents");
	json_builder_add_int_value(b, id_documents);
	for (gsize i = 0; full && i < G_N_ELEMENTS(parts); i++) {
		g_autoptr(store_stmt_t) stmt = store_prepare(store, parts[i].sql, error);
		if (stmt == NULL)
			return NULL;
		sqlite3_bind_int64(stmt, 1, t->id);
		if (!add_rows(store, b, parts[i].member, stmt, error))
			return NULL;
	}
	json_builder_end_object(b);
	return json_builder_get_root(b);
}

gboolean
store_digest_sent(store_t *store, const char *day, gboolean *sent_out, GError **error)
{
	g_autoptr(store_stmt_t) stmt = store_prepare(store, "SELECT 1 FROM digests WHERE day = ?", error);
	int rc;

	if (stmt == NULL)
		return FALSE;
	store_bind_text(stmt, 1, day);
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_set_error(store, error, "reading the digest log");
		return FALSE;
	}
	*sent_out = rc == SQLITE_ROW;
	return TRUE;
}

gboolean
store_digest_mark(store_t *store, const char *day, GError **error)
{
	g_autoptr(store_stmt_t) stmt = store_prepare(
	    store, "INSERT OR REPLACE INTO digests (day, sent_at) VALUES (?, ?)", error);
	g_autofree char *now = pi_now_iso8601();

	if (stmt == NULL)
		return FALSE;
	store_bind_text(stmt, 1, day);
	store_bind_text(stmt, 2, now);
	return store_step_done(store, stmt, "recording the digest", error);
}
