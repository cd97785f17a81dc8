/* vault.c — encryption at rest for every file the spool keeps (identity
 * documents and raw messages), with libsodium's secretstream
 * (XChaCha20-Poly1305), streamed in chunks so no file is ever whole in memory.
 *
 * A kept file is:
 *
 *   "PIVAULT1"             8 bytes, format and version
 *   key id                 8 bytes, BLAKE2b of the key (names the key, reveals nothing)
 *   secretstream header   24 bytes
 *   chunks                 each 64 KiB of plaintext + 17 bytes; the last one
 *                          (possibly empty) carries the FINAL tag
 *
 * Every chunk is authenticated together with the first 16 bytes and the
 * file's SHA-256 (its name), so a damaged, truncated, extended, or renamed
 * file fails to decrypt instead of yielding wrong bytes.  The plaintext's
 * SHA-256 is checked again at the end of a full read.
 *
 * The key is 32 random bytes kept as 64 hexadecimal digits in the key file
 * ([store] key_file, default spool.key beside the database), mode 0600,
 * created on the first run.  The program refuses to start when the key file
 * is missing while encrypted files exist, when others may read it, or when
 * it is not the key the spool was encrypted with.
 */
#include "store/store-private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sodium.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

G_STATIC_ASSERT(KEY_BYTES == 32);

/* A spool area: a top-level folder of kept files ("documents", "messages",
 * or another one a caller of spool_file_keep() names), never "tmp". */
gboolean
vault_is_area(const char *name)
{
	if (name == NULL || *name == '\0' || strcmp(name, "tmp") == 0)
		return FALSE;
	for (const char *c = name; *c; c++) {
		if (!g_ascii_islower(*c) && *c != '_' && !g_ascii_isdigit(*c))
			return FALSE;
	}
	return TRUE;
}

gboolean
vault_io_error(GError **error, const char *what, const char *path)
{
	int saved = errno;

	g_set_error(error, STORE_ERROR, PI_ERROR_FATAL, "spool: %s %s: %s", what, path,
	            g_strerror(saved));
	return FALSE;
}

/* Read up to LEN bytes (fewer only at end of file). */
gssize
vault_read_full(int fd, void *buffer, gsize len)
{
	gsize got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)buffer + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (gsize)n;
	}
	return (gssize)got;
}

gboolean
vault_write_full(int fd, const void *buffer, gsize len)
{
	const char *p = buffer;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return FALSE;
		p += n;
		len -= (gsize)n;
	}
	return TRUE;
}

void
vault_key_id_of(const unsigned char *key, unsigned char id_out[STORE_VAULT_KEY_ID_LEN])
{
	static const char label[] = "privacy-inbox spool key id";
	unsigned char hash[crypto_generichash_BYTES_MIN];

	crypto_generichash(hash, sizeof(hash), (const unsigned char *)label, sizeof(label) - 1, key,
	                   KEY_BYTES);
	memcpy(id_out, hash, STORE_VAULT_KEY_ID_LEN);
}

char *
vault_key_id_hex(const unsigned char id[STORE_VAULT_KEY_ID_LEN])
{
	char hex[STORE_VAULT_KEY_ID_LEN * 2 + 1];

	return g_strdup(sodium_bin2hex(hex, sizeof(hex), id, STORE_VAULT_KEY_ID_LEN));
}

char *
store_vault_key_id(store_t *store)
{
	return vault_key_id_hex(store->key_id);
}

/* The associated data of every chunk: magic, key id and the raw SHA-256
 * named by SHA256_HEX.  FALSE when SHA256_HEX is not 64 hex digits. */
static gboolean
make_ad(const unsigned char id[STORE_VAULT_KEY_ID_LEN], const char *sha256_hex,
        unsigned char ad_out[VAULT_AD_LEN])
{
	size_t bin_len = 0;

	if (sha256_hex == NULL || strlen(sha256_hex) != 64)
		return FALSE;
	memcpy(ad_out, VAULT_MAGIC, VAULT_MAGIC_LEN);
	memcpy(ad_out + VAULT_MAGIC_LEN, id, STORE_VAULT_KEY_ID_LEN);
	return sodium_hex2bin(ad_out + VAULT_PREFIX_LEN, 32, sha256_hex, 64, NULL, &bin_len,
	                      NULL) == 0 &&
	       bin_len == 32;
}

/* ---- encrypting ------------------------------------------------------ */

gboolean
store_vault_encrypt_fd(store_t *store, int in_fd, const char *sha256_hex, int out_fd,
                       const char *name, GError **error)
{
	crypto_secretstream_xchacha20poly1305_state state;
	unsigned char head[VAULT_HEADER_LEN];
	unsigned char ad[VAULT_AD_LEN];
	unsigned char *a = g_malloc(VAULT_CHUNK);
	unsigned char *b = g_malloc(VAULT_CHUNK);
	unsigned char *cipher = g_malloc(VAULT_CHUNK + VAULT_ABYTES);
	gboolean ok = FALSE;
	gssize alen, blen;

	if (!make_ad(store->key_id, sha256_hex, ad)) {
		g_set_error(error, STORE_ERROR, PI_ERROR_FATAL,
		            "spool: %s: \"%s\" is not a SHA-256", name,
		            sha256_hex ? sha256_hex : "");
		goto out;
	}
	memcpy(head, ad, VAULT_PREFIX_LEN);
	crypto_secretstream_xchacha20poly1305_init_push(&state, head + VAULT_PREFIX_LEN,
	                                                store->key);
	if (!vault_write_full(out_fd, head, sizeof(head))) {
		vault_io_error(error, "cannot write", name);
		goto out;
	}
	if ((alen = vault_read_full(in_fd, a, VAULT_CHUNK)) < 0) {
		vault_io_error(error, "cannot read", name);
		goto out;
	}
	for (;;) {
		unsigned long long clen = 0;
		gboolean final;

		/* Read ahead: the chunk before the end carries the FINAL tag. */
		blen = alen == VAULT_CHUNK ? vault_read_full(in_fd, b, VAULT_CHUNK) : 0;
		if (blen < 0) {
			vault_io_error(error, "cannot read", name);
			goto out;
		}
		final = blen == 0;
		crypto_secretstream_xchacha20poly1305_push(
		    &state, cipher, &clen, a, (unsigned long long)alen, ad, sizeof(ad),
		    final ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0);
		if (!vault_write_full(out_fd, cipher, (gsize)clen)) {
			vault_io_error(error, "cannot write", name);
			goto out;
		}
		if (final)
			break;
		{
			unsigned char *t = a;
			a = b;
			b = t;
		}
		alen = blen;
	}
	ok = TRUE;
out:
	sodium_memzero(&state, sizeof(state));
	sodium_memzero(a, VAULT_CHUNK);
	sodium_memzero(b, VAULT_CHUNK);
	g_free(a);
	g_free(b);
	g_free(cipher);
	return ok;
}

/* ---- decrypting ------------------------------------------------------ */

/* A sequential reader of one vault file. */
typedef struct {
	int fd;
	char *name;         /* spool-relative, for messages */
	unsigned char *key; /* sodium_malloc'd copy */
	unsigned char key_id[STORE_VAULT_KEY_ID_LEN];
	unsigned char ad[VAULT_AD_LEN];
	char *sha256;
	crypto_secretstream_xchacha20poly1305_state state;
	unsigned char *cipher;
	gboolean started, final;
} vault_reader_t;

static void
reader_free(vault_reader_t *r)
{
	if (r == NULL)
		return;
	if (r->fd >= 0)
		close(r->fd);
	if (r->key != NULL)
		sodium_free(r->key);
	sodium_memzero(&r->state, sizeof(r->state));
	g_free(r->cipher);
	g_free(r->name);
	g_free(r->sha256);
	g_free(r);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vault_reader_t, reader_free)

static gboolean
damaged(GError **error, const vault_reader_t *r, const char *why)
{
	g_set_error(error, STORE_ERROR, PI_ERROR_FATAL, "spool: %s is damaged or was altered: %s",
	            r->name, why);
	return FALSE;
}

/* Is RELATIVE a path the spool writes (AREA/xx/SHA256)?  Sets *SHA256_OUT. */
gboolean
vault_valid_relative(const char *relative, char **sha256_out)
{
	g_auto(GStrv) parts = relative ? g_strsplit(relative, "/", -1) : NULL;

	if (parts == NULL || g_strv_length(parts) != 3 || !vault_is_area(parts[0]) ||
	    strlen(parts[2]) != 64 || strncmp(parts[1], parts[2], 2) != 0 || strlen(parts[1]) != 2)
		return FALSE;
	for (const char *c = parts[2]; *c; c++) {
		if (!g_ascii_isxdigit(*c) || g_ascii_isupper(*c))
			return FALSE;
	}
	*sha256_out = g_strdup(parts[2]);
	return TRUE;
}

/* (Re)start reading from the beginning of the file. */
static gboolean
reader_start(vault_reader_t *r, GError **error)
{
	unsigned char head[VAULT_HEADER_LEN];
	gssize n;

	if (lseek(r->fd, 0, SEEK_SET) != 0)
		return vault_io_error(error, "cannot seek in", r->name);
	n = vault_read_full(r->fd, head, sizeof(head));
	if (n < 0)
		return vault_io_error(error, "cannot read", r->name);
	if ((gsize)n < VAULT_MAGIC_LEN || memcmp(head, VAULT_MAGIC, VAULT_MAGIC_LEN) != 0) {
		g_set_error(error, STORE_ERROR, PI_ERROR_FATAL,
		            "spool: %s is not an encrypted spool file", r->name);
		return FALSE;
	}
	if ((gsize)n < sizeof(head))
		return damaged(error, r, "shorter than its header");
	if (memcmp(head + VAULT_MAGIC_LEN, r->key_id, STORE_VAULT_KEY_ID_LEN) != 0) {
		g_autofree char *theirs = vault_key_id_hex(head + VAULT_MAGIC_LEN);
		g_autofree char *ours = vault_key_id_hex(r->key_id);
		g_set_error(
		    error, STORE_ERROR, PI_ERROR_FATAL,
		    "spool: %s was encrypted with another key (key id %s; the key file holds "
		    "key id %s)",
		    r->name, theirs, ours);
		return FALSE;
	}
	if (crypto_secretstream_xchacha20poly1305_init_pull(&r->state, head + VAULT_PREFIX_LEN,
	                                                    r->key) != 0)
		return damaged(error, r, "bad stream header");
	r->started = TRUE;
	r->final = FALSE;
	return TRUE;
}

/* Decrypt the next chunk into OUT (VAULT_CHUNK bytes); returns its length,
 * 0 at the end, -1 on error. */
static gssize
reader_next(vault_reader_t *r, unsigned char *out, GError **error)
{
	unsigned long long mlen = 0;
	unsigned char tag = 0;
	gssize n;

	if (r->final)
		return 0;
	n = vault_read_full(r->fd, r->cipher, VAULT_CHUNK + VAULT_ABYTES);
	if (n < 0) {
		vault_io_error(error, "cannot read", r->name);
		return -1;
	}
	if (n == 0) {
		damaged(error, r, "truncated (the final chunk is missing)");
		return -1;
	}
	if ((gsize)n < VAULT_ABYTES || crypto_secretstream_xchacha20poly1305_pull(
	                                   &r->state, out, &mlen, &tag, r->cipher,
	                                   (unsigned long long)n, r->ad, sizeof(r->ad)) != 0) {
		damaged(error, r, "authentication failed");
		return -1;
	}
	if (tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL) {
		char extra;
		gssize more = vault_read_full(r->fd, &extra, 1);
		if (more != 0) {
			damaged(error, r, "data after the final chunk");
			return -1;
		}
		r->final = TRUE;
	} else if ((gsize)n < VAULT_CHUNK + VAULT_ABYTES) {
		damaged(error, r, "truncated");
		return -1;
	}
	return (gssize)mlen;
}

/* Open the spool file RELATIVE under SPOOL with KEY (copied). */
static vault_reader_t *
reader_open(const char *spool, const char *relative, const unsigned char *key,
            const unsigned char *key_id, GError **error)
{
	g_autoptr(vault_reader_t) r = g_new0(vault_reader_t, 1);
	g_autofree char *path = NULL;

	r->fd = -1;
	r->name = g_strdup(relative ? relative : "(null)");
	if (!vault_valid_relative(relative, &r->sha256)) {
		g_set_error(error, STORE_ERROR, PI_ERROR_FATAL,
		            "spool: \"%s\" is not a spool file name", r->name);
		return NULL;
	}
	path = g_build_filename(spool, relative, NULL);
	r->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (r->fd < 0) {
		if (errno == ENOENT) {
			g_set_error(error, STORE_ERROR, PI_ERROR_NOT_FOUND,
			            "spool: %s is not in the spool (destroyed, or never kept)",
			            relative);
			return NULL;
		}
		vault_io_error(error, "cannot open", path);
		return NULL;
	}
	r->key = sodium_malloc(KEY_BYTES);
	if (r->key == NULL) {
		g_set_error(error, STORE_ERROR, PI_ERROR_FATAL,
		            "spool: cannot allocate key memory");
		return NULL;
	}
	memcpy(r->key, key, KEY_BYTES);
	memcpy(r->key_id, key_id, STORE_VAULT_KEY_ID_LEN);
	make_ad(r->key_id, r->sha256, r->ad);
	r->cipher = g_malloc(VAULT_CHUNK + VAULT_ABYTES);
	if (!reader_start(r, error))
		return NULL;
	return g_steal_pointer(&r);
}

gboolean
store_spool_decrypt_to_fd(store_t *store, const char *relative, int fd, GError **error)
{
	g_autoptr(vault_reader_t) r =
	    reader_open(store->spool, relative, store->key, store->key_id, error);
	g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
	unsigned char *plain;
	gboolean ok = FALSE;
	gssize n;

	if (r == NULL)
		return FALSE;
	plain = g_malloc(VAULT_CHUNK);
	while ((n = reader_next(r, plain, error)) > 0) {
		g_checksum_update(sum, plain, n);
		if (!vault_write_full(fd, plain, (gsize)n)) {
			int saved = errno;
			g_set_error(error, STORE_ERROR, PI_ERROR_FATAL, "cannot write %s: %s",
			            relative, g_strerror(saved));
			goto out;
		}
	}
	if (n < 0)
		goto out;
	if (strcmp(g_checksum_get_string(sum), r->sha256) != 0) {
		damaged(error, r, "its content does not match its SHA-256");
		goto out;
	}
	ok = TRUE;
out:
	sodium_memzero(plain, VAULT_CHUNK);
	g_free(plain);
	return ok;
}

/* ---- a decrypting GMimeStream ------------------------------------------ */

#define STORE_TYPE_VAULT_STREAM (store_vault_stream_get_type())
G_DECLARE_FINAL_TYPE(StoreVaultStream, store_vault_stream, STORE, VAULT_STREAM, GMimeStream)

struct _StoreVaultStream {
	GMimeStream parent;
	char *spool;
	char *relative;
	vault_reader_t *reader;
	unsigned char *plain; /* the current chunk */
	gsize plain_len, plain_pos;
	gint64 plain_size; /* plaintext length of the whole file */
	gint64 offset;     /* plaintext offset of the reader (next byte it returns) */
	gboolean failed;
};

G_DEFINE_TYPE(StoreVaultStream, store_vault_stream, GMIME_TYPE_STREAM)

static void
vault_stream_finalize(GObject *object)
{
	StoreVaultStream *s = STORE_VAULT_STREAM(object);

	reader_free(s->reader);
	if (s->plain != NULL) {
		sodium_memzero(s->plain, VAULT_CHUNK);
		g_free(s->plain);
	}
	g_free(s->relative);
	g_free(s->spool);
	G_OBJECT_CLASS(store_vault_stream_parent_class)->finalize(object);
}

/* Next plaintext bytes from the reader (not bounded); 0 at the end. */
static gssize
vault_pull(StoreVaultStream *s, char *buf, gsize len)
{
	g_autoptr(GError) error = NULL;
	gsize n;

	if (s->failed || s->reader == NULL)
		return -1;
	if (s->plain_pos == s->plain_len) {
		gssize got = reader_next(s->reader, s->plain, &error);
		if (got < 0) {
			g_warning("%s", error->message);
			s->failed = TRUE;
			errno = EIO;
			return -1;
		}
		s->plain_len = (gsize)got;
		s->plain_pos = 0;
		if (got == 0)
			return 0;
	}
	n = MIN(len, s->plain_len - s->plain_pos);
	memcpy(buf, s->plain + s->plain_pos, n);
	s->plain_pos += n;
	s->offset += (gint64)n;
	return (gssize)n;
}

/* Move the reader to plaintext offset TARGET (rewinding when behind). */
static gboolean
vault_goto(StoreVaultStream *s, gint64 target)
{
	char skip[4096];

	if (target < s->offset) {
		g_autoptr(GError) error = NULL;
		if (!reader_start(s->reader, &error)) {
			g_warning("%s", error->message);
			s->failed = TRUE;
			return FALSE;
		}
		s->offset = 0;
		s->plain_len = s->plain_pos = 0;
		s->failed = FALSE;
	}
	while (s->offset < target) {
		gssize n =
		    vault_pull(s, skip, (gsize)MIN((gint64)sizeof(skip), target - s->offset));
		if (n <= 0)
			return FALSE;
	}
	return TRUE;
}

static gint64
vault_end(GMimeStream *stream)
{
	StoreVaultStream *s = STORE_VAULT_STREAM(stream);

	return stream->bound_end != -1 ? MIN(stream->bound_end, s->plain_size) : s->plain_size;
}

static ssize_t
vault_read(GMimeStream *stream, char *buf, size_t len)
{
	StoreVaultStream *s = STORE_VAULT_STREAM(stream);
	gint64 end = vault_end(stream);
	gsize done = 0;

	if (s->offset != stream->position && !vault_goto(s, stream->position))
		return -1;
	if (stream->position >= end)
		return 0;
	len = (size_t)MIN((gint64)len, end - stream->position);
	while (done < len) {
		gssize n = vault_pull(s, buf + done, len - done);
		if (n < 0)
			return done > 0 ? (ssize_t)done : -1;
		if (n == 0)
			break;
		done += (gsize)n;
	}
	stream->position += (gint64)done;
	return (ssize_t)done;
}

static ssize_t
vault_write(GMimeStream *stream, const char *buf, size_t len)
{
	(void)stream;
	(void)buf;
	(void)len;
	errno = EBADF;
	return -1;
}

static int
vault_flush(GMimeStream *stream)
{
	(void)stream;
	return 0;
}

static int
vault_close(GMimeStream *stream)
{
	StoreVaultStream *s = STORE_VAULT_STREAM(stream);

	g_clear_pointer(&s->reader, reader_free);
	return 0;
}

static gboolean
vault_eos(GMimeStream *stream)
{
	StoreVaultStream *s = STORE_VAULT_STREAM(stream);

	return s->reader == NULL || s->failed || stream->position >= vault_end(stream);
}

static int
vault_reset(GMimeStream *stream)
{
	StoreVaultStream *s = STORE_VAULT_STREAM(stream);

	if (s->reader == NULL)
		return -1;
	stream->position = stream->bound_start;
	return vault_goto(s, stream->position) ? 0 : -1;
}

static gint64
vault_seek(GMimeStream *stream, gint64 offset, GMimeSeekWhence whence)
{
	StoreVaultStream *s = STORE_VAULT_STREAM(stream);
	gint64 target;

	if (s->reader == NULL)
		return -1;
	switch (whence) {
	case GMIME_STREAM_SEEK_SET:
		target = offset;
		break;
	case GMIME_STREAM_SEEK_CUR:
		target = stream->position + offset;
		break;
	case GMIME_STREAM_SEEK_END:
		target = vault_end(stream) + offset;
		break;
	default:
		return -1;
	}
	if (target < stream->bound_start || target > vault_end(stream)) {
		errno = EINVAL;
		return -1;
	}
	if (!vault_goto(s, target))
		return -1;
	stream->position = target;
	return target;
}

static gint64
vault_tell(GMimeStream *stream)
{
	return stream->position;
}

static gint64
vault_length(GMimeStream *stream)
{
	return vault_end(stream) - stream->bound_start;
}

static GMimeStream *vault_stream_new(const char *spool, const char *relative,
                                     const unsigned char *key, const unsigned char *key_id,
                                     gint64 start, gint64 end, GError **error);

static GMimeStream *
vault_substream(GMimeStream *stream, gint64 start, gint64 end)
{
	StoreVaultStream *s = STORE_VAULT_STREAM(stream);
	g_autoptr(GError) error = NULL;
	GMimeStream *sub;

	if (s->reader == NULL)
		return NULL;
	sub = vault_stream_new(s->spool, s->relative, s->reader->key, s->reader->key_id, start, end,
	                       &error);
	if (sub == NULL)
		g_warning("%s", error->message);
	return sub;
}

static void
store_vault_stream_class_init(StoreVaultStreamClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GMimeStreamClass *stream_class = GMIME_STREAM_CLASS(klass);

	object_class->finalize = vault_stream_finalize;
	stream_class->read = vault_read;
	stream_class->write = vault_write;
	stream_class->flush = vault_flush;
	stream_class->close = vault_close;
	stream_class->eos = vault_eos;
	stream_class->reset = vault_reset;
	stream_class->seek = vault_seek;
	stream_class->tell = vault_tell;
	stream_class->length = vault_length;
	stream_class->substream = vault_substream;
}

static void
store_vault_stream_init(StoreVaultStream *s)
{
	(void)s;
}

static GMimeStream *
vault_stream_new(const char *spool, const char *relative, const unsigned char *key,
                 const unsigned char *key_id, gint64 start, gint64 end, GError **error)
{
	g_autoptr(vault_reader_t) r = reader_open(spool, relative, key, key_id, error);
	StoreVaultStream *s;
	struct stat st;
	gint64 body, chunks;

	if (r == NULL)
		return NULL;
	if (fstat(r->fd, &st) != 0) {
		vault_io_error(error, "cannot stat", relative);
		return NULL;
	}
	/* The plaintext length follows from the file size: every chunk adds
	 * VAULT_ABYTES, and there is at least one (the final) chunk. */
	body = (gint64)st.st_size - VAULT_HEADER_LEN;
	chunks = (body + VAULT_CHUNK + VAULT_ABYTES - 1) / (VAULT_CHUNK + VAULT_ABYTES);
	if (body < (gint64)VAULT_ABYTES || chunks < 1) {
		damaged(error, r, "shorter than one chunk");
		return NULL;
	}
	s = g_object_new(STORE_TYPE_VAULT_STREAM, NULL);
	s->spool = g_strdup(spool);
	s->relative = g_strdup(relative);
	s->reader = g_steal_pointer(&r);
	s->plain = g_malloc(VAULT_CHUNK);
	s->plain_size = body - chunks * (gint64)VAULT_ABYTES;
	g_mime_stream_construct(GMIME_STREAM(s), start, end);
	if (start > 0 && !vault_goto(s, start)) {
		g_set_error(error, STORE_ERROR, PI_ERROR_FATAL, "spool: cannot read %s", relative);
		g_object_unref(s);
		return NULL;
	}
	return GMIME_STREAM(s);
}

GMimeStream *
store_spool_open_stream(store_t *store, const char *relative, GError **error)
{
	return vault_stream_new(store->spool, relative, store->key, store->key_id, 0, -1, error);
}
