/* test_purge.c — disposal after retention, on real SQLite and spool files,
 * with the clock faked through PRIVACY_INBOX_NOW: identity documents (and
 * the raw mail carrying them) id_retention_days after a ticket is closed or
 * rejected, other raw messages message_retention_days after; files shared by
 * a live record stay; rows stay with SHA-256, time and reason; every
 * destruction is audited; the deletion record tells it all. */
#include "store/store.h"

#include <glib/gstdio.h>
#include <string.h>

#include "tests/lib/testserver.h"

typedef struct {
	char *dir;
	store_t *store;
} fixture_t;

static void
at(const char *now)
{
	g_setenv("PRIVACY_INBOX_NOW", now, TRUE);
}

static void
setup(fixture_t *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *db = NULL, *spool = NULL;

	(void)data;
	f->dir = testserver_tmpdir();
	db = g_build_filename(f->dir, "state", "pi.db", NULL);
	spool = g_build_filename(f->dir, "spool", NULL);
	f->store = store_open(db, spool, &error);
	g_assert_no_error(error);
	at("2026-10-01T00:00:00Z");
}

static void
teardown(fixture_t *f, gconstpointer data)
{
	(void)data;
	store_free(f->store);
	testserver_tmpdir_remove(f->dir);
	g_free(f->dir);
	g_unsetenv("PRIVACY_INBOX_NOW");
}

static gint64
open_ticket(store_t *store, const char *address)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(store_ticket_t) t = g_new0(store_ticket_t, 1);

	t->state = g_strdup("awaiting_verification");
	t->requester_address = g_strdup(address);
	t->request_types = g_strsplit("disclosure", ";", -1);
	g_assert_true(store_begin(store, &error));
	g_assert_true(store_ticket_open(store, t, &error));
	g_assert_true(store_commit(store, &error));
	g_assert_no_error(error);
	return t->id;
}

static void
set_state(store_t *store, gint64 ticket, const char *state, const char *detail)
{
	g_autoptr(GError) error = NULL;

	g_assert_true(store_begin(store, &error));
	g_assert_true(store_ticket_set_state(store, ticket, state, "sato", detail, &error));
	g_assert_true(store_commit(store, &error));
	g_assert_no_error(error);
}

static char *
keep(store_t *store, const char *content, const char *area, char **sha_out)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(spool_file_t) file = store_spool_file_new(store, &error);
	char *relative;

	g_assert_true(spool_file_write(file, content, strlen(content), &error));
	g_assert_true(spool_file_finish(file, &error));
	*sha_out = g_strdup(spool_file_sha256(file));
	relative = spool_file_keep(file, area, &error);
	g_assert_no_error(error);
	return relative;
}

/* A message of TICKET (0: none) whose raw bytes are kept; with DOCUMENT,
 * an identity document attached (kept too).  Returns the message row;
 * *ATTACHMENT_OUT the attachment's id. */
static gint64
add_message(store_t *store, gint64 ticket, const char *direction, const char *raw,
            const char *document, gint64 *attachment_out)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *sha = NULL, *doc_sha = NULL;
	g_autofree char *path = keep(store, raw, "messages", &sha);
	g_autofree char *mid = g_strdup_printf("%s@example.jp", sha);
	store_message_t m = {0};
	gint64 row;

	m.direction = direction;
	m.message_id = mid;
	m.sha256 = sha;
	m.raw_path = path;
	m.size = strlen(raw);
	m.ticket_id = ticket;
	g_assert_true(store_begin(store, &error));
	row = store_message_insert(store, &m, &error);
	g_assert_cmpint(row, >, 0);
	if (document != NULL) {
		g_autofree char *doc_path = keep(store, document, "documents", &doc_sha);
		store_attachment_t a = {0};
		a.message_row = row;
		a.ticket_id = ticket;
		a.filename = "運転免許証.jpg";
		a.content_type = "image/jpeg";
		a.sha256 = doc_sha;
		a.kind = "id_document";
		a.size = strlen(document);
		a.spool_path = doc_path;
		*attachment_out = store_attachment_insert(store, &a, &error);
		g_assert_cmpint(*attachment_out, >, 0);
	}
	g_assert_true(store_commit(store, &error));
	g_assert_no_error(error);
	return row;
}

static GPtrArray *
purge(store_t *store, guint id_days, guint message_days, gboolean dry_run)
{
	g_autoptr(GError) error = NULL;
	store_retention_t r = {id_days, message_days};
	GPtrArray *items = store_purge(store, &r, "privacy-inbox", dry_run, &error);

	g_assert_no_error(error);
	g_assert_nonnull(items);
	return items;
}

static gboolean
has_item(GPtrArray *items, const char *what, gint64 id)
{
	for (guint i = 0; i < items->len; i++) {
		store_purge_item_t *it = g_ptr_array_index(items, i);
		if (strcmp(it->what, what) == 0 && it->id == id)
			return TRUE;
	}
	return FALSE;
}

static gboolean
kept(fixture_t *f, const char *table, gint64 id, char **path_out)
{
	g_autoptr(GError) error = NULL;

	if (strcmp(table, "attachments") == 0) {
		g_autoptr(store_attachment_record_t) a = store_attachment_get(f->store, id, &error);
		g_assert_no_error(error);
		if (path_out)
			*path_out = g_strdup(a->spool_path);
		return a->spool_path != NULL;
	}
	{
		g_autofree char *db = g_build_filename(f->dir, "state", "pi.db", NULL);
		g_autofree char *sql = g_strdup_printf(
		    "SELECT raw_path FROM messages WHERE id = %" G_GINT64_FORMAT, id);
		sqlite3 *raw = NULL;
		sqlite3_stmt *stmt = NULL;
		gboolean is_kept;
		g_assert_cmpint(sqlite3_open(db, &raw), ==, SQLITE_OK);
		g_assert_cmpint(sqlite3_prepare_v2(raw, sql, -1, &stmt, NULL), ==, SQLITE_OK);
		g_assert_cmpint(sqlite3_step(stmt), ==, SQLITE_ROW);
		is_kept = sqlite3_column_type(stmt, 0) != SQLITE_NULL;
		if (path_out)
			*path_out =
			    is_kept ? g_strdup((const char *)sqlite3_column_text(stmt, 0)) : NULL;
		sqlite3_finalize(stmt);
		sqlite3_close(raw);
		return is_kept;
	}
}

static gboolean
file_exists(store_t *store, const char *relative)
{
	g_autofree char *abs = store_spool_path(store, relative);

	return g_file_test(abs, G_FILE_TEST_EXISTS);
}

static void
test_retention(fixture_t *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	gint64 a, b, doc_a = 0, doc_b = 0, unused = 0;
	gint64 m_request, m_text, m_reply, m_auto, m_b;
	g_autofree char *doc_path = NULL, *request_path = NULL, *text_path = NULL;
	g_autofree char *auto_path = NULL, *reply_path = NULL;

	(void)data;
	a = open_ticket(f->store, "a@example.jp");
	b = open_ticket(f->store, "b@example.jp");
	m_request =
	    add_message(f->store, a, "in", "request A with licence", "LICENCE-JPEG", &doc_a);
	m_text = add_message(f->store, a, "in", "follow-up A, text only", NULL, &unused);
	m_reply = add_message(f->store, a, "out", "our reply to A", NULL, &unused);
	/* B sent the very same licence photo: same content, same spool file. */
	m_b = add_message(f->store, b, "in", "request B with the same licence", "LICENCE-JPEG",
	                  &doc_b);
	at("2026-01-05T00:00:00Z");
	m_auto = add_message(f->store, 0, "in", "an out-of-office reply", NULL, &unused);
	g_assert_true(kept(f, "attachments", doc_a, &doc_path));
	g_assert_true(kept(f, "messages", m_request, &request_path));
	g_assert_true(kept(f, "messages", m_text, &text_path));
	g_assert_true(kept(f, "messages", m_reply, &reply_path));
	g_assert_true(kept(f, "messages", m_auto, &auto_path));
	g_assert_true(kept(f, "attachments", doc_b, NULL));

	/* Open tickets keep everything, however old. */
	at("2026-10-20T00:00:00Z");
	{
		g_autoptr(GPtrArray) none = purge(f->store, 30, 365, FALSE);
		g_assert_cmpuint(none->len, ==, 0);
	}
	at("2026-11-01T09:00:00Z");
	set_state(f->store, a, "closed", "answered and closed");

	/* 29 days after closing: nothing yet. */
	at("2026-11-30T09:00:00Z");
	{
		g_autoptr(GPtrArray) none = purge(f->store, 30, 365, FALSE);
		g_assert_cmpuint(none->len, ==, 0);
	}
	/* 31 days: the dry run lists the document and the mail that carried
	 * it, and changes nothing. */
	at("2026-12-02T09:00:00Z");
	{
		g_autoptr(GPtrArray) dry = purge(f->store, 30, 365, TRUE);
		g_assert_cmpuint(dry->len, ==, 2);
		g_assert_true(has_item(dry, "id_document", doc_a));
		g_assert_true(has_item(dry, "raw_message", m_request));
		g_assert_null(((store_purge_item_t *)g_ptr_array_index(dry, 0))->destroyed_at);
		g_assert_true(kept(f, "attachments", doc_a, NULL));
		g_assert_true(file_exists(f->store, request_path));
	}
	{
		g_autoptr(GPtrArray) done = purge(f->store, 30, 365, FALSE);
		g_autoptr(store_attachment_record_t) rec =
		    store_attachment_get(f->store, doc_a, &error);
		g_assert_cmpuint(done->len, ==, 2);
		g_assert_cmpstr(((store_purge_item_t *)g_ptr_array_index(done, 0))->destroyed_at,
		                ==, "2026-12-02T09:00:00Z");
		/* The row stays with its SHA-256, time and reason. */
		g_assert_null(rec->spool_path);
		g_assert_cmpstr(rec->destroyed_at, ==, "2026-12-02T09:00:00Z");
		g_assert_nonnull(strstr(rec->destroy_reason, "id_retention_days = 30"));
		g_assert_nonnull(strstr(rec->destroy_reason, "closed (2026-11-01T09:00:00Z)"));
		g_assert_cmpuint(strlen(rec->sha256), ==, 64);
		/* B still uses the same licence file: it stays until B's turn. */
		g_assert_true(file_exists(f->store, doc_path));
		g_assert_false(file_exists(f->store, request_path));
		/* The text-only follow-up and our reply follow message retention. */
		g_assert_true(file_exists(f->store, text_path));
		g_assert_true(file_exists(f->store, reply_path));
		g_assert_true(kept(f, "messages", m_text, NULL));
	}
	/* Running again destroys nothing twice. */
	{
		g_autoptr(GPtrArray) again = purge(f->store, 30, 365, FALSE);
		g_assert_cmpuint(again->len, ==, 0);
	}
	/* B is rejected; with id_retention_days = 0 its document goes at the
	 * next purge, and the shared file with it. */
	at("2026-12-03T00:00:00Z");
	set_state(f->store, b, "rejected", "identity not confirmed");
	{
		g_autoptr(GPtrArray) done = purge(f->store, 0, 365, FALSE);
		g_assert_true(has_item(done, "id_document", doc_b));
		g_assert_true(has_item(done, "raw_message", m_b));
		g_assert_false(file_exists(f->store, doc_path));
	}
	/* A year after A was closed, its other messages go; the automatic
	 * mail (no ticket) a year after it was recorded went already. */
	at("2027-11-02T09:00:00Z");
	{
		g_autoptr(GPtrArray) done = purge(f->store, 30, 365, FALSE);
		g_assert_true(has_item(done, "raw_message", m_text));
		g_assert_true(has_item(done, "raw_message", m_reply));
		g_assert_true(has_item(done, "raw_message", m_auto));
		g_assert_false(file_exists(f->store, text_path));
		g_assert_false(file_exists(f->store, reply_path));
		g_assert_false(file_exists(f->store, auto_path));
	}
	{
		g_autofree char *last = NULL;
		g_assert_true(store_purge_last_run(f->store, &last, &error));
		g_assert_cmpstr(last, ==, "2027-11-02T09:00:00Z");
	}
	/* Every destruction is in the audit log, and the log verifies. */
	{
		store_audit_verdict_t v;
		g_assert_true(store_audit_verify(f->store, &v, &error));
		g_assert_null(v.problem);
		store_audit_verdict_clear(&v);
	}
}

static void
test_reopened_ticket_is_not_purged(fixture_t *f, gconstpointer data)
{
	gint64 t, doc = 0;

	(void)data;
	t = open_ticket(f->store, "c@example.jp");
	add_message(f->store, t, "in", "request C", "PASSPORT-PDF", &doc);
	at("2026-10-02T00:00:00Z");
	set_state(f->store, t, "closed", NULL);
	at("2026-10-03T00:00:00Z");
	set_state(f->store, t, "in_progress", "reopened: the requester wrote again");
	at("2027-10-03T00:00:00Z");
	{
		g_autoptr(GPtrArray) none = purge(f->store, 0, 0, FALSE);
		g_assert_cmpuint(none->len, ==, 0);
		g_assert_true(kept(f, "attachments", doc, NULL));
	}
	/* Closed again: retention counts from the latest closing. */
	set_state(f->store, t, "closed", NULL);
	at("2027-10-20T00:00:00Z");
	{
		g_autoptr(GPtrArray) none = purge(f->store, 30, 365, FALSE);
		g_assert_cmpuint(none->len, ==, 0);
	}
	at("2027-11-03T00:00:00Z");
	{
		g_autoptr(GPtrArray) done = purge(f->store, 30, 365, FALSE);
		g_assert_true(has_item(done, "id_document", doc));
	}
}

static void
test_deletion_record(fixture_t *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	gint64 t, doc = 0, unused = 0;
	store_retention_t r = {30, 365};

	(void)data;
	t = open_ticket(f->store, "d@example.jp");
	add_message(f->store, t, "in", "request D", "MYNUMBER-FRONT", &doc);
	add_message(f->store, t, "out", "reply to D", NULL, &unused);
	{
		g_autoptr(JsonNode) node =
		    store_deletion_record(f->store, "PRV-2026-000001", &r, &error);
		JsonObject *o;
		g_assert_no_error(error);
		o = json_node_get_object(node);
		g_assert_true(json_object_get_null_member(o, "finished_at"));
		g_assert_cmpuint(json_array_get_length(json_object_get_array_member(o, "kept")), ==,
		                 3);
		g_assert_cmpuint(
		    json_array_get_length(json_object_get_array_member(o, "destroyed")), ==, 0);
	}
	at("2026-10-05T00:00:00Z");
	set_state(f->store, t, "closed", NULL);
	at("2026-11-05T00:00:00Z");
	g_ptr_array_unref(purge(f->store, 30, 365, FALSE));
	{
		g_autoptr(JsonNode) node =
		    store_deletion_record(f->store, "PRV-2026-000001", &r, &error);
		JsonObject *o = json_node_get_object(node);
		JsonArray *destroyed = json_object_get_array_member(o, "destroyed");
		JsonArray *still = json_object_get_array_member(o, "kept");
		JsonObject *first;

		g_assert_no_error(error);
		g_assert_cmpstr(json_object_get_string_member(o, "finished_at"), ==,
		                "2026-10-05T00:00:00Z");
		g_assert_cmpstr(json_object_get_string_member(o, "id_documents_due_at"), ==,
		                "2026-11-04T00:00:00Z");
		g_assert_cmpstr(json_object_get_string_member(o, "messages_due_at"), ==,
		                "2027-10-05T00:00:00Z");
		g_assert_cmpuint(json_array_get_length(destroyed), ==, 2);
		first = json_array_get_object_element(destroyed, 0);
		g_assert_cmpstr(json_object_get_string_member(first, "what"), ==, "id_document");
		g_assert_cmpstr(json_object_get_string_member(first, "name"), ==, "運転免許証.jpg");
		g_assert_cmpstr(json_object_get_string_member(first, "destroyed_at"), ==,
		                "2026-11-05T00:00:00Z");
		g_assert_cmpuint(strlen(json_object_get_string_member(first, "sha256")), ==, 64);
		g_assert_nonnull(json_object_get_string_member(first, "reason"));
		/* Our reply is still kept, due a year after closing. */
		g_assert_cmpuint(json_array_get_length(still), ==, 1);
		g_assert_cmpstr(
		    json_object_get_string_member(json_array_get_object_element(still, 0), "what"),
		    ==, "sent_message");
	}
	g_assert_null(store_deletion_record(f->store, "PRV-2026-999999", &r, &error));
	g_assert_error(error, STORE_ERROR, PI_ERROR_NOT_FOUND);
}

typedef struct {
	gint64 attachment;
	int found;
} access_ctx_t;

static gboolean
find_access(const store_audit_row_t *row, gpointer data, GError **error)
{
	access_ctx_t *ctx = data;
	g_autofree char *needle =
	    g_strdup_printf("attachment %" G_GINT64_FORMAT " ", ctx->attachment);

	(void)error;
	if (strcmp(row->action, "attachment viewed") == 0 && strcmp(row->actor, "suzuki") == 0 &&
	    g_strcmp0(row->ticket_ref, "PRV-2026-000001") == 0 && strstr(row->detail, needle) &&
	    strstr(row->detail, "shown on standard output"))
		ctx->found++;
	return TRUE;
}

static void
test_access_is_audited(fixture_t *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(store_attachment_record_t) a = NULL;
	g_autoptr(store_ticket_t) ticket = NULL;
	g_autoptr(JsonNode) node = NULL;
	JsonArray *events;
	access_ctx_t ctx = {0, 0};
	gint64 t, doc = 0;
	gboolean event = FALSE;

	(void)data;
	t = open_ticket(f->store, "e@example.jp");
	add_message(f->store, t, "in", "request E", "RESIDENCE-CARD", &doc);
	a = store_attachment_get(f->store, doc, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(a->ticket_ref, ==, "PRV-2026-000001");
	g_assert_cmpstr(a->kind, ==, "id_document");
	g_assert_true(
	    store_attachment_access(f->store, a, "suzuki", "shown on standard output", &error));
	g_assert_no_error(error);
	ctx.attachment = doc;
	g_assert_true(store_audit_foreach(f->store, NULL, NULL, find_access, &ctx, &error));
	g_assert_cmpint(ctx.found, ==, 1);
	/* …and in the ticket's history. */
	ticket = store_ticket_get_by_id(f->store, t, &error);
	node = store_ticket_to_json(f->store, ticket, TRUE, &error);
	g_assert_no_error(error);
	events = json_object_get_array_member(json_node_get_object(node), "events");
	for (guint i = 0; i < json_array_get_length(events); i++) {
		JsonObject *e = json_array_get_object_element(events, i);
		if (g_strcmp0(json_object_get_string_member(e, "kind"), "access") == 0 &&
		    g_strcmp0(json_object_get_string_member(e, "actor"), "suzuki") == 0)
			event = TRUE;
	}
	g_assert_true(event);
	/* A missing attachment is "not found". */
	g_assert_null(store_attachment_get(f->store, 999, &error));
	g_assert_error(error, STORE_ERROR, PI_ERROR_NOT_FOUND);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_mime_init();
#define ADD(name, fn) g_test_add(name, fixture_t, NULL, setup, fn, teardown)
	ADD("/purge/retention", test_retention);
	ADD("/purge/reopened-ticket-is-not-purged", test_reopened_ticket_is_not_purged);
	ADD("/purge/deletion-record", test_deletion_record);
	ADD("/purge/access-is-audited", test_access_is_audited);
	return g_test_run();
}
