// The snapshot of one operator's guest: a chain of layer files (layer_format.h) in a folder of
// its own. Saving writes a full layer, or, when the memory is still the mapping a restore made
// from this chain, a delta of only the pages written since; restoring maps the chain
// copy-on-write over a fresh instance's memory, so its cost does not grow with memory size.
//
// Files are written to a temporary name and renamed, so a layer is either whole or absent, and
// a failed save (a full disk) leaves the previous chain untouched. A layer file is never changed
// while anything may map it: a mapping of an older layer keeps seeing the bytes it mapped.
//
// Layers a full save leaves behind are kept as spares (renamed <sequence>.spare) and rewritten
// as later layers instead of deleting and creating files: on ext4, creating a file scans for
// inodes freed in the last seconds, which at one file per swap-out took a quarter of a busy
// host's CPU. A spare is rewritten only once no RestorePlan that opened it, and no lease() of
// one, is alive: whoever maps a plan holds its lease as long as the mapping.
//
// What stays in memory per swapped-out operator is this object: the chain's sequence numbers
// and header checksums.
//
// Thread-safety: one thread at a time, except verifyData, which only reads files.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "snapshot/layer_format.h"

namespace wop::snapshot {

struct SaveResult {
  bool full = false;          // a full layer (else a delta)
  uint64_t bytesWritten = 0;  // data bytes written (zero pages are holes)
  size_t layers = 0;          // layers in the chain now
  // Not empty: the host's folder (or the swap folder) had been removed and this save made it
  // again, starting with this path (worth saying once in the log).
  std::string recreatedFolder;
};

// Which layers verifyData checks: a layer with at most kVerifyBeforeRunBytes of data is checked
// on the restore path, before the guest runs on it; a bigger one just after, in the background
// (reading it all would make the restore O(size) again).
enum class VerifyScope { kAll, kBeforeRun, kAfterRun };
constexpr uint64_t kVerifyBeforeRunBytes = 4u << 20;

// What a layer's file looked like (stat): a write to it, a truncation or its replacement by
// another file changes the change time, the size or the inode.
struct FileState {
  uint64_t device = 0;
  uint64_t inode = 0;
  uint64_t size = 0;
  int64_t modifiedNs = 0;
  int64_t changedNs = 0;
  bool operator==(const FileState&) const = default;
};

// The state in which a layer's data was last found good, shared by the chain's link and the
// plans that open it: a restore checks the data of a layer only once while its file is
// unchanged, not on every restore (a layer is restored up to kMaxLayers times, and reading it
// was 5% of the host's CPU in the ring at N = 1000). Written by verifyData on any thread.
class DataCheck {
 public:
  bool goodAs(const FileState& state) const;
  void markGood(const FileState& state);

 private:
  mutable std::mutex mutex_;
  std::optional<FileState> good_;
};

// A checked chain, ready to map: its files stay open until the plan is dropped.
class RestorePlan {
 public:
  RestorePlan() = default;
  RestorePlan(RestorePlan&&) noexcept;
  RestorePlan& operator=(RestorePlan&&) noexcept;
  ~RestorePlan();

  uint64_t memoryBytes() const { return layers_.empty() ? 0 : layers_.back().header.memoryBytes; }
  const std::vector<GlobalValue>& globals() const { return layers_.back().header.globals; }
  // Keeps the plan's layer files from being rewritten as spares while it is held: hold it as
  // long as memory maps them.
  std::shared_ptr<const void> lease() const { return lease_; }
  // Layers whose data verifyData will not read again: found good before, file unchanged since.
  size_t layersKnownGood() const;

 private:
  friend class OperatorSnapshot;
  struct Layer {
    int fd = -1;
    std::string path;
    LayerHeader header;
    FileState state;            // at open()
    bool stateSettled = false;  // read when its change time was old enough to rely on
    std::shared_ptr<DataCheck> check;
    bool knownGood = false;  // check->goodAs(state) at open()
  };
  std::vector<Layer> layers_;  // base first
  std::shared_ptr<const void> lease_;
};

class OperatorSnapshot {
 public:
  // directory: this operator's own folder (created 0700 if missing). moduleIdentity: what a
  // snapshot must have been taken from to be restored.
  OperatorSnapshot(std::string directory, std::string moduleIdentity);

  // memory: page aligned, a multiple of kPageBytes. restoredFromChain: memory is the mapping
  // map() made from this chain (and the pages nobody wrote are still the chain's).
  common::Result<SaveResult> save(std::span<uint8_t> memory,
                                  const std::vector<GlobalValue>& globals, bool restoredFromChain);
  // Opens and checks every layer: present, the right format version, header checksums, module
  // identity, sizes (truncation), links between layers. Errors name the layer and the fault.
  common::Result<RestorePlan> open() const;
  // Maps the plan's layers over memory, which must be at least plan.memoryBytes() long. On an
  // error, memory is partly replaced: drop the instance.
  common::Status map(const RestorePlan& plan, uint8_t* memory) const;
  // Reads the data of the plan's layers in scope back and compares their block checksums:
  // O(data read). A layer whose data was found good before, in a file unchanged since, is not
  // read again. On any thread: the plan's files stay open, so later saves that remove them do
  // not matter. The error names the layer and the pages.
  static common::Status verifyData(const RestorePlan& plan, VerifyScope scope = VerifyScope::kAll);
  // Removes the files; the next save is full.
  void discard();

  bool empty() const { return chain_.empty(); }
  size_t layers() const { return chain_.size(); }
  const std::string& directory() const { return directory_; }

 private:
  struct Link {
    uint64_t sequence;
    uint64_t headerChecksum;
    // The last plan that opened this layer: while it lives, the file may be mapped.
    mutable std::weak_ptr<const void> lease;
    std::shared_ptr<DataCheck> check = std::make_shared<DataCheck>();
  };
  struct Spare {
    std::string path;
    std::weak_ptr<const void> lease;
  };
  std::string pathOf(uint64_t sequence) const;
  // Creates the folder if missing, and the host's folder and swap folder above it if they were
  // removed; returns the first folder it had to make again ("" if none).
  common::Result<std::string> ensureDirectory();
  common::Result<Link> writeLayer(LayerHeader header, std::span<const uint8_t> memory,
                                  uint64_t* bytesWritten, std::string* recreated);
  // A file at `temporary` to write a layer into: a spare nobody can map any more (its old
  // content still in it: *reusedSpare), else new.
  int openForWriting(const std::string& temporary, bool* reusedSpare);
  // Keeps the layers of a replaced chain as spares (at most kMaxSpares; the rest are removed).
  void retire(std::vector<Link> replaced);

  const std::string directory_;
  const std::string moduleIdentity_;
  std::vector<Link> chain_;    // base first
  std::vector<Spare> spares_;  // oldest first
  uint64_t nextSequence_ = 1;
};

// Restore maps each run of each layer with one mmap (about 5 us each), so a chain is kept short:
// at most kMaxLayers layers and kMaxDeltaRuns runs per delta (128 mappings, well under 1 ms)
// before the next save is a full one. Dirty pages closer than kMergeGapPages are saved as one
// run, clean pages between them included, which keeps scattered writes to few runs.
constexpr size_t kMaxLayers = 4;
constexpr size_t kMaxDeltaRuns = 32;
constexpr uint64_t kMergeGapPages = 16;
// A full save retires at most kMaxLayers files, and the next chain writes as many.
constexpr size_t kMaxSpares = kMaxLayers;

}  // namespace wop::snapshot

namespace wop::snapshot {

// Ok if path is a folder (not a symbolic link) owned by this process's user that no other user
// can write to; else the one-line reason.
common::Status checkPrivateFolder(const std::string& path);

// Creates the host's own snapshot folder `own` (base/host-<pid>; mode 0700: snapshots hold
// guest memory), empty, and removes the folders of hosts in base that are no longer running.
// base is created 0700 if missing, and refused (never chmod'ed) when checkPrivateFolder fails:
// whoever can write to it could replace or shrink the files mapped into guests' memory.
// Snapshots do not outlive the host process that wrote them: after a restart every operator
// starts from a fresh instance and reconciles everything again, as controllers do after a
// restart, so nothing stale is ever restored.
common::Status prepareSnapshotDirectory(const std::string& base, const std::string& own);

}  // namespace wop::snapshot
