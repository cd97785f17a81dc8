/* pipeline.c — see pipeline.h. */
#include "cli/pipeline.h"

#include "fetcher/fetcher.h"
#include "sender/sender.h"

#include <errno.h>
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
};

void
pipeline_fault_point(const char *point)
{
	static GHashTable *hits;
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
	if (hits == NULL)
		hits = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	n = GPOINTER_TO_UINT(g_hash_table_lookup(hits, point)) + 1;
	g_hash_table_insert(hits, g_strdup(point), GUINT_TO_POINTER(n));
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

static gboolean
route(pipeline_t *p, spool_file_t *raw, const router_origin_t *origin, pipeline_stats_t *stats,
      GError **error)
{
	router_result_t result = {0};

	pipeline_fault_point("before-commit");
	if (!router_route(p->router, raw, origin, &result, error))
		return FALSE;
	stats->fetched++;
	count(stats, result.outcome);
	if (origin != NULL && origin->mailbox != NULL)
		report(p, "UID %u: %s", origin->uid, result.summary);
	else
		report(p, "%s", result.summary);
	router_result_clear(&result);
	pipeline_fault_point("after-commit");
	return TRUE;
}

/* ---- fetching --------------------------------------------------------- */

typedef struct {
	pipeline_t *p;
	pipeline_stats_t *stats;
	const char *mailbox;
	guint32 uidvalidity;
	spool_file_t *file; /* the message arriving now */
	GArray *routed;     /* UIDs committed in this batch */
} fetch_ctx_t;

static gboolean
on_chunk(const char *data, gsize len, gpointer user_data, GError **error)
{
	fetch_ctx_t *ctx = user_data;

	if (ctx->file == NULL && (ctx->file = store_spool_file_new(ctx->p->store, error)) == NULL)
		return FALSE;
	return spool_file_write(ctx->file, data, len, error);
}

static gboolean
on_done(const fetcher_message_t *message, gpointer user_data, GError **error)
{
	fetch_ctx_t *ctx = user_data;
	router_origin_t origin = {ctx->mailbox, ctx->uidvalidity, message->uid,
	                          message->internal_date};
	g_autoptr(spool_file_t) file = g_steal_pointer(&ctx->file);

	if (file == NULL && (file = store_spool_file_new(ctx->p->store, error)) == NULL)
		return FALSE;
	if (!route(ctx->p, file, &origin, ctx->stats, error)) {
		g_prefix_error(error, "UID %u: ", message->uid);
		return FALSE;
	}
	g_array_append_val(ctx->routed, message->uid);
	if (cli_stop_requested) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "stopped by signal");
		return FALSE;
	}
	return TRUE;
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

gboolean
pipeline_fetch_pass(pipeline_t *p, pipeline_stats_t *stats, GError **error)
{
	const imap_config_t *imap = &p->config->imap;
	g_autoptr(fetcher_t) f = NULL;
	g_autoptr(GArray) pending = NULL;
	g_autoptr(GArray) uids = NULL;
	fetcher_mailbox_t box = {0};
	guint32 validity, last;

	if (imap->host == NULL || imap->user == NULL) {
		g_set_error(error, CONFIG_ERROR, PI_ERROR_FATAL,
		            "%s: [imap] host and user must be set to fetch mail",
		            p->config->path ? p->config->path : "(no configuration file)");
		return FALSE;
	}
	if ((f = fetcher_connect(imap, error)) == NULL ||
	    !fetcher_select(f, imap->mailbox, &box, error) ||
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
	for (guint start = 0; start < uids->len; start += imap->batch_size) {
		guint n = MIN(imap->batch_size, uids->len - start);
		g_autoptr(GArray) routed = g_array_new(FALSE, FALSE, sizeof(guint32));
		fetch_ctx_t ctx = {p, stats, imap->mailbox, box.uidvalidity, NULL, routed};
		fetcher_sink_t sink = {on_chunk, on_done, &ctx};
		gboolean ok = fetcher_fetch(f, &g_array_index(uids, guint32, start), n, &sink, error);

		spool_file_free(ctx.file);
		/* After a failed or interrupted fetch the connection is in an
		 * unknown state: what was committed keeps its pending rows and
		 * the next pass moves it. */
		if (!ok)
			return FALSE;
		if (!mark_processed(p, f, imap->mailbox, box.uidvalidity, routed, error))
			return FALSE;
	}
	return TRUE;
}

gboolean
pipeline_ingest_fd(pipeline_t *p, int fd, pipeline_stats_t *stats, GError **error)
{
	g_autoptr(spool_file_t) file = store_spool_file_new(p->store, error);
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
	return route(p, file, NULL, stats, error);
}

/* ---- sending ---------------------------------------------------------- */

static gboolean
send_one(pipeline_t *p, store_draft_t *d, pipeline_stats_t *stats, GError **error)
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
	message = sender_build(smtp, &mail, &send_error);

	/* Keep the exact bytes sent, for the ticket's record. */
	if (message != NULL) {
		copy = store_spool_file_new(p->store, error);
		if (copy == NULL)
			return FALSE;
		stream = spool_file_stream(copy);
		if (g_mime_object_write_to_stream(GMIME_OBJECT(message), NULL, stream) < 0 ||
		    !spool_file_finish(copy, error)) {
			g_prefix_error(error, "keeping a copy of draft %" G_GINT64_FORMAT ": ", d->id);
			return FALSE;
		}
	}
	if (message != NULL && sender_send(smtp, message, d->to_address, &send_error)) {
		pipeline_fault_point("after-send");
		copy_path = spool_file_keep(copy, "messages", error);
		if (copy_path == NULL ||
		    !store_outbox_sent(p->store, d->id, copy_path, spool_file_sha256(copy),
		                       spool_file_size(copy), error))
			return FALSE;
		stats->sent++;
		report(p, "draft %" G_GINT64_FORMAT " (%s, %s) sent to %s", d->id, d->ticket_ref,
		       d->kind, d->to_address);
		return TRUE;
	}
	{
		gboolean retry = g_error_matches(send_error, SENDER_ERROR, PI_ERROR_TEMPORARY);
		stats->send_failed++;
		report(p, "draft %" G_GINT64_FORMAT " (%s) not sent%s: %s", d->id, d->ticket_ref,
		       retry ? ", will retry" : "", send_error->message);
		return store_outbox_failed(p->store, d->id, send_error->message, retry, error);
	}
}

gboolean
pipeline_send_outbox(pipeline_t *p, pipeline_stats_t *stats, GError **error)
{
	const smtp_config_t *smtp = &p->config->smtp;
	g_autoptr(GPtrArray) due = store_outbox_due(p->store, error);

	if (due == NULL)
		return FALSE;
	if (due->len == 0)
		return TRUE;
	if (smtp->url == NULL || smtp->from == NULL) {
		g_set_error(error, CONFIG_ERROR, PI_ERROR_FATAL,
		            "%u approved replies wait, but [smtp] url and from are not set in %s",
		            due->len, p->config->path ? p->config->path : "the configuration");
		return FALSE;
	}
	for (guint i = 0; i < due->len && !cli_stop_requested; i++) {
		if (!send_one(p, g_ptr_array_index(due, i), stats, error))
			return FALSE;
	}
	return TRUE;
}
