/* idhint.c — which identity document (本人確認書類) a file name or the
 * mail's text names, and whether it may show a number the law says we must
 * not keep: the individual number (マイナンバー, 番号法) must not be
 * collected at all, and health-insurance numbers must be masked (健康保険法).
 * Matched on the folded form (NFKC, case-folded), so 全角/半角 and case do
 * not matter. */
#include "parser/parser-internal.h"

#include <string.h>

static const struct {
	const char *type;
	gboolean masking;
	const char *const words[12];
} document_types[] = {
    {"my_number_card",
     TRUE,
     {"マイナンバー", "個人番号カード", "個人番号", "通知カード", "my number", "mynumber",
      "my_number", "individual number", NULL}},
    {"health_insurance_card",
     TRUE,
     {"健康保険", "保険証", "被保険者証", "資格確認書", "health insurance", "insurance card",
      "hokensho", NULL}},
    {"drivers_license",
     FALSE,
     {"運転免許", "免許証", "運転経歴証明", "driver's license", "drivers license", "driver license",
      "driving licence", "driving license", "driver_license", "menkyo", "license", NULL}},
    {"passport", FALSE, {"パスポート", "旅券", "passport", NULL}},
    {"residence_card",
     FALSE,
     {"在留カード", "特別永住者証明書", "residence card", "residence_card", "zairyu", NULL}},
    {"resident_record",
     TRUE,
     {"住民票", "印鑑登録証明", "certificate of residence", "resident record", "juminhyo", NULL}},
    {"pension_book", FALSE, {"年金手帳", "基礎年金番号", "pension", NULL}},
    {"disability_card",
     FALSE,
     {"障害者手帳", "身体障害者手帳", "療育手帳", "精神障害者保健福祉手帳", NULL}},
};

static char *
fold(const char *text)
{
	g_autofree char *nfkc = NULL;

	if (text == NULL || !g_utf8_validate(text, -1, NULL))
		return g_strdup("");
	nfkc = g_utf8_normalize(text, -1, G_NORMALIZE_NFKC);
	return g_utf8_casefold(nfkc ? nfkc : "", -1);
}

/* Earliest position of any word of type I in FOLDED, or NULL. */
static const char *
first_mention(const char *folded, gsize i)
{
	const char *best = NULL;

	for (const char *const *w = document_types[i].words; *w; w++) {
		const char *hit = strstr(folded, *w);
		if (hit != NULL && (best == NULL || hit < best))
			best = hit;
	}
	return best;
}

const char *
parser_document_type_find(const char *text)
{
	g_autofree char *folded = fold(text);
	const char *best = NULL, *type = NULL;

	for (gsize i = 0; i < G_N_ELEMENTS(document_types); i++) {
		const char *hit = first_mention(folded, i);
		if (hit != NULL && (best == NULL || hit < best)) {
			best = hit;
			type = document_types[i].type;
		}
	}
	return type;
}

guint
parser_document_type_count(const char *text)
{
	g_autofree char *folded = fold(text);
	guint n = 0;

	for (gsize i = 0; i < G_N_ELEMENTS(document_types); i++)
		n += first_mention(folded, i) != NULL;
	return n;
}

gboolean
parser_document_type_needs_masking(const char *type)
{
	for (gsize i = 0; type != NULL && i < G_N_ELEMENTS(document_types); i++) {
		if (strcmp(document_types[i].type, type) == 0)
			return document_types[i].masking;
	}
	return FALSE;
}

gboolean
parser_text_mentions_masked_number(const char *text)
{
	g_autofree char *folded = fold(text);

	for (gsize i = 0; i < G_N_ELEMENTS(document_types); i++) {
		if (document_types[i].masking && first_mention(folded, i) != NULL)
			return TRUE;
	}
	return FALSE;
}
