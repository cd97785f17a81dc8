/* test_tmpl.c — what the Mustache engine does beyond the spec: plain-text
 * mode, Japanese text, error positions, missing-variable reports, the static
 * listing, partial callbacks, indentation, limits and large renders. */
#include "templates/tmpl.h"

#include <locale.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------ */

typedef struct {
	const char *const *pairs; /* name, text, name, text…, NULL */
	GHashTable *calls;        /* name → times asked */
} partials_t;

static char *
lookup_partial(const char *name, gpointer user_data)
{
	partials_t *p = user_data;

	if (p->calls != NULL) {
		guint n = GPOINTER_TO_UINT(g_hash_table_lookup(p->calls, name));

		g_hash_table_replace(p->calls, g_strdup(name), GUINT_TO_POINTER(n + 1));
	}
	for (guint i = 0; p->pairs != NULL && p->pairs[i] != NULL; i += 2) {
		if (strcmp(p->pairs[i], name) == 0)
			return g_strdup(p->pairs[i + 1]);
	}
	return NULL;
}

static JsonNode *
json(const char *text)
{
	g_autoptr(GError) error = NULL;
	JsonNode *node = json_from_string(text, &error);

	g_assert_no_error(error);
	return node;
}

/* Parse and render TEMPLATE; NULL and *ERROR set on failure. */
static char *
render_full(const char *template, const char *data, tmpl_escape_t escape,
            const char *const *partials, GPtrArray *missing, GError **error)
{
	g_autoptr(tmpl_t) tmpl = tmpl_parse(template, -1, "t.tmpl", error);
	g_autoptr(JsonNode) context = data != NULL ? json(data) : NULL;
	partials_t p = {partials, NULL};
	tmpl_options_t options = {0};

	if (tmpl == NULL)
		return NULL;
	options.escape = escape;
	options.partial = lookup_partial;
	options.partial_data = &p;
	options.missing = missing;
	return tmpl_render(tmpl, context, &options, error);
}

static char *
render(const char *template, const char *data, tmpl_escape_t escape, const char *const *partials)
{
	g_autoptr(GError) error = NULL;
	char *out = render_full(template, data, escape, partials, NULL, &error);

	g_assert_no_error(error);
	g_assert_nonnull(out);
	return out;
}

/* S printable on one line in a TAP comment: controls escaped, UTF-8 kept. */
static char *
show(const char *s)
{
	char high[129];

	for (int i = 0; i < 128; i++)
		high[i] = (char)(0x80 + i);
	high[128] = '\0';
	return g_strescape(s != NULL ? s : "(null)", high);
}

typedef struct {
	const char *template, *data, *expected;
} row_t;

static void
check_rows(const row_t *rows, gsize n, tmpl_escape_t escape)
{
	for (gsize i = 0; i < n; i++) {
		g_autofree char *out = render(rows[i].template, rows[i].data, escape, NULL);
		g_autofree char *template = show(rows[i].template);
		g_autofree char *data = show(rows[i].data);

		g_test_message("row %zu: %s with %s", i, template, data);
		g_assert_cmpstr(out, ==, rows[i].expected);
	}
}

/* ---- escaping modes ----------------------------------------------------- */

static const row_t plain_rows[] = {
    {"{{x}}|{{{x}}}|{{&x}}", "{\"x\": \"& < > \\\" '\"}", "& < > \" '|& < > \" '|& < > \" '"},
    {"<{{x}}>", "{\"x\": \"<b>太字</b>\"}", "<<b>太字</b>>"},
    {"{{a.b}} {{{a.b}}}", "{\"a\": {\"b\": \"&amp;\"}}", "&amp; &amp;"},
    {"{{#l}}{{.}}{{/l}}", "{\"l\": [\"<\", \">\", \"&\"]}", "<>&"},
};

static const row_t html_rows[] = {
    {"{{x}}|{{{x}}}|{{&x}}", "{\"x\": \"& < > \\\" '\"}",
     "&amp; &lt; &gt; &quot; &#39;|& < > \" '|& < > \" '"},
    {"<{{x}}>", "{\"x\": \"<b>太字</b>\"}", "<&lt;b&gt;太字&lt;/b&gt;>"},
    {"{{#l}}{{.}}{{/l}}", "{\"l\": [\"<\", \">\", \"&\"]}", "&lt;&gt;&amp;"},
};

static void
test_plain_text(void)
{
	check_rows(plain_rows, G_N_ELEMENTS(plain_rows), TMPL_ESCAPE_NONE);
}

static void
test_html(void)
{
	check_rows(html_rows, G_N_ELEMENTS(html_rows), TMPL_ESCAPE_HTML);
}

/* ---- values ------------------------------------------------------------- */

static const row_t truthiness_rows[] = {
    {"{{#v}}T{{/v}}{{^v}}F{{/v}}", "{\"v\": true}", "T"},
    {"{{#v}}T{{/v}}{{^v}}F{{/v}}", "{\"v\": false}", "F"},
    {"{{#v}}T{{/v}}{{^v}}F{{/v}}", "{\"v\": null}", "F"},
    {"{{#v}}T{{/v}}{{^v}}F{{/v}}", "{}", "F"},
    {"{{#v}}T{{/v}}{{^v}}F{{/v}}", "{\"v\": 0}", "F"},
    {"{{#v}}T{{/v}}{{^v}}F{{/v}}", "{\"v\": 0.0}", "F"},
    {"{{#v}}T{{/v}}{{^v}}F{{/v}}", "{\"v\": 1}", "T"},
    {"{{#v}}T{{/v}}{{^v}}F{{/v}}", "{\"v\": -1}", "T"},
    {"{{#v}}T{{/v}}{{^v}}F{{/v}}", "{\"v\": 0.5}", "T"},
    {"{{#v}}T{{/v}}{{^v}}F{{/v}}", "{\"v\": \"\"}", "F"},
    {"{{#v}}T{{/v}}{{^v}}F{{/v}}", "{\"v\": \"0\"}", "T"},
    {"{{#v}}T{{/v}}{{^v}}F{{/v}}", "{\"v\": \"false\"}", "T"},
    {"{{#v}}T{{/v}}{{^v}}F{{/v}}", "{\"v\": []}", "F"},
    {"{{#v}}T{{/v}}{{^v}}F{{/v}}", "{\"v\": [0, false, null]}", "TTT"},
    {"{{#v}}T{{/v}}{{^v}}F{{/v}}", "{\"v\": {}}", "T"},
    /* A scalar section value is pushed: {{.}} is the value itself. */
    {"{{#v}}[{{.}}]{{/v}}", "{\"v\": \"値\"}", "[値]"},
};

static const row_t number_rows[] = {
    {"{{v}}", "{\"v\": 85}", "85"},
    {"{{v}}", "{\"v\": -3}", "-3"},
    {"{{v}}", "{\"v\": 1.21}", "1.21"},
    {"{{v}}", "{\"v\": 1.210}", "1.21"},
    {"{{v}}", "{\"v\": 1.0}", "1"},
    {"{{v}}", "{\"v\": -0.0}", "0"},
    {"{{v}}", "{\"v\": 0.1}", "0.1"},
    {"{{v}}", "{\"v\": 3.14159}", "3.14159"},
    {"{{v}}", "{\"v\": 1e3}", "1000"},
    {"{{v}}", "{\"v\": -2.5}", "-2.5"},
    {"{{v}}", "{\"v\": 123.456}", "123.456"},
    {"{{v}}", "{\"v\": 0.000001}", "0.000001"},
    {"{{v}}", "{\"v\": 1.5e-7}", "1.5e-7"},
    {"{{v}}", "{\"v\": 1e20}", "100000000000000000000"},
    {"{{v}}", "{\"v\": 1.5e21}", "1.5e+21"},
    {"{{v}}", "{\"v\": 0.30000000000000004}", "0.30000000000000004"},
    {"{{v}}", "{\"v\": 9007199254740993}", "9007199254740993"},
    {"{{v}}", "{\"v\": true}", "true"},
    {"{{v}}", "{\"v\": false}", "false"},
    {"{{v}}", "{\"v\": [1, \"a\"]}", "[1,\"a\"]"},
    {"{{v}}", "{\"v\": {\"k\": 1}}", "{\"k\":1}"},
};

static void
test_truthiness(void)
{
	check_rows(truthiness_rows, G_N_ELEMENTS(truthiness_rows), TMPL_ESCAPE_NONE);
}

static void
test_numbers(void)
{
	check_rows(number_rows, G_N_ELEMENTS(number_rows), TMPL_ESCAPE_NONE);
}

/* Header safety is the caller's job: the engine passes CR, LF and other
 * control characters in values through untouched, in both modes. */
static void
test_crlf_untouched(void)
{
	const char *data =
	    "{\"x\": \"山田\\r\\nBcc: victim@example.org\\r\\n\\u0001\\u001b[31m\\t.\"}";
	const char *value = "山田\r\nBcc: victim@example.org\r\n\x01\x1b[31m\t.";
	const tmpl_escape_t modes[] = {TMPL_ESCAPE_NONE, TMPL_ESCAPE_HTML};

	for (guint i = 0; i < G_N_ELEMENTS(modes); i++) {
		g_autofree char *escaped = render("Subject: {{x}}", data, modes[i], NULL);
		g_autofree char *raw = render("Subject: {{{x}}}", data, modes[i], NULL);
		g_autofree char *expected = g_strconcat("Subject: ", value, NULL);

		g_assert_cmpstr(escaped, ==, expected);
		g_assert_cmpstr(raw, ==, expected);
	}
}

/* ---- Japanese ------------------------------------------------------------ */

static void
test_japanese(void)
{
	const char *template =
	    "{{氏名}} 様\n"
	    "\n"
	    "このたびは個人情報の{{種別}}をご請求いただき、ありがとうございます。\n"
	    "受付番号：{{受付番号}}\n"
	    "\n"
	    "{{#請求}}\n"
	    "・{{名称}}（{{id}}）\n"
	    "{{/請求}}\n"
	    "{{^手数料}}\n"
	    "手数料は不要です。\n"
	    "{{/手数料}}\n"
	    "{{#手数料}}\n"
	    "手数料：{{手数料}}円\n"
	    "{{/手数料}}\n"
	    "  {{>署名}}\n";
	const char *data =
	    "{\"氏名\": \"山田 太郎\", \"種別\": \"開示\", \"受付番号\": \"PI-2026-0001\","
	    " \"請求\": [{\"名称\": \"開示\", \"id\": \"disclosure\"},"
	    "          {\"名称\": \"利用停止\", \"id\": \"stop_use\"}],"
	    " \"手数料\": 1000, \"会社\": \"株式会社テスト\"}";
	const char *const partials[] = {"署名", "――\n{{会社}}\n個人情報お問い合わせ窓口\n", NULL};
	g_autofree char *out = render(template, data, TMPL_ESCAPE_NONE, partials);
	g_autofree char *free_of_charge = NULL;

	g_assert_cmpstr(out, ==,
	                "山田 太郎 様\n"
	                "\n"
	                "このたびは個人情報の開示をご請求いただき、ありがとうございます。\n"
	                "受付番号：PI-2026-0001\n"
	                "\n"
	                "・開示（disclosure）\n"
	                "・利用停止（stop_use）\n"
	                "手数料：1000円\n"
	                "  ――\n"
	                "  株式会社テスト\n"
	                "  個人情報お問い合わせ窓口\n");
	free_of_charge = render("{{^手数料}}手数料は不要です。{{/手数料}}", "{\"手数料\": 0}",
	                        TMPL_ESCAPE_NONE, NULL);
	g_assert_cmpstr(free_of_charge, ==, "手数料は不要です。");
}

/* ---- syntax errors ------------------------------------------------------- */

typedef struct {
	const char *template, *message;
} error_row_t;

static const error_row_t error_rows[] = {
    {"件名\n本文{{名前", "t.tmpl:2:3: unclosed tag: no \"}}\" after \"{{\""},
    {"あいう{{{名前}}えお", "t.tmpl:1:4: unclosed tag: no \"}}}\" after \"{{\""},
    {"一行目\n{{#一覧}}\n・{{項目}}\n", "t.tmpl:2:1: unclosed section \"一覧\""},
    {"{{#外}}\n　{{#内}}\n{{/内}}", "t.tmpl:1:1: unclosed section \"外\""},
    {"{{#請求}}\n　　{{/手数料}}",
     "t.tmpl:2:3: closing tag \"手数料\" does not match \"請求\" opened at 1:1"},
    {"ご請求{{/請求}}", "t.tmpl:1:4: closing tag \"請求\" without an opening tag"},
    {"日本語{{=<% %>}}", "t.tmpl:1:4: bad set-delimiter tag: no \"=}}\" at its end"},
    {"日本語\n　{{=<%>=}}",
     "t.tmpl:2:2: bad set-delimiter tag: expected two delimiters separated by whitespace, as "
     "in {{=<% %>=}}"},
    {"日本語{{= <% %> | =}}",
     "t.tmpl:1:4: bad set-delimiter tag: expected two delimiters separated by whitespace, as "
     "in {{=<% %>=}}"},
    {"{{=<% %>=}}日本<%名前", "t.tmpl:1:14: unclosed tag: no \"%>\" after \"<%\""},
    {"お名前：{{ }}", "t.tmpl:1:5: empty tag name"},
    {"お名前：\n{{#}}{{/}}", "t.tmpl:2:1: empty tag name"},
    {"お名前：{{{ }}}", "t.tmpl:1:5: empty tag name"},
    {"お名前：{{& }}", "t.tmpl:1:5: empty tag name"},
    {"お名前：{{>}}", "t.tmpl:1:5: empty tag name"},
    {"お名前：{{お 名前}}", "t.tmpl:1:5: invalid tag name \"お 名前\" (contains whitespace)"},
    {"{{氏..名}}", "t.tmpl:1:1: invalid tag name \"氏..名\" (empty part in dotted name)"},
    {"ご{{#a.}}{{/a.}}", "t.tmpl:1:2: invalid tag name \"a.\" (empty part in dotted name)"},
    {"日本\xff語", "t.tmpl:1:3: invalid UTF-8"},
};

static void
test_errors(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(error_rows); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(tmpl_t) tmpl = tmpl_parse(error_rows[i].template, -1, "t.tmpl", &error);
		g_autofree char *template = show(error_rows[i].template);

		g_test_message("row %u: %s", i, template);
		g_assert_null(tmpl);
		g_assert_error(error, TMPL_ERROR, PI_ERROR_MESSAGE);
		g_assert_cmpstr(error->message, ==, error_rows[i].message);
		g_assert_null(strchr(error->message, '\n'));
	}
}

static void
test_error_without_name(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(tmpl_t) tmpl = tmpl_parse("{{x", -1, NULL, &error);

	g_assert_null(tmpl);
	g_assert_error(error, TMPL_ERROR, PI_ERROR_MESSAGE);
	g_assert_cmpstr(error->message, ==, "template:1:1: unclosed tag: no \"}}\" after \"{{\"");
}

/* LEN limits what is parsed: the unclosed tag beyond it is never seen.
 * A NUL byte inside LEN is refused. */
static void
test_length(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(tmpl_t) tmpl = tmpl_parse("{{x}}です{{", strlen("{{x}}です"), "t", &error);
	g_autoptr(JsonNode) data = json("{\"x\": \"値\"}");
	g_autofree char *out = NULL;

	g_assert_no_error(error);
	out = tmpl_render(tmpl, data, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(out, ==, "値です");
	g_clear_pointer(&tmpl, tmpl_free);
	tmpl = tmpl_parse("{{x}}\n\0{{y}}", 11, "nul", &error);
	g_assert_null(tmpl);
	g_assert_error(error, TMPL_ERROR, PI_ERROR_MESSAGE);
	g_assert_cmpstr(error->message, ==, "nul:2:1: NUL byte");
}

/* ---- missing variables --------------------------------------------------- */

static void
test_missing(void)
{
	const char *template = "{{宛名}}様\n"
	                       "{{#会社}}{{部署}}{{/会社}}\n"
	                       "{{^無い}}x{{/無い}}{{#無い2}}{{y}}{{/無い2}}\n"
	                       "{{ヌル}} {{a.b.c}} {{&triple}}\n"
	                       "{{#list}}{{.}}{{name}}{{/list}}\n"
	                       "{{>p}}";
	const char *data = "{\"宛名\": \"x\", \"会社\": {\"部署\": null}, \"ヌル\": null,"
	                   " \"a\": {\"b\": {}}, \"list\": [null, {\"name\": \"n\"}, {\"o\": 1}]}";
	const char *const partials[] = {"p", "{{in_partial}}\n{{宛名}}", NULL};
	static const struct {
		const char *name;
		guint line, column;
	} expected[] = {
	    {"部署", 2, 8}, {"ヌル", 4, 1},  {"a.b.c", 4, 8},      {"triple", 4, 18},
	    {".", 5, 10},   {"name", 5, 15}, {"in_partial", 6, 1},
	};
	g_autoptr(GPtrArray) missing = g_ptr_array_new_with_free_func(tmpl_name_free);
	g_autoptr(GError) error = NULL;
	g_autofree char *out = NULL;
	g_autofree char *again = NULL;

	out = render_full(template, data, TMPL_ESCAPE_NONE, partials, missing, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(out, ==, "x様\n\nx\n  \n{\"name\":\"n\"}n{\"o\":1}\n\nx");
	for (guint i = 0; i < missing->len; i++) {
		const tmpl_name_t *n = g_ptr_array_index(missing, i);

		g_test_message("missing %s at %u:%u", n->name, n->line, n->column);
	}
	g_assert_cmpuint(missing->len, ==, G_N_ELEMENTS(expected));
	for (guint i = 0; i < G_N_ELEMENTS(expected); i++) {
		const tmpl_name_t *n = g_ptr_array_index(missing, i);

		g_assert_cmpstr(n->name, ==, expected[i].name);
		g_assert_cmpuint(n->line, ==, expected[i].line);
		g_assert_cmpuint(n->column, ==, expected[i].column);
		g_assert_false(n->is_section);
	}
	/* The array is appended to: a second render adds its own report. */
	again = render_full(template, data, TMPL_ESCAPE_NONE, partials, missing, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(missing->len, ==, 2 * G_N_ELEMENTS(expected));
}

/* Everything filled, or no array given: nothing reported, nothing breaks. */
static void
test_missing_none(void)
{
	g_autoptr(GPtrArray) missing = g_ptr_array_new_with_free_func(tmpl_name_free);
	g_autoptr(GError) error = NULL;
	g_autofree char *out = NULL;
	g_autofree char *no_array = NULL;

	out = render_full("{{a}}{{#s}}{{b}}{{/s}}{{^t}}{{c}}{{/t}}",
	                  "{\"a\": \"\", \"s\": false, \"t\": [], \"c\": 0}", TMPL_ESCAPE_NONE,
	                  NULL, missing, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(out, ==, "0");
	g_assert_cmpuint(missing->len, ==, 0);
	no_array = render_full("{{a}}", NULL, TMPL_ESCAPE_NONE, NULL, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(no_array, ==, "");
}

/* A blank value counts as missing when asked (what a reader sees as
 * nothing); mark_missing shows the gap as {{name}}; a name missing inside
 * a partial says which partial. */
static void
test_missing_blank_and_marked(void)
{
	const char *const partials[] = {"sig", "--\n{{会社}}\n", NULL};
	g_autoptr(tmpl_t) tmpl =
	    tmpl_parse("{{a}}|{{b}}|{{c}}|{{d}}|{{n}}\n{{>sig}}", -1, "t", NULL);
	g_autoptr(JsonNode) data =
	    json("{\"a\": \"\", \"b\": \" \\t\", \"c\": \"\u3000\", \"d\": \"x\", \"n\": 0}");
	g_autoptr(GPtrArray) missing = g_ptr_array_new_with_free_func(tmpl_name_free);
	g_autoptr(GError) error = NULL;
	partials_t p = {partials, NULL};
	tmpl_options_t options = {TMPL_ESCAPE_NONE, lookup_partial, &p, missing, TRUE, TRUE};
	g_autofree char *out = tmpl_render(tmpl, data, &options, &error);
	static const char *const expected[] = {"a", "b", "c", "会社"};

	g_assert_no_error(error);
	g_assert_cmpstr(out, ==, "{{a}}|{{b}}|{{c}}|x|0\n--\n{{会社}}\n");
	g_assert_cmpuint(missing->len, ==, G_N_ELEMENTS(expected));
	for (guint i = 0; i < missing->len; i++) {
		const tmpl_name_t *n = g_ptr_array_index(missing, i);

		g_assert_cmpstr(n->name, ==, expected[i]);
		if (i < 3)
			g_assert_null(n->partial);
	}
	/* In the partial: the position of the partial tag, and its name. */
	g_assert_cmpstr(((tmpl_name_t *)g_ptr_array_index(missing, 3))->partial, ==, "sig");
	g_assert_cmpuint(((tmpl_name_t *)g_ptr_array_index(missing, 3))->line, ==, 2);
	/* Without the options, blanks are values like any other. */
	g_ptr_array_set_size(missing, 0);
	options.blank_is_missing = FALSE;
	options.mark_missing = FALSE;
	g_clear_pointer(&out, g_free);
	out = tmpl_render(tmpl, data, &options, &error);
	g_assert_cmpstr(out, ==, "| \t|\u3000|x|0\n--\n\n");
	g_assert_cmpuint(missing->len, ==, 1);
}

/* Text that starts inside a file (a body after its header block, a
 * Subject: value) reports the file's positions, and renders the same. */
static void
test_parse_at(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(tmpl_t) bad = tmpl_parse_at("件名 {{x", -1, "ja/ack.tmpl", 1, 10, &error);
	g_autoptr(tmpl_t) body = NULL;
	g_autoptr(GPtrArray) missing = g_ptr_array_new_with_free_func(tmpl_name_free);
	tmpl_options_t options = {TMPL_ESCAPE_NONE, NULL, NULL, missing, FALSE, FALSE};
	g_autofree char *out = NULL;
	const tmpl_name_t *n;

	g_assert_null(bad);
	g_assert_cmpstr(error->message, ==,
	                "ja/ack.tmpl:1:13: unclosed tag: no \"}}\" after \"{{\"");
	g_clear_error(&error);
	bad = tmpl_parse_at("一\n二{{#a}}", -1, "f", 5, 7, &error);
	g_assert_null(bad);
	g_assert_cmpstr(error->message, ==, "f:6:2: unclosed section \"a\"");
	g_clear_error(&error);
	body = tmpl_parse_at("{{#s}}\n本文 {{v}}\n{{/s}}\n", -1, "f", 5, 1, &error);
	g_assert_no_error(error);
	out = tmpl_render(body, NULL, &options, &error);
	g_assert_cmpstr(out, ==, "");
	g_clear_pointer(&out, g_free);
	{
		g_autoptr(JsonNode) data = json("{\"s\": true}");
		out = tmpl_render(body, data, &options, &error);
	}
	g_assert_cmpstr(out, ==, "本文 \n");
	n = g_ptr_array_index(missing, 0);
	g_assert_cmpstr(n->name, ==, "v");
	g_assert_cmpuint(n->line, ==, 6);
	g_assert_cmpuint(n->column, ==, 4);
}

/* The walk gives every tag in order, sections with their ends. */
static void
record_tag(const tmpl_tag_t *tag, gpointer user_data)
{
	static const char *const kinds[] = {"var", "section", "inverted", "end", "partial"};
	GString *out = user_data;

	g_string_append_printf(out, "%s %s %u:%u\n", kinds[tag->kind], tag->name, tag->line,
	                       tag->column);
}

static void
test_visit(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(tmpl_t) tmpl = tmpl_parse(
	    "{{a}}\n{{#l}}\n  {{b}}{{^c}}{{>p}}{{/c}}\n{{/l}}\n{{! x }}{{{d}}}", -1, "t", &error);
	g_autoptr(GString) out = g_string_new(NULL);

	g_assert_no_error(error);
	tmpl_visit(tmpl, record_tag, out);
	g_assert_cmpstr(out->str, ==,
	                "var a 1:1\n"
	                "section l 2:1\n"
	                "var b 3:3\n"
	                "inverted c 3:8\n"
	                "partial p 3:14\n"
	                "end c 3:8\n"
	                "end l 2:1\n"
	                "var d 5:9\n");
}

/* ---- static listing ------------------------------------------------------ */

static void
test_names(void)
{
	const char *template = "{{a}}\n"
	                       "{{#s}}{{b.c}}{{/s}}\n"
	                       "  {{^inv}}{{{raw}}}{{/inv}}\n"
	                       "{{>p1}}{{! {{comment }}{{>p2}}{{>p1}}\n"
	                       "{{=<% %>=}}\n"
	                       "<%&d%><%#s%><%.%><%/s%><%>p3%>\n";
	static const struct {
		const char *name;
		guint line, column;
		gboolean is_section;
	} expected[] = {
	    {"a", 1, 1, FALSE},    {"s", 2, 1, TRUE},  {"b.c", 2, 7, FALSE}, {"inv", 3, 3, TRUE},
	    {"raw", 3, 11, FALSE}, {"d", 6, 1, FALSE}, {"s", 6, 7, TRUE},    {".", 6, 13, FALSE},
	};
	static const char *const expected_partials[] = {"p1", "p2", "p3"};
	g_autoptr(GError) error = NULL;
	g_autoptr(tmpl_t) tmpl = tmpl_parse(template, -1, "t.tmpl", &error);
	g_autoptr(GPtrArray) names = NULL;
	g_autoptr(GPtrArray) partials = NULL;

	g_assert_no_error(error);
	names = tmpl_names(tmpl);
	g_assert_cmpuint(names->len, ==, G_N_ELEMENTS(expected));
	for (guint i = 0; i < G_N_ELEMENTS(expected); i++) {
		const tmpl_name_t *n = g_ptr_array_index(names, i);

		g_assert_cmpstr(n->name, ==, expected[i].name);
		g_assert_cmpuint(n->line, ==, expected[i].line);
		g_assert_cmpuint(n->column, ==, expected[i].column);
		g_assert_cmpint(n->is_section, ==, expected[i].is_section);
	}
	partials = tmpl_partials(tmpl);
	g_assert_cmpuint(partials->len, ==, G_N_ELEMENTS(expected_partials));
	for (guint i = 0; i < G_N_ELEMENTS(expected_partials); i++)
		g_assert_cmpstr(g_ptr_array_index(partials, i), ==, expected_partials[i]);
}

/* ---- partials ------------------------------------------------------------ */

static void
test_partial_null(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(tmpl_t) tmpl = tmpl_parse("[{{>none}}]\n  {{>none}}\n.", -1, "t", &error);
	g_autoptr(GHashTable) calls = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	partials_t p = {NULL, calls};
	tmpl_options_t options = {TMPL_ESCAPE_NONE, lookup_partial, &p, NULL, FALSE, FALSE};
	g_autofree char *out = NULL;
	g_autofree char *no_callback = NULL;

	g_assert_no_error(error);
	out = tmpl_render(tmpl, NULL, &options, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(out, ==, "[]\n.");
	/* Asked once per render, not once per use. */
	g_assert_cmpuint(GPOINTER_TO_UINT(g_hash_table_lookup(calls, "none")), ==, 1);
	options.partial = NULL;
	no_callback = tmpl_render(tmpl, NULL, &options, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(no_callback, ==, "[]\n.");
}

static void
test_partial_cached(void)
{
	const char *const pairs[] = {"item", "<{{.}}>", NULL};
	g_autoptr(GHashTable) calls = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	partials_t p = {pairs, calls};
	tmpl_options_t options = {TMPL_ESCAPE_NONE, lookup_partial, &p, NULL, FALSE, FALSE};
	g_autoptr(GError) error = NULL;
	g_autoptr(tmpl_t) tmpl = tmpl_parse("{{#l}}{{>item}}{{/l}}", -1, "t", &error);
	g_autoptr(JsonNode) data = json("{\"l\": [1, 2, 3]}");
	g_autofree char *first = NULL;
	g_autofree char *second = NULL;

	g_assert_no_error(error);
	first = tmpl_render(tmpl, data, &options, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(first, ==, "<1><2><3>");
	g_assert_cmpuint(GPOINTER_TO_UINT(g_hash_table_lookup(calls, "item")), ==, 1);
	/* The cache lives for one render: the catalogue may change in between. */
	second = tmpl_render(tmpl, data, &options, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(second, ==, first);
	g_assert_cmpuint(GPOINTER_TO_UINT(g_hash_table_lookup(calls, "item")), ==, 2);
}

static void
test_partial_syntax_error(void)
{
	const char *const partials[] = {"署名", "――\n会社{{名前", NULL};
	g_autoptr(GError) error = NULL;
	g_autofree char *out =
	    render_full("本文\n　{{>署名}}", NULL, TMPL_ESCAPE_NONE, partials, NULL, &error);

	g_assert_null(out);
	g_assert_error(error, TMPL_ERROR, PI_ERROR_MESSAGE);
	g_assert_cmpstr(error->message, ==,
	                "t.tmpl:2:2: in partial \"署名\": 署名:2:3: unclosed tag: no \"}}\" after "
	                "\"{{\"");
}

/* Standalone indentation as if the partial's text were indented: nested
 * partials add up, inline partials are not indented, values never are. */
static const struct {
	const char *template, *outer, *expected;
} indent_rows[] = {
    {"  {{>o}}\n", "o1\n  {{>i}}\no2\n", "  o1\n    i1\n    i2\n  o2\n"},
    {"  {{>o}}\n", "x{{>i}}\n", "  xi1\ni2\n\n"},
    {"  {{>o}}\n", "{{#l}}\n- {{.}}\n{{/l}}!\n", "  - 1\n    - 2\n  !\n"},
    {"  {{>o}}\n", "a\n\nb\n", "  a\n  \n  b\n"},
    {"  {{>o}}\n", "a\r\nb\r\n", "  a\r\n  b\r\n"},
    {"  {{>o}}\n", "{{! c }}x\n{{v}}\n", "  x\n  1\n2\n"},
    {"\t{{>o}}\r\n", "{{#l}}{{.}}{{/l}}\n", "\t12\n"},
    {"{{#l}}\n  {{>o}}\n{{/l}}", "<{{.}}>\n", "  <1>\n  <2>\n"},
    {"　{{>o}}\n", "a\nb", "　a\nb\n"}, /* a full-width space is text, not indentation */
};

static void
test_partial_indentation(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(indent_rows); i++) {
		const char *const partials[] = {"o", indent_rows[i].outer, "i", "i1\ni2\n", NULL};
		g_autofree char *out =
		    render(indent_rows[i].template, "{\"l\": [1, 2], \"v\": \"1\\n2\"}",
		           TMPL_ESCAPE_NONE, partials);
		g_autofree char *outer = show(indent_rows[i].outer);

		g_test_message("row %u: %s", i, outer);
		g_assert_cmpstr(out, ==, indent_rows[i].expected);
	}
}

/* ---- limits --------------------------------------------------------------- */

static void
test_recursive_partial(void)
{
	const char *const partials[] = {"loop", "x{{>loop}}", NULL};
	g_autoptr(GError) error = NULL;
	g_autofree char *out =
	    render_full("{{>loop}}", NULL, TMPL_ESCAPE_NONE, partials, NULL, &error);

	g_assert_null(out);
	g_assert_error(error, TMPL_ERROR, PI_ERROR_MESSAGE);
	g_assert_cmpstr(error->message, ==,
	                "loop:1:2: sections and partials nested deeper than 100 levels "
	                "(recursive partial?)");
}

/* A tree DEPTH levels deep, {"n": 1, "child": {"n": 2, "child": …}}.  The
 * leaf's child is null, not absent: an absent one would be looked up in the
 * parent context and recurse for ever (which the depth limit stops). */
static char *
tree(guint depth)
{
	GString *s = g_string_new("");

	for (guint i = 1; i <= depth; i++)
		g_string_append_printf(s, "{\"n\": %u, \"child\": %s", i, i < depth ? "" : "null");
	for (guint i = 0; i < depth; i++)
		g_string_append_c(s, '}');
	return g_string_free(s, FALSE);
}

static void
test_recursive_data(void)
{
	const char *const partials[] = {"node", "{{n}} {{#child}}{{>node}}{{/child}}", NULL};
	g_autofree char *shallow = tree(40);
	g_autofree char *deep = tree(1000);
	g_autofree char *out = render("{{>node}}", shallow, TMPL_ESCAPE_NONE, partials);
	g_autofree char *failed = NULL;
	g_autoptr(GString) expected = g_string_new("");
	g_autoptr(GError) error = NULL;

	for (guint i = 1; i <= 40; i++)
		g_string_append_printf(expected, "%u ", i);
	g_assert_cmpstr(out, ==, expected->str);
	failed = render_full("{{>node}}", deep, TMPL_ESCAPE_NONE, partials, NULL, &error);
	g_assert_null(failed);
	g_assert_error(error, TMPL_ERROR, PI_ERROR_MESSAGE);
	g_assert_nonnull(strstr(error->message, "nested deeper than 100 levels"));
}

static void
test_nested_sections(void)
{
	g_autoptr(GString) ok = g_string_new("");
	g_autoptr(GString) too_deep = g_string_new("");
	g_autoptr(GError) error = NULL;
	g_autoptr(tmpl_t) fine = NULL;
	g_autoptr(tmpl_t) bad = NULL;
	g_autofree char *out = NULL;
	g_autoptr(JsonNode) data = json("{\"a\": true}");

	for (guint i = 0; i < 100; i++)
		g_string_append(ok, "{{#a}}");
	g_string_append(ok, "深い");
	for (guint i = 0; i < 100; i++)
		g_string_append(ok, "{{/a}}");
	fine = tmpl_parse(ok->str, -1, "t", &error);
	g_assert_no_error(error);
	out = tmpl_render(fine, data, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(out, ==, "深い");

	for (guint i = 0; i < 101; i++)
		g_string_append(too_deep, "{{#a}}");
	bad = tmpl_parse(too_deep->str, -1, "t", &error);
	g_assert_null(bad);
	g_assert_error(error, TMPL_ERROR, PI_ERROR_MESSAGE);
	g_assert_cmpstr(error->message, ==, "t:1:601: sections nested deeper than 100 levels");
}

/* ---- size ------------------------------------------------------------------ */

static void
test_large_list(void)
{
	g_autoptr(GString) data = g_string_new("{\"items\": [");
	g_autoptr(GString) expected = g_string_new("");
	g_autoptr(GPtrArray) missing = g_ptr_array_new_with_free_func(tmpl_name_free);
	g_autoptr(GError) error = NULL;
	g_autofree char *out = NULL;

	for (guint i = 0; i < 10000; i++) {
		g_string_append_printf(data, "%s{\"n\": %u, \"name\": \"項目%u\"}", i ? "," : "", i,
		                       i);
		g_string_append_printf(expected, "%u：項目%u\n", i, i);
	}
	g_string_append(data, "]}");
	out = render_full("{{#items}}\n{{n}}：{{name}}{{{amp}}}{{gone}}\n{{/items}}\n", data->str,
	                  TMPL_ESCAPE_NONE, NULL, missing, &error);
	g_assert_no_error(error);
	/* {{amp}} is missing too; each tag is reported once, not once per item. */
	g_assert_cmpuint(missing->len, ==, 2);
	g_assert_cmpstr(out, ==, expected->str);
}

static void
test_large_template(void)
{
	g_autoptr(GString) text = g_string_new("");
	g_autoptr(GString) expected = g_string_new("");
	g_autoptr(GError) error = NULL;
	g_autoptr(tmpl_t) tmpl = NULL;
	g_autoptr(GPtrArray) names = NULL;
	g_autoptr(JsonNode) data = json("{\"値\": \"あ\"}");
	g_autofree char *out = NULL;

	for (guint i = 0; i < 10000; i++) {
		g_string_append_printf(text, "行%u {{値}}\n{{#値}}\n  {{値}}\n{{/値}}\n", i);
		g_string_append_printf(expected, "行%u あ\n  あ\n", i);
	}
	g_string_append(text, "最後{{行");
	tmpl = tmpl_parse(text->str, -1, "large", &error);
	g_assert_null(tmpl);
	g_assert_cmpstr(error->message, ==, "large:40001:3: unclosed tag: no \"}}\" after \"{{\"");
	g_clear_error(&error);
	g_string_truncate(text, text->len - strlen("最後{{行"));
	tmpl = tmpl_parse(text->str, -1, "large", &error);
	g_assert_no_error(error);
	names = tmpl_names(tmpl);
	g_assert_cmpuint(names->len, ==, 30000);
	out = tmpl_render(tmpl, data, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(out, ==, expected->str);
}

/* ---- context -------------------------------------------------------------- */

static const row_t context_rows[] = {
    /* Names fall back through the stack; dotted names only start there. */
    {"{{#a}}{{x}}{{y}}{{/a}}", "{\"a\": {\"x\": 1}, \"y\": 2}", "12"},
    {"{{#a}}{{b.x}}{{/a}}", "{\"a\": {\"b\": {}}, \"b\": {\"x\": 3}}", ""},
    {"{{#l}}{{x}}{{/l}}", "{\"x\": \"外\", \"l\": [{\"x\": \"内\"}, {}, 1]}", "内外外"},
    {"{{.}}", "\"根\"", "根"},
    {"{{#.}}{{.}}{{/.}}", "[\"a\", \"b\"]", "ab"},
    /* Delimiters last until changed, across section ends. */
    {"{{=[ ]=}}[#a][x][/a][x]", "{\"a\": {\"x\": 1}, \"x\": 2}", "12"},
    {"{{x}}", NULL, ""},
};

static void
test_context(void)
{
	check_rows(context_rows, G_N_ELEMENTS(context_rows), TMPL_ESCAPE_NONE);
}

int
main(int argc, char **argv)
{
	/* Only for readable TAP comments; the engine does not use the locale. */
	setlocale(LC_ALL, "C.UTF-8");
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/tmpl/escape/plain-text", test_plain_text);
	g_test_add_func("/tmpl/escape/html", test_html);
	g_test_add_func("/tmpl/values/truthiness", test_truthiness);
	g_test_add_func("/tmpl/values/numbers", test_numbers);
	g_test_add_func("/tmpl/values/crlf-untouched", test_crlf_untouched);
	g_test_add_func("/tmpl/values/context", test_context);
	g_test_add_func("/tmpl/japanese", test_japanese);
	g_test_add_func("/tmpl/errors/positions", test_errors);
	g_test_add_func("/tmpl/errors/no-name", test_error_without_name);
	g_test_add_func("/tmpl/parse/length", test_length);
	g_test_add_func("/tmpl/missing/report", test_missing);
	g_test_add_func("/tmpl/missing/none", test_missing_none);
	g_test_add_func("/tmpl/missing/blank-and-marked", test_missing_blank_and_marked);
	g_test_add_func("/tmpl/parse/at", test_parse_at);
	g_test_add_func("/tmpl/visit", test_visit);
	g_test_add_func("/tmpl/names", test_names);
	g_test_add_func("/tmpl/partials/null", test_partial_null);
	g_test_add_func("/tmpl/partials/cached", test_partial_cached);
	g_test_add_func("/tmpl/partials/syntax-error", test_partial_syntax_error);
	g_test_add_func("/tmpl/partials/indentation", test_partial_indentation);
	g_test_add_func("/tmpl/limits/recursive-partial", test_recursive_partial);
	g_test_add_func("/tmpl/limits/recursive-data", test_recursive_data);
	g_test_add_func("/tmpl/limits/nested-sections", test_nested_sections);
	g_test_add_func("/tmpl/size/large-list", test_large_list);
	g_test_add_func("/tmpl/size/large-template", test_large_template);
	return g_test_run();
}
