#!/bin/bash
# certroll kubeconfig refresh against the lab (the crlab fixture): a
# workstation kubeconfig copied from a node's admin.conf has expired, so
# kubectl is refused; cp1 renews its certificates with the agent's native
# renewer; refresh fetches cp1's new admin.conf over SSH (no API) and
# replaces the credential. openssl and the real kubectl check the result.
# Then the refusals an operator meets: the same certificate again, another
# identity (the lab's own kubeconfig is O=system:masters), another
# cluster, an unknown node. cp1's files are restored from the renewal's
# backup on exit, so the lab is left as it was found.
set -euo pipefail
if [ "$(id -u)" != 0 ]; then
	echo "skip: the lab needs root"
	exit 77
fi
dir=${CERTROLL_LAB_DIR:-/tmp/certroll-lab}
bin=${CR_BIN_DIR:-$(cd "$(dirname "$0")/../.." && pwd)/build/bin}
lab=$(dirname "$0")/../lab/lab
if [ ! -e "$dir/nodes.list" ] || [ ! -e "$dir/sim/init.pid" ]; then
	echo "skip: no lab with an API in $dir (the crlab fixture did not come up, or is --ssh-only)"
	exit 77
fi
work=$(mktemp -d /tmp/certroll-kubeconfig-lab.XXXXXX)
renewed=0
cleanup() {
	if [ "$renewed" = 1 ] &&
		! "$lab" node cp1 -- certroll-agent restore latest >/dev/null; then
		echo "FAIL: cp1's certificates could not be restored"
		exit 1
	fi
	rm -rf "$work"
}
trap cleanup EXIT
fail=0
bad() {
	echo "FAIL: $*"
	fail=1
}

# refresh NAME WANT ARGS...: certroll kubeconfig refresh in the hub.
refresh() {
	local name=$1 want=$2 rc=0
	shift 2
	"$lab" exec -- certroll kubeconfig refresh -i "$dir/inventory.ini" "$@" \
		>"$work/$name.out" 2>"$work/$name.err" || rc=$?
	echo "refresh $name: exit $rc"
	if [ "$rc" != "$want" ]; then
		bad "$name: exit $rc, want $want"
		cat "$work/$name.out" "$work/$name.err"
	fi
}

nodes_seen() {
	"$lab" exec -- kubectl --kubeconfig "$1" --cache-dir "$work/kcache" \
		--request-timeout 10s get nodes -o name 2>"$work/kubectl.err" |
		sort | tr '\n' ' '
}

# The client certificate (or key) of a kubeconfig's only user, as PEM.
# In the hub: some kubectl builds (the gcloud dispatcher) ask the server
# for its version even for 'config view', and only the hub reaches it.
field() {
	"$lab" exec -- kubectl config view --raw --kubeconfig "$1" \
		-o jsonpath="{.users[0].user.client-$2-data}" | base64 -d
}

# A workstation kubeconfig: cp1's admin.conf as it was a year ago, expired.
"$bin/certroll-pkigen" node --ca "$dir/ca" --dir "$work/old" --node cp1 \
	--ip 10.200.0.11 --no-super-admin --expired >/dev/null
cp "$work/old/admin.conf" "$work/config"
chmod 640 "$work/config"
[ -z "$(nodes_seen "$work/config")" ] ||
	bad "kubectl worked with an expired certificate"

"$lab" node cp1 -- certroll-agent renew --backend native >"$work/renew.out"
renewed=1
field "$dir/nodes/cp1/kubernetes/admin.conf" certificate >"$work/node.crt"

refresh dry-run 0 --kubeconfig "$work/config" --dry-run
cmp -s "$work/config" "$work/old/admin.conf" || bad "dry-run changed the file"
ls "$work"/config.certroll-* >/dev/null 2>&1 && bad "dry-run wrote a backup"
grep -q "^Would refresh the client certificate of user 'kubernetes-admin'" \
	"$work/dry-run.out" || bad "dry-run: $(head -1 "$work/dry-run.out")"

# No --node: the node whose admin.conf expires last is cp1, just renewed.
refresh renewed 0 --kubeconfig "$work/config"
grep -q "from      cp1:/etc/kubernetes/admin.conf" "$work/renewed.out" ||
	bad "renewed: not from cp1"
grep -q "old       expired " "$work/renewed.out" || bad "renewed: old expiry"
set -- "$work"/config.certroll-*
[ $# = 1 ] && [ -f "$1" ] || bad "renewed: want one backup, have: $*"
[ "$(stat -c %a "$1")" = 600 ] || bad "backup mode $(stat -c %a "$1")"
cmp -s "$1" "$work/old/admin.conf" || bad "the backup is not the old file"
[ "$(stat -c %a "$work/config")" = 640 ] || bad "the mode was not kept"

field "$work/config" certificate >"$work/new.crt"
field "$work/config" key >"$work/new.key"
[ "$(openssl x509 -in "$work/new.crt" -noout -serial)" = \
	"$(openssl x509 -in "$work/node.crt" -noout -serial)" ] ||
	bad "the new certificate is not cp1's admin.conf one"
openssl verify -CAfile "$dir/ca/pki/ca.crt" "$work/new.crt" >/dev/null ||
	bad "openssl verify refused the new certificate"
[ "$(openssl x509 -in "$work/new.crt" -noout -pubkey)" = \
	"$(openssl pkey -in "$work/new.key" -pubout)" ] ||
	bad "the new key does not match the new certificate"
openssl x509 -in "$work/new.crt" -noout -checkend $((300 * 86400)) >/dev/null ||
	bad "the new certificate expires within 300 days"
seen=$(nodes_seen "$work/config")
echo "kubectl with the refreshed kubeconfig: $seen"
[ "$seen" = "node/cp1 node/cp2 node/cp3 " ] ||
	bad "kubectl get nodes: '$seen' $(cat "$work/kubectl.err")"

refresh again 1 --kubeconfig "$work/config"
grep -q "already holds the certificate of cp1" "$work/again.err" ||
	bad "again: $(cat "$work/again.err")"

# The lab's own kubeconfig has O=system:masters: another set of groups.
cp "$dir/kubeconfig" "$work/masters"
refresh identity 1 --kubeconfig "$work/masters" --node cp1
grep -q "your groups would change" "$work/identity.err" ||
	bad "identity: $(cat "$work/identity.err")"
cmp -s "$dir/kubeconfig" "$work/masters" || bad "a refusal changed the file"
refresh accepted 0 --kubeconfig "$work/masters" --node cp1 --accept-identity
grep -q "subject   O=system:masters, CN=kubernetes-admin -> O=kubeadm:cluster-admins, CN=kubernetes-admin" \
	"$work/accepted.out" || bad "accepted: $(cat "$work/accepted.out")"
[ "$(nodes_seen "$work/masters")" = "node/cp1 node/cp2 node/cp3 " ] ||
	bad "kubectl with the accepted identity: $(cat "$work/kubectl.err")"

# A kubeconfig of another cluster (another CA) is not touched.
"$bin/certroll-pkigen" ca --dir "$work/otherca" --key-algorithm ecdsa-p256 >/dev/null
"$bin/certroll-pkigen" node --ca "$work/otherca" --dir "$work/other" \
	--node cp1 --ip 10.200.0.11 --no-super-admin --expires-in 3d >/dev/null
refresh other 1 --kubeconfig "$work/other/admin.conf"
grep -q "belongs to another cluster" "$work/other.err" ||
	bad "other: $(cat "$work/other.err")"
refresh nonode 2 --kubeconfig "$work/config" --node cp7
grep -q "'cp7' is not a control-plane host" "$work/nonode.err" ||
	bad "nonode: $(cat "$work/nonode.err")"

[ "$fail" = 0 ] && echo "kubeconfig_lab: refresh, refusals, openssl and kubectl as expected"
exit $fail
