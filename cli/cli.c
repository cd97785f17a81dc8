/* cli.c — shared command-line plumbing (see cli.h). */
#include "cli/cli.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

volatile int cli_stop_requested;

const config_t *
cli_config(cli_t *cli, GError **error)
{
	if (cli->config != NULL)
		return cli->config;
	cli->config = config_load(cli->config_path, error);
	if (cli->config != NULL && cli->config->readable_by_others)
		g_printerr("privacy-inbox: warning: %s is readable by other users; "
		           "run chmod o-rwx on it\n",
		           cli->config->path);
	return cli->config;
}

store_t *
cli_open_store(cli_t *cli, GError **error)
{
	const config_t *config = cli_config(cli, error);

	if (config == NULL)
		return NULL;
	return store_open_keyed(config->store.database, config->store.spool,
	                        config->store.key_file, error);
}

parser_t *
cli_new_parser(cli_t *cli, GError **error)
{
	const config_t *config = cli_config(cli, error);
	g_autofree char *rules = NULL;
	gsize len = 0;

	if (config == NULL)
		return NULL;
	if (!g_file_get_contents(config->parser.rules_file, &rules, &len, error)) {
		g_prefix_error(error, "request-type rules: ");
		return NULL;
	}
	return parser_new(&config->parser, rules, len, error);
}

catalogue_t *
cli_load_catalogue(cli_t *cli, GError **error)
{
	const config_t *config = cli_config(cli, error);

	if (config == NULL)
		return NULL;
	return catalogue_load(config->templates.dir, error);
}

int
cli_fail(const GError *error)
{
	g_printerr("privacy-inbox: %s\n", error ? error->message : "unknown error");
	return EXIT_FAILURE_OPERATIONAL;
}

int
cli_failf(const char *format, ...)
{
	va_list args;
	g_autofree char *message = NULL;

	va_start(args, format);
	message = g_strdup_vprintf(format, args);
	va_end(args);
	g_printerr("privacy-inbox: %s\n", message);
	return EXIT_FAILURE_OPERATIONAL;
}

int
cli_usage(const char *command, const char *format, ...)
{
	va_list args;
	g_autofree char *message = NULL;

	va_start(args, format);
	message = g_strdup_vprintf(format, args);
	va_end(args);
	g_printerr("privacy-inbox %s: %s\n", command, message);
	g_printerr("Try 'privacy-inbox %s --help'.\n", command);
	return EXIT_USAGE;
}

gboolean
cli_parse_options(const char *command, const char *params, const char *summary,
                  const GOptionEntry *entries, int *argc, char ***argv)
{
	g_autofree char *synopsis = g_strdup_printf("%s%s%s", command, params ? " " : "",
	                                            params ? params : "");
	g_autoptr(GOptionContext) context = g_option_context_new(synopsis);
	g_autoptr(GError) error = NULL;

	g_option_context_set_summary(context, summary);
	if (entries != NULL)
		g_option_context_add_main_entries(context, entries, NULL);
	if (!g_option_context_parse(context, argc, argv, &error)) {
		cli_usage(command, "%s", error->message);
		return FALSE;
	}
	return TRUE;
}

void
cli_print_json(JsonNode *node, gboolean compact)
{
	g_autoptr(JsonGenerator) gen = json_generator_new();
	g_autofree char *text = NULL;

	json_generator_set_root(gen, node);
	json_generator_set_pretty(gen, !compact);
	text = json_generator_to_data(gen, NULL);
	fputs(text, stdout);
	fputc('\n', stdout);
}

const char *
cli_actor(const char *by)
{
	if (by != NULL && *by != '\0')
		return by;
	return g_get_user_name();
}

static void
on_stop_signal(int signum)
{
	(void)signum;
	cli_stop_requested = 1;
}

void
cli_install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a sleep between polls ends at once. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int
cli_dispatch(cli_t *cli, const char *command, const cli_subcommand_t *subcommands, int argc,
             char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "--help") != 0 && strcmp(argv[1], "-h") != 0) {
		for (const cli_subcommand_t *s = subcommands; s->name; s++) {
			if (strcmp(s->name, argv[1]) == 0)
				return s->run(cli, argc - 1, argv + 1);
		}
		return cli_usage(command, "unknown command \"%s\"", argv[1]);
	}
	if (argc < 2)
		g_printerr("privacy-inbox %s: which one?\n", command);
	(argc < 2 ? g_printerr : g_print)("Usage: privacy-inbox %s COMMAND [OPTIONS]\n\nCommands:\n",
	                                  command);
	for (const cli_subcommand_t *s = subcommands; s->name; s++)
		(argc < 2 ? g_printerr : g_print)("  %-10s %s\n", s->name, s->summary);
	return argc < 2 ? EXIT_USAGE : EXIT_OK;
}
