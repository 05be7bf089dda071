#include "wop/result.h"

namespace wop::sdk {

Request Request::fromKey(std::string_view key) {
  auto slash = key.find('/');
  if (slash == std::string_view::npos) return Request{"", std::string(key)};
  return Request{std::string(key.substr(0, slash)), std::string(key.substr(slash + 1))};
}

}  // namespace wop::sdk
