/* kinds.c — the one place that lists the reply kinds and the variables each
 * may use; the router fills exactly these, and `templates check` compares
 * templates against them. */
#include "templates/catalogue.h"

#include <string.h>

/* Every reply about a ticket has these. */
#define TICKET_VARIABLES                                                                       \
	"reference", "requester_name", "requester_address", "language", "today", "org_name",   \
	    "org_contact", "org_address"
/* A reply about a request also knows what was asked. */
#define REQUEST_VARIABLES                                                                      \
	TICKET_VARIABLES, "request_type", "request_type_id", "request_types", "request_types.label", \
	    "request_types.id", "received_date", "fee_required", "fee_yen", "id_required", "id_document_count"

static const char *const request_variables[] = {REQUEST_VARIABLES, NULL};

static const catalogue_kind_t kinds[] = {
	{"ack", "acknowledgment: the request is received and its identity document is being checked",
	 request_variables},
	{"id_missing", "acknowledgment that asks for an identity document", request_variables},
	{NULL, NULL, NULL},
};

const catalogue_kind_t *
catalogue_kinds(void)
{
	return kinds;
}

const catalogue_kind_t *
catalogue_kind_find(const char *kind)
{
	for (const catalogue_kind_t *k = kinds; k->kind != NULL; k++) {
		if (strcmp(k->kind, kind) == 0)
			return k;
	}
	return NULL;
}
