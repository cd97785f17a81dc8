/* test_config.c — the configuration reader: defaults, relative paths,
 * secrets from files, refusal of unknown keys and bad values. */
#include "common/config.h"

#include <glib/gstdio.h>
#include <sys/stat.h>

#include "tests/lib/testserver.h"

static char *
write_config(const char *dir, const char *text)
{
	char *path = g_build_filename(dir, "privacy-inbox.ini", NULL);

	g_assert_true(g_file_set_contents(path, text, -1, NULL));
	g_chmod(path, 0600);
	return path;
}

static void
test_defaults(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(config_t) config = config_load(NULL, &error);

	g_assert_no_error(error);
	g_assert_cmpint(config->imap.security, ==, SECURITY_TLS);
	g_assert_cmpuint(config->imap.port, ==, 993);
	g_assert_cmpstr(config->imap.mailbox, ==, "INBOX");
	g_assert_cmpint(config->imap.processed_action, ==, PROCESSED_MOVE);
	g_assert_cmpuint(config->policy.fee_yen, ==, 1000);
	g_assert_true(config_type_has_fee(config, "disclosure"));
	g_assert_true(config_type_has_fee(config, "notification_of_purpose"));
	g_assert_true(config_type_has_fee(config, "third_party_records"));
	g_assert_false(config_type_has_fee(config, "correction"));
	g_assert_false(config_type_has_fee(config, "stop_use"));
	g_assert_false(config_type_has_fee(config, "stop_third_party"));
	g_assert_false(config_kind_auto_send(config, "ack"));
	g_assert_cmpstr(config->smtp.charset, ==, "utf-8");
}

static void
test_values_and_paths(void)
{
	g_autofree char *dir = testserver_tmpdir();
	g_autofree char *pw = g_build_filename(dir, "imap.pass", NULL);
	g_autofree char *path = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(config_t) config = NULL;
	g_autofree char *expect_db = g_build_filename(dir, "state/pi.db", NULL);

	g_assert_true(g_file_set_contents(pw, "s3cret\nignored\n", -1, NULL));
	path = write_config(dir, "[imap]\nhost = 127.0.0.1\nsecurity = starttls\n"
	                         "password_file = imap.pass\nprocessed_action = flag\n"
	                         "[store]\ndatabase = state/pi.db\n"
	                         "[organization]\nname = 株式会社テスト\nname[en] = Test K.K.\n"
	                         "[policy]\nfee_types = disclosure\nauto_send = ack; id_missing\n");
	config = config_load(path, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(config->imap.port, ==, 143);
	g_assert_cmpstr(config->imap.password, ==, "s3cret");
	g_assert_cmpint(config->imap.processed_action, ==, PROCESSED_FLAG);
	g_assert_cmpstr(config->store.database, ==, expect_db);
	g_assert_cmpstr(config_org_name(config, "ja"), ==, "株式会社テスト");
	g_assert_cmpstr(config_org_name(config, "en"), ==, "Test K.K.");
	g_assert_cmpstr(config_org_contact(config, "en"), ==, "Privacy Office");
	g_assert_false(config_type_has_fee(config, "notification_of_purpose"));
	g_assert_true(config_kind_auto_send(config, "id_missing"));
	g_assert_false(config->readable_by_others);
	g_chmod(path, 0644);
	{
		g_autoptr(config_t) again = config_load(path, &error);
		g_assert_no_error(error);
		g_assert_true(again->readable_by_others);
	}
	testserver_tmpdir_remove(dir);
}

typedef struct {
	const char *text;
	const char *message_part;
} bad_config_t;

static const bad_config_t bad_configs[] = {
	{"[imap]\nhots = x\n", "unknown setting [imap] hots"},
	{"[mystery]\nkey = 1\n", "unknown setting [mystery] key"},
	{"[imap]\nsecurity = ssl\n", "expected tls, starttls or none"},
	{"[imap]\nport = 99999\n", "[imap] port"},
	{"[imap]\nprocessed_action = delete\n", "expected move or flag"},
	{"[imap]\npassword_file = /nonexistent/file\n", "password_file"},
	{"[smtp]\nurl = http://example.org\n", "expected smtp://"},
	{"[smtp]\ncharset = latin1\n", "expected utf-8 or iso-2022-jp"},
	{"[imap\nhost = x\n", "cannot read configuration"},
	{"[store]\ndatabase[en] = x\n", "unknown setting"},
	{"[policy]\ntimezone = Mars/Olympus\n", "unknown time zone"},
};

static void
test_bad(void)
{
	g_autofree char *dir = testserver_tmpdir();

	for (gsize i = 0; i < G_N_ELEMENTS(bad_configs); i++) {
		g_autofree char *path = write_config(dir, bad_configs[i].text);
		g_autoptr(GError) error = NULL;
		g_autoptr(config_t) config = config_load(path, &error);

		g_assert_null(config);
		g_assert_error(error, CONFIG_ERROR, PI_ERROR_FATAL);
		if (strstr(error->message, bad_configs[i].message_part) == NULL)
			g_error("config %zu: \"%s\" does not mention \"%s\"", i, error->message,
			        bad_configs[i].message_part);
		g_assert_null(strchr(error->message, '\n'));
	}
	testserver_tmpdir_remove(dir);
}

static void
test_missing_file(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(config_t) config = config_load("/nonexistent/privacy-inbox.ini", &error);

	g_assert_null(config);
	g_assert_error(error, CONFIG_ERROR, PI_ERROR_FATAL);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/config/defaults", test_defaults);
	g_test_add_func("/config/values-and-paths", test_values_and_paths);
	g_test_add_func("/config/bad", test_bad);
	g_test_add_func("/config/missing-file", test_missing_file);
	return g_test_run();
}
