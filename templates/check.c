/* check.c — `templates check`: what needs more than one file at a time.
 *
 * Names are resolved the way rendering resolves them: inside {{#list}}…
 * {{/list}} a name is first a field of the list's items, then a variable of
 * the kind; a partial is walked where it is included, with the sections open
 * there.  Every variable must be one its kind may use (templates/kinds.c),
 * printed only if its type prints sensibly, and — when it may be unset —
 * printed only inside its own section, so a reader never sees a blank where
 * a value should be. */
#include "templates/catalogue-private.h"

#include <string.h>

typedef struct {
	char *name;                           /* the full name ("request_types.label") */
	const catalogue_variable_t *variable; /* NULL when unknown */
	gboolean inverted;
} scope_t;

typedef struct {
	catalogue_t *catalogue;
	entry_t *entry;
	const char *file;        /* relative name of the file being walked */
	char *via;               /* "ja/ack.tmpl:5:1" while walking a partial, else NULL */
	GArray *scopes;          /* scope_t: open sections, innermost last */
	GPtrArray *stack;        /* partial_t*: partials being walked */
	GHashTable *used;        /* full names referenced */
	GHashTable *found;       /* partial_t* used (a set) */
	GHashTable *in_partials; /* problems inside partials, merged across kinds */
} walk_t;

/* A problem inside a partial, and every kind it shows up for. */
typedef struct {
	char *file, *message, *via;
	guint line, column;
	GPtrArray *kinds; /* char*: the kinds it shows up for */
} partial_problem_t;

static void
partial_problem_free(gpointer data)
{
	partial_problem_t *p = data;

	g_free(p->file);
	g_free(p->message);
	g_free(p->via);
	g_ptr_array_unref(p->kinds);
	g_free(p);
}

/* ---- messages ------------------------------------------------------------- */

static guint
distance(const char *a, const char *b)
{
	glong la = g_utf8_strlen(a, -1), lb = g_utf8_strlen(b, -1);
	g_autofree gunichar *x = g_utf8_to_ucs4_fast(a, -1, NULL);
	g_autofree gunichar *y = g_utf8_to_ucs4_fast(b, -1, NULL);
	g_autofree guint *row = g_new(guint, lb + 1);

	for (glong j = 0; j <= lb; j++)
		row[j] = (guint)j;
	for (glong i = 1; i <= la; i++) {
		guint diagonal = row[0];

		row[0] = (guint)i;
		for (glong j = 1; j <= lb; j++) {
			guint above = row[j];

			row[j] =
			    MIN(MIN(row[j] + 1, row[j - 1] + 1), diagonal + (x[i - 1] != y[j - 1]));
			diagonal = above;
		}
	}
	return row[lb];
}

/* The visible name closest to NAME, if it is close enough to be a typo. */
static const char *
suggest(const walk_t *w, const char *name)
{
	const char *best = NULL;
	guint best_distance = G_MAXUINT;
	guint limit = MAX(1, (guint)strlen(name) / 3);

	for (const char *const *v = w->entry->info->variables; *v; v++) {
		const char *candidate = *v;
		guint d;

		if (strchr(candidate, '.') != NULL) {
			/* A list field: its short name, when the list is open. */
			gboolean open = FALSE;

			for (guint i = 0; i < w->scopes->len; i++) {
				const scope_t *s = &g_array_index(w->scopes, scope_t, i);
				gsize n = strlen(s->name);

				if (!s->inverted && strncmp(candidate, s->name, n) == 0 &&
				    candidate[n] == '.')
					open = TRUE;
			}
			if (!open)
				continue;
			candidate = strrchr(candidate, '.') + 1;
		}
		d = distance(name, candidate);
		if (d < best_distance) {
			best_distance = d;
			best = candidate;
		}
	}
	return best_distance <= limit ? best : NULL;
}

static void problem(walk_t *w, const tmpl_tag_t *tag, const char *format, ...) G_GNUC_PRINTF(3, 4);

static void
problem(walk_t *w, const tmpl_tag_t *tag, const char *format, ...)
{
	g_autofree char *message = NULL;
	va_list args;

	va_start(args, format);
	message = g_strdup_vprintf(format, args);
	va_end(args);
	if (w->via != NULL) {
		g_autofree char *key =
		    g_strdup_printf("%s:%u:%u: %s", w->file, tag->line, tag->column, message);
		partial_problem_t *p = g_hash_table_lookup(w->in_partials, key);

		if (p == NULL) {
			p = g_new0(partial_problem_t, 1);
			p->file = g_strdup(w->file);
			p->line = tag->line;
			p->column = tag->column;
			p->message = g_steal_pointer(&message);
			p->via = g_strdup(w->via);
			p->kinds = g_ptr_array_new_with_free_func(g_free);
			g_hash_table_insert(w->in_partials, g_steal_pointer(&key), p);
		}
		if (!g_ptr_array_find_with_equal_func(p->kinds, w->entry->kind, g_str_equal, NULL))
			g_ptr_array_add(p->kinds, g_strdup(w->entry->kind));
		return;
	}
	catalogue_add_problem(w->catalogue, w->file, tag->line, tag->column, "%s", message);
}

/* " for kind \"ack\"" in a template; nothing in a partial (the kinds
 * using it are listed once, at the end of the message). */
static const char *
for_kind(const walk_t *w)
{
	static char text[96];

	if (w->via != NULL)
		return "";
	g_snprintf(text, sizeof text, " for kind \"%s\"", w->entry->kind);
	return text;
}

static void
report_partial_problems(catalogue_t *c, GHashTable *in_partials)
{
	GHashTableIter iter;
	gpointer value;

	g_hash_table_iter_init(&iter, in_partials);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		partial_problem_t *p = value;
		g_autoptr(GString) kinds = g_string_new(NULL);

		for (guint i = 0; i < p->kinds->len && i < 4; i++)
			g_string_append_printf(kinds, "%s%s", i ? ", " : "",
			                       (const char *)g_ptr_array_index(p->kinds, i));
		if (p->kinds->len > 4)
			g_string_append_printf(kinds, " and %u more", p->kinds->len - 4);
		catalogue_add_problem(c, p->file, p->line, p->column,
		                      "%s (kind%s %s; included from %s)", p->message,
		                      p->kinds->len > 1 ? "s" : "", kinds->str, p->via);
	}
}

/* ---- resolving names ------------------------------------------------------- */

/* The variable NAME stands for at this point, and its full name. */
static const catalogue_variable_t *
resolve(walk_t *w, const char *name, char **full_out)
{
	const catalogue_kind_t *kind = w->entry->info;

	*full_out = NULL;
	for (guint i = w->scopes->len; i-- > 0;) {
		const scope_t *s = &g_array_index(w->scopes, scope_t, i);
		g_autofree char *field = NULL;

		if (s->inverted || s->variable == NULL || s->variable->type != CATALOGUE_LIST)
			continue;
		field = g_strconcat(s->name, ".", name, NULL);
		if (catalogue_kind_uses(kind, field)) {
			*full_out = g_steal_pointer(&field);
			return catalogue_variable_find(*full_out);
		}
	}
	if (strchr(name, '.') == NULL && catalogue_kind_uses(kind, name)) {
		*full_out = g_strdup(name);
		return catalogue_variable_find(name);
	}
	return NULL;
}

/* Explain why NAME does not resolve. */
static void
unknown(walk_t *w, const tmpl_tag_t *tag, const char *name)
{
	const catalogue_kind_t *kind = w->entry->info;
	const char *dot = strchr(name, '.');
	const char *hint;

	if (dot != NULL) {
		g_autofree char *head = g_strndup(name, (gsize)(dot - name));
		const catalogue_variable_t *v = catalogue_variable_find(head);

		if (v != NULL && v->type == CATALOGUE_LIST && catalogue_kind_uses(kind, name)) {
			problem(w, tag,
			        "{{%s}}: %s is a list; write {{#%s}}…{{%s}}…{{/%s}} to print a "
			        "field of "
			        "each item",
			        name, head, head, dot + 1, head);
			return;
		}
	}
	/* A field of a list that is not open here. */
	for (const char *const *v = kind->variables; *v; v++) {
		const char *field = strrchr(*v, '.');

		if (field != NULL && strcmp(field + 1, name) == 0) {
			g_autofree char *list = g_strndup(*v, (gsize)(field - *v));

			problem(
			    w, tag,
			    "\"%s\" is a field of the items of %s: use it inside {{#%s}}…{{/%s}}",
			    name, list, list, list);
			return;
		}
	}
	if (catalogue_variable_find(name) != NULL) {
		problem(w, tag,
		        "\"%s\" is not available%s (`privacy-inbox templates kinds %s` lists "
		        "what is)",
		        name, w->via ? " here" : for_kind(w), kind->kind);
		return;
	}
	hint = suggest(w, name);
	if (hint != NULL)
		problem(w, tag, "unknown variable \"%s\"%s (did you mean \"%s\"?)", name,
		        for_kind(w), hint);
	else
		problem(w, tag,
		        "unknown variable \"%s\"%s (`privacy-inbox templates kinds %s` lists "
		        "the variables)",
		        name, for_kind(w), kind->kind);
}

/* Is FULL inside a section on itself (so it is set wherever it prints)? */
static gboolean
guarded(const walk_t *w, const char *full)
{
	for (guint i = 0; i < w->scopes->len; i++) {
		const scope_t *s = &g_array_index(w->scopes, scope_t, i);

		if (!s->inverted && strcmp(s->name, full) == 0)
			return TRUE;
	}
	return FALSE;
}

/* ---- the walk -------------------------------------------------------------- */

static void walk_partial(walk_t *w, const tmpl_tag_t *tag);

static void
on_variable(walk_t *w, const tmpl_tag_t *tag)
{
	g_autofree char *full = NULL;
	const catalogue_variable_t *v;

	if (strcmp(tag->name, ".") == 0) {
		const scope_t *s = NULL;

		/* The innermost section that pushed a value (inverted ones do not). */
		for (guint i = w->scopes->len; i-- > 0 && s == NULL;) {
			if (!g_array_index(w->scopes, scope_t, i).inverted)
				s = &g_array_index(w->scopes, scope_t, i);
		}
		if (s == NULL || s->variable == NULL ||
		    (s->variable->type != CATALOGUE_TEXT && s->variable->type != CATALOGUE_NUMBER))
			problem(w, tag, "{{.}} here would print %s; name the variable instead",
			        s == NULL ? "all the data" : "a whole item or a flag");
		return;
	}
	if ((v = resolve(w, tag->name, &full)) == NULL) {
		unknown(w, tag, tag->name);
		return;
	}
	g_hash_table_add(w->used, g_strdup(full));
	if (v->type == CATALOGUE_FLAG)
		problem(
		    w, tag,
		    "\"%s\" is a flag (true or false): use {{#%s}}…{{/%s}} or {{^%s}}…{{/%s}}, not "
		    "{{%s}}",
		    tag->name, tag->name, tag->name, tag->name, tag->name, tag->name);
	else if (v->type == CATALOGUE_LIST)
		problem(w, tag,
		        "\"%s\" is a list: use {{#%s}}…{{/%s}} and print its items' fields inside",
		        tag->name, tag->name, tag->name);
	else if (v->optional && !catalogue_kind_requires(w->entry->info, full) && !guarded(w, full))
		problem(w, tag,
		        "{{%s}} may be unset%s and would print as nothing: put it inside "
		        "{{#%s}}…{{/%s}}",
		        tag->name, for_kind(w), tag->name, tag->name);
}

static void
on_section(walk_t *w, const tmpl_tag_t *tag, gboolean inverted)
{
	scope_t s = {NULL, NULL, inverted};

	s.variable = resolve(w, tag->name, &s.name);
	if (s.variable == NULL) {
		unknown(w, tag, tag->name);
		s.name = g_strdup(tag->name);
	} else {
		g_hash_table_add(w->used, g_strdup(s.name));
	}
	g_array_append_val(w->scopes, s);
}

static void
visit(const tmpl_tag_t *tag, gpointer user_data)
{
	walk_t *w = user_data;

	switch (tag->kind) {
	case TMPL_TAG_VARIABLE:
		on_variable(w, tag);
		break;
	case TMPL_TAG_SECTION:
	case TMPL_TAG_INVERTED:
		on_section(w, tag, tag->kind == TMPL_TAG_INVERTED);
		break;
	case TMPL_TAG_END:
		if (w->scopes->len > 0) {
			g_free(g_array_index(w->scopes, scope_t, w->scopes->len - 1).name);
			g_array_set_size(w->scopes, w->scopes->len - 1);
		}
		break;
	case TMPL_TAG_PARTIAL:
		walk_partial(w, tag);
		break;
	}
}

static void
walk_partial(walk_t *w, const tmpl_tag_t *tag)
{
	partial_t *p = catalogue_partial(w->catalogue, w->entry->lang, tag->name);
	const char *file = w->file;
	char *via = w->via;

	if (p == NULL) {
		problem(w, tag, "unknown partial \"%s\" (there is no %s/partials/%s.tmpl)",
		        tag->name, w->entry->lang, tag->name);
		w->entry->bad = TRUE;
		return;
	}
	g_hash_table_add(w->found, p);
	if (g_ptr_array_find(w->stack, p, NULL)) {
		problem(w, tag, "partial \"%s\" includes itself", tag->name);
		w->entry->bad = TRUE;
		return;
	}
	if (p->tmpl == NULL) {
		w->entry->bad = TRUE; /* its own syntax error is reported at the partial */
		return;
	}
	g_ptr_array_add(w->stack, p);
	if (via == NULL)
		w->via = g_strdup_printf("%s:%u:%u", w->file, tag->line, tag->column);
	w->file = p->rel;
	tmpl_visit(p->tmpl, visit, w);
	w->file = file;
	if (via == NULL)
		g_clear_pointer(&w->via, g_free);
	g_ptr_array_set_size(w->stack, w->stack->len - 1);
}

static void
walk(walk_t *w, const tmpl_t *part)
{
	w->file = w->entry->rel;
	tmpl_visit(part, visit, w);
	for (guint i = 0; i < w->scopes->len; i++)
		g_free(g_array_index(w->scopes, scope_t, i).name);
	g_array_set_size(w->scopes, 0);
}

/* ---- a sample rendering ------------------------------------------------------ */

static gint
compare_partials(gconstpointer a, gconstpointer b)
{
	return strcmp((*(partial_t *const *)a)->name, (*(partial_t *const *)b)->name);
}

/* Render E with its kind's sample data: what no static look can see (a
 * partial that puts a line break into the subject, an empty subject). */
static void
render_sample(catalogue_t *c, entry_t *e)
{
	g_autoptr(JsonNode) context = catalogue_sample_context(e->info, e->lang);
	g_autoptr(GError) error = NULL;
	tmpl_options_t options = {0};
	g_autofree char *subject = NULL;
	g_autofree char *body = NULL;

	subject = catalogue_render_part(c, e, e->subject, context, &options, &error);
	if (subject == NULL) {
		catalogue_add_problem(c, e->rel, e->subject_line, e->subject_column, "%s",
		                      error->message);
		return;
	}
	if (strpbrk(subject, "\r\n") != NULL)
		catalogue_add_problem(c, e->rel, e->subject_line, e->subject_column,
		                      "the subject must render as one line; this one has a line "
		                      "break (from a partial?)");
	else if (*g_strstrip(subject) == '\0')
		catalogue_add_problem(c, e->rel, e->subject_line, e->subject_column,
		                      "the subject renders empty");
	body = catalogue_render_part(c, e, e->body, context, &options, &error);
	if (body == NULL)
		catalogue_add_problem(c, e->rel, 1, 1, "%s", error->message);
}

/* ---- the whole catalogue --------------------------------------------------------- */

static void
check_entry(catalogue_t *c, entry_t *e, GHashTable *in_partials)
{
	walk_t w = {0};
	guint before = c->problems->len;
	GHashTableIter iter;
	gpointer key;

	if (e->info == NULL) {
		const char *best = NULL;
		guint best_distance = 3;

		for (const catalogue_kind_t *k = catalogue_kinds(); k->kind; k++) {
			guint d = distance(e->kind, k->kind);

			if (d < best_distance) {
				best_distance = d;
				best = k->kind;
			}
		}
		if (best != NULL)
			catalogue_add_problem(c, e->rel, 1, 1,
			                      "unknown kind \"%s\" (did you mean \"%s\"?)", e->kind,
			                      best);
		else
			catalogue_add_problem(
			    c, e->rel, 1, 1,
			    "unknown kind \"%s\" (`privacy-inbox templates kinds` lists "
			    "them)",
			    e->kind);
		e->bad = TRUE;
		return;
	}
	w.catalogue = c;
	w.entry = e;
	w.scopes = g_array_new(FALSE, TRUE, sizeof(scope_t));
	w.stack = g_ptr_array_new();
	w.used = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	w.found = g_hash_table_new(g_direct_hash, g_direct_equal);
	w.in_partials = in_partials;
	if (e->subject != NULL)
		walk(&w, e->subject);
	if (e->body != NULL)
		walk(&w, e->body);
	if (e->subject != NULL && e->body != NULL) {
		for (const char *const *r = e->info->required; *r; r++) {
			if (!g_hash_table_contains(w.used, *r))
				catalogue_add_problem(
				    c, e->rel, 1, 1,
				    "kind \"%s\" requires {{%s}} but the template never "
				    "uses it",
				    e->kind, *r);
		}
	}
	g_hash_table_iter_init(&iter, w.found);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		partial_t *p = key;

		g_ptr_array_add(e->partials, p);
		if (p->bad)
			e->bad = TRUE;
	}
	g_ptr_array_sort(e->partials, compare_partials);
	if (c->problems->len > before || e->subject == NULL || e->body == NULL)
		e->bad = TRUE;
	if (!e->bad)
		render_sample(c, e);
	g_array_unref(w.scopes);
	g_ptr_array_unref(w.stack);
	g_hash_table_unref(w.used);
	g_hash_table_unref(w.found);
}

void
catalogue_check(catalogue_t *c)
{
	GHashTable *in_partials =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, partial_problem_free);
	GHashTableIter iter;
	gpointer value;

	/* A partial with a problem of its own makes every template using it bad. */
	for (guint i = 0; i < c->problems->len; i++) {
		const catalogue_problem_t *p = g_ptr_array_index(c->problems, i);

		g_hash_table_iter_init(&iter, c->partials);
		while (g_hash_table_iter_next(&iter, NULL, &value)) {
			partial_t *partial = value;

			if (g_str_has_suffix(p->file, partial->rel))
				partial->bad = TRUE;
		}
	}
	for (const catalogue_kind_t *k = catalogue_kinds(); k->kind; k++) {
		for (const char *const *lang = catalogue_languages(); *lang; lang++) {
			g_autofree char *key = g_strdup_printf("%s/%s", *lang, k->kind);
			g_autofree char *rel = NULL;
			const char *other = strcmp(*lang, "ja") == 0 ? "en" : "ja";
			g_autofree char *other_key = g_strdup_printf("%s/%s", other, k->kind);

			if (g_hash_table_contains(c->entries, key))
				continue;
			rel = g_strdup_printf("%s/%s.tmpl", *lang, k->kind);
			catalogue_add_problem(c, rel, 1, 1,
			                      "missing: kind \"%s\" needs a template in %s%s",
			                      k->kind, *lang,
			                      g_hash_table_contains(c->entries, other_key)
			                          ? " as well"
			                          : " and in the other language");
		}
	}
	/* In kinds.c order, so merged messages list the kinds the same way each time. */
	for (const catalogue_kind_t *k = catalogue_kinds(); k->kind; k++) {
		for (const char *const *lang = catalogue_languages(); *lang; lang++) {
			g_autofree char *key = g_strdup_printf("%s/%s", *lang, k->kind);
			entry_t *e = g_hash_table_lookup(c->entries, key);

			if (e != NULL)
				check_entry(c, e, in_partials);
		}
	}
	g_hash_table_iter_init(&iter, c->entries);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		if (((entry_t *)value)->info == NULL)
			check_entry(c, value, in_partials);
	}
	report_partial_problems(c, in_partials);
	g_hash_table_unref(in_partials);
}
