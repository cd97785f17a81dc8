/* cmd_status.c — `privacy-inbox status [--json]`: is the daemon working?
 * Whether it runs (the lock's holder), its connection, the last successful
 * poll, the backlog (messages on the server vs recorded here), the outbox,
 * the last error, the OAuth2 token's expiry and the open alerts.  It reads
 * what `run` records in the store; it never talks to a server. */
#include "cli/daemon.h"

static const char *
get(GHashTable *state, const char *key)
{
	return g_hash_table_lookup(state, key);
}

static gint64
get_int(GHashTable *state, const char *key)
{
	const char *v = get(state, key);

	return v ? g_ascii_strtoll(v, NULL, 10) : -1;
}

static void
add_int_or_null(JsonBuilder *b, const char *member, gint64 value)
{
	json_builder_set_member_name(b, member);
	if (value < 0)
		json_builder_add_null_value(b);
	else
		json_builder_add_int_value(b, value);
}

int
cmd_status(cli_t *cli, int argc, char **argv)
{
	gboolean json = FALSE;
	const GOptionEntry entries[] = {
	    {"json", 0, 0, G_OPTION_ARG_NONE, &json, "print JSON", NULL},
	    G_OPTION_ENTRY_NULL,
	};
	g_autoptr(GError) error = NULL;
	g_autoptr(store_t) store = NULL;
	g_autoptr(GHashTable) state = NULL;
	g_autoptr(GPtrArray) alerts = NULL;
	g_autoptr(GArray) pending = NULL;
	g_autofree char *oldest = NULL;
	const config_t *config;
	const char *mailbox;
	guint outbox = 0;
	gint64 processed, uidvalidity;
	pid_t holder;

	if (!cli_parse_options("status", "[--json]",
	                       "Show whether the daemon is working: connection, last successful "
	                       "poll, backlog, outbox, last error, token expiry, open alerts.",
	                       entries, &argc, &argv))
		return EXIT_USAGE;
	if (argc > 1)
		return cli_usage("status", "unexpected argument \"%s\"", argv[1]);
	if ((config = cli_config(cli, &error)) == NULL ||
	    (store = cli_open_store(cli, &error)) == NULL)
		return cli_fail(error);
	holder = cli_lock_holder(config->daemon.lock_file);
	if ((state = store_daemon_state(store, &error)) == NULL ||
	    (alerts = store_alerts_open(store, &error)) == NULL ||
	    !store_outbox_summary(store, &outbox, &oldest, &error))
		return cli_fail(error);
	mailbox = get(state, STATE_MAILBOX) ? get(state, STATE_MAILBOX) : config->imap.mailbox;
	if ((processed = store_mailbox_message_count(store, mailbox, &error)) < 0)
		return cli_fail(error);
	uidvalidity = get_int(state, STATE_UIDVALIDITY);
	pending = store_server_pending(store, mailbox, uidvalidity > 0 ? (guint32)uidvalidity : 0,
	                               &error);
	if (pending == NULL)
		return cli_fail(error);

	if (json) {
		g_autoptr(JsonBuilder) b = json_builder_new();
		g_autoptr(JsonNode) root = NULL;

		json_builder_begin_object(b);
		json_builder_set_member_name(b, "running");
		json_builder_add_boolean_value(b, holder > 0);
		add_int_or_null(b, "pid", holder > 0 ? holder : -1);
		pi_json_add_string(b, "started_at", get(state, STATE_STARTED));
		pi_json_add_string(b, "connection",
		                   holder > 0 ? get(state, STATE_CONNECTION) : "stopped");
		pi_json_add_string(b, "push", get(state, STATE_PUSH));
		pi_json_add_string(b, "server", get(state, STATE_SERVER));
		pi_json_add_string(b, "mailbox", mailbox);
		pi_json_add_string(b, "last_poll_ok", get(state, STATE_LAST_POLL_OK));
		pi_json_add_string(b, "outage_since", get(state, STATE_OUTAGE_SINCE));
		pi_json_add_string(b, "last_error", get(state, STATE_LAST_ERROR));
		pi_json_add_string(b, "last_error_at", get(state, STATE_LAST_ERROR_AT));
		json_builder_set_member_name(b, "backlog");
		json_builder_begin_object(b);
		add_int_or_null(b, "server_messages", get_int(state, STATE_SERVER_MESSAGES));
		add_int_or_null(b, "server_unprocessed", get_int(state, STATE_SERVER_UNPROCESSED));
		add_int_or_null(b, "processed", processed);
		add_int_or_null(b, "pending_server_updates", pending->len);
		add_int_or_null(b, "last_uid", get_int(state, STATE_LAST_UID));
		add_int_or_null(b, "uidvalidity", uidvalidity);
		json_builder_end_object(b);
		json_builder_set_member_name(b, "outbox");
		json_builder_begin_object(b);
		add_int_or_null(b, "count", outbox);
		pi_json_add_string(b, "oldest", oldest);
		json_builder_end_object(b);
		pi_json_add_string(b, "token_expires_at", get(state, STATE_TOKEN_EXPIRES));
		json_builder_set_member_name(b, "alerts");
		json_builder_begin_array(b);
		for (guint i = 0; i < alerts->len; i++) {
			const store_alert_t *a = g_ptr_array_index(alerts, i);

			json_builder_begin_object(b);
			pi_json_add_string(b, "kind", a->kind);
			pi_json_add_string(b, "detail", a->detail);
			pi_json_add_string(b, "opened_at", a->opened_at);
			pi_json_add_string(b, "notified_at", a->notified_at);
			json_builder_end_object(b);
		}
		json_builder_end_array(b);
		json_builder_end_object(b);
		root = json_builder_get_root(b);
		cli_print_json(root, FALSE);
		return EXIT_OK;
	}

	if (holder > 0)
		g_print("daemon:        running (pid %d) since %s\n", (int)holder,
		        get(state, STATE_STARTED) ? get(state, STATE_STARTED) : "?");
	else
		g_print("daemon:        not running\n");
	g_print("connection:    %s%s%s\n",
	        holder > 0 && get(state, STATE_CONNECTION) ? get(state, STATE_CONNECTION)
	                                                   : "stopped",
	        get(state, STATE_PUSH) ? ", " : "",
	        get(state, STATE_PUSH)
	            ? (g_strcmp0(get(state, STATE_PUSH), "idle") == 0 ? "IMAP IDLE" : "polling")
	            : "");
	g_print("mailbox:       %s on %s\n", mailbox,
	        get(state, STATE_SERVER) ? get(state, STATE_SERVER) : "?");
	g_print("last poll OK:  %s\n",
	        get(state, STATE_LAST_POLL_OK) ? get(state, STATE_LAST_POLL_OK) : "never");
	if (get(state, STATE_OUTAGE_SINCE))
		g_print("failing since: %s\n", get(state, STATE_OUTAGE_SINCE));
	g_print("backlog:       %" G_GINT64_FORMAT " on the server, %" G_GINT64_FORMAT
	        " of them new at the last poll; %" G_GINT64_FORMAT " recorded here; %u server "
	        "updates pending\n",
	        MAX(get_int(state, STATE_SERVER_MESSAGES), 0),
	        MAX(get_int(state, STATE_SERVER_UNPROCESSED), 0), processed, pending->len);
	g_print("outbox:        %u waiting%s%s\n", outbox, oldest ? ", oldest approved " : "",
	        oldest ? oldest : "");
	g_print("last error:    %s%s%s\n",
	        get(state, STATE_LAST_ERROR) ? get(state, STATE_LAST_ERROR) : "none",
	        get(state, STATE_LAST_ERROR_AT) ? " at " : "",
	        get(state, STATE_LAST_ERROR_AT) ? get(state, STATE_LAST_ERROR_AT) : "");
	if (get(state, STATE_TOKEN_EXPIRES))
		g_print("OAuth2 token:  expires %s\n", get(state, STATE_TOKEN_EXPIRES));
	if (alerts->len == 0)
		g_print("alerts:        none\n");
	for (guint i = 0; i < alerts->len; i++) {
		const store_alert_t *a = g_ptr_array_index(alerts, i);

		g_print("ALERT %s since %s: %s\n", a->kind, a->opened_at, a->detail);
	}
	return EXIT_OK;
}
