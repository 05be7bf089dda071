;; deep_json: every reconcile sends an api_call whose body is JSON nested 1,000,000 deep
;; ("[[[[...]]]]", 2 MB: under WOP_MAX_REQUEST_BYTES) and requeues after 100 ms. A recursive
;; parser overflows the host's stack; the host must refuse the request (or parse it without
;; recursion) and keep running.
;; Hostile guest for the host's tests and the chaos suite (test/guests/hostile/README.md): raw ABI, no SDK.
(module
  (import "wop" "log" (func $log (param i32 i32 i32)))
  (import "wop" "config_get" (func $config_get (param i32 i32) (result i32)))
  (import "wop" "declare" (func $declare (param i32 i32) (result i32)))
  (import "wop" "cache_read" (func $cache_read (param i32 i32 i32 i32) (result i32)))
  (import "wop" "api_call" (func $api_call (param i32 i32) (result i32)))
  (import "wop" "reconcile_done" (func $reconcile_done (param i32 i32 i64 i32 i32) (result i32)))
  (import "wop" "emit_key" (func $emit_key (param i32 i32) (result i32)))
  (memory (export "memory") 80)
  (global $heap (mut i32) (i32.const 3145728))
  ;; Bump allocator that wraps around to 3145728 when memory is full: the guest never frees,
  ;; and a long run must not end in "allocation failed".
  (func (export "wop_alloc") (param $len i32) (result i32)
    (local $start i32) (local $size i64)
    (local.set $size (i64.mul (i64.extend_i32_u (memory.size)) (i64.const 65536)))
    (if (i64.gt_u (i64.extend_i32_u (local.get $len)) (i64.sub (local.get $size) (i64.const 3145728)))
      (then (return (i32.const 0))))
    (local.set $start (global.get $heap))
    (if (i64.gt_u (i64.add (i64.extend_i32_u (local.get $start)) (i64.extend_i32_u (local.get $len))) (local.get $size))
      (then (local.set $start (i32.const 3145728))))
    (global.set $heap (i32.add (local.get $start) (local.get $len)))
    (local.get $start))
  (func (export "wop_on_complete") (param i32 i32 i32 i32) (result i32) (i32.const 0))
  (data (i32.const 1024) "{\"name\":\"hostile\",\"for\":{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"namespace\":\"\",\"labelSelector\":\"hostile.wasm-operator.dev/target\",\"predicates\":[]},\"owns\":[],\"watches\":[],\"maxConcurrentReconciles\":1,\"resyncSeconds\":0}")
  (func (export "wop_abi_version_1"))
  (func (export "wop_init") (result i32)
    (drop (call $declare (i32.const 1024) (i32.const 214)))
    (i32.const 0))
  (data (i32.const 4096) "{\"verb\":\"create\",\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"namespace\":\"default\",\"name\":\"deep\",\"body\":")
  (func (export "wop_reconcile") (param $id i32) (param $controller i32) (param $key i32) (param $key_len i32) (result i32)
    (local $p i32)
    ;; header at 1 MiB, then 1e6 '[' and 1e6 ']' and the closing '}'
    (memory.copy (i32.const 1048576) (i32.const 4096) (i32.const 97))
    (local.set $p (i32.add (i32.const 1048576) (i32.const 97)))
    (memory.fill (local.get $p) (i32.const 91) (i32.const 1000000))
    (memory.fill (i32.add (local.get $p) (i32.const 1000000)) (i32.const 93) (i32.const 1000000))
    (i32.store8 (i32.add (local.get $p) (i32.const 2000000)) (i32.const 125))
    (drop (call $api_call (i32.const 1048576) (i32.const 2000098)))
    (drop (call $reconcile_done (local.get $id) (i32.const 1) (i64.const 100) (i32.const 0) (i32.const 0)))
    (i32.const 0))
)
