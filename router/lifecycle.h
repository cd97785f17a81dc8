/* lifecycle.h — the states a ticket moves through and what each staff
 * action does (pure: a table, no I/O).
 *
 *   new ─▶ awaiting_id ─▶ awaiting_verification ─▶ awaiting_fee ─▶ in_progress ─▶ answered ─▶ closed
 *             ▲ reject-id ─────┘      │ verify (no fee) ─────────────────▲
 *   triage ─set-type─▶ (as a new request)           rejected ◀─ reject (from any open state)
 *
 * awaiting_id and awaiting_fee wait for the requester: the clock stops.
 */
#pragma once

#include "common/config.h"

typedef enum {
	LIFECYCLE_VERIFY,      /* staff confirmed the requester's identity */
	LIFECYCLE_REJECT_ID,   /* the document is not acceptable: ask for another */
	LIFECYCLE_FEE_PAID,
	LIFECYCLE_FEE_WAIVED,
	LIFECYCLE_SET_TYPE,    /* staff decided the request type(s) */
	LIFECYCLE_ANSWER,      /* the result of the request */
	LIFECYCLE_CLOSE,
	LIFECYCLE_REJECT,      /* refused: legal exception, identity not confirmed… */
	LIFECYCLE_EXTEND,      /* the answer will take longer: tell the requester */
	LIFECYCLE_ID_RECEIVED, /* a follow-up brought an identity document */
} lifecycle_action_t;

typedef struct {
	const char *const *types; /* the ticket's request types (after SET_TYPE: the new ones) */
	guint id_documents;       /* usable identity documents on the ticket */
	gboolean no_data;         /* ANSWER: we hold no data about the requester */
	gboolean masking;         /* REJECT_ID: the copy shows a My Number or insurance number */
} lifecycle_input_t;

typedef struct {
	const char *state;      /* the state after the action */
	const char *draft_kind; /* the reply to draft for approval, or NULL */
} lifecycle_step_t;

/* What ACTION does to a ticket in STATE.  Refused with PI_ERROR_REFUSED and
 * a one-line reason ("it is awaiting_fee; answer needs in_progress"). */
gboolean lifecycle_step(const config_t *config, const char *state, lifecycle_action_t action,
                        const lifecycle_input_t *input, lifecycle_step_t *step_out,
                        GError **error);

/* The state a new (or newly typed) request starts in, and its first reply. */
void lifecycle_start(const char *const *types, guint id_documents, lifecycle_step_t *step_out);

/* Does STATE wait for the requester (the clock stops)? */
gboolean lifecycle_state_waits(const char *state);
/* Is STATE still open (not answered, closed or rejected)? */
gboolean lifecycle_state_open(const char *state);
/* Is STATE one of the known states? */
gboolean lifecycle_state_valid(const char *state);

/* "verify", "reject-id", …: the action's name in messages and the audit log. */
const char *lifecycle_action_name(lifecycle_action_t action);

/* The known states, NULL-terminated. */
extern const char *const lifecycle_states[];
