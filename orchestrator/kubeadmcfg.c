#include "kubeadmcfg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cert.h"
#include "duration.h"
#include "jv.h"
#include "log.h"
#include "xmalloc.h"
#include "ydoc.h"

#define CONFIGMAP_PATH                                                         \
	"/api/v1/namespaces/kube-system/configmaps/kubeadm-config"

static enum cr_err fail(struct kubeadmcfg_diag *d, const struct ydoc_node *at,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static enum cr_err
fail(struct kubeadmcfg_diag *d, const struct ydoc_node *at, const char *fmt,
    ...)
{
	char text[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (at != NULL)
		snprintf(d->msg, sizeof(d->msg), "%u:%u: %s", at->line, at->col,
		    text);
	else
		snprintf(d->msg, sizeof(d->msg), "%s", text);
	return CR_ERR_CONFIG;
}

/* A scalar field copied, or NULL; a non-scalar is an error. */
static enum cr_err
string_field(const struct ydoc_node *map, const char *key, char **out,
    struct kubeadmcfg_diag *d)
{
	const struct ydoc_node *n = ydoc_get(map, key);

	if (n == NULL || ydoc_is_null(n))
		return CR_OK;
	if (ydoc_scalar(n) == NULL)
		return fail(d, n, "%s: expected a string, found a %s", key,
		    ydoc_type_name(n->type));
	*out = xstrdup(ydoc_scalar(n));
	return CR_OK;
}

/* A Go duration ("8760h0m0s"); *setp says whether the key was there. */
static enum cr_err
period_field(const struct ydoc_node *map, const char *key, int64_t *secsp,
    bool *setp, struct kubeadmcfg_diag *d)
{
	const struct ydoc_node *n = ydoc_get(map, key);

	if (n == NULL || ydoc_is_null(n))
		return CR_OK;
	if (ydoc_scalar(n) == NULL ||
	    duration_parse(ydoc_scalar(n), secsp) != CR_OK || *secsp <= 0)
		return fail(d, n,
		    "%s: '%s' is not a positive duration like "
		    "8760h",
		    key, ydoc_scalar(n) != NULL ? ydoc_scalar(n) : "");
	*setp = true;
	return CR_OK;
}

static enum cr_err
parse_etcd(const struct ydoc_node *root, struct kubeadmcfg *c,
    struct kubeadmcfg_diag *d)
{
	const struct ydoc_node *etcd = ydoc_get(root, "etcd"), *ext, *eps;
	size_t i;

	ext = ydoc_get(etcd, "external");
	if (ext == NULL || ydoc_is_null(ext))
		return CR_OK;
	if (ydoc_get(etcd, "local") != NULL &&
	    !ydoc_is_null(ydoc_get(etcd, "local")))
		return fail(d, etcd, "etcd: local and external are both set");
	c->etcd_external = true;
	eps = ydoc_get(ext, "endpoints");
	if (eps == NULL || eps->type != YDOC_SEQ || eps->nitems == 0)
		return fail(d, ext,
		    "etcd.external: endpoints must list the "
		    "etcd servers");
	for (i = 0; i < eps->nitems; i++) {
		if (ydoc_scalar(eps->items[i]) == NULL)
			return fail(d, eps->items[i],
			    "etcd.external.endpoints: "
			    "expected a URL");
		strv_push(&c->etcd_endpoints, ydoc_scalar(eps->items[i]));
	}
	return CR_OK;
}

static enum cr_err
parse_crypto(const struct ydoc_node *root, struct kubeadmcfg *c,
    struct kubeadmcfg_diag *d)
{
	enum cert_keyalg alg;
	enum cr_err err;

	if ((err = string_field(root, "encryptionAlgorithm",
		 &c->encryption_algorithm, d)) != CR_OK ||
	    (err = period_field(root, "certificateValidityPeriod",
		 &c->cert_validity_s, &c->has_cert_validity, d)) != CR_OK ||
	    (err = period_field(root, "caCertificateValidityPeriod",
		 &c->ca_validity_s, &c->has_ca_validity, d)) != CR_OK)
		return err;
	if (c->encryption_algorithm == NULL) {
		c->encryption_algorithm = xstrdup(KUBEADMCFG_ALGORITHM);
		return CR_OK;
	}
	c->has_encryption_algorithm = true;
	if (cert_keyalg_parse(c->encryption_algorithm, &alg) != CR_OK)
		return fail(d, ydoc_get(root, "encryptionAlgorithm"),
		    "encryptionAlgorithm: '%s' is not one of RSA-2048, "
		    "RSA-3072, RSA-4096, ECDSA-P256",
		    c->encryption_algorithm);
	return CR_OK;
}

static enum cr_err
check_kind(const struct ydoc_node *root, struct kubeadmcfg *c,
    struct kubeadmcfg_diag *d)
{
	const char *kind = ydoc_scalar(ydoc_get(root, "kind"));
	const char *api = ydoc_scalar(ydoc_get(root, "apiVersion"));

	if (root == NULL || root->type != YDOC_MAP)
		return fail(d, root,
		    "not a ClusterConfiguration (expected a "
		    "mapping)");
	if (kind == NULL || strcmp(kind, "ClusterConfiguration") != 0)
		return fail(d, root, "kind is '%s', not ClusterConfiguration",
		    kind != NULL ? kind : "");
	if (api == NULL || strncmp(api, "kubeadm.k8s.io/", 15) != 0)
		return fail(d, root,
		    "apiVersion '%s' is not kubeadm's "
		    "(kubeadm.k8s.io/v1beta3 or v1beta4)",
		    api != NULL ? api : "");
	c->api_version = xstrdup(api);
	return CR_OK;
}

static enum cr_err
parse_root(const struct ydoc_node *root, struct kubeadmcfg *c,
    struct kubeadmcfg_diag *d)
{
	enum cr_err err;

	if ((err = check_kind(root, c, d)) != CR_OK ||
	    (err = string_field(root, "kubernetesVersion",
		 &c->kubernetes_version, d)) != CR_OK ||
	    (err = string_field(root, "controlPlaneEndpoint",
		 &c->control_plane_endpoint, d)) != CR_OK ||
	    (err = string_field(root, "clusterName", &c->cluster_name, d)) !=
		CR_OK ||
	    (err = string_field(root, "certificatesDir", &c->certificates_dir,
		 d)) != CR_OK ||
	    (err = parse_etcd(root, c, d)) != CR_OK ||
	    (err = parse_crypto(root, c, d)) != CR_OK)
		return err;
	c->has_certificates_dir = c->certificates_dir != NULL;
	if (c->certificates_dir == NULL)
		c->certificates_dir = xstrdup(KUBEADMCFG_CERTS_DIR);
	if (!c->has_cert_validity)
		c->cert_validity_s = KUBEADMCFG_LEAF_VALIDITY;
	if (!c->has_ca_validity)
		c->ca_validity_s = KUBEADMCFG_CA_VALIDITY;
	return CR_OK;
}

enum cr_err
kubeadmcfg_parse(const char *yaml, size_t len, struct kubeadmcfg *c,
    struct kubeadmcfg_diag *d)
{
	struct ydoc *doc = NULL;
	struct ydoc_diag yd;
	enum cr_err err;

	d->msg[0] = '\0';
	if (ydoc_parse(yaml, len, &doc, &yd) != CR_OK) {
		snprintf(d->msg, sizeof(d->msg), "%u:%u: %s", yd.line, yd.col,
		    yd.msg);
		return CR_ERR_CONFIG;
	}
	if (ydoc_count(doc) != 1)
		err = fail(d, NULL, "expected one YAML document, found %zu",
		    ydoc_count(doc));
	else
		err = parse_root(ydoc_root(doc, 0), c, d);
	ydoc_free(doc);
	if (err != CR_OK) {
		kubeadmcfg_clear(c);
		return err;
	}
	c->yaml = xstrndup(yaml, len);
	return CR_OK;
}

enum cr_err
kubeadmcfg_fetch(struct kube *k, int64_t deadline, struct kubeadmcfg *c)
{
	struct kubeadmcfg_diag d;
	json_object *cm = NULL;
	const char *text;
	enum cr_err err;

	if ((err = kube_get(k, CONFIGMAP_PATH, deadline, &cm)) != CR_OK) {
		if (kube_status_is(kube_last_status(k), KUBE_REASON_NOT_FOUND))
			err = CR_ERR_NOTFOUND;
		log_warnx("configmap kube-system/kubeadm-config: %s%s",
		    kube_error_message(k),
		    err == CR_ERR_NOTFOUND ?
			" (certroll renews kubeadm clusters only)" :
			"");
		return err;
	}
	if ((text = jv_str(cm, "data.ClusterConfiguration")) == NULL) {
		log_warnx("configmap kube-system/kubeadm-config: no "
			  "ClusterConfiguration key in its data");
		err = CR_ERR_NOTFOUND;
	} else if ((err = kubeadmcfg_parse(text, strlen(text), c, &d)) != CR_OK)
		log_warnx("configmap kube-system/kubeadm-config: "
			  "ClusterConfiguration:%s",
		    d.msg);
	json_object_put(cm);
	return err;
}

void
kubeadmcfg_clear(struct kubeadmcfg *c)
{
	free(c->yaml);
	free(c->api_version);
	free(c->kubernetes_version);
	free(c->control_plane_endpoint);
	free(c->cluster_name);
	free(c->certificates_dir);
	strv_clear(&c->etcd_endpoints);
	free(c->encryption_algorithm);
	memset(c, 0, sizeof(*c));
}

/* Go's style for whole hours, as kubeadm writes these periods. */
static void
add_period(json_object *o, const char *key, int64_t secs)
{
	char buf[64];

	if (secs % 3600 == 0)
		snprintf(buf, sizeof(buf), "%lldh", (long long)(secs / 3600));
	else
		duration_format(secs, buf, sizeof(buf));
	jv_add_str(o, key, buf);
}

json_object *
kubeadmcfg_to_json(const struct kubeadmcfg *c)
{
	json_object *o = json_object_new_object();
	json_object *etcd = json_object_new_object();
	json_object *eps = json_object_new_array();
	size_t i;

	jv_add_str(o, "apiVersion", c->api_version);
	jv_add_str(o, "kubernetesVersion", c->kubernetes_version);
	jv_add_str(o, "controlPlaneEndpoint", c->control_plane_endpoint);
	jv_add_str(o, "clusterName", c->cluster_name);
	jv_add_str(o, "certificatesDir", c->certificates_dir);
	jv_add_bool(etcd, "external", c->etcd_external);
	for (i = 0; i < c->etcd_endpoints.n; i++)
		json_object_array_add(eps,
		    json_object_new_string(c->etcd_endpoints.v[i]));
	json_object_object_add(etcd, "endpoints", eps);
	json_object_object_add(o, "etcd", etcd);
	jv_add_str(o, "encryptionAlgorithm", c->encryption_algorithm);
	add_period(o, "certificateValidityPeriod", c->cert_validity_s);
	add_period(o, "caCertificateValidityPeriod", c->ca_validity_s);
	return o;
}
