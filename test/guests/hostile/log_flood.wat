;; log_flood: every reconcile logs 10000 lines made to forge another operator's line on a
;; terminal (CR, "erase line" escape, a fake header, VT, FF, bytes that are not UTF-8, a
;; newline), then asks to be requeued at once. The host must escape them and keep the flood
;; within the operator's log budget, counting what it drops.
;; Hostile guest for the host's tests (test/guests/hostile/README.md): raw ABI, no SDK.
(module
  (import "wop" "log" (func $log (param i32 i32 i32)))
  (import "wop" "declare" (func $declare (param i32 i32) (result i32)))
  (import "wop" "api_call" (func $api_call (param i32 i32) (result i32)))
  (import "wop" "reconcile_done" (func $reconcile_done (param i32 i32 i64 i32 i32) (result i32)))
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
  (data (i32.const 2048) "\0d\1b[2K2026-11-29T20:00:00.000Z level=info operator=ring-0 msg=forged\0b\0c\ff\fe\0a")
  (func (export "wop_on_complete") (param i32 i32 i32 i32) (result i32) (i32.const 0))
  (func (export "wop_reconcile") (param $id i32) (param $controller i32) (param $key i32) (param $key_len i32) (result i32)
    (local $i i32)
    (loop $more
      (call $log (i32.const 1) (i32.const 2048) (i32.const 72))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $more (i32.lt_u (local.get $i) (i32.const 10000))))
    (drop (call $reconcile_done (local.get $id) (i32.const 1) (i64.const 0) (i32.const 0) (i32.const 0)))
    (i32.const 0))
)
