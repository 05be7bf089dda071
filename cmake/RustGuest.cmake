# wop_add_rust_operator(<name> CRATE <folder>)
#
# Builds an operator written in Rust with the Rust SDK (sdk-rust/, docs/sdk-rust.md): the
# cdylib crate in <folder> is built by cargo for wasm32-wasi into
# ${CMAKE_BINARY_DIR}/wasm/<name>.wasm. Creates target <name> and sets <name>_WASM.
#
# Debian's toolchain only (/usr/bin/cargo, /usr/bin/rustc 1.63, libstd-rust-dev-wasm32; never a
# rustup toolchain from PATH): cargo runs with CARGO_HOME in the build tree, so no user config
# is read, offline and --locked, so the build uses no registry and the crate's Cargo.lock as
# committed. The cargo target folder is in the build tree too.
#
# Linking: Debian's rustc would link with rust-lld (lld-14, not installed); we use
# wasm-ld-${WOP_LLVM_MAJOR} through cmake/rust-wasm-ld.sh, which says why it edits the rlibs.
# The stack is 64 KiB, wasm-ld's default for the C++ guests (rustc asks for 1 MiB): a
# reconcile's state lives in its future on the heap, not on the stack.
find_program(WOP_CARGO NAMES cargo PATHS /usr/bin NO_DEFAULT_PATH)
find_program(WOP_RUSTC NAMES rustc PATHS /usr/bin NO_DEFAULT_PATH)
find_program(WOP_WASM_LD NAMES wasm-ld-${WOP_LLVM_MAJOR})
if(NOT WOP_CARGO OR NOT WOP_RUSTC OR NOT WOP_WASM_LD)
  message(FATAL_ERROR "Rust guests need /usr/bin/cargo, /usr/bin/rustc and wasm-ld-${WOP_LLVM_MAJOR} "
                      "(scripts/setup-apt.sh installs cargo, rustc, libstd-rust-dev-wasm32 and lld)")
endif()
execute_process(COMMAND ${WOP_RUSTC} --print sysroot OUTPUT_VARIABLE rust_sysroot
                OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT EXISTS "${rust_sysroot}/lib/rustlib/wasm32-wasi/lib")
  message(FATAL_ERROR "${WOP_RUSTC} has no wasm32-wasi standard library in ${rust_sysroot}/lib/rustlib "
                      "(Debian package libstd-rust-dev-wasm32, installed by scripts/setup-apt.sh)")
endif()

set(WOP_CARGO_TARGET_DIR "${CMAKE_BINARY_DIR}/cargo-target")
set(WOP_RUST_STACK_BYTES 65536)

function(wop_add_rust_operator name)
  cmake_parse_arguments(ARG "" "CRATE" "" ${ARGN})
  get_filename_component(crate "${ARG_CRATE}" ABSOLUTE)
  # The cdylib's file name: the package name with '-' as '_'.
  file(STRINGS "${crate}/Cargo.toml" package_line REGEX "^name = " LIMIT_COUNT 1)
  string(REGEX REPLACE "^name = \"([^\"]+)\".*" "\\1" package "${package_line}")
  string(REPLACE "-" "_" library "${package}")
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS
       "${crate}/src/*.rs" "${PROJECT_SOURCE_DIR}/sdk-rust/src/*.rs")
  set(built "${WOP_CARGO_TARGET_DIR}/wasm32-wasi/release/${library}.wasm")
  set(output "${CMAKE_BINARY_DIR}/wasm/${name}.wasm")
  add_custom_command(
    OUTPUT "${output}"
    COMMAND ${CMAKE_COMMAND} -E env
            "CARGO_HOME=${CMAKE_BINARY_DIR}/cargo-home"
            "RUSTC=${WOP_RUSTC}"
            "CARGO_TARGET_WASM32_WASI_LINKER=${PROJECT_SOURCE_DIR}/cmake/rust-wasm-ld.sh"
            "CARGO_TARGET_WASM32_WASI_RUSTFLAGS=-C link-arg=-zstack-size=${WOP_RUST_STACK_BYTES} -D warnings"
            "WOP_WASM_LD=${WOP_WASM_LD}"
            "WOP_RUST_LINK_DIR=${CMAKE_BINARY_DIR}/cargo-link"
            ${WOP_CARGO} build --quiet --offline --locked --release --target wasm32-wasi
            --manifest-path "${crate}/Cargo.toml" --target-dir "${WOP_CARGO_TARGET_DIR}"
    COMMAND ${CMAKE_COMMAND} -E make_directory "${CMAKE_BINARY_DIR}/wasm"
    COMMAND ${CMAKE_COMMAND} -E copy "${built}" "${output}"
    DEPENDS ${sources} "${crate}/Cargo.toml" "${crate}/Cargo.lock"
            "${PROJECT_SOURCE_DIR}/sdk-rust/Cargo.toml" "${PROJECT_SOURCE_DIR}/cmake/rust-wasm-ld.sh"
    COMMENT "Building Rust wasm guest ${name}"
    VERBATIM)
  add_custom_target(${name} ALL DEPENDS "${output}")
  set(${name}_WASM "${output}" PARENT_SCOPE)
endfunction()

# The Rust SDK's own tests (sdk-rust/tests, and the JSON reader's), natively against its fake
# host: `cargo test` with the same Debian toolchain, offline. Added as a ctest by test/.
function(wop_add_rust_sdk_test name)
  add_test(NAME ${name}
    COMMAND ${CMAKE_COMMAND} -E env
            "CARGO_HOME=${CMAKE_BINARY_DIR}/cargo-home"
            "RUSTC=${WOP_RUSTC}"
            "RUSTDOC=/usr/bin/rustdoc"
            ${WOP_CARGO} test --quiet --offline --locked
            --manifest-path "${PROJECT_SOURCE_DIR}/sdk-rust/Cargo.toml" --target-dir "${WOP_CARGO_TARGET_DIR}")
  set_tests_properties(${name} PROPERTIES LABELS unit TIMEOUT 600)
endfunction()
