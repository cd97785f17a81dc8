/* lifecycle.c — the state table (see lifecycle.h). */
#include "router/lifecycle.h"

#include "router/router.h"

#include <string.h>

const char *const lifecycle_states[] = {
	"new", "awaiting_id", "awaiting_verification", "awaiting_fee", "in_progress",
	"answered", "closed", "rejected", "triage", NULL,
};

typedef struct {
	lifecycle_action_t action;
	const char *name;
	const char *from[8]; /* states the action is allowed in (NULL-terminated) */
} rule_t;

static const rule_t rules[] = {
	{LIFECYCLE_VERIFY, "verify", {"awaiting_verification", "awaiting_id", NULL}},
	{LIFECYCLE_REJECT_ID, "reject-id", {"awaiting_verification", NULL}},
	{LIFECYCLE_FEE_PAID, "fee --paid", {"awaiting_fee", NULL}},
	{LIFECYCLE_FEE_WAIVED, "fee --waived", {"awaiting_fee", NULL}},
	{LIFECYCLE_SET_TYPE, "set-type",
	 {"triage", "new", "awaiting_id", "awaiting_verification", "awaiting_fee", "in_progress"}},
	{LIFECYCLE_ANSWER, "answer", {"in_progress", NULL}},
	{LIFECYCLE_CLOSE, "close", {"answered", NULL}},
	{LIFECYCLE_REJECT, "reject",
	 {"new", "awaiting_id", "awaiting_verification", "awaiting_fee", "in_progress", "triage"}},
	{LIFECYCLE_EXTEND, "extend", {"awaiting_verification", "in_progress", NULL}},
	{LIFECYCLE_ID_RECEIVED, "id-received", {"awaiting_id", NULL}},
};

static const rule_t *
rule_for(lifecycle_action_t action)
{
	for (gsize i = 0; i < G_N_ELEMENTS(rules); i++) {
		if (rules[i].action == action)
			return &rules[i];
	}
	g_return_val_if_reached(NULL);
}

const char *
lifecycle_action_name(lifecycle_action_t action)
{
	return rule_for(action)->name;
}

gboolean
lifecycle_state_waits(const char *state)
{
	return g_strcmp0(state, "awaiting_id") == 0 || g_strcmp0(state, "awaiting_fee") == 0;
}

gboolean
lifecycle_state_open(const char *state)
{
	return g_strcmp0(state, "answered") != 0 && g_strcmp0(state, "closed") != 0 &&
	       g_strcmp0(state, "rejected") != 0;
}

gboolean
lifecycle_state_valid(const char *state)
{
	return state != NULL && g_strv_contains(lifecycle_states, state);
}

static gboolean
any_type(const char *const *types, gboolean (*pred)(const char *type, gconstpointer data),
         gconstpointer data)
{
	for (const char *const *t = types; t && *t; t++) {
		if (pred(*t, data))
			return TRUE;
	}
	return FALSE;
}

static gboolean
is_not_inquiry(const char *type, gconstpointer data)
{
	(void)data;
	return strcmp(type, "inquiry") != 0;
}

static gboolean
has_fee(const char *type, gconstpointer data)
{
	return config_type_has_fee(data, type);
}

void
lifecycle_start(const char *const *types, guint id_documents, lifecycle_step_t *step)
{
	if (!any_type(types, is_not_inquiry, NULL)) {
		/* A question only: nobody's data is disclosed, no identity needed. */
		step->state = "in_progress";
		step->draft_kind = "ack";
	} else if (id_documents > 0) {
		step->state = "awaiting_verification";
		step->draft_kind = "ack";
	} else {
		step->state = "awaiting_id";
		step->draft_kind = "id_missing";
	}
}

/* The result reply for the primary type. */
static const char *
answer_kind(const char *const *types, gboolean no_data)
{
	const char *primary = types && types[0] ? types[0] : "inquiry";

	if (strcmp(primary, "inquiry") == 0)
		return "inquiry_answer";
	if (no_data)
		return "no_data";
	if (strcmp(primary, "correction") == 0)
		return "correction_done";
	if (strcmp(primary, "stop_use") == 0)
		return "stop_use_done";
	if (strcmp(primary, "stop_third_party") == 0)
		return "stop_third_party_done";
	return "disclosure_result"; /* disclosure, notification of purpose, records */
}

gboolean
lifecycle_step(const config_t *config, const char *state, lifecycle_action_t action,
               const lifecycle_input_t *in, lifecycle_step_t *step, GError **error)
{
	const rule_t *rule = rule_for(action);

	memset(step, 0, sizeof(*step));
	if (!g_strv_contains(rule->from, state)) {
		g_autoptr(GString) allowed = g_string_new(NULL);
		for (const char *const *s = rule->from; *s; s++)
			g_string_append_printf(allowed, "%s%s", allowed->len ? " or " : "", *s);
		g_set_error(error, ROUTER_ERROR, PI_ERROR_REFUSED, "it is %s; %s needs %s", state,
		            rule->name, allowed->str);
		return FALSE;
	}
	switch (action) {
	case LIFECYCLE_VERIFY:
		if (any_type(in->types, has_fee, config)) {
			step->state = "awaiting_fee";
			step->draft_kind = "id_confirmed_fee";
		} else {
			step->state = "in_progress";
			step->draft_kind = NULL; /* the next reply is the result */
		}
		break;
	case LIFECYCLE_REJECT_ID:
		step->state = "awaiting_id";
		step->draft_kind = in->masking ? "id_masking" : "id_unacceptable";
		break;
	case LIFECYCLE_FEE_PAID:
		step->state = "in_progress";
		step->draft_kind = "fee_received";
		break;
	case LIFECYCLE_FEE_WAIVED:
		step->state = "in_progress";
		break;
	case LIFECYCLE_SET_TYPE:
		if (in->types == NULL || in->types[0] == NULL) {
			g_set_error(error, ROUTER_ERROR, PI_ERROR_REFUSED, "set-type needs at least one type");
			return FALSE;
		}
		if (strcmp(state, "triage") == 0 || strcmp(state, "new") == 0) {
			lifecycle_start(in->types, in->id_documents, step);
		} else if (strcmp(state, "awaiting_fee") == 0 && !any_type(in->types, has_fee, config)) {
			step->state = "in_progress"; /* no fee-bearing type is left */
		} else {
			step->state = state;
		}
		break;
	case LIFECYCLE_ANSWER:
		step->state = "answered";
		step->draft_kind = answer_kind(in->types, in->no_data);
		break;
	case LIFECYCLE_CLOSE:
		step->state = "closed";
		break;
	case LIFECYCLE_REJECT:
		step->state = "rejected";
		step->draft_kind = "refusal";
		break;
	case LIFECYCLE_EXTEND:
		step->state = state;
		step->draft_kind = "deadline_extension";
		break;
	case LIFECYCLE_ID_RECEIVED:
		step->state = "awaiting_verification";
		break;
	}
	return TRUE;
}
