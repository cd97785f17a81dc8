/* mime.c — the walk over a parsed message's MIME tree: which leaves are body
 * text and which are attachments, within max_parts and max_depth. */
#include "parser/parser-internal.h"

#include <string.h>

typedef struct {
	GArray *leaves;
	guint parts;
	guint max_parts;
	guint max_depth;
	char *limit;
	int next_alt;
	GPtrArray *forwarded; /* of GMimeMessage*, borrowed; NULL: never enter */
	guint level;          /* forwarded messages entered so far */
	gboolean entered;     /* the current message's forwarded message was entered */
} walk_t;

const char *
parser_mime_raw_header(GMimeObject *object, const char *name)
{
	GMimeHeaderList *list = object ? g_mime_object_get_header_list(object) : NULL;
	GMimeHeader *header = list ? g_mime_header_list_get_header(list, name) : NULL;

	return header ? g_mime_header_get_raw_value(header) : NULL;
}

static char *
basename_of(const char *name)
{
	const char *slash = strrchr(name, '/');
	const char *back = strrchr(name, '\\');
	const char *base = name;

	if (slash != NULL && slash + 1 > base)
		base = slash + 1;
	if (back != NULL && back + 1 > base)
		base = back + 1;
	return g_strdup(base);
}

char *
parser_mime_filename(GMimeObject *part, GMimeParserOptions *options)
{
	const char *raw_disp = parser_mime_raw_header(part, "Content-Disposition");
	const char *raw_type = parser_mime_raw_header(part, "Content-Type");
	const char *value = NULL;
	g_autoptr(GObject) parsed_disp = NULL;
	g_autoptr(GObject) parsed_type = NULL;
	g_autofree char *clean = NULL;

	if (raw_disp != NULL) {
		g_autofree char *norm = parser_header_normalize(raw_disp, TRUE);
		GMimeContentDisposition *disp = g_mime_content_disposition_parse(options, norm);
		parsed_disp = G_OBJECT(disp);
		value = disp ? g_mime_content_disposition_get_parameter(disp, "filename") : NULL;
	}
	if ((value == NULL || *value == '\0') && raw_type != NULL) {
		g_autofree char *norm = parser_header_normalize(raw_type, TRUE);
		GMimeContentType *ct = g_mime_content_type_parse(options, norm);
		parsed_type = G_OBJECT(ct);
		value = ct ? g_mime_content_type_get_parameter(ct, "name") : NULL;
	}
	if (value == NULL)
		return NULL;
	clean = parser_utf8_clean(value, -1, FALSE);
	g_strstrip(clean);
	if (*clean == '\0')
		return NULL;
	{
		char *base = basename_of(clean);
		if (*base == '\0') {
			g_free(base);
			return NULL;
		}
		return base;
	}
}

static void
add_leaf(walk_t *w, GMimeObject *object, leaf_role_t role, int alt_group, int alt_branch,
         gboolean related)
{
	parser_leaf_t leaf = {object, role, alt_group, alt_branch, related, w->level};
	g_array_append_val(w->leaves, leaf);
}

static gboolean
is_report(GMimeObject *object)
{
	GMimeContentType *ct = object ? g_mime_object_get_content_type(object) : NULL;
	return ct != NULL && g_mime_content_type_is_type(ct, "multipart", "report");
}

static leaf_role_t
part_role(GMimeObject *object)
{
	GMimeContentType *ct = g_mime_object_get_content_type(object);
	GMimeContentDisposition *disp = g_mime_object_get_content_disposition(object);
	gboolean text = ct && g_mime_content_type_is_type(ct, "text", "plain");
	gboolean html = ct && g_mime_content_type_is_type(ct, "text", "html");

	if (!text && !html)
		return LEAF_ATTACHMENT;
	if (disp != NULL && g_mime_content_disposition_is_attachment(disp))
		return LEAF_ATTACHMENT;
	if ((disp != NULL && g_mime_content_disposition_get_parameter(disp, "filename") != NULL) ||
	    (ct != NULL && g_mime_content_type_get_parameter(ct, "name") != NULL))
		return LEAF_ATTACHMENT;
	return html ? LEAF_TEXT_HTML : LEAF_TEXT_PLAIN;
}

static void walk(walk_t *w, GMimeObject *object, guint depth, int alt_group, int alt_branch,
                 gboolean related);

/* A forwarded message: its parts are read as the request's own. */
static void
enter_message(walk_t *w, GMimeMessage *inner, guint depth)
{
	gboolean entered = w->entered;

	g_ptr_array_add(w->forwarded, inner);
	w->level++;
	w->entered = FALSE;
	if (is_report(g_mime_message_get_mime_part(inner)))
		w->entered = TRUE; /* a forwarded bounce: its returned mail stays whole */
	walk(w, g_mime_message_get_mime_part(inner), depth + 1, -1, -1, FALSE);
	w->level--;
	w->entered = entered;
}

static void
walk(walk_t *w, GMimeObject *object, guint depth, int alt_group, int alt_branch, gboolean related)
{
	if (w->limit != NULL || object == NULL)
		return;
	if (++w->parts > w->max_parts) {
		w->limit = g_strdup_printf(
		    "more than %u MIME parts (max_parts): the rest was not read", w->max_parts);
		return;
	}
	if (depth > w->max_depth) {
		w->limit = g_strdup_printf("MIME parts nested deeper than %u levels (max_depth): "
		                           "the rest was not read",
		                           w->max_depth);
		return;
	}
	if (GMIME_IS_MULTIPART(object)) {
		GMimeMultipart *mp = GMIME_MULTIPART(object);
		GMimeContentType *ct = g_mime_object_get_content_type(object);
		gboolean alt = ct && g_mime_content_type_is_type(ct, "multipart", "alternative");
		gboolean rel =
		    related || (ct && g_mime_content_type_is_type(ct, "multipart", "related"));
		int group = alt ? w->next_alt++ : alt_group;
		int n = g_mime_multipart_get_count(mp);

		for (int i = 0; i < n && w->limit == NULL; i++)
			walk(w, g_mime_multipart_get_part(mp, i), depth + 1, group,
			     alt ? i : alt_branch, rel);
		return;
	}
	if (GMIME_IS_PART(object)) {
		GMimeContentType *ct = g_mime_object_get_content_type(object);
		if (ct != NULL &&
		    (g_mime_content_type_is_type(ct, "message", "delivery-status") ||
		     g_mime_content_type_is_type(ct, "message", "global-delivery-status")))
			add_leaf(w, object, LEAF_DELIVERY_STATUS, alt_group, alt_branch, related);
		else
			add_leaf(w, object, part_role(object), alt_group, alt_branch, related);
		return;
	}
	if (GMIME_IS_MESSAGE_PART(object) && w->forwarded != NULL && !w->entered) {
		GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(object));
		if (inner != NULL && g_mime_message_get_mime_part(inner) != NULL) {
			w->entered = TRUE;
			enter_message(w, inner, depth);
			return;
		}
	}
	/* any other message/rfc822 (a bounce's returned mail, a second
	 * attached message) and anything else: kept whole as an attachment */
	add_leaf(w, object, LEAF_ATTACHMENT, alt_group, alt_branch, related);
}

char *
parser_mime_collect(GMimeMessage *message, guint max_parts, guint max_depth, GArray *leaves,
                    GPtrArray *forwarded)
{
	GMimeObject *body = g_mime_message_get_mime_part(message);
	walk_t w = {leaves, 0, max_parts, max_depth, NULL, 0, forwarded, 0, FALSE};

	/* a bounce's returned mail is ours, not a forwarded request */
	w.entered = is_report(body);
	walk(&w, body, 0, -1, -1, FALSE);
	return w.limit;
}
