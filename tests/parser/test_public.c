/* test_public.c — the parser over mail it was not written against: the
 * public collections in tests/public-corpus/ (CPython's test_email data),
 * the fuzzer's crash inputs (tests/fixtures/fuzz/, one regression test per
 * crash) and the labelled corpus, each whole and cut in half.  Every input
 * gives a request whose strings are valid UTF-8, the sink receives exactly
 * the bytes it is told about, and the JSON can be made.  Run under
 * SANITIZE=1 (`make asan`) for AddressSanitizer and UBSan, and under
 * valgrind with `make valgrind-parser`.
 */
#include "tests/parser/parser-test.h"

#include <fcntl.h>
#include <sys/mman.h>

typedef struct {
	guint opened, closed;
} sink_state_t;

static GMimeStream *
sink_open(gpointer user_data, gpointer *sink_data_out, GError **error)
{
	sink_state_t *s = user_data;
	GMimeStream *mem = g_mime_stream_mem_new();

	(void)error;
	s->opened++;
	*sink_data_out = g_object_ref(mem);
	return mem;
}

static gboolean
sink_close(gpointer user_data, parser_attachment_t *a, GError **error)
{
	sink_state_t *s = user_data;
	GByteArray *bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(a->sink_data));
	g_autofree char *sha = pi_sha256_hex(bytes->data, bytes->len);

	(void)error;
	g_assert_cmpuint(bytes->len, ==, a->size);
	g_assert_cmpstr(sha, ==, a->sha256);
	g_clear_object(&a->sink_data);
	s->closed++;
	return TRUE;
}

static void
parse_one(parser_t *parser, const char *what, const char *data, gsize len)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(parser_request_t) r = NULL;
	sink_state_t s = {0, 0};
	parser_sink_t sink = {sink_open, sink_close, &s};

	r = parser_parse_bytes(parser, data, len, &sink, &error);
	if (r == NULL)
		g_error("%s: no request: %s", what, error ? error->message : "?");
	test_assert_request_sane(r);
	test_assert_utf8("forwarded_by", r->forwarded_by);
	test_assert_utf8("bounce_recipient", r->bounce_recipient);
	test_assert_utf8("bounce_status", r->bounce_status);
	g_assert_cmpuint(s.opened, ==, r->attachments->len);
	g_assert_cmpuint(s.closed, ==, r->attachments->len);
	g_assert_cmpuint(r->request_evidence->len, ==, r->request_types->len);
	g_assert_true(r->confidence > 0.0 && r->confidence < 1.0);
	{
		g_autoptr(JsonNode) node = parser_request_to_json(r);
		g_autofree char *json = json_to_string(node, FALSE);
		test_assert_utf8("json", json);
	}
}

static void
parse_folder(const char *relative, guint *count)
{
	parser_config_t config = test_default_config();
	g_autoptr(parser_t) parser = NULL;
	g_autofree char *dir = g_build_filename(PI_SRCDIR, relative, NULL);
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *name;

	/* small limits, so the inputs reach them too */
	config.max_parts = 64;
	config.max_depth = 8;
	config.max_attachment_bytes = 1u << 20;
	parser = test_parser_new(&config);
	g_assert_nonnull(d);
	while ((name = g_dir_read_name(d)) != NULL) {
		g_autofree char *path = g_build_filename(dir, name, NULL);
		g_autofree char *data = NULL;
		gsize len = 0;
		if (strcmp(name, "LICENSE") == 0 || g_str_has_suffix(name, ".md"))
			continue;
		if (!g_file_get_contents(path, &data, &len, NULL))
			g_error("cannot read %s", path);
		parse_one(parser, name, data, len);
		parse_one(parser, name, data, len / 2);
		(*count)++;
	}
}

static void
test_cpython(void)
{
	guint n = 0;
	parse_folder("tests/public-corpus/cpython-test_email", &n);
	g_assert_cmpuint(n, >=, 40);
}

static void
test_fuzz_regressions(void)
{
	guint n = 0;
	parse_folder("tests/fixtures/fuzz", &n);
	g_assert_cmpuint(n, >=, 1);
}

static void
test_labelled_corpus(void)
{
	guint n = 0;
	parse_folder("tests/corpus/mail", &n);
	g_assert_cmpuint(n, >=, 80);
}

/* The SHA-256 of every attachment, comma-joined. */
static char *
hashes_of(parser_t *parser, GMimeStream *stream)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(parser_request_t) r = parser_parse_stream(parser, stream, NULL, &error);
	GString *out = g_string_new(NULL);

	g_assert_no_error(error);
	for (guint i = 0; i < r->attachments->len; i++) {
		const parser_attachment_t *a = r->attachments->pdata[i];
		g_string_append_printf(out, "%s%s:%" G_GSIZE_FORMAT, i ? "," : "", a->sha256,
		                       a->size);
	}
	return g_string_free(out, FALSE);
}

/* A file stream (read(2)), a mapped file and bytes in memory take
 * different decoding paths (decode.c reads a map or a buffer in place):
 * every attachment must come out the same. */
static void
test_stream_kinds_agree(void)
{
	parser_config_t config = test_default_config();
	g_autoptr(parser_t) parser = test_parser_new(&config);
	g_autofree char *dir = g_build_filename(PI_SRCDIR, "tests/corpus/mail", NULL);
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *name;
	guint n = 0;

	g_assert_nonnull(d);
	while ((name = g_dir_read_name(d)) != NULL) {
		g_autofree char *path = g_build_filename(dir, name, NULL);
		g_autofree char *data = NULL;
		gsize len = 0;
		g_autoptr(GMimeStream) fs = g_mime_stream_fs_open(path, O_RDONLY, 0, NULL);
		g_autoptr(GMimeStream) map = NULL;
		g_autoptr(GMimeStream) mem = NULL;
		g_autofree char *a = NULL, *b = NULL, *c = NULL;
		int fd = open(path, O_RDONLY);

		g_assert_nonnull(fs);
		g_assert_cmpint(fd, >=, 0);
		map = g_mime_stream_mmap_new(fd, PROT_READ, MAP_PRIVATE);
		g_assert_nonnull(map);
		g_assert_true(g_file_get_contents(path, &data, &len, NULL));
		mem = g_mime_stream_mem_new_with_buffer(data, len);
		a = hashes_of(parser, fs);
		b = hashes_of(parser, map);
		c = hashes_of(parser, mem);
		g_assert_cmpstr(a, ==, b);
		g_assert_cmpstr(a, ==, c);
		n++;
	}
	g_assert_cmpuint(n, >=, 80);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/parser/public/cpython-test_email", test_cpython);
	g_test_add_func("/parser/public/fuzz-regressions", test_fuzz_regressions);
	g_test_add_func("/parser/public/labelled-corpus", test_labelled_corpus);
	g_test_add_func("/parser/public/stream-kinds-agree", test_stream_kinds_agree);
	return g_test_run();
}
