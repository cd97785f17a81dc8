/* test_vault.c — the spool under lock: files encrypted at rest and read
 * back (to an fd and as a GMimeStream), tampering detected, the key file's
 * rules (created 0600, refused when too open, missing or foreign), crash
 * leftovers in spool/tmp cleaned up, files from before encryption migrated. */
#include "store/store.h"

#include <sodium.h>

#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/testserver.h"

typedef struct {
	char *dir, *db, *spool, *key;
	store_t *store;
} fixture_t;

static void
setup(fixture_t *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	(void)data;
	f->dir = testserver_tmpdir();
	f->db = g_build_filename(f->dir, "state", "pi.db", NULL);
	f->spool = g_build_filename(f->dir, "spool", NULL);
	f->key = g_build_filename(f->dir, "state", "spool.key", NULL);
	f->store = store_open(f->db, f->spool, &error);
	g_assert_no_error(error);
}

static void
teardown(fixture_t *f, gconstpointer data)
{
	(void)data;
	store_free(f->store);
	testserver_tmpdir_remove(f->dir);
	g_free(f->dir);
	g_free(f->db);
	g_free(f->spool);
	g_free(f->key);
}

static GBytes *
random_bytes(gsize len, guint32 seed)
{
	g_autoptr(GRand) rand = g_rand_new_with_seed(seed);
	guint8 *data = g_malloc(len ? len : 1);

	for (gsize i = 0; i < len; i++)
		data[i] = (guint8)g_rand_int_range(rand, 0, 256);
	return g_bytes_new_take(data, len);
}

/* Keep DATA in AREA; returns the spool-relative path. */
static char *
keep(store_t *store, GBytes *data, const char *area)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(spool_file_t) file = store_spool_file_new(store, &error);
	gsize len = 0;
	const guint8 *p = g_bytes_get_data(data, &len);
	char *relative;

	g_assert_no_error(error);
	/* In odd pieces, as the fetcher delivers them. */
	for (gsize off = 0; off < len;) {
		gsize n = MIN(len - off, 7777);
		g_assert_true(spool_file_write(file, p + off, n, &error));
		off += n;
	}
	g_assert_true(spool_file_finish(file, &error));
	relative = spool_file_keep(file, area, &error);
	g_assert_no_error(error);
	return relative;
}

static GBytes *
decrypt(store_t *store, const char *relative, GError **error)
{
	g_autofree char *path = NULL;
	g_autofree char *contents = NULL;
	gsize len = 0;
	int fd = g_file_open_tmp("vault-XXXXXX", &path, NULL);
	gboolean ok;

	g_assert_cmpint(fd, >=, 0);
	ok = store_spool_decrypt_to_fd(store, relative, fd, error);
	close(fd);
	g_assert_true(g_file_get_contents(path, &contents, &len, NULL));
	g_unlink(path);
	return ok ? g_bytes_new_take(g_steal_pointer(&contents), len) : NULL;
}

static GBytes *
read_stream(GMimeStream *stream)
{
	GByteArray *out = g_byte_array_new();
	char buf[5000];
	ssize_t n;

	while ((n = g_mime_stream_read(stream, buf, sizeof(buf))) > 0)
		g_byte_array_append(out, (const guint8 *)buf, (guint)n);
	g_assert_cmpint(n, ==, 0);
	return g_byte_array_free_to_bytes(out);
}

static void
test_round_trip(fixture_t *f, gconstpointer data)
{
	/* Empty, tiny, chunk boundaries (64 KiB) and several chunks. */
	static const gsize sizes[] = {0, 1, 65535, 65536, 65537, 3 * 65536, 200001};

	(void)data;
	for (gsize i = 0; i < G_N_ELEMENTS(sizes); i++) {
		g_autoptr(GBytes) plain = random_bytes(sizes[i], (guint32)i + 1);
		g_autofree char *relative = keep(f->store, plain, "documents");
		g_autofree char *abs = store_spool_path(f->store, relative);
		g_autofree char *sha = g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, plain);
		g_autofree char *raw = NULL;
		g_autoptr(GError) error = NULL;
		g_autoptr(GBytes) back = NULL;
		g_autoptr(GBytes) streamed = NULL;
		g_autoptr(GMimeStream) stream = NULL;
		gsize raw_len = 0, chunks = sizes[i] ? (sizes[i] + 65535) / 65536 : 1;
		struct stat st;

		/* Named by the plaintext's SHA-256, 0600, and not plaintext. */
		g_assert_true(g_str_has_suffix(relative, sha));
		g_assert_cmpint(g_stat(abs, &st), ==, 0);
		g_assert_cmpint(st.st_mode & 0777, ==, 0600);
		g_assert_true(g_file_get_contents(abs, &raw, &raw_len, NULL));
		g_assert_cmpmem(raw, 8, "PIVAULT3", 8);
		/* header 72 bytes, then every 64 KiB chunk (and the final one) + its 16-byte tag */
		g_assert_cmpuint(raw_len, ==, 72 + sizes[i] + 16 * chunks);
		if (sizes[i] >= 64)
			g_assert_null(memmem(raw, raw_len,
			                     (const char *)g_bytes_get_data(plain, NULL) + 16, 32));

		back = decrypt(f->store, relative, &error);
		g_assert_no_error(error);
		g_assert_true(g_bytes_equal(back, plain));

		stream = store_spool_open_stream(f->store, relative, &error);
		g_assert_no_error(error);
		g_assert_cmpint(g_mime_stream_length(stream), ==, (gint64)sizes[i]);
		streamed = read_stream(stream);
		g_assert_true(g_bytes_equal(streamed, plain));
		g_assert_true(g_mime_stream_eos(stream));
		/* Back to the start, then to the middle: the same bytes again. */
		if (sizes[i] > 10) {
			char a[10], b[10];
			g_assert_cmpint(g_mime_stream_reset(stream), ==, 0);
			g_assert_cmpint(g_mime_stream_read(stream, a, 10), ==, 10);
			g_assert_cmpmem(a, 10, g_bytes_get_data(plain, NULL), 10);
			g_assert_cmpint(g_mime_stream_seek(stream, (gint64)sizes[i] - 10,
			                                   GMIME_STREAM_SEEK_SET),
			                ==, (gint64)sizes[i] - 10);
			g_assert_cmpint(g_mime_stream_read(stream, b, 10), ==, 10);
			g_assert_cmpmem(
			    b, 10, (const char *)g_bytes_get_data(plain, NULL) + sizes[i] - 10, 10);
			g_assert_cmpint(g_mime_stream_seek(stream, 3, GMIME_STREAM_SEEK_SET), ==,
			                3);
			g_assert_cmpint(g_mime_stream_read(stream, a, 5), ==, 5);
			g_assert_cmpmem(a, 5, (const char *)g_bytes_get_data(plain, NULL) + 3, 5);
		}
	}
	/* Nothing plaintext is left in spool/tmp. */
	{
		g_autofree char *tmp = g_build_filename(f->spool, "tmp", NULL);
		g_autoptr(GDir) d = g_dir_open(tmp, 0, NULL);
		g_assert_nonnull(d);
		g_assert_null(g_dir_read_name(d));
	}
}

static void
test_same_content_once(fixture_t *f, gconstpointer data)
{
	g_autoptr(GBytes) plain = random_bytes(1000, 7);
	g_autofree char *a = keep(f->store, plain, "documents");
	g_autofree char *b = keep(f->store, plain, "documents");
	g_autofree char *c = keep(f->store, plain, "messages");

	(void)data;
	g_assert_cmpstr(a, ==, b);
	g_assert_true(g_str_has_prefix(c, "messages/"));
}

static void
test_parser_reads_the_stream(fixture_t *f, gconstpointer data)
{
	static const char mail[] = "From: 山田 <yamada@example.jp>\r\n"
	                           "Subject: =?UTF-8?B?6ZaL56S66KuL5rGC?=\r\n"
	                           "Message-ID: <vault@example.jp>\r\n"
	                           "Content-Type: text/plain; charset=UTF-8\r\n\r\n"
	                           "本文です\r\n";
	g_autoptr(GBytes) plain = g_bytes_new_static(mail, sizeof(mail) - 1);
	g_autofree char *relative = keep(f->store, plain, "messages");
	g_autoptr(GError) error = NULL;
	g_autoptr(GMimeStream) stream = store_spool_open_stream(f->store, relative, &error);
	g_autoptr(GMimeParser) parser = NULL;
	g_autoptr(GMimeMessage) message = NULL;

	(void)data;
	g_assert_no_error(error);
	parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_persist_stream(parser, FALSE);
	message = g_mime_parser_construct_message(parser, NULL);
	g_assert_nonnull(message);
	g_assert_cmpstr(g_mime_message_get_subject(message), ==, "開示請求");
	g_assert_cmpstr(g_mime_message_get_message_id(message), ==, "vault@example.jp");
}

static void
expect_damaged(store_t *store, const char *relative, const char *fragment)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) back = decrypt(store, relative, &error);

	g_assert_null(back);
	g_assert_error(error, STORE_ERROR, PI_ERROR_FATAL);
	if (strstr(error->message, fragment) == NULL)
		g_error("expected \"%s\" in \"%s\"", fragment, error->message);
}

static void
test_tampering(fixture_t *f, gconstpointer data)
{
	g_autoptr(GBytes) plain = random_bytes(150000, 11);
	g_autoptr(GBytes) other = random_bytes(5000, 12);
	g_autofree char *relative = keep(f->store, plain, "documents");
	g_autofree char *other_rel = keep(f->store, other, "documents");
	g_autofree char *abs = store_spool_path(f->store, relative);
	g_autofree char *other_abs = store_spool_path(f->store, other_rel);
	g_autofree char *good = NULL, *other_raw = NULL;
	gsize len = 0, other_len = 0;

	(void)data;
	g_assert_true(g_file_get_contents(abs, &good, &len, NULL));
	g_assert_true(g_file_get_contents(other_abs, &other_raw, &other_len, NULL));

	/* One flipped bit in the second chunk. */
	{
		g_autofree char *bad = g_memdup2(good, len);
		bad[72 + 65536 + 16 + 100] ^= 0x01;
		g_assert_true(g_file_set_contents(abs, bad, (gssize)len, NULL));
		expect_damaged(f->store, relative, "authentication failed");
	}
	/* The first two chunks swapped: each is bound to its place. */
	{
		g_autofree char *bad = g_memdup2(good, len);
		memcpy(bad + 72, good + 72 + 65536 + 16, 65536 + 16);
		memcpy(bad + 72 + 65536 + 16, good + 72, 65536 + 16);
		g_assert_true(g_file_set_contents(abs, bad, (gssize)len, NULL));
		expect_damaged(f->store, relative, "authentication failed");
	}
	/* The last chunk cut off: truncation is noticed. */
	g_assert_true(
	    g_file_set_contents(abs, good, (gssize)(len - (150000 - 2 * 65536) - 16), NULL));
	expect_damaged(f->store, relative, "truncated");
	/* ... and so is a cut inside it. */
	g_assert_true(g_file_set_contents(abs, good, (gssize)(len - 100), NULL));
	expect_damaged(f->store, relative, "authentication failed");
	/* Bytes appended after the final chunk. */
	{
		g_autofree char *longer = g_malloc(len + 1);
		memcpy(longer, good, len);
		longer[len] = 'x';
		g_assert_true(g_file_set_contents(abs, longer, (gssize)len + 1, NULL));
		expect_damaged(f->store, relative, "is damaged or was altered");
	}
	/* Another file's (valid) bytes under this name: bound to its name. */
	g_assert_true(g_file_set_contents(abs, other_raw, (gssize)other_len, NULL));
	expect_damaged(f->store, relative, "does not belong under this name");
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(GMimeStream) stream = store_spool_open_stream(f->store, relative, &error);
		g_assert_null(stream);
		g_assert_error(error, STORE_ERROR, PI_ERROR_FATAL);
	}
	/* The binding itself altered. */
	{
		g_autofree char *bad = g_memdup2(good, len);
		bad[40 + 5] ^= 0x20;
		g_assert_true(g_file_set_contents(abs, bad, (gssize)len, NULL));
		expect_damaged(f->store, relative, "does not belong under this name");
	}
	/* Not a vault file at all. */
	g_assert_true(g_file_set_contents(abs, "plain text", -1, NULL));
	expect_damaged(f->store, relative, "not an encrypted spool file");
	/* The intact file still reads; a missing one is "not found". */
	g_assert_true(g_file_set_contents(abs, good, (gssize)len, NULL));
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(GBytes) back = decrypt(f->store, relative, &error);
		g_assert_no_error(error);
		g_assert_true(g_bytes_equal(back, plain));
		g_unlink(abs);
		g_assert_null(decrypt(f->store, relative, &error));
		g_assert_error(error, STORE_ERROR, PI_ERROR_NOT_FOUND);
	}
	/* Names that are not spool files are refused. */
	{
		g_autoptr(GError) error = NULL;
		g_assert_null(decrypt(f->store, "../state/pi.db", &error));
		g_assert_error(error, STORE_ERROR, PI_ERROR_FATAL);
	}
}

static void
test_key_file(fixture_t *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) plain = random_bytes(3000, 21);
	g_autofree char *relative = keep(f->store, plain, "documents");
	g_autofree char *key = NULL;
	g_autofree char *moved = g_strconcat(f->key, ".away", NULL);
	g_autofree char *id = store_vault_key_id(f->store);
	gsize len = 0;
	struct stat st;

	(void)data;
	/* Created on the first open: 0600, 64 hex digits. */
	g_assert_cmpint(g_stat(f->key, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0600);
	g_assert_true(g_file_get_contents(f->key, &key, &len, NULL));
	g_assert_cmpuint(len, ==, 65);
	g_assert_cmpuint(strspn(key, "0123456789abcdef"), ==, 64);
	g_assert_cmpuint(strlen(id), ==, 16);
	store_free(g_steal_pointer(&f->store));

	/* Reopened with the same key: the file reads. */
	f->store = store_open(f->db, f->spool, &error);
	g_assert_no_error(error);
	{
		g_autoptr(GBytes) back = decrypt(f->store, relative, &error);
		g_assert_no_error(error);
		g_assert_true(g_bytes_equal(back, plain));
	}
	store_free(g_steal_pointer(&f->store));

	/* Readable by others: refused. */
	g_chmod(f->key, 0640);
	g_assert_null(store_open(f->db, f->spool, &error));
	g_assert_error(error, STORE_ERROR, PI_ERROR_FATAL);
	g_assert_nonnull(strstr(error->message, "chmod 600"));
	g_clear_error(&error);
	g_chmod(f->key, 0600);

	/* Missing while encrypted files exist: refused, and no new key made. */
	g_assert_cmpint(g_rename(f->key, moved), ==, 0);
	g_assert_null(store_open(f->db, f->spool, &error));
	g_assert_error(error, STORE_ERROR, PI_ERROR_FATAL);
	g_assert_nonnull(strstr(error->message, "is missing"));
	g_assert_false(g_file_test(f->key, G_FILE_TEST_EXISTS));
	g_clear_error(&error);

	/* Another key: refused, naming both key ids. */
	{
		g_autofree char *foreign = g_strnfill(64, 'a');
		g_autofree char *text = g_strconcat(foreign, "\n", NULL);
		g_assert_true(g_file_set_contents_full(f->key, text, -1, G_FILE_SET_CONTENTS_NONE,
		                                       0600, NULL));
		g_assert_null(store_open(f->db, f->spool, &error));
		g_assert_error(error, STORE_ERROR, PI_ERROR_FATAL);
		g_assert_nonnull(strstr(error->message, "is not the key"));
		g_assert_nonnull(strstr(error->message, id));
		g_clear_error(&error);
		/* Garbage is not a key. */
		g_assert_true(g_file_set_contents_full(f->key, "not a key\n", -1,
		                                       G_FILE_SET_CONTENTS_NONE, 0600, NULL));
		g_assert_null(store_open(f->db, f->spool, &error));
		g_assert_nonnull(strstr(error->message, "64 hexadecimal digits"));
		g_clear_error(&error);
	}
	g_assert_cmpint(g_rename(moved, f->key), ==, 0);
	f->store = store_open(f->db, f->spool, &error);
	g_assert_no_error(error);
}

static void
test_key_elsewhere_and_fresh(fixture_t *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *db = g_build_filename(f->dir, "other", "pi.db", NULL);
	g_autofree char *spool = g_build_filename(f->dir, "other-spool", NULL);
	g_autofree char *key = g_build_filename(f->dir, "keys", "deep", "pi.key", NULL);
	g_autoptr(store_t) store = store_open_keyed(db, spool, key, &error);
	struct stat st;

	(void)data;
	g_assert_no_error(error);
	g_assert_cmpint(g_stat(key, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0600);
	/* An empty spool and no key: a new key is made (a fresh install). */
	store_free(g_steal_pointer(&store));
	g_unlink(key);
	store = store_open_keyed(db, spool, key, &error);
	g_assert_no_error(error);
	g_assert_true(g_file_test(key, G_FILE_TEST_EXISTS));
}

static void
test_stale_tmp_files(fixture_t *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *tmp = g_build_filename(f->spool, "tmp", NULL);
	g_autofree char *crashed = g_build_filename(tmp, "in.crashed", NULL);
	g_autofree char *busy = g_build_filename(tmp, "in.busy", NULL);
	g_autofree char *fresh = g_build_filename(tmp, "in.fresh", NULL);
	int busy_fd;

	(void)data;
	g_assert_cmpint(g_mkdir_with_parents(tmp, 0700), ==, 0);
	g_assert_true(g_file_set_contents(crashed, "left by a crash", -1, NULL));
	g_assert_true(g_file_set_contents(busy, "being written", -1, NULL));
	g_assert_true(g_file_set_contents(fresh, "just created", -1, NULL));
	{
		/* An hour old: the crash leftover and the busy file. */
		struct timespec old[2] = {{time(NULL) - 3600, 0}, {time(NULL) - 3600, 0}};
		g_assert_cmpint(utimensat(AT_FDCWD, crashed, old, 0), ==, 0);
		g_assert_cmpint(utimensat(AT_FDCWD, busy, old, 0), ==, 0);
	}
	/* A live writer holds its lock (as spool_file_t does). */
	busy_fd = open(busy, O_RDONLY);
	g_assert_cmpint(flock(busy_fd, LOCK_EX), ==, 0);
	{
		/* A live spool file of this store is locked too. */
		g_autoptr(spool_file_t) live = store_spool_file_new(f->store, &error);
		g_autofree char *live_path = g_strdup(spool_file_path(live));
		g_autoptr(store_t) second = NULL;
		struct timespec old[2] = {{time(NULL) - 3600, 0}, {time(NULL) - 3600, 0}};

		g_assert_cmpint(utimensat(AT_FDCWD, live_path, old, 0), ==, 0);
		second = store_open(f->db, f->spool, &error);
		g_assert_no_error(error);
		g_assert_false(g_file_test(crashed, G_FILE_TEST_EXISTS));
		g_assert_true(g_file_test(busy, G_FILE_TEST_EXISTS));
		g_assert_true(g_file_test(fresh, G_FILE_TEST_EXISTS));
		g_assert_true(g_file_test(live_path, G_FILE_TEST_EXISTS));
	}
	close(busy_fd);
}

static void
test_files_from_before_encryption(fixture_t *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	static const char old[] = "a licence photo kept in plaintext by version 1";
	g_autofree char *sha = g_compute_checksum_for_string(G_CHECKSUM_SHA256, old, -1);
	g_autofree char *dir = NULL, *path = NULL, *relative = NULL;
	char prefix[3] = {sha[0], sha[1], '\0'};
	sqlite3 *db = NULL;

	(void)data;
	relative = g_build_filename("documents", prefix, sha, NULL);
	path = g_build_filename(f->spool, relative, NULL);
	dir = g_path_get_dirname(path);
	g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
	g_assert_true(g_file_set_contents(path, old, -1, NULL));
	store_free(g_steal_pointer(&f->store));
	/* As in a database from before encryption at rest. */
	g_assert_cmpint(sqlite3_open(f->db, &db), ==, SQLITE_OK);
	g_assert_cmpint(sqlite3_exec(db, "DELETE FROM store_meta", NULL, NULL, NULL), ==,
	                SQLITE_OK);
	sqlite3_close(db);

	f->store = store_open(f->db, f->spool, &error);
	g_assert_no_error(error);
	{
		g_autofree char *raw = NULL;
		g_autoptr(GBytes) back = NULL;
		g_assert_true(g_file_get_contents(path, &raw, NULL, NULL));
		g_assert_true(g_str_has_prefix(raw, "PIVAULT3"));
		back = decrypt(f->store, relative, &error);
		g_assert_no_error(error);
		g_assert_cmpmem(g_bytes_get_data(back, NULL), g_bytes_get_size(back), old,
		                strlen(old));
	}
}

/* How many files in DIR hold any bytes. */
static guint
count_nonempty(const char *dir)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *name;
	guint n = 0;

	while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
		g_autofree char *path = g_build_filename(dir, name, NULL);
		struct stat st;

		if (g_stat(path, &st) == 0 && st.st_size > 0)
			n++;
	}
	return n;
}

/* Used plaintext files are emptied by a thread of the store's (a file
 * system mounted with `discard` makes ftruncate wait for the device): wait
 * up to 5 s for nothing in DIR to hold a byte. */
static guint
count_nonempty_settled(const char *dir)
{
	guint n = count_nonempty(dir);

	for (int i = 0; i < 500 && n > 0; i++) {
		g_usleep(10000);
		n = count_nonempty(dir);
	}
	return n;
}

/* A spool file is encrypted as it is written: while a document arrives,
 * spool/tmp holds one file, and not its plaintext; a readable file (a raw
 * message for the parser) has its plaintext beside it until kept, when that
 * file is emptied. */
static void
test_encrypted_as_written(fixture_t *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) plain = random_bytes(300000, 31);
	const char *bytes = g_bytes_get_data(plain, NULL);
	g_autofree char *tmp = g_build_filename(f->spool, "tmp", NULL);
	g_autofree char *relative = NULL;
	g_autofree char *plain_path = NULL;
	guint n_files = 0;

	(void)data;
	{
		g_autoptr(spool_file_t) file = store_spool_file_new(f->store, &error);
		g_autoptr(GDir) d = NULL;
		const char *name;

		g_assert_no_error(error);
		g_assert_true(spool_file_write(file, bytes, 200000, &error));
		d = g_dir_open(tmp, 0, NULL);
		while ((name = g_dir_read_name(d)) != NULL) {
			g_autofree char *path = g_build_filename(tmp, name, NULL);
			g_autofree char *contents = NULL;
			gsize len = 0;

			n_files++;
			g_assert_true(g_file_get_contents(path, &contents, &len, NULL));
			g_assert_cmpmem(contents, 8, "PIVAULT3", 8);
			g_assert_null(memmem(contents, len, bytes + 1000, 64));
		}
		g_assert_cmpuint(n_files, ==, 1);
	}
	{
		g_autoptr(spool_file_t) file = store_spool_file_new_readable(f->store, &error);
		g_autofree char *contents = NULL;
		gsize len = 0;

		g_assert_no_error(error);
		g_assert_true(spool_file_write(file, bytes, 300000, &error));
		g_assert_true(spool_file_finish(file, &error));
		plain_path = g_strdup(spool_file_path(file));
		g_assert_true(g_file_get_contents(plain_path, &contents, &len, NULL));
		g_assert_cmpmem(contents, len, bytes, 300000);
		relative = spool_file_keep(file, "messages", &error);
		g_assert_no_error(error);
	}
	{
		g_autoptr(GBytes) back = decrypt(f->store, relative, &error);

		g_assert_no_error(error);
		g_assert_true(g_bytes_equal(back, plain));
		/* The plaintext file is emptied (and kept for the next message),
		 * and what is left in spool/tmp holds nothing. */
		g_assert_cmpuint(count_nonempty_settled(tmp), ==, 0);
		g_assert_true(g_file_test(plain_path, G_FILE_TEST_EXISTS));
	}
}

/* A buffered file (a raw message for the parser) holds its plaintext in
 * memory while it is small and the process holds little else of the kind:
 * nothing but its ciphertext in spool/tmp.  A message over 1 MiB, or one
 * arriving while others hold the 4 MiB between them, goes to a plaintext
 * file instead, with every byte written before and after the switch; a
 * buffer given back is used again. */
static void
test_buffered_files(fixture_t *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) plain = random_bytes(1500000, 37);
	const char *bytes = g_bytes_get_data(plain, NULL);
	g_autofree char *tmp = g_build_filename(f->spool, "tmp", NULL);
	spool_file_t *files[6];

	(void)data;
	/* small: in memory, only the ciphertext on disk */
	{
		g_autoptr(spool_file_t) file = store_spool_file_new_buffered(f->store, &error);
		g_autofree char *relative = NULL;
		g_autoptr(GBytes) back = NULL;

		g_assert_no_error(error);
		for (gsize off = 0; off < 300000; off += 65536)
			g_assert_true(
			    spool_file_write(file, bytes + off, MIN(65536, 300000 - off), &error));
		g_assert_true(spool_file_finish(file, &error));
		g_assert_nonnull(spool_file_plaintext(file));
		g_assert_cmpmem(spool_file_plaintext(file)->data, spool_file_plaintext(file)->len,
		                bytes, 300000);
		g_assert_cmpuint(count_nonempty(tmp), ==, 1);
		{
			g_autofree char *sealed = NULL;
			gsize len = 0;

			g_assert_true(g_file_get_contents(spool_file_path(file), &sealed, &len, NULL));
			g_assert_cmpmem(sealed, 8, "PIVAULT3", 8);
		}
		relative = spool_file_keep(file, "messages", &error);
		g_assert_no_error(error);
		g_assert_null(spool_file_plaintext(file));
		back = decrypt(f->store, relative, &error);
		g_assert_no_error(error);
		g_assert_cmpmem(g_bytes_get_data(back, NULL), g_bytes_get_size(back), bytes, 300000);
	}
	/* over 1 MiB: moved to a plaintext file in the middle, nothing lost */
	{
		g_autoptr(spool_file_t) file = store_spool_file_new_buffered(f->store, &error);
		g_autofree char *contents = NULL;
		gsize len = 0;

		g_assert_no_error(error);
		for (gsize off = 0; off < 1500000; off += 65536)
			g_assert_true(
			    spool_file_write(file, bytes + off, MIN(65536, 1500000 - off), &error));
		g_assert_true(spool_file_finish(file, &error));
		g_assert_null(spool_file_plaintext(file));
		g_assert_true(g_file_get_contents(spool_file_path(file), &contents, &len, NULL));
		g_assert_cmpmem(contents, len, bytes, 1500000);
	}
	/* 900 KB each: four fit in 4 MiB, the fifth goes to a file */
	for (guint i = 0; i < G_N_ELEMENTS(files) - 1; i++) {
		files[i] = store_spool_file_new_buffered(f->store, &error);
		g_assert_no_error(error);
		g_assert_true(spool_file_write(files[i], bytes + i, 900000, &error));
		g_assert_true(spool_file_finish(files[i], &error));
	}
	for (guint i = 0; i < 4; i++) {
		g_assert_nonnull(spool_file_plaintext(files[i]));
		g_assert_cmpmem(spool_file_plaintext(files[i])->data,
		                spool_file_plaintext(files[i])->len, bytes + i, 900000);
	}
	g_assert_null(spool_file_plaintext(files[4]));
	{
		g_autofree char *contents = NULL;
		gsize len = 0;

		g_assert_true(g_file_get_contents(spool_file_path(files[4]), &contents, &len, NULL));
		g_assert_cmpmem(contents, len, bytes + 4, 900000);
	}
	/* one given back: the next one is in memory again */
	g_clear_pointer(&files[0], spool_file_free);
	files[5] = store_spool_file_new_buffered(f->store, &error);
	g_assert_no_error(error);
	g_assert_true(spool_file_write(files[5], bytes + 5, 900000, &error));
	g_assert_nonnull(spool_file_plaintext(files[5]));
	g_assert_cmpmem(spool_file_plaintext(files[5])->data, spool_file_plaintext(files[5])->len,
	                bytes + 5, 900000);
	for (guint i = 1; i < G_N_ELEMENTS(files); i++)
		spool_file_free(files[i]);
	/* nothing left in spool/tmp holds a byte */
	g_assert_cmpuint(count_nonempty_settled(tmp), ==, 0);
}

/* Append PLAIN to OUT as a secretstream with KEY, its header at bytes 16–39
 * of OUT (which has at least 40), every chunk authenticated with AD. */
static void
push_secretstream(GByteArray *out, const unsigned char *key, const unsigned char *ad,
                  gsize ad_len, GBytes *plain)
{
	crypto_secretstream_xchacha20poly1305_state state;
	const guint8 *p = g_bytes_get_data(plain, NULL);
	gsize left = g_bytes_get_size(plain);

	crypto_secretstream_xchacha20poly1305_init_push(&state, out->data + 16, key);
	do {
		gsize n = MIN(left, 65536);
		guint at = out->len;
		unsigned long long clen = 0;

		g_byte_array_set_size(out, at + (guint)n + 17);
		crypto_secretstream_xchacha20poly1305_push(
		    &state, out->data + at, &clen, p, n, ad, ad_len,
		    n == left ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0);
		p += n;
		left -= n;
	} while (left > 0);
}

/* Put OUT (taken) in the spool as RELATIVE; it reads back as PLAIN, whole
 * and as a stream. */
static void
check_older_file(fixture_t *f, const char *relative, GByteArray *out, GBytes *plain)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *abs = store_spool_path(f->store, relative);
	g_autofree char *dir = g_path_get_dirname(abs);
	g_autoptr(GBytes) back = NULL;
	g_autoptr(GMimeStream) stream = NULL;
	g_autoptr(GBytes) streamed = NULL;

	g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
	g_assert_true(g_file_set_contents(abs, (const char *)out->data, out->len, NULL));
	g_byte_array_unref(out);
	back = decrypt(f->store, relative, &error);
	g_assert_no_error(error);
	g_assert_true(g_bytes_equal(back, plain));
	stream = store_spool_open_stream(f->store, relative, &error);
	g_assert_no_error(error);
	g_assert_cmpint(g_mime_stream_length(stream), ==, (gint64)g_bytes_get_size(plain));
	streamed = read_stream(stream);
	g_assert_true(g_bytes_equal(streamed, plain));
}

/* The spool key of F's store. */
static void
read_key(fixture_t *f, unsigned char key[32])
{
	g_autofree char *key_hex = NULL;
	size_t bin_len = 0;

	g_assert_true(g_file_get_contents(f->key, &key_hex, NULL, NULL));
	g_assert_cmpint(sodium_hex2bin(key, 32, key_hex, 64, NULL, &bin_len, NULL), ==, 0);
}

/* Files written before encryption was streamed ("PIVAULT1": every chunk
 * authenticated with the name) are still read. */
static void
test_version_1_files(fixture_t *f, gconstpointer data)
{
	g_autoptr(GBytes) plain = random_bytes(140000, 41);
	g_autofree char *sha = g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, plain);
	g_autofree char *relative = g_strdup_printf("documents/%.2s/%s", sha, sha);
	g_autofree char *id = store_vault_key_id(f->store);
	unsigned char key[32], ad[48];
	GByteArray *out = g_byte_array_new();
	size_t bin_len = 0;

	(void)data;
	read_key(f, key);
	memcpy(ad, "PIVAULT1", 8);
	g_assert_cmpint(sodium_hex2bin(ad + 8, 8, id, 16, NULL, &bin_len, NULL), ==, 0);
	g_assert_cmpint(sodium_hex2bin(ad + 16, 32, sha, 64, NULL, &bin_len, NULL), ==, 0);
	g_byte_array_append(out, ad, 16);
	g_byte_array_set_size(out, 40);
	push_secretstream(out, key, ad, sizeof(ad), plain);
	check_older_file(f, relative, out, plain);
}

/* Files of version 2 (secretstream, XChaCha20-Poly1305, with the binding),
 * written before AES-256-GCM, are still read, whole and as a stream. */
static void
test_version_2_files(fixture_t *f, gconstpointer data)
{
	g_autoptr(GBytes) plain = random_bytes(140000, 43);
	g_autofree char *sha = g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, plain);
	g_autofree char *relative = g_strdup_printf("messages/%.2s/%s", sha, sha);
	g_autofree char *id = store_vault_key_id(f->store);
	static const char label[] = "privacy-inbox spool binding";
	unsigned char key[32], binding_key[32], sha_bin[32], prefix[16];
	crypto_generichash_state h;
	GByteArray *out = g_byte_array_new();
	size_t bin_len = 0;

	(void)data;
	read_key(f, key);
	g_assert_cmpint(sodium_hex2bin(sha_bin, 32, sha, 64, NULL, &bin_len, NULL), ==, 0);
	g_byte_array_set_size(out, 72);
	memcpy(out->data, "PIVAULT2", 8);
	g_assert_cmpint(sodium_hex2bin(out->data + 8, 8, id, 16, NULL, &bin_len, NULL), ==, 0);
	memcpy(prefix, out->data, 16); /* OUT moves as it grows */
	/* the stream (its header at bytes 16–39), then the binding over them */
	push_secretstream(out, key, prefix, sizeof(prefix), plain);
	crypto_generichash(binding_key, 32, (const unsigned char *)label, sizeof(label) - 1, key, 32);
	crypto_generichash_init(&h, binding_key, 32, 32);
	crypto_generichash_update(&h, out->data, 40);
	crypto_generichash_update(&h, sha_bin, 32);
	crypto_generichash_final(&h, out->data + 40, 32);
	check_older_file(f, relative, out, plain);
}

/* A plaintext of exactly two chunks: the last chunk is full and says it is
 * the last; without it the file is truncated. */
static void
test_whole_chunks(fixture_t *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) plain = random_bytes(2 * 65536, 47);
	g_autofree char *relative = keep(f->store, plain, "documents");
	g_autofree char *abs = store_spool_path(f->store, relative);
	g_autofree char *good = NULL;
	gsize len = 0;

	(void)data;
	g_assert_true(g_file_get_contents(abs, &good, &len, NULL));
	g_assert_cmpuint(len, ==, 72 + 2 * (65536 + 16));
	{
		g_autoptr(GBytes) back = decrypt(f->store, relative, &error);
		g_autoptr(GMimeStream) stream = store_spool_open_stream(f->store, relative, &error);
		g_autoptr(GBytes) streamed = NULL;

		g_assert_no_error(error);
		g_assert_true(g_bytes_equal(back, plain));
		g_assert_cmpint(g_mime_stream_length(stream), ==, 2 * 65536);
		streamed = read_stream(stream);
		g_assert_true(g_bytes_equal(streamed, plain));
	}
	g_assert_true(g_file_set_contents(abs, good, (gssize)(72 + 65536 + 16), NULL));
	expect_damaged(f->store, relative, "truncated");
}

/* Files prepared ahead (by the fetcher's thread) are the ones the next
 * spool files use; what is left goes with the store. */
static void
test_prepared_files(fixture_t *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *tmp = g_build_filename(f->spool, "tmp", NULL);
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GBytes) plain = random_bytes(70000, 51);
	g_autofree char *relative = NULL;

	(void)data;
	store_spool_prepare(f->store, 2);
	{
		g_autoptr(GDir) d = g_dir_open(tmp, 0, NULL);
		const char *name;
		while ((name = g_dir_read_name(d)) != NULL)
			g_ptr_array_add(names, g_build_filename(tmp, name, NULL));
	}
	g_assert_cmpuint(names->len, ==, 2);
	{
		g_autoptr(spool_file_t) file = store_spool_file_new(f->store, &error);
		gboolean prepared = FALSE;

		g_assert_no_error(error);
		for (guint i = 0; i < names->len; i++)
			prepared |= strcmp(g_ptr_array_index(names, i), spool_file_path(file)) == 0;
		g_assert_true(prepared);
		g_assert_true(spool_file_write(file, g_bytes_get_data(plain, NULL), 70000, &error));
		g_assert_true(spool_file_finish(file, &error));
		relative = spool_file_keep(file, "documents", &error);
		g_assert_no_error(error);
	}
	{
		g_autoptr(GBytes) back = decrypt(f->store, relative, &error);
		g_assert_no_error(error);
		g_assert_true(g_bytes_equal(back, plain));
	}
	store_free(g_steal_pointer(&f->store));
	{
		g_autoptr(GDir) d = g_dir_open(tmp, 0, NULL);
		g_assert_null(g_dir_read_name(d));
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_mime_init();
#define ADD(name, fn) g_test_add(name, fixture_t, NULL, setup, fn, teardown)
	ADD("/vault/round-trip", test_round_trip);
	ADD("/vault/same-content-once", test_same_content_once);
	ADD("/vault/parser-reads-the-stream", test_parser_reads_the_stream);
	ADD("/vault/tampering", test_tampering);
	ADD("/vault/encrypted-as-written", test_encrypted_as_written);
	ADD("/vault/version-1-files", test_version_1_files);
	ADD("/vault/version-2-files", test_version_2_files);
	ADD("/vault/whole-chunks", test_whole_chunks);
	ADD("/vault/buffered-files", test_buffered_files);
	ADD("/vault/prepared-files", test_prepared_files);
	ADD("/vault/key-file", test_key_file);
	ADD("/vault/key-elsewhere-and-fresh", test_key_elsewhere_and_fresh);
	ADD("/vault/stale-tmp-files", test_stale_tmp_files);
	ADD("/vault/files-from-before-encryption", test_files_from_before_encryption);
	return g_test_run();
}
