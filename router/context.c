/* context.c — the variables a reply is rendered with (templates/kinds.c
 * lists them; keep the two in step). */
#include "router/router-internal.h"

#include "common/request_type.h"

#include <string.h>

/* "2026年11月27日" for Japanese, "27 November 2026" for English, in the
 * policy's time zone. */
char *
router_format_date(const config_t *config, GDateTime *when, const char *lang)
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

/* Empty (or blank) strings become null, so a template's {{#x}} section and
 * the missing-variable check treat "" and absent alike. */
static void
set_string(JsonBuilder *b, const char *name, const char *value)
{
	g_autofree char *trimmed = g_strstrip(g_strdup(value != NULL ? value : ""));

	pi_json_add_string(b, name, *trimmed != '\0' ? trimmed : NULL);
}

/* A value that came from a mail header (a name, an address): no CR, LF or
 * other control character survives into a reply, whether a template puts
 * it into the subject or the body. */
static void
set_header_value(JsonBuilder *b, const char *name, const char *value)
{
	g_autofree char *clean = value != NULL ? pi_header_sanitize(value) : NULL;

	set_string(b, name, clean);
}

static void
set_flag(JsonBuilder *b, const char *name, gboolean value)
{
	json_builder_set_member_name(b, name);
	json_builder_add_boolean_value(b, value);
}

void
router_context_set_config(const config_t *config, const char *lang, JsonNode *context)
{
	JsonObject *o = json_node_get_object(context);
	g_autoptr(GDateTime) now = pi_now();
	g_autofree char *today = router_format_date(config, now, lang);
	g_autofree char *fee = format_yen(config->policy.fee_yen);
	const struct {
		const char *name, *value;
	} values[] = {
		{"today", today},
		{"org_name", config_org_name(config, lang)},
		{"org_contact", config_org_contact(config, lang)},
		{"org_address", config_org_address(config, lang)},
		{"fee_yen", fee},
		{"fee_bank_account", config_org_fee_bank_account(config, lang)},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(values); i++) {
		g_autofree char *v = g_strstrip(g_strdup(values[i].value ? values[i].value : ""));

		if (*v != '\0')
			json_object_set_string_member(o, values[i].name, v);
		else
			json_object_set_null_member(o, values[i].name);
	}
}

JsonNode *
router_reply_context(const config_t *config, const store_ticket_t *ticket,
                     const parser_request_t *request, GDateTime *received)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autoptr(GDateTime) now = pi_now();
	const char *lang = ticket->language ? ticket->language : "ja";
	g_autoptr(GDateTime) arrived = received ? g_date_time_ref(received)
	                               : ticket->received_at
	                                   ? g_date_time_new_from_iso8601(ticket->received_at, NULL)
	                                   : NULL;
	g_autofree char *received_date = router_format_date(config, arrived ? arrived : now, lang);
	g_autoptr(GDateTime) due = ticket->due_at ? g_date_time_new_from_iso8601(ticket->due_at, NULL)
	                                          : NULL;
	g_autofree char *due_date = due ? router_format_date(config, due, lang) : NULL;
	const char *primary = ticket->request_types ? ticket->request_types[0] : NULL;
	gboolean fee_required = FALSE;
	gboolean id_required = FALSE;
	JsonNode *root;

	json_builder_begin_object(b);
	set_string(b, "reference", ticket->ref);
	set_header_value(b, "requester_name", ticket->requester_name);
	set_header_value(b, "requester_address", ticket->requester_address);
	set_string(b, "language", lang);
	set_string(b, "due_date", due_date);
	set_flag(b, "disclosure_by_post", g_strcmp0(ticket->disclosure_method, "post") == 0);
	set_string(b, "request_type", primary ? request_type_label(primary, lang) : NULL);
	set_string(b, "request_type_id", primary);
	json_builder_set_member_name(b, "request_types");
	json_builder_begin_array(b);
	for (char **t = ticket->request_types; t && *t; t++) {
		json_builder_begin_object(b);
		set_string(b, "id", *t);
		set_string(b, "label", request_type_label(*t, lang));
		set_flag(b, "fee_required", config_type_has_fee(config, *t));
		for (const char *const *id = request_type_ids; *id; id++) {
			g_autofree char *flag = g_strconcat("is_", *id, NULL);
			set_flag(b, flag, strcmp(*t, *id) == 0);
		}
		json_builder_end_object(b);
		fee_required |= config_type_has_fee(config, *t);
		id_required |= strcmp(*t, "inquiry") != 0;
	}
	json_builder_end_array(b);
	set_string(b, "received_date", received_date);
	json_builder_set_member_name(b, "fee_required");
	json_builder_add_boolean_value(b, fee_required);
	json_builder_set_member_name(b, "id_required");
	json_builder_add_boolean_value(b, id_required);
	set_flag(b, "inquiry_only", !id_required && primary != NULL);
	json_builder_set_member_name(b, "id_document_count");
	json_builder_add_int_value(b, request ? request->id_document_count : 0);
	if (request != NULL && request->encrypted_archive) {
		/* the archives (not their entries) that could not be opened */
		g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
		json_builder_set_member_name(b, "encrypted_files");
		json_builder_begin_array(b);
		for (guint i = 0; i < request->attachments->len; i++) {
			const parser_attachment_t *a = g_ptr_array_index(request->attachments, i);
			const parser_attachment_t *outer = a;
			guint hops = 0;
			if (!a->encrypted)
				continue;
			while (outer->parent >= 0 && (guint)outer->parent < request->attachments->len &&
			       hops++ < request->attachments->len)
				outer = g_ptr_array_index(request->attachments, outer->parent);
			if (outer->filename == NULL || !g_hash_table_add(seen, outer->filename))
				continue;
			json_builder_begin_object(b);
			set_header_value(b, "filename", outer->filename);
			json_builder_end_object(b);
		}
		json_builder_end_array(b);
	}
	json_builder_end_object(b);
	root = json_builder_get_root(b);
	router_context_set_config(config, lang, root);
	return root;
}
