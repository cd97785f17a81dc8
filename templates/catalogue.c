/* catalogue.c — reading the template catalogue (files, header blocks,
 * syntax), versions, and rendering replies.  The checks that look across
 * files are in check.c. */
#include "templates/catalogue-private.h"

#include <glib/gstdio.h>
#include <string.h>

/* RFC 5322: a line is at most 998 octets without its CRLF. */
#define MAX_LINE_BYTES 998

/* ---- problems --------------------------------------------------------- */

void
catalogue_problem_free(gpointer data)
{
	catalogue_problem_t *p = data;

	if (p == NULL)
		return;
	g_free(p->file);
	g_free(p->message);
	g_free(p);
}

char *
catalogue_problem_format(const catalogue_problem_t *p)
{
	return g_strdup_printf("%s:%u:%u: %s", p->file, p->line, p->column, p->message);
}

void
catalogue_add_problem(catalogue_t *c, const char *file, guint line, guint column,
                      const char *format, ...)
{
	catalogue_problem_t *p = g_new0(catalogue_problem_t, 1);
	va_list args;
	char *key;

	va_start(args, format);
	p->message = g_strdup_vprintf(format, args);
	va_end(args);
	p->file = g_build_filename(c->dir, file, NULL);
	p->line = MAX(line, 1);
	p->column = MAX(column, 1);
	key = catalogue_problem_format(p);
	if (!g_hash_table_add(c->seen, key)) {
		catalogue_problem_free(p);
		return;
	}
	g_ptr_array_add(c->problems, p);
}

/* A GError from tmpl ("FILE:LINE:COLUMN: message") as a problem. */
static void
add_tmpl_error(catalogue_t *c, const char *file, const GError *error)
{
	g_autofree char *prefix = g_strconcat(file, ":", NULL);
	const char *m = error->message;
	guint line = 1, column = 1;
	char *end;

	if (g_str_has_prefix(m, prefix)) {
		m += strlen(prefix);
		line = (guint)strtoul(m, &end, 10);
		if (*end == ':') {
			column = (guint)strtoul(end + 1, &end, 10);
			if (g_str_has_prefix(end, ": ")) {
				catalogue_add_problem(c, file, line, column, "%s", end + 2);
				return;
			}
		}
	}
	catalogue_add_problem(c, file, 1, 1, "%s", error->message);
}

static gint
compare_problems(gconstpointer a, gconstpointer b)
{
	const catalogue_problem_t *x = *(catalogue_problem_t *const *)a;
	const catalogue_problem_t *y = *(catalogue_problem_t *const *)b;
	int by_file = strcmp(x->file, y->file);

	if (by_file != 0)
		return by_file;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->column != y->column)
		return x->column < y->column ? -1 : 1;
	return strcmp(x->message, y->message);
}

const GPtrArray *
catalogue_problems(const catalogue_t *c)
{
	return c->problems;
}

const char *
catalogue_dir(const catalogue_t *c)
{
	return c->dir;
}

/* ---- freeing ------------------------------------------------------------ */

static void
partial_free(gpointer data)
{
	partial_t *p = data;

	g_free(p->lang);
	g_free(p->name);
	g_free(p->rel);
	g_free(p->path);
	g_free(p->text);
	g_free(p->hash);
	tmpl_free(p->tmpl);
	g_free(p);
}

static void
entry_free(gpointer data)
{
	entry_t *e = data;

	g_free(e->kind);
	g_free(e->lang);
	g_free(e->rel);
	g_free(e->path);
	g_free(e->text);
	g_free(e->description);
	tmpl_free(e->subject);
	tmpl_free(e->body);
	g_clear_pointer(&e->partials, g_ptr_array_unref);
	g_free(e->hash);
	g_free(e->partials_json);
	g_free(e);
}

void
catalogue_free(catalogue_t *c)
{
	if (c == NULL)
		return;
	g_free(c->dir);
	g_clear_pointer(&c->entries, g_hash_table_unref);
	g_clear_pointer(&c->partials, g_hash_table_unref);
	g_clear_pointer(&c->problems, g_ptr_array_unref);
	g_clear_pointer(&c->seen, g_hash_table_unref);
	g_free(c->fingerprint);
	g_free(c);
}

void
catalogue_rendering_free(catalogue_rendering_t *r)
{
	if (r == NULL)
		return;
	g_free(r->subject);
	g_free(r->body);
	g_clear_pointer(&r->missing, g_ptr_array_unref);
	g_clear_pointer(&r->unset, g_ptr_array_unref);
	g_free(r->problem);
	g_free(r);
}

/* ---- finding the files --------------------------------------------------- */

typedef struct {
	char *rel, *path;
	char *lang;
	char *name; /* the kind or partial name */
	gboolean is_partial;
	char *text; /* NULL when it could not be read */
	gsize len;
	gint64 mtime;
	char *read_error;
} file_t;

static void
file_free(gpointer data)
{
	file_t *f = data;

	g_free(f->rel);
	g_free(f->path);
	g_free(f->lang);
	g_free(f->name);
	g_free(f->text);
	g_free(f->read_error);
	g_free(f);
}

/* A template file: NAME.tmpl, not hidden (editor lock and swap files). */
static gboolean
is_template_name(const char *name)
{
	return name[0] != '.' && g_str_has_suffix(name, ".tmpl") && strlen(name) > 5;
}

static void
add_files(GPtrArray *files, const char *dir, const char *lang, gboolean partials)
{
	g_autofree char *folder = partials ? g_build_filename(dir, lang, "partials", NULL)
	                                   : g_build_filename(dir, lang, NULL);
	g_autoptr(GDir) d = g_dir_open(folder, 0, NULL);
	const char *name;

	if (d == NULL)
		return;
	while ((name = g_dir_read_name(d)) != NULL) {
		file_t *f;
		GStatBuf st;
		g_autoptr(GError) error = NULL;

		if (!is_template_name(name))
			continue;
		f = g_new0(file_t, 1);
		f->lang = g_strdup(lang);
		f->name = g_strndup(name, strlen(name) - 5);
		f->is_partial = partials;
		f->rel = partials ? g_strdup_printf("%s/partials/%s", lang, name)
		                  : g_strdup_printf("%s/%s", lang, name);
		f->path = g_build_filename(folder, name, NULL);
		if (g_stat(f->path, &st) == 0)
			f->mtime = (gint64)st.st_mtime;
		if (!g_file_test(f->path, G_FILE_TEST_IS_REGULAR))
			f->read_error = g_strdup("not a regular file");
		else if (!g_file_get_contents(f->path, &f->text, &f->len, &error))
			f->read_error = g_strdup(error->message);
		g_ptr_array_add(files, f);
	}
}

static gint
compare_files(gconstpointer a, gconstpointer b)
{
	return strcmp((*(file_t *const *)a)->rel, (*(file_t *const *)b)->rel);
}

/* Every file a catalogue is made of, sorted by relative name; also the
 * folders in DIR that are not a language we know (reported by the caller). */
static GPtrArray *
scan(const char *dir, GPtrArray *strangers, GError **error)
{
	g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(file_free);
	g_autoptr(GDir) d = NULL;
	const char *name;

	if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
		g_set_error(error, TMPL_ERROR, PI_ERROR_FATAL, "template folder %s does not exist",
		            dir);
		return NULL;
	}
	if ((d = g_dir_open(dir, 0, error)) == NULL) {
		g_prefix_error(error, "template folder: ");
		return NULL;
	}
	while ((name = g_dir_read_name(d)) != NULL) {
		g_autofree char *path = g_build_filename(dir, name, NULL);

		if (strangers != NULL && name[0] != '.' && g_file_test(path, G_FILE_TEST_IS_DIR) &&
		    !g_strv_contains(catalogue_languages(), name))
			g_ptr_array_add(strangers, g_strdup(name));
	}
	for (const char *const *lang = catalogue_languages(); *lang; lang++) {
		add_files(files, dir, *lang, FALSE);
		add_files(files, dir, *lang, TRUE);
	}
	g_ptr_array_sort(files, compare_files);
	return g_steal_pointer(&files);
}

static char *
fingerprint(GPtrArray *files)
{
	g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);

	for (guint i = 0; i < files->len; i++) {
		const file_t *f = g_ptr_array_index(files, i);

		g_checksum_update(sum, (const guchar *)f->rel, (gssize)strlen(f->rel) + 1);
		if (f->text != NULL)
			g_checksum_update(sum, (const guchar *)f->text, (gssize)f->len);
		else
			g_checksum_update(sum, (const guchar *)"\0unreadable", 11);
		g_checksum_update(sum, (const guchar *)"", 1);
	}
	return g_strdup(g_checksum_get_string(sum));
}

char *
catalogue_scan_fingerprint(const char *dir, GError **error)
{
	g_autoptr(GPtrArray) files = scan(dir, NULL, error);

	return files != NULL ? fingerprint(files) : NULL;
}

const char *
catalogue_fingerprint(const catalogue_t *c)
{
	return c->fingerprint;
}

/* ---- one file ------------------------------------------------------------ */

/* Line and character column of byte OFFSET in TEXT. */
static void
locate(const char *text, gsize offset, guint *line_out, guint *column_out)
{
	guint line = 1, column = 1;

	for (gsize i = 0; i < offset; i++) {
		if (text[i] == '\n') {
			line++;
			column = 1;
		} else if (((guchar)text[i] & 0xC0) != 0x80) {
			column++;
		}
	}
	*line_out = line;
	*column_out = column;
}

/* Bytes every file must get right: UTF-8, no NUL, lines a mail can carry. */
static gboolean
check_bytes(catalogue_t *c, const file_t *f)
{
	const char *bad = NULL;
	const char *line = f->text;
	guint n = 1;
	guint line_no, column;

	if (!g_utf8_validate_len(f->text, f->len, &bad)) {
		locate(f->text, (gsize)(bad - f->text), &line_no, &column);
		catalogue_add_problem(c, f->rel, line_no, column, "%s",
		                      *bad == '\0' ? "NUL byte" : "not valid UTF-8");
		return FALSE;
	}
	while (line < f->text + f->len) {
		const char *eol = memchr(line, '\n', (gsize)(f->text + f->len - line));
		gsize bytes = (gsize)((eol ? eol : f->text + f->len) - line);

		if (bytes > 0 && line[bytes - 1] == '\r')
			bytes--;
		if (bytes > MAX_LINE_BYTES) {
			locate(line, MAX_LINE_BYTES, &line_no, &column);
			catalogue_add_problem(c, f->rel, n, column,
			                      "line is %" G_GSIZE_FORMAT
			                      " bytes long; a mail line may "
			                      "have at most %d",
			                      bytes, MAX_LINE_BYTES);
		}
		if (eol == NULL)
			break;
		line = eol + 1;
		n++;
	}
	return TRUE;
}

/* The header block of E's file and the two templates after it. */
static void
parse_entry(catalogue_t *c, entry_t *e)
{
	const char *p = e->text;
	guint line = 1;
	g_autofree char *subject = NULL;
	g_autoptr(GError) error = NULL;

	for (;;) {
		const char *eol = strchr(p, '\n');
		g_autofree char *header = NULL;
		const char *value;
		char *colon;

		if (eol == NULL) {
			catalogue_add_problem(
			    c, e->rel, line, 1,
			    "no blank line between the header block and the body");
			return;
		}
		header = g_strndup(p, (gsize)(eol - p));
		g_strchomp(header);
		if (*header == '\0') {
			p = eol + 1;
			line++;
			break;
		}
		if (header[0] == ' ' || header[0] == '\t') {
			catalogue_add_problem(c, e->rel, line, 1,
			                      "a header must be one line (no continuation lines)");
		} else if ((colon = strchr(header, ':')) == NULL) {
			catalogue_add_problem(
			    c, e->rel, line, 1,
			    "expected \"Key: value\" in the header block (Subject, "
			    "Auto-Send, Description), then a blank line");
		} else {
			*colon = '\0';
			value = colon + 1;
			while (*value == ' ' || *value == '\t')
				value++;
			if (g_ascii_strcasecmp(header, "Subject") == 0) {
				if (e->has_subject)
					catalogue_add_problem(c, e->rel, line, 1,
					                      "a second Subject:");
				e->has_subject = TRUE;
				g_free(subject);
				subject = g_strdup(value);
				e->subject_line = line;
				e->subject_column =
				    (guint)g_utf8_strlen(header, -1) + 1 +
				    (guint)g_utf8_strlen(colon + 1, value - colon - 1) + 1;
			} else if (g_ascii_strcasecmp(header, "Auto-Send") == 0) {
				if (g_ascii_strcasecmp(value, "allowed") == 0)
					e->auto_send = TRUE;
				else if (g_ascii_strcasecmp(value, "never") != 0)
					catalogue_add_problem(
					    c, e->rel, line, 1,
					    "Auto-Send: expected allowed or never, not \"%s\"",
					    value);
			} else if (g_ascii_strcasecmp(header, "Description") == 0) {
				g_free(e->description);
				e->description = g_strdup(value);
			} else {
				catalogue_add_problem(
				    c, e->rel, line, 1,
				    "unknown header \"%s\" (Subject, Auto-Send and "
				    "Description are allowed)",
				    header);
			}
		}
		p = eol + 1;
		line++;
	}
	if (subject == NULL || *subject == '\0') {
		catalogue_add_problem(c, e->rel, 1, 1, "missing Subject:");
	} else {
		e->subject =
		    tmpl_parse_at(subject, -1, e->rel, e->subject_line, e->subject_column, &error);
		if (e->subject == NULL) {
			add_tmpl_error(c, e->rel, error);
			g_clear_error(&error);
		}
	}
	e->body = tmpl_parse_at(p, -1, e->rel, line, 1, &error);
	if (e->body == NULL)
		add_tmpl_error(c, e->rel, error);
}

static void
add_entry(catalogue_t *c, file_t *f, gboolean readable)
{
	entry_t *e = g_new0(entry_t, 1);

	e->info = catalogue_kind_find(f->name);
	e->kind = g_strdup(f->name);
	e->lang = g_strdup(f->lang);
	e->rel = g_strdup(f->rel);
	e->path = g_strdup(f->path);
	e->mtime = f->mtime;
	e->text = g_steal_pointer(&f->text);
	e->partials = g_ptr_array_new();
	g_hash_table_insert(c->entries, g_strdup_printf("%s/%s", e->lang, e->kind), e);
	if (readable)
		parse_entry(c, e);
	else
		e->bad = TRUE;
}

static void
add_partial(catalogue_t *c, file_t *f, gboolean readable)
{
	partial_t *p = g_new0(partial_t, 1);
	g_autoptr(GError) error = NULL;

	p->lang = g_strdup(f->lang);
	p->name = g_strdup(f->name);
	p->rel = g_strdup(f->rel);
	p->path = g_strdup(f->path);
	p->mtime = f->mtime;
	p->hash = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)f->text, f->len);
	p->text = g_steal_pointer(&f->text);
	g_hash_table_insert(c->partials, g_strdup_printf("%s/%s", p->lang, p->name), p);
	if (!readable) {
		p->bad = TRUE;
		return;
	}
	p->tmpl = tmpl_parse(p->text, -1, p->rel, &error);
	if (p->tmpl == NULL)
		add_tmpl_error(c, p->rel, error);
}

partial_t *
catalogue_partial(catalogue_t *c, const char *lang, const char *name)
{
	g_autofree char *key = g_strdup_printf("%s/%s", lang, name);

	return g_hash_table_lookup(c->partials, key);
}

/* E's version: its text and the partials it uses (see catalogue.h). */
static void
compute_version(entry_t *e)
{
	g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autoptr(JsonNode) root = NULL;

	g_checksum_update(sum, (const guchar *)e->text, (gssize)strlen(e->text));
	json_builder_begin_object(b);
	for (guint i = 0; i < e->partials->len; i++) {
		const partial_t *p = g_ptr_array_index(e->partials, i);

		g_checksum_update(sum, (const guchar *)"", 1);
		g_checksum_update(sum, (const guchar *)p->name, (gssize)strlen(p->name));
		g_checksum_update(sum, (const guchar *)"", 1);
		g_checksum_update(sum, (const guchar *)p->text, (gssize)strlen(p->text));
		json_builder_set_member_name(b, p->name);
		json_builder_add_string_value(b, p->text);
	}
	json_builder_end_object(b);
	root = json_builder_get_root(b);
	e->hash = g_strdup(g_checksum_get_string(sum));
	e->partials_json = json_to_string(root, FALSE);
	e->version.kind = e->kind;
	e->version.language = e->lang;
	e->version.hash = e->hash;
	e->version.text = e->text;
	e->version.partials = e->partials_json;
}

catalogue_t *
catalogue_read(const char *dir, GError **error)
{
	g_autoptr(catalogue_t) c = g_new0(catalogue_t, 1);
	g_autoptr(GPtrArray) strangers = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) files = scan(dir, strangers, error);
	GHashTableIter iter;
	gpointer value;

	if (files == NULL)
		return NULL;
	c->dir = g_strdup(dir);
	c->entries = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, entry_free);
	c->partials = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, partial_free);
	c->problems = g_ptr_array_new_with_free_func(catalogue_problem_free);
	c->seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	c->fingerprint = fingerprint(files);

	for (guint i = 0; i < strangers->len; i++)
		catalogue_add_problem(c, g_ptr_array_index(strangers, i), 1, 1,
		                      "unknown language folder (templates are in ja/ and en/)");
	for (guint i = 0; i < files->len; i++) {
		file_t *f = g_ptr_array_index(files, i);

		if (f->text == NULL) {
			catalogue_add_problem(c, f->rel, 1, 1, "cannot read: %s", f->read_error);
			continue;
		}
		/* A file with bad bytes is there (not "missing"), but not parsed. */
		if (f->is_partial)
			add_partial(c, f, check_bytes(c, f));
		else
			add_entry(c, f, check_bytes(c, f));
	}
	catalogue_check(c);
	g_hash_table_iter_init(&iter, c->entries);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		compute_version(value);
	g_ptr_array_sort(c->problems, compare_problems);
	return g_steal_pointer(&c);
}

catalogue_t *
catalogue_load(const char *dir, GError **error)
{
	g_autoptr(catalogue_t) c = catalogue_read(dir, error);
	const catalogue_problem_t *first;
	g_autofree char *text = NULL;

	if (c == NULL)
		return NULL;
	if (c->problems->len == 0)
		return g_steal_pointer(&c);
	first = g_ptr_array_index(c->problems, 0);
	text = catalogue_problem_format(first);
	if (c->problems->len == 1)
		g_set_error(error, TMPL_ERROR, PI_ERROR_MESSAGE, "%s", text);
	else
		g_set_error(error, TMPL_ERROR, PI_ERROR_MESSAGE,
		            "%s (and %u more problems: run `privacy-inbox templates check`)", text,
		            c->problems->len - 1);
	return NULL;
}

/* ---- what is in it -------------------------------------------------------- */

static entry_t *
find(catalogue_t *c, const char *kind, const char *lang)
{
	g_autofree char *key = g_strdup_printf("%s/%s", lang, kind);

	return g_hash_table_lookup(c->entries, key);
}

gboolean
catalogue_has(catalogue_t *c, const char *kind, const char *lang)
{
	return find(c, kind, lang) != NULL;
}

const catalogue_version_t *
catalogue_version(catalogue_t *c, const char *kind, const char *lang)
{
	entry_t *e = find(c, kind, lang);

	return e != NULL ? &e->version : NULL;
}

static gboolean
file_has_problems(const catalogue_t *c, const char *path)
{
	for (guint i = 0; i < c->problems->len; i++) {
		const catalogue_problem_t *p = g_ptr_array_index(c->problems, i);

		if (strcmp(p->file, path) == 0)
			return TRUE;
	}
	return FALSE;
}

static void
file_row_free(gpointer data)
{
	g_free(data);
}

static gint
compare_names(gconstpointer a, gconstpointer b)
{
	return strcmp((*(catalogue_file_t *const *)a)->name, (*(catalogue_file_t *const *)b)->name);
}

GPtrArray *
catalogue_files(catalogue_t *c)
{
	GPtrArray *rows = g_ptr_array_new_with_free_func(file_row_free);
	g_autoptr(GPtrArray) others = g_ptr_array_new();
	GHashTableIter iter;
	gpointer value;

	/* Known kinds in kinds.c order, then unknown ones and partials by name. */
	for (const catalogue_kind_t *k = catalogue_kinds(); k->kind; k++) {
		for (const char *const *lang = catalogue_languages(); *lang; lang++) {
			entry_t *e = find(c, k->kind, *lang);
			catalogue_file_t *row;

			if (e == NULL)
				continue;
			row = g_new0(catalogue_file_t, 1);
			row->name = e->rel;
			row->path = e->path;
			row->kind = e->kind;
			row->language = e->lang;
			row->version = e->hash;
			row->modified = e->mtime;
			row->description = e->description ? e->description : k->description;
			row->auto_send = e->auto_send;
			row->problems = file_has_problems(c, e->path) || e->bad;
			g_ptr_array_add(rows, row);
		}
	}
	g_hash_table_iter_init(&iter, c->entries);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		entry_t *e = value;
		catalogue_file_t *row;

		if (e->info != NULL)
			continue;
		row = g_new0(catalogue_file_t, 1);
		row->name = e->rel;
		row->path = e->path;
		row->kind = e->kind;
		row->language = e->lang;
		row->version = e->hash;
		row->modified = e->mtime;
		row->description = e->description;
		row->auto_send = e->auto_send;
		row->problems = TRUE;
		g_ptr_array_add(others, row);
	}
	g_hash_table_iter_init(&iter, c->partials);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		partial_t *p = value;
		catalogue_file_t *row = g_new0(catalogue_file_t, 1);

		row->name = p->rel;
		row->path = p->path;
		row->language = p->lang;
		row->version = p->hash;
		row->modified = p->mtime;
		row->problems = file_has_problems(c, p->path);
		g_ptr_array_add(others, row);
	}
	g_ptr_array_sort(others, compare_names);
	for (guint i = 0; i < others->len; i++)
		g_ptr_array_add(rows, g_ptr_array_index(others, i));
	return rows;
}

/* ---- rendering ------------------------------------------------------------ */

typedef struct {
	catalogue_t *catalogue;
	const char *lang;
} partial_ctx_t;

static char *
partial_lookup(const char *name, gpointer user_data)
{
	partial_ctx_t *ctx = user_data;
	partial_t *p = catalogue_partial(ctx->catalogue, ctx->lang, name);

	return p != NULL ? g_strdup(p->text) : NULL;
}

char *
catalogue_render_part(catalogue_t *c, const entry_t *e, const tmpl_t *part, JsonNode *context,
                      tmpl_options_t *options, GError **error)
{
	partial_ctx_t pctx = {c, e->lang};

	options->escape = TMPL_ESCAPE_NONE;
	options->partial = partial_lookup;
	options->partial_data = &pctx;
	return tmpl_render(part, context, options, error);
}

/* Is NAME unset in CONTEXT (absent, null, false, or a blank string)? */
static gboolean
context_unset(JsonNode *context, const char *name)
{
	JsonNode *value;
	const char *s;

	if (context == NULL || !JSON_NODE_HOLDS_OBJECT(context))
		return TRUE;
	value = json_object_get_member(json_node_get_object(context), name);
	if (value == NULL || JSON_NODE_HOLDS_NULL(value))
		return TRUE;
	if (!JSON_NODE_HOLDS_VALUE(value) || json_node_get_value_type(value) != G_TYPE_STRING)
		return FALSE;
	for (s = json_node_get_string(value); *s != '\0'; s = PI_UTF8_NEXT(s)) {
		gunichar ch = g_utf8_get_char(s);

		if (!g_unichar_isspace(ch) && ch != 0x3000)
			return FALSE;
	}
	return TRUE;
}

/* "{{x}} is empty (ja/ack.tmpl:3:5), {{y}} is required but not set" */
static char *
describe_unfilled(const entry_t *e, const catalogue_rendering_t *r)
{
	g_autoptr(GString) text = g_string_new(NULL);

	for (guint i = 0; i < r->unset->len; i++)
		g_string_append_printf(text, "%s{{%s}} is required but not set",
		                       text->len ? ", " : "",
		                       (const char *)g_ptr_array_index(r->unset, i));
	for (guint i = 0; i < r->missing->len; i++) {
		const tmpl_name_t *n = g_ptr_array_index(r->missing, i);

		if (g_ptr_array_find_with_equal_func(r->unset, n->name, g_str_equal, NULL))
			continue;
		g_string_append_printf(text, "%s{{%s}} is empty (%s:%u:%u%s%s)",
		                       text->len ? ", " : "", n->name, e->rel, n->line, n->column,
		                       n->partial ? ", in partial " : "",
		                       n->partial ? n->partial : "");
	}
	return g_strdup_printf("%s: %s", e->rel, text->str);
}

/* Every reply to a requester carries its reference in the subject. */
static char *
subject_with_reference(const entry_t *e, const char *subject, JsonNode *context)
{
	JsonNode *ref = NULL;
	g_autofree char *tag = NULL;

	if (e->info == NULL || e->info->audience != CATALOGUE_TO_REQUESTER || context == NULL ||
	    !JSON_NODE_HOLDS_OBJECT(context))
		return g_strdup(subject);
	ref = json_object_get_member(json_node_get_object(context), "reference");
	if (ref == NULL || !JSON_NODE_HOLDS_VALUE(ref) ||
	    json_node_get_value_type(ref) != G_TYPE_STRING || context_unset(context, "reference"))
		return g_strdup(subject);
	tag = g_strdup_printf("[%s]", json_node_get_string(ref));
	if (strstr(subject, tag) != NULL)
		return g_strdup(subject);
	return *subject ? g_strdup_printf("%s %s", subject, tag) : g_strdup(tag);
}

static catalogue_rendering_t *
render(catalogue_t *c, const char *kind, const char *lang, JsonNode *context, gboolean preview,
       GError **error)
{
	g_autoptr(catalogue_rendering_t) r = g_new0(catalogue_rendering_t, 1);
	g_autofree char *subject = NULL;
	g_autofree char *clean = NULL;
	tmpl_options_t options = {0};
	entry_t *e = find(c, kind, lang);

	if (e == NULL)
		e = find(c, kind, g_strcmp0(lang, "en") == 0 ? "ja" : "en");
	if (e == NULL || e->subject == NULL || e->body == NULL) {
		g_set_error(error, TMPL_ERROR, PI_ERROR_NOT_FOUND, "no template for kind \"%s\"",
		            kind);
		return NULL;
	}
	r->missing = g_ptr_array_new_with_free_func(tmpl_name_free);
	r->unset = g_ptr_array_new_with_free_func(g_free);
	options.missing = r->missing;
	options.blank_is_missing = TRUE;
	options.mark_missing = preview;
	subject = catalogue_render_part(c, e, e->subject, context, &options, error);
	if (subject == NULL)
		return NULL;
	r->body = catalogue_render_part(c, e, e->body, context, &options, error);
	if (r->body == NULL)
		return NULL;
	clean = pi_header_sanitize(subject);
	g_strstrip(clean);
	r->subject = subject_with_reference(e, clean, context);
	for (const char *const *name = e->info ? e->info->required : NULL; name && *name; name++) {
		if (context_unset(context, *name))
			g_ptr_array_add(r->unset, g_strdup(*name));
	}
	r->version = &e->version;
	r->hash = e->hash;
	r->auto_send = e->auto_send;
	if (r->missing->len > 0 || r->unset->len > 0) {
		r->problem = describe_unfilled(e, r);
		if (!preview) {
			g_set_error(error, TMPL_ERROR, PI_ERROR_MESSAGE,
			            "%s; a reply like this must not be sent", r->problem);
			return NULL;
		}
	}
	return g_steal_pointer(&r);
}

catalogue_rendering_t *
catalogue_render(catalogue_t *c, const char *kind, const char *lang, JsonNode *context,
                 GError **error)
{
	return render(c, kind, lang, context, FALSE, error);
}

catalogue_rendering_t *
catalogue_preview(catalogue_t *c, const char *kind, const char *lang, JsonNode *context,
                  GError **error)
{
	return render(c, kind, lang, context, TRUE, error);
}
