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
/* The same with the spool key in KEY_FILE (NULL: spool.key beside the
 * database); see "the spool under lock" below. */
store_t *store_open_keyed(const char *db_path, const char *spool_dir, const char *key_file,
                          GError **error);
void store_free(store_t *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(store_t, store_free)

/* Transactions: store_begin() takes the write lock (BEGIN IMMEDIATE). */
gboolean store_begin(store_t *store, GError **error);
gboolean store_commit(store_t *store, GError **error);
void store_rollback(store_t *store);

/* ---- spool files ------------------------------------------------------- */

/* A file being written into the spool: bytes are hashed and encrypted as
 * they arrive and the file only gets its content-addressed name when kept.
 * Caller frees with spool_file_free(). */
typedef struct spool_file spool_file_t;

spool_file_t *store_spool_file_new(store_t *store, GError **error);
/* The same for bytes the caller hashes as it writes them (the parser's
 * digest of an attachment): nothing is hashed here, and the file is
 * finished with spool_file_finish_hashed(), never spool_file_finish(). */
spool_file_t *store_spool_file_new_hashed_by_caller(store_t *store, GError **error);
/* The same, and the plaintext is also written to spool_file_path() for a
 * reader (the parser of a raw message) until the file is kept or freed. */
spool_file_t *store_spool_file_new_readable(store_t *store, GError **error);
/* The same for a raw message the parser reads next: the plaintext is held
 * in memory (spool_file_plaintext()) while it is small, else written to
 * spool_file_path(), so memory stays bounded whatever the message. */
spool_file_t *store_spool_file_new_buffered(store_t *store, GError **error);
/* Have up to N empty temporary files ready for the next spool files, made
 * by the calling thread (in a fetch the least busy one, the router's, so
 * the fetching and the parse thread do not wait for the file system to
 * make files).  A failure is left for store_spool_file_new() to report. */
void store_spool_prepare(store_t *store, guint n);
gboolean spool_file_write(spool_file_t *file, const void *data, gsize len, GError **error);
/* The last bytes are encrypted; afterwards the SHA-256 and size are known.
 * Nothing is synced yet: spool_file_keep() does (or the group, group.c). */
gboolean spool_file_finish(spool_file_t *file, GError **error);
/* Finish a file of store_spool_file_new_hashed_by_caller() whose bytes
 * have SHA256 (lowercase hex) and number SIZE; refused (fatal) when either
 * does not fit what was written. */
gboolean spool_file_finish_hashed(spool_file_t *file, const char *sha256, gsize size,
                                  GError **error);
const char *spool_file_sha256(const spool_file_t *file); /* valid after finish */
gsize spool_file_size(const spool_file_t *file);
/* Its temporary path in SPOOL/tmp: the plaintext for a readable file (and a
 * buffered one whose plaintext is not in memory), else the ciphertext being
 * written (a scratch file only).  Borrowed, valid until kept or freed. */
const char *spool_file_path(const spool_file_t *file);
/* A buffered file's plaintext while it is held in memory, else NULL (then
 * it is at spool_file_path()).  Borrowed and not to be changed; valid until
 * the file is kept or freed. */
GByteArray *spool_file_plaintext(const spool_file_t *file);
/* Done reading a readable or buffered file's plaintext (parsed): its buffer
 * or file goes back for the next message now, not when this one is kept. */
void spool_file_drop_plaintext(spool_file_t *file);
/* A write-only GMimeStream writing into the file (for the parser's
 * attachment sink).  Caller unrefs; the spool file must outlive it. */
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
	/* The statutory clock (router/clock.h): when the request reached us,
	 * when it is due, the legal two-week mark, and the pauses while we wait
	 * for the requester (paused_since set while waiting). */
	char *received_at, *due_at, *legal_due_at, *paused_since;
	gint64 paused_seconds;
	char *extended_until;    /* set by a deadline extension */
	char *disclosure_method; /* email, post… as the requester asked; NULL: not said */
	char *stop_ground;       /* the ground a stop request invokes; NULL: not said */
	char *document_type;     /* the identity document staff verified */
	char *fee_status;        /* NULL, "due", "paid", "waived" */
	gint64 linked_ticket_id; /* another ticket this one refers to (0: none) */
	char *attention;         /* why staff must look at it now (NULL: nothing) */
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
/* Save the clock fields of ticket ID from T (received_at, due_at,
 * legal_due_at, paused_since, paused_seconds, extended_until). */
gboolean store_ticket_save_clock(store_t *store, gint64 id, const store_ticket_t *t,
                                 GError **error);
/* Set one descriptive column: "disclosure_method", "stop_ground",
 * "document_type", "fee_status" or "attention" (VALUE NULL clears it). */
gboolean store_ticket_set_field(store_t *store, gint64 id, const char *field, const char *value,
                                GError **error);
gboolean store_ticket_set_types(store_t *store, gint64 id, const char *const *types,
                                GError **error);
/* Open, running (not paused) tickets due at or before BEFORE (ISO 8601 UTC),
 * soonest first.  GPtrArray of store_ticket_t*. */
GPtrArray *store_ticket_list_due(store_t *store, const char *before, GError **error);
/* The Message-ID of the latest message received on the ticket and the
 * References a reply to it carries (theirs plus its own id).  Both may be
 * NULL/empty when the ticket has no message with a Message-ID. */
gboolean store_ticket_thread(store_t *store, gint64 id, char **in_reply_to_out,
                             char ***references_out, GError **error);
/* Usable identity documents on the ticket (kind id_document). */
gint64 store_ticket_id_documents(store_t *store, gint64 id);
/* Was the digest for DAY ("YYYY-MM-DD") sent?  Record that it was. */
gboolean store_digest_sent(store_t *store, const char *day, gboolean *sent_out, GError **error);
gboolean store_digest_mark(store_t *store, const char *day, GError **error);
/* Drafts waiting for a person (state pending). */
gint64 store_draft_count_pending(store_t *store, GError **error);

/* How many replies were drafted without a person for ADDRESS since SINCE. */
gint64 store_auto_replies_since(store_t *store, const char *address, const char *since,
                                GError **error);

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
/* pending → approved.  Refused (PI_ERROR_REFUSED) from any other state,
 * and, with FOUR_EYES, when BY is who last edited the draft. */
gboolean store_draft_approve(store_t *store, gint64 id, const char *by, gboolean four_eyes,
                             GError **error);
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

/* The copy of a sent reply is in the IMAP Sent folder. */
gboolean store_outbox_copied(store_t *store, gint64 draft_id, GError **error);
/* Sent replies whose copy is not in the Sent folder yet (sent since SINCE),
 * oldest first: GPtrArray of store_draft_t*.  Their raw bytes are the
 * ticket's outgoing message with the draft's Message-ID. */
GPtrArray *store_outbox_copies_due(store_t *store, const char *since, GError **error);
/* The spool path of the outgoing message carrying MESSAGE_ID, or NULL. */
char *store_outgoing_raw_path(store_t *store, const char *message_id, GError **error);

/* A file sent with a reply (disclosed material), kept in the spool. */
typedef struct {
	gint64 id;
	char *filename, *content_type, *sha256, *spool_path, *added_by;
	gsize size;
} store_draft_attachment_t;
void store_draft_attachment_free(store_draft_attachment_t *attachment);

/* Attach a file already kept in the spool (SPOOL_PATH) to pending draft
 * DRAFT_ID.  Refused unless the draft is pending. */
gboolean store_draft_attach(store_t *store, gint64 draft_id,
                            const store_draft_attachment_t *attachment, GError **error);
/* The draft's attachments (store_draft_attachment_t*), in the order added. */
GPtrArray *store_draft_attachments(store_t *store, gint64 draft_id, GError **error);

/* ---- audit -------------------------------------------------------------- */

/* Append to the audit log (actor, action, ticket reference or NULL, detail),
 * each row chained to the previous one by SHA-256. */
gboolean store_audit(store_t *store, const char *actor, const char *action,
                     const char *ticket_ref, const char *detail, GError **error);

/* ---- daemon state and alerts (store/daemon.c) ------------------------------ */

/* `privacy-inbox run` records what `status` shows as key/value pairs
 * ("last_poll_ok", "connection", "last_error"…; values are strings, NULL
 * allowed).  store_daemon_set_many() takes KEY, VALUE, …, NULL and writes
 * them in one transaction. */
gboolean store_daemon_set(store_t *store, const char *key, const char *value, GError **error);
gboolean store_daemon_set_many(store_t *store, const char *const *pairs, GError **error);
/* Every pair; caller unrefs (keys and values are owned by the table). */
GHashTable *store_daemon_state(store_t *store, GError **error);

/* An alert incident: KIND ("ingestion", "mismatch", "auth") is open until
 * resolved; at most one open incident per kind.  The daemon mails one notice
 * when it opens and one when it is resolved. */
typedef struct {
	gint64 id;
	char *kind, *detail;
	char *opened_at, *notified_at, *resolved_at; /* NULL when not (yet) */
} store_alert_t;
void store_alert_free(store_alert_t *alert);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(store_alert_t, store_alert_free)

/* Open an incident of KIND unless one is open; returns its id (0 on error);
 * *CREATED_OUT says whether it is new. */
gint64 store_alert_open(store_t *store, const char *kind, const char *detail,
                        gboolean *created_out, GError **error);
/* Resolve the open incident of KIND, if any (*RESOLVED_OUT).  One that was
 * never notified needs no recovery notice either. */
gboolean store_alert_resolve(store_t *store, const char *kind, gboolean *resolved_out,
                             GError **error);
/* Open incidents; and incidents whose opening notice (open, notified_at
 * NULL) or recovery notice (resolved after its opening notice) is still to
 * be sent.  GPtrArray of store_alert_t*. */
GPtrArray *store_alerts_open(store_t *store, GError **error);
GPtrArray *store_alerts_unnotified(store_t *store, GError **error);
/* The opening (RECOVERY false) or recovery notice of alert ID went out. */
gboolean store_alert_notified(store_t *store, gint64 id, gboolean recovery, GError **error);

/* Replies waiting to be sent (approved, or failed to be retried) and when the
 * oldest was approved (caller g_free()s; NULL when none). */
gboolean store_outbox_summary(store_t *store, guint *count_out, char **oldest_out,
                              GError **error);
/* Messages recorded from MAILBOX (any UIDVALIDITY); -1 on error. */
gint64 store_mailbox_message_count(store_t *store, const char *mailbox, GError **error);

/* Grouped commits (store/group.c), for the fetcher: between begin and commit
 * every store_begin()/store_commit() is a savepoint of one outer
 * transaction and spool files are not synced one by one; commit syncs the
 * spool's file system (syncfs), then COMMITs: spool durable before the rows
 * that name it, as for single messages.  Rollback drops the whole group. */
gboolean store_group_begin(store_t *store, GError **error);
gboolean store_group_commit(store_t *store, GError **error);
void store_group_rollback(store_t *store);
gboolean store_group_active(const store_t *store);

/* ==== the spool under lock, disposal, audit, reports ======================
 * (vault.c, documents.c, purge.c, audit.c, report.c)
 *
 * Every file the spool keeps is encrypted at rest (vault.c has the format);
 * the spool key lives in a 0600 file outside the spool.  Files are read back
 * only through the two functions below. */

/* Write the plaintext of the kept file RELATIVE ("documents/ab/abcd…") to
 * FD, streamed; fails (after writing what was authentic) when the file is
 * damaged, altered, or its content does not match its name.  A missing file
 * is PI_ERROR_NOT_FOUND. */
gboolean store_spool_decrypt_to_fd(store_t *store, const char *relative, int fd, GError **error);
/* A read-only GMimeStream of the plaintext of RELATIVE, decrypted as it is
 * read (64 KiB at a time).  Seeking backwards decrypts again from the start,
 * so give GMimeParser persist_stream = FALSE.  A damaged file makes read()
 * return -1 (with a warning logged).  Caller unrefs; independent of STORE. */
GMimeStream *store_spool_open_stream(store_t *store, const char *relative, GError **error);
/* The id of the spool key (16 hex digits; names the key, reveals nothing).
 * Caller frees. */
char *store_vault_key_id(store_t *store);

/* An attachment as recorded (documents.c). */
typedef struct {
	gint64 id;
	gint64 message_row;
	gint64 ticket_id;  /* 0: none */
	char *ticket_ref;  /* NULL: none */
	char *filename, *declared_type, *content_type, *sha256, *kind, *reason;
	gint64 size;
	char *spool_path;  /* NULL: the bytes are not kept, or were destroyed */
	char *received_at; /* when its message was recorded */
	char *destroyed_at, *destroy_reason; /* NULL unless destroyed */
} store_attachment_record_t;
void store_attachment_record_free(store_attachment_record_t *a);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(store_attachment_record_t, store_attachment_record_free)

store_attachment_record_t *store_attachment_get(store_t *store, gint64 id, GError **error);
/* The attachments of a ticket, oldest first.  GPtrArray of store_attachment_record_t*. */
GPtrArray *store_attachment_list(store_t *store, gint64 ticket_id, GError **error);
JsonNode *store_attachment_to_json(const store_attachment_record_t *a);
/* Record that ACTOR is about to read attachment A's bytes (HOW: "shown on
 * standard output", "exported to FILE"): an audit row and a ticket event, in
 * one transaction.  Call it before handing out any byte. */
gboolean store_attachment_access(store_t *store, const store_attachment_record_t *a,
                                 const char *actor, const char *how, GError **error);

/* ---- disposal (purge.c) ----
 * A ticket is "finished" since its latest state event (ticket_events kind
 * 'state') whose detail starts with "closed" or "rejected", while it is in
 * one of those states (tickets closed without such an event: since
 * updated_at).  Then:
 *   - ID_RETENTION_DAYS after that, its kept attachments (the identity
 *     documents) are destroyed, and so is every raw incoming message of the
 *     ticket that carried an attachment (raw mail holds the documents too);
 *   - MESSAGE_RETENTION_DAYS after that, its other raw messages (requests
 *     without attachments, our replies); messages without a ticket
 *     (automatic mail) that long after they were recorded.
 * Destroying removes the file; the row stays with its SHA-256 and gets the
 * time and reason (attachments.destroyed_at/destroy_reason,
 * messages.purged_at/purge_reason; spool_path/raw_path become NULL).  A file
 * another live row still uses (same content) is kept until that one goes. */
typedef struct {
	guint id_retention_days;      /* 0: at the next purge */
	guint message_retention_days; /* 0: at the next purge */
} store_retention_t;

typedef struct {
	char *what;         /* "id_document" or "raw_message" */
	gint64 id;          /* attachments.id or messages.id */
	char *ticket_ref;   /* NULL: a message without a ticket */
	char *name;         /* the document's file name, or the message's Message-ID */
	char *sha256;
	gint64 size;
	char *reason;       /* why it is (or would be) destroyed */
	char *destroyed_at; /* NULL in a dry run */
} store_purge_item_t;
void store_purge_item_free(store_purge_item_t *item);

/* Destroy what retention says is due now (DRY_RUN: only list it).  Each
 * destruction is audited (ACTOR, action "purge") and noted in the ticket's
 * history; a summary row is audited for every real run, even an empty one.
 * Short transactions (50 files each) under the spool lock.  Returns the
 * items (GPtrArray of store_purge_item_t*), in order. */
GPtrArray *store_purge(store_t *store, const store_retention_t *retention, const char *actor,
                       gboolean dry_run, GError **error);
/* When the last real purge ran (caller frees; NULL: never), so the daemon
 * can run it once a day. */
gboolean store_purge_last_run(store_t *store, char **at_out, GError **error);
/* The deletion record of ticket REF: what was destroyed (what, SHA-256,
 * when, why), what is still kept and when it is due, what was never kept.
 * Caller unrefs. */
JsonNode *store_deletion_record(store_t *store, const char *ref, const store_retention_t *retention,
                                GError **error);

/* ---- the audit log (audit.c): verification and export ---- */

typedef struct {
	gint64 rows;      /* rows checked */
	gint64 last_row;  /* id of the last row that checked out */
	char *head_hash;  /* hash of that row */
	/* When something is wrong: the first bad row (0 when the problem is
	 * not a row) and what is wrong with it; NULL problem: all is well. */
	gint64 bad_row;
	char *bad_at, *bad_actor, *bad_action; /* of bad_row when it exists */
	char *problem;
} store_audit_verdict_t;
void store_audit_verdict_clear(store_audit_verdict_t *verdict);

/* Check the whole chain, the head and the append-only guard in one read
 * snapshot.  FALSE only when the database cannot be read. */
gboolean store_audit_verify(store_t *store, store_audit_verdict_t *verdict, GError **error);

typedef struct {
	gint64 id;
	const char *at, *actor, *action, *ticket_ref, *detail, *prev_hash, *hash;
} store_audit_row_t;
typedef gboolean (*store_audit_row_fn)(const store_audit_row_t *row, gpointer data,
                                       GError **error);
/* Call FN for every row with SINCE <= at < UNTIL (ISO 8601 UTC; NULL: open),
 * oldest first; FN returning FALSE stops with its error. */
gboolean store_audit_foreach(store_t *store, const char *since, const char *until,
                             store_audit_row_fn fn, gpointer data, GError **error);

/* ---- monthly report (report.c) ---- */

typedef struct {
	const char *label;     /* "2026-11" */
	const char *since;     /* ISO 8601 UTC, inclusive: the month's start in the policy time zone */
	const char *until;     /* exclusive */
	guint default_due_days; /* when a ticket has no due date: created_at + this */
	guint fee_yen;          /* per paid fee */
} store_report_period_t;

/* Requests received in the period by type and state, time to answer
 * (median, worst), overdue, and for the period's events: fees paid and
 * waived, identity documents and raw messages destroyed.  The definitions
 * are in README.md ("Reports").  Caller unrefs. */
JsonNode *store_report(store_t *store, const store_report_period_t *period, GError **error);

/* ---- template versions (store/templates.c) --------------------------------- */

/* One wording a reply was drafted from: the template file of KIND in
 * LANGUAGE and the partials it used, by content hash (the catalogue's
 * version), with when it was first and last used and by how many drafts. */
typedef struct {
	char *kind, *language, *hash;
	char *text;     /* the template file as it was */
	char *partials; /* JSON object {"name": "text"} of the partials it used */
	char *first_used_at, *last_used_at;
	guint uses;
} store_template_version_t;
void store_template_version_free(store_template_version_t *version);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(store_template_version_t, store_template_version_free)

/* A draft was made from this version now (call inside the draft's
 * transaction): keeps the text the first time, counts every use.  All
 * borrowed. */
gboolean store_template_version_use(store_t *store, const char *kind, const char *language,
                                    const char *hash, const char *text, const char *partials,
                                    GError **error);
/* The version of KIND (and LANGUAGE, when not NULL) whose hash is or starts
 * with HASH (at least 6 hex digits).  PI_ERROR_NOT_FOUND when none;
 * PI_ERROR_REFUSED when the prefix names several. */
store_template_version_t *store_template_version_get(store_t *store, const char *kind,
                                                     const char *language, const char *hash,
                                                     GError **error);
/* Every version of KIND (LANGUAGE NULL: both), newest first.
 * GPtrArray of store_template_version_t*. */
GPtrArray *store_template_versions(store_t *store, const char *kind, const char *language,
                                   GError **error);

/* ==== staff accounts, web sessions, sign-in throttling (users.c) ==========
 * and the template files saved through the console (template_saves.c).
 *
 * Accounts are for the web console (`privacy-inbox serve`); the command
 * line keeps taking --by NAME.  Passwords are kept only as argon2id hashes
 * (libsodium crypto_pwhash_str, "interactive" limits).  A session is known
 * by the SHA-256 of its random id (the id itself lives only in the browser's
 * cookie), so reading the database does not let anyone sign in. */

#define STORE_USER_NAME_MAX 64
#define STORE_PASSWORD_MIN 12   /* characters */
#define STORE_PASSWORD_MAX 1024 /* bytes */

typedef struct {
	gint64 id;
	char *name;
	char *role; /* "staff" or "admin" */
	char *created_at, *password_changed_at;
	char *disabled_at;   /* NULL: active */
	char *last_login_at; /* NULL: never */
} store_user_t;
void store_user_free(store_user_t *user);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(store_user_t, store_user_free)

/* Is NAME a valid account name: 1–64 of a-z, 0-9, '.', '_', '-', starting
 * with a letter or digit? */
gboolean store_user_name_valid(const char *name);
/* Is PASSWORD acceptable (UTF-8, STORE_PASSWORD_MIN characters or more,
 * at most STORE_PASSWORD_MAX bytes)?  FALSE with a one-line reason. */
gboolean store_password_acceptable(const char *password, GError **error);

/* Create account NAME with ROLE and PASSWORD (hashed here); ACTOR is
 * audited.  PI_ERROR_REFUSED when the name is taken or invalid. */
gboolean store_user_add(store_t *store, const char *name, const char *role, const char *password,
                        const char *actor, GError **error);
/* The account NAME (disabled ones too); PI_ERROR_NOT_FOUND when none. */
store_user_t *store_user_get(store_t *store, const char *name, GError **error);
/* Every account by name.  GPtrArray of store_user_t*. */
GPtrArray *store_user_list(store_t *store, GError **error);
/* Disable (DISABLE) or enable account NAME; disabling ends its sessions. */
gboolean store_user_set_disabled(store_t *store, const char *name, gboolean disable,
                                 const char *actor, GError **error);
/* Set a new password; ends every session of the account. */
gboolean store_user_set_password(store_t *store, const char *name, const char *password,
                                 const char *actor, GError **error);
/* Check NAME's PASSWORD.  TRUE and *USER_OUT (caller frees) for an active
 * account whose password matches; FALSE with PI_ERROR_AUTH otherwise (the
 * same message whether the name is unknown, disabled or the password
 * wrong; an unknown name costs the same time as a wrong password). */
gboolean store_user_authenticate(store_t *store, const char *name, const char *password,
                                 store_user_t **user_out, GError **error);

typedef struct {
	char *id_hash; /* SHA-256 (hex) of the session id */
	gint64 user_id;
	char *user_name, *role;
	char *created_at, *last_seen_at;
	char *address; /* the client address it was created from */
	gboolean user_disabled;
} store_session_t;
void store_session_free(store_session_t *session);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(store_session_t, store_session_free)

/* Record a session for USER_ID (the caller made the id and hashed it);
 * also stamps the account's last sign-in. */
gboolean store_session_create(store_t *store, const char *id_hash, gint64 user_id,
                              const char *address, GError **error);
/* The session with ID_HASH, or NULL (and no error) when none. */
store_session_t *store_session_get(store_t *store, const char *id_hash, GError **error);
/* It was used now (written at most once a minute). */
gboolean store_session_touch(store_t *store, const store_session_t *session, GError **error);
/* End one session; end every session idle since IDLE_BEFORE or created
 * before CREATED_BEFORE (ISO 8601 UTC). */
gboolean store_session_delete(store_t *store, const char *id_hash, GError **error);
gboolean store_session_expire(store_t *store, const char *idle_before, const char *created_before,
                              GError **error);

/* Failed sign-ins, for throttling: record one (USER as typed, may be
 * NULL; ADDRESS of the client), count those since SINCE for USER (NULL:
 * any) and ADDRESS (NULL: any); -1 on error.  Entries older than a day are
 * dropped when new ones are added. */
gboolean store_login_failure_add(store_t *store, const char *user, const char *address,
                                 GError **error);
gint64 store_login_failures_since(store_t *store, const char *user, const char *address,
                                  const char *since, GError **error);

/* A template or partial file saved through the console: NAME relative to
 * the catalogue ("ja/ack.tmpl", "en/partials/greeting.tmpl"), the file's
 * SHA-256 and text, who and when.  Appended, never changed. */
typedef struct {
	gint64 id;
	char *name, *sha256, *text, *saved_by, *saved_at;
} store_template_save_t;
void store_template_save_free(store_template_save_t *save);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(store_template_save_t, store_template_save_free)
gboolean store_template_save_add(store_t *store, const char *name, const char *sha256,
                                 const char *text, const char *saved_by, GError **error);
/* The saves of NAME, newest first, at most LIMIT (0: all); TEXT is filled
 * only with WITH_TEXT.  GPtrArray of store_template_save_t*. */
GPtrArray *store_template_saves(store_t *store, const char *name, guint limit, gboolean with_text,
                                GError **error);
store_template_save_t *store_template_save_get(store_t *store, gint64 id, GError **error);
