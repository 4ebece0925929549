#!/bin/bash
# CTest fixture lab.up: builds the lab the lab-labelled tests share. Without
# the API simulator in the tree the nodes get sshd and PKI only.
set -euo pipefail
if [ "$(id -u)" != 0 ]; then
	echo "skip: the lab needs root (network namespaces, bind mounts)"
	exit 77
fi
if ! ip netns list >/dev/null 2>&1; then
	echo "skip: network namespaces are not available here"
	exit 77
fi
lab=$(dirname "$0")/../lab/lab
src=$(cd "$(dirname "$0")/../.." && pwd)
if [ -x "$src/tests/sim/kubesim" ] && [ -x "$src/tests/sim/kubelet" ]; then
	exec "$lab" up --force
fi
echo "lab_up: no API simulator in this tree; building an --ssh-only lab"
exec "$lab" up --force --ssh-only
