# The multi-node lab (tests/lab/lab, docs/lab.md): needs root and network
# namespaces; every test skips with 77 and a reason otherwise. The lab is
# built once per ctest run by the lab.up fixture and removed by lab.down.
# The tests share it and change it (drain, etcd restart, rollout), so they
# run one at a time (RESOURCE_LOCK crlab).
set(CR_LAB_DIR /tmp/certroll-lab-ctest)
set(CR_LAB ${PROJECT_SOURCE_DIR}/tests/lab/lab)
set(CR_LAB_ENV CERTROLL_LAB_DIR=${CR_LAB_DIR} CR_BIN_DIR=${CR_BIN_DIR})

# cr_lab_test(<name> <timeout> COMMAND...) registers lab.<name>.
function(cr_lab_test name timeout)
  add_test(NAME lab.${name} COMMAND ${ARGN})
  set_tests_properties(lab.${name} PROPERTIES FIXTURES_REQUIRED crlab
    LABELS lab TIMEOUT ${timeout} SKIP_RETURN_CODE 77 RESOURCE_LOCK crlab
    ENVIRONMENT "${CR_LAB_ENV}")
endfunction()

add_test(NAME lab.up COMMAND ${PROJECT_SOURCE_DIR}/tests/integration/lab_up.sh)
add_test(NAME lab.down COMMAND ${PROJECT_SOURCE_DIR}/tests/integration/lab_down.sh)
# lab.up waits up to 8 minutes for another run's lab to be released.
set_tests_properties(lab.up PROPERTIES FIXTURES_SETUP crlab LABELS lab
  TIMEOUT 600 SKIP_RETURN_CODE 77 RESOURCE_LOCK crlab
  ENVIRONMENT "${CR_LAB_ENV}")
set_tests_properties(lab.down PROPERTIES FIXTURES_CLEANUP crlab LABELS lab
  TIMEOUT 120 SKIP_RETURN_CODE 77 RESOURCE_LOCK crlab
  ENVIRONMENT "${CR_LAB_ENV}")

# The real ssh and kubectl with the lab's files.
cr_lab_test(clients 120 ${PROJECT_SOURCE_DIR}/tests/integration/lab_clients.sh)
# Nodes, mirror pods and workloads Ready; kubectl drain and uncordon.
cr_lab_test(cluster 180 ${PROJECT_SOURCE_DIR}/tests/integration/lab_cluster.sh)

# test_remote runs inside the hub namespace, where the nodes are: host key
# rows, agent delivery by checksum, a node lost mid-command.
add_executable(test_remote unit/test_remote.c)
target_link_libraries(test_remote PRIVATE cr_cutest cr_defaults cr::cr_orch)
target_compile_definitions(test_remote PRIVATE
  CR_SOURCE_DIR="${PROJECT_SOURCE_DIR}" CR_BIN_DIR="${CR_BIN_DIR}")
cr_lab_test(remote 180 ${CR_LAB} exec -- $<TARGET_FILE:test_remote>)
set_property(TEST lab.remote APPEND PROPERTY ENVIRONMENT
  CR_TEST_FILTER=remote_lab)
# HELLO, INSPECT, HEALTH, BYE with the agent on every node at once.
cr_lab_test(agent_roundtrip 180 ${CR_LAB} exec -- $<TARGET_FILE:test_remote>)
set_property(TEST lab.agent_roundtrip APPEND PROPERTY ENVIRONMENT
  CR_TEST_FILTER=remote_serve)

# The lab's etcd monitor against a stand-in member on loopback: what counts
# as a failed write (a stale keep-alive connection does not). No lab needed.
find_package(Python3 COMPONENTS Interpreter QUIET)
if(Python3_Interpreter_FOUND)
  add_test(NAME unit.etcd_monitor COMMAND ${Python3_EXECUTABLE}
    ${PROJECT_SOURCE_DIR}/tests/lab/test_etcd_monitor.py)
  set_tests_properties(unit.etcd_monitor PROPERTIES LABELS unit TIMEOUT 120
    ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1")
endif()
# An etcd member renewed and restarted; quorum must hold (zero failed writes).
cr_lab_test(etcd_restart 180
  ${PROJECT_SOURCE_DIR}/tests/integration/lab_etcd_restart.sh)
# The agent restarts the leading etcd member: leadership handed off first,
# quorum kept throughout.
cr_lab_test(etcd_hand_off 180
  ${PROJECT_SOURCE_DIR}/tests/integration/lab_etcd_hand_off.sh)
# A PodDisruptionBudget that allows no disruption: plan names it, exits 1.
cr_lab_test(plan_blocked 240
  ${PROJECT_SOURCE_DIR}/tests/integration/lab_plan_blocked.sh)
# apply --plan FILE refuses a plan the cluster no longer matches.
cr_lab_test(plan_file 240
  ${PROJECT_SOURCE_DIR}/tests/integration/lab_plan_file.sh)
# A second apply refused by the lock; an operator's cordon kept.
cr_lab_test(apply_guards 420
  ${PROJECT_SOURCE_DIR}/tests/integration/lab_apply_guards.sh)
# An expired control plane: plan and apply point to recover, which renews it.
cr_lab_test(recover 480 ${PROJECT_SOURCE_DIR}/tests/integration/lab_recover.sh)
# certroll plan and apply end to end; new certificates served everywhere.
cr_lab_test(rollout 600 ${PROJECT_SOURCE_DIR}/tests/integration/lab_rollout.sh)

# Other areas register lab tests too (on the crlab fixture, some deferred
# to the end of the directory). Once all are declared: each takes the lab
# alone, and the tests that renew every certificate run last, in this
# order (lab.recover leaves a fresh lab behind for lab.rollout).
set(CR_LAB_LAST lab.apply_guards lab.recover lab.rollout)
function(cr_lab_serialize)
  get_property(tests DIRECTORY PROPERTY TESTS)
  set(before "")
  foreach(t IN LISTS tests)
    get_test_property(${t} FIXTURES_REQUIRED fx)
    if(fx STREQUAL "crlab")
      set_property(TEST ${t} PROPERTY RESOURCE_LOCK crlab)
      if(NOT t IN_LIST CR_LAB_LAST)
        list(APPEND before ${t})
      endif()
    endif()
  endforeach()
  foreach(t IN LISTS CR_LAB_LAST)
    set_tests_properties(${t} PROPERTIES DEPENDS "${before}")
    list(APPEND before ${t})
  endforeach()
endfunction()
cmake_language(DEFER CALL cr_lab_serialize)
