/* test_robustness.c — every fixture cut at many points and with random bytes
 * flipped: the parser never crashes (run it under SANITIZE=1 too), always
 * returns a request, every string in it is valid UTF-8, and the sink still
 * gets exactly the bytes it is told about. */
#include "tests/parser/parser-test.h"

#include <stdlib.h>

typedef struct {
	guint opened, closed;
	GPtrArray *received;
} sink_state_t;

static GMimeStream *
robust_open(gpointer user_data, gpointer *sink_data_out, GError **error)
{
	sink_state_t *s = user_data;
	GByteArray *bytes = g_byte_array_new();
	GMimeStream *stream = g_mime_stream_mem_new_with_byte_array(bytes);

	(void)error;
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(stream), FALSE);
	g_ptr_array_add(s->received, bytes);
	*sink_data_out = bytes;
	s->opened++;
	return stream;
}

static gboolean
robust_close(gpointer user_data, parser_attachment_t *a, GError **error)
{
	sink_state_t *s = user_data;
	GByteArray *bytes = a->sink_data;
	g_autofree char *sha = pi_sha256_hex(bytes->data, bytes->len);

	(void)error;
	g_assert_cmpuint(bytes->len, ==, a->size);
	g_assert_cmpstr(sha, ==, a->sha256);
	s->closed++;
	return TRUE;
}

/* TEXT with every LF as CRLF.  Caller frees. */
static char *
test_crlf(const char *text)
{
	GString *out = g_string_new(NULL);

	for (const char *p = text; *p; p++) {
		if (*p == '\n')
			g_string_append_c(out, '\r');
		g_string_append_c(out, *p);
	}
	return g_string_free(out, FALSE);
}

static void
parse_variant(parser_t *parser, const char *data, gsize len, const char *what)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(parser_request_t) r = NULL;
	sink_state_t s = {0, 0, g_ptr_array_new_with_free_func((GDestroyNotify)g_byte_array_unref)};
	parser_sink_t sink = {robust_open, robust_close, &s};

	r = parser_parse_bytes(parser, data, len, &sink, &error);
	if (r == NULL)
		g_error("%s: no request: %s", what, error ? error->message : "?");
	test_assert_request_sane(r);
	g_assert_cmpuint(s.opened, ==, r->attachments->len);
	g_assert_cmpuint(s.closed, ==, r->attachments->len);
	{
		/* the JSON can always be made */
		g_autoptr(JsonNode) node = parser_request_to_json(r);
		g_assert_true(JSON_NODE_HOLDS_OBJECT(node));
	}
	g_ptr_array_unref(s.received);
}

static GPtrArray *
list_fixtures(void)
{
	static const char *const themes[] = {"requests",  "charset", "attachments", "auto",
	                                     "threading", "broken",  NULL};
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

	for (const char *const *t = themes; *t; t++) {
		g_autofree char *dir = g_build_filename(FIXTURES, *t, NULL);
		g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
		const char *name;
		g_assert_nonnull(d);
		while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
			if (g_str_has_suffix(name, ".eml"))
				g_ptr_array_add(out, g_build_filename(*t, name, NULL));
		}
	}
	g_assert_cmpuint(out->len, >=, 40);
	return out;
}

static void
test_truncations(void)
{
	parser_config_t config = test_default_config();
	g_autoptr(parser_t) parser = test_parser_new(&config);
	g_autoptr(GPtrArray) fixtures = list_fixtures();

	for (guint f = 0; f < fixtures->len; f++) {
		g_autoptr(GBytes) bytes = test_read_fixture(fixtures->pdata[f]);
		gsize len = g_bytes_get_size(bytes);
		const char *data = g_bytes_get_data(bytes, NULL);
		const char *blank = g_strstr_len(data, (gssize)len, "\n\n");
		const char *crlf = g_strstr_len(data, (gssize)len, "\r\n\r\n");
		gsize cuts[] = {0,
		                1,
		                2,
		                17,
		                100,
		                len / 8,
		                len / 4,
		                len / 3,
		                len / 2,
		                2 * len / 3,
		                len - 1,
		                blank ? (gsize)(blank - data) : 0,
		                blank ? (gsize)(blank - data) + 1 : 0,
		                crlf ? (gsize)(crlf - data) + 2 : 0};
		for (gsize c = 0; c < G_N_ELEMENTS(cuts); c++) {
			g_autofree char *what = NULL;
			if (cuts[c] > len)
				continue;
			what = g_strdup_printf("%s cut at %" G_GSIZE_FORMAT,
			                       (char *)fixtures->pdata[f], cuts[c]);
			parse_variant(parser, data, cuts[c], what);
		}
	}
}

static void
test_flips(void)
{
	parser_config_t config = test_default_config();
	g_autoptr(parser_t) parser = test_parser_new(&config);
	g_autoptr(GPtrArray) fixtures = list_fixtures();
	/* GTest's random numbers: a failure prints the seed, --seed replays it;
	 * PARSER_ROBUSTNESS_ROUNDS=N multiplies the work for a longer hunt */
	const char *env = g_getenv("PARSER_ROBUSTNESS_ROUNDS");
	guint rounds = env ? (guint)MAX(1, atoi(env)) : 1;
	static const guint8 specials[] = {0x00, 0x1b, '\n', '\r', '=',  '-', '"',
	                                  ';',  '<',  '>',  0x80, 0xff, '?', ' '};

	for (guint f = 0; f < fixtures->len; f++) {
		g_autoptr(GBytes) bytes = test_read_fixture(fixtures->pdata[f]);
		gsize len = g_bytes_get_size(bytes);
		guint variants = (len > 100000 ? 10 : 40) * rounds;
		if (len == 0)
			continue;
		for (guint v = 0; v < variants; v++) {
			g_autofree char *copy = g_memdup2(g_bytes_get_data(bytes, NULL), len);
			g_autofree char *what = NULL;
			guint flips = 1 + g_test_rand_int_range(0, 16);
			/* most damage lands in the first kilobytes: headers, boundaries */
			gsize span = (g_test_rand_int() & 1) ? MIN(len, 4096) : len;
			for (guint i = 0; i < flips; i++) {
				gsize at =
				    (gsize)g_test_rand_int_range(0, (gint32)MIN(span, G_MAXINT32));
				copy[at] = (g_test_rand_int() & 1)
				               ? (char)g_test_rand_int()
				               : (char)specials[g_test_rand_int_range(
				                     0, G_N_ELEMENTS(specials))];
			}
			what = g_strdup_printf("%s variant %u", (char *)fixtures->pdata[f], v);
			parse_variant(parser, copy, len, what);
		}
	}
}

/* Hostile shapes GMime must survive: deep nesting, many parts, endless
 * headers, a boundary that never ends. */
static void
test_hostile(void)
{
	parser_config_t config = test_default_config();
	g_autoptr(parser_t) parser = test_parser_new(&config);
	g_autoptr(GString) deep = g_string_new("From: a@example.jp\r\nSubject: deep\r\n");
	g_autoptr(GString) many =
	    g_string_new("From: a@example.jp\r\nSubject: many\r\nContent-Type: multipart/mixed; "
	                 "boundary=b\r\n\r\n");
	g_autoptr(GString) headers = g_string_new("From: a@example.jp\r\n");

	for (int i = 0; i < 2000; i++)
		g_string_append_printf(
		    deep, "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", i, i);
	g_string_append(deep, "Content-Type: text/plain\r\n\r\n開示\r\n");
	parse_variant(parser, deep->str, deep->len, "deep nesting");
	for (int i = 0; i < 3000; i++)
		g_string_append(many, "--b\r\nContent-Type: image/png\r\n\r\nx\r\n");
	g_string_append(many, "--b--\r\n");
	parse_variant(parser, many->str, many->len, "many parts");
	{
		g_autoptr(parser_request_t) r =
		    parser_parse_bytes(parser, many->str, many->len, NULL, NULL);
		g_assert_nonnull(strstr(r->problem, "max_parts"));
		g_assert_cmpuint(r->attachments->len, <, 500);
	}
	for (int i = 0; i < 20000; i++)
		g_string_append_printf(headers, "X-H%d: %d\r\n", i, i);
	g_string_append(headers, "\r\nbody\r\n");
	parse_variant(parser, headers->str, headers->len, "many headers");
	parse_variant(parser, "", 0, "empty");
	parse_variant(parser, "\r\n\r\n", 4, "only a blank line");
	parse_variant(parser, "Subject: x", 10, "one header, no newline");
}

/* The base64 decoder against GLib's encoder: random bytes of every length
 * near a group boundary, LF and CRLF lines, unpadded tails; the sink gets
 * exactly the bytes that were encoded, and nothing is reported invalid. */
static void
test_base64_round_trip(void)
{
	parser_config_t config = test_default_config();
	g_autoptr(parser_t) parser = test_parser_new(&config);
	GRand *rand = g_rand_new_with_seed(42);

	for (guint size = 2040; size < 2060; size++) {
		for (int crlf = 0; crlf < 2; crlf++) {
			g_autofree guchar *data = g_malloc(size);
			g_autofree char *b64 = g_malloc(size * 2 + 16);
			g_autofree char *body = NULL;
			g_autofree char *mail = NULL;
			g_autoptr(GError) error = NULL;
			g_autoptr(parser_request_t) r = NULL;
			sink_state_t s = {
			    0, 0,
			    g_ptr_array_new_with_free_func((GDestroyNotify)g_byte_array_unref)};
			parser_sink_t sink = {robust_open, robust_close, &s};
			gint state = 0, save = 0;
			gsize n;
			GByteArray *got;

			for (guint i = 0; i < size; i++)
				data[i] = (guchar)g_rand_int_range(rand, 0, 256);
			n = g_base64_encode_step(data, size, TRUE, b64, &state, &save);
			n += g_base64_encode_close(TRUE, b64 + n, &state, &save);
			b64[n] = '\0';
			if (size % 3 == 1) /* an unpadded tail, as some mailers send */
				g_strdelimit(b64, "=", ' ');
			body = crlf ? test_crlf(b64) : g_strdup(b64);
			mail = g_strdup_printf("From: a@example.jp\nSubject: x\nMIME-Version: 1.0\n"
			                       "Content-Type: application/octet-stream\n"
			                       "Content-Transfer-Encoding: base64\n\n%s",
			                       body);
			r = parser_parse_bytes(parser, mail, strlen(mail), &sink, &error);
			g_assert_no_error(error);
			g_assert_cmpuint(r->attachments->len, ==, 1);
			got = s.received->pdata[0];
			g_assert_cmpuint(got->len, ==, size);
			g_assert_true(memcmp(got->data, data, size) == 0);
			g_assert_null(r->problem);
			g_ptr_array_unref(s.received);
		}
	}
	g_rand_free(rand);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/robustness/truncations", test_truncations);
	g_test_add_func("/robustness/flips", test_flips);
	g_test_add_func("/robustness/hostile", test_hostile);
	g_test_add_func("/robustness/base64-round-trip", test_base64_round_trip);
	return g_test_run();
}
