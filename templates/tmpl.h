/* tmpl.h — the Mustache engine (https://mustache.github.io/mustache.5.html):
 * variables, sections, inverted sections, comments, partials and set
 * delimiters.  It passes the official spec (tests/templates/spec/).
 *
 * The engine does no I/O: template text comes in as a string, data as a
 * json-glib JsonNode (the same model `templates render --data` reads), and
 * partials through a callback.
 *
 * Escaping is a mode: TMPL_ESCAPE_HTML escapes {{x}} (& < > " ' as the spec
 * wants) and is used for HTML and for the spec tests; TMPL_ESCAPE_NONE is for
 * plain-text mail, where {{x}} and {{{x}}} render the same.
 */
#pragma once

#include "common/common.h"

#include <json-glib/json-glib.h>

#define TMPL_ERROR (tmpl_error_quark())
GQuark tmpl_error_quark(void);

typedef enum {
	TMPL_ESCAPE_HTML,
	TMPL_ESCAPE_NONE,
} tmpl_escape_t;

typedef struct tmpl tmpl_t;

/* Returns the text of partial NAME (caller of the callback frees it with
 * g_free()), or NULL when there is no such partial (rendered as empty). */
typedef char *(*tmpl_partial_fn)(const char *name, gpointer user_data);

/* A name the template refers to, with where it stands. */
typedef struct {
	char *name;          /* "a.b.c", or "." */
	guint line;          /* 1-based */
	guint column;        /* 1-based, in characters */
	gboolean is_section; /* {{#x}} or {{^x}} */
	char *partial;       /* missing names: the partial the tag is in (line and column
	                      * are then those of the partial tag), or NULL */
} tmpl_name_t;

typedef struct {
	tmpl_escape_t escape;
	tmpl_partial_fn partial; /* may be NULL: every partial is empty */
	gpointer partial_data;
	/* Optional: filled with every variable name (tmpl_name_t*) that resolved
	 * to nothing while rendering (missing key, or null).  Caller-owned array
	 * created with g_ptr_array_new_with_free_func(tmpl_name_free). */
	GPtrArray *missing;
	/* Also count as missing a string that is empty or only white space
	 * (what a reader would see as a blank). */
	gboolean blank_is_missing;
	/* Print a missing variable as "{{name}}" instead of nothing, so a
	 * preview shows where the gap is. */
	gboolean mark_missing;
} tmpl_options_t;

/* Parse TEXT (LEN bytes, or -1 for NUL-terminated); NAME is used in error
 * messages, which read "NAME:LINE:COLUMN: message" (code PI_ERROR_MESSAGE).
 * Caller frees with tmpl_free(). */
tmpl_t *tmpl_parse(const char *text, gssize len, const char *name, GError **error);
/* The same for text that starts at LINE:COLUMN of a file (a template body
 * after its header block, a Subject: value), so every position reported
 * while parsing or rendering is the file's. */
tmpl_t *tmpl_parse_at(const char *text, gssize len, const char *name, guint line, guint column,
                      GError **error);
void tmpl_free(tmpl_t *tmpl);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(tmpl_t, tmpl_free)

/* Render with CONTEXT (any JsonNode; NULL is an empty object).
 * Partials are parsed when first used; a syntax error in a partial is an
 * error naming the partial.  Caller frees the result with g_free(). */
char *tmpl_render(const tmpl_t *tmpl, JsonNode *context, const tmpl_options_t *options,
                  GError **error);

/* Every name the template itself uses (not its partials), in order, so
 * `templates check` can compare them with a kind's variable set.
 * Returns a new array of tmpl_name_t* (free with g_ptr_array_unref()). */
GPtrArray *tmpl_names(const tmpl_t *tmpl);
/* Every partial name the template itself uses, in order (char*, array owns them). */
GPtrArray *tmpl_partials(const tmpl_t *tmpl);

void tmpl_name_free(gpointer name);

/* Walking the tags of a template in order (not into its partials), for
 * checks that need the nesting: `templates check` resolves names the way
 * rendering will, list fields inside their section. */
typedef enum {
	TMPL_TAG_VARIABLE, /* {{x}} {{{x}}} {{&x}} */
	TMPL_TAG_SECTION,  /* {{#x}}: its tags follow, then TMPL_TAG_END */
	TMPL_TAG_INVERTED, /* {{^x}}: likewise */
	TMPL_TAG_END,      /* the end of the innermost section (name and position of its opening) */
	TMPL_TAG_PARTIAL,  /* {{>x}} */
} tmpl_tag_kind_t;

typedef struct {
	tmpl_tag_kind_t kind;
	const char *name; /* borrowed for the call */
	guint line, column;
} tmpl_tag_t;

typedef void (*tmpl_visit_fn)(const tmpl_tag_t *tag, gpointer user_data);
void tmpl_visit(const tmpl_t *tmpl, tmpl_visit_fn visit, gpointer user_data);
