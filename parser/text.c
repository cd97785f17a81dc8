/* text.c — what the sender wrote: quote stripping, format=flowed, and the
 * folded form the request rules are matched against. */
#include "parser/parser-internal.h"

#include <string.h>

static gboolean
starts_with_ci(const char *s, const char *prefix)
{
	return g_ascii_strncasecmp(s, prefix, strlen(prefix)) == 0;
}

static gboolean
ends_with(const char *s, const char *suffix)
{
	gsize n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static gboolean
is_attribution_end(const char *line)
{
	return ends_with(line, "wrote:") || ends_with(line, "書きました:") ||
	       ends_with(line, "書きました：") || ends_with(line, "書きました。") ||
	       ends_with(line, "schrieb:") || ends_with(line, "a écrit :");
}

/* Does LINE (trimmed) start the quoted part of a reply?  NEXT is the line
 * after it (trimmed, "" at the end). */
static gboolean
is_quote_header(const char *line, const char *next)
{
	g_autofree char *lower = g_ascii_strdown(line, -1);

	if (g_str_has_prefix(line, "--") &&
	    (strstr(lower, "original message") != NULL || strstr(line, "元のメッセージ") != NULL ||
	     strstr(line, "オリジナルメッセージ") != NULL))
		return TRUE;
	if (is_attribution_end(line))
		return TRUE;
	/* Gmail wraps a long "On … wrote:" over two lines */
	if (starts_with_ci(line, "On ") && is_attribution_end(next))
		return TRUE;
	/* Gmail (ja): "2026年11月20日(金) 10:00 Name <addr>:" */
	if (g_ascii_isdigit(line[0]) && strchr(line, '@') != NULL &&
	    (ends_with(line, ">:") || ends_with(line, ">：")))
		return TRUE;
	/* Outlook: a rule of underscores, then "From:" */
	if (g_str_has_prefix(line, "__________") &&
	    (starts_with_ci(next, "From:") || g_str_has_prefix(next, "差出人:") ||
	     g_str_has_prefix(next, "差出人：")))
		return TRUE;
	/* Outlook without the rule: "From: …" then "Sent: …" */
	if ((starts_with_ci(line, "From:") &&
	     (starts_with_ci(next, "Sent:") || starts_with_ci(next, "Date:"))) ||
	    ((g_str_has_prefix(line, "差出人:") || g_str_has_prefix(line, "差出人：")) &&
	     g_str_has_prefix(next, "送信")))
		return TRUE;
	return FALSE;
}

char *
parser_text_new_part(const char *text)
{
	g_auto(GStrv) lines = NULL;
	GString *out;

	if (text == NULL)
		return g_strdup("");
	lines = g_strsplit(text, "\n", -1);
	out = g_string_sized_new(strlen(text));
	for (gsize i = 0; lines[i] != NULL; i++) {
		g_autofree char *line = g_strstrip(g_strdup(lines[i]));
		g_autofree char *next = g_strstrip(g_strdup(lines[i + 1] ? lines[i + 1] : ""));
		if (lines[i + 1] == NULL && lines[i][0] == '\0')
			break; /* the text ended with a newline */
		if (is_quote_header(line, next))
			break;
		if (line[0] == '>' || g_str_has_prefix(line, "＞") || g_str_has_prefix(line, "|>"))
			continue;
		g_string_append(out, lines[i]);
		g_string_append_c(out, '\n');
	}
	return g_string_free(out, FALSE);
}

char *
parser_text_unflow(const char *text, gboolean delsp)
{
	g_auto(GStrv) lines = NULL;
	GString *out;

	if (text == NULL)
		return g_strdup("");
	lines = g_strsplit(text, "\n", -1);
	out = g_string_sized_new(strlen(text));
	for (gsize i = 0; lines[i] != NULL; i++) {
		const char *line = lines[i];
		gsize n;
		if (strcmp(line, "-- ") == 0) { /* the signature separator is a hard break */
			g_string_append(out, line);
			if (lines[i + 1] != NULL)
				g_string_append_c(out, '\n');
			continue;
		}
		if (line[0] == ' ')
			line++; /* space-stuffing */
		n = strlen(line);
		if (n > 0 && line[n - 1] == ' ' && lines[i + 1] != NULL) {
			g_string_append_len(out, line, (gssize)(delsp ? n - 1 : n));
			continue; /* soft break */
		}
		g_string_append(out, line);
		if (lines[i + 1] != NULL)
			g_string_append_c(out, '\n');
	}
	return g_string_free(out, FALSE);
}

/* Japanese (and other CJK) text, where a line break is only wrapping. */
static gboolean
is_wide(gunichar c)
{
	GUnicodeScript s = g_unichar_get_script(c);
	return s == G_UNICODE_SCRIPT_HAN || s == G_UNICODE_SCRIPT_HIRAGANA ||
	       s == G_UNICODE_SCRIPT_KATAKANA || (c >= 0x3000 && c <= 0x303f) ||
	       (c >= 0xff01 && c <= 0xff60) || c == 0x30fc;
}

char *
parser_text_fold(const char *text)
{
	g_autofree char *nfkc = NULL;
	g_autofree char *folded = NULL;
	GString *out;
	gunichar prev = 0;

	if (text == NULL || !g_utf8_validate(text, -1, NULL))
		return g_strdup("");
	nfkc = g_utf8_normalize(text, -1, G_NORMALIZE_NFKC);
	folded = g_utf8_casefold(nfkc ? nfkc : "", -1);
	out = g_string_sized_new(strlen(folded));
	for (const char *p = folded; *p;) {
		gunichar c = g_utf8_get_char(p);
		if (g_unichar_isspace(c)) {
			gboolean newline = FALSE;
			gunichar next;
			while (*p && g_unichar_isspace(g_utf8_get_char(p))) {
				newline |= *p == '\n';
				p = PI_UTF8_NEXT(p);
			}
			next = *p ? g_utf8_get_char(p) : 0;
			if (out->len == 0 || next == 0)
				continue;
			if (newline && is_wide(prev) && is_wide(next)) {
				/* a wrapped Japanese line, unless the line ended a
				 * sentence (です/ます without "。" is common) */
				if (prev == 0x3002 || prev == 0x3059 || prev == 0x305f) {
					g_string_append_c(out, '\n');
					prev = '\n';
				}
				continue;
			}
			g_string_append_c(out, ' ');
			prev = ' ';
			continue;
		}
		g_string_append_unichar(out, c);
		prev = c;
		p = PI_UTF8_NEXT(p);
	}
	return g_string_free(out, FALSE);
}
