/* test_mustache_spec.c — the official Mustache spec (tests/templates/spec/,
 * vendored with its LICENSE and VERSION) run against tmpl.h in HTML mode.
 *
 * Every spec test is its own GTest case, /spec/<file>/<test name>.  The
 * first case checks that every file loaded with the number of tests the
 * vendored version has, so a loading mistake cannot make tests vanish; the
 * last prints pass/fail counts per file and in total. */
#include "templates/tmpl.h"

#include <string.h>

#define SPEC_DIR PI_SRCDIR "/tests/templates/spec"

/* The vendored spec (VERSION) and how many tests each file holds. */
static const struct {
	const char *file;
	guint tests;
} expected_files[] = {
    {"comments.json", 12}, {"delimiters.json", 14}, {"interpolation.json", 42},
    {"inverted.json", 22}, {"partials.json", 12},   {"sections.json", 34},
};
#define EXPECTED_TOTAL 136

typedef struct {
	char *file;
	guint found, run, passed, failed;
} spec_file_t;

typedef struct {
	spec_file_t *file;
	JsonObject *test; /* borrowed from the loaded document */
} spec_case_t;

static GPtrArray *files;    /* spec_file_t* */
static GPtrArray *problems; /* char*: what went wrong while loading */
static GPtrArray *parsers;  /* JsonParser* kept alive for the cases */
static gboolean filtered;   /* -p or -s given: not every case runs */

static void
spec_file_free(gpointer data)
{
	spec_file_t *f = data;

	g_free(f->file);
	g_free(f);
}

static char *
spec_partial(const char *name, gpointer user_data)
{
	JsonObject *partials = user_data;

	if (partials == NULL || !json_object_has_member(partials, name))
		return NULL;
	return g_strdup(json_object_get_string_member(partials, name));
}

static void
test_spec_case(gconstpointer data)
{
	const spec_case_t *c = data;
	JsonObject *test = c->test;
	g_autoptr(GError) error = NULL;
	g_autoptr(tmpl_t) tmpl = NULL;
	g_autofree char *out = NULL;
	tmpl_options_t options = {0};
	const char *expected = json_object_get_string_member(test, "expected");

	c->file->run++;
	options.escape = TMPL_ESCAPE_HTML;
	options.partial = spec_partial;
	if (json_object_has_member(test, "partials"))
		options.partial_data = json_object_get_object_member(test, "partials");
	tmpl = tmpl_parse(json_object_get_string_member(test, "template"), -1,
	                  json_object_get_string_member(test, "name"), &error);
	if (tmpl != NULL)
		out = tmpl_render(tmpl, json_object_get_member(test, "data"), &options, &error);
	if (error == NULL && g_strcmp0(out, expected) == 0) {
		c->file->passed++;
	} else {
		c->file->failed++;
		g_test_message("spec says: %s", json_object_get_string_member(test, "desc"));
	}
	g_assert_no_error(error);
	g_assert_cmpstr(out, ==, expected);
}

static void
load_file(const char *name)
{
	g_autofree char *path = g_build_filename(SPEC_DIR, name, NULL);
	g_autofree char *base = g_strndup(name, strlen(name) - strlen(".json"));
	g_autoptr(GError) error = NULL;
	JsonParser *parser = json_parser_new();
	spec_file_t *file = g_new0(spec_file_t, 1);
	JsonNode *root;
	JsonArray *tests;

	file->file = g_strdup(name);
	g_ptr_array_add(files, file);
	g_ptr_array_add(parsers, parser);
	if (!json_parser_load_from_file(parser, path, &error)) {
		g_ptr_array_add(problems, g_strdup_printf("%s: %s", name, error->message));
		return;
	}
	root = json_parser_get_root(parser);
	if (!JSON_NODE_HOLDS_OBJECT(root) ||
	    !JSON_NODE_HOLDS_ARRAY(json_object_get_member(json_node_get_object(root), "tests"))) {
		g_ptr_array_add(problems, g_strdup_printf("%s: no \"tests\" array", name));
		return;
	}
	tests = json_object_get_array_member(json_node_get_object(root), "tests");
	for (guint i = 0; i < json_array_get_length(tests); i++) {
		JsonObject *test = json_array_get_object_element(tests, i);
		spec_case_t *c = g_new0(spec_case_t, 1);
		g_autofree char *test_path = NULL;

		c->file = file;
		c->test = test;
		test_path = g_strdup_printf("/spec/%s/%s", base,
		                            json_object_get_string_member(test, "name"));
		g_test_add_data_func_full(test_path, c, test_spec_case, g_free);
		file->found++;
	}
}

static gint
compare_names(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
load_spec(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GDir) dir = g_dir_open(SPEC_DIR, 0, &error);
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	const char *entry;

	if (dir == NULL) {
		g_ptr_array_add(problems, g_strdup(error->message));
		return;
	}
	while ((entry = g_dir_read_name(dir)) != NULL) {
		if (g_str_has_suffix(entry, ".json") && entry[0] != '~')
			g_ptr_array_add(names, g_strdup(entry));
	}
	g_ptr_array_sort(names, compare_names);
	for (guint i = 0; i < names->len; i++)
		load_file(g_ptr_array_index(names, i));
}

/* Runs first: every expected file is there with its number of tests. */
static void
test_loaded(void)
{
	guint total = 0;

	for (guint i = 0; i < problems->len; i++)
		g_test_message("load problem: %s", (char *)g_ptr_array_index(problems, i));
	g_assert_cmpuint(problems->len, ==, 0);
	g_assert_cmpuint(files->len, ==, G_N_ELEMENTS(expected_files));
	for (guint i = 0; i < G_N_ELEMENTS(expected_files); i++) {
		const spec_file_t *f = g_ptr_array_index(files, i);

		g_assert_cmpstr(f->file, ==, expected_files[i].file);
		g_assert_cmpuint(f->found, ==, expected_files[i].tests);
		total += f->found;
	}
	g_assert_cmpuint(total, ==, EXPECTED_TOTAL);
}

/* Runs last: the counts per file and in total, as TAP comments. */
static void
test_summary(void)
{
	guint run = 0, passed = 0, failed = 0, found = 0;

	for (guint i = 0; i < files->len; i++) {
		const spec_file_t *f = g_ptr_array_index(files, i);

		g_test_message("%-20s %3u passed, %u failed (%u tests)", f->file, f->passed,
		               f->failed, f->found);
		run += f->run;
		passed += f->passed;
		failed += f->failed;
		found += f->found;
	}
	g_test_message("%-20s %3u passed, %u failed (%u tests)", "total", passed, failed, found);
	g_assert_cmpuint(failed, ==, 0);
	if (!filtered)
		g_assert_cmpuint(run, ==, found);
	g_assert_cmpuint(passed + failed, ==, run);
}

int
main(int argc, char **argv)
{
	int status;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-p") == 0 || strcmp(argv[i], "-s") == 0 ||
		    g_str_has_prefix(argv[i], "--skip"))
			filtered = TRUE;
	}
	g_test_init(&argc, &argv, NULL);
	/* A failing case is counted and reported, and the others still run. */
	g_test_set_nonfatal_assertions();
	files = g_ptr_array_new_with_free_func(spec_file_free);
	problems = g_ptr_array_new_with_free_func(g_free);
	parsers = g_ptr_array_new_with_free_func(g_object_unref);
	/* Suites run in the order they are created: /load, /spec, /summary. */
	g_test_add_func("/load/files", test_loaded);
	load_spec();
	g_test_add_func("/summary/counts", test_summary);
	status = g_test_run();
	g_ptr_array_unref(parsers);
	g_ptr_array_unref(problems);
	g_ptr_array_unref(files);
	return status;
}
