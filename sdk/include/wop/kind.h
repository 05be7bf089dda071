// Kind: an apiVersion and kind, the way objects name their type. A literal type, so operators
// declare the kinds they use as constexpr constants without static constructors.
#pragma once

#include <concepts>
#include <string_view>

namespace wop::sdk {

struct Kind {
  std::string_view apiVersion;
  std::string_view kind;
};

// A typed object of one kind: `static constexpr Kind kKind` (the generated types in
// wop/types/, or a CustomResource of yours). Client::get<T> and toJson use it.
template <typename T>
concept HasKind = requires {
  { T::kKind } -> std::convertible_to<Kind>;
};

namespace kinds {
inline constexpr Kind ConfigMap{"v1", "ConfigMap"};
inline constexpr Kind Secret{"v1", "Secret"};
inline constexpr Kind Pod{"v1", "Pod"};
inline constexpr Kind Service{"v1", "Service"};
inline constexpr Kind Namespace{"v1", "Namespace"};
inline constexpr Kind Deployment{"apps/v1", "Deployment"};
}  // namespace kinds

}  // namespace wop::sdk
