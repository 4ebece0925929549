/*
 * agent pki: the kubeadm table (kubeadm.md §1.1) as the rest of the agent
 * relies on it.
 */
#include <string.h>

#include "cert.h"
#include "cu_run.h"
#include "pki.h"

static const struct {
	const char *name, *file, *key, *ca;
	unsigned eku;
	bool etcd, renewable;
} kubeadm_rows[] = {
	{ "admin.conf", "admin.conf", NULL, "ca", CERT_EKU_CLIENT, false,
	    true },
	{ "apiserver", "pki/apiserver.crt", "pki/apiserver.key", "ca",
	    CERT_EKU_SERVER, false, true },
	{ "apiserver-etcd-client", "pki/apiserver-etcd-client.crt",
	    "pki/apiserver-etcd-client.key", "etcd-ca", CERT_EKU_CLIENT, true,
	    true },
	{ "apiserver-kubelet-client", "pki/apiserver-kubelet-client.crt",
	    "pki/apiserver-kubelet-client.key", "ca", CERT_EKU_CLIENT, false,
	    true },
	{ "controller-manager.conf", "controller-manager.conf", NULL, "ca",
	    CERT_EKU_CLIENT, false, true },
	{ "etcd-healthcheck-client", "pki/etcd/healthcheck-client.crt",
	    "pki/etcd/healthcheck-client.key", "etcd-ca", CERT_EKU_CLIENT, true,
	    true },
	{ "etcd-peer", "pki/etcd/peer.crt", "pki/etcd/peer.key", "etcd-ca",
	    CERT_EKU_SERVER | CERT_EKU_CLIENT, true, true },
	{ "etcd-server", "pki/etcd/server.crt", "pki/etcd/server.key",
	    "etcd-ca", CERT_EKU_SERVER | CERT_EKU_CLIENT, true, true },
	{ "front-proxy-client", "pki/front-proxy-client.crt",
	    "pki/front-proxy-client.key", "front-proxy-ca", CERT_EKU_CLIENT,
	    false, true },
	{ "scheduler.conf", "scheduler.conf", NULL, "ca", CERT_EKU_CLIENT,
	    false, true },
	{ "super-admin.conf", "super-admin.conf", NULL, "ca", CERT_EKU_CLIENT,
	    false, true },
	{ "ca", "pki/ca.crt", "pki/ca.key", NULL, 0, false, false },
	{ "etcd-ca", "pki/etcd/ca.crt", "pki/etcd/ca.key", NULL, 0, true,
	    false },
	{ "front-proxy-ca", "pki/front-proxy-ca.crt", "pki/front-proxy-ca.key",
	    NULL, 0, false, false },
	{ "kubelet.conf", "kubelet.conf", NULL, "ca", CERT_EKU_CLIENT, false,
	    false },
};

static void
test_table_matches_kubeadm(void)
{
	const struct pki_entry *e;
	size_t i;

	CU_ASSERT_EQUAL(pki_count(),
	    sizeof(kubeadm_rows) / sizeof(kubeadm_rows[0]));
	for (i = 0; i < sizeof(kubeadm_rows) / sizeof(kubeadm_rows[0]); i++) {
		if ((e = pki_at(i)) == NULL) {
			CU_FAIL("a row is missing");
			return;
		}
		CU_ASSERT_CASE(strcmp(e->name, kubeadm_rows[i].name) == 0,
		    kubeadm_rows[i].name);
		CU_ASSERT_CASE(pki_find(kubeadm_rows[i].name) == e,
		    kubeadm_rows[i].name);
		CU_ASSERT_CASE(strcmp(e->file, kubeadm_rows[i].file) == 0,
		    kubeadm_rows[i].name);
		CU_ASSERT_CASE((e->key == NULL) ==
			    (kubeadm_rows[i].key == NULL) &&
			(e->key == NULL ||
			    strcmp(e->key, kubeadm_rows[i].key) == 0),
		    kubeadm_rows[i].name);
		CU_ASSERT_CASE((e->ca == NULL) ==
			    (kubeadm_rows[i].ca == NULL) &&
			(e->ca == NULL ||
			    strcmp(e->ca, kubeadm_rows[i].ca) == 0),
		    kubeadm_rows[i].name);
		CU_ASSERT_CASE(e->eku == kubeadm_rows[i].eku,
		    kubeadm_rows[i].name);
		CU_ASSERT_CASE(e->etcd == kubeadm_rows[i].etcd,
		    kubeadm_rows[i].name);
		CU_ASSERT_CASE(pki_renewable(e) == kubeadm_rows[i].renewable,
		    kubeadm_rows[i].name);
		/* Every signing CA is itself a row with a key file. */
		if (e->ca != NULL)
			CU_ASSERT_CASE(pki_find(e->ca) != NULL &&
				pki_find(e->ca)->kind == PKI_CA,
			    kubeadm_rows[i].name);
	}
	CU_ASSERT_PTR_NULL(pki_at(pki_count()));
	CU_ASSERT_PTR_NULL(pki_find("apiserver.crt"));
	CU_ASSERT_PTR_NULL(pki_find(""));
}

static CU_TestInfo pki_tests[] = {
	{ "table_matches_kubeadm", test_table_matches_kubeadm },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ .pName = "agent_pki", .pTests = pki_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cu_run(suites);
}
