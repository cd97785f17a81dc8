/* purge.c — disposal of identity documents and raw messages after their
 * retention, and the deletion record of a ticket (the rules are in the
 * "disposal" part of store.h).
 *
 * Order of work for one batch: take the spool lock exclusively (no request
 * can be reusing a file we remove), BEGIN IMMEDIATE, mark the rows
 * destroyed, remove the files no live row still uses, fsync their folders,
 * COMMIT.  A crash before the commit leaves rows that still say "kept" for
 * files that may be gone: the next purge finds them again and finishes.  A
 * crash after it cannot leave a destroyed row's file behind, because the
 * removal was made durable first.
 */
#include "store/store-private.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#define PURGE_BATCH 50

/* Tickets closed or rejected, and since when (see store.h). */
#define FINISHED_CTE                                                                               \
	"WITH finished AS (SELECT t.id, t.ref, t.state, coalesce((SELECT max(e.at)"                \
	" FROM ticket_events e WHERE e.ticket_id = t.id AND e.kind = 'state'"                      \
	" AND (e.detail LIKE 'closed%' OR e.detail LIKE 'rejected%')), t.updated_at) AS since"     \
	" FROM tickets t WHERE t.state IN ('closed', 'rejected')) "

typedef struct {
	store_purge_item_t item;
	gint64 ticket_id;
	char *path; /* spool-relative */
} candidate_t;

void
store_purge_item_free(store_purge_item_t *item)
{
	if (item == NULL)
		return;
	g_free(item->what);
	g_free(item->ticket_ref);
	g_free(item->name);
	g_free(item->sha256);
	g_free(item->reason);
	g_free(item->destroyed_at);
	g_free(item);
}

static void
candidate_free(candidate_t *c)
{
	if (c == NULL)
		return;
	g_free(c->item.what);
	g_free(c->item.ticket_ref);
	g_free(c->item.name);
	g_free(c->item.sha256);
	g_free(c->item.reason);
	g_free(c->item.destroyed_at);
	g_free(c->path);
	g_free(c);
}

/* NOW minus DAYS, as stored (ISO 8601 UTC). */
static char *
days_before(GDateTime *now, guint days)
{
	g_autoptr(GDateTime) then = g_date_time_add_days(now, -(gint)days);
	g_autoptr(GDateTime) utc = g_date_time_to_utc(then);

	return g_date_time_format(utc, "%Y-%m-%dT%H:%M:%SZ");
}

/* WHEN (ISO 8601) plus DAYS, as stored; NULL when WHEN is NULL or bad. */
static char *
days_after(const char *when, guint days)
{
	g_autoptr(GDateTime) at = when ? g_date_time_new_from_iso8601(when, NULL) : NULL;
	g_autoptr(GDateTime) then = NULL;
	g_autoptr(GDateTime) utc = NULL;

	if (at == NULL)
		return NULL;
	then = g_date_time_add_days(at, (gint)days);
	utc = g_date_time_to_utc(then);
	return g_date_time_format(utc, "%Y-%m-%dT%H:%M:%SZ");
}

/* Columns of every candidate query: what, id, ticket id, ref, name, sha256,
 * size, path, since, state. */
static gboolean
collect(store_t *store, const char *sql, const char *cutoff, const char *rule, guint days,
        GPtrArray *out, GHashTable *seen, GError **error)
{
	g_autoptr(store_stmt_t) stmt = store_prepare(store, sql, error);
	int rc;

	if (stmt == NULL)
		return FALSE;
	store_bind_text(stmt, 1, cutoff);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		candidate_t *c;
		g_autofree char *key = g_strdup_printf("%s:%" G_GINT64_FORMAT,
		                                       (const char *)sqlite3_column_text(stmt, 0),
		                                       (gint64)sqlite3_column_int64(stmt, 1));
		const char *since = (const char *)sqlite3_column_text(stmt, 8);
		const char *state = (const char *)sqlite3_column_text(stmt, 9);
		const char *ref = (const char *)sqlite3_column_text(stmt, 3);

		if (g_hash_table_contains(seen, key))
			continue;
		g_hash_table_add(seen, g_steal_pointer(&key));
		c = g_new0(candidate_t, 1);
		c->item.what = store_column_dup(stmt, 0);
		c->item.id = sqlite3_column_int64(stmt, 1);
		c->ticket_id = sqlite3_column_int64(stmt, 2);
		c->item.ticket_ref = store_column_dup(stmt, 3);
		c->item.name = store_column_dup(stmt, 4);
		c->item.sha256 = store_column_dup(stmt, 5);
		c->item.size = sqlite3_column_int64(stmt, 6);
		c->path = store_column_dup(stmt, 7);
		if (ref != NULL)
			c->item.reason = g_strdup_printf(
			    "%s: %s_retention_days = %u since %s was %s (%s)", rule,
			    strcmp(rule, "message retention") == 0 ? "message" : "id", days, ref,
			    state ? state : "finished", since);
		else
			c->item.reason = g_strdup_printf(
			    "%s: message_retention_days = %u since it was recorded (%s); no ticket",
			    rule, days, since);
		g_ptr_array_add(out, c);
	}
	if (rc != SQLITE_DONE) {
		store_set_error(store, error, "finding what retention makes due");
		return FALSE;
	}
	return TRUE;
}

static GPtrArray *
candidates(store_t *store, const store_retention_t *retention, GError **error)
{
	g_autoptr(GDateTime) now = pi_now();
	g_autofree char *id_cutoff = days_before(now, retention->id_retention_days);
	g_autofree char *message_cutoff = days_before(now, retention->message_retention_days);
	g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify)candidate_free);
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	if (!collect(store,
	             FINISHED_CTE
	             "SELECT 'id_document', a.id, f.id, f.ref, a.filename, a.sha256, a.size,"
	             " a.spool_path, f.since, f.state FROM attachments a"
	             " JOIN finished f ON f.id = a.ticket_id"
	             " WHERE a.spool_path IS NOT NULL AND a.destroyed_at IS NULL AND f.since <= ?1"
	             " ORDER BY a.id",
	             id_cutoff, "identity document", retention->id_retention_days, out, seen,
	             error) ||
	    !collect(store,
	             FINISHED_CTE
	             "SELECT 'raw_message', m.id, f.id, f.ref, m.message_id, m.sha256, m.size,"
	             " m.raw_path, f.since, f.state FROM messages m JOIN finished f ON f.id = "
	             "m.ticket_id"
	             " WHERE m.raw_path IS NOT NULL AND m.purged_at IS NULL AND m.direction = 'in'"
	             " AND EXISTS (SELECT 1 FROM attachments a WHERE a.message_row = m.id)"
	             " AND f.since <= ?1 ORDER BY m.id",
	             id_cutoff,
	             "raw message with attachments (it holds the identity documents too)",
	             retention->id_retention_days, out, seen, error) ||
	    !collect(store,
	             FINISHED_CTE
	             "SELECT 'raw_message', m.id, f.id, f.ref, m.message_id, m.sha256, m.size,"
	             " m.raw_path, coalesce(f.since, m.received_at), f.state FROM messages m"
	             " LEFT JOIN finished f ON f.id = m.ticket_id"
	             " WHERE m.raw_path IS NOT NULL AND m.purged_at IS NULL"
	             " AND ((m.ticket_id IS NULL AND m.received_at <= ?1) OR f.since <= ?1)"
	             " ORDER BY m.id",
	             message_cutoff, "message retention", retention->message_retention_days, out,
	             seen, error))
		return NULL;
	return g_steal_pointer(&out);
}

/* Does any live row still name the spool file PATH? */
static gint64
path_in_use(store_t *store, const char *path, GError **error)
{
	g_autoptr(store_stmt_t) stmt =
	    store_prepare(store,
	                  "SELECT (SELECT count(*) FROM attachments WHERE spool_path = ?1)"
	                  " + (SELECT count(*) FROM messages WHERE raw_path = ?1)",
	                  error);
	g_autoptr(store_stmt_t) drafts = NULL;
	gint64 n;

	if (stmt == NULL)
		return -1;
	store_bind_text(stmt, 1, path);
	if (sqlite3_step(stmt) != SQLITE_ROW) {
		store_set_error(store, error, "checking a spool file's other uses");
		return -1;
	}
	n = sqlite3_column_int64(stmt, 0);
	/* Material attached to replies (when the schema has it) may share the
	 * spool too. */
	drafts = store_prepare(store,
	                       "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
	                       " AND name = 'draft_attachments'",
	                       error);
	if (drafts == NULL)
		return -1;
	if (sqlite3_step(drafts) == SQLITE_ROW && sqlite3_column_int(drafts, 0) > 0) {
		g_autoptr(store_stmt_t) used = store_prepare(
		    store, "SELECT count(*) FROM draft_attachments WHERE spool_path = ?", error);
		if (used == NULL)
			return -1;
		store_bind_text(used, 1, path);
		if (sqlite3_step(used) != SQLITE_ROW) {
			store_set_error(store, error, "checking a spool file's other uses");
			return -1;
		}
		n += sqlite3_column_int64(used, 0);
	}
	return n;
}

/* Mark C destroyed and remove its file unless still used.  *DONE_OUT is
 * FALSE when another purge got there first. */
static gboolean
destroy_one(store_t *store, candidate_t *c, const char *now, const char *actor, GHashTable *dirs,
            gboolean *done_out, GError **error)
{
	gboolean document = strcmp(c->item.what, "id_document") == 0;
	g_autoptr(store_stmt_t) stmt = store_prepare(
	    store,
	    document
	        ? "UPDATE attachments SET destroyed_at = ?1, destroy_reason = ?2,"
	          " spool_path = NULL WHERE id = ?3 AND spool_path = ?4 AND destroyed_at IS NULL"
	        : "UPDATE messages SET purged_at = ?1, purge_reason = ?2, raw_path = NULL"
	          " WHERE id = ?3 AND raw_path = ?4 AND purged_at IS NULL",
	    error);
	g_autofree char *detail = NULL;
	gint64 users;

	*done_out = FALSE;
	if (stmt == NULL)
		return FALSE;
	store_bind_text(stmt, 1, now);
	store_bind_text(stmt, 2, c->item.reason);
	sqlite3_bind_int64(stmt, 3, c->item.id);
	store_bind_text(stmt, 4, c->path);
	if (!store_step_done(store, stmt, "recording a destruction", error))
		return FALSE;
	if (sqlite3_changes(store->db) == 0)
		return TRUE;
	if ((users = path_in_use(store, c->path, error)) < 0)
		return FALSE;
	if (users == 0) {
		g_autofree char *abs = store_spool_path(store, c->path);
		if (g_unlink(abs) != 0 && errno != ENOENT)
			return vault_io_error(error, "cannot remove", abs);
		g_hash_table_add(dirs, g_path_get_dirname(abs));
	}
	detail = g_strdup_printf(
	    "destroyed %s %" G_GINT64_FORMAT " (%s, %" G_GINT64_FORMAT " bytes, sha256 %s)%s: %s",
	    document ? "identity document" : "raw message", c->item.id,
	    c->item.name ? c->item.name
	    : document   ? "no name"
	                 : "no Message-ID",
	    c->item.size, c->item.sha256,
	    users ? "; the file stays, another record uses the same content" : "", c->item.reason);
	if ((c->ticket_id > 0 &&
	     !store_ticket_event(store, c->ticket_id, actor, "purge", detail, error)) ||
	    !store_audit(store, actor, "purge", c->item.ticket_ref, detail, error))
		return FALSE;
	c->item.destroyed_at = g_strdup(now);
	*done_out = TRUE;
	return TRUE;
}

static gboolean
destroy_batch(store_t *store, GPtrArray *batch, const char *actor, GPtrArray *done, GError **error)
{
	g_autoptr(GHashTable) dirs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autofree char *now = pi_now_iso8601();
	GHashTableIter iter;
	gpointer dir;
	guint done_before = done->len;
	int lock = store_spool_lock(store, TRUE, error);

	if (lock < 0)
		return FALSE;
	if (!store_begin(store, error))
		goto fail_unlocked;
	for (guint i = 0; i < batch->len; i++) {
		candidate_t *c = g_ptr_array_index(batch, i);
		gboolean destroyed;
		if (!destroy_one(store, c, now, actor, dirs, &destroyed, error))
			goto fail;
		if (destroyed)
			g_ptr_array_add(done, c);
	}
	/* The removals are durable before the rows say so. */
	g_hash_table_iter_init(&iter, dirs);
	while (g_hash_table_iter_next(&iter, &dir, NULL)) {
		if (!pi_fsync_dir(dir, error))
			goto fail;
	}
	if (!store_commit(store, error))
		goto fail_unlocked;
	close(lock);
	return TRUE;
fail:
	store_rollback(store);
fail_unlocked:
	g_ptr_array_set_size(done, done_before); /* this batch was rolled back */
	close(lock);
	return FALSE;
}

static store_purge_item_t *
steal_item(candidate_t *c)
{
	store_purge_item_t *item = g_new0(store_purge_item_t, 1);

	*item = c->item;
	memset(&c->item, 0, sizeof(c->item));
	return item;
}

GPtrArray *
store_purge(store_t *store, const store_retention_t *retention, const char *actor, gboolean dry_run,
            GError **error)
{
	g_autoptr(GPtrArray) due = candidates(store, retention, error);
	g_autoptr(GPtrArray) result =
	    g_ptr_array_new_with_free_func((GDestroyNotify)store_purge_item_free);
	g_autoptr(GPtrArray) done = g_ptr_array_new();
	g_autofree char *summary = NULL;
	g_autofree char *now = NULL;
	guint documents = 0, messages = 0;

	if (due == NULL)
		return NULL;
	if (dry_run) {
		for (guint i = 0; i < due->len; i++)
			g_ptr_array_add(result, steal_item(g_ptr_array_index(due, i)));
		return g_steal_pointer(&result);
	}
	for (guint start = 0; start < due->len; start += PURGE_BATCH) {
		g_autoptr(GPtrArray) batch = g_ptr_array_new();
		for (guint i = start; i < due->len && i < start + PURGE_BATCH; i++)
			g_ptr_array_add(batch, g_ptr_array_index(due, i));
		if (!destroy_batch(store, batch, actor, done, error)) {
			g_prefix_error(error,
			               "purge stopped after destroying %u files: ", done->len);
			return NULL;
		}
	}
	for (guint i = 0; i < done->len; i++) {
		candidate_t *c = g_ptr_array_index(done, i);
		if (strcmp(c->item.what, "id_document") == 0)
			documents++;
		else
			messages++;
		g_ptr_array_add(result, steal_item(c));
	}
	summary = g_strdup_printf("purge run: destroyed %u identity documents and %u raw messages "
	                          "(id_retention_days = %u, message_retention_days = %u)",
	                          documents, messages, retention->id_retention_days,
	                          retention->message_retention_days);
	now = pi_now_iso8601();
	if (!store_begin(store, error))
		return NULL;
	if (!store_audit(store, actor, "purge", NULL, summary, error) ||
	    !store_meta_set(store, "last_purge_at", now, error)) {
		store_rollback(store);
		return NULL;
	}
	if (!store_commit(store, error))
		return NULL;
	return g_steal_pointer(&result);
}

gboolean
store_purge_last_run(store_t *store, char **at_out, GError **error)
{
	return store_meta_get(store, "last_purge_at", at_out, error);
}

/* ---- the deletion record ------------------------------------------------ */

static void
add_entry(JsonBuilder *b, const char *what, gint64 id, const char *name, const char *sha256,
          gint64 size, const char *key1, const char *value1, const char *key2, const char *value2)
{
	json_builder_begin_object(b);
	pi_json_add_string(b, "what", what);
	json_builder_set_member_name(b, "id");
	json_builder_add_int_value(b, id);
	pi_json_add_string(b, "name", name);
	pi_json_add_string(b, "sha256", sha256);
	json_builder_set_member_name(b, "size");
	json_builder_add_int_value(b, size);
	if (key1 != NULL)
		pi_json_add_string(b, key1, value1);
	if (key2 != NULL)
		pi_json_add_string(b, key2, value2);
	json_builder_end_object(b);
}

JsonNode *
store_deletion_record(store_t *store, const char *ref, const store_retention_t *retention,
                      GError **error)
{
	g_autoptr(store_ticket_t) t = store_ticket_get(store, ref, error);
	g_autoptr(JsonBuilder) destroyed = json_builder_new();
	g_autoptr(JsonBuilder) kept = json_builder_new();
	g_autoptr(JsonBuilder) never = json_builder_new();
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autoptr(store_stmt_t) since_stmt = NULL;
	g_autoptr(store_stmt_t) messages = NULL;
	g_autoptr(GPtrArray) attachments = NULL;
	g_autofree char *since = NULL;
	g_autofree char *id_due = NULL, *message_due = NULL;
	g_autoptr(JsonNode) d = NULL, k = NULL, n = NULL;
	int rc;

	if (t == NULL)
		return NULL;
	since_stmt =
	    store_prepare(store, FINISHED_CTE "SELECT since FROM finished WHERE id = ?", error);
	if (since_stmt == NULL)
		return NULL;
	sqlite3_bind_int64(since_stmt, 1, t->id);
	if (sqlite3_step(since_stmt) == SQLITE_ROW)
		since = store_column_dup(since_stmt, 0);
	id_due = days_after(since, retention->id_retention_days);
	message_due = days_after(since, retention->message_retention_days);

	json_builder_begin_array(destroyed);
	json_builder_begin_array(kept);
	json_builder_begin_array(never);
	if ((attachments = store_attachment_list(store, t->id, error)) == NULL)
		return NULL;
	for (guint i = 0; i < attachments->len; i++) {
		store_attachment_record_t *a = g_ptr_array_index(attachments, i);
		if (a->destroyed_at != NULL)
			add_entry(destroyed, "id_document", a->id, a->filename, a->sha256, a->size,
			          "destroyed_at", a->destroyed_at, "reason", a->destroy_reason);
		else if (a->spool_path != NULL)
			add_entry(kept, "id_document", a->id, a->filename, a->sha256, a->size,
			          "due_at", id_due, NULL, NULL);
		else
			add_entry(never, a->kind, a->id, a->filename, a->sha256, a->size, "reason",
			          a->reason ? a->reason : "only identity documents are kept", NULL,
			          NULL);
	}
	messages =
	    store_prepare(store,
	                  "SELECT m.id, m.direction, m.message_id, m.sha256, m.size, m.raw_path,"
	                  " m.purged_at, m.purge_reason,"
	                  " EXISTS (SELECT 1 FROM attachments a WHERE a.message_row = m.id)"
	                  " FROM messages m WHERE m.ticket_id = ? ORDER BY m.id",
	                  error);
	if (messages == NULL)
		return NULL;
	sqlite3_bind_int64(messages, 1, t->id);
	while ((rc = sqlite3_step(messages)) == SQLITE_ROW) {
		gint64 id = sqlite3_column_int64(messages, 0);
		const char *direction = (const char *)sqlite3_column_text(messages, 1);
		const char *what =
		    g_strcmp0(direction, "out") == 0 ? "sent_message" : "raw_message";
		const char *name = (const char *)sqlite3_column_text(messages, 2);
		const char *sha = (const char *)sqlite3_column_text(messages, 3);
		gint64 size = sqlite3_column_int64(messages, 4);
		const char *purged = (const char *)sqlite3_column_text(messages, 6);
		gboolean with_attachments =
		    sqlite3_column_int(messages, 8) != 0 && g_strcmp0(direction, "in") == 0;

		if (purged != NULL)
			add_entry(destroyed, what, id, name, sha, size, "destroyed_at", purged,
			          "reason", (const char *)sqlite3_column_text(messages, 7));
		else if (sqlite3_column_type(messages, 5) != SQLITE_NULL)
			add_entry(kept, what, id, name, sha, size, "due_at",
			          with_attachments ? id_due : message_due, NULL, NULL);
	}
	if (rc != SQLITE_DONE) {
		store_set_error(store, error, "reading the ticket's messages");
		return NULL;
	}
	json_builder_end_array(destroyed);
	json_builder_end_array(kept);
	json_builder_end_array(never);
	d = json_builder_get_root(destroyed);
	k = json_builder_get_root(kept);
	n = json_builder_get_root(never);

	json_builder_begin_object(b);
	pi_json_add_string(b, "ref", t->ref);
	pi_json_add_string(b, "state", t->state);
	pi_json_add_string(b, "requester", t->requester_address);
	pi_json_add_string(b, "finished_at", since);
	json_builder_set_member_name(b, "id_retention_days");
	json_builder_add_int_value(b, retention->id_retention_days);
	json_builder_set_member_name(b, "message_retention_days");
	json_builder_add_int_value(b, retention->message_retention_days);
	pi_json_add_string(b, "id_documents_due_at", id_due);
	pi_json_add_string(b, "messages_due_at", message_due);
	json_builder_set_member_name(b, "destroyed");
	json_builder_add_value(b, g_steal_pointer(&d));
	json_builder_set_member_name(b, "kept");
	json_builder_add_value(b, g_steal_pointer(&k));
	json_builder_set_member_name(b, "not_kept");
	json_builder_add_value(b, g_steal_pointer(&n));
	json_builder_end_object(b);
	return json_builder_get_root(b);
}
