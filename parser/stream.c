/* stream.c — a read-only GMimeStream over a file that reads it 64 KiB at a
 * time with pread(2).
 *
 * GMime's parser asks its stream for about 4 KiB at a time, and
 * GMimeStreamFs turns each request into an lseek(2) and a read(2): some 300
 * system calls for a 600 KB message, which on a virtual machine cost more
 * than parsing it.  This stream serves those requests from a buffer filled
 * by one pread(2) per 64 KiB.  Substreams (GMime makes one per MIME part
 * when the stream persists) share the descriptor, each with a buffer of its
 * own allocated on first read; positions are absolute file offsets, as
 * in every GMimeStream.
 */
#include "parser/parser.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILE_STREAM_BUFFER (64u * 1024u)

/* The descriptor, shared by a stream and its substreams. */
typedef struct {
	int fd;
	gint refs;
} shared_fd_t;

static shared_fd_t *
shared_fd_ref(shared_fd_t *shared)
{
	g_atomic_int_inc(&shared->refs);
	return shared;
}

static void
shared_fd_unref(shared_fd_t *shared)
{
	if (shared != NULL && g_atomic_int_dec_and_test(&shared->refs)) {
		close(shared->fd);
		g_free(shared);
	}
}

#define PARSER_TYPE_FILE_STREAM (parser_file_stream_get_type())
G_DECLARE_FINAL_TYPE(ParserFileStream, parser_file_stream, PARSER, FILE_STREAM, GMimeStream)

struct _ParserFileStream {
	GMimeStream parent;
	shared_fd_t *shared; /* NULL once closed */
	char *buffer;        /* FILE_STREAM_BUFFER bytes, or NULL before the first read */
	gint64 buffer_start; /* file offset of buffer[0] */
	gsize buffer_len;    /* bytes valid in buffer */
	gboolean eof;        /* unbounded and read up to the end of the file */
};

G_DEFINE_TYPE(ParserFileStream, parser_file_stream, GMIME_TYPE_STREAM)

static void
file_stream_finalize(GObject *object)
{
	ParserFileStream *s = PARSER_FILE_STREAM(object);

	shared_fd_unref(s->shared);
	g_free(s->buffer);
	G_OBJECT_CLASS(parser_file_stream_parent_class)->finalize(object);
}

static ssize_t
pread_full(int fd, char *buf, size_t len, gint64 offset)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, buf + done, len - done, (off_t)(offset + (gint64)done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return done > 0 ? (ssize_t)done : -1;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static ssize_t
file_stream_read(GMimeStream *stream, char *buf, size_t len)
{
	ParserFileStream *s = PARSER_FILE_STREAM(stream);
	gint64 pos = stream->position;
	ssize_t n;

	if (s->shared == NULL) {
		errno = EBADF;
		return -1;
	}
	if (stream->bound_end != -1) {
		if (pos >= stream->bound_end)
			return 0;
		len = (size_t)MIN((gint64)len, stream->bound_end - pos);
	}
	if (len == 0)
		return 0;

	if (s->buffer == NULL || pos < s->buffer_start ||
	    pos >= s->buffer_start + (gint64)s->buffer_len) {
		/* A large request goes straight to the caller's buffer. */
		if (len >= FILE_STREAM_BUFFER) {
			n = pread_full(s->shared->fd, buf, len, pos);
			if (n < 0)
				return -1;
			if ((size_t)n < len)
				s->eof = TRUE;
			stream->position += n;
			return n;
		}
		if (s->buffer == NULL)
			s->buffer = g_malloc(FILE_STREAM_BUFFER);
		n = pread_full(s->shared->fd, s->buffer, FILE_STREAM_BUFFER, pos);
		if (n < 0)
			return -1;
		s->buffer_start = pos;
		s->buffer_len = (gsize)n;
		if (n == 0) {
			s->eof = TRUE;
			return 0;
		}
	}
	len = MIN(len, (size_t)(s->buffer_start + (gint64)s->buffer_len - pos));
	memcpy(buf, s->buffer + (pos - s->buffer_start), len);
	stream->position += (gint64)len;
	return (ssize_t)len;
}

static ssize_t
file_stream_write(GMimeStream *stream, const char *buf, size_t len)
{
	(void)stream;
	(void)buf;
	(void)len;
	errno = EBADF;
	return -1;
}

static int
file_stream_flush(GMimeStream *stream)
{
	(void)stream;
	return 0;
}

static int
file_stream_close(GMimeStream *stream)
{
	ParserFileStream *s = PARSER_FILE_STREAM(stream);

	g_clear_pointer(&s->shared, shared_fd_unref);
	return 0;
}

/* The end: the bound, or the file's size. */
static gint64
file_stream_end(ParserFileStream *s)
{
	GMimeStream *stream = GMIME_STREAM(s);
	struct stat st;

	if (stream->bound_end != -1)
		return stream->bound_end;
	if (s->shared == NULL || fstat(s->shared->fd, &st) != 0)
		return -1;
	return (gint64)st.st_size;
}

static gboolean
file_stream_eos(GMimeStream *stream)
{
	ParserFileStream *s = PARSER_FILE_STREAM(stream);

	if (s->shared == NULL)
		return TRUE;
	if (stream->bound_end == -1)
		return s->eof;
	return stream->position >= stream->bound_end;
}

static int
file_stream_reset(GMimeStream *stream)
{
	ParserFileStream *s = PARSER_FILE_STREAM(stream);

	if (s->shared == NULL) {
		errno = EBADF;
		return -1;
	}
	stream->position = stream->bound_start;
	s->eof = FALSE;
	return 0;
}

static gint64
file_stream_seek(GMimeStream *stream, gint64 offset, GMimeSeekWhence whence)
{
	ParserFileStream *s = PARSER_FILE_STREAM(stream);
	gint64 target, end;

	if (s->shared == NULL) {
		errno = EBADF;
		return -1;
	}
	switch (whence) {
	case GMIME_STREAM_SEEK_SET:
		target = offset;
		break;
	case GMIME_STREAM_SEEK_CUR:
		target = stream->position + offset;
		break;
	case GMIME_STREAM_SEEK_END:
		end = file_stream_end(s);
		if (end < 0)
			return -1;
		target = end + offset;
		break;
	default:
		errno = EINVAL;
		return -1;
	}
	if (target < stream->bound_start ||
	    (stream->bound_end != -1 && target > stream->bound_end)) {
		errno = EINVAL;
		return -1;
	}
	if (target != stream->position)
		s->eof = FALSE;
	stream->position = target;
	return target;
}

static gint64
file_stream_tell(GMimeStream *stream)
{
	return stream->position;
}

static gint64
file_stream_length(GMimeStream *stream)
{
	gint64 end = file_stream_end(PARSER_FILE_STREAM(stream));

	if (end < 0)
		return -1;
	return MAX(end - stream->bound_start, 0);
}

static GMimeStream *
stream_new(shared_fd_t *shared, gint64 start, gint64 end)
{
	ParserFileStream *s = g_object_new(PARSER_TYPE_FILE_STREAM, NULL);

	s->shared = shared;
	g_mime_stream_construct(GMIME_STREAM(s), start, end);
	return GMIME_STREAM(s);
}

static GMimeStream *
file_stream_substream(GMimeStream *stream, gint64 start, gint64 end)
{
	ParserFileStream *s = PARSER_FILE_STREAM(stream);

	if (s->shared == NULL)
		return NULL;
	return stream_new(shared_fd_ref(s->shared), start, end);
}

static void
parser_file_stream_class_init(ParserFileStreamClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GMimeStreamClass *stream_class = GMIME_STREAM_CLASS(klass);

	object_class->finalize = file_stream_finalize;
	stream_class->read = file_stream_read;
	stream_class->write = file_stream_write;
	stream_class->flush = file_stream_flush;
	stream_class->close = file_stream_close;
	stream_class->eos = file_stream_eos;
	stream_class->reset = file_stream_reset;
	stream_class->seek = file_stream_seek;
	stream_class->tell = file_stream_tell;
	stream_class->length = file_stream_length;
	stream_class->substream = file_stream_substream;
}

static void
parser_file_stream_init(ParserFileStream *s)
{
	(void)s;
}

GMimeStream *
parser_file_stream_new(int fd)
{
	shared_fd_t *shared;

	g_return_val_if_fail(fd >= 0, NULL);
	shared = g_new(shared_fd_t, 1);
	shared->fd = fd;
	shared->refs = 1;
	return stream_new(shared, 0, -1);
}
