# wop_add_wasm_module(<name> SOURCES <files...> [DEFINES <defs...>] [SDK])
#
# Builds <name>.wasm from C++ sources with clang for wasm32-wasi as a reactor (the host calls
# _initialize once; state survives between entries), without exceptions and without debug
# info (the name section stays, so traps name functions), into
# ${CMAKE_BINARY_DIR}/wasm/<name>.wasm. Creates target <name> and sets <name>_WASM to the path.
# With SDK, the sources may include <wop/...> and the module links the guest SDK (sdk/), whose
# glue provides every export: see wop_add_operator.
#
# Included by this project's CMakeLists.txt (the SDK's objects then come from sdk/'s build)
# and, installed, by WopSdkConfig.cmake, which first sets WOP_ABI_INCLUDE_DIR,
# WOP_SDK_INCLUDE_DIR, WOP_SDK_WASM_OBJECTS and WOP_LLVM_MAJOR to the installed SDK's: nothing
# here may assume the including project's source folder (an outside project has no abi/).
if(NOT DEFINED WOP_ABI_INCLUDE_DIR)
  set(WOP_ABI_INCLUDE_DIR "${CMAKE_CURRENT_LIST_DIR}/../abi")
endif()
if(NOT DEFINED WOP_SDK_INCLUDE_DIR)
  set(WOP_SDK_INCLUDE_DIR "${CMAKE_CURRENT_LIST_DIR}/../sdk/include")
endif()
find_program(WOP_WASM_CXX NAMES clang++-${WOP_LLVM_MAJOR} REQUIRED)
find_path(WOP_NLOHMANN_INCLUDE nlohmann/json.hpp REQUIRED)

# The guest cannot put /usr/include on its path (it would pick up the host's libc headers),
# so header-only libraries it uses are linked into a folder of their own.
set(WOP_GUEST_INCLUDE "${CMAKE_BINARY_DIR}/guest-include")
file(MAKE_DIRECTORY "${WOP_GUEST_INCLUDE}")
file(CREATE_LINK "${WOP_NLOHMANN_INCLUDE}/nlohmann" "${WOP_GUEST_INCLUDE}/nlohmann" SYMBOLIC)

# -flto: the SDK and the operator are optimised as one program at link time, which drops what
# the operator does not use (ring.wasm: 300 -> 214 KB), and so compiled code per operator.
set(WOP_GUEST_FLAGS
  --target=wasm32-wasi -std=c++20 -O2 -flto -fno-exceptions
  -DJSON_NOEXCEPTION -Wall -Wextra -Werror
  -isystem "${WOP_GUEST_INCLUDE}" -I "${WOP_ABI_INCLUDE_DIR}")

# wop_compile_wasm_objects(<out-var> <objdir> SOURCES <files...> [FLAGS <flags...>])
# One custom command per source; sets <out-var> to the object files.
function(wop_compile_wasm_objects out objdir)
  cmake_parse_arguments(ARG "" "" "SOURCES;FLAGS" ${ARGN})
  set(objects "")
  foreach(source IN LISTS ARG_SOURCES)
    get_filename_component(source "${source}" ABSOLUTE)
    get_filename_component(stem "${source}" NAME_WE)
    set(object "${objdir}/${stem}.o")
    add_custom_command(
      OUTPUT "${object}"
      COMMAND ${CMAKE_COMMAND} -E make_directory "${objdir}"
      COMMAND ${WOP_WASM_CXX} ${WOP_GUEST_FLAGS} ${ARG_FLAGS} -MD -MF "${object}.d"
              -c "${source}" -o "${object}"
      DEPENDS "${source}"
      DEPFILE "${object}.d"
      COMMENT "Compiling wasm guest code: ${stem}"
      VERBATIM)
    list(APPEND objects "${object}")
  endforeach()
  set(${out} "${objects}" PARENT_SCOPE)
endfunction()

function(wop_add_wasm_module name)
  cmake_parse_arguments(ARG "SDK" "" "SOURCES;DEFINES" ${ARGN})
  list(APPEND ARG_SOURCES ${ARG_UNPARSED_ARGUMENTS})  # wop_add_operator(name a.cc b.cc)
  set(output "${CMAKE_BINARY_DIR}/wasm/${name}.wasm")
  set(flags "")
  foreach(define IN LISTS ARG_DEFINES)
    list(APPEND flags "-D${define}")
  endforeach()
  set(sdk_objects "")
  if(ARG_SDK)
    if(DEFINED WOP_SDK_WASM_OBJECTS)  # the installed SDK
      set(sdk_objects ${WOP_SDK_WASM_OBJECTS})
    else()
      get_property(sdk_objects GLOBAL PROPERTY WOP_SDK_WASM_OBJECTS)
    endif()
    if(NOT sdk_objects)
      message(FATAL_ERROR "wop_add_wasm_module(${name} SDK): add_subdirectory(sdk) comes first")
    endif()
    list(APPEND flags -I "${WOP_SDK_INCLUDE_DIR}")
  endif()
  wop_compile_wasm_objects(objects "${CMAKE_CURRENT_BINARY_DIR}/${name}.wasm-objects"
                           SOURCES ${ARG_SOURCES} FLAGS ${flags})
  add_custom_command(
    OUTPUT "${output}"
    COMMAND ${CMAKE_COMMAND} -E make_directory "${CMAKE_BINARY_DIR}/wasm"
    COMMAND ${WOP_WASM_CXX} --target=wasm32-wasi -flto -O2 -mexec-model=reactor -Wl,--strip-debug
            ${objects} ${sdk_objects} -o "${output}"
    DEPENDS ${objects} ${sdk_objects}
    COMMENT "Linking wasm guest ${name}"
    VERBATIM)
  add_custom_target(${name} ALL DEPENDS "${output}")
  if(ARG_SDK AND TARGET wop_sdk_wasm)
    add_dependencies(${name} wop_sdk_wasm)
  endif()
  set(${name}_WASM "${output}" PARENT_SCOPE)
endfunction()

# wop_add_operator(<name> [SOURCES] <files...> [DEFINES <defs...>])
#
# An operator written with the guest SDK (docs/sdk.md), in one line: builds
# ${CMAKE_BINARY_DIR}/wasm/<name>.wasm from the sources plus the SDK. The sources define the
# operator with WOP_OPERATOR(Type); the SDK's glue provides every ABI export.
function(wop_add_operator name)
  wop_add_wasm_module(${name} SDK ${ARGN})
  set(${name}_WASM "${${name}_WASM}" PARENT_SCOPE)
endfunction()
