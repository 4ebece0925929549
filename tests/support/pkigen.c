/*
 * certroll-pkigen: lays out kubeadm-style PKI trees for the tests and the
 * lab. "ca" makes the shared CAs once; "node" gives one node its
 * /etc/kubernetes (certificates, keys and kubeconfigs, with the subjects,
 * SANs and usages kubeadm gives them: kubeadm.md §1.1). Run with --help.
 *
 * The certificates are issued with common/cert.h, the code the agent's
 * native renewer uses; the tests cross-check everything written here with
 * the openssl CLI and the kubeadm stand-in, which share no code with it.
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "buf.h"
#include "cert.h"
#include "certinfo.h"
#include "duration.h"
#include "fileio.h"
#include "log.h"
#include "timefmt.h"
#include "xmalloc.h"

#define DAY_S       ((int64_t)86400)
#define YEAR_S      (365 * DAY_S)
#define SERVICE_VIP "10.96.0.1" /* first IP of kubeadm's serviceSubnet */

enum ca_id {
	CA_ROOT = 0, /* "ca" */
	CA_ETCD,     /* "etcd-ca" */
	CA_PROXY,    /* "front-proxy-ca" */
	CA__MAX
};

static const struct ca_spec {
	const char *base; /* under pki/ */
	const char *cn;
} ca_specs[CA__MAX] = {
	[CA_ROOT] = { "ca", "kubernetes" },
	[CA_ETCD] = { "etcd/ca", "etcd-ca" },
	[CA_PROXY] = { "front-proxy-ca", "front-proxy-ca" },
};

enum sans {
	SANS_NONE = 0,
	SANS_APISERVER,
	SANS_ETCD,
};

/* The leaf certificates under pki/ (kubeadm certlist.go). */
static const struct leaf_spec {
	const char *base;
	const char *cn; /* NULL: the node name */
	const char *org;
	const char *legacy_org; /* before v1.29 */
	enum ca_id ca;
	unsigned eku;
	enum sans sans;
	bool etcd; /* not made with external etcd */
} leaf_specs[] = {
	{ "apiserver", "kube-apiserver", NULL, NULL, CA_ROOT, CERT_EKU_SERVER,
	    SANS_APISERVER, false },
	{ "apiserver-kubelet-client", "kube-apiserver-kubelet-client",
	    "kubeadm:cluster-admins", "system:masters", CA_ROOT,
	    CERT_EKU_CLIENT, SANS_NONE, false },
	{ "front-proxy-client", "front-proxy-client", NULL, NULL, CA_PROXY,
	    CERT_EKU_CLIENT, SANS_NONE, false },
	{ "etcd/server", NULL, NULL, NULL, CA_ETCD,
	    CERT_EKU_SERVER | CERT_EKU_CLIENT, SANS_ETCD, true },
	{ "etcd/peer", NULL, NULL, NULL, CA_ETCD,
	    CERT_EKU_SERVER | CERT_EKU_CLIENT, SANS_ETCD, true },
	{ "etcd/healthcheck-client", "kube-etcd-healthcheck-client", NULL,
	    "system:masters", CA_ETCD, CERT_EKU_CLIENT, SANS_NONE, true },
	{ "apiserver-etcd-client", "kube-apiserver-etcd-client", NULL,
	    "system:masters", CA_ETCD, CERT_EKU_CLIENT, SANS_NONE, true },
};

/* The kubeconfigs (kubeadm kubeconfig.go getKubeConfigSpecsBase). */
enum kc_kind {
	KC_PLAIN = 0,
	KC_SUPER_ADMIN, /* v1.29+, init node only */
	KC_KUBELET,     /* may refer to the kubelet's rotated file */
};

static const struct kc_spec {
	const char *file;
	const char *cn; /* NULL: system:node:<node> */
	const char *org;
	const char *legacy_org;
	enum kc_kind kind;
} kc_specs[] = {
	{ "admin.conf", "kubernetes-admin", "kubeadm:cluster-admins",
	    "system:masters", KC_PLAIN },
	{ "super-admin.conf", "kubernetes-super-admin", "system:masters",
	    "system:masters", KC_SUPER_ADMIN },
	{ "controller-manager.conf", "system:kube-controller-manager", NULL,
	    NULL, KC_PLAIN },
	{ "scheduler.conf", "system:kube-scheduler", NULL, NULL, KC_PLAIN },
	{ "kubelet.conf", NULL, "system:nodes", "system:nodes", KC_KUBELET },
};

struct gen {
	/* Options. */
	const char *dir; /* CADIR for "ca", KDIR for "node" */
	const char *ca_dir;
	const char *node;
	const char *ip;
	const char *server;
	const char *kubelet_dir;
	const char *key_pool;
	enum cert_keyalg alg;
	time_t now;
	int64_t ca_validity;
	int64_t expires_in;
	bool expired, expires_given, legacy, external_ca, no_super_admin;
	bool external_etcd;
	/* State. */
	char *server_buf;  /* the default --server */
	char *kubelet_buf; /* --kubelet-dir made absolute */
	unsigned pool_next;
	X509 *ca[CA__MAX];
	EVP_PKEY *ca_key[CA__MAX];
	size_t files;
};

static int
write_file(struct gen *g, const char *rel, const struct buf *b, int mode)
{
	char *path = file_path_join(g->dir, rel);
	char *dir = xstrdup(path);
	int rc = 0;

	*strrchr(dir, '/') = '\0';
	if (file_mkdirs(dir, 0755) != CR_OK ||
	    file_write_atomic(path, b->data, b->len, mode) != CR_OK) {
		log_warn("write '%s'", path);
		rc = -1;
	}
	g->files++;
	free(dir);
	free(path);
	return rc;
}

static int
write_cert(struct gen *g, const char *rel, X509 *x)
{
	struct buf b = BUF_INIT;
	int rc = -1;

	if (cert_to_pem(x, &b) == CR_OK)
		rc = write_file(g, rel, &b, 0644);
	else
		cert_log_errors("encode '%s'", rel);
	buf_clear(&b);
	return rc;
}

static int
write_key(struct gen *g, const char *rel, EVP_PKEY *key)
{
	struct buf b = BUF_INIT;
	int rc = -1;

	if (cert_key_to_pem(key, &b) == CR_OK)
		rc = write_file(g, rel, &b, 0600);
	else
		cert_log_errors("encode key '%s'", rel);
	buf_clear_secret(&b);
	return rc;
}

/*
 * A new key, or with --key-pool the next key of the pool (made and kept
 * there on first use), so repeated runs skip the RSA key generation.
 */
static EVP_PKEY *
next_key(struct gen *g)
{
	EVP_PKEY *key = NULL;
	struct buf b = BUF_INIT;
	char *path = NULL;

	if (g->key_pool != NULL) {
		path = xasprintf("%s/%s-%u.key", g->key_pool,
		    cert_keyalg_name(g->alg), g->pool_next++);
		if (cert_key_load(path, &key) == CR_OK)
			goto out;
	}
	if (cert_key_new(g->alg, &key) != CR_OK) {
		cert_log_errors("generate a %s key", cert_keyalg_name(g->alg));
		goto out;
	}
	if (path != NULL &&
	    (file_mkdirs(g->key_pool, 0700) != CR_OK ||
		cert_key_to_pem(key, &b) != CR_OK ||
		file_write_atomic(path, b.data, b.len, 0600) != CR_OK))
		log_warnx("key pool '%s' not updated", path);
out:
	buf_clear_secret(&b);
	free(path);
	return key;
}

static X509 *
issue(struct gen *g, const struct cert_tmpl *t, EVP_PKEY *key, enum ca_id ca)
{
	X509 *x = NULL;

	if (cert_issue(t, key, ca == CA__MAX ? NULL : g->ca[ca],
		ca == CA__MAX ? key : g->ca_key[ca], &x) != CR_OK)
		cert_log_errors("issue a certificate");
	return x;
}

static int
make_ca(struct gen *g, enum ca_id id)
{
	const struct ca_spec *s = &ca_specs[id];
	X509_NAME *name = cert_name_new(s->cn, NULL);
	struct strv dns = { NULL, 0 };
	struct cert_tmpl t;
	char *rel;
	int rc = -1;

	memset(&t, 0, sizeof(t));
	strv_push(&dns, s->cn);
	t.subject = name;
	t.dns_names = &dns;
	t.is_ca = true;
	t.not_before = g->now - CERT_BACKDATE_S;
	t.not_after = g->now + g->ca_validity;
	if ((g->ca_key[id] = next_key(g)) == NULL ||
	    (g->ca[id] = issue(g, &t, g->ca_key[id], CA__MAX)) == NULL)
		goto out;
	rel = xasprintf("pki/%s.crt", s->base);
	rc = write_cert(g, rel, g->ca[id]);
	free(rel);
	rel = xasprintf("pki/%s.key", s->base);
	if (rc == 0)
		rc = write_key(g, rel, g->ca_key[id]);
	free(rel);
out:
	strv_clear(&dns);
	X509_NAME_free(name);
	return rc;
}

/* sa.key/sa.pub: the service-account signing pair (never expires). */
static int
make_sa(struct gen *g)
{
	EVP_PKEY *key = next_key(g);
	struct buf b = BUF_INIT;
	int rc = -1;

	if (key == NULL)
		return -1;
	if (write_key(g, "pki/sa.key", key) == 0 &&
	    cert_pubkey_to_pem(key, &b) == CR_OK)
		rc = write_file(g, "pki/sa.pub", &b, 0644);
	buf_clear(&b);
	EVP_PKEY_free(key);
	return rc;
}

static int
cmd_ca(struct gen *g)
{
	int id;

	for (id = 0; id < CA__MAX; id++)
		if (make_ca(g, (enum ca_id)id) == -1)
			return -1;
	return make_sa(g);
}

/* Copies pki/<rel> from the CA dir into the node's tree. */
static int
copy_ca_file(struct gen *g, const char *rel)
{
	char *src = xasprintf("%s/pki/%s", g->ca_dir, rel);
	char *dst = xasprintf("%s/pki/%s", g->dir, rel);
	char *dir = xstrdup(dst);
	int rc = 0;

	*strrchr(dir, '/') = '\0';
	if (file_mkdirs(dir, 0755) != CR_OK ||
	    file_copy(src, dst, FILE_MODE_KEEP) != CR_OK) {
		log_warn("copy '%s' to '%s'", src, dst);
		rc = -1;
	}
	g->files++;
	free(dir);
	free(src);
	free(dst);
	return rc;
}

static int
load_ca(struct gen *g, enum ca_id id)
{
	char *crt = xasprintf("%s/pki/%s.crt", g->ca_dir, ca_specs[id].base);
	char *key = xasprintf("%s/pki/%s.key", g->ca_dir, ca_specs[id].base);
	int rc = -1;

	if (cert_load(crt, &g->ca[id]) != CR_OK)
		log_warnx("'%s': no CA certificate (run 'certroll-pkigen ca' "
			  "first)",
		    crt);
	else if (cert_key_load(key, &g->ca_key[id]) != CR_OK)
		log_warnx("'%s': no CA key", key);
	else
		rc = 0;
	free(crt);
	free(key);
	return rc;
}

static int
copy_cas(struct gen *g)
{
	char rel[64];
	int id;

	for (id = 0; id < CA__MAX; id++) {
		if (load_ca(g, (enum ca_id)id) == -1)
			return -1;
		if (id == CA_ETCD && g->external_etcd)
			continue;
		snprintf(rel, sizeof(rel), "%s.crt", ca_specs[id].base);
		if (copy_ca_file(g, rel) == -1)
			return -1;
		if (id == CA_ROOT && g->external_ca)
			continue;
		snprintf(rel, sizeof(rel), "%s.key", ca_specs[id].base);
		if (copy_ca_file(g, rel) == -1)
			return -1;
	}
	if (copy_ca_file(g, "sa.key") == -1 || copy_ca_file(g, "sa.pub") == -1)
		return -1;
	return 0;
}

/* Validity of a node's leaf: 365 days ending at now + --expires-in. */
static void
leaf_validity(const struct gen *g, struct cert_tmpl *t)
{
	t->not_after = g->expired ? g->now - DAY_S : g->now + g->expires_in;
	t->not_before = t->not_after - YEAR_S;
	if (t->not_before > g->now - CERT_BACKDATE_S)
		t->not_before = g->now - CERT_BACKDATE_S;
}

static void
leaf_sans(const struct gen *g, enum sans kind, struct strv *dns,
    struct strv *ips)
{
	static const char *const api_dns[] = { "kubernetes",
		"kubernetes.default", "kubernetes.default.svc",
		"kubernetes.default.svc.cluster.local" };
	size_t i;

	if (kind == SANS_NONE)
		return;
	strv_push(dns, g->node);
	if (kind == SANS_APISERVER) {
		for (i = 0; i < sizeof(api_dns) / sizeof(api_dns[0]); i++)
			strv_push(dns, api_dns[i]);
		strv_push(ips, SERVICE_VIP);
		strv_push(ips, g->ip);
		return;
	}
	strv_push(dns, "localhost");
	strv_push(ips, g->ip);
	strv_push(ips, "127.0.0.1");
	strv_push(ips, "::1");
}

/* The issued pair of one leaf; the caller frees both. */
struct pair {
	X509 *cert;
	EVP_PKEY *key;
};

/* What one leaf or kubeconfig certificate carries. */
struct leaf_req {
	const char *cn;
	const char *org; /* or NULL */
	unsigned eku;
	enum sans sans;
	enum ca_id ca;
};

static void
req_ekus(unsigned eku, struct strv *ekus)
{
	if (eku & CERT_EKU_SERVER)
		strv_push(ekus, "serverAuth");
	if (eku & CERT_EKU_CLIENT)
		strv_push(ekus, "clientAuth");
}

static int
make_pair(struct gen *g, const struct leaf_req *q, struct pair *p)
{
	struct strv orgs = { NULL, 0 }, dns = { NULL, 0 }, ips = { NULL, 0 };
	struct strv ekus = { NULL, 0 };
	X509_NAME *name;
	struct cert_tmpl t;

	memset(&t, 0, sizeof(t));
	if (q->org != NULL)
		strv_push(&orgs, q->org);
	req_ekus(q->eku, &ekus);
	leaf_sans(g, q->sans, &dns, &ips);
	name = cert_name_new(q->cn, &orgs);
	t.subject = name;
	t.dns_names = &dns;
	t.ip_addresses = &ips;
	t.ext_key_usages = &ekus;
	leaf_validity(g, &t);
	p->cert = NULL;
	if ((p->key = next_key(g)) != NULL)
		p->cert = issue(g, &t, p->key, q->ca);
	X509_NAME_free(name);
	strv_clear(&orgs);
	strv_clear(&dns);
	strv_clear(&ips);
	strv_clear(&ekus);
	return p->cert != NULL ? 0 : -1;
}

static void
pair_clear(struct pair *p)
{
	X509_free(p->cert);
	EVP_PKEY_free(p->key);
	p->cert = NULL;
	p->key = NULL;
}

static int
make_leaf(struct gen *g, const struct leaf_spec *s)
{
	const struct leaf_req q = { s->cn != NULL ? s->cn : g->node,
		g->legacy ? s->legacy_org : s->org, s->eku, s->sans, s->ca };
	struct pair p;
	char *crt, *key;
	int rc = -1;

	if (make_pair(g, &q, &p) == -1)
		goto out;
	crt = xasprintf("pki/%s.crt", s->base);
	key = xasprintf("pki/%s.key", s->base);
	/* kubeadm writes the key first, then the certificate. */
	if (write_key(g, key, p.key) == 0 && write_cert(g, crt, p.cert) == 0)
		rc = 0;
	free(crt);
	free(key);
out:
	pair_clear(&p);
	return rc;
}

static char *
b64(const struct buf *b)
{
	char *s = xmalloc(4 * ((b->len + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)s, b->data, (int)b->len);
	return s;
}

/* The kubeconfig as client-go writes it; user is an embedded or ref part. */
static void
kubeconfig_text(const struct gen *g, const char *name, const char *user,
    struct buf *out)
{
	struct buf ca = BUF_INIT;
	char *ca64;

	if (cert_to_pem(g->ca[CA_ROOT], &ca) != CR_OK)
		fatalx("encode the CA certificate");
	ca64 = b64(&ca);
	buf_printf(out,
	    "apiVersion: v1\nclusters:\n- cluster:\n"
	    "    certificate-authority-data: %s\n    server: %s\n"
	    "  name: kubernetes\ncontexts:\n- context:\n"
	    "    cluster: kubernetes\n    user: %s\n"
	    "  name: %s@kubernetes\ncurrent-context: %s@kubernetes\n"
	    "kind: Config\npreferences: {}\nusers:\n- name: %s\n  user:\n%s",
	    ca64, g->server, name, name, name, name, user);
	free(ca64);
	buf_clear(&ca);
}

static int
embedded_user(const struct pair *p, struct buf *out)
{
	struct buf crt = BUF_INIT, key = BUF_INIT;
	char *c64 = NULL, *k64 = NULL;
	int rc = -1;

	if (cert_to_pem(p->cert, &crt) == CR_OK &&
	    cert_key_to_pem(p->key, &key) == CR_OK) {
		c64 = b64(&crt);
		k64 = b64(&key);
		buf_printf(out,
		    "    client-certificate-data: %s\n"
		    "    client-key-data: %s\n",
		    c64, k64);
		rc = 0;
	}
	free(c64);
	freezero_str(k64);
	buf_clear(&crt);
	buf_clear_secret(&key);
	return rc;
}

/*
 * The kubelet's rotated client certificate: <dir>/pki/kubelet-client-
 * <date>.pem (certificate and key) and the kubelet-client-current.pem
 * symlink kubelet.conf refers to.
 */
static int
kubelet_pem(struct gen *g, const struct pair *p, struct buf *user)
{
	char stamp[32], *pem = NULL, *link = NULL, *dir;
	struct buf b = BUF_INIT;
	int rc = -1;

	strftime(stamp, sizeof(stamp), "%Y-%m-%d-%H-%M-%S", gmtime(&g->now));
	dir = xasprintf("%s/pki", g->kubelet_dir);
	pem = xasprintf("%s/kubelet-client-%s.pem", dir, stamp);
	link = xasprintf("%s/kubelet-client-current.pem", dir);
	if (file_mkdirs(dir, 0755) != CR_OK ||
	    cert_to_pem(p->cert, &b) != CR_OK ||
	    cert_key_to_pem(p->key, &b) != CR_OK ||
	    file_write_atomic(pem, b.data, b.len, 0600) != CR_OK) {
		log_warn("write '%s'", pem);
		goto out;
	}
	if ((unlink(link) == -1 && errno != ENOENT) ||
	    symlink(strrchr(pem, '/') + 1, link) == -1) {
		log_warn("symlink '%s'", link);
		goto out;
	}
	buf_printf(user, "    client-certificate: %s\n    client-key: %s\n",
	    link, link);
	rc = 0;
out:
	buf_clear_secret(&b);
	free(dir);
	free(pem);
	free(link);
	return rc;
}

static int
make_kubeconfig(struct gen *g, const struct kc_spec *s)
{
	struct buf user = BUF_INIT, out = BUF_INIT;
	char *cn = s->cn != NULL ? xstrdup(s->cn) :
				   xasprintf("system:node:%s", g->node);
	const struct leaf_req q = { cn, g->legacy ? s->legacy_org : s->org,
		CERT_EKU_CLIENT, SANS_NONE, CA_ROOT };
	struct pair p;
	int rc = -1;

	if (make_pair(g, &q, &p) == -1)
		goto out;
	if (s->kind == KC_KUBELET && g->kubelet_dir != NULL)
		rc = kubelet_pem(g, &p, &user);
	else
		rc = embedded_user(&p, &user);
	if (rc == 0) {
		kubeconfig_text(g, cn, buf_cstr(&user), &out);
		rc = write_file(g, s->file, &out, 0600);
	}
out:
	pair_clear(&p);
	buf_clear_secret(&user);
	buf_clear_secret(&out);
	free(cn);
	return rc;
}

static int
cmd_node(struct gen *g)
{
	size_t i;

	if (copy_cas(g) == -1)
		return -1;
	for (i = 0; i < sizeof(leaf_specs) / sizeof(leaf_specs[0]); i++) {
		if (leaf_specs[i].etcd && g->external_etcd)
			continue;
		if (make_leaf(g, &leaf_specs[i]) == -1)
			return -1;
	}
	for (i = 0; i < sizeof(kc_specs) / sizeof(kc_specs[0]); i++) {
		if (kc_specs[i].kind == KC_SUPER_ADMIN &&
		    (g->no_super_admin || g->legacy))
			continue;
		if (make_kubeconfig(g, &kc_specs[i]) == -1)
			return -1;
	}
	return 0;
}

static void
usage_options(FILE *fp)
{
	fprintf(fp,
	    "Options:\n"
	    "  --key-algorithm ALG  rsa-2048 (ca default), rsa-3072, rsa-4096 "
	    "or ecdsa-p256;\n"
	    "                       node defaults to the algorithm of CADIR's "
	    "ca.key\n"
	    "  --ca-validity D      CA lifetime (default 10y)\n"
	    "  --server URL         API server in the kubeconfigs (default "
	    "https://IP:6443)\n"
	    "  --expires-in D       leaf certificates expire D from now "
	    "(default 365d)\n"
	    "  --expired            leaf certificates expired a day ago\n"
	    "  --legacy-subjects    pre-v1.29 subjects (O=system:masters), no "
	    "super-admin.conf\n"
	    "  --external-ca        leave ca.key out (kubeadm's external CA "
	    "mode)\n"
	    "  --no-super-admin     no super-admin.conf (a node that did not "
	    "run init)\n"
	    "  --external-etcd      no etcd CA, no etcd or etcd-client "
	    "certificates\n"
	    "  --kubelet-dir DIR    write the kubelet's client certificate to "
	    "DIR/pki/\n"
	    "                       kubelet-client-current.pem and refer to it "
	    "from\n"
	    "                       kubelet.conf (default: embedded in "
	    "kubelet.conf)\n"
	    "  --now TIME           the clock to use, RFC 3339 (for golden "
	    "files)\n"
	    "  --key-pool DIR       reuse private keys kept in DIR across runs "
	    "(fast RSA)\n\n");
	fprintf(fp,
	    "Examples:\n"
	    "  certroll-pkigen ca --dir /tmp/cas --key-algorithm ecdsa-p256\n"
	    "  certroll-pkigen node --ca /tmp/cas --dir /tmp/cp1/kubernetes "
	    "--node cp1 \\\n"
	    "      --ip 10.200.0.11 --expires-in 20d\n"
	    "  certroll-pkigen node --ca /tmp/cas --dir /tmp/cp2 --node cp2 "
	    "--ip 10.200.0.12 \\\n"
	    "      --no-super-admin --kubelet-dir /tmp/cp2-kubelet\n\n"
	    "Exit status: 0 written, 1 failed, 2 usage error.\n");
}

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: certroll-pkigen ca --dir CADIR [--key-algorithm ALG]\n"
	    "           [--ca-validity DURATION] [--now TIME] [--key-pool "
	    "DIR]\n"
	    "       certroll-pkigen node --ca CADIR --dir KDIR --node NAME "
	    "--ip IP\n"
	    "           [--server URL] [--expires-in DURATION | --expired]\n"
	    "           [--key-algorithm ALG] [--legacy-subjects] "
	    "[--external-ca]\n"
	    "           [--no-super-admin] [--external-etcd] "
	    "[--kubelet-dir DIR]\n"
	    "           [--now TIME] [--key-pool DIR]\n\n"
	    "Lays out kubeadm-style PKI for tests and the lab. Never use it "
	    "for a real\ncluster.\n\n"
	    "ca    makes the cluster's shared CAs in a kubeadm layout under "
	    "CADIR/pki:\n"
	    "      ca.{crt,key} (CN kubernetes), etcd/ca.{crt,key} (CN "
	    "etcd-ca),\n"
	    "      front-proxy-ca.{crt,key} and the service-account pair "
	    "sa.key/sa.pub.\n"
	    "node  gives one node a full /etc/kubernetes in KDIR: the CAs "
	    "copied from\n"
	    "      CADIR, every leaf certificate with kubeadm's CN, O, SANs "
	    "and usages,\n"
	    "      admin.conf, super-admin.conf, controller-manager.conf, "
	    "scheduler.conf\n"
	    "      and kubelet.conf (system:node:NAME, O=system:nodes).\n\n");
	usage_options(fp);
}

enum opt {
	OPT_DIR = 256,
	OPT_CA,
	OPT_NODE,
	OPT_IP,
	OPT_SERVER,
	OPT_EXPIRES_IN,
	OPT_EXPIRED,
	OPT_KEYALG,
	OPT_LEGACY,
	OPT_EXTERNAL_CA,
	OPT_NO_SUPER_ADMIN,
	OPT_EXTERNAL_ETCD,
	OPT_KUBELET_DIR,
	OPT_CA_VALIDITY,
	OPT_NOW,
	OPT_KEY_POOL,
	OPT_HELP,
};

static const struct option long_opts[] = {
	{ "dir", required_argument, NULL, OPT_DIR },
	{ "ca", required_argument, NULL, OPT_CA },
	{ "node", required_argument, NULL, OPT_NODE },
	{ "ip", required_argument, NULL, OPT_IP },
	{ "server", required_argument, NULL, OPT_SERVER },
	{ "expires-in", required_argument, NULL, OPT_EXPIRES_IN },
	{ "expired", no_argument, NULL, OPT_EXPIRED },
	{ "key-algorithm", required_argument, NULL, OPT_KEYALG },
	{ "legacy-subjects", no_argument, NULL, OPT_LEGACY },
	{ "external-ca", no_argument, NULL, OPT_EXTERNAL_CA },
	{ "no-super-admin", no_argument, NULL, OPT_NO_SUPER_ADMIN },
	{ "external-etcd", no_argument, NULL, OPT_EXTERNAL_ETCD },
	{ "kubelet-dir", required_argument, NULL, OPT_KUBELET_DIR },
	{ "ca-validity", required_argument, NULL, OPT_CA_VALIDITY },
	{ "now", required_argument, NULL, OPT_NOW },
	{ "key-pool", required_argument, NULL, OPT_KEY_POOL },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Reports a usage error; returns the usage exit status. */
static int
bad(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "certroll-pkigen: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'certroll-pkigen --help'.\n");
	return 2;
}

static int
parse_duration(const char *s, int64_t *outp)
{
	return duration_parse(s, outp) == CR_OK && *outp > 0 ? 0 : -1;
}

static int
parse_now(const char *s, time_t *outp)
{
	int64_t ms;

	if (timefmt_parse_rfc3339(s, &ms) != CR_OK)
		return -1;
	*outp = (time_t)(ms / 1000);
	return 0;
}

/* Applies one option; returns 0, or an exit status for a bad one. */
static int
apply_opt(struct gen *g, int c, const char *arg)
{
	switch (c) {
	case OPT_DIR:
		g->dir = arg;
		break;
	case OPT_CA:
		g->ca_dir = arg;
		break;
	case OPT_NODE:
		g->node = arg;
		break;
	case OPT_IP:
		g->ip = arg;
		break;
	case OPT_SERVER:
		g->server = arg;
		break;
	case OPT_KUBELET_DIR:
		g->kubelet_dir = arg;
		break;
	case OPT_KEY_POOL:
		g->key_pool = arg;
		break;
	default:
		return -1;
	}
	return 0;
}

static int
apply_value_opt(struct gen *g, int c, const char *arg)
{
	switch (c) {
	case OPT_EXPIRES_IN:
		g->expires_given = true;
		if (parse_duration(arg, &g->expires_in) == -1)
			return bad("--expires-in: bad duration '%s' (e.g. 20d)",
			    arg);
		break;
	case OPT_CA_VALIDITY:
		if (parse_duration(arg, &g->ca_validity) == -1)
			return bad(
			    "--ca-validity: bad duration '%s' (e.g. 10y)", arg);
		break;
	case OPT_KEYALG:
		if (cert_keyalg_parse(arg, &g->alg) != CR_OK)
			return bad("--key-algorithm: unknown '%s' (rsa-2048, "
				   "rsa-3072, rsa-4096 or ecdsa-p256)",
			    arg);
		break;
	case OPT_NOW:
		if (parse_now(arg, &g->now) == -1)
			return bad("--now: '%s' is not RFC 3339 "
				   "(2026-11-28T13:00:00Z)",
			    arg);
		break;
	default:
		return -1;
	}
	return 0;
}

static void
apply_flag(struct gen *g, int c)
{
	switch (c) {
	case OPT_EXPIRED:
		g->expired = true;
		break;
	case OPT_LEGACY:
		g->legacy = true;
		break;
	case OPT_EXTERNAL_CA:
		g->external_ca = true;
		break;
	case OPT_NO_SUPER_ADMIN:
		g->no_super_admin = true;
		break;
	case OPT_EXTERNAL_ETCD:
		g->external_etcd = true;
		break;
	default:
		break;
	}
}

static int
parse_opts(struct gen *g, int argc, char **argv)
{
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		if (c == 'h' || c == OPT_HELP) {
			usage(stdout);
			exit(0);
		}
		if (c == '?')
			return bad("%s", "bad option");
		if (apply_opt(g, c, optarg) == 0)
			continue;
		if ((rc = apply_value_opt(g, c, optarg)) > 0)
			return rc;
		if (rc == -1)
			apply_flag(g, c);
	}
	if (optind != argc)
		return bad("unexpected argument '%s'", argv[optind]);
	return 0;
}

static int
check_node_opts(struct gen *g)
{
	EVP_PKEY *key = NULL;
	char cwd[4096];
	char *path;

	if (g->ca_dir == NULL || g->node == NULL || g->ip == NULL)
		return bad("%s", "node needs --ca, --dir, --node and --ip");
	if (g->expired && g->expires_given)
		return bad("%s",
		    "--expired and --expires-in exclude each other");
	if (g->alg == CERT_KEY_KEEP) {
		path = xasprintf("%s/pki/ca.key", g->ca_dir);
		if (cert_key_load(path, &key) != CR_OK ||
		    cert_keyalg_of(key, &g->alg) != CR_OK)
			g->alg = CERT_KEY_RSA2048;
		EVP_PKEY_free(key);
		free(path);
	}
	if (g->server == NULL)
		g->server = g->server_buf = xasprintf("https://%s:6443", g->ip);
	/* kubelet.conf refers to the kubelet's file by an absolute path. */
	if (g->kubelet_dir != NULL && g->kubelet_dir[0] != '/') {
		if (getcwd(cwd, sizeof(cwd)) == NULL)
			return bad("%s",
			    "cannot resolve a relative --kubelet-dir");
		g->kubelet_dir = g->kubelet_buf = file_path_join(cwd,
		    g->kubelet_dir);
	}
	return 0;
}

static void
gen_clear(struct gen *g)
{
	int i;

	for (i = 0; i < CA__MAX; i++) {
		X509_free(g->ca[i]);
		EVP_PKEY_free(g->ca_key[i]);
	}
	free(g->server_buf);
	free(g->kubelet_buf);
}

/* Defaults, options and their checks; returns 0 or an exit status. */
static int
prepare(struct gen *g, bool node, int argc, char **argv)
{
	int rc;

	memset(g, 0, sizeof(*g));
	g->now = time(NULL);
	g->ca_validity = 10 * YEAR_S;
	g->expires_in = 365 * DAY_S;
	if ((rc = parse_opts(g, argc, argv)) != 0)
		return rc;
	if (g->dir == NULL)
		return bad("%s", "--dir is required");
	if (!node && g->alg == CERT_KEY_KEEP)
		g->alg = CERT_KEY_RSA2048;
	return node ? check_node_opts(g) : 0;
}

int
main(int argc, char **argv)
{
	struct gen g;
	bool node;
	int rc;

	log_init("certroll-pkigen", LOG_LEVEL_WARN);
	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "ca") != 0 && strcmp(argv[1], "node") != 0)
		return bad("unknown command '%s' (ca or node)", argv[1]);
	node = strcmp(argv[1], "node") == 0;
	if ((rc = prepare(&g, node, argc - 1, argv + 1)) == 0)
		rc = (node ? cmd_node(&g) : cmd_ca(&g)) == 0 ? 0 : 1;
	gen_clear(&g);
	return rc;
}
