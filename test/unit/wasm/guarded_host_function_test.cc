#include "wasm/guarded_host_function.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <new>
#include <stdexcept>
#include <string>

namespace wop::wasm {
namespace {

using ::testing::HasSubstr;

// A guest that calls each host function it imports through one export per function.
constexpr const char* kGuest = R"wat((module
  (import "host" "twice" (func $twice (param i32) (result i32)))
  (import "host" "noop" (func $noop (param i32)))
  (import "host" "checked" (func $checked (param i32) (result i32)))
  (import "host" "plain" (func $plain (param i32) (result i32)))
  (func (export "call_twice") (param i32) (result i32) local.get 0 call $twice)
  (func (export "call_noop") (param i32) local.get 0 call $noop)
  (func (export "call_checked") (param i32) (result i32) local.get 0 call $checked)
  (func (export "call_plain") (param i32) (result i32) local.get 0 call $plain)))wat";

// Throws for its magic arguments: 1 a std::exception, 2 bad_alloc, 3 something else.
void throwFor(int32_t x) {
  if (x == 1) throw std::runtime_error("the map had no such key\nsecond line");
  if (x == 2) throw std::bad_alloc();
  if (x == 3) throw 42;
}

int32_t plainFunction(int32_t x) {
  throwFor(x);
  return x + 1;
}

class GuardedHostFunctionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    wasmtime::Linker linker(engine_);
    ASSERT_TRUE(linker.func_wrap("host", "twice",
                                 guardHostFunction("host_twice", [](wasmtime::Caller, int32_t x) {
                                   throwFor(x);
                                   return x * 2;
                                 })));
    ASSERT_TRUE(linker.func_wrap("host", "noop", guardHostFunction("host_noop", [this](int32_t x) {
                                   throwFor(x);
                                   ++noops_;
                                 })));
    ASSERT_TRUE(linker.func_wrap(
        "host", "checked",
        guardHostFunction("host_checked",
                          [](int32_t x) -> wasmtime::Result<int32_t, wasmtime::Trap> {
                            if (x < 0) return wasmtime::Trap("negative argument");
                            throwFor(x);
                            return x;
                          })));
    ASSERT_TRUE(linker.func_wrap("host", "plain", guardHostFunction("host_plain", plainFunction)));
    auto module = wasmtime::Module::compile(engine_, kGuest);
    ASSERT_TRUE(module) << module.err().message();
    auto instance = linker.instantiate(store_, module.unwrap());
    ASSERT_TRUE(instance) << instance.err().message();
    instance_ = instance.unwrap();
  }

  // Calls export name with x: its i32 result (0 for none), or the trap's message.
  std::variant<int32_t, std::string> call(std::string_view name, int32_t x) {
    auto exported = instance_->get(store_, name);
    auto results = std::get<wasmtime::Func>(*exported).call(store_, {wasmtime::Val(x)});
    if (!results) return results.err().message();
    auto values = results.unwrap();
    return values.empty() ? 0 : values[0].i32();
  }

  wasmtime::Engine engine_;
  wasmtime::Store store_{engine_};
  std::optional<wasmtime::Instance> instance_;
  int noops_ = 0;
};

TEST_F(GuardedHostFunctionTest, AFunctionThatDoesNotThrowWorksAsBefore) {
  EXPECT_EQ(std::get<int32_t>(call("call_twice", 21)), 42);
  EXPECT_EQ(std::get<int32_t>(call("call_noop", 7)), 0);
  EXPECT_EQ(noops_, 1);
  EXPECT_EQ(std::get<int32_t>(call("call_checked", 9)), 9);
  EXPECT_EQ(std::get<int32_t>(call("call_plain", 9)), 10);
}

TEST_F(GuardedHostFunctionTest, AnExceptionTrapsTheGuestWithTheFunctionAndTheReason) {
  auto trapped = call("call_twice", 1);
  ASSERT_TRUE(std::holds_alternative<std::string>(trapped));
  // One line: the newline of what() is escaped.
  EXPECT_THAT(std::get<std::string>(trapped),
              HasSubstr("host_twice: the map had no such key\\nsecond line"));
}

TEST_F(GuardedHostFunctionTest, OutOfMemoryAndForeignExceptionsAreNamed) {
  EXPECT_THAT(std::get<std::string>(call("call_noop", 2)), HasSubstr("host_noop: out of memory"));
  EXPECT_THAT(std::get<std::string>(call("call_plain", 3)),
              HasSubstr("host_plain: an exception that is not a std::exception"));
  EXPECT_THAT(std::get<std::string>(call("call_checked", 1)),
              HasSubstr("host_checked: the map had no such key"));
}

TEST_F(GuardedHostFunctionTest, ATrapTheFunctionReturnsStillTrapsAsItself) {
  EXPECT_THAT(std::get<std::string>(call("call_checked", -1)), HasSubstr("negative argument"));
}

TEST_F(GuardedHostFunctionTest, TheStoreIsUsableAfterEveryKindOfException) {
  for (int32_t x : {1, 2, 3}) {
    SCOPED_TRACE(x);
    EXPECT_TRUE(std::holds_alternative<std::string>(call("call_twice", x)));
    EXPECT_EQ(std::get<int32_t>(call("call_twice", 5)), 10);
    EXPECT_TRUE(std::holds_alternative<std::string>(call("call_noop", x)));
    EXPECT_EQ(std::get<int32_t>(call("call_noop", 5)), 0);
  }
  EXPECT_EQ(noops_, 3);
}

}  // namespace
}  // namespace wop::wasm
