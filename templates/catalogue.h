/* catalogue.h — the reply templates admins own: one file per kind and
 * language, DIR/LANG/KIND.tmpl, with partials in DIR/LANG/partials/NAME.tmpl.
 *
 * A template file is a header block, a blank line, then the body:
 *
 *     Subject: 個人情報の開示等のご請求について [{{reference}}]
 *     Auto-Send: allowed
 *
 *     {{>greeting}}
 *     …
 *
 * Header keys: Subject (required, one line), Auto-Send (allowed|never,
 * default never: whether policy may send this kind without approval; the
 * configuration's [policy] auto_send must also list it), Description.
 * Subject and body are Mustache (tmpl.h) rendered in plain-text mode.
 *
 * catalogue_load() reads every file once (the only I/O here); rendering
 * uses what was read, so a catalogue is an immutable snapshot.
 */
#pragma once

#include "common/common.h"
#include "templates/tmpl.h"

typedef struct catalogue catalogue_t;

/* What a kind is for and which variables it may use. */
typedef struct {
	const char *kind;
	const char *description;
	const char *const *variables; /* NULL-terminated; see templates/kinds.c */
} catalogue_kind_t;

/* The known kinds, NULL-terminated by a row with kind == NULL. */
const catalogue_kind_t *catalogue_kinds(void);
const catalogue_kind_t *catalogue_kind_find(const char *kind);

typedef struct {
	char *subject;
	char *body;
	const char *hash;      /* content hash of the template file (its version); borrowed */
	gboolean auto_send;    /* the template allows sending without approval */
	GPtrArray *missing;    /* tmpl_name_t*: variables that rendered empty */
} catalogue_rendering_t;
void catalogue_rendering_free(catalogue_rendering_t *rendering);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(catalogue_rendering_t, catalogue_rendering_free)

/* Load DIR.  Every file must parse; the first problem is an error
 * "FILE:LINE:COLUMN: message".  Caller frees with catalogue_free(). */
catalogue_t *catalogue_load(const char *dir, GError **error);
void catalogue_free(catalogue_t *catalogue);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(catalogue_t, catalogue_free)

/* Does the catalogue hold KIND in LANG? */
gboolean catalogue_has(catalogue_t *catalogue, const char *kind, const char *lang);

/* Render KIND in LANG (falling back to the other language when missing)
 * with CONTEXT (a JSON object).  CR/LF and control characters are removed
 * from the rendered subject.  Caller frees with catalogue_rendering_free(). */
catalogue_rendering_t *catalogue_render(catalogue_t *catalogue, const char *kind,
                                        const char *lang, JsonNode *context, GError **error);
