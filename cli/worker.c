/* worker.c — see worker.h. */
#include "cli/worker.h"

#include "cli/cli.h"

typedef enum { ITEM_MESSAGE, ITEM_CALL, ITEM_FLUSH, ITEM_QUIT } item_kind_t;

/* How long the queue may stay empty before the open group is committed. */
#define GROUP_IDLE_USEC 50000

typedef struct {
	item_kind_t kind;
	gpointer message; /* NULL once dropped (an error, a stop request) */
	worker_call_fn call; /* ITEM_CALL: run with message as its data */
	GDestroyNotify call_free;
	gsize size;       /* memory the prepared message holds */
	guint32 uid;
	GDateTime *internal_date;
} item_t;

struct worker {
	store_t *store;
	worker_config_t config;
	GThread *parse_thread;
	GThread *route_thread;
	GAsyncQueue *incoming; /* pushed → parse thread */
	GAsyncQueue *prepared; /* parse thread → router thread */
	GMutex lock;
	GCond changed;
	guint queued;      /* messages pushed, not yet taken by the router */
	guint ready;       /* of which prepared, waiting for the router */
	gsize ready_bytes; /* and the memory those hold */
	guint flushes;       /* flushes done */
	guint flushes_asked; /* flushes asked for */
	GError *error;     /* the first failure; later messages are dropped */
	GArray *committed; /* UIDs committed since the last flush */
	GArray *in_group;  /* UIDs routed in the open group (router thread) */
};

static void
item_free(worker_t *w, item_t *item)
{
	if (item->kind == ITEM_CALL) {
		if (item->call_free != NULL && item->message != NULL)
			item->call_free(item->message);
	} else if (item->message != NULL) {
		w->config.message_free(item->message);
	}
	if (item->internal_date != NULL)
		g_date_time_unref(item->internal_date);
	g_free(item);
}

static void
fail(worker_t *w, GError *error)
{
	g_mutex_lock(&w->lock);
	if (w->error == NULL)
		w->error = error;
	else
		g_error_free(error);
	g_cond_broadcast(&w->changed);
	g_mutex_unlock(&w->lock);
}

static gboolean
failed(worker_t *w)
{
	gboolean failed;

	g_mutex_lock(&w->lock);
	failed = w->error != NULL;
	g_mutex_unlock(&w->lock);
	return failed;
}

/* After a failure or a stop request, fetched but unrouted messages are
 * dropped: not committed, they are fetched again next time. */
static gboolean
dropping(worker_t *w)
{
	return failed(w) || cli_stop_requested;
}

/* ---- the parse thread ---------------------------------------------------- */

static void
prepare_one(worker_t *w, item_t *item)
{
	GError *error = NULL;

	if (dropping(w)) {
		g_clear_pointer(&item->message, w->config.message_free);
		return;
	}
	if (!w->config.prepare(w->config.data, item->message, item->uid, &item->size, &error)) {
		g_clear_pointer(&item->message, w->config.message_free);
		fail(w, error);
		return;
	}
	/* Bounded memory: wait while the prepared messages waiting would hold
	 * too much with this one (one always gets through). */
	g_mutex_lock(&w->lock);
	while (w->ready > 0 && w->ready_bytes + item->size > w->config.max_queued_bytes &&
	       w->error == NULL)
		g_cond_wait(&w->changed, &w->lock);
	g_mutex_unlock(&w->lock);
}

static gpointer
run_parse(gpointer data)
{
	worker_t *w = data;

	for (;;) {
		item_t *item = g_async_queue_pop(w->incoming);
		item_kind_t kind = item->kind;

		if (kind == ITEM_MESSAGE) {
			prepare_one(w, item);
			g_mutex_lock(&w->lock);
			w->ready++;
			w->ready_bytes += item->size;
			g_mutex_unlock(&w->lock);
		}
		/* In order, flushes and the end included. */
		g_async_queue_push(w->prepared, item);
		if (kind == ITEM_QUIT)
			return NULL;
	}
}

/* ---- the router thread --------------------------------------------------- */

static void
commit_group(worker_t *w)
{
	GError *error = NULL;

	if (!store_group_active(w->store))
		return;
	if (!store_group_commit(w->store, &error)) {
		g_array_set_size(w->in_group, 0);
		fail(w, error);
		return;
	}
	g_mutex_lock(&w->lock);
	g_array_append_vals(w->committed, w->in_group->data, w->in_group->len);
	g_mutex_unlock(&w->lock);
	g_array_set_size(w->in_group, 0);
}

static void
route_one(worker_t *w, item_t *item)
{
	GError *error = NULL;

	if (item->message == NULL || dropping(w))
		return;
	if (!store_group_active(w->store) && !store_group_begin(w->store, &error)) {
		fail(w, error);
		return;
	}
	if (!w->config.route(w->config.data, item->message, item->uid, item->internal_date,
	                     &error)) {
		g_prefix_error(&error, "UID %u: ", item->uid);
		fail(w, error);
		return;
	}
	g_array_append_val(w->in_group, item->uid);
}

/* A caller's work on the store, in order with the messages: inside the
 * open group, or in a group of its own. */
static void
call_one(worker_t *w, item_t *item)
{
	GError *error = NULL;

	if (failed(w))
		return;
	if (!store_group_active(w->store) && !store_group_begin(w->store, &error)) {
		fail(w, error);
		return;
	}
	if (!item->call(w->store, item->message, &error))
		fail(w, error);
}

static gpointer
run_route(gpointer data)
{
	worker_t *w = data;

	for (;;) {
		item_t *item = g_async_queue_try_pop(w->prepared);
		item_kind_t kind;

		/* Nothing waiting: commit what is routed rather than hold the
		 * database's write lock while the network is slow (a backlog
		 * keeps the queue full and the groups large). */
		if (item == NULL && store_group_active(w->store)) {
			item = g_async_queue_timeout_pop(w->prepared, GROUP_IDLE_USEC);
			if (item == NULL)
				commit_group(w);
		}
		if (item == NULL)
			item = g_async_queue_pop(w->prepared);
		kind = item->kind;

		if (kind == ITEM_MESSAGE) {
			g_mutex_lock(&w->lock);
			w->queued--;
			w->ready--;
			w->ready_bytes -= item->size;
			g_cond_broadcast(&w->changed);
			g_mutex_unlock(&w->lock);
			route_one(w, item);
		} else if (kind == ITEM_CALL) {
			call_one(w, item);
		} else {
			commit_group(w);
		}
		item_free(w, item);
		if (kind == ITEM_FLUSH) {
			g_mutex_lock(&w->lock);
			w->flushes++;
			g_cond_broadcast(&w->changed);
			g_mutex_unlock(&w->lock);
		}
		if (kind == ITEM_QUIT)
			return NULL;
	}
}

/* ---- the caller's side --------------------------------------------------- */

worker_t *
worker_new(store_t *store, const worker_config_t *config)
{
	worker_t *w = g_new0(worker_t, 1);

	w->store = store;
	w->config = *config;
	w->config.max_queued = MAX(config->max_queued, 1);
	w->incoming = g_async_queue_new();
	w->prepared = g_async_queue_new();
	g_mutex_init(&w->lock);
	g_cond_init(&w->changed);
	w->committed = g_array_new(FALSE, FALSE, sizeof(guint32));
	w->in_group = g_array_new(FALSE, FALSE, sizeof(guint32));
	w->parse_thread = g_thread_new("parser", run_parse, w);
	w->route_thread = g_thread_new("router", run_route, w);
	return w;
}

gboolean
worker_push(worker_t *w, gpointer message, guint32 uid, GDateTime *internal_date, GError **error)
{
	item_t *item;

	g_mutex_lock(&w->lock);
	while (w->queued >= w->config.max_queued && w->error == NULL)
		g_cond_wait(&w->changed, &w->lock);
	if (w->error != NULL) {
		g_propagate_error(error, g_error_copy(w->error));
		g_mutex_unlock(&w->lock);
		w->config.message_free(message);
		return FALSE;
	}
	w->queued++;
	g_mutex_unlock(&w->lock);
	item = g_new0(item_t, 1);
	item->kind = ITEM_MESSAGE;
	item->message = message;
	item->uid = uid;
	item->internal_date = internal_date ? g_date_time_ref(internal_date) : NULL;
	g_async_queue_push(w->incoming, item);
	return TRUE;
}

void
worker_call(worker_t *w, worker_call_fn call, gpointer data, GDestroyNotify data_free)
{
	item_t *item = g_new0(item_t, 1);

	item->kind = ITEM_CALL;
	item->call = call;
	item->message = data;
	item->call_free = data_free;
	g_async_queue_push(w->incoming, item);
}

guint
worker_flush_begin(worker_t *w)
{
	item_t *item = g_new0(item_t, 1);
	guint ticket;

	/* Flushes are done in the order they are queued: tickets too. */
	item->kind = ITEM_FLUSH;
	g_mutex_lock(&w->lock);
	ticket = ++w->flushes_asked;
	g_async_queue_push(w->incoming, item);
	g_mutex_unlock(&w->lock);
	return ticket;
}

gboolean
worker_flush_wait(worker_t *w, guint ticket, GArray *routed, GError **error)
{
	gboolean ok;

	g_mutex_lock(&w->lock);
	while (w->flushes < ticket)
		g_cond_wait(&w->changed, &w->lock);
	if (routed != NULL)
		g_array_append_vals(routed, w->committed->data, w->committed->len);
	g_array_set_size(w->committed, 0);
	ok = w->error == NULL;
	/* Kept: the worker stays failed (later messages are dropped). */
	if (!ok)
		g_propagate_error(error, g_error_copy(w->error));
	g_mutex_unlock(&w->lock);
	return ok;
}

gboolean
worker_flush(worker_t *w, GArray *routed, GError **error)
{
	return worker_flush_wait(w, worker_flush_begin(w), routed, error);
}

void
worker_free(worker_t *w)
{
	item_t *item;

	if (w == NULL)
		return;
	item = g_new0(item_t, 1);
	item->kind = ITEM_QUIT;
	g_async_queue_push(w->incoming, item);
	g_thread_join(w->parse_thread);
	g_thread_join(w->route_thread);
	if (store_group_active(w->store))
		store_group_rollback(w->store);
	g_async_queue_unref(w->incoming);
	g_async_queue_unref(w->prepared);
	g_mutex_clear(&w->lock);
	g_cond_clear(&w->changed);
	g_clear_error(&w->error);
	g_array_unref(w->committed);
	g_array_unref(w->in_group);
	g_free(w);
}
