/* main.c — privacy-inbox: the data path, left to right:
 *
 *   IMAP ─fetcher─▶ spool ─parser─▶ request ─router─▶ ticket + draft (SQLite)
 *        ─staff approve─▶ outbox ─sender─▶ SMTP
 *
 * This file only reads the global options and hands over to a command. */
#include "cli/cli.h"

#include <locale.h>
#include <string.h>

static const cli_subcommand_t commands[] = {
	{"fetch", cmd_fetch, "one pass: fetch new mail, route it, send approved replies"},
	{"run", cmd_run, "the daemon: fetch and send every poll_seconds until SIGTERM"},
	{"ingest", cmd_ingest, "route local .eml files as if fetched (- reads stdin)"},
	{"parse", cmd_parse, "print what the parser makes of a message; touches nothing"},
	{"tickets", cmd_tickets, "list and show tickets"},
	{"drafts", cmd_drafts, "review, edit, approve and reject drafted replies"},
	{"send", cmd_send, "send the approved replies in the outbox now"},
	{"templates", cmd_templates, "render reply templates"},
	{NULL, NULL, NULL},
};

static void
print_help(FILE *out)
{
	fprintf(out, "Usage: privacy-inbox [--config FILE] COMMAND [OPTIONS]\n\n"
	             "Runs the privacy inbox: requests about personal data arrive by mail,\n"
	             "become tickets with drafted replies, and staff approve what is sent.\n\n"
	             "Commands:\n");
	for (const cli_subcommand_t *c = commands; c->name; c++)
		fprintf(out, "  %-10s %s\n", c->name, c->summary);
	fprintf(out, "\nGlobal options:\n"
	             "  --config FILE   configuration file (default: $PRIVACY_INBOX_CONFIG)\n"
	             "  --version       print the version\n\n"
	             "'privacy-inbox COMMAND --help' describes a command.\n");
}

int
main(int argc, char **argv)
{
	cli_t cli = {0};
	int i = 1;
	int status;

	setlocale(LC_ALL, "");
	g_mime_init();
	curl_global_init(CURL_GLOBAL_DEFAULT);

	/* Global options stand before the command word. */
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			g_free(cli.config_path);
			cli.config_path = g_strdup(argv[++i]);
		} else if (g_str_has_prefix(argv[i], "--config=")) {
			g_free(cli.config_path);
			cli.config_path = g_strdup(argv[i] + strlen("--config="));
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			print_help(stdout);
			return EXIT_OK;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("privacy-inbox %s\n", PI_VERSION);
			return EXIT_OK;
		} else {
			g_printerr("privacy-inbox: unknown option %s\n", argv[i]);
			print_help(stderr);
			return EXIT_USAGE;
		}
	}
	if (i >= argc) {
		print_help(stderr);
		return EXIT_USAGE;
	}
	if (cli.config_path == NULL && g_getenv("PRIVACY_INBOX_CONFIG") != NULL)
		cli.config_path = g_strdup(g_getenv("PRIVACY_INBOX_CONFIG"));

	status = -1;
	for (const cli_subcommand_t *c = commands; c->name; c++) {
		if (strcmp(c->name, argv[i]) == 0) {
			status = c->run(&cli, argc - i, argv + i);
			break;
		}
	}
	if (status < 0) {
		g_printerr("privacy-inbox: unknown command \"%s\"\n", argv[i]);
		print_help(stderr);
		status = EXIT_USAGE;
	}
	config_free(cli.config);
	g_free(cli.config_path);
	curl_global_cleanup();
	g_mime_shutdown();
	return status;
}
