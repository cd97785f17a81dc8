/* test_web.c — the console's pure pieces, table-driven: THE HTML escaper,
 * url-encoded forms, cookies, leftover Mustache tags, listen addresses. */
#include "web/web.h"

#include <string.h>

static void
test_escape(void)
{
	static const struct {
		const char *in, *out;
	} rows[] = {
		{"plain 日本語", "plain 日本語"},
		{"<script>alert('x')</script>", "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"},
		{"a & b \"q\"", "a &amp; b &quot;q&quot;"},
		{"&amp;", "&amp;amp;"},
		{"line\r\nnext\ttab", "line\nnext\ttab"},
		{"nul\x01\x1f\x7f", "nul"},
		{"bad \xff utf-8", "bad \xef\xbf\xbd utf-8"},
		{"", ""},
	};
	for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
		g_autoptr(GString) out = g_string_new(NULL);
		web_html_escape(out, rows[i].in);
		g_assert_cmpstr(out->str, ==, rows[i].out);
	}
	{
		g_autoptr(GString) out = g_string_new("x");
		web_html_escape(out, NULL);
		g_assert_cmpstr(out->str, ==, "x");
	}
}

static void
test_form(void)
{
	g_autoptr(GHashTable) form = web_form_parse(
	    "a=1&b=%E6%97%A5%E6%9C%AC+%26x&a=2&empty=&flag&bad=%FF&nul=%00&=x&c=%2", 69);
	GPtrArray *a = g_hash_table_lookup(form, "a");

	g_assert_cmpstr(web_form_get(form, "b"), ==, "日本 &x");
	g_assert_cmpuint(a->len, ==, 3); /* two values and the NULL after them */
	g_assert_cmpstr(g_ptr_array_index(a, 0), ==, "1");
	g_assert_cmpstr(g_ptr_array_index(a, 1), ==, "2");
	g_assert_null(g_ptr_array_index(a, 2));
	g_assert_cmpstr(web_form_get(form, "empty"), ==, "");
	g_assert_cmpstr(web_form_get(form, "flag"), ==, "");
	g_assert_null(web_form_get(form, "bad"));
	g_assert_null(web_form_get(form, "nul"));
	g_assert_null(web_form_get(form, ""));
	g_assert_null(web_form_get(form, "missing"));
	{
		g_autoptr(GHashTable) empty = web_form_parse(NULL, 0);
		g_assert_cmpuint(g_hash_table_size(empty), ==, 0);
	}
}

static void
test_cookie(void)
{
	static const struct {
		const char *header, *name, *value;
	} rows[] = {
		{"pi_session=abc", "pi_session", "abc"},
		{"x=1; pi_session=abc; y=2", "pi_session", "abc"},
		{"xpi_session=evil; pi_session=good", "pi_session", "good"},
		{"pi_session=\"quoted\"", "pi_session", "quoted"},
		{"pi_lang=en;pi_session=a b ", "pi_session", "a b"},
		{"other=1", "pi_session", NULL},
		{"", "pi_session", NULL},
	};
	for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
		g_autofree char *v = web_cookie_get(rows[i].header, rows[i].name);
		g_assert_cmpstr(v, ==, rows[i].value);
	}
}

static void
test_placeholders(void)
{
	g_auto(GStrv) none = web_find_placeholders("Dear Taro, {not one} }} {{");
	g_auto(GStrv) some = web_find_placeholders("{{reason}} {{ name }} {{#x}}…{{/x}} {{{raw}}} {{reason}}");

	g_assert_null(none[0]);
	g_assert_cmpuint(g_strv_length(some), ==, 4);
	g_assert_cmpstr(some[0], ==, "reason");
	g_assert_cmpstr(some[1], ==, "name");
	g_assert_cmpstr(some[2], ==, "x");
	g_assert_cmpstr(some[3], ==, "raw");
}

static void
test_listen(void)
{
	static const struct {
		const char *text, *host;
		guint16 port;
		gboolean loopback;
	} good[] = {
		{"127.0.0.1:8025", "127.0.0.1", 8025, TRUE},
		{"127.0.0.2", "127.0.0.2", 8025, TRUE},
		{"localhost:9000", "127.0.0.1", 9000, TRUE},
		{"[::1]:8443", "::1", 8443, TRUE},
		{"0.0.0.0:443", "0.0.0.0", 443, FALSE},
		{"192.0.2.10:0", "192.0.2.10", 0, FALSE},
	};
	static const char *const bad[] = {"", ":8025", "::1:8025", "example.com:80", "1.2.3.4:70000",
	                                  "127.0.0.1:x", "[::1", NULL};

	for (gsize i = 0; i < G_N_ELEMENTS(good); i++) {
		g_autoptr(GError) error = NULL;
		g_autofree char *host = NULL;
		guint16 port = 1;
		g_assert_true(web_parse_listen(good[i].text, &host, &port, &error));
		g_assert_cmpstr(host, ==, good[i].host);
		g_assert_cmpuint(port, ==, good[i].port);
		g_assert_true(web_host_is_loopback(host) == good[i].loopback);
	}
	for (const char *const *b = bad; *b; b++) {
		g_autoptr(GError) error = NULL;
		g_autofree char *host = NULL;
		guint16 port;
		g_assert_false(web_parse_listen(*b, &host, &port, &error));
		g_assert_error(error, WEB_ERROR, PI_ERROR_FATAL);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/web/escape", test_escape);
	g_test_add_func("/web/form", test_form);
	g_test_add_func("/web/cookie", test_cookie);
	g_test_add_func("/web/placeholders", test_placeholders);
	g_test_add_func("/web/listen", test_listen);
	return g_test_run();
}
