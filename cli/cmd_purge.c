/* cmd_purge.c — `purge [--dry-run]` destroys what retention makes due now;
 * `purge --record REF` prints a ticket's deletion record (read-only). */
#include "cli/cli.h"

store_retention_t
cli_retention(const config_t *config)
{
	store_retention_t r = {config->policy.id_retention_days,
	                       config->policy.message_retention_days};
	return r;
}

static const char *
what_text(const char *what)
{
	if (g_strcmp0(what, "id_document") == 0)
		return "identity document";
	if (g_strcmp0(what, "raw_message") == 0)
		return "raw message";
	if (g_strcmp0(what, "sent_message") == 0)
		return "sent reply";
	return what;
}

static void
print_record(JsonObject *r)
{
	static const char *const sections[] = {"destroyed", "kept", "not_kept"};
	static const char *const titles[] = {"Destroyed", "Still kept (encrypted)",
	                                     "Never kept (only recorded)"};
	const char *finished = json_object_get_string_member_with_default(r, "finished_at", NULL);

	g_print("Deletion record of %s (%s)\n", json_object_get_string_member(r, "ref"),
	        json_object_get_string_member(r, "state"));
	if (finished != NULL) {
		g_print("Finished:  %s\n", finished);
		g_print("Identity documents due for destruction: %s (%" G_GINT64_FORMAT " days)\n",
		        json_object_get_string_member(r, "id_documents_due_at"),
		        json_object_get_int_member(r, "id_retention_days"));
		g_print("Other raw messages due for destruction: %s (%" G_GINT64_FORMAT " days)\n",
		        json_object_get_string_member(r, "messages_due_at"),
		        json_object_get_int_member(r, "message_retention_days"));
	} else
		g_print("Finished:  not yet (retention runs from when the ticket is closed or "
		        "rejected)\n");
	for (gsize s = 0; s < G_N_ELEMENTS(sections); s++) {
		JsonArray *items = json_object_get_array_member(r, sections[s]);
		g_print("\n%s:\n", titles[s]);
		if (json_array_get_length(items) == 0)
			g_print("  (none)\n");
		for (guint i = 0; i < json_array_get_length(items); i++) {
			JsonObject *e = json_array_get_object_element(items, i);
			const char *name =
			    json_object_get_string_member_with_default(e, "name", NULL);
			g_print("  %-17s #%-5" G_GINT64_FORMAT " %s, %" G_GINT64_FORMAT " bytes\n",
			        what_text(json_object_get_string_member(e, "what")),
			        json_object_get_int_member(e, "id"), name ? name : "(no name)",
			        json_object_get_int_member(e, "size"));
			g_print("    sha256 %s\n", json_object_get_string_member(e, "sha256"));
			if (s == 0)
				g_print(
				    "    destroyed %s: %s\n",
				    json_object_get_string_member(e, "destroyed_at"),
				    json_object_get_string_member_with_default(e, "reason", ""));
			else if (s == 1) {
				const char *due =
				    json_object_get_string_member_with_default(e, "due_at", NULL);
				g_print("    due %s\n",
				        due ? due : "once the ticket is closed or rejected");
			} else
				g_print("    %s\n", json_object_get_string_member_with_default(
				                        e, "reason", ""));
		}
	}
}

static int
purge_record(cli_t *cli, const char *ref, gboolean json)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(store_t) store = NULL;
	g_autoptr(JsonNode) record = NULL;
	const config_t *config = cli_config(cli, &error);
	store_retention_t retention;

	if (config == NULL)
		return cli_fail(error);
	retention = cli_retention(config);
	if ((store = cli_open_store(cli, &error)) == NULL ||
	    (record = store_deletion_record(store, ref, &retention, &error)) == NULL)
		return cli_fail(error);
	if (json)
		cli_print_json(record, FALSE);
	else
		print_record(json_node_get_object(record));
	return EXIT_OK;
}

int
cmd_purge(cli_t *cli, int argc, char **argv)
{
	gboolean dry_run = FALSE, json = FALSE;
	char *by = NULL, *record = NULL;
	const GOptionEntry entries[] = {
	    {"dry-run", 'n', 0, G_OPTION_ARG_NONE, &dry_run, "only list what would be destroyed",
	     NULL},
	    {"by", 0, 0, G_OPTION_ARG_STRING, &by, "who runs it (default: your login name)",
	     "NAME"},
	    {"record", 0, 0, G_OPTION_ARG_STRING, &record,
	     "print the deletion record of ticket REF instead (changes nothing)", "REF"},
	    {"json", 0, 0, G_OPTION_ARG_NONE, &json, "print JSON", NULL},
	    G_OPTION_ENTRY_NULL,
	};
	g_autoptr(GError) error = NULL;
	g_autoptr(store_t) store = NULL;
	g_autoptr(GPtrArray) items = NULL;
	g_autofree char *by_owned = NULL, *record_owned = NULL;
	const config_t *config;
	store_retention_t retention;
	guint documents = 0, messages = 0;

	if (!cli_parse_options("purge", "[--dry-run] | --record REF",
	                       "Destroy the identity documents and raw messages whose retention "
	                       "([policy] id_retention_days, message_retention_days, counted from "
	                       "when a ticket is closed or rejected) has run out, and print what "
	                       "was destroyed.  Rows stay, with SHA-256, time and reason.",
	                       entries, &argc, &argv))
		return EXIT_USAGE;
	by_owned = by;
	record_owned = record;
	if (argc > 1)
		return cli_usage("purge", "unexpected argument \"%s\"", argv[1]);
	if (record != NULL) {
		if (dry_run)
			return cli_usage("purge",
			                 "--record changes nothing; --dry-run does not apply");
		return purge_record(cli, record, json);
	}
	if ((config = cli_config(cli, &error)) == NULL)
		return cli_fail(error);
	retention = cli_retention(config);
	if ((store = cli_open_store(cli, &error)) == NULL ||
	    (items = store_purge(store, &retention, cli_actor(by), dry_run, &error)) == NULL)
		return cli_fail(error);
	if (json) {
		g_autoptr(JsonBuilder) b = json_builder_new();
		g_autoptr(JsonNode) root = NULL;
		json_builder_begin_array(b);
		for (guint i = 0; i < items->len; i++) {
			store_purge_item_t *it = g_ptr_array_index(items, i);
			json_builder_begin_object(b);
			pi_json_add_string(b, "what", it->what);
			json_builder_set_member_name(b, "id");
			json_builder_add_int_value(b, it->id);
			pi_json_add_string(b, "ticket_ref", it->ticket_ref);
			pi_json_add_string(b, "name", it->name);
			pi_json_add_string(b, "sha256", it->sha256);
			json_builder_set_member_name(b, "size");
			json_builder_add_int_value(b, it->size);
			pi_json_add_string(b, "reason", it->reason);
			pi_json_add_string(b, "destroyed_at", it->destroyed_at);
			json_builder_end_object(b);
		}
		json_builder_end_array(b);
		root = json_builder_get_root(b);
		cli_print_json(root, FALSE);
		return EXIT_OK;
	}
	for (guint i = 0; i < items->len; i++) {
		store_purge_item_t *it = g_ptr_array_index(items, i);
		if (g_strcmp0(it->what, "id_document") == 0)
			documents++;
		else
			messages++;
		g_print("%s %s #%" G_GINT64_FORMAT " of %s (%s, sha256 %s)\n  %s\n",
		        dry_run ? "would destroy" : "destroyed", what_text(it->what), it->id,
		        it->ticket_ref ? it->ticket_ref : "no ticket",
		        it->name ? it->name : "no name", it->sha256, it->reason);
	}
	g_print("%s%u identity documents and %u raw messages%s\n", dry_run ? "dry run: " : "",
	        documents, messages,
	        dry_run ? " due for destruction; nothing changed" : " destroyed");
	return EXIT_OK;
}
