/* idle.c — waiting for new mail: IMAP IDLE (RFC 2177) with a wake-up file
 * descriptor for signals, NOOP for servers without IDLE, and the check that
 * nothing at or below the checkpoint was left behind on the server.
 *
 * libetpan's mailstream_wait_idle() needs its own cancel pipes and does not
 * look at bytes already buffered, so the wait is a plain poll() on the
 * socket and the caller's wake-up descriptor, after checking the buffer
 * (the server's "+ idling" and a first "* n EXISTS" may come in one read). */
#include "fetcher/fetcher-internal.h"

#include <errno.h>
#include <poll.h>
#include <string.h>

static fetcher_idle_t
wait_for_activity(fetcher_t *f, guint seconds, int wake_fd)
{
	mailstream *stream = f->imap->imap_stream;
	gint64 deadline = g_get_monotonic_time() + (gint64)seconds * G_USEC_PER_SEC;
	struct pollfd pfd[2];
	int fd;

	if (stream != NULL && stream->read_buffer_len > 0)
		return FETCHER_IDLE_ACTIVITY;
	fd = mailimap_idle_get_fd(f->imap);
	if (fd < 0)
		return FETCHER_IDLE_ACTIVITY; /* let DONE find out what is wrong */
	pfd[0] = (struct pollfd){.fd = fd, .events = POLLIN};
	pfd[1] = (struct pollfd){.fd = wake_fd, .events = POLLIN};
	for (;;) {
		gint64 left_ms = (deadline - g_get_monotonic_time()) / 1000;
		int r;

		if (left_ms <= 0)
			return FETCHER_IDLE_TIMEOUT;
		r = poll(pfd, wake_fd >= 0 ? 2 : 1, (int)MIN(left_ms, G_MAXINT));
		if (r < 0 && errno == EINTR)
			continue; /* the handler wrote to WAKE_FD if it matters */
		if (r < 0)
			return FETCHER_IDLE_ACTIVITY;
		if (r == 0)
			return FETCHER_IDLE_TIMEOUT;
		if (pfd[0].revents != 0)
			return FETCHER_IDLE_ACTIVITY;
		if (wake_fd >= 0 && pfd[1].revents != 0)
			return FETCHER_IDLE_WOKEN;
	}
}

gboolean
fetcher_idle(fetcher_t *fetcher, guint seconds, int wake_fd, fetcher_idle_t *result_out,
             GError **error)
{
	fetcher_idle_t result;
	int r;

	if (!fetcher_ready(fetcher, TRUE, error))
		return FALSE;
	if (!fetcher_has_capability(fetcher, "IDLE"))
		return fetcher_fail(fetcher, PI_ERROR_FATAL, error, "server does not support IDLE");
	r = mailimap_idle(fetcher->imap);
	if (!fetcher_check(fetcher, r, PI_ERROR_TEMPORARY, error, "IDLE"))
		return FALSE;
	g_debug("%s: idling (up to %u s)", fetcher->where, seconds);
	result = wait_for_activity(fetcher, seconds, wake_fd);
	memset(&fetcher->io, 0, sizeof(fetcher->io));
	r = mailimap_idle_done(fetcher->imap);
	if (r == MAILIMAP_ERROR_EXTENSION) /* DONE answered NO or BAD */
		return fetcher_fail(fetcher, PI_ERROR_TEMPORARY, error,
		                    "IDLE: server refused DONE");
	if (!fetcher_check(fetcher, r, PI_ERROR_TEMPORARY, error, "IDLE DONE"))
		return FALSE;
	g_debug("%s: IDLE ended (%s)", fetcher->where,
	        result == FETCHER_IDLE_ACTIVITY  ? "server activity"
	        : result == FETCHER_IDLE_TIMEOUT ? "re-issue"
	                                         : "woken");
	if (result_out != NULL)
		*result_out = result;
	return TRUE;
}

gboolean
fetcher_noop(fetcher_t *fetcher, GError **error)
{
	int r;

	if (!fetcher_ready(fetcher, FALSE, error))
		return FALSE;
	r = mailimap_noop(fetcher->imap);
	return fetcher_check(fetcher, r, PI_ERROR_TEMPORARY, error, "NOOP");
}

gboolean
fetcher_count_unprocessed(fetcher_t *fetcher, guint32 last_uid, guint *count_out, GError **error)
{
	const imap_config_t *config = fetcher->config;
	struct mailimap_search_key *key;
	clist *result = NULL;
	guint count = 0;
	int r;

	*count_out = 0;
	if (!fetcher_ready(fetcher, TRUE, error))
		return FALSE;
	/* A system flag (\Flagged…) has no UNKEYWORD search: not checked. */
	if (last_uid == 0 ||
	    (config->processed_action == PROCESSED_FLAG &&
	     (config->processed_flag == NULL || config->processed_flag[0] == '\\')))
		return TRUE;
	key = mailimap_search_key_new_uid(mailimap_set_new_interval(1, last_uid));
	if (key != NULL && config->processed_action == PROCESSED_FLAG) {
		struct mailimap_search_key *both = mailimap_search_key_new_multiple_empty();

		if (both == NULL ||
		    mailimap_search_key_multiple_add(both, key) != MAILIMAP_NO_ERROR ||
		    mailimap_search_key_multiple_add(
		        both, mailimap_search_key_new_unkeyword(strdup(config->processed_flag))) !=
		        MAILIMAP_NO_ERROR)
			g_error("out of memory building a UID SEARCH");
		key = both;
	}
	if (key == NULL)
		g_error("out of memory building a UID SEARCH");
	r = mailimap_uid_search(fetcher->imap, NULL, key, &result);
	mailimap_search_key_free(key);
	if (!fetcher_check(fetcher, r, PI_ERROR_TEMPORARY, error, "UID SEARCH UID 1:%u", last_uid))
		return FALSE;
	for (clistiter *it = clist_begin(result); it != NULL; it = clist_next(it))
		if (*(const uint32_t *)clist_content(it) <= last_uid)
			count++;
	mailimap_search_result_free(result);
	*count_out = count;
	return TRUE;
}
