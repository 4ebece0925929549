# certroll-agent serve, driven over pipes as the orchestrator drives it.
cr_unit_test(agent_serve LIBS cr::cr_proto cr::cr_common cr::crypto
  SOURCES support/certtest.c TIMEOUT 300)
add_dependencies(test_agent_serve certroll-agent certroll-pkigen)
