cr_unit_test(node LIBS cr::cr_orch)
cr_unit_test(journal LIBS cr::cr_orch)
cr_unit_test(runlog LIBS cr::cr_orch)
cr_unit_test(progress LIBS cr::cr_orch)
