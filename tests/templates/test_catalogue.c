/* test_catalogue.c — the shipped catalogue and the rules it is held to:
 * every kind in both languages passes `templates check` and renders its
 * sample data with nothing left empty; kinds.c is consistent; the fee is
 * mentioned only when charged; header values cannot inject headers; an
 * unfilled variable makes a rendering unsendable; versions cover partials;
 * broken catalogues are refused with FILE:LINE:COLUMN. */
#include "templates/catalogue.h"

#include <glib/gstdio.h>
#include <string.h>

#include "tests/lib/testserver.h"

#define SHIPPED PI_SRCDIR "/templates"

/* ---- helpers ---------------------------------------------------------------- */

static catalogue_t *
load_shipped(void)
{
	g_autoptr(GError) error = NULL;
	catalogue_t *catalogue = catalogue_load(SHIPPED, &error);

	g_assert_no_error(error);
	g_assert_nonnull(catalogue);
	return catalogue;
}

/* A copy of the shipped catalogue in a fresh folder; remove with
 * testserver_tmpdir_remove(). */
static char *
copy_shipped(void)
{
	g_autofree char *dir = testserver_tmpdir();
	g_autofree char *from = g_shell_quote(SHIPPED);
	g_autofree char *to = g_shell_quote(dir);
	g_autofree char *cmd = g_strdup_printf("cp -r %s/ja %s/en %s/", from, from, to);

	g_assert_cmpint(system(cmd), ==, 0);
	return g_steal_pointer(&dir);
}

static void
write_file(const char *dir, const char *rel, const char *text, gssize len)
{
	g_autofree char *path = g_build_filename(dir, rel, NULL);
	g_autofree char *parent = g_path_get_dirname(path);
	g_autoptr(GError) error = NULL;

	g_assert_cmpint(g_mkdir_with_parents(parent, 0755), ==, 0);
	g_file_set_contents(path, text, len, &error);
	g_assert_no_error(error);
}

/* Replace the first OLD in DIR/REL with NEW (the file must contain OLD). */
static void
edit_file(const char *dir, const char *rel, const char *old, const char *new)
{
	g_autofree char *path = g_build_filename(dir, rel, NULL);
	g_autofree char *text = NULL;
	g_autoptr(GString) edited = NULL;
	char *at;

	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	at = strstr(text, old);
	if (at == NULL)
		g_error("%s has no \"%s\"", rel, old);
	edited = g_string_new_len(text, at - text);
	g_string_append(edited, new);
	g_string_append(edited, at + strlen(old));
	write_file(dir, rel, edited->str, -1);
}

/* Every problem of the catalogue in DIR, one formatted line each. */
static GPtrArray *
problems_of(const char *dir)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(catalogue_t) c = catalogue_read(dir, &error);
	GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);
	const GPtrArray *problems;

	g_assert_no_error(error);
	problems = catalogue_problems(c);
	for (guint i = 0; i < problems->len; i++) {
		char *line = catalogue_problem_format(g_ptr_array_index(problems, i));
		g_test_message("problem: %s", line);
		g_ptr_array_add(lines, line);
	}
	return lines;
}

static gboolean
has_problem(GPtrArray *lines, const char *part)
{
	for (guint i = 0; i < lines->len; i++) {
		if (strstr(g_ptr_array_index(lines, i), part) != NULL)
			return TRUE;
	}
	return FALSE;
}

static JsonNode *
sample(const char *kind, const char *lang)
{
	const catalogue_kind_t *k = catalogue_kind_find(kind);

	g_assert_nonnull(k);
	return catalogue_sample_context(k, lang);
}

static void
set_string(JsonNode *context, const char *name, const char *value)
{
	JsonObject *o = json_node_get_object(context);

	if (value == NULL)
		json_object_set_null_member(o, name);
	else
		json_object_set_string_member(o, name, value);
}

/* ---- the shipped catalogue ----------------------------------------------------- */

/* What `templates check` says about templates/: nothing. */
static void
test_shipped_is_clean(void)
{
	g_autoptr(GPtrArray) problems = problems_of(SHIPPED);
	g_autoptr(catalogue_t) c = load_shipped();
	g_autoptr(GPtrArray) files = catalogue_files(c);
	guint kinds = 0;

	g_assert_cmpuint(problems->len, ==, 0);
	for (const catalogue_kind_t *k = catalogue_kinds(); k->kind; k++)
		kinds++;
	/* At least the kinds the issue lists. */
	g_assert_cmpuint(kinds, >=, 17);
	for (guint i = 0; i < files->len; i++) {
		const catalogue_file_t *f = g_ptr_array_index(files, i);
		g_assert_false(f->problems);
		g_assert_cmpuint(strlen(f->version), ==, 64);
		g_assert_cmpint(f->modified, >, 0);
	}
}

/* Every kind, both languages, rendered with its documented sample data:
 * nothing empty, no tag left, subject one line with the reference, lines a
 * mail can carry, Japanese dates in Japanese. */
static void
test_every_kind_renders(void)
{
	g_autoptr(catalogue_t) catalogue = load_shipped();

	for (const catalogue_kind_t *k = catalogue_kinds(); k->kind; k++) {
		for (const char *const *lang = catalogue_languages(); *lang; lang++) {
			g_autoptr(JsonNode) ctx = catalogue_sample_context(k, *lang);
			g_autoptr(GError) error = NULL;
			g_autoptr(catalogue_rendering_t) r = NULL;
			g_auto(GStrv) lines = NULL;

			g_test_message("%s/%s", *lang, k->kind);
			g_assert_true(catalogue_has(catalogue, k->kind, *lang));
			r = catalogue_render(catalogue, k->kind, *lang, ctx, &error);
			g_assert_no_error(error);
			g_assert_cmpuint(r->missing->len, ==, 0);
			g_assert_cmpuint(r->unset->len, ==, 0);
			g_assert_null(r->problem);
			g_assert_null(strpbrk(r->subject, "\r\n"));
			g_assert_cmpstr(r->subject, !=, "");
			if (k->audience == CATALOGUE_TO_REQUESTER) {
				g_assert_nonnull(strstr(r->subject, "[PRV-2026-000042]"));
				g_assert_nonnull(strstr(r->body, "PRV-2026-000042"));
			}
			g_assert_true(g_utf8_validate(r->body, -1, NULL));
			g_assert_true(g_utf8_validate(r->subject, -1, NULL));
			g_assert_null(strstr(r->body, "{{"));
			g_assert_null(strstr(r->subject, "{{"));
			g_assert_cmpstr(r->version->kind, ==, k->kind);
			g_assert_cmpstr(r->version->language, ==, *lang);
			g_assert_cmpuint(strlen(r->hash), ==, 64);
			lines = g_strsplit(r->body, "\n", -1);
			for (char **l = lines; *l; l++)
				g_assert_cmpuint(strlen(*l), <=, 998);
			/* Japanese templates speak Japanese; dates are 2026年11月27日. */
			if (strcmp(*lang, "ja") == 0) {
				g_assert_true(g_str_has_suffix(r->body, "\n"));
				g_assert_null(strstr(r->body, "November"));
			} else {
				g_assert_null(strstr(r->body, "年11月"));
			}
		}
	}
}

static void
test_dates_in_each_language(void)
{
	g_autoptr(catalogue_t) catalogue = load_shipped();
	g_autoptr(JsonNode) ja = sample("deadline_extension", "ja");
	g_autoptr(JsonNode) en = sample("deadline_extension", "en");
	g_autoptr(catalogue_rendering_t) rja =
	    catalogue_render(catalogue, "deadline_extension", "ja", ja, NULL);
	g_autoptr(catalogue_rendering_t) ren =
	    catalogue_render(catalogue, "deadline_extension", "en", en, NULL);

	g_assert_nonnull(strstr(rja->body, "受付日：2026年11月27日"));
	g_assert_nonnull(strstr(rja->body, "ご回答は、2026年12月25日までにお送りいたします。"));
	g_assert_nonnull(strstr(ren->body, "received on 27 November 2026"));
	g_assert_nonnull(strstr(ren->body, "by 25 December 2026"));
}

/* kinds.c: the one table is consistent with itself. */
static void
test_kinds_table(void)
{
	g_autoptr(GHashTable) used = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	for (const catalogue_kind_t *k = catalogue_kinds(); k->kind; k++) {
		g_assert_nonnull(k->description);
		for (const char *const *name = k->variables; *name; name++) {
			const catalogue_variable_t *v = catalogue_variable_find(*name);
			const char *dot = strchr(*name, '.');

			if (v == NULL)
				g_error("kind %s uses undocumented variable %s", k->kind, *name);
			g_hash_table_add(used, g_strdup(v->name));
			if (dot != NULL) {
				/* A list field: its list is a list, and the kind has it. */
				g_autofree char *list = g_strndup(*name, dot - *name);
				const catalogue_variable_t *l = catalogue_variable_find(list);

				g_assert_nonnull(l);
				g_assert_cmpint(l->type, ==, CATALOGUE_LIST);
				g_assert_true(catalogue_kind_uses(k, list));
			}
		}
		for (const char *const *name = k->required; *name; name++) {
			if (!catalogue_kind_uses(k, *name))
				g_error("kind %s requires %s but may not use it", k->kind, *name);
		}
		/* Samples: every variable of the kind is set in both languages. */
		for (const char *const *lang = catalogue_languages(); *lang; lang++) {
			g_autoptr(JsonNode) ctx = catalogue_sample_context(k, *lang);
			JsonObject *o = json_node_get_object(ctx);

			for (const char *const *r = k->required; *r; r++) {
				if (!json_object_has_member(o, *r) ||
				    json_object_get_null_member(o, *r))
					g_error("kind %s: required %s has no sample in %s", k->kind,
					        *r, *lang);
			}
		}
	}
	for (const catalogue_variable_t *v = catalogue_variables(); v->name; v++) {
		if (!g_hash_table_contains(used, v->name))
			g_error("variable %s is documented but no kind uses it", v->name);
		g_assert_nonnull(v->description);
	}
	g_assert_null(catalogue_kind_find("no-such-kind"));
	g_assert_cmpstr(catalogue_type_name(CATALOGUE_FLAG), ==, "flag");
}

/* The fee (and its amount) appears only when a type asked for carries it. */
static void
test_fee_only_when_charged(void)
{
	g_autoptr(catalogue_t) catalogue = load_shipped();
	static const char *const kinds[] = {"ack", "id_missing"};

	for (gsize i = 0; i < G_N_ELEMENTS(kinds); i++) {
		for (const char *const *lang = catalogue_languages(); *lang; lang++) {
			g_autoptr(JsonNode) with = sample(kinds[i], *lang);
			g_autoptr(JsonNode) without = sample(kinds[i], *lang);
			g_autoptr(JsonNode) types = json_from_string(
			    "[{\"id\": \"stop_use\", \"label\": \"x\", \"fee_required\": false,"
			    " \"is_stop_use\": true}]",
			    NULL);
			g_autoptr(catalogue_rendering_t) a = NULL;
			g_autoptr(catalogue_rendering_t) b = NULL;
			gboolean ja = strcmp(*lang, "ja") == 0;

			json_object_set_boolean_member(json_node_get_object(without),
			                               "fee_required", FALSE);
			json_object_set_member(json_node_get_object(without), "request_types",
			                       g_steal_pointer(&types));
			a = catalogue_render(catalogue, kinds[i], *lang, with, NULL);
			b = catalogue_render(catalogue, kinds[i], *lang, without, NULL);
			g_assert_nonnull(
			    strstr(a->body, ja ? "手数料1,000円" : "fee of 1,000 yen"));
			g_assert_null(strstr(b->body, ja ? "手数料" : "fee"));
			g_assert_null(strstr(b->body, "1,000"));
		}
	}
}

/* No name: a polite generic greeting, never an empty "様". */
static void
test_greeting_without_name(void)
{
	g_autoptr(catalogue_t) catalogue = load_shipped();
	g_autoptr(JsonNode) ja = sample("ack", "ja");
	g_autoptr(JsonNode) en = sample("ack", "en");
	g_autoptr(JsonNode) question = sample("ack", "ja");
	g_autoptr(catalogue_rendering_t) a = NULL;
	g_autoptr(catalogue_rendering_t) b = NULL;
	g_autoptr(catalogue_rendering_t) c = NULL;

	set_string(ja, "requester_name", NULL);
	set_string(en, "requester_name", NULL);
	set_string(question, "requester_name", NULL);
	json_object_set_boolean_member(json_node_get_object(question), "inquiry_only", TRUE);
	json_object_set_boolean_member(json_node_get_object(question), "id_required", FALSE);
	a = catalogue_render(catalogue, "ack", "ja", ja, NULL);
	b = catalogue_render(catalogue, "ack", "en", en, NULL);
	c = catalogue_render(catalogue, "ack", "ja", question, NULL);
	g_assert_true(g_str_has_prefix(a->body, "ご請求者 様\n"));
	g_assert_true(g_str_has_prefix(b->body, "Dear Requester,\n"));
	g_assert_true(g_str_has_prefix(c->body, "お問い合わせいただいた方へ\n"));
	/* A question needs no identity document. */
	g_assert_null(strstr(c->body, "本人確認書類"));
	g_assert_nonnull(strstr(c->subject, "お問い合わせについて"));
}

/* ---- safety ----------------------------------------------------------------- */

/* Header values: whatever a requester's name holds, the subject stays one
 * header line; the body keeps text but the subject loses controls. */
static void
test_header_injection(void)
{
	static const char *const names[] = {
	    "Evil\r\nBcc: victim@example.org",
	    "山田\nX-Injected: 1",
	    "山田\r\n\r\n<html>body</html>",
	    "Tab\tand\x01\x1b[31mescape",
	    "Line\u2028separator\u2029and\xc2\x85"
	    "next", /* U+0085 */
	};
	g_autofree char *dir = copy_shipped();
	g_autoptr(GError) error = NULL;
	g_autoptr(catalogue_t) catalogue = NULL;

	/* An admin puts the name into the subject. */
	edit_file(dir, "ja/ack.tmpl", "Subject: 【受付のご連絡】",
	          "Subject: {{#requester_name}}{{requester_name}} 様 "
	          "{{/requester_name}}【受付のご連絡】");
	catalogue = catalogue_load(dir, &error);
	g_assert_no_error(error);
	for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
		g_autoptr(JsonNode) ctx = sample("ack", "ja");
		g_autoptr(catalogue_rendering_t) r = NULL;

		set_string(ctx, "requester_name", names[i]);
		r = catalogue_render(catalogue, "ack", "ja", ctx, &error);
		g_assert_no_error(error);
		g_test_message("subject: %s", r->subject);
		for (const char *p = r->subject; *p; p++)
			g_assert_true((guchar)*p >= 0x20 && *p != 0x7f);
		g_assert_null(strstr(r->subject, "\u2028"));
		g_assert_null(strstr(r->subject, "\xc2\x85")); /* U+0085 */
		g_assert_true(g_str_has_suffix(r->subject, "[PRV-2026-000042]"));
	}
	testserver_tmpdir_remove(dir);
}

/* A variable left empty or unset where the reply needs it: no sendable
 * rendering (an error naming it and where), while preview shows the gap. */
static void
test_unfilled_is_not_sendable(void)
{
	g_autoptr(catalogue_t) catalogue = load_shipped();
	static const struct {
		const char *kind, *variable, *value, *message;
	} rows[] = {
	    /* required by the kind */
	    {"refusal", "reason", NULL, "{{reason}} is required but not set"},
	    {"refusal", "reason", "", "{{reason}} is required but not set"},
	    {"refusal", "reason", " 　\t", "{{reason}} is required but not set"},
	    {"deadline_extension", "due_date", NULL, "{{due_date}} is required but not set"},
	    {"id_confirmed_fee", "org_address", NULL, "{{org_address}} is required but not set"},
	    {"inquiry_answer", "details", NULL, "{{details}} is required but not set"},
	    /* printed but empty: the engine reports it with its position */
	    {"ack", "received_date", NULL, "{{received_date}} is empty (ja/"},
	    {"id_missing", "org_contact", "",
	     "{{org_contact}} is empty (ja/id_missing.tmpl:5:1, in "
	     "partial greeting)"},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
		g_autoptr(JsonNode) ctx = sample(rows[i].kind, "ja");
		g_autoptr(GError) error = NULL;
		g_autoptr(catalogue_rendering_t) r = NULL;
		g_autoptr(catalogue_rendering_t) preview = NULL;
		g_autofree char *marker = g_strdup_printf("{{%s}}", rows[i].variable);

		g_test_message("row %zu: %s without %s", i, rows[i].kind, rows[i].variable);
		set_string(ctx, rows[i].variable, rows[i].value);
		r = catalogue_render(catalogue, rows[i].kind, "ja", ctx, &error);
		g_assert_null(r);
		g_assert_error(error, TMPL_ERROR, PI_ERROR_MESSAGE);
		if (strstr(error->message, rows[i].message) == NULL)
			g_error("\"%s\" lacks \"%s\"", error->message, rows[i].message);
		g_assert_null(strchr(error->message, '\n'));
		g_clear_error(&error);
		preview = catalogue_preview(catalogue, rows[i].kind, "ja", ctx, &error);
		g_assert_no_error(error);
		g_assert_nonnull(preview->problem);
		g_assert_true(strstr(preview->subject, marker) != NULL ||
		              strstr(preview->body, marker) != NULL);
	}
}

/* An optional variable unset: nothing missing, the part simply left out. */
static void
test_optional_left_out(void)
{
	g_autoptr(catalogue_t) catalogue = load_shipped();
	g_autoptr(JsonNode) ctx = sample("id_confirmed_fee", "ja");
	g_autoptr(GError) error = NULL;
	g_autoptr(catalogue_rendering_t) r = NULL;

	set_string(ctx, "fee_bank_account", NULL);
	set_string(ctx, "fee_payment_due", "");
	r = catalogue_render(catalogue, "id_confirmed_fee", "ja", ctx, &error);
	g_assert_no_error(error);
	g_assert_null(strstr(r->body, "銀行振込\n"));
	g_assert_nonnull(strstr(r->body, "■ 郵便定額小為替"));
	g_assert_null(strstr(r->body, "までにお支払いください"));
}

/* The unknown kind is an error of its own. */
static void
test_unknown_kind(void)
{
	g_autoptr(catalogue_t) catalogue = load_shipped();
	g_autoptr(JsonNode) ctx = sample("ack", "ja");
	g_autoptr(GError) error = NULL;
	g_autoptr(catalogue_rendering_t) r = catalogue_render(catalogue, "nope", "ja", ctx, &error);

	g_assert_null(r);
	g_assert_error(error, TMPL_ERROR, PI_ERROR_NOT_FOUND);
}

/* ---- versions ------------------------------------------------------------------ */

static void
test_versions(void)
{
	g_autofree char *dir = copy_shipped();
	g_autoptr(catalogue_t) before = catalogue_load(dir, NULL);
	g_autoptr(catalogue_t) same = catalogue_load(dir, NULL);
	g_autoptr(catalogue_t) after = NULL;
	g_autoptr(catalogue_t) no_partials = NULL;
	g_autofree char *fingerprint = catalogue_scan_fingerprint(dir, NULL);
	g_autofree char *changed = NULL;
	g_autofree char *text = NULL;
	g_autofree char *expected = NULL;
	const catalogue_version_t *v;
	g_autoptr(JsonNode) partials = NULL;

	g_assert_nonnull(before);
	/* The same files: the same versions and fingerprint. */
	g_assert_cmpstr(catalogue_version(before, "ack", "ja")->hash, ==,
	                catalogue_version(same, "ack", "ja")->hash);
	g_assert_cmpstr(fingerprint, ==, catalogue_fingerprint(before));
	/* The version carries the partials it uses, and only those. */
	v = catalogue_version(before, "ack", "ja");
	partials = json_from_string(v->partials, NULL);
	g_assert_true(json_object_has_member(json_node_get_object(partials), "signature"));
	g_assert_true(json_object_has_member(json_node_get_object(partials), "contact"));
	g_assert_true(json_object_has_member(json_node_get_object(partials), "next_steps"));
	g_assert_false(json_object_has_member(json_node_get_object(partials), "id_documents"));
	g_assert_true(g_str_has_prefix(v->text, "Subject: "));

	/* A partial changes: every template including it has a new version,
	 * the others keep theirs. */
	edit_file(dir, "ja/partials/id_documents.tmpl", "パスポート（旅券）", "旅券（パスポート）");
	changed = catalogue_scan_fingerprint(dir, NULL);
	g_assert_cmpstr(changed, !=, fingerprint);
	after = catalogue_load(dir, NULL);
	g_assert_cmpstr(catalogue_version(after, "id_missing", "ja")->hash, !=,
	                catalogue_version(before, "id_missing", "ja")->hash);
	g_assert_cmpstr(catalogue_version(after, "ack", "ja")->hash, ==,
	                catalogue_version(before, "ack", "ja")->hash);
	g_assert_cmpstr(catalogue_version(after, "id_missing", "en")->hash, ==,
	                catalogue_version(before, "id_missing", "en")->hash);

	/* Without partials the version is the file's SHA-256. */
	text = g_strdup("Subject: x [{{reference}}]\n\n{{org_name}}\n");
	write_file(dir, "en/no_data.tmpl", text, -1);
	no_partials = catalogue_read(dir, NULL);
	expected = g_compute_checksum_for_string(G_CHECKSUM_SHA256, text, -1);
	g_assert_cmpstr(catalogue_version(no_partials, "no_data", "en")->hash, ==, expected);
	g_assert_cmpstr(catalogue_version(no_partials, "no_data", "en")->partials, ==, "{}");
	testserver_tmpdir_remove(dir);
}

static void
test_files(void)
{
	g_autoptr(catalogue_t) c = load_shipped();
	g_autoptr(GPtrArray) files = catalogue_files(c);
	const catalogue_file_t *first = g_ptr_array_index(files, 0);
	const catalogue_file_t *last = g_ptr_array_index(files, files->len - 1);
	guint kinds = 0;

	for (const catalogue_kind_t *k = catalogue_kinds(); k->kind; k++)
		kinds++;
	g_assert_cmpstr(first->name, ==, "ja/ack.tmpl");
	g_assert_cmpstr(first->kind, ==, "ack");
	g_assert_true(first->auto_send);
	g_assert_nonnull(first->description);
	g_assert_cmpstr(((const catalogue_file_t *)g_ptr_array_index(files, 1))->name, ==,
	                "en/ack.tmpl");
	g_assert_null(last->kind);
	g_assert_true(g_str_has_prefix(last->name, "ja/partials/") ||
	              g_str_has_prefix(last->name, "en/partials/"));
	for (guint i = 0; i < files->len; i++) {
		const catalogue_file_t *f = g_ptr_array_index(files, i);
		g_assert_true(i < 2 * kinds ? f->kind != NULL : f->kind == NULL);
	}
}

/* ---- broken catalogues ------------------------------------------------------------ */

typedef enum { EDIT, NUL_BYTE, LONG_LINE } breakage_t;

typedef struct {
	const char *file; /* relative to the copy */
	const char *old;  /* replaced by new; NULL: the whole file is new */
	const char *new;
	const char *problem; /* part of the problem line expected */
	breakage_t how;
} broken_t;

static const broken_t broken[] = {
    /* syntax, with the file's own line and column */
    {"ja/ack.tmpl", "{{>greeting}}", "{{#open}}", "/ja/ack.tmpl:5:1: unclosed section \"open\"",
     EDIT},
    {"en/ack.tmpl", NULL, "Subject: x [{{reference]\n\nbody\n", "/en/ack.tmpl:1:13: unclosed tag",
     EDIT},
    {"ja/ack.tmpl", NULL, "Subject: x\n\nline\n{{/close}}\n",
     "/ja/ack.tmpl:4:1: closing tag \"close\" without an opening tag", EDIT},
    {"ja/partials/greeting.tmpl", "でございます。", "{{でございます。",
     "/ja/partials/greeting.tmpl:3:", EDIT},
    /* the header block */
    {"ja/ack.tmpl", NULL, "no header\n\nbody\n", "/ja/ack.tmpl:1:1: expected \"Key: value\"", EDIT},
    {"ja/ack.tmpl", NULL, "Subject: x\nBcc: evil@example.org\n\nbody\n",
     "/ja/ack.tmpl:2:1: unknown header \"Bcc\"", EDIT},
    {"ja/ack.tmpl", NULL, "Subject: x\nAuto-Send: sometimes\n\nbody\n",
     "ja/ack.tmpl:2:1: Auto-Send: expected allowed or never", EDIT},
    {"ja/ack.tmpl", NULL, "Description: y\n\nbody\n", "/ja/ack.tmpl:1:1: missing Subject:", EDIT},
    {"ja/ack.tmpl", NULL, "Subject: x\n continued\n\nbody\n",
     "/ja/ack.tmpl:2:1: a header must be one line", EDIT},
    {"ja/ack.tmpl", NULL, "Subject: x\nbody without a blank line", "no blank line between", EDIT},
    /* bytes */
    {"ja/ack.tmpl", NULL, "Subject: x\n\nあ\xff\xfe\n", "/ja/ack.tmpl:3:2: not valid UTF-8", EDIT},
    {"ja/id_missing.tmpl", NULL, NULL, "/ja/id_missing.tmpl:3:4: NUL byte", NUL_BYTE},
    /* variables */
    {"ja/ack.tmpl", "{{reference}}]", "{{referense}}]",
     "unknown variable \"referense\" for kind \"ack\" (did you mean \"reference\"?)", EDIT},
    {"en/digest.tmpl", "{{today}}", "{{fee_yen}}",
     "\"fee_yen\" is not available for kind \"digest\"", EDIT},
    {"en/digest.tmpl", "{{today}}", "{{reference}}",
     "\"reference\" is a field of the items of tickets_overdue", EDIT},
    {"ja/fee_received.tmpl", "{{fee_yen}}", "{{fee_required}}",
     "\"fee_required\" is a flag (true or false)", EDIT},
    {"ja/ack.tmpl", "{{>request_summary}}", "{{request_types}}", "\"request_types\" is a list",
     EDIT},
    {"ja/ack.tmpl", "{{>request_summary}}", "{{label}}",
     "\"label\" is a field of the items of request_types", EDIT},
    {"ja/ack.tmpl", "{{>request_summary}}", "{{request_types.label}}",
     "request_types is a list; write {{#request_types}}", EDIT},
    {"ja/ack.tmpl", "{{>request_summary}}", "{{.}}", "{{.}} here would print all the data", EDIT},
    {"ja/no_data.tmpl", "{{#details}}\n{{details}}", "{{details}}\n{{#details}}",
     "{{details}} may be unset for kind \"no_data\" and would print as nothing", EDIT},
    {"ja/refusal.tmpl", "{{reason}}", "（理由は省略）",
     "kind \"refusal\" requires {{reason}} but the template never uses it", EDIT},
    /* a problem in a partial: once, naming the kinds that include it */
    {"en/partials/contact.tmpl", "{{org_address}}\n{{/", "{{org_adress}}\n{{/",
     "/en/partials/contact.tmpl:4:1: unknown variable \"org_adress\" (did you mean "
     "\"org_address\"?) (kinds ack, id_missing, id_unacceptable, id_masking and 11 more; "
     "included from en/ack.tmpl:",
     EDIT},
    /* partials */
    {"ja/no_data.tmpl", "{{>greeting}}", "{{>greting}}",
     "unknown partial \"greting\" (there is no ja/partials/greting.tmpl)", EDIT},
    {"ja/partials/contact.tmpl", "{{org_name}}", "{{org_name}}{{>signature}}",
     "partial \"signature\" includes itself", EDIT},
    /* a subject must render as one line */
    {"ja/no_data.tmpl", "Subject: 【ご回答】", "Subject: {{>contact}}【ご回答】",
     "/ja/no_data.tmpl:1:10: the subject must render as one line", EDIT},
    /* kinds and languages */
    {"en/alerts.tmpl", NULL, "Subject: x\n\nx\n",
     "unknown kind \"alerts\" (did you mean \"alert\"?)", EDIT},
    {"fr/ack.tmpl", NULL, "Subject: x\n\nx\n", "/fr:1:1: unknown language folder", EDIT},
    /* a line longer than a mail may carry */
    {"en/no_data.tmpl", NULL, NULL,
     "/en/no_data.tmpl:3:999: line is 1000 bytes long; a mail line may have at most 998",
     LONG_LINE},
};

static void
test_broken(void)
{
	for (gsize i = 0; i < G_N_ELEMENTS(broken); i++) {
		g_autofree char *dir = copy_shipped();
		g_autoptr(GPtrArray) problems = NULL;
		g_autoptr(GError) error = NULL;
		g_autoptr(catalogue_t) catalogue = NULL;
		const char *expected = broken[i].problem;

		g_test_message("row %zu: %s", i, broken[i].file);
		if (broken[i].how == NUL_BYTE) {
			static const char text[] = "Subject: x\n\nNUL\0byte\n";
			write_file(dir, broken[i].file, text, sizeof text - 1);
		} else if (broken[i].how == LONG_LINE) {
			/* 1000 bytes on one line (998 are fine: see the shipped ones). */
			g_autofree char *line = g_strnfill(1000, 'x');
			g_autofree char *text = g_strdup_printf("Subject: x\n\n%s\n", line);
			write_file(dir, broken[i].file, text, -1);
		} else if (broken[i].old == NULL) {
			write_file(dir, broken[i].file, broken[i].new, -1);
		} else {
			edit_file(dir, broken[i].file, broken[i].old, broken[i].new);
		}
		problems = problems_of(dir);
		if (!has_problem(problems, expected))
			g_error("row %zu: no problem says \"%s\"", i, expected);
		/* Each problem once, never the same line twice. */
		for (guint a = 0; a < problems->len; a++)
			for (guint b = a + 1; b < problems->len; b++)
				g_assert_cmpstr(g_ptr_array_index(problems, a), !=,
				                g_ptr_array_index(problems, b));
		/* What the daemon runs with refuses it, naming the first problem. */
		catalogue = catalogue_load(dir, &error);
		g_assert_null(catalogue);
		g_assert_error(error, TMPL_ERROR, PI_ERROR_MESSAGE);
		g_assert_true(g_str_has_prefix(error->message, g_ptr_array_index(problems, 0)));
		g_assert_null(strchr(error->message, '\n'));
		testserver_tmpdir_remove(dir);
	}
}

/* A file that is there but unreadable as text is not also "missing"; a
 * missing one is. */
static void
test_missing_files(void)
{
	g_autofree char *dir = copy_shipped();
	g_autofree char *path = g_build_filename(dir, "en", "refusal.tmpl", NULL);
	g_autoptr(GPtrArray) problems = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(catalogue_t) none = NULL;

	write_file(dir, "ja/ack.tmpl", "Subject: \xff\n\nx\n", -1);
	g_assert_cmpint(g_unlink(path), ==, 0);
	problems = problems_of(dir);
	g_assert_cmpuint(problems->len, ==, 2);
	g_assert_true(has_problem(problems,
	                          "/en/refusal.tmpl:1:1: missing: kind \"refusal\" needs a "
	                          "template in en as well"));
	g_assert_true(has_problem(problems, "/ja/ack.tmpl:1:10: not valid UTF-8"));
	testserver_tmpdir_remove(dir);

	none = catalogue_read("/nonexistent/templates", &error);
	g_assert_null(none);
	g_assert_error(error, TMPL_ERROR, PI_ERROR_FATAL);
}

/* Files the catalogue ignores: editor leftovers and other suffixes. */
static void
test_ignored_files(void)
{
	g_autofree char *dir = copy_shipped();
	g_autofree char *fingerprint = catalogue_scan_fingerprint(dir, NULL);
	g_autofree char *after = NULL;
	g_autoptr(GPtrArray) problems = NULL;

	write_file(dir, "ja/.ack.tmpl.swp", "\xff garbage", -1);
	write_file(dir, "ja/.#ack.tmpl", "garbage {{", -1);
	write_file(dir, "ja/ack.tmpl~", "garbage {{", -1);
	write_file(dir, "ja/README", "notes", -1);
	write_file(dir, ".git/config", "x", -1);
	problems = problems_of(dir);
	g_assert_cmpuint(problems->len, ==, 0);
	after = catalogue_scan_fingerprint(dir, NULL);
	g_assert_cmpstr(after, ==, fingerprint);
	testserver_tmpdir_remove(dir);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/catalogue/shipped/clean", test_shipped_is_clean);
	g_test_add_func("/catalogue/shipped/every-kind-renders", test_every_kind_renders);
	g_test_add_func("/catalogue/shipped/dates", test_dates_in_each_language);
	g_test_add_func("/catalogue/shipped/fee-only-when-charged", test_fee_only_when_charged);
	g_test_add_func("/catalogue/shipped/greeting-without-name", test_greeting_without_name);
	g_test_add_func("/catalogue/kinds-table", test_kinds_table);
	g_test_add_func("/catalogue/safety/header-injection", test_header_injection);
	g_test_add_func("/catalogue/safety/unfilled", test_unfilled_is_not_sendable);
	g_test_add_func("/catalogue/safety/optional", test_optional_left_out);
	g_test_add_func("/catalogue/safety/unknown-kind", test_unknown_kind);
	g_test_add_func("/catalogue/versions", test_versions);
	g_test_add_func("/catalogue/files", test_files);
	g_test_add_func("/catalogue/check/broken", test_broken);
	g_test_add_func("/catalogue/check/missing", test_missing_files);
	g_test_add_func("/catalogue/check/ignored", test_ignored_files);
	return g_test_run();
}
