/* sender.h — builds a reply as proper MIME with GMime and sends it over SMTP
 * with libcurl (smtp:// with STARTTLS, smtps://, or plain text only when
 * `security = none`; AUTH when a user is configured).  No SQL here: the
 * outbox lives in the store and the command layer wires the two.
 *
 * The command layer calls g_mime_init() and curl_global_init() once at
 * start-up (neither is thread-safe); this module never does.
 *
 * Errors (SENDER_ERROR): PI_ERROR_TEMPORARY for network trouble, timeouts
 * and 4xx replies (retry later); PI_ERROR_PERMANENT for 5xx replies (the
 * message carries the server's answer); PI_ERROR_AUTH; PI_ERROR_TLS;
 * PI_ERROR_FATAL for configuration problems.
 * A 530 or 535 reply (authentication required/refused) is PI_ERROR_AUTH.
 * PI_ERROR_MESSAGE when this mail cannot be built (bad recipient address,
 * text that is not UTF-8, an attachment missing from disk).
 *
 * Charsets.  With `charset = utf-8` headers are RFC 2047 "=?UTF-8?B?…?="
 * (fine print in sender/encode.c) and the body is text/plain; charset=UTF-8,
 * 7bit when it is pure ASCII, else base64: Japanese is the normal case and every kana/kanji is three 8-bit
 * octets, so quoted-printable would triple the size and still be unreadable,
 * while base64 costs a third more and survives any relay.
 * With `charset = iso-2022-jp` headers are "=?ISO-2022-JP?B?…?=" and the body
 * ISO-2022-JP 7bit (RFC 1468, every line ending in ASCII).  Characters
 * Windows users type for JIS characters (～ ∥ － ￠ ￡ ￢ —) are sent as those
 * JIS characters (〜 ‖ − ¢ £ ¬ ―).  When any text of the mail (subject,
 * names, body) holds a character ISO-2022-JP cannot (①, ㈱, Ⅲ, 髙, emoji,
 * half-width kana…) or a body line would pass 998 octets, the WHOLE message
 * goes out as UTF-8 instead (logged at info level): nothing is ever dropped
 * or replaced by '?'.  Attachment file names are always RFC 2231 UTF-8.
 * Header text (names, subject) passes through pi_header_sanitize(), so CR/LF
 * in it can never start a new header.
 */
#pragma once

#include "common/common.h"
#include "common/config.h"

#define SENDER_ERROR (sender_error_quark())
GQuark sender_error_quark(void);

typedef struct {
	const char *path;         /* file to attach */
	const char *filename;     /* UTF-8 name shown to the recipient (RFC 2231-encoded) */
	const char *content_type; /* "application/pdf"; NULL: application/octet-stream */
} sender_attachment_t;

typedef struct {
	const char *to_name;      /* UTF-8, may be NULL */
	const char *to_address;
	const char *subject;      /* UTF-8; CR/LF and controls are removed */
	const char *body;         /* UTF-8 plain text */
	const char *message_id;   /* without <>; required (see sender_new_message_id) */
	const char *in_reply_to;  /* without <>; may be NULL */
	const char *const *references; /* without <>, NULL-terminated; may be NULL */
	gboolean auto_submitted;  /* add "Auto-Submitted: auto-replied" (RFC 3834) */
	GDateTime *date;          /* NULL: now */
	const sender_attachment_t *attachments; /* may be NULL */
	guint n_attachments;
} sender_mail_t;

/* A fresh Message-ID (without <>) in the domain of FROM ("Name <a@b>" or a@b).
 * Caller frees with g_free(). */
char *sender_new_message_id(const char *from);

/* Build the message: From = config->from, To, Subject (RFC 2047), Date,
 * Message-ID, In-Reply-To/References, MIME-Version, a text/plain body in
 * config->charset (UTF-8, or ISO-2022-JP), attachments.
 * Caller unrefs the result with g_object_unref(). */
GMimeMessage *sender_build(const smtp_config_t *config, const sender_mail_t *mail,
                           GError **error);

/* Send MESSAGE to ENVELOPE_TO (the RCPT TO address) from the address in
 * config->from.  On success the server accepted the message (250).
 * The message is serialized with CRLF line ends into an unlinked temporary
 * file (g_get_tmp_dir()) and streamed from there.  The server certificate and
 * host name are always verified (against config->ca_file alone when set, else
 * the system store).  Every wait is bounded by config->timeout_seconds: the
 * connection, each server reply, and any stall of the upload.
 * MESSAGE is borrowed; its attachment files are read again on every call. */
gboolean sender_send(const smtp_config_t *config, GMimeMessage *message,
                     const char *envelope_to, GError **error);

/* The same with SECRET as the password (auth = password) or the OAuth2
 * access token (auth = xoauth2: CURLOPT_XOAUTH2_BEARER, SASL XOAUTH2 or
 * OAUTHBEARER).  A refused token is PI_ERROR_AUTH. */
gboolean sender_send_with(const smtp_config_t *config, const char *secret,
                          GMimeMessage *message, const char *envelope_to, GError **error);

/* ---- OAuth2 access tokens (oauth2.c) ---------------------------------------- */

typedef struct {
	char *access_token;
	char *refresh_token; /* a rotated refresh token to save, or NULL */
	gint64 expires_at;   /* Unix time; 0 when the provider did not say */
} sender_oauth2_token_t;
void sender_oauth2_token_clear(sender_oauth2_token_t *token);

/* POST grant_type=refresh_token to config->token_url (RFC 6749 6) with the
 * client id (and secret, when set) and REFRESH_TOKEN; fill TOKEN_OUT.  The
 * TLS certificate is verified against CA_FILE or the system store.
 * Errors: PI_ERROR_AUTH when the provider refuses the grant (invalid_grant:
 * revoked or expired refresh token; invalid_client), PI_ERROR_TEMPORARY for
 * network trouble, timeouts and 5xx answers, PI_ERROR_FATAL otherwise.
 * Messages carry the provider's error code and description, never tokens. */
gboolean sender_oauth2_refresh(const oauth2_config_t *config, const char *refresh_token,
                               const char *ca_file, guint timeout_seconds,
                               sender_oauth2_token_t *token_out, GError **error);
