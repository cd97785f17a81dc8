/* cmd_audit.c — `audit verify` (the SHA-256 chain, the head, the append-only
 * guard) and `audit export` (CSV, RFC 4180, UTF-8). */
#include "cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* DATE as stored (ISO 8601 UTC): YYYY-MM-DD is midnight in TZ (with
 * NEXT_DAY: the midnight after it, so an --until date is included); a full
 * ISO 8601 time without an offset is in TZ too. */
static char *
parse_date(const char *text, GTimeZone *tz, gboolean next_day)
{
	g_autoptr(GDateTime) when = NULL;
	g_autoptr(GDateTime) utc = NULL;
	int y, m, d;
	char end;

	if (sscanf(text, "%4d-%2d-%2d%c", &y, &m, &d, &end) == 3 && strlen(text) == 10) {
		if (!g_date_valid_dmy((GDateDay)d, (GDateMonth)m, (GDateYear)y))
			return NULL;
		when = g_date_time_new(tz, y, m, d, 0, 0, 0);
		if (when != NULL && next_day) {
			GDateTime *later = g_date_time_add_days(when, 1);
			g_date_time_unref(when);
			when = later;
		}
	} else
		when = g_date_time_new_from_iso8601(text, tz);
	if (when == NULL)
		return NULL;
	utc = g_date_time_to_utc(when);
	return g_date_time_format(utc, "%Y-%m-%dT%H:%M:%SZ");
}

static int
audit_verify(cli_t *cli, int argc, char **argv)
{
	gboolean json = FALSE;
	const GOptionEntry entries[] = {
	    {"json", 0, 0, G_OPTION_ARG_NONE, &json, "print the verdict as JSON", NULL},
	    G_OPTION_ENTRY_NULL,
	};
	g_autoptr(GError) error = NULL;
	g_autoptr(store_t) store = NULL;
	store_audit_verdict_t v;
	int status;

	if (!cli_parse_options(
	        "audit verify", NULL,
	        "Check every row of the audit log against its SHA-256 and the one "
	        "before it, the log's head, and its append-only guard.  Exit 1 naming "
	        "the first bad row.",
	        entries, &argc, &argv))
		return EXIT_USAGE;
	if (argc > 1)
		return cli_usage("audit verify", "unexpected argument \"%s\"", argv[1]);
	if ((store = cli_open_store(cli, &error)) == NULL || !store_audit_verify(store, &v, &error))
		return cli_fail(error);
	status = v.problem ? EXIT_FAILURE_OPERATIONAL : EXIT_OK;
	if (json) {
		g_autoptr(JsonBuilder) b = json_builder_new();
		g_autoptr(JsonNode) root = NULL;
		json_builder_begin_object(b);
		json_builder_set_member_name(b, "ok");
		json_builder_add_boolean_value(b, v.problem == NULL);
		json_builder_set_member_name(b, "rows");
		json_builder_add_int_value(b, v.rows);
		json_builder_set_member_name(b, "bad_row");
		if (v.problem != NULL && v.bad_row > 0)
			json_builder_add_int_value(b, v.bad_row);
		else
			json_builder_add_null_value(b);
		pi_json_add_string(b, "problem", v.problem);
		pi_json_add_string(b, "head_hash", v.problem ? NULL : v.head_hash);
		json_builder_end_object(b);
		root = json_builder_get_root(b);
		cli_print_json(root, FALSE);
	} else if (v.problem == NULL)
		g_print("audit log intact: %" G_GINT64_FORMAT " rows, last row %" G_GINT64_FORMAT
		        ", head %s\n",
		        v.rows, v.last_row, v.head_hash);
	if (v.problem != NULL) {
		if (v.bad_row > 0 && v.bad_at != NULL)
			cli_failf("audit log: row %" G_GINT64_FORMAT " (%s, %s, %s): %s", v.bad_row,
			          v.bad_at, v.bad_actor, v.bad_action, v.problem);
		else if (v.bad_row > 0)
			cli_failf("audit log: row %" G_GINT64_FORMAT ": %s", v.bad_row, v.problem);
		else
			cli_failf("audit log: %s", v.problem);
	}
	store_audit_verdict_clear(&v);
	return status;
}

/* One CSV field, RFC 4180: quoted when it holds a comma, quote, CR or LF. */
static void
csv_field(GString *out, const char *value, gboolean last)
{
	if (value != NULL && strpbrk(value, ",\"\r\n") != NULL) {
		g_string_append_c(out, '"');
		for (const char *c = value; *c; c++) {
			if (*c == '"')
				g_string_append_c(out, '"');
			g_string_append_c(out, *c);
		}
		g_string_append_c(out, '"');
	} else if (value != NULL)
		g_string_append(out, value);
	g_string_append(out, last ? "\r\n" : ",");
}

typedef struct {
	FILE *out;
	gint64 rows;
} export_ctx_t;

static gboolean
write_row(const store_audit_row_t *row, gpointer data, GError **error)
{
	export_ctx_t *ctx = data;
	g_autoptr(GString) line = g_string_new(NULL);
	g_autofree char *id = g_strdup_printf("%" G_GINT64_FORMAT, row->id);

	csv_field(line, id, FALSE);
	csv_field(line, row->at, FALSE);
	csv_field(line, row->actor, FALSE);
	csv_field(line, row->action, FALSE);
	csv_field(line, row->ticket_ref, FALSE);
	csv_field(line, row->detail, FALSE);
	csv_field(line, row->prev_hash, FALSE);
	csv_field(line, row->hash, TRUE);
	if (fwrite(line->str, 1, line->len, ctx->out) != line->len) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "cannot write: %s",
		            g_strerror(errno));
		return FALSE;
	}
	ctx->rows++;
	return TRUE;
}

static int
audit_export(cli_t *cli, int argc, char **argv)
{
	char *since = NULL, *until = NULL, *by = NULL;
	gboolean bom = FALSE;
	const GOptionEntry entries[] = {
	    {"since", 0, 0, G_OPTION_ARG_STRING, &since,
	     "first day (YYYY-MM-DD, in [policy] timezone) or time (ISO 8601) (required)", "DATE"},
	    {"until", 0, 0, G_OPTION_ARG_STRING, &until,
	     "last day, included (YYYY-MM-DD), or a time, excluded (default: now)", "DATE"},
	    {"bom", 0, 0, G_OPTION_ARG_NONE, &bom,
	     "start with a UTF-8 byte order mark (Excel needs it to read Japanese)", NULL},
	    {"by", 0, 0, G_OPTION_ARG_STRING, &by, "who exports (default: your login name)",
	     "NAME"},
	    G_OPTION_ENTRY_NULL,
	};
	g_autoptr(GError) error = NULL;
	g_autoptr(store_t) store = NULL;
	g_autofree char *since_owned = NULL, *until_owned = NULL, *by_owned = NULL;
	g_autofree char *from = NULL, *to = NULL, *detail = NULL;
	export_ctx_t ctx = {stdout, 0};
	const config_t *config;

	if (!cli_parse_options("audit export", "--since DATE [--until DATE]",
	                       "Write the audit log's rows in the period as CSV (RFC 4180, UTF-8, "
	                       "CRLF) on standard output: id, at (UTC), actor, action, ticket_ref, "
	                       "detail, prev_hash, hash.  The export itself is audited.",
	                       entries, &argc, &argv))
		return EXIT_USAGE;
	since_owned = since;
	until_owned = until;
	by_owned = by;
	if (argc > 1)
		return cli_usage("audit export", "unexpected argument \"%s\"", argv[1]);
	if (since == NULL)
		return cli_usage("audit export", "--since DATE is required");
	if ((config = cli_config(cli, &error)) == NULL)
		return cli_fail(error);
	if ((from = parse_date(since, config->policy.timezone, FALSE)) == NULL)
		return cli_usage("audit export",
		                 "--since \"%s\": expected YYYY-MM-DD or an ISO 8601 time", since);
	if (until != NULL && (to = parse_date(until, config->policy.timezone, TRUE)) == NULL)
		return cli_usage("audit export",
		                 "--until \"%s\": expected YYYY-MM-DD or an ISO 8601 time", until);
	if (to != NULL && strcmp(from, to) >= 0)
		return cli_usage("audit export", "--until must come after --since");
	if ((store = cli_open_store(cli, &error)) == NULL)
		return cli_fail(error);
	if (bom)
		fputs("\xEF\xBB\xBF", stdout);
	fputs("id,at,actor,action,ticket_ref,detail,prev_hash,hash\r\n", stdout);
	if (!store_audit_foreach(store, from, to, write_row, &ctx, &error))
		return cli_fail(error);
	if (fflush(stdout) != 0)
		return cli_failf("cannot write the export: %s", g_strerror(errno));
	detail = g_strdup_printf("%" G_GINT64_FORMAT " rows from %s until %s exported as CSV",
	                         ctx.rows, from, to ? to : "now");
	if (!store_audit(store, cli_actor(by), "audit exported", NULL, detail, &error))
		return cli_fail(error);
	return EXIT_OK;
}

int
cmd_audit(cli_t *cli, int argc, char **argv)
{
	static const cli_subcommand_t subcommands[] = {
	    {"verify", audit_verify, "check the chain; exit 1 naming the first bad row"},
	    {"export", audit_export, "CSV on standard output: export --since DATE [--until DATE]"},
	    {NULL, NULL, NULL},
	};

	return cli_dispatch(cli, "audit", subcommands, argc, argv);
}
