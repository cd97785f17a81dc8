/* router.h — decides what happens to a parsed request and carries it out.
 *
 * router_decide() is a pure function of the parsed mail and what the store
 * knows about it (router_facts_t): duplicate, follow-up to a ticket,
 * automatic mail, a new request (which state, which reply), or staff triage.
 *
 * router_route() does the whole job for one raw message already written to
 * the spool: parse it (ID documents decoded straight into the spool), decide,
 * then in ONE SQLite transaction record the message, open or update the
 * ticket, record the attachments, draft the reply from the catalogue, append
 * to the audit log and (for fetched mail) advance the mailbox checkpoint and
 * note the pending server update.  Nothing is half-written: either all of it
 * is committed or none of it.
 */
#pragma once

#include "common/common.h"
#include "common/config.h"
#include "parser/parser.h"
#include "store/store.h"
#include "templates/catalogue.h"
#include "router/lifecycle.h"

#define ROUTER_ERROR (router_error_quark())
GQuark router_error_quark(void);

typedef enum {
	ROUTE_NEW_TICKET,  /* a request: ticket opened, reply drafted */
	ROUTE_TRIAGE,      /* ticket opened for staff to decide (no draft) */
	ROUTE_FOLLOW_UP,   /* joined an existing ticket */
	ROUTE_AUTO,        /* automatic mail: recorded, no ticket, no draft */
	ROUTE_DUPLICATE,   /* seen before: nothing new recorded */
} route_outcome_t;

/* What the store knows about a parsed message (filled by router_route). */
typedef struct {
	gboolean duplicate;          /* same UID, Message-ID or (no Message-ID) bytes */
	const store_ticket_t *thread_ticket; /* ticket of a message named in In-Reply-To/References */
	const store_ticket_t *ref_ticket;    /* ticket named by [PRV-…] in the subject */
	guint auto_replies_today; /* replies drafted without a person for the sender, last 24 h */
} router_facts_t;

typedef struct {
	route_outcome_t outcome;
	gint64 ticket_id;          /* existing ticket for FOLLOW_UP/AUTO (0: none) */
	const char *state;         /* state of a new ticket; for FOLLOW_UP the new state or NULL */
	const char *draft_kind;    /* reply to draft, or NULL */
	char *triage_reason;       /* why staff must look (new ticket), or NULL; caller frees */
	char *attention;           /* a new ticket staff should look at anyway; caller frees */
	gint64 linked_ticket_id;   /* a ticket the new one refers to (0: none) */
} router_decision_t;

/* Decide.  Pure: no I/O.  Caller frees decision_out->triage_reason and
 * decision_out->attention. */
void router_decide(const config_t *config, const parser_request_t *request,
                   const router_facts_t *facts, router_decision_t *decision_out);

/* How the requester wants the answer ("email", "post") and the ground a
 * stop request invokes ("beyond_purpose", "unlawful_acquisition",
 * "improper_use", "no_longer_needed", "breach", "rights_harmed",
 * "third_party_without_consent"), from the request's text; NULL when it
 * does not say.  Static strings. */
const char *router_detect_disclosure_method(const char *text);
const char *router_detect_stop_ground(const char *text);

/* Where a message came from: a mailbox UID, or NULL for an ingested file. */
typedef struct {
	const char *mailbox;
	guint32 uidvalidity;
	guint32 uid;
	GDateTime *internal_date; /* may be NULL */
} router_origin_t;

typedef struct {
	route_outcome_t outcome;
	char *ticket_ref;  /* NULL when no ticket */
	gint64 draft_id;   /* 0 when nothing was drafted */
	char *summary;     /* one line for logs and the command line */
} router_result_t;
void router_result_clear(router_result_t *result);

typedef struct router router_t;

/* All borrowed; they must outlive the router.  Caller frees with router_free(). */
router_t *router_new(const config_t *config, store_t *store, parser_t *parser,
                     catalogue_t *catalogue);
void router_free(router_t *router);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(router_t, router_free)

/* Replace the catalogue (after a reload); borrowed. */
void router_set_catalogue(router_t *router, catalogue_t *catalogue);

/* Route the finished spool file RAW (see above).  ORIGIN may be NULL.
 * On error nothing is committed; errors are graded (PI_ERROR_TEMPORARY for
 * a busy database, PI_ERROR_FATAL otherwise).  router_parse() and then
 * router_route_parsed(), in one call. */
gboolean router_route(router_t *router, spool_file_t *raw, const router_origin_t *origin,
                      router_result_t *result_out, GError **error);

/* The same in two steps, so parsing can run in another thread than the
 * transactions (cli/worker.c): a parsed message is the request and the
 * identity documents decoded into spool/tmp, not yet kept; it holds no
 * message body beyond the request's text (the parser caps it at 4 MiB;
 * router_parsed_size() says how much). */
typedef struct router_parsed router_parsed_t;

/* Finish RAW (taken) and parse it with PARSER, identity documents decoded
 * straight into STORE's spool.  No database access: it may run in any
 * thread, with a parser no other thread uses meanwhile.  Caller frees with
 * router_parsed_free() (which deletes RAW and the documents unless
 * router_route_parsed() kept them). */
router_parsed_t *router_parse(store_t *store, parser_t *parser, spool_file_t *raw,
                              GError **error);
void router_parsed_free(router_parsed_t *parsed);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(router_parsed_t, router_parsed_free)

/* Bytes PARSED holds in memory (about). */
gsize router_parsed_size(const router_parsed_t *parsed);

/* Decide and record PARSED (borrowed) as router_route() does: the duplicate
 * check and the other facts, the files kept, the one transaction.  In the
 * thread that owns ROUTER's store. */
gboolean router_route_parsed(router_t *router, router_parsed_t *parsed,
                             const router_origin_t *origin, router_result_t *result_out,
                             GError **error);

/* The JSON context a reply of KIND for TICKET is rendered with (the
 * variables listed in templates/kinds.c).  REQUEST may be NULL.  Caller unrefs. */
JsonNode *router_reply_context(const config_t *config, const store_ticket_t *ticket,
                               const parser_request_t *request, GDateTime *received);
/* Set the variables that come from the configuration alone (today, org_*,
 * fee_yen, fee_bank_account) in LANG on CONTEXT, a JSON object; what
 * router_reply_context() does too, and what a preview with sample data
 * takes from the real configuration. */
void router_context_set_config(const config_t *config, const char *lang, JsonNode *context);

/* ---- the lifecycle (router/act.c) -------------------------------------- */

/* Fill TICKET's clock for a request received at RECEIVED, in the state
 * ticket->state (waiting states start paused). */
void router_ticket_start_clock(const config_t *config, store_ticket_t *ticket,
                               GDateTime *received);

/* Move TICKET to STATE inside the caller's transaction: the state change
 * with ACTOR and DETAIL in the history, and the clock stopped when the new
 * state waits for the requester, restarted (due date moved by the pause)
 * when it no longer does.  TICKET is updated in place. */
gboolean router_ticket_change_state(const config_t *config, store_t *store,
                                    store_ticket_t *ticket, const char *state,
                                    const char *actor, const char *detail, GError **error);

/* What a staff action carries besides the ticket. */
typedef struct {
	const char *actor;          /* who acts (recorded everywhere) */
	const char *const *types;   /* SET_TYPE: the new types */
	gboolean no_data;           /* ANSWER: we hold no data */
	gboolean masking;           /* REJECT_ID: a My Number / insurance number shows */
	const char *reason;         /* REJECT_ID, REJECT, EXTEND */
	const char *document_type;  /* VERIFY */
	const char *fee_method;     /* FEE: bank, postal_order */
	const char *fee_receipt;    /* FEE */
	GDateTime *extend_until;    /* EXTEND */
	const char *details;        /* ANSWER: what staff tell the requester (the answer to an
	                             * inquiry, what was corrected or stopped) */
	const char *withheld_reason; /* ANSWER: why part of the data is not disclosed */
	gboolean refused_identity;  /* REJECT: identity not confirmed (else a legal exception) */
	guint fee_payment_days;     /* VERIFY: the fee is due so many days from now (0: not said) */
} router_act_input_t;

typedef struct {
	char *state_before, *state_after;
	gint64 draft_id; /* 0 when no reply was drafted */
} router_act_result_t;
void router_act_result_clear(router_act_result_t *result);

/* Carry out ACTION on ticket REF in one transaction: state change and
 * clock, the fields the action sets, the reply drafted for approval, the
 * audit entry.  Refused (PI_ERROR_REFUSED) when the state does not allow it;
 * PI_ERROR_NOT_FOUND for an unknown reference. */
gboolean router_act(router_t *router, const char *ref, lifecycle_action_t action,
                    const router_act_input_t *input, router_act_result_t *result_out,
                    GError **error);
