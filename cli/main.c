/* main.c — privacy-inbox: the data path, left to right:
 *
 *   IMAP ─fetcher─▶ spool ─parser─▶ request ─router─▶ ticket + draft (SQLite)
 *        ─staff approve─▶ outbox ─sender─▶ SMTP
 *
 * This file only reads the global options and hands over to a command. */
#include "cli/cli.h"

#include <locale.h>
#include <sodium.h>
#include <string.h>

static const cli_subcommand_t commands[] = {
	{"fetch", cmd_fetch, "one pass: fetch new mail, route it, send approved replies"},
	{"run", cmd_run, "the daemon: fetch and send every poll_seconds until SIGTERM"},
	{"ingest", cmd_ingest, "route local .eml files as if fetched (- reads stdin)"},
	{"parse", cmd_parse, "print what the parser makes of a message; touches nothing"},
	{"tickets", cmd_tickets, "list and show tickets"},
	{"drafts", cmd_drafts, "review, edit, approve and reject drafted replies"},
	{"send", cmd_send, "send the approved replies in the outbox now"},
	{"status", cmd_status, "is the daemon working: last poll, backlog, outbox, alerts"},
	{"templates", cmd_templates, "the reply templates: check, list, preview, history, render"},
	{"attachments", cmd_attachments, "list identity documents; show or export one (audited)"},
	{"purge", cmd_purge, "destroy what retention makes due; deletion records"},
	{"audit", cmd_audit, "verify the audit log's chain; export it as CSV"},
	{"report", cmd_report, "the monthly report: requests, time to answer, fees, disposal"},
	{"serve", cmd_serve, "the staff web console (queue, tickets, drafts, templates)"},
	{"users", cmd_users, "accounts of the web console: add, list, disable, passwd"},
	{"digest", cmd_digest, "the staff digest: overdue, due soon, waiting (--send mails it)"},
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
		fprintf(out, "  %-12s %s\n", c->name, c->summary);
	fprintf(out, "\nGlobal options:\n"
	             "  --config FILE   configuration file (default: $PRIVACY_INBOX_CONFIG)\n"
	             "  --version       print the version\n\n"
	             "'privacy-inbox COMMAND --help' describes a command.\n");
}

int
main(int argc, char **argv)
{
	cli_t cli = {0};
	gboolean version = FALSE;
	gboolean help = FALSE;
	const GOptionEntry entries[] = {
		{"config", 0, 0, G_OPTION_ARG_FILENAME, &cli.config_path,
		 "configuration file (default: $PRIVACY_INBOX_CONFIG)", "FILE"},
		{"version", 0, 0, G_OPTION_ARG_NONE, &version, "print the version", NULL},
		{"help", 'h', 0, G_OPTION_ARG_NONE, &help, "show this help", NULL},
		G_OPTION_ENTRY_NULL,
	};
	g_autoptr(GOptionContext) context = g_option_context_new("COMMAND [OPTIONS]");
	g_autoptr(GError) error = NULL;
	int status = -1;

	setlocale(LC_ALL, "");
	/* Global options stand before the command word; everything after it
	 * belongs to the command (strict POSIX: stop at the first non-option). */
	g_option_context_set_strict_posix(context, TRUE);
	g_option_context_set_help_enabled(context, FALSE);
	g_option_context_add_main_entries(context, entries, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		g_printerr("privacy-inbox: %s\n", error->message);
		print_help(stderr);
		return EXIT_USAGE;
	}
	if (help) {
		print_help(stdout);
		return EXIT_OK;
	}
	if (version) {
		printf("privacy-inbox %s\n", PI_VERSION);
		return EXIT_OK;
	}
	if (argc < 2) {
		print_help(stderr);
		return EXIT_USAGE;
	}
	if (cli.config_path == NULL && g_getenv("PRIVACY_INBOX_CONFIG") != NULL)
		cli.config_path = g_strdup(g_getenv("PRIVACY_INBOX_CONFIG"));

	if (sodium_init() < 0) {
		g_printerr("privacy-inbox: libsodium could not be initialised\n");
		return EXIT_FAILURE_OPERATIONAL;
	}
	g_mime_init();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	for (const cli_subcommand_t *c = commands; c->name; c++) {
		if (strcmp(c->name, argv[1]) == 0) {
			status = c->run(&cli, argc - 1, argv + 1);
			break;
		}
	}
	if (status < 0) {
		g_printerr("privacy-inbox: unknown command \"%s\"\n", argv[1]);
		print_help(stderr);
		status = EXIT_USAGE;
	}
	config_free(cli.config);
	g_free(cli.config_path);
	curl_global_cleanup();
	g_mime_shutdown();
	return status;
}
