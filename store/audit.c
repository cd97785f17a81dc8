/* audit.c — the append-only audit log.  Each row carries a SHA-256 over
 * the previous row's hash and its own fields, so an edited, deleted or
 * reordered row breaks the chain.  The table's head (last row, its hash, the
 * number of rows) is kept in audit_head, so rows deleted from the end are
 * noticed too, and triggers refuse UPDATE and DELETE on the table: changing
 * it takes a deliberate schema change, which store_audit_verify() reports.
 *
 * The chain does not stop someone who can write the database and recompute
 * every hash; it makes any casual or partial change evident.  Export it
 * regularly (store_audit_foreach, `audit export`) to keep a copy out of reach.
 */
#include "store/store-private.h"

#include <string.h>

#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"

/* SHA-256 over PREV and the length-prefixed fields: no two different rows
 * hash the same input.  Caller frees. */
static char *
row_hash(const char *prev, const char *at, const char *actor, const char *action,
         const char *ticket_ref, const char *detail)
{
	g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
	const char *fields[5] = {at, actor, action, ticket_ref, detail};

	g_checksum_update(sum, (const guchar *)prev, -1);
	for (gsize i = 0; i < G_N_ELEMENTS(fields); i++) {
		const char *f = fields[i] ? fields[i] : "";
		g_autofree char *len = g_strdup_printf("\n%zu:", strlen(f));
		g_checksum_update(sum, (const guchar *)len, -1);
		g_checksum_update(sum, (const guchar *)f, -1);
	}
	return g_strdup(g_checksum_get_string(sum));
}

static gboolean
append(store_t *store, const char *actor, const char *action, const char *ticket_ref,
       const char *detail, GError **error)
{
	g_autoptr(store_stmt_t) last =
	    store_prepare(store, "SELECT hash FROM audit ORDER BY id DESC LIMIT 1", error);
	g_autoptr(store_stmt_t) insert = NULL;
	g_autoptr(store_stmt_t) head = NULL;
	g_autofree char *prev = NULL;
	g_autofree char *now = pi_now_iso8601();
	g_autofree char *hash = NULL;
	int rc;

	if (last == NULL)
		return FALSE;
	rc = sqlite3_step(last);
	if (rc == SQLITE_ROW)
		prev = store_column_dup(last, 0);
	else if (rc != SQLITE_DONE) {
		store_set_error(store, error, "reading the audit log");
		return FALSE;
	}
	if (prev == NULL)
		prev = g_strdup(ZERO_HASH);
	hash = row_hash(prev, now, actor ? actor : "", action ? action : "", ticket_ref, detail);
	insert =
	    store_prepare(store,
	                  "INSERT INTO audit (at, actor, action, ticket_ref, detail, prev_hash,"
	                  " hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
	                  error);
	if (insert == NULL)
		return FALSE;
	store_bind_text(insert, 1, now);
	store_bind_text(insert, 2, actor ? actor : "");
	store_bind_text(insert, 3, action ? action : "");
	store_bind_text(insert, 4, ticket_ref);
	store_bind_text(insert, 5, detail);
	store_bind_text(insert, 6, prev);
	store_bind_text(insert, 7, hash);
	if (!store_step_done(store, insert, "appending to the audit log", error))
		return FALSE;
	head = store_prepare(
	    store,
	    "INSERT INTO audit_head (id, last_id, last_hash, rows) VALUES (1, ?, ?, 1)"
	    " ON CONFLICT (id) DO UPDATE SET last_id = excluded.last_id,"
	    " last_hash = excluded.last_hash, rows = rows + 1",
	    error);
	if (head == NULL)
		return FALSE;
	sqlite3_bind_int64(head, 1, sqlite3_last_insert_rowid(store->db));
	store_bind_text(head, 2, hash);
	return store_step_done(store, head, "updating the audit head", error);
}

gboolean
store_audit(store_t *store, const char *actor, const char *action, const char *ticket_ref,
            const char *detail, GError **error)
{
	/* Reading the last hash and appending must be one transaction, or two
	 * processes could chain to the same row. */
	gboolean own = !store->in_transaction && sqlite3_get_autocommit(store->db);

	if (own && !store_begin(store, error))
		return FALSE;
	if (!append(store, actor, action, ticket_ref, detail, error)) {
		if (own)
			store_rollback(store);
		return FALSE;
	}
	return own ? store_commit(store, error) : TRUE;
}

/* ---- verification ------------------------------------------------------ */

void
store_audit_verdict_clear(store_audit_verdict_t *v)
{
	g_clear_pointer(&v->problem, g_free);
	g_clear_pointer(&v->bad_at, g_free);
	g_clear_pointer(&v->bad_actor, g_free);
	g_clear_pointer(&v->bad_action, g_free);
	g_clear_pointer(&v->head_hash, g_free);
}

static void
bad_row(store_audit_verdict_t *v, sqlite3_stmt *row, char *problem)
{
	v->bad_row = sqlite3_column_int64(row, 0);
	v->bad_at = store_column_dup(row, 1);
	v->bad_actor = store_column_dup(row, 2);
	v->bad_action = store_column_dup(row, 3);
	v->problem = problem;
}

gboolean
store_audit_verify(store_t *store, store_audit_verdict_t *v, GError **error)
{
	g_autoptr(store_stmt_t) rows =
	    store_prepare(store,
	                  "SELECT id, at, actor, action, ticket_ref, detail, prev_hash, hash FROM "
	                  "audit ORDER BY id",
	                  error);
	g_autoptr(store_stmt_t) head = NULL;
	g_autoptr(store_stmt_t) guard = NULL;
	g_autofree char *expected_prev = g_strdup(ZERO_HASH);
	gint64 prev_id = 0;
	int rc;

	memset(v, 0, sizeof(*v));
	if (rows == NULL)
		return FALSE;
	/* One read transaction: a consistent snapshot while the daemon appends. */
	if (!store->in_transaction &&
	    sqlite3_exec(store->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		store_set_error(store, error, "reading the audit log");
		return FALSE;
	}
	while ((rc = sqlite3_step(rows)) == SQLITE_ROW) {
		gint64 id = sqlite3_column_int64(rows, 0);
		const char *prev = (const char *)sqlite3_column_text(rows, 6);
		const char *hash = (const char *)sqlite3_column_text(rows, 7);
		g_autofree char *computed = NULL;

		v->rows++;
		if (id != prev_id + 1 && prev_id != 0) {
			bad_row(v, rows,
			        id == prev_id + 2
			            ? g_strdup_printf("row %" G_GINT64_FORMAT
			                              " before it is missing (deleted)",
			                              prev_id + 1)
			            : g_strdup_printf("rows %" G_GINT64_FORMAT
			                              " to %" G_GINT64_FORMAT
			                              " before it are missing (deleted)",
			                              prev_id + 1, id - 1));
			break;
		}
		if (g_strcmp0(prev, expected_prev) != 0) {
			bad_row(
			    v, rows,
			    prev_id == 0
			        ? g_strdup("it is the first row but does not start the chain (rows "
			                   "before it were deleted, or it was edited)")
			        : g_strdup_printf(
			              "it does not follow row %" G_GINT64_FORMAT
			              " (its previous hash is not that row's hash): rows "
			              "were reordered, replaced or edited",
			              prev_id));
			break;
		}
		computed = row_hash(prev, (const char *)sqlite3_column_text(rows, 1),
		                    (const char *)sqlite3_column_text(rows, 2),
		                    (const char *)sqlite3_column_text(rows, 3),
		                    (const char *)sqlite3_column_text(rows, 4),
		                    (const char *)sqlite3_column_text(rows, 5));
		if (g_strcmp0(computed, hash) != 0) {
			bad_row(v, rows,
			        g_strdup("its contents do not match its hash: the row was edited"));
			break;
		}
		g_free(expected_prev);
		expected_prev = g_strdup(hash);
		prev_id = id;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_set_error(store, error, "reading the audit log");
		goto fail;
	}
	v->last_row = prev_id;
	v->head_hash = g_strdup(expected_prev);
	if (v->problem != NULL)
		goto done;

	head = store_prepare(store, "SELECT last_id, last_hash, rows FROM audit_head WHERE id = 1",
	                     error);
	if (head == NULL)
		goto fail;
	rc = sqlite3_step(head);
	if (rc == SQLITE_ROW) {
		gint64 last_id = sqlite3_column_int64(head, 0);
		const char *last_hash = (const char *)sqlite3_column_text(head, 1);
		gint64 count = sqlite3_column_int64(head, 2);

		if (last_id > prev_id) {
			v->bad_row = prev_id + 1;
			v->problem = g_strdup_printf("the log ends at row %" G_GINT64_FORMAT
			                             " but its head records row %" G_GINT64_FORMAT
			                             " as the last: rows were deleted from the end",
			                             prev_id, last_id);
		} else if (last_id < prev_id) {
			v->bad_row = last_id + 1;
			v->problem =
			    g_strdup_printf("rows after %" G_GINT64_FORMAT
			                    " were not appended by privacy-inbox (the head "
			                    "records row %" G_GINT64_FORMAT " as the last)",
			                    last_id, last_id);
		} else if (g_strcmp0(last_hash, expected_prev) != 0 || count != v->rows) {
			v->bad_row = last_id;
			v->problem =
			    g_strdup("the log's head does not match its last row (the head or "
			             "the row count was changed)");
		}
	} else if (rc == SQLITE_DONE) {
		if (v->rows > 0) {
			v->bad_row = 1;
			v->problem = g_strdup("the log's head is missing (it was deleted)");
		}
	} else {
		store_set_error(store, error, "reading the audit head");
		goto fail;
	}
	if (v->problem != NULL)
		goto done;

	guard = store_prepare(
	    store,
	    "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"
	    " AND tbl_name = 'audit' AND name IN ('audit_no_update', 'audit_no_delete')",
	    error);
	if (guard == NULL)
		goto fail;
	if (sqlite3_step(guard) != SQLITE_ROW) {
		store_set_error(store, error, "reading the schema");
		goto fail;
	}
	if (sqlite3_column_int(guard, 0) != 2)
		v->problem =
		    g_strdup("the chain is intact, but the log's append-only guard (its "
		             "triggers) was removed: someone changed the database by hand");
done:
	sqlite3_reset(rows);
	if (!store->in_transaction)
		sqlite3_exec(store->db, "COMMIT", NULL, NULL, NULL);
	return TRUE;
fail:
	sqlite3_reset(rows);
	if (!store->in_transaction)
		sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
	store_audit_verdict_clear(v);
	return FALSE;
}

/* ---- export --------------------------------------------------------------- */

gboolean
store_audit_foreach(store_t *store, const char *since, const char *until, store_audit_row_fn fn,
                    gpointer data, GError **error)
{
	g_autoptr(store_stmt_t) stmt = store_prepare(
	    store,
	    "SELECT id, at, actor, action, ticket_ref, detail, prev_hash, hash FROM audit"
	    " WHERE (?1 IS NULL OR at >= ?1) AND (?2 IS NULL OR at < ?2) ORDER BY id",
	    error);
	int rc;

	if (stmt == NULL)
		return FALSE;
	store_bind_text(stmt, 1, since);
	store_bind_text(stmt, 2, until);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		store_audit_row_t row = {
		    sqlite3_column_int64(stmt, 0),
		    (const char *)sqlite3_column_text(stmt, 1),
		    (const char *)sqlite3_column_text(stmt, 2),
		    (const char *)sqlite3_column_text(stmt, 3),
		    (const char *)sqlite3_column_text(stmt, 4),
		    (const char *)sqlite3_column_text(stmt, 5),
		    (const char *)sqlite3_column_text(stmt, 6),
		    (const char *)sqlite3_column_text(stmt, 7),
		};
		if (!fn(&row, data, error))
			return FALSE;
	}
	if (rc != SQLITE_DONE) {
		store_set_error(store, error, "reading the audit log");
		return FALSE;
	}
	return TRUE;
}
