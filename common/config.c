/* config.c — GKeyFile reader for the configuration (see config.h). */
#include "common/config.h"
#include "common/request_type.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

G_DEFINE_QUARK(privacy-inbox-config-error-quark, config_error)

#ifndef PI_DATADIR
#define PI_DATADIR "/usr/local/share/privacy-inbox"
#endif

/* Every key the file may hold; anything else is a typo and an error. */
static const char *const known_keys[] = {
	"imap.host", "imap.port", "imap.security", "imap.ca_file", "imap.user",
	"imap.password_file", "imap.mailbox", "imap.processed_mailbox",
	"imap.processed_action", "imap.processed_flag", "imap.poll_seconds",
	"imap.timeout_seconds", "imap.batch_size", "imap.sent_mailbox",
	"smtp.url", "smtp.security", "smtp.user", "smtp.password_file", "smtp.ca_file",
	"smtp.from", "smtp.charset", "smtp.timeout_seconds",
	"store.database", "store.spool",
	"templates.dir",
	"organization.name", "organization.contact", "organization.address",
	"organization.fee_bank_account",
	"parser.rules", "parser.max_message_bytes", "parser.max_parts", "parser.max_depth",
	"parser.max_attachment_bytes", "parser.signature_image_bytes",
	"policy.fee_yen", "policy.fee_types", "policy.auto_send", "policy.timezone",
	"policy.due_days", "policy.business_days", "policy.holidays_file", "policy.four_eyes",
	"policy.max_auto_replies_per_day", "policy.staff_address", "policy.digest_hour",
	"imap.auth", "imap.idle_seconds", "smtp.auth",
	"oauth2.token_url", "oauth2.client_id", "oauth2.client_secret_file",
	"oauth2.refresh_token_file", "oauth2.scope", "oauth2.refresh_margin_seconds",
	"daemon.lock_file", "daemon.alert_to", "daemon.alert_after_seconds",
	"daemon.backoff_max_seconds",
	"store.key_file", "policy.id_retention_days", "policy.message_retention_days",
	"web.listen", "web.cert_file", "web.key_file", "web.session_idle_minutes",
	"web.session_max_hours",
	NULL,
};

static gboolean
key_is_known(const char *group, const char *key)
{
	g_autofree char *base = g_strdup(key);
	char *bracket = strchr(base, '[');
	g_autofree char *full = NULL;

	/* Localized keys (name[en]) are only meaningful for the organization. */
	if (bracket != NULL) {
		if (strcmp(group, "organization") != 0)
			return FALSE;
		*bracket = '\0';
	}
	/* [due_days] holds one key per request type. */
	if (strcmp(group, "due_days") == 0)
		return bracket == NULL && request_type_is_valid(base);
	full = g_strdup_printf("%s.%s", group, base);
	return g_strv_contains(known_keys, full);
}

static gboolean
check_keys(GKeyFile *kf, const char *path, GError **error)
{
	g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);

	for (char **g = groups; *g; g++) {
		g_auto(GStrv) keys = g_key_file_get_keys(kf, *g, NULL, NULL);
		for (char **k = keys; k && *k; k++) {
			if (!key_is_known(*g, *k)) {
				g_set_error(error, CONFIG_ERROR, PI_ERROR_FATAL,
				            "%s: unknown setting [%s] %s", path, *g, *k);
				return FALSE;
			}
		}
	}
	return TRUE;
}

/* Resolve a relative path against the configuration file's folder. */
static char *
resolve_path(const char *base_dir, const char *value)
{
	if (value == NULL)
		return NULL;
	if (g_path_is_absolute(value) || base_dir == NULL)
		return g_strdup(value);
	return g_build_filename(base_dir, value, NULL);
}

static char *
get_string(GKeyFile *kf, const char *group, const char *key, const char *fallback)
{
	g_autofree char *v = g_key_file_get_string(kf, group, key, NULL);

	if (v == NULL)
		return g_strdup(fallback);
	g_strstrip(v);
	return g_steal_pointer(&v);
}

static gboolean
get_uint(GKeyFile *kf, const char *group, const char *key, guint64 fallback, guint64 max,
         guint64 *out, GError **error)
{
	g_autofree char *v = g_key_file_get_string(kf, group, key, NULL);
	guint64 n;

	if (v == NULL) {
		*out = fallback;
		return TRUE;
	}
	g_strstrip(v);
	if (!g_ascii_string_to_unsigned(v, 10, 0, max, &n, NULL)) {
		g_set_error(error, CONFIG_ERROR, PI_ERROR_FATAL,
		            "[%s] %s: expected a whole number up to %" G_GUINT64_FORMAT ", got \"%s\"",
		            group, key, max, v);
		return FALSE;
	}
	*out = n;
	return TRUE;
}

static gboolean
parse_security(const char *group, const char *value, security_t *out, GError **error)
{
	if (g_strcmp0(value, "tls") == 0)
		*out = SECURITY_TLS;
	else if (g_strcmp0(value, "starttls") == 0)
		*out = SECURITY_STARTTLS;
	else if (g_strcmp0(value, "none") == 0)
		*out = SECURITY_NONE;
	else {
		g_set_error(error, CONFIG_ERROR, PI_ERROR_FATAL,
		            "[%s] security: expected tls, starttls or none, got \"%s\"", group, value);
		return FALSE;
	}
	return TRUE;
}

static gboolean
parse_auth(GKeyFile *kf, const char *group, auth_method_t *out, GError **error)
{
	g_autofree char *value = get_string(kf, group, "auth", "password");

	if (g_strcmp0(value, "password") == 0)
		*out = AUTH_PASSWORD;
	else if (g_strcmp0(value, "xoauth2") == 0)
		*out = AUTH_XOAUTH2;
	else {
		g_set_error(error, CONFIG_ERROR, PI_ERROR_FATAL,
		            "[%s] auth: expected password or xoauth2, got \"%s\"", group, value);
		return FALSE;
	}
	return TRUE;
}

/* A secret from a file (first line) or, failing that, the environment. */
static gboolean
load_secret_key(GKeyFile *kf, const char *group, const char *key, const char *base_dir,
                const char *env_name, char **out, GError **error);

static gboolean
load_secret(GKeyFile *kf, const char *group, const char *base_dir, const char *env_name,
            char **out, GError **error)
{
	return load_secret_key(kf, group, "password_file", base_dir, env_name, out, error);
}

static gboolean
load_secret_key(GKeyFile *kf, const char *group, const char *key, const char *base_dir,
                const char *env_name, char **out, GError **error)
{
	g_autofree char *file = get_string(kf, group, key, NULL);
	g_autofree char *path = resolve_path(base_dir, file);
	g_autofree char *contents = NULL;
	g_autoptr(GError) local = NULL;
	char *nl;

	*out = NULL;
	if (path == NULL) {
		*out = g_strdup(g_getenv(env_name));
		return TRUE;
	}
	if (!g_file_get_contents(path, &contents, NULL, &local)) {
		g_set_error(error, CONFIG_ERROR, PI_ERROR_FATAL, "[%s] %s: %s", group, key,
		            local->message);
		return FALSE;
	}
	nl = strpbrk(contents, "\r\n");
	if (nl != NULL)
		*nl = '\0';
	*out = g_steal_pointer(&contents);
	return TRUE;
}

static const char *const default_fee_types[] = {"disclosure", "notification_of_purpose",
                                                "third_party_records", NULL};

static gboolean
load_imap(GKeyFile *kf, const char *dir, imap_config_t *imap, GError **error)
{
	g_autofree char *security = get_string(kf, "imap", "security", "tls");
	g_autofree char *action = get_string(kf, "imap", "processed_action", "move");
	g_autofree char *ca = get_string(kf, "imap", "ca_file", NULL);
	guint64 n;

	if (!parse_security("imap", security, &imap->security, error))
		return FALSE;
	imap->host = get_string(kf, "imap", "host", NULL);
	if (!get_uint(kf, "imap", "port", imap->security == SECURITY_TLS ? 993 : 143, 65535, &n,
	              error))
		return FALSE;
	imap->port = (guint16)n;
	imap->ca_file = resolve_path(dir, ca);
	imap->user = get_string(kf, "imap", "user", NULL);
	imap->mailbox = get_string(kf, "imap", "mailbox", "INBOX");
	imap->processed_mailbox = get_string(kf, "imap", "processed_mailbox", "Processed");
	imap->processed_flag = get_string(kf, "imap", "processed_flag", "$PrivacyInboxProcessed");
	if (g_strcmp0(action, "move") == 0)
		imap->processed_action = PROCESSED_MOVE;
	else if (g_strcmp0(action, "flag") == 0)
		imap->processed_action = PROCESSED_FLAG;
	else {
		g_set_error(error, CONFIG_ERROR, PI_ERROR_FATAL,
		            "[imap] processed_action: expected move or flag, got \"%s\"", action);
		return FALSE;
	}
	if (!get_uint(kf, "imap", "poll_seconds", 60, 86400, &n, error))
		return FALSE;
	imap->poll_seconds = MAX((guint)n, 1);
	if (!get_uint(kf, "imap", "timeout_seconds", 60, 3600, &n, error))
		return FALSE;
	imap->timeout_seconds = MAX((guint)n, 1);
	if (!get_uint(kf, "imap", "batch_size", 50, 10000, &n, error))
		return FALSE;
	imap->batch_size = MAX((guint)n, 1);
	imap->sent_mailbox = get_string(kf, "imap", "sent_mailbox", "Sent");
	if (*imap->sent_mailbox == '\0')
		g_clear_pointer(&imap->sent_mailbox, g_free);
	if (!get_uint(kf, "imap", "idle_seconds", 1680, 1740, &n, error))
		return FALSE;
	imap->idle_seconds = MAX((guint)n, 1);
	if (!parse_auth(kf, "imap", &imap->auth, error))
		return FALSE;
	return load_secret(kf, "imap", dir, "PRIVACY_INBOX_IMAP_PASSWORD", &imap->password, error);
}

static gboolean
load_smtp(GKeyFile *kf, const char *dir, smtp_config_t *smtp, GError **error)
{
	g_autofree char *ca = get_string(kf, "smtp", "ca_file", NULL);
	g_autofree char *security = NULL;
	guint64 n;

	smtp->url = get_string(kf, "smtp", "url", NULL);
	security = get_string(kf, "smtp", "security",
	                      smtp->url && g_str_has_prefix(smtp->url, "smtps://") ? "tls"
	                                                                           : "starttls");
	if (!parse_security("smtp", security, &smtp->security, error))
		return FALSE;
	if (smtp->url != NULL && !g_str_has_prefix(smtp->url, "smtp://") &&
	    !g_str_has_prefix(smtp->url, "smtps://")) {
		g_set_error(error, CONFIG_ERROR, PI_ERROR_FATAL,
		            "[smtp] url: expected smtp://HOST[:PORT] or smtps://HOST[:PORT], got \"%s\"",
		            smtp->url);
		return FALSE;
	}
	smtp->user = get_string(kf, "smtp", "user", NULL);
	smtp->ca_file = resolve_path(dir, ca);
	smtp->from = get_string(kf, "smtp", "from", NULL);
	smtp->charset = get_string(kf, "smtp", "charset", "utf-8");
	if (g_ascii_strcasecmp(smtp->charset, "utf-8") != 0 &&
	    g_ascii_strcasecmp(smtp->charset, "iso-2022-jp") != 0) {
		g_set_error(error, CONFIG_ERROR, PI_ERROR_FATAL,
		            "[smtp] charset: expected utf-8 or iso-2022-jp, got \"%s\"", smtp->charset);
		return FALSE;
	}
	if (!get_uint(kf, "smtp", "timeout_seconds", 60, 3600, &n, error))
		return FALSE;
	smtp->timeout_seconds = MAX((guint)n, 1);
	if (!parse_auth(kf, "smtp", &smtp->auth, error))
		return FALSE;
	return load_secret(kf, "smtp", dir, "PRIVACY_INBOX_SMTP_PASSWORD", &smtp->password, error);
}

static gboolean
load_parser(GKeyFile *kf, const char *dir, parser_config_t *parser, GError **error)
{
	g_autofree char *rules = get_string(kf, "parser", "rules", NULL);
	guint64 n;

	parser->rules_file = rules ? resolve_path(dir, rules)
	                           : g_build_filename(PI_DATADIR, "parser", "request-rules.ini", NULL);
	if (!get_uint(kf, "parser", "max_message_bytes", 200u << 20, G_MAXSIZE, &n, error))
		return FALSE;
	parser->max_message_bytes = (gsize)n;
	if (!get_uint(kf, "parser", "max_parts", 500, 100000, &n, error))
		return FALSE;
	parser->max_parts = (guint)n;
	if (!get_uint(kf, "parser", "max_depth", 20, 1000, &n, error))
		return FALSE;
	parser->max_depth = (guint)n;
	if (!get_uint(kf, "parser", "max_attachment_bytes", 100u << 20, G_MAXSIZE, &n, error))
		return FALSE;
	parser->max_attachment_bytes = (gsize)n;
	if (!get_uint(kf, "parser", "signature_image_bytes", 16384, G_MAXSIZE, &n, error))
		return FALSE;
	parser->signature_image_bytes = (gsize)n;
	return TRUE;
}

static char **
get_list(GKeyFile *kf, const char *group, const char *key, const char *const *fallback)
{
	gsize len = 0;
	g_auto(GStrv) list = g_key_file_get_string_list(kf, group, key, &len, NULL);
	GPtrArray *out;

	out = g_ptr_array_new();
	if (list == NULL) {
		for (const char *const *f = fallback; *f; f++)
			g_ptr_array_add(out, g_strdup(*f));
		g_ptr_array_add(out, NULL);
		return (char **)g_ptr_array_free(out, FALSE);
	}
	for (gsize i = 0; i < len; i++) {
		g_strstrip(list[i]);
		if (*list[i] != '\0')
			g_ptr_array_add(out, g_strdup(list[i]));
	}
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(out, FALSE);
}

static gboolean
get_bool(GKeyFile *kf, const char *group, const char *key, gboolean fallback, gboolean *out,
         GError **error)
{
	g_autofree char *v = get_string(kf, group, key, NULL);

	if (v == NULL)
		*out = fallback;
	else if (g_ascii_strcasecmp(v, "true") == 0 || g_ascii_strcasecmp(v, "yes") == 0)
		*out = TRUE;
	else if (g_ascii_strcasecmp(v, "false") == 0 || g_ascii_strcasecmp(v, "no") == 0)
		*out = FALSE;
	else {
		g_set_error(error, CONFIG_ERROR, PI_ERROR_FATAL,
		            "[%s] %s: expected true or false, got \"%s\"", group, key, v);
		return FALSE;
	}
	return TRUE;
}

GHashTable *
config_parse_holidays(const char *text, GError **error)
{
	g_autoptr(GHashTable) days = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	guint number = 0;

	for (char **l = lines; *l; l++) {
		char *line = g_strstrip(*l);
		int y, m, d;

		number++;
		if (*line == '\0' || *line == '#')
			continue;
		if (sscanf(line, "%4d-%2d-%2d", &y, &m, &d) != 3 || strlen(line) < 10 ||
		    line[4] != '-' || line[7] != '-' ||
		    (line[10] != '\0' && line[10] != ' ' && line[10] != '\t') ||
		    !g_date_valid_dmy((GDateDay)d, (GDateMonth)m, (GDateYear)y)) {
			g_set_error(error, CONFIG_ERROR, PI_ERROR_FATAL,
			            "%u: expected a date as YYYY-MM-DD, got \"%s\"", number, line);
			return NULL;
		}
		g_hash_table_add(days, g_strdup_printf("%04d-%02d-%02d", y, m, d));
	}
	return g_steal_pointer(&days);
}

/* The statutory clock: [policy] due_days, business_days, holidays_file and
 * the per-type [due_days] group. */
static gboolean
load_clock(GKeyFile *kf, const char *dir, policy_config_t *policy, GError **error)
{
	g_autofree char *holidays = get_string(kf, "policy", "holidays_file", NULL);
	g_auto(GStrv) types = g_key_file_get_keys(kf, "due_days", NULL, NULL);
	guint64 n;

	if (!get_uint(kf, "policy", "due_days", 14, 3650, &n, error))
		return FALSE;
	policy->due_days = MAX((guint)n, 1);
	policy->due_days_by_type = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	for (char **t = types; t && *t; t++) {
		if (!get_uint(kf, "due_days", *t, 14, 3650, &n, error))
			return FALSE;
		g_hash_table_insert(policy->due_days_by_type, g_strdup(*t),
		                    GUINT_TO_POINTER(MAX((guint)n, 1)));
	}
	if (!get_bool(kf, "policy", "business_days", FALSE, &policy->business_days, error))
		return FALSE;
	if (holidays != NULL) {
		g_autofree char *path = resolve_path(dir, holidays);
		g_autofree char *text = NULL;
		g_autoptr(GError) local = NULL;

		if (!g_file_get_contents(path, &text, NULL, &local) ||
		    (policy->holidays = config_parse_holidays(text, &local)) == NULL) {
			g_set_error(error, CONFIG_ERROR, PI_ERROR_FATAL, "[policy] holidays_file %s: %s",
			            path, local->message);
			return FALSE;
		}
	} else
		policy->holidays = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	return TRUE;
}

static gboolean
load_policy(GKeyFile *kf, policy_config_t *policy, GError **error)
{
	static const char *const none[] = {NULL};
	guint64 n;

	if (!get_uint(kf, "policy", "fee_yen", 1000, 1000000, &n, error))
		return FALSE;
	policy->fee_yen = (guint)n;
	policy->fee_types = get_list(kf, "policy", "fee_types", default_fee_types);
	policy->auto_send = get_list(kf, "policy", "auto_send", none);
	if (!get_bool(kf, "policy", "four_eyes", FALSE, &policy->four_eyes, error))
		return FALSE;
	if (!get_uint(kf, "policy", "max_auto_replies_per_day", 3, 1000, &n, error))
		return FALSE;
	policy->max_auto_replies_per_day = (guint)n;
	policy->staff_address = get_string(kf, "policy", "staff_address", NULL);
	if (!get_uint(kf, "policy", "digest_hour", 9, 23, &n, error))
		return FALSE;
	policy->digest_hour = (guint)n;
	{
		g_autofree char *tz = get_string(kf, "policy", "timezone", "Asia/Tokyo");
		policy->timezone = g_time_zone_new_identifier(tz);
		if (policy->timezone == NULL) {
			g_set_error(error, CONFIG_ERROR, PI_ERROR_FATAL,
			            "[policy] timezone: unknown time zone \"%s\"", tz);
			return FALSE;
		}
	}
	return TRUE;
}

/* Disposal: how long identity documents and raw messages are kept after a
 * ticket is closed or rejected. */
static gboolean
load_retention(GKeyFile *kf, policy_config_t *policy, GError **error)
{
	guint64 n;

	if (!get_uint(kf, "policy", "id_retention_days", 30, 36500, &n, error))
		return FALSE;
	policy->id_retention_days = (guint)n;
	if (!get_uint(kf, "policy", "message_retention_days", 365, 36500, &n, error))
		return FALSE;
	policy->message_retention_days = (guint)n;
	return TRUE;
}

static gboolean
load_oauth2(GKeyFile *kf, const char *dir, gboolean needed, oauth2_config_t *oauth2,
            GError **error)
{
	g_autofree char *refresh = get_string(kf, "oauth2", "refresh_token_file", NULL);
	guint64 n;

	oauth2->token_url = get_string(kf, "oauth2", "token_url", NULL);
	oauth2->client_id = get_string(kf, "oauth2", "client_id", NULL);
	oauth2->scope = get_string(kf, "oauth2", "scope", NULL);
	oauth2->refresh_token_file = resolve_path(dir, refresh);
	if (!get_uint(kf, "oauth2", "refresh_margin_seconds", 300, 86400, &n, error))
		return FALSE;
	oauth2->refresh_margin_seconds = (guint)n;
	if (oauth2->token_url != NULL && !g_str_has_prefix(oauth2->token_url, "https://") &&
	    !g_str_has_prefix(oauth2->token_url, "http://127.") &&
	    !g_str_has_prefix(oauth2->token_url, "http://localhost")) {
		g_set_error(error, CONFIG_ERROR, PI_ERROR_FATAL,
		            "[oauth2] token_url: expected https://… (plain http only on loopback), "
		            "got \"%s\"",
		            oauth2->token_url);
		return FALSE;
	}
	if (needed && (oauth2->token_url == NULL || oauth2->client_id == NULL ||
	               oauth2->refresh_token_file == NULL)) {
		g_set_error(error, CONFIG_ERROR, PI_ERROR_FATAL,
		            "auth = xoauth2 needs [oauth2] token_url, client_id and "
		            "refresh_token_file");
		return FALSE;
	}
	return load_secret_key(kf, "oauth2", "client_secret_file", dir,
	                       "PRIVACY_INBOX_OAUTH2_CLIENT_SECRET", &oauth2->client_secret, error);
}

static gboolean
load_daemon(GKeyFile *kf, const char *dir, const char *database, daemon_config_t *daemon,
            GError **error)
{
	static const char *const none[] = {NULL};
	g_autofree char *lock = get_string(kf, "daemon", "lock_file", NULL);
	guint64 n;

	daemon->lock_file = lock ? resolve_path(dir, lock) : g_strconcat(database, ".lock", NULL);
	daemon->alert_to = get_list(kf, "daemon", "alert_to", none);
	if (!get_uint(kf, "daemon", "alert_after_seconds", 900, 30 * 86400, &n, error))
		return FALSE;
	daemon->alert_after_seconds = MAX((guint)n, 1);
	if (!get_uint(kf, "daemon", "backoff_max_seconds", 300, 86400, &n, error))
		return FALSE;
	daemon->backoff_max_seconds = MAX((guint)n, 1);
	return TRUE;
}

static gboolean
load_web(GKeyFile *kf, const char *dir, web_config_t *web, GError **error)
{
	g_autofree char *cert = get_string(kf, "web", "cert_file", NULL);
	g_autofree char *key = get_string(kf, "web", "key_file", NULL);
	guint64 n;

	web->listen = get_string(kf, "web", "listen", "127.0.0.1:8025");
	web->cert_file = resolve_path(dir, cert);
	web->key_file = resolve_path(dir, key);
	if ((web->cert_file == NULL) != (web->key_file == NULL)) {
		g_set_error(error, CONFIG_ERROR, PI_ERROR_FATAL,
		            "[web] cert_file and key_file go together: set both for HTTPS, or neither");
		return FALSE;
	}
	if (!get_uint(kf, "web", "session_idle_minutes", 30, 7 * 24 * 60, &n, error))
		return FALSE;
	web->session_idle_minutes = MAX((guint)n, 1);
	if (!get_uint(kf, "web", "session_max_hours", 12, 30 * 24, &n, error))
		return FALSE;
	web->session_max_hours = MAX((guint)n, 1);
	return TRUE;
}

/* The English variant of a localized key (key[en]), or NULL when absent. */
static char *
get_english(GKeyFile *kf, const char *key)
{
	g_autofree char *localized = g_strdup_printf("%s[en]", key);

	if (!g_key_file_has_key(kf, "organization", localized, NULL))
		return NULL;
	return get_string(kf, "organization", localized, NULL);
}

static void
load_organization(GKeyFile *kf, organization_config_t *org)
{
	/* name = 株式会社… (Japanese, the default); name[en] = … */
	org->name_ja = get_string(kf, "organization", "name", "株式会社サンプル");
	org->contact_ja = get_string(kf, "organization", "contact", "個人情報保護窓口");
	org->address_ja = get_string(kf, "organization", "address", "");
	org->name_en = get_english(kf, "name");
	org->contact_en = get_english(kf, "contact");
	org->address_en = get_english(kf, "address");
	if (org->name_en == NULL)
		org->name_en = g_strdup(org->name_ja);
	if (org->contact_en == NULL)
		org->contact_en = g_strdup("Privacy Office");
	if (org->address_en == NULL)
		org->address_en = g_strdup(org->address_ja);
	org->fee_bank_account_ja = get_string(kf, "organization", "fee_bank_account", "");
	org->fee_bank_account_en = get_english(kf, "fee_bank_account");
	if (org->fee_bank_account_en == NULL)
		org->fee_bank_account_en = g_strdup(org->fee_bank_account_ja);
}

config_t *
config_load(const char *path, GError **error)
{
	g_autoptr(config_t) config = g_new0(config_t, 1);
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autofree char *dir = NULL;
	g_autofree char *db = NULL, *spool = NULL, *tdir = NULL;

	if (path != NULL) {
		g_autoptr(GError) local = NULL;
		struct stat st;

		config->path = g_canonicalize_filename(path, NULL);
		if (!g_key_file_load_from_file(kf, config->path, G_KEY_FILE_KEEP_TRANSLATIONS, &local)) {
			g_set_error(error, CONFIG_ERROR, PI_ERROR_FATAL, "cannot read configuration %s: %s",
			            path, local->message);
			return NULL;
		}
		if (!check_keys(kf, path, error))
			return NULL;
		if (stat(config->path, &st) == 0 && (st.st_mode & 0007) != 0)
			config->readable_by_others = TRUE;
		dir = g_path_get_dirname(config->path);
	}

	if (!load_imap(kf, dir, &config->imap, error) || !load_smtp(kf, dir, &config->smtp, error) ||
	    !load_parser(kf, dir, &config->parser, error) ||
	    !load_policy(kf, &config->policy, error) ||
	    !load_clock(kf, dir, &config->policy, error)) {
		if (config->path != NULL)
			g_prefix_error(error, "%s: ", config->path);
		return NULL;
	}
	load_organization(kf, &config->organization);

	db = get_string(kf, "store", "database", "/var/lib/privacy-inbox/privacy-inbox.db");
	spool = get_string(kf, "store", "spool", "/var/lib/privacy-inbox/spool");
	tdir = get_string(kf, "templates", "dir", PI_DATADIR "/templates");
	config->store.database = resolve_path(dir, db);
	config->store.spool = resolve_path(dir, spool);
	{
		g_autofree char *key = get_string(kf, "store", "key_file", NULL);
		g_autofree char *db_dir = g_path_get_dirname(config->store.database);
		config->store.key_file = key ? resolve_path(dir, key)
		                             : g_build_filename(db_dir, "spool.key", NULL);
	}
	if (!load_retention(kf, &config->policy, error)) {
		if (config->path != NULL)
			g_prefix_error(error, "%s: ", config->path);
		return NULL;
	}
	config->templates.dir = resolve_path(dir, tdir);
	if (!load_oauth2(kf, dir,
	                 config->imap.auth == AUTH_XOAUTH2 || config->smtp.auth == AUTH_XOAUTH2,
	                 &config->oauth2, error) ||
	    !load_daemon(kf, dir, config->store.database, &config->daemon, error) ||
	    !load_web(kf, dir, &config->web, error)) {
		if (config->path != NULL)
			g_prefix_error(error, "%s: ", config->path);
		return NULL;
	}
	return g_steal_pointer(&config);
}

void
config_free(config_t *config)
{
	if (config == NULL)
		return;
	g_free(config->path);
	g_free(config->imap.host);
	g_free(config->imap.ca_file);
	g_free(config->imap.user);
	if (config->imap.password != NULL)
		memset(config->imap.password, 0, strlen(config->imap.password));
	g_free(config->imap.password);
	g_free(config->imap.mailbox);
	g_free(config->imap.processed_mailbox);
	g_free(config->imap.processed_flag);
	g_free(config->imap.sent_mailbox);
	g_free(config->smtp.url);
	g_free(config->smtp.user);
	if (config->smtp.password != NULL)
		memset(config->smtp.password, 0, strlen(config->smtp.password));
	g_free(config->smtp.password);
	g_free(config->smtp.ca_file);
	g_free(config->smtp.from);
	g_free(config->smtp.charset);
	g_free(config->store.database);
	g_free(config->store.spool);
	g_free(config->store.key_file);
	g_free(config->templates.dir);
	g_free(config->organization.name_ja);
	g_free(config->organization.name_en);
	g_free(config->organization.contact_ja);
	g_free(config->organization.contact_en);
	g_free(config->organization.address_ja);
	g_free(config->organization.address_en);
	g_free(config->organization.fee_bank_account_ja);
	g_free(config->organization.fee_bank_account_en);
	g_free(config->parser.rules_file);
	g_strfreev(config->policy.fee_types);
	g_strfreev(config->policy.auto_send);
	g_clear_pointer(&config->policy.timezone, g_time_zone_unref);
	g_clear_pointer(&config->policy.due_days_by_type, g_hash_table_unref);
	g_clear_pointer(&config->policy.holidays, g_hash_table_unref);
	g_free(config->policy.staff_address);
	g_free(config->oauth2.token_url);
	g_free(config->oauth2.client_id);
	if (config->oauth2.client_secret != NULL)
		memset(config->oauth2.client_secret, 0, strlen(config->oauth2.client_secret));
	g_free(config->oauth2.client_secret);
	g_free(config->oauth2.refresh_token_file);
	g_free(config->oauth2.scope);
	g_free(config->daemon.lock_file);
	g_strfreev(config->daemon.alert_to);
	g_free(config->web.listen);
	g_free(config->web.cert_file);
	g_free(config->web.key_file);
	g_free(config);
}

gboolean
config_type_has_fee(const config_t *config, const char *request_type)
{
	return request_type != NULL &&
	       g_strv_contains((const char *const *)config->policy.fee_types, request_type);
}

gboolean
config_kind_auto_send(const config_t *config, const char *kind)
{
	return kind != NULL &&
	       g_strv_contains((const char *const *)config->policy.auto_send, kind);
}

static gboolean
is_en(const char *lang)
{
	return g_strcmp0(lang, "en") == 0;
}

const char *
config_org_name(const config_t *config, const char *lang)
{
	return is_en(lang) ? config->organization.name_en : config->organization.name_ja;
}

const char *
config_org_contact(const config_t *config, const char *lang)
{
	return is_en(lang) ? config->organization.contact_en : config->organization.contact_ja;
}

const char *
config_org_address(const config_t *config, const char *lang)
{
	return is_en(lang) ? config->organization.address_en : config->organization.address_ja;
}

const char *
config_org_fee_bank_account(const config_t *config, const char *lang)
{
	return is_en(lang) ? config->organization.fee_bank_account_en
	                   : config->organization.fee_bank_account_ja;
}

guint
config_due_days(const config_t *config, const char *type)
{
	gpointer days = type ? g_hash_table_lookup(config->policy.due_days_by_type, type) : NULL;

	return days ? GPOINTER_TO_UINT(days) : config->policy.due_days;
}
