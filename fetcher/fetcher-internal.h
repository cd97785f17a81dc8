/* fetcher-internal.h — what the fetcher's files share with each other (and
 * with tests/fetcher/, which exercise the pure pieces one by one).  Not part
 * of the module's contract: other modules include fetcher/fetcher.h only.
 */
#pragma once

#include "fetcher/fetcher.h"

#include <gnutls/gnutls.h>
#include <libetpan/libetpan.h>

/* ---- fetcher.c: the connection, its state and the one error mapper ------ */

/* What the last network read or write ran into, recorded by the stream
 * guard (net.c) so an error can say "timed out" rather than "stream error". */
typedef struct {
	gboolean timed_out;
	gboolean closed; /* the server closed the connection */
} fetcher_io_t;

struct fetcher {
	const imap_config_t *config; /* borrowed */
	char *host;                  /* a copy libetpan may take as char * (SNI) */
	char *where;                 /* "host:port", the prefix of every error */
	mailimap *imap;
	fetcher_io_t io;
	GPtrArray *capabilities; /* upper-case names, "AUTH=PLAIN" for mechanisms */
	char *secret; /* password or access token; wiped on free */
	gboolean logged_in;
	gboolean preauth; /* the server greeted with PREAUTH */
	gboolean broken; /* the stream is in an unknown state: no further command, no LOGOUT */
	gboolean selected;
	gboolean read_only;
};

/* Closes the stream without LOGOUT (libetpan's mailimap_free() would send
 * one, and wait for its answer, even on a connection that just timed out). */
void fetcher_imap_free(mailimap *imap);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(mailimap, fetcher_imap_free)

/* THE mapping of a libetpan return code to GError.  Returns TRUE for the
 * success codes (MAILIMAP_NO_ERROR and the two MAILIMAP_NO_ERROR_*
 * AUTHENTICATED codes a connect returns).  Otherwise sets ERROR to one line,
 * "host:port: CONTEXT: detail", and returns FALSE.  NO_CODE is the grade of
 * a plain NO to the command (PI_ERROR_AUTH for LOGIN, PI_ERROR_FATAL for
 * SELECT…); response codes such as [UNAVAILABLE] or [INUSE] make any NO
 * PI_ERROR_TEMPORARY.  Stream, parse and protocol errors mark the
 * connection broken. */
gboolean fetcher_check(fetcher_t *fetcher, int r, int no_code, GError **error,
                       const char *context_format, ...) G_GNUC_PRINTF(5, 6);

/* Sets ERROR ("host:port: MESSAGE") with CODE; always returns FALSE. */
gboolean fetcher_fail(fetcher_t *fetcher, int code, GError **error, const char *format, ...)
    G_GNUC_PRINTF(4, 5);

/* The response code of the last tagged response ("TRYCREATE",
 * "EXPUNGEISSUED"…), or NULL.  Borrowed until the next command. */
const char *fetcher_response_code(fetcher_t *fetcher);

/* FALSE (with PI_ERROR_TEMPORARY) when an earlier error left the connection
 * unusable, or (with NEED_SELECTED) when no mailbox is selected. */
gboolean fetcher_ready(fetcher_t *fetcher, gboolean need_selected, GError **error);

/* ---- net.c: TCP connect with a timeout, and the stream guard ------------- */

/* Connect to HOST:PORT within TIMEOUT_SECONDS; returns a non-blocking,
 * close-on-exec socket, or -1 with PI_ERROR_TEMPORARY ("cannot connect to
 * host:port: Connection refused").  Caller closes. */
int fetcher_net_connect(const char *host, guint16 port, guint timeout_seconds, GError **error);

/* Wrap INNER (ownership passes to the result) in a mailstream_low that
 * records timeouts and closes in IO, turns end-of-file into an error
 * (libetpan 1.9.4 loops forever on a connection closed in the middle of a
 * literal), retries reads and writes interrupted by a signal, and keeps a
 * write to a closed connection from raising SIGPIPE. */
mailstream_low *fetcher_net_guard(mailstream_low *inner, fetcher_io_t *io);

/* ---- tls.c: certificate verification -------------------------------------- */

/* Verify the peer chain CERTS (N DER certificates, the server's first)
 * against CA_FILE (PEM), or the system trust store when CA_FILE is NULL, for
 * a TLS server named HOST (an IP address must match an IP SAN).
 * On refusal sets ERROR to PI_ERROR_TLS with one line such as
 * "certificate not trusted (signer not found)" (no host:port prefix);
 * an unreadable CA_FILE is PI_ERROR_FATAL. */
gboolean fetcher_tls_verify(const gnutls_datum_t *certs, guint n, const char *host,
                            const char *ca_file, GError **error);

/* TRUE when HOST is an IPv4 or IPv6 address literal (then no SNI is sent). */
gboolean fetcher_host_is_ip(const char *host);

/* ---- uidset.c: UID sets and mailbox names ------------------------------------ */

/* The UIDS (any order, duplicates allowed, 0 ignored) as ascending, merged
 * ranges: a GArray of guint32 pairs first, last.  Caller frees with
 * g_array_unref(). */
GArray *fetcher_uid_ranges(const guint32 *uids, guint n);

/* Sort UIDS (a GArray of guint32) ascending, dropping duplicates and 0. */
void fetcher_uids_normalize(GArray *uids);

/* The ranges as IMAP text ("1:3,7,9:10"), for logs and tests.  Caller frees
 * with g_free(). */
char *fetcher_uid_ranges_format(const GArray *ranges);

/* The ranges as a libetpan set.  Caller frees with mailimap_set_free(). */
struct mailimap_set *fetcher_uid_set_new(const GArray *ranges);

/* UTF-8 mailbox name → IMAP modified UTF-7 (RFC 3501 5.1.3): "処理済み" →
 * "&UeZ0Bm4IMH8-", "R&D" → "R&-D".  NULL when NAME is not valid UTF-8.
 * Caller frees with g_free(). */
char *fetcher_mailbox_encode(const char *name);

/* ---- mark.c ------------------------------------------------------------------ */

/* CREATE the mailbox ENCODED (modified UTF-7; NAME for messages); a mailbox
 * someone else created meanwhile ([ALREADYEXISTS]) is fine. */
gboolean fetcher_create_mailbox(fetcher_t *f, const char *encoded, const char *name,
                                GError **error);
