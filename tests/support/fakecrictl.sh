#!/bin/sh
# crictl stand-in for the restart tests: "crictl ps --name ^NAME$ -q"
# prints a container ID while tests/support/fakepod.py's state directory
# ($FAKEPOD_STATE) says NAME's container exists. Every call is logged to
# $FAKEPOD_STATE/crictl.log; anything else is refused with status 2.
echo "$*" >>"$FAKEPOD_STATE/crictl.log"
if [ "$#" -ne 4 ] || [ "$1" != ps ] || [ "$2" != --name ] || [ "$4" != -q ]; then
	echo "fakecrictl: unexpected arguments: $*" >&2
	exit 2
fi
name=${3#^}
name=${name%\$}
[ -e "$FAKEPOD_STATE/$name" ] && echo "0123456789ab-$name"
exit 0
