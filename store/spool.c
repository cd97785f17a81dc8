/* spool.c — content-addressed files under the spool folder.
 *
 *   SPOOL/tmp/                 files being written (removed unless kept)
 *   SPOOL/messages/ab/abcd…    raw messages, named by SHA-256, encrypted
 *   SPOOL/documents/ab/abcd…   ID documents, named by SHA-256, encrypted
 *
 * Files are 0600, folders 0700; names never come from the sender.
 * Every byte written is hashed (SHA-256 of the plaintext, GnuTLS: the CPU's
 * SHA extensions) and encrypted (vault.c) as it arrives, into a temporary
 * file SPOOL/tmp/enc.XXXXXX; spool_file_keep() only renames it into place.
 * So the plaintext of an identity document never reaches the disk, and
 * nothing is read back to be encrypted.  A raw message is parsed from its
 * plaintext: store_spool_file_new_buffered() keeps that in memory while the
 * message is small and the process holds little else of the kind
 * (SPOOL_PLAIN_FILE_MAX, SPOOL_PLAIN_TOTAL_MAX), and otherwise, as
 * store_spool_file_new_readable() always does, writes it to
 * SPOOL/tmp/in.XXXXXX, emptied when the file is kept or freed.  Buffers and
 * files are both reused for the next message: in this VM, a page of memory
 * or of page cache touched for the first time, and a file created, cost more
 * than the bytes copied into them.
 *
 * Temporary files are locked (flock) by the process writing them, so the
 * clean-up at store_open() removes only what a crashed process left behind.
 *
 * The spool lock: spool_file_keep() takes a shared flock() on the SPOOL
 * folder itself and holds it until spool_file_free(), i.e. across the transaction that records
 * the kept file.  Destroying files (purge.c) takes it exclusively, so a file
 * that a request is just reusing (same content, same name) is never removed
 * between the router finding it in place and committing its reference.
 */
#include "store/store-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <gnutls/crypto.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* How long to wait for the spool lock before giving up (temporary error). */
#define SPOOL_LOCK_TIMEOUT_MS 30000
/* Temporary files younger than this are never cleaned up. */
#define SPOOL_TMP_GRACE_SECONDS 60
/* Spare plaintext files kept for readable spool files (see store_t): more
 * than the messages in flight in cli/worker.c (queue, and one per thread). */
#define SPOOL_SCRATCH_MAX 16
/* A buffered file's plaintext stays in memory up to this size; a bigger
 * message goes to a plaintext file (spilled), so memory does not grow with
 * a message. */
#define SPOOL_PLAIN_FILE_MAX (1024u * 1024u)
/* ... and while all such buffers, in use or spare, have held at most this
 * much (the rest goes to files): the fetcher has ~10 messages in flight. */
#define SPOOL_PLAIN_TOTAL_MAX (4u * 1024u * 1024u)
/* Spare buffers kept for the next messages. */
#define SPOOL_PLAIN_POOL_MAX 12
/* Files from this size on are written back as soon as they are finished
 * (smaller ones cost more in system calls than the group's sync saves). */
#define SPOOL_WRITE_BEHIND_BYTES (128 * 1024)

/* A plaintext file in SPOOL/tmp, locked, open, empty while spare. */
typedef struct {
	char *path;
	int fd;
} spool_scratch_t;

/* The plaintext of a buffered file while it is in memory. */
typedef struct {
	GByteArray *bytes;
	gsize charge; /* the most it has held: what it counts in store->plain_charged */
} spool_plain_t;

struct spool_file {
	store_t *store;
	spool_plain_t *plain_mem; /* buffered files while in memory, else NULL */
	char *sealed_path;       /* the ciphertext in SPOOL/tmp; NULL once kept */
	int sealed_fd;
	char *plain_path;        /* readable files: the plaintext in SPOOL/tmp, else NULL */
	int plain_fd;
	vault_writer_t *writer;  /* until finished */
	gnutls_hash_hd_t sha256; /* until finished; NULL when the caller hashes */
	gboolean caller_hashes;  /* store_spool_file_new_hashed_by_caller() */
	gboolean finished;
	gboolean failed;         /* a write failed: the file cannot be finished */
	char *sha256_hex;
	gsize size;
	int lock_fd;             /* shared spool lock, from keep to free (-1: none) */
};

static gboolean
io_error(GError **error, const char *what, const char *path)
{
	int saved = errno;

	g_set_error(error, STORE_ERROR, PI_ERROR_FATAL, "spool: %s %s: %s", what, path,
	            g_strerror(saved));
	return FALSE;
}

char *
store_spool_path(store_t *store, const char *relative)
{
	return g_build_filename(store->spool, relative, NULL);
}

/* A new locked temporary file DIR/PREFIX.XXXXXX; sets *PATH_OUT. */
static int
create_tmp(const char *dir, const char *prefix, char **path_out, GError **error)
{
	g_autofree char *template = g_strdup_printf("%s.XXXXXX", prefix);
	char *path = g_build_filename(dir, template, NULL);
	int fd = g_mkstemp_full(path, O_RDWR | O_CLOEXEC, 0600);

	/* The folder is made on first use (not checked for every file). */
	if (fd < 0 && errno == ENOENT) {
		g_free(path);
		if (!pi_ensure_dir(dir, 0700, error))
			return -1;
		path = g_build_filename(dir, template, NULL);
		fd = g_mkstemp_full(path, O_RDWR | O_CLOEXEC, 0600);
	}
	if (fd < 0) {
		io_error(error, "cannot create", path);
		g_free(path);
		return -1;
	}
	/* Ours while we live: the clean-up in other processes leaves it alone. */
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		io_error(error, "cannot lock", path);
		g_unlink(path);
		g_free(path);
		close(fd);
		return -1;
	}
	*path_out = path;
	return fd;
}

/* An empty temporary file from POOL (store->scratch: plaintext files,
 * store->spare: files prepared for ciphertext), or a new DIR/PREFIX.XXXXXX. */
static int
pool_take(store_t *store, GPtrArray *pool, const char *dir, const char *prefix, char **path_out,
          GError **error)
{
	spool_scratch_t *spare = NULL;
	int fd;

	g_mutex_lock(&store->scratch_lock);
	if (pool->len > 0)
		spare = g_ptr_array_steal_index_fast(pool, pool->len - 1);
	g_mutex_unlock(&store->scratch_lock);
	if (spare == NULL)
		return create_tmp(dir, prefix, path_out, error);
	*path_out = spare->path;
	fd = spare->fd;
	g_free(spare);
	return fd;
}

/* Empty a used plaintext file and keep it as a spare, or remove it. */
static void
scratch_empty(gpointer data, gpointer user_data)
{
	spool_scratch_t *spare = data;
	store_t *store = user_data;

	/* Emptied first: a spare file holds no message. */
	if (ftruncate(spare->fd, 0) == 0 && lseek(spare->fd, 0, SEEK_SET) == 0) {
		g_mutex_lock(&store->scratch_lock);
		if (store->scratch->len < SPOOL_SCRATCH_MAX) {
			g_ptr_array_add(store->scratch, spare);
			spare = NULL;
		}
		g_mutex_unlock(&store->scratch_lock);
		if (spare == NULL)
			return;
	}
	g_unlink(spare->path); /* before closing: the lock guards the name */
	g_free(spare->path);
	close(spare->fd);
	g_free(spare);
}

/* Done with the plaintext file PATH (FD): emptied and kept as a spare, or
 * removed.  Takes PATH.  The emptying is left to a thread of its own: on a
 * file system mounted with `discard` (as here) ftruncate(2) waits for the
 * device to discard the blocks, 10–40 ms, which the router thread of a
 * fetch spent waiting while the others waited for it. */
static void
scratch_give(store_t *store, char *path, int fd)
{
	spool_scratch_t *spare = g_new(spool_scratch_t, 1);
	GThreadPool *janitor;

	spare->path = path;
	spare->fd = fd;
	g_mutex_lock(&store->scratch_lock);
	if (store->janitor == NULL)
		store->janitor = g_thread_pool_new(scratch_empty, store, 1, FALSE, NULL);
	janitor = store->janitor;
	g_mutex_unlock(&store->scratch_lock);
	if (janitor == NULL || !g_thread_pool_push(janitor, spare, NULL))
		scratch_empty(spare, store);
}

static void
clear_pool(GPtrArray *pool)
{
	for (guint i = 0; i < pool->len; i++) {
		spool_scratch_t *spare = g_ptr_array_index(pool, i);

		g_unlink(spare->path);
		close(spare->fd);
		g_free(spare->path);
		g_free(spare);
	}
	g_ptr_array_set_size(pool, 0);
}

/* Free a plaintext buffer (its charge already taken back), wiped: the
 * whole of what it ever held, not only its length (0 while spare). */
static void
plain_free(spool_plain_t *plain)
{
	g_byte_array_set_size(plain->bytes, (guint)plain->charge);
	sodium_memzero(plain->bytes->data, plain->bytes->len);
	g_byte_array_unref(plain->bytes);
	g_free(plain);
}

/* An empty plaintext buffer: a spare one, or new (charged nothing yet). */
static spool_plain_t *
plain_take(store_t *store)
{
	spool_plain_t *plain = NULL;

	g_mutex_lock(&store->scratch_lock);
	if (store->plain_pool->len > 0)
		plain = g_ptr_array_steal_index_fast(store->plain_pool, store->plain_pool->len - 1);
	g_mutex_unlock(&store->scratch_lock);
	if (plain == NULL) {
		plain = g_new0(spool_plain_t, 1);
		plain->bytes = g_byte_array_new();
	}
	return plain;
}

/* Done with PLAIN: kept as a spare, or freed and its charge given back. */
static void
plain_give(store_t *store, spool_plain_t *plain)
{
	/* Emptied first: a spare buffer holds no message (its old bytes are
	 * overwritten by the next one, or wiped when it is freed). */
	g_byte_array_set_size(plain->bytes, 0);
	g_mutex_lock(&store->scratch_lock);
	if (store->plain_pool->len < SPOOL_PLAIN_POOL_MAX) {
		g_ptr_array_add(store->plain_pool, plain);
		plain = NULL;
	} else {
		store->plain_charged -= plain->charge;
	}
	g_mutex_unlock(&store->scratch_lock);
	if (plain != NULL)
		plain_free(plain);
}

/* May PLAIN grow to hold LEN bytes? Charged when it does. */
static gboolean
plain_reserve(store_t *store, spool_plain_t *plain, gsize len)
{
	gboolean ok = TRUE;

	if (len > SPOOL_PLAIN_FILE_MAX)
		return FALSE;
	if (len <= plain->charge)
		return TRUE;
	g_mutex_lock(&store->scratch_lock);
	if (store->plain_charged + (len - plain->charge) <= SPOOL_PLAIN_TOTAL_MAX) {
		store->plain_charged += len - plain->charge;
		plain->charge = len;
	} else {
		ok = FALSE;
	}
	g_mutex_unlock(&store->scratch_lock);
	return ok;
}

void
store_spool_scratch_clear(store_t *store)
{
	GThreadPool *janitor;

	/* Every file given back is emptied first. */
	g_mutex_lock(&store->scratch_lock);
	janitor = g_steal_pointer(&store->janitor);
	g_mutex_unlock(&store->scratch_lock);
	if (janitor != NULL)
		g_thread_pool_free(janitor, FALSE, TRUE);
	g_mutex_lock(&store->scratch_lock);
	clear_pool(store->scratch);
	clear_pool(store->spare);
	for (guint i = 0; i < store->plain_pool->len; i++) {
		spool_plain_t *plain = g_ptr_array_index(store->plain_pool, i);

		store->plain_charged -= plain->charge;
		plain_free(plain);
	}
	g_ptr_array_set_size(store->plain_pool, 0);
	g_mutex_unlock(&store->scratch_lock);
}

void
store_spool_prepare(store_t *store, guint n)
{
	g_autofree char *dir = g_build_filename(store->spool, "tmp", NULL);
	guint have;

	g_mutex_lock(&store->scratch_lock);
	have = store->spare->len;
	g_mutex_unlock(&store->scratch_lock);
	for (; have < n; have++) {
		spool_scratch_t *spare = g_new0(spool_scratch_t, 1);

		if ((spare->fd = create_tmp(dir, "enc", &spare->path, NULL)) < 0) {
			g_free(spare);
			return;
		}
		g_mutex_lock(&store->scratch_lock);
		g_ptr_array_add(store->spare, spare);
		g_mutex_unlock(&store->scratch_lock);
	}
}

typedef enum { PLAIN_NONE, PLAIN_FILE, PLAIN_BUFFERED } plain_mode_t;

static spool_file_t *
file_new(store_t *store, plain_mode_t readable, gboolean caller_hashes, GError **error)
{
	g_autofree char *dir = g_build_filename(store->spool, "tmp", NULL);
	g_autoptr(spool_file_t) file = g_new0(spool_file_t, 1);

	file->store = store;
	file->sealed_fd = -1;
	file->plain_fd = -1;
	file->lock_fd = -1;
	if ((file->sealed_fd =
	         pool_take(store, store->spare, dir, "enc", &file->sealed_path, error)) < 0)
		return NULL;
	if (readable == PLAIN_FILE && (file->plain_fd = pool_take(store, store->scratch, dir, "in",
	                                                          &file->plain_path, error)) < 0)
		return NULL;
	if (readable == PLAIN_BUFFERED)
		file->plain_mem = plain_take(store);
	file->caller_hashes = caller_hashes;
	if (!caller_hashes && gnutls_hash_init(&file->sha256, GNUTLS_DIG_SHA256) < 0) {
		file->sha256 = NULL;
		g_set_error(error, STORE_ERROR, PI_ERROR_FATAL, "spool: cannot start a SHA-256");
		return NULL;
	}
	file->writer = vault_writer_new(store, file->sealed_fd, file->sealed_path, error);
	if (file->writer == NULL)
		return NULL;
	return g_steal_pointer(&file);
}

spool_file_t *
store_spool_file_new(store_t *store, GError **error)
{
	return file_new(store, PLAIN_NONE, FALSE, error);
}

spool_file_t *
store_spool_file_new_hashed_by_caller(store_t *store, GError **error)
{
	return file_new(store, PLAIN_NONE, TRUE, error);
}

spool_file_t *
store_spool_file_new_readable(store_t *store, GError **error)
{
	return file_new(store, PLAIN_FILE, FALSE, error);
}

spool_file_t *
store_spool_file_new_buffered(store_t *store, GError **error)
{
	return file_new(store, PLAIN_BUFFERED, FALSE, error);
}

/* The plaintext of FILE outgrew memory: from now on in a file. */
static gboolean
spill(spool_file_t *file, GError **error)
{
	g_autofree char *dir = g_build_filename(file->store->spool, "tmp", NULL);
	spool_plain_t *plain = g_steal_pointer(&file->plain_mem);
	gboolean ok;

	file->plain_fd =
	    pool_take(file->store, file->store->scratch, dir, "in", &file->plain_path, error);
	ok = file->plain_fd >= 0;
	if (ok && !vault_write_full(file->plain_fd, plain->bytes->data, plain->bytes->len))
		ok = io_error(error, "cannot write", file->plain_path);
	plain_give(file->store, plain);
	return ok;
}

gboolean
spool_file_write(spool_file_t *file, const void *data, gsize len, GError **error)
{
	g_return_val_if_fail(!file->finished, FALSE);
	if (len == 0)
		return TRUE;
	if (file->failed) {
		g_set_error(error, STORE_ERROR, PI_ERROR_FATAL, "spool: %s: an earlier write failed",
		            file->sealed_path);
		return FALSE;
	}
	if (file->sha256 != NULL)
		gnutls_hash(file->sha256, data, len);
	file->size += len;
	if (file->plain_mem != NULL) {
		if (plain_reserve(file->store, file->plain_mem, file->plain_mem->bytes->len + len)) {
			g_byte_array_append(file->plain_mem->bytes, data, (guint)len);
		} else if (!spill(file, error)) {
			file->failed = TRUE;
			return FALSE;
		}
	}
	if (file->plain_fd >= 0 && !vault_write_full(file->plain_fd, data, len)) {
		file->failed = TRUE;
		return io_error(error, "cannot write", file->plain_path);
	}
	if (!vault_writer_write(file->writer, data, len, error)) {
		file->failed = TRUE;
		return FALSE;
	}
	return TRUE;
}

/* ---- a GMimeStream writing into a spool file ---------------------------- */

#define STORE_TYPE_SPOOL_STREAM (store_spool_stream_get_type())
G_DECLARE_FINAL_TYPE(StoreSpoolStream, store_spool_stream, STORE, SPOOL_STREAM, GMimeStream)

struct _StoreSpoolStream {
	GMimeStream parent;
	spool_file_t *file; /* borrowed: outlives the stream */
};

G_DEFINE_TYPE(StoreSpoolStream, store_spool_stream, GMIME_TYPE_STREAM)

static ssize_t
spool_stream_write(GMimeStream *stream, const char *buf, size_t len)
{
	StoreSpoolStream *s = STORE_SPOOL_STREAM(stream);
	g_autoptr(GError) error = NULL;

	if (s->file->finished) {
		errno = EBADF;
		return -1;
	}
	if (!spool_file_write(s->file, buf, len, &error)) {
		g_debug("%s", error->message);
		errno = EIO;
		return -1;
	}
	stream->position += (gint64)len;
	return (ssize_t)len;
}

static ssize_t
spool_stream_read(GMimeStream *stream, char *buf, size_t len)
{
	(void)stream;
	(void)buf;
	(void)len;
	errno = EBADF; /* write-only */
	return -1;
}

static int
spool_stream_flush(GMimeStream *stream)
{
	(void)stream;
	return 0;
}

static int
spool_stream_close(GMimeStream *stream)
{
	(void)stream;
	return 0;
}

static gboolean
spool_stream_eos(GMimeStream *stream)
{
	(void)stream;
	return TRUE;
}

static int
spool_stream_reset(GMimeStream *stream)
{
	(void)stream;
	return -1;
}

static gint64
spool_stream_seek(GMimeStream *stream, gint64 offset, GMimeSeekWhence whence)
{
	(void)stream;
	(void)offset;
	(void)whence;
	errno = ESPIPE;
	return -1;
}

static gint64
spool_stream_tell(GMimeStream *stream)
{
	return stream->position;
}

static gint64
spool_stream_length(GMimeStream *stream)
{
	(void)stream;
	return -1;
}

static GMimeStream *
spool_stream_substream(GMimeStream *stream, gint64 start, gint64 end)
{
	(void)stream;
	(void)start;
	(void)end;
	return NULL;
}

static void
store_spool_stream_class_init(StoreSpoolStreamClass *klass)
{
	GMimeStreamClass *stream_class = GMIME_STREAM_CLASS(klass);

	stream_class->read = spool_stream_read;
	stream_class->write = spool_stream_write;
	stream_class->flush = spool_stream_flush;
	stream_class->close = spool_stream_close;
	stream_class->eos = spool_stream_eos;
	stream_class->reset = spool_stream_reset;
	stream_class->seek = spool_stream_seek;
	stream_class->tell = spool_stream_tell;
	stream_class->length = spool_stream_length;
	stream_class->substream = spool_stream_substream;
}

static void
store_spool_stream_init(StoreSpoolStream *s)
{
	(void)s;
}

GMimeStream *
spool_file_stream(spool_file_t *file)
{
	StoreSpoolStream *s = g_object_new(STORE_TYPE_SPOOL_STREAM, NULL);

	s->file = file;
	g_mime_stream_construct(GMIME_STREAM(s), 0, -1);
	return GMIME_STREAM(s);
}

/* ---- finishing and keeping --------------------------------------------- */

/* The ciphertext's last chunk and binding, once the name (SHA256_HEX) is known. */
static gboolean
finish_sealed(spool_file_t *file, GError **error)
{
	if (!vault_writer_finish(file->writer, file->sha256_hex, error)) {
		file->failed = TRUE;
		return FALSE;
	}
	g_clear_pointer(&file->writer, vault_writer_free);
	/* Start writing a large ciphertext to disk now, in the background:
	 * the fsync of spool_file_keep(), or the group's syncfs (group.c), then
	 * mostly finds it done instead of writing a whole group at once while
	 * routing waits.  Advisory: durability comes from those syncs. */
	if (file->size >= SPOOL_WRITE_BEHIND_BYTES)
		(void)sync_file_range(file->sealed_fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	file->finished = TRUE;
	return TRUE;
}

gboolean
spool_file_finish(spool_file_t *file, GError **error)
{
	unsigned char digest[32];
	char hex[65];

	if (file->finished)
		return TRUE;
	g_return_val_if_fail(!file->caller_hashes, FALSE);
	if (file->failed) {
		g_set_error(error, STORE_ERROR, PI_ERROR_FATAL, "spool: %s: an earlier write failed",
		            file->sealed_path);
		return FALSE;
	}
	gnutls_hash_deinit(file->sha256, digest);
	file->sha256 = NULL;
	file->sha256_hex = g_strdup(sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest)));
	return finish_sealed(file, error);
}

gboolean
spool_file_finish_hashed(spool_file_t *file, const char *sha256, gsize size, GError **error)
{
	g_return_val_if_fail(file->caller_hashes, FALSE);
	if (file->finished)
		return TRUE;
	if (file->failed) {
		g_set_error(error, STORE_ERROR, PI_ERROR_FATAL, "spool: %s: an earlier write failed",
		            file->sealed_path);
		return FALSE;
	}
	/* The name of the file comes from it: 64 lowercase hex digits only. */
	if (sha256 == NULL || strlen(sha256) != 64 || strspn(sha256, "0123456789abcdef") != 64 ||
	    size != file->size) {
		g_set_error(error, STORE_ERROR, PI_ERROR_FATAL,
		            "spool: %s: the caller's digest does not fit the %" G_GSIZE_FORMAT
		            " bytes written",
		            file->sealed_path, file->size);
		return FALSE;
	}
	file->sha256_hex = g_strdup(sha256);
	return finish_sealed(file, error);
}

const char *
spool_file_sha256(const spool_file_t *file)
{
	return file->sha256_hex;
}

gsize
spool_file_size(const spool_file_t *file)
{
	return file->size;
}

const char *
spool_file_path(const spool_file_t *file)
{
	return file->plain_path != NULL ? file->plain_path : file->sealed_path;
}

GByteArray *
spool_file_plaintext(const spool_file_t *file)
{
	return file->plain_mem != NULL ? file->plain_mem->bytes : NULL;
}

/* Drop the plaintext copy of a readable file. */
static void
drop_plaintext(spool_file_t *file)
{
	if (file->plain_mem != NULL)
		plain_give(file->store, g_steal_pointer(&file->plain_mem));
	if (file->plain_fd >= 0)
		scratch_give(file->store, g_steal_pointer(&file->plain_path), file->plain_fd);
	file->plain_fd = -1;
}

void
spool_file_drop_plaintext(spool_file_t *file)
{
	drop_plaintext(file);
}

char *
spool_file_keep(spool_file_t *file, const char *area, GError **error)
{
	g_autofree char *relative = NULL;
	g_autofree char *dir = NULL;
	g_autofree char *target = NULL;
	char prefix[3];

	g_return_val_if_fail(file->finished && file->sealed_path != NULL, NULL);
	/* A group (group.c) holds the shared spool lock until it commits. */
	if (file->lock_fd < 0 && !file->store->in_group &&
	    (file->lock_fd = store_spool_lock(file->store, FALSE, error)) < 0)
		return NULL;
	prefix[0] = file->sha256_hex[0];
	prefix[1] = file->sha256_hex[1];
	prefix[2] = '\0';
	relative = g_build_filename(area, prefix, file->sha256_hex, NULL);
	target = g_build_filename(file->store->spool, relative, NULL);
	dir = g_path_get_dirname(target);
	/* Same name, same content: the copy in place will do (the spool lock
	 * keeps it there until our reference is committed).  Otherwise the
	 * ciphertext, complete since finish, is moved into place: synced first
	 * unless a group (group.c) syncs the whole spool before it commits. */
	if (g_file_test(target, G_FILE_TEST_EXISTS)) {
		g_unlink(file->sealed_path);
	} else {
		if (!file->store->defer_sync && fsync(file->sealed_fd) != 0) {
			io_error(error, "cannot sync", file->sealed_path);
			return NULL;
		}
		/* AREA/xx is made when the first file goes there. */
		if (rename(file->sealed_path, target) != 0 &&
		    (errno != ENOENT || !pi_ensure_dir(dir, 0700, error) ||
		     rename(file->sealed_path, target) != 0)) {
			if (error == NULL || *error == NULL)
				io_error(error, "cannot move into place", target);
			return NULL;
		}
		if (!file->store->defer_sync && !pi_fsync_dir(dir, error))
			return NULL;
	}
	g_clear_pointer(&file->sealed_path, g_free);
	drop_plaintext(file);
	return g_steal_pointer(&relative);
}

int
store_spool_lock(store_t *store, gboolean exclusive, GError **error)
{
	const char *path = store->spool;
	gint64 deadline = g_get_monotonic_time() + SPOOL_LOCK_TIMEOUT_MS * G_TIME_SPAN_MILLISECOND;
	/* The folder itself: no lock file to create, clean up or race on. */
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0) {
		io_error(error, "cannot open", path);
		return -1;
	}
	/* Never block without limit: a holder may be waiting for the database. */
	while (flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0) {
		struct timespec pause = {0, 20 * 1000 * 1000};
		if (errno != EWOULDBLOCK && errno != EINTR) {
			io_error(error, "cannot lock", path);
			close(fd);
			return -1;
		}
		if (g_get_monotonic_time() > deadline) {
			g_set_error(error, STORE_ERROR, PI_ERROR_TEMPORARY,
			            "the spool is busy (%s is held by another privacy-inbox process); "
			            "try again",
			            path);
			close(fd);
			return -1;
		}
		nanosleep(&pause, NULL);
	}
	return fd;
}

void
store_spool_cleanup_tmp(store_t *store)
{
	g_autofree char *dir = g_build_filename(store->spool, "tmp", NULL);
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *name;
	guint removed = 0;

	while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
		g_autofree char *path = g_build_filename(dir, name, NULL);
		struct stat st;
		int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

		if (fd < 0)
			continue;
		/* Locked: a live process is still writing it.  Recent: it may have
		 * just been created and not yet locked. */
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
		    st.st_mtime < time(NULL) - SPOOL_TMP_GRACE_SECONDS &&
		    flock(fd, LOCK_EX | LOCK_NB) == 0 && g_unlink(path) == 0)
			removed++;
		close(fd);
	}
	if (removed > 0)
		g_info("spool: removed %u files a crashed process left in %s", removed, dir);
}

void
spool_file_free(spool_file_t *file)
{
	if (file == NULL)
		return;
	vault_writer_free(file->writer);
	if (file->sha256 != NULL)
		gnutls_hash_deinit(file->sha256, NULL);
	drop_plaintext(file);
	/* Unlink before closing: the lock on fd guards the name until then. */
	if (file->sealed_path != NULL)
		g_unlink(file->sealed_path);
	if (file->sealed_fd >= 0)
		close(file->sealed_fd);
	if (file->lock_fd >= 0)
		close(file->lock_fd);
	g_free(file->sealed_path);
	g_free(file->sha256_hex);
	g_free(file);
}
