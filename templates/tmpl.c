/* tmpl.c — the Mustache engine: a parser that turns template text into a
 * tree of nodes once, and a renderer that walks the tree against a JsonNode
 * context stack as often as needed.
 *
 * Choices the spec leaves open, made here:
 *  - Truthiness is the spec's `!!data`: false, null, a missing name, 0, 0.0,
 *    "" and [] are false; everything else (also {} and "0") is true.
 *  - Numbers: integers print in decimal, decimals as JavaScript prints them:
 *    the shortest form that reads back as the same double (1.210 → "1.21",
 *    1.0 → "1", 1e3 → "1000").  Booleans print as true/false; objects and
 *    arrays as compact JSON.
 *  - Standalone indentation of a partial is added to every line of the
 *    partial's template text (also empty lines), never inside inserted
 *    values, exactly as if the partial's text had been indented.
 *  - Tag names are checked when parsing: no inner whitespace, and a dotted
 *    name has no empty part.
 *  - A missing variable is reported once per tag and render, however often
 *    a list repeats it.  One missing inside a partial is reported at the
 *    position of the partial tag in the template being rendered
 *    (tmpl_name_t has no file name to say which partial).
 *  - A tmpl_t is never changed by rendering: one parsed template may be
 *    rendered from several threads at once.
 */
#include "templates/tmpl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

GQuark
tmpl_error_quark(void)
{
	return g_quark_from_static_string("tmpl-error-quark");
}

/* Sections and partials nested deeper than this are an error (parse time for
 * sections, render time for both), so the recursion never exhausts the stack. */
#define MAX_DEPTH 100

typedef enum {
	NODE_TEXT,    /* literal text */
	NODE_LINE,    /* a line of the source starts here, directly with a tag */
	NODE_VAR,     /* {{x}} {{{x}}} {{&x}} */
	NODE_SECTION, /* {{#x}}…{{/x}} {{^x}}…{{/x}} */
	NODE_PARTIAL, /* {{>x}} */
} node_kind_t;

typedef struct {
	node_kind_t kind;
	guint line, column;  /* of the opening delimiter */
	gsize start, len;    /* NODE_TEXT: bytes of tmpl->text */
	gboolean line_start; /* NODE_TEXT: begins a source line */
	char *name;          /* VAR, SECTION, PARTIAL */
	char **parts;        /* VAR, SECTION: the dotted name split; NULL for "." */
	gboolean escape;     /* VAR: {{x}} rather than {{{x}}} or {{&x}} */
	gboolean inverted;   /* SECTION */
	GPtrArray *children; /* SECTION: node_t* */
	char *indent;        /* PARTIAL: standalone indentation; NULL when inline */
} node_t;

struct tmpl {
	char *name;
	char *text; /* a copy of the source; text nodes point into it */
	gsize len;
	GPtrArray *nodes; /* node_t* */
};

static void
node_free(gpointer data)
{
	node_t *n = data;

	g_free(n->name);
	g_strfreev(n->parts);
	g_clear_pointer(&n->children, g_ptr_array_unref);
	g_free(n->indent);
	g_free(n);
}

void
tmpl_free(tmpl_t *tmpl)
{
	if (tmpl == NULL)
		return;
	g_free(tmpl->name);
	g_free(tmpl->text);
	g_clear_pointer(&tmpl->nodes, g_ptr_array_unref);
	g_free(tmpl);
}

void
tmpl_name_free(gpointer name)
{
	tmpl_name_t *n = name;

	if (n == NULL)
		return;
	g_free(n->name);
	g_free(n->partial);
	g_free(n);
}

static tmpl_name_t *
name_new(const char *name, guint line, guint column, gboolean is_section)
{
	tmpl_name_t *n = g_new0(tmpl_name_t, 1);

	n->name = g_strdup(name);
	n->line = line;
	n->column = column;
	n->is_section = is_section;
	return n;
}

/* ---- parsing ------------------------------------------------------------ */

typedef struct {
	tmpl_t *tmpl;
	const char *src;
	gsize len;
	/* Position cache: line and column of byte offset at, moved forward only. */
	gsize at;
	guint line, column;
	guint first_line, first_column; /* where the text starts in its file */
	char *otag, *ctag;
	char *ctag_brace, *ctag_equals; /* "}" and "=" before ctag: {{{x}}} and {{=a b=}} */
	GPtrArray *open;                /* node_t*: sections not yet closed, innermost last */
	GPtrArray *nodes;               /* where new nodes go: the innermost section, or the top */
} parser_t;

static gboolean
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static gboolean
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Line and 1-based character column of byte OFFSET. */
static void
parser_locate(parser_t *p, gsize offset, guint *line_out, guint *column_out)
{
	if (offset < p->at) {
		p->at = 0;
		p->line = p->first_line;
		p->column = p->first_column;
	}
	for (; p->at < offset; p->at++) {
		guchar c = (guchar)p->src[p->at];

		if (c == '\n') {
			p->line++;
			p->column = 1;
		} else if ((c & 0xC0) != 0x80) {
			p->column++;
		}
	}
	*line_out = p->line;
	*column_out = p->column;
}

static gboolean parse_error(parser_t *p, gsize offset, GError **error, const char *format, ...)
    G_GNUC_PRINTF(4, 5);

static gboolean
parse_error(parser_t *p, gsize offset, GError **error, const char *format, ...)
{
	g_autofree char *message = NULL;
	guint line, column;
	va_list ap;

	va_start(ap, format);
	message = g_strdup_vprintf(format, ap);
	va_end(ap);
	parser_locate(p, offset, &line, &column);
	g_set_error(error, TMPL_ERROR, PI_ERROR_MESSAGE, "%s:%u:%u: %s", p->tmpl->name, line,
	            column, message);
	return FALSE;
}

static const char *
find(const char *haystack, gsize len, const char *needle)
{
	return memmem(haystack, len, needle, strlen(needle));
}

static node_t *
parser_add(parser_t *p, node_kind_t kind, gsize tag_start)
{
	node_t *n = g_new0(node_t, 1);

	n->kind = kind;
	parser_locate(p, tag_start, &n->line, &n->column);
	g_ptr_array_add(p->nodes, n);
	return n;
}

static gboolean
at_line_start(const parser_t *p, gsize offset)
{
	return offset == 0 || p->src[offset - 1] == '\n';
}

static void
parser_add_text(parser_t *p, gsize start, gsize end)
{
	node_t *n;

	if (end <= start)
		return;
	n = parser_add(p, NODE_TEXT, start);
	n->start = start;
	n->len = end - start;
	n->line_start = at_line_start(p, start);
}

/* A tag is standalone when only blanks share its line.  Then the blanks
 * before it (its indentation, from *LINE_OUT) and the blanks and line break
 * after it (up to *RESUME_OUT) are not output. */
static gboolean
standalone(const parser_t *p, gsize text_start, gsize tag_start, gsize tag_end, gsize *line_out,
           gsize *resume_out)
{
	gsize b = tag_start, e = tag_end;

	while (b > text_start && is_blank(p->src[b - 1]))
		b--;
	if (!at_line_start(p, b))
		return FALSE;
	while (e < p->len && is_blank(p->src[e]))
		e++;
	if (e < p->len && p->src[e] == '\n')
		e++;
	else if (e + 1 < p->len && p->src[e] == '\r' && p->src[e + 1] == '\n')
		e += 2;
	else if (e < p->len)
		return FALSE;
	*line_out = b;
	*resume_out = e;
	return TRUE;
}

/* The name inside a tag, trimmed and checked; NULL (and an error) if bad. */
static char *
parse_name(parser_t *p, gsize tag_start, gsize b, gsize e, gboolean dotted, GError **error)
{
	g_autofree char *name = NULL;

	while (b < e && is_space(p->src[b]))
		b++;
	while (e > b && is_space(p->src[e - 1]))
		e--;
	if (b == e) {
		parse_error(p, tag_start, error, "empty tag name");
		return NULL;
	}
	name = g_strndup(p->src + b, e - b);
	for (gsize i = b; i < e; i++) {
		if (is_space(p->src[i])) {
			parse_error(p, tag_start, error,
			            "invalid tag name \"%s\" (contains whitespace)", name);
			return NULL;
		}
	}
	if (dotted && strcmp(name, ".") != 0 &&
	    (name[0] == '.' || name[e - b - 1] == '.' || strstr(name, "..") != NULL)) {
		parse_error(p, tag_start, error,
		            "invalid tag name \"%s\" (empty part in dotted name)", name);
		return NULL;
	}
	return g_steal_pointer(&name);
}

static char **
split_name(const char *name)
{
	return strcmp(name, ".") == 0 ? NULL : g_strsplit(name, ".", -1);
}

static void
set_delimiters(parser_t *p, const char *otag, gsize olen, const char *ctag, gsize clen)
{
	g_free(p->otag);
	g_free(p->ctag);
	g_free(p->ctag_brace);
	g_free(p->ctag_equals);
	p->otag = g_strndup(otag, olen);
	p->ctag = g_strndup(ctag, clen);
	p->ctag_brace = g_strconcat("}", p->ctag, NULL);
	p->ctag_equals = g_strconcat("=", p->ctag, NULL);
}

/* {{=<open> <close>=}}: two delimiters separated by whitespace. */
static gboolean
parse_delimiters(parser_t *p, gsize tag_start, gsize b, gsize e, GError **error)
{
	gsize o1, o2, c1, c2;

	for (o1 = b; o1 < e && is_space(p->src[o1]); o1++)
		;
	for (o2 = o1; o2 < e && !is_space(p->src[o2]); o2++)
		;
	for (c1 = o2; c1 < e && is_space(p->src[c1]); c1++)
		;
	for (c2 = c1; c2 < e && !is_space(p->src[c2]); c2++)
		;
	for (b = c2; b < e && is_space(p->src[b]); b++)
		;
	if (o1 == o2 || c1 == c2 || o2 == c1 || b != e)
		return parse_error(p, tag_start, error,
		                   "bad set-delimiter tag: expected two delimiters separated by "
		                   "whitespace, as in %s=<%% %%>=%s",
		                   p->otag, p->ctag);
	set_delimiters(p, p->src + o1, o2 - o1, p->src + c1, c2 - c1);
	return TRUE;
}

static gboolean
open_section(parser_t *p, gsize tag_start, char *name, gboolean inverted, GError **error)
{
	node_t *n;

	if (p->open->len >= MAX_DEPTH) {
		g_free(name);
		return parse_error(p, tag_start, error, "sections nested deeper than %d levels",
		                   MAX_DEPTH);
	}
	n = parser_add(p, NODE_SECTION, tag_start);
	n->name = name;
	n->parts = split_name(name);
	n->inverted = inverted;
	n->children = g_ptr_array_new_with_free_func(node_free);
	g_ptr_array_add(p->open, n);
	p->nodes = n->children;
	return TRUE;
}

static gboolean
close_section(parser_t *p, gsize tag_start, const char *name, GError **error)
{
	node_t *n;

	if (p->open->len == 0)
		return parse_error(p, tag_start, error, "closing tag \"%s\" without an opening tag",
		                   name);
	n = g_ptr_array_index(p->open, p->open->len - 1);
	if (strcmp(n->name, name) != 0)
		return parse_error(p, tag_start, error,
		                   "closing tag \"%s\" does not match \"%s\" opened at %u:%u", name,
		                   n->name, n->line, n->column);
	g_ptr_array_set_size(p->open, p->open->len - 1);
	p->nodes = p->open->len > 0
	               ? ((node_t *)g_ptr_array_index(p->open, p->open->len - 1))->children
	               : p->tmpl->nodes;
	return TRUE;
}

/* One tag from its opening delimiter at TAG_START; *TEXT_START (where
 * pending text begins) and *POS_OUT (where the next search starts) move past
 * it, and past the line break of a standalone tag. */
static gboolean
parse_tag(parser_t *p, gsize tag_start, gsize *text_start, gsize *pos_out, GError **error)
{
	gsize inner = tag_start + strlen(p->otag);
	char sigil = inner < p->len ? p->src[inner] : '\0';
	const char *closer;
	const char *end;
	gsize b, e, tag_end, line = 0, resume;
	gboolean alone = FALSE;
	char *name;
	node_t *n;

	if (strchr("{=#^/>&!", sigil) == NULL || sigil == '\0')
		sigil = '\0';
	b = sigil ? inner + 1 : inner;
	closer = sigil == '{' ? p->ctag_brace : sigil == '=' ? p->ctag_equals : p->ctag;
	end = find(p->src + b, p->len - b, closer);
	if (end == NULL) {
		if (sigil == '=' && find(p->src + b, p->len - b, p->ctag) != NULL)
			return parse_error(p, tag_start, error,
			                   "bad set-delimiter tag: no \"%s\" at its end", closer);
		return parse_error(p, tag_start, error, "unclosed tag: no \"%s\" after \"%s\"",
		                   closer, p->otag);
	}
	e = end - p->src;
	tag_end = resume = e + strlen(closer);

	if (sigil != '\0' && strchr("#^/>!=", sigil) != NULL)
		alone = standalone(p, *text_start, tag_start, tag_end, &line, &resume);
	parser_add_text(p, *text_start, alone ? line : tag_start);
	if (!alone && at_line_start(p, tag_start))
		parser_add(p, NODE_LINE, tag_start);
	*text_start = *pos_out = resume;

	switch (sigil) {
	case '!':
		return TRUE;
	case '=':
		return parse_delimiters(p, tag_start, b, e, error);
	case '#':
	case '^':
		if ((name = parse_name(p, tag_start, b, e, TRUE, error)) == NULL)
			return FALSE;
		return open_section(p, tag_start, name, sigil == '^', error);
	case '/': {
		g_autofree char *closing = parse_name(p, tag_start, b, e, TRUE, error);

		return closing != NULL && close_section(p, tag_start, closing, error);
	}
	case '>':
		if ((name = parse_name(p, tag_start, b, e, FALSE, error)) == NULL)
			return FALSE;
		n = parser_add(p, NODE_PARTIAL, tag_start);
		n->name = name;
		if (alone)
			n->indent = g_strndup(p->src + line, tag_start - line);
		return TRUE;
	default:
		if ((name = parse_name(p, tag_start, b, e, TRUE, error)) == NULL)
			return FALSE;
		n = parser_add(p, NODE_VAR, tag_start);
		n->name = name;
		n->parts = split_name(name);
		n->escape = sigil == '\0';
		return TRUE;
	}
}

static gboolean
parse(parser_t *p, GError **error)
{
	gsize pos = 0, text_start = 0;
	const char *bad;
	const char *hit;

	if (!g_utf8_validate_len(p->src, p->len, &bad))
		return parse_error(p, bad - p->src, error, "%s",
		                   *bad == '\0' ? "NUL byte" : "invalid UTF-8");
	while ((hit = find(p->src + pos, p->len - pos, p->otag)) != NULL) {
		if (!parse_tag(p, hit - p->src, &text_start, &pos, error))
			return FALSE;
	}
	parser_add_text(p, text_start, p->len);
	if (p->open->len > 0) {
		node_t *n = g_ptr_array_index(p->open, p->open->len - 1);

		g_set_error(error, TMPL_ERROR, PI_ERROR_MESSAGE,
		            "%s:%u:%u: unclosed section \"%s\"", p->tmpl->name, n->line, n->column,
		            n->name);
		return FALSE;
	}
	return TRUE;
}

tmpl_t *
tmpl_parse(const char *text, gssize len, const char *name, GError **error)
{
	return tmpl_parse_at(text, len, name, 1, 1, error);
}

tmpl_t *
tmpl_parse_at(const char *text, gssize len, const char *name, guint line, guint column,
              GError **error)
{
	g_autoptr(tmpl_t) tmpl = g_new0(tmpl_t, 1);
	parser_t p = {0};
	gboolean ok;

	g_return_val_if_fail(text != NULL, NULL);
	tmpl->len = len < 0 ? strlen(text) : (gsize)len;
	tmpl->text = g_strndup(text, tmpl->len);
	tmpl->name = g_strdup(name != NULL ? name : "template");
	tmpl->nodes = g_ptr_array_new_with_free_func(node_free);

	p.tmpl = tmpl;
	p.src = tmpl->text;
	p.len = tmpl->len;
	p.line = p.first_line = MAX(line, 1);
	p.column = p.first_column = MAX(column, 1);
	set_delimiters(&p, "{{", 2, "}}", 2);
	p.open = g_ptr_array_new();
	p.nodes = tmpl->nodes;
	ok = parse(&p, error);
	g_free(p.otag);
	g_free(p.ctag);
	g_free(p.ctag_brace);
	g_free(p.ctag_equals);
	g_ptr_array_unref(p.open);
	return ok ? g_steal_pointer(&tmpl) : NULL;
}

/* ---- static listing ----------------------------------------------------- */

static void
collect_names(GPtrArray *nodes, GPtrArray *names)
{
	for (guint i = 0; i < nodes->len; i++) {
		const node_t *n = g_ptr_array_index(nodes, i);

		if (n->kind == NODE_VAR)
			g_ptr_array_add(names, name_new(n->name, n->line, n->column, FALSE));
		if (n->kind == NODE_SECTION) {
			g_ptr_array_add(names, name_new(n->name, n->line, n->column, TRUE));
			collect_names(n->children, names);
		}
	}
}

GPtrArray *
tmpl_names(const tmpl_t *tmpl)
{
	GPtrArray *names = g_ptr_array_new_with_free_func(tmpl_name_free);

	collect_names(tmpl->nodes, names);
	return names;
}

static void
collect_partials(GPtrArray *nodes, GPtrArray *partials)
{
	for (guint i = 0; i < nodes->len; i++) {
		const node_t *n = g_ptr_array_index(nodes, i);
		guint index;

		if (n->kind == NODE_PARTIAL &&
		    !g_ptr_array_find_with_equal_func(partials, n->name, g_str_equal, &index))
			g_ptr_array_add(partials, g_strdup(n->name));
		if (n->kind == NODE_SECTION)
			collect_partials(n->children, partials);
	}
}

GPtrArray *
tmpl_partials(const tmpl_t *tmpl)
{
	GPtrArray *partials = g_ptr_array_new_with_free_func(g_free);

	collect_partials(tmpl->nodes, partials);
	return partials;
}

static void
visit_nodes(GPtrArray *nodes, tmpl_visit_fn visit, gpointer user_data)
{
	for (guint i = 0; i < nodes->len; i++) {
		const node_t *n = g_ptr_array_index(nodes, i);
		tmpl_tag_t tag = {TMPL_TAG_VARIABLE, n->name, n->line, n->column};

		switch (n->kind) {
		case NODE_TEXT:
		case NODE_LINE:
			continue;
		case NODE_VAR:
			break;
		case NODE_PARTIAL:
			tag.kind = TMPL_TAG_PARTIAL;
			break;
		case NODE_SECTION:
			tag.kind = n->inverted ? TMPL_TAG_INVERTED : TMPL_TAG_SECTION;
			visit(&tag, user_data);
			visit_nodes(n->children, visit, user_data);
			tag.kind = TMPL_TAG_END;
			break;
		}
		visit(&tag, user_data);
	}
}

void
tmpl_visit(const tmpl_t *tmpl, tmpl_visit_fn visit, gpointer user_data)
{
	visit_nodes(tmpl->nodes, visit, user_data);
}

/* ---- rendering ---------------------------------------------------------- */

typedef struct {
	const tmpl_options_t *options;
	GString *out;
	GPtrArray *stack;     /* JsonNode*, borrowed; the innermost context last */
	GHashTable *partials; /* name → tmpl_t* (NULL: no such partial) */
	GHashTable *reported; /* "line:column:name" of missing names already reported */
	const node_t *via;    /* the top template's partial tag being rendered, or NULL */
	const tmpl_t *top;
} render_t;

static gboolean render_nodes(render_t *r, const tmpl_t *t, GPtrArray *nodes, const char *indent,
                             guint depth, GError **error);

static gboolean
depth_error(const tmpl_t *t, const node_t *n, GError **error)
{
	g_set_error(error, TMPL_ERROR, PI_ERROR_MESSAGE,
	            "%s:%u:%u: sections and partials nested deeper than %d levels (recursive "
	            "partial?)",
	            t->name, n->line, n->column, MAX_DEPTH);
	return FALSE;
}

/* Resolve N's name against the context stack; NULL when nothing answers. */
static JsonNode *
lookup(const render_t *r, const node_t *n)
{
	JsonNode *value = NULL;

	if (n->parts == NULL)
		return g_ptr_array_index(r->stack, r->stack->len - 1);
	for (guint i = r->stack->len; i-- > 0 && value == NULL;) {
		JsonNode *context = g_ptr_array_index(r->stack, i);

		if (JSON_NODE_HOLDS_OBJECT(context))
			value = json_object_get_member(json_node_get_object(context), n->parts[0]);
	}
	for (guint k = 1; value != NULL && n->parts[k] != NULL; k++) {
		if (!JSON_NODE_HOLDS_OBJECT(value))
			return NULL;
		value = json_object_get_member(json_node_get_object(value), n->parts[k]);
	}
	return value;
}

static gboolean
truthy(JsonNode *value)
{
	if (value == NULL)
		return FALSE;
	switch (json_node_get_node_type(value)) {
	case JSON_NODE_NULL:
		return FALSE;
	case JSON_NODE_ARRAY:
		return json_array_get_length(json_node_get_array(value)) > 0;
	case JSON_NODE_OBJECT:
		return TRUE;
	case JSON_NODE_VALUE:
		break;
	}
	switch (json_node_get_value_type(value)) {
	case G_TYPE_BOOLEAN:
		return json_node_get_boolean(value);
	case G_TYPE_INT64:
		return json_node_get_int(value) != 0;
	case G_TYPE_DOUBLE: {
		double d = json_node_get_double(value);

		return d != 0.0 && !isnan(d);
	}
	case G_TYPE_STRING:
		return *json_node_get_string(value) != '\0';
	default:
		return TRUE;
	}
}

static void
append_escaped(GString *out, const char *s, gboolean html)
{
	const char *run = s;

	if (!html) {
		g_string_append(out, s);
		return;
	}
	for (; *s != '\0'; s++) {
		const char *entity;

		switch (*s) {
		case '&':
			entity = "&amp;";
			break;
		case '<':
			entity = "&lt;";
			break;
		case '>':
			entity = "&gt;";
			break;
		case '"':
			entity = "&quot;";
			break;
		case '\'':
			entity = "&#39;";
			break;
		default:
			continue;
		}
		g_string_append_len(out, run, s - run);
		g_string_append(out, entity);
		run = s + 1;
	}
	g_string_append(out, run);
}

/* D as JavaScript prints it (the spec's reference for `!!data` and numbers):
 * the fewest digits that read back as D, in plain notation for exponents
 * from -7 to 20 ("1.21", "1000", "0.000001"), else "1.5e-7", "1e+21". */
static void
append_double(GString *out, double d)
{
	char buf[G_ASCII_DTOSTR_BUF_SIZE], digits[24];
	const char *e;
	int k = 0, n;

	if (d == 0.0 || !isfinite(d)) {
		g_string_append(out, d == 0.0   ? "0"
		                     : isnan(d) ? "NaN"
		                     : d > 0    ? "Infinity"
		                                : "-Infinity");
		return;
	}
	if (d < 0)
		g_string_append_c(out, '-');
	d = fabs(d);
	for (int precision = 0; precision < 17; precision++) {
		char format[8];

		g_snprintf(format, sizeof format, "%%.%de", precision);
		g_ascii_formatd(buf, sizeof buf, format, d);
		if (g_ascii_strtod(buf, NULL) == d)
			break;
	}
	/* buf is "D.DDDe±XX": collect the digits and the exponent. */
	for (e = buf; *e != 'e'; e++) {
		if (g_ascii_isdigit(*e))
			digits[k++] = *e;
	}
	while (k > 1 && digits[k - 1] == '0')
		k--;
	digits[k] = '\0';
	n = atoi(e + 1) + 1; /* d = 0.DIGITS × 10^n */
	if (k <= n && n <= 21) {
		g_string_append(out, digits);
		for (int i = k; i < n; i++)
			g_string_append_c(out, '0');
	} else if (0 < n && n <= 21) {
		g_string_append_len(out, digits, n);
		g_string_append_c(out, '.');
		g_string_append(out, digits + n);
	} else if (-6 < n && n <= 0) {
		g_string_append(out, "0.");
		for (int i = n; i < 0; i++)
			g_string_append_c(out, '0');
		g_string_append(out, digits);
	} else {
		g_string_append_c(out, digits[0]);
		if (k > 1) {
			g_string_append_c(out, '.');
			g_string_append(out, digits + 1);
		}
		g_string_append_printf(out, "e%c%d", n - 1 > 0 ? '+' : '-', ABS(n - 1));
	}
}

static void
append_value(GString *out, JsonNode *value, gboolean html)
{
	if (!JSON_NODE_HOLDS_VALUE(value)) {
		g_autofree char *json = json_to_string(value, FALSE);

		append_escaped(out, json, html);
		return;
	}
	switch (json_node_get_value_type(value)) {
	case G_TYPE_STRING:
		append_escaped(out, json_node_get_string(value), html);
		break;
	case G_TYPE_INT64:
		g_string_append_printf(out, "%" G_GINT64_FORMAT, json_node_get_int(value));
		break;
	case G_TYPE_DOUBLE:
		append_double(out, json_node_get_double(value));
		break;
	case G_TYPE_BOOLEAN:
		g_string_append(out, json_node_get_boolean(value) ? "true" : "false");
		break;
	default:
		break;
	}
}

static void
report_missing(render_t *r, const tmpl_t *t, const node_t *n)
{
	const node_t *at = r->via != NULL ? r->via : n;
	tmpl_name_t *name;
	char *key;

	if (r->options->missing == NULL)
		return;
	key = g_strdup_printf("%u:%u:%s", at->line, at->column, n->name);
	if (!g_hash_table_add(r->reported, key))
		return;
	name = name_new(n->name, at->line, at->column, FALSE);
	if (t != r->top)
		name->partial = g_strdup(t->name);
	g_ptr_array_add(r->options->missing, name);
}

/* A string a reader would see as nothing: empty, or only white space
 * (ASCII or the ideographic space U+3000). */
static gboolean
blank(JsonNode *value)
{
	const char *s;

	if (!JSON_NODE_HOLDS_VALUE(value) || json_node_get_value_type(value) != G_TYPE_STRING)
		return FALSE;
	for (s = json_node_get_string(value); *s != '\0'; s = PI_UTF8_NEXT(s)) {
		gunichar c = g_utf8_get_char(s);

		if (!g_unichar_isspace(c) && c != 0x3000)
			return FALSE;
	}
	return TRUE;
}

static void
render_text(render_t *r, const tmpl_t *t, const node_t *n, const char *indent)
{
	const char *s = t->text + n->start, *end = s + n->len, *nl;

	if (indent == NULL) {
		g_string_append_len(r->out, s, n->len);
		return;
	}
	if (n->line_start)
		g_string_append(r->out, indent);
	while ((nl = memchr(s, '\n', end - s)) != NULL) {
		g_string_append_len(r->out, s, nl + 1 - s);
		s = nl + 1;
		if (s < end)
			g_string_append(r->out, indent);
	}
	g_string_append_len(r->out, s, end - s);
}

static gboolean
render_section(render_t *r, const tmpl_t *t, const node_t *n, const char *indent, guint depth,
               GError **error)
{
	JsonNode *value = lookup(r, n);
	gboolean ok = TRUE;

	if (depth >= MAX_DEPTH)
		return depth_error(t, n, error);
	if (n->inverted)
		return truthy(value) || render_nodes(r, t, n->children, indent, depth + 1, error);
	if (!truthy(value))
		return TRUE;
	if (JSON_NODE_HOLDS_ARRAY(value)) {
		JsonArray *list = json_node_get_array(value);
		guint count = json_array_get_length(list);

		for (guint i = 0; ok && i < count; i++) {
			g_ptr_array_add(r->stack, json_array_get_element(list, i));
			ok = render_nodes(r, t, n->children, indent, depth + 1, error);
			g_ptr_array_set_size(r->stack, r->stack->len - 1);
		}
		return ok;
	}
	g_ptr_array_add(r->stack, value);
	ok = render_nodes(r, t, n->children, indent, depth + 1, error);
	g_ptr_array_set_size(r->stack, r->stack->len - 1);
	return ok;
}

/* The parsed partial NAME, from the per-render cache or the callback. */
static gboolean
load_partial(render_t *r, const tmpl_t *t, const node_t *n, const tmpl_t **partial_out,
             GError **error)
{
	g_autofree char *text = NULL;
	gpointer cached;
	tmpl_t *partial = NULL;

	if (g_hash_table_lookup_extended(r->partials, n->name, NULL, &cached)) {
		*partial_out = cached;
		return TRUE;
	}
	if (r->options->partial != NULL)
		text = r->options->partial(n->name, r->options->partial_data);
	if (text != NULL) {
		partial = tmpl_parse(text, -1, n->name, error);
		if (partial == NULL) {
			g_prefix_error(error, "%s:%u:%u: in partial \"%s\": ", t->name, n->line,
			               n->column, n->name);
			return FALSE;
		}
	}
	g_hash_table_insert(r->partials, g_strdup(n->name), partial);
	*partial_out = partial;
	return TRUE;
}

static gboolean
render_partial(render_t *r, const tmpl_t *t, const node_t *n, const char *indent, guint depth,
               GError **error)
{
	const tmpl_t *partial = NULL;
	g_autofree char *inner = NULL;
	gboolean ok;

	if (depth >= MAX_DEPTH)
		return depth_error(t, n, error);
	if (!load_partial(r, t, n, &partial, error))
		return FALSE;
	if (partial == NULL)
		return TRUE;
	/* A standalone partial is indented by its own indentation plus that of
	 * the partial it stands in; an inline one is not indented at all. */
	if (n->indent != NULL)
		inner = g_strconcat(indent != NULL ? indent : "", n->indent, NULL);
	if (t == r->top)
		r->via = n;
	ok = render_nodes(r, partial, partial->nodes, inner != NULL && *inner ? inner : NULL,
	                  depth + 1, error);
	if (t == r->top)
		r->via = NULL;
	return ok;
}

static gboolean
render_nodes(render_t *r, const tmpl_t *t, GPtrArray *nodes, const char *indent, guint depth,
             GError **error)
{
	for (guint i = 0; i < nodes->len; i++) {
		const node_t *n = g_ptr_array_index(nodes, i);
		JsonNode *value;

		switch (n->kind) {
		case NODE_TEXT:
			render_text(r, t, n, indent);
			break;
		case NODE_LINE:
			if (indent != NULL)
				g_string_append(r->out, indent);
			break;
		case NODE_VAR:
			value = lookup(r, n);
			if (value == NULL || JSON_NODE_HOLDS_NULL(value) ||
			    (r->options->blank_is_missing && blank(value))) {
				report_missing(r, t, n);
				if (r->options->mark_missing)
					g_string_append_printf(r->out, "{{%s}}", n->name);
			} else {
				append_value(r->out, value,
				             n->escape && r->options->escape == TMPL_ESCAPE_HTML);
			}
			break;
		case NODE_SECTION:
			if (!render_section(r, t, n, indent, depth, error))
				return FALSE;
			break;
		case NODE_PARTIAL:
			if (!render_partial(r, t, n, indent, depth, error))
				return FALSE;
			break;
		}
	}
	return TRUE;
}

char *
tmpl_render(const tmpl_t *tmpl, JsonNode *context, const tmpl_options_t *options, GError **error)
{
	static const tmpl_options_t defaults = {TMPL_ESCAPE_HTML, NULL, NULL, NULL, FALSE, FALSE};
	g_autoptr(JsonNode) empty = NULL;
	g_autoptr(GString) out = NULL;
	render_t r = {0};
	gboolean ok;

	g_return_val_if_fail(tmpl != NULL, NULL);
	if (context == NULL) {
		empty = json_node_new(JSON_NODE_OBJECT);
		json_node_take_object(empty, json_object_new());
		context = empty;
	}
	out = g_string_sized_new(tmpl->len + tmpl->len / 2);
	r.options = options != NULL ? options : &defaults;
	r.out = out;
	r.stack = g_ptr_array_new();
	r.partials =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)tmpl_free);
	r.reported = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	r.top = tmpl;
	g_ptr_array_add(r.stack, context);
	ok = render_nodes(&r, tmpl, tmpl->nodes, NULL, 0, error);
	g_ptr_array_unref(r.stack);
	g_hash_table_unref(r.partials);
	g_hash_table_unref(r.reported);
	return ok ? g_string_free(g_steal_pointer(&out), FALSE) : NULL;
}
