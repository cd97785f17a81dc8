/* vault.c — encryption at rest for every file the spool keeps (identity
 * documents and raw messages), streamed in chunks so no file is ever whole
 * in memory: AES-256-GCM (GnuTLS: AES-NI and carry-less multiply, about
 * 2.6 times the speed of XChaCha20-Poly1305 here, which matters when a
 * backlog of gigabytes arrives) with a key of its own per file.
 *
 * A kept file is encrypted as it is written (spool.c streams every byte
 * through a vault_writer_t), so its plaintext never touches the disk:
 *
 *   "PIVAULT3"             8 bytes, format and version
 *   key id                 8 bytes, BLAKE2b of the key (names the key, reveals nothing)
 *   salt                  24 random bytes; the file's key is BLAKE2b-256 of
 *                          "privacy-inbox spool file key" and the salt, keyed
 *                          with the spool key
 *   binding               32 bytes, keyed BLAKE2b-256 of the 40 bytes before it
 *                          and the plaintext's raw SHA-256 (the file's name);
 *                          its key is BLAKE2b-256("privacy-inbox spool binding")
 *                          keyed with the spool key.  Written last, in place,
 *                          once the SHA-256 is known.
 *   chunks                 each 64 KiB of plaintext + its 16-byte tag, with the
 *                          first 16 bytes as associated data; chunk i has the
 *                          nonce i (8 bytes, little-endian) and 4 bytes that
 *                          are 1 for the last chunk (possibly empty), else 0
 *
 * The binding is checked when the file is opened, so a renamed or swapped
 * file is refused before any byte is read; the per-file key ties every chunk
 * to its file, the counter to its place, and the last-chunk flag makes a
 * truncated or extended file fail (the STREAM construction).  The
 * plaintext's SHA-256 is checked again at the end of a full read.
 *
 * Older files are still read: "PIVAULT2", the same layout with a
 * secretstream (XChaCha20-Poly1305) header instead of the salt and chunks
 * of 64 KiB + 17 bytes; "PIVAULT1", written before streaming, the same
 * without the binding, every chunk authenticated together with the first
 * 16 bytes and the raw SHA-256 of the name.
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
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
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

/* Magic, key id and the raw SHA-256 named by SHA256_HEX: the associated
 * data of a version 1 chunk (the reader puts the file's own first 16 bytes
 * in front).  FALSE when SHA256_HEX is not 64 hex digits. */
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
vault_has_magic(const unsigned char *head)
{
	return memcmp(head, VAULT_MAGIC, VAULT_MAGIC_LEN) == 0 ||
	       memcmp(head, VAULT_MAGIC_V2, VAULT_MAGIC_LEN) == 0 ||
	       memcmp(head, VAULT_MAGIC_V1, VAULT_MAGIC_LEN) == 0;
}

/* An AES-256-GCM handle with the key of the file whose salt is SALT. */
static gnutls_aead_cipher_hd_t
file_cipher_new(const unsigned char *key, const unsigned char *salt)
{
	static const char label[] = "privacy-inbox spool file key";
	unsigned char input[sizeof(label) - 1 + VAULT_SALT_LEN];
	unsigned char file_key[32];
	gnutls_datum_t datum = {file_key, sizeof(file_key)};
	gnutls_aead_cipher_hd_t cipher = NULL;

	memcpy(input, label, sizeof(label) - 1);
	memcpy(input + sizeof(label) - 1, salt, VAULT_SALT_LEN);
	crypto_generichash(file_key, sizeof(file_key), input, sizeof(input), key, KEY_BYTES);
	if (gnutls_aead_cipher_init(&cipher, GNUTLS_CIPHER_AES_256_GCM, &datum) < 0)
		cipher = NULL;
	sodium_memzero(file_key, sizeof(file_key));
	return cipher;
}

/* The nonce of chunk COUNTER: the counter, little-endian, and the flag. */
static void
chunk_nonce(guint64 counter, gboolean final, unsigned char nonce[12])
{
	for (int i = 0; i < 8; i++)
		nonce[i] = (unsigned char)(counter >> (8 * i));
	nonce[8] = nonce[9] = nonce[10] = 0;
	nonce[11] = final ? 1 : 0;
}

/* The binding of a version 2 or 3 header HEAD (its first
 * VAULT_HEADER_LEN_V1 bytes) to the raw SHA-256 SHA256. */
static void
binding_of(const unsigned char *key, const unsigned char *head, const unsigned char *sha256,
           unsigned char out[VAULT_BINDING_LEN])
{
	static const char label[] = "privacy-inbox spool binding";
	unsigned char binding_key[crypto_generichash_KEYBYTES];
	crypto_generichash_state state;

	crypto_generichash(binding_key, sizeof(binding_key), (const unsigned char *)label,
	                   sizeof(label) - 1, key, KEY_BYTES);
	crypto_generichash_init(&state, binding_key, sizeof(binding_key), VAULT_BINDING_LEN);
	crypto_generichash_update(&state, head, VAULT_HEADER_LEN_V1);
	crypto_generichash_update(&state, sha256, 32);
	crypto_generichash_final(&state, out, VAULT_BINDING_LEN);
	sodium_memzero(binding_key, sizeof(binding_key));
	sodium_memzero(&state, sizeof(state));
}

struct vault_writer {
	int fd;     /* borrowed */
	char *name; /* for messages */
	const unsigned char *key; /* the store's, borrowed */
	unsigned char head[VAULT_HEADER_LEN];
	gnutls_aead_cipher_hd_t cipher_hd;
	guint64 counter; /* chunks written */
	unsigned char *plain;  /* the chunk being filled; pushed when the next byte comes */
	gsize plain_len;
	gsize capacity;        /* of plain (grows up to VAULT_CHUNK: small files stay small) */
	unsigned char *cipher; /* capacity + VAULT_ABYTES */
	gboolean finished;
};

void
vault_writer_free(vault_writer_t *w)
{
	if (w == NULL)
		return;
	if (w->cipher_hd != NULL)
		gnutls_aead_cipher_deinit(w->cipher_hd);
	if (w->plain != NULL) {
		sodium_memzero(w->plain, w->capacity);
		g_free(w->plain);
	}
	g_free(w->cipher);
	g_free(w->name);
	g_free(w);
}

vault_writer_t *
vault_writer_new(store_t *store, int out_fd, const char *name, GError **error)
{
	g_autoptr(vault_writer_t) w = g_new0(vault_writer_t, 1);

	w->fd = out_fd;
	w->name = g_strdup(name);
	w->key = store->key;
	memcpy(w->head, VAULT_MAGIC, VAULT_MAGIC_LEN);
	memcpy(w->head + VAULT_MAGIC_LEN, store->key_id, STORE_VAULT_KEY_ID_LEN);
	randombytes_buf(w->head + VAULT_PREFIX_LEN, VAULT_SALT_LEN);
	w->cipher_hd = file_cipher_new(store->key, w->head + VAULT_PREFIX_LEN);
	if (w->cipher_hd == NULL) {
		g_set_error(error, STORE_ERROR, PI_ERROR_FATAL, "spool: %s: cannot start AES-256-GCM",
		            name);
		return NULL;
	}
	/* The binding (zeros for now) is written by vault_writer_finish(). */
	if (!vault_write_full(out_fd, w->head, sizeof(w->head))) {
		vault_io_error(error, "cannot write", name);
		return NULL;
	}
	return g_steal_pointer(&w);
}

/* Room for NEED bytes in the chunk buffer (at most VAULT_CHUNK); the old
 * buffer is wiped, never left in the heap with plaintext in it. */
static void
grow(vault_writer_t *w, gsize need)
{
	gsize capacity = MAX(w->capacity, 4096);
	unsigned char *plain;

	if (need <= w->capacity)
		return;
	while (capacity < need)
		capacity *= 2;
	capacity = MIN(capacity, VAULT_CHUNK);
	plain = g_malloc(capacity);
	if (w->plain != NULL) {
		memcpy(plain, w->plain, w->plain_len);
		sodium_memzero(w->plain, w->capacity);
		g_free(w->plain);
	}
	w->plain = plain;
	w->capacity = capacity;
	g_free(w->cipher);
	w->cipher = g_malloc(capacity + VAULT_ABYTES);
}

static gboolean
push(vault_writer_t *w, gboolean final, GError **error)
{
	unsigned char nonce[12];
	size_t clen = w->plain_len + VAULT_ABYTES;

	grow(w, 1); /* an empty file still has its (empty) final chunk */

	chunk_nonce(w->counter++, final, nonce);
	if (gnutls_aead_cipher_encrypt(w->cipher_hd, nonce, sizeof(nonce), w->head,
	                               VAULT_PREFIX_LEN, VAULT_ABYTES, w->plain, w->plain_len,
	                               w->cipher, &clen) < 0) {
		g_set_error(error, STORE_ERROR, PI_ERROR_FATAL, "spool: %s: encryption failed",
		            w->name);
		return FALSE;
	}
	w->plain_len = 0;
	if (!vault_write_full(w->fd, w->cipher, (gsize)clen))
		return vault_io_error(error, "cannot write", w->name);
	return TRUE;
}

gboolean
vault_writer_write(vault_writer_t *w, const void *data, gsize len, GError **error)
{
	const unsigned char *p = data;

	g_return_val_if_fail(!w->finished, FALSE);
	while (len > 0) {
		gsize n;

		/* A full chunk is pushed only when more bytes follow: the last
		 * one must carry the FINAL tag. */
		if (w->plain_len == VAULT_CHUNK && !push(w, FALSE, error))
			return FALSE;
		n = MIN(len, VAULT_CHUNK - w->plain_len);
		grow(w, w->plain_len + n);
		memcpy(w->plain + w->plain_len, p, n);
		w->plain_len += n;
		p += n;
		len -= n;
	}
	return TRUE;
}

gboolean
vault_writer_finish(vault_writer_t *w, const char *sha256_hex, GError **error)
{
	unsigned char ad[VAULT_AD_LEN];
	unsigned char binding[VAULT_BINDING_LEN];

	g_return_val_if_fail(!w->finished, FALSE);
	if (!make_ad(w->head + VAULT_MAGIC_LEN, sha256_hex, ad)) {
		g_set_error(error, STORE_ERROR, PI_ERROR_FATAL, "spool: %s: \"%s\" is not a SHA-256",
		            w->name, sha256_hex ? sha256_hex : "");
		return FALSE;
	}
	if (!push(w, TRUE, error))
		return FALSE;
	w->finished = TRUE;
	binding_of(w->key, w->head, ad + VAULT_PREFIX_LEN, binding);
	if (pwrite(w->fd, binding, sizeof(binding), VAULT_HEADER_LEN_V1) != (ssize_t)sizeof(binding))
		return vault_io_error(error, "cannot write", w->name);
	return TRUE;
}

gboolean
store_vault_encrypt_fd(store_t *store, int in_fd, const char *sha256_hex, int out_fd,
                       const char *name, GError **error)
{
	g_autoptr(vault_writer_t) w = vault_writer_new(store, out_fd, name, error);
	unsigned char *buffer;
	gboolean ok = FALSE;
	gssize n;

	if (w == NULL)
		return FALSE;
	buffer = g_malloc(VAULT_CHUNK);
	while ((n = vault_read_full(in_fd, buffer, VAULT_CHUNK)) > 0) {
		if (!vault_writer_write(w, buffer, (gsize)n, error))
			goto out;
	}
	if (n < 0) {
		vault_io_error(error, "cannot read", name);
		goto out;
	}
	ok = vault_writer_finish(w, sha256_hex, error);
out:
	sodium_memzero(buffer, VAULT_CHUNK);
	g_free(buffer);
	return ok;
}

/* ---- decrypting ------------------------------------------------------ */

/* A sequential reader of one vault file. */
typedef struct {
	int fd;
	char *name;         /* spool-relative, for messages */
	unsigned char *key; /* sodium_malloc'd copy */
	unsigned char key_id[STORE_VAULT_KEY_ID_LEN];
	unsigned char ad[VAULT_AD_LEN]; /* the file's first 16 bytes, then the raw SHA-256 */
	gsize ad_len;                   /* 16 (versions 2, 3) or VAULT_AD_LEN (version 1) */
	gsize header_len;               /* VAULT_HEADER_LEN or VAULT_HEADER_LEN_V1 */
	int version;
	gsize abytes;                   /* what a chunk adds: VAULT_ABYTES, or _V2 for 1 and 2 */
	char *sha256;
	crypto_secretstream_xchacha20poly1305_state state; /* versions 1 and 2 */
	gnutls_aead_cipher_hd_t cipher_hd;                 /* version 3 */
	guint64 counter;                                   /* version 3: chunks read */
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
	if (r->cipher_hd != NULL)
		gnutls_aead_cipher_deinit(r->cipher_hd);
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
	gboolean v1;
	gssize n;

	if (lseek(r->fd, 0, SEEK_SET) != 0)
		return vault_io_error(error, "cannot seek in", r->name);
	n = vault_read_full(r->fd, head, VAULT_HEADER_LEN_V1);
	if (n < 0)
		return vault_io_error(error, "cannot read", r->name);
	if ((gsize)n < VAULT_MAGIC_LEN || !vault_has_magic(head)) {
		g_set_error(error, STORE_ERROR, PI_ERROR_FATAL,
		            "spool: %s is not an encrypted spool file", r->name);
		return FALSE;
	}
	v1 = memcmp(head, VAULT_MAGIC_V1, VAULT_MAGIC_LEN) == 0;
	r->version = v1 ? 1 : memcmp(head, VAULT_MAGIC_V2, VAULT_MAGIC_LEN) == 0 ? 2 : 3;
	r->abytes = r->version == 3 ? VAULT_ABYTES : VAULT_ABYTES_V2;
	if ((gsize)n < VAULT_HEADER_LEN_V1)
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
	memcpy(r->ad, head, VAULT_PREFIX_LEN);
	if (v1) {
		r->ad_len = VAULT_AD_LEN;
		r->header_len = VAULT_HEADER_LEN_V1;
	} else {
		unsigned char expected[VAULT_BINDING_LEN];

		n = vault_read_full(r->fd, head + VAULT_HEADER_LEN_V1, VAULT_BINDING_LEN);
		if (n < 0)
			return vault_io_error(error, "cannot read", r->name);
		if (n < VAULT_BINDING_LEN)
			return damaged(error, r, "shorter than its header");
		binding_of(r->key, head, r->ad + VAULT_PREFIX_LEN, expected);
		if (sodium_memcmp(expected, head + VAULT_HEADER_LEN_V1, VAULT_BINDING_LEN) != 0)
			return damaged(error, r, "it does not belong under this name");
		r->ad_len = VAULT_PREFIX_LEN;
		r->header_len = VAULT_HEADER_LEN;
	}
	if (r->version == 3) {
		if (r->cipher_hd != NULL)
			gnutls_aead_cipher_deinit(r->cipher_hd);
		r->cipher_hd = file_cipher_new(r->key, head + VAULT_PREFIX_LEN);
		if (r->cipher_hd == NULL)
			return damaged(error, r, "cannot start AES-256-GCM");
		r->counter = 0;
	} else if (crypto_secretstream_xchacha20poly1305_init_pull(
	               &r->state, head + VAULT_PREFIX_LEN, r->key) != 0) {
		return damaged(error, r, "bad stream header");
	}
	r->started = TRUE;
	r->final = FALSE;
	return TRUE;
}

/* Open chunk N (bytes in r->cipher) of a version 3 file into OUT as the
 * last chunk or not; its plaintext length, or -1 when it does not
 * authenticate so. */
static gssize
open_chunk_v3(vault_reader_t *r, gsize n, gboolean final, unsigned char *out)
{
	unsigned char nonce[12];
	size_t plen = VAULT_CHUNK;

	chunk_nonce(r->counter, final, nonce);
	if (gnutls_aead_cipher_decrypt(r->cipher_hd, nonce, sizeof(nonce), r->ad, r->ad_len,
	                               VAULT_ABYTES, r->cipher, n, out, &plen) < 0)
		return -1;
	return (gssize)plen;
}

/* reader_next() for version 3: a full chunk is the last one only if it
 * says so (the plaintext was a multiple of 64 KiB); a short one must be. */
static gssize
reader_next_v3(vault_reader_t *r, unsigned char *out, gsize n, GError **error)
{
	gssize plen = -1;

	if (n < VAULT_ABYTES) {
		damaged(error, r, "truncated");
		return -1;
	}
	if (n == VAULT_CHUNK + VAULT_ABYTES)
		plen = open_chunk_v3(r, n, FALSE, out);
	if (plen < 0) {
		char extra;

		plen = open_chunk_v3(r, n, TRUE, out);
		if (plen < 0) {
			damaged(error, r,
			        n < VAULT_CHUNK + VAULT_ABYTES ? "authentication failed (or truncated)"
			                                       : "authentication failed");
			return -1;
		}
		if (vault_read_full(r->fd, &extra, 1) != 0) {
			damaged(error, r, "data after the final chunk");
			return -1;
		}
		r->final = TRUE;
	}
	r->counter++;
	return plen;
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
	n = vault_read_full(r->fd, r->cipher, VAULT_CHUNK + r->abytes);
	if (n < 0) {
		vault_io_error(error, "cannot read", r->name);
		return -1;
	}
	if (n == 0) {
		damaged(error, r, "truncated (the final chunk is missing)");
		return -1;
	}
	if (r->version == 3)
		return reader_next_v3(r, out, (gsize)n, error);
	if ((gsize)n < VAULT_ABYTES_V2 || crypto_secretstream_xchacha20poly1305_pull(
	                                   &r->state, out, &mlen, &tag, r->cipher,
	                                   (unsigned long long)n, r->ad, r->ad_len) != 0) {
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
	} else if ((gsize)n < VAULT_CHUNK + VAULT_ABYTES_V2) {
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
	r->cipher = g_malloc(VAULT_CHUNK + VAULT_ABYTES_V2); /* the larger */
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
	 * its tag, and there is at least one (the final) chunk. */
	body = (gint64)st.st_size - (gint64)r->header_len;
	chunks = (body + VAULT_CHUNK + (gint64)r->abytes - 1) / (VAULT_CHUNK + (gint64)r->abytes);
	if (body < (gint64)r->abytes || chunks < 1) {
		damaged(error, r, "shorter than one chunk");
		return NULL;
	}
	s = g_object_new(STORE_TYPE_VAULT_STREAM, NULL);
	s->spool = g_strdup(spool);
	s->relative = g_strdup(relative);
	s->reader = g_steal_pointer(&r);
	s->plain = g_malloc(VAULT_CHUNK);
	s->plain_size = body - chunks * (gint64)s->reader->abytes;
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
