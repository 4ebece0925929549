#!/bin/sh
# Makes a small kubeadm-layout PKI with the openssl CLI for the agent's
# node-operation tests (tlsc, snapshot, restart, health). ECDSA P-256 keys
# keep it fast; serials are random 64-bit values as in the lab.
#
#   agentops-pki.sh DIR           CAs and leaves under DIR/pki, self-signed
#                                 kcm/scheduler serving certs under
#                                 DIR/selfsigned, an unrelated CA and client
#                                 under DIR/other
#   agentops-pki.sh extras DIR    only DIR/selfsigned and DIR/other (when
#                                 certroll-pkigen made DIR/pki)
#   agentops-pki.sh reissue DIR NAME
#                                 re-signs DIR/pki/NAME.crt (e.g. apiserver,
#                                 etcd/server) with its key and a new serial
set -eu

key() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out "$1" 2>/dev/null
	chmod 600 "$1"
}

# ca <prefix> <CN>
ca() {
	key "$1.key"
	openssl req -x509 -new -key "$1.key" -sha256 -days 3650 -subj "/CN=$2" \
	    -addext "basicConstraints=critical,CA:TRUE" \
	    -addext "keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign" \
	    -out "$1.crt"
}

# sign <prefix> <ca-prefix> <subject> <eku> [SAN]; reuses <prefix>.key
sign() {
	out=$1 cap=$2 subj=$3 eku=$4 san=${5:-}
	[ -f "$out.key" ] || key "$out.key"
	ext=$(mktemp)
	{
		echo "basicConstraints=critical,CA:FALSE"
		echo "keyUsage=critical,digitalSignature,keyEncipherment"
		echo "extendedKeyUsage=$eku"
		[ -n "$san" ] && echo "subjectAltName=$san"
	} >"$ext"
	openssl req -new -key "$out.key" -subj "$subj" |
	    openssl x509 -req -CA "$cap.crt" -CAkey "$cap.key" \
		-set_serial "0x$(openssl rand -hex 8)" -days 365 -sha256 \
		-extfile "$ext" -out "$out.crt" 2>/dev/null
	rm -f "$ext"
}

# selfsigned <prefix> <CN>: what kcm and the scheduler make in memory
selfsigned() {
	key "$1.key"
	openssl req -x509 -new -key "$1.key" -sha256 -days 365 -subj "/CN=$2" \
	    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
	    -addext "extendedKeyUsage=serverAuth" -out "$1.crt"
}

SAN="DNS:localhost,IP:127.0.0.1,IP:0:0:0:0:0:0:0:1"

if [ "${1:-}" = reissue ]; then
	P=$2/pki
	case $3 in
	apiserver) sign "$P/apiserver" "$P/ca" /CN=kube-apiserver serverAuth \
	    "DNS:kubernetes,$SAN" ;;
	etcd/server | etcd/peer) sign "$P/$3" "$P/etcd/ca" /CN=node1 \
	    serverAuth,clientAuth "DNS:node1,$SAN" ;;
	*) echo "agentops-pki: cannot reissue '$3'" >&2; exit 2 ;;
	esac
	exit 0
fi

extras() {
	mkdir -p "$1/selfsigned" "$1/other"
	selfsigned "$1/selfsigned/kube-controller-manager" kube-controller-manager
	selfsigned "$1/selfsigned/kube-scheduler" kube-scheduler
	ca "$1/other/ca" other-ca
	sign "$1/other/client" "$1/other/ca" /CN=stranger clientAuth
}

if [ "${1:-}" = extras ]; then
	extras "$2"
	exit 0
fi

D=$1
P=$D/pki
mkdir -p "$P/etcd"
ca "$P/ca" kubernetes
ca "$P/etcd/ca" etcd-ca
sign "$P/apiserver" "$P/ca" /CN=kube-apiserver serverAuth "DNS:kubernetes,$SAN"
sign "$P/apiserver-kubelet-client" "$P/ca" \
    "/O=kubeadm:cluster-admins/CN=kube-apiserver-kubelet-client" clientAuth
sign "$P/etcd/server" "$P/etcd/ca" /CN=node1 serverAuth,clientAuth \
    "DNS:node1,$SAN"
sign "$P/etcd/peer" "$P/etcd/ca" /CN=node1 serverAuth,clientAuth \
    "DNS:node1,$SAN"
sign "$P/etcd/healthcheck-client" "$P/etcd/ca" \
    /CN=kube-etcd-healthcheck-client clientAuth
extras "$D"
