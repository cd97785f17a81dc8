/* catalogue-private.h — what catalogue.c (reading, rendering) and check.c
 * (`templates check`) share; not for other modules. */
#pragma once

#include "templates/catalogue.h"

/* A partial: DIR/LANG/partials/NAME.tmpl. */
typedef struct {
	char *lang, *name;
	char *rel, *path; /* "ja/partials/fee.tmpl", and DIR/ja/partials/fee.tmpl */
	char *text;
	char *hash;
	gint64 mtime;
	tmpl_t *tmpl; /* NULL when it does not parse */
	gboolean bad; /* a problem names this file */
} partial_t;

/* A template: DIR/LANG/KIND.tmpl. */
typedef struct {
	const catalogue_kind_t *info; /* NULL: no such kind */
	char *kind, *lang;
	char *rel, *path;
	char *text;
	gint64 mtime;
	char *description;
	gboolean auto_send;
	gboolean has_subject;
	guint subject_line, subject_column; /* where the Subject: value starts */
	tmpl_t *subject, *body;             /* NULL when they do not parse */
	gboolean bad;                       /* a problem names this file or a partial it uses */
	GPtrArray *partials;                /* partial_t* it uses, directly or not, by name */
	char *hash;                         /* the version */
	char *partials_json;
	catalogue_version_t version; /* points into the fields above */
} entry_t;

struct catalogue {
	char *dir;
	GHashTable *entries;  /* "lang/kind" → entry_t* */
	GHashTable *partials; /* "lang/name" → partial_t* */
	GPtrArray *problems;  /* catalogue_problem_t* */
	GHashTable *seen;     /* formatted problems, so each is reported once */
	char *fingerprint;
};

/* Record a problem at FILE:LINE:COLUMN (once). */
void catalogue_add_problem(catalogue_t *catalogue, const char *file, guint line, guint column,
                           const char *format, ...) G_GNUC_PRINTF(5, 6);

/* The partial NAME in LANG, or NULL. */
partial_t *catalogue_partial(catalogue_t *catalogue, const char *lang, const char *name);

/* Check what was read (check.c): every problem that needs more than one
 * file at a time (kinds, languages, variables, partials, a sample
 * rendering), and the partials each template uses (entry->partials). */
void catalogue_check(catalogue_t *catalogue);

/* Render E with CONTEXT (catalogue.c); OPTIONS' partial lookup is filled in. */
char *catalogue_render_part(catalogue_t *catalogue, const entry_t *e, const tmpl_t *part,
                            JsonNode *context, tmpl_options_t *options, GError **error);
