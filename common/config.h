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
} smtp_config_t;

typedef struct {
	char *database;
	char *spool;
} store_config_t;

typedef struct {
	char *dir; /* catalogue folder: DIR/ja/KIND.tmpl, DIR/en/KIND.tmpl */
} templates_config_t;

typedef struct {
	/* Localized with GKeyFile's key[lang] syntax: name = …, name[en] = … */
	char *name_ja, *name_en;
	char *contact_ja, *contact_en;
	char *address_ja, *address_en;
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
} config_t;

/* Read PATH (NULL: built-in defaults only).  Unknown groups or keys are an
 * error, so a typo never silently falls back to a default.
 * Caller frees with config_free(). */
config_t *config_load(const char *path, GError **error);
void config_free(config_t *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(config_t, config_free)

/* Does the policy charge the fee for this request type? */
gboolean config_type_has_fee(const config_t *config, const char *request_type);
/* May drafts of this kind be sent without staff approval? */
gboolean config_kind_auto_send(const config_t *config, const char *kind);

/* The organization's name/contact/address in LANG ("ja" or "en"); borrowed. */
const char *config_org_name(const config_t *config, const char *lang);
const char *config_org_contact(const config_t *config, const char *lang);
const char *config_org_address(const config_t *config, const char *lang);
