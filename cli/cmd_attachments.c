/* cmd_attachments.c — `attachments list|show|export`: the identity documents
 * of a ticket, decrypted only for a named person, and every access audited
 * before a byte leaves the store. */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

static gboolean
parse_id(const char *command, const char *text, gint64 *id_out)
{
	guint64 id;

	if (!g_ascii_string_to_unsigned(text, 10, 1, G_MAXINT64, &id, NULL)) {
		cli_usage(command,
		          "\"%s\" is not an attachment id (a number; see 'attachments list REF')",
		          text);
		return FALSE;
	}
	*id_out = (gint64)id;
	return TRUE;
}

static int
attachments_list(cli_t *cli, int argc, char **argv)
{
	gboolean json = FALSE;
	const GOptionEntry entries[] = {
	    {"json", 0, 0, G_OPTION_ARG_NONE, &json, "print a JSON array", NULL},
	    G_OPTION_ENTRY_NULL,
	};
	g_autoptr(GError) error = NULL;
	g_autoptr(store_t) store = NULL;
	g_autoptr(store_ticket_t) ticket = NULL;
	g_autoptr(GPtrArray) list = NULL;

	if (!cli_parse_options("attachments list", "REF",
	                       "List a ticket's attachments: which are identity documents, whether "
	                       "their (encrypted) bytes are kept, destroyed, or were never kept.",
	                       entries, &argc, &argv))
		return EXIT_USAGE;
	if (argc != 2)
		return cli_usage("attachments list",
		                 argc < 2 ? "which ticket?" : "one ticket at a time");
	if ((store = cli_open_store(cli, &error)) == NULL ||
	    (ticket = store_ticket_get(store, argv[1], &error)) == NULL ||
	    (list = store_attachment_list(store, ticket->id, &error)) == NULL)
		return cli_fail(error);
	if (json) {
		g_autoptr(JsonArray) array = json_array_new();
		g_autoptr(JsonNode) root = json_node_new(JSON_NODE_ARRAY);
		for (guint i = 0; i < list->len; i++)
			json_array_add_element(
			    array, store_attachment_to_json(g_ptr_array_index(list, i)));
		json_node_set_array(root, array);
		cli_print_json(root, FALSE);
		return EXIT_OK;
	}
	if (list->len == 0) {
		g_print("%s has no attachments\n", ticket->ref);
		return EXIT_OK;
	}
	g_print("%-6s %-12s %-10s %10s  %-16s %s\n", "ID", "KIND", "STORED", "BYTES", "TYPE",
	        "NAME");
	for (guint i = 0; i < list->len; i++) {
		store_attachment_record_t *a = g_ptr_array_index(list, i);
		g_print("%-6" G_GINT64_FORMAT " %-12s %-10s %10" G_GINT64_FORMAT "  %-16s %s\n",
		        a->id, a->kind,
		        a->spool_path     ? "kept"
		        : a->destroyed_at ? "destroyed"
		                          : "not kept",
		        a->size, a->content_type ? a->content_type : "?",
		        a->filename ? a->filename : "(no name)");
		if (a->destroyed_at != NULL)
			g_print("       destroyed %s: %s\n", a->destroyed_at,
			        a->destroy_reason ? a->destroy_reason : "");
		else if (a->reason != NULL)
			g_print("       %s\n", a->reason);
	}
	return EXIT_OK;
}

/* The record of attachment ID, if its bytes can be read. */
static store_attachment_record_t *
readable_attachment(store_t *store, gint64 id, GError **error)
{
	g_autoptr(store_attachment_record_t) a = store_attachment_get(store, id, error);

	if (a == NULL)
		return NULL;
	if (a->destroyed_at != NULL) {
		g_set_error(error, STORE_ERROR, PI_ERROR_NOT_FOUND,
		            "attachment %" G_GINT64_FORMAT " was destroyed on %s (%s); see "
		            "'privacy-inbox purge --record %s'",
		            id, a->destroyed_at,
		            a->destroy_reason ? a->destroy_reason : "no reason",
		            a->ticket_ref ? a->ticket_ref : "REF");
		return NULL;
	}
	if (a->spool_path == NULL) {
		g_set_error(error, STORE_ERROR, PI_ERROR_NOT_FOUND,
		            "attachment %" G_GINT64_FORMAT " (%s) was never kept: only identity "
		            "documents are; the raw message holds it",
		            id, a->kind);
		return NULL;
	}
	return g_steal_pointer(&a);
}

typedef struct {
	const char *command;
	char *by;
	char *output;
	gint64 id;
} access_args_t;

static int
parse_access(access_args_t *args, gboolean export, int argc, char **argv)
{
	const GOptionEntry entries[] = {
	    {"by", 0, 0, G_OPTION_ARG_STRING, &args->by, "who reads it (required, audited)",
	     "NAME"},
	    {"output", 'o', 0, G_OPTION_ARG_FILENAME, &args->output,
	     "the file to create (required; never overwritten; mode 0600)", "FILE"},
	    G_OPTION_ENTRY_NULL,
	};
	const GOptionEntry show_entries[] = {entries[0], G_OPTION_ENTRY_NULL};

	if (!cli_parse_options(
	        args->command, export ? "ID --by NAME --output FILE" : "ID --by NAME > FILE",
	        export ? "Decrypt an identity document into a new file (mode 0600). "
	                 "The access is audited with your name."
	               : "Write the decrypted bytes of an identity document to "
	                 "standard output, which must not be a terminal (pipe it to a "
	                 "viewer). The access is audited with your name.",
	        export ? entries : show_entries, &argc, &argv))
		return EXIT_USAGE;
	if (argc != 2)
		return cli_usage(args->command, argc < 2 ? "which attachment?" : "one at a time");
	if (!parse_id(args->command, argv[1], &args->id))
		return EXIT_USAGE;
	if (args->by == NULL || *args->by == '\0')
		return cli_usage(args->command, "--by NAME is required: every access is recorded");
	if (export && (args->output == NULL || *args->output == '\0'))
		return cli_usage(args->command, "--output FILE is required");
	return EXIT_OK;
}

static int
attachments_show(cli_t *cli, int argc, char **argv)
{
	access_args_t args = {"attachments show", NULL, NULL, 0};
	g_autoptr(GError) error = NULL;
	g_autoptr(store_t) store = NULL;
	g_autoptr(store_attachment_record_t) a = NULL;
	g_autofree char *by = NULL, *output = NULL;
	int status = parse_access(&args, FALSE, argc, argv);

	by = args.by;
	output = args.output;
	if (status != EXIT_OK)
		return status;
	if (isatty(STDOUT_FILENO))
		return cli_failf(
		    "refusing to write an identity document to the terminal: pipe it to a "
		    "viewer ('attachments show %" G_GINT64_FORMAT " --by %s | display -') "
		    "or use 'attachments export %" G_GINT64_FORMAT " --by %s --output FILE'",
		    args.id, by, args.id, by);
	if ((store = cli_open_store(cli, &error)) == NULL ||
	    (a = readable_attachment(store, args.id, &error)) == NULL ||
	    !store_attachment_access(store, a, by, "shown on standard output", &error))
		return cli_fail(error);
	signal(SIGPIPE, SIG_IGN);
	if (!store_spool_decrypt_to_fd(store, a->spool_path, STDOUT_FILENO, &error))
		return cli_fail(error);
	return EXIT_OK;
}

static int
attachments_export(cli_t *cli, int argc, char **argv)
{
	access_args_t args = {"attachments export", NULL, NULL, 0};
	g_autoptr(GError) error = NULL;
	g_autoptr(store_t) store = NULL;
	g_autoptr(store_attachment_record_t) a = NULL;
	g_autofree char *by = NULL, *output = NULL, *how = NULL, *absolute = NULL;
	int status = parse_access(&args, TRUE, argc, argv);
	int fd;

	by = args.by;
	output = args.output;
	if (status != EXIT_OK)
		return status;
	if ((store = cli_open_store(cli, &error)) == NULL ||
	    (a = readable_attachment(store, args.id, &error)) == NULL)
		return cli_fail(error);
	/* Create the file first, so the audit never records an export that
	 * could not even start. */
	fd = open(output, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return cli_failf("%s: %s%s", output, g_strerror(errno),
		                 errno == EEXIST ? " (export never overwrites a file)" : "");
	absolute = g_canonicalize_filename(output, NULL);
	how = g_strdup_printf("exported to %s", absolute);
	if (fchmod(fd, 0600) != 0 || !store_attachment_access(store, a, by, how, &error) ||
	    !store_spool_decrypt_to_fd(store, a->spool_path, fd, &error) || fsync(fd) != 0) {
		int saved = errno;
		close(fd);
		g_unlink(output);
		if (error == NULL)
			return cli_failf("%s: %s", output, g_strerror(saved));
		return cli_fail(error);
	}
	if (close(fd) != 0) {
		int saved = errno;
		g_unlink(output);
		return cli_failf("%s: %s", output, g_strerror(saved));
	}
	g_print("attachment %" G_GINT64_FORMAT " (%s, %" G_GINT64_FORMAT
	        " bytes) of %s exported to "
	        "%s (mode 0600); delete it when done\n",
	        a->id, a->filename ? a->filename : "no name", a->size,
	        a->ticket_ref ? a->ticket_ref : "no ticket", absolute);
	return EXIT_OK;
}

int
cmd_attachments(cli_t *cli, int argc, char **argv)
{
	static const cli_subcommand_t subcommands[] = {
	    {"list", attachments_list, "a ticket's attachments: list REF [--json]"},
	    {"show", attachments_show,
	     "decrypt one to standard output: show ID --by NAME | viewer"},
	    {"export", attachments_export,
	     "decrypt one to a new file: export ID --by NAME --output FILE"},
	    {NULL, NULL, NULL},
	};

	return cli_dispatch(cli, "attachments", subcommands, argc, argv);
}
