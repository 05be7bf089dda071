// Standard base64 (RFC 4648, with padding), as kubeconfig *-data fields and ExecCredential
// cluster info use it. Decoding input comes from user files, so it is checked, never trusted.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace wop::common {

std::string base64Encode(std::string_view bytes);

// Decodes padded standard base64; line breaks and spaces are ignored (PEM-like wrapping, YAML
// folding). Fails with InvalidArgument, saying what is wrong, on any other character, on a
// length that is not a multiple of 4, or on padding anywhere but the end.
Result<std::string> base64Decode(std::string_view text);

}  // namespace wop::common
