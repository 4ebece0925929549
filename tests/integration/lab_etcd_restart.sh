#!/bin/bash
# One lab node's etcd member gets renewed certificates and is restarted the
# way the agent does it (etcd.yaml moved out of the manifests directory,
# the member really gone, moved back, healthy again), while a monitor in
# the hub writes through the etcd gateways of the other two members every
# 100 ms: not one write may fail (quorum kept), and the member must serve
# the new serial on its client and peer ports.
set -euo pipefail
. "$(dirname "$0")/lab_env.sh"
if [ "$(wc -l <"$dir/nodes.list")" -lt 3 ]; then
	echo "skip: quorum with one member down needs 3 nodes"
	exit 77
fi
node=cp2 ip=10.200.0.12
P=$dir/nodes/cp1/kubernetes/pki/etcd
served_serial() {
	echo | ip netns exec crlab-hub openssl s_client -connect "$ip:$1" \
		-CAfile "$P/ca.crt" -cert "$P/healthcheck-client.crt" \
		-key "$P/healthcheck-client.key" 2>/dev/null |
		openssl x509 -noout -serial 2>/dev/null | cut -d= -f2
}
health() {
	ip netns exec crlab-hub curl -s --max-time 1 --cacert "$P/ca.crt" \
		--cert "$P/healthcheck-client.crt" --key "$P/healthcheck-client.key" "$@"
}

out=$dir/etcd-monitor.log
rm -f "$out"
ip netns exec crlab-hub "$here/../lab/etcd-monitor" --each \
	--endpoints https://10.200.0.11:2379,https://10.200.0.13:2379 \
	--cacert "$P/ca.crt" --cert "$P/healthcheck-client.crt" \
	--key "$P/healthcheck-client.key" --log "$out" --duration 120 \
	>"$dir/etcd-monitor.json" &
mon=$!
held=0
cleanup() {
	kill "$mon" 2>/dev/null || true
	wait "$mon" 2>/dev/null || true
	if [ "$held" = 1 ]; then
		"$lab" node $node -- mv /etc/kubernetes/certroll-held/etcd.yaml \
			/etc/kubernetes/manifests/etcd.yaml || true
	fi
}
trap cleanup EXIT
sleep 1

old=$(served_serial 2379)
old_peer=$(served_serial 2380)
# Renew server and peer certificates from the node's own etcd CA: same
# subject and SANs, new key and serial (lab.md's node-renew.sh).
"$lab" node $node -- bash -euo pipefail -c '
P=/etc/kubernetes/pki/etcd
for kind in server peer; do
	ext=$(mktemp)
	printf "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=%s\n" \
		"$(openssl x509 -in $P/$kind.crt -noout -ext subjectAltName | tail -n +2 | sed "s/^ *//; s/IP Address:/IP:/g; s/, /,/g")" >$ext
	openssl ecparam -name prime256v1 -genkey -noout -out $P/$kind.key.new
	chmod 600 $P/$kind.key.new
	openssl req -new -key $P/$kind.key.new -subj "$(openssl x509 -in $P/$kind.crt -noout -subject -nameopt compat | sed "s/^subject=//")" |
		openssl x509 -req -CA $P/ca.crt -CAkey $P/ca.key -set_serial 0x$(openssl rand -hex 8) \
			-days 365 -sha256 -extfile $ext -out $P/$kind.crt.new 2>/dev/null
	openssl verify -CAfile $P/ca.crt $P/$kind.crt.new >/dev/null
	mv -f $P/$kind.key.new $P/$kind.key
	mv -f $P/$kind.crt.new $P/$kind.crt
	rm -f $ext
done'
disk=$("$lab" node $node -- openssl x509 -in /etc/kubernetes/pki/etcd/server.crt -noout -serial | cut -d= -f2)
disk_peer=$("$lab" node $node -- openssl x509 -in /etc/kubernetes/pki/etcd/peer.crt -noout -serial | cut -d= -f2)

# Restart as the agent will: manifest out, member gone, manifest back.
"$lab" node $node -- mkdir -p -m 0700 /etc/kubernetes/certroll-held
"$lab" node $node -- mv /etc/kubernetes/manifests/etcd.yaml /etc/kubernetes/certroll-held/etcd.yaml
held=1
gone=0
for i in $(seq 300); do
	if ! health "https://$ip:2379/health" >/dev/null; then
		gone=1
		break
	fi
	sleep 0.1
done
"$lab" node $node -- mv /etc/kubernetes/certroll-held/etcd.yaml /etc/kubernetes/manifests/etcd.yaml
held=0
back=0
for i in $(seq 300); do
	if health -X POST -d '{}' "https://$ip:2379/v3/maintenance/status" | grep -q '"version"'; then
		back=1
		break
	fi
	sleep 0.1
done
sleep 1
kill "$mon"
wait "$mon" || true
trap - EXIT
new=$(served_serial 2379)
new_peer=$(served_serial 2380)
summary=$(cat "$dir/etcd-monitor.json")
echo "etcd $node: gone=$gone back=$back client serial $old -> $new (disk $disk)," \
	"peer $old_peer -> $new_peer (disk $disk_peer); monitor $summary"
fail=0
[ "$gone" = 1 ] || { echo "FAIL: the member never went away"; fail=1; }
[ "$back" = 1 ] || { echo "FAIL: the member did not come back"; fail=1; }
{ [ "$new" = "$disk" ] && [ "$new" != "$old" ]; } ||
	{ echo "FAIL: port 2379 does not serve the renewed certificate"; fail=1; }
{ [ "$new_peer" = "$disk_peer" ] && [ "$new_peer" != "$old_peer" ]; } ||
	{ echo "FAIL: port 2380 does not serve the renewed certificate"; fail=1; }
echo "$summary" | grep -q '"failed": 0,' || { cat "$out"; fail=1; }
ticks=$(echo "$summary" | sed 's/.*"ticks": \([0-9]*\).*/\1/')
[ "$ticks" -gt 20 ] || { echo "FAIL: the monitor wrote too little ($ticks rounds)"; fail=1; }
rm -f "$out" "$dir/etcd-monitor.json"
exit $fail
