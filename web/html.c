/* html.c — putting text into pages: THE escaper, the one formatter pages
 * are written with (escaping every string unless told it is markup we
 * built), the page frame, labels in Japanese and English, local times. */
#include "web/web-internal.h"

#include "common/request_type.h"

#include <string.h>

void
web_html_escape(GString *out, const char *text)
{
	g_autofree char *valid = NULL;
	const char *p;

	if (text == NULL)
		return;
	if (!g_utf8_validate(text, -1, NULL))
		text = valid = g_utf8_make_valid(text, -1);
	for (p = text; *p; p++) {
		guchar c = (guchar)*p;
		switch (c) {
		case '&':
			g_string_append(out, "&amp;");
			break;
		case '<':
			g_string_append(out, "&lt;");
			break;
		case '>':
			g_string_append(out, "&gt;");
			break;
		case '"':
			g_string_append(out, "&quot;");
			break;
		case '\'':
			g_string_append(out, "&#39;");
			break;
		case '\t':
		case '\n':
			g_string_append_c(out, (char)c);
			break;
		case '\r':
			break;
		default:
			/* Other C0 controls and DEL have no place in a page. */
			if (c >= 0x20 && c != 0x7f)
				g_string_append_c(out, (char)c);
		}
	}
}

void
web_html_to_va(GString *out, const char *format, va_list args)
{
	for (const char *p = format; *p; p++) {
		if (*p != '%') {
			const char *next = strchr(p, '%');
			gsize n = next ? (gsize)(next - p) : strlen(p);
			g_string_append_len(out, p, (gssize)n);
			p += n - 1;
			continue;
		}
		switch (*++p) {
		case 's':
			web_html_escape(out, va_arg(args, const char *));
			break;
		case 'S': {
			const char *raw = va_arg(args, const char *);
			if (raw != NULL)
				g_string_append(out, raw);
			break;
		}
		case 'd':
			g_string_append_printf(out, "%d", va_arg(args, int));
			break;
		case 'u':
			g_string_append_printf(out, "%u", va_arg(args, guint));
			break;
		case 'L':
			g_string_append_printf(out, "%" G_GINT64_FORMAT, va_arg(args, gint64));
			break;
		case '%':
			g_string_append_c(out, '%');
			break;
		default:
			g_return_if_reached();
		}
	}
}

void
web_html_to(GString *out, const char *format, ...)
{
	va_list args;

	va_start(args, format);
	web_html_to_va(out, format, args);
	va_end(args);
}

void
web_html(web_request_t *r, const char *format, ...)
{
	va_list args;

	va_start(args, format);
	web_html_to_va(r->body, format, args);
	va_end(args);
}

/* ---- the frame ------------------------------------------------------------- */

static void
nav_link(web_request_t *r, const char *href, const char *label, const char *section)
{
	gboolean here = r->n_segments > 0 ? g_strcmp0(r->segments[0], section) == 0
	                                  : strcmp(section, "") == 0;

	web_html(r, "<a href=\"%s\"%S>%s</a>", href, here ? " aria-current=\"page\"" : "", label);
}

void
web_page_begin(web_request_t *r, const char *title)
{
	g_autofree char *switch_to = NULL;

	r->page_open = TRUE;
	r->content_type = "text/html; charset=utf-8";
	web_add_header(r, "Content-Language", r->lang);
	web_html(r,
	         "<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">"
	         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
	         "<title>%s — privacy-inbox</title>"
	         "<link rel=\"stylesheet\" href=\"/assets/console.css\">"
	         "<script src=\"/assets/console.js\" defer></script></head><body>\n<header>"
	         "<a class=\"brand\" href=\"/\">%s</a><nav>",
	         r->lang, title, L(r, "個人情報 請求窓口", "Privacy inbox"));
	if (r->session != NULL) {
		nav_link(r, "/", L(r, "キュー", "Queue"), "");
		nav_link(r, "/drafts", L(r, "返信の下書き", "Drafts"), "drafts");
		if (web_is_admin(r))
			nav_link(r, "/templates", L(r, "テンプレート", "Templates"), "templates");
		nav_link(r, "/audit", L(r, "監査ログ", "Audit log"), "audit");
		nav_link(r, "/reports", L(r, "月次報告", "Reports"), "reports");
		nav_link(r, "/status", L(r, "稼働状況", "Status"), "status");
		if (web_is_admin(r))
			nav_link(r, "/users", L(r, "利用者", "Users"), "users");
	}
	web_html(r, "</nav><div class=\"who\">");
	switch_to = g_strdup_printf("%s?lang=%s", r->path, L(r, "en", "ja"));
	web_html(r, "<a class=\"lang\" href=\"%s\" lang=\"%s\">%s</a>", switch_to, L(r, "en", "ja"),
	         L(r, "English", "日本語"));
	if (r->session != NULL) {
		web_html(r, "<span class=\"user\">%s (%s)</span>"
		            "<form method=\"post\" action=\"/logout\" class=\"inline\">",
		         r->session->user_name,
		         web_is_admin(r) ? L(r, "管理者", "admin") : L(r, "担当者", "staff"));
		web_csrf_field(r);
		web_html(r, "<button type=\"submit\">%s</button></form>", L(r, "ログアウト", "Sign out"));
	}
	web_html(r, "</div></header>\n<main>\n<h1>%s</h1>\n", title);
}

void
web_page_end(web_request_t *r)
{
	if (!r->page_open)
		return;
	r->page_open = FALSE;
	web_html(r, "</main>\n<footer>privacy-inbox %s</footer>\n</body></html>\n", PI_VERSION);
}

void
web_notice(web_request_t *r, const char *kind, const char *text)
{
	web_html(r, "<p class=\"notice %s\" role=\"%s\">%s</p>\n", kind,
	         strcmp(kind, "error") == 0 ? "alert" : "status", text);
}

void
web_csrf_field(web_request_t *r)
{
	web_html(r, "<input type=\"hidden\" name=\"csrf\" value=\"%s\">", r->csrf ? r->csrf : "");
}

/* ---- times ------------------------------------------------------------------ */

static char *
local_format(web_request_t *r, const char *iso, const char *format)
{
	g_autoptr(GDateTime) t = iso ? g_date_time_new_from_iso8601(iso, NULL) : NULL;
	g_autoptr(GDateTime) local = NULL;

	if (t == NULL)
		return g_strdup(iso ? iso : "");
	local = g_date_time_to_timezone(t, r->config->policy.timezone);
	return g_date_time_format(local, format);
}

char *
web_local_time(web_request_t *r, const char *iso)
{
	return local_format(r, iso, "%Y-%m-%d %H:%M");
}

char *
web_local_date(web_request_t *r, const char *iso)
{
	return local_format(r, iso, "%Y-%m-%d");
}

gboolean
web_days_left(web_request_t *r, const char *iso, gint64 *days_out)
{
	g_autoptr(GDateTime) due = iso ? g_date_time_new_from_iso8601(iso, NULL) : NULL;
	g_autoptr(GDateTime) now = pi_now();
	g_autoptr(GDateTime) due_local = NULL, now_local = NULL;
	GDate a, b;

	if (due == NULL)
		return FALSE;
	due_local = g_date_time_to_timezone(due, r->config->policy.timezone);
	now_local = g_date_time_to_timezone(now, r->config->policy.timezone);
	g_date_set_dmy(&a, (GDateDay)g_date_time_get_day_of_month(now_local),
	               (GDateMonth)g_date_time_get_month(now_local),
	               (GDateYear)g_date_time_get_year(now_local));
	g_date_set_dmy(&b, (GDateDay)g_date_time_get_day_of_month(due_local),
	               (GDateMonth)g_date_time_get_month(due_local),
	               (GDateYear)g_date_time_get_year(due_local));
	*days_out = g_date_days_between(&a, &b);
	/* Past the moment itself on the due day counts as overdue. */
	if (*days_out == 0 && g_date_time_compare(now, due) > 0)
		*days_out = -1;
	return TRUE;
}

gboolean
web_blank(const char *text)
{
	for (const char *p = text; p && *p; p++) {
		if (!g_ascii_isspace(*p))
			return FALSE;
	}
	return TRUE;
}

char *
web_text_field(const char *text)
{
	g_auto(GStrv) lines = NULL;

	if (text == NULL)
		return NULL;
	lines = g_strsplit(text, "\r\n", -1);
	return g_strstrip(g_strjoinv("\n", lines));
}

/* ---- labels ------------------------------------------------------------------ */

typedef struct {
	const char *id, *ja, *en;
} label_t;

static const char *
lookup(web_request_t *r, const label_t *table, const char *id)
{
	for (const label_t *l = table; l->id; l++) {
		if (g_strcmp0(l->id, id) == 0)
			return L(r, l->ja, l->en);
	}
	return id ? id : "";
}

const char *
web_state_label(web_request_t *r, const char *state)
{
	static const label_t states[] = {
		{"new", "新規", "new"},
		{"awaiting_id", "本人確認書類待ち", "awaiting ID"},
		{"awaiting_verification", "本人確認待ち", "awaiting verification"},
		{"awaiting_fee", "手数料待ち", "awaiting fee"},
		{"in_progress", "対応中", "in progress"},
		{"answered", "回答済み", "answered"},
		{"closed", "完了", "closed"},
		{"rejected", "不受理", "rejected"},
		{"triage", "振り分け待ち", "triage"},
		{NULL, NULL, NULL},
	};
	return lookup(r, states, state);
}

const char *
web_draft_state_label(web_request_t *r, const char *state)
{
	static const label_t states[] = {
		{"pending", "承認待ち", "pending"},
		{"approved", "承認済み（送信待ち）", "approved (to be sent)"},
		{"rejected", "却下", "rejected"},
		{"sent", "送信済み", "sent"},
		{"failed", "送信失敗", "failed"},
		{NULL, NULL, NULL},
	};
	return lookup(r, states, state);
}

const char *
web_document_label(web_request_t *r, const char *document_type)
{
	static const label_t documents[] = {
		{"drivers_license", "運転免許証", "driving licence"},
		{"passport", "旅券（パスポート）", "passport"},
		{"my_number_card", "マイナンバーカード", "My Number card"},
		{"health_insurance_card", "健康保険証", "health insurance card"},
		{"residence_card", "在留カード", "residence card"},
		{"resident_record", "住民票の写し", "resident record"},
		{"pension_book", "年金手帳", "pension book"},
		{"disability_card", "障害者手帳", "disability certificate"},
		{"other", "その他", "other"},
		{NULL, NULL, NULL},
	};
	return lookup(r, documents, document_type);
}

const char *
web_type_label(web_request_t *r, const char *type)
{
	if (type == NULL || !request_type_is_valid(type))
		return type ? type : "";
	return request_type_label(type, r->lang);
}
