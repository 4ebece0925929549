#!/bin/bash
# certroll recover on a lab whose control-plane certificates expired a day
# ago (lab up --expired): etcd's members cannot talk to each other and the
# API servers refuse everyone. `certroll plan` must point to recover and
# `certroll apply` must refuse; `certroll recover`, confirmed at a terminal,
# must then renew every node, bring etcd and the API back, and leave every
# port serving a certificate valid for about a year, even though cp2's
# agent session is killed while recover asks for confirmation (it opens a
# new one). The operator's kubeconfig, a copy of admin.conf that expired
# with the nodes, must be refreshed at the end: refused by the real
# kubectl before, accepted after, the old file kept. The test replaces the
# ctest fixture's lab with an expired one and puts a healthy one back at
# the end, so the other lab tests may run before or after it. Outputs:
# $CERTROLL_LAB_DIR/recover/ (kept in /tmp/certroll-recover-out, since lab
# up --force removes the lab directory).
set -euo pipefail
. "$(dirname "$0")/lab_env.sh"
holder=$(cut -d' ' -f1 "$dir/holder" 2>/dev/null || echo "$PPID")
out=/tmp/certroll-recover-out
rm -rf "$out"
mkdir -p "$out"
restore() {
	"$lab" up --force --holder "$holder" >"$out/lab-up-healthy.txt" 2>&1 ||
		{ echo "FAIL: could not bring the healthy lab back"; tail -n 20 "$out/lab-up-healthy.txt"; }
}
trap restore EXIT
"$lab" up --expired --force --holder "$holder" >"$out/lab-up-expired.txt" 2>&1 ||
	{ tail -n 30 "$out/lab-up-expired.txt"; bad "lab up --expired failed"; exit 1; }
nodes=$(cat "$dir/nodes.list")
P=$dir/nodes/cp1/kubernetes/pki/etcd
certroll() { "$lab" exec -- certroll "$@" --state-dir "$out/state"; }

# not_after HOST:PORT: the expiry of the certificate the endpoint serves.
served_end() {
	echo | ip netns exec crlab-hub timeout 10 openssl s_client -connect "$1" \
		-CAfile "$P/ca.crt" -cert "$P/healthcheck-client.crt" \
		-key "$P/healthcheck-client.key" 2>/dev/null |
		openssl x509 -noout -enddate 2>/dev/null | cut -d= -f2 || true
}

# The operator's kubeconfig: cp1's admin.conf, expired like the nodes.
cp "$dir/nodes/cp1/kubernetes/admin.conf" "$out/kubeconfig"
chmod 600 "$out/kubeconfig"
cp "$out/kubeconfig" "$out/kubeconfig.orig"
# nodes_seen KUBECONFIG: the nodes the real kubectl lists with it.
nodes_seen() {
	"$lab" exec -- kubectl --kubeconfig "$1" --cache-dir "$out/kcache" \
		--request-timeout 10s get nodes -o name 2>"$out/kubectl.err" | sort | tr '\n' ' ' || true
}

rc=0
certroll plan -i "$dir/inventory.ini" >"$out/plan.txt" 2>&1 || rc=$?
[ "$rc" = 1 ] || bad "plan exited $rc on an expired control plane, not 1"
grep -q "FAIL  not-expired" "$out/plan.txt" || bad "plan does not say the certificates expired"
grep -q "certroll recover -i INVENTORY" "$out/plan.txt" || bad "plan does not point to certroll recover"
rc=0
certroll apply -i "$dir/inventory.ini" --yes >"$out/apply.txt" 2>&1 || rc=$?
[ "$rc" = 1 ] || bad "apply exited $rc on an expired control plane, not 1"
grep -q "certroll recover" "$out/apply.txt" || bad "apply does not point to certroll recover"

# recover at a terminal. While it waits for the operator's "y", cp2's
# agent (its session open since recover inspected the nodes) is killed, as
# a restarted sshd or a dropped connection would end it: recover must open
# a new session for cp2's backup, and verify in it before restarting.
kill_cp2_agent="kill \$(pgrep -x certroll-agent --ns \$(cat '$dir/nodes/cp2/init.pid') --nslist pid) && sleep 1"
t0=$(date +%s)
rc=0
python3 "$here/pty_answer.py" --before "$kill_cp2_agent" "$out/recover.txt" \
	"Proceed? [y/N]" y -- "$lab" exec -- certroll recover -i "$dir/inventory.ini" \
	--kubeconfig "$out/kubeconfig" --cluster lab --state-dir "$out/state" || rc=$?
t1=$(date +%s)
[ "$rc" = 0 ] || { tail -n 40 "$out/recover.txt"; bad "recover exited $rc"; }
grep -q "node cp2: the agent connection broke" "$out/recover.txt" ||
	bad "cp2's agent session did not break: the test proved nothing"
grep -q "^Refreshed the client certificate of user 'kubernetes-admin' in $out/kubeconfig" \
	"$out/recover.txt" || bad "recover did not refresh the kubeconfig: $(tail -n 15 "$out/recover.txt")"
set -- "$out"/kubeconfig.certroll-*
{ [ $# = 1 ] && cmp -s "$1" "$out/kubeconfig.orig"; } ||
	bad "the kubeconfig's backup is not the old file: $*"
openssl x509 -noout -checkend $((300 * 86400)) >/dev/null 2>&1 < <(
	"$lab" exec -- kubectl config view --raw --kubeconfig "$out/kubeconfig" \
		-o jsonpath='{.users[0].user.client-certificate-data}' | base64 -d) ||
	bad "the kubeconfig's certificate expires within 300 days after recover"
seen=$(nodes_seen "$out/kubeconfig")
[ "$seen" = "$(printf 'node/%s ' $nodes)" ] ||
	bad "kubectl with the refreshed kubeconfig: '$seen' $(cat "$out/kubectl.err")"
[ -z "$(nodes_seen "$out/kubeconfig.orig")" ] ||
	bad "the old kubeconfig still works: the refresh proved nothing"

year=$(($(date +%s) + 300 * 86400))
for n in $nodes; do
	ip=10.200.0.$((${n#cp} + 10))
	for port in 6443 2379 2380; do
		end=$(served_end "$ip:$port")
		if [ -z "$end" ]; then
			bad "$n:$port answers no TLS handshake after recover"
		elif [ "$(date -d "$end" +%s)" -lt "$year" ]; then
			bad "$n:$port serves a certificate ending $end, not a renewed one"
		fi
	done
	"$lab" node "$n" -- certroll-agent inspect -o json >"$out/inspect-$n.json" ||
		bad "$n: certroll-agent inspect failed"
	python3 - "$out/inspect-$n.json" "$year" <<'PY' || bad "$n: a certificate was not renewed"
import json, sys, datetime
doc = json.load(open(sys.argv[1]))
limit = int(sys.argv[2])
for c in doc["certificates"]:
    if c["missing"] or c["name"] == "kubelet.conf":
        continue
    end = datetime.datetime.fromisoformat(c["not_after"].replace("Z", "+00:00"))
    assert end.timestamp() >= limit, (c["name"], c["not_after"])
PY
done
ready=$(kc get nodes -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c True || true)
[ "$ready" = "$(echo $nodes | wc -w)" ] || bad "$ready nodes Ready through the API after recover"
certroll status >"$out/status.txt" 2>&1 || bad "certroll status failed after recover"
for n in $nodes; do
	grep -q "^$n  *done " "$out/status.txt" || bad "certroll status: $n is not done"
done
if [ "$fail" = 0 ]; then
	echo "lab_recover: plan and apply pointed to recover; recover renewed" \
		"$(echo $nodes | wc -w) expired nodes in $((t1 - t0)) s and every port serves a new certificate"
	cat "$out/recover.txt"
fi
exit "$fail"
