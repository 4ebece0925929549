#!/bin/bash
# One lab node's etcd member gets renewed certificates and is restarted the
# way the agent does it (etcd.yaml moved out of the manifests directory,
# the member really gone, moved back, healthy again), while a monitor in
# the hub writes through the etcd gateways of the other members: not one
# write may fail (quorum kept), and the member must serve the new serial.
set -euo pipefail
if [ "$(id -u)" != 0 ]; then
	echo "skip: the lab needs root"
	exit 77
fi
dir=${CERTROLL_LAB_DIR:-/tmp/certroll-lab}
lab=$(dirname "$0")/../lab/lab
if [ ! -e "$dir/sim/init.pid" ]; then
	echo "skip: this lab has no static pods (--ssh-only: no API simulator)"
	exit 77
fi
node=cp2 ip=10.200.0.12
P=$dir/nodes/cp1/kubernetes/pki/etcd
cu() {
	ip netns exec crlab-hub curl -s --max-time 1 --cacert "$P/ca.crt" \
		--cert "$P/healthcheck-client.crt" --key "$P/healthcheck-client.key" "$@"
}
served_serial() {
	echo | ip netns exec crlab-hub openssl s_client -connect "$ip:2379" \
		-CAfile "$P/ca.crt" -cert "$P/healthcheck-client.crt" \
		-key "$P/healthcheck-client.key" 2>/dev/null |
		openssl x509 -noout -serial 2>/dev/null | cut -d= -f2
}

# The monitor: bounded (at most 600 rounds), stops on the stop file.
out=$dir/monitor.log stop=$dir/monitor.stop
rm -f "$out" "$stop"
(
	k=$(printf /lab/monitor | base64)
	for i in $(seq 600); do
		[ -e "$stop" ] && break
		for m in 11 13; do
			v=$(printf '%s' "$i" | base64)
			if cu -X POST -d "{\"key\":\"$k\",\"value\":\"$v\"}" \
				"https://10.200.0.$m:2379/v3/kv/put" | grep -q '"revision"'; then
				echo ok
			else
				echo "FAIL via 10.200.0.$m at $(date +%T.%N)"
			fi
		done >>"$out"
		sleep 0.1
	done
) &
mon=$!
trap 'touch "$stop"; wait $mon 2>/dev/null || true' EXIT

old=$(served_serial)
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

# Restart as the agent will: manifest out, member gone, manifest back.
"$lab" node $node -- mkdir -p -m 0700 /etc/kubernetes/certroll-held
"$lab" node $node -- mv /etc/kubernetes/manifests/etcd.yaml /etc/kubernetes/certroll-held/etcd.yaml
gone=0
for i in $(seq 300); do
	if ! cu "https://$ip:2379/health" >/dev/null; then gone=1; break; fi
	sleep 0.1
done
"$lab" node $node -- mv /etc/kubernetes/certroll-held/etcd.yaml /etc/kubernetes/manifests/etcd.yaml
back=0
for i in $(seq 300); do
	if cu -X POST -d '{}' "https://$ip:2379/v3/maintenance/status" | grep -q '"version"'; then
		back=1
		break
	fi
	sleep 0.1
done
sleep 1
touch "$stop"
wait $mon || true
trap - EXIT
new=$(served_serial)
writes=$(grep -c . "$out" || true)
fails=$(grep -c FAIL "$out" || true)
echo "etcd $node: gone=$gone back=$back serial $old -> $new (disk $disk); $writes writes, $fails failed"
fail=0
[ "$gone" = 1 ] || { echo "FAIL: the member never went away"; fail=1; }
[ "$back" = 1 ] || { echo "FAIL: the member did not come back"; fail=1; }
[ "$new" = "$disk" ] && [ "$new" != "$old" ] || { echo "FAIL: not serving the renewed certificate"; fail=1; }
[ "$fails" = 0 ] || { grep FAIL "$out"; fail=1; }
[ "$writes" -gt 10 ] || { echo "FAIL: the monitor wrote too little ($writes)"; fail=1; }
exit $fail
