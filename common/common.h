/* common.h — shared plumbing every module may use: error grades, autoptr
 * cleanups for the C libraries we link, and a few small helpers.
 *
 * Modules never print, exit or read the configuration file; they report
 * through GError.  Every module has its own error domain (declared in its own
 * header) and uses the graded codes below, so a caller can decide what to do
 * from the code alone (isync's DRV_* idea):
 *
 *   PI_ERROR_MESSAGE   this message is bad: keep it, flag it, go on
 *   PI_ERROR_TEMPORARY try again later (network, timeout, SQLITE_BUSY, 4xx)
 *   PI_ERROR_FATAL     configuration or environment: stop and say why
 *   PI_ERROR_AUTH      the server refused our credentials (fatal)
 *   PI_ERROR_TLS       TLS negotiation or certificate verification failed (fatal)
 *   PI_ERROR_PERMANENT the peer refused this item for good (SMTP 5xx)
 *   PI_ERROR_NOT_FOUND no such ticket, draft, template…
 *   PI_ERROR_REFUSED   the operation is not allowed in the current state
 */
#pragma once

#include <glib.h>
#include <gmime/gmime.h>
#include <sqlite3.h>
#include <curl/curl.h>
#include <json-glib/json-glib.h>

typedef enum {
	PI_ERROR_MESSAGE = 1,
	PI_ERROR_TEMPORARY,
	PI_ERROR_FATAL,
	PI_ERROR_AUTH,
	PI_ERROR_TLS,
	PI_ERROR_PERMANENT,
	PI_ERROR_NOT_FOUND,
	PI_ERROR_REFUSED,
} pi_error_code_t;

#define COMMON_ERROR (common_error_quark())
GQuark common_error_quark(void);

/* ---- autoptr cleanups for libraries that ship none -------------------- */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeObject, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeMessage, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimePart, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeMultipart, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeMessagePart, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeStream, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeFilter, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeParser, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeDataWrapper, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeContentType, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(InternetAddressList, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeFormatOptions, g_mime_format_options_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeParserOptions, g_mime_parser_options_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeReferences, g_mime_references_free)

G_DEFINE_AUTOPTR_CLEANUP_FUNC(sqlite3, sqlite3_close)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sqlite3_stmt, sqlite3_finalize)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CURL, curl_easy_cleanup)
typedef struct curl_slist curl_slist_t;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(curl_slist_t, curl_slist_free_all)
/* mailimap's cleanup lives in fetcher/ (only fetcher includes libetpan). */

/* ---- small helpers ------------------------------------------------------ */

/* g_utf8_next_char() casts const away, which -Wcast-qual reports. */
#define PI_UTF8_NEXT(p) ((p) + g_utf8_skip[*(const guchar *)(p)])

/* Lowercase hex SHA-256 of a byte range.  Caller frees with g_free(). */
char *pi_sha256_hex(const void *data, gsize len);

/* Current time as ISO 8601 UTC ("2026-11-28T09:15:00Z").  Caller frees with g_free().
 * The clock can be overridden for tests with PRIVACY_INBOX_NOW (ISO 8601). */
char *pi_now_iso8601(void);
/* T as ISO 8601 UTC, the store's time format.  Caller frees with g_free(). */
char *pi_iso8601(GDateTime *t);
GDateTime *pi_now(void);

/* Make sure DIR exists with exactly MODE (created with parents if missing). */
gboolean pi_ensure_dir(const char *dir, int mode, GError **error);

/* Write DATA to PATH atomically (temporary file in the same folder, fsync,
 * rename, fsync of the folder), file mode MODE. */
gboolean pi_write_file_atomic(const char *path, const void *data, gsize len, int mode,
                              GError **error);

/* fsync a folder so a rename inside it is durable. */
gboolean pi_fsync_dir(const char *dir, GError **error);

/* Remove CR, LF and other control characters (keeps TAB as a space) so the
 * value is safe to place in a mail header.  Returns a new string. */
char *pi_header_sanitize(const char *value);

/* Join a NULL-terminated vector of constant strings with SEP (NULL: "").
 * Caller frees with g_free(). */
char *pi_strv_join(const char *const *strv, const char *sep);
/* A deep copy as a GStrv (caller frees with g_strfreev()); NULL gives an empty one. */
char **pi_strv_copy(const char *const *strv);

/* Add MEMBER to the object being built: VALUE as a string, or null when
 * VALUE is NULL. */
void pi_json_add_string(JsonBuilder *builder, const char *member, const char *value);

/* TRUE when the UTF-8 text contains Japanese script (kana, kanji, full-width forms). */
gboolean pi_text_has_japanese(const char *utf8);
