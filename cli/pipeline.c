/* pipeline.c — see pipeline.h. */
#include "cli/pipeline.h"
#include "cli/worker.h"

#include "cli/daemon.h"

#include "fetcher/fetcher.h"
#include "sender/sender.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct pipeline {
	cli_t *cli;
	const config_t *config;
	store_t *store;
	parser_t *parser;
	catalogue_t *catalogue;
	router_t *router;
	pipeline_report_fn report;
	credentials_t *credentials; /* borrowed; NULL without OAuth2 */
	char *templates_rejected;   /* fingerprint of the broken catalogue last reported */
};

/* Messages between the fetching and the router thread (files in spool/tmp;
 * once parsed, the request in memory): enough to ride out a slow message
 * on any side. */
#define WORKER_QUEUE 8
/* and the memory their requests may hold (the text of a message is capped
 * at 4 MiB by the parser; one message always gets in) */
#define WORKER_QUEUE_BYTES (4u << 20)
/* Empty spool files kept ready (store_spool_prepare()). */
#define SPARE_FILES 16

static GHashTable *fault_hits;

/* Would the next pipeline_fault_point(POINT) stop the process? */
static gboolean
fault_would_stop(const char *point)
{
	const char *spec = g_getenv("PRIVACY_INBOX_FAULT");
	g_auto(GStrv) parts = NULL;
	guint want = 1, n;

	if (spec == NULL || *spec == '\0')
		return FALSE;
	parts = g_strsplit(spec, ":", 2);
	if (strcmp(parts[0], point) != 0)
		return FALSE;
	if (parts[1] != NULL)
		want = (guint)g_ascii_strtoull(parts[1], NULL, 10);
	n = fault_hits ? GPOINTER_TO_UINT(g_hash_table_lookup(fault_hits, point)) : 0;
	return n + 1 >= want;
}

void
pipeline_fault_point(const char *point)
{
	const char *spec = g_getenv("PRIVACY_INBOX_FAULT");
	g_auto(GStrv) parts = NULL;
	guint want = 1, n;

	if (spec == NULL || *spec == '\0')
		return;
	parts = g_strsplit(spec, ":", 2);
	if (strcmp(parts[0], point) != 0)
		return;
	if (parts[1] != NULL)
		want = (guint)g_ascii_strtoull(parts[1], NULL, 10);
	if (fault_hits == NULL)
		fault_hits = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	n = GPOINTER_TO_UINT(g_hash_table_lookup(fault_hits, point)) + 1;
	g_hash_table_insert(fault_hits, g_strdup(point), GUINT_TO_POINTER(n));
	if (n >= want) {
		g_printerr("privacy-inbox: fault injection: stopping at %s\n", point);
		_exit(99);
	}
}

static void
report(pipeline_t *p, const char *format, ...) G_GNUC_PRINTF(2, 3);

static void
report(pipeline_t *p, const char *format, ...)
{
	va_list args;
	g_autofree char *line = NULL;

	va_start(args, format);
	line = g_strdup_vprintf(format, args);
	va_end(args);
	if (p->report)
		p->report(line);
}

pipeline_t *
pipeline_open(cli_t *cli, pipeline_report_fn report_fn, GError **error)
{
	g_autoptr(pipeline_t) p = g_new0(pipeline_t, 1);

	p->cli = cli;
	p->report = report_fn;
	p->config = cli_config(cli, error);
	if (p->config == NULL)
		return NULL;
	if ((p->parser = cli_new_parser(cli, error)) == NULL ||
	    (p->catalogue = cli_load_catalogue(cli, error)) == NULL ||
	    (p->store = cli_open_store(cli, error)) == NULL)
		return NULL;
	p->router = router_new(p->config, p->store, p->parser, p->catalogue);
	return g_steal_pointer(&p);
}

void
pipeline_free(pipeline_t *p)
{
	if (p == NULL)
		return;
	router_free(p->router);
	store_free(p->store);
	catalogue_free(p->catalogue);
	parser_free(p->parser);
	g_free(p->templates_rejected);
	g_free(p);
}

static void
count(pipeline_stats_t *stats, route_outcome_t outcome)
{
	switch (outcome) {
	case ROUTE_NEW_TICKET:
		stats->tickets++;
		break;
	case ROUTE_TRIAGE:
		stats->triage++;
		break;
	case ROUTE_FOLLOW_UP:
		stats->follow_ups++;
		break;
	case ROUTE_AUTO:
		stats->automatic++;
		break;
	case ROUTE_DUPLICATE:
		stats->duplicates++;
		break;
	}
}

/* After router_route() or router_route_parsed(): counted, reported, and
 * the fault point after the commit. */
static gboolean
routed(pipeline_t *p, const router_origin_t *origin, router_result_t *result,
       pipeline_stats_t *stats, GError **error)
{
	stats->fetched++;
	count(stats, result->outcome);
	if (origin != NULL && origin->mailbox != NULL)
		report(p, "UID %u: %s", origin->uid, result->summary);
	else
		report(p, "%s", result->summary);
	router_result_clear(result);
	/* In a group the message is not committed yet: make it so before the
	 * fault point, whose meaning is "committed, server not updated". */
	if (store_group_active(p->store) && fault_would_stop("after-commit") &&
	    !store_group_commit(p->store, error))
		return FALSE;
	pipeline_fault_point("after-commit");
	return TRUE;
}

/* ---- fetching --------------------------------------------------------- */

typedef struct {
	pipeline_t *p;
	pipeline_stats_t *stats; /* updated by the router thread only */
	const char *mailbox;
	guint32 uidvalidity;
	spool_file_t *file; /* the message arriving now */
	worker_t *worker;   /* routes what arrived (cli/worker.c) */
	fetcher_sink_t sink;
} fetch_ctx_t;

static gboolean
on_chunk(const char *data, gsize len, gpointer user_data, GError **error)
{
	fetch_ctx_t *ctx = user_data;

	if (ctx->file == NULL &&
	    (ctx->file = store_spool_file_new_buffered(ctx->p->store, error)) == NULL)
		return FALSE;
	return spool_file_write(ctx->file, data, len, error);
}

/* A fetched message on its way through the worker (cli/worker.c): the
 * finished spool file, then what the parse thread made of it. */
typedef struct {
	spool_file_t *file;
	router_parsed_t *parsed;
} fetched_t;

static void
fetched_free(gpointer data)
{
	fetched_t *fetched = data;

	spool_file_free(fetched->file);
	router_parsed_free(fetched->parsed);
	g_free(fetched);
}

/* A whole message arrived: to the worker (parsing and routing overlap the
 * next fetch). */
static gboolean
on_done(const fetcher_message_t *message, gpointer user_data, GError **error)
{
	fetch_ctx_t *ctx = user_data;
	g_autoptr(spool_file_t) file = g_steal_pointer(&ctx->file);
	fetched_t *fetched;

	/* A stop request: what the worker has in hand is finished, the rest
	 * waits for the next run. */
	if (cli_stop_requested) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "stopped by signal");
		return FALSE;
	}
	if (file == NULL && (file = store_spool_file_new_buffered(ctx->p->store, error)) == NULL)
		return FALSE;
	/* Finished here, in the fetching thread (the last chunk, the binding). */
	if (!spool_file_finish(file, error))
		return FALSE;
	fetched = g_new0(fetched_t, 1);
	fetched->file = g_steal_pointer(&file);
	return worker_push(ctx->worker, fetched, message->uid, message->internal_date, error);
}

/* In the parse thread: parse one fetched message (no database).  The
 * parser is p->parser: during a sync no other thread uses it. */
static gboolean
parse_fetched(gpointer data, gpointer message, guint32 uid, gsize *size_out, GError **error)
{
	fetch_ctx_t *ctx = data;
	fetched_t *fetched = message;

	fetched->parsed =
	    router_parse(ctx->p->store, ctx->p->parser, g_steal_pointer(&fetched->file), error);
	if (fetched->parsed == NULL) {
		g_prefix_error(error, "UID %u: ", uid);
		return FALSE;
	}
	*size_out = router_parsed_size(fetched->parsed);
	return TRUE;
}

/* In the router thread: the crash-safe routing of one parsed message. */
static gboolean
route_fetched(gpointer data, gpointer message, guint32 uid, GDateTime *internal_date,
              GError **error)
{
	fetch_ctx_t *ctx = data;
	fetched_t *fetched = message;
	router_origin_t origin = {ctx->mailbox, ctx->uidvalidity, uid, internal_date};
	router_result_t result = {0};

	pipeline_fault_point("before-commit");
	if (!router_route_parsed(ctx->p->router, fetched->parsed, &origin, &result, error))
		return FALSE;
	/* The lightest of the three threads makes the files the next messages
	 * and their identity documents will be written to. */
	store_spool_prepare(ctx->p->store, SPARE_FILES);
	return routed(ctx->p, &origin, &result, ctx->stats, error);
}

static gboolean
mark_processed(pipeline_t *p, fetcher_t *f, const char *mailbox, guint32 uidvalidity,
               GArray *uids, GError **error)
{
	if (uids->len == 0)
		return TRUE;
	if (!fetcher_mark_processed(f, (const guint32 *)(const void *)uids->data, uids->len, error))
		return FALSE;
	return store_server_pending_done(p->store, mailbox, uidvalidity,
	                                 (const guint32 *)(const void *)uids->data, uids->len, error);
}

/* The server updates of committed UIDs recorded, in the router thread. */
typedef struct {
	const char *mailbox;
	guint32 uidvalidity;
	GArray *uids;
} server_done_t;

static void
server_done_free(gpointer data)
{
	server_done_t *done = data;

	g_array_unref(done->uids);
	g_free(done);
}

static gboolean
server_done(store_t *store, gpointer data, GError **error)
{
	server_done_t *done = data;

	return store_server_pending_done(store, done->mailbox, done->uidvalidity,
	                                 (const guint32 *)(const void *)done->uids->data,
	                                 done->uids->len, error);
}

/* Wait for flush TICKET, then update what it committed on the server (in
 * this thread: the connection is ours) and have the router thread record
 * that (the store is its own while messages are in flight). */
static gboolean
update_committed(fetch_ctx_t *ctx, fetcher_t *f, worker_t *worker, guint ticket, GError **error)
{
	g_autoptr(GArray) routed = g_array_new(FALSE, FALSE, sizeof(guint32));
	server_done_t *done;

	if (!worker_flush_wait(worker, ticket, routed, error))
		return FALSE;
	if (routed->len == 0)
		return TRUE;
	if (!fetcher_mark_processed(f, (const guint32 *)(const void *)routed->data, routed->len,
	                            error))
		return FALSE;
	done = g_new0(server_done_t, 1);
	done->mailbox = ctx->mailbox;
	done->uidvalidity = ctx->uidvalidity;
	done->uids = g_steal_pointer(&routed);
	worker_call(worker, server_done, done, server_done_free);
	return TRUE;
}

/* Fetch UIDS in batches of [imap] batch_size.  Each batch is routed as it
 * arrives and committed as one group (store/group.c: syncfs, COMMIT) while
 * the next batch arrives; then its UIDs are updated on the server, and the
 * router records that with the next group.  So fetching never waits for a
 * commit, and a message is always committed before its server update (a
 * crash in between leaves pending rows the next pass finishes).  The
 * database's write lock goes to staff waiting for it between groups
 * (store/group.c). */
static gboolean
fetch_batches(pipeline_t *p, fetcher_t *f, fetch_ctx_t *ctx, worker_t *worker, GArray *uids,
              GError **error)
{
	const imap_config_t *imap = &p->config->imap;
	guint ticket = 0;

	for (guint start = 0; start < uids->len; start += imap->batch_size) {
		guint n = MIN(imap->batch_size, uids->len - start);
		g_autoptr(GError) fetch_error = NULL;
		gboolean fetched;

		fetched = fetcher_fetch(f, &g_array_index(uids, guint32, start), n, &ctx->sink,
		                        &fetch_error);
		g_clear_pointer(&ctx->file, spool_file_free);
		if (!fetched) {
			/* The connection is in an unknown state: what arrived is
			 * committed, its pending rows left for the next pass. */
			if (!worker_flush(worker, NULL, error))
				return FALSE;
			g_propagate_error(error, g_steal_pointer(&fetch_error));
			return FALSE;
		}
		if (ticket != 0 && !update_committed(ctx, f, worker, ticket, error))
			return FALSE;
		ticket = worker_flush_begin(worker);
	}
	if (ticket != 0 && !update_committed(ctx, f, worker, ticket, error))
		return FALSE;
	/* The last server updates recorded before the caller has the store back. */
	return worker_flush(worker, NULL, error);
}

gboolean
pipeline_sync(pipeline_t *p, fetcher_t *f, pipeline_stats_t *stats, pipeline_sync_t *sync_out,
              GError **error)
{
	const imap_config_t *imap = &p->config->imap;
	g_autoptr(GArray) pending = NULL;
	g_autoptr(GArray) uids = NULL;
	fetcher_mailbox_t box = {0};
	guint32 validity, last;

	pipeline_refresh_templates(p);
	if (!fetcher_select(f, imap->mailbox, &box, error) ||
	    !store_mailbox_get(p->store, imap->mailbox, &validity, &last, error))
		return FALSE;

	if (validity != 0 && validity != box.uidvalidity) {
		g_warning("UIDVALIDITY of %s changed from %u to %u: scanning the mailbox again "
		          "(known messages are recognised by Message-ID and content)",
		          imap->mailbox, validity, box.uidvalidity);
		last = 0;
	}
	if (validity != box.uidvalidity &&
	    (!store_mailbox_set(p->store, imap->mailbox, box.uidvalidity, last, error) ||
	     !store_server_pending_drop_other(p->store, imap->mailbox, box.uidvalidity, error)))
		return FALSE;

	/* Server updates a previous run committed but did not get to do. */
	pending = store_server_pending(p->store, imap->mailbox, box.uidvalidity, error);
	if (pending == NULL ||
	    !mark_processed(p, f, imap->mailbox, box.uidvalidity, pending, error))
		return FALSE;

	uids = fetcher_list_uids(f, last, error);
	if (uids == NULL)
		return FALSE;
	if (sync_out != NULL) {
		sync_out->uidvalidity = box.uidvalidity;
		sync_out->exists = box.exists;
		sync_out->unprocessed = uids->len;
	}
	if (uids->len > 0) {
		fetch_ctx_t ctx = {p, stats, imap->mailbox, box.uidvalidity, NULL, NULL, {0}};
		/* A few finished files ahead of the router, no more: constant
		 * memory whatever the backlog. */
		worker_config_t stages = {parse_fetched, route_fetched, fetched_free, &ctx,
		                          WORKER_QUEUE, WORKER_QUEUE_BYTES};
		g_autoptr(worker_t) worker = worker_new(p->store, &stages);

		ctx.worker = worker;
		ctx.sink = (fetcher_sink_t){on_chunk, on_done, &ctx};
		if (!fetch_batches(p, f, &ctx, worker, uids, error))
			return FALSE;
	}
	if (sync_out != NULL &&
	    !store_mailbox_get(p->store, imap->mailbox, &validity, &sync_out->last_uid, error))
		return FALSE;
	return TRUE;
}

gboolean
pipeline_fetch_pass(pipeline_t *p, pipeline_stats_t *stats, GError **error)
{
	const imap_config_t *imap = &p->config->imap;
	g_autoptr(fetcher_t) f = NULL;

	if (imap->host == NULL || imap->user == NULL) {
		g_set_error(error, CONFIG_ERROR, PI_ERROR_FATAL,
		            "%s: [imap] host and user must be set to fetch mail",
		            p->config->path ? p->config->path : "(no configuration file)");
		return FALSE;
	}
	f = pipeline_connect(p, error);
	if (f == NULL)
		return FALSE;
	return pipeline_sync(p, f, stats, NULL, error);
}

fetcher_t *
pipeline_connect(pipeline_t *p, GError **error)
{
	const imap_config_t *imap = &p->config->imap;
	g_autoptr(GError) local = NULL;
	const char *secret = imap->password;
	fetcher_t *f;

	if (imap->auth == AUTH_XOAUTH2) {
		if (p->credentials == NULL) {
			g_set_error(error, CONFIG_ERROR, PI_ERROR_FATAL,
			            "[imap] auth = xoauth2 but no OAuth2 credentials are loaded");
			return NULL;
		}
		if ((secret = credentials_access_token(p->credentials, FALSE, error)) == NULL)
			return NULL;
	}
	f = fetcher_connect_with(imap, secret, &local);
	if (f != NULL || imap->auth != AUTH_XOAUTH2 ||
	    !g_error_matches(local, FETCHER_ERROR, PI_ERROR_AUTH)) {
		if (local != NULL)
			g_propagate_error(error, g_steal_pointer(&local));
		return f;
	}
	/* The token was refused before it should have expired (revoked, or a
	 * clock that disagrees): one fresh token, one more try. */
	g_info("IMAP refused the access token: refreshing it");
	g_clear_error(&local);
	if ((secret = credentials_access_token(p->credentials, TRUE, error)) == NULL)
		return NULL;
	return fetcher_connect_with(imap, secret, error);
}

void
pipeline_set_credentials(pipeline_t *p, credentials_t *credentials)
{
	p->credentials = credentials;
}

store_t *
pipeline_store(pipeline_t *p)
{
	return p->store;
}

catalogue_t *
pipeline_catalogue(pipeline_t *p)
{
	return p->catalogue;
}

gboolean
pipeline_ingest_fd(pipeline_t *p, int fd, pipeline_stats_t *stats, GError **error)
{
	g_autoptr(spool_file_t) file = store_spool_file_new_buffered(p->store, error);
	char buffer[65536];

	if (file == NULL)
		return FALSE;
	for (;;) {
		ssize_t n = read(fd, buffer, sizeof(buffer));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "cannot read: %s",
			            g_strerror(errno));
			return FALSE;
		}
		if (n == 0)
			break;
		if (!spool_file_write(file, buffer, (gsize)n, error))
			return FALSE;
	}
	{
		router_result_t result = {0};

		pipeline_fault_point("before-commit");
		if (!router_route(p->router, file, NULL, &result, error))
			return FALSE;
		return routed(p, NULL, &result, stats, error);
	}
}

/* ---- sending ---------------------------------------------------------- */

gboolean
pipeline_send_message(pipeline_t *p, GMimeMessage *message, const char *to, GError **error)
{
	const smtp_config_t *smtp = &p->config->smtp;
	g_autoptr(GError) local = NULL;
	const char *secret;

	if (smtp->auth != AUTH_XOAUTH2 || smtp->user == NULL)
		return sender_send(smtp, message, to, error);
	if (p->credentials == NULL) {
		g_set_error(error, CONFIG_ERROR, PI_ERROR_FATAL,
		            "[smtp] auth = xoauth2 but no OAuth2 credentials are loaded");
		return FALSE;
	}
	if ((secret = credentials_access_token(p->credentials, FALSE, error)) == NULL)
		return FALSE;
	if (sender_send_with(smtp, secret, message, to, &local))
		return TRUE;
	/* A refused token: nothing was sent (AUTH comes before MAIL FROM), so
	 * one retry with a fresh token cannot send the reply twice. */
	if (!g_error_matches(local, SENDER_ERROR, PI_ERROR_AUTH)) {
		g_propagate_error(error, g_steal_pointer(&local));
		return FALSE;
	}
	g_info("SMTP refused the access token: refreshing it");
	if ((secret = credentials_access_token(p->credentials, TRUE, error)) == NULL)
		return FALSE;
	return sender_send_with(smtp, secret, message, to, error);
}

/* Decrypt the draft's attachments into spool/tmp (0600 in 0700) for the
 * sender, which streams them from there; the files go when FILES is freed. */
static gboolean
attachments_for(pipeline_t *p, store_draft_t *d, GArray *out, GPtrArray *files, GPtrArray *rows,
                GError **error)
{
	g_autoptr(GPtrArray) list = store_draft_attachments(p->store, d->id, error);

	if (list == NULL)
		return FALSE;
	for (guint i = 0; i < list->len; i++) {
		store_draft_attachment_t *a = g_ptr_array_index(list, i);
		spool_file_t *plain = store_spool_file_new_readable(p->store, error);
		sender_attachment_t sa = {0};
		int fd;

		if (plain == NULL)
			return FALSE;
		g_ptr_array_add(files, plain);
		fd = open(spool_file_path(plain), O_WRONLY | O_TRUNC | O_CLOEXEC);
		if (fd < 0) {
			g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "%s: %s",
			            spool_file_path(plain), g_strerror(errno));
			return FALSE;
		}
		if (!store_spool_decrypt_to_fd(p->store, a->spool_path, fd, error)) {
			close(fd);
			g_prefix_error(error, "attachment %s of draft %" G_GINT64_FORMAT ": ", a->filename,
			               d->id);
			return FALSE;
		}
		close(fd);
		sa.path = spool_file_path(plain);
		sa.filename = a->filename;
		sa.content_type = a->content_type;
		g_array_append_val(out, sa);
	}
	g_ptr_array_extend_and_steal(rows, g_steal_pointer(&list));
	return TRUE;
}

/* APPEND the copy of a sent reply to the Sent folder over a connection
 * opened for this outbox run (*IMAP, opened on first use).  A failure is
 * logged and tried again by a later run: the reply itself is out. */
static void
copy_to_sent(pipeline_t *p, fetcher_t **imap, gint64 draft_id, const char *data, gsize len)
{
	const char *mailbox = p->config->imap.sent_mailbox;
	g_autoptr(GError) error = NULL;

	if (mailbox == NULL || p->config->imap.host == NULL)
		return;
	if (*imap == NULL && (*imap = pipeline_connect(p, &error)) == NULL) {
		g_warning("copy of draft %" G_GINT64_FORMAT " not put in %s: %s", draft_id, mailbox,
		          error->message);
		return;
	}
	if (!fetcher_append(*imap, mailbox, data, len, &error) ||
	    !store_outbox_copied(p->store, draft_id, &error)) {
		g_warning("copy of draft %" G_GINT64_FORMAT " not put in %s: %s", draft_id, mailbox,
		          error->message);
		g_clear_pointer(imap, fetcher_free);
	}
}

/* Copies earlier runs could not put into the Sent folder (last 7 days). */
static void
copy_missing_to_sent(pipeline_t *p, fetcher_t **imap)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GDateTime) now = pi_now();
	g_autoptr(GDateTime) week = g_date_time_add_days(now, -7);
	g_autofree char *since = pi_iso8601(week);
	g_autoptr(GPtrArray) due = NULL;

	if (p->config->imap.sent_mailbox == NULL || p->config->imap.host == NULL)
		return;
	if ((due = store_outbox_copies_due(p->store, since, &error)) == NULL) {
		g_warning("Sent folder copies: %s", error->message);
		return;
	}
	for (guint i = 0; i < due->len && !cli_stop_requested; i++) {
		store_draft_t *d = g_ptr_array_index(due, i);
		g_autofree char *path = store_outgoing_raw_path(p->store, d->message_id, NULL);
		g_autoptr(GMimeStream) stream = path ? store_spool_open_stream(p->store, path, NULL) : NULL;
		g_autoptr(GByteArray) bytes = g_byte_array_new();
		g_autoptr(GMimeStream) mem = NULL;

		if (stream == NULL)
			continue;
		mem = g_mime_stream_mem_new_with_byte_array(bytes);
		g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mem), FALSE);
		if (g_mime_stream_write_to_stream(stream, mem) < 0)
			continue;
		copy_to_sent(p, imap, d->id, (const char *)bytes->data, bytes->len);
	}
}

static gboolean
send_one(pipeline_t *p, store_draft_t *d, pipeline_stats_t *stats, fetcher_t **imap,
         GError **error)
{
	const smtp_config_t *smtp = &p->config->smtp;
	g_autofree char *message_id =
	    d->message_id ? g_strdup(d->message_id) : sender_new_message_id(smtp->from);
	g_autoptr(GMimeMessage) message = NULL;
	g_autoptr(GError) send_error = NULL;
	g_autoptr(spool_file_t) copy = NULL;
	g_autoptr(GMimeStream) stream = NULL;
	g_autofree char *copy_path = NULL;
	g_autoptr(GDateTime) utc_now = pi_now();
	/* Date: in the organization's time zone (+0900), whatever the host's. */
	g_autoptr(GDateTime) now = g_date_time_to_timezone(utc_now, p->config->policy.timezone);
	g_autoptr(GArray) attachments = g_array_new(FALSE, TRUE, sizeof(sender_attachment_t));
	g_autoptr(GPtrArray) plain_files =
	    g_ptr_array_new_with_free_func((GDestroyNotify)spool_file_free);
	g_autoptr(GPtrArray) attachment_rows =
	    g_ptr_array_new_with_free_func((GDestroyNotify)store_draft_attachment_free);
	g_autoptr(GByteArray) sent_bytes = g_byte_array_new();
	sender_mail_t mail = {0};

	if (!store_outbox_begin(p->store, d->id, message_id, error))
		return FALSE;
	mail.to_name = d->to_name;
	mail.to_address = d->to_address;
	mail.subject = d->subject;
	mail.body = d->body;
	mail.message_id = message_id;
	mail.in_reply_to = d->in_reply_to;
	mail.references = (const char *const *)d->references;
	mail.auto_submitted = d->auto_submitted;
	mail.date = now;
	if (!attachments_for(p, d, attachments, plain_files, attachment_rows, error))
		return FALSE;
	mail.attachments = (const sender_attachment_t *)(const void *)attachments->data;
	mail.n_attachments = attachments->len;
	message = sender_build(smtp, &mail, &send_error);

	/* Keep the exact bytes sent, for the ticket's record. */
	if (message != NULL) {
		copy = store_spool_file_new(p->store, error);
		if (copy == NULL)
			return FALSE;
		g_autoptr(GMimeStream) mem = g_mime_stream_mem_new_with_byte_array(sent_bytes);

		g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mem), FALSE);
		stream = spool_file_stream(copy);
		if (g_mime_object_write_to_stream(GMIME_OBJECT(message), NULL, mem) < 0 ||
		    g_mime_stream_write(stream, (const char *)sent_bytes->data, sent_bytes->len) !=
		        (gssize)sent_bytes->len ||
		    !spool_file_finish(copy, error)) {
			g_prefix_error(error, "keeping a copy of draft %" G_GINT64_FORMAT ": ", d->id);
			return FALSE;
		}
	}
	if (message != NULL && pipeline_send_message(p, message, d->to_address, &send_error)) {
		pipeline_fault_point("after-send");
		copy_path = spool_file_keep(copy, "messages", error);
		if (copy_path == NULL ||
		    !store_outbox_sent(p->store, d->id, copy_path, spool_file_sha256(copy),
		                       spool_file_size(copy), error))
			return FALSE;
		stats->sent++;
		report(p, "draft %" G_GINT64_FORMAT " (%s, %s) sent to %s", d->id, d->ticket_ref,
		       d->kind, d->to_address);
		copy_to_sent(p, imap, d->id, (const char *)sent_bytes->data, sent_bytes->len);
		return TRUE;
	}
	{
		gboolean retry = g_error_matches(send_error, SENDER_ERROR, PI_ERROR_TEMPORARY);
		stats->send_failed++;
		report(p, "draft %" G_GINT64_FORMAT " (%s) not sent%s: %s", d->id, d->ticket_ref,
		       retry ? ", will retry" : "", send_error->message);
		if (!store_outbox_failed(p->store, d->id, send_error->message, retry, error))
			return FALSE;
		/* Refused for good (5xx): staff must see it on the ticket. */
		if (!retry) {
			g_autofree char *why = g_strdup_printf("reply %" G_GINT64_FORMAT
			                                       " (%s) undeliverable: %s",
			                                       d->id, d->kind, send_error->message);
			if (!store_ticket_set_field(p->store, d->ticket_id, "attention", why, error) ||
			    !store_ticket_event(p->store, d->ticket_id, "privacy-inbox", "undeliverable", why,
			                        error))
				return FALSE;
		}
		return TRUE;
	}
}

gboolean
pipeline_send_outbox(pipeline_t *p, pipeline_stats_t *stats, GError **error)
{
	const smtp_config_t *smtp = &p->config->smtp;
	g_autoptr(GPtrArray) due = store_outbox_due(p->store, error);

	if (due == NULL)
		return FALSE;
	if (due->len == 0) {
		g_autoptr(fetcher_t) imap = NULL;
		copy_missing_to_sent(p, &imap);
		return TRUE;
	}
	if (smtp->url == NULL || smtp->from == NULL) {
		g_set_error(error, CONFIG_ERROR, PI_ERROR_FATAL,
		            "%u approved replies wait, but [smtp] url and from are not set in %s",
		            due->len, p->config->path ? p->config->path : "the configuration");
		return FALSE;
	}
	{
		g_autoptr(fetcher_t) imap = NULL;

		for (guint i = 0; i < due->len && !cli_stop_requested; i++) {
			if (!send_one(p, g_ptr_array_index(due, i), stats, &imap, error))
				return FALSE;
		}
		copy_missing_to_sent(p, &imap);
	}
	return TRUE;
}

/* ---- templates -------------------------------------------------------- */

/* Log which templates the new catalogue changes. */
static void
log_template_changes(catalogue_t *before, catalogue_t *after)
{
	for (const catalogue_kind_t *k = catalogue_kinds(); k->kind; k++) {
		for (const char *const *lang = catalogue_languages(); *lang; lang++) {
			const catalogue_version_t *old = catalogue_version(before, k->kind, *lang);
			const catalogue_version_t *now = catalogue_version(after, k->kind, *lang);

			if (now != NULL && (old == NULL || strcmp(old->hash, now->hash) != 0))
				g_message("templates: %s/%s is now version %.12s (was %.12s)", *lang, k->kind,
				          now->hash, old ? old->hash : "none");
		}
	}
}

/* What is wrong with the templates on disk: logged, and an admin alert
 * (kind "templates"), once per broken state (STATE identifies it). */
static void
reject_templates(pipeline_t *p, const char *state, const char *summary)
{
	g_warning("templates in %s NOT reloaded: %s; replies keep using the templates loaded "
	          "before (run `privacy-inbox templates check`)",
	          catalogue_dir(p->catalogue), summary);
	alerts_raise(p->store, "templates", summary);
	g_free(p->templates_rejected);
	p->templates_rejected = g_strdup(state);
}

gboolean
pipeline_refresh_templates(pipeline_t *p)
{
	const char *dir = catalogue_dir(p->catalogue);
	g_autoptr(GError) error = NULL;
	g_autofree char *fingerprint = catalogue_scan_fingerprint(dir, &error);
	g_autoptr(catalogue_t) fresh = NULL;
	const GPtrArray *problems;

	if (fingerprint == NULL) {
		g_autofree char *state = g_strconcat("unreadable: ", error->message, NULL);

		if (g_strcmp0(state, p->templates_rejected) != 0)
			reject_templates(p, state, error->message);
		return FALSE;
	}
	if (strcmp(fingerprint, catalogue_fingerprint(p->catalogue)) == 0) {
		if (p->templates_rejected != NULL) {
			/* The files are back to the ones in use. */
			g_clear_pointer(&p->templates_rejected, g_free);
			g_message("templates in %s are back to the version in use", dir);
			alerts_clear(p->store, "templates");
		}
		return TRUE;
	}
	if (g_strcmp0(fingerprint, p->templates_rejected) == 0)
		return FALSE; /* reported already */
	if ((fresh = catalogue_read(dir, &error)) == NULL) {
		reject_templates(p, fingerprint, error->message);
		return FALSE;
	}
	problems = catalogue_problems(fresh);
	if (problems->len > 0) {
		g_autofree char *first = catalogue_problem_format(g_ptr_array_index(problems, 0));
		g_autofree char *summary = NULL;

		for (guint i = 0; i < problems->len; i++) {
			g_autofree char *line = catalogue_problem_format(g_ptr_array_index(problems, i));
			g_warning("templates: %s", line);
		}
		summary = problems->len == 1
		              ? g_strdup(first)
		              : g_strdup_printf("%s (and %u more problems)", first, problems->len - 1);
		reject_templates(p, fingerprint, summary);
		return FALSE;
	}
	log_template_changes(p->catalogue, fresh);
	{
		/* a template change is on the audit record like any other change */
		g_autofree char *detail = g_strdup_printf("templates in %s reloaded (fingerprint %s, was %s)",
		                                          dir, fingerprint,
		                                          catalogue_fingerprint(p->catalogue));
		if (!store_audit(p->store, "privacy-inbox", "templates changed", NULL, detail, &error)) {
			g_warning("audit log: %s", error->message);
			g_clear_error(&error);
		}
	}
	router_set_catalogue(p->router, fresh);
	catalogue_free(p->catalogue);
	p->catalogue = g_steal_pointer(&fresh);
	g_clear_pointer(&p->templates_rejected, g_free);
	g_message("templates reloaded from %s", dir);
	alerts_clear(p->store, "templates");
	return TRUE;
}
