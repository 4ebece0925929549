#!/bin/bash
# certroll apply on a lab of its own under Valgrind's memcheck
# (docs/reliability.md, "Security"): no invalid access, no use of
# uninitialised memory, no definite or indirect leak in certroll. The
# agent runs on the nodes as usual (it is covered by the ASan build).
# The lab is brought up here, held by this script, and always taken down.
# Valgrind's log stays in $SEC_OUT (default /tmp/certroll-valgrind-out).
set -euo pipefail
if [ "$(id -u)" != 0 ]; then
	echo "skip: the lab needs root (network namespaces, bind mounts)"
	exit 77
fi
if ! command -v valgrind >/dev/null; then
	echo "skip: valgrind is not installed (apt-get install valgrind)"
	exit 77
fi
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
lab=$src/tests/lab/lab
export CERTROLL_LAB_DIR=${SEC_LAB_DIR:-/tmp/certroll-lab-valgrind}
export CR_BIN_DIR=${CR_BIN_DIR:-$src/build/bin}
dir=$CERTROLL_LAB_DIR
out=${SEC_OUT:-/tmp/certroll-valgrind-out}
rm -rf "$out"
mkdir -p "$out"
# shellcheck disable=SC2317 # run by the EXIT trap
# Only a lab this script brought up: a failed `up` leaves another's.
down() {
	[ -z "${lab_up:-}" ] || "$lab" down >"$out/lab-down.txt" 2>&1 ||
		cat "$out/lab-down.txt"
}
trap down EXIT
"$lab" up --holder $$ --wait 900 >"$out/lab-up.txt" 2>&1 ||
	{ cat "$out/lab-up.txt"; echo "FAIL: lab up"; exit 1; }
lab_up=1
t0=$(date +%s)
rc=0
"$lab" exec -- valgrind --leak-check=full \
	--errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
	--track-origins=yes --log-file="$out/valgrind.log" \
	"$CR_BIN_DIR/certroll" apply -i "$dir/inventory.ini" --yes \
	--state-dir "$out/state" --health-timeout 10m \
	>"$out/apply.out" 2>"$out/apply.err" || rc=$?
t1=$(date +%s)
grep -E "ERROR SUMMARY|definitely lost|indirectly lost" "$out/valgrind.log" || true
echo "security_valgrind: certroll apply under memcheck: exit $rc in $((t1 - t0)) s"
if [ "$rc" = 99 ]; then
	echo "FAIL: valgrind found errors or leaks (see $out/valgrind.log)"
	sed -n '/ERROR SUMMARY/,$p;/Invalid\|uninitialised\|definitely lost in/,+12p' "$out/valgrind.log" | head -n 80
	exit 1
fi
if [ "$rc" != 0 ]; then
	tail -n 20 "$out/apply.err"
	echo "FAIL: certroll apply failed under valgrind (exit $rc)"
	exit 1
fi
grep -q "ERROR SUMMARY: 0 errors" "$out/valgrind.log" ||
	{ echo "FAIL: no clean ERROR SUMMARY in $out/valgrind.log"; exit 1; }
