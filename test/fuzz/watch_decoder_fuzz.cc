// Arbitrary bytes as a watch stream, split into up to three reads at positions taken from the
// first bytes: decoding must return events or a Status, never crash, hang or overread.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "kube/watch_decoder.h"

namespace {

// Small enough that the fuzzer reaches the limit; large enough for realistic events.
constexpr size_t kFuzzMaxEventBytes = 1u << 20;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  std::string_view stream(reinterpret_cast<const char*>(data + 2), size - 2);
  const size_t first = data[0] % (stream.size() + 1);
  const size_t second = first + data[1] % (stream.size() - first + 1);
  const std::string_view reads[] = {stream.substr(0, first), stream.substr(first, second - first),
                                    stream.substr(second)};

  wop::kube::WatchDecoder decoder(kFuzzMaxEventBytes);
  std::vector<wop::kube::WatchEvent> events;
  for (std::string_view read : reads) {
    if (!decoder.feed(read, events).isOk()) break;
  }
  if (decoder.bufferedBytes() > kFuzzMaxEventBytes) __builtin_trap();
  return 0;
}
