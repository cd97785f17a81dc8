/* users.c — staff accounts of the web console, their sessions, and the
 * record of failed sign-ins that throttles password guessing (see the
 * "staff accounts" block of store.h). */
#include "store/store-private.h"

#include <string.h>

#define USER_COLUMNS                                                                               \
	"id, name, role, created_at, password_changed_at, disabled_at, last_login_at"

void
store_user_free(store_user_t *user)
{
	if (user == NULL)
		return;
	g_free(user->name);
	g_free(user->role);
	g_free(user->created_at);
	g_free(user->password_changed_at);
	g_free(user->disabled_at);
	g_free(user->last_login_at);
	g_free(user);
}

void
store_session_free(store_session_t *session)
{
	if (session == NULL)
		return;
	g_free(session->id_hash);
	g_free(session->user_name);
	g_free(session->role);
	g_free(session->created_at);
	g_free(session->last_seen_at);
	g_free(session->address);
	g_free(session);
}

gboolean
store_user_name_valid(const char *name)
{
	gsize n;

	if (name == NULL || (n = strlen(name)) == 0 || n > STORE_USER_NAME_MAX ||
	    !(g_ascii_islower(name[0]) || g_ascii_isdigit(name[0])))
		return FALSE;
	for (gsize i = 0; i < n; i++) {
		char c = name[i];
		if (!(g_ascii_islower(c) || g_ascii_isdigit(c) || c == '.' || c == '_' || c == '-'))
			return FALSE;
	}
	return TRUE;
}

gboolean
store_password_acceptable(const char *password, GError **error)
{
	if (password == NULL || !g_utf8_validate(password, -1, NULL)) {
		g_set_error(error, STORE_ERROR, PI_ERROR_REFUSED, "the password is not valid UTF-8");
		return FALSE;
	}
	if (strlen(password) > STORE_PASSWORD_MAX) {
		g_set_error(error, STORE_ERROR, PI_ERROR_REFUSED,
		            "the password is longer than %d bytes", STORE_PASSWORD_MAX);
		return FALSE;
	}
	if (g_utf8_strlen(password, -1) < STORE_PASSWORD_MIN) {
		g_set_error(error, STORE_ERROR, PI_ERROR_REFUSED,
		            "the password is too short: at least %d characters", STORE_PASSWORD_MIN);
		return FALSE;
	}
	return TRUE;
}

/* argon2id with libsodium's interactive limits (64 MiB, 2 passes): about a
 * tenth of a second here, which is what a sign-in may cost. */
static char *
hash_password(const char *password, GError **error)
{
	char hash[crypto_pwhash_STRBYTES];

	if (crypto_pwhash_str_alg(hash, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
	                          crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) != 0) {
		g_set_error(error, STORE_ERROR, PI_ERROR_FATAL,
		            "cannot hash the password (out of memory?)");
		return NULL;
	}
	return g_strdup(hash);
}

static store_user_t *
user_from_row(sqlite3_stmt *stmt)
{
	store_user_t *u = g_new0(store_user_t, 1);

	u->id = sqlite3_column_int64(stmt, 0);
	u->name = store_column_dup(stmt, 1);
	u->role = store_column_dup(stmt, 2);
	u->created_at = store_column_dup(stmt, 3);
	u->password_changed_at = store_column_dup(stmt, 4);
	u->disabled_at = store_column_dup(stmt, 5);
	u->last_login_at = store_column_dup(stmt, 6);
	return u;
}

static gboolean
fail(store_t *store, GError **error)
{
	store_rollback(store);
	(void)error;
	return FALSE;
}

gboolean
store_user_add(store_t *store, const char *name, const char *role, const char *password,
               const char *actor, GError **error)
{
	g_autoptr(store_stmt_t) stmt = NULL;
	g_autofree char *hash = NULL;
	g_autofree char *now = pi_now_iso8601();
	g_autofree char *detail = NULL;

	if (!store_user_name_valid(name)) {
		g_set_error(error, STORE_ERROR, PI_ERROR_REFUSED,
		            "\"%s\" is not a valid account name (1–%d of a-z, 0-9, '.', '_', '-')",
		            name ? name : "", STORE_USER_NAME_MAX);
		return FALSE;
	}
	if (g_strcmp0(role, "staff") != 0 && g_strcmp0(role, "admin") != 0) {
		g_set_error(error, STORE_ERROR, PI_ERROR_REFUSED, "the role is staff or admin, not \"%s\"",
		            role ? role : "");
		return FALSE;
	}
	if (!store_password_acceptable(password, error) || (hash = hash_password(password, error)) == NULL)
		return FALSE;
	if (!store_begin(store, error))
		return FALSE;
	stmt = store_prepare(store,
	                     "INSERT INTO users (name, role, password_hash, created_at,"
	                     " password_changed_at) VALUES (?1, ?2, ?3, ?4, ?4)"
	                     " ON CONFLICT (name) DO NOTHING",
	                     error);
	if (stmt == NULL)
		return fail(store, error);
	store_bind_text(stmt, 1, name);
	store_bind_text(stmt, 2, role);
	store_bind_text(stmt, 3, hash);
	store_bind_text(stmt, 4, now);
	if (!store_step_done(store, stmt, "adding an account", error))
		return fail(store, error);
	if (sqlite3_changes(store->db) == 0) {
		g_set_error(error, STORE_ERROR, PI_ERROR_REFUSED, "an account named %s already exists",
		            name);
		return fail(store, error);
	}
	detail = g_strdup_printf("account %s added (%s)", name, role);
	if (!store_audit(store, actor, "user added", NULL, detail, error))
		return fail(store, error);
	return store_commit(store, error);
}

store_user_t *
store_user_get(store_t *store, const char *name, GError **error)
{
	g_autoptr(store_stmt_t) stmt =
	    store_prepare(store, "SELECT " USER_COLUMNS " FROM users WHERE name = ?1", error);
	int rc;

	if (stmt == NULL)
		return NULL;
	store_bind_text(stmt, 1, name);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		return user_from_row(stmt);
	if (rc != SQLITE_DONE)
		store_set_error(store, error, "reading an account");
	else
		g_set_error(error, STORE_ERROR, PI_ERROR_NOT_FOUND, "no account named %s",
		            name ? name : "");
	return NULL;
}

GPtrArray *
store_user_list(store_t *store, GError **error)
{
	g_autoptr(store_stmt_t) stmt =
	    store_prepare(store, "SELECT " USER_COLUMNS " FROM users ORDER BY name", error);
	g_autoptr(GPtrArray) users = g_ptr_array_new_with_free_func((GDestroyNotify)store_user_free);

	if (stmt == NULL)
		return NULL;
	if (!store_collect(store, stmt, users, (store_row_fn)user_from_row, "listing accounts",
	                   error))
		return NULL;
	return g_steal_pointer(&users);
}

/* Run SQL with ?1 = account id and, when it has one, ?2 = now (inside the
 * caller's transaction). */
static gboolean
exec_for_user(store_t *store, const char *sql, gint64 user_id, const char *now, GError **error)
{
	g_autoptr(store_stmt_t) stmt = store_prepare(store, sql, error);

	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_int64(stmt, 1, user_id);
	if (sqlite3_bind_parameter_count(stmt) >= 2)
		store_bind_text(stmt, 2, now);
	return store_step_done(store, stmt, "updating an account", error);
}

gboolean
store_user_set_disabled(store_t *store, const char *name, gboolean disable, const char *actor,
                        GError **error)
{
	g_autoptr(store_user_t) user = NULL;
	g_autofree char *now = pi_now_iso8601();
	g_autofree char *detail = NULL;

	if (!store_begin(store, error))
		return FALSE;
	if ((user = store_user_get(store, name, error)) == NULL)
		return fail(store, error);
	if (!exec_for_user(store,
	                   disable ? "UPDATE users SET disabled_at = ?2 WHERE id = ?1"
	                           : "UPDATE users SET disabled_at = NULL WHERE id = ?1",
	                   user->id, now, error) ||
	    (disable &&
	     !exec_for_user(store, "DELETE FROM web_sessions WHERE user_id = ?1",
	                    user->id, now, error)))
		return fail(store, error);
	detail = g_strdup_printf("account %s %s", name, disable ? "disabled" : "enabled");
	if (!store_audit(store, actor, disable ? "user disabled" : "user enabled", NULL, detail, error))
		return fail(store, error);
	return store_commit(store, error);
}

gboolean
store_user_set_password(store_t *store, const char *name, const char *password, const char *actor,
                        GError **error)
{
	g_autoptr(store_user_t) user = NULL;
	g_autoptr(store_stmt_t) stmt = NULL;
	g_autofree char *hash = NULL;
	g_autofree char *now = pi_now_iso8601();
	g_autofree char *detail = NULL;

	if (!store_password_acceptable(password, error) || (hash = hash_password(password, error)) == NULL)
		return FALSE;
	if (!store_begin(store, error))
		return FALSE;
	if ((user = store_user_get(store, name, error)) == NULL)
		return fail(store, error);
	stmt = store_prepare(store,
	                     "UPDATE users SET password_hash = ?2, password_changed_at = ?3"
	                     " WHERE id = ?1",
	                     error);
	if (stmt == NULL)
		return fail(store, error);
	sqlite3_bind_int64(stmt, 1, user->id);
	store_bind_text(stmt, 2, hash);
	store_bind_text(stmt, 3, now);
	if (!store_step_done(store, stmt, "setting a password", error) ||
	    !exec_for_user(store, "DELETE FROM web_sessions WHERE user_id = ?1",
	                   user->id, now, error))
		return fail(store, error);
	detail = g_strdup_printf("password of %s changed; its sessions ended", name);
	if (!store_audit(store, actor, "user password", NULL, detail, error))
		return fail(store, error);
	return store_commit(store, error);
}

/* A hash of a password nobody has, verified when the account does not
 * exist so that the answer takes as long as for a wrong password. */
static const char *
dummy_hash(void)
{
	static char hash[crypto_pwhash_STRBYTES];
	static gsize done = 0;

	if (g_once_init_enter(&done)) {
		unsigned char random[32];
		randombytes_buf(random, sizeof(random));
		if (crypto_pwhash_str_alg(hash, (const char *)random, sizeof(random),
		                          crypto_pwhash_OPSLIMIT_INTERACTIVE,
		                          crypto_pwhash_MEMLIMIT_INTERACTIVE,
		                          crypto_pwhash_ALG_ARGON2ID13) != 0)
			hash[0] = '\0';
		g_once_init_leave(&done, 1);
	}
	return hash;
}

gboolean
store_user_authenticate(store_t *store, const char *name, const char *password,
                        store_user_t **user_out, GError **error)
{
	g_autoptr(store_stmt_t) stmt = NULL;
	g_autoptr(store_user_t) user = NULL;
	g_autofree char *hash = NULL;
	gboolean ok;
	int rc;

	*user_out = NULL;
	stmt = store_prepare(store,
	                     "SELECT " USER_COLUMNS ", password_hash FROM users WHERE name = ?1",
	                     error);
	if (stmt == NULL)
		return FALSE;
	store_bind_text(stmt, 1, name ? name : "");
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		user = user_from_row(stmt);
		hash = store_column_dup(stmt, 7);
	} else if (rc != SQLITE_DONE) {
		store_set_error(store, error, "reading an account");
		return FALSE;
	}
	sqlite3_reset(stmt);
	if (password == NULL || strlen(password) > STORE_PASSWORD_MAX)
		ok = FALSE;
	else if (hash != NULL)
		ok = crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
	else {
		/* Always FALSE: the work is done only to take the same time. */
		ok = crypto_pwhash_str_verify(dummy_hash(), password, strlen(password)) == 0;
		ok = FALSE;
	}
	if (!ok || user == NULL || user->disabled_at != NULL) {
		g_set_error(error, STORE_ERROR, PI_ERROR_AUTH, "wrong name or password");
		return FALSE;
	}
	*user_out = g_steal_pointer(&user);
	return TRUE;
}

/* ---- sessions ------------------------------------------------------------ */

gboolean
store_session_create(store_t *store, const char *id_hash, gint64 user_id, const char *address,
                     GError **error)
{
	g_autoptr(store_stmt_t) stmt = NULL;
	g_autofree char *now = pi_now_iso8601();

	if (!store_begin(store, error))
		return FALSE;
	stmt = store_prepare(store,
	                     "INSERT INTO web_sessions (id_hash, user_id, created_at, last_seen_at,"
	                     " address) VALUES (?1, ?2, ?3, ?3, ?4)",
	                     error);
	if (stmt == NULL)
		return fail(store, error);
	store_bind_text(stmt, 1, id_hash);
	sqlite3_bind_int64(stmt, 2, user_id);
	store_bind_text(stmt, 3, now);
	store_bind_text(stmt, 4, address);
	if (!store_step_done(store, stmt, "recording a session", error) ||
	    !exec_for_user(store, "UPDATE users SET last_login_at = ?2 WHERE id = ?1", user_id, now,
	                   error))
		return fail(store, error);
	return store_commit(store, error);
}

store_session_t *
store_session_get(store_t *store, const char *id_hash, GError **error)
{
	g_autoptr(store_stmt_t) stmt = store_prepare(
	    store,
	    "SELECT s.id_hash, s.user_id, u.name, u.role, s.created_at, s.last_seen_at, s.address,"
	    " u.disabled_at IS NOT NULL FROM web_sessions s JOIN users u ON u.id = s.user_id"
	    " WHERE s.id_hash = ?1",
	    error);
	store_session_t *s;
	int rc;

	if (stmt == NULL)
		return NULL;
	store_bind_text(stmt, 1, id_hash);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE)
		return NULL;
	if (rc != SQLITE_ROW) {
		store_set_error(store, error, "reading a session");
		return NULL;
	}
	s = g_new0(store_session_t, 1);
	s->id_hash = store_column_dup(stmt, 0);
	s->user_id = sqlite3_column_int64(stmt, 1);
	s->user_name = store_column_dup(stmt, 2);
	s->role = store_column_dup(stmt, 3);
	s->created_at = store_column_dup(stmt, 4);
	s->last_seen_at = store_column_dup(stmt, 5);
	s->address = store_column_dup(stmt, 6);
	s->user_disabled = sqlite3_column_int(stmt, 7) != 0;
	return s;
}

gboolean
store_session_touch(store_t *store, const store_session_t *session, GError **error)
{
	g_autoptr(GDateTime) now = pi_now();
	g_autoptr(GDateTime) seen = g_date_time_new_from_iso8601(session->last_seen_at, NULL);
	g_autoptr(store_stmt_t) stmt = NULL;
	g_autofree char *now_text = NULL;

	/* One write a minute is enough for an idle timeout counted in minutes. */
	if (seen != NULL && g_date_time_difference(now, seen) < 60 * G_TIME_SPAN_SECOND)
		return TRUE;
	now_text = pi_iso8601(now);
	stmt = store_prepare(store, "UPDATE web_sessions SET last_seen_at = ?2 WHERE id_hash = ?1",
	                     error);
	if (stmt == NULL)
		return FALSE;
	store_bind_text(stmt, 1, session->id_hash);
	store_bind_text(stmt, 2, now_text);
	return store_step_done(store, stmt, "using a session", error);
}

gboolean
store_session_delete(store_t *store, const char *id_hash, GError **error)
{
	g_autoptr(store_stmt_t) stmt =
	    store_prepare(store, "DELETE FROM web_sessions WHERE id_hash = ?1", error);

	if (stmt == NULL)
		return FALSE;
	store_bind_text(stmt, 1, id_hash);
	return store_step_done(store, stmt, "ending a session", error);
}

gboolean
store_session_expire(store_t *store, const char *idle_before, const char *created_before,
                     GError **error)
{
	g_autoptr(store_stmt_t) stmt = store_prepare(
	    store, "DELETE FROM web_sessions WHERE last_seen_at < ?1 OR created_at < ?2", error);

	if (stmt == NULL)
		return FALSE;
	store_bind_text(stmt, 1, idle_before);
	store_bind_text(stmt, 2, created_before);
	return store_step_done(store, stmt, "ending old sessions", error);
}

/* ---- failed sign-ins ------------------------------------------------------- */

gboolean
store_login_failure_add(store_t *store, const char *user, const char *address, GError **error)
{
	g_autoptr(GDateTime) now = pi_now();
	g_autoptr(GDateTime) day_ago = g_date_time_add_days(now, -1);
	g_autofree char *now_text = pi_iso8601(now);
	g_autofree char *old = pi_iso8601(day_ago);
	g_autoptr(store_stmt_t) insert = NULL;
	g_autoptr(store_stmt_t) prune = NULL;

	if (!store_begin(store, error))
		return FALSE;
	insert = store_prepare(store,
	                       "INSERT INTO login_failures (at, user_name, address) VALUES (?1, ?2, ?3)",
	                       error);
	prune = store_prepare(store, "DELETE FROM login_failures WHERE at < ?1", error);
	if (insert == NULL || prune == NULL)
		return fail(store, error);
	store_bind_text(insert, 1, now_text);
	/* A name as typed may be anything: keep a bounded, valid piece of it. */
	if (user != NULL) {
		g_autofree char *valid = g_utf8_make_valid(user, MIN(strlen(user), 128));
		store_bind_text(insert, 2, valid);
	} else
		store_bind_text(insert, 2, NULL);
	store_bind_text(insert, 3, address);
	store_bind_text(prune, 1, old);
	if (!store_step_done(store, insert, "recording a failed sign-in", error) ||
	    !store_step_done(store, prune, "pruning failed sign-ins", error))
		return fail(store, error);
	return store_commit(store, error);
}

gint64
store_login_failures_since(store_t *store, const char *user, const char *address,
                           const char *since, GError **error)
{
	g_autoptr(store_stmt_t) stmt = store_prepare(
	    store,
	    "SELECT count(*) FROM login_failures WHERE at >= ?1"
	    " AND (?2 IS NULL OR user_name = ?2) AND (?3 IS NULL OR address = ?3)",
	    error);

	if (stmt == NULL)
		return -1;
	store_bind_text(stmt, 1, since);
	store_bind_text(stmt, 2, user);
	store_bind_text(stmt, 3, address);
	if (sqlite3_step(stmt) != SQLITE_ROW) {
		store_set_error(store, error, "counting failed sign-ins");
		return -1;
	}
	return sqlite3_column_int64(stmt, 0);
}
