#!/bin/bash
# CTest fixture lab.up: builds the lab the lab-labelled tests share.
set -euo pipefail
if [ "$(id -u)" != 0 ]; then
	echo "skip: the lab needs root (network namespaces, bind mounts)"
	exit 77
fi
if ! ip netns list >/dev/null 2>&1; then
	echo "skip: network namespaces are not available here"
	exit 77
fi
# The lab is this ctest run's (the holder is our parent, ctest) until
# lab.down: another run waits for it. --force replaces a lab a crashed run
# left in this directory; a lab that someone keeps up in another directory
# makes `lab up` fail and name it.
exec "$(dirname "$0")/../lab/lab" up --force --holder "$PPID" --wait 480
