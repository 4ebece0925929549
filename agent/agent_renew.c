/*
 * renew: selects what to renew, refuses what must not be renewed before
 * touching anything, backs up, renews through a backend (kubeadm or the
 * native OpenSSL renewer), verifies every renewed file against the backup
 * and restores the backup when anything failed.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "agent_int.h"
#include "duration.h"
#include "fileio.h"
#include "jv.h"
#include "log.h"
#include "timefmt.h"
#include "xmalloc.h"

static const char *const backend_names[AGENT_BACKEND__MAX] = {
	[AGENT_BACKEND_AUTO] = "auto",
	[AGENT_BACKEND_KUBEADM] = "kubeadm",
	[AGENT_BACKEND_NATIVE] = "native",
};

const char *
agent_backend_name(enum agent_backend b)
{
	return b < AGENT_BACKEND__MAX ? backend_names[b] : "unknown";
}

bool
agent_backend_parse(const char *s, enum agent_backend *bp)
{
	size_t i;

	for (i = 0; i < AGENT_BACKEND__MAX; i++) {
		if (strcmp(s, backend_names[i]) == 0) {
			*bp = (enum agent_backend)i;
			return true;
		}
	}
	return false;
}

static enum cr_err fail(struct agent_renew_result *r, enum cr_err err,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Logs why the renewal stops, once, and keeps it for the result. */
static enum cr_err
fail(struct agent_renew_result *r, enum cr_err err, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warnx("renew: %s", msg);
	if (r->error == NULL)
		r->error = xstrdup(msg);
	return err;
}

enum cr_err
agent_renew_check_names(const struct strv *names, char *why, size_t len)
{
	const struct pki_entry *e;
	size_t i;

	for (i = 0; names != NULL && i < names->n; i++) {
		e = pki_find(names->v[i]);
		if (e == NULL)
			snprintf(why, len,
			    "unknown certificate '%s' (kubeadm's names: "
			    "apiserver, apiserver-kubelet-client, "
			    "front-proxy-client, etcd-server, etcd-peer, "
			    "etcd-healthcheck-client, apiserver-etcd-client, "
			    "admin.conf, super-admin.conf, "
			    "controller-manager.conf, scheduler.conf)",
			    names->v[i]);
		else if (e->kind == PKI_CA)
			snprintf(why, len,
			    "'%s' is a CA: kubeadm does not renew CAs and "
			    "neither does certroll (a new CA must be "
			    "distributed to every client first)",
			    e->name);
		else if (e->kind == PKI_KUBELET)
			snprintf(why, len,
			    "'%s' is managed by the kubelet, which rotates its "
			    "client certificate itself",
			    e->name);
		else
			continue;
		return CR_ERR_CONFIG;
	}
	return CR_OK;
}

static bool
named(const struct agent_renew_opts *o, const char *name)
{
	return o->only != NULL && strv_has(o->only, name);
}

static void
skip(struct agent_renew_result *r, const char *name, const char *reason)
{
	struct agent_skipped *s;

	r->skipped = xreallocarray(r->skipped, r->nskipped + 1,
	    sizeof(*r->skipped));
	s = &r->skipped[r->nskipped++];
	s->name = xstrdup(name);
	s->reason = xstrdup(reason);
	log_info("renew: skipping '%s': %s", name, reason);
}

/* The CA must outlive the new certificate (kubeadm warns; we refuse). */
static enum cr_err
check_ca_lifetime(const struct agent_renew_ctx *c, const struct cert_info *ci,
    const struct cert_list *cas, struct agent_renew_result *r)
{
	const struct cert_info *ca = cert_list_find(cas, ci->ca);
	char ends[TIMEFMT_MAX], want[32];

	if (ca == NULL || ca->missing || ca->not_after == 0)
		return fail(r, CR_ERR_STATE,
		    "cannot renew '%s': its CA '%s' cannot be read", ci->name,
		    ci->ca);
	if ((int64_t)ca->not_after >= (int64_t)c->o->now + c->validity_s)
		return CR_OK;
	timefmt_kubeadm(ca->not_after, ends, sizeof(ends));
	duration_format(c->validity_s, want, sizeof(want));
	return fail(r, CR_ERR_STATE,
	    "renewing '%s' for %s would outlive its CA '%s', which expires "
	    "%s: renew the CA first, or ask for a shorter validity",
	    ci->name, want, ci->ca, ends);
}

/* Decides about one row: select it, skip it, or refuse the whole run. */
static enum cr_err
select_one(const struct agent_renew_ctx *c, const struct cert_info *ci,
    const struct cert_list *cas, struct strv *sel, struct agent_renew_result *r)
{
	const struct agent_renew_opts *o = c->o;
	char ends[TIMEFMT_MAX], why[256];

	if (o->only != NULL && o->only->n > 0 && !named(o, ci->name))
		return CR_OK;
	if (ci->missing) {
		skip(r, ci->name, ci->note != NULL ? ci->note : "file missing");
		return CR_OK;
	}
	if (ci->not_after == 0)
		return fail(r, CR_ERR_CERT,
		    "cannot renew '%s': %s (renewal copies names and usages "
		    "from the current certificate)",
		    ci->name, ci->note != NULL ? ci->note : "unreadable");
	if (ci->externally_managed) {
		snprintf(why, sizeof(why),
		    "signed by an external CA '%s' (its key is absent); renew "
		    "it with that CA",
		    ci->ca);
		if (named(o, ci->name))
			return fail(r, CR_ERR_STATE, "cannot renew '%s': %s",
			    ci->name, why);
		skip(r, ci->name, why);
		return CR_OK;
	}
	if (o->renew_before_s > 0 &&
	    (int64_t)ci->not_after - (int64_t)o->now >= o->renew_before_s) {
		timefmt_kubeadm(ci->not_after, ends, sizeof(ends));
		snprintf(why, sizeof(why),
		    "expires %s, not within --renew-before", ends);
		skip(r, ci->name, why);
		return CR_OK;
	}
	if (check_ca_lifetime(c, ci, cas, r) != CR_OK)
		return CR_ERR_STATE;
	strv_push(sel, ci->name);
	return CR_OK;
}

static enum cr_err
select_targets(const struct agent_renew_ctx *c,
    const struct agent_inspection *in, struct strv *sel,
    struct agent_renew_result *r)
{
	const struct pki_entry *e;
	enum cr_err err;
	size_t i;

	for (i = 0; i < in->certs.n; i++) {
		e = pki_find(in->certs.v[i].name);
		if (e == NULL || !pki_renewable(e))
			continue;
		if ((err = select_one(c, &in->certs.v[i], &in->cas, sel, r)) !=
		    CR_OK)
			return err;
	}
	/* A name asked for that this node does not have (external etcd). */
	for (i = 0; c->o->only != NULL && i < c->o->only->n; i++)
		if (cert_list_find(&in->certs, c->o->only->v[i]) == NULL)
			return fail(r, CR_ERR_CONFIG,
			    "'%s' is not used on this node (etcd is external)",
			    c->o->only->v[i]);
	return CR_OK;
}

/*
 * kubeadm takes the validity and key type from the ClusterConfiguration;
 * values asked for must agree with it, or the caller would be misled.
 */
static enum cr_err
check_agrees(const struct agent_renew_ctx *c, struct agent_renew_result *r)
{
	const struct agent_renew_opts *o = c->o;
	const char *alg = c->cfg.key_algorithm != NULL ? c->cfg.key_algorithm :
							 "RSA-2048";
	enum cert_keyalg cfg_alg = CERT_KEY_KEEP;
	char asked[32], has[32];

	if (o->validity_s != 0 && o->validity_s != c->cfg.validity_s) {
		duration_format(o->validity_s, asked, sizeof(asked));
		duration_format(c->cfg.validity_s, has, sizeof(has));
		return fail(r, CR_ERR_CONFIG,
		    "a validity of %s was asked for, but kubeadm renews for "
		    "the ClusterConfiguration's certificateValidityPeriod "
		    "(%s): "
		    "change that, or use --backend native",
		    asked, has);
	}
	if (o->key_algorithm != CERT_KEY_KEEP &&
	    (cert_keyalg_parse(alg, &cfg_alg) != CR_OK ||
		cfg_alg != o->key_algorithm))
		return fail(r, CR_ERR_CONFIG,
		    "a %s key was asked for, but kubeadm makes the "
		    "ClusterConfiguration's encryptionAlgorithm (%s): change "
		    "that, or use --backend native",
		    cert_keyalg_name(o->key_algorithm), alg);
	return CR_OK;
}

static enum cr_err
prepare_kubeadm(struct agent_renew_ctx *c, struct agent_renew_result *r)
{
	const struct agent_renew_opts *o = c->o;
	struct ydoc_diag diag;

	if (o->cluster_config == NULL)
		return fail(r, CR_ERR_CONFIG,
		    "the kubeadm backend needs the cluster's saved "
		    "ClusterConfiguration (--config FILE): without it kubeadm "
		    "reads the cluster and, when that fails, silently renews "
		    "with default settings (certificate dir, etcd, key type, "
		    "validity). Save it with 'kubectl -n kube-system get cm "
		    "kubeadm-config -o jsonpath={.data.ClusterConfiguration} > "
		    "cc.yaml', or use --backend native");
	memset(&diag, 0, sizeof(diag));
	if (agent_clustercfg_load(o->cluster_config, &c->cfg, &diag) != CR_OK)
		return fail(r, CR_ERR_CONFIG, "'%s':%u:%u: %s",
		    o->cluster_config, diag.line, diag.col, diag.msg);
	c->validity_s = c->cfg.validity_s;
	return check_agrees(c, r);
}

static const char *
kubeadm_prog(const struct agent_renew_opts *o)
{
	return o->kubeadm != NULL ? o->kubeadm : "kubeadm";
}

/* Picks the backend and checks what it needs, before anything changes. */
static enum cr_err
prepare(struct agent_renew_ctx *c, struct agent_renew_result *r,
    const struct agent_renewer **rp)
{
	const struct agent_renew_opts *o = c->o;
	char why[512];

	if (agent_renew_check_names(o->only, why, sizeof(why)) != CR_OK)
		return fail(r, CR_ERR_CONFIG, "%s", why);
	r->backend = o->backend;
	if (r->backend == AGENT_BACKEND_AUTO)
		r->backend = agent_which(kubeadm_prog(o)) ?
		    AGENT_BACKEND_KUBEADM :
		    AGENT_BACKEND_NATIVE;
	if (r->backend == AGENT_BACKEND_NATIVE) {
		c->validity_s = o->validity_s != 0 ? o->validity_s :
						     AGENT_VALIDITY_S;
		*rp = agent_renewer_native();
		return CR_OK;
	}
	if (!agent_which(kubeadm_prog(o)))
		return fail(r, CR_ERR_CONFIG,
		    "the kubeadm backend needs '%s', which is not "
		    "executable here: install kubeadm or use --backend "
		    "native",
		    kubeadm_prog(o));
	*rp = agent_renewer_kubeadm();
	return prepare_kubeadm(c, r);
}

static void
add_renewed(struct agent_renew_result *r, const struct cert_info *b,
    const struct cert_info *a)
{
	struct agent_renewed *n;

	r->renewed = xreallocarray(r->renewed, r->nrenewed + 1,
	    sizeof(*r->renewed));
	n = &r->renewed[r->nrenewed++];
	n->name = xstrdup(b->name);
	n->old_serial = xstrdup(b->serial != NULL ? b->serial : "");
	n->new_serial = xstrdup(a->serial != NULL ? a->serial : "");
	n->old_not_after = b->not_after;
	n->new_not_after = a->not_after;
}

static void
record_renewed(const struct agent_renew_ctx *c,
    const struct agent_inspection *before, const struct strv *sel,
    struct agent_renew_result *r)
{
	struct agent_inspect_opts io;
	struct agent_inspection after;
	const struct cert_info *a;
	size_t i;

	memset(&io, 0, sizeof(io));
	memset(&after, 0, sizeof(after));
	io.kubernetes_dir = c->kdir;
	agent_inspect_certs(&io, before->facts.etcd_external, &after);
	for (i = 0; i < sel->n; i++)
		if ((a = cert_list_find(&after.certs, sel->v[i])) != NULL)
			add_renewed(r,
			    cert_list_find(&before->certs, sel->v[i]), a);
	agent_inspection_clear(&after);
}

static void
roll_back(const struct agent_renew_ctx *c, struct agent_renew_result *r)
{
	struct agent_restore_result rr;

	if (agent_restore(c->kdir, r->backup, &rr) == CR_OK) {
		r->rolled_back = true;
		log_warnx("renew: restored '%s' from '%s' (%zu files); nothing "
			  "was restarted",
		    c->kdir, r->backup, rr.restored.n + rr.removed.n);
	} else {
		log_warnx("renew: ROLLBACK FAILED: the files under '%s' may "
			  "be mixed; restore them with 'certroll-agent "
			  "restore %s' before restarting anything",
		    c->kdir, r->backup);
	}
	agent_restore_result_clear(&rr);
}

static enum cr_err
renew_and_verify(const struct agent_renew_ctx *c,
    const struct agent_renewer *rn, const struct agent_inspection *in,
    const struct strv *sel, struct agent_renew_result *r)
{
	struct agent_verify_opts vo;
	enum cr_err err = CR_OK;
	size_t i;

	for (i = 0; i < sel->n && err == CR_OK; i++) {
		log_info("renew: renewing '%s' (%s)", sel->v[i], rn->name);
		err = rn->renew(c, pki_find(sel->v[i]),
		    cert_list_find(&in->certs, sel->v[i]));
		if (err != CR_OK)
			fail(r, err, "renewing '%s' failed (see above)",
			    sel->v[i]);
	}
	if (err == CR_OK) {
		memset(&vo, 0, sizeof(vo));
		vo.kubernetes_dir = c->kdir;
		vo.backup = r->backup;
		vo.names = sel;
		vo.now = c->o->now;
		if ((err = agent_verify(&vo, &r->verify)) == CR_OK &&
		    !r->verify.ok)
			err = fail(r, CR_ERR_VERIFY,
			    "the renewed files failed verification");
	}
	if (err != CR_OK)
		roll_back(c, r);
	return err;
}

static enum cr_err
renew_selected(const struct agent_renew_ctx *c, const struct agent_renewer *rn,
    const struct agent_inspection *in, const struct strv *sel,
    struct agent_renew_result *r)
{
	struct agent_backup_opts bo;
	struct agent_backup_result br;
	enum cr_err err;

	memset(&bo, 0, sizeof(bo));
	bo.kubernetes_dir = c->kdir;
	bo.backup_dir = c->o->backup_dir;
	bo.keep = c->o->keep;
	bo.now = c->o->now;
	if ((err = agent_backup(&bo, &br)) != CR_OK) {
		err = fail(r, err, "no backup (%s), so nothing was renewed",
		    br.error != NULL ? br.error : cr_strerror(err));
		agent_backup_result_clear(&br);
		return err;
	}
	r->backup = br.path;
	br.path = NULL;
	agent_backup_result_clear(&br);
	if ((err = renew_and_verify(c, rn, in, sel, r)) != CR_OK)
		return err;
	record_renewed(c, in, sel, r);
	log_info("renew: %zu certificates renewed and verified; restart the "
		 "control-plane components to use them",
	    r->nrenewed);
	return CR_OK;
}

enum cr_err
agent_renew(const struct agent_renew_opts *opts, struct agent_renew_result *r)
{
	struct agent_renew_opts o = *opts;
	struct agent_renew_ctx c;
	struct agent_inspect_opts io;
	struct agent_inspection in;
	const struct agent_renewer *rn = NULL;
	struct strv sel = { NULL, 0 };
	enum cr_err err;

	memset(r, 0, sizeof(*r));
	memset(&c, 0, sizeof(c));
	memset(&io, 0, sizeof(io));
	memset(&in, 0, sizeof(in));
	if (o.now == 0)
		o.now = time(NULL);
	c.o = &o;
	c.kdir = agent_kdir(o.kubernetes_dir);
	if ((err = prepare(&c, r, &rn)) != CR_OK)
		goto out;
	io.kubernetes_dir = c.kdir;
	in.facts.etcd_external = r->backend == AGENT_BACKEND_KUBEADM ?
	    c.cfg.etcd_external :
	    agent_etcd_external(c.kdir, o.cluster_config);
	agent_inspect_certs(&io, in.facts.etcd_external, &in);
	if ((err = select_targets(&c, &in, &sel, r)) != CR_OK)
		goto out;
	if (sel.n == 0) {
		log_info("renew: nothing to renew under '%s'", c.kdir);
		goto out;
	}
	err = renew_selected(&c, rn, &in, &sel, r);
out:
	strv_clear(&sel);
	agent_inspection_clear(&in);
	agent_clustercfg_clear(&c.cfg);
	return err;
}

void
agent_renew_result_clear(struct agent_renew_result *r)
{
	size_t i;

	free(r->backup);
	for (i = 0; i < r->nrenewed; i++) {
		free(r->renewed[i].name);
		free(r->renewed[i].old_serial);
		free(r->renewed[i].new_serial);
	}
	free(r->renewed);
	for (i = 0; i < r->nskipped; i++) {
		free(r->skipped[i].name);
		free(r->skipped[i].reason);
	}
	free(r->skipped);
	agent_verify_result_clear(&r->verify);
	free(r->error);
	memset(r, 0, sizeof(*r));
}

static void
add_time(json_object *o, const char *key, time_t t)
{
	char when[TIMEFMT_MAX];

	timefmt_rfc3339(t, when, sizeof(when));
	jv_add_str(o, key, when);
}

json_object *
agent_renew_result_to_json(const struct agent_renew_result *r)
{
	json_object *o = json_object_new_object(), *a, *it;
	size_t i;

	jv_add_str(o, "backup", r->backup);
	jv_add_str(o, "backend", agent_backend_name(r->backend));
	a = json_object_new_array();
	for (i = 0; i < r->nrenewed; i++) {
		it = json_object_new_object();
		jv_add_str(it, "name", r->renewed[i].name);
		jv_add_str(it, "old_serial", r->renewed[i].old_serial);
		jv_add_str(it, "new_serial", r->renewed[i].new_serial);
		add_time(it, "old_not_after", r->renewed[i].old_not_after);
		add_time(it, "new_not_after", r->renewed[i].new_not_after);
		json_object_array_add(a, it);
	}
	json_object_object_add(o, "renewed", a);
	a = json_object_new_array();
	for (i = 0; i < r->nskipped; i++) {
		it = json_object_new_object();
		jv_add_str(it, "name", r->skipped[i].name);
		jv_add_str(it, "reason", r->skipped[i].reason);
		json_object_array_add(a, it);
	}
	json_object_object_add(o, "skipped", a);
	json_object_object_add(o, "verify",
	    agent_verify_result_to_json(&r->verify));
	jv_add_bool(o, "rolled_back", r->rolled_back);
	jv_add_str(o, "error", r->error);
	return o;
}

static void
renew_usage_options(FILE *fp)
{
	fprintf(fp,
	    "  --only NAMES          comma-separated kubeadm names (default "
	    "all): apiserver,\n"
	    "                        apiserver-kubelet-client, "
	    "front-proxy-client, etcd-server,\n"
	    "                        etcd-peer, etcd-healthcheck-client, "
	    "apiserver-etcd-client,\n"
	    "                        admin.conf, super-admin.conf, "
	    "controller-manager.conf,\n"
	    "                        scheduler.conf\n"
	    "  --renew-before D      only what expires within D (e.g. 30d)\n"
	    "  --backend B           kubeadm runs 'kubeadm certs renew NAME "
	    "--config FILE'\n"
	    "                        and checks its work; native re-issues "
	    "with OpenSSL as\n"
	    "                        kubeadm does; auto (default) is kubeadm "
	    "when installed\n"
	    "  --config FILE         the cluster's saved ClusterConfiguration "
	    "(required by\n"
	    "                        the kubeadm backend)\n"
	    "  --validity D          lifetime of the new certificates (native "
	    "default 365d;\n"
	    "                        kubeadm: must match the "
	    "ClusterConfiguration's)\n"
	    "  --key-algorithm ALG   rsa-2048, rsa-3072, rsa-4096 or "
	    "ecdsa-p256 "
	    "(native\n"
	    "                        default: the current key's; kubeadm: must "
	    "match)\n"
	    "  --kubeadm PROG        the kubeadm to run (default: kubeadm in "
	    "PATH)\n"
	    "  --kubernetes-dir DIR  the node's files (default "
	    "/etc/kubernetes)\n"
	    "  --backup-dir DIR      where the backup goes (default "
	    "/var/lib/certroll/backups)\n"
	    "  --keep N              backups to keep (default 5)\n"
	    "  -o text|json          output format (default text)\n\n");
	fprintf(fp,
	    "Examples:\n"
	    "  certroll-agent renew --config /root/cc.yaml\n"
	    "  certroll-agent renew --backend native --renew-before 30d\n"
	    "  certroll-agent renew --backend native --only "
	    "etcd-server,etcd-peer -o json\n\n"
	    "Exit status: 0 renewed (or nothing to do), 1 refused or failed "
	    "(the files\nare as before), 2 usage error.\n");
}

static void
renew_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: certroll-agent renew [--only NAMES] [--renew-before "
	    "DURATION]\n"
	    "           [--backend auto|kubeadm|native] [--config FILE] "
	    "[--kubeadm PROG]\n"
	    "           [--validity DURATION] [--key-algorithm ALG]\n"
	    "           [--kubernetes-dir DIR] [--backup-dir DIR] [--keep N] "
	    "[-o text|json]\n\n"
	    "Renews this node's kubeadm certificates: backs up first, renews, "
	    "verifies\nevery renewed file against the backup (chain, key, "
	    "subject, SANs, usages,\nnew serial, later expiry) and puts the "
	    "backup back if anything failed.\nNever renews a CA, the "
	    "kubelet's certificate, a certificate whose CA key is\nabsent "
	    "(external CA), or one that would outlive its CA. Restart the\n"
	    "control-plane components afterwards (certroll-agent "
	    "restart).\n\n");
	renew_usage_options(fp);
}

struct renew_args {
	struct agent_renew_opts o;
	struct strv only;
	bool json;
};

static int
split_names(const char *list, struct strv *out)
{
	char *copy = xstrdup(list), *save = NULL, *tok, why[512];
	int rc = 0;

	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save))
		strv_push(out, tok);
	if (out->n == 0)
		rc = agent_usage("renew", "--only: no names given");
	else if (agent_renew_check_names(out, why, sizeof(why)) != CR_OK)
		rc = agent_usage("renew", "--only: %s", why);
	free(copy);
	return rc;
}

static int
renew_duration(struct renew_args *a, int c, const char *arg)
{
	int64_t secs;

	if (duration_parse(arg, &secs) != CR_OK || secs <= 0)
		return agent_usage("renew",
		    "%s: bad duration '%s' (e.g. 30d, 8760h)",
		    c == 'r' ? "--renew-before" : "--validity", arg);
	if (c == 'r')
		a->o.renew_before_s = secs;
	else
		a->o.validity_s = secs;
	return 0;
}

static int
renew_choice(struct renew_args *a, int c, const char *arg)
{
	if (c == 'B' && !agent_backend_parse(arg, &a->o.backend))
		return agent_usage("renew",
		    "--backend: '%s' (auto, kubeadm or native)", arg);
	if (c == 'a' && cert_keyalg_parse(arg, &a->o.key_algorithm) != CR_OK)
		return agent_usage("renew",
		    "--key-algorithm: '%s' (rsa-2048, rsa-3072, rsa-4096 or "
		    "ecdsa-p256)",
		    arg);
	if (c == 'o' && !agent_output_parse(arg, &a->json))
		return agent_usage("renew", "-o: '%s' (text or json)", arg);
	return 0;
}

static int
renew_keep(struct renew_args *a, const char *arg)
{
	char *end;
	unsigned long v = strtoul(arg, &end, 10);

	if (arg[0] < '0' || arg[0] > '9' || *end != '\0' || v < 1 || v > 1000)
		return agent_usage("renew", "--keep: '%s' (1 to 1000)", arg);
	a->o.keep = (unsigned)v;
	return 0;
}

static int
renew_opt(struct renew_args *a, int c, const char *arg)
{
	switch (c) {
	case 'c':
		a->o.cluster_config = arg;
		return 0;
	case 'K':
		a->o.kubeadm = arg;
		return 0;
	case 'k':
		a->o.kubernetes_dir = arg;
		return 0;
	case 'b':
		a->o.backup_dir = arg;
		return 0;
	case 'r':
	case 'v':
		return renew_duration(a, c, arg);
	case 'B':
	case 'a':
	case 'o':
		return renew_choice(a, c, arg);
	case 'n':
		return renew_keep(a, arg);
	case 'O':
		return split_names(arg, &a->only);
	default:
		return agent_usage("renew", "unknown option");
	}
}

static int
renew_parse(int argc, char **argv, struct renew_args *a)
{
	static const struct option opts[] = {
		{ "only", required_argument, NULL, 'O' },
		{ "renew-before", required_argument, NULL, 'r' },
		{ "backend", required_argument, NULL, 'B' },
		{ "config", required_argument, NULL, 'c' },
		{ "kubeadm", required_argument, NULL, 'K' },
		{ "validity", required_argument, NULL, 'v' },
		{ "key-algorithm", required_argument, NULL, 'a' },
		{ "kubernetes-dir", required_argument, NULL, 'k' },
		{ "backup-dir", required_argument, NULL, 'b' },
		{ "keep", required_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		if (c == 'h') {
			renew_usage(stdout);
			return -1;
		}
		if ((rc = renew_opt(a, c, optarg)) != 0)
			return rc;
	}
	if (optind != argc)
		return agent_usage("renew", "unexpected argument '%s'",
		    argv[optind]);
	a->o.only = &a->only;
	return 0;
}

static void
print_result(const struct agent_renew_result *r)
{
	char was[TIMEFMT_MAX], now[TIMEFMT_MAX];
	size_t i;

	if (r->backup != NULL)
		printf("backup   %s\n", r->backup);
	for (i = 0; i < r->nrenewed; i++) {
		timefmt_kubeadm(r->renewed[i].old_not_after, was, sizeof(was));
		timefmt_kubeadm(r->renewed[i].new_not_after, now, sizeof(now));
		printf("renewed  %-24s expires %s (was %s), serial %s\n",
		    r->renewed[i].name, now, was, r->renewed[i].new_serial);
	}
	for (i = 0; i < r->nskipped; i++)
		printf("skipped  %-24s %s\n", r->skipped[i].name,
		    r->skipped[i].reason);
	if (r->nrenewed > 0)
		printf("%zu certificates renewed with the %s backend and "
		       "verified; restart etcd, kube-apiserver,\n"
		       "kube-controller-manager and kube-scheduler to use "
		       "them.\n",
		    r->nrenewed, agent_backend_name(r->backend));
	else if (r->backup == NULL)
		printf("nothing to renew\n");
}

int
agent_cmd_renew(int argc, char **argv)
{
	struct agent_renew_result r;
	struct renew_args a;
	enum cr_err err;
	int rc;

	memset(&a, 0, sizeof(a));
	if ((rc = renew_parse(argc, argv, &a)) != 0) {
		strv_clear(&a.only);
		return rc == -1 ? AGENT_EXIT_OK : rc;
	}
	err = agent_renew(&a.o, &r);
	if (a.json)
		agent_print_json(agent_renew_result_to_json(&r));
	else if (err == CR_OK)
		print_result(&r);
	else if (r.rolled_back)
		fprintf(stderr,
		    "certroll-agent renew: %s; the files were restored from "
		    "%s\n",
		    r.error, r.backup);
	agent_renew_result_clear(&r);
	strv_clear(&a.only);
	return err == CR_OK ? AGENT_EXIT_OK : AGENT_EXIT_FAIL;
}
