#!/bin/bash
# certroll end to end on the lab, as an operator runs it from the
# workstation: `certroll plan --out` must say apply would proceed, `certroll
# apply --yes --plan` (that saved plan) must renew every node while etcd
# keeps quorum (a monitor
# writes through whichever member answers, every 100 ms: no write may
# fail), and afterwards every node must serve new certificates on the API
# server's and etcd's ports (serials from TLS handshakes, equal to the
# files), be Ready and schedulable, with every mirror pod Ready, and
# `certroll status` must show every node done. The outputs are kept in
# $CERTROLL_LAB_DIR/rollout/.
set -euo pipefail
. "$(dirname "$0")/lab_env.sh"
out=$dir/rollout
mkdir -p "$out"
nodes=$(cat "$dir/nodes.list")
P=$dir/nodes/cp1/kubernetes/pki/etcd

# serial HOST:PORT: the serial the endpoint serves.
served() {
	echo | ip netns exec crlab-hub openssl s_client -connect "$1" \
		-CAfile "$P/ca.crt" -cert "$P/healthcheck-client.crt" \
		-key "$P/healthcheck-client.key" 2>/dev/null |
		openssl x509 -noout -serial 2>/dev/null | cut -d= -f2
}
# disk NODE FILE: the serial of a certificate file of NODE.
disk() {
	openssl x509 -in "$dir/nodes/$1/kubernetes/pki/$2" -noout -serial | cut -d= -f2
}
snapshot() {
	local n ip
	for n in $nodes; do
		ip=10.200.0.$((${n#cp} + 10))
		echo "$n 6443 $(served "$ip:6443") $(disk "$n" apiserver.crt)"
		echo "$n 2379 $(served "$ip:2379") $(disk "$n" etcd/server.crt)"
		echo "$n 2380 $(served "$ip:2380") $(disk "$n" etcd/peer.crt)"
	done
}

before=$(snapshot)
certroll() {
	"$lab" exec -- certroll "$@" --state-dir "$out/state"
}
if ! certroll plan -i "$dir/inventory.ini" --out "$out/plan.json" >"$out/plan.txt" 2>&1; then
	cat "$out/plan.txt"
	bad "certroll plan says apply would not proceed"
fi
grep -q "Result: 'certroll apply' would proceed" "$out/plan.txt" || bad "plan: no 'would proceed'"

endpoints=$(for n in $nodes; do printf 'https://10.200.0.%d:2379,' $((${n#cp} + 10)); done)
ip netns exec crlab-hub "$here/../lab/etcd-monitor" --any \
	--endpoints "${endpoints%,}" --cacert "$P/ca.crt" \
	--cert "$P/healthcheck-client.crt" --key "$P/healthcheck-client.key" \
	--log "$out/etcd-monitor.log" --duration 600 >"$out/etcd-monitor.json" &
mon=$!
trap 'kill $mon 2>/dev/null || true; wait $mon 2>/dev/null || true' EXIT
kubeconfig_sum=$(sha256sum <"$dir/kubeconfig")
t0=$(date +%s)
fetched="$out/fetched"
if ! certroll apply -i "$dir/inventory.ini" --yes --plan "$out/plan.json" \
	--fetch-backups "$fetched" --report "$out/report.json" >"$out/apply.txt" 2>&1; then
	tail -n 40 "$out/apply.txt"
	bad "certroll apply failed"
fi
t1=$(date +%s)
kill "$mon"
wait "$mon" || true
trap - EXIT
grep -q '"failed": 0,' "$out/etcd-monitor.json" ||
	bad "etcd lost quorum during the rollout: $(cat "$out/etcd-monitor.json")"

after=$(snapshot)
while read -r n port served_now disk_now; do
	old=$(echo "$before" | awk -v n="$n" -v p="$port" '$1 == n && $2 == p {print $3}')
	[ "$served_now" = "$disk_now" ] || bad "$n:$port serves $served_now, the file holds $disk_now"
	[ "$served_now" != "$old" ] || bad "$n:$port still serves the old certificate $old"
done <<<"$after"

nodes_json=$(kc get nodes -o jsonpath='{range .items[*]}{.metadata.name} {.status.conditions[?(@.type=="Ready")].status} {.spec.unschedulable}{"\n"}{end}')
for n in $nodes; do
	echo "$nodes_json" | grep -qx "$n True " || bad "node $n is not Ready and schedulable: $(echo "$nodes_json" | grep "^$n ")"
done
mirror=$(kc -n kube-system get pods -l tier=control-plane -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c True || true)
[ "$mirror" = $((4 * $(echo $nodes | wc -w))) ] || bad "$mirror mirror pods Ready"
# --fetch-backups: each node's backup on this machine, private, complete,
# the first with the etcd snapshot; the sums the agent wrote still match.
for n in $nodes; do
	b=$(find "$fetched" -mindepth 3 -maxdepth 3 -type d -path "*/$n/*" | head -n 1)
	[ -n "$b" ] && [ -f "$b/MANIFEST.sha256" ] || bad "no backup of $n fetched under $fetched"
	(cd "$b" && sha256sum --quiet -c MANIFEST.sha256) || bad "$n: the fetched backup's sums do not match"
done
[ -z "$(find "$fetched" -type f ! -perm 0600)" ] || bad "fetched files not 0600: $(find "$fetched" -type f ! -perm 0600)"
[ -z "$(find "$fetched" -type d ! -perm 0700)" ] || bad "fetched directories not 0700"
find "$fetched" -name 'etcd-snapshot-*.db' | grep -q . || bad "the etcd snapshot was not fetched"
grep -q '"certificates": \[' "$out/report.json" || bad "no --report written"
# --yes does not touch the operator's kubeconfig. The lab's is its own
# credential (O=system:masters), not admin.conf's identity, so apply must
# not point to a refresh that would be refused (it once did): it says
# why it keeps it, and how to take admin.conf's identity anyway.
[ "$(sha256sum <"$dir/kubeconfig")" = "$kubeconfig_sum" ] || bad "apply --yes changed the kubeconfig"
grep -q "^Your kubeconfig (user 'lab-admin' in $dir/kubeconfig) keeps its client certificate: 'certroll kubeconfig refresh -i $dir/inventory.ini' would refuse it: your identity would change: your certificate is 'O=system:masters, CN=kubernetes-admin'.*pass --accept-identity\.$" \
	"$out/apply.txt" || bad "apply --yes does not say why the lab's kubeconfig keeps its certificate: $(tail -n 4 "$out/apply.txt")"
! grep -q "replaces it" "$out/apply.txt" || bad "apply --yes offers a refresh that would be refused"
certroll status >"$out/status.txt" 2>&1 || bad "certroll status failed"
for n in $nodes; do
	grep -q "^$n  *done " "$out/status.txt" || bad "certroll status: $n is not done"
done
echo "lab_rollout: plan, then apply renewed $(echo $nodes | wc -w) nodes in $((t1 - t0)) s;" \
	"etcd monitor $(cat "$out/etcd-monitor.json")"
echo "--- certroll plan"
cat "$out/plan.txt"
echo "--- certroll apply"
cat "$out/apply.txt"
exit $fail
