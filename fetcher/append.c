/* append.c — APPEND a copy of a sent reply to the Sent folder. */
#include "fetcher/fetcher-internal.h"

gboolean
fetcher_append(fetcher_t *f, const char *mailbox, const char *data, gsize len, GError **error)
{
	g_autofree char *encoded = mailbox != NULL ? fetcher_mailbox_encode(mailbox) : NULL;
	int r = MAILIMAP_NO_ERROR;

	if (!fetcher_ready(f, FALSE, error))
		return FALSE;
	if (encoded == NULL)
		return fetcher_fail(f, PI_ERROR_FATAL, error, "sent_mailbox is not valid UTF-8");
	for (int attempt = 0; attempt < 2; attempt++) {
		struct mailimap_flag_list *flags = mailimap_flag_list_new_empty();

		mailimap_flag_list_add(flags, mailimap_flag_new_seen());
		r = mailimap_append(f->imap, encoded, flags, NULL, data, len);
		mailimap_flag_list_free(flags);
		if (r != MAILIMAP_ERROR_APPEND || attempt > 0 ||
		    g_strcmp0(fetcher_response_code(f), "TRYCREATE") != 0)
			break;
		if (!fetcher_create_mailbox(f, encoded, mailbox, error))
			return FALSE;
	}
	if (!fetcher_check(f, r, PI_ERROR_FATAL, error, "APPEND to \"%s\"", mailbox))
		return FALSE;
	g_debug("%s: appended %zu bytes to \"%s\"", f->where, len, mailbox);
	return TRUE;
}
