# Security checks (docs/reliability.md, "Security"). The agent's hostile
# request table lives in test_agent_serve (agentserve.cmake).
# Inventory values with shell and path syntax; with "sim", an API server
# certificate from another CA.
cr_unit_test(security LIBS cr::cr_orch SOURCES support/kubesim_fix.c
  support/bgproc.c)
add_test(NAME sim.security COMMAND test_security sim)
set_tests_properties(sim.security PROPERTIES LABELS sim TIMEOUT 120)
