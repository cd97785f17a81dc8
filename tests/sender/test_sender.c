/* test_sender.c — sender_build() parsed back with GMime (both charsets, the
 * fallback for characters ISO-2022-JP cannot hold, header injection, CRLF,
 * attachments), and sender_send() to a real SMTP server (tests/lib/smtpd.py,
 * aiosmtpd): STARTTLS + AUTH, implicit TLS, plain text, and every refusal the
 * server can produce, plus a multi-megabyte attachment. */
#include "sender/sender.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/lib/testserver.h"

static const char FROM[] = "株式会社サンプル 個人情報保護窓口 <privacy@example.co.jp>";
static const char FROM_NAME[] = "株式会社サンプル 個人情報保護窓口";
static const char SUBJECT[] = "【開示請求】受付のお知らせ（受付番号 PRV-2026-000123）";
static const char BODY[] = "山田 太郎 様\n"
                           "\n"
                           "この度は保有個人データの開示請求をいただき、ありがとうございます。\n"
                           "受付番号: PRV-2026-000123\n"
                           "受付時間は平日10:00〜17:00です。\n"
                           "\n"
                           "株式会社サンプル 個人情報保護窓口\n";
static const char *const REFERENCES[] = {"root@example.org", "req-1@example.org", NULL};

/* Certificates for every server of this program: the CA is made once. */
static char *tls_dir;

/* ---- fixtures ------------------------------------------------------------------ */

static void
smtp_config_free(smtp_config_t *c)
{
	g_free(c->url);
	g_free(c->user);
	g_free(c->password);
	g_free(c->ca_file);
	g_free(c->from);
	g_free(c->charset);
	g_free(c);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(smtp_config_t, smtp_config_free)

static smtp_config_t *
config_new(const char *url, security_t security, const char *charset)
{
	smtp_config_t *c = g_new0(smtp_config_t, 1);

	c->url = g_strdup(url);
	c->security = security;
	c->from = g_strdup(FROM);
	c->charset = g_strdup(charset);
	c->timeout_seconds = 10;
	return c;
}

static sender_mail_t
mail_default(void)
{
	sender_mail_t mail = {
	    .to_name = "山田 太郎",
	    .to_address = "taro@example.org",
	    .subject = SUBJECT,
	    .body = BODY,
	    .message_id = "reply-1@example.co.jp",
	    .in_reply_to = "req-1@example.org",
	    .references = REFERENCES,
	    .auto_submitted = TRUE,
	};
	return mail;
}

/* The message as sender_send() puts it on the wire (CRLF). */
static GBytes *
serialize(GMimeMessage *message)
{
	g_autoptr(GMimeFormatOptions) options = g_mime_format_options_new();
	g_autoptr(GMimeStream) mem = g_mime_stream_mem_new();
	GByteArray *bytes;

	g_mime_format_options_set_newline_format(options, GMIME_NEWLINE_FORMAT_DOS);
	g_assert_cmpint(g_mime_object_write_to_stream(GMIME_OBJECT(message), options, mem), >, 0);
	bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	return g_bytes_new(bytes->data, bytes->len);
}

static GMimeMessage *
parse(GBytes *bytes)
{
	gsize size;
	const char *data = g_bytes_get_data(bytes, &size);
	g_autoptr(GMimeStream) stream = g_mime_stream_mem_new_with_buffer(data, size);
	g_autoptr(GMimeParser) parser = g_mime_parser_new_with_stream(stream);
	GMimeMessage *message = g_mime_parser_construct_message(parser, NULL);

	g_assert_nonnull(message);
	return message;
}

/* Wire rules: CRLF only, 7-bit only, no line over 998 octets (RFC 5322 §2.1.1). */
static void
check_wire(GBytes *bytes)
{
	gsize size, line = 0;
	const guchar *p = g_bytes_get_data(bytes, &size);

	g_assert_cmpuint(size, >, 2);
	g_assert_cmpmem(p + size - 2, 2, "\r\n", 2);
	for (gsize i = 0; i < size; i++) {
		g_assert_cmpint(p[i], <, 0x80);
		g_assert_cmpint(p[i], !=, 0);
		if (p[i] == '\n') {
			g_assert_true(i > 0 && p[i - 1] == '\r');
			line = 0;
			continue;
		}
		if (p[i] == '\r')
			g_assert_true(i + 1 < size && p[i + 1] == '\n');
		line++;
		g_assert_cmpuint(line, <=, 998);
	}
}

static const char *
header(GMimeObject *object, const char *name)
{
	return g_mime_object_get_header(object, name);
}

static const char *
raw_header(GMimeObject *object, const char *name)
{
	GMimeHeader *h = g_mime_header_list_get_header(g_mime_object_get_header_list(object), name);
	g_assert_nonnull(h);
	return g_mime_header_get_raw_value(h);
}

/* The transfer-decoded bytes of PART. */
static GBytes *
part_bytes(GMimePart *part)
{
	g_autoptr(GMimeStream) mem = g_mime_stream_mem_new();
	GByteArray *bytes;

	g_assert_cmpint(g_mime_data_wrapper_write_to_stream(g_mime_part_get_content(part), mem), >=,
	                0);
	bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	return g_bytes_new(bytes->data, bytes->len);
}

/* The text of a text/plain PART in UTF-8 with LF line ends. */
static char *
part_text(GMimePart *part)
{
	g_autoptr(GBytes) bytes = part_bytes(part);
	const char *charset =
	    g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset");
	gsize size;
	const char *data = g_bytes_get_data(bytes, &size);
	g_autofree char *utf8 = g_convert(data, (gssize)size, "UTF-8", charset, NULL, NULL, NULL);
	g_autoptr(GRegex) crlf = g_regex_new("\r\n", 0, 0, NULL);

	g_assert_nonnull(utf8);
	return g_regex_replace_literal(crlf, utf8, -1, 0, "\n", 0, NULL);
}

static GMimePart *
body_part(GMimeMessage *message)
{
	GMimeObject *body = g_mime_message_get_mime_part(message);

	if (GMIME_IS_MULTIPART(body))
		body = g_mime_multipart_get_part(GMIME_MULTIPART(body), 0);
	g_assert_true(GMIME_IS_PART(body));
	return GMIME_PART(body);
}

static void
check_mailbox(InternetAddressList *list, const char *name, const char *addr)
{
	InternetAddress *ia;

	g_assert_cmpint(internet_address_list_length(list), ==, 1);
	ia = internet_address_list_get_address(list, 0);
	g_assert_true(INTERNET_ADDRESS_IS_MAILBOX(ia));
	g_assert_cmpstr(internet_address_get_name(ia), ==, name);
	g_assert_cmpstr(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia)), ==, addr);
}

/* Build MAIL with CHARSET, check the wire rules, parse it back. */
static GMimeMessage *
build_and_reparse(const char *charset, const sender_mail_t *mail, GBytes **wire_out)
{
	g_autoptr(smtp_config_t) config =
	    config_new("smtp://127.0.0.1:25", SECURITY_STARTTLS, charset);
	g_autoptr(GError) error = NULL;
	g_autoptr(GMimeMessage) built = sender_build(config, mail, &error);
	g_autoptr(GBytes) wire = NULL;

	g_assert_no_error(error);
	g_assert_nonnull(built);
	wire = serialize(built);
	check_wire(wire);
	if (wire_out != NULL)
		*wire_out = g_bytes_ref(wire);
	return parse(wire);
}

/* ---- build ------------------------------------------------------------------------ */

static void
check_common_headers(GMimeMessage *m, const sender_mail_t *mail)
{
	GMimeObject *o = GMIME_OBJECT(m);
	g_autoptr(GMimeReferences) refs = NULL;
	GDateTime *date;

	check_mailbox(g_mime_message_get_from(m), FROM_NAME, "privacy@example.co.jp");
	check_mailbox(g_mime_message_get_to(m), mail->to_name, mail->to_address);
	g_assert_cmpstr(g_mime_message_get_subject(m), ==, mail->subject);
	g_assert_cmpstr(g_mime_message_get_message_id(m), ==, "reply-1@example.co.jp");
	g_assert_cmpstr(header(o, "In-Reply-To"), ==, "<req-1@example.org>");
	refs = g_mime_references_parse(NULL, header(o, "References"));
	g_assert_cmpint(g_mime_references_length(refs), ==, 2);
	g_assert_cmpstr(g_mime_references_get_message_id(refs, 0), ==, "root@example.org");
	g_assert_cmpstr(g_mime_references_get_message_id(refs, 1), ==, "req-1@example.org");
	g_assert_cmpstr(header(o, "MIME-Version"), ==, "1.0");
	g_assert_cmpstr(header(o, "Auto-Submitted"), ==, "auto-replied");
	date = g_mime_message_get_date(m);
	g_assert_nonnull(date);
	g_assert_cmpint(g_date_time_to_unix(date), ==, g_date_time_to_unix(mail->date));
	g_assert_cmpint(g_date_time_get_utc_offset(date), ==,
	                g_date_time_get_utc_offset(mail->date));
}

static void
test_build_utf8(void)
{
	sender_mail_t mail = mail_default();
	g_autoptr(GDateTime) date = g_date_time_new_from_iso8601("2026-11-28T09:15:00+09:00", NULL);
	g_autoptr(GMimeMessage) m = NULL;
	GMimePart *body;
	g_autofree char *text = NULL;

	mail.date = date;
	m = build_and_reparse("utf-8", &mail, NULL);
	check_common_headers(m, &mail);
	g_assert_true(g_str_has_prefix(raw_header(GMIME_OBJECT(m), "Subject"), " =?UTF-8?B?"));
	g_assert_true(g_str_has_prefix(raw_header(GMIME_OBJECT(m), "From"), " =?UTF-8?B?"));
	g_assert_true(g_str_has_prefix(raw_header(GMIME_OBJECT(m), "To"), " =?UTF-8?B?"));
	g_assert_nonnull(strstr(header(GMIME_OBJECT(m), "Date"), "+0900"));

	body = body_part(m);
	g_assert_true(g_mime_content_type_is_type(
	    g_mime_object_get_content_type(GMIME_OBJECT(body)), "text", "plain"));
	g_assert_cmpstr(g_mime_object_get_content_type_parameter(GMIME_OBJECT(body), "charset"), ==,
	                "UTF-8");
	g_assert_cmpint(g_mime_part_get_content_encoding(body), ==, GMIME_CONTENT_ENCODING_BASE64);
	text = part_text(body);
	g_assert_cmpstr(text, ==, BODY);
}

static void
test_build_jis(void)
{
	sender_mail_t mail = mail_default();
	g_autoptr(GDateTime) date = g_date_time_new_from_iso8601("2026-11-28T09:15:00+09:00", NULL);
	g_autoptr(GMimeMessage) m = NULL;
	g_autoptr(GBytes) wire = NULL;
	g_autoptr(GBytes) raw = NULL;
	g_auto(GStrv) lines = NULL;
	g_autofree char *text = NULL;
	GMimePart *body;
	gsize size;
	const char *data;

	mail.date = date;
	m = build_and_reparse("iso-2022-jp", &mail, &wire);
	check_common_headers(m, &mail);
	g_assert_true(
	    g_str_has_prefix(raw_header(GMIME_OBJECT(m), "Subject"), " =?ISO-2022-JP?B?"));
	g_assert_true(g_str_has_prefix(raw_header(GMIME_OBJECT(m), "From"), " =?ISO-2022-JP?B?"));
	g_assert_true(g_str_has_prefix(raw_header(GMIME_OBJECT(m), "To"), " =?ISO-2022-JP?B?"));

	body = body_part(m);
	g_assert_cmpstr(g_mime_object_get_content_type_parameter(GMIME_OBJECT(body), "charset"), ==,
	                "ISO-2022-JP");
	g_assert_cmpint(g_mime_part_get_content_encoding(body), ==, GMIME_CONTENT_ENCODING_7BIT);

	/* The body really is ISO-2022-JP: escapes, and every line back in ASCII. */
	raw = part_bytes(body);
	data = g_bytes_get_data(raw, &size);
	g_assert_nonnull(g_strstr_len(data, (gssize)size, "\x1b$B"));
	{
		g_autofree char *copy = g_strndup(data, size);
		lines = g_strsplit(copy, "\r\n", -1);
	}
	for (guint i = 0; lines[i]; i++) {
		const char *last_esc = strrchr(lines[i], 0x1b);
		if (last_esc != NULL)
			g_assert_true(g_str_has_prefix(last_esc, "\x1b(B"));
	}
	text = part_text(body);
	g_assert_cmpstr(text, ==, BODY);
	/* the whole message is 7-bit (check_wire) and the body part's bytes are
	 * the ones on the wire */
	g_assert_nonnull(memmem(g_bytes_get_data(wire, NULL), g_bytes_get_size(wire), data, size));
}

/* Characters Windows users type for JIS characters go out as those. */
static void
test_build_jis_equivalents(void)
{
	sender_mail_t mail = mail_default();
	g_autoptr(GMimeMessage) m = NULL;
	g_autofree char *text = NULL;
	GMimePart *body;

	mail.subject = "受付時間 10:00～17:00";
	mail.body = "受付時間は平日10:00～17:00です。\n";
	m = build_and_reparse("iso-2022-jp", &mail, NULL);
	body = body_part(m);
	g_assert_cmpstr(g_mime_object_get_content_type_parameter(GMIME_OBJECT(body), "charset"), ==,
	                "ISO-2022-JP");
	g_assert_cmpstr(g_mime_message_get_subject(m), ==, "受付時間 10:00〜17:00");
	text = part_text(body);
	g_assert_cmpstr(text, ==, "受付時間は平日10:00〜17:00です。\n");
}

static const struct {
	const char *what;
	const char *to_name, *subject, *body;
} fallback_rows[] = {
    {"circled digit in the body", NULL, NULL, "手順①をご確認ください。\n"},
    {"㈱ in the subject", NULL, "㈱サンプルからのお知らせ", NULL},
    {"roman numeral", NULL, NULL, "第Ⅲ章\n"},
    {"IBM kanji in the name", "髙橋 一郎", NULL, NULL},
    {"emoji", NULL, "ありがとうございます😀", NULL},
    {"half-width kana", NULL, NULL, "ﾊﾝｶｸｶﾀｶﾅ\n"},
    {"a line longer than 998 octets in ISO-2022-JP", NULL, NULL, NULL},
};

static void
test_build_jis_fallback(void)
{
	GString *long_line = g_string_new(NULL);

	for (int i = 0; i < 500; i++)
		g_string_append(long_line, "開");
	g_string_append_c(long_line, '\n');

	for (gsize i = 0; i < G_N_ELEMENTS(fallback_rows); i++) {
		sender_mail_t mail = mail_default();
		g_autoptr(GMimeMessage) m = NULL;
		g_autofree char *text = NULL;
		GMimePart *body;

		g_test_message("%s", fallback_rows[i].what);
		if (fallback_rows[i].to_name)
			mail.to_name = fallback_rows[i].to_name;
		if (fallback_rows[i].subject)
			mail.subject = fallback_rows[i].subject;
		mail.body = fallback_rows[i].body ? fallback_rows[i].body : long_line->str;
		m = build_and_reparse("iso-2022-jp", &mail, NULL);

		/* The whole message went out as UTF-8 and nothing was lost. */
		body = body_part(m);
		g_assert_cmpstr(
		    g_mime_object_get_content_type_parameter(GMIME_OBJECT(body), "charset"), ==,
		    "UTF-8");
		g_assert_cmpint(g_mime_part_get_content_encoding(body), ==,
		                GMIME_CONTENT_ENCODING_BASE64);
		g_assert_true(
		    g_str_has_prefix(raw_header(GMIME_OBJECT(m), "Subject"), " =?UTF-8?B?"));
		g_assert_true(g_str_has_prefix(raw_header(GMIME_OBJECT(m), "To"), " =?UTF-8?B?"));
		g_assert_cmpstr(g_mime_message_get_subject(m), ==, mail.subject);
		check_mailbox(g_mime_message_get_to(m), mail.to_name, mail.to_address);
		text = part_text(body);
		g_assert_cmpstr(text, ==, mail.body);
	}
	g_string_free(long_line, TRUE);
}

static void
test_build_injection(void)
{
	for (int jis = 0; jis <= 1; jis++) {
		sender_mail_t mail = mail_default();
		g_autoptr(GMimeMessage) m = NULL;
		g_autoptr(GBytes) wire = NULL;
		g_autofree char *copy = NULL;
		g_auto(GStrv) lines = NULL;

		mail.to_name = "Evil\r\nBcc: victim@example.org";
		mail.subject = "開示\r\nBcc: victim@example.org\r\n\r\nforged body";
		mail.in_reply_to = "req-1@example.org>\r\nBcc: victim@example.org";
		m = build_and_reparse(jis ? "iso-2022-jp" : "utf-8", &mail, &wire);

		copy = g_strndup(g_bytes_get_data(wire, NULL), g_bytes_get_size(wire));
		lines = g_strsplit(copy, "\r\n", -1);
		for (guint i = 0; lines[i] && lines[i][0]; i++) /* the header block */
			g_assert_false(g_ascii_strncasecmp(lines[i], "Bcc:", 4) == 0);
		g_assert_null(header(GMIME_OBJECT(m), "Bcc"));
		g_assert_cmpint(internet_address_list_length(g_mime_message_get_bcc(m)), ==, 0);
		check_mailbox(g_mime_message_get_to(m), "EvilBcc: victim@example.org",
		              "taro@example.org");
		g_assert_cmpstr(g_mime_message_get_subject(m), ==,
		                "開示Bcc: victim@example.orgforged body");
		g_assert_null(header(GMIME_OBJECT(m), "In-Reply-To"));
	}
}

static void
test_build_refused(void)
{
	static const struct {
		const char *to_address, *message_id;
		const char *from;
		int code;
	} rows[] = {
	    {"taro@example.org\r\nBcc: victim@example.org", "id@x", FROM, PI_ERROR_MESSAGE},
	    {"Taro <taro@example.org>", "id@x", FROM, PI_ERROR_MESSAGE},
	    {"", "id@x", FROM, PI_ERROR_MESSAGE},
	    {"taro@example.org", "id with space@x", FROM, PI_ERROR_MESSAGE},
	    {"taro@example.org", "<id@x>", FROM, PI_ERROR_MESSAGE},
	    {"taro@example.org", NULL, FROM, PI_ERROR_MESSAGE},
	    {"taro@example.org", "id@x", "not an address", PI_ERROR_FATAL},
	    {"taro@example.org", "id@x", NULL, PI_ERROR_FATAL},
	    {"taro@example.org", "id@x", "a@example.org, b@example.org", PI_ERROR_FATAL},
	};
	for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
		g_autoptr(smtp_config_t) config =
		    config_new("smtp://127.0.0.1:25", SECURITY_NONE, "utf-8");
		sender_mail_t mail = mail_default();
		g_autoptr(GError) error = NULL;
		g_autoptr(GMimeMessage) m = NULL;

		g_free(config->from);
		config->from = g_strdup(rows[i].from);
		mail.to_address = rows[i].to_address;
		mail.message_id = rows[i].message_id;
		m = sender_build(config, &mail, &error);
		g_assert_null(m);
		g_assert_error(error, SENDER_ERROR, rows[i].code);
	}
	{
		g_autoptr(smtp_config_t) config =
		    config_new("smtp://127.0.0.1:25", SECURITY_NONE, "utf-8");
		sender_mail_t mail = mail_default();
		g_autoptr(GError) error = NULL;
		g_autoptr(GMimeMessage) m = NULL;

		mail.body = "not \xff UTF-8";
		m = sender_build(config, &mail, &error);
		g_assert_null(m);
		g_assert_error(error, SENDER_ERROR, PI_ERROR_MESSAGE);
	}
}

/* Pure ASCII goes out 7bit; line ends are normalized to CRLF whatever came in. */
static void
test_build_ascii_and_line_ends(void)
{
	sender_mail_t mail = mail_default();
	g_autoptr(GMimeMessage) m = NULL;
	g_autoptr(GMimeMessage) m2 = NULL;
	g_autofree char *text = NULL;
	g_autofree char *text2 = NULL;
	g_autofree char *long_line = g_strnfill(1200, 'x');
	g_autofree char *long_body = g_strconcat(long_line, "\n", NULL);
	GMimePart *body;

	mail.to_name = "Taro Yamada, Jr.";
	mail.subject = "Re: Your request";
	mail.body = "line one\r\nline two\rline three\nlast";
	m = build_and_reparse("utf-8", &mail, NULL);
	g_assert_cmpstr(raw_header(GMIME_OBJECT(m), "Subject"), ==, " Re: Your request\r\n");
	check_mailbox(g_mime_message_get_to(m), "Taro Yamada, Jr.", "taro@example.org");
	body = body_part(m);
	g_assert_cmpint(g_mime_part_get_content_encoding(body), ==, GMIME_CONTENT_ENCODING_7BIT);
	text = part_text(body);
	g_assert_cmpstr(text, ==, "line one\nline two\nline three\nlast\n");

	/* an ASCII line over 998 octets cannot go 7bit */
	mail.body = long_body;
	m2 = build_and_reparse("utf-8", &mail, NULL);
	body = body_part(m2);
	g_assert_cmpint(g_mime_part_get_content_encoding(body), ==, GMIME_CONTENT_ENCODING_BASE64);
	text2 = part_text(body);
	g_assert_cmpstr(text2, ==, long_body);
}

static void
test_build_attachments(void)
{
	g_autofree char *dir = testserver_tmpdir();
	g_autofree char *pdf = g_build_filename(dir, "disclosure.pdf", NULL);
	g_autofree char *other = g_build_filename(dir, "records.bin", NULL);
	static const char pdf_bytes[] = "%PDF-1.4\n\x00\x01\x02\xff binary\r\nmore\n";
	static const char other_bytes[] = "\xe9\x96\x8b\xe7\xa4\xba";
	sender_attachment_t attachments[] = {
	    {pdf, "開示結果_山田太郎様.pdf", "application/pdf"},
	    {other, NULL, NULL},
	};
	sender_mail_t mail = mail_default();
	g_autoptr(GMimeMessage) m = NULL;
	g_autoptr(GBytes) wire = NULL;
	GMimeObject *top;
	GMimeMultipart *mixed;

	g_assert_true(g_file_set_contents(pdf, pdf_bytes, sizeof pdf_bytes - 1, NULL));
	g_assert_true(g_file_set_contents(other, other_bytes, sizeof other_bytes - 1, NULL));
	mail.attachments = attachments;
	mail.n_attachments = G_N_ELEMENTS(attachments);
	m = build_and_reparse("iso-2022-jp", &mail, &wire);
	/* the files are read again each time the message is written (a retry) */
	{
		g_autoptr(smtp_config_t) config =
		    config_new("smtp://127.0.0.1:25", SECURITY_NONE, "iso-2022-jp");
		g_autoptr(GMimeMessage) built = sender_build(config, &mail, NULL);
		g_autoptr(GBytes) first = serialize(built);
		g_autoptr(GBytes) second = serialize(built);
		g_assert_true(g_bytes_equal(first, second));
		g_assert_nonnull(memmem(g_bytes_get_data(second, NULL), g_bytes_get_size(second),
		                        "JVBERi0xLjQKAAEC/yBiaW5hcnkNCm1vcmUK", 36));
	}

	top = g_mime_message_get_mime_part(m);
	g_assert_true(GMIME_IS_MULTIPART(top));
	g_assert_true(
	    g_mime_content_type_is_type(g_mime_object_get_content_type(top), "multipart", "mixed"));
	mixed = GMIME_MULTIPART(top);
	g_assert_cmpint(g_mime_multipart_get_count(mixed), ==, 3);
	{
		g_autofree char *text = part_text(body_part(m));
		g_assert_cmpstr(text, ==, BODY);
	}
	for (guint i = 0; i < 2; i++) {
		GMimeObject *obj = g_mime_multipart_get_part(mixed, (int)i + 1);
		GMimePart *part = GMIME_PART(obj);
		g_autoptr(GBytes) got = part_bytes(part);
		const char *want = i == 0 ? pdf_bytes : other_bytes;
		gsize want_len = i == 0 ? sizeof pdf_bytes - 1 : sizeof other_bytes - 1;

		g_assert_cmpstr(g_mime_object_get_disposition(obj), ==, "attachment");
		g_assert_cmpint(g_mime_part_get_content_encoding(part), ==,
		                GMIME_CONTENT_ENCODING_BASE64);
		g_assert_cmpmem(g_bytes_get_data(got, NULL), g_bytes_get_size(got), want, want_len);
	}
	{
		GMimeObject *obj = g_mime_multipart_get_part(mixed, 1);
		const char *cd = raw_header(obj, "Content-Disposition");
		g_assert_cmpstr(g_mime_part_get_filename(GMIME_PART(obj)), ==,
		                "開示結果_山田太郎様.pdf");
		/* RFC 2231 in UTF-8, whatever GMime guesses from LANG (see main) */
		g_assert_nonnull(strstr(cd, "filename*"));
		g_assert_nonnull(strstr(cd, "UTF-8''"));
		g_assert_true(g_mime_content_type_is_type(g_mime_object_get_content_type(obj),
		                                          "application", "pdf"));
	}
	{
		GMimeObject *obj = g_mime_multipart_get_part(mixed, 2);
		g_assert_cmpstr(g_mime_part_get_filename(GMIME_PART(obj)), ==, "records.bin");
		g_assert_true(g_mime_content_type_is_type(g_mime_object_get_content_type(obj),
		                                          "application", "octet-stream"));
	}

	/* a file missing from disk makes this mail bad */
	{
		g_autoptr(smtp_config_t) config =
		    config_new("smtp://127.0.0.1:25", SECURITY_NONE, "utf-8");
		g_autoptr(GError) error = NULL;
		g_autoptr(GMimeMessage) none = NULL;
		g_autofree char *gone = g_build_filename(dir, "gone.pdf", NULL);
		sender_attachment_t missing[] = {{gone, "gone.pdf", "application/pdf"}};

		mail.attachments = missing;
		mail.n_attachments = 1;
		none = sender_build(config, &mail, &error);
		g_assert_null(none);
		g_assert_error(error, SENDER_ERROR, PI_ERROR_MESSAGE);
	}
	testserver_tmpdir_remove(dir);
}

static void
test_message_id(void)
{
	static const struct {
		const char *from, *domain;
	} rows[] = {
	    {FROM, "example.co.jp"},
	    {"Privacy <Privacy@Example.CO.JP>", "example.co.jp"},
	    {"privacy@example.org", "example.org"},
	    {NULL, "privacy-inbox.invalid"},
	    {"not an address", "privacy-inbox.invalid"},
	    {"x@bad_domain!", "privacy-inbox.invalid"},
	};
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
		g_autofree char *id = sender_new_message_id(rows[i].from);
		const char *at = strchr(id, '@');

		g_assert_nonnull(at);
		g_assert_cmpstr(at + 1, ==, rows[i].domain);
		g_assert_cmpint(at - id, ==, 32); /* 128 bits in hex */
		for (const char *p = id; p < at; p++)
			g_assert_true(g_ascii_isxdigit(*p));
	}
	for (int i = 0; i < 10000; i++) {
		char *id = sender_new_message_id(FROM);
		g_assert_true(g_hash_table_add(seen, id));
	}
}

/* ---- send ----------------------------------------------------------------------------- */

typedef struct {
	char *dir;            /* the server's spool */
	testserver_t *server; /* NULL for the "nothing there" tests */
} smtpd_t;

static void
smtpd_stop(smtpd_t *s)
{
	testserver_stop(s->server);
	testserver_tmpdir_remove(s->dir);
	g_free(s->dir);
	g_free(s);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(smtpd_t, smtpd_stop)

/* Start smtpd.py with the extra switches (NULL-terminated). */
static smtpd_t *
smtpd_start(const char *first, ...)
{
	smtpd_t *s = g_new0(smtpd_t, 1);
	g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func(g_free);
	va_list ap;

	s->dir = testserver_tmpdir();
	g_ptr_array_add(args, g_strdup("--dir"));
	g_ptr_array_add(args, g_strdup(s->dir));
	g_ptr_array_add(args, g_strdup("--tls-dir"));
	g_ptr_array_add(args, g_strdup(tls_dir));
	va_start(ap, first);
	for (const char *a = first; a != NULL; a = va_arg(ap, const char *))
		g_ptr_array_add(args, g_strdup(a));
	va_end(ap);
	g_ptr_array_add(args, NULL);
	s->server = testserver_start("smtpd.py", (const char *const *)args->pdata);
	return s;
}

static smtp_config_t *
config_for(smtpd_t *s, security_t security, const char *charset)
{
	smtp_config_t *c = config_new(testserver_get_string(s->server, "url"), security, charset);

	c->ca_file = g_strdup(testserver_get_string(s->server, "ca_file"));
	return c;
}

static guint
count_messages(smtpd_t *s)
{
	g_autoptr(GDir) d = g_dir_open(s->dir, 0, NULL);
	const char *name;
	guint n = 0;

	g_assert_nonnull(d);
	while ((name = g_dir_read_name(d)) != NULL) {
		if (g_str_has_suffix(name, ".eml") && name[0] != '.')
			n++;
	}
	return n;
}

/* Message N (1-based) as received, and its envelope. */
static GBytes *
received(smtpd_t *s, guint n, JsonParser **envelope_out)
{
	g_autofree char *eml = g_strdup_printf("%s/%06u.eml", s->dir, n);
	g_autofree char *json = g_strdup_printf("%s/%06u.json", s->dir, n);
	g_autoptr(GError) error = NULL;
	char *data = NULL;
	gsize len;

	g_assert_true(g_file_get_contents(eml, &data, &len, &error));
	g_assert_no_error(error);
	if (envelope_out != NULL) {
		*envelope_out = json_parser_new();
		g_assert_true(json_parser_load_from_file(*envelope_out, json, &error));
		g_assert_no_error(error);
	}
	return g_bytes_new_take(data, len);
}

static JsonObject *
envelope_object(JsonParser *parser)
{
	return json_node_get_object(json_parser_get_root(parser));
}

static GMimeMessage *
build_default(const smtp_config_t *config)
{
	sender_mail_t mail = mail_default();
	g_autoptr(GError) error = NULL;
	GMimeMessage *m = sender_build(config, &mail, &error);

	g_assert_no_error(error);
	return m;
}

/* The bytes that arrived decode to the same Japanese subject, names and body. */
static void
check_arrived(GBytes *wire, const char *charset)
{
	g_autoptr(GMimeMessage) m = NULL;
	g_autofree char *text = NULL;

	check_wire(wire);
	m = parse(wire);
	g_assert_cmpstr(g_mime_message_get_subject(m), ==, SUBJECT);
	check_mailbox(g_mime_message_get_from(m), FROM_NAME, "privacy@example.co.jp");
	check_mailbox(g_mime_message_get_to(m), "山田 太郎", "taro@example.org");
	g_assert_cmpstr(
	    g_mime_object_get_content_type_parameter(GMIME_OBJECT(body_part(m)), "charset"), ==,
	    charset);
	text = part_text(body_part(m));
	g_assert_cmpstr(text, ==, BODY);
}

static void
test_send_starttls_auth(void)
{
	g_autoptr(smtpd_t) s = smtpd_start("--starttls", "--auth", "privacy:s3cret", NULL);
	g_autoptr(smtp_config_t) config = config_for(s, SECURITY_STARTTLS, "utf-8");
	g_autoptr(GMimeMessage) m = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) wire = NULL;
	g_autoptr(JsonParser) envelope = NULL;
	JsonObject *e;
	JsonArray *rcpts;

	config->user = g_strdup("privacy");
	config->password = g_strdup("s3cret");
	m = build_default(config);
	g_assert_true(sender_send(config, m, "taro@example.org", &error));
	g_assert_no_error(error);

	g_assert_cmpuint(count_messages(s), ==, 1);
	wire = received(s, 1, &envelope);
	e = envelope_object(envelope);
	g_assert_cmpstr(json_object_get_string_member(e, "mail_from"), ==, "privacy@example.co.jp");
	rcpts = json_object_get_array_member(e, "rcpt_tos");
	g_assert_cmpuint(json_array_get_length(rcpts), ==, 1);
	g_assert_cmpstr(json_array_get_string_element(rcpts, 0), ==, "taro@example.org");
	g_assert_cmpstr(json_object_get_string_member(e, "auth_user"), ==, "privacy");
	g_assert_true(json_object_get_boolean_member(e, "tls"));
	check_arrived(wire, "UTF-8");
}

static void
test_send_implicit_tls(void)
{
	g_autoptr(smtpd_t) s = smtpd_start("--implicit-tls", NULL);
	g_autoptr(smtp_config_t) config = config_for(s, SECURITY_TLS, "iso-2022-jp");
	g_autoptr(GMimeMessage) m = build_default(config);
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) wire = NULL;
	g_autoptr(JsonParser) envelope = NULL;

	g_assert_true(g_str_has_prefix(config->url, "smtps://"));
	g_assert_true(sender_send(config, m, "taro@example.org", &error));
	g_assert_no_error(error);
	g_assert_cmpuint(count_messages(s), ==, 1);
	wire = received(s, 1, &envelope);
	g_assert_true(json_object_get_boolean_member(envelope_object(envelope), "tls"));
	check_arrived(wire, "ISO-2022-JP");
}

static void
test_send_plain(void)
{
	g_autoptr(smtpd_t) s = smtpd_start(NULL);
	g_autoptr(smtp_config_t) config = config_for(s, SECURITY_NONE, "utf-8");
	g_autoptr(GMimeMessage) m = build_default(config);
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) wire = NULL;
	g_autoptr(JsonParser) envelope = NULL;
	JsonObject *e;

	g_assert_true(sender_send(config, m, "other@example.org", &error));
	g_assert_no_error(error);
	g_assert_cmpuint(count_messages(s), ==, 1);
	wire = received(s, 1, &envelope);
	e = envelope_object(envelope);
	g_assert_false(json_object_get_boolean_member(e, "tls"));
	/* RCPT TO is the envelope address, whatever the To: header says */
	g_assert_cmpstr(
	    json_array_get_string_element(json_object_get_array_member(e, "rcpt_tos"), 0), ==,
	    "other@example.org");
	check_arrived(wire, "UTF-8");

	/* 7bit lines that start with a dot survive SMTP's dot-stuffing */
	{
		sender_mail_t mail = mail_default();
		g_autoptr(GMimeMessage) dots = NULL;
		g_autoptr(GMimeMessage) arrived = NULL;
		g_autoptr(GBytes) wire2 = NULL;
		g_autofree char *text = NULL;
		g_autoptr(GError) error2 = NULL;

		mail.subject = "dots";
		mail.body = ".\n..\n.leading dot\nend\n";
		dots = sender_build(config, &mail, &error2);
		g_assert_no_error(error2);
		g_assert_true(sender_send(config, dots, "taro@example.org", &error2));
		g_assert_no_error(error2);
		g_assert_cmpuint(count_messages(s), ==, 2);
		wire2 = received(s, 2, NULL);
		check_wire(wire2);
		arrived = parse(wire2);
		g_assert_cmpint(g_mime_part_get_content_encoding(body_part(arrived)), ==,
		                GMIME_CONTENT_ENCODING_7BIT);
		text = part_text(body_part(arrived));
		g_assert_cmpstr(text, ==, mail.body);
	}
}

static void
test_send_wrong_password(void)
{
	g_autoptr(smtpd_t) s = smtpd_start("--starttls", "--auth", "privacy:s3cret", NULL);
	g_autoptr(smtp_config_t) config = config_for(s, SECURITY_STARTTLS, "utf-8");
	g_autoptr(GMimeMessage) m = build_default(config);
	g_autoptr(GError) error = NULL;

	config->user = g_strdup("privacy");
	config->password = g_strdup("wrong");
	g_assert_false(sender_send(config, m, "taro@example.org", &error));
	g_assert_error(error, SENDER_ERROR, PI_ERROR_AUTH);
	g_test_message("%s", error->message);
	g_assert_nonnull(strstr(error->message, "535"));
	g_assert_null(strstr(error->message, "wrong"));
	g_assert_cmpuint(count_messages(s), ==, 0);
}

static void
test_send_unknown_ca(void)
{
	g_autoptr(smtpd_t) s = smtpd_start("--starttls", NULL);
	g_autoptr(smtpd_t) s2 = smtpd_start("--implicit-tls", NULL);
	g_autoptr(smtp_config_t) config = config_for(s, SECURITY_STARTTLS, "utf-8");
	g_autoptr(smtp_config_t) config2 = config_for(s2, SECURITY_TLS, "utf-8");
	g_autoptr(GMimeMessage) m = build_default(config);
	g_autoptr(GError) error = NULL;
	g_autoptr(GError) error2 = NULL;

	/* a certificate from an unrelated CA */
	g_free(config->ca_file);
	config->ca_file = g_strdup(testserver_get_string(s->server, "other_ca_file"));
	g_assert_false(sender_send(config, m, "taro@example.org", &error));
	g_assert_error(error, SENDER_ERROR, PI_ERROR_TLS);
	g_test_message("%s", error->message);
	g_assert_cmpuint(count_messages(s), ==, 0);

	/* the system store does not know the test CA either */
	g_clear_pointer(&config2->ca_file, g_free);
	g_assert_false(sender_send(config2, m, "taro@example.org", &error2));
	g_assert_error(error2, SENDER_ERROR, PI_ERROR_TLS);
	g_test_message("%s", error2->message);
	g_assert_cmpuint(count_messages(s2), ==, 0);
}

static void
test_send_starttls_missing(void)
{
	g_autoptr(smtpd_t) s = smtpd_start(NULL);
	g_autoptr(smtp_config_t) config = config_for(s, SECURITY_STARTTLS, "utf-8");
	g_autoptr(GMimeMessage) m = build_default(config);
	g_autoptr(GError) error = NULL;

	g_assert_false(sender_send(config, m, "taro@example.org", &error));
	g_assert_error(error, SENDER_ERROR, PI_ERROR_TLS);
	g_test_message("%s", error->message);
	g_assert_nonnull(strstr(error->message, "STARTTLS"));
	g_assert_cmpuint(count_messages(s), ==, 0);
}

static void
test_send_rejected(void)
{
	g_autoptr(smtpd_t) s = smtpd_start("--reject", "nobody@example.org", NULL);
	g_autoptr(smtp_config_t) config = config_for(s, SECURITY_NONE, "utf-8");
	g_autoptr(GMimeMessage) m = build_default(config);
	g_autoptr(GError) error = NULL;
	g_autofree char *expected = NULL;

	g_assert_false(sender_send(config, m, "nobody@example.org", &error));
	g_assert_error(error, SENDER_ERROR, PI_ERROR_PERMANENT);
	expected = g_strdup_printf(
	    "%s: recipient refused: 550 5.1.1 <nobody@example.org>: no such user", config->url);
	g_assert_cmpstr(error->message, ==, expected);
	g_assert_cmpuint(count_messages(s), ==, 0);
}

static void
test_send_tempfail(void)
{
	g_autoptr(smtpd_t) s = smtpd_start("--tempfail", "1", NULL);
	g_autoptr(smtp_config_t) config = config_for(s, SECURITY_NONE, "utf-8");
	g_autoptr(GMimeMessage) m = build_default(config);
	g_autoptr(GError) error = NULL;
	g_autoptr(GError) error2 = NULL;

	g_assert_false(sender_send(config, m, "taro@example.org", &error));
	g_assert_error(error, SENDER_ERROR, PI_ERROR_TEMPORARY);
	g_test_message("%s", error->message);
	g_assert_nonnull(strstr(error->message, "message deferred: 451"));
	g_assert_cmpuint(count_messages(s), ==, 0);

	g_assert_true(sender_send(config, m, "taro@example.org", &error2));
	g_assert_no_error(error2);
	g_assert_cmpuint(count_messages(s), ==, 1);
}

/* A port nobody listens on: bound, then released. */
static guint16
free_port(void)
{
	struct sockaddr_in addr = {.sin_family = AF_INET};
	socklen_t len = sizeof addr;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	guint16 port;

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	g_assert_cmpint(bind(fd, (struct sockaddr *)&addr, sizeof addr), ==, 0);
	g_assert_cmpint(getsockname(fd, (struct sockaddr *)&addr, &len), ==, 0);
	port = ntohs(addr.sin_port);
	close(fd);
	return port;
}

static void
test_send_nothing_listening(void)
{
	g_autofree char *url = g_strdup_printf("smtp://127.0.0.1:%u", free_port());
	g_autoptr(smtp_config_t) config = config_new(url, SECURITY_STARTTLS, "utf-8");
	g_autoptr(GMimeMessage) m = build_default(config);
	g_autoptr(GError) error = NULL;

	g_assert_false(sender_send(config, m, "taro@example.org", &error));
	g_assert_error(error, SENDER_ERROR, PI_ERROR_TEMPORARY);
	g_test_message("%s", error->message);
	g_assert_true(g_str_has_prefix(error->message, url));
	g_assert_nonnull(strstr(error->message, "cannot connect"));
}

/* A server that accepts the connection and never greets: the reply timeout
 * ends the wait. */
static void
test_send_silent_server(void)
{
	struct sockaddr_in addr = {.sin_family = AF_INET};
	socklen_t len = sizeof addr;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	g_autofree char *url = NULL;
	g_autoptr(smtp_config_t) config = NULL;
	g_autoptr(GMimeMessage) m = NULL;
	g_autoptr(GError) error = NULL;

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	g_assert_cmpint(bind(fd, (struct sockaddr *)&addr, sizeof addr), ==, 0);
	g_assert_cmpint(listen(fd, 4), ==, 0); /* the kernel completes the handshake */
	g_assert_cmpint(getsockname(fd, (struct sockaddr *)&addr, &len), ==, 0);
	url = g_strdup_printf("smtp://127.0.0.1:%u", ntohs(addr.sin_port));
	config = config_new(url, SECURITY_STARTTLS, "utf-8");
	config->timeout_seconds = 1;
	m = build_default(config);

	g_assert_false(sender_send(config, m, "taro@example.org", &error));
	g_assert_error(error, SENDER_ERROR, PI_ERROR_TEMPORARY);
	g_test_message("%s", error->message);
	close(fd);
}

static void
test_send_config_refused(void)
{
	static const struct {
		const char *url;
		security_t security;
		const char *user, *password, *envelope_to;
		int code;
	} rows[] = {
	    {"smtps://127.0.0.1:1", SECURITY_STARTTLS, NULL, NULL, "taro@example.org",
	     PI_ERROR_FATAL},
	    {"smtps://127.0.0.1:1", SECURITY_NONE, NULL, NULL, "taro@example.org", PI_ERROR_FATAL},
	    {"smtp://127.0.0.1:1", SECURITY_TLS, NULL, NULL, "taro@example.org", PI_ERROR_FATAL},
	    {NULL, SECURITY_STARTTLS, NULL, NULL, "taro@example.org", PI_ERROR_FATAL},
	    {"smtp://127.0.0.1:1", SECURITY_STARTTLS, "privacy", NULL, "taro@example.org",
	     PI_ERROR_FATAL},
	    {"smtp://127.0.0.1:1", SECURITY_STARTTLS, NULL, NULL, "taro@example.org>\r\nRSET",
	     PI_ERROR_MESSAGE},
	    {"smtp://127.0.0.1:1", SECURITY_STARTTLS, NULL, NULL, NULL, PI_ERROR_MESSAGE},
	};
	g_autoptr(smtp_config_t) base = config_new("smtp://127.0.0.1:1", SECURITY_NONE, "utf-8");
	g_autoptr(GMimeMessage) m = build_default(base);

	for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
		g_autoptr(smtp_config_t) config =
		    config_new(rows[i].url, rows[i].security, "utf-8");
		g_autoptr(GError) error = NULL;

		config->user = g_strdup(rows[i].user);
		config->password = g_strdup(rows[i].password);
		g_assert_false(sender_send(config, m, rows[i].envelope_to, &error));
		g_assert_error(error, SENDER_ERROR, rows[i].code);
	}
}

/* SHA-256 of the decoded content of PART, streamed. */
static char *
part_sha256(GMimePart *part)
{
	g_autoptr(GMimeStream) null = g_mime_stream_null_new();
	g_autoptr(GMimeStream) filtered = g_mime_stream_filter_new(null);
	g_autoptr(GMimeFilter) checksum = g_mime_filter_checksum_new(G_CHECKSUM_SHA256);

	g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), checksum);
	g_assert_cmpint(
	    g_mime_data_wrapper_write_to_stream(g_mime_part_get_content(part), filtered), >=, 0);
	g_mime_stream_flush(filtered);
	return g_mime_filter_checksum_get_string(GMIME_FILTER_CHECKSUM(checksum));
}

static void
test_send_large_attachment(void)
{
	g_autoptr(smtpd_t) s = smtpd_start("--starttls", "--auth", "privacy:s3cret", NULL);
	g_autoptr(smtp_config_t) config = config_for(s, SECURITY_STARTTLS, "iso-2022-jp");
	g_autofree char *dir = testserver_tmpdir();
	g_autofree char *path = g_build_filename(dir, "records.tar", NULL);
	g_autoptr(GChecksum) want = g_checksum_new(G_CHECKSUM_SHA256);
	g_autoptr(GRand) rand = g_rand_new_with_seed(20261128);
	g_autoptr(GError) error = NULL;
	g_autoptr(GMimeMessage) m = NULL;
	g_autoptr(GMimeMessage) got = NULL;
	g_autoptr(GMimeStream) stream = NULL;
	g_autoptr(GMimeParser) parser = NULL;
	g_autoptr(JsonParser) envelope = NULL;
	g_autofree char *eml = NULL;
	g_autofree char *got_sha = NULL;
	sender_attachment_t attachment = {path, "開示記録一式.tar", "application/x-tar"};
	sender_mail_t mail = mail_default();
	const gsize size = 6 * 1024 * 1024 + 123;
	FILE *f = fopen(path, "wb");

	g_assert_nonnull(f);
	for (gsize done = 0; done < size;) {
		guint32 block[1024];
		gsize n = MIN(sizeof block, size - done);
		for (gsize i = 0; i < G_N_ELEMENTS(block); i++)
			block[i] = g_rand_int(rand);
		g_assert_cmpuint(fwrite(block, 1, n, f), ==, n);
		g_checksum_update(want, (const guchar *)block, (gssize)n);
		done += n;
	}
	g_assert_cmpint(fclose(f), ==, 0);

	config->user = g_strdup("privacy");
	config->password = g_strdup("s3cret");
	mail.attachments = &attachment;
	mail.n_attachments = 1;
	m = sender_build(config, &mail, &error);
	g_assert_no_error(error);
	g_assert_true(sender_send(config, m, "taro@example.org", &error));
	g_assert_no_error(error);
	g_assert_cmpuint(count_messages(s), ==, 1);

	/* Read what arrived from its file, streamed too. */
	g_clear_pointer(&envelope, g_object_unref);
	g_bytes_unref(received(s, 1, &envelope)); /* the envelope; the bytes are checked below */
	g_assert_true(json_object_get_boolean_member(envelope_object(envelope), "tls"));
	eml = g_strdup_printf("%s/000001.eml", s->dir);
	stream = g_mime_stream_fs_open(eml, O_RDONLY, 0, &error);
	g_assert_no_error(error);
	parser = g_mime_parser_new_with_stream(stream);
	got = g_mime_parser_construct_message(parser, NULL);
	g_assert_nonnull(got);
	{
		GMimeObject *top = g_mime_message_get_mime_part(got);
		GMimeObject *part;
		g_assert_true(GMIME_IS_MULTIPART(top));
		part = g_mime_multipart_get_part(GMIME_MULTIPART(top), 1);
		g_assert_cmpstr(g_mime_part_get_filename(GMIME_PART(part)), ==, "開示記録一式.tar");
		got_sha = part_sha256(GMIME_PART(part));
	}
	g_assert_cmpstr(got_sha, ==, g_checksum_get_string(want));
	testserver_tmpdir_remove(dir);
}

int
main(int argc, char **argv)
{
	int rc;

	/* GMime guesses charsets from LANG: make it guess Japanese, so the tests
	 * show that what we send never depends on the locale. */
	g_setenv("LANG", "ja_JP.UTF-8", TRUE);
	g_unsetenv("LC_ALL");
	g_unsetenv("LC_CTYPE");
	g_test_init(&argc, &argv, NULL);
	g_mime_init();
	curl_global_init(CURL_GLOBAL_DEFAULT); /* the command layer's job in the program */
	tls_dir = testserver_tmpdir();

	g_test_add_func("/sender/build/utf8", test_build_utf8);
	g_test_add_func("/sender/build/iso-2022-jp", test_build_jis);
	g_test_add_func("/sender/build/jis-equivalents", test_build_jis_equivalents);
	g_test_add_func("/sender/build/jis-fallback", test_build_jis_fallback);
	g_test_add_func("/sender/build/header-injection", test_build_injection);
	g_test_add_func("/sender/build/refused", test_build_refused);
	g_test_add_func("/sender/build/ascii-and-line-ends", test_build_ascii_and_line_ends);
	g_test_add_func("/sender/build/attachments", test_build_attachments);
	g_test_add_func("/sender/message-id", test_message_id);
	g_test_add_func("/sender/send/starttls-auth", test_send_starttls_auth);
	g_test_add_func("/sender/send/implicit-tls", test_send_implicit_tls);
	g_test_add_func("/sender/send/plain", test_send_plain);
	g_test_add_func("/sender/send/wrong-password", test_send_wrong_password);
	g_test_add_func("/sender/send/unknown-ca", test_send_unknown_ca);
	g_test_add_func("/sender/send/starttls-missing", test_send_starttls_missing);
	g_test_add_func("/sender/send/rejected", test_send_rejected);
	g_test_add_func("/sender/send/tempfail", test_send_tempfail);
	g_test_add_func("/sender/send/nothing-listening", test_send_nothing_listening);
	g_test_add_func("/sender/send/silent-server", test_send_silent_server);
	g_test_add_func("/sender/send/config-refused", test_send_config_refused);
	g_test_add_func("/sender/send/large-attachment", test_send_large_attachment);

	rc = g_test_run();
	testserver_tmpdir_remove(tls_dir);
	g_free(tls_dir);
	curl_global_cleanup();
	g_mime_shutdown();
	return rc;
}
