/* test_decide.c — router_decide(), one row per rule. */
#include "router/router.h"

typedef struct {
	const char *name;
	/* the parsed mail */
	const char *types; /* ";"-separated */
	guint id_documents;
	gboolean is_auto;
	const char *from;
	const char *problem;
	/* what the store knows */
	gboolean duplicate;
	const char *thread_state;  /* a ticket found by In-Reply-To, in this state */
	const char *ref_requester; /* [PRV-…] in the subject names a ticket of this requester */
	const char *ref_state;
	/* expected */
	route_outcome_t outcome;
	const char *state;
	const char *draft;
	const char *reason_part;
} row_t;

static const row_t rows[] = {
	{"disclosure with ID", "disclosure", 1, FALSE, "a@x.jp", NULL, FALSE, NULL, NULL, NULL,
	 ROUTE_NEW_TICKET, "awaiting_verification", "ack", NULL},
	{"disclosure without ID", "disclosure", 0, FALSE, "a@x.jp", NULL, FALSE, NULL, NULL, NULL,
	 ROUTE_NEW_TICKET, "awaiting_id", "id_missing", NULL},
	{"stop_use without ID", "stop_use", 0, FALSE, "a@x.jp", NULL, FALSE, NULL, NULL, NULL,
	 ROUTE_NEW_TICKET, "awaiting_id", "id_missing", NULL},
	{"several types with ID", "correction;stop_third_party", 2, FALSE, "a@x.jp", NULL, FALSE,
	 NULL, NULL, NULL, ROUTE_NEW_TICKET, "awaiting_verification", "ack", NULL},
	{"inquiry needs no ID", "inquiry", 0, FALSE, "a@x.jp", NULL, FALSE, NULL, NULL, NULL,
	 ROUTE_NEW_TICKET, "in_progress", "ack", NULL},
	{"inquiry plus a request needs ID", "inquiry;disclosure", 0, FALSE, "a@x.jp", NULL, FALSE,
	 NULL, NULL, NULL, ROUTE_NEW_TICKET, "awaiting_id", "id_missing", NULL},
	{"no type: triage", "", 1, FALSE, "a@x.jp", NULL, FALSE, NULL, NULL, NULL, ROUTE_TRIAGE,
	 "triage", NULL, "no request type"},
	{"unreadable: triage", "disclosure", 0, FALSE, "a@x.jp", "truncated multipart", FALSE, NULL,
	 NULL, NULL, ROUTE_TRIAGE, "triage", NULL, "truncated multipart"},
	{"no sender: triage", "disclosure", 1, FALSE, NULL, NULL, FALSE, NULL, NULL, NULL,
	 ROUTE_TRIAGE, "triage", NULL, "sender address"},
	{"automatic mail", "disclosure", 0, TRUE, "mailer-daemon@x.jp", NULL, FALSE, NULL, NULL,
	 NULL, ROUTE_AUTO, NULL, NULL, NULL},
	{"automatic reply to our reply", "", 0, TRUE, "a@x.jp", NULL, FALSE, "awaiting_id", NULL,
	 NULL, ROUTE_AUTO, NULL, NULL, NULL},
	{"duplicate", "disclosure", 1, FALSE, "a@x.jp", NULL, TRUE, NULL, NULL, NULL,
	 ROUTE_DUPLICATE, NULL, NULL, NULL},
	{"reply with ID to awaiting_id", "", 1, FALSE, "a@x.jp", NULL, FALSE, "awaiting_id", NULL,
	 NULL, ROUTE_FOLLOW_UP, "awaiting_verification", NULL, NULL},
	{"reply without ID", "disclosure", 0, FALSE, "a@x.jp", NULL, FALSE, "awaiting_id", NULL, NULL,
	 ROUTE_FOLLOW_UP, NULL, NULL, NULL},
	{"reply with ID in a later state", "", 1, FALSE, "a@x.jp", NULL, FALSE, "in_progress", NULL,
	 NULL, ROUTE_FOLLOW_UP, NULL, NULL, NULL},
	{"subject reference, same sender", "", 1, FALSE, "A@X.JP", NULL, FALSE, NULL, "a@x.jp",
	 "awaiting_id", ROUTE_FOLLOW_UP, "awaiting_verification", NULL, NULL},
	{"subject reference, other sender", "disclosure", 1, FALSE, "evil@y.jp", NULL, FALSE, NULL,
	 "a@x.jp", "awaiting_id", ROUTE_TRIAGE, "triage", NULL, "but this mail is from evil@y.jp"},
};

static void
run_row(gconstpointer data)
{
	const row_t *row = data;
	g_autoptr(config_t) config = config_load(NULL, NULL);
	parser_request_t request = {0};
	store_ticket_t thread = {0}, ref = {0};
	router_facts_t facts = {0};
	router_decision_t d;
	g_auto(GStrv) types = g_strsplit(row->types, ";", -1);
	/* Owned copies: the structs hold non-const strings. */
	g_autofree char *from = g_strdup(row->from);
	g_autofree char *problem = g_strdup(row->problem);
	g_autofree char *thread_state = g_strdup(row->thread_state);
	g_autofree char *ref_state = g_strdup(row->ref_state);
	g_autofree char *ref_requester = g_strdup(row->ref_requester);
	char thread_ref[] = "PRV-2026-000007", ref_ref[] = "PRV-2026-000009";
	char requester[] = "a@x.jp";

	request.request_types = g_ptr_array_new();
	for (char **t = types; *t; t++)
		if (**t)
			g_ptr_array_add(request.request_types, *t);
	request.references = g_ptr_array_new();
	request.attachments = g_ptr_array_new();
	request.id_document_count = row->id_documents;
	request.is_auto = row->is_auto;
	request.from_address = from;
	request.problem = problem;

	facts.duplicate = row->duplicate;
	if (row->thread_state) {
		thread.id = 7;
		thread.ref = thread_ref;
		thread.state = thread_state;
		thread.requester_address = requester;
		facts.thread_ticket = &thread;
	}
	if (row->ref_requester) {
		ref.id = 9;
		ref.ref = ref_ref;
		ref.state = ref_state;
		ref.requester_address = ref_requester;
		facts.ref_ticket = &ref;
	}

	router_decide(config, &request, &facts, &d);
	g_assert_cmpint(d.outcome, ==, row->outcome);
	g_assert_cmpstr(d.state, ==, row->state);
	g_assert_cmpstr(d.draft_kind, ==, row->draft);
	if (row->reason_part == NULL)
		g_assert_null(d.triage_reason);
	else if (d.triage_reason == NULL || strstr(d.triage_reason, row->reason_part) == NULL)
		g_error("reason \"%s\" lacks \"%s\"", d.triage_reason, row->reason_part);
	if (row->outcome == ROUTE_FOLLOW_UP)
		g_assert_cmpint(d.ticket_id, ==, row->thread_state ? 7 : 9);
	if (row->outcome == ROUTE_AUTO)
		g_assert_cmpint(d.ticket_id, ==, row->thread_state ? 7 : 0);
	g_free(d.triage_reason);
	g_ptr_array_unref(request.request_types);
	g_ptr_array_unref(request.references);
	g_ptr_array_unref(request.attachments);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
		g_autofree char *path = g_strdup_printf("/router/decide/%s", rows[i].name);
		g_test_add_data_func(path, &rows[i], run_row);
	}
	return g_test_run();
}
