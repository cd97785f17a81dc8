/* alerts.c — telling the admins: one mail when an incident opens, one when
 * it is over, to every [daemon] alert_to address, sent through sender/.
 * The text comes from the catalogue's "alert" template (admins own its
 * wording), or, when the catalogue has none, a built-in English/Japanese
 * one; either names the incident, what went wrong (error text, never
 * message contents) and the command to look closer.  Incidents live in the store (store_alert_*),
 * so a restart neither repeats a notice nor forgets one. */
#include "cli/daemon.h"

#include "sender/sender.h"

#include <string.h>

static const char *
kind_title(const char *kind, gboolean recovery)
{
	if (g_strcmp0(kind, ALERT_INGESTION) == 0)
		return recovery ? "mail ingestion works again" : "mail ingestion has stopped";
	if (g_strcmp0(kind, ALERT_MISMATCH) == 0)
		return recovery ? "server and store agree again"
		                : "the mail server and the store disagree";
	if (g_strcmp0(kind, ALERT_AUTH) == 0)
		return recovery ? "authentication works again"
		                : "authentication is failing or about to fail";
	if (g_strcmp0(kind, "templates") == 0)
		return recovery ? "the reply templates load again"
		                : "the reply templates on disk have errors";
	return kind;
}

static const char *
kind_title_ja(const char *kind, gboolean recovery)
{
	if (g_strcmp0(kind, ALERT_INGESTION) == 0)
		return recovery ? "メールの取り込みが復旧しました"
		                : "メールの取り込みが止まっています";
	if (g_strcmp0(kind, ALERT_MISMATCH) == 0)
		return recovery ? "サーバーと記録の食い違いは解消しました"
		                : "メールサーバーと記録が食い違っています";
	if (g_strcmp0(kind, ALERT_AUTH) == 0)
		return recovery ? "認証が復旧しました" : "認証に失敗しているか、まもなく失敗します";
	if (g_strcmp0(kind, "templates") == 0)
		return recovery ? "返信テンプレートが読み込めるようになりました"
		                : "返信テンプレートに誤りがあります";
	return kind;
}

void
alerts_raise(store_t *store, const char *kind, const char *detail)
{
	g_autoptr(GError) error = NULL;
	gboolean created = FALSE;

	if (store_alert_open(store, kind, detail, &created, &error) == 0) {
		g_warning("cannot record the %s alert: %s", kind, error->message);
		return;
	}
	if (created)
		g_warning("ALERT %s: %s: %s", kind, kind_title(kind, FALSE), detail);
}

void
alerts_clear(store_t *store, const char *kind)
{
	g_autoptr(GError) error = NULL;
	gboolean resolved = FALSE;

	if (!store_alert_resolve(store, kind, &resolved, &error))
		g_warning("cannot resolve the %s alert: %s", kind, error->message);
	else if (resolved)
		g_message("ALERT %s resolved: %s", kind, kind_title(kind, TRUE));
}

static char *
notice_body(const config_t *config, const store_alert_t *a, gboolean recovery)
{
	GString *b = g_string_new(NULL);
	const char *host = config->imap.host ? config->imap.host : "(not set)";

	g_string_append_printf(b, "privacy-inbox on %s: %s.\n", g_get_host_name(),
	                       kind_title(a->kind, recovery));
	g_string_append_printf(b, "%s。\n\n", kind_title_ja(a->kind, recovery));
	g_string_append_printf(b, "Mailbox:  %s on %s (user %s)\n", config->imap.mailbox, host,
	                       config->imap.user ? config->imap.user : "-");
	g_string_append_printf(b, "Incident: %s, since %s\n", a->kind, a->opened_at);
	if (recovery && a->resolved_at != NULL)
		g_string_append_printf(b, "Resolved: %s\n", a->resolved_at);
	g_string_append_printf(b, "Detail:   %s\n\n", a->detail);
	g_string_append(b, recovery ? "Nothing to do; this closes the incident.\n"
	                            : "One notice per incident: another mail follows when it is "
	                              "over.\nLook closer with: privacy-inbox status\n");
	return g_string_free(b, FALSE);
}

/* The notice from the catalogue's "alert" template (admins own its wording),
 * or NULL when the catalogue has none or it cannot be rendered. */
static catalogue_rendering_t *
render_notice(pipeline_t *p, const config_t *config, const store_alert_t *a, gboolean recovery)
{
	catalogue_t *catalogue = pipeline_catalogue(p);
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autoptr(JsonNode) context = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *detail =
	    g_strdup_printf("%s: %s", kind_title(a->kind, recovery), a->detail);
	g_autoptr(GDateTime) now = pi_now();
	g_autoptr(GDateTime) local = g_date_time_to_timezone(now, config->policy.timezone);
	g_autofree char *today = g_date_time_format(local, "%Y-%m-%d");
	catalogue_rendering_t *rendering;

	if (catalogue == NULL || catalogue_kind_find("alert") == NULL ||
	    !catalogue_has(catalogue, "alert", "ja"))
		return NULL;
	json_builder_begin_object(b);
	pi_json_add_string(b, "today", today);
	pi_json_add_string(b, "org_name", config_org_name(config, "ja"));
	pi_json_add_string(b, "org_contact", config_org_contact(config, "ja"));
	pi_json_add_string(b, "alert_kind", a->kind);
	pi_json_add_string(b, "alert_detail", detail);
	pi_json_add_string(b, "alert_since", a->opened_at);
	json_builder_set_member_name(b, "recovered");
	json_builder_add_boolean_value(b, recovery);
	pi_json_add_string(b, "host", g_get_host_name());
	pi_json_add_string(b, "mailbox", config->imap.mailbox);
	json_builder_end_object(b);
	context = json_builder_get_root(b);
	rendering = catalogue_render(catalogue, "alert", "ja", context, &error);
	if (rendering == NULL)
		g_warning("alert template: %s (sending the built-in text)", error->message);
	return rendering;
}

/* Send one notice to every admin; FALSE (logged) when a send failed. */
static gboolean
send_notice(pipeline_t *p, const config_t *config, const store_alert_t *a, gboolean recovery)
{
	catalogue_rendering_t *rendering = render_notice(p, config, a, recovery);
	g_autofree char *subject =
	    rendering
	        ? g_strdup(rendering->subject)
	        : g_strdup_printf("%s privacy-inbox: %s: %s", recovery ? "[recovered]" : "[alert]",
	                          a->kind, kind_title(a->kind, recovery));
	g_autofree char *body =
	    rendering ? g_strdup(rendering->body) : notice_body(config, a, recovery);

	g_clear_pointer(&rendering, catalogue_rendering_free);

	for (char **to = config->daemon.alert_to; *to != NULL; to++) {
		g_autofree char *message_id = sender_new_message_id(config->smtp.from);
		g_autoptr(GMimeMessage) message = NULL;
		g_autoptr(GError) error = NULL;
		sender_mail_t mail = {0};

		mail.to_address = *to;
		mail.subject = subject;
		mail.body = body;
		mail.message_id = message_id;
		message = sender_build(&config->smtp, &mail, &error);
		if (message == NULL || !pipeline_send_message(p, message, *to, &error)) {
			g_warning("alert notice (%s) to %s not sent, will retry: %s", a->kind, *to,
			          error->message);
			return FALSE;
		}
	}
	g_message("alert notice sent (%s%s) to %u address(es)", a->kind,
	          recovery ? ", recovered" : "", g_strv_length(config->daemon.alert_to));
	return TRUE;
}

void
alerts_notify(pipeline_t *p, const config_t *config)
{
	store_t *store = pipeline_store(p);
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) due = store_alerts_unnotified(store, &error);
	gboolean can_mail = config->daemon.alert_to[0] != NULL && config->smtp.url != NULL &&
	                    config->smtp.from != NULL;

	if (due == NULL) {
		g_warning("cannot read alerts: %s", error->message);
		return;
	}
	for (guint i = 0; i < due->len; i++) {
		const store_alert_t *a = g_ptr_array_index(due, i);
		gboolean recovery = a->notified_at != NULL;

		if (!can_mail) {
			/* Logged when it opened; nowhere else to say it. */
			g_debug("alert %s: no [daemon] alert_to or [smtp]: logged only", a->kind);
		} else if (!send_notice(p, config, a, recovery)) {
			return; /* the SMTP server is unwell: the rest waits too */
		}
		if (!store_alert_notified(store, a->id, recovery, &error)) {
			g_warning("cannot record an alert notice: %s", error->message);
			return;
		}
	}
}
