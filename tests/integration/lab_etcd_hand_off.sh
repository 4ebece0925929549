#!/bin/bash
# certroll-agent restarts the etcd member that leads the lab's cluster. It
# must first hand leadership to another member (MoveLeader through the
# gateway), while every member is up: afterwards another member leads and
# the agent's result says whom it handed off to, and a monitor writing
# through whichever of the other two members answers, every 100 ms, never
# finds both refusing (quorum kept). A write in flight during the
# transfer may wait for it (about a second here), so the monitor does not
# demand that each member answer every tick. A member that does not lead
# hands nothing off.
set -euo pipefail
. "$(dirname "$0")/lab_env.sh"
if [ "$(wc -l <"$dir/nodes.list")" -lt 3 ]; then
	echo "skip: a hand-off needs 3 members"
	exit 77
fi
P=$dir/nodes/cp1/kubernetes/pki/etcd
gw() { # gw IP PATH: a gateway call from the hub
	ip netns exec crlab-hub curl -s --max-time 5 --cacert "$P/ca.crt" \
		--cert "$P/healthcheck-client.crt" --key "$P/healthcheck-client.key" \
		-X POST -d '{}' "https://$1:2379$2"
}
leader_name() { # the name of the member cp1's status says leads
	local leader
	leader=$(gw 10.200.0.11 /v3/maintenance/status |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["leader"])')
	gw 10.200.0.11 /v3/cluster/member/list | python3 -c '
import json, sys
want = sys.argv[1]
for m in json.load(sys.stdin)["members"]:
    if str(m["ID"]) == want:
        print(m["name"])' "$leader"
}
ip_of() { echo "10.200.0.$((${1#cp} + 10))"; }

before=$(leader_name)
case $before in cp[123]) ;; *)
	echo "FAIL: no leader found ('$before')"
	exit 1
	;;
esac
others=""
for n in cp1 cp2 cp3; do
	[ "$n" = "$before" ] || others="$others,https://$(ip_of "$n"):2379"
done
out=$dir/etcd-hand-off
mkdir -p "$out"
ip netns exec crlab-hub "$here/../lab/etcd-monitor" --any \
	--endpoints "${others#,}" --cacert "$P/ca.crt" \
	--cert "$P/healthcheck-client.crt" --key "$P/healthcheck-client.key" \
	--log "$out/monitor.log" --duration 120 >"$out/monitor.json" &
mon=$!
trap 'kill $mon 2>/dev/null || true' EXIT
sleep 1
"$lab" node "$before" -- certroll-agent restart --only etcd -o json \
	>"$out/restart.json" || bad "restart of $before's etcd failed: $(cat "$out/restart.json")"
sleep 1
kill "$mon"
wait "$mon" || true
trap - EXIT
after=$(leader_name)
hand_off=$(python3 -c 'import json,sys
for c in json.load(open(sys.argv[1]))["components"]:
    if c["component"] == "etcd":
        print(c.get("hand_off", ""))' "$out/restart.json")
summary=$(cat "$out/monitor.json")
echo "leader $before -> $after; agent: $hand_off; monitor (the other two, any): $summary"
case $hand_off in
*"leadership moved to '$after'"*) ;;
*) bad "the agent did not say it handed leadership to $after" ;;
esac
[ "$after" != "$before" ] || bad "$before still leads after its restart"
echo "$summary" | grep -q '"failed": 0,' ||
	bad "writes failed while the leader restarted: $(cat "$out/monitor.log")"

# A member that does not lead hands nothing off.
follower=${others#,https://10.200.0.}
follower=cp$((${follower%%:*} - 10))
[ "$follower" != "$after" ] || follower=$before
"$lab" node "$follower" -- certroll-agent restart --only etcd -o json \
	>"$out/restart-follower.json" || bad "restart of $follower's etcd failed"
grep -q "does not lead; nothing to hand off" "$out/restart-follower.json" ||
	bad "$follower (not the leader) reported: $(cat "$out/restart-follower.json")"
exit $fail
