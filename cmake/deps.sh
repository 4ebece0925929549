#!/bin/sh
# Installs, with apt-get, every Debian package certroll needs to build, test
# and run its lab. Idempotent: packages already present are not touched and
# nothing is printed for them. Usage: cmake/deps.sh [extra-group...]
#   groups: bench (hyperfine), fuzz (clang, libfuzzer), lint (clang-tidy,
#   cppcheck), faults (libfaketime, for the clock-skew case)
set -eu

base="build-essential cmake pkg-config clang-format
 libssl-dev libcurl4-openssl-dev libjson-c-dev libssh2-1-dev libyaml-dev
 libcunit1-dev openssl ca-certificates curl python3 procps iproute2
 openssh-server openssh-client etcd-server etcd-client valgrind ansible-core
 python3-prometheus-client"
bench="hyperfine"
fuzz="clang libclang-rt-14-dev"
lint="clang-tidy cppcheck"
faults="libfaketime"

want=$base
for g in "$@"; do
	case $g in
	bench) want="$want $bench" ;;
	fuzz) want="$want $fuzz" ;;
	lint) want="$want $lint" ;;
	faults) want="$want $faults" ;;
	*) echo "deps: unknown group '$g'" >&2; exit 2 ;;
	esac
done
# The real kubectl is the client our API simulator is checked against.
command -v kubectl >/dev/null 2>&1 || want="$want kubernetes-client"

missing=
for p in $want; do
	s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$s" = installed ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages:$missing" >&2
	echo "deps: run 'make deps' as root (or with sudo) to install them" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
