/* credentials.h — OAuth2 access tokens for `auth = xoauth2` (IMAP and SMTP
 * share one client and one refresh token).
 *
 * The refresh token is read from [oauth2] refresh_token_file when a token is
 * needed; the access token lives in memory only and is refreshed through the
 * provider's token endpoint (sender_oauth2_refresh) when it is within
 * refresh_margin_seconds of expiry, or when a server refused it.  A refresh
 * token the provider rotates is written back atomically (temporary file,
 * fsync, rename, 0600) before the new access token is used, so a crash never
 * leaves the file empty or holding a token the provider has retired.
 */
#pragma once

#include "common/config.h"

typedef struct credentials credentials_t;

/* CONFIG is borrowed and must outlive the result.  Caller frees with
 * credentials_free(). */
credentials_t *credentials_new(const config_t *config);
void credentials_free(credentials_t *credentials);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(credentials_t, credentials_free)

/* A valid access token (refreshed first when close to expiry, or always with
 * FORCE).  Borrowed until the next call.  Errors: PI_ERROR_AUTH when the
 * provider refuses the refresh token (revoked, expired), PI_ERROR_TEMPORARY
 * for network trouble, PI_ERROR_FATAL for a missing or unreadable file. */
const char *credentials_access_token(credentials_t *credentials, gboolean force, GError **error);

/* Unix time the current access token expires (0: none yet, or unknown). */
gint64 credentials_expires_at(const credentials_t *credentials);
/* Unix time of the last successful refresh (0: none). */
gint64 credentials_refreshed_at(const credentials_t *credentials);
