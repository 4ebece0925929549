# Compile settings every first-party target links PRIVATE.
add_library(cr_defaults INTERFACE)
target_compile_definitions(cr_defaults INTERFACE _POSIX_C_SOURCE=200809L
  CERTROLL_VERSION="${PROJECT_VERSION}")
target_compile_options(cr_defaults INTERFACE
  -Wall -Wextra -Wpedantic
  -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wold-style-definition
  -Wformat=2 -Wvla -Wcast-qual -Wpointer-arith -Wundef -Wnull-dereference
  $<$<C_COMPILER_ID:GNU>:-Wduplicated-cond -Wlogical-op -Wjump-misses-init>)

# cr_component(<name> SOURCES <.c...> [DEPS <targets...>] [PRIVATE_DEPS ...])
# One static library per component; its folder is its public include dir.
function(cr_component name)
  cmake_parse_arguments(PARSE_ARGV 1 C "" "" "SOURCES;DEPS;PRIVATE_DEPS")
  add_library(${name} STATIC ${C_SOURCES})
  add_library(cr::${name} ALIAS ${name})
  target_include_directories(${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(${name}
    PUBLIC ${C_DEPS}
    PRIVATE cr_defaults ${C_PRIVATE_DEPS})
endfunction()

# cr_program(<name> SOURCES <.c...> LIBS <targets...>) builds one of the two
# programs into CR_BIN_DIR.
function(cr_program name)
  cmake_parse_arguments(PARSE_ARGV 1 P "" "" "SOURCES;LIBS")
  add_executable(${name} ${P_SOURCES})
  target_link_libraries(${name} PRIVATE cr_defaults ${P_LIBS})
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CR_BIN_DIR})
endfunction()
