# Imports the Wasmtime C/C++ API built by scripts/setup-wasmtime.sh as target wasmtime::wasmtime.
# WOP_WASMTIME_PREFIX comes from build/deps.cmake, written by scripts/setup.sh.
if(NOT WOP_WASMTIME_PREFIX OR NOT EXISTS "${WOP_WASMTIME_PREFIX}/include/wasmtime.hh")
  message(FATAL_ERROR "Wasmtime C API not found (WOP_WASMTIME_PREFIX='${WOP_WASMTIME_PREFIX}'); "
                      "run scripts/setup.sh or use `make test`, which runs it")
endif()
add_library(wasmtime::wasmtime SHARED IMPORTED GLOBAL)
set_target_properties(wasmtime::wasmtime PROPERTIES
  IMPORTED_LOCATION "${WOP_WASMTIME_PREFIX}/lib/libwasmtime.so"
  IMPORTED_SONAME "libwasmtime.so"
  INTERFACE_INCLUDE_DIRECTORIES "${WOP_WASMTIME_PREFIX}/include")
# The library lives in the cache, not on the system path: executables find it by rpath.
set(CMAKE_BUILD_RPATH "${WOP_WASMTIME_PREFIX}/lib")
