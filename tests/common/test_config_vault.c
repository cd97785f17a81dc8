/* test_config_vault.c — the settings of the spool under lock: [store]
 * key_file (default beside the database, relative to the file's folder) and
 * [policy] id_retention_days / message_retention_days. */
#include "common/config.h"

#include <glib/gstdio.h>
#include <string.h>

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
	g_assert_cmpuint(config->policy.id_retention_days, ==, 30);
	g_assert_cmpuint(config->policy.message_retention_days, ==, 365);
	g_assert_cmpstr(config->store.key_file, ==, "/var/lib/privacy-inbox/spool.key");
}

static void
test_values(void)
{
	g_autofree char *dir = testserver_tmpdir();
	g_autofree char *beside = g_build_filename(dir, "state", "spool.key", NULL);
	g_autofree char *elsewhere = g_build_filename(dir, "keys", "pi.key", NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(config_t) a = load(dir, "[store]\ndatabase = state/pi.db\n", &error);
	g_autoptr(config_t) b = NULL;

	g_assert_no_error(error);
	g_assert_cmpstr(a->store.key_file, ==, beside);
	b = load(dir,
	         "[store]\ndatabase = state/pi.db\nkey_file = keys/pi.key\n"
	         "[policy]\nid_retention_days = 0\nmessage_retention_days = 730\n",
	         &error);
	g_assert_no_error(error);
	g_assert_cmpstr(b->store.key_file, ==, elsewhere);
	g_assert_cmpuint(b->policy.id_retention_days, ==, 0);
	g_assert_cmpuint(b->policy.message_retention_days, ==, 730);
	g_assert_null(load(dir, "[policy]\nid_retention_days = thirty\n", &error));
	g_assert_error(error, CONFIG_ERROR, PI_ERROR_FATAL);
	g_assert_nonnull(strstr(error->message, "id_retention_days"));
	testserver_tmpdir_remove(dir);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/config/vault/defaults", test_defaults);
	g_test_add_func("/config/vault/values", test_values);
	return g_test_run();
}
