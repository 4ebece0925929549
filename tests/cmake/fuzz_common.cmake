# libFuzzer targets for common/ (fuzz preset only): YAML trees and PEM
# certificates and keys; seeds in tests/fuzz/corpus/ydoc and pem. fuzz_pem
# also links the orchestrator for kubecfg_pem_cert(). Deferred to the end
# of the directory, where cr_fuzz_target() is defined.
cmake_language(DEFER CALL cr_fuzz_target ydoc LIBS cr::cr_common)
cmake_language(DEFER CALL cr_fuzz_target pem LIBS cr::cr_orch cr::crypto)
