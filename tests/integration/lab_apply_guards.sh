#!/bin/bash
# Five promises of `certroll apply` on the lab, four in one rollout of cp1
# and cp2 (--only) run at a terminal (a pseudo-terminal), as an operator runs
# it:
# - cp3, not in --only, is not touched (its certificates keep their
#   serials, it is not cordoned, status does not list it);
# - a node the operator cordoned beforehand is renewed but left cordoned
#   (certroll uncordons only what it cordoned), the others end schedulable;
# - while that rollout holds the lock, a second `certroll apply` from the
#   same workstation is refused: it names the holder and the run, exits 1,
#   and touches nothing (no journal transition, no cordon, no renewal);
# - at the end it offers to refresh the operator's kubeconfig (a copy of
#   admin.conf), and on "y" replaces its client certificate with a renewed
#   one: the old file is kept, openssl and the real kubectl accept the new.
# Then cp3 alone, with --yes and another copy of admin.conf as
# --kubeconfig: that file is left alone and apply prints the command that
# refreshes it, --kubeconfig included.
# The outputs are kept in $CERTROLL_LAB_DIR/guards/.
set -euo pipefail
. "$(dirname "$0")/lab_env.sh"
out=$dir/guards
rm -rf "$out"
mkdir -p "$out"
certroll() { "$lab" exec -- certroll "$@"; }
unsched() { kc get node "$1" -o jsonpath='{.spec.unschedulable}'; }
serial() { openssl x509 -in "$dir/nodes/$1/kubernetes/pki/apiserver.crt" -noout -serial; }
lease() { kc -n kube-system get lease certroll -o jsonpath='{.spec.holderIdentity}' 2>/dev/null || true; }

kc cordon cp2 >/dev/null
first=
cleanup() {
	[ -z "$first" ] || kill "$first" 2>/dev/null || true
	kc uncordon cp2 >/dev/null 2>&1 || true
}
trap cleanup EXIT
cp1_before=$(serial cp1)
cp3_before=$(serial cp3)
# The operator's kubeconfig: a copy of cp1's admin.conf, as kubeadm's docs
# suggest; its certificate expires with the node's.
cp "$dir/nodes/cp1/kubernetes/admin.conf" "$out/kubeconfig"
chmod 600 "$out/kubeconfig"
cp "$out/kubeconfig" "$out/kubeconfig.orig"
field() {
	"$lab" exec -- kubectl config view --raw --kubeconfig "$1" \
		-o jsonpath="{.users[0].user.client-$2-data}" | base64 -d
}

python3 "$(dirname "$0")/pty_answer.py" "$out/first.txt" \
	"one node at a time? [y/N]" y "(the old file is kept)? [y/N]" y -- \
	"$lab" exec -- certroll apply -i "$dir/inventory.ini" --only cp1,cp2 \
	--kubeconfig "$out/kubeconfig" --state-dir "$out/first" &
first=$!
# The first run holds the lock once the Lease names a holder.
for _ in $(seq 1 300); do
	[ -z "$(lease)" ] || break
	kill -0 "$first" 2>/dev/null || break
	sleep 0.2
done
holder=$(lease)
[ -n "$holder" ] || bad "the first apply never took the lock: $(tail -n 5 "$out/first.txt")"

rc=0
certroll apply -i "$dir/inventory.ini" --yes --state-dir "$out/second" \
	>"$out/second.txt" 2>&1 || rc=$?
[ "$rc" = 1 ] || bad "the second apply exited $rc while the lock was held, not 1"
grep -q "lock held by $holder" "$out/second.txt" ||
	bad "the second apply does not name the holder $holder: $(cat "$out/second.txt")"
grep -q -- "--break-lock" "$out/second.txt" || bad "the second apply does not say how to take over"
if grep -rqs '"event": *"transition"' "$out/second"; then
	bad "the second apply journalled a node transition"
fi

rc=0
wait "$first" || rc=$?
first=
[ "$rc" = 0 ] || { tail -n 30 "$out/first.txt"; bad "the first apply exited $rc"; }
[ "$(serial cp1)" != "$cp1_before" ] || bad "cp1 was not renewed"
[ "$(serial cp3)" = "$cp3_before" ] || bad "cp3, not in --only, was renewed"
[ "$(unsched cp2)" = true ] || bad "cp2, cordoned by the operator, was uncordoned"
for n in cp1 cp3; do
	[ -z "$(unsched "$n")" ] || bad "$n was left cordoned"
done
certroll status --state-dir "$out/first" --kubeconfig "$out/kubeconfig" \
	>"$out/status.txt" 2>&1 || bad "certroll status failed"
grep -q "^cp2  *done  *operator " "$out/status.txt" ||
	bad "status: cp2 is not done and cordoned by the operator: $(cat "$out/status.txt")"
! grep -q "^cp3 " "$out/status.txt" || bad "status lists cp3, which was not in --only"
[ -z "$(lease)" ] || bad "the lock is still held by $(lease) after the run"

# The kubeconfig offer, answered "y".
grep -q "^Refreshed the client certificate of user 'kubernetes-admin' in $out/kubeconfig" \
	"$out/first.txt" || bad "apply did not refresh the kubeconfig: $(tail -n 15 "$out/first.txt")"
set -- "$out"/kubeconfig.certroll-*
{ [ $# = 1 ] && cmp -s "$1" "$out/kubeconfig.orig"; } ||
	bad "the kubeconfig's backup is not the old file: $*"
field "$out/kubeconfig" certificate >"$out/new.crt"
field "$out/kubeconfig" key >"$out/new.key"
from=$(sed -n 's|^  from *\([a-z0-9]*\):/etc/kubernetes/admin.conf.*|\1|p' "$out/first.txt")
[ -n "$from" ] && [ "$(openssl x509 -in "$out/new.crt" -noout -serial)" = \
	"$(field "$dir/nodes/$from/kubernetes/admin.conf" certificate | openssl x509 -noout -serial)" ] ||
	bad "the kubeconfig's new certificate is not the renewed admin.conf one of '$from'"
openssl verify -CAfile "$dir/ca/pki/ca.crt" "$out/new.crt" >/dev/null ||
	bad "openssl verify refused the kubeconfig's new certificate"
[ "$(openssl x509 -in "$out/new.crt" -noout -pubkey)" = \
	"$(openssl pkey -in "$out/new.key" -pubout)" ] || bad "the new key does not match"
openssl x509 -in "$out/new.crt" -noout -checkend $((300 * 86400)) >/dev/null ||
	bad "the kubeconfig's new certificate expires within 300 days"
seen=$(kc --kubeconfig "$out/kubeconfig" get nodes -o name | sort | tr '\n' ' ')
[ "$seen" = "node/cp1 node/cp2 node/cp3 " ] || bad "kubectl with the refreshed kubeconfig: '$seen'"
# --yes with a kubeconfig the refresh would take (a copy of cp3's
# admin.conf, not renewed yet): the file is left alone and apply prints
# the command that refreshes that very file (it once left out
# --kubeconfig, so the command would have refreshed another one).
cp "$dir/nodes/cp3/kubernetes/admin.conf" "$out/kubeconfig-cp3"
chmod 600 "$out/kubeconfig-cp3"
sum=$(sha256sum <"$out/kubeconfig-cp3")
certroll apply -i "$dir/inventory.ini" --only cp3 --yes \
	--kubeconfig "$out/kubeconfig-cp3" --state-dir "$out/third" >"$out/third.txt" 2>&1 ||
	bad "apply --only cp3 --yes failed: $(tail -n 5 "$out/third.txt")"
[ "$(serial cp3)" != "$cp3_before" ] || bad "apply --only cp3 did not renew cp3"
[ "$(sha256sum <"$out/kubeconfig-cp3")" = "$sum" ] || bad "apply --yes changed the kubeconfig"
grep -qx "'certroll kubeconfig refresh -i $dir/inventory.ini --kubeconfig $out/kubeconfig-cp3' replaces it." \
	"$out/third.txt" || bad "apply --yes does not print the command for its kubeconfig: $(tail -n 3 "$out/third.txt")"

if [ "$fail" = 0 ]; then
	echo "lab_apply_guards: the second apply was refused ($(head -n 1 "$out/second.txt"));" \
		"cp2 renewed and left cordoned as the operator had it; the kubeconfig refreshed from $from;" \
		"apply --yes printed the refresh of its own --kubeconfig"
fi
exit "$fail"
