/* worker.h — fetch and route at the same time: the fetching thread (the
 * IMAP connection's) writes each message to a spool file and hands it over;
 * this worker thread parses and routes it and commits groups of them
 * (store/group.c).  So the two cores overlap network and parsing, while the
 * queue between them stays short (MAX_QUEUED finished files on disk, a few
 * bytes each in memory) and the crash-safety order is kept: a message is
 * committed (spool synced first) before its UID is handed back for the
 * server update.
 *
 * A group is committed at each flush, and whenever the queue has been empty
 * for 50 ms (so the database's write lock is not held while the network is
 * slow; a backlog keeps the queue full and the groups large).
 *
 * The store belongs to the worker from worker_push() to worker_flush(); the
 * caller uses it only between a flush and the next push. */
#pragma once

#include "store/store.h"

/* Route FILE (fetched as UID with INTERNAL_DATE, which may be NULL): runs in
 * the worker thread, inside the group's transaction. */
typedef gboolean (*worker_route_fn)(gpointer data, spool_file_t *file, guint32 uid,
                                    GDateTime *internal_date, GError **error);

typedef struct worker worker_t;

/* Start the thread.  Caller frees with worker_free() (which stops it). */
worker_t *worker_new(store_t *store, worker_route_fn route, gpointer data, guint max_queued);
void worker_free(worker_t *worker);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(worker_t, worker_free)

/* Hand over FILE (taken).  Waits while MAX_QUEUED files wait.  FALSE (with
 * the worker's error) once routing failed; FILE is dropped then. */
gboolean worker_push(worker_t *worker, spool_file_t *file, guint32 uid, GDateTime *internal_date,
                     GError **error);

/* Wait until everything handed over is routed (or dropped after an error or
 * a stop request), commit the group, and append the UIDs committed since
 * the last flush to ROUTED.  FALSE with the first routing or commit error;
 * what was committed before it is in ROUTED all the same. */
gboolean worker_flush(worker_t *worker, GArray *routed, GError **error);
