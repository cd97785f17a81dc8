/* test_lifecycle.c — the state table: every action from every state, the
 * reply each transition drafts, and which states stop the clock. */
#include "router/lifecycle.h"

#include "router/router.h"

typedef struct {
	const char *state;
	lifecycle_action_t action;
	const char *types; /* ";"-separated */
	guint id_documents;
	gboolean no_data, masking;
	const char *want_state; /* NULL: refused */
	const char *want_draft;
} row_t;

static const row_t rows[] = {
	/* identity */
	{"awaiting_verification", LIFECYCLE_VERIFY, "disclosure", 1, 0, 0, "awaiting_fee",
	 "id_confirmed_fee"},
	{"awaiting_verification", LIFECYCLE_VERIFY, "notification_of_purpose", 1, 0, 0,
	 "awaiting_fee", "id_confirmed_fee"},
	{"awaiting_verification", LIFECYCLE_VERIFY, "third_party_records", 1, 0, 0, "awaiting_fee",
	 "id_confirmed_fee"},
	/* correction and stop requests never carry a fee */
	{"awaiting_verification", LIFECYCLE_VERIFY, "correction", 1, 0, 0, "in_progress", NULL},
	{"awaiting_verification", LIFECYCLE_VERIFY, "stop_use", 1, 0, 0, "in_progress", NULL},
	{"awaiting_verification", LIFECYCLE_VERIFY, "stop_third_party", 1, 0, 0, "in_progress", NULL},
	{"awaiting_verification", LIFECYCLE_VERIFY, "stop_use;disclosure", 1, 0, 0, "awaiting_fee",
	 "id_confirmed_fee"},
	{"awaiting_id", LIFECYCLE_VERIFY, "stop_use", 0, 0, 0, "in_progress", NULL},
	{"in_progress", LIFECYCLE_VERIFY, "disclosure", 1, 0, 0, NULL, NULL},
	{"triage", LIFECYCLE_VERIFY, "", 1, 0, 0, NULL, NULL},
	{"awaiting_verification", LIFECYCLE_REJECT_ID, "disclosure", 1, 0, 0, "awaiting_id",
	 "id_unacceptable"},
	{"awaiting_verification", LIFECYCLE_REJECT_ID, "disclosure", 1, 0, 1, "awaiting_id",
	 "id_masking"},
	{"awaiting_id", LIFECYCLE_REJECT_ID, "disclosure", 0, 0, 0, NULL, NULL},
	{"awaiting_id", LIFECYCLE_ID_RECEIVED, "disclosure", 1, 0, 0, "awaiting_verification", NULL},
	{"in_progress", LIFECYCLE_ID_RECEIVED, "disclosure", 1, 0, 0, NULL, NULL},
	/* fee */
	{"awaiting_fee", LIFECYCLE_FEE_PAID, "disclosure", 1, 0, 0, "in_progress", "fee_received"},
	{"awaiting_fee", LIFECYCLE_FEE_WAIVED, "disclosure", 1, 0, 0, "in_progress", NULL},
	{"in_progress", LIFECYCLE_FEE_PAID, "disclosure", 1, 0, 0, NULL, NULL},
	{"awaiting_verification", LIFECYCLE_FEE_PAID, "disclosure", 1, 0, 0, NULL, NULL},
	/* type decided by staff */
	{"triage", LIFECYCLE_SET_TYPE, "disclosure", 0, 0, 0, "awaiting_id", "id_missing"},
	{"triage", LIFECYCLE_SET_TYPE, "disclosure", 2, 0, 0, "awaiting_verification", "ack"},
	{"triage", LIFECYCLE_SET_TYPE, "inquiry", 0, 0, 0, "in_progress", "ack"},
	{"awaiting_fee", LIFECYCLE_SET_TYPE, "correction", 1, 0, 0, "in_progress", NULL},
	{"awaiting_fee", LIFECYCLE_SET_TYPE, "disclosure;correction", 1, 0, 0, "awaiting_fee", NULL},
	{"in_progress", LIFECYCLE_SET_TYPE, "stop_use", 1, 0, 0, "in_progress", NULL},
	{"triage", LIFECYCLE_SET_TYPE, "", 0, 0, 0, NULL, NULL},
	{"closed", LIFECYCLE_SET_TYPE, "disclosure", 0, 0, 0, NULL, NULL},
	/* answers by type */
	{"in_progress", LIFECYCLE_ANSWER, "disclosure", 1, 0, 0, "answered", "disclosure_result"},
	{"in_progress", LIFECYCLE_ANSWER, "notification_of_purpose", 1, 0, 0, "answered",
	 "disclosure_result"},
	{"in_progress", LIFECYCLE_ANSWER, "disclosure", 1, 1, 0, "answered", "no_data"},
	{"in_progress", LIFECYCLE_ANSWER, "correction", 1, 0, 0, "answered", "correction_done"},
	{"in_progress", LIFECYCLE_ANSWER, "stop_use", 1, 0, 0, "answered", "stop_use_done"},
	{"in_progress", LIFECYCLE_ANSWER, "stop_third_party", 1, 0, 0, "answered",
	 "stop_third_party_done"},
	{"in_progress", LIFECYCLE_ANSWER, "inquiry", 0, 0, 0, "answered", "inquiry_answer"},
	{"awaiting_fee", LIFECYCLE_ANSWER, "disclosure", 1, 0, 0, NULL, NULL},
	{"awaiting_id", LIFECYCLE_ANSWER, "stop_use", 0, 0, 0, NULL, NULL},
	/* the end */
	{"answered", LIFECYCLE_CLOSE, "disclosure", 1, 0, 0, "closed", NULL},
	{"in_progress", LIFECYCLE_CLOSE, "disclosure", 1, 0, 0, NULL, NULL},
	{"awaiting_id", LIFECYCLE_REJECT, "disclosure", 0, 0, 0, "rejected", "refusal"},
	{"triage", LIFECYCLE_REJECT, "", 0, 0, 0, "rejected", "refusal"},
	{"in_progress", LIFECYCLE_REJECT, "disclosure", 1, 0, 0, "rejected", "refusal"},
	{"closed", LIFECYCLE_REJECT, "disclosure", 1, 0, 0, NULL, NULL},
	{"rejected", LIFECYCLE_REJECT, "disclosure", 1, 0, 0, NULL, NULL},
	{"answered", LIFECYCLE_REJECT, "disclosure", 1, 0, 0, NULL, NULL},
	{"in_progress", LIFECYCLE_EXTEND, "disclosure", 1, 0, 0, "in_progress",
	 "deadline_extension"},
	{"awaiting_id", LIFECYCLE_EXTEND, "disclosure", 0, 0, 0, NULL, NULL},
};

static void
run_row(gconstpointer data)
{
	const row_t *row = data;
	g_autoptr(config_t) config = config_load(NULL, NULL);
	g_auto(GStrv) types = g_strsplit(row->types, ";", -1);
	g_autoptr(GError) error = NULL;
	lifecycle_input_t in = {0};
	lifecycle_step_t step;
	gboolean ok;

	if (types[0] != NULL && types[0][0] == '\0')
		g_clear_pointer(&types[0], g_free);
	in.types = (const char *const *)types;
	in.id_documents = row->id_documents;
	in.no_data = row->no_data;
	in.masking = row->masking;
	ok = lifecycle_step(config, row->state, row->action, &in, &step, &error);
	if (row->want_state == NULL) {
		g_assert_false(ok);
		g_assert_error(error, ROUTER_ERROR, PI_ERROR_REFUSED);
		/* The refusal says what the state is and what the action needs. */
		g_assert_nonnull(strstr(error->message, row->state) ||
		                         strstr(error->message, "at least one type")
		                     ? error->message
		                     : NULL);
		g_assert_null(strchr(error->message, '\n'));
		return;
	}
	g_assert_no_error(error);
	g_assert_true(ok);
	g_assert_cmpstr(step.state, ==, row->want_state);
	g_assert_cmpstr(step.draft_kind, ==, row->want_draft);
	g_assert_true(lifecycle_state_valid(step.state));
}

static void
test_waiting_states(void)
{
	for (const char *const *s = lifecycle_states; *s; s++) {
		gboolean waits = g_str_equal(*s, "awaiting_id") || g_str_equal(*s, "awaiting_fee");
		gboolean open = !g_str_equal(*s, "answered") && !g_str_equal(*s, "closed") &&
		                !g_str_equal(*s, "rejected");
		g_assert_cmpint(lifecycle_state_waits(*s), ==, waits);
		g_assert_cmpint(lifecycle_state_open(*s), ==, open);
	}
	g_assert_false(lifecycle_state_valid("pending"));
}

static void
test_fee_types_follow_policy(void)
{
	g_autoptr(config_t) config = config_load(NULL, NULL);
	const char *const types[] = {"correction", NULL};
	lifecycle_input_t in = {types, 1, FALSE, FALSE};
	lifecycle_step_t step;

	/* A company that charges for corrections too (policy, not code). */
	g_strfreev(config->policy.fee_types);
	config->policy.fee_types = g_strsplit("correction", ";", -1);
	g_assert_true(lifecycle_step(config, "awaiting_verification", LIFECYCLE_VERIFY, &in, &step, NULL));
	g_assert_cmpstr(step.state, ==, "awaiting_fee");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
		g_autofree char *name = g_strdup_printf("/lifecycle/%s/%s/%zu", rows[i].state,
		                                        lifecycle_action_name(rows[i].action), i);
		g_test_add_data_func(name, &rows[i], run_row);
	}
	g_test_add_func("/lifecycle/waiting-states", test_waiting_states);
	g_test_add_func("/lifecycle/fee-types-follow-policy", test_fee_types_follow_policy);
	return g_test_run();
}
