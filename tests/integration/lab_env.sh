# Sourced by the lab tests that need the full lab (API and static pods):
# skips (77) without root or on an --ssh-only lab, and sets dir (the lab
# directory), here (tests/integration) and lab (the lab script). bad says
# what failed and makes the test's "exit $fail" fail; kc is the real
# kubectl in the hub with the lab's kubeconfig.
if [ "$(id -u)" != 0 ]; then
	echo "skip: the lab needs root"
	exit 77
fi
dir=${CERTROLL_LAB_DIR:-/tmp/certroll-lab}
here=$(cd "$(dirname "$0")" && pwd)
lab=$here/../lab/lab
if [ ! -e "$dir/sim/init.pid" ]; then
	echo "skip: this lab has no API (--ssh-only)"
	exit 77
fi
fail=0
bad() {
	echo "FAIL: $*"
	fail=1
}
kc() { "$lab" exec -- kubectl --cache-dir "$dir/kubectl-cache" "$@"; }
