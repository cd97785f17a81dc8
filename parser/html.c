/* html.c — the text of an HTML-only mail.  Not a browser: enough to read
 * what the sender wrote (tags out, script/style/head out, entities decoded,
 * block elements as line breaks) so the request can be classified and shown
 * to staff.
 */
#include "parser/parser-internal.h"

#include <string.h>

static const struct {
	const char *name;
	gunichar c;
} entities[] = {
    {"amp", '&'},       {"lt", '<'},       {"gt", '>'},        {"quot", '"'},     {"apos", '\''},
    {"nbsp", 0xa0},     {"copy", 0xa9},    {"reg", 0xae},      {"yen", 0xa5},     {"middot", 0xb7},
    {"times", 0xd7},    {"divide", 0xf7},  {"hellip", 0x2026}, {"mdash", 0x2014}, {"ndash", 0x2013},
    {"lsquo", 0x2018},  {"rsquo", 0x2019}, {"ldquo", 0x201c},  {"rdquo", 0x201d}, {"bull", 0x2022},
    {"trade", 0x2122},  {"euro", 0x20ac},  {"laquo", 0xab},    {"raquo", 0xbb},   {"deg", 0xb0},
    {"para", 0xb6},     {"sect", 0xa7},    {"shy", 0xad},      {"ensp", 0x2002},  {"emsp", 0x2003},
    {"thinsp", 0x2009}, {"zwnj", 0x200c},  {"zwj", 0x200d},
};

/* Decode the entity at P ('&'); returns the characters consumed, 0 if none. */
static gsize
decode_entity(const char *p, GString *out)
{
	const char *q = p + 1;
	gunichar c = 0;

	if (*q == '#') {
		gboolean hex = q[1] == 'x' || q[1] == 'X';
		const char *digits = q + (hex ? 2 : 1);
		char *end = NULL;
		guint64 v = g_ascii_strtoull(digits, &end, hex ? 16 : 10);
		if (end == digits || end - digits > 8)
			return 0;
		if (*end == ';')
			end++;
		c = (v == 0 || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) ? 0xfffd : (gunichar)v;
		g_string_append_unichar(out, c);
		return (gsize)(end - p);
	}
	for (gsize i = 0; i < G_N_ELEMENTS(entities); i++) {
		gsize n = strlen(entities[i].name);
		if (strncmp(q, entities[i].name, n) == 0 && q[n] == ';') {
			g_string_append_unichar(out, entities[i].c == 0xa0 ? ' ' : entities[i].c);
			return n + 2;
		}
	}
	return 0;
}

/* The lowercased tag name at P (just after '<' or '</'). */
static char *
tag_name(const char *p)
{
	const char *q = p;
	while (g_ascii_isalnum(*q) || *q == '-' || *q == ':')
		q++;
	return g_ascii_strdown(p, q - p);
}

static gboolean
is_block(const char *name)
{
	static const char *const blocks[] = {
	    "br", "p",       "div",        "li",      "tr",     "h1",     "h2",    "h3", "h4",
	    "h5", "h6",      "blockquote", "table",   "ul",     "ol",     "pre",   "hr", "dt",
	    "dd", "address", "section",    "article", "header", "footer", "title", NULL};
	return g_strv_contains(blocks, name);
}

/* Skip to the end of the element NAME (for script/style/head): returns the
 * position after "</NAME>" or the end of the text. */
static const char *
skip_element(const char *p, const char *name)
{
	gsize n = strlen(name);
	for (const char *q = p; *q; q++) {
		if (q[0] == '<' && q[1] == '/' && g_ascii_strncasecmp(q + 2, name, n) == 0 &&
		    !g_ascii_isalnum(q[2 + n])) {
			const char *gt = strchr(q, '>');
			return gt ? gt + 1 : q + strlen(q);
		}
	}
	return p + strlen(p);
}

char *
parser_html_to_text(const char *html)
{
	GString *out;
	const char *p;
	gboolean space = FALSE;

	if (html == NULL)
		return g_strdup("");
	out = g_string_sized_new(strlen(html) / 2 + 1);
	p = html;
	while (*p) {
		if (p[0] == '<' && p[1] == '!' && p[2] == '-' && p[3] == '-') {
			const char *end = strstr(p + 4, "-->");
			p = end ? end + 3 : p + strlen(p);
			continue;
		}
		if (p[0] == '<' &&
		    (g_ascii_isalpha(p[1]) || p[1] == '/' || p[1] == '!' || p[1] == '?')) {
			gboolean closing = p[1] == '/';
			g_autofree char *name = tag_name(p + (closing ? 2 : 1));
			const char *q = p + 1;
			char quote = 0;
			/* find the tag's end, minding quoted attribute values */
			for (; *q; q++) {
				if (quote) {
					if (*q == quote)
						quote = 0;
				} else if (*q == '"' || *q == '\'') {
					quote = *q;
				} else if (*q == '>') {
					break;
				}
			}
			p = *q ? q + 1 : q;
			if (!closing &&
			    (strcmp(name, "script") == 0 || strcmp(name, "style") == 0 ||
			     strcmp(name, "head") == 0 || strcmp(name, "title") == 0)) {
				p = skip_element(p, name);
				continue;
			}
			if (is_block(name)) {
				while (out->len > 0 && out->str[out->len - 1] == ' ')
					g_string_truncate(out, out->len - 1);
				g_string_append_c(out, '\n');
				space = FALSE;
			} else if (strcmp(name, "td") == 0 || strcmp(name, "th") == 0) {
				if (!closing)
					g_string_append_c(out, ' ');
			}
			continue;
		}
		if (*p == '&') {
			gsize n = decode_entity(p, out);
			if (n > 0) {
				p += n;
				space = FALSE;
				continue;
			}
		}
		if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
			/* HTML collapses whitespace */
			if (!space && out->len > 0 && out->str[out->len - 1] != '\n')
				g_string_append_c(out, ' ');
			space = TRUE;
			p++;
			continue;
		}
		space = FALSE;
		g_string_append_c(out, *p++);
	}
	/* at most one blank line in a row, no blank lines at the ends */
	{
		g_auto(GStrv) lines = g_strsplit(out->str, "\n", -1);
		GString *text = g_string_sized_new(out->len);
		int blank = 1;
		for (char **l = lines; *l; l++) {
			g_strstrip(*l);
			if (**l == '\0') {
				if (!blank)
					g_string_append_c(text, '\n');
				blank++;
				continue;
			}
			blank = 0;
			g_string_append(text, *l);
			g_string_append_c(text, '\n');
		}
		while (text->len > 1 && text->str[text->len - 1] == '\n' &&
		       text->str[text->len - 2] == '\n')
			g_string_truncate(text, text->len - 1);
		g_string_free(out, TRUE);
		return g_string_free(text, FALSE);
	}
}

char *
parser_html_meta_charset(const char *data, gsize len)
{
	gsize n = MIN(len, 4096);
	g_autofree char *head = NULL;
	const char *p;

	if (data == NULL || len == 0)
		return NULL;
	head = g_ascii_strdown(data, (gssize)n);
	p = head;

	/* g_ascii_strdown stops at NUL: fine, a NUL ends the search too */
	while ((p = strstr(p, "charset")) != NULL) {
		const char *q = p + 7;
		const char *start;
		while (*q == ' ')
			q++;
		if (*q != '=') {
			p = q;
			continue;
		}
		q++;
		while (*q == ' ' || *q == '"' || *q == '\'')
			q++;
		start = q;
		while (g_ascii_isalnum(*q) || *q == '-' || *q == '_' || *q == '.' || *q == ':')
			q++;
		if (q > start)
			return g_strndup(start, (gsize)(q - start));
		p = q;
	}
	return NULL;
}
