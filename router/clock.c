/* clock.c — due dates (see clock.h). */
#include "router/clock.h"

#include "common/common.h"


gboolean
clock_is_business_day(const clock_policy_t *policy, GDateTime *day)
{
	g_autoptr(GDateTime) local = g_date_time_to_timezone(day, policy->timezone);
	g_autofree char *key = g_date_time_format(local, "%Y-%m-%d");
	int weekday = g_date_time_get_day_of_week(local); /* 1 = Monday … 7 = Sunday */

	if (weekday >= 6)
		return FALSE;
	return policy->holidays == NULL || !g_hash_table_contains(policy->holidays, key);
}

/* The last second of the local day that holds T. */
static GDateTime *
end_of_day(const clock_policy_t *policy, GDateTime *t)
{
	g_autoptr(GDateTime) local = g_date_time_to_timezone(t, policy->timezone);

	return g_date_time_new(policy->timezone, g_date_time_get_year(local),
	                       g_date_time_get_month(local), g_date_time_get_day_of_month(local),
	                       23, 59, 59);
}

GDateTime *
clock_due(const clock_policy_t *policy, GDateTime *start, gint64 paused_seconds)
{
	g_autoptr(GDateTime) effective = g_date_time_add_seconds(start, (gdouble)MAX(paused_seconds, 0));
	g_autoptr(GDateTime) day = g_date_time_to_timezone(effective, policy->timezone);
	guint counted = 0;

	if (!policy->business_days) {
		g_autoptr(GDateTime) due_day = g_date_time_add_days(day, (gint)policy->days);
		return end_of_day(policy, due_day);
	}
	/* Count business days after the day of receipt (never loops forever:
	 * every week has weekdays unless someone lists years of holidays, and
	 * then we still stop after ten years). */
	for (guint step = 0; counted < policy->days && step < 3660; step++) {
		GDateTime *next = g_date_time_add_days(day, 1);
		g_date_time_unref(day);
		day = next;
		if (clock_is_business_day(policy, day))
			counted++;
	}
	return end_of_day(policy, day);
}

GDateTime *
clock_legal_mark(const clock_policy_t *policy, GDateTime *start)
{
	g_autoptr(GDateTime) day = g_date_time_add_days(start, 14);

	return end_of_day(policy, day);
}
