/* spool.c — content-addressed files under the spool folder.
 *
 *   SPOOL/tmp/                 files being written (removed unless kept)
 *   SPOOL/messages/ab/abcd…    raw messages, named by SHA-256
 *   SPOOL/documents/ab/abcd…   ID documents, named by SHA-256
 *
 * Files are 0600, folders 0700; names never come from the sender.
 * Everything written goes through one GMime stream with a checksum filter,
 * so the SHA-256 is known when the file is finished without reading it again.
 */
#include "store/store-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

struct spool_file {
	store_t *store;
	char *path;        /* temporary path, then NULL once kept */
	int fd;
	GMimeStream *stream; /* filter(fs(fd)) with the checksum filter */
	GMimeFilter *checksum;
	gboolean finished;
	char *sha256;
	gsize size;
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
	if (!pi_ensure_dir(dir, 0700, error))
		return NULL;
	file->path = g_build_filename(dir, "in.XXXXXX", NULL);
	file->fd = g_mkstemp_full(file->path, O_RDWR | O_CLOEXEC, 0600);
	if (file->fd < 0) {
		io_error(error, "cannot create", file->path);
		g_clear_pointer(&file->path, g_free);
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
	if (fsync(file->fd) != 0)
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

char *
spool_file_keep(spool_file_t *file, const char *area, GError **error)
{
	g_autofree char *relative = NULL;
	g_autofree char *dir = NULL;
	g_autofree char *target = NULL;
	char prefix[3];

	g_return_val_if_fail(file->finished && file->path != NULL, NULL);
	prefix[0] = file->sha256[0];
	prefix[1] = file->sha256[1];
	prefix[2] = '\0';
	relative = g_build_filename(area, prefix, file->sha256, NULL);
	target = g_build_filename(file->store->spool, relative, NULL);
	dir = g_path_get_dirname(target);
	if (!pi_ensure_dir(dir, 0700, error))
		return NULL;
	if (g_file_test(target, G_FILE_TEST_EXISTS)) {
		/* Same name, same content: the copy we have is not needed. */
		g_unlink(file->path);
	} else {
		if (rename(file->path, target) != 0) {
			io_error(error, "cannot move into place", target);
			return NULL;
		}
		if (!pi_fsync_dir(dir, error))
			return NULL;
	}
	g_clear_pointer(&file->path, g_free);
	return g_steal_pointer(&relative);
}

void
spool_file_free(spool_file_t *file)
{
	if (file == NULL)
		return;
	g_clear_object(&file->stream);
	g_clear_object(&file->checksum);
	if (file->fd >= 0)
		close(file->fd);
	if (file->path != NULL)
		g_unlink(file->path);
	g_free(file->path);
	g_free(file->sha256);
	g_free(file);
}
