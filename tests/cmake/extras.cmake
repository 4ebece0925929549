# extras: certroll check (orchestrator/check.c) and certroll kubeconfig
# refresh (orchestrator/kcrefresh.c).
cr_unit_test(check LIBS cr::cr_orch cr::crypto SOURCES support/certtest.c)
add_dependencies(test_check certroll-agent certroll-pkigen)
cr_unit_test(kcrefresh LIBS cr::cr_orch cr::crypto SOURCES support/certtest.c)
add_dependencies(test_kcrefresh certroll-pkigen)
