/*
 * backup and restore of a node's certificates, kubeconfigs and static pod
 * manifests.
 *
 * A backup is <backup-dir>/<YYYYMMDDTHHMMSSZ>-<random>/ holding pki/, the
 * *.conf files and manifests/ with their relative paths, and
 * MANIFEST.sha256 (sha256sum's format) written last: a directory without
 * it is incomplete and is never restored. Restore trusts nothing in the
 * backup until every sum matched and no file is unlisted.
 */
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "agent.h"
#include "agent_int.h"
#include "fileio.h"
#include "jv.h"
#include "log.h"
#include "xmalloc.h"

#define BACKUP_MANIFEST "MANIFEST.sha256"
#define BACKUP_MAX_FILE ((size_t)64 * 1024 * 1024)
#define BACKUP_BLOCK    4096

/* One file of a backup, relative to the kubernetes dir. */
struct bfile {
	char *rel;
	mode_t mode;
	uint64_t size;
	char sum[65]; /* hex SHA-256 */
	struct buf data;
};

struct bfiles {
	struct bfile *v;
	size_t n;
};

static struct bfile *
bfiles_add(struct bfiles *fl, const char *rel)
{
	struct bfile *f;

	fl->v = xreallocarray(fl->v, fl->n + 1, sizeof(*fl->v));
	f = &fl->v[fl->n++];
	memset(f, 0, sizeof(*f));
	f->rel = xstrdup(rel);
	return f;
}

static void
bfiles_clear(struct bfiles *fl)
{
	size_t i;

	for (i = 0; i < fl->n; i++) {
		free(fl->v[i].rel);
		buf_clear_secret(&fl->v[i].data);
	}
	free(fl->v);
	fl->v = NULL;
	fl->n = 0;
}

static const struct bfile *
bfiles_find(const struct bfiles *fl, const char *rel)
{
	size_t i;

	for (i = 0; i < fl->n; i++)
		if (strcmp(fl->v[i].rel, rel) == 0)
			return &fl->v[i];
	return NULL;
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Private keys, and kubeconfigs that embed them, stay 0600. */
static mode_t
backup_mode(const char *rel, mode_t mode)
{
	if (ends_with(rel, ".key") || ends_with(rel, ".conf"))
		return 0600;
	return mode & 0644;
}

static char *
rel_join(const char *dir, const char *name)
{
	return dir[0] != '\0' ? xasprintf("%s/%s", dir, name) : xstrdup(name);
}

/* What walk() collects under a root. */
struct walk {
	const char *suffix; /* only regular files named so, or NULL */
	bool deep;          /* into subdirectories */
	bool any;           /* entries that are not regular files too */
	bool temps;         /* temporary files of atomic writes too */
	struct bfiles *files;
	struct strv *dirs; /* the subdirectories met, or NULL */
};

static bool
wanted(const struct walk *w, const char *name, const struct stat *st)
{
	if (!w->temps && strstr(name, AGENT_TMP_MARK) != NULL)
		return false;
	if (!S_ISREG(st->st_mode))
		return w->any;
	return w->suffix == NULL || ends_with(name, w->suffix);
}

/* Reports root/sub (named name) to w, or queues it when a directory. */
static void
visit(const char *root, const char *sub, const char *name, const struct walk *w,
    struct strv *queue)
{
	char *full = file_path_join(root, sub);
	struct bfile *f;
	struct stat st;

	if (lstat(full, &st) == -1) {
		free(full);
		return;
	}
	free(full);
	if (S_ISDIR(st.st_mode)) {
		if (w->deep)
			strv_push(queue, sub);
		if (w->deep && w->dirs != NULL)
			strv_push(w->dirs, sub);
	} else if (wanted(w, name, &st)) {
		f = bfiles_add(w->files, sub);
		f->mode = st.st_mode & 07777;
		f->size = (uint64_t)st.st_size;
	}
}

static void
walk_dir(const char *root, const char *rel, const struct walk *w,
    struct strv *queue)
{
	char *dir = rel[0] != '\0' ? file_path_join(root, rel) : xstrdup(root);
	struct dirent **names = NULL;
	char *sub;
	int n, i;

	n = scandir(dir, &names, NULL, alphasort);
	for (i = 0; i < n; i++) {
		const char *name = names[i]->d_name;

		if (strcmp(name, ".") != 0 && strcmp(name, "..") != 0) {
			sub = rel_join(rel, name);
			visit(root, sub, name, w, queue);
			free(sub);
		}
		free(names[i]);
	}
	free(names);
	free(dir);
}

static int
by_rel(const void *a, const void *b)
{
	return strcmp(((const struct bfile *)a)->rel,
	    ((const struct bfile *)b)->rel);
}

/*
 * Appends what w asks for under root/rel to w->files, sorted by relative
 * path. Breadth first with a queue: no recursion, symlinks never followed.
 */
static void
walk(const char *root, const char *rel, const struct walk *w)
{
	struct strv queue = { NULL, 0 };
	size_t i, first = w->files->n;

	strv_push(&queue, rel);
	for (i = 0; i < queue.n; i++)
		walk_dir(root, queue.v[i], w, &queue);
	strv_clear(&queue);
	if (w->files->n > first)
		qsort(w->files->v + first, w->files->n - first,
		    sizeof(w->files->v[0]), by_rel);
}

static void
sha256_hex(const struct buf *b, char hex[65])
{
	unsigned char md[32];
	unsigned int len = 0;
	size_t i;

	EVP_Digest(b->data != NULL ? b->data : (const uint8_t *)"", b->len, md,
	    &len, EVP_sha256(), NULL);
	for (i = 0; i < sizeof(md); i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

static uint64_t
free_space(const char *dir)
{
	char *path = xstrdup(dir), *slash;
	struct statvfs sv;

	while (statvfs(path, &sv) != 0) {
		if ((slash = strrchr(path, '/')) == NULL || slash == path) {
			free(path);
			return statvfs("/", &sv) == 0 ?
			    (uint64_t)sv.f_bavail * sv.f_frsize :
			    0;
		}
		*slash = '\0';
	}
	free(path);
	return (uint64_t)sv.f_bavail * sv.f_frsize;
}

static enum cr_err
check_space(const struct agent_backup_opts *o, const char *root,
    const struct bfiles *fl, char **error)
{
	uint64_t need = (uint64_t)(fl->n + 16) * BACKUP_BLOCK, avail;
	size_t i;

	for (i = 0; i < fl->n; i++)
		need += (fl->v[i].size + BACKUP_BLOCK - 1) / BACKUP_BLOCK *
		    BACKUP_BLOCK;
	avail = free_space(root);
	if (avail >= need && avail - need >= o->min_free_bytes)
		return CR_OK;
	*error = xasprintf("'%s' has %llu bytes free; the copy needs %llu "
			   "bytes%s: free space there or choose another "
			   "--backup-dir",
	    root, (unsigned long long)avail, (unsigned long long)need,
	    o->min_free_bytes > 0 ? " plus the free space asked to keep" : "");
	return CR_ERR_STATE;
}

static int
by_depth(const void *a, const void *b)
{
	size_t la = strlen(*(char *const *)a), lb = strlen(*(char *const *)b);

	return la < lb ? 1 : la > lb ? -1 : 0;
}

/* Removes path and, for a directory, everything under it (no symlinks). */
static int
rm_tree(const char *path)
{
	struct bfiles all = { NULL, 0 };
	struct strv dirs = { NULL, 0 };
	const struct walk w = { NULL, true, true, true, &all, &dirs };
	struct stat st;
	char *sub;
	size_t i;
	int rc = 0;

	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlink(path);
	walk(path, "", &w);
	for (i = 0; i < all.n; i++) {
		sub = file_path_join(path, all.v[i].rel);
		rc |= unlink(sub);
		free(sub);
	}
	/* Deepest first, so every directory is empty when it goes. */
	if (dirs.n > 0)
		qsort(dirs.v, dirs.n, sizeof(dirs.v[0]), by_depth);
	for (i = 0; i < dirs.n; i++) {
		sub = file_path_join(path, dirs.v[i]);
		rc |= rmdir(sub);
		free(sub);
	}
	bfiles_clear(&all);
	strv_clear(&dirs);
	return rc == 0 ? rmdir(path) : -1;
}

/* "20261128T130000Z-<6 random [a-z0-9]>" */
static char *
backup_name(time_t now)
{
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char rnd[6];
	char stamp[32], suffix[7];
	struct tm tm;
	size_t i;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		fatalx("no random bytes for a backup name");
	for (i = 0; i < sizeof(rnd); i++)
		suffix[i] = alnum[rnd[i] % (sizeof(alnum) - 1)];
	suffix[6] = '\0';
	return xasprintf("%s-%s", stamp, suffix);
}

static bool
is_backup_name(const char *s)
{
	size_t i;

	for (i = 0; i < 16; i++) {
		if (i == 8 && s[i] != 'T')
			return false;
		if (i == 15 && s[i] != 'Z')
			return false;
		if (i != 8 && i != 15 && (s[i] < '0' || s[i] > '9'))
			return false;
	}
	if (s[16] != '-' || s[17] == '\0')
		return false;
	return strspn(s + 17, "abcdefghijklmnopqrstuvwxyz0123456789") ==
	    strlen(s + 17);
}

static enum cr_err
copy_one(const char *kdir, const char *dst_root, struct bfile *f,
    struct buf *manifest)
{
	char *src = file_path_join(kdir, f->rel);
	char *dst = file_path_join(dst_root, f->rel);
	char *parent = xstrdup(dst);
	enum cr_err err;

	if ((err = file_read(src, BACKUP_MAX_FILE, &f->data)) != CR_OK) {
		log_warn("backup: read '%s'", src);
		goto out;
	}
	sha256_hex(&f->data, f->sum);
	if ((err = file_mkdirs(dirname(parent), 0700)) != CR_OK ||
	    (err = file_write_atomic(dst, f->data.data, f->data.len,
		 (int)backup_mode(f->rel, f->mode))) != CR_OK) {
		log_warn("backup: write '%s'", dst);
		goto out;
	}
	buf_printf(manifest, "%s  %s\n", f->sum, f->rel);
out:
	buf_clear_secret(&f->data);
	free(src);
	free(dst);
	free(parent);
	return err;
}

static void
collect_node(const char *kdir, struct bfiles *fl)
{
	const struct walk deep = { NULL, true, false, false, fl, NULL };
	const struct walk confs = { ".conf", false, false, false, fl, NULL };

	walk(kdir, "pki", &deep);
	walk(kdir, "", &confs);
	walk(kdir, "manifests", &deep);
}

/* Makes root/<new name> (0700); *pathp to free(). */
static enum cr_err
make_backup_dir(const char *root, time_t now, char **pathp)
{
	char *name, *path;
	int tries;

	if (file_mkdirs(root, 0700) != CR_OK) {
		log_warn("backup: create '%s'", root);
		return CR_ERR_SYS;
	}
	for (tries = 0; tries < 8; tries++) {
		name = backup_name(now);
		path = file_path_join(root, name);
		free(name);
		if (mkdir(path, 0700) == 0) {
			*pathp = path;
			return CR_OK;
		}
		free(path);
		if (errno != EEXIST)
			break;
	}
	log_warn("backup: create a directory under '%s'", root);
	return CR_ERR_SYS;
}

static enum cr_err
copy_all(const char *kdir, const char *path, struct bfiles *fl,
    struct agent_backup_result *r)
{
	struct buf manifest = BUF_INIT;
	char *mpath = file_path_join(path, BACKUP_MANIFEST);
	enum cr_err err = CR_OK;
	size_t i;

	for (i = 0; i < fl->n && err == CR_OK; i++) {
		err = copy_one(kdir, path, &fl->v[i], &manifest);
		r->bytes += fl->v[i].size;
	}
	/* The manifest goes last: a backup without it is incomplete. */
	if (err == CR_OK &&
	    (err = file_write_atomic(mpath, manifest.data, manifest.len,
		 0600)) != CR_OK)
		log_warn("backup: write '%s'", mpath);
	r->files = fl->n;
	buf_clear(&manifest);
	free(mpath);
	return err;
}

/* One backup directory and when it was made. */
struct bdir {
	char *name;
	struct timespec mtime; /* of the directory: its last file written */
};

static int
by_age(const void *a, const void *b)
{
	const struct bdir *x = a, *y = b;
	int c = strncmp(x->name, y->name, 16);

	if (c != 0)
		return c;
	/* The same second: the directory written last is the newer. */
	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* The backups under root, oldest first; *np of them, to free_bdirs(). */
static struct bdir *
list_backups(const char *root, size_t *np)
{
	struct dirent **names = NULL;
	struct bdir *v = NULL;
	struct stat st;
	size_t n = 0;
	char *path;
	int count, i;

	count = scandir(root, &names, NULL, alphasort);
	for (i = 0; i < count; i++) {
		path = file_path_join(root, names[i]->d_name);
		if (is_backup_name(names[i]->d_name) && lstat(path, &st) == 0 &&
		    S_ISDIR(st.st_mode)) {
			v = xreallocarray(v, n + 1, sizeof(*v));
			v[n].name = xstrdup(names[i]->d_name);
			v[n++].mtime = st.st_mtim;
		}
		free(path);
		free(names[i]);
	}
	free(names);
	if (n > 0)
		qsort(v, n, sizeof(*v), by_age);
	*np = n;
	return v;
}

static void
free_bdirs(struct bdir *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

static void
prune(const char *root, unsigned keep, const char *keep_path,
    struct strv *pruned)
{
	size_t n, count, i;
	struct bdir *v = list_backups(root, &n);
	char *path;

	for (i = 0, count = n; i < n && count > keep; i++) {
		path = file_path_join(root, v[i].name);
		if (strcmp(path, keep_path) == 0) {
			free(path);
			continue;
		}
		if (rm_tree(path) == 0) {
			strv_push(pruned, path);
			count--;
		} else {
			log_warn("backup: remove old backup '%s'", path);
		}
		free(path);
	}
	free_bdirs(v, n);
}

enum cr_err
agent_backup(const struct agent_backup_opts *o, struct agent_backup_result *r)
{
	const char *kdir = agent_kdir(o->kubernetes_dir);
	const char *root = o->backup_dir != NULL ? o->backup_dir :
						   AGENT_BACKUP_DIR;
	struct bfiles fl = { NULL, 0 };
	char *path = NULL, *error = NULL;
	enum cr_err err;

	memset(r, 0, sizeof(*r));
	collect_node(kdir, &fl);
	if (fl.n == 0) {
		error = xasprintf("nothing to back up under '%s' (no pki/, "
				  "*.conf or manifests/): wrong "
				  "--kubernetes-dir?",
		    kdir);
		log_warnx("backup: %s", error);
		err = CR_ERR_NOTFOUND;
		goto out;
	}
	if ((err = check_space(o, root, &fl, &error)) != CR_OK) {
		log_warnx("backup: %s", error);
		goto out;
	}
	if ((err = make_backup_dir(root, o->now, &path)) != CR_OK) {
		error = xasprintf("cannot make a backup directory under '%s' "
				  "(%s): check it or choose another "
				  "--backup-dir",
		    root, strerror(errno));
		goto out;
	}
	if ((err = copy_all(kdir, path, &fl, r)) != CR_OK ||
	    (err = file_fsync_dir(root)) != CR_OK) {
		error = xasprintf("copying into '%s' failed (%s); the partial "
				  "copy is removed",
		    path, strerror(errno));
		if (rm_tree(path) == -1)
			log_warn("backup: remove incomplete '%s'", path);
		goto out;
	}
	prune(root, o->keep != 0 ? o->keep : AGENT_BACKUP_KEEP, path,
	    &r->pruned);
	log_info("backed up %zu files of '%s' to '%s'", fl.n, kdir, path);
	r->path = path;
	path = NULL;
out:
	if (err != CR_OK) {
		strv_clear(&r->pruned);
		memset(r, 0, sizeof(*r));
		r->error = error; /* the system errors were logged below */
	}
	free(path);
	bfiles_clear(&fl);
	return err;
}

void
agent_backup_result_clear(struct agent_backup_result *r)
{
	free(r->path);
	free(r->error);
	strv_clear(&r->pruned);
	memset(r, 0, sizeof(*r));
}

static json_object *
strv_json(const struct strv *sv)
{
	json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < sv->n; i++)
		json_object_array_add(a, json_object_new_string(sv->v[i]));
	return a;
}

json_object *
agent_backup_result_to_json(const struct agent_backup_result *r)
{
	json_object *o = json_object_new_object();

	jv_add_str(o, "path", r->path);
	jv_add_int(o, "files", (int64_t)r->files);
	jv_add_int(o, "bytes", (int64_t)r->bytes);
	json_object_object_add(o, "pruned", strv_json(&r->pruned));
	return o;
}

static bool
complete(const char *root, const char *name)
{
	char *m = xasprintf("%s/%s/%s", root, name, BACKUP_MANIFEST);
	bool ok = file_exists(m);

	free(m);
	return ok;
}

static char *
latest(const char *root)
{
	size_t n, i;
	struct bdir *v = list_backups(root, &n);
	char *found = NULL;

	for (i = n; i-- > 0 && found == NULL;)
		if (complete(root, v[i].name))
			found = file_path_join(root, v[i].name);
	free_bdirs(v, n);
	return found;
}

enum cr_err
agent_backup_resolve(const char *backup_dir, const char *name, char **pathp)
{
	const char *root = backup_dir != NULL ? backup_dir : AGENT_BACKUP_DIR;
	struct stat st;
	char *path;

	*pathp = NULL;
	if (name == NULL)
		name = "latest";
	if (strcmp(name, "latest") == 0)
		path = latest(root);
	else if (strchr(name, '/') != NULL)
		path = xstrdup(name);
	else
		path = file_path_join(root, name);
	if (path == NULL || stat(path, &st) == -1 || !S_ISDIR(st.st_mode)) {
		log_warnx("no backup '%s' (looked in '%s'): list it with 'ls "
			  "%s'",
		    name, path != NULL ? path : root, root);
		free(path);
		return CR_ERR_NOTFOUND;
	}
	*pathp = path;
	return CR_OK;
}

/* True if one path component is empty, "." or "..". */
static bool
bad_component(const char *p, size_t n)
{
	return n == 0 || (n == 1 && p[0] == '.') ||
	    (n == 2 && p[0] == '.' && p[1] == '.');
}

/* A path the manifest may name: under pki/ or manifests/, or a *.conf. */
static bool
valid_rel(const char *rel)
{
	const char *p = rel;
	size_t n;

	for (;;) {
		n = strcspn(p, "/");
		if (bad_component(p, n))
			return false;
		if (p[n] == '\0')
			break;
		p += n + 1;
	}
	if (strncmp(rel, "pki/", 4) == 0 || strncmp(rel, "manifests/", 10) == 0)
		return true;
	return strchr(rel, '/') == NULL && ends_with(rel, ".conf");
}

static enum cr_err
parse_manifest(const char *backup, const char *text, struct bfiles *fl)
{
	const char *line = text, *nl;
	unsigned lineno = 0;
	char rel[4096];
	size_t len;

	for (; *line != '\0'; line = nl + 1) {
		lineno++;
		if ((nl = strchr(line, '\n')) == NULL ||
		    (len = (size_t)(nl - line)) < 67 ||
		    len - 66 >= sizeof(rel) ||
		    strspn(line, "0123456789abcdef") != 64 ||
		    strncmp(line + 64, "  ", 2) != 0) {
			log_warnx("restore: '%s/%s' line %u is malformed: "
				  "refusing a damaged backup",
			    backup, BACKUP_MANIFEST, lineno);
			return CR_ERR_VERIFY;
		}
		memcpy(rel, line + 66, len - 66);
		rel[len - 66] = '\0';
		if (!valid_rel(rel) || bfiles_find(fl, rel) != NULL) {
			log_warnx("restore: '%s/%s' line %u names '%s', "
				  "outside what a backup holds",
			    backup, BACKUP_MANIFEST, lineno, rel);
			return CR_ERR_VERIFY;
		}
		memcpy(bfiles_add(fl, rel)->sum, line, 64);
	}
	return CR_OK;
}

/* Reads every listed file of the backup and checks its sum. */
static enum cr_err
check_sums(const char *backup, struct bfiles *fl)
{
	struct stat st;
	char sum[65], *path;
	size_t i;

	for (i = 0; i < fl->n; i++) {
		struct bfile *f = &fl->v[i];

		path = file_path_join(backup, f->rel);
		if (lstat(path, &st) == -1 || !S_ISREG(st.st_mode) ||
		    file_read(path, BACKUP_MAX_FILE, &f->data) != CR_OK) {
			log_warnx("restore: '%s' is listed in the backup's "
				  "%s but cannot be read: refusing",
			    path, BACKUP_MANIFEST);
			free(path);
			return CR_ERR_VERIFY;
		}
		f->mode = st.st_mode & 07777;
		sha256_hex(&f->data, sum);
		if (strcmp(sum, f->sum) != 0) {
			log_warnx("restore: '%s' does not match its sum in "
				  "%s (changed since the backup): refusing "
				  "the whole backup",
			    path, BACKUP_MANIFEST);
			free(path);
			return CR_ERR_VERIFY;
		}
		free(path);
	}
	return CR_OK;
}

/*
 * Every file in the backup must be listed: anything else is tampering.
 * The etcd snapshot the first node's backup step adds beside the files is
 * not listed (it is never restored into the tree) and is let be.
 */
static enum cr_err
check_unlisted(const char *backup, const struct bfiles *fl)
{
	struct bfiles all = { NULL, 0 };
	const struct walk w = { NULL, true, true, true, &all, NULL };
	enum cr_err err = CR_OK;
	const char *rel;
	size_t i;

	walk(backup, "", &w);
	for (i = 0; i < all.n && err == CR_OK; i++) {
		rel = all.v[i].rel;
		if (strcmp(rel, BACKUP_MANIFEST) == 0 ||
		    bfiles_find(fl, rel) != NULL ||
		    (strchr(rel, '/') == NULL && agent_snapshot_file(rel)))
			continue;
		log_warnx("restore: '%s/%s' is not listed in %s: refusing a "
			  "backup that was changed",
		    backup, rel, BACKUP_MANIFEST);
		err = CR_ERR_VERIFY;
	}
	bfiles_clear(&all);
	return err;
}

static enum cr_err
load_backup(const char *backup, struct bfiles *fl)
{
	char *mpath = file_path_join(backup, BACKUP_MANIFEST);
	struct buf text = BUF_INIT;
	enum cr_err err;
	size_t i, pki = 0;

	if (file_read(mpath, BACKUP_MAX_FILE, &text) != CR_OK) {
		log_warn("restore: read '%s' (an incomplete backup has none)",
		    mpath);
		free(mpath);
		return CR_ERR_VERIFY;
	}
	free(mpath);
	err = parse_manifest(backup, buf_cstr(&text), fl);
	buf_clear(&text);
	if (err != CR_OK || (err = check_sums(backup, fl)) != CR_OK ||
	    (err = check_unlisted(backup, fl)) != CR_OK)
		return err;
	for (i = 0; i < fl->n; i++)
		pki += strncmp(fl->v[i].rel, "pki/", 4) == 0;
	if (pki == 0) {
		log_warnx("restore: '%s' holds no pki/ files: refusing to "
			  "empty pki/",
		    backup);
		return CR_ERR_VERIFY;
	}
	return CR_OK;
}

static bool
same_content(const char *path, const struct buf *data)
{
	struct buf cur = BUF_INIT;
	bool same = file_read(path, BACKUP_MAX_FILE, &cur) == CR_OK &&
	    cur.len == data->len &&
	    (cur.len == 0 || memcmp(cur.data, data->data, cur.len) == 0);

	buf_clear_secret(&cur);
	return same;
}

static enum cr_err
put_back(const char *kdir, const struct bfile *f,
    struct agent_restore_result *r)
{
	char *path = file_path_join(kdir, f->rel);
	char *parent = xstrdup(path);
	enum cr_err err = CR_OK;

	if (same_content(path, &f->data))
		goto out;
	if ((err = file_mkdirs(dirname(parent), 0700)) != CR_OK ||
	    (err = file_write_atomic(path, f->data.data, f->data.len,
		 (int)f->mode)) != CR_OK) {
		log_warn("restore: write '%s'", path);
		goto out;
	}
	strv_push(&r->restored, f->rel);
out:
	free(path);
	free(parent);
	return err;
}

/* Removes regular files under pki/ that the backup does not hold. */
static enum cr_err
remove_extra(const char *kdir, const struct bfiles *fl,
    struct agent_restore_result *r)
{
	struct bfiles cur = { NULL, 0 };
	const struct walk w = { NULL, true, false, true, &cur, NULL };
	enum cr_err err = CR_OK;
	char *path;
	size_t i;

	walk(kdir, "pki", &w);
	for (i = 0; i < cur.n; i++) {
		if (bfiles_find(fl, cur.v[i].rel) != NULL)
			continue;
		path = file_path_join(kdir, cur.v[i].rel);
		if (unlink(path) == -1 || file_fsync_parent(path) != CR_OK) {
			log_warn("restore: remove '%s'", path);
			err = CR_ERR_SYS;
		} else {
			strv_push(&r->removed, cur.v[i].rel);
		}
		free(path);
	}
	bfiles_clear(&cur);
	return err;
}

enum cr_err
agent_restore(const char *kubernetes_dir, const char *backup,
    struct agent_restore_result *r)
{
	const char *kdir = agent_kdir(kubernetes_dir);
	struct bfiles fl = { NULL, 0 };
	enum cr_err err;
	int pass;
	size_t i;

	memset(r, 0, sizeof(*r));
	if ((err = load_backup(backup, &fl)) != CR_OK)
		goto out;
	/* Keys first, then what depends on them, as kubeadm writes them. */
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < fl.n && err == CR_OK; i++)
			if (ends_with(fl.v[i].rel, ".key") == (pass == 0))
				err = put_back(kdir, &fl.v[i], r);
	if (err == CR_OK)
		err = remove_extra(kdir, &fl, r);
	if (err == CR_OK)
		log_info("restored '%s' from '%s': %zu files written, %zu "
			 "removed",
		    kdir, backup, r->restored.n, r->removed.n);
out:
	bfiles_clear(&fl);
	return err;
}

void
agent_restore_result_clear(struct agent_restore_result *r)
{
	strv_clear(&r->restored);
	strv_clear(&r->removed);
}

json_object *
agent_restore_result_to_json(const struct agent_restore_result *r)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "restored", strv_json(&r->restored));
	json_object_object_add(o, "removed", strv_json(&r->removed));
	return o;
}

static void
backup_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: certroll-agent backup [--kubernetes-dir DIR] "
	    "[--backup-dir DIR]\n"
	    "           [--keep N] [--min-free BYTES] [-o text|json]\n\n"
	    "Copies pki/ (recursively), every *.conf and manifests/ of the "
	    "kubernetes dir\nto a new directory <backup-dir>/<UTC "
	    "time>-<random>: directories 0700, keys\nand kubeconfigs 0600, "
	    "other files at most 0644. MANIFEST.sha256 (sha256sum\nformat) is "
	    "written last. Then only the newest N backups are kept.\n\n"
	    "  --kubernetes-dir DIR  what to back up (default "
	    "/etc/kubernetes)\n"
	    "  --backup-dir DIR      where backups go (default "
	    "/var/lib/certroll/backups)\n"
	    "  --keep N              backups to keep, the new one included "
	    "(default 5)\n"
	    "  --min-free BYTES      refuse unless this much stays free after "
	    "the copy\n"
	    "  -o text|json          output format (default text)\n\n"
	    "Examples:\n"
	    "  certroll-agent backup\n"
	    "  cd /var/lib/certroll/backups/20261128T130000Z-k3x9qa && "
	    "sha256sum -c MANIFEST.sha256\n\n"
	    "Exit status: 0 backed up, 1 failed (e.g. not enough space), 2 "
	    "usage error.\n");
}

static void
restore_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: certroll-agent restore BACKUP [--kubernetes-dir DIR] "
	    "[--backup-dir DIR]\n"
	    "           [-o text|json]\n\n"
	    "Puts a backup made by 'certroll-agent backup' back. BACKUP is a "
	    "path, a\ndirectory name under --backup-dir, or 'latest'. Every "
	    "sum in its\nMANIFEST.sha256 is checked first, and a file the "
	    "manifest does not list is\ntaken as tampering: any mismatch "
	    "refuses, naming the file, and nothing is\nchanged. Then each "
	    "file that differs is replaced atomically (keys first),\nand files "
	    "under pki/ that the backup does not hold are removed (a "
	    "renewal\nadds files nowhere else). Restart the components "
	    "afterwards.\n\n"
	    "Examples:\n"
	    "  certroll-agent restore latest\n"
	    "  certroll-agent restore "
	    "/var/lib/certroll/backups/20261128T130000Z-k3x9qa\n\n"
	    "Exit status: 0 restored, 1 refused or failed, 2 usage error.\n");
}

struct backup_args {
	struct agent_backup_opts o;
	const char *backup; /* restore */
	bool json;
};

static int
parse_count(const char *cmd, const char *opt, const char *s, uint64_t max,
    uint64_t *outp)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0 || v > max)
		return agent_usage(cmd, "%s: '%s' is not a number up to %llu",
		    opt, s, (unsigned long long)max);
	*outp = v;
	return 0;
}

static int
backup_opt(const char *cmd, struct backup_args *a, int c, const char *arg)
{
	uint64_t v = 0;
	int rc = 0;

	switch (c) {
	case 'k':
		a->o.kubernetes_dir = arg;
		break;
	case 'b':
		a->o.backup_dir = arg;
		break;
	case 'n':
		if ((rc = parse_count(cmd, "--keep", arg, 1000, &v)) == 0 &&
		    v == 0)
			rc = agent_usage(cmd, "--keep: at least 1");
		a->o.keep = (unsigned)v;
		break;
	case 'm':
		rc = parse_count(cmd, "--min-free", arg, UINT64_MAX,
		    &a->o.min_free_bytes);
		break;
	case 'o':
		if (!agent_output_parse(arg, &a->json))
			rc = agent_usage(cmd,
			    "-o: unknown format '%s' (text or json)", arg);
		break;
	default:
		rc = agent_usage(cmd, "unknown option");
	}
	return rc;
}

static const struct option backup_opts[] = {
	{ "kubernetes-dir", required_argument, NULL, 'k' },
	{ "backup-dir", required_argument, NULL, 'b' },
	{ "keep", required_argument, NULL, 'n' },
	{ "min-free", required_argument, NULL, 'm' },
	{ "output", required_argument, NULL, 'o' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* restore takes the same options but --keep and --min-free. */
static const struct option restore_opts[] = {
	{ "kubernetes-dir", required_argument, NULL, 'k' },
	{ "backup-dir", required_argument, NULL, 'b' },
	{ "output", required_argument, NULL, 'o' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Returns 0, -1 for --help, or a usage exit status. */
static int
parse_opts(const char *cmd, const struct option *opts, int argc, char **argv,
    struct backup_args *a)
{
	int c, rc;

	memset(a, 0, sizeof(*a));
	a->o.now = time(NULL);
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		if (c == 'h')
			return -1;
		if ((rc = backup_opt(cmd, a, c, optarg)) != 0)
			return rc;
	}
	return 0;
}

static int
backup_parse(int argc, char **argv, struct backup_args *a)
{
	int rc = parse_opts("backup", backup_opts, argc, argv, a);

	if (rc == -1)
		backup_usage(stdout);
	if (rc == 0 && optind != argc)
		rc = agent_usage("backup", "unexpected argument '%s'",
		    argv[optind]);
	return rc;
}

static int
restore_parse(int argc, char **argv, struct backup_args *a)
{
	int rc = parse_opts("restore", restore_opts, argc, argv, a);

	if (rc == -1)
		restore_usage(stdout);
	if (rc == 0 && optind + 1 != argc)
		rc = agent_usage("restore",
		    "name one BACKUP (a path, a name under --backup-dir, or "
		    "'latest')");
	if (rc == 0)
		a->backup = argv[optind];
	return rc;
}

int
agent_cmd_backup(int argc, char **argv)
{
	struct agent_backup_result r;
	struct backup_args a;
	size_t i;
	int rc;

	if ((rc = backup_parse(argc, argv, &a)) != 0)
		return rc == -1 ? AGENT_EXIT_OK : rc;
	if (agent_backup(&a.o, &r) != CR_OK) {
		agent_backup_result_clear(&r);
		return AGENT_EXIT_FAIL;
	}
	if (a.json) {
		agent_print_json(agent_backup_result_to_json(&r));
	} else {
		printf("backup %s: %zu files, %llu bytes\n", r.path, r.files,
		    (unsigned long long)r.bytes);
		for (i = 0; i < r.pruned.n; i++)
			printf("removed old backup %s\n", r.pruned.v[i]);
	}
	agent_backup_result_clear(&r);
	return AGENT_EXIT_OK;
}

int
agent_cmd_restore(int argc, char **argv)
{
	struct agent_restore_result r;
	struct backup_args a;
	char *path = NULL;
	enum cr_err err;
	size_t i;
	int rc;

	if ((rc = restore_parse(argc, argv, &a)) != 0)
		return rc == -1 ? AGENT_EXIT_OK : rc;
	if (agent_backup_resolve(a.o.backup_dir, a.backup, &path) != CR_OK)
		return AGENT_EXIT_FAIL;
	err = agent_restore(a.o.kubernetes_dir, path, &r);
	if (err == CR_OK && a.json) {
		agent_print_json(agent_restore_result_to_json(&r));
	} else if (err == CR_OK) {
		for (i = 0; i < r.restored.n; i++)
			printf("restored %s\n", r.restored.v[i]);
		for (i = 0; i < r.removed.n; i++)
			printf("removed  %s (not in the backup)\n",
			    r.removed.v[i]);
		printf("%s restored from %s; restart the control-plane "
		       "components to use it\n",
		    agent_kdir(a.o.kubernetes_dir), path);
	}
	agent_restore_result_clear(&r);
	free(path);
	return err == CR_OK ? AGENT_EXIT_OK : AGENT_EXIT_FAIL;
}
