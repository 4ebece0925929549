#include "journal.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "buf.h"
#include "clock.h"
#include "fileio.h"
#include "jv.h"
#include "log.h"
#include "timefmt.h"
#include "xmalloc.h"

#define JOURNAL_MAX_BYTES ((size_t)64 * 1024 * 1024)
#define RUN_ID_MAX        ((size_t)64)

struct journal {
	int fd;
	char *path;
	char *run_id;
	int64_t seq;
};

static bool
valid_name(const char *s)
{
	size_t n = strlen(s);

	/* Names become path components: no separators, no dot files. */
	return n > 0 && n < RUN_ID_MAX * 2 && s[0] != '.' &&
	    strspn(s,
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		"0123456789-_.@") == n;
}

static struct journal *
journal_new(int fd, const char *path, const char *run_id, int64_t seq)
{
	struct journal *j = xcalloc(1, sizeof(*j));

	j->fd = fd;
	j->path = xstrdup(path);
	j->run_id = xstrdup(run_id);
	j->seq = seq;
	return j;
}

enum cr_err
journal_create(const char *dir, const char *cluster, const char *run_id,
    struct journal **jp)
{
	char *cdir = NULL, *path = NULL, *latest = NULL;
	enum cr_err err = CR_ERR_SYS;
	int fd;

	*jp = NULL;
	if (!valid_name(cluster) || !valid_name(run_id))
		return CR_ERR_CONFIG;
	cdir = file_path_join(dir, cluster);
	path = xasprintf("%s/%s.jsonl", cdir, run_id);
	latest = file_path_join(cdir, "latest");
	if (file_mkdirs(cdir, 0700) != CR_OK)
		goto out;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC,
	    0600);
	if (fd == -1) {
		err = errno == EEXIST ? CR_ERR_STATE : CR_ERR_SYS;
		goto out;
	}
	if (file_fsync_parent(path) != CR_OK ||
	    file_write_atomic(latest, run_id, strlen(run_id), 0600) != CR_OK) {
		close(fd);
		goto out;
	}
	*jp = journal_new(fd, path, run_id, 0);
	err = CR_OK;
out:
	free(cdir);
	free(path);
	free(latest);
	return err;
}

/* The run id is the file name without ".jsonl". */
static char *
run_id_of(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t n;

	base = base != NULL ? base + 1 : path;
	n = strlen(base);
	if (n > 6 && strcmp(base + n - 6, ".jsonl") == 0)
		n -= 6;
	return xstrndup(base, n);
}

enum cr_err
journal_reopen(const char *path, struct journal **jp)
{
	json_object *recs = NULL;
	enum cr_err err;
	char *run_id;
	int64_t seq = 0;
	size_t n;
	int fd;

	*jp = NULL;
	if ((err = journal_read(path, &recs, NULL, NULL)) != CR_OK)
		return err;
	n = json_object_array_length(recs);
	if (n > 0 &&
	    !jv_int(json_object_array_get_idx(recs, n - 1), "seq", &seq)) {
		json_object_put(recs);
		return CR_ERR_PROTO;
	}
	json_object_put(recs);
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)) == -1)
		return CR_ERR_SYS;
	run_id = run_id_of(path);
	*jp = journal_new(fd, path, run_id, n > 0 ? seq + 1 : 0);
	free(run_id);
	return CR_OK;
}

static enum cr_err
write_line(int fd, const char *line, size_t len)
{
	ssize_t w;

	while (len > 0) {
		w = write(fd, line, len);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			return CR_ERR_SYS;
		line += w;
		len -= (size_t)w;
	}
	return fsync(fd) == 0 ? CR_OK : CR_ERR_SYS;
}

enum cr_err
journal_append(struct journal *j, const char *event, json_object *fields)
{
	json_object *rec = json_object_new_object();
	char when[TIMEFMT_MAX];
	struct buf line = BUF_INIT;
	enum cr_err err;

	timefmt_micro(clock_now_ms(), when, sizeof(when));
	jv_add_str(rec, "ts", when);
	jv_add_str(rec, "run", j->run_id);
	jv_add_int(rec, "seq", j->seq);
	jv_add_str(rec, "event", event);
	if (fields != NULL) {
		json_object_object_foreach(fields, key, val)
		{
			json_object_object_add(rec, key, json_object_get(val));
		}
		json_object_put(fields);
	}
	buf_puts(&line, jv_to_string(rec));
	buf_putc(&line, '\n');
	json_object_put(rec);
	err = write_line(j->fd, buf_cstr(&line), line.len);
	buf_clear(&line);
	if (err == CR_OK)
		j->seq++;
	return err;
}

const char *
journal_path(const struct journal *j)
{
	return j->path;
}

const char *
journal_run_id(const struct journal *j)
{
	return j->run_id;
}

void
journal_close(struct journal *j)
{
	if (j == NULL)
		return;
	close(j->fd);
	free(j->path);
	free(j->run_id);
	free(j);
}

static enum cr_err
parse_lines(const struct buf *b, json_object *recs, int *tornp,
    size_t *bad_linep)
{
	const char *p = buf_cstr(b), *end = p + b->len, *nl;
	json_object *o;
	size_t lineno = 0;

	while (p < end) {
		lineno++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL) {
			/* A torn last line: the write never completed. */
			if (tornp != NULL)
				*tornp = 1;
			break;
		}
		if (jv_parse(p, (size_t)(nl - p), &o, NULL, 0) != CR_OK ||
		    !json_object_is_type(o, json_type_object)) {
			json_object_put(o);
			if (bad_linep != NULL)
				*bad_linep = lineno;
			return CR_ERR_PROTO;
		}
		json_object_array_add(recs, o);
		p = nl + 1;
	}
	return CR_OK;
}

enum cr_err
journal_read(const char *path, json_object **recordsp, int *tornp,
    size_t *bad_linep)
{
	struct buf b = BUF_INIT;
	json_object *recs;
	enum cr_err err;

	*recordsp = NULL;
	if (tornp != NULL)
		*tornp = 0;
	if ((err = file_read(path, JOURNAL_MAX_BYTES, &b)) != CR_OK)
		return err;
	recs = json_object_new_array();
	err = parse_lines(&b, recs, tornp, bad_linep);
	buf_clear(&b);
	if (err != CR_OK) {
		json_object_put(recs);
		return err;
	}
	*recordsp = recs;
	return CR_OK;
}

enum cr_err
journal_latest(const char *dir, const char *cluster, char **pathp,
    char **run_idp)
{
	char *cdir, *latest;
	struct buf b = BUF_INIT;
	enum cr_err err;
	char *id;

	if (pathp != NULL)
		*pathp = NULL;
	if (run_idp != NULL)
		*run_idp = NULL;
	if (!valid_name(cluster))
		return CR_ERR_CONFIG;
	cdir = file_path_join(dir, cluster);
	latest = file_path_join(cdir, "latest");
	err = file_read(latest, RUN_ID_MAX * 2, &b);
	free(latest);
	if (err != CR_OK) {
		free(cdir);
		return errno == ENOENT ? CR_ERR_NOTFOUND : err;
	}
	id = buf_detach(&b, NULL);
	id[strcspn(id, "\r\n")] = '\0';
	if (!valid_name(id)) {
		free(id);
		free(cdir);
		return CR_ERR_PROTO;
	}
	if (pathp != NULL)
		*pathp = xasprintf("%s/%s.jsonl", cdir, id);
	if (run_idp != NULL)
		*run_idp = id;
	else
		free(id);
	free(cdir);
	return CR_OK;
}

char *
journal_default_dir(void)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	struct passwd *pw;

	if (xdg != NULL && xdg[0] == '/')
		return file_path_join(xdg, "certroll");
	if ((home == NULL || home[0] != '/') &&
	    (pw = getpwuid(getuid())) != NULL)
		home = pw->pw_dir;
	return xasprintf("%s/.local/state/certroll",
	    home != NULL ? home : "/root");
}

char *
journal_new_run_id(void)
{
	unsigned char rnd[3] = { 0, 0, 0 };
	char when[32];
	time_t now = clock_now();
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y%m%dT%H%M%SZ", &tm);
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		fatalx("cannot get random bytes for a run id");
	return xasprintf("%s-%02x%02x%02x", when, rnd[0], rnd[1], rnd[2]);
}
