#include "pki.h"

#include <string.h>

#include "cert.h"

#define SRV CERT_EKU_SERVER
#define CLI CERT_EKU_CLIENT

/* kubeadm certlist.go, renewal/manager.go and certs.go. */
static const struct pki_entry entries[] = {
	{ "admin.conf", PKI_KUBECONFIG, "admin.conf", NULL, "ca", CLI, false,
	    "certificate embedded in the kubeconfig file for the admin to "
	    "use and for kubeadm itself" },
	{ "apiserver", PKI_LEAF, "pki/apiserver.crt", "pki/apiserver.key", "ca",
	    SRV, false, "certificate for serving the Kubernetes API" },
	{ "apiserver-etcd-client", PKI_LEAF, "pki/apiserver-etcd-client.crt",
	    "pki/apiserver-etcd-client.key", "etcd-ca", CLI, true,
	    "certificate the apiserver uses to access etcd" },
	{ "apiserver-kubelet-client", PKI_LEAF,
	    "pki/apiserver-kubelet-client.crt",
	    "pki/apiserver-kubelet-client.key", "ca", CLI, false,
	    "certificate for the API server to connect to kubelet" },
	{ "controller-manager.conf", PKI_KUBECONFIG, "controller-manager.conf",
	    NULL, "ca", CLI, false,
	    "certificate embedded in the kubeconfig file for the controller "
	    "manager to use" },
	{ "etcd-healthcheck-client", PKI_LEAF,
	    "pki/etcd/healthcheck-client.crt",
	    "pki/etcd/healthcheck-client.key", "etcd-ca", CLI, true,
	    "certificate for liveness probes to healthcheck etcd" },
	{ "etcd-peer", PKI_LEAF, "pki/etcd/peer.crt", "pki/etcd/peer.key",
	    "etcd-ca", SRV | CLI, true,
	    "certificate for etcd nodes to communicate with each other" },
	{ "etcd-server", PKI_LEAF, "pki/etcd/server.crt", "pki/etcd/server.key",
	    "etcd-ca", SRV | CLI, true, "certificate for serving etcd" },
	{ "front-proxy-client", PKI_LEAF, "pki/front-proxy-client.crt",
	    "pki/front-proxy-client.key", "front-proxy-ca", CLI, false,
	    "certificate for the front proxy client" },
	{ "scheduler.conf", PKI_KUBECONFIG, "scheduler.conf", NULL, "ca", CLI,
	    false,
	    "certificate embedded in the kubeconfig file for the scheduler "
	    "manager to use" },
	{ "super-admin.conf", PKI_KUBECONFIG, "super-admin.conf", NULL, "ca",
	    CLI, false,
	    "certificate embedded in the kubeconfig file for the super-admin" },
	{ "ca", PKI_CA, "pki/ca.crt", "pki/ca.key", NULL, 0, false,
	    "self-signed Kubernetes CA to provision identities for other "
	    "Kubernetes components" },
	{ "etcd-ca", PKI_CA, "pki/etcd/ca.crt", "pki/etcd/ca.key", NULL, 0,
	    true, "self-signed CA to provision identities for etcd" },
	{ "front-proxy-ca", PKI_CA, "pki/front-proxy-ca.crt",
	    "pki/front-proxy-ca.key", NULL, 0, false,
	    "self-signed CA to provision identities for front proxy" },
	{ "kubelet.conf", PKI_KUBELET, "kubelet.conf", NULL, "ca", CLI, false,
	    "client certificate of the kubelet, rotated by the kubelet" },
};

size_t
pki_count(void)
{
	return sizeof(entries) / sizeof(entries[0]);
}

const struct pki_entry *
pki_at(size_t i)
{
	return i < pki_count() ? &entries[i] : NULL;
}

const struct pki_entry *
pki_find(const char *name)
{
	size_t i;

	for (i = 0; i < pki_count(); i++)
		if (strcmp(entries[i].name, name) == 0)
			return &entries[i];
	return NULL;
}

bool
pki_renewable(const struct pki_entry *e)
{
	return e->kind == PKI_LEAF || e->kind == PKI_KUBECONFIG;
}
