/* decide.c — router_decide(): what happens to a parsed message.  Pure: no
 * I/O, so every rule is a row in tests/router/test_decide.c. */
#include "router/router.h"

#include <string.h>

G_DEFINE_QUARK(privacy-inbox-router-error-quark, router_error)

/* Does any of TYPES need the requester's identity confirmed?  Everything
 * but a plain question does. */
static gboolean
needs_identity(const GPtrArray *types)
{
	for (guint i = 0; i < types->len; i++) {
		if (strcmp(g_ptr_array_index(types, i), "inquiry") != 0)
			return TRUE;
	}
	return FALSE;
}

static gboolean
same_address(const char *a, const char *b)
{
	return a != NULL && b != NULL && g_ascii_strcasecmp(a, b) == 0;
}

void
router_decide(const config_t *config, const parser_request_t *request,
              const router_facts_t *facts, router_decision_t *d)
{
	const store_ticket_t *thread = facts->thread_ticket;

	(void)config;
	memset(d, 0, sizeof(*d));
	if (facts->duplicate) {
		d->outcome = ROUTE_DUPLICATE;
		return;
	}
	if (request->is_auto) {
		/* Recorded (and shown on the ticket it answers), never answered. */
		d->outcome = ROUTE_AUTO;
		d->ticket_id = thread ? thread->id : 0;
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
		return;
	}

	d->outcome = ROUTE_TRIAGE;
	d->state = "triage";
	if (facts->ref_ticket != NULL) {
		/* Somebody else's reference: never joined silently. */
		d->triage_reason = g_strdup_printf(
		    "the subject names %s, whose requester is %s, but this mail is from %s",
		    facts->ref_ticket->ref, facts->ref_ticket->requester_address,
		    request->from_address ? request->from_address : "an unknown sender");
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
	if (!needs_identity(request->request_types)) {
		d->state = "in_progress";
		d->draft_kind = "ack";
	} else if (request->id_document_count > 0) {
		d->state = "awaiting_verification";
		d->draft_kind = "ack";
	} else {
		d->state = "awaiting_id";
		d->draft_kind = "id_missing";
	}
}
