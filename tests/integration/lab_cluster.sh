#!/bin/bash
# The lab's cluster as the real kubectl sees it with the workstation's
# kubeconfig: every node Ready, every mirror pod (4 per node) Ready, the
# workloads running where they belong, kubeadm's ClusterConfiguration
# stored; then `kubectl drain cp2 --ignore-daemonsets` evicts cp2's
# ReplicaSet pods (the PodDisruptionBudget allowing one at a time), the
# controllers replace them on other nodes, and `kubectl uncordon cp2`
# undoes the cordon.
set -euo pipefail
. "$(dirname "$0")/lab_env.sh"
n=$(wc -l <"$dir/nodes.list")
if [ "$n" -lt 2 ]; then
	echo "skip: draining a node needs another node to move its pods to"
	exit 77
fi
READY='{range .items[*]}{.metadata.name} {.spec.nodeName} {.status.conditions[?(@.type=="Ready")].status} {.metadata.ownerReferences[0].kind}{"\n"}{end}'

ready_nodes=$(kc get nodes -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c True || true)
[ "$ready_nodes" = "$n" ] || bad "$ready_nodes of $n nodes Ready"
pods=$(kc get pods -A -o jsonpath="$READY")
for node in $(cat "$dir/nodes.list"); do
	for c in etcd kube-apiserver kube-controller-manager kube-scheduler; do
		echo "$pods" | grep -qx "$c-$node $node True Node" ||
			bad "mirror pod $c-$node is not Ready on $node"
	done
	for ds in kube-proxy kube-flannel-ds; do
		echo "$pods" | grep -q "^$ds-[a-z0-9]* $node True DaemonSet$" ||
			bad "no Ready $ds pod on $node"
	done
done
[ "$(echo "$pods" | grep -c '^coredns-.* True ReplicaSet$')" = 2 ] || bad "coredns: not 2 Ready pods"
[ "$(echo "$pods" | grep -c '^metrics-server-.* True ReplicaSet$')" = 1 ] || bad "metrics-server: not 1 Ready pod"
kc -n kube-system get configmap kubeadm-config -o jsonpath='{.data.ClusterConfiguration}' |
	grep -q '^kind: ClusterConfiguration' || bad "kube-system/kubeadm-config has no ClusterConfiguration"
# Captured first: under pipefail, grep -q leaving early can kill kubectl
# with SIGPIPE mid-table and fail the check (seen once in a make test).
table=$(kc get pods -A) || bad "kubectl get pods -A failed"
grep -q 'kube-proxy' <<<"$table" || bad "'kubectl get pods -A' does not list the workloads"

# The real kubectl's drain and uncordon against the lab. A Deployment
# pinned to cp2 makes sure there is something to evict; its replacement
# can run only once cp2 is uncordoned.
kc create namespace lab-drain >/dev/null
trap 'kc delete namespace lab-drain --wait=false >/dev/null 2>&1 || true' EXIT
kc apply -f - >/dev/null <<'END'
apiVersion: apps/v1
kind: Deployment
metadata: {name: pinned, namespace: lab-drain}
spec:
  replicas: 1
  selector: {matchLabels: {app: pinned}}
  template:
    metadata: {labels: {app: pinned}}
    spec:
      nodeSelector: {kubernetes.io/hostname: cp2}
      tolerations: [{key: node-role.kubernetes.io/control-plane, effect: NoSchedule}]
      containers: [{name: pause, image: registry.k8s.io/pause:3.10}]
END
pinned() { kc -n lab-drain get pods -o jsonpath="$READY"; }
for i in $(seq 50); do
	pinned | grep -q ' cp2 True ReplicaSet$' && break
	sleep 0.2
done
pinned | grep -q ' cp2 True ReplicaSet$' || bad "the pinned pod is not Ready on cp2"
pods=$(kc get pods -A -o jsonpath="$READY")
before=$(echo "$pods" | awk '$2 == "cp2" && $4 == "ReplicaSet" {print $1}')
if ! out=$(kc drain cp2 --ignore-daemonsets --timeout 60s 2>&1); then
	echo "$out"
	bad "kubectl drain cp2 failed"
fi
echo "$out" | grep -q 'node/cp2 drained' || bad "kubectl drain did not say 'node/cp2 drained'"
[ "$(kc get node cp2 -o jsonpath='{.spec.unschedulable}')" = true ] || bad "cp2 is not cordoned"
for p in $before; do
	echo "$out" | grep -q "evicting pod [a-z-]*/$p" || bad "drain did not evict $p"
done
after=$(kc get pods -A -o jsonpath="$READY")
echo "$after" | awk '$2 == "cp2" && $4 == "ReplicaSet"' | grep -q . && bad "ReplicaSet pods are left on cp2"
for i in $(seq 50); do
	after=$(kc get pods -A -o jsonpath="$READY")
	[ "$(echo "$after" | grep -c '^coredns-.* True ReplicaSet$')" = 2 ] && break
	sleep 0.2
done
[ "$(echo "$after" | grep -c '^coredns-.* True ReplicaSet$')" = 2 ] || bad "coredns was not rescheduled to 2 Ready pods"
echo "$after" | grep -q '^kube-proxy-[a-z0-9]* cp2 True DaemonSet$' || bad "the DaemonSet pod left cp2"
pinned | grep -q ' cp2 ' && bad "the pinned pod's replacement ran on the cordoned cp2"
kc uncordon cp2 | grep -q 'node/cp2 uncordoned' || bad "kubectl uncordon cp2"
[ -z "$(kc get node cp2 -o jsonpath='{.spec.unschedulable}')" ] || bad "cp2 is still cordoned"
for i in $(seq 50); do
	pinned | grep -q ' cp2 True ReplicaSet$' && break
	sleep 0.2
done
pinned | grep -q ' cp2 True ReplicaSet$' || bad "after uncordon the pinned pod did not come back to cp2"
[ "$fail" = 0 ] && echo "lab_cluster: $n nodes, $((4 * n)) mirror pods and the workloads Ready; drain and uncordon of cp2 work (evicted: $(echo $before))"
exit $fail
