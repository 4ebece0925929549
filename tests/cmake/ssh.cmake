# The SSH transport (orchestrator/ssh.c, knownhosts.c) against a real sshd
# started on 127.0.0.N by tests/lab/sshd_fixture.c: no root needed.
cr_unit_test(knownhosts LIBS cr::cr_orch cr::crypto
  SOURCES lab/sshd_fixture.c)
target_include_directories(test_knownhosts PRIVATE lab)
set_tests_properties(unit.knownhosts PROPERTIES SKIP_RETURN_CODE 77)
cr_unit_test(ssh LIBS cr::cr_orch SOURCES lab/sshd_fixture.c TIMEOUT 60)
target_include_directories(test_ssh PRIVATE lab)
set_tests_properties(unit.ssh PROPERTIES SKIP_RETURN_CODE 77
  ENVIRONMENT CR_TEST_FILTER=ssh)
# The same program's rows that wait out keepalive intervals (~8 s).
add_test(NAME slow.ssh_slow COMMAND test_ssh)
set_tests_properties(slow.ssh_slow PROPERTIES LABELS slow TIMEOUT 120
  SKIP_RETURN_CODE 77 ENVIRONMENT CR_TEST_FILTER=ssh_slow)
