// Arbitrary bytes as a Lease from the API server: decoding must never crash, and a Lease that
// decodes must write back (the elector's update) as a Lease that decodes to the same holder,
// duration and transitions. The same bytes as a MicroTime: one that parses formats to text
// that parses again.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "kube/exec_credential.h"
#include "server/lease_lock.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto time = wop::kube::parseRfc3339(text)) {
    if (!wop::kube::parseRfc3339(wop::server::formatMicroTime(*time))) __builtin_trap();
  }
  auto lease = wop::server::parseLease(text);
  if (!lease) return 0;
  auto again = wop::server::parseLease(wop::server::updatedLeaseBody(*lease, lease->record));
  if (!again) __builtin_trap();
  const auto& a = lease->record;
  const auto& b = again->record;
  if (a.holderIdentity != b.holderIdentity || a.leaseDurationSeconds != b.leaseDurationSeconds ||
      a.leaseTransitions != b.leaseTransitions ||
      again->resourceVersion != lease->resourceVersion) {
    __builtin_trap();
  }
  return 0;
}
