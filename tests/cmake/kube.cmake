# kube: the orchestrator's Kubernetes side (kubeconfig, API client, drain,
# the rollout Lease, kubeadm's ClusterConfiguration).
cr_unit_test(kubecfg LIBS cr::cr_orch cr::crypto)
