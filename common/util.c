/* util.c — small helpers shared by every module (see common.h). */
#include "common/common.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

G_DEFINE_QUARK(privacy-inbox-common-error-quark, common_error)

char *
pi_sha256_hex(const void *data, gsize len)
{
	return g_compute_checksum_for_data(G_CHECKSUM_SHA256, data, len);
}

GDateTime *
pi_now(void)
{
	const char *fake = g_getenv("PRIVACY_INBOX_NOW");

	if (fake != NULL && *fake != '\0') {
		GDateTime *dt = g_date_time_new_from_iso8601(fake, NULL);
		if (dt != NULL)
			return dt;
	}
	return g_date_time_new_now_utc();
}

char *
pi_iso8601(GDateTime *t)
{
	g_autoptr(GDateTime) utc = g_date_time_to_utc(t);

	return g_date_time_format(utc, "%Y-%m-%dT%H:%M:%SZ");
}

char *
pi_now_iso8601(void)
{
	g_autoptr(GDateTime) now = pi_now();

	return pi_iso8601(now);
}

gboolean
pi_ensure_dir(const char *dir, int mode, GError **error)
{
	if (g_mkdir_with_parents(dir, mode) != 0) {
		int saved = errno;
		g_set_error(error, COMMON_ERROR, PI_ERROR_FATAL, "cannot create %s: %s", dir,
		            g_strerror(saved));
		return FALSE;
	}
	if (g_chmod(dir, mode) != 0) {
		int saved = errno;
		g_set_error(error, COMMON_ERROR, PI_ERROR_FATAL, "cannot set mode of %s: %s", dir,
		            g_strerror(saved));
		return FALSE;
	}
	return TRUE;
}

gboolean
pi_fsync_dir(const char *dir, GError **error)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || fsync(fd) != 0) {
		int saved = errno;
		if (fd >= 0)
			close(fd);
		g_set_error(error, COMMON_ERROR, PI_ERROR_FATAL, "cannot sync folder %s: %s", dir,
		            g_strerror(saved));
		return FALSE;
	}
	close(fd);
	return TRUE;
}

gboolean
pi_write_file_atomic(const char *path, const void *data, gsize len, int mode, GError **error)
{
	g_autofree char *dir = g_path_get_dirname(path);
	g_autofree char *tmp = g_strdup_printf("%s.tmp.XXXXXX", path);
	const char *p = data;
	int fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, mode);

	if (fd < 0) {
		int saved = errno;
		g_set_error(error, COMMON_ERROR, PI_ERROR_FATAL, "cannot create %s: %s", tmp,
		            g_strerror(saved));
		return FALSE;
	}
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		p += n;
		len -= (gsize)n;
	}
	if (fchmod(fd, mode) != 0 || fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto fail;
	return pi_fsync_dir(dir, error);

fail: {
	int saved = errno;
	if (fd >= 0)
		close(fd);
	g_unlink(tmp);
	g_set_error(error, COMMON_ERROR, PI_ERROR_FATAL, "cannot write %s: %s", path,
	            g_strerror(saved));
	return FALSE;
}
}

char *
pi_header_sanitize(const char *value)
{
	GString *out;

	if (value == NULL)
		return g_strdup("");
	out = g_string_sized_new(strlen(value));
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		if (*p == '\t')
			g_string_append_c(out, ' ');
		else if (*p < 0x20 || *p == 0x7f)
			continue;
		else
			g_string_append_c(out, (char)*p);
	}
	/* C1 controls (U+0080–U+009F) and the Unicode line/paragraph separators
	 * can also break header folding in some clients. */
	if (g_utf8_validate(out->str, -1, NULL)) {
		GString *clean = g_string_sized_new(out->len);
		for (const char *q = out->str; *q; q = PI_UTF8_NEXT(q)) {
			gunichar c = g_utf8_get_char(q);
			if ((c >= 0x80 && c <= 0x9f) || c == 0x2028 || c == 0x2029)
				continue;
			g_string_append_unichar(clean, c);
		}
		g_string_free(out, TRUE);
		out = clean;
	}
	return g_string_free(out, FALSE);
}

gboolean
pi_text_has_japanese(const char *utf8)
{
	if (utf8 == NULL || !g_utf8_validate(utf8, -1, NULL))
		return FALSE;
	for (const char *p = utf8; *p; p = PI_UTF8_NEXT(p)) {
		gunichar c = g_utf8_get_char(p);
		GUnicodeScript s = g_unichar_get_script(c);
		if (s == G_UNICODE_SCRIPT_HIRAGANA || s == G_UNICODE_SCRIPT_KATAKANA ||
		    s == G_UNICODE_SCRIPT_HAN || (c >= 0xff01 && c <= 0xff9f))
			return TRUE;
	}
	return FALSE;
}

void
pi_json_add_string(JsonBuilder *builder, const char *member, const char *value)
{
	json_builder_set_member_name(builder, member);
	if (value != NULL)
		json_builder_add_string_value(builder, value);
	else
		json_builder_add_null_value(builder);
}

char *
pi_strv_join(const char *const *strv, const char *sep)
{
	GString *out = g_string_new(NULL);

	for (const char *const *s = strv; s && *s; s++) {
		if (s != strv)
			g_string_append(out, sep);
		g_string_append(out, *s);
	}
	return g_string_free(out, FALSE);
}

char **
pi_strv_copy(const char *const *strv)
{
	GPtrArray *out = g_ptr_array_new();

	for (const char *const *s = strv; s && *s; s++)
		g_ptr_array_add(out, g_strdup(*s));
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(out, FALSE);
}
