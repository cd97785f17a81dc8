/* fetch.c — UID FETCH (UID RFC822.SIZE INTERNALDATE BODY.PEEK[]) streamed to
 * a sink.
 *
 * libetpan's mailimap_uid_fetch() keeps every message of the answer in
 * memory.  With a body handler (mailimap_set_msg_body_handler) the literal
 * of BODY[] is handed over in pieces of at most 64 KiB as it is read and
 * never stored; libetpan 1.9.4 takes that path only when a progress
 * callback is also set (mailimap_parse_response() chooses the parser "with
 * context" on imap_body_progress_fun).  With a message handler
 * (mailimap_set_msg_att_handler) each "* n FETCH (…)" is passed to us once
 * its closing parenthesis is read, then freed, instead of being collected
 * for the whole batch.  So memory stays at one read buffer plus the small
 * attributes of one message, whatever the batch or message size.
 *
 * The body may arrive before UID, RFC822.SIZE and INTERNALDATE (the order
 * is the server's choice): chunks go to the sink as they come, and done()
 * follows when the message's response is complete and its UID known.
 */
#include "fetcher/fetcher-internal.h"

#include <string.h>

typedef struct {
	fetcher_t *fetcher;
	const fetcher_sink_t *sink;
	GArray *wanted;    /* the UIDs asked for, ascending */
	GArray *delivered; /* gboolean per wanted UID */
	gsize bytes;       /* of the message being received */
	guint chunks;
	guint count; /* messages delivered */
	GError *error;
} fetch_ctx_t;

static bool
on_body(int att_type, struct mailimap_msg_att_body_section *section, const char *bytes, size_t len,
        void *data)
{
	fetch_ctx_t *ctx = data;

	(void)section;
	if (ctx->error != NULL)
		return false; /* stop reading: the fetch has failed */
	if (att_type != MAILIMAP_MSG_ATT_BODY_SECTION)
		return true; /* nothing we asked for */
	ctx->bytes += len;
	ctx->chunks++;
	if (!ctx->sink->chunk(bytes, len, ctx->sink->user_data, &ctx->error)) {
		if (ctx->error == NULL)
			g_set_error(&ctx->error, FETCHER_ERROR, PI_ERROR_FATAL,
			            "the message sink stopped the fetch");
		return false;
	}
	return true;
}

/* Progress callback: does nothing, but without one libetpan 1.9.4 ignores
 * the body handler. */
static void
on_progress(size_t current, size_t maximum, void *context)
{
	(void)current;
	(void)maximum;
	(void)context;
}

static GDateTime *
date_time_new(const struct mailimap_date_time *d)
{
	/* dt_zone is ±HHMM as a number: -0530 is -530. */
	g_autoptr(GTimeZone) zone =
	    g_time_zone_new_offset((d->dt_zone / 100) * 3600 + (d->dt_zone % 100) * 60);

	return g_date_time_new(zone, d->dt_year, d->dt_month, d->dt_day, d->dt_hour, d->dt_min,
	                       d->dt_sec);
}

static int
compare_uid(gconstpointer a, gconstpointer b)
{
	guint32 x = *(const guint32 *)a, y = *(const guint32 *)b;

	return (x > y) - (x < y);
}

static void
on_message(struct mailimap_msg_att *att, void *data)
{
	fetch_ctx_t *ctx = data;
	fetcher_t *f = ctx->fetcher;
	const struct mailimap_date_time *date = NULL;
	const struct mailimap_msg_att_body_section *body = NULL;
	guint32 uid = 0;
	gsize size = 0, bytes = ctx->bytes;
	guint chunks = ctx->chunks;
	gboolean has_size = FALSE;
	guint32 *found;
	g_autoptr(GDateTime) internal_date = NULL;

	ctx->bytes = 0;
	ctx->chunks = 0;
	for (clistiter *it = clist_begin(att->att_list); it != NULL; it = clist_next(it)) {
		const struct mailimap_msg_att_item *item = clist_content(it);
		const struct mailimap_msg_att_static *st = item->att_data.att_static;

		if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC || st == NULL)
			continue;
		switch (st->att_type) {
		case MAILIMAP_MSG_ATT_UID:
			uid = st->att_data.att_uid;
			break;
		case MAILIMAP_MSG_ATT_RFC822_SIZE:
			size = st->att_data.att_rfc822_size;
			has_size = TRUE;
			break;
		case MAILIMAP_MSG_ATT_INTERNALDATE:
			date = st->att_data.att_internal_date;
			break;
		case MAILIMAP_MSG_ATT_BODY_SECTION:
			body = st->att_data.att_body_section;
			break;
		default:
			break;
		}
	}
	if (body == NULL)
		return; /* an unsolicited FETCH (flags changed elsewhere): not an answer */
	if (ctx->error != NULL)
		return;
	if (uid == 0) {
		fetcher_fail(f, PI_ERROR_TEMPORARY, &ctx->error,
		             "UID FETCH: message %u came without its UID", att->att_number);
		return;
	}
	found = bsearch(&uid, ctx->wanted->data, ctx->wanted->len, sizeof(guint32), compare_uid);
	if (found == NULL ||
	    g_array_index(ctx->delivered, gboolean, found - (guint32 *)(void *)ctx->wanted->data)) {
		fetcher_fail(f, PI_ERROR_TEMPORARY, &ctx->error,
		             "UID FETCH: server sent UID %u, which was not asked for or came twice",
		             uid);
		return;
	}
	g_array_index(ctx->delivered, gboolean, found - (guint32 *)(void *)ctx->wanted->data) =
	    TRUE;
	if (body->sec_body_part == NULL) { /* BODY[] NIL */
		fetcher_fail(f, PI_ERROR_TEMPORARY, &ctx->error,
		             "UID FETCH: server sent no body for UID %u", uid);
		return;
	}
	if (!has_size || date == NULL) {
		fetcher_fail(f, PI_ERROR_TEMPORARY, &ctx->error,
		             "UID FETCH: no RFC822.SIZE or INTERNALDATE for UID %u", uid);
		return;
	}
	internal_date = date_time_new(date);
	if (internal_date == NULL) {
		fetcher_fail(f, PI_ERROR_TEMPORARY, &ctx->error,
		             "UID FETCH: invalid INTERNALDATE for UID %u", uid);
		return;
	}
	g_debug("%s: UID %u: %" G_GSIZE_FORMAT " bytes in %u chunks (RFC822.SIZE %" G_GSIZE_FORMAT
	        ")",
	        f->where, uid, bytes, chunks, size);
	{
		fetcher_message_t message = {uid, size, internal_date};

		if (!ctx->sink->done(&message, ctx->sink->user_data, &ctx->error) &&
		    ctx->error == NULL)
			g_set_error(&ctx->error, FETCHER_ERROR, PI_ERROR_FATAL,
			            "the message sink stopped the fetch");
	}
	ctx->count++;
}

static struct mailimap_fetch_type *
fetch_type_new(void)
{
	struct mailimap_fetch_type *type = mailimap_fetch_type_new_fetch_att_list_empty();
	struct mailimap_fetch_att *atts[] = {
	    mailimap_fetch_att_new_uid(),
	    mailimap_fetch_att_new_rfc822_size(),
	    mailimap_fetch_att_new_internaldate(),
	    mailimap_fetch_att_new_body_peek_section(mailimap_section_new(NULL)),
	};

	for (gsize i = 0; i < G_N_ELEMENTS(atts); i++)
		if (type == NULL || atts[i] == NULL ||
		    mailimap_fetch_type_new_fetch_att_list_add(type, atts[i]) != MAILIMAP_NO_ERROR)
			g_error("out of memory building a UID FETCH");
	return type;
}

gboolean
fetcher_fetch(fetcher_t *fetcher, const guint32 *uids, guint n, const fetcher_sink_t *sink,
              GError **error)
{
	g_autoptr(GArray) wanted = NULL;
	g_autoptr(GArray) delivered = NULL;
	g_autoptr(GArray) ranges = NULL;
	g_autofree char *set_text = NULL;
	struct mailimap_set *set;
	struct mailimap_fetch_type *type;
	clist *result = NULL;
	fetch_ctx_t ctx = {0};
	mailimap *imap;
	int r;

	if (!fetcher_ready(fetcher, TRUE, error))
		return FALSE;
	wanted = g_array_sized_new(FALSE, FALSE, sizeof(guint32), n);
	g_array_append_vals(wanted, uids, n);
	fetcher_uids_normalize(wanted);
	if (wanted->len == 0)
		return TRUE;
	delivered = g_array_sized_new(FALSE, TRUE, sizeof(gboolean), wanted->len);
	g_array_set_size(delivered, wanted->len);
	ranges = fetcher_uid_ranges((const guint32 *)(const void *)wanted->data, wanted->len);
	set_text = fetcher_uid_ranges_format(ranges);
	set = fetcher_uid_set_new(ranges);
	type = fetch_type_new();

	ctx.fetcher = fetcher;
	ctx.sink = sink;
	ctx.wanted = wanted;
	ctx.delivered = delivered;
	imap = fetcher->imap;
	mailimap_set_msg_att_handler(imap, on_message, &ctx);
	mailimap_set_msg_body_handler(imap, on_body, &ctx);
	mailimap_set_progress_callback(imap, on_progress, NULL, &ctx);
	g_debug("%s: UID FETCH %s", fetcher->where, set_text);
	r = mailimap_uid_fetch(imap, set, type, &result);
	mailimap_set_progress_callback(imap, NULL, NULL, NULL);
	mailimap_set_msg_body_handler(imap, NULL, NULL);
	mailimap_set_msg_att_handler(imap, NULL, NULL);
	if (result != NULL)
		mailimap_fetch_list_free(result); /* empty: the handler took every message */
	mailimap_fetch_type_free(type);
	mailimap_set_free(set);

	if (ctx.error != NULL) {
		/* Stopped in the middle of the answer: the rest of it is unread. */
		if (r != MAILIMAP_NO_ERROR)
			fetcher->broken = TRUE;
		g_propagate_error(error, ctx.error);
		return FALSE;
	}
	/* NO [EXPUNGEISSUED]: some messages vanished meanwhile; the others came. */
	if (r == MAILIMAP_ERROR_UID_FETCH &&
	    g_strcmp0(fetcher_response_code(fetcher), "EXPUNGEISSUED") == 0)
		r = MAILIMAP_NO_ERROR;
	if (!fetcher_check(fetcher, r, PI_ERROR_TEMPORARY, error, "UID FETCH %s", set_text))
		return FALSE;
	g_debug("%s: fetched %u of %u messages", fetcher->where, ctx.count, wanted->len);
	return TRUE;
}
