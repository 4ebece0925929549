/*
 * The certificates kubeadm manages on a control-plane node, as kubeadm
 * names them (kubeadm.md §1.1): one row per certificate with its files, its
 * signing CA, the extended key usages it must carry and kubeadm's long name
 * (what `kubeadm certs renew` prints). Rows come in the order `kubeadm
 * certs check-expiration` lists them: the leaves and kubeconfigs sorted by
 * name, then the CAs, then the kubelet's client certificate (reported,
 * never renewed).
 */
#ifndef CR_PKI_H
#define CR_PKI_H

#include <stdbool.h>
#include <stddef.h>

enum pki_kind {
	PKI_LEAF = 0,   /* pki/<x>.crt and pki/<x>.key */
	PKI_KUBECONFIG, /* <x>.conf with embedded client credentials */
	PKI_CA,         /* pki/<x>.crt and its key; never renewed */
	PKI_KUBELET,    /* kubelet.conf: managed by the kubelet */
};

struct pki_entry {
	const char *name; /* "apiserver", "admin.conf", "etcd-ca" */
	enum pki_kind kind;
	const char *file;      /* relative to the kubernetes dir */
	const char *key;       /* the key file, or NULL for kubeconfigs */
	const char *ca;        /* signing CA's name; NULL for a CA */
	unsigned eku;          /* CERT_EKU_* the certificate must carry */
	bool etcd;             /* not expected with external etcd */
	const char *long_name; /* kubeadm's LongName */
};

/* Number of rows; rows are pki_at(0) .. pki_at(pki_count() - 1). */
size_t pki_count(void);

/* Row i, or NULL when i is out of range. */
const struct pki_entry *pki_at(size_t i);

/* The row called name, or NULL. */
const struct pki_entry *pki_find(const char *name);

/* True for what kubeadm renews (leaves and the four kubeconfigs). */
bool pki_renewable(const struct pki_entry *e);

#endif /* CR_PKI_H */
