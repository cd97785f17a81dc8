/* json.c — the object `privacy-inbox parse --json` prints. */
#include "parser/parser-internal.h"

const char *
parser_attachment_kind_name(attachment_kind_t kind)
{
	switch (kind) {
	case ATTACHMENT_ID_DOCUMENT:
		return "id_document";
	case ATTACHMENT_REJECTED:
		return "rejected";
	case ATTACHMENT_OTHER:
	default:
		return "other";
	}
}

static void
add_bool(JsonBuilder *b, const char *member, gboolean value)
{
	json_builder_set_member_name(b, member);
	json_builder_add_boolean_value(b, value);
}

static void
add_attachment(JsonBuilder *b, const parser_request_t *r, const parser_attachment_t *a,
               gboolean full)
{
	json_builder_begin_object(b);
	pi_json_add_string(b, "filename", a->filename);
	pi_json_add_string(b, "content_type", a->content_type);
	json_builder_set_member_name(b, "size");
	json_builder_add_int_value(b, (gint64)a->size);
	pi_json_add_string(b, "sha256", a->sha256);
	pi_json_add_string(b, "document_type", a->document_type);
	add_bool(b, "needs_masking_check", a->needs_masking_check);
	if (full) {
		const parser_attachment_t *parent =
		    a->parent >= 0 && (guint)a->parent < r->attachments->len
		        ? r->attachments->pdata[a->parent]
		        : NULL;
		pi_json_add_string(b, "kind", parser_attachment_kind_name(a->kind));
		pi_json_add_string(b, "reason", a->reason);
		add_bool(b, "encrypted", a->encrypted);
		json_builder_set_member_name(b, "container");
		if (parent != NULL)
			json_builder_add_int_value(b, a->parent);
		else
			json_builder_add_null_value(b);
	}
	json_builder_end_object(b);
}

JsonNode *
parser_request_to_json(const parser_request_t *r)
{
	g_autoptr(JsonBuilder) b = json_builder_new();

	g_return_val_if_fail(r != NULL, NULL);
	json_builder_begin_object(b);
	pi_json_add_string(b, "message_id", r->message_id);
	json_builder_set_member_name(b, "from");
	json_builder_begin_object(b);
	pi_json_add_string(b, "name", r->from_name);
	pi_json_add_string(b, "address", r->from_address);
	json_builder_end_object(b);
	pi_json_add_string(b, "subject", r->subject ? r->subject : "");
	if (r->date != NULL) {
		g_autofree char *iso = g_date_time_format(
		    r->date, g_date_time_get_utc_offset(r->date) == 0 ? "%Y-%m-%dT%H:%M:%SZ"
		                                                      : "%Y-%m-%dT%H:%M:%S%:z");
		pi_json_add_string(b, "date", iso);
	} else {
		pi_json_add_string(b, "date", NULL);
	}
	pi_json_add_string(b, "language", r->language);
	json_builder_set_member_name(b, "request_types");
	json_builder_begin_array(b);
	for (guint i = 0; i < r->request_types->len; i++)
		json_builder_add_string_value(b, r->request_types->pdata[i]);
	if (r->request_types->len == 0) /* no rule matched: a question for staff */
		json_builder_add_string_value(b, "inquiry");
	json_builder_end_array(b);
	json_builder_set_member_name(b, "confidence");
	json_builder_add_double_value(b, r->confidence);
	json_builder_set_member_name(b, "request_evidence");
	json_builder_begin_array(b);
	for (guint i = 0; i < r->request_evidence->len; i++) {
		const parser_evidence_t *e = r->request_evidence->pdata[i];
		json_builder_begin_object(b);
		pi_json_add_string(b, "type", e->type);
		json_builder_set_member_name(b, "matched");
		json_builder_begin_array(b);
		for (guint j = 0; j < e->phrases->len; j++)
			json_builder_add_string_value(b, e->phrases->pdata[j]);
		json_builder_end_array(b);
		add_bool(b, "in_subject", e->in_subject);
		json_builder_set_member_name(b, "confidence");
		json_builder_add_double_value(b, e->confidence);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	json_builder_set_member_name(b, "is_auto");
	json_builder_add_boolean_value(b, r->is_auto);
	pi_json_add_string(b, "auto_reason", r->auto_reason);
	pi_json_add_string(b, "in_reply_to", r->in_reply_to);
	json_builder_set_member_name(b, "references");
	json_builder_begin_array(b);
	for (guint i = 0; i < r->references->len; i++)
		json_builder_add_string_value(b, r->references->pdata[i]);
	json_builder_end_array(b);
	pi_json_add_string(b, "ticket_ref", r->ticket_ref);
	json_builder_set_member_name(b, "forwarded_by");
	if (r->forwarded_by != NULL) {
		json_builder_begin_object(b);
		pi_json_add_string(b, "name", r->forwarded_by_name);
		pi_json_add_string(b, "address", r->forwarded_by);
		json_builder_end_object(b);
	} else {
		json_builder_add_null_value(b);
	}
	json_builder_set_member_name(b, "bounce");
	if (r->bounce_recipient != NULL || r->bounce_status != NULL) {
		json_builder_begin_object(b);
		pi_json_add_string(b, "recipient", r->bounce_recipient);
		pi_json_add_string(b, "status", r->bounce_status);
		pi_json_add_string(b, "message_id", r->bounce_message_id);
		json_builder_end_object(b);
	} else {
		json_builder_add_null_value(b);
	}
	pi_json_add_string(b, "document_type", r->document_type);
	add_bool(b, "needs_masking_check", r->needs_masking_check);
	add_bool(b, "encrypted_archive", r->encrypted_archive);
	pi_json_add_string(b, "text", r->text ? r->text : "");
	json_builder_set_member_name(b, "id_documents");
	json_builder_begin_array(b);
	for (guint i = 0; i < r->attachments->len; i++) {
		const parser_attachment_t *a = r->attachments->pdata[i];
		if (a->kind == ATTACHMENT_ID_DOCUMENT)
			add_attachment(b, r, a, FALSE);
	}
	json_builder_end_array(b);
	json_builder_set_member_name(b, "attachments");
	json_builder_begin_array(b);
	for (guint i = 0; i < r->attachments->len; i++)
		add_attachment(b, r, r->attachments->pdata[i], TRUE);
	json_builder_end_array(b);
	pi_json_add_string(b, "problem", r->problem);
	add_bool(b, "over_limit", r->over_limit);
	json_builder_end_object(b);
	return json_builder_get_root(b);
}
