/* fuzz-parser.c — libFuzzer target over the whole parse path: one message
 * from the fuzzer's bytes through parser_parse_bytes() (GMime, charsets,
 * HTML, quotes, rules, attachments with a sink, TNEF, archives, bounces,
 * forwarded messages) and parser_request_to_json().  Crashes, leaks and
 * undefined behaviour are found by the sanitizers; the checks below abort on
 * what no sanitizer sees: a string that is not valid UTF-8, a sink told a
 * size it did not receive, an ID-document count that does not add up.
 *
 *   make BUILD=… fuzz        builds $(BUILD)/fuzz/fuzz-parser
 *   make BUILD=… fuzz-run    runs it over a copy of tests/fixtures (FUZZ_SECONDS)
 *
 * Built with clang -fsanitize=fuzzer,address,undefined; never part of
 * libparser.a or `make test` (the crashes it found are regression tests in
 * tests/parser/test_robustness.c, from tests/fixtures/fuzz/).
 */
#include "parser/parser-internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static parser_t *fuzz_parser;
static parser_config_t fuzz_config;

typedef struct {
	guint opened, closed;
} fuzz_sink_t;

static GMimeStream *
fuzz_open(gpointer user_data, gpointer *sink_data_out, GError **error)
{
	fuzz_sink_t *s = user_data;
	GMimeStream *mem = g_mime_stream_mem_new();

	(void)error;
	s->opened++;
	*sink_data_out = g_object_ref(mem);
	return mem;
}

static gboolean
fuzz_close(gpointer user_data, parser_attachment_t *a, GError **error)
{
	fuzz_sink_t *s = user_data;
	GMimeStream *mem = a->sink_data;
	GByteArray *bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));

	(void)error;
	if (bytes->len != a->size)
		abort();
	g_clear_object(&a->sink_data);
	s->closed++;
	return TRUE;
}

static void
check_utf8(const char *s)
{
	if (s != NULL && !g_utf8_validate(s, -1, NULL))
		abort();
}

static void
check_request(const parser_request_t *r)
{
	guint ids = 0;

	check_utf8(r->message_id);
	check_utf8(r->from_name);
	check_utf8(r->from_address);
	check_utf8(r->subject);
	check_utf8(r->text);
	check_utf8(r->problem);
	check_utf8(r->auto_reason);
	check_utf8(r->forwarded_by);
	check_utf8(r->bounce_recipient);
	check_utf8(r->bounce_status);
	check_utf8(r->document_type);
	for (guint i = 0; i < r->attachments->len; i++) {
		const parser_attachment_t *a = r->attachments->pdata[i];
		check_utf8(a->filename);
		check_utf8(a->reason);
		check_utf8(a->content_type);
		check_utf8(a->document_type);
		if (a->kind == ATTACHMENT_ID_DOCUMENT)
			ids++;
		if (a->kind == ATTACHMENT_REJECTED && a->reason == NULL)
			abort();
	}
	if (ids != r->id_document_count)
		abort();
	if (r->problem != NULL && strchr(r->problem, '\n') != NULL)
		abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *rules = NULL;
	gsize len = 0;

	(void)argc, (void)argv;
	/* small limits, so the fuzzer reaches them */
	fuzz_config.max_message_bytes = 1u << 20;
	fuzz_config.max_parts = 64;
	fuzz_config.max_depth = 8;
	fuzz_config.max_attachment_bytes = 256u << 10;
	fuzz_config.signature_image_bytes = 16384;
	if (!g_file_get_contents(PI_SRCDIR "/parser/request-rules.ini", &rules, &len, &error))
		g_error("fuzz: %s", error->message);
	fuzz_parser = parser_new(&fuzz_config, rules, len, &error);
	if (fuzz_parser == NULL)
		g_error("fuzz: %s", error->message);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(parser_request_t) r = NULL;
	fuzz_sink_t s = {0, 0};
	parser_sink_t sink = {fuzz_open, fuzz_close, &s};
	union {
		const uint8_t *u;
		const char *c;
	} in = {data};

	r = parser_parse_bytes(fuzz_parser, in.c, size, &sink, &error);
	if (r == NULL)
		abort(); /* a memory stream is always readable and the sink never fails */
	check_request(r);
	if (s.opened != s.closed || s.closed != r->attachments->len)
		abort();
	{
		g_autoptr(JsonNode) node = parser_request_to_json(r);
		g_autofree char *json = json_to_string(node, FALSE);
		check_utf8(json);
	}
	return 0;
}
