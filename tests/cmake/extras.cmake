# extras: certroll check (orchestrator/check.c) and certroll kubeconfig
# refresh (orchestrator/kcrefresh.c).
cr_unit_test(check LIBS cr::cr_orch cr::crypto SOURCES support/certtest.c)
add_dependencies(test_check certroll-agent certroll-pkigen)
cr_unit_test(kcrefresh LIBS cr::cr_orch cr::crypto SOURCES support/certtest.c)
add_dependencies(test_kcrefresh certroll-pkigen)

# End to end on the lab, sharing lab.cmake's crlab fixture. lab.cmake is
# read after this file, so the tests are declared once the directory is
# done and its CR_LAB_ENV exists.
function(cr_extras_lab_tests)
  foreach(t check kubeconfig)
    add_test(NAME lab.${t}
      COMMAND ${PROJECT_SOURCE_DIR}/tests/integration/${t}_lab.sh)
    set_tests_properties(lab.${t} PROPERTIES FIXTURES_REQUIRED crlab
      LABELS lab TIMEOUT 300 SKIP_RETURN_CODE 77
      ENVIRONMENT "${CR_LAB_ENV}")
  endforeach()
  # refresh renews cp1 for a while; check reads the lab as lab.up made it.
  set_tests_properties(lab.kubeconfig PROPERTIES DEPENDS lab.check)
endfunction()
cmake_language(DEFER CALL cr_extras_lab_tests)
