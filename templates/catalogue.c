/* catalogue.c — loading the template catalogue and rendering replies. */
#include "templates/catalogue.h"

#include <string.h>

static const char *const languages[] = {"ja", "en", NULL};

typedef struct {
	char *kind, *lang, *path;
	char *hash;
	gboolean auto_send;
	guint body_padding; /* newlines put before the body (see parse_file) */
	tmpl_t *subject;
	tmpl_t *body;
} entry_t;

struct catalogue {
	GHashTable *entries;  /* "lang/kind" → entry_t* */
	GHashTable *partials; /* "lang/name" → text */
};

static void
entry_free(gpointer data)
{
	entry_t *e = data;

	g_free(e->kind);
	g_free(e->lang);
	g_free(e->path);
	g_free(e->hash);
	tmpl_free(e->subject);
	tmpl_free(e->body);
	g_free(e);
}

void
catalogue_free(catalogue_t *catalogue)
{
	if (catalogue == NULL)
		return;
	g_clear_pointer(&catalogue->entries, g_hash_table_unref);
	g_clear_pointer(&catalogue->partials, g_hash_table_unref);
	g_free(catalogue);
}

void
catalogue_rendering_free(catalogue_rendering_t *r)
{
	if (r == NULL)
		return;
	g_free(r->subject);
	g_free(r->body);
	g_clear_pointer(&r->missing, g_ptr_array_unref);
	g_free(r);
}

static gboolean
file_error(GError **error, const char *path, guint line, const char *message)
{
	g_set_error(error, TMPL_ERROR, PI_ERROR_MESSAGE, "%s:%u:1: %s", path, line, message);
	return FALSE;
}

/* Split TEXT into its header block and body; fill E. */
static gboolean
parse_file(entry_t *e, const char *text, GError **error)
{
	const char *p = text;
	guint line = 1;
	g_autofree char *subject = NULL;
	g_autofree char *name = NULL;

	if (!g_utf8_validate(text, -1, NULL))
		return file_error(error, e->path, 1, "not valid UTF-8");
	for (;;) {
		const char *eol = strchr(p, '\n');
		g_autofree char *header = NULL;
		char *colon;

		if (eol == NULL)
			return file_error(error, e->path, line,
			                  "no blank line between the header block and the body");
		header = g_strndup(p, (gsize)(eol - p));
		g_strchomp(header);
		p = eol + 1;
		if (*header == '\0')
			break;
		colon = strchr(header, ':');
		if (colon == NULL)
			return file_error(error, e->path, line, "expected \"Key: value\" in the header block");
		*colon = '\0';
		g_strstrip(colon + 1);
		if (g_ascii_strcasecmp(header, "Subject") == 0) {
			g_free(subject);
			subject = g_strdup(colon + 1);
		}
		else if (g_ascii_strcasecmp(header, "Auto-Send") == 0) {
			if (g_ascii_strcasecmp(colon + 1, "allowed") == 0)
				e->auto_send = TRUE;
			else if (g_ascii_strcasecmp(colon + 1, "never") != 0)
				return file_error(error, e->path, line, "Auto-Send: expected allowed or never");
		} else if (g_ascii_strcasecmp(header, "Description") != 0) {
			g_autofree char *msg = g_strdup_printf("unknown header \"%s\"", header);
			return file_error(error, e->path, line, msg);
		}
		line++;
	}
	if (subject == NULL || *subject == '\0')
		return file_error(error, e->path, 1, "missing Subject:");
	name = g_strdup_printf("%s (Subject)", e->path);
	e->subject = tmpl_parse(subject, -1, name, error);
	if (e->subject == NULL)
		return FALSE;
	/* The body is parsed behind as many newlines as the header block took,
	 * so error positions are the file's; rendering drops them again. */
	{
		g_autofree char *padded = g_strnfill(line, '\n');
		g_autofree char *body = g_strconcat(padded, p, NULL);

		e->body_padding = line;
		e->body = tmpl_parse(body, -1, e->path, error);
	}
	return e->body != NULL;
}

static gboolean
load_partials(catalogue_t *catalogue, const char *dir, const char *lang, GError **error)
{
	g_autofree char *pdir = g_build_filename(dir, lang, "partials", NULL);
	g_autoptr(GDir) d = g_dir_open(pdir, 0, NULL);
	const char *name;

	if (d == NULL)
		return TRUE;
	while ((name = g_dir_read_name(d)) != NULL) {
		g_autofree char *path = NULL;
		char *text = NULL;

		if (!g_str_has_suffix(name, ".tmpl"))
			continue;
		path = g_build_filename(pdir, name, NULL);
		if (!g_file_get_contents(path, &text, NULL, error))
			return FALSE;
		if (!g_utf8_validate(text, -1, NULL)) {
			g_free(text);
			return file_error(error, path, 1, "not valid UTF-8");
		}
		g_hash_table_insert(catalogue->partials,
		                    g_strdup_printf("%s/%.*s", lang, (int)(strlen(name) - 5), name),
		                    text);
	}
	return TRUE;
}

catalogue_t *
catalogue_load(const char *dir, GError **error)
{
	g_autoptr(catalogue_t) catalogue = g_new0(catalogue_t, 1);

	catalogue->entries = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, entry_free);
	catalogue->partials = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
		g_set_error(error, TMPL_ERROR, PI_ERROR_FATAL, "template folder %s does not exist", dir);
		return NULL;
	}
	for (const char *const *lang = languages; *lang; lang++) {
		g_autofree char *ldir = g_build_filename(dir, *lang, NULL);
		g_autoptr(GDir) d = g_dir_open(ldir, 0, NULL);
		const char *name;

		if (!load_partials(catalogue, dir, *lang, error))
			return NULL;
		if (d == NULL)
			continue;
		while ((name = g_dir_read_name(d)) != NULL) {
			g_autofree char *text = NULL;
			gsize len;
			entry_t *e;

			if (!g_str_has_suffix(name, ".tmpl"))
				continue;
			e = g_new0(entry_t, 1);
			e->lang = g_strdup(*lang);
			e->kind = g_strndup(name, strlen(name) - 5);
			e->path = g_build_filename(ldir, name, NULL);
			g_hash_table_insert(catalogue->entries, g_strdup_printf("%s/%s", e->lang, e->kind), e);
			if (!g_file_get_contents(e->path, &text, &len, error))
				return NULL;
			e->hash = g_compute_checksum_for_string(G_CHECKSUM_SHA256, text, (gssize)len);
			if (!parse_file(e, text, error))
				return NULL;
		}
	}
	return g_steal_pointer(&catalogue);
}

static entry_t *
find(catalogue_t *catalogue, const char *kind, const char *lang)
{
	g_autofree char *key = g_strdup_printf("%s/%s", lang, kind);

	return g_hash_table_lookup(catalogue->entries, key);
}

gboolean
catalogue_has(catalogue_t *catalogue, const char *kind, const char *lang)
{
	return find(catalogue, kind, lang) != NULL;
}

typedef struct {
	catalogue_t *catalogue;
	const char *lang;
} partial_ctx_t;

static char *
partial_lookup(const char *name, gpointer user_data)
{
	partial_ctx_t *ctx = user_data;
	g_autofree char *key = g_strdup_printf("%s/%s", ctx->lang, name);

	return g_strdup(g_hash_table_lookup(ctx->catalogue->partials, key));
}

catalogue_rendering_t *
catalogue_render(catalogue_t *catalogue, const char *kind, const char *lang, JsonNode *context,
                 GError **error)
{
	g_autoptr(catalogue_rendering_t) r = g_new0(catalogue_rendering_t, 1);
	g_autofree char *subject = NULL;
	partial_ctx_t pctx = {catalogue, lang};
	tmpl_options_t options = {0};
	entry_t *e = find(catalogue, kind, lang);

	if (e == NULL) {
		pctx.lang = g_strcmp0(lang, "en") == 0 ? "ja" : "en";
		e = find(catalogue, kind, pctx.lang);
	}
	if (e == NULL) {
		g_set_error(error, TMPL_ERROR, PI_ERROR_NOT_FOUND, "no template for kind \"%s\"", kind);
		return NULL;
	}
	r->missing = g_ptr_array_new_with_free_func(tmpl_name_free);
	options.escape = TMPL_ESCAPE_NONE;
	options.partial = partial_lookup;
	options.partial_data = &pctx;
	options.missing = r->missing;
	subject = tmpl_render(e->subject, context, &options, error);
	if (subject == NULL)
		return NULL;
	r->subject = pi_header_sanitize(subject);
	g_strstrip(r->subject);
	{
		g_autofree char *body = tmpl_render(e->body, context, &options, error);
		gsize skip = 0;

		if (body == NULL)
			return NULL;
		while (skip < e->body_padding && body[skip] == '\n')
			skip++;
		r->body = g_strdup(body + skip);
	}
	r->hash = e->hash;
	r->auto_send = e->auto_send;
	return g_steal_pointer(&r);
}
