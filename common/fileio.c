#include "fileio.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xmalloc.h"

enum cr_err
file_read(const char *path, size_t max, struct buf *out)
{
	struct buf tmp = BUF_INIT;
	char chunk[8192];
	ssize_t n;
	int fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return CR_ERR_SYS;
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (tmp.len + (size_t)n > max) {
			n = -1;
			errno = EFBIG;
			break;
		}
		buf_put(&tmp, chunk, (size_t)n);
	}
	saved = errno;
	close(fd);
	if (n < 0) {
		buf_clear_secret(&tmp);
		errno = saved;
		return CR_ERR_SYS;
	}
	buf_put(out, tmp.data, tmp.len);
	buf_clear_secret(&tmp);
	return CR_OK;
}

enum cr_err
file_fsync_dir(const char *dir)
{
	int fd, rc;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return CR_ERR_SYS;
	rc = fsync(fd);
	close(fd);
	return rc == 0 ? CR_OK : CR_ERR_SYS;
}

enum cr_err
file_fsync_parent(const char *path)
{
	char *copy = xstrdup(path);
	enum cr_err err = file_fsync_dir(dirname(copy));
	int saved = errno;

	free(copy);
	errno = saved;
	return err;
}

static int
write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Decides the new file's mode and owner from mode and the file replaced. */
static void
target_attrs(const char *path, int mode, mode_t *modep, uid_t *uidp,
    gid_t *gidp)
{
	struct stat st;

	*uidp = (uid_t)-1;
	*gidp = (gid_t)-1;
	*modep = mode == FILE_MODE_KEEP ? 0600 : (mode_t)mode;
	if (stat(path, &st) == 0) {
		if (mode == FILE_MODE_KEEP)
			*modep = st.st_mode & 07777;
		*uidp = st.st_uid;
		*gidp = st.st_gid;
	}
}

enum cr_err
file_write_atomic(const char *path, const void *data, size_t len, int mode)
{
	char *tmp = xasprintf("%s.certroll-XXXXXX", path);
	mode_t m;
	uid_t uid;
	gid_t gid;
	int fd, saved;

	target_attrs(path, mode, &m, &uid, &gid);
	if ((fd = mkstemp(tmp)) == -1)
		goto fail;
	if (fchmod(fd, m) == -1)
		goto fail_fd;
	/* Keep the owner where we may; EPERM for a non-root caller is fine. */
	if (uid != (uid_t)-1 && fchown(fd, uid, gid) == -1 && errno != EPERM)
		goto fail_fd;
	if (write_all(fd, data, len) == -1 || fsync(fd) == -1)
		goto fail_fd;
	if (close(fd) == -1)
		goto fail_unlink; /* closed all the same */
	if (rename(tmp, path) == -1)
		goto fail_unlink;
	free(tmp);
	return file_fsync_parent(path);
fail_fd:
	saved = errno;
	close(fd);
	errno = saved;
fail_unlink:
	saved = errno;
	unlink(tmp);
	errno = saved;
fail:
	free(tmp);
	return CR_ERR_SYS;
}

enum cr_err
file_copy(const char *src, const char *dst, int mode)
{
	struct buf b = BUF_INIT;
	struct stat st;
	enum cr_err err;
	int saved;

	if (stat(src, &st) == -1)
		return CR_ERR_SYS;
	if ((err = file_read(src, (size_t)st.st_size + 65536, &b)) != CR_OK)
		return err;
	err = file_write_atomic(dst, b.data, b.len,
	    mode == FILE_MODE_KEEP ? (int)(st.st_mode & 07777) : mode);
	saved = errno;
	buf_clear_secret(&b);
	errno = saved;
	return err;
}

enum cr_err
file_mkdirs(const char *dir, mode_t mode)
{
	char *p = xstrdup(dir), *s;
	struct stat st;
	enum cr_err err = CR_ERR_SYS;

	for (s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, mode) == -1 &&
		    (errno != EEXIST || stat(p, &st) == -1 ||
			!S_ISDIR(st.st_mode))) {
			if (errno == EEXIST)
				errno = ENOTDIR;
			goto out;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	err = CR_OK;
out:
	free(p);
	return err;
}

bool
file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

char *
file_path_join(const char *a, const char *b)
{
	size_t la = strlen(a);

	if (b[0] == '/')
		return xstrdup(b);
	if (la > 0 && a[la - 1] == '/')
		return xasprintf("%s%s", a, b);
	return xasprintf("%s/%s", a, b);
}
