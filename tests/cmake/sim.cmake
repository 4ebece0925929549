# The Kubernetes API simulator and the node stand-ins (tests/sim), tested
# with Python's unittest and the real kubectl. Label sim. See
# docs/simulator.md.
find_package(Python3 COMPONENTS Interpreter QUIET)
if(NOT Python3_Interpreter_FOUND)
  message(STATUS "sim: python3 not found, simulator tests not registered")
  return()
endif()

set(CR_SIM_DIR ${CMAKE_CURRENT_SOURCE_DIR}/sim)
set(CR_KUBESIM ${CR_SIM_DIR}/kubesim)
set(CR_KUBESIM_CTL ${CR_SIM_DIR}/kubesim-ctl)

# cr_sim_test(<module> [TIMEOUT s]) runs tests/sim/tests/test_<module>.py;
# exit 77 (skipped) when the module cannot run here, e.g. no kubectl.
function(cr_sim_test module)
  cmake_parse_arguments(PARSE_ARGV 1 S "" "TIMEOUT" "")
  if(NOT S_TIMEOUT)
    set(S_TIMEOUT 300)
  endif()
  add_test(NAME sim.${module}
    COMMAND ${Python3_EXECUTABLE} ${CR_SIM_DIR}/tests/run.py test_${module})
  set_tests_properties(sim.${module} PROPERTIES LABELS sim
    TIMEOUT ${S_TIMEOUT} SKIP_RETURN_CODE 77
    ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1")
endfunction()

cr_sim_test(units TIMEOUT 60)
cr_sim_test(registry TIMEOUT 120)
cr_sim_test(http)
cr_sim_test(frontend)
cr_sim_test(kubelet)
cr_sim_test(kubectl)
cr_sim_test(kubectl_drain TIMEOUT 600)

# Fixture "kubesim" for other areas' tests: one kubesim for the whole ctest
# run, its admin kubeconfig at ${CMAKE_BINARY_DIR}/tests/kubesim-fixture/
# kubeconfig. Use: set_tests_properties(T PROPERTIES FIXTURES_REQUIRED
# kubesim). Tests sharing it must use their own namespaces and node names.
set(CR_KUBESIM_FIXTURE_DIR ${CMAKE_BINARY_DIR}/tests/kubesim-fixture)
add_test(NAME sim.fixture.start
  COMMAND ${Python3_EXECUTABLE} ${CR_KUBESIM_CTL} start
          --state-dir ${CR_KUBESIM_FIXTURE_DIR})
add_test(NAME sim.fixture.stop
  COMMAND ${Python3_EXECUTABLE} ${CR_KUBESIM_CTL} stop
          --state-dir ${CR_KUBESIM_FIXTURE_DIR})
set_tests_properties(sim.fixture.start PROPERTIES FIXTURES_SETUP kubesim
  LABELS sim TIMEOUT 60 ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1")
set_tests_properties(sim.fixture.stop PROPERTIES FIXTURES_CLEANUP kubesim
  LABELS sim TIMEOUT 60 ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1")
