# The multi-node lab (tests/lab/lab, docs/lab.md): needs root and network
# namespaces; every test skips with 77 and a reason otherwise. The lab is
# built once per ctest run by the lab.up fixture and removed by lab.down.
set(CR_LAB_DIR /tmp/certroll-lab-ctest)
set(CR_LAB ${PROJECT_SOURCE_DIR}/tests/lab/lab)
set(CR_LAB_ENV CERTROLL_LAB_DIR=${CR_LAB_DIR} CR_BIN_DIR=${CR_BIN_DIR})

add_test(NAME lab.up COMMAND ${PROJECT_SOURCE_DIR}/tests/integration/lab_up.sh)
add_test(NAME lab.down COMMAND ${PROJECT_SOURCE_DIR}/tests/integration/lab_down.sh)
set_tests_properties(lab.up PROPERTIES FIXTURES_SETUP crlab LABELS lab
  TIMEOUT 180 SKIP_RETURN_CODE 77 ENVIRONMENT "${CR_LAB_ENV}")
set_tests_properties(lab.down PROPERTIES FIXTURES_CLEANUP crlab LABELS lab
  TIMEOUT 120 SKIP_RETURN_CODE 77 ENVIRONMENT "${CR_LAB_ENV}")

# test_remote runs inside the hub namespace, where the nodes are.
add_executable(test_remote unit/test_remote.c)
target_link_libraries(test_remote PRIVATE cr_cutest cr_defaults cr::cr_orch)
target_compile_definitions(test_remote PRIVATE
  CR_SOURCE_DIR="${PROJECT_SOURCE_DIR}" CR_BIN_DIR="${CR_BIN_DIR}")
add_test(NAME lab.remote COMMAND ${CR_LAB} exec -- $<TARGET_FILE:test_remote>)
set_tests_properties(lab.remote PROPERTIES FIXTURES_REQUIRED crlab
  LABELS lab TIMEOUT 180 SKIP_RETURN_CODE 77
  ENVIRONMENT "${CR_LAB_ENV};CR_TEST_FILTER=remote_lab")
# HELLO, INSPECT, BYE on every node; skips until the agent has "serve".
add_test(NAME lab.agent_roundtrip
  COMMAND ${CR_LAB} exec -- $<TARGET_FILE:test_remote>)
set_tests_properties(lab.agent_roundtrip PROPERTIES FIXTURES_REQUIRED crlab
  LABELS lab TIMEOUT 180 SKIP_RETURN_CODE 77
  ENVIRONMENT "${CR_LAB_ENV};CR_TEST_FILTER=remote_serve")

add_test(NAME lab.clients COMMAND ${PROJECT_SOURCE_DIR}/tests/integration/lab_clients.sh)
set_tests_properties(lab.clients PROPERTIES FIXTURES_REQUIRED crlab
  LABELS lab TIMEOUT 120 SKIP_RETURN_CODE 77 ENVIRONMENT "${CR_LAB_ENV}")

# etcd member restart with renewed certificates; quorum must hold.
add_test(NAME lab.etcd_restart
  COMMAND ${PROJECT_SOURCE_DIR}/tests/integration/lab_etcd_restart.sh)
set_tests_properties(lab.etcd_restart PROPERTIES FIXTURES_REQUIRED crlab
  LABELS lab TIMEOUT 180 SKIP_RETURN_CODE 77 ENVIRONMENT "${CR_LAB_ENV}")
