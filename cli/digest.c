/* digest.c — see digest.h. */
#include "cli/digest.h"

#include "common/request_type.h"
#include "router/lifecycle.h"
#include "sender/sender.h"

#include <string.h>

/* How far ahead "due soon" looks. */
#define DUE_SOON_DAYS 3

static char *
local_date(const config_t *config, const char *iso, const char *lang)
{
	static const char *const months[] = {"January", "February", "March",     "April",
	                                     "May",     "June",     "July",      "August",
	                                     "September", "October", "November", "December"};
	g_autoptr(GDateTime) t = iso ? g_date_time_new_from_iso8601(iso, NULL) : NULL;
	g_autoptr(GDateTime) local = NULL;

	if (t == NULL)
		return g_strdup("-");
	local = g_date_time_to_timezone(t, config->policy.timezone);
	if (g_strcmp0(lang, "en") == 0)
		return g_strdup_printf("%d %s %d", g_date_time_get_day_of_month(local),
		                       months[g_date_time_get_month(local) - 1],
		                       g_date_time_get_year(local));
	return g_strdup_printf("%d年%d月%d日", g_date_time_get_year(local),
	                       g_date_time_get_month(local), g_date_time_get_day_of_month(local));
}

/* Whole local days from NOW to ISO (negative when past). */
static gint64
days_until(const config_t *config, GDateTime *now, const char *iso)
{
	g_autoptr(GDateTime) t = g_date_time_new_from_iso8601(iso, NULL);
	g_autoptr(GDateTime) a = g_date_time_to_timezone(now, config->policy.timezone);
	g_autoptr(GDateTime) b = NULL;
	GDate da, db;

	if (t == NULL)
		return 0;
	b = g_date_time_to_timezone(t, config->policy.timezone);
	g_date_set_dmy(&da, (GDateDay)g_date_time_get_day_of_month(a),
	               (GDateMonth)g_date_time_get_month(a), (GDateYear)g_date_time_get_year(a));
	g_date_set_dmy(&db, (GDateDay)g_date_time_get_day_of_month(b),
	               (GDateMonth)g_date_time_get_month(b), (GDateYear)g_date_time_get_year(b));
	return g_date_days_between(&da, &db);
}

static void
add_ticket(const config_t *config, JsonBuilder *b, const store_ticket_t *t, gint64 days,
           const char *lang)
{
	g_autofree char *due = local_date(config, t->due_at, lang);
	const char *type = t->request_types && t->request_types[0] ? t->request_types[0] : NULL;

	json_builder_begin_object(b);
	pi_json_add_string(b, "reference", t->ref);
	pi_json_add_string(b, "state", t->state);
	pi_json_add_string(b, "request_type", type ? request_type_label(type, lang) : "-");
	pi_json_add_string(b, "requester_address", t->requester_address);
	pi_json_add_string(b, "due_date", due);
	json_builder_set_member_name(b, "days");
	json_builder_add_int_value(b, days);
	json_builder_end_object(b);
}

JsonNode *
digest_context(const config_t *config, store_t *store, const char *lang, GError **error)
{
	g_autoptr(GDateTime) now = pi_now();
	g_autoptr(GDateTime) soon = g_date_time_add_days(now, DUE_SOON_DAYS);
	g_autofree char *now_iso = pi_iso8601(now);
	g_autofree char *soon_iso = pi_iso8601(soon);
	g_autoptr(GPtrArray) due = store_ticket_list_due(store, soon_iso, error);
	g_autoptr(GPtrArray) all = due ? store_ticket_list(store, NULL, error) : NULL;
	g_autoptr(JsonBuilder) b = json_builder_new();
	gint64 pending = all ? store_draft_count_pending(store, error) : -1;
	guint overdue = 0, due_soon = 0, open = 0, triage = 0;
	JsonNode *root;

	if (pending < 0)
		return NULL;
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "tickets_overdue");
	json_builder_begin_array(b);
	for (guint i = 0; i < due->len; i++) {
		store_ticket_t *t = g_ptr_array_index(due, i);
		if (strcmp(t->due_at, now_iso) < 0) {
			add_ticket(config, b, t, -days_until(config, now, t->due_at), lang);
			overdue++;
		}
	}
	json_builder_end_array(b);
	json_builder_set_member_name(b, "tickets_due_soon");
	json_builder_begin_array(b);
	for (guint i = 0; i < due->len; i++) {
		store_ticket_t *t = g_ptr_array_index(due, i);
		if (strcmp(t->due_at, now_iso) >= 0) {
			add_ticket(config, b, t, days_until(config, now, t->due_at), lang);
			due_soon++;
		}
	}
	json_builder_end_array(b);
	json_builder_set_member_name(b, "tickets_attention");
	json_builder_begin_array(b);
	for (guint i = 0; i < all->len; i++) {
		store_ticket_t *t = g_ptr_array_index(all, i);
		if (!lifecycle_state_open(t->state))
			continue;
		open++;
		triage += strcmp(t->state, "triage") == 0;
		if (t->attention == NULL)
			continue;
		json_builder_begin_object(b);
		pi_json_add_string(b, "reference", t->ref);
		pi_json_add_string(b, "attention", t->attention);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
#define COUNT(name, value)                                                                     \
	do {                                                                                   \
		json_builder_set_member_name(b, name);                                         \
		json_builder_add_int_value(b, value);                                          \
	} while (0)
	COUNT("overdue_count", overdue);
	COUNT("due_soon_count", due_soon);
	COUNT("open_count", open);
	COUNT("pending_drafts", pending);
	COUNT("triage_count", triage);
#undef COUNT
	json_builder_end_object(b);
	root = json_builder_get_root(b);
	router_context_set_config(config, lang, root);
	return root;
}

gboolean
digest_send(pipeline_t *p, const config_t *config, GError **error)
{
	const char *lang = "ja"; /* the privacy office reads Japanese */
	g_autoptr(JsonNode) context = NULL;
	g_autoptr(catalogue_rendering_t) r = NULL;
	g_autoptr(GMimeMessage) message = NULL;
	g_autofree char *message_id = NULL;
	g_autoptr(GDateTime) utc = pi_now();
	g_autoptr(GDateTime) now = g_date_time_to_timezone(utc, config->policy.timezone);
	sender_mail_t mail = {0};

	if (config->policy.staff_address == NULL) {
		g_set_error(error, CONFIG_ERROR, PI_ERROR_FATAL,
		            "[policy] staff_address is not set: nobody to send the digest to");
		return FALSE;
	}
	if ((context = digest_context(config, pipeline_store(p), lang, error)) == NULL ||
	    (r = catalogue_render(pipeline_catalogue(p), "digest", lang, context, error)) == NULL)
		return FALSE;
	message_id = sender_new_message_id(config->smtp.from);
	mail.to_address = config->policy.staff_address;
	mail.subject = r->subject;
	mail.body = r->body;
	mail.message_id = message_id;
	mail.auto_submitted = TRUE; /* generated: never to be auto-answered */
	mail.date = now;
	if ((message = sender_build(&config->smtp, &mail, error)) == NULL ||
	    !pipeline_send_message(p, message, config->policy.staff_address, error))
		return FALSE;
	return store_audit(pipeline_store(p), "privacy-inbox", "digest sent", NULL,
	                   config->policy.staff_address, error);
}

gboolean
digest_send_if_due(pipeline_t *p, const config_t *config, GError **error)
{
	g_autoptr(GDateTime) utc = pi_now();
	g_autoptr(GDateTime) now = g_date_time_to_timezone(utc, config->policy.timezone);
	g_autofree char *day = g_date_time_format(now, "%Y-%m-%d");
	gboolean sent = FALSE;

	if (config->policy.staff_address == NULL || config->smtp.url == NULL ||
	    (guint)g_date_time_get_hour(now) < config->policy.digest_hour)
		return TRUE;
	if (!store_digest_sent(pipeline_store(p), day, &sent, error))
		return FALSE;
	if (sent)
		return TRUE;
	if (!digest_send(p, config, error))
		return FALSE;
	g_message("daily digest for %s sent to %s", day, config->policy.staff_address);
	return store_digest_mark(pipeline_store(p), day, error);
}
