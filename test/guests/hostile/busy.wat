;; busy: every reconcile busy-waits 0.9 s (under the 1 s entry limit) and asks to be requeued
;; at once, so it always wants a worker. The host must keep it from slowing other operators.
;; Hostile guest for the host's tests (test/guests/hostile/README.md): raw ABI, no SDK.
(module
  (import "wop" "log" (func $log (param i32 i32 i32)))
  (import "wop" "declare" (func $declare (param i32 i32) (result i32)))
  (import "wop" "api_call" (func $api_call (param i32 i32) (result i32)))
  (import "wop" "reconcile_done" (func $reconcile_done (param i32 i32 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get"
    (func $clock_time_get (param i32 i64 i32) (result i32)))
  (memory (export "memory") 2)
  (global $heap (mut i32) (i32.const 65536))
  ;; Bump allocator: never frees; 0 when the current memory is full (it does not grow).
  (func (export "wop_alloc") (param $len i32) (result i32)
    (local $start i32)
    (local.set $start (global.get $heap))
    (if (i64.gt_u (i64.add (i64.extend_i32_u (local.get $start)) (i64.extend_i32_u (local.get $len)))
                  (i64.mul (i64.extend_i32_u (memory.size)) (i64.const 65536)))
      (then (return (i32.const 0))))
    (global.set $heap (i32.add (local.get $start) (local.get $len)))
    (local.get $start))
  (data (i32.const 1024) "{\"name\":\"hostile\",\"for\":{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"namespace\":\"\",\"labelSelector\":\"hostile.wasm-operator.dev/target\",\"predicates\":[]},\"owns\":[],\"watches\":[],\"maxConcurrentReconciles\":1,\"resyncSeconds\":0}")
  (func (export "wop_abi_version_1"))
  (func (export "wop_init") (result i32)
    (drop (call $declare (i32.const 1024) (i32.const 214)))
    (i32.const 0))
  (func (export "wop_on_complete") (param i32 i32 i32 i32) (result i32) (i32.const 0))
  ;; Monotonic nanoseconds, through the scratch word at 4096.
  (func $now (result i64)
    (drop (call $clock_time_get (i32.const 1) (i64.const 0) (i32.const 4096)))
    (i64.load (i32.const 4096)))
  (func (export "wop_reconcile") (param $id i32) (param $controller i32) (param $key i32) (param $key_len i32) (result i32)
    (local $start i64)
    (local.set $start (call $now))
    (loop $spin
      (br_if $spin (i64.lt_u (i64.sub (call $now) (local.get $start)) (i64.const 900000000))))
    ;; WOP_RECONCILE_REQUEUE_AFTER with 0 ms: again at once.
    (drop (call $reconcile_done (local.get $id) (i32.const 1) (i64.const 0) (i32.const 0) (i32.const 0)))
    (i32.const 0))
)
