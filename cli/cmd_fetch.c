/* cmd_fetch.c — `fetch --once`, `ingest` and `send` (the daemon, `run`, is
 * in daemon.c).  `fetch` and `send` take the single-instance lock, so they
 * refuse to run beside the daemon or each other. */
#include "cli/pipeline.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void
print_line(const char *line)
{
	g_print("%s\n", line);
}

static void
print_stats(const pipeline_stats_t *s)
{
	g_print("%u fetched: %u new tickets, %u for triage, %u follow-ups, %u automatic, "
	        "%u duplicates; %u replies sent, %u not sent\n",
	        s->fetched, s->tickets, s->triage, s->follow_ups, s->automatic, s->duplicates,
	        s->sent, s->send_failed);
}

typedef int lock_fd_t;

static void
lock_release(lock_fd_t fd)
{
	if (fd >= 0)
		close(fd);
}
G_DEFINE_AUTO_CLEANUP_FREE_FUNC(lock_fd_t, lock_release, -1)

/* The lock, the pipeline, and OAuth2 credentials when configured. */
static gboolean
open_locked(cli_t *cli, pipeline_t **p_out, credentials_t **credentials_out, int *lock_out,
            GError **error)
{
	const config_t *config = cli_config(cli, error);

	if (config == NULL)
		return FALSE;
	if ((*lock_out = cli_lock_acquire(config->daemon.lock_file, error)) < 0)
		return FALSE;
	if ((*p_out = pipeline_open(cli, print_line, error)) == NULL)
		return FALSE;
	if (config->imap.auth == AUTH_XOAUTH2 || config->smtp.auth == AUTH_XOAUTH2) {
		*credentials_out = credentials_new(config);
		pipeline_set_credentials(*p_out, *credentials_out);
	}
	return TRUE;
}

int
cmd_fetch(cli_t *cli, int argc, char **argv)
{
	gboolean once = FALSE;
	gboolean no_send = FALSE;
	const GOptionEntry entries[] = {
		{"once", 0, 0, G_OPTION_ARG_NONE, &once, "one pass, then exit (required)", NULL},
		{"no-send", 0, 0, G_OPTION_ARG_NONE, &no_send, "do not send approved replies", NULL},
		G_OPTION_ENTRY_NULL,
	};
	g_autoptr(GError) error = NULL;
	g_autoptr(credentials_t) credentials = NULL;
	g_autoptr(pipeline_t) p = NULL;
	g_auto(lock_fd_t) lock = -1;
	pipeline_stats_t stats = {0};
	gboolean fetched;

	if (!cli_parse_options("fetch", "--once",
	                       "Fetch new mail, route it into tickets and drafts, then send the "
	                       "approved replies that are due.",
	                       entries, &argc, &argv))
		return EXIT_USAGE;
	if (!once)
		return cli_usage("fetch", "--once is required (the daemon is 'privacy-inbox run')");
	if (argc > 1)
		return cli_usage("fetch", "unexpected argument \"%s\"", argv[1]);
	cli_install_signals();
	if (!open_locked(cli, &p, &credentials, &lock, &error))
		return cli_fail(error);
	fetched = pipeline_fetch_pass(p, &stats, &error);
	if (!fetched && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
		print_stats(&stats);
		return EXIT_OK;
	}
	if (!fetched)
		return cli_fail(error);
	if (!no_send && !pipeline_send_outbox(p, &stats, &error))
		return cli_fail(error);
	print_stats(&stats);
	if (stats.send_failed > 0)
		return cli_failf("%u replies could not be sent and stay in the outbox "
		                 "(see 'privacy-inbox drafts list')",
		                 stats.send_failed);
	return EXIT_OK;
}

int
cmd_ingest(cli_t *cli, int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(pipeline_t) p = NULL;
	pipeline_stats_t stats = {0};
	int status = EXIT_OK;

	if (!cli_parse_options("ingest", "FILE...",
	                       "Route local messages as if fetched (for MTA pipe delivery and "
	                       "tests); - reads one message from standard input.",
	                       NULL, &argc, &argv))
		return EXIT_USAGE;
	if (argc < 2)
		return cli_usage("ingest", "which file? (- for standard input)");
	p = pipeline_open(cli, print_line, &error);
	if (p == NULL)
		return cli_fail(error);
	for (int i = 1; i < argc; i++) {
		gboolean from_stdin = strcmp(argv[i], "-") == 0;
		int fd = from_stdin ? 0 : open(argv[i], O_RDONLY | O_CLOEXEC);

		if (fd < 0) {
			status = cli_failf("%s: %s", argv[i], g_strerror(errno));
			continue;
		}
		if (!pipeline_ingest_fd(p, fd, &stats, &error)) {
			status = cli_failf("%s: %s", argv[i], error->message);
			g_clear_error(&error);
		}
		if (!from_stdin)
			close(fd);
	}
	return status;
}

int
cmd_send(cli_t *cli, int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(credentials_t) credentials = NULL;
	g_autoptr(pipeline_t) p = NULL;
	g_auto(lock_fd_t) lock = -1;
	pipeline_stats_t stats = {0};

	if (!cli_parse_options("send", NULL, "Send the approved replies in the outbox now.", NULL,
	                       &argc, &argv))
		return EXIT_USAGE;
	if (argc > 1)
		return cli_usage("send", "unexpected argument \"%s\"", argv[1]);
	cli_install_signals();
	if (!open_locked(cli, &p, &credentials, &lock, &error))
		return cli_fail(error);
	if (!pipeline_send_outbox(p, &stats, &error))
		return cli_fail(error);
	g_print("%u replies sent, %u not sent\n", stats.sent, stats.send_failed);
	if (stats.send_failed > 0)
		return cli_failf("%u replies could not be sent and stay in the outbox", stats.send_failed);
	return EXIT_OK;
}
