// Every length that comes from a guest or from the network is capped by a constant here,
// so a hostile input cannot make the host allocate or copy without bound.
#pragma once

#include <cstddef>
#include <cstdint>

namespace wop::limits {

// Largest .wasm file the host will read and compile.
inline constexpr size_t kMaxModuleBytes = 64u << 20;
// What compiling one module may cost, checked on its bytes before Wasmtime sees them:
// compilation takes a few KiB of host memory per function whatever its size (200,000 empty
// functions took 1.1 GiB), and more per byte of code. The SDK's operators have a few thousand
// functions and well under 1 MiB of code.
inline constexpr uint32_t kMaxModuleFunctions = 50'000;
inline constexpr uint64_t kMaxModuleCodeBytes = 16u << 20;
// Store resources of one guest instance (Wasmtime's store limiter), besides its memory cap.
// Tables are not counted in the memory cap: each element of any one table is capped here, so
// one table.grow cannot allocate gigabytes (clang's guests have one table of the functions
// whose address they take: a few thousand entries). A refused table.grow returns -1.
inline constexpr uint32_t kMaxGuestTableElements = 100'000;
inline constexpr uint32_t kMaxGuestTables = 4;
inline constexpr uint32_t kMaxGuestMemories = 1;
inline constexpr uint32_t kMaxGuestInstances = 1;
// Most mutable globals a snapshot saves (the snapshot layer format's own cap); a module with
// more stays resident.
inline constexpr uint32_t kMaxSnapshotGlobals = 1024;
// Largest input the host copies into a guest in one call, and largest output it reads back.
inline constexpr uint32_t kMaxGuestCallBytes = 16u << 20;
// Largest single write a guest may send to its stdout/stderr (WASI fd_write), per call.
inline constexpr uint32_t kMaxGuestLogWriteBytes = 64u << 10;
// Largest number of iovecs in one WASI fd_write.
inline constexpr uint32_t kMaxGuestIovecs = 64;
// Bytes of guest stdout/stderr kept per instance; the rest is counted and dropped.
inline constexpr size_t kMaxGuestLogBufferBytes = 256u << 10;

// Kubernetes API traffic.
// Largest kubeconfig file (or in-cluster token/CA file) we read.
inline constexpr size_t kMaxKubeconfigBytes = 4u << 20;
// Largest stdout an exec credential plugin may print.
inline constexpr size_t kMaxExecCredentialBytes = 1u << 20;
// Stderr of an exec credential plugin kept for the error message; the rest is dropped.
inline constexpr size_t kMaxExecStderrBytes = 64u << 10;
// Largest single event on a watch stream; etcd caps objects near 1.5 MiB, with headroom for
// the event envelope and JSON escaping.
inline constexpr size_t kMaxWatchEventBytes = 16u << 20;
// Largest body of a non-streaming response (a LIST page); pages are requested with a limit.
inline constexpr size_t kMaxResponseBytes = 256u << 20;
// Largest request body we send (an object or a patch).
inline constexpr size_t kMaxRequestBytes = 16u << 20;
// Largest error response body parsed as a metav1.Status; a longer one is only quoted.
inline constexpr size_t kMaxApiErrorBodyBytes = 1u << 20;

// Runtime.
// Largest work-queue key ("namespace/name"); the ABI's WOP_MAX_KEY_BYTES is the same number.
inline constexpr size_t kMaxKeyBytes = 512;

}  // namespace wop::limits
