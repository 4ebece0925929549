# Security checks (docs/reliability.md, "Security"). The agent's hostile
# request table lives in test_agent_serve (agentserve.cmake).
# Inventory values with shell and path syntax; with "sim", an API server
# certificate from another CA.
cr_unit_test(security LIBS cr::cr_orch SOURCES support/kubesim_fix.c
  support/bgproc.c)
add_test(NAME sim.security COMMAND test_security sim)
set_tests_properties(sim.security PROPERTIES LABELS sim TIMEOUT 120)

# On a lab of its own (brought up and down inside the test, so it runs after
# the crlab fixture's lab is gone): the agent replaced when its checksum
# differs, no secret in any output of a full -v -v run, 0600/0700 backups
# and keys, hostile inventories reaching no shell.
add_test(NAME lab.security
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/security_lab.sh)
set_tests_properties(lab.security PROPERTIES LABELS lab TIMEOUT 1200
  SKIP_RETURN_CODE 77 RESOURCE_LOCK crlab DEPENDS lab.down
  ENVIRONMENT "CR_BIN_DIR=${CR_BIN_DIR}")

# certroll apply under Valgrind's memcheck on a lab of its own: no error,
# no definite or indirect leak (about 100 s with the lab; docs).
add_test(NAME lab.valgrind
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/security_valgrind.sh)
set_tests_properties(lab.valgrind PROPERTIES LABELS lab TIMEOUT 1200
  SKIP_RETURN_CODE 77 RESOURCE_LOCK crlab DEPENDS lab.down
  ENVIRONMENT "CR_BIN_DIR=${CR_BIN_DIR}")
