/* mark.c — marking fetched messages processed: UID MOVE to the processed
 * mailbox, or its fallbacks, or a flag.  UID sets go out as ranges
 * ("1:40,42"); UIDs no longer in the mailbox match nothing, which IMAP does
 * not treat as an error. */
#include "fetcher/fetcher-internal.h"

#include <string.h>

/* An IMAP atom (RFC 3501 atom-char): what a keyword may be made of. */
static gboolean
is_atom(const char *s)
{
	if (*s == '\0')
		return FALSE;
	for (; *s; s++)
		if ((guchar)*s <= 0x20 || (guchar)*s >= 0x7f || strchr("(){%*\"\\]", *s) != NULL)
			return FALSE;
	return TRUE;
}

/* NAME ("$PrivacyInboxProcessed", "\\Flagged") as a libetpan flag, or NULL. */
static struct mailimap_flag *
flag_new(const char *name)
{
	static const struct {
		const char *name;
		struct mailimap_flag *(*make)(void);
	} system_flags[] = {
	    {"\\Answered", mailimap_flag_new_answered}, {"\\Flagged", mailimap_flag_new_flagged},
	    {"\\Deleted", mailimap_flag_new_deleted},   {"\\Seen", mailimap_flag_new_seen},
	    {"\\Draft", mailimap_flag_new_draft},
	};

	if (name == NULL)
		return NULL;
	for (gsize i = 0; i < G_N_ELEMENTS(system_flags); i++)
		if (g_ascii_strcasecmp(name, system_flags[i].name) == 0)
			return system_flags[i].make();
	if (name[0] == '\\')
		return is_atom(name + 1) ? mailimap_flag_new_flag_extension(strdup(name + 1))
		                         : NULL;
	return is_atom(name) ? mailimap_flag_new_flag_keyword(strdup(name)) : NULL;
}

/* UID STORE SET +FLAGS.SILENT (FLAG); takes FLAG. */
static gboolean
store_flag(fetcher_t *f, struct mailimap_set *set, const char *set_text, struct mailimap_flag *flag,
           const char *flag_name, GError **error)
{
	struct mailimap_flag_list *list = mailimap_flag_list_new_empty();
	struct mailimap_store_att_flags *att;
	int r;

	if (list == NULL || mailimap_flag_list_add(list, flag) != MAILIMAP_NO_ERROR)
		g_error("out of memory building a UID STORE");
	att = mailimap_store_att_flags_new_add_flags_silent(list);
	if (att == NULL)
		g_error("out of memory building a UID STORE");
	r = mailimap_uid_store(f->imap, set, att);
	mailimap_store_att_flags_free(att);
	return fetcher_check(f, r, PI_ERROR_FATAL, error, "UID STORE %s +FLAGS.SILENT (%s)",
	                     set_text, flag_name);
}

gboolean
fetcher_create_mailbox(fetcher_t *f, const char *encoded, const char *name, GError **error)
{
	int r = mailimap_create(f->imap, encoded);

	/* Someone else may have created it since our MOVE/COPY was refused. */
	if (r == MAILIMAP_ERROR_CREATE && g_strcmp0(fetcher_response_code(f), "ALREADYEXISTS") == 0)
		return TRUE;
	if (!fetcher_check(f, r, PI_ERROR_FATAL, error, "CREATE \"%s\"", name))
		return FALSE;
	g_info("%s: created mailbox \"%s\"", f->where, name);
	return TRUE;
}

/* UID MOVE (USE_MOVE) or UID COPY of SET to the processed mailbox, which is
 * created when the server answers NO [TRYCREATE]. */
static gboolean
transfer(fetcher_t *f, gboolean use_move, struct mailimap_set *set, const char *set_text,
         GError **error)
{
	const char *name = f->config->processed_mailbox;
	g_autofree char *encoded = name != NULL ? fetcher_mailbox_encode(name) : NULL;
	const char *verb = use_move ? "MOVE" : "COPY";
	int refused = use_move ? MAILIMAP_ERROR_UID_MOVE : MAILIMAP_ERROR_UID_COPY;
	int r;

	if (encoded == NULL)
		return fetcher_fail(f, PI_ERROR_FATAL, error,
		                    "processed_mailbox is missing or not valid UTF-8");
	for (int attempt = 0;; attempt++) {
		r = use_move ? mailimap_uid_move(f->imap, set, encoded)
		             : mailimap_uid_copy(f->imap, set, encoded);
		if (r != refused || attempt > 0 ||
		    g_strcmp0(fetcher_response_code(f), "TRYCREATE") != 0)
			break;
		if (!fetcher_create_mailbox(f, encoded, name, error))
			return FALSE;
	}
	if (!fetcher_check(f, r, PI_ERROR_FATAL, error, "UID %s %s \"%s\"", verb, set_text, name))
		return FALSE;
	g_debug("%s: UID %s %s to \"%s\"", f->where, verb, set_text, name);
	return TRUE;
}

/* Of SET, the UIDs not yet flagged \Deleted (UID SEARCH UID set UNDELETED),
 * as ranges; NULL on error. */
static GArray *
undeleted(fetcher_t *f, struct mailimap_set *set, const char *set_text, GError **error)
{
	struct mailimap_set *copy = NULL;
	struct mailimap_search_key *key, *both;
	g_autoptr(GArray) uids = g_array_new(FALSE, FALSE, sizeof(guint32));
	clist *result = NULL;
	int r;

	/* The key takes its set: search with a copy. */
	copy = mailimap_set_new_empty();
	for (clistiter *it = clist_begin(set->set_list); it != NULL; it = clist_next(it)) {
		const struct mailimap_set_item *item = clist_content(it);

		if (copy == NULL ||
		    mailimap_set_add_interval(copy, item->set_first, item->set_last) !=
		        MAILIMAP_NO_ERROR)
			g_error("out of memory building a UID SEARCH");
	}
	key = mailimap_search_key_new_uid(copy);
	both = mailimap_search_key_new_multiple_empty();
	if (key == NULL || both == NULL || mailimap_search_key_multiple_add(both, key) != 0 ||
	    mailimap_search_key_multiple_add(
	        both, mailimap_search_key_new(MAILIMAP_SEARCH_KEY_UNDELETED, NULL, NULL, NULL, NULL,
	                                      NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	                                      NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL,
	                                      NULL, NULL)) != 0)
		g_error("out of memory building a UID SEARCH");
	r = mailimap_uid_search(f->imap, NULL, both, &result);
	mailimap_search_key_free(both);
	if (!fetcher_check(f, r, PI_ERROR_TEMPORARY, error, "UID SEARCH UID %s UNDELETED",
	                   set_text))
		return NULL;
	for (clistiter *it = clist_begin(result); it != NULL; it = clist_next(it))
		g_array_append_val(uids, *(const uint32_t *)clist_content(it));
	mailimap_search_result_free(result);
	return fetcher_uid_ranges((const guint32 *)(const void *)uids->data, uids->len);
}

static gboolean
move(fetcher_t *f, struct mailimap_set *set, const char *set_text, GError **error)
{
	g_autoptr(GArray) to_copy = NULL;
	int r;

	if (fetcher_has_capability(f, "MOVE"))
		return transfer(f, TRUE, set, set_text, error);
	/* RFC 6851's fallback: COPY, flag \Deleted, expunge.  Messages already
	 * flagged \Deleted were copied by an earlier attempt that was cut off
	 * before its EXPUNGE: not copied twice.  (An attempt cut off between
	 * COPY and STORE still leaves a second copy in the processed mailbox:
	 * without MOVE, IMAP has no atomic way.) */
	if ((to_copy = undeleted(f, set, set_text, error)) == NULL)
		return FALSE;
	if (to_copy->len > 0) {
		g_autofree char *copy_text = fetcher_uid_ranges_format(to_copy);
		struct mailimap_set *copy_set = fetcher_uid_set_new(to_copy);
		gboolean ok = transfer(f, FALSE, copy_set, copy_text, error) &&
		              store_flag(f, copy_set, copy_text, mailimap_flag_new_deleted(),
		                         "\\Deleted", error);

		mailimap_set_free(copy_set);
		if (!ok)
			return FALSE;
	}
	if (fetcher_has_capability(f, "UIDPLUS")) {
		r = mailimap_uid_expunge(f->imap, set);
		return fetcher_check(f, r, PI_ERROR_FATAL, error, "UID EXPUNGE %s", set_text);
	}
	/* Without UIDPLUS only a plain EXPUNGE exists: it also removes messages
	 * someone else flagged \Deleted in this mailbox (see fetcher.h). */
	g_debug("%s: no UIDPLUS: plain EXPUNGE", f->where);
	r = mailimap_expunge(f->imap);
	return fetcher_check(f, r, PI_ERROR_FATAL, error, "EXPUNGE");
}

gboolean
fetcher_mark_processed(fetcher_t *fetcher, const guint32 *uids, guint n, GError **error)
{
	const imap_config_t *config;
	g_autoptr(GArray) ranges = NULL;
	g_autofree char *set_text = NULL;
	struct mailimap_set *set;
	gboolean ok;

	if (!fetcher_ready(fetcher, TRUE, error))
		return FALSE;
	config = fetcher->config;
	ranges = fetcher_uid_ranges(uids, n);
	if (ranges->len == 0)
		return TRUE;
	set_text = fetcher_uid_ranges_format(ranges);
	set = fetcher_uid_set_new(ranges);
	if (config->processed_action == PROCESSED_FLAG) {
		struct mailimap_flag *flag = flag_new(config->processed_flag);

		if (flag == NULL)
			ok = fetcher_fail(fetcher, PI_ERROR_FATAL, error,
			                  "processed_flag \"%s\" is not a valid IMAP flag",
			                  config->processed_flag ? config->processed_flag : "");
		else
			ok =
			    store_flag(fetcher, set, set_text, flag, config->processed_flag, error);
	} else {
		ok = move(fetcher, set, set_text, error);
	}
	mailimap_set_free(set);
	return ok;
}
