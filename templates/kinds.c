/* kinds.c — the one place that lists the reply kinds and the variables each
 * may use: the router fills them (router/context.c), `templates check`
 * compares every template with them, `templates kinds` prints them for
 * admins and `templates preview` renders with their sample values.
 *
 * Adding a variable: a row in `variables` (name, type, what it is, samples),
 * its name in the kinds that may use it, and the code that fills it.
 * Adding a kind: a row in `kinds`, and templates/ja/KIND.tmpl and
 * templates/en/KIND.tmpl (`templates check` fails until both exist). */
#include "templates/catalogue.h"

#include <string.h>

static const catalogue_variable_t variables[] = {
    /* ---- every reply about a ticket -------------------------------------- */
    {"reference", CATALOGUE_TEXT, FALSE,
     "the ticket's reference; replies always carry it in the subject as [reference]",
     "PRV-2026-000042", "PRV-2026-000042"},
    {"requester_name", CATALOGUE_TEXT, TRUE,
     "the requester's name as their mail gave it; may be unset: use it inside "
     "{{#requester_name}}…{{/requester_name}}",
     "山田 太郎", "Taro Yamada"},
    {"requester_address", CATALOGUE_TEXT, FALSE, "the requester's mail address",
     "yamada.taro@example.jp", "taro.yamada@example.com"},
    {"language", CATALOGUE_TEXT, FALSE, "the reply's language: ja or en", "ja", "en"},
    {"today", CATALOGUE_TEXT, FALSE, "the date the reply is drafted, in the reply's language",
     "2026年11月28日", "28 November 2026"},
    {"received_date", CATALOGUE_TEXT, FALSE, "the day the request reached us", "2026年11月27日",
     "27 November 2026"},
    {"due_date", CATALOGUE_TEXT, TRUE,
     "the date the answer is due (after an extension: the new date); set once the "
     "ticket's clock runs",
     "2026年12月11日", "11 December 2026"},
    {"org_name", CATALOGUE_TEXT, FALSE, "[organization] name (name[en] in English)",
     "株式会社サンプル", "Sample Co., Ltd."},
    {"org_contact", CATALOGUE_TEXT, FALSE, "[organization] contact: the office that answers",
     "個人情報保護窓口", "Privacy Office"},
    {"org_address", CATALOGUE_TEXT, TRUE,
     "[organization] address: postal address (also where postal money orders go)",
     "〒100-0001 東京都千代田区千代田1-1", "1-1 Chiyoda, Chiyoda-ku, Tokyo 100-0001, Japan"},

    /* ---- what was asked -------------------------------------------------- */
    {"request_type", CATALOGUE_TEXT, FALSE, "the (primary) request type, in words",
     "保有個人データの開示", "disclosure of retained personal data"},
    {"request_type_id", CATALOGUE_TEXT, FALSE, "the (primary) request type's identifier",
     "disclosure", "disclosure"},
    {"request_types", CATALOGUE_LIST, FALSE, "every request type asked for, primary first", NULL,
     NULL},
    {"request_types.id", CATALOGUE_TEXT, FALSE, "the type's identifier", "disclosure|stop_use",
     "disclosure|stop_use"},
    {"request_types.label", CATALOGUE_TEXT, FALSE, "the type in words",
     "保有個人データの開示|利用停止・消去",
     "disclosure of retained personal data|stop of use or erasure"},
    {"request_types.fee_required", CATALOGUE_FLAG, FALSE, "this type carries the fee", "true|false",
     "true|false"},
    {"request_types.is_notification_of_purpose", CATALOGUE_FLAG, FALSE,
     "the type is notification of the purpose of use (利用目的の通知)", "false|false",
     "false|false"},
    {"request_types.is_disclosure", CATALOGUE_FLAG, FALSE,
     "the type is disclosure of retained personal data (開示)", "true|false", "true|false"},
    {"request_types.is_third_party_records", CATALOGUE_FLAG, FALSE,
     "the type is disclosure of third-party provision records (第三者提供記録の開示)",
     "false|false", "false|false"},
    {"request_types.is_correction", CATALOGUE_FLAG, FALSE,
     "the type is correction, addition or deletion (訂正等)", "false|false", "false|false"},
    {"request_types.is_stop_use", CATALOGUE_FLAG, FALSE,
     "the type is stop of use or erasure (利用停止等)", "false|true", "false|true"},
    {"request_types.is_stop_third_party", CATALOGUE_FLAG, FALSE,
     "the type is stop of provision to third parties (第三者提供の停止)", "false|false",
     "false|false"},
    {"request_types.is_inquiry", CATALOGUE_FLAG, FALSE, "the type is a question (お問い合わせ)",
     "false|false", "false|false"},
    {"fee_required", CATALOGUE_FLAG, FALSE, "a type asked for carries the fee ([policy] fee_types)",
     "true", "true"},
    {"fee_yen", CATALOGUE_TEXT, FALSE, "the fee ([policy] fee_yen), with thousands separators",
     "1,000", "1,000"},
    {"id_required", CATALOGUE_FLAG, FALSE,
     "the request needs the requester's identity confirmed (everything but a question)", "true",
     "true"},
    {"inquiry_only", CATALOGUE_FLAG, FALSE, "the mail only asks a question", "false", "false"},
    {"id_document_count", CATALOGUE_NUMBER, FALSE, "identity documents received with the request",
     "1", "1"},

    /* ---- fees ------------------------------------------------------------ */
    {"fee_bank_account", CATALOGUE_TEXT, TRUE,
     "[organization] fee_bank_account: where to transfer the fee; unset when only postal "
     "money orders are taken",
     "みずほ銀行 東京営業部 普通預金 1234567 口座名義 カ）サンプル",
     "Mizuho Bank, Tokyo Main Office, ordinary account 1234567, account name: Sample Co., Ltd."},
    {"fee_payment_due", CATALOGUE_TEXT, TRUE, "the date by which the fee should arrive, when set",
     "2026年12月12日", "12 December 2026"},
    {"fee_paid_date", CATALOGUE_TEXT, TRUE, "the day the fee arrived", "2026年12月1日",
     "1 December 2026"},

    /* ---- staff decisions ------------------------------------------------- */
    {"reason", CATALOGUE_TEXT, TRUE,
     "the reason staff gave: why a document cannot be accepted, why a request is refused, "
     "why the answer takes longer",
     "ご提出いただいた画像が不鮮明で、氏名および住所を読み取ることができませんでした",
     "the image was too blurred to read the name and address"},
    {"details", CATALOGUE_TEXT, TRUE,
     "what staff add to a result: what was corrected, the measure taken, the answer to a "
     "question",
     "ご登録の住所を「東京都港区芝公園4-2-8」に訂正いたしました。",
     "We corrected your registered address to 4-2-8 Shibakoen, Minato-ku, Tokyo."},
    {"withheld_reason", CATALOGUE_TEXT, TRUE,
     "why part of the data is not disclosed (a partial disclosure), when that is the case",
     "他の方の個人情報が含まれる部分があるため（個人情報保護法第33条第2項第1号）",
     "parts contain other people's personal information (Article 33(2)(i) of the Act)"},
    {"disclosure_by_post", CATALOGUE_FLAG, FALSE,
     "the requester asked for paper copies by post rather than by mail", "false", "false"},
    {"refused_identity", CATALOGUE_FLAG, FALSE,
     "refused because the requester's identity could not be confirmed", "false", "false"},
    {"refused_legal_exception", CATALOGUE_FLAG, FALSE,
     "refused under a legal exception (Article 33(2) and similar)", "true", "true"},
    {"encrypted_files", CATALOGUE_LIST, FALSE,
     "password-protected archives that could not be opened", NULL, NULL},
    {"encrypted_files.filename", CATALOGUE_TEXT, FALSE, "the archive's file name",
     "本人確認書類.zip", "id-document.zip"},

    /* ---- the daily digest for staff -------------------------------------- */
    {"tickets_overdue", CATALOGUE_LIST, FALSE,
     "open tickets past their due date, most overdue first", NULL, NULL},
    {"tickets_overdue.reference", CATALOGUE_TEXT, FALSE, "", "PRV-2026-000031", "PRV-2026-000031"},
    {"tickets_overdue.state", CATALOGUE_TEXT, FALSE, "", "in_progress", "in_progress"},
    {"tickets_overdue.request_type", CATALOGUE_TEXT, FALSE, "", "保有個人データの開示",
     "disclosure of retained personal data"},
    {"tickets_overdue.requester_address", CATALOGUE_TEXT, FALSE, "", "suzuki@example.jp",
     "suzuki@example.jp"},
    {"tickets_overdue.due_date", CATALOGUE_TEXT, FALSE, "", "2026年11月26日", "26 November 2026"},
    {"tickets_overdue.days", CATALOGUE_NUMBER, FALSE, "days past the due date", "2", "2"},
    {"tickets_due_soon", CATALOGUE_LIST, FALSE,
     "open tickets due within the next days, soonest first", NULL, NULL},
    {"tickets_due_soon.reference", CATALOGUE_TEXT, FALSE, "", "PRV-2026-000038|PRV-2026-000040",
     "PRV-2026-000038|PRV-2026-000040"},
    {"tickets_due_soon.state", CATALOGUE_TEXT, FALSE, "", "awaiting_verification|in_progress",
     "awaiting_verification|in_progress"},
    {"tickets_due_soon.request_type", CATALOGUE_TEXT, FALSE, "", "利用停止・消去|訂正・追加・削除",
     "stop of use or erasure|correction, addition or deletion"},
    {"tickets_due_soon.requester_address", CATALOGUE_TEXT, FALSE, "",
     "tanaka@example.jp|sato@example.com", "tanaka@example.jp|sato@example.com"},
    {"tickets_due_soon.due_date", CATALOGUE_TEXT, FALSE, "", "2026年11月30日|2026年12月2日",
     "30 November 2026|2 December 2026"},
    {"tickets_due_soon.days", CATALOGUE_NUMBER, FALSE, "days left", "2|4", "2|4"},
    {"tickets_attention", CATALOGUE_LIST, FALSE,
     "tickets flagged for staff (e.g. a reply that could not be drafted)", NULL, NULL},
    {"tickets_attention.reference", CATALOGUE_TEXT, FALSE, "", "PRV-2026-000041",
     "PRV-2026-000041"},
    {"tickets_attention.attention", CATALOGUE_TEXT, FALSE, "why staff must look",
     "返信 id_confirmed_fee を作成できませんでした: org_address が未設定です",
     "reply id_confirmed_fee not drafted: org_address is not set"},
    {"overdue_count", CATALOGUE_NUMBER, FALSE, "how many tickets are overdue", "1", "1"},
    {"due_soon_count", CATALOGUE_NUMBER, FALSE, "how many are due soon", "2", "2"},
    {"open_count", CATALOGUE_NUMBER, FALSE, "open tickets in all", "12", "12"},
    {"pending_drafts", CATALOGUE_NUMBER, FALSE, "drafts waiting for approval", "3", "3"},
    {"triage_count", CATALOGUE_NUMBER, FALSE, "tickets waiting for staff to decide their type", "1",
     "1"},

    /* ---- alerts for admins ------------------------------------------------ */
    {"alert_kind", CATALOGUE_TEXT, FALSE, "what the alert is about (ingestion, templates, auth…)",
     "ingestion", "ingestion"},
    {"alert_detail", CATALOGUE_TEXT, FALSE, "what is wrong, one line",
     "IMAP imap.example.co.jp: connection refused (since 09:15)",
     "IMAP imap.example.co.jp: connection refused (since 09:15)"},
    {"alert_since", CATALOGUE_TEXT, TRUE, "when the problem started (local time)",
     "2026-11-28 09:15", "2026-11-28 09:15"},
    {"recovered", CATALOGUE_FLAG, FALSE, "this notice says the problem is over", "false", "false"},
    {"host", CATALOGUE_TEXT, TRUE, "the machine the daemon runs on", "privacy01", "privacy01"},
    {"mailbox", CATALOGUE_TEXT, TRUE, "the watched mailbox", "INBOX", "INBOX"},
    {NULL, 0, FALSE, NULL, NULL, NULL},
};

/* What every reply to a requester knows. */
#define TICKET_VARIABLES                                                                           \
	"reference", "requester_name", "requester_address", "language", "today", "received_date",  \
	    "due_date", "org_name", "org_contact", "org_address", "request_type",                  \
	    "request_type_id", "request_types", "request_types.id", "request_types.label",         \
	    "request_types.fee_required", "request_types.is_notification_of_purpose",              \
	    "request_types.is_disclosure", "request_types.is_third_party_records",                 \
	    "request_types.is_correction", "request_types.is_stop_use",                            \
	    "request_types.is_stop_third_party", "request_types.is_inquiry", "fee_required",       \
	    "fee_yen", "id_required", "inquiry_only", "id_document_count"
#define TICKET_REQUIRED "reference", "org_name"

static const char *const ticket_vars[] = {TICKET_VARIABLES, NULL};
static const char *const ticket_required[] = {TICKET_REQUIRED, NULL};
static const char *const with_reason[] = {TICKET_VARIABLES, "reason", NULL};
static const char *const reason_required[] = {TICKET_REQUIRED, "reason", NULL};
static const char *const extension_required[] = {TICKET_REQUIRED, "reason", "due_date", NULL};
static const char *const with_archives[] = {TICKET_VARIABLES, "encrypted_files",
                                            "encrypted_files.filename", NULL};
static const char *const with_fee[] = {TICKET_VARIABLES, "fee_bank_account", "fee_payment_due",
                                       NULL};
static const char *const fee_required[] = {TICKET_REQUIRED, "fee_yen", "org_address", NULL};
static const char *const with_payment[] = {TICKET_VARIABLES, "fee_paid_date", NULL};
static const char *const with_result[] = {TICKET_VARIABLES, "details", "withheld_reason",
                                          "disclosure_by_post", NULL};
static const char *const with_details[] = {TICKET_VARIABLES, "details", NULL};
static const char *const answer_required[] = {TICKET_REQUIRED, "details", NULL};
static const char *const with_refusal[] = {TICKET_VARIABLES, "reason", "refused_identity",
                                           "refused_legal_exception", NULL};
static const char *const digest_vars[] = {"today",
                                          "org_name",
                                          "org_contact",
                                          "tickets_overdue",
                                          "tickets_overdue.reference",
                                          "tickets_overdue.state",
                                          "tickets_overdue.request_type",
                                          "tickets_overdue.requester_address",
                                          "tickets_overdue.due_date",
                                          "tickets_overdue.days",
                                          "tickets_due_soon",
                                          "tickets_due_soon.reference",
                                          "tickets_due_soon.state",
                                          "tickets_due_soon.request_type",
                                          "tickets_due_soon.requester_address",
                                          "tickets_due_soon.due_date",
                                          "tickets_due_soon.days",
                                          "tickets_attention",
                                          "tickets_attention.reference",
                                          "tickets_attention.attention",
                                          "overdue_count",
                                          "due_soon_count",
                                          "open_count",
                                          "pending_drafts",
                                          "triage_count",
                                          NULL};
static const char *const digest_required[] = {"today", NULL};
static const char *const alert_vars[] = {"today",        "org_name",    "org_contact", "alert_kind",
                                         "alert_detail", "alert_since", "recovered",   "host",
                                         "mailbox",      NULL};
static const char *const alert_required[] = {"alert_detail", NULL};

static const catalogue_kind_t kinds[] = {
    {"ack",
     "acknowledgment: the request is received (its identity document too), or a question "
     "that needs none; says what happens next for each type asked for",
     CATALOGUE_TO_REQUESTER, ticket_vars, ticket_required},
    {"id_missing", "acknowledgment that asks for an identity document", CATALOGUE_TO_REQUESTER,
     ticket_vars, ticket_required},
    {"id_unacceptable",
     "the identity document cannot be accepted (unreadable, expired, not one we take): "
     "asks for another; {{reason}} says why",
     CATALOGUE_TO_REQUESTER, with_reason, reason_required},
    {"id_masking",
     "the copy shows an individual number (My Number) or a health insurance number: it "
     "was not kept; asks for the card front only or the number blacked out",
     CATALOGUE_TO_REQUESTER, with_reason, ticket_required},
    {"encrypted_archive",
     "the identity document came in a password-protected archive: asks to attach it "
     "directly and not to send the password",
     CATALOGUE_TO_REQUESTER, with_archives, ticket_required},
    {"id_confirmed_fee",
     "identity confirmed; how to pay the fee (bank transfer or postal money order); only "
     "for fee-bearing types",
     CATALOGUE_TO_REQUESTER, with_fee, fee_required},
    {"fee_received", "the fee arrived; the request is being handled", CATALOGUE_TO_REQUESTER,
     with_payment, ticket_required},
    {"deadline_extension",
     "the answer takes longer than planned: why ({{reason}}) and by when ({{due_date}})",
     CATALOGUE_TO_REQUESTER, with_reason, extension_required},
    {"disclosure_result",
     "the result of a disclosure, notification of purpose or third-party records request "
     "(the material is attached to the draft, or sent by post)",
     CATALOGUE_TO_REQUESTER, with_result, ticket_required},
    {"no_data",
     "we hold no personal data about the requester (so nothing to disclose, "
     "correct or stop)",
     CATALOGUE_TO_REQUESTER, with_details, ticket_required},
    {"correction_done", "the correction, addition or deletion was made", CATALOGUE_TO_REQUESTER,
     with_details, ticket_required},
    {"stop_use_done", "use was stopped or the data erased", CATALOGUE_TO_REQUESTER, with_details,
     ticket_required},
    {"stop_third_party_done", "provision to third parties was stopped", CATALOGUE_TO_REQUESTER,
     with_details, ticket_required},
    {"refusal",
     "the request is refused, with the reason ({{reason}}): a legal exception, or the "
     "identity could not be confirmed",
     CATALOGUE_TO_REQUESTER, with_refusal, reason_required},
    {"inquiry_answer", "the answer to a question ({{details}} holds it: staff write it)",
     CATALOGUE_TO_REQUESTER, with_details, answer_required},
    {"digest", "the daily digest for staff: overdue and due tickets, drafts waiting",
     CATALOGUE_TO_STAFF, digest_vars, digest_required},
    {"alert", "an alert for admins: ingestion failed or stalled, templates rejected…",
     CATALOGUE_TO_ADMINS, alert_vars, alert_required},
    {NULL, NULL, 0, NULL, NULL},
};

/* Sample values that read better for one kind than the variable's own. */
static const struct {
	const char *kind, *name, *ja, *en;
} kind_samples[] = {
    {"refusal", "reason",
     "ご請求の対象となる情報は、開示することにより当社の業務の適正な実施に著しい支障を及ぼす"
     "おそれがあるため（個人情報保護法第33条第2項第2号）",
     "disclosing it would seriously interfere with the proper conduct of our business "
     "(Article 33(2)(ii) of the Act on the Protection of Personal Information)"},
    {"deadline_extension", "reason",
     "ご請求の対象となる記録が複数のシステムに分かれて保存されており、その確認に時間を要している"
     "ため",
     "the records concerned are kept in several systems and checking them takes time"},
    {"deadline_extension", "due_date", "2026年12月25日", "25 December 2026"},
    {"id_masking", "reason", "マイナンバーカードの裏面の画像",
     "an image of the back of a My Number Card"},
    {"inquiry_answer", "details",
     "当社では、お客様の個人情報をご購入商品の発送およびアフターサービスのご案内のために利用して"
     "おります。",
     "We use your personal information to ship the products you buy and to tell you about "
     "after-sales service."},
    {"stop_use_done", "details", "ダイレクトメールの送付を停止し、ご登録の情報を消去いたしました。",
     "We stopped sending you direct mail and erased your registered information."},
    {"stop_third_party_done", "details", "提携先への顧客情報の提供を停止いたしました。",
     "We stopped providing your information to our partner companies."},
    {"no_data", "details", NULL, NULL},
    {"disclosure_result", "details", NULL, NULL},
};

const catalogue_kind_t *
catalogue_kinds(void)
{
	return kinds;
}

const catalogue_kind_t *
catalogue_kind_find(const char *kind)
{
	for (const catalogue_kind_t *k = kinds; kind != NULL && k->kind != NULL; k++) {
		if (strcmp(k->kind, kind) == 0)
			return k;
	}
	return NULL;
}

const catalogue_variable_t *
catalogue_variables(void)
{
	return variables;
}

const catalogue_variable_t *
catalogue_variable_find(const char *name)
{
	for (const catalogue_variable_t *v = variables; name != NULL && v->name != NULL; v++) {
		if (strcmp(v->name, name) == 0)
			return v;
	}
	return NULL;
}

gboolean
catalogue_kind_uses(const catalogue_kind_t *kind, const char *variable)
{
	return kind != NULL && variable != NULL && g_strv_contains(kind->variables, variable);
}

gboolean
catalogue_kind_requires(const catalogue_kind_t *kind, const char *variable)
{
	return kind != NULL && variable != NULL && g_strv_contains(kind->required, variable);
}

const char *
catalogue_type_name(catalogue_type_t type)
{
	switch (type) {
	case CATALOGUE_TEXT:
		return "text";
	case CATALOGUE_NUMBER:
		return "number";
	case CATALOGUE_FLAG:
		return "flag";
	case CATALOGUE_LIST:
		return "list";
	}
	return "?";
}

const char *const *
catalogue_languages(void)
{
	static const char *const languages[] = {"ja", "en", NULL};

	return languages;
}

/* ---- sample data ---------------------------------------------------------- */

/* The sample of VARIABLE for KIND in LANG: the kind's own when it has one. */
static const char *
sample_of(const catalogue_kind_t *kind, const catalogue_variable_t *variable, const char *lang)
{
	gboolean en = g_strcmp0(lang, "en") == 0;

	for (gsize i = 0; i < G_N_ELEMENTS(kind_samples); i++) {
		if (strcmp(kind_samples[i].kind, kind->kind) == 0 &&
		    strcmp(kind_samples[i].name, variable->name) == 0)
			return en ? kind_samples[i].en : kind_samples[i].ja;
	}
	return en ? variable->sample_en : variable->sample_ja;
}

static JsonNode *
sample_value(catalogue_type_t type, const char *text)
{
	JsonNode *node = json_node_new(JSON_NODE_VALUE);

	if (text == NULL) {
		json_node_init_null(node);
		return node;
	}
	switch (type) {
	case CATALOGUE_NUMBER:
		json_node_set_int(node, g_ascii_strtoll(text, NULL, 10));
		break;
	case CATALOGUE_FLAG:
		json_node_set_boolean(node, strcmp(text, "true") == 0);
		break;
	default:
		json_node_set_string(node, text);
		break;
	}
	return node;
}

/* The items of list LIST: one per "|"-separated sample of its fields. */
static JsonNode *
sample_list(const catalogue_kind_t *kind, const char *list, const char *lang)
{
	g_autofree char *prefix = g_strconcat(list, ".", NULL);
	g_autoptr(JsonArray) items = json_array_new();
	JsonNode *node = json_node_new(JSON_NODE_ARRAY);
	guint count = 0;

	/* First pass: how many items (the most samples any field gives). */
	for (const char *const *name = kind->variables; *name; name++) {
		const catalogue_variable_t *v = catalogue_variable_find(*name);
		const char *sample;
		g_auto(GStrv) parts = NULL;

		if (v == NULL || !g_str_has_prefix(*name, prefix) ||
		    (sample = sample_of(kind, v, lang)) == NULL)
			continue;
		parts = g_strsplit(sample, "|", -1);
		count = MAX(count, g_strv_length(parts));
	}
	for (guint i = 0; i < count; i++) {
		JsonObject *item = json_object_new();

		for (const char *const *name = kind->variables; *name; name++) {
			const catalogue_variable_t *v = catalogue_variable_find(*name);
			const char *sample;
			g_auto(GStrv) parts = NULL;

			if (v == NULL || !g_str_has_prefix(*name, prefix) ||
			    (sample = sample_of(kind, v, lang)) == NULL)
				continue;
			parts = g_strsplit(sample, "|", -1);
			if (i < g_strv_length(parts))
				json_object_set_member(item, *name + strlen(prefix),
				                       sample_value(v->type, parts[i]));
		}
		json_array_add_object_element(items, item);
	}
	json_node_set_array(node, items);
	return node;
}

JsonNode *
catalogue_sample_context(const catalogue_kind_t *kind, const char *lang)
{
	JsonObject *object = json_object_new();
	JsonNode *root = json_node_new(JSON_NODE_OBJECT);

	for (const char *const *name = kind->variables; *name; name++) {
		const catalogue_variable_t *v = catalogue_variable_find(*name);

		if (v == NULL || strchr(*name, '.') != NULL)
			continue;
		if (v->type == CATALOGUE_LIST)
			json_object_set_member(object, *name, sample_list(kind, *name, lang));
		else
			json_object_set_member(object, *name,
			                       sample_value(v->type, sample_of(kind, v, lang)));
	}
	json_node_take_object(root, object);
	return root;
}
