/* log.c — where log lines go: GLib structured logging to the journal when
 * stderr is connected to it (a systemd service), otherwise one line per
 * event on stderr: "2026-11-28T09:15:00.123Z WARNING fetcher: text".
 * G_MESSAGES_DEBUG selects debug and info domains as GLib does.  Messages
 * are flattened to one line (a server's text may hold line breaks); what
 * they contain is the callers' business: ids, UIDs and ticket references,
 * never bodies, ID documents or secrets. */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static gboolean to_journal;

static const char *
level_name(GLogLevelFlags level)
{
	if (level & G_LOG_LEVEL_ERROR)
		return "ERROR";
	if (level & G_LOG_LEVEL_CRITICAL)
		return "CRITICAL";
	if (level & G_LOG_LEVEL_WARNING)
		return "WARNING";
	if (level & G_LOG_LEVEL_MESSAGE)
		return "NOTICE";
	if (level & G_LOG_LEVEL_INFO)
		return "INFO";
	return "DEBUG";
}

static GLogWriterOutput
write_log(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
	const char *domain = NULL, *message = NULL;
	g_autoptr(GDateTime) now = NULL;
	g_autofree char *stamp = NULL;
	GString *line;

	for (gsize i = 0; i < n_fields; i++) {
		if (strcmp(fields[i].key, "GLIB_DOMAIN") == 0)
			domain = fields[i].value;
		else if (strcmp(fields[i].key, "MESSAGE") == 0)
			message = fields[i].value;
	}
	if (g_log_writer_default_would_drop(level, domain))
		return G_LOG_WRITER_HANDLED;
	if (to_journal &&
	    g_log_writer_journald(level, fields, n_fields, user_data) == G_LOG_WRITER_HANDLED)
		return G_LOG_WRITER_HANDLED;
	now = g_date_time_new_now_utc();
	stamp = g_date_time_format(now, "%Y-%m-%dT%H:%M:%S.%fZ");
	line = g_string_new(NULL);
	/* %f is microseconds: keep milliseconds. */
	g_string_append_len(line, stamp, 23);
	g_string_append_printf(line, "Z %s %s: ", level_name(level),
	                       domain ? domain : "privacy-inbox");
	for (const char *p = message ? message : ""; *p; p++)
		g_string_append_c(line, (*p == '\n' || *p == '\r' || *p == '\t') ? ' ' : *p);
	g_string_append_c(line, '\n');
	fputs(line->str, stderr);
	fflush(stderr);
	g_string_free(line, TRUE);
	return G_LOG_WRITER_HANDLED;
}

void
cli_log_setup(void)
{
	static gboolean done;

	if (done)
		return;
	done = TRUE;
	to_journal = g_log_writer_is_journald(fileno(stderr));
	g_log_set_writer_func(write_log, NULL, NULL);
}
