/* sniff.c — each attachment is decoded once, through GMime's decoding
 * filter, into a ParserDigestStream that feeds the caller's sink, a SHA-256
 * and the buffer libmagic reads; then the bytes (never the name or the
 * declared type) say what the attachment is. */
#include "parser/parser-internal.h"

#include <errno.h>
#include <gnutls/crypto.h>
#include <string.h>

/* ---- ParserDigestStream ------------------------------------------------------ */

struct _ParserDigestStream {
	GMimeStream parent;
	GMimeStream *sink;       /* may be NULL */
	gnutls_hash_hd_t sha256; /* GnuTLS: uses the CPU's SHA extensions */
	char *hex;               /* the digest, once asked for */
	GByteArray *head;
	gsize size;
	gsize limit;
	gboolean limit_hit;
	int sink_errno;
};

typedef struct {
	GMimeStreamClass parent_class;
} ParserDigestStreamClass;

GType parser_digest_stream_get_type(void);
G_DEFINE_TYPE(ParserDigestStream, parser_digest_stream, GMIME_TYPE_STREAM)

#define DIGEST(s)                                                                                  \
	G_TYPE_CHECK_INSTANCE_CAST((s), parser_digest_stream_get_type(), ParserDigestStream)

static gboolean
pass(ParserDigestStream *ds, const char *buf, gsize len)
{
	if (ds->sha256 != NULL && len > 0)
		gnutls_hash(ds->sha256, buf, len);
	if (ds->head->len < PARSER_SNIFF_BYTES) {
		gsize room = PARSER_SNIFF_BYTES - ds->head->len;
		g_byte_array_append(ds->head, (const guint8 *)buf, (guint)MIN(room, len));
	}
	ds->size += len;
	while (ds->sink != NULL && len > 0) {
		ssize_t n = g_mime_stream_write(ds->sink, buf, len);
		if (n <= 0) {
			ds->sink_errno = errno != 0 ? errno : EIO;
			return FALSE;
		}
		buf += n;
		len -= (gsize)n;
	}
	return TRUE;
}

static ssize_t
digest_write(GMimeStream *stream, const char *buf, size_t len)
{
	ParserDigestStream *ds = DIGEST(stream);
	gsize take = len;

	if (ds->limit_hit || ds->sink_errno != 0)
		return -1;
	if (ds->size + len > ds->limit) {
		take = ds->limit - ds->size;
		ds->limit_hit = TRUE;
	}
	errno = 0;
	if (!pass(ds, buf, take) || ds->limit_hit)
		return -1; /* stops GMime's decoding loop */
	stream->position += (gint64)len;
	return (ssize_t)len;
}

static ssize_t
digest_read(GMimeStream *stream, char *buf, size_t len)
{
	(void)stream, (void)buf, (void)len;
	return -1;
}

static int
digest_flush(GMimeStream *stream)
{
	ParserDigestStream *ds = DIGEST(stream);
	return ds->sink ? g_mime_stream_flush(ds->sink) : 0;
}

static int
digest_close(GMimeStream *stream)
{
	(void)stream;
	return 0;
}

static gboolean
digest_eos(GMimeStream *stream)
{
	(void)stream;
	return FALSE;
}

static int
digest_reset(GMimeStream *stream)
{
	(void)stream;
	return 0;
}

static gint64
digest_seek(GMimeStream *stream, gint64 offset, GMimeSeekWhence whence)
{
	(void)stream, (void)offset, (void)whence;
	return -1;
}

static gint64
digest_tell(GMimeStream *stream)
{
	return stream->position;
}

static gint64
digest_length(GMimeStream *stream)
{
	return (gint64)DIGEST(stream)->size;
}

static GMimeStream *
digest_substream(GMimeStream *stream, gint64 start, gint64 end)
{
	(void)stream, (void)start, (void)end;
	return NULL;
}

static void
parser_digest_stream_finalize(GObject *object)
{
	ParserDigestStream *ds = DIGEST(object);

	g_clear_object(&ds->sink);
	if (ds->sha256 != NULL)
		gnutls_hash_deinit(ds->sha256, NULL);
	g_free(ds->hex);
	g_byte_array_unref(ds->head);
	G_OBJECT_CLASS(parser_digest_stream_parent_class)->finalize(object);
}

static void
parser_digest_stream_class_init(ParserDigestStreamClass *klass)
{
	GMimeStreamClass *sc = GMIME_STREAM_CLASS(klass);

	G_OBJECT_CLASS(klass)->finalize = parser_digest_stream_finalize;
	sc->read = digest_read;
	sc->write = digest_write;
	sc->flush = digest_flush;
	sc->close = digest_close;
	sc->eos = digest_eos;
	sc->reset = digest_reset;
	sc->seek = digest_seek;
	sc->tell = digest_tell;
	sc->length = digest_length;
	sc->substream = digest_substream;
}

static void
parser_digest_stream_init(ParserDigestStream *ds)
{
	if (gnutls_hash_init(&ds->sha256, GNUTLS_DIG_SHA256) < 0)
		ds->sha256 = NULL; /* cannot happen with a working GnuTLS */
	ds->head = g_byte_array_sized_new(4096);
}

GMimeStream *
parser_digest_stream_new(GMimeStream *sink, gsize limit)
{
	ParserDigestStream *ds = g_object_new(parser_digest_stream_get_type(), NULL);

	g_mime_stream_construct(GMIME_STREAM(ds), 0, -1);
	ds->sink = sink ? g_object_ref(sink) : NULL;
	ds->limit = limit;
	return GMIME_STREAM(ds);
}

gsize
parser_digest_stream_size(GMimeStream *stream)
{
	return DIGEST(stream)->size;
}

gboolean
parser_digest_stream_limit_hit(GMimeStream *stream)
{
	return DIGEST(stream)->limit_hit;
}

int
parser_digest_stream_sink_errno(GMimeStream *stream)
{
	return DIGEST(stream)->sink_errno;
}

char *
parser_digest_stream_sha256(GMimeStream *stream)
{
	ParserDigestStream *ds = DIGEST(stream);

	if (ds->hex == NULL) {
		guint8 digest[32];
		if (ds->sha256 == NULL)
			return g_strdup("");
		gnutls_hash_output(ds->sha256, digest);
		ds->hex = g_malloc(65);
		for (int i = 0; i < 32; i++)
			g_snprintf(ds->hex + 2 * i, 3, "%02x", digest[i]);
		gnutls_hash_deinit(ds->sha256, NULL);
		ds->sha256 = NULL;
	}
	return g_strdup(ds->hex);
}

const guint8 *
parser_digest_stream_head(GMimeStream *stream, gsize *len_out)
{
	ParserDigestStream *ds = DIGEST(stream);
	*len_out = ds->head->len;
	return ds->head->data;
}

/* ---- what the bytes are ------------------------------------------------------ */

char *
parser_sniff_mime_type(magic_t magic, const guint8 *data, gsize len)
{
	const char *type = magic ? magic_buffer(magic, data, len) : NULL;

	if (type == NULL || *type == '\0' || strchr(type, '/') == NULL)
		return g_strdup("application/octet-stream");
	return g_ascii_strdown(type, -1);
}

static gboolean
is_executable(const char *type)
{
	static const char *const scripts[] = {"text/x-shellscript",
	                                      "text/x-sh",
	                                      "application/x-sh",
	                                      "application/x-shellscript",
	                                      "text/x-python",
	                                      "text/x-script.python",
	                                      "application/x-python-code",
	                                      "text/x-perl",
	                                      "text/x-ruby",
	                                      "text/x-php",
	                                      "application/x-php",
	                                      "text/x-msdos-batch",
	                                      "application/x-bat",
	                                      "application/javascript",
	                                      "text/javascript",
	                                      "application/x-javascript",
	                                      "text/x-tcl",
	                                      "text/x-lua",
	                                      "text/x-awk",
	                                      "application/x-java-applet",
	                                      "application/java-archive",
	                                      "application/x-java-archive",
	                                      "application/x-ms-shortcut",
	                                      "application/hta",
	                                      "application/x-msi",
	                                      "text/x-vbscript",
	                                      "application/x-powershell",
	                                      NULL};

	return strstr(type, "executable") != NULL || strstr(type, "x-sharedlib") != NULL ||
	       strstr(type, "x-dosexec") != NULL || strstr(type, "x-mach-binary") != NULL ||
	       strstr(type, "x-msdownload") != NULL || strcmp(type, "application/x-elf") == 0 ||
	       strcmp(type, "application/x-object") == 0 || g_strv_contains(scripts, type);
}

static gboolean
is_id_type(const char *type)
{
	static const char *const types[] = {"image/jpeg",
	                                    "image/png",
	                                    "image/heic",
	                                    "image/heif",
	                                    "image/heic-sequence",
	                                    "image/heif-sequence",
	                                    "application/pdf",
	                                    "image/tiff",
	                                    "image/webp",
	                                    "image/gif",
	                                    NULL};
	return g_strv_contains(types, type);
}

/* Does the name or the declared type claim an image or a PDF? */
static gboolean
claims_document(const parser_attachment_t *a)
{
	static const char *const exts[] = {"jpg",  "jpeg", "jpe",  "jfif", "png",  "gif", "bmp",
	                                   "heic", "heif", "webp", "tif",  "tiff", "pdf", NULL};
	if (a->declared_type != NULL && (g_str_has_prefix(a->declared_type, "image/") ||
	                                 strcmp(a->declared_type, "application/pdf") == 0))
		return TRUE;
	if (a->filename != NULL) {
		const char *dot = strrchr(a->filename, '.');
		g_autofree char *ext = dot ? g_ascii_strdown(dot + 1, -1) : NULL;
		if (ext != NULL && g_strv_contains(exts, ext))
			return TRUE;
	}
	return FALSE;
}

/* Below this, an image cannot be a legible identity document. */
#define TINY_IMAGE_BYTES 2048

void
parser_sniff_classify(parser_attachment_t *a, gsize signature_image_bytes, gboolean truncated)
{
	const char *type = a->content_type ? a->content_type : "application/octet-stream";
	gboolean image = g_str_has_prefix(type, "image/");

	g_clear_pointer(&a->reason, g_free);
	a->kind = ATTACHMENT_OTHER;
	if (is_executable(type)) {
		a->kind = ATTACHMENT_REJECTED;
		if (claims_document(a))
			a->reason =
			    g_strdup_printf("executable disguised as a document: content is %s, "
			                    "declared %s",
			                    type, a->declared_type ? a->declared_type : "nothing");
		else
			a->reason = g_strdup_printf("executable content (%s)", type);
	} else if (truncated) {
		a->reason = g_strdup_printf("not read to the end: only the first %" G_GSIZE_FORMAT
		                            " bytes were decoded",
		                            a->size);
	} else if (is_id_type(type)) {
		if (image && a->size < TINY_IMAGE_BYTES)
			a->reason = g_strdup_printf("image of %" G_GSIZE_FORMAT
			                            " bytes, too small for an identity document",
			                            a->size);
		else if (image && a->is_inline && a->size < signature_image_bytes)
			a->reason = g_strdup_printf("inline image of %" G_GSIZE_FORMAT
			                            " bytes: signature or logo",
			                            a->size);
		else
			a->kind = ATTACHMENT_ID_DOCUMENT;
	} else if (image) {
		a->reason = g_strdup_printf("%s is not an identity-document format", type);
	} else if (claims_document(a)) {
		a->reason = g_strdup_printf(
		    "named or declared as an image or PDF, but the content is %s", type);
	}
}

/* ---- office documents and containers ------------------------------------------- */

static gboolean
is_office(const char *type)
{
	static const char *const types[] = {"application/msword",
	                                    "application/vnd.ms-excel",
	                                    "application/vnd.ms-powerpoint",
	                                    "application/vnd.ms-office",
	                                    "application/x-ole-storage",
	                                    "application/cdfv2",
	                                    "application/vnd.ms-outlook",
	                                    NULL};
	return g_strv_contains(types, type) ||
	       g_str_has_prefix(type, "application/vnd.openxmlformats-officedocument.") ||
	       g_str_has_prefix(type, "application/vnd.ms-word.") ||
	       g_str_has_prefix(type, "application/vnd.ms-excel.") ||
	       g_str_has_prefix(type, "application/vnd.ms-powerpoint.") ||
	       g_str_has_prefix(type, "application/vnd.oasis.opendocument.");
}

static gboolean
contains(const guint8 *hay, gsize n, const char *needle, gsize m)
{
	return m <= n && memmem(hay, n, needle, m) != NULL;
}

char *
parser_sniff_office_risk(const parser_attachment_t *a, const guint8 *head, gsize head_len)
{
	static const char vba_utf16[] = "_\0V\0B\0A\0_\0P\0R\0O\0J\0E\0C\0T\0";
	static const char macros_utf16[] = "M\0a\0c\0r\0o\0s\0";
	const char *type = a->content_type ? a->content_type : "";
	gboolean ooxml_zip = strcmp(type, "application/zip") == 0 &&
	                     contains(head, head_len, "[Content_Types].xml", 19);

	if (!is_office(type) && !ooxml_zip)
		return NULL;
	if (strstr(type, "macroenabled") != NULL ||
	    contains(head, head_len, "vbaProject.bin", 14) ||
	    contains(head, head_len, vba_utf16, sizeof vba_utf16 - 1) ||
	    contains(head, head_len, macros_utf16, sizeof macros_utf16 - 1) ||
	    contains(head, head_len, "Basic/script-lc.xml", 19))
		return g_strdup_printf("office file with macros (%s)", type);
	if (claims_document(a))
		return g_strdup_printf("office document disguised as a document image: content is "
		                       "%s, declared %s",
		                       type, a->declared_type ? a->declared_type : "nothing");
	return NULL;
}

const char *
parser_sniff_container(const parser_attachment_t *a)
{
	static const char *const archives[] = {"application/zip",
	                                       "application/x-zip",
	                                       "application/x-zip-compressed",
	                                       "application/x-lha",
	                                       "application/x-lzh-compressed",
	                                       "application/x-tar",
	                                       "application/x-7z-compressed",
	                                       "application/x-rar",
	                                       "application/vnd.rar",
	                                       "application/x-rar-compressed",
	                                       NULL};
	const char *type = a->content_type ? a->content_type : "";

	if (g_strv_contains(archives, type))
		return "zip";
	if (strcmp(type, "application/vnd.ms-tnef") == 0 ||
	    (strcmp(type, "application/octet-stream") == 0 && a->declared_type != NULL &&
	     (strcmp(a->declared_type, "application/ms-tnef") == 0 ||
	      strcmp(a->declared_type, "application/vnd.ms-tnef") == 0)))
		return "tnef";
	return NULL;
}
