// nlohmann's writer (dump) and its copy and comparison are recursive: a guest's JSON nested a
// few hundred thousand deep (well under the request size caps) overflows a worker's stack.
// Guest JSON is scanned with this before it is parsed, so no deeper document is ever built.
#pragma once

#include <cstddef>
#include <string_view>

namespace wop::common {

// True if no array or object in text nests deeper than maxDepth (the top-level value counts
// as depth 1). Brackets inside strings do not count. Does not validate the JSON otherwise; a
// malformed text within the bound passes, for the parser to refuse.
bool jsonDepthWithin(std::string_view text, size_t maxDepth);

}  // namespace wop::common
