// A guest of one memory page that grows, loads and stores at any address and tells its size in
// pages: the memory-layout tests' guest (engine_test.cc, runtime/wasm_operator_guest_test.cc).
#pragma once

namespace wop::test {

constexpr const char* kMemoryGuest = R"((module
    (memory (export "memory") 1)
    (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
    (func (export "pages") (result i32) (memory.size))
    (func (export "store") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
    (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))))";

}  // namespace wop::test
