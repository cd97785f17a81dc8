/* testserver.h — start a real server for a C unit test and stop it again.
 *
 * The servers are Python launchers in tests/lib/ (dovecot.py, smtpd.py)
 * that print exactly one JSON object on a line of stdout once they accept
 * connections (ports, file paths, credentials) and run until SIGTERM, when
 * they stop the server and remove nothing the test may still want to read.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

typedef struct testserver testserver_t;

/* Run `python3 PI_SRCDIR/tests/lib/SCRIPT ARGS...` (ARGS NULL-terminated)
 * and wait (up to 30 s) for its ready line.  Fails the test on error.
 * Caller frees with testserver_stop(). */
testserver_t *testserver_start(const char *script, const char *const *args);

/* The ready line's object; borrowed, valid until testserver_stop(). */
JsonObject *testserver_info(testserver_t *server);

/* Convenience accessors on the ready line ("port", "ca_file"…). */
const char *testserver_get_string(testserver_t *server, const char *member);
gint64 testserver_get_int(testserver_t *server, const char *member);

/* SIGTERM, wait for exit, free. NULL-safe. */
void testserver_stop(testserver_t *server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(testserver_t, testserver_stop)

/* A fresh temporary folder for one test, mode 0755 so servers that drop
 * privileges can enter it; removed by testserver_tmpdir_remove(). */
char *testserver_tmpdir(void);
void testserver_tmpdir_remove(const char *dir);
