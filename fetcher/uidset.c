/* uidset.c — UID sets as compact ranges, and mailbox names in IMAP's
 * modified UTF-7.  Pure functions: no I/O. */
#include "fetcher/fetcher-internal.h"

#include <string.h>

static int
compare_uid(gconstpointer a, gconstpointer b)
{
	guint32 x = *(const guint32 *)a, y = *(const guint32 *)b;

	return (x > y) - (x < y);
}

void
fetcher_uids_normalize(GArray *uids)
{
	guint kept = 0;

	g_array_sort(uids, compare_uid);
	for (guint i = 0; i < uids->len; i++) {
		guint32 uid = g_array_index(uids, guint32, i);

		if (uid != 0 && (kept == 0 || g_array_index(uids, guint32, kept - 1) != uid))
			g_array_index(uids, guint32, kept++) = uid;
	}
	g_array_set_size(uids, kept);
}

GArray *
fetcher_uid_ranges(const guint32 *uids, guint n)
{
	g_autoptr(GArray) sorted = g_array_sized_new(FALSE, FALSE, sizeof(guint32), n);
	GArray *ranges = g_array_new(FALSE, FALSE, sizeof(guint32));

	g_array_append_vals(sorted, uids, n);
	fetcher_uids_normalize(sorted);
	for (guint i = 0; i < sorted->len; i++) {
		guint32 uid = g_array_index(sorted, guint32, i);

		/* Sorted and unique, so uid - 1 cannot wrap (uid >= 1). */
		if (ranges->len > 0 && g_array_index(ranges, guint32, ranges->len - 1) == uid - 1) {
			g_array_index(ranges, guint32, ranges->len - 1) = uid;
			continue;
		}
		g_array_append_val(ranges, uid);
		g_array_append_val(ranges, uid);
	}
	return ranges;
}

char *
fetcher_uid_ranges_format(const GArray *ranges)
{
	GString *text = g_string_new(NULL);

	for (guint i = 0; i + 1 < ranges->len; i += 2) {
		guint32 first = g_array_index(ranges, guint32, i);
		guint32 last = g_array_index(ranges, guint32, i + 1);

		if (text->len > 0)
			g_string_append_c(text, ',');
		if (first == last)
			g_string_append_printf(text, "%u", first);
		else
			g_string_append_printf(text, "%u:%u", first, last);
	}
	return g_string_free(text, FALSE);
}

struct mailimap_set *
fetcher_uid_set_new(const GArray *ranges)
{
	struct mailimap_set *set = mailimap_set_new_empty();

	for (guint i = 0; set != NULL && i + 1 < ranges->len; i += 2) {
		if (mailimap_set_add_interval(set, g_array_index(ranges, guint32, i),
		                              g_array_index(ranges, guint32, i + 1)) !=
		    MAILIMAP_NO_ERROR) {
			mailimap_set_free(set);
			set = NULL;
		}
	}
	if (set == NULL)
		g_error("out of memory building a UID set");
	return set;
}

/* ---- modified UTF-7 ------------------------------------------------------- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

/* Append the UTF-16 code units UNITS[0..N) as modified base64 between & and -. */
static void
append_shifted(GString *out, const gunichar2 *units, glong n)
{
	guint32 bits = 0;
	int nbits = 0;

	g_string_append_c(out, '&');
	for (glong i = 0; i < n; i++) {
		guint8 bytes[2] = {units[i] >> 8, units[i] & 0xff};

		for (int k = 0; k < 2; k++) {
			bits = (bits << 8) | bytes[k];
			nbits += 8;
			while (nbits >= 6) {
				nbits -= 6;
				g_string_append_c(out, b64[(bits >> nbits) & 0x3f]);
			}
		}
	}
	if (nbits > 0)
		g_string_append_c(out, b64[(bits << (6 - nbits)) & 0x3f]);
	g_string_append_c(out, '-');
}

char *
fetcher_mailbox_encode(const char *name)
{
	GString *out;
	const char *p = name;

	if (!g_utf8_validate(name, -1, NULL))
		return NULL;
	out = g_string_new(NULL);
	while (*p) {
		const char *start = p;
		g_autofree gunichar2 *units = NULL;
		glong n = 0;

		if ((guchar)*p >= 0x20 && (guchar)*p <= 0x7e) {
			g_string_append(out, *p == '&' ? "&-" : (char[]){*p, '\0'});
			p++;
			continue;
		}
		/* A run of characters outside printable ASCII, as one base64 run. */
		while (*p && !((guchar)*p >= 0x20 && (guchar)*p <= 0x7e))
			p = PI_UTF8_NEXT(p);
		units = g_utf8_to_utf16(start, p - start, NULL, &n, NULL);
		append_shifted(out, units, n);
	}
	return g_string_free(out, FALSE);
}
