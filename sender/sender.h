/* sender.h — builds a reply as proper MIME with GMime and sends it over SMTP
 * with libcurl (smtp:// with STARTTLS, smtps://, or plain text only when
 * `security = none`; AUTH when a user is configured).  No SQL here: the
 * outbox lives in the store and the command layer wires the two.
 *
 * Errors (SENDER_ERROR): PI_ERROR_TEMPORARY for network trouble, timeouts
 * and 4xx replies (retry later); PI_ERROR_PERMANENT for 5xx replies (the
 * message carries the server's answer); PI_ERROR_AUTH; PI_ERROR_TLS;
 * PI_ERROR_FATAL for configuration problems.
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
 * config->from.  On success the server accepted the message (250). */
gboolean sender_send(const smtp_config_t *config, GMimeMessage *message,
                     const char *envelope_to, GError **error);
