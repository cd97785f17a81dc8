/* test_parser.c — every fixture in tests/fixtures/ against a row of expected
 * results (Dovecot's test-message-date.c style), the sink contract, the JSON
 * shape, the limits, and streaming from files and pipes. */
#include "tests/parser/parser-test.h"
#include "tests/lib/testserver.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

/* "|"-separated lists; "-" stands for NULL in a list.  NULL in a column
 * means "not checked"; "" means "none". */
typedef struct {
	const char *path;
	const char *types; /* request types, primary first, "," separated */
	gboolean is_auto;
	const char *auto_reason;
	const char *language;
	guint id_documents;
	const char *subject;
	const char *from_name;    /* exact; "-" = none */
	const char *from_address; /* exact; "-" = none */
	const char *filenames;    /* "|" separated, MIME order */
	const char *kinds;        /* id,other,rejected per attachment */
	const char *sniffed;      /* "|" separated content types */
	const char *ticket_ref;   /* "-" = none */
	const char *problem;      /* substring of `problem`; NULL = no problem at all */
	const char *text_has;     /* substring of `text` */
	const char *text_lacks;   /* must not be in `text` */
} fixture_row_t;

#define YAMADA "山田 太郎", "taro.yamada@example.jp"
#define SMITH "John Smith", "john.smith@example.com"

static const fixture_row_t rows[] = {
    /* requests/: one type each, ja and en, over the common encodings */
    {"requests/ja-iso2022jp-disclosure-license.eml", "disclosure", FALSE, NULL, "ja", 1,
     "個人情報の開示請求", YAMADA, "運転免許証.jpg", "id", "image/jpeg", "-", NULL,
     "保有個人データの開示を請求します。", NULL},
    {"requests/ja-notification-of-purpose.eml", "notification_of_purpose", FALSE, NULL, "ja", 0,
     "利用目的の通知のお願い", YAMADA, "", "", "", "-", NULL, "利用目的の通知を求めます。", NULL},
    {"requests/ja-disclosure-utf8-base64.eml", "disclosure", FALSE, NULL, "ja", 0,
     "保有個人データ開示のお願い", YAMADA, "", "", "", "-", NULL, "開示してください。", NULL},
    {"requests/ja-third-party-records.eml", "third_party_records", FALSE, NULL, "ja", 0,
     "第三者提供記録の開示請求", YAMADA, "", "", "", "-", NULL, "どこに提供したか教えてください。",
     NULL},
    {"requests/ja-correction.eml", "correction", FALSE, NULL, "ja", 0, "登録情報の訂正", YAMADA, "",
     "", "", "-", NULL, "新住所: 東京都千代田区1-2-3", NULL},
    {"requests/ja-stop-use.eml", "stop_use", FALSE, NULL, "ja", 0,
     "個人情報の利用停止・消去について", YAMADA, "", "", "", "-", NULL,
     "利用を停止し、消去してください。", NULL},
    {"requests/ja-stop-third-party.eml", "stop_third_party", FALSE, NULL, "ja", 0,
     "第三者提供の停止", YAMADA, "", "", "", "-", NULL, "第三者提供の停止を求めます。", NULL},
    {"requests/ja-inquiry.eml", "inquiry", FALSE, NULL, "ja", 0, "個人情報の取り扱いについての質問",
     YAMADA, "", "", "", "-", NULL, "保存されるのでしょうか？", NULL},
    {"requests/ja-no-request.eml", "", FALSE, NULL, "ja", 0, "ありがとうございました", YAMADA, "",
     "", "", "-", NULL, "ありがとうございました。", NULL},
    {"requests/ja-multi-disclosure-stop-use.eml", "disclosure,stop_use", FALSE, NULL, "ja", 0,
     "開示請求と利用停止", YAMADA, "", "", "", "-", NULL, "利用停止もお願いします。", NULL},
    {"requests/ja-negated-disclosure.eml", "stop_use", FALSE, NULL, "ja", 0, "利用停止のお願い",
     YAMADA, "", "", "", "-", NULL, "開示は不要です。", NULL},
    {"requests/ja-html-only-stop-use.eml", "stop_use", FALSE, NULL, "ja", 0, "利用停止のお願い",
     YAMADA, "", "", "", "-", NULL, "利用停止&消去をお願いします。\nよろしくお願いします。",
     "var x"},
    {"requests/en-notification-of-purpose.eml", "notification_of_purpose", FALSE, NULL, "en", 0,
     "Purpose of use", SMITH, "", "", "", "-", NULL, "notify me of the purpose of use", NULL},
    {"requests/en-disclosure.eml", "disclosure", FALSE, NULL, "en", 0, "Subject access request",
     SMITH, "", "", "", "-", NULL, "a copy of the personal data", NULL},
    {"requests/en-third-party-records.eml", "third_party_records", FALSE, NULL, "en", 0,
     "Third-party provision records", SMITH, "", "", "", "-", NULL, "records of provision", NULL},
    {"requests/en-correction.eml", "correction", FALSE, NULL, "en", 0, "Wrong address on file",
     SMITH, "", "", "", "-", NULL, "correct my personal data", NULL},
    {"requests/en-stop-use.eml", "stop_use", FALSE, NULL, "en", 0, "Please delete my data", SMITH,
     "", "", "", "-", NULL, "opt out of all marketing", NULL},
    {"requests/en-stop-third-party.eml", "stop_third_party", FALSE, NULL, "en", 0,
     "Stop sharing my data", SMITH, "", "", "", "-", NULL, "to third parties", NULL},
    {"requests/en-inquiry.eml", "inquiry", FALSE, NULL, "en", 0,
     "Question about your privacy policy", SMITH, "", "", "", "-", NULL, "How long", NULL},
    {"requests/en-negated-copy.eml", "stop_use", FALSE, NULL, "en", 0, "Account", SMITH, "", "", "",
     "-", NULL, "I don't need a copy", NULL},
    {"requests/en-html-only-stop-use.eml", "stop_use", FALSE, NULL, "en", 0, "Erasure request",
     SMITH, "", "", "", "-", NULL, "Thanks & regards,\nJohn", "<p>"},

    /* charset/ */
    {"charset/iso2022jp-cp932-extensions.eml", "correction", FALSE, NULL, "ja", 0,
     "訂正のお願い①㈱", "山田 ㈱太郎", "taro.yamada@example.jp", "", "", "", "-", NULL,
     "① 住所の番地が誤っています（正：3丁目）。\n② 氏名の表記をⅢ世ではなく", NULL},
    {"charset/sjis-8bit-no-charset.eml", "disclosure", FALSE, NULL, "ja", 0, "開示のお願い", YAMADA,
     "", "", "", "-", NULL, "私の個人データの開示をお願いします。", NULL},
    {"charset/sjis-declared-utf8.eml", "stop_use", FALSE, NULL, "ja", 0, "利用停止", YAMADA, "", "",
     "", "-", NULL, "利用停止をお願いします。～ ①", NULL},
    {"charset/eucjp-declared-latin1.eml", "stop_third_party", FALSE, NULL, "ja", 0, "停止のお願い",
     YAMADA, "", "", "", "-", NULL, "第三者提供の停止をお願いします。", NULL},
    {"charset/rfc2047-q-utf8.eml", "correction", FALSE, NULL, "ja", 0, "登録情報の訂正",
     "佐藤 花子", "hanako.sato@example.jp", "", "", "", "-", NULL, "個人情報の訂正をお願いします。",
     NULL},
    {"charset/raw-utf8-headers.eml", "disclosure", FALSE, NULL, "ja", 0, "個人情報の開示請求",
     "鈴木 一郎", "ichiro.suzuki@example.jp", "", "", "", "-", NULL, "開示請求をいたします。",
     NULL},
    {"charset/eucjp-8bit.eml", "disclosure", FALSE, NULL, "ja", 0, "開示請求(EUC)", "田中 次郎",
     "jiro@example.jp", "", "", "", "-", NULL, "保有個人データの開示を請求します。", NULL},
    {"charset/sjis-base64-headers.eml", "third_party_records", FALSE, NULL, "ja", 0,
     "提供記録の開示のお願い", "高橋 三郎", "saburo@example.jp", "", "", "", "-", NULL,
     "第三者提供記録を開示してください。", NULL},

    /* attachments/ */
    {"attachments/outlook-rfc2047-filenames.eml", "disclosure", FALSE, NULL, "ja", 2,
     "開示請求（本人確認書類添付）", YAMADA, "運転免許証.jpg|パスポート.png", "id,id",
     "image/jpeg|image/png", "-", NULL, "本人確認書類を送付します。", NULL},
    {"attachments/rfc2231-continuations-pdf-heic.eml", "disclosure", FALSE, NULL, "ja", 2,
     "本人確認書類の送付", YAMADA,
     "本人確認書類_住民票の写し_2026年11月発行_山田太郎.pdf|マイナンバーカード表面.HEIC", "id,id",
     "application/pdf|image/heic", "-", NULL, "住民票とマイナンバーカード", NULL},
    {"attachments/signature-inline-cid.eml", "disclosure", FALSE, NULL, "en", 1,
     "Disclosure request with ID", SMITH, "logo.png|licence.jpg|icon.png", "other,id,other",
     "image/png|image/jpeg|image/png", "-", NULL, "--\nJohn Smith\nACME Corp.", "<img"},
    {"attachments/disguised-executables.eml", "disclosure", FALSE, NULL, "ja", 0, "開示請求",
     "Mallory", "mallory@example.net", "運転免許証.jpg|photo.jpg", "rejected,rejected",
     "application/x-executable|text/x-shellscript", "-", NULL, "免許証を添付します。", NULL},
    /* a GIF scan is an identity-document format (issue 3); the CSV is not */
    {"attachments/non-id-attachments.eml", "correction", FALSE, NULL, "en", 1, "Correction", SMITH,
     "orders.csv|scan.gif", "other,id", "text/plain|image/gif", "-", NULL,
     "correct the attached list", NULL},

    /* auto/ */
    {"auto/auto-submitted-auto-replied.eml", "disclosure", TRUE, "Auto-Submitted: auto-replied",
     "ja", 0, "自動返信: 個人情報の開示請求", YAMADA, "", "", "", "-", NULL, "自動返信です", NULL},
    {"auto/out-of-office-x-autoreply.eml", "", TRUE, "X-Autoreply", "en", 0,
     "Out of Office: Re: Your request", SMITH, "", "", "", "-", NULL, "out of the office", NULL},
    {"auto/exchange-auto-response-suppress.eml", "", TRUE, "X-Auto-Response-Suppress: All", "en", 0,
     "Automatic reply: request", SMITH, "", "", "", "-", NULL, "away", NULL},
    {"auto/subject-undeliverable.eml", "disclosure", TRUE, "Subject: undeliverable", "en", 0,
     "Undeliverable: Disclosure request", SMITH, "", "", "", "-", NULL, "Delivery has failed",
     NULL},
    {"auto/auto-submitted-no.eml", "stop_use", FALSE, NULL, "en", 0, "Delete my data", SMITH, "",
     "", "", "-", NULL, "Please delete my data.", NULL},
    {"auto/bounce-dsn-mailer-daemon.eml", "", TRUE, "Return-Path: <>", "en", 0,
     "Undelivered Mail Returned to Sender", "Mail Delivery System",
     /* the message/delivery-status part is read for `bounce`, not kept */
     "mailer-daemon@mx.example.co.jp", "-", "other", NULL, "-", NULL, "could not\nbe delivered",
     NULL},
    {"auto/mailing-list.eml", "disclosure", TRUE, "Precedence: list", "ja", 0,
     "[privacy-ml:123] 開示請求の手続きについて", YAMADA, "", "", "", "-", NULL, "メーリングリスト",
     NULL},

    /* threading/: the quoted part never counts */
    {"threading/reply-ticket-ref-ja.eml", "", FALSE, NULL, "ja", 0,
     "Re: [PRV-2026-000001] 開示請求について", YAMADA, "", "", "", "PRV-2026-000001", NULL,
     "> 開示請求を受け付けました。", NULL},
    {"threading/reply-outlook-original-message.eml", "", FALSE, NULL, "en", 0,
     "RE: [PRV-2026-000042] Your request", SMITH, "", "", "", "PRV-2026-000042", NULL,
     "-----Original Message-----", NULL},
    {"threading/reply-on-wrote.eml", "stop_use", FALSE, NULL, "en", 0,
     "Re: [PRV-2026-000007] Disclosure", SMITH, "", "", "", "PRV-2026-000007", NULL,
     "Please also delete my data", NULL},

    /* broken/: a request always comes back, with `problem` saying why */
    {"broken/no-headers.eml", "disclosure", FALSE, NULL, "ja", 0, "", "-", "-", "", "", "", "-",
     "no parseable header block", "開示請求をお願いします。", NULL},
    {"broken/garbage.eml", "", FALSE, NULL, NULL, 0, "", "-", "-", "", "", "", "-",
     "undecodable input", NULL, NULL},
    {"broken/truncated-multipart.eml", "disclosure", FALSE, NULL, "ja", 1, "開示請求", YAMADA,
     "運転免許証.jpg", "id", "image/jpeg", "-", "truncated message", "開示を請求します。", NULL},
    {"broken/missing-boundary.eml", "disclosure", FALSE, NULL, "ja", 0, "開示請求", YAMADA, "", "",
     "", "-", "without a boundary", "開示を請求します。", NULL},
    {"broken/bad-base64.eml", "correction", FALSE, NULL, "en", 1, "Correction", SMITH,
     "licence.jpg", "id", "image/jpeg", "-", "invalid base64", "Please correct my address.", NULL},
    {"broken/huge-header-line.eml", "stop_use", FALSE, NULL, "en", 0, "Delete my data", SMITH, "",
     "", "", "-", NULL, "Please delete my data.", NULL},
};

static const char *
kind_short(attachment_kind_t kind)
{
	return kind == ATTACHMENT_ID_DOCUMENT ? "id"
	       : kind == ATTACHMENT_REJECTED  ? "rejected"
	                                      : "other";
}

static char *
join_types(const parser_request_t *r)
{
	g_autoptr(GString) s = g_string_new(NULL);
	for (guint i = 0; i < r->request_types->len; i++)
		g_string_append_printf(s, "%s%s", i ? "," : "",
		                       (const char *)r->request_types->pdata[i]);
	return g_strdup(s->str);
}

typedef const char *(*attachment_field_t)(const parser_attachment_t *a);

static const char *
field_filename(const parser_attachment_t *a)
{
	return a->filename ? a->filename : "-";
}

static const char *
field_kind(const parser_attachment_t *a)
{
	return kind_short(a->kind);
}

static const char *
field_sniffed(const parser_attachment_t *a)
{
	return a->content_type;
}

static char *
join_attachments(const parser_request_t *r, attachment_field_t field, const char *sep)
{
	g_autoptr(GString) s = g_string_new(NULL);
	for (guint i = 0; i < r->attachments->len; i++)
		g_string_append_printf(s, "%s%s", i ? sep : "", field(r->attachments->pdata[i]));
	return g_strdup(s->str);
}

/* ---- a sink that keeps every attachment in memory ------------------------------- */

typedef struct {
	GPtrArray *received; /* of GByteArray, one per open() */
	guint closed;
	gboolean fail_open, fail_close;
} memory_sink_t;

static GMimeStream *
sink_open(gpointer user_data, gpointer *sink_data_out, GError **error)
{
	memory_sink_t *m = user_data;
	GByteArray *bytes;
	GMimeStream *stream;

	if (m->fail_open) {
		g_set_error(error, PARSER_ERROR, PI_ERROR_TEMPORARY, "spool full");
		return NULL;
	}
	bytes = g_byte_array_new();
	g_ptr_array_add(m->received, bytes);
	*sink_data_out = GUINT_TO_POINTER(m->received->len); /* 1-based index */
	stream = g_mime_stream_mem_new_with_byte_array(bytes);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(stream), FALSE);
	return stream;
}

static gboolean
sink_close(gpointer user_data, parser_attachment_t *attachment, GError **error)
{
	memory_sink_t *m = user_data;
	guint index = GPOINTER_TO_UINT(attachment->sink_data);
	GByteArray *bytes;
	g_autofree char *sha = NULL;

	g_assert_cmpuint(index, >=, 1);
	g_assert_cmpuint(index, <=, m->received->len);
	bytes = m->received->pdata[index - 1];
	/* the facts are filled in, and they describe what the sink received */
	g_assert_nonnull(attachment->sha256);
	g_assert_nonnull(attachment->content_type);
	g_assert_cmpuint(attachment->size, ==, bytes->len);
	sha = pi_sha256_hex(bytes->data, bytes->len);
	g_assert_cmpstr(sha, ==, attachment->sha256);
	m->closed++;
	if (m->fail_close) {
		g_set_error(error, PARSER_ERROR, PI_ERROR_TEMPORARY,
		            "cannot rename into the spool");
		return FALSE;
	}
	return TRUE;
}

static void
memory_sink_init(memory_sink_t *m, parser_sink_t *sink)
{
	memset(m, 0, sizeof *m);
	m->received = g_ptr_array_new_with_free_func((GDestroyNotify)g_byte_array_unref);
	sink->open = sink_open;
	sink->close = sink_close;
	sink->user_data = m;
}

/* The decoded attachments by name, as GMime's own API decodes them: an
 * independent check of the single-pass decode. */
static GHashTable *
reference_decode(GBytes *bytes)
{
	GHashTable *by_name = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_autoptr(GMimeStream) mem = g_mime_stream_mem_new_with_buffer(
	    g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes));
	g_autoptr(GMimeParser) gp = g_mime_parser_new_with_stream(mem);
	g_autoptr(GMimeMessage) message = g_mime_parser_construct_message(gp, NULL);
	GMimePartIter *iter;

	if (message == NULL)
		return by_name;
	iter = g_mime_part_iter_new(GMIME_OBJECT(message));
	do {
		GMimeObject *o = g_mime_part_iter_get_current(iter);
		const char *name =
		    o && GMIME_IS_PART(o) ? g_mime_part_get_filename(GMIME_PART(o)) : NULL;
		if (name != NULL && g_mime_part_get_content(GMIME_PART(o)) != NULL) {
			g_autoptr(GByteArray) out = g_byte_array_new();
			g_autoptr(GMimeStream) s = g_mime_stream_mem_new_with_byte_array(out);
			g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(s), FALSE);
			g_mime_data_wrapper_write_to_stream(g_mime_part_get_content(GMIME_PART(o)),
			                                    s);
			g_hash_table_insert(by_name, g_strdup(name),
			                    pi_sha256_hex(out->data, out->len));
		}
	} while (g_mime_part_iter_next(iter));
	g_mime_part_iter_free(iter);
	return by_name;
}

/* ---- the table ------------------------------------------------------------------ */

/* Parse ROW's fixture from memory (MODE 0) or, as the router does, from a
 * file-backed stream of the fixture file (MODE 1), and check the result. */
static void
check_row_mode(const fixture_row_t *row, int mode)
{
	parser_config_t config = test_default_config();
	g_autoptr(parser_t) parser = test_parser_new(&config);
	g_autoptr(GBytes) bytes = test_read_fixture(row->path);
	g_autoptr(GError) error = NULL;
	g_autoptr(parser_request_t) r = NULL;
	g_autofree char *types = NULL;
	memory_sink_t m;
	parser_sink_t sink;

	memory_sink_init(&m, &sink);
	if (mode == 0) {
		r = parser_parse_bytes(parser, g_bytes_get_data(bytes, NULL),
		                       g_bytes_get_size(bytes), &sink, &error);
	} else {
		g_autofree char *path = g_build_filename(FIXTURES, row->path, NULL);
		int fd = open(path, O_RDONLY);
		g_autoptr(GMimeStream) file = NULL;

		g_assert_cmpint(fd, >=, 0);
		file = g_mime_stream_fs_new(fd);
		r = parser_parse_stream(parser, file, &sink, &error);
	}
	g_assert_no_error(error);
	test_assert_request_sane(r);

	types = join_types(r);
	g_assert_cmpstr(types, ==, row->types);
	g_assert_cmpstr(parser_request_primary_type(r), ==,
	                *row->types ? r->request_types->pdata[0] : NULL);
	g_assert_cmpint(r->is_auto, ==, row->is_auto);
	g_assert_cmpstr(r->auto_reason, ==, row->auto_reason);
	if (row->language != NULL)
		g_assert_cmpstr(r->language, ==, row->language);
	g_assert_cmpuint(r->id_document_count, ==, row->id_documents);
	g_assert_cmpstr(r->subject, ==, row->subject);
	g_assert_cmpstr(r->from_name ? r->from_name : "-", ==, row->from_name);
	g_assert_cmpstr(r->from_address ? r->from_address : "-", ==, row->from_address);
	g_assert_cmpstr(r->ticket_ref ? r->ticket_ref : "-", ==, row->ticket_ref);
	if (row->problem == NULL) {
		g_assert_cmpstr(r->problem, ==, NULL);
	} else {
		g_assert_nonnull(r->problem);
		g_assert_nonnull(strstr(r->problem, row->problem));
	}
	if (row->text_has != NULL && strstr(r->text, row->text_has) == NULL)
		g_error("%s: text lacks \"%s\":\n%s", row->path, row->text_has, r->text);
	if (row->text_lacks != NULL && strstr(r->text, row->text_lacks) != NULL)
		g_error("%s: text has \"%s\":\n%s", row->path, row->text_lacks, r->text);
	{
		g_autofree char *names = join_attachments(r, field_filename, "|");
		g_autofree char *kinds = join_attachments(r, field_kind, ",");
		g_assert_cmpstr(names, ==, row->filenames);
		g_assert_cmpstr(kinds, ==, row->kinds);
		if (row->sniffed != NULL) {
			g_autofree char *sniffed = join_attachments(r, field_sniffed, "|");
			g_assert_cmpstr(sniffed, ==, row->sniffed);
		}
	}

	/* the sink saw every attachment once, with exactly the decoded bytes,
	 * and GMime's own decode agrees */
	g_assert_cmpuint(m.received->len, ==, r->attachments->len);
	g_assert_cmpuint(m.closed, ==, r->attachments->len);
	if (row->problem == NULL) {
		g_autoptr(GHashTable) reference = reference_decode(bytes);
		for (guint i = 0; i < r->attachments->len; i++) {
			const parser_attachment_t *a = r->attachments->pdata[i];
			const char *want =
			    a->filename ? g_hash_table_lookup(reference, a->filename) : NULL;
			g_assert_cmpuint(GPOINTER_TO_UINT(a->sink_data), ==, i + 1);
			if (want != NULL)
				g_assert_cmpstr(a->sha256, ==, want);
			else
				g_assert_null(a->filename);
		}
	}
	g_ptr_array_unref(m.received);
}

static void
check_row(gconstpointer data)
{
	check_row_mode(data, 0);
	check_row_mode(data, 1);
}

/* ---- threading and dates ---------------------------------------------------------- */

static void
test_threading(void)
{
	parser_config_t config = test_default_config();
	g_autoptr(parser_t) parser = test_parser_new(&config);
	g_autoptr(GBytes) bytes = test_read_fixture("threading/reply-ticket-ref-ja.eml");
	g_autoptr(GError) error = NULL;
	g_autoptr(parser_request_t) r = parser_parse_bytes(parser, g_bytes_get_data(bytes, NULL),
	                                                   g_bytes_get_size(bytes), NULL, &error);

	g_assert_no_error(error);
	g_assert_cmpstr(r->message_id, ==, "reply-ticket-ref-ja@mail.example.jp");
	g_assert_cmpstr(r->in_reply_to, ==, "prv-2026-000001.ack@example.co.jp");
	g_assert_cmpuint(r->references->len, ==, 2);
	g_assert_cmpstr(r->references->pdata[0], ==, "ja-disclosure-licence.0001@mail.example.jp");
	g_assert_cmpstr(r->references->pdata[1], ==, "prv-2026-000001.ack@example.co.jp");
	g_assert_nonnull(r->date);
	{
		g_autoptr(GDateTime) utc = g_date_time_to_utc(r->date);
		g_autofree char *iso = g_date_time_format(utc, "%Y-%m-%dT%H:%M:%SZ");
		g_assert_cmpstr(iso, ==, "2026-11-20T01:00:00Z");
	}
}

static const struct {
	const char *in, *out;
} ticket_rows[] = {
    {"Re: [PRV-2026-000012] 開示請求", "PRV-2026-000012"},
    {"prv-2026-000003 lowercase", "PRV-2026-000003"},
    {"全角 ＰＲＶ－２０２６－０００００９ です", "PRV-2026-000009"},
    {"PRV-2026-0000123 seven digits", NULL},
    {"XPRV-2026-000001 glued", NULL},
    {"PRV-26-000001 short year", NULL},
    {"PRV-2026-00001 five digits", NULL},
    {"no reference", NULL},
    {"", NULL},
};

static void
test_ticket_ref(void)
{
	for (gsize i = 0; i < G_N_ELEMENTS(ticket_rows); i++) {
		g_autofree char *got = parser_find_ticket_ref(ticket_rows[i].in);
		g_assert_cmpstr(got, ==, ticket_rows[i].out);
	}
	g_assert_null(parser_find_ticket_ref(NULL));
	g_assert_null(parser_find_ticket_ref("\xff\xfe PRV-2026-000001"));
}

/* ---- JSON --------------------------------------------------------------------------- */

static void
assert_members(JsonObject *o, const char *const *names)
{
	g_autoptr(GList) members = json_object_get_members(o);
	guint n = 0;

	for (const char *const *name = names; *name; name++) {
		if (!json_object_has_member(o, *name))
			g_error("JSON lacks \"%s\"", *name);
		n++;
	}
	g_assert_cmpuint(g_list_length(members), ==, n);
}

static void
test_json_shape(void)
{
	static const char *const top[] = {"message_id",
	                                  "from",
	                                  "subject",
	                                  "date",
	                                  "language",
	                                  "request_types",
	                                  "is_auto",
	                                  "auto_reason",
	                                  "in_reply_to",
	                                  "references",
	                                  "ticket_ref",
	                                  "text",
	                                  "id_documents",
	                                  "attachments",
	                                  "problem",
	                                  "confidence",
	                                  "request_evidence",
	                                  "forwarded_by",
	                                  "bounce",
	                                  "document_type",
	                                  "needs_masking_check",
	                                  "encrypted_archive",
	                                  "over_limit",
	                                  NULL};
	static const char *const from[] = {"name", "address", NULL};
	static const char *const id_doc[] = {"filename", "content_type",  "size",
	                                     "sha256",   "document_type", "needs_masking_check",
	                                     NULL};
	static const char *const att[] = {
	    "filename", "content_type", "size",      "sha256",        "kind",
	    "reason",   "encrypted",    "container", "document_type", "needs_masking_check",
	    NULL};
	parser_config_t config = test_default_config();
	g_autoptr(parser_t) parser = test_parser_new(&config);
	g_autoptr(GBytes) bytes = test_read_fixture("attachments/disguised-executables.eml");
	g_autoptr(GBytes) key = test_read_fixture("requests/ja-iso2022jp-disclosure-license.eml");
	g_autoptr(parser_request_t) r = parser_parse_bytes(parser, g_bytes_get_data(bytes, NULL),
	                                                   g_bytes_get_size(bytes), NULL, NULL);
	g_autoptr(parser_request_t) k = parser_parse_bytes(parser, g_bytes_get_data(key, NULL),
	                                                   g_bytes_get_size(key), NULL, NULL);
	g_autoptr(JsonNode) node = parser_request_to_json(r);
	g_autoptr(JsonNode) knode = parser_request_to_json(k);
	JsonObject *o = json_node_get_object(node), *ko = json_node_get_object(knode);
	JsonArray *atts = json_object_get_array_member(o, "attachments");
	JsonArray *ids = json_object_get_array_member(ko, "id_documents");

	assert_members(o, top);
	assert_members(json_object_get_object_member(o, "from"), from);
	g_assert_true(JSON_NODE_HOLDS_NULL(json_object_get_member(o, "ticket_ref")));
	g_assert_true(JSON_NODE_HOLDS_NULL(json_object_get_member(o, "problem")));
	g_assert_true(JSON_NODE_HOLDS_NULL(json_object_get_member(o, "auto_reason")));
	g_assert_true(JSON_NODE_HOLDS_NULL(json_object_get_member(o, "in_reply_to")));
	g_assert_false(json_object_get_boolean_member(o, "is_auto"));
	g_assert_cmpuint(json_array_get_length(json_object_get_array_member(o, "references")), ==,
	                 0);
	g_assert_cmpuint(json_array_get_length(json_object_get_array_member(o, "id_documents")), ==,
	                 0);
	g_assert_cmpuint(json_array_get_length(atts), ==, 2);
	for (guint i = 0; i < json_array_get_length(atts); i++) {
		JsonObject *a = json_array_get_object_element(atts, i);
		assert_members(a, att);
		g_assert_cmpstr(json_object_get_string_member(a, "kind"), ==, "rejected");
		g_assert_nonnull(json_object_get_string_member(a, "reason"));
		g_assert_cmpint(json_object_get_int_member(a, "size"), >, 0);
	}
	g_assert_cmpstr(
	    json_object_get_string_member(json_array_get_object_element(atts, 0), "filename"), ==,
	    "運転免許証.jpg");

	/* the key fixture: one ID document, its sha256 the same in both arrays */
	assert_members(ko, top);
	g_assert_cmpstr(json_object_get_string_member(ko, "date"), ==, "2026-11-20T10:00:00+09:00");
	g_assert_cmpstr(json_object_get_string_member(ko, "language"), ==, "ja");
	g_assert_cmpstr(
	    json_array_get_string_element(json_object_get_array_member(ko, "request_types"), 0), ==,
	    "disclosure");
	g_assert_cmpuint(json_array_get_length(ids), ==, 1);
	assert_members(json_array_get_object_element(ids, 0), id_doc);
	g_assert_cmpstr(
	    json_object_get_string_member(json_array_get_object_element(ids, 0), "sha256"), ==,
	    k->attachments->len ? ((parser_attachment_t *)k->attachments->pdata[0])->sha256 : "");
	g_assert_cmpint(json_object_get_int_member(json_array_get_object_element(ids, 0), "size"),
	                >=, 30 * 1024);
	g_assert_cmpstr(
	    json_object_get_string_member(json_object_get_object_member(ko, "from"), "name"), ==,
	    "山田 太郎");
}

/* ---- sink failures ------------------------------------------------------------------- */

static void
test_sink_failures(void)
{
	parser_config_t config = test_default_config();
	g_autoptr(parser_t) parser = test_parser_new(&config);
	g_autoptr(GBytes) bytes = test_read_fixture("attachments/outlook-rfc2047-filenames.eml");
	const char *data = g_bytes_get_data(bytes, NULL);
	gsize len = g_bytes_get_size(bytes);
	memory_sink_t m;
	parser_sink_t sink;

	/* open fails: no request, the sink's error */
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(parser_request_t) r = NULL;
		memory_sink_init(&m, &sink);
		m.fail_open = TRUE;
		r = parser_parse_bytes(parser, data, len, &sink, &error);
		g_assert_null(r);
		g_assert_error(error, PARSER_ERROR, PI_ERROR_TEMPORARY);
		g_assert_nonnull(strstr(error->message, "spool full"));
		g_ptr_array_unref(m.received);
	}
	/* close refuses the first attachment: the parse stops there */
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(parser_request_t) r = NULL;
		memory_sink_init(&m, &sink);
		m.fail_close = TRUE;
		r = parser_parse_bytes(parser, data, len, &sink, &error);
		g_assert_null(r);
		g_assert_error(error, PARSER_ERROR, PI_ERROR_TEMPORARY);
		g_assert_cmpuint(m.closed, ==, 1);
		g_ptr_array_unref(m.received);
	}
	/* open returns NULL without an error: decoded, hashed, not kept */
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(parser_request_t) r = NULL;
		parser_sink_t nothing = {NULL, NULL, NULL};
		r = parser_parse_bytes(parser, data, len, &nothing, &error);
		g_assert_no_error(error);
		g_assert_cmpuint(r->id_document_count, ==, 2);
	}
}

/* ---- limits --------------------------------------------------------------------------- */

static parser_request_t *
parse_with(const parser_config_t *config, const char *fixture, memory_sink_t *m)
{
	g_autoptr(parser_t) parser = test_parser_new(config);
	g_autoptr(GBytes) bytes = test_read_fixture(fixture);
	g_autoptr(GError) error = NULL;
	parser_sink_t sink;
	parser_request_t *r;

	memory_sink_init(m, &sink);
	r = parser_parse_bytes(parser, g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes),
	                       &sink, &error);
	g_assert_no_error(error);
	test_assert_request_sane(r);
	return r;
}

static void
test_limits(void)
{
	memory_sink_t m;

	{
		parser_config_t c = test_default_config();
		g_autoptr(parser_request_t) r = NULL;
		c.max_attachment_bytes = 1000;
		r = parse_with(&c, "requests/ja-iso2022jp-disclosure-license.eml", &m);
		g_assert_nonnull(strstr(r->problem, "max_attachment_bytes"));
		g_assert_cmpuint(r->attachments->len, ==, 1);
		g_assert_cmpuint(((parser_attachment_t *)r->attachments->pdata[0])->size, ==, 1000);
		g_assert_cmpint(((parser_attachment_t *)r->attachments->pdata[0])->kind, ==,
		                ATTACHMENT_OTHER);
		g_assert_cmpuint(r->id_document_count, ==, 0);
		g_assert_cmpuint(((GByteArray *)m.received->pdata[0])->len, ==, 1000);
		g_ptr_array_unref(m.received);
	}
	{
		parser_config_t c = test_default_config();
		g_autoptr(parser_request_t) r = NULL;
		c.max_parts = 2; /* multipart + text: the attachments are never reached */
		r = parse_with(&c, "attachments/outlook-rfc2047-filenames.eml", &m);
		g_assert_nonnull(strstr(r->problem, "max_parts"));
		g_assert_cmpuint(r->attachments->len, ==, 0);
		g_assert_nonnull(strstr(r->text, "本人確認書類を送付します。"));
		g_ptr_array_unref(m.received);
	}
	{
		parser_config_t c = test_default_config();
		g_autoptr(parser_request_t) r = NULL;
		c.max_depth = 1; /* mixed → related → alternative → text: too deep */
		r = parse_with(&c, "attachments/signature-inline-cid.eml", &m);
		g_assert_nonnull(strstr(r->problem, "max_depth"));
		g_ptr_array_unref(m.received);
	}
	{
		parser_config_t c = test_default_config();
		g_autoptr(parser_request_t) r = NULL;
		c.max_message_bytes = 2000;
		r = parse_with(&c, "requests/ja-iso2022jp-disclosure-license.eml", &m);
		g_assert_nonnull(strstr(r->problem, "max_message_bytes"));
		g_assert_cmpstr(r->subject, ==, "個人情報の開示請求");
		g_assert_cmpuint(r->id_document_count, ==, 0);
		g_ptr_array_unref(m.received);
	}
}

/* ---- streams: a file (content stays on disk) and a pipe (not seekable) ------------------- */

static char *
write_big_message(const char *dir, gsize attachment_bytes, char **sha_out)
{
	g_autofree char *path = g_build_filename(dir, "big.eml", NULL);
	g_autoptr(GString) msg = g_string_new(
	    "From: =?UTF-8?B?5bGx55SwIOWkqumDjg==?= <taro.yamada@example.jp>\r\n"
	    "Subject: =?UTF-8?B?6ZaL56S66KuL5rGC?=\r\n"
	    "Message-ID: <big@example.jp>\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
	    "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n開示を請求します。\r\n"
	    "--b\r\nContent-Type: image/jpeg\r\nContent-Transfer-Encoding: base64\r\n"
	    "Content-Disposition: attachment; filename*=UTF-8''%E5%85%8D%E8%A8%B1.jpg\r\n\r\n");
	g_autofree guint8 *data = g_malloc(attachment_bytes);
	GRand *rand = g_rand_new_with_seed(7);
	g_autoptr(GError) error = NULL;

	for (gsize i = 0; i < attachment_bytes; i++)
		data[i] = (guint8)g_rand_int(rand);
	g_rand_free(rand);
	data[0] = 0xff, data[1] = 0xd8, data[2] = 0xff, data[3] = 0xe0; /* a JPEG start */
	memcpy(data + 4, "\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00", 16);
	*sha_out = pi_sha256_hex(data, attachment_bytes);
	for (gsize i = 0; i < attachment_bytes; i += 57) {
		g_autofree char *line = g_base64_encode(data + i, MIN(57, attachment_bytes - i));
		g_string_append(msg, line);
		g_string_append(msg, "\r\n");
	}
	g_string_append(msg, "--b--\r\n");
	if (!g_file_set_contents(path, msg->str, (gssize)msg->len, &error))
		g_error("%s", error->message);
	return g_steal_pointer(&path);
}

/* A sink that writes the attachment to the file named by USER_DATA. */
static GMimeStream *
file_sink_open(gpointer user_data, gpointer *sink_data_out, GError **error)
{
	*sink_data_out = NULL;
	return g_mime_stream_fs_open(user_data, O_WRONLY | O_CREAT | O_TRUNC, 0600, error);
}

typedef struct {
	const char *path;
	int fd;
} pipe_writer_t;

static gpointer
pipe_writer(gpointer data)
{
	pipe_writer_t *w = data;
	g_autofree char *contents = NULL;
	gsize len = 0, off = 0;

	g_file_get_contents(w->path, &contents, &len, NULL);
	while (off < len) {
		ssize_t n = write(w->fd, contents + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (gsize)n;
	}
	close(w->fd);
	return NULL;
}

static void
check_big(parser_request_t *r, const char *sha, gsize bytes)
{
	const parser_attachment_t *a;

	test_assert_request_sane(r);
	g_assert_cmpstr(r->problem, ==, NULL);
	g_assert_cmpstr(r->subject, ==, "開示請求");
	g_assert_cmpuint(r->attachments->len, ==, 1);
	a = r->attachments->pdata[0];
	g_assert_cmpstr(a->filename, ==, "免許.jpg");
	g_assert_cmpuint(a->size, ==, bytes);
	g_assert_cmpstr(a->sha256, ==, sha);
	g_assert_cmpstr(a->content_type, ==, "image/jpeg");
}

static void
test_streams(void)
{
	const gsize size = 3u << 20;
	g_autofree char *dir = testserver_tmpdir();
	g_autofree char *sha = NULL;
	g_autofree char *path = write_big_message(dir, size, &sha);
	g_autofree char *spooled = g_build_filename(dir, "spooled.jpg", NULL);
	parser_config_t config = test_default_config();
	g_autoptr(parser_t) parser = test_parser_new(&config);

	/* a file stream, the sink a file: what lands on disk is the attachment;
	 * GMime's, and the buffered one router/ parses the spool with */
	for (int kind = 0; kind < 2; kind++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GMimeStream) in = NULL;
		g_autoptr(parser_request_t) r = NULL;
		g_autofree char *written = NULL;
		gsize written_len = 0;
		parser_sink_t sink = {file_sink_open, NULL, spooled};
		int fd = open(path, O_RDONLY | O_CLOEXEC);

		g_assert_cmpint(fd, >=, 0);
		in = kind == 0 ? g_mime_stream_fs_new(fd) : parser_file_stream_new(fd);
		r = parser_parse_stream(parser, in, &sink, &error);
		g_assert_no_error(error);
		check_big(r, sha, size);
		g_assert_true(g_file_get_contents(spooled, &written, &written_len, NULL));
		g_assert_cmpuint(written_len, ==, size);
		{
			g_autofree char *got = pi_sha256_hex(written, written_len);
			g_assert_cmpstr(got, ==, sha);
		}
	}
	/* a pipe: not seekable, copied in (bounded by max_message_bytes); as a
	 * GMimeStreamPipe and as the GMimeStreamFs a caller may wrap stdin in */
	for (int kind = 0; kind < 2; kind++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GMimeStream) in = NULL;
		g_autoptr(parser_request_t) r = NULL;
		pipe_writer_t w = {path, -1};
		GThread *thread;
		int fds[2];

		g_assert_cmpint(pipe(fds), ==, 0);
		w.fd = fds[1];
		thread = g_thread_new("pipe-writer", pipe_writer, &w);
		in = kind == 0 ? g_mime_stream_pipe_new(fds[0]) : g_mime_stream_fs_new(fds[0]);
		r = parser_parse_stream(parser, in, NULL, &error);
		g_clear_object(&in); /* closes the read end: the writer never blocks */
		g_thread_join(thread);
		g_assert_no_error(error);
		check_big(r, sha, size);
	}
	testserver_tmpdir_remove(dir);
}

/* Read STREAM to its end in pieces of STEP bytes. */
static GByteArray *
read_all(GMimeStream *stream, gsize step)
{
	GByteArray *out = g_byte_array_new();
	g_autofree char *buf = g_malloc(step);
	ssize_t n;

	while ((n = g_mime_stream_read(stream, buf, step)) > 0)
		g_byte_array_append(out, (const guint8 *)buf, (guint)n);
	g_assert_cmpint(n, ==, 0);
	g_assert_true(g_mime_stream_eos(stream));
	return out;
}

static void
assert_bytes(const GByteArray *got, const guint8 *want, gsize len)
{
	g_assert_cmpuint(got->len, ==, len);
	g_assert_cmpint(memcmp(got->data, want, len), ==, 0);
}

/* parser_file_stream_new(): reads, seeks, bounds and substreams agree with
 * the file's bytes whatever the read size (the 64 KiB buffer's edges
 * included), and the descriptor outlives the stream while a substream
 * needs it. */
static void
test_file_stream(void)
{
	const gsize size = 200000; /* three buffers and a bit */
	g_autofree char *dir = testserver_tmpdir();
	g_autofree char *path = g_build_filename(dir, "bytes", NULL);
	g_autofree guint8 *bytes = g_malloc(size);
	const gsize steps[] = {1, 7, 4096, 65535, 65536, 65537, 300000};
	g_autoptr(GMimeStream) stream = NULL;
	GMimeStream *sub, *subsub;
	char c;
	int fd;

	for (gsize i = 0; i < size; i++)
		bytes[i] = (guint8)(i * 2654435761u >> 13);
	g_assert_true(g_file_set_contents(path, (const char *)bytes, (gssize)size, NULL));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	g_assert_cmpint(fd, >=, 0);
	stream = parser_file_stream_new(fd);
	g_assert_cmpint(g_mime_stream_length(stream), ==, (gint64)size);

	for (gsize i = 0; i < G_N_ELEMENTS(steps); i++) {
		g_autoptr(GByteArray) all = NULL;

		g_assert_cmpint(g_mime_stream_reset(stream), ==, 0);
		g_assert_false(g_mime_stream_eos(stream));
		all = read_all(stream, steps[i]);
		assert_bytes(all, bytes, size);
		g_assert_cmpint(g_mime_stream_tell(stream), ==, (gint64)size);
	}

	/* seeks: backwards into the buffer, behind it, from the end */
	g_assert_cmpint(g_mime_stream_seek(stream, 70000, GMIME_STREAM_SEEK_SET), ==, 70000);
	g_assert_cmpint(g_mime_stream_read(stream, &c, 1), ==, 1);
	g_assert_cmpint((guint8)c, ==, bytes[70000]);
	g_assert_cmpint(g_mime_stream_seek(stream, -2, GMIME_STREAM_SEEK_CUR), ==, 69999);
	g_assert_cmpint(g_mime_stream_read(stream, &c, 1), ==, 1);
	g_assert_cmpint((guint8)c, ==, bytes[69999]);
	g_assert_cmpint(g_mime_stream_seek(stream, 10, GMIME_STREAM_SEEK_SET), ==, 10);
	g_assert_cmpint(g_mime_stream_read(stream, &c, 1), ==, 1);
	g_assert_cmpint((guint8)c, ==, bytes[10]);
	g_assert_cmpint(g_mime_stream_seek(stream, -1, GMIME_STREAM_SEEK_END), ==,
	                (gint64)size - 1);
	g_assert_cmpint(g_mime_stream_read(stream, &c, 1), ==, 1);
	g_assert_cmpint((guint8)c, ==, bytes[size - 1]);
	g_assert_cmpint(g_mime_stream_read(stream, &c, 1), ==, 0);

	/* a substream across a buffer edge, and one inside it */
	sub = g_mime_stream_substream(stream, 60000, 140000);
	g_assert_cmpint(g_mime_stream_length(sub), ==, 80000);
	g_assert_cmpint(g_mime_stream_tell(sub), ==, 60000);
	{
		g_autoptr(GByteArray) got = read_all(sub, 4096);
		assert_bytes(got, bytes + 60000, 80000);
	}
	g_assert_cmpint(g_mime_stream_seek(sub, 59999, GMIME_STREAM_SEEK_SET), ==, -1);
	g_assert_cmpint(g_mime_stream_seek(sub, 140001, GMIME_STREAM_SEEK_SET), ==, -1);
	g_assert_cmpint(g_mime_stream_seek(sub, 0, GMIME_STREAM_SEEK_END), ==, 140000);
	subsub = g_mime_stream_substream(sub, 100000, 100010);

	/* the parent goes first: the substreams keep the descriptor open */
	g_clear_object(&stream);
	g_assert_cmpint(fcntl(fd, F_GETFD), !=, -1);
	g_assert_cmpint(g_mime_stream_reset(sub), ==, 0);
	{
		g_autoptr(GByteArray) got = read_all(sub, 65537);
		assert_bytes(got, bytes + 60000, 80000);
	}
	{
		g_autoptr(GByteArray) got = read_all(subsub, 3);
		assert_bytes(got, bytes + 100000, 10);
	}
	g_object_unref(sub);
	g_assert_cmpint(fcntl(fd, F_GETFD), !=, -1);
	g_object_unref(subsub);
	/* the last one closed it */
	g_assert_cmpint(fcntl(fd, F_GETFD), ==, -1);
	g_assert_cmpint(errno, ==, EBADF);
	testserver_tmpdir_remove(dir);
}

/* A stream read from its current position: what comes before is not mail. */
static void
test_stream_position(void)
{
	parser_config_t config = test_default_config();
	g_autoptr(parser_t) parser = test_parser_new(&config);
	const char *mbox = "junk before the message\n";
	const char *headerless = "開示請求をお願いします。\n";
	g_autoptr(GMimeStream) mem = g_mime_stream_mem_new();
	g_autoptr(GMimeStream) mem2 = g_mime_stream_mem_new();
	g_autoptr(GBytes) bytes = test_read_fixture("requests/en-stop-use.eml");
	g_autoptr(GError) error = NULL;
	g_autoptr(parser_request_t) r = NULL;
	g_autoptr(parser_request_t) r2 = NULL;

	g_mime_stream_write_string(mem, mbox);
	g_mime_stream_write(mem, g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes));
	g_mime_stream_seek(mem, (gint64)strlen(mbox), GMIME_STREAM_SEEK_SET);
	r = parser_parse_stream(parser, mem, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(r->subject, ==, "Please delete my data");

	/* salvage reads from the same place */
	g_mime_stream_write_string(mem2, "Subject: not this\n\n");
	g_mime_stream_write_string(mem2, headerless);
	g_mime_stream_seek(mem2, (gint64)strlen("Subject: not this\n\n"), GMIME_STREAM_SEEK_SET);
	r2 = parser_parse_stream(parser, mem2, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(r2->problem);
	g_assert_cmpstr(r2->text, ==, headerless);
}

/* ---- bounces: which of our mails came back ---------------------------------------- */

static void
test_bounce_returned_message(void)
{
	parser_config_t config = test_default_config();
	g_autoptr(parser_t) parser = test_parser_new(&config);
	g_autoptr(GBytes) bytes = test_read_fixture("auto/bounce-dsn-mailer-daemon.eml");
	/* Postfix returns only the headers (RET=HDRS), folded here */
	const char *headers_only =
	    "From: MAILER-DAEMON@mx.example.co.jp\r\n"
	    "To: privacy@example.co.jp\r\n"
	    "Subject: Undelivered Mail Returned to Sender\r\n"
	    "Auto-Submitted: auto-replied\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n"
	    "\r\n--b\r\nContent-Type: text/plain\r\n\r\nYour mail could not be delivered.\r\n"
	    "--b\r\nContent-Type: message/delivery-status\r\n\r\n"
	    "Reporting-MTA: dns; mx.example.co.jp\r\n\r\n"
	    "Final-Recipient: rfc822; gone@example.jp\r\nAction: failed\r\nStatus: 5.1.1\r\n"
	    "--b\r\nContent-Type: text/rfc822-headers\r\n\r\n"
	    "From: privacy@example.co.jp\r\nTo: gone@example.jp\r\n"
	    "Message-ID:\r\n <prv-2026-000007.1@example.co.jp>\r\nSubject: x\r\n"
	    "--b--\r\n";
	g_autoptr(GError) error = NULL;
	g_autoptr(parser_request_t) r = parser_parse_bytes(parser, g_bytes_get_data(bytes, NULL),
	                                                   g_bytes_get_size(bytes), NULL, &error);
	g_autoptr(parser_request_t) h = NULL;

	g_assert_no_error(error);
	g_assert_true(r->is_auto);
	g_assert_cmpstr(r->bounce_message_id, ==, "prv-ack-1@example.co.jp");

	h = parser_parse_bytes(parser, headers_only, strlen(headers_only), NULL, &error);
	g_assert_no_error(error);
	g_assert_true(h->is_auto);
	g_assert_cmpstr(h->bounce_recipient, ==, "gone@example.jp");
	g_assert_cmpstr(h->bounce_status, ==, "5.1.1");
	g_assert_cmpstr(h->bounce_message_id, ==, "prv-2026-000007.1@example.co.jp");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
		g_autofree char *name = g_strdup_printf("/parser/fixture/%s", rows[i].path);
		g_test_add_data_func(name, &rows[i], check_row);
	}
	g_test_add_func("/parser/threading", test_threading);
	g_test_add_func("/parser/ticket-ref", test_ticket_ref);
	g_test_add_func("/parser/json-shape", test_json_shape);
	g_test_add_func("/parser/sink-failures", test_sink_failures);
	g_test_add_func("/parser/limits", test_limits);
	g_test_add_func("/parser/streams", test_streams);
	g_test_add_func("/parser/stream-position", test_stream_position);
	g_test_add_func("/parser/file-stream", test_file_stream);
	g_test_add_func("/parser/bounce-returned-message", test_bounce_returned_message);
	return g_test_run();
}
