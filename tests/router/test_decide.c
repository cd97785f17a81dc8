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
	g_free(d.attention);
	g_ptr_array_unref(request.request_types);
	g_ptr_array_unref(request.references);
	g_ptr_array_unref(request.attachments);
}

/* Writable strings for the structs' char* members. */
static char str_0[] = "4.4.7";
static char str_1[] = "5.1.1";
static char str_2[] = "a@x.jp";
static char str_3[] = "awaiting_id";
static char str_4[] = "desk@company.example.jp";
static char str_5[] = "mailer-daemon@mx.x.jp";

/* What the parser learnt about the documents and the sender. */
typedef struct {
	parser_request_t request;
	store_ticket_t thread;
	router_facts_t facts;
	router_decision_t d;
	config_t *config;
} extra_t;

static void
extra_init(extra_t *x, const char *type, guint id_documents)
{
	memset(x, 0, sizeof(*x));
	x->config = config_load(NULL, NULL);
	x->request.request_types = g_ptr_array_new();
	if (type != NULL)
		g_ptr_array_add(x->request.request_types, (gpointer)(guintptr)type);
	x->request.references = g_ptr_array_new();
	x->request.attachments = g_ptr_array_new();
	x->request.id_document_count = id_documents;
	x->request.from_address = str_2;
}

static void
extra_clear(extra_t *x)
{
	g_free(x->d.triage_reason);
	g_free(x->d.attention);
	g_ptr_array_unref(x->request.request_types);
	g_ptr_array_unref(x->request.references);
	g_ptr_array_unref(x->request.attachments);
	config_free(x->config);
}

static void
test_encrypted_archive(void)
{
	extra_t x;

	/* a new request whose only document is in a locked ZIP */
	extra_init(&x, "disclosure", 0);
	x.request.encrypted_archive = TRUE;
	router_decide(x.config, &x.request, &x.facts, &x.d);
	g_assert_cmpint(x.d.outcome, ==, ROUTE_NEW_TICKET);
	g_assert_cmpstr(x.d.state, ==, "awaiting_id");
	g_assert_cmpstr(x.d.draft_kind, ==, "encrypted_archive");
	extra_clear(&x);

	/* a readable document next to it: the normal acknowledgement */
	extra_init(&x, "disclosure", 1);
	x.request.encrypted_archive = TRUE;
	router_decide(x.config, &x.request, &x.facts, &x.d);
	g_assert_cmpstr(x.d.draft_kind, ==, "ack");
	extra_clear(&x);

	/* the reply to our request for the document, again locked */
	extra_init(&x, NULL, 0);
	x.request.encrypted_archive = TRUE;
	x.thread.id = 7;
	x.thread.state = str_3;
	x.thread.requester_address = str_2;
	x.facts.thread_ticket = &x.thread;
	router_decide(x.config, &x.request, &x.facts, &x.d);
	g_assert_cmpint(x.d.outcome, ==, ROUTE_FOLLOW_UP);
	g_assert_null(x.d.state);
	g_assert_cmpstr(x.d.draft_kind, ==, "encrypted_archive");
	extra_clear(&x);
}

static void
test_masking_and_forwarding(void)
{
	extra_t x;

	extra_init(&x, "disclosure", 1);
	x.request.needs_masking_check = TRUE;
	x.request.forwarded_by = str_4;
	router_decide(x.config, &x.request, &x.facts, &x.d);
	g_assert_cmpint(x.d.outcome, ==, ROUTE_NEW_TICKET);
	g_assert_cmpstr(x.d.draft_kind, ==, "ack");
	g_assert_nonnull(x.d.attention);
	g_assert_nonnull(strstr(x.d.attention, "My Number"));
	g_assert_nonnull(strstr(x.d.attention, "forwarded by desk@company.example.jp"));
	g_assert_nonnull(strstr(x.d.attention, "requester is taken to be a@x.jp"));
	extra_clear(&x);

	/* nothing to say: no attention */
	extra_init(&x, "disclosure", 1);
	router_decide(x.config, &x.request, &x.facts, &x.d);
	g_assert_null(x.d.attention);
	extra_clear(&x);

	/* triage keeps it too */
	extra_init(&x, NULL, 1);
	x.request.needs_masking_check = TRUE;
	router_decide(x.config, &x.request, &x.facts, &x.d);
	g_assert_cmpint(x.d.outcome, ==, ROUTE_TRIAGE);
	g_assert_nonnull(x.d.attention);
	extra_clear(&x);
}

static void
test_bounce_of_our_reply(void)
{
	extra_t x;

	extra_init(&x, NULL, 0);
	x.request.is_auto = TRUE;
	x.request.from_address = str_5;
	x.request.bounce_recipient = str_2;
	x.request.bounce_status = str_1;
	x.thread.id = 7;
	x.thread.state = str_3;
	x.thread.requester_address = str_2;
	x.facts.thread_ticket = &x.thread;
	router_decide(x.config, &x.request, &x.facts, &x.d);
	g_assert_cmpint(x.d.outcome, ==, ROUTE_AUTO);
	g_assert_cmpint(x.d.ticket_id, ==, 7);
	g_assert_null(x.d.draft_kind);
	g_assert_nonnull(x.d.attention);
	g_assert_nonnull(strstr(x.d.attention, "a@x.jp could not be delivered (status 5.1.1)"));
	extra_clear(&x);

	/* a delay notice (4.x.x) is not a failure */
	extra_init(&x, NULL, 0);
	x.request.is_auto = TRUE;
	x.request.bounce_recipient = str_2;
	x.request.bounce_status = str_0;
	x.thread.id = 7;
	x.thread.state = str_3;
	x.facts.thread_ticket = &x.thread;
	router_decide(x.config, &x.request, &x.facts, &x.d);
	g_assert_null(x.d.attention);
	extra_clear(&x);

	/* an out-of-office reply is no bounce */
	extra_init(&x, NULL, 0);
	x.request.is_auto = TRUE;
	x.thread.id = 7;
	x.thread.state = str_3;
	x.facts.thread_ticket = &x.thread;
	router_decide(x.config, &x.request, &x.facts, &x.d);
	g_assert_null(x.d.attention);
	extra_clear(&x);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
		g_autofree char *path = g_strdup_printf("/router/decide/%s", rows[i].name);
		g_test_add_data_func(path, &rows[i], run_row);
	}
	g_test_add_func("/router/decide/encrypted-archive", test_encrypted_archive);
	g_test_add_func("/router/decide/masking-and-forwarding", test_masking_and_forwarding);
	g_test_add_func("/router/decide/bounce-of-our-reply", test_bounce_of_our_reply);
	return g_test_run();
}
