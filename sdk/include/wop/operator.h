// WOP_OPERATOR(Type): makes Type (a default-constructible wop::sdk::Operator) the operator of
// this module. Exactly one per module. The object is built in wop_init, not by a static
// constructor, and lives as long as the module instance (its members are operator state and
// survive between reconciles, and snapshots).
//
// Natively (not __wasm__) the same line defines a factory instead, so one process can run
// several instances of the operator, each with its own object: the ring benchmark's native
// setups (bench/native/). One WOP_OPERATOR per native executable, too.
#pragma once

#include "wop/reconciler.h"

#ifdef __wasm__

namespace wop::sdk::detail {
// Defined by WOP_OPERATOR; called by the glue.
Operator& theOperator();
}  // namespace wop::sdk::detail

// Use at global scope.
#define WOP_OPERATOR(Type)                                \
  ::wop::sdk::Operator& wop::sdk::detail::theOperator() { \
    static Type instance;                                 \
    return instance;                                      \
  }

#else  // native

#include <memory>

namespace wop::sdk::detail {
// Defined by WOP_OPERATOR: a fresh operator object, owned by the caller.
std::unique_ptr<Operator> newOperator();
}  // namespace wop::sdk::detail

// Use at global scope.
#define WOP_OPERATOR(Type)                                                \
  std::unique_ptr<::wop::sdk::Operator> wop::sdk::detail::newOperator() { \
    return std::make_unique<Type>();                                      \
  }

#endif
