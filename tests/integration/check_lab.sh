#!/bin/bash
# certroll check against the lab (the crlab fixture: 3 nodes whose
# certificates expire in 20 days): the exit codes a monitoring system
# acts on, the JSON and the Prometheus file, with real sshd and agents.
#
# One lab runs at a time and the other lab tests share it, so the 3-day
# and expired cases do not rebuild it: certroll-pkigen lays out two more
# kubeadm trees per node, signed by the lab's CAs, under the node's
# /var/lib/certroll/checktest/, and inventories point
# certroll_kubernetes_dir at them. Everything else (SSH, agent delivery,
# INSPECT) is the same path. The trees are removed on exit.
set -euo pipefail
if [ "$(id -u)" != 0 ]; then
	echo "skip: the lab needs root"
	exit 77
fi
dir=${CERTROLL_LAB_DIR:-/tmp/certroll-lab}
bin=${CR_BIN_DIR:-$(cd "$(dirname "$0")/../.." && pwd)/build/bin}
lab=$(dirname "$0")/../lab/lab
if [ ! -e "$dir/nodes.list" ]; then
	echo "skip: no lab in $dir (the crlab fixture did not come up)"
	exit 77
fi
nodes=$(cat "$dir/nodes.list")
work=$(mktemp -d /tmp/certroll-check-lab.XXXXXX)
cleanup() {
	for n in $nodes; do rm -rf "$dir/nodes/$n/var-lib-certroll/checktest"; done
	rm -rf "$work"
}
trap cleanup EXIT
fail=0
bad() {
	echo "FAIL: $*"
	fail=1
}

# inventory FILE [KDIR] [EXTRA-LINE]: the lab's nodes, as the lab writes them.
inventory() {
	local f=$1 kdir=${2:-} n
	{
		echo "[kube_control_plane]"
		for n in $nodes; do
			echo "$n ansible_host=10.200.0.$((${n#cp} + 10))${kdir:+ certroll_kubernetes_dir=$kdir}"
		done
		[ -z "${3:-}" ] || echo "$3"
		echo "[all:vars]"
		echo "ansible_user=root"
		echo "ansible_ssh_private_key_file=$dir/id_ed25519"
	} >"$f"
}

# expect CODE NAME ARGS...: runs certroll check in the hub, checks its exit.
expect() {
	local want=$1 name=$2 rc=0 t0
	shift 2
	t0=$(date +%s%N)
	"$lab" exec -- certroll check "$@" >"$work/$name.out" 2>"$work/$name.err" || rc=$?
	echo "check $name: exit $rc in $((($(date +%s%N) - t0) / 1000000)) ms: $(head -1 "$work/$name.out")"
	if [ "$rc" != "$want" ]; then
		bad "$name: exit $rc, want $want"
		cat "$work/$name.out" "$work/$name.err"
	fi
}

for n in $nodes; do
	ip=10.200.0.$((${n#cp} + 10))
	for c in 3d expired; do
		opt=(--expires-in 3d)
		[ $c = expired ] && opt=(--expired)
		"$bin/certroll-pkigen" node --ca "$dir/ca" \
			--dir "$dir/nodes/$n/var-lib-certroll/checktest/$c" --node "$n" \
			--ip "$ip" --no-super-admin "${opt[@]}" >/dev/null
	done
done
inventory "$work/20d.ini"
inventory "$work/3d.ini" /var/lib/certroll/checktest/3d
inventory "$work/expired.ini" /var/lib/certroll/checktest/expired
inventory "$work/down.ini" "" "cp9 ansible_host=10.200.0.99"
inventory "$work/down3d.ini" /var/lib/certroll/checktest/3d "cp9 ansible_host=10.200.0.99"

# The lab's own certificates expire in 20 days.
expect 1 warn30 -i "$work/20d.ini" --warn 30d
expect 0 warn10 -i "$work/20d.ini" --warn 10d
expect 2 crit21 -i "$work/20d.ini" --warn 30d --crit 21d
expect 2 3d -i "$work/3d.ini"
expect 2 expired -i "$work/expired.ini"
# cp9 answers nobody: unknown beats warning, critical beats unknown.
expect 3 down -i "$work/down.ini" --timeout 20s
expect 2 down3d -i "$work/down3d.ini" --timeout 20s
expect 3 usage -i "$work/20d.ini" --warn soon
expect 3 noinventory --warn 30d

grep -q '^WARNING: .* expires in 19d\|^WARNING: .* expires in 20d' "$work/warn30.out" ||
	bad "warn30: headline: $(head -1 "$work/warn30.out")"
grep -q '^CRITICAL: .* expired 1d ago' "$work/expired.out" ||
	bad "expired: headline: $(head -1 "$work/expired.out")"
grep -q '^UNKNOWN: 1 of 4 nodes not inspected (cp9)' "$work/down.out" ||
	bad "down: headline: $(head -1 "$work/down.out")"
grep -q '^  cp9 (10.200.0.99): ' "$work/down.out" || bad "down: cp9 not explained"

# JSON: every node reached, every certificate of the 3-day trees critical.
expect 2 json -i "$work/3d.ini" -o json
python3 - "$work/json.out" "$nodes" <<'EOF' || bad "json: see above"
import json, sys
doc = json.load(open(sys.argv[1]))
nodes = sys.argv[2].split()
assert doc["status"] == "CRITICAL" and doc["exit_code"] == 2, doc["status"]
assert [n["node"] for n in doc["nodes"]] == nodes, doc["nodes"]
assert all(n["reachable"] and n["certificates"] >= 10 for n in doc["nodes"])
certs = [c for c in doc["certificates"] if c["status"] != "missing"]
assert certs and all(c["status"] == "critical" for c in certs), certs[:2]
assert all(0 < c["residual_seconds"] <= 3 * 86400 for c in certs)
assert {c["node"] for c in certs} == set(nodes)
EOF

# Prometheus: the file node_exporter reads, parsed by the Python client;
# cp1's apiserver notAfter is what openssl reads from the node's file.
prom=$work/textfile/certroll.prom
mkdir -p "$work/textfile"
expect 3 prom -i "$work/down.ini" -o prometheus --out "$prom" --timeout 20s
[ "$(stat -c %a "$prom")" = 644 ] || bad "prom: mode $(stat -c %a "$prom")"
[ -s "$work/prom.out" ] && bad "prom: --out also printed to stdout"
end=$(date -u -d "$(openssl x509 -in "$dir/nodes/cp1/kubernetes/pki/apiserver.crt" -noout -enddate | cut -d= -f2)" +%s)
/usr/bin/python3 - "$prom" "$end" <<'EOF' || bad "prom: see above"
import sys
from prometheus_client.parser import text_string_to_metric_families
fams = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1]).read())}
up = {s.labels["node"]: s.value for s in fams["certroll_check_node_up"].samples}
assert up.get("cp9") == 0 and up.get("cp1") == 1, up
na = [s for s in fams["x509_cert_not_after"].samples
      if s.labels["node"] == "cp1" and s.labels["certificate"] == "apiserver"]
assert len(na) == 1 and na[0].value == float(sys.argv[2]), (na, sys.argv[2])
assert na[0].labels["filepath"] == "/etc/kubernetes/pki/apiserver.crt", na
assert na[0].labels["subject_CN"] == "kube-apiserver", na
assert na[0].labels["issuer_CN"] == "kubernetes", na
assert all(s.value == 0 for s in fams["x509_cert_expired"].samples)
assert "certroll_check_last_run_timestamp_seconds" in fams
EOF
grep -q '^certroll_check_node_up{node="cp9"} 0$' "$prom" || bad "prom: cp9 up line"

[ "$fail" = 0 ] && echo "check_lab: exit codes, JSON and Prometheus output as expected"
exit $fail
