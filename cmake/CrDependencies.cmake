# Third-party libraries, each exposed as one target cr::<lib>.
#
# The agent is copied to nodes that have no build tools, so it links OpenSSL,
# json-c and libyaml statically; everything else links the shared libraries.
# A consuming executable chooses with the boolean property CR_STATIC_DEPS:
# the generator expression below is evaluated for the executable that is
# finally linked, so the component libraries in between stay neutral.
find_package(PkgConfig REQUIRED)

find_package(OpenSSL 3.0 REQUIRED)      # OpenSSL::SSL, OpenSSL::Crypto
find_package(CURL 7.68 REQUIRED)        # CURL::libcurl

find_package(json-c CONFIG QUIET)       # json-c::json-c (ships a config)
if(NOT TARGET json-c::json-c)
  pkg_check_modules(JSONC REQUIRED IMPORTED_TARGET json-c)
  add_library(json-c::json-c ALIAS PkgConfig::JSONC)
endif()

pkg_check_modules(LIBSSH2 REQUIRED IMPORTED_TARGET libssh2>=1.9)
pkg_check_modules(YAML REQUIRED IMPORTED_TARGET yaml-0.1)
if(BUILD_TESTING)
  pkg_check_modules(CUNIT REQUIRED IMPORTED_TARGET cunit)
endif()

# cr_dep(<name> <shared-target> <static archive names...>)
function(cr_dep name shared)
  set(archives)
  foreach(a IN LISTS ARGN)
    find_library(CR_STATIC_${a} NAMES lib${a}.a)
    if(NOT CR_STATIC_${a})
      message(FATAL_ERROR "static lib${a}.a not found (needed for the agent)")
    endif()
    list(APPEND archives ${CR_STATIC_${a}})
  endforeach()
  add_library(cr_dep_${name} INTERFACE)
  add_library(cr::${name} ALIAS cr_dep_${name})
  target_include_directories(cr_dep_${name} SYSTEM INTERFACE
    $<TARGET_PROPERTY:${shared},INTERFACE_INCLUDE_DIRECTORIES>)
  set(is_static "$<BOOL:$<TARGET_PROPERTY:CR_STATIC_DEPS>>")
  target_link_libraries(cr_dep_${name} INTERFACE
    "$<IF:${is_static},${archives},${shared}>")
endfunction()

cr_dep(crypto OpenSSL::Crypto crypto)
cr_dep(ssl OpenSSL::SSL ssl crypto)
cr_dep(jsonc json-c::json-c json-c)
cr_dep(yaml PkgConfig::YAML yaml)
