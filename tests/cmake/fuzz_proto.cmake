# libFuzzer targets for the protocol (fuzz preset only); seeds in
# tests/fuzz/corpus/proto_frame and proto_msg. Deferred to the end of the
# directory so the order of cr_fuzz_target() and this include never matters.
cmake_language(DEFER CALL cr_fuzz_target proto_frame LIBS cr::cr_proto)
cmake_language(DEFER CALL cr_fuzz_target proto_msg LIBS cr::cr_proto)
