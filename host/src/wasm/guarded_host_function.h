// The error boundary of every host function: Wasmtime calls host functions from its own
// (Rust) frames, which a C++ exception must never unwind. guardHostFunction(name, f) wraps a
// host function so that an exception thrown by f traps the calling guest with the message
// "<name>: <reason>" (common::guard's reason); the runtime then fails that one entry, and
// restarts that one operator with backoff as for any trap. The store stays usable.
//
// f is any callable that Linker::func_wrap accepts (with or without a leading Caller; returning
// void, a value, or wasmtime::Result<T, wasmtime::Trap>); the wrapper has the same Wasm type.
// Every define of host functions (wasi_shim.cc, hostcalls/domains.h) goes through it.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <wasmtime.hh>

#include "common/error_boundary.h"

namespace wop::wasm {
namespace detail {

// What the wrapper returns for a host function returning R: always a Result with a Trap.
template <class R>
struct GuardedReturn {
  using Value = R;
};
template <>
struct GuardedReturn<void> {
  using Value = std::monostate;
};
template <class T>
struct GuardedReturn<wasmtime::Result<T, wasmtime::Trap>> {
  using Value = T;
};

template <class Signature>
struct CallSignature;
template <class R, class... A>
struct CallSignature<R (*)(A...)> {
  using Type = R(A...);
};
template <class R, class C, class... A>
struct CallSignature<R (C::*)(A...)> {
  using Type = R(A...);
};
template <class R, class C, class... A>
struct CallSignature<R (C::*)(A...) const> {
  using Type = R(A...);
};
template <class F>
struct CallableSignature : CallSignature<decltype(&F::operator())> {};
template <class R, class... A>
struct CallableSignature<R (*)(A...)> : CallSignature<R (*)(A...)> {};

template <class F, class Signature>
class GuardedHostFunction;

template <class F, class R, class... A>
class GuardedHostFunction<F, R(A...)> {
 public:
  using Value = typename GuardedReturn<R>::Value;

  GuardedHostFunction(std::string name, F f) : name_(std::move(name)), f_(std::move(f)) {}

  // A concrete (not generic) call operator, so that func_wrap can read the Wasm type from it.
  wasmtime::Result<Value, wasmtime::Trap> operator()(A... args) {
    std::optional<wasmtime::Result<Value, wasmtime::Trap>> out;
    common::Status status = common::guard(name_, [&] {
      if constexpr (std::is_void_v<R>) {
        f_(args...);
        out.emplace(std::monostate());
      } else {
        out.emplace(f_(args...));
      }
    });
    if (!status.isOk()) return wasmtime::Trap(status.message());
    return std::move(*out);
  }

 private:
  std::string name_;
  F f_;
};

}  // namespace detail

// Wraps the host function f (named name in trap messages, e.g. "wop_api_call") in the error
// boundary. The result is what to pass to Linker::func_wrap instead of f.
template <class F>
auto guardHostFunction(std::string name, F f) {
  using Signature = typename detail::CallableSignature<F>::Type;
  return detail::GuardedHostFunction<F, Signature>(std::move(name), std::move(f));
}

}  // namespace wop::wasm
