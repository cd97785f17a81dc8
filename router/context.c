/* context.c — the variables a reply is rendered with (templates/kinds.c
 * lists them; keep the two in step). */
#include "router/router.h"

#include "common/request_type.h"

#include <string.h>

/* "2026年11月27日" for Japanese, "27 November 2026" for English, in the
 * policy's time zone. */
static char *
format_date(const config_t *config, GDateTime *when, const char *lang)
{
	static const char *const months[] = {"January", "February", "March",     "April",
	                                     "May",     "June",     "July",      "August",
	                                     "September", "October", "November", "December"};
	g_autoptr(GDateTime) local = g_date_time_to_timezone(when, config->policy.timezone);

	/* Not %B: the month's name must not depend on the daemon's locale. */
	if (g_strcmp0(lang, "en") == 0)
		return g_strdup_printf("%d %s %d", g_date_time_get_day_of_month(local),
		                       months[g_date_time_get_month(local) - 1],
		                       g_date_time_get_year(local));
	return g_strdup_printf("%d年%d月%d日", g_date_time_get_year(local),
	                       g_date_time_get_month(local), g_date_time_get_day_of_month(local));
}

/* 1000 → "1,000" */
static char *
format_yen(guint amount)
{
	g_autofree char *digits = g_strdup_printf("%u", amount);
	GString *out = g_string_new(NULL);
	gsize len = strlen(digits);

	for (gsize i = 0; i < len; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			g_string_append_c(out, ',');
		g_string_append_c(out, digits[i]);
	}
	return g_string_free(out, FALSE);
}

/* Empty strings become null, so a template's {{#x}} section and the
 * missing-variable check treat "" and absent alike. */
static void
set_string(JsonBuilder *b, const char *name, const char *value)
{
	pi_json_add_string(b, name, value != NULL && *value != '\0' ? value : NULL);
}

JsonNode *
router_reply_context(const config_t *config, const store_ticket_t *ticket,
                     const parser_request_t *request, GDateTime *received)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autoptr(GDateTime) now = pi_now();
	const char *lang = ticket->language ? ticket->language : "ja";
	g_autofree char *today = format_date(config, now, lang);
	g_autofree char *received_date = format_date(config, received ? received : now, lang);
	g_autofree char *fee = format_yen(config->policy.fee_yen);
	const char *primary = ticket->request_types ? ticket->request_types[0] : NULL;
	gboolean fee_required = FALSE;
	gboolean id_required = FALSE;

	json_builder_begin_object(b);
	set_string(b, "reference", ticket->ref);
	set_string(b, "requester_name", ticket->requester_name);
	set_string(b, "requester_address", ticket->requester_address);
	set_string(b, "language", lang);
	set_string(b, "today", today);
	set_string(b, "org_name", config_org_name(config, lang));
	set_string(b, "org_contact", config_org_contact(config, lang));
	set_string(b, "org_address", config_org_address(config, lang));
	set_string(b, "request_type", primary ? request_type_label(primary, lang) : NULL);
	set_string(b, "request_type_id", primary);
	json_builder_set_member_name(b, "request_types");
	json_builder_begin_array(b);
	for (char **t = ticket->request_types; t && *t; t++) {
		json_builder_begin_object(b);
		set_string(b, "id", *t);
		set_string(b, "label", request_type_label(*t, lang));
		json_builder_end_object(b);
		fee_required |= config_type_has_fee(config, *t);
		id_required |= strcmp(*t, "inquiry") != 0;
	}
	json_builder_end_array(b);
	set_string(b, "received_date", received_date);
	json_builder_set_member_name(b, "fee_required");
	json_builder_add_boolean_value(b, fee_required);
	set_string(b, "fee_yen", fee);
	json_builder_set_member_name(b, "id_required");
	json_builder_add_boolean_value(b, id_required);
	json_builder_set_member_name(b, "id_document_count");
	json_builder_add_int_value(b, request ? request->id_document_count : 0);
	json_builder_end_object(b);
	return json_builder_get_root(b);
}
