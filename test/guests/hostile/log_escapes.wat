;; log_escapes: every reconcile writes 1000 log lines of 1 KiB made of control characters
;; (ESC sequences that clear a terminal, CR, NUL, BEL, backspace) and invalid UTF-8, plus one
;; of 20 KiB (over WOP_MAX_LOG_BYTES), at every level and at level 99, then requeues after
;; 200 ms. The host must neither crash nor pass the escapes through to its own log raw.
;; Hostile guest for the host's tests and the chaos suite (test/guests/hostile/README.md): raw ABI, no SDK.
(module
  (import "wop" "log" (func $log (param i32 i32 i32)))
  (import "wop" "config_get" (func $config_get (param i32 i32) (result i32)))
  (import "wop" "declare" (func $declare (param i32 i32) (result i32)))
  (import "wop" "cache_read" (func $cache_read (param i32 i32 i32 i32) (result i32)))
  (import "wop" "api_call" (func $api_call (param i32 i32) (result i32)))
  (import "wop" "reconcile_done" (func $reconcile_done (param i32 i32 i64 i32 i32) (result i32)))
  (import "wop" "emit_key" (func $emit_key (param i32 i32) (result i32)))
  (memory (export "memory") 2)
  (global $heap (mut i32) (i32.const 65536))
  ;; Bump allocator that wraps around to 65536 when memory is full: the guest never frees,
  ;; and a long run must not end in "allocation failed".
  (func (export "wop_alloc") (param $len i32) (result i32)
    (local $start i32) (local $size i64)
    (local.set $size (i64.mul (i64.extend_i32_u (memory.size)) (i64.const 65536)))
    (if (i64.gt_u (i64.extend_i32_u (local.get $len)) (i64.sub (local.get $size) (i64.const 65536)))
      (then (return (i32.const 0))))
    (local.set $start (global.get $heap))
    (if (i64.gt_u (i64.add (i64.extend_i32_u (local.get $start)) (i64.extend_i32_u (local.get $len))) (local.get $size))
      (then (local.set $start (i32.const 65536))))
    (global.set $heap (i32.add (local.get $start) (local.get $len)))
    (local.get $start))
  (func (export "wop_on_complete") (param i32 i32 i32 i32) (result i32) (i32.const 0))
  (data (i32.const 1024) "{\"name\":\"hostile\",\"for\":{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"namespace\":\"\",\"labelSelector\":\"hostile.wasm-operator.dev/target\",\"predicates\":[]},\"owns\":[],\"watches\":[],\"maxConcurrentReconciles\":1,\"resyncSeconds\":0}")
  (func (export "wop_abi_version_1"))
  (func (export "wop_init") (result i32)
    (drop (call $declare (i32.const 1024) (i32.const 214)))
    (i32.const 0))
  (data (i32.const 8192) "\1b[2J\1b[H\0d\00\07\08\ff\fe\c3\28\1b]0;owned\07")
  (func (export "wop_reconcile") (param $id i32) (param $controller i32) (param $key i32) (param $key_len i32) (result i32)
    (local $i i32)
    ;; 24 KiB of the pattern repeated, from 8192
    (local.set $i (i32.const 0))
    (loop $fill
      (memory.copy (i32.add (i32.const 8216) (i32.mul (local.get $i) (i32.const 24))) (i32.const 8192) (i32.const 24))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $fill (i32.lt_u (local.get $i) (i32.const 1024))))
    (local.set $i (i32.const 0))
    (loop $lines
      (call $log (i32.and (local.get $i) (i32.const 3)) (i32.const 8192) (i32.const 1024))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $lines (i32.lt_u (local.get $i) (i32.const 1000))))
    (call $log (i32.const 99) (i32.const 8192) (i32.const 100))
    (call $log (i32.const -1) (i32.const 8192) (i32.const 20480))
    (drop (call $reconcile_done (local.get $id) (i32.const 1) (i64.const 200) (i32.const 8192) (i32.const 4096)))
    (i32.const 0))
)
