/* test_fetcher.c — the fetcher against a real Dovecot (tests/lib/dovecot.py):
 * connecting with TLS, STARTTLS and plain text; refused passwords and
 * certificates (no credentials sent); SELECT, UID SEARCH, and UID FETCH
 * streamed and compared byte for byte with what was APPENDed; marking
 * processed by MOVE, by its two fallbacks, and by a flag; \Seen never set.
 *
 * What Dovecot cannot be made to do is in test_scripted.c.
 */
#include "fetcher/fetcher.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/fetcher/collector.h"
#include "tests/lib/testserver.h"

#ifndef PI_SRCDIR
#define PI_SRCDIR "."
#endif

/* The full-featured Dovecot most tests share (each test has its own
 * mailboxes), and one without MOVE, UIDPLUS and TLS. */
static testserver_t *dovecot;
static testserver_t *limited;
/* TLS material shared by the servers that use the default names. */
static char *tls_dir;

/* ---- servers ---------------------------------------------------------------- */

static testserver_t *
dovecot_start(const char *dir, const char *extra)
{
	g_auto(GStrv) extra_args = g_strsplit(extra ? extra : "", " ", -1);
	g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func(g_free);

	g_ptr_array_add(args, g_strdup("--dir"));
	g_ptr_array_add(args, g_strdup(dir));
	for (char **a = extra_args; *a; a++)
		if (**a)
			g_ptr_array_add(args, g_strdup(*a));
	g_ptr_array_add(args, NULL);
	return testserver_start("dovecot.py", (const char *const *)args->pdata);
}

/* Run `dovecot.py SUBCOMMAND --dir DIR ARGS…` (ARGS a NULL-terminated
 * array); returns its stdout. */
static char *
dovecot_cli(testserver_t *server, const char *subcommand, const char *const *args)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GSubprocess) proc = NULL;
	g_autoptr(GBytes) out = NULL;
	g_autoptr(GError) error = NULL;

	g_ptr_array_add(argv, g_strdup("/usr/bin/python3"));
	g_ptr_array_add(argv, g_build_filename(PI_SRCDIR, "tests", "lib", "dovecot.py", NULL));
	g_ptr_array_add(argv, g_strdup(subcommand));
	g_ptr_array_add(argv, g_strdup("--dir"));
	g_ptr_array_add(argv, g_strdup(testserver_get_string(server, "dir")));
	for (; args && *args; args++)
		g_ptr_array_add(argv, g_strdup(*args));
	g_ptr_array_add(argv, NULL);
	proc = g_subprocess_newv((const char *const *)argv->pdata, G_SUBPROCESS_FLAGS_STDOUT_PIPE,
	                         &error);
	g_assert_no_error(error);
	g_subprocess_communicate(proc, NULL, NULL, &out, NULL, &error);
	g_assert_no_error(error);
	g_assert_true(g_subprocess_get_successful(proc));
	return g_strndup(g_bytes_get_data(out, NULL), g_bytes_get_size(out));
}

/* APPEND the N messages MSGS to MAILBOX (created when missing), in one run
 * of the helper, with INTERNALDATE (ISO 8601) and, unless NULL, FLAG;
 * UIDS_OUT receives their UIDs. */
static void
deliver_all(testserver_t *server, const char *mailbox, GBytes *const *msgs, guint n,
            const char *internaldate, const char *flag, guint32 *uids_out)
{
	g_autofree char *dir = testserver_tmpdir();
	g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *out = NULL;
	g_auto(GStrv) lines = NULL;

	g_ptr_array_add(args, g_strdup("--mailbox"));
	g_ptr_array_add(args, g_strdup(mailbox));
	g_ptr_array_add(args, g_strdup("--internaldate"));
	g_ptr_array_add(args, g_strdup(internaldate ? internaldate : "2024-11-28T09:15:00+09:00"));
	if (flag != NULL) {
		g_ptr_array_add(args, g_strdup("--flag"));
		g_ptr_array_add(args, g_strdup(flag));
	}
	for (guint i = 0; i < n; i++) {
		char *name = g_strdup_printf("%s/%03u.eml", dir, i);

		g_assert_true(g_file_set_contents(name, g_bytes_get_data(msgs[i], NULL),
		                                  (gssize)g_bytes_get_size(msgs[i]), NULL));
		g_ptr_array_add(args, name);
	}
	g_ptr_array_add(args, NULL);
	out = dovecot_cli(server, "deliver", (const char *const *)args->pdata);
	lines = g_strsplit(g_strstrip(out), "\n", -1);
	g_assert_cmpuint(g_strv_length(lines), ==, n);
	for (guint i = 0; i < n; i++) {
		uids_out[i] = (guint32)g_ascii_strtoull(lines[i], NULL, 10);
		g_assert_cmpuint(uids_out[i], >, 0);
	}
	testserver_tmpdir_remove(dir);
}

static guint32
deliver(testserver_t *server, const char *mailbox, GBytes *raw, const char *internaldate,
        const char *flag)
{
	guint32 uid;

	deliver_all(server, mailbox, &raw, 1, internaldate, flag, &uid);
	return uid;
}

/* A message as the server (not the fetcher) sees it. */
typedef struct {
	guint32 uid;
	char **flags;
	gsize size;
	char *sha256;
} stored_t;

static void
stored_clear(gpointer p)
{
	stored_t *m = p;

	g_strfreev(m->flags);
	g_free(m->sha256);
}

/* What MAILBOX holds, ascending by UID (empty when it does not exist). */
static GArray *
server_messages(testserver_t *server, const char *mailbox)
{
	const char *args[] = {"--mailbox", mailbox, NULL};
	g_autofree char *out = dovecot_cli(server, "messages", args);
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) error = NULL;
	GArray *messages = g_array_new(FALSE, TRUE, sizeof(stored_t));
	JsonArray *list;

	g_array_set_clear_func(messages, stored_clear);
	json_parser_load_from_data(parser, out, -1, &error);
	g_assert_no_error(error);
	list = json_node_get_array(json_parser_get_root(parser));
	for (guint i = 0; i < json_array_get_length(list); i++) {
		JsonObject *o = json_array_get_object_element(list, i);
		JsonArray *flags = json_object_get_array_member(o, "flags");
		stored_t m = {0};

		m.uid = (guint32)json_object_get_int_member(o, "uid");
		m.size = (gsize)json_object_get_int_member(o, "size");
		m.sha256 = g_strdup(json_object_get_string_member(o, "sha256"));
		m.flags = g_new0(char *, json_array_get_length(flags) + 1);
		for (guint k = 0; k < json_array_get_length(flags); k++)
			m.flags[k] = g_strdup(json_array_get_string_element(flags, k));
		g_array_append_val(messages, m);
	}
	return messages;
}

static const stored_t *
stored_find(const GArray *messages, guint32 uid)
{
	for (guint i = 0; i < messages->len; i++)
		if (g_array_index(messages, stored_t, i).uid == uid)
			return &g_array_index(messages, stored_t, i);
	g_assert_not_reached();
}

static gboolean
stored_has_flag(const stored_t *m, const char *flag)
{
	for (char **f = m->flags; *f; f++)
		if (g_ascii_strcasecmp(*f, flag) == 0)
			return TRUE;
	return FALSE;
}

/* Does the server hold exactly the bytes EXPECTED? */
static gboolean
stored_is(const stored_t *m, GBytes *expected)
{
	g_autofree char *sum =
	    pi_sha256_hex(g_bytes_get_data(expected, NULL), g_bytes_get_size(expected));

	return m->size == g_bytes_get_size(expected) && g_strcmp0(m->sha256, sum) == 0;
}

static goffset
log_size(testserver_t *server)
{
	GStatBuf st;

	return g_stat(testserver_get_string(server, "log"), &st) == 0 ? st.st_size : 0;
}

/* Dovecot's log since OFFSET once it contains NEEDLE (Dovecot writes its
 * log asynchronously); fails the test after 5 s. */
static char *
log_wait_for(testserver_t *server, goffset offset, const char *needle)
{
	gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;

	for (;;) {
		g_autofree char *text = NULL;
		gsize len = 0;

		g_assert_true(
		    g_file_get_contents(testserver_get_string(server, "log"), &text, &len, NULL));
		if ((gsize)offset <= len && strstr(text + offset, needle) != NULL)
			return g_strdup(text + offset);
		g_assert_cmpint(g_get_monotonic_time(), <, deadline);
		g_usleep(20000);
	}
}

/* ---- configuration ----------------------------------------------------------- */

static void
test_config_free(imap_config_t *c)
{
	if (c == NULL)
		return;
	g_free(c->host);
	g_free(c->ca_file);
	g_free(c->user);
	g_free(c->password);
	g_free(c->mailbox);
	g_free(c->processed_mailbox);
	g_free(c->processed_flag);
	g_free(c);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(imap_config_t, test_config_free)

static void
set_string(char **field, const char *value)
{
	g_free(*field);
	*field = g_strdup(value);
}

static imap_config_t *
config_new(testserver_t *server, security_t security)
{
	imap_config_t *c = g_new0(imap_config_t, 1);

	c->host = g_strdup("127.0.0.1");
	c->port = (guint16)testserver_get_int(server, security == SECURITY_TLS ? "imaps_port"
	                                                                       : "imap_port");
	c->security = security;
	c->ca_file = g_strdup(testserver_get_string(server, "ca_file"));
	c->user = g_strdup(testserver_get_string(server, "user"));
	c->password = g_strdup(testserver_get_string(server, "password"));
	c->mailbox = g_strdup("INBOX");
	c->processed_mailbox = g_strdup("Processed");
	c->processed_action = PROCESSED_MOVE;
	c->processed_flag = g_strdup("$PrivacyInboxProcessed");
	c->poll_seconds = 60;
	c->timeout_seconds = 10;
	c->batch_size = 50;
	return c;
}

/* ---- messages ----------------------------------------------------------------- */

/* A CRLF message of about BODY_BYTES, with Japanese headers (ISO-2022-JP
 * encoded words), an 8-bit UTF-8 line, and lines of pseudo-random text. */
static GBytes *
message_new(const char *subject, gsize body_bytes, guint32 seed)
{
	GString *m = g_string_new(NULL);
	g_autoptr(GRand) rand = g_rand_new_with_seed(seed);
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 .,;:-_=+()";

	g_string_append_printf(m,
	                       "From: =?ISO-2022-JP?B?GyRCOzNFRBsoQiAbJEJCQE86GyhC?= "
	                       "<taro@example.org>\r\n"
	                       "To: privacy@example.co.jp\r\n"
	                       "Subject: %s =?ISO-2022-JP?B?GyRCMytKczMrPCgbKEI=?=\r\n"
	                       "Message-ID: <%s.%u@example.org>\r\n"
	                       "Date: Thu, 28 Nov 2024 09:15:00 +0900\r\n"
	                       "MIME-Version: 1.0\r\n"
	                       "Content-Type: text/plain; charset=UTF-8\r\n"
	                       "Content-Transfer-Encoding: 8bit\r\n\r\n"
	                       "開示請求をお願いします。\r\n",
	                       subject, subject, seed);
	while (m->len < body_bytes) {
		for (int i = 0; i < 76; i++)
			g_string_append_c(
			    m, alphabet[g_rand_int_range(rand, 0, sizeof(alphabet) - 1)]);
		g_string_append(m, "\r\n");
	}
	return g_string_free_to_bytes(m);
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

static guint16
closed_port(void)
{
	struct sockaddr_in addr = {.sin_family = AF_INET,
	                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(addr);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
	g_assert_cmpint(getsockname(fd, (struct sockaddr *)&addr, &len), ==, 0);
	close(fd); /* bound, never listening, now closed: nobody answers */
	return ntohs(addr.sin_port);
}

/* ---- connecting ---------------------------------------------------------------- */

static void
test_connect_each_security(void)
{
	static const security_t modes[] = {SECURITY_TLS, SECURITY_STARTTLS, SECURITY_NONE};

	for (gsize i = 0; i < G_N_ELEMENTS(modes); i++) {
		g_autoptr(imap_config_t) config = config_new(dovecot, modes[i]);
		g_autoptr(fetcher_t) f = connect_ok(config);
		fetcher_mailbox_t box = {0};

		/* Capabilities after login (Dovecot lists MOVE only then). */
		g_assert_true(fetcher_has_capability(f, "IMAP4rev1"));
		g_assert_true(fetcher_has_capability(f, "move"));
		g_assert_true(fetcher_has_capability(f, "UIDPLUS"));
		g_assert_false(fetcher_has_capability(f, "STARTTLS"));
		g_assert_false(fetcher_has_capability(f, "XNOSUCHTHING"));
		select_ok(f, "INBOX", &box);
		g_assert_cmpuint(box.uidvalidity, >, 0);
		g_assert_cmpuint(box.uidnext, >, 0);
	}
	g_assert_false(fetcher_has_capability(NULL, "IMAP4rev1"));
	fetcher_free(NULL);
}

static void
test_connect_by_name(void)
{
	/* "localhost": a DNS name checked against DNS names, sent as SNI. */
	g_autoptr(imap_config_t) config = config_new(dovecot, SECURITY_TLS);
	g_autoptr(fetcher_t) f = NULL;

	set_string(&config->host, "localhost");
	f = connect_ok(config);
	g_assert_true(fetcher_has_capability(f, "IMAP4rev1"));
}

static void
test_connect_wrong_password(void)
{
	g_autoptr(imap_config_t) config = config_new(dovecot, SECURITY_STARTTLS);
	g_autoptr(GError) error = NULL;
	g_autoptr(fetcher_t) f = NULL;
	g_autofree char *expect = NULL;

	set_string(&config->password, "wrong");
	f = fetcher_connect(config, &error);
	g_assert_null(f);
	g_assert_error(error, FETCHER_ERROR, PI_ERROR_AUTH);
	expect = g_strdup_printf("127.0.0.1:%u: login refused: [AUTHENTICATIONFAILED] "
	                         "Authentication failed.",
	                         config->port);
	g_assert_cmpstr(error->message, ==, expect);
}

static void
test_connect_refused(void)
{
	g_autoptr(imap_config_t) config = config_new(dovecot, SECURITY_TLS);
	g_autoptr(GError) error = NULL;
	g_autoptr(fetcher_t) f = NULL;
	g_autofree char *expect = NULL;

	config->port = closed_port();
	f = fetcher_connect(config, &error);
	g_assert_null(f);
	g_assert_error(error, FETCHER_ERROR, PI_ERROR_TEMPORARY);
	expect =
	    g_strdup_printf("cannot connect to 127.0.0.1:%u: Connection refused", config->port);
	g_assert_cmpstr(error->message, ==, expect);
}

static void
test_connect_no_password(void)
{
	g_autoptr(imap_config_t) config = config_new(dovecot, SECURITY_TLS);
	g_autoptr(GError) error = NULL;

	g_clear_pointer(&config->password, g_free);
	g_assert_null(fetcher_connect(config, &error));
	g_assert_error(error, FETCHER_ERROR, PI_ERROR_FATAL);
}

/* ---- certificates -------------------------------------------------------------- */

/* Connect expecting PI_ERROR_TLS with MESSAGE, then check in Dovecot's log
 * that the connection ended without an authentication attempt: the user
 * name, unique to this attempt, must not appear in it. */
static void
expect_tls_refusal(testserver_t *server, imap_config_t *config, const char *message)
{
	static guint attempt;
	g_autoptr(GError) error = NULL;
	g_autoptr(fetcher_t) f = NULL;
	g_autofree char *expect = g_strdup_printf("127.0.0.1:%u: %s", config->port, message);
	g_autofree char *user = g_strdup_printf("probe%u", ++attempt);
	goffset offset = log_size(server);
	g_autofree char *log = NULL;

	set_string(&config->user, user);
	f = fetcher_connect(config, &error);
	g_assert_null(f);
	g_assert_error(error, FETCHER_ERROR, PI_ERROR_TLS);
	g_assert_cmpstr(error->message, ==, expect);
	log = log_wait_for(server, offset, "no auth attempts");
	g_assert_null(strstr(log, user));
}

static void
test_tls_unrelated_ca(void)
{
	static const security_t modes[] = {SECURITY_TLS, SECURITY_STARTTLS};

	for (gsize i = 0; i < G_N_ELEMENTS(modes); i++) {
		g_autoptr(imap_config_t) config = config_new(dovecot, modes[i]);

		set_string(&config->ca_file, testserver_get_string(dovecot, "other_ca_file"));
		expect_tls_refusal(dovecot, config, "certificate not trusted (signer not found)");
	}
}

static void
test_tls_system_store(void)
{
	/* The throwaway CA is in no system trust store. */
	g_autoptr(imap_config_t) config = config_new(dovecot, SECURITY_TLS);

	g_clear_pointer(&config->ca_file, g_free);
	expect_tls_refusal(dovecot, config, "certificate not trusted (signer not found)");
}

static void
test_tls_wrong_name(void)
{
	/* A certificate from a CA we trust, but for other names only. */
	g_autofree char *dir = testserver_tmpdir();
	g_autoptr(testserver_t) server =
	    dovecot_start(dir, "--cert-names imap.example.org,10.9.8.7");
	g_autoptr(imap_config_t) config = config_new(server, SECURITY_TLS);

	expect_tls_refusal(server, config, "certificate does not match host name 127.0.0.1");
	config->security = SECURITY_STARTTLS;
	config->port = (guint16)testserver_get_int(server, "imap_port");
	expect_tls_refusal(server, config, "certificate does not match host name 127.0.0.1");
	/* A DNS name is checked too. */
	set_string(&config->host, "localhost");
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(fetcher_t) f = fetcher_connect(config, &error);

		g_assert_null(f);
		g_assert_error(error, FETCHER_ERROR, PI_ERROR_TLS);
		g_assert_true(g_str_has_suffix(error->message,
		                               ": certificate does not match host name localhost"));
	}
	testserver_stop(g_steal_pointer(&server));
	testserver_tmpdir_remove(dir);
}

static void
test_tls_on_plain_port(void)
{
	g_autoptr(imap_config_t) config = config_new(dovecot, SECURITY_TLS);
	g_autoptr(GError) error = NULL;
	g_autoptr(fetcher_t) f = NULL;

	config->port = (guint16)testserver_get_int(dovecot, "imap_port");
	f = fetcher_connect(config, &error);
	g_assert_null(f);
	g_assert_error(error, FETCHER_ERROR, PI_ERROR_TLS);
	g_assert_true(g_str_has_suffix(error->message, ": TLS handshake failed"));
}

static void
test_starttls_not_offered(void)
{
	g_autoptr(imap_config_t) config = config_new(limited, SECURITY_STARTTLS);

	expect_tls_refusal(limited, config, "server does not offer STARTTLS");
}

/* ---- select, list, fetch -------------------------------------------------------- */

static void
test_select_missing(void)
{
	g_autoptr(imap_config_t) config = config_new(dovecot, SECURITY_TLS);
	g_autoptr(fetcher_t) f = connect_ok(config);
	g_autoptr(GError) error = NULL;
	fetcher_mailbox_t box = {0};
	GArray *uids;

	g_assert_false(fetcher_select(f, "No such mailbox", &box, &error));
	g_assert_error(error, FETCHER_ERROR, PI_ERROR_FATAL);
	g_assert_nonnull(strstr(error->message, ": SELECT \"No such mailbox\" refused: "));
	g_assert_null(strchr(error->message, '\n'));
	g_clear_error(&error);
	/* Nothing selected now: listing is refused, the connection still works. */
	uids = fetcher_list_uids(f, 0, &error);
	g_assert_null(uids);
	g_assert_error(error, FETCHER_ERROR, PI_ERROR_FATAL);
	select_ok(f, "INBOX", &box);
}

static void
test_fetch_roundtrip(void)
{
	const char *mailbox = "t-roundtrip";
	g_autoptr(imap_config_t) config = config_new(dovecot, SECURITY_TLS);
	g_autoptr(fetcher_t) f = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) uids = NULL;
	g_autoptr(GArray) stored = NULL;
	GBytes *sent[4];
	guint32 uid[4];
	fetcher_mailbox_t box = {0};
	collector_t c;
	guint32 request[6];

	sent[0] = message_new("small", 300, 1);
	sent[1] = message_new("medium", 70000, 2);
	sent[2] = message_new("large", 6 * 1024 * 1024, 3); /* several MB: many chunks */
	sent[3] = g_bytes_new_static("Subject: empty body\r\n\r\n", 23);
	deliver_all(dovecot, mailbox, sent, 3, "2024-11-28T09:15:00+09:00", NULL, uid);
	uid[3] = deliver(dovecot, mailbox, sent[3], "2025-01-01T00:00:01-05:30", "\\Flagged");

	f = connect_ok(config);
	select_ok(f, mailbox, &box);
	g_assert_cmpuint(box.exists, ==, 4);
	g_assert_cmpuint(box.uidnext, ==, uid[3] + 1);
	uids = fetcher_list_uids(f, 0, &error);
	g_assert_no_error(error);
	g_assert_cmpmem(uids->data, uids->len * sizeof(guint32), uid, sizeof(uid));

	/* Out of order, with a duplicate and a UID that does not exist. */
	request[0] = uid[2];
	request[1] = uid[0];
	request[2] = uid[3];
	request[3] = uid[1];
	request[4] = uid[0];
	request[5] = uid[3] + 100;
	collector_init(&c);
	{
		fetcher_sink_t sink = {on_chunk, on_done, &c};

		g_assert_true(fetcher_fetch(f, request, G_N_ELEMENTS(request), &sink, &error));
		g_assert_no_error(error);
	}
	g_assert_cmpuint(c.messages->len, ==, 4);
	for (guint i = 0; i < 4; i++) {
		const received_t *r = received_find(&c, uid[i]);

		g_assert_true(g_bytes_equal(r->data, sent[i]));
		g_assert_cmpuint(r->size, ==, g_bytes_get_size(sent[i]));
	}
	g_assert_cmpuint(received_find(&c, uid[0])->chunks, ==, 1);
	g_assert_cmpuint(received_find(&c, uid[2])->chunks, >=, 96); /* 6 MiB / 64 KiB */
	g_assert_cmpuint(c.current->len, ==, 0);
	for (guint i = 0; i < 3; i++) /* 2024-11-28 09:15 +09:00 */
		g_assert_cmpint(received_find(&c, uid[i])->internal_date, ==, 1732752900);
	g_assert_cmpint(received_find(&c, uid[3])->internal_date, ==, 1735709401); /* 05:30:01Z */
	collector_clear(&c);

	/* BODY.PEEK[]: nothing became \Seen; other flags stay. */
	stored = server_messages(dovecot, mailbox);
	g_assert_cmpuint(stored->len, ==, 4);
	for (guint i = 0; i < 4; i++)
		g_assert_false(stored_has_flag(stored_find(stored, uid[i]), "\\Seen"));
	g_assert_true(stored_has_flag(stored_find(stored, uid[3]), "\\Flagged"));
	for (guint i = 0; i < 4; i++)
		g_bytes_unref(sent[i]);
}

static void
test_fetch_batch(void)
{
	/* Many messages in one UID FETCH, then in two overlapping ones. */
	const char *mailbox = "t-batch";
	enum { N = 40 };
	g_autoptr(imap_config_t) config = config_new(dovecot, SECURITY_NONE);
	g_autoptr(fetcher_t) f = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) uids = NULL;
	GBytes *sent[N];
	guint32 delivered[N];
	fetcher_mailbox_t box = {0};
	fetcher_sink_t sink;
	collector_t c;

	for (guint i = 0; i < N; i++)
		sent[i] = message_new("batch", 2000 + i * 997, 100 + i);
	deliver_all(dovecot, mailbox, sent, N, NULL, NULL, delivered);

	f = connect_ok(config);
	select_ok(f, mailbox, &box);
	uids = fetcher_list_uids(f, 0, &error);
	g_assert_no_error(error);
	g_assert_cmpmem(uids->data, uids->len * sizeof(guint32), delivered, sizeof(delivered));
	collector_init(&c);
	sink = (fetcher_sink_t){on_chunk, on_done, &c};
	g_assert_true(fetcher_fetch(f, delivered, N, &sink, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(c.messages->len, ==, N);
	g_assert_true(fetcher_fetch(f, delivered, 25, &sink, &error));
	g_assert_true(fetcher_fetch(f, &delivered[20], N - 20, &sink, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(c.messages->len, ==, 2 * N + 5);
	for (guint i = 0; i < c.messages->len; i++) {
		const received_t *r = g_ptr_array_index(c.messages, i);
		guint k = 0;

		while (delivered[k] != r->uid)
			k++;
		g_assert_true(g_bytes_equal(r->data, sent[k]));
	}
	collector_clear(&c);
	for (guint i = 0; i < N; i++)
		g_bytes_unref(sent[i]);
}

static void
test_fetch_sink_error(void)
{
	/* done() failing stops the fetch with the sink's own error. */
	const char *mailbox = "t-sink-error";
	g_autoptr(imap_config_t) config = config_new(dovecot, SECURITY_TLS);
	g_autoptr(fetcher_t) f = NULL;
	g_autoptr(GError) error = NULL;
	GBytes *m[3];
	guint32 uids[3];
	fetcher_mailbox_t box = {0};
	collector_t c;

	for (guint i = 0; i < 3; i++)
		m[i] = message_new("sink", 200000, 200 + i);
	deliver_all(dovecot, mailbox, m, 3, NULL, NULL, uids);
	for (guint i = 0; i < 3; i++)
		g_bytes_unref(m[i]);
	f = connect_ok(config);
	select_ok(f, mailbox, &box);
	collector_init(&c);
	c.fail_after = 1;
	{
		fetcher_sink_t sink = {on_chunk, on_done, &c};

		g_assert_false(fetcher_fetch(f, uids, 3, &sink, &error));
	}
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NO_SPACE);
	g_assert_cmpuint(c.messages->len, ==, 1);
	collector_clear(&c);
	g_clear_error(&error);
	/* Stopped in the middle of the answer: the connection is done for. */
	g_assert_false(fetcher_select(f, mailbox, &box, &error));
	g_assert_error(error, FETCHER_ERROR, PI_ERROR_TEMPORARY);
}

static void
test_list_after_last(void)
{
	const char *mailbox = "t-list";
	g_autoptr(imap_config_t) config = config_new(dovecot, SECURITY_STARTTLS);
	g_autoptr(fetcher_t) f = NULL;
	g_autoptr(GError) error = NULL;
	fetcher_mailbox_t box = {0};
	GBytes *m[2] = {message_new("list", 100, 300), message_new("list", 100, 301)};
	guint32 uid[2];

	deliver_all(dovecot, mailbox, m, 2, NULL, NULL, uid);
	g_bytes_unref(m[0]);
	g_bytes_unref(m[1]);
	f = connect_ok(config);
	select_ok(f, mailbox, &box);
	{
		/* "n:*" with n past the last UID matches the last message: filtered. */
		g_autoptr(GArray) none = fetcher_list_uids(f, uid[1], &error);
		g_autoptr(GArray) far = fetcher_list_uids(f, uid[1] + 1000, &error);
		g_autoptr(GArray) max = fetcher_list_uids(f, G_MAXUINT32, &error);
		g_autoptr(GArray) one = fetcher_list_uids(f, uid[0], &error);
		g_autoptr(GArray) all = fetcher_list_uids(f, 0, &error);

		g_assert_no_error(error);
		g_assert_cmpuint(none->len, ==, 0);
		g_assert_cmpuint(far->len, ==, 0);
		g_assert_cmpuint(max->len, ==, 0);
		g_assert_cmpuint(one->len, ==, 1);
		g_assert_cmpuint(g_array_index(one, guint32, 0), ==, uid[1]);
		g_assert_cmpmem(all->data, all->len * sizeof(guint32), uid, sizeof(uid));
	}
}

/* ---- marking processed -------------------------------------------------------- */

/* Deliver three messages to MAILBOX plus a bystander someone else flagged
 * \Deleted; mark two of them (and a UID no longer there) processed by MOVE
 * into PROCESSED, which does not exist yet; check what landed where.
 * Returns whether the bystander survived. */
static gboolean
move_and_check(testserver_t *server, security_t security, const char *mailbox,
               const char *processed, gboolean expect_move_capability)
{
	g_autoptr(imap_config_t) config = config_new(server, security);
	g_autoptr(fetcher_t) f = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) left = NULL;
	g_autoptr(GArray) arrived = NULL;
	GBytes *sent[3];
	guint32 uid[3], bystander, marks[3];
	fetcher_mailbox_t box = {0};
	gboolean survived;

	for (guint i = 0; i < 3; i++)
		sent[i] = message_new("move", 5000, 400 + i);
	deliver_all(server, mailbox, sent, 3, NULL, NULL, uid);
	{
		g_autoptr(GBytes) other = message_new("bystander", 100, 499);
		g_autoptr(GArray) none = server_messages(server, processed);

		bystander = deliver(server, mailbox, other, NULL, "\\Deleted");
		g_assert_cmpuint(none->len, ==, 0);
	}

	set_string(&config->processed_mailbox, processed);
	f = connect_ok(config);
	g_assert_cmpint(fetcher_has_capability(f, "MOVE"), ==, expect_move_capability);
	select_ok(f, mailbox, &box);
	marks[0] = uid[1];
	marks[1] = uid[0];
	marks[2] = bystander + 50; /* gone or never there: not an error */
	g_assert_true(fetcher_mark_processed(f, marks, 3, &error));
	g_assert_no_error(error);
	/* Again: now none of them is there. */
	g_assert_true(fetcher_mark_processed(f, marks, 3, &error));
	g_assert_no_error(error);
	g_assert_true(fetcher_mark_processed(f, marks, 0, &error));
	g_assert_no_error(error);

	left = server_messages(server, mailbox);
	g_assert_cmpuint(g_array_index(left, stored_t, 0).uid, ==, uid[2]);
	survived = left->len == 2;
	if (survived)
		g_assert_cmpuint(g_array_index(left, stored_t, 1).uid, ==, bystander);
	else
		g_assert_cmpuint(left->len, ==, 1);
	arrived = server_messages(server, processed);
	g_assert_cmpuint(arrived->len, ==, 2);
	for (guint i = 0; i < 2; i++) {
		const stored_t *m = &g_array_index(arrived, stored_t, i);

		g_assert_true(stored_is(m, sent[i])); /* ascending UIDs: uid[0], uid[1] */
		g_assert_false(stored_has_flag(m, "\\Deleted"));
		g_assert_false(stored_has_flag(m, "\\Seen"));
	}
	for (guint i = 0; i < 3; i++)
		g_bytes_unref(sent[i]);
	return survived;
}

static void
test_mark_move(void)
{
	/* UID MOVE, into a mailbox created on the way, with a Japanese name. */
	g_assert_true(move_and_check(dovecot, SECURITY_TLS, "t-move", "処理済み/t-move", TRUE));
}

static void
test_mark_move_without_move(void)
{
	/* COPY + STORE \Deleted + UID EXPUNGE: the bystander stays. */
	g_autofree char *dir = testserver_tmpdir();
	g_autofree char *extra = g_strdup_printf("--no-move --tls-dir %s", tls_dir);
	g_autoptr(testserver_t) server = dovecot_start(dir, extra);

	g_assert_true(move_and_check(server, SECURITY_STARTTLS, "INBOX", "Processed", FALSE));
	testserver_stop(g_steal_pointer(&server));
	testserver_tmpdir_remove(dir);
}

static void
test_mark_move_without_uidplus(void)
{
	/* COPY + STORE \Deleted + EXPUNGE: as documented, the plain EXPUNGE
	 * also removes the message someone else flagged \Deleted. */
	g_assert_false(move_and_check(limited, SECURITY_NONE, "INBOX", "Processed", FALSE));
}

static void
test_mark_flag(void)
{
	const char *mailbox = "t-flag";
	g_autoptr(imap_config_t) config = config_new(dovecot, SECURITY_TLS);
	g_autoptr(fetcher_t) f = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) stored = NULL;
	GBytes *m[3];
	guint32 uid[3], marks[4];
	fetcher_mailbox_t box = {0};

	for (guint i = 0; i < 3; i++)
		m[i] = message_new("flag", 1000, 500 + i);
	deliver_all(dovecot, mailbox, m, 3, NULL, NULL, uid);
	for (guint i = 0; i < 3; i++)
		g_bytes_unref(m[i]);
	config->processed_action = PROCESSED_FLAG;
	f = connect_ok(config);
	select_ok(f, mailbox, &box);
	marks[0] = uid[2];
	marks[1] = uid[0];
	marks[2] = uid[2];
	marks[3] = uid[2] + 10; /* not there */
	g_assert_true(fetcher_mark_processed(f, marks, 4, &error));
	g_assert_no_error(error);
	stored = server_messages(dovecot, mailbox);
	g_assert_cmpuint(stored->len, ==, 3); /* flagged, not moved */
	g_assert_true(stored_has_flag(stored_find(stored, uid[0]), "$PrivacyInboxProcessed"));
	g_assert_false(stored_has_flag(stored_find(stored, uid[1]), "$PrivacyInboxProcessed"));
	g_assert_true(stored_has_flag(stored_find(stored, uid[2]), "$PrivacyInboxProcessed"));
	for (guint i = 0; i < 3; i++)
		g_assert_false(stored_has_flag(stored_find(stored, uid[i]), "\\Seen"));

	/* A flag that is not an IMAP atom is a configuration error. */
	set_string(&config->processed_flag, "two words");
	g_assert_false(fetcher_mark_processed(f, marks, 1, &error));
	g_assert_error(error, FETCHER_ERROR, PI_ERROR_FATAL);
}

int
main(int argc, char **argv)
{
	g_autofree char *dir = NULL;
	g_autofree char *limited_dir = NULL;
	g_autofree char *extra = NULL;
	int status;

	g_test_init(&argc, &argv, NULL);
	alarm(180); /* a hung connection ends the program (the servers follow it) */
	dir = testserver_tmpdir();
	limited_dir = testserver_tmpdir();
	tls_dir = g_build_filename(dir, "tls", NULL);
	dovecot = dovecot_start(dir, NULL);
	extra = g_strdup_printf("--no-move --no-uidplus --no-tls --tls-dir %s", tls_dir);
	limited = dovecot_start(limited_dir, extra);

	g_test_add_func("/fetcher/connect/each-security", test_connect_each_security);
	g_test_add_func("/fetcher/connect/by-name", test_connect_by_name);
	g_test_add_func("/fetcher/connect/wrong-password", test_connect_wrong_password);
	g_test_add_func("/fetcher/connect/refused", test_connect_refused);
	g_test_add_func("/fetcher/connect/no-password", test_connect_no_password);
	g_test_add_func("/fetcher/tls/unrelated-ca", test_tls_unrelated_ca);
	g_test_add_func("/fetcher/tls/system-store", test_tls_system_store);
	g_test_add_func("/fetcher/tls/wrong-name", test_tls_wrong_name);
	g_test_add_func("/fetcher/tls/plain-port", test_tls_on_plain_port);
	g_test_add_func("/fetcher/tls/starttls-not-offered", test_starttls_not_offered);
	g_test_add_func("/fetcher/select/missing", test_select_missing);
	g_test_add_func("/fetcher/fetch/roundtrip", test_fetch_roundtrip);
	g_test_add_func("/fetcher/fetch/batch", test_fetch_batch);
	g_test_add_func("/fetcher/fetch/sink-error", test_fetch_sink_error);
	g_test_add_func("/fetcher/list/after-last", test_list_after_last);
	g_test_add_func("/fetcher/mark/move", test_mark_move);
	g_test_add_func("/fetcher/mark/move-without-move", test_mark_move_without_move);
	g_test_add_func("/fetcher/mark/move-without-uidplus", test_mark_move_without_uidplus);
	g_test_add_func("/fetcher/mark/flag", test_mark_flag);
	status = g_test_run();

	testserver_stop(limited);
	testserver_stop(dovecot);
	testserver_tmpdir_remove(limited_dir);
	testserver_tmpdir_remove(dir);
	g_free(tls_dir);
	return status;
}
