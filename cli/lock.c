/* lock.c — one instance per store: an exclusive flock() on [daemon]
 * lock_file, held for the life of the process (the kernel drops it when the
 * process dies, however it dies).  The file holds the holder's pid, for the
 * second instance's error and for `status`. */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

static pid_t
read_pid(int fd)
{
	char buf[32] = "";
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return (pid_t)g_ascii_strtoll(buf, NULL, 10);
}

int
cli_lock_acquire(const char *path, GError **error)
{
	g_autofree char *dir = g_path_get_dirname(path);
	char line[32];
	int fd, n;

	if (!g_file_test(dir, G_FILE_TEST_IS_DIR) && !pi_ensure_dir(dir, 0700, error))
		return -1;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
		            "cannot open lock file %s: %s", path, g_strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int saved = errno;
		pid_t holder = read_pid(fd);

		close(fd);
		if (saved == EWOULDBLOCK) {
			if (holder > 0)
				g_set_error(
				    error, G_IO_ERROR, G_IO_ERROR_BUSY,
				    "another privacy-inbox (pid %d) is already working on this "
				    "mailbox (lock %s held)",
				    (int)holder, path);
			else
				g_set_error(
				    error, G_IO_ERROR, G_IO_ERROR_BUSY,
				    "another privacy-inbox is already working on this mailbox "
				    "(lock %s held)",
				    path);
		} else {
			g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved),
			            "cannot lock %s: %s", path, g_strerror(saved));
		}
		return -1;
	}
	n = g_snprintf(line, sizeof(line), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, line, (size_t)n, 0) != n)
		g_debug("cannot write the pid into %s: %s", path, g_strerror(errno));
	return fd;
}

pid_t
cli_lock_holder(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	pid_t holder = 0;

	if (fd < 0)
		return 0;
	if (flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK)
		holder = MAX(read_pid(fd), 1);
	close(fd);
	return holder;
}
