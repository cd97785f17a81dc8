/* config.h — the immutable configuration, read once from an INI file with
 * GKeyFile.  Only the command layer calls config_load(); modules receive the
 * part they need (a const pointer, borrowed for the life of the config).
 *
 * Every key, with its default, is documented in README.md ("Configuration").
 * Relative paths are resolved against the folder of the configuration file.
 * Secrets never come from the command line: `password_file` names a file
 * whose first line is the secret, or the environment supplies it
 * (PRIVACY_INBOX_IMAP_PASSWORD, PRIVACY_INBOX_SMTP_PASSWORD).
 */
#pragma once

#include "common/common.h"

#define CONFIG_ERROR (config_error_quark())
GQuark config_error_quark(void);

typedef enum {
	SECURITY_TLS,      /* implicit TLS (imaps, port 993) */
	SECURITY_STARTTLS, /* plain connect, then STARTTLS (required) */
	SECURITY_NONE,     /* plain text: only when configured explicitly */
} security_t;

/* How we prove who we are to the IMAP or SMTP server. */
typedef enum {
	AUTH_PASSWORD, /* LOGIN / AUTH PLAIN with password_file */
	AUTH_XOAUTH2,  /* SASL XOAUTH2 with an access token from [oauth2] */
} auth_method_t;

typedef enum {
	PROCESSED_MOVE, /* MOVE (or COPY + \Deleted + UID EXPUNGE) to processed_mailbox */
	PROCESSED_FLAG, /* only set processed_flag on the message */
} processed_action_t;

typedef struct {
	char *host;
	guint16 port;
	security_t security;
	char *ca_file; /* NULL: the system trust store */
	char *user;
	char *password; /* from password_file or the environment; NULL if none */
	char *mailbox;
	char *processed_mailbox;
	processed_action_t processed_action;
	char *processed_flag;
	guint poll_seconds;
	guint timeout_seconds;
	guint batch_size; /* messages fetched per UID FETCH */
	auth_method_t auth;
	guint idle_seconds; /* IDLE is re-issued after this long (RFC 2177: under 29 min) */
	char *sent_mailbox; /* copies of sent replies are appended here; NULL: none */
} imap_config_t;

typedef struct {
	char *url; /* smtp://host:port, smtps://host:port */
	security_t security; /* derived: smtps → TLS; smtp → STARTTLS unless starttls = no */
	char *user;
	char *password;
	char *ca_file;
	char *from; /* "Name <addr>" or addr */
	char *charset; /* "utf-8" or "iso-2022-jp" */
	guint timeout_seconds;
	auth_method_t auth;
} smtp_config_t;

/* The OAuth2 client used when [imap] or [smtp] auth = xoauth2: access tokens
 * come from TOKEN_URL (grant_type=refresh_token); the refresh token lives in
 * REFRESH_TOKEN_FILE, replaced atomically when the provider rotates it. */
typedef struct {
	char *token_url;
	char *client_id;
	char *client_secret; /* from client_secret_file or the environment; may be NULL */
	char *refresh_token_file;
	char *scope; /* NULL: none sent */
	guint refresh_margin_seconds; /* refresh this long before expiry */
} oauth2_config_t;

/* `privacy-inbox run`: the single-instance lock and the alerts. */
typedef struct {
	char *lock_file;
	char **alert_to; /* admin addresses; empty: alerts are only logged */
	guint alert_after_seconds; /* failed/stalled this long → alert */
	guint backoff_max_seconds; /* reconnect delay cap */
} daemon_config_t;

/* `privacy-inbox serve`: the staff web console. */
typedef struct {
	char *listen;       /* ADDR:PORT; default 127.0.0.1:8025 */
	char *cert_file;    /* PEM certificate (chain) for HTTPS; NULL: plain HTTP (loopback only) */
	char *key_file;     /* its PEM private key */
	guint session_idle_minutes; /* a session unused this long ends */
	guint session_max_hours;    /* and every session ends this long after sign-in */
} web_config_t;

typedef struct {
	char *database;
	char *spool;
	char *key_file; /* the spool key (0600); default spool.key beside the database */
} store_config_t;

typedef struct {
	char *dir; /* catalogue folder: DIR/ja/KIND.tmpl, DIR/en/KIND.tmpl */
} templates_config_t;

typedef struct {
	/* Localized with GKeyFile's key[lang] syntax: name = …, name[en] = … */
	char *name_ja, *name_en;
	char *contact_ja, *contact_en;
	char *address_ja, *address_en;
	/* Where the fee may be transferred (one line); empty: postal money orders only. */
	char *fee_bank_account_ja, *fee_bank_account_en;
} organization_config_t;

typedef struct {
	char *rules_file; /* request-type rules (INI) */
	gsize max_message_bytes;
	guint max_parts;
	guint max_depth;
	gsize max_attachment_bytes;
	gsize signature_image_bytes; /* inline images below this are signature art */
} parser_config_t;

typedef struct {
	guint fee_yen;
	char **fee_types; /* request types that carry the fee */
	char **auto_send; /* draft kinds sent without approval; empty by default */
	GTimeZone *timezone; /* dates in replies and day boundaries (Asia/Tokyo) */
	/* The statutory clock (router/clock.h). */
	guint due_days;                 /* default allowance, calendar or business days */
	GHashTable *due_days_by_type;   /* request type → days, from [due_days] */
	gboolean business_days;
	GHashTable *holidays;           /* "YYYY-MM-DD" set from holidays_file; may be empty */
	gboolean four_eyes;             /* who edited a draft may not approve it */
	guint max_auto_replies_per_day; /* per address, drafted without a person */
	char *staff_address;            /* the daily digest goes here; NULL: none */
	guint digest_hour;              /* local hour the digest is sent (0–23) */
	/* Disposal (store/purge.c): days after a ticket is closed or rejected. */
	guint id_retention_days;        /* identity documents (and raw mail carrying them) */
	guint message_retention_days;   /* the other raw messages */
} policy_config_t;

typedef struct {
	char *path; /* the file read, absolute; NULL for built-in defaults */
	gboolean readable_by_others;
	imap_config_t imap;
	smtp_config_t smtp;
	store_config_t store;
	templates_config_t templates;
	organization_config_t organization;
	parser_config_t parser;
	policy_config_t policy;
	oauth2_config_t oauth2;
	daemon_config_t daemon;
	web_config_t web;
} config_t;

/* Read PATH (NULL: built-in defaults only).  Unknown groups or keys are an
 * error, so a typo never silently falls back to a default.
 * Caller frees with config_free(). */
config_t *config_load(const char *path, GError **error);
void config_free(config_t *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(config_t, config_free)

/* The clock's allowance in days for a request of TYPE. */
guint config_due_days(const config_t *config, const char *type);

/* Parse a holidays file: one YYYY-MM-DD per line, "#" comments and blank
 * lines allowed, a name may follow the date.  Returns a set of "YYYY-MM-DD"
 * strings (caller unrefs), or NULL with "LINE: message". */
GHashTable *config_parse_holidays(const char *text, GError **error);

/* Does the policy charge the fee for this request type? */
gboolean config_type_has_fee(const config_t *config, const char *request_type);
/* May drafts of this kind be sent without staff approval? */
gboolean config_kind_auto_send(const config_t *config, const char *kind);

/* The organization's name/contact/address in LANG ("ja" or "en"); borrowed. */
const char *config_org_name(const config_t *config, const char *lang);
const char *config_org_contact(const config_t *config, const char *lang);
const char *config_org_address(const config_t *config, const char *lang);
const char *config_org_fee_bank_account(const config_t *config, const char *lang);
