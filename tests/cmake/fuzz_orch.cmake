# libFuzzer targets for what the orchestrator reads (fuzz preset only):
# Kubernetes API answers and kubeadm's ClusterConfiguration, kubeconfigs;
# seeds in tests/fuzz/corpus/api_json and kubeconfig. Deferred to the end
# of the directory, where cr_fuzz_target() is defined.
cmake_language(DEFER CALL cr_fuzz_target api_json LIBS cr::cr_orch)
cmake_language(DEFER CALL cr_fuzz_target kubeconfig LIBS cr::cr_orch
  cr::crypto)
