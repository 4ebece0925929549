# kube: the orchestrator's Kubernetes side (kubeconfig, API client, drain,
# the rollout Lease, kubeadm's ClusterConfiguration).
cr_unit_test(kubecfg LIBS cr::cr_orch cr::crypto)
# Tests against kubesim run the same program with "sim" (label sim).
cr_unit_test(kube LIBS cr::cr_orch SOURCES support/kubesim_fix.c
  support/bgproc.c)
add_test(NAME sim.kube COMMAND test_kube sim)
set_tests_properties(sim.kube PROPERTIES LABELS sim TIMEOUT 300)
cr_unit_test(drain LIBS cr::cr_orch SOURCES support/kubesim_fix.c
  support/bgproc.c)
add_test(NAME sim.drain COMMAND test_drain sim)
set_tests_properties(sim.drain PROPERTIES LABELS sim TIMEOUT 600)
cr_unit_test(lock LIBS cr::cr_orch SOURCES support/kubesim_fix.c
  support/bgproc.c)
add_test(NAME sim.lock COMMAND test_lock sim)
set_tests_properties(sim.lock PROPERTIES LABELS sim TIMEOUT 300)
cr_unit_test(kubeadmcfg LIBS cr::cr_orch SOURCES support/kubesim_fix.c
  support/bgproc.c)
add_test(NAME sim.kubeadmcfg COMMAND test_kubeadmcfg sim)
set_tests_properties(sim.kubeadmcfg PROPERTIES LABELS sim TIMEOUT 120)
# The same pods drained by the real kubectl and by certroll, side by side.
add_test(NAME sim.drain_vs_kubectl
  COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/integration/drain_vs_kubectl.py
    --certroll $<TARGET_FILE:certroll>
    --kubesim ${PROJECT_SOURCE_DIR}/tests/sim/kubesim)
set_tests_properties(sim.drain_vs_kubectl PROPERTIES LABELS "sim;integration"
  TIMEOUT 300 SKIP_RETURN_CODE 77)
add_dependencies(test_kube certroll)
