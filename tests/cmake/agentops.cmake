# The agent's node operations (snapshot, restart, health, rollback) and the
# TLS client they use. The live tests talk to stand-ins and a real etcd on
# loopback only; tests/support/agentops-pki.sh makes their certificates.
cr_unit_test(tlsc LIBS cr::cr_common SOURCES support/bgproc.c support/opsfix.c
  TIMEOUT 120)
cr_unit_test(manifest LIBS cr::cr_agent)
cr_unit_test(agent_snapshot LIBS cr::cr_agent
  SOURCES support/bgproc.c support/opsfix.c TIMEOUT 180)
cr_unit_test(agent_restart LIBS cr::cr_agent
  SOURCES support/bgproc.c support/opsfix.c TIMEOUT 180)
cr_unit_test(agent_health LIBS cr::cr_agent
  SOURCES support/bgproc.c support/opsfix.c TIMEOUT 180)
# It also runs the subcommands.
add_dependencies(test_agent_health certroll-agent)
# The tests take their kubeadm PKI from certroll-pkigen when it is built.
foreach(t tlsc agent_snapshot agent_restart agent_health)
  if(TARGET certroll-pkigen)
    add_dependencies(test_${t} certroll-pkigen)
  endif()
endforeach()
