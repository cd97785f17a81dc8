/* test_store.c — the store on real SQLite files: schema, references,
 * duplicates, checkpoints, drafts and outbox transitions, spool files, audit. */
#include "store/store.h"

#include <glib/gstdio.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/lib/testserver.h"

typedef struct {
	char *dir;
	store_t *store;
} fixture_t;

static void
setup(fixture_t *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *db = NULL;
	g_autofree char *spool = NULL;

	(void)data;
	f->dir = testserver_tmpdir();
	db = g_build_filename(f->dir, "state", "pi.db", NULL);
	spool = g_build_filename(f->dir, "spool", NULL);
	f->store = store_open(db, spool, &error);
	g_assert_no_error(error);
	g_setenv("PRIVACY_INBOX_NOW", "2026-11-27T01:00:00Z", TRUE);
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
open_ticket(store_t *store, const char *address, const char *state, const char *created)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(store_ticket_t) t = g_new0(store_ticket_t, 1);

	t->state = g_strdup(state);
	t->requester_address = g_strdup(address);
	t->request_types = g_strsplit("disclosure", ";", -1);
	t->created_at = g_strdup(created);
	g_assert_true(store_begin(store, &error));
	g_assert_true(store_ticket_open(store, t, &error));
	g_assert_true(store_commit(store, &error));
	g_assert_no_error(error);
	return t->id;
}

static void
test_references(fixture_t *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(store_ticket_t) a = NULL, b = NULL, c = NULL;
	gint64 id1, id2, id3;

	(void)data;
	id1 = open_ticket(f->store, "a@example.jp", "awaiting_id", "2026-11-27T01:00:00Z");
	id2 = open_ticket(f->store, "b@example.jp", "awaiting_id", "2026-12-31T20:00:00Z");
	id3 = open_ticket(f->store, "c@example.jp", "triage", "2027-01-01T00:00:00Z");
	a = store_ticket_get_by_id(f->store, id1, &error);
	b = store_ticket_get_by_id(f->store, id2, &error);
	c = store_ticket_get_by_id(f->store, id3, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(a->ref, ==, "PRV-2026-000001");
	g_assert_cmpstr(b->ref, ==, "PRV-2026-000002");
	g_assert_cmpstr(c->ref, ==, "PRV-2027-000001");
	g_assert_cmpstr(a->request_types[0], ==, "disclosure");
	g_assert_null(a->request_types[1]);
	{
		g_autoptr(store_ticket_t) again = store_ticket_get(f->store, "PRV-2026-000002", &error);
		g_assert_no_error(error);
		g_assert_cmpint(again->id, ==, id2);
		g_assert_cmpstr(again->requester_address, ==, "b@example.jp");
	}
	{
		g_autoptr(store_ticket_t) none = store_ticket_get(f->store, "PRV-2026-999999", &error);
		g_assert_null(none);
		g_assert_error(error, STORE_ERROR, PI_ERROR_NOT_FOUND);
		g_clear_error(&error);
	}
	{
		g_autoptr(GPtrArray) all = store_ticket_list(f->store, NULL, &error);
		g_autoptr(GPtrArray) triage = store_ticket_list(f->store, "triage", &error);
		g_assert_no_error(error);
		g_assert_cmpuint(all->len, ==, 3);
		g_assert_cmpuint(triage->len, ==, 1);
	}
}

static void
test_checkpoint_and_pending(fixture_t *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) pending = NULL;
	guint32 validity, last;
	const guint32 done[] = {7};

	(void)data;
	g_assert_true(store_mailbox_get(f->store, "INBOX", &validity, &last, &error));
	g_assert_cmpuint(validity, ==, 0);
	g_assert_cmpuint(last, ==, 0);
	g_assert_true(store_begin(f->store, &error));
	g_assert_true(store_mailbox_set(f->store, "INBOX", 42, 9, &error));
	g_assert_true(store_server_pending_add(f->store, "INBOX", 42, 7, &error));
	g_assert_true(store_server_pending_add(f->store, "INBOX", 42, 9, &error));
	g_assert_true(store_server_pending_add(f->store, "INBOX", 41, 3, &error));
	g_assert_true(store_commit(f->store, &error));
	g_assert_true(store_mailbox_get(f->store, "INBOX", &validity, &last, &error));
	g_assert_cmpuint(validity, ==, 42);
	g_assert_cmpuint(last, ==, 9);
	g_assert_true(store_server_pending_done(f->store, "INBOX", 42, done, 1, &error));
	pending = store_server_pending(f->store, "INBOX", 42, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(pending->len, ==, 1);
	g_assert_cmpuint(g_array_index(pending, guint32, 0), ==, 9);
	g_assert_true(store_server_pending_drop_other(f->store, "INBOX", 42, &error));
	g_clear_pointer(&pending, g_array_unref);
	pending = store_server_pending(f->store, "INBOX", 41, &error);
	g_assert_cmpuint(pending->len, ==, 0);
}

static void
test_duplicates(fixture_t *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	store_message_t m = {0};
	gint64 row;

	(void)data;
	m.direction = "in";
	m.message_id = "abc@example.jp";
	m.sha256 = "11";
	m.size = 10;
	m.mailbox = "INBOX";
	m.uidvalidity = 5;
	m.uid = 3;
	row = store_message_insert(f->store, &m, &error);
	g_assert_no_error(error);
	g_assert_cmpint(row, >, 0);
	/* Same UID, different Message-ID: still the same message. */
	g_assert_cmpint(store_message_find_duplicate(f->store, "INBOX", 5, 3, "other@x", "22", &error),
	                ==, row);
	/* Same Message-ID in another folder or after a UIDVALIDITY reset. */
	g_assert_cmpint(store_message_find_duplicate(f->store, "Other", 1, 1, "abc@example.jp", "33",
	                                             &error),
	                ==, row);
	g_assert_cmpint(store_message_find_duplicate(f->store, "INBOX", 6, 3, "new@x", "11", &error),
	                ==, 0);
	/* No Message-ID: the content hash decides. */
	m.message_id = NULL;
	m.sha256 = "44";
	m.uid = 4;
	row = store_message_insert(f->store, &m, &error);
	g_assert_cmpint(store_message_find_duplicate(f->store, NULL, 0, 0, NULL, "44", &error), ==,
	                row);
	g_assert_cmpint(store_message_find_duplicate(f->store, NULL, 0, 0, NULL, "55", &error), ==, 0);
	g_assert_no_error(error);
	/* The UNIQUE (mailbox, uidvalidity, uid) constraint holds. */
	g_assert_cmpint(store_message_insert(f->store, &m, &error), ==, 0);
	g_assert_error(error, STORE_ERROR, PI_ERROR_FATAL);
}

static gint64
insert_draft(store_t *store, gint64 ticket_id, const char *state)
{
	g_autoptr(GError) error = NULL;
	const char *refs[] = {"req@example.jp", NULL};
	store_draft_new_t d = {0};
	gint64 id;

	d.ticket_id = ticket_id;
	d.kind = "ack";
	d.language = "ja";
	d.state = state;
	d.approved_by = state ? "policy" : NULL;
	d.to_address = "a@example.jp";
	d.to_name = "山田 太郎";
	d.subject = "【受付】開示のご請求について [PRV-2026-000001]";
	d.body = "本文\n";
	d.in_reply_to = "req@example.jp";
	d.references = refs;
	d.template_hash = "abc";
	id = store_draft_insert(store, &d, &error);
	g_assert_no_error(error);
	return id;
}

static void
test_draft_transitions(fixture_t *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	gint64 ticket = open_ticket(f->store, "a@example.jp", "awaiting_verification", NULL);
	gint64 id = insert_draft(f->store, ticket, NULL);
	gint64 auto_id = insert_draft(f->store, ticket, "approved");

	(void)data;
	{
		g_autoptr(store_draft_t) d = store_draft_get(f->store, id, &error);
		g_assert_no_error(error);
		g_assert_cmpstr(d->state, ==, "pending");
		g_assert_cmpstr(d->ticket_ref, ==, "PRV-2026-000001");
		g_assert_cmpstr(d->to_name, ==, "山田 太郎");
		g_assert_cmpstr(d->references[0], ==, "req@example.jp");
	}
	/* A placeholder typed while editing (or left unfilled) blocks approval. */
	g_assert_true(store_draft_edit(f->store, id, "suzuki", "new subject",
	                               "Dear {{requester_name}},\n", &error));
	g_assert_false(store_draft_approve(f->store, id, "sato", FALSE, &error));
	g_assert_error(error, STORE_ERROR, PI_ERROR_REFUSED);
	g_assert_nonnull(strstr(error->message, "{{requester_name}}"));
	g_clear_error(&error);
	g_assert_true(store_draft_edit(f->store, id, "suzuki", "new subject", "new body\n", &error));
	g_assert_no_error(error);
	/* Four eyes: the editor cannot approve, another person can. */
	g_assert_false(store_draft_approve(f->store, id, "suzuki", TRUE, &error));
	g_assert_error(error, STORE_ERROR, PI_ERROR_REFUSED);
	g_assert_nonnull(strstr(error->message, "four-eyes"));
	g_clear_error(&error);
	g_assert_true(store_draft_approve(f->store, id, "sato", FALSE, &error));
	g_assert_no_error(error);
	/* Approving twice, editing or rejecting an approved draft is refused. */
	g_assert_false(store_draft_approve(f->store, id, "sato", FALSE, &error));
	g_assert_error(error, STORE_ERROR, PI_ERROR_REFUSED);
	g_clear_error(&error);
	g_assert_false(store_draft_edit(f->store, id, "sato", "x", "y", &error));
	g_assert_error(error, STORE_ERROR, PI_ERROR_REFUSED);
	g_clear_error(&error);
	g_assert_false(store_draft_reject(f->store, id, "sato", "no", &error));
	g_assert_error(error, STORE_ERROR, PI_ERROR_REFUSED);
	g_clear_error(&error);
	g_assert_false(store_draft_approve(f->store, 999, "sato", FALSE, &error));
	g_assert_error(error, STORE_ERROR, PI_ERROR_NOT_FOUND);
	g_clear_error(&error);
	{
		g_autoptr(store_draft_t) d = store_draft_get(f->store, id, &error);
		g_assert_cmpstr(d->state, ==, "approved");
		g_assert_cmpstr(d->approved_by, ==, "sato");
		g_assert_cmpstr(d->edited_by, ==, "suzuki");
		g_assert_cmpstr(d->subject, ==, "new subject");
	}
	{
		g_autoptr(GPtrArray) due = store_outbox_due(f->store, &error);
		g_assert_no_error(error);
		g_assert_cmpuint(due->len, ==, 2);
		g_assert_cmpint(((store_draft_t *)g_ptr_array_index(due, 1))->id, ==, auto_id);
	}
}

static void
test_outbox(fixture_t *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	gint64 ticket = open_ticket(f->store, "a@example.jp", "awaiting_verification", NULL);
	gint64 a = insert_draft(f->store, ticket, "approved");
	gint64 b = insert_draft(f->store, ticket, "approved");
	gint64 c = insert_draft(f->store, ticket, "approved");

	(void)data;
	/* a: temporary failure, retried; b: permanent failure; c: sent. */
	g_assert_true(store_outbox_begin(f->store, a, "m-a@x", &error));
	g_assert_true(store_outbox_failed(f->store, a, "451 try later", TRUE, &error));
	g_assert_true(store_outbox_begin(f->store, b, "m-b@x", &error));
	g_assert_true(store_outbox_failed(f->store, b, "550 no such user", FALSE, &error));
	g_assert_true(store_outbox_begin(f->store, c, "m-c@x", &error));
	g_assert_true(store_outbox_sent(f->store, c, "messages/aa/aa", "aa", 10, &error));
	g_assert_no_error(error);
	/* The temporary failure waits for its backoff (a minute after one
	 * attempt, with jitter) before it is due again. */
	{
		g_autoptr(GPtrArray) due = store_outbox_due(f->store, &error);
		g_assert_cmpuint(due->len, ==, 0);
	}
	g_setenv("PRIVACY_INBOX_NOW", "2026-11-27T01:02:00Z", TRUE);
	{
		g_autoptr(GPtrArray) due = store_outbox_due(f->store, &error);
		g_assert_cmpuint(due->len, ==, 1);
		g_assert_cmpint(((store_draft_t *)g_ptr_array_index(due, 0))->id, ==, a);
	}
	/* The retry keeps the first Message-ID. */
	g_assert_true(store_outbox_begin(f->store, a, "m-a2@x", &error));
	{
		g_autoptr(store_draft_t) d = store_draft_get(f->store, a, &error);
		g_assert_cmpstr(d->message_id, ==, "m-a@x");
		g_assert_cmpuint(d->attempts, ==, 2);
	}
	/* …and a crash now (no sent/failed recorded) must not lead to a
	 * second automatic send. */
	{
		g_autoptr(GPtrArray) due = store_outbox_due(f->store, &error);
		g_autoptr(store_draft_t) d = store_draft_get(f->store, a, &error);
		g_assert_cmpuint(due->len, ==, 0);
		g_assert_cmpstr(d->state, ==, "failed");
		g_assert_false(d->retry);
		g_assert_nonnull(strstr(d->last_error, "interrupted while sending"));
	}
	/* A sent reply is part of the conversation: replies to it find the ticket. */
	g_assert_cmpint(store_ticket_by_message_id(f->store, "m-c@x", &error), ==, ticket);
	g_assert_cmpint(store_ticket_by_message_id(f->store, "unknown@x", &error), ==, 0);
	g_assert_no_error(error);
}

static void
test_spool(fixture_t *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(spool_file_t) file = store_spool_file_new(f->store, &error);
	g_autoptr(spool_file_t) same = store_spool_file_new(f->store, &error);
	g_autofree char *expected = g_compute_checksum_for_string(G_CHECKSUM_SHA256, "hello world", -1);
	g_autofree char *rel = NULL, *rel2 = NULL, *abs = NULL, *tmp_copy = NULL;
	g_autoptr(GMimeStream) stream = NULL;
	struct stat st;

	(void)data;
	g_assert_no_error(error);
	g_assert_true(spool_file_write(file, "hello ", 6, &error));
	stream = spool_file_stream(file);
	g_assert_cmpint(g_mime_stream_write_string(stream, "world"), ==, 5);
	g_assert_true(spool_file_finish(file, &error));
	g_assert_cmpstr(spool_file_sha256(file), ==, expected);
	g_assert_cmpuint(spool_file_size(file), ==, 11);
	rel = spool_file_keep(file, "documents", &error);
	g_assert_no_error(error);
	g_assert_true(g_str_has_prefix(rel, "documents/"));
	g_assert_true(g_str_has_suffix(rel, expected));
	abs = store_spool_path(f->store, rel);
	g_assert_cmpint(g_stat(abs, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0600);
	{
		g_autofree char *dir = g_path_get_dirname(abs);
		g_assert_cmpint(g_stat(dir, &st), ==, 0);
		g_assert_cmpint(st.st_mode & 0777, ==, 0700);
	}
	/* Same content again: same name, temporary copy gone. */
	g_assert_true(spool_file_write(same, "hello world", 11, &error));
	g_assert_true(spool_file_finish(same, &error));
	tmp_copy = g_strdup(spool_file_path(same));
	rel2 = spool_file_keep(same, "documents", &error);
	g_assert_cmpstr(rel2, ==, rel);
	g_assert_false(g_file_test(tmp_copy, G_FILE_TEST_EXISTS));
	/* A file that is not kept disappears when freed. */
	{
		spool_file_t *dropped = store_spool_file_new(f->store, &error);
		g_autofree char *path = g_strdup(spool_file_path(dropped));
		g_assert_true(g_file_test(path, G_FILE_TEST_EXISTS));
		spool_file_free(dropped);
		g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
	}
}

/* A file whose bytes the caller hashed (the parser's digest of an identity
 * document): named by that digest, refused when it does not fit. */
static void
test_spool_hashed_by_caller(fixture_t *f, gconstpointer data)
{
	g_autofree char *good = g_compute_checksum_for_string(G_CHECKSUM_SHA256, "hello world", -1);
	g_autofree char *upper = g_ascii_strup(good, -1);
	static const struct {
		const char *name;
		gboolean bad_size;
		gboolean ok;
	} rows[] = {
		{"good", FALSE, TRUE},
		{"wrong size", TRUE, FALSE},
		{"not lowercase hex", FALSE, FALSE},
		{"path", FALSE, FALSE},
		{"none", FALSE, FALSE},
	};

	(void)data;
	for (guint i = 0; i < G_N_ELEMENTS(rows); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(spool_file_t) file = store_spool_file_new_hashed_by_caller(f->store, &error);
		const char *digest = i == 2 ? upper : i == 3 ? "../../x" : i == 4 ? NULL : good;
		gboolean ok;

		g_test_message("row %s", rows[i].name);
		g_assert_no_error(error);
		g_assert_true(spool_file_write(file, "hello world", 11, &error));
		ok = spool_file_finish_hashed(file, digest, rows[i].bad_size ? 12 : 11, &error);
		g_assert_cmpint(ok, ==, rows[i].ok);
		if (!ok) {
			g_assert_error(error, STORE_ERROR, PI_ERROR_FATAL);
			continue;
		}
		g_assert_cmpstr(spool_file_sha256(file), ==, good);
		{
			g_autofree char *rel = spool_file_keep(file, "documents", &error);
			g_autofree char *abs = NULL;
			g_autofree char *plain = NULL;
			gsize len = 0;
			int fd;

			g_assert_no_error(error);
			g_assert_true(g_str_has_suffix(rel, good));
			/* the ciphertext is bound to that name and decrypts */
			abs = store_spool_path(f->store, rel);
			plain = g_build_filename(f->dir, "plain", NULL);
			fd = open(plain, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
			g_assert_cmpint(fd, >=, 0);
			g_assert_true(store_spool_decrypt_to_fd(f->store, rel, fd, &error));
			g_assert_no_error(error);
			close(fd);
			{
				g_autofree char *text = NULL;
				g_assert_true(g_file_get_contents(plain, &text, &len, NULL));
				g_assert_cmpmem(text, len, "hello world", 11);
			}
		}
	}
}

static void
test_reopen_and_json(fixture_t *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *db = g_build_filename(f->dir, "state", "pi.db", NULL);
	g_autofree char *spool = g_build_filename(f->dir, "spool", NULL);
	gint64 id = open_ticket(f->store, "a@example.jp", "awaiting_id", NULL);
	g_autoptr(store_t) second = NULL;
	g_autoptr(store_ticket_t) t = NULL;
	g_autoptr(JsonNode) node = NULL;
	JsonObject *o;

	(void)data;
	/* A second connection (as a staff command beside the daemon) sees it. */
	second = store_open(db, spool, &error);
	g_assert_no_error(error);
	t = store_ticket_get_by_id(second, id, &error);
	g_assert_no_error(error);
	g_assert_true(store_begin(second, &error));
	g_assert_true(store_ticket_set_state(second, id, "awaiting_verification", "sato", "ok", &error));
	g_assert_true(store_commit(second, &error));
	node = store_ticket_to_json(f->store, t, TRUE, &error);
	g_assert_no_error(error);
	o = json_node_get_object(node);
	g_assert_cmpstr(json_object_get_string_member(o, "ref"), ==, t->ref);
	g_assert_cmpstr(json_object_get_string_member(o, "requester"), ==, "a@example.jp");
	g_assert_cmpuint(json_array_get_length(json_object_get_array_member(o, "events")), ==, 2);
	g_assert_cmpuint(json_array_get_length(json_object_get_array_member(o, "request_types")), ==, 1);
}

/* A staff command's transaction, in a thread of its own. */
typedef struct {
	store_t *store;
	gint64 ticket;
	gint started;  /* asked for the write lock */
	gint finished; /* committed */
} staff_t;

static gpointer
staff_write(gpointer data)
{
	staff_t *staff = data;
	g_autoptr(GError) error = NULL;

	g_atomic_int_set(&staff->started, 1);
	g_assert_true(store_begin(staff->store, &error));
	g_assert_no_error(error);
	g_assert_true(store_ticket_set_state(staff->store, staff->ticket, "awaiting_verification",
	                                     "sato", "ok", &error));
	g_assert_true(store_commit(staff->store, &error));
	g_atomic_int_set(&staff->finished, 1);
	return NULL;
}

/* A fetch commits one group right after another; a staff command waiting
 * for the write lock meanwhile gets it between two groups (it says it is
 * waiting; store_group_begin() lets it go first) instead of retrying
 * until its busy timeout. */
static void
test_groups_let_waiting_writers_in(fixture_t *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *db = g_build_filename(f->dir, "state", "pi.db", NULL);
	g_autofree char *spool = g_build_filename(f->dir, "spool", NULL);
	staff_t staff = {0};
	GThread *thread;

	(void)data;
	staff.ticket = open_ticket(f->store, "a@example.jp", "awaiting_id", NULL);
	staff.store = store_open(db, spool, &error);
	g_assert_no_error(error);

	g_assert_true(store_group_begin(f->store, &error));
	thread = g_thread_new("staff", staff_write, &staff);
	while (!g_atomic_int_get(&staff.started))
		g_usleep(1000);
	g_usleep(100 * 1000); /* the staff command waits for the lock */
	g_assert_false(g_atomic_int_get(&staff.finished));
	g_assert_true(store_group_commit(f->store, &error));
	/* The next group starts only once the staff command is through. */
	g_assert_true(store_group_begin(f->store, &error));
	g_assert_no_error(error);
	g_assert_true(g_atomic_int_get(&staff.finished));
	g_assert_true(store_group_commit(f->store, &error));
	g_thread_join(thread);
	store_free(staff.store);
}

static void
test_audit_chain(fixture_t *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *db = g_build_filename(f->dir, "state", "pi.db", NULL);
	sqlite3 *raw = NULL;
	sqlite3_stmt *stmt = NULL;
	char *prev = NULL;
	int rows = 0;

	(void)data;
	g_assert_true(store_audit(f->store, "sato", "approved", "PRV-2026-000001", "draft 1", &error));
	g_assert_true(store_audit(f->store, "sato", "rejected", NULL, "draft 2", &error));
	g_assert_no_error(error);
	g_assert_cmpint(sqlite3_open(db, &raw), ==, SQLITE_OK);
	g_assert_cmpint(sqlite3_prepare_v2(raw, "SELECT prev_hash, hash FROM audit ORDER BY id", -1,
	                                   &stmt, NULL),
	                ==, SQLITE_OK);
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		const char *p = (const char *)sqlite3_column_text(stmt, 0);
		if (prev != NULL)
			g_assert_cmpstr(p, ==, prev);
		g_free(prev);
		prev = g_strdup((const char *)sqlite3_column_text(stmt, 1));
		g_assert_cmpuint(strlen(prev), ==, 64);
		rows++;
	}
	g_assert_cmpint(rows, ==, 2);
	g_free(prev);
	sqlite3_finalize(stmt);
	sqlite3_close(raw);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_mime_init();
#define ADD(name, fn) g_test_add(name, fixture_t, NULL, setup, fn, teardown)
	ADD("/store/references", test_references);
	ADD("/store/checkpoint-and-pending", test_checkpoint_and_pending);
	ADD("/store/duplicates", test_duplicates);
	ADD("/store/draft-transitions", test_draft_transitions);
	ADD("/store/outbox", test_outbox);
	ADD("/store/spool", test_spool);
	ADD("/store/spool-hashed-by-caller", test_spool_hashed_by_caller);
	ADD("/store/reopen-and-json", test_reopen_and_json);
	ADD("/store/audit-chain", test_audit_chain);
	ADD("/store/groups-let-waiting-writers-in", test_groups_let_waiting_writers_in);
	return g_test_run();
}
