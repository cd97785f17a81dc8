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

/* One pass over the configured mailbox.  A stop request (SIGTERM) ends it
 * after the current message with G_IO_ERROR_CANCELLED. */
gboolean pipeline_fetch_pass(pipeline_t *pipeline, pipeline_stats_t *stats, GError **error);

/* Route one message read from FD (a file or stdin). */
gboolean pipeline_ingest_fd(pipeline_t *pipeline, int fd, pipeline_stats_t *stats,
                            GError **error);

/* Send every approved reply that is due.  Returns FALSE when SMTP is not
 * configured but replies wait, or when the store fails; individual send
 * failures stay in the outbox and are counted in stats->send_failed. */
gboolean pipeline_send_outbox(pipeline_t *pipeline, pipeline_stats_t *stats, GError **error);

/* Exit with 99 when PRIVACY_INBOX_FAULT names POINT (see above). */
void pipeline_fault_point(const char *point);
