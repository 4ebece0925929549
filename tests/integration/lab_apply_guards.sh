#!/bin/bash
# Two promises of `certroll apply` on the lab, in one rollout:
# - a node the operator cordoned beforehand is renewed but left cordoned
#   (certroll uncordons only what it cordoned), the others end schedulable;
# - while that rollout holds the lock, a second `certroll apply` from the
#   same workstation is refused: it names the holder and the run, exits 1,
#   and touches nothing (no journal transition, no cordon, no renewal).
# The outputs are kept in $CERTROLL_LAB_DIR/guards/.
set -euo pipefail
. "$(dirname "$0")/lab_env.sh"
out=$dir/guards
rm -rf "$out"
mkdir -p "$out"
fail=0
bad() {
	echo "FAIL: $*"
	fail=1
}
kc() { "$lab" exec -- kubectl --cache-dir "$dir/kubectl-cache" "$@"; }
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

certroll apply -i "$dir/inventory.ini" --yes --state-dir "$out/first" \
	>"$out/first.txt" 2>&1 &
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
[ "$(unsched cp2)" = true ] || bad "cp2, cordoned by the operator, was uncordoned"
for n in cp1 cp3; do
	[ -z "$(unsched "$n")" ] || bad "$n was left cordoned"
done
certroll status --state-dir "$out/first" >"$out/status.txt" 2>&1 || bad "certroll status failed"
grep -q "^cp2  *done  *operator " "$out/status.txt" ||
	bad "status: cp2 is not done and cordoned by the operator: $(cat "$out/status.txt")"
[ -z "$(lease)" ] || bad "the lock is still held by $(lease) after the run"
if [ "$fail" = 0 ]; then
	echo "lab_apply_guards: the second apply was refused ($(head -n 1 "$out/second.txt"));" \
		"cp2 renewed and left cordoned as the operator had it"
fi
exit "$fail"
