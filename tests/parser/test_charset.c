/* test_charset.c — bytes in Japanese mail charsets → UTF-8, and header values
 * (RFC 2047 words, RFC 2231 parameters, raw 8-bit) through GMime. */
#include "tests/parser/parser-test.h"

static const struct {
	const char *bytes;
	gssize len; /* -1: strlen */
	const char *declared;
	const char *utf8;
} decode_rows[] = {
    /* ISO-2022-JP as Japanese mailers write it (CP50221): NEC row 13 and IBM rows */
    {"\x1b$B$3$s$K$A$O\x1b(B", -1, "iso-2022-jp", "こんにちは"},
    {"\x1b$B-!-\"-j-7\x1b(B", -1, "ISO-2022-JP", "①②㈱Ⅲ"},
    {"\x1b$By!\x1b(B", -1, "iso-2022-jp", "纊"},
    {"\x1b(I1\x1b(B", -1, "iso-2022-jp", "ｱ"},
    {"\x1b$@$\"\x1b(J!", -1, "iso-2022-jp", "あ!"},
    {"abc\x1b$B$\"\nxyz", -1, "iso-2022-jp", "abcあ\nxyz"}, /* ESC ( B missing before the newline */
    {"\x1b$B$\"\x1b(B", -1, NULL, "あ"},                    /* no label: the escapes say it */
    /* Shift_JIS and CP932 */
    {"\x82\xa0\x82\xa2", -1, "shift_jis", "あい"},
    {"\x87\x40\x87\x8a\xed\x40", -1, "Shift_JIS", "①㈱纊"},
    {"\x81\x60", -1, "windows-31j", "～"},
    {"\xb1\xb2", -1, "shift_jis", "ｱｲ"},
    /* EUC-JP */
    {"\xa4\xa2\xa4\xa4", -1, "euc-jp", "あい"},
    {"\xad\xa1", -1, "EUC-JP", "①"},
    /* missing or wrong labels on Japanese bytes */
    {"\x8a\x4a\x8e\xa6\x82\xf0\x82\xa8\x8a\xe8\x82\xa2\x82\xb5\x82\xdc\x82\xb7", -1, NULL,
     "開示をお願いします"},
    {"\x8a\x4a\x8e\xa6\x82\xf0\x82\xa8\x8a\xe8\x82\xa2\x82\xb5\x82\xdc\x82\xb7", -1, "utf-8",
     "開示をお願いします"},
    {"\xb3\xab\xbc\xa8\xa4\xf2\xa4\xaa\xb4\xea\xa4\xa4\xa4\xb7\xa4\xde\xa4\xb9", -1, "iso-8859-1",
     "開示をお願いします"},
    {"\xb3\xab\xbc\xa8\xa4\xf2\xa4\xaa\xb4\xea\xa4\xa4\xa4\xb7\xa4\xde\xa4\xb9", -1, "us-ascii",
     "開示をお願いします"},
    {"\x1b$B3+<(\x1b(B", -1, "utf-8", "開示"},
    /* no label at all: the detector (uchardet) and the scores decide */
    {"\xb8\xc4\xbf\xcd\xbe\xf0\xca\xf3\xa4\xce\xb3\xab\xbc\xa8\xa4\xf2\xb0\xcd\xcd\xea\xa4\xb7\xa4"
     "\xde\xa4\xb9",
     -1, NULL, "個人情報の開示を依頼します"},
    /* Western text stays Western */
    {"caf\xe9 cr\xe8me", -1, "iso-8859-1", "café crème"},
    {"\x93quoted\x94", -1, "windows-1252", "“quoted”"},
    {"Gr\xfc\xdf"
     "e",
     -1, "iso-8859-1", "Grüße"},
    /* UTF-8, valid or not */
    {"開示", -1, "utf-8", "開示"},
    {"開示", -1, NULL, "開示"},
    {"plain ascii", -1, "x-unknown-charset", "plain ascii"},
    {"abc\xff", -1, "utf-8", "abc\xef\xbf\xbd"},
    /* never NUL or stray controls; CRLF → LF */
    {"a\0b", 3, "us-ascii", "ab"},
    {"line1\r\nline2\rline3\x07", -1, "us-ascii", "line1\nline2\nline3"},
    {"", 0, "iso-2022-jp", ""},
    /* UTF-16 only when labelled */
    {"\xff\xfe\x8b\x95\x3a\x79", 6, "utf-16", "開示"},
};

static void
test_decode(void)
{
	for (gsize i = 0; i < G_N_ELEMENTS(decode_rows); i++) {
		gsize len = decode_rows[i].len < 0 ? strlen(decode_rows[i].bytes)
		                                   : (gsize)decode_rows[i].len;
		g_autofree char *got = parser_charset_decode(decode_rows[i].bytes, len,
		                                             decode_rows[i].declared, NULL, NULL);
		if (g_strcmp0(got, decode_rows[i].utf8) != 0)
			g_error("row %" G_GSIZE_FORMAT ": got \"%s\", want \"%s\"", i, got,
			        decode_rows[i].utf8);
		g_assert_true(g_utf8_validate(got, -1, NULL));
	}
}

/* Any byte soup decodes to valid UTF-8 without NUL, whatever the label. */
static void
test_decode_garbage(void)
{
	static const char *const labels[] = {NULL,     "utf-8",      "iso-2022-jp", "shift_jis",
	                                     "euc-jp", "iso-8859-1", "utf-16",      "bogus"};
	GRand *rand = g_rand_new_with_seed(2026);

	for (int round = 0; round < 400; round++) {
		gsize len = g_rand_int_range(rand, 0, 300);
		g_autofree char *bytes = g_malloc(len + 1);
		for (gsize i = 0; i < len; i++) {
			/* bias towards escapes and lead bytes */
			guint r = g_rand_int_range(rand, 0, 10);
			bytes[i] = r == 0   ? 0x1b
			           : r == 1 ? '$'
			           : r == 2 ? 'B'
			                    : (char)g_rand_int(rand);
		}
		for (gsize l = 0; l < G_N_ELEMENTS(labels); l++) {
			guint errors = 0;
			g_autofree char *got =
			    parser_charset_decode(bytes, len, labels[l], NULL, &errors);
			g_assert_true(g_utf8_validate(got, -1, NULL));
		}
	}
	g_rand_free(rand);
}

static void
test_is_japanese(void)
{
	g_assert_true(parser_charset_is_japanese("ISO-2022-JP"));
	g_assert_true(parser_charset_is_japanese("x-sjis"));
	g_assert_true(parser_charset_is_japanese("EUC-JP"));
	g_assert_true(parser_charset_is_japanese("windows-31j"));
	g_assert_false(parser_charset_is_japanese("utf-8"));
	g_assert_false(parser_charset_is_japanese(NULL));
}

/* Header values as they arrive → what the user sees after GMime decodes the
 * normalized value. */
static const struct {
	const char *raw;
	const char *decoded;
} header_rows[] = {
    {" =?ISO-2022-JP?B?GyRCMys8KEBBNWEbKEI=?=\r\n", "開示請求"},
    /* CP932 extensions inside ISO-2022-JP words: glibc alone would give "?" */
    {"=?ISO-2022-JP?B?GyRCLSEtahsoQg==?=", "①㈱"},
    /* one character split over two words */
    {"=?UTF-8?B?44E=?= =?UTF-8?B?gg==?=", "あ"},
    {"=?shift_jis?B?gqA=?=", "あ"},
    {"=?EUC-JP?B?pKI=?=", "あ"},
    {"=?UTF-8?Q?=E9=96=8B=E7=A4=BA_request?=", "開示 request"},
    {"Re: =?utf-8?b?6ZaL56S6?= and more", "Re: 開示 and more"},
    /* mislabelled word: Shift_JIS bytes called UTF-8 */
    {"=?UTF-8?B?ikqOpg==?=", "開示"},
    /* raw 8-bit and raw JIS (old mailers) */
    {"\x8a\x4a\x8e\xa6\x90\xbf\x8b\x81", "開示請求"},
    {"\x1b$B3+<(@A5a\x1b(B", "開示請求"},
    {"=?utf-8?b?5bGx55Sw?=\r\n =?utf-8?b?IOWkqumDjg==?=", "山田 太郎"},
    {"not =?encoded", "not =?encoded"},
    {"=?bogus?X?abc?=", "=?bogus?X?abc?="},
};

static void
test_headers(void)
{
	GMimeParserOptions *options = g_mime_parser_options_new();

	g_mime_init();
	for (gsize i = 0; i < G_N_ELEMENTS(header_rows); i++) {
		g_autofree char *norm = parser_header_normalize(header_rows[i].raw, FALSE);
		g_autofree char *decoded = g_mime_utils_header_decode_text(options, norm);
		if (g_strcmp0(decoded, header_rows[i].decoded) != 0)
			g_error("row %" G_GSIZE_FORMAT ": got \"%s\", want \"%s\"", i, decoded,
			        header_rows[i].decoded);
	}
	g_mime_parser_options_free(options);
}

/* Content-Disposition values → the file name GMime then reads. */
static const struct {
	const char *raw;
	const char *filename;
} param_rows[] = {
    {"attachment; filename*=UTF-8''%E9%81%8B%E8%BB%A2%E5%85%8D%E8%A8%B1%E8%A8%BC.jpg",
     "運転免許証.jpg"},
    {"attachment;\r\n filename*0*=utf-8''%E9%81%8B%E8%BB%A2;\r\n "
     "filename*1*=%E5%85%8D%E8%A8%B1;\r\n"
     " filename*2=\".jpg\"",
     "運転免許.jpg"},
    /* continuations out of order, ISO-2022-JP with CP932 extensions */
    {"attachment; filename*1*=%1B%28B.txt; filename*0*=iso-2022-jp'ja'%1B%24B%2D%21", "①.txt"},
    {"attachment; filename*=shift_jis''%89%5E%93%5D%96%C6%8B%96%8F%D8.jpg", "運転免許証.jpg"},
    {"attachment; filename=\"=?ISO-2022-JP?B?GyRCMT9FPkxINXY+WhsoQi5qcGc=?=\"", "運転免許証.jpg"},
    {"attachment; filename=\"\xe9\x81\x8b\xe8\xbb\xa2.jpg\"", "運転.jpg"},
    {"attachment; filename=\"\x89\x5e\x93\x5d.jpg\"", "運転.jpg"},
    {"inline; filename=plain.png; size=123", "plain.png"},
    /* a value split inside a %XX escape (seen from some webmail) */
    {"attachment; filename*0*=UTF-8''%E9%81%8B%E8%BB%A2%E5%85%8D%E8%A8%B1%E8%A8%BC%2;"
     " filename*1*=E.jpg",
     "運転免許証..jpg"},
    /* RFC 2047 inside the quotes of RFC 2231-less Outlook names, two words */
    {"attachment; filename=\"=?UTF-8?B?6YGL6Lui?= =?UTF-8?B?5YWN6Kix6Ki8LmpwZw==?=\"",
     "運転免許証.jpg"},
};

static void
test_params(void)
{
	GMimeParserOptions *options = g_mime_parser_options_new();

	g_mime_init();
	for (gsize i = 0; i < G_N_ELEMENTS(param_rows); i++) {
		g_autofree char *norm = parser_header_normalize(param_rows[i].raw, TRUE);
		GMimeContentDisposition *disp = g_mime_content_disposition_parse(options, norm);
		const char *got = g_mime_content_disposition_get_parameter(disp, "filename");
		if (g_strcmp0(got, param_rows[i].filename) != 0)
			g_error("row %" G_GSIZE_FORMAT ": got \"%s\", want \"%s\" (normalized: %s)",
			        i, got, param_rows[i].filename, norm);
		g_object_unref(disp);
	}
	g_mime_parser_options_free(options);
}

static void
test_clean(void)
{
	g_autofree char *a = parser_utf8_clean("a\tb\nc", -1, FALSE);
	g_autofree char *b = parser_utf8_clean("a\tb\r\nc\xc2\x85", -1, TRUE);
	g_autofree char *c = parser_utf8_clean("\xe3\x81", -1, TRUE);
	g_autofree char *d = parser_utf8_clean(NULL, -1, TRUE);

	g_assert_cmpstr(a, ==, "a b c");
	g_assert_cmpstr(b, ==, "a\tb\nc");
	g_assert_cmpstr(c, ==, "\xef\xbf\xbd\xef\xbf\xbd");
	g_assert_cmpstr(d, ==, "");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/charset/decode", test_decode);
	g_test_add_func("/charset/decode-garbage", test_decode_garbage);
	g_test_add_func("/charset/is-japanese", test_is_japanese);
	g_test_add_func("/charset/headers", test_headers);
	g_test_add_func("/charset/params", test_params);
	g_test_add_func("/charset/clean", test_clean);
	return g_test_run();
}
