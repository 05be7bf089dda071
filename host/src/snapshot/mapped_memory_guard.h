// Keeps a SIGBUS in memory that maps snapshot layers from killing the host.
//
// A restored guest's memory maps its layer files MAP_PRIVATE: the pages nobody wrote stay
// backed by the files. Touching such a page raises SIGBUS when the file no longer covers it
// (truncated while mapped), when the page is a hole of a file on a full tmpfs (reading it
// allocates a page, and there is none), or on an I/O error. Wasmtime handles SIGBUS only on
// macOS and FreeBSD, and the host itself reads guest memory (host calls, saves), so on Linux
// that signal would end the process.
//
// While a guard watches a range, a SIGBUS at an address inside it maps a zero page over the
// faulting page (so the access completes, in guest or host code) and marks the guard faulted;
// the memory's bytes are then wrong, so its owner must drop the instance and start afresh
// (Operator does so after the entry or save that touched it, and host calls of a faulted guest
// refuse to act on what they read). A SIGBUS anywhere else goes to the handler installed
// before ours (or kills the process as before).
//
// Thread-safety: guards are made and dropped on any thread; the signal handler reads the
// watched ranges without locks (a fixed table of atomics, the only global state: a handler
// cannot take locks or allocate).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "common/status.h"

namespace wop::snapshot {

// Ranges watched at once (one per restored, resident guest). Past it a restore fails (the
// operator then starts from a fresh instance).
constexpr size_t kMaxGuardedMemories = 16384;

class MappedMemoryGuard {
 public:
  // Watches [begin, begin + bytes); installs the SIGBUS handler on first use. Drop the guard
  // before the range is unmapped.
  static common::Result<std::unique_ptr<MappedMemoryGuard>> watch(uint8_t* begin, uint64_t bytes);
  ~MappedMemoryGuard();
  MappedMemoryGuard(const MappedMemoryGuard&) = delete;
  MappedMemoryGuard& operator=(const MappedMemoryGuard&) = delete;

  // True once a SIGBUS hit the range: some of its pages read as zero instead of the snapshot.
  bool faulted() const;
  // The same, for whoever must check it without the guard (host calls); valid while it lives.
  const std::atomic<bool>* faultFlag() const;

 private:
  explicit MappedMemoryGuard(size_t slot) : slot_(slot) {}
  size_t slot_;
};

}  // namespace wop::snapshot
