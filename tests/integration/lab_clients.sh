#!/bin/bash
# The real OpenSSH client (and kubectl, when the lab has the API) work with
# the files in the lab directory: strict host key checking against its
# known_hosts, its key, its kubeconfig. Each node is its own host: its
# name, its /etc/kubernetes, its /var/lib/certroll.
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
rm -f "$dir/known_hosts.bad"
if [ -e "$dir/sim/init.pid" ]; then
	"$lab" exec -- kubectl --cache-dir "$dir/kubectl-cache" get nodes -o name |
		sort | tr '\n' ' ' | grep -q "node/cp1 node/cp2" ||
		{ echo "FAIL: kubectl get nodes"; fail=1; }
else
	echo "lab_clients: no API in this lab (--ssh-only); kubectl not checked"
fi
[ "$fail" = 0 ] && echo "lab_clients: ssh and the lab files work"
exit $fail
