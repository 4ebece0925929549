# agentcert: the agent's certificate work (common/cert, common/kcfgcert,
# agent inspect/backup/renew/verify), the test PKI generator and the
# kubeadm stand-in.

# certroll-pkigen lays out kubeadm PKI trees for every area's tests and the
# lab (tests/support/pkigen.c; see its --help).
add_executable(certroll-pkigen support/pkigen.c)
target_link_libraries(certroll-pkigen PRIVATE cr_defaults cr::cr_common
  cr::crypto)
set_target_properties(certroll-pkigen PROPERTIES
  RUNTIME_OUTPUT_DIRECTORY ${CR_BIN_DIR})

cr_unit_test(cert LIBS cr::cr_common cr::crypto SOURCES support/certtest.c)
cr_unit_test(kcfgcert LIBS cr::cr_common cr::crypto SOURCES support/certtest.c)
add_dependencies(test_kcfgcert certroll-pkigen)
cr_unit_test(agent_inspect LIBS cr::cr_agent cr::crypto
  SOURCES support/certtest.c)
add_dependencies(test_agent_inspect certroll-pkigen)
cr_unit_test(agent_facts LIBS cr::cr_agent cr::crypto
  SOURCES support/certtest.c)
cr_unit_test(agent_backup LIBS cr::cr_agent cr::crypto
  SOURCES support/certtest.c)
cr_unit_test(agent_renew LIBS cr::cr_agent cr::crypto
  SOURCES support/certtest.c TIMEOUT 300)
add_dependencies(test_agent_renew certroll-pkigen)
cr_unit_test(agent_verify LIBS cr::cr_agent cr::crypto
  SOURCES support/certtest.c TIMEOUT 300)
add_dependencies(test_agent_verify certroll-pkigen)
cr_unit_test(pkigen LIBS cr::cr_common cr::crypto SOURCES support/certtest.c)
add_dependencies(test_pkigen certroll-pkigen)
cr_unit_test(agent_pki LIBS cr::cr_agent)
