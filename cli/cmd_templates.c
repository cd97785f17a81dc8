/* cmd_templates.c — `templates render`. */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

static char *
read_partial(const char *name, gpointer user_data)
{
	const char *dir = user_data;
	g_autofree char *path = NULL;
	g_autofree char *with_suffix = NULL;
	char *text = NULL;

	/* A partial is a name, not a path: never leave DIR. */
	if (dir == NULL || strchr(name, '/') != NULL || strcmp(name, "..") == 0)
		return NULL;
	path = g_build_filename(dir, name, NULL);
	with_suffix = g_strconcat(path, ".tmpl", NULL);
	if (g_file_get_contents(path, &text, NULL, NULL) ||
	    g_file_get_contents(with_suffix, &text, NULL, NULL))
		return text;
	return NULL;
}

static int
templates_render(cli_t *cli, int argc, char **argv)
{
	char *data_file = NULL, *partials = NULL, *escape = NULL;
	const GOptionEntry entries[] = {
		{"data", 0, 0, G_OPTION_ARG_FILENAME, &data_file, "the data, a JSON file (required)",
		 "JSON_FILE"},
		{"partials", 0, 0, G_OPTION_ARG_FILENAME, &partials,
		 "where {{>name}} is read: DIR/name, else DIR/name.tmpl", "DIR"},
		{"escape", 0, 0, G_OPTION_ARG_STRING, &escape,
		 "html (the default, as Mustache does) or none (plain-text mail)", "html|none"},
		G_OPTION_ENTRY_NULL,
	};
	g_autofree char *data_owned = NULL, *partials_owned = NULL, *escape_owned = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonParser) json = json_parser_new();
	g_autoptr(tmpl_t) tmpl = NULL;
	g_autofree char *text = NULL;
	g_autofree char *out = NULL;
	gsize len;
	tmpl_options_t options = {0};

	(void)cli;
	if (!cli_parse_options("templates render", "FILE --data JSON_FILE",
	                       "Render a Mustache template with JSON data and print the result "
	                       "and nothing else.",
	                       entries, &argc, &argv))
		return EXIT_USAGE;
	data_owned = data_file;
	partials_owned = partials;
	escape_owned = escape;
	if (argc != 2)
		return cli_usage("templates render", "which template file?");
	if (data_file == NULL)
		return cli_usage("templates render", "--data JSON_FILE is required");
	if (escape == NULL || strcmp(escape, "html") == 0)
		options.escape = TMPL_ESCAPE_HTML;
	else if (strcmp(escape, "none") == 0)
		options.escape = TMPL_ESCAPE_NONE;
	else
		return cli_usage("templates render", "--escape must be html or none");

	if (!g_file_get_contents(argv[1], &text, &len, &error))
		return cli_fail(error);
	if (!json_parser_load_from_file(json, data_file, &error)) {
		g_prefix_error(&error, "%s: ", data_file);
		return cli_fail(error);
	}
	tmpl = tmpl_parse(text, (gssize)len, argv[1], &error);
	if (tmpl == NULL)
		return cli_fail(error);
	options.partial = read_partial;
	options.partial_data = partials;
	out = tmpl_render(tmpl, json_parser_get_root(json), &options, &error);
	if (out == NULL)
		return cli_fail(error);
	fputs(out, stdout);
	return EXIT_OK;
}

int
cmd_templates(cli_t *cli, int argc, char **argv)
{
	static const cli_subcommand_t subcommands[] = {
		{"render", templates_render, "render FILE --data JSON_FILE [--partials DIR]"},
		{NULL, NULL, NULL},
	};

	return cli_dispatch(cli, "templates", subcommands, argc, argv);
}
