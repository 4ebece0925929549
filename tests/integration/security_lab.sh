#!/bin/bash
# Security checks on a lab of its own (docs/reliability.md, "Security"):
#
# 1. An installed agent whose checksum differs (a script that would leave
#    a marker if run) is replaced before anything runs it.
# 2. A full run with -v -v (plan, apply --report --fetch-backups, check,
#    status) leaks no secret: no private key of any node (before or after
#    renewal), nothing of the workstation kubeconfig's credentials, no
#    token, in stdout/stderr, the journal and run logs under --state-dir,
#    or the report. The scanner proves first that it can fail.
# 3. Afterwards backups, fetched backups and private keys are 0600 under
#    0700 directories (on the nodes, seen through `lab node`).
# 4. Inventories carrying shell syntax in ansible_host, ansible_user,
#    ansible_become_user, certroll_kubernetes_dir, certroll_node_name or
#    the host name: `certroll inventory`, `plan` and `check` refuse them
#    (file:line for what the inventory can judge) and no marker file
#    appears here or on any node.
#
# The lab is brought up here (its own directory, held by this script) and
# always taken down. Outputs stay in $SEC_OUT (default
# /tmp/certroll-security-out) for a look afterwards.
set -euo pipefail
if [ "$(id -u)" != 0 ]; then
	echo "skip: the lab needs root (network namespaces, bind mounts)"
	exit 77
fi
if ! ip netns list >/dev/null 2>&1; then
	echo "skip: network namespaces are not available here"
	exit 77
fi
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
lab=$src/tests/lab/lab
export CERTROLL_LAB_DIR=${SEC_LAB_DIR:-/tmp/certroll-lab-security}
export CR_BIN_DIR=${CR_BIN_DIR:-$src/build/bin}
dir=$CERTROLL_LAB_DIR
out=${SEC_OUT:-/tmp/certroll-security-out}
mark=/tmp/certroll-sec-pwned
rm -rf "$out"
mkdir -p "$out"
chmod 700 "$out"
rm -f "$mark"-*
fail=0
bad() {
	echo "FAIL: $*"
	fail=1
}
# shellcheck disable=SC2317 # run by the EXIT trap
down() {
	# Only a lab this script brought up: a failed `up` leaves another's.
	[ -z "${lab_up:-}" ] || "$lab" down >"$out/lab-down.txt" 2>&1 ||
		cat "$out/lab-down.txt"
	rm -f "$mark"-*
	# Copies of the (throwaway) lab keys go with the lab.
	rm -rf "$out/keys-before" "$out/keys-after" "$out/fetched"
}
trap down EXIT

# 0. The scanner must be able to fail.
python3 "$here/security_scan.py" --self-check >"$out/self-check.txt" ||
	{ cat "$out/self-check.txt"; bad "the secret scanner misses planted secrets"; }

t0=$(date +%s)
"$lab" up --holder $$ --wait 900 >"$out/lab-up.txt" 2>&1 ||
	{ cat "$out/lab-up.txt"; echo "FAIL: lab up"; exit 1; }
lab_up=1
nodes=$(cat "$dir/nodes.list")
state=$out/state
certroll() { "$lab" exec -- certroll "$@"; }
agent_sha=$(sha256sum "$CR_BIN_DIR/certroll-agent" | cut -d' ' -f1)

# Secrets as they are before the run (the renewal makes new keys; both
# sets must stay out of every output).
mkdir -p "$out/keys-before"
for n in $nodes; do
	cp -a "$dir/nodes/$n/kubernetes" "$out/keys-before/$n"
done

# 1. A foreign agent on every node: it would leave a marker if run.
for n in $nodes; do
	"$lab" node "$n" -- sh -c "mkdir -p /var/lib/certroll && chmod 700 /var/lib/certroll &&
		printf '#!/bin/sh\ntouch $mark-agent-$n\nexit 0\n' >/var/lib/certroll/certroll-agent &&
		chmod 700 /var/lib/certroll/certroll-agent"
done

# 2. The full run, as verbose as it gets.
run() {
	local name=$1 rc=0
	shift
	certroll -v -v "$@" --state-dir "$state" >"$out/$name.out" 2>"$out/$name.err" || rc=$?
	echo "$rc" >"$out/$name.rc"
	echo "security_lab: certroll $1: exit $rc"
	return 0
}
run plan plan -i "$dir/inventory.ini"
run apply apply -i "$dir/inventory.ini" --yes --report "$out/report.json" \
	--fetch-backups "$out/fetched"
run check check -i "$dir/inventory.ini"
run status status
[ "$(cat "$out/apply.rc")" = 0 ] || { tail -n 30 "$out/apply.err"; bad "apply failed"; }
[ "$(cat "$out/plan.rc")" = 0 ] || bad "plan failed: $(tail -n 3 "$out/plan.err")"
[ "$(cat "$out/status.rc")" = 0 ] || bad "status failed"
grep -q "uploaded\|updating the agent" "$out/plan.err" ||
	bad "plan did not say it replaced the foreign agent"
for n in $nodes; do
	got=$("$lab" node "$n" -- sha256sum /var/lib/certroll/certroll-agent | cut -d' ' -f1)
	[ "$got" = "$agent_sha" ] || bad "$n: the installed agent is $got, not certroll's $agent_sha"
	"$lab" node "$n" -- test ! -e "$mark-agent-$n" || bad "$n: the foreign agent ran"
done
ls "$mark"-* >/dev/null 2>&1 && bad "a marker appeared: $(ls "$mark"-*)"

# The secrets after the run, then the scan of everything certroll wrote.
mkdir -p "$out/keys-after"
for n in $nodes; do
	cp -a "$dir/nodes/$n/kubernetes" "$out/keys-after/$n"
done
python3 "$here/security_scan.py" \
	--secrets "$out/keys-before" "$out/keys-after" "$dir/kubeconfig" "$dir/admin" \
	--scan "$out"/*.out "$out"/*.err "$out/report.json" "$state" \
	>"$out/scan.txt" 2>&1 || bad "secrets leaked: $(cat "$out/scan.txt")"
tail -n 1 "$out/scan.txt"
# The scan saw key material (else it proves nothing).
grep -q "security_scan: [1-9][0-9]* secret chunks" "$out/scan.txt" ||
	bad "the scan found no secrets to look for"

# 3. Permissions: 0600 files under 0700 directories. Backups on a node
# keep each file's own mode (restored as it was): certificates and sa.pub
# stay 0644, unreadable for others all the same under the 0700 backup
# directories; everything else there (keys, kubeconfigs, manifests, the
# etcd snapshot) must be 0600.
private() { # WHERE FIND-OUTPUT [PUBLIC-RE]: lines are "mode type:path"
	local bad_ones
	bad_ones=$(echo "$2" | awk -v pub="${3:-^$}" '
		/^$/ { next }
		$2 ~ /^d:/ { if ($1 != "700") print; next }
		$1 == "600" { next }
		$1 == "644" && $2 ~ pub { next }
		{ print }')
	[ -z "$bad_ones" ] || bad "$1: not 0600 files under 0700 directories: $bad_ones"
}
for n in $nodes; do
	private "$n:/var/lib/certroll/backups" "$("$lab" node "$n" -- \
		find /var/lib/certroll/backups -printf '%m %y:%p\n')" '[.](crt|pub)$'
	"$lab" node "$n" -- find /var/lib/certroll/backups -name '*.key' | grep -q . ||
		bad "$n: no key in the node's backups (nothing checked)"
	"$lab" node "$n" -- find /var/lib/certroll/backups -mindepth 1 -maxdepth 1 -type d |
		grep -q . || bad "$n: no backup on the node"
	keys=$("$lab" node "$n" -- find /etc/kubernetes/pki -name '*.key' -printf '%m %y:%p\n')
	[ -n "$keys" ] || bad "$n: no keys found"
	private "$n:/etc/kubernetes/pki keys" "$keys"
	private "$n:/etc/kubernetes/*.conf" "$("$lab" node "$n" -- \
		find /etc/kubernetes -maxdepth 1 -name '*.conf' -printf '%m %y:%p\n')"
done
[ -d "$out/fetched" ] || bad "nothing fetched"
private "fetched backups" "$(find "$out/fetched" -mindepth 1 -printf '%m %y:%p\n')"
# The state directory holds the journal and report: not world-readable.
world=$(find "$state" -perm -o=r ! -type d -printf '%m %p\n')
[ -z "$world" ] || bad "world-readable under --state-dir: $world"

# 4. Shell syntax in the inventory reaches no shell.
markers() { "$lab" node "$1" -- sh -c "ls $mark-* 2>/dev/null" || true; }
# The marker check sees a marker a shell on a node makes (else it proves
# nothing).
"$lab" node cp1 -- sh -c "touch $mark-control"
[ -n "$(markers cp1)" ] || bad "a marker made on cp1 is not seen"
"$lab" node cp1 -- rm -f "$mark-control"
inv_line() { echo "$1 ansible_host=10.200.0.$((${1#cp} + 10))"; }
hostile() { # NAME EXTRA-VARS-FOR-cp1 | write an INI with cp1 carrying them
	{
		echo "[kube_control_plane]"
		echo "$(inv_line cp1) $2"
		for n in $nodes; do [ "$n" = cp1 ] || inv_line "$n"; done
		echo "[all:vars]"
		echo "ansible_user=root"
		echo "ansible_ssh_private_key_file=$dir/id_ed25519"
	} >"$out/hostile-$1.ini"
}
hostile become "ansible_become=true ansible_become_user='root;touch $mark-become'"
hostile become2 "ansible_become=true ansible_become_user='\$(touch $mark-become2)'"
hostile kdir "certroll_kubernetes_dir='/etc/kubernetes;touch $mark-kdir'"
hostile kdir2 "certroll_kubernetes_dir='/etc/kubernetes\`touch $mark-kdir2\`'"
hostile user "ansible_user='root\$(touch $mark-user)'"
hostile host "ansible_host='\$(touch $mark-host)'"
hostile nodename "certroll_node_name='cp1\$(touch $mark-nodename)'"
sed "s|^cp1 |../../tmp/certroll-sec-pwned-hostname |" "$out/hostile-become.ini" \
	>"$out/hostile-hostname.ini"
{
	echo "all:"
	echo "  vars: {ansible_user: root, ansible_ssh_private_key_file: $dir/id_ed25519}"
	echo "  children:"
	echo "    kube_control_plane:"
	echo "      hosts:"
	for n in $nodes; do
		[ "$n" = cp1 ] || echo "        $n: {ansible_host: 10.200.0.$((${n#cp} + 10))}"
	done
	echo "        cp1:"
	echo "          ansible_host: 10.200.0.11"
	echo "          ansible_become: true"
	printf '          ansible_become_user: "root\\ntouch %s"\n' "$mark-yamlnl"
} >"$out/hostile-yamlnl.yaml"
# case: expected `certroll inventory` exit, then what plan/check must show
while read -r name inv_rc what; do
	f=$(ls "$out"/hostile-"$name".*)
	for cmd in inventory plan check; do
		rc=0
		opt=(--state-dir "$out/state-hostile")
		[ "$cmd" != inventory ] || opt=()
		certroll "$cmd" -i "$f" "${opt[@]}" \
			>"$out/h-$name-$cmd.out" 2>"$out/h-$name-$cmd.err" || rc=$?
		msg=$(grep -v '^ *hint:' "$out/h-$name-$cmd.err" | grep -m1 . || true)
		echo "security_lab: $name: certroll $cmd: exit $rc: $msg"
		if [ "$cmd" = inventory ]; then
			[ "$rc" = "$inv_rc" ] || bad "$name: certroll inventory exit $rc, want $inv_rc"
		else
			[ "$rc" != 0 ] || bad "$name: certroll $cmd succeeded"
		fi
		[ "$inv_rc" = 0 ] || grep -q "^$f:[0-9]*:[0-9]*: " "$out/h-$name-$cmd.err" ||
			bad "$name: certroll $cmd names no file:line"
		if [ "$cmd" != inventory ] || [ "$inv_rc" != 0 ]; then
			grep -q -- "$what" "$out/h-$name-$cmd.err" ||
				bad "$name: certroll $cmd does not say '$what'"
		fi
	done
done <<EOF
become 0 is not a user name
become2 0 is not a user name
yamlnl 0 root?touch
kdir 0 does not exist
kdir2 0 does not exist
user 0 cp1
host 0 cp1
nodename 2 is not a Kubernetes node name
hostname 2 a host name cannot be
EOF
for n in $nodes; do
	found=$(markers "$n")
	[ -z "$found" ] || bad "$n: a marker appeared: $found"
done
found=$(ls "$mark"-* 2>/dev/null || true)
[ -z "$found" ] || bad "a marker appeared here: $found"
[ ! -e /tmp/certroll-sec-pwned-hostname ] || bad "a path escaped: /tmp/certroll-sec-pwned-hostname"

echo "security_lab: done in $(($(date +%s) - t0)) s (outputs in $out)"
exit $fail
