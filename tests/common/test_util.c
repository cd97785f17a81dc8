/* test_util.c — shared helpers: header sanitizing, Japanese detection, atomic writes. */
#include "common/common.h"
#include "common/request_type.h"

#include <glib/gstdio.h>
#include <sys/stat.h>

#include "tests/lib/testserver.h"

static const struct {
	const char *in, *out;
} sanitize_rows[] = {
	{"plain", "plain"},
	{"evil\r\nBcc: victim@example.org", "evilBcc: victim@example.org"},
	{"tab\there", "tab here"},
	{"山田\n太郎", "山田太郎"},
	{"nul\x01" "bell\x07", "nulbell"},
	{"line\xe2\x80\xa8sep", "linesep"},
	{"c1\xc2\x85next", "c1next"},
	{"", ""},
};

static void
test_header_sanitize(void)
{
	for (gsize i = 0; i < G_N_ELEMENTS(sanitize_rows); i++) {
		g_autofree char *got = pi_header_sanitize(sanitize_rows[i].in);
		g_assert_cmpstr(got, ==, sanitize_rows[i].out);
	}
	{
		g_autofree char *got = pi_header_sanitize(NULL);
		g_assert_cmpstr(got, ==, "");
	}
}

static void
test_japanese(void)
{
	g_assert_true(pi_text_has_japanese("開示をお願いします"));
	g_assert_true(pi_text_has_japanese("カタカナ"));
	g_assert_true(pi_text_has_japanese("ｶﾀｶﾅ"));
	g_assert_false(pi_text_has_japanese("Please disclose my data"));
	g_assert_false(pi_text_has_japanese(NULL));
	g_assert_false(pi_text_has_japanese("\xff\xfe invalid"));
}

static void
test_atomic_write(void)
{
	g_autofree char *dir = testserver_tmpdir();
	g_autofree char *path = g_build_filename(dir, "file", NULL);
	g_autoptr(GError) error = NULL;
	g_autofree char *contents = NULL;
	struct stat st;

	g_assert_true(pi_write_file_atomic(path, "hello", 5, 0600, &error));
	g_assert_no_error(error);
	g_assert_true(g_file_get_contents(path, &contents, NULL, NULL));
	g_assert_cmpstr(contents, ==, "hello");
	g_assert_cmpint(g_stat(path, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0600);
	g_assert_false(pi_write_file_atomic("/nonexistent/dir/file", "x", 1, 0600, &error));
	g_assert_error(error, COMMON_ERROR, PI_ERROR_FATAL);
	testserver_tmpdir_remove(dir);
}

static void
test_now_override(void)
{
	g_autofree char *now = NULL;

	g_setenv("PRIVACY_INBOX_NOW", "2026-11-27T10:00:00+09:00", TRUE);
	now = pi_now_iso8601();
	g_assert_cmpstr(now, ==, "2026-11-27T01:00:00Z");
	g_unsetenv("PRIVACY_INBOX_NOW");
}

static void
test_request_types(void)
{
	g_assert_true(request_type_is_valid("disclosure"));
	g_assert_false(request_type_is_valid("Disclosure"));
	g_assert_false(request_type_is_valid(NULL));
	g_assert_cmpstr(request_type_label("stop_use", "ja"), ==, "利用停止・消去");
	g_assert_cmpstr(request_type_label("stop_use", "en"), ==, "stop of use or erasure");
	g_assert_cmpstr(request_type_label("nonsense", "en"), ==, "nonsense");
	{
		guint n = 0;
		while (request_type_ids[n] != NULL)
			n++;
		g_assert_cmpuint(n, ==, 7);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/util/header-sanitize", test_header_sanitize);
	g_test_add_func("/util/japanese", test_japanese);
	g_test_add_func("/util/atomic-write", test_atomic_write);
	g_test_add_func("/util/now-override", test_now_override);
	g_test_add_func("/util/request-types", test_request_types);
	return g_test_run();
}
