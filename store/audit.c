/* audit.c — the append-only audit log.  Each row carries a SHA-256 over
 * the previous row's hash and its own fields, so an edited, deleted or
 * reordered row breaks the chain. */
#include "store/store-private.h"

gboolean
store_audit(store_t *store, const char *actor, const char *action, const char *ticket_ref,
            const char *detail, GError **error)
{
	g_autoptr(sqlite3_stmt) last =
	    store_prepare(store, "SELECT hash FROM audit ORDER BY id DESC LIMIT 1", error);
	g_autoptr(sqlite3_stmt) insert = NULL;
	g_autofree char *prev = NULL;
	g_autofree char *now = pi_now_iso8601();
	g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
	const char *fields[5];
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
		prev = g_strnfill(64, '0');
	fields[0] = now;
	fields[1] = actor ? actor : "";
	fields[2] = action ? action : "";
	fields[3] = ticket_ref ? ticket_ref : "";
	fields[4] = detail ? detail : "";
	/* Length-prefixed fields: no two different rows hash the same input. */
	g_checksum_update(sum, (const guchar *)prev, -1);
	for (gsize i = 0; i < G_N_ELEMENTS(fields); i++) {
		g_autofree char *len = g_strdup_printf("\n%zu:", strlen(fields[i]));
		g_checksum_update(sum, (const guchar *)len, -1);
		g_checksum_update(sum, (const guchar *)fields[i], -1);
	}
	insert = store_prepare(store,
	                       "INSERT INTO audit (at, actor, action, ticket_ref, detail, prev_hash,"
	                       " hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
	                       error);
	if (insert == NULL)
		return FALSE;
	store_bind_text(insert, 1, now);
	store_bind_text(insert, 2, fields[1]);
	store_bind_text(insert, 3, fields[2]);
	store_bind_text(insert, 4, ticket_ref);
	store_bind_text(insert, 5, detail);
	store_bind_text(insert, 6, prev);
	store_bind_text(insert, 7, g_checksum_get_string(sum));
	return store_step_done(store, insert, "appending to the audit log", error);
}
