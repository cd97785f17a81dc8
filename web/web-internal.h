/* web-internal.h — what the console's files share; not for other modules. */
#pragma once

#include "web/web.h"

#include "parser/parser.h"
#include "router/router.h"
#include "store/store.h"
#include "templates/catalogue.h"

#include <microhttpd.h>

/* What one request works with: a store connection, a catalogue, a router
 * and a parser of its own.  They are pooled: a request borrows one for
 * its whole run, so no two threads ever share a connection or render from
 * the same catalogue. */
typedef struct {
	store_t *store;
	catalogue_t *catalogue; /* NULL until needed, or when the files are broken */
	router_t *router;
	parser_t *parser;
} web_env_t;

struct web_server {
	web_options_t options;
	const config_t *config;
	char *host;
	guint16 port;
	gboolean https;
	struct MHD_Daemon *daemon;
	GMutex pool_lock;
	GPtrArray *pool; /* idle web_env_t* */
	/* At most two password checks at once: each argon2id takes 64 MiB. */
	GMutex hash_lock;
	GCond hash_cond;
	guint hashing;
};

typedef struct web_request web_request_t;
struct web_request {
	web_server_t *server;
	const config_t *config;
	struct MHD_Connection *connection;
	const char *method;
	char *path;           /* the URL path, percent-decoded */
	char **segments;      /* PATH split at '/', without empty pieces */
	guint n_segments;
	GHashTable *query;    /* name → GPtrArray of values */
	GHashTable *form;     /* the POST body, the same way; empty for GET */
	char *client;         /* the client's address */
	const char *lang;     /* "ja" (default) or "en" */
	gboolean lang_changed;
	web_env_t *env;
	/* The signed-in person, or NULL. */
	store_session_t *session;
	char *csrf; /* the session's CSRF token */

	/* The response. */
	guint status;
	GString *body;
	const char *content_type;
	GPtrArray *headers; /* name, value, name, value… (owned strings) */
	struct MHD_Response *response; /* when set, sent instead of BODY */
	gboolean cacheable;            /* static assets only */
	gboolean page_open;            /* web_page_begin() was called */
};

/* ---- server.c ----------------------------------------------------------- */

/* The request's environment with a catalogue loaded (reloaded when the
 * files changed); NULL with an error when the catalogue is broken. */
catalogue_t *web_env_catalogue(web_request_t *r, GError **error);
router_t *web_env_router(web_request_t *r, GError **error);

void web_add_header(web_request_t *r, const char *name, const char *value);
/* 303 See Other to LOCATION (a path on this server). */
void web_redirect(web_request_t *r, const char *location);
/* A complete error page with STATUS and a one-line MESSAGE. */
void web_error_page(web_request_t *r, guint status, const char *message);
/* Is the request a POST with the session's CSRF token?  Else 403 page. */
gboolean web_check_post(web_request_t *r);
/* Admin only: else a 403 page. */
gboolean web_require_admin(web_request_t *r);
const char *web_user(const web_request_t *r);
gboolean web_is_admin(const web_request_t *r);
/* A query or form value (the first), or NULL. */
const char *web_query(web_request_t *r, const char *name);
const char *web_field(web_request_t *r, const char *name);
/* Every value of a repeated form field (NULL-terminated, borrowed until
 * the request ends). */
const char *const *web_fields(web_request_t *r, const char *name);

/* ---- html.c ------------------------------------------------------------- */

/* Japanese or English, as the request's language says. */
#define L(r, ja, en) (g_strcmp0((r)->lang, "en") == 0 ? (en) : (ja))

/* Append to the page.  FORMAT is literal HTML with directives:
 *   %s  a string, HTML-escaped (NULL prints nothing)
 *   %S  a string of trusted HTML (markup this module built), as it is
 *   %d  int    %u  guint    %L  gint64    %%  a percent sign
 * There is no other way to put text into a page. */
void web_html(web_request_t *r, const char *format, ...);
void web_html_to(GString *out, const char *format, ...);
void web_html_to_va(GString *out, const char *format, va_list args);

/* The page frame: head, navigation (for a signed-in user), title; end. */
void web_page_begin(web_request_t *r, const char *title);
void web_page_end(web_request_t *r);
/* A notice box: kind "ok", "error" or "warn". */
void web_notice(web_request_t *r, const char *kind, const char *text);
/* The hidden CSRF field for a form. */
void web_csrf_field(web_request_t *r);
/* A time stored in UTC as local "YYYY-MM-DD HH:MM" in the policy time zone. */
char *web_local_time(web_request_t *r, const char *iso);
char *web_local_date(web_request_t *r, const char *iso);
/* Is TEXT NULL, empty or only white space? */
gboolean web_blank(const char *text);
/* TEXT with CRLF (as browsers send textareas) turned into LF and the ends
 * trimmed; caller frees.  NULL stays NULL. */
char *web_text_field(const char *text);
/* Labels. */
const char *web_state_label(web_request_t *r, const char *state);
const char *web_type_label(web_request_t *r, const char *type);
const char *web_draft_state_label(web_request_t *r, const char *state);
const char *web_document_label(web_request_t *r, const char *document_type);
/* Whole days from today to ISO (local dates); FALSE when unreadable. */
gboolean web_days_left(web_request_t *r, const char *iso, gint64 *days_out);

/* ---- auth.c ------------------------------------------------------------- */

/* Look up the session cookie (ending expired sessions); sets r->session. */
void web_auth_load(web_request_t *r);
void web_page_login(web_request_t *r);
void web_action_login(web_request_t *r);
void web_action_logout(web_request_t *r);
/* The CSRF token of a session id (HMAC-SHA-256 of the id). */
char *web_csrf_token(const char *session_id);

/* ---- assets.c ----------------------------------------------------------- */

gboolean web_asset(web_request_t *r, const char *name);

/* ---- pages -------------------------------------------------------------- */

void web_page_queue(web_request_t *r);
void web_page_ticket(web_request_t *r, const char *ref);
void web_action_note(web_request_t *r, const char *ref);
void web_action_ticket(web_request_t *r, const char *ref, const char *action);
void web_page_attachment(web_request_t *r, const char *id);
void web_page_drafts(web_request_t *r);
void web_page_draft(web_request_t *r, const char *id);
void web_action_draft(web_request_t *r, const char *id, const char *action);
void web_page_templates(web_request_t *r);
void web_page_template(web_request_t *r, const char *lang, gboolean partial, const char *name,
                       const char *action);
void web_page_audit(web_request_t *r);
void web_page_report(web_request_t *r);
void web_page_status(web_request_t *r);
void web_page_users(web_request_t *r);
