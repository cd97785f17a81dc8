/* test_corpus.c — accuracy on the labelled corpus (tests/corpus/, written by
 * make-corpus.py): request types and ID-document counts must each be right
 * for at least 95% of the messages, and every miss is listed.  The further
 * checks a label names (forwarded_by, bounce, encrypted_archive,
 * document_type, needs_masking_check, rejected attachments) must all hold.
 */
#include "tests/parser/parser-test.h"

#include <fcntl.h>

#define CORPUS PI_SRCDIR "/tests/corpus"
#define THRESHOLD 0.95

typedef struct {
	char *file, *types, *checks;
	guint ids;
} label_t;

static void
label_clear(gpointer data)
{
	label_t *l = data;
	g_free(l->file);
	g_free(l->types);
	g_free(l->checks);
}

static GArray *
read_labels(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;
	GArray *labels = g_array_new(FALSE, TRUE, sizeof(label_t));

	g_array_set_clear_func(labels, label_clear);
	if (!g_file_get_contents(CORPUS "/labels.tsv", &text, NULL, &error))
		g_error("labels: %s", error->message);
	lines = g_strsplit(text, "\n", -1);
	for (char **l = lines; *l; l++) {
		g_auto(GStrv) f = NULL;
		label_t label = {0};
		if (**l == '#' || **l == '\0')
			continue;
		f = g_strsplit(*l, "\t", 4);
		g_assert_cmpuint(g_strv_length(f), ==, 4);
		label.file = g_strdup(f[0]);
		label.types = g_strdup(f[1]);
		label.ids = (guint)g_ascii_strtoull(f[2], NULL, 10);
		label.checks = g_strdup(f[3]);
		g_array_append_val(labels, label);
	}
	return labels;
}

static gint
str_ptr_cmp(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The types as `parse --json` reports them, sorted and comma-joined
 * ("auto" for automatic mail, "inquiry" when no rule matched). */
static char *
types_of(const parser_request_t *r)
{
	g_autoptr(GPtrArray) sorted = g_ptr_array_new();

	if (r->is_auto)
		return g_strdup("auto");
	if (r->request_types->len == 0)
		return g_strdup("inquiry");
	for (guint i = 0; i < r->request_types->len; i++)
		g_ptr_array_add(sorted, r->request_types->pdata[i]);
	g_ptr_array_sort(sorted, str_ptr_cmp);
	g_ptr_array_add(sorted, NULL);
	return g_strjoinv(",", (char **)sorted->pdata);
}

static char *
sorted_label(const char *types)
{
	g_auto(GStrv) parts = g_strsplit(types, ",", -1);
	g_autoptr(GPtrArray) sorted = g_ptr_array_new();

	for (char **p = parts; *p; p++)
		g_ptr_array_add(sorted, *p);
	g_ptr_array_sort(sorted, str_ptr_cmp);
	g_ptr_array_add(sorted, NULL);
	return g_strjoinv(",", (char **)sorted->pdata);
}

static guint
count_rejected(const parser_request_t *r)
{
	guint n = 0;
	for (guint i = 0; i < r->attachments->len; i++)
		n += ((parser_attachment_t *)r->attachments->pdata[i])->kind == ATTACHMENT_REJECTED;
	return n;
}

/* "" when every check in CHECKS holds, else what did not. */
static char *
failed_checks(const parser_request_t *r, const char *checks)
{
	g_auto(GStrv) items = g_strsplit(checks, ";", -1);
	GString *out = g_string_new(NULL);

	for (char **it = items; *it; it++) {
		const char *eq = strchr(*it, '=');
		g_autofree char *key = NULL;
		g_autofree char *got = NULL;
		if (**it == '\0' || eq == NULL)
			continue;
		key = g_strndup(*it, (gsize)(eq - *it));
		if (strcmp(key, "document_type") == 0)
			got = g_strdup(r->document_type ? r->document_type : "null");
		else if (strcmp(key, "needs_masking_check") == 0)
			got = g_strdup(r->needs_masking_check ? "1" : "0");
		else if (strcmp(key, "encrypted_archive") == 0)
			got = g_strdup(r->encrypted_archive ? "1" : "0");
		else if (strcmp(key, "rejected") == 0)
			got = g_strdup_printf("%u", count_rejected(r));
		else if (strcmp(key, "forwarded_by") == 0)
			got = g_strdup(r->forwarded_by ? r->forwarded_by : "null");
		else if (strcmp(key, "from") == 0)
			got = g_strdup(r->from_address ? r->from_address : "null");
		else if (strcmp(key, "bounce_recipient") == 0)
			got = g_strdup(r->bounce_recipient ? r->bounce_recipient : "null");
		else if (strcmp(key, "bounce_status") == 0)
			got = g_strdup(r->bounce_status ? r->bounce_status : "null");
		else
			g_error("labels: unknown check %s", key);
		if (strcmp(got, eq + 1) != 0)
			g_string_append_printf(out, " %s=%s (want %s)", key, got, eq + 1);
	}
	return g_string_free(out, FALSE);
}

static void
test_accuracy(void)
{
	parser_config_t config = test_default_config();
	g_autoptr(parser_t) parser = test_parser_new(&config);
	g_autoptr(GArray) labels = read_labels();
	guint type_ok = 0, ids_ok = 0, checks_bad = 0;
	double type_acc, ids_acc;

	g_assert_cmpuint(labels->len, >=, 80);
	for (guint i = 0; i < labels->len; i++) {
		const label_t *l = &g_array_index(labels, label_t, i);
		g_autofree char *path = g_build_filename(CORPUS, "mail", l->file, NULL);
		g_autoptr(GError) error = NULL;
		g_autoptr(GMimeStream) stream = NULL;
		g_autoptr(parser_request_t) r = NULL;
		g_autofree char *got = NULL, *want = NULL, *bad = NULL;
		int fd = open(path, O_RDONLY);

		g_assert_cmpint(fd, >=, 0);
		stream = parser_file_stream_new(fd); /* as router/ reads the spool */
		r = parser_parse_stream(parser, stream, NULL, &error);
		g_assert_no_error(error);
		test_assert_request_sane(r);
		got = types_of(r);
		want = sorted_label(l->types);
		if (strcmp(got, want) == 0)
			type_ok++;
		else
			g_printerr("# miss (type) %s: got %s, want %s\n", l->file, got, want);
		if (r->id_document_count == l->ids)
			ids_ok++;
		else
			g_printerr("# miss (ID documents) %s: got %u, want %u\n", l->file,
			           r->id_document_count, l->ids);
		bad = failed_checks(r, l->checks);
		if (*bad) {
			checks_bad++;
			g_printerr("# miss (checks) %s:%s\n", l->file, bad);
		}
	}
	type_acc = (double)type_ok / labels->len;
	ids_acc = (double)ids_ok / labels->len;
	g_printerr("# corpus: %u messages; request type %u/%u (%.1f%%); ID documents %u/%u "
	           "(%.1f%%); checks failed on %u\n",
	           labels->len, type_ok, labels->len, type_acc * 100, ids_ok, labels->len,
	           ids_acc * 100, checks_bad);
	g_assert_cmpfloat(type_acc, >=, THRESHOLD);
	g_assert_cmpfloat(ids_acc, >=, THRESHOLD);
	g_assert_cmpuint(checks_bad, ==, 0);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/parser/corpus/accuracy", test_accuracy);
	return g_test_run();
}
