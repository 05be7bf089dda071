# wop_add_wasm_module(<name> SOURCES <files...> [DEFINES <defs...>])
#
# Builds <name>.wasm from C++ sources with clang for wasm32-wasi as a reactor (the host calls
# _initialize once; state survives between entries), without exceptions and without debug
# info (the name section stays, so traps name functions), into
# ${CMAKE_BINARY_DIR}/wasm/<name>.wasm. Creates target <name> and sets <name>_WASM to the path.
find_program(WOP_WASM_CXX NAMES clang++-${WOP_LLVM_MAJOR} REQUIRED)
find_path(WOP_NLOHMANN_INCLUDE nlohmann/json.hpp REQUIRED)

# The guest cannot put /usr/include on its path (it would pick up the host's libc headers),
# so header-only libraries it uses are linked into a folder of their own.
set(WOP_GUEST_INCLUDE "${CMAKE_BINARY_DIR}/guest-include")
file(MAKE_DIRECTORY "${WOP_GUEST_INCLUDE}")
file(CREATE_LINK "${WOP_NLOHMANN_INCLUDE}/nlohmann" "${WOP_GUEST_INCLUDE}/nlohmann" SYMBOLIC)

set(WOP_GUEST_FLAGS
  --target=wasm32-wasi -std=c++20 -O2 -fno-exceptions
  -DJSON_NOEXCEPTION -Wall -Wextra -Werror
  -isystem "${WOP_GUEST_INCLUDE}" -I "${PROJECT_SOURCE_DIR}/abi")

function(wop_add_wasm_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEFINES" ${ARGN})
  set(output "${CMAKE_BINARY_DIR}/wasm/${name}.wasm")
  set(objdir "${CMAKE_CURRENT_BINARY_DIR}/${name}.wasm-objects")
  set(defines "")
  foreach(define IN LISTS ARG_DEFINES)
    list(APPEND defines "-D${define}")
  endforeach()
  set(objects "")
  foreach(source IN LISTS ARG_SOURCES)
    get_filename_component(source "${source}" ABSOLUTE)
    get_filename_component(stem "${source}" NAME_WE)
    set(object "${objdir}/${stem}.o")
    add_custom_command(
      OUTPUT "${object}"
      COMMAND ${CMAKE_COMMAND} -E make_directory "${objdir}"
      COMMAND ${WOP_WASM_CXX} ${WOP_GUEST_FLAGS} ${defines} -MD -MF "${object}.d"
              -c "${source}" -o "${object}"
      DEPENDS "${source}"
      DEPFILE "${object}.d"
      COMMENT "Compiling wasm guest ${name}: ${stem}"
      VERBATIM)
    list(APPEND objects "${object}")
  endforeach()
  add_custom_command(
    OUTPUT "${output}"
    COMMAND ${CMAKE_COMMAND} -E make_directory "${CMAKE_BINARY_DIR}/wasm"
    COMMAND ${WOP_WASM_CXX} --target=wasm32-wasi -mexec-model=reactor -Wl,--strip-debug
            ${objects} -o "${output}"
    DEPENDS ${objects}
    COMMENT "Linking wasm guest ${name}"
    VERBATIM)
  add_custom_target(${name} ALL DEPENDS "${output}")
  set(${name}_WASM "${output}" PARENT_SCOPE)
endfunction()
