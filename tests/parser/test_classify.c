/* test_classify.c — the shipped request-type rules on subject/text pairs,
 * and the rules file's own checks. */
#include "tests/parser/parser-test.h"

static const struct {
	const char *subject;
	const char *text;
	const char *types; /* primary first, "," separated */
} rows[] = {
    /* each type, Japanese */
    {"", "利用目的の通知をお願いします。", "notification_of_purpose"},
    {"", "私の個人情報の利用目的を開示してください。", "notification_of_purpose"},
    {"", "保有個人データの開示を請求します。", "disclosure"},
    {"", "第三者提供記録の開示を請求します。", "third_party_records"},
    {"", "第三者提供記録を開示してください。", "third_party_records"},
    {"", "登録されている住所の訂正をお願いします。", "correction"},
    {"", "誤った電話番号を削除してください。", "correction"},
    {"", "個人情報の利用停止をお願いします。", "stop_use"},
    {"", "私のデータを消去してください。", "stop_use"},
    {"", "第三者提供の停止を求めます。", "stop_third_party"},
    {"", "第三者への提供を停止してください。", "stop_third_party"},
    {"", "個人情報の保存期間を教えてください。", "inquiry"},
    /* each type, English */
    {"", "Please tell me the purposes of use of my personal data.", "notification_of_purpose"},
    {"", "I would like a copy of my personal data.", "disclosure"},
    {"", "Please send me the records of provision of my data to third parties.",
     "third_party_records"},
    {"", "My address is out of date, please update my details.", "correction"},
    {"", "Delete my account and erase my data.", "stop_use"},
    {"", "I want to opt out of marketing.", "stop_use"},
    {"", "Please stop sharing my data with your partners.", "stop_third_party"},
    {"", "Please opt out of sharing my information.", "stop_third_party"},
    {"", "Do not share my data with anyone.", "stop_third_party"},
    {"", "How long do you keep my data?", "inquiry"},
    /* several types: earliest evidence first, the subject before the body */
    {"", "保有個人データの開示と、利用停止をお願いします。", "disclosure,stop_use"},
    {"", "利用停止と、保有個人データの開示をお願いします。", "stop_use,disclosure"},
    {"利用停止のお願い", "あわせて開示も請求します。", "stop_use,disclosure"},
    {"", "保有個人データの開示と第三者提供記録の開示を請求します。",
     "disclosure,third_party_records"},
    {"", "Please delete my data. Also, please correct my address first.", "stop_use,correction"},
    /* inquiry only when nothing else was asked */
    {"質問", "利用停止はできますか？", "stop_use"},
    /* negation: window-based, within the clause */
    {"", "開示は不要です。利用停止をお願いします。", "stop_use"},
    {"", "開示は必要ありません", ""},
    {"", "データを削除しないでください。", ""},
    {"", "I don't need a copy of my data. Please delete my account.", "stop_use"},
    {"", "I do not want you to delete my data, please correct my name.", "correction"},
    {"", "Please never delete my data", ""},
    {"", "Please do not delete my data", ""},
    {"", "利用停止をお願いします。開示は不要です。", "stop_use"},
    {"", "利用停止、開示は不要です", "stop_use"},
    /* text normalisation: wrapped lines, full-width, case */
    {"", "私の保有個人データの開\n示をお願いします。", "disclosure"},
    {"", "ＤＥＬＥＴＥ ＭＹ ＤＡＴＡ", "stop_use"},
    {"", "PLEASE DELETE MY DATA", "stop_use"},
    /* word starts: no match inside other words */
    {"", "We adopt outside counsel.", ""},
    /* a reply's subject is not read; its new text is */
    {"Re: 開示請求について", "承知しました。", ""},
    {"RE[2]: Delete my data", "Thanks.", ""},
    {"返信: 開示請求", "よろしくお願いします", ""},
    {"Fwd: hello", "Please delete my data.", "stop_use"},
    /* nothing */
    {"", "", ""},
    {"お世話になっております", "よろしくお願いいたします。", ""},
};

static char *
join(GPtrArray *types)
{
	g_autoptr(GString) s = g_string_new(NULL);
	for (guint i = 0; i < types->len; i++)
		g_string_append_printf(s, "%s%s", i ? "," : "", (const char *)types->pdata[i]);
	return g_strdup(s->str);
}

static parser_rules_t *
shipped_rules(void)
{
	g_autoptr(GError) error = NULL;
	gsize len = 0;
	g_autofree char *ini = test_read_rules(&len);
	parser_rules_t *rules = parser_rules_new(ini, len, &error);

	g_assert_no_error(error);
	return rules;
}

static void
test_rows(void)
{
	g_autoptr(parser_rules_t) rules = shipped_rules();

	for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
		g_autoptr(GPtrArray) matches = NULL;
		g_autoptr(GPtrArray) types =
		    parser_rules_classify(rules, rows[i].subject, rows[i].text, &matches);
		g_autofree char *got = join(types);
		if (strcmp(got, rows[i].types) != 0)
			g_error("row %" G_GSIZE_FORMAT " (%s / %s): got \"%s\", want \"%s\"", i,
			        rows[i].subject, rows[i].text, got, rows[i].types);
	}
}

/* The evidence is kept: which phrase, where, and why it did not count. */
static void
test_evidence(void)
{
	g_autoptr(parser_rules_t) rules = shipped_rules();
	g_autoptr(GPtrArray) matches = NULL;
	g_autoptr(GPtrArray) types =
	    parser_rules_classify(rules, "第三者提供記録の開示", "開示は不要です。", &matches);
	gboolean absorbed = FALSE, negated = FALSE, counted = FALSE;

	for (guint i = 0; i < matches->len; i++) {
		const parser_match_t *m = matches->pdata[i];
		if (m->in_subject && strcmp(m->type, "disclosure") == 0)
			absorbed |= m->absorbed;
		if (!m->in_subject && strcmp(m->type, "disclosure") == 0)
			negated |= m->negated;
		if (m->in_subject && strcmp(m->type, "third_party_records") == 0 &&
		    strcmp(m->phrase, "第三者提供記録") == 0 && m->offset == 0)
			counted = !m->negated && !m->absorbed;
	}
	g_assert_true(absorbed);
	g_assert_true(negated);
	g_assert_true(counted);
	g_assert_cmpuint(types->len, ==, 1);
	g_assert_cmpstr(types->pdata[0], ==, "third_party_records");
}

static const struct {
	const char *ini;
	const char *error; /* substring; NULL: loads */
} file_rows[] = {
    {"[disclosure]\nja = 開示\n", NULL},
    {"", NULL},
    {"[disclosure]\nja = 開示\nfr = divulgation\n", "unknown key fr"},
    {"[disclosre]\nja = 開示\n", "unknown group [disclosre]"},
    {"[third_party_records]\nabsorbs = disclosur\n", "unknown request type"},
    {"[negation]\nwindow = lots\n", "window"},
    {"[inquiry]\nonly_when_alone = maybe\n", "only_when_alone"},
    {"[classification]\nabsorb_window = -3\n", "absorb_window"},
    {"not a key file", "rules:"},
};

static void
test_rules_file(void)
{
	for (gsize i = 0; i < G_N_ELEMENTS(file_rows); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(parser_rules_t) rules =
		    parser_rules_new(file_rows[i].ini, strlen(file_rows[i].ini), &error);
		if (file_rows[i].error == NULL) {
			g_assert_no_error(error);
			g_assert_nonnull(rules);
		} else {
			g_assert_null(rules);
			g_assert_error(error, PARSER_ERROR, PI_ERROR_FATAL);
			if (strstr(error->message, file_rows[i].error) == NULL)
				g_error("row %" G_GSIZE_FORMAT ": \"%s\" lacks \"%s\"", i,
				        error->message, file_rows[i].error);
		}
	}
}

/* An admin's own rules change the result: the rules are data. */
static void
test_custom_rules(void)
{
	const char *ini = "[stop_use]\nja = 解約\nen = cancel my membership\n"
	                  "[inquiry]\nen = ?\n";
	g_autoptr(GError) error = NULL;
	g_autoptr(parser_rules_t) rules = parser_rules_new(ini, strlen(ini), &error);
	g_autoptr(GPtrArray) a = NULL, b = NULL, c = NULL;

	g_assert_no_error(error);
	a = parser_rules_classify(rules, "", "会員を解約したいです", NULL);
	b = parser_rules_classify(rules, "", "Please delete my data", NULL);
	c = parser_rules_classify(rules, "", "Cancel my membership?", NULL);
	g_assert_cmpuint(a->len, ==, 1);
	g_assert_cmpstr(a->pdata[0], ==, "stop_use");
	g_assert_cmpuint(b->len, ==, 0);
	/* inquiry without only_when_alone is reported beside the request */
	g_assert_cmpuint(c->len, ==, 2);
}

/* The whole parser reads its rules from the text given to parser_new(). */
static void
test_parser_rules_error(void)
{
	parser_config_t config = test_default_config();
	g_autoptr(GError) error = NULL;
	g_autoptr(parser_t) parser = parser_new(&config, "[nope]\n", 7, &error);

	g_assert_null(parser);
	g_assert_error(error, PARSER_ERROR, PI_ERROR_FATAL);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/classify/rows", test_rows);
	g_test_add_func("/classify/evidence", test_evidence);
	g_test_add_func("/classify/rules-file", test_rules_file);
	g_test_add_func("/classify/custom-rules", test_custom_rules);
	g_test_add_func("/classify/parser-rules-error", test_parser_rules_error);
	return g_test_run();
}
