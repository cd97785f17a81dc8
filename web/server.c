/* server.c — the HTTP server: libmicrohttpd with a thread per connection
 * (one slow or stuck client only holds its own thread; every connection
 * has a timeout), request bodies collected up to WEB_MAX_BODY_BYTES, the
 * routes, the pool of store connections, and the headers every response
 * carries. */
#include "web/web-internal.h"

#include <gio/gio.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

G_DEFINE_QUARK(privacy-inbox-web-error-quark, web_error)

#define CONNECTION_TIMEOUT_SECONDS 30
#define CONNECTION_LIMIT 64
#define PER_ADDRESS_LIMIT 32
#define POOL_IDLE_MAX 8

/* ---- the pool of environments -------------------------------------------- */

static void
env_free(web_env_t *env)
{
	if (env == NULL)
		return;
	router_free(env->router);
	catalogue_free(env->catalogue);
	parser_free(env->parser);
	store_free(env->store);
	g_free(env);
}

static web_env_t *
env_new(web_server_t *server, GError **error)
{
	const config_t *config = server->config;
	web_env_t *env = g_new0(web_env_t, 1);

	env->store = store_open_keyed(config->store.database, config->store.spool,
	                              config->store.key_file, error);
	if (env->store == NULL) {
		env_free(env);
		return NULL;
	}
	if (server->options.rules != NULL) {
		g_autoptr(GError) local = NULL;
		env->parser = parser_new(&config->parser, server->options.rules,
		                         server->options.rules_len, &local);
		if (env->parser == NULL)
			g_warning("request-type rules %s: %s (parsed facts are not shown)",
			          server->options.rules_name ? server->options.rules_name : "",
			          local->message);
	}
	return env;
}

static web_env_t *
env_borrow(web_server_t *server, GError **error)
{
	web_env_t *env = NULL;

	g_mutex_lock(&server->pool_lock);
	if (server->pool->len > 0)
		env = g_ptr_array_steal_index(server->pool, server->pool->len - 1);
	g_mutex_unlock(&server->pool_lock);
	return env ? env : env_new(server, error);
}

static void
env_return(web_server_t *server, web_env_t *env)
{
	if (env == NULL)
		return;
	g_mutex_lock(&server->pool_lock);
	if (server->pool->len < POOL_IDLE_MAX) {
		g_ptr_array_add(server->pool, env);
		env = NULL;
	}
	g_mutex_unlock(&server->pool_lock);
	env_free(env);
}

catalogue_t *
web_env_catalogue(web_request_t *r, GError **error)
{
	web_env_t *env = r->env;
	const char *dir = r->config->templates.dir;

	if (env->catalogue != NULL) {
		g_autofree char *now = catalogue_scan_fingerprint(dir, NULL);
		if (now != NULL && g_strcmp0(now, catalogue_fingerprint(env->catalogue)) == 0)
			return env->catalogue;
		g_clear_pointer(&env->router, router_free);
		g_clear_pointer(&env->catalogue, catalogue_free);
	}
	env->catalogue = catalogue_load(dir, error);
	if (env->catalogue == NULL)
		g_prefix_error(error, "the reply templates cannot be used: ");
	return env->catalogue;
}

router_t *
web_env_router(web_request_t *r, GError **error)
{
	if (web_env_catalogue(r, error) == NULL)
		return NULL;
	if (r->env->router == NULL)
		r->env->router = router_new(r->config, r->env->store, r->env->parser, r->env->catalogue);
	return r->env->router;
}

/* ---- small helpers ---------------------------------------------------------- */

void
web_add_header(web_request_t *r, const char *name, const char *value)
{
	g_ptr_array_add(r->headers, g_strdup(name));
	g_ptr_array_add(r->headers, g_strdup(value));
}

void
web_redirect(web_request_t *r, const char *location)
{
	r->status = MHD_HTTP_SEE_OTHER;
	web_add_header(r, MHD_HTTP_HEADER_LOCATION, location);
	g_string_truncate(r->body, 0);
}

void
web_error_page(web_request_t *r, guint status, const char *message)
{
	g_string_truncate(r->body, 0);
	r->page_open = FALSE;
	r->status = status;
	web_page_begin(r, status == 404   ? L(r, "見つかりません", "Not found")
	                  : status == 403 ? L(r, "許可されていません", "Forbidden")
	                                  : L(r, "エラー", "Error"));
	web_notice(r, "error", message);
	web_html(r, "<p><a href=\"/\">%s</a></p>", L(r, "キューに戻る", "Back to the queue"));
	web_page_end(r);
}

const char *
web_user(const web_request_t *r)
{
	return r->session ? r->session->user_name : NULL;
}

gboolean
web_is_admin(const web_request_t *r)
{
	return r->session != NULL && g_strcmp0(r->session->role, "admin") == 0;
}

gboolean
web_require_admin(web_request_t *r)
{
	if (web_is_admin(r))
		return TRUE;
	web_error_page(r, MHD_HTTP_FORBIDDEN,
	               L(r, "この画面は管理者だけが使えます。", "This page is for administrators only."));
	return FALSE;
}

static const char *
first_value(GHashTable *table, const char *name)
{
	GPtrArray *values = table ? g_hash_table_lookup(table, name) : NULL;

	return values && values->len > 0 ? g_ptr_array_index(values, 0) : NULL;
}

const char *
web_query(web_request_t *r, const char *name)
{
	return first_value(r->query, name);
}

const char *
web_field(web_request_t *r, const char *name)
{
	return first_value(r->form, name);
}

const char *const *
web_fields(web_request_t *r, const char *name)
{
	static const char *const none[] = {NULL};
	GPtrArray *values = g_hash_table_lookup(r->form, name);

	if (values == NULL || values->len == 0)
		return none;
	/* web_form_parse() keeps a NULL after the last value. */
	return (const char *const *)values->pdata;
}

/* Constant-time comparison of two tokens. */
static gboolean
tokens_equal(const char *a, const char *b)
{
	gsize n;
	guchar diff = 0;

	if (a == NULL || b == NULL || (n = strlen(a)) != strlen(b))
		return FALSE;
	for (gsize i = 0; i < n; i++)
		diff |= (guchar)(a[i] ^ b[i]);
	return diff == 0;
}

/* A POST from a page of ours: when the browser says where the form came
 * from (Sec-Fetch-Site, Origin), it must be this server.  With
 * Referrer-Policy no-referrer a browser may send "Origin: null", which says
 * nothing; the CSRF token still has to match. */
static gboolean
same_origin(web_request_t *r)
{
	const char *origin =
	    MHD_lookup_connection_value(r->connection, MHD_HEADER_KIND, "Origin");
	const char *site =
	    MHD_lookup_connection_value(r->connection, MHD_HEADER_KIND, "Sec-Fetch-Site");
	const char *host = MHD_lookup_connection_value(r->connection, MHD_HEADER_KIND, "Host");
	g_autofree char *expected = NULL;

	if (site != NULL && strcmp(site, "same-origin") != 0 && strcmp(site, "none") != 0)
		return FALSE;
	if (origin == NULL || strcmp(origin, "null") == 0)
		return TRUE;
	if (host == NULL)
		return FALSE;
	expected = g_strdup_printf("%s://%s", r->server->https ? "https" : "http", host);
	return g_ascii_strcasecmp(origin, expected) == 0;
}

gboolean
web_check_post(web_request_t *r)
{
	if (strcmp(r->method, "POST") != 0) {
		web_error_page(r, MHD_HTTP_METHOD_NOT_ALLOWED,
		               L(r, "変更は POST でのみ受け付けます。", "Changes are made with POST only."));
		web_add_header(r, MHD_HTTP_HEADER_ALLOW, "POST");
		return FALSE;
	}
	if (r->csrf == NULL || !tokens_equal(web_field(r, "csrf"), r->csrf) || !same_origin(r)) {
		g_message("refused a POST to %s from %s: missing or wrong CSRF token", r->path, r->client);
		web_error_page(r, MHD_HTTP_FORBIDDEN,
		               L(r, "フォームの有効期限が切れたか、不正な送信です。ページを開き直してください。",
		                 "The form has expired or did not come from this console: reload the "
		                 "page and try again."));
		return FALSE;
	}
	return TRUE;
}

/* ---- routes --------------------------------------------------------------- */

static gboolean
is_get(const web_request_t *r)
{
	return strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
}

static gboolean
is_post(const web_request_t *r)
{
	return strcmp(r->method, "POST") == 0;
}

static void
method_not_allowed(web_request_t *r, const char *allow)
{
	web_error_page(r, MHD_HTTP_METHOD_NOT_ALLOWED,
	               L(r, "この方法では使えません。", "This method is not allowed here."));
	web_add_header(r, MHD_HTTP_HEADER_ALLOW, allow);
}

/* Where to go after signing in: a path of ours, never another site. */
static gboolean
safe_next(const char *path)
{
	return path != NULL && path[0] == '/' && path[1] != '/' && path[1] != '\\' &&
	       strpbrk(path, "\\\r\n\t") == NULL && strlen(path) < 512;
}

static void
to_login(web_request_t *r)
{
	g_autofree char *escaped = NULL;
	g_autofree char *location = NULL;

	if (is_get(r) && safe_next(r->path) && strcmp(r->path, "/") != 0) {
		escaped = g_uri_escape_string(r->path, "/", FALSE);
		location = g_strdup_printf("/login?next=%s", escaped);
	}
	web_redirect(r, location ? location : "/login");
}

static void
route(web_request_t *r)
{
	char **s = r->segments;
	guint n = r->n_segments;

	/* What needs no session. */
	if (n == 2 && strcmp(s[0], "assets") == 0) {
		if (!is_get(r))
			method_not_allowed(r, "GET, HEAD");
		else if (!web_asset(r, s[1]))
			web_error_page(r, MHD_HTTP_NOT_FOUND, L(r, "ありません。", "No such file."));
		return;
	}
	if (n == 1 && strcmp(s[0], "login") == 0) {
		if (is_get(r))
			web_page_login(r);
		else if (is_post(r))
			web_action_login(r);
		else
			method_not_allowed(r, "GET, HEAD, POST");
		return;
	}
	if (n == 1 && strcmp(s[0], "logout") == 0) {
		if (is_post(r))
			web_action_logout(r);
		else
			method_not_allowed(r, "POST");
		return;
	}
	if (n == 1 && strcmp(s[0], "favicon.ico") == 0) {
		r->status = MHD_HTTP_NO_CONTENT;
		return;
	}
	if (r->session == NULL) {
		to_login(r);
		return;
	}

	if (n == 0) {
		if (is_get(r))
			web_page_queue(r);
		else
			method_not_allowed(r, "GET, HEAD");
		return;
	}
	if (strcmp(s[0], "tickets") == 0 && n >= 2) {
		if (n == 2 && is_get(r))
			web_page_ticket(r, s[1]);
		else if (n == 3 && strcmp(s[2], "notes") == 0)
			web_action_note(r, s[1]);
		else if (n == 4 && strcmp(s[2], "actions") == 0)
			web_action_ticket(r, s[1], s[3]);
		else if (n == 2)
			method_not_allowed(r, "GET, HEAD");
		else
			web_error_page(r, MHD_HTTP_NOT_FOUND, L(r, "ありません。", "No such page."));
		return;
	}
	if (strcmp(s[0], "drafts") == 0) {
		if (n == 1 && is_get(r))
			web_page_drafts(r);
		else if (n == 2 && is_get(r))
			web_page_draft(r, s[1]);
		else if (n == 3)
			web_action_draft(r, s[1], s[2]);
		else if (n <= 2)
			method_not_allowed(r, "GET, HEAD");
		else
			web_error_page(r, MHD_HTTP_NOT_FOUND, L(r, "ありません。", "No such page."));
		return;
	}
	if (strcmp(s[0], "attachments") == 0 && n == 2) {
		if (is_get(r))
			web_page_attachment(r, s[1]);
		else
			method_not_allowed(r, "GET, HEAD");
		return;
	}
	if (strcmp(s[0], "templates") == 0) {
		if (!web_require_admin(r))
			return;
		if (n == 1 && is_get(r))
			web_page_templates(r);
		else if (n >= 3 && strcmp(s[2], "partials") != 0 && n <= 4)
			web_page_template(r, s[1], FALSE, s[2], n == 4 ? s[3] : NULL);
		else if (n >= 4 && strcmp(s[2], "partials") == 0 && n <= 5)
			web_page_template(r, s[1], TRUE, s[3], n == 5 ? s[4] : NULL);
		else
			web_error_page(r, MHD_HTTP_NOT_FOUND, L(r, "ありません。", "No such page."));
		return;
	}
	if (n == 1 && is_get(r)) {
		if (strcmp(s[0], "audit") == 0) {
			web_page_audit(r);
			return;
		}
		if (strcmp(s[0], "reports") == 0) {
			web_page_report(r);
			return;
		}
		if (strcmp(s[0], "status") == 0) {
			web_page_status(r);
			return;
		}
		if (strcmp(s[0], "users") == 0) {
			if (web_require_admin(r))
				web_page_users(r);
			return;
		}
	}
	web_error_page(r, MHD_HTTP_NOT_FOUND, L(r, "そのページはありません。", "There is no such page."));
}

/* ---- one request --------------------------------------------------------- */

typedef struct {
	GByteArray *body;
	gboolean too_large;
} upload_t;

static enum MHD_Result
collect_query(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	GHashTable *query = cls;
	GPtrArray *values;

	(void)kind;
	if (key == NULL || !g_utf8_validate(key, -1, NULL) ||
	    (value != NULL && !g_utf8_validate(value, -1, NULL)))
		return MHD_YES;
	values = g_hash_table_lookup(query, key);
	if (values == NULL) {
		values = g_ptr_array_new_with_free_func(g_free);
		g_ptr_array_add(values, NULL);
		g_hash_table_insert(query, g_strdup(key), values);
	}
	/* Keep the trailing NULL. */
	g_ptr_array_insert(values, (gint)values->len - 1, g_strdup(value ? value : ""));
	return MHD_YES;
}

static char *
client_address(struct MHD_Connection *connection)
{
	const union MHD_ConnectionInfo *info =
	    MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	char text[INET6_ADDRSTRLEN] = "?";

	if (info != NULL && info->client_addr != NULL) {
		const struct sockaddr *sa = info->client_addr;
		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, text,
			          sizeof(text));
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, text,
			          sizeof(text));
	}
	return g_strdup(text);
}

static void
choose_language(web_request_t *r)
{
	const char *asked = web_query(r, "lang");
	const char *cookie = MHD_lookup_connection_value(r->connection, MHD_HEADER_KIND, "Cookie");
	g_autofree char *saved = cookie ? web_cookie_get(cookie, "pi_lang") : NULL;

	r->lang = "ja";
	if (g_strcmp0(asked, "en") == 0 || g_strcmp0(asked, "ja") == 0) {
		r->lang = strcmp(asked, "en") == 0 ? "en" : "ja";
		r->lang_changed = g_strcmp0(saved, r->lang) != 0;
	} else if (g_strcmp0(saved, "en") == 0)
		r->lang = "en";
}

static void
add_security_headers(web_request_t *r, struct MHD_Response *response)
{
	static const char *const fixed[] = {
		"X-Frame-Options",         "DENY",
		"X-Content-Type-Options",  "nosniff",
		"Referrer-Policy",         "no-referrer",
		"Cross-Origin-Opener-Policy", "same-origin",
		"Cross-Origin-Resource-Policy", "same-origin",
		"Permissions-Policy",      "camera=(), microphone=(), geolocation=(), payment=()",
		NULL,
	};
	gboolean csp_set = FALSE;

	for (guint i = 0; i + 1 < r->headers->len; i += 2) {
		const char *name = g_ptr_array_index(r->headers, i);
		if (g_ascii_strcasecmp(name, "Content-Security-Policy") == 0)
			csp_set = TRUE;
		MHD_add_response_header(response, name, g_ptr_array_index(r->headers, i + 1));
	}
	if (!csp_set)
		MHD_add_response_header(response, "Content-Security-Policy",
		                        "default-src 'self'; base-uri 'none'; form-action 'self'; "
		                        "frame-ancestors 'none'; object-src 'none'");
	for (const char *const *h = fixed; *h; h += 2)
		MHD_add_response_header(response, h[0], h[1]);
	MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL,
	                        r->cacheable ? "private, max-age=3600" : "no-store");
	if (!r->cacheable)
		MHD_add_response_header(response, "Pragma", "no-cache");
	if (r->server->https)
		MHD_add_response_header(response, "Strict-Transport-Security", "max-age=31536000");
	if (r->lang_changed) {
		g_autofree char *cookie = g_strdup_printf(
		    "pi_lang=%s; Path=/; Max-Age=31536000; HttpOnly; SameSite=Strict%s", r->lang,
		    r->server->https ? "; Secure" : "");
		MHD_add_response_header(response, MHD_HTTP_HEADER_SET_COOKIE, cookie);
	}
}

static enum MHD_Result
send_response(web_request_t *r)
{
	struct MHD_Response *response = r->response;
	enum MHD_Result ret;

	if (response == NULL) {
		gsize len = r->body->len;
		char *data = g_string_free(r->body, FALSE);
		r->body = NULL;
		response = MHD_create_response_from_buffer_with_free_callback(len, data, g_free);
		if (response == NULL) {
			g_free(data);
			return MHD_NO;
		}
		if (len > 0 || r->content_type != NULL)
			MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE,
			                        r->content_type ? r->content_type
			                                        : "text/html; charset=utf-8");
	}
	add_security_headers(r, response);
	ret = MHD_queue_response(r->connection, r->status, response);
	MHD_destroy_response(response);
	r->response = NULL;
	return ret;
}

static void
request_free(web_request_t *r)
{
	env_return(r->server, r->env);
	g_free(r->path);
	g_strfreev(r->segments);
	g_clear_pointer(&r->query, g_hash_table_unref);
	g_clear_pointer(&r->form, g_hash_table_unref);
	g_free(r->client);
	store_session_free(r->session);
	g_free(r->csrf);
	if (r->body != NULL)
		g_string_free(r->body, TRUE);
	g_ptr_array_unref(r->headers);
	if (r->response != NULL)
		MHD_destroy_response(r->response);
}

static gboolean
form_content_type(struct MHD_Connection *connection)
{
	const char *type = MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
	                                               MHD_HTTP_HEADER_CONTENT_TYPE);

	return type != NULL &&
	       g_ascii_strncasecmp(type, "application/x-www-form-urlencoded", 33) == 0 &&
	       (type[33] == '\0' || type[33] == ';' || type[33] == ' ');
}

static enum MHD_Result
handle(web_server_t *server, struct MHD_Connection *connection, const char *url,
       const char *method, upload_t *upload)
{
	web_request_t r = {0};
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) pieces = NULL;
	GPtrArray *segments = g_ptr_array_new();
	enum MHD_Result ret;

	r.server = server;
	r.config = server->config;
	r.connection = connection;
	r.method = method;
	r.status = MHD_HTTP_OK;
	r.body = g_string_sized_new(8192);
	r.headers = g_ptr_array_new_with_free_func(g_free);
	r.client = client_address(connection);
	r.query = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	                                (GDestroyNotify)g_ptr_array_unref);
	MHD_get_connection_values(connection, MHD_GET_ARGUMENT_KIND, collect_query, r.query);
	choose_language(&r);

	r.path = g_utf8_make_valid(url ? url : "/", -1);
	pieces = g_strsplit(r.path, "/", -1);
	for (char **p = pieces; *p; p++) {
		if (**p != '\0')
			g_ptr_array_add(segments, g_strdup(*p));
	}
	r.n_segments = segments->len;
	g_ptr_array_add(segments, NULL);
	r.segments = (char **)g_ptr_array_free(segments, FALSE);

	if (upload->too_large) {
		r.form = web_form_parse(NULL, 0);
		web_error_page(&r, MHD_HTTP_CONTENT_TOO_LARGE,
		               L(&r, "送信された内容が大きすぎます。", "The request is too large."));
		goto send;
	}
	if (strcmp(method, "POST") == 0 && upload->body->len > 0 && !form_content_type(connection)) {
		r.form = web_form_parse(NULL, 0);
		web_error_page(&r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
		               L(&r, "フォームの形式が違います。", "Forms are sent url-encoded."));
		goto send;
	}
	r.form = web_form_parse((const char *)upload->body->data, upload->body->len);
	if (!is_get(&r) && !is_post(&r)) {
		method_not_allowed(&r, "GET, HEAD, POST");
		goto send;
	}
	if (!(r.n_segments == 2 && strcmp(r.segments[0], "assets") == 0)) {
		if ((r.env = env_borrow(server, &error)) == NULL) {
			g_warning("cannot open the store: %s", error->message);
			web_error_page(&r, MHD_HTTP_SERVICE_UNAVAILABLE, error->message);
			goto send;
		}
		web_auth_load(&r);
	}
	route(&r);
send:
	if (r.page_open)
		web_page_end(&r);
	ret = send_response(&r);
	request_free(&r);
	return ret;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *connection, const char *url, const char *method,
           const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	web_server_t *server = cls;
	upload_t *upload = *con_cls;

	(void)version;
	if (upload == NULL) {
		const char *length = MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
		                                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
		guint64 n = 0;

		upload = g_new0(upload_t, 1);
		upload->body = g_byte_array_new();
		*con_cls = upload;
		if (length != NULL && g_ascii_string_to_unsigned(length, 10, 0, G_MAXUINT64, &n, NULL) &&
		    n > WEB_MAX_BODY_BYTES) {
			/* Answer at once; libmicrohttpd then closes the connection
			 * without reading the body. */
			upload->too_large = TRUE;
			return handle(server, connection, url, method, upload);
		}
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		if (!upload->too_large && upload->body->len + *upload_data_size <= WEB_MAX_BODY_BYTES)
			g_byte_array_append(upload->body, (const guint8 *)upload_data,
			                    (guint)*upload_data_size);
		else {
			upload->too_large = TRUE;
			g_byte_array_set_size(upload->body, 0);
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	return handle(server, connection, url, method, upload);
}

static void
on_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
             enum MHD_RequestTerminationCode code)
{
	upload_t *upload = *con_cls;

	(void)cls;
	(void)connection;
	(void)code;
	if (upload != NULL) {
		g_byte_array_unref(upload->body);
		g_free(upload);
		*con_cls = NULL;
	}
}

static void
on_log(void *cls, const char *format, va_list args)
{
	g_autofree char *message = g_strdup_vprintf(format, args);

	(void)cls;
	g_strchomp(message);
	g_message("http: %s", message);
}

/* ---- starting and stopping ---------------------------------------------------- */

gboolean
web_host_is_loopback(const char *host)
{
	g_autoptr(GInetAddress) address = NULL;

	if (host == NULL)
		return FALSE;
	if (g_ascii_strcasecmp(host, "localhost") == 0)
		return TRUE;
	address = g_inet_address_new_from_string(host);
	return address != NULL && g_inet_address_get_is_loopback(address);
}

gboolean
web_parse_listen(const char *text, char **host_out, guint16 *port_out, GError **error)
{
	g_autofree char *host = NULL;
	const char *port_text = NULL;
	guint64 port = 8025;

	if (text == NULL || *text == '\0')
		goto bad;
	if (text[0] == '[') {
		const char *end = strchr(text, ']');
		if (end == NULL || (end[1] != '\0' && end[1] != ':'))
			goto bad;
		host = g_strndup(text + 1, (gsize)(end - text - 1));
		port_text = end[1] == ':' ? end + 2 : NULL;
	} else {
		const char *colon = strrchr(text, ':');
		if (colon != NULL && strchr(text, ':') != colon)
			goto bad; /* IPv6 needs brackets */
		host = colon ? g_strndup(text, (gsize)(colon - text)) : g_strdup(text);
		port_text = colon ? colon + 1 : NULL;
	}
	if (port_text != NULL && !g_ascii_string_to_unsigned(port_text, 10, 0, 65535, &port, NULL))
		goto bad;
	if (g_ascii_strcasecmp(host, "localhost") == 0) {
		g_free(host);
		host = g_strdup("127.0.0.1");
	}
	{
		g_autoptr(GInetAddress) address = g_inet_address_new_from_string(host);
		if (address == NULL)
			goto bad;
	}
	*host_out = g_steal_pointer(&host);
	*port_out = (guint16)port;
	return TRUE;
bad:
	g_set_error(error, WEB_ERROR, PI_ERROR_FATAL,
	            "\"%s\" is not an address to listen on (ADDR:PORT, e.g. 127.0.0.1:8025 or "
	            "[::1]:8025; an IP address, not a host name)",
	            text ? text : "");
	return FALSE;
}

web_server_t *
web_server_start(const web_options_t *options, GError **error)
{
	web_server_t *server;
	g_autoptr(GInetAddress) address = NULL;
	g_autoptr(GSocketAddress) socket_address = NULL;
	struct sockaddr_storage storage;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
	                     MHD_USE_ERROR_LOG;
	web_env_t *first;
	const union MHD_DaemonInfo *info;
	struct MHD_OptionItem tls[4];
	guint n_tls = 0;

	address = g_inet_address_new_from_string(options->host ? options->host : "");
	if (address == NULL) {
		g_set_error(error, WEB_ERROR, PI_ERROR_FATAL, "\"%s\" is not an IP address",
		            options->host ? options->host : "");
		return NULL;
	}
	if (options->tls_cert_pem == NULL && !g_inet_address_get_is_loopback(address)) {
		g_set_error(error, WEB_ERROR, PI_ERROR_FATAL,
		            "refusing to serve the console over plain HTTP on %s: identity documents "
		            "and passwords would cross the network unencrypted; set [web] cert_file "
		            "and key_file for HTTPS, or listen on 127.0.0.1",
		            options->host);
		return NULL;
	}
	if (options->tls_cert_pem != NULL && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		g_set_error(error, WEB_ERROR, PI_ERROR_FATAL,
		            "this libmicrohttpd was built without TLS: HTTPS is not available");
		return NULL;
	}

	server = g_new0(web_server_t, 1);
	server->options = *options;
	server->config = options->config;
	server->host = g_strdup(options->host);
	server->https = options->tls_cert_pem != NULL;
	g_mutex_init(&server->pool_lock);
	g_mutex_init(&server->hash_lock);
	g_cond_init(&server->hash_cond);
	server->pool = g_ptr_array_new();

	/* Open the store once now: a wrong path or key fails here, not at the
	 * first request. */
	if ((first = env_new(server, error)) == NULL) {
		web_server_stop(server);
		return NULL;
	}
	env_return(server, first);

	socket_address = g_inet_socket_address_new(address, options->port);
	memset(&storage, 0, sizeof(storage));
	if (!g_socket_address_to_native(socket_address, &storage, sizeof(storage), error)) {
		web_server_stop(server);
		return NULL;
	}
	if (g_inet_address_get_family(address) == G_SOCKET_FAMILY_IPV6)
		flags |= MHD_USE_IPv6;
	if (server->https) {
		flags |= MHD_USE_TLS;
		tls[n_tls++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0,
		                                       (void *)(gintptr)options->tls_cert_pem};
		tls[n_tls++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0,
		                                       (void *)(gintptr)options->tls_key_pem};
		tls[n_tls++] = (struct MHD_OptionItem){
		    MHD_OPTION_HTTPS_PRIORITIES, 0,
		    (void *)(gintptr) "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"};
	}
	tls[n_tls] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};

	server->daemon = MHD_start_daemon(
	    flags, options->port, NULL, NULL, on_request, server, MHD_OPTION_EXTERNAL_LOGGER, on_log,
	    server, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&storage, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned int)CONNECTION_TIMEOUT_SECONDS, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned int)CONNECTION_LIMIT, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    (unsigned int)PER_ADDRESS_LIMIT, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, server, MHD_OPTION_ARRAY, tls, MHD_OPTION_END);
	if (server->daemon == NULL) {
		g_set_error(error, WEB_ERROR, PI_ERROR_FATAL,
		            "cannot listen on %s port %u (in use, not an address of this machine, or "
		            "the certificate and key do not fit)",
		            options->host, options->port);
		web_server_stop(server);
		return NULL;
	}
	info = MHD_get_daemon_info(server->daemon, MHD_DAEMON_INFO_BIND_PORT);
	server->port = info && info->port ? info->port : options->port;
	return server;
}

guint16
web_server_port(const web_server_t *server)
{
	return server->port;
}

char *
web_server_url(const web_server_t *server)
{
	gboolean v6 = strchr(server->host, ':') != NULL;

	return g_strdup_printf("%s://%s%s%s:%u/", server->https ? "https" : "http", v6 ? "[" : "",
	                       server->host, v6 ? "]" : "", server->port);
}

void
web_server_stop(web_server_t *server)
{
	if (server == NULL)
		return;
	if (server->daemon != NULL)
		MHD_stop_daemon(server->daemon);
	if (server->pool != NULL) {
		for (guint i = 0; i < server->pool->len; i++)
			env_free(g_ptr_array_index(server->pool, i));
		g_ptr_array_unref(server->pool);
	}
	g_mutex_clear(&server->pool_lock);
	g_mutex_clear(&server->hash_lock);
	g_cond_clear(&server->hash_cond);
	g_free(server->host);
	g_free(server);
}
