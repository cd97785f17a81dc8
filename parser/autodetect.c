/* autodetect.c — automatic mail (auto-replies, bounces, list mail) that must
 * never get an automatic answer.  Headers first (RFC 3834 and what real
 * servers send), subject patterns last. */
#include "parser/parser-internal.h"

#include <string.h>

static char *
header_value(GMimeMessage *message, const char *name)
{
	const char *raw = parser_mime_raw_header(GMIME_OBJECT(message), name);
	g_autofree char *norm = NULL;

	if (raw == NULL)
		return NULL;
	norm = parser_header_normalize(raw, FALSE);
	return parser_utf8_clean(norm, -1, FALSE);
}

/* The first word of a header value, lowercased ("auto-replied; x" → "auto-replied"). */
static char *
first_token(const char *value)
{
	const char *p = value, *q;

	while (*p == ' ' || *p == '\t')
		p++;
	q = p;
	while (*q && *q != ';' && *q != ' ' && *q != '\t' && *q != ',')
		q++;
	return g_ascii_strdown(p, q - p);
}

static char *
reason(const char *name, const char *value)
{
	g_autofree char *v = g_strdup(value ? value : "");

	if (g_utf8_strlen(v, -1) > 80) /* cut on a character, never inside one */
		*g_utf8_offset_to_pointer(v, 80) = '\0';
	return *v ? g_strdup_printf("%s: %s", name, v) : g_strdup(name);
}

static gboolean
from_is_system(GMimeMessage *message, char **why_out)
{
	InternetAddressList *from = g_mime_message_get_from(message);
	InternetAddress *ia;
	const char *addr;
	g_autofree char *local = NULL;

	if (from == NULL || internet_address_list_length(from) == 0)
		return FALSE;
	ia = internet_address_list_get_address(from, 0);
	if (!INTERNET_ADDRESS_IS_MAILBOX(ia))
		return FALSE;
	addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
	if (addr == NULL)
		return FALSE;
	local = g_ascii_strdown(addr, strcspn(addr, "@"));
	if (strcmp(local, "mailer-daemon") == 0 || strcmp(local, "postmaster") == 0) {
		*why_out =
		    g_strdup_printf("From: %s", local[0] == 'm' ? "MAILER-DAEMON" : "postmaster");
		return TRUE;
	}
	return FALSE;
}

char *
parser_auto_reason(GMimeMessage *message, const char *subject)
{
	static const char *const precedences[] = {"bulk", "junk", "list", "auto_reply", NULL};
	static const char *const suppress[] = {"all", "oof", "autoreply", NULL};
	static const char *const subjects[] = {"out of office",
	                                       "automatic reply",
	                                       "auto-reply",
	                                       "autoreply",
	                                       "auto reply",
	                                       "undeliverable",
	                                       "undelivered mail",
	                                       "delivery status notification",
	                                       "mail delivery failed",
	                                       "delivery failure",
	                                       "returned mail",
	                                       "failure notice",
	                                       "自動返信",
	                                       "自動応答",
	                                       "不在",
	                                       "配信不能",
	                                       "配送失敗",
	                                       "送信できませんでした",
	                                       NULL};
	g_autofree char *value = NULL;
	g_autofree char *token = NULL;
	char *why = NULL;

	if (message == NULL)
		return NULL;

	/* RFC 3834: anything but "no" */
	if ((value = header_value(message, "Auto-Submitted")) != NULL) {
		token = first_token(value);
		if (*token && strcmp(token, "no") != 0)
			return reason("Auto-Submitted", token);
		g_clear_pointer(&value, g_free);
		g_clear_pointer(&token, g_free);
	}
	if ((value = header_value(message, "Precedence")) != NULL) {
		token = first_token(value);
		if (g_strv_contains(precedences, token))
			return reason("Precedence", token);
		g_clear_pointer(&value, g_free);
		g_clear_pointer(&token, g_free);
	}
	if (parser_mime_raw_header(GMIME_OBJECT(message), "List-Id") != NULL)
		return g_strdup("List-Id");
	if (parser_mime_raw_header(GMIME_OBJECT(message), "List-Unsubscribe") != NULL)
		return g_strdup("List-Unsubscribe");
	if ((value = header_value(message, "Return-Path")) != NULL) {
		g_autofree char *compact = g_strdup(value);
		g_strdelimit(compact, " \t", ' ');
		g_strstrip(compact);
		if (strcmp(compact, "<>") == 0 || compact[0] == '\0')
			return g_strdup("Return-Path: <>");
		g_clear_pointer(&value, g_free);
	}
	if (from_is_system(message, &why))
		return why;
	if (parser_mime_raw_header(GMIME_OBJECT(message), "X-Autoreply") != NULL)
		return g_strdup("X-Autoreply");
	if (parser_mime_raw_header(GMIME_OBJECT(message), "X-Autorespond") != NULL)
		return g_strdup("X-Autorespond");
	if ((value = header_value(message, "X-Auto-Response-Suppress")) != NULL) {
		g_auto(GStrv) words = g_strsplit_set(value, ", \t", -1);
		for (char **w = words; *w; w++) {
			g_autofree char *lw = g_ascii_strdown(*w, -1);
			if (g_strv_contains(suppress, lw))
				return reason("X-Auto-Response-Suppress", *w);
		}
		g_clear_pointer(&value, g_free);
	}
	if (parser_mime_raw_header(GMIME_OBJECT(message), "X-Failed-Recipients") != NULL)
		return g_strdup("X-Failed-Recipients");
	{
		GMimeObject *body = g_mime_message_get_mime_part(message);
		GMimeContentType *ct = body ? g_mime_object_get_content_type(body) : NULL;
		if (ct != NULL && g_mime_content_type_is_type(ct, "multipart", "report"))
			return g_strdup("Content-Type: multipart/report");
	}
	/* last resort: what auto-replies and bounces put in the subject */
	if (subject != NULL && *subject) {
		g_autofree char *folded = parser_text_fold(subject);
		for (const char *const *s = subjects; *s; s++) {
			if (strstr(folded, *s) != NULL)
				return g_strdup_printf("Subject: %s", *s);
		}
	}
	return NULL;
}
