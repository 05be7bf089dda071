#include "snapshot/mapped_memory_guard.h"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>

namespace wop::snapshot {
namespace {

using common::Status;
using common::StatusCode;

struct Slot {
  std::atomic<bool> claimed{false};
  std::atomic<uintptr_t> begin{0};
  std::atomic<uintptr_t> end{0};  // 0: not watching
  std::atomic<bool> faulted{false};
};

// Constant-initialised (atomics of plain values): no constructor runs, and the handler can read
// them at any time. Slots past highWater were never claimed, so the handler does not scan them.
Slot slots[kMaxGuardedMemories];
std::atomic<size_t> highWater{0};
struct sigaction previousHandler{};
uintptr_t pageMask = 0;
std::once_flag installed;
int installError = 0;

void passOn(int signal, siginfo_t* info, void* context) {
  // As Wasmtime does: call the previous handler, or restore the default and return, so the
  // faulting access runs again and ends the process as it would have without us.
  if (previousHandler.sa_flags & SA_SIGINFO) {
    previousHandler.sa_sigaction(signal, info, context);
  } else if (previousHandler.sa_handler == SIG_DFL || previousHandler.sa_handler == SIG_IGN) {
    ::sigaction(signal, &previousHandler, nullptr);
  } else {
    previousHandler.sa_handler(signal);
  }
}

void onSigbus(int signal, siginfo_t* info, void* context) {
  const auto address = reinterpret_cast<uintptr_t>(info->si_addr);
  if (info->si_code > 0) {  // raised by the kernel for an access, not sent by kill()
    const size_t used = highWater.load(std::memory_order_acquire);
    for (size_t i = 0; i < used; ++i) {
      Slot& slot = slots[i];
      const uintptr_t end = slot.end.load(std::memory_order_acquire);
      if (end == 0 || address < slot.begin.load(std::memory_order_relaxed) || address >= end)
        continue;
      void* page = reinterpret_cast<void*>(address & pageMask);
      const int saved = errno;
      void* zero = ::mmap(page, ~pageMask + 1, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
      errno = saved;
      if (zero == MAP_FAILED) break;
      slot.faulted.store(true, std::memory_order_release);
      return;  // the access runs again, on the zero page
    }
  }
  passOn(signal, info, context);
}

void install() {
  pageMask = ~(static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE)) - 1);
  struct sigaction action{};
  action.sa_sigaction = onSigbus;
  // SA_ONSTACK: a guest may fault on Wasmtime's alternate signal stack's thread; SA_NODEFER:
  // a fault while passing on to the previous handler must reach it too.
  action.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigemptyset(&action.sa_mask);
  if (::sigaction(SIGBUS, &action, &previousHandler) != 0) installError = errno;
}

}  // namespace

common::Result<std::unique_ptr<MappedMemoryGuard>> MappedMemoryGuard::watch(uint8_t* begin,
                                                                            uint64_t bytes) {
  std::call_once(installed, install);
  if (installError != 0) {
    return Status(StatusCode::kInternal,
                  std::string("cannot install the SIGBUS handler: ") + std::strerror(installError));
  }
  for (size_t i = 0; i < kMaxGuardedMemories; ++i) {
    bool expected = false;
    if (!slots[i].claimed.compare_exchange_strong(expected, true)) continue;
    Slot& slot = slots[i];
    slot.faulted.store(false);
    slot.begin.store(reinterpret_cast<uintptr_t>(begin));
    slot.end.store(reinterpret_cast<uintptr_t>(begin) + bytes, std::memory_order_release);
    size_t seen = highWater.load();
    while (seen < i + 1 && !highWater.compare_exchange_weak(seen, i + 1)) {
    }
    return std::unique_ptr<MappedMemoryGuard>(new MappedMemoryGuard(i));
  }
  return Status(StatusCode::kResourceExhausted,
                "more than " + std::to_string(kMaxGuardedMemories) + " restored guests at once");
}

MappedMemoryGuard::~MappedMemoryGuard() {
  Slot& slot = slots[slot_];
  slot.end.store(0, std::memory_order_release);
  slot.begin.store(0);
  slot.claimed.store(false, std::memory_order_release);
}

bool MappedMemoryGuard::faulted() const {
  return slots[slot_].faulted.load(std::memory_order_acquire);
}

const std::atomic<bool>* MappedMemoryGuard::faultFlag() const { return &slots[slot_].faulted; }

}  // namespace wop::snapshot
