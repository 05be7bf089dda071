// The operator as a whole, on virtual time: fake informers, a scripted API server, scripted
// guests (with real snapshot files for swapping), and the test as the worker and the clock.
#include "runtime/operator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "fake_operator_parts.h"
#include "runtime/figure_recorder.h"
#include "runtime/memory_budget.h"

namespace wop::runtime {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::configMap;
using ::testing::ElementsAre;
using testing::FakeGuestFactory;
using testing::FakeInformers;
using testing::GuestScript;
using ::testing::HasSubstr;
using testing::kCoreV1Resources;
using testing::QueuedBackground;
using testing::RecordingScheduler;

constexpr const char* kDeclaration =
    R"({"name":"c","for":{"apiVersion":"v1","kind":"ConfigMap","namespace":"shop"}})";

class OperatorTest : public ::testing::Test {
 protected:
  OperatorTest() {
    char folder[] = "/tmp/wop-operator-test-XXXXXX";
    snapshots_ = ::mkdtemp(folder);
  }
  ~OperatorTest() override {
    op_.reset();
    std::filesystem::remove_all(snapshots_);
  }

  OperatorEnvironment environment() {
    return {takingKeys_, clock_,      timers_,   *client_,  informers_.subscribe(),
            scheduler_,  background_, *figures_, settings_, &lifecycle_};
  }
  void create() {
    factory_ = std::make_shared<FakeGuestFactory>(script_);
    op_ = std::make_shared<Operator>(
        environment(), spec_, factory_,
        [this](int32_t level, const std::string& line, const LogFields&) {
          logs_.push_back(line);
          logLevels_.push_back(level);
        });
  }
  // The first start, as add() does it, with discovery's answer scripted.
  void start() {
    transport_->respond(200, kCoreV1Resources);
    create();
    auto status = op_->start();
    ASSERT_TRUE(status.isOk()) << status.toString();
  }
  // The workers' loop, on this thread: slices until the operator has nothing ready.
  void runSlices() {
    for (int i = 0; i < 100; ++i) {
      if (!op_->runSlice()) return;
    }
    FAIL() << "the operator never ran out of work";
  }
  // Time passes: each timer runs at its time, and the operator's slices right after it, as a
  // worker would run them once the timer woke the operator.
  void advance(common::Duration by) {
    const auto end = clock_.now() + by;
    while (auto next = timers_.nextDue()) {
      if (*next > end) break;
      timers_.advance(std::max(common::Duration(0), *next - clock_.now()));
      runSlices();
    }
    timers_.advance(end - clock_.now());
    runSlices();
  }
  // start(), with the host's memory budget in the operator's environment.
  void startWithBudget(MemoryBudget& budget) {
    transport_->respond(200, kCoreV1Resources);
    auto environment = this->environment();
    environment.memoryBudget = &budget;
    factory_ = std::make_shared<FakeGuestFactory>(script_);
    op_ = std::make_shared<Operator>(
        environment, spec_, factory_,
        [this](int32_t, const std::string& line, const LogFields&) { logs_.push_back(line); });
    auto status = op_->start();
    ASSERT_TRUE(status.isOk()) << status.toString();
    informers_.syncAll();
  }
  cache::Handlers& primary() { return informers_.subscribed.at(0).handlers; }
  // The watched ConfigMap shop/a changes (version i to i + 1), and the operator's slices run.
  void change(int i) {
    primary().onUpdate(configMap("shop", "a", std::to_string(i)),
                       configMap("shop", "a", std::to_string(i + 1)));
    runSlices();
  }
  // count changes 30 s apart: a pattern the wake predictor learns.
  void changesEvery30Seconds(int count) {
    for (int i = 0; i < count; ++i) {
      change(i);
      advance(seconds(30));
    }
  }
  OperatorStats stats() const { return op_->stats(); }
  void enableSwapping() {
    settings_.swapEnabled = true;
    settings_.snapshotDirectory = snapshots_;
    settings_.swapIdleAfter = milliseconds(0);
    settings_.swapPredict = false;
  }

  std::atomic<bool> takingKeys_{true};
  common::FakeClock clock_;
  common::ManualTimers timers_{clock_};
  kube::FakeTransport* transport_ = nullptr;
  std::unique_ptr<kube::Client> client_ = testing::fakeClient(clock_, &transport_);
  FakeInformers informers_;
  RecordingScheduler scheduler_;
  QueuedBackground background_;
  std::shared_ptr<FigureRecorder> figures_ = std::make_shared<FigureRecorder>();
  OperatorSettings settings_{.restartBackoffBase = milliseconds(1000),
                             .restartBackoffMax = milliseconds(60'000)};
  OperatorSpec spec_{.name = "op", .trusted = true};
  GuestScript script_{.declarations = {kDeclaration}};
  std::shared_ptr<FakeGuestFactory> factory_;
  std::shared_ptr<Operator> op_;
  std::vector<std::string> logs_;
  std::vector<int32_t> logLevels_;  // of logs_, one each
  std::string snapshots_;
  testing::RecordingLifecycle lifecycle_;
};

TEST_F(OperatorTest, WithoutAServiceAccountOnlyATrustedOperatorStarts) {
  spec_.trusted = false;
  create();
  auto started = op_->start();
  ASSERT_FALSE(started.isOk());
  EXPECT_THAT(started.message(), HasSubstr("no ServiceAccount and not trusted"));
}

// add() starts an operator on the loader's thread; once its state is running a worker may run
// a slice, enter the guest and swap it out. The loader must be done with the guest by then (it
// read the guest's memory size after, and a host loading 3000 operators crashed in Wasmtime).
TEST_F(OperatorTest, TheFirstStartIsDoneWithTheGuestBeforeAWorkerMayEnterIt) {
  std::vector<OperatorState> statesWhenRead;
  script_.onMemoryBytes = [&] {
    if (op_) statesWhenRead.push_back(op_->stats().state);
  };
  start();
  script_.onMemoryBytes = nullptr;
  ASSERT_FALSE(statesWhenRead.empty());  // the "running" log line gives the memory size
  for (OperatorState state : statesWhenRead) EXPECT_NE(state, OperatorState::kRunning);
  EXPECT_EQ(stats().state, OperatorState::kRunning);
}

TEST_F(OperatorTest, NoReconcileStartsBeforeEveryCacheHasSynced) {
  start();
  EXPECT_EQ(stats().state, OperatorState::kRunning);
  primary().onAdd(configMap("shop", "a"));
  runSlices();
  EXPECT_TRUE(script_.reconciled.empty());
  informers_.syncAll();
  EXPECT_GT(scheduler_.wakes, 0) << "a synced cache wakes the operator; nothing polls";
  runSlices();
  EXPECT_THAT(script_.reconciled, ElementsAre("0/shop/a"));
}

TEST_F(OperatorTest, ATrapRestartsAFreshInstanceAfterBackoffAndTheKeyIsRetried) {
  bool trapped = false;
  script_.onReconcile = [&](hostcalls::OperatorServices& s, uint32_t id, uint32_t,
                            std::string_view) {
    if (!trapped) {
      trapped = true;
      return common::Status(common::StatusCode::kInternal, "wasm trap: unreachable");
    }
    (void)s.reconcileDone(id, WOP_RECONCILE_DONE, 0, "");
    return common::Status::ok();
  };
  start();
  informers_.syncAll();
  primary().onAdd(configMap("shop", "a"));
  runSlices();
  EXPECT_EQ(stats().state, OperatorState::kBackoff);
  EXPECT_EQ(stats().restarts, 1u);
  EXPECT_THAT(stats().lastError, HasSubstr("wop_reconcile: wasm trap"));
  advance(milliseconds(700));  // under the smallest jittered backoff (750 ms)
  EXPECT_EQ(script_.instances, 1);
  advance(milliseconds(300));
  EXPECT_EQ(script_.instances, 2);
  EXPECT_EQ(stats().state, OperatorState::kRunning);
  EXPECT_THAT(script_.reconciled, ElementsAre("0/shop/a", "0/shop/a"));
}

TEST_F(OperatorTest, TheLifecycleListenerHearsLoadedTrappedBackOffAndRestarted) {
  bool trapped = false;
  script_.onReconcile = [&](hostcalls::OperatorServices& s, uint32_t id, uint32_t,
                            std::string_view) {
    if (!trapped) {
      trapped = true;
      return common::Status(common::StatusCode::kInternal, "wasm trap: unreachable");
    }
    (void)s.reconcileDone(id, WOP_RECONCILE_DONE, 0, "");
    return common::Status::ok();
  };
  start();
  EXPECT_THAT(lifecycle_.changes, ElementsAre("Loaded op"));
  informers_.syncAll();
  primary().onAdd(configMap("shop", "a"));
  runSlices();
  EXPECT_THAT(lifecycle_.changes,
              ElementsAre("Loaded op", "Trapped op: wop_reconcile: wasm trap: unreachable",
                          "BackOff op: 1 failure(s)"));
  EXPECT_GE(lifecycle_.delays[2], milliseconds(750));
  EXPECT_LE(lifecycle_.delays[2], milliseconds(1000));
  advance(milliseconds(1000));
  EXPECT_EQ(lifecycle_.changes.back(), "Restarted op");
}

TEST_F(OperatorTest, TheLifecycleListenerHearsARefusal) {
  spec_.serviceAccountNamespace = "ops";
  spec_.serviceAccountName = "copier";
  transport_->respond(200, kCoreV1Resources);
  transport_->respond(201, R"({"status":{"allowed":false}})");
  create();
  ASSERT_FALSE(op_->start().isOk());
  ASSERT_EQ(lifecycle_.changes.size(), 1u);
  EXPECT_THAT(lifecycle_.changes[0],
              HasSubstr("Refused op: controller c: ServiceAccount ops/copier may not"));
}

TEST_F(OperatorTest, RequeueAfterWakesTheOperatorOnVirtualTime) {
  script_.onReconcile = [](hostcalls::OperatorServices& s, uint32_t id, uint32_t,
                           std::string_view) {
    (void)s.reconcileDone(id, WOP_RECONCILE_REQUEUE_AFTER, 30'000, "");
    return common::Status::ok();
  };
  start();
  informers_.syncAll();
  primary().onAdd(configMap("shop", "a"));
  runSlices();
  advance(milliseconds(29'999));
  EXPECT_EQ(script_.reconciled.size(), 1u);
  advance(milliseconds(1));
  EXPECT_EQ(script_.reconciled.size(), 2u);
}

// WOP_RECONCILE_TERMINAL: nobody retries it, so its log line is an error (a plain failure is a
// warning: it will be tried again) and it counts among the operator's reconcile errors.
TEST_F(OperatorTest, ATerminalErrorIsLoggedAsAnErrorCountedAndNotRetried) {
  script_.onReconcile = [](hostcalls::OperatorServices& s, uint32_t id, uint32_t,
                           std::string_view) {
    (void)s.reconcileDone(id, WOP_RECONCILE_TERMINAL, 0, "spec.size must be positive");
    return common::Status::ok();
  };
  start();
  informers_.syncAll();
  primary().onAdd(configMap("shop", "a"));
  runSlices();
  advance(std::chrono::minutes(30));
  EXPECT_EQ(script_.reconciled.size(), 1u);
  EXPECT_EQ(stats().reconciles, 1u);
  EXPECT_EQ(stats().reconcileErrors, 1u);
  ASSERT_EQ(logs_.size(), logLevels_.size());
  const auto line = std::find_if(logs_.begin(), logs_.end(), [](const std::string& l) {
    return l.find("spec.size must be positive") != std::string::npos;
  });
  ASSERT_NE(line, logs_.end());
  EXPECT_THAT(*line, HasSubstr("terminally, not retried"));
  EXPECT_EQ(logLevels_[line - logs_.begin()], WOP_LOG_ERROR);
  primary().onUpdate(configMap("shop", "a", "1"), configMap("shop", "a", "2"));
  runSlices();
  EXPECT_EQ(script_.reconciled.size(), 2u) << "a change is reconciled again";
}

TEST_F(OperatorTest, ARetriedFirstStartSetsUpItsControllersWithoutWaitingOnAWorker) {
  script_.initFailures = 1;
  create();
  ASSERT_TRUE(op_->start().isOk()) << "a trap in wop_init is retried, not refused";
  EXPECT_EQ(stats().state, OperatorState::kBackoff);
  EXPECT_TRUE(transport_->sent.empty()) << "nothing resolved for an instance that failed";
  transport_->respond(200, kCoreV1Resources);
  timers_.advance(seconds(1));
  // The retry sends discovery's request and returns; the answer comes on the "I/O thread"
  // (here at once) and a later slice finishes the setup.
  EXPECT_FALSE(op_->runSlice());
  EXPECT_EQ(stats().state, OperatorState::kStarting);
  runSlices();
  EXPECT_EQ(stats().state, OperatorState::kRunning);
  EXPECT_EQ(informers_.subscribed.size(), 1u);
}

TEST_F(OperatorTest, AServiceAccountThatMayNotWatchItsKindIsRefusedWithTheRbacItLacks) {
  spec_.serviceAccountNamespace = "ops";
  spec_.serviceAccountName = "copier";
  transport_->respond(200, kCoreV1Resources);
  transport_->respond(201, R"({"status":{"allowed":false}})");  // list
  transport_->respond(201, R"({"status":{"allowed":true}})");   // watch
  create();
  auto status = op_->start();
  ASSERT_FALSE(status.isOk());
  EXPECT_THAT(status.message(),
              HasSubstr("ServiceAccount ops/copier may not list configmaps in namespace shop"));
  EXPECT_EQ(stats().state, OperatorState::kRefused);
  ASSERT_EQ(transport_->sent.size(), 3u) << "discovery, then both verbs' reviews at once";
  for (size_t i : {1u, 2u}) {
    EXPECT_THAT(transport_->sent[i].request.body, HasSubstr("system:serviceaccount:ops:copier"));
  }
}

TEST_F(OperatorTest, AFunctionMappedWatchReconcilesTheKeysTheGuestEmits) {
  script_.declarations = {R"({"name":"c","for":{"apiVersion":"v1","kind":"ConfigMap"},
      "owns":[{"apiVersion":"v1","kind":"Secret"}],
      "watches":[{"apiVersion":"v1","kind":"ConfigMap","labelSelector":"copy=yes","mapTo":"function"}]})"};
  script_.onMap = [](hostcalls::OperatorServices& s, uint32_t, uint32_t watch, std::string_view) {
    EXPECT_EQ(watch, 0u);
    (void)s.emitKey("shop/target-1");
    (void)s.emitKey("shop/target-2");
    return common::Status::ok();
  };
  start();
  informers_.syncAll();
  informers_.subscribed.at(2).handlers.onAdd(configMap("shop", "source"));
  runSlices();
  EXPECT_THAT(script_.reconciled, ElementsAre("0/shop/target-1", "0/shop/target-2"));
}

// A mapper may read the cache (to map by a field index): wop_cache_read inside wop_map reaches
// the cache, as in a reconcile, rather than being refused as the wrong time to call.
TEST_F(OperatorTest, AMapperMayReadTheCache) {
  script_.declarations = {R"({"name":"c","for":{"apiVersion":"v1","kind":"ConfigMap"},
      "watches":[{"apiVersion":"v1","kind":"ConfigMap","labelSelector":"copy=yes","mapTo":"function"}],
      "indexes":[{"apiVersion":"v1","kind":"ConfigMap","name":"src","label":"copy-of"}]})"};
  std::vector<std::string> answers;
  script_.onMap = [&](hostcalls::OperatorServices& s, uint32_t, uint32_t, std::string_view) {
    for (const char* request :
         {R"({"apiVersion":"v1","kind":"ConfigMap","namespace":"shop","index":"src","value":"x"})",
          R"({"apiVersion":"v1","kind":"Secret","namespace":"shop","name":"x"})"}) {
      auto read = s.cacheRead(request);
      answers.push_back(read ? "ok"
                             : std::to_string(read.error().code) + " " + read.error().message);
    }
    (void)s.emitKey("shop/target");
    return common::Status::ok();
  };
  start();
  informers_.syncAll();
  informers_.subscribed.at(1).handlers.onAdd(configMap("shop", "source"));
  runSlices();
  // The fake informers hold no store: the read of a declared kind is "not synced", the other
  // "not declared"; neither is WOP_ERR_BAD_STATE.
  EXPECT_THAT(answers,
              ElementsAre(HasSubstr(std::to_string(WOP_ERR_UNAVAILABLE) + " cache not synced"),
                          HasSubstr(std::to_string(WOP_ERR_FORBIDDEN) + " v1 Secret in shop "
                                                                        "is not declared")));
  EXPECT_THAT(script_.reconciled, ElementsAre("0/shop/target"));
}

// Its reads would fail before the caches are synced (and a mapped event is not retried), so a
// mapper waits for them, as a reconcile does.
TEST_F(OperatorTest, AMapperRunsOnlyOnceTheCachesAreSynced) {
  script_.declarations = {R"({"name":"c","for":{"apiVersion":"v1","kind":"ConfigMap"},
      "watches":[{"apiVersion":"v1","kind":"ConfigMap","labelSelector":"copy=yes","mapTo":"function"}]})"};
  int maps = 0;
  script_.onMap = [&](hostcalls::OperatorServices& s, uint32_t, uint32_t, std::string_view) {
    maps++;
    (void)s.emitKey("shop/target");
    return common::Status::ok();
  };
  start();
  informers_.subscribed.at(1).handlers.onAdd(configMap("shop", "source"));
  runSlices();
  EXPECT_EQ(maps, 0);
  informers_.syncAll();
  runSlices();
  EXPECT_EQ(maps, 1);
  EXPECT_THAT(script_.reconciled, ElementsAre("0/shop/target"));
}

TEST_F(OperatorTest, AnObserverGetsChangeToReconcileDelays) {
  start();
  informers_.syncAll();
  primary().onAdd(configMap("shop", "a"));
  clock_.advance(milliseconds(7));
  runSlices();
  auto samples = figures_->takeLatencySamples(WakeKind::kResident);
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_DOUBLE_EQ(samples[0], 7.0);
}

TEST_F(OperatorTest, AnObserverGetsTheDelayToTheEndOfTheReconcileTheChangeWoke) {
  script_.onReconcile = [&](hostcalls::OperatorServices& s, uint32_t id, uint32_t,
                            std::string_view) {
    clock_.advance(milliseconds(3));  // the guest's own time
    (void)s.reconcileDone(id, WOP_RECONCILE_DONE, 0, "");
    return common::Status::ok();
  };
  start();
  informers_.syncAll();
  primary().onAdd(configMap("shop", "a"));
  clock_.advance(milliseconds(7));
  runSlices();
  EXPECT_THAT(figures_->takeLatencySamples(WakeKind::kResident), ElementsAre(7.0));
  EXPECT_THAT(figures_->takeReconciledSamples(WakeKind::kResident), ElementsAre(10.0));
}

TEST_F(OperatorTest, AnObserverGetsTheWaitForAWorkerAndNoneForAKeyThatCameDuringTheSlice) {
  script_.onReconcile = [&](hostcalls::OperatorServices& s, uint32_t id, uint32_t,
                            std::string_view key) {
    clock_.advance(milliseconds(3));                               // the guest's own time
    if (key == "shop/a") primary().onAdd(configMap("shop", "b"));  // comes while the slice runs
    (void)s.reconcileDone(id, WOP_RECONCILE_DONE, 0, "");
    return common::Status::ok();
  };
  start();
  informers_.syncAll();
  primary().onAdd(configMap("shop", "a"));
  clock_.advance(milliseconds(7));  // no worker free yet
  runSlices();
  EXPECT_THAT(figures_->takeWorkerSamples(WakeKind::kResident), ElementsAre(7.0, 0.0));
  EXPECT_THAT(figures_->takeLatencySamples(WakeKind::kResident), ElementsAre(7.0, 0.0));
}

// ------------------------------------------------------------------------------ swapping

TEST_F(OperatorTest, AnIdleOperatorIsSwappedOutAndAChangeRestoresItsState) {
  enableSwapping();
  start();
  informers_.syncAll();
  primary().onAdd(configMap("shop", "a"));
  runSlices();
  EXPECT_TRUE(stats().swappedOut);
  EXPECT_EQ(stats().swapOuts, 1u);
  EXPECT_EQ(stats().memoryBytes, 0u);
  primary().onUpdate(configMap("shop", "a", "1"), configMap("shop", "a", "2"));
  runSlices();
  EXPECT_EQ(factory_->restores, 1);
  EXPECT_EQ(stats().wakesSwapped, 1u);
  EXPECT_THAT(script_.counters, ElementsAre(1, 2)) << "the guest's memory survived the swap";
  background_.runAll();  // the rest of the snapshot is checked off the guest's path
  EXPECT_EQ(stats().snapshotFaults, 0u);
}

TEST_F(OperatorTest, AnOperatorSwappedOutForTenMinutesIsReportedOnce) {
  enableSwapping();
  start();
  informers_.syncAll();
  primary().onAdd(configMap("shop", "a"));
  runSlices();
  ASSERT_TRUE(stats().swappedOut);
  advance(std::chrono::minutes(9));
  EXPECT_THAT(lifecycle_.changes, ElementsAre("Loaded op"));
  advance(std::chrono::minutes(1));
  EXPECT_THAT(lifecycle_.changes, ElementsAre("Loaded op", "SwappedOut op"));
  EXPECT_EQ(lifecycle_.delays.back(), std::chrono::minutes(10));
  advance(std::chrono::minutes(30));
  EXPECT_EQ(lifecycle_.changes.size(), 2u) << "once per swap-out";
}

TEST_F(OperatorTest, ShortSwapOutsAreNotReportedAndSetOneTimerAtATime) {
  enableSwapping();
  start();
  informers_.syncAll();
  primary().onAdd(configMap("shop", "a"));
  runSlices();
  const size_t timers = timers_.pending();
  for (int i = 2; i < 50; ++i) {
    advance(seconds(10));
    primary().onUpdate(configMap("shop", "a", std::to_string(i - 1)),
                       configMap("shop", "a", std::to_string(i)));
    runSlices();
    ASSERT_TRUE(stats().swappedOut);
  }
  EXPECT_LE(timers_.pending(), timers) << "no timer per swap-out";
  advance(std::chrono::minutes(9));
  EXPECT_THAT(lifecycle_.changes, ElementsAre("Loaded op")) << "out for 9 minutes only";
  advance(std::chrono::minutes(1));
  EXPECT_THAT(lifecycle_.changes, ElementsAre("Loaded op", "SwappedOut op"));
}

TEST_F(OperatorTest, ASnapshotThatIsGoneMeansAFreshInstanceAndEveryKeyAgain) {
  enableSwapping();
  start();
  informers_.syncAll();
  primary().onAdd(configMap("shop", "a"));
  runSlices();
  ASSERT_TRUE(stats().swappedOut);
  for (const auto& entry : std::filesystem::recursive_directory_iterator(snapshots_)) {
    if (entry.is_regular_file()) std::filesystem::remove(entry.path());
  }
  primary().onUpdate(configMap("shop", "a", "1"), configMap("shop", "a", "2"));
  runSlices();
  EXPECT_EQ(stats().snapshotFaults, 1u);
  EXPECT_EQ(stats().state, OperatorState::kRunning);
  EXPECT_EQ(script_.instances, 2);
  EXPECT_EQ(script_.counters.back(), 1) << "a fresh instance: the lost state is rebuilt";
  EXPECT_THAT(logs_, ::testing::Contains(HasSubstr("cannot restore from its snapshot")));
}

TEST_F(OperatorTest, ACorruptSnapshotIsCaughtAtRestoreAndTheOperatorStartsAfresh) {
  enableSwapping();
  start();
  informers_.syncAll();
  primary().onAdd(configMap("shop", "a"));
  runSlices();
  ASSERT_TRUE(stats().swappedOut);
  // Flip a byte of the saved memory (the counter page): its block checksum no longer matches.
  bool corrupted = false;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(snapshots_)) {
    if (!entry.is_regular_file() || entry.file_size() < 2 * snapshot::kPageBytes) continue;
    std::fstream file(entry.path(), std::ios::in | std::ios::out | std::ios::binary);
    for (uint64_t at = snapshot::kPageBytes; at < entry.file_size(); at += snapshot::kPageBytes) {
      file.seekg(static_cast<std::streamoff>(at));
      char byte = 0;
      file.read(&byte, 1);
      if (byte == 0) continue;
      file.seekp(static_cast<std::streamoff>(at));
      byte ^= 0x5a;
      file.write(&byte, 1);
      corrupted = true;
      break;
    }
  }
  ASSERT_TRUE(corrupted);
  primary().onUpdate(configMap("shop", "a", "1"), configMap("shop", "a", "2"));
  runSlices();
  EXPECT_EQ(stats().snapshotFaults, 1u);
  EXPECT_EQ(factory_->restores, 0) << "the guest never ran on the corrupt memory";
  EXPECT_EQ(script_.counters.back(), 1);
  EXPECT_EQ(stats().state, OperatorState::kRunning);
}

TEST_F(OperatorTest, RegularWakesAreLearnedAndTheGuestIsRestoredAheadOfThem) {
  enableSwapping();
  settings_.swapPredict = true;
  settings_.swapIdleAfter = milliseconds(2000);
  start();
  informers_.syncAll();
  changesEvery30Seconds(12);
  EXPECT_GT(stats().swapOuts, 0u) << "idle for 30 s between changes: it swaps out";
  EXPECT_GT(stats().prefetches, 0u) << "and comes back before the next change";
  EXPECT_EQ(script_.reconciled.size(), 12u);
}

TEST_F(OperatorTest, APrefetchThatNoChangeFollowsIsCountedAsWasted) {
  enableSwapping();
  settings_.swapPredict = true;
  settings_.swapIdleAfter = milliseconds(2000);
  start();
  informers_.syncAll();
  changesEvery30Seconds(12);
  const auto before = stats();
  ASSERT_GT(before.prefetchHits, 0u);
  advance(std::chrono::minutes(5));  // the changes stop
  EXPECT_EQ(stats().prefetchesWasted, before.prefetchesWasted + 1);
  EXPECT_EQ(stats().prefetchesSentOutByBudget, 0u) << "no budget: the prediction's miss";
  EXPECT_TRUE(stats().swappedOut);
}

// Wasted prefetches have two causes with different cures: the memory budget sending the
// operator out for room, or a change later than the prediction's window. Each is counted.
TEST_F(OperatorTest, APrefetchTheBudgetSendsOutIsCountedApartFromOneThePredictionMissed) {
  enableSwapping();
  settings_.swapPredict = true;
  settings_.swapIdleAfter = milliseconds(2000);
  MemoryBudget budget(64 << 20);
  int other = 0;
  budget.enroll(&other, [] {});
  startWithBudget(budget);
  changesEvery30Seconds(12);
  ASSERT_FALSE(stats().swappedOut) << "prefetched ahead of the next change";
  const auto before = stats();
  // Another operator, busy (so it stays), now needs the whole budget: this one is asked to go.
  budget.report(&other, 64 << 20, {.lastActive = clock_.now(), .busy = true}, clock_.now());
  runSlices();
  EXPECT_TRUE(stats().swappedOut);
  EXPECT_EQ(stats().prefetchesWasted, before.prefetchesWasted + 1);
  EXPECT_EQ(stats().prefetchesSentOutByBudget, before.prefetchesSentOutByBudget + 1);
  op_.reset();  // before the budget it reports to
}

TEST_F(OperatorTest, APrefetchWithRoomOnlyFromOperatorsDueSoonerWaitsForTheChangeItself) {
  enableSwapping();
  settings_.swapPredict = true;
  settings_.swapIdleAfter = milliseconds(2000);
  MemoryBudget budget(1 << 20);
  // Another operator holds the whole budget and is due about when this one's prefetch would be
  // (changes every 30 s, the prefetch 50 ms ahead); asked to go, it is busy and stays (it
  // reports again at once).
  int other = 0;
  common::TimePoint otherDue{};
  bool inReport = false;
  auto otherReports = [&] {
    if (inReport) return;  // asked during its own report: busy, it stays
    inReport = true;
    budget.report(&other, 1 << 20, {.lastActive = clock_.now(), .expectedWake = otherDue},
                  clock_.now());
    inReport = false;
  };
  budget.enroll(&other, otherReports);
  otherReports();
  startWithBudget(budget);
  for (int i = 0; i < 12; ++i) {
    change(i);
    otherDue = clock_.now() + milliseconds(29970);
    otherReports();
    advance(seconds(30));
  }
  EXPECT_GT(stats().swapOuts, 0u);
  EXPECT_EQ(stats().prefetches, 0u) << "a prefetch would push out an operator due sooner";
  EXPECT_GT(stats().prefetchesSkipped, 0u);
  EXPECT_EQ(script_.reconciled.size(), 12u) << "each change restored it on its own path";
  op_.reset();  // before the budget it reports to
}

// The budget is full of an operator due an hour from now: it may go for this one, which is
// due in 30 s, so the prefetch happens (and asks it to go).
TEST_F(OperatorTest, APrefetchMakesRoomByAnOperatorDueLaterThanItsChange) {
  enableSwapping();
  settings_.swapPredict = true;
  settings_.swapIdleAfter = milliseconds(2000);
  MemoryBudget budget(1 << 20);
  int other = 0;
  int otherAsked = 0;
  budget.enroll(&other, [&] {
    ++otherAsked;
    budget.report(&other, 0, {.lastActive = clock_.now()}, clock_.now());  // swapped out
  });
  budget.report(&other, (1 << 20) + 1,
                {.lastActive = clock_.now(), .expectedWake = clock_.now() + std::chrono::hours(1)},
                clock_.now());
  startWithBudget(budget);
  changesEvery30Seconds(12);
  EXPECT_GT(stats().prefetches, 0u);
  EXPECT_EQ(stats().prefetchesSkipped, 0u);
  EXPECT_GT(stats().prefetchHits, 0u) << "changes found it back ahead of them";
  EXPECT_EQ(otherAsked, 1);
  EXPECT_EQ(script_.reconciled.size(), 12u);
  op_.reset();  // before the budget it reports to
}

// The budget asks an operator to go while it is already swapping out (another worker's report
// saw it still resident). That request was for the residency that ended: it must not send the
// next prefetch straight back out, unused.
TEST_F(OperatorTest, AnEvictionAskedDuringASwapOutDoesNotSendTheNextPrefetchBackOut) {
  enableSwapping();
  settings_.swapPredict = true;
  settings_.swapIdleAfter = milliseconds(2000);
  MemoryBudget budget(64 << 20);
  int other = 0;
  budget.enroll(&other, [] {});
  script_.onSave = [&] {
    budget.report(&other, 64 << 20, {.lastActive = clock_.now()}, clock_.now());  // over: asks
    budget.report(&other, 0, {.lastActive = clock_.now()}, clock_.now());
  };
  startWithBudget(budget);
  changesEvery30Seconds(12);
  EXPECT_GT(budget.evictionsRequested(), 0u) << "the budget asked during swap-outs";
  EXPECT_GT(stats().prefetches, 0u);
  EXPECT_EQ(stats().prefetchesWasted, 0u);
  EXPECT_GT(stats().prefetchHits, 0u);
  op_.reset();  // before the budget it reports to
}

// The budget is full of another operator due between this one's prefetch and its change: the
// prefetch finds no room, but the other leaves before the change, and the retry (halfway to the
// change) finds the room it left.
TEST_F(OperatorTest, APrefetchWithNoRoomIsTriedAgainAndFindsTheRoomLeftSinceThen) {
  enableSwapping();
  settings_.swapPredict = true;
  settings_.swapIdleAfter = milliseconds(2000);
  MemoryBudget budget(1 << 20);
  int other = 0;
  common::TimePoint otherDue{};
  bool otherResident = true;
  bool inReport = false;
  auto otherReports = [&] {
    if (inReport) return;  // asked during its own report: busy, it stays
    inReport = true;
    budget.report(&other, otherResident ? (1 << 20) + 1 : 0,
                  {.lastActive = clock_.now(), .expectedWake = otherDue}, clock_.now());
    inReport = false;
  };
  budget.enroll(&other, otherReports);  // busy whenever asked: it leaves at its own time only
  startWithBudget(budget);
  for (int i = 0; i < 12; ++i) {
    change(i);
    // Changes 30 s apart: this one's prefetch is due 50 ms before the next. The other is due
    // 40 ms before it, and leaves 35 ms before it.
    const auto change = clock_.now() + seconds(30);
    otherDue = change - milliseconds(40);
    otherResident = true;
    otherReports();
    timers_.at(change - milliseconds(35), [&] {
      otherResident = false;
      otherReports();
    });
    advance(seconds(30));
  }
  EXPECT_GT(stats().prefetchHits, 6u) << "most changes found it back";
  EXPECT_EQ(stats().prefetchesSkipped, 0u) << "each found room in the end";
  EXPECT_EQ(script_.reconciled.size(), 12u);
  op_.reset();  // before the budget it reports to
}

// Another operator, due later and never leaving, makes room for each prefetch and then asks the
// budget for it back, which sends the prefetched operator out unused. One prefetch per change:
// the change itself then restores it, instead of a restore and a swap-out over and over.
TEST_F(OperatorTest, APrefetchSentOutUnusedIsNotRepeatedForTheSameChange) {
  enableSwapping();
  settings_.swapPredict = true;
  settings_.swapIdleAfter = milliseconds(2000);
  MemoryBudget budget(1 << 20);
  int other = 0;
  bool dueNow = false;
  bool inReport = false;
  auto otherReports = [&] {
    if (inReport) return;  // asked during its own report: busy, it stays
    inReport = true;
    const auto due = dueNow ? clock_.now() : clock_.now() + std::chrono::hours(1);
    budget.report(&other, 1 << 20, {.lastActive = clock_.now(), .expectedWake = due}, clock_.now());
    inReport = false;
  };
  // Due an hour later, it makes room; asked to go, it has work due now and stays, which sends
  // the prefetched operator out.
  budget.enroll(&other, [&] {
    dueNow = true;
    otherReports();
  });
  otherReports();
  startWithBudget(budget);
  for (int i = 0; i < 12; ++i) {
    change(i);
    // Changes 29.5 or 30.5 s apart (a prefetch window of a few seconds), and slices run
    // often, as a busy host's workers would reach it: each could prefetch again.
    for (int step = 0; step < (i % 2 == 0 ? 295 : 305); ++step) advance(milliseconds(100));
  }
  EXPECT_GT(stats().prefetches, 0u);
  EXPECT_LE(stats().prefetches, 12u) << "at most one per change";
  EXPECT_EQ(stats().prefetchesWasted, stats().prefetches);
  EXPECT_EQ(script_.reconciled.size(), 12u);
  op_.reset();  // before the budget it reports to
}

// The loads (OperatorHost::addAll) wait for a budget that is over and catching up; one that
// has not heard of the new operators until a worker reaches them lets the loads run ahead.
TEST_F(OperatorTest, ANewOperatorCountsInTheMemoryBudgetBeforeItsFirstSlice) {
  enableSwapping();
  MemoryBudget budget(64 << 20);
  startWithBudget(budget);
  EXPECT_GT(budget.residentBytes(), 0u) << "counted at start, no slice has run";
  runSlices();  // idle 0: the first slice swaps it out
  EXPECT_TRUE(stats().swappedOut);
  op_.reset();  // before the budget it reports to
}

TEST_F(OperatorTest, AFullDiskKeepsTheOperatorResidentAndItTriesAgainLater) {
  enableSwapping();
  script_.failSave = true;
  start();
  informers_.syncAll();
  primary().onAdd(configMap("shop", "a"));
  runSlices();
  EXPECT_FALSE(stats().swappedOut);
  EXPECT_THAT(logs_, ::testing::Contains(HasSubstr("staying resident")));
  script_.failSave = false;
  advance(seconds(29));
  EXPECT_FALSE(stats().swappedOut);
  advance(seconds(1));
  EXPECT_TRUE(stats().swappedOut) << "retried 30 s after the failed swap-out";
}

TEST_F(OperatorTest, AnOperatorWhoseGuestsCannotBeCapturedStaysResident) {
  enableSwapping();
  transport_->respond(200, kCoreV1Resources);
  factory_ = std::make_shared<FakeGuestFactory>(script_, /*capturable=*/false);
  op_ = std::make_shared<Operator>(
      environment(), spec_, factory_,
      [this](int32_t, const std::string& l, const LogFields&) { logs_.push_back(l); });
  ASSERT_TRUE(op_->start().isOk());
  informers_.syncAll();
  primary().onAdd(configMap("shop", "a"));
  runSlices();
  EXPECT_FALSE(stats().swappable);
  EXPECT_FALSE(stats().swappedOut);
  EXPECT_THAT(logs_, ::testing::Contains(HasSubstr("never swapped out: not capturable")));
}

}  // namespace
}  // namespace wop::runtime
