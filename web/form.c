/* form.c — reading what a browser sends: url-encoded forms and query
 * strings, cookies; and finding Mustache tags left in a reply's text. */
#include "web/web-internal.h"

#include <string.h>

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode one url-encoded piece ('+' is a space); NULL when it is not UTF-8
 * or holds a NUL. */
static char *
decode(const char *p, gsize len)
{
	GString *out = g_string_sized_new(len);

	for (gsize i = 0; i < len; i++) {
		char c = p[i];
		if (c == '+')
			c = ' ';
		else if (c == '%' && i + 2 < len && hex_value(p[i + 1]) >= 0 &&
		         hex_value(p[i + 2]) >= 0) {
			c = (char)(hex_value(p[i + 1]) * 16 + hex_value(p[i + 2]));
			i += 2;
		}
		if (c == '\0') {
			g_string_free(out, TRUE);
			return NULL;
		}
		g_string_append_c(out, c);
	}
	if (!g_utf8_validate(out->str, (gssize)out->len, NULL)) {
		g_string_free(out, TRUE);
		return NULL;
	}
	return g_string_free(out, FALSE);
}

GHashTable *
web_form_parse(const char *data, gsize len)
{
	GHashTable *form = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	                                         (GDestroyNotify)g_ptr_array_unref);
	gsize start = 0;

	while (data != NULL && start < len) {
		const char *piece = data + start;
		const char *amp = memchr(piece, '&', len - start);
		gsize n = amp ? (gsize)(amp - piece) : len - start;
		const char *eq = memchr(piece, '=', n);
		g_autofree char *name = NULL, *value = NULL;
		GPtrArray *values;

		start += n + 1;
		if (n == 0)
			continue;
		name = decode(piece, eq ? (gsize)(eq - piece) : n);
		value = eq ? decode(eq + 1, n - (gsize)(eq - piece) - 1) : g_strdup("");
		if (name == NULL || value == NULL || *name == '\0')
			continue;
		values = g_hash_table_lookup(form, name);
		if (values == NULL) {
			values = g_ptr_array_new_with_free_func(g_free);
			g_ptr_array_add(values, NULL);
			g_hash_table_insert(form, g_strdup(name), values);
		}
		/* Values in order, and a NULL after the last (web_fields). */
		g_ptr_array_insert(values, (gint)values->len - 1, g_steal_pointer(&value));
	}
	return form;
}

const char *
web_form_get(GHashTable *form, const char *name)
{
	GPtrArray *values = g_hash_table_lookup(form, name);

	return values && values->len > 1 ? g_ptr_array_index(values, 0) : NULL;
}

char *
web_cookie_get(const char *header, const char *name)
{
	gsize name_len = strlen(name);
	const char *p = header;

	while (p != NULL && *p != '\0') {
		const char *end;
		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		end = strchr(p, ';');
		if (end == NULL)
			end = p + strlen(p);
		if ((gsize)(end - p) > name_len && strncmp(p, name, name_len) == 0 && p[name_len] == '=') {
			const char *v = p + name_len + 1;
			gsize n = (gsize)(end - v);
			while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
				n--;
			if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
				v++;
				n -= 2;
			}
			return g_strndup(v, n);
		}
		p = *end ? end + 1 : end;
	}
	return NULL;
}

char **
web_find_placeholders(const char *text)
{
	GPtrArray *found = g_ptr_array_new();
	const char *p = text;

	while (p != NULL && (p = strstr(p, "{{")) != NULL) {
		const char *end = strstr(p + 2, "}}");
		g_autofree char *inside = NULL;
		const char *name;

		if (end == NULL)
			break;
		inside = g_strndup(p + 2, (gsize)(end - p - 2));
		name = g_strstrip(inside);
		while (*name == '{' || *name == '#' || *name == '^' || *name == '/' || *name == '&' ||
		       *name == '>' || *name == '!')
			name++;
		while (*name == ' ')
			name++;
		if (*name != '\0' && strlen(name) <= 64) {
			gboolean seen = FALSE;
			g_autofree char *clean = g_strdup(name);
			g_strchomp(clean);
			if (g_str_has_suffix(clean, "}"))
				clean[strlen(clean) - 1] = '\0';
			for (guint i = 0; i < found->len && !seen; i++)
				seen = strcmp(g_ptr_array_index(found, i), clean) == 0;
			if (!seen)
				g_ptr_array_add(found, g_steal_pointer(&clean));
		}
		p = end + 2;
	}
	g_ptr_array_add(found, NULL);
	return (char **)g_ptr_array_free(found, FALSE);
}
