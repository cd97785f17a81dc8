/* parser.c — bytes → request: the public entry points (see parser.h).
 *
 * One parse: bound the input (max_message_bytes), let GMime build the tree
 * (content stays in the file for a file-backed stream), read the headers
 * through parser_header_normalize(), walk the tree (mime.c), decode the body
 * text (charset.c, html.c), decode each attachment once into the sink, a
 * hash and libmagic (decode.c, sniff.c), then classify (classify.c) and
 * detect automatic mail (autodetect.c).  Problems are collected as one line;
 * only an unreadable stream or a failing sink is an error.
 */
#include "parser/parser-internal.h"

#include <errno.h>
#include <string.h>

G_DEFINE_QUARK(privacy - inbox - parser - error - quark, parser_error)

/* Body text beyond this is cut (and said so in `problem`). */
#define MAX_TEXT_BYTES (4u << 20)
/* A message GMime cannot parse at all is read as text, up to this. */
#define SALVAGE_BYTES (256u << 10)
/* `problem` stays one readable line. */
#define MAX_PROBLEMS 4

struct parser {
	const parser_config_t *config;
	parser_rules_t *rules;
	magic_t magic;
	GMimeParserOptions *options;
};

typedef struct {
	parser_t *parser;
	parser_request_t *request;
	const parser_sink_t *sink;
	GPtrArray *problems; /* of char*, distinct */
	GPtrArray *html;     /* of char*: decoded HTML bodies, for cid: references */
	gsize text_bytes;
	gboolean last_truncated; /* the last attachment hit max_attachment_bytes */
} parse_t;

parser_t *
parser_new(const parser_config_t *config, const char *rules_ini, gsize rules_len, GError **error)
{
	static const char *fallback[] = {"utf-8", "cp932", "euc-jp", "iso-8859-1", NULL};
	parser_t *parser;
	parser_rules_t *rules;
	magic_t magic;

	g_return_val_if_fail(config != NULL, NULL);
	rules = parser_rules_new(rules_ini, rules_len, error);
	if (rules == NULL)
		return NULL;
	magic = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR);
	if (magic == NULL || magic_load(magic, NULL) != 0) {
		g_set_error(error, PARSER_ERROR, PI_ERROR_FATAL,
		            "cannot load the libmagic database: %s",
		            magic ? magic_error(magic) : g_strerror(errno));
		if (magic != NULL)
			magic_close(magic);
		parser_rules_free(rules);
		return NULL;
	}
	g_mime_init();
	parser = g_new0(parser_t, 1);
	parser->config = config;
	parser->rules = rules;
	parser->magic = magic;
	parser->options = g_mime_parser_options_new();
	g_mime_parser_options_set_rfc2047_compliance_mode(parser->options,
	                                                  GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_parameter_compliance_mode(parser->options,
	                                                    GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_address_compliance_mode(parser->options,
	                                                  GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_allow_addresses_without_domain(parser->options, TRUE);
	g_mime_parser_options_set_fallback_charsets(parser->options, fallback);
	return parser;
}

void
parser_free(parser_t *parser)
{
	if (parser == NULL)
		return;
	parser_rules_free(parser->rules);
	magic_close(parser->magic);
	g_mime_parser_options_free(parser->options);
	g_free(parser);
	/* No g_mime_shutdown(): GMime 3.2.13 cannot be initialised again after
	 * its count drops to zero (g_mime_init() hits a freed table), so the
	 * count parser_new() took is kept for the life of the process. */
}

static void
attachment_free(gpointer data)
{
	parser_attachment_t *a = data;
	if (a == NULL)
		return;
	g_free(a->filename);
	g_free(a->declared_type);
	g_free(a->content_type);
	g_free(a->sha256);
	g_free(a->reason);
	g_free(a->content_id);
	g_free(a);
}

static void
evidence_free(gpointer data)
{
	parser_evidence_t *e = data;
	if (e == NULL)
		return;
	g_ptr_array_unref(e->phrases);
	g_free(e);
}

void
parser_request_free(parser_request_t *request)
{
	if (request == NULL)
		return;
	g_free(request->message_id);
	g_free(request->from_name);
	g_free(request->from_address);
	g_free(request->subject);
	g_clear_pointer(&request->date, g_date_time_unref);
	g_free(request->language);
	g_ptr_array_unref(request->request_types);
	g_free(request->auto_reason);
	g_free(request->in_reply_to);
	g_ptr_array_unref(request->references);
	g_free(request->ticket_ref);
	g_free(request->text);
	g_ptr_array_unref(request->attachments);
	g_free(request->problem);
	g_ptr_array_unref(request->request_evidence);
	g_free(request->forwarded_by);
	g_free(request->forwarded_by_name);
	g_free(request->bounce_recipient);
	g_free(request->bounce_status);
	g_free(request->bounce_message_id);
	g_free(request);
}

const char *
parser_request_primary_type(const parser_request_t *request)
{
	if (request == NULL || request->request_types->len == 0)
		return NULL;
	return request->request_types->pdata[0];
}

char *
parser_find_ticket_ref(const char *text)
{
	g_autofree char *nfkc = NULL;

	if (text == NULL || !g_utf8_validate(text, -1, NULL))
		return NULL;
	nfkc = g_utf8_normalize(text, -1, G_NORMALIZE_NFKC);
	for (const char *p = nfkc; p && *p; p++) {
		const char *q = p + 4;
		gboolean ok;
		if (g_ascii_strncasecmp(p, "PRV-", 4) != 0)
			continue;
		if (p > nfkc && g_ascii_isalnum(p[-1]))
			continue;
		ok = TRUE;
		for (int i = 0; i < 4 && ok; i++)
			ok = g_ascii_isdigit(q[i]);
		ok = ok && q[4] == '-';
		for (int i = 5; i < 11 && ok; i++)
			ok = g_ascii_isdigit(q[i]);
		if (ok && !g_ascii_isdigit(q[11]))
			return g_strdup_printf("PRV-%.4s-%.6s", q, q + 5);
	}
	return NULL;
}

/* ---- problems ------------------------------------------------------------------ */

static void G_GNUC_PRINTF(2, 3) add_problem(parse_t *p, const char *fmt, ...)
{
	va_list ap;
	char *line;

	va_start(ap, fmt);
	line = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	for (guint i = 0; i < p->problems->len; i++) {
		if (strcmp(p->problems->pdata[i], line) == 0) {
			g_free(line);
			return;
		}
	}
	g_ptr_array_add(p->problems, line);
}

static void
on_warning(gint64 offset, GMimeParserWarning code, const gchar *item, gpointer user_data)
{
	parse_t *p = user_data;
	g_autofree char *what = parser_utf8_clean(item ? item : "", -1, FALSE);

	if (what[0] != '\0' && strlen(what) > 40)
		what[40] = '\0';
	switch (code) {
	case GMIME_WARN_MALFORMED_MULTIPART:
		add_problem(p, "malformed multipart/%s: its parts could not be found", what);
		break;
	case GMIME_WARN_TRUNCATED_MESSAGE:
		add_problem(p, "truncated message: a multipart ends without its closing boundary");
		break;
	case GMIME_WARN_MALFORMED_MESSAGE:
		add_problem(p, "malformed message");
		break;
	case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY:
		add_problem(p, "multipart/%s without a boundary: its parts could not be read",
		            what);
		break;
	case GMIME_CRIT_NESTING_OVERFLOW:
		add_problem(p, "MIME parts nested too deeply for GMime");
		break;
	case GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT:
		add_problem(p, "a MIME part without headers or content");
		break;
	default:
		g_debug("GMime warning %d at %" G_GINT64_FORMAT, (int)code, offset);
		break;
	}
}

static char *
join_problems(GPtrArray *problems)
{
	GString *out;

	if (problems->len == 0)
		return NULL;
	out = g_string_new(NULL);
	for (guint i = 0; i < problems->len && i < MAX_PROBLEMS; i++) {
		if (i > 0)
			g_string_append(out, "; ");
		g_string_append(out, problems->pdata[i]);
	}
	if (problems->len > MAX_PROBLEMS)
		g_string_append_printf(out, "; and %u more", problems->len - MAX_PROBLEMS);
	return g_string_free(out, FALSE);
}

/* ---- input --------------------------------------------------------------------- */

static GMimeStream *copy_input(parse_t *p, GMimeStream *stream, gsize max, GError **error);

/* The stream GMime reads: STREAM itself, a window of its first
 * max_message_bytes, or (not seekable) a memory copy of them.  NULL with
 * ERROR when the stream cannot be read. */
static GMimeStream *
bounded_input(parse_t *p, GMimeStream *stream, GError **error)
{
	gsize max = p->parser->config->max_message_bytes;
	gint64 start = g_mime_stream_tell(stream);
	gint64 end = start >= 0 ? g_mime_stream_seek(stream, 0, GMIME_STREAM_SEEK_END) : -1;

	if (max == 0)
		max = G_MAXSIZE;
	if (start >= 0 && end >= start &&
	    g_mime_stream_seek(stream, start, GMIME_STREAM_SEEK_SET) == start) {
		if ((guint64)(end - start) > (guint64)max) {
			p->request->over_limit = TRUE;
			add_problem(p,
			            "message larger than max_message_bytes (%" G_GSIZE_FORMAT
			            " bytes): only its first part was read",
			            max);
			return g_mime_stream_substream(stream, start, start + (gint64)max);
		}
		/* a window from the current position, so a reset (salvage) goes
		 * back to where the message starts, not to the file's start */
		return g_mime_stream_substream(stream, start, end);
	}
	/* GMimeStreamFs cannot read a pipe at all (every read seeks first):
	 * read its descriptor through a GMimeStreamPipe instead */
	if (GMIME_IS_STREAM_FS(stream) && GMIME_STREAM_FS(stream)->fd >= 0) {
		g_autoptr(GMimeStream) pipe = g_mime_stream_pipe_new(GMIME_STREAM_FS(stream)->fd);
		g_mime_stream_pipe_set_owner(GMIME_STREAM_PIPE(pipe), FALSE);
		return copy_input(p, pipe, max, error);
	}
	return copy_input(p, stream, max, error);
}

/* not seekable: copy at most max + 1 bytes */
static GMimeStream *
copy_input(parse_t *p, GMimeStream *stream, gsize max, GError **error)
{
	{
		GByteArray *bytes = g_byte_array_new();
		GMimeStream *mem = g_mime_stream_mem_new_with_byte_array(bytes);
		char buf[65536];
		while (!g_mime_stream_eos(stream) && bytes->len <= max) {
			ssize_t n =
			    g_mime_stream_read(stream, buf, MIN(sizeof buf, max + 1 - bytes->len));
			if (n < 0) {
				g_set_error(error, PARSER_ERROR, PI_ERROR_TEMPORARY,
				            "cannot read the message: %s", g_strerror(errno));
				g_object_unref(mem);
				return NULL;
			}
			if (n == 0)
				break;
			g_byte_array_append(bytes, (const guint8 *)buf, (guint)n);
		}
		if (bytes->len > max) {
			g_byte_array_set_size(bytes, (guint)max);
			p->request->over_limit = TRUE;
			add_problem(p,
			            "message larger than max_message_bytes (%" G_GSIZE_FORMAT
			            " bytes): only its first part was read",
			            max);
		}
		return mem;
	}
}

/* ---- headers ------------------------------------------------------------------- */

static char *
header_text(parse_t *p, GMimeObject *object, const char *name)
{
	const char *raw = parser_mime_raw_header(object, name);
	g_autofree char *norm = NULL;
	g_autofree char *decoded = NULL;
	char *clean;

	if (raw == NULL)
		return NULL;
	norm = parser_header_normalize(raw, FALSE);
	decoded = g_mime_utils_header_decode_text(p->parser->options, norm);
	clean = parser_utf8_clean(decoded, -1, FALSE);
	return g_strstrip(clean);
}

static char *
clean_id(const char *id)
{
	char *clean;

	if (id == NULL)
		return NULL;
	clean = parser_utf8_clean(id, -1, FALSE);
	g_strstrip(clean);
	if (*clean == '\0') {
		g_free(clean);
		return NULL;
	}
	return clean;
}

static void
read_from(parse_t *p, GMimeMessage *message)
{
	parser_request_t *r = p->request;
	const char *raw = parser_mime_raw_header(GMIME_OBJECT(message), "From");
	g_autofree char *norm = NULL;
	g_autoptr(InternetAddressList) list = NULL;
	InternetAddress *ia = NULL;

	if (raw == NULL)
		return;
	norm = parser_header_normalize(raw, FALSE);
	list = internet_address_list_parse(p->parser->options, norm);
	if (list == NULL || internet_address_list_length(list) == 0)
		return;
	ia = internet_address_list_get_address(list, 0);
	if (INTERNET_ADDRESS_IS_GROUP(ia)) {
		InternetAddressList *members =
		    internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia));
		ia = members && internet_address_list_length(members) > 0
		         ? internet_address_list_get_address(members, 0)
		         : NULL;
	}
	if (ia == NULL)
		return;
	if (internet_address_get_name(ia) != NULL) {
		char *name = parser_utf8_clean(internet_address_get_name(ia), -1, FALSE);
		g_strstrip(name);
		if (*name)
			r->from_name = name;
		else
			g_free(name);
	}
	if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
		const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
		g_autofree char *clean = clean_id(addr);
		if (clean != NULL)
			r->from_address = g_utf8_strdown(clean, -1);
	}
}

static void
read_headers(parse_t *p, GMimeMessage *message)
{
	parser_request_t *r = p->request;
	GMimeParserOptions *options = p->parser->options;
	const char *raw;
	GDateTime *date;

	r->message_id = clean_id(g_mime_message_get_message_id(message));
	read_from(p, message);
	r->subject = header_text(p, GMIME_OBJECT(message), "Subject");
	if (r->subject == NULL)
		r->subject = g_strdup("");
	date = g_mime_message_get_date(message);
	if (date != NULL)
		r->date = g_date_time_ref(date);
	if ((raw = parser_mime_raw_header(GMIME_OBJECT(message), "In-Reply-To")) != NULL) {
		g_autoptr(GMimeReferences) refs = g_mime_references_parse(options, raw);
		if (refs != NULL && g_mime_references_length(refs) > 0)
			r->in_reply_to = clean_id(g_mime_references_get_message_id(refs, 0));
	}
	if ((raw = parser_mime_raw_header(GMIME_OBJECT(message), "References")) != NULL) {
		g_autoptr(GMimeReferences) refs = g_mime_references_parse(options, raw);
		for (int i = 0; refs != NULL && i < g_mime_references_length(refs); i++) {
			char *id = clean_id(g_mime_references_get_message_id(refs, i));
			if (id != NULL)
				g_ptr_array_add(r->references, id);
		}
	}
}

/* ---- body text ------------------------------------------------------------------- */

/* Decode a text/plain or text/html leaf to UTF-8 (HTML stays HTML here). */
static char *
decode_text_leaf(parse_t *p, GMimeObject *object, gboolean html)
{
	g_autoptr(GByteArray) bytes = g_byte_array_new();
	g_autoptr(GMimeStream) mem = g_mime_stream_mem_new_with_byte_array(bytes);
	g_autoptr(GMimeStream) digest = NULL;
	g_autofree char *meta = NULL;
	const char *charset = g_mime_object_get_content_type_parameter(object, "charset");
	const char *format = g_mime_object_get_content_type_parameter(object, "format");
	const char *delsp = g_mime_object_get_content_type_parameter(object, "delsp");
	gsize room = p->text_bytes < MAX_TEXT_BYTES ? MAX_TEXT_BYTES - p->text_bytes : 0;
	guint invalid = 0, errors = 0;
	const char *used = NULL;
	char *text;

	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mem), FALSE);
	digest = parser_digest_stream_new(mem, room);
	if (!parser_decode_content(object, digest, &invalid) &&
	    parser_digest_stream_limit_hit(digest))
		add_problem(p, "body text longer than %u MiB: the rest was not read",
		            MAX_TEXT_BYTES >> 20);
	if (invalid > 0)
		add_problem(p, "body text: %u bytes of invalid base64 were skipped", invalid);
	p->text_bytes += bytes->len;
	if (html && (charset == NULL || *charset == '\0'))
		charset = meta = parser_html_meta_charset((const char *)bytes->data, bytes->len);
	text =
	    parser_charset_decode((const char *)bytes->data, bytes->len, charset, &used, &errors);
	g_debug("text part: %u bytes, charset %s read as %s, %u undecodable", bytes->len,
	        charset ? charset : "(none)", used, errors);
	if (errors > 0 && (gsize)errors * 20 > bytes->len)
		add_problem(p, "body text could not be decoded (%u of %u bytes)", errors,
		            bytes->len);
	if (!html && format != NULL && g_ascii_strcasecmp(format, "flowed") == 0) {
		char *unflowed =
		    parser_text_unflow(text, delsp && g_ascii_strcasecmp(delsp, "yes") == 0);
		g_free(text);
		text = unflowed;
	}
	return text;
}

static void
append_text(GString *body, const char *text)
{
	gsize n = strlen(text);

	if (n == 0)
		return;
	if (body->len > 0 && body->str[body->len - 1] != '\n')
		g_string_append_c(body, '\n');
	g_string_append(body, text);
}

static gboolean
is_blank(const char *s)
{
	for (; *s; s++) {
		if (!g_ascii_isspace(*s))
			return FALSE;
	}
	return TRUE;
}

/* For each multipart/alternative, the branch whose text is read: the first
 * with non-blank text/plain, else the last with HTML. */
static GArray *
choose_branches(GArray *leaves, char **texts)
{
	GArray *chosen = g_array_new(FALSE, FALSE, sizeof(int));

	for (guint i = 0; i < leaves->len; i++) {
		const parser_leaf_t *leaf = &g_array_index(leaves, parser_leaf_t, i);
		int none = -1, *slot;
		if (leaf->alt_group < 0)
			continue;
		while (chosen->len <= (guint)leaf->alt_group)
			g_array_append_val(chosen, none);
		slot = &g_array_index(chosen, int, leaf->alt_group);
		if (leaf->role == LEAF_TEXT_PLAIN && !is_blank(texts[i])) {
			const parser_leaf_t *cur = NULL;
			/* keep an earlier plain choice */
			for (guint j = 0; j < i; j++) {
				const parser_leaf_t *l = &g_array_index(leaves, parser_leaf_t, j);
				if (l->alt_group == leaf->alt_group && l->alt_branch == *slot &&
				    l->role == LEAF_TEXT_PLAIN && !is_blank(texts[j]))
					cur = l;
			}
			if (cur == NULL)
				*slot = leaf->alt_branch;
		} else if (leaf->role == LEAF_TEXT_HTML) {
			gboolean plain_chosen = FALSE;
			for (guint j = 0; j < leaves->len; j++) {
				const parser_leaf_t *l = &g_array_index(leaves, parser_leaf_t, j);
				if (l->alt_group == leaf->alt_group && l->role == LEAF_TEXT_PLAIN &&
				    !is_blank(texts[j]))
					plain_chosen = TRUE;
			}
			if (!plain_chosen)
				*slot = leaf->alt_branch;
		}
	}
	return chosen;
}

/* The text of the leaves at LEVEL (0: the mail; n: its n-th forwarded message). */
static char *
read_body(parse_t *p, GArray *leaves, guint level)
{
	char **texts = g_new0(char *, leaves->len + 1);
	g_autoptr(GArray) chosen = NULL;
	GString *body = g_string_new(NULL);

	for (guint i = 0; i < leaves->len; i++) {
		const parser_leaf_t *leaf = &g_array_index(leaves, parser_leaf_t, i);
		if (leaf->role == LEAF_ATTACHMENT || leaf->role == LEAF_DELIVERY_STATUS ||
		    leaf->level != level) {
			texts[i] = g_strdup("");
			continue;
		}
		texts[i] = decode_text_leaf(p, leaf->object, leaf->role == LEAF_TEXT_HTML);
		if (leaf->role == LEAF_TEXT_HTML) {
			g_ptr_array_add(p->html, g_strdup(texts[i]));
			{
				char *plain = parser_html_to_text(texts[i]);
				g_free(texts[i]);
				texts[i] = plain;
			}
		}
	}
	chosen = choose_branches(leaves, texts);
	for (guint i = 0; i < leaves->len; i++) {
		const parser_leaf_t *leaf = &g_array_index(leaves, parser_leaf_t, i);
		if (leaf->role == LEAF_ATTACHMENT || leaf->role == LEAF_DELIVERY_STATUS ||
		    leaf->level != level)
			continue;
		if (leaf->alt_group >= 0 &&
		    g_array_index(chosen, int, leaf->alt_group) != leaf->alt_branch)
			continue;
		append_text(body, texts[i]);
	}
	g_strfreev(texts);
	return g_string_free(body, FALSE);
}

/* ---- attachments ------------------------------------------------------------------ */

static gboolean
html_references(parse_t *p, const char *content_id)
{
	g_autofree char *needle = g_strdup_printf("cid:%s", content_id);
	g_autofree char *lower = g_ascii_strdown(needle, -1);

	for (guint i = 0; i < p->html->len; i++) {
		g_autofree char *html = g_ascii_strdown(p->html->pdata[i], -1);
		if (strstr(html, lower) != NULL)
			return TRUE;
	}
	return FALSE;
}

/* Start an attachment: A is in the request's list; its bytes go to the
 * returned stream (the sink's, through a digest).  NULL with ERROR when the
 * sink cannot take it. */
static GMimeStream *
attachment_begin(parse_t *p, parser_attachment_t *a, GError **error)
{
	const parser_config_t *config = p->parser->config;
	GMimeStream *sink_stream = NULL;
	GMimeStream *digest;
	g_autoptr(GError) local = NULL;

	if (p->sink != NULL && p->sink->open != NULL) {
		sink_stream = p->sink->open(p->sink->user_data, &a->sink_data, &local);
		if (sink_stream == NULL && local != NULL) {
			g_propagate_prefixed_error(error, g_steal_pointer(&local),
			                           "cannot store an attachment: ");
			return NULL;
		}
	}
	digest = parser_digest_stream_new(
	    sink_stream, config->max_attachment_bytes ? config->max_attachment_bytes : G_MAXSIZE);
	g_clear_object(&sink_stream); /* the digest stream holds it until freed */
	return digest;
}

/* The bytes of A are all in DIGEST (which this unrefs): type, hash and
 * kind from them, then the sink's close.  *HEAD_OUT (may be NULL) keeps
 * the first bytes for a container check (caller frees). */
static gboolean
attachment_end(parse_t *p, parser_attachment_t *a, GMimeStream *digest, guint invalid,
               GByteArray **head_out, GError **error)
{
	const parser_config_t *config = p->parser->config;
	g_autoptr(GError) local = NULL;
	g_autofree char *risk = NULL;
	const guint8 *head;
	gsize head_len;
	int sink_errno;
	gboolean truncated;

	truncated = parser_digest_stream_limit_hit(digest);
	p->last_truncated = truncated;
	sink_errno = parser_digest_stream_sink_errno(digest);
	a->size = parser_digest_stream_size(digest);
	a->sha256 = parser_digest_stream_sha256(digest);
	head = parser_digest_stream_head(digest, &head_len);
	a->content_type = parser_sniff_mime_type(p->parser->magic, head, head_len);
	if (!a->encrypted)
		risk = parser_sniff_office_risk(a, head, head_len);
	if (head_out != NULL) {
		*head_out = g_byte_array_sized_new((guint)head_len);
		g_byte_array_append(*head_out, head, (guint)head_len);
	}
	g_mime_stream_flush(digest);
	g_object_unref(digest); /* releases the sink's stream: it is complete */

	if (invalid > 0)
		add_problem(p, "attachment %s: %u bytes of invalid base64 were skipped",
		            a->filename ? a->filename : "(unnamed)", invalid);
	if (truncated) {
		p->request->over_limit = TRUE;
		add_problem(p,
		            "attachment %s larger than max_attachment_bytes (%" G_GSIZE_FORMAT
		            " bytes): not read to the end",
		            a->filename ? a->filename : "(unnamed)", config->max_attachment_bytes);
	}
	parser_sniff_classify(a, config->signature_image_bytes, truncated);
	if (risk != NULL && a->kind != ATTACHMENT_REJECTED) {
		a->kind = ATTACHMENT_REJECTED;
		g_free(a->reason);
		a->reason = g_steal_pointer(&risk);
	}
	if (a->encrypted) {
		a->kind = ATTACHMENT_OTHER;
		g_free(a->reason);
		a->reason = g_strdup("password-protected: it cannot be read without the password");
		p->request->encrypted_archive = TRUE;
	}
	if (sink_errno != 0) {
		g_free(a->reason);
		a->reason = g_strdup_printf("the sink failed: %s", g_strerror(sink_errno));
	}
	if (a->kind == ATTACHMENT_ID_DOCUMENT)
		p->request->id_document_count++;
	g_debug("attachment: %s declared %s sniffed %s, %" G_GSIZE_FORMAT " bytes, kind %d",
	        a->filename ? "named" : "unnamed", a->declared_type ? a->declared_type : "-",
	        a->content_type, a->size, (int)a->kind);

	if (p->sink != NULL && p->sink->close != NULL &&
	    !p->sink->close(p->sink->user_data, a, &local)) {
		if (local == NULL)
			g_set_error(&local, PARSER_ERROR, PI_ERROR_TEMPORARY,
			            "the sink refused it");
		g_propagate_prefixed_error(error, g_steal_pointer(&local),
		                           "cannot store an attachment: ");
		return FALSE;
	}
	if (sink_errno != 0) {
		g_set_error(error, PARSER_ERROR, PI_ERROR_TEMPORARY,
		            "cannot store an attachment: %s", g_strerror(sink_errno));
		return FALSE;
	}
	return TRUE;
}

/* ---- what is inside archives and winmail.dat --------------------------------------- */

typedef struct {
	parse_t *p;
	int parent;
	parser_attachment_t *current;
	GError *error; /* the first sink failure */
} entry_ctx_t;

static GMimeStream *
entry_open(gpointer user_data, const char *name, gboolean encrypted)
{
	entry_ctx_t *ctx = user_data;
	parser_attachment_t *a = g_new0(parser_attachment_t, 1);
	GMimeStream *digest;

	a->parent = ctx->parent;
	a->filename = g_strdup(name);
	a->encrypted = encrypted;
	g_ptr_array_add(ctx->p->request->attachments, a);
	ctx->current = a;
	digest = ctx->error == NULL ? attachment_begin(ctx->p, a, &ctx->error) : NULL;
	if (digest == NULL) /* the sink failed: go on without keeping the bytes */
		digest = parser_digest_stream_new(NULL, 0);
	return digest;
}

static gboolean
entry_close(gpointer user_data, GMimeStream *out, gboolean encrypted, const char *name)
{
	entry_ctx_t *ctx = user_data;

	ctx->current->encrypted = encrypted;
	if (name != NULL) {
		g_free(ctx->current->filename);
		ctx->current->filename = g_strdup(name);
	}
	if (ctx->error != NULL) {
		g_object_unref(out);
		ctx->current->content_type = g_strdup("application/octet-stream");
		ctx->current->sha256 = pi_sha256_hex("", 0);
		return FALSE;
	}
	return attachment_end(ctx->p, ctx->current, out, 0, NULL, &ctx->error);
}

static gboolean
open_container(parse_t *p, GMimeObject *object, guint index, const char *kind, GError **error)
{
	const parser_config_t *config = p->parser->config;
	parser_attachment_t *container = p->request->attachments->pdata[index];
	parser_entry_cbs_t cbs = {
	    entry_open, entry_close, config->max_parts ? config->max_parts : G_MAXUINT,
	    config->max_attachment_bytes ? config->max_attachment_bytes : G_MAXSIZE};
	entry_ctx_t ctx = {p, (int)index, NULL, NULL};
	g_autoptr(GMimeStream) reader = parser_decoded_reader(object);
	g_autofree char *failure = NULL;
	const char *name = container->filename ? container->filename : "(unnamed)";

	if (reader == NULL)
		return TRUE;
	if (strcmp(kind, "tnef") == 0) {
		failure = parser_tnef_each(reader, &cbs, &ctx);
	} else {
		gboolean encrypted = FALSE;
		failure = parser_archive_each(reader, &cbs, &ctx, &encrypted);
		if (encrypted) {
			container->encrypted = TRUE;
			p->request->encrypted_archive = TRUE;
			g_free(container->reason);
			container->reason =
			    g_strdup("password-protected archive: its files cannot be "
			             "read without the password");
		}
	}
	if (ctx.error != NULL) {
		g_propagate_error(error, ctx.error);
		return FALSE;
	}
	if (failure != NULL)
		add_problem(p, "attachment %s: %s", name, failure);
	return TRUE;
}

static gboolean
read_attachment(parse_t *p, const parser_leaf_t *leaf, GError **error)
{
	parser_attachment_t *a = g_new0(parser_attachment_t, 1);
	GMimeObject *object = leaf->object;
	GMimeContentType *ct = g_mime_object_get_content_type(object);
	GMimeContentDisposition *disp = g_mime_object_get_content_disposition(object);
	GMimeStream *digest;
	guint invalid = 0, index;
	const char *container;

	a->parent = -1;
	a->filename = parser_mime_filename(object, p->parser->options);
	if (ct != NULL) {
		g_autofree char *mime = g_mime_content_type_get_mime_type(ct);
		a->declared_type = parser_utf8_clean(mime, -1, FALSE);
		g_strstrip(a->declared_type);
		{
			char *lower = g_ascii_strdown(a->declared_type, -1);
			g_free(a->declared_type);
			a->declared_type = lower;
		}
	}
	a->content_id = clean_id(g_mime_object_get_content_id(object));
	a->is_inline =
	    (disp != NULL && !g_mime_content_disposition_is_attachment(disp) &&
	     g_ascii_strcasecmp(g_mime_content_disposition_get_disposition(disp), "inline") == 0) ||
	    (a->content_id != NULL && (leaf->in_related || html_references(p, a->content_id)));
	index = p->request->attachments->len;
	g_ptr_array_add(p->request->attachments, a);

	digest = attachment_begin(p, a, error);
	if (digest == NULL)
		return FALSE;
	parser_decode_content(object, digest, &invalid);
	if (!attachment_end(p, a, digest, invalid, NULL, error))
		return FALSE;
	/* one level: what came out of an archive is never opened again */
	container = a->kind == ATTACHMENT_REJECTED ? NULL : parser_sniff_container(a);
	if (container != NULL && !p->last_truncated)
		return open_container(p, object, index, container, error);
	return TRUE;
}

/* Document types from names (and, when the text names exactly one, from
 * the text), and what must be checked for numbers before anyone keeps it. */
static void
type_documents(parse_t *p, const char *new_text)
{
	parser_request_t *r = p->request;
	const char *from_text =
	    parser_document_type_count(new_text) == 1 ? parser_document_type_find(new_text) : NULL;
	gboolean text_masked = parser_text_mentions_masked_number(new_text);

	for (guint i = 0; i < r->attachments->len; i++) {
		parser_attachment_t *a = r->attachments->pdata[i];
		const char *type = parser_document_type_find(a->filename);
		gboolean document = a->kind == ATTACHMENT_ID_DOCUMENT || a->encrypted;
		if (type == NULL && document)
			type = from_text;
		a->document_type = type;
		a->needs_masking_check = parser_document_type_needs_masking(type) ||
		                         (document && type == NULL && text_masked);
		r->needs_masking_check |= a->needs_masking_check;
		if (r->document_type == NULL && a->kind == ATTACHMENT_ID_DOCUMENT)
			r->document_type = type;
	}
}

/* ---- the parse ---------------------------------------------------------------------- */

/* How sure the rules are of TYPE, from its counted phrases: each is a
 * piece of independent evidence (subject 0.65, text 0.5, a phrase seen
 * again 0.2; inquiry's cues 0.3 and at most 0.6). */
static parser_evidence_t *
evidence_new(const char *type, GPtrArray *matches)
{
	parser_evidence_t *e = g_new0(parser_evidence_t, 1);
	gboolean inquiry = strcmp(type, "inquiry") == 0;
	double miss = 1.0;

	e->type = type;
	e->phrases = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < matches->len; i++) {
		const parser_match_t *m = matches->pdata[i];
		gboolean again = FALSE;
		double w;
		if (m->type != type || m->negated || m->absorbed)
			continue;
		for (guint j = 0; j < e->phrases->len && !again; j++)
			again = strcmp(e->phrases->pdata[j], m->phrase) == 0;
		w = again ? 0.2 : m->in_subject ? 0.65 : 0.5;
		if (inquiry)
			w = 0.3;
		miss *= 1.0 - w;
		e->in_subject |= m->in_subject;
		if (!again)
			g_ptr_array_add(e->phrases, g_strdup(m->phrase));
	}
	e->confidence = 1.0 - miss;
	if (inquiry && e->confidence > 0.6)
		e->confidence = 0.6;
	if (e->confidence > 0.99)
		e->confidence = 0.99;
	/* two decimals: the JSON shows what staff can read */
	e->confidence = (double)(gint)(e->confidence * 100.0 + 0.5) / 100.0;
	return e;
}

/* Classify SUBJECT and NEW_TEXT (what the sender wrote now), then the
 * fields that depend on the whole mail. */
static void
finish_request(parse_t *p, const char *subject, const char *new_text)
{
	parser_request_t *r = p->request;
	g_autoptr(GPtrArray) matches = NULL;
	g_autoptr(GPtrArray) types =
	    parser_rules_classify(p->parser->rules, subject, new_text, &matches);

	for (guint i = 0; i < types->len; i++) {
		g_ptr_array_add(r->request_types, g_strdup(types->pdata[i]));
		g_ptr_array_add(r->request_evidence, evidence_new(types->pdata[i], matches));
	}
	r->confidence = types->len > 0
	                    ? ((parser_evidence_t *)r->request_evidence->pdata[0])->confidence
	                    : PARSER_CONFIDENCE_NONE;
	for (guint i = 0; i < matches->len; i++) {
		const parser_match_t *m = matches->pdata[i];
		g_debug("rule %s: \"%s\" in %s at %" G_GSIZE_FORMAT "%s%s", m->type, m->phrase,
		        m->in_subject ? "subject" : "text", m->offset,
		        m->negated ? " (negated)" : "", m->absorbed ? " (absorbed)" : "");
	}
	type_documents(p, new_text);
	r->language = g_strdup(
	    pi_text_has_japanese(r->subject) || pi_text_has_japanese(r->text) ? "ja" : "en");
	if (r->ticket_ref == NULL)
		r->ticket_ref = parser_find_ticket_ref(r->subject);
	r->problem = join_problems(p->problems);
}

/* GMime could not find a message: read the input as text. */
static gboolean
salvage(parse_t *p, GMimeStream *input, GError **error)
{
	g_autoptr(GByteArray) bytes = g_byte_array_new();
	char buf[65536];
	guint errors = 0;

	g_mime_stream_reset(input);
	/* A bounded stream (a substream of a file) answers a read at its end
	 * with EINVAL rather than 0: stop at end of stream first. */
	while (bytes->len < SALVAGE_BYTES && !g_mime_stream_eos(input)) {
		ssize_t n =
		    g_mime_stream_read(input, buf, MIN(sizeof buf, SALVAGE_BYTES - bytes->len));
		if (n < 0) {
			g_set_error(error, PARSER_ERROR, PI_ERROR_TEMPORARY,
			            "cannot read the message: %s", g_strerror(errno));
			return FALSE;
		}
		if (n == 0)
			break;
		g_byte_array_append(bytes, (const guint8 *)buf, (guint)n);
	}
	add_problem(p, bytes->len == 0 ? "empty message"
	                               : "no parseable header block: the input was read as text");
	p->request->subject = g_strdup("");
	p->request->text =
	    parser_charset_decode((const char *)bytes->data, bytes->len, NULL, NULL, &errors);
	if ((gsize)errors * 20 > bytes->len) {
		/* binary junk: show what decoded, but guess no request from it */
		add_problem(p, "undecodable input (%u of %u bytes)", errors, bytes->len);
		finish_request(p, "", "");
		return TRUE;
	}
	{
		g_autofree char *new_text = parser_text_new_part(p->request->text);
		finish_request(p, "", new_text);
	}
	return TRUE;
}

static parser_request_t *
request_new(void)
{
	parser_request_t *r = g_new0(parser_request_t, 1);

	r->request_types = g_ptr_array_new_with_free_func(g_free);
	r->references = g_ptr_array_new_with_free_func(g_free);
	r->attachments = g_ptr_array_new_with_free_func(attachment_free);
	r->request_evidence = g_ptr_array_new_with_free_func(evidence_free);
	r->confidence = PARSER_CONFIDENCE_NONE;
	return r;
}

/* What a multipart without a boundary (or with no findable parts) kept in
 * its prologue, read as text so staff see something. */
static char *
salvage_prologue(GMimeMessage *message)
{
	GMimeObject *body = g_mime_message_get_mime_part(message);
	const char *prologue;

	if (body == NULL || !GMIME_IS_MULTIPART(body) ||
	    g_mime_multipart_get_count(GMIME_MULTIPART(body)) > 0)
		return NULL;
	prologue = g_mime_multipart_get_prologue(GMIME_MULTIPART(body));
	if (prologue == NULL || *prologue == '\0')
		return NULL;
	return parser_charset_decode(prologue, MIN(strlen(prologue), (gsize)SALVAGE_BYTES), NULL,
	                             NULL, NULL);
}

/* ---- bounces and forwards ------------------------------------------------------------ */

/* "rfc822; user@example.jp" → "user@example.jp" (lowercased, UTF-8). */
static char *
dsn_address(const char *value)
{
	const char *semi = strchr(value, ';');
	g_autofree char *addr = g_strdup(semi ? semi + 1 : value);
	char *clean;

	g_strstrip(addr);
	if (addr[0] == '<' && addr[strlen(addr) - 1] == '>') {
		addr[strlen(addr) - 1] = '\0';
		memmove(addr, addr + 1, strlen(addr));
	}
	clean = parser_utf8_clean(addr, -1, FALSE);
	g_strstrip(clean);
	if (*clean == '\0' || strlen(clean) > 320) {
		g_free(clean);
		return NULL;
	}
	{
		char *lower = g_utf8_strdown(clean, -1);
		g_free(clean);
		return lower;
	}
}

/* Which mail bounced: the Message-ID of the returned message (a
 * message/rfc822 part) or of its header block (text/rfc822-headers). */
static char *
returned_message_id(GArray *leaves)
{
	for (guint i = 0; i < leaves->len; i++) {
		const parser_leaf_t *leaf = &g_array_index(leaves, parser_leaf_t, i);
		GMimeContentType *type;

		if (leaf->role != LEAF_ATTACHMENT || leaf->level != 0)
			continue;
		if (GMIME_IS_MESSAGE_PART(leaf->object)) {
			GMimeMessage *inner =
			    g_mime_message_part_get_message(GMIME_MESSAGE_PART(leaf->object));
			const char *id = inner ? g_mime_message_get_message_id(inner) : NULL;
			if (id != NULL && *id != '\0' && g_utf8_validate(id, -1, NULL))
				return g_strdup(id);
			continue;
		}
		type = g_mime_object_get_content_type(leaf->object);
		if (type != NULL && g_mime_content_type_is_type(type, "text", "rfc822-headers")) {
			/* a header block: GMime reads it as a message without a body */
			g_autoptr(GMimeStream) mem = g_mime_stream_mem_new();
			g_autoptr(GMimeStream) digest = parser_digest_stream_new(mem, 64 * 1024);
			g_autoptr(GMimeParser) parser = NULL;
			g_autoptr(GMimeMessage) returned = NULL;
			guint invalid = 0;
			const char *id;

			parser_decode_content(leaf->object, digest, &invalid);
			g_mime_stream_write_string(mem, "\n");
			g_mime_stream_seek(mem, 0, GMIME_STREAM_SEEK_SET);
			parser = g_mime_parser_new_with_stream(mem);
			returned = g_mime_parser_construct_message(parser, NULL);
			id = returned ? g_mime_message_get_message_id(returned) : NULL;
			if (id != NULL && *id != '\0' && g_utf8_validate(id, -1, NULL))
				return g_strdup(id);
		}
	}
	return NULL;
}

/* The failed recipient and its status from a bounce's
 * message/delivery-status part (RFC 3464), else X-Failed-Recipients. */
static void
read_bounce(parse_t *p, GMimeMessage *message, GArray *leaves)
{
	parser_request_t *r = p->request;

	for (guint i = 0; i < leaves->len && r->bounce_status == NULL; i++) {
		const parser_leaf_t *leaf = &g_array_index(leaves, parser_leaf_t, i);
		g_autoptr(GByteArray) bytes = g_byte_array_new();
		g_autoptr(GMimeStream) mem = NULL;
		g_autoptr(GMimeStream) digest = NULL;
		g_autofree char *text = NULL;
		g_auto(GStrv) lines = NULL;
		g_autofree char *original = NULL, *final = NULL;
		guint invalid = 0;

		if (leaf->role != LEAF_DELIVERY_STATUS || leaf->level != 0)
			continue;
		mem = g_mime_stream_mem_new_with_byte_array(bytes);
		g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mem), FALSE);
		digest = parser_digest_stream_new(mem, 64 * 1024);
		parser_decode_content(leaf->object, digest, &invalid);
		text = parser_utf8_clean((const char *)bytes->data, bytes->len, TRUE);
		lines = g_strsplit(text, "\n", -1);
		for (char **l = lines; *l; l++) {
			const char *colon = strchr(*l, ':');
			g_autofree char *name = NULL;
			g_autofree char *value = NULL;
			if (colon == NULL || **l == ' ' || **l == '\t')
				continue;
			name = g_ascii_strdown(*l, colon - *l);
			value = g_strstrip(g_strdup(colon + 1));
			if (strcmp(name, "original-recipient") == 0 && original == NULL)
				original = dsn_address(value);
			else if (strcmp(name, "final-recipient") == 0 && final == NULL)
				final = dsn_address(value);
			else if (strcmp(name, "status") == 0 && r->bounce_status == NULL &&
			         g_ascii_isdigit(value[0])) {
				gsize n = strspn(value, "0123456789.");
				r->bounce_status = g_strndup(value, MIN(n, (gsize)16));
			}
		}
		if (r->bounce_recipient == NULL) /* the first part that names one */
			r->bounce_recipient =
			    original ? g_steal_pointer(&original) : g_steal_pointer(&final);
	}
	if (r->bounce_recipient == NULL) {
		const char *raw =
		    parser_mime_raw_header(GMIME_OBJECT(message), "X-Failed-Recipients");
		if (raw != NULL) {
			g_autofree char *first = g_strndup(raw, strcspn(raw, ","));
			r->bounce_recipient = dsn_address(first);
		}
	}
	if (r->bounce_recipient != NULL || r->bounce_status != NULL)
		r->bounce_message_id = returned_message_id(leaves);
}

/* The forwarder becomes forwarded_by; the From of INNER (a forwarded
 * message) the requester.  FALSE, and nothing changed, when INNER names no
 * sender. */
static gboolean
take_forwarded_sender(parse_t *p, GMimeMessage *inner)
{
	parser_request_t *r = p->request;
	char *outer_name = g_steal_pointer(&r->from_name);
	char *outer_address = g_steal_pointer(&r->from_address);

	read_from(p, inner);
	if (r->from_address == NULL) {
		g_free(r->from_name);
		r->from_name = outer_name;
		r->from_address = outer_address;
		return FALSE;
	}
	if (outer_address != NULL && strcmp(outer_address, r->from_address) == 0) {
		/* the requester forwarding their own earlier mail */
		g_free(outer_name);
		g_free(outer_address);
		return TRUE;
	}
	r->forwarded_by = outer_address;
	r->forwarded_by_name = outer_name;
	return TRUE;
}

/* An inline forward's "From: Name <addr>" (or Outlook's "Name
 * [mailto:addr]") as the requester. */
static gboolean
take_inline_sender(parse_t *p, const char *from)
{
	parser_request_t *r = p->request;
	g_autofree char *value = g_strdup(from);
	g_autofree char *norm = NULL;
	g_autoptr(InternetAddressList) list = NULL;
	InternetAddress *ia;
	const char *addr;
	char *mailto = strstr(value, "[mailto:");

	if (mailto != NULL) {
		char *close = strchr(mailto, ']');
		mailto[0] = '<';
		memmove(mailto + 1, mailto + 8, strlen(mailto + 8) + 1);
		if (close != NULL && (close = strchr(mailto, ']')) != NULL)
			*close = '>';
	}
	norm = parser_header_normalize(value, FALSE);
	list = internet_address_list_parse(p->parser->options, norm);
	if (list == NULL || internet_address_list_length(list) == 0)
		return FALSE;
	ia = internet_address_list_get_address(list, 0);
	if (!INTERNET_ADDRESS_IS_MAILBOX(ia))
		return FALSE;
	addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
	if (addr == NULL || strchr(addr, '@') == NULL)
		return FALSE;
	{
		g_autofree char *clean = clean_id(addr);
		g_autofree char *lower = clean ? g_utf8_strdown(clean, -1) : NULL;
		if (lower == NULL)
			return FALSE;
		if (r->from_address != NULL && strcmp(r->from_address, lower) == 0)
			return TRUE; /* forwarding their own mail */
		r->forwarded_by = g_steal_pointer(&r->from_address);
		r->forwarded_by_name = g_steal_pointer(&r->from_name);
		r->from_address = g_steal_pointer(&lower);
	}
	if (internet_address_get_name(ia) != NULL) {
		char *name = parser_utf8_clean(internet_address_get_name(ia), -1, FALSE);
		g_strstrip(name);
		if (*name)
			r->from_name = name;
		else
			g_free(name);
	}
	return TRUE;
}

/* "Fwd:", "FW:", "転送:" … */
static gboolean
is_forward_subject(const char *subject)
{
	static const char *const prefixes[] = {"fwd", "fw", "転送", "tr", "wg", NULL};
	const char *s = subject;

	while (*s == ' ' || *s == '[')
		s++;
	for (const char *const *x = prefixes; *x; x++) {
		gsize n = strlen(*x);
		if (g_ascii_strncasecmp(s, *x, n) == 0 &&
		    (s[n] == ':' || g_str_has_prefix(s + n, "：")))
			return TRUE;
	}
	return FALSE;
}

/* ---- the parse ------------------------------------------------------------------------ */

parser_request_t *
parser_parse_stream(parser_t *parser, GMimeStream *stream, const parser_sink_t *sink,
                    GError **error)
{
	g_autoptr(parser_request_t) request = request_new();
	g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) html = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) forwarded = g_ptr_array_new();
	g_autoptr(GMimeStream) input = NULL;
	g_autoptr(GMimeParser) gparser = NULL;
	g_autoptr(GMimeMessage) message = NULL;
	g_autoptr(GArray) leaves = NULL;
	g_autofree char *limit = NULL;
	g_autofree char *auto_reason = NULL;
	g_autofree char *subject = NULL;
	GString *classify = g_string_new(NULL);
	parse_t p = {parser, request, sink, problems, html, 0, FALSE};

	g_return_val_if_fail(parser != NULL && stream != NULL, NULL);
	input = bounded_input(&p, stream, error);
	if (input == NULL)
		goto fail;

	g_mime_parser_options_set_warning_callback(parser->options, on_warning, &p);
	gparser = g_mime_parser_new_with_stream(input);
	g_mime_parser_set_format(gparser, GMIME_FORMAT_MESSAGE);
	g_mime_parser_set_persist_stream(gparser, TRUE);
	message = g_mime_parser_construct_message(gparser, parser->options);
	if (message == NULL || g_mime_header_list_get_count(
	                           g_mime_object_get_header_list(GMIME_OBJECT(message))) == 0) {
		gboolean ok = salvage(&p, input, error);
		g_mime_parser_options_set_warning_callback(parser->options, NULL, NULL);
		g_string_free(classify, TRUE);
		return ok ? g_steal_pointer(&request) : NULL;
	}

	read_headers(&p, message);
	auto_reason = parser_auto_reason(message, request->subject);
	if (auto_reason != NULL) {
		request->is_auto = TRUE;
		request->auto_reason = g_steal_pointer(&auto_reason);
	}
	leaves = g_array_new(FALSE, FALSE, sizeof(parser_leaf_t));
	limit = parser_mime_collect(
	    message, parser->config->max_parts ? parser->config->max_parts : G_MAXUINT,
	    parser->config->max_depth ? parser->config->max_depth : G_MAXUINT, leaves,
	    request->is_auto ? NULL : forwarded);
	if (limit != NULL) {
		request->over_limit = TRUE;
		add_problem(&p, "%s", limit);
	}
	/* the outer text (a forwarder's note, or the whole mail) */
	request->text = read_body(&p, leaves, 0);
	if (*request->text == '\0') {
		g_autofree char *rescued = salvage_prologue(message);
		if (rescued != NULL) {
			g_free(request->text);
			request->text = g_steal_pointer(&rescued);
		}
	}
	subject = g_strdup(request->subject);
	if (forwarded->len > 0) {
		/* forwarded as an attachment: the innermost message is the request */
		GMimeMessage *inner = forwarded->pdata[forwarded->len - 1];
		if (take_forwarded_sender(&p, inner)) {
			g_autofree char *note = parser_text_new_part(request->text);
			g_autofree char *inner_text = read_body(&p, leaves, forwarded->len);
			g_autofree char *inner_new = parser_text_new_part(inner_text);
			g_autofree char *inner_subject =
			    header_text(&p, GMIME_OBJECT(inner), "Subject");
			g_string_append(classify, inner_new);
			g_string_append_c(classify, '\n');
			g_string_append(classify, note);
			g_free(request->text);
			request->text = g_steal_pointer(&inner_text);
			request->ticket_ref = parser_find_ticket_ref(request->subject);
			g_free(request->subject);
			request->subject =
			    inner_subject ? g_steal_pointer(&inner_subject) : g_strdup("");
			g_free(subject);
			subject = g_strdup(request->subject);
		}
	} else if (!request->is_auto) {
		g_autofree char *from = NULL, *inner_subject = NULL, *body = NULL;
		if (parser_text_inline_forward(request->text, is_forward_subject(request->subject),
		                               &from, &inner_subject, &body) &&
		    take_inline_sender(&p, from)) {
			g_autofree char *note = parser_text_new_part(request->text);
			g_autofree char *inner_new = parser_text_new_part(body);
			g_string_append(classify, inner_new);
			g_string_append_c(classify, '\n');
			g_string_append(classify, note);
			if (inner_subject != NULL) {
				g_autofree char *norm =
				    parser_header_normalize(inner_subject, FALSE);
				g_free(subject);
				subject = parser_utf8_clean(norm, -1, FALSE);
			}
		}
	}
	if (classify->len == 0) {
		g_autofree char *new_text = parser_text_new_part(request->text);
		g_string_append(classify, new_text);
	}
	for (guint i = 0; i < leaves->len; i++) {
		const parser_leaf_t *leaf = &g_array_index(leaves, parser_leaf_t, i);
		if (leaf->role == LEAF_ATTACHMENT && !read_attachment(&p, leaf, error))
			goto fail;
	}
	if (request->is_auto)
		read_bounce(&p, message, leaves);
	finish_request(&p, subject, classify->str);
	g_mime_parser_options_set_warning_callback(parser->options, NULL, NULL);
	g_string_free(classify, TRUE);
	g_debug("parsed %s: %u attachments, %u id documents%s",
	        request->message_id ? request->message_id : "(no Message-ID)",
	        request->attachments->len, request->id_document_count,
	        request->problem ? " (with a problem)" : "");
	return g_steal_pointer(&request);

fail:
	g_mime_parser_options_set_warning_callback(parser->options, NULL, NULL);
	g_string_free(classify, TRUE);
	return NULL;
}

parser_request_t *
parser_parse_bytes(parser_t *parser, const char *data, gsize len, const parser_sink_t *sink,
                   GError **error)
{
	g_autoptr(GMimeStream) mem =
	    g_mime_stream_mem_new_with_buffer(data ? data : "", data ? len : 0);

	return parser_parse_stream(parser, mem, sink, error);
}
