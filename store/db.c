/* db.c — opening the database, schema and migrations, transactions. */
#include "store/store-private.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

G_DEFINE_QUARK(privacy-inbox-store-error-quark, store_error)

/* Each entry migrates from version i to i+1; never edit an entry once
 * released: append a new one. */
static const char *const migrations[] = {
	/* 1: the first schema */
	"CREATE TABLE mailboxes ("
	"  name TEXT PRIMARY KEY,"
	"  uidvalidity INTEGER NOT NULL,"
	"  last_uid INTEGER NOT NULL DEFAULT 0,"
	"  updated_at TEXT NOT NULL);"
	"CREATE TABLE server_pending ("
	"  mailbox TEXT NOT NULL, uidvalidity INTEGER NOT NULL, uid INTEGER NOT NULL,"
	"  PRIMARY KEY (mailbox, uidvalidity, uid));"
	"CREATE TABLE tickets ("
	"  id INTEGER PRIMARY KEY,"
	"  ref TEXT NOT NULL UNIQUE,"
	"  state TEXT NOT NULL,"
	"  request_types TEXT NOT NULL DEFAULT '[]',"
	"  requester_address TEXT, requester_name TEXT,"
	"  language TEXT NOT NULL DEFAULT 'ja',"
	"  triage_reason TEXT,"
	"  created_at TEXT NOT NULL, updated_at TEXT NOT NULL);"
	"CREATE INDEX tickets_state ON tickets(state);"
	"CREATE TABLE ticket_counters (year INTEGER PRIMARY KEY, last INTEGER NOT NULL);"
	"CREATE TABLE ticket_events ("
	"  id INTEGER PRIMARY KEY,"
	"  ticket_id INTEGER NOT NULL REFERENCES tickets(id),"
	"  at TEXT NOT NULL, actor TEXT NOT NULL, kind TEXT NOT NULL, detail TEXT);"
	"CREATE INDEX ticket_events_ticket ON ticket_events(ticket_id);"
	"CREATE TABLE messages ("
	"  id INTEGER PRIMARY KEY,"
	"  direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),"
	"  message_id TEXT, sha256 TEXT NOT NULL, raw_path TEXT, size INTEGER NOT NULL,"
	"  mailbox TEXT, uidvalidity INTEGER, uid INTEGER, internal_date TEXT,"
	"  received_at TEXT NOT NULL,"
	"  from_address TEXT, from_name TEXT, subject TEXT, date TEXT,"
	"  in_reply_to TEXT, refs TEXT NOT NULL DEFAULT '[]',"
	"  language TEXT, request_types TEXT NOT NULL DEFAULT '[]',"
	"  is_auto INTEGER NOT NULL DEFAULT 0, auto_reason TEXT, problem TEXT, body_text TEXT,"
	"  ticket_id INTEGER REFERENCES tickets(id),"
	"  UNIQUE (mailbox, uidvalidity, uid));"
	"CREATE INDEX messages_message_id ON messages(message_id);"
	"CREATE INDEX messages_sha256 ON messages(sha256);"
	"CREATE INDEX messages_ticket ON messages(ticket_id);"
	"CREATE TABLE attachments ("
	"  id INTEGER PRIMARY KEY,"
	"  message_row INTEGER NOT NULL REFERENCES messages(id),"
	"  ticket_id INTEGER REFERENCES tickets(id),"
	"  filename TEXT, declared_type TEXT, content_type TEXT, size INTEGER NOT NULL,"
	"  sha256 TEXT NOT NULL, kind TEXT NOT NULL, reason TEXT, spool_path TEXT);"
	"CREATE INDEX attachments_ticket ON attachments(ticket_id);"
	"CREATE TABLE drafts ("
	"  id INTEGER PRIMARY KEY,"
	"  ticket_id INTEGER NOT NULL REFERENCES tickets(id),"
	"  kind TEXT NOT NULL, language TEXT NOT NULL,"
	"  state TEXT NOT NULL CHECK (state IN"
	"    ('pending', 'approved', 'rejected', 'sent', 'failed')),"
	"  to_address TEXT NOT NULL, to_name TEXT,"
	"  subject TEXT NOT NULL, body TEXT NOT NULL,"
	"  in_reply_to TEXT, refs TEXT NOT NULL DEFAULT '[]',"
	"  message_id TEXT UNIQUE, template_hash TEXT,"
	"  auto_submitted INTEGER NOT NULL DEFAULT 0,"
	"  created_at TEXT NOT NULL, updated_at TEXT NOT NULL,"
	"  edited_by TEXT, edited_at TEXT,"
	"  approved_by TEXT, approved_at TEXT,"
	"  rejected_by TEXT, rejected_at TEXT, reject_reason TEXT,"
	"  attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT, retry INTEGER NOT NULL DEFAULT 0,"
	"  sending_since TEXT, sent_at TEXT);"
	"CREATE INDEX drafts_state ON drafts(state);"
	"CREATE TABLE audit ("
	"  id INTEGER PRIMARY KEY,"
	"  at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,"
	"  ticket_ref TEXT, detail TEXT,"
	"  prev_hash TEXT NOT NULL, hash TEXT NOT NULL);",
	/* lifecycle: the statutory clock, what the requester asked for, fees,
	 * links between tickets, outbox backoff, attachments to replies, copies
	 * in the Sent folder */
	"ALTER TABLE tickets ADD COLUMN received_at TEXT;"
	"ALTER TABLE tickets ADD COLUMN due_at TEXT;"
	"ALTER TABLE tickets ADD COLUMN legal_due_at TEXT;"
	"ALTER TABLE tickets ADD COLUMN paused_since TEXT;"
	"ALTER TABLE tickets ADD COLUMN paused_seconds INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE tickets ADD COLUMN extended_until TEXT;"
	"ALTER TABLE tickets ADD COLUMN disclosure_method TEXT;"
	"ALTER TABLE tickets ADD COLUMN stop_ground TEXT;"
	"ALTER TABLE tickets ADD COLUMN document_type TEXT;"
	"ALTER TABLE tickets ADD COLUMN fee_status TEXT;"
	"ALTER TABLE tickets ADD COLUMN linked_ticket_id INTEGER REFERENCES tickets(id);"
	"ALTER TABLE tickets ADD COLUMN attention TEXT;"
	"CREATE INDEX tickets_due ON tickets(due_at);"
	"ALTER TABLE drafts ADD COLUMN next_attempt_at TEXT;"
	"ALTER TABLE drafts ADD COLUMN sent_copy_at TEXT;"
	"CREATE TABLE draft_attachments ("
	"  id INTEGER PRIMARY KEY,"
	"  draft_id INTEGER NOT NULL REFERENCES drafts(id),"
	"  filename TEXT NOT NULL, content_type TEXT NOT NULL, size INTEGER NOT NULL,"
	"  sha256 TEXT NOT NULL, spool_path TEXT NOT NULL, added_by TEXT NOT NULL,"
	"  added_at TEXT NOT NULL);"
	"CREATE TABLE digests (day TEXT PRIMARY KEY, sent_at TEXT NOT NULL);",
	/* what the daemon records for `status`, and its alert incidents */
	"CREATE TABLE daemon_state ("
	"  key TEXT PRIMARY KEY, value TEXT, updated_at TEXT NOT NULL);"
	"CREATE TABLE alerts ("
	"  id INTEGER PRIMARY KEY,"
	"  kind TEXT NOT NULL, detail TEXT NOT NULL,"
	"  opened_at TEXT NOT NULL, notified_at TEXT,"
	"  resolved_at TEXT, recovery_notified_at TEXT);"
	"CREATE UNIQUE INDEX alerts_open ON alerts(kind) WHERE resolved_at IS NULL;",
	/* the spool under lock: destruction records, store settings, the audit
	 * log's head and its append-only guard */
	"ALTER TABLE attachments ADD COLUMN destroyed_at TEXT;"
	"ALTER TABLE attachments ADD COLUMN destroy_reason TEXT;"
	"ALTER TABLE messages ADD COLUMN purged_at TEXT;"
	"ALTER TABLE messages ADD COLUMN purge_reason TEXT;"
	"CREATE TABLE store_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE audit_head ("
	"  id INTEGER PRIMARY KEY CHECK (id = 1),"
	"  last_id INTEGER NOT NULL, last_hash TEXT NOT NULL, rows INTEGER NOT NULL);"
	"INSERT INTO audit_head (id, last_id, last_hash, rows)"
	"  SELECT 1, id, hash, (SELECT count(*) FROM audit) FROM audit ORDER BY id DESC LIMIT 1;"
	"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
	"  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
	"CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
	"  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
	"CREATE INDEX audit_at ON audit(at);"
	"CREATE INDEX ticket_events_kind ON ticket_events(kind, at);"
	"CREATE INDEX attachments_destroyed ON attachments(destroyed_at);",
	/* template versions: the wording of every reply ever drafted (the
	 * template file and the partials it used), by content hash */
	"CREATE TABLE template_versions ("
	"  kind TEXT NOT NULL, language TEXT NOT NULL, hash TEXT NOT NULL,"
	"  text TEXT NOT NULL, partials TEXT NOT NULL DEFAULT '{}',"
	"  first_used_at TEXT NOT NULL, last_used_at TEXT NOT NULL,"
	"  uses INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (kind, language, hash));"
	"CREATE INDEX template_versions_hash ON template_versions(hash);",
	/* the web console: staff accounts, sessions (by the SHA-256 of their
	 * id), failed sign-ins for throttling, template files saved there */
	"CREATE TABLE users ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  role TEXT NOT NULL CHECK (role IN ('staff', 'admin')),"
	"  password_hash TEXT NOT NULL,"
	"  created_at TEXT NOT NULL, password_changed_at TEXT NOT NULL,"
	"  disabled_at TEXT, last_login_at TEXT);"
	"CREATE TABLE web_sessions ("
	"  id_hash TEXT PRIMARY KEY,"
	"  user_id INTEGER NOT NULL REFERENCES users(id),"
	"  created_at TEXT NOT NULL, last_seen_at TEXT NOT NULL, address TEXT);"
	"CREATE INDEX web_sessions_user ON web_sessions(user_id);"
	"CREATE TABLE login_failures ("
	"  id INTEGER PRIMARY KEY, at TEXT NOT NULL, user_name TEXT, address TEXT);"
	"CREATE INDEX login_failures_at ON login_failures(at);"
	"CREATE TABLE template_saves ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL, sha256 TEXT NOT NULL, text TEXT NOT NULL,"
	"  saved_by TEXT NOT NULL, saved_at TEXT NOT NULL);"
	"CREATE INDEX template_saves_name ON template_saves(name, id);",
	/* 7: the router counts the replies drafted to an address today for
	 * every message (store_auto_replies_since): without this, a scan of
	 * every draft, so a backlog took time quadratic in its size. */
	"CREATE INDEX drafts_to_address ON drafts(to_address COLLATE NOCASE, created_at);",
};

/* How long a connection waits for another one's write lock. */
#define BUSY_TIMEOUT_MS 10000

/* SQLITE_BUSY after the busy timeout: say what it means, never SQLite's raw
 * "database is locked". */
static void
set_busy_error(GError **error, const char *what)
{
	g_set_error(error, STORE_ERROR, PI_ERROR_TEMPORARY,
	            "the database is busy: another privacy-inbox process kept it for more than "
	            "%d seconds%s%s; nothing was changed, try again",
	            BUSY_TIMEOUT_MS / 1000, what ? " while " : "", what ? what : "");
}

void
store_set_error(store_t *store, GError **error, const char *what)
{
	int code = sqlite3_errcode(store->db);

	if (code == SQLITE_BUSY || code == SQLITE_LOCKED) {
		set_busy_error(error, what);
		return;
	}
	g_set_error(error, STORE_ERROR, PI_ERROR_FATAL, "database: %s: %s", what,
	            sqlite3_errmsg(store->db));
}

/* ---- waiting for the write lock -----------------------------------------
 *
 * SQLite's busy handler lets a waiting writer retry now and then; a fetch
 * that commits one group after another leaves the lock free only for
 * microseconds between them, which such retries rarely hit, so staff could
 * wait the whole busy timeout.  So a connection waiting for the lock says
 * so, with a shared flock() on DATABASE-wait held from its first SQLITE_BUSY
 * until the statement is done, and store_group_begin() lets every such
 * writer go first (store_yield_to_writers()). */

/* How long a group waits for writers that said they are waiting. */
#define YIELD_MAX_MS 2000

/* Stores of this process with a shared lock taken (sqlite3* → store_t*). */
static GMutex waiting_lock;
static GHashTable *waiting_stores;

static int
on_busy(void *data, int count)
{
	/* Short pauses: a writer that is let go first gets in at once. */
	static const int pause_ms[] = {1, 2, 5, 10};
	store_t *store = data;
	gint64 now = g_get_monotonic_time();

	if (count == 0) {
		store->busy_since = now;
		if (store->wait_fd >= 0 && !store->waiting &&
		    flock(store->wait_fd, LOCK_SH | LOCK_NB) == 0) {
			store->waiting = TRUE;
			g_mutex_lock(&waiting_lock);
			if (waiting_stores == NULL)
				waiting_stores = g_hash_table_new(g_direct_hash, g_direct_equal);
			g_hash_table_insert(waiting_stores, store->db, store);
			g_mutex_unlock(&waiting_lock);
		}
	}
	if (now - store->busy_since > (gint64)BUSY_TIMEOUT_MS * 1000)
		return 0;
	g_usleep((gulong)pause_ms[MIN(count, (int)G_N_ELEMENTS(pause_ms) - 1)] * 1000);
	return 1;
}

/* The statement that waited is done: no longer waiting. */
static void
wait_done(store_t *store)
{
	if (!store->waiting)
		return;
	flock(store->wait_fd, LOCK_UN);
	store->waiting = FALSE;
	g_mutex_lock(&waiting_lock);
	g_hash_table_remove(waiting_stores, store->db);
	g_mutex_unlock(&waiting_lock);
}

static void
wait_done_for(sqlite3 *db)
{
	store_t *store;

	g_mutex_lock(&waiting_lock);
	store = waiting_stores != NULL ? g_hash_table_lookup(waiting_stores, db) : NULL;
	g_mutex_unlock(&waiting_lock);
	if (store != NULL)
		wait_done(store);
}

void
store_yield_to_writers(store_t *store)
{
	gint64 deadline;

	if (store->wait_fd < 0)
		return;
	wait_done(store);
	deadline = g_get_monotonic_time() + (gint64)YIELD_MAX_MS * 1000;
	while (flock(store->wait_fd, LOCK_EX | LOCK_NB) != 0) {
		if ((errno != EWOULDBLOCK && errno != EINTR) || g_get_monotonic_time() > deadline)
			return;
		g_usleep(1000);
	}
	flock(store->wait_fd, LOCK_UN);
}

gboolean
store_exec(store_t *store, const char *sql, const char *what, GError **error)
{
	int rc = sqlite3_exec(store->db, sql, NULL, NULL, NULL);

	wait_done(store);
	if (rc != SQLITE_OK) {
		store_set_error(store, error, what);
		return FALSE;
	}
	return TRUE;
}

/* At most this many statements are kept per connection. */
#define STATEMENTS_MAX 256

/* A kept statement and whether someone is using it. */
typedef struct {
	store_t *store;
	sqlite3_stmt *stmt;
	gboolean busy;
} kept_stmt_t;

/* Every kept statement of every store (statement → kept_stmt_t), so
 * store_stmt_release() knows which ones to keep. */
static GMutex kept_lock;
static GHashTable *kept_stmts;

sqlite3_stmt *
store_prepare(store_t *store, const char *sql, GError **error)
{
	sqlite3_stmt *stmt = NULL;
	kept_stmt_t *kept;

	g_mutex_lock(&kept_lock);
	kept = g_hash_table_lookup(store->statements, sql);
	if (kept != NULL && !kept->busy) {
		kept->busy = TRUE;
		g_mutex_unlock(&kept_lock);
		return kept->stmt;
	}
	g_mutex_unlock(&kept_lock);
	if (sqlite3_prepare_v3(store->db, sql, -1, kept == NULL ? SQLITE_PREPARE_PERSISTENT : 0,
	                       &stmt, NULL) != SQLITE_OK) {
		store_set_error(store, error, "prepare");
		sqlite3_finalize(stmt);
		return NULL;
	}
	/* A statement in use (a caller's caller runs the same SQL) is left
	 * alone: this one is finalized when released. */
	g_mutex_lock(&kept_lock);
	if (kept == NULL && !g_hash_table_contains(store->statements, sql) &&
	    g_hash_table_size(store->statements) < STATEMENTS_MAX) {
		kept = g_new0(kept_stmt_t, 1);
		kept->store = store;
		kept->stmt = stmt;
		kept->busy = TRUE;
		g_hash_table_insert(store->statements, g_strdup(sql), kept);
		if (kept_stmts == NULL)
			kept_stmts = g_hash_table_new(g_direct_hash, g_direct_equal);
		g_hash_table_insert(kept_stmts, stmt, kept);
	}
	g_mutex_unlock(&kept_lock);
	return stmt;
}

void
store_stmt_release(sqlite3_stmt *stmt)
{
	kept_stmt_t *kept;

	if (stmt == NULL)
		return;
	wait_done_for(sqlite3_db_handle(stmt));
	g_mutex_lock(&kept_lock);
	kept = kept_stmts ? g_hash_table_lookup(kept_stmts, stmt) : NULL;
	g_mutex_unlock(&kept_lock);
	if (kept == NULL) {
		sqlite3_finalize(stmt);
		return;
	}
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	g_mutex_lock(&kept_lock);
	kept->busy = FALSE;
	g_mutex_unlock(&kept_lock);
}

/* Finalize the statements STORE keeps (before closing its database). */
static void
drop_statements(store_t *store)
{
	GHashTableIter iter;
	gpointer value;

	if (store->statements == NULL)
		return;
	g_mutex_lock(&kept_lock);
	g_hash_table_iter_init(&iter, store->statements);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		kept_stmt_t *kept = value;

		g_hash_table_remove(kept_stmts, kept->stmt);
		sqlite3_finalize(kept->stmt);
		g_free(kept);
	}
	g_hash_table_remove_all(store->statements);
	g_mutex_unlock(&kept_lock);
}

gboolean
store_collect(store_t *store, sqlite3_stmt *stmt, GPtrArray *out, store_row_fn from_row,
              const char *what, GError **error)
{
	int rc;

	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		g_ptr_array_add(out, from_row(stmt));
	if (rc != SQLITE_DONE) {
		store_set_error(store, error, what);
		return FALSE;
	}
	return TRUE;
}

gboolean
store_step_done(store_t *store, sqlite3_stmt *stmt, const char *what, GError **error)
{
	int rc = sqlite3_step(stmt);

	if (rc != SQLITE_DONE) {
		store_set_error(store, error, what);
		sqlite3_reset(stmt);
		return FALSE;
	}
	sqlite3_reset(stmt);
	return TRUE;
}

void
store_bind_text(sqlite3_stmt *stmt, int index, const char *text)
{
	if (text == NULL)
		sqlite3_bind_null(stmt, index);
	else
		sqlite3_bind_text(stmt, index, text, -1, SQLITE_TRANSIENT);
}

char *
store_column_dup(sqlite3_stmt *stmt, int column)
{
	const unsigned char *text = sqlite3_column_text(stmt, column);

	return text ? g_strdup((const char *)text) : NULL;
}

char **
store_json_to_strv(const char *json)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	GPtrArray *out = g_ptr_array_new();
	JsonNode *root;

	if (json != NULL && json_parser_load_from_data(parser, json, -1, NULL) &&
	    (root = json_parser_get_root(parser)) != NULL && JSON_NODE_HOLDS_ARRAY(root)) {
		JsonArray *array = json_node_get_array(root);
		for (guint i = 0; i < json_array_get_length(array); i++) {
			const char *s = json_array_get_string_element(array, i);
			if (s != NULL)
				g_ptr_array_add(out, g_strdup(s));
		}
	}
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(out, FALSE);
}

char *
store_strv_to_json(const char *const *strv)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autoptr(JsonNode) root = NULL;

	json_builder_begin_array(builder);
	for (const char *const *s = strv; s && *s; s++)
		json_builder_add_string_value(builder, *s);
	json_builder_end_array(builder);
	root = json_builder_get_root(builder);
	return json_to_string(root, FALSE);
}

static gboolean
exec(store_t *store, const char *sql, GError **error)
{
	char *message = NULL;
	int rc = sqlite3_exec(store->db, sql, NULL, NULL, &message);

	wait_done(store);
	if (rc != SQLITE_OK) {
		int code = sqlite3_errcode(store->db);
		if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
			set_busy_error(error, NULL);
		else
			g_set_error(error, STORE_ERROR, PI_ERROR_FATAL, "database: %s",
			            message ? message : sqlite3_errstr(code));
		sqlite3_free(message);
		return FALSE;
	}
	return TRUE;
}

static gboolean
migrate(store_t *store, GError **error)
{
	g_autoptr(store_stmt_t) stmt = store_prepare(store, "PRAGMA user_version", error);
	int version;

	if (stmt == NULL)
		return FALSE;
	if (sqlite3_step(stmt) != SQLITE_ROW) {
		store_set_error(store, error, "schema version");
		return FALSE;
	}
	version = sqlite3_column_int(stmt, 0);
	/* End this read now: BEGIN IMMEDIATE below on a connection still
	 * reading a snapshot another process has since changed fails at once
	 * (SQLITE_BUSY_SNAPSHOT) instead of waiting for the lock. */
	sqlite3_reset(stmt);
	if (version > (int)G_N_ELEMENTS(migrations)) {
		g_set_error(error, STORE_ERROR, PI_ERROR_FATAL,
		            "database schema version %d is newer than this program (%d)", version,
		            (int)G_N_ELEMENTS(migrations));
		return FALSE;
	}
	for (int v = version; v < (int)G_N_ELEMENTS(migrations); v++) {
		g_autofree char *bump = g_strdup_printf("PRAGMA user_version = %d", v + 1);
		if (!store_begin(store, error))
			return FALSE;
		/* Another process may have migrated while we waited for the lock. */
		sqlite3_reset(stmt);
		if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_int(stmt, 0) > v) {
			v = sqlite3_column_int(stmt, 0) - 1;
			sqlite3_reset(stmt);
			store_rollback(store);
			continue;
		}
		sqlite3_reset(stmt);
		if (!exec(store, migrations[v], error) || !exec(store, bump, error)) {
			store_rollback(store);
			g_prefix_error(error, "migrating to schema %d: ", v + 1);
			return FALSE;
		}
		if (!store_commit(store, error))
			return FALSE;
		g_info("database schema migrated to version %d", v + 1);
	}
	return TRUE;
}

store_t *
store_open(const char *db_path, const char *spool_dir, GError **error)
{
	return store_open_keyed(db_path, spool_dir, NULL, error);
}

store_t *
store_open_keyed(const char *db_path, const char *spool_dir, const char *key_file,
                 GError **error)
{
	g_autoptr(store_t) store = g_new0(store_t, 1);
	g_autofree char *db_dir = g_path_get_dirname(db_path);
	g_autofree char *default_key = g_build_filename(db_dir, "spool.key", NULL);
	int rc;

	store->group_lock_fd = -1;
	store->wait_fd = -1;
	g_mutex_init(&store->scratch_lock);
	store->scratch = g_ptr_array_new();
	store->spare = g_ptr_array_new();
	store->plain_pool = g_ptr_array_new();
	store->statements = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	if (!g_file_test(db_dir, G_FILE_TEST_IS_DIR) && !pi_ensure_dir(db_dir, 0700, error))
		return NULL;
	rc = sqlite3_open_v2(db_path, &store->db,
	                     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
	                     NULL);
	if (rc != SQLITE_OK) {
		g_set_error(error, STORE_ERROR, PI_ERROR_FATAL, "cannot open database %s: %s",
		            db_path, store->db ? sqlite3_errmsg(store->db) : sqlite3_errstr(rc));
		return NULL;
	}
	sqlite3_busy_handler(store->db, on_busy, store);
	{
		g_autofree char *wait_path = g_strconcat(db_path, "-wait", NULL);

		/* Without it (a read-only folder) writers just do not say they wait. */
		store->wait_fd = open(wait_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	}
	sqlite3_extended_result_codes(store->db, 0);
	if (!exec(store, "PRAGMA journal_mode = WAL", error) ||
	    !exec(store, "PRAGMA synchronous = FULL", error) ||
	    !exec(store, "PRAGMA foreign_keys = ON", error) ||
	    /* The fetcher routes each message in a savepoint (group.c): its
	     * statement journal (the pages the message changes, some 100 KB)
	     * stays in memory instead of a file in /var/tmp rewritten for
	     * every message. */
	    !exec(store, "PRAGMA temp_store = MEMORY", error)) {
		g_prefix_error(error, "%s: ", db_path);
		return NULL;
	}
	if (!migrate(store, error)) {
		g_prefix_error(error, "%s: ", db_path);
		return NULL;
	}
	store->spool = g_canonicalize_filename(spool_dir, NULL);
	if (!pi_ensure_dir(store->spool, 0700, error))
		return NULL;
	store_spool_cleanup_tmp(store);
	if (!store_vault_open(store, key_file ? key_file : default_key, error))
		return NULL;
	return g_steal_pointer(&store);
}

void
store_free(store_t *store)
{
	if (store == NULL)
		return;
	if (store->in_group)
		store_group_rollback(store);
	if (store->in_transaction)
		store_rollback(store);
	drop_statements(store);
	g_hash_table_unref(store->statements);
	wait_done(store);
	if (store->wait_fd >= 0)
		close(store->wait_fd);
	if (store->db != NULL)
		sqlite3_close(store->db);
	store_spool_scratch_clear(store);
	g_ptr_array_unref(store->scratch);
	g_ptr_array_unref(store->spare);
	g_ptr_array_unref(store->plain_pool);
	g_mutex_clear(&store->scratch_lock);
	store_vault_close(store);
	g_free(store->spool);
	g_free(store);
}

gboolean
store_begin(store_t *store, GError **error)
{
	g_return_val_if_fail(!store->in_transaction, FALSE);
	/* Inside a group (group.c) a transaction is a savepoint. */
	if (!exec(store, store->in_group ? "SAVEPOINT one" : "BEGIN IMMEDIATE", error))
		return FALSE;
	store->in_transaction = TRUE;
	return TRUE;
}

gboolean
store_commit(store_t *store, GError **error)
{
	if (!exec(store, store->in_group ? "RELEASE one" : "COMMIT", error)) {
		store_rollback(store);
		return FALSE;
	}
	store->in_transaction = FALSE;
	return TRUE;
}

void
store_rollback(store_t *store)
{
	if (store->in_group) {
		if (store->in_transaction)
			sqlite3_exec(store->db, "ROLLBACK TO one; RELEASE one", NULL, NULL, NULL);
		store->in_transaction = FALSE;
		return;
	}
	if (sqlite3_get_autocommit(store->db) == 0)
		sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
	store->in_transaction = FALSE;
}
