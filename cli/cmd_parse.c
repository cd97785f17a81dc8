/* cmd_parse.c — `privacy-inbox parse [--json] FILE...`: what the parser
 * makes of messages, without touching the store or any server. */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

static void
print_human(const char *file, const parser_request_t *r)
{
	g_print("%s\n", file);
	g_print("  Message-ID: %s\n", r->message_id ? r->message_id : "(none)");
	g_print("  From:       %s <%s>\n", r->from_name ? r->from_name : "",
	        r->from_address ? r->from_address : "?");
	g_print("  Subject:    %s\n", r->subject);
	g_print("  Language:   %s\n", r->language);
	g_print("  Types:      ");
	for (guint i = 0; i < r->request_types->len; i++)
		g_print("%s%s", i ? ", " : "", (char *)g_ptr_array_index(r->request_types, i));
	g_print("%s\n", r->request_types->len ? "" : "(none recognised)");
	if (r->is_auto)
		g_print("  Automatic:  %s\n", r->auto_reason);
	if (r->ticket_ref)
		g_print("  Ticket:     %s\n", r->ticket_ref);
	if (r->problem)
		g_print("  Problem:    %s\n", r->problem);
	g_print("  ID documents: %u\n", r->id_document_count);
	for (guint i = 0; i < r->attachments->len; i++) {
		parser_attachment_t *a = g_ptr_array_index(r->attachments, i);
		g_print("    %-11s %s (%s, %zu bytes)%s%s\n",
		        a->kind == ATTACHMENT_ID_DOCUMENT ? "id_document"
		        : a->kind == ATTACHMENT_REJECTED  ? "rejected"
		                                          : "other",
		        a->filename ? a->filename : "(no name)", a->content_type, a->size,
		        a->reason ? ": " : "", a->reason ? a->reason : "");
	}
}

int
cmd_parse(cli_t *cli, int argc, char **argv)
{
	gboolean json = FALSE;
	const GOptionEntry entries[] = {
		{"json", 0, 0, G_OPTION_ARG_NONE, &json,
		 "print JSON (one object per line when given several files)", NULL},
		G_OPTION_ENTRY_NULL,
	};
	g_autoptr(GError) error = NULL;
	g_autoptr(parser_t) parser = NULL;
	int status = EXIT_OK;

	if (!cli_parse_options("parse", "FILE...",
	                       "Parse messages and print the request found in each.", entries,
	                       &argc, &argv))
		return EXIT_USAGE;
	if (argc < 2)
		return cli_usage("parse", "which file?");
	parser = cli_new_parser(cli, &error);
	if (parser == NULL)
		return cli_fail(error);

	for (int i = 1; i < argc; i++) {
		g_autoptr(GMimeStream) stream = NULL;
		g_autoptr(parser_request_t) request = NULL;
		gboolean from_stdin = g_str_equal(argv[i], "-");
		int fd = from_stdin ? dup(0) : open(argv[i], O_RDONLY | O_CLOEXEC);

		if (fd < 0) {
			status = cli_failf("%s: %s", argv[i], g_strerror(errno));
			continue;
		}
		/* A pipe cannot seek: GMime has a stream made for it. */
		stream = from_stdin ? g_mime_stream_pipe_new(fd) : g_mime_stream_fs_new(fd);
		request = parser_parse_stream(parser, stream, NULL, &error);
		if (request == NULL) {
			status = cli_failf("%s: %s", argv[i], error->message);
			g_clear_error(&error);
			continue;
		}
		if (json) {
			g_autoptr(JsonNode) node = parser_request_to_json(request);
			cli_print_json(node, argc > 2);
		} else
			print_human(argv[i], request);
	}
	return status;
}
