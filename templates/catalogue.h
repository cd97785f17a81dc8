/* catalogue.h — the reply templates admins own: one file per kind and
 * language, DIR/LANG/KIND.tmpl, with partials in DIR/LANG/partials/NAME.tmpl
 * (LANG is ja or en; every kind has both).
 *
 * A template file is a header block, a blank line, then the body:
 *
 *     Subject: 【受付のご連絡】{{request_type}}のご請求について [{{reference}}]
 *     Auto-Send: allowed
 *     Description: 受付のご連絡
 *
 *     {{>greeting}}
 *     …
 *
 * Header keys: Subject (required, one line), Auto-Send (allowed|never,
 * default never: whether policy may send this kind without approval; the
 * configuration's [policy] auto_send must also list it), Description.
 * Subject and body are Mustache (tmpl.h) rendered in plain-text mode.
 *
 * Kinds and the variables each may use are listed in ONE place,
 * templates/kinds.c: the router fills them, `templates check` compares every
 * template with them, `templates kinds` documents them and preview renders
 * with their sample values.
 *
 * catalogue_read() reads every file once and checks it; rendering uses what
 * was read, so a catalogue is an immutable snapshot that one thread at a
 * time may render from.  The only other I/O is catalogue_scan_fingerprint(),
 * which reads the files to tell whether they changed.
 *
 * Versions.  The version of a template is the SHA-256 of its file and of
 * the partials it uses (name and text, in name order): a new signature
 * partial is a new version of every reply that includes it.  A rendering
 * carries its version's text so the store can keep every wording used.
 */
#pragma once

#include "common/common.h"
#include "templates/tmpl.h"

typedef struct catalogue catalogue_t;

/* ---- kinds and their variables (templates/kinds.c) ----------------------- */

typedef enum {
	CATALOGUE_TEXT,   /* a string: {{x}}, or {{#x}}…{{/x}} to show a part only when set */
	CATALOGUE_NUMBER, /* an integer: {{x}}; {{#x}} is false for 0 */
	CATALOGUE_FLAG,   /* true/false: only {{#x}}…{{/x}} and {{^x}}…{{/x}} */
	CATALOGUE_LIST,   /* items: {{#x}}…{{/x}} repeats for each; an item's fields
	                   * are the rows named "x.field" */
} catalogue_type_t;

typedef struct {
	const char *name; /* "reference", or "request_types.label" for a list field */
	catalogue_type_t type;
	/* May be unset (no name in the mail, no bank account configured…):
	 * then a template prints it only inside {{#name}}…{{/name}}, unless its
	 * kind requires it (see catalogue_kind_t.required). */
	gboolean optional;
	const char *description; /* for admins (`templates kinds KIND`) */
	/* What preview shows without a ticket.  A list's fields give one value
	 * per item separated by "|" ("開示|利用停止" is two items); a flag is
	 * "true" or "false". */
	const char *sample_ja, *sample_en;
} catalogue_variable_t;

typedef enum {
	CATALOGUE_TO_REQUESTER, /* a reply about a ticket, to the person who asked */
	CATALOGUE_TO_STAFF,     /* the daily digest */
	CATALOGUE_TO_ADMINS,    /* alerts about the daemon */
} catalogue_audience_t;

typedef struct {
	const char *kind;
	const char *description;
	catalogue_audience_t audience;
	const char *const *variables; /* NULL-terminated: what it may use (list fields too) */
	const char *const *required;  /* NULL-terminated: what must be set (not empty) for
	                               * a rendering to be sendable */
} catalogue_kind_t;

/* The known kinds, terminated by a row with kind == NULL.  Static. */
const catalogue_kind_t *catalogue_kinds(void);
const catalogue_kind_t *catalogue_kind_find(const char *kind);
/* Every documented variable, terminated by a row with name == NULL.  Static. */
const catalogue_variable_t *catalogue_variables(void);
const catalogue_variable_t *catalogue_variable_find(const char *name);
gboolean catalogue_kind_uses(const catalogue_kind_t *kind, const char *variable);
gboolean catalogue_kind_requires(const catalogue_kind_t *kind, const char *variable);
/* "text", "number", "flag", "list". */
const char *catalogue_type_name(catalogue_type_t type);

/* The documented sample values of KIND's variables in LANG, as the JSON
 * object a rendering takes.  Caller unrefs. */
JsonNode *catalogue_sample_context(const catalogue_kind_t *kind, const char *lang);

/* The languages a catalogue holds, NULL-terminated: {"ja", "en"}. */
const char *const *catalogue_languages(void);

/* ---- reading and checking ------------------------------------------------ */

/* One thing wrong with the catalogue, at FILE:LINE:COLUMN (1-based, the
 * column in characters). */
typedef struct {
	char *file;
	guint line, column;
	char *message;
} catalogue_problem_t;
void catalogue_problem_free(gpointer problem);
/* "FILE:LINE:COLUMN: MESSAGE"; caller g_free()s. */
char *catalogue_problem_format(const catalogue_problem_t *problem);

/* Read every template and partial under DIR and check them (what
 * `templates check` reports: syntax, UTF-8, line length, header block,
 * one-line subjects, known kinds, both languages, every variable known to
 * its kind and used the way its type allows, required variables used,
 * partials that exist and do not include themselves, a rendering of the
 * sample data).  Returns NULL only when DIR itself cannot be read; the
 * problems found are in catalogue_problems().  Caller frees with
 * catalogue_free(). */
catalogue_t *catalogue_read(const char *dir, GError **error);

/* catalogue_read(), but a catalogue with any problem is an error
 * (PI_ERROR_MESSAGE, "FILE:LINE:COLUMN: message (and N more problems…)");
 * PI_ERROR_FATAL when DIR cannot be read.  What the daemon runs with. */
catalogue_t *catalogue_load(const char *dir, GError **error);
void catalogue_free(catalogue_t *catalogue);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(catalogue_t, catalogue_free)

/* The problems found when reading (catalogue_problem_t*, sorted by file,
 * line and column); borrowed.  Empty when the catalogue is good. */
const GPtrArray *catalogue_problems(const catalogue_t *catalogue);
/* The folder read; borrowed. */
const char *catalogue_dir(const catalogue_t *catalogue);

/* SHA-256 over the names and bytes of every file that catalogue_read()
 * would read in DIR, so a caller can tell cheaply whether anything changed
 * since CATALOGUE was read (compare with catalogue_fingerprint()).
 * Caller g_free()s; NULL with an error when DIR cannot be read. */
char *catalogue_scan_fingerprint(const char *dir, GError **error);
/* The fingerprint of the files CATALOGUE was read from; borrowed. */
const char *catalogue_fingerprint(const catalogue_t *catalogue);

/* ---- what is in it ------------------------------------------------------- */

/* One version of one template: the wording a reply came from. */
typedef struct {
	const char *kind, *language;
	const char *hash;     /* the version (see the top of this file) */
	const char *text;     /* the template file as read */
	const char *partials; /* the partials it uses, a JSON object {"name": "text"} */
} catalogue_version_t;

/* One file of the catalogue, for `templates list`. */
typedef struct {
	const char *name; /* relative to the folder: "ja/ack.tmpl", "ja/partials/fee.tmpl" */
	const char *path;
	const char *kind; /* NULL for a partial */
	const char *language;
	const char *version; /* kinds: the version; partials: SHA-256 of the file */
	gint64 modified;     /* Unix time of the last change */
	const char *description;
	gboolean auto_send;
	gboolean problems; /* catalogue_problems() names this file */
} catalogue_file_t;

/* Every file read, kinds first (in kinds.c order, ja before en), then
 * partials by name.  The array is the caller's (g_ptr_array_unref); the
 * rows are borrowed from CATALOGUE. */
GPtrArray *catalogue_files(catalogue_t *catalogue);

/* Does the catalogue hold KIND in LANG? */
gboolean catalogue_has(catalogue_t *catalogue, const char *kind, const char *lang);
/* The version of KIND in LANG, or NULL; borrowed from CATALOGUE. */
const catalogue_version_t *catalogue_version(catalogue_t *catalogue, const char *kind,
                                             const char *lang);

/* ---- rendering ----------------------------------------------------------- */

typedef struct {
	char *subject;
	char *body;
	const char *hash;                   /* = version->hash; borrowed */
	const catalogue_version_t *version; /* borrowed from the catalogue */
	gboolean auto_send;                 /* the template allows sending without approval */
	GPtrArray *missing;                 /* tmpl_name_t*: variables that rendered empty */
	GPtrArray *unset;                   /* char*: required variables the context left empty */
	char *problem;                      /* one line naming what is unfilled, or NULL */
} catalogue_rendering_t;
void catalogue_rendering_free(catalogue_rendering_t *rendering);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(catalogue_rendering_t, catalogue_rendering_free)

/* Render KIND in LANG (falling back to the other language when missing)
 * with CONTEXT (a JSON object) for sending.  CR/LF and control characters
 * are removed from the subject, and a reply to a requester always carries
 * "[reference]" in it.  A rendering that leaves a variable it prints empty
 * or unknown, or a variable the kind requires unset, is NOT sendable: that
 * is an error (PI_ERROR_MESSAGE, naming the variables and where they are),
 * so no caller can store it as a draft by mistake.  PI_ERROR_NOT_FOUND for
 * an unknown kind.  Caller frees with catalogue_rendering_free(). */
catalogue_rendering_t *catalogue_render(catalogue_t *catalogue, const char *kind, const char *lang,
                                        JsonNode *context, GError **error);

/* The same for a preview: an unfilled variable is no error; it is printed
 * as "{{name}}" and listed in rendering->missing / ->unset, with
 * rendering->problem saying why this would not be sent. */
catalogue_rendering_t *catalogue_preview(catalogue_t *catalogue, const char *kind, const char *lang,
                                         JsonNode *context, GError **error);
