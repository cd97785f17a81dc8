/* page_queue.c — the queue (GET /): tickets by due date, overdue first,
 * with filters by state and type and a search by reference, address or
 * name; and the list of drafted replies (GET /drafts). */
#include "web/web-internal.h"

#include "common/request_type.h"

#include <string.h>

typedef struct {
	store_ticket_t *ticket;
	int rank; /* 0 running clock, 1 paused, 2 open without a due date, 3 finished */
} row_t;

static int
rank_of(const store_ticket_t *t)
{
	if (!lifecycle_state_open(t->state))
		return 3;
	if (t->due_at == NULL)
		return 2;
	return t->paused_since != NULL ? 1 : 0;
}

static int
compare_rows(gconstpointer a, gconstpointer b)
{
	const row_t *x = a, *y = b;
	int c;

	if (x->rank != y->rank)
		return x->rank - y->rank;
	if (x->rank == 3) /* finished: latest first */
		return -g_strcmp0(x->ticket->updated_at, y->ticket->updated_at);
	if ((c = g_strcmp0(x->ticket->due_at, y->ticket->due_at)) != 0)
		return c;
	return g_strcmp0(x->ticket->ref, y->ticket->ref);
}

static gboolean
matches_search(const store_ticket_t *t, const char *q)
{
	g_autofree char *needle = NULL;
	const char *fields[] = {t->ref, t->requester_address, t->requester_name};

	if (q == NULL || *q == '\0')
		return TRUE;
	needle = g_utf8_casefold(q, -1);
	for (gsize i = 0; i < G_N_ELEMENTS(fields); i++) {
		g_autofree char *hay = fields[i] ? g_utf8_casefold(fields[i], -1) : NULL;
		if (hay != NULL && strstr(hay, needle) != NULL)
			return TRUE;
	}
	return FALSE;
}

static void
state_option(web_request_t *r, const char *value, const char *label, const char *chosen)
{
	web_html(r, "<option value=\"%s\"%S>%s</option>", value,
	         g_strcmp0(value, chosen) == 0 ? " selected" : "", label);
}

static char *
queue_link(const char *state, const char *type, const char *q)
{
	g_autofree char *s = g_uri_escape_string(state ? state : "", NULL, FALSE);
	g_autofree char *t = g_uri_escape_string(type ? type : "", NULL, FALSE);
	g_autofree char *qq = g_uri_escape_string(q ? q : "", NULL, FALSE);

	return g_strdup_printf("/?state=%s&type=%s&q=%s", s, t, qq);
}

void
web_page_queue(web_request_t *r)
{
	store_t *store = r->env->store;
	const char *state = web_query(r, "state");
	const char *type = web_query(r, "type");
	const char *q = web_query(r, "q");
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) tickets = NULL;
	g_autoptr(GPtrArray) pending = NULL;
	g_autoptr(GHashTable) drafts_by_ticket = g_hash_table_new(g_int64_hash, g_int64_equal);
	g_autoptr(GHashTable) by_state = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GArray) rows = g_array_new(FALSE, FALSE, sizeof(row_t));
	guint open = 0, overdue = 0;

	if (state == NULL || *state == '\0')
		state = "open";
	if (type != NULL && *type == '\0')
		type = NULL;
	if ((tickets = store_ticket_list(store, NULL, &error)) == NULL ||
	    (pending = store_draft_list(store, "pending", &error)) == NULL) {
		web_error_page(r, MHD_HTTP_SERVICE_UNAVAILABLE, error->message);
		return;
	}
	for (guint i = 0; i < pending->len; i++) {
		store_draft_t *d = g_ptr_array_index(pending, i);
		gpointer n = g_hash_table_lookup(drafts_by_ticket, &d->ticket_id);
		g_hash_table_insert(drafts_by_ticket, &d->ticket_id, GUINT_TO_POINTER(GPOINTER_TO_UINT(n) + 1));
	}
	for (guint i = 0; i < tickets->len; i++) {
		store_ticket_t *t = g_ptr_array_index(tickets, i);
		gpointer n = g_hash_table_lookup(by_state, t->state);
		gint64 days;
		row_t row = {t, rank_of(t)};

		g_hash_table_insert(by_state, t->state, GUINT_TO_POINTER(GPOINTER_TO_UINT(n) + 1));
		if (lifecycle_state_open(t->state)) {
			open++;
			if (row.rank == 0 && web_days_left(r, t->due_at, &days) && days < 0)
				overdue++;
		}
		if (strcmp(state, "all") == 0 ? FALSE
		    : strcmp(state, "open") == 0 ? !lifecycle_state_open(t->state)
		                                 : strcmp(state, t->state) != 0)
			continue;
		if (type != NULL && !g_strv_contains((const char *const *)t->request_types, type))
			continue;
		if (!matches_search(t, q))
			continue;
		g_array_append_val(rows, row);
	}
	g_array_sort(rows, compare_rows);

	web_page_begin(r, L(r, "請求キュー", "Request queue"));
	web_html(r, "<p class=\"muted\">%s %u · %s <span class=\"%S\">%u</span></p>",
	         L(r, "対応中の請求", "Open requests:"), open, L(r, "期限超過", "overdue:"),
	         overdue ? "late" : "", overdue);
	/* State chips. */
	web_html(r, "<div class=\"chips\">");
	{
		g_autofree char *all_open = queue_link("open", type, q);
		g_autofree char *all = queue_link("all", type, q);
		web_html(r, "<a class=\"badge\" href=\"%s\">%s</a>", all_open, L(r, "未完了すべて", "all open"));
		for (const char *const *s = lifecycle_states; *s; s++) {
			guint n = GPOINTER_TO_UINT(g_hash_table_lookup(by_state, *s));
			g_autofree char *link = queue_link(*s, type, q);
			if (n == 0)
				continue;
			web_html(r, "<a class=\"badge %s\" href=\"%s\">%s %u</a>", *s, link,
			         web_state_label(r, *s), n);
		}
		web_html(r, "<a class=\"badge\" href=\"%s\">%s %u</a>", all, L(r, "すべて", "all"),
		         tickets->len);
	}
	web_html(r, "</div>");

	/* Filters (a GET form: the URL says what is shown). */
	web_html(r, "<form method=\"get\" action=\"/\" class=\"filters\"><label>%s <select name=\"state\">",
	         L(r, "状態", "State"));
	state_option(r, "open", L(r, "未完了すべて", "all open"), state);
	state_option(r, "all", L(r, "すべて", "all"), state);
	for (const char *const *s = lifecycle_states; *s; s++)
		state_option(r, *s, web_state_label(r, *s), state);
	web_html(r, "</select></label><label>%s <select name=\"type\"><option value=\"\">%s</option>",
	         L(r, "種別", "Type"), L(r, "すべて", "all"));
	for (const char *const *t = request_type_ids; *t; t++)
		state_option(r, *t, web_type_label(r, *t), type);
	web_html(r,
	         "</select></label><label>%s <input name=\"q\" type=\"search\" value=\"%s\" "
	         "placeholder=\"PRV-2026-000123 / user@example.jp\"></label>"
	         "<button type=\"submit\">%s</button></form>",
	         L(r, "検索（参照番号・アドレス・氏名）", "Search (reference, address, name)"), q ? q : "",
	         L(r, "表示", "Show"));

	if (rows->len == 0) {
		web_notice(r, "ok", L(r, "該当する請求はありません。", "No requests match."));
		return;
	}
	web_html(r, "<table class=\"queue\"><thead><tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th>"
	            "<th>%s</th><th>%s</th><th class=\"num\">%s</th><th class=\"num\">%s</th></tr>"
	            "</thead><tbody>",
	         L(r, "参照番号", "Reference"), L(r, "状態", "State"), L(r, "種別", "Types"),
	         L(r, "請求者", "Requester"), L(r, "受付", "Received"), L(r, "期限", "Due"),
	         L(r, "残り日数", "Days left"), L(r, "下書き", "Drafts"));
	for (guint i = 0; i < rows->len; i++) {
		row_t *row = &g_array_index(rows, row_t, i);
		store_ticket_t *t = row->ticket;
		g_autofree char *received = web_local_date(r, t->received_at ? t->received_at
		                                                              : t->created_at);
		g_autofree char *due = web_local_date(r, t->due_at);
		g_autoptr(GString) types = g_string_new(NULL);
		guint drafts = GPOINTER_TO_UINT(g_hash_table_lookup(drafts_by_ticket, &t->id));
		gint64 days = 0;
		gboolean has_days = row->rank == 0 && web_days_left(r, t->due_at, &days);
		const char *row_class = has_days && days < 0 ? "overdue" : has_days && days <= 3 ? "soon" : "";

		for (char **ty = t->request_types; ty && *ty; ty++)
			web_html_to(types, "%s%s", ty == t->request_types ? "" : "、", web_type_label(r, *ty));
		web_html(r, "<tr class=\"%s\"><td><a href=\"/tickets/%s\">%s</a></td>"
		            "<td><span class=\"badge %s\">%s</span>%S%s%S</td><td>%s</td>"
		            "<td>%s<br><span class=\"muted\">%s</span></td><td>%s</td><td>%s</td>",
		         row_class, t->ref, t->ref, t->state, web_state_label(r, t->state),
		         t->attention ? "<br><span class=\"flag\">⚑ " : "", t->attention,
		         t->attention ? "</span>" : "",
		         types->len ? types->str : L(r, "（未判定）", "(undecided)"),
		         t->requester_name ? t->requester_name : "", t->requester_address, received,
		         row->rank == 1 ? L(r, "停止中（請求者待ち）", "paused (waiting for the requester)")
		                        : due);
		if (has_days)
			web_html(r, "<td class=\"num%S\">%L</td>", days < 0 ? " late" : "", days);
		else
			web_html(r, "<td class=\"num\">–</td>");
		web_html(r, "<td class=\"num\">%S%u%S</td></tr>\n", drafts ? "<strong>" : "", drafts,
		         drafts ? "</strong>" : "");
	}
	web_html(r, "</tbody></table>");
}

void
web_page_drafts(web_request_t *r)
{
	const char *state = web_query(r, "state");
	static const char *const states[] = {"pending", "approved", "failed", "sent", "rejected", NULL};
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) drafts = NULL;

	if (state == NULL || !g_strv_contains(states, state))
		state = "pending";
	if ((drafts = store_draft_list(r->env->store, state, &error)) == NULL) {
		web_error_page(r, MHD_HTTP_SERVICE_UNAVAILABLE, error->message);
		return;
	}
	web_page_begin(r, L(r, "返信の下書き", "Drafted replies"));
	web_html(r, "<div class=\"chips\">");
	for (const char *const *s = states; *s; s++)
		web_html(r, "<a class=\"badge %s\" href=\"/drafts?state=%s\"%S>%s</a>", *s, *s,
		         strcmp(*s, state) == 0 ? " aria-current=\"page\"" : "",
		         web_draft_state_label(r, *s));
	web_html(r, "</div>");
	if (drafts->len == 0) {
		web_notice(r, "ok", L(r, "ありません。", "None."));
		return;
	}
	web_html(r, "<table><thead><tr><th>ID</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th>"
	            "<th>%s</th></tr></thead><tbody>",
	         L(r, "請求", "Ticket"), L(r, "種類", "Kind"), L(r, "件名", "Subject"),
	         L(r, "作成", "Created"), L(r, "状態", "State"));
	for (guint i = 0; i < drafts->len; i++) {
		store_draft_t *d = g_ptr_array_index(drafts, i);
		g_autofree char *created = web_local_time(r, d->created_at);
		web_html(r, "<tr><td><a href=\"/drafts/%L\">%L</a></td><td><a href=\"/tickets/%s\">%s</a>"
		            "</td><td>%s</td><td><a href=\"/drafts/%L\">%s</a>%S%s%S</td><td>%s</td>"
		            "<td><span class=\"badge %s\">%s</span></td></tr>\n",
		         d->id, d->id, d->ticket_ref, d->ticket_ref, d->kind, d->id, d->subject,
		         d->last_error ? "<br><span class=\"flag\">" : "", d->last_error,
		         d->last_error ? "</span>" : "", created, d->state,
		         web_draft_state_label(r, d->state));
	}
	web_html(r, "</tbody></table>");
}
