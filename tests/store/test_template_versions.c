/* test_template_versions.c — the wording of every reply ever drafted, kept
 * by template version (store/templates.c) on a real SQLite file: first and
 * last use, use counts, lookups by unique prefix, newest first. */
#include "store/store.h"

#include "tests/lib/testserver.h"

#include <string.h>

typedef struct {
	char *dir;
	char *db;
	store_t *store;
} fixture_t;

#define HASH_A "aaaaaa0000000000000000000000000000000000000000000000000000000001"
#define HASH_B "aaaaaa0000000000000000000000000000000000000000000000000000000002"
#define HASH_C "cccccc0000000000000000000000000000000000000000000000000000000003"

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
	g_unsetenv("PRIVACY_INBOX_NOW");
}

static void
use(fixture_t *f, const char *when, const char *kind, const char *lang, const char *hash,
    const char *text)
{
	g_autoptr(GError) error = NULL;

	g_setenv("PRIVACY_INBOX_NOW", when, TRUE);
	g_assert_true(store_template_version_use(f->store, kind, lang, hash, text,
	                                         "{\"signature\": \"--\\n\"}", &error));
	g_assert_no_error(error);
}

/* The text is kept the first time; later uses only count. */
static void
test_first_use_keeps_text(fixture_t *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(store_template_version_t) v = NULL;

	(void)data;
	use(f, "2026-11-27T01:00:00Z", "ack", "ja", HASH_A, "Subject: 一\n\n本文\n");
	use(f, "2026-11-28T02:00:00Z", "ack", "ja", HASH_A, "Subject: 別\n\n別\n");
	use(f, "2026-11-29T03:00:00Z", "ack", "ja", HASH_A, "Subject: 一\n\n本文\n");
	v = store_template_version_get(f->store, "ack", "ja", HASH_A, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(v->kind, ==, "ack");
	g_assert_cmpstr(v->language, ==, "ja");
	g_assert_cmpstr(v->hash, ==, HASH_A);
	g_assert_cmpstr(v->text, ==, "Subject: 一\n\n本文\n");
	g_assert_cmpstr(v->partials, ==, "{\"signature\": \"--\\n\"}");
	g_assert_cmpstr(v->first_used_at, ==, "2026-11-27T01:00:00Z");
	g_assert_cmpstr(v->last_used_at, ==, "2026-11-29T03:00:00Z");
	g_assert_cmpuint(v->uses, ==, 3);
}

/* A unique prefix of six or more hex digits finds a version; several
 * matches, no match and a bad prefix are told apart. */
static void
test_prefix_lookup(fixture_t *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	store_template_version_t *v;

	(void)data;
	use(f, "2026-11-27T01:00:00Z", "ack", "ja", HASH_A, "a");
	use(f, "2026-11-27T02:00:00Z", "ack", "ja", HASH_B, "b");
	use(f, "2026-11-27T03:00:00Z", "ack", "en", HASH_C, "c");

	v = store_template_version_get(f->store, "ack", NULL, "cccccc", &error);
	g_assert_no_error(error);
	g_assert_cmpstr(v->language, ==, "en");
	store_template_version_free(v);
	/* Case does not matter for hex digits. */
	v = store_template_version_get(f->store, "ack", NULL, "CCCCCC00", &error);
	g_assert_no_error(error);
	store_template_version_free(v);

	v = store_template_version_get(f->store, "ack", "ja", "aaaaaa", &error);
	g_assert_null(v);
	g_assert_error(error, STORE_ERROR, PI_ERROR_REFUSED);
	g_clear_error(&error);
	v = store_template_version_get(f->store, "ack", "ja", HASH_B, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(v->text, ==, "b");
	store_template_version_free(v);

	/* Another kind or language does not count. */
	v = store_template_version_get(f->store, "id_missing", NULL, "cccccc", &error);
	g_assert_null(v);
	g_assert_error(error, STORE_ERROR, PI_ERROR_NOT_FOUND);
	g_clear_error(&error);
	v = store_template_version_get(f->store, "ack", "ja", "cccccc", &error);
	g_assert_null(v);
	g_assert_error(error, STORE_ERROR, PI_ERROR_NOT_FOUND);
	g_clear_error(&error);
	/* Too short, not hex, or a LIKE pattern: refused, never matched. */
	for (const char *const *bad =
	         (const char *const[]){"aaaaa", "%", "aaaaaa%", "zzzzzz", NULL};
	     *bad; bad++) {
		v = store_template_version_get(f->store, "ack", NULL, *bad, &error);
		g_assert_null(v);
		g_assert_error(error, STORE_ERROR, PI_ERROR_NOT_FOUND);
		g_clear_error(&error);
	}
}

/* History: newest first, per kind, one language or both. */
static void
test_history(fixture_t *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) both = NULL;
	g_autoptr(GPtrArray) ja = NULL;
	g_autoptr(GPtrArray) none = NULL;

	(void)data;
	use(f, "2026-11-27T01:00:00Z", "ack", "ja", HASH_A, "a");
	use(f, "2026-11-28T01:00:00Z", "ack", "en", HASH_C, "c");
	use(f, "2026-11-29T01:00:00Z", "ack", "ja", HASH_B, "b");
	use(f, "2026-11-30T01:00:00Z", "ack", "ja", HASH_A, "a");
	use(f, "2026-11-30T02:00:00Z", "refusal", "ja", HASH_C, "r");
	both = store_template_versions(f->store, "ack", NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(both->len, ==, 3);
	g_assert_cmpstr(((store_template_version_t *)g_ptr_array_index(both, 0))->hash, ==, HASH_B);
	g_assert_cmpstr(((store_template_version_t *)g_ptr_array_index(both, 1))->hash, ==, HASH_C);
	g_assert_cmpstr(((store_template_version_t *)g_ptr_array_index(both, 2))->hash, ==, HASH_A);
	g_assert_cmpuint(((store_template_version_t *)g_ptr_array_index(both, 2))->uses, ==, 2);
	ja = store_template_versions(f->store, "ack", "ja", &error);
	g_assert_cmpuint(ja->len, ==, 2);
	none = store_template_versions(f->store, "digest", NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(none->len, ==, 0);
}

/* Inside a transaction that is rolled back, nothing is kept (the draft
 * it belonged to was not kept either). */
static void
test_rollback(fixture_t *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) versions = NULL;

	(void)data;
	g_assert_true(store_begin(f->store, &error));
	use(f, "2026-11-27T01:00:00Z", "ack", "ja", HASH_A, "a");
	store_rollback(f->store);
	versions = store_template_versions(f->store, "ack", NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(versions->len, ==, 0);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add("/template-versions/first-use-keeps-text", fixture_t, NULL, setup,
	           test_first_use_keeps_text, teardown);
	g_test_add("/template-versions/prefix-lookup", fixture_t, NULL, setup, test_prefix_lookup,
	           teardown);
	g_test_add("/template-versions/history", fixture_t, NULL, setup, test_history, teardown);
	g_test_add("/template-versions/rollback", fixture_t, NULL, setup, test_rollback, teardown);
	return g_test_run();
}
