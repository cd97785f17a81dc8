/* test_audit.c — the audit log's chain: intact logs verify; an edited,
 * deleted, inserted or reordered row, rows cut from the end, a changed head
 * and a removed append-only guard are each found and the first bad row
 * named; two connections appending at once still make one chain; export
 * selects by time. */
#include "store/store.h"

#include <string.h>

#include "tests/lib/testserver.h"

typedef struct {
	char *dir, *db, *spool;
	store_t *store;
} fixture_t;

static void
setup(fixture_t *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	static const char *const times[] = {"2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z",
	                                    "2026-11-03T00:00:00Z", "2026-11-04T00:00:00Z",
	                                    "2026-11-05T00:00:00Z"};

	(void)data;
	f->dir = testserver_tmpdir();
	f->db = g_build_filename(f->dir, "state", "pi.db", NULL);
	f->spool = g_build_filename(f->dir, "spool", NULL);
	f->store = store_open(f->db, f->spool, &error);
	g_assert_no_error(error);
	for (gsize i = 0; i < G_N_ELEMENTS(times); i++) {
		g_autofree char *detail = g_strdup_printf("draft %zu, \"quoted\", 開示", i + 1);
		g_setenv("PRIVACY_INBOX_NOW", times[i], TRUE);
		g_assert_true(store_audit(f->store, i % 2 ? "sato" : "privacy-inbox", "approved",
		                          i == 2 ? NULL : "PRV-2026-000001", detail, &error));
		g_assert_no_error(error);
	}
	g_unsetenv("PRIVACY_INBOX_NOW");
}

static void
teardown(fixture_t *f, gconstpointer data)
{
	(void)data;
	store_free(f->store);
	testserver_tmpdir_remove(f->dir);
	g_free(f->dir);
	g_free(f->db);
	g_free(f->spool);
}

/* Run SQL on the database as the sqlite3 shell would; returns SQLite's
 * error message or NULL. */
static char *
shell(fixture_t *f, const char *sql)
{
	sqlite3 *raw = NULL;
	char *message = NULL;
	char *copy;

	g_assert_cmpint(sqlite3_open(f->db, &raw), ==, SQLITE_OK);
	sqlite3_exec(raw, sql, NULL, NULL, &message);
	copy = g_strdup(message);
	sqlite3_free(message);
	sqlite3_close(raw);
	return copy;
}

static void
unguard(fixture_t *f)
{
	g_autofree char *err =
	    shell(f, "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;");
	g_assert_null(err);
}

static void
expect_bad(fixture_t *f, gint64 row, const char *fragment)
{
	g_autoptr(GError) error = NULL;
	store_audit_verdict_t v;

	g_assert_true(store_audit_verify(f->store, &v, &error));
	g_assert_no_error(error);
	if (v.problem == NULL || strstr(v.problem, fragment) == NULL)
		g_error("expected \"%s\", got \"%s\"", fragment,
		        v.problem ? v.problem : "(intact)");
	g_assert_cmpint(v.bad_row, ==, row);
	store_audit_verdict_clear(&v);
}

static void
test_intact(fixture_t *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	store_audit_verdict_t v;

	(void)data;
	g_assert_true(store_audit_verify(f->store, &v, &error));
	g_assert_null(v.problem);
	g_assert_cmpint(v.rows, ==, 5);
	g_assert_cmpint(v.last_row, ==, 5);
	g_assert_cmpuint(strlen(v.head_hash), ==, 64);
	store_audit_verdict_clear(&v);
}

static void
test_append_only_guard(fixture_t *f, gconstpointer data)
{
	g_autofree char *update = NULL, *del = NULL;

	(void)data;
	update = shell(f, "UPDATE audit SET actor = 'mallory' WHERE id = 2");
	del = shell(f, "DELETE FROM audit WHERE id = 5");
	g_assert_nonnull(update);
	g_assert_nonnull(strstr(update, "append-only"));
	g_assert_nonnull(strstr(del, "append-only"));
	/* Dropping the guard, even with the chain intact, is evidence. */
	unguard(f);
	expect_bad(f, 0, "append-only guard");
}

static void
test_edited_row(fixture_t *f, gconstpointer data)
{
	(void)data;
	unguard(f);
	g_free(shell(f, "UPDATE audit SET detail = 'draft 2 rejected' WHERE id = 2"));
	expect_bad(f, 2, "edited");
}

static void
test_edited_ticket_ref(fixture_t *f, gconstpointer data)
{
	(void)data;
	unguard(f);
	/* NULL → '' is not an edit anyone could exploit, but another ref is. */
	g_free(shell(f, "UPDATE audit SET ticket_ref = 'PRV-2026-000002' WHERE id = 4"));
	expect_bad(f, 4, "edited");
}

static void
test_deleted_row(fixture_t *f, gconstpointer data)
{
	(void)data;
	unguard(f);
	g_free(shell(f, "DELETE FROM audit WHERE id = 3"));
	expect_bad(f, 4, "row 3 before it is missing");
}

static void
test_deleted_first_row(fixture_t *f, gconstpointer data)
{
	(void)data;
	unguard(f);
	g_free(shell(f, "DELETE FROM audit WHERE id = 1"));
	expect_bad(f, 2, "first row");
}

static void
test_deleted_last_rows(fixture_t *f, gconstpointer data)
{
	(void)data;
	unguard(f);
	g_free(shell(f, "DELETE FROM audit WHERE id >= 4"));
	expect_bad(f, 4, "deleted from the end");
}

static void
test_reordered_rows(fixture_t *f, gconstpointer data)
{
	(void)data;
	unguard(f);
	/* Swap rows 2 and 3 (their contents, hashes included). */
	g_free(shell(f, "UPDATE audit SET id = 100 WHERE id = 2;"
	                "UPDATE audit SET id = 2 WHERE id = 3;"
	                "UPDATE audit SET id = 3 WHERE id = 100;"));
	expect_bad(f, 2, "does not follow row 1");
}

static void
test_inserted_row(fixture_t *f, gconstpointer data)
{
	(void)data;
	unguard(f);
	g_free(shell(
	    f, "INSERT INTO audit (id, at, actor, action, ticket_ref, detail, prev_hash, hash)"
	       " SELECT 6, at, actor, action, ticket_ref, detail, hash, hash FROM audit"
	       " WHERE id = 5"));
	expect_bad(f, 6, "edited");
}

static void
test_head_changed(fixture_t *f, gconstpointer data)
{
	(void)data;
	g_free(shell(f, "UPDATE audit_head SET rows = 4"));
	expect_bad(f, 5, "head");
	g_free(shell(f, "DELETE FROM audit_head"));
	expect_bad(f, 1, "head is missing");
}

typedef struct {
	const char *db, *spool;
	int rows;
} writer_t;

static gpointer
append_many(gpointer data)
{
	writer_t *w = data;
	g_autoptr(GError) error = NULL;
	g_autoptr(store_t) store = store_open(w->db, w->spool, &error);

	g_assert_no_error(error);
	for (int i = 0; i < w->rows; i++) {
		g_autofree char *detail = g_strdup_printf("row %d", i);
		g_assert_true(store_audit(store, "writer", "note", NULL, detail, &error));
		g_assert_no_error(error);
	}
	return NULL;
}

static void
test_concurrent_writers(fixture_t *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	writer_t w = {f->db, f->spool, 150};
	GThread *a, *b;
	store_audit_verdict_t v;

	(void)data;
	/* Two connections outside any transaction: each append must read the
	 * last hash and insert in one transaction, or the chain forks. */
	a = g_thread_new("a", append_many, &w);
	b = g_thread_new("b", append_many, &w);
	g_thread_join(a);
	g_thread_join(b);
	g_assert_true(store_audit_verify(f->store, &v, &error));
	g_assert_null(v.problem);
	g_assert_cmpint(v.rows, ==, 5 + 300);
	store_audit_verdict_clear(&v);
}

static gboolean
collect(const store_audit_row_t *row, gpointer data, GError **error)
{
	(void)error;
	g_ptr_array_add(data, g_strdup(row->at));
	return TRUE;
}

static void
test_foreach_period(fixture_t *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func(g_free);

	(void)data;
	g_assert_true(store_audit_foreach(f->store, "2026-11-02T00:00:00Z", "2026-11-04T00:00:00Z",
	                                  collect, rows, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(rows->len, ==, 2);
	g_assert_cmpstr(g_ptr_array_index(rows, 0), ==, "2026-11-02T00:00:00Z");
	g_assert_cmpstr(g_ptr_array_index(rows, 1), ==, "2026-11-03T00:00:00Z");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_mime_init();
#define ADD(name, fn) g_test_add(name, fixture_t, NULL, setup, fn, teardown)
	ADD("/audit/intact", test_intact);
	ADD("/audit/append-only-guard", test_append_only_guard);
	ADD("/audit/edited-row", test_edited_row);
	ADD("/audit/edited-ticket-ref", test_edited_ticket_ref);
	ADD("/audit/deleted-row", test_deleted_row);
	ADD("/audit/deleted-first-row", test_deleted_first_row);
	ADD("/audit/deleted-last-rows", test_deleted_last_rows);
	ADD("/audit/reordered-rows", test_reordered_rows);
	ADD("/audit/inserted-row", test_inserted_row);
	ADD("/audit/head-changed", test_head_changed);
	ADD("/audit/foreach-period", test_foreach_period);
	ADD("/audit/concurrent-writers", test_concurrent_writers); /* threads: last */
	return g_test_run();
}
