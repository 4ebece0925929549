#!/bin/bash
# certroll plan --only and apply --plan FILE on the lab.
# - plan --only cp1,cp2 renews nothing on cp3 but still counts cp3's etcd
#   member: quorum holds with 3 members (it once counted only the
#   selected nodes, "2 members: quorum cannot survive", and told the
#   operator to pass --accept-downtime).
# - A plan saved with `plan --out` is refused once the cluster changed
#   since: cp1's certificates renewed behind its back (new serials), or a
#   plan made for other nodes (--only). apply exits 1, says what changed
#   and to make a new plan, and does nothing: no journal, no cordon, no
#   lock left. After cp1's files are restored from the renewal's backup,
#   a new plan sees the serials the saved one did (the full apply --plan
#   is lab.rollout's). The lab is left as it was found.
set -euo pipefail
. "$(dirname "$0")/lab_env.sh"
out=$dir/plan-file
rm -rf "$out"
mkdir -p "$out"
certroll() { "$lab" exec -- certroll "$@" --state-dir "$out/state"; }
unsched() { kc get nodes -o jsonpath='{range .items[*]}{.spec.unschedulable}{end}'; }
lease() { kc -n kube-system get lease certroll -o jsonpath='{.spec.holderIdentity}' 2>/dev/null || true; }
renewed=0
cleanup() {
	if [ "$renewed" = 1 ] &&
		! "$lab" node cp1 -- certroll-agent restore latest >/dev/null; then
		echo "FAIL: cp1's certificates could not be restored"
		exit 1
	fi
}
trap cleanup EXIT

# refused NAME PLAN WANT [ARGS]: apply --plan PLAN exits 1 saying WANT, and
# changes nothing.
refused() {
	local name=$1 plan=$2 want=$3 rc=0
	shift 3
	certroll apply -i "$dir/inventory.ini" --yes --plan "$plan" "$@" \
		>"$out/$name.txt" 2>&1 || rc=$?
	[ "$rc" = 1 ] || bad "$name: apply --plan exited $rc, not 1: $(tail -n 5 "$out/$name.txt")"
	grep -q "the cluster changed since the plan '$plan' was made: $want; make a new plan" \
		"$out/$name.txt" || bad "$name: apply does not say '$want': $(tail -n 5 "$out/$name.txt")"
	[ -z "$(unsched)" ] || bad "$name: a node was cordoned"
	[ -z "$(lease)" ] || bad "$name: the lock is held by $(lease)"
	if find "$out/state" -name '*.jsonl' 2>/dev/null | grep -q .; then
		bad "$name: a journal was written"
	fi
}

certroll plan -i "$dir/inventory.ini" --out "$out/plan.json" >"$out/plan.txt" 2>&1 ||
	bad "plan exited non-zero: $(tail -n 5 "$out/plan.txt")"
certroll plan -i "$dir/inventory.ini" --only cp1,cp2 --out "$out/plan-two.json" \
	>"$out/plan-two.txt" 2>&1 || bad "plan --only exited non-zero: $(grep FAIL "$out/plan-two.txt")"
grep -q "ok    etcd-quorum        3 of 3 members healthy" "$out/plan-two.txt" ||
	bad "plan --only does not count cp3's etcd member: $(grep etcd-quorum "$out/plan-two.txt")"
python3 - "$out/plan-two.json" <<'PY' || bad "plan --only: cp3 is not kept out of the renewal"
import json, sys
nodes = {n["name"]: n for n in json.load(open(sys.argv[1]))["nodes"]}
assert not nodes["cp3"]["selected"] and nodes["cp3"]["renew"] == [], nodes["cp3"]["renew"]
assert nodes["cp1"]["selected"] and len(nodes["cp1"]["renew"]) > 0
PY
refused other-nodes "$out/plan-two.json" "cp3: the certificates to renew changed"

# cp1 renewed behind the plan's back (no restart: only the files change).
"$lab" node cp1 -- certroll-agent renew --backend native >"$out/renew.txt"
renewed=1
refused renewed "$out/plan.json" "cp1: admin.conf is not the certificate the plan saw (serial changed)"

"$lab" node cp1 -- certroll-agent restore latest >"$out/restore.txt"
renewed=0
# Restored: the saved plan matches the cluster again. Compared by making
# the plan anew (read-only) and checking the serials it saw are the same.
certroll plan -i "$dir/inventory.ini" -o json >"$out/plan-after.json" 2>"$out/plan-after.err" ||
	bad "plan after the restore exited non-zero: $(tail -n 5 "$out/plan-after.err")"
python3 - "$out/plan.json" "$out/plan-after.json" <<'PY' || bad "the restored cluster does not match the saved plan"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
serials = lambda d: [(n["name"], c["name"], c["serial"]) for n in d["nodes"] for c in n["certificates"]]
assert serials(a) == serials(b), "serials differ"
PY
if [ "$fail" = 0 ]; then
	echo "lab_plan_file: plan --only counted every etcd member; apply --plan refused a plan" \
		"for other nodes and one whose certificates changed, and touched nothing"
fi
exit "$fail"
