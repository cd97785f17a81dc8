/* decide.c — router_decide(): what happens to a parsed message.  Pure: no
 * I/O, so every rule is a row in tests/router/test_decide.c. */
#include "router/router.h"

#include <string.h>

G_DEFINE_QUARK(privacy-inbox-router-error-quark, router_error)

static gboolean
same_address(const char *a, const char *b)
{
	return a != NULL && b != NULL && g_ascii_strcasecmp(a, b) == 0;
}

/* Append LINE to *ATTENTION ("; " between). */
static void
add_attention(char **attention, char *line)
{
	if (*attention == NULL) {
		*attention = line;
	} else {
		char *both = g_strconcat(*attention, "; ", line, NULL);
		g_free(*attention);
		g_free(line);
		*attention = both;
	}
}

/* What staff should know about the documents and the sender whatever the
 * outcome: a number that must be masked, an archive we cannot open, a
 * request forwarded by somebody else. */
static void
document_attention(const parser_request_t *request, router_decision_t *d)
{
	if (request->needs_masking_check)
		add_attention(&d->attention,
		              g_strdup("an identity document may show an individual number (My Number) "
		                       "or a health-insurance number: check it and mask or dispose of "
		                       "it before verifying"));
	if (request->forwarded_by != NULL)
		add_attention(&d->attention,
		              g_strdup_printf("forwarded by %s%s%s%s: the requester is taken to be %s; "
		                              "confirm before replying",
		                              request->forwarded_by_name ? request->forwarded_by_name : "",
		                              request->forwarded_by_name ? " <" : "",
		                              request->forwarded_by,
		                              request->forwarded_by_name ? ">" : "",
		                              request->from_address ? request->from_address : "?"));
}

void
router_decide(const config_t *config, const parser_request_t *request,
              const router_facts_t *facts, router_decision_t *d)
{
	const store_ticket_t *thread = facts->thread_ticket;

	memset(d, 0, sizeof(*d));
	if (facts->duplicate) {
		d->outcome = ROUTE_DUPLICATE;
		return;
	}
	if (request->is_auto) {
		/* Recorded (and shown on the ticket it answers), never answered. */
		d->outcome = ROUTE_AUTO;
		d->ticket_id = thread ? thread->id : 0;
		if (thread != NULL && (request->bounce_recipient != NULL || request->bounce_status != NULL) &&
		    (request->bounce_status == NULL || request->bounce_status[0] == '5'))
			d->attention = g_strdup_printf(
			    "our mail to %s could not be delivered%s%s%s: reach the requester another way",
			    request->bounce_recipient ? request->bounce_recipient : thread->requester_address,
			    request->bounce_status ? " (status " : "",
			    request->bounce_status ? request->bounce_status : "",
			    request->bounce_status ? ")" : "");
		return;
	}
	if (thread == NULL && facts->ref_ticket != NULL &&
	    same_address(facts->ref_ticket->requester_address, request->from_address))
		thread = facts->ref_ticket;
	if (thread != NULL) {
		d->outcome = ROUTE_FOLLOW_UP;
		d->ticket_id = thread->id;
		if (request->id_document_count > 0 && g_strcmp0(thread->state, "awaiting_id") == 0)
			d->state = "awaiting_verification";
		else if (request->encrypted_archive && g_strcmp0(thread->state, "awaiting_id") == 0 &&
		         facts->auto_replies_today < config->policy.max_auto_replies_per_day)
			d->draft_kind = "encrypted_archive"; /* the document again, without a password */
		document_attention(request, d);
		return;
	}

	d->outcome = ROUTE_TRIAGE;
	d->state = "triage";
	document_attention(request, d);
	if (facts->ref_ticket != NULL) {
		/* Somebody else's reference: never joined silently. */
		d->triage_reason = g_strdup_printf(
		    "the subject names %s, whose requester is %s, but this mail is from %s",
		    facts->ref_ticket->ref, facts->ref_ticket->requester_address,
		    request->from_address ? request->from_address : "an unknown sender");
		d->linked_ticket_id = facts->ref_ticket->id;
		return;
	}
	if (request->problem != NULL) {
		d->triage_reason = g_strdup_printf("the mail could not be fully read: %s",
		                                   request->problem);
		return;
	}
	if (request->from_address == NULL) {
		d->triage_reason = g_strdup("no usable sender address to reply to");
		return;
	}
	if (request->request_types->len == 0) {
		d->triage_reason = g_strdup("no request type recognised: staff must decide");
		return;
	}

	d->outcome = ROUTE_NEW_TICKET;
	{
		lifecycle_step_t step;
		/* Borrowed pointers: a copy would also copy the free function. */
		g_autoptr(GPtrArray) types = g_ptr_array_sized_new(request->request_types->len + 1);

		for (guint i = 0; i < request->request_types->len; i++)
			g_ptr_array_add(types, g_ptr_array_index(request->request_types, i));
		g_ptr_array_add(types, NULL);
		lifecycle_start((const char *const *)types->pdata, request->id_document_count, &step);
		d->state = step.state;
		d->draft_kind = step.draft_kind;
		if (request->encrypted_archive && g_strcmp0(step.draft_kind, "id_missing") == 0)
			d->draft_kind = "encrypted_archive";
	}
	/* Loop protection: at most N replies drafted without a person per
	 * address per day; beyond that staff decide. */
	if (facts->auto_replies_today >= config->policy.max_auto_replies_per_day) {
		d->draft_kind = NULL;
		add_attention(&d->attention,
		              g_strdup_printf(
		                  "%u replies were already drafted for %s today (limit %u): no reply drafted",
		                  facts->auto_replies_today, request->from_address,
		                  config->policy.max_auto_replies_per_day));
	}
}
