/* daemon.h — what `run` (daemon.c), its alerts (alerts.c) and `status`
 * (cmd_status.c) share. */
#pragma once

#include "cli/pipeline.h"

/* Alert kinds: one open incident per kind at a time. */
#define ALERT_INGESTION "ingestion" /* fetching failed or stalled beyond the threshold */
#define ALERT_MISMATCH "mismatch"   /* the server holds mail our checkpoint says is done */
#define ALERT_AUTH "auth"           /* login or token refresh refused, or about to fail */

/* Open an incident of KIND (logged once, when it opens); a later
 * alerts_notify() mails it. */
void alerts_raise(store_t *store, const char *kind, const char *detail);
/* Resolve the open incident of KIND, if any (logged once). */
void alerts_clear(store_t *store, const char *kind);
/* Mail every notice still due (an opening or a recovery) to [daemon]
 * alert_to through the configured SMTP server; a failed send is tried
 * again at the next call. */
void alerts_notify(pipeline_t *pipeline, const config_t *config);

/* Daemon state keys (store_daemon_set) that `status` reads. */
#define STATE_PID "pid"
#define STATE_STARTED "started_at"
#define STATE_CONNECTION "connection" /* connecting|idle|polling|disconnected|stopped */
#define STATE_SERVER "server"
#define STATE_MAILBOX "mailbox"
#define STATE_LAST_POLL_OK "last_poll_ok"
#define STATE_LAST_ERROR "last_error"
#define STATE_LAST_ERROR_AT "last_error_at"
#define STATE_OUTAGE_SINCE "outage_since"
#define STATE_SERVER_MESSAGES "server_messages"
#define STATE_SERVER_UNPROCESSED "server_unprocessed"
#define STATE_LAST_UID "last_uid"
#define STATE_UIDVALIDITY "uidvalidity"
#define STATE_TOKEN_EXPIRES "token_expires_at"
#define STATE_PUSH "push" /* "idle" or "poll" */
