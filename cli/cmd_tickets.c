/* cmd_tickets.c — `tickets list` and `tickets show`. */
#include "cli/cli.h"

#include "common/request_type.h"

static const char *const states[] = {
	"new", "awaiting_id", "awaiting_verification", "awaiting_fee", "in_progress",
	"answered", "closed", "rejected", "triage", NULL,
};

static char *
types_text(char **types)
{
	g_autofree char *joined = g_strjoinv(",", types);

	return *joined ? g_steal_pointer(&joined) : g_strdup("-");
}

static int
tickets_list(cli_t *cli, int argc, char **argv)
{
	char *state = NULL;
	gboolean json = FALSE;
	const GOptionEntry entries[] = {
		{"state", 0, 0, G_OPTION_ARG_STRING, &state, "only tickets in STATE", "STATE"},
		{"json", 0, 0, G_OPTION_ARG_NONE, &json, "print a JSON array", NULL},
		G_OPTION_ENTRY_NULL,
	};
	g_autoptr(GError) error = NULL;
	g_autoptr(store_t) store = NULL;
	g_autoptr(GPtrArray) tickets = NULL;
	g_autofree char *state_owned = NULL;

	if (!cli_parse_options("tickets list", NULL, "List tickets, oldest first (all of them).",
	                       entries, &argc, &argv))
		return EXIT_USAGE;
	state_owned = state;
	if (argc > 1)
		return cli_usage("tickets list", "unexpected argument \"%s\"", argv[1]);
	if (state != NULL && !g_strv_contains(states, state)) {
		g_autoptr(GString) all = g_string_new(NULL);
		for (const char *const *s = states; *s; s++)
			g_string_append_printf(all, "%s%s", all->len ? ", " : "", *s);
		return cli_usage("tickets list", "unknown state \"%s\" (one of: %s)", state, all->str);
	}
	if ((store = cli_open_store(cli, &error)) == NULL ||
	    (tickets = store_ticket_list(store, state, &error)) == NULL)
		return cli_fail(error);

	if (json) {
		g_autoptr(JsonArray) array = json_array_new();
		g_autoptr(JsonNode) root = json_node_new(JSON_NODE_ARRAY);
		for (guint i = 0; i < tickets->len; i++) {
			JsonNode *node = store_ticket_to_json(store, g_ptr_array_index(tickets, i), FALSE,
			                                      &error);
			if (node == NULL)
				return cli_fail(error);
			json_array_add_element(array, node);
		}
		json_node_set_array(root, array);
		cli_print_json(root, FALSE);
		return EXIT_OK;
	}
	if (tickets->len == 0) {
		g_print("no tickets%s%s\n", state ? " in state " : "", state ? state : "");
		return EXIT_OK;
	}
	g_print("%-16s %-22s %-32s %-20s %s\n", "REF", "STATE", "TYPES", "CREATED", "REQUESTER");
	for (guint i = 0; i < tickets->len; i++) {
		store_ticket_t *t = g_ptr_array_index(tickets, i);
		g_autofree char *types = types_text(t->request_types);
		g_print("%-16s %-22s %-32s %-20s %s\n", t->ref, t->state, types, t->created_at,
		        t->requester_address ? t->requester_address : "?");
	}
	return EXIT_OK;
}

static void
print_ticket(JsonObject *t)
{
	JsonArray *messages = json_object_get_array_member(t, "messages");
	JsonArray *attachments = json_object_get_array_member(t, "attachments");
	JsonArray *drafts = json_object_get_array_member(t, "drafts");
	JsonArray *events = json_object_get_array_member(t, "events");
	const char *triage = json_object_get_string_member_with_default(t, "triage_reason", NULL);
	const char *name = json_object_get_string_member_with_default(t, "requester_name", NULL);
	JsonArray *types = json_object_get_array_member(t, "request_types");

	g_print("%s  %s\n", json_object_get_string_member(t, "ref"),
	        json_object_get_string_member(t, "state"));
	g_print("Requester: %s%s%s%s\n", name ? name : "", name ? " <" : "",
	        json_object_get_string_member_with_default(t, "requester", "?"), name ? ">" : "");
	g_print("Types:     ");
	for (guint i = 0; i < json_array_get_length(types); i++)
		g_print("%s%s (%s)", i ? ", " : "", json_array_get_string_element(types, i),
		        request_type_label(json_array_get_string_element(types, i), "ja"));
	g_print("%s\n", json_array_get_length(types) ? "" : "(none: staff must decide)");
	g_print("Language:  %s\n", json_object_get_string_member(t, "language"));
	g_print("Opened:    %s\n", json_object_get_string_member(t, "created_at"));
	if (triage)
		g_print("Triage:    %s\n", triage);

	g_print("\nMessages:\n");
	for (guint i = 0; i < json_array_get_length(messages); i++) {
		JsonObject *m = json_array_get_object_element(messages, i);
		const char *problem = json_object_get_string_member_with_default(m, "problem", NULL);
		g_print("  #%" G_GINT64_FORMAT " %s %s  %s\n", json_object_get_int_member(m, "id"),
		        g_strcmp0(json_object_get_string_member(m, "direction"), "in") == 0 ? "←" : "→",
		        json_object_get_string_member_with_default(m, "received_at", ""),
		        json_object_get_string_member_with_default(m, "subject", ""));
		if (problem)
			g_print("      problem: %s\n", problem);
	}
	g_print("\nAttachments:\n");
	for (guint i = 0; i < json_array_get_length(attachments); i++) {
		JsonObject *a = json_array_get_object_element(attachments, i);
		g_print("  %-11s %s (%s, %" G_GINT64_FORMAT " bytes)\n",
		        json_object_get_string_member(a, "kind"),
		        json_object_get_string_member_with_default(a, "filename", "(no name)"),
		        json_object_get_string_member_with_default(a, "content_type", "?"),
		        json_object_get_int_member(a, "size"));
	}
	g_print("\nDrafts:\n");
	for (guint i = 0; i < json_array_get_length(drafts); i++) {
		JsonObject *d = json_array_get_object_element(drafts, i);
		g_print("  %" G_GINT64_FORMAT "  %-10s %-9s %s\n", json_object_get_int_member(d, "id"),
		        json_object_get_string_member(d, "kind"), json_object_get_string_member(d, "state"),
		        json_object_get_string_member(d, "subject"));
	}
	g_print("\nHistory:\n");
	for (guint i = 0; i < json_array_get_length(events); i++) {
		JsonObject *e = json_array_get_object_element(events, i);
		g_print("  %s  %-14s %-8s %s\n", json_object_get_string_member(e, "at"),
		        json_object_get_string_member(e, "actor"), json_object_get_string_member(e, "kind"),
		        json_object_get_string_member_with_default(e, "detail", ""));
	}
}

static int
tickets_show(cli_t *cli, int argc, char **argv)
{
	gboolean json = FALSE;
	const GOptionEntry entries[] = {
		{"json", 0, 0, G_OPTION_ARG_NONE, &json, "print JSON", NULL},
		G_OPTION_ENTRY_NULL,
	};
	g_autoptr(GError) error = NULL;
	g_autoptr(store_t) store = NULL;
	g_autoptr(store_ticket_t) ticket = NULL;
	g_autoptr(JsonNode) node = NULL;

	if (!cli_parse_options("tickets show", "REF",
	                       "Show a ticket: its messages, attachments, drafts and history.",
	                       entries, &argc, &argv))
		return EXIT_USAGE;
	if (argc != 2)
		return cli_usage("tickets show", argc < 2 ? "which ticket?" : "one ticket at a time");
	if ((store = cli_open_store(cli, &error)) == NULL ||
	    (ticket = store_ticket_get(store, argv[1], &error)) == NULL ||
	    (node = store_ticket_to_json(store, ticket, TRUE, &error)) == NULL)
		return cli_fail(error);
	if (json)
		cli_print_json(node, FALSE);
	else
		print_ticket(json_node_get_object(node));
	return EXIT_OK;
}

int
cmd_tickets(cli_t *cli, int argc, char **argv)
{
	static const cli_subcommand_t subcommands[] = {
		{"list", tickets_list, "list tickets [--state S] [--json]"},
		{"show", tickets_show, "show one ticket [--json]"},
		{NULL, NULL, NULL},
	};

	return cli_dispatch(cli, "tickets", subcommands, argc, argv);
}
