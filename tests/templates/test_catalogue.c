/* test_catalogue.c — the shipped catalogue: every kind in both languages,
 * renders with its documented variables and nothing left empty, fee text only
 * when the fee applies; broken files are refused with file:line:col. */
#include "templates/catalogue.h"

#include <glib/gstdio.h>

#include "tests/lib/testserver.h"

static catalogue_t *
load_shipped(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_build_filename(PI_SRCDIR, "templates", NULL);
	catalogue_t *catalogue = catalogue_load(dir, &error);

	g_assert_no_error(error);
	return catalogue;
}

static JsonNode *
context(const char *lang, gboolean fee, gboolean id_required, const char *name)
{
	g_autoptr(JsonBuilder) b = json_builder_new();

	json_builder_begin_object(b);
#define S(k, v)                                                                                \
	do {                                                                                   \
		json_builder_set_member_name(b, k);                                            \
		if (v)                                                                         \
			json_builder_add_string_value(b, v);                                   \
		else                                                                           \
			json_builder_add_null_value(b);                                        \
	} while (0)
	S("reference", "PRV-2026-000042");
	S("requester_name", name);
	S("requester_address", "yamada@example.jp");
	S("language", lang);
	S("today", "2026年11月28日");
	S("org_name", "株式会社サンプル");
	S("org_contact", "個人情報保護窓口");
	S("org_address", "東京都千代田区千代田1-1");
	S("request_type", "保有個人データの開示");
	S("request_type_id", "disclosure");
	S("received_date", "2026年11月27日");
	S("fee_yen", "1,000");
	json_builder_set_member_name(b, "request_types");
	json_builder_begin_array(b);
	json_builder_end_array(b);
	json_builder_set_member_name(b, "fee_required");
	json_builder_add_boolean_value(b, fee);
	json_builder_set_member_name(b, "id_required");
	json_builder_add_boolean_value(b, id_required);
	json_builder_set_member_name(b, "id_document_count");
	json_builder_add_int_value(b, 1);
#undef S
	json_builder_end_object(b);
	return json_builder_get_root(b);
}

static void
test_every_kind_renders(void)
{
	g_autoptr(catalogue_t) catalogue = load_shipped();

	for (const catalogue_kind_t *k = catalogue_kinds(); k->kind; k++) {
		for (int l = 0; l < 2; l++) {
			const char *lang = l ? "en" : "ja";
			g_autoptr(JsonNode) ctx = context(lang, TRUE, TRUE, "山田 太郎");
			g_autoptr(GError) error = NULL;
			g_autoptr(catalogue_rendering_t) r = NULL;

			g_assert_true(catalogue_has(catalogue, k->kind, lang));
			r = catalogue_render(catalogue, k->kind, lang, ctx, &error);
			g_assert_no_error(error);
			if (r->missing->len > 0) {
				tmpl_name_t *n = g_ptr_array_index(r->missing, 0);
				g_error("%s/%s: {{%s}} (%u:%u) rendered empty", lang, k->kind, n->name,
				        n->line, n->column);
			}
			g_assert_null(strchr(r->subject, '\n'));
			g_assert_nonnull(strstr(r->subject, "[PRV-2026-000042]"));
			g_assert_nonnull(strstr(r->body, "PRV-2026-000042"));
			g_assert_nonnull(strstr(r->body, "1,000"));
			g_assert_true(g_utf8_validate(r->body, -1, NULL));
			g_assert_cmpuint(strlen(r->hash), ==, 64);
			/* Mustache tags never reach a reader. */
			g_assert_null(strstr(r->body, "{{"));
			g_assert_null(strstr(r->subject, "{{"));
		}
	}
}

static void
test_fee_only_when_charged(void)
{
	g_autoptr(catalogue_t) catalogue = load_shipped();
	static const char *const kinds[] = {"ack", "id_missing"};

	for (gsize i = 0; i < G_N_ELEMENTS(kinds); i++) {
		g_autoptr(JsonNode) with = context("ja", TRUE, TRUE, NULL);
		g_autoptr(JsonNode) without = context("ja", FALSE, TRUE, NULL);
		g_autoptr(JsonNode) en = context("en", FALSE, TRUE, NULL);
		g_autoptr(catalogue_rendering_t) a = catalogue_render(catalogue, kinds[i], "ja", with, NULL);
		g_autoptr(catalogue_rendering_t) b =
		    catalogue_render(catalogue, kinds[i], "ja", without, NULL);
		g_autoptr(catalogue_rendering_t) c = catalogue_render(catalogue, kinds[i], "en", en, NULL);

		g_assert_nonnull(strstr(a->body, "手数料1,000円"));
		g_assert_null(strstr(b->body, "手数料"));
		g_assert_null(strstr(b->body, "1,000"));
		g_assert_null(strstr(c->body, "fee"));
		g_assert_null(strstr(c->body, "yen"));
		/* No name: a polite generic greeting, never an empty "様". */
		g_assert_true(g_str_has_prefix(b->body, "ご請求者 様"));
		g_assert_true(g_str_has_prefix(c->body, "Dear Requester,"));
	}
}

static void
test_inquiry_asks_no_id(void)
{
	g_autoptr(catalogue_t) catalogue = load_shipped();
	g_autoptr(JsonNode) ctx = context("ja", FALSE, FALSE, "Taro");
	g_autoptr(catalogue_rendering_t) r = catalogue_render(catalogue, "ack", "ja", ctx, NULL);

	g_assert_null(strstr(r->body, "本人確認書類"));
	g_assert_true(g_str_has_prefix(r->body, "Taro 様"));
}

typedef struct {
	const char *file; /* relative to DIR */
	const char *text;
	const char *error_part;
} broken_t;

static const broken_t broken[] = {
	{"ja/ack.tmpl", "Subject: x\n\n{{#open}}\nbody\n", "ja/ack.tmpl:3:"},
	{"ja/ack.tmpl", "Subject: {{x\n\nbody\n", "(Subject):1:"},
	{"ja/ack.tmpl", "no header\n\nbody\n", "ja/ack.tmpl:1:1: expected \"Key: value\""},
	{"ja/ack.tmpl", "Subject: x\nBcc: evil@example.org\n\nbody\n", "unknown header \"Bcc\""},
	{"ja/ack.tmpl", "Subject: x\nAuto-Send: sometimes\n\nbody\n", "Auto-Send"},
	{"ja/ack.tmpl", "Description: y\n\nbody\n", "missing Subject"},
	{"ja/ack.tmpl", "Subject: x\n\xff\xfe\n\nbody\n", "not valid UTF-8"},
	{"en/ack.tmpl", "Subject: x\n\nline\n{{/close}}\n", "en/ack.tmpl:4:"},
};

static void
test_broken(void)
{
	for (gsize i = 0; i < G_N_ELEMENTS(broken); i++) {
		g_autofree char *dir = testserver_tmpdir();
		g_autofree char *path = g_build_filename(dir, broken[i].file, NULL);
		g_autofree char *parent = g_path_get_dirname(path);
		g_autoptr(GError) error = NULL;
		g_autoptr(catalogue_t) catalogue = NULL;

		g_assert_cmpint(g_mkdir_with_parents(parent, 0755), ==, 0);
		g_assert_true(g_file_set_contents(path, broken[i].text, -1, NULL));
		catalogue = catalogue_load(dir, &error);
		g_assert_null(catalogue);
		g_assert_nonnull(error);
		if (strstr(error->message, broken[i].error_part) == NULL)
			g_error("row %zu: \"%s\" lacks \"%s\"", i, error->message, broken[i].error_part);
		g_assert_null(strchr(error->message, '\n'));
		testserver_tmpdir_remove(dir);
	}
}

static void
test_subject_sanitized(void)
{
	g_autofree char *dir = testserver_tmpdir();
	g_autofree char *path = g_build_filename(dir, "ja", "ack.tmpl", NULL);
	g_autofree char *parent = g_path_get_dirname(path);
	g_autoptr(GError) error = NULL;
	g_autoptr(catalogue_t) catalogue = NULL;
	g_autoptr(JsonNode) ctx = context("ja", FALSE, TRUE, "Evil\r\nBcc: victim@example.org");
	g_autoptr(catalogue_rendering_t) r = NULL;

	g_assert_cmpint(g_mkdir_with_parents(parent, 0755), ==, 0);
	g_assert_true(g_file_set_contents(path, "Subject: {{requester_name}} [{{reference}}]\n\n"
	                                        "Dear {{requester_name}}\n",
	                                  -1, NULL));
	catalogue = catalogue_load(dir, &error);
	g_assert_no_error(error);
	r = catalogue_render(catalogue, "ack", "ja", ctx, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(r->subject, ==, "EvilBcc: victim@example.org [PRV-2026-000042]");
	testserver_tmpdir_remove(dir);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/catalogue/every-kind-renders", test_every_kind_renders);
	g_test_add_func("/catalogue/fee-only-when-charged", test_fee_only_when_charged);
	g_test_add_func("/catalogue/inquiry-asks-no-id", test_inquiry_asks_no_id);
	g_test_add_func("/catalogue/broken", test_broken);
	g_test_add_func("/catalogue/subject-sanitized", test_subject_sanitized);
	return g_test_run();
}
