// Fakes for unit tests of the runtime's parts on virtual time: a scripted guest (native, with
// a real anonymous memory so that it can be swapped through real snapshot files), informers
// the test plays by hand, a scheduler that records wake-ups, and an environment with a
// scripted Kubernetes transport.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "../kube/fake_transport.h"
#include "../snapshot/anonymous_memory.h"
#include "common/timers.h"
#include "kube/client.h"
#include "runtime/operator_environment.h"
#include "runtime/operator_guest.h"
#include "wop_abi.h"

namespace wop::runtime::testing {

// What the fake guests of one factory do; shared by every instance, so a test scripts the
// operator, not one instance.
struct GuestScript {
  std::vector<std::string> declarations;  // wop_declare calls made by wop_init
  int initFailures = 0;                   // the next n wop_init calls trap
  // wop_reconcile; default: wop_reconcile_done(DONE) at once.
  std::function<common::Status(hostcalls::OperatorServices&, uint32_t id, uint32_t controller,
                               std::string_view key)>
      onReconcile;
  // wop_map; default: emits nothing.
  std::function<common::Status(hostcalls::OperatorServices&, uint32_t controller, uint32_t watch,
                               std::string_view object)>
      onMap;
  bool failSave = false;                // saveTo fails as on a full disk
  std::function<void()> onSave;         // called as saveTo starts (a swap-out under way)
  std::function<void()> onMemoryBytes;  // called whenever the host reads the guest's memory size
  // Seen:
  int instances = 0;
  std::vector<std::string> reconciled;  // "controller/key"
  std::vector<int> counters;  // the guest's memory counter after each reconcile (kept by swaps)
  std::vector<std::pair<uint32_t, int32_t>> answers;  // (token, status) given to wop_on_complete
};

constexpr uint64_t kFakeGuestPages = 4;

class FakeGuest final : public OperatorGuest {
 public:
  FakeGuest(GuestScript& script, hostcalls::OperatorServices& services)
      : script_(script), services_(services), memory_(kFakeGuestPages) {}

  common::Status init() override {
    script_.instances++;
    if (script_.initFailures > 0) {
      script_.initFailures--;
      return common::Status(common::StatusCode::kInternal, "wasm trap: unreachable");
    }
    for (const auto& d : script_.declarations) {
      if (!services_.declare(d)) return common::Status(common::StatusCode::kInternal, "declare");
    }
    return common::Status::ok();
  }
  common::Status reconcile(uint32_t id, uint32_t controller, std::string_view key) override {
    script_.reconciled.push_back(std::to_string(controller) + "/" + std::string(key));
    memory_.data()[0]++;  // state a snapshot must keep
    script_.counters.push_back(memory_.data()[0]);
    if (script_.onReconcile) return script_.onReconcile(services_, id, controller, key);
    (void)services_.reconcileDone(id, WOP_RECONCILE_DONE, 0, "");
    return common::Status::ok();
  }
  common::Status complete(uint32_t token, int32_t status, std::string_view) override {
    script_.answers.push_back({token, status});
    return common::Status::ok();
  }
  common::Status map(uint32_t controller, uint32_t watch, std::string_view object) override {
    if (script_.onMap) return script_.onMap(services_, controller, watch, object);
    return common::Status::ok();
  }
  uint64_t memoryBytes() override {
    if (script_.onMemoryBytes) script_.onMemoryBytes();
    return memory_.size();
  }
  common::Result<snapshot::SaveResult> saveTo(snapshot::OperatorSnapshot& snapshot,
                                              bool restoredFromChain) override {
    if (script_.onSave) script_.onSave();
    if (script_.failSave)
      return common::Status(common::StatusCode::kResourceExhausted, "No space left on device");
    return snapshot.save(memory_.span(), {}, restoredFromChain);
  }
  uint8_t counter() const { return memory_.data()[0]; }
  snapshot::testing::AnonymousMemory& memory() { return memory_; }

 private:
  GuestScript& script_;
  hostcalls::OperatorServices& services_;
  snapshot::testing::AnonymousMemory memory_;
};

class FakeGuestFactory final : public GuestFactory {
 public:
  explicit FakeGuestFactory(GuestScript& script, bool capturable = true)
      : script_(script), capturable_(capturable) {}
  common::Result<std::unique_ptr<OperatorGuest>> create(
      hostcalls::OperatorServices& services) override {
    return std::unique_ptr<OperatorGuest>(std::make_unique<FakeGuest>(script_, services));
  }
  common::Status capturable() const override {
    if (capturable_) return common::Status::ok();
    return common::Status(common::StatusCode::kFailedPrecondition, "not capturable");
  }
  std::string identity() const override { return "fake-guest-v1"; }
  common::Result<std::unique_ptr<OperatorGuest>> restore(
      hostcalls::OperatorServices& services, const snapshot::OperatorSnapshot& snapshot,
      const snapshot::RestorePlan& plan) override {
    auto guest = std::make_unique<FakeGuest>(script_, services);
    if (auto mapped = snapshot.map(plan, guest->memory().data()); !mapped.isOk()) return mapped;
    restores++;
    return std::unique_ptr<OperatorGuest>(std::move(guest));
  }
  int restores = 0;

 private:
  GuestScript& script_;
  bool capturable_;
};

// Informers the test plays: it keeps each subscription's handlers.
class FakeInformers {
 public:
  struct Subscribed {
    cache::InformerKey key;
    cache::Handlers handlers;
  };
  Subscribe subscribe() {
    return [this](const cache::InformerKey& key, cache::Handlers handlers) {
      subscribed.push_back({key, std::move(handlers)});
      return cache::Subscription();
    };
  }
  void syncAll() {
    for (auto& s : subscribed) {
      if (s.handlers.onSynced) s.handlers.onSynced();
    }
  }
  std::vector<Subscribed> subscribed;
};

class RecordingScheduler final : public OperatorScheduler {
 public:
  void schedule(const std::shared_ptr<Operator>&) override { wakes++; }
  int wakes = 0;
};

// Lifecycle changes as "<Change> <operator>[: detail]" ("BackOff op: 1 failure(s)").
class RecordingLifecycle final : public LifecycleListener {
 public:
  void changed(const LifecycleEvent& event) override {
    static const char* const kNames[] = {"Loaded",    "Refused",    "Trapped", "BackOff",
                                         "Restarted", "SwappedOut", "Upgraded"};
    std::string line =
        std::string(kNames[static_cast<int>(event.change)]) + " " + event.operatorName;
    if (!event.detail.empty()) line += ": " + event.detail;
    if (event.change == LifecycleChange::kBackOff) {
      line += ": " + std::to_string(event.failures) + " failure(s)";
    }
    changes.push_back(line);
    delays.push_back(event.delay);
  }
  std::vector<std::string> changes;
  std::vector<std::chrono::milliseconds> delays;
};

class QueuedBackground final : public BackgroundJobs {
 public:
  void run(std::function<void()> job) override { jobs.push_back(std::move(job)); }
  void runAll() {
    auto pending = std::move(jobs);
    jobs.clear();
    for (auto& job : pending) job();
  }
  std::vector<std::function<void()>> jobs;
};

// Objects as the informers hand them out. The content changes with the resourceVersion (as a
// real update's does): data.rv holds it.
cache::ObjectPtr configMap(const std::string& ns, const std::string& name,
                           const std::string& resourceVersion = "1",
                           const std::string& extraMetadata = "");

// A client whose transport is scripted (kube/fake_transport.h), on clock.
std::unique_ptr<kube::Client> fakeClient(common::FakeClock& clock, kube::FakeTransport** transport);

// Discovery's answer for /api/v1 (ConfigMaps, Secrets, Namespaces).
extern const char* const kCoreV1Resources;

}  // namespace wop::runtime::testing
