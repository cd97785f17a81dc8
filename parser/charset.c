/* charset.c — bytes in the charsets Japanese mail really uses → UTF-8.
 *
 * Japanese mailers label text ISO-2022-JP, Shift_JIS or EUC-JP but write the
 * Microsoft supersets (CP50221, CP932, eucJP-ms): NEC row 13 (①, ㈱, Ⅲ) and
 * the IBM extensions.  glibc has CP932 and EUC-JP-MS but no CP50221, so
 * ISO-2022-JP is transcoded here to CP932 bytes (the JIS → Shift_JIS
 * arithmetic covers every row, extensions included) and converted from
 * there.  When the label is missing or wrong, the candidates are scored.
 */
#include "parser/parser-internal.h"

#include <errno.h>
#include <string.h>
#include <uchardet.h>

#define REPLACEMENT "\xef\xbf\xbd"

typedef enum {
	FAM_NONE,
	FAM_ASCII,
	FAM_UTF8,
	FAM_JIS,
	FAM_SJIS,
	FAM_EUC,
	FAM_WIDE, /* UTF-16/32, UTF-7: never ASCII-compatible, trust the label */
	FAM_OTHER,
} family_t;

static family_t
charset_family(const char *charset)
{
	static const char *const ascii[] = {"us-ascii",  "ascii", "ansi_x3.4-1968",
	                                    "iso646-us", "us",    NULL};
	static const char *const sjis[] = {"shift_jis", "shift-jis",  "sjis",           "x-sjis",
	                                   "ms_kanji",  "csshiftjis", "windows-31j",    "cp932",
	                                   "ms932",     "x-ms-cp932", "shift_jisx0213", "sjis-open",
	                                   "sjis-win",  NULL};
	static const char *const euc[] = {
	    "euc-jp",   "eucjp",     "x-euc-jp", "x-euc",     "ujis",       "cseucpkdfmtjapanese",
	    "eucjp-ms", "euc-jp-ms", "cp51932",  "eucjp-win", "eucjp-open", NULL};
	g_autofree char *lower = NULL;

	if (charset == NULL || *charset == '\0')
		return FAM_NONE;
	lower = g_ascii_strdown(charset, -1);
	g_strstrip(lower);
	if (g_strv_contains(ascii, lower))
		return FAM_ASCII;
	if (strcmp(lower, "utf-8") == 0 || strcmp(lower, "utf8") == 0)
		return FAM_UTF8;
	if (g_str_has_prefix(lower, "iso-2022-jp") || g_str_has_prefix(lower, "iso2022jp") ||
	    g_str_has_prefix(lower, "csiso2022jp") || strcmp(lower, "jis") == 0 ||
	    strcmp(lower, "cp50220") == 0 || strcmp(lower, "cp50221") == 0 ||
	    strcmp(lower, "cp50222") == 0)
		return FAM_JIS;
	if (g_strv_contains(sjis, lower))
		return FAM_SJIS;
	if (g_strv_contains(euc, lower))
		return FAM_EUC;
	if (g_str_has_prefix(lower, "utf-16") || g_str_has_prefix(lower, "utf-32") ||
	    g_str_has_prefix(lower, "ucs-") || g_str_has_prefix(lower, "utf-7"))
		return FAM_WIDE;
	return FAM_OTHER;
}

gboolean
parser_charset_is_japanese(const char *charset)
{
	family_t f = charset_family(charset);
	return f == FAM_JIS || f == FAM_SJIS || f == FAM_EUC;
}

/* Converters are kept open, per thread: opening one loads a gconv module
 * (dlopen), and a parse converts dozens of headers and parts.  Charset
 * names come from the mail, so only the first CACHE_MAX are kept. */
#define CACHE_MAX 32

static void
converter_close(gpointer cd)
{
	if ((GIConv)cd != (GIConv)-1)
		g_iconv_close((GIConv)cd);
}

static GPrivate converters = G_PRIVATE_INIT((GDestroyNotify)g_hash_table_unref);

/* A converter from FROM to UTF-8, reset; (GIConv)-1 when iconv does not
 * know FROM.  *OWNED_OUT: the caller must close it (not cached). */
static GIConv
converter_get(const char *from, gboolean *owned_out)
{
	GHashTable *table = g_private_get(&converters);
	gpointer cd;

	*owned_out = FALSE;
	if (table == NULL) {
		table = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, converter_close);
		g_private_set(&converters, table);
	}
	if (g_hash_table_lookup_extended(table, from, NULL, &cd)) {
		if ((GIConv)cd != (GIConv)-1)
			g_iconv((GIConv)cd, NULL, NULL, NULL, NULL);
		return (GIConv)cd;
	}
	cd = (gpointer)g_iconv_open("UTF-8", from);
	if (g_hash_table_size(table) < CACHE_MAX)
		g_hash_table_insert(table, g_strdup(from), cd);
	else
		*owned_out = TRUE;
	return (GIConv)cd;
}

/* Convert with iconv, appending to OUT; undecodable bytes become U+FFFD and
 * are counted.  G_MAXUINT when iconv does not know FROM. */
static guint
iconv_append(const char *from, const char *data, gsize len, GString *out)
{
	union {
		const char *c;
		char *m;
	} in = {data};
	gboolean owned;
	GIConv cd = converter_get(from, &owned);
	gsize inleft = len;
	guint errors = 0;
	char buf[4096];

	if (cd == (GIConv)-1)
		return G_MAXUINT;
	while (inleft > 0) {
		char *o = buf;
		gsize oleft = sizeof buf;
		gsize r = g_iconv(cd, &in.m, &inleft, &o, &oleft);
		g_string_append_len(out, buf, (gssize)(o - buf));
		if (r == (gsize)-1 && errno != E2BIG) {
			/* EILSEQ or a sequence cut at the end (EINVAL) */
			errors++;
			g_string_append(out, REPLACEMENT);
			in.m++;
			inleft--;
			g_iconv(cd, NULL, NULL, NULL, NULL);
		}
	}
	{
		char *o = buf;
		gsize oleft = sizeof buf;
		g_iconv(cd, NULL, NULL, &o, &oleft);
		g_string_append_len(out, buf, (gssize)(o - buf));
	}
	if (owned)
		g_iconv_close(cd);
	return errors;
}

static guint
utf8_append(const char *data, gsize len, GString *out)
{
	const char *p = data, *end = data + len;
	guint errors = 0;

	while (p < end) {
		const char *bad;
		if (g_utf8_validate(p, end - p, &bad)) {
			g_string_append_len(out, p, end - p);
			break;
		}
		g_string_append_len(out, p, bad - p);
		p = bad + 1;
		if (*bad == '\0') /* validate stops at NUL: not an error, dropped */
			continue;
		g_string_append(out, REPLACEMENT);
		errors++;
	}
	return errors;
}

/* ---- ISO-2022-JP (CP50221) ----------------------------------------------- */

typedef enum { JIS_ASCII, JIS_KANJI, JIS_KANA, JIS_OTHER } jis_mode_t;

static void
flush_sjis(GByteArray *sjis, GString *out, guint *errors)
{
	if (sjis->len > 0) {
		guint e = iconv_append("CP932", (const char *)sjis->data, sjis->len, out);
		*errors += e == G_MAXUINT ? sjis->len : e;
		g_byte_array_set_size(sjis, 0);
	}
}

/* Length of the escape sequence at P (ESC included) and the mode it
 * selects; 0 when P is not an escape this decoder knows. */
static gsize
jis_escape(const guint8 *p, gsize left, jis_mode_t *mode_out)
{
	static const struct {
		const char *seq;
		jis_mode_t mode;
	} escapes[] = {
	    {"\x1b$B", JIS_KANJI},  {"\x1b$@", JIS_KANJI},  {"\x1b$(B", JIS_KANJI},
	    {"\x1b$(Q", JIS_KANJI}, {"\x1b$(O", JIS_KANJI}, {"\x1b&@", JIS_OTHER},
	    {"\x1b(B", JIS_ASCII},  {"\x1b(J", JIS_ASCII},  {"\x1b(H", JIS_ASCII},
	    {"\x1b(I", JIS_KANA},   {"\x1b$(D", JIS_OTHER}, {"\x1b$A", JIS_OTHER},
	    {"\x1b$(C", JIS_OTHER}, {"\x1b.A", JIS_OTHER},  {"\x1b.F", JIS_OTHER},
	};
	for (gsize i = 0; i < G_N_ELEMENTS(escapes); i++) {
		gsize n = strlen(escapes[i].seq);
		if (n <= left && memcmp(p, escapes[i].seq, n) == 0) {
			*mode_out = escapes[i].mode;
			return n;
		}
	}
	return 0;
}

static guint
jis_append(const guint8 *p, gsize len, GString *out)
{
	g_autoptr(GByteArray) sjis = g_byte_array_new();
	jis_mode_t mode = JIS_ASCII;
	gboolean shifted = FALSE; /* SO/SI half-width katakana (CP50221) */
	guint errors = 0;
	gsize i = 0;

	while (i < len) {
		guint8 c = p[i];
		if (c == 0x1b) {
			jis_mode_t m;
			gsize n = jis_escape(p + i, len - i, &m);
			if (n == 0) {
				errors++;
				i++;
				continue;
			}
			/* ESC & @ only announces the 1990 revision: keep the mode */
			if (!(m == JIS_OTHER && p[i + 1] == '&'))
				mode = m;
			i += n;
			continue;
		}
		if (c == 0x0e || c == 0x0f) {
			shifted = c == 0x0e;
			i++;
			continue;
		}
		if (c == '\n' || c == '\r') { /* lines end in ASCII (RFC 1468) */
			mode = JIS_ASCII;
			shifted = FALSE;
			g_byte_array_append(sjis, &c, 1);
			i++;
			continue;
		}
		if (c >= 0x80) {
			if (c >= 0xa1 && c <= 0xdf) { /* 8-bit half-width kana (CP50222 style) */
				g_byte_array_append(sjis, &c, 1);
			} else {
				flush_sjis(sjis, out, &errors);
				g_string_append(out, REPLACEMENT);
			}
			errors++;
			i++;
			continue;
		}
		if ((shifted || mode == JIS_KANA) && c >= 0x21 && c <= 0x5f) {
			guint8 k = c + 0x80;
			g_byte_array_append(sjis, &k, 1);
			i++;
			continue;
		}
		if ((mode == JIS_KANJI || mode == JIS_OTHER) && c >= 0x21 && c <= 0x7e) {
			if (i + 1 >= len || p[i + 1] < 0x21 || p[i + 1] > 0x7e) {
				flush_sjis(sjis, out, &errors);
				g_string_append(out, REPLACEMENT);
				errors++;
				i++;
				continue;
			}
			if (mode == JIS_OTHER) { /* JIS X 0212 and friends: no CP932 code */
				flush_sjis(sjis, out, &errors);
				g_string_append(out, REPLACEMENT);
				errors++;
			} else {
				guint j1 = c, j2 = p[i + 1];
				guint8 s[2];
				s[0] = (guint8)(((j1 - 0x21) >> 1) + 0x81);
				if (s[0] > 0x9f)
					s[0] += 0x40;
				if (j1 & 1)
					s[1] = (guint8)(j2 + (j2 >= 0x60 ? 0x20 : 0x1f));
				else
					s[1] = (guint8)(j2 + 0x7e);
				g_byte_array_append(sjis, s, 2);
			}
			i += 2;
			continue;
		}
		g_byte_array_append(sjis, &c, 1);
		i++;
	}
	flush_sjis(sjis, out, &errors);
	return errors;
}

/* ---- scoring --------------------------------------------------------------- */

/* How Japanese a decoded text looks: kana, kanji and full-width forms
 * count for it; half-width katakana (what EUC-JP read as CP932 gives),
 * Latin-1 letters and U+FFFD count against it. */
static int
japanese_score(const char *utf8, int *bad_out)
{
	int good = 0, bad = 0;

	for (const char *p = utf8; *p; p = PI_UTF8_NEXT(p)) {
		gunichar c = g_utf8_get_char(p);
		if (c < 0x80)
			continue;
		if ((c >= 0x3000 && c <= 0x30ff) || (c >= 0x3400 && c <= 0x4dbf) ||
		    (c >= 0x4e00 && c <= 0x9fff) || (c >= 0xff01 && c <= 0xff5e) ||
		    (c >= 0x2460 && c <= 0x24ff) || (c >= 0x2160 && c <= 0x217f) ||
		    (c >= 0x3200 && c <= 0x33ff))
			good++;
		else if ((c >= 0xff61 && c <= 0xff9f) || c == 0xfffd || c < 0x300)
			bad++;
	}
	*bad_out = bad;
	return good;
}

typedef struct {
	const char *name;
	char *text;
	guint errors;
	int good, bad;
} candidate_t;

static void
candidate_run(candidate_t *c, const char *name, const char *data, gsize len)
{
	GString *out = g_string_sized_new(len * 2 + 1);

	c->name = name;
	if (strcmp(name, "ISO-2022-JP") == 0)
		c->errors = jis_append((const guint8 *)data, len, out);
	else if (strcmp(name, "UTF-8") == 0)
		c->errors = utf8_append(data, len, out);
	else
		c->errors = iconv_append(name, data, len, out);
	c->text = g_string_free(out, FALSE);
	c->good = japanese_score(c->text, &c->bad);
}

static gboolean
candidate_better(const candidate_t *a, const candidate_t *b)
{
	if (a->errors != b->errors)
		return a->errors < b->errors;
	return a->good - 2 * a->bad > b->good - 2 * b->bad;
}

/* Convincingly Japanese: decodes cleanly with real kana/kanji. */
static gboolean
candidate_convincing(const candidate_t *c)
{
	return c->errors == 0 && c->good >= 2 && c->bad * 4 <= c->good;
}

static char *
finish(candidate_t *winner, candidate_t *all, gsize n, const char **used_out, guint *errors_out)
{
	char *clean = parser_utf8_clean(winner->text, -1, TRUE);

	if (used_out != NULL)
		*used_out = winner->name;
	if (errors_out != NULL)
		*errors_out = winner->errors;
	for (gsize i = 0; i < n; i++)
		g_free(all[i].text);
	return clean;
}

static gsize
best_candidate(const candidate_t *c, gsize n)
{
	gsize best = G_MAXSIZE;

	for (gsize i = 0; i < n; i++) {
		if (c[i].errors == G_MAXUINT)
			continue;
		if (best == G_MAXSIZE || candidate_better(&c[i], &c[best]))
			best = i;
	}
	return best;
}

/* What uchardet makes of DATA; NULL when it cannot tell.  Caller frees. */
static char *
detect_charset(const char *data, gsize len)
{
	uchardet_t ud = uchardet_new();
	const char *name;
	char *out = NULL;

	if (ud == NULL)
		return NULL;
	if (uchardet_handle_data(ud, data, MIN(len, (gsize)65536)) == 0) {
		uchardet_data_end(ud);
		name = uchardet_get_charset(ud);
		if (name != NULL && *name != '\0' && g_ascii_strcasecmp(name, "ASCII") != 0)
			out = g_strdup(name);
	}
	uchardet_delete(ud);
	return out;
}

char *
parser_charset_decode(const char *data, gsize len, const char *declared, const char **used_out,
                      guint *errors_out)
{
	static const char *const fallbacks[] = {"UTF-8", "CP932", "EUC-JP-MS", "ISO-2022-JP"};
	family_t fam = charset_family(declared);
	gboolean has_8bit = FALSE, has_esc = FALSE;
	candidate_t c[12] = {{0}};
	gsize n = 0, best;

	if (data == NULL)
		data = "", len = 0;
	for (gsize i = 0; i < len; i++) {
		guint8 b = (guint8)data[i];
		if (b >= 0x80)
			has_8bit = TRUE;
		else if (b == 0x1b && i + 1 < len && (data[i + 1] == '$' || data[i + 1] == '('))
			has_esc = TRUE;
	}

	if (fam == FAM_WIDE) {
		candidate_run(&c[n], declared, data, len);
		c[n].name = "declared";
		if (c[n++].errors != G_MAXUINT)
			return finish(&c[n - 1], c, n, used_out, errors_out);
	} else if (!has_8bit && !has_esc) {
		candidate_run(&c[n++], "UTF-8", data, len);
		return finish(&c[0], c, n, used_out, errors_out);
	}

	/* 1: what the label says, read as the superset mailers really write */
	if (fam == FAM_JIS || (has_esc && !has_8bit)) {
		candidate_run(&c[n++], "ISO-2022-JP", data, len);
	} else if (fam == FAM_SJIS) {
		candidate_run(&c[n++], "CP932", data, len);
	} else if (fam == FAM_EUC) {
		candidate_run(&c[n++], "EUC-JP-MS", data, len);
	} else if (fam == FAM_OTHER) {
		/* A Western label on Japanese bytes: believe the bytes only when
		 * they are valid UTF-8 or read as convincing Japanese. */
		candidate_run(&c[n++], "UTF-8", data, len);
		if (c[n - 1].errors == 0)
			return finish(&c[n - 1], c, n, used_out, errors_out);
		candidate_run(&c[n++], "CP932", data, len);
		candidate_run(&c[n++], "EUC-JP-MS", data, len);
		best = candidate_better(&c[n - 2], &c[n - 1]) ? n - 2 : n - 1;
		if (candidate_convincing(&c[best]))
			return finish(&c[best], c, n, used_out, errors_out);
		candidate_run(&c[n], declared, data, len);
		c[n].name = "declared";
		if (c[n++].errors != G_MAXUINT)
			return finish(&c[n - 1], c, n, used_out, errors_out);
	} else {
		candidate_run(&c[n++], "UTF-8", data, len);
	}
	if (c[n - 1].errors == 0)
		return finish(&c[n - 1], c, n, used_out, errors_out);

	/* 2: the label is missing, wrong or unknown: ask uchardet, then score
	 * its guess with the Japanese candidates */
	{
		g_autofree char *guess = detect_charset(data, len);
		family_t gf = charset_family(guess);
		const char *name = gf == FAM_SJIS  ? "CP932"
		                   : gf == FAM_EUC ? "EUC-JP-MS"
		                   : gf == FAM_JIS ? "ISO-2022-JP"
		                                   : NULL;
		gboolean done = FALSE;
		if (name != NULL) {
			for (gsize j = 0; j < n; j++)
				done |= strcmp(c[j].name, name) == 0;
			if (!done)
				candidate_run(&c[n++], name, data, len);
		} else if (guess != NULL && gf == FAM_OTHER && fam == FAM_NONE) {
			/* a Western or other Asian charset: only when no Japanese
			 * reading is clean */
			gboolean clean = FALSE;
			for (gsize i = 0; i < G_N_ELEMENTS(fallbacks); i++) {
				if (strcmp(fallbacks[i], "ISO-2022-JP") == 0 && !has_esc)
					continue;
				for (gsize j = 0; j < n; j++)
					done |= strcmp(c[j].name, fallbacks[i]) == 0;
				if (!done)
					candidate_run(&c[n++], fallbacks[i], data, len);
				done = FALSE;
			}
			for (gsize j = 0; j < n; j++)
				clean |= candidate_convincing(&c[j]);
			if (!clean) {
				candidate_run(&c[n], guess, data, len);
				c[n].name = "detected";
				if (c[n].errors != G_MAXUINT) {
					/* a detector's guess must decode more cleanly to win */
					n++;
				} else {
					g_free(c[n].text);
					c[n].text = NULL;
				}
			}
		}
	}
	for (gsize i = 0; i < G_N_ELEMENTS(fallbacks); i++) {
		gboolean done = FALSE;
		if (strcmp(fallbacks[i], "ISO-2022-JP") == 0 && !has_esc)
			continue;
		for (gsize j = 0; j < n; j++)
			done |= strcmp(c[j].name, fallbacks[i]) == 0;
		if (!done)
			candidate_run(&c[n++], fallbacks[i], data, len);
	}
	best = best_candidate(c, n);
	return finish(&c[best], c, n, used_out, errors_out);
}

/* ---- clean UTF-8 ------------------------------------------------------------ */

char *
parser_utf8_clean(const char *text, gssize len, gboolean keep_newlines)
{
	const char *p, *end;
	GString *out;

	if (text == NULL)
		return g_strdup("");
	if (len < 0)
		len = (gssize)strlen(text);
	out = g_string_sized_new((gsize)len + 1);
	p = text;
	end = text + len;
	while (p < end) {
		gunichar c = g_utf8_get_char_validated(p, end - p);
		if (c == (gunichar)-1 || c == (gunichar)-2) {
			g_string_append(out, REPLACEMENT);
			p++;
			continue;
		}
		p = PI_UTF8_NEXT(p);
		if (c == '\r') {
			if (p < end && *p == '\n')
				continue; /* CRLF → the LF that follows */
			c = '\n';
		}
		if (c == 0x2028 || c == 0x2029)
			c = '\n';
		if (c == '\t' || c == '\n') {
			g_string_append_c(out, keep_newlines ? (char)c : ' ');
			continue;
		}
		if (c < 0x20 || (c >= 0x7f && c <= 0x9f))
			continue;
		g_string_append_unichar(out, c);
	}
	return g_string_free(out, FALSE);
}

/* ---- header values ------------------------------------------------------------ */

typedef struct {
	const char *start, *end; /* the whole =?…?= */
	char *charset;           /* without *language */
	GByteArray *bytes;       /* decoded payload */
} encoded_word_t;

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = g_ascii_tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Parse an RFC 2047 encoded word at P; FALSE if P does not start one. */
static gboolean
encoded_word_parse(const char *p, encoded_word_t *w)
{
	const char *cs = p + 2, *q, *enc, *text, *end;

	if (p[0] != '=' || p[1] != '?')
		return FALSE;
	for (q = cs; *q && *q != '?'; q++) {
		if (g_ascii_isspace(*q))
			return FALSE;
	}
	if (*q != '?' || q == cs || q[1] == '\0' || !strchr("BbQq", q[1]) || q[2] != '?')
		return FALSE;
	enc = q + 1;
	text = q + 3;
	end = strstr(text, "?=");
	if (end == NULL)
		return FALSE;
	for (const char *t = text; t < end; t++) {
		if (g_ascii_isspace(*t))
			return FALSE;
	}
	w->start = p;
	w->end = end + 2;
	w->charset = g_strndup(cs, (gsize)(q - cs));
	if (strchr(w->charset, '*'))
		*strchr(w->charset, '*') = '\0';
	w->bytes = g_byte_array_new();
	if (*enc == 'B' || *enc == 'b') {
		gsize n = (gsize)(end - text);
		g_autofree guchar *buf = g_malloc(n * 3 / 4 + 4);
		gint state = 0;
		guint save = 0;
		gsize got = g_base64_decode_step(text, n, buf, &state, &save);
		g_byte_array_append(w->bytes, buf, (guint)got);
	} else {
		for (const char *t = text; t < end; t++) {
			guint8 b = (guint8)*t;
			if (*t == '_')
				b = ' ';
			else if (*t == '=' && end - t >= 3 && hexval(t[1]) >= 0 &&
			         hexval(t[2]) >= 0) {
				b = (guint8)(hexval(t[1]) * 16 + hexval(t[2]));
				t += 2;
			}
			g_byte_array_append(w->bytes, &b, 1);
		}
	}
	return TRUE;
}

static void
encoded_word_clear(encoded_word_t *w)
{
	g_clear_pointer(&w->charset, g_free);
	if (w->bytes)
		g_byte_array_unref(w->bytes);
	w->bytes = NULL;
}

static void
append_utf8_word(GString *out, const char *utf8)
{
	g_autofree char *b64 = g_base64_encode((const guchar *)utf8, strlen(utf8));
	g_string_append_printf(out, "=?UTF-8?B?%s?=", b64);
}

static char *
rewrite_encoded_words(const char *s)
{
	GString *out = g_string_sized_new(strlen(s) + 16);
	const char *p = s;

	while (*p) {
		encoded_word_t w = {0};
		const char *next;
		g_autofree char *utf8 = NULL;

		if (!(p[0] == '=' && p[1] == '?') || !encoded_word_parse(p, &w)) {
			g_string_append_c(out, *p++);
			continue;
		}
		/* a run of words in the same charset separated by whitespace is one
		 * text: a multibyte character may be split between two words */
		next = w.end;
		for (;;) {
			const char *q = next;
			encoded_word_t more = {0};
			while (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')
				q++;
			if (!encoded_word_parse(q, &more))
				break;
			if (g_ascii_strcasecmp(more.charset, w.charset) != 0) {
				encoded_word_clear(&more);
				break;
			}
			g_byte_array_append(w.bytes, more.bytes->data, more.bytes->len);
			next = more.end;
			encoded_word_clear(&more);
		}
		utf8 = parser_charset_decode((const char *)w.bytes->data, w.bytes->len, w.charset,
		                             NULL, NULL);
		{
			g_autofree char *line = parser_utf8_clean(utf8, -1, FALSE);
			append_utf8_word(out, line);
		}
		encoded_word_clear(&w);
		p = next;
	}
	return g_string_free(out, FALSE);
}

/* ---- RFC 2231 parameters --------------------------------------------------------- */

typedef struct {
	char *name;  /* as written, e.g. "filename*1*" */
	char *value; /* as written (quotes kept) */
	char *base;  /* "filename" for RFC 2231 forms, NULL otherwise */
	int index;   /* continuation number, 0 when none */
	gboolean extended;
} param_t;

static void
param_clear(gpointer data)
{
	param_t *p = data;
	g_free(p->name);
	g_free(p->value);
	g_free(p->base);
}

static GPtrArray *
split_params(const char *s, char **head_out)
{
	GPtrArray *parts = g_ptr_array_new_with_free_func(g_free);
	const char *start = s;
	gboolean quoted = FALSE;

	for (const char *p = s;; p++) {
		if (*p == '"' && (p == s || p[-1] != '\\'))
			quoted = !quoted;
		if (*p == '\0' || (*p == ';' && !quoted)) {
			g_ptr_array_add(parts, g_strstrip(g_strndup(start, (gsize)(p - start))));
			if (*p == '\0')
				break;
			start = p + 1;
		}
	}
	*head_out = g_strdup(parts->pdata[0]);
	g_ptr_array_remove_index(parts, 0);
	return parts;
}

static char *
unquote(const char *v)
{
	gsize n = strlen(v);
	if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
		GString *out = g_string_new(NULL);
		for (gsize i = 1; i + 1 < n; i++) {
			if (v[i] == '\\' && i + 2 < n)
				i++;
			g_string_append_c(out, v[i]);
		}
		return g_string_free(out, FALSE);
	}
	return g_strdup(v);
}

static void
percent_decode(const char *v, GByteArray *out)
{
	for (const char *p = v; *p; p++) {
		guint8 b = (guint8)*p;
		if (*p == '%' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
			b = (guint8)(hexval(p[1]) * 16 + hexval(p[2]));
			p += 2;
		}
		g_byte_array_append(out, &b, 1);
	}
}

static gint
param_cmp(gconstpointer a, gconstpointer b)
{
	const param_t *x = *(param_t *const *)a, *y = *(param_t *const *)b;
	return x->index - y->index;
}

/* One group of RFC 2231 segments (same base name) → "base*=UTF-8''…". */
static void
append_2231(GString *out, GPtrArray *segments)
{
	g_autoptr(GByteArray) bytes = g_byte_array_new();
	g_autofree char *charset = NULL;
	g_autofree char *decoded = NULL, *clean = NULL;
	const param_t *first;

	g_autoptr(GString) pending = g_string_new(NULL);

	g_ptr_array_sort(segments, param_cmp);
	first = segments->pdata[0];
	/* extended segments are joined before their %XX escapes are decoded:
	 * some mailers split a value inside an escape */
	for (guint i = 0; i < segments->len; i++) {
		const param_t *seg = segments->pdata[i];
		g_autofree char *v = unquote(seg->value);
		const char *payload = v;
		if (seg->extended && i == 0) {
			/* charset'language'value */
			char *q1 = strchr(v, '\'');
			char *q2 = q1 ? strchr(q1 + 1, '\'') : NULL;
			if (q2 != NULL) {
				charset = g_strndup(v, (gsize)(q1 - v));
				payload = q2 + 1;
			}
		}
		if (seg->extended) {
			g_string_append(pending, payload);
		} else {
			percent_decode(pending->str, bytes);
			g_string_truncate(pending, 0);
			g_byte_array_append(bytes, (const guint8 *)payload, (guint)strlen(payload));
		}
	}
	percent_decode(pending->str, bytes);
	decoded = parser_charset_decode((const char *)bytes->data, bytes->len, charset, NULL, NULL);
	clean = parser_utf8_clean(decoded, -1, FALSE);
	g_string_append_printf(out, "; %s*=UTF-8''", first->base);
	for (const guchar *p = (const guchar *)clean; *p; p++) {
		if (g_ascii_isalnum(*p) || strchr("!#$&+-.^_`|~", *p))
			g_string_append_c(out, (char)*p);
		else
			g_string_append_printf(out, "%%%02X", *p);
	}
}

static char *
rewrite_rfc2231(const char *s)
{
	g_autofree char *head = NULL;
	g_autoptr(GPtrArray) raw = split_params(s, &head);
	g_autoptr(GArray) params = g_array_new(FALSE, TRUE, sizeof(param_t));
	g_autoptr(GHashTable) groups = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	                                                     (GDestroyNotify)g_ptr_array_unref);
	g_autoptr(GPtrArray) order = g_ptr_array_new();
	GString *out;
	gboolean any = FALSE;

	g_array_set_clear_func(params, param_clear);
	for (guint i = 0; i < raw->len; i++) {
		const char *tok = raw->pdata[i];
		const char *eq = strchr(tok, '=');
		param_t p = {0};
		char *star;
		if (eq == NULL) {
			p.name = g_strdup(tok);
			g_array_append_val(params, p);
			continue;
		}
		p.name = g_strstrip(g_strndup(tok, (gsize)(eq - tok)));
		p.value = g_strstrip(g_strdup(eq + 1));
		star = strchr(p.name, '*');
		if (star != NULL && star != p.name) {
			char *rest = star + 1;
			p.base = g_ascii_strdown(p.name, (gssize)(star - p.name));
			if (g_ascii_isdigit(*rest)) {
				p.index = (int)g_ascii_strtoll(star + 1, &rest, 10);
				if (p.index < 0 || p.index > 999)
					p.index = 999;
				p.extended = *rest == '*';
			} else {
				p.extended = TRUE;
			}
			any = TRUE;
		}
		g_array_append_val(params, p);
	}
	if (!any)
		return g_strdup(s);

	out = g_string_new(head);
	for (guint i = 0; i < params->len; i++) {
		param_t *p = &g_array_index(params, param_t, i);
		GPtrArray *group;
		if (p->base == NULL) {
			if (p->value != NULL)
				g_string_append_printf(out, "; %s=%s", p->name, p->value);
			else if (*p->name)
				g_string_append_printf(out, "; %s", p->name);
			continue;
		}
		group = g_hash_table_lookup(groups, p->base);
		if (group == NULL) {
			group = g_ptr_array_new();
			g_hash_table_insert(groups, g_strdup(p->base), group);
			g_ptr_array_add(order, group);
		}
		g_ptr_array_add(group, p);
	}
	for (guint i = 0; i < order->len; i++)
		append_2231(out, order->pdata[i]);
	return g_string_free(out, FALSE);
}

char *
parser_header_normalize(const char *raw, gboolean params)
{
	g_autofree char *unfolded = NULL;
	g_autofree char *utf8 = NULL;
	g_autofree char *words = NULL;
	GString *u;

	if (raw == NULL)
		return NULL;
	u = g_string_sized_new(strlen(raw));
	for (const char *p = raw; *p; p++) {
		if (*p != '\r' && *p != '\n')
			g_string_append_c(u, *p);
	}
	unfolded = g_strstrip(g_string_free(u, FALSE));

	if (!g_utf8_validate(unfolded, -1, NULL) || strchr(unfolded, 0x1b) != NULL)
		utf8 = parser_charset_decode(unfolded, strlen(unfolded), NULL, NULL, NULL);
	else
		utf8 = g_strdup(unfolded);
	words = strstr(utf8, "=?") ? rewrite_encoded_words(utf8) : g_strdup(utf8);
	if (params && strchr(words, '*') != NULL)
		return rewrite_rfc2231(words);
	return g_steal_pointer(&words);
}
