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

/* ---- signatures ---------------------------------------------------------- */

/* A rule line that starts a signature block: "-- " (RFC 3676), or ten or
 * more of one rule character ("━━━━", "--------", "＝＝＝＝", "********"). */
static gboolean
is_rule_line(const char *line)
{
	gunichar first = 0;
	glong n = 0;

	if (strcmp(line, "--") == 0 || strcmp(line, "-- ") == 0)
		return TRUE;
	for (const char *p = line; *p; p = PI_UTF8_NEXT(p)) {
		gunichar c = g_utf8_get_char(p);
		if (c == ' ' || c == 0x3000)
			continue;
		if (!strchr("-=_*~#+", (int)(c < 0x80 ? c : 'x')) &&
		    !(c >= 0x2500 && c <= 0x257f) && c != 0xff1d && c != 0x3013 && c != 0xff0d &&
		    c != 0x2015 && c != 0x30fc && c != 0xff5e)
			return FALSE;
		if (first == 0)
			first = c;
		else if (c != first)
			return FALSE;
		n++;
	}
	return n >= 10;
}

/* What signature blocks hold: contact lines. */
static gboolean
is_contact_line(const char *line)
{
	static const char *const cues[] = {"tel",  "fax",      "mail", "http", "〒",     "電話",
	                                   "携帯", "株式会社", "(株)", "㈱",   "mobile", "phone",
	                                   "www.", "@",        "住所", "部",   NULL};
	g_autofree char *lower = g_utf8_strdown(line, -1);

	for (const char *const *c = cues; *c; c++) {
		if (strstr(lower, *c) != NULL)
			return TRUE;
	}
	return FALSE;
}

/* Index of the line that starts the signature, or N when none: "-- "
 * anywhere, or a rule line in the last 15 lines followed by contact
 * lines. */
static gsize
signature_start(char **lines, gsize n)
{
	for (gsize i = 0; i < n; i++) {
		if (strcmp(lines[i], "-- ") == 0 || strcmp(lines[i], "--") == 0)
			return i;
	}
	for (gsize i = n > 15 ? n - 15 : 0; i < n; i++) {
		g_autofree char *line = g_strstrip(g_strdup(lines[i]));
		gsize contacts = 0;
		if (!is_rule_line(line))
			continue;
		for (gsize j = i + 1; j < n && j < i + 12; j++)
			contacts += is_contact_line(lines[j]);
		if (contacts > 0)
			return i;
	}
	return n;
}

/* ---- the new text ---------------------------------------------------------- */

char *
parser_text_new_part(const char *text)
{
	g_auto(GStrv) lines = NULL;
	GString *out;
	gsize n = 0, sig;

	if (text == NULL)
		return g_strdup("");
	lines = g_strsplit(text, "\n", -1);
	out = g_string_sized_new(strlen(text));
	for (gsize i = 0; lines[i] != NULL; i++) {
		g_autofree char *line = g_strstrip(g_strdup(lines[i]));
		g_autofree char *next = g_strstrip(g_strdup(lines[i + 1] ? lines[i + 1] : ""));
		if (lines[i + 1] == NULL && lines[i][0] == '\0')
			break; /* the text ended with a newline */
		if (is_quote_header(line, next) || parser_text_is_forward_header(line))
			break;
		n = i + 1;
	}
	sig = signature_start(lines, n);
	for (gsize i = 0; i < sig; i++) {
		const char *line = lines[i];
		while (*line == ' ' || *line == '\t')
			line++;
		if (line[0] == '>' || g_str_has_prefix(line, "＞") || g_str_has_prefix(line, "|>"))
			continue;
		g_string_append(out, lines[i]);
		g_string_append_c(out, '\n');
	}
	return g_string_free(out, FALSE);
}

/* ---- inline forwards ------------------------------------------------------- */

gboolean
parser_text_is_forward_header(const char *line)
{
	static const char *const markers[] = {"forwarded message",
	                                      "forwarded message:",
	                                      "begin forwarded message:",
	                                      "転送メッセージ",
	                                      "転送されたメッセージ",
	                                      "転送メール",
	                                      NULL};
	g_autofree char *lower = NULL;
	gsize n = strlen(line);

	if (n == 0 || n > 200)
		return FALSE;
	lower = g_ascii_strdown(line, -1);
	if (strcmp(lower, "begin forwarded message:") == 0)
		return TRUE;
	if (!g_str_has_prefix(line, "--") && !g_str_has_prefix(line, "－－") &&
	    !g_str_has_prefix(line, "=="))
		return FALSE;
	for (const char *const *m = markers; *m; m++) {
		if (strstr(lower, *m) != NULL)
			return TRUE;
	}
	return FALSE;
}

/* "From: x" / "差出人: x" / "From： x": the value when LINE starts with one
 * of NAMES, else NULL (borrowed, inside LINE). */
static const char *
field_value(const char *line, const char *const *names)
{
	for (const char *const *nm = names; *nm; nm++) {
		gsize n = strlen(*nm);
		const char *v;
		if (g_ascii_strncasecmp(line, *nm, n) != 0)
			continue;
		v = line + n;
		while (*v == ' ' || *v == '\t')
			v++;
		if (*v == ':')
			v++;
		else if (g_str_has_prefix(v, "："))
			v += strlen("：");
		else
			continue;
		while (*v == ' ' || *v == '\t')
			v++;
		return v;
	}
	return NULL;
}

/* Outlook forwards inline under its reply header: "-----Original
 * Message-----", "-----元のメッセージ-----" or a rule of underscores. */
static gboolean
is_outlook_header(const char *line)
{
	g_autofree char *lower = g_ascii_strdown(line, -1);

	if (g_str_has_prefix(line, "__________"))
		return TRUE;
	return g_str_has_prefix(line, "--") && (strstr(lower, "original message") != NULL ||
	                                        strstr(line, "元のメッセージ") != NULL);
}

gboolean
parser_text_inline_forward(const char *text, gboolean outlook, char **from_out, char **subject_out,
                           char **body_out)
{
	static const char *const from_names[] = {"From", "差出人", "送信者", "送信元", NULL};
	static const char *const subject_names[] = {"Subject", "件名", NULL};
	static const char *const other_names[] = {"Date", "Sent",     "To",   "Cc",       "日付",
	                                          "日時", "送信日時", "宛先", "Reply-To", NULL};
	g_auto(GStrv) lines = NULL;
	gsize i, body = 0;
	g_autofree char *from = NULL, *subject = NULL;

	*from_out = *subject_out = *body_out = NULL;
	if (text == NULL)
		return FALSE;
	lines = g_strsplit(text, "\n", -1);
	for (i = 0; lines[i] != NULL; i++) {
		g_autofree char *line = g_strstrip(g_strdup(lines[i]));
		if (parser_text_is_forward_header(line) || (outlook && is_outlook_header(line)))
			break;
	}
	if (lines[i] == NULL)
		return FALSE;
	/* the header block: From/Subject/Date/To lines up to a blank line */
	for (i++; lines[i] != NULL; i++) {
		g_autofree char *line = g_strstrip(g_strdup(lines[i]));
		const char *v;
		if (*line == '\0') {
			if (from != NULL || subject != NULL) {
				body = i + 1;
				break;
			}
			continue;
		}
		if ((v = field_value(line, from_names)) != NULL) {
			g_free(from);
			from = g_strdup(v);
		} else if ((v = field_value(line, subject_names)) != NULL) {
			g_free(subject);
			subject = g_strdup(v);
		} else if (field_value(line, other_names) == NULL) {
			body = i;
			break;
		}
	}
	if (from == NULL)
		return FALSE;
	{
		GString *out = g_string_new(NULL);
		for (i = body; body > 0 && lines[i] != NULL; i++) {
			g_string_append(out, lines[i]);
			if (lines[i + 1] != NULL)
				g_string_append_c(out, '\n');
		}
		*body_out = g_string_free(out, FALSE);
	}
	*from_out = g_steal_pointer(&from);
	*subject_out = g_steal_pointer(&subject);
	return TRUE;
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
