/* report.c — the monthly report (`privacy-inbox report --month YYYY-MM`).
 *
 * Cohort: the requests received in the period (tickets whose received_at,
 * or created_at for tickets without it, falls in [since, until)).  For them:
 * counts by primary request type and current state; time to answer; overdue.
 * Events in the period, whatever ticket they belong to: fees paid and waived,
 * identity documents and raw messages destroyed.
 *
 * "Answered": the ticket's first state change to answered or rejected (a
 * refusal is the answer the law asks for too); for a ticket without such a
 * change, the first reply actually sent whose kind answers the request
 * (ANSWER_KINDS).  Time to answer = answered - received.
 *
 * Overdue: answered after its due date, or not answered, not closed and past
 * it now.  The due date is the ticket's own (due_at: the clock with its
 * pauses) when it has one; else received + default_due_days calendar days.
 */
#include "store/store-private.h"

#include <string.h>

/* Reply kinds that answer a request (templates/kinds.c). */
#define ANSWER_KINDS                                                                               \
	"'disclosure_result', 'no_data', 'correction_done', 'stop_use_done',"                      \
	" 'stop_third_party_done', 'refusal', 'inquiry_answer'"

typedef struct {
	char *ref;
	gdouble days;
} answer_t;

static gint
compare_days(gconstpointer a, gconstpointer b)
{
	gdouble x = ((const answer_t *)a)->days, y = ((const answer_t *)b)->days;

	return x < y ? -1 : x > y ? 1 : 0;
}

static gint
compare_names(gconstpointer a, gconstpointer b, gpointer data)
{
	(void)data;
	return strcmp(a, b);
}

static GDateTime *
parse_time(const char *text)
{
	return text ? g_date_time_new_from_iso8601(text, NULL) : NULL;
}

static gboolean
has_column(store_t *store, const char *table, const char *column, gboolean *out, GError **error)
{
	g_autofree char *sql = g_strdup_printf("SELECT count(*) FROM pragma_table_info('%s')"
	                                       " WHERE name = ?",
	                                       table);
	g_autoptr(store_stmt_t) stmt = store_prepare(store, sql, error);

	if (stmt == NULL)
		return FALSE;
	store_bind_text(stmt, 1, column);
	if (sqlite3_step(stmt) != SQLITE_ROW) {
		store_set_error(store, error, "reading the schema");
		return FALSE;
	}
	*out = sqlite3_column_int(stmt, 0) > 0;
	return TRUE;
}

static gint64
count_between(store_t *store, const char *sql, const store_report_period_t *period, GError **error)
{
	g_autoptr(store_stmt_t) stmt = store_prepare(store, sql, error);

	if (stmt == NULL)
		return -1;
	store_bind_text(stmt, 1, period->since);
	store_bind_text(stmt, 2, period->until);
	if (sqlite3_step(stmt) != SQLITE_ROW) {
		store_set_error(store, error, "counting for the report");
		return -1;
	}
	return sqlite3_column_int64(stmt, 0);
}

static void
add_int(JsonBuilder *b, const char *name, gint64 value)
{
	json_builder_set_member_name(b, name);
	json_builder_add_int_value(b, value);
}

static void
add_days(JsonBuilder *b, const char *name, gdouble days, gboolean known)
{
	json_builder_set_member_name(b, name);
	if (known)
		json_builder_add_double_value(
		    b, (gdouble)(gint64)(days * 10.0 + (days >= 0 ? 0.5 : -0.5)) / 10.0);
	else
		json_builder_add_null_value(b);
}

JsonNode *
store_report(store_t *store, const store_report_period_t *period, GError **error)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autoptr(store_stmt_t) stmt = NULL;
	g_autoptr(GTree) types =
	    g_tree_new_full(compare_names, NULL, g_free, (GDestroyNotify)g_hash_table_unref);
	g_autoptr(GArray) answers = g_array_new(FALSE, FALSE, sizeof(answer_t));
	g_autoptr(GDateTime) now = pi_now();
	g_autofree char *sql = NULL;
	gboolean with_due = FALSE;
	gint64 total = 0, unanswered = 0, late = 0, open_overdue = 0;
	gint64 paid, waived, documents, messages;
	int rc;

	if (!has_column(store, "tickets", "due_at", &with_due, error))
		return NULL;
	/* One read snapshot for the whole report. */
	if (!store->in_transaction &&
	    sqlite3_exec(store->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		store_set_error(store, error, "reading for the report");
		return NULL;
	}
	sql = g_strdup_printf(
	    "SELECT t.ref, t.state, coalesce(json_extract(t.request_types, '$[0]'), '(none)'),"
	    " %s AS received, %s,"
	    " (SELECT min(e.at) FROM ticket_events e WHERE e.ticket_id = t.id AND e.kind = 'state'"
	    "  AND (e.detail LIKE 'answered%%' OR e.detail LIKE 'rejected%%')),"
	    " (SELECT min(d.sent_at) FROM drafts d WHERE d.ticket_id = t.id AND d.state = 'sent'"
	    "  AND d.kind IN (" ANSWER_KINDS "))"
	    " FROM tickets t WHERE %s >= ?1 AND %s < ?2 ORDER BY t.id",
	    with_due ? "coalesce(t.received_at, t.created_at)" : "t.created_at",
	    with_due ? "t.due_at" : "NULL",
	    with_due ? "coalesce(t.received_at, t.created_at)" : "t.created_at",
	    with_due ? "coalesce(t.received_at, t.created_at)" : "t.created_at");
	stmt = store_prepare(store, sql, error);
	if (stmt == NULL)
		goto fail;
	store_bind_text(stmt, 1, period->since);
	store_bind_text(stmt, 2, period->until);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *ref = (const char *)sqlite3_column_text(stmt, 0);
		const char *state = (const char *)sqlite3_column_text(stmt, 1);
		const char *type = (const char *)sqlite3_column_text(stmt, 2);
		const char *answered_text = (const char *)sqlite3_column_text(stmt, 5);
		g_autoptr(GDateTime) received =
		    parse_time((const char *)sqlite3_column_text(stmt, 3));
		g_autoptr(GDateTime) due = parse_time((const char *)sqlite3_column_text(stmt, 4));
		g_autoptr(GDateTime) answered = NULL;
		GHashTable *states = g_tree_lookup(types, type);

		if (answered_text == NULL)
			answered_text = (const char *)sqlite3_column_text(stmt, 6);
		answered = parse_time(answered_text);
		total++;
		if (states == NULL) {
			states = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
			g_tree_insert(types, g_strdup(type), states);
		}
		g_hash_table_insert(
		    states, g_strdup(state),
		    GINT_TO_POINTER(GPOINTER_TO_INT(g_hash_table_lookup(states, state)) + 1));
		if (received == NULL)
			continue;
		if (due == NULL)
			due = g_date_time_add_days(received, (gint)period->default_due_days);
		if (answered != NULL) {
			answer_t a = {g_strdup(ref),
			              (gdouble)g_date_time_difference(answered, received) /
			                  (gdouble)G_TIME_SPAN_DAY};
			g_array_append_val(answers, a);
			if (g_date_time_compare(answered, due) > 0)
				late++;
		} else {
			unanswered++;
			if (strcmp(state, "closed") != 0 && g_date_time_compare(now, due) > 0)
				open_overdue++;
		}
	}
	if (rc != SQLITE_DONE) {
		store_set_error(store, error, "reading tickets for the report");
		goto fail;
	}
	paid = count_between(store,
	                     "SELECT count(*) FROM ticket_events WHERE kind = 'fee'"
	                     " AND detail LIKE 'paid%' AND at >= ?1 AND at < ?2",
	                     period, error);
	waived = count_between(store,
	                       "SELECT count(*) FROM ticket_events WHERE kind = 'fee'"
	                       " AND detail LIKE 'waived%' AND at >= ?1 AND at < ?2",
	                       period, error);
	documents = count_between(store,
	                          "SELECT count(*) FROM attachments WHERE destroyed_at >= ?1"
	                          " AND destroyed_at < ?2",
	                          period, error);
	messages = count_between(store,
	                         "SELECT count(*) FROM messages WHERE purged_at >= ?1"
	                         " AND purged_at < ?2",
	                         period, error);
	sqlite3_reset(stmt);
	if (paid < 0 || waived < 0 || documents < 0 || messages < 0)
		goto fail;
	if (!store->in_transaction)
		sqlite3_exec(store->db, "COMMIT", NULL, NULL, NULL);

	g_array_sort(answers, compare_days);
	json_builder_begin_object(b);
	pi_json_add_string(b, "month", period->label);
	pi_json_add_string(b, "since", period->since);
	pi_json_add_string(b, "until", period->until);

	json_builder_set_member_name(b, "requests");
	json_builder_begin_object(b);
	add_int(b, "total", total);
	json_builder_set_member_name(b, "by_type");
	json_builder_begin_array(b);
	{
		GTreeNode *node = g_tree_node_first(types);
		for (; node != NULL; node = g_tree_node_next(node)) {
			const char *type = g_tree_node_key(node);
			GHashTable *states = g_tree_node_value(node);
			g_autoptr(GList) names =
			    g_list_sort(g_hash_table_get_keys(states), (GCompareFunc)strcmp);
			gint64 sum = 0;

			json_builder_begin_object(b);
			pi_json_add_string(b, "type", type);
			json_builder_set_member_name(b, "states");
			json_builder_begin_object(b);
			for (GList *l = names; l; l = l->next) {
				gint n = GPOINTER_TO_INT(g_hash_table_lookup(states, l->data));
				add_int(b, l->data, n);
				sum += n;
			}
			json_builder_end_object(b);
			add_int(b, "total", sum);
			json_builder_end_object(b);
		}
	}
	json_builder_end_array(b);
	json_builder_end_object(b);

	json_builder_set_member_name(b, "answer_time");
	json_builder_begin_object(b);
	add_int(b, "answered", answers->len);
	add_int(b, "unanswered", unanswered);
	{
		guint n = answers->len;
		gdouble median = 0;
		if (n > 0)
			median = n % 2 ? g_array_index(answers, answer_t, n / 2).days
			               : (g_array_index(answers, answer_t, n / 2 - 1).days +
			                  g_array_index(answers, answer_t, n / 2).days) /
			                     2.0;
		add_days(b, "median_days", median, n > 0);
		add_days(b, "worst_days", n ? g_array_index(answers, answer_t, n - 1).days : 0,
		         n > 0);
		pi_json_add_string(b, "worst_ref",
		                   n ? g_array_index(answers, answer_t, n - 1).ref : NULL);
	}
	json_builder_end_object(b);

	json_builder_set_member_name(b, "overdue");
	json_builder_begin_object(b);
	add_int(b, "total", late + open_overdue);
	add_int(b, "answered_late", late);
	add_int(b, "open_overdue", open_overdue);
	pi_json_add_string(b, "due_dates",
	                   with_due ? "ticket due_at (received + default when unset)"
	                            : "received + default_due_days");
	add_int(b, "default_due_days", period->default_due_days);
	json_builder_end_object(b);

	json_builder_set_member_name(b, "fees");
	json_builder_begin_object(b);
	add_int(b, "paid", paid);
	add_int(b, "waived", waived);
	add_int(b, "collected_yen", paid * (gint64)period->fee_yen);
	json_builder_end_object(b);

	json_builder_set_member_name(b, "destroyed");
	json_builder_begin_object(b);
	add_int(b, "id_documents", documents);
	add_int(b, "raw_messages", messages);
	json_builder_end_object(b);
	json_builder_end_object(b);
	for (guint i = 0; i < answers->len; i++)
		g_free(g_array_index(answers, answer_t, i).ref);
	return json_builder_get_root(b);
fail:
	if (stmt != NULL)
		sqlite3_reset(stmt);
	if (!store->in_transaction)
		sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
	for (guint i = 0; i < answers->len; i++)
		g_free(g_array_index(answers, answer_t, i).ref);
	return NULL;
}
