/* classify.c — request types from the rules in request-rules.ini (format and
 * semantics documented in that file's header comment). */
#include "parser/parser-internal.h"
#include "common/request_type.h"

#include <string.h>

/* Classification reads at most this much of the sender's new text. */
#define CLASSIFY_MAX_BYTES (64 * 1024)

typedef struct {
	const char *type;   /* static id from request_type_ids */
	GPtrArray *phrases; /* of char*, folded */
	GPtrArray *absorbs; /* of const char* (static ids) */
	gboolean only_when_alone;
} type_rule_t;

struct parser_rules {
	GArray *types;             /* of type_rule_t, in request_type_ids order */
	GPtrArray *negation_after; /* folded cues */
	GPtrArray *negation_before;
	guint negation_window;
	guint absorb_window;
};

void
parser_match_free(parser_match_t *match)
{
	if (match == NULL)
		return;
	g_free(match->phrase);
	g_free(match);
}

void
parser_rules_free(parser_rules_t *rules)
{
	if (rules == NULL)
		return;
	for (guint i = 0; rules->types && i < rules->types->len; i++) {
		type_rule_t *t = &g_array_index(rules->types, type_rule_t, i);
		g_ptr_array_unref(t->phrases);
		g_ptr_array_unref(t->absorbs);
	}
	if (rules->types)
		g_array_unref(rules->types);
	if (rules->negation_after)
		g_ptr_array_unref(rules->negation_after);
	if (rules->negation_before)
		g_ptr_array_unref(rules->negation_before);
	g_free(rules);
}

/* The arrays of type ids hold static strings. */
static gpointer
unconst(const void *p)
{
	union {
		const void *c;
		void *m;
	} u = {p};
	return u.m;
}

static const char *
static_type_id(const char *id)
{
	for (const char *const *t = request_type_ids; *t; t++) {
		if (strcmp(*t, id) == 0)
			return *t;
	}
	return NULL;
}

/* Append the folded, non-empty items of KEY in GROUP to OUT. */
static void
load_list(GKeyFile *kf, const char *group, const char *key, GPtrArray *out)
{
	gsize n = 0;
	g_auto(GStrv) items = g_key_file_get_string_list(kf, group, key, &n, NULL);

	for (gsize i = 0; items && i < n; i++) {
		g_autofree char *trimmed = g_strstrip(g_strdup(items[i]));
		char *folded = parser_text_fold(trimmed);
		if (*folded == '\0') {
			g_free(folded);
			continue;
		}
		g_ptr_array_add(out, folded);
	}
}

static gboolean
check_keys(GKeyFile *kf, const char *group, const char *const *allowed, GError **error)
{
	g_auto(GStrv) keys = g_key_file_get_keys(kf, group, NULL, NULL);

	for (char **k = keys; k && *k; k++) {
		if (!g_strv_contains(allowed, *k)) {
			g_set_error(error, PARSER_ERROR, PI_ERROR_FATAL,
			            "rules: unknown key %s in [%s]", *k, group);
			return FALSE;
		}
	}
	return TRUE;
}

static gboolean
get_window(GKeyFile *kf, const char *group, const char *key, guint def, guint *out, GError **error)
{
	g_autoptr(GError) local = NULL;
	gint v;

	if (!g_key_file_has_key(kf, group, key, NULL)) {
		*out = def;
		return TRUE;
	}
	v = g_key_file_get_integer(kf, group, key, &local);
	if (local != NULL || v < 0 || v > 1000) {
		g_set_error(error, PARSER_ERROR, PI_ERROR_FATAL,
		            "rules: [%s] %s must be a number of characters (0–1000)", group, key);
		return FALSE;
	}
	*out = (guint)v;
	return TRUE;
}

static gboolean
load_type(GKeyFile *kf, const char *group, type_rule_t *t, GError **error)
{
	static const char *const keys[] = {"ja", "en", "absorbs", "only_when_alone", NULL};
	g_auto(GStrv) absorbs = NULL;
	g_autoptr(GError) local = NULL;

	if (!check_keys(kf, group, keys, error))
		return FALSE;
	load_list(kf, group, "ja", t->phrases);
	load_list(kf, group, "en", t->phrases);
	absorbs = g_key_file_get_string_list(kf, group, "absorbs", NULL, NULL);
	for (char **a = absorbs; a && *a; a++) {
		g_autofree char *id = g_strstrip(g_strdup(*a));
		const char *sid = static_type_id(id);
		if (*id == '\0')
			continue;
		if (sid == NULL) {
			g_set_error(error, PARSER_ERROR, PI_ERROR_FATAL,
			            "rules: [%s] absorbs names an unknown request type \"%s\"",
			            group, id);
			return FALSE;
		}
		g_ptr_array_add(t->absorbs, unconst(sid));
	}
	if (g_key_file_has_key(kf, group, "only_when_alone", NULL)) {
		t->only_when_alone = g_key_file_get_boolean(kf, group, "only_when_alone", &local);
		if (local != NULL) {
			g_set_error(error, PARSER_ERROR, PI_ERROR_FATAL,
			            "rules: [%s] only_when_alone must be true or false", group);
			return FALSE;
		}
	}
	return TRUE;
}

parser_rules_t *
parser_rules_new(const char *ini, gsize len, GError **error)
{
	static const char *const classification_keys[] = {"absorb_window", NULL};
	static const char *const negation_keys[] = {"window", "after", "before", NULL};
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(parser_rules_t) rules = g_new0(parser_rules_t, 1);
	g_auto(GStrv) groups = NULL;
	g_autoptr(GError) local = NULL;

	rules->types = g_array_new(FALSE, TRUE, sizeof(type_rule_t));
	rules->negation_after = g_ptr_array_new_with_free_func(g_free);
	rules->negation_before = g_ptr_array_new_with_free_func(g_free);
	for (const char *const *id = request_type_ids; *id; id++) {
		type_rule_t t = {*id, g_ptr_array_new_with_free_func(g_free), g_ptr_array_new(),
		                 FALSE};
		g_array_append_val(rules->types, t);
	}
	if (ini == NULL || !g_key_file_load_from_data(kf, ini, len, G_KEY_FILE_NONE, &local)) {
		g_set_error(error, PARSER_ERROR, PI_ERROR_FATAL, "rules: %s",
		            local ? local->message : "no rules text");
		return NULL;
	}
	groups = g_key_file_get_groups(kf, NULL);
	for (char **g = groups; *g; g++) {
		if (strcmp(*g, "classification") == 0) {
			if (!check_keys(kf, *g, classification_keys, error) ||
			    !get_window(kf, *g, "absorb_window", 12, &rules->absorb_window, error))
				return NULL;
		} else if (strcmp(*g, "negation") == 0) {
			if (!check_keys(kf, *g, negation_keys, error) ||
			    !get_window(kf, *g, "window", 12, &rules->negation_window, error))
				return NULL;
			load_list(kf, *g, "after", rules->negation_after);
			load_list(kf, *g, "before", rules->negation_before);
		} else if (request_type_is_valid(*g)) {
			for (guint i = 0; i < rules->types->len; i++) {
				type_rule_t *t = &g_array_index(rules->types, type_rule_t, i);
				if (strcmp(t->type, *g) == 0 && !load_type(kf, *g, t, error))
					return NULL;
			}
		} else {
			g_set_error(error, PARSER_ERROR, PI_ERROR_FATAL,
			            "rules: unknown group [%s] (not a request type)", *g);
			return NULL;
		}
	}
	if (!g_key_file_has_group(kf, "classification"))
		rules->absorb_window = 12;
	if (!g_key_file_has_group(kf, "negation"))
		rules->negation_window = 12;
	return g_steal_pointer(&rules);
}

/* ---- matching ------------------------------------------------------------- */

static gboolean
is_word_char(char c)
{
	return g_ascii_isalnum(c) || c == '_';
}

/* Next occurrence of NEEDLE in HAY at or after FROM that starts a word when
 * the needle starts with a Latin letter or digit (and, with WHOLE, also ends
 * one).  NULL when none. */
static const char *
find_phrase(const char *hay, const char *from, const char *needle, gboolean whole)
{
	gsize n = strlen(needle);
	const char *p = from;

	while ((p = strstr(p, needle)) != NULL) {
		gboolean ok = TRUE;
		if (is_word_char(needle[0]) && p > hay && is_word_char(p[-1]))
			ok = FALSE;
		if (ok && whole && is_word_char(needle[n - 1]) && is_word_char(p[n]))
			ok = FALSE;
		if (ok)
			return p;
		p++;
	}
	return NULL;
}

static gboolean
is_clause_end(const char *p)
{
	return *p == '.' || *p == '!' || *p == '?' || *p == ';' || *p == ',' || *p == '\n' ||
	       g_str_has_prefix(p, "。") || g_str_has_prefix(p, "、");
}

/* Is a cue from CUES inside TEXT[start, end)? */
static gboolean
has_cue(const char *start, const char *end, GPtrArray *cues)
{
	g_autofree char *window = g_strndup(start, (gsize)(end - start));

	for (guint i = 0; i < cues->len; i++) {
		if (find_phrase(window, window, cues->pdata[i], TRUE) != NULL)
			return TRUE;
	}
	return FALSE;
}

static gboolean
is_negated(const parser_rules_t *rules, const char *text, const char *s, const char *e)
{
	const char *a = e, *b = s;

	/* after: from the phrase's end to the window or the clause's end */
	for (guint i = 0; i < rules->negation_window && *a && !is_clause_end(a); i++)
		a = PI_UTF8_NEXT(a);
	if (a > e && has_cue(e, a, rules->negation_after))
		return TRUE;
	/* before: back from the phrase's start */
	for (guint i = 0; i < rules->negation_window && b > text; i++) {
		const char *prev = g_utf8_find_prev_char(text, b);
		if (prev == NULL || is_clause_end(prev))
			break;
		b = prev;
	}
	return b < s && has_cue(b, s, rules->negation_before);
}

static void
find_matches(const parser_rules_t *rules, const char *text, gboolean in_subject, GPtrArray *out)
{
	for (guint i = 0; i < rules->types->len; i++) {
		const type_rule_t *t = &g_array_index(rules->types, type_rule_t, i);
		for (guint j = 0; j < t->phrases->len; j++) {
			const char *phrase = t->phrases->pdata[j];
			gsize n = strlen(phrase);
			for (const char *p = find_phrase(text, text, phrase, FALSE); p != NULL;
			     p = find_phrase(text, p + n, phrase, FALSE)) {
				parser_match_t *m = g_new0(parser_match_t, 1);
				m->type = t->type;
				m->phrase = g_strdup(phrase);
				m->in_subject = in_subject;
				m->offset = (gsize)(p - text);
				m->negated = is_negated(rules, text, p, p + n);
				g_ptr_array_add(out, m);
			}
		}
	}
}

static const type_rule_t *
type_rule(const parser_rules_t *rules, const char *type)
{
	for (guint i = 0; i < rules->types->len; i++) {
		const type_rule_t *t = &g_array_index(rules->types, type_rule_t, i);
		if (t->type == type)
			return t;
	}
	return NULL;
}

static gboolean
absorbs(const parser_rules_t *rules, const parser_match_t *big, const parser_match_t *small)
{
	gsize bs = big->offset, be = big->offset + strlen(big->phrase);
	gsize ss = small->offset, se = small->offset + strlen(small->phrase);
	const type_rule_t *t;

	if (big == small || big->in_subject != small->in_subject || big->negated ||
	    big->type == small->type)
		return FALSE;
	/* inside a longer phrase of another type */
	if (bs <= ss && se <= be && be - bs > se - ss)
		return TRUE;
	t = type_rule(rules, big->type);
	if (t == NULL || !g_ptr_array_find(t->absorbs, small->type, NULL))
		return FALSE;
	if (ss < bs)
		return se > bs; /* overlapping it from the left */
	return TRUE;            /* overlapping or following: the caller measures the gap */
}

static gint
match_order(gconstpointer a, gconstpointer b)
{
	const parser_match_t *x = *(parser_match_t *const *)a, *y = *(parser_match_t *const *)b;

	if (x->in_subject != y->in_subject)
		return x->in_subject ? -1 : 1;
	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	return (int)strlen(y->phrase) - (int)strlen(x->phrase);
}

/* "Re:", "Fwd:", "返信:", "転送:", "AW:", "Re[2]:"… (on the folded subject). */
static gboolean
is_reply_subject(const char *folded)
{
	static const char *const prefixes[] = {"re", "aw", "sv",   "fw",   "fwd",
	                                       "tr", "wg", "返信", "転送", NULL};
	const char *p = folded;

	while (*p == ' ' || *p == '[')
		p++;
	for (const char *const *x = prefixes; *x; x++) {
		gsize n = strlen(*x);
		const char *q = p + n;
		if (strncmp(p, *x, n) != 0)
			continue;
		if (*q == '[') { /* Re[2]: */
			while (g_ascii_isdigit(*++q))
				;
			if (*q == ']')
				q++;
		}
		while (*q == ' ')
			q++;
		if (*q == ':')
			return TRUE;
	}
	return FALSE;
}

GPtrArray *
parser_rules_classify(const parser_rules_t *rules, const char *subject, const char *text,
                      GPtrArray **matches_out)
{
	g_autofree char *fsubject = parser_text_fold(subject);
	g_autofree char *clipped = NULL;
	g_autofree char *ftext = NULL;
	g_autoptr(GPtrArray) matches =
	    g_ptr_array_new_with_free_func((GDestroyNotify)parser_match_free);
	GPtrArray *types = g_ptr_array_new();
	gboolean others = FALSE;

	if (text != NULL && strlen(text) > CLASSIFY_MAX_BYTES) {
		const char *end = text + CLASSIFY_MAX_BYTES;
		while (end > text && (*end & 0xc0) == 0x80)
			end--;
		clipped = g_strndup(text, (gsize)(end - text));
	}
	ftext = parser_text_fold(clipped ? clipped : text);
	if (!is_reply_subject(fsubject)) /* a reply's subject quotes the earlier mail */
		find_matches(rules, fsubject, TRUE, matches);
	find_matches(rules, ftext, FALSE, matches);

	/* overlaps: a more specific type's phrase takes the less specific one */
	for (guint i = 0; i < matches->len; i++) {
		parser_match_t *small = matches->pdata[i];
		const char *field = small->in_subject ? fsubject : ftext;
		for (guint j = 0; j < matches->len && !small->absorbed; j++) {
			parser_match_t *big = matches->pdata[j];
			if (!absorbs(rules, big, small))
				continue;
			if (small->offset > big->offset + strlen(big->phrase)) {
				/* following: measure the gap in characters */
				const char *gap = field + big->offset + strlen(big->phrase);
				glong chars = g_utf8_strlen(
				    gap, (gssize)(small->offset - (gsize)(gap - field)));
				if (chars > (glong)rules->absorb_window)
					continue;
			}
			small->absorbed = TRUE;
		}
	}

	g_ptr_array_sort(matches, match_order);
	for (guint pass = 0; pass < 2; pass++) {
		for (guint i = 0; i < matches->len; i++) {
			const parser_match_t *m = matches->pdata[i];
			const type_rule_t *t = type_rule(rules, m->type);
			if (m->negated || m->absorbed || g_ptr_array_find(types, m->type, NULL))
				continue;
			/* pass 0: ordinary types; pass 1: only_when_alone ones, if none */
			if (pass == 0 && !t->only_when_alone) {
				g_ptr_array_add(types, unconst(m->type));
				others = TRUE;
			} else if (pass == 1 && t->only_when_alone && !others) {
				g_ptr_array_add(types, unconst(m->type));
			}
		}
	}
	if (matches_out != NULL)
		*matches_out = g_steal_pointer(&matches);
	return types;
}
