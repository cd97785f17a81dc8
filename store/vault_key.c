/* vault_key.c — the spool key: created on the first run, checked on every
 * open (mode, format, and that it is the key the spool was encrypted with),
 * and the one-time encryption of files kept before encryption at rest.
 * The file format is described in vault.c. */
#include "store/store-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sodium.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* Is PATH an encrypted spool file?  Fills KEY_ID_OUT from its header. */
static gboolean
is_vault_file(const char *path, unsigned char key_id_out[STORE_VAULT_KEY_ID_LEN])
{
	unsigned char head[VAULT_PREFIX_LEN];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	gssize n;

	if (fd < 0)
		return FALSE;
	n = vault_read_full(fd, head, sizeof(head));
	close(fd);
	if (n != (gssize)sizeof(head) || !vault_has_magic(head))
		return FALSE;
	memcpy(key_id_out, head + VAULT_MAGIC_LEN, STORE_VAULT_KEY_ID_LEN);
	return TRUE;
}

/* Call FN on every kept file of the spool (AREA/xx/NAME) until it returns
 * FALSE.  Returns FALSE when FN stopped the walk. */
typedef gboolean (*spool_walk_fn)(const char *path, const char *relative, gpointer data);

static gboolean
walk_spool(store_t *store, spool_walk_fn fn, gpointer data)
{
	g_autoptr(GDir) top = g_dir_open(store->spool, 0, NULL);
	const char *area;

	while (top != NULL && (area = g_dir_read_name(top)) != NULL) {
		g_autofree char *area_dir = g_build_filename(store->spool, area, NULL);
		g_autoptr(GDir) outer = NULL;
		const char *prefix;

		if (!vault_is_area(area) || !g_file_test(area_dir, G_FILE_TEST_IS_DIR))
			continue;
		outer = g_dir_open(area_dir, 0, NULL);
		while (outer != NULL && (prefix = g_dir_read_name(outer)) != NULL) {
			g_autofree char *sub = g_build_filename(area_dir, prefix, NULL);
			g_autoptr(GDir) inner = g_dir_open(sub, 0, NULL);
			const char *name;

			while (inner != NULL && (name = g_dir_read_name(inner)) != NULL) {
				g_autofree char *path = g_build_filename(sub, name, NULL);
				g_autofree char *relative =
				    g_build_filename(area, prefix, name, NULL);
				if (g_file_test(path, G_FILE_TEST_IS_REGULAR) &&
				    !g_file_test(path, G_FILE_TEST_IS_SYMLINK) &&
				    !fn(path, relative, data))
					return FALSE;
			}
		}
	}
	return TRUE;
}

typedef struct {
	char *path;
	unsigned char key_id[STORE_VAULT_KEY_ID_LEN];
} found_t;

static gboolean
find_vault_file(const char *path, const char *relative, gpointer data)
{
	found_t *found = data;

	(void)relative;
	if (!is_vault_file(path, found->key_id))
		return TRUE;
	found->path = g_strdup(path);
	return FALSE;
}

static gboolean
parse_key(const char *text, unsigned char *key)
{
	g_autofree char *copy = g_strdup(text);
	size_t len = 0;
	gboolean ok;

	g_strstrip(copy);
	ok = strlen(copy) == KEY_BYTES * 2 &&
	     sodium_hex2bin(key, KEY_BYTES, copy, strlen(copy), NULL, &len, NULL) == 0 &&
	     len == KEY_BYTES;
	sodium_memzero(copy, strlen(copy));
	return ok;
}

/* Create KEY_FILE with a new random key (mode 0600).  Written to a
 * temporary file first and linked into place, so a concurrent first run
 * never sees half a key; if another process won the race, its key is used. */
static gboolean
create_key(store_t *store, const char *key_file, gboolean *created_out, GError **error)
{
	g_autofree char *dir = g_path_get_dirname(key_file);
	g_autofree char *tmp = g_strdup_printf("%s.new.XXXXXX", key_file);
	char hex[KEY_BYTES * 2 + 2];
	gboolean ok;
	int fd;

	*created_out = FALSE;
	if (g_mkdir_with_parents(dir, 0700) != 0)
		return vault_io_error(error, "cannot create the folder of the key file", dir);
	fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0)
		return vault_io_error(error, "cannot create", tmp);
	crypto_secretstream_xchacha20poly1305_keygen(store->key);
	sodium_bin2hex(hex, sizeof(hex), store->key, KEY_BYTES);
	hex[KEY_BYTES * 2] = '\n';
	ok = vault_write_full(fd, hex, KEY_BYTES * 2 + 1) && fsync(fd) == 0;
	sodium_memzero(hex, sizeof(hex));
	if (!ok || close(fd) != 0) {
		vault_io_error(error, "cannot write", tmp);
		if (ok == FALSE)
			close(fd);
		g_unlink(tmp);
		return FALSE;
	}
	if (link(tmp, key_file) != 0) {
		int saved = errno;
		g_unlink(tmp);
		if (saved == EEXIST)
			return TRUE; /* another process created it first: read that one */
		errno = saved;
		return vault_io_error(error, "cannot create", key_file);
	}
	g_unlink(tmp);
	*created_out = TRUE;
	return pi_fsync_dir(dir, error);
}

static gboolean
read_key(store_t *store, const char *key_file, GError **error)
{
	g_autofree char *text = NULL;
	gsize len = 0;
	struct stat st;
	gboolean ok;

	if (stat(key_file, &st) != 0)
		return vault_io_error(error, "cannot read the key file", key_file);
	if (!S_ISREG(st.st_mode)) {
		g_set_error(error, STORE_ERROR, PI_ERROR_FATAL,
		            "spool key file %s is not a regular file", key_file);
		return FALSE;
	}
	if ((st.st_mode & 0077) != 0) {
		g_set_error(error, STORE_ERROR, PI_ERROR_FATAL,
		            "spool key file %s has mode %04o: others may read it; only its owner "
		            "may (chmod 600 %s), and consider the key exposed",
		            key_file, (unsigned)(st.st_mode & 07777), key_file);
		return FALSE;
	}
	if (!g_file_get_contents(key_file, &text, &len, NULL))
		return vault_io_error(error, "cannot read the key file", key_file);
	ok = parse_key(text, store->key);
	sodium_memzero(text, len);
	if (!ok) {
		g_set_error(
		    error, STORE_ERROR, PI_ERROR_FATAL,
		    "spool key file %s does not hold a key (expected 64 hexadecimal digits)",
		    key_file);
		return FALSE;
	}
	return TRUE;
}

gboolean
store_meta_get(store_t *store, const char *name, char **value_out, GError **error)
{
	g_autoptr(store_stmt_t) stmt =
	    store_prepare(store, "SELECT value FROM store_meta WHERE name = ?", error);
	int rc;

	*value_out = NULL;
	if (stmt == NULL)
		return FALSE;
	store_bind_text(stmt, 1, name);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*value_out = store_column_dup(stmt, 0);
	else if (rc != SQLITE_DONE) {
		store_set_error(store, error, "reading store settings");
		return FALSE;
	}
	return TRUE;
}

gboolean
store_meta_set(store_t *store, const char *name, const char *value, GError **error)
{
	g_autoptr(store_stmt_t) stmt = store_prepare(
	    store, "INSERT OR REPLACE INTO store_meta (name, value) VALUES (?, ?)", error);

	if (stmt == NULL)
		return FALSE;
	store_bind_text(stmt, 1, name);
	store_bind_text(stmt, 2, value);
	return store_step_done(store, stmt, "saving store settings", error);
}

/* Encrypt one plaintext file in place (a file written before encryption at
 * rest): to a temporary file, then renamed over the original. */
static gboolean
encrypt_in_place(store_t *store, const char *path, const char *relative, GError **error)
{
	g_autofree char *tmpdir = g_build_filename(store->spool, "tmp", NULL);
	g_autofree char *tmp = g_build_filename(tmpdir, "enc.XXXXXX", NULL);
	g_autofree char *dir = g_path_get_dirname(path);
	g_autofree char *name = g_path_get_basename(path);
	int in = -1, out = -1;
	gboolean ok = FALSE;

	if (!pi_ensure_dir(tmpdir, 0700, error))
		return FALSE;
	in = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (in < 0)
		return vault_io_error(error, "cannot open", path);
	out = g_mkstemp_full(tmp, O_RDWR | O_CLOEXEC, 0600);
	if (out < 0) {
		vault_io_error(error, "cannot create", tmp);
		goto out;
	}
	flock(out, LOCK_EX | LOCK_NB);
	if (!store_vault_encrypt_fd(store, in, name, out, relative, error))
		goto out;
	if (fsync(out) != 0) {
		vault_io_error(error, "cannot sync", tmp);
		goto out;
	}
	if (rename(tmp, path) != 0) {
		vault_io_error(error, "cannot replace", path);
		goto out;
	}
	g_clear_pointer(&tmp, g_free);
	ok = pi_fsync_dir(dir, error);
out:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	if (tmp != NULL)
		g_unlink(tmp);
	return ok;
}

typedef struct {
	store_t *store;
	guint count;
	GError *error;
} legacy_t;

static gboolean
encrypt_legacy_file(const char *path, const char *relative, gpointer data)
{
	legacy_t *legacy = data;
	unsigned char id[STORE_VAULT_KEY_ID_LEN];
	g_autofree char *sha = NULL;

	if (is_vault_file(path, id))
		return TRUE;
	if (!vault_valid_relative(relative, &sha)) {
		g_warning("spool: %s is not a spool file name; left as it is", relative);
		return TRUE;
	}
	if (!encrypt_in_place(legacy->store, path, relative, &legacy->error))
		return FALSE;
	legacy->count++;
	return TRUE;
}

/* Files kept before encryption at rest are encrypted once, on the first
 * open by a version that has it. */
static gboolean
encrypt_legacy(store_t *store, GError **error)
{
	g_autofree char *done = NULL;
	legacy_t legacy = {store, 0, NULL};

	if (!store_meta_get(store, "spool_encryption", &done, error))
		return FALSE;
	if (done != NULL)
		return TRUE;
	if (!walk_spool(store, encrypt_legacy_file, &legacy)) {
		g_propagate_prefixed_error(error, legacy.error,
		                           "encrypting the files kept before encryption at rest: ");
		return FALSE;
	}
	if (legacy.count > 0) {
		g_autofree char *detail = g_strdup_printf(
		    "encrypted %u spool files kept before encryption at rest", legacy.count);
		g_message("spool: %s", detail);
		if (!store_audit(store, "privacy-inbox", "spool encrypted", NULL, detail, error))
			return FALSE;
	}
	return store_meta_set(store, "spool_encryption", "secretstream-xchacha20poly1305-v1",
	                      error);
}

gboolean
store_vault_open(store_t *store, const char *key_file, GError **error)
{
	found_t found = {NULL, {0}};
	gboolean created = FALSE;

	if (sodium_init() < 0) {
		g_set_error(error, STORE_ERROR, PI_ERROR_FATAL,
		            "libsodium could not be initialised");
		return FALSE;
	}
	store->key = sodium_malloc(KEY_BYTES);
	if (store->key == NULL) {
		g_set_error(error, STORE_ERROR, PI_ERROR_FATAL, "cannot allocate key memory");
		return FALSE;
	}
	store->key_file = g_strdup(key_file);
	walk_spool(store, find_vault_file, &found);
	if (!g_file_test(key_file, G_FILE_TEST_EXISTS)) {
		if (found.path != NULL) {
			g_set_error(
			    error, STORE_ERROR, PI_ERROR_FATAL,
			    "spool key file %s is missing, but the spool %s holds files encrypted "
			    "with it (e.g. %s): restore the key file from your backup; without it "
			    "they cannot be read",
			    key_file, store->spool, found.path);
			g_free(found.path);
			return FALSE;
		}
		if (!create_key(store, key_file, &created, error))
			return FALSE;
	}
	if (!created && !read_key(store, key_file, error)) {
		g_free(found.path);
		return FALSE;
	}
	vault_key_id_of(store->key, store->key_id);
	if (created) {
		/* A first run: logged at info level only, so the first command's
		 * output stays what it always is; the README says to back it up. */
		g_autofree char *id = vault_key_id_hex(store->key_id);
		g_info("created the spool key %s (key id %s): back it up apart from the database "
		       "and spool",
		       key_file, id);
	}
	if (found.path != NULL &&
	    memcmp(found.key_id, store->key_id, STORE_VAULT_KEY_ID_LEN) != 0) {
		g_autofree char *theirs = vault_key_id_hex(found.key_id);
		g_autofree char *ours = vault_key_id_hex(store->key_id);
		g_set_error(
		    error, STORE_ERROR, PI_ERROR_FATAL,
		    "spool key file %s (key id %s) is not the key the spool %s was encrypted "
		    "with (key id %s, e.g. %s): restore the right key file",
		    key_file, ours, store->spool, theirs, found.path);
		g_free(found.path);
		return FALSE;
	}
	g_free(found.path);
	return encrypt_legacy(store, error);
}

void
store_vault_close(store_t *store)
{
	if (store->key != NULL)
		sodium_free(store->key);
	store->key = NULL;
	g_clear_pointer(&store->key_file, g_free);
}
