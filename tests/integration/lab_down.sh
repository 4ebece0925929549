#!/bin/bash
# CTest fixture lab.down, and the test that `lab down` leaves nothing: every
# process that ran in a lab namespace is gone (checked by PID), and no
# namespace, /etc/netns entry, mount, mount point `lab up` created, or file
# of the lab remains.
set -euo pipefail
if [ "$(id -u)" != 0 ]; then
	echo "skip: the lab needs root"
	exit 77
fi
lab=$(dirname "$0")/../lab/lab
dir=${CERTROLL_LAB_DIR:-/tmp/certroll-lab}
# Only the lab this ctest run (our parent) built, never another run's.
if [ -e "$dir/holder" ] && [ "$(cut -d' ' -f1 "$dir/holder")" != "$PPID" ]; then
	echo "skip: the lab in $dir belongs to another run (holder $(cat "$dir/holder")); left alone"
	exit 77
fi
if [ ! -e "$dir/nodes.list" ]; then
	echo "skip: no lab in $dir (lab.up did not build one)"
	exit 77
fi
pids=""
for ns in $(ip netns list | awk '{print $1}' | grep '^crlab-' || true); do
	pids="$pids $(ip netns pids "$ns" | tr '\n' ' ')"
done
for f in "$dir"/nodes/*/init.pid "$dir"/nodes/*/init.pid.unshare "$dir"/sim/init.pid; do
	[ -f "$f" ] && pids="$pids $(cat "$f")"
done
created=$(cat "$dir/created" 2>/dev/null || true)
echo "lab_down: $(echo $pids | wc -w) lab processes before down"
t0=$(date +%s%N)
"$lab" down
echo "lab_down: down took $((($(date +%s%N) - t0) / 1000000)) ms"
fail=0
for p in $pids; do
	if kill -0 "$p" 2>/dev/null; then
		echo "FAIL: process $p ($(cat /proc/$p/comm 2>/dev/null)) survived"
		fail=1
	fi
done
if ip netns list | grep -q '^crlab-'; then
	echo "FAIL: namespaces left: $(ip netns list | grep '^crlab-' | tr '\n' ' ')"
	fail=1
fi
if ls /etc/netns 2>/dev/null | grep -q '^crlab-'; then
	echo "FAIL: /etc/netns entries left"
	fail=1
fi
if grep -q "$dir" /proc/*/mountinfo 2>/dev/null; then
	echo "FAIL: a mount of $dir is left in some mount namespace"
	fail=1
fi
for d in $created; do
	if [ -e "$d" ]; then
		echo "FAIL: $d, created by lab up, is left"
		fail=1
	fi
done
if [ -e "$dir" ]; then
	echo "FAIL: $dir is left"
	fail=1
fi
[ "$fail" = 0 ] && echo "lab_down: nothing left behind"
exit $fail
