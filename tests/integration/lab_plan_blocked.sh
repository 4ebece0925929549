#!/bin/bash
# certroll plan on a cluster whose PodDisruptionBudget allows no
# disruption: the plan must say which drain it blocks and why, exit 1, and
# change nothing (no node cordoned, no pod evicted). With the budget
# relaxed again, the same plan exits 0.
set -euo pipefail
. "$(dirname "$0")/lab_env.sh"
bin=${CR_BIN_DIR:?}
out=$dir/plan-blocked
mkdir -p "$out"
# Its own, empty state directory: the plan's previous-run gate must not
# see the journals of the user's runs (a killed benchmark's once made this
# plan say "blocked by: previous-run").
rm -rf "$out/state"
plan() { "$lab" exec -- "$bin/certroll" plan -i "$dir/inventory.ini" --state-dir "$out/state" "$@"; }
restore() { kc -n kube-system patch pdb coredns --type merge -p '{"spec":{"minAvailable":1}}' >/dev/null; }

pods() { kc get pods -A -o jsonpath='{range .items[*]}{.metadata.uid}{"\n"}{end}' | sort; }
# A test before this one may have drained and uncordoned a node: wait
# until no pod comes or goes, so that a change below is the plan's.
pods_before=$(pods)
for _ in $(seq 1 30); do
	sleep 2
	now=$(pods)
	[ "$now" != "$pods_before" ] || break
	pods_before=$now
done
# Two coredns replicas and minAvailable 2: no disruption allowed.
kc -n kube-system patch pdb coredns --type merge -p '{"spec":{"minAvailable":2}}' >/dev/null
trap restore EXIT
rc=0
plan >"$out/plan.txt" 2>&1 || rc=$?
[ "$rc" = 1 ] || bad "plan exited $rc with a blocking PDB, not 1"
grep -q "FAIL  drain-unblocked" "$out/plan.txt" || bad "plan: the drain gate did not fail"
grep -q "BLOCKED by pdb kube-system/coredns" "$out/plan.txt" ||
	bad "plan: no node's drain names the blocking PDB"
grep -q "PodDisruptionBudget kube-system/coredns allows no disruption now (it needs 2 healthy pods and has 2)" "$out/plan.txt" ||
	bad "plan: the blocker does not say what the PDB needs"
grep -q "Result: 'certroll apply' is blocked by: drain-unblocked" "$out/plan.txt" ||
	bad "plan: the result line does not name the gate"
rc=0
plan -o json >"$out/plan.json" 2>/dev/null || rc=$?
[ "$rc" = 1 ] || bad "plan -o json exited $rc, not 1"
python3 - "$out/plan.json" <<'PY' || bad "plan -o json: blockers missing"
import json, sys
p = json.load(open(sys.argv[1]))
assert p["blocked"] is True
gate = [c for c in p["preflight"] if c["check"] == "drain-unblocked"][0]
assert gate["ok"] is False
kinds = {b["kind"] for n in p["nodes"] for b in n["blockers"]}
assert "pdb" in kinds, kinds
PY
# Read-only: nothing cordoned, no pod gone.
unsched=$(kc get nodes -o jsonpath='{range .items[*]}{.spec.unschedulable}{"\n"}{end}' | grep -c true || true)
[ "$unsched" = 0 ] || bad "plan cordoned $unsched node(s)"
pods_after=$(pods)
[ "$pods_before" = "$pods_after" ] || bad "plan changed the pods"
restore
trap - EXIT
rc=0
plan >"$out/plan-ok.txt" 2>&1 || rc=$?
[ "$rc" = 0 ] || { tail -n 30 "$out/plan-ok.txt"; bad "plan exited $rc once the PDB allows a disruption"; }
if [ "$fail" = 0 ]; then
	echo "lab_plan_blocked: a blocking PDB is named and the plan exits 1; relaxed, it exits 0"
	sed -n '/^Preflight/,/^$/p' "$out/plan.txt"
fi
exit "$fail"
