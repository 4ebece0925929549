# proto: the orchestrator/agent protocol (hermetic: socketpairs, pipes, fork).
cr_unit_test(proto_frame LIBS cr::cr_proto)
cr_unit_test(proto_msg LIBS cr::cr_proto)
cr_unit_test(proto_state LIBS cr::cr_proto)
cr_unit_test(proto_io LIBS cr::cr_proto)
