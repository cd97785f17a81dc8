/* cmd_parse.c — `privacy-inbox parse [--json] FILE...`: what the parser
 * makes of messages, without touching the store or any server. */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
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
	g_print("%s\n", r->request_types->len ? "" : "(none recognised: inquiry for staff)");
	g_print("  Confidence: %.2f\n", r->confidence);
	for (guint i = 0; i < r->request_evidence->len; i++) {
		const parser_evidence_t *e = g_ptr_array_index(r->request_evidence, i);
		g_print("    %-24s %.2f ", e->type, e->confidence);
		for (guint j = 0; j < e->phrases->len; j++)
			g_print("%s\"%s\"", j ? ", " : "",
			        (char *)g_ptr_array_index(e->phrases, j));
		g_print("%s\n", e->in_subject ? " (subject)" : "");
	}
	if (r->forwarded_by)
		g_print("  Forwarded by: %s <%s>\n",
		        r->forwarded_by_name ? r->forwarded_by_name : "", r->forwarded_by);
	if (r->bounce_recipient || r->bounce_status)
		g_print("  Bounce:     %s (%s)\n", r->bounce_recipient ? r->bounce_recipient : "?",
		        r->bounce_status ? r->bounce_status : "no status");
	if (r->document_type)
		g_print("  Document:   %s\n", r->document_type);
	if (r->needs_masking_check)
		g_print("  Check:      may show a My Number or an insurance number: mask before "
		        "keeping\n");
	if (r->encrypted_archive)
		g_print("  Encrypted:  a password-protected archive: ask for the document again\n");
	if (r->is_auto)
		g_print("  Automatic:  %s\n", r->auto_reason);
	if (r->ticket_ref)
		g_print("  Ticket:     %s\n", r->ticket_ref);
	if (r->problem)
		g_print("  Problem:    %s\n", r->problem);
	g_print("  ID documents: %u\n", r->id_document_count);
	for (guint i = 0; i < r->attachments->len; i++) {
		parser_attachment_t *a = g_ptr_array_index(r->attachments, i);
		g_print("    %-11s %s%s (%s, %zu bytes%s%s)%s%s\n",
		        a->kind == ATTACHMENT_ID_DOCUMENT ? "id_document"
		        : a->kind == ATTACHMENT_REJECTED  ? "rejected"
		                                          : "other",
		        a->parent >= 0 ? "  in it: " : "", a->filename ? a->filename : "(no name)",
		        a->content_type, a->size, a->document_type ? ", " : "",
		        a->document_type ? a->document_type : "", a->reason ? ": " : "",
		        a->reason ? a->reason : "");
	}
}

/* Files up to this size are read whole, with one read(2), into a buffer
 * kept from file to file (GMime parses it in memory, and base64 is decoded
 * straight from it); bigger ones are streamed from the file, so a huge
 * message is never held whole and memory stays flat. */
#define WHOLE_MAX_BYTES (8 << 20)

/* A stream over the file FD (which it owns or closes).  BUFFER is reused. */
static GMimeStream *
open_file_stream(int fd, GByteArray *buffer)
{
	struct stat st;

	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
	    st.st_size <= WHOLE_MAX_BYTES) {
		gsize got = 0, want = (gsize)st.st_size;
		g_byte_array_set_size(buffer, (guint)want);
		while (got < want) {
			ssize_t n = read(fd, buffer->data + got, want - got);
			if (n <= 0)
				break;
			got += (gsize)n;
		}
		if (got == want) {
			GMimeStream *mem = g_mime_stream_mem_new_with_byte_array(buffer);
			g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mem), FALSE);
			close(fd);
			return mem;
		}
		if (lseek(fd, 0, SEEK_SET) != 0) { /* changed under us: stream it */
			close(fd);
			return NULL;
		}
	}
	return parser_file_stream_new(fd);
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
	g_autoptr(GByteArray) buffer = g_byte_array_new();
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
		stream = from_stdin ? g_mime_stream_pipe_new(fd) : open_file_stream(fd, buffer);
		if (stream == NULL) {
			status = cli_failf("%s: %s", argv[i], "cannot read it");
			continue;
		}
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
