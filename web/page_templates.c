/* page_templates.c — the reply templates, for admins: the catalogue with
 * its problems (GET /templates), and one template or partial to edit
 * (GET /templates/LANG/KIND, /templates/LANG/partials/NAME) with a live
 * preview against a chosen ticket (POST …/preview) and saving (POST
 * …/save).
 *
 * An edit is checked as `templates check` would check the catalogue with
 * it: a copy of the catalogue with the edited file in a private temporary
 * folder is read by catalogue_read(), so every problem (syntax, unknown
 * variables, partials, required variables…) is found exactly as the daemon
 * would find it.  Saving a file with problems is refused; a good save
 * replaces the file atomically, is recorded (who, when, the text) and
 * audited, and is a new version: the daemon reloads the catalogue before
 * its next pass and new drafts are made from it. */
#include "web/web-internal.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#define TEMPLATE_MAX_BYTES (256 * 1024)

typedef struct {
	char *lang, *name; /* "ja", "ack" */
	gboolean partial;
	char *rel;         /* "ja/ack.tmpl", "ja/partials/greeting.tmpl" */
	char *path;        /* in the configured catalogue folder */
	const catalogue_kind_t *kind; /* NULL for a partial */
} target_t;

static void
target_clear(target_t *t)
{
	g_free(t->lang);
	g_free(t->name);
	g_free(t->rel);
	g_free(t->path);
}

static gboolean
valid_name(const char *name)
{
	gsize n = strlen(name);

	if (n == 0 || n > 64)
		return FALSE;
	for (gsize i = 0; i < n; i++) {
		if (!(g_ascii_islower(name[i]) || g_ascii_isdigit(name[i]) || name[i] == '_'))
			return FALSE;
	}
	return TRUE;
}

/* ---- the checked copy ------------------------------------------------------- */

static void
remove_tree(const char *path)
{
	GDir *dir = g_dir_open(path, 0, NULL);
	const char *entry;

	if (dir != NULL) {
		while ((entry = g_dir_read_name(dir)) != NULL) {
			g_autofree char *child = g_build_filename(path, entry, NULL);
			if (g_file_test(child, G_FILE_TEST_IS_DIR) && !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
				remove_tree(child);
			else
				g_unlink(child);
		}
		g_dir_close(dir);
	}
	g_rmdir(path);
}

typedef struct {
	char *dir;              /* the temporary copy */
	catalogue_t *catalogue; /* read from it */
} checked_t;

static void
checked_clear(checked_t *c)
{
	catalogue_free(c->catalogue);
	if (c->dir != NULL)
		remove_tree(c->dir);
	g_free(c->dir);
}

/* The catalogue as it would be with REL holding TEXT. */
static gboolean
check_edit(web_request_t *r, const char *rel, const char *text, checked_t *out, GError **error)
{
	g_autoptr(catalogue_t) current = catalogue_read(r->config->templates.dir, error);
	g_autoptr(GPtrArray) files = NULL;
	g_autofree char *target = NULL, *target_dir = NULL;

	if (current == NULL)
		return FALSE;
	if ((out->dir = g_dir_make_tmp("privacy-inbox-templates-XXXXXX", error)) == NULL)
		return FALSE;
	files = catalogue_files(current);
	for (guint i = 0; i < files->len; i++) {
		const catalogue_file_t *f = g_ptr_array_index(files, i);
		g_autofree char *dest = g_build_filename(out->dir, f->name, NULL);
		g_autofree char *dest_dir = g_path_get_dirname(dest);
		g_autofree char *contents = NULL;
		gsize len;

		if (g_mkdir_with_parents(dest_dir, 0700) != 0 ||
		    !g_file_get_contents(f->path, &contents, &len, error) ||
		    !g_file_set_contents_full(dest, contents, (gssize)len, G_FILE_SET_CONTENTS_NONE, 0600,
		                              error))
			return FALSE;
	}
	target = g_build_filename(out->dir, rel, NULL);
	target_dir = g_path_get_dirname(target);
	if (g_mkdir_with_parents(target_dir, 0700) != 0 ||
	    !g_file_set_contents_full(target, text, -1, G_FILE_SET_CONTENTS_NONE, 0600, error))
		return FALSE;
	out->catalogue = catalogue_read(out->dir, error);
	return out->catalogue != NULL;
}

/* The problems of C, with the temporary folder taken off the file names. */
static void
problems_list(web_request_t *r, GString *out, const checked_t *c, const char *rel)
{
	const GPtrArray *problems = catalogue_problems(c->catalogue);
	gsize prefix = strlen(c->dir) + 1;

	if (problems->len == 0) {
		web_html_to(out, "<p class=\"notice ok\">%s</p>",
		            L(r, "問題はありません（templates check と同じ検査）。",
		              "No problems (the same checks as templates check)."));
		return;
	}
	web_html_to(out, "<p class=\"notice error\" role=\"alert\">%s</p><ul class=\"problems\">",
	            L(r, "問題があります。このままでは保存できません:",
	              "Problems: this cannot be saved as it is:"));
	for (guint i = 0; i < problems->len; i++) {
		const catalogue_problem_t *p = g_ptr_array_index(problems, i);
		const char *file = strlen(p->file) > prefix && strncmp(p->file, c->dir, prefix - 1) == 0
		                       ? p->file + prefix
		                       : p->file;
		web_html_to(out, "<li%S>%s:%u:%u: %s</li>",
		            g_strcmp0(file, rel) == 0 ? " class=\"this\"" : "", file, p->line, p->column,
		            p->message);
	}
	web_html_to(out, "</ul>");
}

/* The preview of KIND in LANG from C, with ticket REF's data or the
 * kind's samples. */
static void
preview(web_request_t *r, GString *out, catalogue_t *c, const catalogue_kind_t *kind,
        const char *lang, const char *ref)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) context = NULL;
	g_autoptr(catalogue_rendering_t) rendering = NULL;
	g_autoptr(store_ticket_t) ticket = NULL;

	if (ref != NULL && *ref != '\0') {
		if (kind->audience != CATALOGUE_TO_REQUESTER) {
			web_html_to(out, "<p class=\"notice warn\">%s</p>",
			            L(r, "この種類は請求への返信ではないため、見本のデータで表示します。",
			              "This kind is not a reply about a ticket: shown with sample data."));
		} else if ((ticket = store_ticket_get(r->env->store, ref, &error)) == NULL) {
			web_html_to(out, "<p class=\"notice warn\">%s</p>", error->message);
			g_clear_error(&error);
		}
	}
	if (ticket != NULL && kind->audience == CATALOGUE_TO_REQUESTER) {
		g_free(ticket->language);
		ticket->language = g_strdup(lang);
		context = router_reply_context(r->config, ticket, NULL, NULL);
		json_object_set_int_member(json_node_get_object(context), "id_document_count",
		                           MAX(store_ticket_id_documents(r->env->store, ticket->id), 0));
	} else {
		context = catalogue_sample_context(kind, lang);
		router_context_set_config(r->config, lang, context);
	}
	rendering = catalogue_preview(c, kind->kind, lang, context, &error);
	if (rendering == NULL) {
		web_html_to(out, "<p class=\"notice error\">%s</p>", error->message);
		return;
	}
	web_html_to(out, "<p class=\"muted\">%s %s · %s · %s <code>%s</code></p>",
	            L(r, "プレビュー:", "Preview:"), kind->kind, lang,
	            ticket ? ticket->ref : L(r, "見本のデータ", "sample data"),
	            L(r, "版", "version"), rendering->hash);
	if (rendering->problem != NULL)
		web_html_to(out, "<p class=\"notice warn\">%s %s</p>",
		            L(r, "この内容では送信できません:", "Would not be sendable:"), rendering->problem);
	web_html_to(out, "<div class=\"card\"><div><strong>%s</strong></div><pre class=\"mail\">%s</pre></div>",
	            rendering->subject, rendering->body);
}

/* ---- pages ------------------------------------------------------------------ */

void
web_page_templates(web_request_t *r)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(catalogue_t) c = catalogue_read(r->config->templates.dir, &error);
	g_autoptr(GPtrArray) files = NULL;
	const GPtrArray *problems;

	if (c == NULL) {
		web_error_page(r, MHD_HTTP_SERVICE_UNAVAILABLE, error->message);
		return;
	}
	files = catalogue_files(c);
	problems = catalogue_problems(c);
	web_page_begin(r, L(r, "返信テンプレート", "Reply templates"));
	web_html(r, "<p class=\"muted\">%s <code>%s</code></p>", L(r, "フォルダ", "Folder"),
	         catalogue_dir(c));
	if (problems->len > 0) {
		web_html(r, "<p class=\"notice error\">%s</p><ul class=\"problems\">",
		         L(r, "カタログに問題があります（デーモンは直前の正常な版を使い続けます）:",
		           "The catalogue has problems (the daemon keeps the last good version):"));
		for (guint i = 0; i < problems->len; i++) {
			g_autofree char *line = catalogue_problem_format(g_ptr_array_index(problems, i));
			web_html(r, "<li>%s</li>", line);
		}
		web_html(r, "</ul>");
	}
	web_html(r, "<table><thead><tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>",
	         L(r, "ファイル", "File"), L(r, "種類", "Kind"), L(r, "説明", "Description"),
	         L(r, "版", "Version"), L(r, "更新", "Changed"));
	for (guint i = 0; i < files->len; i++) {
		const catalogue_file_t *f = g_ptr_array_index(files, i);
		g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(f->modified);
		g_autofree char *iso = t ? pi_iso8601(t) : NULL;
		g_autofree char *when = web_local_time(r, iso);
		g_autofree char *href = NULL;
		g_autofree char *stem = g_path_get_basename(f->name);

		if (g_str_has_suffix(stem, ".tmpl"))
			stem[strlen(stem) - 5] = '\0';
		href = f->kind ? g_strdup_printf("/templates/%s/%s", f->language, stem)
		               : g_strdup_printf("/templates/%s/partials/%s", f->language, stem);
		g_autofree char *version = g_strndup(f->version ? f->version : "", 12);
		web_html(r, "<tr><td><a href=\"%s\">%s</a>%S</td><td>%s</td><td>%s</td><td><code>%s</code></td><td>%s</td></tr>",
		         href, f->name, f->problems ? " <span class=\"flag\">⚠</span>" : "",
		         f->kind ? f->kind : L(r, "部品", "partial"), f->description, version, when);
	}
	web_html(r, "</tbody></table>");
}

static gboolean
resolve(web_request_t *r, const char *lang, gboolean partial, const char *name, target_t *t)
{
	if (!g_strv_contains(catalogue_languages(), lang) || !valid_name(name) ||
	    (!partial && catalogue_kind_find(name) == NULL))
		return FALSE;
	t->lang = g_strdup(lang);
	t->name = g_strdup(name);
	t->partial = partial;
	t->kind = partial ? NULL : catalogue_kind_find(name);
	t->rel = partial ? g_strdup_printf("%s/partials/%s.tmpl", lang, name)
	                 : g_strdup_printf("%s/%s.tmpl", lang, name);
	t->path = g_build_filename(r->config->templates.dir, t->rel, NULL);
	return partial ? g_file_test(t->path, G_FILE_TEST_IS_REGULAR) : TRUE;
}

static const catalogue_kind_t *
preview_kind(web_request_t *r, const target_t *t, const char *asked)
{
	const catalogue_kind_t *k = asked ? catalogue_kind_find(asked) : NULL;

	(void)r;
	if (t->kind != NULL)
		return t->kind;
	return k ? k : catalogue_kind_find("ack");
}

static void
edit_page(web_request_t *r, const target_t *t, const char *text, const char *base, const char *ref,
          const char *kind_asked, const char *problem, const char *done)
{
	g_autoptr(GError) error = NULL;
	checked_t checked = {0};
	g_autoptr(GString) side = g_string_new(NULL);
	g_autofree char *title = g_strdup_printf("%s %s", L(r, "テンプレート", "Template"), t->rel);
	g_autofree char *action = t->partial ? g_strdup_printf("/templates/%s/partials/%s", t->lang, t->name)
	                                     : g_strdup_printf("/templates/%s/%s", t->lang, t->name);
	const catalogue_kind_t *kind = preview_kind(r, t, kind_asked);
	g_autoptr(GPtrArray) saves = store_template_saves(r->env->store, t->rel, 20, FALSE, NULL);

	if (check_edit(r, t->rel, text, &checked, &error)) {
		problems_list(r, side, &checked, t->rel);
		preview(r, side, checked.catalogue, kind, t->lang, ref);
	} else
		web_html_to(side, "<p class=\"notice error\">%s</p>", error->message);
	checked_clear(&checked);

	web_page_begin(r, title);
	if (problem != NULL)
		web_notice(r, "error", problem);
	if (done != NULL)
		web_notice(r, "ok", done);
	if (t->kind != NULL)
		web_html(r, "<p class=\"muted\">%s — %s</p>", t->kind->kind, t->kind->description);
	web_html(r, "<div class=\"grid\"><div><form method=\"post\" action=\"%s/save\" id=\"template-form\" "
	            "data-preview=\"%s/preview\">",
	         action, action);
	web_csrf_field(r);
	web_html(r, "<input type=\"hidden\" name=\"base\" value=\"%s\">"
	            "<label>%s<textarea name=\"text\" class=\"template\" spellcheck=\"false\">%s</textarea></label>"
	            "<div class=\"filters\"><label>%s <input name=\"ticket\" value=\"%s\" placeholder=\"PRV-2026-000001\"></label>",
	         base, L(r, "ファイルの内容（ヘッダ、空行、本文）", "File (headers, a blank line, the body)"),
	         text, L(r, "プレビューに使う請求", "Preview with ticket"), ref ? ref : "");
	if (t->partial) {
		web_html(r, "<label>%s <select name=\"kind\">", L(r, "プレビューする返信", "Preview as"));
		for (const catalogue_kind_t *k = catalogue_kinds(); k->kind; k++)
			web_html(r, "<option value=\"%s\"%S>%s</option>", k->kind, k == kind ? " selected" : "",
			         k->kind);
		web_html(r, "</select></label>");
	}
	web_html(r, "<button type=\"submit\" class=\"secondary\" formaction=\"%s/preview\">%s</button>"
	            "<button type=\"submit\">%s</button></div></form>",
	         action, L(r, "プレビュー・検査", "Preview and check"), L(r, "保存（新しい版）", "Save (a new version)"));
	web_html(r, "</div><div><h2>%s</h2><div id=\"preview\">%S</div></div></div>",
	         L(r, "検査とプレビュー", "Check and preview"), side->str);

	web_html(r, "<h2>%s</h2>", L(r, "コンソールでの保存履歴", "Saved through the console"));
	if (saves == NULL || saves->len == 0)
		web_html(r, "<p class=\"muted\">%s</p>", L(r, "まだありません。", "None yet."));
	else {
		web_html(r, "<table><tbody>");
		for (guint i = 0; i < saves->len; i++) {
			store_template_save_t *s = g_ptr_array_index(saves, i);
			g_autofree char *when = web_local_time(r, s->saved_at);
			g_autofree char *sha = g_strndup(s->sha256, 12);
			web_html(r, "<tr><td>%s</td><td>%s</td><td><code>%s</code></td>"
			            "<td><a href=\"%s?from=%L\">%s</a></td></tr>",
			         when, s->saved_by, sha, action, s->id, L(r, "この内容を読み込む", "load this text"));
		}
		web_html(r, "</tbody></table>");
	}
	if (t->kind != NULL) {
		g_autoptr(GPtrArray) versions = store_template_versions(r->env->store, t->kind->kind, t->lang, NULL);
		web_html(r, "<h2>%s</h2>", L(r, "返信に使われた版", "Versions replies were drafted from"));
		if (versions == NULL || versions->len == 0)
			web_html(r, "<p class=\"muted\">%s</p>", L(r, "まだありません。", "None yet."));
		else {
			web_html(r, "<table><thead><tr><th>%s</th><th>%s</th><th>%s</th><th class=\"num\">%s</th></tr></thead><tbody>",
			         L(r, "版", "Version"), L(r, "最初", "First used"), L(r, "最後", "Last used"),
			         L(r, "件数", "Drafts"));
			for (guint i = 0; i < versions->len; i++) {
				store_template_version_t *v = g_ptr_array_index(versions, i);
				g_autofree char *first = web_local_time(r, v->first_used_at);
				g_autofree char *last = web_local_time(r, v->last_used_at);
				web_html(r, "<tr><td><code>%s</code></td><td>%s</td><td>%s</td><td class=\"num\">%u</td></tr>",
				         v->hash, first, last, v->uses);
			}
			web_html(r, "</tbody></table>");
		}
	}
}

static char *
sha256_of(const char *text)
{
	return g_compute_checksum_for_string(G_CHECKSUM_SHA256, text ? text : "", -1);
}

static gboolean
save(web_request_t *r, const target_t *t, const char *text, GError **error)
{
	store_t *store = r->env->store;
	g_autofree char *sha = sha256_of(text);
	g_autofree char *detail = NULL;
	struct stat st;
	int mode = 0644;

	if (g_stat(t->path, &st) == 0)
		mode = (int)(st.st_mode & 0777);
	detail = g_strdup_printf("%s saved (sha256 %s, %zu bytes)", t->rel, sha, strlen(text));
	if (!store_begin(store, error))
		return FALSE;
	if (!store_template_save_add(store, t->rel, sha, text, web_user(r), error) ||
	    !store_audit(store, web_user(r), "template saved", NULL, detail, error) ||
	    !pi_write_file_atomic(t->path, text, strlen(text), mode, error)) {
		store_rollback(store);
		return FALSE;
	}
	return store_commit(store, error);
}

void
web_page_template(web_request_t *r, const char *lang, gboolean partial, const char *name,
                  const char *action)
{
	target_t t = {0};
	g_autoptr(GError) error = NULL;
	g_autofree char *current = NULL, *current_sha = NULL, *text = NULL;
	const char *ref = NULL, *kind = NULL;

	if (!resolve(r, lang, partial, name, &t)) {
		web_error_page(r, MHD_HTTP_NOT_FOUND, L(r, "そのテンプレートはありません。", "No such template."));
		target_clear(&t);
		return;
	}
	if (!g_file_get_contents(t.path, &current, NULL, &error)) {
		if (!g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
			web_error_page(r, MHD_HTTP_SERVICE_UNAVAILABLE, error->message);
			target_clear(&t);
			return;
		}
		current = g_strdup("");
		g_clear_error(&error);
	}
	current_sha = sha256_of(current);

	if (action == NULL) {
		const char *from = web_query(r, "from");
		guint64 id;
		if (!(strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0)) {
			web_error_page(r, MHD_HTTP_METHOD_NOT_ALLOWED, L(r, "GET のみ", "GET only"));
		} else if (from != NULL && g_ascii_string_to_unsigned(from, 10, 1, G_MAXINT64, &id, NULL)) {
			g_autoptr(store_template_save_t) s = store_template_save_get(r->env->store, (gint64)id, &error);
			if (s == NULL || strcmp(s->name, t.rel) != 0)
				web_error_page(r, MHD_HTTP_NOT_FOUND, L(r, "その版はありません。", "No such version."));
			else
				edit_page(r, &t, s->text, current_sha, NULL, NULL, NULL,
				          L(r, "過去の内容を読み込みました（まだ保存していません）。",
				            "An earlier text is loaded (not saved yet)."));
		} else
			edit_page(r, &t, current, current_sha, web_query(r, "ticket"), web_query(r, "kind"),
			          NULL,
			          web_query(r, "saved") ? L(r, "保存しました。新しい返信からこの版が使われます。",
			                                   "Saved: new replies are drafted from this version.")
			                                : NULL);
		target_clear(&t);
		return;
	}
	if ((strcmp(action, "preview") != 0 && strcmp(action, "save") != 0)) {
		web_error_page(r, MHD_HTTP_NOT_FOUND, L(r, "ありません。", "No such page."));
		target_clear(&t);
		return;
	}
	if (!web_check_post(r)) {
		target_clear(&t);
		return;
	}
	ref = web_field(r, "ticket");
	kind = web_field(r, "kind");
	text = web_field(r, "text") ? g_strdup(web_field(r, "text")) : NULL;
	if (text != NULL) {
		/* Browsers send CRLF; template files use LF. */
		g_auto(GStrv) lines = g_strsplit(text, "\r\n", -1);
		g_free(text);
		text = g_strjoinv("\n", lines);
	}
	if (text == NULL || strlen(text) > TEMPLATE_MAX_BYTES) {
		web_error_page(r, MHD_HTTP_BAD_REQUEST,
		               L(r, "テンプレートが空か大きすぎます。", "The template is missing or too large."));
		target_clear(&t);
		return;
	}

	if (strcmp(action, "preview") == 0) {
		if (web_field(r, "fragment") != NULL) {
			checked_t checked = {0};
			g_string_truncate(r->body, 0);
			if (check_edit(r, t.rel, text, &checked, &error)) {
				problems_list(r, r->body, &checked, t.rel);
				preview(r, r->body, checked.catalogue, preview_kind(r, &t, kind), t.lang, ref);
			} else
				web_html(r, "<p class=\"notice error\">%s</p>", error->message);
			checked_clear(&checked);
			r->content_type = "text/html; charset=utf-8";
		} else
			edit_page(r, &t, text, web_field(r, "base") ? web_field(r, "base") : current_sha, ref,
			          kind, NULL, NULL);
		target_clear(&t);
		return;
	}

	/* Save: refused when another save came in between, or when the
	 * catalogue with this text has any problem. */
	{
		checked_t checked = {0};
		gboolean good = FALSE;

		if (g_strcmp0(web_field(r, "base"), current_sha) != 0) {
			edit_page(r, &t, text, current_sha, ref, kind,
			          L(r, "開いてから後に、このファイルは別の人に変更されました。内容を確認して保存し直してください。",
			            "The file was changed by someone else since you opened it: check it and save again."),
			          NULL);
			r->status = MHD_HTTP_CONFLICT;
			target_clear(&t);
			return;
		}
		if (check_edit(r, t.rel, text, &checked, &error))
			good = catalogue_problems(checked.catalogue)->len == 0;
		checked_clear(&checked);
		if (!good) {
			edit_page(r, &t, text, current_sha, ref, kind,
			          error ? error->message
			                : L(r, "問題があるため保存しませんでした。ファイルは変わっていません。",
			                    "Not saved: the template has problems. The file is unchanged."),
			          NULL);
			r->status = MHD_HTTP_UNPROCESSABLE_CONTENT;
			target_clear(&t);
			return;
		}
		if (strcmp(text, current) != 0 && !save(r, &t, text, &error)) {
			web_error_page(r, error->code == PI_ERROR_TEMPORARY ? MHD_HTTP_SERVICE_UNAVAILABLE
			                                                   : MHD_HTTP_INTERNAL_SERVER_ERROR,
			               error->message);
			target_clear(&t);
			return;
		}
		g_message("template %s saved by %s", t.rel, web_user(r));
		{
			g_autofree char *location = t.partial
			                                ? g_strdup_printf("/templates/%s/partials/%s?saved=1", t.lang, t.name)
			                                : g_strdup_printf("/templates/%s/%s?saved=1", t.lang, t.name);
			web_redirect(r, location);
		}
	}
	target_clear(&t);
}
