/* fetcher.h — the only module that speaks IMAP (libetpan).
 *
 * fetcher_connect() opens the connection the configuration asks for
 * (implicit TLS, STARTTLS, or plain text only with `security = none`),
 * verifies the server certificate (chain and host name, with GnuTLS, against
 * the system trust store or `ca_file`; libetpan does not verify by itself) and
 * logs in.  Every network operation has a timeout (imap.timeout_seconds).
 *
 * Bodies are fetched with BODY.PEEK[] (the \Seen flag is never changed) and
 * streamed: the caller receives each message as a sequence of chunks, so
 * memory does not grow with message size or batch size.
 *
 * Errors (FETCHER_ERROR) use the graded codes of common.h:
 * PI_ERROR_TEMPORARY for network trouble and timeouts, PI_ERROR_AUTH for a
 * refused login, PI_ERROR_TLS for a refused certificate or failed handshake,
 * PI_ERROR_FATAL for a missing mailbox or a server without what we need.
 * After a network error (or a sink that stopped a fetch halfway) the
 * connection is in an unknown state: every later call fails with
 * PI_ERROR_TEMPORARY; free the fetcher and connect again.
 */
#pragma once

#include "common/common.h"
#include "common/config.h"

#define FETCHER_ERROR (fetcher_error_quark())
GQuark fetcher_error_quark(void);

typedef struct fetcher fetcher_t;

typedef struct {
	guint32 uidvalidity;
	guint32 uidnext;  /* 0 when the server did not say */
	guint32 exists;   /* number of messages in the mailbox */
} fetcher_mailbox_t;

typedef struct {
	guint32 uid;
	gsize size;               /* RFC822.SIZE */
	GDateTime *internal_date; /* INTERNALDATE; borrowed for the callback's duration */
} fetcher_message_t;

/* Receives fetched messages.  For each message, chunk() is called with its
 * bytes in order (possibly zero times for an empty message), then done() with
 * the message's UID, size and INTERNALDATE.  Returning FALSE from either stops
 * the fetch with that error.  When a fetch fails, the message in progress may
 * have had chunks without its done(): the sink discards them. */
typedef struct {
	gboolean (*chunk)(const char *data, gsize len, gpointer user_data, GError **error);
	gboolean (*done)(const fetcher_message_t *message, gpointer user_data, GError **error);
	gpointer user_data;
} fetcher_sink_t;

/* Connect, verify TLS, log in.  CONFIG is borrowed and must outlive the
 * fetcher.  Caller frees with fetcher_free() (which logs out). */
fetcher_t *fetcher_connect(const imap_config_t *config, GError **error);
/* The same, proving who we are with SECRET: the password (auth = password)
 * or an OAuth2 access token (auth = xoauth2: SASL XOAUTH2).  SECRET is
 * copied. */
fetcher_t *fetcher_connect_with(const imap_config_t *config, const char *secret,
                                GError **error);
void fetcher_free(fetcher_t *fetcher);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(fetcher_t, fetcher_free)

/* Does the server announce CAPABILITY NAME ("MOVE", "UIDPLUS", "IDLE")? */
gboolean fetcher_has_capability(fetcher_t *fetcher, const char *name);

/* SELECT MAILBOX (read-write). */
gboolean fetcher_select(fetcher_t *fetcher, const char *mailbox, fetcher_mailbox_t *info_out,
                        GError **error);

/* UIDs of the messages in the selected mailbox with UID > AFTER_UID, ascending.
 * Returns a GArray of guint32 (caller frees with g_array_unref()). */
GArray *fetcher_list_uids(fetcher_t *fetcher, guint32 after_uid, GError **error);

/* Fetch BODY.PEEK[], RFC822.SIZE and INTERNALDATE of the N messages UIDS in
 * one UID FETCH, streaming each to SINK. */
gboolean fetcher_fetch(fetcher_t *fetcher, const guint32 *uids, guint n,
                       const fetcher_sink_t *sink, GError **error);

/* Mark the N messages UIDS processed as the configuration says: MOVE to
 * processed_mailbox (COPY + STORE \Deleted + UID EXPUNGE when the server has
 * no MOVE; plain EXPUNGE only when it has no UIDPLUS either — which also
 * expunges every other message someone flagged \Deleted in the mailbox),
 * creating that mailbox if it is missing; or, with processed_action = flag,
 * STORE +FLAGS (processed_flag).  UIDs no longer in the mailbox are not an
 * error. */
gboolean fetcher_mark_processed(fetcher_t *fetcher, const guint32 *uids, guint n,
                                GError **error);

/* ---- watching the mailbox (idle.c) ------------------------------------------ */

typedef enum {
	FETCHER_IDLE_ACTIVITY, /* the server said something (new mail, expunge, keepalive) */
	FETCHER_IDLE_TIMEOUT,  /* SECONDS passed quietly */
	FETCHER_IDLE_WOKEN,    /* WAKE_FD became readable (left unread for the caller) */
} fetcher_idle_t;

/* IDLE (RFC 2177) in the selected mailbox until the server sends anything,
 * SECONDS pass, or WAKE_FD (-1: none) becomes readable; then DONE.  The
 * caller re-issues it (before 29 minutes: imap.idle_seconds).  Fails with
 * PI_ERROR_FATAL when the server has no IDLE. */
gboolean fetcher_idle(fetcher_t *fetcher, guint seconds, int wake_fd, fetcher_idle_t *result_out,
                      GError **error);

/* NOOP: lets a polling client see new mail and notices a dead connection. */
gboolean fetcher_noop(fetcher_t *fetcher, GError **error);

/* How many messages with UID <= LAST_UID are still in the selected mailbox
 * without being marked processed (with processed_action = flag: without
 * processed_flag; a system flag such as \Flagged is not checked: 0).  After
 * a pass this should be 0: anything else means the server and the store
 * disagree. */
gboolean fetcher_count_unprocessed(fetcher_t *fetcher, guint32 last_uid, guint *count_out,
                                   GError **error);

/* ---- copies of what we sent (append.c) ------------------------------------- */

/* APPEND the LEN bytes of a message to MAILBOX (UTF-8 name; created when the
 * server answers [TRYCREATE]) with the \Seen flag, so the mailbox shows the
 * whole conversation.  Works whether or not a mailbox is selected. */
gboolean fetcher_append(fetcher_t *fetcher, const char *mailbox, const char *data, gsize len,
                        GError **error);
