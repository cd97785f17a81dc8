/* cmd_users.c — `privacy-inbox users add|list|disable|enable|passwd`: the
 * accounts of the web console.  Passwords are read from the terminal
 * without echo (twice) or from --password-file (its first line), never from
 * the command line, and kept only as argon2id hashes (store/users.c).
 * Every change is audited with the login name of whoever runs it. */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

/* One line from the terminal without echo; NULL with an error when there
 * is no terminal. */
static char *
read_hidden(const char *prompt, GError **error)
{
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
	struct termios old, quiet;
	GString *line;
	char c;
	ssize_t n;

	if (fd < 0) {
		g_set_error(error, COMMON_ERROR, PI_ERROR_FATAL,
		            "no terminal to read the password from: use --password-file FILE");
		return NULL;
	}
	if (write(fd, prompt, strlen(prompt)) < 0 || tcgetattr(fd, &old) != 0) {
		close(fd);
		g_set_error(error, COMMON_ERROR, PI_ERROR_FATAL,
		            "cannot read the password from the terminal: use --password-file FILE");
		return NULL;
	}
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	quiet.c_lflag |= ECHONL;
	tcsetattr(fd, TCSAFLUSH, &quiet);
	line = g_string_new(NULL);
	while ((n = read(fd, &c, 1)) == 1 && c != '\n' && c != '\r')
		g_string_append_c(line, c);
	tcsetattr(fd, TCSAFLUSH, &old);
	close(fd);
	if (n < 0) {
		g_string_free(line, TRUE);
		g_set_error(error, COMMON_ERROR, PI_ERROR_FATAL, "reading the password: %s",
		            g_strerror(errno));
		return NULL;
	}
	return g_string_free(line, FALSE);
}

static void
wipe(char *secret)
{
	if (secret != NULL) {
		memset(secret, 0, strlen(secret));
		g_free(secret);
	}
}

/* The new password: the first line of FILE, else typed twice. */
static char *
new_password(const char *file, const char *name, GError **error)
{
	char *text = NULL, *again = NULL, *nl;
	g_autofree char *prompt = NULL;
	struct stat st;

	if (file != NULL) {
		if (!g_file_get_contents(file, &text, NULL, error)) {
			g_prefix_error(error, "--password-file: ");
			return NULL;
		}
		if (stat(file, &st) == 0 && (st.st_mode & 0077) != 0)
			g_printerr("privacy-inbox: warning: %s can be read by others; remove it now\n", file);
		if ((nl = strpbrk(text, "\r\n")) != NULL)
			*nl = '\0';
		return text;
	}
	prompt = g_strdup_printf("New password for %s: ", name);
	if ((text = read_hidden(prompt, error)) == NULL)
		return NULL;
	if ((again = read_hidden("Again: ", error)) == NULL) {
		wipe(text);
		return NULL;
	}
	if (strcmp(text, again) != 0) {
		wipe(text);
		wipe(again);
		g_set_error(error, COMMON_ERROR, PI_ERROR_FATAL,
		            "the two passwords differ; nothing was changed");
		return NULL;
	}
	wipe(again);
	return text;
}

static int
users_add(cli_t *cli, int argc, char **argv)
{
	char *role = NULL, *file = NULL;
	const GOptionEntry entries[] = {
		{"role", 0, 0, G_OPTION_ARG_STRING, &role, "staff or admin (required)", "ROLE"},
		{"password-file", 0, 0, G_OPTION_ARG_FILENAME, &file,
		 "read the password from the first line of FILE (default: ask on the terminal)", "FILE"},
		G_OPTION_ENTRY_NULL,
	};
	g_autofree char *role_o = NULL, *file_o = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(store_t) store = NULL;
	char *password;
	gboolean ok;

	if (!cli_parse_options("users add", "NAME --role staff|admin [--password-file FILE]",
	                       "Create an account for the web console.  Staff see and work the "
	                       "queue; admins also edit the reply templates.",
	                       entries, &argc, &argv))
		return EXIT_USAGE;
	role_o = role, file_o = file;
	if (argc != 2)
		return cli_usage("users add", argc < 2 ? "which name?" : "one account at a time");
	if (g_strcmp0(role, "staff") != 0 && g_strcmp0(role, "admin") != 0)
		return cli_usage("users add", "--role staff or --role admin is required");
	if (!store_user_name_valid(argv[1]))
		return cli_usage("users add",
		                 "\"%s\" is not a valid name (1–%d of a-z, 0-9, '.', '_', '-')", argv[1],
		                 STORE_USER_NAME_MAX);
	if ((store = cli_open_store(cli, &error)) == NULL)
		return cli_fail(error);
	{
		g_autoptr(store_user_t) existing = store_user_get(store, argv[1], NULL);
		if (existing != NULL)
			return cli_failf("an account named %s already exists", argv[1]);
	}
	if ((password = new_password(file, argv[1], &error)) == NULL)
		return cli_fail(error);
	ok = store_user_add(store, argv[1], role, password, cli_actor(NULL), &error);
	wipe(password);
	if (!ok)
		return cli_fail(error);
	g_print("account %s added (%s)\n", argv[1], role);
	return EXIT_OK;
}

static int
users_list(cli_t *cli, int argc, char **argv)
{
	gboolean json = FALSE;
	const GOptionEntry entries[] = {
		{"json", 0, 0, G_OPTION_ARG_NONE, &json, "print a JSON array", NULL},
		G_OPTION_ENTRY_NULL,
	};
	g_autoptr(GError) error = NULL;
	g_autoptr(store_t) store = NULL;
	g_autoptr(GPtrArray) users = NULL;

	if (!cli_parse_options("users list", NULL, "List the console's accounts.", entries, &argc,
	                       &argv))
		return EXIT_USAGE;
	if (argc > 1)
		return cli_usage("users list", "unexpected argument \"%s\"", argv[1]);
	if ((store = cli_open_store(cli, &error)) == NULL ||
	    (users = store_user_list(store, &error)) == NULL)
		return cli_fail(error);
	if (json) {
		g_autoptr(JsonBuilder) b = json_builder_new();
		g_autoptr(JsonNode) root = NULL;

		json_builder_begin_array(b);
		for (guint i = 0; i < users->len; i++) {
			store_user_t *u = g_ptr_array_index(users, i);
			json_builder_begin_object(b);
			pi_json_add_string(b, "name", u->name);
			pi_json_add_string(b, "role", u->role);
			pi_json_add_string(b, "created_at", u->created_at);
			pi_json_add_string(b, "password_changed_at", u->password_changed_at);
			pi_json_add_string(b, "last_login_at", u->last_login_at);
			pi_json_add_string(b, "disabled_at", u->disabled_at);
			json_builder_end_object(b);
		}
		json_builder_end_array(b);
		root = json_builder_get_root(b);
		cli_print_json(root, FALSE);
		return EXIT_OK;
	}
	if (users->len == 0) {
		g_print("no accounts (privacy-inbox users add NAME --role staff|admin)\n");
		return EXIT_OK;
	}
	g_print("%-20s %-6s %-9s %-21s %s\n", "NAME", "ROLE", "STATE", "LAST SIGN-IN", "CREATED");
	for (guint i = 0; i < users->len; i++) {
		store_user_t *u = g_ptr_array_index(users, i);
		g_print("%-20s %-6s %-9s %-21s %s\n", u->name, u->role,
		        u->disabled_at ? "disabled" : "active",
		        u->last_login_at ? u->last_login_at : "never", u->created_at);
	}
	return EXIT_OK;
}

static int
users_set_disabled(cli_t *cli, int argc, char **argv, gboolean disable)
{
	const char *command = disable ? "users disable" : "users enable";
	g_autoptr(GError) error = NULL;
	g_autoptr(store_t) store = NULL;

	if (!cli_parse_options(command, "NAME",
	                       disable ? "Disable an account: it can no longer sign in, and its "
	                                 "sessions end at once.  Its name stays in the records."
	                               : "Enable a disabled account again.",
	                       NULL, &argc, &argv))
		return EXIT_USAGE;
	if (argc != 2)
		return cli_usage(command, "which account?");
	if ((store = cli_open_store(cli, &error)) == NULL ||
	    !store_user_set_disabled(store, argv[1], disable, cli_actor(NULL), &error))
		return cli_fail(error);
	g_print("account %s %s\n", argv[1], disable ? "disabled; its sessions are ended" : "enabled");
	return EXIT_OK;
}

static int
users_disable(cli_t *cli, int argc, char **argv)
{
	return users_set_disabled(cli, argc, argv, TRUE);
}

static int
users_enable(cli_t *cli, int argc, char **argv)
{
	return users_set_disabled(cli, argc, argv, FALSE);
}

static int
users_passwd(cli_t *cli, int argc, char **argv)
{
	char *file = NULL;
	const GOptionEntry entries[] = {
		{"password-file", 0, 0, G_OPTION_ARG_FILENAME, &file,
		 "read the password from the first line of FILE (default: ask on the terminal)", "FILE"},
		G_OPTION_ENTRY_NULL,
	};
	g_autofree char *file_o = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(store_t) store = NULL;
	g_autoptr(store_user_t) user = NULL;
	char *password;
	gboolean ok;

	if (!cli_parse_options("users passwd", "NAME [--password-file FILE]",
	                       "Set a new password; the account's sessions end.", entries, &argc,
	                       &argv))
		return EXIT_USAGE;
	file_o = file;
	if (argc != 2)
		return cli_usage("users passwd", "which account?");
	if ((store = cli_open_store(cli, &error)) == NULL ||
	    (user = store_user_get(store, argv[1], &error)) == NULL)
		return cli_fail(error);
	if ((password = new_password(file, argv[1], &error)) == NULL)
		return cli_fail(error);
	ok = store_user_set_password(store, argv[1], password, cli_actor(NULL), &error);
	wipe(password);
	if (!ok)
		return cli_fail(error);
	g_print("password of %s changed; its sessions are ended\n", argv[1]);
	return EXIT_OK;
}

int
cmd_users(cli_t *cli, int argc, char **argv)
{
	static const cli_subcommand_t subcommands[] = {
		{"add", users_add, "create an account: NAME --role staff|admin [--password-file F]"},
		{"list", users_list, "the accounts [--json]"},
		{"disable", users_disable, "NAME: no more sign-ins; its sessions end"},
		{"enable", users_enable, "NAME: allow sign-ins again"},
		{"passwd", users_passwd, "NAME [--password-file F]: a new password"},
		{NULL, NULL, NULL},
	};

	return cli_dispatch(cli, "users", subcommands, argc, argv);
}
