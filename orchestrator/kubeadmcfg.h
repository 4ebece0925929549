/*
 * kubeadm's ClusterConfiguration as the cluster stores it: the
 * ClusterConfiguration key of the kube-system/kubeadm-config ConfigMap.
 *
 * kubeadm certs renew falls back to defaults without a word when it cannot
 * read this (kubeadm.md §0.4), so the rollout saves it while the cluster is
 * healthy and passes the raw text to the agent for 'kubeadm ... --config'.
 * The parsed fields are the ones a renewal depends on and the plan shows.
 * Defaults are kubeadm's: certificatesDir /etc/kubernetes/pki, local etcd,
 * RSA-2048, one year for leaves, ten for CAs (v1beta4 fields; v1beta3
 * has none of the last three).
 */
#ifndef CR_KUBEADMCFG_H
#define CR_KUBEADMCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "certinfo.h"
#include "err.h"
#include "kube.h"

#define KUBEADMCFG_CERTS_DIR     "/etc/kubernetes/pki"
#define KUBEADMCFG_ALGORITHM     "RSA-2048"
#define KUBEADMCFG_LEAF_VALIDITY (365LL * 86400)
#define KUBEADMCFG_CA_VALIDITY   (3650LL * 86400)

struct kubeadmcfg {
	char *yaml;               /* the ClusterConfiguration text, as stored */
	char *api_version;        /* "kubeadm.k8s.io/v1beta4" */
	char *kubernetes_version; /* or NULL */
	char *control_plane_endpoint; /* or NULL */
	char *cluster_name;           /* or NULL */
	char *certificates_dir;
	bool etcd_external;
	struct strv etcd_endpoints; /* external etcd's endpoints */
	char *encryption_algorithm; /* "RSA-2048", "ECDSA-P256" ... */
	int64_t cert_validity_s;    /* certificateValidityPeriod */
	int64_t ca_validity_s;      /* caCertificateValidityPeriod */
	/* Which of the last four the document sets (else defaults). */
	bool has_certificates_dir;
	bool has_encryption_algorithm;
	bool has_cert_validity;
	bool has_ca_validity;
};

struct kubeadmcfg_diag {
	char msg[512];
};

/*
 * Parses a ClusterConfiguration document into *c (zeroed by the caller),
 * keeping a copy of the text. Returns CR_ERR_CONFIG with diag set
 * ("LINE:COL: etcd: local and external are both set") for a document that
 * is not a kubeadm ClusterConfiguration or holds an invalid value; *c is
 * then cleared. Does not log. Release with kubeadmcfg_clear().
 */
enum cr_err kubeadmcfg_parse(const char *yaml, size_t len, struct kubeadmcfg *c,
    struct kubeadmcfg_diag *diag) CR_MUST_CHECK;

/*
 * Reads kube-system/kubeadm-config and parses its ClusterConfiguration.
 * Returns CR_ERR_NOTFOUND when the ConfigMap or the key is missing (not a
 * kubeadm cluster), CR_ERR_CONFIG when the document is invalid,
 * CR_ERR_KUBE/CR_ERR_TLS/CR_ERR_TIMEOUT when the API failed; each is
 * logged once, naming the ConfigMap.
 */
enum cr_err kubeadmcfg_fetch(struct kube *k, int64_t deadline,
    struct kubeadmcfg *c) CR_MUST_CHECK;

void kubeadmcfg_clear(struct kubeadmcfg *c);

/*
 * The settings for reports: {"apiVersion", "kubernetesVersion",
 * "controlPlaneEndpoint", "clusterName", "certificatesDir", "etcd":
 * {"external", "endpoints"}, "encryptionAlgorithm",
 * "certificateValidityPeriod", "caCertificateValidityPeriod"} with the
 * periods as durations ("8760h"); defaults included. Owned by the caller.
 */
json_object *kubeadmcfg_to_json(const struct kubeadmcfg *c);

#endif /* CR_KUBEADMCFG_H */
