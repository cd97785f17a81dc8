/* oauth2.c — an OAuth2 access token from the provider's token endpoint
 * (RFC 6749 section 6, refresh_token grant) with libcurl, for SASL XOAUTH2
 * on IMAP and SMTP.  Google and Microsoft answer with JSON:
 * {"access_token", "expires_in", "token_type": "Bearer", "refresh_token"?}
 * where a refresh_token in the answer replaces the one we sent (rotation).
 * Saving it is the command layer's job (it owns the file). */
#include "sender/sender-internal.h"

#include <json-glib/json-glib.h>
#include <string.h>

void
sender_oauth2_token_clear(sender_oauth2_token_t *token)
{
	if (token == NULL)
		return;
	if (token->access_token != NULL)
		memset(token->access_token, 0, strlen(token->access_token));
	if (token->refresh_token != NULL)
		memset(token->refresh_token, 0, strlen(token->refresh_token));
	g_clear_pointer(&token->access_token, g_free);
	g_clear_pointer(&token->refresh_token, g_free);
	token->expires_at = 0;
}

static size_t
on_body(char *data, size_t size, size_t nmemb, void *userp)
{
	GString *body = userp;

	if (body->len + size * nmemb > 64 * 1024)
		return 0; /* a token answer is small: refuse anything huge */
	g_string_append_len(body, data, (gssize)(size * nmemb));
	return size * nmemb;
}

static void
form_add(GString *form, CURL *curl, const char *name, const char *value)
{
	char *escaped;

	if (value == NULL)
		return;
	escaped = curl_easy_escape(curl, value, 0);
	if (escaped == NULL)
		g_error("out of memory building a token request");
	g_string_append_printf(form, "%s%s=%s", form->len ? "&" : "", name, escaped);
	curl_free(escaped);
}

/* One printable line of at most 200 characters from the provider's text. */
static char *
printable(const char *text)
{
	g_autofree char *valid = g_utf8_make_valid(text ? text : "", -1);
	GString *out = g_string_new(NULL);

	for (const char *p = valid; *p && out->len < 200; p += g_utf8_skip[*(const guchar *)p]) {
		gunichar c = g_utf8_get_char(p);
		g_string_append_unichar(out, g_unichar_iscntrl(c) ? ' ' : c);
	}
	return g_string_free(out, FALSE);
}

static gboolean
parse_answer(const char *where, long status, const GString *body, sender_oauth2_token_t *token,
             GError **error)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	JsonObject *o = NULL;
	JsonNode *root;

	if (json_parser_load_from_data(parser, body->str, (gssize)body->len, NULL) &&
	    (root = json_parser_get_root(parser)) != NULL && JSON_NODE_HOLDS_OBJECT(root))
		o = json_node_get_object(root);
	if (status >= 500 || status == 429) {
		g_set_error(error, SENDER_ERROR, PI_ERROR_TEMPORARY,
		            "%s: token endpoint answered HTTP %ld", where, status);
		return FALSE;
	}
	if (status != 200 || o == NULL || !json_object_has_member(o, "access_token")) {
		const char *code =
		    o ? json_object_get_string_member_with_default(o, "error", NULL) : NULL;
		const char *text =
		    o ? json_object_get_string_member_with_default(o, "error_description", NULL)
		      : NULL;
		g_autofree char *shown_code = printable(code ? code : "no access_token");
		g_autofree char *shown_text = text ? printable(text) : NULL;
		gboolean refused = status == 400 || status == 401;

		g_set_error(error, SENDER_ERROR, refused ? PI_ERROR_AUTH : PI_ERROR_FATAL,
		            "%s: token refresh refused (HTTP %ld, %s%s%s)", where, status,
		            shown_code, shown_text ? ": " : "", shown_text ? shown_text : "");
		return FALSE;
	}
	token->access_token =
	    g_strdup(json_object_get_string_member_with_default(o, "access_token", ""));
	if (*token->access_token == '\0') {
		g_set_error(error, SENDER_ERROR, PI_ERROR_FATAL, "%s: empty access_token", where);
		return FALSE;
	}
	if (json_object_has_member(o, "refresh_token")) {
		const char *rotated =
		    json_object_get_string_member_with_default(o, "refresh_token", NULL);

		if (rotated != NULL && *rotated != '\0')
			token->refresh_token = g_strdup(rotated);
	}
	if (json_object_has_member(o, "expires_in")) {
		JsonNode *n = json_object_get_member(o, "expires_in");
		gint64 seconds = 0;

		/* A number, or (some providers) a numeric string. */
		if (JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING)
			seconds = g_ascii_strtoll(json_node_get_string(n), NULL, 10);
		else if (JSON_NODE_HOLDS_VALUE(n))
			seconds = json_node_get_int(n);
		if (seconds > 0)
			token->expires_at = g_get_real_time() / G_USEC_PER_SEC + seconds;
	}
	return TRUE;
}

gboolean
sender_oauth2_refresh(const oauth2_config_t *config, const char *refresh_token, const char *ca_file,
                      guint timeout_seconds, sender_oauth2_token_t *token_out, GError **error)
{
	g_autoptr(CURL) curl = NULL;
	g_autoptr(GString) form = g_string_new(NULL);
	g_autoptr(GString) body = g_string_new(NULL);
	g_autofree char *where = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	long status = 0;
	CURLcode result;
	gboolean ok;

	memset(token_out, 0, sizeof(*token_out));
	if (config->token_url == NULL || config->client_id == NULL) {
		g_set_error(error, SENDER_ERROR, PI_ERROR_FATAL,
		            "[oauth2] token_url and client_id must be set");
		return FALSE;
	}
	if (refresh_token == NULL || *refresh_token == '\0') {
		g_set_error(error, SENDER_ERROR, PI_ERROR_AUTH, "no OAuth2 refresh token");
		return FALSE;
	}
	if ((curl = curl_easy_init()) == NULL) {
		g_set_error(error, SENDER_ERROR, PI_ERROR_FATAL, "cannot initialize libcurl");
		return FALSE;
	}
	{
		/* scheme://host[:port]/path without a query: what errors may show. */
		const char *q = strchr(config->token_url, '?');
		where = q ? g_strndup(config->token_url, (gsize)(q - config->token_url))
		          : g_strdup(config->token_url);
	}
	form_add(form, curl, "grant_type", "refresh_token");
	form_add(form, curl, "refresh_token", refresh_token);
	form_add(form, curl, "client_id", config->client_id);
	form_add(form, curl, "client_secret", config->client_secret);
	form_add(form, curl, "scope", config->scope);

	curl_easy_setopt(curl, CURLOPT_URL, config->token_url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, form->str);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)form->len);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
	if (ca_file != NULL)
		curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)MAX(timeout_seconds, 1));
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, (long)MAX(timeout_seconds, 1));
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	result = curl_easy_perform(curl);
	/* The form held the refresh token: wipe it. */
	memset(form->str, 0, form->len);
	if (result != CURLE_OK) {
		gboolean tls = result == CURLE_PEER_FAILED_VERIFICATION ||
		               result == CURLE_SSL_CONNECT_ERROR ||
		               result == CURLE_SSL_CACERT_BADFILE;

		g_set_error(error, SENDER_ERROR, tls ? PI_ERROR_TLS : PI_ERROR_TEMPORARY,
		            "%s: token refresh failed: %s", where,
		            *errbuf ? errbuf : curl_easy_strerror(result));
		return FALSE;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	ok = parse_answer(where, status, body, token_out, error);
	memset(body->str, 0, body->len);
	if (!ok)
		sender_oauth2_token_clear(token_out);
	else
		g_debug("%s: new access token%s, expires in %" G_GINT64_FORMAT " s", where,
		        token_out->refresh_token ? " and a rotated refresh token" : "",
		        token_out->expires_at
		            ? token_out->expires_at - g_get_real_time() / G_USEC_PER_SEC
		            : -1);
	return ok;
}
