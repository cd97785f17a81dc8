/* test_text.c — the smaller pure pieces: HTML to text, quote stripping,
 * format=flowed, folding, automatic-mail headers, attachment kinds. */
#include "tests/parser/parser-test.h"

static const struct {
	const char *html, *text;
} html_rows[] = {
    {"<p>Hello</p><p>World</p>", "Hello\n\nWorld\n"},
    {"a<br>b<br/>c", "a\nb\nc\n"},
    {"<html><head><title>T</title><style>p{}</style></head><body>x</body></html>", "x\n"},
    {"<script>alert('開示')</script>本文", "本文\n"},
    {"&amp;&lt;&gt;&quot;&#39;&#x592A;&#22826;&nbsp;&copy;", "&<>\"'太太 ©\n"},
    {"&unknown; &#xZZ; & alone", "&unknown; &#xZZ; & alone\n"},
    {"<a href=\"x>y\">link</a> text", "link text\n"},
    {"<!-- 開示 -->visible", "visible\n"},
    {"  lots   of\n\n  space  ", "lots of space\n"},
    {"<div>one</div><div>two</div>", "one\n\ntwo\n"},
    {"<table><tr><td>a</td><td>b</td></tr></table>", "a b\n"},
    {"unclosed <b", "unclosed\n"},
    {"", ""},
};

static void
test_html(void)
{
	for (gsize i = 0; i < G_N_ELEMENTS(html_rows); i++) {
		g_autofree char *got = parser_html_to_text(html_rows[i].html);
		if (strcmp(got, html_rows[i].text) != 0)
			g_error("row %" G_GSIZE_FORMAT ": got \"%s\", want \"%s\"", i, got,
			        html_rows[i].text);
	}
}

static void
test_meta_charset(void)
{
	const char *a =
	    "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=Shift_JIS\">";
	const char *b = "<META CHARSET='euc-jp'>";
	g_autofree char *ga = parser_html_meta_charset(a, strlen(a));
	g_autofree char *gb = parser_html_meta_charset(b, strlen(b));
	g_autofree char *gc = parser_html_meta_charset("<p>no</p>", 9);

	g_assert_cmpstr(ga, ==, "shift_jis");
	g_assert_cmpstr(gb, ==, "euc-jp");
	g_assert_null(gc);
}

static const struct {
	const char *text, *new_part;
} quote_rows[] = {
    {"Thanks\n> quoted\n>> deeper\nmore\n", "Thanks\nmore\n"},
    {"New\n\n-----Original Message-----\nFrom: x\nold\n", "New\n\n"},
    {"New\n----- Original Message -----\nold\n", "New\n"},
    {"新しい\n-----元のメッセージ-----\n古い\n", "新しい\n"},
    {"New\nOn Fri, Nov 20, 2026 at 10:00 AM Privacy <p@example.jp> wrote:\n> old\n", "New\n"},
    {"New\nOn Fri, Nov 20, 2026 at 10:00 AM Privacy Office\n<p@example.jp> wrote:\nold\n", "New\n"},
    {"承知しました\n2026年11月20日(金) 10:00 窓口 <p@example.jp>:\n> 古い\n", "承知しました\n"},
    {"了解\n山田様 に書きました:\n古い\n", "了解\n"},
    {"ok\n________________________________\nFrom: Privacy\nSent: today\n", "ok\n"},
    {"ok\nFrom: Privacy Office\nSent: Friday\nold\n", "ok\n"},
    {"ok\n差出人: 窓口\n送信日時: 金曜日\n古い\n", "ok\n"},
    {"From: a colleague told me\nto write\n", "From: a colleague told me\nto write\n"},
    {"＞全角の引用\n本文\n", "本文\n"},
    /* signatures */
    {"Please delete my data.\n-- \nJohn\nTel 03\n", "Please delete my data.\n"},
    {"削除してください。\n\n━━━━━━━━━━━━\n山田 太郎\nTEL: 03-0000-0000\n━━━━━━━━━━━━\n",
     "削除してください。\n\n"},
    {"a rule with no contact lines after it\n==========\nstays\n",
     "a rule with no contact lines after it\n==========\nstays\n"},
    /* an inline forward ends the forwarder's note */
    {"転送します\n---------- Forwarded message ---------\nFrom: A <a@example.jp>\n\n開示\n",
     "転送します\n"},
};

static const struct {
	const char *text, *from, *subject, *body;
	gboolean outlook; /* the subject said FW: */
} forward_rows[] = {
    {"FYI\n\n---------- Forwarded message ---------\nFrom: 佐藤 花子 <h@example.jp>\n"
     "Date: 2026年11月20日(金)\nSubject: 削除依頼\nTo: <info@example.co.jp>\n\n削除してください\n",
     "佐藤 花子 <h@example.jp>", "削除依頼", "削除してください\n", FALSE},
    {"Begin forwarded message:\n\nFrom: Mary <m@example.org>\nSubject: Access\n\nCopy please",
     "Mary <m@example.org>", "Access", "Copy please", FALSE},
    {"-------- 転送メッセージ --------\n件名: \t開示\n差出人: \t鈴木 <s@example.jp>\n\n本文",
     "鈴木 <s@example.jp>", "開示", "本文", FALSE},
    {"no forward here\nFrom: someone\n", NULL, NULL, NULL, FALSE},
    {"---------- Forwarded message ---------\nSubject: no sender\n\nx", NULL, NULL, NULL, FALSE},
    /* Outlook's FW: */
    {"ご確認ください\n\n-----Original Message-----\nFrom: 田中 [mailto:t@example.jp]\n"
     "Sent: Friday\nSubject: 削除\n\n削除して",
     "田中 [mailto:t@example.jp]", "削除", "削除して", TRUE},
    {"ok\n-----Original Message-----\nFrom: 田中\nSent: Friday\n\nold", NULL, NULL, NULL, FALSE},
};

static void
test_inline_forward(void)
{
	for (gsize i = 0; i < G_N_ELEMENTS(forward_rows); i++) {
		g_autofree char *from = NULL, *subject = NULL, *body = NULL;
		gboolean found = parser_text_inline_forward(
		    forward_rows[i].text, forward_rows[i].outlook, &from, &subject, &body);
		if (found != (forward_rows[i].from != NULL))
			g_error("row %" G_GSIZE_FORMAT ": found %d", i, found);
		g_assert_cmpstr(from, ==, forward_rows[i].from);
		g_assert_cmpstr(subject, ==, forward_rows[i].subject);
		g_assert_cmpstr(body, ==, forward_rows[i].body);
	}
}

static const struct {
	const char *text, *type;
	gboolean masking;
} document_rows[] = {
    {"運転免許証.jpg", "drivers_license", FALSE},
    {"ＭＹ ＮＵＭＢＥＲ card.png", "my_number_card", TRUE},
    {"マイナンバーカード（表面）.jpg", "my_number_card", TRUE},
    {"保険証_表.jpg", "health_insurance_card", TRUE},
    {"旅券.pdf", "passport", FALSE},
    {"在留カード", "residence_card", FALSE},
    {"住民票の写し.pdf", "resident_record", TRUE},
    {"IMG_0001.HEIC", NULL, FALSE},
    /* the earliest mention wins */
    {"パスポートと運転免許証を送ります", "passport", FALSE},
};

static void
test_document_types(void)
{
	for (gsize i = 0; i < G_N_ELEMENTS(document_rows); i++) {
		const char *type = parser_document_type_find(document_rows[i].text);
		if (g_strcmp0(type, document_rows[i].type) != 0)
			g_error("row %" G_GSIZE_FORMAT ": got %s, want %s", i, type,
			        document_rows[i].type);
		g_assert_true(parser_document_type_needs_masking(type) == document_rows[i].masking);
	}
	g_assert_cmpuint(parser_document_type_count("パスポートと運転免許証"), ==, 2);
	g_assert_true(parser_text_mentions_masked_number("個人番号カードを添付"));
	g_assert_false(parser_text_mentions_masked_number("免許証を添付"));
}

static void
test_new_part(void)
{
	for (gsize i = 0; i < G_N_ELEMENTS(quote_rows); i++) {
		g_autofree char *got = parser_text_new_part(quote_rows[i].text);
		if (strcmp(got, quote_rows[i].new_part) != 0)
			g_error("row %" G_GSIZE_FORMAT ": got \"%s\", want \"%s\"", i, got,
			        quote_rows[i].new_part);
	}
}

static void
test_unflow(void)
{
	g_autofree char *a = parser_text_unflow("This is \nflowed.\n-- \nsig", FALSE);
	g_autofree char *b = parser_text_unflow("開示を \nお願い\n", TRUE);
	g_autofree char *c = parser_text_unflow(" From stuffed\n", FALSE);

	g_assert_cmpstr(a, ==, "This is flowed.\n-- \nsig");
	g_assert_cmpstr(b, ==, "開示をお願い\n");
	g_assert_cmpstr(c, ==, "From stuffed\n");
}

static void
test_fold(void)
{
	g_autofree char *a = parser_text_fold("開示を\nお願い");
	g_autofree char *b = parser_text_fold("ＡＢＣ  Def\n\tghi");
	g_autofree char *c = parser_text_fold("不要です\n利用停止");
	g_autofree char *d = parser_text_fold("ｶﾀｶﾅ①");

	g_assert_cmpstr(a, ==, "開示をお願い");
	g_assert_cmpstr(b, ==, "abc def ghi");
	g_assert_cmpstr(c, ==, "不要です\n利用停止");
	g_assert_cmpstr(d, ==, "カタカナ1");
}

/* ---- automatic mail --------------------------------------------------------------- */

static const struct {
	const char *headers; /* prepended to "Subject: …\r\n\r\nbody" */
	const char *subject;
	const char *reason; /* NULL: a person's mail */
} auto_rows[] = {
    {"Auto-Submitted: auto-replied\r\n", "Hi", "Auto-Submitted: auto-replied"},
    {"Auto-Submitted: auto-generated; owner-email=x@example.jp\r\n", "Hi",
     "Auto-Submitted: auto-generated"},
    {"Auto-Submitted: no\r\n", "Hi", NULL},
    {"Precedence: bulk\r\n", "Hi", "Precedence: bulk"},
    {"Precedence: junk\r\n", "Hi", "Precedence: junk"},
    {"Precedence: first-class\r\n", "Hi", NULL},
    {"List-Id: <ml.example.jp>\r\n", "Hi", "List-Id"},
    {"List-Unsubscribe: <mailto:u@example.jp>\r\n", "Hi", "List-Unsubscribe"},
    {"Return-Path: <>\r\n", "Hi", "Return-Path: <>"},
    {"Return-Path: <a@example.jp>\r\n", "Hi", NULL},
    {"X-Autoreply: yes\r\n", "Hi", "X-Autoreply"},
    {"X-Autorespond: yes\r\n", "Hi", "X-Autorespond"},
    {"X-Auto-Response-Suppress: DR, OOF\r\n", "Hi", "X-Auto-Response-Suppress: OOF"},
    {"X-Auto-Response-Suppress: DR\r\n", "Hi", NULL},
    {"X-Failed-Recipients: a@example.jp\r\n", "Hi", "X-Failed-Recipients"},
    {"", "Out of Office: 開示請求", "Subject: out of office"},
    {"", "=?UTF-8?B?6Ieq5YuV6L+U5L+h?=", "Subject: 自動返信"},
    {"", "Mail delivery failed: returning message to sender", "Subject: mail delivery failed"},
    {"", "Delivery Status Notification (Failure)", "Subject: delivery status notification"},
    {"", "開示請求", NULL},
};

static void
test_auto(void)
{
	GMimeParserOptions *options = g_mime_parser_options_new();

	g_mime_init();
	for (gsize i = 0; i < G_N_ELEMENTS(auto_rows); i++) {
		g_autofree char *raw =
		    g_strdup_printf("From: a@example.jp\r\n%sSubject: %s\r\n\r\nbody\r\n",
		                    auto_rows[i].headers, auto_rows[i].subject);
		g_autoptr(GMimeStream) mem = g_mime_stream_mem_new_with_buffer(raw, strlen(raw));
		g_autoptr(GMimeParser) gp = g_mime_parser_new_with_stream(mem);
		g_autoptr(GMimeMessage) message = g_mime_parser_construct_message(gp, options);
		const char *rs = parser_mime_raw_header(GMIME_OBJECT(message), "Subject");
		g_autofree char *norm = parser_header_normalize(rs, FALSE);
		g_autofree char *subject = g_mime_utils_header_decode_text(options, norm);
		g_autofree char *got = parser_auto_reason(message, subject);
		if (g_strcmp0(got, auto_rows[i].reason) != 0)
			g_error("row %" G_GSIZE_FORMAT ": got \"%s\", want \"%s\"", i, got,
			        auto_rows[i].reason);
	}
	{
		const char *raw = "From: MAILER-DAEMON@mx.example.jp\r\nSubject: x\r\n\r\nbody\r\n";
		g_autoptr(GMimeStream) mem = g_mime_stream_mem_new_with_buffer(raw, strlen(raw));
		g_autoptr(GMimeParser) gp = g_mime_parser_new_with_stream(mem);
		g_autoptr(GMimeMessage) message = g_mime_parser_construct_message(gp, options);
		g_autofree char *got = parser_auto_reason(message, "x");
		g_assert_cmpstr(got, ==, "From: MAILER-DAEMON");
	}
	g_mime_parser_options_free(options);
}

/* ---- attachment kinds --------------------------------------------------------------- */

static const struct {
	const char *filename, *declared, *sniffed;
	gsize size;
	gboolean is_inline, truncated;
	attachment_kind_t kind;
	const char *reason; /* substring; NULL: no reason */
} kind_rows[] = {
    {"運転免許証.jpg", "image/jpeg", "image/jpeg", 80000, FALSE, FALSE, ATTACHMENT_ID_DOCUMENT,
     NULL},
    {"scan.pdf", "application/pdf", "application/pdf", 1500, FALSE, FALSE, ATTACHMENT_ID_DOCUMENT,
     NULL},
    {"IMG_0001.HEIC", "image/heic", "image/heic", 900000, TRUE, FALSE, ATTACHMENT_ID_DOCUMENT,
     NULL},
    {"x.webp", "image/webp", "image/webp", 50000, FALSE, FALSE, ATTACHMENT_ID_DOCUMENT, NULL},
    {"x.tif", "image/tiff", "image/tiff", 50000, FALSE, FALSE, ATTACHMENT_ID_DOCUMENT, NULL},
    /* named as anything: the bytes decide */
    {"photo.dat", "application/octet-stream", "image/png", 50000, FALSE, FALSE,
     ATTACHMENT_ID_DOCUMENT, NULL},
    {"logo.png", "image/png", "image/png", 5000, TRUE, FALSE, ATTACHMENT_OTHER, "signature"},
    {"logo.png", "image/png", "image/png", 20000, TRUE, FALSE, ATTACHMENT_ID_DOCUMENT, NULL},
    {"icon.png", "image/png", "image/png", 1000, FALSE, FALSE, ATTACHMENT_OTHER, "too small"},
    {"a.gif", "image/gif", "image/gif", 50000, FALSE, FALSE, ATTACHMENT_ID_DOCUMENT, NULL},
    {"a.bmp", "image/bmp", "image/bmp", 50000, FALSE, FALSE, ATTACHMENT_OTHER,
     "not an identity-document format"},
    {"運転免許証.jpg", "image/jpeg", "application/x-executable", 9000, FALSE, FALSE,
     ATTACHMENT_REJECTED, "disguised"},
    {"photo", "image/jpeg", "text/x-shellscript", 90, FALSE, FALSE, ATTACHMENT_REJECTED,
     "disguised"},
    {"setup.exe", "application/octet-stream", "application/x-dosexec", 90000, FALSE, FALSE,
     ATTACHMENT_REJECTED, "executable content"},
    {"a.jpg", "image/jpeg", "application/zip", 9000, FALSE, FALSE, ATTACHMENT_OTHER,
     "the content is application/zip"},
    {"a.docx", "application/msword", "application/zip", 9000, FALSE, FALSE, ATTACHMENT_OTHER, NULL},
    {"big.jpg", "image/jpeg", "image/jpeg", 1000, FALSE, TRUE, ATTACHMENT_OTHER,
     "not read to the end"},
};

static void
test_kinds(void)
{
	for (gsize i = 0; i < G_N_ELEMENTS(kind_rows); i++) {
		parser_attachment_t a = {0};
		a.filename = g_strdup(kind_rows[i].filename);
		a.declared_type = g_strdup(kind_rows[i].declared);
		a.content_type = g_strdup(kind_rows[i].sniffed);
		a.size = kind_rows[i].size;
		a.is_inline = kind_rows[i].is_inline;
		parser_sniff_classify(&a, 16384, kind_rows[i].truncated);
		if (a.kind != kind_rows[i].kind)
			g_error("row %" G_GSIZE_FORMAT ": kind %d, want %d", i, a.kind,
			        kind_rows[i].kind);
		if (kind_rows[i].reason == NULL)
			g_assert_null(a.reason);
		else if (a.reason == NULL || strstr(a.reason, kind_rows[i].reason) == NULL)
			g_error("row %" G_GSIZE_FORMAT ": reason \"%s\" lacks \"%s\"", i, a.reason,
			        kind_rows[i].reason);
		g_free(a.filename);
		g_free(a.declared_type);
		g_free(a.content_type);
		g_free(a.reason);
	}
}

/* libmagic names what the bytes are, not what the name says. */
static void
test_sniff(void)
{
	static const guint8 jpeg[] = {0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00};
	static const guint8 pdf[] = "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n";
	static const guint8 elf[] = {0x7f, 'E', 'L', 'F', 2, 1, 1,    0, 0, 0, 0, 0,
	                             0,    0,   0,   0,   2, 0, 0x3e, 0, 1, 0, 0, 0};
	magic_t magic = magic_open(MAGIC_MIME_TYPE);
	g_autofree char *a = NULL, *b = NULL, *c = NULL, *d = NULL;

	g_assert_nonnull(magic);
	g_assert_cmpint(magic_load(magic, NULL), ==, 0);
	a = parser_sniff_mime_type(magic, jpeg, sizeof jpeg);
	b = parser_sniff_mime_type(magic, pdf, sizeof pdf - 1);
	c = parser_sniff_mime_type(magic, elf, sizeof elf);
	d = parser_sniff_mime_type(NULL, jpeg, sizeof jpeg);
	g_assert_cmpstr(a, ==, "image/jpeg");
	g_assert_cmpstr(b, ==, "application/pdf");
	g_assert_true(g_str_has_prefix(c, "application/x-"));
	g_assert_cmpstr(d, ==, "application/octet-stream");
	magic_close(magic);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/text/html", test_html);
	g_test_add_func("/text/meta-charset", test_meta_charset);
	g_test_add_func("/text/new-part", test_new_part);
	g_test_add_func("/text/inline-forward", test_inline_forward);
	g_test_add_func("/text/document-types", test_document_types);
	g_test_add_func("/text/unflow", test_unflow);
	g_test_add_func("/text/fold", test_fold);
	g_test_add_func("/text/auto", test_auto);
	g_test_add_func("/text/kinds", test_kinds);
	g_test_add_func("/text/sniff", test_sniff);
	return g_test_run();
}
