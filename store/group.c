/* group.c — grouped commits for the fetcher: many messages, each routed in
 * its own (nested) transaction as usual, made durable together.
 *
 * Between store_group_begin() and store_group_commit(), store_begin() /
 * store_commit() / store_rollback() become SAVEPOINT / RELEASE / ROLLBACK TO
 * inside one outer transaction, and the spool stops syncing file by file.
 * store_group_commit() then keeps the crash-safety order for the whole
 * group: first syncfs() of the spool's file system (every message and
 * document file of the group, and the renames that put them in place, reach
 * the disk), then one COMMIT.  A crash before the COMMIT leaves spool files
 * nothing refers to (content-addressed: the next fetch writes the same
 * names) and no row; one after it leaves the server updates pending, as
 * for single messages.  The group holds a shared spool lock, so a purge
 * cannot remove a file whose reference is not committed yet. */
#include "store/store-private.h"

#include <fcntl.h>
#include <unistd.h>

gboolean
store_group_begin(store_t *store, GError **error)
{
	g_return_val_if_fail(!store->in_transaction && !store->in_group, FALSE);
	if ((store->group_lock_fd = store_spool_lock(store, FALSE, error)) < 0)
		return FALSE;
	/* One group follows another: staff waiting for the write lock get it
	 * in between. */
	store_yield_to_writers(store);
	if (!store_exec(store, "BEGIN IMMEDIATE", "starting a group of messages", error)) {
		close(store->group_lock_fd);
		store->group_lock_fd = -1;
		return FALSE;
	}
	store->in_group = TRUE;
	store->defer_sync = TRUE;
	return TRUE;
}

static void
group_end(store_t *store)
{
	store->in_group = FALSE;
	store->defer_sync = FALSE;
	store->in_transaction = FALSE;
	if (store->group_lock_fd >= 0)
		close(store->group_lock_fd);
	store->group_lock_fd = -1;
}

gboolean
store_group_commit(store_t *store, GError **error)
{
	int fd;

	g_return_val_if_fail(store->in_group, FALSE);
	fd = open(store->spool, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || syncfs(fd) != 0) {
		int saved = errno;

		if (fd >= 0)
			close(fd);
		g_set_error(error, STORE_ERROR, PI_ERROR_FATAL, "cannot sync the spool %s: %s",
		            store->spool, g_strerror(saved));
		store_group_rollback(store);
		return FALSE;
	}
	close(fd);
	if (!store_exec(store, "COMMIT", "committing a group of messages", error)) {
		store_group_rollback(store);
		return FALSE;
	}
	group_end(store);
	return TRUE;
}

void
store_group_rollback(store_t *store)
{
	if (!store->in_group)
		return;
	if (sqlite3_get_autocommit(store->db) == 0)
		sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
	group_end(store);
}

gboolean
store_group_active(const store_t *store)
{
	return store->in_group;
}
