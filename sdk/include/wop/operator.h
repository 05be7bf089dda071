// WOP_OPERATOR(Type): makes Type (a default-constructible wop::sdk::Operator) the operator of
// this module. Exactly one per module. The object is built in wop_init, not by a static
// constructor, and lives as long as the module instance (its members are operator state and
// survive between reconciles, and snapshots).
#pragma once

#include "wop/reconciler.h"

namespace wop::sdk::detail {
// Defined by WOP_OPERATOR; called by the glue.
Operator& theOperator();
}  // namespace wop::sdk::detail

// Use at global scope.
#define WOP_OPERATOR(Type)                                  \
  ::wop::sdk::Operator& wop::sdk::detail::theOperator() {   \
    static Type instance;                                   \
    return instance;                                        \
  }
