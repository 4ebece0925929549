/*
 * The node facts a renewal plan needs: the node's clock, kubeadm's version,
 * free space where backups go, the kubelet's fileCheckFrequency, the static
 * pods present, local or external etcd, leftovers of an interrupted run and
 * whether super-admin.conf belongs on this node.
 */
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "agent_int.h"
#include "clock.h"
#include "duration.h"
#include "fileio.h"
#include "jv.h"
#include "log.h"
#include "manifest.h"
#include "run.h"
#include "timefmt.h"
#include "xmalloc.h"

#define KUBEADM_VERSION_TIMEOUT_MS 10000

/* `kubeadm version -o short`, or NULL when kubeadm is absent or fails. */
static char *
kubeadm_version(const char *kubeadm)
{
	const char *argv[] = { kubeadm != NULL ? kubeadm : "kubeadm", "version",
		"-o", "short", NULL };
	struct run_cmd c = RUN_CMD_INIT;
	char desc[96], *v = NULL;
	size_t n;

	if (!agent_which(argv[0]))
		return NULL;
	c.argv = argv;
	c.timeout_ms = KUBEADM_VERSION_TIMEOUT_MS;
	c.max_output = 4096;
	if (run_cmd(&c) == CR_OK) {
		v = xstrdup(buf_cstr(&c.out));
		n = strcspn(v, "\r\n");
		v[n] = '\0';
	} else {
		run_cmd_describe(&c, desc, sizeof(desc));
		log_warnx("'%s version -o short' %s", argv[0], desc);
	}
	run_cmd_clear(&c);
	return v;
}

/* Free bytes for unprivileged use at dir or its nearest existing parent. */
static uint64_t
free_bytes(const char *dir)
{
	char *path = xstrdup(dir), *slash;
	struct statvfs sv;
	uint64_t n = 0;

	for (;;) {
		if (statvfs(path, &sv) == 0) {
			n = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
			break;
		}
		if ((slash = strrchr(path, '/')) == NULL || slash == path) {
			if (statvfs("/", &sv) == 0)
				n = (uint64_t)sv.f_bavail *
				    (uint64_t)sv.f_frsize;
			break;
		}
		*slash = '\0';
	}
	free(path);
	return n;
}

static int64_t
file_check_frequency(const char *kubelet_dir)
{
	char *path = file_path_join(kubelet_dir != NULL ? kubelet_dir :
							  AGENT_KUBELET_DIR,
	    "config.yaml");
	struct manifest_diag diag;
	int64_t ms = MANIFEST_DEFAULT_FCF_MS;
	enum cr_err err;

	memset(&diag, 0, sizeof(diag));
	err = manifest_file_check_frequency(path, &ms, &diag);
	if (err == CR_ERR_CONFIG)
		log_warnx("'%s':%u:%u: %s; assuming the kubelet's default 20s",
		    path, diag.line, diag.col, diag.msg);
	else if (err == CR_ERR_SYS && errno != ENOENT)
		log_warn("read '%s'; assuming the kubelet's default 20s", path);
	if (err != CR_OK)
		ms = MANIFEST_DEFAULT_FCF_MS;
	free(path);
	return ms;
}

/*
 * Regular files (when files) or every entry of dir, sorted, prefixed with
 * prefix; temporary files of file_write_atomic() only when temps.
 */
static void
list_dir(const char *dir, const char *prefix, bool temps, struct strv *out)
{
	struct dirent **names = NULL;
	char *full;
	struct stat st;
	int n, i;

	if ((n = scandir(dir, &names, NULL, alphasort)) < 0)
		return;
	for (i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		bool temp = strstr(name, AGENT_TMP_MARK) != NULL;

		full = file_path_join(dir, name);
		if (name[0] != '.' && temp == temps && lstat(full, &st) == 0 &&
		    !S_ISDIR(st.st_mode)) {
			char *rel = xasprintf("%s%s", prefix, name);

			strv_push(out, rel);
			free(rel);
		}
		free(full);
		free(names[i]);
	}
	free(names);
}

static void
leftovers(const char *kdir, struct strv *out)
{
	static const char *const dirs[] = { "", "pki", "pki/etcd",
		"manifests" };
	char *held = file_path_join(kdir, AGENT_HELD_DIR), *dir, *prefix;
	size_t i;

	/* Manifests a restart moved out and never put back. */
	list_dir(held, AGENT_HELD_DIR "/", false, out);
	list_dir(held, AGENT_HELD_DIR "/", true, out);
	free(held);
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		dir = file_path_join(kdir, dirs[i][0] != '\0' ? dirs[i] : ".");
		prefix = dirs[i][0] != '\0' ? xasprintf("%s/", dirs[i]) :
					      xstrdup("");
		list_dir(dir, prefix, true, out);
		free(dir);
		free(prefix);
	}
}

/* True if any URL in the comma list names a loopback host. */
static bool
urls_local(const char *list)
{
	static const char *const local[] = { "://127.0.0.1:", "://localhost:",
		"://[::1]:", "://127.0.0.1/", "://localhost/" };
	size_t i;

	for (i = 0; i < sizeof(local) / sizeof(local[0]); i++)
		if (strstr(list, local[i]) != NULL)
			return true;
	return false;
}

bool
agent_etcd_external(const char *kdir, const char *cluster_config)
{
	struct agent_clustercfg cfg;
	struct manifest *m = NULL;
	struct manifest_diag diag;
	char *etcd = file_path_join(kdir, "pki/etcd"), *path;
	const char *servers;
	bool external = false;

	if (cluster_config != NULL &&
	    agent_clustercfg_load(cluster_config, &cfg, NULL) == CR_OK) {
		external = cfg.etcd_external;
		agent_clustercfg_clear(&cfg);
		free(etcd);
		return external;
	}
	/* Without etcd's PKI, the API server's flags say where etcd is. */
	if (!file_exists(etcd)) {
		path = file_path_join(kdir, "manifests/kube-apiserver.yaml");
		if (manifest_load(path, &m, &diag) == CR_OK &&
		    (servers = manifest_flag(m, "--etcd-servers")) != NULL)
			external = !urls_local(servers);
		manifest_free(m);
		free(path);
	}
	free(etcd);
	return external;
}

enum cr_err
agent_facts_gather(const struct agent_inspect_opts *o, struct agent_facts *f)
{
	const char *kdir = agent_kdir(o->kubernetes_dir);
	char *path, *manifests;

	memset(f, 0, sizeof(f[0]));
	f->clock_ms = clock_now_ms();
	f->kubeadm_version = kubeadm_version(o->kubeadm);
	f->backup_dir = xstrdup(
	    o->backup_dir != NULL ? o->backup_dir : AGENT_BACKUP_DIR);
	f->backup_free_bytes = free_bytes(f->backup_dir);
	f->file_check_frequency_ms = file_check_frequency(o->kubelet_dir);
	manifests = file_path_join(kdir, "manifests");
	list_dir(manifests, "", false, &f->manifests);
	free(manifests);
	f->etcd_external = agent_etcd_external(kdir, o->cluster_config);
	path = file_path_join(kdir, "pki/sa.key");
	f->sa_key = file_exists(path);
	free(path);
	path = file_path_join(kdir, "pki/sa.pub");
	f->sa_pub = file_exists(path);
	free(path);
	leftovers(kdir, &f->leftovers);
	path = file_path_join(kdir, "super-admin.conf");
	f->super_admin_expected = file_exists(path);
	free(path);
	return CR_OK;
}

void
agent_facts_clear(struct agent_facts *f)
{
	free(f->kubeadm_version);
	free(f->backup_dir);
	strv_clear(&f->manifests);
	strv_clear(&f->leftovers);
	memset(f, 0, sizeof(*f));
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
agent_facts_to_json(const struct agent_facts *f)
{
	json_object *o = json_object_new_object();

	jv_add_int(o, "clock_ms", f->clock_ms);
	jv_add_str(o, "kubeadm_version", f->kubeadm_version);
	jv_add_str(o, "backup_dir", f->backup_dir);
	jv_add_int(o, "backup_free_bytes",
	    f->backup_free_bytes > INT64_MAX ? INT64_MAX :
					       (int64_t)f->backup_free_bytes);
	jv_add_int(o, "file_check_frequency_ms", f->file_check_frequency_ms);
	json_object_object_add(o, "manifests", strv_json(&f->manifests));
	jv_add_str(o, "etcd", f->etcd_external ? "external" : "local");
	jv_add_bool(o, "sa_key", f->sa_key);
	jv_add_bool(o, "sa_pub", f->sa_pub);
	json_object_object_add(o, "leftovers", strv_json(&f->leftovers));
	jv_add_bool(o, "super_admin_expected", f->super_admin_expected);
	return o;
}

static void
join_strv(const struct strv *sv, struct buf *out)
{
	size_t i;

	if (sv->n == 0)
		buf_puts(out, "none");
	for (i = 0; i < sv->n; i++)
		buf_printf(out, "%s%s", i > 0 ? " " : "", sv->v[i]);
}

static void
fact(struct buf *out, const char *name, const char *value)
{
	buf_printf(out, "%-22s%s\n", name, value);
}

void
agent_facts_table(const struct agent_facts *f, struct buf *out)
{
	char when[TIMEFMT_MAX], fcf[32];
	struct buf v = BUF_INIT;

	timefmt_rfc3339((time_t)(f->clock_ms / 1000), when, sizeof(when));
	buf_puts(out, "\nNODE FACTS\n");
	fact(out, "clock", when);
	fact(out, "kubeadm",
	    f->kubeadm_version != NULL ? f->kubeadm_version : "not installed");
	buf_printf(&v, "%s (%.1f GiB free)", f->backup_dir,
	    (double)f->backup_free_bytes / (1024.0 * 1024 * 1024));
	fact(out, "backup dir", buf_cstr(&v));
	if (f->file_check_frequency_ms % 1000 != 0)
		snprintf(fcf, sizeof(fcf), "%lldms",
		    (long long)f->file_check_frequency_ms);
	else
		duration_format(f->file_check_frequency_ms / 1000, fcf,
		    sizeof(fcf));
	fact(out, "fileCheckFrequency", fcf);
	buf_reset(&v);
	join_strv(&f->manifests, &v);
	fact(out, "static pods", buf_cstr(&v));
	fact(out, "etcd", f->etcd_external ? "external" : "local");
	buf_reset(&v);
	buf_printf(&v, "%s / %s", f->sa_key ? "present" : "MISSING",
	    f->sa_pub ? "present" : "MISSING");
	fact(out, "sa.key / sa.pub", buf_cstr(&v));
	fact(out, "super-admin.conf",
	    f->super_admin_expected ? "expected (this node ran kubeadm init)" :
				      "not expected on this node");
	buf_reset(&v);
	join_strv(&f->leftovers, &v);
	fact(out, "leftovers", buf_cstr(&v));
	buf_clear(&v);
}
