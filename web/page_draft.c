/* page_draft.c — one drafted reply (GET /drafts/ID): edit its subject and
 * body, see it as it will be sent, with any Mustache tag left unfilled
 * marked, and the template's rendering for the ticket; approve it, or
 * reject it with a reason (POST /drafts/ID/edit|approve|reject), through
 * store_draft_edit/approve/reject with the signed-in person as the actor,
 * so the four-eyes rule ([policy] four_eyes) holds here as on the command
 * line. */
#include "web/web-internal.h"

#include "sender/sender.h"

#include <string.h>

#define SUBJECT_MAX_CHARS 500
#define BODY_MAX_BYTES (512 * 1024)

static gboolean
parse_id(const char *text, gint64 *id_out)
{
	guint64 id;

	if (!g_ascii_string_to_unsigned(text, 10, 1, G_MAXINT64, &id, NULL))
		return FALSE;
	*id_out = (gint64)id;
	return TRUE;
}

/* TEXT escaped, with every "{{…}}" marked as an unfilled placeholder. */
static void
marked_text(GString *out, const char *text)
{
	const char *p = text;

	while (p != NULL && *p) {
		const char *open = strstr(p, "{{");
		const char *close = open ? strstr(open + 2, "}}") : NULL;
		g_autofree char *before = NULL, *tag = NULL;

		if (open == NULL || close == NULL) {
			web_html_escape(out, p);
			return;
		}
		before = g_strndup(p, (gsize)(open - p));
		tag = g_strndup(open, (gsize)(close + 2 - open));
		web_html_to(out, "%s<mark class=\"placeholder\">%s</mark>", before, tag);
		p = close + 2;
	}
}

/* The reply as the SMTP server will get it: headers decoded, then the text. */
static void
rendering(web_request_t *r, const store_draft_t *d)
{
	smtp_config_t smtp = r->config->smtp;
	static char placeholder_from[] = "privacy@example.invalid";
	sender_mail_t mail = {0};
	g_autofree char *message_id = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GMimeMessage) message = NULL;
	g_autoptr(GString) body = g_string_new(NULL);
	GMimeHeaderList *headers;

	if (smtp.from == NULL)
		smtp.from = placeholder_from;
	message_id = d->message_id ? g_strdup(d->message_id) : sender_new_message_id(smtp.from);
	mail.to_name = d->to_name;
	mail.to_address = d->to_address;
	mail.subject = d->subject;
	mail.body = d->body;
	mail.message_id = message_id;
	mail.in_reply_to = d->in_reply_to;
	mail.references = (const char *const *)d->references;
	mail.auto_submitted = d->auto_submitted;
	web_html(r, "<h2>%s</h2>", L(r, "送信される内容", "As it will be sent"));
	if ((message = sender_build(&smtp, &mail, &error)) == NULL) {
		web_notice(r, "error", error->message);
		return;
	}
	headers = g_mime_object_get_header_list(GMIME_OBJECT(message));
	web_html(r, "<div class=\"card\"><dl class=\"facts\">");
	for (int i = 0; i < g_mime_header_list_get_count(headers); i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(headers, i);
		const char *name = g_mime_header_get_name(h);
		g_autofree char *value = NULL, *unfolded = NULL;

		if (g_ascii_strcasecmp(name, "Message-Id") == 0 || g_ascii_strcasecmp(name, "Date") == 0)
			continue;
		value = g_mime_utils_header_decode_text(
		    NULL, g_mime_header_get_raw_value(h) ? g_mime_header_get_raw_value(h)
		                                         : g_mime_header_get_value(h));
		unfolded = g_mime_utils_header_unfold(value);
		if (*g_strstrip(unfolded) == '\0')
			continue;
		g_string_truncate(body, 0);
		marked_text(body, unfolded);
		web_html(r, "<dt>%s</dt><dd>%S</dd>", name, body->str);
	}
	{
		GMimeObject *part = g_mime_message_get_mime_part(message);
		const char *charset = part ? g_mime_object_get_content_type_parameter(part, "charset") : NULL;
		web_html(r, "<dt>charset</dt><dd>%s</dd>", charset);
	}
	web_html(r, "</dl>");
	g_string_truncate(body, 0);
	marked_text(body, d->body);
	web_html(r, "<pre class=\"mail\">%S</pre></div>", body->str);
}

/* What the template gives for this ticket now, and what it leaves unfilled. */
static void
template_check(web_request_t *r, const store_draft_t *d, const store_ticket_t *t)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) context = NULL;
	g_autoptr(catalogue_rendering_t) preview = NULL;
	catalogue_t *catalogue;

	if (t == NULL || (catalogue = web_env_catalogue(r, &error)) == NULL ||
	    !catalogue_has(catalogue, d->kind, d->language))
		return;
	context = router_reply_context(r->config, t, NULL, NULL);
	json_object_set_int_member(json_node_get_object(context), "id_document_count",
	                           MAX(store_ticket_id_documents(r->env->store, t->id), 0));
	preview = catalogue_preview(catalogue, d->kind, d->language, context, &error);
	if (preview == NULL || preview->problem == NULL)
		return;
	web_html(r, "<p class=\"notice warn\">%s: %s</p>",
	         L(r, "現在のテンプレートでこの請求の返信を作ると埋まらない項目があります",
	           "The current template leaves something unfilled for this ticket"),
	         preview->problem);
}

static void
render_draft(web_request_t *r, gint64 id, const char *problem, const char *subject_in,
             const char *body_in)
{
	store_t *store = r->env->store;
	g_autoptr(GError) error = NULL;
	g_autoptr(store_draft_t) d = store_draft_get(store, id, &error);
	g_autoptr(store_ticket_t) t = NULL;
	g_autoptr(GPtrArray) files = NULL;
	g_autoptr(store_template_version_t) version = NULL;
	g_auto(GStrv) in_subject = NULL, in_body = NULL;
	g_autofree char *title = NULL, *created = NULL;
	const char *done = web_query(r, "done");
	gboolean pending;

	if (d == NULL) {
		web_error_page(r, g_error_matches(error, STORE_ERROR, PI_ERROR_NOT_FOUND) ? MHD_HTTP_NOT_FOUND
		                                                                          : MHD_HTTP_SERVICE_UNAVAILABLE,
		               error->message);
		return;
	}
	t = store_ticket_get_by_id(store, d->ticket_id, NULL);
	files = store_draft_attachments(store, id, NULL);
	if (d->template_hash != NULL)
		version = store_template_version_get(store, d->kind, NULL, d->template_hash, NULL);
	pending = strcmp(d->state, "pending") == 0;
	title = g_strdup_printf("%s #%" G_GINT64_FORMAT, L(r, "返信の下書き", "Drafted reply"), d->id);
	web_page_begin(r, title);
	if (problem != NULL)
		web_notice(r, "error", problem);
	if (g_strcmp0(done, "edited") == 0)
		web_notice(r, "ok", L(r, "保存しました。", "Saved."));
	else if (g_strcmp0(done, "approved") == 0)
		web_notice(r, "ok", L(r, "承認しました。次の送信で送られます。",
		                      "Approved: it goes out with the next send."));
	else if (g_strcmp0(done, "rejected") == 0)
		web_notice(r, "ok", L(r, "却下しました。送信されません。", "Rejected: it will not be sent."));

	in_subject = web_find_placeholders(d->subject);
	in_body = web_find_placeholders(d->body);
	if (in_subject[0] != NULL || in_body[0] != NULL) {
		g_autoptr(GString) names = g_string_new(NULL);
		for (char **v = in_subject; *v; v++)
			web_html_to(names, "%S{{%s}}", names->len ? ", " : "", *v);
		for (char **v = in_body; *v; v++)
			web_html_to(names, "%S{{%s}}", names->len ? ", " : "", *v);
		web_html(r, "<p class=\"notice error\" role=\"alert\">%s %S</p>",
		         L(r, "埋まっていない項目があります。承認する前に書き直してください:",
		           "Unfilled placeholders: fix them before approving:"),
		         names->str);
	}
	if (pending && r->config->policy.four_eyes && g_strcmp0(d->edited_by, web_user(r)) == 0)
		web_notice(r, "warn", L(r, "あなたが編集したため、承認は別の担当者が行います（ダブルチェック）。",
		                        "You edited this reply, so another person must approve it (four eyes)."));

	created = web_local_time(r, d->created_at);
	web_html(r, "<div class=\"card\"><dl class=\"facts\">"
	            "<dt>%s</dt><dd><a href=\"/tickets/%s\">%s</a></dd>"
	            "<dt>%s</dt><dd>%s (%s)</dd><dt>%s</dt><dd><span class=\"badge %s\">%s</span></dd>"
	            "<dt>%s</dt><dd>%s &lt;%s&gt;</dd><dt>%s</dt><dd>%s</dd>",
	         L(r, "請求", "Ticket"), d->ticket_ref, d->ticket_ref, L(r, "種類", "Kind"), d->kind,
	         d->language, L(r, "状態", "State"), d->state, web_draft_state_label(r, d->state),
	         L(r, "宛先", "To"), d->to_name, d->to_address, L(r, "作成", "Created"), created);
	if (d->template_hash != NULL)
		web_html(r, "<dt>%s</dt><dd><code>%s</code> %s</dd>", L(r, "テンプレートの版", "Template version"),
		         d->template_hash,
		         version ? L(r, "（本文は保管済み）", "(its text is kept)") : "");
	if (d->edited_by != NULL)
		web_html(r, "<dt>%s</dt><dd>%s</dd>", L(r, "編集", "Edited by"), d->edited_by);
	if (d->approved_by != NULL) {
		g_autofree char *at = web_local_time(r, d->approved_at);
		web_html(r, "<dt>%s</dt><dd>%s %s</dd>", L(r, "承認", "Approved by"), d->approved_by, at);
	}
	if (d->rejected_by != NULL)
		web_html(r, "<dt>%s</dt><dd>%s: %s</dd>", L(r, "却下", "Rejected by"), d->rejected_by,
		         d->reject_reason);
	if (d->sent_at != NULL) {
		g_autofree char *at = web_local_time(r, d->sent_at);
		web_html(r, "<dt>%s</dt><dd>%s</dd>", L(r, "送信", "Sent"), at);
	}
	if (d->last_error != NULL)
		web_html(r, "<dt>%s</dt><dd class=\"flag\">%s (%u)</dd>", L(r, "送信エラー", "Last error"),
		         d->last_error, d->attempts);
	for (guint i = 0; files && i < files->len; i++) {
		store_draft_attachment_t *f = g_ptr_array_index(files, i);
		web_html(r, "<dt>%s</dt><dd>%s (%s, %L bytes)</dd>", L(r, "添付", "Attached"), f->filename,
		         f->content_type, (gint64)f->size);
	}
	web_html(r, "</dl></div>");
	template_check(r, d, t);

	web_html(r, "<div class=\"grid\"><div>");
	if (pending) {
		web_html(r, "<h2>%s</h2><form method=\"post\" action=\"/drafts/%L/edit\" class=\"action\" id=\"edit\">",
		         L(r, "編集", "Edit"), d->id);
		web_csrf_field(r);
		web_html(r, "<label>%s<input name=\"subject\" required maxlength=\"500\" value=\"%s\"></label>"
		            "<label>%s<textarea name=\"body\" class=\"body\" required>%s</textarea></label>"
		            "<button type=\"submit\">%s</button></form>",
		         L(r, "件名", "Subject"), subject_in ? subject_in : d->subject, L(r, "本文", "Body"),
		         body_in ? body_in : d->body, L(r, "保存", "Save"));
		web_html(r, "<h2>%s</h2><form method=\"post\" action=\"/drafts/%L/approve\" class=\"action\" id=\"approve\">",
		         L(r, "承認", "Approve"), d->id);
		web_csrf_field(r);
		web_html(r, "<p class=\"hint\">%s</p><button type=\"submit\">%s</button></form>",
		         L(r, "承認すると送信待ちに入り、次の送信で請求者に送られます。",
		           "Once approved, the reply goes to the outbox and is sent with the next pass."),
		         L(r, "承認して送信待ちへ", "Approve for sending"));
	}
	if (pending || strcmp(d->state, "failed") == 0) {
		web_html(r, "<form method=\"post\" action=\"/drafts/%L/reject\" class=\"action\" id=\"reject\"><h3>%s</h3>",
		         d->id, L(r, "却下（送信しない）", "Reject (never sent)"));
		web_csrf_field(r);
		web_html(r, "<label>%s<textarea name=\"reason\" required maxlength=\"4000\"></textarea></label>"
		            "<button type=\"submit\" class=\"danger\">%s</button></form>",
		         L(r, "理由", "Reason"), L(r, "却下", "Reject"));
	}
	web_html(r, "</div><div>");
	rendering(r, d);
	web_html(r, "</div></div>");
}

void
web_page_draft(web_request_t *r, const char *id_text)
{
	gint64 id;

	if (!parse_id(id_text, &id)) {
		web_error_page(r, MHD_HTTP_NOT_FOUND, L(r, "その下書きはありません。", "No such draft."));
		return;
	}
	render_draft(r, id, NULL, NULL, NULL);
}

static void
failed(web_request_t *r, gint64 id, const GError *error, const char *subject, const char *body)
{
	if (error->code == PI_ERROR_NOT_FOUND) {
		web_error_page(r, MHD_HTTP_NOT_FOUND, error->message);
		return;
	}
	if (error->code == PI_ERROR_TEMPORARY) {
		web_error_page(r, MHD_HTTP_SERVICE_UNAVAILABLE, error->message);
		return;
	}
	render_draft(r, id, error->message, subject, body);
	r->status = error->code == PI_ERROR_REFUSED ? MHD_HTTP_CONFLICT : MHD_HTTP_BAD_REQUEST;
}

void
web_action_draft(web_request_t *r, const char *id_text, const char *action)
{
	store_t *store = r->env->store;
	g_autoptr(GError) error = NULL;
	g_autofree char *location = NULL;
	gint64 id;

	if (!parse_id(id_text, &id) ||
	    (strcmp(action, "edit") != 0 && strcmp(action, "approve") != 0 &&
	     strcmp(action, "reject") != 0)) {
		web_error_page(r, MHD_HTTP_NOT_FOUND, L(r, "ありません。", "No such page."));
		return;
	}
	if (!web_check_post(r))
		return;

	if (strcmp(action, "edit") == 0) {
		const char *subject_in = web_field(r, "subject");
		const char *body_in = web_field(r, "body");
		g_autofree char *subject = NULL, *body = NULL;

		if (subject_in == NULL || body_in == NULL) {
			g_set_error(&error, WEB_ERROR, PI_ERROR_MESSAGE, "%s",
			            L(r, "件名と本文が必要です。", "Subject and body are required."));
			failed(r, id, error, subject_in, body_in);
			return;
		}
		/* As `drafts edit` does: one line of subject, no header tricks. */
		subject = pi_header_sanitize(subject_in);
		g_strstrip(subject);
		{
			g_auto(GStrv) lines = g_strsplit(body_in, "\r\n", -1);
			body = g_strjoinv("\n", lines);
		}
		if (*subject == '\0' || g_utf8_strlen(subject, -1) > SUBJECT_MAX_CHARS ||
		    web_blank(body) || strlen(body) > BODY_MAX_BYTES) {
			g_set_error(&error, WEB_ERROR, PI_ERROR_MESSAGE, "%s",
			            L(r, "件名（500字まで）と本文を入れてください。",
			              "Give a subject (500 characters at most) and a body."));
			failed(r, id, error, subject_in, body_in);
			return;
		}
		if (!store_draft_edit(store, id, web_user(r), subject, body, &error)) {
			failed(r, id, error, subject_in, body_in);
			return;
		}
		location = g_strdup_printf("/drafts/%" G_GINT64_FORMAT "?done=edited", id);
	} else if (strcmp(action, "approve") == 0) {
		g_autoptr(store_draft_t) d = store_draft_get(store, id, &error);
		g_auto(GStrv) in_subject = NULL, in_body = NULL;

		if (d == NULL) {
			failed(r, id, error, NULL, NULL);
			return;
		}
		in_subject = web_find_placeholders(d->subject);
		in_body = web_find_placeholders(d->body);
		if (in_subject[0] != NULL || in_body[0] != NULL) {
			g_set_error(&error, WEB_ERROR, PI_ERROR_REFUSED, "%s",
			            L(r, "埋まっていない項目 {{…}} が残っているため承認できません。",
			              "This reply still has an unfilled placeholder {{…}}: it cannot be approved."));
			failed(r, id, error, NULL, NULL);
			return;
		}
		if (!store_draft_approve(store, id, web_user(r), r->config->policy.four_eyes, &error)) {
			failed(r, id, error, NULL, NULL);
			return;
		}
		g_message("draft %" G_GINT64_FORMAT " approved by %s", id, web_user(r));
		location = g_strdup_printf("/drafts/%" G_GINT64_FORMAT "?done=approved", id);
	} else {
		const char *reason_in = web_field(r, "reason");
		g_autofree char *reason = NULL;

		reason = web_text_field(reason_in);
		if (web_blank(reason) || g_utf8_strlen(reason, -1) > 4000) {
			g_set_error(&error, WEB_ERROR, PI_ERROR_MESSAGE, "%s",
			            L(r, "却下の理由を書いてください。", "Give the reason for rejecting it."));
			failed(r, id, error, NULL, NULL);
			return;
		}
		if (!store_draft_reject(store, id, web_user(r), reason, &error)) {
			failed(r, id, error, NULL, NULL);
			return;
		}
		location = g_strdup_printf("/drafts/%" G_GINT64_FORMAT "?done=rejected", id);
	}
	web_redirect(r, location);
}
