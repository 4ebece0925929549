# libFuzzer targets for the agent (fuzz preset only): the etcd snapshot
# stream parser, and requests to "certroll-agent serve", which runs
# certroll-pkigen for its scratch tree; seeds in
# tests/fuzz/corpus/snapshot_stream and agent_request. Deferred to the end
# of the directory, where cr_fuzz_target() and certroll-pkigen are defined.
cmake_language(DEFER CALL cr_fuzz_target snapshot_stream LIBS cr::cr_agent
  cr::crypto)
cmake_language(DEFER CALL cr_fuzz_target agent_request LIBS cr::cr_agent)
if(CR_FUZZ)
  cmake_language(DEFER CALL target_compile_definitions fuzz_agent_request
    PRIVATE "CR_BIN_DIR=\"${CR_BIN_DIR}\"")
  cmake_language(DEFER CALL add_dependencies fuzz_agent_request
    certroll-pkigen)
endif()
