/* collector.h — a fetcher_sink_t for the fetcher's tests that keeps every
 * message it receives (header-only: each test program includes it once). */
#pragma once

#include <gio/gio.h>

#include "fetcher/fetcher.h"

typedef struct {
	guint32 uid;
	gsize size;
	gint64 internal_date; /* Unix time */
	GBytes *data;
	guint chunks;
} received_t;

static inline void
received_free(gpointer p)
{
	received_t *r = p;

	g_bytes_unref(r->data);
	g_free(r);
}

/* A sink that keeps what it receives. */
typedef struct {
	GByteArray *current;
	guint chunks;
	GPtrArray *messages; /* received_t, in the order done() came */
	guint fail_after;    /* done() fails for the message after this many (0: never) */
} collector_t;

static inline void
collector_init(collector_t *c)
{
	c->current = g_byte_array_new();
	c->chunks = 0;
	c->messages = g_ptr_array_new_with_free_func(received_free);
	c->fail_after = 0;
}

static inline void
collector_clear(collector_t *c)
{
	g_byte_array_unref(c->current);
	g_ptr_array_unref(c->messages);
}

static inline gboolean
on_chunk(const char *data, gsize len, gpointer user_data, GError **error)
{
	collector_t *c = user_data;

	(void)error;
	g_assert_cmpuint(len, >, 0);
	g_assert_cmpuint(len, <=, 65536); /* streamed, not gathered */
	g_byte_array_append(c->current, (const guint8 *)data, len);
	c->chunks++;
	return TRUE;
}

static inline gboolean
on_done(const fetcher_message_t *message, gpointer user_data, GError **error)
{
	collector_t *c = user_data;
	received_t *r;

	if (c->fail_after > 0 && c->messages->len == c->fail_after) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NO_SPACE, "spool full");
		return FALSE;
	}
	r = g_new0(received_t, 1);
	r->uid = message->uid;
	r->size = message->size;
	g_assert_nonnull(message->internal_date);
	r->internal_date = g_date_time_to_unix(message->internal_date);
	r->data = g_byte_array_free_to_bytes(c->current);
	r->chunks = c->chunks;
	c->current = g_byte_array_new();
	c->chunks = 0;
	g_ptr_array_add(c->messages, r);
	return TRUE;
}

static inline const received_t *
received_find(const collector_t *c, guint32 uid)
{
	for (guint i = 0; i < c->messages->len; i++) {
		const received_t *r = g_ptr_array_index(c->messages, i);
		if (r->uid == uid)
			return r;
	}
	g_assert_not_reached();
}
