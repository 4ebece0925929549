/*
 * inspect: every certificate kubeadm manages on this node, the kubelet's
 * client certificate and the node facts, as data (struct agent_inspection),
 * as kubeadm's check-expiration tables, or as JSON.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "agent_int.h"
#include "duration.h"
#include "fileio.h"
#include "jv.h"
#include "log.h"
#include "timefmt.h"
#include "xmalloc.h"

/* Go's tabwriter as kubeadm sets it up: minwidth 10, padding 3. */
#define TAB_MINWIDTH 10
#define TAB_PADDING  3

#define SUPER_ADMIN_NOTE                                                       \
	"exists only on the node where 'kubeadm init' ran (v1.29+); "          \
	"missing here is normal"
#define KUBELET_NOTE                                                           \
	"managed and rotated by the kubelet; certroll reports it and never "   \
	"renews it"

const char *
agent_kdir(const char *kubernetes_dir)
{
	return kubernetes_dir != NULL ? kubernetes_dir : AGENT_KUBERNETES_DIR;
}

bool
agent_which(const char *prog)
{
	const char *path = getenv("PATH");
	char *copy, *dir, *save = NULL, *full;
	bool found = false;

	if (strchr(prog, '/') != NULL)
		return access(prog, X_OK) == 0;
	copy = xstrdup(path != NULL ? path : "/usr/bin:/bin");
	for (dir = strtok_r(copy, ":", &save); dir != NULL && !found;
	     dir = strtok_r(NULL, ":", &save)) {
		full = file_path_join(*dir != '\0' ? dir : ".", prog);
		found = access(full, X_OK) == 0;
		free(full);
	}
	free(copy);
	return found;
}

bool
agent_output_parse(const char *s, bool *jsonp)
{
	if (strcmp(s, "json") == 0)
		*jsonp = true;
	else if (strcmp(s, "table") == 0 || strcmp(s, "text") == 0)
		*jsonp = false;
	else
		return false;
	return true;
}

void
agent_print_json(json_object *obj)
{
	printf("%s\n", jv_to_pretty(obj));
	json_object_put(obj);
}

static enum cr_err
load_files(const struct agent_load *l, const struct pki_entry *e,
    struct agent_material *m, char *why, size_t whylen)
{
	enum cr_err err;

	m->cert_file = file_path_join(l->root, e->file);
	if (!file_exists(m->cert_file)) {
		snprintf(why, whylen, "'%s' does not exist", m->cert_file);
		return CR_ERR_NOTFOUND;
	}
	if ((err = cert_load(m->cert_file, &m->cert)) != CR_OK) {
		snprintf(why, whylen, "'%s': %s", m->cert_file,
		    err == CR_ERR_SYS ? strerror(errno) :
					"no PEM certificate in it");
		return err;
	}
	if (!l->with_key || e->key == NULL)
		return CR_OK;
	m->key_file = file_path_join(l->root, e->key);
	if ((err = cert_key_load(m->key_file, &m->key)) != CR_OK) {
		snprintf(why, whylen, "'%s': %s", m->key_file,
		    err == CR_ERR_SYS ? strerror(errno) :
					"no usable PEM private key in it");
		return err == CR_ERR_SYS && errno == ENOENT ? CR_ERR_CERT : err;
	}
	return CR_OK;
}

static enum cr_err
load_kubeconfig(const struct agent_load *l, const struct pki_entry *e,
    struct agent_material *m, char *why, size_t whylen)
{
	char *path = file_path_join(l->root, e->file);
	struct kcfgcert_remap remap = { AGENT_KUBELET_DIR, l->kubelet_dir };
	struct ydoc_diag diag;
	enum cr_err err;

	memset(&diag, 0, sizeof(diag));
	if (!file_exists(path)) {
		snprintf(why, whylen, "'%s' does not exist", path);
		err = CR_ERR_NOTFOUND;
		goto out;
	}
	err = kcfgcert_load_remap(path,
	    e->kind == PKI_KUBELET && l->kubelet_dir != NULL ? &remap : NULL,
	    &m->kc, &diag);
	if (err != CR_OK) {
		snprintf(why, whylen, "%s:%u:%u: %s", path, diag.line, diag.col,
		    diag.msg);
		goto out;
	}
	m->cert_file = xstrdup(
	    m->kc->cert_file != NULL ? m->kc->cert_file : path);
	err = CR_ERR_CERT;
	if (cert_parse(m->kc->cert_pem.data, m->kc->cert_pem.len, &m->cert) !=
	    CR_OK) {
		snprintf(why, whylen, "'%s': the client certificate is not PEM",
		    m->cert_file);
		goto out;
	}
	if (l->with_key &&
	    cert_key_parse(m->kc->key_pem.data, m->kc->key_pem.len, &m->key) !=
		CR_OK) {
		snprintf(why, whylen, "'%s': the client key is not usable",
		    path);
		goto out;
	}
	err = CR_OK;
out:
	free(path);
	return err;
}

enum cr_err
agent_material_load(const struct agent_load *l, const struct pki_entry *e,
    struct agent_material *m, char *why, size_t whylen)
{
	memset(m, 0, sizeof(*m));
	snprintf(why, whylen, "unknown");
	if (e->kind == PKI_KUBECONFIG || e->kind == PKI_KUBELET)
		return load_kubeconfig(l, e, m, why, whylen);
	return load_files(l, e, m, why, whylen);
}

void
agent_material_clear(struct agent_material *m)
{
	X509_free(m->cert);
	EVP_PKEY_free(m->key);
	kcfgcert_free(m->kc);
	free(m->cert_file);
	free(m->key_file);
	memset(m, 0, sizeof(*m));
	cert_clear_errors();
}

/* The CA key of e (or e's own key for a CA) is absent: an external CA. */
static bool
externally_managed(const char *root, const struct pki_entry *e)
{
	const struct pki_entry *ca = e->kind == PKI_CA ? e : pki_find(e->ca);
	char *key;
	bool absent;

	if (ca == NULL || ca->key == NULL)
		return false;
	key = file_path_join(root, ca->key);
	absent = !file_exists(key);
	free(key);
	return absent;
}

/* Fills *ci for e; a missing or unreadable file is described, not fatal. */
static void
inspect_entry(const struct agent_load *l, const struct pki_entry *e,
    struct cert_info *ci)
{
	struct agent_material m;
	struct cert_info got;
	char why[512];
	enum cr_err err;

	memset(&got, 0, sizeof(got));
	err = agent_material_load(l, e, &m, why, sizeof(why));
	if (err == CR_OK && cert_info_fill(m.cert, &got) != CR_OK) {
		snprintf(why, sizeof(why),
		    "'%s': the certificate cannot be "
		    "decoded",
		    m.cert_file);
		err = CR_ERR_CERT;
	}
	if (err == CR_OK) {
		*ci = got;
		ci->file = m.cert_file;
		m.cert_file = NULL;
	} else {
		ci->file = file_path_join(l->root, e->file);
		ci->missing = err == CR_ERR_NOTFOUND;
		if (!ci->missing)
			log_warnx("inspect '%s': %s", e->name, why);
		if (!ci->missing || e->kind == PKI_KUBELET)
			ci->note = xasprintf("cannot read: %s", why);
	}
	ci->name = xstrdup(e->name);
	ci->ca = e->ca != NULL ? xstrdup(e->ca) : NULL;
	ci->externally_managed = externally_managed(l->root, e);
	if (ci->missing && strcmp(e->name, "super-admin.conf") == 0)
		ci->note = xstrdup(SUPER_ADMIN_NOTE);
	if (e->kind == PKI_KUBELET && ci->note == NULL)
		ci->note = xstrdup(KUBELET_NOTE);
	agent_material_clear(&m);
}

void
agent_inspect_certs(const struct agent_inspect_opts *o, bool etcd_external,
    struct agent_inspection *in)
{
	struct agent_load l = { agent_kdir(o->kubernetes_dir), o->kubelet_dir,
		false };
	const struct pki_entry *e;
	struct cert_info *ci;
	size_t i;

	for (i = 0; (e = pki_at(i)) != NULL; i++) {
		if (e->etcd && etcd_external)
			continue;
		if (e->kind == PKI_KUBELET) {
			inspect_entry(&l, e, &in->kubelet_client);
			continue;
		}
		ci = cert_list_add(e->kind == PKI_CA ? &in->cas : &in->certs);
		inspect_entry(&l, e, ci);
	}
}

enum cr_err
agent_inspect(const struct agent_inspect_opts *o, struct agent_inspection *in)
{
	const char *kdir = agent_kdir(o->kubernetes_dir);
	enum cr_err err;

	memset(in, 0, sizeof(*in));
	if (!file_exists(kdir)) {
		log_warnx("inspect: '%s' does not exist: not a kubeadm node? "
			  "(--kubernetes-dir names another root)",
		    kdir);
		return CR_ERR_NOTFOUND;
	}
	if ((err = agent_facts_gather(o, &in->facts)) != CR_OK)
		return err;
	agent_inspect_certs(o, in->facts.etcd_external, in);
	return CR_OK;
}

void
agent_inspection_clear(struct agent_inspection *in)
{
	cert_list_clear(&in->certs);
	cert_list_clear(&in->cas);
	certinfo_clear(&in->kubelet_client);
	agent_facts_clear(&in->facts);
}

json_object *
agent_inspection_to_json(const struct agent_inspection *in, const char *node,
    time_t now)
{
	json_object *o = json_object_new_object();
	char when[TIMEFMT_MAX];

	timefmt_rfc3339(now, when, sizeof(when));
	jv_add_str(o, "node", node);
	jv_add_str(o, "time", when);
	json_object_object_add(o, "certificates",
	    cert_list_to_json(&in->certs, now));
	json_object_object_add(o, "certificate_authorities",
	    cert_list_to_json(&in->cas, now));
	json_object_object_add(o, "kubelet_client",
	    in->kubelet_client.name != NULL ?
		certinfo_to_json(&in->kubelet_client, now) :
		NULL);
	json_object_object_add(o, "facts", agent_facts_to_json(&in->facts));
	return o;
}

/*
 * A table as Go's text/tabwriter lays it out with kubeadm's settings:
 * every cell but a row's last is padded to its column's width (the widest
 * cell plus padding, at least the minimum); the last cell is written as
 * it is. cells holds nrows * ncols strings.
 */
static void
tab_write(struct buf *out, const struct strv *cells, size_t ncols)
{
	size_t widths[8] = { 0 };
	size_t r, c, w, nrows = cells->n / ncols;

	for (c = 0; c + 1 < ncols && c < 8; c++) {
		widths[c] = TAB_MINWIDTH;
		for (r = 0; r < nrows; r++) {
			w = strlen(cells->v[r * ncols + c]) + TAB_PADDING;
			if (w > widths[c])
				widths[c] = w;
		}
	}
	for (r = 0; r < nrows; r++) {
		for (c = 0; c + 1 < ncols; c++)
			buf_printf(out, "%-*s", (int)widths[c],
			    cells->v[r * ncols + c]);
		buf_printf(out, "%s\n", cells->v[r * ncols + ncols - 1]);
	}
}

static void
push_row(struct strv *cells, const char *const *row, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		strv_push(cells, row[i]);
}

/* One row of either kubeadm table; with_ca adds the CA column. */
static void
push_cert_row(struct strv *cells, const struct cert_info *ci, time_t now,
    bool with_ca)
{
	char expires[TIMEFMT_MAX], residual[32], managed[16], name[256];
	const char *row[5];
	size_t n = 0;

	snprintf(managed, sizeof(managed), "%-8s",
	    ci->externally_managed ? "yes" : "no");
	if (ci->missing || ci->not_after == 0) {
		/* kubeadm: "!MISSING! %s\t\t\t\t"; ours adds !INVALID!. */
		snprintf(name, sizeof(name), "%s %s",
		    ci->missing ? "!MISSING!" : "!INVALID!", ci->name);
		row[0] = name;
		row[1] = row[2] = row[3] = row[4] = "";
		push_row(cells, row, with_ca ? 5 : 4);
		return;
	}
	timefmt_kubeadm(ci->not_after, expires, sizeof(expires));
	duration_short_human((int64_t)ci->not_after - (int64_t)now, residual,
	    sizeof(residual));
	row[n++] = ci->name;
	row[n++] = expires;
	row[n++] = residual;
	if (with_ca)
		row[n++] = ci->ca != NULL ? ci->ca : "";
	row[n++] = managed;
	push_row(cells, row, n);
}

static void
cert_table(struct buf *out, const struct cert_list *list, time_t now,
    bool with_ca)
{
	static const char *const head_certs[] = { "CERTIFICATE", "EXPIRES",
		"RESIDUAL TIME", "CERTIFICATE AUTHORITY",
		"EXTERNALLY MANAGED" };
	static const char *const head_cas[] = { "CERTIFICATE AUTHORITY",
		"EXPIRES", "RESIDUAL TIME", "EXTERNALLY MANAGED" };
	struct strv cells = { NULL, 0 };
	size_t i, ncols = with_ca ? 5 : 4;

	push_row(&cells, with_ca ? head_certs : head_cas, ncols);
	for (i = 0; i < list->n; i++)
		push_cert_row(&cells, &list->v[i], now, with_ca);
	tab_write(out, &cells, ncols);
	strv_clear(&cells);
}

static void
kubelet_table(struct buf *out, const struct cert_info *ci, time_t now)
{
	static const char *const head[] = { "KUBELET CLIENT CERTIFICATE",
		"EXPIRES", "RESIDUAL TIME", "FILE" };
	char expires[TIMEFMT_MAX], residual[32];
	struct strv cells = { NULL, 0 };
	const char *row[4];

	push_row(&cells, head, 4);
	if (ci->missing || ci->not_after == 0) {
		row[0] = ci->missing ? "!MISSING! kubelet.conf" :
				       "!INVALID! kubelet.conf";
		row[1] = row[2] = "";
	} else {
		timefmt_kubeadm(ci->not_after, expires, sizeof(expires));
		duration_short_human((int64_t)ci->not_after - (int64_t)now,
		    residual, sizeof(residual));
		row[0] = ci->name;
		row[1] = expires;
		row[2] = residual;
	}
	row[3] = ci->file;
	push_row(&cells, row, 4);
	buf_puts(out, "\n");
	tab_write(out, &cells, 4);
	strv_clear(&cells);
}

static void
notes(struct buf *out, const struct agent_inspection *in)
{
	const struct cert_list *lists[] = { &in->certs, &in->cas };
	bool any = false;
	size_t l, i;

	for (l = 0; l < 2; l++) {
		for (i = 0; i < lists[l]->n; i++) {
			if (lists[l]->v[i].note == NULL)
				continue;
			if (!any)
				buf_puts(out, "\nNOTES\n");
			any = true;
			buf_printf(out, "%s: %s\n", lists[l]->v[i].name,
			    lists[l]->v[i].note);
		}
	}
	if (in->kubelet_client.name != NULL)
		buf_printf(out, "%skubelet.conf: %s\n", any ? "" : "\nNOTES\n",
		    in->kubelet_client.note);
}

void
agent_inspection_table(const struct agent_inspection *in, time_t now,
    struct buf *out)
{
	cert_table(out, &in->certs, now, true);
	buf_puts(out, "\n");
	cert_table(out, &in->cas, now, false);
	if (in->kubelet_client.name != NULL)
		kubelet_table(out, &in->kubelet_client, now);
	notes(out, in);
}

struct inspect_args {
	struct agent_inspect_opts o;
	bool json;
};

static void
inspect_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: certroll-agent inspect [--kubernetes-dir DIR] "
	    "[--kubelet-dir DIR]\n"
	    "           [--backup-dir DIR] [--config FILE] [--kubeadm PROG]\n"
	    "           [--now TIME] [-o table|json]\n\n"
	    "Shows every certificate kubeadm manages on this node, as `kubeadm "
	    "certs\ncheck-expiration` does, then the kubelet's client "
	    "certificate and the facts\na renewal plan needs (clock, kubeadm "
	    "version, backup space, the kubelet's\nfileCheckFrequency, static "
	    "pods, local or external etcd, leftovers of an\ninterrupted run). "
	    "Reads only.\n\n"
	    "  --kubernetes-dir DIR  root of the node's files (default "
	    "/etc/kubernetes)\n"
	    "  --kubelet-dir DIR     the kubelet's directory (default "
	    "/var/lib/kubelet)\n"
	    "  --backup-dir DIR      where backups go, for the free space "
	    "(default\n"
	    "                        /var/lib/certroll/backups)\n"
	    "  --config FILE         the cluster's saved ClusterConfiguration "
	    "(says whether\n"
	    "                        etcd is external)\n"
	    "  --kubeadm PROG        the kubeadm to ask for its version "
	    "(default: PATH)\n"
	    "  --now TIME            compute residual times at TIME (RFC "
	    "3339)\n"
	    "  -o table|json         output format (default table)\n\n"
	    "Examples:\n"
	    "  certroll-agent inspect\n"
	    "  certroll-agent inspect -o json | jq '.certificates[] | "
	    "{name, not_after}'\n\n"
	    "Exit status: 0 shown, 1 failed, 2 usage error.\n");
}

static int
inspect_opt(struct inspect_args *a, int c, const char *arg)
{
	int64_t ms;

	switch (c) {
	case 'k':
		a->o.kubernetes_dir = arg;
		break;
	case 'l':
		a->o.kubelet_dir = arg;
		break;
	case 'b':
		a->o.backup_dir = arg;
		break;
	case 'c':
		a->o.cluster_config = arg;
		break;
	case 'K':
		a->o.kubeadm = arg;
		break;
	case 'n':
		if (timefmt_parse_rfc3339(arg, &ms) != CR_OK)
			return agent_usage("inspect",
			    "--now: '%s' is not RFC 3339 "
			    "(2026-11-28T13:00:00Z)",
			    arg);
		a->o.now = (time_t)(ms / 1000);
		break;
	case 'o':
		if (!agent_output_parse(arg, &a->json))
			return agent_usage("inspect",
			    "-o: unknown format '%s' (table or json)", arg);
		break;
	default:
		return agent_usage("inspect", "unknown option");
	}
	return 0;
}

static int
inspect_parse(int argc, char **argv, struct inspect_args *a)
{
	static const struct option opts[] = {
		{ "kubernetes-dir", required_argument, NULL, 'k' },
		{ "kubelet-dir", required_argument, NULL, 'l' },
		{ "backup-dir", required_argument, NULL, 'b' },
		{ "config", required_argument, NULL, 'c' },
		{ "kubeadm", required_argument, NULL, 'K' },
		{ "now", required_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, rc;

	memset(a, 0, sizeof(*a));
	a->o.now = time(NULL);
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		if (c == 'h') {
			inspect_usage(stdout);
			return -1;
		}
		if ((rc = inspect_opt(a, c, optarg)) != 0)
			return rc;
	}
	if (optind != argc)
		return agent_usage("inspect", "unexpected argument '%s'",
		    argv[optind]);
	return 0;
}

int
agent_cmd_inspect(int argc, char **argv)
{
	struct agent_inspection in;
	struct inspect_args a;
	struct buf out = BUF_INIT;
	char node[HOST_NAME_MAX + 1];
	int rc;

	if ((rc = inspect_parse(argc, argv, &a)) != 0)
		return rc == -1 ? AGENT_EXIT_OK : rc;
	if (agent_inspect(&a.o, &in) != CR_OK)
		return AGENT_EXIT_FAIL;
	if (gethostname(node, sizeof(node)) == -1)
		snprintf(node, sizeof(node), "unknown");
	node[sizeof(node) - 1] = '\0';
	if (a.json) {
		agent_print_json(agent_inspection_to_json(&in, node, a.o.now));
	} else {
		agent_inspection_table(&in, a.o.now, &out);
		agent_facts_table(&in.facts, &out);
		fputs(buf_cstr(&out), stdout);
	}
	buf_clear(&out);
	agent_inspection_clear(&in);
	return AGENT_EXIT_OK;
}
