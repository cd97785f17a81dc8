/* facts.c — what a request says about how it wants to be answered: the
 * disclosure method (電磁的記録の提供 by e-mail, or 書面 by post) and, for
 * a stop request, the ground it invokes (個人情報保護法 第35条).  Pure text
 * rules; staff can always correct them on the ticket. */
#include "router/router.h"

#include <string.h>

typedef struct {
	const char *id;
	const char *const phrases[12];
} cue_t;

static const cue_t methods[] = {
	{"post", {"郵送", "書面で", "書面にて", "書面により", "書面による", "紙で", "by post",
	          "by postal", "in writing", "paper copy", "by mail to my address", NULL}},
	{"email", {"電子メールで", "メールで", "メールにて", "Eメール", "電磁的記録", "PDFで",
	           "by email", "by e-mail", "electronically", "electronic copy", NULL}},
};

static const cue_t grounds[] = {
	{"unlawful_acquisition", {"不正取得", "不正な手段", "偽りその他不正", "unlawfully obtained",
	                          "improperly obtained", "obtained unlawfully", NULL}},
	{"beyond_purpose", {"目的外", "利用目的の範囲を超え", "目的の達成に必要な範囲を超え",
	                    "beyond the purpose", "outside the purpose", NULL}},
	{"improper_use", {"不適正な利用", "不適正利用", "不当な行為を助長", "improper use", NULL}},
	{"no_longer_needed", {"必要がなくなった", "必要がなくなりました", "必要なくなった",
	                      "利用する必要がなく", "no longer necessary", "no longer needed",
	                      "no longer required", NULL}},
	{"breach", {"漏えい", "漏洩", "流出", "data breach", "leaked", "leak of", NULL}},
	{"rights_harmed", {"正当な利益", "権利又は正当な利益", "権利利益", "legitimate interest",
	                   "harm my rights", NULL}},
	{"third_party_without_consent", {"同意なく第三者", "同意なしに第三者", "無断で第三者",
	                                 "without my consent", "without consent", NULL}},
};

static const char *
first_match(const cue_t *cues, gsize n, const char *text)
{
	g_autofree char *folded = NULL;
	const char *best = NULL;
	const char *best_at = NULL;

	if (text == NULL)
		return NULL;
	folded = g_utf8_casefold(text, -1);
	for (gsize i = 0; i < n; i++) {
		for (const char *const *p = cues[i].phrases; *p; p++) {
			g_autofree char *phrase = g_utf8_casefold(*p, -1);
			const char *at = strstr(folded, phrase);
			if (at != NULL && (best_at == NULL || at < best_at)) {
				best_at = at;
				best = cues[i].id;
			}
		}
	}
	return best;
}

const char *
router_detect_disclosure_method(const char *text)
{
	return first_match(methods, G_N_ELEMENTS(methods), text);
}

const char *
router_detect_stop_ground(const char *text)
{
	return first_match(grounds, G_N_ELEMENTS(grounds), text);
}
