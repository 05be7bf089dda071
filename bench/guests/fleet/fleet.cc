// fleet: the operator of the fleet benchmark (bench/fleet/run.py, docs/benchmarks/fleet.md). It
// holds a real in-memory index, an open-addressing hash table of indexKiB KiB (filled
// deterministically when the operator starts, so every page of it is the guest's own), and each
// reconcile of a ConfigMap looks up `lookups` keys derived from the object's "step" label (each
// lookup lands on a page of its own, as a cache lookup would) and updates `updates` of them.
// It then writes the step and a checksum of what it read into the ConfigMap's annotations
// fleet.wasm-operator.dev/step and /sum, so the driver sees when the change was reconciled.
// Config: {"namespace": "fleet-0", "indexKiB": 4096, "lookups": 64, "updates": 8}.
// Only label changes (and creation) trigger a reconcile, so its own annotation write does not
// loop.
#include <wop/sdk.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

using namespace wop::sdk;

namespace {

constexpr int64_t kMinIndexKiB = 64;
// Up to the restore benchmark's largest size (87 MiB, the research prototype's), within the
// 128 MiB memory limit swap_bench gives its guests; in a host at its default limit (64 MiB per
// operator) an index over about 60 MiB needs the operator's limit raised.
constexpr int64_t kMaxIndexKiB = 96 * 1024;
constexpr double kLoadFactor = 0.75;

uint64_t mix(uint64_t x) {  // splitmix64's finaliser: keys spread over the whole table
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// Keys are never 0 (the empty slot): mix(i) | 1.
class Index {
 public:
  explicit Index(size_t bytes) : slots_(bytes / sizeof(Slot)) {
    const size_t keys = static_cast<size_t>(static_cast<double>(slots_.size()) * kLoadFactor);
    for (size_t i = 0; i < keys; ++i) insert(keyOf(i), i);
    keys_ = keys;
  }

  static uint64_t keyOf(uint64_t i) { return mix(i) | 1; }
  size_t keys() const { return keys_; }

  // The slot of key, or nullptr. Linear probing from its home slot.
  uint64_t* find(uint64_t key) {
    for (size_t at = home(key);; at = (at + 1) % slots_.size()) {
      if (slots_[at].key == key) return &slots_[at].value;
      if (slots_[at].key == 0) return nullptr;
    }
  }

 private:
  struct Slot {
    uint64_t key = 0;
    uint64_t value = 0;
  };

  size_t home(uint64_t key) const { return static_cast<size_t>(mix(key) % slots_.size()); }

  void insert(uint64_t key, uint64_t value) {
    size_t at = home(key);
    while (slots_[at].key != 0) at = (at + 1) % slots_.size();
    slots_[at] = {key, value};
  }

  std::vector<Slot> slots_;
  size_t keys_ = 0;
};

}  // namespace

class Fleet : public Operator {
 public:
  std::vector<Controller> controllers(const Config& config) override {
    const int64_t kib = std::clamp(config.integer("indexKiB", 1024), kMinIndexKiB, kMaxIndexKiB);
    index_ = std::make_unique<Index>(static_cast<size_t>(kib) * 1024);
    lookups_ = config.integer("lookups", 64);
    updates_ = config.integer("updates", 8);
    log::info("index of %lld KiB, %zu keys", static_cast<long long>(kib), index_->keys());
    return {Controller("fleet").For(kinds::ConfigMap, config.string("namespace"), "",
                                    {Predicate::LabelsChanged})};
  }

  Task<Result> reconcile(Context& ctx, const Request& req) override {
    auto object = ctx.client.get(kinds::ConfigMap, req.ns, req.name);
    if (object.failed()) co_return Result::error(object.error());
    if (object.notFound()) co_return Result::done();
    const std::string step = getString(*object, {"metadata", "labels", "step"}).value_or("0");
    const uint64_t seed = mix(std::hash<std::string>{}(req.key() + "/" + step));
    uint64_t sum = 0;
    for (int64_t i = 0; i < lookups_; ++i) {
      const uint64_t which = mix(seed + static_cast<uint64_t>(i)) % index_->keys();
      uint64_t* value = index_->find(Index::keyOf(which));
      if (value == nullptr) co_return Result::terminal("index lost key " + std::to_string(which));
      sum += *value;
      if (i < updates_) *value += 1;  // a hit count, as a cache would keep
    }
    auto response =
        co_await ctx.client.patch(kinds::ConfigMap, req.ns, req.name,
                                  {{"metadata",
                                    {{"annotations",
                                      {{"fleet.wasm-operator.dev/step", step},
                                       {"fleet.wasm-operator.dev/sum", std::to_string(sum)}}}}}});
    if (response.notFound()) co_return Result::done();
    if (!response.ok()) co_return Result::error(response.errorMessage());
    co_return Result::done();
  }

 private:
  std::unique_ptr<Index> index_;
  int64_t lookups_ = 64;
  int64_t updates_ = 8;
};

WOP_OPERATOR(Fleet)
