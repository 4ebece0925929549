#!/bin/sh
# The agent is copied to nodes that have no build tools: apart from the C
# library (and the dynamic loader and vDSO that come with it) it must need
# no shared object. Usage: agent_static.sh AGENT STATIC(ON|OFF)
set -eu
agent=$1
static=$2
if [ "$static" != ON ]; then
	echo "agent_static: this build links the agent dynamically" \
		"(CR_AGENT_STATIC=$static, e.g. the asan preset): skipped"
	exit 77
fi
deps=$(ldd "$agent") || { echo "agent_static: ldd failed on $agent" >&2; exit 1; }
echo "$deps"
others=$(echo "$deps" | grep -v -E '^\s*(linux-vdso\.so\.1|libc\.so\.6 => |/lib64/ld-linux-x86-64\.so\.2|/lib/ld-linux)' || true)
if [ -n "$others" ]; then
	echo "agent_static: the agent needs more than the C library:" >&2
	echo "$others" >&2
	exit 1
fi
echo "$deps" | grep -q 'libc\.so\.6' || { echo "agent_static: no libc in ldd's answer?" >&2; exit 1; }
# Nothing that would pull libcurl or a TLS library in at run time either.
if strings "$agent" | grep -q -E 'libcurl\.so|libssl\.so|libcrypto\.so|libjson-c\.so|libyaml'; then
	echo "agent_static: the agent names a shared library it would load" >&2
	exit 1
fi
echo "agent_static: $agent depends on the C library alone"
