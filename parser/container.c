/* container.c — what is inside an attachment that holds files: ZIP (and the
 * other archives libarchive reads as a stream: LHA, tar, and 7-Zip/RAR as
 * far as a stream allows), opened one level, and Outlook's TNEF
 * winmail.dat.  Each file inside is handed to the caller's
 * entry callbacks, which decode it into the same sink and checks as a MIME
 * attachment.  A password-protected entry is reported, never read.
 *
 * Both are read as a stream of decoded bytes (the part is decoded a second
 * time, through GMime's filter, as they are read), so memory does not grow
 * with their size.
 */
#include "parser/parser-internal.h"

#include <archive.h>
#include <archive_entry.h>
#include <locale.h>
#include <string.h>

/* ---- archives ------------------------------------------------------------- */

typedef struct {
	GMimeStream *source;
	char buf[65536];
	gsize total; /* compressed bytes read */
} reader_t;

static la_ssize_t
archive_read_cb(struct archive *a, void *user_data, const void **buffer)
{
	reader_t *r = user_data;
	ssize_t n = g_mime_stream_read(r->source, r->buf, sizeof r->buf);

	(void)a;
	*buffer = r->buf;
	if (n < 0)
		return 0; /* GMime's filter streams report their end as an error */
	r->total += (gsize)n;
	return n;
}

/* An entry's name as UTF-8: libarchive's UTF-8 form when the archive says
 * it is Unicode, else the raw bytes through parser_charset_decode()
 * (Windows writes CP932 names without saying so). */
static char *
entry_name(struct archive *a, struct archive_entry *entry)
{
	const char *raw = archive_entry_pathname(entry);
	const char *utf8;
	g_autofree char *decoded = NULL;
	char *clean;

	(void)a;
	if (raw != NULL)
		decoded = parser_charset_decode(raw, strlen(raw), NULL, NULL, NULL);
	else if ((utf8 = archive_entry_pathname_utf8(entry)) != NULL)
		decoded = g_strdup(utf8);
	if (decoded == NULL)
		return NULL;
	clean = parser_utf8_clean(decoded, -1, FALSE);
	g_strstrip(clean);
	{
		const char *slash = strrchr(clean, '/');
		const char *back = strrchr(clean, '\\');
		const char *base = MAX(slash, back);
		char *name = g_strdup(base ? base + 1 : clean);
		g_free(clean);
		if (*name == '\0') {
			g_free(name);
			return NULL;
		}
		return name;
	}
}

char *
parser_archive_each(GMimeStream *source, const parser_entry_cbs_t *cbs, gpointer user_data,
                    gboolean *encrypted_out)
{
	struct archive *a = archive_read_new();
	struct archive_entry *entry;
	reader_t *r = g_new0(reader_t, 1);
	char *failure = NULL;
	guint entries = 0;
	gsize unpacked = 0;
	int rc;

	/* libarchive converts names to the locale's charset: read them in a
	 * UTF-8 locale (this thread only), so UTF-8 names come through and
	 * unflagged ones (CP932 from Windows) stay raw for entry_name() */
	locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	locale_t previous = utf8 != (locale_t)0 ? uselocale(utf8) : (locale_t)0;

	*encrypted_out = FALSE;
	r->source = source;
	archive_read_support_format_zip(a);
	archive_read_support_format_lha(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_7zip(a);
	archive_read_support_format_rar(a);
	archive_read_support_format_rar5(a);
	if (archive_read_open(a, r, NULL, archive_read_cb, NULL) != ARCHIVE_OK) {
		failure = g_strdup_printf("the archive could not be opened: %s",
		                          archive_error_string(a) ? archive_error_string(a)
		                                                  : "unknown format");
		goto out;
	}
	while ((rc = archive_read_next_header(a, &entry)) == ARCHIVE_OK || rc == ARCHIVE_WARN) {
		g_autofree char *name = NULL;
		gboolean encrypted;
		GMimeStream *out;
		gboolean keep_going = TRUE;

		if (archive_entry_filetype(entry) != AE_IFREG)
			continue;
		if (++entries > cbs->max_entries) {
			failure = g_strdup_printf("more than %u files in the archive: the rest was "
			                          "not read",
			                          cbs->max_entries);
			goto out;
		}
		name = entry_name(a, entry);
		encrypted = archive_entry_is_encrypted(entry) != 0;
		*encrypted_out |= encrypted;
		out = cbs->open(user_data, name, encrypted);
		if (!encrypted) {
			const void *buf;
			size_t size;
			la_int64_t offset;
			while ((rc = archive_read_data_block(a, &buf, &size, &offset)) ==
			       ARCHIVE_OK) {
				unpacked += size;
				if (unpacked > cbs->max_unpacked) {
					failure = g_strdup_printf(
					    "the archive unpacks to more than %" G_GSIZE_FORMAT
					    " bytes: the rest was not read",
					    cbs->max_unpacked);
					break;
				}
				if (out != NULL && size > 0 &&
				    g_mime_stream_write(out, buf, size) < 0)
					break; /* the entry's own limit: the callback says so */
			}
			if (rc != ARCHIVE_OK && rc != ARCHIVE_EOF && failure == NULL) {
				const char *why = archive_error_string(a);
				if (why != NULL && strstr(why, "ncrypt") != NULL) {
					encrypted = TRUE;
					*encrypted_out = TRUE;
				} else {
					failure = g_strdup_printf("a file in the archive could not "
					                          "be read: %s",
					                          why ? why : "damaged");
				}
			}
		}
		keep_going = cbs->close(user_data, out, encrypted, NULL);
		if (!keep_going || failure != NULL)
			goto out;
		if (rc == ARCHIVE_FATAL)
			break;
	}
	if (rc == ARCHIVE_FATAL && failure == NULL) {
		const char *why = archive_error_string(a);
		/* 7-Zip and RAR with encrypted headers say so only here */
		if (why != NULL &&
		    (strstr(why, "ncrypt") != NULL || strstr(why, "assword") != NULL))
			*encrypted_out = TRUE;
		else
			failure =
			    g_strdup_printf("the archive is damaged: %s", why ? why : "unreadable");
	}
	if (archive_read_has_encrypted_entries(a) > 0)
		*encrypted_out = TRUE;
out:
	archive_read_free(a);
	g_free(r);
	if (utf8 != (locale_t)0) {
		uselocale(previous);
		freelocale(utf8);
	}
	if (failure != NULL) {
		char *clean = parser_utf8_clean(failure, -1, FALSE);
		g_free(failure);
		return clean;
	}
	return NULL;
}

/* ---- TNEF (MS-OXTNEF) --------------------------------------------------------
 *
 * Read here rather than with libytnef: libytnef prints diagnostics to
 * stdout on damaged input (which would corrupt `parse --json` and the
 * daemon's output) and holds the whole file in memory.  The format is a
 * signature, a key, then attributes (level, id, length, data, checksum);
 * an attachment starts with attAttachRendData, its bytes are
 * attAttachData (streamed to the entry, never held whole) and its long
 * name is PR_ATTACH_LONG_FILENAME in the MAPI properties of attAttachment.
 */

#define TNEF_SIGNATURE 0x223e9f78u
#define ATT_ATTACH_REND_DATA 0x00069002u
#define ATT_ATTACH_TITLE 0x00018010u
#define ATT_ATTACH_DATA 0x0006800fu
#define ATT_ATTACHMENT 0x00069005u
#define TNEF_MAPI_MAX (1u << 20)

/* Read exactly N bytes; FALSE at the end of the stream or on an error. */
static gboolean
read_exact(GMimeStream *s, void *buf, gsize n)
{
	char *p = buf;

	while (n > 0) {
		ssize_t got = g_mime_stream_read(s, p, n);
		if (got <= 0)
			return FALSE;
		p += got;
		n -= (gsize)got;
	}
	return TRUE;
}

static guint32
le32(const guint8 *p)
{
	return (guint32)p[0] | (guint32)p[1] << 8 | (guint32)p[2] << 16 | (guint32)p[3] << 24;
}

static guint16
le16(const guint8 *p)
{
	return (guint16)(p[0] | p[1] << 8);
}

/* Size of one fixed-size MAPI value (with padding), 0 for variable ones,
 * -1 for a type this reader does not know. */
static int
mapi_fixed_size(guint16 type)
{
	switch (type & 0x0fff) {
	case 0x0001: /* PT_NULL */
	case 0x0002: /* PT_SHORT, padded */
	case 0x0003: /* PT_LONG */
	case 0x0004: /* PT_FLOAT */
	case 0x000a: /* PT_ERROR */
	case 0x000b: /* PT_BOOLEAN, padded */
		return 4;
	case 0x0005: /* PT_DOUBLE */
	case 0x0006: /* PT_CURRENCY */
	case 0x0007: /* PT_APPTIME */
	case 0x0014: /* PT_I8 */
	case 0x0040: /* PT_SYSTIME */
		return 8;
	case 0x0048: /* PT_CLSID */
		return 16;
	case 0x000d: /* PT_OBJECT */
	case 0x001e: /* PT_STRING8 */
	case 0x001f: /* PT_UNICODE */
	case 0x0102: /* PT_BINARY */
		return 0;
	default:
		return -1;
	}
}

/* PR_ATTACH_LONG_FILENAME from an attAttachment block, as UTF-8; NULL when
 * it is not there or the block is damaged. */
static char *
mapi_long_filename(const guint8 *p, gsize len)
{
	const guint8 *end = p + len;
	guint32 count;

	if (len < 4)
		return NULL;
	count = le32(p);
	p += 4;
	for (guint32 i = 0; i < count && (gsize)(end - p) >= 4; i++) {
		guint16 type = le16(p), id = le16(p + 2);
		guint32 values = 1;
		int fixed = mapi_fixed_size(type);
		p += 4;
		if (id >= 0x8000) { /* a named property: GUID, kind, id or name */
			guint32 kind;
			if ((gsize)(end - p) < 20)
				return NULL;
			kind = le32(p + 16);
			p += 20;
			if (kind == 0) {
				if ((gsize)(end - p) < 4)
					return NULL;
				p += 4;
			} else {
				guint32 n;
				if ((gsize)(end - p) < 4)
					return NULL;
				n = le32(p);
				p += 4;
				n = (n + 3u) & ~3u;
				if (n < 4 && n != 0)
					return NULL;
				if ((gsize)(end - p) < n)
					return NULL;
				p += n;
			}
		}
		if (fixed < 0)
			return NULL;
		if ((type & 0x1000) || fixed == 0) { /* multi-valued or variable: a count */
			if ((gsize)(end - p) < 4)
				return NULL;
			values = le32(p);
			p += 4;
		}
		for (guint32 v = 0; v < values; v++) {
			if (fixed > 0) {
				if ((gsize)(end - p) < (gsize)fixed)
					return NULL;
				p += fixed;
				continue;
			} else {
				guint32 n, padded;
				if ((gsize)(end - p) < 4)
					return NULL;
				n = le32(p);
				p += 4;
				padded = n > G_MAXUINT32 - 3 ? n : (n + 3u) & ~3u;
				if ((gsize)(end - p) < padded)
					return NULL;
				if (id == 0x3707 && v == 0 && n > 0) {
					g_autofree char *raw = NULL;
					if ((type & 0x0fff) == 0x001f)
						raw = g_convert((const char *)p, (gssize)(n & ~1u),
						                "UTF-8", "UTF-16LE", NULL, NULL,
						                NULL);
					else if ((type & 0x0fff) == 0x001e)
						raw = parser_charset_decode(
						    (const char *)p, strnlen((const char *)p, n),
						    NULL, NULL, NULL);
					if (raw != NULL) {
						char *clean = parser_utf8_clean(raw, -1, FALSE);
						g_strstrip(clean);
						if (*clean != '\0')
							return clean;
						g_free(clean);
					}
				}
				p += padded;
			}
		}
	}
	return NULL;
}

/* Keep the first reason a container could not be read; free later ones. */
static void
keep_first(char **failure, char *reason)
{
	if (*failure == NULL)
		*failure = reason;
	else
		g_free(reason);
}

char *
parser_tnef_each(GMimeStream *source, const parser_entry_cbs_t *cbs, gpointer user_data)
{
	guint8 head[6];
	guint entries = 0;
	GMimeStream *out = NULL; /* the current attachment's stream */
	char *title = NULL;      /* its attAttachTitle (8.3 name) */
	char *failure = NULL;
	gboolean have_data = FALSE, stop = FALSE;

	if (!read_exact(source, head, sizeof head) || le32(head) != TNEF_SIGNATURE)
		return g_strdup("not a TNEF stream");
	while (!stop) {
		guint8 attr[9];
		guint32 id, length;
		guint16 sum = 0, checksum;
		guint8 trailer[2];

		if (!read_exact(source, attr, sizeof attr))
			break; /* the end */
		id = le32(attr + 1);
		length = le32(attr + 5);
		if (id == ATT_ATTACH_REND_DATA && attr[0] == 2) {
			/* a new attachment: close the previous one */
			if (out != NULL) {
				stop = !cbs->close(user_data, out, FALSE, NULL);
				out = NULL;
			}
			g_clear_pointer(&title, g_free);
			have_data = FALSE;
		}
		if (id == ATT_ATTACH_DATA && out == NULL && !have_data) {
			if (++entries > cbs->max_entries) {
				keep_first(
				    &failure,
				    g_strdup_printf("more than %u files in the winmail.dat: the "
				                    "rest was not read",
				                    cbs->max_entries));
				break;
			}
			out = cbs->open(user_data, title, FALSE);
			have_data = TRUE;
		}
		if ((id == ATT_ATTACH_DATA && out != NULL) ||
		    ((id == ATT_ATTACH_TITLE || id == ATT_ATTACHMENT) && length <= TNEF_MAPI_MAX)) {
			/* read it: stream the data, keep the small blocks */
			GByteArray *block =
			    id == ATT_ATTACH_DATA ? NULL : g_byte_array_sized_new(length);
			guint8 buf[65536];
			guint32 left = length;
			while (left > 0) {
				gsize n = MIN(left, sizeof buf);
				if (!read_exact(source, buf, n))
					break;
				for (gsize k = 0; k < n; k++)
					sum = (guint16)(sum + buf[k]);
				if (block != NULL)
					g_byte_array_append(block, buf, (guint)n);
				else if (out != NULL)
					g_mime_stream_write(out, (const char *)buf, n);
				left -= (guint32)n;
			}
			if (block != NULL && left == 0) {
				if (id == ATT_ATTACH_TITLE) {
					g_autofree char *raw = parser_charset_decode(
					    (const char *)block->data,
					    strnlen((const char *)block->data, block->len), NULL,
					    NULL, NULL);
					g_free(title);
					title = parser_utf8_clean(raw, -1, FALSE);
				} else if (out != NULL) {
					/* attAttachment follows the data: the long name */
					g_autofree char *name =
					    mapi_long_filename(block->data, block->len);
					if (name != NULL) {
						stop = !cbs->close(user_data, out, FALSE, name);
						out = NULL;
					}
				}
			}
			if (block != NULL)
				g_byte_array_unref(block);
			if (left > 0) {
				keep_first(&failure, g_strdup("the winmail.dat is cut short"));
				break;
			}
		} else {
			/* an attribute we do not need: skip it */
			guint8 buf[65536];
			guint32 left = length;
			while (left > 0) {
				gsize n = MIN(left, sizeof buf);
				if (!read_exact(source, buf, n))
					break;
				for (gsize k = 0; k < n; k++)
					sum = (guint16)(sum + buf[k]);
				left -= (guint32)n;
			}
			if (left > 0) {
				keep_first(&failure, g_strdup("the winmail.dat is cut short"));
				break;
			}
		}
		if (!read_exact(source, trailer, sizeof trailer)) {
			keep_first(&failure, g_strdup("the winmail.dat is cut short"));
			break;
		}
		checksum = le16(trailer);
		if (checksum != sum)
			keep_first(&failure,
			           g_strdup("the winmail.dat is damaged (checksum mismatch)"));
	}
	if (out != NULL)
		cbs->close(user_data, out, FALSE, NULL);
	g_free(title);
	return failure;
}
