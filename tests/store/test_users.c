/* test_users.c — the web console's accounts, sessions and sign-in throttle
 * (store/users.c) and template saves (store/template_saves.c) on a real
 * SQLite file: argon2id hashes, one answer for unknown/disabled/wrong,
 * sessions ended by disabling and by a new password, failure counts. */
#include "store/store.h"

#include "tests/lib/testserver.h"

#include <sodium.h>
#include <string.h>

typedef struct {
	char *dir;
	store_t *store;
} fixture_t;

#define PASSWORD "correct horse battery staple"

static void
setup(fixture_t *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *db = NULL, *spool = NULL;

	(void)data;
	g_assert_cmpint(sodium_init(), >=, 0);
	f->dir = testserver_tmpdir();
	db = g_build_filename(f->dir, "state", "pi.db", NULL);
	spool = g_build_filename(f->dir, "spool", NULL);
	f->store = store_open(db, spool, &error);
	g_assert_no_error(error);
}

static void
teardown(fixture_t *f, gconstpointer data)
{
	(void)data;
	store_free(f->store);
	testserver_tmpdir_remove(f->dir);
	g_free(f->dir);
}

static void
test_names_and_passwords(void)
{
	static const struct {
		const char *name;
		gboolean valid;
	} names[] = {
		{"sato", TRUE},       {"sato.k", TRUE},  {"a1_b-c", TRUE}, {"0x", TRUE},
		{"", FALSE},          {"Sato", FALSE},   {".sato", FALSE}, {"-x", FALSE},
		{"佐藤", FALSE},      {"a b", FALSE},    {"a/b", FALSE},   {"a'b", FALSE},
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", FALSE},
	};
	static const struct {
		const char *password;
		gboolean ok;
	} passwords[] = {
		{"short", FALSE}, {"elevenchars", FALSE}, {"twelve chars", TRUE},
		{"パスワードは十二文字以上です", TRUE}, {"\xff\xfe invalid utf-8 text", FALSE},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(names); i++)
		g_assert_true(store_user_name_valid(names[i].name) == names[i].valid);
	for (gsize i = 0; i < G_N_ELEMENTS(passwords); i++) {
		g_autoptr(GError) error = NULL;
		gboolean ok = store_password_acceptable(passwords[i].password, &error);
		g_assert_true(ok == passwords[i].ok);
		if (!ok)
			g_assert_error(error, STORE_ERROR, PI_ERROR_REFUSED);
	}
}

static gint64
count(fixture_t *f, const char *table)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *path = g_build_filename(f->dir, "state", "pi.db", NULL);
	g_autofree char *sql = g_strdup_printf("SELECT count(*) FROM %s", table);
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;
	gint64 n;

	g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
	g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
	g_assert_cmpint(sqlite3_step(stmt), ==, SQLITE_ROW);
	n = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return n;
}

static void
test_accounts(fixture_t *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(store_user_t) user = NULL;
	g_autoptr(GPtrArray) users = NULL;

	(void)data;
	g_assert_true(store_user_add(f->store, "sato", "staff", PASSWORD, "root", &error));
	g_assert_no_error(error);
	g_assert_false(store_user_add(f->store, "sato", "admin", PASSWORD, "root", &error));
	g_assert_error(error, STORE_ERROR, PI_ERROR_REFUSED);
	g_clear_error(&error);
	g_assert_false(store_user_add(f->store, "kato", "root", PASSWORD, "root", &error));
	g_assert_error(error, STORE_ERROR, PI_ERROR_REFUSED);
	g_clear_error(&error);
	g_assert_false(store_user_add(f->store, "kato", "admin", "short", "root", &error));
	g_assert_error(error, STORE_ERROR, PI_ERROR_REFUSED);
	g_clear_error(&error);

	/* Right password: the account.  Anything else: one error. */
	g_assert_true(store_user_authenticate(f->store, "sato", PASSWORD, &user, &error));
	g_assert_cmpstr(user->role, ==, "staff");
	g_clear_pointer(&user, store_user_free);
	g_assert_false(store_user_authenticate(f->store, "sato", PASSWORD " ", &user, &error));
	g_assert_error(error, STORE_ERROR, PI_ERROR_AUTH);
	g_assert_null(user);
	g_clear_error(&error);
	g_assert_false(store_user_authenticate(f->store, "nobody", PASSWORD, &user, &error));
	g_assert_error(error, STORE_ERROR, PI_ERROR_AUTH);
	g_clear_error(&error);

	/* Sessions end when the account is disabled or its password changes. */
	g_assert_true(store_session_create(f->store, "h1", 1, "127.0.0.1", &error));
	g_assert_true(store_session_create(f->store, "h2", 1, "127.0.0.1", &error));
	{
		g_autoptr(store_session_t) s = store_session_get(f->store, "h1", &error);
		g_assert_nonnull(s);
		g_assert_cmpstr(s->user_name, ==, "sato");
		g_assert_false(s->user_disabled);
	}
	g_assert_null(store_session_get(f->store, "nope", &error));
	g_assert_no_error(error);
	g_assert_true(store_user_set_disabled(f->store, "sato", TRUE, "root", &error));
	g_assert_cmpint(count(f, "web_sessions"), ==, 0);
	g_assert_false(store_user_authenticate(f->store, "sato", PASSWORD, &user, &error));
	g_assert_error(error, STORE_ERROR, PI_ERROR_AUTH);
	g_clear_error(&error);
	g_assert_true(store_user_set_disabled(f->store, "sato", FALSE, "root", &error));
	g_assert_true(store_session_create(f->store, "h3", 1, "127.0.0.1", &error));
	g_assert_true(store_user_set_password(f->store, "sato", "a new password here", "root", &error));
	g_assert_cmpint(count(f, "web_sessions"), ==, 0);
	g_assert_false(store_user_authenticate(f->store, "sato", PASSWORD, &user, &error));
	g_clear_error(&error);
	g_assert_true(store_user_authenticate(f->store, "sato", "a new password here", &user, &error));
	g_clear_pointer(&user, store_user_free);

	/* Expiry by idle time and age. */
	g_assert_true(store_session_create(f->store, "h4", 1, NULL, &error));
	g_assert_true(store_session_expire(f->store, "2000-01-01T00:00:00Z", "2000-01-01T00:00:00Z", &error));
	g_assert_cmpint(count(f, "web_sessions"), ==, 1);
	g_assert_true(store_session_expire(f->store, "2999-01-01T00:00:00Z", "2000-01-01T00:00:00Z", &error));
	g_assert_cmpint(count(f, "web_sessions"), ==, 0);

	/* Only hashes are kept, and every change is audited. */
	users = store_user_list(f->store, &error);
	g_assert_cmpuint(users->len, ==, 1);
	g_assert_nonnull(((store_user_t *)g_ptr_array_index(users, 0))->last_login_at);
	g_assert_cmpint(count(f, "users WHERE password_hash LIKE '$argon2id$%'"), ==, 1);
	g_assert_cmpint(count(f, "users WHERE password_hash LIKE '%horse%'"), ==, 0);
	g_assert_cmpint(count(f, "audit WHERE actor = 'root' AND action LIKE 'user %'"), ==, 4);
}

static void
test_failures(fixture_t *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	(void)data;
	for (int i = 0; i < 3; i++)
		g_assert_true(store_login_failure_add(f->store, "sato", "10.0.0.1", &error));
	g_assert_true(store_login_failure_add(f->store, "kato", "10.0.0.2", &error));
	g_assert_true(store_login_failure_add(f->store, "\xff\xfe", "10.0.0.2", &error));
	g_assert_cmpint(store_login_failures_since(f->store, "sato", NULL, "2000-01-01T00:00:00Z", &error), ==, 3);
	g_assert_cmpint(store_login_failures_since(f->store, NULL, "10.0.0.2", "2000-01-01T00:00:00Z", &error), ==, 2);
	g_assert_cmpint(store_login_failures_since(f->store, NULL, NULL, "2999-01-01T00:00:00Z", &error), ==, 0);
}

static void
test_template_saves(fixture_t *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) saves = NULL;
	g_autoptr(store_template_save_t) one = NULL;

	(void)data;
	g_assert_true(store_template_save_add(f->store, "ja/ack.tmpl", "aa", "first", "kato", &error));
	g_assert_true(store_template_save_add(f->store, "ja/ack.tmpl", "bb", "second", "kato", &error));
	g_assert_true(store_template_save_add(f->store, "en/ack.tmpl", "cc", "other", "kato", &error));
	saves = store_template_saves(f->store, "ja/ack.tmpl", 0, FALSE, &error);
	g_assert_cmpuint(saves->len, ==, 2);
	g_assert_cmpstr(((store_template_save_t *)g_ptr_array_index(saves, 0))->sha256, ==, "bb");
	g_assert_null(((store_template_save_t *)g_ptr_array_index(saves, 0))->text);
	one = store_template_save_get(f->store, ((store_template_save_t *)g_ptr_array_index(saves, 1))->id,
	                              &error);
	g_assert_cmpstr(one->text, ==, "first");
	g_assert_null(store_template_save_get(f->store, 999, &error));
	g_assert_error(error, STORE_ERROR, PI_ERROR_NOT_FOUND);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/users/names-and-passwords", test_names_and_passwords);
	g_test_add("/users/accounts-and-sessions", fixture_t, NULL, setup, test_accounts, teardown);
	g_test_add("/users/failed-sign-ins", fixture_t, NULL, setup, test_failures, teardown);
	g_test_add("/users/template-saves", fixture_t, NULL, setup, test_template_saves, teardown);
	return g_test_run();
}
