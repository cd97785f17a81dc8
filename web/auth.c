/* auth.c — signing in and out, sessions and CSRF tokens, and the throttle
 * on password guessing.
 *
 * A session id is 32 random bytes (base64url in the cookie); the store
 * keeps only its SHA-256.  The CSRF token is HMAC-SHA-256(id, "csrf"): it
 * changes with every session, cannot be computed from what the store
 * keeps, and needs no column of its own.  Sessions end after
 * [web] session_idle_minutes without use and session_max_hours after
 * sign-in, at sign-out, when the account is disabled or its password
 * changed. */
#include "web/web-internal.h"

#include <sodium.h>
#include <string.h>

/* Failed sign-ins allowed in THROTTLE_MINUTES, per account and per client
 * address; past that, sign-in is refused (without checking the password)
 * until the oldest failures are older than the window. */
#define THROTTLE_MINUTES 15
#define MAX_FAILURES_PER_ACCOUNT 5
#define MAX_FAILURES_PER_ADDRESS 20
#define MAX_HASHING 2

static const char *
cookie_name(const web_request_t *r)
{
	/* __Host-: only ever set by this origin over HTTPS, for the whole site. */
	return r->server->https ? "__Host-pi_session" : "pi_session";
}

char *
web_csrf_token(const char *session_id)
{
	return g_compute_hmac_for_string(G_CHECKSUM_SHA256, (const guchar *)session_id,
	                                 strlen(session_id), "csrf", -1);
}

static char *
session_hash(const char *session_id)
{
	return g_compute_checksum_for_string(G_CHECKSUM_SHA256, session_id, -1);
}

static char *
new_session_id(void)
{
	unsigned char bytes[32];
	char text[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];

	randombytes_buf(bytes, sizeof(bytes));
	sodium_bin2base64(text, sizeof(text), bytes, sizeof(bytes),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(bytes, sizeof(bytes));
	return g_strdup(text);
}

static void
set_session_cookie(web_request_t *r, const char *value, gboolean clear)
{
	g_autofree char *cookie = g_strdup_printf(
	    "%s=%s; Path=/; HttpOnly; SameSite=Strict%s%s", cookie_name(r), clear ? "" : value,
	    r->server->https ? "; Secure" : "", clear ? "; Max-Age=0" : "");

	web_add_header(r, MHD_HTTP_HEADER_SET_COOKIE, cookie);
}

static char *
iso_minus(GDateTime *now, gint64 seconds)
{
	g_autoptr(GDateTime) t = g_date_time_add_seconds(now, -(gdouble)seconds);

	return pi_iso8601(t);
}

/* End every expired session now and then (at most every ten minutes). */
static void
sweep(web_request_t *r, GDateTime *now)
{
	static GMutex lock;
	static gint64 last_sweep = 0;
	gint64 t = g_date_time_to_unix(now);
	g_autofree char *idle = NULL, *old = NULL;
	g_autoptr(GError) error = NULL;
	gboolean due;

	g_mutex_lock(&lock);
	due = last_sweep == 0 || t - last_sweep >= 600;
	if (due)
		last_sweep = t;
	g_mutex_unlock(&lock);
	if (!due)
		return;
	idle = iso_minus(now, (gint64)r->config->web.session_idle_minutes * 60);
	old = iso_minus(now, (gint64)r->config->web.session_max_hours * 3600);
	if (!store_session_expire(r->env->store, idle, old, &error))
		g_message("ending expired sessions: %s", error->message);
}

void
web_auth_load(web_request_t *r)
{
	const char *header = MHD_lookup_connection_value(r->connection, MHD_HEADER_KIND, "Cookie");
	g_autofree char *id = header ? web_cookie_get(header, cookie_name(r)) : NULL;
	g_autofree char *hash = NULL;
	g_autoptr(store_session_t) session = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GDateTime) now = pi_now();
	g_autoptr(GDateTime) created = NULL, seen = NULL;
	gboolean expired;

	sweep(r, now);
	if (id == NULL || strlen(id) != 43)
		return;
	hash = session_hash(id);
	if ((session = store_session_get(r->env->store, hash, &error)) == NULL) {
		if (error != NULL)
			g_warning("reading a session: %s", error->message);
		return;
	}
	created = g_date_time_new_from_iso8601(session->created_at, NULL);
	seen = g_date_time_new_from_iso8601(session->last_seen_at, NULL);
	expired = created == NULL || seen == NULL || session->user_disabled ||
	          g_date_time_difference(now, seen) >
	              (GTimeSpan)r->config->web.session_idle_minutes * 60 * G_TIME_SPAN_SECOND ||
	          g_date_time_difference(now, created) >
	              (GTimeSpan)r->config->web.session_max_hours * 3600 * G_TIME_SPAN_SECOND;
	if (expired) {
		if (!store_session_delete(r->env->store, hash, &error))
			g_message("ending a session: %s", error->message);
		set_session_cookie(r, NULL, TRUE);
		return;
	}
	if (!store_session_touch(r->env->store, session, &error))
		g_message("using a session: %s", error->message);
	r->csrf = web_csrf_token(id);
	r->session = g_steal_pointer(&session);
}

/* ---- the sign-in page ---------------------------------------------------------- */

static void
login_form(web_request_t *r, const char *user, const char *next, const char *problem)
{
	web_page_begin(r, L(r, "ログイン", "Sign in"));
	if (problem != NULL)
		web_notice(r, "error", problem);
	else if (web_query(r, "expired") != NULL)
		web_notice(r, "warn",
		           L(r, "セッションの有効期限が切れました。もう一度ログインしてください。",
		             "Your session has ended. Please sign in again."));
	else if (web_query(r, "bye") != NULL)
		web_notice(r, "ok", L(r, "ログアウトしました。", "You have signed out."));
	web_html(r,
	         "<form method=\"post\" action=\"/login\" class=\"login\">"
	         "<label>%s<input name=\"user\" autocomplete=\"username\" required "
	         "autofocus value=\"%s\" maxlength=\"64\"></label>"
	         "<label>%s<input name=\"password\" type=\"password\" "
	         "autocomplete=\"current-password\" required></label>"
	         "<input type=\"hidden\" name=\"next\" value=\"%s\">"
	         "<button type=\"submit\">%s</button></form>"
	         "<p class=\"hint\">%s</p>",
	         L(r, "利用者名", "User name"), user ? user : "", L(r, "パスワード", "Password"),
	         next ? next : "/", L(r, "ログイン", "Sign in"),
	         L(r, "アカウントは管理者が privacy-inbox users add で作成します。",
	           "Accounts are created by an administrator with privacy-inbox users add."));
	web_page_end(r);
}

static gboolean
safe_next(const char *next)
{
	return next != NULL && next[0] == '/' && next[1] != '/' && next[1] != '\\' &&
	       strpbrk(next, "\\\r\n\t") == NULL && strlen(next) < 512 &&
	       !g_str_has_prefix(next, "/login") && !g_str_has_prefix(next, "/logout");
}

void
web_page_login(web_request_t *r)
{
	const char *next = web_query(r, "next");

	if (r->session != NULL) {
		web_redirect(r, safe_next(next) ? next : "/");
		return;
	}
	login_form(r, NULL, safe_next(next) ? next : "/", NULL);
}

/* Hold back while MAX_HASHING password checks run (each takes 64 MiB). */
static void
hashing_begin(web_server_t *server)
{
	g_mutex_lock(&server->hash_lock);
	while (server->hashing >= MAX_HASHING)
		g_cond_wait(&server->hash_cond, &server->hash_lock);
	server->hashing++;
	g_mutex_unlock(&server->hash_lock);
}

static void
hashing_end(web_server_t *server)
{
	g_mutex_lock(&server->hash_lock);
	server->hashing--;
	g_cond_signal(&server->hash_cond);
	g_mutex_unlock(&server->hash_lock);
}

static void
refuse(web_request_t *r, guint status, const char *user, const char *next, const char *problem)
{
	login_form(r, user, next, problem);
	r->status = status;
}

void
web_action_login(web_request_t *r)
{
	const char *user = web_field(r, "user");
	const char *password = web_field(r, "password");
	const char *next = web_field(r, "next");
	store_t *store = r->env->store;
	g_autoptr(GError) error = NULL;
	g_autoptr(store_user_t) account = NULL;
	g_autoptr(GDateTime) now = pi_now();
	g_autofree char *since = iso_minus(now, THROTTLE_MINUTES * 60);
	g_autofree char *id = NULL, *hash = NULL, *detail = NULL, *shown_user = NULL;
	gint64 by_account, by_address;
	gboolean ok;

	if (!safe_next(next))
		next = "/";
	if (user == NULL || *user == '\0' || password == NULL || *password == '\0') {
		refuse(r, MHD_HTTP_BAD_REQUEST, user, next,
		       L(r, "利用者名とパスワードを入力してください。", "Enter your user name and password."));
		return;
	}
	shown_user = g_utf8_substring(user, 0, MIN(g_utf8_strlen(user, -1), 64));
	by_account = store_login_failures_since(store, shown_user, NULL, since, &error);
	by_address = by_account < 0 ? -1 : store_login_failures_since(store, NULL, r->client, since,
	                                                              &error);
	if (by_account < 0 || by_address < 0) {
		web_error_page(r, MHD_HTTP_SERVICE_UNAVAILABLE, error->message);
		return;
	}
	if (by_account >= MAX_FAILURES_PER_ACCOUNT || by_address >= MAX_FAILURES_PER_ADDRESS) {
		g_message("sign-in refused for \"%s\" from %s: too many failed attempts", shown_user,
		          r->client);
		refuse(r, MHD_HTTP_TOO_MANY_REQUESTS, shown_user, next,
		       L(r, "ログインの失敗が続いたため、しばらくログインできません。15分ほどしてからやり直してください。",
		         "Too many failed sign-ins: try again in about 15 minutes."));
		web_add_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "900");
		return;
	}

	hashing_begin(r->server);
	ok = store_user_authenticate(store, shown_user, password, &account, &error);
	hashing_end(r->server);
	if (!ok) {
		g_autoptr(GError) local = NULL;
		if (!g_error_matches(error, STORE_ERROR, PI_ERROR_AUTH)) {
			web_error_page(r, MHD_HTTP_SERVICE_UNAVAILABLE, error->message);
			return;
		}
		detail = g_strdup_printf("failed sign-in as \"%s\" from %s", shown_user, r->client);
		if (!store_login_failure_add(store, shown_user, r->client, &local) ||
		    !store_audit(store, "web", "login failed", NULL, detail, &local))
			g_warning("recording a failed sign-in: %s", local->message);
		g_message("%s", detail);
		refuse(r, MHD_HTTP_UNAUTHORIZED, shown_user, next,
		       L(r, "利用者名またはパスワードが違います。", "Wrong user name or password."));
		return;
	}

	id = new_session_id();
	hash = session_hash(id);
	detail = g_strdup_printf("signed in from %s", r->client);
	if (!store_session_create(store, hash, account->id, r->client, &error) ||
	    !store_audit(store, account->name, "login", NULL, detail, &error)) {
		web_error_page(r, MHD_HTTP_SERVICE_UNAVAILABLE, error->message);
		return;
	}
	g_message("%s signed in from %s", account->name, r->client);
	set_session_cookie(r, id, FALSE);
	web_redirect(r, next);
}

void
web_action_logout(web_request_t *r)
{
	const char *header = MHD_lookup_connection_value(r->connection, MHD_HEADER_KIND, "Cookie");
	g_autofree char *id = header ? web_cookie_get(header, cookie_name(r)) : NULL;
	g_autofree char *hash = NULL;
	g_autoptr(GError) error = NULL;

	if (r->session == NULL) {
		set_session_cookie(r, NULL, TRUE);
		web_redirect(r, "/login");
		return;
	}
	if (!web_check_post(r))
		return;
	hash = session_hash(id);
	if (!store_session_delete(r->env->store, hash, &error) ||
	    !store_audit(r->env->store, r->session->user_name, "logout", NULL, "signed out", &error)) {
		web_error_page(r, MHD_HTTP_SERVICE_UNAVAILABLE, error->message);
		return;
	}
	set_session_cookie(r, NULL, TRUE);
	web_redirect(r, "/login?bye=1");
}
