// The function and global names of a module's "name" custom section, for messages that name a
// culprit ("function 2 ($mutate)"). A name section can say anything: names are quoted, never
// trusted to identify what a function or global is.
//
// Thread-safety: holds views into the module's bytes, which must outlive it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/status.h"
#include "wasm/wasm_reader.h"

namespace wop::wasm::binary {

class NameSection {
 public:
  // Validates the payload of a custom section named "name" (what follows its name) and keeps
  // its function (1) and global (7) name maps; other subsections are skipped. Malformed
  // subsections or name maps are kInvalidArgument.
  Status parse(ByteReader payload);

  // "function 3 ($mutate)", or "function 3" when the module does not name it.
  std::string describeFunction(uint32_t index) const;
  std::string describeGlobal(uint32_t index) const;

 private:
  std::optional<ByteReader> functions_;  // subsection 1, validated
  std::optional<ByteReader> globals_;    // subsection 7, validated
};

}  // namespace wop::wasm::binary
