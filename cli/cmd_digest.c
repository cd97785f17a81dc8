/* cmd_digest.c — `privacy-inbox digest [--send] [--json]`. */
#include "cli/digest.h"

int
cmd_digest(cli_t *cli, int argc, char **argv)
{
	gboolean send = FALSE, json = FALSE;
	const GOptionEntry entries[] = {
		{"send", 0, 0, G_OPTION_ARG_NONE, &send,
		 "send it to [policy] staff_address now (run sends it daily by itself)", NULL},
		{"json", 0, 0, G_OPTION_ARG_NONE, &json, "print the digest's data as JSON", NULL},
		G_OPTION_ENTRY_NULL,
	};
	g_autoptr(GError) error = NULL;
	g_autoptr(pipeline_t) p = NULL;
	const config_t *config;

	if (!cli_parse_options("digest", NULL,
	                       "The staff digest: overdue tickets, those due in the next 3 days, "
	                       "tickets flagged for attention, drafts waiting.",
	                       entries, &argc, &argv))
		return EXIT_USAGE;
	if (argc > 1)
		return cli_usage("digest", "unexpected argument \"%s\"", argv[1]);
	if ((config = cli_config(cli, &error)) == NULL ||
	    (p = pipeline_open(cli, NULL, &error)) == NULL)
		return cli_fail(error);
	if (send) {
		g_autoptr(GDateTime) utc = pi_now();
		g_autoptr(GDateTime) now = g_date_time_to_timezone(utc, config->policy.timezone);
		g_autofree char *day = g_date_time_format(now, "%Y-%m-%d");

		if (!digest_send(p, config, &error) ||
		    !store_digest_mark(pipeline_store(p), day, &error))
			return cli_fail(error);
		g_print("digest sent to %s\n", config->policy.staff_address);
		return EXIT_OK;
	}
	{
		g_autoptr(JsonNode) context = digest_context(config, pipeline_store(p), "ja", &error);
		g_autoptr(catalogue_rendering_t) r = NULL;

		if (context == NULL)
			return cli_fail(error);
		if (json) {
			cli_print_json(context, FALSE);
			return EXIT_OK;
		}
		if ((r = catalogue_render(pipeline_catalogue(p), "digest", "ja", context, &error)) == NULL)
			return cli_fail(error);
		g_print("Subject: %s\n\n%s", r->subject, r->body);
	}
	return EXIT_OK;
}
