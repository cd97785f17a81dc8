/* test_daemon.c — what the store keeps for the daemon (store/daemon.c):
 * state pairs, alert incidents and their notices, the outbox summary; and
 * grouped commits (store/group.c): savepoints inside one transaction, a
 * rollback of one message keeping the others, nothing visible before the
 * group commits. */
#include "store/store.h"

#include <sqlite3.h>

#include "tests/lib/testserver.h"

typedef struct {
	char *dir;
	char *db;
	store_t *store;
} fixture_t;

static void
setup(fixture_t *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *spool = NULL;

	(void)data;
	f->dir = testserver_tmpdir();
	f->db = g_build_filename(f->dir, "state", "pi.db", NULL);
	spool = g_build_filename(f->dir, "spool", NULL);
	f->store = store_open(f->db, spool, &error);
	g_assert_no_error(error);
}

static void
teardown(fixture_t *f, gconstpointer data)
{
	(void)data;
	store_free(f->store);
	testserver_tmpdir_remove(f->dir);
	g_free(f->dir);
	g_free(f->db);
}

static void
test_state(fixture_t *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GHashTable) state = NULL;
	const char *const pairs[] = {"connection", "idle", "last_error", NULL, "pid", "42", NULL};

	(void)data;
	g_assert_true(store_daemon_set(f->store, "connection", "connecting", &error));
	g_assert_true(store_daemon_set_many(f->store, pairs, &error));
	g_assert_no_error(error);
	state = store_daemon_state(f->store, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(g_hash_table_lookup(state, "connection"), ==, "idle");
	g_assert_cmpstr(g_hash_table_lookup(state, "pid"), ==, "42");
	g_assert_true(g_hash_table_contains(state, "last_error"));
	g_assert_null(g_hash_table_lookup(state, "last_error"));
}

static guint
count_due(store_t *store)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) due = store_alerts_unnotified(store, &error);

	g_assert_no_error(error);
	return due->len;
}

static void
test_alerts(fixture_t *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) open = NULL;
	gboolean created = FALSE, resolved = FALSE;
	gint64 id, again;

	(void)data;
	/* One incident per kind while it lasts. */
	id = store_alert_open(f->store, "ingestion", "connection refused", &created, &error);
	g_assert_cmpint(id, >, 0);
	g_assert_true(created);
	again = store_alert_open(f->store, "ingestion", "timed out", &created, &error);
	g_assert_cmpint(again, ==, id);
	g_assert_false(created);
	g_assert_cmpuint(count_due(f->store), ==, 1); /* its opening notice */
	g_assert_true(store_alert_notified(f->store, id, FALSE, &error));
	g_assert_cmpuint(count_due(f->store), ==, 0);
	open = store_alerts_open(f->store, &error);
	g_assert_cmpuint(open->len, ==, 1);
	g_assert_cmpstr(((store_alert_t *)g_ptr_array_index(open, 0))->detail, ==,
	                "connection refused");
	/* Over: one recovery notice, then nothing. */
	g_assert_true(store_alert_resolve(f->store, "ingestion", &resolved, &error));
	g_assert_true(resolved);
	g_assert_true(store_alert_resolve(f->store, "ingestion", &resolved, &error));
	g_assert_false(resolved);
	g_assert_cmpuint(count_due(f->store), ==, 1);
	g_assert_true(store_alert_notified(f->store, id, TRUE, &error));
	g_assert_cmpuint(count_due(f->store), ==, 0);
	/* A new incident of the same kind is a new row. */
	again = store_alert_open(f->store, "ingestion", "again", &created, &error);
	g_assert_true(created);
	g_assert_cmpint(again, !=, id);
	/* Resolved before anyone was told: no notice at all. */
	g_assert_true(store_alert_resolve(f->store, "ingestion", &resolved, &error));
	g_assert_cmpuint(count_due(f->store), ==, 0);
	g_assert_no_error(error);
}

static gint64
rows(const char *db, const char *sql)
{
	sqlite3 *conn = NULL;
	sqlite3_stmt *stmt = NULL;
	gint64 n;

	g_assert_cmpint(sqlite3_open_v2(db, &conn, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
	g_assert_cmpint(sqlite3_prepare_v2(conn, sql, -1, &stmt, NULL), ==, SQLITE_OK);
	g_assert_cmpint(sqlite3_step(stmt), ==, SQLITE_ROW);
	n = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	sqlite3_close(conn);
	return n;
}

static void
add_pending(store_t *store, guint32 uid, gboolean keep)
{
	g_autoptr(GError) error = NULL;

	g_assert_true(store_begin(store, &error));
	g_assert_true(store_server_pending_add(store, "INBOX", 7, uid, &error));
	if (keep)
		g_assert_true(store_commit(store, &error));
	else
		store_rollback(store);
	g_assert_no_error(error);
}

static void
test_group(fixture_t *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(spool_file_t) file = NULL;
	g_autofree char *kept = NULL;

	(void)data;
	g_assert_true(store_group_begin(f->store, &error));
	g_assert_true(store_group_active(f->store));
	add_pending(f->store, 1, TRUE);
	add_pending(f->store, 2, FALSE); /* this message failed: only it goes */
	add_pending(f->store, 3, TRUE);
	file = store_spool_file_new(f->store, &error);
	g_assert_nonnull(file);
	g_assert_true(spool_file_write(file, "Subject: x\r\n\r\nhello\r\n", 21, &error));
	g_assert_true(spool_file_finish(file, &error));
	kept = spool_file_keep(file, "messages", &error);
	g_assert_nonnull(kept);
	/* Nothing is visible to other connections before the group commits. */
	g_assert_cmpint(rows(f->db, "SELECT count(*) FROM server_pending"), ==, 0);
	g_assert_true(store_group_commit(f->store, &error));
	g_assert_no_error(error);
	g_assert_false(store_group_active(f->store));
	g_assert_cmpint(rows(f->db, "SELECT count(*) FROM server_pending"), ==, 2);
	g_assert_cmpint(rows(f->db, "SELECT count(*) FROM server_pending WHERE uid = 2"), ==, 0);
	/* A group rolled back leaves nothing; plain transactions work after. */
	g_assert_true(store_group_begin(f->store, &error));
	add_pending(f->store, 4, TRUE);
	store_group_rollback(f->store);
	g_assert_false(store_group_active(f->store));
	add_pending(f->store, 5, TRUE);
	g_assert_cmpint(rows(f->db, "SELECT count(*) FROM server_pending"), ==, 3);
	g_assert_cmpint(rows(f->db, "SELECT count(*) FROM server_pending WHERE uid = 4"), ==, 0);
}

static void
test_outbox_summary(fixture_t *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *oldest = NULL;
	guint count = 99;

	(void)data;
	g_assert_true(store_outbox_summary(f->store, &count, &oldest, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(count, ==, 0);
	g_assert_null(oldest);
	g_assert_cmpint(store_mailbox_message_count(f->store, "INBOX", &error), ==, 0);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add("/store-daemon/state", fixture_t, NULL, setup, test_state, teardown);
	g_test_add("/store-daemon/alerts", fixture_t, NULL, setup, test_alerts, teardown);
	g_test_add("/store-daemon/group", fixture_t, NULL, setup, test_group, teardown);
	g_test_add("/store-daemon/outbox-summary", fixture_t, NULL, setup, test_outbox_summary,
	           teardown);
	return g_test_run();
}
