/* fetcher.c — the IMAP connection: connect (TLS, STARTTLS or plain text),
 * certificate check, login, capabilities, SELECT, UID SEARCH, logout; and
 * fetcher_check(), the one place libetpan's return codes become GErrors.
 * Fetching is in fetch.c, marking messages processed in mark.c. */
#include "fetcher/fetcher-internal.h"

#include <stdarg.h>
#include <string.h>
#include <unistd.h>

G_DEFINE_QUARK(privacy - inbox - fetcher - error - quark, fetcher_error)

/* ---- errors ------------------------------------------------------------------- */

/* Response codes (RFC 5530) that say "try again later" whatever the command. */
static const char *const temporary_codes[] = {"UNAVAILABLE", "INUSE", "SERVERBUG", "LIMIT",
                                              "OVERQUOTA"};

const char *
fetcher_response_code(fetcher_t *fetcher)
{
	const struct mailimap_response_info *info = fetcher->imap->imap_response_info;

	if (info == NULL)
		return NULL;
	if (info->rsp_trycreate)
		return "TRYCREATE";
	if (info->rsp_atom != NULL)
		return info->rsp_atom;
	if (info->rsp_alert != NULL)
		return "ALERT";
	if (info->rsp_parse != NULL)
		return "PARSE";
	return NULL;
}

/* "[CODE] text" of the last tagged response, for a refused command. */
static char *
describe_response(fetcher_t *fetcher)
{
	const char *code = fetcher_response_code(fetcher);
	const char *text = fetcher->imap->imap_response;
	g_autofree char *line =
	    g_strdup_printf("%s%s%s%s", code ? "[" : "", code ? code : "", code ? "] " : "",
	                    text != NULL && *text ? text : "(no reason given)");

	/* The server's bytes go into a one-line, valid UTF-8 message. */
	for (char *p = line; *p; p++)
		if ((guchar)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return g_utf8_make_valid(line, -1);
}

gboolean
fetcher_fail(fetcher_t *fetcher, int code, GError **error, const char *format, ...)
{
	va_list args;
	g_autofree char *message = NULL;

	va_start(args, format);
	message = g_strdup_vprintf(format, args);
	va_end(args);
	g_set_error(error, FETCHER_ERROR, code, "%s: %s", fetcher->where, message);
	return FALSE;
}

gboolean
fetcher_check(fetcher_t *fetcher, int r, int no_code, GError **error, const char *context_format,
              ...)
{
	va_list args;
	g_autofree char *context = NULL;
	g_autofree char *detail = NULL;
	const char *verb = ""; /* " refused" when the server said NO */
	int code = PI_ERROR_TEMPORARY;
	gboolean broken = TRUE;

	switch (r) {
	case MAILIMAP_NO_ERROR:
	case MAILIMAP_NO_ERROR_AUTHENTICATED:
	case MAILIMAP_NO_ERROR_NON_AUTHENTICATED:
		return TRUE;
	case MAILIMAP_ERROR_STREAM:
	case MAILIMAP_ERROR_NEEDS_MORE_DATA:
		if (fetcher->io.timed_out)
			detail = g_strdup_printf("timed out after %u s",
			                         fetcher->config->timeout_seconds);
		else
			detail = g_strdup(fetcher->io.closed ? "connection closed by the server"
			                                     : "connection lost");
		break;
	case MAILIMAP_ERROR_CONNECTION_REFUSED:
		detail = g_strdup("connection refused");
		break;
	case MAILIMAP_ERROR_PARSE:
		detail = g_strdup("cannot parse the server's response");
		break;
	case MAILIMAP_ERROR_FATAL: /* an untagged BYE instead of an answer */
		verb = ": server said BYE";
		detail = describe_response(fetcher);
		break;
	case MAILIMAP_ERROR_DONT_ACCEPT_CONNECTION: /* BYE as the greeting */
		verb = " refused";
		detail = describe_response(fetcher);
		break;
	case MAILIMAP_ERROR_PROTOCOL: /* BAD, or an answer with a wrong tag */
		code = PI_ERROR_FATAL;
		verb = " rejected as invalid";
		detail = describe_response(fetcher);
		break;
	case MAILIMAP_ERROR_SSL:
		code = PI_ERROR_TLS;
		detail = g_strdup("TLS handshake failed");
		break;
	case MAILIMAP_ERROR_MEMORY:
		code = PI_ERROR_FATAL;
		detail = g_strdup("out of memory");
		break;
	case MAILIMAP_ERROR_BAD_STATE:
	case MAILIMAP_ERROR_INVAL:
		code = PI_ERROR_FATAL;
		detail = g_strdup_printf("internal error (libetpan code %d)", r);
		broken = FALSE;
		break;
	default: {
		/* MAILIMAP_ERROR_LOGIN, _SELECT, _UID_FETCH, _STARTTLS…: the
		 * server answered NO; the connection itself is fine. */
		const char *rc = fetcher_response_code(fetcher);

		broken = FALSE;
		verb = " refused";
		detail = describe_response(fetcher);
		code = no_code;
		for (gsize i = 0; rc != NULL && i < G_N_ELEMENTS(temporary_codes); i++)
			if (g_ascii_strcasecmp(rc, temporary_codes[i]) == 0)
				code = PI_ERROR_TEMPORARY;
		break;
	}
	}
	if (broken)
		fetcher->broken = TRUE;
	va_start(args, context_format);
	context = g_strdup_vprintf(context_format, args);
	va_end(args);
	g_set_error(error, FETCHER_ERROR, code, "%s: %s%s: %s", fetcher->where, context, verb,
	            detail);
	g_debug("%s: %s%s: %s (libetpan %d)", fetcher->where, context, verb, detail, r);
	return FALSE;
}

gboolean
fetcher_ready(fetcher_t *fetcher, gboolean need_selected, GError **error)
{
	memset(&fetcher->io, 0, sizeof(fetcher->io));
	if (fetcher->broken)
		return fetcher_fail(fetcher, PI_ERROR_TEMPORARY, error,
		                    "the connection failed earlier; connect again");
	if (need_selected && !fetcher->selected)
		return fetcher_fail(fetcher, PI_ERROR_FATAL, error, "no mailbox selected");
	return TRUE;
}

/* ---- capabilities ------------------------------------------------------------ */

static void
capabilities_set(fetcher_t *f, const struct mailimap_capability_data *data)
{
	g_ptr_array_set_size(f->capabilities, 0);
	for (clistiter *it = clist_begin(data->cap_list); it != NULL; it = clist_next(it)) {
		const struct mailimap_capability *c = clist_content(it);

		if (c->cap_type == MAILIMAP_CAPABILITY_AUTH_TYPE && c->cap_data.cap_auth_type)
			g_ptr_array_add(f->capabilities,
			                g_strconcat("AUTH=", c->cap_data.cap_auth_type, NULL));
		else if (c->cap_type == MAILIMAP_CAPABILITY_NAME && c->cap_data.cap_name)
			g_ptr_array_add(f->capabilities, g_strdup(c->cap_data.cap_name));
	}
}

/* Forget what we know, so the next refresh asks (after STARTTLS and before
 * LOGIN, whose answer may carry a fresh list). */
static void
capabilities_forget(fetcher_t *f)
{
	struct mailimap_connection_info *info = f->imap->imap_connection_info;

	g_ptr_array_set_size(f->capabilities, 0);
	if (info != NULL && info->imap_capability != NULL) {
		mailimap_capability_data_free(info->imap_capability);
		info->imap_capability = NULL;
	}
}

/* What the server volunteered (in the greeting or the LOGIN answer), or an
 * explicit CAPABILITY command. */
static gboolean
capabilities_refresh(fetcher_t *f, GError **error)
{
	struct mailimap_connection_info *info = f->imap->imap_connection_info;
	struct mailimap_capability_data *data = NULL;
	int r;

	if (info != NULL && info->imap_capability != NULL) {
		capabilities_set(f, info->imap_capability);
		return TRUE;
	}
	r = mailimap_capability(f->imap, &data);
	if (!fetcher_check(f, r, PI_ERROR_FATAL, error, "CAPABILITY"))
		return FALSE;
	capabilities_set(f, data);
	mailimap_capability_data_free(data);
	return TRUE;
}

gboolean
fetcher_has_capability(fetcher_t *fetcher, const char *name)
{
	if (fetcher == NULL || name == NULL)
		return FALSE;
	for (guint i = 0; i < fetcher->capabilities->len; i++)
		if (g_ascii_strcasecmp(g_ptr_array_index(fetcher->capabilities, i), name) == 0)
			return TRUE;
	return FALSE;
}

/* ---- TLS ------------------------------------------------------------------------ */

/* libetpan calls this before the handshake: name the server (SNI), except by
 * an IP address, which RFC 6066 does not allow there. */
static void
on_tls_context(struct mailstream_ssl_context *ssl_context, void *data)
{
	fetcher_t *f = data;

	if (!fetcher_host_is_ip(f->host))
		mailstream_ssl_set_server_name(ssl_context, f->host);
}

/* libetpan reports a failed handshake as NULL only; a handshake that took
 * the whole timeout timed out. */
static gboolean
handshake_failed(fetcher_t *f, gint64 started, GError **error)
{
	gint64 elapsed = g_get_monotonic_time() - started;

	f->broken = TRUE;
	if (elapsed >= (gint64)f->config->timeout_seconds * G_USEC_PER_SEC - 200000)
		return fetcher_fail(f, PI_ERROR_TEMPORARY, error,
		                    "TLS handshake timed out after %u s",
		                    f->config->timeout_seconds);
	return fetcher_fail(f, PI_ERROR_TLS, error, "TLS handshake failed");
}

static gboolean
verify_peer(fetcher_t *f, mailstream *stream, GError **error)
{
	carray *chain = mailstream_get_certificate_chain(stream);
	guint n = chain != NULL ? carray_count(chain) : 0;
	g_autofree gnutls_datum_t *certs = g_new0(gnutls_datum_t, n + 1);
	GError *local = NULL;
	gboolean ok;

	for (guint i = 0; i < n; i++) {
		MMAPString *der = carray_get(chain, i);

		certs[i].data = (unsigned char *)der->str;
		certs[i].size = (unsigned int)der->len;
	}
	ok = fetcher_tls_verify(certs, n, f->host, f->config->ca_file, &local);
	if (chain != NULL)
		mailstream_certificate_chain_free(chain);
	if (!ok) {
		f->broken = TRUE;
		g_propagate_prefixed_error(error, local, "%s: ", f->where);
		return FALSE;
	}
	g_debug("%s: certificate verified", f->where);
	return TRUE;
}

/* The stream over FD (which it takes): TLS from the first byte, or plain. */
static mailstream *
open_stream(fetcher_t *f, int fd, gboolean tls, GError **error)
{
	guint timeout = f->config->timeout_seconds;
	mailstream_low *low;
	mailstream *stream;

	if (tls) {
		gint64 started = g_get_monotonic_time();

		low = mailstream_low_ssl_open_with_callback_timeout(fd, timeout, on_tls_context, f);
		if (low == NULL) {
			close(fd);
			handshake_failed(f, started, error);
			return NULL;
		}
	} else {
		low = mailstream_low_socket_open(fd);
		if (low == NULL)
			g_error("out of memory opening an IMAP stream");
		mailstream_low_set_timeout(low, timeout);
	}
	stream = mailstream_new(fetcher_net_guard(low, &f->io), 8192);
	if (stream == NULL)
		g_error("out of memory opening an IMAP stream");
	if (tls && !verify_peer(f, stream, error)) {
		mailstream_close(stream);
		return NULL;
	}
	return stream;
}

static gboolean
starttls(fetcher_t *f, GError **error)
{
	mailstream *stream = f->imap->imap_stream;
	mailstream_low *plain, *tls;
	gint64 started;
	int r;

	r = mailimap_starttls(f->imap);
	/* Anything already buffered came in clear text after the answer: a
	 * response injection attempt (CVE-2020-15953; Debian's libetpan then
	 * fails mailimap_starttls() itself), never protocol. */
	if (stream->read_buffer_len != 0) {
		f->broken = TRUE;
		return fetcher_fail(f, PI_ERROR_TLS, error,
		                    "server sent data in clear text after its STARTTLS answer");
	}
	if (!fetcher_check(f, r, PI_ERROR_TLS, error, "STARTTLS"))
		return FALSE;
	plain = mailstream_get_low(stream);
	started = g_get_monotonic_time();
	tls = mailstream_low_tls_open_with_callback_timeout(
	    mailstream_low_get_fd(plain), f->config->timeout_seconds, on_tls_context, f);
	if (tls == NULL)
		return handshake_failed(f, started, error);
	mailstream_low_free(plain); /* frees the plain layer; the socket stays open */
	mailstream_set_low(stream, fetcher_net_guard(tls, &f->io));
	capabilities_forget(f);
	return verify_peer(f, stream, error);
}

/* ---- connect, login, logout ------------------------------------------------------ */

static const char *
security_name(security_t security)
{
	switch (security) {
	case SECURITY_TLS:
		return "TLS";
	case SECURITY_STARTTLS:
		return "STARTTLS";
	case SECURITY_NONE:
		break;
	}
	return "no TLS";
}

static gboolean
login(fetcher_t *f, GError **error)
{
	const imap_config_t *config = f->config;
	int r;

	if (!capabilities_refresh(f, error))
		return FALSE;
	if (fetcher_has_capability(f, "LOGINDISABLED"))
		return fetcher_fail(f, PI_ERROR_FATAL, error, "server does not allow LOGIN%s",
		                    config->security == SECURITY_NONE
		                        ? " without TLS (set security = tls or starttls)"
		                        : "");
	if (config->auth == AUTH_XOAUTH2) {
		/* SASL XOAUTH2 (Google, Microsoft): the bearer token instead of a
		 * password; a refused token is PI_ERROR_AUTH like a bad password. */
		if (!fetcher_has_capability(f, "AUTH=XOAUTH2"))
			return fetcher_fail(f, PI_ERROR_FATAL, error,
			                    "server does not offer AUTH=XOAUTH2 (auth = xoauth2)");
		capabilities_forget(f);
		r = mailimap_oauth2_authenticate(f->imap, config->user, f->secret);
		return fetcher_check(f, r, PI_ERROR_AUTH, error, "AUTHENTICATE XOAUTH2");
	}
	capabilities_forget(f);
	r = mailimap_login(f->imap, config->user, f->secret);
	return fetcher_check(f, r, PI_ERROR_AUTH, error, "login");
}

fetcher_t *
fetcher_connect(const imap_config_t *config, GError **error)
{
	g_return_val_if_fail(config != NULL, NULL);
	return fetcher_connect_with(config, config->password, error);
}

fetcher_t *
fetcher_connect_with(const imap_config_t *config, const char *secret, GError **error)
{
	g_autoptr(fetcher_t) f = NULL;
	mailstream *stream;
	int fd, r;

	g_return_val_if_fail(config != NULL, NULL);
	if (config->host == NULL || config->user == NULL) {
		g_set_error(error, FETCHER_ERROR, PI_ERROR_FATAL,
		            "[imap] host and user must be set to connect");
		return NULL;
	}
	if (secret == NULL) {
		g_set_error(error, FETCHER_ERROR, PI_ERROR_FATAL,
		            config->auth == AUTH_XOAUTH2
		                ? "no OAuth2 access token for %s"
		                : "no IMAP password for %s (set password_file or "
		                  "PRIVACY_INBOX_IMAP_PASSWORD)",
		            config->user);
		return NULL;
	}
	f = g_new0(fetcher_t, 1);
	f->config = config;
	f->secret = g_strdup(secret);
	f->host = g_strdup(config->host);
	f->where = strchr(config->host, ':') != NULL
	               ? g_strdup_printf("[%s]:%u", config->host, config->port)
	               : g_strdup_printf("%s:%u", config->host, config->port);
	f->capabilities = g_ptr_array_new_with_free_func(g_free);
	f->imap = mailimap_new(0, NULL);
	if (f->imap == NULL)
		g_error("out of memory creating an IMAP session");
	mailimap_set_timeout(f->imap, config->timeout_seconds);

	g_debug("%s: connecting (%s)", f->where, security_name(config->security));
	fd = fetcher_net_connect(config->host, config->port, config->timeout_seconds, error);
	if (fd < 0)
		return NULL;
	stream = open_stream(f, fd, config->security == SECURITY_TLS, error);
	if (stream == NULL)
		return NULL;
	r = mailimap_connect(f->imap, stream); /* the session owns the stream now */
	if (!fetcher_check(f, r, PI_ERROR_TEMPORARY, error, "greeting"))
		return NULL;
	if (config->security == SECURITY_STARTTLS) {
		if (r == MAILIMAP_NO_ERROR_AUTHENTICATED) {
			fetcher_fail(f, PI_ERROR_TLS, error,
			             "server logged us in before STARTTLS (PREAUTH)");
			return NULL;
		}
		if (!capabilities_refresh(f, error))
			return NULL;
		/* Never fall back to clear text: credentials would follow. */
		if (!fetcher_has_capability(f, "STARTTLS")) {
			fetcher_fail(f, PI_ERROR_TLS, error, "server does not offer STARTTLS");
			return NULL;
		}
		if (!starttls(f, error))
			return NULL;
	}
	if (r != MAILIMAP_NO_ERROR_AUTHENTICATED && !login(f, error))
		return NULL;
	f->logged_in = TRUE;
	f->preauth = r == MAILIMAP_NO_ERROR_AUTHENTICATED;
	if (!capabilities_refresh(f, error))
		return NULL;
	g_debug("%s: logged in as %s", f->where, config->user);
	return g_steal_pointer(&f);
}

void
fetcher_imap_free(mailimap *imap)
{
	if (imap == NULL)
		return;
	if (imap->imap_stream != NULL) {
		mailstream_close(imap->imap_stream);
		imap->imap_stream = NULL;
		imap->imap_state = MAILIMAP_STATE_DISCONNECTED;
	}
	mailimap_free(imap);
}

void
fetcher_free(fetcher_t *fetcher)
{
	g_autoptr(mailimap) imap = NULL;

	if (fetcher == NULL)
		return;
	imap = g_steal_pointer(&fetcher->imap);
	if (imap != NULL && imap->imap_stream != NULL && fetcher->logged_in && !fetcher->broken) {
		int r = mailimap_logout(imap); /* closes the stream, answered or not */

		if (r != MAILIMAP_NO_ERROR)
			g_debug("%s: LOGOUT failed (libetpan %d)", fetcher->where, r);
	}
	if (fetcher->capabilities != NULL)
		g_ptr_array_unref(fetcher->capabilities);
	g_free(fetcher->host);
	g_free(fetcher->where);
	if (fetcher->secret != NULL)
		memset(fetcher->secret, 0, strlen(fetcher->secret));
	g_free(fetcher->secret);
	g_free(fetcher);
}

/* ---- mailbox ---------------------------------------------------------------------- */

gboolean
fetcher_select(fetcher_t *fetcher, const char *mailbox, fetcher_mailbox_t *info_out, GError **error)
{
	g_autofree char *encoded = NULL;
	const struct mailimap_selection_info *sel;
	int r;

	if (!fetcher_ready(fetcher, FALSE, error))
		return FALSE;
	encoded = fetcher_mailbox_encode(mailbox);
	if (encoded == NULL)
		return fetcher_fail(fetcher, PI_ERROR_FATAL, error,
		                    "mailbox name is not valid UTF-8");
	fetcher->selected = FALSE;
	r = mailimap_select(fetcher->imap, encoded);
	if (!fetcher_check(fetcher, r, PI_ERROR_FATAL, error, "SELECT \"%s\"", mailbox))
		return FALSE;
	sel = fetcher->imap->imap_selection_info;
	if (sel == NULL || sel->sel_uidvalidity == 0)
		return fetcher_fail(fetcher, PI_ERROR_FATAL, error,
		                    "SELECT \"%s\": server sent no UIDVALIDITY", mailbox);
	if (sel->sel_perm == MAILIMAP_MAILBOX_READONLY)
		return fetcher_fail(fetcher, PI_ERROR_FATAL, error,
		                    "mailbox \"%s\" is read-only for this user", mailbox);
	fetcher->selected = TRUE;
	if (info_out != NULL) {
		info_out->uidvalidity = sel->sel_uidvalidity;
		info_out->uidnext = sel->sel_uidnext;
		info_out->exists = sel->sel_exists;
	}
	g_debug("%s: selected \"%s\": UIDVALIDITY %u, UIDNEXT %u, %u messages", fetcher->where,
	        mailbox, sel->sel_uidvalidity, sel->sel_uidnext, sel->sel_exists);
	return TRUE;
}

GArray *
fetcher_list_uids(fetcher_t *fetcher, guint32 after_uid, GError **error)
{
	g_autoptr(GArray) uids = NULL;
	struct mailimap_search_key *key;
	clist *result = NULL;
	int r;

	if (!fetcher_ready(fetcher, TRUE, error))
		return NULL;
	uids = g_array_new(FALSE, FALSE, sizeof(guint32));
	if (after_uid == G_MAXUINT32)
		return g_steal_pointer(&uids);
	/* UID SEARCH UID n:* — "*" is the highest UID in the mailbox, so with
	 * n beyond it the range is n:highest and still matches that message:
	 * what is not above AFTER_UID is filtered out below. */
	key = mailimap_search_key_new_uid(mailimap_set_new_interval(after_uid + 1, 0));
	if (key == NULL)
		g_error("out of memory building a UID SEARCH");
	r = mailimap_uid_search(fetcher->imap, NULL, key, &result);
	mailimap_search_key_free(key);
	if (!fetcher_check(fetcher, r, PI_ERROR_TEMPORARY, error, "UID SEARCH UID %u:*",
	                   after_uid + 1))
		return NULL;
	for (clistiter *it = clist_begin(result); it != NULL; it = clist_next(it)) {
		guint32 uid = *(const uint32_t *)clist_content(it);

		if (uid > after_uid)
			g_array_append_val(uids, uid);
	}
	mailimap_search_result_free(result);
	fetcher_uids_normalize(uids); /* whatever order the server used */
	g_debug("%s: %u messages after UID %u", fetcher->where, uids->len, after_uid);
	return g_steal_pointer(&uids);
}
