/* page_records.c — the records: the audit log (GET /audit, with its chain
 * check on request), the monthly report (GET /reports?month=YYYY-MM), the
 * daemon's status (GET /status) and, for admins, the accounts (GET /users).
 * All read-only: accounts are managed with `privacy-inbox users`. */
#include "web/web-internal.h"

#include <string.h>

#define AUDIT_ROWS_SHOWN 1000

/* ---- audit log ---------------------------------------------------------------- */

/* A local date YYYY-MM-DD as the UTC instant its day starts (+ DAYS). */
static char *
day_start(web_request_t *r, const char *date, int days)
{
	int y, m, d;
	char extra;
	g_autoptr(GDateTime) t = NULL;
	g_autoptr(GDateTime) shifted = NULL;

	if (date == NULL || strlen(date) != 10 || sscanf(date, "%4d-%2d-%2d%c", &y, &m, &d, &extra) != 3)
		return NULL;
	t = g_date_time_new(r->config->policy.timezone, y, m, d, 0, 0, 0);
	if (t == NULL)
		return NULL;
	shifted = g_date_time_add_days(t, days);
	return pi_iso8601(shifted);
}

typedef struct {
	GPtrArray *rows; /* GStrv: at, actor, action, ref, detail, id */
	const char *actor, *ref, *action;
	guint total;
} audit_filter_t;

static gboolean
contains_folded(const char *hay, const char *needle)
{
	g_autofree char *h = NULL, *n = NULL;

	if (needle == NULL || *needle == '\0')
		return TRUE;
	if (hay == NULL)
		return FALSE;
	h = g_utf8_casefold(hay, -1);
	n = g_utf8_casefold(needle, -1);
	return strstr(h, n) != NULL;
}

static gboolean
collect_audit(const store_audit_row_t *row, gpointer data, GError **error)
{
	audit_filter_t *f = data;
	char **fields;

	(void)error;
	if (!contains_folded(row->actor, f->actor) || !contains_folded(row->ticket_ref, f->ref) ||
	    !contains_folded(row->action, f->action))
		return TRUE;
	f->total++;
	fields = g_new0(char *, 7);
	fields[0] = g_strdup(row->at);
	fields[1] = g_strdup(row->actor);
	fields[2] = g_strdup(row->action);
	fields[3] = g_strdup(row->ticket_ref);
	fields[4] = g_strdup(row->detail);
	fields[5] = g_strdup_printf("%" G_GINT64_FORMAT, row->id);
	g_ptr_array_add(f->rows, fields);
	/* Keep only the newest rows. */
	if (f->rows->len > AUDIT_ROWS_SHOWN)
		g_ptr_array_remove_index(f->rows, 0);
	return TRUE;
}

void
web_page_audit(web_request_t *r)
{
	g_autoptr(GDateTime) now = pi_now();
	g_autoptr(GDateTime) local = g_date_time_to_timezone(now, r->config->policy.timezone);
	g_autoptr(GDateTime) week_ago = g_date_time_add_days(local, -7);
	g_autofree char *today = g_date_time_format(local, "%Y-%m-%d");
	g_autofree char *default_since = g_date_time_format(week_ago, "%Y-%m-%d");
	const char *since_text = web_query(r, "since");
	const char *until_text = web_query(r, "until");
	g_autofree char *since = NULL, *until = NULL;
	g_autoptr(GError) error = NULL;
	audit_filter_t f = {0};

	if (since_text == NULL || *since_text == '\0')
		since_text = default_since;
	if (until_text == NULL || *until_text == '\0')
		until_text = today;
	since = day_start(r, since_text, 0);
	until = day_start(r, until_text, 1);
	f.actor = web_query(r, "actor");
	f.ref = web_query(r, "ref");
	f.action = web_query(r, "action");
	web_page_begin(r, L(r, "監査ログ", "Audit log"));
	if (since == NULL || until == NULL) {
		web_notice(r, "error", L(r, "日付は YYYY-MM-DD で指定してください。", "Dates are YYYY-MM-DD."));
		return;
	}
	if (web_query(r, "verify") != NULL) {
		store_audit_verdict_t verdict = {0};
		if (!store_audit_verify(r->env->store, &verdict, &error))
			web_notice(r, "error", error->message);
		else if (verdict.problem == NULL) {
			g_autofree char *text = g_strdup_printf(
			    L(r, "改ざんは見つかりません: %" G_GINT64_FORMAT " 行の連鎖を確認しました。",
			      "The chain checks out: %" G_GINT64_FORMAT " rows verified."),
			    verdict.rows);
			web_notice(r, "ok", text);
		} else {
			g_autofree char *text = g_strdup_printf("%s %s (%s %" G_GINT64_FORMAT ")",
			                                        L(r, "監査ログに異常があります:", "The audit log is damaged:"),
			                                        verdict.problem, L(r, "行", "row"), verdict.bad_row);
			web_notice(r, "error", text);
		}
		store_audit_verdict_clear(&verdict);
	}
	web_html(r, "<form method=\"get\" action=\"/audit\" class=\"filters\">"
	            "<label>%s <input type=\"date\" name=\"since\" value=\"%s\"></label>"
	            "<label>%s <input type=\"date\" name=\"until\" value=\"%s\"></label>"
	            "<label>%s <input name=\"actor\" value=\"%s\"></label>"
	            "<label>%s <input name=\"ref\" value=\"%s\"></label>"
	            "<label>%s <input name=\"action\" value=\"%s\"></label>"
	            "<button type=\"submit\">%s</button>"
	            "<button type=\"submit\" name=\"verify\" value=\"1\" class=\"secondary\">%s</button></form>",
	         L(r, "から", "From"), since_text, L(r, "まで", "to"), until_text, L(r, "担当", "Actor"),
	         f.actor ? f.actor : "", L(r, "請求", "Ticket"), f.ref ? f.ref : "", L(r, "操作", "Action"),
	         f.action ? f.action : "", L(r, "表示", "Show"), L(r, "連鎖を検証", "Verify the chain"));
	f.rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
	if (!store_audit_foreach(r->env->store, since, until, collect_audit, &f, &error)) {
		web_notice(r, "error", error->message);
		g_ptr_array_unref(f.rows);
		return;
	}
	web_html(r, "<p class=\"muted\">%u %s%S</p>", f.total, L(r, "件", "rows"),
	         f.total > AUDIT_ROWS_SHOWN ? L(r, "（新しい 1000 件を表示）", " (the newest 1,000 shown)") : "");
	web_html(r, "<table><thead><tr><th>#</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>",
	         L(r, "日時", "When"), L(r, "担当", "Actor"), L(r, "操作", "Action"), L(r, "請求", "Ticket"),
	         L(r, "内容", "Detail"));
	for (gint i = (gint)f.rows->len - 1; i >= 0; i--) {
		char **row = g_ptr_array_index(f.rows, (guint)i);
		g_autofree char *when = web_local_time(r, row[0]);
		web_html(r, "<tr><td class=\"num\">%s</td><td>%s</td><td>%s</td><td>%s</td><td>", row[5], when,
		         row[1], row[2]);
		if (row[3] != NULL)
			web_html(r, "<a href=\"/tickets/%s\">%s</a>", row[3], row[3]);
		web_html(r, "</td><td>%s</td></tr>\n", row[4]);
	}
	web_html(r, "</tbody></table><p class=\"hint\">%s</p>",
	         L(r, "CSV での書き出し（監査されます）: privacy-inbox audit export --since YYYY-MM-DD",
	           "CSV export (audited): privacy-inbox audit export --since YYYY-MM-DD"));
	g_ptr_array_unref(f.rows);
}

/* ---- monthly report ------------------------------------------------------------- */

static gint64
member_int(JsonObject *o, const char *object, const char *member)
{
	JsonObject *inner = json_object_get_object_member(o, object);

	return inner ? json_object_get_int_member_with_default(inner, member, 0) : 0;
}

void
web_page_report(web_request_t *r)
{
	const char *month = web_query(r, "month");
	g_autoptr(GDateTime) now = pi_now();
	g_autoptr(GDateTime) local = g_date_time_to_timezone(now, r->config->policy.timezone);
	g_autofree char *this_month = g_date_time_format(local, "%Y-%m");
	g_autoptr(GDateTime) start = NULL, end = NULL, prev = NULL;
	g_autofree char *since = NULL, *until = NULL, *prev_label = NULL, *next_label = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;
	store_report_period_t period = {0};
	JsonObject *o, *requests, *answer, *overdue;
	JsonArray *types;
	int y, m;
	char extra;

	if (month == NULL || *month == '\0')
		month = this_month;
	if (strlen(month) != 7 || sscanf(month, "%4d-%2d%c", &y, &m, &extra) != 2 || m < 1 || m > 12 ||
	    (start = g_date_time_new(r->config->policy.timezone, y, m, 1, 0, 0, 0)) == NULL) {
		web_error_page(r, MHD_HTTP_BAD_REQUEST, L(r, "月は YYYY-MM で指定してください。", "Give the month as YYYY-MM."));
		return;
	}
	end = g_date_time_add_months(start, 1);
	prev = g_date_time_add_months(start, -1);
	since = pi_iso8601(start);
	until = pi_iso8601(end);
	prev_label = g_date_time_format(prev, "%Y-%m");
	next_label = g_date_time_format(end, "%Y-%m");
	period.label = month;
	period.since = since;
	period.until = until;
	period.default_due_days = r->config->policy.due_days;
	period.fee_yen = r->config->policy.fee_yen;
	if ((node = store_report(r->env->store, &period, &error)) == NULL) {
		web_error_page(r, MHD_HTTP_SERVICE_UNAVAILABLE, error->message);
		return;
	}
	o = json_node_get_object(node);
	requests = json_object_get_object_member(o, "requests");
	answer = json_object_get_object_member(o, "answer_time");
	overdue = json_object_get_object_member(o, "overdue");
	types = requests ? json_object_get_array_member(requests, "by_type") : NULL;
	{
		g_autofree char *title = g_strdup_printf("%s %s", L(r, "月次報告", "Monthly report"), month);
		web_page_begin(r, title);
	}
	web_html(r, "<p><a href=\"/reports?month=%s\">← %s</a> · <a href=\"/reports?month=%s\">%s →</a></p>",
	         prev_label, prev_label, next_label, next_label);
	web_html(r, "<h2>%s: %L</h2>", L(r, "受け付けた請求", "Requests received"),
	         requests ? json_object_get_int_member_with_default(requests, "total", 0) : 0);
	web_html(r, "<table><thead><tr><th>%s</th><th class=\"num\">%s</th><th>%s</th></tr></thead><tbody>",
	         L(r, "種別", "Type"), L(r, "件数", "Count"), L(r, "現在の状態", "Current state"));
	for (guint i = 0; types && i < json_array_get_length(types); i++) {
		JsonObject *t = json_array_get_object_element(types, i);
		JsonObject *states = json_object_get_object_member(t, "states");
		g_autoptr(GList) names = states ? json_object_get_members(states) : NULL;
		g_autoptr(GString) line = g_string_new(NULL);
		for (GList *l = names; l; l = l->next)
			web_html_to(line, "%S%s %L", line->len ? "、" : "", web_state_label(r, l->data),
			            json_object_get_int_member(states, l->data));
		web_html(r, "<tr><td>%s</td><td class=\"num\">%L</td><td>%S</td></tr>",
		         web_type_label(r, json_object_get_string_member_with_default(t, "type", "")),
		         json_object_get_int_member_with_default(t, "total", 0), line->str);
	}
	web_html(r, "</tbody></table>");
	if (answer != NULL) {
		JsonNode *median = json_object_get_member(answer, "median_days");
		JsonNode *worst = json_object_get_member(answer, "worst_days");
		g_autofree char *median_text = median && !JSON_NODE_HOLDS_NULL(median)
		                                   ? g_strdup_printf("%.1f", json_node_get_double(median))
		                                   : g_strdup("–");
		g_autofree char *worst_text = worst && !JSON_NODE_HOLDS_NULL(worst)
		                                  ? g_strdup_printf("%.1f", json_node_get_double(worst))
		                                  : g_strdup("–");
		const char *worst_ref = json_object_get_string_member_with_default(answer, "worst_ref", NULL);
		web_html(r, "<h2>%s</h2><dl class=\"facts\"><dt>%s</dt><dd>%L</dd><dt>%s</dt><dd>%L</dd>"
		            "<dt>%s</dt><dd>%s</dd><dt>%s</dt><dd>%s",
		         L(r, "回答までの日数", "Time to answer (days)"), L(r, "回答済み", "Answered"),
		         json_object_get_int_member_with_default(answer, "answered", 0),
		         L(r, "未回答", "Not yet answered"),
		         json_object_get_int_member_with_default(answer, "unanswered", 0),
		         L(r, "中央値", "Median"), median_text, L(r, "最長", "Worst"), worst_text);
		if (worst_ref != NULL)
			web_html(r, " (<a href=\"/tickets/%s\">%s</a>)", worst_ref, worst_ref);
		web_html(r, "</dd></dl>");
	}
	if (overdue != NULL)
		web_html(r, "<h2>%s: %L</h2><p>%s %L · %s %L</p>", L(r, "期限超過", "Overdue"),
		         json_object_get_int_member_with_default(overdue, "total", 0),
		         L(r, "期限後に回答", "answered late"),
		         json_object_get_int_member_with_default(overdue, "answered_late", 0),
		         L(r, "未回答で期限超過", "open and past due"),
		         json_object_get_int_member_with_default(overdue, "open_overdue", 0));
	web_html(r, "<h2>%s</h2><p>%s %L (%L %s) · %s %L</p>", L(r, "手数料", "Fees"),
	         L(r, "受領", "paid"), member_int(o, "fees", "paid"), member_int(o, "fees", "collected_yen"),
	         L(r, "円", "yen"), L(r, "免除", "waived"), member_int(o, "fees", "waived"));
	web_html(r, "<h2>%s</h2><p>%s %L · %s %L</p>", L(r, "廃棄", "Destroyed"),
	         L(r, "本人確認書類", "identity documents"), member_int(o, "destroyed", "id_documents"),
	         L(r, "元のメール", "raw messages"), member_int(o, "destroyed", "raw_messages"));
	web_html(r, "<p class=\"hint\">%s</p>",
	         L(r, "CSV・JSON: privacy-inbox report --month YYYY-MM --csv", "CSV or JSON: privacy-inbox report --month YYYY-MM --csv"));
}

/* ---- status --------------------------------------------------------------------- */

static void
status_row(web_request_t *r, const char *label, const char *value)
{
	web_html(r, "<dt>%s</dt><dd>%s</dd>", label, value ? value : "–");
}

void
web_page_status(web_request_t *r)
{
	store_t *store = r->env->store;
	g_autoptr(GError) error = NULL;
	g_autoptr(GHashTable) state = NULL;
	g_autoptr(GPtrArray) alerts = NULL;
	g_autoptr(GPtrArray) failed = NULL;
	g_autoptr(catalogue_t) catalogue = NULL;
	g_autofree char *oldest = NULL, *last_purge = NULL;
	guint outbox = 0;
	pid_t pid = 0;

	if ((state = store_daemon_state(store, &error)) == NULL ||
	    (alerts = store_alerts_open(store, &error)) == NULL ||
	    (failed = store_draft_list(store, "failed", &error)) == NULL ||
	    !store_outbox_summary(store, &outbox, &oldest, &error) ||
	    !store_purge_last_run(store, &last_purge, &error)) {
		web_error_page(r, MHD_HTTP_SERVICE_UNAVAILABLE, error->message);
		return;
	}
	if (r->server->options.daemon_pid != NULL)
		pid = r->server->options.daemon_pid(r->server->options.daemon_pid_data);
	web_page_begin(r, L(r, "稼働状況", "Status"));
	if (pid <= 0)
		web_notice(r, "warn", L(r, "受信デーモン（privacy-inbox run）は動いていません。",
		                        "The daemon (privacy-inbox run) is not running."));
	web_html(r, "<h2>%s</h2><dl class=\"facts\">", L(r, "メールの取り込み", "Ingestion"));
	{
		g_autofree char *running = pid > 0 ? g_strdup_printf("%s (pid %d)", L(r, "動作中", "running"), (int)pid)
		                                   : g_strdup(L(r, "停止", "stopped"));
		g_autofree char *started = web_local_time(r, g_hash_table_lookup(state, "started_at"));
		g_autofree char *poll = web_local_time(r, g_hash_table_lookup(state, "last_poll_ok"));
		g_autofree char *outage = web_local_time(r, g_hash_table_lookup(state, "outage_since"));
		g_autofree char *err_at = web_local_time(r, g_hash_table_lookup(state, "last_error_at"));
		status_row(r, L(r, "デーモン", "Daemon"), running);
		status_row(r, L(r, "開始", "Started"), g_hash_table_lookup(state, "started_at") ? started : NULL);
		status_row(r, L(r, "接続", "Connection"),
		           pid > 0 ? g_hash_table_lookup(state, "connection") : L(r, "停止", "stopped"));
		status_row(r, L(r, "サーバ", "Server"), g_hash_table_lookup(state, "server"));
		status_row(r, L(r, "メールボックス", "Mailbox"), g_hash_table_lookup(state, "mailbox"));
		status_row(r, L(r, "最後に成功した確認", "Last successful poll"),
		           g_hash_table_lookup(state, "last_poll_ok") ? poll : L(r, "なし", "never"));
		if (g_hash_table_lookup(state, "outage_since"))
			status_row(r, L(r, "障害の開始", "Failing since"), outage);
		status_row(r, L(r, "サーバ上のメール", "Messages on the server"),
		           g_hash_table_lookup(state, "server_messages"));
		status_row(r, L(r, "最後のエラー", "Last error"), g_hash_table_lookup(state, "last_error"));
		if (g_hash_table_lookup(state, "last_error_at"))
			status_row(r, L(r, "エラーの日時", "Error at"), err_at);
	}
	web_html(r, "</dl><h2>%s</h2><dl class=\"facts\">", L(r, "送信", "Outbox"));
	{
		g_autofree char *count = g_strdup_printf("%u", outbox);
		g_autofree char *oldest_text = web_local_time(r, oldest);
		status_row(r, L(r, "送信待ち", "Waiting"), count);
		if (oldest != NULL)
			status_row(r, L(r, "最も古い承認", "Oldest approval"), oldest_text);
	}
	web_html(r, "</dl>");
	if (failed->len > 0) {
		web_html(r, "<h3>%s</h3><ul>", L(r, "送信に失敗した返信", "Replies that failed"));
		for (guint i = 0; i < failed->len; i++) {
			store_draft_t *d = g_ptr_array_index(failed, i);
			web_html(r, "<li><a href=\"/drafts/%L\">#%L</a> %s — <span class=\"flag\">%s</span></li>",
			         d->id, d->id, d->ticket_ref, d->last_error);
		}
		web_html(r, "</ul>");
	}
	web_html(r, "<h2>%s</h2>", L(r, "警告", "Alerts"));
	if (alerts->len == 0)
		web_html(r, "<p class=\"muted\">%s</p>", L(r, "ありません。", "None."));
	for (guint i = 0; i < alerts->len; i++) {
		store_alert_t *a = g_ptr_array_index(alerts, i);
		g_autofree char *opened = web_local_time(r, a->opened_at);
		g_autofree char *text = g_strdup_printf("%s (%s): %s", a->kind, opened, a->detail);
		web_notice(r, "error", text);
	}
	web_html(r, "<h2>%s</h2><dl class=\"facts\">", L(r, "その他", "Other"));
	catalogue = catalogue_read(r->config->templates.dir, NULL);
	{
		g_autofree char *problems = catalogue ? g_strdup_printf("%u", catalogue_problems(catalogue)->len)
		                                      : g_strdup(L(r, "読めません", "unreadable"));
		g_autofree char *purge = web_local_time(r, last_purge);
		status_row(r, L(r, "テンプレートの問題", "Template problems"), problems);
		status_row(r, L(r, "最後の廃棄処理", "Last purge"), last_purge ? purge : L(r, "なし", "never"));
	}
	web_html(r, "</dl>");
}

/* ---- accounts ------------------------------------------------------------------------ */

void
web_page_users(web_request_t *r)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) users = store_user_list(r->env->store, &error);

	if (users == NULL) {
		web_error_page(r, MHD_HTTP_SERVICE_UNAVAILABLE, error->message);
		return;
	}
	web_page_begin(r, L(r, "利用者", "Users"));
	web_html(r, "<p class=\"hint\">%s</p>",
	         L(r, "追加・無効化・パスワード変更はサーバ上で privacy-inbox users add / disable / passwd で行います。",
	           "Add, disable and change passwords on the server with privacy-inbox users add / disable / passwd."));
	web_html(r, "<table><thead><tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>",
	         L(r, "名前", "Name"), L(r, "役割", "Role"), L(r, "作成", "Created"),
	         L(r, "最後のログイン", "Last sign-in"), L(r, "状態", "State"));
	for (guint i = 0; i < users->len; i++) {
		store_user_t *u = g_ptr_array_index(users, i);
		g_autofree char *created = web_local_time(r, u->created_at);
		g_autofree char *login = web_local_time(r, u->last_login_at);
		web_html(r, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>", u->name,
		         strcmp(u->role, "admin") == 0 ? L(r, "管理者", "admin") : L(r, "担当者", "staff"),
		         created, u->last_login_at ? login : "–",
		         u->disabled_at ? L(r, "無効", "disabled") : L(r, "有効", "active"));
	}
	web_html(r, "</tbody></table>");
}
