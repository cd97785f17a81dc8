/* cmd_serve.c — `privacy-inbox serve [--listen ADDR:PORT]`: the staff web
 * console (web/).  It reads what the web module may not read itself — the
 * configuration, the request-type rules, the TLS certificate and key — and
 * runs until SIGTERM or SIGINT, finishing the requests in progress.  It
 * shares the store with `run` (WAL, short transactions) and never takes
 * the daemon's lock. */
#include "cli/cli.h"

#include "web/web.h"

#include <sys/stat.h>
#include <unistd.h>

static pid_t
daemon_pid(gpointer data)
{
	const config_t *config = data;

	return cli_lock_holder(config->daemon.lock_file);
}

static gboolean
read_pem(const char *path, const char *what, gboolean secret, char **text_out, GError **error)
{
	struct stat st;

	if (!g_file_get_contents(path, text_out, NULL, error)) {
		g_prefix_error(error, "[web] %s: ", what);
		return FALSE;
	}
	if (secret && stat(path, &st) == 0 && (st.st_mode & 0077) != 0)
		g_printerr("privacy-inbox: warning: %s (the console's TLS key) can be read by others; "
		           "chmod 600 it\n",
		           path);
	return TRUE;
}

int
cmd_serve(cli_t *cli, int argc, char **argv)
{
	char *listen = NULL;
	const GOptionEntry entries[] = {
		{"listen", 0, 0, G_OPTION_ARG_STRING, &listen,
		 "address and port (default [web] listen, 127.0.0.1:8025); anything but loopback "
		 "needs HTTPS ([web] cert_file and key_file)",
		 "ADDR:PORT"},
		G_OPTION_ENTRY_NULL,
	};
	g_autofree char *listen_owned = NULL, *host = NULL, *cert = NULL, *key = NULL,
	                *rules = NULL, *url = NULL;
	g_autoptr(GError) error = NULL;
	const config_t *config;
	web_options_t options = {0};
	web_server_t *server;
	gsize rules_len = 0;
	guint16 port;

	if (!cli_parse_options("serve", "[--listen ADDR:PORT]",
	                       "Serve the staff web console: the queue, tickets with their identity "
	                       "documents, drafted replies to edit and approve, templates (admins), "
	                       "the audit log, reports and status.  Accounts: privacy-inbox users.",
	                       entries, &argc, &argv))
		return EXIT_USAGE;
	listen_owned = listen;
	if (argc > 1)
		return cli_usage("serve", "unexpected argument \"%s\"", argv[1]);
	if ((config = cli_config(cli, &error)) == NULL)
		return cli_fail(error);
	if (!web_parse_listen(listen ? listen : config->web.listen, &host, &port, &error))
		return listen ? cli_usage("serve", "%s", error->message) : cli_fail(error);
	if (config->web.cert_file != NULL &&
	    (!read_pem(config->web.cert_file, "cert_file", FALSE, &cert, &error) ||
	     !read_pem(config->web.key_file, "key_file", TRUE, &key, &error)))
		return cli_fail(error);
	if (!g_file_get_contents(config->parser.rules_file, &rules, &rules_len, &error)) {
		g_prefix_error(&error, "request-type rules: ");
		return cli_fail(error);
	}

	cli_log_setup();
	cli_install_signals();
	options.config = config;
	options.host = host;
	options.port = port;
	options.tls_cert_pem = cert;
	options.tls_key_pem = key;
	options.rules = rules;
	options.rules_len = rules_len;
	options.rules_name = config->parser.rules_file;
	options.daemon_pid = daemon_pid;
	options.daemon_pid_data = (gpointer)(gintptr)config;
	if ((server = web_server_start(&options, &error)) == NULL)
		return cli_fail(error);
	url = web_server_url(server);
	g_print("privacy-inbox: the console is at %s\n", url);
	fflush(stdout);
	g_message("console listening on %s", url);
	while (!cli_stop_requested)
		g_usleep(200 * 1000);
	g_message("console stopping");
	web_server_stop(server);
	if (key != NULL)
		memset(key, 0, strlen(key));
	return EXIT_OK;
}
