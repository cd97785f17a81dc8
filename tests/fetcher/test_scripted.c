/* test_scripted.c — the fetcher against a small scripted IMAP server on
 * loopback (a thread), for what a real server cannot be made to do: a
 * greeting that never comes (plain and TLS), a connection cut in the middle
 * of a BODY[] literal, and FETCH attributes in an unusual order (BODY[]
 * before UID, an unsolicited FETCH in between), and IDLE step by step (new
 * mail, a quiet re-issue, a wake-up, a BYE while idling).  Everything else
 * is tested against Dovecot in test_fetcher.c.
 */
#include "fetcher/fetcher.h"

#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/fetcher/collector.h"

typedef enum {
	SCRIPT_SILENT,      /* accepts, never says a word */
	SCRIPT_CUT_LITERAL, /* closes the connection in the middle of BODY[] */
	SCRIPT_REORDERED,   /* BODY[] before UID, and an unsolicited FETCH */
	SCRIPT_IDLE,        /* IDLE: EXISTS; quiet; quiet; BYE and close */
} script_t;

typedef struct {
	int listen_fd;
	guint16 port;
	script_t script;
	GThread *thread;
	GString *commands; /* the lines received; read after the join */
	guint idles;       /* IDLE commands answered */
} scripted_t;

enum { REORDERED_BIG = 200000 };

/* The second message of SCRIPT_REORDERED: CRLF lines of letters. */
static GBytes *
reordered_body(void)
{
	char *big = g_malloc(REORDERED_BIG);

	for (gsize i = 0; i < REORDERED_BIG; i++)
		big[i] = (i % 78 == 76) ? '\r' : (i % 78 == 77) ? '\n' : (char)('a' + i % 26);
	return g_bytes_new_take(big, REORDERED_BIG);
}

static gboolean
read_line(int fd, GString *line)
{
	g_string_truncate(line, 0);
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		char c;

		if (poll(&p, 1, 10000) <= 0 || read(fd, &c, 1) != 1)
			return FALSE;
		if (c == '\n')
			break;
		if (c != '\r')
			g_string_append_c(line, c);
	}
	return TRUE;
}

static void
send_all(int fd, const void *data, gsize len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n <= 0)
			return;
		p += n;
		len -= (gsize)n;
	}
}

static void send_text(int fd, const char *format, ...) G_GNUC_PRINTF(2, 3);

static void
send_text(int fd, const char *format, ...)
{
	g_autofree char *text = NULL;
	va_list ap;

	va_start(ap, format);
	text = g_strdup_vprintf(format, ap);
	va_end(ap);
	send_all(fd, text, strlen(text));
}

static void
send_fetch_answer(const scripted_t *s, int fd, const char *tag)
{
	if (s->script == SCRIPT_CUT_LITERAL) {
		g_autofree char *part = g_strnfill(30000, 'x');

		send_text(fd, "* 1 FETCH (UID 5 RFC822.SIZE 100000 INTERNALDATE "
		              "\"28-Nov-2026 09:15:00 +0900\" BODY[] {100000}\r\n");
		send_all(fd, part, strlen(part));
		return; /* and the caller closes the connection */
	}
	{
		g_autoptr(GBytes) big = reordered_body();

		send_text(fd, "* 1 FETCH (BODY[] {5}\r\nhello UID 5 INTERNALDATE "
		              "\"28-Nov-2026 09:15:00 +0900\" RFC822.SIZE 5)\r\n");
		send_text(fd, "* 3 FETCH (FLAGS (\\Seen))\r\n");
		send_text(fd,
		          "* 2 FETCH (RFC822.SIZE %d INTERNALDATE \"01-Jan-2027 00:00:01 -0530\" "
		          "BODY[] {%d}\r\n",
		          REORDERED_BIG, REORDERED_BIG);
		send_all(fd, g_bytes_get_data(big, NULL), REORDERED_BIG);
		send_text(fd, " UID 7)\r\n%s OK Fetch completed.\r\n", tag);
	}
}

static gpointer
scripted_run(gpointer data)
{
	scripted_t *s = data;
	struct pollfd p = {.fd = s->listen_fd, .events = POLLIN};
	g_autoptr(GString) line = g_string_new(NULL);
	int fd;

	if (poll(&p, 1, 10000) <= 0 || (fd = accept(s->listen_fd, NULL, NULL)) < 0)
		return NULL;
	if (s->script == SCRIPT_SILENT) {
		struct pollfd q = {.fd = fd, .events = POLLIN};
		char buf[4096];

		/* Wait for the client to give up (discarding a TLS hello). */
		while (poll(&q, 1, 10000) > 0 && read(fd, buf, sizeof(buf)) > 0)
			;
		close(fd);
		return NULL;
	}
	send_text(fd, "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] scripted server ready\r\n");
	while (read_line(fd, line)) {
		g_auto(GStrv) words = g_strsplit(line->str, " ", 3);
		const char *tag = words[0] ? words[0] : "*";
		const char *cmd = words[0] && words[1] ? words[1] : "";

		g_string_append_printf(s->commands, "%s\n", line->str);
		if (g_ascii_strcasecmp(cmd, "LOGIN") == 0) {
			send_text(fd, "%s OK [CAPABILITY IMAP4rev1 UIDPLUS%s] Logged in\r\n", tag,
			          s->script == SCRIPT_IDLE ? " IDLE" : "");
		} else if (g_ascii_strcasecmp(cmd, "IDLE") == 0 && s->script == SCRIPT_IDLE) {
			s->idles++;
			send_text(fd, "+ idling\r\n");
			if (s->idles == 1) {
				g_usleep(200000);
				send_text(fd, "* 3 EXISTS\r\n");
			} else if (s->idles == 4) {
				send_text(fd, "* BYE Server shutting down\r\n");
				break;
			}
			if (!read_line(fd, line))
				break;
			g_string_append_printf(s->commands, "%s\n", line->str);
			send_text(fd, "%s OK Idle completed.\r\n", tag);
		} else if (g_ascii_strcasecmp(cmd, "CAPABILITY") == 0) {
			send_text(fd, "* CAPABILITY IMAP4rev1 UIDPLUS\r\n%s OK done\r\n", tag);
		} else if (g_ascii_strcasecmp(cmd, "SELECT") == 0) {
			send_text(fd,
			          "* 2 EXISTS\r\n* OK [UIDVALIDITY 42] UIDs valid\r\n"
			          "* OK [UIDNEXT 8] Predicted next UID\r\n"
			          "%s OK [READ-WRITE] Select completed.\r\n",
			          tag);
		} else if (g_ascii_strcasecmp(cmd, "UID") == 0) {
			send_fetch_answer(s, fd, tag);
			if (s->script == SCRIPT_CUT_LITERAL)
				break;
		} else if (g_ascii_strcasecmp(cmd, "LOGOUT") == 0) {
			send_text(fd, "* BYE Logging out\r\n%s OK Logout completed.\r\n", tag);
			break;
		} else {
			send_text(fd, "%s BAD unexpected\r\n", tag);
		}
	}
	close(fd);
	return NULL;
}

static scripted_t *
scripted_start(script_t script)
{
	scripted_t *s = g_new0(scripted_t, 1);
	struct sockaddr_in addr = {.sin_family = AF_INET,
	                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(addr);

	s->script = script;
	s->commands = g_string_new(NULL);
	s->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	g_assert_cmpint(s->listen_fd, >=, 0);
	g_assert_cmpint(bind(s->listen_fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
	g_assert_cmpint(listen(s->listen_fd, 1), ==, 0);
	g_assert_cmpint(getsockname(s->listen_fd, (struct sockaddr *)&addr, &len), ==, 0);
	s->port = ntohs(addr.sin_port);
	s->thread = g_thread_new("scripted-imap", scripted_run, s);
	return s;
}

/* Join the server thread, free it; returns the commands it received. */
static char *
scripted_finish(scripted_t *s)
{
	char *commands;

	g_thread_join(s->thread);
	close(s->listen_fd);
	commands = g_string_free(s->commands, FALSE);
	g_free(s);
	return commands;
}

static void
test_config_free(imap_config_t *c)
{
	g_free(c->host);
	g_free(c->user);
	g_free(c->password);
	g_free(c->mailbox);
	g_free(c);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(imap_config_t, test_config_free)

/* A configuration for the scripted server, with a 1 s timeout. */
static imap_config_t *
scripted_config(const scripted_t *s, security_t security)
{
	imap_config_t *c = g_new0(imap_config_t, 1);

	c->host = g_strdup("127.0.0.1");
	c->port = s->port;
	c->security = security;
	c->user = g_strdup("pi");
	c->password = g_strdup("secret");
	c->mailbox = g_strdup("INBOX");
	c->timeout_seconds = 1;
	c->batch_size = 50;
	return c;
}

static fetcher_t *
connect_ok(const imap_config_t *config)
{
	g_autoptr(GError) error = NULL;
	fetcher_t *f = fetcher_connect(config, &error);

	g_assert_no_error(error);
	g_assert_nonnull(f);
	return f;
}

static void
select_ok(fetcher_t *f, const char *mailbox, fetcher_mailbox_t *box)
{
	g_autoptr(GError) error = NULL;

	g_assert_true(fetcher_select(f, mailbox, box, &error));
	g_assert_no_error(error);
}

static void
test_scripted_silent_greeting(void)
{
	static const security_t modes[] = {SECURITY_NONE, SECURITY_TLS};

	for (gsize i = 0; i < G_N_ELEMENTS(modes); i++) {
		scripted_t *s = scripted_start(SCRIPT_SILENT);
		g_autoptr(imap_config_t) config = scripted_config(s, modes[i]);
		g_autoptr(GError) error = NULL;
		g_autoptr(fetcher_t) f = NULL;
		g_autofree char *commands = NULL;
		g_autofree char *expect = NULL;
		gint64 started = g_get_monotonic_time();

		f = fetcher_connect(config, &error);
		g_assert_null(f);
		g_assert_error(error, FETCHER_ERROR, PI_ERROR_TEMPORARY);
		expect = g_strdup_printf(modes[i] == SECURITY_TLS
		                             ? "127.0.0.1:%u: TLS handshake timed out after 1 s"
		                             : "127.0.0.1:%u: greeting: timed out after 1 s",
		                         s->port);
		g_assert_cmpstr(error->message, ==, expect);
		/* Not a second wait for a LOGOUT on the dead connection. */
		g_assert_cmpint(g_get_monotonic_time() - started, <, 3 * G_USEC_PER_SEC);
		commands = scripted_finish(s);
		g_assert_cmpstr(commands, ==, "");
	}
}

static void
test_scripted_cut_literal(void)
{
	scripted_t *s = scripted_start(SCRIPT_CUT_LITERAL);
	g_autoptr(imap_config_t) config = scripted_config(s, SECURITY_NONE);
	g_autoptr(fetcher_t) f = connect_ok(config);
	g_autoptr(GError) error = NULL;
	g_autofree char *commands = NULL;
	fetcher_mailbox_t box = {0};
	guint32 uids[] = {5, 6};
	collector_t c;

	select_ok(f, "INBOX", &box);
	g_assert_cmpuint(box.uidvalidity, ==, 42);
	g_assert_cmpuint(box.uidnext, ==, 8);
	g_assert_cmpuint(box.exists, ==, 2);
	collector_init(&c);
	{
		fetcher_sink_t sink = {on_chunk, on_done, &c};

		g_assert_false(fetcher_fetch(f, uids, 2, &sink, &error));
	}
	g_assert_error(error, FETCHER_ERROR, PI_ERROR_TEMPORARY);
	g_assert_true(
	    g_str_has_suffix(error->message, ": UID FETCH 5:6: connection closed by the server"));
	g_assert_cmpuint(c.messages->len, ==, 0); /* no done() for a partial message */
	g_assert_cmpuint(c.current->len, <=, 30000);
	collector_clear(&c);
	g_clear_error(&error);
	g_assert_false(fetcher_select(f, "INBOX", &box, &error));
	g_assert_error(error, FETCHER_ERROR, PI_ERROR_TEMPORARY);
	g_clear_pointer(&f, fetcher_free); /* no LOGOUT on a dead connection, no SIGPIPE */
	commands = scripted_finish(s);
	g_assert_cmpstr(commands, ==,
	                "1 LOGIN pi secret\n2 SELECT INBOX\n"
	                "3 UID FETCH 5:6 (UID RFC822.SIZE INTERNALDATE BODY.PEEK[])\n");
}

static void
test_scripted_reordered(void)
{
	scripted_t *s = scripted_start(SCRIPT_REORDERED);
	g_autoptr(imap_config_t) config = scripted_config(s, SECURITY_NONE);
	g_autoptr(fetcher_t) f = connect_ok(config);
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) big = reordered_body();
	g_autofree char *commands = NULL;
	fetcher_mailbox_t box = {0};
	guint32 uids[] = {7, 5};
	const received_t *r;
	collector_t c;

	select_ok(f, "INBOX", &box);
	collector_init(&c);
	{
		fetcher_sink_t sink = {on_chunk, on_done, &c};

		g_assert_true(fetcher_fetch(f, uids, 2, &sink, &error));
		g_assert_no_error(error);
	}
	g_assert_cmpuint(c.messages->len, ==, 2);
	r = g_ptr_array_index(c.messages, 0);
	g_assert_cmpuint(r->uid, ==, 5);
	g_assert_cmpuint(r->size, ==, 5);
	g_assert_cmpmem(g_bytes_get_data(r->data, NULL), g_bytes_get_size(r->data), "hello", 5);
	g_assert_cmpint(r->internal_date, ==, 1795824900); /* 2026-11-28T00:15:00Z */
	r = g_ptr_array_index(c.messages, 1);
	g_assert_cmpuint(r->uid, ==, 7);
	g_assert_cmpuint(r->size, ==, REORDERED_BIG);
	g_assert_true(g_bytes_equal(r->data, big));
	g_assert_cmpuint(r->chunks, >, 1);
	g_assert_cmpint(r->internal_date, ==, 1798781401); /* 2027-01-01T05:30:01Z */
	collector_clear(&c);
	g_clear_pointer(&f, fetcher_free); /* logs out */
	commands = scripted_finish(s);
	g_assert_true(g_str_has_suffix(commands, "\n4 LOGOUT\n"));
}

static void
test_scripted_idle(void)
{
	scripted_t *s = scripted_start(SCRIPT_IDLE);
	g_autoptr(imap_config_t) config = scripted_config(s, SECURITY_NONE);
	g_autoptr(fetcher_t) f = connect_ok(config);
	g_autoptr(GError) error = NULL;
	g_autofree char *commands = NULL;
	fetcher_mailbox_t box = {0};
	fetcher_idle_t why = FETCHER_IDLE_TIMEOUT;
	int wake[2];

	g_assert_true(fetcher_has_capability(f, "IDLE"));
	select_ok(f, "INBOX", &box);
	g_assert_cmpint(pipe(wake), ==, 0);
	/* New mail while idling: back at once. */
	g_assert_true(fetcher_idle(f, 30, wake[0], &why, &error));
	g_assert_no_error(error);
	g_assert_cmpint(why, ==, FETCHER_IDLE_ACTIVITY);
	/* Nothing happens: DONE after the time asked for. */
	g_assert_true(fetcher_idle(f, 1, wake[0], &why, &error));
	g_assert_cmpint(why, ==, FETCHER_IDLE_TIMEOUT);
	/* A signal handler writes to the wake-up descriptor. */
	g_assert_cmpint(write(wake[1], "x", 1), ==, 1);
	g_assert_true(fetcher_idle(f, 30, wake[0], &why, &error));
	g_assert_cmpint(why, ==, FETCHER_IDLE_WOKEN);
	g_assert_no_error(error);
	/* The server goes away while we idle: a temporary error, and the
	 * connection is not used again. */
	g_assert_false(fetcher_idle(f, 30, -1, &why, &error));
	g_assert_error(error, FETCHER_ERROR, PI_ERROR_TEMPORARY);
	g_clear_error(&error);
	g_assert_false(fetcher_noop(f, &error));
	g_assert_error(error, FETCHER_ERROR, PI_ERROR_TEMPORARY);
	g_clear_pointer(&f, fetcher_free);
	close(wake[0]);
	close(wake[1]);
	commands = scripted_finish(s);
	g_assert_cmpstr(commands, ==,
	                "1 LOGIN pi secret\n2 SELECT INBOX\n3 IDLE\nDONE\n4 IDLE\nDONE\n"
	                "5 IDLE\nDONE\n6 IDLE\n");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	/* A regression here tends to hang (libetpan spinning on a closed
	 * connection) rather than fail: end the program instead. */
	alarm(60);
	g_test_add_func("/fetcher/scripted/silent-greeting", test_scripted_silent_greeting);
	g_test_add_func("/fetcher/scripted/cut-literal", test_scripted_cut_literal);
	g_test_add_func("/fetcher/scripted/reordered", test_scripted_reordered);
	g_test_add_func("/fetcher/scripted/idle", test_scripted_idle);
	return g_test_run();
}
