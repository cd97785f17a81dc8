/* cmd_drafts.c — reviewing drafted replies: list, show, edit, approve, reject. */
#include "cli/cli.h"

#include <gio/gio.h>

#include <errno.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const draft_states[] = {"pending", "approved", "rejected", "sent", "failed",
                                           NULL};

static gboolean
parse_id(const char *command, const char *text, gint64 *id_out)
{
	guint64 id;

	if (!g_ascii_string_to_unsigned(text, 10, 1, G_MAXINT64, &id, NULL)) {
		cli_usage(command, "\"%s\" is not a draft id (a number)", text);
		return FALSE;
	}
	*id_out = (gint64)id;
	return TRUE;
}

static int
drafts_list(cli_t *cli, int argc, char **argv)
{
	gboolean json = FALSE;
	char *state = NULL;
	const GOptionEntry entries[] = {
		{"state", 0, 0, G_OPTION_ARG_STRING, &state, "only drafts in STATE", "STATE"},
		{"json", 0, 0, G_OPTION_ARG_NONE, &json, "print a JSON array", NULL},
		G_OPTION_ENTRY_NULL,
	};
	g_autoptr(GError) error = NULL;
	g_autoptr(store_t) store = NULL;
	g_autoptr(GPtrArray) drafts = NULL;
	g_autofree char *state_owned = NULL;

	if (!cli_parse_options("drafts list", NULL, "List drafted replies, oldest first.", entries,
	                       &argc, &argv))
		return EXIT_USAGE;
	state_owned = state;
	if (argc > 1)
		return cli_usage("drafts list", "unexpected argument \"%s\"", argv[1]);
	if (state != NULL && !g_strv_contains(draft_states, state))
		return cli_usage("drafts list",
		                 "unknown state \"%s\" (pending, approved, rejected, sent, failed)", state);
	if ((store = cli_open_store(cli, &error)) == NULL ||
	    (drafts = store_draft_list(store, state, &error)) == NULL)
		return cli_fail(error);
	if (json) {
		g_autoptr(JsonArray) array = json_array_new();
		g_autoptr(JsonNode) root = json_node_new(JSON_NODE_ARRAY);
		for (guint i = 0; i < drafts->len; i++)
			json_array_add_element(array, store_draft_to_json(g_ptr_array_index(drafts, i)));
		json_node_set_array(root, array);
		cli_print_json(root, FALSE);
		return EXIT_OK;
	}
	if (drafts->len == 0) {
		g_print("no drafts%s%s\n", state ? " in state " : "", state ? state : "");
		return EXIT_OK;
	}
	g_print("%-5s %-16s %-11s %-9s %s\n", "ID", "TICKET", "KIND", "STATE", "SUBJECT");
	for (guint i = 0; i < drafts->len; i++) {
		store_draft_t *d = g_ptr_array_index(drafts, i);
		g_print("%-5" G_GINT64_FORMAT " %-16s %-11s %-9s %s\n", d->id, d->ticket_ref, d->kind,
		        d->state, d->subject);
		if (d->last_error != NULL)
			g_print("      last error: %s\n", d->last_error);
	}
	return EXIT_OK;
}

/* The template version draft D came from, as the store kept it; NULL when
 * its text was not kept (drafted before versions were recorded). */
static store_template_version_t *
template_version_of(store_t *store, const store_draft_t *d)
{
	g_autoptr(GError) error = NULL;
	store_template_version_t *v;

	if (d->template_hash == NULL)
		return NULL;
	v = store_template_version_get(store, d->kind, NULL, d->template_hash, &error);
	if (v == NULL && !g_error_matches(error, STORE_ERROR, PI_ERROR_NOT_FOUND))
		g_printerr("privacy-inbox: warning: %s\n", error->message);
	return v;
}

static void
add_template_json(JsonObject *draft, const store_draft_t *d, const store_template_version_t *v)
{
	JsonObject *t;

	if (d->template_hash == NULL) {
		json_object_set_null_member(draft, "template");
		return;
	}
	t = json_object_new();
	json_object_set_string_member(t, "kind", d->kind);
	json_object_set_string_member(t, "language", v ? v->language : d->language);
	json_object_set_string_member(t, "version", d->template_hash);
	if (v != NULL) {
		JsonNode *partials = json_from_string(v->partials, NULL);

		json_object_set_string_member(t, "first_used_at", v->first_used_at);
		json_object_set_string_member(t, "text", v->text);
		if (partials != NULL)
			json_object_set_member(t, "partials", partials);
	} else {
		json_object_set_null_member(t, "text");
	}
	json_object_set_object_member(draft, "template", t);
}

static int
drafts_show(cli_t *cli, int argc, char **argv)
{
	gboolean json = FALSE;
	const GOptionEntry entries[] = {
		{"json", 0, 0, G_OPTION_ARG_NONE, &json, "print JSON", NULL},
		G_OPTION_ENTRY_NULL,
	};
	g_autoptr(GError) error = NULL;
	g_autoptr(store_t) store = NULL;
	g_autoptr(store_draft_t) d = NULL;
	g_autoptr(GPtrArray) attachments = NULL;
	g_autoptr(store_template_version_t) version = NULL;
	gint64 id;

	if (!cli_parse_options("drafts show", "ID", "Show a drafted reply as it would be sent.",
	                       entries, &argc, &argv))
		return EXIT_USAGE;
	if (argc != 2)
		return cli_usage("drafts show", "which draft?");
	if (!parse_id("drafts show", argv[1], &id))
		return EXIT_USAGE;
	if ((store = cli_open_store(cli, &error)) == NULL ||
	    (d = store_draft_get(store, id, &error)) == NULL)
		return cli_fail(error);
	if ((attachments = store_draft_attachments(store, id, &error)) == NULL)
		return cli_fail(error);
	version = template_version_of(store, d);
	if (json) {
		g_autoptr(JsonNode) node = store_draft_to_json(d);
		JsonArray *files = json_array_new();
		for (guint i = 0; i < attachments->len; i++) {
			store_draft_attachment_t *a = g_ptr_array_index(attachments, i);
			JsonObject *o = json_object_new();
			json_object_set_string_member(o, "filename", a->filename);
			json_object_set_string_member(o, "content_type", a->content_type);
			json_object_set_int_member(o, "size", (gint64)a->size);
			json_object_set_string_member(o, "sha256", a->sha256);
			json_array_add_object_element(files, o);
		}
		json_object_set_array_member(json_node_get_object(node), "attachments", files);
		add_template_json(json_node_get_object(node), d, version);
		cli_print_json(node, FALSE);
		return EXIT_OK;
	}
	g_print("Draft:    %" G_GINT64_FORMAT " (%s, %s) for %s — %s\n", d->id, d->kind, d->language,
	        d->ticket_ref, d->state);
	if (d->approved_by)
		g_print("Approved: by %s at %s\n", d->approved_by, d->approved_at);
	if (d->rejected_by)
		g_print("Rejected: by %s: %s\n", d->rejected_by, d->reject_reason ? d->reject_reason : "");
	if (d->last_error)
		g_print("Error:    %s (attempts: %u)\n", d->last_error, d->attempts);
	if (version != NULL)
		g_print("Template: %s/%s version %.12s, in use since %s (its text: privacy-inbox "
		        "templates history %s %.12s)\n",
		        version->language, d->kind, d->template_hash, version->first_used_at, d->kind,
		        d->template_hash);
	else if (d->template_hash)
		g_print("Template: %s/%s version %.12s (its text was not kept)\n", d->language, d->kind,
		        d->template_hash);
	g_print("To:       %s%s%s%s\n", d->to_name ? d->to_name : "", d->to_name ? " <" : "",
	        d->to_address, d->to_name ? ">" : "");
	for (guint i = 0; i < attachments->len; i++) {
		store_draft_attachment_t *a = g_ptr_array_index(attachments, i);
		g_print("Attached: %s (%s, %zu bytes)\n", a->filename, a->content_type, a->size);
	}
	g_print("Subject:  %s\n\n%s", d->subject, d->body);
	if (!g_str_has_suffix(d->body, "\n"))
		g_print("\n");
	return EXIT_OK;
}

/* Run $VISUAL/$EDITOR (else vi) on PATH; the variable may hold arguments. */
static gboolean
run_editor(const char *path, GError **error)
{
	const char *editor = g_getenv("VISUAL");
	g_auto(GStrv) argv = NULL;
	int status;

	if (editor == NULL || *editor == '\0')
		editor = g_getenv("EDITOR");
	if (editor == NULL || *editor == '\0')
		editor = "vi";
	argv = g_new0(char *, 6);
	argv[0] = g_strdup("/bin/sh");
	argv[1] = g_strdup("-c");
	argv[2] = g_strdup_printf("%s \"$1\"", editor);
	argv[3] = g_strdup("sh");
	argv[4] = g_strdup(path);
	if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_CHILD_INHERITS_STDIN, NULL, NULL, NULL,
	                  NULL, &status, error))
		return FALSE;
	return g_spawn_check_wait_status(status, error);
}

static int
drafts_edit(cli_t *cli, int argc, char **argv)
{
	char *by = NULL;
	const GOptionEntry entries[] = {
		{"by", 0, 0, G_OPTION_ARG_STRING, &by, "who edits (default: your login name)", "NAME"},
		G_OPTION_ENTRY_NULL,
	};
	g_autoptr(GError) error = NULL;
	g_autoptr(store_t) store = NULL;
	g_autoptr(store_draft_t) d = NULL;
	g_autofree char *by_owned = NULL;
	g_autofree char *path = NULL;
	g_autofree char *before = NULL;
	g_autofree char *after = NULL;
	char *body;
	gint64 id;
	int fd;

	if (!cli_parse_options("drafts edit", "ID",
	                       "Edit a pending draft in $VISUAL or $EDITOR: the first line is the "
	                       "subject (\"Subject: …\"), then a blank line, then the body.",
	                       entries, &argc, &argv))
		return EXIT_USAGE;
	by_owned = by;
	if (argc != 2)
		return cli_usage("drafts edit", "which draft?");
	if (!parse_id("drafts edit", argv[1], &id))
		return EXIT_USAGE;
	if ((store = cli_open_store(cli, &error)) == NULL ||
	    (d = store_draft_get(store, id, &error)) == NULL)
		return cli_fail(error);
	if (strcmp(d->state, "pending") != 0)
		return cli_failf("draft %" G_GINT64_FORMAT " is %s; only a pending draft can be edited",
		                 id, d->state);

	before = g_strdup_printf("Subject: %s\n\n%s", d->subject, d->body);
	fd = g_file_open_tmp("privacy-inbox-draft-XXXXXX.txt", &path, &error);
	if (fd < 0)
		return cli_fail(error);
	close(fd);
	if (!g_file_set_contents_full(path, before, -1, G_FILE_SET_CONTENTS_NONE, 0600, &error) ||
	    !run_editor(path, &error) || !g_file_get_contents(path, &after, NULL, &error)) {
		g_unlink(path);
		return cli_fail(error);
	}
	g_unlink(path);
	if (strcmp(before, after) == 0) {
		g_print("draft %" G_GINT64_FORMAT " unchanged\n", id);
		return EXIT_OK;
	}
	if (!g_utf8_validate(after, -1, NULL))
		return cli_failf("the edited text is not valid UTF-8; draft %" G_GINT64_FORMAT
		                 " unchanged",
		                 id);
	if (!g_str_has_prefix(after, "Subject:") || (body = strstr(after, "\n\n")) == NULL)
		return cli_failf("the edited text must start with \"Subject: …\" and a blank line; "
		                 "draft %" G_GINT64_FORMAT " unchanged",
		                 id);
	*body = '\0';
	body += 2;
	{
		g_autofree char *subject = pi_header_sanitize(after + strlen("Subject:"));
		g_strstrip(subject);
		if (*subject == '\0')
			return cli_failf("the subject is empty; draft %" G_GINT64_FORMAT " unchanged", id);
		if (!store_draft_edit(store, id, cli_actor(by), subject, body, &error))
			return cli_fail(error);
	}
	g_print("draft %" G_GINT64_FORMAT " edited by %s\n", id, cli_actor(by));
	return EXIT_OK;
}

static int
drafts_decide(cli_t *cli, int argc, char **argv, gboolean approve)
{
	char *by = NULL;
	char *reason = NULL;
	const GOptionEntry entries[] = {
		{"by", 0, 0, G_OPTION_ARG_STRING, &by, "who decides (required)", "NAME"},
		{"reason", 0, 0, G_OPTION_ARG_STRING, &reason, "why it is rejected (required)", "TEXT"},
		G_OPTION_ENTRY_NULL,
	};
	const GOptionEntry approve_entries[] = {entries[0], G_OPTION_ENTRY_NULL};
	const char *command = approve ? "drafts approve" : "drafts reject";
	g_autoptr(GError) error = NULL;
	g_autoptr(store_t) store = NULL;
	g_autofree char *by_owned = NULL, *reason_owned = NULL;
	gint64 id;
	gboolean ok;

	if (!cli_parse_options(command, approve ? "ID --by NAME" : "ID --by NAME --reason TEXT",
	                       approve ? "Approve a pending draft: it goes to the outbox and is sent "
	                                 "by the next 'send', 'fetch --once' or 'run' pass."
	                               : "Reject a pending (or failed) draft; it is never sent.",
	                       approve ? approve_entries : entries, &argc, &argv))
		return EXIT_USAGE;
	by_owned = by;
	reason_owned = reason;
	if (argc != 2)
		return cli_usage(command, "which draft?");
	if (!parse_id(command, argv[1], &id))
		return EXIT_USAGE;
	if (by == NULL || *by == '\0')
		return cli_usage(command, "--by NAME is required: who decides is recorded");
	if (!approve && (reason == NULL || *reason == '\0'))
		return cli_usage(command, "--reason TEXT is required");
	if ((store = cli_open_store(cli, &error)) == NULL)
		return cli_fail(error);
	ok = approve ? store_draft_approve(store, id, by, cli_config(cli, NULL)->policy.four_eyes,
	                                   &error)
	             : store_draft_reject(store, id, by, reason, &error);
	if (!ok)
		return cli_fail(error);
	g_print("draft %" G_GINT64_FORMAT " %s by %s\n", id, approve ? "approved" : "rejected", by);
	return EXIT_OK;
}

static int
drafts_approve(cli_t *cli, int argc, char **argv)
{
	return drafts_decide(cli, argc, argv, TRUE);
}

static int
drafts_reject(cli_t *cli, int argc, char **argv)
{
	return drafts_decide(cli, argc, argv, FALSE);
}

/* `drafts attach ID FILE`: disclosed material sent with the reply.  The
 * file is copied into the spool (the original may go away). */
static int
drafts_attach(cli_t *cli, int argc, char **argv)
{
	char *by = NULL, *name = NULL, *type = NULL;
	const GOptionEntry entries[] = {
		{"by", 0, 0, G_OPTION_ARG_STRING, &by, "who attaches (required)", "NAME"},
		{"name", 0, 0, G_OPTION_ARG_STRING, &name, "the file name the requester sees", "NAME"},
		{"type", 0, 0, G_OPTION_ARG_STRING, &type, "the MIME type (default: guessed)", "TYPE"},
		G_OPTION_ENTRY_NULL,
	};
	g_autofree char *by_o = NULL, *name_o = NULL, *type_o = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(store_t) store = NULL;
	g_autoptr(spool_file_t) file = NULL;
	g_autoptr(GMappedFile) mapped = NULL;
	g_autofree char *kept = NULL, *base = NULL, *guessed = NULL, *mime = NULL, *sha = NULL;
	store_draft_attachment_t a = {0};
	gint64 id;

	if (!cli_parse_options("drafts attach", "ID FILE --by NAME",
	                       "Attach a file (the disclosed data) to a pending draft.", entries, &argc,
	                       &argv))
		return EXIT_USAGE;
	by_o = by, name_o = name, type_o = type;
	if (argc != 3)
		return cli_usage("drafts attach", "which draft, and which file?");
	if (!parse_id("drafts attach", argv[1], &id))
		return EXIT_USAGE;
	if (by == NULL || *by == '\0')
		return cli_usage("drafts attach", "--by NAME is required: who attaches is recorded");
	if ((mapped = g_mapped_file_new(argv[2], FALSE, &error)) == NULL)
		return cli_fail(error);
	if ((store = cli_open_store(cli, &error)) == NULL ||
	    (file = store_spool_file_new(store, &error)) == NULL ||
	    !spool_file_write(file, g_mapped_file_get_contents(mapped), g_mapped_file_get_length(mapped),
	                      &error) ||
	    !spool_file_finish(file, &error) || (kept = spool_file_keep(file, "outgoing", &error)) == NULL)
		return cli_fail(error);
	base = g_path_get_basename(argv[2]);
	guessed = g_content_type_guess(base, (const guchar *)g_mapped_file_get_contents(mapped),
	                               MIN(g_mapped_file_get_length(mapped), 4096), NULL);
	mime = type ? g_strdup(type) : g_content_type_get_mime_type(guessed);
	if (mime == NULL)
		mime = g_strdup("application/octet-stream");
	sha = g_strdup(spool_file_sha256(file));
	a.filename = name ? name : base;
	a.content_type = mime;
	a.size = spool_file_size(file);
	a.sha256 = sha;
	a.spool_path = kept;
	a.added_by = by;
	if (!g_utf8_validate(a.filename, -1, NULL))
		return cli_failf("the file name is not valid UTF-8: give one with --name");
	if (!store_draft_attach(store, id, &a, &error))
		return cli_fail(error);
	g_print("draft %" G_GINT64_FORMAT ": attached %s (%s, %zu bytes)\n", id, a.filename,
	        a.content_type, a.size);
	return EXIT_OK;
}

int
cmd_drafts(cli_t *cli, int argc, char **argv)
{
	static const cli_subcommand_t subcommands[] = {
		{"list", drafts_list, "list drafts [--state S] [--json]"},
		{"show", drafts_show, "show a draft as it would be sent"},
		{"edit", drafts_edit, "edit a pending draft in $EDITOR"},
		{"approve", drafts_approve, "approve a pending draft --by NAME"},
		{"reject", drafts_reject, "reject a draft --by NAME --reason TEXT"},
		{"attach", drafts_attach, "attach a file to a pending draft: ID FILE --by NAME"},
		{NULL, NULL, NULL},
	};

	return cli_dispatch(cli, "drafts", subcommands, argc, argv);
}
