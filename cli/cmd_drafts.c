/* cmd_drafts.c — reviewing drafted replies: list, show, edit, approve, reject. */
#include "cli/cli.h"

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
	if (json) {
		g_autoptr(JsonNode) node = store_draft_to_json(d);
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
	if (d->template_hash)
		g_print("Template: %s/%s version %.12s\n", d->language, d->kind, d->template_hash);
	g_print("To:       %s%s%s%s\n", d->to_name ? d->to_name : "", d->to_name ? " <" : "",
	        d->to_address, d->to_name ? ">" : "");
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
	ok = approve ? store_draft_approve(store, id, by, &error)
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

int
cmd_drafts(cli_t *cli, int argc, char **argv)
{
	static const cli_subcommand_t subcommands[] = {
		{"list", drafts_list, "list drafts [--state S] [--json]"},
		{"show", drafts_show, "show a draft as it would be sent"},
		{"edit", drafts_edit, "edit a pending draft in $EDITOR"},
		{"approve", drafts_approve, "approve a pending draft --by NAME"},
		{"reject", drafts_reject, "reject a draft --by NAME --reason TEXT"},
		{NULL, NULL, NULL},
	};

	return cli_dispatch(cli, "drafts", subcommands, argc, argv);
}
