#!/bin/bash
# The real OpenSSH client (and kubectl, when the lab has the API) work with
# the files in the lab directory: strict host key checking against its
# known_hosts (a wrong and an unknown host key are refused), its key, its
# kubeconfig (the cluster's admin, valid a year). Each node is its own
# host: its name, its /etc/kubernetes, its /var/lib/certroll.
set -euo pipefail
if [ "$(id -u)" != 0 ]; then
	echo "skip: the lab needs root"
	exit 77
fi
lab=$(dirname "$0")/../lab/lab
dir=${CERTROLL_LAB_DIR:-/tmp/certroll-lab}
fail=0
for n in $(cat "$dir/nodes.list"); do
	ip=10.200.0.$((${n#cp} + 10))
	out=$("$lab" exec -- ssh -F "$dir/ssh_config" "$n" \
		'hostname; openssl x509 -in /etc/kubernetes/pki/apiserver.crt -noout -ext subjectAltName; grep " /var/lib/certroll " /proc/self/mountinfo | cut -d" " -f4')
	echo "$out" | head -1 | grep -qx "$n" || { echo "FAIL: $n: hostname"; fail=1; }
	echo "$out" | grep -q "IP Address:$ip" || { echo "FAIL: $n: apiserver SAN lacks $ip"; fail=1; }
	echo "$out" | grep -q "/nodes/$n/var-lib-certroll" || { echo "FAIL: $n: /var/lib/certroll not its own"; fail=1; }
	"$lab" exec -- ssh -F "$dir/ssh_config" "root@$ip" true ||
		{ echo "FAIL: $n: login by address"; fail=1; }
done
# A host key that is not the node's must be refused by OpenSSH too.
sed 's/^\(10\.200\.0\.11,cp1\) .*/\1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHdSgVbgSwPJ1JtaF7ZlSXXVDSHFpRwwJ8NNydIvKq4g/' \
	"$dir/known_hosts" >"$dir/known_hosts.bad"
if "$lab" exec -- ssh -F "$dir/ssh_config" -o UserKnownHostsFile="$dir/known_hosts.bad" cp1 true 2>/dev/null; then
	echo "FAIL: ssh accepted a wrong host key"
	fail=1
fi
# An unknown host: OpenSSH with strict checking refuses it.
grep -v '^10\.200\.0\.11,cp1 ' "$dir/known_hosts" >"$dir/known_hosts.bad"
if "$lab" exec -- ssh -F "$dir/ssh_config" -o UserKnownHostsFile="$dir/known_hosts.bad" cp1 true 2>/dev/null; then
	echo "FAIL: ssh accepted an unknown host"
	fail=1
fi
rm -f "$dir/known_hosts.bad"
if [ -e "$dir/sim/init.pid" ]; then
	want=$(sed 's|^|node/|' "$dir/nodes.list" | tr '\n' ' ')
	got=$("$lab" exec -- kubectl --cache-dir "$dir/kubectl-cache" get nodes -o name | sort | tr '\n' ' ')
	[ "$got" = "$want" ] || { echo "FAIL: kubectl get nodes: '$got', want '$want'"; fail=1; }
	# The workstation's credential: an admin of the cluster CA, valid for a
	# year whatever the node certificates' expiry.
	sed -n 's/^ *client-certificate-data: //p' "$dir/kubeconfig" | base64 -d >"$dir/admin.pem"
	openssl verify -CAfile "$dir/nodes/cp1/kubernetes/pki/ca.crt" "$dir/admin.pem" >/dev/null ||
		{ echo "FAIL: the kubeconfig's client certificate is not of the cluster CA"; fail=1; }
	openssl x509 -in "$dir/admin.pem" -noout -checkend $((360 * 86400)) >/dev/null ||
		{ echo "FAIL: the kubeconfig's client certificate expires within 360 days"; fail=1; }
	openssl x509 -in "$dir/admin.pem" -noout -subject | grep -q 'O = system:masters' ||
		{ echo "FAIL: the kubeconfig's client certificate is not in system:masters"; fail=1; }
	rm -f "$dir/admin.pem"
else
	echo "lab_clients: no API in this lab (--ssh-only); kubectl not checked"
fi
[ "$fail" = 0 ] && echo "lab_clients: ssh and the lab files work"
exit $fail
