/* pipeline.h — wires the modules for `fetch`, `run`, `ingest` and `send`:
 * fetcher → spool → router (parser, store, templates) and outbox → sender.
 *
 * Crash-safety order for fetched mail: the raw message is written to the
 * spool and fsynced, the router commits it (with the mailbox checkpoint and
 * a "pending server update" row) in one transaction, and only then is the
 * message moved or flagged on the server; the pending row is cleared after
 * that.  A crash between commit and server update leaves the row, and the
 * next pass finishes the update first.  Nothing is deleted from the server
 * before it is committed here.
 *
 * Fault injection for tests (isync's -T idea): PRIVACY_INBOX_FAULT=POINT[:N]
 * makes the process exit with status 99 the Nth time (default 1st) it reaches
 * POINT: "after-commit" (a message committed, server not yet updated),
 * "before-commit" (parsed, nothing committed), "after-send" (the SMTP server
 * accepted a reply, the store not yet updated).
 */
#pragma once

#include "cli/cli.h"
#include "cli/credentials.h"
#include "fetcher/fetcher.h"
#include "router/router.h"

typedef struct {
	guint fetched;
	guint tickets;
	guint follow_ups;
	guint automatic;
	guint duplicates;
	guint triage;
	guint sent;
	guint send_failed;
} pipeline_stats_t;

typedef struct pipeline pipeline_t;

/* Report one line (a routed message, a sent reply): printed by `fetch --once`,
 * logged by `run`. */
typedef void (*pipeline_report_fn)(const char *line);

pipeline_t *pipeline_open(cli_t *cli, pipeline_report_fn report, GError **error);
void pipeline_free(pipeline_t *pipeline);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(pipeline_t, pipeline_free)

/* OAuth2 access tokens for IMAP and SMTP (auth = xoauth2); borrowed, must
 * outlive the pipeline.  Without them only passwords work. */
void pipeline_set_credentials(pipeline_t *pipeline, credentials_t *credentials);
/* The pipeline's store and the catalogue in use; borrowed. */
store_t *pipeline_store(pipeline_t *pipeline);
catalogue_t *pipeline_catalogue(pipeline_t *pipeline);

/* One pass over the configured mailbox: connect, pipeline_sync(), log out.
 * A stop request (SIGTERM) ends it after the current message with
 * G_IO_ERROR_CANCELLED. */
gboolean pipeline_fetch_pass(pipeline_t *pipeline, pipeline_stats_t *stats, GError **error);

/* Connect and log in as configured (password, or an OAuth2 access token,
 * refreshed and tried once more when the server refuses it).  Caller frees
 * with fetcher_free(). */
fetcher_t *pipeline_connect(pipeline_t *pipeline, GError **error);

typedef struct {
	guint32 uidvalidity;
	guint32 last_uid;   /* the checkpoint after the pass */
	guint exists;       /* messages in the mailbox when selected */
	guint unprocessed;  /* of them, above the checkpoint when the pass started */
} pipeline_sync_t;

/* Bring the store up to date with the mailbox over the open connection F:
 * SELECT, check UIDVALIDITY (a new one means a re-scan, deduplicated by
 * Message-ID and content), finish pending server updates, fetch what is
 * above the checkpoint in batches of imap.batch_size (spool + fsync → one
 * transaction per message → server update → pending row cleared), as
 * pipeline_fetch_pass() does.  SYNC_OUT (may be NULL) says what it saw. */
gboolean pipeline_sync(pipeline_t *pipeline, fetcher_t *f, pipeline_stats_t *stats,
                       pipeline_sync_t *sync_out, GError **error);

/* Send MESSAGE to TO over the configured SMTP server (password or OAuth2). */
gboolean pipeline_send_message(pipeline_t *pipeline, GMimeMessage *message, const char *to,
                               GError **error);

/* Reload the template catalogue when a file in [templates] dir changed
 * (compared by content).  A catalogue that fails `templates check` never
 * replaces the one in use: its problems are logged (FILE:LINE:COLUMN each)
 * and raised once as an admin alert of kind "templates", and replies keep
 * the last good wording; the alert is resolved once good files load.
 * Returns TRUE when the catalogue in use matches the files.  Called at the
 * start of every pipeline_sync(), and by `run` on SIGHUP. */
gboolean pipeline_refresh_templates(pipeline_t *pipeline);

/* Route one message read from FD (a file or stdin). */
gboolean pipeline_ingest_fd(pipeline_t *pipeline, int fd, pipeline_stats_t *stats,
                            GError **error);

/* Send every approved reply that is due.  Returns FALSE when SMTP is not
 * configured but replies wait, or when the store fails; individual send
 * failures stay in the outbox and are counted in stats->send_failed. */
gboolean pipeline_send_outbox(pipeline_t *pipeline, pipeline_stats_t *stats, GError **error);

/* Exit with 99 when PRIVACY_INBOX_FAULT names POINT (see above). */
void pipeline_fault_point(const char *point);
