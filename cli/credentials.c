/* credentials.c — see credentials.h. */
#include "cli/credentials.h"

#include "sender/sender.h"

#include <string.h>

struct credentials {
	const config_t *config;
	char *access_token;
	gint64 expires_at;
	gint64 refreshed_at;
};

credentials_t *
credentials_new(const config_t *config)
{
	credentials_t *c = g_new0(credentials_t, 1);

	c->config = config;
	return c;
}

static void
forget_token(credentials_t *c)
{
	if (c->access_token != NULL)
		memset(c->access_token, 0, strlen(c->access_token));
	g_clear_pointer(&c->access_token, g_free);
	c->expires_at = 0;
}

void
credentials_free(credentials_t *c)
{
	if (c == NULL)
		return;
	forget_token(c);
	g_free(c);
}

static char *
read_refresh_token(const oauth2_config_t *oauth2, GError **error)
{
	g_autofree char *contents = NULL;
	g_autoptr(GError) local = NULL;

	if (!g_file_get_contents(oauth2->refresh_token_file, &contents, NULL, &local)) {
		g_set_error(error, CONFIG_ERROR, PI_ERROR_FATAL, "[oauth2] refresh_token_file: %s",
		            local->message);
		return NULL;
	}
	contents[strcspn(contents, "\r\n")] = '\0';
	g_strstrip(contents);
	if (*contents == '\0') {
		g_set_error(error, CONFIG_ERROR, PI_ERROR_FATAL,
		            "[oauth2] refresh_token_file %s is empty", oauth2->refresh_token_file);
		return NULL;
	}
	return g_steal_pointer(&contents);
}

static gboolean
save_refresh_token(const oauth2_config_t *oauth2, const char *token, GError **error)
{
	g_autofree char *line = g_strconcat(token, "\n", NULL);
	gboolean ok =
	    pi_write_file_atomic(oauth2->refresh_token_file, line, strlen(line), 0600, error);

	memset(line, 0, strlen(line));
	if (!ok)
		g_prefix_error(error, "saving the rotated refresh token: ");
	return ok;
}

const char *
credentials_access_token(credentials_t *c, gboolean force, GError **error)
{
	const oauth2_config_t *oauth2 = &c->config->oauth2;
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;
	g_autofree char *refresh = NULL;
	sender_oauth2_token_t token = {0};
	gboolean ok;

	if (!force && c->access_token != NULL &&
	    (c->expires_at == 0 || c->expires_at - (gint64)oauth2->refresh_margin_seconds > now))
		return c->access_token;
	if ((refresh = read_refresh_token(oauth2, error)) == NULL)
		return NULL;
	ok = sender_oauth2_refresh(oauth2, refresh, NULL, c->config->imap.timeout_seconds, &token,
	                           error);
	memset(refresh, 0, strlen(refresh));
	if (!ok)
		return NULL;
	/* The rotated refresh token first: once the provider issued it, the old
	 * one may stop working, so it must be on disk before anything else. */
	if (token.refresh_token != NULL &&
	    !save_refresh_token(oauth2, token.refresh_token, error)) {
		sender_oauth2_token_clear(&token);
		return NULL;
	}
	if (token.refresh_token != NULL)
		g_message("OAuth2: the provider rotated the refresh token; saved to %s",
		          oauth2->refresh_token_file);
	forget_token(c);
	c->access_token = g_steal_pointer(&token.access_token);
	c->expires_at = token.expires_at;
	c->refreshed_at = now;
	sender_oauth2_token_clear(&token);
	g_info("OAuth2: new access token%s", c->expires_at ? "" : " (no expiry given)");
	return c->access_token;
}

gint64
credentials_expires_at(const credentials_t *c)
{
	return c != NULL ? c->expires_at : 0;
}

gint64
credentials_refreshed_at(const credentials_t *c)
{
	return c != NULL ? c->refreshed_at : 0;
}
