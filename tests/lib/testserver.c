/* testserver.c — see testserver.h. */
#include "tests/lib/testserver.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PI_SRCDIR
#define PI_SRCDIR "."
#endif

struct testserver {
	GPid pid;
	JsonParser *parser;
	JsonObject *info;
};

testserver_t *
testserver_start(const char *script, const char *const *args)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) error = NULL;
	testserver_t *server = g_new0(testserver_t, 1);
	GString *line = g_string_new(NULL);
	int out_fd = -1;
	gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
	JsonNode *root;

	g_ptr_array_add(argv, g_strdup("/usr/bin/python3"));
	g_ptr_array_add(argv, g_build_filename(PI_SRCDIR, "tests", "lib", script, NULL));
	for (const char *const *a = args; a && *a; a++)
		g_ptr_array_add(argv, g_strdup(*a));
	g_ptr_array_add(argv, NULL);

	if (!g_spawn_async_with_pipes(NULL, (char **)argv->pdata, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
	                              NULL, NULL, &server->pid, NULL, &out_fd, NULL, &error))
		g_error("cannot start %s: %s", script, error->message);

	/* Read the ready line byte by byte so nothing after it is consumed. */
	for (;;) {
		char c;
		ssize_t n;

		if (g_get_monotonic_time() > deadline)
			g_error("%s did not become ready within 30 s", script);
		n = read(out_fd, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			g_error("%s exited before it was ready (see its stderr above)", script);
		if (c == '\n')
			break;
		g_string_append_c(line, c);
	}
	close(out_fd);

	server->parser = json_parser_new();
	if (!json_parser_load_from_data(server->parser, line->str, -1, &error))
		g_error("%s: bad ready line \"%s\": %s", script, line->str, error->message);
	root = json_parser_get_root(server->parser);
	if (!JSON_NODE_HOLDS_OBJECT(root))
		g_error("%s: ready line is not an object: %s", script, line->str);
	server->info = json_node_get_object(root);
	g_string_free(line, TRUE);
	return server;
}

JsonObject *
testserver_info(testserver_t *server)
{
	return server->info;
}

const char *
testserver_get_string(testserver_t *server, const char *member)
{
	return json_object_get_string_member_with_default(server->info, member, NULL);
}

gint64
testserver_get_int(testserver_t *server, const char *member)
{
	return json_object_get_int_member_with_default(server->info, member, 0);
}

void
testserver_stop(testserver_t *server)
{
	if (server == NULL)
		return;
	if (server->pid > 0) {
		int status;
		kill(server->pid, SIGTERM);
		while (waitpid(server->pid, &status, 0) < 0 && errno == EINTR)
			;
		g_spawn_close_pid(server->pid);
	}
	g_clear_object(&server->parser);
	g_free(server);
}

char *
testserver_tmpdir(void)
{
	g_autoptr(GError) error = NULL;
	char *dir = g_dir_make_tmp("privacy-inbox-test-XXXXXX", &error);

	if (dir == NULL)
		g_error("cannot make a temporary folder: %s", error->message);
	g_chmod(dir, 0755);
	return dir;
}

void
testserver_tmpdir_remove(const char *dir)
{
	g_autofree char *quoted = NULL;
	g_autofree char *cmd = NULL;

	if (dir == NULL || !g_str_has_prefix(dir, g_get_tmp_dir()) || getenv("PI_KEEP_TMP"))
		return;
	quoted = g_shell_quote(dir);
	cmd = g_strdup_printf("rm -rf %s", quoted);
	if (system(cmd) != 0)
		g_warning("cannot remove %s", dir);
}
