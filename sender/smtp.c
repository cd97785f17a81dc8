/* smtp.c — sends a built message over SMTP with libcurl (see sender.h).
 *
 * The message is serialized once (CRLF line ends) into an unlinked temporary
 * file and curl reads it from there, so attachments never sit in memory.
 * curl's debug callback gives us the server's replies (never the commands'
 * arguments: AUTH lines carry credentials), so errors can quote what the
 * server said and name the step that failed.
 */
#include "sender/sender-internal.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

/* How much of a server reply an error message quotes. */
#define REPLY_MAX 400

typedef struct {
	GString *reply;   /* the last complete reply, its lines joined by spaces */
	GString *partial; /* a multi-line reply still arriving */
	char command[12]; /* verb of the last command sent ("RCPT"); "" before any */
	gboolean quit;    /* QUIT sent: what follows is no longer about the mail */
} transcript_t;

static const char *const known_commands[] = {
    "EHLO", "HELO", "STARTTLS", "AUTH", "MAIL", "RCPT", "DATA", "RSET", "NOOP",
};

static void
transcript_command(transcript_t *t, const char *line, gsize len)
{
	char verb[sizeof t->command];
	gsize n = 0;

	while (n < len && n < sizeof verb - 1 && g_ascii_isalpha(line[n])) {
		verb[n] = g_ascii_toupper(line[n]);
		n++;
	}
	verb[n] = '\0';
	if (n < len && line[n] != ' ' && line[n] != ':' && line[n] != '\r' && line[n] != '\n')
		return;
	if (strcmp(verb, "QUIT") == 0) {
		/* curl says QUIT after a failure too: keep the step and the reply
		 * that made it give up. */
		t->quit = TRUE;
		return;
	}
	for (gsize i = 0; i < G_N_ELEMENTS(known_commands); i++) {
		if (strcmp(verb, known_commands[i]) == 0) {
			memcpy(t->command, verb, n + 1);
			return;
		}
	}
	/* Anything else (SASL continuation lines, the final dot) belongs to the
	 * command before it. */
}

static void
transcript_reply_line(transcript_t *t, const char *line, gsize len)
{
	gboolean last;
	gsize start = 0;

	if (t->quit)
		return;
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	last = len < 4 || line[3] != '-';
	if (t->partial->len > 0) {
		start = len >= 4 ? 4 : len; /* the code once is enough */
		g_string_append_c(t->partial, ' ');
	}
	for (gsize i = start; i < len && t->partial->len < REPLY_MAX; i++) {
		guchar c = (guchar)line[i];
		g_string_append_c(t->partial, c < 0x20 || c == 0x7f ? '?' : (char)c);
	}
	if (last) {
		g_string_assign(t->reply, t->partial->str);
		g_string_truncate(t->partial, 0);
	}
}

static int
on_debug(CURL *curl, curl_infotype type, char *data, size_t size, void *userp)
{
	transcript_t *t = userp;
	const char *p = data, *end = data + size;

	(void)curl;
	if (type != CURLINFO_HEADER_IN && type != CURLINFO_HEADER_OUT)
		return 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (gsize)(end - p));
		const char *stop = nl ? nl + 1 : end;
		if (type == CURLINFO_HEADER_IN)
			transcript_reply_line(t, p, (gsize)(stop - p));
		else
			transcript_command(t, p, (gsize)(stop - p));
		p = stop;
	}
	return 0;
}

static size_t
on_read(char *buffer, size_t size, size_t nitems, void *userp)
{
	int fd = *(const int *)userp;
	ssize_t n;

	do
		n = read(fd, buffer, size * nitems);
	while (n < 0 && errno == EINTR);
	return n < 0 ? CURL_READFUNC_ABORT : (size_t)n;
}

/* ---- classification and wording ------------------------------------------------ */

pi_error_code_t
sender_classify_failure(CURLcode result, guint reply_code)
{
	switch (result) {
	case CURLE_LOGIN_DENIED:
		/* 454 4.7.0: temporary authentication failure */
		return reply_code / 100 == 4 ? PI_ERROR_TEMPORARY : PI_ERROR_AUTH;
	case CURLE_USE_SSL_FAILED:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_SSL_CLIENTCERT:
		return PI_ERROR_TLS;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_NOT_BUILT_IN:
	case CURLE_FAILED_INIT:
	case CURLE_BAD_FUNCTION_ARGUMENT:
	case CURLE_UNKNOWN_OPTION:
	case CURLE_OUT_OF_MEMORY:
	case CURLE_READ_ERROR:
	case CURLE_ABORTED_BY_CALLBACK:
		return PI_ERROR_FATAL;
	default:
		break;
	}
	/* The server said no: its reply grades it. */
	if (reply_code == 530 || reply_code == 535) /* authentication required / refused */
		return PI_ERROR_AUTH;
	if (reply_code / 100 == 5)
		return PI_ERROR_PERMANENT;
	if (reply_code / 100 == 4)
		return PI_ERROR_TEMPORARY;
	/* Refused or timed-out connections, unresolvable names, cut sessions. */
	return PI_ERROR_TEMPORARY;
}

/* What the step after COMMAND was about, for "recipient refused: 550 …". */
static const char *
step_name(const char *command)
{
	static const struct {
		const char *command, *step;
	} steps[] = {
	    {"", "session"},          {"EHLO", "greeting"}, {"HELO", "greeting"},
	    {"STARTTLS", "STARTTLS"}, {"AUTH", "login"},    {"MAIL", "sender"},
	    {"RCPT", "recipient"},    {"DATA", "message"},  {"RSET", "reset"},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(steps); i++) {
		if (strcmp(command, steps[i].command) == 0)
			return steps[i].step;
	}
	return command;
}

static char *
describe_failure(const smtp_config_t *config, const char *where, CURLcode result, guint reply_code,
                 const char *errbuf, const transcript_t *t)
{
	const char *curl_says = *errbuf ? errbuf : curl_easy_strerror(result);
	g_autofree char *reply = g_utf8_make_valid(t->reply->str, -1);

	if (result == CURLE_LOGIN_DENIED)
		return g_strdup_printf("%s: login refused for user \"%s\": %s", where,
		                       config->user ? config->user : "",
		                       *reply ? reply : curl_says);
	if (result == CURLE_USE_SSL_FAILED) {
		if (strcmp(t->command, "STARTTLS") == 0 && reply_code >= 400)
			return g_strdup_printf("%s: STARTTLS refused: %s", where, reply);
		return g_strdup_printf("%s: the server does not offer STARTTLS, which security = "
		                       "starttls requires",
		                       where);
	}
	if (sender_classify_failure(result, 0) == PI_ERROR_TLS)
		return g_strdup_printf("%s: TLS: %s", where, curl_says);
	if (reply_code >= 400 && *reply)
		return g_strdup_printf("%s: %s %s: %s", where, step_name(t->command),
		                       reply_code < 500 ? "deferred" : "refused", reply);
	switch (result) {
	case CURLE_COULDNT_CONNECT:
		return g_strdup_printf("%s: cannot connect: %s", where, curl_says);
	case CURLE_COULDNT_RESOLVE_HOST:
		return g_strdup_printf("%s: cannot resolve the host name: %s", where, curl_says);
	case CURLE_OPERATION_TIMEDOUT:
		return g_strdup_printf("%s: timed out after %u s%s%s: %s", where,
		                       config->timeout_seconds,
		                       *t->command ? " waiting after " : "", t->command, curl_says);
	default:
		return g_strdup_printf("%s: %s%s%s%s", where, curl_says,
		                       *reply ? " (last reply: " : "", reply, *reply ? ")" : "");
	}
}

/* ---- configuration -------------------------------------------------------------- */

/* scheme://host[:port] for messages: never user names or passwords from the URL. */
static char *
url_for_display(const char *url, GError **error)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL;
	char *shown = NULL;

	if (u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK)
			shown = g_strdup_printf("%s://%s:%s", scheme, host, port);
		else
			shown = g_strdup_printf("%s://%s", scheme, host);
	} else {
		g_set_error(error, SENDER_ERROR, PI_ERROR_FATAL, "[smtp] url: cannot parse \"%s\"",
		            url);
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return shown;
}

/* The TLS mode for config->url and config->security, or FALSE when they
 * contradict each other. */
static gboolean
tls_mode(const smtp_config_t *config, long *use_ssl_out, GError **error)
{
	gboolean smtps = g_ascii_strncasecmp(config->url, "smtps://", 8) == 0;
	gboolean smtp = g_ascii_strncasecmp(config->url, "smtp://", 7) == 0;

	if (smtps && config->security == SECURITY_TLS) {
		*use_ssl_out = CURLUSESSL_ALL; /* implicit TLS: the scheme says it */
		return TRUE;
	}
	if (smtp && config->security == SECURITY_STARTTLS) {
		*use_ssl_out = CURLUSESSL_ALL; /* STARTTLS, refused if not offered */
		return TRUE;
	}
	if (smtp && config->security == SECURITY_NONE) {
		*use_ssl_out = CURLUSESSL_NONE;
		return TRUE;
	}
	g_set_error(error, SENDER_ERROR, PI_ERROR_FATAL,
	            "[smtp] url \"%s\" does not go with security = %s (smtps:// means tls; "
	            "smtp:// means starttls or none)",
	            config->url,
	            config->security == SECURITY_TLS        ? "tls"
	            : config->security == SECURITY_STARTTLS ? "starttls"
	                                                    : "none");
	return FALSE;
}

/* ---- sending --------------------------------------------------------------------- */

/* MESSAGE with CRLF line ends in an unlinked temporary file, positioned at
 * its start; -1 on error.  The caller closes the descriptor. */
static int
spool_message(GMimeMessage *message, curl_off_t *size_out, GError **error)
{
	g_autoptr(GError) local = NULL;
	g_autofree char *path = NULL;
	g_autoptr(GMimeFormatOptions) options = g_mime_format_options_new();
	off_t size;
	int fd = g_file_open_tmp("privacy-inbox-smtp-XXXXXX", &path, &local);

	if (fd < 0) {
		g_set_error(error, SENDER_ERROR, PI_ERROR_FATAL,
		            "cannot create a temporary file for the message: %s", local->message);
		return -1;
	}
	/* Nobody else can open it now, and it is gone once we close it. */
	unlink(path);
	g_mime_format_options_set_newline_format(options, GMIME_NEWLINE_FORMAT_DOS);
	{
		g_autoptr(GMimeStream) file = g_mime_stream_fs_new(fd);
		g_autoptr(GMimeStream) buffered = NULL;
		ssize_t written;

		g_mime_stream_fs_set_owner(GMIME_STREAM_FS(file), FALSE);
		buffered = g_mime_stream_buffer_new(file, GMIME_STREAM_BUFFER_BLOCK_WRITE);
		written = g_mime_object_write_to_stream(GMIME_OBJECT(message), options, buffered);
		if (written < 0 || g_mime_stream_flush(buffered) != 0) {
			int saved = errno;
			close(fd);
			g_set_error(error, SENDER_ERROR, PI_ERROR_FATAL,
			            "cannot write the message to a temporary file: %s",
			            g_strerror(saved));
			return -1;
		}
	}
	size = lseek(fd, 0, SEEK_END);
	if (size < 0 || lseek(fd, 0, SEEK_SET) != 0) {
		int saved = errno;
		close(fd);
		g_set_error(error, SENDER_ERROR, PI_ERROR_FATAL,
		            "cannot rewind the message file: %s", g_strerror(saved));
		return -1;
	}
	*size_out = (curl_off_t)size;
	return fd;
}

gboolean
sender_send(const smtp_config_t *config, GMimeMessage *message, const char *envelope_to,
            GError **error)
{
	return sender_send_with(config, config->password, message, envelope_to, error);
}

gboolean
sender_send_with(const smtp_config_t *config, const char *secret, GMimeMessage *message,
                 const char *envelope_to, GError **error)
{
	g_autofree char *where = NULL;
	g_autofree char *from_name = NULL;
	g_autofree char *from_addr = NULL;
	g_autofree char *mail_from = NULL;
	g_autofree char *rcpt_to = NULL;
	g_autoptr(curl_slist_t) rcpts = NULL;
	g_autoptr(CURL) curl = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	transcript_t t = {g_string_new(NULL), g_string_new(NULL), "", FALSE};
	curl_off_t size = 0;
	long use_ssl = CURLUSESSL_NONE;
	long reply_code = 0;
	long timeout;
	CURLcode result;
	gboolean ok = FALSE;
	int fd = -1;

	if (config->url == NULL || *config->url == '\0') {
		g_set_error(error, SENDER_ERROR, PI_ERROR_FATAL, "[smtp] url is not set");
		goto out;
	}
	if ((where = url_for_display(config->url, error)) == NULL ||
	    !tls_mode(config, &use_ssl, error) ||
	    !sender_parse_from(config->from, &from_name, &from_addr, error))
		goto out;
	if (config->user != NULL && secret == NULL) {
		g_set_error(error, SENDER_ERROR, PI_ERROR_FATAL,
		            config->auth == AUTH_XOAUTH2
		                ? "[smtp] auth = xoauth2 but there is no access token"
		                : "[smtp] user is set but there is no password (password_file or "
		                  "PRIVACY_INBOX_SMTP_PASSWORD)");
		goto out;
	}
	if (config->auth == AUTH_XOAUTH2 && config->user == NULL) {
		g_set_error(error, SENDER_ERROR, PI_ERROR_FATAL,
		            "[smtp] auth = xoauth2 needs [smtp] user");
		goto out;
	}
	if (!sender_address_is_valid(envelope_to)) {
		g_autofree char *shown = envelope_to ? pi_header_sanitize(envelope_to) : NULL;
		g_set_error(error, SENDER_ERROR, PI_ERROR_MESSAGE,
		            "not a valid recipient address: \"%s\"", shown ? shown : "");
		goto out;
	}
	if ((fd = spool_message(message, &size, error)) < 0)
		goto out;
	if ((curl = curl_easy_init()) == NULL) {
		g_set_error(error, SENDER_ERROR, PI_ERROR_FATAL, "cannot initialize libcurl");
		goto out;
	}

	mail_from = g_strdup_printf("<%s>", from_addr);
	rcpt_to = g_strdup_printf("<%s>", envelope_to);
	rcpts = curl_slist_append(NULL, rcpt_to);
	timeout = (long)MAX(config->timeout_seconds, 1);

	curl_easy_setopt(curl, CURLOPT_URL, config->url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(curl, CURLOPT_USE_SSL, use_ssl);
	curl_easy_setopt(curl, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
	if (config->ca_file != NULL) {
		/* Only this CA: a private relay's certificate, nothing else. */
		curl_easy_setopt(curl, CURLOPT_CAINFO, config->ca_file);
		curl_easy_setopt(curl, CURLOPT_CAPATH, NULL);
	}
	if (config->user != NULL && config->auth == AUTH_XOAUTH2) {
		/* SASL XOAUTH2 or OAUTHBEARER, whichever the server offers. */
		curl_easy_setopt(curl, CURLOPT_USERNAME, config->user);
		curl_easy_setopt(curl, CURLOPT_XOAUTH2_BEARER, secret);
	} else if (config->user != NULL) {
		curl_easy_setopt(curl, CURLOPT_USERNAME, config->user);
		curl_easy_setopt(curl, CURLOPT_PASSWORD, secret);
	}
	curl_easy_setopt(curl, CURLOPT_MAIL_FROM, mail_from);
	curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpts);
	curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(curl, CURLOPT_READDATA, &fd);
	curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, size);
	/* Every wait is bounded: the connection (TCP and TLS), each server
	 * reply, and the upload, which fails when it stalls for that long
	 * rather than after a fixed total that large attachments could pass. */
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, timeout);
	curl_easy_setopt(curl, CURLOPT_SERVER_RESPONSE_TIMEOUT, timeout);
	curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, timeout);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	/* Verbose only so the debug callback sees the dialogue; nothing is printed. */
	curl_easy_setopt(curl, CURLOPT_DEBUGFUNCTION, on_debug);
	curl_easy_setopt(curl, CURLOPT_DEBUGDATA, &t);
	curl_easy_setopt(curl, CURLOPT_VERBOSE, 1L);

	result = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply_code);
	if (result != CURLE_OK) {
		g_autofree char *text =
		    describe_failure(config, where, result, (guint)reply_code, errbuf, &t);
		g_set_error_literal(error, SENDER_ERROR,
		                    sender_classify_failure(result, (guint)reply_code), text);
		goto out;
	}
	g_debug("%s: accepted for %s: %s", where, envelope_to, t.reply->str);
	ok = TRUE;

out:
	if (fd >= 0)
		close(fd);
	g_string_free(t.reply, TRUE);
	g_string_free(t.partial, TRUE);
	return ok;
}
