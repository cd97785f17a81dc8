/* encode.c — text encodings for outgoing mail: ISO-2022-JP (RFC 1468) and
 * RFC 2047 encoded words for header values.  Pure functions, no I/O.
 *
 * GMime can encode headers itself, but it sizes encoded words by characters
 * (so Japanese words grow past RFC 2047's 75-character limit) and picks "Q"
 * for ISO-2022-JP because its bytes are 7-bit; Japanese mail wants
 * "=?ISO-2022-JP?B?…?=" with every word ending in ASCII, so we write those
 * values ourselves.
 */
#include "sender/sender-internal.h"

#include <string.h>

/* Longest encoded word: fits after "Subject: " within 76 columns. */
#define WORD_MAX 67
/* Fold header lines before they pass this column (RFC 2047 §2). */
#define FOLD_AT 76
/* ASCII words longer than this are encoded so that they can be split. */
#define ASCII_WORD_MAX 70

static const struct {
	gunichar cp932, jis;
} jis_equivalents[] = {
    {0xFF5E, 0x301C}, /* ～ FULLWIDTH TILDE → 〜 WAVE DASH */
    {0x2225, 0x2016}, /* ∥ PARALLEL TO → ‖ DOUBLE VERTICAL LINE */
    {0xFF0D, 0x2212}, /* － FULLWIDTH HYPHEN-MINUS → − MINUS SIGN */
    {0xFFE0, 0x00A2}, /* ￠ → ¢ */
    {0xFFE1, 0x00A3}, /* ￡ → £ */
    {0xFFE2, 0x00AC}, /* ￢ → ¬ */
    {0x2014, 0x2015}, /* — EM DASH → ― HORIZONTAL BAR */
};

char *
sender_jis_normalize(const char *utf8)
{
	GString *out = g_string_sized_new(strlen(utf8));

	for (const char *p = utf8; *p; p = PI_UTF8_NEXT(p)) {
		gunichar c = g_utf8_get_char(p);
		for (gsize i = 0; i < G_N_ELEMENTS(jis_equivalents); i++) {
			if (c == jis_equivalents[i].cp932) {
				c = jis_equivalents[i].jis;
				break;
			}
		}
		g_string_append_unichar(out, c);
	}
	return g_string_free(out, FALSE);
}

GBytes *
sender_jis_encode(const char *text, gsize len)
{
	g_autofree char *jis = NULL;
	g_autofree char *back = NULL;
	gsize jis_len = 0, back_len = 0;

	/* ESC, SO and SI would switch the recipient's decoder. */
	for (gsize i = 0; i < len; i++) {
		if (text[i] == 0x1b || text[i] == 0x0e || text[i] == 0x0f)
			return NULL;
	}
	/* g_convert() flushes the converter, so the result ends in ASCII. */
	jis = g_convert(text, (gssize)len, "ISO-2022-JP", "UTF-8", NULL, &jis_len, NULL);
	if (jis == NULL)
		return NULL;
	back = g_convert(jis, (gssize)jis_len, "UTF-8", "ISO-2022-JP", NULL, &back_len, NULL);
	if (back == NULL || back_len != len || memcmp(back, text, len) != 0)
		return NULL;
	return g_bytes_new_take(g_steal_pointer(&jis), jis_len);
}

/* ---- header values --------------------------------------------------------- */

typedef struct {
	GString *out;
	gsize col;
	gboolean first;
} folder_t;

static void
folder_init(folder_t *f, const char *field)
{
	f->out = g_string_new(NULL);
	f->col = strlen(field) + 1; /* "Field:" */
	f->first = TRUE;
}

/* Append PIECE, preceded by the whitespace SEP that was between it and the
 * previous piece; fold before SEP when the line would grow past FOLD_AT. */
static void
folder_add(folder_t *f, const char *sep, gsize sep_len, const char *piece, gsize len)
{
	if (f->first) {
		g_string_append_c(f->out, ' ');
		f->col++;
		f->first = FALSE;
	} else if (sep_len > 0 && f->col + sep_len + len > FOLD_AT) {
		g_string_append_c(f->out, '\n');
		g_string_append_len(f->out, sep, (gssize)sep_len);
		f->col = sep_len;
	} else {
		g_string_append_len(f->out, sep, (gssize)sep_len);
		f->col += sep_len;
	}
	g_string_append_len(f->out, piece, (gssize)len);
	f->col += len;
}

static char *
folder_finish(folder_t *f)
{
	if (f->first)
		g_string_append_c(f->out, ' ');
	g_string_append_c(f->out, '\n');
	return g_string_free(f->out, FALSE);
}

/* RFC 2047 §5(3): what a "Q" word may carry as itself, even in a phrase. */
static gboolean
q_plain(guchar c)
{
	return g_ascii_isalnum(c) || c == '!' || c == '*' || c == '+' || c == '-' || c == '/';
}

static gsize
q_length(GBytes *bytes)
{
	gsize size, n = 0;
	const guchar *data = g_bytes_get_data(bytes, &size);

	for (gsize i = 0; i < size; i++)
		n += q_plain(data[i]) || data[i] == ' ' ? 1 : 3;
	return n;
}

static char *
q_encode(GBytes *bytes)
{
	gsize size;
	const guchar *data = g_bytes_get_data(bytes, &size);
	GString *out = g_string_sized_new(size * 3);

	for (gsize i = 0; i < size; i++) {
		if (data[i] == ' ')
			g_string_append_c(out, '_');
		else if (q_plain(data[i]))
			g_string_append_c(out, (char)data[i]);
		else
			g_string_append_printf(out, "=%02X", data[i]);
	}
	return g_string_free(out, FALSE);
}

/* Characters [start, end) of the text, encoded (UTF-8 or ISO-2022-JP). */
typedef struct {
	GBytes *bytes;
	const char *end;
} chunk_t;

/* *LONGEST: the longest run of whole characters from P that fits in a word
 * (with Q_LIMIT set, its Q length is at most Q_LIMIT; else its size is at most
 * B_LIMIT octets); *ALIGNED: the longest of those whose size is a multiple of 3
 * (bytes NULL when none).  FALSE when ISO-2022-JP cannot hold a character. */

static gboolean
take_chunk(const char *p, const char *end, gboolean jis, gsize b_limit, gsize q_limit,
           chunk_t *longest, chunk_t *aligned)
{
	const char *q = p;

	*longest = (chunk_t){NULL, p};
	*aligned = (chunk_t){NULL, p};
	while (q < end) {
		const char *next = PI_UTF8_NEXT(q);
		GBytes *candidate = jis ? sender_jis_encode(p, (gsize)(next - p))
		                        : g_bytes_new(p, (gsize)(next - p));
		gsize size;

		if (candidate == NULL) {
			g_clear_pointer(&longest->bytes, g_bytes_unref);
			g_clear_pointer(&aligned->bytes, g_bytes_unref);
			return FALSE;
		}
		size = q_limit ? q_length(candidate) : g_bytes_get_size(candidate);
		if (longest->bytes != NULL && size > (q_limit ? q_limit : b_limit)) {
			g_bytes_unref(candidate);
			break;
		}
		q = next;
		if (g_bytes_get_size(candidate) % 3 == 0) {
			g_clear_pointer(&aligned->bytes, g_bytes_unref);
			*aligned = (chunk_t){g_bytes_ref(candidate), q};
		}
		g_clear_pointer(&longest->bytes, g_bytes_unref);
		*longest = (chunk_t){candidate, q};
	}
	return TRUE;
}

/* TEXT (LEN bytes of UTF-8) as encoded words of at most WORD_MAX
 * characters, split between characters, the first preceded by SEP and the
 * others by a space (ignored between encoded words, RFC 2047 §6.2).
 *
 * Some decoders (GMime among them) base64-decode a run of "B" words as one
 * block and stop at the first padding, so every "B" word but the last of a
 * run carries a multiple of 3 octets.  Where the characters make that
 * impossible ("ab開示…" in UTF-8), that one word is a "Q" word instead, which
 * also ends the "B" run for such decoders. */
static gboolean
add_encoded_words(folder_t *f, const char *sep, gsize sep_len, const char *text, gsize len,
                  gboolean jis)
{
	const char *charset = jis ? "ISO-2022-JP" : "UTF-8";
	const gsize overhead = strlen(charset) + 7; /* =?CHARSET?B?PAYLOAD?= */
	const char *p = text, *end = text + len;

	while (p < end) {
		chunk_t longest, aligned;
		g_autofree char *payload = NULL;
		g_autofree char *word = NULL;
		chunk_t *use;
		char encoding = 'B';
		/* Fill the rest of the current line when a useful word fits there. */
		gsize lead = f->first ? 1 : p == text ? sep_len : 1;
		gsize room = f->col + lead < FOLD_AT ? FOLD_AT - f->col - lead : 0;
		gsize word_max = room >= overhead + 12 ? MIN(room, WORD_MAX) : WORD_MAX;
		gsize b_limit = (word_max - overhead) / 4 * 3;
		gsize q_limit = word_max - overhead;

		if (!take_chunk(p, end, jis, b_limit, 0, &longest, &aligned))
			return FALSE;
		if (longest.end == end) {
			use = &longest;
		} else if (aligned.bytes != NULL) {
			use = &aligned;
		} else {
			g_bytes_unref(longest.bytes);
			if (!take_chunk(p, end, jis, 0, q_limit, &longest, &aligned))
				return FALSE; /* not reached: the same characters converted above */
			use = &longest;
			encoding = 'Q';
		}
		if (encoding == 'Q') {
			payload = q_encode(use->bytes);
		} else {
			gsize size;
			const guchar *data = g_bytes_get_data(use->bytes, &size);
			payload = g_base64_encode(data, size);
		}
		word = g_strdup_printf("=?%s?%c?%s?=", charset, encoding, payload);
		if (p == text)
			folder_add(f, sep, sep_len, word, strlen(word));
		else
			folder_add(f, " ", 1, word, strlen(word));
		p = use->end;
		g_clear_pointer(&longest.bytes, g_bytes_unref);
		g_clear_pointer(&aligned.bytes, g_bytes_unref);
	}
	return TRUE;
}

static gboolean
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static gboolean
word_needs_encoding(const char *word, gsize len)
{
	if (len > ASCII_WORD_MAX)
		return TRUE;
	for (gsize i = 0; i < len; i++) {
		if ((guchar)word[i] >= 0x80)
			return TRUE;
		/* an ASCII word that looks like an encoded word would be decoded */
		if (word[i] == '=' && i + 1 < len && word[i + 1] == '?')
			return TRUE;
	}
	return FALSE;
}

char *
sender_header_encode_text(const char *field, const char *text, gboolean jis)
{
	folder_t f;
	const char *p = text;

	folder_init(&f, field);
	while (is_wsp(*p))
		p++;
	while (*p) {
		const char *ws = p, *word, *group_end;
		gsize ws_len;

		while (is_wsp(*p))
			p++;
		ws_len = (gsize)(p - ws);
		if (*p == '\0')
			break; /* trailing whitespace */
		word = p;
		while (*p && !is_wsp(*p))
			p++;
		if (!word_needs_encoding(word, (gsize)(p - word))) {
			folder_add(&f, ws, ws_len, word, (gsize)(p - word));
			continue;
		}
		/* Encode the following words that need it together with this one,
		 * so the whitespace between them survives decoding. */
		group_end = p;
		for (;;) {
			const char *q = group_end, *next_word;
			while (is_wsp(*q))
				q++;
			if (*q == '\0')
				break;
			next_word = q;
			while (*q && !is_wsp(*q))
				q++;
			if (!word_needs_encoding(next_word, (gsize)(q - next_word)))
				break;
			group_end = q;
		}
		if (!add_encoded_words(&f, ws, ws_len, word, (gsize)(group_end - word), jis)) {
			g_string_free(f.out, TRUE);
			return NULL;
		}
		p = group_end;
	}
	return folder_finish(&f);
}

char *
sender_header_encode_mailbox(const char *field, const char *name, const char *addr, gboolean jis)
{
	g_autofree char *angle = g_strdup_printf("<%s>", addr);
	folder_t f;

	folder_init(&f, field);
	if (!add_encoded_words(&f, "", 0, name, strlen(name), jis)) {
		g_string_free(f.out, TRUE);
		return NULL;
	}
	folder_add(&f, " ", 1, angle, strlen(angle));
	return folder_finish(&f);
}
