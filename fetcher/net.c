/* net.c — the TCP connection under libetpan.
 *
 * We connect ourselves rather than through mailimap_socket_connect() /
 * mailimap_ssl_connect(): libetpan's connect (1.9.4) never reads SO_ERROR,
 * so "Connection refused" surfaces later as a bare stream error, and errno is
 * lost.  The socket then goes to libetpan's own socket or TLS stream.
 *
 * Every stream is wrapped in a guard (a mailstream_low driver that forwards
 * to the real one) because of three things libetpan 1.9.4 gets wrong:
 *  - a read returning 0 (end of file) in the middle of a literal makes
 *    mailimap_literal_parse_progress() loop forever (fixed upstream after
 *    1.9.4): the guard turns end of file into an error;
 *  - a signal delivered during poll() fails the read; the guard retries;
 *  - send() to a closed connection raises SIGPIPE; the guard blocks SIGPIPE
 *    in the calling thread around every write and consumes the one raised,
 *    so a library never needs the process to ignore SIGPIPE.
 * It also records whether a failed read timed out or found the connection
 * closed, so errors can say which.
 */
#include "fetcher/fetcher-internal.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---- connect ---------------------------------------------------------------- */

/* Connect FD to ADDR within TIMEOUT_MS; 0 or an errno value. */
static int
connect_one(int fd, const struct sockaddr *addr, socklen_t len, int timeout_ms)
{
	struct pollfd pfd = {.fd = fd, .events = POLLOUT};
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
	int err = 0;
	socklen_t err_len = sizeof(err);

	if (connect(fd, addr, len) == 0)
		return 0;
	if (errno != EINPROGRESS && errno != EINTR)
		return errno;
	for (;;) {
		int left = (int)((deadline - g_get_monotonic_time()) / 1000);
		int r;

		if (left <= 0)
			return ETIMEDOUT;
		r = poll(&pfd, 1, left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return errno;
		if (r == 0)
			return ETIMEDOUT;
		break;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len) < 0)
		return errno;
	return err;
}

int
fetcher_net_connect(const char *host, guint16 port, guint timeout_seconds, GError **error)
{
	struct addrinfo hints = {
	    .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG};
	struct addrinfo *list = NULL;
	char service[8];
	int r, last_errno = 0, fd = -1;

	g_snprintf(service, sizeof(service), "%u", port);
	r = getaddrinfo(host, service, &hints, &list);
	if (r == EAI_NONAME || r == EAI_ADDRFAMILY) { /* AI_ADDRCONFIG without a route */
		hints.ai_flags = 0;
		r = getaddrinfo(host, service, &hints, &list);
	}
	if (r != 0) {
		g_set_error(error, FETCHER_ERROR, PI_ERROR_TEMPORARY, "cannot resolve %s: %s", host,
		            r == EAI_SYSTEM ? g_strerror(errno) : gai_strerror(r));
		return -1;
	}
	for (struct addrinfo *ai = list; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		            ai->ai_protocol);
		if (fd < 0) {
			last_errno = errno;
			continue;
		}
		last_errno = connect_one(fd, ai->ai_addr, ai->ai_addrlen,
		                         (int)MIN(timeout_seconds, G_MAXINT / 1000) * 1000);
		if (last_errno == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(list);
	if (fd < 0) {
		if (last_errno == ETIMEDOUT)
			g_set_error(error, FETCHER_ERROR, PI_ERROR_TEMPORARY,
			            "cannot connect to %s:%u: timed out after %u s", host, port,
			            timeout_seconds);
		else
			g_set_error(error, FETCHER_ERROR, PI_ERROR_TEMPORARY,
			            "cannot connect to %s:%u: %s", host, port,
			            g_strerror(last_errno));
	}
	return fd;
}

/* ---- the stream guard ------------------------------------------------------- */

typedef struct {
	mailstream_low *inner;
	fetcher_io_t *io;
} guard_t;

static ssize_t
guard_read(mailstream_low *s, void *buf, size_t count)
{
	guard_t *g = s->data;
	time_t timeout = mailstream_low_get_timeout(g->inner);

	for (;;) {
		gint64 start = g_get_monotonic_time();
		ssize_t n;

		errno = 0;
		n = mailstream_low_read(g->inner, buf, count);
		if (n > 0)
			return n;
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0) {
			g->io->closed = TRUE;
		} else if (timeout > 0 && g_get_monotonic_time() - start >=
		                              (gint64)timeout * G_USEC_PER_SEC - 200000) {
			/* libetpan's poll() timed out (it says no more than -1). */
			g->io->timed_out = TRUE;
		} else {
			g->io->closed = TRUE; /* reset, TLS close, EOF inside TLS */
		}
		return -1;
	}
}

static ssize_t
guard_write(mailstream_low *s, const void *buf, size_t count)
{
	guard_t *g = s->data;
	sigset_t pipe_set, old_mask, pending;
	gboolean was_pending;
	ssize_t n;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old_mask);
	do {
		errno = 0;
		n = mailstream_low_write(g->inner, buf, count);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		g->io->closed = TRUE;
	if (!was_pending) {
		struct timespec zero = {0, 0};

		sigpending(&pending);
		if (sigismember(&pending, SIGPIPE)) {
			int saved = errno;

			while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
				;
			errno = saved;
		}
	}
	pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	return n;
}

static int
guard_close(mailstream_low *s)
{
	guard_t *g = s->data;

	return mailstream_low_close(g->inner);
}

static int
guard_get_fd(mailstream_low *s)
{
	guard_t *g = s->data;

	return mailstream_low_get_fd(g->inner);
}

static void
guard_free(mailstream_low *s)
{
	guard_t *g = s->data;

	mailstream_low_free(g->inner);
	g_free(g);
	free(s); /* allocated by mailstream_low_new() */
}

static void
guard_cancel(mailstream_low *s)
{
	guard_t *g = s->data;

	mailstream_low_cancel(g->inner);
}

static struct mailstream_cancel *
guard_get_cancel(mailstream_low *s)
{
	guard_t *g = s->data;

	return mailstream_low_get_cancel(g->inner);
}

static carray *
guard_get_certificate_chain(mailstream_low *s)
{
	guard_t *g = s->data;

	return mailstream_low_get_certificate_chain(g->inner);
}

static int
guard_setup_idle(mailstream_low *s)
{
	guard_t *g = s->data;

	return mailstream_low_setup_idle(g->inner);
}

static int
guard_unsetup_idle(mailstream_low *s)
{
	guard_t *g = s->data;

	return mailstream_low_unsetup_idle(g->inner);
}

static int
guard_interrupt_idle(mailstream_low *s)
{
	guard_t *g = s->data;

	return mailstream_low_interrupt_idle(g->inner);
}

static mailstream_low_driver guard_driver = {
    .mailstream_read = guard_read,
    .mailstream_write = guard_write,
    .mailstream_close = guard_close,
    .mailstream_get_fd = guard_get_fd,
    .mailstream_free = guard_free,
    .mailstream_cancel = guard_cancel,
    .mailstream_get_cancel = guard_get_cancel,
    .mailstream_get_certificate_chain = guard_get_certificate_chain,
    .mailstream_setup_idle = guard_setup_idle,
    .mailstream_unsetup_idle = guard_unsetup_idle,
    .mailstream_interrupt_idle = guard_interrupt_idle,
};

mailstream_low *
fetcher_net_guard(mailstream_low *inner, fetcher_io_t *io)
{
	guard_t *g = g_new0(guard_t, 1);
	mailstream_low *s;

	g->inner = inner;
	g->io = io;
	s = mailstream_low_new(g, &guard_driver);
	if (s == NULL)
		g_error("out of memory wrapping an IMAP stream");
	mailstream_low_set_timeout(s, mailstream_low_get_timeout(inner));
	return s;
}
