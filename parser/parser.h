/* parser.h — bytes → request.  GMime turns one raw message into a
 * parser_request_t: sender, subject and text decoded to UTF-8, request
 * type(s), automatic-mail detection, language, attachments typed from their
 * bytes, and the ID documents among them.
 *
 * The parser opens no files and no sockets: it reads a GMimeStream the caller
 * opened (a file-backed stream for real mail, a memory stream in tests) and
 * hands decoded attachment bytes to a caller-provided sink, so the caller
 * decides where they go (the spool) and memory does not grow with
 * attachment size.
 *
 * A message the parser cannot make sense of is not an error: the result
 * carries `problem` (a one-line reason) and whatever could be read, so the
 * router can still store it and send it to staff triage.  parser_parse_*()
 * return NULL only when the stream itself cannot be read (or a sink failed).
 */
#pragma once

#include "common/common.h"
#include "common/config.h"

#include <json-glib/json-glib.h>

#define PARSER_ERROR (parser_error_quark())
GQuark parser_error_quark(void);

typedef enum {
	ATTACHMENT_OTHER,
	ATTACHMENT_ID_DOCUMENT,
	ATTACHMENT_REJECTED, /* e.g. an executable disguised as an image; never counted */
} attachment_kind_t;

typedef struct {
	char *filename;      /* decoded to UTF-8 (RFC 2047/2231); NULL when none */
	char *declared_type; /* lowercased Content-Type as sent, "image/jpeg" */
	char *content_type;  /* sniffed from the bytes; "application/octet-stream" if unknown */
	gsize size;          /* decoded size in bytes */
	char *sha256;        /* lowercase hex of the decoded bytes */
	attachment_kind_t kind;
	char *reason;       /* why it is not an ID document / why rejected; may be NULL */
	char *content_id;   /* without <>; NULL when none */
	gboolean is_inline; /* Content-Disposition: inline or referenced by Content-ID */
	gpointer sink_data; /* what parser_sink_t.open returned for it (see below) */
	/* What kind of identity document the name or the mail's text says it is:
	 * "drivers_license", "passport", "my_number_card", "health_insurance_card",
	 * "residence_card", "resident_record", "pension_book", "disability_card";
	 * NULL when nothing says.  Static string. */
	const char *document_type;
	gboolean needs_masking_check; /* may show a My Number or an insurance number */
	gboolean encrypted;           /* a password-protected archive (or entry): unreadable */
	int parent;                   /* index in attachments of the archive or winmail.dat it
	                               * came out of; -1 for a MIME part of the mail itself */
} parser_attachment_t;

/* One request type found in the mail, with what said so. */
typedef struct {
	const char *type;    /* request type id; static */
	GPtrArray *phrases;  /* of char*: the rules' phrases found (folded), distinct */
	gboolean in_subject; /* one of them is in the subject */
	double confidence;   /* 0–1, see request-rules.ini ("CONFIDENCE") */
} parser_evidence_t;

typedef struct {
	char *message_id;         /* without <>; NULL when the mail has none */
	char *from_name;          /* UTF-8; NULL when none */
	char *from_address;       /* lowercased addr-spec; NULL when unparseable */
	char *subject;            /* UTF-8; "" when none */
	GDateTime *date;          /* Date: header; NULL when missing or unparseable */
	char *language;           /* "ja" or "en" */
	GPtrArray *request_types; /* of char*, primary first; empty when none */
	gboolean is_auto;         /* auto-reply, bounce, list mail: never answer automatically */
	char *auto_reason;        /* which header or pattern said so; NULL unless is_auto */
	char *in_reply_to;        /* without <>; NULL when none */
	GPtrArray *references;    /* of char*, without <> */
	char *ticket_ref;         /* "PRV-YYYY-NNNNNN" found in the subject, or NULL */
	char *text;               /* the body text, UTF-8 (HTML-only mail: its text) */
	GPtrArray *attachments;   /* of parser_attachment_t*, in MIME order */
	guint id_document_count;
	char *problem; /* non-NULL: the mail could not be fully understood (why) */
	/* Added with issue 3 (all may be NULL/FALSE/empty): */
	GPtrArray *request_evidence;  /* of parser_evidence_t*, in request_types order */
	double confidence;            /* of the primary type; PARSER_CONFIDENCE_NONE when no
	                               * rule matched (request_types is then empty, and the
	                               * JSON reports "inquiry" with this confidence) */
	char *forwarded_by;           /* a forwarded request: the forwarder's address (the
	                               * From/subject/text above are the inner message's) */
	char *forwarded_by_name;      /* and name, UTF-8; NULL when none */
	char *bounce_recipient;       /* multipart/report bounce: the failed recipient */
	char *bounce_status;          /* its DSN status ("5.1.1") */
	char *bounce_message_id;      /* the Message-ID of the returned mail (without <>):
	                               * which of our replies bounced; NULL when not shown */
	const char *document_type;    /* the first ID document's type, else the one the
	                               * text names; static, NULL when unknown */
	gboolean needs_masking_check; /* an ID document (or the text) may show a
	                               * My Number or a health-insurance number */
	gboolean encrypted_archive;   /* a password-protected archive came with it */
	gboolean over_limit;          /* a configured limit stopped the parse (see problem) */
} parser_request_t;

#define PARSER_CONFIDENCE_NONE 0.1

/* Where decoded attachment bytes go.  All members optional. */
typedef struct {
	/* Called before an attachment is decoded.  Returns the stream that
	 * receives its decoded bytes (the parser unrefs it when done) and sets
	 * *sink_data_out to anything the caller wants back in
	 * parser_attachment_t.sink_data.  Return NULL to decode without keeping. */
	GMimeStream *(*open)(gpointer user_data, gpointer *sink_data_out, GError **error);
	/* Called after decoding, with the attachment's facts (size, sha256,
	 * sniffed type, kind) filled in, so the caller can keep or drop what
	 * the sink received.  Returning FALSE aborts the parse with the error. */
	gboolean (*close)(gpointer user_data, parser_attachment_t *attachment, GError **error);
	gpointer user_data;
} parser_sink_t;

typedef struct parser parser_t;

/* A parser for CONFIG's limits and the request-type rules in RULES_INI
 * (the text of the rules file; see parser/request-rules.ini for the format).
 * CONFIG is borrowed and must outlive the parser.  Caller frees with parser_free(). */
parser_t *parser_new(const parser_config_t *config, const char *rules_ini, gsize rules_len,
                     GError **error);
void parser_free(parser_t *parser);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(parser_t, parser_free)

/* Parse one message from STREAM (read from its current position to its end).
 * SINK may be NULL.  Caller frees with parser_request_free(). */
parser_request_t *parser_parse_stream(parser_t *parser, GMimeStream *stream,
                                      const parser_sink_t *sink, GError **error);
/* A read-only stream over the file FD (taken: closed with the stream and its
 * substreams), from offset 0, read 64 KiB at a time with pread(2), for
 * parser_parse_stream().  GMime's own file stream makes an lseek(2) and a
 * read(2) for every 4 KiB the parser asks for. */
GMimeStream *parser_file_stream_new(int fd);

/* The same from a byte array (copied into a memory stream). */
parser_request_t *parser_parse_bytes(parser_t *parser, const char *data, gsize len,
                                     const parser_sink_t *sink, GError **error);

void parser_request_free(parser_request_t *request);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(parser_request_t, parser_request_free)

/* The primary request type, or NULL when none was recognised. Borrowed. */
const char *parser_request_primary_type(const parser_request_t *request);

/* The JSON object printed by `privacy-inbox parse --json` (fields listed in
 * README.md).  Caller frees with json_node_unref(). */
JsonNode *parser_request_to_json(const parser_request_t *request);

/* "id_document", "other" or "rejected": the name of KIND in JSON and SQL. */
const char *parser_attachment_kind_name(attachment_kind_t kind);

/* Find "PRV-YYYY-NNNNNN" in TEXT; caller frees with g_free(); NULL if none. */
char *parser_find_ticket_ref(const char *text);
