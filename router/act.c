/* act.c — staff actions on a ticket, and the clock they move. */
#include "router/router-internal.h"

#include "router/clock.h"

#include <string.h>

/* The clock policy for TICKET (its primary type's allowance). */
static clock_policy_t
policy_for(const config_t *config, const store_ticket_t *ticket)
{
	clock_policy_t policy;

	policy.days = config_due_days(config, ticket->request_types ? ticket->request_types[0] : NULL);
	policy.business_days = config->policy.business_days;
	policy.holidays = config->policy.holidays;
	policy.timezone = config->policy.timezone;
	return policy;
}

static void
set_due(const config_t *config, store_ticket_t *ticket)
{
	clock_policy_t policy = policy_for(config, ticket);
	g_autoptr(GDateTime) start = g_date_time_new_from_iso8601(ticket->received_at, NULL);
	g_autoptr(GDateTime) due = NULL;
	g_autoptr(GDateTime) mark = NULL;

	if (start == NULL)
		return;
	due = clock_due(&policy, start, ticket->paused_seconds);
	mark = clock_legal_mark(&policy, start);
	g_free(ticket->due_at);
	g_free(ticket->legal_due_at);
	ticket->due_at = pi_iso8601(due);
	ticket->legal_due_at = pi_iso8601(mark);
	/* An extension given to the requester is a promise: never earlier. */
	if (ticket->extended_until != NULL && strcmp(ticket->extended_until, ticket->due_at) > 0) {
		g_free(ticket->due_at);
		ticket->due_at = g_strdup(ticket->extended_until);
	}
}

void
router_ticket_start_clock(const config_t *config, store_ticket_t *ticket, GDateTime *received)
{
	g_free(ticket->received_at);
	ticket->received_at = pi_iso8601(received);
	ticket->paused_seconds = 0;
	g_clear_pointer(&ticket->paused_since, g_free);
	if (lifecycle_state_waits(ticket->state))
		ticket->paused_since = g_strdup(ticket->received_at);
	set_due(config, ticket);
}

gboolean
router_ticket_change_state(const config_t *config, store_t *store, store_ticket_t *ticket,
                           const char *state, const char *actor, const char *detail,
                           GError **error)
{
	gboolean waited = lifecycle_state_waits(ticket->state);
	gboolean waits = lifecycle_state_waits(state);
	g_autofree char *now = pi_now_iso8601();

	if (g_strcmp0(ticket->state, state) == 0)
		return TRUE;
	if (!store_ticket_set_state(store, ticket->id, state, actor, detail, error))
		return FALSE;
	g_free(ticket->state);
	ticket->state = g_strdup(state);
	if (!waited && waits) {
		g_free(ticket->paused_since);
		ticket->paused_since = g_strdup(now);
	} else if (waited && !waits && ticket->paused_since != NULL) {
		g_autoptr(GDateTime) since = g_date_time_new_from_iso8601(ticket->paused_since, NULL);
		g_autoptr(GDateTime) until = g_date_time_new_from_iso8601(now, NULL);
		if (since != NULL && until != NULL)
			ticket->paused_seconds +=
			    MAX(g_date_time_difference(until, since) / G_TIME_SPAN_SECOND, 0);
		g_clear_pointer(&ticket->paused_since, g_free);
		set_due(config, ticket);
	} else
		return TRUE;
	return store_ticket_save_clock(store, ticket->id, ticket, error);
}

void
router_act_result_clear(router_act_result_t *result)
{
	g_clear_pointer(&result->state_before, g_free);
	g_clear_pointer(&result->state_after, g_free);
}

/* Variables a lifecycle reply needs beyond router_reply_context()
 * (templates/kinds.c documents them). */
static void
add_action_variables(const config_t *config, JsonNode *context, const store_ticket_t *ticket,
                     const router_act_input_t *in)
{
	JsonObject *o = json_node_get_object(context);
	g_autoptr(GDateTime) now = pi_now();
	const struct {
		const char *name, *value;
	} texts[] = {
		{"reason", in->reason},
		{"details", in->details},
		{"withheld_reason", in->withheld_reason},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(texts); i++) {
		if (texts[i].value != NULL && *texts[i].value != '\0')
			json_object_set_string_member(o, texts[i].name, texts[i].value);
		else
			json_object_set_null_member(o, texts[i].name);
	}
	json_object_set_boolean_member(o, "refused_identity", in->refused_identity);
	json_object_set_boolean_member(o, "refused_legal_exception", !in->refused_identity);
	if (in->fee_payment_days > 0) {
		g_autoptr(GDateTime) by = g_date_time_add_days(now, (gint)in->fee_payment_days);
		g_autofree char *text = router_format_date(config, by, ticket->language);
		json_object_set_string_member(o, "fee_payment_due", text);
	}
	{
		g_autofree char *today = router_format_date(config, now, ticket->language);
		json_object_set_string_member(o, "fee_paid_date", today);
	}
}

static gint64
draft(router_t *router, const store_ticket_t *ticket, const char *kind,
      const router_act_input_t *in, GError **error)
{
	const config_t *config = router->config;
	g_autoptr(JsonNode) context = router_reply_context(config, ticket, NULL, NULL);
	g_autoptr(catalogue_rendering_t) r = NULL;
	g_autofree char *in_reply_to = NULL;
	g_auto(GStrv) references = NULL;
	store_draft_new_t d = {0};

	add_action_variables(config, context, ticket, in);
	r = catalogue_render(router->catalogue, kind, ticket->language, context, error);
	if (r == NULL) {
		g_prefix_error(error, "the %s reply cannot be drafted: ", kind);
		return 0;
	}
	if (!store_ticket_thread(router->store, ticket->id, &in_reply_to, &references, error) ||
	    !store_template_version_use(router->store, r->version->kind, r->version->language,
	                                r->hash, r->version->text, r->version->partials, error))
		return 0;
	d.ticket_id = ticket->id;
	d.kind = kind;
	d.language = ticket->language;
	d.to_address = ticket->requester_address;
	d.to_name = ticket->requester_name;
	d.subject = r->subject;
	d.body = r->body;
	d.in_reply_to = in_reply_to;
	d.references = (const char *const *)references;
	d.template_hash = r->hash;
	d.auto_submitted = FALSE; /* a person decided this reply */
	return store_draft_insert(router->store, &d, error);
}

gboolean
router_act(router_t *router, const char *ref, lifecycle_action_t action,
           const router_act_input_t *in, router_act_result_t *out, GError **error)
{
	const config_t *config = router->config;
	store_t *store = router->store;
	g_autoptr(store_ticket_t) ticket = NULL;
	g_autofree char *detail = NULL;
	lifecycle_input_t lin = {0};
	lifecycle_step_t step;
	const char *name = lifecycle_action_name(action);

	memset(out, 0, sizeof(*out));
	if (!store_begin(store, error))
		return FALSE;
	ticket = store_ticket_get(store, ref, error);
	if (ticket == NULL)
		goto fail;
	lin.types = action == LIFECYCLE_SET_TYPE ? in->types
	                                          : (const char *const *)ticket->request_types;
	lin.id_documents = (guint)store_ticket_id_documents(store, ticket->id);
	lin.no_data = in->no_data;
	lin.masking = in->masking;
	if (!lifecycle_step(config, ticket->state, action, &lin, &step, error)) {
		g_prefix_error(error, "cannot %s %s: ", name, ref);
		goto fail;
	}
	out->state_before = g_strdup(ticket->state);

	/* What the action records besides the state. */
	switch (action) {
	case LIFECYCLE_VERIFY:
		if (in->document_type != NULL &&
		    !store_ticket_set_field(store, ticket->id, "document_type", in->document_type, error))
			goto fail;
		if (strcmp(step.state, "awaiting_fee") == 0 &&
		    !store_ticket_set_field(store, ticket->id, "fee_status", "due", error))
			goto fail;
		detail = g_strdup_printf("identity confirmed%s%s", in->document_type ? " with " : "",
		                         in->document_type ? in->document_type : "");
		break;
	case LIFECYCLE_FEE_PAID:
	case LIFECYCLE_FEE_WAIVED: {
		gboolean paid = action == LIFECYCLE_FEE_PAID;
		g_autofree char *fee = g_strdup_printf(
		    "%s %u yen%s%s%s%s", paid ? "paid" : "waived", config->policy.fee_yen,
		    in->fee_method ? " by " : "", in->fee_method ? in->fee_method : "",
		    in->fee_receipt ? ", receipt " : "", in->fee_receipt ? in->fee_receipt : "");
		if (!store_ticket_set_field(store, ticket->id, "fee_status", paid ? "paid" : "waived",
		                            error) ||
		    !store_ticket_event(store, ticket->id, in->actor, "fee", fee, error))
			goto fail;
		detail = g_strdup(fee);
		break;
	}
	case LIFECYCLE_SET_TYPE: {
		g_autofree char *joined = pi_strv_join(in->types, ", ");
		if (!store_ticket_set_types(store, ticket->id, in->types, error) ||
		    !store_ticket_set_field(store, ticket->id, "attention", NULL, error))
			goto fail;
		g_strfreev(ticket->request_types);
		ticket->request_types = pi_strv_copy(in->types);
		detail = g_strdup_printf("type set to %s", joined);
		break;
	}
	case LIFECYCLE_EXTEND: {
		g_autofree char *until = pi_iso8601(in->extend_until);
		g_free(ticket->extended_until);
		ticket->extended_until = g_strdup(until);
		set_due(config, ticket);
		if (!store_ticket_save_clock(store, ticket->id, ticket, error))
			goto fail;
		detail = g_strdup_printf("deadline extended to %s: %s", until, in->reason);
		break;
	}
	default:
		detail = in->reason ? g_strdup_printf("%s: %s", name, in->reason) : g_strdup(name);
	}

	if (strcmp(step.state, ticket->state) == 0) {
		if (!store_ticket_event(store, ticket->id, in->actor, "action", detail, error))
			goto fail;
	} else if (!router_ticket_change_state(config, store, ticket, step.state, in->actor, detail,
	                                       error))
		goto fail;
	/* Time spent in triage counts: the request reached us when it arrived. */
	out->state_after = g_strdup(step.state);
	if (step.draft_kind != NULL &&
	    (out->draft_id = draft(router, ticket, step.draft_kind, in, error)) == 0)
		goto fail;
	{
		g_autofree char *audit = g_strdup_printf("%s: %s → %s%s%s", detail, out->state_before,
		                                         out->state_after,
		                                         step.draft_kind ? "; drafted " : "",
		                                         step.draft_kind ? step.draft_kind : "");
		if (!store_audit(store, in->actor, name, ref, audit, error))
			goto fail;
	}
	return store_commit(store, error);
fail:
	store_rollback(store);
	router_act_result_clear(out);
	return FALSE;
}
