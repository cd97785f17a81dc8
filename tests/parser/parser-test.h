/* parser-test.h — helpers the parser's test programs share (header-only:
 * each test_*.c is its own program). */
#pragma once

#include "parser/parser-internal.h"
#include "common/request_type.h"

#include <string.h>

#define FIXTURES PI_SRCDIR "/tests/fixtures"

/* The limits config.c gives by default. */
static inline parser_config_t
test_default_config(void)
{
	parser_config_t c = {NULL, 200u << 20, 500, 20, 100u << 20, 16384};
	return c;
}

static inline char *
test_read_rules(gsize *len_out)
{
	g_autoptr(GError) error = NULL;
	char *text = NULL;

	if (!g_file_get_contents(PI_SRCDIR "/parser/request-rules.ini", &text, len_out, &error))
		g_error("cannot read the shipped rules: %s", error->message);
	return text;
}

/* A parser with the shipped rules; CONFIG must outlive it. */
static inline parser_t *
test_parser_new(const parser_config_t *config)
{
	g_autoptr(GError) error = NULL;
	gsize len = 0;
	g_autofree char *rules = test_read_rules(&len);
	parser_t *parser = parser_new(config, rules, len, &error);

	g_assert_no_error(error);
	g_assert_nonnull(parser);
	return parser;
}

static inline GBytes *
test_read_fixture(const char *relative)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *path = g_build_filename(FIXTURES, relative, NULL);
	char *data = NULL;
	gsize len = 0;

	if (!g_file_get_contents(path, &data, &len, &error))
		g_error("fixture %s: %s", relative, error->message);
	return g_bytes_new_take(data, len);
}

static inline void
test_assert_utf8(const char *what, const char *s)
{
	if (s != NULL && !g_utf8_validate(s, -1, NULL))
		g_error("%s is not valid UTF-8", what);
}

/* Every string in R is valid UTF-8, and what must be there is. */
static inline void
test_assert_request_sane(const parser_request_t *r)
{
	g_assert_nonnull(r);
	test_assert_utf8("message_id", r->message_id);
	test_assert_utf8("from_name", r->from_name);
	test_assert_utf8("from_address", r->from_address);
	g_assert_nonnull(r->subject);
	test_assert_utf8("subject", r->subject);
	g_assert_nonnull(r->language);
	g_assert_true(strcmp(r->language, "ja") == 0 || strcmp(r->language, "en") == 0);
	g_assert_nonnull(r->request_types);
	for (guint i = 0; i < r->request_types->len; i++)
		g_assert_true(request_type_is_valid(r->request_types->pdata[i]));
	g_assert_true(r->is_auto == (r->auto_reason != NULL));
	test_assert_utf8("auto_reason", r->auto_reason);
	test_assert_utf8("in_reply_to", r->in_reply_to);
	for (guint i = 0; i < r->references->len; i++)
		test_assert_utf8("reference", r->references->pdata[i]);
	test_assert_utf8("ticket_ref", r->ticket_ref);
	g_assert_nonnull(r->text);
	test_assert_utf8("text", r->text);
	test_assert_utf8("problem", r->problem);
	if (r->problem != NULL)
		g_assert_null(strchr(r->problem, '\n'));
	{
		guint ids = 0;
		for (guint i = 0; i < r->attachments->len; i++) {
			const parser_attachment_t *a = r->attachments->pdata[i];
			test_assert_utf8("filename", a->filename);
			test_assert_utf8("declared_type", a->declared_type);
			g_assert_nonnull(a->content_type);
			test_assert_utf8("content_type", a->content_type);
			g_assert_nonnull(a->sha256);
			g_assert_cmpuint(strlen(a->sha256), ==, 64);
			test_assert_utf8("reason", a->reason);
			test_assert_utf8("content_id", a->content_id);
			if (a->kind == ATTACHMENT_ID_DOCUMENT)
				ids++;
			if (a->kind == ATTACHMENT_REJECTED)
				g_assert_nonnull(a->reason);
		}
		g_assert_cmpuint(ids, ==, r->id_document_count);
	}
}
