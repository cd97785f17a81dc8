/* documents.c — attachments as recorded, and the record of every access to
 * their bytes (see the "spool under lock" block of store.h). */
#include "store/store-private.h"

#define ATTACHMENT_COLUMNS                                                                         \
	"a.id, a.message_row, a.ticket_id, t.ref, a.filename, a.declared_type, a.content_type,"    \
	" a.sha256, a.kind, a.reason, a.size, a.spool_path, m.received_at, a.destroyed_at,"        \
	" a.destroy_reason"
#define ATTACHMENT_FROM                                                                            \
	" FROM attachments a JOIN messages m ON m.id = a.message_row"                              \
	" LEFT JOIN tickets t ON t.id = a.ticket_id"

void
store_attachment_record_free(store_attachment_record_t *a)
{
	if (a == NULL)
		return;
	g_free(a->ticket_ref);
	g_free(a->filename);
	g_free(a->declared_type);
	g_free(a->content_type);
	g_free(a->sha256);
	g_free(a->kind);
	g_free(a->reason);
	g_free(a->spool_path);
	g_free(a->received_at);
	g_free(a->destroyed_at);
	g_free(a->destroy_reason);
	g_free(a);
}

static store_attachment_record_t *
record_from_row(sqlite3_stmt *s)
{
	store_attachment_record_t *a = g_new0(store_attachment_record_t, 1);

	a->id = sqlite3_column_int64(s, 0);
	a->message_row = sqlite3_column_int64(s, 1);
	a->ticket_id = sqlite3_column_int64(s, 2);
	a->ticket_ref = store_column_dup(s, 3);
	a->filename = store_column_dup(s, 4);
	a->declared_type = store_column_dup(s, 5);
	a->content_type = store_column_dup(s, 6);
	a->sha256 = store_column_dup(s, 7);
	a->kind = store_column_dup(s, 8);
	a->reason = store_column_dup(s, 9);
	a->size = sqlite3_column_int64(s, 10);
	a->spool_path = store_column_dup(s, 11);
	a->received_at = store_column_dup(s, 12);
	a->destroyed_at = store_column_dup(s, 13);
	a->destroy_reason = store_column_dup(s, 14);
	return a;
}

store_attachment_record_t *
store_attachment_get(store_t *store, gint64 id, GError **error)
{
	g_autoptr(store_stmt_t) stmt = store_prepare(
	    store, "SELECT " ATTACHMENT_COLUMNS ATTACHMENT_FROM " WHERE a.id = ?", error);
	int rc;

	if (stmt == NULL)
		return NULL;
	sqlite3_bind_int64(stmt, 1, id);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		return record_from_row(stmt);
	if (rc == SQLITE_DONE)
		g_set_error(error, STORE_ERROR, PI_ERROR_NOT_FOUND,
		            "no attachment %" G_GINT64_FORMAT, id);
	else
		store_set_error(store, error, "reading an attachment");
	return NULL;
}

GPtrArray *
store_attachment_list(store_t *store, gint64 ticket_id, GError **error)
{
	g_autoptr(store_stmt_t) stmt = store_prepare(store,
	                                             "SELECT " ATTACHMENT_COLUMNS ATTACHMENT_FROM
	                                             " WHERE a.ticket_id = ? ORDER BY a.id",
	                                             error);
	g_autoptr(GPtrArray) list =
	    g_ptr_array_new_with_free_func((GDestroyNotify)store_attachment_record_free);

	if (stmt == NULL)
		return NULL;
	sqlite3_bind_int64(stmt, 1, ticket_id);
	if (!store_collect(store, stmt, list, (store_row_fn)record_from_row, "listing attachments",
	                   error))
		return NULL;
	return g_steal_pointer(&list);
}

JsonNode *
store_attachment_to_json(const store_attachment_record_t *a)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	const struct {
		const char *name, *value;
	} strings[] = {
	    {"ticket_ref", a->ticket_ref},
	    {"filename", a->filename},
	    {"content_type", a->content_type},
	    {"declared_type", a->declared_type},
	    {"kind", a->kind},
	    {"reason", a->reason},
	    {"sha256", a->sha256},
	    {"received_at", a->received_at},
	    {"destroyed_at", a->destroyed_at},
	    {"destroy_reason", a->destroy_reason},
	};

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "id");
	json_builder_add_int_value(b, a->id);
	json_builder_set_member_name(b, "message");
	json_builder_add_int_value(b, a->message_row);
	json_builder_set_member_name(b, "size");
	json_builder_add_int_value(b, a->size);
	for (gsize i = 0; i < G_N_ELEMENTS(strings); i++)
		pi_json_add_string(b, strings[i].name, strings[i].value);
	/* "kept": the encrypted bytes are in the spool; "destroyed"; or
	 * "not_kept" (only ID documents are kept; others are only recorded). */
	pi_json_add_string(b, "stored",
	                   a->spool_path     ? "kept"
	                   : a->destroyed_at ? "destroyed"
	                                     : "not_kept");
	json_builder_end_object(b);
	return json_builder_get_root(b);
}

gboolean
store_attachment_access(store_t *store, const store_attachment_record_t *a, const char *actor,
                        const char *how, GError **error)
{
	g_autofree char *detail =
	    g_strdup_printf("attachment %" G_GINT64_FORMAT " (%s, %s, sha256 %s) %s", a->id,
	                    a->kind, a->filename ? a->filename : "no name", a->sha256, how);

	if (!store_begin(store, error))
		return FALSE;
	if ((a->ticket_id > 0 &&
	     !store_ticket_event(store, a->ticket_id, actor, "access", detail, error)) ||
	    !store_audit(store, actor, "attachment viewed", a->ticket_ref, detail, error)) {
		store_rollback(store);
		return FALSE;
	}
	return store_commit(store, error);
}
