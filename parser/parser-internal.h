/* parser-internal.h — what the parser's files share with each other (and
 * with tests/parser/, which exercise the pieces one by one).  Not part of
 * the module's contract: other modules include parser/parser.h only.
 */
#pragma once

#include "parser/parser.h"

#include <magic.h>

/* ---- charset.c: bytes in any Japanese mail charset → UTF-8 ------------- */

/* Decode DATA (LEN bytes) to UTF-8.  DECLARED is the charset the mail
 * named (NULL when none).  The declared charset is tried first through the
 * superset Japanese mailers really use (ISO-2022-JP as CP50221, Shift_JIS as
 * CP932, EUC-JP as eucJP-ms); when it is missing, wrong or fails, ISO-2022-JP,
 * UTF-8, CP932 and EUC-JP are tried and scored.  The result is always valid
 * UTF-8 without NUL bytes (undecodable bytes become U+FFFD).  *USED_OUT (may
 * be NULL) receives a static name of the charset finally used; *ERRORS_OUT
 * (may be NULL) the number of bytes that could not be decoded.
 * Caller frees with g_free(). */
char *parser_charset_decode(const char *data, gsize len, const char *declared,
                            const char **used_out, guint *errors_out);

/* TRUE when CHARSET names a Japanese legacy charset (ISO-2022-JP, Shift_JIS,
 * CP932, EUC-JP and their aliases). */
gboolean parser_charset_is_japanese(const char *charset);

/* A raw header value made safe for GMime's decoders: unfolded and trimmed,
 * raw 8-bit or raw ISO-2022-JP text converted to UTF-8, every RFC 2047
 * encoded word (and, with PARAMS, every RFC 2231 parameter value)
 * re-encoded as UTF-8 after decoding it with parser_charset_decode() —
 * glibc's ISO-2022-JP and Shift_JIS lack the CP932 extensions (①, ㈱)
 * Japanese mail uses, and GMime would turn them into "?".
 * Caller frees with g_free(). */
char *parser_header_normalize(const char *raw, gboolean params);

/* Make any string valid, printable UTF-8: invalid bytes → U+FFFD, NUL and
 * control characters other than TAB/LF dropped, CRLF → LF.  KEEP_NEWLINES
 * FALSE turns TAB/LF into spaces too (for one-line header values).
 * Caller frees with g_free(). */
char *parser_utf8_clean(const char *text, gssize len, gboolean keep_newlines);

/* ---- html.c ---------------------------------------------------------- */

/* Text of an HTML document (UTF-8 in, UTF-8 out): tags stripped, script,
 * style and head content dropped, entities decoded, <br>, <p>, <div>, <li>,
 * <tr> and headings turned into line breaks.  Caller frees with g_free(). */
char *parser_html_to_text(const char *html);

/* The charset an HTML document declares in <meta charset> or
 * <meta http-equiv="Content-Type">, looked for in its first bytes; NULL
 * if none.  Caller frees with g_free(). */
char *parser_html_meta_charset(const char *data, gsize len);

/* ---- text.c ---------------------------------------------------------- */

/* The part of a reply its sender wrote: lines quoted with ">" are skipped,
 * everything after a quote header ("-----Original Message-----",
 * "On … wrote:", "…に書きました:", an Outlook "From:" block) or an inline
 * forward header is cut, and so is the signature ("-- ", or a rule line
 * near the end followed by contact lines: TEL, 〒, mail, company).
 * Caller frees with g_free(). */
char *parser_text_new_part(const char *text);

/* Does LINE (trimmed) open an inline-forwarded message ("---------- Forwarded
 * message ---------", "-------- Forwarded Message --------", "Begin
 * forwarded message:", "-------- 転送メッセージ --------")? */
gboolean parser_text_is_forward_header(const char *line);

/* An inline-forwarded message in TEXT: the From and Subject of its header
 * block (as written, may be RFC 5322 "Name <addr>" or Outlook's "Name
 * [mailto:addr]") and the text after it.  OUTLOOK (the subject says FW:,
 * 転送:) also takes Outlook's reply headers ("-----Original Message-----",
 * a rule of underscores) as the start.  FALSE (outputs NULL) when TEXT
 * forwards nothing or the block has no From.  Caller frees the outputs
 * with g_free(). */
gboolean parser_text_inline_forward(const char *text, gboolean outlook, char **from_out,
                                    char **subject_out, char **body_out);

/* Undo format=flowed (RFC 3676): soft line breaks joined, space-stuffing
 * removed; DELSP also drops the space before a soft break.
 * Caller frees with g_free(). */
char *parser_text_unflow(const char *text, gboolean delsp);

/* The form rules are matched against: NFKC, case-folded, whitespace runs
 * collapsed to one space and line breaks inside Japanese text removed
 * (mailers hard-wrap Japanese lines anywhere).  Caller frees with g_free(). */
char *parser_text_fold(const char *text);

/* ---- classify.c: request-type rules ----------------------------------- */

typedef struct parser_rules parser_rules_t;

/* One phrase found in the mail: kept so the evidence for a decision can be
 * shown later (request_evidence). */
typedef struct {
	const char *type; /* request type id; static (request_type_ids) */
	char *phrase;     /* the rule's phrase, folded */
	gboolean in_subject;
	gsize offset;      /* byte offset in the folded subject or body */
	gboolean negated;  /* a negation cue governs it: not counted */
	gboolean absorbed; /* overlapped by a more specific type: not counted */
} parser_match_t;

void parser_match_free(parser_match_t *match);

/* Parse the rules file's text (see parser/request-rules.ini).  Unknown
 * groups and keys are an error.  Caller frees with parser_rules_free(). */
parser_rules_t *parser_rules_new(const char *ini, gsize len, GError **error);
void parser_rules_free(parser_rules_t *rules);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(parser_rules_t, parser_rules_free)

/* The request types SUBJECT and TEXT (the sender's new text, not yet
 * folded) ask for, primary first, as static ids (a GPtrArray without a
 * free function).  *MATCHES_OUT (may be NULL) receives every phrase found,
 * counted or not (parser_match_t, freed with the array). */
GPtrArray *parser_rules_classify(const parser_rules_t *rules, const char *subject, const char *text,
                                 GPtrArray **matches_out);

/* ---- autodetect.c ---------------------------------------------------- */

/* Why MESSAGE is automatic mail (auto-reply, bounce, list mail), e.g.
 * "Auto-Submitted: auto-replied"; NULL when it is not.  SUBJECT is the
 * decoded subject.  Caller frees with g_free(). */
char *parser_auto_reason(GMimeMessage *message, const char *subject);

/* ---- sniff.c: one decode into the sink, a hash and libmagic ------------ */

#define PARSER_SNIFF_BYTES (64 * 1024)

/* A write-only GMimeStream that passes every byte to SINK (may be NULL),
 * hashes it (SHA-256) and keeps the first PARSER_SNIFF_BYTES for libmagic.
 * After LIMIT bytes it stops: the write that crosses it passes what fits
 * and fails, which ends GMime's decoding early. */
typedef struct _ParserDigestStream ParserDigestStream;
GMimeStream *parser_digest_stream_new(GMimeStream *sink, gsize limit);
gsize parser_digest_stream_size(GMimeStream *stream);
gboolean parser_digest_stream_limit_hit(GMimeStream *stream);
/* errno of the sink's failed write, 0 when the sink never failed. */
int parser_digest_stream_sink_errno(GMimeStream *stream);
/* Lowercase hex SHA-256 of everything passed; caller frees with g_free(). */
char *parser_digest_stream_sha256(GMimeStream *stream);
/* The first bytes; borrowed, valid while the stream lives. */
const guint8 *parser_digest_stream_head(GMimeStream *stream, gsize *len_out);

/* The MIME type libmagic sees in DATA; "application/octet-stream" when it
 * cannot tell.  Caller frees with g_free(). */
char *parser_sniff_mime_type(magic_t magic, const guint8 *data, gsize len);

/* Fill in ATTACHMENT->kind and ->reason from its sniffed type, size, name,
 * declared type and inline flag.  TRUNCATED: decoding stopped at a limit. */
void parser_sniff_classify(parser_attachment_t *attachment, gsize signature_image_bytes,
                           gboolean truncated);

/* An office document that must be rejected: one with macros (seen in its
 * first bytes HEAD) or one named or declared as an image or a PDF.
 * Returns the reason (caller frees), or NULL when it is harmless. */
char *parser_sniff_office_risk(const parser_attachment_t *attachment, const guint8 *head,
                               gsize head_len);

/* "zip" for archives libarchive opens, "tnef" for winmail.dat, NULL for
 * anything else; from the sniffed type (and the declared one for TNEF,
 * which libmagic may not know). */
const char *parser_sniff_container(const parser_attachment_t *attachment);

/* ---- mime.c: the walk over the MIME tree ------------------------------- */

typedef enum {
	LEAF_TEXT_PLAIN,
	LEAF_TEXT_HTML,
	LEAF_ATTACHMENT,
	LEAF_DELIVERY_STATUS, /* message/delivery-status in a multipart/report */
} leaf_role_t;

typedef struct {
	GMimeObject *object; /* borrowed from the message */
	leaf_role_t role;
	int alt_group;       /* index of the nearest multipart/alternative, -1 if none */
	int alt_branch;      /* which of its children this leaf is under */
	gboolean in_related; /* under multipart/related */
	guint level;         /* 0: the mail itself; n: inside the n-th forwarded message */
} parser_leaf_t;

/* Walk MESSAGE's tree (at most MAX_PARTS objects, MAX_DEPTH levels) into
 * LEAVES (of parser_leaf_t, owned by the caller).  The first
 * message/rfc822 part of a message that is not a report is a forwarded
 * message: the walk goes into it (leaves at level + 1) and appends it to
 * FORWARDED (of GMimeMessage*, borrowed; may be NULL: then nothing is
 * entered).  Other message/rfc822 parts are attachments.  Returns a
 * one-line description of the limit that stopped the walk, or NULL;
 * caller frees. */
char *parser_mime_collect(GMimeMessage *message, guint max_parts, guint max_depth, GArray *leaves,
                          GPtrArray *forwarded);

/* The decoded file name of PART (RFC 2047/2231, Japanese charsets), or
 * NULL.  Caller frees with g_free(). */
char *parser_mime_filename(GMimeObject *part, GMimeParserOptions *options);

/* The raw value of header NAME on OBJECT, or NULL; borrowed. */
const char *parser_mime_raw_header(GMimeObject *object, const char *name);

/* ---- container.c: archives and winmail.dat ------------------------------- */

/* What container.c calls for each file inside. */
typedef struct {
	/* A file named NAME (UTF-8 or NULL) starts; ENCRYPTED: it is password
	 * protected and no bytes follow.  Returns the stream its bytes go to. */
	GMimeStream *(*open)(gpointer user_data, const char *name, gboolean encrypted);
	/* The file OUT received is complete; NAME (may be NULL) is a better name
	 * learnt after its bytes (TNEF's long file name).  FALSE stops the walk
	 * (a sink failed). */
	gboolean (*close)(gpointer user_data, GMimeStream *out, gboolean encrypted,
	                  const char *name);
	guint max_entries;  /* files read at most */
	gsize max_unpacked; /* bytes unpacked at most (all files together) */
} parser_entry_cbs_t;

/* Read the archive SOURCE (decoded bytes, read as a stream) one level deep.
 * *ENCRYPTED_OUT: some entry (or the whole archive) is password protected.
 * Returns why it could not be read to the end (caller frees), or NULL. */
char *parser_archive_each(GMimeStream *source, const parser_entry_cbs_t *cbs, gpointer user_data,
                          gboolean *encrypted_out);

/* The attachments inside the TNEF stream SOURCE (a winmail.dat's decoded
 * bytes).  Returns why it could not be read to the end (caller frees), or
 * NULL. */
char *parser_tnef_each(GMimeStream *source, const parser_entry_cbs_t *cbs, gpointer user_data);

/* ---- idhint.c: what kind of identity document ----------------------------- */

/* The document type a file name or text names ("drivers_license", …; see
 * parser.h), the earliest mention in TEXT; NULL when none.  Static. */
const char *parser_document_type_find(const char *text);

/* How many distinct document types TEXT names (0, 1 or more). */
guint parser_document_type_count(const char *text);

/* Does a document of TYPE show a number we must not keep unmasked (My
 * Number, health-insurance numbers)? */
gboolean parser_document_type_needs_masking(const char *type);

/* Does TEXT mention a My Number or a health-insurance card at all? */
gboolean parser_text_mentions_masked_number(const char *text);

/* ---- decode.c --------------------------------------------------------- */

/* A readable stream of OBJECT's decoded content (a second pass, for the
 * containers above); NULL when it has none.  Caller unrefs. */
GMimeStream *parser_decoded_reader(GMimeObject *object);

/* Decode OBJECT's content (a leaf part: transfer encoding undone; a
 * message/rfc822 part: the message as written) into OUT, once.
 * *INVALID_OUT receives the number of bytes that were not base64 in a
 * base64 part.  FALSE when OUT refused a write (a limit or a sink failure). */
gboolean parser_decode_content(GMimeObject *object, GMimeStream *out, guint *invalid_out);
