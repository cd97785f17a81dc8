/* web.h — the staff web console (`privacy-inbox serve`): an HTTP(S) server
 * on GNU libmicrohttpd that renders the queue, tickets, drafts, templates,
 * the audit log, reports and status as HTML, and carries out what staff
 * decide through the same functions as the command line (router_act(),
 * store_draft_approve(), …) with the signed-in person as the actor.
 *
 * Security: sessions by a random 256-bit id in an HttpOnly, SameSite=Strict
 * cookie (Secure under HTTPS), kept in the store only as its SHA-256, with
 * idle and absolute timeouts; every state-changing request is a POST
 * carrying the session's CSRF token; every response carries a strict
 * Content-Security-Policy, X-Frame-Options DENY, nosniff and no-referrer;
 * pages with data are never cached; all mail content is HTML-escaped by one
 * escaper (web_html_escape); identity documents are served by attachment id
 * to signed-in accounts only, each view audited.  Each connection has its
 * own thread and a timeout, so one slow or malformed client never holds up
 * the others.
 *
 * The module prints nothing and reads no configuration file: the command
 * layer gives it the loaded configuration, the request-type rules and the
 * TLS certificate and key.
 */
#pragma once

#include "common/common.h"
#include "common/config.h"

#include <sys/types.h>

#define WEB_ERROR (web_error_quark())
GQuark web_error_quark(void);

/* The largest request body accepted (forms, template files). */
#define WEB_MAX_BODY_BYTES (1024 * 1024)

typedef struct {
	const config_t *config; /* borrowed; must outlive the server */
	const char *host;       /* address to listen on ("127.0.0.1", "::1", "0.0.0.0") */
	guint16 port;           /* 0: any free port (see web_server_port) */
	/* PEM text of the certificate (chain) and its key; both NULL: plain
	 * HTTP, which web_server_start() refuses on anything but loopback. */
	const char *tls_cert_pem, *tls_key_pem;
	/* The request-type rules (parser/request-rules.ini text), to show what
	 * the parser found in a request; borrowed. */
	const char *rules, *rules_name;
	gsize rules_len;
	/* Who runs the daemon for this store (its pid, 0: nobody); may be NULL. */
	pid_t (*daemon_pid)(gpointer data);
	gpointer daemon_pid_data;
} web_options_t;

typedef struct web_server web_server_t;

/* Open the store once (migrating it), then listen.  Caller stops and frees
 * with web_server_stop().  PI_ERROR_FATAL with a one-line reason when the
 * address cannot be used or HTTPS is needed and missing. */
web_server_t *web_server_start(const web_options_t *options, GError **error);
/* The port actually listened on. */
guint16 web_server_port(const web_server_t *server);
/* "http://127.0.0.1:8025/"; caller frees. */
char *web_server_url(const web_server_t *server);
/* Stop listening, finish the requests in progress, free.  NULL-safe. */
void web_server_stop(web_server_t *server);

/* Split "ADDR:PORT" ("127.0.0.1:8025", "[::1]:8025", "0.0.0.0:443") into
 * its parts; a missing port is 8025.  Caller frees *HOST_OUT. */
gboolean web_parse_listen(const char *text, char **host_out, guint16 *port_out, GError **error);
/* Is HOST a loopback address (127.0.0.0/8, ::1, "localhost")? */
gboolean web_host_is_loopback(const char *host);

/* ---- pieces with unit tests ---------------------------------------------- */

/* THE escaper: append TEXT to OUT with & < > " ' escaped, invalid UTF-8
 * replaced and control characters other than TAB/LF dropped.  Every byte
 * of mail, names, file names and user input reaches a page through it. */
void web_html_escape(GString *out, const char *text);

/* Parse an application/x-www-form-urlencoded body (or query string) into a
 * table of name → GPtrArray of values (repeated names keep every value, in
 * order).  Names and values that are not valid UTF-8 are dropped. */
GHashTable *web_form_parse(const char *data, gsize len);
/* The first value of NAME, or NULL; borrowed. */
const char *web_form_get(GHashTable *form, const char *name);

/* The value of cookie NAME in a Cookie header, or NULL; caller frees. */
char *web_cookie_get(const char *header, const char *name);

/* Leftover Mustache tags ("{{name}}", "{{#x}}"…) in TEXT: the names, in
 * order, each once.  Caller frees with g_strfreev(). */
char **web_find_placeholders(const char *text);
