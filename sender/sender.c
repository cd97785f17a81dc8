/* sender.c — builds a reply as MIME with GMime (see sender.h). */
#include "sender/sender-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

G_DEFINE_QUARK(privacy - inbox - sender - error - quark, sender_error)

#define FALLBACK_DOMAIN "privacy-inbox.invalid"
/* RFC 5322 §2.1.1: a line is at most 998 octets without its CRLF. */
#define MAX_LINE 998
/* References kept on a reply: the thread's root and the most recent ones. */
#define MAX_REFERENCES 20

/* ---- addresses and ids ------------------------------------------------------- */

gboolean
sender_address_is_valid(const char *addr)
{
	const char *at;

	if (addr == NULL || *addr == '\0' || strlen(addr) > 254 || !g_utf8_validate(addr, -1, NULL))
		return FALSE;
	for (const unsigned char *p = (const unsigned char *)addr; *p; p++) {
		if (*p <= 0x20 || *p == 0x7f || strchr("<>()[],;:\"\\", *p) != NULL)
			return FALSE;
	}
	{
		/* no C1 controls or Unicode line separators either */
		g_autofree char *clean = pi_header_sanitize(addr);
		if (strcmp(clean, addr) != 0)
			return FALSE;
	}
	at = strrchr(addr, '@');
	return at != NULL && at != addr && at[1] != '\0' && strchr(addr, '@') == at;
}

gboolean
sender_parse_from(const char *from, char **name_out, char **addr_out, GError **error)
{
	g_autoptr(InternetAddressList) list = NULL;
	InternetAddress *ia;
	g_autofree char *name = NULL;
	const char *addr;

	if (from == NULL || *from == '\0') {
		g_set_error(error, SENDER_ERROR, PI_ERROR_FATAL, "[smtp] from is not set");
		return FALSE;
	}
	list = internet_address_list_parse(NULL, from);
	if (list == NULL || internet_address_list_length(list) != 1 ||
	    !INTERNET_ADDRESS_IS_MAILBOX(ia = internet_address_list_get_address(list, 0)) ||
	    !sender_address_is_valid(
	        addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia)))) {
		g_set_error(error, SENDER_ERROR, PI_ERROR_FATAL,
		            "[smtp] from: expected \"Name <address>\" or an address, got \"%s\"",
		            from);
		return FALSE;
	}
	name = pi_header_sanitize(internet_address_get_name(ia));
	g_strstrip(name);
	*name_out = *name != '\0' ? g_steal_pointer(&name) : NULL;
	*addr_out = g_strdup(addr);
	return TRUE;
}

/* A domain we can put after the '@' of a Message-ID. */
static gboolean
domain_is_plain(const char *domain)
{
	if (*domain == '\0' || *domain == '.' || *domain == '-' || strlen(domain) > 253)
		return FALSE;
	for (const char *p = domain; *p; p++) {
		if (!g_ascii_isalnum(*p) && *p != '-' && *p != '.')
			return FALSE;
	}
	return domain[strlen(domain) - 1] != '.' && strstr(domain, "..") == NULL;
}

char *
sender_new_message_id(const char *from)
{
	g_autofree char *name = NULL;
	g_autofree char *addr = NULL;
	g_autofree char *domain = NULL;
	guint8 random[16];
	char hex[sizeof random * 2 + 1];

	if (from != NULL && sender_parse_from(from, &name, &addr, NULL))
		domain = g_ascii_strdown(strrchr(addr, '@') + 1, -1);
	if (domain == NULL || !domain_is_plain(domain)) {
		g_free(domain);
		domain = g_strdup(FALLBACK_DOMAIN);
	}
	/* 128 bits from the kernel; g_uuid's generator if that ever fails. */
	if (getrandom(random, sizeof random, 0) != (ssize_t)sizeof random) {
		g_autofree char *uuid = g_uuid_string_random();
		gsize n = 0;
		for (const char *p = uuid; *p && n < sizeof hex - 1; p++) {
			if (*p != '-')
				hex[n++] = *p;
		}
		hex[n] = '\0';
	} else {
		for (gsize i = 0; i < sizeof random; i++)
			g_snprintf(hex + 2 * i, 3, "%02x", random[i]);
	}
	return g_strdup_printf("%s@%s", hex, domain);
}

/* A msg-id without its <>: printable ASCII, no spaces, no angle brackets. */
static gboolean
id_is_valid(const char *id)
{
	if (id == NULL || *id == '\0' || strlen(id) > 900)
		return FALSE;
	for (const char *p = id; *p; p++) {
		if (*p <= 0x20 || *p >= 0x7f || *p == '<' || *p == '>')
			return FALSE;
	}
	return TRUE;
}

/* ---- text ---------------------------------------------------------------------- */

static gboolean
is_ascii(const char *s)
{
	for (; *s; s++) {
		if ((guchar)*s >= 0x80)
			return FALSE;
	}
	return TRUE;
}

/* A header value from caller text: controls and line breaks removed,
 * surrounding blanks trimmed.  NULL when TEXT is not UTF-8. */
static char *
header_text(const char *text)
{
	char *clean;

	if (text != NULL && !g_utf8_validate(text, -1, NULL))
		return NULL;
	clean = pi_header_sanitize(text);
	return g_strstrip(clean);
}

/* TEXT's lines (CRLF, CR or LF) as a NULL-terminated array without the
 * breaks; a final line break does not start another line. */
static char **
split_lines(const char *text)
{
	g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
	const char *p = text;

	while (*p) {
		gsize n = strcspn(p, "\r\n");
		g_ptr_array_add(lines, g_strndup(p, n));
		p += n;
		if (p[0] == '\r' && p[1] == '\n')
			p += 2;
		else if (*p)
			p++;
	}
	g_ptr_array_add(lines, NULL);
	return (char **)g_ptr_array_free(g_steal_pointer(&lines), FALSE);
}

/* The body in ISO-2022-JP with CRLF line ends, each line ending in ASCII
 * (RFC 1468), or NULL when a line cannot be held or would pass 998 octets. */
static GBytes *
body_to_jis(char *const *lines)
{
	g_autoptr(GByteArray) out = g_byte_array_new();

	for (char *const *l = lines; *l; l++) {
		g_autoptr(GBytes) jis = sender_jis_encode(*l, strlen(*l));
		gsize size;
		const guint8 *data;

		if (jis == NULL)
			return NULL;
		data = g_bytes_get_data(jis, &size);
		if (size > MAX_LINE)
			return NULL;
		g_byte_array_append(out, data, (guint)size);
		g_byte_array_append(out, (const guint8 *)"\r\n", 2);
	}
	return g_byte_array_free_to_bytes(g_steal_pointer(&out));
}

/* The body in UTF-8 with CRLF line ends; *seven_bit_out says whether it can
 * go as 7bit (ASCII only, no line over 998 octets). */
static GBytes *
body_to_utf8(char *const *lines, gboolean *seven_bit_out)
{
	GString *out = g_string_new(NULL);
	gboolean seven_bit = TRUE;

	for (char *const *l = lines; *l; l++) {
		if (strlen(*l) > MAX_LINE || !is_ascii(*l))
			seven_bit = FALSE;
		g_string_append(out, *l);
		g_string_append(out, "\r\n");
	}
	*seven_bit_out = seven_bit;
	return g_string_free_to_bytes(out);
}

/* ---- MIME parts ----------------------------------------------------------------- */

static GMimeObject *
text_part(GBytes *content, const char *charset, GMimeContentEncoding encoding)
{
	GMimeTextPart *part = g_mime_text_part_new_with_subtype("plain");
	gsize size;
	const guint8 *data = g_bytes_get_data(content, &size);
	g_autoptr(GMimeStream) stream = g_mime_stream_mem_new_with_buffer((const char *)data, size);
	g_autoptr(GMimeDataWrapper) wrapper =
	    g_mime_data_wrapper_new_with_stream(stream, GMIME_CONTENT_ENCODING_DEFAULT);

	g_mime_text_part_set_charset(part, charset);
	g_mime_part_set_content(GMIME_PART(part), wrapper);
	g_mime_part_set_content_encoding(GMIME_PART(part), encoding);
	return GMIME_OBJECT(part);
}

/* Encode parameter NAME in UTF-8 (RFC 2231) whatever GMime's locale guess. */
static void
param_use_utf8(GMimeParamList *params, const char *name)
{
	GMimeParam *param = params ? g_mime_param_list_get_parameter(params, name) : NULL;

	if (param != NULL)
		g_mime_param_set_charset(param, "UTF-8");
}

static GMimeObject *
attachment_part(const sender_attachment_t *attachment, GError **error)
{
	g_autoptr(GMimeContentType) type = NULL;
	g_autoptr(GMimeStream) stream = NULL;
	g_autoptr(GMimeDataWrapper) wrapper = NULL;
	g_autofree char *base = NULL;
	g_autofree char *filename = NULL;
	GMimePart *part;
	struct stat st;
	int fd;

	if (attachment->path == NULL) {
		g_set_error(error, SENDER_ERROR, PI_ERROR_MESSAGE, "attachment without a path");
		return NULL;
	}
	fd = open(attachment->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int saved = errno;
		/* A file gone from the spool makes this reply bad; anything else
		 * (permissions, no descriptors left) is the environment's. */
		g_set_error(error, SENDER_ERROR,
		            saved == ENOENT ? PI_ERROR_MESSAGE : PI_ERROR_FATAL,
		            "cannot attach %s: %s", attachment->path, g_strerror(saved));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		g_set_error(error, SENDER_ERROR, PI_ERROR_MESSAGE,
		            "cannot attach %s: not a regular file", attachment->path);
		return NULL;
	}
	/* The part reads the file when the message is written: streamed, never
	 * loaded whole.  The stream owns FD. */
	stream = g_mime_stream_fs_new(fd);
	wrapper = g_mime_data_wrapper_new_with_stream(stream, GMIME_CONTENT_ENCODING_DEFAULT);

	if (attachment->content_type != NULL)
		type = g_mime_content_type_parse(NULL, attachment->content_type);
	if (type == NULL || g_mime_content_type_get_media_type(type) == NULL ||
	    g_mime_content_type_get_media_subtype(type) == NULL ||
	    g_mime_content_type_is_type(type, "multipart", "*") ||
	    g_mime_content_type_is_type(type, "message", "*")) {
		g_clear_object(&type);
		type = g_mime_content_type_new("application", "octet-stream");
	}

	part = g_mime_part_new();
	g_mime_object_set_content_type(GMIME_OBJECT(part), type);
	g_mime_object_set_disposition(GMIME_OBJECT(part), GMIME_DISPOSITION_ATTACHMENT);
	base = g_path_get_basename(attachment->filename ? attachment->filename : attachment->path);
	filename = header_text(base);
	if (filename == NULL || *filename == '\0' || strcmp(filename, ".") == 0 ||
	    strcmp(filename, "/") == 0) {
		g_free(filename);
		filename = g_strdup("attachment");
	}
	g_mime_part_set_filename(part, filename);
	param_use_utf8(g_mime_content_disposition_get_parameters(
	                   g_mime_object_get_content_disposition(GMIME_OBJECT(part))),
	               "filename");
	param_use_utf8(
	    g_mime_content_type_get_parameters(g_mime_object_get_content_type(GMIME_OBJECT(part))),
	    "name");
	g_mime_part_set_content(part, wrapper);
	g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_BASE64);
	return GMIME_OBJECT(part);
}

/* ---- headers ------------------------------------------------------------------- */

static void
set_raw_header(GMimeMessage *message, const char *field, const char *raw)
{
	GMimeHeaderList *headers = g_mime_object_get_header_list(GMIME_OBJECT(message));
	GMimeHeader *header = g_mime_header_list_get_header(headers, field);

	g_mime_header_set_raw_value(header, raw);
}

/* FIELD (From or To) = NAME <ADDR>.  ASCII names go through GMime, which
 * quotes them as needed; others are encoded by us (see encode.c). */
static void
set_mailbox(GMimeMessage *message, GMimeAddressType type, const char *field, const char *name,
            const char *addr, gboolean jis)
{
	InternetAddressList *list = g_mime_message_get_addresses(message, type);
	InternetAddress *ia = internet_address_mailbox_new(name, addr);

	internet_address_set_charset(ia, jis ? "ISO-2022-JP" : "UTF-8");
	internet_address_list_add(list, ia);
	g_object_unref(ia);
	if (name != NULL && !is_ascii(name)) {
		g_autofree char *raw = sender_header_encode_mailbox(field, name, addr, jis);
		g_assert(raw != NULL); /* the charset was checked for every text */
		set_raw_header(message, field, raw);
	}
}

static void
set_threading(GMimeMessage *message, const sender_mail_t *mail)
{
	GMimeObject *object = GMIME_OBJECT(message);
	g_autoptr(GPtrArray) refs = g_ptr_array_new_with_free_func(g_free);
	GString *value = g_string_new(NULL);
	guint recent;

	if (id_is_valid(mail->in_reply_to)) {
		g_autofree char *v = g_strdup_printf("<%s>", mail->in_reply_to);
		g_mime_object_set_header(object, "In-Reply-To", v, NULL);
	} else if (mail->in_reply_to != NULL) {
		g_debug("%s: ignoring a malformed In-Reply-To", mail->message_id);
	}
	for (const char *const *r = mail->references; r && *r; r++) {
		if (id_is_valid(*r))
			g_ptr_array_add(refs, g_strdup(*r));
		else
			g_debug("%s: ignoring a malformed reference", mail->message_id);
	}
	/* A long thread keeps its root and its most recent messages. */
	recent = refs->len > MAX_REFERENCES ? refs->len - (MAX_REFERENCES - 1) : 1;
	for (guint i = 0; i < refs->len; i++) {
		if (i > 0 && i < recent)
			continue;
		g_string_append_printf(value, "%s<%s>", value->len ? " " : "",
		                       (const char *)refs->pdata[i]);
	}
	if (value->len > 0)
		g_mime_object_set_header(object, "References", value->str, NULL);
	g_string_free(value, TRUE);
}

/* ---- build ---------------------------------------------------------------------- */

typedef struct {
	char *from_name, *from_addr;
	char *to_name, *to_addr;
	char *subject;
	char **lines;
} texts_t;

static void
texts_clear(texts_t *t)
{
	g_free(t->from_name);
	g_free(t->from_addr);
	g_free(t->to_name);
	g_free(t->to_addr);
	g_free(t->subject);
	g_strfreev(t->lines);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(texts_t, texts_clear)

static gboolean
texts_collect(const smtp_config_t *config, const sender_mail_t *mail, texts_t *t, GError **error)
{
	if (!sender_parse_from(config->from, &t->from_name, &t->from_addr, error))
		return FALSE;
	/* An address is taken as it is or refused: removing a line break from
	 * it could turn it into someone else's. */
	t->to_addr = g_strstrip(g_strdup(mail->to_address ? mail->to_address : ""));
	if (!sender_address_is_valid(t->to_addr)) {
		g_autofree char *shown = header_text(t->to_addr);
		g_set_error(error, SENDER_ERROR, PI_ERROR_MESSAGE,
		            "not a valid recipient address: \"%s\"", shown ? shown : "(not UTF-8)");
		return FALSE;
	}
	t->to_name = header_text(mail->to_name);
	t->subject = header_text(mail->subject);
	if (t->to_name == NULL || t->subject == NULL ||
	    (mail->body != NULL && !g_utf8_validate(mail->body, -1, NULL))) {
		g_set_error(error, SENDER_ERROR, PI_ERROR_MESSAGE,
		            "%s: the recipient name, subject or body is not UTF-8", t->to_addr);
		return FALSE;
	}
	if (*t->to_name == '\0')
		g_clear_pointer(&t->to_name, g_free);
	if (!id_is_valid(mail->message_id)) {
		g_set_error(error, SENDER_ERROR, PI_ERROR_MESSAGE,
		            "missing or malformed Message-ID (see sender_new_message_id)");
		return FALSE;
	}
	t->lines = split_lines(mail->body ? mail->body : "");
	return TRUE;
}

/* Can every text go out in ISO-2022-JP?  On success the texts are replaced by
 * their JIS-normalized forms and *body_out holds the converted body. */
static gboolean
texts_to_jis(texts_t *t, GBytes **body_out)
{
	g_autofree char *from_name = t->from_name ? sender_jis_normalize(t->from_name) : NULL;
	g_autofree char *to_name = t->to_name ? sender_jis_normalize(t->to_name) : NULL;
	g_autofree char *subject = sender_jis_normalize(t->subject);
	g_auto(GStrv) lines = g_new0(char *, g_strv_length(t->lines) + 1);
	const char *texts[3] = {from_name, to_name, subject};

	for (guint i = 0; t->lines[i]; i++)
		lines[i] = sender_jis_normalize(t->lines[i]);
	for (gsize i = 0; i < G_N_ELEMENTS(texts); i++) {
		g_autoptr(GBytes) jis = NULL;
		if (texts[i] == NULL)
			continue;
		jis = sender_jis_encode(texts[i], strlen(texts[i]));
		if (jis == NULL)
			return FALSE;
	}
	*body_out = body_to_jis(lines);
	if (*body_out == NULL)
		return FALSE;
	g_free(t->from_name);
	t->from_name = g_steal_pointer(&from_name);
	g_free(t->to_name);
	t->to_name = g_steal_pointer(&to_name);
	g_free(t->subject);
	t->subject = g_steal_pointer(&subject);
	g_strfreev(t->lines);
	t->lines = g_steal_pointer(&lines);
	return TRUE;
}

GMimeMessage *
sender_build(const smtp_config_t *config, const sender_mail_t *mail, GError **error)
{
	g_auto(texts_t) t = {0};
	g_autoptr(GMimeMessage) message = NULL;
	g_autoptr(GMimeObject) body = NULL;
	g_autoptr(GBytes) content = NULL;
	g_autoptr(GDateTime) date = NULL;
	g_autofree char *subject_raw = NULL;
	gboolean jis = FALSE;

	if (!texts_collect(config, mail, &t, error))
		return NULL;

	if (config->charset != NULL && g_ascii_strcasecmp(config->charset, "iso-2022-jp") == 0) {
		jis = texts_to_jis(&t, &content);
		if (!jis)
			g_info("%s: a character ISO-2022-JP cannot hold, or a line over %d octets: "
			       "sending as UTF-8",
			       mail->message_id, MAX_LINE);
	}
	if (jis) {
		body = text_part(content, "ISO-2022-JP", GMIME_CONTENT_ENCODING_7BIT);
	} else {
		gboolean seven_bit;
		content = body_to_utf8(t.lines, &seven_bit);
		body = text_part(content, "UTF-8",
		                 seven_bit ? GMIME_CONTENT_ENCODING_7BIT
		                           : GMIME_CONTENT_ENCODING_BASE64);
	}

	message = g_mime_message_new(TRUE);
	set_mailbox(message, GMIME_ADDRESS_TYPE_FROM, "From", t.from_name, t.from_addr, jis);
	set_mailbox(message, GMIME_ADDRESS_TYPE_TO, "To", t.to_name, t.to_addr, jis);
	g_mime_message_set_subject(message, t.subject, jis ? "ISO-2022-JP" : "UTF-8");
	subject_raw = sender_header_encode_text("Subject", t.subject, jis);
	g_assert(subject_raw != NULL); /* the charset was checked for every text */
	set_raw_header(message, "Subject", subject_raw);

	if (mail->date != NULL) {
		date = g_date_time_ref(mail->date);
	} else {
		g_autoptr(GDateTime) now = pi_now();
		date = g_date_time_to_local(now);
	}
	g_mime_message_set_date(message, date);
	g_mime_message_set_message_id(message, mail->message_id);
	set_threading(message, mail);
	if (mail->auto_submitted)
		g_mime_object_set_header(GMIME_OBJECT(message), "Auto-Submitted", "auto-replied",
		                         NULL);
	g_mime_object_set_header(GMIME_OBJECT(message), "MIME-Version", "1.0", NULL);

	if (mail->n_attachments == 0 || mail->attachments == NULL) {
		g_mime_message_set_mime_part(message, body);
	} else {
		g_autoptr(GMimeMultipart) mixed = g_mime_multipart_new_with_subtype("mixed");
		g_mime_multipart_add(mixed, body);
		for (guint i = 0; i < mail->n_attachments; i++) {
			g_autoptr(GMimeObject) part = attachment_part(&mail->attachments[i], error);
			if (part == NULL) {
				g_prefix_error(error, "%s: ", mail->message_id);
				return NULL;
			}
			g_mime_multipart_add(mixed, part);
		}
		g_mime_message_set_mime_part(message, GMIME_OBJECT(mixed));
	}
	return g_steal_pointer(&message);
}
