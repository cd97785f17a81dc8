/* cmd_tickets.c — tickets: list, show, and the staff actions of the
 * lifecycle (verify, reject-id, fee, set-type, answer, close, reject,
 * extend, set, note). */
#include "cli/cli.h"

#include "common/request_type.h"
#include "router/router.h"

#include <string.h>

static const char *const *const states = lifecycle_states;

/* "3d", "12h", "2w" or a number of days → seconds; -1 when unreadable. */
static gint64
parse_span(const char *text)
{
	guint64 n;
	char *end = NULL;
	gint64 unit = 86400;

	if (text == NULL || !g_ascii_isdigit(*text))
		return -1;
	n = g_ascii_strtoull(text, &end, 10);
	if (*end == 'h' && end[1] == '\0')
		unit = 3600;
	else if (*end == 'w' && end[1] == '\0')
		unit = 7 * 86400;
	else if (!(*end == '\0' || (*end == 'd' && end[1] == '\0')))
		return -1;
	return n > 3650 * 24 ? -1 : (gint64)n * unit;
}

/* The due date as the office reads it: a local date, "paused", or "-". */
static char *
due_text(const config_t *config, const store_ticket_t *t)
{
	g_autoptr(GDateTime) due = NULL;
	g_autoptr(GDateTime) local = NULL;

	if (t->paused_since != NULL)
		return g_strdup("paused");
	if (t->due_at == NULL || (due = g_date_time_new_from_iso8601(t->due_at, NULL)) == NULL)
		return g_strdup("-");
	local = g_date_time_to_timezone(due, config->policy.timezone);
	return g_date_time_format(local, "%Y-%m-%d");
}

/* Whole days left until DUE (negative: overdue), counted in local dates. */
static gint64
days_left(const config_t *config, const store_ticket_t *t)
{
	g_autoptr(GDateTime) due = g_date_time_new_from_iso8601(t->due_at, NULL);
	g_autoptr(GDateTime) now = pi_now();
	g_autoptr(GDateTime) due_local = NULL, now_local = NULL;
	GDate a, b;

	if (due == NULL)
		return 0;
	due_local = g_date_time_to_timezone(due, config->policy.timezone);
	now_local = g_date_time_to_timezone(now, config->policy.timezone);
	g_date_set_dmy(&a, (GDateDay)g_date_time_get_day_of_month(now_local),
	               (GDateMonth)g_date_time_get_month(now_local),
	               (GDateYear)g_date_time_get_year(now_local));
	g_date_set_dmy(&b, (GDateDay)g_date_time_get_day_of_month(due_local),
	               (GDateMonth)g_date_time_get_month(due_local),
	               (GDateYear)g_date_time_get_year(due_local));
	return g_date_days_between(&a, &b);
}

static char *
types_text(char **types)
{
	g_autofree char *joined = g_strjoinv(",", types);

	return *joined ? g_steal_pointer(&joined) : g_strdup("-");
}

static int
tickets_list(cli_t *cli, int argc, char **argv)
{
	char *state = NULL;
	char *within = NULL;
	gboolean json = FALSE;
	gboolean overdue = FALSE;
	const GOptionEntry entries[] = {
		{"state", 0, 0, G_OPTION_ARG_STRING, &state, "only tickets in STATE", "STATE"},
		{"overdue", 0, 0, G_OPTION_ARG_NONE, &overdue,
		 "only open tickets past their due date (soonest first)", NULL},
		{"due-within", 0, 0, G_OPTION_ARG_STRING, &within,
		 "only open tickets due within SPAN (3d, 12h, 2w), overdue included", "SPAN"},
		{"json", 0, 0, G_OPTION_ARG_NONE, &json, "print a JSON array", NULL},
		G_OPTION_ENTRY_NULL,
	};
	g_autoptr(GError) error = NULL;
	g_autoptr(store_t) store = NULL;
	g_autoptr(GPtrArray) tickets = NULL;
	g_autofree char *state_owned = NULL, *within_owned = NULL;
	const config_t *config;
	gint64 span = 0;

	if (!cli_parse_options("tickets list", NULL,
	                       "List tickets, oldest first (all of them), or by due date with "
	                       "--overdue / --due-within.",
	                       entries, &argc, &argv))
		return EXIT_USAGE;
	state_owned = state;
	within_owned = within;
	if (within != NULL && (span = parse_span(within)) < 0)
		return cli_usage("tickets list", "--due-within expects a span such as 3d, 12h or 2w");
	if ((overdue || within) && state != NULL)
		return cli_usage("tickets list", "--state cannot be combined with --overdue/--due-within");
	if (argc > 1)
		return cli_usage("tickets list", "unexpected argument \"%s\"", argv[1]);
	if (state != NULL && !g_strv_contains(states, state)) {
		g_autoptr(GString) all = g_string_new(NULL);
		for (const char *const *s = states; *s; s++)
			g_string_append_printf(all, "%s%s", all->len ? ", " : "", *s);
		return cli_usage("tickets list", "unknown state \"%s\" (one of: %s)", state, all->str);
	}
	if ((config = cli_config(cli, &error)) == NULL || (store = cli_open_store(cli, &error)) == NULL)
		return cli_fail(error);
	if (overdue || within) {
		g_autoptr(GDateTime) now = pi_now();
		g_autoptr(GDateTime) limit = g_date_time_add_seconds(now, overdue ? 0 : (gdouble)span);
		g_autofree char *before = pi_iso8601(limit);
		tickets = store_ticket_list_due(store, before, &error);
	} else
		tickets = store_ticket_list(store, state, &error);
	if (tickets == NULL)
		return cli_fail(error);

	if (json) {
		g_autoptr(JsonArray) array = json_array_new();
		g_autoptr(JsonNode) root = json_node_new(JSON_NODE_ARRAY);
		for (guint i = 0; i < tickets->len; i++) {
			JsonNode *node = store_ticket_to_json(store, g_ptr_array_index(tickets, i), FALSE,
			                                      &error);
			if (node == NULL)
				return cli_fail(error);
			json_array_add_element(array, node);
		}
		json_node_set_array(root, array);
		cli_print_json(root, FALSE);
		return EXIT_OK;
	}
	if (tickets->len == 0) {
		g_print("no tickets%s%s%s\n", state ? " in state " : "", state ? state : "",
		        overdue ? " overdue" : within ? " due then" : "");
		return EXIT_OK;
	}
	g_print("%-16s %-22s %-28s %-11s %5s  %s\n", "REF", "STATE", "TYPES", "DUE", "LEFT",
	        "REQUESTER");
	for (guint i = 0; i < tickets->len; i++) {
		store_ticket_t *t = g_ptr_array_index(tickets, i);
		g_autofree char *types = types_text(t->request_types);
		g_autofree char *due = due_text(config, t);
		g_autofree char *left = t->due_at && !t->paused_since && lifecycle_state_open(t->state)
		                            ? g_strdup_printf("%" G_GINT64_FORMAT, days_left(config, t))
		                            : g_strdup("");
		g_print("%-16s %-22s %-28s %-11s %5s  %s%s%s\n", t->ref, t->state, types, due, left,
		        t->requester_address ? t->requester_address : "?", t->attention ? "  ⚑ " : "",
		        t->attention ? t->attention : "");
	}
	return EXIT_OK;
}

static void
print_ticket(JsonObject *t)
{
	JsonArray *messages = json_object_get_array_member(t, "messages");
	JsonArray *attachments = json_object_get_array_member(t, "attachments");
	JsonArray *drafts = json_object_get_array_member(t, "drafts");
	JsonArray *events = json_object_get_array_member(t, "events");
	const char *triage = json_object_get_string_member_with_default(t, "triage_reason", NULL);
	const char *name = json_object_get_string_member_with_default(t, "requester_name", NULL);
	JsonArray *types = json_object_get_array_member(t, "request_types");

	g_print("%s  %s\n", json_object_get_string_member(t, "ref"),
	        json_object_get_string_member(t, "state"));
	g_print("Requester: %s%s%s%s\n", name ? name : "", name ? " <" : "",
	        json_object_get_string_member_with_default(t, "requester", "?"), name ? ">" : "");
	g_print("Types:     ");
	for (guint i = 0; i < json_array_get_length(types); i++)
		g_print("%s%s (%s)", i ? ", " : "", json_array_get_string_element(types, i),
		        request_type_label(json_array_get_string_element(types, i), "ja"));
	g_print("%s\n", json_array_get_length(types) ? "" : "(none: staff must decide)");
	g_print("Language:  %s\n", json_object_get_string_member(t, "language"));
	g_print("Received:  %s\n", json_object_get_string_member_with_default(t, "received_at", "?"));
	g_print("Due:       %s%s\n", json_object_get_string_member_with_default(t, "due_at", "-"),
	        json_object_get_boolean_member_with_default(t, "paused", FALSE)
	            ? " (clock stopped: waiting for the requester)"
	            : "");
	g_print("Legal mark: %s (two weeks after the request arrived)\n",
	        json_object_get_string_member_with_default(t, "legal_due_at", "-"));
	{
		static const char *const extra[] = {"disclosure_method", "Method",   "stop_ground",
		                                    "Ground",            "document_type", "Document",
		                                    "fee_status",        "Fee",      "extended_until",
		                                    "Extended",          "attention", "Attention",
		                                    NULL};
		for (const char *const *e = extra; *e; e += 2) {
			const char *v = json_object_get_string_member_with_default(t, e[0], NULL);
			if (v != NULL)
				g_print("%-10s %s\n", e[1], v);
		}
	}
	if (triage)
		g_print("Triage:    %s\n", triage);

	g_print("\nMessages:\n");
	for (guint i = 0; i < json_array_get_length(messages); i++) {
		JsonObject *m = json_array_get_object_element(messages, i);
		const char *problem = json_object_get_string_member_with_default(m, "problem", NULL);
		g_print("  #%" G_GINT64_FORMAT " %s %s  %s\n", json_object_get_int_member(m, "id"),
		        g_strcmp0(json_object_get_string_member(m, "direction"), "in") == 0 ? "←" : "→",
		        json_object_get_string_member_with_default(m, "received_at", ""),
		        json_object_get_string_member_with_default(m, "subject", ""));
		if (problem)
			g_print("      problem: %s\n", problem);
	}
	g_print("\nAttachments:\n");
	for (guint i = 0; i < json_array_get_length(attachments); i++) {
		JsonObject *a = json_array_get_object_element(attachments, i);
		g_print("  %-11s %s (%s, %" G_GINT64_FORMAT " bytes)\n",
		        json_object_get_string_member(a, "kind"),
		        json_object_get_string_member_with_default(a, "filename", "(no name)"),
		        json_object_get_string_member_with_default(a, "content_type", "?"),
		        json_object_get_int_member(a, "size"));
	}
	g_print("\nDrafts:\n");
	for (guint i = 0; i < json_array_get_length(drafts); i++) {
		JsonObject *d = json_array_get_object_element(drafts, i);
		g_print("  %" G_GINT64_FORMAT "  %-10s %-9s %s\n", json_object_get_int_member(d, "id"),
		        json_object_get_string_member(d, "kind"), json_object_get_string_member(d, "state"),
		        json_object_get_string_member(d, "subject"));
	}
	g_print("\nHistory:\n");
	for (guint i = 0; i < json_array_get_length(events); i++) {
		JsonObject *e = json_array_get_object_element(events, i);
		g_print("  %s  %-14s %-8s %s\n", json_object_get_string_member(e, "at"),
		        json_object_get_string_member(e, "actor"), json_object_get_string_member(e, "kind"),
		        json_object_get_string_member_with_default(e, "detail", ""));
	}
}

static int
tickets_show(cli_t *cli, int argc, char **argv)
{
	gboolean json = FALSE;
	const GOptionEntry entries[] = {
		{"json", 0, 0, G_OPTION_ARG_NONE, &json, "print JSON", NULL},
		G_OPTION_ENTRY_NULL,
	};
	g_autoptr(GError) error = NULL;
	g_autoptr(store_t) store = NULL;
	g_autoptr(store_ticket_t) ticket = NULL;
	g_autoptr(JsonNode) node = NULL;

	if (!cli_parse_options("tickets show", "REF",
	                       "Show a ticket: its messages, attachments, drafts and history.",
	                       entries, &argc, &argv))
		return EXIT_USAGE;
	if (argc != 2)
		return cli_usage("tickets show", argc < 2 ? "which ticket?" : "one ticket at a time");
	if ((store = cli_open_store(cli, &error)) == NULL ||
	    (ticket = store_ticket_get(store, argv[1], &error)) == NULL ||
	    (node = store_ticket_to_json(store, ticket, TRUE, &error)) == NULL)
		return cli_fail(error);
	if (json)
		cli_print_json(node, FALSE);
	else
		print_ticket(json_node_get_object(node));
	return EXIT_OK;
}

/* ---- staff actions ---------------------------------------------------- */

typedef struct {
	char *by, *reason, *document_type, *method, *receipt, *until, *details, *details_file,
	    *withheld;
	gboolean paid, waived, no_data, masking, identity;
	gint days, pay_within;
} act_options_t;

static void
act_options_clear(act_options_t *o)
{
	g_free(o->by);
	g_free(o->reason);
	g_free(o->document_type);
	g_free(o->method);
	g_free(o->receipt);
	g_free(o->until);
	g_free(o->details);
	g_free(o->details_file);
	g_free(o->withheld);
}

/* Open what an action needs: configuration, store, catalogue and a router
 * that does not parse. */
typedef struct {
	store_t *store;
	catalogue_t *catalogue;
	router_t *router;
} act_env_t;

static void
act_env_clear(act_env_t *env)
{
	router_free(env->router);
	catalogue_free(env->catalogue);
	store_free(env->store);
}

static gboolean
act_env_open(cli_t *cli, act_env_t *env, GError **error)
{
	const config_t *config = cli_config(cli, error);

	if (config == NULL || (env->store = cli_open_store(cli, error)) == NULL ||
	    (env->catalogue = cli_load_catalogue(cli, error)) == NULL)
		return FALSE;
	env->router = router_new(config, env->store, NULL, env->catalogue);
	return TRUE;
}

static int
run_action(cli_t *cli, const char *ref, lifecycle_action_t action,
           const router_act_input_t *input)
{
	g_autoptr(GError) error = NULL;
	act_env_t env = {0};
	router_act_result_t result = {0};
	int status = EXIT_OK;

	if (!act_env_open(cli, &env, &error) || !router_act(env.router, ref, action, input, &result, &error))
		status = cli_fail(error);
	else {
		g_print("%s: %s → %s", ref, result.state_before, result.state_after);
		if (result.draft_id)
			g_print("; reply drafted as draft %" G_GINT64_FORMAT
			        " (privacy-inbox drafts show %" G_GINT64_FORMAT ")",
			        result.draft_id, result.draft_id);
		g_print("\n");
	}
	router_act_result_clear(&result);
	act_env_clear(&env);
	return status;
}

static int
tickets_act(cli_t *cli, int argc, char **argv, const char *name, const char *params,
            const char *summary, const GOptionEntry *entries, act_options_t *o,
            lifecycle_action_t action, gboolean need_reason)
{
	g_autofree char *command = g_strdup_printf("tickets %s", name);
	router_act_input_t in = {0};
	g_autoptr(GDateTime) until = NULL;
	int status;

	if (!cli_parse_options(command, params, summary, entries, &argc, &argv)) {
		act_options_clear(o);
		return EXIT_USAGE;
	}
	if (argc < 2 || (action != LIFECYCLE_SET_TYPE && argc > 2)) {
		act_options_clear(o);
		return cli_usage(command, argc < 2 ? "which ticket?" : "one ticket at a time");
	}
	if (o->by == NULL || *o->by == '\0') {
		act_options_clear(o);
		return cli_usage(command, "--by NAME is required: who acts is recorded");
	}
	if (need_reason && (o->reason == NULL || *o->reason == '\0')) {
		act_options_clear(o);
		return cli_usage(command, "--reason TEXT is required (the requester is told)");
	}
	if (action == LIFECYCLE_EXTEND) {
		g_autoptr(GDateTime) now = pi_now();
		const config_t *config = cli_config(cli, NULL);
		if (o->until != NULL && config != NULL) {
			g_autofree char *text = g_strdup_printf("%sT23:59:59", o->until);
			until = g_date_time_new_from_iso8601(text, config->policy.timezone);
		} else if (o->days > 0)
			until = g_date_time_add_days(now, o->days);
		if (until == NULL) {
			act_options_clear(o);
			return cli_usage(command, "--until YYYY-MM-DD or --days N is required");
		}
	}
	if (o->details_file != NULL) {
		g_autoptr(GError) error = NULL;
		char *text = NULL;
		if (!g_file_get_contents(o->details_file, &text, NULL, &error) ||
		    !g_utf8_validate(text, -1, NULL)) {
			g_free(text);
			act_options_clear(o);
			return error ? cli_fail(error) : cli_failf("the details file is not valid UTF-8");
		}
		g_free(o->details);
		o->details = text;
	}
	in.actor = o->by;
	in.reason = o->reason;
	in.details = o->details;
	in.withheld_reason = o->withheld;
	in.refused_identity = o->identity;
	in.fee_payment_days = o->pay_within > 0 ? (guint)o->pay_within : 14;
	in.document_type = o->document_type;
	in.fee_method = o->method;
	in.fee_receipt = o->receipt;
	in.no_data = o->no_data;
	in.masking = o->masking;
	in.extend_until = until;
	if (action == LIFECYCLE_SET_TYPE) {
		for (int i = 2; i < argc; i++) {
			if (!request_type_is_valid(argv[i])) {
				g_autofree char *all = pi_strv_join(request_type_ids, ", ");
				act_options_clear(o);
				return cli_usage(command, "unknown type \"%s\" (one of: %s)", argv[i], all);
			}
		}
		if (argc < 3) {
			act_options_clear(o);
			return cli_usage(command, "which type(s)?");
		}
		in.types = (const char *const *)(argv + 2);
	}
	status = run_action(cli, argv[1], action, &in);
	act_options_clear(o);
	return status;
}

#define BY_ENTRY {"by", 0, 0, G_OPTION_ARG_STRING, &o.by, "who acts (required)", "NAME"}
#define REASON_ENTRY(help) {"reason", 0, 0, G_OPTION_ARG_STRING, &o.reason, help, "TEXT"}

static int
tickets_verify(cli_t *cli, int argc, char **argv)
{
	act_options_t o = {0};
	const GOptionEntry entries[] = {
		BY_ENTRY,
		{"document-type", 0, 0, G_OPTION_ARG_STRING, &o.document_type,
		 "the document checked (drivers_license, passport, my_number_card, insurance_card, "
		 "residence_card, …)", "T"},
		{"pay-within", 0, 0, G_OPTION_ARG_INT, &o.pay_within,
		 "days the requester has to pay the fee (default 14)", "N"},
		G_OPTION_ENTRY_NULL,
	};
	return tickets_act(cli, argc, argv, "verify", "REF --by NAME",
	                   "Record that the requester's identity is confirmed: fee-bearing requests "
	                   "then wait for the fee (fee instructions drafted), others go in progress.",
	                   entries, &o, LIFECYCLE_VERIFY, FALSE);
}

static int
tickets_reject_id(cli_t *cli, int argc, char **argv)
{
	act_options_t o = {0};
	const GOptionEntry entries[] = {
		BY_ENTRY,
		REASON_ENTRY("why the document cannot be accepted (told to the requester)"),
		{"masking", 0, 0, G_OPTION_ARG_NONE, &o.masking,
		 "the copy shows a My Number or an insurance number: ask for a masked copy", NULL},
		G_OPTION_ENTRY_NULL,
	};
	return tickets_act(cli, argc, argv, "reject-id", "REF --by NAME --reason TEXT",
	                   "The identity document cannot be accepted: ask for another one.",
	                   entries, &o, LIFECYCLE_REJECT_ID, TRUE);
}

static int
tickets_fee(cli_t *cli, int argc, char **argv)
{
	act_options_t o = {0};
	const GOptionEntry entries[] = {
		{"paid", 0, 0, G_OPTION_ARG_NONE, &o.paid, "the fee was paid", NULL},
		{"waived", 0, 0, G_OPTION_ARG_NONE, &o.waived, "the fee is waived", NULL},
		BY_ENTRY,
		{"method", 0, 0, G_OPTION_ARG_STRING, &o.method, "bank or postal_order", "M"},
		{"receipt", 0, 0, G_OPTION_ARG_STRING, &o.receipt, "receipt or transfer reference",
		 "TEXT"},
		G_OPTION_ENTRY_NULL,
	};
	int i;

	/* Check the flags before handing over (the option parser runs there). */
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--paid") == 0)
			o.paid = TRUE;
		else if (strcmp(argv[i], "--waived") == 0)
			o.waived = TRUE;
		else if (strcmp(argv[i], "--method") == 0 && i + 1 < argc && strcmp(argv[i + 1], "bank") &&
		         strcmp(argv[i + 1], "postal_order"))
			return cli_usage("tickets fee", "--method is bank or postal_order");
	}
	if (o.paid == o.waived && !(argc > 1 && (strcmp(argv[1], "--help") == 0 ||
	                                         strcmp(argv[1], "-h") == 0)))
		return cli_usage("tickets fee", "say either --paid or --waived");
	return tickets_act(cli, argc, argv, "fee", "REF --paid|--waived --by NAME",
	                   "Record the 1,000-yen fee as paid (or waived); the request goes in progress.",
	                   entries, &o, o.paid ? LIFECYCLE_FEE_PAID : LIFECYCLE_FEE_WAIVED, FALSE);
}

static int
tickets_set_type(cli_t *cli, int argc, char **argv)
{
	act_options_t o = {0};
	const GOptionEntry entries[] = {BY_ENTRY, G_OPTION_ENTRY_NULL};

	return tickets_act(cli, argc, argv, "set-type", "REF TYPE... --by NAME",
	                   "Decide the request type(s), primary first; a triage ticket then starts "
	                   "like a new request (ack or ask-for-ID drafted).",
	                   entries, &o, LIFECYCLE_SET_TYPE, FALSE);
}

static int
tickets_answer(cli_t *cli, int argc, char **argv)
{
	act_options_t o = {0};
	const GOptionEntry entries[] = {
		BY_ENTRY,
		{"no-data", 0, 0, G_OPTION_ARG_NONE, &o.no_data,
		 "we hold no data about the requester", NULL},
		{"details", 0, 0, G_OPTION_ARG_STRING, &o.details,
		 "what to tell the requester: the answer to an inquiry, what was corrected or "
		 "stopped (required for an inquiry)", "TEXT"},
		{"details-file", 0, 0, G_OPTION_ARG_FILENAME, &o.details_file,
		 "the same, read from a UTF-8 file", "FILE"},
		{"withheld", 0, 0, G_OPTION_ARG_STRING, &o.withheld,
		 "why part of the data is not disclosed (a partial disclosure)", "TEXT"},
		G_OPTION_ENTRY_NULL,
	};
	return tickets_act(cli, argc, argv, "answer", "REF --by NAME",
	                   "Draft the result reply (disclosure result, correction done, stop done, "
	                   "answer to an inquiry); 'drafts attach' adds the disclosed material.",
	                   entries, &o, LIFECYCLE_ANSWER, FALSE);
}

static int
tickets_close(cli_t *cli, int argc, char **argv)
{
	act_options_t o = {0};
	const GOptionEntry entries[] = {BY_ENTRY, G_OPTION_ENTRY_NULL};

	return tickets_act(cli, argc, argv, "close", "REF --by NAME",
	                   "Close an answered ticket (its identity documents are destroyed after "
	                   "id_retention_days).",
	                   entries, &o, LIFECYCLE_CLOSE, FALSE);
}

static int
tickets_reject(cli_t *cli, int argc, char **argv)
{
	act_options_t o = {0};
	const GOptionEntry entries[] = {
		BY_ENTRY,
		REASON_ENTRY("why (told to the requester: the legal exception, identity not confirmed…)"),
		{"identity", 0, 0, G_OPTION_ARG_NONE, &o.identity,
		 "refused because the identity could not be confirmed (default: a legal exception)",
		 NULL},
		G_OPTION_ENTRY_NULL,
	};
	return tickets_act(cli, argc, argv, "reject", "REF --by NAME --reason TEXT",
	                   "Refuse the request; the reason goes to the requester in the drafted reply.",
	                   entries, &o, LIFECYCLE_REJECT, TRUE);
}

static int
tickets_extend(cli_t *cli, int argc, char **argv)
{
	act_options_t o = {0};
	const GOptionEntry entries[] = {
		BY_ENTRY,
		{"until", 0, 0, G_OPTION_ARG_STRING, &o.until, "the new due date", "YYYY-MM-DD"},
		{"days", 0, 0, G_OPTION_ARG_INT, &o.days, "or: so many days from now", "N"},
		REASON_ENTRY("why it takes longer (told to the requester)"),
		G_OPTION_ENTRY_NULL,
	};
	return tickets_act(cli, argc, argv, "extend", "REF --until DATE --reason TEXT --by NAME",
	                   "Tell the requester the answer will take longer, and move the due date.",
	                   entries, &o, LIFECYCLE_EXTEND, TRUE);
}

static int
tickets_note(cli_t *cli, int argc, char **argv)
{
	char *by = NULL;
	const GOptionEntry entries[] = {
		{"by", 0, 0, G_OPTION_ARG_STRING, &by, "who writes (default: your login name)", "NAME"},
		G_OPTION_ENTRY_NULL,
	};
	g_autofree char *by_owned = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(store_t) store = NULL;
	g_autoptr(store_ticket_t) ticket = NULL;
	g_autofree char *text = NULL;

	if (!cli_parse_options("tickets note", "REF TEXT", "Add a note to the ticket's history.",
	                       entries, &argc, &argv))
		return EXIT_USAGE;
	by_owned = by;
	if (argc < 3)
		return cli_usage("tickets note", "which ticket, and what note?");
	text = g_strjoinv(" ", argv + 2);
	if ((store = cli_open_store(cli, &error)) == NULL || !store_begin(store, &error))
		return cli_fail(error);
	if ((ticket = store_ticket_get(store, argv[1], &error)) == NULL ||
	    !store_ticket_event(store, ticket->id, cli_actor(by), "note", text, &error) ||
	    !store_audit(store, cli_actor(by), "note", ticket->ref, text, &error) ||
	    !store_commit(store, &error)) {
		store_rollback(store);
		return cli_fail(error);
	}
	g_print("%s: note added\n", ticket->ref);
	return EXIT_OK;
}

/* `tickets set REF --method post --ground breach --document-type passport`:
 * staff correct what the request asked for. */
static int
tickets_set(cli_t *cli, int argc, char **argv)
{
	char *by = NULL, *method = NULL, *ground = NULL, *document = NULL;
	gboolean clear_attention = FALSE;
	const GOptionEntry entries[] = {
		{"by", 0, 0, G_OPTION_ARG_STRING, &by, "who acts (required)", "NAME"},
		{"method", 0, 0, G_OPTION_ARG_STRING, &method,
		 "how the requester wants the disclosure: email, post, in_person", "M"},
		{"ground", 0, 0, G_OPTION_ARG_STRING, &ground,
		 "the ground of a stop request (beyond_purpose, unlawful_acquisition, improper_use, "
		 "no_longer_needed, breach, rights_harmed, third_party_without_consent)", "G"},
		{"document-type", 0, 0, G_OPTION_ARG_STRING, &document, "the identity document", "T"},
		{"clear-attention", 0, 0, G_OPTION_ARG_NONE, &clear_attention,
		 "staff have looked at what the ticket was flagged for", NULL},
		G_OPTION_ENTRY_NULL,
	};
	static const char *const methods[] = {"email", "post", "in_person", NULL};
	g_autofree char *by_o = NULL, *method_o = NULL, *ground_o = NULL, *document_o = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(store_t) store = NULL;
	g_autoptr(store_ticket_t) ticket = NULL;
	g_autoptr(GString) detail = g_string_new(NULL);

	if (!cli_parse_options("tickets set", "REF --by NAME [--method M] [--ground G] …",
	                       "Record how the requester wants the answer, the ground of a stop "
	                       "request, or the identity document type.",
	                       entries, &argc, &argv))
		return EXIT_USAGE;
	by_o = by, method_o = method, ground_o = ground, document_o = document;
	if (argc != 2)
		return cli_usage("tickets set", "which ticket?");
	if (by == NULL)
		return cli_usage("tickets set", "--by NAME is required: who acts is recorded");
	if (method != NULL && !g_strv_contains(methods, method))
		return cli_usage("tickets set", "--method is email, post or in_person");
	if ((store = cli_open_store(cli, &error)) == NULL || !store_begin(store, &error))
		return cli_fail(error);
	if ((ticket = store_ticket_get(store, argv[1], &error)) == NULL)
		goto fail;
	if (method && !store_ticket_set_field(store, ticket->id, "disclosure_method", method, &error))
		goto fail;
	if (ground && !store_ticket_set_field(store, ticket->id, "stop_ground", ground, &error))
		goto fail;
	if (document && !store_ticket_set_field(store, ticket->id, "document_type", document, &error))
		goto fail;
	if (clear_attention && !store_ticket_set_field(store, ticket->id, "attention", NULL, &error))
		goto fail;
	g_string_append_printf(detail, "%s%s%s%s%s%s%s", method ? "method " : "", method ? method : "",
	                       ground ? " ground " : "", ground ? ground : "",
	                       document ? " document " : "", document ? document : "",
	                       clear_attention ? " attention cleared" : "");
	if (!store_ticket_event(store, ticket->id, by, "set", detail->str, &error) ||
	    !store_audit(store, by, "set", ticket->ref, detail->str, &error) ||
	    !store_commit(store, &error))
		goto fail;
	g_print("%s: %s\n", ticket->ref, detail->str);
	return EXIT_OK;
fail:
	store_rollback(store);
	return cli_fail(error);
}

int
cmd_tickets(cli_t *cli, int argc, char **argv)
{
	static const cli_subcommand_t subcommands[] = {
		{"list", tickets_list, "list tickets [--state S | --overdue | --due-within 3d] [--json]"},
		{"show", tickets_show, "show one ticket [--json]"},
		{"verify", tickets_verify, "identity confirmed: REF --by NAME [--document-type T]"},
		{"reject-id", tickets_reject_id, "ask for another document: REF --by NAME --reason TEXT"},
		{"fee", tickets_fee, "REF --paid|--waived --by NAME [--method bank|postal_order]"},
		{"set-type", tickets_set_type, "decide the type(s): REF TYPE... --by NAME"},
		{"answer", tickets_answer, "draft the result reply: REF --by NAME [--no-data]"},
		{"close", tickets_close, "close an answered ticket: REF --by NAME"},
		{"reject", tickets_reject, "refuse the request: REF --by NAME --reason TEXT"},
		{"extend", tickets_extend, "extend the deadline: REF --until DATE --reason TEXT --by NAME"},
		{"set", tickets_set, "record method, stop ground, document type: REF --by NAME …"},
		{"note", tickets_note, "add a note: REF TEXT"},
		{NULL, NULL, NULL},
	};

	return cli_dispatch(cli, "tickets", subcommands, argc, argv);
}
