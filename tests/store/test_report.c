/* test_report.c — the monthly report on a month of made-up cases whose
 * figures are known: requests by type and state (month bounds in Japan
 * time), time to answer from state events or from the first answering reply
 * sent, overdue (ticket due dates, else received + 14 days), fees paid and
 * waived in the month, identity documents destroyed in the month. */
#include "store/store.h"

#include <string.h>

#include "tests/lib/testserver.h"

typedef struct {
	char *dir;
	store_t *store;
} fixture_t;

static void
at(const char *now)
{
	g_setenv("PRIVACY_INBOX_NOW", now, TRUE);
}

static void
setup(fixture_t *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *db = NULL, *spool = NULL;

	(void)data;
	f->dir = testserver_tmpdir();
	db = g_build_filename(f->dir, "state", "pi.db", NULL);
	spool = g_build_filename(f->dir, "spool", NULL);
	f->store = store_open(db, spool, &error);
	g_assert_no_error(error);
}

static void
teardown(fixture_t *f, gconstpointer data)
{
	(void)data;
	store_free(f->store);
	testserver_tmpdir_remove(f->dir);
	g_free(f->dir);
	g_unsetenv("PRIVACY_INBOX_NOW");
}

static gint64
ticket(store_t *store, const char *type, const char *received, const char *due, char **ref_out)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(store_ticket_t) t = g_new0(store_ticket_t, 1);

	at(received);
	t->state = g_strdup("awaiting_verification");
	t->requester_address = g_strdup("someone@example.jp");
	t->request_types = g_strsplit(type, ";", -1);
	t->created_at = g_strdup(received);
	t->due_at = g_strdup(due);
	g_assert_true(store_begin(store, &error));
	g_assert_true(store_ticket_open(store, t, &error));
	g_assert_true(store_commit(store, &error));
	g_assert_no_error(error);
	if (ref_out)
		*ref_out = g_strdup(t->ref);
	return t->id;
}

static void
event(store_t *store, gint64 id, const char *when, const char *kind, const char *detail)
{
	g_autoptr(GError) error = NULL;

	at(when);
	g_assert_true(store_begin(store, &error));
	if (strcmp(kind, "state") == 0) {
		g_auto(GStrv) parts = g_strsplit(detail, ":", 2);
		g_assert_true(store_ticket_set_state(store, id, parts[0], "sato", NULL, &error));
	} else
		g_assert_true(store_ticket_event(store, id, "sato", kind, detail, &error));
	g_assert_true(store_commit(store, &error));
	g_assert_no_error(error);
}

static void
sent_reply(store_t *store, gint64 ticket_id, const char *kind, const char *when)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *mid =
	    g_strdup_printf("%s-%" G_GINT64_FORMAT "@example.co.jp", kind, ticket_id);
	store_draft_new_t d = {0};
	gint64 id;

	at(when);
	d.ticket_id = ticket_id;
	d.kind = kind;
	d.language = "ja";
	d.state = "approved";
	d.approved_by = "sato";
	d.to_address = "someone@example.jp";
	d.subject = "件名";
	d.body = "本文\n";
	id = store_draft_insert(store, &d, &error);
	g_assert_cmpint(id, >, 0);
	g_assert_true(store_outbox_begin(store, id, mid, &error));
	g_assert_true(store_outbox_sent(store, id, NULL, "00", 10, &error));
	g_assert_no_error(error);
}

static void
with_document(store_t *store, gint64 ticket_id)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(spool_file_t) file = store_spool_file_new(store, &error);
	g_autofree char *path = NULL;
	store_message_t m = {0};
	store_attachment_t a = {0};

	g_assert_true(spool_file_write(file, "photo", 5, &error));
	g_assert_true(spool_file_finish(file, &error));
	path = spool_file_keep(file, "documents", &error);
	g_assert_no_error(error);
	m.direction = "in";
	m.sha256 = "11";
	m.size = 100;
	m.ticket_id = ticket_id;
	g_assert_true(store_begin(store, &error));
	a.message_row = store_message_insert(store, &m, &error);
	a.ticket_id = ticket_id;
	a.sha256 = spool_file_sha256(file);
	a.kind = "id_document";
	a.size = 5;
	a.spool_path = path;
	g_assert_cmpint(store_attachment_insert(store, &a, &error), >, 0);
	g_assert_true(store_commit(store, &error));
	g_assert_no_error(error);
}

static JsonObject *
section(JsonObject *report, const char *name)
{
	return json_object_get_object_member(report, name);
}

static void
test_november(fixture_t *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *late_ref = NULL;
	/* November in Japan time (UTC+9). */
	store_report_period_t period = {"2026-11", "2026-10-31T15:00:00Z", "2026-11-30T15:00:00Z",
	                                14, 1000};
	g_autoptr(JsonNode) node = NULL;
	JsonObject *r, *answer, *overdue;
	JsonArray *types;
	gint64 t1, t2, t3, t4, t5, t7, t8;

	(void)data;
	/* T1: answered (state event) after 3 days, then closed. */
	t1 = ticket(f->store, "disclosure", "2026-11-02T00:00:00Z", NULL, NULL);
	with_document(f->store, t1);
	event(f->store, t1, "2026-11-05T00:00:00Z", "state", "answered");
	event(f->store, t1, "2026-11-06T00:00:00Z", "state", "closed");
	/* T2: no lifecycle events; its ack does not answer, the stop_use_done
	 * reply 10 days after arrival does. */
	t2 = ticket(f->store, "stop_use", "2026-11-03T00:00:00Z", NULL, NULL);
	sent_reply(f->store, t2, "ack", "2026-11-03T01:00:00Z");
	sent_reply(f->store, t2, "stop_use_done", "2026-11-13T00:00:00Z");
	/* T3: refused after 2.5 days (a refusal is an answer). */
	t3 = ticket(f->store, "disclosure", "2026-11-04T00:00:00Z", NULL, NULL);
	event(f->store, t3, "2026-11-06T12:00:00Z", "state", "rejected");
	/* T4: answered after 20 days: late (no due date: received + 14). */
	t4 = ticket(f->store, "disclosure;stop_use", "2026-11-01T00:00:00Z", NULL, &late_ref);
	event(f->store, t4, "2026-11-21T00:00:00Z", "state", "answered");
	/* T5: open, received + 14 days is past on Dec 1. */
	t5 = ticket(f->store, "inquiry", "2026-11-10T00:00:00Z", NULL, NULL);
	/* T6: open, its own due date (Nov 25) is past though received + 14 is not. */
	ticket(f->store, "correction", "2026-11-20T00:00:00Z", "2026-11-25T00:00:00Z", NULL);
	/* T7: 00:30 on Nov 1 in Japan, still Oct 31 in UTC: November's; closed
	 * without an answer (triage junk): not overdue. */
	t7 = ticket(f->store, "", "2026-10-31T15:30:00Z", NULL, NULL);
	event(f->store, t7, "2026-11-01T00:00:00Z", "state", "closed");
	/* T8: 23:59:59 on Oct 31 in Japan: October's. */
	t8 = ticket(f->store, "disclosure", "2026-10-31T14:59:59Z", NULL, NULL);
	/* Fees: two paid and one waived in November; one paid in October. */
	event(f->store, t1, "2026-11-04T00:00:00Z", "fee", "paid 1000 yen by bank transfer");
	event(f->store, t4, "2026-11-10T00:00:00Z", "fee", "paid 1000 yen by postal money order");
	event(f->store, t5, "2026-11-11T00:00:00Z", "fee", "waived: public assistance");
	event(f->store, t8, "2026-10-31T14:00:00Z", "fee", "paid 1000 yen by bank transfer");
	/* T1's licence destroyed in November (id_retention_days = 0). */
	at("2026-11-07T00:00:00Z");
	{
		store_retention_t retention = {0, 365};
		g_autoptr(GPtrArray) done =
		    store_purge(f->store, &retention, "privacy-inbox", FALSE, &error);
		g_assert_no_error(error);
		g_assert_cmpuint(done->len, ==, 1); /* the licence (its mail was not kept here) */
	}
	(void)t2;

	at("2026-12-01T00:00:00Z");
	node = store_report(f->store, &period, &error);
	g_assert_no_error(error);
	r = json_node_get_object(node);
	g_assert_cmpint(json_object_get_int_member(section(r, "requests"), "total"), ==, 7);
	types = json_object_get_array_member(section(r, "requests"), "by_type");
	/* Sorted by primary type: (none), correction, disclosure, inquiry, stop_use. */
	g_assert_cmpuint(json_array_get_length(types), ==, 5);
	{
		JsonObject *none = json_array_get_object_element(types, 0);
		JsonObject *disclosure = json_array_get_object_element(types, 2);
		JsonObject *states = json_object_get_object_member(disclosure, "states");
		g_assert_cmpstr(json_object_get_string_member(none, "type"), ==, "(none)");
		g_assert_cmpstr(json_object_get_string_member(disclosure, "type"), ==,
		                "disclosure");
		g_assert_cmpint(json_object_get_int_member(disclosure, "total"), ==, 3);
		g_assert_cmpint(json_object_get_int_member(states, "closed"), ==, 1);
		g_assert_cmpint(json_object_get_int_member(states, "rejected"), ==, 1);
		g_assert_cmpint(json_object_get_int_member(states, "answered"), ==, 1);
	}
	answer = section(r, "answer_time");
	g_assert_cmpint(json_object_get_int_member(answer, "answered"), ==, 4);
	g_assert_cmpint(json_object_get_int_member(answer, "unanswered"), ==, 3);
	/* 2.5, 3, 10, 20 days */
	g_assert_cmpfloat_with_epsilon(json_object_get_double_member(answer, "median_days"), 6.5,
	                               0.001);
	g_assert_cmpfloat_with_epsilon(json_object_get_double_member(answer, "worst_days"), 20.0,
	                               0.001);
	g_assert_cmpstr(json_object_get_string_member(answer, "worst_ref"), ==, late_ref);
	overdue = section(r, "overdue");
	g_assert_cmpint(json_object_get_int_member(overdue, "answered_late"), ==, 1);
	g_assert_cmpint(json_object_get_int_member(overdue, "open_overdue"), ==, 2);
	g_assert_cmpint(json_object_get_int_member(overdue, "total"), ==, 3);
	g_assert_cmpint(json_object_get_int_member(section(r, "fees"), "paid"), ==, 2);
	g_assert_cmpint(json_object_get_int_member(section(r, "fees"), "waived"), ==, 1);
	g_assert_cmpint(json_object_get_int_member(section(r, "fees"), "collected_yen"), ==, 2000);
	g_assert_cmpint(json_object_get_int_member(section(r, "destroyed"), "id_documents"), ==, 1);
	g_assert_cmpint(json_object_get_int_member(section(r, "destroyed"), "raw_messages"), ==, 0);

	/* December: nothing received, so nothing to answer. */
	{
		store_report_period_t december = {"2026-12", "2026-11-30T15:00:00Z",
		                                  "2026-12-31T15:00:00Z", 14, 1000};
		g_autoptr(JsonNode) empty = store_report(f->store, &december, &error);
		JsonObject *e = json_node_get_object(empty);
		g_assert_no_error(error);
		g_assert_cmpint(json_object_get_int_member(section(e, "requests"), "total"), ==, 0);
		g_assert_true(
		    json_object_get_null_member(section(e, "answer_time"), "median_days"));
		g_assert_cmpint(json_object_get_int_member(section(e, "destroyed"), "id_documents"),
		                ==, 0);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_mime_init();
	g_test_add("/report/november", fixture_t, NULL, setup, test_november, teardown);
	return g_test_run();
}
