/* page_ticket.c — one ticket (GET /tickets/REF): what was asked, with the
 * parser's evidence, the conversation, the identity documents inline, the
 * drafts, the lifecycle actions its state allows, notes and history; the
 * actions themselves (POST /tickets/REF/actions/NAME, carried out by
 * router_act() exactly as `tickets verify` etc. do), notes (POST
 * /tickets/REF/notes) and the identity documents (GET /attachments/ID). */
#include "web/web-internal.h"

#include "common/request_type.h"

#include <string.h>

/* Raw mail larger than this is not parsed again just to show evidence. */
#define FACTS_MAX_BYTES (32 * 1024 * 1024)
#define NOTE_MAX_CHARS 10000
#define REASON_MAX_CHARS 4000

static const char *const document_types[] = {
	"drivers_license", "passport",       "my_number_card",  "health_insurance_card",
	"residence_card",  "resident_record", "pension_book",   "disability_card",
	"other",           NULL,
};

/* ---- pieces of the page ------------------------------------------------------ */

static const char *
str(JsonObject *o, const char *member)
{
	return json_object_get_string_member_with_default(o, member, NULL);
}

static void
fact(web_request_t *r, const char *label, const char *value_html)
{
	web_html(r, "<dt>%s</dt><dd>%S</dd>", label, value_html);
}

/* Re-read the first request mail of the ticket to show what the parser
 * found in it (the store keeps the types, not the evidence). */
static void
parsed_facts(web_request_t *r, JsonArray *messages)
{
	JsonObject *m = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GMimeStream) stream = NULL;
	g_autoptr(parser_request_t) request = NULL;
	g_autoptr(GString) html = g_string_new(NULL);

	for (guint i = 0; i < json_array_get_length(messages) && m == NULL; i++) {
		JsonObject *candidate = json_array_get_object_element(messages, i);
		if (g_strcmp0(str(candidate, "direction"), "in") == 0)
			m = candidate;
	}
	web_html(r, "<h2>%s</h2>", L(r, "解析結果", "What the parser found"));
	if (m == NULL || r->env->parser == NULL) {
		web_html(r, "<p class=\"muted\">%s</p>", L(r, "ありません。", "Nothing to show."));
		return;
	}
	if (str(m, "raw_path") == NULL ||
	    json_object_get_int_member_with_default(m, "size", 0) > FACTS_MAX_BYTES) {
		web_html(r, "<p class=\"muted\">%s</p>",
		         L(r, "元のメールは保管されていない（廃棄済み）か、大きすぎるため再解析しません。",
		           "The raw mail is no longer kept (destroyed), or too large to read again here."));
		return;
	}
	stream = store_spool_open_stream(r->env->store, str(m, "raw_path"), &error);
	if (stream != NULL)
		request = parser_parse_stream(r->env->parser, stream, NULL, &error);
	if (request == NULL) {
		web_notice(r, "warn", error ? error->message : "?");
		return;
	}
	web_html(r, "<dl class=\"facts\">");
	if (request->request_evidence == NULL || request->request_evidence->len == 0)
		fact(r, L(r, "種別", "Types"), L(r, "判定なし（問い合わせ扱い）", "none recognised (inquiry)"));
	for (guint i = 0; request->request_evidence && i < request->request_evidence->len; i++) {
		parser_evidence_t *e = g_ptr_array_index(request->request_evidence, i);
		g_autoptr(GString) phrases = g_string_new(NULL);
		for (guint k = 0; e->phrases && k < e->phrases->len; k++)
			web_html_to(phrases, "%S「%s」", k ? " " : "", (const char *)g_ptr_array_index(e->phrases, k));
		g_string_truncate(html, 0);
		web_html_to(html, "<strong>%s</strong> <span class=\"muted\">(%s %d%%%S)</span><br>%S",
		            web_type_label(r, e->type), L(r, "確度", "confidence"),
		            (int)(e->confidence * 100 + 0.5),
		            e->in_subject ? L(r, "・件名に記載", ", in the subject") : "", phrases->str);
		fact(r, i == 0 ? L(r, "種別と根拠", "Types and evidence") : "", html->str);
	}
	g_string_truncate(html, 0);
	web_html_to(html, "%s", g_strcmp0(request->language, "en") == 0 ? L(r, "英語", "English")
	                                                                 : L(r, "日本語", "Japanese"));
	fact(r, L(r, "言語", "Language"), html->str);
	if (request->document_type != NULL) {
		g_string_truncate(html, 0);
		web_html_to(html, "%s", web_document_label(r, request->document_type));
		fact(r, L(r, "書類の種類（推定）", "Document (as the mail says)"), html->str);
	}
	g_string_truncate(html, 0);
	web_html_to(html, "%u", request->id_document_count);
	fact(r, L(r, "本人確認書類", "Identity documents"), html->str);
	if (request->needs_masking_check)
		fact(r, L(r, "要確認", "Check"),
		     L(r, "<span class=\"flag\">マスキング確認が必要（個人番号・保険者番号が写っている可能性）</span>",
		       "<span class=\"flag\">needs a masking check (a My Number or insurance number may "
		       "show)</span>"));
	if (request->encrypted_archive)
		fact(r, L(r, "要確認", "Check"),
		     L(r, "<span class=\"flag\">パスワード付き圧縮ファイルは開けません</span>",
		       "<span class=\"flag\">a password-protected archive could not be opened</span>"));
	if (request->forwarded_by != NULL) {
		g_string_truncate(html, 0);
		web_html_to(html, "%s %s", request->forwarded_by_name, request->forwarded_by);
		fact(r, L(r, "転送者", "Forwarded by"), html->str);
	}
	if (request->problem != NULL) {
		g_string_truncate(html, 0);
		web_html_to(html, "<span class=\"flag\">%s</span>", request->problem);
		fact(r, L(r, "問題", "Problem"), html->str);
	}
	web_html(r, "</dl>");
}

static gboolean
displayable_image(const char *type)
{
	static const char *const types[] = {"image/jpeg", "image/png", "image/gif", "image/webp",
	                                    "image/bmp", NULL};
	return type != NULL && g_strv_contains(types, type);
}

static void
documents(web_request_t *r, const store_ticket_t *t)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) list = store_attachment_list(r->env->store, t->id, &error);

	web_html(r, "<h2 id=\"documents\">%s</h2>", L(r, "本人確認書類・添付ファイル", "Identity documents and attachments"));
	if (list == NULL) {
		web_notice(r, "error", error->message);
		return;
	}
	if (list->len == 0) {
		web_html(r, "<p class=\"muted\">%s</p>", L(r, "添付ファイルはありません。", "No attachments."));
		return;
	}
	web_html(r, "<p class=\"hint\">%s</p>",
	         L(r, "書類を表示するたびに、あなたの名前で監査ログに記録されます。",
	           "Every view of a document is recorded in the audit log with your name."));
	for (guint i = 0; i < list->len; i++) {
		store_attachment_record_t *a = g_ptr_array_index(list, i);
		gboolean kept = a->spool_path != NULL && a->destroyed_at == NULL;

		web_html(r, "<figure class=\"document\">");
		if (kept && strcmp(a->kind, "id_document") == 0 && displayable_image(a->content_type))
			web_html(r, "<img src=\"/attachments/%L\" alt=\"%s\">", a->id,
			         a->filename ? a->filename : L(r, "本人確認書類", "identity document"));
		web_html(r, "<figcaption>");
		if (kept && strcmp(a->kind, "id_document") == 0)
			web_html(r, "<a href=\"/attachments/%L\" target=\"_blank\" rel=\"noopener noreferrer\">%s</a>",
			         a->id, a->filename ? a->filename : L(r, "（名前なし）", "(no name)"));
		else
			web_html(r, "%s", a->filename ? a->filename : L(r, "（名前なし）", "(no name)"));
		web_html(r, " · %s · %s · %L bytes", a->kind, a->content_type, a->size);
		if (a->destroyed_at != NULL) {
			g_autofree char *when = web_local_time(r, a->destroyed_at);
			web_html(r, "<br><span class=\"muted\">%s %s (%s)</span>", L(r, "廃棄済み", "destroyed"),
			         when, a->destroy_reason);
		} else if (!kept)
			web_html(r, "<br><span class=\"muted\">%s</span>",
			         L(r, "保管していません（本人確認書類のみ保管）", "not kept (only identity documents are)"));
		if (a->reason != NULL)
			web_html(r, "<br><span class=\"muted\">%s</span>", a->reason);
		web_html(r, "</figcaption></figure>");
	}
}

static void
conversation(web_request_t *r, JsonArray *messages)
{
	web_html(r, "<h2>%s</h2>", L(r, "やり取り", "Conversation"));
	for (guint i = 0; i < json_array_get_length(messages); i++) {
		JsonObject *m = json_array_get_object_element(messages, i);
		gboolean in = g_strcmp0(str(m, "direction"), "in") == 0;
		g_autofree char *when = web_local_time(r, str(m, "received_at"));

		web_html(r, "<article class=\"message %s\"><div class=\"meta\">%s %s · %s %s &lt;%s&gt;",
		         in ? "in" : "out", in ? "←" : "→", when, in ? L(r, "受信", "received") : L(r, "送信", "sent"),
		         str(m, "from_name"), str(m, "from_address"));
		if (json_object_get_int_member_with_default(m, "is_auto", 0))
			web_html(r, " · <span class=\"flag\">%s %s</span>", L(r, "自動送信", "automatic"),
			         str(m, "auto_reason"));
		web_html(r, "</div><div><strong>%s</strong></div>", str(m, "subject"));
		if (str(m, "problem") != NULL)
			web_html(r, "<p class=\"flag\">%s</p>", str(m, "problem"));
		web_html(r, "<pre class=\"mail\">%s</pre></article>", str(m, "text"));
	}
}

static void
drafts_table(web_request_t *r, JsonArray *drafts)
{
	web_html(r, "<h2>%s</h2>", L(r, "返信の下書き", "Drafted replies"));
	if (json_array_get_length(drafts) == 0) {
		web_html(r, "<p class=\"muted\">%s</p>", L(r, "ありません。", "None."));
		return;
	}
	web_html(r, "<table><tbody>");
	for (guint i = 0; i < json_array_get_length(drafts); i++) {
		JsonObject *d = json_array_get_object_element(drafts, i);
		gint64 id = json_object_get_int_member(d, "id");
		web_html(r, "<tr><td><a href=\"/drafts/%L\">#%L</a></td><td>%s</td>"
		            "<td><span class=\"badge %s\">%s</span></td><td><a href=\"/drafts/%L\">%s</a>%S%s%S</td></tr>",
		         id, id, str(d, "kind"), str(d, "state"), web_draft_state_label(r, str(d, "state")), id,
		         str(d, "subject"), str(d, "last_error") ? "<br><span class=\"flag\">" : "",
		         str(d, "last_error"), str(d, "last_error") ? "</span>" : "");
	}
	web_html(r, "</tbody></table>");
}

static gboolean
allowed(web_request_t *r, const store_ticket_t *t, lifecycle_action_t action, guint id_documents)
{
	lifecycle_input_t in = {0};
	lifecycle_step_t step;

	in.types = (const char *const *)t->request_types;
	in.id_documents = id_documents;
	return lifecycle_step(r->config, t->state, action, &in, &step, NULL);
}

static void
action_form_begin(web_request_t *r, const store_ticket_t *t, const char *name, const char *title)
{
	web_html(r, "<form method=\"post\" action=\"/tickets/%s/actions/%s\" class=\"action\" id=\"act-%s\">"
	            "<h3>%s</h3>",
	         t->ref, name, name, title);
	web_csrf_field(r);
}

static void
action_form_end(web_request_t *r, const char *button, gboolean danger)
{
	web_html(r, "<button type=\"submit\"%S>%s</button></form>", danger ? " class=\"danger\"" : "",
	         button);
}

static void
actions(web_request_t *r, const store_ticket_t *t)
{
	guint docs = (guint)MAX(store_ticket_id_documents(r->env->store, t->id), 0);
	gboolean any = FALSE;

	web_html(r, "<h2 id=\"actions\">%s</h2>", L(r, "対応", "Actions"));
	if (allowed(r, t, LIFECYCLE_VERIFY, docs)) {
		any = TRUE;
		action_form_begin(r, t, "verify", L(r, "本人確認済みにする", "Identity verified"));
		web_html(r, "<label>%s <select name=\"document_type\"><option value=\"\">–</option>",
		         L(r, "確認した書類", "Document checked"));
		for (const char *const *d = document_types; *d; d++)
			web_html(r, "<option value=\"%s\"%S>%s</option>", *d,
			         g_strcmp0(*d, t->document_type) == 0 ? " selected" : "", web_document_label(r, *d));
		web_html(r, "</select></label>");
		action_form_end(r, L(r, "本人確認済み", "Verify identity"), FALSE);
	}
	if (allowed(r, t, LIFECYCLE_REJECT_ID, docs)) {
		any = TRUE;
		action_form_begin(r, t, "reject-id", L(r, "書類を受け付けない（再提出を依頼）", "Ask for another document"));
		web_html(r, "<label>%s<textarea name=\"reason\" required maxlength=\"4000\"></textarea></label>"
		            "<label class=\"check\"><input type=\"checkbox\" name=\"masking\" value=\"1\"> %s</label>",
		         L(r, "理由（請求者に伝えます）", "Reason (told to the requester)"),
		         L(r, "個人番号・保険者番号が写っている（マスキングを依頼）",
		           "a My Number or insurance number shows (ask for a masked copy)"));
		action_form_end(r, L(r, "再提出を依頼", "Ask again"), FALSE);
	}
	if (allowed(r, t, LIFECYCLE_FEE_PAID, docs)) {
		any = TRUE;
		action_form_begin(r, t, "fee", L(r, "手数料", "Fee"));
		web_html(r, "<label class=\"check\"><input type=\"radio\" name=\"outcome\" value=\"paid\" checked> %s</label>"
		            "<label class=\"check\"><input type=\"radio\" name=\"outcome\" value=\"waived\"> %s</label>"
		            "<label>%s <select name=\"method\"><option value=\"\">–</option>"
		            "<option value=\"bank\">%s</option><option value=\"postal_order\">%s</option></select></label>"
		            "<label>%s <input name=\"receipt\" maxlength=\"200\"></label>",
		         L(r, "受領", "paid"), L(r, "免除", "waived"), L(r, "方法", "Method"),
		         L(r, "銀行振込", "bank transfer"), L(r, "定額小為替", "postal money order"),
		         L(r, "受領番号など", "Receipt or transfer reference"));
		action_form_end(r, L(r, "記録", "Record"), FALSE);
	}
	if (allowed(r, t, LIFECYCLE_SET_TYPE, docs)) {
		const char *primary = t->request_types && t->request_types[0] ? t->request_types[0] : NULL;
		any = TRUE;
		action_form_begin(r, t, "set-type", L(r, "種別を決める", "Set the request type"));
		web_html(r, "<label>%s <select name=\"primary\" required><option value=\"\">–</option>",
		         L(r, "主たる種別", "Primary type"));
		for (const char *const *ty = request_type_ids; *ty; ty++)
			web_html(r, "<option value=\"%s\"%S>%s</option>", *ty,
			         g_strcmp0(*ty, primary) == 0 ? " selected" : "", web_type_label(r, *ty));
		web_html(r, "</select></label><div>%s ", L(r, "ほかに:", "Also:"));
		for (const char *const *ty = request_type_ids; *ty; ty++)
			web_html(r, "<label class=\"check\"><input type=\"checkbox\" name=\"types\" value=\"%s\"%S> %s</label>",
			         *ty,
			         primary && g_strcmp0(*ty, primary) != 0 &&
			                 g_strv_contains((const char *const *)t->request_types, *ty)
			             ? " checked"
			             : "",
			         web_type_label(r, *ty));
		web_html(r, "</div>");
		action_form_end(r, L(r, "種別を設定", "Set type"), FALSE);
	}
	if (allowed(r, t, LIFECYCLE_ANSWER, docs)) {
		any = TRUE;
		action_form_begin(r, t, "answer", L(r, "回答を作成", "Draft the answer"));
		web_html(r, "<label class=\"check\"><input type=\"checkbox\" name=\"no_data\" value=\"1\"> %s</label>",
		         L(r, "保有個人データなし", "we hold no data about the requester"));
		action_form_end(r, L(r, "回答の下書きを作る", "Draft answer"), FALSE);
	}
	if (allowed(r, t, LIFECYCLE_EXTEND, docs)) {
		any = TRUE;
		action_form_begin(r, t, "extend", L(r, "期限を延長して通知", "Extend the deadline"));
		web_html(r, "<label>%s <input type=\"date\" name=\"until\" required></label>"
		            "<label>%s<textarea name=\"reason\" required maxlength=\"4000\"></textarea></label>",
		         L(r, "新しい期限", "New due date"), L(r, "理由（請求者に伝えます）", "Reason (told to the requester)"));
		action_form_end(r, L(r, "延長", "Extend"), FALSE);
	}
	if (allowed(r, t, LIFECYCLE_CLOSE, docs)) {
		any = TRUE;
		action_form_begin(r, t, "close", L(r, "完了にする", "Close"));
		web_html(r, "<p class=\"hint\">%s</p>",
		         L(r, "完了後、保管期間を過ぎた本人確認書類は廃棄されます。",
		           "After closing, identity documents are destroyed when their retention ends."));
		action_form_end(r, L(r, "完了", "Close"), FALSE);
	}
	if (allowed(r, t, LIFECYCLE_REJECT, docs)) {
		any = TRUE;
		action_form_begin(r, t, "reject", L(r, "請求に応じない（不受理）", "Refuse the request"));
		web_html(r, "<label>%s<textarea name=\"reason\" required maxlength=\"4000\"></textarea></label>",
		         L(r, "理由（請求者に伝えます：法令上の例外、本人確認できない等）",
		           "Reason (told to the requester: the legal exception, identity not confirmed…)"));
		action_form_end(r, L(r, "不受理", "Refuse"), TRUE);
	}
	if (!any)
		web_html(r, "<p class=\"muted\">%s</p>",
		         L(r, "この状態で行える対応はありません。", "No action is possible in this state."));
}

static void
history(web_request_t *r, const store_ticket_t *t, JsonArray *events)
{
	web_html(r, "<h2 id=\"notes\">%s</h2>", L(r, "メモと履歴", "Notes and history"));
	web_html(r, "<form method=\"post\" action=\"/tickets/%s/notes\" class=\"action\">", t->ref);
	web_csrf_field(r);
	web_html(r, "<label>%s<textarea name=\"text\" required maxlength=\"10000\"></textarea></label>"
	            "<button type=\"submit\">%s</button></form>",
	         L(r, "メモ（担当者のみ閲覧）", "Note (staff only)"), L(r, "メモを追加", "Add note"));
	web_html(r, "<table><thead><tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>",
	         L(r, "日時", "When"), L(r, "担当", "Who"), L(r, "種類", "What"), L(r, "内容", "Detail"));
	for (gint i = (gint)json_array_get_length(events) - 1; i >= 0; i--) {
		JsonObject *e = json_array_get_object_element(events, (guint)i);
		g_autofree char *when = web_local_time(r, str(e, "at"));
		web_html(r, "<tr><td>%s</td><td>%s</td><td>%s</td><td><pre class=\"plain\">%s</pre></td></tr>",
		         when, str(e, "actor"), str(e, "kind"), str(e, "detail"));
	}
	web_html(r, "</tbody></table>");
}

static void
done_notice(web_request_t *r)
{
	const char *done = web_query(r, "done");
	const char *draft = web_query(r, "draft");
	g_autoptr(GString) text = g_string_new(NULL);

	if (done == NULL)
		return;
	if (strcmp(done, "note") == 0)
		web_html_to(text, "%s", L(r, "メモを追加しました。", "Note added."));
	else
		web_html_to(text, "%s: %s", L(r, "実行しました", "Done"), done);
	if (draft != NULL && g_ascii_string_to_unsigned(draft, 10, 1, G_MAXINT64, NULL, NULL))
		web_html_to(text, " — <a href=\"/drafts/%s\">%s #%s</a>", draft,
		            L(r, "返信の下書き", "drafted reply"), draft);
	web_html(r, "<p class=\"notice ok\" role=\"status\">%S</p>", text->str);
}

static void
render_ticket(web_request_t *r, const char *ref, const char *problem)
{
	store_t *store = r->env->store;
	g_autoptr(GError) error = NULL;
	g_autoptr(store_ticket_t) t = store_ticket_get(store, ref, &error);
	g_autoptr(JsonNode) node = NULL;
	g_autoptr(GString) html = g_string_new(NULL);
	g_autofree char *title = NULL;
	JsonObject *o;
	gint64 days;

	if (t == NULL) {
		web_error_page(r, g_error_matches(error, STORE_ERROR, PI_ERROR_NOT_FOUND) ? MHD_HTTP_NOT_FOUND
		                                                                          : MHD_HTTP_SERVICE_UNAVAILABLE,
		               error->message);
		return;
	}
	if ((node = store_ticket_to_json(store, t, TRUE, &error)) == NULL) {
		web_error_page(r, MHD_HTTP_SERVICE_UNAVAILABLE, error->message);
		return;
	}
	o = json_node_get_object(node);
	title = g_strdup_printf("%s", t->ref);
	web_page_begin(r, title);
	if (problem != NULL)
		web_notice(r, "error", problem);
	done_notice(r);

	web_html(r, "<div class=\"card\"><dl class=\"facts\">");
	g_string_truncate(html, 0);
	web_html_to(html, "<span class=\"badge %s\">%s</span>", t->state, web_state_label(r, t->state));
	fact(r, L(r, "状態", "State"), html->str);
	g_string_truncate(html, 0);
	web_html_to(html, "%s &lt;%s&gt;", t->requester_name, t->requester_address);
	fact(r, L(r, "請求者", "Requester"), html->str);
	g_string_truncate(html, 0);
	for (char **ty = t->request_types; ty && *ty; ty++)
		web_html_to(html, "%S%s", ty == t->request_types ? "" : "、", web_type_label(r, *ty));
	fact(r, L(r, "種別", "Types"), html->len ? html->str : L(r, "（未判定：種別を決めてください）", "(none: decide the type)"));
	{
		g_autofree char *received = web_local_time(r, t->received_at ? t->received_at : t->created_at);
		g_autofree char *due = web_local_date(r, t->due_at);
		g_autofree char *legal = web_local_date(r, t->legal_due_at);
		g_string_truncate(html, 0);
		web_html_to(html, "%s", received);
		fact(r, L(r, "受付", "Received"), html->str);
		g_string_truncate(html, 0);
		if (t->paused_since != NULL)
			web_html_to(html, "%s <span class=\"muted\">(%s)</span>", due,
			            L(r, "請求者待ちのため停止中", "clock stopped: waiting for the requester"));
		else if (lifecycle_state_open(t->state) && web_days_left(r, t->due_at, &days))
			web_html_to(html, "%s <span class=\"%S\">(%s %L)</span>", due, days < 0 ? "late" : "muted",
			            L(r, "残り日数", "days left"), days);
		else
			web_html_to(html, "%s", due);
		fact(r, L(r, "期限", "Due"), html->str);
		if (t->legal_due_at != NULL) {
			g_string_truncate(html, 0);
			web_html_to(html, "%s <span class=\"muted\">(%s)</span>", legal,
			            L(r, "受付から2週間", "two weeks after arrival"));
			fact(r, L(r, "法定の目安", "Legal mark"), html->str);
		}
	}
	{
		static const char *const extra[] = {"extended_until", "disclosure_method", "stop_ground",
		                                    "document_type", "fee_status", NULL};
		const char *const labels_ja[] = {"延長後の期限", "開示の方法", "停止の理由", "確認した書類", "手数料"};
		const char *const labels_en[] = {"Extended until", "Disclosure by", "Ground", "Document verified", "Fee"};
		for (guint i = 0; extra[i]; i++) {
			const char *v = str(o, extra[i]);
			if (v == NULL)
				continue;
			g_string_truncate(html, 0);
			if (i == 0) {
				g_autofree char *d = web_local_date(r, v);
				web_html_to(html, "%s", d);
			} else
				web_html_to(html, "%s", i == 3 ? web_document_label(r, v) : v);
			fact(r, L(r, labels_ja[i], labels_en[i]), html->str);
		}
	}
	if (t->attention != NULL) {
		g_string_truncate(html, 0);
		web_html_to(html, "<span class=\"flag\">⚑ %s</span>", t->attention);
		fact(r, L(r, "要注意", "Attention"), html->str);
	}
	if (t->triage_reason != NULL) {
		g_string_truncate(html, 0);
		web_html_to(html, "<span class=\"flag\">%s</span>", t->triage_reason);
		fact(r, L(r, "振り分けの理由", "Why triage"), html->str);
	}
	if (t->linked_ticket_id > 0) {
		g_autoptr(store_ticket_t) linked = store_ticket_get_by_id(store, t->linked_ticket_id, NULL);
		if (linked != NULL) {
			g_string_truncate(html, 0);
			web_html_to(html, "<a href=\"/tickets/%s\">%s</a>", linked->ref, linked->ref);
			fact(r, L(r, "関連する請求", "Linked ticket"), html->str);
		}
	}
	web_html(r, "</dl></div>");

	web_html(r, "<div class=\"grid\"><div>");
	conversation(r, json_object_get_array_member(o, "messages"));
	parsed_facts(r, json_object_get_array_member(o, "messages"));
	web_html(r, "</div><div>");
	documents(r, t);
	actions(r, t);
	drafts_table(r, json_object_get_array_member(o, "drafts"));
	web_html(r, "</div></div>");
	history(r, t, json_object_get_array_member(o, "events"));
}

void
web_page_ticket(web_request_t *r, const char *ref)
{
	render_ticket(r, ref, NULL);
}

/* An error from a store or router function, as a page: the ticket again
 * with the refusal for what the state does not allow, else an error page. */
static void
show_failure(web_request_t *r, const char *ref, const GError *error)
{
	if (g_error_matches(error, STORE_ERROR, PI_ERROR_NOT_FOUND) ||
	    g_error_matches(error, ROUTER_ERROR, PI_ERROR_NOT_FOUND)) {
		web_error_page(r, MHD_HTTP_NOT_FOUND, error->message);
		return;
	}
	if (error->code == PI_ERROR_TEMPORARY) {
		web_error_page(r, MHD_HTTP_SERVICE_UNAVAILABLE, error->message);
		return;
	}
	render_ticket(r, ref, error->message);
	r->status = error->code == PI_ERROR_REFUSED ? MHD_HTTP_CONFLICT : MHD_HTTP_UNPROCESSABLE_CONTENT;
}

static gboolean
text_ok(const char *text, glong max_chars)
{
	return !web_blank(text) && g_utf8_strlen(text, -1) <= max_chars;
}

void
web_action_note(web_request_t *r, const char *ref)
{
	store_t *store = r->env->store;
	const char *text;
	g_autofree char *clean = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(store_ticket_t) t = NULL;
	g_autofree char *location = NULL;

	if (!web_check_post(r))
		return;
	text = web_field(r, "text");
	clean = web_text_field(text);
	if (!text_ok(clean, NOTE_MAX_CHARS)) {
		g_set_error(&error, WEB_ERROR, PI_ERROR_MESSAGE, "%s",
		            L(r, "メモが空か長すぎます（1万字まで）。", "The note is empty or too long (10,000 characters at most)."));
		show_failure(r, ref, error);
		r->status = MHD_HTTP_BAD_REQUEST;
		return;
	}
	if (!store_begin(store, &error)) {
		show_failure(r, ref, error);
		return;
	}
	if ((t = store_ticket_get(store, ref, &error)) == NULL ||
	    !store_ticket_event(store, t->id, web_user(r), "note", clean, &error) ||
	    !store_audit(store, web_user(r), "note", t->ref, clean, &error) ||
	    !store_commit(store, &error)) {
		store_rollback(store);
		show_failure(r, ref, error);
		return;
	}
	location = g_strdup_printf("/tickets/%s?done=note#notes", t->ref);
	web_redirect(r, location);
}

/* ---- lifecycle actions ---------------------------------------------------- */

typedef struct {
	const char *name;
	lifecycle_action_t action;
} action_name_t;

static const action_name_t action_names[] = {
	{"verify", LIFECYCLE_VERIFY}, {"reject-id", LIFECYCLE_REJECT_ID}, {"fee", LIFECYCLE_FEE_PAID},
	{"set-type", LIFECYCLE_SET_TYPE}, {"answer", LIFECYCLE_ANSWER}, {"close", LIFECYCLE_CLOSE},
	{"reject", LIFECYCLE_REJECT}, {"extend", LIFECYCLE_EXTEND}, {NULL, 0},
};

static void
bad_input(web_request_t *r, const char *ref, const char *message)
{
	g_autoptr(GError) error = g_error_new_literal(WEB_ERROR, PI_ERROR_MESSAGE, message);

	show_failure(r, ref, error);
	r->status = MHD_HTTP_BAD_REQUEST;
}

void
web_action_ticket(web_request_t *r, const char *ref, const char *name)
{
	const action_name_t *a = NULL;
	router_act_input_t in = {0};
	router_act_result_t result = {0};
	g_autoptr(GError) error = NULL;
	g_autoptr(GDateTime) until = NULL;
	g_autoptr(GPtrArray) types = g_ptr_array_new();
	g_autofree char *reason = NULL;
	g_autofree char *location = NULL;
	router_t *router;
	const char *value;
	lifecycle_action_t action;

	for (const action_name_t *x = action_names; x->name; x++) {
		if (strcmp(x->name, name) == 0)
			a = x;
	}
	if (a == NULL) {
		web_error_page(r, MHD_HTTP_NOT_FOUND, L(r, "そのような対応はありません。", "No such action."));
		return;
	}
	if (!web_check_post(r))
		return;
	action = a->action;
	in.actor = web_user(r);
	reason = web_text_field(web_field(r, "reason"));
	switch (a->action) {
	case LIFECYCLE_VERIFY:
		value = web_field(r, "document_type");
		if (value != NULL && *value != '\0') {
			if (!g_strv_contains(document_types, value)) {
				bad_input(r, ref, L(r, "書類の種類が不明です。", "Unknown document type."));
				return;
			}
			in.document_type = value;
		}
		break;
	case LIFECYCLE_REJECT_ID:
	case LIFECYCLE_REJECT:
	case LIFECYCLE_EXTEND:
		if (!text_ok(reason, REASON_MAX_CHARS)) {
			bad_input(r, ref, L(r, "理由を書いてください（請求者に伝えます）。",
			                    "Give the reason (the requester is told)."));
			return;
		}
		in.reason = reason;
		in.masking = web_field(r, "masking") != NULL;
		break;
	default:
		break;
	}
	if (a->action == LIFECYCLE_FEE_PAID) {
		const char *outcome = web_field(r, "outcome");
		const char *method = web_field(r, "method");
		if (g_strcmp0(outcome, "paid") != 0 && g_strcmp0(outcome, "waived") != 0) {
			bad_input(r, ref, L(r, "受領か免除かを選んでください。", "Say whether the fee was paid or waived."));
			return;
		}
		if (method != NULL && *method != '\0' && strcmp(method, "bank") != 0 &&
		    strcmp(method, "postal_order") != 0) {
			bad_input(r, ref, L(r, "支払方法が不明です。", "Unknown payment method."));
			return;
		}
		in.fee_method = method && *method ? method : NULL;
		value = web_field(r, "receipt");
		in.fee_receipt = value && *value ? value : NULL;
		if (in.fee_receipt != NULL && g_utf8_strlen(in.fee_receipt, -1) > 200) {
			bad_input(r, ref, L(r, "受領番号が長すぎます。", "The receipt reference is too long."));
			return;
		}
		if (strcmp(outcome, "waived") == 0)
			action = LIFECYCLE_FEE_WAIVED;
	}
	if (a->action == LIFECYCLE_SET_TYPE) {
		const char *primary = web_field(r, "primary");
		if (primary == NULL || !request_type_is_valid(primary)) {
			bad_input(r, ref, L(r, "主たる種別を選んでください。", "Choose the primary type."));
			return;
		}
		g_ptr_array_add(types, (gpointer)(gintptr)primary);
		for (const char *const *ty = web_fields(r, "types"); *ty; ty++) {
			if (!request_type_is_valid(*ty)) {
				bad_input(r, ref, L(r, "種別が不明です。", "Unknown request type."));
				return;
			}
			if (!g_ptr_array_find_with_equal_func(types, *ty, g_str_equal, NULL))
				g_ptr_array_add(types, (gpointer)(gintptr)*ty);
		}
		g_ptr_array_add(types, NULL);
		in.types = (const char *const *)types->pdata;
	}
	if (a->action == LIFECYCLE_ANSWER)
		in.no_data = web_field(r, "no_data") != NULL;
	if (a->action == LIFECYCLE_EXTEND) {
		g_autofree char *text = NULL;
		value = web_field(r, "until");
		if (value != NULL && strlen(value) == 10)
			text = g_strdup_printf("%sT23:59:59", value);
		if (text == NULL ||
		    (until = g_date_time_new_from_iso8601(text, r->config->policy.timezone)) == NULL) {
			bad_input(r, ref, L(r, "新しい期限を YYYY-MM-DD で指定してください。",
			                    "Give the new due date as YYYY-MM-DD."));
			return;
		}
		in.extend_until = until;
	}

	if ((router = web_env_router(r, &error)) == NULL ||
	    !router_act(router, ref, action, &in, &result, &error)) {
		show_failure(r, ref, error);
		router_act_result_clear(&result);
		return;
	}
	g_message("%s: %s by %s (%s → %s)", ref, name, in.actor, result.state_before,
	          result.state_after);
	if (result.draft_id > 0)
		location = g_strdup_printf("/tickets/%s?done=%s&draft=%" G_GINT64_FORMAT, ref, name,
		                           result.draft_id);
	else
		location = g_strdup_printf("/tickets/%s?done=%s", ref, name);
	router_act_result_clear(&result);
	web_redirect(r, location);
}

/* ---- identity documents ----------------------------------------------------- */

static ssize_t
read_document(void *cls, uint64_t pos, char *buf, size_t max)
{
	GMimeStream *stream = cls;
	gssize n;

	(void)pos;
	n = g_mime_stream_read(stream, buf, max);
	if (n < 0)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	if (n == 0)
		return MHD_CONTENT_READER_END_OF_STREAM;
	return n;
}

static void
free_document(void *cls)
{
	g_object_unref(cls);
}

void
web_page_attachment(web_request_t *r, const char *id_text)
{
	store_t *store = r->env->store;
	guint64 id;
	g_autoptr(GError) error = NULL;
	g_autoptr(store_attachment_record_t) a = NULL;
	g_autoptr(GMimeStream) stream = NULL;
	g_autofree char *how = NULL, *disposition = NULL, *escaped = NULL;
	gboolean image, pdf;

	/* By id only: a number, never a path. */
	if (!g_ascii_string_to_unsigned(id_text, 10, 1, G_MAXINT64, &id, NULL)) {
		web_error_page(r, MHD_HTTP_NOT_FOUND, L(r, "その書類はありません。", "No such document."));
		return;
	}
	a = store_attachment_get(store, (gint64)id, &error);
	if (a == NULL || a->ticket_id == 0 || g_strcmp0(a->kind, "id_document") != 0) {
		if (a == NULL && !g_error_matches(error, STORE_ERROR, PI_ERROR_NOT_FOUND)) {
			web_error_page(r, MHD_HTTP_SERVICE_UNAVAILABLE, error->message);
			return;
		}
		web_error_page(r, MHD_HTTP_NOT_FOUND, L(r, "その書類はありません。", "No such document."));
		return;
	}
	if (a->destroyed_at != NULL || a->spool_path == NULL) {
		web_error_page(r, MHD_HTTP_GONE,
		               L(r, "この書類は保管期間を過ぎて廃棄されました。", "This document was destroyed when its retention ended."));
		return;
	}
	/* Audited before a byte leaves the store. */
	how = g_strdup_printf("viewed in the web console from %s", r->client);
	if (!store_attachment_access(store, a, web_user(r), how, &error) ||
	    (stream = store_spool_open_stream(store, a->spool_path, &error)) == NULL) {
		web_error_page(r, MHD_HTTP_SERVICE_UNAVAILABLE, error->message);
		return;
	}
	r->response = MHD_create_response_from_callback((uint64_t)a->size, 64 * 1024, read_document,
	                                                g_steal_pointer(&stream), free_document);
	if (r->response == NULL) {
		web_error_page(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
		return;
	}
	image = displayable_image(a->content_type);
	pdf = g_strcmp0(a->content_type, "application/pdf") == 0;
	MHD_add_response_header(r->response, MHD_HTTP_HEADER_CONTENT_TYPE,
	                        image || pdf ? a->content_type : "application/octet-stream");
	escaped = g_uri_escape_string(a->filename ? a->filename : "document", NULL, FALSE);
	disposition = g_strdup_printf("%s; filename=\"document-%" G_GUINT64_FORMAT "\"; filename*=UTF-8''%s",
	                              image || pdf ? "inline" : "attachment", id, escaped);
	MHD_add_response_header(r->response, "Content-Disposition", disposition);
	if (image)
		web_add_header(r, "Content-Security-Policy",
		               "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; "
		               "frame-ancestors 'none'; sandbox");
}
