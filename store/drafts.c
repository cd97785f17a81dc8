/* drafts.c — drafted replies, their approval, and the outbox.
 *
 * pending ──approve──▶ approved ──sent──▶ sent
 *    │                    │  ▲
 *    └─reject─▶ rejected  ▼  │ retry (temporary failure)
 *                       failed ──reject──▶ rejected
 *
 * A send attempt is recorded (sending_since, the reply's Message-ID) and
 * committed before the SMTP transaction starts.  If the process dies in the
 * middle, the next run finds sending_since still set and cannot know whether
 * the server accepted the message, so the draft becomes failed without retry:
 * staff check and approve it again.  A reply is never sent twice by itself.
 */
#include "store/store-private.h"

#define DRAFT_COLUMNS                                                                          \
	"d.id, d.ticket_id, t.ref, d.kind, d.language, d.state, d.to_address, d.to_name,"      \
	" d.subject, d.body, d.in_reply_to, d.refs, d.message_id, d.template_hash,"            \
	" d.auto_submitted, d.created_at, d.approved_by, d.approved_at, d.rejected_by,"        \
	" d.reject_reason, d.edited_by, d.attempts, d.last_error, d.retry, d.sent_at"
#define DRAFT_FROM " FROM drafts d JOIN tickets t ON t.id = d.ticket_id"

void
store_draft_free(store_draft_t *d)
{
	if (d == NULL)
		return;
	g_free(d->ticket_ref);
	g_free(d->kind);
	g_free(d->language);
	g_free(d->state);
	g_free(d->to_address);
	g_free(d->to_name);
	g_free(d->subject);
	g_free(d->body);
	g_free(d->in_reply_to);
	g_strfreev(d->references);
	g_free(d->message_id);
	g_free(d->template_hash);
	g_free(d->created_at);
	g_free(d->approved_by);
	g_free(d->approved_at);
	g_free(d->rejected_by);
	g_free(d->reject_reason);
	g_free(d->edited_by);
	g_free(d->last_error);
	g_free(d->sent_at);
	g_free(d);
}

static store_draft_t *
draft_from_row(sqlite3_stmt *s)
{
	store_draft_t *d = g_new0(store_draft_t, 1);

	d->id = sqlite3_column_int64(s, 0);
	d->ticket_id = sqlite3_column_int64(s, 1);
	d->ticket_ref = store_column_dup(s, 2);
	d->kind = store_column_dup(s, 3);
	d->language = store_column_dup(s, 4);
	d->state = store_column_dup(s, 5);
	d->to_address = store_column_dup(s, 6);
	d->to_name = store_column_dup(s, 7);
	d->subject = store_column_dup(s, 8);
	d->body = store_column_dup(s, 9);
	d->in_reply_to = store_column_dup(s, 10);
	{
		g_autofree char *refs = store_column_dup(s, 11);
		d->references = store_json_to_strv(refs);
	}
	d->message_id = store_column_dup(s, 12);
	d->template_hash = store_column_dup(s, 13);
	d->auto_submitted = sqlite3_column_int(s, 14) != 0;
	d->created_at = store_column_dup(s, 15);
	d->approved_by = store_column_dup(s, 16);
	d->approved_at = store_column_dup(s, 17);
	d->rejected_by = store_column_dup(s, 18);
	d->reject_reason = store_column_dup(s, 19);
	d->edited_by = store_column_dup(s, 20);
	d->attempts = (guint)sqlite3_column_int(s, 21);
	d->last_error = store_column_dup(s, 22);
	d->retry = sqlite3_column_int(s, 23) != 0;
	d->sent_at = store_column_dup(s, 24);
	return d;
}

gint64
store_draft_insert(store_t *store, const store_draft_new_t *d, GError **error)
{
	g_autoptr(store_stmt_t) stmt = store_prepare(
	    store,
	    "INSERT INTO drafts (ticket_id, kind, language, state, to_address, to_name, subject,"
	    " body, in_reply_to, refs, template_hash, auto_submitted, created_at, updated_at,"
	    " approved_by, approved_at)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13, ?14, ?15)",
	    error);
	g_autofree char *now = pi_now_iso8601();
	const char *state = d->state ? d->state : "pending";
	g_autofree char *refs = store_strv_to_json(d->references);

	if (stmt == NULL)
		return 0;
	sqlite3_bind_int64(stmt, 1, d->ticket_id);
	store_bind_text(stmt, 2, d->kind);
	store_bind_text(stmt, 3, d->language);
	store_bind_text(stmt, 4, state);
	store_bind_text(stmt, 5, d->to_address);
	store_bind_text(stmt, 6, d->to_name);
	store_bind_text(stmt, 7, d->subject);
	store_bind_text(stmt, 8, d->body);
	store_bind_text(stmt, 9, d->in_reply_to);
	store_bind_text(stmt, 10, refs);
	store_bind_text(stmt, 11, d->template_hash);
	sqlite3_bind_int(stmt, 12, d->auto_submitted ? 1 : 0);
	store_bind_text(stmt, 13, now);
	store_bind_text(stmt, 14, d->approved_by);
	store_bind_text(stmt, 15, d->approved_by ? now : NULL);
	if (!store_step_done(store, stmt, "saving a draft", error))
		return 0;
	return sqlite3_last_insert_rowid(store->db);
}

store_draft_t *
store_draft_get(store_t *store, gint64 id, GError **error)
{
	g_autoptr(store_stmt_t) stmt =
	    store_prepare(store, "SELECT " DRAFT_COLUMNS DRAFT_FROM " WHERE d.id = ?", error);
	int rc;

	if (stmt == NULL)
		return NULL;
	sqlite3_bind_int64(stmt, 1, id);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		return draft_from_row(stmt);
	if (rc == SQLITE_DONE)
		g_set_error(error, STORE_ERROR, PI_ERROR_NOT_FOUND, "no draft %" G_GINT64_FORMAT, id);
	else
		store_set_error(store, error, "reading a draft");
	return NULL;
}

static GPtrArray *
list_where(store_t *store, const char *where, const char *state, GError **error)
{
	g_autofree char *sql = g_strdup_printf("SELECT " DRAFT_COLUMNS DRAFT_FROM " WHERE %s ORDER BY d.id", where);
	g_autoptr(store_stmt_t) stmt = store_prepare(store, sql, error);
	g_autoptr(GPtrArray) drafts = g_ptr_array_new_with_free_func((GDestroyNotify)store_draft_free);

	if (stmt == NULL)
		return NULL;
	if (state != NULL)
		store_bind_text(stmt, 1, state);
	if (!store_collect(store, stmt, drafts, (store_row_fn)draft_from_row, "listing drafts",
	                   error))
		return NULL;
	return g_steal_pointer(&drafts);
}

GPtrArray *
store_draft_list(store_t *store, const char *state, GError **error)
{
	return list_where(store, state ? "d.state = ?1" : "1", state, error);
}

/* Run an UPDATE on one draft that only applies in ALLOWED states; refuse
 * clearly when the draft is elsewhere. */
static gboolean
transition(store_t *store, gint64 id, const char *sql, const char *const *allowed,
           const char *verb, const char *by, const char *text1, const char *text2,
           GError **error)
{
	g_autoptr(store_draft_t) draft = NULL;
	g_autoptr(store_stmt_t) stmt = NULL;
	g_autofree char *now = pi_now_iso8601();
	g_autofree char *detail = NULL;

	if (!store_begin(store, error))
		return FALSE;
	draft = store_draft_get(store, id, error);
	if (draft == NULL)
		goto fail;
	if (!g_strv_contains(allowed, draft->state)) {
		g_set_error(error, STORE_ERROR, PI_ERROR_REFUSED,
		            "draft %" G_GINT64_FORMAT " is %s; only a %s draft can be %s", id,
		            draft->state, allowed[0], verb);
		goto fail;
	}
	stmt = store_prepare(store, sql, error);
	if (stmt == NULL)
		goto fail;
	sqlite3_bind_int64(stmt, 1, id);
	store_bind_text(stmt, 2, by);
	store_bind_text(stmt, 3, now);
	store_bind_text(stmt, 4, text1);
	store_bind_text(stmt, 5, text2);
	if (!store_step_done(store, stmt, verb, error))
		goto fail;
	detail = g_strdup_printf("draft %" G_GINT64_FORMAT " (%s) %s", id, draft->kind, verb);
	if (!store_ticket_event(store, draft->ticket_id, by, "draft", detail, error) ||
	    !store_audit(store, by, verb, draft->ticket_ref, detail, error))
		goto fail;
	return store_commit(store, error);
fail:
	store_rollback(store);
	return FALSE;
}

/* The first "{{…}}" in TEXT, or NULL. */
static const char *
unfilled_placeholder(const char *text)
{
	const char *open = text ? strstr(text, "{{") : NULL;

	return open != NULL && strstr(open + 2, "}}") != NULL ? open : NULL;
}

gboolean
store_draft_approve(store_t *store, gint64 id, const char *by, gboolean four_eyes,
                    GError **error)
{
	static const char *const allowed[] = {"pending", NULL};
	g_autoptr(store_draft_t) d = store_draft_get(store, id, error);
	const char *placeholder;

	if (d == NULL)
		return FALSE;
	/* A placeholder left in the text (an unfilled {{variable}}, or one
	 * typed while editing) would reach the requester literally. */
	if ((placeholder = unfilled_placeholder(d->subject)) != NULL ||
	    (placeholder = unfilled_placeholder(d->body)) != NULL) {
		g_autofree char *tag = g_strndup(placeholder, strcspn(placeholder, "\n"));
		g_set_error(error, STORE_ERROR, PI_ERROR_REFUSED,
		            "draft %" G_GINT64_FORMAT " still has a placeholder (%.40s): edit it first", id,
		            tag);
		return FALSE;
	}
	if (four_eyes) {
		if (d->edited_by != NULL && g_strcmp0(d->edited_by, by) == 0) {
			g_set_error(error, STORE_ERROR, PI_ERROR_REFUSED,
			            "four-eyes rule: draft %" G_GINT64_FORMAT
			            " was edited by %s, so another person must approve it",
			            id, by);
			return FALSE;
		}
	}

	return transition(store, id,
	                  "UPDATE drafts SET state = 'approved', approved_by = ?2, approved_at = ?3,"
	                  " updated_at = ?3 WHERE id = ?1",
	                  allowed, "approved", by, NULL, NULL, error);
}

gboolean
store_draft_reject(store_t *store, gint64 id, const char *by, const char *reason,
                   GError **error)
{
	static const char *const allowed[] = {"pending", "failed", NULL};

	return transition(store, id,
	                  "UPDATE drafts SET state = 'rejected', rejected_by = ?2, rejected_at = ?3,"
	                  " reject_reason = ?4, retry = 0, updated_at = ?3 WHERE id = ?1",
	                  allowed, "rejected", by, reason, NULL, error);
}

gboolean
store_draft_edit(store_t *store, gint64 id, const char *by, const char *subject,
                 const char *body, GError **error)
{
	static const char *const allowed[] = {"pending", NULL};

	return transition(store, id,
	                  "UPDATE drafts SET subject = ?4, body = ?5, edited_by = ?2, edited_at = ?3,"
	                  " updated_at = ?3 WHERE id = ?1",
	                  allowed, "edited", by, subject, body, error);
}

GPtrArray *
store_outbox_due(store_t *store, GError **error)
{
	g_autoptr(store_stmt_t) stmt = NULL;
	g_autofree char *now = pi_now_iso8601();

	/* Attempts a crash interrupted: delivery unknown, so never retried
	 * automatically (see the comment at the top). */
	if (!store_begin(store, error))
		return NULL;
	stmt = store_prepare(store,
	                     "UPDATE drafts SET state = 'failed', retry = 0, sending_since = NULL,"
	                     " updated_at = ?1, last_error = 'interrupted while sending (since '"
	                     " || sending_since || '); it may have been delivered: check, then"
	                     " approve again to resend' WHERE sending_since IS NOT NULL"
	                     " AND state IN ('approved', 'failed')",
	                     error);
	if (stmt == NULL) {
		store_rollback(store);
		return NULL;
	}
	store_bind_text(stmt, 1, now);
	if (!store_step_done(store, stmt, "recovering interrupted sends", error) ||
	    !store_commit(store, error)) {
		store_rollback(store);
		return NULL;
	}
	{
		g_autofree char *where = g_strdup_printf(
		    "d.state = 'approved' OR (d.state = 'failed' AND d.retry = 1"
		    " AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= '%s'))",
		    now);
		return list_where(store, where, NULL, error);
	}
}

static gboolean
outbox_update(store_t *store, gint64 id, const char *sql, const char *text, GError **error)
{
	g_autoptr(store_stmt_t) stmt = store_prepare(store, sql, error);
	g_autofree char *now = pi_now_iso8601();

	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_int64(stmt, 1, id);
	store_bind_text(stmt, 2, now);
	store_bind_text(stmt, 3, text);
	return store_step_done(store, stmt, "updating the outbox", error);
}

gboolean
store_outbox_begin(store_t *store, gint64 draft_id, const char *message_id, GError **error)
{
	return outbox_update(store, draft_id,
	                     "UPDATE drafts SET sending_since = ?2, attempts = attempts + 1,"
	                     " message_id = coalesce(message_id, ?3), updated_at = ?2 WHERE id = ?1",
	                     message_id, error);
}

gboolean
store_outbox_sent(store_t *store, gint64 draft_id, const char *raw_path, const char *sha256,
                  gsize size, GError **error)
{
	g_autoptr(store_draft_t) d = NULL;
	g_autofree char *detail = NULL;
	store_message_t m = {0};

	if (!store_begin(store, error))
		return FALSE;
	d = store_draft_get(store, draft_id, error);
	if (d == NULL ||
	    !outbox_update(store, draft_id,
	                   "UPDATE drafts SET state = 'sent', sent_at = ?2, sending_since = NULL,"
	                   " last_error = NULL, retry = 0, updated_at = ?2 WHERE id = ?1",
	                   NULL, error))
		goto fail;
	m.direction = "out";
	m.message_id = d->message_id;
	m.sha256 = sha256;
	m.raw_path = raw_path;
	m.size = size;
	m.from_address = NULL;
	m.subject = d->subject;
	m.in_reply_to = d->in_reply_to;
	m.references = (const char *const *)d->references;
	m.language = d->language;
	m.text = d->body;
	m.ticket_id = d->ticket_id;
	if (store_message_insert(store, &m, error) == 0)
		goto fail;
	detail = g_strdup_printf("draft %" G_GINT64_FORMAT " (%s) sent to %s", draft_id, d->kind,
	                         d->to_address);
	if (!store_ticket_event(store, d->ticket_id, "privacy-inbox", "sent", detail, error) ||
	    !store_audit(store, "privacy-inbox", "sent", d->ticket_ref, detail, error))
		goto fail;
	return store_commit(store, error);
fail:
	store_rollback(store);
	return FALSE;
}

/* The pause before attempt N+1 after N failed ones: 1, 2, 4 … minutes,
 * at most an hour, with ±10% jitter so a queue does not retry in step. */
static gint64
backoff_seconds(guint attempts)
{
	gint64 base = 60LL << MIN(attempts > 0 ? attempts - 1 : 0, 6);

	base = MIN(base, 3600);
	return base + g_random_int_range(-(gint32)base / 10, (gint32)base / 10 + 1);
}

gboolean
store_outbox_failed(store_t *store, gint64 draft_id, const char *error_text, gboolean retry,
                    GError **error)
{
	g_autoptr(store_draft_t) d = NULL;
	g_autoptr(store_stmt_t) stmt = NULL;
	g_autoptr(GDateTime) now = pi_now();
	g_autoptr(GDateTime) next = NULL;
	g_autofree char *now_text = pi_iso8601(now);
	g_autofree char *next_text = NULL;

	if ((d = store_draft_get(store, draft_id, error)) == NULL)
		return FALSE;
	next = g_date_time_add_seconds(now, (gdouble)backoff_seconds(d->attempts));
	next_text = pi_iso8601(next);
	stmt = store_prepare(store,
	                     "UPDATE drafts SET state = 'failed', retry = ?4, sending_since = NULL,"
	                     " last_error = ?3, updated_at = ?2, next_attempt_at = ?5 WHERE id = ?1",
	                     error);
	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_int64(stmt, 1, draft_id);
	store_bind_text(stmt, 2, now_text);
	store_bind_text(stmt, 3, error_text);
	sqlite3_bind_int(stmt, 4, retry ? 1 : 0);
	store_bind_text(stmt, 5, retry ? next_text : NULL);
	return store_step_done(store, stmt, "recording a failed send", error);
}

JsonNode *
store_draft_to_json(const store_draft_t *d)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	const struct {
		const char *name, *value;
	} strings[] = {
		{"ticket_ref", d->ticket_ref}, {"kind", d->kind},
		{"language", d->language},     {"state", d->state},
		{"to", d->to_address},         {"to_name", d->to_name},
		{"subject", d->subject},       {"body", d->body},
		{"message_id", d->message_id}, {"template_hash", d->template_hash},
		{"created_at", d->created_at}, {"approved_by", d->approved_by},
		{"approved_at", d->approved_at}, {"rejected_by", d->rejected_by},
		{"reject_reason", d->reject_reason}, {"edited_by", d->edited_by},
		{"last_error", d->last_error}, {"sent_at", d->sent_at},
	};

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "id");
	json_builder_add_int_value(b, d->id);
	for (gsize i = 0; i < G_N_ELEMENTS(strings); i++)
		pi_json_add_string(b, strings[i].name, strings[i].value);
	json_builder_set_member_name(b, "attempts");
	json_builder_add_int_value(b, d->attempts);
	json_builder_set_member_name(b, "retry");
	json_builder_add_boolean_value(b, d->retry);
	json_builder_end_object(b);
	return json_builder_get_root(b);
}

void
store_draft_attachment_free(store_draft_attachment_t *a)
{
	if (a == NULL)
		return;
	g_free(a->filename);
	g_free(a->content_type);
	g_free(a->sha256);
	g_free(a->spool_path);
	g_free(a->added_by);
	g_free(a);
}

gboolean
store_draft_attach(store_t *store, gint64 draft_id, const store_draft_attachment_t *a,
                   GError **error)
{
	g_autoptr(store_draft_t) d = NULL;
	g_autoptr(store_stmt_t) stmt = NULL;
	g_autofree char *now = pi_now_iso8601();
	g_autofree char *detail = NULL;

	if (!store_begin(store, error))
		return FALSE;
	if ((d = store_draft_get(store, draft_id, error)) == NULL)
		goto fail;
	if (strcmp(d->state, "pending") != 0) {
		g_set_error(error, STORE_ERROR, PI_ERROR_REFUSED,
		            "draft %" G_GINT64_FORMAT " is %s; files can only be attached to a pending draft",
		            draft_id, d->state);
		goto fail;
	}
	stmt = store_prepare(store,
	                     "INSERT INTO draft_attachments (draft_id, filename, content_type, size,"
	                     " sha256, spool_path, added_by, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
	                     error);
	if (stmt == NULL)
		goto fail;
	sqlite3_bind_int64(stmt, 1, draft_id);
	store_bind_text(stmt, 2, a->filename);
	store_bind_text(stmt, 3, a->content_type);
	sqlite3_bind_int64(stmt, 4, (sqlite3_int64)a->size);
	store_bind_text(stmt, 5, a->sha256);
	store_bind_text(stmt, 6, a->spool_path);
	store_bind_text(stmt, 7, a->added_by);
	store_bind_text(stmt, 8, now);
	if (!store_step_done(store, stmt, "attaching a file", error))
		goto fail;
	detail = g_strdup_printf("draft %" G_GINT64_FORMAT ": attached %s (%zu bytes, sha256 %.12s…)",
	                         draft_id, a->filename, a->size, a->sha256);
	if (!store_ticket_event(store, d->ticket_id, a->added_by, "attach", detail, error) ||
	    !store_audit(store, a->added_by, "draft attachment added", d->ticket_ref, detail, error))
		goto fail;
	return store_commit(store, error);
fail:
	store_rollback(store);
	return FALSE;
}

GPtrArray *
store_draft_attachments(store_t *store, gint64 draft_id, GError **error)
{
	g_autoptr(store_stmt_t) stmt = store_prepare(
	    store,
	    "SELECT id, filename, content_type, size, sha256, spool_path, added_by"
	    " FROM draft_attachments WHERE draft_id = ? ORDER BY id",
	    error);
	g_autoptr(GPtrArray) out =
	    g_ptr_array_new_with_free_func((GDestroyNotify)store_draft_attachment_free);
	int rc;

	if (stmt == NULL)
		return NULL;
	sqlite3_bind_int64(stmt, 1, draft_id);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		store_draft_attachment_t *a = g_new0(store_draft_attachment_t, 1);
		a->id = sqlite3_column_int64(stmt, 0);
		a->filename = store_column_dup(stmt, 1);
		a->content_type = store_column_dup(stmt, 2);
		a->size = (gsize)sqlite3_column_int64(stmt, 3);
		a->sha256 = store_column_dup(stmt, 4);
		a->spool_path = store_column_dup(stmt, 5);
		a->added_by = store_column_dup(stmt, 6);
		g_ptr_array_add(out, a);
	}
	if (rc != SQLITE_DONE) {
		store_set_error(store, error, "listing a draft's attachments");
		return NULL;
	}
	return g_steal_pointer(&out);
}

gboolean
store_outbox_copied(store_t *store, gint64 draft_id, GError **error)
{
	return outbox_update(store, draft_id, "UPDATE drafts SET sent_copy_at = ?2 WHERE id = ?1",
	                     NULL, error);
}

GPtrArray *
store_outbox_copies_due(store_t *store, const char *since, GError **error)
{
	return list_where(store, "d.state = 'sent' AND d.sent_copy_at IS NULL AND d.sent_at >= ?1",
	                  since, error);
}

char *
store_outgoing_raw_path(store_t *store, const char *message_id, GError **error)
{
	g_autoptr(store_stmt_t) stmt = store_prepare(
	    store,
	    "SELECT raw_path FROM messages WHERE direction = 'out' AND message_id = ?"
	    " AND raw_path IS NOT NULL ORDER BY id DESC LIMIT 1",
	    error);
	int rc;

	if (stmt == NULL)
		return NULL;
	store_bind_text(stmt, 1, message_id);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		return store_column_dup(stmt, 0);
	if (rc != SQLITE_DONE)
		store_set_error(store, error, "finding a sent message");
	return NULL;
}

gint64
store_draft_count_pending(store_t *store, GError **error)
{
	g_autoptr(store_stmt_t) stmt =
	    store_prepare(store, "SELECT count(*) FROM drafts WHERE state = 'pending'", error);

	if (stmt == NULL)
		return -1;
	if (sqlite3_step(stmt) != SQLITE_ROW) {
		store_set_error(store, error, "counting drafts");
		return -1;
	}
	return sqlite3_column_int64(stmt, 0);
}
