# The agent's node operations (snapshot, restart, health, rollback) and the
# TLS client they use. The live tests talk to stand-ins and a real etcd on
# loopback only; tests/support/agentops-pki.sh makes their certificates.
cr_unit_test(tlsc LIBS cr::cr_common SOURCES support/bgproc.c TIMEOUT 120)
cr_unit_test(manifest LIBS cr::cr_agent)
