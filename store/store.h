/* store.h — persistence: the SQLite database (schema, migrations, every
 * query; the only module with SQL) and the spool folder (raw messages and
 * ID documents, named by SHA-256, files 0600 in folders 0700).
 *
 * The database runs in WAL mode with a busy timeout, so staff commands and
 * the daemon share it; writers use BEGIN IMMEDIATE and keep transactions
 * short.  All times are ISO 8601 UTC strings ("2026-11-28T09:15:00Z").
 *
 * Errors (STORE_ERROR): PI_ERROR_TEMPORARY for SQLITE_BUSY/LOCKED,
 * PI_ERROR_NOT_FOUND for a missing ticket/draft, PI_ERROR_REFUSED for an
 * operation the current state does not allow, PI_ERROR_FATAL otherwise.
 */
#pragma once

#include "common/common.h"

#include <json-glib/json-glib.h>

#define STORE_ERROR (store_error_quark())
GQuark store_error_quark(void);

typedef struct store store_t;

/* Open (creating and migrating as needed) the database at DB_PATH and the
 * spool at SPOOL_DIR.  Caller frees with store_free(). */
store_t *store_open(const char *db_path, const char *spool_dir, GError **error);
void store_free(store_t *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(store_t, store_free)

/* Transactions: store_begin() takes the write lock (BEGIN IMMEDIATE). */
gboolean store_begin(store_t *store, GError **error);
gboolean store_commit(store_t *store, GError **error);
void store_rollback(store_t *store);

/* ---- spool files ------------------------------------------------------- */

/* A file being written into the spool: bytes are hashed as they arrive and
 * the file only gets its content-addressed name when kept. */
typedef struct spool_file spool_file_t;

spool_file_t *store_spool_file_new(store_t *store, GError **error);
gboolean spool_file_write(spool_file_t *file, const void *data, gsize len, GError **error);
/* Flush and fsync; afterwards the SHA-256 and size are known. */
gboolean spool_file_finish(spool_file_t *file, GError **error);
const char *spool_file_sha256(const spool_file_t *file); /* valid after finish */
gsize spool_file_size(const spool_file_t *file);
const char *spool_file_path(const spool_file_t *file); /* its current (temporary) path */
/* A GMimeStream writing into the file (for the parser's attachment sink).
 * Caller unrefs; the spool file must outlive it. */
GMimeStream *spool_file_stream(spool_file_t *file);
/* Move a finished file to AREA/xx/SHA256 in the spool ("messages", "documents");
 * returns the spool-relative path (caller g_free()s).  If that file
 * already exists (same content), the temporary copy is dropped. */
char *spool_file_keep(spool_file_t *file, const char *area, GError **error);
/* Delete the temporary file (if not kept) and free; NULL-safe. */
void spool_file_free(spool_file_t *file);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(spool_file_t, spool_file_free)

/* Absolute path of a spool-relative path.  Caller frees with g_free(). */
char *store_spool_path(store_t *store, const char *relative);

/* ---- mailbox checkpoint --------------------------------------------------- */

/* The stored UIDVALIDITY and last processed UID of MAILBOX; both 0 when the
 * mailbox was never seen. */
gboolean store_mailbox_get(store_t *store, const char *mailbox, guint32 *uidvalidity_out,
                           guint32 *last_uid_out, GError **error);
/* Set the checkpoint (call inside the message's transaction). */
gboolean store_mailbox_set(store_t *store, const char *mailbox, guint32 uidvalidity,
                           guint32 last_uid, GError **error);

/* Messages committed to the store but not yet marked processed on the
 * server (IMAP MOVE/flag still to do), for MAILBOX/UIDVALIDITY.
 * Returns a GArray of guint32 UIDs. */
GArray *store_server_pending(store_t *store, const char *mailbox, guint32 uidvalidity,
                             GError **error);
gboolean store_server_pending_add(store_t *store, const char *mailbox, guint32 uidvalidity,
                                  guint32 uid, GError **error);
gboolean store_server_pending_done(store_t *store, const char *mailbox, guint32 uidvalidity,
                                   const guint32 *uids, guint n, GError **error);
/* Forget pending entries of an old UIDVALIDITY (they no longer name anything). */
gboolean store_server_pending_drop_other(store_t *store, const char *mailbox,
                                         guint32 uidvalidity, GError **error);

/* ---- messages ----------------------------------------------------------- */

typedef struct {
	gint64 id;
	const char *direction;   /* "in" or "out" */
	const char *message_id;  /* without <>, may be NULL */
	const char *sha256;      /* of the raw bytes */
	const char *raw_path;    /* spool-relative */
	gsize size;
	const char *mailbox;     /* NULL for ingested files and sent replies */
	guint32 uidvalidity, uid;
	const char *internal_date;
	const char *from_address, *from_name, *subject, *date;
	const char *in_reply_to;
	const char *const *references;    /* NULL-terminated, without <>; may be NULL */
	const char *language;
	const char *const *request_types; /* NULL-terminated; may be NULL */
	gboolean is_auto;
	const char *auto_reason;
	const char *problem;
	const char *text;
	gint64 ticket_id;        /* 0: none */
} store_message_t;

/* Is this message already recorded?  Matches (mailbox, uidvalidity, uid)
 * when MAILBOX is set, then MESSAGE_ID, then (for mail without a Message-ID)
 * SHA256.  Returns the existing row id, 0 if none, -1 on error. */
gint64 store_message_find_duplicate(store_t *store, const char *mailbox, guint32 uidvalidity,
                                    guint32 uid, const char *message_id, const char *sha256,
                                    GError **error);
/* Insert; returns the new row id, or 0 on error. Strings are copied. */
gint64 store_message_insert(store_t *store, const store_message_t *message, GError **error);
/* The ticket of the message with this Message-ID (sent or received), 0 if none. */
gint64 store_ticket_by_message_id(store_t *store, const char *message_id, GError **error);

/* ---- attachments -------------------------------------------------------- */

typedef struct {
	gint64 message_row;
	gint64 ticket_id; /* 0: none */
	const char *filename, *declared_type, *content_type, *sha256, *kind, *reason;
	gsize size;
	const char *spool_path; /* NULL when the bytes are not kept */
} store_attachment_t;

gint64 store_attachment_insert(store_t *store, const store_attachment_t *attachment,
                               GError **error);

/* ---- tickets ------------------------------------------------------------ */

typedef struct {
	gint64 id;
	char *ref;
	char *state;
	char **request_types; /* NULL-terminated */
	char *requester_address, *requester_name;
	char *language;
	char *triage_reason; /* NULL unless staff must look */
	char *created_at, *updated_at;
} store_ticket_t;
void store_ticket_free(store_ticket_t *ticket);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(store_ticket_t, store_ticket_free)

/* Open a ticket; its reference PRV-YYYY-NNNNNN is allocated from a per-year
 * counter (the year of CREATED_AT).  Fills ticket->id, ticket->ref. */
gboolean store_ticket_open(store_t *store, store_ticket_t *ticket, GError **error);
store_ticket_t *store_ticket_get(store_t *store, const char *ref, GError **error);
store_ticket_t *store_ticket_get_by_id(store_t *store, gint64 id, GError **error);
/* Tickets, oldest first; STATE NULL for all.  GPtrArray of store_ticket_t*. */
GPtrArray *store_ticket_list(store_t *store, const char *state, GError **error);
/* Change state, recording the event with ACTOR and DETAIL (may be NULL). */
gboolean store_ticket_set_state(store_t *store, gint64 ticket_id, const char *state,
                                const char *actor, const char *detail, GError **error);
/* An event in the ticket's history (note, state change, message…). */
gboolean store_ticket_event(store_t *store, gint64 ticket_id, const char *actor,
                            const char *kind, const char *detail, GError **error);

/* The ticket as JSON for `tickets show --json`: the ticket's fields plus its
 * messages, attachments, drafts and events.  Caller unrefs. */
JsonNode *store_ticket_to_json(store_t *store, const store_ticket_t *ticket, gboolean full,
                               GError **error);

/* ---- drafts and outbox -------------------------------------------------- */

typedef struct {
	gint64 id;
	gint64 ticket_id;
	char *ticket_ref;      /* filled by reads */
	char *kind, *language;
	char *state;           /* pending|approved|rejected|sent|failed */
	char *to_address, *to_name;
	char *subject, *body;
	char *in_reply_to;
	char **references;     /* NULL-terminated, without <> */
	char *message_id;      /* fixed at the first send attempt */
	char *template_hash;
	gboolean auto_submitted;
	char *created_at, *approved_by, *approved_at, *rejected_by, *reject_reason;
	char *edited_by;
	guint attempts;
	char *last_error;
	gboolean retry;        /* failed but will be retried */
	char *sent_at;
} store_draft_t;
void store_draft_free(store_draft_t *draft);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(store_draft_t, store_draft_free)

/* What a new draft is made of (all borrowed). */
typedef struct {
	gint64 ticket_id;
	const char *kind, *language;
	const char *state;       /* "pending" when NULL; "approved" with approved_by */
	const char *approved_by;
	const char *to_address, *to_name;
	const char *subject, *body;
	const char *in_reply_to;
	const char *const *references;
	const char *template_hash;
	gboolean auto_submitted;
} store_draft_new_t;

/* Insert a draft; returns its id, 0 on error. */
gint64 store_draft_insert(store_t *store, const store_draft_new_t *draft, GError **error);
store_draft_t *store_draft_get(store_t *store, gint64 id, GError **error);
/* Drafts, oldest first; STATE NULL for all.  GPtrArray of store_draft_t*. */
GPtrArray *store_draft_list(store_t *store, const char *state, GError **error);
/* pending → approved.  Refused (PI_ERROR_REFUSED) from any other state. */
gboolean store_draft_approve(store_t *store, gint64 id, const char *by, GError **error);
/* pending|failed → rejected. */
gboolean store_draft_reject(store_t *store, gint64 id, const char *by, const char *reason,
                            GError **error);
/* Replace subject and body of a pending draft. */
gboolean store_draft_edit(store_t *store, gint64 id, const char *by, const char *subject,
                          const char *body, GError **error);

/* Drafts due for sending: approved, or failed with retry set.  Drafts whose
 * previous attempt was interrupted (a crash while talking to the server) are
 * first moved to failed without retry: they may have been delivered, so only
 * staff may decide to send them again (never twice automatically). */
GPtrArray *store_outbox_due(store_t *store, GError **error);
/* Record that a send attempt starts now with MESSAGE_ID (committed before the
 * SMTP transaction). */
gboolean store_outbox_begin(store_t *store, gint64 draft_id, const char *message_id,
                            GError **error);
/* The server accepted it: state sent, and the reply recorded as an outgoing
 * message of the ticket (RAW_PATH/SHA256/SIZE in the spool). */
gboolean store_outbox_sent(store_t *store, gint64 draft_id, const char *raw_path,
                           const char *sha256, gsize size, GError **error);
/* The attempt failed: state failed with ERROR; RETRY says whether the next
 * run tries again. */
gboolean store_outbox_failed(store_t *store, gint64 draft_id, const char *error_text,
                             gboolean retry, GError **error);

JsonNode *store_draft_to_json(const store_draft_t *draft);

/* ---- audit -------------------------------------------------------------- */

/* Append to the audit log (actor, action, ticket reference or NULL, detail),
 * each row chained to the previous one by SHA-256. */
gboolean store_audit(store_t *store, const char *actor, const char *action,
                     const char *ticket_ref, const char *detail, GError **error);
