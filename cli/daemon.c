/* daemon.c — `privacy-inbox run`: the fetcher people can forget about.
 *
 *   lock ─▶ connect ─▶ sync (pipeline_sync) ─▶ send outbox ─▶ alerts ─▶ wait ─┐
 *              ▲                                                             │
 *              └──── backoff (1 s, 2 s, 4 s… capped, jittered) ◀── error ◀───┘
 *
 * Waiting is IMAP IDLE when the server has it (re-issued every
 * poll_seconds, or idle_seconds if shorter: always under RFC 2177's 29
 * minutes, and approved replies go out within poll_seconds), else a pause
 * of poll_seconds and a NOOP.  Any error drops the connection and retries with
 * exponential backoff and jitter: one log line when an outage starts, one
 * when it ends, and an alert when it lasts longer than
 * daemon.alert_after_seconds.  Nothing is ever fatal while running: a wrong
 * password or a missing mailbox is retried at the capped delay (and alerted),
 * so fixing the server or the configuration (SIGHUP) is enough.
 *
 * Once a day (checked after each pass) the daemon also destroys what
 * retention says is due (`privacy-inbox purge`, audited as the daemon) and
 * sends the staff digest at [policy] digest_hour.
 *
 * Signals: SIGTERM/SIGINT finish the current message and exit 0; SIGHUP
 * reloads the configuration and the templates (a configuration with errors
 * is refused and the running one kept).  All three write to a self-pipe so
 * an IDLE or a backoff pause ends at once.  With Type=notify, systemd is
 * told READY=1 once the pipeline is open and STOPPING=1 on the way out.
 */
#include "cli/daemon.h"

#include "cli/digest.h"
#include "sender/sender.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

typedef struct {
	cli_t *cli;
	pipeline_t *p;
	credentials_t *credentials;
	fetcher_t *f;
	gboolean push;       /* the server has IDLE */
	guint failures;      /* consecutive */
	gint64 outage_since; /* real time, µs; 0 when connected */
	char *last_error;
	gint64 mismatch_since;
	char *last_state;
} daemon_t;

static int wake_pipe[2] = {-1, -1};
static volatile sig_atomic_t reload_requested;

static void
on_signal(int signum)
{
	int saved = errno;

	if (signum == SIGHUP)
		reload_requested = 1;
	else
		cli_stop_requested = 1;
	if (wake_pipe[1] >= 0 && write(wake_pipe[1], "x", 1) < 0) {
		/* full: a wake-up is already pending */
	}
	errno = saved;
}

static gboolean
install_signals(GError **error)
{
	struct sigaction sa;

	if (wake_pipe[0] < 0 && pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "pipe: %s",
		            g_strerror(errno));
		return FALSE;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: waits end at once; reads in the middle of a message
	 * are retried by the fetcher's stream guard. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return TRUE;
}

static void
drain_wake(void)
{
	char buf[64];

	while (read(wake_pipe[0], buf, sizeof(buf)) > 0)
		;
}

/* Sleep SECONDS, or until a signal arrives. */
static void
pause_for(double seconds)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)(seconds * G_USEC_PER_SEC);
	struct pollfd pfd = {.fd = wake_pipe[0], .events = POLLIN};

	while (!cli_stop_requested && !reload_requested) {
		gint64 left_ms = (deadline - g_get_monotonic_time()) / 1000;

		if (left_ms <= 0)
			break;
		if (poll(&pfd, 1, (int)MIN(left_ms, G_MAXINT)) > 0)
			drain_wake();
	}
}

/* sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET. */
static void
notify_systemd(const char *state)
{
	const char *path = g_getenv("NOTIFY_SOCKET");
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	gsize len;
	int fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@') ||
	    (len = strlen(path)) >= sizeof(addr.sun_path))
		return;
	memcpy(addr.sun_path, path, len);
	if (path[0] == '@')
		addr.sun_path[0] = '\0'; /* abstract namespace */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&addr,
	           (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0)
		g_debug("sd_notify %s: %s", state, g_strerror(errno));
	close(fd);
}

static char *
iso8601(gint64 unix_usec)
{
	g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(unix_usec / G_USEC_PER_SEC);

	return t ? g_date_time_format(t, "%Y-%m-%dT%H:%M:%SZ") : NULL;
}

static const config_t *
config_of(daemon_t *d)
{
	return cli_config(d->cli, NULL);
}

/* Record KEY, VALUE… (NULL-terminated) for `status`; failures are logged. */
static void record(daemon_t *d, ...) G_GNUC_NULL_TERMINATED;

static void
record(daemon_t *d, ...)
{
	g_autoptr(GPtrArray) pairs = g_ptr_array_new();
	g_autoptr(GError) error = NULL;
	const char *key;
	va_list args;

	va_start(args, d);
	while ((key = va_arg(args, const char *)) != NULL) {
		g_ptr_array_add(pairs, (gpointer)(guintptr)key);
		g_ptr_array_add(pairs, va_arg(args, char *));
	}
	va_end(args);
	g_ptr_array_add(pairs, NULL);
	if (!store_daemon_set_many(pipeline_store(d->p), (const char *const *)pairs->pdata, &error))
		g_debug("cannot record daemon state: %s", error->message);
}

static void
record_connection(daemon_t *d, const char *state)
{
	if (g_strcmp0(d->last_state, state) == 0)
		return;
	g_free(d->last_state);
	d->last_state = g_strdup(state);
	record(d, STATE_CONNECTION, state, NULL);
}

static void
record_token(daemon_t *d)
{
	gint64 expires = credentials_expires_at(d->credentials);
	g_autofree char *text = expires > 0 ? iso8601(expires * G_USEC_PER_SEC) : NULL;

	if (text != NULL)
		record(d, STATE_TOKEN_EXPIRES, text, NULL);
}

/* Exponential backoff with jitter: 1, 2, 4… s up to the cap, each drawn
 * uniformly from its upper half so restarted clients spread out. */
static double
backoff_seconds(guint failures, guint cap)
{
	double ceiling = MIN((double)cap, (double)(1u << MIN(failures - 1, 20u)));

	return ceiling / 2 + g_random_double() * ceiling / 2;
}

static gboolean
is_auth_error(const GError *error)
{
	/* A refused login or token, or any trouble getting a token. */
	return error->domain == SENDER_ERROR ||
	       g_error_matches(error, FETCHER_ERROR, PI_ERROR_AUTH);
}

static void
failed(daemon_t *d, GError *error)
{
	const config_t *config = config_of(d);
	gint64 now = g_get_real_time();
	g_autofree char *now_text = iso8601(now);
	g_autofree char *since_text = NULL;
	double delay;

	g_clear_pointer(&d->f, fetcher_free);
	d->failures++;
	if (d->failures == 1) {
		d->outage_since = now;
		g_warning("mail ingestion interrupted: %s (retrying, at most every %u s)",
		          error->message, config->daemon.backoff_max_seconds);
	} else if (g_strcmp0(d->last_error, error->message) != 0) {
		g_info("still failing (attempt %u): %s", d->failures, error->message);
	} else {
		g_debug("still failing (attempt %u): %s", d->failures, error->message);
	}
	g_free(d->last_error);
	d->last_error = g_strdup(error->message);
	since_text = iso8601(d->outage_since);
	g_free(d->last_state);
	d->last_state = g_strdup("disconnected");
	record(d, STATE_CONNECTION, "disconnected", STATE_LAST_ERROR, error->message,
	       STATE_LAST_ERROR_AT, now_text, STATE_OUTAGE_SINCE, since_text, NULL);
	if (is_auth_error(error))
		alerts_raise(pipeline_store(d->p), ALERT_AUTH, error->message);
	if (now - d->outage_since >= (gint64)config->daemon.alert_after_seconds * G_USEC_PER_SEC) {
		g_autofree char *detail =
		    g_strdup_printf("no successful pass since %s: %s", since_text, error->message);
		alerts_raise(pipeline_store(d->p), ALERT_INGESTION, detail);
	}
	alerts_notify(d->p, config);
	delay = backoff_seconds(d->failures, config->daemon.backoff_max_seconds);
	/* Within the threshold of the alert, so it is raised on time. */
	if (d->outage_since + (gint64)config->daemon.alert_after_seconds * G_USEC_PER_SEC > now)
		delay = MIN(delay, (double)(d->outage_since - now) / G_USEC_PER_SEC +
		                       config->daemon.alert_after_seconds + 0.1);
	g_debug("next attempt in %.1f s", delay);
	pause_for(MAX(delay, 0.1));
}

static void
check_agreement(daemon_t *d, const pipeline_sync_t *sync)
{
	const config_t *config = config_of(d);
	g_autoptr(GError) error = NULL;
	gint64 now = g_get_real_time();
	guint left = 0;

	if (!fetcher_count_unprocessed(d->f, sync->last_uid, &left, &error)) {
		g_debug("cannot compare server and store: %s", error->message);
		return;
	}
	if (left == 0) {
		d->mismatch_since = 0;
		alerts_clear(pipeline_store(d->p), ALERT_MISMATCH);
		return;
	}
	if (d->mismatch_since == 0) {
		d->mismatch_since = now;
		g_info("%u messages at or below UID %u are still unprocessed in %s", left,
		       sync->last_uid, config->imap.mailbox);
	}
	if (now - d->mismatch_since >=
	    (gint64)config->daemon.alert_after_seconds * G_USEC_PER_SEC) {
		g_autofree char *detail = g_strdup_printf(
		    "%u messages at or below the checkpoint (UID %u) are still in %s without "
		    "being marked processed: the server count and ours disagree",
		    left, sync->last_uid, config->imap.mailbox);
		alerts_raise(pipeline_store(d->p), ALERT_MISMATCH, detail);
	}
}

static void
succeeded(daemon_t *d, const pipeline_sync_t *sync, const pipeline_stats_t *stats)
{
	gint64 now = g_get_real_time();
	g_autofree char *now_text = iso8601(now);
	g_autofree char *exists = g_strdup_printf("%u", sync->exists);
	g_autofree char *unprocessed = g_strdup_printf("%u", sync->unprocessed);
	g_autofree char *last_uid = g_strdup_printf("%u", sync->last_uid);
	g_autofree char *validity = g_strdup_printf("%u", sync->uidvalidity);

	if (d->failures > 0)
		g_message("mail ingestion restored after %" G_GINT64_FORMAT
		          " s (%u failed attempts)",
		          (now - d->outage_since) / G_USEC_PER_SEC, d->failures);
	d->failures = 0;
	d->outage_since = 0;
	g_clear_pointer(&d->last_error, g_free);
	record(d, STATE_LAST_POLL_OK, now_text, STATE_OUTAGE_SINCE, NULL, STATE_SERVER_MESSAGES,
	       exists, STATE_SERVER_UNPROCESSED, unprocessed, STATE_LAST_UID, last_uid,
	       STATE_UIDVALIDITY, validity, STATE_PUSH, d->push ? "idle" : "poll", NULL);
	alerts_clear(pipeline_store(d->p), ALERT_INGESTION);
	alerts_clear(pipeline_store(d->p), ALERT_AUTH);
	check_agreement(d, sync);
	if (stats->fetched > 0)
		g_message("%u fetched: %u new tickets, %u for triage, %u follow-ups, %u automatic, "
		          "%u duplicates",
		          stats->fetched, stats->tickets, stats->triage, stats->follow_ups,
		          stats->automatic, stats->duplicates);
}

/* At most WAIT_SECONDS, less when a disagreement must be looked at again
 * to raise its alert on time. */
static guint
until_recheck(daemon_t *d, guint wait_seconds)
{
	const config_t *config = config_of(d);
	gint64 due, now = g_get_real_time();

	if (d->mismatch_since == 0)
		return wait_seconds;
	due = d->mismatch_since + (gint64)config->daemon.alert_after_seconds * G_USEC_PER_SEC;
	if (due <= now)
		return wait_seconds; /* raised already */
	return (guint)CLAMP((due - now) / G_USEC_PER_SEC + 1, 1, (gint64)wait_seconds);
}

/* With OAuth2: refresh ahead of expiry (so a failing provider is noticed
 * while the current token still works) and say how long to wait at most. */
static guint
keep_token_fresh(daemon_t *d, guint wait_seconds)
{
	const config_t *config = config_of(d);
	g_autoptr(GError) error = NULL;
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;
	gint64 expires, refresh_at;

	if (d->credentials == NULL)
		return wait_seconds;
	if (credentials_access_token(d->credentials, FALSE, &error) == NULL) {
		g_autofree char *detail = NULL;

		expires = credentials_expires_at(d->credentials);
		detail = expires > now ? g_strdup_printf("%s (the current access token expires in "
		                                         "%" G_GINT64_FORMAT " s)",
		                                         error->message, expires - now)
		                       : g_strdup(error->message);
		g_warning("OAuth2 refresh failed: %s", detail);
		alerts_raise(pipeline_store(d->p), ALERT_AUTH, detail);
		return MIN(wait_seconds, config->daemon.backoff_max_seconds);
	}
	record_token(d);
	expires = credentials_expires_at(d->credentials);
	if (expires == 0)
		return wait_seconds;
	refresh_at = expires - (gint64)config->oauth2.refresh_margin_seconds;
	return (guint)CLAMP(refresh_at - now, 1, (gint64)wait_seconds);
}

static void
report_line(const char *line)
{
	g_message("%s", line);
}

static gboolean
open_pipeline(cli_t *cli, pipeline_t **p_out, credentials_t **credentials_out, GError **error)
{
	const config_t *config = cli_config(cli, error);
	g_autoptr(pipeline_t) p = NULL;
	g_autoptr(credentials_t) credentials = NULL;

	if (config == NULL)
		return FALSE;
	if (config->imap.host == NULL || config->imap.user == NULL) {
		g_set_error(error, CONFIG_ERROR, PI_ERROR_FATAL,
		            "%s: [imap] host and user must be set to fetch mail",
		            config->path ? config->path : "(no configuration file)");
		return FALSE;
	}
	p = pipeline_open(cli, report_line, error);
	if (p == NULL)
		return FALSE;
	if (config->imap.auth == AUTH_XOAUTH2 || config->smtp.auth == AUTH_XOAUTH2) {
		credentials = credentials_new(config);
		pipeline_set_credentials(p, credentials);
	}
	*p_out = g_steal_pointer(&p);
	*credentials_out = g_steal_pointer(&credentials);
	return TRUE;
}

/* A configuration change is on the record like any other change. */
static void
audit_reload(daemon_t *d, const char *action, const char *detail)
{
	g_autoptr(GError) error = NULL;

	if (!store_audit(pipeline_store(d->p), "privacy-inbox", action, NULL, detail, &error))
		g_warning("audit log: %s", error->message);
}

/* SIGHUP: a new configuration and catalogue, or (when either has an error)
 * the running ones, untouched. */
static void
reload(daemon_t *d)
{
	cli_t *cli = d->cli;
	config_t *old = cli->config;
	g_autoptr(GError) error = NULL;
	pipeline_t *p = NULL;
	credentials_t *credentials = NULL;

	g_message("SIGHUP: reloading the configuration and templates");
	/* Templates first, on their own: a catalogue with errors is refused
	 * (and alerted) there while the running one goes on. */
	pipeline_refresh_templates(d->p);
	cli->config = NULL;
	if (!open_pipeline(cli, &p, &credentials, &error)) {
		config_free(cli->config);
		cli->config = old;
		g_warning("configuration not reloaded, keeping the running one: %s",
		          error->message);
		audit_reload(d, "configuration reload refused", error->message);
		return;
	}
	if (g_strcmp0(old->daemon.lock_file, cli->config->daemon.lock_file) != 0)
		g_warning("[daemon] lock_file changes only on restart");
	/* The connection borrows the old configuration: reconnect. */
	g_clear_pointer(&d->f, fetcher_free);
	pipeline_free(d->p);
	credentials_free(d->credentials);
	config_free(old);
	d->p = p;
	d->credentials = credentials;
	g_clear_pointer(&d->last_state, g_free);
	g_message("configuration reloaded from %s",
	          cli->config->path ? cli->config->path : "built-in defaults");
	audit_reload(d, "configuration reloaded",
	             cli->config->path ? cli->config->path : "built-in defaults");
}

/* The daily purge: when the last real one is a day old (or never ran).
 * FALSE with ERROR when it could not run (retried at the next pass). */
static gboolean
purge_if_due(daemon_t *d, const config_t *config, GError **error)
{
	store_t *store = pipeline_store(d->p);
	store_retention_t retention = cli_retention(config);
	g_autoptr(GPtrArray) items = NULL;
	g_autofree char *last = NULL;
	g_autoptr(GDateTime) now = pi_now();

	if (!store_purge_last_run(store, &last, error))
		return FALSE;
	if (last != NULL) {
		g_autoptr(GDateTime) then = g_date_time_new_from_iso8601(last, NULL);
		if (then != NULL && g_date_time_difference(now, then) < G_TIME_SPAN_DAY)
			return TRUE;
	}
	items = store_purge(store, &retention, "privacy-inbox (daily purge)", FALSE, error);
	if (items == NULL)
		return FALSE;
	g_message("daily purge: %u items destroyed", items->len);
	return TRUE;
}

static void
housekeeping(daemon_t *d, const config_t *config)
{
	/* a failure is logged once, and its recovery once */
	static gboolean purge_failing, digest_failing;
	g_autoptr(GError) error = NULL;

	if (!purge_if_due(d, config, &error)) {
		if (!purge_failing)
			g_warning("daily purge did not run (retried at each pass): %s", error->message);
		purge_failing = TRUE;
		g_clear_error(&error);
	} else if (purge_failing) {
		g_message("daily purge: working again");
		purge_failing = FALSE;
	}
	if (!digest_send_if_due(d->p, config, &error)) {
		if (!digest_failing)
			g_warning("daily digest not sent (retried at each pass): %s", error->message);
		digest_failing = TRUE;
	} else if (digest_failing) {
		g_message("daily digest: working again");
		digest_failing = FALSE;
	}
}

static void
serve(daemon_t *d)
{
	while (!cli_stop_requested) {
		const config_t *config = config_of(d);
		g_autoptr(GError) error = NULL;
		pipeline_stats_t stats = {0};
		pipeline_sync_t sync = {0};
		guint wait;

		if (reload_requested) {
			reload_requested = 0;
			drain_wake();
			reload(d);
			continue;
		}
		if (d->f == NULL) {
			record_connection(d, "connecting");
			d->f = pipeline_connect(d->p, &error);
			if (d->f == NULL) {
				failed(d, error);
				continue;
			}
			d->push = fetcher_has_capability(d->f, "IDLE");
			g_info("connected to %s; %s", config->imap.host,
			       d->push ? "waiting with IDLE" : "no IDLE: polling");
			record_token(d);
		} else if (!d->push && !fetcher_noop(d->f, &error)) {
			failed(d, error);
			continue;
		}
		if (!pipeline_sync(d->p, d->f, &stats, &sync, &error)) {
			if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
				break;
			failed(d, error);
			continue;
		}
		succeeded(d, &sync, &stats);
		if (!cli_stop_requested) {
			pipeline_stats_t sent = {0};

			if (!pipeline_send_outbox(d->p, &sent, &error)) {
				g_warning("sending failed: %s", error->message);
				g_clear_error(&error);
			}
		}
		alerts_notify(d->p, config);
		if (!cli_stop_requested)
			housekeeping(d, config);
		if (cli_stop_requested || reload_requested)
			continue;
		if (d->push) {
			fetcher_idle_t why;

			/* Re-issued every poll_seconds at most (and idle_seconds,
			 * under 29 minutes, whichever is shorter), so replies staff
			 * approved meanwhile go out within poll_seconds. */
			wait =
			    until_recheck(d, keep_token_fresh(d, MIN(config->imap.idle_seconds,
			                                             config->imap.poll_seconds)));
			record_connection(d, "idle");
			if (!fetcher_idle(d->f, wait, wake_pipe[0], &why, &error)) {
				failed(d, error);
				continue;
			}
			drain_wake();
		} else {
			wait = until_recheck(d, keep_token_fresh(d, config->imap.poll_seconds));
			record_connection(d, "polling");
			pause_for(wait);
		}
	}
}

int
cmd_run(cli_t *cli, int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	daemon_t d = {0};
	const config_t *config;
	g_autofree char *now = NULL;
	g_autofree char *pid = NULL;
	g_autofree char *server = NULL;
	int lock;

	if (!cli_parse_options(
	        "run", NULL,
	        "Run the daemon: watch the mailbox (IMAP IDLE, else every "
	        "poll_seconds), route new mail, send approved replies, alert the "
	        "admins when ingestion stops.  SIGTERM or SIGINT finish the current "
	        "message and exit 0; SIGHUP reloads the configuration and templates.",
	        NULL, &argc, &argv))
		return EXIT_USAGE;
	if (argc > 1)
		return cli_usage("run", "unexpected argument \"%s\"", argv[1]);
	cli_log_setup();
	if ((config = cli_config(cli, &error)) == NULL)
		return cli_fail(error);
	if ((lock = cli_lock_acquire(config->daemon.lock_file, &error)) < 0)
		return cli_fail(error);
	if (!install_signals(&error))
		return cli_fail(error);
	d.cli = cli;
	if (!open_pipeline(cli, &d.p, &d.credentials, &error)) {
		close(lock);
		return cli_fail(error);
	}
	config = config_of(&d);
	now = iso8601(g_get_real_time());
	pid = g_strdup_printf("%d", (int)getpid());
	server = g_strdup_printf("%s:%u", config->imap.host, config->imap.port);
	record(&d, STATE_PID, pid, STATE_STARTED, now, STATE_SERVER, server, STATE_MAILBOX,
	       config->imap.mailbox, NULL);
	g_message("watching %s on %s as %s (%s)", config->imap.mailbox, server, config->imap.user,
	          config->imap.auth == AUTH_XOAUTH2 ? "OAuth2" : "password");
	notify_systemd("READY=1");
	serve(&d);
	notify_systemd("STOPPING=1");
	g_clear_pointer(&d.f, fetcher_free);
	record_connection(&d, "stopped");
	g_message("stopped");
	pipeline_free(d.p);
	credentials_free(d.credentials);
	g_free(d.last_error);
	g_free(d.last_state);
	close(lock);
	return EXIT_OK;
}
