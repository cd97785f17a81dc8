/* spool.c — content-addressed files under the spool folder.
 *
 *   SPOOL/tmp/                 files being written (plaintext; removed unless kept)
 *   SPOOL/messages/ab/abcd…    raw messages, named by SHA-256, encrypted
 *   SPOOL/documents/ab/abcd…   ID documents, named by SHA-256, encrypted
 *
 * Files are 0600, folders 0700; names never come from the sender.
 * Everything written goes through one GMime stream with a checksum filter,
 * so the SHA-256 (of the plaintext) is known when the file is finished
 * without reading it again.  The temporary file stays plaintext, because the
 * parser reads it back as a seekable file; spool_file_keep() encrypts it
 * into place (vault.c) and removes the plaintext.
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
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* How long to wait for the spool lock before giving up (temporary error). */
#define SPOOL_LOCK_TIMEOUT_MS 30000
/* Temporary files younger than this are never cleaned up. */
#define SPOOL_TMP_GRACE_SECONDS 60

struct spool_file {
	store_t *store;
	char *path;        /* temporary path, then NULL once kept */
	int fd;
	GMimeStream *stream; /* filter(fs(fd)) with the checksum filter */
	GMimeFilter *checksum;
	gboolean finished;
	char *sha256;
	gsize size;
	int lock_fd;       /* shared spool lock, from keep to free (-1: none) */
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

spool_file_t *
store_spool_file_new(store_t *store, GError **error)
{
	g_autofree char *dir = g_build_filename(store->spool, "tmp", NULL);
	g_autoptr(spool_file_t) file = g_new0(spool_file_t, 1);
	GMimeStream *fs;

	file->store = store;
	file->fd = -1;
	file->lock_fd = -1;
	if (!pi_ensure_dir(dir, 0700, error))
		return NULL;
	file->path = g_build_filename(dir, "in.XXXXXX", NULL);
	file->fd = g_mkstemp_full(file->path, O_RDWR | O_CLOEXEC, 0600);
	if (file->fd < 0) {
		io_error(error, "cannot create", file->path);
		g_clear_pointer(&file->path, g_free);
		return NULL;
	}
	/* Ours while we live: the clean-up in other processes leaves it alone. */
	if (flock(file->fd, LOCK_EX | LOCK_NB) != 0) {
		io_error(error, "cannot lock", file->path);
		return NULL;
	}
	fs = g_mime_stream_fs_new(file->fd);
	g_mime_stream_fs_set_owner(GMIME_STREAM_FS(fs), FALSE);
	file->stream = g_mime_stream_filter_new(fs);
	g_object_unref(fs);
	file->checksum = g_mime_filter_checksum_new(G_CHECKSUM_SHA256);
	g_mime_stream_filter_add(GMIME_STREAM_FILTER(file->stream), file->checksum);
	return g_steal_pointer(&file);
}

gboolean
spool_file_write(spool_file_t *file, const void *data, gsize len, GError **error)
{
	g_return_val_if_fail(!file->finished, FALSE);
	if (len == 0)
		return TRUE;
	if (g_mime_stream_write(file->stream, data, len) != (gssize)len)
		return io_error(error, "cannot write", file->path);
	return TRUE;
}

GMimeStream *
spool_file_stream(spool_file_t *file)
{
	return g_object_ref(file->stream);
}

gboolean
spool_file_finish(spool_file_t *file, GError **error)
{
	struct stat st;

	if (file->finished)
		return TRUE;
	if (g_mime_stream_flush(file->stream) != 0)
		return io_error(error, "cannot flush", file->path);
	if (!file->store->defer_sync && fsync(file->fd) != 0) /* group.c syncs later */
		return io_error(error, "cannot sync", file->path);
	if (fstat(file->fd, &st) != 0)
		return io_error(error, "cannot stat", file->path);
	file->size = (gsize)st.st_size;
	file->sha256 = g_mime_filter_checksum_get_string(GMIME_FILTER_CHECKSUM(file->checksum));
	file->finished = TRUE;
	return TRUE;
}

const char *
spool_file_sha256(const spool_file_t *file)
{
	return file->sha256;
}

gsize
spool_file_size(const spool_file_t *file)
{
	return file->size;
}

const char *
spool_file_path(const spool_file_t *file)
{
	return file->path;
}

/* Encrypt the finished plaintext FILE into TARGET (through a locked
 * temporary file in SPOOL/tmp, fsynced, renamed into place). */
static gboolean
encrypt_into_place(spool_file_t *file, const char *target, const char *relative,
                   GError **error)
{
	g_autofree char *tmp = g_build_filename(file->store->spool, "tmp", "enc.XXXXXX", NULL);
	g_autofree char *dir = g_path_get_dirname(target);
	int in = -1, out = -1;
	gboolean ok = FALSE;

	in = open(file->path, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return io_error(error, "cannot reopen", file->path);
	out = g_mkstemp_full(tmp, O_RDWR | O_CLOEXEC, 0600);
	if (out < 0) {
		io_error(error, "cannot create", tmp);
		g_clear_pointer(&tmp, g_free);
		goto out;
	}
	if (flock(out, LOCK_EX | LOCK_NB) != 0) {
		io_error(error, "cannot lock", tmp);
		goto out;
	}
	if (!store_vault_encrypt_fd(file->store, in, file->sha256, out, relative, error))
		goto out;
	if (!file->store->defer_sync && fsync(out) != 0) { /* group.c syncs later */
		io_error(error, "cannot sync", tmp);
		goto out;
	}
	if (rename(tmp, target) != 0) {
		io_error(error, "cannot move into place", target);
		goto out;
	}
	g_clear_pointer(&tmp, g_free);
	ok = file->store->defer_sync || pi_fsync_dir(dir, error);
out:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	if (tmp != NULL)
		g_unlink(tmp);
	return ok;
}

char *
spool_file_keep(spool_file_t *file, const char *area, GError **error)
{
	g_autofree char *relative = NULL;
	g_autofree char *dir = NULL;
	g_autofree char *target = NULL;
	char prefix[3];

	g_return_val_if_fail(file->finished && file->path != NULL, NULL);
	if (file->lock_fd < 0 &&
	    (file->lock_fd = store_spool_lock(file->store, FALSE, error)) < 0)
		return NULL;
	prefix[0] = file->sha256[0];
	prefix[1] = file->sha256[1];
	prefix[2] = '\0';
	relative = g_build_filename(area, prefix, file->sha256, NULL);
	target = g_build_filename(file->store->spool, relative, NULL);
	dir = g_path_get_dirname(target);
	if (!pi_ensure_dir(dir, 0700, error))
		return NULL;
	/* Same name, same content: the copy in place will do (the spool lock
	 * keeps it there until our reference is committed). */
	if (!g_file_test(target, G_FILE_TEST_EXISTS) &&
	    !encrypt_into_place(file, target, relative, error))
		return NULL;
	g_unlink(file->path);
	g_clear_pointer(&file->path, g_free);
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
	g_clear_object(&file->stream);
	g_clear_object(&file->checksum);
	/* Unlink before closing: the lock on fd guards the name until then. */
	if (file->path != NULL)
		g_unlink(file->path);
	if (file->fd >= 0)
		close(file->fd);
	if (file->lock_fd >= 0)
		close(file->lock_fd);
	g_free(file->path);
	g_free(file->sha256);
	g_free(file);
}
