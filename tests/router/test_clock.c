/* test_clock.c — due dates, pauses, business days, holidays, the legal mark. */
#include "router/clock.h"

#include "common/config.h"

typedef struct {
	const char *start;   /* ISO 8601 */
	guint days;
	gboolean business;
	const char *holidays; /* file text */
	gint64 paused;       /* seconds */
	const char *due;     /* expected, in +09:00 */
} due_row_t;

static const due_row_t rows[] = {
	/* 14 calendar days, the day of receipt not counted, end of day JST. */
	{"2026-11-27T10:00:00+09:00", 14, FALSE, NULL, 0, "2026-12-11T23:59:59+09:00"},
	/* 16:00 UTC is already the next day in Tokyo. */
	{"2026-11-27T16:00:00Z", 14, FALSE, NULL, 0, "2026-12-12T23:59:59+09:00"},
	{"2026-11-27T14:59:59Z", 14, FALSE, NULL, 0, "2026-12-11T23:59:59+09:00"},
	/* Three days waiting for the requester move the date by three days. */
	{"2026-11-27T10:00:00+09:00", 14, FALSE, NULL, 3 * 86400, "2026-12-14T23:59:59+09:00"},
	/* Across the year end. */
	{"2026-12-25T09:00:00+09:00", 14, FALSE, NULL, 0, "2027-01-08T23:59:59+09:00"},
	/* 10 business days from Friday 27 November: 30 Nov … 11 Dec. */
	{"2026-11-27T10:00:00+09:00", 10, TRUE, NULL, 0, "2026-12-11T23:59:59+09:00"},
	/* A holiday inside the period adds a day; one on a Saturday does not. */
	{"2026-11-27T10:00:00+09:00", 10, TRUE, "2026-12-02 臨時休業\n2026-12-05\n", 0,
	 "2026-12-14T23:59:59+09:00"},
	/* Received on a Saturday: counting starts on Monday. */
	{"2026-11-28T10:00:00+09:00", 1, TRUE, NULL, 0, "2026-11-30T23:59:59+09:00"},
	/* The year-end holidays many Japanese companies close for. */
	{"2026-12-28T10:00:00+09:00", 3, TRUE, "# 年末年始\n2026-12-29\n2026-12-30\n2026-12-31\n"
	                                      "2027-01-01 元日\n2027-01-02\n2027-01-03\n",
	 0, "2027-01-06T23:59:59+09:00"},
};

static void
run_row(gconstpointer data)
{
	const due_row_t *row = data;
	g_autoptr(GTimeZone) tz = g_time_zone_new_identifier("Asia/Tokyo");
	g_autoptr(GHashTable) holidays = NULL;
	g_autoptr(GDateTime) start = g_date_time_new_from_iso8601(row->start, NULL);
	g_autoptr(GDateTime) want = g_date_time_new_from_iso8601(row->due, NULL);
	g_autoptr(GDateTime) due = NULL;
	clock_policy_t policy = {row->days, row->business, NULL, tz};

	if (row->holidays != NULL) {
		g_autoptr(GError) error = NULL;
		holidays = config_parse_holidays(row->holidays, &error);
		g_assert_no_error(error);
		policy.holidays = holidays;
	}
	due = clock_due(&policy, start, row->paused);
	if (!g_date_time_equal(due, want)) {
		g_autofree char *got = g_date_time_format_iso8601(due);
		g_error("%s + %u%s → %s, expected %s", row->start, row->days,
		        row->business ? " business days" : " days", got, row->due);
	}
}

static void
test_legal_mark(void)
{
	g_autoptr(GTimeZone) tz = g_time_zone_new_identifier("Asia/Tokyo");
	g_autoptr(GDateTime) start = g_date_time_new_from_iso8601("2026-11-27T10:00:00+09:00", NULL);
	g_autoptr(GDateTime) want = g_date_time_new_from_iso8601("2026-12-11T23:59:59+09:00", NULL);
	clock_policy_t policy = {30, TRUE, NULL, tz};
	g_autoptr(GDateTime) mark = clock_legal_mark(&policy, start);

	/* The statutory mark ignores the policy's allowance and business days. */
	g_assert_true(g_date_time_equal(mark, want));
}

static void
test_holiday_file_errors(void)
{
	static const char *const bad[] = {"2026-13-01\n", "2026/12/01\n", "tomorrow\n",
	                                  "2026-12-01x\n", "2026-02-30\n"};

	for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GHashTable) days = config_parse_holidays(bad[i], &error);
		g_assert_null(days);
		g_assert_nonnull(error);
		g_assert_true(g_str_has_prefix(error->message, "1: "));
	}
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(GHashTable) days =
		    config_parse_holidays("# comment\n\n 2027-01-01 元日\n2027-01-02\t振替\n", &error);
		g_assert_no_error(error);
		g_assert_cmpuint(g_hash_table_size(days), ==, 2);
		g_assert_true(g_hash_table_contains(days, "2027-01-01"));
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
		g_autofree char *name = g_strdup_printf("/clock/due/%zu", i);
		g_test_add_data_func(name, &rows[i], run_row);
	}
	g_test_add_func("/clock/legal-mark", test_legal_mark);
	g_test_add_func("/clock/holiday-file-errors", test_holiday_file_errors);
	return g_test_run();
}
