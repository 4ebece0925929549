/*
 * Built with _GNU_SOURCE (orchestrator/CMakeLists.txt): memfd_create(2)
 * keeps the fetched admin.conf off the disk.
 */
#include "kcrefresh.h"

#include <sys/mman.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "agentc.h"
#include "cert.h"
#include "check.h"
#include "cli.h"
#include "clock.h"
#include "duration.h"
#include "fileio.h"
#include "log.h"
#include "ssh.h"
#include "timefmt.h"
#include "xmalloc.h"
#include "ydoc.h"

/* --- The current credential ------------------------------------------ */

static enum cr_err
refuse_kind(const struct kubecfg *cfg, char *why, size_t len)
{
	const char *user = kubecfg_user_name(cfg);
	size_t n = 0;

	if (kubecfg_has_exec(cfg)) {
		snprintf(why, len,
		    "user '%s' gets its credential from an exec plugin, so "
		    "the kubeconfig holds no certificate to replace: log in "
		    "again with that plugin's own tool",
		    user);
		return CR_ERR_STATE;
	}
	if (kubecfg_cert_pem(cfg, &n) != NULL)
		return CR_OK;
	if (kubecfg_token(cfg) != NULL || kubecfg_has_token_file(cfg))
		snprintf(why, len,
		    "user '%s' authenticates with a bearer token, not a "
		    "client certificate: ask for a new token (for a "
		    "ServiceAccount: kubectl create token NAME), or use a "
		    "context whose user has a certificate (--context)",
		    user);
	else
		snprintf(why, len,
		    "user '%s' has no client certificate: choose a context "
		    "whose user has one (--context), or copy admin.conf from "
		    "a control-plane node once",
		    user);
	return CR_ERR_STATE;
}

static void
refuse_refs(const struct kcfgcert *kc, char *why, size_t len)
{
	snprintf(why, len,
	    "user '%s' in %s reads its certificate from '%s' and its key "
	    "from '%s'; certroll replaces only embedded data, as kubeadm "
	    "does. Embed them first (kubectl config set-credentials %s "
	    "--embed-certs --client-certificate=FILE --client-key=FILE), "
	    "or put a new certificate and key into those files yourself",
	    kc->user, kc->path, kc->cert_file != NULL ? kc->cert_file : "-",
	    kc->key_file != NULL ? kc->key_file : "-", kc->user);
}

enum cr_err
kcrefresh_load_current(const struct kubecfg *cfg, struct kcfgcert **kcp,
    char *why, size_t len)
{
	struct kcfgcert *kc = NULL;
	struct ydoc_diag diag;
	char *real = NULL;
	enum cr_err err;

	*kcp = NULL;
	if ((err = refuse_kind(cfg, why, len)) != CR_OK)
		return err;
	if ((real = realpath(kubecfg_path(cfg), NULL)) == NULL) {
		snprintf(why, len, "cannot resolve '%s': %s", kubecfg_path(cfg),
		    strerror(errno));
		return CR_ERR_SYS;
	}
	memset(&diag, 0, sizeof(diag));
	err = kcfgcert_load_user(real, kubecfg_user_name(cfg),
	    kubecfg_cluster_name(cfg), &kc, &diag);
	if (err != CR_OK) {
		snprintf(why, len, "%s:%u: %s", real, diag.line, diag.msg);
	} else if (!kcfgcert_embedded(kc)) {
		refuse_refs(kc, why, len);
		err = CR_ERR_STATE;
	} else {
		*kcp = kc;
		kc = NULL;
	}
	kcfgcert_free(kc);
	free(real);
	return err;
}

/* --- admin.conf from a node ------------------------------------------ */

/* Keys that name a file, per list of a kubeconfig. */
static const struct {
	const char *list;
	const char *inner;
	const char *key;
} file_keys[] = {
	{ "users", "user", "client-certificate" },
	{ "users", "user", "client-key" },
	{ "users", "user", "tokenFile" },
	{ "clusters", "cluster", "certificate-authority" },
};

/* The first "list[i].inner.key" that names a file, or NULL. */
static const char *
file_key(const struct ydoc_node *root, unsigned *linep)
{
	const struct ydoc_node *seq, *inner, *v;
	size_t i, k;

	for (k = 0; k < sizeof(file_keys) / sizeof(file_keys[0]); k++) {
		seq = ydoc_get(root, file_keys[k].list);
		for (i = 0;
		     seq != NULL && seq->type == YDOC_SEQ && i < seq->nitems;
		     i++) {
			inner = ydoc_get(seq->items[i], file_keys[k].inner);
			v = ydoc_get(inner, file_keys[k].key);
			if (v != NULL && !ydoc_is_null(v)) {
				*linep = v->line;
				return file_keys[k].key;
			}
		}
	}
	return NULL;
}

static enum cr_err
refs_free(const void *data, size_t len, char *why, size_t whylen)
{
	struct ydoc *doc = NULL;
	struct ydoc_diag diag;
	const char *key;
	unsigned line = 0;
	enum cr_err err;

	if ((err = ydoc_parse(data, len, &doc, &diag)) != CR_OK) {
		snprintf(why, whylen, "line %u: %s", diag.line, diag.msg);
		return err;
	}
	if ((key = file_key(ydoc_root(doc, 0), &line)) != NULL) {
		snprintf(why, whylen,
		    "line %u: '%s' names a file; kubeadm embeds everything in "
		    "admin.conf, so this one was edited by hand and is not "
		    "used",
		    line, key);
		err = CR_ERR_CONFIG;
	}
	ydoc_free(doc);
	return err;
}

static int
write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

enum cr_err
kcrefresh_parse_admin(const void *data, size_t len, struct kcfgcert **kcp,
    char *why, size_t whylen)
{
	struct ydoc_diag diag;
	char path[64];
	enum cr_err err;
	int fd;

	*kcp = NULL;
	if ((err = refs_free(data, len, why, whylen)) != CR_OK)
		return err;
	if ((fd = memfd_create("certroll-admin.conf", MFD_CLOEXEC)) == -1 ||
	    write_all(fd, data, len) == -1) {
		snprintf(why, whylen, "cannot hold admin.conf in memory: %s",
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return CR_ERR_SYS;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	memset(&diag, 0, sizeof(diag));
	if ((err = kcfgcert_load(path, kcp, &diag)) != CR_OK)
		snprintf(why, whylen, "line %u: %s", diag.line, diag.msg);
	close(fd);
	return err;
}

/* --- The checks ------------------------------------------------------ */

/* One run of kcrefresh_check(): its inputs and the parsed material. */
struct checking {
	const struct kcrefresh_input *in;
	struct kcrefresh_result *res;
	const char *src; /* where admin.conf came from, for messages */
	char *why;
	size_t len;
	X509 *cur;     /* the kubeconfig's certificate */
	X509 *cert;    /* admin.conf's certificate */
	EVP_PKEY *key; /* admin.conf's key */
	X509 *ca;      /* admin.conf's CA */
	X509 *anchor;  /* the kubeconfig's copy of that CA (or ca) */
};

static bool
same_ca(X509 *a, X509 *b)
{
	return X509_NAME_cmp(X509_get_subject_name(a),
		   X509_get_subject_name(b)) == 0 &&
	    EVP_PKEY_eq(X509_get0_pubkey(a), X509_get0_pubkey(b)) == 1;
}

/*
 * The certificate in the PEM bundle that is the same CA as ca (same
 * subject and key: a re-issued CA still is), to X509_free(), or NULL.
 * *np counts the bundle's certificates.
 */
static X509 *
bundle_match(const void *pem, size_t len, X509 *ca, size_t *np)
{
	BIO *bio = BIO_new_mem_buf(pem, len > INT32_MAX ? -1 : (int)len);
	X509 *x, *match = NULL;

	*np = 0;
	while (bio != NULL &&
	    (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		(*np)++;
		if (match == NULL && same_ca(x, ca))
			match = x;
		else
			X509_free(x);
	}
	cert_clear_errors(); /* the end of the bundle is an "error" */
	BIO_free(bio);
	return match;
}

static enum cr_err
parse_material(struct checking *k)
{
	const struct kcfgcert *cur = k->in->cur, *fresh = k->in->fresh;

	if (cert_parse(cur->cert_pem.data, cur->cert_pem.len, &k->cur) !=
		CR_OK ||
	    cert_info_fill(k->cur, &k->res->old_cert) != CR_OK) {
		snprintf(k->why, k->len,
		    "the client certificate of user '%s' in %s does not "
		    "parse",
		    cur->user, cur->path);
		return CR_ERR_CERT;
	}
	if (cert_parse(fresh->cert_pem.data, fresh->cert_pem.len, &k->cert) !=
		CR_OK ||
	    cert_info_fill(k->cert, &k->res->new_cert) != CR_OK ||
	    cert_key_parse(fresh->key_pem.data, fresh->key_pem.len, &k->key) !=
		CR_OK) {
		snprintf(k->why, k->len,
		    "the client certificate or key in %s does not parse",
		    k->src);
		return CR_ERR_CERT;
	}
	if (fresh->ca_pem.len == 0 ||
	    cert_parse(fresh->ca_pem.data, fresh->ca_pem.len, &k->ca) !=
		CR_OK) {
		snprintf(k->why, k->len,
		    "%s carries no certificate-authority-data, so nothing "
		    "says which cluster it belongs to",
		    k->src);
		return CR_ERR_CERT;
	}
	return CR_OK;
}

/* A certificate's subject for messages, to free(). */
static char *
subject_of(X509 *x)
{
	struct cert_info ci;
	char *s;

	memset(&ci, 0, sizeof(ci));
	if (cert_info_fill(x, &ci) != CR_OK)
		return xstrdup("?");
	s = ci.subject;
	ci.subject = NULL;
	certinfo_clear(&ci);
	return s;
}

/* The notBefore of x, or 0. */
static time_t
not_before(X509 *x)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (ASN1_TIME_to_tm(X509_get0_notBefore(x), &tm) != 1)
		return 0;
	return timefmt_timegm(&tm);
}

static enum cr_err
same_cluster(struct checking *k)
{
	const struct kcrefresh_input *in = k->in;
	bool have_ca = in->cluster_ca != NULL && in->cluster_ca_len > 0;
	time_t at = k->res->old_cert.not_before;
	char *theirs, why[256];
	size_t n = 0;

	if (have_ca &&
	    (k->anchor = bundle_match(in->cluster_ca, in->cluster_ca_len, k->ca,
		 &n)) != NULL)
		return CR_OK;
	/*
	 * No CA to compare (insecure-skip-tls-verify): ours must be its, at
	 * a time when both were valid (ours may have expired since).
	 */
	if (not_before(k->ca) > at)
		at = not_before(k->ca);
	if (!have_ca &&
	    cert_verify(k->cur, k->ca, at, why, sizeof(why)) == CR_OK) {
		X509_up_ref(k->ca);
		k->anchor = k->ca;
		return CR_OK;
	}
	theirs = subject_of(k->ca);
	snprintf(k->why, k->len,
	    "%s belongs to another cluster: its CA '%s' is not %s; check the "
	    "inventory and --node, or --kubeconfig and --context",
	    k->src, theirs,
	    have_ca ? "the CA your kubeconfig trusts for this cluster" :
		      "the CA that issued your certificate (your kubeconfig "
		      "names none to compare)");
	free(theirs);
	return CR_ERR_STATE;
}

static enum cr_err
later(struct checking *k)
{
	const struct cert_info *old = &k->res->old_cert;
	const struct cert_info *new = &k->res->new_cert;
	char when[TIMEFMT_MAX], ours[TIMEFMT_MAX];

	timefmt_kubeadm(new->not_after, when, sizeof(when));
	timefmt_kubeadm(old->not_after, ours, sizeof(ours));
	if (strcmp(old->serial, new->serial) == 0) {
		snprintf(k->why, k->len,
		    "your kubeconfig already holds the certificate of %s "
		    "(serial %s, expires %s): renew the node first ('certroll "
		    "apply', or 'certroll recover' once it has expired)",
		    k->src, new->serial, when);
		return CR_ERR_STATE;
	}
	if (new->not_after <= old->not_after) {
		snprintf(k->why, k->len,
		    "the certificate in %s expires %s, no later than yours "
		    "(%s): renew that node first ('certroll apply'), or pick a "
		    "renewed one with --node",
		    k->src, when, ours);
		return CR_ERR_STATE;
	}
	return CR_OK;
}

static enum cr_err
verify_new(struct checking *k)
{
	char reason[256];

	if (cert_verify(k->cert, k->anchor, k->in->now, reason,
		sizeof(reason)) != CR_OK) {
		snprintf(k->why, k->len,
		    "the certificate in %s does not chain to the cluster's CA "
		    "(%s): the node's admin.conf is damaged; renew it there "
		    "again",
		    k->src, reason);
		return CR_ERR_VERIFY;
	}
	if (!cert_key_matches(k->cert, k->key)) {
		snprintf(k->why, k->len,
		    "the key in %s does not match its certificate: the "
		    "node's admin.conf is damaged; renew it there again",
		    k->src);
		return CR_ERR_VERIFY;
	}
	return CR_OK;
}

static enum cr_err
identity(struct checking *k, const struct kcrefresh_opts *o)
{
	const char *ours = k->res->old_cert.subject;
	const char *theirs = k->res->new_cert.subject;
	char *cn = check_dn_get(ours, "CN"), *org = check_dn_get(ours, "O");
	char *tcn = check_dn_get(theirs, "CN");
	bool same_user = strcmp(cn, tcn) == 0;

	if (strcmp(ours, theirs) == 0 || o->accept_identity) {
		k->res->identity_changed = strcmp(ours, theirs) != 0;
		free(cn);
		free(org);
		free(tcn);
		return CR_OK;
	}
	snprintf(k->why, k->len,
	    "your identity would change: your certificate is '%s', the one "
	    "in %s is '%s'. The API server knows you by the subject (CN the "
	    "user, each O a group), so %s. To keep your identity, have a new "
	    "certificate signed for the same subject (kubeadm kubeconfig "
	    "user --client-name=%s%s%s); to take the admin identity anyway, "
	    "pass --accept-identity",
	    ours, k->src, theirs,
	    same_user ? "your groups would change, and with them what RBAC "
			"allows you" :
			"RBAC bindings and audit logs that name you would no "
			"longer apply to you",
	    cn, *org != '\0' ? " --org=" : "", org);
	free(cn);
	free(org);
	free(tcn);
	return CR_ERR_STATE;
}

/* Replace the CA data too when it is one re-issued copy of the same CA. */
static void
ca_decision(struct checking *k)
{
	const struct kcfgcert *cur = k->in->cur, *fresh = k->in->fresh;
	X509 *x;
	size_t n = 0;

	if (cur->ca_file != NULL || cur->ca_pem.len == 0 ||
	    (cur->ca_pem.len == fresh->ca_pem.len &&
		memcmp(cur->ca_pem.data, fresh->ca_pem.data, cur->ca_pem.len) ==
		    0))
		return;
	x = bundle_match(cur->ca_pem.data, cur->ca_pem.len, k->ca, &n);
	k->res->ca_replaced = x != NULL && n == 1;
	X509_free(x);
}

enum cr_err
kcrefresh_check(const struct kcrefresh_input *in,
    const struct kcrefresh_opts *o, struct kcrefresh_result *res, char *why,
    size_t len)
{
	struct checking k;
	enum cr_err err;

	memset(&k, 0, sizeof(k));
	k.in = in;
	k.res = res;
	k.src = res->source != NULL ? res->source : "admin.conf";
	k.why = why;
	k.len = len;
	certinfo_clear(&res->old_cert);
	certinfo_clear(&res->new_cert);
	res->identity_changed = res->ca_replaced = false;
	if ((err = parse_material(&k)) == CR_OK &&
	    (err = same_cluster(&k)) == CR_OK && (err = later(&k)) == CR_OK &&
	    (err = verify_new(&k)) == CR_OK && (err = identity(&k, o)) == CR_OK)
		ca_decision(&k);
	cert_clear_errors();
	X509_free(k.cur);
	X509_free(k.cert);
	EVP_PKEY_free(k.key);
	X509_free(k.ca);
	X509_free(k.anchor);
	return err;
}

/* --- Writing --------------------------------------------------------- */

char *
kcrefresh_backup_path(const char *path, time_t now)
{
	char stamp[32];
	struct tm tm;
	unsigned n;
	char *p;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	p = xasprintf("%s.certroll-%s", path, stamp);
	for (n = 1; file_exists(p) && n < 1000; n++) {
		free(p);
		p = xasprintf("%s.certroll-%s-%u", path, stamp, n);
	}
	return p;
}

enum cr_err
kcrefresh_write(struct kcfgcert *cur, const struct kcfgcert *fresh, time_t now,
    struct kcrefresh_result *res)
{
	const struct kcfgcert_creds creds = { &fresh->cert_pem, &fresh->key_pem,
		res->ca_replaced ? &fresh->ca_pem : NULL };
	enum cr_err err;

	free(res->backup);
	res->backup = kcrefresh_backup_path(cur->path, now);
	if ((err = file_copy(cur->path, res->backup, 0600)) != CR_OK) {
		log_warn("cannot back up '%s' to '%s', so it was left as it is",
		    cur->path, res->backup);
		return err;
	}
	if ((err = kcfgcert_replace(cur, &creds)) == CR_ERR_SYS)
		log_warn("cannot rewrite '%s'; it is unchanged", cur->path);
	else if (err != CR_OK)
		log_warnx("cannot rewrite '%s' (%s); it is unchanged",
		    cur->path, cr_strerror(err));
	return err;
}

/* --- Fetching -------------------------------------------------------- */

struct pick {
	struct ctx *c;
	int64_t deadline;
	size_t only;       /* (size_t)-1: every node */
	time_t *not_after; /* admin.conf's, per node; 0: none */
};

/* Connects node i and reads when its admin.conf expires. */
static enum cr_err
pick_one(void *arg, size_t i)
{
	struct pick *p = arg;
	const struct inv_node *n = p->c->nodes[i].inv;
	struct proto_inspect_req req;
	struct proto_inspect_rep rep;
	const struct cert_info *ci;
	enum cr_err err;

	if (p->only != (size_t)-1 && i != p->only)
		return CR_OK;
	if ((err = ctx_connect(p->c, i, p->deadline)) != CR_OK)
		return err;
	req.kubernetes_dir = n->kubernetes_dir;
	if ((err = agentc_inspect(ctx_agent(p->c, i), n->name, &req,
		 p->deadline, &rep)) != CR_OK)
		return err;
	ci = cert_list_find(&rep.certificates, "admin.conf");
	if (ci != NULL && !ci->missing && ci->not_after != 0)
		p->not_after[i] = ci->not_after;
	else
		log_warnx("node %s: no readable admin.conf in %s", n->name,
		    n->kubernetes_dir);
	proto_inspect_rep_clear(&rep);
	return CR_OK;
}

/* The node to read admin.conf from, or (size_t)-1 (logged). */
static size_t
pick(struct ctx *c, const struct kcrefresh_opts *o, int64_t deadline)
{
	struct pick p = { c, deadline, (size_t)-1, NULL };
	enum cr_err *res = xcalloc(c->nnodes, sizeof(*res));
	size_t i, best = (size_t)-1;

	if (o->node != NULL && (p.only = ctx_find(c, o->node)) == (size_t)-1) {
		log_warnx("--node '%s' is not a control-plane host of the "
			  "inventory '%s'",
		    o->node, c->o.inventory);
		free(res);
		return best;
	}
	p.not_after = xcalloc(c->nnodes, sizeof(*p.not_after));
	if (ssh_parallel(c->nnodes, c->o.parallel, pick_one, &p, res) != CR_OK)
		log_debug("kubeconfig refresh: not every node answered");
	for (i = 0; i < c->nnodes; i++)
		if (p.not_after[i] != 0 &&
		    (best == (size_t)-1 || p.not_after[i] > p.not_after[best]))
			best = i;
	if (best == (size_t)-1)
		log_warnx("no node could provide admin.conf (see the messages "
			  "above)");
	free(p.not_after);
	free(res);
	return best;
}

enum cr_err
kcrefresh_fetch(struct ctx *c, const struct kcrefresh_opts *o, int64_t deadline,
    struct kcfgcert **freshp, struct kcrefresh_result *res)
{
	struct proto_read_file_req req = { NULL };
	struct proto_read_file_rep rep;
	const struct inv_node *n;
	char why[512];
	enum cr_err err;
	size_t i;

	*freshp = NULL;
	if ((i = pick(c, o, deadline)) == (size_t)-1)
		return o->node != NULL && ctx_find(c, o->node) == (size_t)-1 ?
		    CR_ERR_NOTFOUND :
		    CR_ERR_SSH;
	n = c->nodes[i].inv;
	req.path = file_path_join(n->kubernetes_dir, "admin.conf");
	free(res->source);
	res->source = xasprintf("%s:%s", n->name, req.path);
	err = agentc_read_file(ctx_agent(c, i), n->name, &req, deadline, &rep);
	if (err == CR_OK) {
		if ((err = kcrefresh_parse_admin(rep.data, rep.len, freshp, why,
			 sizeof(why))) != CR_OK)
			log_warnx("%s: %s", res->source, why);
		proto_read_file_rep_clear(&rep);
	}
	free(req.path);
	return err;
}

/* --- The whole refresh ----------------------------------------------- */

/* One refresh of cur's credential, from fetching admin.conf to writing. */
struct refresh {
	struct ctx *c;
	const struct kcrefresh_opts *o;
	struct kcfgcert *cur;
	struct kcfgcert *fresh;
	struct kcrefresh_result res;
	time_t now;
	char why[2048]; /* what refused it; "" when the check did not run */
};

/*
 * Fetches a renewed admin.conf and checks it against cur. On a refusal
 * r->why says why and what to do; a failure to fetch is logged.
 */
static enum cr_err
prepare(struct refresh *r, int64_t deadline)
{
	struct kcrefresh_input in;
	enum cr_err err;

	r->why[0] = '\0';
	if ((err = kcrefresh_fetch(r->c, r->o, deadline, &r->fresh, &r->res)) !=
	    CR_OK)
		return err;
	memset(&in, 0, sizeof(in));
	in.cur = r->cur;
	in.cluster_ca = kubecfg_ca_pem(r->c->kcfg, &in.cluster_ca_len);
	in.fresh = r->fresh;
	in.now = r->now = clock_now();
	return kcrefresh_check(&in, r->o, &r->res, r->why, sizeof(r->why));
}

/* Writes a prepared refresh (or, in a dry run, only reports it). */
static enum cr_err
commit(struct refresh *r)
{
	enum cr_err err;

	if (r->o->dry_run)
		r->res.backup = kcrefresh_backup_path(r->cur->path, r->now);
	else if ((err = kcrefresh_write(r->cur, r->fresh, r->now, &r->res)) !=
	    CR_OK)
		return err;
	kcrefresh_print(&r->res, r->cur->path, kubecfg_user_name(r->c->kcfg),
	    r->o->dry_run, stdout);
	return CR_OK;
}

static void
refresh_clear(struct refresh *r)
{
	kcrefresh_result_clear(&r->res);
	kcfgcert_free(r->fresh);
	r->fresh = NULL;
}

enum cr_err
kcrefresh_run(struct ctx *c, const struct kcrefresh_opts *o,
    struct kcfgcert *cur, int64_t deadline)
{
	struct refresh r = { .c = c, .o = o, .cur = cur };
	enum cr_err err;

	if ((err = prepare(&r, deadline)) == CR_OK)
		err = commit(&r);
	else if (r.why[0] != '\0')
		log_warnx("kubeconfig refresh: refused: %s", r.why);
	refresh_clear(&r);
	return err;
}

#define KCREFRESH_AFTER_TIMEOUT_MS ((int64_t)60 * 1000)

/* The operator's answer on a terminal; false anywhere else. */
static bool
ask(const struct kubecfg *cfg, const struct kcfgcert *cur)
{
	if (!isatty(STDIN_FILENO))
		return false;
	fprintf(stderr,
	    "\nReplace the client certificate of user '%s' in %s with the "
	    "renewed admin.conf\none (the old file is kept)? [y/N] ",
	    kubecfg_user_name(cfg), cur->path);
	return cli_answer_yes();
}

/* The command that refreshes c's kubeconfig by hand; to free(). */
static char *
refresh_cmd(const struct ctx *c)
{
	const struct kubecfg_opts *kc = &c->o.kc;

	return xasprintf("certroll kubeconfig refresh -i %s%s%s%s%s",
	    c->o.inventory, kc->kubeconfig != NULL ? " --kubeconfig " : "",
	    kc->kubeconfig != NULL ? kc->kubeconfig : "",
	    kc->context != NULL ? " --context " : "",
	    kc->context != NULL ? kc->context : "");
}

/* What became of the offer when it was not taken (r prepared). */
static void
not_taken(const struct refresh *r, enum cr_err prepared)
{
	const char *user = kubecfg_user_name(r->c->kcfg);
	char *cmd = refresh_cmd(r->c);

	if (prepared == CR_OK)
		printf("\nYour kubeconfig (user '%s' in %s) still carries its "
		       "old client certificate:\n'%s' replaces it.\n",
		    user, r->cur->path, cmd);
	else if (r->why[0] != '\0')
		printf("\nYour kubeconfig (user '%s' in %s) keeps its client "
		       "certificate: '%s' would refuse it: %s.\n",
		    user, r->cur->path, cmd, r->why);
	else
		printf("\nYour kubeconfig was not refreshed (see above); "
		       "'%s' tries again.\n",
		    cmd);
	free(cmd);
}

void
kcrefresh_after(struct ctx *c, enum kcrefresh_when when)
{
	struct kcrefresh_opts o; /* the defaults: no --node, no flags */
	struct refresh r = { .c = c, .o = &o };
	enum cr_err err;

	memset(&o, 0, sizeof(o));
	if (c->kcfg == NULL && ctx_load_kubeconfig(c) != CR_OK) {
		printf("\nNo kubeconfig was refreshed (see above).\n");
		return;
	}
	if (kcrefresh_load_current(c->kcfg, &r.cur, r.why, sizeof(r.why)) !=
	    CR_OK) {
		printf("\ncertroll does not refresh your kubeconfig: %s.\n",
		    r.why);
		return;
	}
	/* Offered only once it would be taken: a "y" is never refused. */
	err = prepare(&r, clock_deadline_ms(KCREFRESH_AFTER_TIMEOUT_MS));
	if (err == CR_OK &&
	    (when == KCREFRESH_ALWAYS ||
		(when == KCREFRESH_ASK && ask(c->kcfg, r.cur)))) {
		printf("\n");
		fflush(stdout);
		if (commit(&r) != CR_OK)
			printf("Your kubeconfig was left as it was.\n");
	} else {
		not_taken(&r, err);
	}
	refresh_clear(&r);
	kcfgcert_free(r.cur);
}

/* --- Reporting ------------------------------------------------------- */

static void
print_cert(FILE *fp, const char *label, const struct cert_info *ci, time_t now)
{
	char when[TIMEFMT_MAX], left[32];

	timefmt_kubeadm(ci->not_after, when, sizeof(when));
	if (ci->not_after < now) {
		duration_short_human(now - ci->not_after, left, sizeof(left));
		fprintf(fp, "  %-9s expired %s (%s ago), serial %s\n", label,
		    when, left, ci->serial);
	} else {
		duration_short_human(ci->not_after - now, left, sizeof(left));
		fprintf(fp, "  %-9s expires %s (in %s), serial %s\n", label,
		    when, left, ci->serial);
	}
}

void
kcrefresh_print(const struct kcrefresh_result *res, const char *file,
    const char *user, bool dry_run, FILE *fp)
{
	time_t now = clock_now();

	fprintf(fp, "%s the client certificate of user '%s' in %s\n",
	    dry_run ? "Would refresh" : "Refreshed", user, file);
	fprintf(fp, "  %-9s %s\n", "from", res->source);
	if (res->identity_changed)
		fprintf(fp, "  %-9s %s -> %s (--accept-identity)\n", "subject",
		    res->old_cert.subject, res->new_cert.subject);
	else
		fprintf(fp, "  %-9s %s\n", "subject", res->new_cert.subject);
	print_cert(fp, "old", &res->old_cert, now);
	print_cert(fp, "new", &res->new_cert, now);
	if (res->ca_replaced)
		fprintf(fp, "  %-9s %s\n", "CA data",
		    "refreshed too (a re-issued copy of the same CA)");
	if (dry_run) {
		fprintf(fp,
		    "Dry run: nothing was written. Without --dry-run the old "
		    "file is kept as\n%s (mode 0600).\n",
		    res->backup);
		return;
	}
	fprintf(fp, "  %-9s %s (mode 0600)\n", "backup", res->backup);
	fprintf(fp,
	    "The client certificate and key%s were replaced; every other "
	    "entry of the file is as it was.\n",
	    res->ca_replaced ? " and the CA data" : "");
}

void
kcrefresh_result_clear(struct kcrefresh_result *res)
{
	free(res->source);
	certinfo_clear(&res->old_cert);
	certinfo_clear(&res->new_cert);
	free(res->backup);
	memset(res, 0, sizeof(*res));
}
