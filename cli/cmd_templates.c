/* cmd_templates.c — the reply templates: render, check, list, kinds,
 * preview and history. */
#include "cli/cli.h"

#include "router/router.h"
#include "sender/sender.h"

#include <stdio.h>
#include <string.h>

/* ---- render ---------------------------------------------------------------- */

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

/* ---- shared ------------------------------------------------------------------- */

/* The catalogue folder: DIR when given, else the configuration's. */
static const char *
catalogue_folder(cli_t *cli, const char *dir, GError **error)
{
	const config_t *config;

	if (dir != NULL)
		return dir;
	config = cli_config(cli, error);
	return config != NULL ? config->templates.dir : NULL;
}

static const char *
audience_name(catalogue_audience_t audience)
{
	switch (audience) {
	case CATALOGUE_TO_REQUESTER:
		return "requester";
	case CATALOGUE_TO_STAFF:
		return "staff";
	case CATALOGUE_TO_ADMINS:
		return "admins";
	}
	return "?";
}

static char *
local_time(gint64 unix_time, const config_t *config)
{
	g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc(unix_time);
	g_autoptr(GDateTime) local =
	    g_date_time_to_timezone(utc, config != NULL ? config->policy.timezone : NULL);

	return g_date_time_format(local != NULL ? local : utc, "%Y-%m-%d %H:%M");
}

/* "2026-11-28T01:00:00Z" in the policy's time zone, "2026-11-28 10:00". */
static char *
local_iso(const char *iso, const config_t *config)
{
	g_autoptr(GDateTime) t = iso ? g_date_time_new_from_iso8601(iso, NULL) : NULL;

	if (t == NULL)
		return g_strdup(iso ? iso : "-");
	return local_time(g_date_time_to_unix(t), config);
}

/* ---- check -------------------------------------------------------------------- */

/* What the configuration leaves empty that a kind requires (an empty
 * [organization] address, say): such replies would never be sendable.
 * Warnings on stderr; they do not fail the check. */
static guint
warn_configuration(const config_t *config, catalogue_t *catalogue)
{
	guint warnings = 0;

	for (const catalogue_kind_t *k = catalogue_kinds(); k->kind; k++) {
		for (const char *const *lang = catalogue_languages(); *lang; lang++) {
			g_autoptr(JsonNode) context = catalogue_sample_context(k, *lang);
			g_autoptr(catalogue_rendering_t) r = NULL;

			router_context_set_config(config, *lang, context);
			r = catalogue_preview(catalogue, k->kind, *lang, context, NULL);
			if (r == NULL || r->problem == NULL)
				continue;
			g_printerr(
			    "privacy-inbox: warning: %s with %s: such a reply could not be sent\n",
			    r->problem, config->path ? config->path : "the built-in configuration");
			warnings++;
		}
	}
	return warnings;
}

static int
templates_check(cli_t *cli, int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(catalogue_t) catalogue = NULL;
	const GPtrArray *problems;
	const char *dir;
	guint templates = 0, partials = 0;
	g_autoptr(GPtrArray) files = NULL;

	if (!cli_parse_options(
	        "templates check", "[DIR]",
	        "Check every template and partial in DIR (default: the configured "
	        "[templates] dir): syntax, UTF-8, lines of at most 998 bytes, the "
	        "header block, one-line subjects, every kind in ja and en, every "
	        "variable known to its kind and used as its type allows, partials "
	        "that exist.  Prints FILE:LINE:COLUMN: MESSAGE per problem and exits "
	        "1, or a summary and 0.",
	        NULL, &argc, &argv))
		return EXIT_USAGE;
	if (argc > 2)
		return cli_usage("templates check", "unexpected argument \"%s\"", argv[2]);
	if ((dir = catalogue_folder(cli, argc == 2 ? argv[1] : NULL, &error)) == NULL ||
	    (catalogue = catalogue_read(dir, &error)) == NULL)
		return cli_fail(error);
	problems = catalogue_problems(catalogue);
	for (guint i = 0; i < problems->len; i++) {
		g_autofree char *line = catalogue_problem_format(g_ptr_array_index(problems, i));
		printf("%s\n", line);
	}
	if (problems->len > 0) {
		fflush(stdout);
		g_printerr("privacy-inbox: %s: %u problem%s\n", dir, problems->len,
		           problems->len == 1 ? "" : "s");
		return EXIT_FAILURE_OPERATIONAL;
	}
	files = catalogue_files(catalogue);
	for (guint i = 0; i < files->len; i++) {
		const catalogue_file_t *f = g_ptr_array_index(files, i);
		if (f->kind != NULL)
			templates++;
		else
			partials++;
	}
	printf("%s: %u templates (%u kinds in ja and en) and %u partials: no problems\n", dir,
	       templates, templates / 2, partials);
	/* Checking the configured catalogue: does the configuration fill it? */
	if (argc == 1) {
		fflush(stdout);
		warn_configuration(cli_config(cli, NULL), catalogue);
	}
	return EXIT_OK;
}

/* ---- list --------------------------------------------------------------------- */

static int
templates_list(cli_t *cli, int argc, char **argv)
{
	gboolean json = FALSE;
	char *dir = NULL;
	const GOptionEntry entries[] = {
	    {"json", 0, 0, G_OPTION_ARG_NONE, &json, "print a JSON array", NULL},
	    {"dir", 0, 0, G_OPTION_ARG_FILENAME, &dir, "another catalogue folder", "DIR"},
	    G_OPTION_ENTRY_NULL,
	};
	g_autofree char *dir_owned = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(catalogue_t) catalogue = NULL;
	g_autoptr(GPtrArray) files = NULL;
	const config_t *config = NULL;
	const char *folder;

	if (!cli_parse_options("templates list", NULL,
	                       "List the catalogue's templates and partials: name, kind, language, "
	                       "version (content hash) and last change.",
	                       entries, &argc, &argv))
		return EXIT_USAGE;
	dir_owned = dir;
	if (argc > 1)
		return cli_usage("templates list", "unexpected argument \"%s\"", argv[1]);
	if (dir == NULL && (config = cli_config(cli, &error)) == NULL)
		return cli_fail(error);
	if ((folder = catalogue_folder(cli, dir, &error)) == NULL ||
	    (catalogue = catalogue_read(folder, &error)) == NULL)
		return cli_fail(error);
	files = catalogue_files(catalogue);
	if (json) {
		g_autoptr(JsonBuilder) b = json_builder_new();
		g_autoptr(JsonNode) root = NULL;

		json_builder_begin_array(b);
		for (guint i = 0; i < files->len; i++) {
			const catalogue_file_t *f = g_ptr_array_index(files, i);
			g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(f->modified);
			g_autofree char *modified = g_date_time_format_iso8601(t);

			json_builder_begin_object(b);
			pi_json_add_string(b, "name", f->name);
			pi_json_add_string(b, "kind", f->kind);
			pi_json_add_string(b, "language", f->language);
			pi_json_add_string(b, "version", f->version);
			pi_json_add_string(b, "modified", modified);
			pi_json_add_string(b, "path", f->path);
			pi_json_add_string(b, "description", f->description);
			json_builder_set_member_name(b, "partial");
			json_builder_add_boolean_value(b, f->kind == NULL);
			json_builder_set_member_name(b, "auto_send");
			json_builder_add_boolean_value(b, f->auto_send);
			json_builder_set_member_name(b, "problems");
			json_builder_add_boolean_value(b, f->problems);
			json_builder_end_object(b);
		}
		json_builder_end_array(b);
		root = json_builder_get_root(b);
		cli_print_json(root, FALSE);
		return EXIT_OK;
	}
	printf("%-32s %-22s %-4s %-12s %-16s %s\n", "NAME", "KIND", "LANG", "VERSION", "CHANGED",
	       "");
	for (guint i = 0; i < files->len; i++) {
		const catalogue_file_t *f = g_ptr_array_index(files, i);
		g_autofree char *changed = local_time(f->modified, config);

		printf("%-32s %-22s %-4s %-12.12s %-16s %s%s\n", f->name,
		       f->kind ? f->kind : "(partial)", f->language, f->version ? f->version : "-",
		       changed, f->auto_send ? "auto-send " : "", f->problems ? "PROBLEMS" : "");
	}
	if (catalogue_problems(catalogue)->len > 0)
		g_printerr(
		    "privacy-inbox: %u problems in %s: run `privacy-inbox templates check`\n",
		    catalogue_problems(catalogue)->len, folder);
	return EXIT_OK;
}

/* ---- kinds -------------------------------------------------------------------- */

static void
print_kind(const catalogue_kind_t *k, gboolean json_out)
{
	if (json_out) {
		g_autoptr(JsonBuilder) b = json_builder_new();
		g_autoptr(JsonNode) root = NULL;

		json_builder_begin_object(b);
		pi_json_add_string(b, "kind", k->kind);
		pi_json_add_string(b, "description", k->description);
		pi_json_add_string(b, "to", audience_name(k->audience));
		json_builder_set_member_name(b, "variables");
		json_builder_begin_array(b);
		for (const char *const *name = k->variables; *name; name++) {
			const catalogue_variable_t *v = catalogue_variable_find(*name);

			json_builder_begin_object(b);
			pi_json_add_string(b, "name", *name);
			pi_json_add_string(b, "type", v ? catalogue_type_name(v->type) : NULL);
			pi_json_add_string(b, "description", v ? v->description : NULL);
			json_builder_set_member_name(b, "required");
			json_builder_add_boolean_value(b, catalogue_kind_requires(k, *name));
			json_builder_set_member_name(b, "optional");
			json_builder_add_boolean_value(b, v && v->optional &&
			                                      !catalogue_kind_requires(k, *name));
			json_builder_end_object(b);
		}
		json_builder_end_array(b);
		json_builder_set_member_name(b, "sample");
		json_builder_begin_object(b);
		for (const char *const *lang = catalogue_languages(); *lang; lang++) {
			json_builder_set_member_name(b, *lang);
			json_builder_add_value(b, catalogue_sample_context(k, *lang));
		}
		json_builder_end_object(b);
		json_builder_end_object(b);
		root = json_builder_get_root(b);
		cli_print_json(root, FALSE);
		return;
	}
	printf("%s — %s\nTo: %s\n\n", k->kind, k->description, audience_name(k->audience));
	printf("%-42s %-7s %-9s %s\n", "VARIABLE", "TYPE", "", "MEANING (sample)");
	for (const char *const *name = k->variables; *name; name++) {
		const catalogue_variable_t *v = catalogue_variable_find(*name);
		const char *note = catalogue_kind_requires(k, *name) ? "required"
		                   : v && v->optional                ? "may be unset"
		                                                     : "";

		if (v == NULL)
			continue;
		printf("%-42s %-7s %-9s %s", *name, catalogue_type_name(v->type), note,
		       v->description);
		if (v->sample_ja != NULL)
			printf(" (%s)", v->sample_ja);
		printf("\n");
	}
	printf("\nA variable that may be unset is printed inside its own section:\n"
	       "{{#name}}…{{name}}…{{/name}}.  A list repeats {{#list}}…{{/list}} for each item;\n"
	       "inside, its fields are named without the list's prefix ({{label}}).\n");
}

static int
templates_kinds(cli_t *cli, int argc, char **argv)
{
	gboolean json = FALSE;
	const GOptionEntry entries[] = {
	    {"json", 0, 0, G_OPTION_ARG_NONE, &json, "print JSON", NULL},
	    G_OPTION_ENTRY_NULL,
	};

	(void)cli;
	if (!cli_parse_options("templates kinds", "[KIND]",
	                       "The reply kinds; with KIND, the variables its templates may use, "
	                       "their types, what they mean and the sample values preview uses.",
	                       entries, &argc, &argv))
		return EXIT_USAGE;
	if (argc > 2)
		return cli_usage("templates kinds", "unexpected argument \"%s\"", argv[2]);
	if (argc == 2) {
		const catalogue_kind_t *k = catalogue_kind_find(argv[1]);

		if (k == NULL)
			return cli_usage("templates kinds", "unknown kind \"%s\"", argv[1]);
		print_kind(k, json);
		return EXIT_OK;
	}
	if (json) {
		g_autoptr(JsonBuilder) b = json_builder_new();
		g_autoptr(JsonNode) root = NULL;

		json_builder_begin_array(b);
		for (const catalogue_kind_t *k = catalogue_kinds(); k->kind; k++) {
			json_builder_begin_object(b);
			pi_json_add_string(b, "kind", k->kind);
			pi_json_add_string(b, "description", k->description);
			pi_json_add_string(b, "to", audience_name(k->audience));
			json_builder_end_object(b);
		}
		json_builder_end_array(b);
		root = json_builder_get_root(b);
		cli_print_json(root, FALSE);
		return EXIT_OK;
	}
	printf("%-22s %-9s %s\n", "KIND", "TO", "WHAT IT SAYS");
	for (const catalogue_kind_t *k = catalogue_kinds(); k->kind; k++)
		printf("%-22s %-9s %s\n", k->kind, audience_name(k->audience), k->description);
	return EXIT_OK;
}

/* ---- preview ------------------------------------------------------------------ */

/* NAME=VALUE onto CONTEXT, typed as KIND's variable NAME says. */
static gboolean
set_value(const catalogue_kind_t *kind, JsonNode *context, const char *assignment, GError **error)
{
	const char *eq = strchr(assignment, '=');
	g_autofree char *name = eq ? g_strndup(assignment, (gsize)(eq - assignment)) : NULL;
	const catalogue_variable_t *v = name ? catalogue_variable_find(name) : NULL;
	JsonObject *o = json_node_get_object(context);

	if (name == NULL || *name == '\0') {
		g_set_error(error, COMMON_ERROR, PI_ERROR_FATAL, "--set %s: expected NAME=VALUE",
		            assignment);
		return FALSE;
	}
	if (v == NULL || !catalogue_kind_uses(kind, name) || v->type == CATALOGUE_LIST ||
	    strchr(name, '.') != NULL) {
		g_set_error(error, COMMON_ERROR, PI_ERROR_FATAL,
		            "--set %s: kind %s has no text, number or flag variable \"%s\" "
		            "(templates kinds %s)",
		            assignment, kind->kind, name, kind->kind);
		return FALSE;
	}
	if (v->type == CATALOGUE_FLAG)
		json_object_set_boolean_member(o, name, strcmp(eq + 1, "true") == 0);
	else if (v->type == CATALOGUE_NUMBER)
		json_object_set_int_member(o, name, g_ascii_strtoll(eq + 1, NULL, 10));
	else
		json_object_set_string_member(o, name, eq + 1);
	return TRUE;
}

typedef struct {
	char *to_name, *to_address;
	char *in_reply_to;
	char **references;
} recipient_t;

static void
recipient_clear(recipient_t *r)
{
	g_free(r->to_name);
	g_free(r->to_address);
	g_free(r->in_reply_to);
	g_strfreev(r->references);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(recipient_t, recipient_clear)

/* The context and the recipient of a reply about ticket REF, in LANG (NULL:
 * the ticket's language). */
static JsonNode *
ticket_context(cli_t *cli, const char *ref, const char *lang, recipient_t *to, char **lang_out,
               GError **error)
{
	const config_t *config = cli_config(cli, error);
	g_autoptr(store_t) store = NULL;
	g_autoptr(store_ticket_t) ticket = NULL;
	JsonNode *context;
	gint64 documents;

	if (config == NULL || (store = cli_open_store(cli, error)) == NULL ||
	    (ticket = store_ticket_get(store, ref, error)) == NULL)
		return NULL;
	if (!store_ticket_thread(store, ticket->id, &to->in_reply_to, &to->references, error))
		return NULL;
	if (lang != NULL) {
		g_free(ticket->language);
		ticket->language = g_strdup(lang);
	}
	context = router_reply_context(config, ticket, NULL, NULL);
	documents = store_ticket_id_documents(store, ticket->id);
	json_object_set_int_member(json_node_get_object(context), "id_document_count",
	                           MAX(documents, 0));
	to->to_name = g_strdup(ticket->requester_name);
	to->to_address = g_strdup(ticket->requester_address);
	*lang_out = g_strdup(ticket->language ? ticket->language : "ja");
	return context;
}

/* Print MESSAGE as a reader sees it: every header decoded, then the text. */
static void
print_decoded(GMimeMessage *message)
{
	GMimeHeaderList *headers = g_mime_object_get_header_list(GMIME_OBJECT(message));
	GMimeObject *body = g_mime_message_get_mime_part(message);
	g_autofree char *text = NULL;

	for (int i = 0; i < g_mime_header_list_get_count(headers); i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(headers, i);
		g_autofree char *value = g_mime_utils_header_decode_text(
		    NULL, g_mime_header_get_raw_value(h) ? g_mime_header_get_raw_value(h)
		                                         : g_mime_header_get_value(h));
		g_autofree char *unfolded = g_mime_utils_header_unfold(value);

		/* GMime keeps empty slots for headers a message may have (Cc…). */
		if (*g_strstrip(unfolded) != '\0')
			printf("%s: %s\n", g_mime_header_get_name(h), unfolded);
	}
	if (GMIME_IS_TEXT_PART(body)) {
		GMimeContentType *type = g_mime_object_get_content_type(body);
		g_autofree char *mime_type = g_mime_content_type_get_mime_type(type);

		printf("Content-Type: %s; charset=%s\n", mime_type,
		       g_mime_object_get_content_type_parameter(body, "charset"));
		text = g_mime_text_part_get_text(GMIME_TEXT_PART(body));
	}
	/* The body is built with CRLF for the wire; a terminal wants LF. */
	if (text != NULL) {
		g_auto(GStrv) lines = g_strsplit(text, "\r\n", -1);
		g_free(text);
		text = g_strjoinv("\n", lines);
	}
	printf("\n%s", text ? text : "");
	if (text != NULL && !g_str_has_suffix(text, "\n"))
		printf("\n");
}

static int
templates_preview(cli_t *cli, int argc, char **argv)
{
	static char placeholder_from[] = "privacy@example.invalid";
	char *lang = NULL, *ref = NULL, *dir = NULL;
	char **assignments = NULL;
	gboolean raw = FALSE;
	const GOptionEntry entries[] = {
	    {"lang", 0, 0, G_OPTION_ARG_STRING, &lang,
	     "ja or en (default: the ticket's language, else ja)", "LANG"},
	    {"ticket", 0, 0, G_OPTION_ARG_STRING, &ref,
	     "render with this ticket's data (default: the kind's documented sample data)", "REF"},
	    {"set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &assignments,
	     "set a variable (what staff give when they act, e.g. reason=…); repeatable",
	     "NAME=VALUE"},
	    {"raw", 0, 0, G_OPTION_ARG_NONE, &raw,
	     "print the message exactly as it goes to the SMTP server (encoded)", NULL},
	    {"dir", 0, 0, G_OPTION_ARG_FILENAME, &dir, "another catalogue folder", "DIR"},
	    G_OPTION_ENTRY_NULL,
	};
	g_autofree char *lang_owned = NULL, *ref_owned = NULL, *dir_owned = NULL;
	g_auto(GStrv) assignments_owned = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(catalogue_t) catalogue = NULL;
	g_autoptr(JsonNode) context = NULL;
	g_autoptr(catalogue_rendering_t) r = NULL;
	g_autoptr(GMimeMessage) message = NULL;
	g_autoptr(GDateTime) utc_now = pi_now();
	g_autoptr(GDateTime) now = NULL;
	g_auto(recipient_t) to = {0};
	g_autofree char *ticket_lang = NULL;
	g_autofree char *message_id = NULL;
	const catalogue_kind_t *kind;
	const config_t *config;
	const char *folder;
	const char *language;
	smtp_config_t smtp;
	sender_mail_t mail = {0};

	if (!cli_parse_options(
	        "templates preview", "KIND",
	        "Render KIND exactly as it would be sent, headers included: with a "
	        "ticket's data (--ticket), or with the kind's documented sample data "
	        "(`templates kinds KIND` lists it) and the configured organization.  "
	        "Exits 1 when the reply would not be sendable (a variable left "
	        "unfilled, printed as {{name}}).",
	        entries, &argc, &argv))
		return EXIT_USAGE;
	lang_owned = lang;
	ref_owned = ref;
	dir_owned = dir;
	assignments_owned = assignments;
	if (argc != 2)
		return cli_usage("templates preview", "which kind? (`templates kinds` lists them)");
	if ((kind = catalogue_kind_find(argv[1])) == NULL)
		return cli_usage("templates preview", "unknown kind \"%s\"", argv[1]);
	if (lang != NULL && !g_strv_contains(catalogue_languages(), lang))
		return cli_usage("templates preview", "--lang must be ja or en");
	if (ref != NULL && kind->audience != CATALOGUE_TO_REQUESTER)
		return cli_usage("templates preview",
		                 "%s is not a reply about a ticket: no --ticket", kind->kind);
	for (char **a = assignments; a && *a; a++) {
		g_autoptr(JsonNode) scratch = catalogue_sample_context(kind, "ja");

		if (!set_value(kind, scratch, *a, &error))
			return cli_usage("templates preview", "%s", error->message);
	}
	if ((config = cli_config(cli, &error)) == NULL ||
	    (folder = catalogue_folder(cli, dir, &error)) == NULL ||
	    (catalogue = catalogue_read(folder, &error)) == NULL)
		return cli_fail(error);

	if (ref != NULL) {
		if ((context = ticket_context(cli, ref, lang, &to, &ticket_lang, &error)) == NULL)
			return cli_fail(error);
		language = ticket_lang;
	} else {
		language = lang ? lang : "ja";
		context = catalogue_sample_context(kind, language);
		router_context_set_config(config, language, context);
		if (kind->audience == CATALOGUE_TO_REQUESTER) {
			JsonObject *o = json_node_get_object(context);
			to.to_name = g_strdup(
			    json_object_get_string_member_with_default(o, "requester_name", NULL));
			to.to_address = g_strdup(json_object_get_string_member_with_default(
			    o, "requester_address", NULL));
			to.in_reply_to = g_strdup("request.20261127.0042@example.jp");
		}
	}
	for (char **a = assignments; a && *a; a++) {
		if (!set_value(kind, context, *a, &error))
			return cli_fail(error);
	}
	if (kind->audience == CATALOGUE_TO_STAFF)
		to.to_address = g_strdup(config->policy.staff_address);
	else if (kind->audience == CATALOGUE_TO_ADMINS && config->daemon.alert_to != NULL &&
	         config->daemon.alert_to[0] != NULL)
		to.to_address = g_strdup(config->daemon.alert_to[0]);
	if (to.to_address == NULL) {
		g_printerr(
		    "privacy-inbox: note: no recipient is configured for %s (%s); shown with "
		    "a placeholder\n",
		    kind->kind,
		    kind->audience == CATALOGUE_TO_STAFF ? "[policy] staff_address"
		                                         : "[daemon] alert_to");
		to.to_address = g_strdup("nobody@example.invalid");
	}
	if ((r = catalogue_preview(catalogue, kind->kind, language, context, &error)) == NULL)
		return cli_fail(error);

	smtp = config->smtp;
	if (smtp.from == NULL)
		smtp.from = placeholder_from;
	message_id = sender_new_message_id(smtp.from);
	now = g_date_time_to_timezone(utc_now, config->policy.timezone);
	mail.to_name = to.to_name;
	mail.to_address = to.to_address;
	mail.subject = r->subject;
	mail.body = r->body;
	mail.message_id = message_id;
	mail.in_reply_to = to.in_reply_to;
	mail.references = (const char *const *)to.references;
	mail.auto_submitted = kind->audience == CATALOGUE_TO_REQUESTER && r->auto_send;
	mail.date = now;
	if ((message = sender_build(&smtp, &mail, &error)) == NULL)
		return cli_fail(error);
	if (raw) {
		g_autoptr(GMimeStream) out = g_mime_stream_mem_new();
		GByteArray *bytes;

		g_mime_object_write_to_stream(GMIME_OBJECT(message), NULL, out);
		bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out));
		fwrite(bytes->data, 1, bytes->len, stdout);
	} else {
		print_decoded(message);
	}
	fflush(stdout);
	if (catalogue_problems(catalogue)->len > 0)
		g_printerr(
		    "privacy-inbox: note: %u problems in %s (`templates check`): the running "
		    "daemon would not load these files\n",
		    catalogue_problems(catalogue)->len, folder);
	if (r->problem != NULL) {
		g_printerr("privacy-inbox: not sendable: %s\n", r->problem);
		return EXIT_FAILURE_OPERATIONAL;
	}
	return EXIT_OK;
}

/* ---- history ------------------------------------------------------------------ */

static void
print_version_text(const store_template_version_t *v)
{
	g_autoptr(JsonNode) partials = json_from_string(v->partials, NULL);

	printf("Template: %s/%s version %s\n", v->language, v->kind, v->hash);
	printf("Used:     %u draft%s, first %s, last %s\n\n", v->uses, v->uses == 1 ? "" : "s",
	       v->first_used_at, v->last_used_at);
	printf("==> %s/%s.tmpl <==\n%s", v->language, v->kind, v->text);
	if (!g_str_has_suffix(v->text, "\n"))
		printf("\n");
	if (partials != NULL && JSON_NODE_HOLDS_OBJECT(partials)) {
		JsonObject *o = json_node_get_object(partials);
		g_autoptr(GList) names = json_object_get_members(o);

		names = g_list_sort(names, (GCompareFunc)strcmp);
		for (GList *l = names; l; l = l->next) {
			const char *text = json_object_get_string_member(o, l->data);

			printf("\n==> %s/partials/%s.tmpl <==\n%s", v->language,
			       (const char *)l->data, text);
			if (!g_str_has_suffix(text, "\n"))
				printf("\n");
		}
	}
}

static void
add_version_json(JsonBuilder *b, const store_template_version_t *v, gboolean current, gboolean full)
{
	json_builder_begin_object(b);
	pi_json_add_string(b, "kind", v->kind);
	pi_json_add_string(b, "language", v->language);
	pi_json_add_string(b, "version", v->hash);
	pi_json_add_string(b, "first_used_at", v->first_used_at);
	pi_json_add_string(b, "last_used_at", v->last_used_at);
	json_builder_set_member_name(b, "drafts");
	json_builder_add_int_value(b, v->uses);
	json_builder_set_member_name(b, "current");
	json_builder_add_boolean_value(b, current);
	if (full) {
		g_autoptr(JsonNode) partials = json_from_string(v->partials, NULL);

		pi_json_add_string(b, "text", v->text);
		json_builder_set_member_name(b, "partials");
		if (partials != NULL)
			json_builder_add_value(b, g_steal_pointer(&partials));
		else
			json_builder_add_null_value(b);
	}
	json_builder_end_object(b);
}

static int
templates_history(cli_t *cli, int argc, char **argv)
{
	gboolean json = FALSE;
	char *lang = NULL;
	const GOptionEntry entries[] = {
	    {"lang", 0, 0, G_OPTION_ARG_STRING, &lang, "only ja or en", "LANG"},
	    {"json", 0, 0, G_OPTION_ARG_NONE, &json, "print JSON", NULL},
	    G_OPTION_ENTRY_NULL,
	};
	g_autofree char *lang_owned = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(store_t) store = NULL;
	g_autoptr(GPtrArray) versions = NULL;
	g_autoptr(catalogue_t) catalogue = NULL;
	const config_t *config;

	if (!cli_parse_options("templates history", "KIND [VERSION]",
	                       "Every version of KIND that a draft was made from, newest first, "
	                       "with when it was first and last used; with VERSION (a unique "
	                       "prefix of at least 6 digits), that version's text and partials.",
	                       entries, &argc, &argv))
		return EXIT_USAGE;
	lang_owned = lang;
	if (argc < 2 || argc > 3)
		return cli_usage("templates history", "which kind?");
	if (catalogue_kind_find(argv[1]) == NULL)
		return cli_usage("templates history", "unknown kind \"%s\"", argv[1]);
	if (lang != NULL && !g_strv_contains(catalogue_languages(), lang))
		return cli_usage("templates history", "--lang must be ja or en");
	if ((config = cli_config(cli, &error)) == NULL ||
	    (store = cli_open_store(cli, &error)) == NULL)
		return cli_fail(error);

	if (argc == 3) {
		g_autoptr(store_template_version_t) v =
		    store_template_version_get(store, argv[1], lang, argv[2], &error);

		if (v == NULL)
			return cli_fail(error);
		if (json) {
			g_autoptr(JsonBuilder) b = json_builder_new();
			g_autoptr(JsonNode) root = NULL;

			add_version_json(b, v, FALSE, TRUE);
			root = json_builder_get_root(b);
			cli_print_json(root, FALSE);
		} else {
			print_version_text(v);
		}
		return EXIT_OK;
	}
	if ((versions = store_template_versions(store, argv[1], lang, &error)) == NULL)
		return cli_fail(error);
	/* The version on disk now, to mark it; the history works without it. */
	catalogue = catalogue_read(config->templates.dir, NULL);
	if (json) {
		g_autoptr(JsonBuilder) b = json_builder_new();
		g_autoptr(JsonNode) root = NULL;

		json_builder_begin_array(b);
		for (guint i = 0; i < versions->len; i++) {
			const store_template_version_t *v = g_ptr_array_index(versions, i);
			const catalogue_version_t *now =
			    catalogue ? catalogue_version(catalogue, v->kind, v->language) : NULL;

			add_version_json(b, v, now != NULL && strcmp(now->hash, v->hash) == 0,
			                 FALSE);
		}
		json_builder_end_array(b);
		root = json_builder_get_root(b);
		cli_print_json(root, FALSE);
		return EXIT_OK;
	}
	if (versions->len == 0) {
		printf("no draft was made from %s yet\n", argv[1]);
		return EXIT_OK;
	}
	printf("%-12s %-4s %-16s %-16s %6s\n", "VERSION", "LANG", "FIRST USED", "LAST USED",
	       "DRAFTS");
	for (guint i = 0; i < versions->len; i++) {
		const store_template_version_t *v = g_ptr_array_index(versions, i);
		const catalogue_version_t *now =
		    catalogue ? catalogue_version(catalogue, v->kind, v->language) : NULL;
		g_autofree char *first = local_iso(v->first_used_at, config);
		g_autofree char *last = local_iso(v->last_used_at, config);

		printf("%-12.12s %-4s %-16s %-16s %6u%s\n", v->hash, v->language, first, last,
		       v->uses,
		       now != NULL && strcmp(now->hash, v->hash) == 0 ? "  (current)" : "");
	}
	return EXIT_OK;
}

int
cmd_templates(cli_t *cli, int argc, char **argv)
{
	static const cli_subcommand_t subcommands[] = {
	    {"render", templates_render, "render FILE --data JSON_FILE [--partials DIR]"},
	    {"check", templates_check, "check the catalogue: FILE:LINE:COLUMN per problem"},
	    {"list", templates_list, "templates and partials with version and last change"},
	    {"kinds", templates_kinds, "the reply kinds and the variables each may use"},
	    {"preview", templates_preview, "KIND [--ticket REF]: the reply as it would be sent"},
	    {"history", templates_history, "KIND [VERSION]: the versions drafts were made from"},
	    {NULL, NULL, NULL},
	};

	return cli_dispatch(cli, "templates", subcommands, argc, argv);
}
