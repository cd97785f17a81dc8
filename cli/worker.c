/* worker.c — see worker.h. */
#include "cli/worker.h"

#include "cli/cli.h"

typedef enum { ITEM_MESSAGE, ITEM_FLUSH, ITEM_QUIT } item_kind_t;

/* How long the queue may stay empty before the open group is committed. */
#define GROUP_IDLE_USEC 50000

typedef struct {
	item_kind_t kind;
	spool_file_t *file;
	guint32 uid;
	GDateTime *internal_date;
} item_t;

struct worker {
	store_t *store;
	worker_route_fn route;
	gpointer data;
	guint max_queued;
	GThread *thread;
	GAsyncQueue *queue;
	GMutex lock;
	GCond changed;
	guint queued;      /* messages pushed, not yet taken */
	guint flushes;     /* flushes done */
	GError *error;     /* the first failure; later messages are dropped */
	GArray *committed; /* UIDs committed since the last flush */
	GArray *in_group;  /* UIDs routed in the open group */
};

static void
item_free(item_t *item)
{
	spool_file_free(item->file);
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

	/* After a failure or a stop request, fetched but unrouted messages
	 * are dropped: not committed, they are fetched again next time. */
	if (failed(w) || cli_stop_requested)
		return;
	if (!store_group_active(w->store) && !store_group_begin(w->store, &error)) {
		fail(w, error);
		return;
	}
	if (!w->route(w->data, item->file, item->uid, item->internal_date, &error)) {
		g_prefix_error(&error, "UID %u: ", item->uid);
		fail(w, error);
		return;
	}
	g_array_append_val(w->in_group, item->uid);
}

static gpointer
run(gpointer data)
{
	worker_t *w = data;

	for (;;) {
		item_t *item = g_async_queue_try_pop(w->queue);
		item_kind_t kind;

		/* Nothing waiting: commit what is routed rather than hold the
		 * database's write lock while the network is slow (a backlog
		 * keeps the queue full and the groups large). */
		if (item == NULL && store_group_active(w->store)) {
			item = g_async_queue_timeout_pop(w->queue, GROUP_IDLE_USEC);
			if (item == NULL)
				commit_group(w);
		}
		if (item == NULL)
			item = g_async_queue_pop(w->queue);
		kind = item->kind;

		if (kind == ITEM_MESSAGE) {
			g_mutex_lock(&w->lock);
			w->queued--;
			g_cond_broadcast(&w->changed);
			g_mutex_unlock(&w->lock);
			route_one(w, item);
		} else {
			commit_group(w);
		}
		item_free(item);
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

worker_t *
worker_new(store_t *store, worker_route_fn route, gpointer data, guint max_queued)
{
	worker_t *w = g_new0(worker_t, 1);

	w->store = store;
	w->route = route;
	w->data = data;
	w->max_queued = MAX(max_queued, 1);
	w->queue = g_async_queue_new();
	g_mutex_init(&w->lock);
	g_cond_init(&w->changed);
	w->committed = g_array_new(FALSE, FALSE, sizeof(guint32));
	w->in_group = g_array_new(FALSE, FALSE, sizeof(guint32));
	w->thread = g_thread_new("router", run, w);
	return w;
}

gboolean
worker_push(worker_t *w, spool_file_t *file, guint32 uid, GDateTime *internal_date, GError **error)
{
	item_t *item;

	g_mutex_lock(&w->lock);
	while (w->queued >= w->max_queued && w->error == NULL)
		g_cond_wait(&w->changed, &w->lock);
	if (w->error != NULL) {
		g_propagate_error(error, g_error_copy(w->error));
		g_mutex_unlock(&w->lock);
		spool_file_free(file);
		return FALSE;
	}
	w->queued++;
	g_mutex_unlock(&w->lock);
	item = g_new0(item_t, 1);
	item->kind = ITEM_MESSAGE;
	item->file = file;
	item->uid = uid;
	item->internal_date = internal_date ? g_date_time_ref(internal_date) : NULL;
	g_async_queue_push(w->queue, item);
	return TRUE;
}

gboolean
worker_flush(worker_t *w, GArray *routed, GError **error)
{
	item_t *item = g_new0(item_t, 1);
	guint target;
	gboolean ok;

	g_mutex_lock(&w->lock);
	target = w->flushes + 1;
	g_mutex_unlock(&w->lock);
	item->kind = ITEM_FLUSH;
	g_async_queue_push(w->queue, item);
	g_mutex_lock(&w->lock);
	while (w->flushes < target)
		g_cond_wait(&w->changed, &w->lock);
	g_array_append_vals(routed, w->committed->data, w->committed->len);
	g_array_set_size(w->committed, 0);
	ok = w->error == NULL;
	if (!ok)
		g_propagate_error(error, g_steal_pointer(&w->error));
	g_mutex_unlock(&w->lock);
	return ok;
}

void
worker_free(worker_t *w)
{
	item_t *item;

	if (w == NULL)
		return;
	item = g_new0(item_t, 1);
	item->kind = ITEM_QUIT;
	g_async_queue_push(w->queue, item);
	g_thread_join(w->thread);
	if (store_group_active(w->store))
		store_group_rollback(w->store);
	g_async_queue_unref(w->queue);
	g_mutex_clear(&w->lock);
	g_cond_clear(&w->changed);
	g_clear_error(&w->error);
	g_array_unref(w->committed);
	g_array_unref(w->in_group);
	g_free(w);
}
