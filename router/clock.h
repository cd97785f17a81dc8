/* clock.h — the statutory clock of a ticket (pure: no I/O, no "now").
 *
 * A request is due `days` days after the day it reached us (the day of
 * receipt is not counted, as Japanese law counts periods), at the end of that
 * day in the policy's time zone; with business days, Saturdays, Sundays and
 * the holidays given (config_parse_holidays) are skipped.  The clock stops while the ticket waits for
 * the requester (awaiting_id, awaiting_fee): the time paused moves the due
 * date.  The two-week mark of the law (the requester may sue two weeks after
 * the request arrived) is start + 14 calendar days and never moves.
 */
#pragma once

#include <glib.h>

typedef struct {
	guint days;
	gboolean business_days;
	GHashTable *holidays; /* "YYYY-MM-DD" → anything; may be NULL; borrowed */
	GTimeZone *timezone;  /* borrowed */
} clock_policy_t;

/* The due instant of a request received at START after PAUSED_SECONDS of
 * pauses.  Caller unrefs. */
GDateTime *clock_due(const clock_policy_t *policy, GDateTime *start, gint64 paused_seconds);

/* The end of the 14th calendar day after START (the legal two-week mark). */
GDateTime *clock_legal_mark(const clock_policy_t *policy, GDateTime *start);

/* Is DAY (local date in the policy's zone) a business day? */
gboolean clock_is_business_day(const clock_policy_t *policy, GDateTime *day);
