/* cli.h — what the command files share.  Only the command layer prints,
 * exits and reads the configuration file; modules report through GError.
 *
 * Exit status: 0 success, 1 operational error (one line on stderr),
 * 2 usage error. */
#pragma once

#include "common/common.h"
#include "common/config.h"
#include "parser/parser.h"
#include "store/store.h"
#include "templates/catalogue.h"

#include <json-glib/json-glib.h>
#include <sys/types.h>

enum { EXIT_OK = 0, EXIT_FAILURE_OPERATIONAL = 1, EXIT_USAGE = 2 };

typedef struct {
	char *config_path; /* --config or PRIVACY_INBOX_CONFIG; NULL: built-in defaults */
	config_t *config;  /* loaded by cli_config() */
} cli_t;

typedef int (*cli_command_fn)(cli_t *cli, int argc, char **argv);

/* The configuration, loaded on first use (warns once when others can read it). */
const config_t *cli_config(cli_t *cli, GError **error);
store_t *cli_open_store(cli_t *cli, GError **error);
parser_t *cli_new_parser(cli_t *cli, GError **error);
catalogue_t *cli_load_catalogue(cli_t *cli, GError **error);

/* Print "privacy-inbox: MESSAGE" on stderr; returns EXIT_FAILURE_OPERATIONAL. */
int cli_fail(const GError *error);
int cli_failf(const char *format, ...) G_GNUC_PRINTF(1, 2);
/* Print "privacy-inbox COMMAND: MESSAGE" and a hint; returns EXIT_USAGE. */
int cli_usage(const char *command, const char *format, ...) G_GNUC_PRINTF(2, 3);

/* Parse ARGV with ENTRIES for COMMAND ("tickets list"); PARAMS is the
 * synopsis after the command, SUMMARY the help text.  Returns FALSE after
 * printing a usage error (exit 2). */
gboolean cli_parse_options(const char *command, const char *params, const char *summary,
                           const GOptionEntry *entries, int *argc, char ***argv);

/* Print NODE as JSON on stdout (pretty, or one line when COMPACT). */
void cli_print_json(JsonNode *node, gboolean compact);

/* The person acting: --by, else the login name. Borrowed or static. */
const char *cli_actor(const char *by);

/* The retention periods [policy] sets (cli/cmd_purge.c). */
store_retention_t cli_retention(const config_t *config);

/* Log lines through GLib's structured logging: the journal when run by
 * systemd, else one line per event on stderr (cli/log.c). */
void cli_log_setup(void);

/* The single-instance lock (cli/lock.c): an exclusive flock() on PATH held
 * until the process ends; returns its fd, or -1 with an error naming the
 * holder's pid.  cli_lock_holder() is that pid (0: nobody holds it). */
int cli_lock_acquire(const char *path, GError **error);
pid_t cli_lock_holder(const char *path);

/* Stop requested by SIGTERM/SIGINT (see cli_install_signals). */
extern volatile int cli_stop_requested;
void cli_install_signals(void);

/* Commands. */
int cmd_fetch(cli_t *cli, int argc, char **argv);
int cmd_run(cli_t *cli, int argc, char **argv);
int cmd_ingest(cli_t *cli, int argc, char **argv);
int cmd_parse(cli_t *cli, int argc, char **argv);
int cmd_tickets(cli_t *cli, int argc, char **argv);
int cmd_drafts(cli_t *cli, int argc, char **argv);
int cmd_send(cli_t *cli, int argc, char **argv);
int cmd_templates(cli_t *cli, int argc, char **argv);
int cmd_digest(cli_t *cli, int argc, char **argv);
int cmd_attachments(cli_t *cli, int argc, char **argv);
int cmd_purge(cli_t *cli, int argc, char **argv);
int cmd_audit(cli_t *cli, int argc, char **argv);
int cmd_report(cli_t *cli, int argc, char **argv);
int cmd_status(cli_t *cli, int argc, char **argv);
int cmd_serve(cli_t *cli, int argc, char **argv);
int cmd_users(cli_t *cli, int argc, char **argv);

/* Dispatch "NAME SUBCOMMAND ARGS" among SUBCOMMANDS (NULL-terminated). */
typedef struct {
	const char *name;
	cli_command_fn run;
	const char *summary;
} cli_subcommand_t;
int cli_dispatch(cli_t *cli, const char *command, const cli_subcommand_t *subcommands,
                 int argc, char **argv);
