/* store-private.h — what the store's files share; not for other modules. */
#pragma once

#include "store/store.h"

#define STORE_VAULT_KEY_ID_LEN 8

struct store {
	sqlite3 *db;
	char *spool;     /* absolute spool folder */
	gboolean in_transaction;
	/* group.c: a group of messages in one outer transaction */
	gboolean in_group;
	gboolean defer_sync; /* the spool skips fsync; store_group_commit() syncs it */
	int group_lock_fd;
	/* vault.c: the spool key (sodium_malloc'd) and its id */
	unsigned char *key;
	unsigned char key_id[STORE_VAULT_KEY_ID_LEN];
	char *key_file;
	/* spool.c: the plaintext files of readable spool files, emptied and
	 * kept for the next one (making a file costs more than its bytes);
	 * the fetcher's two threads share them. */
	GMutex scratch_lock;
	GPtrArray *scratch; /* spool_scratch_t*, at most SPOOL_SCRATCH_MAX */
	GPtrArray *spare;   /* spool_scratch_t*: new empty files for ciphertext */
	GPtrArray *plain_pool; /* spool_plain_t*: spare plaintext buffers */
	GThreadPool *janitor;  /* empties used plaintext files (made on first use) */
	gsize plain_charged;   /* what plaintext buffers, in use or spare, have held */
	/* db.c: waiting for the write lock (DATABASE-wait, see db.c) */
	int wait_fd;
	gboolean waiting;
	gint64 busy_since;
	/* db.c: prepared statements kept for reuse (SQL text → statement) */
	GHashTable *statements;
};

/* Before taking the write lock for a group: wait (up to 2 s) while
 * writers of other connections say they are waiting for it. */
void store_yield_to_writers(store_t *store);
/* Run SQL (no rows); on failure *error says WHAT, graded as
 * store_set_error() does. */
gboolean store_exec(store_t *store, const char *sql, const char *what, GError **error);

/* Set *error from the database's last error, graded (BUSY → temporary). */
void store_set_error(store_t *store, GError **error, const char *what);

/* Prepare SQL, or take the statement prepared for it before when no one
 * is using it (preparing costs more than running most of the store's
 * statements); NULL with *error set on failure.  Caller releases it with
 * store_stmt_release() (g_autoptr(store_stmt_t)), never sqlite3_finalize(). */
sqlite3_stmt *store_prepare(store_t *store, const char *sql, GError **error);
/* Reset a statement from store_prepare() for its next use (or finalize one
 * that is not kept); NULL-safe. */
void store_stmt_release(sqlite3_stmt *stmt);
typedef sqlite3_stmt store_stmt_t;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(store_stmt_t, store_stmt_release)

/* Run a statement that returns no rows (SQLITE_DONE), then reset it. */
gboolean store_step_done(store_t *store, sqlite3_stmt *stmt, const char *what, GError **error);

/* Step STMT to its end, appending FROM_ROW's object for each row to OUT.
 * FALSE (with WHAT in the error) when a step fails. */
typedef gpointer (*store_row_fn)(sqlite3_stmt *stmt);
gboolean store_collect(store_t *store, sqlite3_stmt *stmt, GPtrArray *out, store_row_fn from_row,
                       const char *what, GError **error);

/* Bind a string or NULL. */
void store_bind_text(sqlite3_stmt *stmt, int index, const char *text);

/* A column as a new string (NULL stays NULL). */
char *store_column_dup(sqlite3_stmt *stmt, int column);

/* A JSON array text ("[\"a\",\"b\"]") as a NULL-terminated string vector, and back. */
char **store_json_to_strv(const char *json);
char *store_strv_to_json(const char *const *strv);

/* ---- the spool's encryption and locks (vault.c, spool.c) ----------------- */

/* Load KEY_FILE, creating it on the first run; refuse when it is missing
 * while encrypted files exist, readable by others, or not the key the spool
 * was encrypted with.  Encrypts files kept before encryption at rest. */
gboolean store_vault_open(store_t *store, const char *key_file, GError **error);
void store_vault_close(store_t *store);
/* Encrypt everything read from IN_FD (from its current offset to the end)
 * to OUT_FD (at its start), bound to the plaintext's SHA256_HEX; NAME is for
 * messages. */
gboolean store_vault_encrypt_fd(store_t *store, int in_fd, const char *sha256_hex, int out_fd,
                                const char *name, GError **error);

/* Take the spool lock (shared for keeping files, exclusive for destroying
 * them), waiting at most 30 s (then PI_ERROR_TEMPORARY).  Returns the fd to
 * close to release it, or -1. */
int store_spool_lock(store_t *store, gboolean exclusive, GError **error);
/* Remove what crashed processes left in SPOOL/tmp (unlocked files only). */
void store_spool_cleanup_tmp(store_t *store);
/* Remove the spare temporary files (store_free). */
void store_spool_scratch_clear(store_t *store);

/* Small settings the store keeps for itself (table store_meta). */
gboolean store_meta_get(store_t *store, const char *name, char **value_out, GError **error);
gboolean store_meta_set(store_t *store, const char *name, const char *value, GError **error);

/* ---- vault internals (vault.c, vault_key.c) ---- */
#include <sodium.h>

/* Three versions: files written before streaming encryption ("PIVAULT1",
 * read only), files encrypted as they are written with secretstream
 * ("PIVAULT2", read only) and with AES-256-GCM ("PIVAULT3"); see vault.c. */
#define VAULT_MAGIC_V1 "PIVAULT1"
#define VAULT_MAGIC_V2 "PIVAULT2"
#define VAULT_MAGIC "PIVAULT3"
#define VAULT_MAGIC_LEN 8
#define VAULT_PREFIX_LEN (VAULT_MAGIC_LEN + STORE_VAULT_KEY_ID_LEN)
#define VAULT_HEADER_LEN_V1 (VAULT_PREFIX_LEN + crypto_secretstream_xchacha20poly1305_HEADERBYTES)
#define VAULT_BINDING_LEN 32
#define VAULT_HEADER_LEN (VAULT_HEADER_LEN_V1 + VAULT_BINDING_LEN)
#define VAULT_CHUNK 65536
#define VAULT_ABYTES_V2 crypto_secretstream_xchacha20poly1305_ABYTES
#define VAULT_ABYTES 16 /* the GCM tag */
#define VAULT_SALT_LEN crypto_secretstream_xchacha20poly1305_HEADERBYTES /* 24, same place */
#define VAULT_AD_LEN (VAULT_PREFIX_LEN + 32)
#define KEY_BYTES crypto_secretstream_xchacha20poly1305_KEYBYTES

/* Is HEAD (at least VAULT_MAGIC_LEN bytes) the start of a vault file, of
 * any version? */
gboolean vault_has_magic(const unsigned char *head);

/* Encryption as the bytes arrive (vault.c): the plaintext is never on disk.
 * The writer borrows OUT_FD (the temporary file; positioned at its start)
 * and NAME (for messages). */
typedef struct vault_writer vault_writer_t;
vault_writer_t *vault_writer_new(store_t *store, int out_fd, const char *name, GError **error);
gboolean vault_writer_write(vault_writer_t *writer, const void *data, gsize len, GError **error);
/* The final chunk, then the header's binding to SHA256_HEX (the plaintext's
 * SHA-256, the file's name) written in place. */
gboolean vault_writer_finish(vault_writer_t *writer, const char *sha256_hex, GError **error);
void vault_writer_free(vault_writer_t *writer); /* NULL-safe; wipes the buffers */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vault_writer_t, vault_writer_free)

/* read() until LEN bytes or end of file; -1 on error. */
gssize vault_read_full(int fd, void *buffer, gsize len);
gboolean vault_write_full(int fd, const void *buffer, gsize len);
/* Set *error from errno: "spool: WHAT PATH: reason"; returns FALSE. */
gboolean vault_io_error(GError **error, const char *what, const char *path);
void vault_key_id_of(const unsigned char *key, unsigned char id_out[STORE_VAULT_KEY_ID_LEN]);
char *vault_key_id_hex(const unsigned char id[STORE_VAULT_KEY_ID_LEN]);
/* A top-level spool folder of kept files (not "tmp"). */
gboolean vault_is_area(const char *name);
/* Is RELATIVE "AREA/xx/SHA256" with xx the hash's first two digits?
 * Sets *SHA256_OUT (caller frees). */
gboolean vault_valid_relative(const char *relative, char **sha256_out);
