/* cmd_report.c — `report --month YYYY-MM [--json|--csv]` (definitions in
 * README.md, "Reports", and store/report.c). */
#include "cli/cli.h"

#include "common/request_type.h"

#include <stdio.h>
#include <string.h>

/* The month's bounds in the policy time zone, as stored (UTC). */
static gboolean
month_bounds(const char *month, GTimeZone *tz, char **since_out, char **until_out)
{
	g_autoptr(GDateTime) start = NULL;
	g_autoptr(GDateTime) end = NULL;
	g_autoptr(GDateTime) start_utc = NULL;
	g_autoptr(GDateTime) end_utc = NULL;
	int y, m;
	char extra;

	if (strlen(month) != 7 || sscanf(month, "%4d-%2d%c", &y, &m, &extra) != 2 ||
	    month[4] != '-' || y < 1970 || y > 9998 || m < 1 || m > 12)
		return FALSE;
	start = g_date_time_new(tz, y, m, 1, 0, 0, 0);
	if (start == NULL)
		return FALSE;
	end = g_date_time_add_months(start, 1);
	start_utc = g_date_time_to_utc(start);
	end_utc = g_date_time_to_utc(end);
	*since_out = g_date_time_format(start_utc, "%Y-%m-%dT%H:%M:%SZ");
	*until_out = g_date_time_format(end_utc, "%Y-%m-%dT%H:%M:%SZ");
	return TRUE;
}

static gint64
member_int(JsonObject *o, const char *section, const char *name)
{
	return json_object_get_int_member(json_object_get_object_member(o, section), name);
}

static char *
days_text(JsonObject *answer, const char *name)
{
	JsonNode *n = json_object_get_member(answer, name);

	if (n == NULL || JSON_NODE_HOLDS_NULL(n))
		return g_strdup("-");
	return g_strdup_printf("%.1f", json_node_get_double(n));
}

static void
print_text(JsonObject *r)
{
	JsonObject *requests = json_object_get_object_member(r, "requests");
	JsonArray *types = json_object_get_array_member(requests, "by_type");
	JsonObject *answer = json_object_get_object_member(r, "answer_time");
	JsonObject *overdue = json_object_get_object_member(r, "overdue");
	g_autofree char *median = days_text(answer, "median_days");
	g_autofree char *worst = days_text(answer, "worst_days");
	const char *worst_ref =
	    json_object_get_string_member_with_default(answer, "worst_ref", NULL);

	g_print("Privacy requests, %s\n\n", json_object_get_string_member(r, "month"));
	g_print("Requests received: %" G_GINT64_FORMAT "\n",
	        json_object_get_int_member(requests, "total"));
	for (guint i = 0; i < json_array_get_length(types); i++) {
		JsonObject *t = json_array_get_object_element(types, i);
		const char *type = json_object_get_string_member(t, "type");
		JsonObject *states = json_object_get_object_member(t, "states");
		g_autoptr(GList) names = json_object_get_members(states);
		g_autoptr(GString) line = g_string_new(NULL);

		for (GList *l = names; l; l = l->next)
			g_string_append_printf(line, "%s%s %" G_GINT64_FORMAT,
			                       line->len ? ", " : "", (const char *)l->data,
			                       json_object_get_int_member(states, l->data));
		g_print("  %-22s %4" G_GINT64_FORMAT "  (%s)\n", type,
		        json_object_get_int_member(t, "total"), line->str);
		if (request_type_is_valid(type))
			g_print("    %s\n", request_type_label(type, "ja"));
	}
	g_print("\nTime to answer (days from arrival):\n");
	g_print("  answered %" G_GINT64_FORMAT ", not yet %" G_GINT64_FORMAT "\n",
	        json_object_get_int_member(answer, "answered"),
	        json_object_get_int_member(answer, "unanswered"));
	g_print("  median %s, worst %s%s%s%s\n", median, worst, worst_ref ? " (" : "",
	        worst_ref ? worst_ref : "", worst_ref ? ")" : "");
	g_print("\nOverdue: %" G_GINT64_FORMAT " (answered late %" G_GINT64_FORMAT
	        ", open and past due %" G_GINT64_FORMAT "; due dates: %s)\n",
	        json_object_get_int_member(overdue, "total"),
	        json_object_get_int_member(overdue, "answered_late"),
	        json_object_get_int_member(overdue, "open_overdue"),
	        json_object_get_string_member(overdue, "due_dates"));
	g_print("\nFees this month: %" G_GINT64_FORMAT " paid (%" G_GINT64_FORMAT
	        " yen), %" G_GINT64_FORMAT " waived\n",
	        member_int(r, "fees", "paid"), member_int(r, "fees", "collected_yen"),
	        member_int(r, "fees", "waived"));
	g_print("Destroyed this month: %" G_GINT64_FORMAT " identity documents, %" G_GINT64_FORMAT
	        " raw messages\n",
	        member_int(r, "destroyed", "id_documents"),
	        member_int(r, "destroyed", "raw_messages"));
}

static void
csv_row(const char *metric, const char *type, const char *state, const char *value)
{
	/* Every field here is an identifier or a number: no quoting needed. */
	g_print("%s,%s,%s,%s\r\n", metric, type ? type : "", state ? state : "",
	        value ? value : "");
}

static void
csv_int(const char *metric, const char *type, const char *state, gint64 value)
{
	g_autofree char *text = g_strdup_printf("%" G_GINT64_FORMAT, value);

	csv_row(metric, type, state, text);
}

static void
print_csv(JsonObject *r)
{
	JsonObject *requests = json_object_get_object_member(r, "requests");
	JsonArray *types = json_object_get_array_member(requests, "by_type");
	JsonObject *answer = json_object_get_object_member(r, "answer_time");
	g_autofree char *median = days_text(answer, "median_days");
	g_autofree char *worst = days_text(answer, "worst_days");

	g_print("metric,request_type,state,value\r\n");
	csv_int("requests", NULL, NULL, json_object_get_int_member(requests, "total"));
	for (guint i = 0; i < json_array_get_length(types); i++) {
		JsonObject *t = json_array_get_object_element(types, i);
		const char *type = json_object_get_string_member(t, "type");
		JsonObject *states = json_object_get_object_member(t, "states");
		g_autoptr(GList) names = json_object_get_members(states);

		csv_int("requests", type, NULL, json_object_get_int_member(t, "total"));
		for (GList *l = names; l; l = l->next)
			csv_int("requests", type, l->data,
			        json_object_get_int_member(states, l->data));
	}
	csv_int("answered", NULL, NULL, json_object_get_int_member(answer, "answered"));
	csv_int("unanswered", NULL, NULL, json_object_get_int_member(answer, "unanswered"));
	csv_row("median_days_to_answer", NULL, NULL, strcmp(median, "-") ? median : NULL);
	csv_row("worst_days_to_answer", NULL, NULL, strcmp(worst, "-") ? worst : NULL);
	csv_row("worst_ref", NULL, NULL,
	        json_object_get_string_member_with_default(answer, "worst_ref", NULL));
	csv_int("overdue", NULL, NULL, member_int(r, "overdue", "total"));
	csv_int("overdue_answered_late", NULL, NULL, member_int(r, "overdue", "answered_late"));
	csv_int("overdue_open", NULL, NULL, member_int(r, "overdue", "open_overdue"));
	csv_int("fees_paid", NULL, NULL, member_int(r, "fees", "paid"));
	csv_int("fees_waived", NULL, NULL, member_int(r, "fees", "waived"));
	csv_int("fees_collected_yen", NULL, NULL, member_int(r, "fees", "collected_yen"));
	csv_int("id_documents_destroyed", NULL, NULL, member_int(r, "destroyed", "id_documents"));
	csv_int("raw_messages_destroyed", NULL, NULL, member_int(r, "destroyed", "raw_messages"));
}

int
cmd_report(cli_t *cli, int argc, char **argv)
{
	char *month = NULL;
	gboolean json = FALSE, csv = FALSE;
	const GOptionEntry entries[] = {
	    {"month", 0, 0, G_OPTION_ARG_STRING, &month, "the month (required)", "YYYY-MM"},
	    {"json", 0, 0, G_OPTION_ARG_NONE, &json, "print JSON", NULL},
	    {"csv", 0, 0, G_OPTION_ARG_NONE, &csv, "print CSV (metric,request_type,state,value)",
	     NULL},
	    G_OPTION_ENTRY_NULL,
	};
	g_autoptr(GError) error = NULL;
	g_autoptr(store_t) store = NULL;
	g_autoptr(JsonNode) report = NULL;
	g_autofree char *month_owned = NULL, *since = NULL, *until = NULL;
	const config_t *config;
	store_report_period_t period = {0};

	if (!cli_parse_options(
	        "report", "--month YYYY-MM [--json|--csv]",
	        "The month's requests (received in it, by type and state), time to "
	        "answer, overdue requests, fees paid, identity documents destroyed.  "
	        "Months are in [policy] timezone.",
	        entries, &argc, &argv))
		return EXIT_USAGE;
	month_owned = month;
	if (argc > 1)
		return cli_usage("report", "unexpected argument \"%s\"", argv[1]);
	if (month == NULL)
		return cli_usage("report", "--month YYYY-MM is required");
	if (json && csv)
		return cli_usage("report", "--json or --csv, not both");
	if ((config = cli_config(cli, &error)) == NULL)
		return cli_fail(error);
	if (!month_bounds(month, config->policy.timezone, &since, &until))
		return cli_usage("report", "--month \"%s\": expected YYYY-MM", month);
	period.label = month;
	period.since = since;
	period.until = until;
	period.default_due_days = config->policy.due_days;
	period.fee_yen = config->policy.fee_yen;
	if ((store = cli_open_store(cli, &error)) == NULL ||
	    (report = store_report(store, &period, &error)) == NULL)
		return cli_fail(error);
	if (json)
		cli_print_json(report, FALSE);
	else if (csv)
		print_csv(json_node_get_object(report));
	else
		print_text(json_node_get_object(report));
	return EXIT_OK;
}
