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
} router_facts_t;

typedef struct {
	route_outcome_t outcome;
	gint64 ticket_id;          /* existing ticket for FOLLOW_UP/AUTO (0: none) */
	const char *state;         /* state of a new ticket; for FOLLOW_UP the new state or NULL */
	const char *draft_kind;    /* reply to draft, or NULL */
	char *triage_reason;       /* why staff must look (new ticket), or NULL; caller frees */
} router_decision_t;

/* Decide.  Pure: no I/O.  Caller frees decision_out->triage_reason. */
void router_decide(const config_t *config, const parser_request_t *request,
                   const router_facts_t *facts, router_decision_t *decision_out);

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
 * a busy database, PI_ERROR_FATAL otherwise). */
gboolean router_route(router_t *router, spool_file_t *raw, const router_origin_t *origin,
                      router_result_t *result_out, GError **error);

/* The JSON context a reply of KIND for TICKET is rendered with (the
 * variables listed in templates/kinds.c).  REQUEST may be NULL.  Caller unrefs. */
JsonNode *router_reply_context(const config_t *config, const store_ticket_t *ticket,
                               const parser_request_t *request, GDateTime *received);
