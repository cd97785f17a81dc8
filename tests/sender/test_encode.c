/* test_encode.c — the sender's pure pieces: ISO-2022-JP conversion, RFC 2047
 * header values (decoded back with GMime), and the grading of SMTP failures. */
#include "sender/sender-internal.h"

#include <string.h>

/* ---- ISO-2022-JP ------------------------------------------------------------- */

static const struct {
	const char *utf8;
	const char *jis; /* NULL: ISO-2022-JP cannot hold it */
} jis_rows[] = {
    {"plain ascii", "plain ascii"},
    {"開示", "\x1b$B3+<(\x1b(B"},
    {"あa", "\x1b$B$\"\x1b(Ba"},
    {"10:00〜17:00", "10:00\x1b$B!A\x1b(B17:00"},
    {"①", NULL}, /* NEC special characters (row 13) */
    {"㈱サンプル", NULL},
    {"Ⅲ", NULL},
    {"髙橋", NULL}, /* IBM extension */
    {"😀", NULL},
    {"ｶﾀｶﾅ", NULL}, /* half-width katakana: not in ISO-2022-JP */
    {"～", NULL},   /* CP932's tilde: only after sender_jis_normalize() */
    {"esc\x1b(Bape", NULL},
    {"", ""},
};

static void
test_jis_encode(void)
{
	for (gsize i = 0; i < G_N_ELEMENTS(jis_rows); i++) {
		g_autoptr(GBytes) got =
		    sender_jis_encode(jis_rows[i].utf8, strlen(jis_rows[i].utf8));
		if (jis_rows[i].jis == NULL) {
			g_assert_null(got);
		} else {
			gsize size;
			const char *data;
			g_assert_nonnull(got);
			data = g_bytes_get_data(got, &size);
			g_assert_cmpmem(data, size, jis_rows[i].jis, strlen(jis_rows[i].jis));
		}
	}
}

static const struct {
	const char *in, *out;
} normalize_rows[] = {
    {"10:00～17:00", "10:00〜17:00"},
    {"A∥B", "A‖B"},
    {"－5", "−5"},
    {"￠￡￢", "¢£¬"},
    {"—", "―"},
    {"①～", "①〜"}, /* what cannot be mapped stays */
    {"漢字", "漢字"},
};

static void
test_jis_normalize(void)
{
	for (gsize i = 0; i < G_N_ELEMENTS(normalize_rows); i++) {
		g_autofree char *got = sender_jis_normalize(normalize_rows[i].in);
		g_assert_cmpstr(got, ==, normalize_rows[i].out);
	}
}

/* ---- header values ----------------------------------------------------------- */

/* Are the encoded words A and B (in that order in RAW) separated only by
 * whitespace, so that a decoder joins them? */
static gboolean
raw_words_adjacent(const char *raw, const char *a, const char *b)
{
	const char *pa = strstr(raw, a);
	const char *p;

	g_assert_nonnull(pa);
	for (p = pa + strlen(a); *p == ' ' || *p == '\t' || *p == '\n'; p++)
		;
	return g_str_has_prefix(p, b);
}

static char *
q_decode(const char *payload, gsize *len_out)
{
	GString *out = g_string_new(NULL);

	for (const char *p = payload; *p; p++) {
		if (*p == '_') {
			g_string_append_c(out, ' ');
		} else if (*p == '=' && g_ascii_isxdigit(p[1]) && g_ascii_isxdigit(p[2])) {
			g_string_append_c(out, (char)(g_ascii_xdigit_value(p[1]) * 16 +
			                              g_ascii_xdigit_value(p[2])));
			p += 2;
		} else {
			g_assert_true(g_ascii_isalnum(*p) || strchr("!*+-/", *p) != NULL);
			g_string_append_c(out, *p);
		}
	}
	*len_out = out->len;
	return g_string_free(out, FALSE);
}

/* Every line of RAW (a raw header value for FIELD) fits 76 columns, every
 * encoded word 75 characters, and ISO-2022-JP words end in ASCII. */
static void
check_raw_value(const char *field, const char *raw, gboolean jis)
{
	g_auto(GStrv) lines = NULL;
	g_autoptr(GRegex) word_re = g_regex_new("=\\?([^?]+)\\?([BQ])\\?([^?]*)\\?=", 0, 0, NULL);
	g_autoptr(GMatchInfo) match = NULL;

	g_assert_true(g_str_has_prefix(raw, " "));
	g_assert_true(g_str_has_suffix(raw, "\n"));
	lines = g_strsplit(raw, "\n", -1);
	for (guint i = 0; lines[i] && lines[i][0]; i++) {
		gsize width = strlen(lines[i]) + (i == 0 ? strlen(field) + 1 : 0);
		g_assert_cmpuint(width, <=, 76);
		if (i > 0)
			g_assert_true(lines[i][0] == ' ' || lines[i][0] == '\t');
	}
	for (const char *p = raw; *p; p++)
		g_assert_cmpint((guchar)*p, <, 0x80);

	g_regex_match(word_re, raw, 0, &match);
	while (g_match_info_matches(match)) {
		g_autofree char *word = g_match_info_fetch(match, 0);
		g_autofree char *charset = g_match_info_fetch(match, 1);
		g_autofree char *encoding = g_match_info_fetch(match, 2);
		g_autofree char *payload = g_match_info_fetch(match, 3);
		g_autofree guchar *bytes = NULL;
		gsize n;

		g_assert_cmpuint(strlen(word), <=, 75);
		g_assert_cmpstr(charset, ==, jis ? "ISO-2022-JP" : "UTF-8");
		if (encoding[0] == 'B') {
			bytes = g_base64_decode(payload, &n);
			/* only the last word of a run may carry padding (see encode.c) */
			if (g_match_info_next(match, NULL) && strstr(payload, "=") != NULL) {
				g_autofree char *next_word = g_match_info_fetch(match, 0);
				g_assert_false(
				    g_str_has_prefix(next_word + strlen(charset) + 2, "?B?") &&
				    raw_words_adjacent(raw, word, next_word));
			}
		} else {
			bytes = (guchar *)q_decode(payload, &n);
			g_match_info_next(match, NULL);
		}
		if (jis) {
			/* 7-bit, and the last escape sequence switches back to ASCII */
			gssize last_esc = -1;
			for (gsize k = 0; k < n; k++) {
				g_assert_cmpint(bytes[k], <, 0x80);
				if (bytes[k] == 0x1b)
					last_esc = (gssize)k;
			}
			if (last_esc >= 0) {
				g_assert_cmpuint((gsize)last_esc + 3, <=, n);
				g_assert_cmpmem(bytes + last_esc, 3, "\x1b(B", 3);
			}
		} else {
			g_assert_true(g_utf8_validate((const char *)bytes, (gssize)n, NULL));
		}
	}
}

static char *
decode_raw(const char *raw)
{
	g_autofree char *unfolded = g_mime_utils_header_unfold(raw);
	return g_mime_utils_header_decode_text(NULL, unfolded);
}

static const char *const text_rows[] = {
    "Re: 【開示請求】 PRV-2026-000123 について",
    "【開示請求】受付のお知らせ（受付番号 PRV-2026-000123）",
    "山田 太郎 様",
    "ab開示請求のお知らせと手数料についてのご案内をお送りいたしますのでご確認ください",
    "個人情報の開示請求に関するお知らせと、手数料のお支払い方法および本人確認書類の再提出のお願い",
    "plain ascii subject",
    "a  あ  b",
    "ascii =?utf-8?q?looks_encoded?= text",
    "https://example.co.jp/a/very/long/path/that/is/longer/than/seventy/characters/index.html 確認",
    "",
};

static void
test_header_text(void)
{
	for (int jis = 0; jis <= 1; jis++) {
		for (gsize i = 0; i < G_N_ELEMENTS(text_rows); i++) {
			g_autofree char *raw =
			    sender_header_encode_text("Subject", text_rows[i], jis);
			g_autofree char *decoded = NULL;

			g_assert_nonnull(raw);
			check_raw_value("Subject", raw, jis);
			decoded = decode_raw(raw);
			g_assert_cmpstr(decoded, ==, text_rows[i]);
		}
	}
	/* ASCII words are left readable */
	{
		g_autofree char *raw =
		    sender_header_encode_text("Subject", "Re: 【開示】 PRV-1", TRUE);
		g_assert_true(g_str_has_prefix(raw, " Re: =?ISO-2022-JP?B?"));
		g_assert_true(g_str_has_suffix(raw, "?= PRV-1\n"));
	}
	/* and what ISO-2022-JP cannot hold is refused, never replaced */
	{
		g_autofree char *raw = sender_header_encode_text("Subject", "㈱サンプル", TRUE);
		g_assert_null(raw);
	}
}

static void
test_header_mailbox(void)
{
	static const char *const names[] = {
	    "株式会社サンプル 個人情報保護窓口",
	    "山田 太郎",
	    "Ｙａｍａｄａ (営業部), \"Taro\"",
	};
	for (int jis = 0; jis <= 1; jis++) {
		for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
			g_autofree char *raw = sender_header_encode_mailbox(
			    "From", names[i], "privacy@example.co.jp", jis);
			g_autofree char *unfolded = NULL;
			g_autoptr(InternetAddressList) list = NULL;
			InternetAddress *ia;

			g_assert_nonnull(raw);
			check_raw_value("From", raw, jis);
			unfolded = g_mime_utils_header_unfold(raw);
			list = internet_address_list_parse(NULL, unfolded);
			g_assert_nonnull(list);
			g_assert_cmpint(internet_address_list_length(list), ==, 1);
			ia = internet_address_list_get_address(list, 0);
			g_assert_cmpstr(internet_address_get_name(ia), ==, names[i]);
			g_assert_cmpstr(
			    internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia)), ==,
			    "privacy@example.co.jp");
		}
	}
}

/* ---- addresses --------------------------------------------------------------- */

static void
test_address_valid(void)
{
	static const struct {
		const char *addr;
		gboolean ok;
	} rows[] = {
	    {"taro@example.org", TRUE},
	    {"first.last+tag@sub.example.co.jp", TRUE},
	    {"", FALSE},
	    {"no-at-sign", FALSE},
	    {"@example.org", FALSE},
	    {"taro@", FALSE},
	    {"a@b@c", FALSE},
	    {"taro@example.org\r\nBcc: victim@example.org", FALSE},
	    {"taro@example.org>", FALSE},
	    {"<taro@example.org>", FALSE},
	    {"taro @example.org", FALSE},
	    {"a,b@example.org", FALSE},
	    {"taro@example.org\xc2\x85", FALSE},
	};
	for (gsize i = 0; i < G_N_ELEMENTS(rows); i++)
		g_assert_cmpint(sender_address_is_valid(rows[i].addr), ==, rows[i].ok);
}

/* ---- grading --------------------------------------------------------------------- */

static void
test_classify(void)
{
	static const struct {
		CURLcode result;
		guint reply;
		pi_error_code_t expected;
	} rows[] = {
	    {CURLE_COULDNT_CONNECT, 0, PI_ERROR_TEMPORARY},
	    {CURLE_COULDNT_RESOLVE_HOST, 0, PI_ERROR_TEMPORARY},
	    {CURLE_OPERATION_TIMEDOUT, 250, PI_ERROR_TEMPORARY},
	    {CURLE_RECV_ERROR, 354, PI_ERROR_TEMPORARY},         /* cut during DATA */
	    {CURLE_SEND_ERROR, 550, PI_ERROR_PERMANENT},         /* RCPT refused */
	    {CURLE_SEND_ERROR, 450, PI_ERROR_TEMPORARY},         /* mailbox busy */
	    {CURLE_WEIRD_SERVER_REPLY, 451, PI_ERROR_TEMPORARY}, /* after DATA */
	    {CURLE_WEIRD_SERVER_REPLY, 554, PI_ERROR_PERMANENT},
	    {CURLE_WEIRD_SERVER_REPLY, 421, PI_ERROR_TEMPORARY}, /* greeting: busy */
	    {CURLE_SEND_ERROR, 552, PI_ERROR_PERMANENT},         /* too big */
	    {CURLE_SEND_ERROR, 530, PI_ERROR_AUTH},              /* authentication required */
	    {CURLE_LOGIN_DENIED, 535, PI_ERROR_AUTH},
	    {CURLE_LOGIN_DENIED, 0, PI_ERROR_AUTH}, /* no common mechanism */
	    {CURLE_LOGIN_DENIED, 454, PI_ERROR_TEMPORARY},
	    {CURLE_USE_SSL_FAILED, 250, PI_ERROR_TLS}, /* STARTTLS not offered */
	    {CURLE_USE_SSL_FAILED, 454, PI_ERROR_TLS}, /* STARTTLS refused */
	    {CURLE_PEER_FAILED_VERIFICATION, 220, PI_ERROR_TLS},
	    {CURLE_SSL_CONNECT_ERROR, 0, PI_ERROR_TLS},
	    {CURLE_SSL_CACERT_BADFILE, 0, PI_ERROR_TLS},
	    {CURLE_UNSUPPORTED_PROTOCOL, 0, PI_ERROR_FATAL},
	    {CURLE_READ_ERROR, 354, PI_ERROR_FATAL},
	};
	for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
		g_test_message("row %zu: curl %d, reply %u", i, rows[i].result, rows[i].reply);
		g_assert_cmpint(sender_classify_failure(rows[i].result, rows[i].reply), ==,
		                rows[i].expected);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_mime_init();

	g_test_add_func("/sender/encode/jis", test_jis_encode);
	g_test_add_func("/sender/encode/jis-normalize", test_jis_normalize);
	g_test_add_func("/sender/encode/header-text", test_header_text);
	g_test_add_func("/sender/encode/header-mailbox", test_header_mailbox);
	g_test_add_func("/sender/encode/address-valid", test_address_valid);
	g_test_add_func("/sender/encode/classify", test_classify);

	int rc = g_test_run();
	g_mime_shutdown();
	return rc;
}
