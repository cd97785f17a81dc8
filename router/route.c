/* route.c — router_route(): one raw message, one transaction (router_parse()
 * then router_route_parsed(), which cli/worker.c runs in two threads). */
#include "router/router-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

router_t *
router_new(const config_t *config, store_t *store, parser_t *parser, catalogue_t *catalogue)
{
	router_t *router = g_new0(router_t, 1);

	router->config = config;
	router->store = store;
	router->parser = parser;
	router->catalogue = catalogue;
	return router;
}

void
router_free(router_t *router)
{
	g_free(router);
}

void
router_set_catalogue(router_t *router, catalogue_t *catalogue)
{
	router->catalogue = catalogue;
}

void
router_result_clear(router_result_t *result)
{
	g_clear_pointer(&result->ticket_ref, g_free);
	g_clear_pointer(&result->summary, g_free);
}

/* ---- attachment sink: decoded bytes go straight into the spool ------- */

typedef struct {
	store_t *store;
	GPtrArray *files; /* spool_file_t*, freed (and unkept ones deleted) at the end */
} sink_ctx_t;

static GMimeStream *
sink_open(gpointer user_data, gpointer *sink_data_out, GError **error)
{
	sink_ctx_t *ctx = user_data;
	/* The parser hashes what it writes here (parser_attachment_t.sha256):
	 * the spool takes that digest instead of computing it again. */
	spool_file_t *file = store_spool_file_new_hashed_by_caller(ctx->store, error);

	if (file == NULL)
		return NULL;
	g_ptr_array_add(ctx->files, file);
	*sink_data_out = file;
	return spool_file_stream(file);
}

static gboolean
sink_close(gpointer user_data, parser_attachment_t *attachment, GError **error)
{
	(void)user_data;
	/* Only ID documents are kept: router_route() moves them into place
	 * after parsing; every other sink file is deleted when freed. */
	if (attachment->kind != ATTACHMENT_ID_DOCUMENT || attachment->sink_data == NULL)
		return TRUE;
	return spool_file_finish_hashed(attachment->sink_data, attachment->sha256, attachment->size,
	                                error);
}

/* ---- facts ------------------------------------------------------------ */

static gboolean
find_thread(store_t *store, const parser_request_t *request, store_ticket_t **ticket_out,
            GError **error)
{
	g_autoptr(GPtrArray) ids = g_ptr_array_new();
	gint64 id = 0;

	*ticket_out = NULL;
	/* a bounce names the mail that came back: one of our replies */
	if (request->bounce_message_id != NULL)
		g_ptr_array_add(ids, request->bounce_message_id);
	if (request->in_reply_to != NULL)
		g_ptr_array_add(ids, request->in_reply_to);
	for (guint i = request->references->len; i > 0; i--)
		g_ptr_array_add(ids, g_ptr_array_index(request->references, i - 1));
	for (guint i = 0; i < ids->len && id == 0; i++) {
		id = store_ticket_by_message_id(store, g_ptr_array_index(ids, i), error);
		if (id < 0)
			return FALSE;
	}
	if (id > 0 && (*ticket_out = store_ticket_get_by_id(store, id, error)) == NULL)
		return FALSE;
	return TRUE;
}

/* ---- the transaction -------------------------------------------------- */

typedef struct {
	router_t *router;
	const parser_request_t *request;
	const router_decision_t *decision;
	const router_origin_t *origin;
	spool_file_t *raw;
	const char *raw_path;
	GHashTable *kept; /* parser_attachment_t* → spool-relative path */
	GDateTime *received;
	router_result_t *result;
} route_job_t;

/* A NULL-terminated view of STRINGS (borrowed strings; free the array only). */
static GPtrArray *
strv_view(const GPtrArray *strings)
{
	GPtrArray *v = g_ptr_array_sized_new(strings->len + 1);

	for (guint i = 0; i < strings->len; i++)
		g_ptr_array_add(v, g_ptr_array_index(strings, i));
	g_ptr_array_add(v, NULL);
	return v;
}

/* The template left something unfilled (or is missing): no draft that could
 * be sent; the ticket is flagged for staff with the reason, and the message
 * is still recorded (a template problem never blocks ingestion). */
static gboolean
withhold_draft(route_job_t *job, const store_ticket_t *ticket, const char *why, GError **error)
{
	g_autofree char *reason =
	    g_strdup_printf("reply \"%s\" not drafted: %s", job->decision->draft_kind, why);

	g_warning("%s: %s", ticket->ref, reason);
	return store_ticket_set_field(job->router->store, ticket->id, "attention", reason, error) &&
	       store_ticket_event(job->router->store, ticket->id, "privacy-inbox", "template",
	                          reason, error);
}

static gboolean
draft_reply(route_job_t *job, const store_ticket_t *ticket, GError **error)
{
	router_t *router = job->router;
	const parser_request_t *request = job->request;
	g_autoptr(JsonNode) context =
	    router_reply_context(router->config, ticket, request, job->received);
	g_autoptr(catalogue_rendering_t) r = NULL;
	g_autoptr(GPtrArray) refs = g_ptr_array_new();
	store_draft_new_t draft = {0};
	gboolean auto_send;

	{
		g_autoptr(GError) local = NULL;

		r = catalogue_render(router->catalogue, job->decision->draft_kind, ticket->language,
		                     context, &local);
		if (r == NULL && local->domain == TMPL_ERROR)
			return withhold_draft(job, ticket, local->message, error);
		if (r == NULL) {
			g_propagate_error(error, g_steal_pointer(&local));
			return FALSE;
		}
	}
	/* The wording this reply came from, kept for `drafts show`. */
	if (!store_template_version_use(router->store, r->version->kind, r->version->language,
	                                r->hash, r->version->text, r->version->partials, error))
		return FALSE;
	for (guint i = 0; i < request->references->len; i++)
		g_ptr_array_add(refs, g_ptr_array_index(request->references, i));
	if (request->message_id != NULL)
		g_ptr_array_add(refs, request->message_id);
	g_ptr_array_add(refs, NULL);

	auto_send = r->auto_send && r->missing->len == 0 &&
	            config_kind_auto_send(router->config, job->decision->draft_kind);
	draft.ticket_id = ticket->id;
	draft.kind = job->decision->draft_kind;
	draft.language = ticket->language;
	draft.state = auto_send ? "approved" : "pending";
	draft.approved_by = auto_send ? "policy (auto_send)" : NULL;
	draft.to_address = ticket->requester_address;
	draft.to_name = ticket->requester_name;
	draft.subject = r->subject; /* catalogue_render() puts [reference] in it */
	draft.body = r->body;
	draft.in_reply_to = request->message_id;
	draft.references = (const char *const *)refs->pdata;
	draft.template_hash = r->hash;
	draft.auto_submitted = TRUE;
	job->result->draft_id = store_draft_insert(router->store, &draft, error);
	if (job->result->draft_id != 0) {
		g_autofree char *detail = g_strdup_printf(
		    "draft %" G_GINT64_FORMAT " (%s, %s) created%s", job->result->draft_id,
		    job->decision->draft_kind, ticket->language,
		    auto_send ? " and approved by policy (auto_send)" : "");
		if (!store_audit(router->store, "privacy-inbox", "draft created", ticket->ref, detail,
		                 error))
			return FALSE;
	}
	return job->result->draft_id != 0;
}

static gboolean
record_message(route_job_t *job, gint64 ticket_id, GError **error)
{
	const parser_request_t *req = job->request;
	const router_origin_t *origin = job->origin;
	g_autoptr(GPtrArray) refs = strv_view(req->references);
	g_autoptr(GPtrArray) types = strv_view(req->request_types);
	g_autofree char *internal = NULL;
	g_autofree char *date = NULL;
	store_message_t m = {0};
	gint64 row;

	if (origin && origin->internal_date)
		internal = g_date_time_format_iso8601(origin->internal_date);
	if (req->date != NULL)
		date = g_date_time_format_iso8601(req->date);
	m.direction = "in";
	m.message_id = req->message_id;
	m.sha256 = spool_file_sha256(job->raw);
	m.raw_path = job->raw_path;
	m.size = spool_file_size(job->raw);
	m.mailbox = origin ? origin->mailbox : NULL;
	m.uidvalidity = origin ? origin->uidvalidity : 0;
	m.uid = origin ? origin->uid : 0;
	m.internal_date = internal;
	m.from_address = req->from_address;
	m.from_name = req->from_name;
	m.subject = req->subject;
	m.date = date;
	m.in_reply_to = req->in_reply_to;
	m.references = (const char *const *)refs->pdata;
	m.language = req->language;
	m.request_types = (const char *const *)types->pdata;
	m.is_auto = req->is_auto;
	m.auto_reason = req->auto_reason;
	m.problem = req->problem;
	m.text = req->text;
	m.ticket_id = ticket_id;
	row = store_message_insert(job->router->store, &m, error);
	if (row == 0)
		return FALSE;
	for (guint i = 0; i < req->attachments->len; i++) {
		parser_attachment_t *a = g_ptr_array_index(req->attachments, i);
		store_attachment_t sa = {0};

		sa.message_row = row;
		sa.ticket_id = ticket_id;
		sa.filename = a->filename;
		sa.declared_type = a->declared_type;
		sa.content_type = a->content_type;
		sa.sha256 = a->sha256;
		sa.size = a->size;
		sa.kind = parser_attachment_kind_name(a->kind);
		sa.reason = a->reason;
		sa.spool_path = g_hash_table_lookup(job->kept, a);
		if (store_attachment_insert(job->router->store, &sa, error) == 0)
			return FALSE;
	}
	return TRUE;
}

static gboolean
apply(route_job_t *job, GError **error)
{
	router_t *router = job->router;
	store_t *store = router->store;
	const router_decision_t *d = job->decision;
	const parser_request_t *req = job->request;
	const router_origin_t *origin = job->origin;
	router_result_t *result = job->result;
	g_autoptr(store_ticket_t) ticket = NULL;
	gint64 ticket_id = d->ticket_id;

	if (d->outcome == ROUTE_NEW_TICKET || d->outcome == ROUTE_TRIAGE) {
		g_autoptr(GPtrArray) types = g_ptr_array_new();

		ticket = g_new0(store_ticket_t, 1);
		for (guint i = 0; i < req->request_types->len; i++)
			g_ptr_array_add(types, g_strdup(g_ptr_array_index(req->request_types, i)));
		g_ptr_array_add(types, NULL);
		ticket->request_types = (char **)g_ptr_array_free(g_steal_pointer(&types), FALSE);
		ticket->state = g_strdup(d->state);
		ticket->requester_address = g_strdup(req->from_address);
		ticket->requester_name = g_strdup(req->from_name);
		ticket->language = g_strdup(req->language);
		ticket->triage_reason = g_strdup(d->triage_reason);
		ticket->attention = g_strdup(d->attention);
		ticket->linked_ticket_id = d->linked_ticket_id;
		ticket->created_at = pi_iso8601(job->received);
		ticket->disclosure_method = g_strdup(router_detect_disclosure_method(req->text));
		if (g_ptr_array_find_with_equal_func(req->request_types, "stop_use", g_str_equal, NULL) ||
		    g_ptr_array_find_with_equal_func(req->request_types, "stop_third_party", g_str_equal,
		                                     NULL))
			ticket->stop_ground = g_strdup(router_detect_stop_ground(req->text));
		router_ticket_start_clock(router->config, ticket, job->received);
		if (!store_ticket_open(store, ticket, error))
			return FALSE;
		ticket_id = ticket->id;
		result->ticket_ref = g_strdup(ticket->ref);
	} else if (ticket_id > 0) {
		ticket = store_ticket_get_by_id(store, ticket_id, error);
		if (ticket == NULL)
			return FALSE;
		result->ticket_ref = g_strdup(ticket->ref);
	}

	if (d->outcome != ROUTE_DUPLICATE && !record_message(job, ticket_id, error))
		return FALSE;

	if (d->outcome == ROUTE_FOLLOW_UP) {
		g_autofree char *detail = g_strdup_printf(
		    "follow-up from %s%s", req->from_address ? req->from_address : "?",
		    req->id_document_count ? " with an identity document" : "");
		if (!store_ticket_event(store, ticket_id, "privacy-inbox", "message", detail, error))
			return FALSE;
		if (d->state != NULL) {
			g_autofree char *change =
			    g_strdup_printf("%s → %s: identity document received", ticket->state, d->state);
			if (!router_ticket_change_state(router->config, store, ticket, d->state,
			                                "privacy-inbox", "identity document received",
			                                error) ||
			    !store_audit(store, "privacy-inbox", "state change", ticket->ref, change, error))
				return FALSE;
		}
	}
	if (ticket != NULL && d->outcome != ROUTE_NEW_TICKET && d->outcome != ROUTE_TRIAGE &&
	    d->attention != NULL) {
		/* something staff must see on a ticket that already exists */
		gboolean known = ticket->attention && strstr(ticket->attention, d->attention);
		g_autofree char *both =
		    ticket->attention ? g_strconcat(ticket->attention, "; ", d->attention, NULL) : NULL;
		if ((!known && !store_ticket_set_field(store, ticket_id, "attention",
		                                       both ? both : d->attention, error)) ||
		    !store_ticket_event(store, ticket_id, "privacy-inbox", "attention", d->attention,
		                        error) ||
		    !store_audit(store, "privacy-inbox", "attention", ticket->ref, d->attention, error))
			return FALSE;
	}
	if ((d->outcome == ROUTE_NEW_TICKET || d->outcome == ROUTE_TRIAGE) &&
	    (req->forwarded_by != NULL || req->document_type != NULL)) {
		/* what the parser learnt that the ticket's fields do not hold */
		g_autoptr(GString) note = g_string_new(NULL);
		if (req->forwarded_by != NULL)
			g_string_append_printf(note, "forwarded by %s", req->forwarded_by);
		if (req->document_type != NULL)
			g_string_append_printf(note, "%sidentity document looks like: %s",
			                       note->len ? "; " : "", req->document_type);
		if (!store_ticket_event(store, ticket_id, "privacy-inbox", "parsed", note->str, error))
			return FALSE;
	}
	if (d->draft_kind != NULL && !draft_reply(job, ticket, error))
		return FALSE;

	if (origin != NULL && origin->mailbox != NULL) {
		guint32 validity, last;
		if (!store_mailbox_get(store, origin->mailbox, &validity, &last, error))
			return FALSE;
		if (validity != origin->uidvalidity || origin->uid > last) {
			if (!store_mailbox_set(store, origin->mailbox, origin->uidvalidity,
			                       MAX(origin->uid, validity == origin->uidvalidity ? last : 0),
			                       error))
				return FALSE;
		}
		if (!store_server_pending_add(store, origin->mailbox, origin->uidvalidity, origin->uid,
		                              error))
			return FALSE;
	}
	if (d->outcome != ROUTE_DUPLICATE) {
		static const char *const names[] = {"ticket opened", "ticket opened for triage",
		                                    "follow-up", "automatic mail", "duplicate"};
		g_autofree char *detail = g_strdup_printf(
		    "%s: Message-ID <%s>%s%s", names[d->outcome],
		    req->message_id ? req->message_id : "none",
		    req->auto_reason ? "; " : "", req->auto_reason ? req->auto_reason : "");
		if (!store_audit(store, "privacy-inbox", "message received", result->ticket_ref,
		                 detail, error))
			return FALSE;
	}
	return TRUE;
}

static char *
summarize(const router_decision_t *d, const parser_request_t *req, const router_result_t *r)
{
	const char *id = req && req->message_id ? req->message_id : "(no Message-ID)";

	switch (d->outcome) {
	case ROUTE_NEW_TICKET:
		if (d->draft_kind != NULL && r->draft_id == 0)
			return g_strdup_printf("%s: opened %s (%s, %s); reply %s NOT drafted (template "
			                       "problem: the ticket says why)",
			                       id, r->ticket_ref, parser_request_primary_type(req), d->state,
			                       d->draft_kind);
		return g_strdup_printf("%s: opened %s (%s, %s), drafted %s", id, r->ticket_ref,
		                       parser_request_primary_type(req), d->state, d->draft_kind);
	case ROUTE_TRIAGE:
		return g_strdup_printf("%s: opened %s for triage: %s", id, r->ticket_ref,
		                       d->triage_reason);
	case ROUTE_FOLLOW_UP:
		return g_strdup_printf("%s: joined %s%s%s", id, r->ticket_ref,
		                       d->state ? ", now " : "", d->state ? d->state : "");
	case ROUTE_AUTO:
		return g_strdup_printf("%s: automatic mail (%s), recorded without reply%s%s", id,
		                       req->auto_reason ? req->auto_reason : "?",
		                       r->ticket_ref ? " on " : "", r->ticket_ref ? r->ticket_ref : "");
	default:
		return g_strdup_printf("%s: already recorded, skipped", id);
	}
}

/* ---- parsing (no database) -------------------------------------------- */

struct router_parsed {
	spool_file_t *raw;
	gboolean owns_raw;          /* FALSE for router_route()'s borrowed RAW */
	GPtrArray *files;           /* spool_file_t*: the ID documents' files, unkept ones
	                             * deleted when freed */
	parser_request_t *request;
};

void
router_parsed_free(router_parsed_t *parsed)
{
	if (parsed == NULL)
		return;
	g_clear_pointer(&parsed->request, parser_request_free);
	g_clear_pointer(&parsed->files, g_ptr_array_unref);
	if (parsed->owns_raw)
		spool_file_free(parsed->raw);
	g_free(parsed);
}

gsize
router_parsed_size(const router_parsed_t *parsed)
{
	const parser_request_t *req = parsed->request;
	gsize size = sizeof(*parsed) + sizeof(*req) + 1024; /* headers, types, evidence */

	if (req->text != NULL)
		size += strlen(req->text);
	size += req->attachments->len * (sizeof(parser_attachment_t) + 256);
	return size;
}

/* Keep only the files of ID documents: every other sink file (deleted
 * anyway) is let go now, not held open while the message waits. */
static void
drop_other_files(router_parsed_t *parsed)
{
	g_autoptr(GHashTable) documents = g_hash_table_new(g_direct_hash, g_direct_equal);
	GPtrArray *attachments = parsed->request->attachments;

	for (guint i = 0; i < attachments->len; i++) {
		parser_attachment_t *a = g_ptr_array_index(attachments, i);

		if (a->kind == ATTACHMENT_ID_DOCUMENT && a->sink_data != NULL)
			g_hash_table_add(documents, a->sink_data);
		else
			a->sink_data = NULL;
	}
	for (guint i = parsed->files->len; i > 0; i--) {
		if (!g_hash_table_contains(documents, g_ptr_array_index(parsed->files, i - 1)))
			g_ptr_array_remove_index_fast(parsed->files, i - 1);
	}
}

static router_parsed_t *
parse_raw(store_t *store, parser_t *parser, spool_file_t *raw, gboolean owns_raw, GError **error)
{
	g_autoptr(router_parsed_t) parsed = g_new0(router_parsed_t, 1);
	g_autoptr(GMimeStream) stream = NULL;
	sink_ctx_t sink_ctx = {store, NULL};
	parser_sink_t sink = {sink_open, sink_close, &sink_ctx};

	parsed->raw = raw;
	parsed->owns_raw = owns_raw;
	parsed->files = g_ptr_array_new_with_free_func((GDestroyNotify)spool_file_free);
	sink_ctx.files = parsed->files;
	if (!spool_file_finish(raw, error))
		return NULL;

	if (spool_file_plaintext(raw) != NULL) {
		/* A small message, still in memory (bounded by the spool). */
		stream = g_mime_stream_mem_new_with_byte_array(spool_file_plaintext(raw));
		g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(stream), FALSE);
	} else {
		/* Parse from the spool file, so memory does not grow with its size. */
		int fd = open(spool_file_path(raw), O_RDONLY | O_CLOEXEC);

		if (fd < 0) {
			g_set_error(error, ROUTER_ERROR, PI_ERROR_FATAL, "cannot reopen %s: %s",
			            spool_file_path(raw), g_strerror(errno));
			return NULL;
		}
		stream = parser_file_stream_new(fd);
	}
	parsed->request = parser_parse_stream(parser, stream, &sink, error);
	if (parsed->request == NULL)
		return NULL;
	/* Routing needs only the ciphertext: the plaintext's memory (or file)
	 * goes to the next message while this one waits for the router. */
	g_clear_object(&stream);
	spool_file_drop_plaintext(raw);
	drop_other_files(parsed);
	return g_steal_pointer(&parsed);
}

router_parsed_t *
router_parse(store_t *store, parser_t *parser, spool_file_t *raw, GError **error)
{
	/* RAW is taken: on failure it goes with the half-made parse. */
	return parse_raw(store, parser, raw, TRUE, error);
}

/* ---- routing (the facts, the files, the transaction) ------------------- */

gboolean
router_route_parsed(router_t *router, router_parsed_t *parsed, const router_origin_t *origin,
                    router_result_t *result_out, GError **error)
{
	store_t *store = router->store;
	spool_file_t *raw = parsed->raw;
	const parser_request_t *request = parsed->request;
	g_autoptr(GHashTable) kept = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	g_autoptr(store_ticket_t) thread = NULL;
	g_autoptr(store_ticket_t) ref_ticket = NULL;
	g_autoptr(GDateTime) now = pi_now();
	g_autofree char *raw_path = NULL;
	router_facts_t facts = {0};
	router_decision_t decision = {0};
	route_job_t job = {0};
	gint64 dup;

	memset(result_out, 0, sizeof(*result_out));
	dup = store_message_find_duplicate(store, origin ? origin->mailbox : NULL,
	                                   origin ? origin->uidvalidity : 0, origin ? origin->uid : 0,
	                                   request->message_id, spool_file_sha256(raw), error);
	if (dup < 0)
		return FALSE;
	facts.duplicate = dup > 0;
	if (!facts.duplicate) {
		if (!find_thread(store, request, &thread, error))
			return FALSE;
		if (request->ticket_ref != NULL) {
			g_autoptr(GError) local = NULL;
			ref_ticket = store_ticket_get(store, request->ticket_ref, &local);
			if (ref_ticket == NULL && !g_error_matches(local, STORE_ERROR, PI_ERROR_NOT_FOUND)) {
				g_propagate_error(error, g_steal_pointer(&local));
				return FALSE;
			}
		}
	}
	facts.thread_ticket = thread;
	facts.ref_ticket = ref_ticket;
	if (!facts.duplicate && request->from_address != NULL) {
		g_autoptr(GDateTime) day_ago = g_date_time_add_days(now, -1);
		g_autofree char *since = pi_iso8601(day_ago);
		gint64 n = store_auto_replies_since(store, request->from_address, since, error);
		if (n < 0)
			return FALSE;
		facts.auto_replies_today = (guint)n;
	}
	router_decide(router->config, request, &facts, &decision);

	/* Files first (content-addressed, so a retry after a crash finds them
	 * in place), then the one transaction that makes them count. */
	if (decision.outcome != ROUTE_DUPLICATE) {
		raw_path = spool_file_keep(raw, "messages", error);
		if (raw_path == NULL)
			goto fail;
		for (guint i = 0; i < request->attachments->len; i++) {
			parser_attachment_t *a = g_ptr_array_index(request->attachments, i);
			char *path;
			if (a->kind != ATTACHMENT_ID_DOCUMENT || a->sink_data == NULL)
				continue;
			path = spool_file_keep(a->sink_data, "documents", error);
			if (path == NULL)
				goto fail;
			g_hash_table_insert(kept, a, path);
		}
	}

	job.router = router;
	job.request = request;
	job.decision = &decision;
	job.origin = origin;
	job.raw = raw;
	job.raw_path = raw_path;
	job.kept = kept;
	job.received = origin && origin->internal_date ? origin->internal_date : now;
	job.result = result_out;
	if (!store_begin(store, error))
		goto fail;
	if (!apply(&job, error)) {
		store_rollback(store);
		router_result_clear(result_out);
		goto fail;
	}
	if (!store_commit(store, error)) {
		router_result_clear(result_out);
		goto fail;
	}
	result_out->outcome = decision.outcome;
	result_out->summary = summarize(&decision, request, result_out);
	g_free(decision.triage_reason);
	g_free(decision.attention);
	return TRUE;
fail:
	g_free(decision.triage_reason);
	g_free(decision.attention);
	return FALSE;
}

gboolean
router_route(router_t *router, spool_file_t *raw, const router_origin_t *origin,
             router_result_t *result_out, GError **error)
{
	g_autoptr(router_parsed_t) parsed = NULL;

	memset(result_out, 0, sizeof(*result_out));
	parsed = parse_raw(router->store, router->parser, raw, FALSE, error);
	if (parsed == NULL)
		return FALSE;
	return router_route_parsed(router, parsed, origin, result_out, error);
}
