/* decode.c — one pass over a part's encoded content: GMime's decoding filter
 * (base64, quoted-printable, uuencode) into the caller's stream, with a
 * pass-through filter in front that counts what is not base64, since
 * GMime's decoder skips such bytes silently. */
#include "parser/parser-internal.h"

#include <string.h>

/* ---- ParserBase64Check: a GMimeFilter that only looks ---------------------- */

typedef struct {
	GMimeFilter parent;
	guint invalid;   /* bytes outside the base64 alphabet and white space */
	gboolean padded; /* saw '=': only '=' and white space may follow in a line */
} ParserBase64Check;

typedef struct {
	GMimeFilterClass parent_class;
} ParserBase64CheckClass;

GType parser_base64_check_get_type(void);
G_DEFINE_TYPE(ParserBase64Check, parser_base64_check, GMIME_TYPE_FILTER)

#define B64CHECK(f)                                                                                \
	G_TYPE_CHECK_INSTANCE_CAST((f), parser_base64_check_get_type(), ParserBase64Check)

static void
check_filter(GMimeFilter *filter, char *in, size_t len, size_t prespace, char **out, size_t *outlen,
             size_t *outprespace)
{
	ParserBase64Check *c = B64CHECK(filter);

	for (size_t i = 0; i < len; i++) {
		guchar b = (guchar)in[i];
		if (b == '\n') {
			c->padded = FALSE;
		} else if (b == '=') {
			c->padded = TRUE;
		} else if (g_ascii_isspace(b)) {
			continue;
		} else if (g_ascii_isalnum(b) || b == '+' || b == '/') {
			if (c->padded)
				c->invalid++; /* data after the padding */
		} else {
			c->invalid++;
		}
	}
	*out = in;
	*outlen = len;
	*outprespace = prespace;
}

static GMimeFilter *
check_copy(GMimeFilter *filter)
{
	(void)filter;
	return g_object_new(parser_base64_check_get_type(), NULL);
}

static void
check_reset(GMimeFilter *filter)
{
	ParserBase64Check *c = B64CHECK(filter);
	c->invalid = 0;
	c->padded = FALSE;
}

static void
parser_base64_check_class_init(ParserBase64CheckClass *klass)
{
	GMimeFilterClass *fc = GMIME_FILTER_CLASS(klass);

	fc->copy = check_copy;
	fc->filter = check_filter;
	fc->complete = check_filter;
	fc->reset = check_reset;
}

static void
parser_base64_check_init(ParserBase64Check *c)
{
	(void)c;
}

/* ---- the decode ------------------------------------------------------------- */

gboolean
parser_decode_content(GMimeObject *object, GMimeStream *out, guint *invalid_out)
{
	GMimeDataWrapper *content;
	GMimeStream *raw;
	GMimeContentEncoding encoding;
	g_autoptr(GMimeStream) filtered = NULL;
	g_autoptr(GMimeFilter) check = NULL;
	gboolean ok = TRUE;

	*invalid_out = 0;
	if (GMIME_IS_MESSAGE_PART(object)) {
		GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(object));
		if (inner != NULL &&
		    g_mime_object_write_to_stream(GMIME_OBJECT(inner), NULL, out) < 0)
			ok = FALSE;
		return ok && g_mime_stream_flush(out) == 0;
	}
	if (!GMIME_IS_PART(object))
		return TRUE;
	content = g_mime_part_get_content(GMIME_PART(object));
	if (content == NULL || (raw = g_mime_data_wrapper_get_stream(content)) == NULL)
		return TRUE;
	encoding = g_mime_data_wrapper_get_encoding(content);
	filtered = g_mime_stream_filter_new(out);
	if (encoding == GMIME_CONTENT_ENCODING_BASE64) {
		check = g_object_new(parser_base64_check_get_type(), NULL);
		g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), check);
	}
	if (encoding == GMIME_CONTENT_ENCODING_BASE64 ||
	    encoding == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
	    encoding == GMIME_CONTENT_ENCODING_UUENCODE) {
		g_autoptr(GMimeFilter) decoder = g_mime_filter_basic_new(encoding, FALSE);
		g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), decoder);
	}
	if (g_mime_stream_reset(raw) < 0 || g_mime_stream_write_to_stream(raw, filtered) < 0 ||
	    g_mime_stream_flush(filtered) < 0)
		ok = FALSE;
	if (check != NULL)
		*invalid_out = B64CHECK(check)->invalid;
	return ok;
}
