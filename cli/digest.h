/* digest.h — the daily digest for staff: what is overdue, what is due in
 * the next days, what waits for a person.  `privacy-inbox digest` prints or
 * sends it; `run` sends it once a day at [policy] digest_hour. */
#pragma once

#include "cli/pipeline.h"

/* The digest's variables (the `digest` kind in templates/kinds.c) as of now,
 * in the language LANG.  Caller unrefs. */
JsonNode *digest_context(const config_t *config, store_t *store, const char *lang,
                         GError **error);

/* Render and send the digest to [policy] staff_address now. */
gboolean digest_send(pipeline_t *pipeline, const config_t *config, GError **error);

/* Send today's digest when the local hour has reached digest_hour and it
 * has not gone out today (once a day, whatever restarts).  FALSE only on
 * an error worth logging. */
gboolean digest_send_if_due(pipeline_t *pipeline, const config_t *config, GError **error);
