/* request_type.h — the domain vocabulary of request types, shared by the
 * parser (which detects them), the router (which drafts for them), the
 * templates (which name them in words) and the command line. */
#pragma once

#include <glib.h>

/* The identifiers, in a fixed order ("inquiry" last). NULL-terminated. */
extern const char *const request_type_ids[];

gboolean request_type_is_valid(const char *id);

/* The type in words for a reply, in LANG ("ja" or "en"); borrowed, static.
 * Unknown ids return the id itself. */
const char *request_type_label(const char *id, const char *lang);
