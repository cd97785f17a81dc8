/* test_uidset.c — the fetcher's pure pieces: UID sets as compact ranges and
 * mailbox names in modified UTF-7.  Table-driven; no server. */
#include "fetcher/fetcher-internal.h"

static const struct {
	guint32 uids[12];
	guint n;
	const char *expect;
} range_rows[] = {
    {{0}, 0, ""},
    {{7}, 1, "7"},
    {{1, 2, 3}, 3, "1:3"},
    {{3, 1, 2}, 3, "1:3"},
    {{1, 2, 3, 7, 9, 10}, 6, "1:3,7,9:10"},
    {{10, 9, 7, 3, 2, 1}, 6, "1:3,7,9:10"},
    {{5, 5, 5, 6, 6}, 5, "5:6"},
    {{0, 4, 0}, 3, "4"}, /* 0 is not a UID */
    {{2, 4, 6, 8}, 4, "2,4,6,8"},
    {{G_MAXUINT32, G_MAXUINT32 - 1, G_MAXUINT32}, 3, "4294967294:4294967295"},
    {{1, G_MAXUINT32}, 2, "1,4294967295"},
};

static void
test_ranges(void)
{
	for (gsize i = 0; i < G_N_ELEMENTS(range_rows); i++) {
		g_autoptr(GArray) ranges = fetcher_uid_ranges(range_rows[i].uids, range_rows[i].n);
		g_autofree char *text = fetcher_uid_ranges_format(ranges);

		g_assert_cmpstr(text, ==, range_rows[i].expect);
		g_assert_cmpuint(ranges->len % 2, ==, 0);
		if (ranges->len > 0) {
			struct mailimap_set *set = fetcher_uid_set_new(ranges);

			g_assert_cmpuint(clist_count(set->set_list), ==, ranges->len / 2);
			mailimap_set_free(set);
		}
	}
}

static void
test_normalize(void)
{
	static const guint32 in[] = {9, 0, 3, 3, 1, 9, 2};
	static const guint32 out[] = {1, 2, 3, 9};
	g_autoptr(GArray) uids = g_array_new(FALSE, FALSE, sizeof(guint32));

	g_array_append_vals(uids, in, G_N_ELEMENTS(in));
	fetcher_uids_normalize(uids);
	g_assert_cmpmem(uids->data, uids->len * sizeof(guint32), out, sizeof(out));
}

/* Expected values computed independently (Python's UTF-16 + base64), and
 * RFC 3501's own example. */
static const struct {
	const char *name;
	const char *expect;
} mutf7_rows[] = {
    {"INBOX", "INBOX"},
    {"Processed", "Processed"},
    {"", ""},
    {"R&D", "R&-D"},
    {"&", "&-"},
    {"処理済み", "&UeZ0Bm4IMH8-"},
    {"Processed/処理済み", "Processed/&UeZ0Bm4IMH8-"},
    {"~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"},
    {"Entwürfe", "Entw&APw-rfe"},
    {"a😀b", "a&2D3eAA-b"}, /* outside the BMP: a surrogate pair */
    {"tab\there", "tab&AAk-here"},
};

static void
test_mutf7(void)
{
	for (gsize i = 0; i < G_N_ELEMENTS(mutf7_rows); i++) {
		g_autofree char *encoded = fetcher_mailbox_encode(mutf7_rows[i].name);

		g_assert_cmpstr(encoded, ==, mutf7_rows[i].expect);
	}
	g_assert_null(fetcher_mailbox_encode("bad \xff utf-8"));
}

static void
test_host_is_ip(void)
{
	g_assert_true(fetcher_host_is_ip("127.0.0.1"));
	g_assert_true(fetcher_host_is_ip("::1"));
	g_assert_true(fetcher_host_is_ip("2001:db8::5"));
	g_assert_false(fetcher_host_is_ip("localhost"));
	g_assert_false(fetcher_host_is_ip("imap.example.co.jp"));
	g_assert_false(fetcher_host_is_ip("127.0.0.1.example"));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/fetcher/uidset/ranges", test_ranges);
	g_test_add_func("/fetcher/uidset/normalize", test_normalize);
	g_test_add_func("/fetcher/uidset/mutf7", test_mutf7);
	g_test_add_func("/fetcher/uidset/host-is-ip", test_host_is_ip);
	return g_test_run();
}
