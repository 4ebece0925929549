# certroll-agent serve, driven over pipes as the orchestrator drives it.
cr_unit_test(agent_serve LIBS cr::cr_proto cr::cr_common cr::crypto
  SOURCES support/certtest.c TIMEOUT 300)
add_dependencies(test_agent_serve certroll-agent certroll-pkigen)

# The agent needs nothing on a node but the C library (ldd proves it).
add_test(NAME unit.agent_static
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/agent_static.sh
          $<TARGET_FILE:certroll-agent> ${CR_AGENT_STATIC})
set_tests_properties(unit.agent_static PROPERTIES LABELS unit
  SKIP_RETURN_CODE 77 TIMEOUT 60)
