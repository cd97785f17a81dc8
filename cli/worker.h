/* worker.h — fetch, parse and route at the same time, in three threads:
 * the fetching thread (the IMAP connection's) writes each message to a
 * spool file and hands it over; the parse thread ("parser") parses it (no
 * database); the router thread ("router") routes it (the facts, the one
 * transaction) and commits groups of them (store/group.c).  So the two
 * cores overlap network, parsing, routing and the group's syncfs, while
 * the queue between them stays short (MAX_QUEUED messages in all, a file
 * each on disk, and at most MAX_QUEUED_BYTES of parsed requests in memory)
 * and the crash-safety order is kept: a message is committed (spool synced
 * first) before its UID is handed back for the server update.
 *
 * A group is committed at each flush, and whenever the queue has been empty
 * for 50 ms (so the database's write lock is not held while the network is
 * slow; a backlog keeps the queue full and the groups large).
 *
 * The store belongs to the router thread from worker_push() to the end of
 * a flush with nothing pushed after it; the caller uses it only then (spool
 * files excepted: they may be made in any thread), or through
 * worker_call(). */
#pragma once

#include "store/store.h"

/* Prepare MESSAGE (fetched as UID; borrowed, changed in place) in the parse
 * thread, without the database; set *SIZE_OUT to the memory it then holds. */
typedef gboolean (*worker_prepare_fn)(gpointer data, gpointer message, guint32 uid, gsize *size_out,
                                      GError **error);
/* Route MESSAGE (fetched as UID with INTERNAL_DATE, which may be NULL;
 * borrowed, prepared): runs in the router thread, inside the group's
 * transaction. */
typedef gboolean (*worker_route_fn)(gpointer data, gpointer message, guint32 uid,
                                    GDateTime *internal_date, GError **error);

/* Work of the caller's on the store, run by worker_call() in the router
 * thread. */
typedef gboolean (*worker_call_fn)(store_t *store, gpointer data, GError **error);

typedef struct {
	worker_prepare_fn prepare;
	worker_route_fn route;
	GDestroyNotify message_free; /* frees what was pushed, routed or not */
	gpointer data;
	guint max_queued;
	gsize max_queued_bytes;
} worker_config_t;

typedef struct worker worker_t;

/* Start the threads (CONFIG is copied).  Caller frees with worker_free()
 * (which stops them). */
worker_t *worker_new(store_t *store, const worker_config_t *config);
void worker_free(worker_t *worker);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(worker_t, worker_free)

/* Hand over MESSAGE (taken).  Waits while MAX_QUEUED messages wait.  FALSE
 * (with the worker's error) once preparing or routing failed; MESSAGE is
 * freed then. */
gboolean worker_push(worker_t *worker, gpointer message, guint32 uid, GDateTime *internal_date,
                     GError **error);

/* Wait until everything handed over is routed (or dropped after an error or
 * a stop request), commit the group, and append the UIDs committed since
 * the last flush to ROUTED (NULL: not wanted).  FALSE with the first error; what was committed
 * before it is in ROUTED all the same. */
gboolean worker_flush(worker_t *worker, GArray *routed, GError **error);
/* The same in two steps, so the caller can go on (fetch the next batch)
 * while the group is committed: worker_flush_begin() returns at once with a
 * ticket for worker_flush_wait().  Flushes complete in the order begun. */
guint worker_flush_begin(worker_t *worker);
gboolean worker_flush_wait(worker_t *worker, guint ticket, GArray *routed, GError **error);

/* Run CALL(store, DATA) in the router thread after what was pushed before,
 * inside the open group (or a new one); committed with it.  A failure is
 * the worker's error, as a routing failure would be.  DATA is freed with
 * DATA_FREE afterwards (or when dropped). */
void worker_call(worker_t *worker, worker_call_fn call, gpointer data, GDestroyNotify data_free);
