/* test_config_daemon.c — the configuration keys of the daemon: [imap] auth
 * and idle_seconds, [smtp] auth, [oauth2], [daemon]; defaults and refusals. */
#include "common/config.h"

#include <glib/gstdio.h>

#include "tests/lib/testserver.h"

static config_t *
load(const char *dir, const char *text, GError **error)
{
	g_autofree char *path = g_build_filename(dir, "privacy-inbox.ini", NULL);

	g_assert_true(g_file_set_contents(path, text, -1, NULL));
	g_chmod(path, 0600);
	return config_load(path, error);
}

static void
test_defaults(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(config_t) config = config_load(NULL, &error);

	g_assert_no_error(error);
	g_assert_cmpint(config->imap.auth, ==, AUTH_PASSWORD);
	g_assert_cmpint(config->smtp.auth, ==, AUTH_PASSWORD);
	g_assert_cmpuint(config->imap.idle_seconds, ==, 1680);
	g_assert_cmpuint(config->oauth2.refresh_margin_seconds, ==, 300);
	g_assert_null(config->oauth2.token_url);
	g_assert_cmpstr(config->daemon.lock_file, ==,
	                "/var/lib/privacy-inbox/privacy-inbox.db.lock");
	g_assert_null(config->daemon.alert_to[0]);
	g_assert_cmpuint(config->daemon.alert_after_seconds, ==, 900);
	g_assert_cmpuint(config->daemon.backoff_max_seconds, ==, 300);
}

static void
test_values(void)
{
	g_autofree char *dir = testserver_tmpdir();
	g_autofree char *secret = g_build_filename(dir, "client", NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(config_t) config = NULL;

	g_assert_true(g_file_set_contents(secret, "s3cret\nignored\n", -1, NULL));
	config = load(dir,
	              "[imap]\nauth = xoauth2\nidle_seconds = 600\n"
	              "[smtp]\nauth = xoauth2\n"
	              "[store]\ndatabase = state/pi.db\n"
	              "[oauth2]\ntoken_url = https://oauth2.example/token\nclient_id = abc\n"
	              "client_secret_file = client\nrefresh_token_file = state/refresh\n"
	              "scope = https://mail.example/\nrefresh_margin_seconds = 60\n"
	              "[daemon]\nalert_to = a@example.jp; b@example.jp\nalert_after_seconds = 30\n"
	              "backoff_max_seconds = 7\n",
	              &error);
	g_assert_no_error(error);
	g_assert_cmpint(config->imap.auth, ==, AUTH_XOAUTH2);
	g_assert_cmpint(config->smtp.auth, ==, AUTH_XOAUTH2);
	g_assert_cmpuint(config->imap.idle_seconds, ==, 600);
	g_assert_cmpstr(config->oauth2.client_secret, ==, "s3cret");
	g_assert_true(g_str_has_prefix(config->oauth2.refresh_token_file, dir));
	g_assert_true(g_str_has_suffix(config->oauth2.refresh_token_file, "/state/refresh"));
	g_assert_true(g_str_has_suffix(config->daemon.lock_file, "/state/pi.db.lock"));
	g_assert_cmpstr(config->daemon.alert_to[0], ==, "a@example.jp");
	g_assert_cmpstr(config->daemon.alert_to[1], ==, "b@example.jp");
	g_assert_null(config->daemon.alert_to[2]);
	g_assert_cmpuint(config->daemon.alert_after_seconds, ==, 30);
	g_assert_cmpuint(config->daemon.backoff_max_seconds, ==, 7);
	testserver_tmpdir_remove(dir);
}

static void
test_refused(void)
{
	static const struct {
		const char *text;
		const char *expect; /* in the error message */
	} cases[] = {
	    {"[imap]\nauth = plain\n", "expected password or xoauth2"},
	    {"[smtp]\nauth = oauth\n", "expected password or xoauth2"},
	    {"[imap]\nauth = xoauth2\n", "needs [oauth2] token_url"},
	    {"[imap]\nauth = xoauth2\n[oauth2]\ntoken_url = https://x/t\nclient_id = c\n",
	     "refresh_token_file"},
	    {"[oauth2]\ntoken_url = http://idp.example/token\n", "plain http only on loopback"},
	    {"[imap]\nidle_seconds = 1800\n", "idle_seconds"},
	    {"[daemon]\nalert_after = 5\n", "unknown setting [daemon] alert_after"},
	    {"[oauth2]\nclient_secret_file = missing\n", "client_secret_file"},
	};
	g_autofree char *dir = testserver_tmpdir();

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(config_t) config = load(dir, cases[i].text, &error);

		g_assert_null(config);
		g_assert_nonnull(error);
		if (strstr(error->message, cases[i].expect) == NULL)
			g_error("case %zu: \"%s\" does not say \"%s\"", i, error->message,
			        cases[i].expect);
	}
	testserver_tmpdir_remove(dir);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/config-daemon/defaults", test_defaults);
	g_test_add_func("/config-daemon/values", test_values);
	g_test_add_func("/config-daemon/refused", test_refused);
	return g_test_run();
}
