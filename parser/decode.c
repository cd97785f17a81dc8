/* decode.c — one pass over a part's encoded content into the caller's
 * stream: base64 (nearly every attachment) with the decoder below, which
 * reads a mapped file or an in-memory message in place and counts the
 * bytes it had to skip; quoted-printable and uuencode through GMime's
 * decoding filter.  A second, readable pass (parser_decoded_reader) serves
 * the archive and winmail.dat readers. */
#include "parser/parser-internal.h"

#include <string.h>

/* ---- base64, decoded here ---------------------------------------------------
 *
 * Attachments are nearly all base64, and decoding them is most of a parse.
 * GMime's filter chain copies every block twice on the way and skips
 * bytes that are not base64 without saying so; this decoder reads the raw
 * part in large blocks, decodes four letters at a time when it can, and
 * counts what it had to skip (a damaged attachment is reported, not
 * silently repaired).  A "=" ends a group; letters after it on the same
 * line are counted as invalid and skipped.
 */

enum {
	B64_SPACE = 0x40,
	B64_NEWLINE = 0x41,
	B64_PAD = 0x42,
	B64_INVALID = 0x80,
};

static guint8 b64_table[256];
/* For the fast path: a letter's sextet already in place for each position
 * of a group of four (bits 18, 12, 6, 0); anything else sets bit 24. */
static guint32 b64_place[4][256];
#define B64_NOT_LETTER 0x01000000u

static gpointer
b64_table_init(gpointer unused)
{
	static const char letters[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	(void)unused;
	memset(b64_table, B64_INVALID, sizeof b64_table);
	for (int k = 0; k < 4; k++)
		for (int c = 0; c < 256; c++)
			b64_place[k][c] = B64_NOT_LETTER;
	for (int i = 0; i < 64; i++) {
		b64_table[(guchar)letters[i]] = (guint8)i;
		for (int k = 0; k < 4; k++)
			b64_place[k][(guchar)letters[i]] = (guint32)i << (18 - 6 * k);
	}
	b64_table[' '] = b64_table['\t'] = b64_table['\r'] = b64_table['\f'] = b64_table['\v'] =
	    B64_SPACE;
	b64_table['\n'] = B64_NEWLINE;
	b64_table['='] = B64_PAD;
	return NULL;
}

typedef struct {
	guint32 acc;     /* sextets of the current group */
	int n;           /* how many (0–3) */
	gboolean padded; /* saw "=" on this line */
	guint invalid;
} b64_state_t;

/* Emit what the N sextets in ACC hold (N = 2 or 3 at the end of a group). */
static guchar *
b64_flush(b64_state_t *st, guchar *o)
{
	if (st->n == 2) {
		*o++ = (guchar)(st->acc >> 4);
	} else if (st->n == 3) {
		*o++ = (guchar)(st->acc >> 10);
		*o++ = (guchar)(st->acc >> 2);
	} else if (st->n == 1) {
		st->invalid++; /* six bits make no byte */
	}
	st->acc = 0;
	st->n = 0;
	return o;
}

/* Decode IN into OUT (room for len / 4 * 3 + 4 bytes: the fast path
 * stores four bytes for every three); returns the bytes written. */
static gsize
b64_decode(b64_state_t *st, const guchar *in, gsize len, guchar *out)
{
	const guchar *p = in, *end = in + len;
	guchar *o = out;

	while (p < end) {
		guint8 k;
		if (st->n == 0 && !st->padded) {
			/* the fast path: whole groups of four letters, and the line
			 * breaks between them (a break resets only "padded", which
			 * is not set here; CR is space) */
			while (end - p >= 4) {
				guint32 v = b64_place[0][p[0]] | b64_place[1][p[1]] |
				            b64_place[2][p[2]] | b64_place[3][p[3]];
				guint32 be;
				if (G_UNLIKELY(v & B64_NOT_LETTER)) {
					if (p[0] == '\r' && p[1] == '\n') {
						p += 2;
						continue;
					}
					if (p[0] == '\n') {
						p++;
						continue;
					}
					break;
				}
				be = GUINT32_TO_BE(v << 8);
				memcpy(o, &be, 4); /* the fourth byte is overwritten next */
				o += 3;
				p += 4;
			}
			if (p == end)
				break;
		}
		k = b64_table[*p++];
		if (k < 64) {
			if (st->padded) {
				st->invalid++;
				continue;
			}
			st->acc = st->acc << 6 | k;
			if (++st->n == 4) {
				o[0] = (guchar)(st->acc >> 16);
				o[1] = (guchar)(st->acc >> 8);
				o[2] = (guchar)st->acc;
				o += 3;
				st->acc = 0;
				st->n = 0;
			}
		} else if (k == B64_NEWLINE) {
			st->padded = FALSE;
		} else if (k == B64_PAD) {
			if (!st->padded)
				o = b64_flush(st, o);
			st->padded = TRUE;
		} else if (k == B64_INVALID) {
			st->invalid++;
		}
	}
	return (gsize)(o - out);
}

/* Decode the base64 RAW stream into OUT. */
static gboolean
decode_base64(GMimeStream *raw, GMimeStream *out, guint *invalid_out)
{
	static GOnce once = G_ONCE_INIT;
	enum { BLOCK = 64 * 1024 };
	g_autofree guchar *in = g_malloc(BLOCK);
	g_autofree guchar *decoded = g_malloc(BLOCK / 4 * 3 + 8); /* see b64_decode() */
	b64_state_t st = {0, 0, FALSE, 0};
	gboolean ok = TRUE;

	const guchar *base = NULL;
	gsize base_len = 0;

	g_once(&once, b64_table_init, NULL);
	/* a mapped file or bytes in memory: decode straight from them, no copy */
	if (GMIME_IS_STREAM_MMAP(raw) && GMIME_STREAM_MMAP(raw)->map != NULL) {
		base = (const guchar *)GMIME_STREAM_MMAP(raw)->map;
		base_len = GMIME_STREAM_MMAP(raw)->maplen;
	} else if (GMIME_IS_STREAM_MEM(raw) && GMIME_STREAM_MEM(raw)->buffer != NULL) {
		base = GMIME_STREAM_MEM(raw)->buffer->data;
		base_len = GMIME_STREAM_MEM(raw)->buffer->len;
	}
	if (base != NULL) {
		gint64 from = MIN(MAX(raw->bound_start, 0), (gint64)base_len);
		gint64 to =
		    raw->bound_end < 0 ? (gint64)base_len : MIN(raw->bound_end, (gint64)base_len);
		while (ok && from < to) {
			gsize n = (gsize)MIN(to - from, (gint64)BLOCK);
			gsize m = b64_decode(&st, base + from, n, decoded);
			if (m > 0 && g_mime_stream_write(out, (const char *)decoded, m) < 0)
				ok = FALSE;
			from += (gint64)n;
		}
	}
	while (ok && base == NULL && !g_mime_stream_eos(raw)) {
		ssize_t n = g_mime_stream_read(raw, (char *)in, BLOCK);
		gsize m;
		if (n <= 0)
			break; /* the end (a bounded stream says so with an error) */
		m = b64_decode(&st, in, (gsize)n, decoded);
		if (m > 0 && g_mime_stream_write(out, (const char *)decoded, m) < 0)
			ok = FALSE;
	}
	if (ok) {
		guchar tail[4];
		gsize m = (gsize)(b64_flush(&st, tail) - tail);
		if (m > 0 && g_mime_stream_write(out, (const char *)tail, m) < 0)
			ok = FALSE;
	}
	*invalid_out = st.invalid;
	return ok && g_mime_stream_flush(out) == 0;
}

/* ---- the decode ------------------------------------------------------------- */

gboolean
parser_decode_content(GMimeObject *object, GMimeStream *out, guint *invalid_out)
{
	GMimeDataWrapper *content;
	GMimeStream *raw;
	GMimeContentEncoding encoding;
	g_autoptr(GMimeStream) filtered = NULL;
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
	if (encoding == GMIME_CONTENT_ENCODING_BASE64)
		return g_mime_stream_reset(raw) == 0 && decode_base64(raw, out, invalid_out);
	filtered = g_mime_stream_filter_new(out);
	if (encoding == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
	    encoding == GMIME_CONTENT_ENCODING_UUENCODE) {
		g_autoptr(GMimeFilter) decoder = g_mime_filter_basic_new(encoding, FALSE);
		g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), decoder);
	}
	if (g_mime_stream_reset(raw) < 0 || g_mime_stream_write_to_stream(raw, filtered) < 0 ||
	    g_mime_stream_flush(filtered) < 0)
		ok = FALSE;
	return ok;
}

GMimeStream *
parser_decoded_reader(GMimeObject *object)
{
	GMimeDataWrapper *content;
	GMimeStream *raw, *filtered;
	GMimeContentEncoding encoding;

	if (!GMIME_IS_PART(object))
		return NULL;
	content = g_mime_part_get_content(GMIME_PART(object));
	if (content == NULL || (raw = g_mime_data_wrapper_get_stream(content)) == NULL)
		return NULL;
	if (g_mime_stream_reset(raw) < 0)
		return NULL;
	encoding = g_mime_data_wrapper_get_encoding(content);
	filtered = g_mime_stream_filter_new(raw);
	if (encoding == GMIME_CONTENT_ENCODING_BASE64 ||
	    encoding == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
	    encoding == GMIME_CONTENT_ENCODING_UUENCODE) {
		g_autoptr(GMimeFilter) decoder = g_mime_filter_basic_new(encoding, FALSE);
		g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), decoder);
	}
	return filtered;
}
